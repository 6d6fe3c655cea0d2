/*
 * gitops.c: the mirror and the commits healhook builds in it (libgit2). A commit is made
 * from objects only: blob → git_tree_create_updated (UPSERT, the file's mode kept) → commit
 * with no ref update, so nothing in the mirror moves until a push points a job ref at it.
 * Fetch and push (the transports) are in gitops_transport.c.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal/gitops_int.h"
#include "internal/log.h"

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_rc;

static void init_libgit2(void)
{
	init_rc = git_libgit2_init() < 0 ? -1 : 0;
}

int hh_git_init(void)
{
	pthread_once(&init_once, init_libgit2);
	if (init_rc < 0)
		return hh_error("git: cannot initialise libgit2: %s", hh_git_msg());
	return 0;
}

const char *hh_git_msg(void)
{
	const git_error *e = git_error_last();

	return e && e->message && *e->message ? e->message : "unknown error";
}

int hh_git_error(const char *fmt, ...)
{
	hh_buf b = HH_BUF_INIT;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = hh_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (rc < 0)
		return -1;
	rc = hh_error("%s: %s", b.ptr, hh_git_msg());
	hh_buf_release(&b);
	return rc;
}

/* mkdir -p of dir's parents (dir itself is created by git_repository_init). */
static int mkdir_parents(const char *dir)
{
	char *p = hh_strdup(dir);
	char *s;
	int rc = 0;

	if (!p)
		return hh_error("out of memory");
	for (s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST) {
			rc = hh_error("cannot create directory '%s': %s", p, strerror(errno));
			goto out;
		}
		*s = '/';
	}
out:
	free(p);
	return rc;
}

int hh_mirror_open(hh_mirror **out, const char *dir)
{
	hh_mirror *m = NULL;
	struct stat st;
	int rc = -1;

	*out = NULL;
	if (hh_git_init() < 0)
		return -1;
	m = calloc(1, sizeof(*m));
	if (!m || !(m->dir = hh_strdup(dir))) {
		hh_error("out of memory");
		goto out;
	}
	if (stat(dir, &st) == 0) {
		if (git_repository_open_bare(&m->repo, dir) < 0) {
			hh_git_error("git: cannot open mirror '%s'", dir);
			goto out;
		}
	} else {
		if (mkdir_parents(dir) < 0)
			goto out;
		if (git_repository_init(&m->repo, dir, 1) < 0) {
			hh_git_error("git: cannot create mirror '%s'", dir);
			goto out;
		}
	}
	*out = m;
	m = NULL;
	rc = 0;
out:
	hh_mirror_close(m);
	return rc;
}

void hh_mirror_close(hh_mirror *m)
{
	if (!m)
		return;
	git_repository_free(m->repo);
	free(m->dir);
	free(m);
}

const char *hh_mirror_dir(const hh_mirror *m)
{
	return m->dir;
}

static int parse_oid(git_oid *oid, const char *sha)
{
	if (!sha || strlen(sha) != 40 || git_oid_fromstr(oid, sha) < 0)
		return hh_error("git: invalid object id '%s'", sha ? sha : "(null)");
	return 0;
}

static int lookup_commit(hh_mirror *m, const char *sha, git_commit **out)
{
	git_oid oid;

	if (parse_oid(&oid, sha) < 0)
		return -1;
	if (git_commit_lookup(out, m->repo, &oid) < 0)
		return hh_git_error("git: cannot find commit %s in '%s'", sha, m->dir);
	return 0;
}

int hh_mirror_resolve(hh_mirror *m, const char *branch, char sha_out[41])
{
	hh_buf name = HH_BUF_INIT;
	git_oid oid;
	int rc = -1;

	if (hh_buf_printf(&name, "refs/heads/%s", branch) < 0)
		goto out;
	if (git_reference_name_to_id(&oid, m->repo, name.ptr) < 0) {
		hh_git_error("git: cannot resolve branch '%s' in '%s'", branch, m->dir);
		goto out;
	}
	git_oid_tostr(sha_out, 41, &oid);
	rc = 0;
out:
	hh_buf_release(&name);
	return rc;
}

int hh_mirror_set_ref(hh_mirror *m, const char *refname, const char *sha)
{
	git_reference *ref = NULL;
	git_oid oid;

	if (parse_oid(&oid, sha) < 0)
		return -1;
	if (git_reference_create(&ref, m->repo, refname, &oid, 1, "healhook") < 0)
		return hh_git_error("git: cannot set %s to %s in '%s'", refname, sha, m->dir);
	git_reference_free(ref);
	return 0;
}

