/*
 * Tests of webhook/event.c: inline bodies for the logic, the byte-exact Gitea samples in
 * ../shared/gitea-samples/ when that directory exists (skipped otherwise), and hostile
 * bodies (bad JSON, deep nesting, NUL bytes, invalid UTF-8) that must fail or parse cleanly.
 * Bodies are copied into exactly-sized heap buffers without a NUL so that a sanitizer build
 * catches any read past len.
 */
#include "tests/unit/t.h"
#include "internal/buf.h"
#include "internal/log.h"
#include "webhook/event.h"

#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#define SAMPLES "../shared/gitea-samples"

/*
 * Parses len bytes placed right before an inaccessible page, so that any read past len (by
 * event.c or by libcjson, which sanitizers do not instrument) crashes the test.
 */
static int parse_exact(hh_event *ev, enum hh_event_kind kind, const char *body, size_t len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t data = (len + page - 1) / page * page + page;
	char *map = mmap(NULL, data + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);
	char *copy;
	int rc;

	if (map == MAP_FAILED)
		return -2;
	if (mprotect(map + data, page, PROT_NONE) != 0) {
		munmap(map, data + page);
		return -2;
	}
	copy = map + data - len;
	memcpy(copy, body, len);
	rc = hh_event_parse(ev, kind, copy, len);
	munmap(map, data + page);
	return rc;
}

static int parse_str(hh_event *ev, enum hh_event_kind kind, const char *body)
{
	return parse_exact(ev, kind, body, strlen(body));
}

/* Loads a sample; returns 0, or 1 when the samples directory is absent (skip). */
static int load_sample(hh_buf *b, const char *name)
{
	char path[256];

	if (access(SAMPLES, R_OK) != 0) {
		fprintf(stderr, "    skip: %s not found\n", SAMPLES);
		return 1;
	}
	snprintf(path, sizeof(path), "%s/%s", SAMPLES, name);
	if (hh_buf_read_file(b, path, 1 << 20) < 0) {
		fprintf(stderr, "    %s\n", hh_error_last());
		return -1;
	}
	return 0;
}

TEST(event_kind_mapping)
{
	CHECK(hh_event_kind_from_type("pull_request_review_rejected") == HH_EV_REVIEW_REJECTED);
	CHECK(hh_event_kind_from_type("pull_request_review_approved") == HH_EV_REVIEW_APPROVED);
	CHECK(hh_event_kind_from_type("pull_request_review_comment") == HH_EV_REVIEW_COMMENT);
	CHECK(hh_event_kind_from_type("pull_request_comment") == HH_EV_PR_COMMENT);
	CHECK(hh_event_kind_from_type("issue_comment") == HH_EV_ISSUE_COMMENT);
	CHECK(hh_event_kind_from_type("push") == HH_EV_PUSH);
	/* X-Gitea-Event values are not event types. */
	CHECK(hh_event_kind_from_type("pull_request_rejected") == HH_EV_UNKNOWN);
	CHECK(hh_event_kind_from_type("Push") == HH_EV_UNKNOWN);
	CHECK(hh_event_kind_from_type("") == HH_EV_UNKNOWN);
	CHECK(hh_event_kind_from_type(NULL) == HH_EV_UNKNOWN);
	CHECK_STR(hh_event_kind_name(HH_EV_REVIEW_COMMENT), "pull_request_review_comment");
	CHECK_STR(hh_event_kind_name(HH_EV_PR_COMMENT), "pull_request_comment");
	CHECK_STR(hh_event_kind_name(HH_EV_UNKNOWN), "unknown");
	CHECK(hh_event_is_review(HH_EV_REVIEW_REJECTED));
	CHECK(hh_event_is_review(HH_EV_REVIEW_APPROVED));
	CHECK(hh_event_is_review(HH_EV_REVIEW_COMMENT));
	CHECK(!hh_event_is_review(HH_EV_PR_COMMENT));
	CHECK(!hh_event_is_review(HH_EV_PUSH));
}

