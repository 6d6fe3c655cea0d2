/*
 * pipeline_host: the fix host's git steps (push-via = host), each merged with the git service
 * it goes with into one remote script (rscript.h), so that a heal spends one ssh channel on
 * the sync and one on the push:
 *
 *   sync  [preflight: the work tree exists, is a git work tree, is not shallow]
 *         git fetch --prune origin; then git-upload-pack, which the mirror fetches from
 *   push  git-receive-pack (the mirror sends the commit to refs/healhook/pending); then
 *         git push origin pending:BRANCH; ls-remote checks origin's branch is the commit;
 *         then the pending ref and the scratch directory are removed
 *
 * After a failure (or a restart), hh_pl_host_clean removes the scratch directory and the
 * pending ref the same way, one exec channel, no SFTP.
 *
 * The step texts are constants; the work tree, branch, commit and scratch path are positional
 * arguments. Each step fails with its own exit status, turned here into the same sentences the
 * separate commands gave.
 */
#include "internal/gitops.h"
#include "internal/log.h"
#include "internal/pipeline_priv.h"
#include "internal/remote.h"
#include "internal/rscript.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PUSH_WAIT_MS (120 * 1000) /* git push and ls-remote to origin after receive-pack */

static const char step_enter[] = "[ -d \"$1\" ] && cd -- \"$1\" || hh_fail";
static const char step_worktree[] =
	"hh_r=$(git rev-parse --is-inside-work-tree --is-shallow-repository) || hh_fail";
static const char step_shallow[] = "[ \"$hh_r\" = \"$(printf 'true\\nfalse')\" ] || hh_fail";
/* Without the automatic maintenance a fetch starts afterwards (git maintenance run --auto): a
 * process per heal that waits on the host's repository, which is the owner's to maintain. */
static const char step_fetch[] = "git -c maintenance.auto=false -c gc.auto=0 fetch --quiet --prune "
				 "origin </dev/null >&2 || hh_fail";

/* "$@" is {git, push, origin, refs/healhook/pending:refs/heads/BRANCH}. A refused push is
 * hh_reject when origin's branch moved: its tip is no ancestor of the commit pushed (or not
 * even known here, git's "fetch first"). Decided from the refs, never from git's words. */
static const char step_push[] = "if ! \"$1\" \"$2\" \"$3\" \"$4\" </dev/null >&2; then\n"
				"\thh_o=$(git ls-remote \"$3\" \"${4#*:}\" </dev/null) || hh_fail\n"
				"\thh_o=${hh_o%%[!0-9a-f]*}\n"
				"\t[ -n \"$hh_o\" ] || hh_fail\n"
				"\tgit merge-base --is-ancestor \"$hh_o\" \"${4%%:*}\" </dev/null "
				">/dev/null 2>&1 && hh_fail\n"
				"\thh_reject\n"
				"fi";
static const char step_verify[] = "hh_o=$(git ls-remote origin \"$1\" </dev/null) || hh_fail\n"
				  "case \"$hh_o\" in \"$2\"*) ;; *) hh_fail ;; esac";
static const char step_clean[] = "git update-ref -d refs/healhook/pending </dev/null >&2\n"
				 "[ -z \"$1\" ] || rm -rf -- \"$1\" >&2\n"
				 "exit 0";

static const char step_rm[] = "rm -rf -- \"$1\" >&2 || hh_fail";
static const char step_unpend[] =
	"cd -- \"$1\" || hh_fail\n"
	"git update-ref -d refs/healhook/pending </dev/null >&2 || hh_fail";

/* A scratch directory of ours: /tmp/healhook-NAME, NAME without '/' (pipeline_fix.c, and
 * hh_remote_mkdtemp's names of earlier versions). */
static int is_scratch(const char *p)
{
	return strncmp(p, "/tmp/healhook-", 14) == 0 && p[14] && !strchr(p + 14, '/') &&
	       strcmp(p + 14, "..") != 0;
}

int hh_pl_host_clean(struct run *x, const char *scratch, int pending)
{
	const char *a1[] = {scratch, NULL}, *a2[] = {hh_remote_path(x->r), NULL};
	hh_rscript s = {0};
	hh_strv argv = {0};
	hh_exec_opts o = {0};
	hh_exec_result res;
	int rc = -1;

	memset(&res, 0, sizeof(res));
	if (scratch && !is_scratch(scratch))
		return hh_error("'%s' is not a scratch directory of healhook's", scratch);
	if ((scratch && hh_rscript_step(&s, "rm", step_rm, 1, a1) < 0) ||
	    (pending && hh_rscript_step(&s, "unpend", step_unpend, 1, a2) < 0) ||
	    hh_rscript_argv(&s, &argv) < 0)
		goto out;
	if (s.steps == 0) {
		rc = 0;
		goto out;
	}
	o.cwd = "/";
	o.timeout_ms = PUSH_WAIT_MS;
	if (hh_remote_exec(x->r, (const char *const *)argv.v, &o, &res) < 0)
		goto out;
	if (res.status != 0) {
		hh_error("cannot %s on the host: %s",
			 strcmp(hh_rscript_step_name(&s, hh_rscript_failed_step(&s, res.status)),
				"unpend") == 0
				 ? "remove refs/healhook/pending"
				 : "remove the scratch directory",
			 hh_pl_tail(&res));
		goto out;
	}
	rc = 0;
out:
	hh_exec_result_release(&res);
	hh_strv_release(&argv);
	hh_rscript_release(&s);
	return rc;
}

