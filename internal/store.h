/*
 * store: healhook's durable state behind one small interface, with two back ends: SQLite (WAL,
 * synchronous=FULL) in STATE_DIR/healhook.db, the embedded default, and PostgreSQL (libpq,
 * store_pg*.c), chosen with [state] database (hh_store_setup), which several instances can
 * share. No SQL, SQLite or libpq type leaves the store files.
 *
 * Tables: deliveries (id, body SHA-256, event, repo, time, verdict, lookup state, body),
 * findings (each with its verdict and fingerprint), jobs (state machine of one heal),
 * fix_runs (the L3 ledger), repos (frozen flag), quarantine (fingerprints never retried).
 *
 * A store handle is used by one thread at a time; open one handle per thread (SQLite's own
 * locking, with a busy timeout, serializes writers across threads and processes).
 * Every function returns 0 (or a documented count/flag >= 0) on success and < 0 with the
 * error set ("store: ..." with SQLite's or the server's message) on failure. The code
 * (hh_error_code, error.h) is HH_EBUSY when the store cannot take it now but may later: the
 * database locked or busy, the disk (or the file size limit) full ("disk full" in the
 * message), read-only, an I/O error, the file damaged, replaced or not a database, the
 * PostgreSQL server unreachable or the transaction serialized out; intake answers 503 then.
 * Any other failure is HH_ERR.
 */
#ifndef HH_STORE_H
#define HH_STORE_H

#include <stddef.h>

typedef struct hh_store hh_store;

/*
 * Chooses the back end of every later hh_store_open() in this process (called once at start-up,
 * after the configuration is read; the last call wins). database NULL or "" means SQLite in the
 * state directory; otherwise a libpq connection URL or conninfo string, e.g.
 * "postgresql://healhook@127.0.0.1:5432/healhook". password (NULL = libpq's own: PGPASSFILE,
 * ~/.pgpass) is never logged, and a password inside the URL is never shown in messages.
 * instance_id names this instance in job leases (NULL or "" = "HOSTNAME:DIR" with the state
 * directory dir, stable across restarts and distinct for instances that each keep their own
 * state directory, as they must for their mirrors; "HOSTNAME:PID" without dir); lease is the
 * lease length in seconds (<= 0 = 30). Everything is copied.
 */
int hh_store_setup(const char *database, const char *password, const char *instance_id,
		   const char *dir, long lease);
/* This process's instance id (after hh_store_setup). */
const char *hh_store_instance(void);
/* 1 when st is a database several instances share (PostgreSQL), else 0. */
int hh_store_shared(const hh_store *st);
/* "sqlite" or "postgresql". */
const char *hh_store_backend(const hh_store *st);
/* The schema version the database has (*have) and the one this build knows (*want). */
int hh_store_schema_version(hh_store *st, int *have, int *want);
/* For `healhook doctor`: connects to the configured PostgreSQL database without migrating
 * and reads its schema version (0 when it has none yet). *where describes the target without
 * a password (caller frees; set even on failure). Returns 0, or -1 when the database cannot
 * be reached (error set). 1 when the store is SQLite (nothing to probe). */
int hh_store_probe(char **where, int *have, int *want);

/* Opens (creating if needed) DIR/healhook.db, creating DIR (mode 0700; its parent must exist)
 * if missing, and migrates the schema. Errors name the path. *out is closed with
 * hh_store_close() (which accepts NULL and rolls back an open transaction). */
int hh_store_open(hh_store **out, const char *dir);
/* Another handle of the database ref has open (a server thread's, opened after the first):
 * never creates DIR/healhook.db, and hh_store_check on it compares the path with ref's file,
 * so a handle opened after the file was removed or replaced is refused or reports it lost
 * like ref (instead of taking writes into a new file). */
int hh_store_open_like(hh_store **out, const char *dir, const hh_store *ref);
void hh_store_close(hh_store *st);

