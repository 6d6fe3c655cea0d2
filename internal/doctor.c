/*
 * doctor: every check a heal depends on, one after the other, each turned into a line with
 * what was seen and, when it failed, what to do (see doctor.h).
 *
 * The ssh checks come from one hh_remote_open: its error code (internal/error.h) says which
 * step failed (connect, handshake, host key, authentication), so the steps before it passed
 * and the ones after it could not be tried; the message is shown as it is, never parsed. The work
 * tree and fixer checks then run over that same session (or locally for a local host), with the
 * commands a heal runs: `git rev-parse` in the work tree, the fixer's program looked up with
 * fixer.path (hh_fixer_locate, as a heal does), then run with a clean environment and that PATH, as
 * run_fixer does. Fix hints quote paths for a POSIX shell only when they need it, so they can be
 * pasted.
 */
#include "internal/doctor.h"
#include "internal/doctor_priv.h"
#include "internal/buf.h"
#include "internal/fixer.h"
#include "internal/fixer_path.h"
#include "internal/log.h"
#include "internal/remote.h"

#include <stdlib.h>
#include <string.h>

/* ---- results ---- */

void hh_doctor_add(hh_doctor *d, enum hh_check_state st, const char *scope, const char *name,
		   char *detail, char *fix)
{
	hh_check *c, *v = realloc(d->checks, (d->n + 1) * sizeof(*v));

	if (!v) {
		d->oom = 1;
		free(detail);
		free(fix);
		return;
	}
	d->checks = v;
	c = &v[d->n++];
	c->state = st;
	c->scope = hh_strdup(scope);
	c->name = hh_strdup(name);
	c->detail = detail ? detail : hh_strdup("");
	c->fix = fix;
	if (!c->scope || !c->name || !c->detail)
		d->oom = 1;
	if (st == HH_CHECK_FAIL)
		d->failed++;
	else if (st == HH_CHECK_WARN)
		d->warned++;
	if (d->on_check)
		d->on_check(d->ctx, c);
}

void hh_doctor_release(hh_doctor *d)
{
	size_t i;

	if (!d)
		return;
	for (i = 0; i < d->n; i++) {
		free(d->checks[i].scope);
		free(d->checks[i].name);
		free(d->checks[i].detail);
		free(d->checks[i].fix);
	}
	free(d->checks);
	d->checks = NULL;
	d->n = d->failed = d->warned = 0;
}

/* s as one shell word: as is when it is plain, else single-quoted. Caller frees. */
static char *shq(const char *s)
{
	hh_buf b = HH_BUF_INIT;

	if (*s && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
			    "_./:@%+=,-") == strlen(s))
		return hh_strdup(s);
	if (hh_shell_quote(&b, s) < 0) {
		hh_buf_release(&b);
		return NULL;
	}
	return hh_buf_detach(&b);
}

/* The first line of s (at most 200 bytes), for a detail. Caller frees. */
static char *first_line(const char *s)
{
	size_t n;

	while (s && (*s == '\n' || *s == '\r' || *s == ' '))
		s++;
	if (!s)
		return hh_strdup("");
	n = strcspn(s, "\r\n");
	return hh_strndup(s, n > 200 ? 200 : n);
}

/* ---- ssh ---- */

/* "ssh-keyscan -p PORT HOST >> KH" (no -p for 22). Caller frees. */
static char *keyscan(const hh_host_spec *hs, const char *kh)
{
	char *q = shq(kh), *s;

	if (hs->port == 22)
		s = hh_asprintf("ssh-keyscan %s >> %s", hs->hostname, q ? q : kh);
	else
		s = hh_asprintf("ssh-keyscan -p %d %s >> %s", hs->port, hs->hostname, q ? q : kh);
	free(q);
	return s;
}

/* The known_hosts name of the host: "host" on port 22, "[host]:port" otherwise. */
static char *kh_name(const hh_host_spec *hs)
{
	if (hs->port == 22)
		return hh_strdup(hs->hostname);
	return hh_asprintf("[%s]:%d", hs->hostname, hs->port);
}

/* The sftp subsystem, for information: a heal never uses it (every file goes through its exec
 * channels), so a host without one is a warning, never a failure (doctor's exit status stays
 * what the other checks make it). */
