/*
 * compat: environment-only mode with the predecessor's variables, the part that needs the
 * fix host. config_compat.c (config module) gives the defaults that need nothing; here the
 * repository's name is read from the host when HEALHOOK_REPO is unset.
 */
#ifndef HH_COMPAT_H
#define HH_COMPAT_H

#include <stddef.h>

#include "internal/config.h"

/*
 * For cfg->predecessor: creates state.dir (mkdir -p, 0700), and names a repository still
 * named HH_REPO_FROM_HOST from `git remote get-url origin` run in its work tree on the host
 * (AIDER_REPO_PATH) over healhook's own ssh session, as argv (no shell interpolation), within
 * the connect timeout and 10 s for the command. Does nothing for other configurations.
 * Returns 0, or -1 with one error saying what is missing (HEALHOOK_REPO) and why.
 */
int hh_compat_resolve(hh_config *cfg);

/* "git@h:acme/shop.git", "ssh://git@h:2222/acme/shop", "https://h/acme/shop.git",
 * "/srv/git/acme/shop.git" → "acme/shop" in out. Returns 0, or -1 when the URL does not end in
 * OWNER/NAME ([A-Za-z0-9._-]). Pure. */
int hh_compat_repo_from_url(const char *url, char *out, size_t size);

#endif