/* Health (store_health.c), cheap enough to call before every answer:
 * hh_store_check: 0 while DIR/healhook.db is still the file this handle opened (same device
 * and inode), HH_EBUSY with "store: 'PATH' was removed" / "... was replaced" otherwise (writes
 * would go to a file nobody will read again; only a restart opens the new one). Seeing that, it
 * renames DIR/healhook.db-wal and -shm to *.replaced, so that the restart does not replay the
 * old file's WAL onto the new one.
 * hh_store_health: hh_store_check, then whether a write can succeed: the file writable, its
 * file system not read-only and with at least 64 KiB free ("disk full" otherwise).
 * On PostgreSQL: hh_store_check is always 0 (no file), hh_store_health is "SELECT 1". */
int hh_store_check(hh_store *st);
int hh_store_health(hh_store *st);

/* Transactions: begin takes the write lock at once (BEGIN IMMEDIATE). commit is durable
 * (on disk) when it returns 0. */
int hh_store_begin(hh_store *st);
int hh_store_commit(hh_store *st);
void hh_store_rollback(hh_store *st);

/*
 * Group commit (store_group.c): runs fn(w, ctx) inside a write transaction that concurrent
 * calls of this process on the same database share, so that they share its COMMIT and fsync.
 * w is the handle to use (it may be another thread's: fn must use nothing of st but w, and
 * must not begin, commit or roll back). fn returns 0 to keep its writes, > 0 or -1 to undo them
 * (a savepoint; the others' writes stay); -1 is an error (hh_error set). The call returns when
 * the shared transaction is on disk (fdatasync of the log returned, and so of every commit
 * before it): fn's result, or -1 when the commit or the sync failed (its writes are then lost
 * with the others', or not known to be durable: HH_EBUSY). Called outside transactions.
 */
typedef int (*hh_store_write_fn)(hh_store *w, void *ctx);

/* Retention (store_retention.c): removes the body and headers of at most batch deliveries
 * received before `before` (not those waiting for a lookup); the rows stay for the duplicate
 * check. Returns how many, or -1. */
long long hh_store_prune_deliveries(hh_store *st, long long before, int batch);
int hh_store_group_write(hh_store *st, hh_store_write_fn fn, void *ctx);

/* ---- deliveries ---- */
typedef struct hh_delivery_rec {
	const char *id;          /* X-Gitea-Delivery; may be NULL (then body_sha256 is used) */
	const char *body_sha256; /* lowercase hex of the raw body */
	const char *event;       /* X-Gitea-Event-Type */
	const char *repo;        /* repository.full_name, may be NULL */
	const char *verdict;     /* "accepted", "ignored", "duplicate", ... */
	const char *lookup;      /* "none", "pending", "done", "failed" */
	long long received;      /* unix seconds */
	const char *headers;     /* "Name: value\n" lines as received (secrets excluded) */
	const void *body;
	size_t body_len;
} hh_delivery_rec;

/* 1 if a delivery with this id (when non-NULL) or this body hash is stored, else 0.
 * A delivery stored without id is stored under its body hash as id. Several records may share
 * an id or a hash (a duplicate is stored too, with its verdict). */
int hh_store_delivery_known(hh_store *st, const char *id, const char *body_sha256);
/* Returns 0 when stored. On PostgreSQL deliveries are unique by id and by body hash: 1 means
 * one was already stored (another instance took it first) and nothing was stored. */
int hh_store_delivery_insert(hh_store *st, const hh_delivery_rec *d);
/* Sets the lookup state of a delivery ("done" or "failed"); only records that were stored
 * with a lookup other than "none" change. An unknown id is not an error. */
int hh_store_delivery_set_lookup(hh_store *st, const char *id, const char *lookup);

/* Calls fn for each delivery whose lookup is "pending", oldest first, with the stored headers
 * and body (valid during the call only). Stops when fn returns non-zero. fn may use the
 * store (e.g. hh_store_delivery_set_lookup on the delivery it was given). */
typedef int (*hh_store_delivery_fn)(void *ctx, const char *id, const char *event,
				    const char *headers, const void *body, size_t body_len);
int hh_store_pending_lookups(hh_store *st, hh_store_delivery_fn fn, void *ctx);

/* Number of deliveries stored (all time). */
long long hh_store_delivery_count(hh_store *st);

