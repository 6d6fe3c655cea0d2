/*
 * notify: tells people about every outcome of a heal (design.md, L5), on Telegram and on Gitea.
 *
 * The pipeline calls hh_notify() with a notice; that only copies the notice into a bounded
 * queue (mutex + condition variable) and returns at once. One background thread per notifier
 * takes notices in order and delivers each one:
 *   - Telegram: POST {telegram_api}/bot{token}/sendMessage to EVERY configured chat, HTML
 *     parse mode, untrusted text escaped;
 *   - Gitea (gitea.url and gitea.token set): a PR comment for an outcome with a PR number
 *     (notify.gitea-comment), and a commit status with context "healhook" on the pushed commit:
 *     pending at PUSHED, success at HEALED, failure at REVERTED, REVERT_FAILED and
 *     REVERT_UNHEALTHY.
 * A delivery is retried with exponential backoff (1, 2, 4, 8 s) on network errors, 429 and
 * 5xx, honouring Telegram's parameters.retry_after and a Retry-After header, at most
 * HH_NOTIFY_ATTEMPTS attempts; any other answer ends it (logged). A delivery that succeeded is
 * never sent again. A full queue drops its oldest notice (logged), so hh_notify never blocks.
 * hh_notifier_stop() drains for at most grace_ms and then returns even if the thread is stuck in
 * a request (the thread is then left to finish on its own and frees what it owns).
 * The bot token never appears in a log line or an error (URLs are redacted, see http.h).
 */
#ifndef HH_NOTIFY_H
#define HH_NOTIFY_H

#include "internal/config.h"

#define HH_NOTIFY_ATTEMPTS 5
#define HH_NOTIFY_QUEUE 256     /* default queue capacity */
#define HH_NOTIFY_MAX_TEXT 4000 /* a message stays under Telegram's 4096 characters */

enum hh_outcome {
	HH_OUT_START = 0,
	HH_OUT_REJECTED,
	HH_OUT_PREFLIGHT_FAILED,
	HH_OUT_NO_DIFF,
	HH_OUT_DIFF_TOO_LARGE,
	HH_OUT_CHECK_FAILED,
	HH_OUT_FIX_FAILED, /* fixer failed or timed out, or changed another file */
	HH_OUT_PUSH_FAILED,
	HH_OUT_PUSHED,
	HH_OUT_HEALED,
	HH_OUT_REVERTED,
	HH_OUT_REVERT_FAILED,    /* critical: the repository is frozen */
	HH_OUT_FROZEN,           /* repository frozen after max-reverts reverts in a row */
	HH_OUT_BUDGET,           /* hourly fix budget reached (said once) */
	HH_OUT_EXPIRED,          /* the job waited longer than queue-ttl */
	HH_OUT_REVERT_UNHEALTHY, /* critical: the revert landed, health still fails; frozen */
	HH_OUT_COUNT
};

/* Every string may be NULL (the line is left out). Borrowed: hh_notify() copies them. */
typedef struct hh_notice {
	enum hh_outcome outcome;
	long long job;    /* 0 = none */
	const char *repo; /* "owner/name" */
	const char *branch;
	const char *file;
	const char *type;       /* finding type, e.g. "SyntaxError" */
	const char *message;    /* the finding's message (untrusted) */
	const char *reason;     /* one line: why this outcome (e.g. the guard's verdict) */
	const char *detail;     /* longer text, e.g. a check's output; cut to fit */
	const char *commit_sha; /* the fix commit (full SHA) */
	const char *revert_sha;
	const char *pr_url;
	const char *commit_url;
	long pr_number;  /* 0 = not tied to a PR */
	long diff_lines; /* < 0 = unknown */
} hh_notice;

/* How a text is marked up. */
enum hh_notice_format { HH_NOTICE_PLAIN = 0, HH_NOTICE_HTML = 1, HH_NOTICE_MARKDOWN = 2 };

