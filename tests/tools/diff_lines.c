/*
 * diff_lines: times hh_mirror_diff_lines, the diff count of a heal (bench/diffcount.py).
 *
 *   diff_lines MIRROR BASE_SHA PATH NEW_CONTENT_FILE ITERATIONS
 *
 * Opens the bare mirror once, then counts the lines PATH at BASE_SHA would change if it became
 * the content of NEW_CONTENT_FILE, ITERATIONS times. Prints "added deleted first_us median_us":
 * the first call (cold: the tree and blob are read from disk) and the median of the others.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "internal/buf.h"
#include "internal/gitops.h"
#include "internal/log.h"

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

int main(int argc, char **argv)
{
	hh_mirror *m = NULL;
	hh_buf content = HH_BUF_INIT;
	double *t = NULL;
	long added = 0, deleted = 0, i, n;
	char chunk[65536];
	size_t got;
	FILE *f;
	int rc = 1;

	if (argc != 6 || (n = atol(argv[5])) < 1) {
		fprintf(stderr, "usage: diff_lines MIRROR BASE_SHA PATH NEW_CONTENT_FILE ITERATIONS\n");
		return 2;
	}
	if (!(f = fopen(argv[4], "rb"))) {
		perror(argv[4]);
		return 1;
	}
	while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
		hh_buf_put(&content, chunk, got);
	fclose(f);
	if (!(t = calloc((size_t)n, sizeof(*t))) || hh_mirror_open(&m, argv[1]) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		double t0 = now_us();

		if (hh_mirror_diff_lines(m, argv[2], argv[3], content.ptr ? content.ptr : "",
					 content.len, &added, &deleted) < 0)
			goto out;
		t[i] = now_us() - t0;
	}
	printf("%ld %ld %.1f ", added, deleted, t[0]);
	if (n > 1)
		qsort(t + 1, (size_t)(n - 1), sizeof(*t), cmp_double);
	printf("%.1f\n", n > 1 ? t[1 + (n - 1) / 2] : t[0]);
	rc = 0;
out:
	if (rc)
		fprintf(stderr, "error: %s\n", hh_error_last());
	hh_mirror_close(m);
	hh_buf_release(&content);
	free(t);
	return rc;
}
