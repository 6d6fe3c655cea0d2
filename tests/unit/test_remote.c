/*
 * Tests of remote: host spec parsing, shell quoting (checked by a real /bin/sh), and the local
 * transport end to end (exec, caps, time-outs that kill a whole process group, files,
 * streams). The ssh transport is tested against a real sshd in tests/integration.
 */
#include "tests/unit/t.h"

#include "internal/log.h"
#include "internal/remote.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

TEST(remote_host_spec_parse)
{
	static const struct {
		const char *spec;
		int ok, is_ssh;
		const char *user, *host;
		int port;
		const char *path;
	} cases[] = {
		{"ssh://deploy@fixhost/srv/wt", 1, 1, "deploy", "fixhost", 22, "/srv/wt"},
		{"ssh://deploy@fixhost:2222/srv/wt", 1, 1, "deploy", "fixhost", 2222, "/srv/wt"},
		{"ssh://127.0.0.1:22022/x", 1, 1, NULL, "127.0.0.1", 22022, "/x"},
		{"ssh://fix-host.example.com/a/b c", 1, 1, NULL, "fix-host.example.com", 22,
		 "/a/b c"},
		{"ssh://u@[::1]:2200/w", 1, 1, "u", "::1", 2200, "/w"},
		{"local:/srv/wt", 1, 0, NULL, NULL, 0, "/srv/wt"},
		{"/srv/wt", 1, 0, NULL, NULL, 0, "/srv/wt"},
		{"", 0, 0, NULL, NULL, 0, NULL},
		{"srv/wt", 0, 0, NULL, NULL, 0, NULL},
		{"local:srv", 0, 0, NULL, NULL, 0, NULL},
		{"ssh://fixhost", 0, 0, NULL, NULL, 0, NULL},
		{"ssh:///path", 0, 0, NULL, NULL, 0, NULL},
		{"ssh://@fixhost/p", 0, 0, NULL, NULL, 0, NULL},
		{"ssh://u@-oProxyCommand=x/p", 0, 0, NULL, NULL, 0, NULL},
		{"ssh://-u@h/p", 0, 0, NULL, NULL, 0, NULL},
		{"ssh://h:0/p", 0, 0, NULL, NULL, 0, NULL},
		{"ssh://h:65536/p", 0, 0, NULL, NULL, 0, NULL},
		{"ssh://h:22x/p", 0, 0, NULL, NULL, 0, NULL},
		{"ssh://h:/p", 0, 0, NULL, NULL, 0, NULL},
		{"ssh://h;id/p", 0, 0, NULL, NULL, 0, NULL},
		{"ssh://h/p\nq", 0, 0, NULL, NULL, 0, NULL},
		{"http://h/p", 0, 0, NULL, NULL, 0, NULL},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		hh_host_spec hs;
		int rc = hh_host_spec_parse(&hs, cases[i].spec);

		if (!cases[i].ok) {
			CHECK(rc == HH_ECONFIG && hh_error_code() == HH_ECONFIG);
			if (rc == 0)
				fprintf(stderr, "      accepted '%s'\n", cases[i].spec);
			CHECK(hh_error_last()[0] != '\0');
			hh_host_spec_release(&hs);
			continue;
		}
		CHECK(rc == 0);
		if (rc < 0) {
			fprintf(stderr, "      refused '%s': %s\n", cases[i].spec, hh_error_last());
			continue;
		}
		CHECK(hs.is_ssh == cases[i].is_ssh);
		if (cases[i].user)
			CHECK_STR(hs.user, cases[i].user);
		else
			CHECK(hs.user == NULL);
		if (cases[i].host)
			CHECK_STR(hs.hostname, cases[i].host);
		CHECK(hs.port == cases[i].port);
		CHECK_STR(hs.path, cases[i].path);
		hh_host_spec_release(&hs);
	}
	hh_host_spec_release(NULL);
}

