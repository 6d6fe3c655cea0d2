/*
 * pipeline_fix: the fixer's run on the host as one remote script (rscript.h), one ssh channel
 * where there were a lookup, a directory, three file writes, the fixer, a listing and a read
 * back:
 *
 *   locate   the fixer's program looked up with fixer.path as PATH ("~" = the host user's
 *            HOME), the probe of fixer_path.h; a program found nowhere ends the script there
 *            (fixer-not-found, before any scratch directory exists)
 *   mkdir    the scratch directory (a random name of ours under /tmp, mode 0700; mkdir fails
 *            on an existing name, so nothing is taken over); recorded in the store first
 *   files    work/<target> and prompt.txt from stdin (exact byte counts, checked), home/.keep
 *   fixer    in work/ under `timeout -k 2 N`, with exactly the fixer's environment (env -i,
 *            PATH = the expanded fixer.path), stdin /dev/null and its output on stderr; its
 *            status on stdout ("fixer N")
 *   list     every entry of the scratch directory (type, size, path; NUL-separated; nothing
 *            below home/), an empty record, then the target's bytes when it is a regular file
 *
 * The finding's text travels only as the prompt file's bytes on stdin; paths, sizes,
 * fixer.path and the fixer's argv are positional arguments. The L1 judge then works on the listing:
 * only the target may exist and have changed under work/, and nothing may appear beside work/ but
 * the fixer's own home/ and prompt.txt. The check runs afterwards (pipeline.c), never before the
 * judge: a check run on a work directory holding files the fixer added could run them.
 */
#include "internal/fixer.h"
#include "internal/fixer_path.h"
#include "internal/findings.h"
#include "internal/log.h"
#include "internal/pipeline_priv.h"
#include "internal/remote.h"
#include "internal/rscript.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define MAX_TARGET (1u << 20)
#define LIST_CAP (1u << 20) /* bytes of listing accepted besides the target */
#define TAIL_BYTES 2000
#define SCRIPT_MARGIN_MS 60000 /* the script's own steps, beyond the fixer's limit */

static const char step_mkdir[] = "hh_d=$1\numask 077\nmkdir -m 700 -- \"$hh_d\" || hh_fail";
/* Inside the 0700 scratch directory the work files get the modes a checkout would (umask 022;
 * 755 for an executable target); the prompt stays 0600. No dirname, no chmod for a plain
 * file: every process is a fork and exec on the host. */
static const char step_files[] =
	"hh_f=$1\n"
	"case \"$hh_f\" in */*) hh_p=\"$hh_d/work/${hh_f%/*}\" ;; *) hh_p=\"$hh_d/work\" ;; esac\n"
	"umask 022\n"
	"mkdir -p -- \"$hh_d/home\" \"$hh_p\" || hh_fail\n"
	": >\"$hh_d/home/.keep\" || hh_fail\n"
	"head -c \"$2\" >\"$hh_d/work/$hh_f\" || hh_fail\n"
	"[ \"$(wc -c <\"$hh_d/work/$hh_f\")\" -eq \"$2\" ] || hh_fail\n"
	"[ \"$3\" = 644 ] || chmod \"$3\" -- \"$hh_d/work/$hh_f\" || hh_fail\n"
	"umask 077\n"
	"head -c \"$4\" >\"$hh_d/prompt.txt\" || hh_fail\n"
	"[ \"$(wc -c <\"$hh_d/prompt.txt\")\" -eq \"$4\" ] || hh_fail";
/* after the probe (fixer_path.h): hh_found is where the program is, "" when nowhere */
static const char step_found[] = "[ -n \"$hh_found\" ] || hh_fail";
static const char step_fixer[] =
	"hh_t=$1\nshift\n"
	"cd -- \"$hh_d/work\" || hh_fail\n"
	"timeout -k 2 \"$hh_t\" env -i \"PATH=$hh_path\" \"$@\" </dev/null >&2\n"
	"hh_st=$?\n"
	"printf 'fixer %s\\n' \"$hh_st\"";
