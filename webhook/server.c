/*
 * server: libmicrohttpd front end. See server.h.
 *
 * The access handler is called several times per request: first with the headers (routing,
 * size and header checks happen there, so an oversized body is refused before it is read),
 * then with body chunks (appended up to the cap), then once with no data (the request is
 * complete: the intake runs and the answer is queued). The intake's store commit is durable
 * before the answer is queued, so an acknowledged delivery survives kill -9.
 */
#include "webhook/server.h"
#include "internal/intake.h"
#include "internal/log.h"
#include "internal/metrics.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct hh_server {
	struct MHD_Daemon *d;
	const hh_config *cfg;
	char *record_dir;
	int port;
	int active; /* requests in flight (atomic) */
	pthread_mutex_t lock;
	hh_store **stores; /* every thread's handle, closed at stop */
	size_t nstores;
};

struct request {
	double start;
	int route; /* 1 hooks, 2 healthz, 3 metrics */
	int refused;
	hh_buf body;
};

static _Thread_local hh_store *tl_store;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static hh_store *thread_store(hh_server *s)
{
	hh_store **v;

	if (tl_store)
		return tl_store;
	if (hh_store_open(&tl_store, s->cfg->state_dir) < 0) {
		hh_log(HH_LOG_ERROR, "store.open", "dir", s->cfg->state_dir, "error", hh_error_last(),
		       NULL);
		return NULL;
	}
	pthread_mutex_lock(&s->lock);
	v = realloc(s->stores, (s->nstores + 1) * sizeof(*v));
	if (v) {
		s->stores = v;
		v[s->nstores++] = tl_store;
	}
	pthread_mutex_unlock(&s->lock);
	return tl_store;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned int status, const char *ctype,
			     const char *body, size_t len, int retry_after)
{
	struct MHD_Response *r;
	enum MHD_Result rc;
	char ra[16];

	r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	if (retry_after > 0) {
		snprintf(ra, sizeof(ra), "%d", retry_after);
		MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, ra);
	}
	rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result reply_error(struct MHD_Connection *c, unsigned int status, const char *msg)
{
	hh_buf b = HH_BUF_INIT;
	enum MHD_Result rc;

	hh_buf_puts(&b, "{\"error\":\"");
	hh_buf_put_json_str(&b, msg);
	hh_buf_puts(&b, "\"}\n");
	rc = reply(c, status, "application/json", b.ptr, b.len, status == 503 ? 30 : 0);
	hh_buf_release(&b);
	return rc;
}

static enum MHD_Result count_header(void *cls, enum MHD_ValueKind kind, const char *k,
				    const char *v)
{
	(void)kind;
	(void)k;
	(void)v;
	(*(int *)cls)++;
	return MHD_YES;
}

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *k,
				      const char *v)
{
	(void)kind;
	return hh_headers_add(cls, k, v ? v : "") == 0 ? MHD_YES : MHD_NO;
}