/* ---- findings ---- */
typedef struct hh_finding_rec {
	const char *delivery_id;
	const char *repo;
	const char *branch;
	const char *file;
	long line;
	const char *type;
	const char *message;
	const char *source; /* "review-body", "line-comment", "comment" */
	const char *sender;
	const char *verdict;     /* "accepted" or "rejected" */
	const char *reason;      /* NULL when accepted */
	const char *fingerprint; /* hex SHA-256 of repo\0branch\0file\0type\0message */
	long long job_id;        /* 0 when rejected */
	long long created;
} hh_finding_rec;

int hh_store_finding_insert(hh_store *st, const hh_finding_rec *f);

/* 1 if a finding with this fingerprint belongs to a job that is not finished (queued,
 * waiting, in progress, or pushed), or that ended healed with updated >= since (unix
 * seconds), else 0. */
int hh_store_fingerprint_active(hh_store *st, const char *fingerprint, long long since);

/* ---- quarantine and frozen repositories ---- */
int hh_store_quarantined(hh_store *st, const char *fingerprint);
int hh_store_quarantine_add(hh_store *st, const char *fingerprint, const char *repo,
			    const char *file, long long job_id, long long when);
int hh_store_repo_frozen(hh_store *st, const char *repo);
/* Records the reason (kept while frozen) and the time of the change. */
int hh_store_repo_set_frozen(hh_store *st, const char *repo, int frozen, const char *why);
/* Like hh_store_repo_frozen; when frozen also gives the reason (*why, caller frees, may be
 * NULL) and the time it was frozen (*since). why and since may be NULL. */
int hh_store_repo_frozen_info(hh_store *st, const char *repo, char **why, long long *since);

/* ---- jobs ---- */
enum hh_job_state {
	HH_JOB_QUEUED = 0,    /* accepted, waiting for the worker */
	HH_JOB_WAITING,       /* over the hourly budget (L3), waits its turn */
	HH_JOB_FIXING,        /* preflight, scratch copy, fixer, judging */
	HH_JOB_COMMITTED,     /* commit built in the mirror, not yet pushed */
	HH_JOB_PUSHED,        /* landed; also final for a PR branch without ci-wait */
	HH_JOB_WATCHING,      /* health watch (L4) */
	HH_JOB_REVERTING,     /* revert in progress */
	HH_JOB_HEALED,        /* final: landed and healthy */
	HH_JOB_REVERTED,      /* final: reverted, health came back */
	HH_JOB_REVERT_FAILED, /* final: revert failed, repository frozen */
	HH_JOB_FAILED,        /* final: see reason (no-diff, diff-too-large, check-failed, ...) */
	HH_JOB_EXPIRED,       /* final: waited longer than queue-ttl */
	HH_JOB_STATE_COUNT
};

/* "queued", "waiting", "fixing", ..., "revert-failed", "failed", "expired". */
const char *hh_job_state_name(enum hh_job_state s);
/* Parses a name; -1 if unknown. */
int hh_job_state_parse(const char *name);
/* 1 for healed, reverted, revert-failed, failed, expired (and pushed is not final). */
int hh_job_state_final(enum hh_job_state s);

typedef struct hh_job {
	long long id;
	char *repo;
	char *branch; /* target branch */
	char *file;
	char *type;    /* type of the first finding */
	char *message; /* messages of the job's findings, joined by "\n" */
	char *delivery_id;
	long pr_number;
	char *pr_url;
	char *sender;
	enum hh_job_state state;
	char *reason; /* why it failed ("no-diff", ...), NULL otherwise */
	char *detail; /* a sentence for people: what happened, on which object */
	int pr_head;  /* 1: the branch is an open PR's head (no health watch; ci-wait) */
	int attempts;
	char *base_sha;
	char *commit_sha;
	char *revert_sha;
	long diff_lines;
	char *output_tail; /* last bytes of the fixer's output */
	char *stages;      /* JSON object of stage durations in ms, e.g. {"fix":1200} */
	long long created;
	long long updated;
} hh_job;

void hh_job_release(hh_job *job);

/* Inserts job (id ignored) and sets job->id; created 0 means now, updated 0 means created
 * (both are written back to job). job->repo is required. */
