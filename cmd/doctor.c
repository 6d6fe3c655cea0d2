/*
 * healhook doctor: checks every configured repository end to end (fix host over ssh or
 * locally, work tree, fixer, Ollama, health URL) and the Gitea and Telegram tokens, and prints
 * one line per check with what to do for each failure. The checks are internal/doctor.c; this
 * file prints them as they complete, in aligned columns.
 */
#include "cmd/cmd.h"
#include "internal/doctor.h"
#include "internal/log.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const char usage[] =
	"usage: healhook doctor [--config FILE]\n"
	"\n"
	"Checks every configured repository end to end and prints one line per check:\n"
	"  ssh hosts: reachable, host key known, key accepted, sftp subsystem (information: a\n"
	"  heal does not need it, a host without one is !); local hosts: the path exists;\n"
	"  the work tree is a git repository, not shallow, on repo.branch;\n"
	"  the fixer's program answers --version on the host;\n"
	"  the health URL answers (and whether it is healthy now);\n"
	"and once: each fixer.ollama candidate has the model, the Gitea token is accepted\n"
	"(GET /api/v1/user, login compared with gitea.user), the Telegram bot token is accepted\n"
	"(getMe). Each failed check says what to do. Secrets are never printed.\n"
	"\n"
	"  --config FILE   configuration file (default: $HEALHOOK_CONFIG, else environment only)\n"
	"\n"
	"Lines start with ✓ (ok), ✗ (failed), ! (works, but look at it) or - (skipped).\n"
	"Exit status: 0 every check passed, 1 some check failed, 2 usage or configuration error.\n";

struct out {
	int scope_w;
};

static const char *mark(enum hh_check_state st)
{
	switch (st) {
	case HH_CHECK_OK: return "✓";
	case HH_CHECK_FAIL: return "✗";
	case HH_CHECK_WARN: return "!";
	default: return "-";
	}
}

static void print_check(void *ctx, const hh_check *c)
{
	const struct out *o = ctx;

	printf("%s %-*s  %-*s  %s", mark(c->state), o->scope_w, c->scope, HH_DOCTOR_NAME_WIDTH,
	       c->name, c->detail);
	if (c->fix && (c->state == HH_CHECK_FAIL || c->state == HH_CHECK_WARN))
		printf(" → fix: %s", c->fix);
	putchar('\n');
	fflush(stdout);
}

int cmd_doctor(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *config = NULL;
	hh_config *cfg = NULL;
	hh_doctor d = {0};
	struct out o = {8}; /* "telegram" */
	size_t i, ok = 0, skipped = 0;
	int c, rc = HH_EXIT_USAGE;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
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
	if (!cfg->nrepos) {
		cmd_die_msg("doctor", "no repository is configured (add a [repo \"owner/name\"] "
				      "section, or set HEALHOOK_REPO and its variables)");
		goto out;
	}
	for (i = 0; i < cfg->nrepos; i++)
		if ((int)strlen(cfg->repos[i].name) > o.scope_w)
			o.scope_w = (int)strlen(cfg->repos[i].name);
	d.cfg = cfg;
	d.on_check = print_check;
	d.ctx = &o;
	if (hh_doctor_run(&d) < 0) {
		cmd_die_msg("doctor", "%s", hh_error_last());
		rc = HH_EXIT_FAIL;
		goto out;
	}
	for (i = 0; i < d.n; i++) {
		ok += d.checks[i].state == HH_CHECK_OK;
		skipped += d.checks[i].state == HH_CHECK_SKIP;
	}
	printf("\n%zu checks: %zu ok, %zu failed, %zu to look at, %zu skipped\n", d.n, ok, d.failed,
	       d.warned, skipped);
	rc = d.failed ? HH_EXIT_FAIL : HH_EXIT_OK;
out:
	hh_doctor_release(&d);
	hh_config_free(cfg);
	return rc;
}