/* Saves a delivery as NAME.json|NAME.body + NAME.headers in dir (never overwriting). */
static void record(const char *dir, const hh_headers *h, const hh_buf *body)
{
	const char *id = hh_headers_get(h, "X-Gitea-Delivery");
	const char *ct = hh_headers_get(h, "Content-Type");
	const char *ext = ct && strstr(ct, "form-urlencoded") ? "body" : "json";
	char name[96], sha[65];
	hh_buf hb = HH_BUF_INIT, path = HH_BUF_INIT;
	size_t i, n = 0;
	int fd, attempt;

	hh_sha256_hex(body->ptr ? body->ptr : "", body->len, sha);
	for (i = 0; id && id[i] && n < 64; i++)
		if ((id[i] >= 'a' && id[i] <= 'z') || (id[i] >= 'A' && id[i] <= 'Z') ||
		    (id[i] >= '0' && id[i] <= '9') || id[i] == '-')
			name[n++] = id[i];
	if (n == 0)
		n = (size_t)snprintf(name, sizeof(name), "delivery-%.16s", sha);
	name[n] = '\0';
	hh_headers_format(h, &hb);
	for (attempt = 0; attempt < 100; attempt++) {
		hh_buf_clear(&path);
		if (attempt)
			hh_buf_printf(&path, "%s/%s.%d.%s", dir, name, attempt, ext);
		else
			hh_buf_printf(&path, "%s/%s.%s", dir, name, ext);
		fd = open(path.ptr, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0 || errno != EEXIST)
			break;
	}
	if (fd < 0) {
		hh_log(HH_LOG_WARN, "record.failed", "path", path.ptr, "error", strerror(errno), NULL);
		goto out;
	}
	if (body->len && write(fd, body->ptr, body->len) != (ssize_t)body->len)
		hh_log(HH_LOG_WARN, "record.failed", "path", path.ptr, NULL);
	close(fd);
	/* NAME[.N].headers beside it */
	path.len -= strlen(ext);
	path.ptr[path.len] = '\0';
	hh_buf_puts(&path, "headers");
	fd = open(path.ptr, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd >= 0) {
		if (write(fd, hb.ptr, hb.len) != (ssize_t)hb.len)
			hh_log(HH_LOG_WARN, "record.failed", "path", path.ptr, NULL);
		close(fd);
	}
out:
	hh_buf_release(&hb);
	hh_buf_release(&path);
}

static enum hh_delivery_verdict verdict_of(const hh_intake_result *res)
{
	size_t i;

	switch (res->status) {
	case 401: return HH_DV_UNAUTHORIZED;
	case 413: return HH_DV_TOO_LARGE;
	case 503: return HH_DV_UNAVAILABLE;
	case 500: return HH_DV_ERROR;
	default: break;
	}
	if (res->status >= 400)
		return HH_DV_BAD_REQUEST;
	if (res->duplicate)
		return HH_DV_DUPLICATE;
	if (res->ignored)
		return HH_DV_IGNORED;
	for (i = 0; i < res->findings.n; i++)
		if (res->findings.v[i].accepted)
			return HH_DV_ACCEPTED;
	return res->pending_lookup ? HH_DV_ACCEPTED : HH_DV_NO_FIX;
}

static enum MHD_Result handle_delivery(hh_server *s, struct MHD_Connection *c, struct request *rq)
{
	hh_headers hdrs = {0};
	hh_intake in = {0};
	hh_intake_result res;
	hh_buf answer = HH_BUF_INIT;
	enum MHD_Result rc;
	char status[16], nfind[24];
	size_t i;

