/*
 * notify_send: drives internal/notify for tests/integration/test_notify.py.
 *
 *   notify_send CONFIG [--grace MS] [--backoff MS] [NOTICE_JSON...]
 *
 * Loads CONFIG (healhook's git-config file), starts the notifier, queues each notice (one JSON
 * object per argument, or per line of stdin when there is none), stops it with a drain of
 * --grace milliseconds (default 10000) and prints one line (counters as the stop returns):
 *   queued=N sent=N failed=N dropped=N notify_max_ms=N stop_ms=N stop=ok|gave_up
 * A notice object: {"outcome": "healed", "job": 7, "repo", "branch", "file", "type", "message",
 * "reason", "detail", "commit_sha", "revert_sha", "pr_url", "commit_url", "pr": 3,
 * "diff_lines": 4}. Exit status: 0 when every delivery succeeded, 1 otherwise, 2 on a usage
 * or configuration error (printed as "error=MESSAGE").
 */
#include "internal/buf.h"
#include "internal/config.h"
#include "internal/log.h"
#include "internal/notify.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

extern char **environ;

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double num(const cJSON *o, const char *key, double dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

/* Queues the notice in text; returns the time hh_notify took in ms, or -1 on a bad notice. */
static long send_one(hh_notifier *nf, const char *text)
{
	cJSON *o = cJSON_Parse(text);
	hh_notice n = {0};
	int64_t t0;
	int oc;

	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		printf("error=notice is not a JSON object: %.80s\n", text);
		return -1;
	}
	oc = hh_outcome_parse(str(o, "outcome"));
	if (oc < 0) {
		printf("error=unknown outcome in %.80s\n", text);
		cJSON_Delete(o);
		return -1;
	}
	n.outcome = (enum hh_outcome)oc;
	n.job = (long long)num(o, "job", 0);
	n.repo = str(o, "repo");
	n.branch = str(o, "branch");
	n.file = str(o, "file");
	n.type = str(o, "type");
	n.message = str(o, "message");
	n.reason = str(o, "reason");
	n.detail = str(o, "detail");
	n.commit_sha = str(o, "commit_sha");
	n.revert_sha = str(o, "revert_sha");
	n.pr_url = str(o, "pr_url");
	n.commit_url = str(o, "commit_url");
	n.pr_number = (long)num(o, "pr", 0);
	n.diff_lines = (long)num(o, "diff_lines", -1);
	t0 = now_ms();
	hh_notify(nf, &n);
	t0 = now_ms() - t0;
	cJSON_Delete(o);
	return (long)t0;
}

int main(int argc, char **argv)
{
	hh_config *cfg = NULL;
	hh_notifier *nf = NULL;
	hh_notifier_opts opts = {0};
	hh_notifier_stats st;
	long grace = 10000, took, max_took = 0;
	int64_t t0;
	int i, first = 2, rc;

	if (argc < 2) {
		fprintf(stderr, "usage: notify_send CONFIG [--grace MS] [--backoff MS] [JSON...]\n");
		return 2;
	}
	while (first + 1 < argc && strncmp(argv[first], "--", 2) == 0) {
		if (strcmp(argv[first], "--grace") == 0)
			grace = atol(argv[first + 1]);
		else if (strcmp(argv[first], "--backoff") == 0)
			opts.backoff_ms = atol(argv[first + 1]);
		else
			break;
		first += 2;
	}
	if (hh_config_load(&cfg, argv[1], environ) < 0) {
		printf("error=%s\n", hh_error_last());
		return 2;
	}
	hh_log_init((enum hh_log_level)cfg->log_level, (enum hh_log_format)cfg->log_format);
	if (hh_notifier_start_opts(&nf, cfg, &opts) < 0) {
		printf("error=%s\n", hh_error_last());
		hh_config_free(cfg);
		return 2;
	}
	/* The notifier keeps copies: the configuration can go now. */
	hh_config_free(cfg);
	if (first < argc) {
		for (i = first; i < argc; i++) {
			took = send_one(nf, argv[i]);
			max_took = took > max_took ? took : max_took;
		}
	} else {
		char *line = NULL;
		size_t cap = 0;
		while (getline(&line, &cap, stdin) > 0) {
			if (line[strspn(line, " \t\r\n")] == '\0')
				continue;
			took = send_one(nf, line);
			max_took = took > max_took ? took : max_took;
		}
		free(line);
	}
	t0 = now_ms();
	rc = hh_notifier_stop_stats(nf, grace, &st);
	t0 = now_ms() - t0;
	printf("queued=%lu sent=%lu failed=%lu dropped=%lu notify_max_ms=%ld stop_ms=%lld stop=%s\n",
	       st.queued, st.sent, st.failed, st.dropped, max_took, (long long)t0,
	       rc == 0 ? "ok" : "gave_up");
	if (rc == 0 && st.failed == 0)
		return 0;
	return 1;
}
