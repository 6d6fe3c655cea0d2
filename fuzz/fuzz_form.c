/*
 * fuzz_form: hh_form_payload() over a hostile form body (not NUL-terminated).
 * Properties: on success the decoded payload is a C string no longer than the body; on
 * failure nothing is left to free beyond the buffer.
 */
#include "fuzz/fuzz.h"
#include "webhook/form.h"
#include "internal/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A copy with no spare byte after it, so that reading past the end is caught. */
	char *body = malloc(size ? size : 1);
	hh_buf out = HH_BUF_INIT;

	if (!body)
		abort();
	if (size)
		memcpy(body, data, size);
	if (hh_form_payload(body, size, &out) == 0) {
		FUZZ_ASSERT(out.ptr != NULL);
		FUZZ_ASSERT(out.len + 8 <= size);
		FUZZ_ASSERT(out.ptr[out.len] == '\0');
	}
	hh_buf_release(&out);
	free(body);
	return 0;
}
