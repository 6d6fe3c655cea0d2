/*
 * remote_ssh_priv: what the ssh transport's two files share: remote_ssh.c (session, commands,
 * streams) and remote_sftp.c (files). libssh2 types appear here, and only these two files
 * include it.
 *
 * The session is non-blocking; RETRY/RETRY_PTR repeat a libssh2 call while it says EAGAIN,
 * waiting on the socket with hh_ssh_wait, until the deadline (then the result stays EAGAIN).
 */
#ifndef HH_REMOTE_SSH_PRIV_H
#define HH_REMOTE_SSH_PRIV_H

#include <libssh2.h>
#include <libssh2_sftp.h>
#include <stdint.h>

#define SSH_IO_TIMEOUT_MS 60000

struct hh_ssh {
	int sock;
	LIBSSH2_SESSION *session;
	LIBSSH2_SFTP *sftp;
	char *user;
	char *label;   /* "user@host:port" for messages */
	int abandoned; /* a channel was left open: do not wait for it at close */
	int channels;  /* channels opened (exec and subsystem) */
};

#define RETRY(s, dl, rc, expr)                                                                     \
	do {                                                                                       \
		(rc) = (expr);                                                                     \
	} while ((rc) == LIBSSH2_ERROR_EAGAIN && hh_ssh_wait((s), (dl)) == 0)
#define RETRY_PTR(s, dl, p, expr)                                                                  \
	do {                                                                                       \
		(p) = (expr);                                                                      \
	} while (!(p) && libssh2_session_last_errno((s)->session) == LIBSSH2_ERROR_EAGAIN &&       \
		 hh_ssh_wait((s), (dl)) == 0)

/* Now + SSH_IO_TIMEOUT_MS. */
int64_t hh_ssh_io_deadline(void);
/* Waits for the socket in the directions libssh2 needs; -1 once the deadline has passed. */
int hh_ssh_wait(struct hh_ssh *s, int64_t deadline);
/* Starts SFTP on the session by deadline (remote_sftp.c); HH_ENOSFTP with an error naming the
 * sftp subsystem when the host has none (or it does not answer in time). */
int hh_ssh_sftp_start(struct hh_ssh *s, int64_t deadline);
/* libssh2's last error message (never NULL). */
const char *hh_ssh_errmsg(struct hh_ssh *s);

#endif
