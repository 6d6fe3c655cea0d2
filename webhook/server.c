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
#include "webhook/intake.h"
#include "webhook/gate.h"
#include "internal/log.h"
#include "webhook/metrics.h"

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
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The largest request head the gate lets through: well inside libmicrohttpd's memory limit
 * per connection, so that libmicrohttpd never refuses a head by itself. The limit is 32 KiB:
 * libmicrohttpd 0.9.75 takes a pool larger than that from mmap, and the mmap, the page
 * faults of its first use and the munmap (a TLB shootdown on every core running one of the
 * process's threads) of each connection cost more than the rest of the request's system
 * calls; 32 KiB and less is one malloc. 16 KiB of head is twice what nginx and Apache accept
 * per header line by default, and a Gitea delivery's head is under 1 KiB. */
#define MAX_HEAD (16 * 1024)
#define MHD_MEMORY (32 * 1024)

struct hh_server {
	struct MHD_Daemon *d;
	hh_gate *gate;
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

	const hh_store *ref;

	if (tl_store)
		return tl_store;
	pthread_mutex_lock(&s->lock);
	ref = s->nstores ? s->stores[0] : NULL;
	pthread_mutex_unlock(&s->lock);
	/* A thread's first delivery may come after the file was removed or replaced (8 threads
	 * open their handles one by one): it must not create a new database or take the other
	 * file for the one the first handle opened. */
	if ((ref ? hh_store_open_like(&tl_store, s->cfg->state_dir, ref)
		 : hh_store_open(&tl_store, s->cfg->state_dir)) < 0) {
		hh_log(HH_LOG_ERROR, "store.open", "dir", s->cfg->state_dir, "error",
		       hh_error_last(), NULL);
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
	/* One request per connection: every request passes the gate's checks and deadline. */
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
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
		hh_log(HH_LOG_WARN, "record.failed", "path", path.ptr, "error", strerror(errno),
		       NULL);
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

/* 0 while the store is the file it opened; else logs it (loudly: every time) and returns -1. */
static int store_lost(hh_store *st, const char *delivery)
{
	if (hh_store_check(st) == 0)
		return 0;
	hh_log(HH_LOG_ERROR, "store.lost", "delivery", delivery, "error", hh_error_last(), NULL);
	return -1;
}

/* Why this thread has no store handle: the first handle's verdict when it reports the file
 * lost (a handle refused after a removal), else the open's error. */
static const char *no_store_why(hh_server *s)
{
	const char *why = hh_error_last();
	hh_store *ref;

	pthread_mutex_lock(&s->lock);
	ref = s->nstores ? s->stores[0] : NULL;
	pthread_mutex_unlock(&s->lock);
	if (ref && hh_store_check(ref) < 0)
		return hh_error_last();
	return why && *why ? why : "state store unavailable";
}

/* GET /healthz: 200 while the store is the file opened and can write, else 503. */
static enum MHD_Result healthz(hh_server *s, struct MHD_Connection *c)
{
	hh_store *st = thread_store(s);
	hh_buf b = HH_BUF_INIT;
	enum MHD_Result rc;
	const char *why;

	if (st && hh_store_health(st) == 0)
		return reply(c, 200, "application/json", "{\"status\":\"ok\"}\n", 16, 0);
	why = st ? hh_error_last() : no_store_why(s);
	hh_log(HH_LOG_ERROR, "healthz.store", "error", why, NULL);
	hh_buf_puts(&b, "{\"status\":\"unavailable\",\"error\":\"");
	hh_buf_put_json_str(&b, why);
	hh_buf_puts(&b, "\"}\n");
	rc = reply(c, 503, "application/json", b.ptr, b.len, 30);
	hh_buf_release(&b);
	return rc;
}

static enum MHD_Result handle_delivery(hh_server *s, struct MHD_Connection *c, struct request *rq)
{
	hh_headers hdrs = {0};
	hh_intake in = {0};
	hh_intake_result res;
	hh_buf answer = HH_BUF_INIT;
	const char *body;
	size_t body_len;
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
	if (!in.store || store_lost(in.store, hh_headers_get(&hdrs, "X-Gitea-Delivery")) < 0) {
		hh_headers_release(&hdrs);
		hh_metrics_delivery(HH_EV_UNKNOWN, HH_DV_UNAVAILABLE);
		return reply_error(c, 503, "state store unavailable, retry later");
	}
	hh_intake_process(&in, &hdrs, rq->body.ptr ? rq->body.ptr : "", rq->body.len, &res);
	/* Checked again before a 2xx: a file removed meanwhile took the commit with it. */
	if (res.status < 300 && store_lost(in.store, res.delivery) < 0) {
		hh_metrics_delivery(res.kind, HH_DV_UNAVAILABLE);
		hh_intake_result_release(&res);
		hh_headers_release(&hdrs);
		return reply_error(c, 503, "state store unavailable, retry later");
	}
	hh_metrics_delivery(res.kind, verdict_of(&res));
	for (i = 0; i < res.findings.n; i++)
		hh_metrics_finding(res.findings.v[i].reason);
	if (hh_intake_answer_json(&res, &answer) < 0 || hh_buf_putc(&answer, '\n') < 0) {
		/* No memory for the answer: a fixed one (the delivery may be stored; a retry is
		 * then answered as a duplicate). */
		static const char oom[] = "{\"error\":\"out of memory\"}\n";

		hh_buf_release(&answer);
		body = oom;
		body_len = sizeof(oom) - 1;
		res.status = 500;
	} else {
		body = answer.ptr;
		body_len = answer.len;
	}
	snprintf(status, sizeof(status), "%d", res.status);
	snprintf(nfind, sizeof(nfind), "%zu", res.findings.n);
	hh_log(res.status >= 500 ? HH_LOG_ERROR : HH_LOG_INFO, "delivery", "id", res.delivery,
	       "event", res.event, "status", status, "findings", nfind, "repo", res.repo, "error",
	       res.error, NULL);
	rc = reply(c, (unsigned)res.status, "application/json", body, body_len, res.retry_after);
	hh_buf_release(&answer);
	hh_intake_result_release(&res);
	hh_headers_release(&hdrs);
	return rc;
}

static void mark_answered(hh_server *s, struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
		c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	if (ci && ci->socket_context)
		hh_gate_answered(s->gate, ci->socket_context);
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
		cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						 MHD_HTTP_HEADER_CONTENT_LENGTH);
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
	mark_answered(s, c); /* complete: the deadline no longer cuts it */
	if (rq->route == 2)
		return healthz(s, c);
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

/* libmicrohttpd's connection notifications: the gate's record becomes the socket context. */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	hh_server *s = cls;
	const union MHD_ConnectionInfo *ci;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		*socket_context = ci ? hh_gate_started(s->gate, ci->connect_fd) : NULL;
	} else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
		hh_gate_closed(s->gate, *socket_context);
		*socket_context = NULL;
	}
}

