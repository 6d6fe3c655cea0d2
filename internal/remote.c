/*
 * remote: the dispatcher in front of the two fix-host transports, plus what both share.
 *
 * Host specs are parsed strictly: "ssh://[user@]host[:port]/abs/path", "local:/abs/path" or
 * "/abs/path". Anything else (relative paths, empty host, a host or user that could be read
 * as an option, a port outside 1..65535, control characters) is refused with an error naming
 * the spec. Every public call checks its arguments here once (absolute paths, a sane argv and
 * env list) and then goes to remote_local.c or remote_ssh.c.
 */
#include "internal/remote.h"
#include "internal/log.h"
#include "internal/remote_priv.h"

#include <ctype.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t hh_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int hh_buf_put_tail(hh_buf *b, const void *data, size_t len, size_t cap, int *truncated)
{
	const char *p = data;

	if (len >= cap) {
		if (len > cap || b->len)
			*truncated = 1;
		hh_buf_clear(b);
		return hh_buf_put(b, p + (len - cap), cap);
	}
	if (b->len + len > cap) {
		size_t drop = b->len + len - cap;

		memmove(b->ptr, b->ptr + drop, b->len - drop);
		b->len -= drop;
		b->ptr[b->len] = '\0';
		*truncated = 1;
	}
	return hh_buf_put(b, p, len);
}

int hh_signal_from_name(const char *name)
{
	static const struct {
		const char *name;
		int sig;
	} sigs[] = {
		{"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT}, {"ILL", SIGILL},
		{"ABRT", SIGABRT}, {"FPE", SIGFPE},   {"KILL", SIGKILL}, {"SEGV", SIGSEGV},
		{"PIPE", SIGPIPE}, {"ALRM", SIGALRM}, {"TERM", SIGTERM}, {"USR1", SIGUSR1},
		{"USR2", SIGUSR2}, {"BUS", SIGBUS},   {"XCPU", SIGXCPU}, {"XFSZ", SIGXFSZ},
	};
	size_t i;

	if (!name)
		return 0;
	if (!strncmp(name, "SIG", 3))
		name += 3;
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (!strcmp(sigs[i].name, name))
			return sigs[i].sig;
	return 0;
}

void hh_host_spec_release(hh_host_spec *hs)
{
	if (!hs)
		return;
	free(hs->user);
	free(hs->hostname);
	free(hs->path);
	memset(hs, 0, sizeof(*hs));
}

static int has_ctl(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

static int valid_user(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || s[0] == '-')
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("._-", s[i]))
			return 0;
	return 1;
}

static int valid_hostname(const char *s, size_t n, int bracketed)
{
	size_t i;

	if (n == 0 || s[0] == '-')
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr(bracketed ? ".-:" : ".-_", s[i]))
			return 0;
	return 1;
}

