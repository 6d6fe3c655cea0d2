/*
 * remote: the fix host, behind one interface with two transports.
 *
 *   ssh   host = ssh://user@host[:port]/path  (libssh2: one session per job, reused for every
 *         command, file transfer and git stream of the job; key auth with ed25519/RSA keys;
 *         host key checked against known-hosts, an unknown or changed key is refused with its
 *         SHA256 fingerprint in the error; connect timeout 10 s)
 *   local host = /path or local:/path  (fork/exec with an argv, never a shell; files with
 *         plain POSIX calls)
 *
 * Commands are argv arrays. Over ssh, sshd hands the command line to the remote user's shell,
 * so every word is single-quoted (hh_shell_quote) and the command is wrapped so that it can be
 * stopped: the per-command time limit kills the remote process group (a command killed by a
 * signal is reported as such, never as status 0). File contents never travel inside a command
 * line: they go on a command's stdin (a heal's remote scripts), or through SFTP (ssh) or direct
 * I/O (local) for the file calls below.
 *
 * A remote handle is used by one thread at a time. libssh2 types stay inside remote_ssh.c.
 */
#ifndef HH_REMOTE_H
#define HH_REMOTE_H

#include <stddef.h>
#include <sys/types.h>

#include "internal/buf.h"

typedef struct hh_remote hh_remote;

typedef struct hh_remote_opts {
	const char *host;        /* ssh://user@host[:port]/path, /path or local:/path */
	const char *identity;    /* private key file (ssh); required for ssh */
	const char *known_hosts; /* known_hosts file (ssh); required for ssh */
	long connect_timeout_ms; /* 0 = 10000 */
} hh_remote_opts;

/* Parsed form of a host spec. Strings owned by the struct; release with hh_host_spec_release. */
typedef struct hh_host_spec {
	int is_ssh;
	char *user; /* NULL when not given */
	char *hostname;
	int port;   /* 22 by default */
	char *path; /* the work tree (absolute) */
} hh_host_spec;

/* Returns 0, or HH_ECONFIG ("bad host spec '...': ...") or -1 (out of memory). */
int hh_host_spec_parse(hh_host_spec *out, const char *spec);
void hh_host_spec_release(hh_host_spec *hs);

/* Connects (ssh: TCP, handshake, host key check, auth). Returns 0, or the code of the step
 * that failed (internal/error.h) with a clear error; callers decide on the code, never on the
 * words:
 *   HH_ECONFIG          bad host spec, or no identity / known-hosts file given
 *   HH_EKEYFILE         "cannot read ssh key '/path': ..."
 *   HH_ECONNECT         "cannot connect to fixhost:22: Connection refused"
 *   HH_EHANDSHAKE       "ssh handshake with fixhost:22 failed: ..."
 *   HH_EKNOWNHOSTS      "cannot read known hosts file '/path': ..."
 *   HH_EHOSTKEY_UNKNOWN "host key for [127.0.0.1]:2222 is not in /path/known_hosts (SHA256:...)"
 *   HH_EHOSTKEY_CHANGED "host key for ... does not match ... (SHA256:...)"
 *   HH_EAUTH            "ssh authentication failed for user@host with key /path: ..."
 * or -1 (anything else). For the two host key codes hh_error_detail() is the key's
 * fingerprint ("SHA256:..."). */
int hh_remote_open(hh_remote **out, const hh_remote_opts *opts);
void hh_remote_close(hh_remote *r);
/* The work tree path of the host spec. */
const char *hh_remote_path(const hh_remote *r);
/* 1 for ssh. */
int hh_remote_is_ssh(const hh_remote *r);
/* Number of TCP connections this handle has made (ssh: 1 after open; local: 0). */
int hh_remote_connections(const hh_remote *r);
/* Number of ssh channels (exec, subsystem) opened on the current connection (local: 0). */
int hh_remote_channels(const hh_remote *r);

typedef struct hh_exec_result {
	int status;    /* exit status, or -1 when killed or not exited */
	int signal;    /* signal number that killed it (0 if none) */
	int timed_out; /* 1 if the time limit stopped it */
	hh_buf out;    /* stdout, at most out_cap bytes kept (the TAIL when over) */
	hh_buf err;    /* stderr, likewise */
	int truncated; /* 1 if output was cut */
} hh_exec_result;

void hh_exec_result_release(hh_exec_result *res);

typedef struct hh_exec_opts {
	const char *cwd;        /* working directory; NULL = the host's work tree path */
	const char *const *env; /* "NAME=value" list (NULL-terminated) set for the command; the
				 * command gets ONLY these plus PATH=/usr/local/bin:/usr/bin:/bin
				 * when clean_env is 1; a PATH=... in the list replaces that PATH
				 * (and is the PATH argv[0] is looked up in; fixer.path uses it) */
	int clean_env;
	const void *stdin_data; /* NULL = stdin from /dev/null */
	size_t stdin_len;
	long timeout_ms; /* 0 = no limit */
	size_t out_cap;  /* bytes kept per stream; 0 = 64 KiB */
} hh_exec_opts;

