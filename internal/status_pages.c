/*
 * status_pages: the page frame, the stylesheet, and the `/` and `/jobs` pages. Every value
 * from the store goes through hh_html_esc (or hh_url_esc inside a link's query).
 */
#include "internal/status_priv.h"
#include "internal/log.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char hh_status_css[] =
	":root{--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--bg:#f6f8fa;--card:#fff;"
	"--ok:#1a7f37;--warn:#bc4c00;--bad:#cf222e;--info:#0969da;--idle:#8c959f}\n"
	"*{box-sizing:border-box}\n"
	"body{margin:0;font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;"
	"color:var(--fg);background:var(--bg)}\n"
	"header{display:flex;align-items:center;gap:24px;padding:10px 24px;background:#24292f;"
	"color:#fff}\n"
	"header a{color:#fff;text-decoration:none}\n"
	"header .brand{font-weight:700;font-size:16px}\n"
	"header nav{display:flex;gap:16px}\n"
	"header nav a{opacity:.85}header nav a:hover{opacity:1;text-decoration:underline}\n"
	"main{max-width:1180px;margin:0 auto;padding:20px 24px 40px}\n"
	"h1{font-size:22px;margin:4px 0 16px}h2{font-size:16px;margin:28px 0 10px}\n"
	"a{color:var(--info)}\n"
	".muted,footer{color:var(--muted)}\n"
	"footer{max-width:1180px;margin:0 auto;padding:0 24px 24px;font-size:12px}\n"
	".cards{display:flex;gap:12px;flex-wrap:wrap;margin-bottom:16px}\n"
	".card{background:var(--card);border:1px solid var(--line);border-radius:8px;"
	"padding:10px 16px;min-width:120px}\n"
	".card b{display:block;font-size:22px}\n"
	"table{width:100%;border-collapse:collapse;background:var(--card);"
	"border:1px solid var(--line);border-radius:8px;overflow:hidden}\n"
	"th,td{text-align:left;padding:7px 10px;border-bottom:1px solid var(--line);"
	"vertical-align:top}\n"
	"th{background:#eef1f4;font-weight:600;font-size:13px}\n"
	"tr:last-child td{border-bottom:0}\n"
	"td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}\n"
	"code,pre,.mono{font:12.5px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}\n"
	".badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;"
	"font-weight:600;color:#fff;background:var(--idle)}\n"
	".st-healed,.st-pushed{background:var(--ok)}\n"
	".st-reverted,.st-revert-failed,.st-frozen{background:var(--warn)}\n"
	".st-failed,.st-expired{background:var(--bad)}\n"
	".st-fixing,.st-committed,.st-watching,.st-reverting{background:var(--info)}\n"
	".st-revert-failed,.st-frozen{background:#a40e26}\n"
	".why{display:block;font-size:12.5px;color:var(--muted);margin-top:3px}\n"
	".charts{display:flex;gap:16px;flex-wrap:wrap;margin-top:16px}\n"
	".charts .panel{flex:1 1 520px;min-width:0}\n"
	"td.repo{white-space:nowrap}\n"
	".panel{background:var(--card);border:1px solid var(--line);border-radius:8px;"
	"padding:12px 14px;margin-bottom:12px}\n"
	".panel h2{margin:0 0 8px}\n"
	"svg.chart{max-width:100%;height:auto;display:block}\n"
	"svg .label{font-size:12px;text-anchor:end;fill:var(--fg)}\n"
	"svg .value,svg .legend{font-size:12px;fill:var(--muted)}\n"
	"svg .tick{font-size:11px;text-anchor:end;fill:var(--muted)}\n"
	"svg .day{font-size:10px;text-anchor:middle;fill:var(--muted)}\n"
	"svg .axis{stroke:var(--line)}\n"
	"svg .bar{fill:#8250df}svg .stage{fill:var(--info)}svg .meter-bg{fill:#eef1f4}\n"
	"svg .healed,svg .meter{fill:var(--ok)}svg .reverted{fill:var(--warn)}\n"
	"svg .failed,svg .meter-full{fill:var(--bad)}svg .rejected{fill:var(--idle)}\n"
	"form.filters{display:flex;gap:10px;align-items:center;margin-bottom:12px}\n"
	"select,button{font:inherit;padding:4px 8px;border:1px solid var(--line);"
	"border-radius:6px;background:#fff}\n"
	".pager{display:flex;gap:16px;margin-top:10px}\n"
	"dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;margin:0}\n"
	"dl.facts dt{color:var(--muted)}dl.facts dd{margin:0;word-break:break-all}\n"
	"pre{margin:0;padding:10px;background:#fff;border:1px solid var(--line);"
	"border-radius:6px;overflow:auto;max-height:520px}\n"
	"pre.diff span{display:block}\n"
	"pre.diff .add{background:#dafbe1}pre.diff .del{background:#ffebe9}\n"
	"pre.diff .hunk{color:#8250df}pre.diff .meta{color:var(--muted);font-weight:600}\n";