static void sftp_check(hh_doctor *d, const char *scope, const hh_host_spec *hs, hh_remote *r)
{
	if (hh_remote_sftp_probe(r, d->timeout_ms) == 0) {
		hh_doctor_add(d, HH_CHECK_OK, scope, "sftp subsystem",
			      hh_asprintf("%s has one (heals do not need it)", hs->hostname), NULL);
		return;
	}
	hh_doctor_add(d, HH_CHECK_WARN, scope, "sftp subsystem", hh_strdup(hh_error_last()),
		      hh_asprintf("nothing to do for healhook: its heals copy files through exec "
				  "channels, not SFTP (for sftp/scp by hand, add 'Subsystem sftp "
				  "/usr/lib/openssh/sftp-server' or internal-sftp to "
				  "/etc/ssh/sshd_config on %s)",
				  hs->hostname));
}
/* "user@" or "" for a fix hint. */
#define AT_USER(hs) (hs)->user ? (hs)->user : "", (hs)->user ? "@" : ""

/* The fix for a host key that is unknown (or a known-hosts file that cannot be read). */
static char *fix_host_unknown(const hh_host_spec *hs, const char *kh, const char *fp)
{
	char *scan = keyscan(hs, kh), *s;

	s = hh_asprintf("%s (then verify the fingerprint%s%s against ssh-keygen -lf "
			"/etc/ssh/ssh_host_*_key.pub on the host)",
			scan ? scan : "", *fp ? " " : "", fp);
	free(scan);
	return s;
}

static char *fix_host_changed(const hh_host_spec *hs, const char *kh, const char *fp)
{
	char *scan = keyscan(hs, kh), *name = kh_name(hs), *qkh = shq(kh), *s;

	s = hh_asprintf("the host now shows another key%s%s: if it was reinstalled on purpose, "
			"ssh-keygen -R '%s' -f %s, then %s and verify the fingerprint; otherwise "
			"find out who answers on %s:%d",
			*fp ? " " : "", fp, name ? name : "", qkh ? qkh : "", scan ? scan : "",
			hs->hostname, hs->port);
	free(scan);
	free(name);
	free(qkh);
	return s;
}

void hh_doctor_ssh_advice(hh_ssh_advice *a, int code, const hh_repo_config *repo,
			  const hh_host_spec *hs, const char *fingerprint)
{
	const char *scope = repo->name, *fp = fingerprint ? fingerprint : "";
	char *qid = shq(repo->identity), *qkh = shq(repo->known_hosts);
	const char *id = qid ? qid : "", *kh = qkh ? qkh : "";

	a->passed = 0;
	switch (code) {
	case HH_ECONNECT:
		a->check = "ssh reachable";
		a->fix = hh_asprintf(
			"check that sshd runs on %s port %d and that this machine may "
			"connect to it (nc -vz %s %d), or fix the host in repo.%s.host",
			hs->hostname, hs->port, hs->hostname, hs->port, scope);
		break;
	case HH_EHANDSHAKE:
		a->check = "ssh reachable";
		a->fix = hh_asprintf("%s:%d accepts connections but does not speak ssh: check the "
				     "port in repo.%s.host",
				     hs->hostname, hs->port, scope);
		break;
	case HH_EKNOWNHOSTS:
	case HH_EHOSTKEY_UNKNOWN:
		a->check = "host key known";
		a->passed = 1;
		a->fix = fix_host_unknown(hs, repo->known_hosts, fp);
		break;
	case HH_EHOSTKEY_CHANGED:
		a->check = "host key known";
		a->passed = 1;
		a->fix = fix_host_changed(hs, repo->known_hosts, fp);
		break;
	case HH_EAUTH:
		a->check = "key accepted";
		a->passed = 2;
		a->fix = hh_asprintf("add %s.pub to ~%s/.ssh/authorized_keys on the host "
				     "(ssh-copy-id -i %s -p %d %s%s%s), or fix repo.%s.identity",
				     id, hs->user ? hs->user : "USER", id, hs->port, AT_USER(hs),
				     hs->hostname, scope);
		break;
	case HH_EKEYFILE: /* checked before connecting: nothing passed yet */
		a->check = "key accepted";
		a->fix = hh_asprintf("repo.%s.identity must name a private key file that "
				     "healhook's user can read (chmod 600 %s)",
				     scope, id);
		break;
	default:
		a->check = "ssh connect";
		a->fix = hh_asprintf("check repo.%s.host, identity and known-hosts (ssh -i %s -o "
				     "UserKnownHostsFile=%s -p %d %s%s%s true)",
				     scope, id, kh, hs->port, AT_USER(hs), hs->hostname);
		break;
	}
	free(qid);
	free(qkh);
}

