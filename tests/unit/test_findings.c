/*
 * Tests of internal/findings.c. The grammar is tested by one table (input text → expected
 * count and first finding); the cap, dedupe, line comments and the prompt have their own
 * tests. Bodies from ../shared/gitea-samples/ are used when that directory exists.
 */
#include "tests/unit/t.h"
#include "internal/buf.h"
#include "internal/findings.h"
#include "webhook/intake.h"
#include "internal/log.h"
#include "webhook/event.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <unistd.h>

#define SAMPLES "../shared/gitea-samples"

struct row {
	const char *in;
	int count;
	const char *file;
	long line;
	const char *type;
	const char *msg;
};

static const struct row rows[] = {
	/* the plain form, with and without a type */
	{"services/a.py:41: name 'x' is not defined", 1, "services/a.py", 41, "review",
	 "name 'x' is not defined"},
	{"services/a.py:41: [NameError] name 'x' is not defined", 1, "services/a.py", 41,
	 "NameError", "name 'x' is not defined"},
	{"services/a.py:41: NameError: name 'x' is not defined", 1, "services/a.py", 41,
	 "NameError", "NameError: name 'x' is not defined"},
	{"a.py:3: UserWarning: deprecated call", 1, "a.py", 3, "UserWarning",
	 "UserWarning: deprecated call"},
	{"a.py:3: KeyException: k", 1, "a.py", 3, "KeyException", "KeyException: k"},
	{"a.py:3: Error: generic", 1, "a.py", 3, "review", "Error: generic"},
	{"a.py:3: nameError: lower case start", 1, "a.py", 3, "review",
	 "nameError: lower case start"},
	{"a.py:3: NameError without colon", 1, "a.py", 3, "review", "NameError without colon"},
	{"a.py:3: [E:501.x-y_z] long line", 1, "a.py", 3, "E:501.x-y_z", "long line"},
	{"a.py:3: [Bad Tag] x", 1, "a.py", 3, "review", "[Bad Tag] x"},
	{"a.py:3: [] empty tag", 1, "a.py", 3, "review", "[] empty tag"},
	{"a.py:3: [NameError]", 0, NULL, 0, NULL, NULL},
	{"a.py:3: [NameError]   ", 0, NULL, 0, NULL, NULL},
	{"Makefile:10: [build] missing target", 1, "Makefile", 10, "build", "missing target"},
	/* columns and line numbers */
	{"a.py:3:7: [TypeError] bad", 1, "a.py", 3, "TypeError", "bad"},
	{"a.py:3:7: ValueError: bad", 1, "a.py", 3, "ValueError", "ValueError: bad"},
	{"a.py:0: whole file", 1, "a.py", 0, "review", "whole file"},
	{"a.py:123456789: nine digits", 1, "a.py", 123456789, "review", "nine digits"},
	{"a.py:007: leading zeros", 1, "a.py", 7, "review", "leading zeros"},
	{"a.py:1234567890: ten digits", 0, NULL, 0, NULL, NULL},
	{"a.py:3:4:5: two columns", 0, NULL, 0, NULL, NULL},
	{"a.py:3:30 seconds is too long", 0, NULL, 0, NULL, NULL},
	/* bullets and indentation */
	{"- a.py:1: dash", 1, "a.py", 1, "review", "dash"},
	{"* a.py:1: star", 1, "a.py", 1, "review", "star"},
	{"+ a.py:1: plus", 1, "a.py", 1, "review", "plus"},
	{"1. a.py:1: numbered", 1, "a.py", 1, "review", "numbered"},
	{"12) a.py:1: paren", 1, "a.py", 1, "review", "paren"},
	{"   - a.py:1: indented bullet", 1, "a.py", 1, "review", "indented bullet"},
	{"    a.py:3: four spaces", 1, "a.py", 3, "review", "four spaces"},
	{"1.py:2: a file named 1.py", 1, "1.py", 2, "review", "a file named 1.py"},
	{"-a.py:1: no space after dash", 1, "-a.py", 1, "review", "no space after dash"},
	/* backticks */
	{"`services/a.py`:41: ticked path", 1, "services/a.py", 41, "review", "ticked path"},
	{"`services/a.py:41`: ticked path and line", 1, "services/a.py", 41, "review",
	 "ticked path and line"},
	{"- `services/a.py:41:5`: [KeyError] col inside", 1, "services/a.py", 41, "KeyError",
	 "col inside"},
	{"`a.py`: 3: space before line", 0, NULL, 0, NULL, NULL},
	{"`a.py:3: unclosed tick", 0, NULL, 0, NULL, NULL},
	{"a`b.py:3: tick inside path", 0, NULL, 0, NULL, NULL},
	/* whitespace: CRLF, tabs, trailing blanks */
	{"a.py:1: crlf line\r", 1, "a.py", 1, "review", "crlf line"},
	{"\ta.py:2:\tafter a tab\t ", 1, "a.py", 2, "review", "after a tab"},
	{"a.py:3: trailing spaces   ", 1, "a.py", 3, "review", "trailing spaces"},
	/* paths the guard will judge later */
	{"../etc/passwd:1: climb out", 1, "../etc/passwd", 1, "review", "climb out"},
	{"/etc/passwd:1: absolute", 1, "/etc/passwd", 1, "review", "absolute"},
	/* message text is kept verbatim */
	{"a.py:5: na\xc3\xafve caf\xc3\xa9 \xe2\x80\x94 \xe2\x9c\x93", 1, "a.py", 5, "review",
	 "na\xc3\xafve caf\xc3\xa9 \xe2\x80\x94 \xe2\x9c\x93"},
	{"a.py:5: $(touch /tmp/pwned) `id`; rm -rf / | cat && x > y", 1, "a.py", 5, "review",
	 "$(touch /tmp/pwned) `id`; rm -rf / | cat && x > y"},
	/* prose and near misses */
	{"This is prose about the change.", 0, NULL, 0, NULL, NULL},
	{"", 0, NULL, 0, NULL, NULL},
	{"see http://x:80: foo", 0, NULL, 0, NULL, NULL},
	{"http://example.com:80: foo", 0, NULL, 0, NULL, NULL},
	{"foo:bar", 0, NULL, 0, NULL, NULL},
	{"file.py:abc: x", 0, NULL, 0, NULL, NULL},
	{"file.py:12:", 0, NULL, 0, NULL, NULL},
	{"file.py:12:   ", 0, NULL, 0, NULL, NULL},
	{"file.py:12:msg", 0, NULL, 0, NULL, NULL},
	{"file.py:12 msg", 0, NULL, 0, NULL, NULL},
	{"a.py : 3: x", 0, NULL, 0, NULL, NULL},
	{"123:45: all digits", 0, NULL, 0, NULL, NULL},
	{"at 10:30: lunch", 0, NULL, 0, NULL, NULL},
	{"1. 10:30: lunch", 0, NULL, 0, NULL, NULL},
	{"2024-01-01: meeting", 0, NULL, 0, NULL, NULL},
	{"C:\\src\\a.py:3: windows", 0, NULL, 0, NULL, NULL},
	{"> a.py:3: quoted", 0, NULL, 0, NULL, NULL},
	/* fenced blocks */
	{"```python\na.py:1: inside\n```", 0, NULL, 0, NULL, NULL},
	{"~~~\na.py:1: inside\n~~~", 0, NULL, 0, NULL, NULL},
	{"```\na.py:1: inside\n```\nb.py:2: after", 1, "b.py", 2, "review", "after"},
	{"````\n```\na.py:1: x\n```\n````\nc.py:3: out", 1, "c.py", 3, "review", "out"},
	{"```\na.py:1: unclosed fence", 0, NULL, 0, NULL, NULL},
	{"~~~py\n```\n~~~\nd.py:4: tilde closed", 1, "d.py", 4, "review", "tilde closed"},
	{"```healhook\n[{\"file\":\"a.py\",\"line\":3,\"type\":\"NameError\",\"message\":\"x\"}]\n```",
	 1, "a.py", 3, "NameError", "x"},
	{"```healhook\r\n[{\"file\":\"a.py\",\"message\":\" defaults \\n\"}]\r\n```\r\n", 1, "a.py", 0,
	 "review", "defaults"},
	{"```healhook\n[{\"file\":\"a.py\",\n```", 0, NULL, 0, NULL, NULL},
	{"```healhook\n{\"file\":\"a.py\",\"message\":\"x\"}\n```", 0, NULL, 0, NULL, NULL},
	{"```healhook\n```", 0, NULL, 0, NULL, NULL},
	{"```healhook\n[{\"file\":1,\"message\":\"x\"},{\"file\":\"a.py\",\"line\":\"3\","
	 "\"message\":\"x\"},{\"file\":\"a.py\",\"type\":5,\"message\":\"x\"},{\"file\":\"a.py\"},"
	 "{\"file\":\"a.py\",\"line\":-1,\"message\":\"x\"},{\"file\":\"a.py\",\"line\":1.5,"
	 "\"message\":\"x\"},{\"file\":\"a b.py\",\"message\":\"x\"},{\"file\":\"a.py\","
	 "\"type\":\"a b\",\"message\":\"x\"},{\"file\":\"a.py\",\"message\":\"  \"},7,"
	 "{\"file\":\"b.py\",\"line\":9,\"message\":\"ok\"}]\n```",
	 1, "b.py", 9, "review", "ok"},
	{"```healhook extra\n[{\"file\":\"a.py\",\"message\":\"x\"}]\n```", 0, NULL, 0, NULL, NULL},
	{"```healhook\n[{\"file\":\"a.py\",\"message\":\"x\"}]", 1, "a.py", 0, "review", "x"},
	{"```healhook\n[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\n```", 0, NULL, 0, NULL, NULL},
};

