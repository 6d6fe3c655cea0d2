/*
 * sha256: SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104). See sha256.h.
 *
 * Two block functions, chosen once by CPUID: the CPU's SHA extensions (SHA-NI: sha256rnds2,
 * sha256msg1/2 do two rounds / a schedule step per instruction), else portable C. Why not
 * libcrypto, which has both: OpenSSL 3 fetches implementations from its providers; the first
 * fetch initialises them, about 2 MB of the process's memory (its code and tables, measured
 * with a program that links the same libraries: 3.0 MB resident before, 5.2 MB after one
 * HMAC), and every HMAC initialisation looks the digest up by name under the providers'
 * lock, which the receiver's threads then shared. This is 150 lines, checked against
 * libcrypto and the FIPS 180-4 / RFC 4231 vectors in tests/unit/test_signature.c. On a CPU
 * without SHA-NI, digest.c hashes whole messages with libcrypto's vector code instead (about
 * 1.6 times this portable C), which then costs its memory.
 */
#include "internal/sha256.h"

#include <cpuid.h>
#include <stdint.h>
#include <string.h>

static const uint32_t K[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
	0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
	0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
	0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
	0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
	0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
	0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
	0xc67178f2};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void blocks_c(uint32_t s[8], const unsigned char *p, size_t n)
{
	uint32_t w[64], a, b, c, d, e, f, g, h, t1, t2;
	int i;

	for (; n--; p += 64) {
		for (i = 0; i < 16; i++)
			w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
			       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
		for (i = 16; i < 64; i++)
			w[i] = w[i - 16] +
			       (ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3)) +
			       w[i - 7] +
			       (ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10));
		a = s[0], b = s[1], c = s[2], d = s[3], e = s[4], f = s[5], g = s[6], h = s[7];
		for (i = 0; i < 64; i++) {
			t1 = h + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) +
			     K[i] + w[i];
			t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
			h = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
		}
		s[0] += a, s[1] += b, s[2] += c, s[3] += d;
		s[4] += e, s[5] += f, s[6] += g, s[7] += h;
	}
}

#if defined(__x86_64__)
#include <immintrin.h>

/* Four rounds per step g (0..15): the message words of step g are m[g % 4]; steps 3..14 finish
 * the words of step g + 1 (sha256msg2, after sha256msg1 of them at step g - 2). */
__attribute__((target("sha,sse4.1"))) static void blocks_ni(uint32_t s[8], const unsigned char *p,
							    size_t n)
{
	const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
	__m128i st0, st1, tmp, msg, m[4], save0, save1;
	int g;

	tmp = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&s[0]), 0xB1); /* CDAB */
	st1 = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&s[4]), 0x1B); /* EFGH */
	st0 = _mm_alignr_epi8(tmp, st1, 8);                                     /* ABEF */
	st1 = _mm_blend_epi16(st1, tmp, 0xF0);                                  /* CDGH */
	for (; n--; p += 64) {
		save0 = st0;
		save1 = st1;
		for (g = 0; g < 16; g++) {
			if (g < 4)
				m[g] = _mm_shuffle_epi8(
					_mm_loadu_si128((const __m128i *)(p + 16 * g)), bswap);
			msg = _mm_add_epi32(m[g % 4], _mm_loadu_si128((const __m128i *)&K[4 * g]));
			st1 = _mm_sha256rnds2_epu32(st1, st0, msg);
			if (g >= 3 && g < 15) {
				tmp = _mm_alignr_epi8(m[g % 4], m[(g + 3) % 4], 4);
				m[(g + 1) % 4] = _mm_sha256msg2_epu32(
					_mm_add_epi32(m[(g + 1) % 4], tmp), m[g % 4]);
			}
			st0 = _mm_sha256rnds2_epu32(st0, st1, _mm_shuffle_epi32(msg, 0x0E));
			if (g >= 1 && g < 13)
				m[(g + 3) % 4] = _mm_sha256msg1_epu32(m[(g + 3) % 4], m[g % 4]);
		}
		st0 = _mm_add_epi32(st0, save0);
		st1 = _mm_add_epi32(st1, save1);
	}
	tmp = _mm_shuffle_epi32(st0, 0x1B);    /* FEBA */
	st1 = _mm_shuffle_epi32(st1, 0xB1);    /* DCHG */
	st0 = _mm_blend_epi16(tmp, st1, 0xF0); /* DCBA */
	st1 = _mm_alignr_epi8(st1, tmp, 8);    /* ABEF -> HGFE */
	_mm_storeu_si128((__m128i *)&s[0], st0);
	_mm_storeu_si128((__m128i *)&s[4], st1);
}

