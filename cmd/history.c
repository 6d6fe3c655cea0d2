/*
 * healhook history: recent jobs with their outcome and how long each stage took;
 * healhook unfreeze: lets a frozen repository heal again.
 */
#include "cmd/cmd.h"
#include "internal/log.h"
#include "internal/result.h"
#include "internal/store.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char usage[] =
	"usage: healhook history [--config FILE] [--json] [--limit N] [--repo OWNER/NAME]\n"
	"\n"
	"Lists recent jobs, newest first: repository, file, state, diff lines, commit, revert\n"
	"commit and the time each stage took. A reverted or revert-failed job's finding is\n"
	"quarantined (never retried automatically).\n"
	"\n"
	"  --json         one JSON array of result objects\n"
	"  --limit N      at most N jobs (default 20)\n"
	"  --repo R       only this repository\n";

static const char unfreeze_usage[] =
	"usage: healhook unfreeze [--config FILE] OWNER/NAME\n"
	"\n"
	"Lets a repository frozen by a failed revert (or by max-reverts reverts in a row) heal\n"
	"again; its waiting jobs then run.\n";

int cmd_history(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'}, {"json", no_argument, NULL, 'j'},
		{"limit", required_argument, NULL, 'n'},  {"repo", required_argument, NULL, 'r'},
		{"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
	};
	const char *config = NULL, *repo = NULL;
	int c, json = 0, limit = 20, rc = HH_EXIT_USAGE;
	hh_config *cfg = NULL;
	hh_store *st = NULL;
	hh_job *jobs = NULL;
	size_t n = 0, i;
	char *end;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'j': json = 1; break;
		case 'r': repo = optarg; break;
		case 'n':
			limit = (int)strtol(optarg, &end, 10);
			if (*end || limit <= 0 || limit > 10000) {
				cmd_die_msg("history", "--limit wants a number from 1 to 10000");
				return HH_EXIT_USAGE;
			}
			break;
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
	if ((rc = cmd_open_store(&st, cfg, "history")) != HH_EXIT_OK)
		goto out;
	if (hh_store_jobs_recent(st, repo, limit, &jobs, &n) < 0) {
		cmd_die_msg("history", "%s", hh_error_last());
		rc = HH_EXIT_FAIL;
		goto out;
	}
	if (json) {
		hh_buf b = HH_BUF_INIT;
		int *quarantined = calloc(n ? n : 1, sizeof(*quarantined));

		for (i = 0; quarantined && i < n;
		     i++) /* the store's quarantine holds the finding */
			quarantined[i] = hh_store_job_quarantined(st, jobs[i].id) > 0;
		if (!quarantined || hh_history_json(jobs, quarantined, n, &b) < 0) {
			cmd_die_msg("history", "%s",
				    quarantined ? hh_error_last() : "out of memory");
			free(quarantined);
			hh_buf_release(&b);
			rc = HH_EXIT_FAIL;
			goto out;
		}
		fputs(b.ptr, stdout);
		free(quarantined);
		hh_buf_release(&b);
	} else {
		printf("%-5s %-19s %-22s %-32s %-13s %5s %-12s %-12s %s\n", "JOB", "WHEN", "REPO",
		       "FILE", "STATE", "LINES", "COMMIT", "REVERT", "STAGES (ms)");
		for (i = 0; i < n; i++) {
			char when[32];
			time_t t = (time_t)jobs[i].created;
			struct tm tm;
			localtime_r(&t, &tm);
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
			printf("%-5lld %-19s %-22s %-32s %-13s %5ld %-12.12s %-12.12s %s\n",
			       jobs[i].id, when, jobs[i].repo, jobs[i].file,
			       hh_job_state_name(jobs[i].state), jobs[i].diff_lines,
			       jobs[i].commit_sha ? jobs[i].commit_sha : "-",
			       jobs[i].revert_sha ? jobs[i].revert_sha : "-",
			       jobs[i].stages ? jobs[i].stages : "");
			if (jobs[i].reason || jobs[i].detail)
				printf("      %s%s%s%s\n", jobs[i].reason ? jobs[i].reason : "",
				       jobs[i].detail ? ": " : "",
				       jobs[i].detail ? jobs[i].detail : "",
				       hh_store_job_quarantined(st, jobs[i].id) > 0
					       ? " (finding quarantined)"
					       : "");
		}
	}
	rc = HH_EXIT_OK;
out:
	hh_store_jobs_free(jobs, n);
	hh_store_close(st);
	hh_config_free(cfg);
	return rc;
}

int cmd_unfreeze(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *config = NULL;
	hh_config *cfg = NULL;
	hh_store *st = NULL;
	char *why = NULL;
	long long since = 0;
	int c, frozen, rc = HH_EXIT_USAGE;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'h': fputs(unfreeze_usage, stdout); return HH_EXIT_OK;
		default: fputs(unfreeze_usage, stderr); return HH_EXIT_USAGE;
		}
	}
	if (optind + 1 != argc || !strchr(argv[optind], '/')) {
		fputs(unfreeze_usage, stderr);
		return HH_EXIT_USAGE;
	}
	if (!(cfg = cmd_load_config(config)))
		return HH_EXIT_USAGE;
	if ((rc = cmd_open_store(&st, cfg, "unfreeze")) != HH_EXIT_OK)
		goto out;
	frozen = hh_store_repo_frozen_info(st, argv[optind], &why, &since);
	if (frozen < 0 || (frozen && hh_store_repo_set_frozen(st, argv[optind], 0, NULL) < 0)) {
		cmd_die_msg("unfreeze", "%s", hh_error_last());
		rc = HH_EXIT_FAIL;
		goto out;
	}
	if (frozen) {
		printf("%s unfrozen (was frozen: %s)\n", argv[optind], why ? why : "");
		hh_log(HH_LOG_INFO, "repo.unfrozen", "repo", argv[optind], NULL);
	} else {
		printf("%s was not frozen\n", argv[optind]);
	}
	rc = HH_EXIT_OK;
out:
	free(why);
	hh_store_close(st);
	hh_config_free(cfg);
	return rc;
}
