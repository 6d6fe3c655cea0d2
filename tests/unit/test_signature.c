/*
 * Signature checks: known vectors, each way a signature can be wrong, the shared samples
 * (when ../shared/gitea-samples exists), form decoding and header files.
 */
#include "tests/unit/t.h"
#include "internal/buf.h"
#include "internal/error.h"
#include "internal/sha256.h"
#include "webhook/form.h"
#include "webhook/headers.h"
#include "webhook/signature.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define BODY "{\"a\":1}"
#define SIG "32db719f172c48e89dbfa56ed20d9e19cdbfdbe9f652ccdf5fa03494d2444853"

TEST(sig_vectors)
{
	char h[65], h1[41];

	hh_hmac_sha256_hex("k3y", BODY, 7, h);
	CHECK_STR(h, SIG);
	hh_hmac_sha1_hex("k3y", BODY, 7, h1);
	CHECK_STR(h1, "8087b323e95441bc1dc2079aa5beb153605d5394");
	hh_sha256_hex("abc", 3, h);
	CHECK_STR(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void hex(const unsigned char *d, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

/* FIPS 180-4's examples (one block, two blocks, a million 'a's) and RFC 4231's HMAC cases
 * 1, 2 and 6 (a 131-byte key: hashed first), on the portable block function and on the SHA
 * extensions (where the CPU has them). */
static void sha_vectors(void)
{
	static const char two[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	unsigned char d[32], key[131];
	char h[65], thousand[1000];
	hh_sha256 c;
	int i;

	hh_sha256_hex("abc", 3, h);
	CHECK_STR(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	hh_sha256_hex("", 0, h);
	CHECK_STR(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	hh_sha256_hex(two, strlen(two), h);
	CHECK_STR(h, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	memset(thousand, 'a', sizeof(thousand));
	hh_sha256_init(&c);
	for (i = 0; i < 1000; i++)
		hh_sha256_update(&c, thousand, sizeof(thousand));
	hh_sha256_final(&c, d);
	hex(d, 32, h);
	CHECK_STR(h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	memset(key, 0x0b, 20);
	hh_hmac_sha256_raw(key, 20, "Hi There", 8, d);
	hex(d, 32, h);
	CHECK_STR(h, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
	hh_hmac_sha256_raw("Jefe", 4, "what do ya want for nothing?", 28, d);
	hex(d, 32, h);
	CHECK_STR(h, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	memset(key, 0xaa, sizeof(key));
	hh_hmac_sha256_raw(key, sizeof(key),
			   "Test Using Larger Than Block-Size Key - Hash Key First", 54, d);
	hex(d, 32, h);
	CHECK_STR(h, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

/* Every length from 0 to 300 and some larger, fed whole and in uneven pieces, against
 * libcrypto's SHA-256 and HMAC (random bytes and keys of 0 to 100 bytes). */
static void sha_against_libcrypto(void)
{
	static unsigned char msg[5000];
	unsigned char d[32], want[32], key[100];
	unsigned int wn;
	size_t len, i, k;
	hh_sha256 c;
	int bad = 0;

	srand(12);
	for (i = 0; i < sizeof(msg); i++)
		msg[i] = (unsigned char)rand();
	for (len = 0; len < sizeof(msg); len += len < 300 ? 1 : 97) {
		k = (size_t)rand() % sizeof(key);
		for (i = 0; i < k; i++)
			key[i] = (unsigned char)rand();
		EVP_Digest(msg, len, want, &wn, EVP_sha256(), NULL);
		hh_sha256_init(&c);
		for (i = 0; i < len;) { /* pieces of 1 to 130 bytes */
			size_t n = 1 + (size_t)rand() % 130;
			n = n > len - i ? len - i : n;
			hh_sha256_update(&c, msg + i, n);
			i += n;
		}
		hh_sha256_final(&c, d);
		bad += memcmp(d, want, 32) != 0;
		HMAC(EVP_sha256(), key, (int)k, msg, len, want, &wn);
		hh_hmac_sha256_raw(key, k, msg, len, d);
		bad += memcmp(d, want, 32) != 0;
	}
	CHECK(bad == 0);
}

TEST(sha256_both_block_functions)
{
	hh_sha256_use_portable(1);
	sha_vectors();
	sha_against_libcrypto();
	if (hh_sha256_use_portable(0)) { /* this CPU has the SHA extensions */
		sha_vectors();
		sha_against_libcrypto();
	}
}

TEST(sig_check_verdicts)
{
	char upper[65], flipped[65];
	size_t i;

	CHECK(hh_sig_check("k3y", BODY, 7, SIG, NULL) == HH_SIG_VALID);
	CHECK(hh_sig_check("k3y", BODY, 7, NULL, "sha256=" SIG) == HH_SIG_VALID);
	CHECK(hh_sig_check("k3y", BODY, 7, "", "sha256=" SIG) == HH_SIG_VALID);
	for (i = 0; i < 64; i++)
		upper[i] = (char)(SIG[i] >= 'a' && SIG[i] <= 'f' ? SIG[i] - 32 : SIG[i]);
	upper[64] = '\0';
	CHECK(hh_sig_check("k3y", BODY, 7, upper, NULL) == HH_SIG_VALID);
	memcpy(flipped, SIG, 65);
	flipped[10] = flipped[10] == '0' ? '1' : '0';
	CHECK(hh_sig_check("k3y", BODY, 7, flipped, NULL) == HH_SIG_INVALID);
	CHECK(hh_sig_check("k3y", "{\"a\":2}", 7, SIG, NULL) == HH_SIG_INVALID);
	CHECK(hh_sig_check("other", BODY, 7, SIG, NULL) == HH_SIG_INVALID);
	CHECK(hh_sig_check("k3y", BODY, 7, SIG "00", NULL) == HH_SIG_INVALID);
	CHECK(hh_sig_check("k3y", BODY, 7, "zz", NULL) == HH_SIG_INVALID);
	CHECK(hh_sig_check("k3y", BODY, 7, NULL, "sha1=" SIG) == HH_SIG_INVALID);
	CHECK(hh_sig_check("k3y", BODY, 7, NULL, NULL) == HH_SIG_MISSING);
	CHECK(hh_sig_check("k3y", BODY, 7, "", "sha256=") == HH_SIG_MISSING);
	CHECK(hh_sig_check("k3y", BODY, 7, "", "") == HH_SIG_MISSING);
	CHECK(hh_sig_check(NULL, BODY, 7, NULL, NULL) == HH_SIG_SKIPPED);
	CHECK_STR(hh_sig_verdict_name(HH_SIG_MISSING), "missing");
}

TEST(sig_ct_streq)
{
	CHECK(hh_ct_streq("Bearer abc", "Bearer abc"));
	CHECK(!hh_ct_streq("Bearer abd", "Bearer abc"));
	CHECK(!hh_ct_streq("Bearer ab", "Bearer abc"));
	CHECK(!hh_ct_streq("Bearer abcd", "Bearer abc"));
	CHECK(!hh_ct_streq("", "x"));
	CHECK(hh_ct_streq("", ""));
}

TEST(form_payload)
{
	hh_buf b = HH_BUF_INIT;

	CHECK(hh_form_payload("payload=%7B%22a%22%3A+1%7D", 26, &b) == 0);
	CHECK_STR(b.ptr, "{\"a\": 1}");
	hh_buf_release(&b);
	CHECK(hh_form_payload("x=1&payload=ab%2b", 17, &b) == 0);
	CHECK_STR(b.ptr, "ab+");
	hh_buf_release(&b);
	CHECK(hh_form_payload("payload=", 8, &b) == 0);
	CHECK_STR(b.ptr, "");
	hh_buf_release(&b);
	CHECK(hh_form_payload("payload=%zz", 11, &b) == HH_EBADINPUT);
	hh_buf_release(&b);
	CHECK(hh_form_payload("payload=%4", 10, &b) == HH_EBADINPUT);
	hh_buf_release(&b);
	CHECK(hh_form_payload("other=1", 7, &b) == HH_EBADINPUT);
	hh_buf_release(&b);
}

TEST(headers_parse_and_format)
{
	const char *text = "Content-Type: application/json\r\nX-Gitea-Event: push\n\n"
			   "Authorization: Bearer s3cret\nX-Empty:\n";
	hh_headers h = {0};
	hh_buf out = HH_BUF_INIT;

	REQUIRE(hh_headers_parse(&h, text, strlen(text)) == 0);
	CHECK(h.n == 4);
	CHECK_STR(hh_headers_get(&h, "content-type"), "application/json");
	CHECK_STR(hh_headers_get(&h, "X-GITEA-EVENT"), "push");
	CHECK_STR(hh_headers_get(&h, "X-Empty"), "");
	CHECK(hh_headers_get(&h, "X-Missing") == NULL);
	hh_headers_format(&h, &out);
	CHECK(strstr(out.ptr, "s3cret") == NULL);
	CHECK(strstr(out.ptr, "Authorization: [redacted]") != NULL);
	hh_buf_release(&out);
	hh_headers_release(&h);
	CHECK(hh_headers_parse(&h, "no colon here\n", 14) == -1);
	hh_headers_release(&h);
}

/* Verifies NAME.json (or .body) of a saved delivery with its own headers and secret. */
static int verify_saved(const char *dir, const char *name, const char *ext, const char *secret)
{
	hh_buf body = HH_BUF_INIT, ht = HH_BUF_INIT, payload = HH_BUF_INIT;
	hh_headers h = {0};
	char path[512];
	int v = -1;

	snprintf(path, sizeof(path), "%s/%s.%s", dir, name, ext);
	if (hh_buf_read_file(&body, path, 0) < 0)
		goto out;
	snprintf(path, sizeof(path), "%s/%s.headers", dir, name);
	if (hh_buf_read_file(&ht, path, 0) < 0 || hh_headers_parse(&h, ht.ptr, ht.len) < 0)
		goto out;
	if (strcmp(ext, "body") == 0) {
		if (hh_form_payload(body.ptr, body.len, &payload) < 0)
			goto out;
	} else {
		hh_buf_put(&payload, body.ptr, body.len);
	}
	v = (int)hh_sig_check(secret, payload.ptr, payload.len,
			      hh_headers_get(&h, "X-Gitea-Signature"),
			      hh_headers_get(&h, "X-Hub-Signature-256"));
	/* Content-Length must be the byte count of the body as sent. */
	if (hh_headers_get(&h, "Content-Length") &&
	    strtoul(hh_headers_get(&h, "Content-Length"), NULL, 10) != body.len)
		v = -2;
out:
	hh_buf_release(&body);
	hh_buf_release(&ht);
	hh_buf_release(&payload);
	hh_headers_release(&h);
	return v;
}

TEST(sig_shared_samples)
{
	const char *dir = "../shared/gitea-samples";
	const char *names[] = {"review_rejected", "review_approved", "review_comment",
			       "issue_comment_pr", "push"};
	struct stat st;
	size_t i;

	if (stat(dir, &st) != 0) {
		printf("    (skipped: %s not present)\n", dir);
		return;
	}
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		CHECK(verify_saved(dir, names[i], "json", "sample-secret-2b9c") == HH_SIG_VALID);
		CHECK(verify_saved(dir, names[i], "json", "wrong-secret") == HH_SIG_INVALID);
	}
	CHECK(verify_saved(dir, "review_rejected_form", "body", "sample-secret-2b9c") ==
	      HH_SIG_VALID);
}