TEST(findings_grammar_table)
{
	size_t i;

	CHECK(sizeof(rows) / sizeof(rows[0]) >= 40);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		hh_findings f = {0};
		int n = hh_findings_from_text(&f, r->in, HH_SRC_REVIEW_BODY);
		int ok = n == r->count && (int)f.n == r->count;

		if (ok && r->count > 0) {
			const hh_finding *x = &f.v[0];
			ok = strcmp(x->file, r->file) == 0 && x->line == r->line &&
			     strcmp(x->type, r->type) == 0 && strcmp(x->message, r->msg) == 0 &&
			     x->source == HH_SRC_REVIEW_BODY && !x->accepted && !x->reason &&
			     !x->job;
		}
		if (!ok) {
			t_fail(__FILE__, __LINE__, "grammar row");
			fprintf(stderr, "      row %zu '%s': got %d", i, r->in, n);
			if (f.n)
				fprintf(stderr, " [%s|%ld|%s|%s]", f.v[0].file, f.v[0].line,
					f.v[0].type, f.v[0].message);
			fprintf(stderr, ", want %d\n", r->count);
		}
		hh_findings_release(&f);
	}
}

TEST(findings_review_body)
{
	hh_findings f = {0};
	const char *body = "Thanks! A few things:\n"
			   "\n"
			   "- `services/invoice_service.py:48`: [ValueError] total can go negative\n"
			   "- routes/api.py:112: KeyError: 'code' when the field is missing\n"
			   "\n"
			   "```python\n"
			   "services/x.py:1: not a finding\n"
			   "```\n"
			   "```healhook\n"
			   "[{\"file\": \"tests/test_x.py\", \"line\": 27, \"message\": \"restore it\"}]\n"
			   "```\n"
			   "routes/api.py:112: KeyError: 'code' when the field is missing\n"
			   "Cheers";

	CHECK(hh_findings_from_text(&f, body, HH_SRC_COMMENT) == 3);
	REQUIRE(f.n == 3);
	CHECK_STR(f.v[0].file, "services/invoice_service.py");
	CHECK(f.v[0].line == 48);
	CHECK_STR(f.v[0].type, "ValueError");
	CHECK_STR(f.v[1].type, "KeyError");
	CHECK_STR(f.v[1].message, "KeyError: 'code' when the field is missing");
	CHECK_STR(f.v[2].file, "tests/test_x.py");
	CHECK(f.v[2].line == 27);
	CHECK(f.v[0].source == HH_SRC_COMMENT && f.v[2].source == HH_SRC_COMMENT);
	/* A second pass over the same text adds nothing new. */
	CHECK(hh_findings_from_text(&f, body, HH_SRC_COMMENT) == 0);
	CHECK(f.n == 3);
	CHECK(hh_findings_from_text(&f, NULL, HH_SRC_COMMENT) == 0);
	{
		/* A healhook block nested deeper than cJSON allows adds nothing. */
		hh_buf b = HH_BUF_INIT;
		int i;

		hh_buf_puts(&b, "```healhook\n");
		for (i = 0; i < 2000; i++)
			hh_buf_putc(&b, '[');
		for (i = 0; i < 2000; i++)
			hh_buf_putc(&b, ']');
		hh_buf_puts(&b, "\n```\nz.py:1: after the block\n");
		CHECK(hh_findings_from_text(&f, b.ptr, HH_SRC_COMMENT) == 1);
		CHECK(f.n == 4);
		CHECK_STR(f.v[3].file, "z.py");
		hh_buf_release(&b);
	}
	hh_findings_release(&f);
	CHECK(f.v == NULL && f.n == 0);
	hh_findings_release(&f);
	hh_findings_release(NULL);
}

