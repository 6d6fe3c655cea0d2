/*
 * compat: the part of the predecessor's environment-only mode that needs the fix host (see
 * config_compat.c for the rest, and compat.h).
 */
#include "internal/compat.h"
#include "internal/log.h"
#include "internal/remote.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define GET_URL_TIMEOUT_MS 10000

static int name_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.';
}

/* Copies s[0..n) into out if it is a valid owner or repository name. */
static int part(const char *s, size_t n, char *out, size_t size)
{
	size_t i;

	if (!n || n >= size || (n <= 2 && s[0] == '.'))
		return -1;
	for (i = 0; i < n; i++)
		if (!name_char_ok(s[i]))
			return -1;
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

int hh_compat_repo_from_url(const char *url, char *out, size_t size)
{
	char owner[128], name[128];
	const char *p = url, *end, *slash, *prev;
	size_t n = strlen(url);

	while (n && (url[n - 1] == '\n' || url[n - 1] == '\r' || url[n - 1] == '/'))
		n--;
	if (n > 4 && strncmp(url + n - 4, ".git", 4) == 0)
		n -= 4;
	end = url + n;
	if (strstr(url, "://")) {
		p = strstr(url, "://") + 3;
		p = memchr(p, '/', (size_t)(end - p)); /* the path after the host */
		if (!p)
			return -1;
	} else if ((slash = memchr(url, ':', n)) && !memchr(url, '/', (size_t)(slash - url))) {
		p = slash + 1; /* scp-like user@host:owner/name */
	}
	for (slash = end; slash > p && slash[-1] != '/'; slash--)
		;
	if (slash <= p)
		return -1;
	for (prev = slash - 1; prev > p && prev[-1] != '/'; prev--)
		;
	if (part(slash, (size_t)(end - slash), name, sizeof(name)) < 0 ||
	    part(prev, (size_t)(slash - 1 - prev), owner, sizeof(owner)) < 0)
		return -1;
	if ((size_t)snprintf(out, size, "%s/%s", owner, name) >= size)
		return -1;
	return 0;
}

/* mkdir -p dir (0700 for what it creates). */
static int make_dirs(const char *dir)
{
	char *d = hh_strdup(dir), *p;
	int rc = 0;

	if (!d)
		return hh_error("out of memory");
	for (p = d + 1; rc == 0; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(d, 0700) < 0 && errno != EEXIST)
			rc = hh_error("cannot create the state directory '%s': %s", d,
				      strerror(errno));
		*p = c;
		if (!c)
			break;
	}
	free(d);
	return rc;
}

/* git remote get-url origin in the host's work tree, over healhook's own session. */
static int read_name(const hh_repo_config *r, char *name, size_t size, hh_buf *why)
{
	static const char *const argv[] = {"git", "remote", "get-url", "origin", NULL};
	hh_remote_opts ro = {0};
	hh_exec_opts o = {0};
	hh_exec_result res;
	hh_remote *rem = NULL;
	int rc = -1;

	memset(&res, 0, sizeof(res));
	ro.host = r->host;
	ro.identity = r->identity;
	ro.known_hosts = r->known_hosts;
	if (hh_remote_open(&rem, &ro) < 0) {
		hh_buf_puts(why, hh_error_last());
		return -1;
	}
	o.timeout_ms = GET_URL_TIMEOUT_MS; /* cwd: the work tree (AIDER_REPO_PATH) */
	if (hh_remote_exec(rem, argv, &o, &res) < 0)
		hh_buf_puts(why, hh_error_last());
	else if (res.status != 0)
		hh_buf_printf(why, "git remote get-url origin in %s exited with %d: %.*s",
			      hh_remote_path(rem), res.status,
			      (int)strcspn(res.err.ptr ? res.err.ptr : "", "\n"),
			      res.err.ptr ? res.err.ptr : "");
	else if (hh_compat_repo_from_url(res.out.ptr ? res.out.ptr : "", name, size) < 0)
		hh_buf_printf(why, "origin's URL '%.*s' in %s does not end in OWNER/NAME",
			      (int)strcspn(res.out.ptr ? res.out.ptr : "", "\n"),
			      res.out.ptr ? res.out.ptr : "", hh_remote_path(rem));
	else
		rc = 0;
	hh_exec_result_release(&res);
	hh_remote_close(rem);
	return rc;
}

int hh_compat_resolve(hh_config *cfg)
{
	hh_buf why = HH_BUF_INIT;
	char name[300];
	size_t i;
	int rc = 0;

	if (!cfg->predecessor)
		return 0;
	if (cfg->state_dir && make_dirs(cfg->state_dir) < 0)
		return -1;
	for (i = 0; i < cfg->nrepos; i++) {
		hh_repo_config *r = &cfg->repos[i];
		int pending = strcmp(r->name, HH_REPO_FROM_HOST) == 0;

		if (!r->identity && r->host && strncmp(r->host, "ssh://", 6) == 0) {
			rc = hh_error(
				"the predecessor's environment lacks DEPLOY_SSH_KEY_PATH (the "
				"ssh key)%s: set %s (see docs/operations.md, \"Migrating from "
				"the predecessor\")",
				pending ? ", HEALHOOK_REPO (owner/name; it "
					  "is read from the fix host with the key)"
					: "",
				pending ? "them" : "it");
			break;
		}
		if (!pending)
			continue;
		if (read_name(r, name, sizeof(name), &why) < 0) {
			rc = hh_error(
				"the predecessor's environment lacks HEALHOOK_REPO, and the "
				"repository's name cannot be read from the fix host: %s (set "
				"HEALHOOK_REPO=owner/name; see docs/operations.md, \"Migrating "
				"from the predecessor\")",
				why.ptr ? why.ptr : "");
			break;
		}
		free(r->name);
		if (!(r->name = hh_strdup(name))) {
			rc = hh_error("out of memory");
			break;
		}
		hh_log(HH_LOG_INFO, "config.repo", "repo", name, "from",
		       "git remote get-url origin on the fix host", NULL);
	}
	hh_buf_release(&why);
	return rc;
}
