/*
 * remote_local_files: the local transport's files (host = /path or local:/path).
 *
 * Plain POSIX calls; symlinks are never followed at the last component (O_NOFOLLOW, lstat) and
 * rmtree works on directory fds (openat/unlinkat), so a symlink planted in the tree cannot
 * redirect it.
 */
#include "internal/log.h"
#include "internal/remote_priv.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- files ---- */

int hh_local_read_file(const char *path, size_t max, hh_buf *out)
{
	struct stat st;
	char chunk[65536];
	size_t got = 0;
	ssize_t n;
	int fd, rc = -1;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ELOOP)
			return hh_error("refusing to read '%s': it is a symlink", path);
		return hh_error("cannot read '%s': %s", path, strerror(errno));
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		hh_error("refusing to read '%s': not a regular file", path);
		goto out;
	}
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			hh_error("cannot read '%s': %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (got > max) {
			hh_error("file '%s' is larger than %zu bytes", path, max);
			goto out;
		}
		if (hh_buf_put(out, chunk, (size_t)n) < 0)
			goto out;
	}
	rc = 0;
out:
	close(fd);
	return rc;
}

/* mkdir -p of the parents of path. */
static int make_parents(const char *path)
{
	char *dup = hh_strdup(path), *p;
	int rc = -1;

	if (!dup)
		return -1;
	for (p = dup + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		if (mkdir(dup, 0755) < 0 && errno != EEXIST) {
			hh_error("cannot create directory '%s': %s", dup, strerror(errno));
			goto out;
		}
		*p = '/';
	}
	rc = 0;
out:
	free(dup);
	return rc;
}

int hh_local_write_file(const char *path, const void *data, size_t len, int mode)
{
	const char *p = data;
	int fd, rc = -1;
	ssize_t n;

	if (make_parents(path) < 0)
		return -1;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
		  (mode_t)mode & 07777);
	if (fd < 0) {
		if (errno == ELOOP)
			return hh_error("refusing to write '%s': it is a symlink", path);
		return hh_error("cannot write '%s': %s", path, strerror(errno));
	}
	if (fchmod(fd, (mode_t)mode & 07777) < 0) {
		hh_error("cannot set the mode of '%s': %s", path, strerror(errno));
		goto out;
	}
	while (len) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			hh_error("cannot write '%s': %s", path, strerror(errno));
			goto out;
		}
		p += n;
		len -= (size_t)n;
	}
	rc = 0;
out:
	if (close(fd) < 0 && rc == 0)
		rc = hh_error("cannot write '%s': %s", path, strerror(errno));
	return rc;
}

static enum hh_file_kind kind_of(mode_t m)
{
	if (S_ISREG(m))
		return HH_FILE_REGULAR;
	if (S_ISDIR(m))
		return HH_FILE_DIR;
	if (S_ISLNK(m))
		return HH_FILE_SYMLINK;
	return HH_FILE_OTHER;
}

int hh_local_stat(const char *path, enum hh_file_kind *kind, size_t *size)
{
	struct stat st;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		return hh_error("cannot stat '%s': %s", path, strerror(errno));
	}
	*kind = kind_of(st.st_mode);
	if (size)
		*size = (size_t)st.st_size;
	return 0;
}

int hh_local_mkdtemp(const char *parent, char **out)
{
	char *tmpl = hh_asprintf("%s/healhook-XXXXXX", parent);

	if (!tmpl)
		return -1;
	if (!mkdtemp(tmpl)) {
		hh_error("cannot create a directory in '%s': %s", parent, strerror(errno));
		free(tmpl);
		return -1;
	}
	*out = tmpl;
	return 0;
}

/* Empties the directory open as dfd (consumed), recursively; path is for messages. */
static int rm_dir_contents(int dfd, const char *path)
{
	DIR *d = fdopendir(dfd);
	struct dirent *de;
	int rc = 0;

	if (!d) {
		close(dfd);
		return hh_error("cannot open directory '%s': %s", path, strerror(errno));
	}
	while ((de = readdir(d))) {
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd(d), de->d_name,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			char *subpath = hh_asprintf("%s/%s", path, de->d_name);

			if (sub < 0 || !subpath) {
				if (sub >= 0)
					close(sub);
				rc = hh_error("cannot open directory '%s/%s'", path, de->d_name);
				free(subpath);
				continue;
			}
			if (rm_dir_contents(sub, subpath) < 0)
				rc = -1;
			free(subpath);
			if (unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) < 0)
				rc = hh_error("cannot remove '%s/%s': %s", path, de->d_name,
					      strerror(errno));
		} else if (unlinkat(dirfd(d), de->d_name, 0) < 0) {
			rc = hh_error("cannot remove '%s/%s': %s", path, de->d_name,
				      strerror(errno));
		}
	}
	closedir(d);
	return rc;
}

int hh_local_rmtree(const char *path)
{
	struct stat st;
	int fd;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0
				       : hh_error("cannot stat '%s': %s", path, strerror(errno));
	if (!S_ISDIR(st.st_mode)) {
		if (unlink(path) < 0)
			return hh_error("cannot remove '%s': %s", path, strerror(errno));
		return 0;
	}
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return hh_error("cannot open directory '%s': %s", path, strerror(errno));
	if (rm_dir_contents(fd, path) < 0)
		return -1;
	if (rmdir(path) < 0)
		return hh_error("cannot remove '%s': %s", path, strerror(errno));
	return 0;
}

struct lister {
	hh_remote_entry *e;
	size_t n, cap;
};

static int list_dir(struct lister *ls, const char *root, const char *rel, int depth)
{
	char *full = rel[0] ? hh_asprintf("%s/%s", root, rel) : hh_strdup(root);
	DIR *d = NULL;
	struct dirent *de;
	int rc = -1;

	if (!full)
		return -1;
	if (depth > 64) {
		hh_error("directory tree '%s' is too deep", root);
		goto out;
	}
	if (!(d = opendir(full))) {
		hh_error("cannot open directory '%s': %s", full, strerror(errno));
		goto out;
	}
	while ((de = readdir(d))) {
		struct stat st;
		char *sub;
		enum hh_file_kind k;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		k = kind_of(st.st_mode);
		if (k == HH_FILE_OTHER)
			continue;
		sub = rel[0] ? hh_asprintf("%s/%s", rel, de->d_name) : hh_strdup(de->d_name);
		if (!sub)
			goto out;
		if (hh_remote_entries_push(&ls->e, &ls->n, &ls->cap, sub, k,
					   k == HH_FILE_DIR ? 0 : (size_t)st.st_size) < 0 ||
		    (k == HH_FILE_DIR && list_dir(ls, root, sub, depth + 1) < 0)) {
			free(sub);
			goto out;
		}
		free(sub);
	}
	rc = 0;
out:
	if (d)
		closedir(d);
	free(full);
	return rc;
}

int hh_local_list_tree(const char *dir, hh_remote_entry **out, size_t *n)
{
	struct lister ls = {0};
	int rc = list_dir(&ls, dir, "", 0);

	*out = ls.e;
	*n = ls.n;
	return rc;
}
