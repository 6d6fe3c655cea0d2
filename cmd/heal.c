/*
 * healhook heal: one finding by hand (like the predecessor's execute_code_fix), through the
 * same pipeline the worker runs. On a terminal it shows each stage with its time as it runs.
 *
 * It takes the worker's per-repository claim (one job in progress per repository, in the
 * store): while another job of the repository is in progress it waits (--wait, default 600 s;
 * one message says for which job), then refuses with reason repo-busy. A quarantined finding
 * (its fix was reverted, or its revert failed) is refused with reason quarantined unless
 * --force.
 */
#include "cmd/cmd.h"
#include "internal/findings.h"
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
	"                     [--force] [--wait SECONDS | --no-wait]\n"
	"                     [--log-format text|json] [--log-level error|warn|info|debug]\n"
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
	"  --force         heal a quarantined finding (one whose fix was reverted) anyway\n"
	"  --wait S        wait at most S seconds while another job of the repository is in\n"
	"                  progress (default 600), then refuse (reason repo-busy)\n"
	"  --no-wait       refuse at once when another job of the repository is in progress\n"
	"  --log-format F  text (key=value, default) or json\n"
	"  --log-level L   error, warn, info (default) or debug\n"
	"\n"
	"Exit status: 0 the fix landed (or, with --dry-run, would land), 1 it did not, 2 usage.\n";

struct args {
	const char *config, *repo, *file, *type, *message, *branch, *pr_url, *fmt, *level;
	int dry, json, force;
	long wait;
};

struct tty {
	int on;
	double total;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_stage(void *ctx, const char *stage, double seconds, const char *note)
{
	struct tty *t = ctx;

	t->total += seconds;
	if (!t->on)
		return;
	fprintf(stderr, "  %-9s %6.2fs  (%.2fs)%s%s\n", stage, seconds, t->total, note ? "  " : "",
		note ? note : "");
}

/* Returns -1 to go on, else the exit code. */
static int parse(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"repo", required_argument, NULL, 'r'},
		{"file", required_argument, NULL, 'f'},
		{"type", required_argument, NULL, 't'},
		{"message", required_argument, NULL, 'm'},
		{"branch", required_argument, NULL, 'b'},
		{"pr-url", required_argument, NULL, 'u'},
		{"dry-run", no_argument, NULL, 'n'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{"force", no_argument, NULL, 'F'},
		{"wait", required_argument, NULL, 'w'},
		{"no-wait", no_argument, NULL, 'W'},
		{"log-format", required_argument, NULL, 'L'},
		{"log-level", required_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	char *end;
	int c;

	a->wait = 600;
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': a->config = optarg; break;
		case 'r': a->repo = optarg; break;
		case 'f': a->file = optarg; break;
		case 't': a->type = optarg; break;
		case 'm': a->message = optarg; break;
		case 'b': a->branch = optarg; break;
		case 'u': a->pr_url = optarg; break;
		case 'n': a->dry = 1; break;
		case 'j': a->json = 1; break;
		case 'F': a->force = 1; break;
		case 'W': a->wait = 0; break;
		case 'L': a->fmt = optarg; break;
		case 'V': a->level = optarg; break;
		case 'w':
			a->wait = strtol(optarg, &end, 10);
			if (end == optarg || *end || a->wait < 0) {
				cmd_die_msg("heal", "--wait must be a number of seconds");
				return HH_EXIT_USAGE;
			}
			break;
		case 'h': fputs(usage, stdout); return HH_EXIT_OK;
		default: fputs(usage, stderr); return HH_EXIT_USAGE;
		}
	}
	if (optind != argc || !a->repo || !a->file || !a->type || !a->message) {
		fputs(usage, stderr);
		return HH_EXIT_USAGE;
	}
	if (a->fmt && strcmp(a->fmt, "text") != 0 && strcmp(a->fmt, "json") != 0) {
		cmd_die_msg("heal", "--log-format must be text or json");
		return HH_EXIT_USAGE;
	}
	if (a->level && strcmp(a->level, "error") != 0 && strcmp(a->level, "warn") != 0 &&
	    strcmp(a->level, "info") != 0 && strcmp(a->level, "debug") != 0) {
		cmd_die_msg("heal", "--log-level must be error, warn, info or debug");
		return HH_EXIT_USAGE;
	}
	return -1;
}

