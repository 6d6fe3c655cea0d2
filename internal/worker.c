/*
 * worker: a small pool of threads around hh_store_job_claim() and hh_pipeline_run().
 * See worker.h.
 */
#include "internal/worker.h"
#include "internal/log.h"
#include "internal/pipeline.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct hh_worker {
	const hh_config *cfg;
	hh_notifier *notifier;
	atomic_int halt;   /* ends health watches early at shutdown (read without the lock) */
	long long *resume; /* jobs found in progress at start, run first */
	size_t nresume;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int stop;
	pthread_t *threads;
	size_t n;
	pthread_t lease_thread; /* renews this instance's job leases (shared store only) */
	int lease_started;
	long long *running; /* running[i]: the job thread i runs (0 = none), under lock */
};

/* Records (or clears, id 0) the job the calling worker thread runs, for the lease thread. */
static void set_running(hh_worker *w, long long id)
{
	pthread_t self = pthread_self();
	size_t i;

	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	for (i = 0; i < w->n; i++)
		if (pthread_equal(w->threads[i], self))
			w->running[i] = id;
	pthread_mutex_unlock(&w->lock);
}

static void set_str(char **dst, const char *v)
{
	free(*dst);
	*dst = v ? strdup(v) : NULL;
}

/* Moves waiting jobs back to queued when their repository's hour has room, or expires them. */
static int release_waiting(const hh_config *cfg, hh_store *st, long long now, hh_notifier *notifier)
{
	hh_job *jobs = NULL;
	size_t n = 0, i;
	int changed = 0;

	if (hh_store_jobs_in_state(st, HH_JOB_WAITING, &jobs, &n) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		hh_job *j = &jobs[i];
		const hh_repo_config *repo = hh_config_repo(cfg, j->repo);
		long ttl = repo ? repo->queue_ttl : 86400;
		long max = repo ? repo->max_fixes_per_hour : 0;

		if (now - j->created > ttl) {
			j->state = HH_JOB_EXPIRED;
			set_str(&j->reason, "expired");
			free(j->detail);
			j->detail = hh_asprintf("waited longer than queue-ttl (%lds)", ttl);
		} else if (hh_store_fix_runs_since(st, j->repo,
						   now - (repo ? repo->rate_window : 3600)) < max) {
			j->state = HH_JOB_QUEUED;
			set_str(&j->reason, NULL);
			set_str(&j->detail, NULL);
		} else {
			continue;
		}
		if (hh_store_job_update(st, j) == 0)
			changed++;
		if (j->state == HH_JOB_EXPIRED) {
			hh_pipeline p = {0};
			p.cfg = cfg;
			p.notifier = notifier;
			hh_pipeline_notify(&p, j, HH_OUT_EXPIRED, NULL);
		}
	}
	hh_store_jobs_free(jobs, n);
	return changed;
}

int hh_worker_recover(const hh_config *cfg, hh_store *st, long long now)
{
	return release_waiting(cfg, st, now, NULL);
}

/* The ids of jobs a restart finds in progress (fixing, committed, watching, reverting), and of
 * pushed jobs whose verdict is still owed (their watch was interrupted before it started). */
static int interrupted_jobs(const hh_config *cfg, hh_store *st, long long now, long long **ids,
			    size_t *nids)
{
	static const enum hh_job_state states[] = {HH_JOB_FIXING, HH_JOB_COMMITTED, HH_JOB_WATCHING,
						   HH_JOB_REVERTING, HH_JOB_PUSHED};
	size_t s, i;

	*ids = NULL;
	*nids = 0;
	for (s = 0; s < sizeof(states) / sizeof(states[0]); s++) {
		hh_job *jobs = NULL;
		size_t n = 0;
		if (hh_store_jobs_in_state(st, states[s], &jobs, &n) < 0)
			return -1;
		for (i = 0; i < n; i++) {
			const hh_repo_config *r = hh_config_repo(cfg, jobs[i].repo);
			long long *v;
			if (states[s] == HH_JOB_PUSHED &&
			    (!r || now - jobs[i].updated > 86400 ||
			     !(jobs[i].pr_head ? r->ci_wait : r->health_url != NULL)))
				continue;
			v = realloc(*ids, (*nids + 1) * sizeof(*v));
			if (!v)
				break;
			*ids = v;
			v[(*nids)++] = jobs[i].id;
		}
		hh_store_jobs_free(jobs, n);
	}
	return 0;
}

