/*
 * config_parse.c: the small value parsers of the configuration (durations, sizes, booleans,
 * unsigned numbers) and argv templates (fixer.command, check). Pure: no I/O.
 */
#include "internal/buf.h"
#include "internal/config.h"
#include "internal/config_impl.h"
#include "internal/log.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- small parsers ------------------------------------------------------------------------ */

int hh_cfg_parse_ulong(const char *s, unsigned long long *out, const char **end)
{
	unsigned long long v = 0;

	if (!isdigit((unsigned char)*s))
		return -1;
	for (; isdigit((unsigned char)*s); s++) {
		if (v > (ULLONG_MAX - 9) / 10)
			return -1;
		v = v * 10 + (unsigned)(*s - '0');
	}
	*out = v;
	*end = s;
	return 0;
}

int hh_parse_duration(const char *s, long *out)
{
	unsigned long long v, mul = 1;
	const char *end;

	if (!s || hh_cfg_parse_ulong(s, &v, &end) < 0)
		return -1;
	if (*end == 'm')
		mul = 60;
	else if (*end == 'h')
		mul = 3600;
	else if (*end == 'd')
		mul = 86400;
	else if (*end && *end != 's')
		return -1;
	if (*end && end[1])
		return -1;
	if (v > (unsigned long long)LONG_MAX / mul)
		return -1;
	*out = (long)(v * mul);
	return 0;
}

int hh_parse_size(const char *s, size_t *out)
{
	unsigned long long v, mul = 1;
	const char *end;

	if (!s || hh_cfg_parse_ulong(s, &v, &end) < 0)
		return -1;
	if (*end == 'k' || *end == 'K')
		mul = 1024ULL;
	else if (*end == 'm' || *end == 'M')
		mul = 1024ULL * 1024;
	else if (*end == 'g' || *end == 'G')
		mul = 1024ULL * 1024 * 1024;
	else if (*end)
		return -1;
	if (*end && end[1])
		return -1;
	if (v > (unsigned long long)SIZE_MAX / mul)
		return -1;
	*out = (size_t)(v * mul);
	return 0;
}

int hh_parse_bool(const char *s, int *out)
{
	static const char *yes[] = {"true", "yes", "on", "1"}, *no[] = {"false", "no", "off", "0"};
	size_t i;

	if (!s)
		return -1;
	for (i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return *out = 1, 0;
		if (strcasecmp(s, no[i]) == 0)
			return *out = 0, 0;
	}
	return -1;
}

/* ---- argv templates ----------------------------------------------------------------------- */

static int put_word(hh_strv *out, hh_buf *w, const char *const *vars)
{
	hh_buf x = HH_BUF_INIT;
	const char *p = w->ptr ? w->ptr : "";
	size_t i;
	int rc = -1;

	while (*p) {
		int hit = 0;

		if (*p == '{' && vars) {
			for (i = 0; vars[i] && vars[i + 1]; i += 2) {
				size_t n = strlen(vars[i]);

				if (strncmp(p + 1, vars[i], n) == 0 && p[1 + n] == '}') {
					if (hh_buf_puts(&x, vars[i + 1]) < 0)
						goto out;
					p += n + 2;
					hit = 1;
					break;
				}
			}
		}
		if (!hit && hh_buf_putc(&x, *p++) < 0)
			goto out;
	}
	rc = hh_strv_push(out, x.ptr ? x.ptr : "");
out:
	hh_buf_release(&x);
	return rc;
}

int hh_argv_template(hh_strv *out, const char *tmpl, const char *const *vars)
{
	hh_buf w = HH_BUF_INIT;
	const char *p = tmpl;
	int inword = 0, rc = -1;

	while (1) {
		if (*p == '\0' || *p == ' ' || *p == '\t' || *p == '\n') {
			if (inword && put_word(out, &w, vars) < 0)
				goto out;
			inword = 0;
			hh_buf_clear(&w);
			if (!*p++)
				break;
			continue;
		}
		inword = 1;
		if (*p != '"') {
			if (hh_buf_putc(&w, *p++) < 0)
				goto out;
			continue;
		}
		for (p++; *p != '"'; p++) {
			if (!*p) {
				hh_error("unterminated quote in '%s'", tmpl);
				goto out;
			}
			if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
				p++;
			if (hh_buf_putc(&w, *p) < 0)
				goto out;
		}
		if (hh_buf_grow(&w, 0) < 0)
			goto out;
		w.ptr[w.len] = '\0';
		p++;
	}
	if (!out->n) {
		hh_error("empty command");
		goto out;
	}
	rc = 0;
out:
	hh_buf_release(&w);
	if (rc < 0)
		hh_strv_release(out);
	return rc;
}
