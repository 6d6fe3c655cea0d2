/*
 * status_data: what the `/` page, /api/repos and `healhook status` show about each
 * repository, gathered from the configuration and the store.
 */
#include "internal/status.h"
#include "internal/log.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

void hh_repo_status_free(hh_repo_status *v, size_t n)
{
	size_t i;

	for (i = 0; v && i < n; i++) {
		free(v[i].repo);
		free(v[i].why);
	}
	free(v);
}

struct names {
	hh_strv v;
	const hh_config *cfg;
};

static int add_name(void *ctx, const char *repo)
{
	struct names *nm = ctx;
	size_t i;

	for (i = 0; i < nm->v.n; i++)
		if (strcasecmp(nm->v.v[i], repo) == 0)
			return 0;
	return hh_strv_push(&nm->v, repo) < 0 ? -1 : 0;
}

static int fill(const hh_config *cfg, hh_store *st, long long now, const char *name,
		hh_repo_status *r)
{
	const hh_repo_config *rc = hh_config_repo(cfg, name);

	memset(r, 0, sizeof(*r));
	if (!(r->repo = hh_strdup(name)))
		return hh_error("out of memory");
	r->configured = rc != NULL;
	r->budget = rc ? rc->max_fixes_per_hour : 0;
	r->window = rc ? rc->rate_window : 3600;
	r->frozen = hh_store_repo_frozen_info(st, name, &r->why, &r->frozen_since);
	if (r->frozen < 0)
		return -1;
	r->fixes_used = hh_store_fix_runs_since(st, name, now - r->window);
	if (r->fixes_used < 0)
		return -1;
	return hh_store_repo_activity(st, name, &r->act);
}

int hh_status_repos(const hh_config *cfg, hh_store *st, long long now, hh_repo_status **out,
		    size_t *n)
{
	struct names nm = {{NULL, 0}, cfg};
	hh_repo_status *v = NULL;
	size_t i, k = 0;
	int ret = -1;

	*out = NULL;
	*n = 0;
	for (i = 0; i < cfg->nrepos; i++)
		if (add_name(&nm, cfg->repos[i].name) < 0)
			goto oom;
	if (hh_store_repo_names(st, add_name, &nm) < 0)
		goto out;
	if (nm.v.n && !(v = calloc(nm.v.n, sizeof(*v))))
		goto oom;
	for (k = 0; k < nm.v.n; k++)
		if (fill(cfg, st, now, nm.v.v[k], &v[k]) < 0) {
			k++;
			goto out;
		}
	*out = v;
	*n = k;
	v = NULL;
	ret = 0;
	goto out;
oom:
	hh_error("out of memory");
out:
	hh_repo_status_free(v, k);
	hh_strv_release(&nm.v);
	return ret;
}

static void str(hh_buf *b, const char *key, const char *v)
{
	hh_buf_printf(b, ",\"%s\":", key);
	if (!v || !*v) {
		hh_buf_puts(b, "null");
		return;
	}
	hh_buf_putc(b, '"');
	hh_buf_put_json_str(b, v);
	hh_buf_putc(b, '"');
}

int hh_status_repos_json(const hh_repo_status *v, size_t n, hh_buf *b)
{
	size_t i;

	hh_buf_putc(b, '[');
	for (i = 0; i < n; i++) {
		const hh_repo_status *r = &v[i];

		hh_buf_printf(b, "%s{\"repo\":\"", i ? "," : "");
		hh_buf_put_json_str(b, r->repo);
		hh_buf_printf(b, "\",\"configured\":%s,\"frozen\":%s",
			      r->configured ? "true" : "false", r->frozen ? "true" : "false");
		str(b, "frozen_why", r->why);
		hh_buf_printf(b,
			      ",\"frozen_since\":%lld,\"fixes_used\":%lld,\"fixes_budget\":%ld,"
			      "\"rate_window\":%ld,\"queue\":%lld,\"running_job\":%lld,"
			      "\"last_job\":%lld",
			      r->frozen ? r->frozen_since : 0, r->fixes_used, r->budget, r->window,
			      r->act.queued, r->act.running, r->act.last_job);
		str(b, "last_state", r->act.last_state);
		str(b, "last_reason", r->act.last_reason);
		hh_buf_printf(b, ",\"last_at\":%lld}", r->act.last_at);
	}
	return hh_buf_puts(b, "]");
}
