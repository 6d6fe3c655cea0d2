/*
 * config: loads healhook's configuration. See config.h for the contract and
 * docs/configuration.md for the user's view.
 *
 * The idea: every key is one row of a table (section, key, type, offset of the field in
 * hh_config or hh_repo_config). The same setter (hh_cfg_set, config_value.c) applies a value
 * whether it comes from the file (config_file.c: libgit2 config iterator over a snapshot) or
 * from the environment (config_env.c), and only the caller knows how to name the origin in an
 * error ("'repo.a/b.max-diff-lines' in /etc/x:7" or "HEALHOOK_MAX_DIFF_LINES"). libgit2
 * entries carry no line number, so for key errors the file text is scanned (best effort) for
 * the section header and the key line.
 *
 * Order: defaults, the file, the predecessor's environment variables, HEALHOOK_* variables,
 * then a final pass (default allowlist, regex compilation). Secrets are read into malloc'd
 * strings that are wiped with explicit_bzero() when replaced or freed, and never appear in an
 * error message. Which secret files a load reads (all, or the receiver's few) is a field of
 * the load (struct hh_cfg_load in config_impl.h) handed down to every value it sets.
 */
#include "internal/config.h"
#include "internal/buf.h"
#include "internal/config_impl.h"
#include "internal/fixer.h"
#include "internal/log.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal/store.h"

#define DEFAULT_FIXER_COMMAND                                                                      \
	"aider --model {model} --edit-format whole --message-file {prompt}"                        \
	" --yes-always --no-git --no-auto-commits --no-gitignore"                                  \
	" --no-check-update --no-show-release-notes --no-show-model-warnings --no-analytics"       \
	" --no-pretty --no-fancy-input --no-suggest-shell-commands --no-detect-urls "              \
	"--no-auto-lint"                                                                           \
	" --map-tokens 0 --no-restore-chat-history"                                                \
	" --chat-history-file /dev/null --input-history-file /dev/null"                            \
	" --set-env OLLAMA_API_BASE={ollama} {file}"

#define G(f) offsetof(hh_config, f)
#define R(f) offsetof(hh_repo_config, f)

const struct hh_cfg_key hh_cfg_global_keys[] = {
	{"server", "listen", HH_CT_LISTEN, G(listen)},
	{"server", "secret-file", HH_CT_SECRET_FILE, G(secret)},
	{"server", "authorization", HH_CT_SECRET, G(authorization)},
	{"server", "max-body", HH_CT_SIZE, G(max_body)},
	{"server", "record", HH_CT_STR, G(record)},
	{"server", "receiver-user", HH_CT_STR, G(receiver_user)},
	{"server", "max-connections", HH_CT_NUM, G(max_connections)},
	{"server", "max-connections-per-ip", HH_CT_NUM, G(max_connections_per_ip)},
	{"server", "max-queue", HH_CT_NUM, G(max_queue)},
	{"server", "request-timeout", HH_CT_DUR, G(request_timeout)},
	{"server", "max-headers", HH_CT_NUM, G(max_headers)},
	{"state", "dir", HH_CT_STR, G(state_dir)},
	{"state", "database", HH_CT_SECRET, G(database)},
	{"state", "database-password-file", HH_CT_SECRET_FILE, G(database_password)},
	{"state", "instance-id", HH_CT_STR, G(instance_id)},
	{"state", "lease", HH_CT_DUR, G(lease)},
	{"state", "keep-deliveries", HH_CT_DUR0, G(keep_deliveries)},
	{"gitea", "url", HH_CT_URL, G(gitea_url)},
	{"gitea", "token-file", HH_CT_SECRET_FILE, G(gitea_token)},
	{"gitea", "user", HH_CT_STR, G(gitea_user)},
	{"gitea", "timeout", HH_CT_DUR, G(gitea_timeout)},
	{"fixer", "command", HH_CT_ARGV, G(fixer_command)},
	{"fixer", "model", HH_CT_STR, G(fixer_model)},
	{"fixer", "ollama", HH_CT_URL_LIST, G(fixer_ollama)},
	{"fixer", "timeout", HH_CT_DUR, G(fixer_timeout)},
	{"fixer", "path", HH_CT_STR, G(fixer_path)},
	{"notify", "telegram-token-file", HH_CT_SECRET_FILE, G(telegram_token)},
	{"notify", "telegram-chat", HH_CT_LIST, G(telegram_chats)},
	{"notify", "telegram-api", HH_CT_URL, G(telegram_api)},
	{"notify", "gitea-comment", HH_CT_BOOL, G(gitea_comment)},
	{"notify", "lang", HH_CT_LANG, G(lang)},
	{"commit", "name", HH_CT_STR, G(commit_name)},
	{"commit", "email", HH_CT_STR, G(commit_email)},
	{"worker", "parallel", HH_CT_NUM0, G(worker_parallel)},
	{"log", "level", HH_CT_LEVEL, G(log_level)},
	{"log", "format", HH_CT_FORMAT, G(log_format)},
	{"status", "listen", HH_CT_LISTEN, G(status_listen)},
	{"status", "token-file", HH_CT_SECRET_FILE, G(status_token)},
	{NULL, NULL, 0, 0},
};

