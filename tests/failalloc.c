/*
 * failalloc.c: the countdown allocator of FAILALLOC=1 builds (see failalloc.h). One
 * process-wide counter: the fault-injection unit tests run single-threaded.
 */
#include "tests/failalloc.h"

/* The build force-includes failalloc.h: here the names must mean the real allocator. */
#undef malloc
#undef calloc
#undef realloc
#undef strdup
#undef strndup

#include <cjson/cJSON.h>
#include <errno.h>
#include <sqlite3.h>

static long fail_at;   /* the allocation (1-based since arm) that fails; 0 = none */
static long count;
static int sticky, fired;

void hh_failalloc_arm(long nth, int s)
{
	fail_at = nth;
	sticky = s;
	count = 0;
	fired = 0;
}

long hh_failalloc_count(void)
{
	return count;
}

int hh_failalloc_fired(void)
{
	return fired;
}

static int should_fail(void)
{
	count++;
	if (fail_at > 0 && (count == fail_at || (sticky && count > fail_at))) {
		fired = 1;
		errno = ENOMEM;
		return 1;
	}
	return 0;
}

void *hh_fa_malloc(size_t n)
{
	return should_fail() ? NULL : malloc(n);
}

void *hh_fa_calloc(size_t n, size_t size)
{
	return should_fail() ? NULL : calloc(n, size);
}

void *hh_fa_realloc(void *p, size_t n)
{
	return should_fail() ? NULL : realloc(p, n);
}

char *hh_fa_strdup(const char *s)
{
	return should_fail() ? NULL : strdup(s);
}

char *hh_fa_strndup(const char *s, size_t n)
{
	return should_fail() ? NULL : strndup(s, n);
}

/* SQLite's allocator methods over the countdown; sizes are kept in a header word. */
static void *sq_malloc(int n)
{
	long long *p;

	if (n <= 0 || should_fail())
		return NULL;
	if (!(p = malloc((size_t)n + sizeof(long long))))
		return NULL;
	*p = n;
	return p + 1;
}

static void sq_free(void *p)
{
	if (p)
		free((long long *)p - 1);
}

static void *sq_realloc(void *p, int n)
{
	long long *q;

	if (!p)
		return sq_malloc(n);
	if (n <= 0 || should_fail())
		return NULL;
	if (!(q = realloc((long long *)p - 1, (size_t)n + sizeof(long long))))
		return NULL;
	*q = n;
	return q + 1;
}

static int sq_size(void *p)
{
	return p ? (int)((long long *)p)[-1] : 0;
}

static int sq_roundup(int n)
{
	return (n + 7) & ~7;
}

static int sq_init(void *arg)
{
	(void)arg;
	return SQLITE_OK;
}

static void sq_shutdown(void *arg)
{
	(void)arg;
}

void hh_failalloc_install(void)
{
	static const sqlite3_mem_methods m = {sq_malloc, sq_free,     sq_realloc, sq_size,
					      sq_roundup, sq_init, sq_shutdown, NULL};
	cJSON_Hooks hooks = {hh_fa_malloc, free};

	cJSON_InitHooks(&hooks);
	sqlite3_config(SQLITE_CONFIG_MALLOC, &m);
}

/* Installed before main, so before SQLite initialises itself. */
__attribute__((constructor)) static void failalloc_auto_install(void)
{
	hh_failalloc_install();
}