int hh_host_spec_parse(hh_host_spec *out, const char *spec)
{
	const char *p, *slash, *at, *host, *hend, *colon;
	hh_host_spec hs = {0};
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (!spec || !*spec)
		return hh_fail(HH_ECONFIG, "empty host spec");
	if (has_ctl(spec))
		return hh_fail(HH_ECONFIG, "bad host spec: control character");
	if (!strncmp(spec, "local:", 6) || spec[0] == '/') {
		p = spec[0] == '/' ? spec : spec + 6;
		if (p[0] != '/')
			return hh_fail(HH_ECONFIG, "bad host spec '%s': the path must be absolute",
				       spec);
		hs.port = 0;
		if (!(hs.path = hh_strdup(p)))
			return -1;
		*out = hs;
		return 0;
	}
	if (strncmp(spec, "ssh://", 6) != 0)
		return hh_fail(HH_ECONFIG,
			       "bad host spec '%s': want ssh://user@host[:port]/path or /path",
			       spec);
	p = spec + 6;
	slash = strchr(p, '/');
	if (!slash || slash == p)
		return hh_fail(HH_ECONFIG, "bad host spec '%s': want ssh://user@host[:port]/path",
			       spec);
	hs.is_ssh = 1;
	hs.port = 22;
	at = memchr(p, '@', (size_t)(slash - p));
	host = p;
	if (at) {
		if (!valid_user(p, (size_t)(at - p))) {
			rc = hh_fail(HH_ECONFIG, "bad host spec '%s': bad user name", spec);
			goto fail;
		}
		if (!(hs.user = hh_strndup(p, (size_t)(at - p))))
			goto fail;
		host = at + 1;
	}
	if (*host == '[') {
		const char *rb = memchr(host, ']', (size_t)(slash - host));

		if (!rb || !valid_hostname(host + 1, (size_t)(rb - host - 1), 1)) {
			rc = hh_fail(HH_ECONFIG, "bad host spec '%s': bad host name", spec);
			goto fail;
		}
		if (!(hs.hostname = hh_strndup(host + 1, (size_t)(rb - host - 1))))
			goto fail;
		hend = rb + 1;
		colon = hend < slash && *hend == ':' ? hend : NULL;
		if (hend != slash && !colon) {
			rc = hh_fail(HH_ECONFIG, "bad host spec '%s': bad host name", spec);
			goto fail;
		}
	} else {
		colon = memchr(host, ':', (size_t)(slash - host));
		hend = colon ? colon : slash;
		if (!valid_hostname(host, (size_t)(hend - host), 0)) {
			rc = hh_fail(HH_ECONFIG, "bad host spec '%s': bad host name", spec);
			goto fail;
		}
		if (!(hs.hostname = hh_strndup(host, (size_t)(hend - host))))
			goto fail;
	}
	if (colon) {
		const char *d;
		long port = 0;

		if (colon + 1 == slash || slash - colon > 6) {
			rc = hh_fail(HH_ECONFIG, "bad host spec '%s': bad port", spec);
			goto fail;
		}
		for (d = colon + 1; d < slash; d++) {
			if (!isdigit((unsigned char)*d)) {
				rc = hh_fail(HH_ECONFIG, "bad host spec '%s': bad port", spec);
				goto fail;
			}
			port = port * 10 + (*d - '0');
		}
		if (port < 1 || port > 65535) {
			rc = hh_fail(HH_ECONFIG, "bad host spec '%s': bad port", spec);
			goto fail;
		}
		hs.port = (int)port;
	}
	if (!(hs.path = hh_strdup(slash)))
		goto fail;
	*out = hs;
	return 0;
fail:
	hh_host_spec_release(&hs);
	return rc;
}

int hh_shell_quote(hh_buf *out, const char *word)
{
	const char *p;

	if (hh_buf_putc(out, '\'') < 0)
		return -1;
	for (p = word; *p; p++) {
		if (*p == '\'') {
			if (hh_buf_puts(out, "'\\''") < 0)
				return -1;
		} else if (hh_buf_putc(out, *p) < 0) {
			return -1;
		}
	}
	return hh_buf_putc(out, '\'');
}

int hh_remote_open(hh_remote **out, const hh_remote_opts *opts)
{
	hh_remote *r;
	int rc;

	*out = NULL;
	if (!opts || !opts->host)
		return hh_fail(HH_ECONFIG, "no fix host given");
	if (!(r = calloc(1, sizeof(*r))))
		return hh_error("out of memory");
	if ((rc = hh_host_spec_parse(&r->spec, opts->host)) < 0) {
		free(r);
		return rc;
	}
	r->connect_timeout_ms = opts->connect_timeout_ms > 0 ? opts->connect_timeout_ms : 10000;
	if (r->spec.is_ssh && (rc = hh_ssh_open(r, opts)) < 0) {
		hh_remote_close(r); /* records no error: the code and message stay */
		return rc;
	}
	*out = r;
	return 0;
}

void hh_remote_close(hh_remote *r)
{
	if (!r)
		return;
	if (r->spec.is_ssh)
		hh_ssh_close(r);
	hh_host_spec_release(&r->spec);
	free(r);
}

const char *hh_remote_path(const hh_remote *r)
{
	return r->spec.path;
}

int hh_remote_is_ssh(const hh_remote *r)
{
	return r->spec.is_ssh;
}

int hh_remote_connections(const hh_remote *r)
{
	return r->connections;
}

int hh_remote_channels(const hh_remote *r)
{
	return r->spec.is_ssh && r->ssh ? hh_ssh_channels(r) : 0;
}

void hh_exec_result_release(hh_exec_result *res)
{
	if (!res)
		return;
	hh_buf_release(&res->out);
	hh_buf_release(&res->err);
	memset(res, 0, sizeof(*res));
}

static int valid_env_name(const char *e)
{
	const char *eq = strchr(e, '=');
	const char *p;

	if (!eq || eq == e || isdigit((unsigned char)e[0]))
		return 0;
	for (p = e; p < eq; p++)
		if (!isalnum((unsigned char)*p) && *p != '_')
			return 0;
	return 1;
}

static int check_argv(const char *const *argv)
{
	if (!argv || !argv[0] || !argv[0][0])
		return hh_error("empty command");
	/* Over ssh argv[0] follows "exec", "env" and "timeout": it must not read as an option
	 * or an assignment. Refused on both transports so they behave the same. */
	if (argv[0][0] == '-' || strchr(argv[0], '='))
		return hh_error("bad command name '%s'", argv[0]);
	return 0;
}

