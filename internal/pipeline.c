/*
 * pipeline: one job from the fix host to a landed commit. See pipeline.h for the flow.
 *
 * Every remote action is an argv (remote.h quotes it for the ssh side); file contents travel
 * on a remote script's stdin and stdout (pipeline_fix.c), never by SFTP, so a host without the
 * sftp subsystem heals; the finding's text reaches the fixer only through the prompt file.
 * One hh_remote is opened per job and used for every command, file transfer and git stream,
 * so a heal over ssh costs one connection.
 */
#include "internal/pipeline.h"
#include "internal/pipeline_priv.h"
#include "internal/fixer.h"
#include "internal/findings.h"
#include "internal/gitops.h"
#include "internal/guard.h"
#include "internal/log.h"
#include "internal/remote.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_TARGET (1u << 20) /* largest file healhook will hand to a fixer */
#define GIT_TIMEOUT_MS (120 * 1000)
#define CHECK_TIMEOUT_MS (120 * 1000)
#define MAX_REBUILDS 3

double hh_pl_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void hh_pl_sleep_s(double s)
{
	struct timespec d = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};

	nanosleep(&d, NULL);
}

static void set_str(char **dst, const char *v)
{
	free(*dst);
	*dst = v ? hh_strdup(v) : NULL;
}

/* Ends the current stage: records its duration and tells the caller. */
static enum hh_outcome outcome_of(const char *reason);

void hh_pl_stage(struct run *x, const char *name, const char *note)
{
	double t = hh_pl_now_s(), d = t - x->ts;

	hh_buf_printf(&x->stages, "%s\"%s\":%ld", x->stages.len > 1 ? "," : "", name,
		      (long)(d * 1000 + 0.5));
	x->ts = t;
	if (x->p->on_stage)
		x->p->on_stage(x->p->ctx, name, d, note);
}

int hh_pl_save(struct run *x, enum hh_job_state state)
{
	x->job->state = state;
	free(x->job->stages);
	x->job->stages = hh_asprintf("%s}", x->stages.ptr);
	if (!x->p->store)
		return 0;
	if (hh_store_job_update(x->p->store, x->job) < 0) {
		hh_log(HH_LOG_ERROR, "job.store", "error", hh_error_last(), NULL);
		return -1;
	}
	return 0;
}

/* Ends the job as failed with reason and a detail sentence. Returns 1 (or -1 if unsaved). */
int hh_pl_fail(struct run *x, const char *reason, const char *fmt, ...)
{
	hh_buf b = HH_BUF_INIT;
	va_list ap;
	char id[24];

	va_start(ap, fmt);
	hh_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	set_str(&x->job->reason, reason);
	free(x->job->detail);
	x->job->detail = hh_buf_detach(&b);
	snprintf(id, sizeof(id), "%lld", x->job->id);
	hh_log(HH_LOG_WARN, "job.failed", "job", id, "repo", x->job->repo, "file", x->job->file,
	       "reason", reason, "detail", x->job->detail, NULL);
	hh_pipeline_notify(x->p, x->job, outcome_of(reason), NULL);
	return hh_pl_save(x, HH_JOB_FAILED) < 0 ? -1 : HH_PL_ENDED;
}

void hh_pipeline_notify(hh_pipeline *p, const hh_job *job, enum hh_outcome o, const char *detail)
{
	hh_notice n = {0};

	if (!p->notifier)
		return;
	n.outcome = o;
	n.job = job->id;
	n.repo = job->repo;
	n.branch = job->branch;
	n.file = job->file;
	n.type = job->type;
	n.message = job->message;
	n.reason = job->reason;
	n.detail = detail ? detail : job->detail;
	n.commit_sha = job->commit_sha;
	n.revert_sha = job->revert_sha;
	n.pr_url = job->pr_url;
	n.pr_number = job->pr_number;
	n.diff_lines = job->diff_lines ? job->diff_lines : -1;
	hh_notify(p->notifier, &n);
}

