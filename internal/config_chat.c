/*
 * config_chat: the predecessor's TELEGRAM_CHAT_IDS, which it read with json.loads: a JSON
 * array of chat ids (strings or integers), e.g. ["1001","1002"] or [1001, -1002]. The plain
 * comma-separated form (1001,1002) is accepted too. A chat id is an integer (-100... for
 * channels and groups) or @channelname; anything else is refused, naming the variable.
 */
#include "internal/buf.h"
#include "internal/config_impl.h"
#include "internal/log.h"

#include <ctype.h>
#include <string.h>

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

/* 1 if s[0..n) is a Telegram chat id: -?[0-9]+ or @[A-Za-z0-9_]+. */
static int chat_id_ok(const char *s, size_t n)
{
	size_t i = 0;

	if (n && (s[0] == '-' || s[0] == '@'))
		i = 1;
	if (i >= n)
		return 0;
	for (; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (s[0] == '@' ? !(isalnum(c) || c == '_') : !isdigit(c))
			return 0;
	}
	return 1;
}

static int add(hh_buf *out, const char *s, size_t n, const char *var, const char *v)
{
	if (!chat_id_ok(s, n))
		return hh_error("bad value for %s: '%.*s' is not a chat id (want a JSON array like "
				"[\"1001\",\"1002\"] or 1001,1002; got '%s')",
				var, (int)n, s, v);
	if (out->len && hh_buf_putc(out, ',') < 0)
		return -1;
	return hh_buf_put(out, s, n);
}

/* ["a", 1, ...] → "a,1,...". */
static int parse_json(const char *var, const char *v, hh_buf *out)
{
	const char *p = skip_ws(v) + 1, *s;

	p = skip_ws(p);
	if (*p == ']')
		return *skip_ws(p + 1)
			       ? hh_error("bad value for %s: text after the JSON array", var)
			       : 0;
	for (;;) {
		p = skip_ws(p);
		if (*p == '"') {
			s = ++p;
			while (*p && *p != '"' && *p != '\\')
				p++;
			if (*p != '"')
				return hh_error(
					"bad value for %s: unterminated or escaped string in "
					"'%s'",
					var, v);
			if (add(out, s, (size_t)(p - s), var, v) < 0)
				return -1;
			p++;
		} else {
			s = p;
			while (*p == '-' || isdigit((unsigned char)*p))
				p++;
			if (p == s)
				return hh_error(
					"bad value for %s: not a JSON array of chat ids: '%s'", var,
					v);
			if (add(out, s, (size_t)(p - s), var, v) < 0)
				return -1;
		}
		p = skip_ws(p);
		if (*p == ']')
			break;
		if (*p != ',')
			return hh_error("bad value for %s: not a JSON array of chat ids: '%s'", var,
					v);
		p++;
	}
	if (*skip_ws(p + 1))
		return hh_error("bad value for %s: text after the JSON array", var);
	return 0;
}

int hh_cfg_chat_ids(const char *var, const char *v, hh_buf *out)
{
	const char *p = skip_ws(v), *s, *e;

	if (*p == '[')
		return parse_json(var, v, out);
	while (*p) {
		s = skip_ws(p);
		p = strchr(s, ',');
		if (!p)
			p = s + strlen(s);
		e = p;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (add(out, s, (size_t)(e - s), var, v) < 0)
			return -1;
		if (*p)
			p++;
	}
	if (!out->len)
		return hh_error("bad value for %s: no chat id in '%s'", var, v);
	return 0;
}
