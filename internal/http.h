/*
 * http: one outgoing HTTP request with libcurl (CURL types stay in http.c).
 *
 * Every request has a connect and a total time limit, follows no redirects, speaks only
 * http and https, and keeps at most max_response bytes of the answer. Used for Gitea's API,
 * Telegram, Ollama probes and health checks.
 */
#ifndef HH_HTTP_H
#define HH_HTTP_H

#include <stddef.h>

#include "internal/buf.h"

typedef struct hh_http_req {
	const char *method; /* "GET" when NULL */
	const char *url;
	const char *const *headers; /* NULL-terminated "Name: value" list, may be NULL */
	const void *body;           /* sent when non-NULL */
	size_t body_len;
	long connect_timeout_ms; /* 0 = 5000 */
	long timeout_ms;         /* 0 = 10000 */
	size_t max_response;     /* 0 = 4 MiB */
} hh_http_req;

typedef struct hh_http_resp {
	long status; /* HTTP status, 0 when no answer */
	hh_buf body;
	long retry_after; /* seconds from a Retry-After header, 0 if none */
} hh_http_resp;

/* Performs the request. Returns 0 when an HTTP answer arrived (any status), -1 with the error
 * ("GET http://...: Timeout was reached") otherwise. The URL given is echoed in errors with
 * any userinfo and any "/bot<token>" path segment masked. */
int hh_http_do(const hh_http_req *req, hh_http_resp *resp);
void hh_http_resp_release(hh_http_resp *resp);

/* A copy of url safe to log: "/bot<token>/" → "/bot***" and "user:pass@" → "***@". */
char *hh_http_redact_url(const char *url);

#endif
