#include "tests/unit/t.h"
#include "internal/buf.h"
#include "internal/log.h"

#include <stdlib.h>

TEST(buf_put_and_printf)
{
	hh_buf b = HH_BUF_INIT;
	char *s;

	CHECK(hh_buf_puts(&b, "abc") == 0);
	CHECK(hh_buf_printf(&b, "-%d-", 42) == 0);
	CHECK_STR(b.ptr, "abc-42-");
	CHECK(b.len == 7);
	s = hh_buf_detach(&b);
	CHECK_STR(s, "abc-42-");
	CHECK(b.ptr == NULL);
	free(s);
}

TEST(buf_json_escape)
{
	hh_buf b = HH_BUF_INIT;

	hh_buf_put_json_str(&b, "a\"b\\c\nd\x01");
	CHECK_STR(b.ptr, "a\\\"b\\\\c\\nd\\u0001");
	hh_buf_release(&b);
}

TEST(buf_read_file_cap)
{
	hh_buf b = HH_BUF_INIT;

	CHECK(hh_buf_read_file(&b, "Makefile", 10) == -1);
	CHECK(strstr(hh_error_last(), "Makefile") != NULL);
	hh_buf_release(&b);
	CHECK(hh_buf_read_file(&b, "/nonexistent/x", 0) == -1);
	CHECK(strstr(hh_error_last(), "/nonexistent/x") != NULL);
	hh_buf_release(&b);
}