static enum hh_outcome outcome_of(const char *reason)
{
	static const struct {
		const char *reason;
		enum hh_outcome o;
	} map[] = {
		{"path-not-allowed", HH_OUT_REJECTED},
		{"repo-not-configured", HH_OUT_REJECTED},
		{"repo-frozen", HH_OUT_REJECTED},
		{"preflight-failed", HH_OUT_PREFLIGHT_FAILED},
		{"no-diff", HH_OUT_NO_DIFF},
		{"diff-too-large", HH_OUT_DIFF_TOO_LARGE},
		{"check-failed", HH_OUT_CHECK_FAILED},
		{"push-failed", HH_OUT_PUSH_FAILED},
		{"branch-moved", HH_OUT_PUSH_FAILED},
		{"revert-failed", HH_OUT_REVERT_FAILED},
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(map[i].reason, reason) == 0)
			return map[i].o;
	return HH_OUT_FIX_FAILED; /* fixer-failed, fixer-timeout, other-file-changed, ... */
}

/* Runs argv on the host; returns 0 if it ran (check res->status), -1 if it could not run. */
int hh_pl_exec(struct run *x, const char *const *argv, const char *cwd, long timeout_ms,
	       hh_exec_result *res)
{
	hh_exec_opts o = {0};

	memset(res, 0, sizeof(*res));
	o.cwd = cwd;
	o.timeout_ms = timeout_ms;
	return hh_remote_exec(x->r, argv, &o, res);
}

/* The last line(s) of a command's stderr (or stdout), for a detail sentence. */
const char *hh_pl_tail(const hh_exec_result *res)
{
	const hh_buf *b = res->err.len ? &res->err : &res->out;
	const char *s;

	if (!b->ptr)
		return "";
	s = b->ptr + (b->len > 300 ? b->len - 300 : 0);
	while (*s == '\n')
		s++;
	return s;
}

static int preflight(struct run *x)
{
	const char *path = hh_remote_path(x->r);
	const char *argv[] = {
		"git", "-C", path, "rev-parse", "--is-inside-work-tree", "--is-shallow-repository",
		NULL};
	hh_exec_result res;
	enum hh_file_kind kind;
	int rc = 0;

	if (hh_remote_kind(x->r, path, GIT_TIMEOUT_MS, &kind) < 0)
		return hh_pl_fail(x, "preflight-failed", "cannot inspect the work tree: %s",
				  hh_error_last());
	if (kind != HH_FILE_DIR)
		return hh_pl_fail(x, "preflight-failed",
				  "work tree '%s' does not exist on the host", path);
	if (hh_pl_exec(x, argv, path, GIT_TIMEOUT_MS, &res) < 0)
		rc = hh_pl_fail(x, "preflight-failed", "cannot run git on the host: %s",
				hh_error_last());
	else if (res.status != 0)
		rc = hh_pl_fail(x, "preflight-failed", "'%s' is not a git work tree: %s", path,
				hh_pl_tail(&res));
	else if (!res.out.ptr || !strstr(res.out.ptr, "true\nfalse"))
		rc = hh_pl_fail(x, "preflight-failed",
				"host repository '%s' is shallow; healhook needs its full history "
				"(run git fetch --unshallow there)",
				path);
	hh_exec_result_release(&res);
	return rc;
}

/* Brings the mirror up to date with the branch's source. */
int hh_pl_sync(struct run *x)
{
	const hh_config *cfg = x->p->cfg;

	if (x->repo->push_via == HH_PUSH_VIA_MIRROR) {
		if (!x->repo->remote)
			return hh_pl_fail(x, "preflight-failed",
					  "repo.%s.remote is not set (push-via = mirror)",
					  x->repo->name);
		memset(&x->peer, 0, sizeof(x->peer));
		x->peer.url = x->repo->remote;
		x->peer.identity = x->repo->identity;
		x->peer.known_hosts = x->repo->known_hosts;
		x->peer.token = cfg->gitea_token;
		if (hh_mirror_fetch(x->m, &x->peer, NULL) < 0)
			return hh_pl_fail(x, "preflight-failed", "%s", hh_error_last());
		return 0;
	}
	return hh_pl_host_sync(x, 0);
}

