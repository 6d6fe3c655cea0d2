/*
 * store_health: is the store still the file it opened, and can it write? See store.h.
 *
 * SQLite keeps writing to an open database file after it was unlinked or renamed over, and
 * commits there succeed: deliveries acknowledged then are gone once serve restarts. The
 * identity (device, inode) of DIR/healhook.db is recorded when the handle opens it and
 * compared with stat() of the path: one system call, no I/O.
 */
#include "internal/buf.h"
#include "internal/log.h"
#include "internal/store_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void hh_st_identity_init(hh_store *st)
{
	struct stat sb;

	if (stat(st->path, &sb) == 0) {
		st->dev = (unsigned long long)sb.st_dev;
		st->ino = (unsigned long long)sb.st_ino;
	}
}

int hh_store_check(hh_store *st)
{
	struct stat sb;

	if (!st)
		return hh_error("store: not open");
	if (stat(st->path, &sb) < 0)
		return hh_error("store: '%s' was removed (%s): restart serve", st->path,
				strerror(errno));
	if ((unsigned long long)sb.st_dev != st->dev || (unsigned long long)sb.st_ino != st->ino)
		return hh_error("store: '%s' was replaced by another file: restart serve", st->path);
	return 0;
}

int hh_store_health(hh_store *st)
{
	static const char block[512];
	char *probe;
	const char *slash;
	int fd, ret = -1;
	ssize_t n;

	if (hh_store_check(st) < 0)
		return -1;
	slash = strrchr(st->path, '/');
	probe = hh_asprintf("%.*s/.healthz-%ld", slash ? (int)(slash - st->path) : 1,
			    slash ? st->path : ".", (long)getpid());
	if (!probe)
		return hh_error("out of memory");
	fd = open(probe, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		hh_error("store: cannot write in the state directory (%s): %s", probe,
			 errno == ENOSPC ? "disk full" : strerror(errno));
		goto out;
	}
	n = write(fd, block, sizeof(block));
	if (n >= 0 && n != (ssize_t)sizeof(block))
		hh_error("store: cannot write in the state directory (%s): disk full", probe);
	else if (n < 0 || fsync(fd) < 0)
		hh_error("store: cannot write in the state directory (%s): %s", probe,
			 errno == ENOSPC ? "disk full" : strerror(errno));
	else
		ret = 0;
	close(fd);
	unlink(probe);
out:
	free(probe);
	return ret;
}
