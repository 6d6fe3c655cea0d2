/*
 * store_health: is the store still the file it opened, and can it write? See store.h.
 *
 * SQLite keeps writing to an open database file after it was unlinked or renamed over, and
 * commits there succeed: deliveries acknowledged then are gone once serve restarts. The
 * identity (device, inode) of DIR/healhook.db is taken with fstat() on a descriptor opened
 * with the handle, and compared with stat() of the path; a 16-byte pread() of that descriptor
 * sees the file written over in place (SQLite's page cache and WAL would not notice until a
 * checkpoint wrote into garbage). Two system calls, no disk I/O.
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

	st->id_fd = open(st->path, O_RDONLY | O_CLOEXEC);
	st->id_open = st->id_fd >= 0;
	if (st->id_open && fstat(st->id_fd, &sb) == 0) {
		st->dev = (unsigned long long)sb.st_dev;
		st->ino = (unsigned long long)sb.st_ino;
	}
}

void hh_st_identity_close(hh_store *st)
{
	if (st->id_open)
		close(st->id_fd);
	st->id_open = 0;
}

int hh_store_check(hh_store *st)
{
	static const char magic[16] = "SQLite format 3";
	struct stat sb;
	char head[16];

	if (!st)
		return hh_error("store: not open");
	if (!st->id_open)
		return hh_error("store: '%s' cannot be checked: it was not open", st->path);
	if (stat(st->path, &sb) < 0)
		return hh_error("store: '%s' was removed (%s): restart serve", st->path,
				strerror(errno));
	if ((unsigned long long)sb.st_dev != st->dev || (unsigned long long)sb.st_ino != st->ino)
		return hh_error("store: '%s' was replaced by another file: restart serve", st->path);
	/* Same file, other bytes: written over in place (a valid database copied over it keeps
	 * the header and is not seen here; docs/security.md). */
	if (pread(st->id_fd, head, sizeof(head), 0) != (ssize_t)sizeof(head) ||
	    memcmp(head, magic, sizeof(head)) != 0)
		return hh_error("store: '%s' was overwritten: it is no SQLite database now",
				st->path);
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
