/*
 * version: see version.h. The one place that asks every library for its version.
 */
#include "internal/version.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <git2.h>
#include <libssh2.h>
#include <mbedtls/version.h>
#include <microhttpd.h>
#include <sqlite3.h>

int hh_version_libs(hh_buf *out)
{
	int maj, min, rev;
	char mbed[32];

	git_libgit2_version(&maj, &min, &rev);
	mbedtls_version_get_string(mbed);
	return hh_buf_printf(out,
			     "libgit2 %d.%d.%d, libssh2 %s, %s, libmicrohttpd %s, "
			     "sqlite %s, mbedTLS %s, cJSON %s",
			     maj, min, rev, libssh2_version(0), curl_version(), MHD_get_version(),
			     sqlite3_libversion(), mbed, cJSON_Version());
}
