/*
 * health: see health.h.
 */
#include "internal/health.h"
#include "internal/http.h"
#include "internal/log.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static int version_matches(const char *v, const char *sha)
{
	size_t n = strlen(v);

	if (n < 7 || n > 40)
		return 0;
	return strncasecmp(v, sha, n) == 0;
}

enum hh_health_answer hh_health_judge(long status, const char *body, size_t len,
				      const char *version_field, const char *sha)
{
	cJSON *root = body ? cJSON_ParseWithLength(body, len) : NULL;
	const cJSON *st = root ? cJSON_GetObjectItemCaseSensitive(root, "status") : NULL;
	int healthy = status == 200 && cJSON_IsString(st) &&
		      (strcmp(st->valuestring, "ok") == 0 ||
		       strcmp(st->valuestring, "healthy") == 0);
	enum hh_health_answer a = healthy ? HH_HEALTH_OK : HH_HEALTH_BAD;

	if (version_field && *version_field) {
		const cJSON *v = root ? cJSON_GetObjectItemCaseSensitive(root, version_field)
				      : NULL;
		/* An answer that names another version is the old deployment; an answer with no
		 * version at all (e.g. a 500 page) is the new one failing only if it is not 200. */
		if (cJSON_IsString(v) && !version_matches(v->valuestring, sha))
			a = HH_HEALTH_OLD;
		else if (!cJSON_IsString(v) && healthy)
			a = HH_HEALTH_OLD;
	}
	cJSON_Delete(root);
	return a;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sleeps up to s seconds in short steps, returning early when *stop is set. */
static int nap(double s, const atomic_int *stop)
{
	double end = now_s() + s;

	while (now_s() < end) {
		if (stop && atomic_load(stop))
			return -1;
		usleep(20000);
	}
	return stop && atomic_load(stop) ? -1 : 0;
}

enum hh_health_verdict hh_health_run(hh_health_watch *w)
{
	const hh_repo_config *r = w->repo;
	const char *field = r->health_version_field;
	double start = now_s(), deadline = start + (double)r->health_timeout;
	double last_fail = -1e9, tick = field ? (r->health_interval < 1 ? r->health_interval : 1)
					      : (double)r->health_interval;
	long fails = 0;
	int seen_new = 0;

	w->polls = 0;
	w->why[0] = '\0';
	if (nap((double)r->health_delay, w->stop) < 0)
		return HH_VERDICT_STOPPED;
	for (;;) {
		hh_http_req req = {0};
		hh_http_resp resp = {0};
		enum hh_health_answer a;
		double t = now_s();

		req.url = r->health_url;
		req.timeout_ms = 5000;
		req.connect_timeout_ms = 2000;
		req.max_response = 64 * 1024;
		if (hh_http_do(&req, &resp) < 0) {
			a = HH_HEALTH_NO_ANSWER;
			snprintf(w->why, sizeof(w->why), "%s", hh_error_last());
		} else {
			a = hh_health_judge(resp.status, resp.body.ptr, resp.body.len, field,
					    w->sha);
			if (a == HH_HEALTH_BAD)
				snprintf(w->why, sizeof(w->why), "%s answered %ld: %.120s",
					 r->health_url, resp.status,
					 resp.body.ptr ? resp.body.ptr : "");
		}
		if (w->on_probe) {
			static const char *const names[] = {"ok", "bad", "old", "no-answer"};
			w->on_probe(w->probe_ctx, a == HH_HEALTH_NO_ANSWER ? 0 : resp.status,
				    names[a],
				    a == HH_HEALTH_NO_ANSWER ? w->why
				    : resp.body.ptr          ? resp.body.ptr
							     : "");
		}
		hh_http_resp_release(&resp);
		w->polls++;
		if (a == HH_HEALTH_OK)
			return HH_VERDICT_HEALTHY;
		if (a == HH_HEALTH_BAD || (a == HH_HEALTH_NO_ANSWER && (!field || seen_new))) {
			seen_new |= a == HH_HEALTH_BAD;
			/* Failures count at health-interval spacing. */
			if (t - last_fail >= (double)r->health_interval - 0.05) {
				fails++;
				last_fail = t;
			}
			if (fails >= r->health_failures)
				return HH_VERDICT_UNHEALTHY;
		} else if (a == HH_HEALTH_OLD) {
			fails = 0;
		}
		if (now_s() + tick > deadline) {
			if (!w->why[0] || a == HH_HEALTH_OLD)
				snprintf(w->why, sizeof(w->why),
					 "no healthy answer%s from %s within %lds",
					 field ? " of the new version" : "", r->health_url,
					 r->health_timeout);
			return HH_VERDICT_UNHEALTHY;
		}
		if (nap(tick, w->stop) < 0)
			return HH_VERDICT_STOPPED;
	}
}
