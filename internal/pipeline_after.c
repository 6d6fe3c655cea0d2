/*
 * pipeline_after: what follows a push (design L4 and the freeze rule), and recovery.
 *
 *   pushed → (PR head: CI wait with ci-wait, else done) | (health-url: watching → healed, or
 *   reverting → revert commit built in the mirror on the branch's current tip, pushed the
 *   same way → health watched again → reverted | reverted with reason unhealthy-after-revert
 *   | revert-failed) | (nothing to watch: done)
 *
 * A job is reverted exactly when its revert commit is on the branch. A reverted or
 * revert-failed job's findings are quarantined; max-reverts reverts in a row, a failed revert,
 * or health still failing after a landed revert freeze the repository until `healhook
 * unfreeze`. Every step writes the job's state first, so
 * a restart resumes it: an existing revert commit is recognised by its Healhook-Job trailer and
 * never built or pushed twice.
 */
#include "internal/ci.h"
#include "internal/findings.h"
#include "internal/gitea.h"
#include "internal/health.h"
#include "internal/log.h"
#include "internal/pipeline_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_REBUILDS 3

/* v may be *dst itself (do_revert and revert_failed are given job->detail): copy, then free. */
static void set_str(char **dst, const char *v)
{
	char *copy = v ? hh_strdup(v) : NULL;

	free(*dst);
	*dst = copy;
}

static void init_run(struct run *x, hh_pipeline *p, hh_job *job)
{
	memset(x, 0, sizeof(*x));
	x->p = p;
	x->job = job;
	x->repo = hh_config_repo(p->cfg, job->repo);
	x->t0 = x->ts = hh_pl_now_s();
	/* Continue the job's stage record: drop its closing brace. */
	if (job->stages && job->stages[0] == '{') {
		hh_buf_puts(&x->stages, job->stages);
		if (x->stages.len && x->stages.ptr[x->stages.len - 1] == '}')
			x->stages.ptr[--x->stages.len] = '\0';
	} else {
		hh_buf_puts(&x->stages, "{");
	}
}

static void log_job(const hh_job *job, const char *event, const char *detail)
{
	char id[24];

	snprintf(id, sizeof(id), "%lld", job->id);
	hh_log(HH_LOG_INFO, event, "job", id, "repo", job->repo, "branch", job->branch, "file",
	       job->file, "commit", job->commit_sha, "revert", job->revert_sha, "detail", detail,
	       NULL);
}

static void freeze(struct run *x, const char *why)
{
	if (x->p->store && hh_store_repo_set_frozen(x->p->store, x->job->repo, 1, why) < 0)
		hh_log(HH_LOG_ERROR, "repo.freeze", "repo", x->job->repo, "error", hh_error_last(),
		       NULL);
	hh_log(HH_LOG_WARN, "repo.frozen", "repo", x->job->repo, "why", why, NULL);
}

/* Reverts in a row (most recent landed jobs of the repository), this one included. */
static long reverts_in_a_row(struct run *x)
{
	hh_job *jobs = NULL;
	size_t n = 0, i;
	long k = 0;

	if (!x->p->store || hh_store_jobs_recent(x->p->store, x->job->repo, 50, &jobs, &n) < 0)
		return 0;
	for (i = 0; i < n; i++) {
		if (jobs[i].state == HH_JOB_REVERTED)
			k++;
		else if (jobs[i].state == HH_JOB_HEALED || jobs[i].state == HH_JOB_PUSHED)
			break;
	}
	hh_store_jobs_free(jobs, n);
	return k;
}

static void quarantine(struct run *x)
{
	hh_finding f = {0};
	char fp[65];

	if (!x->p->store)
		return;
	f.file = x->job->file;
	f.type = x->job->type ? x->job->type : "review";
	f.message = x->job->message ? x->job->message : "";
	hh_finding_fingerprint(x->job->repo, x->job->branch, &f, fp);
	if (hh_store_quarantine_job(x->p->store, x->job->id, x->job->repo, x->job->file, fp,
				    (long long)time(NULL)) < 0)
		hh_log(HH_LOG_ERROR, "job.quarantine", "error", hh_error_last(), NULL);
}

/* Stores one probe of the watch for the status pages (at most HH_STORE_MAX_PROBES a job). */
static void record_probe(void *ctx, long status, const char *verdict, const char *answer)
{
	struct run *x = ctx;
	hh_probe_rec p = {0};

	p.job_id = x->job->id;
	p.sha = x->watch_sha;
	p.at = (long long)time(NULL);
	p.status = status;
	p.verdict = verdict;
	p.answer = answer;
	if (x->p->store && x->job->id && hh_store_probe_add(x->p->store, &p) < 0)
		hh_log(HH_LOG_WARN, "job.probe", "error", hh_error_last(), NULL);
}

