/*
 * result: see result.h.
 */
#include "internal/result.h"

#include <stdlib.h>
#include <string.h>

int hh_job_succeeded(const hh_job *job)
{
	return job->state == HH_JOB_PUSHED || job->state == HH_JOB_WATCHING ||
	       job->state == HH_JOB_HEALED;
}

char *hh_job_message(const hh_job *job)
{
	if (job->state == HH_JOB_REVERTED)
		return hh_asprintf("fix %.12s of %s was reverted by %.12s: %s",
				   job->commit_sha ? job->commit_sha : "", job->file,
				   job->revert_sha ? job->revert_sha : "",
				   job->detail ? job->detail : "health failed");
	if (hh_job_succeeded(job))
		return hh_asprintf("fixed %s on %s in %.12s (%ld lines)", job->file,
				   job->branch ? job->branch : "",
				   job->commit_sha ? job->commit_sha : "", job->diff_lines);
	if (job->detail)
		return hh_strdup(job->detail);
	if (job->reason)
		return hh_strdup(job->reason);
	return hh_asprintf("job is %s", hh_job_state_name(job->state));
}

static void str_field(hh_buf *b, const char *key, const char *v)
{
	hh_buf_printf(b, ",\"%s\":", key);
	if (!v) {
		hh_buf_puts(b, "null");
		return;
	}
	hh_buf_putc(b, '"');
	hh_buf_put_json_str(b, v);
	hh_buf_putc(b, '"');
}

int hh_job_result_json(const hh_job *job, const char *state_override, hh_buf *out)
{
	char *msg = hh_job_message(job);

	if (!msg)
		return hh_buf_fail(out);
	hh_buf_printf(out, "{\"success\":%s,\"action\":\"CODE_FIX\"",
		      hh_job_succeeded(job) ? "true" : "false");
	str_field(out, "message", msg);
	str_field(out, "commit_sha", job->commit_sha);
	hh_buf_printf(out, ",\"reverted\":%s,\"job\":%lld",
		      job->state == HH_JOB_REVERTED ? "true" : "false", job->id);
	str_field(out, "repo", job->repo);
	str_field(out, "file", job->file);
	str_field(out, "state", state_override ? state_override : hh_job_state_name(job->state));
	hh_buf_printf(out, ",\"diff_lines\":%ld", job->diff_lines);
	str_field(out, "revert_sha", job->revert_sha);
	str_field(out, "reason", job->reason);
	str_field(out, "branch", job->branch);
	str_field(out, "base_sha", job->base_sha);
	hh_buf_printf(out, ",\"attempts\":%d,\"created\":%lld,\"updated\":%lld", job->attempts,
		      job->created, job->updated);
	hh_buf_printf(out, ",\"stages\":%s", job->stages && *job->stages ? job->stages : "{}");
	free(msg);
	hh_buf_putc(out, '}');
	return hh_buf_failed(out) ? -1 : 0;
}

int hh_history_json(const hh_job *jobs, const int *quarantined, size_t n, hh_buf *out)
{
	size_t i;

	hh_buf_putc(out, '[');
	for (i = 0; i < n && !hh_buf_failed(out); i++) {
		if (i)
			hh_buf_putc(out, ',');
		if (hh_job_result_json(&jobs[i], NULL, out) < 0)
			break;
		out->ptr[--out->len] = '\0'; /* reopen the object for one more field */
		hh_buf_printf(out, ",\"quarantined\":%s}",
			      quarantined && quarantined[i] ? "true" : "false");
	}
	hh_buf_puts(out, "]\n");
	return hh_buf_failed(out) ? -1 : 0;
}
