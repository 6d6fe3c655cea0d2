/*
 * healhook replay: runs saved deliveries (NAME.json or NAME.body, with NAME.headers beside
 * it) through exactly the code path of serve, resolving review line comments at once.
 */
#include "cmd/cmd.h"
#include "webhook/intake.h"
#include "internal/log.h"
#include "internal/result.h"
#include "internal/worker.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char usage[] =
	"usage: healhook replay [--config FILE] [--dry-run] [--no-verify] [--no-heal] [--json]\n"
	"                       BODY_FILE...\n"
	"\n"
	"Runs saved deliveries through the same code as 'serve'. Each BODY_FILE (NAME.json, or\n"
	"NAME.body for form content) needs NAME.headers beside it ('Name: value' per line).\n"
	"Without --dry-run or --no-heal the accepted jobs are then healed, one repository at a\n"
	"time, and their results printed.\n"
	"\n"
	"  --config FILE  configuration file (default: $HEALHOOK_CONFIG, else environment only)\n"
	"  --dry-run      store nothing (the Gitea API may still be read)\n"
	"  --no-heal      store the jobs but do not run them\n"
	"  --no-verify    do not check signatures (reported as \"skipped\")\n"
	"  --json         print one JSON object per delivery\n"
	"\n"
	"Exit status: 0 when every delivery was accepted (2xx), 1 otherwise, 2 on usage errors.\n";

/* NAME.json / NAME.body → NAME.headers (caller frees). */
static char *headers_path(const char *body)
{
	const char *dot = strrchr(body, '.'), *slash = strrchr(body, '/');
	size_t stem = dot && (!slash || dot > slash) ? (size_t)(dot - body) : strlen(body);

	return hh_asprintf("%.*s.headers", (int)stem, body);
}

static void print_human(const char *file, const hh_intake_result *res)
{
	size_t i;

	printf("%s: %d", file, res->status);
	if (res->error)
		printf(" (%s)", res->error);
	printf(" delivery=%s event=%s signature=%s", res->delivery ? res->delivery : "-",
	       res->event && *res->event ? res->event : "-", hh_sig_verdict_name(res->sig));
	if (res->repo)
		printf(" repo=%s", res->repo);
	if (res->branch)
		printf(" branch=%s", res->branch);
	if (res->duplicate)
		printf(" duplicate");
	if (res->ignored)
		printf(" ignored");
	printf(" findings=%zu\n", res->findings.n);
	for (i = 0; i < res->findings.n; i++) {
		const hh_finding *f = &res->findings.v[i];
		printf("  %s:%ld [%s] %s %s", f->file, f->line, f->type, hh_source_name(f->source),
		       f->accepted ? "accepted" : "rejected");
		if (f->reason)
			printf(": %s", f->reason);
		if (f->job)
			printf(" (job %lld)", f->job);
		putchar('\n');
	}
	if (res->lookup_error)
		printf("  line comments not fetched: %s\n", res->lookup_error);
}

struct replay {
	const char *config;
	int dry, noverify, json, noheal;
	hh_config *cfg;
	hh_store *st; /* NULL with --dry-run */
	hh_strv ids;  /* the jobs the deliveries created, as decimal strings */
};

/* -1 to go on, else the exit code (--help, usage error). */
static int parse_args(struct replay *r, int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"dry-run", no_argument, NULL, 'n'},
		{"no-verify", no_argument, NULL, 'V'},
		{"json", no_argument, NULL, 'j'},
		{"no-heal", no_argument, NULL, 'H'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': r->config = optarg; break;
		case 'n': r->dry = 1; break;
		case 'V': r->noverify = 1; break;
		case 'j': r->json = 1; break;
		case 'H': r->noheal = 1; break;
		case 'h': fputs(usage, stdout); return HH_EXIT_OK;
		default: fputs(usage, stderr); return HH_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fputs(usage, stderr);
		return HH_EXIT_USAGE;
	}
	return -1;
}

/* The configuration, and the store unless --dry-run. HH_EXIT_OK or the exit code. */
static int open_all(struct replay *r)
{
	if (!(r->cfg = cmd_load_config(r->config)))
		return HH_EXIT_USAGE;
	if (r->dry)
		return HH_EXIT_OK;
	if (!r->cfg->state_dir) {
		cmd_die_msg("replay", "state.dir is not set (config file or HEALHOOK_STATE_DIR;"
				      " or use --dry-run)");
		return HH_EXIT_USAGE;
	}
	return cmd_open_store(&r->st, r->cfg, "replay");
}