TEST(event_inline_review)
{
	hh_event ev;
	const char *body =
		"{\"action\":\"reviewed\",\"number\":7,\"pull_request\":{\"number\":7,"
		"\"state\":\"open\",\"merged\":false,\"html_url\":\"https://g.example/o/r/pulls/7\","
		"\"head\":{\"ref\":\"feat\",\"sha\":\"abc123\"},\"base\":{\"ref\":\"main\"}},"
		"\"repository\":{\"full_name\":\"o/r\",\"default_branch\":\"main\","
		"\"clone_url\":\"https://g.example/o/r.git\",\"ssh_url\":\"git@g.example:o/r.git\"},"
		"\"sender\":{\"login\":\"bob\"},"
		"\"review\":{\"type\":\"pull_request_review_rejected\",\"content\":\"a.py:3: x\"}}";

	REQUIRE(parse_str(&ev, HH_EV_REVIEW_REJECTED, body) == 0);
	CHECK(ev.kind == HH_EV_REVIEW_REJECTED);
	CHECK_STR(ev.action, "reviewed");
	CHECK_STR(ev.repo, "o/r");
	CHECK_STR(ev.default_branch, "main");
	CHECK_STR(ev.clone_url, "https://g.example/o/r.git");
	CHECK_STR(ev.ssh_url, "git@g.example:o/r.git");
	CHECK_STR(ev.sender, "bob");
	CHECK(ev.pr_number == 7);
	CHECK_STR(ev.pr_state, "open");
	CHECK(ev.pr_merged == 0);
	CHECK_STR(ev.pr_url, "https://g.example/o/r/pulls/7");
	CHECK_STR(ev.head_ref, "feat");
	CHECK_STR(ev.head_sha, "abc123");
	CHECK_STR(ev.base_ref, "main");
	CHECK_STR(ev.review_type, "pull_request_review_rejected");
	CHECK_STR(ev.review_content, "a.py:3: x");
	CHECK(ev.comment_body == NULL);
	CHECK(ev.comment_id == 0);
	CHECK(ev.is_pull == 1);
	hh_event_release(&ev);
	CHECK(ev.repo == NULL);
	hh_event_release(&ev); /* twice is harmless */
	hh_event_release(NULL);
}

TEST(event_inline_issue_comment)
{
	hh_event ev;
	/* No pull_request object: the number comes from issue.number because is_pull. */
	const char *pr = "{\"action\":\"created\",\"issue\":{\"number\":9},\"is_pull\":true,"
			 "\"comment\":{\"id\":1845,\"body\":\"fix `a.py`:1: y\"},"
			 "\"repository\":{\"full_name\":\"o/r\"},\"sender\":{\"login\":\"dana\"}}";
	const char *issue = "{\"action\":\"created\",\"issue\":{\"number\":9},\"is_pull\":false,"
			    "\"comment\":{\"id\":5,\"body\":\"hi\"},"
			    "\"repository\":{\"full_name\":\"o/r\"}}";
	const char *both = "{\"issue\":{\"number\":9},\"pull_request\":{\"number\":4,"
			   "\"merged\":true},\"is_pull\":true,\"repository\":{\"full_name\":\"o/r\"}}";

	REQUIRE(parse_str(&ev, HH_EV_ISSUE_COMMENT, pr) == 0);
	CHECK(ev.is_pull == 1);
	CHECK(ev.pr_number == 9);
	CHECK(ev.comment_id == 1845);
	CHECK_STR(ev.comment_body, "fix `a.py`:1: y");
	CHECK_STR(ev.sender, "dana");
	CHECK(ev.head_ref == NULL && ev.review_content == NULL && ev.pr_state == NULL);
	hh_event_release(&ev);

	REQUIRE(parse_str(&ev, HH_EV_ISSUE_COMMENT, issue) == 0);
	CHECK(ev.is_pull == 0);
	CHECK(ev.pr_number == 0);
	CHECK(ev.comment_id == 5);
	CHECK(ev.sender == NULL);
	hh_event_release(&ev);

	REQUIRE(parse_str(&ev, HH_EV_PR_COMMENT, both) == 0);
	CHECK(ev.pr_number == 4);
	CHECK(ev.pr_merged == 1);
	hh_event_release(&ev);
}

