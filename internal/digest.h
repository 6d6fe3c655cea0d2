/*
 * digest: SHA-256 and HMAC over bytes (sha256.c where the CPU has SHA-NI, else OpenSSL's
 * libcrypto; HMAC-SHA1 from libcrypto), hex encoding, and constant-time string comparison.
 * Pure functions, safe from any thread.
 */
#ifndef HH_DIGEST_H
#define HH_DIGEST_H

#include <stddef.h>

/* 0, or -1 when libcrypto failed (then no signature may be taken as valid). */
int hh_hmac_sha256(const char *key, const void *msg, size_t len, unsigned char out[32]);
void hh_hex32(const unsigned char in[32], char out[65]);

/* Hex digests (out gets a NUL-terminated lowercase hex string). */
void hh_hmac_sha256_hex(const char *key, const void *msg, size_t len, char out[65]);
void hh_hmac_sha1_hex(const char *key, const void *msg, size_t len, char out[41]);
void hh_sha256_hex(const void *msg, size_t len, char out[65]);

/* Constant-time string equality (time depends only on the lengths). 1 if equal. */
int hh_ct_streq(const char *a, const char *b);

#endif