/*
 * Runs argv (argv[0] looked up in PATH) and waits. Returns 0 when the command ran (whatever
 * its status: see res), -1 when it could not be run or the connection failed (res->status -1).
 * On time-out the remote process group is killed (TERM, then KILL) and res->timed_out is 1.
 */
int hh_remote_exec(hh_remote *r, const char *const *argv, const hh_exec_opts *opts,
		   hh_exec_result *res);

/* Files (ssh: SFTP, started by the first call; local: POSIX). Paths are absolute. Not used by
 * a heal, which moves every file through exec channels (pipeline_fix.c). */
/* Reads at most max bytes (error if larger). Refuses symlinks (lstat). */
int hh_remote_read_file(hh_remote *r, const char *path, size_t max, hh_buf *out);
/* Creates or truncates path with mode, writing len bytes. Parent directories are created. */
int hh_remote_write_file(hh_remote *r, const char *path, const void *data, size_t len, int mode);

enum hh_file_kind {
	HH_FILE_MISSING = 0,
	HH_FILE_REGULAR,
	HH_FILE_DIR,
	HH_FILE_SYMLINK,
	HH_FILE_OTHER
};
/* lstat: fills *kind (and *size when non-NULL). Returns 0, or -1 on a transport error. */
int hh_remote_stat(hh_remote *r, const char *path, enum hh_file_kind *kind, size_t *size);

/* lstat by a command on the host (ssh: one exec channel, no SFTP; local: lstat): fills *kind.
 * Returns 0, or -1 when it could not be run (error set). */
int hh_remote_kind(hh_remote *r, const char *path, long timeout_ms, enum hh_file_kind *kind);

/* ssh: starts SFTP on the session now (one subsystem channel), within timeout_ms (0 = 10 s);
 * HH_ENOSFTP with an error naming the sftp subsystem when the host has none. local: 0. Healhook's
 * heals never need SFTP (`healhook doctor` reports it); the file calls below start it when first
 * used. */
int hh_remote_sftp_probe(hh_remote *r, long timeout_ms);

/* Creates a fresh private directory (mode 0700) under parent (NULL = /tmp) and returns its path
 * in *out (caller frees). */
int hh_remote_mkdtemp(hh_remote *r, const char *parent, char **out);
/* Removes a directory tree created by hh_remote_mkdtemp (never follows symlinks). */
int hh_remote_rmtree(hh_remote *r, const char *path);
/* Lists the regular files, dirs and symlinks below dir recursively, as paths relative to dir
 * (sorted), each with its kind and size; used to check what a fixer created or changed. */
typedef struct hh_remote_entry {
	char *path;
	enum hh_file_kind kind;
	size_t size;
} hh_remote_entry;
int hh_remote_list_tree(hh_remote *r, const char *dir, hh_remote_entry **out, size_t *n);
void hh_remote_entries_free(hh_remote_entry *e, size_t n);

/*
 * A bidirectional byte stream to a command (used to speak git's smart protocol with
 * git-upload-pack / git-receive-pack on the host over the job's own session).
 * read returns bytes read (0 at end of stream) or -1; write returns 0 or -1.
 * close waits for the command and returns its exit status (or -1).
 * timeout_ms (0 = none) is a deadline for the whole stream, counted from open: past it, read
 * and write fail and the command's process group is killed. The stream runs in the host's work
 * tree; r must outlive it.
 */
typedef struct hh_stream hh_stream;
int hh_remote_stream_open(hh_remote *r, const char *const *argv, long timeout_ms, hh_stream **out);
/* The same with options: cwd (NULL = the work tree; "/" lets a remote script check the work
 * tree itself), and close_wait_ms (0 = 10 s): how long close waits for the command to end
 * after its input is closed (a script that runs more steps after the git service needs
 * longer). */
typedef struct hh_stream_opts {
	const char *cwd;
	long timeout_ms;
	long close_wait_ms;
} hh_stream_opts;
int hh_remote_stream_open_opts(hh_remote *r, const char *const *argv, const hh_stream_opts *o,
			       hh_stream **out);
ssize_t hh_stream_read(hh_stream *s, void *buf, size_t len);
int hh_stream_write(hh_stream *s, const void *buf, size_t len);
/* Signals end of input (ssh: EOF on the channel; local: closes the pipe). */
int hh_stream_send_eof(hh_stream *s);
int hh_stream_close(hh_stream *s);
/* hh_stream_close that first appends the command's whole stderr tail (including what arrives
 * while close waits for the command to end) to err. */
int hh_stream_close_keep_err(hh_stream *s, hh_buf *err);
/* The tail (at most 4 KiB) of the command's stderr read so far ("" if none), for error
 * messages; valid until the next call on s. */
const char *hh_stream_stderr(const hh_stream *s);

/* Appends word single-quoted for a POSIX shell ('it'\''s'). */
int hh_shell_quote(hh_buf *out, const char *word);

#endif
