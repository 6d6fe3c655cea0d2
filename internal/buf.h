/*
 * buf: a growable byte buffer with clear ownership (after git's strbuf).
 *
 * A buffer starts as HH_BUF_INIT and is always NUL-terminated once anything has been
 * added, so ->ptr can be used as a C string. hh_buf_release() frees the memory and
 * resets the buffer; hh_buf_detach() hands the memory to the caller.
 * Functions return 0 on success and -1 on allocation failure or a cap being exceeded,
 * with the error set (see log.h).
 *
 * The one rule for failed appends (after libgit2's git_str): a failure is sticky. Once an
 * append has failed, the buffer is marked failed and every later append does nothing and
 * returns -1, so a sequence of appends may ignore each result and be checked once at the end
 * with hh_buf_failed(). hh_buf_detach() of a failed buffer frees it and returns NULL.
 * Whoever hands a buffer's content on (an answer, a file, a return value) checks
 * hh_buf_failed() first and never passes on a truncated result. hh_buf_clear() and
 * hh_buf_release() end the failed state.
 */
#ifndef HH_BUF_H
#define HH_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct hh_buf {
	char *ptr;
	size_t len;
	size_t cap;
	int failed; /* an append failed: see the rule above */
} hh_buf;

#define HH_BUF_INIT                                                                                \
	{                                                                                          \
		NULL, 0, 0, 0                                                                      \
	}

int hh_buf_grow(hh_buf *b, size_t extra);
int hh_buf_put(hh_buf *b, const void *data, size_t len);
int hh_buf_puts(hh_buf *b, const char *s);
int hh_buf_putc(hh_buf *b, char c);
int hh_buf_printf(hh_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int hh_buf_vprintf(hh_buf *b, const char *fmt, va_list ap);
/* Appends s as the inside of a JSON string (no surrounding quotes). */
int hh_buf_put_json_str(hh_buf *b, const char *s);
void hh_buf_clear(hh_buf *b);
/* 1 if an append to b failed since it was last cleared or released. */
int hh_buf_failed(const hh_buf *b);
/* Marks b failed (for a result that could not be built, e.g. a piece that is NULL because
 * memory ran out); sets the error "out of memory" and returns -1. */
int hh_buf_fail(hh_buf *b);
void hh_buf_release(hh_buf *b);
/* Returns the buffer's memory ("" for an empty buffer; NULL if the buffer failed or when out
 * of memory); the caller frees it. The buffer is reset either way. */
char *hh_buf_detach(hh_buf *b);
/*
 * Reads a whole file into b (appending). Fails if the file is larger than max bytes
 * (max == 0: no cap), with an error naming the path.
 */
int hh_buf_read_file(hh_buf *b, const char *path, size_t max);
/* The same from an open descriptor, to its end (name is what errors call it); fd stays open. */
int hh_buf_read_fd(hh_buf *b, int fd, size_t max, const char *name);

/* The value of a hex digit (either case), or -1. */
int hh_hex_digit(char c);

/* 1 if data[0..len) is valid UTF-8 (no overlong forms, surrogates or code points > U+10FFFF),
 * else 0. ASCII runs are crossed eight bytes at a time. */
int hh_utf8_valid(const void *data, size_t len);

/* Small string helpers. hh_strdup/hh_strndup return NULL only when out of memory. */
char *hh_strdup(const char *s);
char *hh_strndup(const char *s, size_t n);
/* Returns a new string from printf-style arguments; the caller frees it. */
char *hh_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A NULL-terminated list of owned strings. */
typedef struct hh_strv {
	char **v;
	size_t n;
} hh_strv;

int hh_strv_push(hh_strv *sv, const char *s);
void hh_strv_release(hh_strv *sv);
int hh_strv_contains(const hh_strv *sv, const char *s);

#endif
