/*
 * knownhosts: healhook's one host-key policy, for every ssh connection it makes (the fix
 * host's libssh2 session in remote_ssh.c and libgit2's ssh transport in gitops_transport.c).
 *
 * OpenSSH's known_hosts semantics: a host on port 22 is named "host", on another port
 * "[host]:port"; comma-separated patterns with '*', '?' and '!' negation; hashed "|1|salt|hash"
 * names; "@revoked" lines; "@cert-authority" lines are ignored (not supported). The name must
 * match exactly (a port-less entry does not cover another port, stricter than libssh2). A key
 * is accepted only when a line that names the host carries exactly that key blob.
 */
#ifndef HH_KNOWNHOSTS_H
#define HH_KNOWNHOSTS_H

#include <stddef.h>

#include "internal/buf.h"

/* The verdict on one host key. */
enum hh_hostkey_verdict {
	HH_HOSTKEY_UNKNOWN = 0, /* no line names the host */
	HH_HOSTKEY_MATCH = 1,   /* a line names the host with exactly this key */
	HH_HOSTKEY_CHANGED =
		-2, /* the host is listed with other keys only, or this key is revoked */
};

/*
 * Matches a key blob (the SSH wire form: field 2 of a known_hosts line, base64-decoded)
 * against known_hosts content text (pure: no I/O). Returns an hh_hostkey_verdict.
 */
int hh_known_hosts_match(const char *text, const char *host, int port, const void *key,
			 size_t key_len);

/*
 * Checks the key a server offered against the known_hosts file at path. Returns 0 when it
 * matches; otherwise the error's code (internal/error.h): HH_EHOSTKEY_UNKNOWN "host key for
 * NAME is not in PATH (SHA256:...)", HH_EHOSTKEY_CHANGED "host key for NAME does not match the
 * one in PATH (SHA256:...)" (both with the fingerprint "SHA256:..." as hh_error_detail()),
 * HH_EKNOWNHOSTS "cannot read known hosts file 'PATH': ...", or -1. *verdict (may be NULL)
 * gets the hh_hostkey_verdict, or -1 when the file could not be read.
 */
int hh_known_hosts_check(const char *path, const char *host, int port, const void *key,
			 size_t key_len, int *verdict);

/* Appends OpenSSH's fingerprint of a key blob: "SHA256:" + unpadded base64 of its SHA-256. */
int hh_host_key_fingerprint(hh_buf *out, const void *key, size_t key_len);

/* Appends the known_hosts name of a host: "host" on port 22 (or port <= 0), else "[host]:port". */
int hh_known_hosts_name(hh_buf *out, const char *host, int port);

#endif
