/*
 * The ci-wait verdict (internal/ci.c) over a table of commit statuses, and the ci-contexts key
 * from the file and from HEALHOOK_CI_CONTEXTS.
 */
#include "tests/unit/t.h"
#include "internal/ci.h"
#include "internal/config.h"
#include "internal/log.h"

#include <stdlib.h>
#include <unistd.h>

/* st from "ctx=state" pairs, then judged against the comma-separated required list (or NULL). */
static enum hh_ci_verdict judge(const char *const *pairs, const char *required, hh_buf *why)
{
	hh_ci_statuses st = { 0 };
	hh_strv req = { 0 };
	enum hh_ci_verdict v;
	const char *p;

	for (; *pairs; pairs++) {
		char *ctx = hh_strdup(*pairs), *eq = strrchr(ctx, '=');

		*eq = '\0';
		hh_ci_statuses_add(&st, ctx, eq + 1);
		free(ctx);
	}
	for (p = required; p && *p;) {
		const char *comma = strchr(p, ',');
		char *item = hh_strndup(p, comma ? (size_t)(comma - p) : strlen(p));

		hh_strv_push(&req, item);
		free(item);
		p = comma ? comma + 1 : "";
	}
	v = hh_ci_judge(&st, &req, why);
	hh_ci_statuses_release(&st);
	hh_strv_release(&req);
	return v;
}

TEST(ci_verdict_table)
{
	static const struct {
		const char *pairs[5];
		const char *required;
		enum hh_ci_verdict want;
		const char *why;
	} rows[] = {
		/* healhook's own pending status never holds the verdict back (issue 16) */
		{ { "healhook=pending", "ci/build=success" },
		  NULL,
		  HH_CI_PASSED,
		  "'ci/build' success" },
		{ { "ci/build=success", "healhook=pending" },
		  NULL,
		  HH_CI_PASSED,
		  "'ci/build' success" },
		{ { "healhook=success" },
		  NULL,
		  HH_CI_WAITING,
		  "every context but healhook's, none reported" },
		{ { "healhook=pending" },
		  NULL,
		  HH_CI_WAITING,
		  "every context but healhook's, none reported" },
		{ { NULL }, NULL, HH_CI_WAITING, "every context but healhook's, none reported" },
		{ { "ci/build=pending", "healhook=pending" },
		  NULL,
		  HH_CI_WAITING,
		  "'ci/build' pending" },
		{ { "a=success", "b=pending" }, NULL, HH_CI_WAITING, "'a' success, 'b' pending" },
		{ { "a=success", "b=failure" }, NULL, HH_CI_FAILED, "'b' failure" },
		{ { "a=error", "b=pending" }, NULL, HH_CI_FAILED, "'a' error" },
		{ { "a=warning", "b=success" }, NULL, HH_CI_FAILED, "'a' warning" },
		{ { "a=skipped", "b=success" }, NULL, HH_CI_PASSED, "'a' skipped, 'b' success" },
		{ { "a=running_with_failure" }, NULL, HH_CI_WAITING, "'a' running_with_failure" },
		{ { "a=failure", "b=error", "healhook=failure" },
		  NULL,
		  HH_CI_FAILED,
		  "'a' failure, 'b' error" },
		/* ci-contexts: only those count, each must be there */
		{ { "lint=failure", "build=success" }, "build", HH_CI_PASSED, "'build' success" },
		{ { "build=success" },
		  "build,test",
		  HH_CI_WAITING,
		  "'build' success, 'test' not reported" },
		{ { NULL },
		  "build,test",
		  HH_CI_WAITING,
		  "'build' not reported, 'test' not reported" },
		{ { "build=success", "test=failure" },
		  "build,test",
		  HH_CI_FAILED,
		  "'test' failure" },
		{ { "build=success", "healhook=pending" },
		  "build,healhook",
		  HH_CI_PASSED,
		  "'build' success" },
		{ { "CI / build (pull_request)=success" },
		  "CI / build (pull_request)",
		  HH_CI_PASSED,
		  "'CI / build (pull_request)' success" },
		{ { "Build=success" }, "build", HH_CI_WAITING, "'build' not reported" },
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		hh_buf why = HH_BUF_INIT;
		enum hh_ci_verdict v = judge(rows[i].pairs, rows[i].required, &why);

		if (v != rows[i].want || !why.ptr || strcmp(why.ptr, rows[i].why) != 0) {
			fprintf(stderr, "      row %zu: verdict %d want %d, why '%s' want '%s'\n",
				i, (int)v, (int)rows[i].want, why.ptr ? why.ptr : "", rows[i].why);
			CHECK(0);
		}
		hh_buf_release(&why);
	}
}

