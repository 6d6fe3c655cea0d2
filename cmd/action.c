/*
 * healhook action: healhook as a Gitea Actions step.
 *
 * The runner hands the step the event that started the workflow as a file (GITHUB_EVENT_PATH,
 * the same fields as the webhook body) and its name (GITHUB_EVENT_NAME, GitHub's vocabulary).
 * This command turns that back into the delivery Gitea would have sent — the X-Gitea-Event-Type
 * it would carry and the JSON body — and runs it through hh_intake_process(), the code path of
 * `serve` and `replay`, so the findings and verdicts are the same. The accepted jobs are then
 * healed in this process (hh_worker_drain), and the outcome is reported every way a runner
 * offers: GITHUB_OUTPUT, a Markdown table in GITHUB_STEP_SUMMARY, ::notice::/::error:: lines,
 * and, because Gitea shows neither annotations nor the summary, a comment on the PR.
 *
 * Configuration is the usual one (--config FILE or the environment) with defaults taken from
 * the runner for what is not configured: the repository is GITHUB_REPOSITORY, its fix host the
 * checkout in GITHUB_WORKSPACE (local, push-via host: the checkout pushes with the runner's
 * credentials), the Gitea URL from GITHUB_API_URL, the token from HEALHOOK_GITEA_TOKEN,
 * GITEA_TOKEN or GITHUB_TOKEN, and a fresh state directory under RUNNER_TEMP. These defaults
 * are added as HEALHOOK_* variables to a copy of the environment, so the config module is used
 * unchanged: the configuration is loaded once to see what is missing, then again with the
 * defaults for exactly those keys.
 */
#include "cmd/cmd.h"
#include "internal/gitea.h"
#include "webhook/intake.h"
#include "internal/log.h"
#include "internal/result.h"
#include "internal/worker.h"

#include <ftw.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define MAX_EVENT_FILE (64u << 20)

static const char usage[] =
	"usage: healhook action [--config FILE] [--dry-run]\n"
	"\n"
	"Runs inside a Gitea Actions step (on: pull_request_review, pull_request_review_comment\n"
	"or issue_comment): reads the event from GITHUB_EVENT_PATH, extracts the findings with\n"
	"the same code as 'serve', heals each accepted one and reports the outcome through\n"
	"GITHUB_OUTPUT (result, findings, healed, commit_sha, reverted), GITHUB_STEP_SUMMARY,\n"
	"::notice::/::error:: lines and a comment on the pull request.\n"
	"\n"
	"Defaults for what the configuration leaves unset: the repository GITHUB_REPOSITORY with\n"
	"host = GITHUB_WORKSPACE (the checkout; it must have full history), gitea.url from\n"
	"GITHUB_API_URL, the token from HEALHOOK_GITEA_TOKEN, GITEA_TOKEN or GITHUB_TOKEN, and a\n"
	"fresh state directory under RUNNER_TEMP.\n"
	"\n"
	"  --config FILE  configuration file (default: $HEALHOOK_CONFIG, else environment only)\n"
	"  --dry-run      only list what would be fixed (file, line, type, verdict); no heal, no\n"
	"                 comment\n"
	"\n"
	"Exit status: 0 done (also when there is nothing to do), 1 a heal failed or was reverted,\n"
	"2 usage or configuration error.\n";

/* What the step knows about one finding's outcome, for the table. */
struct row {
	const hh_finding *f;
	const hh_job *job; /* NULL when rejected or not run */
};

struct action {
	int dry;
	const char *event_name;
	const char *repository;
	hh_strv env;      /* the environment given to hh_config_load */
	char *made_state; /* state directory this run created (removed at the end) */
	hh_config *cfg;
	hh_store *st;
	hh_intake_result res;
	int have_res;
	hh_job *jobs; /* the jobs of this delivery, in id order */
	size_t njobs;
	/* outcome */
	const char *result; /* healed, failed, reverted, nothing, dry-run */
	long healed;
	const char *commit_sha; /* last landed */
	int reverted;
};