TEST(event_wrong_types_are_absent)
{
	hh_event ev;
	const char *body = "{\"action\":5,\"repository\":{\"full_name\":\"o/r\",\"ssh_url\":null},"
			   "\"sender\":\"bob\",\"pull_request\":{\"number\":\"42\",\"head\":[1]},"
			   "\"comment\":{\"id\":-3,\"body\":{}},\"review\":{\"content\":1.5}}";
	const char *frac = "{\"repository\":{\"full_name\":\"o/r\"},\"pull_request\":"
			   "{\"number\":4.5},\"comment\":{\"id\":1e300}}";

	REQUIRE(parse_str(&ev, HH_EV_REVIEW_COMMENT, body) == 0);
	CHECK(ev.action == NULL);
	CHECK(ev.ssh_url == NULL);
	CHECK(ev.sender == NULL);
	CHECK(ev.pr_number == 0);
	CHECK(ev.head_ref == NULL);
	CHECK(ev.comment_id == 0);
	CHECK(ev.comment_body == NULL);
	CHECK(ev.review_content == NULL);
	hh_event_release(&ev);
	REQUIRE(parse_str(&ev, HH_EV_REVIEW_COMMENT, frac) == 0);
	CHECK(ev.pr_number == 0);
	CHECK(ev.comment_id == 0);
	hh_event_release(&ev);
}

TEST(event_whitespace_around_body)
{
	hh_event ev;

	CHECK(parse_str(&ev, HH_EV_PUSH, " \r\n\t{\"repository\":{\"full_name\":\"o/r\"}}\n\n ") ==
	      0);
	CHECK_STR(ev.repo, "o/r");
	hh_event_release(&ev);
}

static void expect_fail(const char *body, size_t len, const char *want)
{
	hh_event ev;
	int rc = parse_exact(&ev, HH_EV_REVIEW_REJECTED, body, len);

	CHECK(rc == HH_EBADINPUT);
	CHECK(hh_error_code() == HH_EBADINPUT);
	if (!strstr(hh_error_last(), want)) {
		t_fail(__FILE__, __LINE__, want);
		fprintf(stderr, "      error '%s', want '%s'\n", hh_error_last(), want);
	}
	/* On error the event is released: all fields NULL. */
	CHECK(ev.repo == NULL && ev.action == NULL && ev.sender == NULL);
}

#define FAIL_STR(body, want) expect_fail(body, strlen(body), want)

