/*
 * status_job: the `/jobs/N` page. What was found (the findings and the PR), what was done
 * (the stages as a waterfall, the diff of the fix read from the local mirror), what followed
 * (health probes and their answers, the revert and its diff, notifications) and what the
 * fixer said. Everything stored is hostile text and is escaped.
 */
#include "internal/status_priv.h"
#include "internal/gitops.h"
#include "internal/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void fact(hh_buf *b, const char *name, const char *v)
{
	if (!v || !*v)
		return;
	hh_buf_printf(b, "<dt>%s</dt><dd>", name);
	hh_html_esc(b, v);
	hh_buf_puts(b, "</dd>");
}

static void facts(hh_buf *b, const hh_job *j)
{
	char n[32];

	hh_buf_puts(b, "<div class=\"panel\"><dl class=\"facts\">");
	fact(b, "Repository", j->repo);
	fact(b, "Branch", j->branch);
	hh_buf_puts(b, "<dt>File</dt><dd class=\"mono\" id=\"file\">");
	hh_html_esc(b, j->file);
	hh_buf_puts(b, "</dd>");
	fact(b, "Type", j->type);
	if (j->pr_url || j->pr_number) {
		snprintf(n, sizeof(n), "#%ld", j->pr_number);
		hh_buf_puts(b, "<dt>Pull request</dt><dd id=\"pr\">");
		hh_html_link(b, j->pr_url, j->pr_number ? n : j->pr_url);
		hh_buf_puts(b, j->pr_head ? " (fixed on its head branch)</dd>" : "</dd>");
	}
	fact(b, "Sender", j->sender);
	hh_buf_puts(b, "<dt>Created</dt><dd>");
	hh_html_time(b, j->created);
	hh_buf_puts(b, " UTC</dd><dt>Updated</dt><dd>");
	hh_html_time(b, j->updated);
	hh_buf_printf(b, " UTC</dd><dt>Attempts</dt><dd>%d</dd>", j->attempts);
	fact(b, "Base", j->base_sha);
	fact(b, "Commit", j->commit_sha);
	fact(b, "Revert", j->revert_sha);
	if (j->diff_lines)
		hh_buf_printf(b, "<dt>Lines changed</dt><dd>%ld</dd>", j->diff_lines);
	fact(b, "Reason", j->reason);
	fact(b, "Detail", j->detail);
	hh_buf_puts(b, "</dl></div>");
}

struct rows {
	hh_buf *b;
	const hh_job *job;
	size_t n;
};

static int finding_row(void *ctx, const hh_finding_rec *f)
{
	struct rows *r = ctx;
	hh_buf *b = r->b;

	r->n++;
	hh_buf_puts(b, "<tr><td class=\"mono\">");
	hh_html_esc(b, f->file);
	if (f->line > 0)
		hh_buf_printf(b, ":%ld", f->line);
	hh_buf_puts(b, "</td><td>");
	hh_html_esc(b, f->type);
	hh_buf_puts(b, "</td><td class=\"message\">");
	hh_html_esc(b, f->message);
	hh_buf_puts(b, "</td><td>");
	hh_html_esc(b, f->source);
	hh_buf_puts(b, "</td><td>");
	hh_html_esc(b, f->sender);
	hh_buf_puts(b, "</td><td>");
	hh_html_link(b, r->job->pr_url, r->job->pr_url ? "review" : "-");
	return hh_buf_puts(b, "</td></tr>") < 0;
}

static int findings(hh_status_req *r, const hh_job *j)
{
	struct rows rows = {&r->body, j, 0};
	hh_buf *b = &r->body;

	hh_buf_puts(b, "<h2>Findings</h2><table id=\"findings\"><thead><tr><th>Where</th>"
		       "<th>Type</th><th>Message</th><th>Source</th><th>Reviewer</th><th>PR</th>"
		       "</tr></thead><tbody>");
	if (hh_store_job_findings(r->st, j->id, finding_row, &rows) < 0)
		return -1;
	if (!rows.n) { /* a job of `healhook heal`: its own finding */
		hh_finding_rec f = {0};
		f.file = j->file;
		f.type = j->type;
		f.message = j->message;
		f.source = "healhook heal";
		f.sender = j->sender;
		finding_row(&rows, &f);
	}
	hh_buf_puts(b, "</tbody></table>");
	return 0;
}

