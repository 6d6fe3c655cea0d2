/*
 * store_ops: times the store's hot-path queries on an existing state directory, for the
 * benchmark of cost against history (bench/store1m.py: an empty store against one holding
 * 1 000 000 deliveries and jobs).
 *
 *   store_ops STATE_DIR ITERATIONS
 *
 * Prints one JSON object: the median microseconds of each operation over ITERATIONS calls:
 * the duplicate checks of intake (delivery id or body hash, never seen; a finding's
 * fingerprint), the queue depth, claim (a queued job taken, then put back), a repository's
 * history (hh_store_jobs_recent, 50 jobs) and the job counts of /metrics.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "internal/log.h"
#include "internal/store.h"

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *t, long n)
{
	qsort(t, (size_t)n, sizeof(*t), cmp_double);
	return t[n / 2];
}

static void on_count(void *ctx, enum hh_job_state s, long long n)
{
	(void)s;
	*(long long *)ctx += n;
}

int main(int argc, char **argv)
{
	hh_store *st = NULL;
	long n, i, op;
	double *t;
	static const char *const names[] = {"delivery_known", "fingerprint_active", "queue_depth",
					    "claim", "history_repo", "job_counts"};
	char id[64];

	if (argc != 3 || (n = atol(argv[2])) <= 0) {
		fprintf(stderr, "usage: store_ops STATE_DIR ITERATIONS\n");
		return 2;
	}
	if (hh_store_open(&st, argv[1]) < 0 || !(t = calloc((size_t)n, sizeof(*t)))) {
		fprintf(stderr, "store_ops: %s\n", hh_error_last());
		return 1;
	}
	printf("{");
	for (op = 0; op < 6; op++) {
		for (i = 0; i < n; i++) {
			hh_job j = {0}, *jobs = NULL;
			size_t nj = 0;
			long long c = 0;
			double t0;
			int r = 0;

			snprintf(id, sizeof(id), "never-seen-%ld-%ld", op, i);
			t0 = now_us();
			switch (op) {
			case 0: r = hh_store_delivery_known(st, id, id); break;
			case 1: r = hh_store_fingerprint_active(st, id, 0); break;
			case 2: r = hh_store_queue_depth(st) < 0 ? -1 : 0; break;
			case 3:
				r = hh_store_job_claim(st, NULL, 0, &j);
				if (r == 1) { /* put it back for the next round */
					j.state = HH_JOB_QUEUED;
					r = hh_store_job_update(st, &j) < 0 ? -1 : 0;
				}
				hh_job_release(&j);
				break;
			case 4:
				r = hh_store_jobs_recent(st, "bench/repo-7", 50, &jobs, &nj);
				hh_store_jobs_free(jobs, nj);
				break;
			case 5: r = hh_store_job_counts(st, on_count, &c); break;
			}
			t[i] = now_us() - t0;
			if (r < 0) {
				fprintf(stderr, "store_ops: %s: %s\n", names[op], hh_error_last());
				return 1;
			}
		}
		printf("%s\"%s_us\":%.1f", op ? "," : "", names[op], median(t, n));
	}
	printf("}\n");
	free(t);
	hh_store_close(st);
	return 0;
}
