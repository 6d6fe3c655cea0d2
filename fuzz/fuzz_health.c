/*
 * fuzz_health: hh_health_judge() over a hostile health answer.
 * Input: "VERSION-FIELD\nBODY" (no newline: the whole input is the body, no field). The body
 * is judged as a 200 and as a 500 answer. Properties: the answer is one of the judged kinds;
 * a 500 is never OK.
 */
#include "fuzz/fuzz.h"
#include "internal/health.h"

#define SHA "0123456789abcdef0123456789abcdef01234567"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data;
	size_t n = size;
	char *field = fuzz_field(&p, &n);
	char *body = malloc(n ? n : 1);
	enum hh_health_answer a;

	if (!body)
		abort();
	if (n)
		memcpy(body, p, n);
	a = hh_health_judge(200, body, n, field, SHA);
	FUZZ_ASSERT(a == HH_HEALTH_OK || a == HH_HEALTH_BAD || a == HH_HEALTH_OLD);
	a = hh_health_judge(500, body, n, field, SHA);
	FUZZ_ASSERT(a == HH_HEALTH_BAD || a == HH_HEALTH_OLD);
	a = hh_health_judge(200, body, n, "version", SHA);
	FUZZ_ASSERT(a != HH_HEALTH_NO_ANSWER);
	free(field);
	free(body);
	return 0;
}
