#include "tests/unit/t.h"
#include "internal/log.h"

#include <string.h>

TEST(error_fail_records_code_and_returns_it)
{
	CHECK(hh_fail(HH_EBUSY, "store %s busy", "x") == HH_EBUSY);
	CHECK(hh_error_code() == HH_EBUSY);
	CHECK_STR(hh_error_last(), "store x busy");
	CHECK_STR(hh_error_name(hh_error_code()), "busy");
	CHECK(hh_error("plain") == -1);
	CHECK(hh_error_code() == HH_ERR);
	CHECK(hh_fail(HH_OK, "not a failure code") == HH_ERR); /* never a success */
	hh_error_clear();
	CHECK(hh_error_code() == HH_OK);
	CHECK_STR(hh_error_last(), "");
}

TEST(error_wrap_keeps_code_and_detail)
{
	hh_fail(HH_EHOSTKEY_CHANGED, "host key for h does not match");
	hh_error_set_detail("SHA256:abc");
	CHECK(hh_error_wrap("fix host %s", "h") == HH_EHOSTKEY_CHANGED);
	CHECK_STR(hh_error_last(), "fix host h: host key for h does not match");
	CHECK_STR(hh_error_detail(), "SHA256:abc");
	CHECK(hh_error_code() == HH_EHOSTKEY_CHANGED);
	hh_error("other");
	CHECK_STR(hh_error_detail(), ""); /* a new failure has no detail of the old one */
}

TEST(error_wrap_truncates_without_overflow)
{
	char big[2000];

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	hh_fail(HH_EBADINPUT, "%s", big);
	CHECK(hh_error_wrap("%s", big) == HH_EBADINPUT);
	CHECK(strlen(hh_error_last()) == 1023);
	hh_error_clear();
	CHECK(hh_error_wrap("context only") == HH_ERR); /* nothing failed before: still a failure */
	CHECK_STR(hh_error_last(), "context only");
}
