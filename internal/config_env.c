/*
 * config_env: the environment overrides, applied after the file (see config.h for the list).
 *
 * Global keys: the predecessor's variables (AIDER_MODEL, OLLAMA_API_BASE, TELEGRAM_*), then
 * HEALHOOK_<SECTION>_<KEY>, then the secrets HEALHOOK_SECRET and HEALHOOK_GITEA_TOKEN.
 * Repository keys describe one repository: the one named by HEALHOOK_REPO (created if the file
 * does not have it), else the file's only one. The predecessor's variables are applied first
 * (HEAL_SSH_* + AIDER_REPO_PATH build an ssh host), then HEALHOOK_<KEY>, so that a HEALHOOK_*
 * variable wins. Lists given in a variable replace the file's list. An empty variable counts as
 * unset (as in a .env file with "NAME="). The environment is the envp passed in, never getenv().
 */
#include "internal/buf.h"
#include "internal/config.h"
#include "internal/config_impl.h"
#include "internal/log.h"

#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *hh_cfg_env(char *const *envp, const char *name)
{
	size_t n = strlen(name);

	for (; envp && *envp; envp++)
		if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
			return (*envp)[n + 1] ? *envp + n + 1 : NULL;
	return NULL;
}

/* HEALHOOK_[SECTION_]KEY, uppercased, with '-' and '.' as '_'. */
static void env_name(char *out, size_t size, const char *section, const char *key)
{
	size_t n;
	char *p;

	if (section)
		snprintf(out, size, "HEALHOOK_%s_%s", section, key);
	else
		snprintf(out, size, "HEALHOOK_%s", key);
	n = strlen(out);
	for (p = out; p < out + n; p++)
		*p = *p == '-' || *p == '.' ? '_' : (char)toupper((unsigned char)*p);
}

void hh_cfg_env_name(char *out, size_t size, const char *key)
{
	const char *last = strrchr(key, '.');

	if (strcmp(key, "server.secret") == 0)
		snprintf(out, size, "HEALHOOK_SECRET");
	else if (strcmp(key, "gitea.token") == 0)
		snprintf(out, size, "HEALHOOK_GITEA_TOKEN");
	else if (strcmp(key, "notify.telegram-token") == 0)
		snprintf(out, size, "TELEGRAM_BOT_TOKEN");
	else if (strncmp(key, "repo.", 5) == 0 && last)
		env_name(out, size, NULL, last + 1);
	else
		env_name(out, size, NULL, key);
}

static int env_set(const struct hh_cfg_load *ld, void *base, const struct hh_cfg_key *k,
		   const char *var, const char *v)
{
	hh_buf why = HH_BUF_INIT;
	int rc = hh_cfg_set(ld, base, k, v, 0, &why);

	if (rc < 0 && why.len)
		hh_error("bad value for %s: %s", var, why.ptr);
	hh_buf_release(&why);
	return rc;
}

static const struct hh_cfg_key *key(const struct hh_cfg_key *t, const char *name)
{
	for (; t->key; t++)
		if (strcmp(t->key, name) == 0)
			return t;
	return NULL;
}

/* TELEGRAM_CHAT_IDS / TELEGRAM_CHAT_ID: a JSON array or a comma-separated list (config_chat.c). */
static int set_chats(const struct hh_cfg_load *ld, const struct hh_cfg_key *k, const char *var,
		     const char *v)
{
	hh_config *cfg = ld->cfg;
	hh_buf ids = HH_BUF_INIT;
	int rc = -1;

	if (hh_cfg_chat_ids(var, v, &ids) < 0)
		goto out;
	if (!ids.len) {
		hh_strv_release(&cfg->telegram_chats);
		rc = 0;
		goto out;
	}
	rc = env_set(ld, cfg, k, var, ids.ptr);
out:
	hh_buf_release(&ids);
	return rc;
}

