/*
 * gitops tests against real repositories made with the git CLI in a temporary directory:
 * a bare "origin" and a work tree ("work", a clone). Pushes that must meet server hooks go
 * through the channel subtransport (a local fork/exec channel below), because libgit2 pushes to
 * a local path without running hooks.
 */
#include "tests/unit/t.h"
#include "internal/buf.h"
#include "internal/gitops.h"
#include "internal/log.h"
#include "internal/remote.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static const hh_commit_info fix_info = {
	"healhook",
	"healhook@example.invalid",
	1700000000LL,
	60,
	"fix: handle empty input\n\nHealhook-Job: 7\n",
};

/* ---- helpers: a shell for the test's own fixed commands, never for untrusted text ---- */

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	hh_buf cmd = HH_BUF_INIT;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	hh_buf_vprintf(&cmd, fmt, ap);
	va_end(ap);
	hh_buf_puts(&cmd, " >/dev/null 2>&1");
	rc = system(cmd.ptr);
	hh_buf_release(&cmd);
	return rc == 0 ? 0 : -1;
}

/* First line of a command's stdout (trimmed) into out (size 256). */
static int sh_out(char *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int sh_out(char *out, const char *fmt, ...)
{
	hh_buf cmd = HH_BUF_INIT;
	va_list ap;
	FILE *f;
	int rc = -1;

	out[0] = '\0';
	va_start(ap, fmt);
	hh_buf_vprintf(&cmd, fmt, ap);
	va_end(ap);
	f = popen(cmd.ptr, "r");
	if (f) {
		if (fgets(out, 256, f))
			out[strcspn(out, "\n")] = '\0';
		rc = pclose(f) == 0 ? 0 : -1;
	}
	hh_buf_release(&cmd);
	return rc;
}

static void git_env(const char *home)
{
	setenv("HOME", home, 1);
	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	setenv("GIT_AUTHOR_NAME", "Dev", 1);
	setenv("GIT_AUTHOR_EMAIL", "dev@example.invalid", 1);
	setenv("GIT_AUTHOR_DATE", "1690000000 +0000", 1);
	setenv("GIT_COMMITTER_NAME", "Dev", 1);
	setenv("GIT_COMMITTER_EMAIL", "dev@example.invalid", 1);
	setenv("GIT_COMMITTER_DATE", "1690000000 +0000", 1);
}

#define MAIN_PY                                                                                    \
	"import sys\n\ndef main(argv):\n    return argv[1]\n\n"                                    \
	"if __name__ == '__main__':\n    main(sys.argv)\n"

/*
 * Makes T/origin.git (bare) and T/work (clone) with app/main.py, app/db/models.py,
 * tools/run.sh (100755), link -> app/main.py, and a gitlink "sub"; pushed to origin main.
 * Returns the directory (caller frees and removes) or NULL.
 */
static char *make_repos(void)
{
	char tmpl[] = "/tmp/hh-gitops-XXXXXX";
	char *t;

	if (!mkdtemp(tmpl))
		return NULL;
	t = hh_strdup(tmpl);
	git_env(t);
	if (sh("cd %s && git -c init.defaultBranch=main init -q --bare origin.git && "
	       "git -c init.defaultBranch=main init -q work && cd work && "
	       "mkdir -p app/db tools && printf \"%s\" > app/main.py && "
	       "printf 'class M:\\n    pass\\n' > app/db/models.py && "
	       "printf '#!/bin/sh\\necho hi\\n' > tools/run.sh && chmod 755 tools/run.sh && "
	       "ln -s app/main.py link && git add -A && "
	       "git update-index --add --cacheinfo "
	       "160000,1111111111111111111111111111111111111111,sub && "
	       "git commit -qm initial && git remote add origin ../origin.git && "
	       "git push -q origin main",
	       t, MAIN_PY) < 0) {
		free(t);
		return NULL;
	}
	return t;
}

static void rm_repos(char *t)
{
	if (t && strncmp(t, "/tmp/hh-gitops-", 15) == 0)
		sh("rm -rf %s", t);
	free(t);
}

/* Opens T/mirrors/acme/shop.git and fetches origin into it. */
static hh_mirror *fetched_mirror(const char *t)
{
	hh_buf dir = HH_BUF_INIT, url = HH_BUF_INIT;
	hh_git_peer peer = {0};
	hh_mirror *m = NULL;

	hh_buf_printf(&dir, "%s/mirrors/acme/shop.git", t);
	hh_buf_printf(&url, "%s/origin.git", t);
	peer.url = url.ptr;
	if (hh_mirror_open(&m, dir.ptr) < 0 || hh_mirror_fetch(m, &peer, NULL) < 0) {
		fprintf(stderr, "      %s\n", hh_error_last());
		hh_mirror_close(m);
		m = NULL;
	}
	hh_buf_release(&dir);
	hh_buf_release(&url);
	return m;
}

/* ---- a local channel: fork/exec over a socketpair (what remote's local transport does) ---- */

struct lstream {
	int fd;
	pid_t pid;
};

static int lc_open(void *ctx, const char *const *argv, void **stream)
{
	int sv[2];
	struct lstream *s;

	(void)ctx;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return hh_error("socketpair: %s", strerror(errno));
	s = calloc(1, sizeof(*s));
	s->pid = fork();
	if (s->pid == 0) {
		dup2(sv[1], 0);
		dup2(sv[1], 1);
		if (freopen("/dev/null", "w", stderr) == NULL)
			_exit(126);
		close(sv[0]);
		close(sv[1]);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(sv[1]);
	s->fd = sv[0];
	*stream = s;
	return 0;
}

static ssize_t lc_read(void *stream, void *buf, size_t len)
{
	struct lstream *s = stream;
	ssize_t n;

	do
		n = read(s->fd, buf, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return hh_error("read: %s", strerror(errno));
	return n;
}

static int lc_write(void *stream, const void *buf, size_t len)
{
	struct lstream *s = stream;
	const char *p = buf;

	while (len > 0) {
		ssize_t n = send(s->fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return hh_error("write: %s", strerror(errno));
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int lc_close(void *stream)
{
	struct lstream *s = stream;
	int status = 0;

	shutdown(s->fd, SHUT_WR);
	close(s->fd);
	waitpid(s->pid, &status, 0);
	free(s);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static const hh_git_channel local_channel = {lc_open, lc_read, lc_write, lc_close, NULL};

/* ---- tests ---- */

TEST(gitops_fetch_resolve_blob_at)
{
	char *t = make_repos();
	hh_mirror *m;
	char sha[41], want[256];
	hh_buf c = HH_BUF_INIT;
	int kind;

	REQUIRE(t);
	m = fetched_mirror(t);
	REQUIRE(m);
	CHECK(sh_out(want, "git -C %s/origin.git rev-parse main", t) == 0);
	CHECK(hh_mirror_resolve(m, "main", sha) == 0);
	CHECK_STR(sha, want);
	CHECK(hh_mirror_resolve(m, "nope", sha) < 0);
	CHECK(strstr(hh_error_last(), "nope") != NULL);

	CHECK(hh_mirror_blob_at(m, want, "app/main.py", 0, &c, &kind) == 0);
	CHECK(kind == HH_ENTRY_REGULAR);
	CHECK_STR(c.ptr, MAIN_PY);
	hh_buf_clear(&c);
	CHECK(hh_mirror_blob_at(m, want, "tools/run.sh", 0, &c, &kind) == 0);
	CHECK(kind == HH_ENTRY_EXECUTABLE);
	hh_buf_clear(&c);
	CHECK(hh_mirror_blob_at(m, want, "link", 0, &c, &kind) == 0);
	CHECK(kind == HH_ENTRY_SYMLINK);
	CHECK_STR(c.ptr, "app/main.py");
	hh_buf_clear(&c);
	CHECK(hh_mirror_blob_at(m, want, "sub", 0, &c, &kind) == 0);
	CHECK(kind == HH_ENTRY_SUBMODULE);
	CHECK(c.len == 0);
	CHECK(hh_mirror_blob_at(m, want, "app", 0, &c, &kind) == 0);
	CHECK(kind == HH_ENTRY_TREE);
	CHECK(hh_mirror_blob_at(m, want, "app/missing.py", 0, &c, &kind) == 0);
	CHECK(kind == HH_ENTRY_MISSING);
	CHECK(hh_mirror_blob_at(m, want, "app/main.py", 10, &c, &kind) < 0);
	CHECK(strstr(hh_error_last(), "too large") != NULL);
	CHECK(hh_mirror_blob_at(m, "zz", "app/main.py", 0, &c, &kind) < 0);

	/* A re-fetch after a new commit moves the branch, and a deleted branch is pruned. */
	CHECK(sh("cd %s/work && git checkout -qb gone && git push -q origin gone && "
		 "git checkout -q main && echo x >> app/main.py && git commit -qam two && "
		 "git push -q origin main",
		 t) == 0);
	{
		hh_git_peer peer = {0};
		hh_buf url = HH_BUF_INIT;

		hh_buf_printf(&url, "%s/origin.git", t);
		peer.url = url.ptr;
		CHECK(hh_mirror_fetch(m, &peer, NULL) == 0);
		CHECK(hh_mirror_resolve(m, "gone", sha) == 0);
		CHECK(sh("git -C %s/origin.git branch -qD gone", t) == 0);
		CHECK(hh_mirror_fetch(m, &peer, NULL) == 0);
		CHECK(hh_mirror_resolve(m, "gone", sha) < 0);
		CHECK(sh_out(want, "git -C %s/origin.git rev-parse main", t) == 0);
		CHECK(hh_mirror_resolve(m, "main", sha) == 0);
		CHECK_STR(sha, want);
		hh_buf_release(&url);
	}
	hh_buf_release(&c);
	hh_mirror_close(m);
	rm_repos(t);
}

TEST(gitops_fetch_errors)
{
	char *t = make_repos();
	hh_buf url = HH_BUF_INIT, dir = HH_BUF_INIT;
	hh_git_peer peer = {0};
	hh_mirror *m = NULL;

	REQUIRE(t);
	hh_buf_printf(&dir, "%s/m.git", t);
	REQUIRE(hh_mirror_open(&m, dir.ptr) == 0);
	hh_buf_printf(&url, "%s/nowhere.git", t);
	peer.url = url.ptr;
	CHECK(hh_mirror_fetch(m, &peer, NULL) < 0);
	CHECK(strncmp(hh_error_last(), "git: cannot fetch from ", 23) == 0);
	CHECK(strstr(hh_error_last(), "nowhere.git") != NULL);

	CHECK(sh("cd %s && git clone -q --depth 1 file://%s/origin.git shallow", t, t) == 0);
	hh_buf_clear(&url);
	hh_buf_printf(&url, "%s/shallow", t);
	peer.url = url.ptr;
	CHECK(hh_mirror_fetch(m, &peer, NULL) < 0);
	CHECK(strstr(hh_error_last(), "host repository is shallow") != NULL);
	hh_mirror_close(m);
	/* Reopening an existing mirror works, and it is bare. */
	CHECK(hh_mirror_open(&m, dir.ptr) == 0);
	CHECK(access(dir.ptr, F_OK) == 0);
	hh_buf_printf(&dir, "/HEAD");
	CHECK(access(dir.ptr, F_OK) == 0);
	hh_mirror_close(m);
	hh_buf_release(&url);
	hh_buf_release(&dir);
	rm_repos(t);
}

TEST(gitops_build_commit)
{
	char *t = make_repos();
	const char *fixed =
		"import sys\n\ndef main(argv):\n    if len(argv) < 2:\n        return None\n"
		"    return argv[1]\n\nif __name__ == '__main__':\n    main(sys.argv)\n";
	const char *edited = "import sys\n\ndef main(args):\n    return args[1]\n\n"
			     "if __name__ == '__main__':\n    main(sys.argv)\n";
	char base[41], sha[41], sha2[41], out[256];
	long add = -1, del = -1, a2, d2;
	hh_buf c = HH_BUF_INIT;
	hh_mirror *m;
	int kind;

	REQUIRE(t);
	m = fetched_mirror(t);
	REQUIRE(m);
	REQUIRE(hh_mirror_resolve(m, "main", base) == 0);

	CHECK(hh_mirror_diff_lines(m, base, "app/main.py", fixed, strlen(fixed), &a2, &d2) == 0);
	CHECK(a2 == 2 && d2 == 0);
	CHECK(hh_mirror_diff_lines(m, base, "app/main.py", edited, strlen(edited), &a2, &d2) == 0);
	CHECK(a2 == 2 && d2 == 2);
	CHECK(hh_mirror_build_commit(m, base, "app/main.py", edited, strlen(edited), &fix_info, sha,
				     &add, &del) == 0);
	CHECK(add == 2 && del == 2);
	CHECK(hh_mirror_build_commit(m, base, "app/main.py", fixed, strlen(fixed), &fix_info, sha,
				     &add, &del) == 0);
	CHECK(add == 2 && del == 0);
	/* Deterministic: same inputs and fixed time, same SHA. */
	CHECK(hh_mirror_build_commit(m, base, "app/main.py", fixed, strlen(fixed), &fix_info, sha2,
				     &a2, &d2) == 0);
	CHECK_STR(sha, sha2);
	/* Exactly one file changed, the parent is base, the message is ours, no ref moved. */
	CHECK(sh_out(out, "git -C %s/mirrors/acme/shop.git diff --name-only %s %s | tr '\\n' ' '",
		     t, base, sha) == 0);
	CHECK_STR(out, "app/main.py ");
	CHECK(sh_out(out, "git -C %s/mirrors/acme/shop.git rev-parse %s^", t, sha) == 0);
	CHECK_STR(out, base);
	CHECK(sh_out(out,
		     "git -C %s/mirrors/acme/shop.git log -1 --format='%%an <%%ae> %%at %%s' %s", t,
		     sha) == 0);
	CHECK_STR(out, "healhook <healhook@example.invalid> 1700000000 fix: handle empty input");
	CHECK(hh_mirror_resolve(m, "main", sha2) == 0);
	CHECK_STR(sha2, base);
	CHECK(hh_mirror_blob_at(m, sha, "app/main.py", 0, &c, &kind) == 0);
	CHECK_STR(c.ptr, fixed);

	/* Nested path; unchanged content gives 0 lines. */
	CHECK(hh_mirror_build_commit(m, base, "app/db/models.py", "class M:\n    id = 1\n", 20,
				     &fix_info, sha, &add, &del) == 0);
	CHECK(add == 1 && del == 1);
	CHECK(sh_out(out, "git -C %s/mirrors/acme/shop.git diff --name-only %s %s", t, base, sha) ==
	      0);
	CHECK_STR(out, "app/db/models.py");
	CHECK(hh_mirror_build_commit(m, base, "app/db/models.py", "class M:\n    pass\n", 18,
				     &fix_info, sha, &add, &del) == 0);
	CHECK(add == 0 && del == 0);

	/* Mode kept for an executable. */
	CHECK(hh_mirror_build_commit(m, base, "tools/run.sh", "#!/bin/sh\necho bye\n", 19,
				     &fix_info, sha, &add, &del) == 0);
	CHECK(sh_out(out, "git -C %s/mirrors/acme/shop.git ls-tree %s tools/run.sh | cut -c1-6", t,
		     sha) == 0);
	CHECK_STR(out, "100755");

	/* Only regular files can be fixed. */
	CHECK(hh_mirror_build_commit(m, base, "link", "x", 1, &fix_info, sha, &add, &del) < 0);
	CHECK(strstr(hh_error_last(), "symlink") != NULL);
	CHECK(hh_mirror_build_commit(m, base, "new.py", "x", 1, &fix_info, sha, &add, &del) < 0);
	CHECK(strstr(hh_error_last(), "missing") != NULL);
	CHECK(hh_mirror_build_commit(m, base, "sub", "x", 1, &fix_info, sha, &add, &del) < 0);
	hh_buf_release(&c);
	hh_mirror_close(m);
	rm_repos(t);
}

/* Builds a fix on main in m; fills base and sha. */
static int build_fix(hh_mirror *m, char base[41], char sha[41], const char *extra)
{
	hh_buf content = HH_BUF_INIT;
	long a, d;
	int rc;

	hh_buf_printf(&content, "%s%s", MAIN_PY, extra);
	rc = hh_mirror_resolve(m, "main", base) < 0
		     ? -1
		     : hh_mirror_build_commit(m, base, "app/main.py", content.ptr, content.len,
					      &fix_info, sha, &a, &d);
	hh_buf_release(&content);
	return rc;
}

TEST(gitops_push_fast_forward_and_refusals)
{
	char *t = make_repos();
	char base[41], sha[41], sha2[41], out[256], ref[256];
	hh_buf url = HH_BUF_INIT;
	hh_git_peer peer = {0};
	hh_mirror *m;

	REQUIRE(t);
	m = fetched_mirror(t);
	REQUIRE(m);
	hh_buf_printf(&url, "%s/origin.git", t);
	peer.url = url.ptr;
	REQUIRE(build_fix(m, base, sha, "# one\n") == 0);
	CHECK(hh_mirror_push(m, &peer, sha, "refs/healhook/jobs/1", "refs/heads/main", 0) == 0);
	CHECK(sh_out(out, "git -C %s/origin.git rev-parse main", t) == 0);
	CHECK_STR(out, sha);
	CHECK(sh_out(ref, "git -C %s/mirrors/acme/shop.git rev-parse refs/healhook/jobs/1", t) ==
	      0);
	CHECK_STR(ref, sha);

	/* A commit on the old base is not a fast-forward: refused, origin unchanged. */
	CHECK(hh_mirror_build_commit(m, base, "app/main.py", "x\n", 2, &fix_info, sha2, &(long){0},
				     &(long){0}) == 0);
	/* HH_EREJECTED: the pipeline rebuilds */
	CHECK(hh_mirror_push(m, &peer, sha2, "refs/healhook/jobs/2", "refs/heads/main", 0) ==
	      HH_EREJECTED);
	CHECK(hh_error_code() == HH_EREJECTED);
	CHECK(strstr(hh_error_last(), "cannot push to") != NULL);
	CHECK(strstr(hh_error_last(), "non-fast-forward") != NULL);
	CHECK(strstr(hh_error_last(), "origin.git") != NULL);
	CHECK(sh_out(out, "git -C %s/origin.git rev-parse main", t) == 0);
	CHECK_STR(out, sha);

	/* A pre-receive hook refusing: over a real receive-pack (the channel) it is an error
	 * with the hook's words, never a success. */
	CHECK(sh("printf '#!/bin/sh\\necho \"deploys frozen by ops\" >&2\\nexit 1\\n' > "
		 "%s/origin.git/hooks/pre-receive && chmod 755 %s/origin.git/hooks/pre-receive",
		 t, t) == 0);
	REQUIRE(build_fix(m, base, sha2, "# two\n") == 0);
	{
		hh_git_peer cp = {0};
		hh_buf path = HH_BUF_INIT;

		hh_buf_printf(&path, "%s/origin.git", t);
		cp.channel = &local_channel;
		cp.path = path.ptr;
		CHECK(hh_mirror_fetch(m, &cp, NULL) == 0);
		REQUIRE(build_fix(m, base, sha2, "# three\n") == 0);
		CHECK_STR(base, sha);
		/* HH_ERR, not HH_EREJECTED: rebuilding would not help */
		CHECK(hh_mirror_push(m, &cp, sha2, "refs/healhook/jobs/3", "refs/heads/main", 0) ==
		      HH_ERR);
		CHECK(strstr(hh_error_last(), "refused") != NULL);
		CHECK(strstr(hh_error_last(), "refs/heads/main") != NULL);
		CHECK(strstr(hh_error_last(), "deploys frozen by ops") != NULL);
		fprintf(stderr, "      (expected) %s\n", hh_error_last());
		CHECK(sh_out(out, "git -C %s/origin.git rev-parse main", t) == 0);
		CHECK_STR(out, sha);
		/* Without the hook the same push lands over the channel. */
		CHECK(sh("rm %s/origin.git/hooks/pre-receive", t) == 0);
		CHECK(hh_mirror_push(m, &cp, sha2, "refs/healhook/jobs/3", "refs/heads/main", 0) ==
		      0);
		CHECK(sh_out(out, "git -C %s/origin.git rev-parse main", t) == 0);
		CHECK_STR(out, sha2);
		hh_buf_release(&path);
	}
	hh_buf_release(&url);
	hh_mirror_close(m);
	rm_repos(t);
}

TEST(gitops_channel_host_roundtrip)
{
	char *t = make_repos();
	char base[41], sha[41], out[256], head[256];
	hh_buf path = HH_BUF_INIT, dir = HH_BUF_INIT;
	hh_git_peer host = {0};
	hh_mirror *m = NULL;
	hh_strv argv = {0};

	REQUIRE(t);
	hh_buf_printf(&dir, "%s/mirrors/x.git", t);
	hh_buf_printf(&path, "%s/work", t);
	host.channel = &local_channel;
	host.path = path.ptr;
	REQUIRE(hh_mirror_open(&m, dir.ptr) == 0);
	/* Fetch from the (non-bare) work tree over the channel, origin's view of main. */
	CHECK(sh("git -C %s/work fetch -q origin", t) == 0);
	CHECK(hh_mirror_fetch(m, &host, "+refs/remotes/origin/*:refs/heads/*") == 0);
	CHECK(sh_out(out, "git -C %s/origin.git rev-parse main", t) == 0);
	CHECK(hh_mirror_resolve(m, "main", base) == 0);
	CHECK_STR(base, out);

	/* Push into the work tree's scratch ref (forced), then land it from there. */
	REQUIRE(build_fix(m, base, sha, "# host\n") == 0);
	CHECK(sh_out(head, "git -C %s/work rev-parse HEAD", t) == 0);
	CHECK(hh_mirror_push(m, &host, sha, "refs/healhook/jobs/9", "refs/healhook/pending", 1) ==
	      0);
	CHECK(sh_out(out, "git -C %s/work rev-parse refs/healhook/pending", t) == 0);
	CHECK_STR(out, sha);
	CHECK(sh_out(out, "git -C %s/work rev-parse HEAD", t) == 0);
	CHECK_STR(out, head); /* the work tree's checkout is untouched */
	/* Forced: a second, unrelated commit replaces the scratch ref. */
	REQUIRE(build_fix(m, base, sha, "# host again\n") == 0);
	CHECK(hh_mirror_push(m, &host, sha, "refs/healhook/jobs/9", "refs/healhook/pending", 1) ==
	      0);
	CHECK(hh_gitops_host_push_argv(&argv, "main") == 0);
	REQUIRE(argv.n == 4);
	CHECK_STR(argv.v[3], "refs/healhook/pending:refs/heads/main");
	CHECK(sh("cd %s/work && %s %s %s %s", t, argv.v[0], argv.v[1], argv.v[2], argv.v[3]) == 0);
	CHECK(sh_out(out, "git -C %s/origin.git rev-parse main", t) == 0);
	CHECK_STR(out, sha);
	hh_strv_release(&argv);
	CHECK(hh_gitops_host_push_argv(&argv, "bad..name") < 0);
	CHECK(hh_gitops_host_push_argv(&argv, "a b") < 0);
	hh_strv_release(&argv);

	/* A channel to a path that is not a repository fails with a clear error. */
	hh_buf_clear(&path);
	hh_buf_printf(&path, "%s/nothing", t);
	CHECK(hh_mirror_fetch(m, &host, NULL) < 0);
	CHECK(strstr(hh_error_last(), "git: cannot fetch from host:") != NULL);
	CHECK(strstr(hh_error_last(), "git-upload-pack") != NULL);
	CHECK(strstr(hh_error_last(), "ended without a reply") != NULL);
	hh_mirror_close(m);
	hh_buf_release(&path);
	hh_buf_release(&dir);
	rm_repos(t);
}

/* A shallow host repository: libgit2 1.5 refuses its advertisement ("shallow" lines), and
 * the error, told by libgit2's error class and the channel's state (not its words), asks. */
TEST(gitops_channel_shallow_host_says_so)
{
	char *t = make_repos();
	hh_buf path = HH_BUF_INIT, dir = HH_BUF_INIT;
	hh_git_peer host = {0};
	hh_mirror *m = NULL;

	REQUIRE(t);
	REQUIRE(sh("cd %s/work && echo two >> app/main.py && git commit -qam two && "
		   "git push -q origin main && git clone -q --depth 1 file://%s/origin.git "
		   "%s/shallow && test -f %s/shallow/.git/shallow",
		   t, t, t, t) == 0);
	hh_buf_printf(&dir, "%s/mirrors/s.git", t);
	hh_buf_printf(&path, "%s/shallow", t);
	host.channel = &local_channel;
	host.path = path.ptr;
	REQUIRE(hh_mirror_open(&m, dir.ptr) == 0);
	CHECK(hh_mirror_fetch(m, &host, "+refs/remotes/origin/*:refs/heads/*") < 0);
	CHECK(strstr(hh_error_last(), "is the host repository shallow?") != NULL);
	/* a channel whose service ends without a word (not a repository): no such question */
	hh_buf_clear(&path);
	hh_buf_printf(&path, "%s/nothing", t);
	CHECK(hh_mirror_fetch(m, &host, NULL) < 0);
	CHECK(strstr(hh_error_last(), "shallow") == NULL);
	hh_mirror_close(m);
	hh_buf_release(&path);
	hh_buf_release(&dir);
	rm_repos(t);
}

TEST(gitops_revert_and_find)
{
	char *t = make_repos();
	hh_commit_info rinfo = fix_info;
	char base[41], sha[41], rev[41], found[41], out[256], tip[41];
	hh_buf url = HH_BUF_INIT, c = HH_BUF_INIT, msg = HH_BUF_INIT;
	hh_git_peer peer = {0};
	hh_mirror *m;
	int kind;

	REQUIRE(t);
	m = fetched_mirror(t);
	REQUIRE(m);
	hh_buf_printf(&url, "%s/origin.git", t);
	peer.url = url.ptr;
	REQUIRE(build_fix(m, base, sha, "# fix\n") == 0);
	REQUIRE(hh_mirror_push(m, &peer, sha, "refs/healhook/jobs/7", "refs/heads/main", 0) == 0);
	/* Someone else commits on top (another file). */
	CHECK(sh("cd %s/work && git pull -q origin main && echo y >> app/db/models.py && "
		 "git commit -qam other && git push -q origin main",
		 t) == 0);
	REQUIRE(hh_mirror_fetch(m, &peer, NULL) == 0);
	REQUIRE(hh_mirror_resolve(m, "main", tip) == 0);
	CHECK(hh_mirror_find_revert(m, tip, "7", found) == 0);

	rinfo.message = "Healhook-Job: 7";
	CHECK(hh_mirror_revert(m, sha, tip, &rinfo, rev) == 0);
	CHECK(hh_mirror_blob_at(m, rev, "app/main.py", 0, &c, &kind) == 0);
	CHECK_STR(c.ptr, MAIN_PY);
	hh_buf_clear(&c);
	CHECK(hh_mirror_blob_at(m, rev, "app/db/models.py", 0, &c, &kind) == 0);
	CHECK(strstr(c.ptr, "y\n") != NULL); /* the later commit is kept */
	CHECK(sh_out(out, "git -C %s/mirrors/acme/shop.git rev-parse %s^", t, rev) == 0);
	CHECK_STR(out, tip);
	hh_buf_printf(&msg, "git -C %s/mirrors/acme/shop.git log -1 --format=%%B %s", t, rev);
	{
		FILE *f = popen(msg.ptr, "r");
		char body[512] = "";
		size_t n = f ? fread(body, 1, sizeof(body) - 1, f) : 0;

		body[n] = '\0';
		if (f)
			pclose(f);
		hh_buf_clear(&msg);
		hh_buf_printf(&msg,
			      "Revert \"fix: handle empty input\"\n\nThis reverts commit %s.\n\n"
			      "Healhook-Job: 7\n\n",
			      sha);
		CHECK_STR(body, msg.ptr);
	}
	CHECK(hh_mirror_push(m, &peer, rev, "refs/healhook/jobs/7-revert", "refs/heads/main", 0) ==
	      0);
	CHECK(sh_out(out, "git -C %s/origin.git rev-parse main", t) == 0);
	CHECK_STR(out, rev);

	/* find_revert: found by its trailer (the fix itself carries the same trailer but is not a
	 * revert), not found for another job. */
	CHECK(hh_mirror_find_revert(m, rev, "7", found) == 1);
	CHECK_STR(found, rev);
	CHECK(hh_mirror_find_revert(m, rev, "70", found) == 0);
	CHECK(hh_mirror_find_revert(m, sha, "7", found) == 0);
	CHECK(hh_mirror_is_ancestor(m, sha, rev) == 1);
	CHECK(hh_mirror_is_ancestor(m, rev, sha) == 0);

	/* A revert that conflicts: the same line changed again on top. */
	{
		char fix2[41], over[41];
		long a, d;

		REQUIRE(hh_mirror_build_commit(m, rev, "app/main.py", "A\n", 2, &fix_info, fix2, &a,
					       &d) == 0);
		REQUIRE(hh_mirror_build_commit(m, fix2, "app/main.py", "B\n", 2, &fix_info, over,
					       &a, &d) == 0);
		CHECK(hh_mirror_revert(m, fix2, over, &rinfo, found) < 0);
		CHECK(strstr(hh_error_last(), "revert conflicts") != NULL);
	}
	hh_buf_release(&c);
	hh_buf_release(&msg);
	hh_buf_release(&url);
	hh_mirror_close(m);
	rm_repos(t);
}

TEST(gitops_ssh_url_without_known_hosts_is_refused)
{
	char *t = make_repos();
	hh_git_peer peer = {0};
	hh_mirror *m = NULL;
	hh_buf dir = HH_BUF_INIT;

	REQUIRE(t);
	hh_buf_printf(&dir, "%s/m.git", t);
	REQUIRE(hh_mirror_open(&m, dir.ptr) == 0);
	/* Nothing listens on port 1 of 127.0.0.1: a clear connection error naming the URL. */
	peer.url = "ssh://git@127.0.0.1:1/acme/shop.git";
	CHECK(hh_mirror_fetch(m, &peer, NULL) < 0);
	CHECK(strstr(hh_error_last(), "git: cannot fetch from ssh://git@127.0.0.1:1/") != NULL);
	/* A password in a URL is never repeated. */
	peer.url = "https://bot:s3cret@127.0.0.1:1/acme/shop.git";
	CHECK(hh_mirror_fetch(m, &peer, NULL) < 0);
	CHECK(strstr(hh_error_last(), "s3cret") == NULL);
	hh_mirror_close(m);
	hh_buf_release(&dir);
	rm_repos(t);
}

/* The same round trip over an hh_remote (its local transport): the channel the pipeline uses. */
TEST(gitops_remote_channel_roundtrip)
{
	char *t = make_repos();
	char base[41], sha[41], out[256];
	hh_buf path = HH_BUF_INIT, dir = HH_BUF_INIT;
	hh_remote_opts ro = {0};
	hh_remote *r = NULL;
	hh_git_channel ch;
	hh_git_peer host = {0};
	hh_mirror *m = NULL;

	REQUIRE(t);
	hh_buf_printf(&path, "%s/work", t);
	hh_buf_printf(&dir, "%s/mirrors/r.git", t);
	ro.host = path.ptr;
	REQUIRE(hh_remote_open(&r, &ro) == 0);
	hh_git_channel_from_remote(&ch, r);
	host.channel = &ch;
	host.path = hh_remote_path(r);
	REQUIRE(hh_mirror_open(&m, dir.ptr) == 0);
	CHECK(hh_mirror_fetch(m, &host, NULL) == 0);
	CHECK(sh_out(out, "git -C %s/work rev-parse main", t) == 0);
	CHECK(hh_mirror_resolve(m, "main", base) == 0);
	CHECK_STR(base, out);
	REQUIRE(build_fix(m, base, sha, "# over hh_remote\n") == 0);
	CHECK(hh_mirror_push(m, &host, sha, "refs/healhook/jobs/5", "refs/healhook/pending", 1) ==
	      0);
	CHECK(sh_out(out, "git -C %s/work rev-parse refs/healhook/pending", t) == 0);
	CHECK_STR(out, sha);
	/* Landing from the host with hh_remote_exec, the pipeline's last step. */
	{
		hh_strv argv = {0};
		hh_exec_result res = {0};

		REQUIRE(hh_gitops_host_push_argv(&argv, "main") == 0);
		CHECK(hh_remote_exec(r, (const char *const *)argv.v, NULL, &res) == 0);
		CHECK(res.status == 0);
		CHECK(sh_out(out, "git -C %s/origin.git rev-parse main", t) == 0);
		CHECK_STR(out, sha);
		hh_exec_result_release(&res);
		hh_strv_release(&argv);
	}
	CHECK(hh_remote_connections(r) == 0);
	hh_mirror_close(m);
	hh_remote_close(r);
	hh_buf_release(&path);
	hh_buf_release(&dir);
	rm_repos(t);
}