static void add_ssh_ok(hh_doctor *d, const hh_repo_config *repo, const hh_host_spec *hs, int passed)
{
	char *name = kh_name(hs);

	if (passed >= 1)
		hh_doctor_add(d, HH_CHECK_OK, repo->name, "ssh reachable",
			      hh_asprintf("%s:%d", hs->hostname, hs->port), NULL);
	if (passed >= 2)
		hh_doctor_add(d, HH_CHECK_OK, repo->name, "host key known",
			      hh_asprintf("%s in %s", name ? name : "", repo->known_hosts), NULL);
	if (passed >= 3)
		hh_doctor_add(
			d, HH_CHECK_OK, repo->name, "key accepted",
			hh_asprintf("%s%s%s with %s", AT_USER(hs), hs->hostname, repo->identity),
			NULL);
	free(name);
}

/*
 * Opens the ssh session and reports the three ssh checks. Returns the remote, or NULL when a
 * step failed (then reported with its fix, chosen by hh_remote_open's code).
 */
static hh_remote *open_ssh(hh_doctor *d, const hh_repo_config *repo, const hh_host_spec *hs)
{
	const char *scope = repo->name;
	hh_remote_opts o = {0};
	hh_remote *r = NULL;
	hh_ssh_advice a = {0};
	char *msg, *fp;
	int code;

	o.host = repo->host;
	o.identity = repo->identity;
	o.known_hosts = repo->known_hosts;
	o.connect_timeout_ms = d->timeout_ms;
	if (!repo->identity || !repo->known_hosts) {
		hh_doctor_add(
			d, HH_CHECK_FAIL, scope, "ssh config",
			hh_asprintf("repo.%s.%s is not set", scope,
				    !repo->identity ? "identity" : "known-hosts"),
			hh_asprintf(
				"set repo.%s.identity (a private key file) and repo.%s.known-hosts "
				"(ssh-keyscan -p %d %s > FILE, then verify the fingerprint)",
				scope, scope, hs->port, hs->hostname));
		return NULL;
	}
	if ((code = hh_remote_open(&r, &o)) == 0) {
		add_ssh_ok(d, repo, hs, 3);
		sftp_check(d, scope, hs, r);
		return r;
	}
	msg = hh_strdup(hh_error_last()); /* before anything else can record an error */
	fp = hh_strdup(hh_error_detail());
	hh_doctor_ssh_advice(&a, code, repo, hs, fp);
	add_ssh_ok(d, repo, hs, a.passed);
	hh_doctor_add(d, HH_CHECK_FAIL, scope, a.check, msg, a.fix);
	free(fp);
	return NULL;
}

/* ---- work tree and fixer ---- */

/* Runs argv on the host; 0 with res filled, -1 when it could not run (error set). */
static int run(hh_doctor *d, hh_remote *r, const char *const *argv, const char *cwd,
	       const char *const *env, hh_exec_result *res)
{
	hh_exec_opts o = {0};

	memset(res, 0, sizeof(*res));
	o.cwd = cwd;
	o.env = env;
	o.clean_env = env != NULL;
	o.timeout_ms = d->exec_timeout_ms;
	o.out_cap = 16 * 1024;
	return hh_remote_exec(r, argv, &o, res);
}

/* The tail of a failed command's stderr (else stdout), one line. Caller frees. */
static char *why(const hh_exec_result *res)
{
	const hh_buf *b = res->err.len ? &res->err : &res->out;
	const char *s, *p;

	if (!b->ptr)
		return hh_strdup("");
	s = b->ptr;
	/* the last non-empty line */
	for (p = b->ptr; *p; p++)
		if (p[0] == '\n' && p[1] && p[1] != '\n')
			s = p + 1;
	return first_line(s);
}

/*
 * git -C path rev-parse ARGS...: 0 with *out = its stdout (caller frees). Otherwise *err is set
 * (caller frees) and the result says who failed: 1 when git ran and said no (or hung), < 0
 * when git did not run at all: HH_ENOTINSTALLED (exit status 127, or not found locally) or
 * the code of the exec that could not start it.
 */
