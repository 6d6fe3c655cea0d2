/*
 * remote_sftp: the ssh transport's file operations, over SFTP on the job's session (started
 * once, lazily). Every check is lstat-based: symlinks are never followed at the last
 * component (read and write refuse them), rmtree and list_tree work from readdir attributes,
 * which OpenSSH fills with lstat, so a symlink in the tree is removed, never entered.
 * Parents are created like mkdir -p. mkdtemp makes a random name with sftp mkdir 0700 and
 * retries when it exists.
 */
#include "internal/log.h"
#include "internal/remote_priv.h"
#include "internal/remote_ssh_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

static LIBSSH2_SFTP *sftp_get(struct hh_ssh *s)
{
	int64_t deadline = hh_ssh_io_deadline();

	if (!s->sftp) {
		RETRY_PTR(s, deadline, s->sftp, libssh2_sftp_init(s->session));
		s->channels += s->sftp != NULL;
		if (!s->sftp)
			hh_fail(HH_ENOSFTP, "cannot start sftp on %s: %s", s->label,
				hh_ssh_errmsg(s));
	}
	return s->sftp;
}

int hh_ssh_sftp_start(struct hh_ssh *s, int64_t deadline)
{
	if (s->sftp)
		return 0;
	RETRY_PTR(s, deadline, s->sftp, libssh2_sftp_init(s->session));
	s->channels += s->sftp != NULL;
	if (s->sftp)
		return 0;
	return hh_fail(
		HH_ENOSFTP, "%s has no sftp subsystem, or it did not answer in time: %s", s->label,
		libssh2_session_last_errno(s->session) == LIBSSH2_ERROR_EAGAIN ? "timed out"
									       : hh_ssh_errmsg(s));
}

int hh_ssh_sftp_probe(hh_remote *r, long timeout_ms)
{
	return hh_ssh_sftp_start(r->ssh, hh_now_ms() + (timeout_ms > 0 ? timeout_ms : 10000));
}

static const char *sftp_errmsg(struct hh_ssh *s, int rc)
{
	if (rc == LIBSSH2_ERROR_EAGAIN)
		return "timed out";
	if (rc != LIBSSH2_ERROR_SFTP_PROTOCOL)
		return hh_ssh_errmsg(s);
	switch (libssh2_sftp_last_error(s->sftp)) {
	case LIBSSH2_FX_NO_SUCH_FILE:
	case LIBSSH2_FX_NO_SUCH_PATH: return "no such file or directory";
	case LIBSSH2_FX_PERMISSION_DENIED: return "permission denied";
	case LIBSSH2_FX_FILE_ALREADY_EXISTS: return "file exists";
	case LIBSSH2_FX_NO_SPACE_ON_FILESYSTEM:
	case LIBSSH2_FX_QUOTA_EXCEEDED: return "no space left";
	case LIBSSH2_FX_NOT_A_DIRECTORY: return "not a directory";
	default: return "sftp failure";
	}
}

static int sftp_missing(struct hh_ssh *s, int rc)
{
	unsigned long e;

	if (rc != LIBSSH2_ERROR_SFTP_PROTOCOL)
		return 0;
	e = libssh2_sftp_last_error(s->sftp);
	return e == LIBSSH2_FX_NO_SUCH_FILE || e == LIBSSH2_FX_NO_SUCH_PATH;
}

static enum hh_file_kind attrs_kind(const LIBSSH2_SFTP_ATTRIBUTES *a)
{
	if (!(a->flags & LIBSSH2_SFTP_ATTR_PERMISSIONS))
		return HH_FILE_OTHER;
	switch (a->permissions & LIBSSH2_SFTP_S_IFMT) {
	case LIBSSH2_SFTP_S_IFREG: return HH_FILE_REGULAR;
	case LIBSSH2_SFTP_S_IFDIR: return HH_FILE_DIR;
	case LIBSSH2_SFTP_S_IFLNK: return HH_FILE_SYMLINK;
	default: return HH_FILE_OTHER;
	}
}

/* lstat (or stat with follow): 0 found, 1 missing, -1 error. */
static int sftp_stat(struct hh_ssh *s, const char *path, int follow, LIBSSH2_SFTP_ATTRIBUTES *a)
{
	int64_t deadline = hh_ssh_io_deadline();
	int rc;

	if (!sftp_get(s))
		return -1;
	RETRY(s, deadline, rc,
	      libssh2_sftp_stat_ex(s->sftp, path, (unsigned int)strlen(path),
				   follow ? LIBSSH2_SFTP_STAT : LIBSSH2_SFTP_LSTAT, a));
	if (!rc)
		return 0;
	if (sftp_missing(s, rc))
		return 1;
	return hh_error("cannot stat '%s' on %s: %s", path, s->label, sftp_errmsg(s, rc));
}

