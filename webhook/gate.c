/*
 * gate: see gate.h.
 *
 * Records: every connection the gate accepted and that is not closed yet, in one list under
 * g->lock. States: HEAD (the gate watches it, in its epoll set, edge-triggered so that a head
 * peeked but incomplete wakes the thread only when more bytes arrive), PENDING (handed to
 * libmicrohttpd, not yet announced by its "started" notification), MHD (owned by
 * libmicrohttpd until its "closed" notification, which runs before it closes the socket, so
 * a shutdown() under the lock never hits a reused descriptor), LINGER (answered by the gate:
 * the rest of the request is read and thrown away, then the socket is closed).
 * Records of the gate's own thread are freed only at the end of a round of events (the
 * graveyard), so that an event later in the same round never sees freed memory.
 */
#include "webhook/gate.h"
#include "internal/buf.h"
#include "internal/log.h"
#include "webhook/reqhead.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

enum { C_HEAD, C_PENDING, C_MHD, C_LINGER };

#define LINGER_MAX 256 /* answered connections draining at once; more are closed */
#define LINGER_SECONDS 2.0
#define ACCEPT_BATCH 32
#define HEAD_GRACE 0.1     /* s: a head this young is closed to make room only as a last resort */
#define PENDING_GRACE 30.0 /* a handed socket never announced is forgotten after this */

struct hh_gate_conn {
	struct hh_gate_conn *next;
	unsigned long long id;
	int fd, state, answered, cut, dead;
	double accepted, until;
	size_t drained;
	struct sockaddr_storage addr;
	socklen_t alen;
};

struct hh_gate {
	hh_gate_opts o;
	hh_reqhead_limits lim;
	int ep, ev, listening, stop;
	double pause_until;
	pthread_t thread;
	pthread_mutex_t lock;
	struct hh_gate_conn *conns, *grave;
	int n_head, n_live, n_linger;
	unsigned long long next_id;
	hh_gate_stats st, logged;
	double logged_at;
	char *buf;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *reason(int status)
{
	switch (status) {
	case 400: return "Bad Request";
	case 408: return "Request Timeout";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 431: return "Request Header Fields Too Large";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Error";
	}
}

static int same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	if (a->ss_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
			      &((const struct sockaddr_in6 *)b)->sin6_addr, 16) == 0;
	return 0;
}

/* Unlinks c from the live list (lock held). */
static void unlink_conn(hh_gate *g, struct hh_gate_conn *c)
{
	struct hh_gate_conn **pp;

	for (pp = &g->conns; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			c->next = NULL;
			return;
		}
	}
}

/* Leaves the counts of c's state (lock held). */
static void uncount(hh_gate *g, struct hh_gate_conn *c)
{
	if (c->state == C_HEAD)
		g->n_head--;
	if (c->state == C_LINGER)
		g->n_linger--;
	else
		g->n_live--;
}

