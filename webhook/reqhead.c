/*
 * reqhead: see reqhead.h. Lines end with CRLF or a bare LF (as Go and libmicrohttpd accept);
 * a CR anywhere else is refused.
 */
#include "webhook/reqhead.h"

#include <string.h>
#include <strings.h>

struct line {
	const char *p;
	size_t n; /* without the line end */
};

static int refuse(hh_reqhead *out, int status, const char *error)
{
	out->status = status;
	out->error = error;
	return -1;
}

/* RFC 9110 tchar. */
static int is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Finds the end of the head: the offset just after the empty line, or 0 if not there yet. */
static size_t head_end(const char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (p[i] != '\n' || i == 0)
			continue;
		if (p[i - 1] == '\n')
			return i + 1;
		if (p[i - 1] == '\r' && i >= 2 && p[i - 2] == '\n')
			return i + 1;
	}
	return 0;
}

/* The next line of head[*at..end); returns 0 when there is none, -1 for a stray CR. */
static int next_line(const char *p, size_t end, size_t *at, struct line *l)
{
	const char *nl;
	size_t n;

	if (*at >= end)
		return 0;
	nl = memchr(p + *at, '\n', end - *at);
	if (!nl)
		return 0;
	l->p = p + *at;
	n = (size_t)(nl - l->p);
	*at += n + 1;
	if (n && l->p[n - 1] == '\r')
		n--;
	if (memchr(l->p, '\r', n))
		return -1;
	l->n = n;
	return 1;
}

static int check_request_line(const struct line *l, int *http11, hh_reqhead *out)
{
	const char *sp1 = memchr(l->p, ' ', l->n), *sp2, *v, *t;
	size_t i, tn;

	if (!sp1 || sp1 == l->p)
		return refuse(out, 400, "malformed request line");
	for (i = 0; l->p + i < sp1; i++)
		if (!is_tchar((unsigned char)l->p[i]))
			return refuse(out, 400, "malformed request line");
	t = sp1 + 1;
	sp2 = memchr(t, ' ', (size_t)(l->p + l->n - t));
	if (!sp2 || sp2 == t)
		return refuse(out, 400, "malformed request line");
	tn = (size_t)(sp2 - t);
	for (i = 0; i < tn; i++)
		if ((unsigned char)t[i] <= 0x20 || (unsigned char)t[i] == 0x7f)
			return refuse(out, 400, "malformed request line");
	for (i = 0; i + 3 <= tn; i++)
		if (t[i] == '%' && t[i + 1] == '0' && t[i + 2] == '0')
			return refuse(out, 400, "NUL in the request target");
	v = sp2 + 1;
	if ((size_t)(l->p + l->n - v) == 8 && memcmp(v, "HTTP/1.1", 8) == 0)
		*http11 = 1;
	else if ((size_t)(l->p + l->n - v) == 8 && memcmp(v, "HTTP/1.0", 8) == 0)
		*http11 = 0;
	else if ((size_t)(l->p + l->n - v) == 8 && memcmp(v, "HTTP/", 5) == 0 && v[5] >= '0' &&
		 v[5] <= '9' && v[6] == '.' && v[7] >= '0' && v[7] <= '9')
		return refuse(out, 505, "HTTP version not supported");
	else
		return refuse(out, 400, "malformed request line");
	return 0;
}

/* Content-Length: 1*DIGIT after leading blanks, nothing after. *v = the value. */
static int parse_length(const char *p, size_t n, unsigned long long *v, int *overflow)
{
	size_t i = 0;

	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	if (i == n)
		return -1;
	*v = 0;
	*overflow = 0;
	for (; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		if (*v > (~0ULL - 9) / 10)
			*overflow = 1;
		else
			*v = *v * 10 + (unsigned)(p[i] - '0');
	}
	return 0;
}

struct seen {
	int hosts, lengths, te, overflow;
	unsigned long long length;
};

static int check_header(const struct line *l, struct seen *s, const hh_reqhead_limits *lim,
			hh_reqhead *out)
{
	const char *colon, *v;
	size_t i, nn, vn;
	unsigned long long len;
	int overflow;

	if (l->p[0] == ' ' || l->p[0] == '\t')
		return refuse(out, 400, "obsolete line folding in the headers");
	colon = memchr(l->p, ':', l->n);
	if (!colon || colon == l->p)
		return refuse(out, 400, "malformed header line");
	nn = (size_t)(colon - l->p);
	for (i = 0; i < nn; i++)
		if (!is_tchar((unsigned char)l->p[i]))
			return refuse(out, 400, "malformed header name");
	v = colon + 1;
	vn = (size_t)(l->p + l->n - v);
	for (i = 0; i < vn; i++) {
		unsigned char c = (unsigned char)v[i];
		if (c == 0)
			return refuse(out, 400, "NUL byte in a header value");
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return refuse(out, 400, "control character in a header value");
	}
	if (nn == 4 && strncasecmp(l->p, "Host", 4) == 0)
		s->hosts++;
	if (nn == 17 && strncasecmp(l->p, "Transfer-Encoding", 17) == 0)
		s->te = 1;
	if (nn != 14 || strncasecmp(l->p, "Content-Length", 14) != 0)
		return 0;
	if (parse_length(v, vn, &len, &overflow) < 0)
		return refuse(out, 400, "malformed Content-Length");
	if (s->lengths++ && (len != s->length || overflow != s->overflow))
		return refuse(out, 400, "conflicting Content-Length headers");
	s->length = len;
	s->overflow = overflow;
	if (overflow || len > lim->max_body)
		return refuse(out, 413, "body too large");
	return 0;
}

int hh_reqhead_check(const char *p, size_t len, const hh_reqhead_limits *lim, hh_reqhead *out)
{
	struct seen s = {0};
	struct line l;
	size_t end, at = 0;
	int http11 = 0, n = 0, rc;

	memset(out, 0, sizeof(*out));
	end = head_end(p, len);
	if (!end || end > lim->max_bytes)
		return end || len >= lim->max_bytes ? refuse(out, 431, "request headers too large")
						    : 0;
	if ((rc = next_line(p, end, &at, &l)) <= 0 || l.n == 0)
		return refuse(out, 400, "malformed request line");
	if (check_request_line(&l, &http11, out) < 0)
		return -1;
	while ((rc = next_line(p, end, &at, &l)) > 0 && l.n > 0) {
		if (++n > lim->max_headers)
			return refuse(out, 431, "too many headers");
		if (check_header(&l, &s, lim, out) < 0)
			return -1;
	}
	if (rc < 0)
		return refuse(out, 400, "malformed header line");
	if (s.te)
		return refuse(out, 411, "a Content-Length is required");
	if (s.hosts > 1)
		return refuse(out, 400, "more than one Host header");
	if (http11 && s.hosts == 0)
		return refuse(out, 400, "missing Host header");
	out->head_len = end;
	return 1;
}
