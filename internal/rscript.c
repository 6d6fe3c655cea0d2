/*
 * rscript: remote steps merged into one `sh -c` run with their values as argv. See rscript.h.
 */
#include "internal/rscript.h"
#include "internal/log.h"

#include <stdio.h>
#include <string.h>

/* hh_fail and hh_reject exit with their base + the current step's number (set before each
 * step): HH_RSCRIPT_FAIL_BASE and HH_RSCRIPT_REJECT_BASE. */
_Static_assert(HH_RSCRIPT_REJECT_BASE + HH_RSCRIPT_MAX_STEPS < HH_RSCRIPT_FAIL_BASE,
	       "hh_reject's statuses run into hh_fail's");
static const char prelude[] = "hh_fail() { exit $((100 + hh_step)); }\n"
			      "hh_reject() { exit $((70 + hh_step)); }\n";

int hh_rscript_step(hh_rscript *s, const char *name, const char *text, int n,
		    const char *const *args)
{
	int i;

	if (s->steps >= HH_RSCRIPT_MAX_STEPS) {
		hh_error("remote script: more than %d steps", HH_RSCRIPT_MAX_STEPS);
		return -1;
	}
	for (i = 0; n == HH_RSCRIPT_REST ? args && args[i] : i < n; i++)
		if (hh_strv_push(&s->args, args[i]) < 0) {
			s->oom = 1;
			return hh_error("out of memory");
		}
	s->text[s->steps] = text;
	s->nargs[s->steps] = n;
	s->name[s->steps] = name;
	return ++s->steps;
}

int hh_rscript_append(hh_rscript *s, const hh_rscript *o)
{
	size_t a = 0;
	int i;

	for (i = 0; i < o->steps; i++) {
		const char *const *args = (const char *const *)o->args.v + a;
		int n = o->nargs[i] == HH_RSCRIPT_REST ? (int)(o->args.n - a) : o->nargs[i];
		int k;

		if (s->steps >= HH_RSCRIPT_MAX_STEPS)
			return hh_error("remote script: more than %d steps", HH_RSCRIPT_MAX_STEPS);
		for (k = 0; k < n; k++)
			if (hh_strv_push(&s->args, args[k]) < 0)
				return hh_error("out of memory");
		s->text[s->steps] = o->text[i];
		s->nargs[s->steps] = o->nargs[i];
		s->name[s->steps] = o->name[i];
		s->steps++;
		a += (size_t)n;
	}
	return 0;
}

int hh_rscript_argv(const hh_rscript *s, hh_strv *out)
{
	hh_buf b = HH_BUF_INIT;
	size_t i;
	int k, rc = -1;

	if (s->oom)
		return hh_error("out of memory");
	hh_buf_puts(&b, prelude);
	for (k = 0; k < s->steps; k++) {
		hh_buf_printf(&b, "hh_step=%d\n%s\n", k + 1, s->text[k]);
		if (s->nargs[k] > 0)
			hh_buf_printf(&b, "shift %d\n", s->nargs[k]);
	}
	if (!b.ptr || hh_strv_push(out, "sh") < 0 || hh_strv_push(out, "-c") < 0 ||
	    hh_strv_push(out, b.ptr) < 0 || hh_strv_push(out, "sh") < 0) {
		hh_error("out of memory");
		goto out;
	}
	for (i = 0; i < s->args.n; i++)
		if (hh_strv_push(out, s->args.v[i]) < 0) {
			hh_error("out of memory");
			goto out;
		}
	rc = 0;
out:
	hh_buf_release(&b);
	return rc;
}

int hh_rscript_failed_step(const hh_rscript *s, int status)
{
	int k = status - HH_RSCRIPT_FAIL_BASE;

	return k >= 1 && k <= s->steps ? k : 0;
}

int hh_rscript_rejected_step(const hh_rscript *s, int status)
{
	int k = status - HH_RSCRIPT_REJECT_BASE;

	return k >= 1 && k <= s->steps ? k : 0;
}

const char *hh_rscript_step_name(const hh_rscript *s, int i)
{
	return i >= 1 && i <= s->steps && s->name[i - 1] ? s->name[i - 1] : "?";
}

void hh_rscript_release(hh_rscript *s)
{
	hh_strv_release(&s->args);
	memset(s, 0, sizeof(*s));
}
