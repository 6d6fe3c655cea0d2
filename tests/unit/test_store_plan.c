/*
 * Unit tests for the store's cost with history (issue 12): every query on the hot path uses
 * an index (EXPLAIN QUERY PLAN, one test per query: no SCAN of deliveries, jobs or findings),
 * job counts come from the trigger-kept table, retention prunes old bodies only, group commit
 * keeps each caller's writes (or undoes only its own), and a write transaction holds the
 * cross-process writer lock.
 */
#include "tests/unit/t.h"
#include "internal/buf.h"
#include "internal/log.h"
#include "internal/store.h"
#include "internal/store_priv.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/unit/store_tmp.h"

/*
 * The plan of statement id uses an index for every table it reads: a line "SCAN x" is allowed
 * only for the constant row, the config-sized tables (repos, job_state_counts), or with
 * ordered_scan, an index walk in ORDER BY order that LIMIT stops; no temporary sort.
 */
static void check_plan(int id, const char *ordered_scan)
{
	struct tmp t;
	hh_store *st = NULL;
	hh_buf plan = HH_BUF_INIT;
	char *line, *save = NULL;
	int searches = 0;

	REQUIRE(tmp_make(&t) == 0);
	REQUIRE(hh_store_open(&st, t.dir) == 0);
	REQUIRE(hh_st_query_plan(st, id, &plan) == 0);
	REQUIRE(plan.ptr != NULL);
	for (line = strtok_r(plan.ptr, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "SEARCH ", 7) == 0) {
			searches++;
			if (!strstr(line, " USING ")) {
				fprintf(stderr, "      statement %d: %s\n", id, line);
				CHECK(!"a SEARCH without an index");
			}
		}
		if (strncmp(line, "SCAN ", 5) == 0 && strcmp(line, "SCAN CONSTANT ROW") != 0 &&
		    strncmp(line, "SCAN repos", 10) != 0 &&
		    strncmp(line, "SCAN job_state_counts", 21) != 0 &&
		    !(ordered_scan && strcmp(line, ordered_scan) == 0)) {
			fprintf(stderr, "      statement %d scans: %s\n", id, line);
			CHECK(!"a table of the history is scanned");
		}
		/* a DISTINCT over rows found by a SEARCH is bounded by that search */
		if (strstr(line, "TEMP B-TREE") && !strstr(line, "FOR DISTINCT")) {
			fprintf(stderr, "      statement %d sorts: %s\n", id, line);
			CHECK(!"a temporary sort of the rows read");
		}
	}
	CHECK(searches > 0 || ordered_scan || id == S_JOB_COUNTS);
	hh_buf_release(&plan);
	hh_store_close(st);
	tmp_remove(&t);
}