TEST(findings_dedupe)
{
	hh_findings f = {0};

	CHECK(hh_findings_add(&f, "a.py", 1, "review", "m", HH_SRC_REVIEW_BODY) == 0);
	CHECK(hh_findings_add(&f, "a.py", 1, "review", "m", HH_SRC_LINE_COMMENT) == 0);
	CHECK(f.n == 1);
	CHECK(hh_findings_add(&f, "a.py", 2, "review", "m", HH_SRC_REVIEW_BODY) == 0);
	CHECK(hh_findings_add(&f, "b.py", 1, "review", "m", HH_SRC_REVIEW_BODY) == 0);
	CHECK(hh_findings_add(&f, "a.py", 1, "NameError", "m", HH_SRC_REVIEW_BODY) == 0);
	CHECK(hh_findings_add(&f, "a.py", 1, "review", "m2", HH_SRC_REVIEW_BODY) == 0);
	CHECK(f.n == 5);
	CHECK(f.v[0].source == HH_SRC_REVIEW_BODY);
	CHECK(hh_findings_from_text(&f, "a.py:1: m\n- a.py:1: m\n`a.py:1`: m", HH_SRC_COMMENT) ==
	      0);
	CHECK(f.n == 5);
	CHECK(hh_findings_add(&f, NULL, 1, "review", "m", HH_SRC_REVIEW_BODY) == -1);
	hh_findings_release(&f);
}

