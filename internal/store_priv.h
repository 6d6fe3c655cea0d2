/*
 * store_priv: what store.c (schema, deliveries, findings, repositories) and store_jobs.c
 * (jobs, claim, the L3 ledger) share. Private to the store module: SQL and SQLite types never
 * leave these files.
 */
#ifndef HH_STORE_PRIV_H
#define HH_STORE_PRIV_H

#include <sqlite3.h>

#include "internal/buf.h"
#include "internal/store.h"

enum stmt_id {
	S_BEGIN,
	S_COMMIT,
	S_ROLLBACK,
	S_DELIVERY_KNOWN,
	S_DELIVERY_INSERT,
	S_DELIVERY_SET_LOOKUP,
	S_DELIVERY_NEXT_PENDING,
	S_DELIVERY_COUNT,
	S_FINDING_INSERT,
	S_FINGERPRINT_ACTIVE,
	S_QUARANTINED,
	S_QUARANTINE_ADD,
	S_QUARANTINE_JOB,
	S_REPO_HAS_WAITING,
	S_REPO_FROZEN,
	S_REPO_SET_FROZEN,
	S_JOB_INSERT,
	S_JOB_UPDATE,
	S_JOB_GET,
	S_JOBS_RECENT,
	S_JOBS_IN_STATE,
	S_JOB_COUNTS,
	S_QUEUE_DEPTH,
	S_CLAIM_CANDIDATES,
	S_CLAIM_TAKE,
	S_FIX_RUN_ADD,
	S_FIX_RUNS_SINCE,
	S_JOBS_RECENT_REPO,
	S_DELIVERY_PRUNE,
	S_COUNT
};

struct hh_pg;

struct hh_store {
	struct hh_pg
		*pg; /* non-NULL: a PostgreSQL handle (store_pg.h), and nothing below is used */
	sqlite3 *db;
	char *path;
	sqlite3_stmt *s[S_COUNT];
	int writing; /* holds write_lock: between hh_store_begin and the end of its transaction */
	int lockfd;  /* <db>-writer, flock()ed while writing (the writers of all processes) */
	unsigned long long dev, ino; /* identity of the file opened (store_health.c) */
	int id_fd, id_open;          /* a read-only descriptor on it, kept until after close */
};

/* HEALHOOK_BENCH_NO_FSYNC=1 (benchmark only, see store.c): handles sync nothing. */
int hh_st_bench_no_fsync(void);

/* Takes / releases the writers' locks (this process's mutex, then the flock every healhook
 * process takes): a writer waits in the kernel for the one before it and is woken when it
 * ends, never in SQLite's busy handler, which polls with sleeps of up to 100 ms. */
void hh_st_write_acquire(hh_store *st);
void hh_st_write_release(hh_store *st);

/* store_schema.c: brings the schema to the current version, in one transaction (another
 * process may race us); the caller holds the writers' locks. 0 or -1. */
int hh_st_migrate(hh_store *st);

/* Records the identity of st->path once opened, and closes what it keeps after sqlite3_close
 * (closing a descriptor of the file earlier would drop SQLite's POSIX locks). */
void hh_st_identity_init(hh_store *st);
void hh_st_identity_close(hh_store *st);

/* Statement helpers (store.c). Errors become "store: <what>: <sqlite message>". */
int hh_st_exec(hh_store *st, const char *sql, const char *what);
int hh_st_db_error(hh_store *st, const char *what);
void hh_st_done(sqlite3_stmt *s);
int hh_st_bind_text(sqlite3_stmt *s, int i, const char *v);
int hh_st_bind_int(sqlite3_stmt *s, int i, long long v);
int hh_st_bind_job_id(sqlite3_stmt *s, int i, long long v);
int hh_st_run(hh_store *st, sqlite3_stmt *s, const char *what);
long long hh_st_query_int(hh_store *st, sqlite3_stmt *s, const char *what);
int hh_st_bind_failed(hh_store *st, sqlite3_stmt *s, const char *what);
char *hh_st_col_dup(sqlite3_stmt *s, int i, int *oom);

/* Opens a handle on the PostgreSQL target of hh_store_setup() (store_api.c). */
int hh_store_open_pg(hh_store **out);
/* store_plan.c: SQLite's query plan of statement id (EXPLAIN QUERY PLAN, one detail per line)
 * appended to out; for the unit tests that check every hot-path query uses an index. */
int hh_st_query_plan(hh_store *st, int id, hh_buf *out);
/* store_group.c, for the tests: the group of path's commits begun without a sync, the last
 * one a sync covers, and the checkpointer's runs. */
void hh_st_group_counts(const char *path, unsigned long long *committed, unsigned long long *synced,
			unsigned long *checkpoints);

#endif
