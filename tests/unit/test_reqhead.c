/*
 * Tests of webhook/reqhead.c: the request heads the gate lets through, waits for, or refuses
 * (with which status), and the duplicate-key, byte-order-mark and media-type rules of intake.
 */
#include "tests/unit/t.h"
#include "internal/buf.h"
#include "internal/log.h"
#include "webhook/event.h"
#include "webhook/reqhead.h"

static const hh_reqhead_limits lim = {4096, 10, 1000};

static int check(const char *head, hh_reqhead *rh)
{
	return hh_reqhead_check(head, strlen(head), &lim, rh);
}

#define OK_HEAD "POST /hooks/gitea HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\n"

TEST(reqhead_accepts_gitea_heads)
{
	hh_reqhead rh;
	const char *h = OK_HEAD "Content-Length: 2\r\n\r\n{}";

	CHECK(check(h, &rh) == 1);
	CHECK(rh.head_len == strlen(h) - 2);
	CHECK(check("GET /healthz HTTP/1.0\r\n\r\n", &rh) == 1);      /* 1.0: Host optional */
	CHECK(check("GET /healthz HTTP/1.1\nHost: h\n\n", &rh) == 1); /* bare LF */
	CHECK(check(OK_HEAD "Content-Length: 2\r\nContent-Length: 2\r\n\r\n", &rh) == 1);
	CHECK(check(OK_HEAD "Content-Length:\t0002\r\n\r\n", &rh) == 1);
	CHECK(check(OK_HEAD "X-Utf8: caf\xc3\xa9\r\n\r\n", &rh) == 1);
}

TEST(reqhead_waits_for_the_empty_line)
{
	hh_reqhead rh;

	CHECK(check("", &rh) == 0);
	CHECK(check("POST /hooks/gitea HTTP/1.1\r\nHost: h\r\nX-Slow: aaa", &rh) == 0);
	CHECK(check(OK_HEAD, &rh) == 0);
	CHECK(check(OK_HEAD "\r", &rh) == 0);
}

static void refused(const char *head, int status, const char *what)
{
	hh_reqhead rh;

	CHECK(check(head, &rh) == -1);
	CHECK(rh.status == status);
	CHECK(rh.error && strstr(rh.error, what));
	if (rh.status != status || !rh.error || !strstr(rh.error, what))
		fprintf(stderr, "    %s → %d %s\n", head, rh.status, rh.error ? rh.error : "");
}

TEST(reqhead_refuses_bad_content_lengths)
{
	static const char *const bad[] = {"+2", "0x2", "-2", "2, 2", "2,2", "2 ", "", "2a", " "};
	char h[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(h, sizeof(h), OK_HEAD "Content-Length: %s\r\n\r\n", bad[i]);
		refused(h, 400, "malformed Content-Length");
	}
	refused(OK_HEAD "Content-Length: 2\r\nContent-Length: 3\r\n\r\n", 400, "conflicting");
	refused(OK_HEAD "Content-Length: 1001\r\n\r\n", 413, "too large");
	refused(OK_HEAD "Content-Length: 99999999999999999999999\r\n\r\n", 413, "too large");
	refused(OK_HEAD "Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n", 411,
		"Content-Length");
}

