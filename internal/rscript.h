/*
 * rscript: several remote steps in one exec channel, without pasting any value into a shell.
 *
 * A script is a list of steps. Each step's text is a constant of ours (a string literal, never
 * built from data); the values it works on are positional parameters: the step reads its own
 * n arguments as "$1".."$n", and the script shifts them away after the step, so the next step
 * finds its own arguments at "$1" again. The whole script runs as
 *
 *     sh -c '<prelude><step 1>\nshift n1\n<step 2>...' sh ARG...
 *
 * which remote.h quotes word by word for ssh. Shell variables a step sets (hh_*) stay visible
 * to later steps. A step signals failure with `hh_fail`, which ends the script with exit status
 * HH_RSCRIPT_FAIL_BASE + the step's number (1-based): hh_rscript_failed_step() maps the status
 * back to the step, so the caller can give each step its own error sentence. A step that finds
 * its operation refused in the one way its caller handles (the push step: the branch moved, so
 * the push is no fast-forward) says so with `hh_reject`, which ends the script with exit status
 * HH_RSCRIPT_REJECT_BASE + the step's number (hh_rscript_rejected_step). A step with
 * n = HH_RSCRIPT_REST takes every argument left (it must be the last to take any).
 *
 * Ownership: the script owns copies of the step texts' pointers (they must be literals) and of
 * the arguments; hh_rscript_release frees them.
 */
#ifndef HH_RSCRIPT_H
#define HH_RSCRIPT_H

#include "internal/buf.h"

#define HH_RSCRIPT_FAIL_BASE 100
#define HH_RSCRIPT_REJECT_BASE 70
#define HH_RSCRIPT_MAX_STEPS 24
#define HH_RSCRIPT_REST (-1)

typedef struct hh_rscript {
	const char *text[HH_RSCRIPT_MAX_STEPS];
	int nargs[HH_RSCRIPT_MAX_STEPS];
	const char *name[HH_RSCRIPT_MAX_STEPS]; /* for messages and tests */
	int steps;
	hh_strv args;
	int oom;
} hh_rscript;

/* Appends a step named name whose constant text reads n arguments (args[0..n-1]; all of them
 * with HH_RSCRIPT_REST, args NULL-terminated then). Returns the step's number, or -1. */
int hh_rscript_step(hh_rscript *s, const char *name, const char *text, int n,
		    const char *const *args);
/* Appends every step of other (its arguments too). Returns 0 or -1. */
int hh_rscript_append(hh_rscript *s, const hh_rscript *other);
/* The argv to run: {"sh", "-c", script, "sh", args..., NULL} in out (caller releases). */
int hh_rscript_argv(const hh_rscript *s, hh_strv *out);
/* The step (1-based) whose hh_fail gave exit status, or 0 when the status is not a step's. */
int hh_rscript_failed_step(const hh_rscript *s, int status);
/* The step (1-based) whose hh_reject gave exit status, or 0 when the status is not that. */
int hh_rscript_rejected_step(const hh_rscript *s, int status);
/* The name of step i (1-based), "?" if none. */
const char *hh_rscript_step_name(const hh_rscript *s, int i);
void hh_rscript_release(hh_rscript *s);

#endif
