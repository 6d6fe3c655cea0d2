/*
 * headers: see headers.h.
 */
#include "webhook/headers.h"
#include "internal/log.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

int hh_headers_add(hh_headers *h, const char *name, const char *value)
{
	hh_header *v;

	if (h->n >= HH_MAX_HEADERS)
		return hh_error("too many headers (max %d)", HH_MAX_HEADERS);
	v = realloc(h->v, (h->n + 1) * sizeof(*v));
	if (!v)
		return hh_error("out of memory");
	h->v = v;
	v[h->n].name = hh_strdup(name);
	v[h->n].value = hh_strdup(value ? value : "");
	if (!v[h->n].name || !v[h->n].value) {
		free(v[h->n].name);
		free(v[h->n].value);
		return hh_error("out of memory");
	}
	h->n++;
	return 0;
}

const char *hh_headers_get(const hh_headers *h, const char *name)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		if (strcasecmp(h->v[i].name, name) == 0)
			return h->v[i].value;
	return NULL;
}

static void trim(const char **s, const char **e)
{
	while (*s < *e && (**s == ' ' || **s == '\t'))
		(*s)++;
	while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t' || (*e)[-1] == '\r'))
		(*e)--;
}

int hh_headers_parse(hh_headers *h, const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	int lineno = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end, *colon, *ns, *ne, *vs, *ve;
		char *name, *value;
		int rc;

		lineno++;
		ns = p;
		ne = le;
		trim(&ns, &ne);
		p = nl ? nl + 1 : end;
		if (ns == ne)
			continue;
		colon = memchr(ns, ':', (size_t)(ne - ns));
		if (!colon || colon == ns)
			return hh_error("headers line %d: expected 'Name: value'", lineno);
		vs = colon + 1;
		ve = ne;
		ne = colon;
		trim(&ns, &ne);
		trim(&vs, &ve);
		/* A name of blanks and CRs alone ("\r: x") trims to nothing. */
		if (ns == ne)
			return hh_error("headers line %d: expected 'Name: value'", lineno);
		name = hh_strndup(ns, (size_t)(ne - ns));
		value = hh_strndup(vs, (size_t)(ve - vs));
		rc = name && value ? hh_headers_add(h, name, value) : hh_error("out of memory");
		free(name);
		free(value);
		if (rc < 0)
			return -1;
	}
	return 0;
}

int hh_headers_format(const hh_headers *h, hh_buf *out)
{
	size_t i;

	for (i = 0; i < h->n; i++) {
		const char *v = h->v[i].value;
		if (strcasecmp(h->v[i].name, "Authorization") == 0)
			v = "[redacted]";
		if (hh_buf_printf(out, "%s: %s\n", h->v[i].name, v) < 0)
			return -1;
	}
	return 0;
}

void hh_headers_release(hh_headers *h)
{
	size_t i;

	if (!h)
		return;
	for (i = 0; i < h->n; i++) {
		free(h->v[i].name);
		free(h->v[i].value);
	}
	free(h->v);
	h->v = NULL;
	h->n = 0;
}