/* Runs a claimed job to its end: the fix, then what follows the push. */
static void run_job(const hh_config *cfg, hh_store *st, atomic_int *halt, hh_job *job,
		    hh_notifier *notifier)
{
	hh_pipeline p = {0};

	p.cfg = cfg;
	p.notifier = notifier;
	p.store = st;
	p.stop = halt;
	if (hh_pipeline_run(&p, job) == HH_PL_LANDED)
		hh_pipeline_after_push(&p, job);
}

/*
 * On a shared store: takes over a job whose owner's lease ran out (the owner died) and resumes
 * it as a restart would (an interrupted fix is cleaned up and queued again, a watch resumed, a
 * revert finished). Returns 1 if one ran, 0 if there was none, -1 on error.
 */
static int take_over_one(hh_worker *w, const hh_config *cfg, hh_store *st, atomic_int *halt,
			 hh_notifier *notifier)
{
	hh_pipeline p = {0};
	hh_job job;
	int rc = hh_store_lease_takeover(st, &job);

	if (rc <= 0)
		return rc;
	set_running(w, job.id);
	p.cfg = cfg;
	p.store = st;
	p.stop = halt;
	p.notifier = notifier;
	hh_pipeline_resume(&p, &job);
	set_running(w, 0);
	hh_store_lease_drop(st, job.id);
	hh_job_release(&job);
	return 1;
}

/* Claims and runs one job. Returns 1 if one ran, 0 if none was claimable, -1 on error. */
static int run_one(hh_worker *w, const hh_config *cfg, hh_store *st, atomic_int *halt,
		   hh_notifier *notifier)
{
	hh_job job;
	int rc;

	if ((rc = take_over_one(w, cfg, st, halt, notifier)) != 0)
		return rc;
	release_waiting(cfg, st, (long long)time(NULL), notifier);
	rc = hh_store_job_claim(st, NULL, 0, &job);
	if (rc <= 0)
		return rc;
	set_running(w, job.id);
	run_job(cfg, st, halt, &job, notifier);
	set_running(w, 0);
	hh_store_lease_drop(st, job.id);
	hh_job_release(&job);
	return 1;
}