const struct hh_cfg_key hh_cfg_repo_keys[] = {
	{"repo", "host", HH_CT_HOST, R(host)},
	{"repo", "identity", HH_CT_STR, R(identity)},
	{"repo", "known-hosts", HH_CT_STR, R(known_hosts)},
	{"repo", "branch", HH_CT_STR, R(branch)},
	{"repo", "target", HH_CT_TARGET, R(target)},
	{"repo", "push-via", HH_CT_PUSH_VIA, R(push_via)},
	{"repo", "remote", HH_CT_STR, R(remote)},
	{"repo", "allow", HH_CT_ALLOW, R(allow)},
	{"repo", "max-diff-lines", HH_CT_NUM, R(max_diff_lines)},
	{"repo", "max-fixes-per-hour", HH_CT_NUM, R(max_fixes_per_hour)},
	{"repo", "max-reverts", HH_CT_NUM, R(max_reverts)},
	{"repo", "queue-ttl", HH_CT_DUR, R(queue_ttl)},
	{"repo", "rate-window", HH_CT_DUR, R(rate_window)},
	{"repo", "check", HH_CT_ARGV, R(check)},
	{"repo", "health-url", HH_CT_URL, R(health_url)},
	{"repo", "health-delay", HH_CT_DUR0, R(health_delay)},
	{"repo", "health-interval", HH_CT_DUR, R(health_interval)},
	{"repo", "health-timeout", HH_CT_DUR, R(health_timeout)},
	{"repo", "health-failures", HH_CT_NUM, R(health_failures)},
	{"repo", "health-version-field", HH_CT_STR, R(health_version_field)},
	{"repo", "ci-wait", HH_CT_BOOL, R(ci_wait)},
	{"repo", "ci-contexts", HH_CT_LIST, R(ci_contexts)},
	{"repo", "reviewers", HH_CT_LIST, R(reviewers)},
	{"repo", "events", HH_CT_LIST, R(events)},
	{NULL, NULL, 0, 0},
};

/* ---- values ------------------------------------------------------------------------------- */

/* Secrets are wiped before they are freed. */
void hh_cfg_free_secret(char **p)
{
	if (*p) {
		explicit_bzero(*p, strlen(*p));
		free(*p);
		*p = NULL;
	}
}

/* ---- repos -------------------------------------------------------------------------------- */

const hh_repo_config *hh_config_repo(const hh_config *cfg, const char *full_name)
{
	size_t i;

	for (i = 0; cfg && full_name && i < cfg->nrepos; i++)
		if (strcasecmp(cfg->repos[i].name, full_name) == 0)
			return &cfg->repos[i];
	return NULL;
}

int hh_repo_allows(const hh_repo_config *repo, const char *path)
{
	size_t i;

	if (!repo || !path || !repo->allow_re)
		return 0;
	for (i = 0; i < repo->allow.n; i++)
		if (regexec(&repo->allow_re[i], path, 0, NULL, 0) == 0)
			return 1;
	return 0;
}

