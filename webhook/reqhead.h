/*
 * reqhead: the head of an HTTP/1.x request (request line and header lines, up to the empty
 * line) checked byte by byte before libmicrohttpd reads it (see gate.h).
 *
 * It is stricter than libmicrohttpd 0.9.75 wherever that library would answer by itself (with
 * an HTML page, twice for a bad Content-Length) or read a request differently from Go (Gitea)
 * or a proxy in front, so that every refusal is healhook's own JSON answer:
 *   400  malformed request line or header line, a header name that is not a token, obsolete
 *        line folding, a NUL or other control character in a value, a malformed Content-Length
 *        (`+N`, hex, negative, lists, blanks around it), two different Content-Length values,
 *        HTTP/1.1 without Host or with two, "%00" in the target
 *   411  any Transfer-Encoding (healhook reads only bodies with a Content-Length)
 *   413  a Content-Length above the body limit (or too large for 64 bits)
 *   431  a head longer than max_bytes, or more than max_headers header lines
 *   505  a version other than HTTP/1.0 or HTTP/1.1
 * Pure function: no I/O, no allocation.
 */
#ifndef HH_REQHEAD_H
#define HH_REQHEAD_H

#include <stddef.h>

typedef struct hh_reqhead_limits {
	size_t max_bytes;            /* the whole head, request line included */
	int max_headers;             /* header lines */
	unsigned long long max_body; /* largest Content-Length accepted */
} hh_reqhead_limits;

typedef struct hh_reqhead {
	int status;        /* when refused: the HTTP status to answer */
	const char *error; /* when refused: a static message */
	size_t head_len;   /* when complete: bytes up to and including the empty line */
} hh_reqhead;

/* Checks p[0..len), what has arrived so far. Returns 1 when the head is complete and
 * acceptable, 0 when more bytes are needed, -1 when refused (status and error set). */
int hh_reqhead_check(const char *p, size_t len, const hh_reqhead_limits *lim, hh_reqhead *out);

#endif