TEST(findings_cap)
{
	hh_findings f = {0};
	hh_buf b = HH_BUF_INIT;
	int i;

	for (i = 1; i <= HH_MAX_FINDINGS; i++)
		hh_buf_printf(&b, "a.py:%d: m\n", i);
	CHECK(hh_findings_from_text(&f, b.ptr, HH_SRC_REVIEW_BODY) == HH_MAX_FINDINGS);
	CHECK(f.n == HH_MAX_FINDINGS);
	/* Duplicates are still fine when full... */
	CHECK(hh_findings_from_text(&f, "a.py:1: m", HH_SRC_REVIEW_BODY) == 0);
	CHECK(hh_findings_add(&f, "a.py", 100, "review", "m", HH_SRC_REVIEW_BODY) == 0);
	/* ...a new one is refused. */
	hh_error_clear();
	CHECK(hh_findings_add(&f, "a.py", 101, "review", "m", HH_SRC_REVIEW_BODY) == -1);
	CHECK_STR(hh_error_last(), "too many findings (max 100)");
	CHECK(hh_findings_from_text(&f, "b.py:1: m", HH_SRC_REVIEW_BODY) == -1);
	CHECK(hh_findings_from_text(&f, "```healhook\n[{\"file\":\"c\",\"message\":\"m\"}]\n```",
				    HH_SRC_REVIEW_BODY) == -1);
	CHECK(f.n == HH_MAX_FINDINGS);
	hh_findings_release(&f);

	/* 150 lines in one text: -1, and the first 100 are kept. */
	for (i = 101; i <= 150; i++)
		hh_buf_printf(&b, "a.py:%d: m\n", i);
	CHECK(hh_findings_from_text(&f, b.ptr, HH_SRC_REVIEW_BODY) == -1);
	CHECK_STR(hh_error_last(), "too many findings (max 100)");
	CHECK(f.n == HH_MAX_FINDINGS);
	CHECK(f.v[99].line == 100);
	hh_findings_release(&f);
	hh_buf_release(&b);
}

