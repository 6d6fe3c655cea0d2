/*
 * gitops: the libgit2 side of a heal. healhook keeps one BARE mirror per repository
 * (STATE_DIR/mirrors/OWNER/NAME.git); every commit it lands or reverts is built there, never
 * in a work tree, so the SHA that was checked is the SHA that lands.
 *
 * Refs used in a mirror:
 *   refs/heads/<branch>        what the last fetch saw (fetch refspec, forced, with prune:
 *                              the mirror follows its source, it never has branches of its own)
 *   refs/healhook/jobs/<id>    a commit built for a job; libgit2 cannot push a raw SHA, so a
 *                              push first points this local ref at the commit
 * Refs used in the fix host's repository (push-via = host):
 *   refs/healhook/pending      healhook's scratch ref, pushed with force over the job's own
 *                              channel; the host then runs hh_gitops_host_push_argv()
 *
 * Peers: a fetch or push talks to a "peer": either a URL/local path through libgit2's own
 * transports (ssh:// with an identity file and a known_hosts file we name, https:// with a
 * token, or a local path), or a repository on the fix host reached through an hh_git_channel,
 * a byte stream to `git-upload-pack PATH` / `git-receive-pack PATH` (a libgit2 smart
 * subtransport; gitops_remote.c makes a channel from an hh_remote, so a whole heal needs one
 * SSH connection). NOTE: libgit2 pushes to a local PATH by writing refs directly, so server
 * hooks do not run there; over a channel (or ssh/https) the real receive-pack runs them.
 *
 * URLs are used as given (no url.*.insteadOf rewriting). libgit2 1.5 has no network time-out
 * for its own transports: a hung ssh/https server can stall a fetch; a channel has the
 * time-out of its stream.
 *
 * Errors: functions return 0 or -1 with hh_error() set, keeping libgit2's message:
 * "git: cannot fetch from X: <libgit2 message>". A ref the remote refuses is an error (libgit2
 * itself returns success there) carrying the remote's status and its "remote:" output.
 *
 * Threads: libgit2 is initialised once for the process, by hh_git_init(). One hh_mirror is used
 * by one thread at a time; different mirrors may be used in parallel.
 */
#ifndef HH_GITOPS_H
#define HH_GITOPS_H

#include <stddef.h>
#include <sys/types.h>

#include "internal/buf.h"

typedef struct hh_mirror hh_mirror;

/*
 * Initialises libgit2 for the process, once (pthread_once; later calls return the first
 * result). The one place healhook calls git_libgit2_init(): every code path that calls
 * libgit2 calls this first (the hh_mirror_* functions and the config file reader do), so
 * main() need not, and unit tests and tools that call library functions directly work
 * without it. libgit2 is never shut down (it lives as long as the process).
 * Returns 0 or -1 with the error set.
 */
int hh_git_init(void);

/* Opens the bare repository at dir, creating it (and its parent directories) when missing.
 * *out is owned by the caller: hh_mirror_close(). */
int hh_mirror_open(hh_mirror **out, const char *dir);
void hh_mirror_close(hh_mirror *m);
const char *hh_mirror_dir(const hh_mirror *m);

/*
 * A channel to a git service on the fix host. open starts argv ({"git-upload-pack", path,
 * NULL} or git-receive-pack) and returns a stream handle; read returns bytes read, 0 at end,
 * -1 on error; write writes everything or returns -1; close ends the input, waits for the
 * command, frees the stream and returns its exit status (or -1). Errors set hh_error().
 */
typedef struct hh_git_channel {
	int (*open)(void *ctx, const char *const *argv, void **stream);
	ssize_t (*read)(void *stream, void *buf, size_t len);
	int (*write)(void *stream, const void *buf, size_t len);
	int (*close)(void *stream);
	void *ctx;
} hh_git_channel;

/* The other side of a fetch or push. Set either url, or channel + path. Strings are borrowed. */
typedef struct hh_git_peer {
	const char *url;               /* ssh://, https://, file:// URL or a local path */
	const hh_git_channel *channel; /* or: the repository at path behind this channel */
	const char *path;
	const char *identity;    /* ssh: private key file (public key = identity.pub if any) */
	const char *known_hosts; /* ssh: known_hosts file; required for ssh URLs */
	const char *user;        /* ssh user when the URL has none ("git"); https user */
	const char *token;       /* https: token sent as the password; never logged */
} hh_git_peer;

/*
 * Fetches into the mirror with refspec (NULL = every branch, refs/heads/<b> to
 * refs/heads/<b>, forced), pruning refs the source no longer has. Full history only: a shallow
 * source is refused with "host repository is shallow; ...". For a fix host's work tree whose
 * branches may be stale, run `git fetch origin` there and pass the refspec that maps
 * refs/remotes/origin/<b> to refs/heads/<b>.
 */
int hh_mirror_fetch(hh_mirror *m, const hh_git_peer *peer, const char *refspec);

/* Tip of refs/heads/<branch> (40 hex + NUL in sha_out). Error if missing. */
int hh_mirror_resolve(hh_mirror *m, const char *branch, char sha_out[41]);

/* Points the mirror's ref (e.g. refs/healhook/jobs/12) at sha, overwriting it. */
int hh_mirror_set_ref(hh_mirror *m, const char *refname, const char *sha);

enum hh_entry_kind {
	HH_ENTRY_MISSING = 0,
	HH_ENTRY_REGULAR,    /* 100644 */
	HH_ENTRY_EXECUTABLE, /* 100755 */
	HH_ENTRY_SYMLINK,    /* 120000 (content = link target) */
	HH_ENTRY_SUBMODULE,  /* 160000 (no content) */
	HH_ENTRY_TREE,       /* a directory (no content) */
};
/* Name of a kind for messages ("regular file", "symlink", ...). */
const char *hh_entry_kind_name(int kind);