TEST(ci_statuses_first_state_wins_and_names_are_cut)
{
	hh_ci_statuses st = { 0 };
	hh_buf why = HH_BUF_INIT;
	char name[200];
	int i;

	/* Gitea lists the newest first: a second entry for a context is older. */
	CHECK(hh_ci_statuses_add(&st, "ci", "failure") == 0);
	CHECK(hh_ci_statuses_add(&st, "ci", "success") == 0);
	CHECK(st.context.n == 1);
	CHECK(hh_ci_judge(&st, NULL, &why) == HH_CI_FAILED);
	CHECK_STR(why.ptr, "'ci' failure");
	hh_ci_statuses_release(&st);

	/* 100 bytes of 'x' then a newline: cut to 80, control characters shown as '?' */
	memset(name, 'x', 100);
	name[3] = '\n';
	name[100] = '\0';
	CHECK(hh_ci_statuses_add(&st, name, "pending") == 0);
	CHECK(hh_ci_judge(&st, NULL, &why) == HH_CI_WAITING);
	CHECK(why.ptr && strncmp(why.ptr, "'xxx?xxx", 8) == 0 && strstr(why.ptr, "x...' pending"));
	CHECK(why.len == 1 + 80 + 4 + 8);
	hh_ci_statuses_release(&st);

	/* a UTF-8 name is cut on a character boundary */
	for (i = 0; i < 40; i++)
		memcpy(name + 3 * i, "\xe7\xb5\x84", 3); /* 120 bytes */
	name[120] = '\0';
	CHECK(hh_ci_statuses_add(&st, name, "success") == 0);
	CHECK(hh_ci_judge(&st, NULL, &why) == HH_CI_PASSED);
	CHECK(why.len == 1 + 78 + 4 + 8);
	hh_ci_statuses_release(&st);

	/* at most 10 named, and at most HH_CI_MAX_CONTEXTS kept */
	for (i = 0; i < HH_CI_MAX_CONTEXTS + 5; i++) {
		snprintf(name, sizeof(name), "c%d", i);
		CHECK(hh_ci_statuses_add(&st, name, "pending") == 0);
	}
	CHECK(st.context.n == HH_CI_MAX_CONTEXTS && st.state.n == HH_CI_MAX_CONTEXTS);
	CHECK(hh_ci_judge(&st, NULL, &why) == HH_CI_WAITING);
	CHECK(why.ptr && strstr(why.ptr, "'c9' pending and 990 more") && !strstr(why.ptr, "c10'"));
	hh_ci_statuses_release(&st);
	hh_buf_release(&why);
}

TEST(ci_contexts_from_file_and_env)
{
	char path[] = "/tmp/hh-ci-conf-XXXXXX";
	const char *text =
		"[repo \"acme/shop\"]\n\tci-wait = true\n"
		"\tci-contexts = CI / build (pull_request)\n\tci-contexts = lint, test\n";
	char *no_env[] = { NULL };
	char *env[] = { "HEALHOOK_CI_CONTEXTS=deploy/preview", NULL };
	hh_config *cfg = NULL;
	const hh_repo_config *r;
	int fd = mkstemp(path);

	REQUIRE(fd >= 0);
	REQUIRE(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
	if (hh_config_load(&cfg, path, no_env) < 0)
		fprintf(stderr, "      %s\n", hh_error_last());
	REQUIRE(cfg);
	r = hh_config_repo(cfg, "acme/shop");
	REQUIRE(r && r->ci_wait == 1 && r->ci_contexts.n == 3);
	CHECK_STR(r->ci_contexts.v[0], "CI / build (pull_request)");
	CHECK_STR(r->ci_contexts.v[2], "test");
	hh_config_free(cfg);
	cfg = NULL;
	/* the environment's list replaces the file's */
	if (hh_config_load(&cfg, path, env) < 0)
		fprintf(stderr, "      %s\n", hh_error_last());
	unlink(path);
	REQUIRE(cfg);
	r = hh_config_repo(cfg, "acme/shop");
	REQUIRE(r && r->ci_contexts.n == 1);
	CHECK_STR(r->ci_contexts.v[0], "deploy/preview");
	hh_config_free(cfg);
}