/* The target at base: must be a regular file. Fills content. */
int hh_pl_target_at(struct run *x, const char *base, hh_buf *content, int *kind)
{
	hh_buf_clear(content);
	if (hh_mirror_blob_at(x->m, base, x->job->file, MAX_TARGET, content, kind) < 0)
		return hh_pl_fail(x, "preflight-failed", "%s", hh_error_last());
	if (*kind != HH_ENTRY_REGULAR && *kind != HH_ENTRY_EXECUTABLE)
		return hh_pl_fail(x, "preflight-failed",
				  "'%s' is %s at %.12s on %s, not a regular file", x->job->file,
				  *kind == HH_ENTRY_MISSING ? "missing" : hh_entry_kind_name(*kind),
				  base, x->job->branch);
	return 0;
}

static int run_check(struct run *x, const char *work)
{
	hh_strv argv = {0};
	hh_exec_result res;
	int rc = 0;

	if (hh_check_argv(&argv, x->repo, x->job->file) < 0)
		return hh_pl_fail(x, "error", "repo.%s.check: %s", x->repo->name, hh_error_last());
	if (argv.n == 0)
		return 0;
	if (hh_pl_exec_path(x, (const char *const *)argv.v, work, CHECK_TIMEOUT_MS, &res) < 0)
		rc = hh_pl_fail(x, "check-failed", "cannot run %s: %s", argv.v[0], hh_error_last());
	else if (res.status != 0)
		rc = hh_pl_fail(x, "check-failed", "%s failed on the fixed %s: %s", argv.v[0],
				x->job->file, hh_pl_tail(&res));
	hh_exec_result_release(&res);
	hh_strv_release(&argv);
	return rc;
}

char *hh_pipeline_commit_message(const hh_job *job, const char *fingerprint)
{
	hh_buf b = HH_BUF_INIT;
	const char *m = job->message ? job->message : "";
	size_t n = 0, i;

	hh_buf_printf(&b, "fix(autoheal): [");
	for (i = 0; job->type && job->type[i] && i < 64; i++) {
		char c = job->type[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    strchr("_.:-", c))
			hh_buf_putc(&b, c);
	}
	hh_buf_printf(&b, "] auto-fix %s\n\nError: ", job->file);
	/* 200 bytes of the message, cut at a UTF-8 boundary, control characters as spaces. */
	n = strlen(m);
	if (n > 200) {
		n = 200;
		while (n && ((unsigned char)m[n] & 0xc0) == 0x80)
			n--;
	}
	for (i = 0; i < n; i++)
		hh_buf_putc(&b, (unsigned char)m[i] < 0x20 || m[i] == 0x7f ? ' ' : m[i]);
	hh_buf_printf(&b, "\n\nHealhook-Job: %lld\nHealhook-Finding: %.16s\n", job->id,
		      fingerprint);
	if (job->pr_url && *job->pr_url)
		hh_buf_printf(&b, "Reviewed-in: %s\n", job->pr_url);
	return hh_buf_detach(&b);
}

/* Pushes the job's commit. Returns 0 when it landed, HH_EREJECTED when the branch moved (the
 * caller may rebuild), or the result of hh_pl_fail(). */
int hh_pl_push(struct run *x, const char *sha, const char *ref_suffix)
{
	char ref[64];
	int rc = 0;

	snprintf(ref, sizeof(ref), "refs/healhook/jobs/%lld%s", x->job->id, ref_suffix);
	if (x->repo->push_via == HH_PUSH_VIA_MIRROR) {
		char *dst = hh_asprintf("refs/heads/%s", x->job->branch);
		if ((rc = hh_mirror_push(x->m, &x->peer, sha, ref, dst, 0)) < 0 &&
		    rc != HH_EREJECTED)
			rc = hh_pl_fail(x, "push-failed", "%s", hh_error_last());
		free(dst);
		return rc;
	}
	return hh_pl_host_push(x, sha, ref);
}

