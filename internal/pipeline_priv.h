/*
 * pipeline_priv: what pipeline.c (the fix) and pipeline_after.c (health watch, revert,
 * recovery) share. Private to the pipeline module.
 */
#ifndef HH_PIPELINE_PRIV_H
#define HH_PIPELINE_PRIV_H

#include "internal/buf.h"
#include "internal/gitops.h"
#include "internal/pipeline.h"
#include "internal/remote.h"

/* One run of the pipeline over one job. */
struct run {
	hh_pipeline *p;
	hh_job *job;
	const hh_repo_config *repo;
	hh_remote *r;      /* the job's one connection to the fix host */
	hh_mirror *m;      /* the repository's local mirror */
	char *scratch;     /* scratch directory on the host, removed by hh_pl_close */
	hh_git_channel ch; /* git streams over r (push-via = host) */
	hh_git_peer peer;  /* where the mirror fetches from and pushes to */
	hh_buf stages;     /* JSON of stage durations, being built */
	char *fixer_path;  /* PATH of the fixer and the check (fixer.path expanded on the host) */
	double t0, ts;
	int host_clean;        /* the push script removed the pending ref and the scratch dir */
	const char *watch_sha; /* the commit the current health watch waits for (borrowed) */
};

void hh_pl_stage(struct run *x, const char *name, const char *note);
/* Writes the job with state to the store. 0, or -1 when it could not be stored. */
int hh_pl_save(struct run *x, enum hh_job_state state);
/* Ends the job as failed with reason and detail; returns HH_PL_ENDED (-1 if unsaved). */
int hh_pl_fail(struct run *x, const char *reason, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int hh_pl_exec(struct run *x, const char *const *argv, const char *cwd, long timeout_ms,
	       hh_exec_result *res);
const char *hh_pl_tail(const hh_exec_result *res);
/* Seconds on the monotonic clock (the stages' times, deadlines). */
double hh_pl_now_s(void);
/* Sleeps s seconds, fractions included (a signal may cut it short). */
void hh_pl_sleep_s(double s);
int hh_pl_connect(struct run *x, int with_preflight);
int hh_pl_sync(struct run *x);
int hh_pl_target_at(struct run *x, const char *base, hh_buf *content, int *kind);
/* Pushes sha to the job's branch; 0 landed, HH_EREJECTED the branch moved (nothing recorded:
 * the caller rebuilds or gives up), else hh_pl_fail's result. */
int hh_pl_push(struct run *x, const char *sha, const char *ref_suffix);
void hh_pl_close(struct run *x);
/* pipeline_host.c (push-via = host): sync and push as one remote script each. */
int hh_pl_host_sync(struct run *x, int with_preflight);
int hh_pl_host_push(struct run *x, const char *sha, const char *ref);
/* Removes scratch (when non-NULL; only a /tmp/healhook-* directory) and, when pending, the
 * work tree's refs/healhook/pending, in one exec channel (no SFTP). 0, or -1 (error set). */
int hh_pl_host_clean(struct run *x, const char *scratch, int pending);
/* pipeline_fix.c: fixer lookup, scratch, fixer and L1 judge in one remote script; fills
 * after. */
int hh_pl_fix(struct run *x, const hh_buf *before, int kind, hh_buf *after);

/* pipeline_fixer.c. Reads the fixer probe's answer (fixer_path.h) from *s (advanced past it)
 * and keeps x->fixer_path, *found (if non-NULL) = where the program is (caller frees); 0, or
 * hh_pl_fail's result (fixer-not-found, naming the program, the PATH and fixer.path). */
int hh_pl_fixer_located(struct run *x, const char **s, char **found);
/* Appends PATH=x->fixer_path to env (nothing when unknown). */
int hh_pl_env_path(struct run *x, hh_strv *env);
/* The fixer did not exit 0: 126/127 (it could not be started) is fixer-not-found, like
 * hh_pl_find_fixer; anything else fixer-failed. The detail ends with the tail of its output. */
int hh_pl_fixer_exit(struct run *x, int status, int sig);
/* The fixer exited 0 and the target is unchanged: no-diff when it reported an applied edit,
 * else fixer-failed with the tail of its output (Aider exits 0 when the model is unreachable). */
int hh_pl_unchanged(struct run *x);
/* hh_pl_exec with PATH=x->fixer_path added to the command's environment. */
int hh_pl_exec_path(struct run *x, const char *const *argv, const char *cwd, long timeout_ms,
		    hh_exec_result *res);

#endif
