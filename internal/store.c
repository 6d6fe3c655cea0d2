/*
 * store: healhook's durable state in SQLite. See store.h for the contract.
 *
 * One handle is one sqlite3 connection (opened NOMUTEX: a handle belongs to one thread at a
 * time) with every statement prepared once at open and reset after each use. The database runs
 * in WAL mode with synchronous=FULL, so a COMMIT has reached the disk when it returns, and a
 * busy timeout lets several handles (threads or processes) share the file.
 *
 * The schema is versioned with PRAGMA user_version (store_schema.c). Job states are stored by
 * name, so the enum may grow.
 *
 * Writers of one process queue on a mutex before BEGIN IMMEDIATE (see hh_store_begin): SQLite's
 * own busy handler polls with sleeps of 1 to 100 ms, which under concurrent deliveries made
 * the waits, not the work, the latency (p99 0.35 s at 8 connections, docs/performance.md).
 * The writers of different processes (receiver and main) then also queue, on flock() of the
 * file <db>-writer, held for every write transaction, explicit or implicit (hh_st_run): they
 * wait in the kernel and are woken when the writer before them ends. Concurrent deliveries
 * share a transaction and its fsync (store_group.c).
 *
 * HEALHOOK_BENCH_NO_FSYNC=1 in the environment (benchmark only, see docs/performance.md) opens
 * with synchronous=OFF, to measure what the durable commit costs. Never set it in production:
 * an acknowledged delivery may then be lost in a power failure.
 *
 * Each SQLite error is translated once, here, to "store: <what>: <sqlite message>" with code
 * HH_EBUSY when the database cannot take writes now (locked, busy, full, read-only, an I/O
 * error, damaged or not a database: intake answers 503 so that Gitea retries), else HH_ERR; a
 * full disk always says "disk full".
 */
#include "internal/store.h"
#include "internal/store_priv.h"
#include "internal/store_pg.h"
#include "internal/buf.h"
#include "internal/log.h"

#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <time.h>

#define BUSY_TIMEOUT_MS 5000

/* The states a repository's job holds while the repository is taken (see hh_store_job_claim). */
#define IN_PROGRESS "('fixing','committed','watching','reverting')"
#define NOT_FINAL "('queued','waiting','fixing','committed','pushed','watching','reverting')"

#define JOB_COLS                                                                                   \
	"id, repo, branch, file, type, message, delivery_id, pr_number, pr_url, sender, state,"    \
	" reason, attempts, base_sha, commit_sha, revert_sha, diff_lines, output_tail, stages,"    \
	" created, updated, detail, pr_head"