static int check_path(const char *path)
{
	if (!path || path[0] != '/')
		return hh_error("path '%s' is not absolute", path ? path : "(null)");
	return 0;
}

int hh_remote_exec(hh_remote *r, const char *const *argv, const hh_exec_opts *opts,
		   hh_exec_result *res)
{
	static const hh_exec_opts none;
	const char *const *e;

	memset(res, 0, sizeof(*res));
	res->status = -1;
	if (!opts)
		opts = &none;
	if (check_argv(argv) < 0)
		return -1;
	if (opts->cwd && check_path(opts->cwd) < 0)
		return -1;
	for (e = opts->env; e && *e; e++)
		if (!valid_env_name(*e))
			return hh_error("bad environment entry for '%s'", argv[0]);
	if (r->spec.is_ssh)
		return hh_ssh_exec(r, argv, opts, res);
	return hh_local_exec(r, argv, opts, res);
}

int hh_remote_read_file(hh_remote *r, const char *path, size_t max, hh_buf *out)
{
	if (check_path(path) < 0)
		return -1;
	return r->spec.is_ssh ? hh_ssh_read_file(r, path, max, out)
			      : hh_local_read_file(path, max, out);
}

int hh_remote_write_file(hh_remote *r, const char *path, const void *data, size_t len, int mode)
{
	if (check_path(path) < 0)
		return -1;
	return r->spec.is_ssh ? hh_ssh_write_file(r, path, data, len, mode)
			      : hh_local_write_file(path, data, len, mode);
}

int hh_remote_stat(hh_remote *r, const char *path, enum hh_file_kind *kind, size_t *size)
{
	*kind = HH_FILE_MISSING;
	if (size)
		*size = 0;
	if (check_path(path) < 0)
		return -1;
	return r->spec.is_ssh ? hh_ssh_stat(r, path, kind, size) : hh_local_stat(path, kind, size);
}

/* $1 = the path: one letter for its kind, by lstat semantics (-h first). */
static const char kind_script[] = "if [ -h \"$1\" ]; then echo l; elif [ -d \"$1\" ]; then echo d; "
				  "elif [ -f \"$1\" ]; then echo f; elif [ -e \"$1\" ]; then "
				  "echo o; else echo m; fi";

int hh_remote_kind(hh_remote *r, const char *path, long timeout_ms, enum hh_file_kind *kind)
{
	const char *argv[] = {"sh", "-c", kind_script, "sh", path, NULL};
	hh_exec_opts o = {0};
	hh_exec_result res;
	int rc = -1;
	char c;

	*kind = HH_FILE_MISSING;
	if (check_path(path) < 0)
		return -1;
	if (!r->spec.is_ssh)
		return hh_local_stat(path, kind, NULL);
	memset(&res, 0, sizeof(res));
	o.cwd = "/";
	o.timeout_ms = timeout_ms;
	if (hh_remote_exec(r, argv, &o, &res) < 0)
		goto out;
	c = res.status == 0 && res.out.ptr ? res.out.ptr[0] : 0;
	if (!c || !strchr("ldfom", c)) {
		hh_error("cannot inspect '%s' on the host: the shell %s", path,
			 res.timed_out ? "timed out" : "gave no answer");
		goto out;
	}
	*kind = c == 'l'   ? HH_FILE_SYMLINK
		: c == 'd' ? HH_FILE_DIR
		: c == 'f' ? HH_FILE_REGULAR
		: c == 'o' ? HH_FILE_OTHER
			   : HH_FILE_MISSING;
	rc = 0;
out:
	hh_exec_result_release(&res);
	return rc;
}

int hh_remote_sftp_probe(hh_remote *r, long timeout_ms)
{
	return r->spec.is_ssh ? hh_ssh_sftp_probe(r, timeout_ms) : 0;
}

int hh_remote_mkdtemp(hh_remote *r, const char *parent, char **out)
{
	*out = NULL;
	if (!parent)
		parent = "/tmp";
	if (check_path(parent) < 0)
		return -1;
	return r->spec.is_ssh ? hh_ssh_mkdtemp(r, parent, out) : hh_local_mkdtemp(parent, out);
}

int hh_remote_rmtree(hh_remote *r, const char *path)
{
	if (check_path(path) < 0)
		return -1;
	if (!strcmp(path, "/"))
		return hh_error("refusing to remove '/'");
	return r->spec.is_ssh ? hh_ssh_rmtree(r, path) : hh_local_rmtree(path);
}

static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const hh_remote_entry *)a)->path, ((const hh_remote_entry *)b)->path);
}

