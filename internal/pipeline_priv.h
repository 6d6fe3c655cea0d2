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
	hh_remote *r;        /* the job's one connection to the fix host */
	hh_mirror *m;        /* the repository's local mirror */
	char *scratch;       /* scratch directory on the host, removed by hh_pl_close */
	hh_git_channel ch;   /* git streams over r (push-via = host) */
	hh_git_peer peer;    /* where the mirror fetches from and pushes to */
	hh_buf stages;       /* JSON of stage durations, being built */
	double t0, ts;
	int host_clean;      /* the push script removed the pending ref and the scratch dir */
};

void hh_pl_stage(struct run *x, const char *name, const char *note);
/* Writes the job with state to the store. 0, or -1 when it could not be stored. */
int hh_pl_save(struct run *x, enum hh_job_state state);
/* Ends the job as failed with reason and detail; returns 1 (-1 if unsaved). */
int hh_pl_fail(struct run *x, const char *reason, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int hh_pl_exec(struct run *x, const char *const *argv, const char *cwd, long timeout_ms,
	       hh_exec_result *res);
const char *hh_pl_tail(const hh_exec_result *res);
int hh_pl_connect(struct run *x, int with_preflight);
int hh_pl_sync(struct run *x);
int hh_pl_target_at(struct run *x, const char *base, hh_buf *content, int *kind);
/* Pushes sha to the job's branch; 0 landed, 2 the branch moved, else hh_pl_fail's result. */
int hh_pl_push(struct run *x, const char *sha, const char *ref_suffix);
void hh_pl_close(struct run *x);
/* pipeline_host.c (push-via = host): sync and push as one remote script each. */
int hh_pl_host_sync(struct run *x, int with_preflight);
int hh_pl_host_push(struct run *x, const char *sha, const char *ref);
/* pipeline_fix.c: scratch, fixer and L1 judge in one remote script; fills after. */
int hh_pl_fix(struct run *x, const hh_buf *before, int kind, hh_buf *after);

#endif