static const char step_vars[] = "hh_d=$1 hh_f=$2 hh_st=0";
static const char step_list[] =
	"[ \"$hh_st\" -eq 0 ] || exit 0\n"
	"cd -- \"$hh_d\" || hh_fail\n"
	"find . -mindepth 1 -path './home/*' -prune -o -printf '%y %s %P\\0' || hh_fail\n"
	"printf '\\0'\n"
	"if [ -f \"work/$hh_f\" ] && [ ! -h \"work/$hh_f\" ]; then\n"
	"\thead -c 1048577 -- \"work/$hh_f\" || hh_fail\n"
	"fi\n"
	"exit 0";

/* Is `path` (relative) one of the directories leading to the target, or the target itself? */
static int on_target_path(const char *target, const char *path, enum hh_file_kind kind)
{
	size_t n = strlen(path);

	if (strcmp(path, target) == 0)
		return kind == HH_FILE_REGULAR ? 1 : 0;
	return kind == HH_FILE_DIR && strncmp(target, path, n) == 0 && target[n] == '/';
}

/* Is `path` (relative to the scratch directory) the fixer's own: its work directory, its HOME
 * (caches, settings) or the prompt file? The target itself is judged separately. */
static int fixer_own(const char *path, enum hh_file_kind kind)
{
	if (kind == HH_FILE_DIR && (strcmp(path, "work") == 0 || strcmp(path, "home") == 0))
		return 1;
	if (strcmp(path, "prompt.txt") == 0)
		return kind == HH_FILE_REGULAR;
	return strncmp(path, "home/", 5) == 0;
}

static enum hh_file_kind kind_of(char y)
{
	return y == 'f'   ? HH_FILE_REGULAR
	       : y == 'd' ? HH_FILE_DIR
	       : y == 'l' ? HH_FILE_SYMLINK
			  : HH_FILE_OTHER;
}

/*
 * L1 on the listing (records "y size path" up to an empty one, then the target's bytes):
 * fills after with the target. Returns 0, or hh_pl_fail's result.
 */
static int judge_listing(struct run *x, const char *p, size_t len, hh_buf *after)
{
	const char *end = p + len;
	hh_buf extra = HH_BUF_INIT;
	long long tsize = -1;
	int rc = 0;

	for (;;) {
		const char *nul = memchr(p, '\0', (size_t)(end - p)), *sp, *path;
		enum hh_file_kind kind;
		int in_work;

		if (!nul) {
			rc = hh_pl_fail(x, "error",
					"the scratch listing from the host is cut short");
			goto out;
		}
		if (nul == p) { /* the empty record: the target's bytes follow */
			p++;
			break;
		}
		sp = memchr(p + 2, ' ', (size_t)(nul - p - 2 > 0 ? nul - p - 2 : 0));
		if (nul - p < 4 || p[1] != ' ' || !sp) {
			rc = hh_pl_fail(x, "error", "unexpected scratch listing from the host");
			goto out;
		}
		kind = kind_of(p[0]);
		path = sp + 1;
		in_work = strncmp(path, "work/", 5) == 0;
		if (in_work && on_target_path(x->job->file, path + 5, kind)) {
			if (strcmp(path + 5, x->job->file) == 0)
				tsize = strtoll(p + 2, NULL, 10);
		} else if (!(!in_work && fixer_own(path, kind)) && extra.len < 400) {
			hh_buf_printf(&extra, "%s%s%s", extra.len ? ", " : "", in_work ? "" : "../",
				      in_work ? path + 5 : path);
		}
		p = nul + 1;
	}
	if (extra.len)
		rc = hh_pl_fail(x, "other-file-changed", "the fixer touched files besides %s: %s",
				x->job->file, extra.ptr);
	else if (tsize < 0)
		rc = hh_pl_fail(x, "other-file-changed", "the fixer removed or replaced %s",
				x->job->file);
	else if ((size_t)(end - p) > MAX_TARGET || (size_t)tsize > MAX_TARGET)
		rc = hh_pl_fail(x, "other-file-changed",
				"cannot read back %s: larger than %u bytes", x->job->file,
				MAX_TARGET);
	else if ((long long)(end - p) != tsize)
		rc = hh_pl_fail(x, "other-file-changed",
				"cannot read back %s: it changed while "
				"being read",
				x->job->file);
	else if (hh_buf_put(after, p, (size_t)(end - p)) < 0)
		rc = hh_pl_fail(x, "error", "out of memory");
out:
	hh_buf_release(&extra);
	return rc;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char *scratch_name(void)
{
	unsigned char r[6];

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
		hh_error("cannot get random bytes: %s", strerror(errno));
		return NULL;
	}
	return hh_asprintf("/tmp/healhook-%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2], r[3], r[4],
			   r[5]);
}

