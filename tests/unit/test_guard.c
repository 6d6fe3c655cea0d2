/*
 * Guardrail decisions: a table of paths against the default allowlist, and the verdict order.
 */
#include "tests/unit/t.h"
#include "internal/config.h"
#include "internal/guard.h"

#include <stdlib.h>

static void repo_init(hh_repo_config *r, const char *pattern, const char *reviewer)
{
	memset(r, 0, sizeof(*r));
	r->name = "acme/shop-api";
	hh_strv_push(&r->allow, pattern);
	r->allow_re = calloc(1, sizeof(regex_t));
	regcomp(r->allow_re, pattern, REG_EXTENDED | REG_NOSUB);
	if (reviewer)
		hh_strv_push(&r->reviewers, reviewer);
}

static void repo_release(hh_repo_config *r)
{
	regfree(r->allow_re);
	free(r->allow_re);
	hh_strv_release(&r->allow);
	hh_strv_release(&r->reviewers);
}

TEST(guard_path_table)
{
	static const struct {
		const char *path;
		int ok;
	} rows[] = {
		{"services/order_service.py", 1},
		{"routes/api.py", 1},
		{"database/models.py", 1},
		{"services/billing/late_fee.py", 1},
		{"services/a/b/c.py", 1},
		{"tests/test_orders.py", 0},
		{"services/order_service.js", 0},
		{"services/../etc/passwd", 0},
		{"../services/x.py", 0},
		{"services/./x.py", 0},
		{"/services/x.py", 0},
		{"/etc/passwd", 0},
		{"services//x.py", 0},
		{"services/x.py/", 0},
		{"services/-rf.py", 0},
		{"services/x\n.py", 0},
		{"services/x\\y.py", 0},
		{"services/x y.py", 0},
		{"services/x;rm.py", 0},
		{"services/$(id).py", 0},
		{"", 0},
		{"services", 0},
		{"Services/x.py", 0},
		{"services/x.pyc", 0},
		{"xservices/x.py", 0},
	};
	hh_repo_config r;
	size_t i;

	repo_init(&r, HH_DEFAULT_ALLOW, "bob");
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *v = hh_guard_path(&r, rows[i].path);
		if ((v == NULL) != rows[i].ok) {
			fprintf(stderr, "    path '%s': got %s\n", rows[i].path, v ? v : "allowed");
			CHECK(0);
		}
	}
	CHECK(hh_guard_path(NULL, "services/x.py") != NULL);
	repo_release(&r);
}

TEST(guard_path_rules_beat_a_permissive_allowlist)
{
	hh_repo_config r;

	repo_init(&r, ".*", "bob");
	CHECK(hh_guard_path(&r, "anything/at/all.txt") == NULL);
	CHECK(hh_guard_path(&r, "a/../b") != NULL);
	CHECK(hh_guard_path(&r, "/abs") != NULL);
	CHECK(hh_guard_path(&r, "-x") != NULL);
	CHECK(hh_guard_path(&r, "a\x01") != NULL);
	repo_release(&r);
}

TEST(guard_verdict_order)
{
	hh_repo_config r;
	const char *ok = "services/x.py", *bad = "tests/x.py";

	repo_init(&r, HH_DEFAULT_ALLOW, "bob");
	CHECK_STR(hh_guard_verdict(NULL, "bot", "bob", ok, 0, 0, 0), HH_REASON_REPO);
	CHECK_STR(hh_guard_verdict(&r, "bot", "BOT", ok, 0, 0, 0), HH_REASON_OWN);
	CHECK_STR(hh_guard_verdict(&r, "bot", "mallory", ok, 0, 0, 0), HH_REASON_REVIEWER);
	CHECK_STR(hh_guard_verdict(&r, "bot", NULL, ok, 0, 0, 0), HH_REASON_REVIEWER);
	CHECK_STR(hh_guard_verdict(&r, "bot", "bob", bad, 1, 1, 1), HH_REASON_PATH);
	CHECK_STR(hh_guard_verdict(&r, "bot", "bob", ok, 1, 1, 1), HH_REASON_FROZEN);
	CHECK_STR(hh_guard_verdict(&r, "bot", "bob", ok, 0, 1, 1), HH_REASON_QUARANTINED);
	CHECK_STR(hh_guard_verdict(&r, "bot", "bob", ok, 0, 0, 1), HH_REASON_DUPLICATE);
	CHECK(hh_guard_verdict(&r, "bot", "Bob", ok, 0, 0, 0) == NULL);
	CHECK(hh_guard_verdict(&r, NULL, "bob", ok, 0, 0, 0) == NULL);
	CHECK(hh_guard_sender_ok(&r, "bot", "bob"));
	CHECK(!hh_guard_sender_ok(&r, "bob", "bob"));
	repo_release(&r);
}