/* Renews the leases of this instance's jobs every third of the lease, while the worker runs. */
static void *lease_main(void *arg)
{
	hh_worker *w = arg;
	hh_store *st = NULL;
	long every = w->cfg->lease > 3 ? w->cfg->lease / 3 : 1;

	long long *ids = calloc(w->n + 1, sizeof(*ids));
	size_t n, i;

	pthread_mutex_lock(&w->lock);
	while (!w->stop && ids) {
		struct timespec ts;

		for (i = n = 0; i < w->n; i++)
			if (w->running[i])
				ids[n++] = w->running[i];
		pthread_mutex_unlock(&w->lock);
		if (!st && hh_store_open(&st, w->cfg->state_dir) < 0)
			hh_log(HH_LOG_ERROR, "worker.lease", "error", hh_error_last(), NULL);
		if (st && hh_store_lease_renew(st, ids, n) < 0) {
			hh_log(HH_LOG_ERROR, "worker.lease", "error", hh_error_last(), NULL);
			hh_store_close(st);
			st = NULL;
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += every;
		pthread_mutex_lock(&w->lock);
		if (!w->stop)
			pthread_cond_timedwait(&w->cond, &w->lock, &ts);
	}
	pthread_mutex_unlock(&w->lock);
	hh_store_close(st);
	free(ids);
	return NULL;
}

/* Takes one job id from the resume list (0 when empty). */
static long long next_resume(hh_worker *w)
{
	long long id = 0;

	pthread_mutex_lock(&w->lock);
	if (w->nresume)
		id = w->resume[--w->nresume];
	pthread_mutex_unlock(&w->lock);
	return id;
}

int hh_worker_drain(const hh_config *cfg, hh_store *st, hh_notifier *notifier)
{
	int n = 0, rc;

	while ((rc = run_one(NULL, cfg, st, NULL, notifier)) > 0)
		n++;
	return rc < 0 ? -1 : n;
}

static void *worker_main(void *arg)
{
	hh_worker *w = arg;
	hh_store *st = NULL;

	for (;;) {
		int rc = 0, stop;

		if (!st && hh_store_open(&st, w->cfg->state_dir) < 0)
			hh_log(HH_LOG_ERROR, "worker.store", "error", hh_error_last(), NULL);
		if (st) {
			long long id = next_resume(w);
			hh_job job;
			if (id && hh_store_job_get(st, id, &job) == 0) {
				hh_pipeline p = {0};
				p.cfg = w->cfg;
				p.store = st;
				p.stop = &w->halt;
				p.notifier = w->notifier;
				hh_pipeline_resume(&p, &job);
				hh_job_release(&job);
				rc = 1;
			} else {
				rc = run_one(w, w->cfg, st, &w->halt, w->notifier);
			}
		}
		if (rc < 0)
			hh_log(HH_LOG_ERROR, "worker.claim", "error", hh_error_last(), NULL);
		pthread_mutex_lock(&w->lock);
		if (rc <= 0 && !w->stop) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 250 * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&w->cond, &w->lock, &ts);
		}
		stop = w->stop;
		pthread_mutex_unlock(&w->lock);
		if (stop)
			break;
	}
	hh_store_close(st);
	return NULL;
}

int hh_worker_start(hh_worker **out, const hh_config *cfg, hh_notifier *notifier)
{
	hh_worker *w = calloc(1, sizeof(*w));
	size_t i, n = cfg->worker_parallel > 0 ? (size_t)cfg->worker_parallel : 0;

	if (!w)
		return hh_error("out of memory");
	w->cfg = cfg;
	w->notifier = notifier;
	if (n) {
		hh_store *st = NULL;
		if (hh_store_open(&st, cfg->state_dir) == 0) {
			/* Shared: other instances' jobs are theirs; ours from a previous run are
			 * taken over at once (by any instance) instead of resumed from a list. */
			if (hh_store_shared(st))
				hh_store_lease_forget_mine(st);
			else
				interrupted_jobs(cfg, st, (long long)time(NULL), &w->resume,
						 &w->nresume);
			w->lease_started = hh_store_shared(st); /* the thread starts below */
			hh_store_close(st);
		}
	}
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	w->threads = calloc(n + 1, sizeof(*w->threads));
	w->running = calloc(n + 1, sizeof(*w->running));
	if (!w->threads || !w->running) {
		free(w->threads);
		free(w->running);
		free(w);
		return hh_error("out of memory");
	}
	/* Under the lock: set_running() finds a thread by its entry in threads[0..n). */
	pthread_mutex_lock(&w->lock);
	for (i = 0; i < n; i++) {
		if (pthread_create(&w->threads[i], NULL, worker_main, w) != 0)
			break;
		w->n++;
	}
	pthread_mutex_unlock(&w->lock);
	if (w->lease_started && pthread_create(&w->lease_thread, NULL, lease_main, w) != 0)
		w->lease_started = 0;
	*out = w;
	return 0;
}

void hh_worker_wake(hh_worker *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

void hh_worker_stop(hh_worker *w)
{
	size_t i;

	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop = 1;
	atomic_store(&w->halt, 1);
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	for (i = 0; i < w->n; i++)
		pthread_join(w->threads[i], NULL);
	if (w->lease_started)
		pthread_join(w->lease_thread, NULL);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
	free(w->threads);
	free(w->running);
	free(w->resume);
	free(w);
}