#define PLAN_TEST(name, id)                                                                        \
	TEST(plan_##name)                                                                          \
	{                                                                                          \
		check_plan(id, NULL);                                                              \
	}

PLAN_TEST(delivery_known, S_DELIVERY_KNOWN)
PLAN_TEST(delivery_set_lookup, S_DELIVERY_SET_LOOKUP)
PLAN_TEST(delivery_next_pending, S_DELIVERY_NEXT_PENDING)
PLAN_TEST(delivery_prune, S_DELIVERY_PRUNE)
PLAN_TEST(fingerprint_active, S_FINGERPRINT_ACTIVE)
PLAN_TEST(quarantined, S_QUARANTINED)
PLAN_TEST(quarantine_job, S_QUARANTINE_JOB)
PLAN_TEST(repo_has_waiting, S_REPO_HAS_WAITING)
PLAN_TEST(repo_frozen, S_REPO_FROZEN)
PLAN_TEST(job_get, S_JOB_GET)
PLAN_TEST(job_update, S_JOB_UPDATE)
PLAN_TEST(jobs_recent_repo, S_JOBS_RECENT_REPO)
PLAN_TEST(jobs_in_state, S_JOBS_IN_STATE)
PLAN_TEST(job_counts, S_JOB_COUNTS)
PLAN_TEST(queue_depth, S_QUEUE_DEPTH)
PLAN_TEST(claim_candidates, S_CLAIM_CANDIDATES)
PLAN_TEST(claim_take, S_CLAIM_TAKE)
PLAN_TEST(fix_runs_since, S_FIX_RUNS_SINCE)

/* `history` without a repository: the newest jobs, an index walk that LIMIT stops. */
TEST(plan_jobs_recent)
{
	check_plan(S_JOBS_RECENT, "SCAN jobs USING INDEX jobs_recent");
}

static hh_job pjob(const char *repo, const char *file, long long created)
{
	hh_job j;

	memset(&j, 0, sizeof(j));
	j.repo = (char *)repo;
	j.branch = (char *)"main";
	j.file = (char *)file;
	j.state = HH_JOB_QUEUED;
	j.created = j.updated = created;
	return j;
}

static void on_count(void *ctx, enum hh_job_state s, long long n)
{
	((long long *)ctx)[s] = n;
}

/* The counts /metrics reads are kept by triggers: inserts, state changes, and no change. */
TEST(store_job_counts_by_trigger)
{
	struct tmp t;
	hh_store *st = NULL;
	hh_job a = pjob("o/r", "a.py", 1), b = pjob("o/r", "b.py", 2), c = pjob("o/s", "c.py", 3);
	long long n[HH_JOB_STATE_COUNT] = {0};

	REQUIRE(tmp_make(&t) == 0);
	REQUIRE(hh_store_open(&st, t.dir) == 0);
	REQUIRE(hh_store_job_insert(st, &a) == 0 && hh_store_job_insert(st, &b) == 0 &&
		hh_store_job_insert(st, &c) == 0);
	a.state = HH_JOB_FIXING;
	REQUIRE(hh_store_job_update(st, &a) == 0);
	a.attempts = 2; /* same state: no count moves */
	REQUIRE(hh_store_job_update(st, &a) == 0);
	b.state = HH_JOB_HEALED;
	REQUIRE(hh_store_job_update(st, &b) == 0);
	REQUIRE(hh_store_job_counts(st, on_count, n) == 0);
	CHECK(n[HH_JOB_QUEUED] == 1);
	CHECK(n[HH_JOB_FIXING] == 1);
	CHECK(n[HH_JOB_HEALED] == 1);
	CHECK(n[HH_JOB_FAILED] == 0);
	hh_store_close(st);
	tmp_remove(&t);
}

static int body_present(const char *dir, const char *id)
{
	char path[160];
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	int r = -1;

	snprintf(path, sizeof(path), "%s/healhook.db", dir);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db,
			       "SELECT body IS NOT NULL, headers IS NOT NULL FROM deliveries"
			       " WHERE id = ?1",
			       -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		r = sqlite3_column_int(s, 0) + sqlite3_column_int(s, 1);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return r;
}

/* Retention removes old bodies and headers only: new ones, pending lookups and every row (the
 * duplicate check) stay; it works in batches. */
TEST(store_prune_deliveries)
{
	struct tmp t;
	hh_store *st = NULL;
	const char *ids[] = {"old-1", "old-2", "old-3", "new", "old-pending"};
	int i;

	REQUIRE(tmp_make(&t) == 0);
	REQUIRE(hh_store_open(&st, t.dir) == 0);
	for (i = 0; i < 5; i++) {
		hh_delivery_rec d = {.id = ids[i],
				     .body_sha256 = ids[i],
				     .event = "e",
				     .verdict = "no-fix",
				     .lookup = i == 4 ? "pending" : "none",
				     .received = i == 3 ? 5000 : 100,
				     .headers = "h: v",
				     .body = "{}",
				     .body_len = 2};
		REQUIRE(hh_store_delivery_insert(st, &d) == 0);
	}
	CHECK(hh_store_prune_deliveries(st, 1000, 2) == 2);
	CHECK(hh_store_prune_deliveries(st, 1000, 2) == 1);
	CHECK(hh_store_prune_deliveries(st, 1000, 2) == 0);
	CHECK(body_present(t.dir, "old-1") == 0);
	CHECK(body_present(t.dir, "old-3") == 0);
	CHECK(body_present(t.dir, "new") == 2);
	CHECK(body_present(t.dir, "old-pending") == 2);
	CHECK(hh_store_delivery_known(st, "old-2", "x") == 1);
	CHECK(hh_store_delivery_count(st) == 5);
	hh_store_close(st);
	tmp_remove(&t);
}

struct gw {
	const char *dir;
	int thread;
	int ok;
	int unsynced; /* answers given before a sync covered their commit */
};

struct gw_write {
	const char *id;
	unsigned long long commit; /* the number of the commit carrying it */
};

static int gw_insert(hh_store *w, void *ctx)
{
	struct gw_write *gw = ctx;
	hh_delivery_rec d = {.id = gw->id,
			     .body_sha256 = gw->id,
			     .event = "e",
			     .verdict = "no-fix",
			     .lookup = "none",
			     .received = 1};
	unsigned long long synced;
	unsigned long ck;

	/* counted before the batch runs: the last one counted is this batch's */
	hh_st_group_counts(w->path, &gw->commit, &synced, &ck);
	if (hh_store_delivery_insert(w, &d) < 0)
		return -1;
	return strstr(gw->id, "-undo") ? 1 : 0; /* > 0: this caller's writes are undone */
}

static void *gw_main(void *arg)
{
	struct gw *g = arg;
	hh_store *st = NULL;
	char id[48];
	int i;

	if (hh_store_open(&st, g->dir) < 0)
		return NULL;
	for (i = 0; i < 40; i++) {
		struct gw_write w = {id, 0};
		unsigned long long committed, synced;
		unsigned long ck;

		snprintf(id, sizeof(id), "t%d-%d%s", g->thread, i, i % 10 == 9 ? "-undo" : "");
		if (hh_store_group_write(st, gw_insert, &w) == (i % 10 == 9 ? 1 : 0))
			g->ok++;
		hh_st_group_counts(st->path, &committed, &synced, &ck);
		g->unsynced += w.commit == 0 || synced < w.commit;
	}
	hh_store_close(st);
	return NULL;
}

/* Concurrent group writes: each caller gets its own result, kept writes are all there and
 * undone ones are not, whoever's transaction carried them; and no caller is answered before
 * an fdatasync of the log that began after its commit (the group's handle commits without a
 * sync, the leader syncs after handing the lead on). */
TEST(store_group_write)
{
	struct tmp t;
	hh_store *st = NULL;
	pthread_t th[6];
	struct gw g[6];
	char id[48];
	int i, k;

	REQUIRE(tmp_make(&t) == 0);
	REQUIRE(hh_store_open(&st, t.dir) == 0);
	for (i = 0; i < 6; i++) {
		g[i] = (struct gw){t.dir, i, 0, 0};
		REQUIRE(pthread_create(&th[i], NULL, gw_main, &g[i]) == 0);
	}
	for (i = 0; i < 6; i++) {
		pthread_join(th[i], NULL);
		CHECK(g[i].ok == 40);
		CHECK(g[i].unsynced == 0);
	}
	CHECK(hh_store_delivery_count(st) == 6 * 36);
	for (i = 0; i < 6; i++)
		for (k = 0; k < 40; k++) {
			snprintf(id, sizeof(id), "t%d-%d%s", i, k, k % 10 == 9 ? "-undo" : "");
			CHECK(hh_store_delivery_known(st, id, "none") == (k % 10 == 9 ? 0 : 1));
		}
	hh_store_close(st);
	tmp_remove(&t);
}

static int gw_big(hh_store *w, void *ctx)
{
	static char body[15000];
	int *n = ctx;
	char id[32];
	hh_delivery_rec d = {.id = id,
			     .body_sha256 = id,
			     .event = "e",
			     .verdict = "no-fix",
			     .lookup = "none",
			     .received = 1,
			     .body = body,
			     .body_len = sizeof(body)};

	memset(body, 'x', sizeof(body));
	snprintf(id, sizeof(id), "big-%d", (*n)++);
	return hh_store_delivery_insert(w, &d) < 0 ? -1 : 0;
}

/* The group's handle does not checkpoint in its commits: past 1000 frames in the log, the
 * checkpointer thread copies them into the database file, on a connection of its own, and the
 * next leader completes the copy so that the log starts over: under writes that never pause
 * it stays a few megabytes (without the restart, 1200 bodies of 15 KB grew it past 20 MB). */
TEST(store_group_checkpointer)
{
	struct tmp t;
	hh_store *st = NULL;
	char db[200], wal[200];
	struct stat sb;
	unsigned long long committed, synced;
	unsigned long ck = 0;
	off_t before, wal_max = 0;
	int i, n = 0;

	REQUIRE(tmp_make(&t) == 0);
	REQUIRE(hh_store_open(&st, t.dir) == 0);
	snprintf(db, sizeof(db), "%s/healhook.db", t.dir);
	snprintf(wal, sizeof(wal), "%s/healhook.db-wal", t.dir);
	REQUIRE(stat(db, &sb) == 0);
	before = sb.st_size;
	for (i = 0; i < 1200; i++) { /* 4 overflow pages each: about 5000 frames */
		REQUIRE(hh_store_group_write(st, gw_big, &n) == 0);
		if (i % 50 == 0)
			usleep(2000); /* time for the thread, as between deliveries */
		if (stat(wal, &sb) == 0 && sb.st_size > wal_max)
			wal_max = sb.st_size;
	}
	for (i = 0; i < 500 && ck == 0; i++) {
		hh_st_group_counts(st->path, &committed, &synced, &ck);
		if (!ck)
			usleep(10000);
	}
	CHECK(ck >= 1);
	CHECK(committed == 1200 && synced == 1200);
	REQUIRE(stat(db, &sb) == 0);
	CHECK(sb.st_size > before + 500 * 4096); /* bodies are in the database file */
	CHECK(wal_max < 10 * 1024 * 1024);
	CHECK(hh_store_delivery_count(st) == 1200);
	hh_store_close(st);
	tmp_remove(&t);
}

/* A write transaction holds <db>-writer's flock, which the other processes' writers wait on
 * (instead of sleeping in SQLite's busy handler); the lock is free again after the commit. */
TEST(store_writer_lock_across_processes)
{
	struct tmp t;
	hh_store *st = NULL;
	char path[160];
	int fd, busy, free_after, status = 0;
	pid_t pid;

	REQUIRE(tmp_make(&t) == 0);
	REQUIRE(hh_store_open(&st, t.dir) == 0);
	snprintf(path, sizeof(path), "%s/healhook.db-writer", t.dir);
	REQUIRE(hh_store_begin(st) == 0);
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		fd = open(path, O_RDWR);
		_exit(fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0 ? 0 : 1);
	}
	waitpid(pid, &status, 0);
	busy = WIFEXITED(status) && WEXITSTATUS(status) == 0;
	REQUIRE(hh_store_commit(st) == 0);
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		fd = open(path, O_RDWR);
		_exit(fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0 ? 0 : 1);
	}
	waitpid(pid, &status, 0);
	free_after = WIFEXITED(status) && WEXITSTATUS(status) == 0;
	CHECK(busy);
	CHECK(free_after);
	hh_store_close(st);
	tmp_remove(&t);
}
