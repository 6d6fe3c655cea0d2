/*
 * Unit tests for what the fuzz targets (fuzz/) found, one test per fix; the inputs that found
 * them are also kept in fuzz/corpus/ and replayed by `make test`.
 */
#include "tests/unit/t.h"
#include "internal/config.h"
#include "internal/log.h"
#include "webhook/headers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Loads "[repo "a/b"] allow = PATTERN" from a temp file; returns hh_config_load()'s result. */
static int load_allow(const char *pattern)
{
	char path[] = "/tmp/hh-fuzz-found-XXXXXX";
	char *const envp[] = {NULL};
	hh_config *cfg = NULL;
	FILE *f;
	int fd = mkstemp(path), rc;

	if (fd < 0 || !(f = fdopen(fd, "w")))
		return -2;
	fprintf(f, "[repo \"a/b\"]\n\thost = /srv/x\n\tallow = \"%s\"\n", pattern);
	fclose(f);
	rc = hh_config_load(&cfg, path, envp);
	unlink(path);
	hh_config_free(cfg);
	return rc;
}

TEST(fuzz_headers_name_of_cr_only)
{
	/* "\r::D" was accepted as a header with an empty name (found by fuzz_headers). */
	hh_headers h = {0};

	CHECK(hh_headers_parse(&h, "\r::D::::", 8) == -1);
	CHECK(strstr(hh_error_last(), "line 1") != NULL);
	hh_headers_release(&h);
	CHECK(hh_headers_parse(&h, "A: 1\n \t\r: x\n", 12) == -1);
	CHECK(strstr(hh_error_last(), "line 2") != NULL);
	hh_headers_release(&h);
	REQUIRE(hh_headers_parse(&h, "X-A:\r\n", 6) == 0);
	CHECK(h.n == 1 && strcmp(h.v[0].name, "X-A") == 0 && strcmp(h.v[0].value, "") == 0);
	hh_headers_release(&h);
}

TEST(fuzz_config_allow_regex_bounded)
{
	char deep[200];

	/* Stacked repetitions made glibc's regcomp() allocate 2 GB (found by fuzz_config). */
	CHECK(load_allow("^x/.*a++++++++++++++++++++++++++++++++") == -1);
	CHECK(strstr(hh_error_last(), "too complex") != NULL);
	CHECK(strstr(hh_error_last(), "allow") != NULL);
	CHECK(load_allow("((((((((((((((((((((((((a+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+") == -1);
	CHECK(load_allow("(a{200}){200}") == -1);
	memset(deep, '(', 100);
	memset(deep + 100, ')', 99);
	deep[199] = '\0';
	CHECK(load_allow(deep) == -1);
	/* Ordinary patterns still load. */
	CHECK(load_allow(HH_DEFAULT_ALLOW) == 0);
	CHECK(load_allow("^src/[a-z]+[.]c$") == 0);
	CHECK(load_allow("^(a|b){1,3}/[[:alnum:]_]+[.](py|js)$") == 0);
	CHECK(load_allow("^x{2,}y?z*$") == 0);
}
