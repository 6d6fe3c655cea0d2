/*
 * guard: pure guardrail decisions. See guard.h.
 */
#include "internal/guard.h"

#include <string.h>
#include <strings.h>

const char *hh_guard_path(const hh_repo_config *repo, const char *path)
{
	const char *p, *seg;
	size_t len;

	if (!path || !*path || path[0] == '/')
		return HH_REASON_PATH;
	len = strlen(path);
	if (len > 4096)
		return HH_REASON_PATH;
	for (p = path; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '\\')
			return HH_REASON_PATH;
	for (seg = path;;) {
		const char *end = strchr(seg, '/');
		size_t n = end ? (size_t)(end - seg) : strlen(seg);
		if (n == 0 || seg[0] == '-' || (n == 1 && seg[0] == '.') ||
		    (n == 2 && seg[0] == '.' && seg[1] == '.'))
			return HH_REASON_PATH;
		if (!end)
			break;
		seg = end + 1;
	}
	if (!repo || !hh_repo_allows(repo, path))
		return HH_REASON_PATH;
	return NULL;
}

int hh_guard_sender_ok(const hh_repo_config *repo, const char *own_login, const char *sender)
{
	size_t i;

	if (!repo)
		return 0;
	if (own_login && *own_login && sender && strcasecmp(own_login, sender) == 0)
		return 0;
	for (i = 0; sender && i < repo->reviewers.n; i++)
		if (strcasecmp(repo->reviewers.v[i], sender) == 0)
			return 1;
	return 0;
}

const char *hh_guard_verdict(const hh_repo_config *repo, const char *own_login, const char *sender,
			     const char *path, int frozen, int quarantined, int duplicate)
{
	const char *r;

	if (!repo)
		return HH_REASON_REPO;
	if (own_login && *own_login && sender && strcasecmp(own_login, sender) == 0)
		return HH_REASON_OWN;
	if (!hh_guard_sender_ok(repo, own_login, sender))
		return HH_REASON_REVIEWER;
	if ((r = hh_guard_path(repo, path)) != NULL)
		return r;
	if (frozen)
		return HH_REASON_FROZEN;
	if (quarantined)
		return HH_REASON_QUARANTINED;
	if (duplicate)
		return HH_REASON_DUPLICATE;
	return NULL;
}
