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

int cmd_replay(int argc, char **argv)
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
	const char *config = NULL;
	int c, dry = 0, noverify = 0, json = 0, noheal = 0, rc = HH_EXIT_USAGE, i;
	hh_strv ids = {0};
	hh_config *cfg = NULL;
	hh_store *st = NULL;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'n': dry = 1; break;
		case 'V': noverify = 1; break;
		case 'j': json = 1; break;
		case 'H': noheal = 1; break;
		case 'h': fputs(usage, stdout); return HH_EXIT_OK;
		default: fputs(usage, stderr); return HH_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fputs(usage, stderr);
		return HH_EXIT_USAGE;
	}
	cfg = cmd_load_config(config);
	if (!cfg)
		return HH_EXIT_USAGE;
	if (!dry) {
		if (!cfg->state_dir) {
			cmd_die_msg("replay",
				    "state.dir is not set (config file or HEALHOOK_STATE_DIR;"
				    " or use --dry-run)");
			goto out;
		}
		if (hh_store_open(&st, cfg->state_dir) < 0) {
			cmd_die_msg("replay", "%s", hh_error_last());
			rc = HH_EXIT_FAIL;
			goto out;
		}
	}
	rc = HH_EXIT_OK;
	for (i = optind; i < argc; i++) {
		hh_buf body = HH_BUF_INIT, htext = HH_BUF_INIT, out = HH_BUF_INIT;
		hh_headers hdrs = {0};
		hh_intake in = {0};
		hh_intake_result res;
		char *hpath = headers_path(argv[i]);

		if (hh_buf_read_file(&body, argv[i], cfg->max_body) < 0 ||
		    hh_buf_read_file(&htext, hpath, 1u << 20) < 0 ||
		    hh_headers_parse(&hdrs, htext.ptr, htext.len) < 0) {
			cmd_die_msg("replay", "%s: %s", argv[i], hh_error_last());
			rc = HH_EXIT_FAIL;
			goto next;
		}
		in.cfg = cfg;
		in.store = st;
		in.verify = !noverify;
		in.lookup_inline = 1;
		in.now = (long long)time(NULL);
		hh_intake_process(&in, &hdrs, body.ptr, body.len, &res);
		if (json) {
			hh_intake_report_json(&res, &out);
			puts(out.ptr);
		} else {
			print_human(argv[i], &res);
		}
		if (res.status >= 300)
			rc = HH_EXIT_FAIL;
		for (size_t k = 0; k < res.findings.n; k++)
			if (res.findings.v[k].job) {
				char id[24];
				snprintf(id, sizeof(id), "%lld", res.findings.v[k].job);
				if (!hh_strv_contains(&ids, id))
					hh_strv_push(&ids, id);
			}
		hh_intake_result_release(&res);
	next:
		free(hpath);
		hh_headers_release(&hdrs);
		hh_buf_release(&body);
		hh_buf_release(&htext);
		hh_buf_release(&out);
	}
	fflush(stdout);
	if (st && !noheal && ids.n) {
		hh_notifier *notifier = NULL;
		size_t k;
		hh_notifier_start(&notifier, cfg);
		if (hh_worker_drain(cfg, st, notifier) < 0) {
			cmd_die_msg("replay", "%s", hh_error_last());
			rc = HH_EXIT_FAIL;
		}
		for (k = 0; k < ids.n; k++) {
			hh_job job;
			hh_buf b = HH_BUF_INIT;
			if (hh_store_job_get(st, atoll(ids.v[k]), &job) < 0)
				continue;
			if (json) {
				hh_job_result_json(&job, NULL, &b);
				puts(b.ptr);
			} else {
				char *msg = hh_job_message(&job);
				printf("job %lld %s %s: %s%s%s\n", job.id, job.file,
				       hh_job_state_name(job.state), msg, job.reason ? " " : "",
				       job.reason ? job.reason : "");
				free(msg);
			}
			if (!hh_job_succeeded(&job))
				rc = HH_EXIT_FAIL;
			hh_buf_release(&b);
			hh_job_release(&job);
		}
		hh_notifier_stop(notifier, 10000);
	}
out:
	hh_strv_release(&ids);
	hh_store_close(st);
	hh_config_free(cfg);
	return rc;
}
