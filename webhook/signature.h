/*
 * signature: Gitea's webhook signatures, checked over the raw payload bytes in constant time.
 *
 * X-Gitea-Signature is the lowercase hex HMAC-SHA256(secret, payload) without a prefix;
 * X-Hub-Signature-256 is "sha256=" + the same hex. The first non-empty one is used. For the
 * form content type the payload is the decoded `payload` field (see form.h), never the form
 * body. Pure functions: no clock, environment, disk or network.
 */
#ifndef HH_SIGNATURE_H
#define HH_SIGNATURE_H

#include "internal/digest.h"

#include <stddef.h>

enum hh_sig_verdict {
	HH_SIG_VALID = 0,
	HH_SIG_INVALID, /* a signature was given and does not match (or is not 64 hex digits) */
	HH_SIG_MISSING, /* no usable signature header (absent or empty) */
	HH_SIG_SKIPPED, /* no secret configured, or verification turned off */
};

/* "valid", "invalid", "missing", "skipped". */
const char *hh_sig_verdict_name(enum hh_sig_verdict v);

/*
 * Checks the signature headers (either may be NULL) against payload. secret == NULL →
 * HH_SIG_SKIPPED. The comparison is constant-time over the 32 decoded bytes.
 */
enum hh_sig_verdict hh_sig_check(const char *secret, const void *payload, size_t len,
				 const char *gitea_sig, const char *hub_sig256);

/*
 * The same check against a MAC already computed (hh_hmac_sha256 of the payload), so that the
 * one pass over the payload that computes it can also name the delivery (intake.c). Constant
 * time over the 32 bytes.
 */
enum hh_sig_verdict hh_sig_check_mac(const unsigned char mac[32], const char *gitea_sig,
				     const char *hub_sig256);
#endif