static const char *const stmt_sql[S_COUNT] = {
	[S_BEGIN] = "BEGIN IMMEDIATE",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
	[S_DELIVERY_KNOWN] = "SELECT EXISTS (SELECT 1 FROM deliveries WHERE id = ?1)"
			     " OR EXISTS (SELECT 1 FROM deliveries WHERE body_sha256 = ?2)",
	[S_DELIVERY_INSERT] = "INSERT INTO deliveries (id, body_sha256, event, repo, verdict,"
			      " lookup, received, headers, body)"
			      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	[S_DELIVERY_SET_LOOKUP] = "UPDATE deliveries SET lookup = ?2"
				  " WHERE id = ?1 AND lookup <> 'none'",
	[S_DELIVERY_NEXT_PENDING] = "SELECT seq, id, event, headers, body FROM deliveries"
				    " WHERE lookup = 'pending' AND seq > ?1 ORDER BY seq LIMIT 1",
	[S_DELIVERY_COUNT] = "SELECT COUNT(*) FROM deliveries",
	[S_FINDING_INSERT] =
		"INSERT INTO findings (delivery_id, repo, branch, file, line, type,"
		" message, source, sender, verdict, reason, fingerprint, job_id,"
		" created)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
	[S_FINGERPRINT_ACTIVE] =
		"SELECT EXISTS (SELECT 1 FROM findings f"
		" JOIN jobs j ON j.id = f.job_id WHERE f.fingerprint = ?1 AND f.job_id IS NOT NULL"
		" AND (j.state IN " NOT_FINAL " OR (j.state = 'healed' AND j.updated >= ?2)))",
	[S_QUARANTINED] = "SELECT EXISTS (SELECT 1 FROM quarantine WHERE fingerprint = ?1)",
	[S_REPO_HAS_WAITING] = "SELECT EXISTS (SELECT 1 FROM jobs WHERE state = 'waiting'"
			       " AND repo = ?1)",
	[S_QUARANTINE_JOB] =
		"INSERT OR IGNORE INTO quarantine (fingerprint, repo, file, job_id, added)"
		" SELECT DISTINCT fingerprint, repo, file, job_id, ?2 FROM findings"
		" WHERE job_id = ?1 AND fingerprint IS NOT NULL",
	[S_QUARANTINE_ADD] = "INSERT INTO quarantine (fingerprint, repo, file, job_id, added)"
			     " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (fingerprint) DO NOTHING",
	[S_REPO_FROZEN] = "SELECT frozen, why, changed FROM repos WHERE repo = ?1",
	[S_REPO_SET_FROZEN] = "INSERT INTO repos (repo, frozen, why, changed)"
			      " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (repo) DO UPDATE SET"
			      " frozen = excluded.frozen, why = excluded.why,"
			      " changed = excluded.changed",
	[S_JOB_INSERT] =
		"INSERT INTO jobs (repo, branch, file, type, message, delivery_id,"
		" pr_number, pr_url, sender, state, reason, attempts, base_sha,"
		" commit_sha, revert_sha, diff_lines, output_tail, stages, created,"
		" updated, detail, pr_head) VALUES (?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11,"
		" ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23)",
	[S_JOB_UPDATE] = "UPDATE jobs SET repo = ?2, branch = ?3, file = ?4, type = ?5,"
			 " message = ?6, delivery_id = ?7, pr_number = ?8, pr_url = ?9,"
			 " sender = ?10, state = ?11, reason = ?12, attempts = ?13,"
			 " base_sha = ?14, commit_sha = ?15, revert_sha = ?16, diff_lines = ?17,"
			 " output_tail = ?18, stages = ?19, created = ?20, updated = ?21,"
			 " detail = ?22, pr_head = ?23 WHERE id = ?1",
	[S_JOB_GET] = "SELECT " JOB_COLS " FROM jobs WHERE id = ?1",
	[S_JOBS_RECENT] = "SELECT " JOB_COLS " FROM jobs WHERE ?1 IS NULL OR repo = ?1"
			  " ORDER BY created DESC, id DESC LIMIT ?2",
	/* one repository's: through jobs_repo, not a walk of everyone's history */
	[S_JOBS_RECENT_REPO] = "SELECT " JOB_COLS " FROM jobs WHERE repo = ?1"
			       " ORDER BY created DESC, id DESC LIMIT ?2",
	/* retention: the bodies (and headers) of old deliveries, a batch at a time; the rows stay
	 * for the duplicate check; a delivery waiting for its lookup keeps its body */
	[S_DELIVERY_PRUNE] = "UPDATE deliveries SET body = NULL, headers = NULL WHERE seq IN"
			     " (SELECT seq FROM deliveries WHERE body IS NOT NULL AND received < ?1"
			     " AND lookup <> 'pending' LIMIT ?2)",
	[S_JOBS_IN_STATE] = "SELECT " JOB_COLS " FROM jobs WHERE state = ?1"
			    " ORDER BY created, id",
	[S_JOB_COUNTS] = "SELECT state, n FROM job_state_counts WHERE n > 0",
	/* from the trigger-kept counts: O(1), where counting the jobs read every queued one */
	[S_QUEUE_DEPTH] = "SELECT COALESCE(SUM(n), 0) FROM job_state_counts"
			  " WHERE state IN ('queued', 'waiting')",
	[S_CLAIM_CANDIDATES] = "SELECT id, repo FROM jobs WHERE state = 'queued'"
			       " AND repo NOT IN (SELECT repo FROM jobs WHERE state IN " IN_PROGRESS
			       ") AND repo NOT IN (SELECT repo FROM repos WHERE frozen <> 0)"
			       " ORDER BY created, id",
	[S_CLAIM_TAKE] = "UPDATE jobs SET state = 'fixing', updated = ?2"
			 " WHERE id = ?1 AND state = 'queued'",
	[S_FIX_RUN_ADD] = "INSERT INTO fix_runs (repo, job_id, ran_at) VALUES (?1, ?2, ?3)",
	[S_FIX_RUNS_SINCE] = "SELECT COUNT(*) FROM fix_runs WHERE repo = ?1 AND ran_at >= ?2",
};

