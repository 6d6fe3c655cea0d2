/*
 * log: see log.h. Lines are assembled in a buffer and written with one write(2) so that
 * lines from several threads or processes never interleave.
 */
#include "internal/log.h"
#include "internal/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static enum hh_log_level log_level = HH_LOG_INFO;
static enum hh_log_format log_format = HH_LOG_TEXT;
static _Thread_local char last_error[1024];

void hh_log_init(enum hh_log_level level, enum hh_log_format format)
{
	log_level = level;
	log_format = format;
}

int hh_log_level_parse(const char *s)
{
	static const char *names[] = {"error", "warn", "info", "debug"};
	int i;

	for (i = 0; i < 4; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

static int needs_quotes(const char *v)
{
	if (!*v)
		return 1;
	for (; *v; v++)
		if ((unsigned char)*v <= ' ' || *v == '"' || *v == '=' || *v == '\\')
			return 1;
	return 0;
}

void hh_log(enum hh_log_level level, const char *event, ...)
{
	static const char *names[] = {"error", "warn", "info", "debug"};
	hh_buf b = HH_BUF_INIT;
	char ts[32];
	struct tm tm;
	time_t now = time(NULL);
	const char *k, *v;
	va_list ap;

	if (level > log_level)
		return;
	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (log_format == HH_LOG_JSON)
		hh_buf_printf(&b, "{\"ts\":\"%s\",\"level\":\"%s\",\"event\":\"", ts, names[level]);
	else
		hh_buf_printf(&b, "ts=%s level=%s event=", ts, names[level]);
	hh_buf_put_json_str(&b, event);
	if (log_format == HH_LOG_JSON)
		hh_buf_putc(&b, '"');
	va_start(ap, event);
	while ((k = va_arg(ap, const char *)) != NULL) {
		v = va_arg(ap, const char *);
		if (!v)
			continue; /* absent values are left out */
		if (log_format == HH_LOG_JSON) {
			hh_buf_puts(&b, ",\"");
			hh_buf_put_json_str(&b, k);
			hh_buf_puts(&b, "\":\"");
			hh_buf_put_json_str(&b, v);
			hh_buf_putc(&b, '"');
		} else {
			hh_buf_printf(&b, " %s=", k);
			if (needs_quotes(v)) {
				hh_buf_putc(&b, '"');
				hh_buf_put_json_str(&b, v);
				hh_buf_putc(&b, '"');
			} else {
				hh_buf_puts(&b, v);
			}
		}
	}
	va_end(ap);
	hh_buf_puts(&b, log_format == HH_LOG_JSON ? "}\n" : "\n");
	if (b.ptr) {
		ssize_t w = write(STDERR_FILENO, b.ptr, b.len);
		(void)w;
	}
	hh_buf_release(&b);
}

static _Thread_local enum hh_err last_code;
static _Thread_local char last_detail[128];

/* Records the message and the code (HH_ERR for anything not a failure code). */
static int record(enum hh_err code, const char *fmt, va_list ap)
{
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	last_code = code < 0 ? code : HH_ERR;
	last_detail[0] = '\0';
	return last_code;
}

int hh_error(const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = record(HH_ERR, fmt, ap);
	va_end(ap);
	return rc;
}

int hh_fail(enum hh_err code, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = record(code, fmt, ap);
	va_end(ap);
	return rc;
}

int hh_error_wrap(const char *fmt, ...)
{
	char before[sizeof(last_error)];
	size_t n, m;
	va_list ap;

	memcpy(before, last_error, sizeof(before));
	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	n = strlen(last_error);
	if (before[0] && n + 2 < sizeof(last_error)) {
		memcpy(last_error + n, ": ", 2);
		n += 2;
		m = strnlen(before, sizeof(last_error) - 1 - n);
		memcpy(last_error + n, before, m);
		last_error[n + m] = '\0';
	}
	if (last_code == HH_OK)
		last_code = HH_ERR;
	return last_code;
}

const char *hh_error_last(void)
{
	return last_error;
}

enum hh_err hh_error_code(void)
{
	return last_code;
}

const char *hh_error_detail(void)
{
	return last_detail;
}

void hh_error_set_detail(const char *detail)
{
	snprintf(last_detail, sizeof(last_detail), "%s", detail ? detail : "");
}

const char *hh_error_name(enum hh_err code)
{
	switch (code) {
	case HH_OK: return "ok";
	case HH_ERR: return "error";
	case HH_EBUSY: return "busy";
	case HH_EMEDIATYPE: return "media-type";
	case HH_EBADINPUT: return "bad-input";
	case HH_ENOTFOUND: return "not-found";
	case HH_ECONFIG: return "config";
	case HH_EKEYFILE: return "key-file";
	case HH_ECONNECT: return "connect";
	case HH_EHANDSHAKE: return "handshake";
	case HH_EKNOWNHOSTS: return "known-hosts";
	case HH_EHOSTKEY_UNKNOWN: return "host-key-unknown";
	case HH_EHOSTKEY_CHANGED: return "host-key-changed";
	case HH_EAUTH: return "auth";
	case HH_ENOSFTP: return "no-sftp";
	case HH_EREJECTED: return "rejected";
	case HH_ENOTINSTALLED: return "not-installed";
	case HH_EAGAIN: return "again";
	}
	return "error";
}

void hh_error_clear(void)
{
	last_error[0] = '\0';
	last_detail[0] = '\0';
	last_code = HH_OK;
}