TEST(event_rejects_bad_bodies)
{
	FAIL_STR("{\"repository\":{\"full_name\":\"o/r\"}", "malformed JSON");
	FAIL_STR("{\"repository\":{\"full_name\":\"o/r\"}} x", "malformed JSON: trailing data");
	FAIL_STR("{\"repository\":{\"full_name\":\"o/r\"}}{}", "malformed JSON: trailing data");
	FAIL_STR("not json", "malformed JSON");
	FAIL_STR("", "malformed JSON: empty body");
	FAIL_STR("   ", "malformed JSON");
	FAIL_STR("[{\"repository\":{\"full_name\":\"o/r\"}}]", "malformed JSON: body is not an object");
	FAIL_STR("\"o/r\"", "malformed JSON: body is not an object");
	FAIL_STR("42", "malformed JSON: body is not an object");
	FAIL_STR("null", "malformed JSON: body is not an object");
	FAIL_STR("{}", "missing repository.full_name");
	FAIL_STR("{\"repository\":{}}", "missing repository.full_name");
	FAIL_STR("{\"repository\":{\"full_name\":\"\"}}", "missing repository.full_name");
	FAIL_STR("{\"repository\":{\"full_name\":17}}", "missing repository.full_name");
	FAIL_STR("{\"repository\":\"o/r\"}", "missing repository.full_name");
	FAIL_STR("{\"repository\":{\"name\":\"r\"},\"full_name\":\"o/r\"}",
		 "missing repository.full_name");
	/* A \u0000 escape would silently truncate strings. */
	FAIL_STR("{\"repository\":{\"full_name\":\"o/r\\u0000../x\"}}", "\\u0000");
	/* ...but an escaped backslash followed by u0000 is plain text. */
	{
		hh_event ev;
		CHECK(parse_str(&ev, HH_EV_PUSH,
				"{\"repository\":{\"full_name\":\"o/r\\\\u0000\"}}") == 0);
		CHECK_STR(ev.repo, "o/r\\u0000");
		hh_event_release(&ev);
	}
}

TEST(event_truncated_prefixes_never_crash)
{
	const char *body = "{\"action\":\"reviewed\",\"pull_request\":{\"number\":7,\"head\":{\"ref\":"
			   "\"f\"}},\"repository\":{\"full_name\":\"o/r\"},\"review\":{\"content\":"
			   "\"x\\u00e9\\ud83d\\ude00\"}}";
	size_t n = strlen(body), i;
	hh_event ev;

	/* Every proper prefix is invalid JSON; the whole body is valid. */
	for (i = 0; i < n; i++) {
		CHECK(parse_exact(&ev, HH_EV_REVIEW_REJECTED, body, i) == HH_EBADINPUT);
		hh_event_release(&ev);
	}
	REQUIRE(parse_exact(&ev, HH_EV_REVIEW_REJECTED, body, n) == 0);
	CHECK_STR(ev.review_content, "x\xc3\xa9\xf0\x9f\x98\x80");
	hh_event_release(&ev);
}

TEST(event_deep_nesting)
{
	hh_buf b = HH_BUF_INIT;
	hh_event ev;
	int i;

	/* 2000 levels inside an otherwise valid object. */
	hh_buf_puts(&b, "{\"repository\":{\"full_name\":\"o/r\"},\"x\":");
	for (i = 0; i < 2000; i++)
		hh_buf_putc(&b, '[');
	for (i = 0; i < 2000; i++)
		hh_buf_putc(&b, ']');
	hh_buf_putc(&b, '}');
	expect_fail(b.ptr, b.len, "nested deeper");
	hh_buf_clear(&b);

	/* Unbalanced: 2000 opening braces and nothing else. */
	for (i = 0; i < 2000; i++)
		hh_buf_puts(&b, "{\"a\":");
	expect_fail(b.ptr, b.len, "malformed JSON");
	hh_buf_clear(&b);

	/* Brackets inside strings do not count as nesting. */
	hh_buf_puts(&b, "{\"repository\":{\"full_name\":\"o/r\"},\"x\":\"");
	for (i = 0; i < 2000; i++)
		hh_buf_putc(&b, '[');
	hh_buf_puts(&b, "\"}");
	CHECK(parse_exact(&ev, HH_EV_PUSH, b.ptr, b.len) == 0);
	CHECK_STR(ev.repo, "o/r");
	hh_event_release(&ev);
	hh_buf_clear(&b);

	/* 500 levels are within cJSON's limit and parse. */
	hh_buf_puts(&b, "{\"repository\":{\"full_name\":\"o/r\"},\"x\":");
	for (i = 0; i < 500; i++)
		hh_buf_putc(&b, '[');
	for (i = 0; i < 500; i++)
		hh_buf_putc(&b, ']');
	hh_buf_putc(&b, '}');
	CHECK(parse_exact(&ev, HH_EV_PUSH, b.ptr, b.len) == 0);
	hh_event_release(&ev);
	hh_buf_release(&b);
}