/* Serializes the write transactions of this process's handles (one writer at a time is all
 * SQLite allows anyway); other processes still meet SQLite's busy timeout. */
static pthread_mutex_t write_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const state_names[HH_JOB_STATE_COUNT] = {
	[HH_JOB_QUEUED] = "queued",       [HH_JOB_WAITING] = "waiting",
	[HH_JOB_FIXING] = "fixing",       [HH_JOB_COMMITTED] = "committed",
	[HH_JOB_PUSHED] = "pushed",       [HH_JOB_WATCHING] = "watching",
	[HH_JOB_REVERTING] = "reverting", [HH_JOB_HEALED] = "healed",
	[HH_JOB_REVERTED] = "reverted",   [HH_JOB_REVERT_FAILED] = "revert-failed",
	[HH_JOB_FAILED] = "failed",       [HH_JOB_EXPIRED] = "expired",
};

const char *hh_job_state_name(enum hh_job_state s)
{
	if ((int)s < 0 || s >= HH_JOB_STATE_COUNT)
		return "unknown";
	return state_names[s];
}

int hh_job_state_parse(const char *name)
{
	int i;

	for (i = 0; name && i < HH_JOB_STATE_COUNT; i++)
		if (strcmp(state_names[i], name) == 0)
			return i;
	return -1;
}

int hh_job_state_final(enum hh_job_state s)
{
	return s == HH_JOB_HEALED || s == HH_JOB_REVERTED || s == HH_JOB_REVERT_FAILED ||
	       s == HH_JOB_FAILED || s == HH_JOB_EXPIRED;
}

/* ---- errors and statement helpers ---- */

static int disk_full(int code, int sys)
{
	return (code & 0xff) == SQLITE_FULL || sys == ENOSPC || sys == EDQUOT || sys == EFBIG;
}

/* HH_EBUSY for a result code that says "not now" rather than "never" (see the top). */
static enum hh_err code_of(int code, int sys)
{
	switch (code & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
	case SQLITE_FULL:
	case SQLITE_IOERR:
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
	case SQLITE_READONLY:
	case SQLITE_CANTOPEN: return HH_EBUSY;
	default: return disk_full(code, sys) ? HH_EBUSY : HH_ERR;
	}
}

/*
 * Sets the error from the connection's last failure and returns its code (code_of). A full
 * disk (SQLITE_FULL, or a write that failed with ENOSPC, EDQUOT or EFBIG, the file size limit)
 * always says "disk full".
 */
int hh_st_db_error(hh_store *st, const char *what)
{
	int code = sqlite3_extended_errcode(st->db);
	int sys = sqlite3_system_errno(st->db);

	if (disk_full(code, sys))
		return hh_fail(HH_EBUSY, "store: %s: disk full (%s)", what, sqlite3_errmsg(st->db));
	return hh_fail(code_of(code, sys), "store: %s: %s", what, sqlite3_errmsg(st->db));
}

void hh_st_done(sqlite3_stmt *s)
{
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
}

/* Binds a string or NULL. Strings only need to live until the statement is reset. */
int hh_st_bind_text(sqlite3_stmt *s, int i, const char *v)
{
	return v ? sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC) : sqlite3_bind_null(s, i);
}

int hh_st_bind_int(sqlite3_stmt *s, int i, long long v)
{
	return sqlite3_bind_int64(s, i, v);
}

/* Binds an id that refers to a job; 0 means none (NULL, for the foreign key). */
int hh_st_bind_job_id(sqlite3_stmt *s, int i, long long v)
{
	return v ? sqlite3_bind_int64(s, i, v) : sqlite3_bind_null(s, i);
}

