/*
 * intake: one delivery from raw bytes to stored jobs — the single code path shared by
 * `serve` (POST /hooks/gitea), `replay` and `action`.
 *
 *   content type → payload (form: the decoded `payload` field) → signature over the payload
 *   bytes (and the Authorization header) → event type → JSON → duplicate delivery? →
 *   findings (review body / comment text; review line comments through the Gitea API, either
 *   now or later in the background) → a verdict per finding → accepted findings grouped by
 *   file into jobs → one durable store transaction → the answer.
 *
 * Nothing slow happens before the answer unless lookup_inline is set: `serve` leaves the
 * line-comment lookup "pending" in the store and resolves it with hh_intake_lookup() after
 * answering.
 */
#ifndef HH_INTAKE_H
#define HH_INTAKE_H

#include <stddef.h>

#include "internal/config.h"
#include "internal/findings.h"
#include "internal/store.h"
#include "webhook/event.h"
#include "webhook/headers.h"
#include "webhook/signature.h"

typedef struct hh_intake {
	const hh_config *cfg;
	hh_store *store;   /* NULL: dry run (nothing stored, no duplicate detection) */
	int verify;        /* 0: do not check signatures (replay --no-verify) */
	int lookup_inline; /* 1: fetch review line comments before returning */
	long long now;     /* unix seconds */
} hh_intake;

typedef struct hh_intake_result {
	int status;      /* HTTP status: 200 duplicate, 202, 400, 401, 415, 500, 503 */
	char *error;     /* message for statuses >= 400 */
	int retry_after; /* seconds, with 503 */
	char *delivery;  /* X-Gitea-Delivery, else the body hash */
	char *event;     /* X-Gitea-Event-Type as received ("" when absent) */
	enum hh_event_kind kind;
	enum hh_sig_verdict sig;
	char *repo;           /* repository.full_name when parsed */
	char *branch;         /* target branch of the jobs */
	char sha256[65];      /* the payload's identity: hex HMAC-SHA256(secret, payload) when a
			       * secret is configured, else hex SHA-256(payload) */
	int duplicate;        /* known delivery id or body */
	int ignored;          /* event type not acted on: nothing queued */
	int pending_lookup;   /* line comments still to be fetched */
	char *lookup_error;   /* set when an inline lookup failed */
	hh_findings findings; /* with verdicts, reasons and job ids */
} hh_intake_result;

/* Processes one delivery. Always fills res (status and error included); returns 0 when the
 * delivery was handled (any status), -1 only for internal failures (res->status 500/503). */
int hh_intake_process(const hh_intake *in, const hh_headers *hdrs, const void *body, size_t len,
		      hh_intake_result *res);

/* Resolves the line comments of a stored delivery whose lookup is pending (the headers text
 * and body as stored), stores the resulting jobs and marks the lookup done or failed. */
int hh_intake_lookup(const hh_intake *in, const char *delivery_id, const char *headers,
		     const void *body, size_t len, hh_intake_result *res);

void hh_intake_result_release(hh_intake_result *res);

/* The HTTP answer: 202 {"delivery","event","findings","accepted":[ids],"rejected":[{"file",
 * "reason"}],"pending_lookup"}, 200 {"duplicate":true,...}, or {"error": "..."}. */
int hh_intake_answer_json(const hh_intake_result *res, hh_buf *out);
/* replay --json: {"delivery","event","signature","repo","findings":[{"file","line","type",
 * "message","source","verdict","reason"}]} (plus "status", "duplicate", "pending_lookup"). */
int hh_intake_report_json(const hh_intake_result *res, hh_buf *out);

#endif