static int apply_global(const struct hh_cfg_load *ld, char *const *envp)
{
	static const struct hh_cfg_key secret = {"server", "secret", HH_CT_SECRET,
						 offsetof(hh_config, secret)};
	static const struct hh_cfg_key token = {"gitea", "token", HH_CT_SECRET,
						offsetof(hh_config, gitea_token)};
	static const struct hh_cfg_key tg = {"notify", "telegram-token", HH_CT_SECRET,
					     offsetof(hh_config, telegram_token)};
	const struct hh_cfg_key *k, *t = hh_cfg_global_keys;
	const char *v, *ids = hh_cfg_env(envp, "TELEGRAM_CHAT_IDS");
	const char *id = hh_cfg_env(envp, "TELEGRAM_CHAT_ID");
	hh_config *cfg = ld->cfg;
	char name[128];

	if ((v = hh_cfg_env(envp, "AIDER_MODEL")) &&
	    env_set(ld, cfg, key(t, "model"), "AIDER_MODEL", v))
		return -1;
	if ((v = hh_cfg_env(envp, "OLLAMA_API_BASE")) &&
	    env_set(ld, cfg, key(t, "ollama"), "OLLAMA_API_BASE", v) < 0)
		return -1;
	if ((v = hh_cfg_env(envp, "TELEGRAM_BOT_TOKEN")) &&
	    env_set(ld, cfg, &tg, "TELEGRAM_BOT_TOKEN", v) < 0)
		return -1;
	if (ids && set_chats(ld, key(t, "telegram-chat"), "TELEGRAM_CHAT_IDS", ids) < 0)
		return -1;
	if (id && !ids && set_chats(ld, key(t, "telegram-chat"), "TELEGRAM_CHAT_ID", id) < 0)
		return -1;
	if (id && ids && !hh_strv_contains(&cfg->telegram_chats, id) &&
	    hh_strv_push(&cfg->telegram_chats, id) < 0)
		return -1;
	for (k = t; k->key; k++) {
		env_name(name, sizeof(name), k->section, k->key);
		if ((v = hh_cfg_env(envp, name)) && env_set(ld, cfg, k, name, v) < 0)
			return -1;
	}
	if ((v = hh_cfg_env(envp, "HEALHOOK_SECRET")) &&
	    env_set(ld, cfg, &secret, "HEALHOOK_SECRET", v))
		return -1;
	if ((v = hh_cfg_env(envp, "HEALHOOK_GITEA_TOKEN")) &&
	    env_set(ld, cfg, &token, "HEALHOOK_GITEA_TOKEN", v) < 0)
		return -1;
	return 0;
}

static const char *const ssh_vars[] = {"HEAL_SSH_HOST", "HEAL_SSH_USER", "HEAL_SSH_PORT",
				       "AIDER_REPO_PATH", NULL};
static const char *const repo_vars[] = {"DEPLOY_SSH_KEY_PATH", "MOMO_BASE_URL",
					"AIDER_MAX_DIFF_LINES", "AIDER_MAX_HOURLY_FIX", NULL};

/* The first repository-level variable set in envp, or NULL. */
static const char *first_repo_var(char *const *envp, char *buf, size_t size)
{
	const struct hh_cfg_key *k;
	size_t i;

	for (i = 0; ssh_vars[i]; i++)
		if (hh_cfg_env(envp, ssh_vars[i]))
			return ssh_vars[i];
	for (i = 0; repo_vars[i]; i++)
		if (hh_cfg_env(envp, repo_vars[i]))
			return repo_vars[i];
	for (k = hh_cfg_repo_keys; k->key; k++) {
		env_name(buf, size, NULL, k->key);
		if (hh_cfg_env(envp, buf))
			return buf;
	}
	return NULL;
}