	if (MHD_get_connection_values(c, MHD_HEADER_KIND, collect_header, &hdrs) < 0 ||
	    hdrs.n >= HH_MAX_HEADERS) {
		hh_headers_release(&hdrs);
		hh_metrics_delivery(HH_EV_UNKNOWN, HH_DV_BAD_REQUEST);
		return reply_error(c, 431, "too many headers");
	}
	if (s->record_dir)
		record(s->record_dir, &hdrs, &rq->body);
	in.cfg = s->cfg;
	in.store = thread_store(s);
	in.verify = 1;
	in.now = (long long)time(NULL);
	if (!in.store) {
		hh_headers_release(&hdrs);
		hh_metrics_delivery(HH_EV_UNKNOWN, HH_DV_UNAVAILABLE);
		return reply_error(c, 503, "state store unavailable, retry later");
	}
	hh_intake_process(&in, &hdrs, rq->body.ptr ? rq->body.ptr : "", rq->body.len, &res);
	hh_metrics_delivery(res.kind, verdict_of(&res));
	for (i = 0; i < res.findings.n; i++)
		hh_metrics_finding(res.findings.v[i].reason);
	hh_intake_answer_json(&res, &answer);
	hh_buf_putc(&answer, '\n');
	snprintf(status, sizeof(status), "%d", res.status);
	snprintf(nfind, sizeof(nfind), "%zu", res.findings.n);
	hh_log(res.status >= 500 ? HH_LOG_ERROR : HH_LOG_INFO, "delivery", "id", res.delivery,
	       "event", res.event, "status", status, "findings", nfind, "repo", res.repo,
	       "error", res.error, NULL);
	rc = reply(c, (unsigned)res.status, "application/json", answer.ptr, answer.len,
		   res.retry_after);
	hh_buf_release(&answer);
	hh_intake_result_release(&res);
	hh_headers_release(&hdrs);
	return rc;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *data,
				  size_t *data_size, void **con_cls)
{
	hh_server *s = cls;
	struct request *rq = *con_cls;
	(void)version;

	if (!rq) {
		const char *cl, *te;
		int nh = 0;

		rq = calloc(1, sizeof(*rq));
		if (!rq)
			return MHD_NO;
		*con_cls = rq;
		rq->start = now_s();
		__atomic_add_fetch(&s->active, 1, __ATOMIC_SEQ_CST);
		if (strcmp(url, "/hooks/gitea") == 0)
			rq->route = 1;
		else if (strcmp(url, "/healthz") == 0)
			rq->route = 2;
		else if (strcmp(url, "/metrics") == 0)
			rq->route = 3;
		if (!rq->route) {
			rq->refused = 1;
			return reply_error(c, 404, "not found");
		}
		if ((rq->route == 1) != (strcmp(method, "POST") == 0) ||
		    (rq->route != 1 && strcmp(method, "GET") != 0)) {
			rq->refused = 1;
			return reply_error(c, 405, "method not allowed");
		}
		if (rq->route != 1)
			return MHD_YES;
		MHD_get_connection_values(c, MHD_HEADER_KIND, count_header, &nh);
		if (nh > s->cfg->max_headers) {
			rq->refused = 1;
			hh_metrics_delivery(HH_EV_UNKNOWN, HH_DV_BAD_REQUEST);
			return reply_error(c, 431, "too many headers");
		}
		cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		te = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						 MHD_HTTP_HEADER_TRANSFER_ENCODING);
		if (!cl || te) {
			rq->refused = 1;
			hh_metrics_delivery(HH_EV_UNKNOWN, HH_DV_BAD_REQUEST);
			return reply_error(c, 411, "a Content-Length is required");
		}
		if (strtoull(cl, NULL, 10) > s->cfg->max_body) {
			rq->refused = 1;
			hh_metrics_delivery(HH_EV_UNKNOWN, HH_DV_TOO_LARGE);
			return reply_error(c, 413, "body too large");
		}
		return MHD_YES;
	}
	if (now_s() - rq->start > (double)s->cfg->request_timeout)
		return MHD_NO; /* total deadline: drop the connection */
	if (*data_size) {
		if (rq->refused || rq->body.len + *data_size > s->cfg->max_body) {
			*data_size = 0;
			return rq->refused ? MHD_YES : MHD_NO; /* backstop: more than announced */
		}
		if (hh_buf_put(&rq->body, data, *data_size) < 0)
			return MHD_NO;
		*data_size = 0;
		return MHD_YES;
	}
	if (rq->refused)
		return MHD_YES;
	if (rq->route == 2)
		return reply(c, 200, "application/json", "{\"status\":\"ok\"}\n", 16, 0);
	if (rq->route == 3) {
		hh_buf b = HH_BUF_INIT;
		enum MHD_Result rc;
		hh_metrics_render(&b, thread_store(s));
		rc = reply(c, 200, "text/plain; version=0.0.4", b.ptr, b.len, 0);
		hh_buf_release(&b);
		return rc;
	}
	return handle_delivery(s, c, rq);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	hh_server *s = cls;
	struct request *rq = *con_cls;
	(void)c;
	(void)toe;

	if (!rq)
		return;
	if (rq->route == 1)
		hh_metrics_request_duration(now_s() - rq->start);
	hh_buf_release(&rq->body);
	free(rq);
	*con_cls = NULL;
	__atomic_sub_fetch(&s->active, 1, __ATOMIC_SEQ_CST);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;
	(void)cls;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	hh_log(HH_LOG_DEBUG, "http", "message", msg, NULL);
}