static int git_rev_parse(hh_doctor *d, hh_remote *r, const char *path, const char *a1,
			 const char *a2, char **out, char **err)
{
	const char *argv[] = {"git", "-C", path, "rev-parse", a1, a2, NULL};
	hh_exec_result res;
	int rc = 1;

	*out = *err = NULL;
	if (run(d, r, argv, path, NULL, &res) < 0) {
		rc = hh_error_code() < 0 ? hh_error_code() : HH_ERR;
		*err = hh_asprintf("cannot run git on the host: %s", hh_error_last());
	} else if (res.timed_out) {
		*err = hh_asprintf("git rev-parse did not finish within %lds",
				   d->exec_timeout_ms / 1000);
	} else if (res.status == 127) {
		rc = HH_ENOTINSTALLED;
		*err = hh_strdup("git is not installed on the host");
	} else if (res.status != 0) {
		char *w = why(&res);
		*err = hh_asprintf("git rev-parse %s failed: %s", a1, w ? w : "");
		free(w);
	} else {
		*out = hh_strdup(res.out.ptr ? res.out.ptr : "");
		rc = 0;
	}
	hh_exec_result_release(&res);
	return rc;
}

static void check_worktree(hh_doctor *d, const hh_repo_config *repo, hh_remote *r)
{
	const char *scope = repo->name, *path = hh_remote_path(r);
	enum hh_file_kind kind = HH_FILE_MISSING;
	char *out = NULL, *err = NULL, *qp = shq(path), *nl;
	const char *qpath = qp ? qp : path;
	int rc;

	if (hh_remote_kind(r, path, d->exec_timeout_ms, &kind) < 0) {
		hh_doctor_add(d, HH_CHECK_FAIL, scope, "work tree exists",
			      hh_strdup(hh_error_last()),
			      hh_asprintf("check that healhook's ssh user can read %s on the host",
					  qpath));
		goto skip;
	}
	if (kind != HH_FILE_DIR) {
		hh_doctor_add(
			d, HH_CHECK_FAIL, scope, "work tree exists",
			hh_asprintf("%s %s on the host", path,
				    kind == HH_FILE_MISSING ? "does not exist"
							    : "is not a directory"),
			hh_asprintf(
				"clone the repository there (git clone ORIGIN %s on the host), or "
				"fix the path in repo.%s.host",
				qpath, scope));
		goto skip;
	}
	hh_doctor_add(d, HH_CHECK_OK, scope, "work tree exists", hh_strdup(path), NULL);

	if ((rc = git_rev_parse(d, r, path, "--is-inside-work-tree", "--show-prefix", &out,
				&err)) != 0 ||
	    strncmp(out, "true\n", 5) != 0 || (out[5] && out[5] != '\n')) {
		int inside = out && !strncmp(out, "true\n", 5);

		if (inside && (nl = strchr(out + 5, '\n')))
			*nl = '\0';
		hh_doctor_add(
			d, HH_CHECK_FAIL, scope, "git repository",
			err      ? hh_asprintf("%s is not a git work tree: %s", path, err)
			: inside ? hh_asprintf("%s is the subdirectory %s of another work tree",
					       path, out + 5)
				 : hh_asprintf("%s is not a git work tree (a bare repository?)",
					       path),
			rc < 0 /* git did not run at all */
				? hh_strdup("install git on the host (apt-get install git)")
				: hh_asprintf(
					  "clone the repository there (git clone ORIGIN %s on the "
					  "host), or fix the path in repo.%s.host",
					  qpath, scope));
		goto out;
	}
	hh_doctor_add(d, HH_CHECK_OK, scope, "git repository",
		      hh_asprintf("%s is a git work tree", path), NULL);
	free(out);
	free(err);

	if (git_rev_parse(d, r, path, "--is-shallow-repository", NULL, &out, &err) != 0)
		hh_doctor_add(d, HH_CHECK_FAIL, scope, "not shallow", err,
			      hh_strdup("run git 2.15 or newer "
					"on the host"));
	else if (!strncmp(out, "false", 5))
		hh_doctor_add(d, HH_CHECK_OK, scope, "not shallow", hh_strdup("full history"),
			      NULL);
	else if (!strncmp(out, "true", 4))
		hh_doctor_add(
			d, HH_CHECK_FAIL, scope, "not shallow",
			hh_asprintf("%s is a shallow clone: healhook needs its full history", path),
			hh_asprintf("git -C %s fetch --unshallow (on the host)", qpath));
	else
		hh_doctor_add(d, HH_CHECK_WARN, scope, "not shallow",
			      hh_asprintf("cannot tell (git says '%.40s')", out),
			      hh_strdup("run git 2.15 or newer on the host"));
	err = NULL;
	free(out);

	if (git_rev_parse(d, r, path, "--abbrev-ref", "HEAD", &out, &err) != 0) {
		hh_doctor_add(
			d, HH_CHECK_FAIL, scope, "branch", err,
			hh_asprintf(
				"the work tree has no commit checked out: git -C %s checkout %s "
				"(on the host)",
				qpath, repo->branch ? repo->branch : "main"));
		err = NULL;
		goto out;
	}
	if ((nl = strchr(out, '\n')))
		*nl = '\0';
	if (!repo->branch)
		hh_doctor_add(
			d, HH_CHECK_OK, scope, "branch",
			hh_asprintf(
				"on %s (repo.%s.branch not set: each delivery's default branch is "
				"used)",
				out, scope),
			NULL);
	else if (!strcmp(out, repo->branch))
		hh_doctor_add(d, HH_CHECK_OK, scope, "branch", hh_asprintf("on %s", out), NULL);
	else
		hh_doctor_add(
			d, HH_CHECK_FAIL, scope, "branch",
			hh_asprintf("the work tree is on %s, repo.%s.branch is %s",
				    !strcmp(out, "HEAD") ? "a detached HEAD" : out, scope,
				    repo->branch),
			hh_asprintf("git -C %s checkout %s (on the host), or set repo.%s.branch",
				    qpath, repo->branch, scope));
	goto out;
skip:
	hh_doctor_add(d, HH_CHECK_SKIP, scope, "git repository",
		      hh_strdup("not checked (no work tree): git repository, not shallow, branch"),
		      NULL);
out:
	free(out);
	free(err);
	free(qp);
}

