/*
 * result: a job as the heal result object of design.md, for `heal --json`, `history --json`
 * and the Actions outputs:
 *   {"success", "action": "CODE_FIX", "message", "commit_sha", "reverted", "job", "repo",
 *    "file", "state", "diff_lines", "revert_sha", "reason", "branch", "stages"}
 */
#ifndef HH_RESULT_H
#define HH_RESULT_H

#include "internal/buf.h"
#include "internal/store.h"

/* 1 when the job's fix landed (pushed, watching, healed). */
int hh_job_succeeded(const hh_job *job);
/* A one-line sentence about the outcome (caller frees). */
char *hh_job_message(const hh_job *job);
/* Appends the result object. state_override replaces the state name when non-NULL.
 * Returns 0, or -1 when out failed (out of memory: out holds no usable result). */
int hh_job_result_json(const hh_job *job, const char *state_override, hh_buf *out);
/* Appends history --json's array (a result object per job, plus "quarantined": quarantined[i]
 * non-zero; quarantined may be NULL for none) and a newline. Returns 0, or -1 when out failed. */
int hh_history_json(const hh_job *jobs, const int *quarantined, size_t n, hh_buf *out);

#endif