TEST(findings_message_cut)
{
	hh_findings f = {0};
	char *m = malloc(HH_MAX_MESSAGE + 10);
	size_t i;

	REQUIRE(m);
	/* Exactly the max: kept whole. */
	memset(m, 'a', HH_MAX_MESSAGE);
	m[HH_MAX_MESSAGE] = '\0';
	CHECK(hh_findings_add(&f, "a.py", 1, "review", m, HH_SRC_REVIEW_BODY) == 0);
	/* A 2-byte character across the limit goes as a whole. */
	memset(m, 'b', HH_MAX_MESSAGE - 1);
	memcpy(m + HH_MAX_MESSAGE - 1, "\xc3\xa9zz", 5);
	CHECK(hh_findings_add(&f, "a.py", 2, "review", m, HH_SRC_REVIEW_BODY) == 0);
	/* A 4-byte character starting 2 bytes before the limit, too. */
	memset(m, 'c', HH_MAX_MESSAGE - 2);
	memcpy(m + HH_MAX_MESSAGE - 2, "\xf0\x9f\x98\x80", 5);
	CHECK(hh_findings_add(&f, "a.py", 3, "review", m, HH_SRC_REVIEW_BODY) == 0);
	REQUIRE(f.n == 3);
	CHECK(strlen(f.v[0].message) == HH_MAX_MESSAGE);
	CHECK(strlen(f.v[1].message) == HH_MAX_MESSAGE - 1);
	CHECK(strlen(f.v[2].message) == HH_MAX_MESSAGE - 2);
	for (i = 0; i < HH_MAX_MESSAGE - 2; i++)
		if (f.v[2].message[i] != 'c')
			break;
	CHECK(i == HH_MAX_MESSAGE - 2);
	/* Two messages equal in their first HH_MAX_MESSAGE bytes are the same finding. */
	memset(m, 'a', HH_MAX_MESSAGE + 5);
	m[HH_MAX_MESSAGE + 5] = '\0';
	CHECK(hh_findings_add(&f, "a.py", 1, "review", m, HH_SRC_REVIEW_BODY) == 0);
	CHECK(f.n == 3);
	free(m);
	hh_findings_release(&f);
}

