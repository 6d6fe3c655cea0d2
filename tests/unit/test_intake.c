/*
 * Unit tests for webhook/intake.c: the HTTP status follows the failure's code (error.h), not
 * its wording: HH_EMEDIATYPE is 415, HH_EBADINPUT 400, a store that is HH_EBUSY (locked, full,
 * not a database) 503 with Retry-After.
 */
#include "tests/unit/t.h"
#include "tests/unit/store_tmp.h"
#include "internal/config.h"
#include "internal/log.h"
#include "internal/store.h"
#include "webhook/intake.h"

#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

static hh_config *intake_cfg(void)
{
	char *env[] = {NULL};
	hh_config *cfg = NULL;

	return hh_config_load(&cfg, NULL, env) == 0 ? cfg : NULL;
}

/* Runs one unsigned delivery (in.verify = 0) of event type event with Content-Type ct
 * (NULL: none) through intake into st (may be NULL). */
static int run(hh_store *st, const char *event, const char *ct, const char *body, size_t len,
	       hh_intake_result *res)
{
	hh_config *cfg = intake_cfg();
	hh_headers h = {0};
	hh_intake in = {0};
	int rc = -1;

	if (!cfg || hh_headers_add(&h, "X-Gitea-Event-Type", event) < 0 ||
	    hh_headers_add(&h, "X-Gitea-Delivery", "d-1") < 0 ||
	    (ct && hh_headers_add(&h, "Content-Type", ct) < 0)) {
		memset(res, 0, sizeof(*res));
		goto out;
	}
	in.cfg = cfg;
	in.store = st;
	in.now = 1767225600;
	rc = hh_intake_process(&in, &h, body, len, res);
out:
	hh_headers_release(&h);
	hh_config_free(cfg);
	return rc;
}

static const char review[] = "{\"repository\":{\"full_name\":\"o/r\"},\"review\":{\"content\":"
			     "\"a.c:1: x\"},\"pull_request\":{\"number\":3}}";

TEST(intake_unsupported_content_type_is_415)
{
	hh_intake_result res;

	CHECK(run(NULL, "pull_request_review_rejected", "text/plain", review, strlen(review),
		  &res) == 0);
	CHECK(res.status == 415);
	CHECK(hh_error_code() == HH_EMEDIATYPE);
	hh_intake_result_release(&res);
	/* A parameter does not change the media type; a longer name is another type. */
	CHECK(run(NULL, "pull_request_review_rejected", "application/json; charset=utf-8", review,
		  strlen(review), &res) == 0);
	CHECK(res.status == 202);
	hh_intake_result_release(&res);
	CHECK(run(NULL, "pull_request_review_rejected", "application/jsonx", review, strlen(review),
		  &res) == 0);
	CHECK(res.status == 415);
	hh_intake_result_release(&res);
}

TEST(intake_malformed_bodies_are_400)
{
	hh_intake_result res;

	CHECK(run(NULL, "pull_request_review_rejected", "application/json", "{\"a\":", 5, &res) ==
	      0);
	CHECK(res.status == 400);
	CHECK(hh_error_code() == HH_EBADINPUT);
	hh_intake_result_release(&res);
	CHECK(run(NULL, "pull_request_review_rejected", "application/x-www-form-urlencoded",
		  "payload=%zz", 11, &res) == 0);
	CHECK(res.status == 400);
	CHECK(hh_error_code() == HH_EBADINPUT);
	hh_intake_result_release(&res);
}

/* A healhook.db that is no SQLite database: the open fails with HH_EBUSY and names the file. */
TEST(store_open_not_a_database_is_busy)
{
	struct tmp t;
	hh_store *st = NULL;
	char path[160];
	FILE *f;

	REQUIRE(tmp_make(&t) == 0);
	REQUIRE(hh_store_open(&st, t.dir) == 0);
	hh_store_close(st);
	snprintf(path, sizeof(path), "%s/healhook.db", t.dir);
	REQUIRE((f = fopen(path, "w")) != NULL);
	for (int i = 0; i < 512; i++)
		fputs("this is not a database ", f);
	fclose(f);
	CHECK(hh_store_open(&st, t.dir) == HH_EBUSY);
	CHECK(st == NULL);
	CHECK(hh_error_code() == HH_EBUSY);
	CHECK(strstr(hh_error_last(), path) != NULL);
	if (!strstr(hh_error_last(), path))
		fprintf(stderr, "      error: %s\n", hh_error_last());
	tmp_remove(&t);
}

/* The database locked by another connection past the busy timeout: HH_EBUSY, and intake
 * answers 503 with Retry-After (Gitea retries; nothing was acknowledged). */
TEST(intake_locked_store_is_503)
{
	struct tmp t;
	hh_store *st = NULL;
	hh_intake_result res;
	sqlite3 *db = NULL;
	char path[160];
	const char push[] = "{\"repository\":{\"full_name\":\"o/r\"}}";

	REQUIRE(tmp_make(&t) == 0);
	REQUIRE(hh_store_open(&st, t.dir) == 0);
	snprintf(path, sizeof(path), "%s/healhook.db", t.dir);
	REQUIRE(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK);
	REQUIRE(sqlite3_exec(db, "BEGIN EXCLUSIVE", NULL, NULL, NULL) == SQLITE_OK);
	CHECK(run(st, "push", "application/json", push, strlen(push), &res) == -1);
	CHECK(hh_error_code() == HH_EBUSY);
	CHECK(res.status == 503);
	CHECK(res.retry_after > 0);
	hh_intake_result_release(&res);
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(db);
	/* Unlocked, the same delivery is taken. */
	CHECK(run(st, "push", "application/json", push, strlen(push), &res) == 0);
	CHECK(res.status == 202);
	hh_intake_result_release(&res);
	hh_store_close(st);
	tmp_remove(&t);
}

/* A full disk (a write past RLIMIT_FSIZE) inside the shared group-commit write: the code
 * survives the hand-over between threads and intake answers 503. */
TEST(intake_disk_full_is_503)
{
	struct tmp t;
	hh_store *st = NULL;
	hh_intake_result res;
	struct rlimit old, lim;
	size_t len = 4 << 20;
	char *body = malloc(len);
	int rc;

	REQUIRE(body != NULL);
	memset(body, ' ', len);
	memcpy(body, "{}", 2);
	REQUIRE(tmp_make(&t) == 0);
	REQUIRE(hh_store_open(&st, t.dir) == 0);
	getrlimit(RLIMIT_FSIZE, &old);
	lim = old;
	lim.rlim_cur = (2 << 20) + 7;
	signal(SIGXFSZ, SIG_IGN);
	setrlimit(RLIMIT_FSIZE, &lim);
	rc = run(st, "push", "application/json", body, len, &res);
	setrlimit(RLIMIT_FSIZE, &old);
	signal(SIGXFSZ, SIG_DFL);
	CHECK(rc == -1);
	CHECK(res.status == 503);
	CHECK(hh_error_code() == HH_EBUSY);
	CHECK(hh_store_delivery_count(st) == 0);
	hh_intake_result_release(&res);
	hh_store_close(st);
	free(body);
	tmp_remove(&t);
}