/* The gate passes a connection whose head it checked. */
static int handoff(void *ctx, int fd, const struct sockaddr *addr, socklen_t addrlen)
{
	hh_server *s = ctx;

	return MHD_add_connection(s->d, fd, addr, addrlen) == MHD_YES ? 0 : -1;
}

/* The listening socket: SO_REUSEADDR only (no SO_REUSEPORT: a second process on the same
 * port must fail, not share the deliveries). */
static int listen_on(const char *addr, int *port)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int fam, fd, one = 1;

	fam = parse_listen(addr, &ss, &sl);
	if (fam < 0)
		return hh_error("bad listen address '%s' (want ADDR:PORT)", addr);
	fd = socket(fam, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return hh_error("cannot listen on %s: %s", addr, strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, SOMAXCONN) < 0) {
		hh_error("cannot listen on %s: %s", addr, strerror(errno));
		close(fd);
		return -1;
	}
	sl = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
		*port = ntohs(fam == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
					      : ((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}

int hh_server_start(hh_server **out, const hh_server_opts *opts)
{
	hh_server *s;
	hh_gate_opts go = {0};
	const hh_config *cfg = opts->cfg;
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
			     MHD_USE_ITC | MHD_USE_NO_LISTEN_SOCKET;
	int lfd = -1;

	/* glibc gives each busy thread its own malloc arena, each keeping its freed memory: with
	 * the thread pool that was the receiver's RSS growing with the concurrency (issue 12) */
	mallopt(M_ARENA_MAX, 2);
	s = calloc(1, sizeof(*s));
	if (!s)
		return hh_error("out of memory");
	s->cfg = cfg;
	s->record_dir = hh_strdup(opts->record_dir);
	pthread_mutex_init(&s->lock, NULL);
	if (s->record_dir && mkdir(s->record_dir, 0700) < 0 && errno != EEXIST) {
		hh_error("cannot create record directory '%s': %s", s->record_dir, strerror(errno));
		goto fail;
	}
	if ((lfd = listen_on(opts->listen, &s->port)) < 0)
		goto fail;
	/* The gate admits at most max-connections: libmicrohttpd's own limits stay above it, so
	 * that it never refuses (or answers) by itself. */
	s->d = MHD_start_daemon(
		flags, 0, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
		MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)(opts->threads > 0 ? opts->threads : 8),
		MHD_OPTION_CONNECTION_LIMIT, (unsigned int)cfg->max_connections + 16,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)cfg->request_timeout,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)MHD_MEMORY, MHD_OPTION_NOTIFY_COMPLETED,
		on_completed, s, MHD_OPTION_NOTIFY_CONNECTION, on_connection, s, MHD_OPTION_END);
	if (!s->d) {
		hh_error("cannot listen on %s: %s", opts->listen,
			 errno ? strerror(errno) : "libmicrohttpd refused to start");
		goto fail;
	}
	go.listen_fd = lfd;
	go.max_conns = (int)cfg->max_connections;
	go.per_ip = cfg->max_connections_per_ip > 0 ? (int)cfg->max_connections_per_ip
						    : (int)cfg->max_connections / 4;
	if (go.per_ip > go.max_conns)
		go.per_ip = go.max_conns;
	go.reserve = go.max_conns / 8 > 0 ? go.max_conns / 8 : 1;
	go.deadline = (double)cfg->request_timeout;
	go.max_head = MAX_HEAD;
	go.max_headers = (int)cfg->max_headers;
	go.max_body = (unsigned long long)cfg->max_body;
	go.handoff = handoff;
	go.ctx = s;
	if (hh_gate_start(&s->gate, &go) < 0) {
		MHD_stop_daemon(s->d);
		goto fail;
	}
	*out = s;
	return 0;
fail:
	if (lfd >= 0)
		close(lfd);
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
	hh_gate_stop(s->gate); /* no new connections */
	while (__atomic_load_n(&s->active, __ATOMIC_SEQ_CST) > 0 && waited < grace_ms) {
		usleep(10000);
		waited += 10;
	}
	MHD_stop_daemon(s->d);
	hh_gate_free(s->gate);
	for (i = 0; i < s->nstores; i++)
		hh_store_close(s->stores[i]);
	free(s->stores);
	free(s->record_dir);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
