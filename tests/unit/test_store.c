/*
 * Unit tests for internal/store.c: each test opens a fresh store in a mkdtemp directory and
 * removes it afterwards.
 */
#include "tests/unit/t.h"
#include "internal/buf.h"
#include "internal/log.h"
#include "internal/store.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/unit/store_tmp.h"

static hh_job job_new(const char *repo, const char *file, long long created)
{
	hh_job j;

	memset(&j, 0, sizeof(j));
	j.repo = (char *)repo;
	j.branch = (char *)"main";
	j.file = (char *)file;
	j.type = (char *)"Bug";
	j.message = (char *)"fix it";
	j.state = HH_JOB_QUEUED;
	j.created = created;
	return j;
}

static long long add_job(hh_store *st, const char *repo, const char *file, long long created)
{
	hh_job j = job_new(repo, file, created);

	if (hh_store_job_insert(st, &j) < 0)
		return -1;
	return j.id;
}

static int set_state(hh_store *st, long long id, enum hh_job_state s)
{
	hh_job j;
	int rc;

	if (hh_store_job_get(st, id, &j) < 0)
		return -1;
	j.state = s;
	rc = hh_store_job_update(st, &j);
	hh_job_release(&j);
	return rc;
}

TEST(store_open_creates_dir)
{
	struct tmp t;
	struct stat sb;
	hh_store *st = NULL;
	char bad[160];

	REQUIRE(tmp_make(&t) == 0);
	CHECK(hh_store_open(&st, t.dir) == 0);
	REQUIRE(st != NULL);
	CHECK(stat(t.dir, &sb) == 0 && S_ISDIR(sb.st_mode) && (sb.st_mode & 0777) == 0700);
	CHECK(hh_store_delivery_count(st) == 0);
	snprintf(bad, sizeof(bad), "%s/healhook.db-wal", t.dir);
	CHECK(access(bad, F_OK) == 0); /* WAL mode */
	hh_store_close(st);
	/* Reopening an existing store works; a missing parent is an error naming the path. */
	CHECK(hh_store_open(&st, t.dir) == 0);
	hh_store_close(st);
	snprintf(bad, sizeof(bad), "%s/missing/state", t.root);
	st = (hh_store *)1;
	CHECK(hh_store_open(&st, bad) == -1);
	CHECK(st == NULL);
	CHECK(strstr(hh_error_last(), bad) != NULL);
	hh_store_close(NULL);
	tmp_remove(&t);
}

TEST(store_deliveries_known)
{
	struct tmp t;
	hh_store *st;
	hh_delivery_rec d = {.id = "d-1", .body_sha256 = "aaaa", .event = "pull_request_review",
			     .repo = "o/r", .verdict = "accepted", .lookup = "none",
			     .received = 100, .headers = "X: 1\n", .body = "{}", .body_len = 2};

	REQUIRE(tmp_make(&t) == 0);
	REQUIRE(hh_store_open(&st, t.dir) == 0);
	CHECK(hh_store_delivery_known(st, "d-1", "aaaa") == 0);
	CHECK(hh_store_delivery_insert(st, &d) == 0);
	CHECK(hh_store_delivery_known(st, "d-1", "zzzz") == 1);  /* by id */
	CHECK(hh_store_delivery_known(st, "d-2", "aaaa") == 1);  /* replay: new id, same body */
	CHECK(hh_store_delivery_known(st, NULL, "aaaa") == 1);
	CHECK(hh_store_delivery_known(st, "d-2", "bbbb") == 0);
	/* Without an id the body hash is the key; duplicates are kept as records. */
	d.id = NULL;
	d.body_sha256 = "cccc";
	CHECK(hh_store_delivery_insert(st, &d) == 0);
	CHECK(hh_store_delivery_known(st, "cccc", NULL) == 1);
	d.verdict = "duplicate";
	CHECK(hh_store_delivery_insert(st, &d) == 0);
	CHECK(hh_store_delivery_count(st) == 3);
	d.body_sha256 = NULL;
	CHECK(hh_store_delivery_insert(st, &d) == -1);
	hh_store_close(st);
	tmp_remove(&t);
}

