/*
 * serve_priv: the receiver's own user (server.receiver-user) when serve starts as root.
 *
 * The main process (root) prepares: looks the user up (never root), makes the store reachable
 * to it and nothing else of the state directory (the directory becomes root:GROUP 0710, the
 * database, its -wal/-shm files and the writers' lock file -writer belong to the user, mode
 * 0600; SQLite, running as root,
 * gives files it creates later the database file's owner), creates the record directory for
 * it, and holds a store handle open so that -wal and -shm exist while the receiver runs.
 * The receiver, before it reads anything: setgroups (its primary group only), setgid, setuid,
 * checks that root cannot be regained, PR_SET_NO_NEW_PRIVS, and closes every descriptor but
 * 0-2, the readiness pipe and the secret pipe. It then cannot open a file of mode 0600 owned
 * by root: the token files, the ssh key, the webhook secret file and the database password
 * file (which is why the parent passes the secret, and on PostgreSQL the database password,
 * through a pipe: "SECRET", then a NUL byte and "PASSWORD" when there is one).
 */
#include "cmd/serve_priv.h"
#include "internal/buf.h"
#include "internal/log.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

static int give(const char *path, uid_t uid, gid_t gid, int mode, int must)
{
	if (chown(path, uid, gid) < 0 || chmod(path, (mode_t)mode) < 0) {
		if (!must && errno == ENOENT)
			return 0;
		return hh_error("cannot give '%s' to the receiver's user: %s", path,
				strerror(errno));
	}
	return 0;
}

static int sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = fd >= 0 ? fsync(fd) : -1;

	if (fd >= 0)
		close(fd);
	return rc < 0 ? hh_error("cannot sync '%s': %s", dir, strerror(errno)) : 0;
}

int serve_priv_prepare(const hh_config *cfg, const char *record, struct serve_priv *sp)
{
	/* the database, SQLite's WAL and shared memory, and the writers' lock (store.c) */
	static const char *const suffix[] = {"", "-wal", "-shm", "-writer"};
	struct passwd *pw;
	char path[4096];
	size_t i;

	memset(sp, 0, sizeof(*sp));
	if (!cfg->receiver_user)
		return 0;
	if (geteuid() != 0) {
		hh_log(HH_LOG_WARN, "serve.receiver-user", "user", cfg->receiver_user, "message",
		       "serve does not run as root: the receiver keeps serve's user", NULL);
		return 0;
	}
	errno = 0;
	if (!(pw = getpwnam(cfg->receiver_user)))
		return hh_error("server.receiver-user: no user '%s'%s%s", cfg->receiver_user,
				errno ? ": " : "", errno ? strerror(errno) : "");
	if (pw->pw_uid == 0 || pw->pw_gid == 0)
		return hh_error("server.receiver-user: '%s' has uid or gid 0; name an unprivileged "
				"user",
				cfg->receiver_user);
	sp->uid = pw->pw_uid;
	sp->gid = pw->pw_gid;
	/* On PostgreSQL the receiver needs no file of the state directory: the database password
	 * goes by the pipe with the secret. */
	if (!cfg->database && hh_store_open(&sp->hold, cfg->state_dir) < 0)
		return -1;
	if (give(cfg->state_dir, 0, sp->gid, 0710, !cfg->database) < 0)
		return -1;
	for (i = 0; !cfg->database && i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		snprintf(path, sizeof(path), "%s/healhook.db%s", cfg->state_dir, suffix[i]);
		if (give(path, sp->uid, sp->gid, 0600, i == 0) < 0)
			return -1;
	}
	/* The files' entries on disk: the receiver cannot open the directory to sync it, and its
	 * commits then rest on the -wal file's entry (store_group.c). */
	if (!cfg->database && sync_dir(cfg->state_dir) < 0)
		return -1;
	if (record) {
		if (mkdir(record, 0700) < 0 && errno != EEXIST)
			return hh_error("cannot create '%s': %s", record, strerror(errno));
		if (give(record, sp->uid, sp->gid, 0700, 1) < 0)
			return -1;
	}
	sp->on = 1;
	return 0;
}

void serve_priv_release(struct serve_priv *sp)
{
	hh_store_close(sp->hold);
	sp->hold = NULL;
}

void serve_priv_close_fds(int keep_to)
{
	int fd;

	if (close_range((unsigned)keep_to + 1, ~0U, 0) == 0)
		return;
	for (fd = keep_to + 1; fd < 65536; fd++) /* kernels before 5.9 */
		close(fd);
}

int serve_priv_drop(uid_t uid, gid_t gid)
{
	if (uid == 0 || gid == 0)
		return hh_error("refusing to run the receiver as root");
	if (setgroups(1, &gid) < 0 || setgid(gid) < 0 || setuid(uid) < 0)
		return hh_error("cannot drop to uid %u gid %u: %s", (unsigned)uid, (unsigned)gid,
				strerror(errno));
	if (setuid(0) == 0 || seteuid(0) == 0 || getuid() != uid || geteuid() != uid ||
	    getgid() != gid || getegid() != gid)
		return hh_error("the receiver could regain root after dropping to uid %u",
				(unsigned)uid);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return hh_error("cannot set no_new_privs: %s", strerror(errno));
	return 0;
}

int serve_priv_read_secret(int fd, char **out)
{
	return serve_priv_read_secrets(fd, out, NULL);
}

/* Copies the n bytes of v into a new string (*out NULL when n is 0). */
static int dup_part(const char *v, size_t n, char **out)
{
	*out = NULL;
	if (n && !(*out = hh_asprintf("%.*s", (int)n, v)))
		return hh_error("out of memory");
	return 0;
}

int serve_priv_read_secrets(int fd, char **secret, char **dbpass)
{
	char buf[65537];
	size_t n = 0, len;
	ssize_t r;
	int ret;

	*secret = NULL;
	if (dbpass)
		*dbpass = NULL;
	while (n < sizeof(buf) - 1 && (r = read(fd, buf + n, sizeof(buf) - 1 - n)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			close(fd);
			explicit_bzero(buf, n);
			return hh_error("cannot read the webhook secret from the main process: %s",
					strerror(errno));
		}
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	len = strlen(buf);
	ret = dup_part(buf, len, secret);
	if (ret == 0 && dbpass && len < n)
		ret = dup_part(buf + len + 1, n - len - 1, dbpass);
	explicit_bzero(buf, n);
	return ret;
}