static void apply_log_args(hh_config *cfg, const struct args *a)
{
	static const char *const levels[] = {"error", "warn", "info", "debug"};
	int i;

	if (a->fmt)
		cfg->log_format = strcmp(a->fmt, "json") == 0 ? HH_LOG_JSON : HH_LOG_TEXT;
	for (i = 0; a->level && i < 4; i++)
		if (strcmp(a->level, levels[i]) == 0)
			cfg->log_level = HH_LOG_ERROR + i;
	hh_log_init((enum hh_log_level)cfg->log_level, (enum hh_log_format)cfg->log_format);
}

/* Ends job, not yet stored, as failed with reason and detail: stored (as failed, never in
 * progress) and told. Returns -1 if it could not be stored, else 1. */
static int refuse(hh_pipeline *p, hh_job *job, const char *reason, char *detail)
{
	char id[24];

	free(job->reason);
	job->reason = hh_strdup(reason);
	free(job->detail);
	job->detail = detail;
	job->state = HH_JOB_FAILED;
	job->created = job->updated = (long long)time(NULL);
	if (hh_store_job_insert(p->store, job) < 0)
		return -1;
	snprintf(id, sizeof(id), "%lld", job->id);
	hh_log(HH_LOG_WARN, "job.failed", "job", id, "repo", job->repo, "file", job->file, "reason",
	       reason, "detail", job->detail, NULL);
	hh_pipeline_notify(p, job, HH_OUT_REJECTED, NULL);
	return 1;
}

/* 1 if the finding is quarantined (and not forced), 0 if not, -1 on error. */
static int quarantined(hh_store *st, const hh_job *job, int force)
{
	hh_finding f = {0};
	char fp[65];
	int q;

	f.file = job->file;
	f.type = job->type;
	f.message = job->message;
	hh_finding_fingerprint(job->repo, job->branch, &f, fp);
	q = hh_store_quarantined(st, fp);
	if (q > 0 && force)
		hh_log(HH_LOG_WARN, "job.forced", "repo", job->repo, "file", job->file,
		       "fingerprint", fp, NULL);
	return q > 0 && !force ? 1 : q < 0 ? -1 : 0;
}

/* Inserts job holding its repository's claim, waiting up to a->wait seconds.
 * Returns 1 claimed, 0 refused (job stored as failed repo-busy), -1 on error. */
static int claim(hh_pipeline *p, hh_job *job, const struct args *a)
{
	time_t end = time(NULL) + a->wait;
	long long busy = 0, said = 0;
	const char *state = "";
	int rc;

	for (;;) {
		job->created = job->updated = (long long)time(NULL);
		rc = hh_store_job_insert_claimed(p->store, job, &busy, &state);
		if (rc != 0)
			return rc;
		if (time(NULL) >= end)
			break;
		if (busy != said) {
			fprintf(stderr,
				"healhook heal: %s has job %lld in progress (%s); waiting for it "
				"(at most %lds, --no-wait to refuse)\n",
				job->repo, busy, state, a->wait);
			said = busy;
		}
		sleep(1);
	}
	if (refuse(p, job, "repo-busy",
		   hh_asprintf(
			   "%s has job %lld in progress (%s): one job at a time per repository%s",
			   job->repo, busy, state, a->wait ? "; gave up waiting" : "")) < 0)
		return -1;
	return 0;
}

static void print_result(hh_pipeline *p, hh_job *job, const struct args *a, int c, double secs)
{
	hh_buf out = HH_BUF_INIT;
	char *msg;

	if (!a->json) {
		msg = hh_job_message(job);
		printf("%s: %s\n",
		       c == 0        ? (a->dry ? "would fix" : "fixed")
		       : job->reason ? job->reason
				     : "failed",
		       a->dry && c == 0 ? a->file : msg);
		free(msg);
		return;
	}
	hh_job_result_json(job, a->dry && c == 0 ? "dry-run" : NULL, &out);
	out.ptr[--out.len] = '\0'; /* reopen the object for the measurements */
	hh_buf_printf(&out, ",\"detail\":");
	if (job->detail) {
		hh_buf_putc(&out, '"');
		hh_buf_put_json_str(&out, job->detail);
		hh_buf_putc(&out, '"');
	} else {
		hh_buf_puts(&out, "null");
	}
	/* seconds: the whole heal, watch and revert included; push_seconds: up to the push. */
	hh_buf_printf(
		&out,
		",\"connections\":%d,\"channels\":%d,\"seconds\":%.3f,\"push_seconds\":%.3f}\n",
		p->connections, p->channels, secs, p->seconds);
	fputs(out.ptr, stdout);
	hh_buf_release(&out);
}

