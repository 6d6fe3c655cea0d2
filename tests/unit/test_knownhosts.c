/* Unit tests of the one host-key policy (internal/knownhosts.c): one table of names, keys
 * and verdicts, and the messages of the file check. */
#include "tests/unit/t.h"
#include "internal/buf.h"
#include "internal/knownhosts.h"
#include "internal/log.h"

#include <mbedtls/base64.h>
#include <mbedtls/md.h>
#include <stdlib.h>
#include <unistd.h>

static const char k1[] = "\0\0\0\x0bssh-ed25519 key-one-bytes";
static const char k2[] = "\0\0\0\x0bssh-ed25519 key-two-bytes";

static void kh_line(hh_buf *b, const char *names, const void *key, size_t len)
{
	unsigned char enc[512];
	size_t n = 0;

	mbedtls_base64_encode(enc, sizeof(enc), &n, key, len);
	enc[n] = '\0';
	hh_buf_printf(b, "%s ssh-ed25519 %s\n", names, enc);
}

static void hashed_name(hh_buf *b, const char *name)
{
	const unsigned char salt[20] = "0123456789abcdefghij";
	unsigned char mac[20], s64[64], h64[64];
	size_t sn = 0, hn = 0;

	mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA1), salt, sizeof(salt),
			(const unsigned char *)name, strlen(name), mac);
	mbedtls_base64_encode(s64, sizeof(s64), &sn, salt, sizeof(salt));
	mbedtls_base64_encode(h64, sizeof(h64), &hn, mac, sizeof(mac));
	s64[sn] = h64[hn] = '\0';
	hh_buf_printf(b, "|1|%s|%s", s64, h64);
}

/* The known_hosts content every row of the table is matched against. */
static void sample(hh_buf *kh)
{
	hh_buf name = HH_BUF_INIT;

	hh_buf_puts(kh, "# comment\n\n");
	kh_line(kh, "git.example.test,alias", k1, sizeof(k1));
	kh_line(kh, "[127.0.0.1]:2222", k1, sizeof(k1));
	hashed_name(&name, "[hashed.test]:2200");
	kh_line(kh, name.ptr, k2, sizeof(k2));
	kh_line(kh, "*.wild.test,!bad.wild.test", k2, sizeof(k2));
	kh_line(kh, "@revoked revoked.test", k1, sizeof(k1));
	kh_line(kh, "revoked.test", k1, sizeof(k1));
	hh_buf_puts(kh, "@cert-authority * ssh-ed25519 AAAA\n");
	hh_buf_puts(kh, "broken-line-without-key\n");
	hh_buf_puts(kh, "trailing.test ssh-ed25519 !!!not-base64!!!\n");
	hh_buf_release(&name);
}

TEST(known_hosts_table)
{
	static const struct {
		const char *host;
		int port;
		int key; /* 1: k1, 2: k2 */
		int want;
	} rows[] = {
		{"git.example.test", 22, 1, HH_HOSTKEY_MATCH},
		{"alias", 22, 1, HH_HOSTKEY_MATCH},
		{"GIT.example.test", 22, 1, HH_HOSTKEY_MATCH},  /* names are case-insensitive */
		{"git.example.test", 0, 1, HH_HOSTKEY_MATCH},   /* port 0 = the default port */
		{"git.example.test", 22, 2, HH_HOSTKEY_CHANGED},
		/* A port-less entry does not match another port (stricter than libssh2). */
		{"git.example.test", 2222, 1, HH_HOSTKEY_UNKNOWN},
		{"127.0.0.1", 2222, 1, HH_HOSTKEY_MATCH},
		{"127.0.0.1", 22, 1, HH_HOSTKEY_UNKNOWN},
		{"127.0.0.1", 2222, 2, HH_HOSTKEY_CHANGED},
		{"hashed.test", 2200, 2, HH_HOSTKEY_MATCH},
		{"hashed.test", 2200, 1, HH_HOSTKEY_CHANGED},
		{"hashed.test", 22, 2, HH_HOSTKEY_UNKNOWN},
		{"a.wild.test", 22, 2, HH_HOSTKEY_MATCH},
		{"bad.wild.test", 22, 2, HH_HOSTKEY_UNKNOWN},   /* negation wins */
		{"revoked.test", 22, 1, HH_HOSTKEY_CHANGED},    /* @revoked beats a plain line */
		{"trailing.test", 22, 1, HH_HOSTKEY_UNKNOWN},   /* undecodable key: line ignored */
		{"unknown.test", 22, 1, HH_HOSTKEY_UNKNOWN},
	};
	hh_buf kh = HH_BUF_INIT;
	size_t i;

	sample(&kh);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *k = rows[i].key == 1 ? k1 : k2;
		int got = hh_known_hosts_match(kh.ptr, rows[i].host, rows[i].port, k, sizeof(k1));

		if (got != rows[i].want)
			fprintf(stderr, "      row %zu (%s:%d): got %d, want %d\n", i, rows[i].host,
				rows[i].port, got, rows[i].want);
		CHECK(got == rows[i].want);
	}
	CHECK(hh_known_hosts_match("", "git.example.test", 22, k1, sizeof(k1)) ==
	      HH_HOSTKEY_UNKNOWN);
	hh_buf_release(&kh);
}

TEST(known_hosts_check_messages)
{
	char path[] = "/tmp/hh-kh-XXXXXX";
	int fd = mkstemp(path), v = 99;
	hh_buf kh = HH_BUF_INIT, fp = HH_BUF_INIT, want = HH_BUF_INIT;

	REQUIRE(fd >= 0);
	sample(&kh);
	CHECK(write(fd, kh.ptr, kh.len) == (ssize_t)kh.len);
	close(fd);
	CHECK(hh_known_hosts_check(path, "127.0.0.1", 2222, k1, sizeof(k1), &v) == 0);
	CHECK(v == HH_HOSTKEY_MATCH);

	CHECK(hh_host_key_fingerprint(&fp, k2, sizeof(k2)) == 0);
	CHECK(strncmp(fp.ptr, "SHA256:", 7) == 0 && fp.len == 7 + 43); /* unpadded base64 */
	CHECK(hh_known_hosts_check(path, "127.0.0.1", 2222, k2, sizeof(k2), &v) ==
	      HH_EHOSTKEY_CHANGED);
	CHECK(v == HH_HOSTKEY_CHANGED);
	CHECK(hh_error_code() == HH_EHOSTKEY_CHANGED);
	CHECK_STR(hh_error_detail(), fp.ptr);
	hh_buf_printf(&want, "host key for [127.0.0.1]:2222 does not match the one in %s (%s)",
		      path, fp.ptr);
	CHECK_STR(hh_error_last(), want.ptr);

	hh_buf_clear(&want);
	CHECK(hh_known_hosts_check(path, "new.test", 22, k2, sizeof(k2), &v) ==
	      HH_EHOSTKEY_UNKNOWN);
	CHECK(v == HH_HOSTKEY_UNKNOWN);
	CHECK_STR(hh_error_detail(), fp.ptr);
	hh_buf_printf(&want, "host key for new.test is not in %s (%s)", path, fp.ptr);
	CHECK_STR(hh_error_last(), want.ptr);

	unlink(path);
	CHECK(hh_known_hosts_check(path, "new.test", 22, k2, sizeof(k2), &v) == HH_EKNOWNHOSTS);
	CHECK(v == -1);
	CHECK_STR(hh_error_detail(), "");
	CHECK(strstr(hh_error_last(), "cannot read known hosts file") != NULL);
	hh_buf_release(&kh);
	hh_buf_release(&fp);
	hh_buf_release(&want);
}
