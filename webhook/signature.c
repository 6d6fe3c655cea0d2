/*
 * signature: Gitea's signature headers checked against an HMAC (internal/digest.c). See
 * signature.h.
 */
#include "webhook/signature.h"

#include "internal/buf.h"
#include "internal/digest.h"

#include <openssl/crypto.h>
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

enum hh_sig_verdict hh_sig_check(const char *secret, const void *payload, size_t len,
				 const char *gitea_sig, const char *hub_sig256)
{
	unsigned char want[32];

	if (!secret)
		return HH_SIG_SKIPPED;
	if (hh_hmac_sha256(secret, payload, len, want) < 0)
		return HH_SIG_INVALID;
	return hh_sig_check_mac(want, gitea_sig, hub_sig256);
}

enum hh_sig_verdict hh_sig_check_mac(const unsigned char want[32], const char *gitea_sig,
				     const char *hub_sig256)
{
	unsigned char got[32];
	const char *sig = NULL;

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
	return CRYPTO_memcmp(want, got, sizeof(got)) == 0 ? HH_SIG_VALID : HH_SIG_INVALID;
}