/* Removes what the job left on the host (scratch directory, pending ref). */
static void cleanup(struct run *x)
{
	int pending;

	if (!x->r)
		return;
	pending = x->repo && x->repo->push_via == HH_PUSH_VIA_HOST && x->job->commit_sha &&
		  !x->host_clean;
	if ((x->scratch || pending) && hh_pl_host_clean(x, x->scratch, pending) < 0)
		hh_log(HH_LOG_WARN, "job.cleanup", "path", x->scratch ? x->scratch : "-", "error",
		       hh_error_last(), NULL);
}

/* The steps after the fixer: L2, commit, push with rebuild-and-retry. */
static int land(struct run *x, const char *base_in, const hh_buf *before, const hh_buf *after)
{
	const hh_config *cfg = x->p->cfg;
	hh_commit_info info = {0};
	hh_finding f = {0};
	char base[41], sha[41], fp[65], *msg = NULL;
	long added = 0, deleted = 0;
	int rc, attempt;

	snprintf(base, sizeof(base), "%s", base_in);
	if (hh_mirror_diff_lines(x->m, base, x->job->file, after->ptr, after->len, &added,
				 &deleted) < 0)
		return hh_pl_fail(x, "error", "%s", hh_error_last());
	x->job->diff_lines = added + deleted;
	hh_pl_stage(x, "diff", NULL);
	if (x->job->diff_lines == 0 &&
	    (before->len != after->len ||
	     (before->len && memcmp(before->ptr, after->ptr, before->len))))
		return hh_pl_fail(x, "binary-change",
				  "the fixer changed %s, but not as text lines "
				  "(binary content): not landed",
				  x->job->file);
	if (x->job->diff_lines == 0)
		return hh_pl_fail(x, "no-diff", "the fixer left %s unchanged", x->job->file);
	if (x->job->diff_lines > x->repo->max_diff_lines)
		return hh_pl_fail(x, "diff-too-large",
				  "%ld lines changed (+%ld -%ld), over max-diff-lines %ld",
				  x->job->diff_lines, added, deleted, x->repo->max_diff_lines);
	if (x->p->dry_run)
		return 0;

	f.file = x->job->file;
	f.type = x->job->type ? x->job->type : "review";
	f.message = x->job->message ? x->job->message : "";
	hh_finding_fingerprint(x->job->repo, x->job->branch, &f, fp);
	msg = hh_pipeline_commit_message(x->job, fp);
	info.name = cfg->commit_name;
	info.email = cfg->commit_email;
	info.time = (long long)time(NULL);
	info.message = msg;
	for (attempt = 0;; attempt++) {
		hh_buf now = HH_BUF_INIT;
		int kind;

		if (hh_mirror_build_commit(x->m, base, x->job->file, after->ptr, after->len, &info,
					   sha, &added, &deleted) < 0) {
			rc = hh_pl_fail(x, "error", "%s", hh_error_last());
			break;
		}
		set_str(&x->job->base_sha, base);
		set_str(&x->job->commit_sha, sha);
		hh_pl_stage(x, "commit", sha);
		if (hh_pl_save(x, HH_JOB_COMMITTED) < 0) {
			rc = -1;
			break;
		}
		rc = hh_pl_push(x, sha, "");
		if (rc != HH_EREJECTED)
			break;
		/* The branch moved: rebuild on the new tip if the target is unchanged there. */
		if (attempt + 1 >= MAX_REBUILDS) {
			rc = hh_pl_fail(x, "branch-moved",
					"%s kept moving; gave up after %d attempts", x->job->branch,
					MAX_REBUILDS);
			break;
		}
		if ((rc = hh_pl_sync(x)) != 0)
			break;
		if (hh_mirror_resolve(x->m, x->job->branch, base) < 0) {
			rc = hh_pl_fail(x, "branch-moved", "%s", hh_error_last());
			break;
		}
		if ((rc = hh_pl_target_at(x, base, &now, &kind)) != 0) {
			hh_buf_release(&now);
			break;
		}
		if (now.len != before->len || memcmp(now.ptr, before->ptr, now.len) != 0) {
			hh_buf_release(&now);
			rc = hh_pl_fail(
				x, "branch-moved",
				"%s moved and %s changed there (now %.12s); the fix is dropped",
				x->job->branch, x->job->file, base);
			break;
		}
		hh_buf_release(&now);
		hh_pl_stage(x, "rebuild", base);
		hh_log(HH_LOG_INFO, "job.rebuild", "repo", x->job->repo, "branch", x->job->branch,
		       "base", base, NULL);
	}
	free(msg);
	if (rc == 0)
		hh_pl_stage(x, "push", sha);
	return rc;
}

