/*
 * gitea: REST calls over http.c, JSON with cJSON. See gitea.h.
 */
#include "internal/gitea.h"
#include "internal/buf.h"
#include "internal/http.h"
#include "internal/log.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define STATUS_PAGE 50 /* Gitea's default [api] MAX_RESPONSE_ITEMS */
#define STATUS_PAGES 100
#define NAME_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_."

const char *hh_gitea_review_state(const char *event_type)
{
	if (!event_type)
		return NULL;
	if (strcmp(event_type, "pull_request_review_rejected") == 0)
		return "REQUEST_CHANGES";
	if (strcmp(event_type, "pull_request_review_approved") == 0)
		return "APPROVED";
	if (strcmp(event_type, "pull_request_review_comment") == 0)
		return "COMMENT";
	return NULL;
}

static const char *jstr(const cJSON *o, const char *key);

/*
 * Performs one API call; on 2xx *json is the parsed answer (caller frees). Returns 0,
 * HH_EAGAIN when a retry may help (no answer, 429 or 5xx), -1 otherwise; the error names the
 * call and
 * carries Gitea's "message" when the answer has one.
 */
static int api(const hh_gitea *g, const char *method, const char *path, const char *body,
	       cJSON **json)
{
	hh_http_req req = {0};
	hh_http_resp resp = {0};
	char *url = NULL, *auth = NULL;
	const char *hdrs[4];
	size_t ulen;
	int n = 0, ret = -1;

	if (!g->url || !*g->url)
		return hh_error("gitea.url is not set");
	ulen = strlen(g->url);
	while (ulen && g->url[ulen - 1] == '/')
		ulen--;
	url = hh_asprintf("%.*s/api/v1%s", (int)ulen, g->url, path);
	hdrs[n++] = "Accept: application/json";
	if (g->token && *g->token) {
		auth = hh_asprintf("Authorization: token %s", g->token);
		hdrs[n++] = auth;
	}
	if (body)
		hdrs[n++] = "Content-Type: application/json";
	hdrs[n] = NULL;
	req.method = method;
	req.url = url;
	req.headers = hdrs;
	req.body = body;
	req.body_len = body ? strlen(body) : 0;
	req.timeout_ms = (g->timeout_s > 0 ? g->timeout_s : 10) * 1000;
	req.connect_timeout_ms = req.timeout_ms < 5000 ? req.timeout_ms : 5000;
	if (hh_http_do(&req, &resp) < 0) {
		char why[512];

		snprintf(why, sizeof(why), "%s", hh_error_last());
		ret = hh_fail(HH_EAGAIN, "%s", why);
		goto out;
	}
	if (resp.status < 200 || resp.status >= 300) {
		cJSON *e = cJSON_ParseWithLength(resp.body.ptr, resp.body.len);
		const char *msg = e ? jstr(e, "message") : NULL;
		ret = hh_fail(resp.status == 429 || resp.status >= 500 ? HH_EAGAIN : HH_ERR,
			      "gitea: %s %s answered %ld%s%.200s", method, path, resp.status,
			      msg ? ": " : "", msg ? msg : "");
		cJSON_Delete(e);
		goto out;
	}
	if (json) {
		*json = cJSON_ParseWithLength(resp.body.ptr, resp.body.len);
		if (!*json) {
			hh_error("gitea: %s %s: answer is not JSON", method, path);
			goto out;
		}
	}
	ret = 0;
out:
	if (auth) {
		explicit_bzero(auth, strlen(auth));
		free(auth);
	}
	free(url);
	hh_http_resp_release(&resp);
	return ret;
}