/* "start", "rejected", "preflight_failed", ..., "expired"; "unknown" when out of range. */
const char *hh_outcome_name(enum hh_outcome o);
/* The outcome named s (as hh_outcome_name gives it), or -1. */
int hh_outcome_parse(const char *s);

/*
 * The message for a notice in lang ("en" or "zh-TW"; anything else is "en") and format
 * (HH_NOTICE_HTML for Telegram's parse_mode HTML, HH_NOTICE_MARKDOWN for a Gitea comment,
 * HH_NOTICE_PLAIN). Pure. Untrusted values are escaped for the format (in Markdown they are
 * code spans or a fenced block, so no @mention or #ref fires); invalid UTF-8 becomes U+FFFD;
 * the text (markup included) stays within HH_NOTIFY_MAX_TEXT characters, the detail being cut
 * first. Returns a new string the caller frees, or NULL when out of memory.
 */
char *hh_notice_text(const hh_notice *n, const char *lang, int format);

/* The commit status state for an outcome ("pending", "success", "failure"), or NULL. */
const char *hh_notice_status_state(enum hh_outcome o);

typedef struct hh_notifier hh_notifier;

typedef struct hh_notifier_opts {
	size_t queue_cap; /* 0 = HH_NOTIFY_QUEUE */
	long backoff_ms;  /* first retry delay, doubled each time; 0 = 1000 */
	/* Called by the notifier's thread with each notice before it is delivered (tests,
	 * metrics). May be NULL. Must not call hh_notifier_stop. */
	void (*sink)(void *ud, const hh_notice *n);
	void *sink_ud;
} hh_notifier_opts;

typedef struct hh_notifier_stats {
	unsigned long queued;  /* accepted by hh_notify */
	unsigned long dropped; /* dropped because the queue was full */
	unsigned long sent;    /* deliveries (one per chat, comment or status) that succeeded */
	unsigned long failed;  /* deliveries given up */
} hh_notifier_stats;

/*
 * Starts a notifier for cfg's [notify] and [gitea] settings (copied: cfg may be freed after).
 * With no Telegram token or chat and no Gitea URL and token it still runs and delivers nothing.
 * opts may be NULL. On success *out is the notifier, stopped and freed by hh_notifier_stop().
 * Returns 0, or -1 with the error set.
 */
int hh_notifier_start(hh_notifier **out, const hh_config *cfg);
int hh_notifier_start_opts(hh_notifier **out, const hh_config *cfg, const hh_notifier_opts *opts);

/* Queues a deep copy of notice. Never blocks on I/O. n may be NULL (does nothing). */
void hh_notify(hh_notifier *n, const hh_notice *notice);

/* Counters so far (zeros for NULL). */
void hh_notifier_stats_get(const hh_notifier *n, hh_notifier_stats *out);

/*
 * Stops accepting notices, lets the thread deliver what is queued for at most grace_ms
 * (retries included), then gives up on the rest (logged) and returns within about grace_ms.
 * Frees the notifier (now, or when its thread ends if it is stuck in a request). NULL is fine.
 * Returns 0 when everything queued was handled, -1 when notices were given up.
 */
int hh_notifier_stop(hh_notifier *n, long grace_ms);
/* The same, and *out (may be NULL) gets the counters as they are when it returns. */
int hh_notifier_stop_stats(hh_notifier *n, long grace_ms, hh_notifier_stats *out);

/*
 * notify_record.c: the notifier's thread records every delivery it made or gave up in the
 * store of state_dir (the configuration's state.dir; NULL: nothing is recorded), for the
 * status pages. *st is the thread's own handle, opened on first use and closed by
 * hh_notify_record_close(). A store error is logged, never fatal to the notification.
 */
struct hh_store;
void hh_notify_record(struct hh_store **st, const char *state_dir, const hh_notice *n,
		      const char *target, int ok, int attempts, const char *error);
void hh_notify_record_close(struct hh_store **st);

#endif