TEST(findings_line_comment)
{
	hh_findings f = {0};

	CHECK(hh_findings_from_line_comment(&f, "a.py", 3, "[NameError]  x is undefined \n") == 0);
	CHECK(hh_findings_from_line_comment(&f, "b.py", 4, "  plain text\r\n") == 0);
	CHECK(hh_findings_from_line_comment(&f, "c.py", 5, "NameError: no tag") == 0);
	CHECK(hh_findings_from_line_comment(&f, "d.py", 6, "first line\n\nsecond line") == 0);
	CHECK(hh_findings_from_line_comment(&f, "e.py", 0, "[Bad Tag] text") == 0);
	REQUIRE(f.n == 5);
	CHECK_STR(f.v[0].file, "a.py");
	CHECK(f.v[0].line == 3);
	CHECK_STR(f.v[0].type, "NameError");
	CHECK_STR(f.v[0].message, "x is undefined");
	CHECK(f.v[0].source == HH_SRC_LINE_COMMENT);
	CHECK_STR(f.v[1].type, "review");
	CHECK_STR(f.v[1].message, "plain text");
	CHECK_STR(f.v[2].type, "review");
	CHECK_STR(f.v[2].message, "NameError: no tag");
	CHECK_STR(f.v[3].message, "first line\n\nsecond line");
	CHECK_STR(f.v[4].type, "review");
	CHECK_STR(f.v[4].message, "[Bad Tag] text");
	/* Empty bodies and a bare tag add nothing. */
	CHECK(hh_findings_from_line_comment(&f, "a.py", 1, "") == 0);
	CHECK(hh_findings_from_line_comment(&f, "a.py", 1, " \r\n\t") == 0);
	CHECK(hh_findings_from_line_comment(&f, "a.py", 1, NULL) == 0);
	CHECK(hh_findings_from_line_comment(&f, "a.py", 1, "[NameError] ") == 0);
	CHECK(f.n == 5);
	/* The same comment twice is one finding. */
	CHECK(hh_findings_from_line_comment(&f, "b.py", 4, "plain text") == 0);
	CHECK(f.n == 5);
	CHECK(hh_findings_from_line_comment(&f, NULL, 1, "x") == -1);
	CHECK(hh_findings_from_line_comment(&f, "", 1, "x") == -1);
	hh_findings_release(&f);
}

TEST(findings_source_names)
{
	CHECK_STR(hh_source_name(HH_SRC_REVIEW_BODY), "review-body");
	CHECK_STR(hh_source_name(HH_SRC_LINE_COMMENT), "line-comment");
	CHECK_STR(hh_source_name(HH_SRC_COMMENT), "comment");
}

#define PROMPT_HEAD "Fix the following "
#define PROMPT_MID " in this file. Only fix what is necessary, do not refactor or add features. Error: "

TEST(findings_prompt_wording)
{
	char *p = hh_prompt_build("NameError", "name 'x' is not defined");

	CHECK_STR(p, "Fix the following NameError in this file. Only fix what is necessary, do not "
		     "refactor or add features. Error: name 'x' is not defined");
	free(p);
	p = hh_prompt_build(NULL, NULL);
	CHECK_STR(p, PROMPT_HEAD "review" PROMPT_MID);
	free(p);
	p = hh_prompt_build("Name Error;$(id)/x\n", "m");
	CHECK_STR(p, PROMPT_HEAD "NameErroridx" PROMPT_MID "m");
	free(p);
	p = hh_prompt_build("E:501.x-y_z", "m");
	CHECK_STR(p, PROMPT_HEAD "E:501.x-y_z" PROMPT_MID "m");
	free(p);
	p = hh_prompt_build(";;;", "m");
	CHECK_STR(p, PROMPT_HEAD "review" PROMPT_MID "m");
	free(p);
}

TEST(findings_prompt_type_max)
{
	char type[101];
	char want[65];
	char *p;

	memset(type, 'T', 100);
	type[100] = '\0';
	memset(want, 'T', 64);
	want[64] = '\0';
	p = hh_prompt_build(type, "m");
	REQUIRE(p);
	CHECK(strncmp(p + strlen(PROMPT_HEAD), want, 64) == 0);
	CHECK(strncmp(p + strlen(PROMPT_HEAD) + 64, " in this file.", 14) == 0);
	free(p);
}