struct seen {
	hh_store *st;
	hh_buf ids;
	int calls, stop_after, mark_done, bodies_ok;
};

static int on_pending(void *ctx, const char *id, const char *event, const char *headers,
		      const void *body, size_t body_len)
{
	struct seen *s = ctx;

	s->calls++;
	hh_buf_printf(&s->ids, "%s,", id);
	if (event && strcmp(event, "issue_comment") == 0 && headers &&
	    strcmp(headers, "A: b\n") == 0 && body_len == 3 && memcmp(body, "x\0y", 3) == 0)
		s->bodies_ok++;
	if (s->mark_done)
		hh_store_delivery_set_lookup(s->st, id, "done");
	return s->stop_after && s->calls >= s->stop_after;
}

TEST(store_pending_lookups)
{
	struct tmp t;
	hh_store *st;
	struct seen s = {.ids = HH_BUF_INIT};
	hh_delivery_rec d = {.body_sha256 = "h", .event = "issue_comment", .verdict = "accepted",
			     .headers = "A: b\n", .body = "x\0y", .body_len = 3};
	const char *ids[] = {"p1", "n1", "p2", "p3"};
	const char *lookups[] = {"pending", "none", "pending", "pending"};
	int i;

	REQUIRE(tmp_make(&t) == 0);
	REQUIRE(hh_store_open(&st, t.dir) == 0);
	for (i = 0; i < 4; i++) {
		d.id = ids[i];
		d.lookup = lookups[i];
		d.received = 10 + i;
		CHECK(hh_store_delivery_insert(st, &d) == 0);
	}
	s.st = st;
	CHECK(hh_store_pending_lookups(st, on_pending, &s) == 0);
	CHECK_STR(s.ids.ptr, "p1,p2,p3,");
	CHECK(s.bodies_ok == 3);
	/* Stops when fn says so; fn may mark the delivery done while iterating. */
	hh_buf_clear(&s.ids);
	s.calls = 0;
	s.stop_after = 1;
	s.mark_done = 1;
	CHECK(hh_store_pending_lookups(st, on_pending, &s) == 0);
	CHECK_STR(s.ids.ptr, "p1,");
	CHECK(hh_store_delivery_set_lookup(st, "p3", "failed") == 0);
	CHECK(hh_store_delivery_set_lookup(st, "n1", "done") == 0); /* "none" stays "none" */
	hh_buf_clear(&s.ids);
	s.calls = 0;
	s.stop_after = 0;
	CHECK(hh_store_pending_lookups(st, on_pending, &s) == 0);
	CHECK_STR(s.ids.ptr, "p2,");
	hh_buf_clear(&s.ids);
	CHECK(hh_store_pending_lookups(st, on_pending, &s) == 0);
	CHECK(s.ids.len == 0);
	hh_buf_release(&s.ids);
	hh_store_close(st);
	tmp_remove(&t);
}

static int add_finding(hh_store *st, const char *fp, long long job_id)
{
	hh_finding_rec f = {.delivery_id = "d", .repo = "o/r", .branch = "main", .file = "a.py",
			    .line = 3, .type = "Bug", .message = "m", .source = "comment",
			    .sender = "bob", .verdict = job_id ? "accepted" : "rejected",
			    .reason = job_id ? NULL : "not a reviewer", .fingerprint = fp,
			    .job_id = job_id, .created = 1};

	return hh_store_finding_insert(st, &f);
}