const char *hh_entry_kind_name(int kind)
{
	switch (kind) {
	case HH_ENTRY_MISSING: return "missing";
	case HH_ENTRY_REGULAR: return "regular file";
	case HH_ENTRY_EXECUTABLE: return "executable file";
	case HH_ENTRY_SYMLINK: return "symlink";
	case HH_ENTRY_SUBMODULE: return "submodule";
	case HH_ENTRY_TREE: return "directory";
	}
	return "unknown";
}

static int kind_of_mode(git_filemode_t mode)
{
	switch (mode) {
	case GIT_FILEMODE_BLOB: return HH_ENTRY_REGULAR;
	case GIT_FILEMODE_BLOB_EXECUTABLE: return HH_ENTRY_EXECUTABLE;
	case GIT_FILEMODE_LINK: return HH_ENTRY_SYMLINK;
	case GIT_FILEMODE_COMMIT: return HH_ENTRY_SUBMODULE;
	case GIT_FILEMODE_TREE: return HH_ENTRY_TREE;
	default: return HH_ENTRY_MISSING;
	}
}

/* The tree entry at path in commit (NULL in *out when missing: not an error). */
static int entry_at(hh_mirror *m, git_commit *commit, const char *path, git_tree_entry **out)
{
	git_tree *tree = NULL;
	int err, rc = -1;

	*out = NULL;
	if (!path || !*path || path[0] == '/') {
		hh_error("git: invalid path '%s'", path ? path : "(null)");
		goto out;
	}
	if (git_commit_tree(&tree, commit) < 0) {
		hh_git_error("git: cannot read tree of %s", git_oid_tostr_s(git_commit_id(commit)));
		goto out;
	}
	err = git_tree_entry_bypath(out, tree, path);
	if (err < 0 && err != GIT_ENOTFOUND) {
		hh_git_error("git: cannot look up '%s' in %s", path, m->dir);
		goto out;
	}
	rc = 0;
out:
	git_tree_free(tree);
	return rc;
}

int hh_mirror_blob_at(hh_mirror *m, const char *commit_sha, const char *path, size_t max,
		      hh_buf *content, int *kind)
{
	git_commit *commit = NULL;
	git_tree_entry *entry = NULL;
	git_blob *blob = NULL;
	git_object_size_t size;
	int rc = -1;

	*kind = HH_ENTRY_MISSING;
	if (lookup_commit(m, commit_sha, &commit) < 0 || entry_at(m, commit, path, &entry) < 0)
		goto out;
	if (!entry) {
		rc = 0;
		goto out;
	}
	*kind = kind_of_mode(git_tree_entry_filemode(entry));
	if (*kind != HH_ENTRY_REGULAR && *kind != HH_ENTRY_EXECUTABLE &&
	    *kind != HH_ENTRY_SYMLINK) {
		rc = 0;
		goto out;
	}
	if (git_blob_lookup(&blob, m->repo, git_tree_entry_id(entry)) < 0) {
		hh_git_error("git: cannot read '%s' at %s", path, commit_sha);
		goto out;
	}
	size = git_blob_rawsize(blob);
	if (max && size > max) {
		hh_error("git: '%s' at %.12s is too large (%llu bytes, limit %zu)", path,
			 commit_sha, (unsigned long long)size, max);
		goto out;
	}
	if (hh_buf_put(content, git_blob_rawcontent(blob), (size_t)size) < 0)
		goto out;
	rc = 0;
out:
	git_blob_free(blob);
	git_tree_entry_free(entry);
	git_commit_free(commit);
	return rc;
}

/* The blob at path in commit, which must be a regular or executable file. */
static int file_blob(hh_mirror *m, git_commit *commit, const char *path, git_blob **blob,
		     git_filemode_t *mode)
{
	git_tree_entry *entry = NULL;
	int kind, rc = -1;

	if (entry_at(m, commit, path, &entry) < 0)
		goto out;
	kind = entry ? kind_of_mode(git_tree_entry_filemode(entry)) : HH_ENTRY_MISSING;
	if (kind != HH_ENTRY_REGULAR && kind != HH_ENTRY_EXECUTABLE) {
		hh_error("git: '%s' at %.12s is not a regular file (%s)", path,
			 git_oid_tostr_s(git_commit_id(commit)), hh_entry_kind_name(kind));
		goto out;
	}
	if (mode)
		*mode = git_tree_entry_filemode(entry);
	if (git_blob_lookup(blob, m->repo, git_tree_entry_id(entry)) < 0) {
		hh_git_error("git: cannot read '%s'", path);
		goto out;
	}
	rc = 0;
out:
	git_tree_entry_free(entry);
	return rc;
}

