/*
 * log: one line per event on stderr, and the per-thread "last error" (after libgit2's
 * git_error_last and OpenBSD's log.c).
 *
 * Errors: a failing function calls hh_error(fmt, ...) where the failure is found; it
 * records the message for this thread and returns -1, so "return hh_error(...)" is the
 * idiom. Callers read it with hh_error_last(). Messages are lowercase, without a final
 * period, and say what failed on which object.
 *
 * Events: hh_log(level, event, key, value, key, value, ..., NULL) writes
 *   ts=2026-11-25T21:00:00Z level=info event=delivery.accepted key=value ...
 * or, after hh_log_init(..., HH_LOG_JSON), one JSON object per line. Values are quoted when
 * they contain spaces, quotes or control characters. Never pass a secret as a value.
 */
#ifndef HH_LOG_H
#define HH_LOG_H

#include "internal/error.h"

enum hh_log_level { HH_LOG_ERROR = 0, HH_LOG_WARN, HH_LOG_INFO, HH_LOG_DEBUG };
enum hh_log_format { HH_LOG_TEXT = 0, HH_LOG_JSON };

void hh_log_init(enum hh_log_level level, enum hh_log_format format);
/* Parses "error|warn|info|debug"; returns -1 if unknown. */
int hh_log_level_parse(const char *s);
void hh_log(enum hh_log_level level, const char *event, ...) __attribute__((sentinel));

/* Records the message with the code HH_ERR (internal/error.h) and returns -1. */
int hh_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The message of the last hh_error() on this thread ("" if none). Valid until the next one. */
const char *hh_error_last(void);
void hh_error_clear(void);

#endif
