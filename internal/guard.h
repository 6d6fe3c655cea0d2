/*
 * guard: the pure guardrail decisions (no clock, environment, disk or network), so that they
 * can be tested exhaustively. The decisions that need the store (duplicate, quarantined,
 * frozen, the hourly budget) take its answers as arguments.
 */
#ifndef HH_GUARD_H
#define HH_GUARD_H

#include "internal/config.h"

/* Verdict reasons (static strings, part of the output contract). */
#define HH_REASON_PATH "path-not-allowed"
#define HH_REASON_REVIEWER "reviewer-not-allowed"
#define HH_REASON_OWN "own-account"
#define HH_REASON_DUPLICATE "duplicate"
#define HH_REASON_REPO "repo-not-configured"
#define HH_REASON_FROZEN "repo-frozen"
#define HH_REASON_QUARANTINED "quarantined"

/*
 * L1 on the path alone: relative, no "." or ".." component, no empty component or one starting
 * with '-' (it could be read as an option), no control
 * characters or backslashes, at most 4096 bytes, and matching one of the repo's allow
 * patterns. Returns NULL when allowed, else HH_REASON_PATH.
 */
const char *hh_guard_path(const hh_repo_config *repo, const char *path);

/*
 * The verdict on one finding, in this order: repository not configured (repo == NULL), the
 * event came from healhook's own account (own_login, case-insensitive), the sender is not a
 * listed reviewer, the path, the repository is frozen, the finding is quarantined, it is a
 * duplicate. Returns NULL when accepted, else the reason.
 */
const char *hh_guard_verdict(const hh_repo_config *repo, const char *own_login, const char *sender,
			     const char *path, int frozen, int quarantined, int duplicate);

/* 1 if the sender may cause a fix at all (configured repo, not own account, listed reviewer). */
int hh_guard_sender_ok(const hh_repo_config *repo, const char *own_login, const char *sender);

#endif