/* Closes a connection of the gate's own (HEAD or LINGER) and buries its record. */
static void bury(hh_gate *g, struct hh_gate_conn *c)
{
	uncount(g, c);
	unlink_conn(g, c);
	epoll_ctl(g->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->dead = 1;
	c->next = g->grave;
	g->grave = c;
}

/* Answers c with one JSON response and lets it drain (lock held). c may be new (no state). */
static void answer(hh_gate *g, struct hh_gate_conn *c, int status, const char *msg, int retry_after)
{
	hh_buf b = HH_BUF_INIT, body = HH_BUF_INIT;
	char sink[4096];
	struct epoll_event ev = {0};
	ssize_t n;

	hh_buf_puts(&body, "{\"error\":\"");
	hh_buf_put_json_str(&body, msg);
	hh_buf_puts(&body, "\"}\n");
	hh_buf_printf(&b,
		      "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
		      "Content-Length: %zu\r\nConnection: close\r\n",
		      status, reason(status), body.len);
	if (retry_after > 0)
		hh_buf_printf(&b, "Retry-After: %d\r\n", retry_after);
	hh_buf_puts(&b, "\r\n");
	hh_buf_put(&b, body.ptr, body.len);
	if (b.ptr && send(c->fd, b.ptr, b.len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		c->drained = (size_t)-1; /* cannot even answer: close at once */
	hh_buf_release(&b);
	hh_buf_release(&body);
	while (c->drained != (size_t)-1 && (n = recv(c->fd, sink, sizeof(sink), MSG_DONTWAIT)) > 0)
		c->drained += (size_t)n;
	shutdown(c->fd, SHUT_WR);
	if (c->state == C_HEAD) { /* a new connection comes as LINGER, already counted */
		g->n_head--;
		g->n_live--;
		g->n_linger++;
	}
	c->state = C_LINGER;
	c->until = now_s() + (LINGER_SECONDS < g->o.deadline ? LINGER_SECONDS : g->o.deadline);
	ev.events = EPOLLIN | EPOLLRDHUP;
	ev.data.ptr = c;
	if (c->drained == (size_t)-1 || g->n_linger > LINGER_MAX ||
	    (epoll_ctl(g->ep, EPOLL_CTL_MOD, c->fd, &ev) < 0 &&
	     epoll_ctl(g->ep, EPOLL_CTL_ADD, c->fd, &ev) < 0))
		bury(g, c);
}

/* The oldest head accepted before the given time (lock held). */
static struct hh_gate_conn *oldest_head(hh_gate *g, double before)
{
	struct hh_gate_conn *c, *best = NULL;

	for (c = g->conns; c; c = c->next)
		if (c->state == C_HEAD && c->accepted < before &&
		    (!best || c->accepted < best->accepted))
			best = c;
	return best;
}

static void on_head(hh_gate *g, struct hh_gate_conn *c, uint32_t events);

/* No slot for a new head: the heads reached the reserve, or every slot is live. */
static int room_short(const hh_gate *g)
{
	return g->n_head >= g->o.max_conns - g->o.reserve || g->n_live >= g->o.max_conns;
}

/* Frees a slot for a new connection (lock held). A head already complete in the kernel but
 * not read yet (its event comes later in this round, or in the next) is not slow: it is
 * handed on, not closed. Only a head still incomplete is closed, oldest first, and never one
 * younger than HEAD_GRACE: a client that has just connected may not have had the CPU to send
 * its first bytes yet. While every slot is taken by such young heads, new connections wait
 * in the listen backlog (can_accept), at most HEAD_GRACE. */
static void make_room(hh_gate *g, double now)
{
	struct hh_gate_conn *old;

	while (room_short(g) && (old = oldest_head(g, now - HEAD_GRACE))) {
		on_head(g, old, 0); /* complete: handed on; malformed: answered */
		if (old->state != C_HEAD || old->dead)
			continue;
		g->st.evicted++;
		answer(g, old, 408, "request head too slow: closed to make room", 0);
	}
}

static int from_addr(hh_gate *g, const struct sockaddr_storage *a)
{
	struct hh_gate_conn *c;
	int n = 0;

	/* An answered request is on its way out: not counted, or a client that reconnects as
	 * soon as it has its answer would meet its previous connection still being closed. */
	for (c = g->conns; c; c = c->next)
		n += c->state != C_LINGER && !(c->state == C_MHD && c->answered) &&
		     same_addr(&c->addr, a);
	return n;
}

static int can_accept(hh_gate *g, double now)
{
	return now >= g->pause_until &&
	       (g->n_live < g->o.max_conns || oldest_head(g, now - HEAD_GRACE));
}

/* Accepts what waits, up to a batch (lock held). */
static void accept_some(hh_gate *g, double now)
{
	int i;

	for (i = 0; i < ACCEPT_BATCH && can_accept(g, now); i++) {
		struct hh_gate_conn *c = calloc(1, sizeof(*c));
		struct epoll_event ev = {0};

		if (!c)
			return;
		c->alen = sizeof(c->addr);
		c->fd = accept4(g->o.listen_fd, (struct sockaddr *)&c->addr, &c->alen,
				SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (c->fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM)
				g->pause_until = now + 0.1; /* out of descriptors: breathe */
			free(c);
			return;
		}
		c->id = ++g->next_id;
		c->accepted = now;
		c->state = C_LINGER; /* until counted below */
		c->next = g->conns;
		g->conns = c;
		g->n_linger++;
		if (room_short(g)) /* first: a slow head closed now is not counted below */
			make_room(g, now);
		if (from_addr(g, &c->addr) >= g->o.per_ip) {
			g->st.per_ip++;
			answer(g, c, 503, "too many connections from this address, retry later",
			       10);
			continue;
		}
		g->n_linger--;
		c->state = C_HEAD;
		g->n_head++;
		g->n_live++;
		ev.events = EPOLLIN | EPOLLRDHUP | EPOLLET;
		ev.data.ptr = c;
		if (epoll_ctl(g->ep, EPOLL_CTL_ADD, c->fd, &ev) < 0)
			bury(g, c);
	}
}

/* Hands c on (lock held; released around the callback). */
static void handoff(hh_gate *g, struct hh_gate_conn *c)
{
	unsigned long long id = c->id;
	int fd = c->fd;
	struct sockaddr_storage addr = c->addr;
	socklen_t alen = c->alen;
	struct hh_gate_conn *p;
	int rc;

	epoll_ctl(g->ep, EPOLL_CTL_DEL, fd, NULL);
	g->n_head--;
	c->state = C_PENDING;
	pthread_mutex_unlock(&g->lock);
	rc = g->o.handoff(g->o.ctx, fd, (struct sockaddr *)&addr, alen);
	pthread_mutex_lock(&g->lock);
	if (rc == 0)
		return;
	for (p = g->conns; p; p = p->next) {
		if (p->id == id) { /* refused: the callee closed the socket */
			uncount(g, p);
			unlink_conn(g, p);
			p->dead = 1;
			p->next = g->grave;
			g->grave = p;
			break;
		}
	}
}

/* A HEAD connection is readable (lock held). */
static void on_head(hh_gate *g, struct hh_gate_conn *c, uint32_t events)
{
	hh_reqhead rh;
	ssize_t n;
	int rc;

	n = recv(c->fd, g->buf, g->o.max_head, MSG_PEEK | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0) {
		bury(g, c); /* gone before its head was complete */
		return;
	}
	rc = hh_reqhead_check(g->buf, (size_t)n, &g->lim, &rh);
	if (rc > 0) {
		handoff(g, c);
	} else if (rc < 0) {
		g->st.bad_head++;
		answer(g, c, rh.status, rh.error, 0);
	} else if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
		bury(g, c); /* half-closed with the head incomplete: it will never be */
	}
}

static void on_linger(hh_gate *g, struct hh_gate_conn *c)
{
	char sink[16384];
	ssize_t n;
	int i;

	for (i = 0; i < 16; i++) {
		n = recv(c->fd, sink, sizeof(sink), MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return;
		if (n <= 0 || (c->drained += (size_t)n) > 2 * g->o.max_body + (1u << 20)) {
			bury(g, c);
			return;
		}
	}
}

/* Deadlines (lock held). Returns the milliseconds until the next one (at most 1000). */
static int reap(hh_gate *g, double now)
{
	struct hh_gate_conn *c, *next;
	double next_at = now + 1.0, t;

	for (c = g->conns; c; c = next) {
		next = c->next;
		t = c->state == C_LINGER ? c->until : c->accepted + g->o.deadline;
		if (c->state == C_PENDING && now > c->accepted + g->o.deadline + PENDING_GRACE) {
			uncount(g, c);
			unlink_conn(g, c);
			free(c); /* never in the epoll set: no event can name it */
			continue;
		}
		if ((c->state == C_MHD && (c->answered || c->cut)) || c->state == C_PENDING)
			continue;
		if (now < t) {
			if (t < next_at)
				next_at = t;
			continue;
		}
		if (c->state == C_LINGER) {
			bury(g, c);
		} else if (c->state == C_HEAD) {
			g->st.timed_out++;
			answer(g, c, 408, "request timeout", 0);
		} else {
			g->st.cut++;
			c->cut = 1;
			shutdown(c->fd, SHUT_RDWR); /* libmicrohttpd sees the end and drops it */
		}
	}
	if (g->n_live >= g->o.max_conns && g->n_head > 0 && next_at > now + HEAD_GRACE / 4)
		next_at = now + HEAD_GRACE / 4; /* a young head may become closable (can_accept) */
	if (next_at < g->pause_until)
		next_at = g->pause_until;
	t = (next_at - now) * 1000.0 + 1;
	return t < 1 ? 1 : t > 1000 ? 1000 : (int)t;
}

static void set_listening(hh_gate *g, double now)
{
	struct epoll_event ev = {0};
	int want = can_accept(g, now);

	if (want == g->listening)
		return;
	ev.events = want ? EPOLLIN : 0;
	ev.data.ptr = g;
	if (epoll_ctl(g->ep, EPOLL_CTL_MOD, g->o.listen_fd, &ev) == 0)
		g->listening = want;
}

/* What the gate refused since the last line, at most one line every 10 s (lock held). */
static void log_refusals(hh_gate *g, double now)
{
	char v[5][24];

	if (now - g->logged_at < 10.0 || memcmp(&g->st, &g->logged, sizeof(g->st)) == 0)
		return;
	snprintf(v[0], sizeof(v[0]), "%lu", g->st.per_ip - g->logged.per_ip);
	snprintf(v[1], sizeof(v[1]), "%lu", g->st.evicted - g->logged.evicted);
	snprintf(v[2], sizeof(v[2]), "%lu", g->st.timed_out - g->logged.timed_out);
	snprintf(v[3], sizeof(v[3]), "%lu", g->st.cut - g->logged.cut);
	snprintf(v[4], sizeof(v[4]), "%lu", g->st.bad_head - g->logged.bad_head);
	hh_log(HH_LOG_WARN, "gate.refused", "per_ip", v[0], "evicted", v[1], "timed_out", v[2],
	       "cut", v[3], "bad_head", v[4], NULL);
	g->logged = g->st;
	g->logged_at = now;
}

static void *gate_main(void *arg)
{
	hh_gate *g = arg;
	struct epoll_event evs[64];
	int timeout = 100, n, i;

	for (;;) {
		n = epoll_wait(g->ep, evs, 64, timeout);
		pthread_mutex_lock(&g->lock);
		if (g->stop) {
			pthread_mutex_unlock(&g->lock);
			break;
		}
		for (i = 0; i < n; i++) {
			struct hh_gate_conn *c = evs[i].data.ptr;
			if (evs[i].data.ptr == g || evs[i].data.ptr == &g->ev) {
				uint64_t v;
				if (evs[i].data.ptr == &g->ev && read(g->ev, &v, sizeof(v)) < 0)
					v = 0;
				continue;
			}
			if (c->dead)
				continue;
			if (c->state == C_HEAD)
				on_head(g, c, evs[i].events);
			else if (c->state == C_LINGER)
				on_linger(g, c);
		}
		accept_some(g, now_s());
		timeout = reap(g, now_s());
		set_listening(g, now_s());
		log_refusals(g, now_s());
		while (g->grave) {
			struct hh_gate_conn *c = g->grave;
			g->grave = c->next;
			free(c);
		}
		pthread_mutex_unlock(&g->lock);
	}
	return NULL;
}

int hh_gate_start(hh_gate **out, const hh_gate_opts *opts)
{
	hh_gate *g = calloc(1, sizeof(*g));
	struct epoll_event ev = {0};

	if (!g)
		return hh_error("out of memory");
	g->o = *opts;
	if (g->o.per_ip < 1)
		g->o.per_ip = 1;
	if (g->o.reserve >= g->o.max_conns)
		g->o.reserve = g->o.max_conns - 1;
	g->lim.max_bytes = g->o.max_head;
	g->lim.max_headers = g->o.max_headers;
	g->lim.max_body = g->o.max_body;
	g->ep = epoll_create1(EPOLL_CLOEXEC);
	g->ev = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	g->buf = malloc(g->o.max_head + 1);
	pthread_mutex_init(&g->lock, NULL);
	if (g->ep < 0 || g->ev < 0 || !g->buf) {
		hh_error("cannot start the connection gate: %s", strerror(errno));
		goto fail;
	}
	ev.events = EPOLLIN;
	ev.data.ptr = g;
	if (epoll_ctl(g->ep, EPOLL_CTL_ADD, g->o.listen_fd, &ev) < 0) {
		hh_error("cannot start the connection gate: %s", strerror(errno));
		goto fail;
	}
	g->listening = 1;
	ev.data.ptr = &g->ev;
	/* Published before the thread runs: a connection it hands on at once reaches
	 * libmicrohttpd's notifications, which find the gate through *out. */
	*out = g;
	if (epoll_ctl(g->ep, EPOLL_CTL_ADD, g->ev, &ev) < 0 ||
	    pthread_create(&g->thread, NULL, gate_main, g) != 0) {
		*out = NULL;
		hh_error("cannot start the connection gate: %s", strerror(errno));
		goto fail;
	}
	return 0;
fail:
	if (g->ep >= 0)
		close(g->ep);
	if (g->ev >= 0)
		close(g->ev);
	pthread_mutex_destroy(&g->lock);
	free(g->buf);
	free(g);
	return -1;
}

static void wake(hh_gate *g)
{
	uint64_t one = 1;

	if (write(g->ev, &one, sizeof(one)) < 0)
		return; /* the counter is full: the thread is awake anyway */
}

void hh_gate_stop(hh_gate *g)
{
	struct hh_gate_conn *c, *next;

	if (!g)
		return;
	pthread_mutex_lock(&g->lock);
	g->stop = 1;
	pthread_mutex_unlock(&g->lock);
	wake(g);
	pthread_join(g->thread, NULL);
	pthread_mutex_lock(&g->lock);
	close(g->o.listen_fd);
	g->o.listen_fd = -1;
	for (c = g->conns; c; c = next) {
		next = c->next;
		if (c->state == C_HEAD || c->state == C_LINGER)
			bury(g, c);
	}
	while (g->grave) {
		c = g->grave;
		g->grave = c->next;
		free(c);
	}
	pthread_mutex_unlock(&g->lock);
}

void hh_gate_free(hh_gate *g)
{
	struct hh_gate_conn *c;

	if (!g)
		return;
	while ((c = g->conns)) {
		g->conns = c->next;
		free(c);
	}
	close(g->ep);
	close(g->ev);
	pthread_mutex_destroy(&g->lock);
	free(g->buf);
	free(g);
}

hh_gate_conn *hh_gate_started(hh_gate *g, int fd)
{
	struct hh_gate_conn *c;

	pthread_mutex_lock(&g->lock);
	for (c = g->conns; c; c = c->next) /* newest first */
		if (c->state == C_PENDING && c->fd == fd)
			break;
	if (c)
		c->state = C_MHD;
	pthread_mutex_unlock(&g->lock);
	return c;
}

void hh_gate_closed(hh_gate *g, hh_gate_conn *c)
{
	int paused;

	if (!c)
		return;
	pthread_mutex_lock(&g->lock);
	uncount(g, c);
	unlink_conn(g, c);
	free(c);
	paused = !g->listening;
	pthread_mutex_unlock(&g->lock);
	/* The gate needs to hear of it only when it stopped accepting for want of a slot: woken
	 * for every close, it cost a context switch per request. */
	if (paused)
		wake(g);
}

void hh_gate_answered(hh_gate *g, hh_gate_conn *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&g->lock);
	c->answered = 1;
	pthread_mutex_unlock(&g->lock);
}

void hh_gate_get_stats(hh_gate *g, hh_gate_stats *out)
{
	pthread_mutex_lock(&g->lock);
	*out = g->st;
	pthread_mutex_unlock(&g->lock);
}