static int parse_listen(const char *listen, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[256];
	const char *colon;
	long port;
	char *end;

	if (listen[0] == '[') {
		const char *rb = strchr(listen, ']');
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		if (!rb || rb[1] != ':' || (size_t)(rb - listen - 1) >= sizeof(host))
			return -1;
		memcpy(host, listen + 1, (size_t)(rb - listen - 1));
		host[rb - listen - 1] = '\0';
		colon = rb + 1;
		memset(s6, 0, sizeof(*s6));
		s6->sin6_family = AF_INET6;
		if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1)
			return -1;
		port = strtol(colon + 1, &end, 10);
		if (*end || port < 0 || port > 65535)
			return -1;
		s6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*s6);
		return AF_INET6;
	}
	colon = strrchr(listen, ':');
	if (!colon || (size_t)(colon - listen) >= sizeof(host))
		return -1;
	memcpy(host, listen, (size_t)(colon - listen));
	host[colon - listen] = '\0';
	{
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
		memset(s4, 0, sizeof(*s4));
		s4->sin_family = AF_INET;
		if (strcmp(host, "localhost") == 0)
			strcpy(host, "127.0.0.1");
		if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
			return -1;
		port = strtol(colon + 1, &end, 10);
		if (*end || colon[1] == '\0' || port < 0 || port > 65535)
			return -1;
		s4->sin_port = htons((uint16_t)port);
		*len = sizeof(*s4);
	}
	return AF_INET;
}

int hh_server_start(hh_server **out, const hh_server_opts *opts)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	hh_server *s;
	const union MHD_DaemonInfo *info;
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
			     MHD_USE_ITC;
	int fam;

	fam = parse_listen(opts->listen, &ss, &sl);
	if (fam < 0)
		return hh_error("bad listen address '%s' (want ADDR:PORT)", opts->listen);
	/* glibc gives each busy thread its own malloc arena, each keeping its freed memory: with
	 * the thread pool that was the receiver's RSS growing with the concurrency (issue 12) */
	mallopt(M_ARENA_MAX, 2);
	if (fam == AF_INET6)
		flags |= MHD_USE_IPv6;
	s = calloc(1, sizeof(*s));
	if (!s)
		return hh_error("out of memory");
	s->cfg = opts->cfg;
	s->record_dir = hh_strdup(opts->record_dir);
	pthread_mutex_init(&s->lock, NULL);
	if (s->record_dir && mkdir(s->record_dir, 0700) < 0 && errno != EEXIST) {
		hh_error("cannot create record directory '%s': %s", s->record_dir, strerror(errno));
		goto fail;
	}
	s->d = MHD_start_daemon(
		flags, 0, NULL, NULL, on_request, s,
		MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)(opts->threads > 0 ? opts->threads : 8),
		MHD_OPTION_CONNECTION_LIMIT, (unsigned int)s->cfg->max_connections,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)s->cfg->max_connections,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)s->cfg->request_timeout,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
		MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned int)1,
		MHD_OPTION_END);
	if (!s->d) {
		hh_error("cannot listen on %s: %s", opts->listen,
			 errno ? strerror(errno) : "libmicrohttpd refused to start");
		goto fail;
	}
	info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	s->port = info ? info->port : 0;
	*out = s;
	return 0;
fail:
	free(s->record_dir);
	pthread_mutex_destroy(&s->lock);
	free(s);
	return -1;
}

int hh_server_port(const hh_server *s)
{
	return s->port;
}

void hh_server_stop(hh_server *s, long grace_ms)
{
	long waited = 0;
	size_t i;

	if (!s)
		return;
	MHD_quiesce_daemon(s->d);
	while (__atomic_load_n(&s->active, __ATOMIC_SEQ_CST) > 0 && waited < grace_ms) {
		usleep(10000);
		waited += 10;
	}
	MHD_stop_daemon(s->d);
	for (i = 0; i < s->nstores; i++)
		hh_store_close(s->stores[i]);
	free(s->stores);
	free(s->record_dir);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
