/*
 * healhook: Gitea review findings fixed by Aider, landed behind guardrails.
 * main() dispatches to one file per subcommand (cmd/NAME.c).
 */
#include "cmd/cmd.h"
#include "internal/compat.h"
#include "internal/log.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* The one list of commands: main() dispatches through it and `healhook --help` prints it, in
 * this order. Each command prints its own options for `healhook COMMAND --help`. */
static const struct command {
	const char *name;
	const char *summary;
	int (*fn)(int, char **);
} commands[] = {
	{"serve", "receive Gitea webhooks and heal the findings they carry", cmd_serve},
	{"replay", "run saved deliveries through the same code as serve", cmd_replay},
	{"action", "run as a Gitea Actions step: heal the findings of the run's event", cmd_action},
	{"heal", "fix one finding now, through the same pipeline as the worker", cmd_heal},
	{"history", "list recent jobs and their outcomes", cmd_history},
	{"status", "show every repository: frozen, budget used, last outcome, queue", cmd_status},
	{"doctor", "check every configured repository end to end", cmd_doctor},
	{"unfreeze", "let a frozen repository heal again", cmd_unfreeze},
	{"migrate", "create or upgrade the store's schema (SQLite or PostgreSQL)", cmd_migrate},
	{"sign", "print the signature headers Gitea would send for a body", cmd_sign},
	{"version", "print the version and the library versions", cmd_version},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	size_t i;

	fputs("usage: healhook COMMAND [OPTIONS]\n\ncommands:\n", f);
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
	fputs("\nRun 'healhook COMMAND --help' for the options of a command.\n"
	      "Exit codes: 0 done, 1 the heal or check failed, 2 usage or configuration error.\n",
	      f);
}

void cmd_die_msg(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "healhook %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

hh_config *cmd_load_config(const char *path)
{
	hh_config *cfg = NULL;

	if (hh_config_load(&cfg, path, environ) < 0) {
		fprintf(stderr, "healhook: %s\n", hh_error_last());
		return NULL;
	}
	hh_log_init((enum hh_log_level)cfg->log_level, (enum hh_log_format)cfg->log_format);
	if (hh_compat_resolve(cfg) < 0) { /* the predecessor's .env: the name from the host */
		fprintf(stderr, "healhook: %s\n", hh_error_last());
		hh_config_free(cfg);
		return NULL;
	}
	return cfg;
}

int cmd_open_store(hh_store **st, const hh_config *cfg, const char *cmd)
{
	*st = NULL;
	if (!cfg->state_dir) {
		cmd_die_msg(cmd, "state.dir is not set (config file or HEALHOOK_STATE_DIR)");
		return HH_EXIT_USAGE;
	}
	if (hh_store_open(st, cfg->state_dir) < 0) {
		cmd_die_msg(cmd, "%s", hh_error_last());
		return HH_EXIT_FAIL;
	}
	return HH_EXIT_OK;
}

int main(int argc, char **argv)
{
	size_t i;

	signal(SIGPIPE, SIG_IGN);
	if (argc < 2) {
		usage(stderr);
		return HH_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return HH_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0)
		return cmd_version(1, argv + 1);
	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "healhook: unknown command '%s'\n\n", argv[1]);
	usage(stderr);
	return HH_EXIT_USAGE;
}
