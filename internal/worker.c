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
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int stop;
	pthread_t *threads;
	size_t n;
};

static void set_str(char **dst, const char *v)
{
	free(*dst);
	*dst = v ? strdup(v) : NULL;
}

/* Moves waiting jobs back to queued when their repository's hour has room, or expires them. */
static int release_waiting(const hh_config *cfg, hh_store *st, long long now)
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
		} else if (hh_store_fix_runs_since(st, j->repo, now - 3600) < max) {
			j->state = HH_JOB_QUEUED;
			set_str(&j->reason, NULL);
			set_str(&j->detail, NULL);
		} else {
			continue;
		}
		if (hh_store_job_update(st, j) == 0)
			changed++;
	}
	hh_store_jobs_free(jobs, n);
	return changed;
}

int hh_worker_recover(const hh_config *cfg, hh_store *st, long long now)
{
	static const enum hh_job_state interrupted[] = {HH_JOB_FIXING, HH_JOB_COMMITTED};
	size_t s, i, n;
	int changed = 0, rc;

	for (s = 0; s < 2; s++) {
		hh_job *jobs = NULL;
		if (hh_store_jobs_in_state(st, interrupted[s], &jobs, &n) < 0)
			return -1;
		for (i = 0; i < n; i++) {
			hh_job *j = &jobs[i];
			char id[24];
			if (j->attempts < 2) {
				j->state = HH_JOB_QUEUED;
			} else {
				j->state = HH_JOB_FAILED;
				set_str(&j->reason, "interrupted");
				free(j->detail);
				j->detail = hh_asprintf("interrupted %d times (last in %s)", j->attempts,
							hh_job_state_name(interrupted[s]));
			}
			snprintf(id, sizeof(id), "%lld", j->id);
			hh_log(HH_LOG_WARN, "job.recovered", "job", id, "was",
			       hh_job_state_name(interrupted[s]), "now", hh_job_state_name(j->state),
			       NULL);
			if (hh_store_job_update(st, j) == 0)
				changed++;
		}
		hh_store_jobs_free(jobs, n);
	}
	rc = release_waiting(cfg, st, now);
	return rc < 0 ? -1 : changed + rc;
}

/* Claims and runs one job. Returns 1 if one ran, 0 if none was claimable, -1 on error. */
static int run_one(const hh_config *cfg, hh_store *st)
{
	hh_pipeline p = {0};
	hh_job job;
	int rc;

	release_waiting(cfg, st, (long long)time(NULL));
	rc = hh_store_job_claim(st, NULL, 0, &job);
	if (rc <= 0)
		return rc;
	p.cfg = cfg;
	p.store = st;
	hh_pipeline_run(&p, &job);
	hh_job_release(&job);
	return 1;
}

int hh_worker_drain(const hh_config *cfg, hh_store *st)
{
	int n = 0, rc;

	while ((rc = run_one(cfg, st)) > 0)
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
		if (st)
			rc = run_one(w->cfg, st);
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

int hh_worker_start(hh_worker **out, const hh_config *cfg)
{
	hh_worker *w = calloc(1, sizeof(*w));
	size_t i, n = cfg->worker_parallel > 0 ? (size_t)cfg->worker_parallel : 0;

	if (!w)
		return hh_error("out of memory");
	w->cfg = cfg;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	w->threads = calloc(n + 1, sizeof(*w->threads));
	if (!w->threads) {
		free(w);
		return hh_error("out of memory");
	}
	for (i = 0; i < n; i++) {
		if (pthread_create(&w->threads[i], NULL, worker_main, w) != 0)
			break;
		w->n++;
	}
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
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	for (i = 0; i < w->n; i++)
		pthread_join(w->threads[i], NULL);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
	free(w->threads);
	free(w);
}
