/*
 * failalloc.h: force-included (-include) into every source of a FAILALLOC=1 build, so that
 * healhook's own allocations go through a countdown that can make the Nth one fail
 * (tests/failalloc.c). cJSON and SQLite are given the same allocator through their own hooks
 * (hh_failalloc_install). The system headers come first so that their declarations keep
 * their real names.
 */
#ifndef HH_FAILALLOC_H
#define HH_FAILALLOC_H

#include <stdlib.h>
#include <string.h>

void *hh_fa_malloc(size_t n);
void *hh_fa_calloc(size_t n, size_t size);
void *hh_fa_realloc(void *p, size_t n);
char *hh_fa_strdup(const char *s);
char *hh_fa_strndup(const char *s, size_t n);

#define malloc(n) hh_fa_malloc(n)
#define calloc(n, s) hh_fa_calloc(n, s)
#define realloc(p, n) hh_fa_realloc(p, n)
#define strdup(s) hh_fa_strdup(s)
#define strndup(s, n) hh_fa_strndup(s, n)

/* Makes the nth allocation from now fail (and every later one too when sticky); 0 = none. */
void hh_failalloc_arm(long nth, int sticky);
/* Allocations counted since the last arm, and whether the armed one has failed. */
long hh_failalloc_count(void);
int hh_failalloc_fired(void);
/* Routes cJSON's and SQLite's allocations through the countdown (before SQLite starts). */
void hh_failalloc_install(void);

#endif