/* What the fix needs: the fixer's argv and environment, the scratch steps' arguments. */
struct fix {
	hh_strv argv, env;
	char *prompt, *program;
	const char *spec; /* fixer.path */
	char tsz[24], psz[24], tmo[24];
	const char *mode;
};

static void fix_release(struct fix *f)
{
	hh_strv_release(&f->argv);
	hh_strv_release(&f->env);
	free(f->prompt);
	free(f->program);
}

static int fix_prepare(struct run *x, struct fix *f, const hh_buf *before, int kind,
		       const char *ollama)
{
	const hh_config *cfg = x->p->cfg;
	char *ppath = hh_asprintf("%s/prompt.txt", x->scratch);
	char *home = hh_asprintf("%s/home", x->scratch);
	int rc = -1;

	f->prompt = hh_prompt_build(x->job->type ? x->job->type : "review",
				    x->job->message ? x->job->message : "");
	f->spec = hh_fixer_path_spec(cfg);
	if (!f->prompt || !ppath || !home || !(f->program = hh_fixer_program(cfg)))
		goto out;
	if (hh_fixer_argv(&f->argv, cfg, ppath, x->job->file, ollama) < 0 ||
	    hh_fixer_env(&f->env, home, ollama) < 0) {
		hh_error_wrap("fixer.command");
		goto out;
	}
	snprintf(f->tsz, sizeof(f->tsz), "%zu", before->len);
	snprintf(f->psz, sizeof(f->psz), "%zu", strlen(f->prompt));
	snprintf(f->tmo, sizeof(f->tmo), "%ld", cfg->fixer_timeout);
	f->mode = kind == HH_ENTRY_EXECUTABLE ? "755" : "644";
	rc = 0;
out:
	free(ppath);
	free(home);
	return rc;
}

/* The lookup steps (locate: the probe, found: fails when the program is nowhere). */
static int steps_locate(const struct fix *f, hh_rscript *s)
{
	const char *a[] = {f->spec, f->program, NULL};

	if (hh_rscript_step(s, "locate", hh_fixer_probe, 2, a) < 0 ||
	    hh_rscript_step(s, "found", step_found, 0, NULL) < 0)
		return -1;
	return 0;
}

/* The scratch steps (mkdir, files) and their stdin: the target's bytes, then the prompt's. */
static int steps_scratch(struct run *x, const struct fix *f, const hh_buf *before, hh_rscript *s,
			 hh_buf *in)
{
	const char *a1[] = {x->scratch, NULL};
	const char *a2[] = {x->job->file, f->tsz, f->mode, f->psz, NULL};

	if (hh_rscript_step(s, "mkdir", step_mkdir, 1, a1) < 0 ||
	    hh_rscript_step(s, "files", step_files, 4, a2) < 0 ||
	    hh_buf_put(in, before->ptr ? before->ptr : "", before->len) < 0 ||
	    hh_buf_puts(in, f->prompt) < 0)
		return -1;
	return 0;
}

