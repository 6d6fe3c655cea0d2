/*
 * A tiny unit-test harness: TEST(name) { ... } registers a test at load time; CHECK(cond)
 * records a failure with file:line and goes on; REQUIRE(cond) records it and leaves the test.
 * The runner (tests/unit/main.c) runs every registered test, or those whose name contains
 * argv[1], and ends with "unit: N passed, N failed".
 */
#ifndef HH_T_H
#define HH_T_H

#include <stdio.h>
#include <string.h>

typedef void (*t_fn)(void);
void t_register(const char *name, t_fn fn);
void t_fail(const char *file, int line, const char *expr);
extern int t_failed_now;

#define TEST(name)                                                                  \
	static void test_##name(void);                                              \
	__attribute__((constructor)) static void reg_##name(void)                    \
	{                                                                             \
		t_register(#name, test_##name);                                       \
	}                                                                             \
	static void test_##name(void)

#define CHECK(c)                                                                    \
	do {                                                                          \
		if (!(c))                                                             \
			t_fail(__FILE__, __LINE__, #c);                               \
	} while (0)
#define REQUIRE(c)                                                                  \
	do {                                                                          \
		if (!(c)) {                                                           \
			t_fail(__FILE__, __LINE__, #c);                               \
			return;                                                       \
		}                                                                     \
	} while (0)
#define CHECK_STR(a, b)                                                             \
	do {                                                                          \
		const char *a_ = (a), *b_ = (b);                                      \
		if (!a_ || !b_ || strcmp(a_, b_) != 0) {                              \
			t_fail(__FILE__, __LINE__, #a " == " #b);                     \
			fprintf(stderr, "      got '%s', want '%s'\n", a_ ? a_ : "(null)", \
				b_ ? b_ : "(null)");                                  \
		}                                                                     \
	} while (0)

/* Path of the project's fixtures directory (tests run from the project root). */
#define FIXTURES "fixtures"

#endif
