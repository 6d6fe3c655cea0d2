/*
 * pipeline: one accepted job → one verified commit on its branch (design L0–L2).
 *
 *   guard (path, repo) → connect (one SSH session for the whole job, or local) → preflight
 *   (work tree is a full git repository) → sync the mirror (libgit2, over the job's own
 *   session) → base = tip of the branch; the target is a regular file there → L3 budget →
 *   scratch directory on the host with only the target (at its relative path) and, beside it,
 *   the prompt file → fixer (argv, minimal environment, stdin /dev/null, wall-clock limit) →
 *   judge: nothing but the target changed or appeared (L1), the target changed (else no-diff)
 *   → check command on the host → diff lines in the mirror (L2) → commit in the mirror →
 *   push fast-forward only (via the host, or from the mirror) → verify the landed SHA.
 *
 * The job's state is written to the store before each step. A failure ends the job in state
 * failed with a reason code (job->reason) and a sentence (job->detail):
 *   repo-not-configured, path-not-allowed, repo-frozen, preflight-failed, rate-limited
 *   (state waiting), ollama-unavailable, fixer-failed, fixer-timeout, other-file-changed,
 *   no-diff, binary-change (the bytes changed, no text line did), check-failed, diff-too-large,
 *   push-failed, branch-moved, error. fixer-failed's detail carries the fixer's own last words.
 * The host's work tree is never modified: the fixer works in a scratch directory that is
 * removed afterwards, and pushes go through refs/healhook/pending.
 */
#ifndef HH_PIPELINE_H
#define HH_PIPELINE_H

#include "internal/config.h"
#include "internal/notify.h"
#include "internal/store.h"

#include <stdatomic.h>

typedef struct hh_pipeline {
	const hh_config *cfg;
	hh_store *store;        /* job updates are written here; NULL: nothing is stored */
	int dry_run;            /* fix, judge, check and count, but commit and push nothing */
	long long now;          /* unix seconds at start (for the L3 ledger); 0 = time(NULL) */
	const atomic_int *stop; /* set by the owner to end health watches early (shutdown) */
	hh_notifier *notifier;  /* every outcome is told here (may be NULL) */
	/* Called after each stage with its name and duration (may be NULL). */
	void (*on_stage)(void *ctx, const char *stage, double seconds, const char *note);
	void *ctx;
	/* Out: measurements of the last run. */
	int connections; /* TCP connections to the fix host */
	int channels;    /* ssh channels opened on them (exec and subsystem) */
	double seconds;  /* from start to the end of the push */
} hh_pipeline;

/* What the functions below return; < 0 (HH_ERR) when the job's state could not be stored. */
enum hh_pl_result {
	HH_PL_LANDED = 0, /* run: the fix landed; after_push: healed, or pushed with no watch */
	HH_PL_ENDED = 1,  /* the job ended otherwise, or waits: see job->state and job->reason */
};

/*
 * Runs job (its repo, branch, file, type, message are read; state, reason, detail, base_sha,
 * commit_sha, diff_lines, output_tail, stages and attempts are updated). Returns HH_PL_LANDED
 * when the fix landed (state pushed; with dry_run: checked, state unchanged), HH_PL_ENDED when
 * the job ended otherwise (see job->state and job->reason), -1 when its state could not be
 * stored.
 */
int hh_pipeline_run(hh_pipeline *p, hh_job *job);

/*
 * After a landed fix (state pushed): CI wait for a PR head with ci-wait, else the health watch
 * when health-url is set; reverts when it fails. Ends in pushed, healed, reverted or
 * revert-failed (the repository then frozen). Returns HH_PL_LANDED healed/pushed, HH_PL_ENDED
 * otherwise (a watch cut short by p->stop included), -1 when the state could not be stored.
 */
int hh_pipeline_after_push(hh_pipeline *p, hh_job *job);

/*
 * Resumes a job a restart found in progress: fixing/committed (the commit is checked on the
 * branch: landed → after_push, else the host's scratch directory is removed and the job queued
 * again once), watching (the watch starts again), reverting (finishes the revert; an existing
 * revert commit is found by its trailer, never pushed twice). Returns like
 * hh_pipeline_after_push.
 */
int hh_pipeline_resume(hh_pipeline *p, hh_job *job);

/* Tells p->notifier about job's outcome o (detail: the job's detail when NULL). */
void hh_pipeline_notify(hh_pipeline *p, const hh_job *job, enum hh_outcome o, const char *detail);

/* The commit message of a heal (the caller frees):
 *   fix(autoheal): [TYPE] auto-fix FILE\n\nError: <message, 200 chars>\n\n
 *   Healhook-Job: N\nHealhook-Finding: <fingerprint>\nReviewed-in: <PR URL>\n  */
char *hh_pipeline_commit_message(const hh_job *job, const char *fingerprint);

#endif
