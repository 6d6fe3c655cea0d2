/*
 * digest: SHA-256 and HMAC-SHA256 with the CPU's SHA extensions (internal/sha256.c) where it
 * has them, else with OpenSSL's libcrypto (its SIMD code is faster than portable C); HMAC-SHA1
 * (libcrypto: only `healhook sign` computes it) and constant-time comparison. See digest.h.
 * libcrypto's implementations are fetched once (a fetch per call is a provider lookup), then
 * shared by all threads (they are read-only).
 */
#include "internal/digest.h"
#include "internal/sha256.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;
static EVP_MAC *hmac_impl;
static EVP_MD *sha256_impl;

/* At exit, before libcrypto's own clean-up (registered earlier, so run later), so that it
 * can free the implementations (leak checkers see nothing left). */
static void release(void)
{
	EVP_MAC_free(hmac_impl);
	EVP_MD_free(sha256_impl);
	hmac_impl = NULL;
	sha256_impl = NULL;
}

static void fetch(void)
{
	hmac_impl = EVP_MAC_fetch(NULL, "HMAC", NULL);
	sha256_impl = EVP_MD_fetch(NULL, "SHA256", NULL);
	atexit(release);
}

static void to_hex(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

/* HMAC with libcrypto's digest ("SHA1", or "SHA256" without SHA-NI) into out (outlen bytes). 0, or
 * -1 (out zeroed: a caller checking a signature refuses on -1, never compares the zeroes). */
static int hmac(const char *digest, const char *key, const void *msg, size_t len,
		unsigned char *out, size_t outlen)
{
	OSSL_PARAM params[2];
	EVP_MAC_CTX *c = NULL;
	size_t n = 0;

	pthread_once(&fetch_once, fetch);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)digest, 0);
	params[1] = OSSL_PARAM_construct_end();
	if (!hmac_impl || !(c = EVP_MAC_CTX_new(hmac_impl)) ||
	    !EVP_MAC_init(c, (const unsigned char *)key, strlen(key), params) ||
	    !EVP_MAC_update(c, msg, len) || !EVP_MAC_final(c, out, &n, outlen) || n != outlen) {
		memset(out, 0, outlen);
		EVP_MAC_CTX_free(c);
		return -1;
	}
	EVP_MAC_CTX_free(c);
	return 0;
}

void hh_hmac_sha256_hex(const char *key, const void *msg, size_t len, char out[65])
{
	unsigned char mac[32];

	hh_hmac_sha256(key, msg, len, mac);
	to_hex(mac, 32, out);
}

void hh_hmac_sha1_hex(const char *key, const void *msg, size_t len, char out[41])
{
	unsigned char mac[20];

	hmac("SHA1", key, msg, len, mac, sizeof(mac));
	to_hex(mac, 20, out);
}

void hh_sha256_hex(const void *msg, size_t len, char out[65])
{
	unsigned char d[32];
	unsigned int n = 0;
	hh_sha256 c;

	if (hh_sha256_has_shani()) {
		hh_sha256_init(&c);
		hh_sha256_update(&c, msg, len);
		hh_sha256_final(&c, d);
	} else {
		pthread_once(&fetch_once, fetch);
		if (!sha256_impl || !EVP_Digest(msg, len, d, &n, sha256_impl, NULL) || n != 32)
			memset(d, 0, sizeof(d));
	}
	to_hex(d, 32, out);
}

int hh_hmac_sha256(const char *key, const void *msg, size_t len, unsigned char out[32])
{
	if (!hh_sha256_has_shani())
		return hmac("SHA256", key, msg, len, out, 32);
	hh_hmac_sha256_raw(key, strlen(key), msg, len, out);
	return 0;
}

void hh_hex32(const unsigned char in[32], char out[65])
{
	to_hex(in, 32, out);
}

int hh_ct_streq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i;
	unsigned char diff = (unsigned char)(la != lb);

	/* Compare over b's length so the time does not depend on where a differs. */
	for (i = 0; i < lb; i++)
		diff |= (unsigned char)(b[i] ^ (i < la ? a[i] : 0));
	return diff == 0;
}
