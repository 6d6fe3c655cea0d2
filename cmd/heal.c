/*
 * healhook heal: one finding by hand (like the predecessor's execute_code_fix), through the
 * same pipeline the worker runs. On a terminal it shows each stage with its time as it runs.
 */
#include "cmd/cmd.h"
#include "internal/log.h"
#include "internal/pipeline.h"
#include "internal/result.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
	"usage: healhook heal [--config FILE] [--dry-run] [--json] --repo OWNER/NAME --file PATH\n"
	"                     --type TYPE --message TEXT [--branch BRANCH] [--pr-url URL]\n"
	"\n"
	"Fixes one finding now: runs the fixer on the repository's fix host, checks the result,\n"
	"commits it in the local mirror and pushes it (fast-forward only).\n"
	"\n"
	"  --config FILE   configuration file (default: $HEALHOOK_CONFIG, else environment only)\n"
	"  --repo R        the configured repository (owner/name)\n"
	"  --file PATH     the file to fix, relative to the repository root\n"
	"  --type TYPE     the kind of error (e.g. NameError)\n"
	"  --message TEXT  what is wrong (reaches the fixer only through its prompt file)\n"
	"  --branch B      the branch to fix (default: repo.branch, else main)\n"
	"  --pr-url URL    recorded in the commit's Reviewed-in trailer\n"
	"  --dry-run       run the fixer and every check, but commit and push nothing\n"
	"  --json          print the result object\n"
	"\n"
	"Exit status: 0 the fix landed (or, with --dry-run, would land), 1 it did not, 2 usage.\n";

struct tty {
	int on;
	double total;
};

static void on_stage(void *ctx, const char *stage, double seconds, const char *note)
{
	struct tty *t = ctx;

	t->total += seconds;
	if (!t->on)
		return;
	fprintf(stderr, "  %-9s %6.2fs  (%.2fs)%s%s\n", stage, seconds, t->total, note ? "  " : "",
		note ? note : "");
}

int cmd_heal(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'}, {"repo", required_argument, NULL, 'r'},
		{"file", required_argument, NULL, 'f'},   {"type", required_argument, NULL, 't'},
		{"message", required_argument, NULL, 'm'}, {"branch", required_argument, NULL, 'b'},
		{"pr-url", required_argument, NULL, 'u'}, {"dry-run", no_argument, NULL, 'n'},
		{"json", no_argument, NULL, 'j'},         {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *config = NULL, *repo = NULL, *file = NULL, *type = NULL, *message = NULL;
	const char *branch = NULL, *pr_url = NULL;
	int c, dry = 0, json = 0, rc = HH_EXIT_USAGE;
	struct tty tty = {0};
	hh_pipeline p = {0};
	hh_config *cfg = NULL;
	hh_store *st = NULL;
	hh_job job = {0};
	hh_buf out = HH_BUF_INIT;
	const hh_repo_config *rc_repo;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'r': repo = optarg; break;
		case 'f': file = optarg; break;
		case 't': type = optarg; break;
		case 'm': message = optarg; break;
		case 'b': branch = optarg; break;
		case 'u': pr_url = optarg; break;
		case 'n': dry = 1; break;
		case 'j': json = 1; break;
		case 'h': fputs(usage, stdout); return HH_EXIT_OK;
		default: fputs(usage, stderr); return HH_EXIT_USAGE;
		}
	}
	if (optind != argc || !repo || !file || !type || !message) {
		fputs(usage, stderr);
		return HH_EXIT_USAGE;
	}
	cfg = cmd_load_config(config);
	if (!cfg)
		return HH_EXIT_USAGE;
	rc_repo = hh_config_repo(cfg, repo);
	if (!rc_repo) {
		cmd_die_msg("heal", "repository '%s' is not configured (add [repo \"%s\"])", repo, repo);
		goto out;
	}
	if (!cfg->state_dir) {
		cmd_die_msg("heal", "state.dir is not set (config file or HEALHOOK_STATE_DIR)");
		goto out;
	}
	job.repo = hh_strdup(rc_repo->name);
	job.branch = hh_strdup(branch ? branch : rc_repo->branch ? rc_repo->branch : "main");
	job.file = hh_strdup(file);
	job.type = hh_strdup(type);
	job.message = hh_strdup(message);
	job.pr_url = hh_strdup(pr_url);
	job.sender = hh_strdup("healhook heal");
	job.state = HH_JOB_FIXING;
	job.created = job.updated = (long long)time(NULL);
	if (!dry) {
		if (hh_store_open(&st, cfg->state_dir) < 0 || hh_store_job_insert(st, &job) < 0) {
			cmd_die_msg("heal", "%s", hh_error_last());
			rc = HH_EXIT_FAIL;
			goto out;
		}
	}
	tty.on = isatty(STDERR_FILENO);
	if (tty.on)
		fprintf(stderr, "healhook: fixing %s in %s (%s)%s\n", file, job.repo, job.branch,
			dry ? " — dry run" : "");
	p.cfg = cfg;
	p.store = st;
	p.dry_run = dry;
	p.on_stage = on_stage;
	p.ctx = &tty;
	if (!dry)
		hh_notifier_start(&p.notifier, cfg);
	c = hh_pipeline_run(&p, &job);
	if (c == 0 && !dry)
		c = hh_pipeline_after_push(&p, &job);
	if (json) {
		hh_job_result_json(&job, dry && c == 0 ? "dry-run" : NULL, &out);
		out.ptr[--out.len] = '\0'; /* reopen the object for the measurements */
		hh_buf_printf(&out, ",\"detail\":");
		if (job.detail) {
			hh_buf_putc(&out, '"');
			hh_buf_put_json_str(&out, job.detail);
			hh_buf_putc(&out, '"');
		} else {
			hh_buf_puts(&out, "null");
		}
		hh_buf_printf(&out, ",\"connections\":%d,\"channels\":%d,\"seconds\":%.3f}\n",
			      p.connections, p.channels, p.seconds);
		fputs(out.ptr, stdout);
	} else {
		char *msg = hh_job_message(&job);
		printf("%s: %s\n", c == 0 ? (dry ? "would fix" : "fixed") : job.reason ? job.reason : "failed",
		       dry && c == 0 ? file : msg);
		free(msg);
	}
	rc = c == 0 ? HH_EXIT_OK : HH_EXIT_FAIL;
	hh_notifier_stop(p.notifier, 10000);
	p.notifier = NULL;
out:
	hh_notifier_stop(p.notifier, 0);
	hh_buf_release(&out);
	hh_job_release(&job);
	hh_store_close(st);
	hh_config_free(cfg);
	return rc;
}
