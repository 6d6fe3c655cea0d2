/*
 * form: see form.h.
 */
#include "webhook/form.h"
#include "internal/log.h"

#include "internal/buf.h"

#include <string.h>

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
					if (fe - s < 3 || (hi = hh_hex_digit(s[1])) < 0 ||
					    (lo = hh_hex_digit(s[2])) < 0)
						return hh_fail(
							HH_EBADINPUT,
							"malformed form body: bad %%-escape");
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
	return hh_fail(HH_EBADINPUT, "malformed form body: no payload field");
}
