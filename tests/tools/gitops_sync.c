/*
 * gitops_sync: drives gitops against a real server (for integration tests with sshd).
 *
 *   gitops_sync MIRROR URL BRANCH [IDENTITY KNOWN_HOSTS [USER]] [--push-to REF]
 *
 * Fetches URL into the bare mirror MIRROR and prints "ok <sha of BRANCH>"; with --push-to,
 * pushes that SHA back to REF (fast-forward only) through refs/healhook/jobs/sync. On failure
 * it prints "error: <message>" on stderr and exits 1.
 */
#include <stdio.h>
#include <string.h>

#include "internal/gitops.h"
#include "internal/log.h"

int main(int argc, char **argv)
{
	hh_git_peer peer = {0};
	hh_mirror *m = NULL;
	const char *push_to = NULL;
	char sha[41];
	int i, n = 0, rc = 1;
	const char *pos[6] = {0};

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--push-to") == 0 && i + 1 < argc)
			push_to = argv[++i];
		else if (n < 6)
			pos[n++] = argv[i];
	}
	if (n < 3) {
		fprintf(stderr, "usage: gitops_sync MIRROR URL BRANCH [IDENTITY KNOWN_HOSTS [USER]] "
				"[--push-to REF]\n");
		return 2;
	}
	peer.url = pos[1];
	peer.identity = pos[3];
	peer.known_hosts = pos[4];
	peer.user = pos[5];
	if (hh_mirror_open(&m, pos[0]) < 0 || hh_mirror_fetch(m, &peer, NULL) < 0 ||
	    hh_mirror_resolve(m, pos[2], sha) < 0)
		goto out;
	if (push_to && hh_mirror_push(m, &peer, sha, "refs/healhook/jobs/sync", push_to, 0) < 0)
		goto out;
	printf("ok %s\n", sha);
	rc = 0;
out:
	if (rc)
		fprintf(stderr, "error: %s\n", hh_error_last());
	hh_mirror_close(m);
	return rc;
}
