/*
 * fuzz_event: hh_event_parse() over a hostile body (not NUL-terminated), once for every kind.
 * Properties: success means repository.full_name is a non-empty string; numbers are never
 * negative; failure leaves the event released (all NULL).
 */
#include "fuzz/fuzz.h"
#include "webhook/event.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *body = malloc(size ? size : 1);
	int k;

	if (!body)
		abort();
	if (size)
		memcpy(body, data, size);
	for (k = HH_EV_UNKNOWN; k <= HH_EV_PUSH; k++) {
		hh_event ev;

		if (hh_event_parse(&ev, (enum hh_event_kind)k, body, size) == 0) {
			FUZZ_ASSERT(ev.repo && ev.repo[0]);
			FUZZ_ASSERT(ev.pr_number >= 0 && ev.comment_id >= 0);
			FUZZ_ASSERT((int)ev.kind == k);
			FUZZ_ASSERT(hh_event_kind_from_type(hh_event_kind_name(ev.kind)) == ev.kind);
		} else {
			FUZZ_ASSERT(ev.repo == NULL && ev.comment_body == NULL);
		}
		hh_event_release(&ev);
	}
	free(body);
	return 0;
}