static const char *jstr(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double jnum(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

struct line_comment {
	const char *path;
	long line;
	double id;
	const char *body;
};

static int cmp_comment(const void *a, const void *b)
{
	const struct line_comment *x = a, *y = b;
	int c = strcmp(x->path, y->path);

	if (c)
		return c;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

int hh_gitea_review_findings(const hh_gitea *g, const char *repo, long pr, const char *reviewer,
			     const char *state, hh_findings *out)
{
	cJSON *reviews = NULL, *comments = NULL, *r;
	struct line_comment *lc = NULL;
	double best = -1;
	char *path = NULL;
	int added = 0, ret = -1, n = 0, i;

	path = hh_asprintf("/repos/%s/pulls/%ld/reviews", repo, pr);
	if (api(g, "GET", path, NULL, &reviews) < 0)
		goto out;
	cJSON_ArrayForEach(r, reviews)
	{
		const cJSON *user = cJSON_GetObjectItemCaseSensitive(r, "user");
		const char *login = user ? jstr(user, "login") : NULL;
		const char *st = jstr(r, "state");
		double id = jnum(r, "id");
		if (login && st && strcasecmp(login, reviewer) == 0 && strcmp(st, state) == 0 &&
		    id > best)
			best = id;
	}
	if (best < 0) {
		ret = 0;
		goto out;
	}
	free(path);
	path = hh_asprintf("/repos/%s/pulls/%ld/reviews/%.0f/comments", repo, pr, best);
	if (api(g, "GET", path, NULL, &comments) < 0)
		goto out;
	lc = calloc((size_t)cJSON_GetArraySize(comments) + 1, sizeof(*lc));
	if (!lc) {
		hh_error("out of memory");
		goto out;
	}
	cJSON_ArrayForEach(r, comments)
	{
		const char *p = jstr(r, "path"), *body = jstr(r, "body");
		long pos = (long)jnum(r, "position"), orig = (long)jnum(r, "original_position");
		if (!p || !body || !*p)
			continue;
		lc[n++] = (struct line_comment){p, pos ? pos : orig, jnum(r, "id"), body};
	}
	qsort(lc, (size_t)n, sizeof(*lc), cmp_comment);
	for (i = 0; i < n; i++) {
		size_t before = out->n;
		if (hh_findings_from_line_comment(out, lc[i].path, lc[i].line, lc[i].body) < 0)
			goto out;
		added += (int)(out->n - before);
	}
	ret = added;
out:
	free(lc);
	free(path);
	cJSON_Delete(reviews);
	cJSON_Delete(comments);
	return ret;
}

/*
 * 1 when repo is "owner/name", both made of Gitea's name characters and neither "." nor "..",
 * so that it can go into a path as is.
 */
static int repo_ok(const char *repo)
{
	const char *slash = repo ? strchr(repo, '/') : NULL;
	size_t a, b;

	if (!slash || strchr(slash + 1, '/'))
		return 0;
	a = (size_t)(slash - repo);
	b = strlen(slash + 1);
	if (a == 0 || b == 0 || strspn(repo, NAME_CHARS) != a || strspn(slash + 1, NAME_CHARS) != b)
		return 0;
	if ((a <= 2 && strspn(repo, ".") == a) || (b <= 2 && strspn(slash + 1, ".") == b))
		return 0;
	return 1;
}

int hh_gitea_comment(const hh_gitea *g, const char *repo, long n, const char *body)
{
	hh_buf b = HH_BUF_INIT;
	char *path;
	int rc;

	if (!repo_ok(repo))
		return hh_error("gitea: bad repository name '%s'", repo ? repo : "");
	if (n <= 0)
		return hh_error("gitea: bad issue number %ld for '%s'", n, repo);
	if (!body || !*body)
		return hh_error("gitea: empty comment for '%s#%ld'", repo, n);
	path = hh_asprintf("/repos/%s/issues/%ld/comments", repo, n);

	hh_buf_puts(&b, "{\"body\":\"");
	hh_buf_put_json_str(&b, body);
	hh_buf_puts(&b, "\"}");
	rc = api(g, "POST", path, b.ptr, NULL);
	hh_buf_release(&b);
	free(path);
	return rc;
}

int hh_gitea_status(const hh_gitea *g, const char *repo, const char *sha, const char *state,
		    const char *description, const char *target_url)
{
	static const char *const states[] = {"pending", "success", "error", "failure", "warning"};
	hh_buf b = HH_BUF_INIT;
	char *path;
	size_t i, len = sha ? strlen(sha) : 0;
	int rc;

	if (!repo_ok(repo))
		return hh_error("gitea: bad repository name '%s'", repo ? repo : "");
	if (len < 7 || len > 64 || strspn(sha, "0123456789abcdef") != len)
		return hh_error("gitea: bad commit '%s' for '%s'", sha ? sha : "", repo);
	for (i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		if (state && strcmp(state, states[i]) == 0)
			break;
	if (i == sizeof(states) / sizeof(states[0]))
		return hh_error("gitea: bad commit status '%s'", state ? state : "");
	path = hh_asprintf("/repos/%s/statuses/%s", repo, sha);
	hh_buf_printf(&b, "{\"state\":\"%s\",\"context\":\"%s\",\"description\":\"", state,
		      HH_CI_OWN_CONTEXT);
	hh_buf_put_json_str(&b, description ? description : "");
	hh_buf_puts(&b, "\",\"target_url\":\"");
	hh_buf_put_json_str(&b, target_url ? target_url : "");
	hh_buf_puts(&b, "\"}");
	rc = api(g, "POST", path, b.ptr, NULL);
	hh_buf_release(&b);
	free(path);
	return rc;
}

/* 1 when sha is 7 to 64 lowercase hex digits. */
static int sha_ok(const char *sha)
{
	size_t len = sha ? strlen(sha) : 0;

	return len >= 7 && len <= 64 && strspn(sha, "0123456789abcdef") == len;
}

/*
 * Gitea pages the combined status's list of contexts ([api] MAX_RESPONSE_ITEMS may cap limit
 * below 50), and its total_count counts only the page, so the pages are read until one is
 * empty; one with nothing new (a server that ignores page) ends the list too.
 */
int hh_gitea_commit_statuses(const hh_gitea *g, const char *repo, const char *sha,
			     hh_ci_statuses *out)
{
	cJSON *root = NULL;
	char *path = NULL;
	int page, rc = 0;

	if (!repo_ok(repo))
		return hh_error("gitea: bad repository name '%s'", repo ? repo : "");
	if (!sha_ok(sha))
		return hh_error("gitea: bad commit '%s' for '%s'", sha ? sha : "", repo);
	for (page = 1; rc == 0 && page <= STATUS_PAGES && out->context.n < HH_CI_MAX_CONTEXTS;
	     page++) {
		const cJSON *list, *s;
		size_t before = out->context.n;
		int n = 0;

		free(path);
		cJSON_Delete(root);
		root = NULL;
		path = hh_asprintf("/repos/%s/commits/%s/status?page=%d&limit=%d", repo, sha, page,
				   STATUS_PAGE);
		if ((rc = api(g, "GET", path, NULL, &root)) < 0)
			break;
		list = cJSON_GetObjectItemCaseSensitive(root, "statuses");
		cJSON_ArrayForEach(s, list)
		{
			const char *context = jstr(s, "context"), *state = jstr(s, "status");

			n++;
			if (context && state && hh_ci_statuses_add(out, context, state) < 0) {
				rc = -1;
				break;
			}
		}
		if (n == 0 || (rc == 0 && out->context.n == before))
			break;
	}
	cJSON_Delete(root);
	free(path);
	return rc;
}
