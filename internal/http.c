/*
 * http: libcurl easy requests with hard limits. See http.h.
 */
#include "internal/http.h"
#include "internal/log.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct sink {
	hh_buf *buf;
	size_t max;
	int overflow;
};

static size_t on_body(char *data, size_t size, size_t n, void *ud)
{
	struct sink *s = ud;
	size_t len = size * n;

	if (s->buf->len + len > s->max) {
		s->overflow = 1;
		return 0;
	}
	if (hh_buf_put(s->buf, data, len) < 0)
		return 0;
	return len;
}

static size_t on_header(char *data, size_t size, size_t n, void *ud)
{
	hh_http_resp *resp = ud;
	size_t len = size * n;

	if (len > 12 && strncasecmp(data, "Retry-After:", 12) == 0)
		resp->retry_after = strtol(data + 12, NULL, 10);
	return len;
}

char *hh_http_redact_url(const char *url)
{
	hh_buf b = HH_BUF_INIT;
	const char *p = url, *at, *scheme, *bot;

	scheme = strstr(url, "://");
	if (scheme) {
		const char *hs = scheme + 3, *slash = strchr(hs, '/');
		at = strchr(hs, '@');
		if (at && (!slash || at < slash)) {
			hh_buf_put(&b, url, (size_t)(hs - url));
			hh_buf_puts(&b, "***");
			p = at;
		}
	}
	bot = strstr(p, "/bot");
	if (bot) {
		const char *end = strchr(bot + 4, '/');
		hh_buf_put(&b, p, (size_t)(bot - p));
		hh_buf_puts(&b, "/bot***");
		p = end ? end : bot + strlen(bot);
	}
	hh_buf_puts(&b, p);
	return hh_buf_detach(&b);
}

int hh_http_do(const hh_http_req *req, hh_http_resp *resp)
{
	const char *method = req->method ? req->method : "GET";
	struct curl_slist *hdrs = NULL;
	struct sink sink = {&resp->body, req->max_response ? req->max_response : 4u << 20, 0};
	CURL *c;
	CURLcode rc;
	int ret = -1;
	size_t i;

	pthread_once(&curl_once, curl_init_once);
	resp->status = 0;
	resp->retry_after = 0;
	c = curl_easy_init();
	if (!c)
		return hh_error("cannot start an HTTP request: out of memory");
	for (i = 0; req->headers && req->headers[i]; i++)
		hdrs = curl_slist_append(hdrs, req->headers[i]);
	if (req->body)
		hdrs = curl_slist_append(hdrs, "Expect:");
	curl_easy_setopt(c, CURLOPT_URL, req->url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
			 req->connect_timeout_ms ? req->connect_timeout_ms : 5000L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, req->timeout_ms ? req->timeout_ms : 10000L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "healhook");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, resp);
	if (req->body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
	}
	rc = curl_easy_perform(c);
	if (rc != CURLE_OK) {
		char *safe = hh_http_redact_url(req->url);
		if (sink.overflow)
			hh_error("%s %s: answer larger than %zu bytes", method, safe, sink.max);
		else
			hh_error("%s %s: %s", method, safe, curl_easy_strerror(rc));
		free(safe);
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
	if (!resp->body.ptr)
		hh_buf_put(&resp->body, "", 0);
	ret = 0;
out:
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	return ret;
}

void hh_http_resp_release(hh_http_resp *resp)
{
	if (resp)
		hh_buf_release(&resp->body);
}