static void sftp_close_handle(struct hh_ssh *s, LIBSSH2_SFTP_HANDLE *h)
{
	int64_t deadline = hh_now_ms() + 5000;
	int rc;

	RETRY(s, deadline, rc, libssh2_sftp_close_handle(h));
	(void)rc;
}

int hh_ssh_read_file(hh_remote *r, const char *path, size_t max, hh_buf *out)
{
	struct hh_ssh *s = r->ssh;
	LIBSSH2_SFTP_ATTRIBUTES a;
	LIBSSH2_SFTP_HANDLE *h;
	int64_t deadline;
	size_t got = 0;
	char buf[32768];
	ssize_t n;
	int st, rc = -1;

	if ((st = sftp_stat(s, path, 0, &a)) < 0)
		return -1;
	if (st == 1)
		return hh_error("cannot read '%s' on %s: no such file", path, s->label);
	if (attrs_kind(&a) == HH_FILE_SYMLINK)
		return hh_error("refusing to read '%s' on %s: it is a symlink", path, s->label);
	if (attrs_kind(&a) != HH_FILE_REGULAR)
		return hh_error("refusing to read '%s' on %s: not a regular file", path, s->label);
	if ((a.flags & LIBSSH2_SFTP_ATTR_SIZE) && a.filesize > max)
		return hh_error("file '%s' on %s is larger than %zu bytes", path, s->label, max);
	deadline = hh_ssh_io_deadline();
	RETRY_PTR(s, deadline, h,
		  libssh2_sftp_open_ex(s->sftp, path, (unsigned int)strlen(path), LIBSSH2_FXF_READ,
				       0, LIBSSH2_SFTP_OPENFILE));
	if (!h)
		return hh_error("cannot open '%s' on %s: %s", path, s->label,
				sftp_errmsg(s, libssh2_session_last_errno(s->session)));
	for (;;) {
		RETRY(s, deadline, n, libssh2_sftp_read(h, buf, sizeof(buf)));
		if (n == 0)
			break;
		if (n < 0) {
			hh_error("cannot read '%s' on %s: %s", path, s->label,
				 sftp_errmsg(s, (int)n));
			goto out;
		}
		got += (size_t)n;
		if (got > max) {
			hh_error("file '%s' on %s is larger than %zu bytes", path, s->label, max);
			goto out;
		}
		if (hh_buf_put(out, buf, (size_t)n) < 0)
			goto out;
	}
	rc = 0;
out:
	sftp_close_handle(s, h);
	return rc;
}

static int sftp_mkdir(struct hh_ssh *s, const char *path, int mode)
{
	int64_t deadline = hh_ssh_io_deadline();
	int rc;

	RETRY(s, deadline, rc,
	      libssh2_sftp_mkdir_ex(s->sftp, path, (unsigned int)strlen(path), mode));
	return rc;
}

/* mkdir -p of the parents of path (following symlinks, like the local transport). */
static int sftp_make_parents(struct hh_ssh *s, const char *path)
{
	char *dup = hh_strdup(path), *p;
	LIBSSH2_SFTP_ATTRIBUTES a;
	int st, rc = -1;

	if (!dup)
		return -1;
	for (p = dup + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		if ((st = sftp_stat(s, dup, 1, &a)) < 0)
			goto out;
		if (st == 1) {
			int mrc = sftp_mkdir(s, dup, 0755);

			if (mrc && sftp_stat(s, dup, 1, &a) != 0) { /* lost a race is fine */
				hh_error("cannot create directory '%s' on %s: %s", dup, s->label,
					 sftp_errmsg(s, mrc));
				goto out;
			}
		} else if (attrs_kind(&a) != HH_FILE_DIR) {
			hh_error("cannot create directory '%s' on %s: not a directory", dup,
				 s->label);
			goto out;
		}
		*p = '/';
	}
	rc = 0;
out:
	free(dup);
	return rc;
}