/* Watches health for sha. Returns the verdict; w->why says what was seen. */
static enum hh_health_verdict watch(struct run *x, const char *sha, hh_health_watch *w)
{
	memset(w, 0, sizeof(*w));
	w->repo = x->repo;
	w->sha = sha;
	w->stop = x->p->stop;
	w->on_probe = record_probe;
	w->probe_ctx = x;
	x->watch_sha = sha;
	return hh_health_run(w);
}

/*
 * Waits for the CI verdict on the pushed commit (ci-wait): the latest status of each awaited
 * context, judged by hh_ci_judge() without healhook's own context, which stays pending until
 * this verdict. Returns 1 passed, 0 failed or no verdict within health-timeout, -1 stopping;
 * why names the contexts (the failed ones, or every awaited one and what it was).
 */
static int ci_wait(struct run *x, char *why, size_t whylen)
{
	hh_gitea g = {x->p->cfg->gitea_url, x->p->cfg->gitea_token, x->p->cfg->gitea_timeout};
	/* the whole health-timeout (whole seconds of time() gave CI up to one second less) */
	double end = hh_pl_now_s() + (double)x->repo->health_timeout, left;
	double step = x->repo->health_interval < 1 ? 1 : (double)x->repo->health_interval;
	enum hh_ci_verdict v = HH_CI_WAITING;
	hh_ci_statuses none = {0};
	hh_buf seen = HH_BUF_INIT, err = HH_BUF_INIT;
	const char *said;
	int rc;

	hh_ci_judge(&none, &x->repo->ci_contexts, &seen); /* what is awaited, before any answer */
	for (;;) {
		hh_ci_statuses st = {0};

		hh_buf_clear(&err);
		if (hh_gitea_commit_statuses(&g, x->job->repo, x->job->commit_sha, &st) == 0) {
			v = hh_ci_judge(&st, &x->repo->ci_contexts, &seen);
		} else {
			hh_buf_puts(&err, hh_error_last());
			hh_log(HH_LOG_WARN, "job.ci", "repo", x->job->repo, "commit",
			       x->job->commit_sha, "error", err.ptr, NULL);
		}
		hh_ci_statuses_release(&st);
		left = end - hh_pl_now_s();
		if (v != HH_CI_WAITING || left <= 0 || (x->p->stop && atomic_load(x->p->stop)))
			break;
		/* the next look at the deadline at the latest: the last answer is read then */
		hh_pl_sleep_s(left < step ? left : step);
	}
	said = seen.ptr ? seen.ptr : "";
	if (v == HH_CI_PASSED) {
		snprintf(why, whylen, "CI passed on %.12s: %s", x->job->commit_sha, said);
		rc = 1;
	} else if (v == HH_CI_FAILED) {
		snprintf(why, whylen, "CI failed on %.12s: %s", x->job->commit_sha, said);
		rc = 0;
	} else {
		snprintf(why, whylen, "CI did not report on %.12s within %lds: awaited %s%s%s",
			 x->job->commit_sha, x->repo->health_timeout, said,
			 err.len ? "; last error: " : "", err.len ? err.ptr : "");
		rc = (x->p->stop && atomic_load(x->p->stop)) ? -1 : 0;
	}
	hh_buf_release(&seen);
	hh_buf_release(&err);
	return rc;
}

/* Builds (or finds) the revert of the job's commit on the branch tip and pushes it. */
static int revert(struct run *x)
{
	const hh_config *cfg = x->p->cfg;
	hh_commit_info info = {0};
	char tip[41], sha[41], trailer[64], id[24];
	int rc, attempt, found;

	snprintf(id, sizeof(id), "%lld", x->job->id);
	snprintf(trailer, sizeof(trailer), "Healhook-Job: %lld", x->job->id);
	info.name = cfg->commit_name;
	info.email = cfg->commit_email;
	info.time = (long long)time(NULL);
	info.message = trailer;
	if ((rc = hh_pl_connect(x, 0)) != 0)
		return rc;
	for (attempt = 0;; attempt++) {
		if (hh_mirror_resolve(x->m, x->job->branch, tip) < 0)
			return hh_pl_fail(x, "revert-failed", "%s", hh_error_last());
		found = hh_mirror_find_revert(x->m, tip, id, sha);
		if (found < 0)
			return hh_pl_fail(x, "revert-failed", "%s", hh_error_last());
		if (found) {
			/* Landed before a restart: never build or push it twice. */
			set_str(&x->job->revert_sha, sha);
			hh_pl_stage(x, "revert-found", sha);
			return 0;
		}
		if (hh_mirror_is_ancestor(x->m, x->job->commit_sha, tip) != 1)
			return hh_pl_fail(x, "revert-failed", "commit %.12s is no longer on %s",
					  x->job->commit_sha, x->job->branch);
		if (hh_mirror_revert(x->m, x->job->commit_sha, tip, &info, sha) < 0)
			return hh_pl_fail(x, "revert-failed", "cannot revert %.12s on %s: %s",
					  x->job->commit_sha, x->job->branch, hh_error_last());
		set_str(&x->job->revert_sha, sha);
		if (hh_pl_save(x, HH_JOB_REVERTING) < 0)
			return -1;
		rc = hh_pl_push(x, sha, "-revert");
		if (rc == 0) {
			hh_pl_stage(x, "revert", sha);
			return 0;
		}
		if (rc != HH_EREJECTED)
			return rc;
		if (attempt + 1 >= MAX_REBUILDS)
			return hh_pl_fail(x, "revert-failed", "%s kept moving; revert gave up",
					  x->job->branch);
		if ((rc = hh_pl_sync(x)) != 0)
			return rc;
	}
}

