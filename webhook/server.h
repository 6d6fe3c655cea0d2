/*
 * server: healhook's HTTP face on libmicrohttpd (MHD types stay in server.c).
 *
 *   POST /hooks/gitea   a delivery → intake (see intake.h) → JSON answer
 *   GET  /healthz       {"status":"ok"}, or 503 {"status":"unavailable","error"} (the store)
 *   GET  /metrics       Prometheus text
 *
 * Every connection passes the gate first (gate.h: its own listening socket, the header phase,
 * the deadline from accept, per-address and total connection limits, the request head checked
 * by reqhead.h and refused there in JSON); libmicrohttpd gets it with MHD_add_connection and
 * serves one request on it ("Connection: close" on every answer).
 * Limits: body server.max-body (413 from Content-Length before the body is read; a body
 * without Content-Length → 411; a byte counter drops a connection that sends more than it
 * announced), header count server.max-headers (431) and header size (32 KiB → 431),
 * a total deadline per connection (server.request-timeout, from accept), at most
 * server.max-connections connections and server.max-connections-per-ip from one address.
 * Before a delivery is answered, the store must still be the file it opened (503 otherwise,
 * see hh_store_check); GET /healthz is 503 when the store is lost or cannot write.
 * Requests are served by a small thread pool, so a slow client or a slow store
 * write never holds up the others. Each pool thread has its own store handle.
 */
#ifndef HH_SERVER_H
#define HH_SERVER_H

#include "internal/config.h"

typedef struct hh_server hh_server;

typedef struct hh_server_opts {
	const hh_config *cfg;
	const char *listen;     /* ADDR:PORT (IPv4, or [v6]:port); port 0 picks one */
	const char *record_dir; /* save every delivery there (NAME.json|body + NAME.headers) */
	int threads;            /* pool size, 0 = 4 */
} hh_server_opts;

int hh_server_start(hh_server **out, const hh_server_opts *opts);
/* The bound port. */
int hh_server_port(const hh_server *s);
/* Stops accepting, lets in-flight requests finish (up to grace_ms), then stops. */
void hh_server_stop(hh_server *s, long grace_ms);

#endif
