/*
 * status_api: the status pages' data as JSON.
 *   /api/repos    [repository objects] (as `healhook status --json`)
 *   /api/jobs     [job result objects] (as `healhook history --json`, with "quarantined"),
 *                 ?repo=&state=&page= as on /jobs; X-Total-Count is the number that match
 *   /api/jobs/N   one job's object plus "detail", "pr_url", "findings", "probes",
 *                 "notifications"
 */
#include "internal/status_priv.h"
#include "internal/log.h"
#include "internal/result.h"

#include <stdlib.h>
#include <string.h>

static void jstr(hh_buf *b, const char *key, const char *v, int comma)
{
	hh_buf_printf(b, "%s\"%s\":", comma ? "," : "", key);
	if (!v) {
		hh_buf_puts(b, "null");
		return;
	}
	hh_buf_putc(b, '"');
	hh_buf_put_json_str(b, v);
	hh_buf_putc(b, '"');
}

/* The object of history --json: the result object and "quarantined". */
static void job_object(hh_buf *b, const hh_job *j)
{
	hh_job_result_json(j, NULL, b);
	b->ptr[--b->len] = '\0';
	hh_buf_printf(b, ",\"quarantined\":%s}", j->state == HH_JOB_REVERTED ? "true" : "false");
}

static int api_jobs(hh_status_req *r)
{
	long long ids[HH_STATUS_MAX_PER], total = 0;
	size_t n = 0, i;

	if (hh_store_job_ids(r->st, r->repo, r->state, (r->page - 1) * r->per, ids, (size_t)r->per,
			     &n, &total) < 0)
		return -1;
	hh_buf_putc(&r->body, '[');
	for (i = 0; i < n; i++) {
		hh_job j;
		if (hh_store_job_get(r->st, ids[i], &j) < 0)
			return -1;
		if (i)
			hh_buf_putc(&r->body, ',');
		job_object(&r->body, &j);
		hh_job_release(&j);
	}
	hh_buf_puts(&r->body, "]\n");
	r->total = total;
	return 0;
}

struct list {
	hh_buf *b;
	size_t n;
};

static int finding_json(void *ctx, const hh_finding_rec *f)
{
	struct list *l = ctx;

	hh_buf_puts(l->b, l->n++ ? ",{" : "{");
	jstr(l->b, "file", f->file, 0);
	hh_buf_printf(l->b, ",\"line\":%ld", f->line);
	jstr(l->b, "type", f->type, 1);
	jstr(l->b, "message", f->message, 1);
	jstr(l->b, "source", f->source, 1);
	jstr(l->b, "sender", f->sender, 1);
	jstr(l->b, "delivery", f->delivery_id, 1);
	hh_buf_printf(l->b, ",\"created\":%lld}", f->created);
	return 0;
}

static int probe_json(void *ctx, const hh_probe_rec *p)
{
	struct list *l = ctx;

	hh_buf_puts(l->b, l->n++ ? ",{" : "{");
	jstr(l->b, "sha", p->sha, 0);
	hh_buf_printf(l->b, ",\"at\":%lld,\"status\":%ld", p->at, p->status);
	jstr(l->b, "verdict", p->verdict, 1);
	jstr(l->b, "answer", p->answer, 1);
	return hh_buf_putc(l->b, '}') < 0;
}

static int notice_json(void *ctx, const hh_notification_rec *n)
{
	struct list *l = ctx;

	hh_buf_puts(l->b, l->n++ ? ",{" : "{");
	jstr(l->b, "outcome", n->outcome, 0);
	jstr(l->b, "to", n->target, 1);
	hh_buf_printf(l->b, ",\"ok\":%s,\"attempts\":%d,\"at\":%lld", n->ok ? "true" : "false",
		      n->attempts, n->at);
	jstr(l->b, "error", n->error, 1);
	return hh_buf_putc(l->b, '}') < 0;
}

static int api_job(hh_status_req *r, long long id)
{
	struct list l = {&r->body, 0};
	hh_buf *b = &r->body;
	hh_job j;
	int ret = -1;

	if (hh_store_job_get(r->st, id, &j) < 0) {
		if (strncmp(hh_error_last(), "store: no job", 13) != 0)
			return -1;
		r->status = 404;
		hh_buf_puts(b, "{\"error\":\"no such job\"}\n");
		return 0;
	}
	job_object(b, &j);
	b->ptr[--b->len] = '\0';
	jstr(b, "detail", j.detail, 1);
	jstr(b, "pr_url", j.pr_url, 1);
	hh_buf_printf(b, ",\"pr_number\":%ld", j.pr_number);
	hh_buf_puts(b, ",\"findings\":[");
	if (hh_store_job_findings(r->st, id, finding_json, &l) < 0)
		goto out;
	l.n = 0;
	hh_buf_puts(b, "],\"probes\":[");
	if (hh_store_job_probes(r->st, id, probe_json, &l) < 0)
		goto out;
	l.n = 0;
	hh_buf_puts(b, "],\"notifications\":[");
	if (hh_store_job_notifications(r->st, id, notice_json, &l) < 0)
		goto out;
	hh_buf_puts(b, "]}\n");
	ret = 0;
out:
	hh_job_release(&j);
	return ret;
}

int hh_status_api(hh_status_req *r, const char *path)
{
	char *end;
	long long id;

	r->ctype = "application/json";
	if (strcmp(path, "repos") == 0) {
		hh_repo_status *v = NULL;
		size_t n = 0;

		if (hh_status_repos(r->cfg, r->st, r->now, &v, &n) < 0)
			return -1;
		hh_status_repos_json(v, n, &r->body);
		hh_buf_putc(&r->body, '\n');
		hh_repo_status_free(v, n);
		return 0;
	}
	if (strcmp(path, "jobs") == 0)
		return api_jobs(r);
	if (strncmp(path, "jobs/", 5) == 0 && path[5] >= '1' && path[5] <= '9') {
		id = strtoll(path + 5, &end, 10);
		if (!*end)
			return api_job(r, id);
	}
	r->status = 404;
	return hh_buf_puts(&r->body, "{\"error\":\"no such resource\"}\n") < 0 ? -1 : 0;
}