static void stages(hh_buf *b, const hh_job *j)
{
	hh_svg_bar *st = NULL;
	hh_strv names = {NULL, 0};
	size_t n = 0;

	hh_buf_puts(b, "<h2>Stages</h2><div class=\"panel\" id=\"stages\">");
	if (hh_status_parse_stages(j->stages, &st, &n, &names) == 0 && n)
		hh_svg_waterfall(b, "Stages of the heal, in order", st, n);
	else
		hh_buf_puts(b, "<p class=\"muted\">no stage recorded</p>");
	hh_buf_puts(b, "</div>");
	free(st);
	hh_strv_release(&names);
}

/* The patch of sha from the repository's mirror, coloured line by line. */
static void diff(hh_status_req *r, const hh_job *j, const char *sha, const char *id)
{
	const hh_repo_config *rc = hh_config_repo(r->cfg, j->repo);
	hh_buf *b = &r->body, patch = HH_BUF_INIT;
	char *dir = NULL;
	const char *p, *e;

	if (!sha) {
		hh_buf_puts(b, "<p class=\"muted\">no commit was made</p>");
		return;
	}
	/* the mirror's path comes from the configured name, never from the stored one */
	if (!rc || !(dir = hh_asprintf("%s/mirrors/%s.git", r->cfg->state_dir, rc->name)) ||
	    hh_mirror_show_commit(dir, sha, HH_STATUS_DIFF_MAX, &patch) < 0) {
		hh_buf_puts(b, "<p class=\"muted\">the diff is not available: ");
		hh_html_esc(b, rc ? hh_error_last() : "the repository is not configured");
		hh_buf_puts(b, "</p>");
		goto out;
	}
	hh_buf_printf(b, "<pre class=\"diff\" id=\"%s\">", id);
	for (p = patch.ptr ? patch.ptr : ""; *p; p = *e ? e + 1 : e) {
		const char *cls = "";
		e = strchr(p, '\n');
		if (!e)
			e = p + strlen(p);
		if (strncmp(p, "+++", 3) == 0 || strncmp(p, "---", 3) == 0 ||
		    strncmp(p, "diff ", 5) == 0 || strncmp(p, "index ", 6) == 0)
			cls = "meta";
		else if (*p == '+')
			cls = "add";
		else if (*p == '-')
			cls = "del";
		else if (strncmp(p, "@@", 2) == 0)
			cls = "hunk";
		hh_buf_printf(b, "<span class=\"%s\">", cls);
		hh_html_escn(b, p, (size_t)(e - p));
		hh_buf_puts(b, "</span>");
	}
	hh_buf_puts(b, "</pre>");
out:
	free(dir);
	hh_buf_release(&patch);
}

static int probe_row(void *ctx, const hh_probe_rec *p)
{
	struct rows *r = ctx;
	hh_buf *b = r->b;

	r->n++;
	hh_buf_puts(b, "<tr><td>");
	hh_html_time(b, p->at);
	hh_buf_puts(b, "</td><td class=\"mono\">");
	hh_html_escn(b, p->sha ? p->sha : "-", p->sha ? 12 : 1);
	if (p->status)
		hh_buf_printf(b, "</td><td class=\"num\">%ld</td><td>", p->status);
	else
		hh_buf_puts(b, "</td><td class=\"num\">-</td><td>");
	/* the verdict is one of healhook's four words: a badge coloured like a job state */
	hh_buf_printf(b, "<span class=\"badge st-%s\">",
		      strcmp(p->verdict, "ok") == 0    ? "healed"
		      : strcmp(p->verdict, "old") == 0 ? "waiting"
						       : "failed");
	hh_html_esc(b, p->verdict);
	hh_buf_puts(b, "</span></td><td class=\"mono\">");
	hh_html_esc(b, p->answer);
	return hh_buf_puts(b, "</td></tr>") < 0;
}