/* The last 300 bytes of a script's stderr, for a detail sentence. */
static const char *err_tail(const hh_git_script *gs)
{
	const char *s;

	if (!gs->err.ptr)
		return "";
	s = gs->err.ptr + (gs->err.len > 300 ? gs->err.len - 300 : 0);
	while (*s == '\n')
		s++;
	return s;
}

int hh_pl_host_sync(struct run *x, int with_preflight)
{
	const char *path = hh_remote_path(x->r);
	const char *args[] = {path, NULL};
	hh_rscript pre = {0};
	hh_git_script gs = {0};
	int s_enter, s_git = -2, s_shallow = -2, s_fetch, rc;

	s_enter = hh_rscript_step(&pre, "enter", step_enter, 1, args);
	if (with_preflight) {
		s_git = hh_rscript_step(&pre, "worktree", step_worktree, 0, NULL);
		s_shallow = hh_rscript_step(&pre, "shallow", step_shallow, 0, NULL);
	}
	s_fetch = hh_rscript_step(&pre, "fetch", step_fetch, 0, NULL);
	if (s_fetch < 0) {
		rc = hh_pl_fail(x, "error", "%s", hh_error_last());
		goto out;
	}
	gs.r = x->r;
	gs.pre = &pre;
	gs.cwd = "/";
	hh_git_channel_scripted(&x->ch, &gs);
	memset(&x->peer, 0, sizeof(x->peer));
	x->peer.channel = &x->ch;
	x->peer.path = path;
	rc = hh_mirror_fetch(x->m, &x->peer, "+refs/remotes/origin/*:refs/heads/*");
	if (gs.failed_step == s_enter)
		rc = hh_pl_fail(x, "preflight-failed", "work tree '%s' does not exist on the host",
				path);
	else if (gs.failed_step == s_git)
		rc = hh_pl_fail(x, "preflight-failed", "'%s' is not a git work tree: %s", path,
				err_tail(&gs));
	else if (gs.failed_step == s_shallow)
		rc = hh_pl_fail(x, "preflight-failed",
				"host repository '%s' is shallow; healhook needs its full history "
				"(run git fetch --unshallow there)",
				path);
	else if (gs.failed_step == s_fetch)
		rc = hh_pl_fail(x, "preflight-failed", "cannot fetch origin on the host: %s",
				err_tail(&gs));
	else if (rc < 0 && !gs.ran)
		rc = hh_pl_fail(x, "preflight-failed", "cannot run git on the host: %s",
				hh_error_last());
	else if (rc < 0)
		rc = hh_pl_fail(x, "preflight-failed", "%s", hh_error_last());
out:
	hh_git_channel_from_remote(&x->ch, x->r); /* gs ends here */
	hh_git_script_release(&gs);
	hh_rscript_release(&pre);
	return rc;
}

/* Pushes sha through the host: 0 landed, HH_EREJECTED the branch moved, else hh_pl_fail's
 * result. */
int hh_pl_host_push(struct run *x, const char *sha, const char *ref)
{
	const char *path = hh_remote_path(x->r);
	char *head = hh_asprintf("refs/heads/%s", x->job->branch);
	const char *vargs[] = {head, sha, NULL}, *cargs[] = {x->scratch ? x->scratch : "", NULL};
	hh_strv push = {0};
	hh_rscript post = {0};
	hh_git_script gs = {0};
	int s_push, s_verify, rc;

	if (!head || hh_gitops_host_push_argv(&push, x->job->branch) < 0 || push.n != 4) {
		rc = hh_pl_fail(x, "push-failed", "%s", hh_error_last());
		goto out;
	}
	s_push = hh_rscript_step(&post, "push", step_push, 4, (const char *const *)push.v);
	s_verify = hh_rscript_step(&post, "verify", step_verify, 2, vargs);
	if (hh_rscript_step(&post, "clean", step_clean, 1, cargs) < 0) {
		rc = hh_pl_fail(x, "error", "%s", hh_error_last());
		goto out;
	}
	/* merged script: service = step 1, then post's steps */
	s_push += 1;
	s_verify += 1;
	gs.r = x->r;
	gs.post = &post;
	gs.close_wait_ms = PUSH_WAIT_MS;
	hh_git_channel_scripted(&x->ch, &gs);
	x->peer.channel = &x->ch;
	x->peer.path = path;
	rc = hh_mirror_push(x->m, &x->peer, sha, ref, "refs/healhook/pending", 1);
	if (rc < 0 && gs.failed_step != s_push && gs.failed_step != s_verify &&
	    gs.rejected_step != s_push) {
		rc = hh_pl_fail(x, "push-failed", "cannot send the commit to the host: %s",
				hh_error_last());
	} else if (gs.rejected_step == s_push) {
		rc = hh_fail(HH_EREJECTED, "origin's %s moved: the push is no fast-forward", head);
	} else if (gs.failed_step == s_push) {
		rc = hh_pl_fail(x, "push-failed", "git push on the host failed: %s", err_tail(&gs));
	} else if (gs.failed_step == s_verify || gs.status != 0) {
		rc = hh_pl_fail(x, "push-failed", "origin's %s is not %.12s after the push", head,
				sha);
	} else {
		/* landed; the script removed the pending ref and the scratch directory */
		x->host_clean = 1;
		free(x->scratch);
		x->scratch = NULL;
		rc = 0;
	}
out:
	hh_git_channel_from_remote(&x->ch, x->r);
	hh_git_script_release(&gs);
	hh_rscript_release(&post);
	hh_strv_release(&push);
	free(head);
	return rc;
}
