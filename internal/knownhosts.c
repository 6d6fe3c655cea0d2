/*
 * knownhosts.c: the one known_hosts parser and host-key check (see knownhosts.h).
 *
 * The parser is pure and table-tested (tests/unit/test_knownhosts.c); hh_known_hosts_check
 * adds the file read and the messages that doctor and the logs show, with the fingerprint in
 * OpenSSH's form so that a person can compare it with `ssh-keygen -lf`.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <mbedtls/base64.h>
#include <mbedtls/md.h>
#include <mbedtls/sha256.h>

#include "internal/knownhosts.h"
#include "internal/log.h"

#define KNOWN_HOSTS_MAX (1 << 20)

static int b64_decode(unsigned char *out, size_t cap, size_t *n, const char *s, size_t len)
{
	return mbedtls_base64_decode(out, cap, n, (const unsigned char *)s, len) == 0 ? 0 : -1;
}

/* Hashed name "|1|salt|hash": HMAC-SHA1(salt, name) == hash. */
static int hashed_match(const char *pat, size_t len, const char *name)
{
	unsigned char salt[64], hash[64], mac[20];
	size_t sn, hn;
	const char *bar;

	if (len < 4 || memcmp(pat, "|1|", 3) != 0)
		return 0;
	bar = memchr(pat + 3, '|', len - 3);
	if (!bar || b64_decode(salt, sizeof(salt), &sn, pat + 3, (size_t)(bar - pat - 3)) < 0 ||
	    b64_decode(hash, sizeof(hash), &hn, bar + 1, (size_t)(pat + len - bar - 1)) < 0 ||
	    hn != sizeof(mac))
		return 0;
	if (mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA1), salt, sn,
			    (const unsigned char *)name, strlen(name), mac) != 0)
		return 0;
	return memcmp(mac, hash, sizeof(mac)) == 0;
}

/* OpenSSH's host patterns: '*' and '?' only (no brackets: "[host]:port" is literal), any case. */
static int glob_match(const char *pat, const char *s)
{
	for (; *pat; pat++, s++) {
		if (*pat == '*') {
			for (;; s++) {
				if (glob_match(pat + 1, s))
					return 1;
				if (!*s)
					return 0;
			}
		}
		if (!*s ||
		    (*pat != '?' && tolower((unsigned char)*pat) != tolower((unsigned char)*s)))
			return 0;
	}
	return !*s;
}

/* 1 if the comma-separated patterns name name (a negated match wins). */
static int host_listed(const char *pats, size_t len, const char *name)
{
	char pat[512];
	size_t i = 0, j;
	int hit = 0;

	while (i < len) {
		for (j = i; j < len && pats[j] != ','; j++)
			;
		if (pats[i] == '|') {
			hit |= hashed_match(pats + i, j - i, name);
		} else if (j - i > 0 && j - i < sizeof(pat)) {
			int neg = pats[i] == '!';

			memcpy(pat, pats + i + neg, j - i - neg);
			pat[j - i - neg] = '\0';
			if (glob_match(pat, name)) {
				if (neg)
					return 0;
				hit = 1;
			}
		}
		i = j + 1;
	}
	return hit;
}

int hh_known_hosts_match(const char *text, const char *host, int port, const void *key,
			 size_t key_len)
{
	char name[300];
	unsigned char blob[4096];
	const char *line = text, *end, *f[4];
	size_t flen[4], bn;
	int found = 0, listed = 0;

	if (port == 22 || port <= 0)
		snprintf(name, sizeof(name), "%s", host);
	else
		snprintf(name, sizeof(name), "[%s]:%d", host, port);
	for (; line && *line; line = *end ? end + 1 : end) {
		const char *p = line;
		int nf = 0, revoked = 0;

		end = strchr(line, '\n');
		if (!end)
			end = line + strlen(line);
		/* Split into at most 4 whitespace-separated fields. */
		while (p < end && nf < 4) {
			while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
				p++;
			if (p >= end || *p == '#')
				break;
			f[nf] = p;
			while (p < end && *p != ' ' && *p != '\t' && *p != '\r')
				p++;
			flen[nf] = (size_t)(p - f[nf]);
			nf++;
		}
		if (nf > 0 && f[0][0] == '@') {
			if (flen[0] == 8 && memcmp(f[0], "@revoked", 8) == 0)
				revoked = 1;
			else
				continue; /* @cert-authority: not supported, ignored */
			memmove(f, f + 1, 3 * sizeof(*f));
			memmove(flen, flen + 1, 3 * sizeof(*flen));
			nf--;
		}
		if (nf < 3 || !host_listed(f[0], flen[0], name))
			continue;
		if (b64_decode(blob, sizeof(blob), &bn, f[2], flen[2]) < 0)
			continue;
		if (bn == key_len && memcmp(blob, key, key_len) == 0) {
			if (revoked)
				return HH_HOSTKEY_CHANGED;
			found = 1;
		} else if (!revoked) {
			listed = 1;
		}
	}
	return found ? HH_HOSTKEY_MATCH : listed ? HH_HOSTKEY_CHANGED : HH_HOSTKEY_UNKNOWN;
}

int hh_known_hosts_name(hh_buf *out, const char *host, int port)
{
	if (port == 22 || port <= 0)
		return hh_buf_puts(out, host);
	return hh_buf_printf(out, "[%s]:%d", host, port);
}

int hh_host_key_fingerprint(hh_buf *out, const void *key, size_t key_len)
{
	unsigned char hash[32], b64[64];
	size_t n = 0;

	if (mbedtls_sha256_ret(key, key_len, hash, 0) != 0 ||
	    mbedtls_base64_encode(b64, sizeof(b64), &n, hash, sizeof(hash)) != 0)
		return hh_error("cannot compute a host key fingerprint");
	while (n > 0 && b64[n - 1] == '=')
		n--;
	if (hh_buf_puts(out, "SHA256:") < 0)
		return -1;
	return hh_buf_put(out, b64, n);
}

int hh_known_hosts_check(const char *path, const char *host, int port, const void *key,
			 size_t key_len, int *verdict)
{
	hh_buf text = HH_BUF_INIT, name = HH_BUF_INIT, fp = HH_BUF_INIT;
	int v = -1, rc = -1;

	if (access(path, R_OK) < 0) {
		rc = hh_fail(HH_EKNOWNHOSTS, "cannot read known hosts file '%s': %s", path,
			     strerror(errno));
		goto out;
	}
	if (hh_buf_read_file(&text, path, KNOWN_HOSTS_MAX) < 0)
		goto out;
	v = hh_known_hosts_match(text.ptr ? text.ptr : "", host, port, key, key_len);
	if (v == HH_HOSTKEY_MATCH) {
		rc = 0;
		goto out;
	}
	if (hh_known_hosts_name(&name, host, port) < 0 ||
	    hh_host_key_fingerprint(&fp, key, key_len) < 0)
		goto out;
	if (v == HH_HOSTKEY_CHANGED)
		rc = hh_fail(HH_EHOSTKEY_CHANGED,
			     "host key for %s does not match the one in %s (%s)", name.ptr, path,
			     fp.ptr);
	else
		rc = hh_fail(HH_EHOSTKEY_UNKNOWN, "host key for %s is not in %s (%s)", name.ptr,
			     path, fp.ptr);
	hh_error_set_detail(fp.ptr);
out:
	if (verdict)
		*verdict = v;
	hh_buf_release(&text);
	hh_buf_release(&name);
	hh_buf_release(&fp);
	return rc;
}