/* Runs sh -c 'printf %s <quoted word>' and returns what it printed (caller frees). */
static char *sh_roundtrip(const char *word)
{
	hh_buf cmd = HH_BUF_INIT, out = HH_BUF_INIT;
	int fds[2];
	pid_t pid;
	char chunk[256];
	ssize_t n;

	hh_buf_puts(&cmd, "printf %s ");
	hh_shell_quote(&cmd, word);
	if (pipe(fds) < 0)
		return NULL;
	pid = fork();
	if (pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		execl("/bin/sh", "sh", "-c", cmd.ptr, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	while ((n = read(fds[0], chunk, sizeof(chunk))) > 0)
		hh_buf_put(&out, chunk, (size_t)n);
	close(fds[0]);
	waitpid(pid, NULL, 0);
	hh_buf_release(&cmd);
	return hh_buf_detach(&out);
}

TEST(remote_shell_quote_roundtrip)
{
	static const char *words[] = {
		"plain", "", "it's", "'", "''", "\"; touch /tmp/hh-pwned-q; echo \"",
		"$(touch /tmp/hh-pwned-q)", "`touch /tmp/hh-pwned-q`", "a\nb\n", "\\", "$HOME *",
		"-n", "'\\''", "x'; touch /tmp/hh-pwned-q; '",
	};
	hh_buf b = HH_BUF_INIT;
	size_t i;

	unlink("/tmp/hh-pwned-q");
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		char *got = sh_roundtrip(words[i]);

		CHECK_STR(got, words[i]);
		free(got);
	}
	CHECK(access("/tmp/hh-pwned-q", F_OK) != 0);
	hh_shell_quote(&b, "it's");
	CHECK_STR(b.ptr, "'it'\\''s'");
	hh_buf_release(&b);
}

static hh_remote *open_local(const char *path)
{
	hh_remote_opts o = {0};
	hh_remote *r = NULL;

	o.host = path;
	if (hh_remote_open(&r, &o) < 0)
		fprintf(stderr, "      open: %s\n", hh_error_last());
	return r;
}

TEST(remote_local_exec_argv)
{
	hh_remote *r = open_local("local:/tmp");
	const char *hostile = "\"; touch /tmp/hh-pwned-x; echo \"$(touch /tmp/hh-pwned-x)`id`";
	const char *argv[] = {"printf", "%s|", hostile, "it's", NULL};
	hh_exec_result res;
	hh_buf want = HH_BUF_INIT;

	REQUIRE(r);
	CHECK(!hh_remote_is_ssh(r));
	CHECK(hh_remote_connections(r) == 0);
	CHECK_STR(hh_remote_path(r), "/tmp");
	unlink("/tmp/hh-pwned-x");
	CHECK(hh_remote_exec(r, argv, NULL, &res) == 0);
	CHECK(res.status == 0);
	hh_buf_printf(&want, "%s|it's|", hostile);
	CHECK_STR(res.out.ptr, want.ptr);
	CHECK(access("/tmp/hh-pwned-x", F_OK) != 0);
	hh_exec_result_release(&res);
	hh_buf_release(&want);

	/* status, signal, cwd default, stdin, not found */
	{
		const char *a1[] = {"sh", "-c", "pwd; echo oops >&2; exit 3", NULL};
		const char *a2[] = {"sh", "-c", "kill -TERM $$", NULL};
		const char *a3[] = {"tr", "a-z", "A-Z", NULL};
		const char *a4[] = {"no-such-command-hh", NULL};
		const char *a5[] = {"-rf", NULL};
		hh_exec_opts o = {0};

		CHECK(hh_remote_exec(r, a1, NULL, &res) == 0);
		CHECK(res.status == 3 && res.signal == 0 && !res.timed_out);
		CHECK_STR(res.out.ptr, "/tmp\n");
		CHECK_STR(res.err.ptr, "oops\n");
		hh_exec_result_release(&res);
		CHECK(hh_remote_exec(r, a2, NULL, &res) == 0);
		CHECK(res.status == -1 && res.signal == SIGTERM);
		hh_exec_result_release(&res);
		o.stdin_data = "hello\n";
		o.stdin_len = 6;
		CHECK(hh_remote_exec(r, a3, &o, &res) == 0);
		CHECK_STR(res.out.ptr, "HELLO\n");
		hh_exec_result_release(&res);
		o.stdin_data = NULL;
		CHECK(hh_remote_exec(r, a3, &o, &res) == 0); /* /dev/null: no hang */
		CHECK(res.status == 0 && res.out.len == 0);
		hh_exec_result_release(&res);
		CHECK(hh_remote_exec(r, a4, NULL, &res) == -1);
		CHECK(strstr(hh_error_last(), "no-such-command-hh") != NULL);
		CHECK(res.status == -1);
		hh_exec_result_release(&res);
		CHECK(hh_remote_exec(r, a5, NULL, &res) == -1);
		hh_exec_result_release(&res);
		o.cwd = "/nonexistent-hh";
		CHECK(hh_remote_exec(r, a1, &o, &res) == -1);
		CHECK(strstr(hh_error_last(), "/nonexistent-hh") != NULL);
		hh_exec_result_release(&res);
	}
	hh_remote_close(r);
}

TEST(remote_local_exec_env)
{
	hh_remote *r = open_local("/tmp");
	const char *argv[] = {"sh", "-c", "echo \"[$HH_PARENT_VAR][$HH_SET][$PATH]\"", NULL};
	const char *env[] = {"HH_SET=a b;$(id)", NULL};
	hh_exec_opts o = {0};
	hh_exec_result res;

	REQUIRE(r);
	setenv("HH_PARENT_VAR", "leak", 1);
	o.env = env;
	CHECK(hh_remote_exec(r, argv, &o, &res) == 0);
	CHECK(strstr(res.out.ptr, "[leak][a b;$(id)]") != NULL);
	hh_exec_result_release(&res);
	o.clean_env = 1;
	CHECK(hh_remote_exec(r, argv, &o, &res) == 0);
	CHECK_STR(res.out.ptr, "[][a b;$(id)][/usr/local/bin:/usr/bin:/bin]\n");
	hh_exec_result_release(&res);
	{
		const char *bad[] = {"1X=y", NULL};

		o.env = bad;
		CHECK(hh_remote_exec(r, argv, &o, &res) == -1);
		hh_exec_result_release(&res);
	}
	unsetenv("HH_PARENT_VAR");
	hh_remote_close(r);
}

TEST(remote_local_exec_cap_keeps_tail)
{
	hh_remote *r = open_local("/tmp");
	const char *argv[] = {"sh", "-c", "seq 1 100000; echo END", NULL};
	hh_exec_opts o = {0};
	hh_exec_result res;

	REQUIRE(r);
	o.out_cap = 100;
	CHECK(hh_remote_exec(r, argv, &o, &res) == 0);
	CHECK(res.truncated == 1);
	CHECK(res.out.len == 100);
	CHECK(res.out.len >= 4 && !strcmp(res.out.ptr + res.out.len - 4, "END\n"));
	CHECK(strstr(res.out.ptr, "100000\n") != NULL);
	hh_exec_result_release(&res);
	o.out_cap = 0;
	CHECK(hh_remote_exec(r, argv, &o, &res) == 0);
	CHECK(res.truncated == 1 && res.out.len == 64 * 1024);
	hh_exec_result_release(&res);
	hh_remote_close(r);
}

static int marker_running(const char *marker)
{
	int st = -1;
	pid_t pid = fork();

	if (pid == 0) { /* no shell in between: its command line would match too */
		int devnull = open("/dev/null", O_WRONLY);

		dup2(devnull, 1);
		execlp("pgrep", "pgrep", "-f", marker, (char *)NULL);
		_exit(2);
	}
	waitpid(pid, &st, 0);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

TEST(remote_local_exec_timeout_kills_group)
{
	hh_remote *r = open_local("/tmp");
	char script[256], marker[64];
	const char *argv[] = {"sh", "-c", script, NULL};
	hh_exec_opts o = {0};
	hh_exec_result res;
	int64_t t0;

	REQUIRE(r);
	/* sleep with a unique argument so pgrep finds exactly these processes */
	snprintf(marker, sizeof(marker), "10%d7", (int)getpid());
	snprintf(script, sizeof(script), "trap '' TERM; sleep %s & sleep %s; echo never", marker,
		 marker);
	o.timeout_ms = 500;
	t0 = now_ms();
	CHECK(hh_remote_exec(r, argv, &o, &res) == 0);
	CHECK(now_ms() - t0 < 500 + 3000);
	CHECK(res.timed_out == 1);
	CHECK(res.status == -1 && res.signal != 0);
	CHECK(strstr(res.out.ptr ? res.out.ptr : "", "never") == NULL);
	usleep(100000);
	CHECK(!marker_running(marker));
	hh_exec_result_release(&res);

	/* a command that exits in time is not marked */
	o.timeout_ms = 5000;
	{
		const char *quick[] = {"true", NULL};

		CHECK(hh_remote_exec(r, quick, &o, &res) == 0);
		CHECK(res.status == 0 && !res.timed_out);
		hh_exec_result_release(&res);
	}
	/* a background child holding stdout does not make exec wait */
	snprintf(script, sizeof(script), "sleep %s & echo done", marker);
	t0 = now_ms();
	CHECK(hh_remote_exec(r, argv, &o, &res) == 0);
	CHECK(now_ms() - t0 < 3000);
	CHECK_STR(res.out.ptr, "done\n");
	CHECK(!marker_running(marker));
	hh_exec_result_release(&res);
	hh_remote_close(r);
}

TEST(remote_local_files)
{
	hh_remote *r = open_local("/tmp");
	char *dir = NULL, *p1, *p2, *link;
	hh_buf b = HH_BUF_INIT;
	enum hh_file_kind k;
	size_t size, n;
	hh_remote_entry *e;
	struct stat st;

	REQUIRE(r);
	REQUIRE(hh_remote_mkdtemp(r, NULL, &dir) == 0);
	CHECK(!strncmp(dir, "/tmp/", 5));
	CHECK(stat(dir, &st) == 0 && (st.st_mode & 0777) == 0700);
	p1 = hh_asprintf("%s/a/b/c.txt", dir);
	p2 = hh_asprintf("%s/top", dir);
	link = hh_asprintf("%s/a/link", dir);
	CHECK(hh_remote_write_file(r, p1, "hello", 5, 0640) == 0);
	CHECK(stat(p1, &st) == 0 && (st.st_mode & 0777) == 0640);
	CHECK(hh_remote_write_file(r, p2, "", 0, 0755) == 0);
	CHECK(hh_remote_read_file(r, p1, 100, &b) == 0);
	CHECK_STR(b.ptr, "hello");
	hh_buf_release(&b);
	CHECK(hh_remote_read_file(r, p1, 4, &b) == -1);
	CHECK(strstr(hh_error_last(), "larger") != NULL);
	hh_buf_release(&b);
	CHECK(hh_remote_stat(r, p1, &k, &size) == 0 && k == HH_FILE_REGULAR && size == 5);
	CHECK(symlink("/etc/passwd", link) == 0);
	CHECK(hh_remote_stat(r, link, &k, NULL) == 0 && k == HH_FILE_SYMLINK);
	CHECK(hh_remote_read_file(r, link, 100000, &b) == -1);
	CHECK(strstr(hh_error_last(), "symlink") != NULL);
	hh_buf_release(&b);
	CHECK(hh_remote_write_file(r, link, "x", 1, 0644) == -1);
	CHECK(hh_remote_stat(r, "/etc/passwd", &k, &size) == 0 && k == HH_FILE_REGULAR && size > 1);
	CHECK(hh_remote_stat(r, dir, &k, NULL) == 0 && k == HH_FILE_DIR);
	CHECK(hh_remote_stat(r, "/nonexistent-hh/x", &k, NULL) == 0 && k == HH_FILE_MISSING);
	CHECK(hh_remote_read_file(r, "relative", 10, &b) == -1);

	REQUIRE(hh_remote_list_tree(r, dir, &e, &n) == 0);
	REQUIRE(n == 5);
	CHECK_STR(e[0].path, "a");
	CHECK(e[0].kind == HH_FILE_DIR);
	CHECK_STR(e[1].path, "a/b");
	CHECK_STR(e[2].path, "a/b/c.txt");
	CHECK(e[2].kind == HH_FILE_REGULAR && e[2].size == 5);
	CHECK_STR(e[3].path, "a/link");
	CHECK(e[3].kind == HH_FILE_SYMLINK);
	CHECK_STR(e[4].path, "top");
	hh_remote_entries_free(e, n);

	/* rmtree does not follow a symlink to a directory outside */
	{
		char *outside = NULL, *keep, *dlink;

		REQUIRE(hh_remote_mkdtemp(r, "/tmp", &outside) == 0);
		keep = hh_asprintf("%s/keep", outside);
		dlink = hh_asprintf("%s/a/dirlink", dir);
		CHECK(hh_remote_write_file(r, keep, "k", 1, 0600) == 0);
		CHECK(symlink(outside, dlink) == 0);
		CHECK(hh_remote_rmtree(r, dir) == 0);
		CHECK(access(dir, F_OK) != 0);
		CHECK(access(keep, F_OK) == 0);
		CHECK(hh_remote_rmtree(r, outside) == 0);
		CHECK(access(outside, F_OK) != 0);
		free(keep);
		free(dlink);
		free(outside);
	}
	free(p1);
	free(p2);
	free(link);
	free(dir);
	hh_remote_close(r);
}

TEST(remote_local_stream_cat)
{
	hh_remote *r = open_local("/tmp");
	const char *argv[] = {"cat", NULL};
	const char *argv2[] = {"sh", "-c", "echo warn >&2; read x; echo \"got $x\"; exit 4", NULL};
	hh_stream *s;
	hh_buf got = HH_BUF_INIT;
	char buf[4096];
	ssize_t n;
	size_t i;

	REQUIRE(r);
	REQUIRE(hh_remote_stream_open(r, argv, 10000, &s) == 0);
	for (i = 0; i < 100; i++)
		CHECK(hh_stream_write(s, "0123456789abcdef0123456789abcdef", 32) == 0);
	CHECK(hh_stream_send_eof(s) == 0);
	while ((n = hh_stream_read(s, buf, sizeof(buf))) > 0)
		hh_buf_put(&got, buf, (size_t)n);
	CHECK(n == 0);
	CHECK(got.len == 3200);
	CHECK(hh_stream_close(s) == 0);
	hh_buf_release(&got);

	REQUIRE(hh_remote_stream_open(r, argv2, 10000, &s) == 0);
	CHECK(hh_stream_write(s, "x y\n", 4) == 0);
	while ((n = hh_stream_read(s, buf, sizeof(buf))) > 0)
		hh_buf_put(&got, buf, (size_t)n);
	CHECK_STR(got.ptr, "got x y\n");
	CHECK(hh_stream_close(s) == 4);
	hh_buf_release(&got);

	/* a stream past its deadline fails and its command is killed */
	{
		const char *slow[] = {"sleep", "30", NULL};
		int64_t t0 = now_ms();

		REQUIRE(hh_remote_stream_open(r, slow, 300, &s) == 0);
		CHECK(hh_stream_read(s, buf, sizeof(buf)) == -1);
		CHECK(strstr(hh_error_last(), "timed out") != NULL);
		CHECK(hh_stream_close(s) == -1);
		CHECK(now_ms() - t0 < 3000);
	}
	hh_remote_close(r);
}
