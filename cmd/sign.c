/*
 * healhook sign --secret-file F < BODY: the signature headers Gitea would send for BODY
 * (the JSON payload; for a form delivery, the decoded payload).
 */
#include "cmd/cmd.h"
#include "internal/buf.h"
#include "internal/log.h"
#include "webhook/signature.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const char usage[] =
	"usage: healhook sign --secret-file FILE < BODY\n"
	"\n"
	"Prints X-Gitea-Signature, X-Hub-Signature-256 and X-Hub-Signature for the bytes on\n"
	"standard input, signed with the secret in FILE (a trailing newline is ignored).\n";

int cmd_sign(int argc, char **argv)
{
	static const struct option opts[] = {
		{"secret-file", required_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *secret_file = NULL;
	hh_buf secret = HH_BUF_INIT, body = HH_BUF_INIT;
	char h256[65], h1[41];
	int c, rc = HH_EXIT_USAGE;

	optind = 1;
	while ((c = getopt_long(argc, argv, "s:h", opts, NULL)) != -1) {
		if (c == 's')
			secret_file = optarg;
		else if (c == 'h') {
			fputs(usage, stdout);
			return HH_EXIT_OK;
		} else {
			fputs(usage, stderr);
			return HH_EXIT_USAGE;
		}
	}
	if (!secret_file || optind != argc) {
		fputs(usage, stderr);
		return HH_EXIT_USAGE;
	}
	if (hh_buf_read_file(&secret, secret_file, 4096) < 0) {
		cmd_die_msg("sign", "%s", hh_error_last());
		goto out;
	}
	while (secret.len &&
	       (secret.ptr[secret.len - 1] == '\n' || secret.ptr[secret.len - 1] == '\r'))
		secret.ptr[--secret.len] = '\0';
	if (secret.len == 0 || strlen(secret.ptr) != secret.len) {
		cmd_die_msg("sign", "secret file '%s' is empty or holds a NUL byte", secret_file);
		goto out;
	}
	if (hh_buf_read_file(&body, "/dev/stdin", 64u << 20) < 0) {
		cmd_die_msg("sign", "%s", hh_error_last());
		goto out;
	}
	hh_hmac_sha256_hex(secret.ptr, body.ptr, body.len, h256);
	hh_hmac_sha1_hex(secret.ptr, body.ptr, body.len, h1);
	printf("X-Gitea-Signature: %s\nX-Hub-Signature-256: sha256=%s\nX-Hub-Signature: sha1=%s\n",
	       h256, h256, h1);
	rc = HH_EXIT_OK;
out:
	if (secret.ptr)
		explicit_bzero(secret.ptr, secret.cap);
	hh_buf_release(&secret);
	hh_buf_release(&body);
	return rc;
}
