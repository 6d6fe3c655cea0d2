/*
 * remote_priv: what remote.c (the dispatcher) shares with its two transports, remote_local.c
 * and remote_ssh.c. Not for other modules: they use remote.h only.
 *
 * The dispatcher checks the arguments that both transports need checked (absolute paths, a
 * non-empty argv whose first word is sane, well-formed env entries) and then calls the
 * transport. Helpers shared by both transports (time, output capture) live in remote.c.
 */
#ifndef HH_REMOTE_PRIV_H
#define HH_REMOTE_PRIV_H

#include <stdint.h>

#include "internal/remote.h"

#define HH_REMOTE_DEFAULT_CAP (64 * 1024)
/* Bytes of a stream's stderr kept (the tail), for error messages. */
#define HH_STREAM_ERR_CAP 4096

struct hh_ssh;

struct hh_remote {
	hh_host_spec spec;
	int connections;
	long connect_timeout_ms;
	struct hh_ssh *ssh; /* NULL for the local transport */
};

struct hh_stream_local;
struct hh_stream_ssh;

struct hh_stream {
	hh_remote *r;
	struct hh_stream_local *local;
	struct hh_stream_ssh *ssh;
	hh_buf err;         /* tail of the command's stderr */
	char *cwd;          /* NULL = the work tree */
	long close_wait_ms; /* 0 = 10 s */
};

/* Monotonic clock in milliseconds. */
int64_t hh_now_ms(void);
/* Appends data to b keeping at most cap bytes (the tail); sets *truncated when bytes drop. */
int hh_buf_put_tail(hh_buf *b, const void *data, size_t len, size_t cap, int *truncated);
/* Signal number of a signal name without "SIG" ("KILL" -> 9); 0 if unknown. */
int hh_signal_from_name(const char *name);

/* Local transport (remote_local.c). */
int hh_local_exec(hh_remote *r, const char *const *argv, const hh_exec_opts *opts,
		  hh_exec_result *res);
int hh_local_read_file(const char *path, size_t max, hh_buf *out);
int hh_local_write_file(const char *path, const void *data, size_t len, int mode);
int hh_local_stat(const char *path, enum hh_file_kind *kind, size_t *size);
int hh_local_mkdtemp(const char *parent, char **out);
int hh_local_rmtree(const char *path);
int hh_local_list_tree(const char *dir, hh_remote_entry **out, size_t *n);
int hh_local_stream_open(hh_stream *s, const char *const *argv, long timeout_ms);
ssize_t hh_local_stream_read(hh_stream *s, void *buf, size_t len);
int hh_local_stream_write(hh_stream *s, const void *buf, size_t len);
int hh_local_stream_send_eof(hh_stream *s);
int hh_local_stream_close(hh_stream *s);

/* ssh transport (remote_ssh.c). hh_ssh_open returns hh_remote_open's codes (remote.h). */
int hh_ssh_open(hh_remote *r, const hh_remote_opts *opts);
void hh_ssh_close(hh_remote *r);
int hh_ssh_exec(hh_remote *r, const char *const *argv, const hh_exec_opts *opts,
		hh_exec_result *res);
int hh_ssh_read_file(hh_remote *r, const char *path, size_t max, hh_buf *out);
int hh_ssh_write_file(hh_remote *r, const char *path, const void *data, size_t len, int mode);
int hh_ssh_stat(hh_remote *r, const char *path, enum hh_file_kind *kind, size_t *size);
int hh_ssh_mkdtemp(hh_remote *r, const char *parent, char **out);
int hh_ssh_rmtree(hh_remote *r, const char *path);
int hh_ssh_list_tree(hh_remote *r, const char *dir, hh_remote_entry **out, size_t *n);
int hh_ssh_stream_open(hh_stream *s, const char *const *argv, long timeout_ms);
ssize_t hh_ssh_stream_read(hh_stream *s, void *buf, size_t len);
int hh_ssh_stream_write(hh_stream *s, const void *buf, size_t len);
int hh_ssh_stream_send_eof(hh_stream *s);
int hh_ssh_stream_close(hh_stream *s);
int hh_ssh_channels(const hh_remote *r);
int hh_ssh_sftp_probe(hh_remote *r, long timeout_ms);

/* Sorts entries by path (both transports return list_tree sorted). */
void hh_remote_entries_sort(hh_remote_entry *e, size_t n);
/* Appends one entry (path copied). */
int hh_remote_entries_push(hh_remote_entry **e, size_t *n, size_t *cap, const char *path,
			   enum hh_file_kind kind, size_t size);

#endif