TEST(store_fingerprint_active)
{
	struct tmp t;
	hh_store *st;
	long long now = (long long)time(NULL), a, b, c;
	hh_job old = job_new("o/r", "c.py", now - 7200);

	REQUIRE(tmp_make(&t) == 0);
	REQUIRE(hh_store_open(&st, t.dir) == 0);
	a = add_job(st, "o/r", "a.py", 0);
	b = add_job(st, "o/r", "b.py", 0);
	old.state = HH_JOB_HEALED;
	old.updated = now - 7000;
	CHECK(hh_store_job_insert(st, &old) == 0);
	c = old.id;
	REQUIRE(a > 0 && b > 0 && c > 0);
	CHECK(add_finding(st, "fa", a) == 0);
	CHECK(add_finding(st, "fb", b) == 0);
	CHECK(add_finding(st, "fc", c) == 0);
	CHECK(add_finding(st, "fr", 0) == 0); /* rejected: no job */
	CHECK(hh_store_fingerprint_active(st, "fa", now - 3600) == 1); /* queued */
	CHECK(hh_store_fingerprint_active(st, "fc", now - 3600) == 0); /* healed long ago */
	CHECK(hh_store_fingerprint_active(st, "fc", now - 8000) == 1);
	CHECK(hh_store_fingerprint_active(st, "fr", 0) == 0);
	CHECK(hh_store_fingerprint_active(st, "none", 0) == 0);
	CHECK(set_state(st, a, HH_JOB_PUSHED) == 0);
	CHECK(hh_store_fingerprint_active(st, "fa", now + 3600) == 1); /* pushed: not final */
	CHECK(set_state(st, a, HH_JOB_HEALED) == 0);
	CHECK(hh_store_fingerprint_active(st, "fa", now - 3600) == 1); /* healed recently */
	CHECK(hh_store_fingerprint_active(st, "fa", now + 3600) == 0);
	CHECK(set_state(st, b, HH_JOB_FAILED) == 0);
	CHECK(hh_store_fingerprint_active(st, "fb", 0) == 0); /* failed */
	hh_store_close(st);
	tmp_remove(&t);
}

TEST(store_quarantine_and_frozen)
{
	struct tmp t;
	hh_store *st;
	char *why = NULL;
	long long since = 0, j;

	REQUIRE(tmp_make(&t) == 0);
	REQUIRE(hh_store_open(&st, t.dir) == 0);
	j = add_job(st, "o/r", "a.py", 0);
	CHECK(hh_store_quarantined(st, "fp") == 0);
	CHECK(hh_store_quarantine_add(st, "fp", "o/r", "a.py", j, 5) == 0);
	CHECK(hh_store_quarantine_add(st, "fp", "o/r", "a.py", j, 6) == 0); /* idempotent */
	CHECK(hh_store_quarantine_add(st, "fp2", "o/r", "a.py", 0, 6) == 0);
	CHECK(hh_store_quarantined(st, "fp") == 1);
	CHECK(hh_store_quarantined(st, "other") == 0);
	CHECK(hh_store_repo_frozen(st, "o/r") == 0);
	CHECK(hh_store_repo_set_frozen(st, "o/r", 1, "revert failed") == 0);
	CHECK(hh_store_repo_frozen(st, "o/r") == 1);
	CHECK(hh_store_repo_frozen(st, "o/other") == 0);
	CHECK(hh_store_repo_frozen_info(st, "o/r", &why, &since) == 1);
	CHECK_STR(why, "revert failed");
	CHECK(since > 0);
	free(why);
	CHECK(hh_store_repo_set_frozen(st, "o/r", 0, NULL) == 0);
	CHECK(hh_store_repo_frozen_info(st, "o/r", &why, NULL) == 0);
	CHECK(why == NULL);
	hh_store_close(st);
	tmp_remove(&t);
}