int hh_mirror_diff_lines(hh_mirror *m, const char *base_sha, const char *path, const void *content,
			 size_t len, long *added, long *deleted)
{
	git_commit *base = NULL;
	git_blob *blob = NULL;
	git_patch *patch = NULL;
	size_t adds = 0, dels = 0;
	int rc = -1;

	*added = *deleted = 0;
	if (lookup_commit(m, base_sha, &base) < 0 || file_blob(m, base, path, &blob, NULL) < 0)
		goto out;
	if (git_patch_from_blob_and_buffer(&patch, blob, path, content, len, path, NULL) < 0 ||
	    git_patch_line_stats(NULL, &adds, &dels, patch) < 0) {
		hh_git_error("git: cannot diff '%s'", path);
		goto out;
	}
	*added = (long)adds;
	*deleted = (long)dels;
	rc = 0;
out:
	git_patch_free(patch);
	git_blob_free(blob);
	git_commit_free(base);
	return rc;
}

static int make_signature(git_signature **sig, const hh_commit_info *info)
{
	if (!info || !info->name || !info->email || !info->message)
		return hh_error("git: commit info needs name, email and message");
	if (git_signature_new(sig, info->name, info->email, (git_time_t)info->time,
			      info->tz_offset_min) < 0)
		return hh_git_error("git: invalid signature '%s <%s>'", info->name, info->email);
	return 0;
}

int hh_mirror_build_commit(hh_mirror *m, const char *base_sha, const char *path,
			   const void *content, size_t len, const hh_commit_info *info,
			   char sha_out[41], long *added, long *deleted)
{
	git_commit *base = NULL;
	git_blob *old_blob = NULL;
	git_tree *base_tree = NULL, *new_tree = NULL;
	git_diff *diff = NULL;
	git_diff_stats *stats = NULL;
	git_signature *sig = NULL;
	git_tree_update upd;
	git_filemode_t mode;
	git_oid blob_oid, tree_oid, commit_oid;
	const git_commit *parents[1];
	int rc = -1;

	*added = *deleted = 0;
	if (lookup_commit(m, base_sha, &base) < 0 ||
	    file_blob(m, base, path, &old_blob, &mode) < 0 || make_signature(&sig, info) < 0)
		goto out;
	if (git_blob_create_from_buffer(&blob_oid, m->repo, content, len) < 0) {
		hh_git_error("git: cannot write blob for '%s'", path);
		goto out;
	}
	memset(&upd, 0, sizeof(upd));
	upd.action = GIT_TREE_UPDATE_UPSERT;
	upd.id = blob_oid;
	upd.filemode = mode;
	upd.path = path;
	if (git_commit_tree(&base_tree, base) < 0 ||
	    git_tree_create_updated(&tree_oid, m->repo, base_tree, 1, &upd) < 0 ||
	    git_tree_lookup(&new_tree, m->repo, &tree_oid) < 0) {
		hh_git_error("git: cannot build tree for '%s'", path);
		goto out;
	}
	if (git_diff_tree_to_tree(&diff, m->repo, base_tree, new_tree, NULL) < 0 ||
	    git_diff_get_stats(&stats, diff) < 0) {
		hh_git_error("git: cannot diff '%s'", path);
		goto out;
	}
	*added = (long)git_diff_stats_insertions(stats);
	*deleted = (long)git_diff_stats_deletions(stats);
	parents[0] = base;
	if (git_commit_create(&commit_oid, m->repo, NULL, sig, sig, NULL, info->message, new_tree,
			      1, parents) < 0) {
		hh_git_error("git: cannot create commit on %.12s", base_sha);
		goto out;
	}
	git_oid_tostr(sha_out, 41, &commit_oid);
	rc = 0;
out:
	git_diff_stats_free(stats);
	git_diff_free(diff);
	git_tree_free(new_tree);
	git_tree_free(base_tree);
	git_blob_free(old_blob);
	git_signature_free(sig);
	git_commit_free(base);
	return rc;
}

