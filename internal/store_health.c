/*
 * store_health: is the store still the file it opened, and can it write? See store.h.
 *
 * SQLite keeps writing to an open database file after it was unlinked or renamed over, and
 * commits there succeed: deliveries acknowledged then are gone once serve restarts. The
 * identity (device, inode) of DIR/healhook.db is taken with fstat() on a descriptor opened
 * with the handle, and compared with stat() of the path; a 16-byte pread() of that descriptor
 * sees the file written over in place (SQLite's page cache and WAL would not notice until a
 * checkpoint wrote into garbage). Two system calls, no disk I/O.
 *
 * On PostgreSQL there is no file to watch: the check always holds (a lost or restarted server
 * fails the statements, which intake answers with 503), and the health is one trivial query.
 */
#include "internal/buf.h"
#include "internal/log.h"
#include "internal/store_priv.h"
#include "internal/store_pg.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

/* Free space below this is "disk full" for /healthz: a delivery's transaction needs pages. */
#define MIN_FREE (64 * 1024ULL)

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

/*
 * The file was removed or replaced (renamed over, as a restore from a backup does): its -wal
 * and -shm keep their names and belong to the file that is gone (SQLite does not checkpoint a moved
 * database on close). Left there, the next open would replay those frames onto the new file
 * and damage it, so they are renamed to <db>-wal.replaced / -shm.replaced (kept, not
 * deleted): the open connections keep their descriptors, a later open starts a fresh WAL.
 */
static void set_aside_wal(const hh_store *st)
{
	static const char *const sfx[] = {"-wal", "-shm"};
	char from[4096], to[4096];
	size_t i;

	for (i = 0; i < 2; i++) {
		snprintf(from, sizeof(from), "%s%s", st->path, sfx[i]);
		snprintf(to, sizeof(to), "%s%s.replaced", st->path, sfx[i]);
		if (rename(from, to) == 0)
			hh_log(HH_LOG_WARN, "store.replaced", "path", from, "moved-to", to, NULL);
	}
}

int hh_store_check(hh_store *st)
{
	static const char magic[16] = "SQLite format 3";
	struct stat sb;
	char head[16];

	if (!st)
		return hh_error("store: not open");
	if (st->pg)
		return 0; /* no file: a lost server fails the statements themselves */
	if (!st->id_open)
		return hh_error("store: '%s' cannot be checked: it was not open", st->path);
	if (stat(st->path, &sb) < 0) {
		int e = errno;

		if (e == ENOENT)
			set_aside_wal(st);
		return hh_fail(HH_EBUSY, "store: '%s' was removed (%s): restart serve", st->path,
			       strerror(e));
	}
	if ((unsigned long long)sb.st_dev != st->dev || (unsigned long long)sb.st_ino != st->ino) {
		set_aside_wal(st);
		return hh_fail(HH_EBUSY, "store: '%s' was replaced by another file: restart serve",
			       st->path);
	}
	/* Same file, other bytes: written over in place (a valid database copied over it keeps
	 * the header and is not seen here; docs/security.md). */
	if (pread(st->id_fd, head, sizeof(head), 0) != (ssize_t)sizeof(head) ||
	    memcmp(head, magic, sizeof(head)) != 0)
		return hh_fail(HH_EBUSY,
			       "store: '%s' was overwritten: it is no SQLite database now",
			       st->path);
	return 0;
}

int hh_store_health(hh_store *st)
{
	struct statvfs fs;
	char *dir;
	const char *slash;
	int ret = -1;

	if (st && st->pg)
		return hh_pg_health(st->pg);
	if (hh_store_check(st) < 0)
		return -1;
	/* Without creating anything: the receiver may run as a user that owns the database
	 * files but cannot create files in the directory. */
	slash = strrchr(st->path, '/');
	dir = slash ? hh_strndup(st->path, (size_t)(slash - st->path)) : hh_strdup(".");
	if (!dir)
		return hh_error("out of memory");
	if (access(st->path, R_OK | W_OK) < 0)
		hh_fail(HH_EBUSY, "store: '%s' is not writable: %s", st->path, strerror(errno));
	else if (statvfs(*dir ? dir : "/", &fs) < 0)
		hh_error("store: cannot read the file system of '%s': %s", dir, strerror(errno));
	else if (fs.f_flag & ST_RDONLY)
		hh_fail(HH_EBUSY, "store: '%s' is on a read-only file system", st->path);
	else if ((unsigned long long)fs.f_bavail * fs.f_frsize < MIN_FREE)
		hh_fail(HH_EBUSY, "store: cannot write '%s': disk full", st->path);
	else
		ret = 0;
	free(dir);
	return ret;
}
