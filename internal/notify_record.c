/*
 * notify_record: the notifier's memory of what it sent, for the status pages (see notify.h).
 * One row per delivery (a Telegram chat, a Gitea comment, a commit status) that succeeded or
 * was given up, with the number of attempts; the target names the chat, the PR or the commit,
 * never a token.
 */
#include "internal/notify.h"
#include "internal/log.h"
#include "internal/store.h"

#include <time.h>

void hh_notify_record(struct hh_store **st, const char *state_dir, const hh_notice *n,
		      const char *target, int ok, int attempts, const char *error)
{
	hh_notification_rec r = {0};

	if (!state_dir || !n->job)
		return;
	if (!*st && hh_store_open(st, state_dir) < 0) {
		hh_log(HH_LOG_WARN, "notify.record", "error", hh_error_last(), NULL);
		return;
	}
	r.job_id = n->job;
	r.outcome = hh_outcome_name(n->outcome);
	r.target = target;
	r.ok = ok;
	r.attempts = attempts;
	r.error = ok ? NULL : error;
	r.at = (long long)time(NULL);
	if (hh_store_notification_add(*st, &r) < 0)
		hh_log(HH_LOG_WARN, "notify.record", "error", hh_error_last(), NULL);
}

void hh_notify_record_close(struct hh_store **st)
{
	hh_store_close(*st);
	*st = NULL;
}
