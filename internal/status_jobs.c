/*
 * status_jobs: the `/jobs` page, newest first, with filters (repository, state) and pages of
 * HH_STATUS_PAGE jobs. The filters are a plain GET form; the pager keeps them.
 */
#include "internal/status_priv.h"
#include "internal/log.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct opts {
	hh_buf *b;
	const char *sel;
	hh_strv seen;
};

static int repo_option(void *ctx, const char *repo)
{
	struct opts *o = ctx;
	size_t i;

	for (i = 0; i < o->seen.n; i++)
		if (strcasecmp(o->seen.v[i], repo) == 0)
			return 0;
	hh_strv_push(&o->seen, repo);
	hh_buf_puts(o->b, "<option value=\"");
	hh_html_esc(o->b, repo);
	hh_buf_puts(o->b, o->sel && strcmp(o->sel, repo) == 0 ? "\" selected>" : "\">");
	hh_html_esc(o->b, repo);
	return hh_buf_puts(o->b, "</option>");
}

static int filters(hh_status_req *r, hh_buf *b)
{
	struct opts o = {b, r->repo, {NULL, 0}};
	size_t i;
	int s, ret;

	hh_buf_puts(b, "<form class=\"filters\" method=\"get\" action=\"/jobs\">"
		       "<label>Repository <select name=\"repo\"><option value=\"\">all</option>");
	for (i = 0; i < r->cfg->nrepos; i++)
		repo_option(&o, r->cfg->repos[i].name);
	ret = hh_store_repo_names(r->st, repo_option, &o);
	hh_strv_release(&o.seen);
	if (ret < 0)
		return -1;
	hh_buf_puts(b, "</select></label><label>State <select name=\"state\">"
		       "<option value=\"\">all</option>");
	for (s = 0; s < HH_JOB_STATE_COUNT; s++) {
		const char *name = hh_job_state_name((enum hh_job_state)s);
		hh_buf_printf(b, "<option%s>%s</option>",
			      r->state && strcmp(r->state, name) == 0 ? " selected" : "", name);
	}
	return hh_buf_puts(b, "</select></label><button type=\"submit\">Filter</button></form>");
}

/* Total of a job's stage durations in ms (0 when none). */
static double stages_total(const char *json)
{
	hh_svg_bar *st = NULL;
	hh_strv names = {NULL, 0};
	double t = 0;
	size_t n = 0, i;

	if (hh_status_parse_stages(json, &st, &n, &names) == 0)
		for (i = 0; i < n; i++)
			t += st[i].v;
	free(st);
	hh_strv_release(&names);
	return t;
}

static void job_row(hh_buf *b, const hh_job *j)
{
	double t = stages_total(j->stages);

	hh_buf_printf(b, "<tr data-job=\"%lld\"><td><a href=\"/jobs/%lld\">#%lld</a></td><td>",
		      j->id, j->id, j->id);
	hh_html_time(b, j->created);
	hh_buf_puts(b, "</td><td>");
	hh_html_esc(b, j->repo);
	hh_buf_puts(b, "</td><td class=\"mono\">");
	hh_html_esc(b, j->file);
	hh_buf_puts(b, "</td><td>");
	hh_status_badge(b, hh_job_state_name(j->state));
	if (j->reason) {
		hh_buf_puts(b, " <span class=\"muted\">");
		hh_html_esc(b, j->reason);
		hh_buf_puts(b, "</span>");
	}
	hh_buf_printf(b, "</td><td class=\"num\">%ld</td><td class=\"mono\">", j->diff_lines);
	hh_html_escn(b, j->commit_sha ? j->commit_sha : "-", j->commit_sha ? 12 : 1);
	hh_buf_puts(b, "</td><td class=\"num\">");
	if (t > 0)
		hh_html_ms(b, t);
	else
		hh_buf_putc(b, '-');
	hh_buf_puts(b, "</td></tr>");
}

/* A link to page p with the current filters. */
static void page_link(hh_buf *b, const hh_status_req *r, long long p, const char *text)
{
	hh_buf_printf(b, "<a href=\"/jobs?page=%lld", p);
	if (r->per != HH_STATUS_PAGE)
		hh_buf_printf(b, "&amp;per=%lld", r->per);
	if (r->repo) {
		hh_buf_puts(b, "&amp;repo=");
		hh_url_esc(b, r->repo);
	}
	if (r->state) {
		hh_buf_puts(b, "&amp;state=");
		hh_url_esc(b, r->state);
	}
	hh_buf_printf(b, "\">%s</a>", text);
}

int hh_status_page_jobs(hh_status_req *r)
{
	long long ids[HH_STATUS_MAX_PER], total = 0, pages;
	hh_buf *b = &r->body;
	size_t n = 0, i;

	if (hh_store_job_ids(r->st, r->repo, r->state, (r->page - 1) * r->per, ids, (size_t)r->per,
			     &n, &total) < 0)
		return -1;
	pages = total ? (total + r->per - 1) / r->per : 1;
	hh_status_head(b, "Jobs", HH_STATUS_REFRESH);
	hh_buf_puts(b, "<h1>Jobs</h1>");
	if (filters(r, b) < 0)
		return -1;
	hh_buf_printf(b,
		      "<p class=\"muted\"><span id=\"total\">%lld</span> job%s, newest first. "
		      "Page %lld of %lld.</p>",
		      total, total == 1 ? "" : "s", r->page, pages);
	hh_buf_puts(b, "<table id=\"jobs\"><thead><tr><th>Job</th><th>Created (UTC)</th>"
		       "<th>Repository</th><th>File</th><th>State</th><th class=\"num\">Lines</th>"
		       "<th>Commit</th><th class=\"num\">Time</th></tr></thead><tbody>");
	for (i = 0; i < n; i++) {
		hh_job j;
		if (hh_store_job_get(r->st, ids[i], &j) < 0)
			return -1;
		job_row(b, &j);
		hh_job_release(&j);
	}
	if (!n)
		hh_buf_puts(b, "<tr><td colspan=\"8\" class=\"muted\">no job</td></tr>");
	hh_buf_puts(b, "</tbody></table><div class=\"pager\">");
	if (r->page > 1)
		page_link(b, r, r->page - 1, "&larr; newer");
	if (r->page < pages)
		page_link(b, r, r->page + 1, "older &rarr;");
	hh_buf_puts(b, "</div>");
	hh_status_foot(b, r->now, HH_STATUS_REFRESH);
	return 0;
}