int hh_ssh_write_file(hh_remote *r, const char *path, const void *data, size_t len, int mode)
{
	struct hh_ssh *s = r->ssh;
	LIBSSH2_SFTP_ATTRIBUTES a;
	LIBSSH2_SFTP_HANDLE *h;
	const char *d = data;
	int64_t deadline;
	ssize_t n;
	int st, rc = -1;

	if ((st = sftp_stat(s, path, 0, &a)) < 0)
		return -1;
	if (st == 0 && attrs_kind(&a) == HH_FILE_SYMLINK)
		return hh_error("refusing to write '%s' on %s: it is a symlink", path, s->label);
	if (st == 1 && sftp_make_parents(s, path) < 0)
		return -1;
	deadline = hh_ssh_io_deadline();
	RETRY_PTR(s, deadline, h,
		  libssh2_sftp_open_ex(s->sftp, path, (unsigned int)strlen(path),
				       LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT | LIBSSH2_FXF_TRUNC,
				       mode & 07777, LIBSSH2_SFTP_OPENFILE));
	if (!h)
		return hh_error("cannot write '%s' on %s: %s", path, s->label,
				sftp_errmsg(s, libssh2_session_last_errno(s->session)));
	memset(&a, 0, sizeof(a));
	a.flags = LIBSSH2_SFTP_ATTR_PERMISSIONS;
	a.permissions = (unsigned long)(mode & 07777);
	RETRY(s, deadline, st, libssh2_sftp_fsetstat(h, &a));
	if (st) {
		hh_error("cannot set the mode of '%s' on %s: %s", path, s->label,
			 sftp_errmsg(s, st));
		goto out;
	}
	while (len) {
		RETRY(s, deadline, n, libssh2_sftp_write(h, d, len));
		if (n <= 0) {
			hh_error("cannot write '%s' on %s: %s", path, s->label,
				 sftp_errmsg(s, (int)n));
			goto out;
		}
		d += n;
		len -= (size_t)n;
	}
	rc = 0;
out:
	sftp_close_handle(s, h);
	return rc;
}

int hh_ssh_stat(hh_remote *r, const char *path, enum hh_file_kind *kind, size_t *size)
{
	LIBSSH2_SFTP_ATTRIBUTES a;
	int st = sftp_stat(r->ssh, path, 0, &a);

	if (st < 0)
		return -1;
	if (st == 1)
		return 0;
	*kind = attrs_kind(&a);
	if (size && (a.flags & LIBSSH2_SFTP_ATTR_SIZE))
		*size = (size_t)a.filesize;
	return 0;
}

int hh_ssh_mkdtemp(hh_remote *r, const char *parent, char **out)
{
	struct hh_ssh *s = r->ssh;
	LIBSSH2_SFTP_ATTRIBUTES a;
	int i, rc = 0;

	if (!sftp_get(s))
		return -1;
	for (i = 0; i < 16; i++) {
		unsigned char rnd[6];
		char *path;

		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
			return hh_error("cannot get random bytes: %s", strerror(errno));
		path = hh_asprintf("%s/healhook-%02x%02x%02x%02x%02x%02x", parent, rnd[0], rnd[1],
				   rnd[2], rnd[3], rnd[4], rnd[5]);
		if (!path)
			return -1;
		rc = sftp_mkdir(s, path, 0700);
		if (!rc) {
			*out = path;
			return 0;
		}
		/* OpenSSH says FX_FAILURE for EEXIST: look before retrying */
		if (sftp_stat(s, path, 0, &a) != 0) {
			free(path);
			break;
		}
		free(path);
	}
	return hh_error("cannot create a directory in '%s' on %s: %s", parent, s->label,
			sftp_errmsg(s, rc));
}

struct dent {
	char *name;
	enum hh_file_kind kind;
	size_t size;
};

static void dents_free(struct dent *d, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(d[i].name);
	free(d);
}