static void remember_jobs(struct replay *r, const hh_intake_result *res)
{
	char id[24];
	size_t k;

	for (k = 0; k < res->findings.n; k++) {
		if (!res->findings.v[k].job)
			continue;
		snprintf(id, sizeof(id), "%lld", res->findings.v[k].job);
		if (!hh_strv_contains(&r->ids, id))
			hh_strv_push(&r->ids, id);
	}
}

/* One delivery through intake; HH_EXIT_OK if it was accepted (2xx), else HH_EXIT_FAIL. */
static int replay_one(struct replay *r, const char *file)
{
	hh_buf body = HH_BUF_INIT, htext = HH_BUF_INIT, out = HH_BUF_INIT;
	hh_headers hdrs = {0};
	hh_intake in = {0};
	hh_intake_result res;
	char *hpath = headers_path(file);
	int rc = HH_EXIT_FAIL;

	if (hh_buf_read_file(&body, file, r->cfg->max_body) < 0 ||
	    hh_buf_read_file(&htext, hpath, 1u << 20) < 0 ||
	    hh_headers_parse(&hdrs, htext.ptr, htext.len) < 0) {
		cmd_die_msg("replay", "%s: %s", file, hh_error_last());
		goto out;
	}
	in.cfg = r->cfg;
	in.store = r->st;
	in.verify = !r->noverify;
	in.lookup_inline = 1;
	in.now = (long long)time(NULL);
	hh_intake_process(&in, &hdrs, body.ptr, body.len, &res);
	if (r->json) {
		hh_intake_report_json(&res, &out);
		puts(out.ptr);
	} else {
		print_human(file, &res);
	}
	rc = res.status >= 300 ? HH_EXIT_FAIL : HH_EXIT_OK;
	remember_jobs(r, &res);
	hh_intake_result_release(&res);
out:
	free(hpath);
	hh_headers_release(&hdrs);
	hh_buf_release(&body);
	hh_buf_release(&htext);
	hh_buf_release(&out);
	return rc;
}

/* One job's outcome; HH_EXIT_OK if it succeeded. */
static int print_job(const struct replay *r, long long id)
{
	hh_buf b = HH_BUF_INIT;
	hh_job job;
	int rc;

	if (hh_store_job_get(r->st, id, &job) < 0)
		return HH_EXIT_OK;
	if (r->json) {
		hh_job_result_json(&job, NULL, &b);
		puts(b.ptr);
	} else {
		char *msg = hh_job_message(&job);

		printf("job %lld %s %s: %s%s%s\n", job.id, job.file, hh_job_state_name(job.state),
		       msg, job.reason ? " " : "", job.reason ? job.reason : "");
		free(msg);
	}
	rc = hh_job_succeeded(&job) ? HH_EXIT_OK : HH_EXIT_FAIL;
	hh_buf_release(&b);
	hh_job_release(&job);
	return rc;
}

/* Heals the jobs the deliveries created, then prints each one's outcome. */
static int heal(struct replay *r)
{
	hh_notifier *notifier = NULL;
	int rc = HH_EXIT_OK;
	size_t k;

	hh_notifier_start(&notifier, r->cfg);
	if (hh_worker_drain(r->cfg, r->st, notifier) < 0) {
		cmd_die_msg("replay", "%s", hh_error_last());
		rc = HH_EXIT_FAIL;
	}
	for (k = 0; k < r->ids.n; k++)
		if (print_job(r, atoll(r->ids.v[k])) != HH_EXIT_OK)
			rc = HH_EXIT_FAIL;
	hh_notifier_stop(notifier, 10000);
	return rc;
}

int cmd_replay(int argc, char **argv)
{
	struct replay r = {0};
	int rc, i;

	if ((rc = parse_args(&r, argc, argv)) >= 0)
		return rc;
	if ((rc = open_all(&r)) != HH_EXIT_OK)
		goto out;
	for (i = optind; i < argc; i++)
		if (replay_one(&r, argv[i]) != HH_EXIT_OK)
			rc = HH_EXIT_FAIL;
	fflush(stdout);
	if (r.st && !r.noheal && r.ids.n && heal(&r) != HH_EXIT_OK)
		rc = HH_EXIT_FAIL;
out:
	hh_strv_release(&r.ids);
	hh_store_close(r.st);
	hh_config_free(r.cfg);
	return rc;
}