TEST(event_nul_bytes)
{
	static const char in_string[] = "{\"repository\":{\"full_name\":\"o/r\0evil\"}}";
	static const char after[] = "{\"repository\":{\"full_name\":\"o/r\"}}\0garbage";
	static const char between[] = "{\"repository\":\0{\"full_name\":\"o/r\"}}";

	expect_fail(in_string, sizeof(in_string) - 1, "NUL byte at offset 31");
	expect_fail(after, sizeof(after) - 1, "NUL byte");
	expect_fail(between, sizeof(between) - 1, "NUL byte");
	/* A trailing NUL counted in len is also refused. */
	expect_fail(after, strlen(after) + 1, "NUL byte");
}

TEST(event_invalid_utf8)
{
	hh_event ev;
	static const char bad[] = "{\"repository\":{\"full_name\":\"o/r\"},\"sender\":{\"login\":"
				  "\"\xff\xfe\xc3\"},\"review\":{\"content\":\"\xed\xa0\x80 \x80\"}}";
	static const char lone_surrogate[] = "{\"repository\":{\"full_name\":\"o/r\"},"
					     "\"review\":{\"content\":\"\\ud800x\"}}";
	int rc;

	/* cJSON does not validate UTF-8: the bytes come through unchanged. */
	REQUIRE(parse_exact(&ev, HH_EV_REVIEW_COMMENT, bad, sizeof(bad) - 1) == 0);
	CHECK_STR(ev.sender, "\xff\xfe\xc3");
	CHECK_STR(ev.review_content, "\xed\xa0\x80 \x80");
	hh_event_release(&ev);
	/* A lone surrogate escape: either outcome is fine, as long as it is clean. */
	rc = parse_exact(&ev, HH_EV_REVIEW_COMMENT, lone_surrogate, sizeof(lone_surrogate) - 1);
	CHECK(rc == 0 || rc == HH_EBADINPUT);
	if (rc == 0)
		CHECK_STR(ev.repo, "o/r");
	hh_event_release(&ev);
}

/* ---- the byte-exact Gitea samples ---- */

struct sample {
	const char *file;
	enum hh_event_kind kind;
	const char *sender;
	const char *head_sha;
	const char *review_type;
};

static const struct sample samples[] = {
	{"review_rejected.json", HH_EV_REVIEW_REJECTED, "erik",
	 "78c779bceb56a7d1e33c3bd78ae0c5d23a40180a", "pull_request_review_rejected"},
	{"review_comment.json", HH_EV_REVIEW_COMMENT, "fay",
	 "2ffc4ed700ea5c087acd4a0ebf9ef3cfb87b2158", "pull_request_review_comment"},
	{"review_approved.json", HH_EV_REVIEW_APPROVED, "fay",
	 "2ffc4ed700ea5c087acd4a0ebf9ef3cfb87b2158", "pull_request_review_approved"},
	{"issue_comment_pr.json", HH_EV_PR_COMMENT, "dana",
	 "78c779bceb56a7d1e33c3bd78ae0c5d23a40180a", NULL},
	{"actions_event_pull_request_review.json", HH_EV_REVIEW_REJECTED, "erik",
	 "78c779bceb56a7d1e33c3bd78ae0c5d23a40180a", "pull_request_review_rejected"},
};

