/*
 * limits: the physical limits the intake figures are compared with (bench/limits.py).
 *
 *   limits FIXTURE_JSON DIR SECONDS
 *
 * Prints one JSON object: SHA-256 throughput over 16 KiB buffers with OpenSSL's EVP (run it
 * with OPENSSL_ia32cap=":~0x20000000" for the code without the SHA extensions) and with
 * mbedTLS 2.28 (portable C) and with healhook's own (internal/sha256.c: SHA-NI when the CPU
 * has it, and its portable code), MB/s; the microseconds of one cJSON parse of FIXTURE_JSON and of
 * healhook's whole event parse of it; the milliseconds of one 4 KiB write + fdatasync in DIR
 * (median of 50), the floor of a durable commit.
 */
#include <cjson/cJSON.h>
#include <fcntl.h>
#include <mbedtls/sha256.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal/buf.h"
#include "internal/sha256.h"
#include "webhook/event.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double sha_evp(const unsigned char *buf, size_t len, double secs)
{
	unsigned char d[32];
	unsigned int dn;
	double t0 = now_s(), t;
	long n = 0;

	do {
		EVP_Digest(buf, len, d, &dn, EVP_sha256(), NULL);
		n++;
	} while ((t = now_s() - t0) < secs);
	return (double)n * (double)len / t / 1e6;
}

static double sha_mbedtls(const unsigned char *buf, size_t len, double secs)
{
	unsigned char d[32];
	double t0 = now_s(), t;
	long n = 0;

	do {
		mbedtls_sha256_ret(buf, len, d, 0);
		n++;
	} while ((t = now_s() - t0) < secs);
	return (double)n * (double)len / t / 1e6;
}

static double sha_own(const unsigned char *buf, size_t len, double secs)
{
	unsigned char d[32];
	double t0 = now_s(), t;
	hh_sha256 c;
	long n = 0;

	do {
		hh_sha256_init(&c);
		hh_sha256_update(&c, buf, len);
		hh_sha256_final(&c, d);
		n++;
	} while ((t = now_s() - t0) < secs);
	return (double)n * (double)len / t / 1e6;
}

int main(int argc, char **argv)
{
	static unsigned char buf[16384];
	hh_buf fx = HH_BUF_INIT;
	double secs, t0, cj, ev, fs[50];
	char path[4096];
	long n, i;
	int fd;

	if (argc != 4 || hh_buf_read_file(&fx, argv[1], 1 << 20) < 0) {
		fprintf(stderr, "usage: limits FIXTURE_JSON DIR SECONDS\n");
		return 2;
	}
	secs = atof(argv[3]);
	memset(buf, 'x', sizeof(buf));
	printf("{\"sha256_evp_mb_s\":%.0f,", sha_evp(buf, sizeof(buf), secs));
	printf("\"sha256_mbedtls_mb_s\":%.0f,", sha_mbedtls(buf, sizeof(buf), secs));
	printf("\"sha256_own_best_mb_s\":%.0f,\"sha256_own_uses_shani\":%d,",
	       sha_own(buf, sizeof(buf), secs), hh_sha256_use_portable(0));
	hh_sha256_use_portable(1);
	printf("\"sha256_own_portable_mb_s\":%.0f,", sha_own(buf, sizeof(buf), secs));
	hh_sha256_use_portable(0);
	for (n = 0, t0 = now_s(); now_s() - t0 < secs; n++)
		cJSON_Delete(cJSON_ParseWithLength(fx.ptr, fx.len));
	cj = (now_s() - t0) / (double)n * 1e6;
	for (n = 0, t0 = now_s(); now_s() - t0 < secs; n++) {
		hh_event e = {0};

		hh_event_parse(&e, HH_EV_REVIEW_REJECTED, fx.ptr, fx.len);
		hh_event_release(&e);
	}
	ev = (now_s() - t0) / (double)n * 1e6;
	printf("\"json_bytes\":%zu,\"cjson_parse_us\":%.1f,\"event_parse_us\":%.1f,", fx.len, cj,
	       ev);
	snprintf(path, sizeof(path), "%s/limits-fsync.tmp", argv[2]);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0) {
		perror(path);
		return 1;
	}
	for (i = 0; i < 50; i++) {
		t0 = now_s();
		if (pwrite(fd, buf, 4096, (off_t)(i * 4096)) != 4096 || fdatasync(fd) < 0) {
			perror(path);
			return 1;
		}
		fs[i] = (now_s() - t0) * 1e3;
	}
	close(fd);
	unlink(path);
	qsort(fs, 50, sizeof(fs[0]), cmp_double);
	printf("\"fsync_ms\":%.3f}\n", fs[25]);
	hh_buf_release(&fx);
	return 0;
}