TEST(store_job_roundtrip)
{
	struct tmp t;
	hh_store *st;
	hh_job j = job_new("o/r", "services/a.py", 1000), g, u;
	long long before = (long long)time(NULL);

	REQUIRE(tmp_make(&t) == 0);
	REQUIRE(hh_store_open(&st, t.dir) == 0);
	j.delivery_id = "dlv";
	j.pr_number = 7;
	j.pr_url = "http://127.0.0.1/o/r/pulls/7";
	j.sender = "bob";
	CHECK(hh_store_job_insert(st, &j) == 0);
	CHECK(j.id > 0 && j.updated == 1000);
	REQUIRE(hh_store_job_get(st, j.id, &g) == 0);
	CHECK_STR(g.repo, "o/r");
	CHECK_STR(g.file, "services/a.py");
	CHECK(g.state == HH_JOB_QUEUED && g.reason == NULL && g.commit_sha == NULL);
	/* Every field survives an update. */
	free(g.branch);
	g.branch = hh_strdup("feature");
	g.type = (free(g.type), hh_strdup("Style"));
	g.message = (free(g.message), hh_strdup("one\ntwo"));
	g.state = HH_JOB_REVERT_FAILED;
	g.reason = hh_strdup("conflict");
	g.attempts = 2;
	g.base_sha = hh_strdup("b1");
	g.commit_sha = hh_strdup("c1");
	g.revert_sha = hh_strdup("r1");
	g.diff_lines = 12;
	g.output_tail = hh_strdup("tail\x01");
	g.stages = hh_strdup("{\"fix\":1200}");
	g.pr_number = 8;
	CHECK(hh_store_job_update(st, &g) == 0);
	REQUIRE(hh_store_job_get(st, j.id, &u) == 0);
	CHECK(u.id == j.id);
	CHECK_STR(u.repo, "o/r");
	CHECK_STR(u.branch, "feature");
	CHECK_STR(u.file, "services/a.py");
	CHECK_STR(u.type, "Style");
	CHECK_STR(u.message, "one\ntwo");
	CHECK_STR(u.delivery_id, "dlv");
	CHECK(u.pr_number == 8);
	CHECK_STR(u.pr_url, "http://127.0.0.1/o/r/pulls/7");
	CHECK_STR(u.sender, "bob");
	CHECK(u.state == HH_JOB_REVERT_FAILED);
	CHECK_STR(u.reason, "conflict");
	CHECK(u.attempts == 2);
	CHECK_STR(u.base_sha, "b1");
	CHECK_STR(u.commit_sha, "c1");
	CHECK_STR(u.revert_sha, "r1");
	CHECK(u.diff_lines == 12);
	CHECK_STR(u.output_tail, "tail\x01");
	CHECK_STR(u.stages, "{\"fix\":1200}");
	CHECK(u.created == 1000);
	CHECK(u.updated >= before);
	hh_job_release(&u);
	CHECK(u.repo == NULL);
	hh_job_release(NULL);
	/* Missing jobs are errors that name the id. */
	g.id = 999;
	CHECK(hh_store_job_update(st, &g) == -1);
	CHECK(strstr(hh_error_last(), "999") != NULL);
	CHECK(hh_store_job_get(st, 999, &u) == -1);
	CHECK(strstr(hh_error_last(), "no job 999") != NULL);
	hh_job_release(&g);
	hh_store_close(st);
	tmp_remove(&t);
}

TEST(store_job_states)
{
	int i;

	for (i = 0; i < HH_JOB_STATE_COUNT; i++)
		CHECK(hh_job_state_parse(hh_job_state_name((enum hh_job_state)i)) == i);
	CHECK_STR(hh_job_state_name(HH_JOB_REVERT_FAILED), "revert-failed");
	CHECK(hh_job_state_parse("nope") == -1);
	CHECK(hh_job_state_final(HH_JOB_HEALED) && hh_job_state_final(HH_JOB_EXPIRED));
	CHECK(!hh_job_state_final(HH_JOB_PUSHED) && !hh_job_state_final(HH_JOB_WAITING));
}

static long long claim_id(hh_store *st, const char *const *skip, size_t nskip)
{
	hh_job j;
	long long id;
	int rc = hh_store_job_claim(st, skip, nskip, &j);

	if (rc <= 0)
		return rc;
	id = j.state == HH_JOB_FIXING ? j.id : -2;
	hh_job_release(&j);
	return id;
}

