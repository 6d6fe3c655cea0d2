/*
 * fuzz_signature: hh_sig_check() with hostile header values.
 *
 * Input: "SECRET\nX-GITEA-SIGNATURE\nX-HUB-SIGNATURE-256\nPAYLOAD". A field whose newline is
 * missing is NULL (no secret → skipped; no header). Properties: the verdict is one of the
 * four; a signature computed with hh_hmac_sha256_hex() over the same payload is valid in
 * either header; hh_ct_streq() agrees with strcmp().
 */
#include "fuzz/fuzz.h"
#include "webhook/signature.h"
#include "internal/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data;
	size_t n = size;
	char *secret = fuzz_field(&p, &n);
	char *gitea = secret ? fuzz_field(&p, &n) : NULL;
	char *hub = gitea ? fuzz_field(&p, &n) : NULL;
	enum hh_sig_verdict v;
	char hex[65], hex1[41];

	v = hh_sig_check(secret, p, n, gitea, hub);
	FUZZ_ASSERT(v >= HH_SIG_VALID && v <= HH_SIG_SKIPPED);
	FUZZ_ASSERT(hh_sig_verdict_name(v) != NULL);
	if (!secret)
		FUZZ_ASSERT(v == HH_SIG_SKIPPED);
	if (secret) {
		char *hub256;

		hh_hmac_sha256_hex(secret, p, n, hex);
		FUZZ_ASSERT(hh_sig_check(secret, p, n, hex, NULL) == HH_SIG_VALID);
		FUZZ_ASSERT(hh_sig_check(secret, p, n, hex, hub) == HH_SIG_VALID);
		hub256 = hh_asprintf("sha256=%s", hex);
		FUZZ_ASSERT(hub256 != NULL);
		FUZZ_ASSERT(hh_sig_check(secret, p, n, NULL, hub256) == HH_SIG_VALID);
		FUZZ_ASSERT(hh_sig_check(secret, p, n, "", hub256) == HH_SIG_VALID);
		free(hub256);
		hh_hmac_sha1_hex(secret, p, n, hex1);
		FUZZ_ASSERT(strlen(hex1) == 40);
	}
	if (gitea && hub)
		FUZZ_ASSERT(hh_ct_streq(gitea, hub) == (strcmp(gitea, hub) == 0));
	hh_sha256_hex(data, size, hex);
	FUZZ_ASSERT(strlen(hex) == 64);
	free(secret);
	free(gitea);
	free(hub);
	return 0;
}