/* The fixer step: its limit, then the `NAME=VALUE... argv...` that follow `env -i PATH=...`. */
static int step_fixer_add(const struct fix *f, hh_rscript *s)
{
	hh_strv tail = {0};
	size_t i;
	int rc = -1;

	if (hh_strv_push(&tail, f->tmo) < 0)
		goto out;
	for (i = 0; i < f->env.n; i++)
		if (hh_strv_push(&tail, f->env.v[i]) < 0)
			goto out;
	for (i = 0; i < f->argv.n; i++)
		if (hh_strv_push(&tail, f->argv.v[i]) < 0)
			goto out;
	if (hh_rscript_step(s, "fixer", step_fixer, HH_RSCRIPT_REST, (const char *const *)tail.v) >=
	    0)
		rc = 0;
out:
	hh_strv_release(&tail);
	return rc;
}

static int run_script(struct run *x, const hh_rscript *s, const hh_buf *in, long timeout_ms,
		      hh_exec_result *res)
{
	hh_strv av = {0}, env = {0};
	hh_exec_opts o = {0};
	const char *home = getenv("HOME");
	int rc;

	if (hh_rscript_argv(s, &av) < 0)
		return -1;
	/* The probe needs the host user's HOME for fixer.path's "~". ssh: the login environment
	 * (the fixer itself gets only its own, env -i); local: a clean one with healhook's HOME,
	 * none of healhook's other variables. */
	if (!hh_remote_is_ssh(x->r)) {
		char *h = home && *home ? hh_asprintf("HOME=%s", home) : NULL;

		if (h && hh_strv_push(&env, h) < 0) {
			free(h);
			hh_strv_release(&av);
			return hh_error("out of memory");
		}
		free(h);
		o.env = (const char *const *)env.v;
		o.clean_env = 1;
	}
	o.cwd = "/";
	o.stdin_data = in ? (in->ptr ? in->ptr : "") : NULL;
	o.stdin_len = in ? in->len : 0;
	o.timeout_ms = timeout_ms;
	o.out_cap = MAX_TARGET + LIST_CAP;
	rc = hh_remote_exec(x->r, (const char *const *)av.v, &o, res);
	hh_strv_release(&av);
	hh_strv_release(&env);
	return rc;
}

/* A failed lookup or scratch step as the job's failure; 0 if none of them failed. out is the
 * script's stdout (the probe's answer first). */
static int prep_failed(struct run *x, const hh_rscript *s, const hh_exec_result *res)
{
	const char *step = hh_rscript_step_name(s, hh_rscript_failed_step(s, res->status));
	const char *out = res->out.ptr ? res->out.ptr : "";

	if (strcmp(step, "found") == 0 || strcmp(step, "locate") == 0) {
		int rc;

		free(x->scratch); /* not made yet */
		x->scratch = NULL;
		rc = hh_pl_fixer_located(x, &out, NULL);
		return rc ? rc : hh_pl_fail(x, "fixer-not-found", "the fixer was not found");
	}
	if (strcmp(step, "mkdir") == 0) { /* nothing was created: nothing to remove */
		free(x->scratch);
		x->scratch = NULL;
		return hh_pl_fail(x, "error", "cannot create a scratch directory on the host: %s",
				  hh_pl_tail(res));
	}
	if (strcmp(step, "files") == 0)
		return hh_pl_fail(x, "error", "cannot prepare the scratch directory: %s",
				  hh_pl_tail(res));
	return 0;
}

static void set_tail(struct run *x, const hh_buf *a, const hh_buf *b)
{
	hh_buf t = HH_BUF_INIT;

	if (a && a->len)
		hh_buf_put(&t, a->ptr, a->len);
	if (b && b->len)
		hh_buf_put(&t, b->ptr, b->len);
	free(x->job->output_tail);
	x->job->output_tail = hh_strdup(
		t.ptr ? t.ptr + (t.len > TAIL_BYTES ? t.len - TAIL_BYTES : 0) : "");
	hh_buf_release(&t);
}

/* The fixer's end as the job's failure (st: its exit status, 128 + N for signal N). */
static int fixer_failed(struct run *x, int st, int timed_out)
{
	const hh_config *cfg = x->p->cfg;

	if (timed_out)
		return hh_pl_fail(x, "fixer-timeout",
				  "the fixer ran longer than %lds and was stopped",
				  cfg->fixer_timeout);
	if (st > 128)
		return hh_pl_fixer_exit(x, 0, st - 128);
	if (st != 0)
		return hh_pl_fixer_exit(x, st, 0);
	return 0;
}