static int cpu_has_sha(void)
{
	unsigned int a, b, c, d;

	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_SSSE3) || !(c & bit_SSE4_1))
		return 0;
	return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & bit_SHA);
}
#endif

typedef void (*blocks_fn)(uint32_t s[8], const unsigned char *p, size_t n);
static blocks_fn blocks_impl; /* set once; a race sets it to the same value */
static int force_portable;

static blocks_fn blocks(void)
{
	blocks_fn f = __atomic_load_n(&blocks_impl, __ATOMIC_RELAXED);

	if (!f) {
		f = blocks_c;
#if defined(__x86_64__)
		if (!force_portable && cpu_has_sha())
			f = blocks_ni;
#endif
		__atomic_store_n(&blocks_impl, f, __ATOMIC_RELAXED);
	}
	return f;
}

int hh_sha256_has_shani(void)
{
	return blocks() != blocks_c;
}

int hh_sha256_use_portable(int on)
{
	force_portable = on;
	__atomic_store_n(&blocks_impl, NULL, __ATOMIC_RELAXED);
	return blocks() == blocks_c ? 0 : 1;
}

void hh_sha256_init(hh_sha256 *c)
{
	static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
				       0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

	memcpy(c->s, iv, sizeof(iv));
	c->total = 0;
	c->used = 0;
}

void hh_sha256_update(hh_sha256 *c, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t k;

	c->total += len;
	if (c->used) {
		k = 64 - c->used < len ? 64 - c->used : len;
		memcpy(c->buf + c->used, p, k);
		c->used += k, p += k, len -= k;
		if (c->used < 64)
			return;
		blocks()(c->s, c->buf, 1);
		c->used = 0;
	}
	if (len >= 64) {
		blocks()(c->s, p, len / 64);
		p += len & ~(size_t)63;
		len &= 63;
	}
	memcpy(c->buf, p, len);
	c->used = len;
}

void hh_sha256_final(hh_sha256 *c, unsigned char out[32])
{
	unsigned long long bits = c->total * 8;
	int i;

	c->buf[c->used++] = 0x80;
	if (c->used > 56) {
		memset(c->buf + c->used, 0, 64 - c->used);
		blocks()(c->s, c->buf, 1);
		c->used = 0;
	}
	memset(c->buf + c->used, 0, 56 - c->used);
	for (i = 0; i < 8; i++)
		c->buf[56 + i] = (unsigned char)(bits >> (56 - 8 * i));
	blocks()(c->s, c->buf, 1);
	for (i = 0; i < 32; i++)
		out[i] = (unsigned char)(c->s[i / 4] >> (24 - 8 * (i % 4)));
	memset(c, 0, sizeof(*c));
}

void hh_hmac_sha256_raw(const void *key, size_t klen, const void *msg, size_t len,
			unsigned char out[32])
{
	unsigned char pad[64], kh[32];
	hh_sha256 c;
	size_t i;

	if (klen > 64) { /* a longer key is its hash */
		hh_sha256_init(&c);
		hh_sha256_update(&c, key, klen);
		hh_sha256_final(&c, kh);
		key = kh;
		klen = 32;
	}
	memset(pad, 0x36, sizeof(pad));
	for (i = 0; i < klen; i++)
		pad[i] ^= ((const unsigned char *)key)[i];
	hh_sha256_init(&c);
	hh_sha256_update(&c, pad, 64);
	hh_sha256_update(&c, msg, len);
	hh_sha256_final(&c, out);
	for (i = 0; i < 64; i++)
		pad[i] ^= 0x36 ^ 0x5c;
	hh_sha256_init(&c);
	hh_sha256_update(&c, pad, 64);
	hh_sha256_update(&c, out, 32);
	hh_sha256_final(&c, out);
	memset(pad, 0, sizeof(pad));
	memset(kh, 0, sizeof(kh));
}
