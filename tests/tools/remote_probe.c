/*
 * remote_probe: drives internal/remote against a real host for tests/integration/test_remote.py.
 *
 *   remote_probe HOST IDENTITY KNOWN_HOSTS SCENARIO [ARGS...]
 *
 * Scenarios: connect | exec [--timeout MS] [--clean-env] [--env N=V] [--stdin TEXT]
 * [--cap N] [--cwd DIR] -- ARGV... | write PATH TEXT MODE | read PATH MAX | stat PATH |
 * mkdtemp PARENT | rmtree PATH | list DIR | stream-cat TEXT | many-execs N.
 * Prints "key=value" lines (bytes as hex); on failure prints "error=MESSAGE" and exits 1.
 */
#include "internal/log.h"
#include "internal/remote.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void put_hex(const char *key, const char *p, size_t n)
{
	size_t i;

	printf("%s=", key);
	for (i = 0; i < n; i++)
		printf("%02x", (unsigned char)p[i]);
	printf("\n");
}

static int fail(void)
{
	printf("error=%s\n", hh_error_last());
	return 1;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int do_exec(hh_remote *r, int argc, char **argv)
{
	const char *env[32];
	int nenv = 0, i;
	hh_exec_opts o = {0};
	hh_exec_result res;
	int64_t t0;
	int rc;

	for (i = 0; i < argc && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], "--timeout") && i + 1 < argc)
			o.timeout_ms = atol(argv[++i]);
		else if (!strcmp(argv[i], "--clean-env"))
			o.clean_env = 1;
		else if (!strcmp(argv[i], "--env") && i + 1 < argc && nenv < 31)
			env[nenv++] = argv[++i];
		else if (!strcmp(argv[i], "--stdin") && i + 1 < argc) {
			o.stdin_data = argv[++i];
			o.stdin_len = strlen(argv[i]);
		} else if (!strcmp(argv[i], "--cap") && i + 1 < argc)
			o.out_cap = (size_t)atol(argv[++i]);
		else if (!strcmp(argv[i], "--cwd") && i + 1 < argc)
			o.cwd = argv[++i];
		else {
			printf("error=bad exec option %s\n", argv[i]);
			return 2;
		}
	}
	if (i >= argc - 1) {
		printf("error=no command\n");
		return 2;
	}
	env[nenv] = NULL;
	o.env = nenv ? env : NULL;
	t0 = now_ms();
	rc = hh_remote_exec(r, (const char *const *)argv + i + 1, &o, &res);
	printf("rc=%d\nelapsed_ms=%lld\n", rc, (long long)(now_ms() - t0));
	if (rc < 0) {
		hh_exec_result_release(&res);
		return fail();
	}
	printf("status=%d\nsignal=%d\ntimed_out=%d\ntruncated=%d\n", res.status, res.signal,
	       res.timed_out, res.truncated);
	put_hex("out_hex", res.out.ptr, res.out.len);
	put_hex("err_hex", res.err.ptr, res.err.len);
	printf("connections=%d\n", hh_remote_connections(r));
	hh_exec_result_release(&res);
	return 0;
}

static int do_stream_cat(hh_remote *r, const char *text)
{
	const char *argv[] = {"cat", NULL};
	hh_stream *s;
	hh_buf got = HH_BUF_INIT;
	char buf[4096];
	ssize_t n;
	size_t len = strlen(text), off;
	int st;

	if (hh_remote_stream_open(r, argv, 20000, &s) < 0)
		return fail();
	for (off = 0; off < len; off += 7)
		if (hh_stream_write(s, text + off, len - off < 7 ? len - off : 7) < 0)
			return fail();
	if (hh_stream_send_eof(s) < 0)
		return fail();
	while ((n = hh_stream_read(s, buf, sizeof(buf))) > 0)
		hh_buf_put(&got, buf, (size_t)n);
	if (n < 0)
		return fail();
	st = hh_stream_close(s);
	put_hex("data_hex", got.ptr, got.len);
	printf("status=%d\nconnections=%d\n", st, hh_remote_connections(r));
	hh_buf_release(&got);
	return 0;
}

