/*
 * buf: growable buffers and small string helpers. See buf.h for the contract.
 */
#include "internal/buf.h"
#include "internal/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int hh_buf_grow(hh_buf *b, size_t extra)
{
	size_t need, cap;
	char *p;

	if (b->failed)
		return -1;
	if (extra > ((size_t)-1) / 2 - b->len - 1) {
		b->failed = 1;
		return hh_error("buffer too large");
	}
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap *= 2;
	p = realloc(b->ptr, cap);
	if (!p) {
		b->failed = 1;
		return hh_error("out of memory");
	}
	b->ptr = p;
	b->cap = cap;
	return 0;
}

int hh_buf_put(hh_buf *b, const void *data, size_t len)
{
	if (hh_buf_grow(b, len) < 0)
		return -1;
	if (len)
		memcpy(b->ptr + b->len, data, len);
	b->len += len;
	b->ptr[b->len] = '\0';
	return 0;
}

int hh_buf_puts(hh_buf *b, const char *s)
{
	return hh_buf_put(b, s, strlen(s));
}

int hh_buf_putc(hh_buf *b, char c)
{
	return hh_buf_put(b, &c, 1);
}

int hh_buf_vprintf(hh_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	if (b->failed)
		return -1;
	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0) {
		b->failed = 1;
		return hh_error("bad format");
	}
	if (hh_buf_grow(b, (size_t)n) < 0)
		return -1;
	vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int hh_buf_printf(hh_buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = hh_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

int hh_buf_put_json_str(hh_buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t start = 0, i;

	for (i = 0; p[i]; i++) {
		unsigned char c = p[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		if (hh_buf_put(b, s + start, i - start) < 0)
			return -1;
		switch (c) {
		case '"':
			if (hh_buf_puts(b, "\\\"") < 0)
				return -1;
			break;
		case '\\':
			if (hh_buf_puts(b, "\\\\") < 0)
				return -1;
			break;
		case '\n':
			if (hh_buf_puts(b, "\\n") < 0)
				return -1;
			break;
		case '\r':
			if (hh_buf_puts(b, "\\r") < 0)
				return -1;
			break;
		case '\t':
			if (hh_buf_puts(b, "\\t") < 0)
				return -1;
			break;
		default:
			if (hh_buf_printf(b, "\\u%04x", c) < 0)
				return -1;
			break;
		}
		start = i + 1;
	}
	return hh_buf_put(b, s + start, i - start);
}

void hh_buf_clear(hh_buf *b)
{
	b->len = 0;
	b->failed = 0;
	if (b->ptr)
		b->ptr[0] = '\0';
}

void hh_buf_release(hh_buf *b)
{
	if (!b)
		return;
	free(b->ptr);
	b->ptr = NULL;
	b->len = b->cap = 0;
	b->failed = 0;
}

int hh_buf_failed(const hh_buf *b)
{
	return b->failed;
}

int hh_buf_fail(hh_buf *b)
{
	b->failed = 1;
	return hh_error("out of memory");
}

char *hh_buf_detach(hh_buf *b)
{
	char *p = b->ptr;

	if (b->failed) {
		hh_buf_release(b);
		return NULL;
	}
	if (!p)
		p = hh_strdup("");
	b->ptr = NULL;
	b->len = b->cap = 0;
	return p;
}

int hh_buf_read_fd(hh_buf *b, int fd, size_t max, const char *name)
{
	char chunk[65536];
	size_t total = 0;
	ssize_t n;

	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return hh_error("cannot read '%s': %s", name, strerror(errno));
		if (n == 0)
			break;
		total += (size_t)n;
		if (max && total > max) {
			b->failed = 1;
			return hh_error("'%s' is larger than %zu bytes", name, max);
		}
		if (hh_buf_put(b, chunk, (size_t)n) < 0)
			return -1;
	}
	if (!b->ptr)
		return hh_buf_put(b, "", 0);
	return 0;
}

int hh_buf_read_file(hh_buf *b, const char *path, size_t max)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

	if (fd < 0)
		return hh_error("cannot open '%s': %s", path, strerror(errno));
	rc = hh_buf_read_fd(b, fd, max, path);
	close(fd);
	return rc;
}

int hh_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *hh_strdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

char *hh_strndup(const char *s, size_t n)
{
	return s ? strndup(s, n) : NULL;
}

char *hh_asprintf(const char *fmt, ...)
{
	hh_buf b = HH_BUF_INIT;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = hh_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (rc < 0) {
		hh_buf_release(&b);
		return NULL;
	}
	return hh_buf_detach(&b);
}

int hh_strv_push(hh_strv *sv, const char *s)
{
	char **v = realloc(sv->v, (sv->n + 2) * sizeof(*v));

	if (!v)
		return hh_error("out of memory");
	sv->v = v;
	v[sv->n] = hh_strdup(s);
	if (!v[sv->n])
		return hh_error("out of memory");
	v[++sv->n] = NULL;
	return 0;
}

void hh_strv_release(hh_strv *sv)
{
	size_t i;

	if (!sv)
		return;
	for (i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = 0;
}

int hh_strv_contains(const hh_strv *sv, const char *s)
{
	size_t i;

	for (i = 0; i < sv->n; i++)
		if (strcmp(sv->v[i], s) == 0)
			return 1;
	return 0;
}

int hh_utf8_valid(const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t i = 0, n, k;
	unsigned long c;

	while (i < len) {
		if (p[i] < 0x80) {
			uint64_t w;
			/* ASCII, most of a body: eight bytes at a time */
			while (len - i >= 8 && (memcpy(&w, p + i, 8), !(w & 0x8080808080808080ull)))
				i += 8;
			if (i < len && p[i] < 0x80)
				i++;
			continue;
		}
		if (p[i] >= 0xc2 && p[i] <= 0xdf)
			n = 1, c = p[i] & 0x1f;
		else if (p[i] >= 0xe0 && p[i] <= 0xef)
			n = 2, c = p[i] & 0x0f;
		else if (p[i] >= 0xf0 && p[i] <= 0xf4)
			n = 3, c = p[i] & 0x07;
		else
			return 0;
		if (len - i <= n)
			return 0;
		for (k = 1; k <= n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return 0;
			c = (c << 6) | (p[i + k] & 0x3f);
		}
		if ((n == 2 && c < 0x800) || (n == 3 && c < 0x10000) || c > 0x10ffff ||
		    (c >= 0xd800 && c <= 0xdfff))
			return 0;
		i += n + 1;
	}
	return 1;
}
