/*
 * fixer_path: where the fixer's program is on the fix host, found the way the fixer will be
 * run, with one command on the job's existing session (no extra connection).
 *
 * fixer.path ("~/.local/bin:/usr/local/bin:/usr/bin:/bin") is the PATH the fixer and the check
 * command run with; "~" is the home of the host user as the host reports it ($HOME of the ssh
 * session, or of healhook itself for the local transport). The probe is a constant POSIX sh
 * script: fixer.path and the program name reach it as positional parameters, never as part of
 * a command line, so neither is interpreted by a shell. It prints the home, the expanded PATH
 * and the first executable regular file named like the program in it (a program with a '/' is
 * checked as given). Used by the pipeline before the fixer starts and by `healhook doctor`.
 */
#ifndef HH_FIXER_PATH_H
#define HH_FIXER_PATH_H

#include "internal/config.h"
#include "internal/remote.h"

/* What the probe saw. Strings owned; release with hh_fixer_where_release(). */
typedef struct hh_fixer_where {
	char *program; /* the first word of fixer.command */
	char *path;    /* fixer.path with "~" expanded: the PATH to run the fixer with */
	char *found;   /* where the host has program; NULL when it has none */
} hh_fixer_where;

/*
 * Runs the probe on r (cwd "/", at most timeout_ms). Returns 0 with out filled (out->found NULL
 * when the program is not there), -1 when the probe itself could not run (error set). When the
 * host reports no HOME, the "~" elements are left out of out->path (with a warning).
 */
int hh_fixer_locate(hh_remote *r, const hh_config *cfg, long timeout_ms, hh_fixer_where *out);

/* The probe's text, a constant POSIX sh script ($1 fixer.path, $2 the program): prints the
 * home, the expanded PATH and where the program is, one line each; sets hh_path and hh_found.
 * The heal runs it as a step of its fix script (pipeline_fix.c), doctor through locate. */
extern const char hh_fixer_probe[];

/* fixer.path as configured, or its default. */
#define hh_fixer_path_spec(cfg) ((cfg)->fixer_path ? (cfg)->fixer_path : HH_DEFAULT_FIXER_PATH)

/* The first word of fixer.command (caller frees), or NULL with the error set. */
char *hh_fixer_program(const hh_config *cfg);

/* Reads the probe's three lines from *s (advanced past them) into w->path and w->found (NULL
 * when the program is not there); w->program is the caller's. Returns 0, or -1 when the answer
 * is cut short. Warns when "~" elements were dropped for want of a HOME. */
int hh_fixer_where_parse(const char *spec, const char **s, hh_fixer_where *w);

/* "install it on the host or set fixer.path (HEALHOOK_FIXER_PATH) to the directory that holds
 * it": the advice given when the program is missing. Caller frees. */
char *hh_fixer_advice(const hh_fixer_where *w);

/* The sentence for a fixer that is not on the host: names the program, the PATH searched and
 * fixer.path. why is what was seen ("not found", "exited with status 127: ..."). Caller frees. */
char *hh_fixer_not_found(const hh_fixer_where *w, const char *why);

void hh_fixer_where_release(hh_fixer_where *w);

#endif
