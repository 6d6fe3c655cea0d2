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

TEST(buf_failure_is_sticky)
{
	hh_buf b = HH_BUF_INIT;
	char *p;

	CHECK(hh_buf_puts(&b, "{\"a\":") == 0);
	CHECK(!hh_buf_failed(&b));
	CHECK(hh_buf_grow(&b, ((size_t)-1) / 2) == -1); /* as an allocation failure would */
	CHECK(hh_buf_failed(&b));
	/* Later appends change nothing and report the failure. */
	CHECK(hh_buf_puts(&b, "1}") == -1);
	CHECK(hh_buf_putc(&b, 'x') == -1);
	CHECK(hh_buf_printf(&b, "%d", 42) == -1);
	CHECK(hh_buf_put_json_str(&b, "s") == -1);
	CHECK_STR(b.ptr, "{\"a\":");
	/* A failed buffer never hands on its (truncated) content. */
	CHECK(hh_buf_detach(&b) == NULL);
	CHECK(b.ptr == NULL && !hh_buf_failed(&b));

	CHECK(hh_buf_puts(&b, "x") == 0);
	CHECK(hh_buf_grow(&b, ((size_t)-1) / 2) == -1);
	hh_buf_clear(&b); /* clearing starts afresh */
	CHECK(!hh_buf_failed(&b));
	CHECK(hh_buf_puts(&b, "ok") == 0);
	p = hh_buf_detach(&b);
	CHECK_STR(p, "ok");
	free(p);
}