/* The fixer's program on the host, looked up exactly as a heal does (hh_fixer_locate). Fills
 * w and returns 1 when found; adds the ✗ line (with the advice a failed heal gives) when not. */
static int check_fixer_found(hh_doctor *d, const char *scope, hh_remote *r, hh_fixer_where *w)
{
	if (hh_fixer_locate(r, d->cfg, d->exec_timeout_ms, w) < 0) {
		hh_doctor_add(d, HH_CHECK_FAIL, scope, "fixer found", hh_strdup(hh_error_last()),
			      hh_fixer_advice(w));
		return 0;
	}
	if (!w->found) {
		hh_doctor_add(d, HH_CHECK_FAIL, scope, "fixer found",
			      hh_fixer_not_found(w, "was not found"), hh_fixer_advice(w));
		return 0;
	}
	hh_doctor_add(d, HH_CHECK_OK, scope, "fixer found",
		      hh_asprintf("%s is %s (PATH=%s)", w->program, w->found, w->path), NULL);
	return 1;
}

static void check_fixer(hh_doctor *d, const hh_repo_config *repo, hh_remote *r)
{
	const hh_config *cfg = d->cfg;
	const char *scope = repo->name;
	hh_strv argv = {0}, env = {0};
	hh_fixer_where where = {0};
	hh_exec_result res;
	char *w, *pathvar = NULL;

	memset(&res, 0, sizeof(res));
	if (hh_fixer_argv(&argv, cfg, "prompt.txt", "file.py", "") < 0 || !argv.n) {
		hh_doctor_add(d, HH_CHECK_FAIL, scope, "fixer runnable",
			      hh_asprintf("fixer.command: %s", hh_error_last()),
			      hh_strdup("fix fixer.command (see docs/configuration.md, [fixer])"));
		goto out;
	}
	if (!check_fixer_found(d, scope, r, &where)) {
		hh_doctor_add(d, HH_CHECK_SKIP, scope, "fixer runnable",
			      hh_strdup("not checked (the fixer's program was not found)"), NULL);
		goto out;
	}
	{
		const char *cmd[] = {argv.v[0], "--version", NULL};

		pathvar = hh_asprintf("PATH=%s", where.path);
		if (hh_fixer_env(&env, "/tmp", NULL) < 0 || !pathvar ||
		    hh_strv_push(&env, pathvar) < 0) {
			d->oom = 1;
			goto out;
		}
		if (run(d, r, cmd, "/", (const char *const *)env.v, &res) < 0) {
			hh_doctor_add(d, HH_CHECK_FAIL, scope, "fixer runnable",
				      hh_asprintf("%s", hh_error_last()), hh_fixer_advice(&where));
		} else if (res.timed_out) {
			hh_doctor_add(
				d, HH_CHECK_FAIL, scope, "fixer runnable",
				hh_asprintf("%s --version did not answer within %lds", argv.v[0],
					    d->exec_timeout_ms / 1000),
				hh_asprintf(
					"run %s --version on the host by hand to see why it hangs",
					argv.v[0]));
		} else if (res.status == 127 || res.status == 126) {
			char *why_s;

			w = why(&res);
			why_s = hh_asprintf("could not be run (exit status %d: %s)", res.status,
					    w ? w : "");
			hh_doctor_add(d, HH_CHECK_FAIL, scope, "fixer runnable",
				      why_s ? hh_fixer_not_found(&where, why_s) : NULL,
				      hh_fixer_advice(&where));
			free(why_s);
			free(w);
		} else if (res.status != 0) {
			w = why(&res);
			hh_doctor_add(
				d, HH_CHECK_FAIL, scope, "fixer runnable",
				hh_asprintf("%s --version exited with %s %d: %s", argv.v[0],
					    res.signal ? "signal" : "status",
					    res.signal ? res.signal : res.status, w ? w : ""),
				hh_asprintf("run %s --version on the host by hand and repair the "
					    "installation",
					    argv.v[0]));
			free(w);
		} else {
			w = first_line(res.out.len ? res.out.ptr : res.err.ptr);
			hh_doctor_add(d, HH_CHECK_OK, scope, "fixer runnable",
				      hh_asprintf("%s: %s", argv.v[0], w && *w ? w : "(no output)"),
				      NULL);
			free(w);
		}
	}
out:
	free(pathvar);
	hh_fixer_where_release(&where);
	hh_exec_result_release(&res);
	hh_strv_release(&argv);
	hh_strv_release(&env);
}