TEST(reqhead_refuses_bad_lines)
{
	char big[5000];

	refused("GARBAGE\r\n\r\n", 400, "request line");
	refused("\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", 400, "request line");
	refused("GET  / HTTP/1.1\r\nHost: h\r\n\r\n", 400, "request line");
	refused("GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505, "version");
	refused("GET / HTTP/1.1 x\r\nHost: h\r\n\r\n", 400, "request line");
	refused("GET /a%00b HTTP/1.1\r\nHost: h\r\n\r\n", 400, "NUL");
	refused("GET / HTTP/1.1\r\n\r\n", 400, "missing Host");
	refused("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", 400, "more than one Host");
	refused("GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", 400, "malformed header line");
	refused("GET / HTTP/1.1\r\nHost: a\r\n: x\r\n\r\n", 400, "malformed header line");
	refused("GET / HTTP/1.1\r\nHost: a\r\nX A: x\r\n\r\n", 400, "header name");
	refused("GET / HTTP/1.1\r\nHost: a\r\nX-A: x\r\n y\r\n\r\n", 400, "folding");
	refused("GET / HTTP/1.1\r\nHost: a\r\nX-A: a\rb\r\n\r\n", 400, "malformed header line");
	refused("GET / HTTP/1.1\r\nHost: a\r\nX-A: a\x01b\r\n\r\n", 400, "control character");
	{
		static const char nul[] = "GET / HTTP/1.1\r\nHost: a\r\nX-A: a\0b\r\n\r\n";
		hh_reqhead rh;
		CHECK(hh_reqhead_check(nul, sizeof(nul) - 1, &lim, &rh) == -1);
		CHECK(rh.status == 400 && strstr(rh.error, "NUL"));
	}
	refused("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 1\r\nC: 1\r\nD: 1\r\nE: 1\r\nF: 1\r\n"
		"G: 1\r\nH: 1\r\nI: 1\r\nJ: 1\r\n\r\n",
		431, "too many headers");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
	refused(big, 431, "too large"); /* no end in sight and past the limit */
}

static int parse(const char *json)
{
	hh_event ev;
	int rc = hh_event_parse(&ev, HH_EV_ISSUE_COMMENT, json, strlen(json));

	if (rc == 0)
		hh_event_release(&ev);
	return rc;
}

TEST(event_refuses_duplicate_keys_and_bom)
{
	const char *ok = "{\"repository\":{\"full_name\":\"a/b\"},\"x\":[{\"k\":1},{\"k\":2}]}";

	CHECK(parse(ok) == 0);
	CHECK(parse("{\"repository\":{\"full_name\":\"a/b\"},\"repository\":{\"full_name\":\"c/"
		    "d\"}}") < 0);
	CHECK(strstr(hh_error_last(), "duplicate key 'repository'"));
	CHECK(parse("{\"repository\":{\"full_name\":\"a/b\",\"full_name\":\"c/d\"}}") < 0);
	CHECK(parse("{\"repository\":{\"full_name\":\"a/b\"},\"Repository\":{}}") < 0);
	CHECK(parse("{\"repository\":{\"full_name\":\"a/b\"},\"\\u0072epository\":{}}") < 0);
	CHECK(parse("{\"repository\":{\"full_name\":\"a/b\"},\"key\":1,\"\xe2\x84\xaa"
		    "ey\":2}") < 0);
	CHECK(parse("{\"repository\":{\"full_name\":\"a/b\"},\"s\":1,\"\xc5\xbf\":2}") < 0);
	CHECK(parse("{\"repository\":{\"full_name\":\"a/b\"},\"d\":[[{\"z\":1,\"z\":2}]]}") < 0);
	CHECK(parse("\xef\xbb\xbf{\"repository\":{\"full_name\":\"a/b\"}}") < 0);
	CHECK(strstr(hh_error_last(), "byte order mark"));
}

TEST(event_duplicate_check_is_not_quadratic)
{
	hh_buf b = HH_BUF_INIT;
	hh_event ev;
	int i, rc;

	hh_buf_puts(&b, "{\"repository\":{\"full_name\":\"a/b\"}");
	for (i = 0; i < 100000; i++)
		hh_buf_printf(&b, ",\"k%d\":1", i);
	hh_buf_puts(&b, ",\"k7\":2}");
	rc = hh_event_parse(&ev, HH_EV_ISSUE_COMMENT, b.ptr, b.len);
	CHECK(rc < 0 && strstr(hh_error_last(), "duplicate key 'k7'"));
	hh_buf_release(&b);
}

/* Objects of up to 128 keys go through a hash table, larger ones are sorted: both find a
 * folded duplicate anywhere, and neither refuses distinct keys. */
TEST(event_duplicate_keys_at_both_sizes)
{
	int sizes[] = {2, 17, 100, 128, 129, 300}, k, i;

	for (k = 0; k < (int)(sizeof(sizes) / sizeof(sizes[0])); k++) {
		hh_buf b = HH_BUF_INIT;
		int n = sizes[k];

		hh_buf_puts(&b, "{\"repository\":{\"full_name\":\"a/b\"},\"o\":{");
		for (i = 0; i < n - 1; i++)
			hh_buf_printf(&b, "%s\"Key%d\":1", i ? "," : "", i);
		hh_buf_puts(&b, "}}");
		CHECK(parse(b.ptr) == 0);
		/* the last key is the first one again, folded: "key0" with a Kelvin sign */
		b.len -= 2;
		hh_buf_puts(&b, ",\"\xe2\x84\xaa"
				"ey0\":2}}");
		CHECK(parse(b.ptr) < 0);
		CHECK(strstr(hh_error_last(), "duplicate key") != NULL);
		hh_buf_release(&b);
	}
}