int hh_store_job_insert(hh_store *st, hh_job *job);
/* Writes every field of job (by id) and bumps updated to now; -1 if there is no such job. */
int hh_store_job_update(hh_store *st, const hh_job *job);
/* Fills *out (the caller releases it with hh_job_release); -1 with "store: no job N" when
 * there is no such job. */
int hh_store_job_get(hh_store *st, long long id, hh_job *out);
/* Most recent jobs first; *out is an array of *n jobs the caller releases with
 * hh_store_jobs_free(). limit <= 0 means 50. repo may be NULL (all). */
int hh_store_jobs_recent(hh_store *st, const char *repo, int limit, hh_job **out, size_t *n);
void hh_store_jobs_free(hh_job *jobs, size_t n);
/* Every job in state, oldest first (created, then id), for resuming after a restart and for
 * moving waiting jobs back to queued or to expired; released with hh_store_jobs_free(). */
int hh_store_jobs_in_state(hh_store *st, enum hh_job_state state, hh_job **out, size_t *n);
/* Calls fn(ctx, state, count) for every state with at least one job, in enum order. */
int hh_store_job_counts(hh_store *st, void (*fn)(void *ctx, enum hh_job_state s, long long n),
			void *ctx);
/* Number of jobs that are queued or waiting (intake answers 503 beyond server.max-queue). */
long long hh_store_queue_depth(hh_store *st);

/*
 * Claims the oldest queued job (created, then id) of a repository that has no job in progress
 * and is not frozen and not in skip_repos; moves it to fixing (updated = now) atomically, in
 * one BEGIN IMMEDIATE transaction (or in the caller's transaction if one is open). Returns 1
 * with *out filled (release it), 0 when there is none, -1 on error.
 * In progress = fixing, committed, watching, reverting. A job at rest in pushed (landed with
 * nothing to watch, e.g. a PR branch without ci-wait) does not hold its repository; a pushed
 * job that still needs its health watch is moved to watching by its owner. Waiting jobs are never
 * claimed: the pipeline moves them back to queued (hh_store_jobs_in_state + update).
 */
int hh_store_job_claim(hh_store *st, const char *const *skip_repos, size_t nskip, hh_job *out);

/*
 * The claim of `healhook heal`: in one write transaction, if job->repo has no job in progress
 * (fixing, committed, watching, reverting: the worker's rule), inserts job in state fixing and
 * returns 1 (job->id set). Returns 0 with *busy the id of the job in progress and *state its
 * state (a static string) when there is one, -1 on error.
 */
int hh_store_job_insert_claimed(hh_store *st, hh_job *job, long long *busy, const char **state);

/* 1 if a quarantined fingerprint belongs to job job_id, 0 if not, -1 on error. */
int hh_store_job_quarantined(hh_store *st, long long job_id);

/* Quarantines the fingerprints of job_id's findings, and extra_fingerprint when non-NULL. */
int hh_store_quarantine_job(hh_store *st, long long job_id, const char *repo, const char *file,
			    const char *extra_fingerprint, long long when);

/* 1 if repo has a job waiting for its hourly budget, else 0. */
int hh_store_repo_has_waiting(hh_store *st, const char *repo);

/*
 * ---- leases (PostgreSQL; on SQLite, one instance owns everything: these return 0) ----
 * A claimed job carries its owner (the instance id) and a lease expiry. The owner renews
 * every lease it holds (hh_store_lease_renew, from a thread of the worker) while it works;
 * when the job's run is over it drops the lease. A job in fixing, committed, pushed, watching
 * or reverting whose lease ran out belongs to an instance that died: another one takes it
 * over (hh_store_lease_takeover: 1 with *out filled, 0 when none) and resumes it.
 */
/* Renews the leases of the jobs ids[0..n) that this instance runs; the count renewed or -1. */
int hh_store_lease_renew(hh_store *st, const long long *ids, size_t n);
int hh_store_lease_drop(hh_store *st, long long job_id);
int hh_store_lease_takeover(hh_store *st, hh_job *out);
/* At start-up: this instance's leases from a previous run expire now (taken over at once). */
int hh_store_lease_forget_mine(hh_store *st);
/* Jobs this instance has taken over from dead instances (all time, from the store's history
 * of state changes; for /metrics), or -1. */
