/*
 * status: the status listener on libmicrohttpd. See status.h.
 *
 * One internal polling thread serves every connection (a page is a few indexed queries and
 * some string building), so the store handle it opens on first use belongs to that thread
 * alone. Every request is answered when its headers are complete: the method is checked
 * first (anything but GET and HEAD: 405, a body is never read), then the token, then the
 * route. MHD leaves the body out of a HEAD answer itself.
 */
#include "internal/status.h"
#include "internal/status_priv.h"
#include "internal/log.h"
#include "internal/digest.h"

#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#define CSP "default-src 'none'; style-src 'self'; img-src 'self' data:"

struct hh_status_server {
	struct MHD_Daemon *d;
	const hh_config *cfg;
	hh_store *st; /* the daemon thread's handle */
	int port;
};

static enum MHD_Result send_answer(struct MHD_Connection *c, unsigned status, const char *ctype,
				   const hh_buf *body, long long total)
{
	struct MHD_Response *r;
	enum MHD_Result rc;
	char n[24];

	r = MHD_create_response_from_buffer(body->len, body->ptr ? body->ptr : (void *)"",
					    MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	MHD_add_response_header(r, "Content-Security-Policy", CSP);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (status == 405)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	if (status == 401)
		MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
					"Bearer realm=\"healhook status\"");
	if (total >= 0) {
		snprintf(n, sizeof(n), "%lld", total);
		MHD_add_response_header(r, "X-Total-Count", n);
	}
	rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned status, const char *msg)
{
	hh_buf b = HH_BUF_INIT;
	enum MHD_Result rc;

	hh_buf_printf(&b, "%s\n", msg);
	rc = send_answer(c, status, "text/plain; charset=utf-8", &b, -1);
	hh_buf_release(&b);
	return rc;
}

/* 1 when the request carries the configured token (or none is configured). */
static int authorized(const hh_status_server *s, struct MHD_Connection *c)
{
	const char *h;

	if (!s->cfg->status_token || !*s->cfg->status_token)
		return 1;
	h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	if (!h || strncasecmp(h, "Bearer ", 7) != 0)
		return 0;
	h += 7;
	while (*h == ' ')
		h++;
	return hh_ct_streq(h, s->cfg->status_token);
}

static const char *arg(struct MHD_Connection *c, const char *name)
{
	const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);

	return v && *v ? v : NULL;
}

/* A job number in path ("/jobs/12"), or 0. */
static long long job_number(const char *p)
{
	char *end;
	long long id;

	if (*p < '1' || *p > '9')
		return 0;
	id = strtoll(p, &end, 10);
	return *end ? 0 : id;
}

static int route(hh_status_req *r, const char *url)
{
	long long id;

	if (strcmp(url, "/") == 0)
		return hh_status_page_repos(r);
	if (strcmp(url, "/jobs") == 0 || strcmp(url, "/jobs/") == 0)
		return hh_status_page_jobs(r);
	if (strncmp(url, "/jobs/", 6) == 0 && (id = job_number(url + 6)) > 0)
		return hh_status_page_job(r, id);
	if (strncmp(url, "/api/", 5) == 0)
		return hh_status_api(r, url + 5);
	return hh_status_error_page(r, 404, "no such page");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *data,
				  size_t *data_size, void **con_cls)
{
	hh_status_server *s = cls;
	hh_status_req r;
	enum MHD_Result rc;
	const char *page;
	char *end;
	(void)version;
	(void)data;

	if (*con_cls) { /* body bytes of a refused request: dropped */
		*data_size = 0;
		return MHD_YES;
	}
	*con_cls = s;
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return send_text(c, 405, "method not allowed: the status pages are read-only");
	if (!authorized(s, c))
		return send_text(c, 401, "unauthorized: send Authorization: Bearer TOKEN");
	if (strcmp(url, "/static/status.css") == 0) {
		hh_buf css = {(char *)hh_status_css, strlen(hh_status_css), 0, 0};
		return send_answer(c, 200, "text/css; charset=utf-8", &css, -1);
	}
	if (!s->st && hh_store_open(&s->st, s->cfg->state_dir) < 0) {
		hh_log(HH_LOG_ERROR, "status.store", "error", hh_error_last(), NULL);
		return send_text(c, 503, "the store cannot be opened (see the log)");
	}
	memset(&r, 0, sizeof(r));
	r.cfg = s->cfg;
	r.st = s->st;
	r.now = (long long)time(NULL);
	r.repo = arg(c, "repo");
	r.state = arg(c, "state");
	page = arg(c, "page");
	r.page = page ? strtoll(page, &end, 10) : 1;
	if (r.page < 1 || r.page > 1000000 || (page && *end))
		r.page = 1;
	page = arg(c, "per");
	r.per = page ? strtoll(page, &end, 10) : HH_STATUS_PAGE;
	if (r.per < 1 || r.per > HH_STATUS_MAX_PER || (page && *end))
		r.per = HH_STATUS_PAGE;
	r.status = 200;
	r.ctype = "text/html; charset=utf-8";
	r.total = -1;
	if (route(&r, url) < 0) {
		hh_log(HH_LOG_ERROR, "status.page", "url", url, "error", hh_error_last(), NULL);
		hh_buf_clear(&r.body);
		rc = send_text(c, 500, "the page could not be read from the store (see the log)");
	} else {
		rc = send_answer(c, (unsigned)r.status, r.ctype, &r.body, r.total);
	}
	hh_buf_release(&r.body);
	return rc;
}