TEST(findings_prompt_message)
{
	char m[1024];
	const char *msg;
	char *p;

	/* Shell syntax is plain text. */
	p = hh_prompt_build("review", "$(touch /tmp/pwned) `id` ; rm -rf ~ && echo 'x' \"y\"");
	CHECK_STR(p, PROMPT_HEAD "review" PROMPT_MID
				 "$(touch /tmp/pwned) `id` ; rm -rf ~ && echo 'x' \"y\"");
	free(p);
	/* Controls removed except newline and tab; C1 controls too; other UTF-8 kept. */
	p = hh_prompt_build("review", "a\x01" "b\x1b[31mc\r\n\td\x7f" "e\xc2\x85" "f\xc2\xa0g\xc3\xa9");
	CHECK_STR(p, PROMPT_HEAD "review" PROMPT_MID "ab[31mc\n\tdef\xc2\xa0g\xc3\xa9");
	free(p);
	/* Messages starting with '/' or '!' (aider commands) never start the prompt. */
	p = hh_prompt_build("review", "/run rm -rf /");
	REQUIRE(p);
	CHECK(p[0] == 'F');
	CHECK(strncmp(p, "Fix ", 4) == 0);
	CHECK(strstr(p, "Error: /run rm -rf /") != NULL);
	free(p);
	p = hh_prompt_build("/run", "!touch /tmp/pwned");
	REQUIRE(p);
	CHECK(p[0] != '/' && p[0] != '!');
	CHECK_STR(p, PROMPT_HEAD "run" PROMPT_MID "!touch /tmp/pwned");
	free(p);
	p = hh_prompt_build("review", "\n/cmd");
	REQUIRE(p);
	CHECK(p[0] == 'F');
	free(p);

	/* Cut at 500 bytes. */
	memset(m, 'a', 600);
	m[600] = '\0';
	p = hh_prompt_build("review", m);
	REQUIRE(p);
	msg = strstr(p, "Error: ") + 7;
	CHECK(strlen(msg) == HH_MAX_PROMPT_MESSAGE);
	free(p);
	/* A 2-byte character across byte 500 is dropped whole. */
	memset(m, 'a', 499);
	memcpy(m + 499, "\xc3\xa9zzz", 6);
	p = hh_prompt_build("review", m);
	REQUIRE(p);
	msg = strstr(p, "Error: ") + 7;
	CHECK(strlen(msg) == 499);
	CHECK(msg[498] == 'a');
	free(p);
	/* A 3-byte character ending exactly at byte 500 is kept. */
	memset(m, 'a', 497);
	memcpy(m + 497, "\xe2\x9c\x93zzz", 7);
	p = hh_prompt_build("review", m);
	REQUIRE(p);
	msg = strstr(p, "Error: ") + 7;
	CHECK(strlen(msg) == 500);
	CHECK(strcmp(msg + 497, "\xe2\x9c\x93") == 0);
	free(p);
	/* Control characters are removed before the cut: 600 controls + "ok" → "ok". */
	memset(m, '\x01', 600);
	strcpy(m + 600, "ok");
	p = hh_prompt_build("review", m);
	CHECK_STR(p, PROMPT_HEAD "review" PROMPT_MID "ok");
	free(p);
}