long long hh_store_takeovers(hh_store *st);

/* ---- L3 ledger ---- */
int hh_store_fix_run_add(hh_store *st, const char *repo, long long job_id, long long when);
/* Fixer runs for repo at or after since. */
long long hh_store_fix_runs_since(hh_store *st, const char *repo, long long since);

/* ---- what the status pages read and the watch and notifier record (store_status.c) ----
 * Plain SQL (no SQLite dialect) so that another back end can take it over as written.
 * Callbacks get borrowed strings, valid during the call only; a callback that returns
 * non-zero stops the walk (the function then returns 0). */

/* One health probe of a watch: the answer's HTTP status (0: no answer), healhook's verdict
 * on it ("ok", "bad", "old", "no-answer") and the first bytes of the answer (or the error). */
typedef struct hh_probe_rec {
	long long job_id;
	const char *sha; /* the commit the watch waited for (the fix or its revert) */
	long long at;    /* unix seconds */
	long status;
	const char *verdict;
	const char *answer; /* kept up to HH_STORE_PROBE_TEXT bytes */
} hh_probe_rec;
#define HH_STORE_MAX_PROBES 200 /* probes kept per job; later ones are not stored */
#define HH_STORE_PROBE_TEXT 300

/* One notification delivered (ok 1) or given up (ok 0): target says where ("telegram chat
 * 123", "gitea comment acme/shop#7", "gitea status acme/shop@abc123"), never a token. */
typedef struct hh_notification_rec {
	long long job_id;    /* 0: not about a job */
	const char *outcome; /* hh_outcome_name() */
	const char *target;
	int ok;
	int attempts;
	const char *error; /* when given up; NULL otherwise */
	long long at;
} hh_notification_rec;

int hh_store_probe_add(hh_store *st, const hh_probe_rec *p);
int hh_store_notification_add(hh_store *st, const hh_notification_rec *n);
/* Oldest first. */
int hh_store_job_probes(hh_store *st, long long job_id, int (*fn)(void *ctx, const hh_probe_rec *p),
			void *ctx);
int hh_store_job_notifications(hh_store *st, long long job_id,
			       int (*fn)(void *ctx, const hh_notification_rec *n), void *ctx);
/* The findings that made the job, in the order they were stored. */
int hh_store_job_findings(hh_store *st, long long job_id,
			  int (*fn)(void *ctx, const hh_finding_rec *f), void *ctx);

/* Ids of jobs, newest first (created, then id), of repo and in state when those are non-NULL,
 * skipping offset; at most cap ids go to ids[], *n says how many. *total gets the number of
 * jobs that match (all pages). */
int hh_store_job_ids(hh_store *st, const char *repo, const char *state, long long offset,
		     long long *ids, size_t cap, size_t *n, long long *total);

/* What a repository is doing: jobs queued or waiting, the job in progress (0: none), and its
 * last outcome: the newest job that ended (healed, reverted, revert-failed, failed, expired)
 * or rests in pushed (0 and "" when there is none). */
typedef struct hh_repo_activity {
	long long queued;
	long long running;
	long long last_job;
	char last_state[16];
	char last_reason[64];
	long long last_at; /* when it ended (the job's updated time) */
} hh_repo_activity;
int hh_store_repo_activity(hh_store *st, const char *repo, hh_repo_activity *out);

/* Every repository the store knows (from jobs and frozen flags), sorted by name. */
int hh_store_repo_names(hh_store *st, int (*fn)(void *ctx, const char *repo), void *ctx);

/* Outcomes per UTC day (unix seconds / 86400) since `since`: for jobs that ended, the state
 * they ended in (by their updated time); for findings rejected at intake, "rejected" (by the
 * time they arrived). fn gets (day, name, count), days ascending. */
int hh_store_outcomes_per_day(hh_store *st, long long since,
			      int (*fn)(void *ctx, long long day, const char *name, long long n),
			      void *ctx);

#endif