TEST(store_claim_rules)
{
	struct tmp t;
	hh_store *st;
	const char *skip[] = {"o/d"};
	long long a1, a2, b1, c1, d1;

	REQUIRE(tmp_make(&t) == 0);
	REQUIRE(hh_store_open(&st, t.dir) == 0);
	a2 = add_job(st, "o/a", "2.py", 20);
	a1 = add_job(st, "o/a", "1.py", 10); /* inserted later, but older */
	b1 = add_job(st, "o/b", "1.py", 30);
	c1 = add_job(st, "o/c", "1.py", 5);
	d1 = add_job(st, "o/d", "1.py", 1);
	CHECK(add_job(st, "o/e", "1.py", 2) > 0);
	CHECK(set_state(st, d1 + 1, HH_JOB_WAITING) == 0); /* waiting: never claimed */
	CHECK(hh_store_repo_set_frozen(st, "o/c", 1, "test") == 0);
	CHECK(claim_id(st, skip, 1) == a1); /* oldest; c frozen, d skipped */
	CHECK(claim_id(st, skip, 1) == b1); /* a has one in progress: another repo */
	CHECK(claim_id(st, skip, 1) == 0);
	CHECK(set_state(st, a1, HH_JOB_WATCHING) == 0);
	CHECK(claim_id(st, skip, 1) == 0); /* watching is in progress */
	CHECK(set_state(st, a1, HH_JOB_PUSHED) == 0); /* at rest in pushed: not in progress */
	CHECK(claim_id(st, skip, 1) == a2);
	CHECK(hh_store_repo_set_frozen(st, "o/c", 0, NULL) == 0);
	CHECK(claim_id(st, skip, 1) == c1);
	CHECK(claim_id(st, NULL, 0) == d1);
	CHECK(claim_id(st, NULL, 0) == 0);
	/* Inside the caller's transaction it joins it; a rollback undoes the claim. */
	CHECK(set_state(st, b1, HH_JOB_FAILED) == 0);
	CHECK(add_job(st, "o/b", "2.py", 40) > 0);
	CHECK(hh_store_begin(st) == 0);
	CHECK(claim_id(st, NULL, 0) > 0);
	hh_store_rollback(st);
	CHECK(claim_id(st, NULL, 0) > 0);
	hh_store_close(st);
	tmp_remove(&t);
}

static void count_cb(void *ctx, enum hh_job_state s, long long n)
{
	long long *c = ctx;

	c[s] = n;
}

TEST(store_counts_depth_fix_runs)
{
	struct tmp t;
	hh_store *st;
	long long c[HH_JOB_STATE_COUNT] = {0}, a, b;

	REQUIRE(tmp_make(&t) == 0);
	REQUIRE(hh_store_open(&st, t.dir) == 0);
	CHECK(hh_store_queue_depth(st) == 0);
	a = add_job(st, "o/a", "1.py", 1);
	b = add_job(st, "o/a", "2.py", 2);
	CHECK(add_job(st, "o/b", "1.py", 3) > 0);
	CHECK(set_state(st, a, HH_JOB_WAITING) == 0);
	CHECK(set_state(st, b, HH_JOB_HEALED) == 0);
	CHECK(hh_store_queue_depth(st) == 2);
	CHECK(hh_store_job_counts(st, count_cb, c) == 0);
	CHECK(c[HH_JOB_QUEUED] == 1 && c[HH_JOB_WAITING] == 1 && c[HH_JOB_HEALED] == 1);
	CHECK(c[HH_JOB_FAILED] == 0);
	CHECK(hh_store_fix_run_add(st, "o/a", a, 100) == 0);
	CHECK(hh_store_fix_run_add(st, "o/a", b, 200) == 0);
	CHECK(hh_store_fix_run_add(st, "o/a", 0, 300) == 0);
	CHECK(hh_store_fix_run_add(st, "o/b", 0, 300) == 0);
	CHECK(hh_store_fix_runs_since(st, "o/a", 200) == 2);
	CHECK(hh_store_fix_runs_since(st, "o/a", 0) == 3);
	CHECK(hh_store_fix_runs_since(st, "o/a", 301) == 0);
	CHECK(hh_store_fix_runs_since(st, "o/c", 0) == 0);
	hh_store_close(st);
	tmp_remove(&t);
}

