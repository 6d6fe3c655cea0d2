/*
 * retention: see retention.h.
 */
#include "internal/retention.h"
#include "internal/log.h"

#include <stdio.h>

#define BATCH 500
#define BATCHES_PER_TICK 20

long long hh_retention_tick(hh_retention *r, hh_store *st, const hh_config *cfg, long long now)
{
	long long n = 0, got = 0;
	int i;

	if (cfg->keep_deliveries <= 0 || now < r->due)
		return 0;
	for (i = 0; i < BATCHES_PER_TICK; i++) {
		got = hh_store_prune_deliveries(st, now - cfg->keep_deliveries, BATCH);
		if (got < 0) {
			hh_log(HH_LOG_WARN, "retention.failed", "error", hh_error_last(), NULL);
			r->due = now + 60;
			return -1;
		}
		n += got;
		if (got < BATCH)
			break;
	}
	r->pruned += n;
	if (got < BATCH) { /* done until the next round */
		char b[24];

		r->due = now + HH_RETENTION_EVERY_S;
		if (r->pruned) {
			snprintf(b, sizeof(b), "%lld", r->pruned);
			hh_log(HH_LOG_INFO, "retention.pruned", "bodies", b, NULL);
		}
		r->pruned = 0;
	}
	return n;
}
