/*
 * fuzz_headers: hh_headers_parse() over a hostile NAME.headers file.
 * Properties: at most HH_MAX_HEADERS headers; every name is non-empty; hh_headers_get()
 * finds each name; a NUL-free input that parses is parsed again to the same list from
 * hh_headers_format()'s output (Authorization values aside, which are redacted).
 */
#include "fuzz/fuzz.h"
#include "webhook/headers.h"
#include "internal/buf.h"

#include <strings.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size ? size : 1);
	hh_headers h = {NULL, 0}, h2 = {NULL, 0};
	hh_buf out = HH_BUF_INIT;
	size_t i;

	if (!text)
		abort();
	if (size)
		memcpy(text, data, size);
	if (hh_headers_parse(&h, text, size) == 0) {
		FUZZ_ASSERT(h.n <= HH_MAX_HEADERS);
		for (i = 0; i < h.n; i++) {
			FUZZ_ASSERT(h.v[i].name && h.v[i].value);
			FUZZ_ASSERT(hh_headers_get(&h, h.v[i].name) != NULL);
		}
		hh_headers_get(&h, "X-Gitea-Signature");
		FUZZ_ASSERT(hh_headers_format(&h, &out) == 0);
		if (!memchr(text, '\0', size)) {
			FUZZ_ASSERT(hh_headers_parse(&h2, out.ptr ? out.ptr : "", out.len) == 0);
			FUZZ_ASSERT(h2.n == h.n);
			for (i = 0; i < h.n; i++) {
				FUZZ_ASSERT(strcmp(h.v[i].name, h2.v[i].name) == 0);
				if (strcasecmp(h.v[i].name, "Authorization") != 0)
					FUZZ_ASSERT(strcmp(h.v[i].value, h2.v[i].value) == 0);
			}
		}
	}
	hh_headers_release(&h);
	hh_headers_release(&h2);
	hh_buf_release(&out);
	free(text);
	return 0;
}
