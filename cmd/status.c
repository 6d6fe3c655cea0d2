/*
 * healhook status: the `/` page of the status listener in the terminal: each repository,
 * frozen or not and why, fixes used of its hourly budget, its last outcome and its queue.
 */
#include "cmd/cmd.h"
#include "internal/log.h"
#include "internal/status.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char usage[] =
	"usage: healhook status [--config FILE] [--json]\n"
	"\n"
	"Shows every repository: frozen or not (and why), fixer runs used of the hourly budget\n"
	"(max-fixes-per-hour in rate-window), the last outcome and the number of jobs queued or\n"
	"waiting. The same as the status page's / (status.listen) and its /api/repos.\n"
	"\n"
	"  --json         one JSON array of repository objects\n";

static void when(char *out, size_t size, long long t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!t) {
		snprintf(out, size, "-");
		return;
	}
	localtime_r(&tt, &tm);
	strftime(out, size, "%Y-%m-%d %H:%M:%S", &tm);
}

static void table(const hh_repo_status *v, size_t n)
{
	size_t i;

	printf("%-28s %-8s %-7s %-28s %5s\n", "REPO", "STATE", "FIXES", "LAST OUTCOME", "QUEUE");
	for (i = 0; i < n; i++) {
		const hh_repo_status *r = &v[i];
		char fixes[32], last[96], at[32];

		snprintf(fixes, sizeof(fixes), "%lld/%ld", r->fixes_used, r->budget);
		if (r->act.last_job)
			snprintf(last, sizeof(last), "#%lld %s%s%s", r->act.last_job,
				 r->act.last_state, r->act.last_reason[0] ? " " : "",
				 r->act.last_reason);
		else
			snprintf(last, sizeof(last), "-");
		printf("%-28s %-8s %-7s %-28s %5lld\n", r->repo,
		       r->frozen        ? "frozen"
		       : r->act.running ? "healing"
		       : r->configured  ? "idle"
					: "unknown",
		       fixes, last, r->act.queued);
		if (r->frozen) {
			when(at, sizeof(at), r->frozen_since);
			printf("      frozen since %s: %s (healhook unfreeze %s)\n", at,
			       r->why ? r->why : "", r->repo);
		}
	}
}

int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *config = NULL;
	int c, json = 0, rc = HH_EXIT_USAGE;
	hh_config *cfg = NULL;
	hh_store *st = NULL;
	hh_repo_status *v = NULL;
	size_t n = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'j': json = 1; break;
		case 'h': fputs(usage, stdout); return HH_EXIT_OK;
		default: fputs(usage, stderr); return HH_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fputs(usage, stderr);
		return HH_EXIT_USAGE;
	}
	if (!(cfg = cmd_load_config(config)))
		return HH_EXIT_USAGE;
	if ((rc = cmd_open_store(&st, cfg, "status")) != HH_EXIT_OK)
		goto out;
	rc = HH_EXIT_FAIL;
	if (hh_status_repos(cfg, st, (long long)time(NULL), &v, &n) < 0) {
		cmd_die_msg("status", "%s", hh_error_last());
		goto out;
	}
	if (json) {
		hh_buf b = HH_BUF_INIT;
		hh_status_repos_json(v, n, &b);
		puts(b.ptr);
		hh_buf_release(&b);
	} else {
		table(v, n);
	}
	rc = HH_EXIT_OK;
out:
	hh_repo_status_free(v, n);
	hh_store_close(st);
	hh_config_free(cfg);
	return rc;
}