hh_repo_config *hh_cfg_repo_get(hh_config *cfg, const char *name, const char *origin)
{
	hh_repo_config *r = (hh_repo_config *)hh_config_repo(cfg, name);
	const char *slash = strchr(name, '/');

	if (r)
		return r;
	if (!slash || slash == name || !slash[1] || strchr(slash + 1, '/') ||
	    strpbrk(name, " \t")) {
		hh_error("bad repository name '%s' in %s: want owner/name", name, origin);
		return NULL;
	}
	r = realloc(cfg->repos, (cfg->nrepos + 1) * sizeof(*r));
	if (!r) {
		hh_error("out of memory");
		return NULL;
	}
	cfg->repos = r;
	r = &cfg->repos[cfg->nrepos];
	memset(r, 0, sizeof(*r));
	if (!(r->name = hh_strdup(name))) {
		hh_error("out of memory");
		return NULL;
	}
	cfg->nrepos++;
	r->target = HH_TARGET_AUTO;
	r->push_via = HH_PUSH_VIA_HOST;
	r->max_diff_lines = 50;
	r->max_fixes_per_hour = 5;
	r->max_reverts = 2;
	r->queue_ttl = 86400;
	r->rate_window = 3600;
	r->health_delay = 10;
	r->health_interval = 10;
	r->health_timeout = 120;
	r->health_failures = 3;
	return r;
}

static void repo_release(hh_repo_config *r)
{
	size_t i;

	free(r->name);
	free(r->host);
	free(r->identity);
	free(r->known_hosts);
	free(r->branch);
	free(r->remote);
	if (r->allow_re)
		for (i = 0; i < r->allow.n; i++)
			regfree(&r->allow_re[i]);
	free(r->allow_re);
	hh_strv_release(&r->allow);
	free(r->check);
	free(r->health_url);
	free(r->health_version_field);
	hh_strv_release(&r->reviewers);
	hh_strv_release(&r->events);
	hh_strv_release(&r->ci_contexts);
}

/* Default allowlist and compiled patterns; patterns were already checked by hh_cfg_set. */
static int repo_finish(hh_repo_config *r)
{
	size_t i;

	if (!r->allow.n && hh_strv_push(&r->allow, HH_DEFAULT_ALLOW) < 0)
		return -1;
	if (!(r->allow_re = calloc(r->allow.n, sizeof(*r->allow_re))))
		return hh_error("out of memory");
	for (i = 0; i < r->allow.n; i++) {
		if (regcomp(&r->allow_re[i], r->allow.v[i], REG_EXTENDED | REG_NOSUB)) {
			while (i--)
				regfree(&r->allow_re[i]);
			free(r->allow_re);
			r->allow_re = NULL;
			return hh_error("repo.%s.allow: bad regex '%s'", r->name, r->allow.v[i]);
		}
	}
	return 0;
}

/* ---- load / free -------------------------------------------------------------------------- */

static int config_new(hh_config **out)
{
	hh_config *c = calloc(1, sizeof(*c));

	if (!c)
		return hh_error("out of memory");
	c->max_body = 5 * 1024 * 1024;
	c->max_connections = 64;
	c->max_queue = 10000;
	c->request_timeout = 10;
	c->max_headers = 100;
	c->gitea_timeout = 10;
	c->lease = 30;
	c->keep_deliveries = 30 * 86400;
	c->fixer_timeout = 180;
	c->gitea_comment = 1;
	c->log_level = HH_LOG_INFO;
	c->log_format = HH_LOG_TEXT;
	c->fixer_command = hh_strdup(DEFAULT_FIXER_COMMAND);
	c->fixer_model = hh_strdup("ollama_chat/qwen2.5-coder:7b");
	c->fixer_path = hh_strdup(HH_DEFAULT_FIXER_PATH);
	c->telegram_api = hh_strdup("https://api.telegram.org");
	c->lang = hh_strdup("en");
	c->commit_name = hh_strdup("healhook");
	c->commit_email = hh_strdup("healhook@localhost");
	c->worker_parallel = 2;
	*out = c;
	if (!c->fixer_command || !c->fixer_model || !c->fixer_path || !c->telegram_api ||
	    !c->lang || !c->commit_name || !c->commit_email)
		return hh_error("out of memory");
	return 0;
}

