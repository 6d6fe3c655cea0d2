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

int hh_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	return -1;
}

const char *hh_error_last(void)
{
	return last_error;
}

void hh_error_clear(void)
{
	last_error[0] = '\0';
}