/* Ends a failed revert: the state is revert-failed and the repository is frozen. */
static int revert_failed(struct run *x, const char *why)
{
	char *w = hh_asprintf("revert of job %lld failed: %s", x->job->id, why);

	if (!x->job->reason || strcmp(x->job->reason, "revert-failed") != 0)
		set_str(&x->job->reason, "revert-failed");
	set_str(&x->job->detail, why);
	/* why may have been the old detail, which set_str() just freed. */
	why = x->job->detail ? x->job->detail : "revert failed";
	quarantine(x); /* the fix is known bad: never made again without a human */
	freeze(x, w ? w : why);
	free(w);
	log_job(x->job, "job.revert-failed", why);
	if (hh_pl_save(x, HH_JOB_REVERT_FAILED) < 0)
		return -1;
	hh_pipeline_notify(x->p, x->job, HH_OUT_REVERT_FAILED, NULL);
	return HH_PL_ENDED;
}

/*
 * The revert landed (it is on the branch) but health still fails: the job is reverted
 * (reverted: true) with its own reason and notice, its finding quarantined, the repository
 * frozen with that reason. Not a failed revert: the revert did what it could.
 */
static int revert_unhealthy(struct run *x, const char *seen)
{
	char *d = hh_asprintf("health still failing after the revert: %s", seen);
	char *w = hh_asprintf("health still failing after the revert %.12s of job %lld: %s",
			      x->job->revert_sha ? x->job->revert_sha : "", x->job->id, seen);
	const char *why;

	set_str(&x->job->reason, "unhealthy-after-revert");
	set_str(&x->job->detail, d ? d : seen);
	why = x->job->detail ? x->job->detail : "health still failing after the revert";
	free(d);
	quarantine(x);
	freeze(x, w ? w : why);
	free(w);
	if (hh_pl_save(x, HH_JOB_REVERTED) < 0)
		return -1;
	log_job(x->job, "job.revert-unhealthy", why);
	hh_pipeline_notify(x->p, x->job, HH_OUT_REVERT_UNHEALTHY, NULL);
	return HH_PL_ENDED;
}

/* From reverting: build/push the revert, watch again, settle. */
static int do_revert(struct run *x, const char *why)
{
	hh_health_watch w;
	enum hh_health_verdict v;
	long k;
	int rc;

	/* why may be job->detail itself (a resumed job): after set_str() use the new copy. */
	if (!x->job->detail || !*x->job->detail) {
		set_str(&x->job->detail, why);
		why = x->job->detail ? x->job->detail : "";
	}
	if (hh_pl_save(x, HH_JOB_REVERTING) < 0)
		return -1;
	log_job(x->job, "job.reverting", why);
	rc = revert(x);
	hh_pl_close(x);
	if (rc < 0)
		return -1;
	if (rc != 0)
		return revert_failed(x, x->job->detail ? x->job->detail : "revert failed");
	if (x->repo->health_url && !x->job->pr_head) {
		v = watch(x, x->job->revert_sha, &w);
		if (v == HH_VERDICT_STOPPED)
			return HH_PL_ENDED;
		hh_pl_stage(x, "watch-revert", NULL);
		if (v != HH_VERDICT_HEALTHY)
			return revert_unhealthy(x, w.why);
	}
	set_str(&x->job->reason, "unhealthy");
	set_str(&x->job->detail, why);
	why = x->job->detail ? x->job->detail : "";
	quarantine(x);
	if (hh_pl_save(x, HH_JOB_REVERTED) < 0)
		return -1;
	log_job(x->job, "job.reverted", why);
	hh_pipeline_notify(x->p, x->job, HH_OUT_REVERTED, NULL);
	k = reverts_in_a_row(x);
	if (k >= x->repo->max_reverts) {
		char *m = hh_asprintf("%ld reverts in a row (max-reverts %ld)", k,
				      x->repo->max_reverts);
		freeze(x, m ? m : "max-reverts");
		hh_pipeline_notify(x->p, x->job, HH_OUT_FROZEN, m);
		free(m);
	}
	return HH_PL_ENDED;
}

