/*
 * ci: the verdict of ci-wait on a pushed commit's statuses (pure: no clock, network or disk).
 *
 * Gitea keeps every status posted on a commit; what counts is the latest one of each context,
 * which is what its combined status lists (gitea.c reads that list). The combined *state* is
 * not used: healhook posts its own context "healhook" (pending from the push until healhook's
 * verdict), so that state could not turn success before healhook itself changed it. Instead
 * every awaited context is judged on its own:
 *   awaited  the repository's ci-contexts, else every context present but healhook's
 *            (healhook's own context is never awaited, even when listed);
 *   failed   an awaited context is error, failure or warning (Gitea's own combined status
 *            counts warning as failure since go-gitea/gitea#37048);
 *   passed   every awaited context is success or skipped, and there is at least one;
 *   waiting  otherwise (a context is pending, or not reported yet, or none is there at all).
 */
#ifndef HH_CI_H
#define HH_CI_H

#include "internal/buf.h"

#define HH_CI_OWN_CONTEXT "healhook" /* the context of healhook's own commit status */
#define HH_CI_MAX_CONTEXTS 1000      /* contexts kept per commit; more are ignored */

enum hh_ci_verdict { HH_CI_WAITING = 0, HH_CI_PASSED, HH_CI_FAILED };

/* The latest state of each context of one commit. Owns its strings; start zeroed. */
typedef struct hh_ci_statuses {
	hh_strv context; /* context names, as Gitea spells them */
	hh_strv state;   /* state[i]: the latest state of context[i] ("pending", "success", ...) */
} hh_ci_statuses;

/*
 * Adds context's latest state (both copied). A context already present keeps its first state
 * (Gitea lists the newest first); past HH_CI_MAX_CONTEXTS nothing is added.
 * Returns 0, or -1 when out of memory.
 */
int hh_ci_statuses_add(hh_ci_statuses *s, const char *context, const char *state);
void hh_ci_statuses_release(hh_ci_statuses *s);

/*
 * Judges st against required (the repository's ci-contexts; NULL or empty: every context but
 * healhook's). why is cleared, then gets one line for people: for failed the failed contexts
 * ("'ci/build' failure"), for passed the awaited ones ("'ci/build' success"), for waiting every
 * awaited context and what it is ("'ci/build' pending, 'ci/lint' not reported", or "every
 * context but healhook's, none reported"). Names are cut to 80 bytes and control characters
 * shown as '?'; at most 10 contexts are named, then "and N more".
 */
enum hh_ci_verdict hh_ci_judge(const hh_ci_statuses *st, const hh_strv *required, hh_buf *why);

#endif