/* ADDR:PORT or [V6]:PORT → a numeric socket address. */
static int resolve(const char *listen, struct sockaddr_storage *ss, int *v6)
{
	struct addrinfo hints = {0}, *ai = NULL;
	char host[256];
	const char *colon = strrchr(listen, ':');
	size_t n;

	if (!colon || colon == listen || (n = (size_t)(colon - listen)) >= sizeof(host))
		return -1;
	memcpy(host, listen, n);
	host[n] = '\0';
	if (host[0] == '[' && host[n - 1] == ']') {
		memmove(host, host + 1, n - 2);
		host[n - 2] = '\0';
	}
	if (strcmp(host, "localhost") == 0)
		strcpy(host, "127.0.0.1");
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	hints.ai_socktype = SOCK_STREAM;
	if (!colon[1] || getaddrinfo(host, colon + 1, &hints, &ai) != 0)
		return -1;
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*v6 = ai->ai_family == AF_INET6;
	freeaddrinfo(ai);
	return 0;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	(void)cls;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\r\n")] = '\0';
	hh_log(HH_LOG_DEBUG, "status.http", "message", msg, NULL);
}

int hh_status_start(hh_status_server **out, const hh_config *cfg, const char *listen)
{
	struct sockaddr_storage ss;
	const union MHD_DaemonInfo *info;
	hh_status_server *s;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
			 MHD_USE_ITC;
	int v6 = 0;

	*out = NULL;
	if (!listen || resolve(listen, &ss, &v6) < 0)
		return hh_error("status: bad listen address '%s' (want ADDR:PORT)",
				listen ? listen : "");
	if (!cfg->state_dir)
		return hh_error("status: state.dir is not set");
	if (v6)
		flags |= MHD_USE_IPv6;
	errno = 0;
	if (!(s = calloc(1, sizeof(*s))))
		return hh_error("out of memory");
	s->cfg = cfg;
	s->d = MHD_start_daemon(
		flags, 0, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss, MHD_OPTION_CONNECTION_LIMIT,
		(unsigned)32, MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)16,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
		(size_t)(32 * 1024), MHD_OPTION_END);
	/* No SO_REUSEPORT (the receiver sets it): the webhook's port can never be shared. */
	if (!s->d) {
		int e = errno;
		free(s);
		return hh_error("status: cannot listen on %s: %s", listen,
				e ? strerror(e) : "libmicrohttpd refused to start");
	}
	info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	s->port = info ? info->port : 0;
	*out = s;
	return 0;
}

int hh_status_port(const hh_status_server *s)
{
	return s ? s->port : 0;
}

void hh_status_stop(hh_status_server *s)
{
	if (!s)
		return;
	MHD_stop_daemon(s->d);
	hh_store_close(s->st);
	free(s);
}