static int run(hh_remote *r, const char *sc, int argc, char **argv)
{
	if (!strcmp(sc, "connect")) {
		printf("connections=%d\nis_ssh=%d\npath=%s\n", hh_remote_connections(r),
		       hh_remote_is_ssh(r), hh_remote_path(r));
		return 0;
	}
	if (!strcmp(sc, "exec"))
		return do_exec(r, argc, argv);
	if (!strcmp(sc, "write") && argc == 3)
		return hh_remote_write_file(r, argv[0], argv[1], strlen(argv[1]),
					    (int)strtol(argv[2], NULL, 8)) < 0
			       ? fail()
			       : (printf("ok=1\n"), 0);
	if (!strcmp(sc, "read") && argc == 2) {
		hh_buf b = HH_BUF_INIT;

		if (hh_remote_read_file(r, argv[0], (size_t)atol(argv[1]), &b) < 0)
			return fail();
		put_hex("data_hex", b.ptr, b.len);
		hh_buf_release(&b);
		return 0;
	}
	if (!strcmp(sc, "stat") && argc == 1) {
		enum hh_file_kind k;
		size_t size = 0;

		if (hh_remote_stat(r, argv[0], &k, &size) < 0)
			return fail();
		printf("kind=%d\nsize=%zu\n", (int)k, size);
		return 0;
	}
	if (!strcmp(sc, "mkdtemp") && argc == 1) {
		char *p;

		if (hh_remote_mkdtemp(r, strcmp(argv[0], "-") ? argv[0] : NULL, &p) < 0)
			return fail();
		printf("path=%s\n", p);
		free(p);
		return 0;
	}
	if (!strcmp(sc, "rmtree") && argc == 1)
		return hh_remote_rmtree(r, argv[0]) < 0 ? fail() : (printf("ok=1\n"), 0);
	if (!strcmp(sc, "list") && argc == 1) {
		hh_remote_entry *e;
		size_t n, i;

		if (hh_remote_list_tree(r, argv[0], &e, &n) < 0)
			return fail();
		for (i = 0; i < n; i++)
			printf("entry=%d %zu %s\n", (int)e[i].kind, e[i].size, e[i].path);
		hh_remote_entries_free(e, n);
		return 0;
	}
	if (!strcmp(sc, "stream-cat") && argc == 1)
		return do_stream_cat(r, argv[0]);
	if (!strcmp(sc, "many-execs") && argc == 1) {
		const char *argv2[] = {"true", NULL};
		enum hh_file_kind k;
		int i, n = atoi(argv[0]);

		for (i = 0; i < n; i++) {
			hh_exec_result res;

			if (hh_remote_exec(r, argv2, NULL, &res) < 0 || res.status != 0) {
				hh_exec_result_release(&res);
				return fail();
			}
			hh_exec_result_release(&res);
		}
		if (hh_remote_stat(r, "/", &k, NULL) < 0)
			return fail();
		printf("execs=%d\nconnections=%d\n", n, hh_remote_connections(r));
		return 0;
	}
	printf("error=unknown scenario %s\n", sc);
	return 2;
}

int main(int argc, char **argv)
{
	hh_remote_opts o = {0};
	hh_remote *r;
	int rc;

	if (argc < 5) {
		fprintf(stderr,
			"usage: remote_probe HOST IDENTITY KNOWN_HOSTS SCENARIO [ARGS...]\n");
		return 2;
	}
	o.host = argv[1];
	o.identity = argv[2][0] ? argv[2] : NULL;
	o.known_hosts = argv[3][0] ? argv[3] : NULL;
	if (hh_remote_open(&r, &o) < 0)
		return fail();
	rc = run(r, argv[4], argc - 5, argv + 5);
	fflush(stdout);
	hh_remote_close(r);
	return rc;
}