int hh_pipeline_after_push(hh_pipeline *p, hh_job *job)
{
	struct run x;
	hh_health_watch w;
	enum hh_health_verdict v;
	char why[2048];
	int rc = HH_PL_LANDED;

	init_run(&x, p, job);
	if (!x.repo) {
		hh_buf_release(&x.stages);
		return HH_PL_LANDED;
	}
	if (job->pr_head) {
		if (!x.repo->ci_wait || !p->cfg->gitea_url) {
			rc = hh_pl_save(&x, HH_JOB_PUSHED) < 0 ? -1 : HH_PL_LANDED;
			goto out;
		}
		if (hh_pl_save(&x, HH_JOB_WATCHING) < 0) {
			rc = -1;
			goto out;
		}
		rc = ci_wait(&x, why, sizeof(why));
		if (rc < 0) {
			rc = HH_PL_ENDED;
			goto out;
		}
		hh_pl_stage(&x, "ci", NULL);
		if (rc == 1) {
			rc = hh_pl_save(&x, HH_JOB_HEALED) < 0 ? -1 : HH_PL_LANDED;
			log_job(job, "job.healed", why);
			hh_pipeline_notify(p, job, HH_OUT_HEALED, NULL);
			goto out;
		}
		rc = do_revert(&x, why);
		goto out;
	}
	if (!x.repo->health_url) {
		rc = hh_pl_save(&x, HH_JOB_PUSHED) < 0 ? -1 : HH_PL_LANDED;
		goto out;
	}
	if (hh_pl_save(&x, HH_JOB_WATCHING) < 0) {
		rc = -1;
		goto out;
	}
	v = watch(&x, job->commit_sha, &w);
	if (v == HH_VERDICT_STOPPED) {
		rc = HH_PL_ENDED; /* shutting down: the watch resumes after the restart */
		goto out;
	}
	hh_pl_stage(&x, "watch", NULL);
	if (v == HH_VERDICT_HEALTHY) {
		rc = hh_pl_save(&x, HH_JOB_HEALED) < 0 ? -1 : HH_PL_LANDED;
		log_job(job, "job.healed", NULL);
		hh_pipeline_notify(p, job, HH_OUT_HEALED, NULL);
		goto out;
	}
	rc = do_revert(&x, w.why);
out:
	hh_pl_close(&x);
	hh_buf_release(&x.stages);
	return rc;
}

int hh_pipeline_resume(hh_pipeline *p, hh_job *job)
{
	struct run x;
	char tip[41];
	int rc = HH_PL_ENDED, landed = 0;

	init_run(&x, p, job);
	if (!x.repo || job->state == HH_JOB_QUEUED) {
		hh_buf_release(&x.stages);
		return HH_PL_ENDED;
	}
	log_job(job, "job.resume", hh_job_state_name(job->state));
	switch (job->state) {
	case HH_JOB_PUSHED: /* interrupted before its watch (or CI wait) was stored */
	case HH_JOB_WATCHING: hh_buf_release(&x.stages); return hh_pipeline_after_push(p, job);
	case HH_JOB_REVERTING:
		rc = do_revert(&x, job->detail ? job->detail : "resumed after a restart");
		break;
	case HH_JOB_FIXING:
	case HH_JOB_COMMITTED:
		/* Did the commit land before the interruption? Then it must not be pushed again. */
		if ((rc = hh_pl_connect(&x, 0)) != 0)
			break;
		if (job->commit_sha && hh_mirror_resolve(x.m, job->branch, tip) == 0 &&
		    hh_mirror_is_ancestor(x.m, job->commit_sha, tip) == 1)
			landed = 1;
		if (job->detail && strncmp(job->detail, "scratch: ", 9) == 0 &&
		    hh_pl_host_clean(&x, job->detail + 9, 0) < 0)
			hh_log(HH_LOG_WARN, "job.cleanup", "path", job->detail + 9, "error",
			       hh_error_last(), NULL);
		set_str(&job->detail, NULL); /* not a reason for a later revert */
		hh_pl_close(&x);
		if (landed) {
			if (hh_pl_save(&x, HH_JOB_PUSHED) < 0) {
				rc = -1;
				break;
			}
			hh_buf_release(&x.stages);
			return hh_pipeline_after_push(p, job);
		}
		if (job->attempts < 2) {
			rc = hh_pl_save(&x, HH_JOB_QUEUED) < 0 ? -1 : HH_PL_ENDED;
			log_job(job, "job.requeued", "interrupted before its push");
		} else {
			rc = hh_pl_fail(&x, "interrupted", "interrupted %d times before its push",
					job->attempts);
		}
		break;
	default: break;
	}
	hh_pl_close(&x);
	hh_buf_release(&x.stages);
	return rc;
}