/* Runs the job: claim, quarantine, pipeline, after-push. Returns the pipeline's result. */
static int run(hh_pipeline *p, hh_job *job, const struct args *a)
{
	int c;

	if (!a->dry) {
		if ((c = quarantined(p->store, job, a->force)) < 0)
			return -1;
		if (c)
			return refuse(
				p, job, "quarantined",
				hh_asprintf("this finding is quarantined: a fix of it was "
					    "reverted or its revert failed; --force to heal it "
					    "anyway"));
		if ((c = claim(p, job, a)) <= 0)
			return c < 0 ? -1 : 1;
	}
	c = hh_pipeline_run(p, job);
	if (c == HH_PL_LANDED && !a->dry)
		c = hh_pipeline_after_push(p, job);
	return c;
}

int cmd_heal(int argc, char **argv)
{
	struct args a = {0};
	int c, rc = HH_EXIT_USAGE;
	struct tty tty = {0};
	hh_pipeline p = {0};
	hh_config *cfg = NULL;
	hh_job job = {0}, fresh = {0};
	const hh_repo_config *rc_repo;
	double t0 = now_s();

	if ((c = parse(argc, argv, &a)) >= 0)
		return c;
	cfg = cmd_load_config(a.config);
	if (!cfg)
		return HH_EXIT_USAGE;
	apply_log_args(cfg, &a);
	rc_repo = hh_config_repo(cfg, a.repo);
	if (!rc_repo) {
		cmd_die_msg("heal", "repository '%s' is not configured (add [repo \"%s\"])", a.repo,
			    a.repo);
		goto out;
	}
	if (!cfg->state_dir) {
		cmd_die_msg("heal", "state.dir is not set (config file or HEALHOOK_STATE_DIR)");
		goto out;
	}
	job.repo = hh_strdup(rc_repo->name);
	job.branch = hh_strdup(a.branch ? a.branch : rc_repo->branch ? rc_repo->branch : "main");
	job.file = hh_strdup(a.file);
	job.type = hh_strdup(a.type);
	job.message = hh_strdup(a.message);
	job.pr_url = hh_strdup(a.pr_url);
	job.sender = hh_strdup("healhook heal");
	job.state = HH_JOB_FIXING;
	job.created = job.updated = (long long)time(NULL);
	if (!a.dry && hh_store_open(&p.store, cfg->state_dir) < 0) {
		cmd_die_msg("heal", "%s", hh_error_last());
		rc = HH_EXIT_FAIL;
		goto out;
	}
	tty.on = isatty(STDERR_FILENO);
	if (tty.on)
		fprintf(stderr, "healhook: fixing %s in %s (%s)%s\n", a.file, job.repo, job.branch,
			a.dry ? " — dry run" : "");
	p.cfg = cfg;
	p.dry_run = a.dry;
	p.on_stage = on_stage;
	p.ctx = &tty;
	if (!a.dry)
		hh_notifier_start(&p.notifier, cfg);
	c = run(&p, &job, &a);
	if (c < 0 && !job.reason)
		cmd_die_msg("heal", "%s", hh_error_last());
	/* The stored job is the truth (its updated time is the store's). */
	if (p.store && job.id && hh_store_job_get(p.store, job.id, &fresh) == 0) {
		hh_job_release(&job);
		job = fresh;
	}
	print_result(&p, &job, &a, c, now_s() - t0);
	rc = c == 0 ? HH_EXIT_OK : HH_EXIT_FAIL;
	hh_notifier_stop(p.notifier, 10000);
	p.notifier = NULL;
out:
	hh_notifier_stop(p.notifier, 0);
	hh_job_release(&job);
	hh_store_close(p.store);
	hh_config_free(cfg);
	return rc;
}