/* The probe's answer at the start of *o: x->fixer_path, and the "locate" stage (after the
 * stage before, when given: over ssh the lookup is the first step of the "fix" channel). */
static int located(struct run *x, const char **o, const char *before)
{
	char *found = NULL;
	int rc = hh_pl_fixer_located(x, o, &found);

	if (rc == 0 && before)
		hh_pl_stage(x, before, NULL);
	if (rc == 0)
		hh_pl_stage(x, "locate", found);
	free(found);
	return rc;
}

/* ssh: lookup, scratch, fixer and listing in one script (one channel). *off is where the
 * listing starts in res->out (after the probe's answer and the "fixer N" line). */
static int fix_ssh(struct run *x, const struct fix *f, const hh_buf *before, hh_exec_result *res,
		   size_t *off)
{
	const hh_config *cfg = x->p->cfg;
	hh_rscript s = {0};
	hh_buf in = HH_BUF_INIT;
	const char *o, *nl, *end;
	long long t0 = now_ms();
	int rc, st;

	if (steps_locate(f, &s) < 0 || steps_scratch(x, f, before, &s, &in) < 0 ||
	    step_fixer_add(f, &s) < 0 || hh_rscript_step(&s, "list", step_list, 0, NULL) < 0) {
		rc = hh_pl_fail(x, "error", "cannot prepare the fixer's run: %s", hh_error_last());
		goto out;
	}
	if (run_script(x, &s, &in, cfg->fixer_timeout * 1000 + SCRIPT_MARGIN_MS, res) < 0) {
		rc = hh_pl_fail(x, "fixer-failed", "cannot run the fixer: %s", hh_error_last());
		goto out;
	}
	set_tail(x, &res->err, NULL); /* the fixer's stdout and stderr, in order */
	if ((rc = prep_failed(x, &s, res)) != 0)
		goto out;
	o = res->out.ptr ? res->out.ptr : "";
	end = o + res->out.len;
	if ((rc = located(x, &o, "fix")) != 0)
		goto out;
	nl = memchr(o, '\n', (size_t)(end - o));
	if (end - o < 7 || strncmp(o, "fixer ", 6) != 0 || !nl) {
		rc = hh_pl_fail(x, "fixer-failed",
				"cannot run the fixer: the host script ended "
				"with status %d: %s",
				res->status, hh_pl_tail(res));
		goto out;
	}
	st = atoi(o + 6);
	*off = (size_t)(nl + 1 - res->out.ptr);
	rc = fixer_failed(
		x, st, st == 124 || (st == 128 + 9 && now_ms() - t0 >= cfg->fixer_timeout * 1000));
out:
	hh_rscript_release(&s);
	hh_buf_release(&in);
	return rc;
}

/* local: the same steps, but the fixer is run by the local transport itself, so that it stays
 * healhook's child and dies with it (PR_SET_PDEATHSIG); a script's grandchild would not. */