void hh_remote_entries_sort(hh_remote_entry *e, size_t n)
{
	if (n > 1)
		qsort(e, n, sizeof(*e), entry_cmp);
}

int hh_remote_entries_push(hh_remote_entry **e, size_t *n, size_t *cap, const char *path,
			   enum hh_file_kind kind, size_t size)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 32;
		hh_remote_entry *ne = realloc(*e, nc * sizeof(**e));

		if (!ne)
			return hh_error("out of memory");
		*e = ne;
		*cap = nc;
	}
	if (!((*e)[*n].path = hh_strdup(path)))
		return -1;
	(*e)[*n].kind = kind;
	(*e)[*n].size = size;
	(*n)++;
	return 0;
}

int hh_remote_list_tree(hh_remote *r, const char *dir, hh_remote_entry **out, size_t *n)
{
	int rc;

	*out = NULL;
	*n = 0;
	if (check_path(dir) < 0)
		return -1;
	rc = r->spec.is_ssh ? hh_ssh_list_tree(r, dir, out, n) : hh_local_list_tree(dir, out, n);
	if (rc < 0) {
		hh_remote_entries_free(*out, *n);
		*out = NULL;
		*n = 0;
		return -1;
	}
	hh_remote_entries_sort(*out, *n);
	return 0;
}

void hh_remote_entries_free(hh_remote_entry *e, size_t n)
{
	size_t i;

	if (!e)
		return;
	for (i = 0; i < n; i++)
		free(e[i].path);
	free(e);
}

int hh_remote_stream_open(hh_remote *r, const char *const *argv, long timeout_ms, hh_stream **out)
{
	hh_stream *s;
	int rc;

	*out = NULL;
	if (check_argv(argv) < 0)
		return -1;
	if (!(s = calloc(1, sizeof(*s))))
		return hh_error("out of memory");
	s->r = r;
	rc = r->spec.is_ssh ? hh_ssh_stream_open(s, argv, timeout_ms)
			    : hh_local_stream_open(s, argv, timeout_ms);
	if (rc < 0) {
		hh_buf_release(&s->err);
		free(s);
		return -1;
	}
	*out = s;
	return 0;
}

int hh_remote_stream_open_opts(hh_remote *r, const char *const *argv, const hh_stream_opts *o,
			       hh_stream **out)
{
	hh_stream *s;
	int rc;

	*out = NULL;
	if (check_argv(argv) < 0)
		return -1;
	if (!(s = calloc(1, sizeof(*s))))
		return hh_error("out of memory");
	s->r = r;
	s->close_wait_ms = o->close_wait_ms;
	if (o->cwd && !(s->cwd = hh_strdup(o->cwd))) {
		free(s);
		return hh_error("out of memory");
	}
	rc = r->spec.is_ssh ? hh_ssh_stream_open(s, argv, o->timeout_ms)
			    : hh_local_stream_open(s, argv, o->timeout_ms);
	if (rc < 0) {
		hh_buf_release(&s->err);
		free(s->cwd);
		free(s);
		return -1;
	}
	*out = s;
	return 0;
}

ssize_t hh_stream_read(hh_stream *s, void *buf, size_t len)
{
	return s->r->spec.is_ssh ? hh_ssh_stream_read(s, buf, len)
				 : hh_local_stream_read(s, buf, len);
}

int hh_stream_write(hh_stream *s, const void *buf, size_t len)
{
	return s->r->spec.is_ssh ? hh_ssh_stream_write(s, buf, len)
				 : hh_local_stream_write(s, buf, len);
}

int hh_stream_send_eof(hh_stream *s)
{
	return s->r->spec.is_ssh ? hh_ssh_stream_send_eof(s) : hh_local_stream_send_eof(s);
}

const char *hh_stream_stderr(const hh_stream *s)
{
	return s->err.ptr ? s->err.ptr : "";
}

int hh_stream_close_keep_err(hh_stream *s, hh_buf *err)
{
	int rc;

	if (!s)
		return -1;
	rc = s->r->spec.is_ssh ? hh_ssh_stream_close(s) : hh_local_stream_close(s);
	if (s->err.len)
		hh_buf_put(err, s->err.ptr, s->err.len);
	hh_buf_release(&s->err);
	free(s->cwd);
	free(s);
	return rc;
}

int hh_stream_close(hh_stream *s)
{
	int rc;

	if (!s)
		return -1;
	rc = s->r->spec.is_ssh ? hh_ssh_stream_close(s) : hh_local_stream_close(s);
	hh_buf_release(&s->err);
	free(s->cwd);
	free(s);
	return rc;
}