/*
 * The entry at path in commit_sha: *kind is set, and the blob's bytes are appended to content
 * for a regular file, an executable or a symlink (max bytes, 0 = no cap; bigger is an error).
 * A missing path is not an error (kind HH_ENTRY_MISSING).
 */
int hh_mirror_blob_at(hh_mirror *m, const char *commit_sha, const char *path, size_t max,
		      hh_buf *content, int *kind);

/* Author/committer and message of a commit built by healhook. Strings are borrowed. */
typedef struct hh_commit_info {
	const char *name;
	const char *email;
	long long time;      /* seconds since the epoch (fixed time = deterministic SHA) */
	int tz_offset_min;   /* minutes east of UTC */
	const char *message; /* build_commit: the whole message; revert: the trailer block */
} hh_commit_info;

/* Lines added/deleted if path at base_sha became content (nothing is written). */
int hh_mirror_diff_lines(hh_mirror *m, const char *base_sha, const char *path, const void *content,
			 size_t len, long *added, long *deleted);

/*
 * Builds a commit whose parent is base_sha and whose tree is base's with path's content
 * replaced (the file must exist at base as a regular or executable file; its mode is kept).
 * *added / *deleted get the diff stats (0 and 0: the caller decides "no diff"; the commit is
 * built anyway). No ref is updated.
 */
int hh_mirror_build_commit(hh_mirror *m, const char *base_sha, const char *path,
			   const void *content, size_t len, const hh_commit_info *info,
			   char sha_out[41], long *added, long *deleted);

/*
 * Pushes sha: points local_ref (in the mirror) at it, then pushes local_ref:remote_ref
 * ("+" when force). Without force a non-fast-forward is refused: HH_EREJECTED (libgit2 found
 * the remote's tip no ancestor of sha, or unknown in the mirror, or the remote refused the ref
 * as "non-fast-forward"). Any other refusal (hook, protected branch) is HH_ERR; both carry
 * the remote's words.
 */
int hh_mirror_push(hh_mirror *m, const hh_git_peer *peer, const char *sha, const char *local_ref,
		   const char *remote_ref, int force);

/*
 * Builds the revert of commit_sha on top of onto_sha (usually the branch tip; commit_sha must
 * be an ancestor) with the message
 *   Revert "<subject>"\n\nThis reverts commit <sha>.\n\n<info->message>\n
 * A conflict is an error ("revert conflicts"). No ref is updated.
 */
int hh_mirror_revert(hh_mirror *m, const char *commit_sha, const char *onto_sha,
		     const hh_commit_info *info, char sha_out[41]);

/*
 * Looks for a revert commit built for job_id (a message starting with `Revert "` with a line
 * "Healhook-Job: <job_id>") among the first 100 commits from tip_sha. Returns 1 and fills
 * sha_out when found, 0 when not, -1 on error.
 */
int hh_mirror_find_revert(hh_mirror *m, const char *tip_sha, const char *job_id, char sha_out[41]);

/* Appends the patch of commit sha against its first parent (unified diff, as `git show`
 * without the header) to out, cut after max bytes. Opens the bare repository at dir read-only
 * (never creates it). */
int hh_mirror_show_commit(const char *dir, const char *sha, size_t max, hh_buf *out);

/* 1 if ancestor_sha is commit_sha or one of its ancestors, 0 if not, -1 on error. */
int hh_mirror_is_ancestor(hh_mirror *m, const char *ancestor_sha, const char *commit_sha);

/* The argv that lands refs/healhook/pending on the host (push-via = host), run with
 * hh_remote_exec in the host's work tree: {"git", "push", "origin",
 * "refs/healhook/pending:refs/heads/BRANCH"} (fast-forward only). Fails for an invalid branch
 * name. The strings are owned by out (hh_strv_release). */
int hh_gitops_host_push_argv(hh_strv *out, const char *branch);

struct hh_remote;
/* A channel over an hh_remote's streams (hh_remote_stream_open); r is borrowed. */
void hh_git_channel_from_remote(hh_git_channel *ch, struct hh_remote *r);

/*
 * A channel whose git service runs inside one remote script (rscript.h), so that the steps
 * around it cost no channel of their own: pre's steps run first (from cwd; NULL = the work
 * tree), then the service (`exec "$1" "$2"` when post is NULL, else `"$1" "$2" || hh_fail`),
 * then post's steps, whose output must go to stderr (stdout is the git protocol). close waits
 * close_wait_ms (0 = 10 s) for the script to end. The last stream's exit status, failed step
 * (numbered in the merged script: pre's steps, the service, post's steps) and stderr tail are
 * kept in the struct. pre and post are borrowed; release with hh_git_script_release.
 */
struct hh_rscript;
typedef struct hh_git_script {
	struct hh_remote *r;
	const struct hh_rscript *pre, *post;
	const char *cwd;
	long close_wait_ms;
	int ran;           /* a stream was opened */
	int status;        /* its exit status (-1: killed, lost, or not closed yet) */
	int failed_step;   /* 0, or the merged script's step that failed (hh_fail) */
	int rejected_step; /* 0, or the merged script's step that said hh_reject (rscript.h) */
	hh_buf err;        /* its stderr tail */
} hh_git_script;
void hh_git_channel_scripted(hh_git_channel *ch, hh_git_script *gs);
void hh_git_script_release(hh_git_script *gs);

#endif