static int notice_row(void *ctx, const hh_notification_rec *n)
{
	struct rows *r = ctx;
	hh_buf *b = r->b;

	r->n++;
	hh_buf_puts(b, "<tr><td>");
	hh_html_time(b, n->at);
	hh_buf_puts(b, "</td><td>");
	hh_html_esc(b, n->outcome);
	hh_buf_puts(b, "</td><td>");
	hh_html_esc(b, n->target);
	hh_buf_printf(b, "</td><td>%s</td><td class=\"num\">%d</td><td>",
		      n->ok ? "sent" : "given up", n->attempts);
	hh_html_esc(b, n->error);
	return hh_buf_puts(b, "</td></tr>") < 0;
}

static int after(hh_status_req *r, const hh_job *j)
{
	struct rows rows = {&r->body, j, 0};
	hh_buf *b = &r->body;

	hh_buf_puts(b, "<h2>Health probes</h2><table id=\"probes\"><thead><tr><th>At (UTC)</th>"
		       "<th>Commit</th><th class=\"num\">HTTP</th><th>Verdict</th><th>Answer</th>"
		       "</tr></thead><tbody>");
	if (hh_store_job_probes(r->st, j->id, probe_row, &rows) < 0)
		return -1;
	if (!rows.n)
		hh_buf_puts(b, "<tr><td colspan=\"5\" class=\"muted\">no health probe</td></tr>");
	hh_buf_puts(b, "</tbody></table>");
	if (j->revert_sha) {
		hh_buf_puts(b, "<h2>Revert</h2><div class=\"panel\"><p id=\"revert\">Reverted by "
			       "<code>");
		hh_html_esc(b, j->revert_sha);
		hh_buf_puts(b, "</code>");
		if (j->detail) {
			hh_buf_puts(b, ": ");
			hh_html_esc(b, j->detail);
		}
		hh_buf_puts(b, j->state == HH_JOB_REVERTED ? ". The finding is quarantined (never "
							     "retried automatically).</p>"
							   : ".</p>");
		diff(r, j, j->revert_sha, "revert-diff");
		hh_buf_puts(b, "</div>");
	}
	rows.n = 0;
	hh_buf_puts(b, "<h2>Notifications</h2><table id=\"notifications\"><thead><tr>"
		       "<th>At (UTC)</th><th>Outcome</th><th>To</th><th>Result</th>"
		       "<th class=\"num\">Attempts</th><th>Error</th></tr></thead><tbody>");
	if (hh_store_job_notifications(r->st, j->id, notice_row, &rows) < 0)
		return -1;
	if (!rows.n)
		hh_buf_puts(b, "<tr><td colspan=\"6\" class=\"muted\">no notification sent (none "
			       "configured, or not yet)</td></tr>");
	hh_buf_puts(b, "</tbody></table>");
	return 0;
}

int hh_status_page_job(hh_status_req *r, long long id)
{
	hh_buf *b = &r->body;
	hh_job j;
	char title[32];
	int refresh;

	if (hh_store_job_get(r->st, id, &j) < 0) {
		if (strncmp(hh_error_last(), "store: no job", 13) == 0)
			return hh_status_error_page(r, 404, "no such job");
		return -1;
	}
	snprintf(title, sizeof(title), "Job #%lld", id);
	refresh = hh_job_state_final(j.state) ? 0 : HH_STATUS_REFRESH;
	hh_status_head(b, title, refresh);
	hh_buf_printf(b, "<h1>%s ", title);
	hh_status_badge(b, hh_job_state_name(j.state));
	hh_buf_puts(b, "</h1>");
	facts(b, &j);
	if (findings(r, &j) < 0)
		goto fail;
	stages(b, &j);
	hh_buf_puts(b, "<h2>Diff of the fix</h2>");
	diff(r, &j, j.commit_sha, "diff");
	if (after(r, &j) < 0)
		goto fail;
	hh_buf_puts(b, "<h2>Fixer output</h2>");
	if (j.output_tail && *j.output_tail) {
		hh_buf_puts(b, "<pre id=\"output\">");
		hh_html_esc(b, j.output_tail);
		hh_buf_puts(b, "</pre>");
	} else {
		hh_buf_puts(b, "<p class=\"muted\">none</p>");
	}
	hh_status_foot(b, r->now, refresh);
	hh_job_release(&j);
	return 0;
fail:
	hh_job_release(&j);
	return -1;
}
