/*
 * sha256: SHA-256 and HMAC-SHA256 in healhook's own code, with the CPU's SHA extensions where
 * it has them (sha256.c says why not libcrypto). Pure functions; any thread.
 */
#ifndef HH_SHA256_H
#define HH_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct hh_sha256 {
	uint32_t s[8];
	unsigned long long total; /* bytes hashed */
	unsigned char buf[64];
	size_t used; /* bytes in buf */
} hh_sha256;

void hh_sha256_init(hh_sha256 *c);
void hh_sha256_update(hh_sha256 *c, const void *data, size_t len);
/* Writes the digest and wipes c. */
void hh_sha256_final(hh_sha256 *c, unsigned char out[32]);

void hh_hmac_sha256_raw(const void *key, size_t klen, const void *msg, size_t len,
			unsigned char out[32]);

/* 1 when the block function in use is the CPU's SHA extensions. */
int hh_sha256_has_shani(void);

/* For the tests: on = 1 uses the portable block function from now on, 0 the best the CPU
 * has. Returns 1 when the SHA extensions are in use afterwards, else 0. */
int hh_sha256_use_portable(int on);

#endif