/* Opens the job's remote and mirror and syncs the mirror (with the L0 preflight when asked). */
int hh_pl_connect(struct run *x, int with_preflight)
{
	hh_remote_opts ro = {0};
	char *mdir;
	int rc;

	ro.host = x->repo->host;
	ro.identity = x->repo->identity;
	ro.known_hosts = x->repo->known_hosts;
	if (hh_remote_open(&x->r, &ro) < 0)
		return hh_pl_fail(x, "preflight-failed", "%s", hh_error_last());
	hh_pl_stage(x, strstr(x->stages.ptr, "\"connect\"") ? "reconnect" : "connect", NULL);
	/* push-via = host: the preflight is part of the sync script (pipeline_host.c) */
	if (with_preflight && x->repo->push_via != HH_PUSH_VIA_HOST) {
		if ((rc = preflight(x)) != 0)
			return rc;
		hh_pl_stage(x, "preflight", NULL);
	}
	mdir = hh_asprintf("%s/mirrors/%s.git", x->p->cfg->state_dir, x->job->repo);
	rc = mdir ? hh_mirror_open(&x->m, mdir) : hh_error("out of memory");
	free(mdir);
	if (rc < 0)
		return hh_pl_fail(x, "error", "%s", hh_error_last());
	if (x->repo->push_via == HH_PUSH_VIA_HOST)
		return hh_pl_host_sync(x, with_preflight);
	return hh_pl_sync(x);
}

/* Removes what the job left on the host and closes the remote and the mirror. */
void hh_pl_close(struct run *x)
{
	cleanup(x);
	if (x->r) {
		x->p->connections += hh_remote_connections(x->r);
		x->p->channels += hh_remote_channels(x->r);
	}
	hh_mirror_close(x->m);
	hh_remote_close(x->r);
	x->m = NULL;
	x->r = NULL;
	free(x->scratch);
	x->scratch = NULL;
	free(x->fixer_path);
	x->fixer_path = NULL;
}

/* L3: fixer runs per repository in any sliding window, counted in the store. 0 to go on, else
 * HH_PL_ENDED (state waiting) or -1. */
static int budget(struct run *x)
{
	hh_pipeline *p = x->p;
	hh_job *job = x->job;
	long long t = p->now ? p->now : (long long)time(NULL);
	long long used = hh_store_fix_runs_since(p->store, job->repo, t - x->repo->rate_window);

	if (used < x->repo->max_fixes_per_hour)
		return 0;
	set_str(&job->reason, "rate-limited");
	free(job->detail);
	job->detail = hh_asprintf("%lld fixer runs in the last %lds (max-fixes-per-hour %ld)", used,
				  x->repo->rate_window, x->repo->max_fixes_per_hour);
	/* One notice when the budget trips, not one per waiting job. */
	if (!hh_store_repo_has_waiting(p->store, job->repo))
		hh_pipeline_notify(p, job, HH_OUT_BUDGET, NULL);
	return hh_pl_save(x, HH_JOB_WAITING) < 0 ? -1 : HH_PL_ENDED;
}

/* The checks before any connection: the configuration, the path, a frozen repository, the L3
 * budget. 0 to go on, else the run's result. */
static int admit(struct run *x)
{
	hh_pipeline *p = x->p;
	hh_job *job = x->job;
	int frozen;

	x->repo = hh_config_repo(p->cfg, job->repo);
	if (!x->repo)
		return hh_pl_fail(x, "repo-not-configured", "no [repo \"%s\"] in the configuration",
				  job->repo);
	if (hh_guard_path(x->repo, job->file))
		return hh_pl_fail(x, "path-not-allowed", "'%s' is not allowed by repo.%s.allow",
				  job->file, job->repo);
	if (!x->repo->host)
		return hh_pl_fail(x, "preflight-failed", "repo.%s.host is not set", job->repo);
	if (!p->cfg->state_dir)
		return hh_pl_fail(x, "error", "state.dir is not set");
	if (!p->store)
		return 0;
	/* A frozen repository takes no heal until `healhook unfreeze` (the worker never claims
	 * its jobs; this stops `healhook heal` too). */
	if ((frozen = hh_store_repo_frozen(p->store, job->repo)) < 0)
		return -1;
	if (frozen)
		return hh_pl_fail(x, "repo-frozen",
				  "%s is frozen; run 'healhook unfreeze %s' to let it heal again",
				  job->repo, job->repo);
	return budget(x);
}

