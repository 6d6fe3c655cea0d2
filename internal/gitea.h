/*
 * gitea: the parts of Gitea's REST API healhook uses (cJSON stays in gitea.c).
 *
 * Review payloads carry no line comments, so they are fetched: the reviews of the PR, the
 * newest one by the reviewer in the state of the event (REQUEST_CHANGES, APPROVED, COMMENT),
 * then its comments, sorted (Gitea returns them in unstable order). Auth is
 * "Authorization: token <token>". Every call has connect and total time limits.
 */
#ifndef HH_GITEA_H
#define HH_GITEA_H

#include "internal/error.h"
#include "internal/ci.h"
#include "internal/findings.h"

typedef struct hh_gitea {
	const char *url;   /* base URL, e.g. https://gitea.example.com (no /api/v1) */
	const char *token; /* may be NULL for public repositories */
	long timeout_s;    /* total time limit per call; 0 = 10 */
} hh_gitea;

/* "REQUEST_CHANGES", "APPROVED" or "COMMENT" for a review event type, else NULL. */
const char *hh_gitea_review_state(const char *event_type);

/*
 * Appends the line comments of reviewer's newest review in state on PR pr of repo
 * ("owner/name") to out as findings (source line-comment, sorted by path, line, id).
 * Returns the number added (0 when no such review), or -1 with the error set.
 */
int hh_gitea_review_findings(const hh_gitea *g, const char *repo, long pr, const char *reviewer,
			     const char *state, hh_findings *out);

/*
 * POST a comment (Markdown body, non-empty) on issue/PR number n of repo ("owner/name").
 * Returns 0; HH_EAGAIN when a retry may help (no answer, 429, 5xx); -1 otherwise (bad
 * arguments, another answer), with the error set (it carries Gitea's message).
 */
int hh_gitea_comment(const hh_gitea *g, const char *repo, long n, const char *body);

/*
 * POST a commit status (context "healhook") on sha (lowercase hex, 7 to 64 digits).
 * state: pending, success, error, failure, warning. description and target_url may be NULL.
 * Returns 0, HH_EAGAIN or -1 like hh_gitea_comment().
 */
int hh_gitea_status(const hh_gitea *g, const char *repo, const char *sha, const char *state,
		    const char *description, const char *target_url);

/*
 * The latest status of every context on sha (lowercase hex, 7 to 64 digits) of repo, added to
 * out (healhook's own context included; hh_ci_judge() leaves it out): the `statuses` list of
 * GET /repos/{owner}/{repo}/commits/{sha}/status, read page by page (limit 50) until a page
 * is empty or brings no new context (at most 100 pages and HH_CI_MAX_CONTEXTS contexts).
 * Returns 0; HH_EAGAIN when a retry may help; -1 otherwise, with the error set. out may hold part
 * of the list after an error.
 */
int hh_gitea_commit_statuses(const hh_gitea *g, const char *repo, const char *sha,
			     hh_ci_statuses *out);

#endif
