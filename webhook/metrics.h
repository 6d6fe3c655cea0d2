/*
 * metrics: process-wide counters rendered in Prometheus' text format (names prefixed
 * healhook_). Fixed label sets, so counting is a lock-free atomic add with no allocation.
 */
#ifndef HH_METRICS_H
#define HH_METRICS_H

#include "internal/buf.h"
#include "internal/store.h"
#include "webhook/event.h"

enum hh_delivery_verdict {
	HH_DV_ACCEPTED = 0, /* at least one job queued (or a lookup pending) */
	HH_DV_NO_FIX,       /* parsed, nothing to fix */
	HH_DV_IGNORED,      /* event type not acted on */
	HH_DV_DUPLICATE,
	HH_DV_UNAUTHORIZED, /* 401 */
	HH_DV_BAD_REQUEST,  /* 400, 411, 415, 431 */
	HH_DV_TOO_LARGE,    /* 413 */
	HH_DV_UNAVAILABLE,  /* 503 */
	HH_DV_ERROR,        /* 500 */
	HH_DV_COUNT
};

void hh_metrics_delivery(enum hh_event_kind kind, enum hh_delivery_verdict v);
/* reason NULL = accepted. */
void hh_metrics_finding(const char *reason);
void hh_metrics_request_duration(double seconds);
/* Appends the exposition text; job counts come from st (may be NULL). */
int hh_metrics_render(hh_buf *out, hh_store *st);

#endif
