/*
 * headers: request headers as an ordered list of owned name/value pairs, from a live request
 * or from a saved delivery's NAME.headers file ("Name: value" a line, in Gitea's order).
 * Lookups are case-insensitive. At most HH_MAX_HEADERS lines are accepted from a file.
 */
#ifndef HH_HEADERS_H
#define HH_HEADERS_H

#include <stddef.h>

#include "internal/buf.h"

#define HH_MAX_HEADERS 100

typedef struct hh_header {
	char *name;
	char *value;
} hh_header;

typedef struct hh_headers {
	hh_header *v;
	size_t n;
} hh_headers;

int hh_headers_add(hh_headers *h, const char *name, const char *value);
/* The first value of name, or NULL. */
const char *hh_headers_get(const hh_headers *h, const char *name);
/* Parses "Name: value" lines (CRLF or LF). Blank lines are skipped; a line without ':' is an
 * error naming its number. */
int hh_headers_parse(hh_headers *h, const char *text, size_t len);
/* Appends "Name: value\n" lines; the Authorization value is written as "[redacted]". */
int hh_headers_format(const hh_headers *h, hh_buf *out);
void hh_headers_release(hh_headers *h);

#endif
