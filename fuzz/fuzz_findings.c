/*
 * fuzz_findings: the findings grammar and the prompt built from what it finds.
 *
 * The whole input is review text for hh_findings_from_text(); its first line is also a line
 * comment's path and the rest its body (line number from the first byte). Properties: at most
 * HH_MAX_FINDINGS findings, each with a non-empty file and type and a message of at most
 * HH_MAX_MESSAGE bytes; a prompt never starts with '/' or '!', holds no control character
 * but newline and tab, and is bounded in length.
 */
#include "fuzz/fuzz.h"
#include "internal/findings.h"

#define PROMPT_MAX (200 + 64 + HH_MAX_PROMPT_MESSAGE)

static void check_prompt(const char *type, const char *message)
{
	char *prompt = hh_prompt_build(type, message);
	size_t i, len;

	FUZZ_ASSERT(prompt != NULL);
	len = strlen(prompt);
	FUZZ_ASSERT(len > 0 && len <= PROMPT_MAX);
	FUZZ_ASSERT(prompt[0] != '/' && prompt[0] != '!');
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)prompt[i];
		FUZZ_ASSERT(c >= 0x20 || c == '\n' || c == '\t');
		FUZZ_ASSERT(c != 0x7f);
	}
	free(prompt);
}

static void check_findings(const hh_findings *f)
{
	size_t i;

	FUZZ_ASSERT(f->n <= HH_MAX_FINDINGS);
	for (i = 0; i < f->n; i++) {
		const hh_finding *x = &f->v[i];
		FUZZ_ASSERT(x->file && x->file[0] && x->type && x->type[0] && x->message);
		FUZZ_ASSERT(strlen(x->message) <= HH_MAX_MESSAGE);
		FUZZ_ASSERT(x->line >= 0);
		check_prompt(x->type, x->message);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size);
	const uint8_t *p = data;
	size_t n = size;
	char *path = fuzz_field(&p, &n);
	hh_findings f = {NULL, 0, 0}, lc = {NULL, 0, 0};
	int rc;

	rc = hh_findings_from_text(&f, text, HH_SRC_REVIEW_BODY);
	FUZZ_ASSERT(rc >= -1 && rc <= HH_MAX_FINDINGS);
	if (rc >= 0)
		FUZZ_ASSERT((size_t)rc == f.n);
	check_findings(&f);
	if (path) {
		char *body = fuzz_cstr(p, n);
		long line = size ? (long)data[0] - 64 : 0;

		hh_findings_from_line_comment(&lc, path, line, body);
		check_findings(&lc);
		check_prompt(path, body);
		free(body);
	}
	check_prompt(NULL, text);
	hh_findings_release(&f);
	hh_findings_release(&lc);
	free(path);
	free(text);
	return 0;
}