void hh_config_free(hh_config *cfg)
{
	size_t i;

	if (!cfg)
		return;
	free(cfg->path);
	free(cfg->listen);
	hh_cfg_free_secret(&cfg->secret);
	hh_cfg_free_secret(&cfg->authorization);
	free(cfg->record);
	free(cfg->receiver_user);
	free(cfg->state_dir);
	hh_cfg_free_secret(&cfg->database);
	hh_cfg_free_secret(&cfg->database_password);
	free(cfg->instance_id);
	free(cfg->gitea_url);
	hh_cfg_free_secret(&cfg->gitea_token);
	free(cfg->gitea_user);
	free(cfg->fixer_command);
	free(cfg->fixer_model);
	free(cfg->fixer_path);
	hh_strv_release(&cfg->fixer_ollama);
	hh_cfg_free_secret(&cfg->telegram_token);
	hh_strv_release(&cfg->telegram_chats);
	free(cfg->telegram_api);
	free(cfg->lang);
	free(cfg->commit_name);
	free(cfg->commit_email);
	free(cfg->status_listen);
	hh_cfg_free_secret(&cfg->status_token);
	for (i = 0; i < cfg->nrepos; i++)
		repo_release(&cfg->repos[i]);
	free(cfg->repos);
	free(cfg);
}

/* entries[0..elen): what hh_config_entries() made of the file at path; NULL: read the file. */
static int load(hh_config **out, const char *path, const char *entries, size_t elen,
		char *const *envp, enum hh_cfg_files files)
{
	struct hh_cfg_load ld = {NULL, files};
	hh_config *cfg = NULL;
	size_t i;
	int rc = -1;

	*out = NULL;
	if (!path)
		path = hh_cfg_env(envp, "HEALHOOK_CONFIG");
	if (config_new(&cfg) < 0)
		goto out;
	ld.cfg = cfg;
	if (path) {
		if (!(cfg->path = hh_strdup(path)))
			goto out;
		if ((entries ? hh_cfg_load_entries(&ld, path, entries, elen)
			     : hh_cfg_load_file(&ld, path)) < 0)
			goto out;
	}
	if (hh_cfg_apply_env(&ld, envp) < 0 || hh_fixer_path_check(cfg->fixer_path) < 0)
		goto out;
	for (i = 0; i < cfg->nrepos; i++)
		if (repo_finish(&cfg->repos[i]) < 0)
			goto out;
	/* Every store this process opens from now on uses the configured back end. */
	if (hh_store_setup(cfg->database, cfg->database_password, cfg->instance_id, cfg->state_dir,
			   cfg->lease) < 0)
		goto out;
	*out = cfg;
	cfg = NULL;
	rc = 0;
out:
	hh_config_free(cfg);
	return rc;
}

int hh_config_load(hh_config **out, const char *path, char *const *envp)
{
	return load(out, path, NULL, 0, envp, HH_CFG_FILES_ALL);
}

int hh_config_load_receiver(hh_config **out, const char *path, char *const *envp)
{
	return hh_config_load_receiver_ex(out, path, envp, 0);
}

static int load_receiver(hh_config **out, const char *path, const char *entries, size_t elen,
			 char *const *envp, int skip_secret_file)
{
	int rc = load(out, path, entries, elen, envp,
		      skip_secret_file ? HH_CFG_FILES_NONE : HH_CFG_FILES_RECEIVER);

	if (rc == 0) {
		hh_cfg_free_secret(&(*out)->gitea_token);
		hh_cfg_free_secret(&(*out)->telegram_token);
		hh_cfg_free_secret(&(*out)->status_token);
	}
	return rc;
}

int hh_config_load_receiver_ex(hh_config **out, const char *path, char *const *envp,
			       int skip_secret_file)
{
	return load_receiver(out, path, NULL, 0, envp, skip_secret_file);
}

int hh_config_load_receiver_entries(hh_config **out, const char *path, const char *entries,
				    size_t len, char *const *envp, int skip_secret_file)
{
	return load_receiver(out, path, entries ? entries : "", len, envp, skip_secret_file);
}

int hh_config_require(const hh_config *cfg, const char *key, const char *value)
{
	char env[128];

	if (value && *value)
		return 0;
	hh_cfg_env_name(env, sizeof(env), key);
	if (cfg && cfg->path)
		return hh_error("%s is not set (in %s or %s)", key, cfg->path, env);
	return hh_error("%s is not set (no config file; set %s)", key, env);
}
