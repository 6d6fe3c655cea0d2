/*
 * retention: the background pruning of old delivery bodies (state.keep-deliveries), run from
 * serve's lookup thread: hh_retention_tick is called on every poll and does work at most every
 * HH_RETENTION_EVERY_S seconds, a bounded number of batches per call (each batch one short
 * write transaction), continuing on the next calls until nothing older is left.
 */
#ifndef HH_RETENTION_H
#define HH_RETENTION_H

#include "internal/config.h"
#include "internal/store.h"

#define HH_RETENTION_EVERY_S 600

typedef struct hh_retention {
	long long due;    /* next time to look (0 = at once) */
	long long pruned; /* bodies removed so far (for the log) */
} hh_retention;

/* One step; returns the bodies pruned by this call, or -1 (error logged). */
long long hh_retention_tick(hh_retention *r, hh_store *st, const hh_config *cfg, long long now);

#endif
