/*
 * fuzz_reqhead: hh_reqhead_check() over arbitrary bytes, as the gate peeks them.
 * Properties: the answer is 1, 0 or -1; a refusal carries a status of 400, 411, 413, 431 or 505
 * and a message; an accepted head ends with an empty line inside the input, and every prefix
 * of the input shorter than the head is "more needed" or refused, never accepted.
 */
#include "fuzz/fuzz.h"
#include "webhook/reqhead.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const hh_reqhead_limits lim = {4096, 20, 1 << 20};
	char *p = malloc(size ? size : 1);
	hh_reqhead rh, rh2;
	int rc;

	if (!p)
		abort();
	if (size)
		memcpy(p, data, size);
	rc = hh_reqhead_check(p, size, &lim, &rh);
	FUZZ_ASSERT(rc >= -1 && rc <= 1);
	if (rc < 0) {
		FUZZ_ASSERT(rh.error && *rh.error);
		FUZZ_ASSERT(rh.status == 400 || rh.status == 411 || rh.status == 413 ||
			    rh.status == 431 || rh.status == 505);
	}
	if (rc > 0) {
		FUZZ_ASSERT(rh.head_len >= 2 && rh.head_len <= size && rh.head_len <= lim.max_bytes);
		FUZZ_ASSERT(p[rh.head_len - 1] == '\n');
		FUZZ_ASSERT(hh_reqhead_check(p, rh.head_len - 1, &lim, &rh2) != 1);
	}
	free(p);
	return 0;
}
