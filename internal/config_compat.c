/*
 * config_compat: environment-only mode with the predecessor's variables (its .env, no config
 * file). What the predecessor did not have gets a default a migrating user does not write:
 *   - the repository's name: read from the host (`git remote get-url origin` in
 *     AIDER_REPO_PATH, see compat.c); until then the repository is named HH_REPO_FROM_HOST;
 *   - state.dir: $STATE_DIRECTORY (systemd's StateDirectory=), else $XDG_STATE_HOME/healhook,
 *     else ~/.local/state/healhook;
 *   - repo.known-hosts: ~/.ssh/known_hosts of the user running healhook ($HOME, else the
 *     passwd entry's home).
 * What has no default is reported in one error that lists every missing variable (here
 * what config needs; compat.c adds DEPLOY_SSH_KEY_PATH and HEALHOOK_REPO, which only the
 * process that connects needs: the receiver gets neither the key nor its path).
 */
#include "internal/buf.h"
#include "internal/config.h"
#include "internal/config_impl.h"
#include "internal/log.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const pred_vars[] = {"HEAL_SSH_HOST",   "HEAL_SSH_USER",       "HEAL_SSH_PORT",
					"AIDER_REPO_PATH", "DEPLOY_SSH_KEY_PATH", NULL};

int hh_cfg_predecessor_mode(const hh_config *cfg, char *const *envp)
{
	size_t i;

	if (cfg->path || hh_cfg_env(envp, "HEALHOOK_HOST"))
		return 0;
	for (i = 0; pred_vars[i]; i++)
		if (hh_cfg_env(envp, pred_vars[i]))
			return 1;
	return 0;
}

/* The home of the user running healhook: $HOME, else the passwd entry's. */
static const char *home_dir(char *const *envp)
{
	const char *h = hh_cfg_env(envp, "HOME");
	struct passwd *pw;

	if (h)
		return h;
	pw = getpwuid(geteuid());
	return pw && pw->pw_dir && *pw->pw_dir ? pw->pw_dir : NULL;
}

static char *default_state_dir(char *const *envp)
{
	const char *sd = hh_cfg_env(envp, "STATE_DIRECTORY"),
		   *x = hh_cfg_env(envp, "XDG_STATE_HOME");
	const char *home = home_dir(envp);

	if (sd) /* systemd may give several, colon-separated: the first */
		return hh_asprintf("%.*s", (int)strcspn(sd, ":"), sd);
	if (x && x[0] == '/')
		return hh_asprintf("%s/healhook", x);
	return home ? hh_asprintf("%s/.local/state/healhook", home) : NULL;
}

static char *default_known_hosts(char *const *envp)
{
	const char *home = home_dir(envp);

	return home ? hh_asprintf("%s/.ssh/known_hosts", home) : NULL;
}

static void missing(hh_buf *b, const char *what)
{
	hh_buf_printf(b, "%s%s", b->len ? ", " : "", what);
}

int hh_cfg_predecessor_check(hh_config *cfg, char *const *envp)
{
	hh_buf b = HH_BUF_INIT;
	char *kh = NULL, *sd = NULL;
	int rc = 0;

	if (!hh_cfg_predecessor_mode(cfg, envp))
		return 0;
	if (!hh_cfg_env(envp, "HEAL_SSH_HOST"))
		missing(&b, "HEAL_SSH_HOST (the fix host)");
	if (!hh_cfg_env(envp, "AIDER_REPO_PATH"))
		missing(&b, "AIDER_REPO_PATH (the work tree on the fix host)");
	if (!hh_cfg_env(envp, "HEALHOOK_KNOWN_HOSTS") && !(kh = default_known_hosts(envp)))
		missing(&b, "HEALHOOK_KNOWN_HOSTS (no home directory for ~/.ssh/known_hosts)");
	if (!cfg->state_dir && !hh_cfg_env(envp, "HEALHOOK_STATE_DIR") &&
	    !(sd = default_state_dir(envp)))
		missing(&b, "HEALHOOK_STATE_DIR (no home directory for the default)");
	if (b.len)
		rc = hh_error(
			"the predecessor's environment lacks %s: set %s (see docs/operations.md, "
			"\"Migrating from the predecessor\")",
			b.ptr, strchr(b.ptr, ',') ? "them" : "it");
	free(kh);
	free(sd);
	hh_buf_release(&b);
	return rc;
}

hh_repo_config *hh_cfg_predecessor_repo(hh_config *cfg)
{
	hh_repo_config *r = hh_cfg_repo_get(cfg, HH_REPO_FROM_HOST, "the environment");

	if (r)
		cfg->predecessor = 1;
	return r;
}

int hh_cfg_predecessor_defaults(hh_config *cfg, char *const *envp)
{
	size_t i;

	if (!hh_cfg_predecessor_mode(cfg, envp))
		return 0;
	cfg->predecessor = 1;
	if (!cfg->state_dir && !(cfg->state_dir = default_state_dir(envp)))
		return hh_error("out of memory");
	for (i = 0; i < cfg->nrepos; i++)
		if (!cfg->repos[i].known_hosts &&
		    !(cfg->repos[i].known_hosts = default_known_hosts(envp)))
			return hh_error("out of memory");
	return 0;
}