static int fix_local(struct run *x, struct fix *f, const hh_buf *before, hh_exec_result *res,
		     size_t *off)
{
	const hh_config *cfg = x->p->cfg;
	hh_rscript a = {0}, b = {0};
	hh_buf in = HH_BUF_INIT;
	hh_exec_opts o = {0};
	char *work = hh_asprintf("%s/work", x->scratch);
	const char *vars[] = {x->scratch, x->job->file, NULL}, *out;
	int rc;

	if (!work || steps_locate(f, &a) < 0 || steps_scratch(x, f, before, &a, &in) < 0 ||
	    hh_rscript_step(&b, "vars", step_vars, 2, vars) < 0 ||
	    hh_rscript_step(&b, "list", step_list, 0, NULL) < 0) {
		rc = hh_pl_fail(x, "error", "cannot prepare the fixer's run: %s", hh_error_last());
		goto out;
	}
	if (run_script(x, &a, &in, SCRIPT_MARGIN_MS, res) < 0 || res->status != 0) {
		rc = prep_failed(x, &a, res);
		if (!rc)
			rc = hh_pl_fail(x, "error", "cannot prepare the scratch directory: %s",
					res->status ? hh_pl_tail(res) : hh_error_last());
		goto out;
	}
	out = res->out.ptr ? res->out.ptr : "";
	if ((rc = located(x, &out, NULL)) != 0 || (rc = hh_pl_env_path(x, &f->env)) != 0) {
		if (rc < 0)
			rc = hh_pl_fail(x, "error", "%s", hh_error_last());
		goto out;
	}
	hh_exec_result_release(res);
	o.cwd = work;
	o.env = (const char *const *)f->env.v;
	o.clean_env = 1;
	o.timeout_ms = cfg->fixer_timeout * 1000;
	o.out_cap = 64 * 1024;
	if (hh_remote_exec(x->r, (const char *const *)f->argv.v, &o, res) < 0) {
		rc = hh_pl_fail(x, "fixer-failed", "cannot run the fixer: %s", hh_error_last());
		goto out;
	}
	set_tail(x, &res->out, &res->err);
	rc = res->timed_out ? fixer_failed(x, 0, 1)
	     : res->signal  ? hh_pl_fixer_exit(x, 0, res->signal)
	     : res->status  ? hh_pl_fixer_exit(x, res->status, 0)
			    : 0;
	hh_exec_result_release(res);
	if (rc)
		goto out;
	if (run_script(x, &b, NULL, SCRIPT_MARGIN_MS, res) < 0) {
		rc = hh_pl_fail(x, "error", "cannot list the scratch directory: %s",
				hh_error_last());
		goto out;
	}
	*off = 0;
out:
	free(work);
	hh_rscript_release(&a);
	hh_rscript_release(&b);
	hh_buf_release(&in);
	return rc;
}

int hh_pl_fix(struct run *x, const hh_buf *before, int kind, hh_buf *after)
{
	const hh_config *cfg = x->p->cfg;
	struct fix f = {0};
	hh_exec_result res;
	char *ollama = NULL;
	size_t off = 0;
	int rc;

	memset(&res, 0, sizeof(res));
	if (hh_ollama_pick(&cfg->fixer_ollama, cfg->fixer_model, 2000, &ollama) < 0)
		return hh_pl_fail(x, "ollama-unavailable", "%s", hh_error_last());
	hh_pl_stage(x, "ollama", ollama);
	if (!(x->scratch = scratch_name())) {
		rc = hh_pl_fail(x, "error", "%s", hh_error_last());
		goto out;
	}
	/* Recorded so that a restart can remove it if this run is interrupted: kept in the store
	 * through fixing and committed (a failure replaces it with its sentence). */
	free(x->job->detail);
	x->job->detail = hh_asprintf("scratch: %s", x->scratch);
	if (hh_pl_save(x, HH_JOB_FIXING) < 0) {
		rc = -1;
		goto out;
	}
	if (fix_prepare(x, &f, before, kind, ollama) < 0) {
		rc = hh_pl_fail(x, "error", "%s", hh_error_last());
		goto out;
	}
	rc = hh_remote_is_ssh(x->r) ? fix_ssh(x, &f, before, &res, &off)
				    : fix_local(x, &f, before, &res, &off);
	if (rc)
		goto out;
	if (!hh_remote_is_ssh(x->r))
		hh_pl_stage(x, "fix", NULL);
	if (res.status != 0 || (res.truncated && res.out.len >= MAX_TARGET + LIST_CAP)) {
		rc = hh_pl_fail(x, "error", "cannot list the scratch directory: %s",
				res.status ? hh_pl_tail(&res) : "listing too large");
		goto out;
	}
	rc = judge_listing(x, res.out.ptr ? res.out.ptr + off : "",
			   res.out.ptr ? res.out.len - off : 0, after);
out:
	hh_exec_result_release(&res);
	fix_release(&f);
	free(ollama);
	return rc;
}