/* A variable of the real environment, NULL when unset or empty. */
static const char *env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

/* ---- workflow commands ---------------------------------------------------------------- */

/* Prints "::KIND::message" on stdout with % \r \n escaped as the runner expects. */
static void wf(const char *kind, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void wf(const char *kind, const char *fmt, ...)
{
	hh_buf b = HH_BUF_INIT;
	va_list ap;
	size_t i;

	va_start(ap, fmt);
	hh_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	printf("::%s::", kind);
	for (i = 0; i < b.len; i++) {
		if (b.ptr[i] == '%')
			fputs("%25", stdout);
		else if (b.ptr[i] == '\r')
			fputs("%0D", stdout);
		else if (b.ptr[i] == '\n')
			fputs("%0A", stdout);
		else
			putchar(b.ptr[i]);
	}
	putchar('\n');
	fflush(stdout);
	hh_buf_release(&b);
}

/* ---- GITHUB_OUTPUT and GITHUB_STEP_SUMMARY ---------------------------------------------- */

/* Appends name=value, or the name<<DELIM form when value has a line break. */
static void output_put(hh_buf *out, const char *name, const char *value)
{
	char delim[48];
	unsigned n = 0;

	if (!strchr(value, '\n') && !strchr(value, '\r')) {
		hh_buf_printf(out, "%s=%s\n", name, value);
		return;
	}
	do
		snprintf(delim, sizeof(delim), "healhook_%08x_%u",
			 (unsigned)time(NULL) ^ (unsigned)getpid(), n++);
	while (strstr(value, delim));
	hh_buf_printf(out, "%s<<%s\n%s\n%s\n", name, delim, value, delim);
}

/* Appends text to the file named by variable (when set). Returns 0 or -1 with the error set. */
static int append_to(const char *variable, const hh_buf *text)
{
	const char *path = env(variable);
	FILE *f;
	int rc = 0;

	if (!path || !text->len)
		return 0;
	f = fopen(path, "a");
	if (!f)
		return hh_error("cannot open %s '%s': %m", variable, path);
	if (fwrite(text->ptr, 1, text->len, f) != text->len)
		rc = hh_error("cannot write %s '%s': %m", variable, path);
	if (fclose(f) != 0 && rc == 0)
		rc = hh_error("cannot write %s '%s': %m", variable, path);
	return rc;
}

static int write_outputs(const struct action *a, const char *message)
{
	hh_buf out = HH_BUF_INIT, jobs = HH_BUF_INIT;
	char num[32];
	size_t i;
	int rc;

	output_put(&out, "result", a->result);
	snprintf(num, sizeof(num), "%zu", a->have_res ? a->res.findings.n : 0);
	output_put(&out, "findings", num);
	snprintf(num, sizeof(num), "%ld", a->healed);
	output_put(&out, "healed", num);
	output_put(&out, "commit_sha", a->commit_sha ? a->commit_sha : "");
	output_put(&out, "reverted", a->reverted ? "true" : "false");
	hh_buf_putc(&jobs, '[');
	for (i = 0; i < a->njobs; i++) {
		if (i)
			hh_buf_putc(&jobs, ',');
		hh_job_result_json(&a->jobs[i], NULL, &jobs);
	}
	hh_buf_putc(&jobs, ']');
	output_put(&out, "jobs", jobs.ptr);
	output_put(&out, "message", message ? message : "");
	rc = append_to("GITHUB_OUTPUT", &out);
	hh_buf_release(&out);
	hh_buf_release(&jobs);
	return rc;
}

/* A table cell: | and line breaks would end the cell or the row. */
static void cell(hh_buf *b, const char *s)
{
	hh_buf_puts(b, " ");
	for (; s && *s; s++) {
		if (*s == '|')
			hh_buf_puts(b, "\\|");
		else if (*s == '\n' || *s == '\r')
			hh_buf_putc(b, ' ');
		else
			hh_buf_putc(b, *s);
	}
	hh_buf_puts(b, " |");
}

static const hh_job *job_of(const struct action *a, long long id)
{
	size_t i;

	for (i = 0; i < a->njobs; i++)
		if (a->jobs[i].id == id)
			return &a->jobs[i];
	return NULL;
}

/* The outcome column of one finding. Caller frees. */
static char *outcome(const struct action *a, const hh_finding *f)
{
	const hh_job *j;

	if (!f->accepted)
		return hh_asprintf("rejected: %s", f->reason ? f->reason : "-");
	if (a->dry)
		return hh_strdup("would fix");
	j = job_of(a, f->job);
	if (!j)
		return hh_strdup("accepted");
	if (j->reason)
		return hh_asprintf("%s: %s", hh_job_state_name(j->state),
				   j->detail ? j->detail : j->reason);
	return hh_strdup(hh_job_state_name(j->state));
}

/* The Markdown table of the findings: file, line, type, verdict/state, commit. */
static void table(const struct action *a, hh_buf *b)
{
	size_t i;

	hh_buf_puts(b, "| file | line | type | verdict | commit |\n|---|---|---|---|---|\n");
	for (i = 0; a->have_res && i < a->res.findings.n; i++) {
		const hh_finding *f = &a->res.findings.v[i];
		const hh_job *j = f->accepted && !a->dry ? job_of(a, f->job) : NULL;
		char line[24], sha[16] = "";
		char *o = outcome(a, f);

		snprintf(line, sizeof(line), "%ld", f->line);
		if (j && j->commit_sha)
			snprintf(sha, sizeof(sha), "%.12s", j->commit_sha);
		hh_buf_putc(b, '|');
		cell(b, f->file);
		cell(b, line);
		cell(b, f->type);
		cell(b, o);
		cell(b, sha);
		hh_buf_putc(b, '\n');
		free(o);
	}
}

static int write_summary(const struct action *a, const char *message)
{
	hh_buf b = HH_BUF_INIT;
	int rc;

	hh_buf_printf(&b, "### healhook%s\n\n%s\n\n", a->dry ? " (dry run)" : "", message);
	if (a->have_res && a->res.findings.n)
		table(a, &b);
	hh_buf_putc(&b, '\n');
	rc = append_to("GITHUB_STEP_SUMMARY", &b);
	hh_buf_release(&b);
	return rc;
}

/* The PR comment: what Gitea users see of the run. No line of it looks like a finding
 * ("path:LINE: ..."), so that a workflow on issue_comment never reads it as one. */
static void post_comment(const struct action *a, const hh_event *ev, const char *message)
{
	hh_gitea g = {a->cfg->gitea_url, a->cfg->gitea_token, a->cfg->gitea_timeout};
	hh_buf b = HH_BUF_INIT;
	const char *server = env("GITHUB_SERVER_URL"), *run = env("GITHUB_RUN_NUMBER");

	hh_buf_printf(&b, "**healhook**: %s\n\n", message);
	table(a, &b);
	if (server && run && a->repository)
		hh_buf_printf(&b, "\n[workflow run](%s/%s/actions/runs/%s)\n", server,
			      a->repository, run);
	if (hh_gitea_comment(&g, ev->repo, ev->pr_number, b.ptr) < 0)
		wf("warning", "healhook: cannot comment on PR #%ld: %s", ev->pr_number,
		   hh_error_last());
	hh_buf_release(&b);
}

/* ---- configuration -------------------------------------------------------------------- */

/* Is NAME set (non-empty) in the environment list? */
static const char *env_in(const hh_strv *e, const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; i < e->n; i++)
		if (strncmp(e->v[i], name, n) == 0 && e->v[i][n] == '=')
			return e->v[i][n + 1] ? e->v[i] + n + 1 : NULL;
	return NULL;
}