int hh_mirror_revert(hh_mirror *m, const char *commit_sha, const char *onto_sha,
		     const hh_commit_info *info, char sha_out[41])
{
	git_commit *bad = NULL, *onto = NULL;
	git_index *index = NULL;
	git_tree *tree = NULL;
	git_signature *sig = NULL;
	hh_buf msg = HH_BUF_INIT;
	const git_commit *parents[1];
	git_oid tree_oid, oid;
	const char *subject;
	int rc = -1;

	if (lookup_commit(m, commit_sha, &bad) < 0 || lookup_commit(m, onto_sha, &onto) < 0 ||
	    make_signature(&sig, info) < 0)
		goto out;
	if (git_commit_parentcount(bad) != 1) {
		hh_error("git: cannot revert %.12s: it has %u parents", commit_sha,
			 git_commit_parentcount(bad));
		goto out;
	}
	if (git_revert_commit(&index, m->repo, bad, onto, 0, NULL) < 0) {
		hh_git_error("git: cannot revert %.12s onto %.12s", commit_sha, onto_sha);
		goto out;
	}
	if (git_index_has_conflicts(index)) {
		hh_error("git: cannot revert %.12s onto %.12s: revert conflicts", commit_sha,
			 onto_sha);
		goto out;
	}
	if (git_index_write_tree_to(&tree_oid, index, m->repo) < 0 ||
	    git_tree_lookup(&tree, m->repo, &tree_oid) < 0) {
		hh_git_error("git: cannot write revert tree of %.12s", commit_sha);
		goto out;
	}
	subject = git_commit_summary(bad);
	if (hh_buf_printf(&msg, "Revert \"%s\"\n\nThis reverts commit %s.\n",
			  subject ? subject : "", commit_sha) < 0)
		goto out;
	if (*info->message && hh_buf_printf(&msg, "\n%s", info->message) < 0)
		goto out;
	if (msg.ptr[msg.len - 1] != '\n' && hh_buf_putc(&msg, '\n') < 0)
		goto out;
	parents[0] = onto;
	if (git_commit_create(&oid, m->repo, NULL, sig, sig, NULL, msg.ptr, tree, 1, parents) < 0) {
		hh_git_error("git: cannot create revert commit of %.12s", commit_sha);
		goto out;
	}
	git_oid_tostr(sha_out, 41, &oid);
	rc = 0;
out:
	hh_buf_release(&msg);
	git_tree_free(tree);
	git_index_free(index);
	git_signature_free(sig);
	git_commit_free(onto);
	git_commit_free(bad);
	return rc;
}

/* 1 if message has a line that is exactly line. */
static int has_line(const char *message, const char *line)
{
	size_t n = strlen(line);
	const char *p = message;

	while (p && *p) {
		if (strncmp(p, line, n) == 0 && (p[n] == '\n' || p[n] == '\0' || p[n] == '\r'))
			return 1;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return 0;
}

int hh_mirror_find_revert(hh_mirror *m, const char *tip_sha, const char *job_id, char sha_out[41])
{
	git_revwalk *walk = NULL;
	git_commit *c = NULL;
	hh_buf line = HH_BUF_INIT;
	git_oid oid;
	int i, err, rc = -1;

	if (parse_oid(&oid, tip_sha) < 0 || hh_buf_printf(&line, "Healhook-Job: %s", job_id) < 0)
		goto out;
	if (git_revwalk_new(&walk, m->repo) < 0 || git_revwalk_push(walk, &oid) < 0) {
		hh_git_error("git: cannot walk history from %.12s", tip_sha);
		goto out;
	}
	for (i = 0; i < 100; i++) {
		const char *msg;

		err = git_revwalk_next(&oid, walk);
		if (err == GIT_ITEROVER)
			break;
		if (err < 0 || git_commit_lookup(&c, m->repo, &oid) < 0) {
			hh_git_error("git: cannot walk history from %.12s", tip_sha);
			goto out;
		}
		msg = git_commit_message(c);
		if (msg && strncmp(msg, "Revert \"", 8) == 0 && has_line(msg, line.ptr)) {
			git_oid_tostr(sha_out, 41, &oid);
			rc = 1;
			goto out;
		}
		git_commit_free(c);
		c = NULL;
	}
	rc = 0;
out:
	git_commit_free(c);
	git_revwalk_free(walk);
	hh_buf_release(&line);
	return rc;
}

int hh_mirror_is_ancestor(hh_mirror *m, const char *ancestor_sha, const char *commit_sha)
{
	git_oid a, c;
	int r;

	if (parse_oid(&a, ancestor_sha) < 0 || parse_oid(&c, commit_sha) < 0)
		return -1;
	if (git_oid_equal(&a, &c))
		return 1;
	r = git_graph_descendant_of(m->repo, &c, &a);
	if (r < 0)
		return hh_git_error("git: cannot compare %.12s and %.12s", ancestor_sha,
				    commit_sha);
	return r;
}

int hh_gitops_host_push_argv(hh_strv *out, const char *branch)
{
	hh_buf spec = HH_BUF_INIT;
	int valid = 0, rc = -1;

	if (hh_git_init() < 0 || hh_buf_printf(&spec, "refs/heads/%s", branch) < 0)
		goto out;
	if (git_reference_name_is_valid(&valid, spec.ptr) < 0 || !valid) {
		hh_error("git: invalid branch name '%s'", branch);
		goto out;
	}
	hh_buf_clear(&spec);
	if (hh_buf_printf(&spec, "refs/healhook/pending:refs/heads/%s", branch) < 0 ||
	    hh_strv_push(out, "git") < 0 || hh_strv_push(out, "push") < 0 ||
	    hh_strv_push(out, "origin") < 0 || hh_strv_push(out, spec.ptr) < 0)
		goto out;
	rc = 0;
out:
	hh_buf_release(&spec);
	return rc;
}
