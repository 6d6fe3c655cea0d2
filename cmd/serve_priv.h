/*
 * serve_priv: dropping the receiver to server.receiver-user (see serve_priv.c).
 */
#ifndef HH_SERVE_PRIV_H
#define HH_SERVE_PRIV_H

#include <sys/types.h>

#include "internal/config.h"
#include "internal/store.h"

struct serve_priv {
	int on; /* 1: the receiver runs as uid/gid */
	uid_t uid;
	gid_t gid;
	hh_store *hold; /* held open by the main process while the receiver runs */
};

/* Main process: with cfg->receiver_user and euid 0, looks the user up and gives it the store
 * (SQLite: the database files; PostgreSQL: nothing, the password goes by pipe) and record,
 * the record directory (may be NULL). Without either, sp->on = 0 (a warning
 * when the user is set but serve is not root). Returns 0, or -1 with the error set. */
int serve_priv_prepare(const hh_config *cfg, const char *record, struct serve_priv *sp);
void serve_priv_release(struct serve_priv *sp);

/* Receiver: setgroups/setgid/setuid to uid/gid, checks root cannot be regained, sets
 * PR_SET_NO_NEW_PRIVS. Returns 0 or -1 with the error set. */
int serve_priv_drop(uid_t uid, gid_t gid);
/* Closes every descriptor above keep_to. Async-signal-safe (used between fork and exec). */
void serve_priv_close_fds(int keep_to);
/* Reads the secret (up to 64 KiB, until EOF) from fd and closes it; *out NULL when empty. */
int serve_priv_read_secret(int fd, char **out);
/* The same, when the secret may be followed by a NUL byte and the database password:
 * *dbpass gets that password (NULL when none). Both are the caller's, to be freed. */
int serve_priv_read_secrets(int fd, char **secret, char **dbpass);

#endif
