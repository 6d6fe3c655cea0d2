/*
 * gate: the listening socket and the header phase of every connection, in front of
 * libmicrohttpd (server.c hands it the connections the gate lets through).
 *
 * One thread accepts and watches each new connection until its request head (request line and
 * headers) has arrived, reading it with MSG_PEEK so that libmicrohttpd later reads the same
 * bytes. The gate enforces, from accept:
 *   - a total deadline (request-timeout) for the whole connection: in the header phase the
 *     gate closes it (408); afterwards, until the request is answered, it shuts the socket
 *     down under libmicrohttpd, which then drops it. An idle timer that every byte resets is
 *     not enough (a client trickling one byte a second would hold a slot for ever);
 *   - at most per_ip connections from one address (more → 503 at once);
 *   - at most max_conns connections, of which at most max_conns - reserve in the header
 *     phase: a new connection beyond that closes the oldest one still in its header phase
 *     (408), so slow connections never take the last slots;
 *   - the checks of reqhead.h: a refused head gets one JSON answer from the gate.
 * What it refused is logged (event gate.refused, counts), at most one line every 10 s.
 * Every answer of the gate is one complete HTTP/1.1 response with a JSON body and
 * "Connection: close"; the rest of the request is read and discarded for a short while so that
 * the answer is not lost to a reset.
 */
#ifndef HH_GATE_H
#define HH_GATE_H

#include <stddef.h>
#include <sys/socket.h>

typedef struct hh_gate hh_gate;
/* A connection handed on by the gate (opaque; see hh_gate_started). */
typedef struct hh_gate_conn hh_gate_conn;

/* Called on the gate's thread with a connection whose head passed: returns 0 when it took
 * the socket, -1 when it could not (the socket was closed by the callee). */
typedef int (*hh_gate_handoff_fn)(void *ctx, int fd, const struct sockaddr *addr,
				  socklen_t addrlen);

typedef struct hh_gate_opts {
	int listen_fd;   /* bound and listening; the gate owns it from now on */
	int max_conns;   /* connections at once */
	int per_ip;      /* connections at once from one address */
	int reserve;     /* slots header-phase connections never take */
	double deadline; /* seconds from accept */
	size_t max_head; /* request head bytes */
	int max_headers;
	unsigned long long max_body;
	hh_gate_handoff_fn handoff;
	void *ctx;
} hh_gate_opts;

int hh_gate_start(hh_gate **out, const hh_gate_opts *opts);
/* Stops accepting: closes the listening socket and the connections still in the gate (not
 * the handed ones, whose notifications may still come until libmicrohttpd has stopped). */
void hh_gate_stop(hh_gate *g);
/* After libmicrohttpd has stopped: frees the gate. Accepts NULL. */
void hh_gate_free(hh_gate *g);

/* libmicrohttpd's connection notifications: started returns the gate's record of the socket
 * fd (NULL if unknown), to keep as the connection's socket context; closed forgets it. Both
 * may be called from any thread. */
hh_gate_conn *hh_gate_started(hh_gate *g, int fd);
void hh_gate_closed(hh_gate *g, hh_gate_conn *c);
/* The request on c is answered: the deadline no longer cuts it. */
void hh_gate_answered(hh_gate *g, hh_gate_conn *c);

/* Counters since start (for tests and metrics): refused per address, evicted (oldest header
 * phase), timed out in the gate, cut after the header phase, refused heads. */
typedef struct hh_gate_stats {
	unsigned long per_ip, evicted, timed_out, cut, bad_head;
} hh_gate_stats;
void hh_gate_get_stats(hh_gate *g, hh_gate_stats *out);

#endif