/* The samples: the review body is prose (no findings); its 3 line comments are findings. */
TEST(findings_gitea_samples)
{
	hh_buf b = HH_BUF_INIT;
	hh_findings f = {0};
	cJSON *root = NULL, *it;

	if (access(SAMPLES, R_OK) != 0) {
		fprintf(stderr, "    skip: %s not found\n", SAMPLES);
		return;
	}
	REQUIRE(hh_buf_read_file(&b, SAMPLES "/review_comments_api.json", 1 << 20) == 0);
	root = cJSON_ParseWithLength(b.ptr, b.len);
	REQUIRE(cJSON_IsArray(root));
	cJSON_ArrayForEach(it, root)
	{
		const cJSON *path = cJSON_GetObjectItemCaseSensitive(it, "path");
		const cJSON *pos = cJSON_GetObjectItemCaseSensitive(it, "position");
		const cJSON *opos = cJSON_GetObjectItemCaseSensitive(it, "original_position");
		const cJSON *body = cJSON_GetObjectItemCaseSensitive(it, "body");
		long line = (long)(pos->valuedouble ? pos->valuedouble : opos->valuedouble);

		CHECK(hh_findings_from_line_comment(&f, path->valuestring, line,
						    body->valuestring) == 0);
	}
	cJSON_Delete(root);
	CHECK(f.n == 3);
	/* The review bodies of the samples are prose: no findings. */
	{
		static const char *const names[] = {"review_rejected.json", "review_approved.json",
						    "review_comment.json"};
		size_t i;

		for (i = 0; i < 3; i++) {
			hh_event ev;
			char path[128];

			snprintf(path, sizeof(path), "%s/%s", SAMPLES, names[i]);
			hh_buf_clear(&b);
			REQUIRE(hh_buf_read_file(&b, path, 1 << 20) == 0);
			REQUIRE(hh_event_parse(&ev, HH_EV_REVIEW_REJECTED, b.ptr, b.len) == 0);
			CHECK(ev.review_content != NULL);
			CHECK(hh_findings_from_text(&f, ev.review_content, HH_SRC_REVIEW_BODY) == 0);
			hh_event_release(&ev);
		}
	}
	CHECK(f.n == 3);
	CHECK_STR(f.v[0].file, "services/invoice_service.py");
	CHECK(f.v[0].line == 48);
	CHECK_STR(f.v[2].file, "tests/test_x.py");
	CHECK(f.v[2].line == 27);
	CHECK_STR(f.v[2].type, "review");
	hh_buf_release(&b);
	hh_findings_release(&f);
}

/* Pseudo-random texts built from the grammar's own pieces: never a crash, and every finding
 * that comes out is well formed. Deterministic (fixed seed). */
TEST(findings_random_texts)
{
	static const char *const parts[] = {
		"a.py", ":", "12", " ", "\t", "`", "- ", "1. ", "[", "]", "NameError", "\n", "\r\n",
		"```", "~~~", "healhook", "{", "}", "\"", "file", "message", ",", "/", "..", "x",
		"\xc3\xa9", "\xff", "://", "0", "123456789012", "\\", "\na.py:3: m\n",
		"\nb.py:7:2: [T] m ", "\n[{\"file\":\"c.py\",\"message\":\"m\"}]\n",
	};
	unsigned int seed = 12345;
	int round, total = 0;

	for (round = 0; round < 3000; round++) {
		hh_buf b = HH_BUF_INIT;
		hh_findings f = {0};
		int k, n = 1 + (int)(seed % 40);
		size_t i;

		for (k = 0; k < n; k++) {
			seed = seed * 1103515245u + 12345u;
			hh_buf_puts(&b, parts[(seed >> 16) % (sizeof(parts) / sizeof(parts[0]))]);
		}
		n = hh_findings_from_text(&f, b.ptr, HH_SRC_REVIEW_BODY);
		CHECK(n >= 0 && (size_t)n == f.n);
		for (i = 0; i < f.n; i++) {
			const hh_finding *x = &f.v[i];
			CHECK(x->file[0] && x->type[0] && x->message[0]);
			CHECK(strchr(x->file, ':') == NULL && strchr(x->file, ' ') == NULL);
			CHECK(x->line >= 0 && x->line <= 999999999);
			CHECK(strchr(x->message, '\r') == NULL);
		}
		total += n > 0 ? n : 0;
		hh_findings_release(&f);
		hh_buf_release(&b);
	}
	CHECK(total > 0); /* the generator does produce findings */
}

/* The fingerprint is SHA-256 of repo \0 branch \0 file \0 type \0 message (stored in
 * existing databases: it must not change). */
TEST(finding_fingerprint_definition)
{
	hh_finding f = {0};
	char got[65], want[65];
	static const char bytes[] = "acme/shop\0main\0services/a.py\0NameError\0name 'x'";

	f.file = "services/a.py";
	f.type = "NameError";
	f.message = "name 'x'";
	hh_finding_fingerprint("acme/shop", "main", &f, got);
	hh_sha256_hex(bytes, sizeof(bytes) - 1, want);
	CHECK_STR(got, want);
}