/* HEAL_SSH_HOST HEAL_SSH_USER HEAL_SSH_PORT AIDER_REPO_PATH → ssh://[user@]host:port/path. */
static int apply_ssh_host(const struct hh_cfg_load *ld, hh_repo_config *r, char *const *envp)
{
	const char *host = hh_cfg_env(envp, "HEAL_SSH_HOST");
	const char *user = hh_cfg_env(envp, "HEAL_SSH_USER");
	const char *port = hh_cfg_env(envp, "HEAL_SSH_PORT");
	const char *path = hh_cfg_env(envp, "AIDER_REPO_PATH");
	int v6, rc;
	char *spec;

	if (!host && !user && !port && !path)
		return 0;
	if (!host)
		return hh_error("HEAL_SSH_HOST is not set (HEAL_SSH_USER, HEAL_SSH_PORT and "
				"AIDER_REPO_PATH describe an ssh host with it)");
	if (!path)
		return hh_error("AIDER_REPO_PATH is not set (the work tree on HEAL_SSH_HOST)");
	if (path[0] != '/')
		return hh_error("bad value for AIDER_REPO_PATH: '%s' is not an absolute path",
				path);
	if (strpbrk(host, "/@ ") || (user && strpbrk(user, "/@: ")))
		return hh_error("bad value for %s: '%s'",
				strpbrk(host, "/@ ") ? "HEAL_SSH_HOST" : "HEAL_SSH_USER",
				strpbrk(host, "/@ ") ? host : user);
	v6 = strchr(host, ':') != NULL;
	spec = hh_asprintf("ssh://%s%s%s%s%s:%s%s", user ? user : "", user ? "@" : "",
			   v6 ? "[" : "", host, v6 ? "]" : "", port ? port : "22", path);
	if (!spec)
		return hh_error("out of memory");
	rc = env_set(ld, r, key(hh_cfg_repo_keys, "host"), port ? "HEAL_SSH_PORT" : "HEAL_SSH_HOST",
		     spec);
	free(spec);
	return rc;
}

static int apply_repo(const struct hh_cfg_load *ld, char *const *envp)
{
	hh_config *cfg = ld->cfg;
	const struct hh_cfg_key *k, *t = hh_cfg_repo_keys;
	const char *name = hh_cfg_env(envp, "HEALHOOK_REPO"), *var, *v;
	char buf[128], url[2048];
	hh_repo_config *r;
	size_t n;

	var = first_repo_var(envp, buf, sizeof(buf));
	if (name) {
		if (!(r = hh_cfg_repo_get(cfg, name, "HEALHOOK_REPO")))
			return -1;
	} else if (!var) {
		return 0;
	} else if (cfg->nrepos == 1) {
		r = &cfg->repos[0];
	} else if (cfg->nrepos) {
		return hh_error("HEALHOOK_REPO is not set (%s describes one repository and %s has "
				"%zu)",
				var, cfg->path, cfg->nrepos);
	} else if (hh_cfg_predecessor_mode(cfg, envp)) {
		if (!(r = hh_cfg_predecessor_repo(cfg))) /* named from the host later */
			return -1;
	} else {
		return hh_error("HEALHOOK_REPO is not set (%s describes one repository: name it "
				"owner/name)",
				var);
	}
	if (apply_ssh_host(ld, r, envp) < 0)
		return -1;
	if ((v = hh_cfg_env(envp, "DEPLOY_SSH_KEY_PATH")) &&
	    env_set(ld, r, key(t, "identity"), "DEPLOY_SSH_KEY_PATH", v) < 0)
		return -1;
	if ((v = hh_cfg_env(envp, "MOMO_BASE_URL"))) {
		n = strlen(v);
		while (n && v[n - 1] == '/')
			n--;
		if (n >= sizeof(url) - 8)
			return hh_error("bad value for MOMO_BASE_URL: too long");
		snprintf(url, sizeof(url), "%.*s/health", (int)n, v);
		if (env_set(ld, r, key(t, "health-url"), "MOMO_BASE_URL", url) < 0)
			return -1;
	}
	if ((v = hh_cfg_env(envp, "AIDER_MAX_DIFF_LINES")) &&
	    env_set(ld, r, key(t, "max-diff-lines"), "AIDER_MAX_DIFF_LINES", v) < 0)
		return -1;
	if ((v = hh_cfg_env(envp, "AIDER_MAX_HOURLY_FIX")) &&
	    env_set(ld, r, key(t, "max-fixes-per-hour"), "AIDER_MAX_HOURLY_FIX", v) < 0)
		return -1;
	for (k = t; k->key; k++) {
		env_name(buf, sizeof(buf), NULL, k->key);
		if ((v = hh_cfg_env(envp, buf)) && env_set(ld, r, k, buf, v) < 0)
			return -1;
	}
	return 0;
}

int hh_cfg_apply_env(const struct hh_cfg_load *ld, char *const *envp)
{
	if (hh_cfg_predecessor_check(ld->cfg, envp) < 0 || apply_global(ld, envp) < 0)
		return -1;
	if (apply_repo(ld, envp) < 0)
		return -1;
	return hh_cfg_predecessor_defaults(ld->cfg, envp);
}