/* Connect, sync, fixer, judge, check, land. 0 when landed, else the run's result. */
static int heal(struct run *x)
{
	hh_pipeline *p = x->p;
	hh_job *job = x->job;
	hh_buf before = HH_BUF_INIT, after = HH_BUF_INIT;
	char base[41], *work = NULL;
	int rc, kind;

	job->attempts++;
	if ((rc = hh_pl_save(x, HH_JOB_FIXING)) != 0)
		return rc;
	if (!p->dry_run)
		hh_pipeline_notify(p, job, HH_OUT_START, NULL);
	if ((rc = hh_pl_connect(x, 1)) != 0)
		goto out;
	if (hh_mirror_resolve(x->m, job->branch, base) < 0) {
		rc = hh_pl_fail(x, "preflight-failed", "branch '%s' not found: %s", job->branch,
				hh_error_last());
		goto out;
	}
	set_str(&job->base_sha, base);
	if ((rc = hh_pl_target_at(x, base, &before, &kind)) != 0)
		goto out;
	hh_pl_stage(x, "sync", base);
	if (p->store && hh_store_fix_run_add(p->store, job->repo, job->id,
					     p->now ? p->now : (long long)time(NULL)) < 0) {
		rc = -1;
		goto out;
	}
	if ((rc = hh_pl_fix(x, &before, kind, &after)) != 0)
		goto out;
	work = hh_asprintf("%s/work", x->scratch);
	if (after.len == before.len && memcmp(after.ptr, before.ptr, after.len) == 0) {
		rc = hh_pl_unchanged(x);
		goto out;
	}
	hh_pl_stage(x, "judge", NULL);
	if ((rc = run_check(x, work)) != 0)
		goto out;
	hh_pl_stage(x, "check", NULL);
	rc = land(x, base, &before, &after);
out:
	free(work);
	hh_buf_release(&before);
	hh_buf_release(&after);
	return rc;
}

/* Records a landed fix as pushed (not with dry_run). */
static int pushed(struct run *x)
{
	hh_job *job = x->job;
	char id[24];

	/* Nothing of the job may be left on the host once pushed is stored: a restart resumes a
	 * pushed job with its health watch and has no scratch path to clean any more. */
	hh_pl_close(x);
	set_str(&job->detail, NULL);
	if (x->p->dry_run)
		return HH_PL_LANDED;
	if (hh_pl_save(x, HH_JOB_PUSHED) < 0)
		return -1;
	snprintf(id, sizeof(id), "%lld", job->id);
	hh_log(HH_LOG_INFO, "job.pushed", "job", id, "repo", job->repo, "branch", job->branch,
	       "file", job->file, "commit", job->commit_sha, NULL);
	hh_pipeline_notify(x->p, job, HH_OUT_PUSHED, NULL);
	return HH_PL_LANDED;
}

int hh_pipeline_run(hh_pipeline *p, hh_job *job)
{
	struct run x = {0};
	int rc;

	x.p = p;
	x.job = job;
	x.t0 = x.ts = hh_pl_now_s();
	hh_buf_puts(&x.stages, "{");
	p->connections = 0;
	p->channels = 0;
	p->seconds = 0;
	set_str(&job->reason, NULL);
	set_str(&job->detail, NULL);
	if ((rc = admit(&x)) == 0 && (rc = heal(&x)) == 0)
		rc = pushed(&x);
	p->seconds = hh_pl_now_s() - x.t0;
	hh_pl_close(&x);
	hh_buf_release(&x.stages);
	return rc;
}
