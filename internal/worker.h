/*
 * worker: takes jobs from the store and runs them through the pipeline: one job at a time per
 * repository (the store's claim guarantees it, across threads and processes), up to
 * worker.parallel repositories at once.
 *
 * On a shared store (PostgreSQL, several instances) each claimed job carries a lease: one more
 * thread renews the leases of the jobs this process runs, and before claiming, a worker takes
 * over a job whose owner's lease ran out and resumes it as a restart would. At start this
 * instance's own jobs from a previous run (same instance id) are released for takeover instead
 * of resumed from a list, so that no job is run by two instances.
 */
#ifndef HH_WORKER_H
#define HH_WORKER_H

#include "internal/config.h"
#include "internal/notify.h"
#include "internal/store.h"

typedef struct hh_worker hh_worker;

/* Outcomes are told to notifier (may be NULL; not owned). Starts cfg->worker_parallel threads (each
 * with its own store handle); none for 0. Jobs left in progress by a previous run are resumed
 * first. */
int hh_worker_start(hh_worker **out, const hh_config *cfg, hh_notifier *notifier);
/* Wakes idle threads (a job was queued). */
void hh_worker_wake(hh_worker *w);
/* Lets running jobs finish, then stops the threads. */
void hh_worker_stop(hh_worker *w);

/* Runs claimable jobs in the calling thread until none is left. Returns how many ran, or -1. */
int hh_worker_drain(const hh_config *cfg, hh_store *st, hh_notifier *notifier);

/*
 * Waiting jobs whose window has room go back to queued, those older than queue-ttl expire.
 * Returns the number of jobs changed, or -1. (Jobs a restart finds in progress are resumed by
 * the worker's threads first: see hh_pipeline_resume.)
 */
int hh_worker_recover(const hh_config *cfg, hh_store *st, long long now);

#endif