TEST(event_gitea_samples)
{
	size_t i;

	for (i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		const struct sample *s = &samples[i];
		hh_buf b = HH_BUF_INIT;
		hh_event ev;
		int rc = load_sample(&b, s->file);

		if (rc == 1)
			return;
		REQUIRE(rc == 0);
		if (parse_exact(&ev, s->kind, b.ptr, b.len) != 0) {
			t_fail(__FILE__, __LINE__, s->file);
			fprintf(stderr, "      %s\n", hh_error_last());
			hh_buf_release(&b);
			continue;
		}
		CHECK_STR(ev.repo, "northwind/billing-svc");
		CHECK_STR(ev.default_branch, "main");
		CHECK_STR(ev.clone_url, "https://gitea.example.com/northwind/billing-svc.git");
		CHECK_STR(ev.ssh_url, "git@gitea.example.com:northwind/billing-svc.git");
		CHECK_STR(ev.sender, s->sender);
		CHECK(ev.pr_number == 42);
		CHECK(ev.is_pull == 1);
		CHECK_STR(ev.pr_state, "open");
		CHECK(ev.pr_merged == 0);
		CHECK_STR(ev.pr_url, "https://gitea.example.com/northwind/billing-svc/pulls/42");
		CHECK_STR(ev.head_ref, "feature/late_fee-codes");
		CHECK_STR(ev.head_sha, s->head_sha);
		CHECK_STR(ev.base_ref, "main");
		if (s->review_type) {
			CHECK_STR(ev.action, "reviewed");
			CHECK_STR(ev.review_type, s->review_type);
			CHECK(ev.review_content != NULL);
			CHECK(ev.comment_body == NULL);
		} else {
			CHECK_STR(ev.action, "created");
			CHECK(ev.review_type == NULL);
			CHECK(ev.comment_id == 1845);
			CHECK_STR(ev.comment_body,
				  "@codefix-bot please fix the findings from Bob's review above.");
		}
		hh_event_release(&ev);
		hh_buf_release(&b);
	}
}

TEST(event_gitea_sample_contents)
{
	hh_buf b = HH_BUF_INIT;
	hh_event ev;
	int rc = load_sample(&b, "review_rejected.json");

	if (rc == 1)
		return;
	REQUIRE(rc == 0);
	REQUIRE(parse_exact(&ev, HH_EV_REVIEW_REJECTED, b.ptr, b.len) == 0);
	{
		const char *want = "Requesting changes \xe2\x80\x94 see the inline comments.\n\n";
		CHECK(strncmp(ev.review_content, want, strlen(want)) == 0);
	}
	CHECK(strstr(ev.review_content, "returns 500 when `code` is missing") != NULL);
	hh_event_release(&ev);
	hh_buf_release(&b);

	/* A single-line comment review has content "". */
	REQUIRE(load_sample(&b, "review_comment.json") == 0);
	REQUIRE(parse_exact(&ev, HH_EV_REVIEW_COMMENT, b.ptr, b.len) == 0);
	CHECK_STR(ev.review_content, "");
	hh_event_release(&ev);
	hh_buf_release(&b);

	REQUIRE(load_sample(&b, "review_approved.json") == 0);
	REQUIRE(parse_exact(&ev, HH_EV_REVIEW_APPROVED, b.ptr, b.len) == 0);
	CHECK_STR(ev.review_content, "LGTM now, thanks for the quick turnaround.");
	hh_event_release(&ev);
	hh_buf_release(&b);

	/* A push: repository and sender, no PR. */
	REQUIRE(load_sample(&b, "push.json") == 0);
	REQUIRE(parse_exact(&ev, HH_EV_PUSH, b.ptr, b.len) == 0);
	CHECK_STR(ev.repo, "northwind/billing-svc");
	CHECK_STR(ev.sender, "dana");
	CHECK(ev.pr_number == 0);
	CHECK(ev.is_pull == 0);
	CHECK(ev.head_sha == NULL);
	hh_event_release(&ev);
	hh_buf_release(&b);

	/* The API answers are arrays, not delivery bodies. */
	REQUIRE(load_sample(&b, "reviews_api.json") == 0);
	CHECK(parse_exact(&ev, HH_EV_REVIEW_REJECTED, b.ptr, b.len) == HH_EBADINPUT);
	CHECK(strstr(hh_error_last(), "not an object") != NULL);
	hh_buf_release(&b);
}