/* Reads a whole directory (without . and ..), kinds from lstat-like readdir attributes. */
static int sftp_readdir_all(struct hh_ssh *s, const char *dir, struct dent **out, size_t *nout)
{
	LIBSSH2_SFTP_HANDLE *h;
	LIBSSH2_SFTP_ATTRIBUTES a;
	struct dent *d = NULL;
	size_t n = 0, cap = 0;
	int64_t deadline = hh_ssh_io_deadline();
	char name[1024];
	int rc = -1, len;

	*out = NULL;
	*nout = 0;
	RETRY_PTR(s, deadline, h,
		  libssh2_sftp_open_ex(s->sftp, dir, (unsigned int)strlen(dir), 0, 0,
				       LIBSSH2_SFTP_OPENDIR));
	if (!h)
		return hh_error("cannot open directory '%s' on %s: %s", dir, s->label,
				sftp_errmsg(s, libssh2_session_last_errno(s->session)));
	for (;;) {
		RETRY(s, deadline, len,
		      libssh2_sftp_readdir_ex(h, name, sizeof(name), NULL, 0, &a));
		if (len == 0)
			break;
		if (len < 0) {
			hh_error("cannot read directory '%s' on %s: %s", dir, s->label,
				 sftp_errmsg(s, len));
			goto out;
		}
		if (!strcmp(name, ".") || !strcmp(name, ".."))
			continue;
		if (n == cap) {
			struct dent *nd;

			cap = cap ? cap * 2 : 32;
			if (!(nd = realloc(d, cap * sizeof(*d)))) {
				hh_error("out of memory");
				goto out;
			}
			d = nd;
		}
		if (!(d[n].name = hh_strdup(name)))
			goto out;
		d[n].kind = attrs_kind(&a);
		d[n].size = (a.flags & LIBSSH2_SFTP_ATTR_SIZE) ? (size_t)a.filesize : 0;
		n++;
	}
	rc = 0;
out:
	sftp_close_handle(s, h);
	if (rc < 0) {
		dents_free(d, n);
		return -1;
	}
	*out = d;
	*nout = n;
	return 0;
}

static int sftp_rm(struct hh_ssh *s, const char *path, int is_dir, int depth)
{
	int64_t deadline;
	int rc = 0;

	if (is_dir) {
		struct dent *d;
		size_t n, i;

		if (depth > 64)
			return hh_error("directory tree '%s' on %s is too deep", path, s->label);
		if (sftp_readdir_all(s, path, &d, &n) < 0)
			return -1;
		for (i = 0; i < n; i++) {
			char *sub = hh_asprintf("%s/%s", path, d[i].name);

			if (!sub || sftp_rm(s, sub, d[i].kind == HH_FILE_DIR, depth + 1) < 0)
				rc = -1;
			free(sub);
		}
		dents_free(d, n);
		if (rc < 0)
			return -1;
		deadline = hh_ssh_io_deadline();
		RETRY(s, deadline, rc,
		      libssh2_sftp_rmdir_ex(s->sftp, path, (unsigned int)strlen(path)));
	} else {
		deadline = hh_ssh_io_deadline();
		RETRY(s, deadline, rc,
		      libssh2_sftp_unlink_ex(s->sftp, path, (unsigned int)strlen(path)));
	}
	if (rc && !sftp_missing(s, rc))
		return hh_error("cannot remove '%s' on %s: %s", path, s->label, sftp_errmsg(s, rc));
	return 0;
}

int hh_ssh_rmtree(hh_remote *r, const char *path)
{
	LIBSSH2_SFTP_ATTRIBUTES a;
	int st = sftp_stat(r->ssh, path, 0, &a);

	if (st < 0)
		return -1;
	if (st == 1)
		return 0;
	return sftp_rm(r->ssh, path, attrs_kind(&a) == HH_FILE_DIR, 0);
}

struct lister {
	hh_remote_entry *e;
	size_t n, cap;
};

static int sftp_list(struct hh_ssh *s, struct lister *ls, const char *root, const char *rel,
		     int depth)
{
	char *full = rel[0] ? hh_asprintf("%s/%s", root, rel) : hh_strdup(root);
	struct dent *d = NULL;
	size_t n = 0, i;
	int rc = -1;

	if (!full)
		return -1;
	if (depth > 64) {
		hh_error("directory tree '%s' on %s is too deep", root, s->label);
		goto out;
	}
	if (sftp_readdir_all(s, full, &d, &n) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		char *sub;

		if (d[i].kind == HH_FILE_OTHER)
			continue;
		sub = rel[0] ? hh_asprintf("%s/%s", rel, d[i].name) : hh_strdup(d[i].name);
		if (!sub)
			goto out;
		if (hh_remote_entries_push(&ls->e, &ls->n, &ls->cap, sub, d[i].kind,
					   d[i].kind == HH_FILE_DIR ? 0 : d[i].size) < 0 ||
		    (d[i].kind == HH_FILE_DIR && sftp_list(s, ls, root, sub, depth + 1) < 0)) {
			free(sub);
			goto out;
		}
		free(sub);
	}
	rc = 0;
out:
	dents_free(d, n);
	free(full);
	return rc;
}

int hh_ssh_list_tree(hh_remote *r, const char *dir, hh_remote_entry **out, size_t *n)
{
	struct lister ls = {0};
	int rc;

	if (!sftp_get(r->ssh))
		return -1;
	rc = sftp_list(r->ssh, &ls, dir, "", 0);
	*out = ls.e;
	*n = ls.n;
	return rc;
}
