/*
 * pipeline_fixer: the parts of a heal about finding and judging the fixer (pipeline_fix.c and
 * pipeline.c run them). The fixer's program is looked up on the host before it starts, with
 * fixer.path as PATH (see fixer_path.h), by a step of the fix script on the same channel; that
 * PATH is kept for the fixer and the check command. Aider exits
 * 0 whatever happened (model unreachable, no edit applied): success is the target's change,
 * judged by the caller, never an exit status.
 */
#include "internal/fixer.h"
#include "internal/fixer_path.h"
#include "internal/log.h"
#include "internal/pipeline_priv.h"

#include <stdlib.h>
#include <string.h>

#define DETAIL_TAIL 300

int hh_pl_fixer_located(struct run *x, const char **s, char **found)
{
	hh_fixer_where w = {0};
	const char *spec = hh_fixer_path_spec(x->p->cfg);
	int rc = 0;

	if (!(w.program = hh_fixer_program(x->p->cfg))) {
		rc = hh_pl_fail(x, "error", "%s", hh_error_last());
	} else if (hh_fixer_where_parse(spec, s, &w) < 0) {
		rc = hh_pl_fail(x, "fixer-not-found",
				"cannot look for the fixer '%s' on the host: %s", w.program,
				hh_error_last());
	} else if (!w.found) {
		char *msg = hh_fixer_not_found(&w, "was not found");
		rc = hh_pl_fail(x, "fixer-not-found", "%s", msg ? msg : "the fixer was not found");
		free(msg);
	} else {
		free(x->fixer_path);
		x->fixer_path = w.path;
		w.path = NULL;
		if (found) {
			*found = w.found;
			w.found = NULL;
		}
	}
	hh_fixer_where_release(&w);
	return rc;
}

int hh_pl_env_path(struct run *x, hh_strv *env)
{
	char *e;
	int rc;

	if (!x->fixer_path)
		return 0;
	if (!(e = hh_asprintf("PATH=%s", x->fixer_path)))
		return hh_error("out of memory");
	rc = hh_strv_push(env, e);
	free(e);
	return rc;
}

/* The last DETAIL_TAIL bytes of s, from a line start when there is one. */
static const char *tail_of(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	const char *t;

	if (!s)
		return "";
	t = s + (n > DETAIL_TAIL ? n - DETAIL_TAIL : 0);
	if (t != s && strchr(t, '\n') && strchr(t, '\n')[1])
		t = strchr(t, '\n') + 1;
	while (*t == '\n')
		t++;
	return t;
}

/* The tail of the fixer's output without trailing blanks: *n bytes from the result. */
static const char *output_end(const struct run *x, int *n)
{
	const char *out = x->job->output_tail ? x->job->output_tail : "", *t;
	size_t len;

	t = *out ? tail_of(out) : "(nothing)";
	len = strlen(t);
	while (len && (t[len - 1] == '\n' || t[len - 1] == '\r' || t[len - 1] == ' '))
		len--;
	*n = (int)len;
	return t;
}

static int fixer_missing(struct run *x, int status)
{
	hh_fixer_where w = {0};
	char *why, *msg;
	int rc, n;
	const char *t = output_end(x, &n);

	why = hh_asprintf("could not be run (exit status %d: %.*s)", status, n, t);
	w.program = hh_fixer_program(x->p->cfg);
	w.path = x->fixer_path ? hh_strdup(x->fixer_path) : NULL;
	msg = why ? hh_fixer_not_found(&w, why) : NULL;
	rc = hh_pl_fail(x, "fixer-not-found", "%s", msg ? msg : "the fixer could not be run");
	free(msg);
	free(why);
	hh_fixer_where_release(&w);
	return rc;
}

int hh_pl_fixer_exit(struct run *x, int status, int sig)
{
	const char *t;
	int n;

	if (!sig && (status == 126 || status == 127))
		return fixer_missing(x, status);
	t = output_end(x, &n);
	return hh_pl_fail(x, "fixer-failed", "the fixer exited with %s %d; its output ends: %.*s",
			  sig ? "signal" : "status", sig ? sig : status, n, t);
}

int hh_pl_unchanged(struct run *x)
{
	const char *t;
	int n;

	/* An edit was applied and gave the same bytes: the fixer found nothing to change. */
	if (x->job->output_tail && strstr(x->job->output_tail, "Applied edit to "))
		return hh_pl_fail(x, "no-diff", "the fixer left %s unchanged", x->job->file);
	t = output_end(x, &n);
	return hh_pl_fail(x, "fixer-failed",
			  "the fixer exited 0 without editing %s; its output "
			  "ends: %.*s",
			  x->job->file, n, t);
}

int hh_pl_exec_path(struct run *x, const char *const *argv, const char *cwd, long timeout_ms,
		    hh_exec_result *res)
{
	hh_strv env = {0};
	hh_exec_opts o = {0};
	int rc;

	memset(res, 0, sizeof(*res));
	if (hh_pl_env_path(x, &env) < 0)
		return -1;
	o.cwd = cwd;
	o.env = (const char *const *)env.v;
	o.timeout_ms = timeout_ms;
	rc = hh_remote_exec(x->r, argv, &o, res);
	hh_strv_release(&env);
	return rc;
}