/* Adds NAME=value to the list (after the existing entries; hh_cfg_env reads the first
 * non-empty one, and only names that are unset or empty are added). */
static int env_default(hh_strv *e, const char *name, const char *value)
{
	char *kv;
	int rc;

	if (!value || env_in(e, name))
		return 0;
	kv = hh_asprintf("%s=%s", name, value);
	rc = kv ? hh_strv_push(e, kv) : -1;
	free(kv);
	return rc;
}

/* GITHUB_API_URL without a trailing "/api/v1" (and slashes). Caller frees. */
static char *gitea_base(const char *api)
{
	size_t n = strlen(api);

	while (n && api[n - 1] == '/')
		n--;
	if (n >= 7 && strncmp(api + n - 7, "/api/v1", 7) == 0)
		n -= 7;
	while (n && api[n - 1] == '/')
		n--;
	return hh_strndup(api, n);
}

static int load(struct action *a, const char *path)
{
	const hh_repo_config *r;
	const char *token;
	char *url = NULL;
	size_t i;
	int rc = -1;

	for (i = 0; environ[i]; i++)
		if (hh_strv_push(&a->env, environ[i]) < 0)
			return -1;
	/* The step describes GITHUB_REPOSITORY (unless HEALHOOK_REPO names another). */
	if (env_default(&a->env, "HEALHOOK_REPO", a->repository) < 0)
		return -1;
	if (hh_config_load(&a->cfg, path, a->env.v) < 0)
		return -1;
	r = a->repository ? hh_config_repo(a->cfg, a->repository) : NULL;
	if (r && !r->host && env("GITHUB_WORKSPACE") &&
	    env_default(&a->env, "HEALHOOK_HOST", env("GITHUB_WORKSPACE")) < 0)
		goto out;
	if (!a->cfg->gitea_url) {
		const char *api = env("GITHUB_API_URL") ? env("GITHUB_API_URL")
							: env("GITHUB_SERVER_URL");
		if (api && (!(url = gitea_base(api)) ||
			    env_default(&a->env, "HEALHOOK_GITEA_URL", url) < 0))
			goto out;
	}
	if (!a->cfg->gitea_token) {
		token = env("GITEA_TOKEN") ? env("GITEA_TOKEN") : env("GITHUB_TOKEN");
		if (env_default(&a->env, "HEALHOOK_GITEA_TOKEN", token) < 0)
			goto out;
	}
	/* Gitea's Actions account: the comments this step posts are never findings. */
	if (!a->cfg->gitea_user && env("GITEA_ACTIONS") &&
	    env_default(&a->env, "HEALHOOK_GITEA_USER", "gitea-actions") < 0)
		goto out;
	if (!a->cfg->state_dir && !a->dry) {
		const char *tmp = env("RUNNER_TEMP") ? env("RUNNER_TEMP") : "/tmp";
		char *tmpl = hh_asprintf("%s/healhook-state-XXXXXX", tmp);
		if (!tmpl || !mkdtemp(tmpl)) {
			hh_error("cannot create a state directory in '%s': %m", tmp);
			free(tmpl);
			goto out;
		}
		a->made_state = tmpl;
		if (env_default(&a->env, "HEALHOOK_STATE_DIR", tmpl) < 0)
			goto out;
	}
	hh_config_free(a->cfg);
	a->cfg = NULL;
	if (hh_config_load(&a->cfg, path, a->env.v) < 0)
		goto out;
	hh_log_init((enum hh_log_level)a->cfg->log_level, (enum hh_log_format)a->cfg->log_format);
	rc = 0;
out:
	free(url);
	return rc;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

/* ---- the event ------------------------------------------------------------------------ */

/*
 * The X-Gitea-Event-Type of the run's event into *type (static string or the event's own
 * review type, copied), or NULL when the step has nothing to do. Returns 0, or -1 when the
 * event file is unreadable or not an event.
 */
static int event_type(const char *name, const hh_buf *body, char **type, hh_event *ev)
{
	enum hh_event_kind k;

	*type = NULL;
	if (strcmp(name, "pull_request_review") == 0 ||
	    strcmp(name, "pull_request_review_comment") == 0) {
		/* Gitea's review events carry review.type; a GitHub-style line comment event
		 * carries comment.body instead and is scanned like a PR comment. */
		if (hh_event_parse(ev, HH_EV_REVIEW_REJECTED, body->ptr, body->len) < 0)
			return -1;
		k = hh_event_kind_from_type(ev->review_type);
		if (hh_event_is_review(k))
			*type = hh_strdup(ev->review_type);
		else if (ev->comment_body)
			*type = hh_strdup("pull_request_comment");
		return 0;
	}
	if (strcmp(name, "issue_comment") == 0) {
		if (hh_event_parse(ev, HH_EV_ISSUE_COMMENT, body->ptr, body->len) < 0)
			return -1;
		*type = hh_strdup(ev->is_pull ? "pull_request_comment" : "issue_comment");
		return 0;
	}
	return 0;
}

/* ---- the run -------------------------------------------------------------------------- */

static int collect_jobs(struct action *a)
{
	hh_strv seen = {0};
	size_t i;
	int rc = 0;

	for (i = 0; i < a->res.findings.n; i++) {
		long long id = a->res.findings.v[i].job;
		hh_job *v;
		char s[24];

		if (!id)
			continue;
		snprintf(s, sizeof(s), "%lld", id);
		if (hh_strv_contains(&seen, s))
			continue;
		hh_strv_push(&seen, s);
		v = realloc(a->jobs, (a->njobs + 1) * sizeof(*v));
		if (!v) {
			rc = hh_error("out of memory");
			break;
		}
		a->jobs = v;
		if (hh_store_job_get(a->st, id, &a->jobs[a->njobs]) < 0) {
			rc = -1;
			break;
		}
		a->njobs++;
	}
	hh_strv_release(&seen);
	return rc;
}

/* Sets result, healed, commit_sha, reverted from the jobs; returns the exit code. */
static int judge(struct action *a)
{
	size_t i;
	int failed = 0;

	for (i = 0; i < a->njobs; i++) {
		const hh_job *j = &a->jobs[i];
		char *msg = hh_job_message(j);

		if (hh_job_succeeded(j)) {
			a->healed++;
			a->commit_sha = j->commit_sha;
			wf("notice", "healhook: %s", msg);
		} else if (j->state == HH_JOB_REVERTED) {
			a->reverted = 1;
			wf("error", "healhook: %s", msg);
		} else {
			failed = 1;
			wf("error", "healhook: %s not fixed (%s): %s", j->file,
			   j->reason ? j->reason : hh_job_state_name(j->state), msg);
		}
		free(msg);
	}
	a->result = failed ? "failed" : a->reverted ? "reverted" : a->healed ? "healed" : "nothing";
	return failed || a->reverted ? HH_EXIT_FAIL : HH_EXIT_OK;
}

static char *summary_sentence(const struct action *a)
{
	size_t i, accepted = 0, n = a->have_res ? a->res.findings.n : 0;

	for (i = 0; i < n; i++)
		accepted += a->res.findings.v[i].accepted;
	if (a->dry)
		return hh_asprintf("%zu finding%s, %zu would be fixed (dry run).", n,
				   n == 1 ? "" : "s", accepted);
	if (!n)
		return hh_strdup("no findings in this event.");
	return hh_asprintf("%zu finding%s, %zu accepted in %zu job%s: %ld landed%s%s%s.", n,
			   n == 1 ? "" : "s", accepted, a->njobs, a->njobs == 1 ? "" : "s",
			   a->healed, a->commit_sha ? " (last " : "",
			   a->commit_sha ? a->commit_sha : "", a->commit_sha ? ")" : "");
}

/* Outputs and summary for a run that stops before the intake. */
static int finish_early(struct action *a, const char *message, int code)
{
	if (write_outputs(a, message) < 0 || write_summary(a, message) < 0) {
		wf("error", "healhook: %s", hh_error_last());
		return HH_EXIT_USAGE;
	}
	return code;
}

/* What one run reads and builds (the event), released by run(). */
struct run {
	hh_buf body; /* the event file */
	hh_event ev; /* the event, parsed */
	char *type;  /* its X-Gitea-Event-Type; NULL: nothing to do */
	hh_headers hdrs;
};

/* Steps of run() return GO_ON, or the exit code when the run ends there. */
#define GO_ON (-1)

static int read_event(struct action *a, struct run *r)
{
	const char *path = env("GITHUB_EVENT_PATH");

	if (!a->event_name) {
		wf("error", "healhook action: GITHUB_EVENT_NAME is not set (run inside a Gitea "
			    "Actions step)");
		return HH_EXIT_USAGE;
	}
	if (strcmp(a->event_name, "pull_request_review") != 0 &&
	    strcmp(a->event_name, "pull_request_review_comment") != 0 &&
	    strcmp(a->event_name, "issue_comment") != 0) {
		a->result = "nothing";
		wf("notice", "healhook: nothing to do for event '%s'", a->event_name);
		return finish_early(a, "nothing to do for this event.", HH_EXIT_OK);
	}
	if (!path) {
		wf("error", "healhook action: GITHUB_EVENT_PATH is not set");
		return HH_EXIT_USAGE;
	}
	if (hh_buf_read_file(&r->body, path, MAX_EVENT_FILE) < 0 ||
	    event_type(a->event_name, &r->body, &r->type, &r->ev) < 0) {
		wf("error", "healhook action: cannot read the event %s: %s", path, hh_error_last());
		return HH_EXIT_USAGE;
	}
	if (!r->type) {
		a->result = "nothing";
		wf("notice", "healhook: nothing to do (event '%s' without a review or comment)",
		   a->event_name);
		return finish_early(a, "nothing to do for this event.", HH_EXIT_OK);
	}
	return GO_ON;
}

/* The configuration, and the store unless --dry-run. */
static int open_state(struct action *a, const char *config)
{
	if (load(a, config) < 0) {
		wf("error", "healhook action: %s", hh_error_last());
		return HH_EXIT_USAGE;
	}
	if (a->dry)
		return GO_ON;
	if (hh_config_require(a->cfg, "state.dir", a->cfg->state_dir) < 0) {
		wf("error", "healhook action: %s", hh_error_last());
		return HH_EXIT_USAGE;
	}
	if (hh_store_open(&a->st, a->cfg->state_dir) < 0) {
		wf("error", "healhook action: %s", hh_error_last());
		return HH_EXIT_FAIL;
	}
	return GO_ON;
}

/* The event through the same intake as a webhook delivery (signature not checked: the
 * runner gave it), then what intake said about it. */
static int intake(struct action *a, struct run *r)
{
	hh_intake in = {0};
	char delivery[96];
	size_t i;

	hh_headers_add(&r->hdrs, "Content-Type", "application/json");
	hh_headers_add(&r->hdrs, "X-Gitea-Event-Type", r->type);
	if (env("GITHUB_RUN_ID")) {
		snprintf(delivery, sizeof(delivery), "actions-%.32s-%.16s", env("GITHUB_RUN_ID"),
			 env("GITHUB_RUN_ATTEMPT") ? env("GITHUB_RUN_ATTEMPT") : "1");
		hh_headers_add(&r->hdrs, "X-Gitea-Delivery", delivery);
	}
	in.cfg = a->cfg;
	in.store = a->st;
	in.verify = 0;
	in.lookup_inline = 1;
	in.now = (long long)time(NULL);
	hh_intake_process(&in, &r->hdrs, r->body.ptr, r->body.len, &a->res);
	a->have_res = 1;
	if (a->res.status >= 300) {
		wf("error", "healhook: the event was not accepted (%d): %s", a->res.status,
		   a->res.error ? a->res.error : "-");
		a->result = "failed";
		return finish_early(a, "the event could not be processed.", HH_EXIT_FAIL);
	}
	/* Without the line comments the review's findings are incomplete: the step fails
	 * (after healing what the review body gave), rather than look green with nothing. */
	if (a->res.lookup_error && a->dry) /* nothing heals in a dry run: the list is partial */
		wf("warning",
		   "healhook: review line comments not fetched: %s (dry run: the "
		   "findings below are from the review body only)",
		   a->res.lookup_error);
	else if (a->res.lookup_error)
		wf("error", "healhook: review line comments not fetched: %s", a->res.lookup_error);
	if (a->res.duplicate)
		wf("notice", "healhook: this event was handled before (duplicate)");
	else if (a->res.ignored)
		wf("notice", "healhook: event %s is not acted on for %s", r->type,
		   a->res.repo ? a->res.repo : "this repository");
	for (i = 0; i < a->res.findings.n; i++) {
		const hh_finding *f = &a->res.findings.v[i];
		printf("%s %s:%ld [%s] %s%s%s\n", a->dry && f->accepted ? "would fix" : "finding",
		       f->file, f->line, f->type, f->accepted ? "accepted" : "rejected",
		       f->reason ? ": " : "", f->reason ? f->reason : "");
	}
	fflush(stdout);
	return GO_ON;
}

/* Heals the accepted findings (not in a dry run), then reports: workflow notices, the PR
 * comment, the step's outputs and summary. Returns the exit code. */
static int heal_and_report(struct action *a, const struct run *r)
{
	int rc = HH_EXIT_OK;
	char *msg;

	if (!a->dry && a->st) {
		if (hh_worker_drain(a->cfg, a->st, NULL /* reported below, in one PR comment */) <
			    0 ||
		    collect_jobs(a) < 0) {
			wf("error", "healhook: %s", hh_error_last());
			rc = HH_EXIT_FAIL;
		}
		if (judge(a) != HH_EXIT_OK)
			rc = HH_EXIT_FAIL;
	}
	if (a->res.lookup_error && !a->dry)
		rc = HH_EXIT_FAIL;
	if (rc == HH_EXIT_FAIL && strcmp(a->result, "reverted") != 0)
		a->result = "failed";
	msg = summary_sentence(a);
	wf("notice", "healhook: %s", msg);
	if (!a->dry && a->res.findings.n && r->ev.pr_number > 0 && a->cfg->gitea_comment) {
		if (a->cfg->gitea_url && a->cfg->gitea_token)
			post_comment(a, &r->ev, msg);
		else
			wf("warning",
			   "healhook: no PR comment (gitea.url or the token is not set)");
	}
	if (write_outputs(a, msg) < 0 || write_summary(a, msg) < 0) {
		wf("error", "healhook: %s", hh_error_last());
		if (rc == HH_EXIT_OK)
			rc = HH_EXIT_FAIL;
	}
	free(msg);
	return rc;
}

static int run(struct action *a, const char *config)
{
	struct run r = {HH_BUF_INIT, {0}, NULL, {0}};
	int rc;

	a->result = a->dry ? "dry-run" : "nothing";
	if ((rc = read_event(a, &r)) == GO_ON && (rc = open_state(a, config)) == GO_ON &&
	    (rc = intake(a, &r)) == GO_ON)
		rc = heal_and_report(a, &r);
	free(r.type);
	hh_event_release(&r.ev);
	hh_headers_release(&r.hdrs);
	hh_buf_release(&r.body);
	return rc;
}

int cmd_action(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"dry-run", no_argument, NULL, 'n'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *config = NULL;
	struct action a;
	int c, rc;
	size_t i;

	memset(&a, 0, sizeof(a));
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'n': a.dry = 1; break;
		case 'h': fputs(usage, stdout); return HH_EXIT_OK;
		default: fputs(usage, stderr); return HH_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fputs(usage, stderr);
		return HH_EXIT_USAGE;
	}
	a.event_name = env("GITHUB_EVENT_NAME");
	a.repository = env("GITHUB_REPOSITORY");
	rc = run(&a, config);

	for (i = 0; i < a.njobs; i++)
		hh_job_release(&a.jobs[i]);
	free(a.jobs);
	if (a.have_res)
		hh_intake_result_release(&a.res);
	hh_store_close(a.st);
	hh_config_free(a.cfg);
	hh_strv_release(&a.env);
	if (a.made_state) {
		nftw(a.made_state, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
		free(a.made_state);
	}
	return rc;
}
