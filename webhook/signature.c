/*
 * signature: HMAC checks with mbedTLS. See signature.h.
 */
#include "webhook/signature.h"

#include "internal/buf.h"

#include <mbedtls/constant_time.h>
#include <mbedtls/md.h>
#include <string.h>

const char *hh_sig_verdict_name(enum hh_sig_verdict v)
{
	switch (v) {
	case HH_SIG_VALID: return "valid";
	case HH_SIG_INVALID: return "invalid";
	case HH_SIG_MISSING: return "missing";
	case HH_SIG_SKIPPED: return "skipped";
	}
	return "invalid";
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

/* Decodes exactly 2*n hex digits; -1 on any other length or a non-hex character. */
static int from_hex(const char *s, unsigned char *out, size_t n)
{
	size_t i;

	if (strlen(s) != 2 * n)
		return -1;
	for (i = 0; i < n; i++) {
		int hi = hh_hex_digit(s[2 * i]), lo = hh_hex_digit(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

static void hmac(mbedtls_md_type_t type, const char *key, const void *msg, size_t len,
		 unsigned char *out)
{
	mbedtls_md_hmac(mbedtls_md_info_from_type(type), (const unsigned char *)key, strlen(key),
			(const unsigned char *)msg, len, out);
}

void hh_hmac_sha256_hex(const char *key, const void *msg, size_t len, char out[65])
{
	unsigned char mac[32];

	hmac(MBEDTLS_MD_SHA256, key, msg, len, mac);
	to_hex(mac, 32, out);
}

void hh_hmac_sha1_hex(const char *key, const void *msg, size_t len, char out[41])
{
	unsigned char mac[20];

	hmac(MBEDTLS_MD_SHA1, key, msg, len, mac);
	to_hex(mac, 20, out);
}

void hh_sha256_hex(const void *msg, size_t len, char out[65])
{
	unsigned char d[32];

	mbedtls_md(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), (const unsigned char *)msg, len, d);
	to_hex(d, 32, out);
}

enum hh_sig_verdict hh_sig_check(const char *secret, const void *payload, size_t len,
				 const char *gitea_sig, const char *hub_sig256)
{
	unsigned char want[32], got[32];
	const char *sig = NULL;

	if (!secret)
		return HH_SIG_SKIPPED;
	if (gitea_sig && *gitea_sig)
		sig = gitea_sig;
	else if (hub_sig256 && strncmp(hub_sig256, "sha256=", 7) == 0 && hub_sig256[7])
		sig = hub_sig256 + 7;
	else if (hub_sig256 && *hub_sig256 && strcmp(hub_sig256, "sha256=") != 0)
		return HH_SIG_INVALID; /* present but not in the sha256= form */
	if (!sig)
		return HH_SIG_MISSING;
	if (from_hex(sig, got, sizeof(got)) < 0)
		return HH_SIG_INVALID;
	hmac(MBEDTLS_MD_SHA256, secret, payload, len, want);
	return mbedtls_ct_memcmp(want, got, sizeof(want)) == 0 ? HH_SIG_VALID : HH_SIG_INVALID;
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