/* Steps a statement that returns no row we need, and resets it. */
int hh_st_run(hh_store *st, sqlite3_stmt *s, const char *what)
{
	int own = !st->writing && !sqlite3_stmt_readonly(s); /* an implicit write transaction */
	int rc, ret = 0;

	if (own)
		hh_st_write_acquire(st);
	rc = sqlite3_step(s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		ret = hh_st_db_error(st, what);
	hh_st_done(s);
	if (own)
		hh_st_write_release(st);
	return ret;
}

/* Steps a statement that returns one integer (a count or a flag) and resets it. */
long long hh_st_query_int(hh_store *st, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);
	long long v = 0;

	if (rc == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	else if (rc != SQLITE_DONE)
		v = hh_st_db_error(st, what);
	hh_st_done(s);
	return v;
}

int hh_st_bind_failed(hh_store *st, sqlite3_stmt *s, const char *what)
{
	hh_st_db_error(st, what);
	hh_st_done(s);
	return -1;
}

/* Copies a text column (NULL stays NULL); sets *oom when a copy fails. */
char *hh_st_col_dup(sqlite3_stmt *s, int i, int *oom)
{
	const unsigned char *t = sqlite3_column_text(s, i);
	char *p;

	if (!t)
		return NULL;
	p = hh_strdup((const char *)t);
	if (!p)
		*oom = 1;
	return p;
}

/* ---- open, close, transactions ---- */

static int exec(hh_store *st, const char *sql, const char *what)
{
	return hh_st_exec(st, sql, what);
}

int hh_st_exec(hh_store *st, const char *sql, const char *what)
{
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return hh_st_db_error(st, what);
	return 0;
}

/* PRAGMA journal_mode does not fail when it cannot switch: it answers the mode it kept. */
static int set_wal(hh_store *st)
{
	sqlite3_stmt *s = NULL;
	const char *mode;
	int ret = -1;

	if (sqlite3_prepare_v2(st->db, "PRAGMA journal_mode = WAL", -1, &s, NULL) != SQLITE_OK ||
	    sqlite3_step(s) != SQLITE_ROW) {
		hh_st_db_error(st, "cannot set journal mode");
		goto out;
	}
	mode = (const char *)sqlite3_column_text(s, 0);
	if (!mode || strcasecmp(mode, "wal") != 0) {
		hh_error("store: cannot set journal mode: WAL refused (mode is '%s')",
			 mode ? mode : "");
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(s);
	return ret;
}

static int make_dir(const char *dir)
{
	struct stat sb;

	if (mkdir(dir, 0700) == 0)
		return 0;
	if (errno != EEXIST)
		return hh_error("store: cannot create directory '%s': %s", dir, strerror(errno));
	if (stat(dir, &sb) < 0)
		return hh_error("store: cannot stat '%s': %s", dir, strerror(errno));
	if (!S_ISDIR(sb.st_mode))
		return hh_error("store: '%s' is not a directory", dir);
	return 0;
}

int hh_store_open(hh_store **out, const char *dir)
{
	return hh_store_open_like(out, dir, NULL);
}

/* Before SQLite's first use: no allocation statistics. They take one mutex of the whole
 * process around every sqlite3_malloc and free, which the intake threads then queue on
 * (futex waits and wakes, a context switch each); healhook never reads them. */
static void sqlite_config(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

/* Opens st->path's writer lock file and the database. Each error names the file. */
static int open_files(hh_store *st, int create)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	char *lp = hh_asprintf("%s-writer", st->path);
	int rc;

	pthread_once(&once, sqlite_config);
	st->lockfd = lp ? open(lp, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600) : -1;
	if (st->lockfd < 0)
		hh_error("store: cannot open '%s': %s", lp ? lp : st->path, strerror(errno));
	free(lp);
	if (st->lockfd < 0)
		return -1;
	rc = sqlite3_open_v2(st->path, &st->db,
			     SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) |
				     SQLITE_OPEN_NOMUTEX,
			     NULL);
	if (rc == SQLITE_OK)
		return 0;
	if (!st->db)
		return hh_error("store: cannot open '%s': out of memory", st->path);
	return hh_fail(code_of(rc, sqlite3_system_errno(st->db)), "store: cannot open '%s': %s",
		       st->path, sqlite3_errmsg(st->db));
}

/* The connection's settings, the schema and the statements. Errors do not name the file. */
static int set_up(hh_store *st)
{
	int i;

	if (set_wal(st) < 0 ||
	    exec(st,
		 hh_st_bench_no_fsync() ? "PRAGMA synchronous = OFF" : "PRAGMA synchronous = FULL",
		 "cannot set synchronous mode") < 0 ||
	    exec(st, "PRAGMA foreign_keys = ON", "cannot enable foreign keys") < 0 ||
	    /* statement journals (a savepoint per group-commit write, the triggers) in memory:
	     * on disk each was a temporary file created and unlinked per delivery */
	    exec(st, "PRAGMA temp_store = MEMORY", "cannot set temp store") < 0 ||
	    /* 256 KiB of page cache per handle (SQLite's default is 2 MiB): in WAL mode a
	     * handle's cache is dropped whenever another handle has committed, which under
	     * concurrent deliveries is nearly every time, so a larger one only costs memory */
	    exec(st, "PRAGMA cache_size = -256", "cannot set cache size") < 0)
		return -1;
	hh_st_write_acquire(st);
	i = hh_st_migrate(st);
	hh_st_write_release(st);
	if (i < 0)
		return -1;
	for (i = 0; i < S_COUNT; i++)
		if (sqlite3_prepare_v3(st->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
				       &st->s[i], NULL) != SQLITE_OK)
			return hh_st_db_error(st, "cannot prepare statement");
	return 0;
}

/* "store: cannot open '<path>': <what set_up said>", keeping its code. */
static int name_open_error(const hh_store *st)
{
	const char *e = hh_error_last();
	enum hh_err code = hh_error_code();
	char *msg = hh_strdup(strncmp(e, "store: ", 7) == 0 ? e + 7 : e);

	hh_fail(code, "store: cannot open '%s': %s", st->path, msg ? msg : "out of memory");
	free(msg);
	return code;
}

int hh_store_open_like(hh_store **out, const char *dir, const hh_store *ref)
{
	hh_store *st = NULL;
	int ret = -1;

	*out = NULL;
	if (hh_pg_target())
		return hh_store_open_pg(out);
	if (!dir || !*dir)
		return hh_error("store: no state directory");
	if (!ref && make_dir(dir) < 0)
		return -1;
	/* Before SQLite opens anything: a file put in ref's place shares the -wal and -shm names
	 * with ref's, and opening it beside ref's connections would mix the two. */
	if (ref && hh_store_check((hh_store *)ref) < 0)
		return -1;
	st = calloc(1, sizeof(*st));
	if (st)
		st->lockfd = -1;
	if (!st || !(st->path = hh_asprintf("%s/healhook.db", dir))) {
		hh_error("out of memory");
		goto out;
	}
	if ((ret = open_files(st, !ref)) < 0)
		goto out;
	sqlite3_busy_timeout(st->db, BUSY_TIMEOUT_MS);
	sqlite3_extended_result_codes(st->db, 1);
	hh_st_identity_init(st);
	if (ref) { /* the file the first handle opened is the one to stay on */
		st->dev = ref->dev;
		st->ino = ref->ino;
	}
	if (set_up(st) < 0) {
		ret = name_open_error(st);
		goto out;
	}
	*out = st;
	st = NULL;
	ret = 0;
out:
	hh_store_close(st);
	return ret;
}

void hh_store_close(hh_store *st)
{
	int i;

	if (!st)
		return;
	if (st->pg) {
		hh_pg_close(st->pg);
		free(st);
		return;
	}
	if (st->writing)
		hh_store_rollback(st);
	for (i = 0; i < S_COUNT; i++)
		sqlite3_finalize(st->s[i]);
	sqlite3_close(st->db); /* rolls back a transaction the ROLLBACK could not end */
	if (st->writing) {     /* ...and the write it held the process's lock for ends here */
		st->writing = 0;
		hh_st_write_release(st);
	}
	if (st->lockfd >= 0)
		close(st->lockfd);
	hh_st_identity_close(st);
	free(st->path);
	free(st);
}

void hh_st_write_acquire(hh_store *st)
{
	pthread_mutex_lock(&write_lock);
	while (flock(st->lockfd, LOCK_EX) < 0 && errno == EINTR)
		;
}

void hh_st_write_release(hh_store *st)
{
	flock(st->lockfd, LOCK_UN);
	pthread_mutex_unlock(&write_lock);
}

/* Releases write_lock once the handle's transaction is over (committed or rolled back). */
static void end_write(hh_store *st)
{
	if (st->writing && sqlite3_get_autocommit(st->db)) {
		st->writing = 0;
		hh_st_write_release(st);
	}
}

int hh_store_begin(hh_store *st)
{
	if (st->pg)
		return hh_pg_begin(st->pg);
	int ret;

	if (!st->writing) {
		hh_st_write_acquire(st);
		st->writing = 1;
	}
	ret = hh_st_run(st, st->s[S_BEGIN], "cannot begin transaction");
	end_write(st);
	return ret;
}

int hh_store_commit(hh_store *st)
{
	if (st->pg)
		return hh_pg_commit(st->pg);
	int ret = hh_st_run(st, st->s[S_COMMIT], "cannot commit");

	end_write(st);
	return ret;
}

void hh_store_rollback(hh_store *st)
{
	/* Leaves the error alone: a rollback follows the failure the caller reports. */
	if (st && st->pg) {
		hh_pg_rollback(st->pg);
		return;
	}
	if (st && !sqlite3_get_autocommit(st->db)) {
		sqlite3_step(st->s[S_ROLLBACK]);
		hh_st_done(st->s[S_ROLLBACK]);
	}
	if (st)
		end_write(st);
}

/* ---- deliveries ---- */

int hh_store_delivery_known(hh_store *st, const char *id, const char *body_sha256)
{
	if (st->pg)
		return hh_pg_delivery_known(st->pg, id, body_sha256);
	sqlite3_stmt *s = st->s[S_DELIVERY_KNOWN];

	if (hh_st_bind_text(s, 1, id) || hh_st_bind_text(s, 2, body_sha256))
		return hh_st_bind_failed(st, s, "cannot look up delivery");
	return (int)hh_st_query_int(st, s, "cannot look up delivery");
}

int hh_store_delivery_insert(hh_store *st, const hh_delivery_rec *d)
{
	if (st->pg)
		return hh_pg_delivery_insert(st->pg, d);
	sqlite3_stmt *s = st->s[S_DELIVERY_INSERT];
	const char *id = d->id ? d->id : d->body_sha256;

	if (!id || !d->body_sha256)
		return hh_error("store: cannot insert delivery: no id and no body hash");
	if (hh_st_bind_text(s, 1, id) || hh_st_bind_text(s, 2, d->body_sha256) ||
	    hh_st_bind_text(s, 3, d->event) || hh_st_bind_text(s, 4, d->repo) ||
	    hh_st_bind_text(s, 5, d->verdict) ||
	    hh_st_bind_text(s, 6, d->lookup ? d->lookup : "none") ||
	    hh_st_bind_int(s, 7, d->received) || hh_st_bind_text(s, 8, d->headers) ||
	    sqlite3_bind_blob64(s, 9, d->body ? d->body : "", d->body_len, SQLITE_STATIC))
		return hh_st_bind_failed(st, s, "cannot insert delivery");
	return hh_st_run(st, s, "cannot insert delivery");
}

int hh_store_delivery_set_lookup(hh_store *st, const char *id, const char *lookup)
{
	if (st->pg)
		return hh_pg_delivery_set_lookup(st->pg, id, lookup);
	sqlite3_stmt *s = st->s[S_DELIVERY_SET_LOOKUP];

	if (hh_st_bind_text(s, 1, id) || hh_st_bind_text(s, 2, lookup))
		return hh_st_bind_failed(st, s, "cannot set delivery lookup");
	return hh_st_run(st, s, "cannot set delivery lookup");
}

/*
 * Fetches one pending delivery at a time (seq > the last one) and copies it out before
 * calling fn, so that fn may use the store freely (even set_lookup on this delivery).
 */
int hh_store_pending_lookups(hh_store *st, hh_store_delivery_fn fn, void *ctx)
{
	if (st->pg)
		return hh_pg_pending_lookups(st->pg, fn, ctx);
	sqlite3_stmt *s = st->s[S_DELIVERY_NEXT_PENDING];
	long long last = 0;
	char *id = NULL, *event = NULL, *headers = NULL;
	hh_buf body = HH_BUF_INIT;
	int rc, oom, ret = -1;

	for (;;) {
		if (hh_st_bind_int(s, 1, last)) {
			hh_st_bind_failed(st, s, "cannot list pending lookups");
			goto out;
		}
		rc = sqlite3_step(s);
		if (rc == SQLITE_DONE) {
			hh_st_done(s);
			break;
		}
		if (rc != SQLITE_ROW) {
			hh_st_db_error(st, "cannot list pending lookups");
			hh_st_done(s);
			goto out;
		}
		oom = 0;
		last = sqlite3_column_int64(s, 0);
		id = hh_st_col_dup(s, 1, &oom);
		event = hh_st_col_dup(s, 2, &oom);
		headers = hh_st_col_dup(s, 3, &oom);
		hh_buf_clear(&body);
		if (hh_buf_put(&body, sqlite3_column_blob(s, 4),
			       (size_t)sqlite3_column_bytes(s, 4)))
			oom = 1;
		hh_st_done(s);
		if (oom) {
			hh_error("out of memory");
			goto out;
		}
		rc = fn(ctx, id, event, headers, body.ptr ? body.ptr : "", body.len);
		free(id);
		free(event);
		free(headers);
		id = event = headers = NULL;
		if (rc)
			break;
	}
	ret = 0;
out:
	free(id);
	free(event);
	free(headers);
	hh_buf_release(&body);
	return ret;
}

long long hh_store_delivery_count(hh_store *st)
{
	if (st->pg)
		return hh_pg_delivery_count(st->pg);
	return hh_st_query_int(st, st->s[S_DELIVERY_COUNT], "cannot count deliveries");
}

/* ---- findings ---- */

int hh_store_finding_insert(hh_store *st, const hh_finding_rec *f)
{
	if (st->pg)
		return hh_pg_finding_insert(st->pg, f);
	sqlite3_stmt *s = st->s[S_FINDING_INSERT];

	if (hh_st_bind_text(s, 1, f->delivery_id) || hh_st_bind_text(s, 2, f->repo) ||
	    hh_st_bind_text(s, 3, f->branch) || hh_st_bind_text(s, 4, f->file) ||
	    hh_st_bind_int(s, 5, f->line) || hh_st_bind_text(s, 6, f->type) ||
	    hh_st_bind_text(s, 7, f->message) || hh_st_bind_text(s, 8, f->source) ||
	    hh_st_bind_text(s, 9, f->sender) ||
	    hh_st_bind_text(s, 10, f->verdict ? f->verdict : "rejected") ||
	    hh_st_bind_text(s, 11, f->reason) || hh_st_bind_text(s, 12, f->fingerprint) ||
	    hh_st_bind_job_id(s, 13, f->job_id) || hh_st_bind_int(s, 14, f->created))
		return hh_st_bind_failed(st, s, "cannot insert finding");
	return hh_st_run(st, s, "cannot insert finding");
}

int hh_store_fingerprint_active(hh_store *st, const char *fingerprint, long long since)
{
	if (st->pg)
		return hh_pg_fingerprint_active(st->pg, fingerprint, since);
	sqlite3_stmt *s = st->s[S_FINGERPRINT_ACTIVE];

	if (hh_st_bind_text(s, 1, fingerprint) || hh_st_bind_int(s, 2, since))
		return hh_st_bind_failed(st, s, "cannot look up fingerprint");
	return (int)hh_st_query_int(st, s, "cannot look up fingerprint");
}

/* ---- quarantine and frozen repositories ---- */

int hh_store_quarantined(hh_store *st, const char *fingerprint)
{
	if (st->pg)
		return hh_pg_quarantined(st->pg, fingerprint);
	sqlite3_stmt *s = st->s[S_QUARANTINED];

	if (hh_st_bind_text(s, 1, fingerprint))
		return hh_st_bind_failed(st, s, "cannot look up quarantine");
	return (int)hh_st_query_int(st, s, "cannot look up quarantine");
}

int hh_store_quarantine_add(hh_store *st, const char *fingerprint, const char *repo,
			    const char *file, long long job_id, long long when)
{
	if (st->pg)
		return hh_pg_quarantine_add(st->pg, fingerprint, repo, file, job_id, when);
	sqlite3_stmt *s = st->s[S_QUARANTINE_ADD];

	if (hh_st_bind_text(s, 1, fingerprint) || hh_st_bind_text(s, 2, repo) ||
	    hh_st_bind_text(s, 3, file) || hh_st_bind_job_id(s, 4, job_id) ||
	    hh_st_bind_int(s, 5, when))
		return hh_st_bind_failed(st, s, "cannot quarantine finding");
	return hh_st_run(st, s, "cannot quarantine finding");
}

int hh_store_repo_has_waiting(hh_store *st, const char *repo)
{
	if (st->pg)
		return hh_pg_repo_has_waiting(st->pg, repo);
	sqlite3_stmt *s = st->s[S_REPO_HAS_WAITING];
	int rc, v = 0;

	if (hh_st_bind_text(s, 1, repo))
		return hh_st_bind_failed(st, s, "cannot count waiting jobs");
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		v = sqlite3_column_int(s, 0);
	else
		v = hh_st_db_error(st, "cannot count waiting jobs");
	sqlite3_reset(s);
	return v;
}

int hh_store_quarantine_job(hh_store *st, long long job_id, const char *repo, const char *file,
			    const char *extra_fingerprint, long long when)
{
	if (st->pg)
		return hh_pg_quarantine_job(st->pg, job_id, repo, file, extra_fingerprint, when);
	sqlite3_stmt *s = st->s[S_QUARANTINE_JOB];

	if (hh_st_bind_int(s, 1, job_id) || hh_st_bind_int(s, 2, when))
		return hh_st_bind_failed(st, s, "cannot quarantine the job's findings");
	if (hh_st_run(st, s, "cannot quarantine the job's findings") < 0)
		return -1;
	if (extra_fingerprint)
		return hh_store_quarantine_add(st, extra_fingerprint, repo, file, job_id, when);
	return 0;
}

int hh_store_repo_frozen_info(hh_store *st, const char *repo, char **why, long long *since)
{
	if (st->pg)
		return hh_pg_repo_frozen_info(st->pg, repo, why, since);
	sqlite3_stmt *s = st->s[S_REPO_FROZEN];
	int rc, oom = 0, frozen = 0;

	if (why)
		*why = NULL;
	if (since)
		*since = 0;
	if (hh_st_bind_text(s, 1, repo))
		return hh_st_bind_failed(st, s, "cannot look up repository");
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		frozen = sqlite3_column_int(s, 0) != 0;
		if (frozen && why)
			*why = hh_st_col_dup(s, 1, &oom);
		if (frozen && since)
			*since = sqlite3_column_int64(s, 2);
	} else if (rc != SQLITE_DONE) {
		frozen = hh_st_db_error(st, "cannot look up repository");
	}
	hh_st_done(s);
	if (oom)
		return hh_error("out of memory");
	return frozen;
}

int hh_store_repo_frozen(hh_store *st, const char *repo)
{
	return hh_store_repo_frozen_info(st, repo, NULL, NULL);
}

int hh_store_repo_set_frozen(hh_store *st, const char *repo, int frozen, const char *why)
{
	if (st->pg)
		return hh_pg_repo_set_frozen(st->pg, repo, frozen, why);
	sqlite3_stmt *s = st->s[S_REPO_SET_FROZEN];

	if (hh_st_bind_text(s, 1, repo) || hh_st_bind_int(s, 2, frozen != 0) ||
	    hh_st_bind_text(s, 3, frozen ? why : NULL) ||
	    hh_st_bind_int(s, 4, (long long)time(NULL)))
		return hh_st_bind_failed(st, s, "cannot set repository frozen");
	return hh_st_run(st, s, "cannot set repository frozen");
}
