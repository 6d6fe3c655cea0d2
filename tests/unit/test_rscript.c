/*
 * Unit tests for internal/rscript.c: steps merged into one `sh -c` run take their values as
 * positional arguments (never as script text), each step finds its own at "$1", and a failing
 * step is named by the exit status.
 */
#include "tests/unit/t.h"
#include "internal/buf.h"
#include "internal/rscript.h"

#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* Runs argv, returns its exit status and its stdout in out. */
static int run(const hh_strv *av, hh_buf *out)
{
	posix_spawn_file_actions_t fa;
	int p[2], status = -1;
	pid_t pid;
	char buf[4096];
	ssize_t n;

	if (pipe(p) < 0)
		return -1;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	posix_spawn_file_actions_addclose(&fa, p[0]);
	if (posix_spawnp(&pid, "sh", &fa, NULL, av->v, environ) != 0)
		pid = -1;
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	while ((n = read(p[0], buf, sizeof(buf))) > 0)
		hh_buf_put(out, buf, (size_t)n);
	close(p[0]);
	if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status))
		return WEXITSTATUS(status);
	return -1;
}

static const char step_echo2[] = "printf '[%s][%s]' \"$1\" \"$2\"";
static const char step_echo1[] = "printf '<%s>' \"$1\"";
static const char step_fail_if[] = "[ \"$1\" = ok ] || hh_fail";
static const char step_rest[] = "printf '{%s}' \"$@\"";
static const char step_reject_if[] = "[ \"$1\" = ok ] || hh_reject";

/* Hostile values stay data: quotes, $(...), backquotes, newlines, a leading dash. */
TEST(rscript_values_are_argv)
{
	const char *a[] = {"it's $(touch /tmp/hh-rscript-pwned) `id`", "-n\nx", NULL};
	const char *b[] = {"; exit 7", NULL};
	hh_rscript s = {0};
	hh_strv av = {0};
	hh_buf out = HH_BUF_INIT;

	REQUIRE(hh_rscript_step(&s, "two", step_echo2, 2, a) == 1);
	REQUIRE(hh_rscript_step(&s, "one", step_echo1, 1, b) == 2);
	REQUIRE(hh_rscript_argv(&s, &av) == 0);
	REQUIRE(av.n == 7);
	CHECK_STR(av.v[0], "sh");
	CHECK_STR(av.v[1], "-c");
	CHECK(strstr(av.v[2], "pwned") == NULL); /* no value in the script text */
	CHECK_STR(av.v[4], a[0]);
	CHECK(run(&av, &out) == 0);
	CHECK_STR(out.ptr, "[it's $(touch /tmp/hh-rscript-pwned) `id`][-n\nx]<; exit 7>");
	CHECK(access("/tmp/hh-rscript-pwned", F_OK) != 0);
	hh_buf_release(&out);
	hh_strv_release(&av);
	hh_rscript_release(&s);
}

/* The failing step is named by the status; steps after it do not run. */
/* hh_reject: a status of its own, never taken for a failed step. */
TEST(rscript_rejected_step)
{
	const char *ok[] = {"ok", NULL}, *no[] = {"no", NULL};
	hh_rscript s = {0};
	hh_strv av = {0};
	hh_buf out = HH_BUF_INIT;
	int st;

	hh_rscript_step(&s, "first", step_reject_if, 1, ok);
	hh_rscript_step(&s, "second", step_fail_if, 1, ok);
	hh_rscript_step(&s, "third", step_reject_if, 1, no);
	hh_rscript_step(&s, "fourth", step_echo1, 1, ok);
	REQUIRE(hh_rscript_argv(&s, &av) == 0);
	st = run(&av, &out);
	CHECK(st == HH_RSCRIPT_REJECT_BASE + 3);
	CHECK(hh_rscript_rejected_step(&s, st) == 3);
	CHECK(hh_rscript_failed_step(&s, st) == 0);
	CHECK(hh_rscript_rejected_step(&s, HH_RSCRIPT_FAIL_BASE + 3) == 0);
	CHECK(out.len == 0);
	hh_buf_release(&out);
	hh_strv_release(&av);
	hh_rscript_release(&s);
}

TEST(rscript_failed_step)
{
	const char *ok[] = {"ok", NULL}, *no[] = {"no", NULL}, *x[] = {"after", NULL};
	hh_rscript s = {0};
	hh_strv av = {0};
	hh_buf out = HH_BUF_INIT;
	int st;

	hh_rscript_step(&s, "first", step_fail_if, 1, ok);
	hh_rscript_step(&s, "second", step_fail_if, 1, no);
	hh_rscript_step(&s, "third", step_echo1, 1, x);
	REQUIRE(hh_rscript_argv(&s, &av) == 0);
	st = run(&av, &out);
	CHECK(st == HH_RSCRIPT_FAIL_BASE + 2);
	CHECK(hh_rscript_failed_step(&s, st) == 2);
	CHECK_STR(hh_rscript_step_name(&s, 2), "second");
	CHECK(hh_rscript_failed_step(&s, 1) == 0);
	CHECK(hh_rscript_failed_step(&s, HH_RSCRIPT_FAIL_BASE + 9) == 0);
	CHECK(out.len == 0);
	hh_buf_release(&out);
	hh_strv_release(&av);
	hh_rscript_release(&s);
}

/* A REST step takes every argument left; append renumbers and keeps the arguments. */
TEST(rscript_rest_and_append)
{
	const char *a[] = {"x", NULL}, *rest[] = {"p q", "r", "", NULL};
	hh_rscript pre = {0}, s = {0};
	hh_strv av = {0};
	hh_buf out = HH_BUF_INIT;

	hh_rscript_step(&pre, "one", step_echo1, 1, a);
	REQUIRE(hh_rscript_append(&s, &pre) == 0);
	REQUIRE(hh_rscript_step(&s, "rest", step_rest, HH_RSCRIPT_REST, rest) == 2);
	REQUIRE(hh_rscript_argv(&s, &av) == 0);
	CHECK(run(&av, &out) == 0);
	CHECK_STR(out.ptr, "<x>{p q}{r}{}");
	hh_buf_release(&out);
	hh_strv_release(&av);
	hh_rscript_release(&pre);
	hh_rscript_release(&s);
}