TEST(store_jobs_recent_and_in_state)
{
	struct tmp t;
	hh_store *st;
	hh_job *v = NULL;
	size_t n = 0;
	int i;

	REQUIRE(tmp_make(&t) == 0);
	REQUIRE(hh_store_open(&st, t.dir) == 0);
	for (i = 0; i < 60; i++)
		CHECK(add_job(st, i % 2 ? "o/odd" : "o/even", "f.py", 100 + i) > 0);
	CHECK(hh_store_jobs_recent(st, NULL, 0, &v, &n) == 0);
	CHECK(n == 50); /* default limit */
	CHECK(n > 1 && v[0].created == 159 && v[1].created == 158);
	hh_store_jobs_free(v, n);
	CHECK(hh_store_jobs_recent(st, "o/odd", 3, &v, &n) == 0);
	REQUIRE(n == 3);
	CHECK(v[0].created == 159 && v[1].created == 157 && v[2].created == 155);
	CHECK_STR(v[2].repo, "o/odd");
	hh_store_jobs_free(v, n);
	CHECK(hh_store_jobs_recent(st, "o/none", 3, &v, &n) == 0);
	CHECK(n == 0);
	hh_store_jobs_free(v, n);
	CHECK(set_state(st, 5, HH_JOB_WATCHING) == 0);
	CHECK(set_state(st, 3, HH_JOB_WATCHING) == 0);
	CHECK(hh_store_jobs_in_state(st, HH_JOB_WATCHING, &v, &n) == 0);
	CHECK(n == 2 && v[0].id == 3 && v[1].id == 5);
	hh_store_jobs_free(v, n);
	hh_store_jobs_free(NULL, 0);
	hh_store_close(st);
	tmp_remove(&t);
}

TEST(store_durability_and_handles)
{
	struct tmp t;
	hh_store *a, *b;
	hh_job j;
	long long id;

	REQUIRE(tmp_make(&t) == 0);
	REQUIRE(hh_store_open(&a, t.dir) == 0);
	REQUIRE(hh_store_open(&b, t.dir) == 0);
	id = add_job(a, "o/r", "a.py", 0);
	CHECK(id > 0);
	CHECK(hh_store_job_get(b, id, &j) == 0); /* a second handle sees committed data */
	hh_job_release(&j);
	/* Uncommitted work is invisible to others, and a rollback discards it. */
	CHECK(hh_store_begin(a) == 0);
	CHECK(hh_store_repo_set_frozen(a, "o/r", 1, "x") == 0);
	CHECK(hh_store_repo_frozen(a, "o/r") == 1);
	CHECK(hh_store_repo_frozen(b, "o/r") == 0);
	hh_store_rollback(a);
	CHECK(hh_store_repo_frozen(a, "o/r") == 0);
	CHECK(hh_store_begin(a) == 0);
	CHECK(hh_store_fix_run_add(a, "o/r", id, 5) == 0);
	CHECK(hh_store_commit(a) == 0);
	CHECK(hh_store_fix_runs_since(b, "o/r", 0) == 1);
	CHECK(hh_store_commit(a) == -1); /* no transaction */
	CHECK(strncmp(hh_error_last(), "store: ", 7) == 0);
	hh_store_close(a);
	hh_store_close(b);
	/* Reopen after close keeps everything. */
	REQUIRE(hh_store_open(&a, t.dir) == 0);
	CHECK(hh_store_job_get(a, id, &j) == 0);
	CHECK_STR(j.file, "a.py");
	hh_job_release(&j);
	CHECK(hh_store_fix_runs_since(a, "o/r", 0) == 1);
	hh_store_close(a);
	tmp_remove(&t);
}

#define NREPO 6
#define NTHREAD 4

struct claimer {
	const char *dir;
	int claimed[NREPO];
	int errors;
};

static void *claim_thread(void *arg)
{
	struct claimer *c = arg;
	hh_store *st;
	hh_job j;
	int rc;

	if (hh_store_open(&st, c->dir) < 0) {
		c->errors++;
		return NULL;
	}
	while ((rc = hh_store_job_claim(st, NULL, 0, &j)) == 1) {
		c->claimed[j.repo[2] - '0']++;
		hh_job_release(&j);
	}
	if (rc < 0)
		c->errors++;
	hh_store_close(st);
	return NULL;
}