void hh_status_head(hh_buf *b, const char *title, int refresh)
{
	hh_buf_puts(b, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		       "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">");
	if (refresh > 0)
		hh_buf_printf(b, "<meta http-equiv=\"refresh\" content=\"%d\">", refresh);
	hh_buf_puts(b, "<title>");
	hh_html_esc(b, title);
	hh_buf_puts(b, " · healhook</title><link rel=\"icon\" href=\"data:,\">"
		       "<link rel=\"stylesheet\" href=\"/static/status.css\"></head><body>"
		       "<header><a class=\"brand\" href=\"/\">healhook</a><nav>"
		       "<a href=\"/\">Repositories</a><a href=\"/jobs\">Jobs</a>"
		       "<a href=\"/api/repos\">JSON</a></nav></header><main>");
}

void hh_status_foot(hh_buf *b, long long now, int refresh)
{
	hh_buf_puts(b, "</main><footer>As of ");
	hh_html_time(b, now);
	if (refresh > 0)
		hh_buf_printf(b, " UTC; this page refreshes every %d s.", refresh);
	else
		hh_buf_puts(b, " UTC.");
	hh_buf_puts(b, "</footer></body></html>\n");
}

void hh_status_badge(hh_buf *b, const char *state)
{
	const char *s = state && *state ? state : "none";
	size_t i;

	hh_buf_puts(b, "<span class=\"badge st-");
	for (i = 0; s[i]; i++) /* a class name: letters and dashes only */
		hh_buf_putc(b, (s[i] >= 'a' && s[i] <= 'z') || s[i] == '-' ? s[i] : '-');
	hh_buf_puts(b, "\">");
	hh_html_esc(b, s);
	hh_buf_puts(b, "</span>");
}

int hh_status_error_page(hh_status_req *r, int status, const char *msg)
{
	r->status = status;
	hh_buf_clear(&r->body);
	hh_status_head(&r->body, msg, 0);
	hh_buf_puts(&r->body, "<h1>");
	hh_html_esc(&r->body, msg);
	hh_buf_puts(&r->body, "</h1><p><a href=\"/\">Repositories</a></p>");
	hh_status_foot(&r->body, r->now, 0);
	return 0;
}

/* ---- `/` ---- */

static void meter(hh_buf *b, long long used, long budget)
{
	double w = budget > 0 ? (double)(used > budget ? budget : used) / (double)budget * 80 : 0;

	hh_buf_printf(b,
		      "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"80\" "
		      "height=\"8\" viewBox=\"0 0 80 8\" aria-hidden=\"true\">"
		      "<rect class=\"meter-bg\" width=\"80\" height=\"8\" rx=\"4\"/>"
		      "<rect class=\"%s\" width=\"%.1f\" height=\"8\" rx=\"4\"/></svg>",
		      budget > 0 && used >= budget ? "meter-full" : "meter", w);
}

static void repo_row(hh_buf *b, const hh_repo_status *s)
{
	hh_buf_puts(b, "<tr data-repo=\"");
	hh_html_esc(b, s->repo);
	hh_buf_puts(b, "\"><td class=\"repo\"><a href=\"/jobs?repo=");
	hh_url_esc(b, s->repo);
	hh_buf_puts(b, "\">");
	hh_html_esc(b, s->repo);
	hh_buf_puts(b, "</a></td><td class=\"status\">");
	if (s->frozen) {
		hh_status_badge(b, "frozen");
		hh_buf_puts(b, "<span class=\"why\">");
		hh_html_esc(b, s->why ? s->why : "frozen");
		hh_buf_puts(b, " (since ");
		hh_html_time(b, s->frozen_since);
		hh_buf_puts(b, " UTC; <code>healhook unfreeze ");
		hh_html_esc(b, s->repo);
		hh_buf_puts(b, "</code>)</span>");
	} else if (s->act.running) {
		hh_buf_printf(b,
			      "<span class=\"badge st-fixing\">healing</span> "
			      "<a href=\"/jobs/%lld\">#%lld</a>",
			      s->act.running, s->act.running);
	} else {
		hh_buf_puts(b, s->configured ? "<span class=\"badge\">idle</span>"
					     : "<span class=\"badge\">not configured</span>");
	}
	hh_buf_printf(b,
		      "</td><td class=\"fixes\"><span class=\"used\">%lld</span> / "
		      "<span class=\"budget\">%ld</span> ",
		      s->fixes_used, s->budget);
	meter(b, s->fixes_used, s->budget);
	if (s->window % 3600 == 0)
		hh_buf_printf(b, "<span class=\"why\">in the last %ld h</span>", s->window / 3600);
	else
		hh_buf_printf(b, "<span class=\"why\">in the last %ld s</span>", s->window);
	hh_buf_puts(b, "</td><td class=\"last\">");
	if (s->act.last_job) {
		hh_status_badge(b, s->act.last_state);
		hh_buf_printf(b, " <a href=\"/jobs/%lld\">#%lld</a>", s->act.last_job,
			      s->act.last_job);
		if (s->act.last_reason[0]) {
			hh_buf_puts(b, " <span class=\"muted\">");
			hh_html_esc(b, s->act.last_reason);
			hh_buf_puts(b, "</span>");
		}
		hh_buf_puts(b, "<span class=\"why\">");
		hh_html_time(b, s->act.last_at);
		hh_buf_puts(b, " UTC</span>");
	} else {
		hh_buf_puts(b, "<span class=\"muted\">no outcome yet</span>");
	}
	hh_buf_printf(b, "</td><td class=\"num queue\">%lld</td></tr>", s->act.queued);
}

struct day_counts {
	long long first;
	double v[4][14]; /* healed, reverted, failed, rejected */
};

static int on_day(void *ctx, long long day, const char *name, long long n)
{
	struct day_counts *d = ctx;
	long long i = day - d->first;
	int k;

	if (i < 0 || i >= 14)
		return 0;
	if (strcmp(name, "healed") == 0)
		k = 0;
	else if (strcmp(name, "reverted") == 0 || strcmp(name, "revert-failed") == 0)
		k = 1;
	else if (strcmp(name, "rejected") == 0)
		k = 3;
	else
		k = 2; /* failed, expired */
	d->v[k][i] += (double)n;
	return 0;
}

static int outcome_chart(hh_status_req *r, hh_buf *b)
{
	struct day_counts d;
	char labels[14][8];
	const char *xl[14];
	hh_svg_series s[4] = {{"healed", "healed", NULL},
			      {"reverted", "reverted", NULL},
			      {"failed", "failed", NULL},
			      {"rejected", "rejected", NULL}};
	int i;

	memset(&d, 0, sizeof(d));
	d.first = r->now / 86400 - 13;
	if (hh_store_outcomes_per_day(r->st, d.first * 86400, on_day, &d) < 0)
		return -1;
	for (i = 0; i < 14; i++) {
		time_t t = (time_t)((d.first + i) * 86400);
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(labels[i], sizeof(labels[i]), "%m-%d", &tm);
		xl[i] = labels[i];
	}
	for (i = 0; i < 4; i++)
		s[i].v = d.v[i];
	return hh_svg_stacked(b, "Outcomes per day, last 14 days (UTC)", xl, 14, s, 4);
}

static void count_state(void *ctx, enum hh_job_state s, long long n)
{
	long long *c = ctx;
	c[s] = n;
}

int hh_status_page_repos(hh_status_req *r)
{
	hh_repo_status *v = NULL;
	long long c[HH_JOB_STATE_COUNT] = {0};
	hh_buf *b = &r->body;
	size_t n = 0, i;
	int ret = -1;

	if (hh_status_repos(r->cfg, r->st, r->now, &v, &n) < 0 ||
	    hh_store_job_counts(r->st, count_state, c) < 0)
		goto out;
	hh_status_head(b, "Repositories", HH_STATUS_REFRESH);
	hh_buf_puts(b, "<h1>Repositories</h1><div class=\"cards\">");
	hh_buf_printf(
		b,
		"<div class=\"card\"><b id=\"n-healed\">%lld</b>healed</div>"
		"<div class=\"card\"><b id=\"n-reverted\">%lld</b>reverted</div>"
		"<div class=\"card\"><b id=\"n-failed\">%lld</b>failed</div>"
		"<div class=\"card\"><b id=\"n-queued\">%lld</b>queued or waiting</div></div>",
		c[HH_JOB_HEALED], c[HH_JOB_REVERTED] + c[HH_JOB_REVERT_FAILED],
		c[HH_JOB_FAILED] + c[HH_JOB_EXPIRED], c[HH_JOB_QUEUED] + c[HH_JOB_WAITING]);
	hh_buf_puts(b, "<table id=\"repos\"><thead><tr><th>Repository</th><th>Status</th>"
		       "<th>Fixes used / budget</th><th>Last outcome</th><th class=\"num\">Queue"
		       "</th></tr></thead><tbody>");
	for (i = 0; i < n; i++)
		repo_row(b, &v[i]);
	if (!n)
		hh_buf_puts(b, "<tr><td colspan=\"5\" class=\"muted\">no repository configured"
			       "</td></tr>");
	hh_buf_puts(b, "</tbody></table><div class=\"charts\"><div class=\"panel\">"
		       "<h2>Outcomes per day</h2>");
	if (outcome_chart(r, b) < 0)
		goto out;
	hh_buf_puts(b, "</div><div class=\"panel\"><h2>Heal time per stage</h2>");
	if (hh_status_stage_chart(r, b) < 0)
		goto out;
	hh_buf_puts(b, "</div></div>");
	hh_status_foot(b, r->now, HH_STATUS_REFRESH);
	ret = 0;
out:
	hh_repo_status_free(v, n);
	return ret;
}

/* ---- stages ---- */

int hh_status_parse_stages(const char *json, hh_svg_bar **bars, size_t *n, hh_strv *names)
{
	cJSON *root = json ? cJSON_Parse(json) : NULL, *it;
	size_t k = 0, cap;

	*bars = NULL;
	*n = 0;
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return 0;
	}
	cap = (size_t)cJSON_GetArraySize(root);
	if (cap && !(*bars = calloc(cap, sizeof(**bars)))) {
		cJSON_Delete(root);
		return hh_error("out of memory");
	}
	cJSON_ArrayForEach(it, root)
	{
		if (!cJSON_IsNumber(it) || !it->string || hh_strv_push(names, it->string) < 0)
			continue;
		(*bars)[k].v = it->valuedouble;
		k++;
	}
	/* labels point into names, filled after the pushes (push may move the array) */
	for (cap = 0; cap < k; cap++)
		(*bars)[cap].label = names->v[names->n - k + cap];
	*n = k;
	cJSON_Delete(root);
	return 0;
}

