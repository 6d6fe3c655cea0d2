/*
 * cmd: one file per subcommand. Only cmd/ exits; every command returns its exit code:
 * 0 done, 1 the heal or check failed, 2 usage or configuration error.
 */
#ifndef HH_CMD_H
#define HH_CMD_H

#include "internal/config.h"
#include "internal/store.h"

#define HH_EXIT_OK 0
#define HH_EXIT_FAIL 1
#define HH_EXIT_USAGE 2

#define HH_VERSION "0.1.0"

extern char **environ;

int cmd_serve(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_action(int argc, char **argv);
int cmd_sign(int argc, char **argv);
int cmd_heal(int argc, char **argv);
int cmd_history(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_doctor(int argc, char **argv);
int cmd_unfreeze(int argc, char **argv);
int cmd_migrate(int argc, char **argv);
int cmd_version(int argc, char **argv);

/* Loads the configuration for a command (path may be NULL) and applies the log settings.
 * Prints the error and returns NULL on failure. */
hh_config *cmd_load_config(const char *path);
/* Opens the store of state.dir for command cmd into *st. Returns HH_EXIT_OK, HH_EXIT_USAGE
 * (state.dir is not set) or HH_EXIT_FAIL (the store cannot be opened), the error printed. */
int cmd_open_store(hh_store **st, const hh_config *cfg, const char *cmd);
/* Prints "healhook CMD: message" to stderr. */
void cmd_die_msg(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