TEST(store_claim_concurrent)
{
	struct tmp t;
	hh_store *st;
	struct claimer c[NTHREAD];
	pthread_t th[NTHREAD];
	char repo[8];
	int i, r, total;

	REQUIRE(tmp_make(&t) == 0);
	REQUIRE(hh_store_open(&st, t.dir) == 0);
	for (i = 0; i < NREPO * 3; i++) {
		snprintf(repo, sizeof(repo), "o/%d", i % NREPO);
		CHECK(add_job(st, repo, "f.py", i + 1) > 0);
	}
	memset(c, 0, sizeof(c));
	for (i = 0; i < NTHREAD; i++) {
		c[i].dir = t.dir;
		CHECK(pthread_create(&th[i], NULL, claim_thread, &c[i]) == 0);
	}
	for (i = 0; i < NTHREAD; i++)
		pthread_join(th[i], NULL);
	/* Every repository was taken exactly once: one job in progress per repository. */
	for (r = 0; r < NREPO; r++) {
		for (total = 0, i = 0; i < NTHREAD; i++)
			total += c[i].claimed[r];
		CHECK(total == 1);
	}
	for (i = 0; i < NTHREAD; i++)
		CHECK(c[i].errors == 0);
	CHECK(hh_store_queue_depth(st) == NREPO * 2);
	hh_store_close(st);
	tmp_remove(&t);
}

/* A write past RLIMIT_FSIZE fails like a full disk: HH_EBUSY (intake answers 503), and the
 * error says "disk full". */
TEST(store_disk_full)
{
	struct tmp t;
	hh_store *st;
	struct rlimit old, lim;
	hh_delivery_rec d = {.id = "big", .body_sha256 = "h", .lookup = "none"};
	size_t len = 4 << 20;
	char *body = calloc(1, len);
	int rc;

	REQUIRE(body != NULL);
	REQUIRE(tmp_make(&t) == 0);
	REQUIRE(hh_store_open(&st, t.dir) == 0);
	d.body = body;
	d.body_len = len;
	getrlimit(RLIMIT_FSIZE, &old);
	lim = old;
	lim.rlim_cur = (2 << 20) + 7;
	signal(SIGXFSZ, SIG_IGN);
	setrlimit(RLIMIT_FSIZE, &lim);
	rc = hh_store_delivery_insert(st, &d);
	setrlimit(RLIMIT_FSIZE, &old);
	signal(SIGXFSZ, SIG_DFL);
	CHECK(rc == HH_EBUSY);
	CHECK(hh_error_code() == HH_EBUSY);
	CHECK(strstr(hh_error_last(), "disk full") != NULL);
	if (!strstr(hh_error_last(), "disk full"))
		fprintf(stderr, "      error: %s\n", hh_error_last());
	/* The store keeps working once there is room again. */
	d.body_len = 10;
	CHECK(hh_store_delivery_insert(st, &d) == 0);
	CHECK(hh_store_delivery_count(st) == 1);
	hh_store_close(st);
	free(body);
	tmp_remove(&t);
}


/* A delivery acknowledged (insert returned) survives kill -9 of the process that stored it. */
TEST(store_survives_kill)
{
	struct tmp t;
	hh_store *st;
	int fd[2], status;
	char c = 0;
	pid_t pid;

	REQUIRE(tmp_make(&t) == 0);
	REQUIRE(pipe(fd) == 0);
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		hh_delivery_rec d = {.id = "acked", .body_sha256 = "h1", .lookup = "pending",
				     .body = "{}", .body_len = 2};

		close(fd[0]);
		if (hh_store_open(&st, t.dir) == 0 && hh_store_delivery_insert(st, &d) == 0)
			c = 1;
		if (write(fd[1], &c, 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(fd[1]);
	CHECK(read(fd[0], &c, 1) == 1 && c == 1);
	close(fd[0]);
	kill(pid, SIGKILL);
	CHECK(waitpid(pid, &status, 0) == pid && WIFSIGNALED(status));
	REQUIRE(hh_store_open(&st, t.dir) == 0);
	CHECK(hh_store_delivery_known(st, "acked", NULL) == 1);
	CHECK(hh_store_delivery_count(st) == 1);
	hh_store_close(st);
	tmp_remove(&t);
}
