/* Placeholder until the libssh2 transport lands (next commits on this branch). */
#include "internal/log.h"
#include "internal/remote_priv.h"

#define NOSSH return hh_error("ssh transport not built yet")
int hh_ssh_open(hh_remote *r, const hh_remote_opts *opts) { (void)r; (void)opts; NOSSH; }
void hh_ssh_close(hh_remote *r) { (void)r; }
int hh_ssh_exec(hh_remote *r, const char *const *a, const hh_exec_opts *o, hh_exec_result *s) { (void)r; (void)a; (void)o; (void)s; NOSSH; }
int hh_ssh_read_file(hh_remote *r, const char *p, size_t m, hh_buf *o) { (void)r; (void)p; (void)m; (void)o; NOSSH; }
int hh_ssh_write_file(hh_remote *r, const char *p, const void *d, size_t l, int m) { (void)r; (void)p; (void)d; (void)l; (void)m; NOSSH; }
int hh_ssh_stat(hh_remote *r, const char *p, enum hh_file_kind *k, size_t *s) { (void)r; (void)p; (void)k; (void)s; NOSSH; }
int hh_ssh_mkdtemp(hh_remote *r, const char *p, char **o) { (void)r; (void)p; (void)o; NOSSH; }
int hh_ssh_rmtree(hh_remote *r, const char *p) { (void)r; (void)p; NOSSH; }
int hh_ssh_list_tree(hh_remote *r, const char *d, hh_remote_entry **o, size_t *n) { (void)r; (void)d; (void)o; (void)n; NOSSH; }
int hh_ssh_stream_open(hh_stream *s, const char *const *a, long t) { (void)s; (void)a; (void)t; NOSSH; }
ssize_t hh_ssh_stream_read(hh_stream *s, void *b, size_t l) { (void)s; (void)b; (void)l; NOSSH; }
int hh_ssh_stream_write(hh_stream *s, const void *b, size_t l) { (void)s; (void)b; (void)l; NOSSH; }
int hh_ssh_stream_send_eof(hh_stream *s) { (void)s; NOSSH; }
int hh_ssh_stream_close(hh_stream *s) { (void)s; NOSSH; }
