/*
 * form: see form.h.
 */
#include "webhook/form.h"
#include "internal/log.h"

#include <string.h>

static int hexv(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int hh_form_payload(const char *body, size_t len, hh_buf *out)
{
	const char *p = body, *end = body + len;

	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *fe = amp ? amp : end;

		if ((size_t)(fe - p) >= 8 && memcmp(p, "payload=", 8) == 0) {
			const char *s;
			for (s = p + 8; s < fe; s++) {
				char c = *s;
				if (c == '+') {
					c = ' ';
				} else if (c == '%') {
					int hi, lo;
					if (fe - s < 3 || (hi = hexv(s[1])) < 0 || (lo = hexv(s[2])) < 0)
						return hh_error("malformed form body: bad %%-escape");
					c = (char)(hi << 4 | lo);
					s += 2;
				}
				if (hh_buf_putc(out, c) < 0)
					return -1;
			}
			if (!out->ptr)
				return hh_buf_put(out, "", 0);
			return 0;
		}
		p = amp ? amp + 1 : end;
	}
	return hh_error("malformed form body: no payload field");
}