int hh_status_stage_chart(hh_status_req *r, hh_buf *b)
{
	long long ids[100], total;
	double sum[32] = {0};
	int count[32] = {0};
	hh_strv order = {NULL, 0};
	hh_svg_bar bars[32];
	size_t n, i, k, nb = 0, jobs = 0;
	int ret = -1;

	if (hh_store_job_ids(r->st, NULL, NULL, 0, ids, 100, &n, &total) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		hh_job j;
		hh_svg_bar *st = NULL;
		hh_strv names = {NULL, 0};
		size_t ns = 0;

		if (hh_store_job_get(r->st, ids[i], &j) < 0)
			goto out;
		if ((j.state == HH_JOB_HEALED || j.state == HH_JOB_PUSHED ||
		     j.state == HH_JOB_REVERTED) &&
		    hh_status_parse_stages(j.stages, &st, &ns, &names) == 0 && ns) {
			jobs++;
			for (k = 0; k < ns; k++) {
				size_t at;
				for (at = 0; at < order.n && strcmp(order.v[at], st[k].label); at++)
					;
				if (at == order.n &&
				    (at >= 32 || hh_strv_push(&order, st[k].label) < 0))
					continue;
				sum[at] += st[k].v;
				count[at]++;
			}
		}
		free(st);
		hh_strv_release(&names);
		hh_job_release(&j);
	}
	for (k = 0; k < order.n; k++, nb++) {
		bars[nb].label = order.v[k];
		bars[nb].v = count[k] ? sum[k] / count[k] : 0;
	}
	hh_buf_printf(b, "<p class=\"muted\">Average of the %zu newest jobs that landed.</p>",
		      jobs);
	if (nb)
		hh_svg_hbars(b, "Average time per stage", bars, nb);
	else
		hh_buf_puts(b, "<p class=\"muted\">no landed job yet</p>");
	ret = 0;
out:
	hh_strv_release(&order);
	return ret;
}
