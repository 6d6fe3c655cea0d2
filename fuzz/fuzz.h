/*
 * fuzz: what the libFuzzer targets in fuzz/ share.
 *
 * Each fuzz_NAME.c defines LLVMFuzzerTestOneInput() over one pure parser. The same file is
 * linked two ways: with clang and -fsanitize=fuzzer,address,undefined into build-fuzz/fuzz/
 * (`make fuzz`), and with the normal compiler and replay_main.c into build/fuzz-replay-NAME,
 * which `make test` runs over the saved corpus in fuzz/corpus/NAME/. A target returns 0 for
 * every input; it calls abort() when a property the parser promises does not hold, so that
 * both the fuzzer and the replay report it.
 */
#ifndef HH_FUZZ_H
#define HH_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A NUL-terminated copy of data (the caller frees it); aborts when out of memory. */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/*
 * Cuts the next '\n'-terminated field off *p (size *n): returns a new NUL-terminated string
 * the caller frees, or NULL when no newline is left (then *p and *n are unchanged).
 */
static inline char *fuzz_field(const uint8_t **p, size_t *n)
{
	const uint8_t *nl = *n ? memchr(*p, '\n', *n) : NULL;
	char *s;

	if (!nl)
		return NULL;
	s = fuzz_cstr(*p, (size_t)(nl - *p));
	*n -= (size_t)(nl - *p) + 1;
	*p = nl + 1;
	return s;
}

/* Aborts with a message when a promised property does not hold. */
#define FUZZ_ASSERT(c)                                                                      \
	do {                                                                                \
		if (!(c)) {                                                                 \
			fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #c); \
			abort();                                                            \
		}                                                                           \
	} while (0)

#endif
