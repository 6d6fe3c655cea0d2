/*
 * statelock: see statelock.h.
 */
#include "internal/statelock.h"
#include "internal/buf.h"
#include "internal/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* The PID written in the lock file, or 0 when it cannot be read. */
static long holder_pid(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return strtol(buf, NULL, 10);
}

int hh_state_lock(const char *dir)
{
	char *path = NULL, pid[32];
	int fd = -1, n;
	long holder;

	if (!dir || !*dir)
		return hh_error("no state directory");
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return hh_error("cannot create state directory '%s': %s", dir, strerror(errno));
	if (!(path = hh_asprintf("%s/serve.lock", dir)))
		return hh_error("out of memory");
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		hh_error("cannot open lock file '%s': %s", path, strerror(errno));
		goto out;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int err = errno;

		holder = err == EWOULDBLOCK ? holder_pid(fd) : 0;
		if (err != EWOULDBLOCK)
			hh_error("cannot lock '%s': %s", path, strerror(err));
		else if (holder > 0)
			hh_error("state directory '%s' is in use by serve pid %ld (lock %s)", dir,
				 holder, path);
		else
			hh_error("state directory '%s' is in use by another serve (lock %s)", dir,
				 path);
		close(fd);
		fd = -1;
		goto out;
	}
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)n, 0) != n)
		hh_log(HH_LOG_WARN, "state.lock", "path", path, "error", strerror(errno), NULL);
out:
	free(path);
	return fd;
}

void hh_state_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}