/* ---- repositories ---- */

static void check_repo(hh_doctor *d, const hh_repo_config *repo)
{
	const char *scope = repo->name;
	hh_host_spec hs = {0};
	hh_remote *r = NULL;
	hh_remote_opts o = {0};

	if (!repo->host) {
		hh_doctor_add(
			d, HH_CHECK_FAIL, scope, "host",
			hh_asprintf("repo.%s.host is not set", scope),
			hh_asprintf(
				"set repo.%s.host = ssh://USER@HOST/PATH/TO/WORKTREE (or a local "
				"/path)",
				scope));
		goto health;
	}
	if (hh_host_spec_parse(&hs, repo->host) < 0) {
		hh_doctor_add(
			d, HH_CHECK_FAIL, scope, "host", hh_strdup(hh_error_last()),
			hh_asprintf("write repo.%s.host as ssh://[user@]host[:port]/abs/path, "
				    "/abs/path or local:/abs/path",
				    scope));
		goto health;
	}
	if (hs.is_ssh) {
		r = open_ssh(d, repo, &hs);
	} else {
		o.host = repo->host;
		if (hh_remote_open(&r, &o) < 0)
			hh_doctor_add(d, HH_CHECK_FAIL, scope, "host", hh_strdup(hh_error_last()),
				      NULL);
	}
	if (!r) {
		hh_doctor_add(
			d, HH_CHECK_SKIP, scope, "work tree",
			hh_strdup("not checked (no connection): work tree, git repository, branch, "
				  "fixer"),
			NULL);
		goto health;
	}
	check_worktree(d, repo, r);
	check_fixer(d, repo, r);
health:
	hh_doctor_check_health(d, repo);
	hh_remote_close(r);
	hh_host_spec_release(&hs);
}

int hh_doctor_run(hh_doctor *d)
{
	size_t i;

	d->oom = 0;
	if (!d->timeout_ms)
		d->timeout_ms = 5000;
	if (!d->exec_timeout_ms)
		d->exec_timeout_ms = 30000;
	for (i = 0; i < d->cfg->nrepos; i++)
		check_repo(d, &d->cfg->repos[i]);
	hh_doctor_check_ollama(d);
	hh_doctor_check_gitea(d);
	hh_doctor_check_telegram(d);
	hh_doctor_check_store(d);
	if (d->oom)
		return hh_error("out of memory");
	return (int)d->failed;
}
