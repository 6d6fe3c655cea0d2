/*
 * store_pg: the PostgreSQL back end of the store, private to the store module. store.c and
 * store_jobs.c hand every public call on a handle opened with a PostgreSQL target to the
 * function of the same name here (hh_store_X -> hh_pg_X), so callers never know which back end
 * they use. No libpq type leaves store_pg*.c.
 *
 * Files: store_pg.c (connection, errors, transactions, schema migrations, leases),
 * store_pg_ops.c (deliveries, findings, quarantine, repositories), store_pg_jobs.c (jobs,
 * claim, heal's claim, the L3 ledger), store_pg_status.c (the status pages' reads, health
 * probes and notifications).
 */
#ifndef HH_STORE_PG_H
#define HH_STORE_PG_H

#include <stddef.h>

#include "internal/store.h"

typedef struct hh_pg hh_pg;

/* The process-wide target set by hh_store_setup(); database NULL means SQLite. */
const char *hh_pg_target(void);

/* Connects to the configured database and migrates the schema (when migrate is set).
 * Errors say "store: database unavailable" (code HH_EBUSY) for a refused or lost connection. */
int hh_pg_open(hh_pg **out, int migrate);
void hh_pg_close(hh_pg *pg);

int hh_pg_begin(hh_pg *pg);
int hh_pg_commit(hh_pg *pg);
void hh_pg_rollback(hh_pg *pg);

int hh_pg_delivery_known(hh_pg *pg, const char *id, const char *body_sha256);
int hh_pg_delivery_insert(hh_pg *pg, const hh_delivery_rec *d);
int hh_pg_delivery_set_lookup(hh_pg *pg, const char *id, const char *lookup);
int hh_pg_pending_lookups(hh_pg *pg, hh_store_delivery_fn fn, void *ctx);
long long hh_pg_delivery_count(hh_pg *pg);
int hh_pg_finding_insert(hh_pg *pg, const hh_finding_rec *f);
int hh_pg_fingerprint_active(hh_pg *pg, const char *fingerprint, long long since);
int hh_pg_quarantined(hh_pg *pg, const char *fingerprint);
int hh_pg_quarantine_add(hh_pg *pg, const char *fingerprint, const char *repo, const char *file,
			 long long job_id, long long when);
int hh_pg_quarantine_job(hh_pg *pg, long long job_id, const char *repo, const char *file,
			 const char *extra_fingerprint, long long when);
int hh_pg_repo_has_waiting(hh_pg *pg, const char *repo);
int hh_pg_repo_frozen_info(hh_pg *pg, const char *repo, char **why, long long *since);
int hh_pg_repo_set_frozen(hh_pg *pg, const char *repo, int frozen, const char *why);

int hh_pg_job_insert(hh_pg *pg, hh_job *job);
int hh_pg_job_update(hh_pg *pg, const hh_job *job);
int hh_pg_job_get(hh_pg *pg, long long id, hh_job *out);
int hh_pg_jobs_recent(hh_pg *pg, const char *repo, int limit, hh_job **out, size_t *n);
int hh_pg_jobs_in_state(hh_pg *pg, enum hh_job_state state, hh_job **out, size_t *n);
int hh_pg_job_counts(hh_pg *pg, void (*fn)(void *ctx, enum hh_job_state s, long long n), void *ctx);
long long hh_pg_queue_depth(hh_pg *pg);
int hh_pg_job_claim(hh_pg *pg, const char *const *skip_repos, size_t nskip, hh_job *out);
int hh_pg_fix_run_add(hh_pg *pg, const char *repo, long long job_id, long long when);
long long hh_pg_fix_runs_since(hh_pg *pg, const char *repo, long long since);
int hh_pg_job_insert_claimed(hh_pg *pg, hh_job *job, long long *busy, const char **state);
int hh_pg_job_quarantined(hh_pg *pg, long long job_id);

int hh_pg_probe_add(hh_pg *pg, const hh_probe_rec *p);
int hh_pg_notification_add(hh_pg *pg, const hh_notification_rec *n);
int hh_pg_job_probes(hh_pg *pg, long long job_id, int (*fn)(void *ctx, const hh_probe_rec *p),
		     void *ctx);
int hh_pg_job_notifications(hh_pg *pg, long long job_id,
			    int (*fn)(void *ctx, const hh_notification_rec *n), void *ctx);
int hh_pg_job_findings(hh_pg *pg, long long job_id, int (*fn)(void *ctx, const hh_finding_rec *f),
		       void *ctx);
int hh_pg_job_ids(hh_pg *pg, const char *repo, const char *state, long long offset, long long *ids,
		  size_t cap, size_t *n, long long *total);
int hh_pg_repo_activity(hh_pg *pg, const char *repo, hh_repo_activity *out);
int hh_pg_repo_names(hh_pg *pg, int (*fn)(void *ctx, const char *repo), void *ctx);
int hh_pg_outcomes_per_day(hh_pg *pg, long long since,
			   int (*fn)(void *ctx, long long day, const char *name, long long n),
			   void *ctx);

int hh_pg_lease_renew(hh_pg *pg, const long long *ids, size_t n);
int hh_pg_lease_drop(hh_pg *pg, long long job_id);
int hh_pg_lease_takeover(hh_pg *pg, hh_job *out);
int hh_pg_lease_forget_mine(hh_pg *pg);
int hh_pg_schema_version(hh_pg *pg, int *have, int *want);
/* 0 when the server answers a trivial query on this connection, else -1 with the error set. */
int hh_pg_health(hh_pg *pg);
long long hh_pg_prune_deliveries(hh_pg *pg, long long before, int batch);

#endif
