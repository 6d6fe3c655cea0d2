/*
 * gitops_show: a commit as a patch, for the status pages. Opens the mirror read-only (it is
 * never created here, and another thread may be healing in it: a separate git_repository on
 * the same directory only reads objects), diffs the commit against its first parent and
 * returns the unified patch, cut at max bytes.
 */
#include "internal/gitops_int.h"
#include "internal/log.h"

#include <string.h>

int hh_mirror_show_commit(const char *dir, const char *sha, size_t max, hh_buf *out)
{
	git_repository *repo = NULL;
	git_commit *c = NULL, *parent = NULL;
	git_tree *t = NULL, *pt = NULL;
	git_diff *diff = NULL;
	git_buf patch = {0};
	git_oid oid;
	int ret = -1;

	if (hh_git_init() < 0)
		return -1;
	if (git_repository_open_ext(
		    &repo, dir, GIT_REPOSITORY_OPEN_NO_SEARCH | GIT_REPOSITORY_OPEN_BARE, NULL) < 0)
		return hh_git_error("git: cannot open mirror '%s'", dir);
	if (git_oid_fromstr(&oid, sha) < 0 || git_commit_lookup(&c, repo, &oid) < 0) {
		hh_git_error("git: no commit %.12s in '%s'", sha, dir);
		goto out;
	}
	if (git_commit_tree(&t, c) < 0 ||
	    (git_commit_parentcount(c) > 0 &&
	     (git_commit_parent(&parent, c, 0) < 0 || git_commit_tree(&pt, parent) < 0))) {
		hh_git_error("git: cannot read the trees of %.12s", sha);
		goto out;
	}
	if (git_diff_tree_to_tree(&diff, repo, pt, t, NULL) < 0 ||
	    git_diff_to_buf(&patch, diff, GIT_DIFF_FORMAT_PATCH) < 0) {
		hh_git_error("git: cannot diff %.12s", sha);
		goto out;
	}
	if (patch.size > max) {
		if (hh_buf_put(out, patch.ptr, max) < 0 || hh_buf_puts(out, "\n[cut]\n") < 0)
			goto oom;
	} else if (patch.size && hh_buf_put(out, patch.ptr, patch.size) < 0) {
		goto oom;
	}
	ret = 0;
	goto out;
oom:
	hh_error("out of memory");
out:
	git_buf_dispose(&patch);
	git_diff_free(diff);
	git_tree_free(pt);
	git_tree_free(t);
	git_commit_free(parent);
	git_commit_free(c);
	git_repository_free(repo);
	return ret;
}
