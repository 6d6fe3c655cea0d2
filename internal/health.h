/*
 * health: L4, the deployed application's verdict on a pushed commit.
 *
 * healthy = HTTP 200 and a JSON object whose "status" is "ok" or "healthy". With
 * health-version-field, only answers whose field equals the pushed SHA or a prefix of it
 * (at least 7 hex digits) count: the old deployment's "ok" is never mistaken for success, and
 * answers of the old version are ignored. While waiting for the new version healhook polls
 * every second (so a verdict comes well under a second after the new version turns healthy);
 * failures of the new version are counted at health-interval spacing, and health-failures of
 * them in a row end the watch before the timeout.
 */
#ifndef HH_HEALTH_H
#define HH_HEALTH_H

#include "internal/config.h"

#include <stdatomic.h>

enum hh_health_answer {
	HH_HEALTH_OK = 0,    /* healthy (and, with a version field, the expected version) */
	HH_HEALTH_BAD,       /* the expected version (or any, without a field) is unhealthy */
	HH_HEALTH_OLD,       /* another version answered (ignored) */
	HH_HEALTH_NO_ANSWER, /* no HTTP answer (connection refused, time-out) */
};

/* Judges one answer (pure). version_field may be NULL; sha is the pushed commit. */
enum hh_health_answer hh_health_judge(long status, const char *body, size_t len,
				      const char *version_field, const char *sha);

enum hh_health_verdict { HH_VERDICT_HEALTHY = 0, HH_VERDICT_UNHEALTHY, HH_VERDICT_STOPPED };

typedef struct hh_health_watch {
	const hh_repo_config *repo; /* health-url, delay, interval, timeout, failures, field */
	const char *sha;            /* the commit that should now be deployed */
	const atomic_int *stop;     /* set to stop early (HH_VERDICT_STOPPED); may be NULL */
	/* Called after each probe (may be NULL): the HTTP status (0: no answer), the verdict on
	 * it ("ok", "bad", "old", "no-answer") and the answer's body or the error (borrowed). */
	void (*on_probe)(void *ctx, long status, const char *verdict, const char *answer);
	void *probe_ctx;
	/* Out */
	int polls;
	char why[256]; /* for an unhealthy verdict: what was seen */
} hh_health_watch;

/* Waits health-delay, then polls until a verdict. Blocks the calling thread. */
enum hh_health_verdict hh_health_run(hh_health_watch *w);

#endif
