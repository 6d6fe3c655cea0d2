/*
 * config: loads healhook's configuration. See config.h for the contract and
 * docs/configuration.md for the user's view.
 *
 * The idea: every key is one row of a table (section, key, type, offset of the field in
 * hh_config or hh_repo_config). The same setter applies a value whether it comes from the file
 * (libgit2 config iterator over a snapshot) or from the environment, and only the caller knows
 * how to name the origin in an error ("'repo.a/b.max-diff-lines' in /etc/x:7" or
 * "HEALHOOK_MAX_DIFF_LINES"). libgit2 entries carry no line number, so for key errors the file
 * text is scanned (best effort) for the section header and the key line.
 *
 * Order: defaults, the file, the predecessor's environment variables, HEALHOOK_* variables,
 * then a final pass (default allowlist, regex compilation). Secrets are read into malloc'd
 * strings that are wiped with explicit_bzero() when replaced or freed, and never appear in an
 * error message.
 */
#include "internal/config.h"
#include "internal/buf.h"
#include "internal/config_impl.h"
#include "internal/fixer.h"
#include "internal/log.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <git2.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

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

/* Set while hh_config_load_receiver() runs (start-up only, one thread). */
static int skip_token_files;

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

/*
 * Reads a secret file without going through a growable buffer, so that the only copies of the
 * secret are the ones wiped here and in hh_config_free().
 */
static int read_secret_file(char **out, const char *path, hh_buf *why)
{
	enum { MAX = 65536 };
	char *b = malloc(MAX + 1);
	size_t len = 0;
	ssize_t n;
	int fd = -1, rc = -1;

	if (!b)
		return hh_error("out of memory");
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		hh_buf_printf(why, "cannot open '%s': %s", path, strerror(errno));
		goto out;
	}
	while (len <= MAX) {
		n = read(fd, b + len, MAX + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			hh_buf_printf(why, "cannot read '%s': %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > MAX) {
		hh_buf_printf(why, "secret file '%s' is larger than %d bytes", path, MAX);
		goto out;
	}
	while (len && (b[len - 1] == '\n' || b[len - 1] == '\r'))
		len--;
	b[len] = '\0';
	if (!len) {
		hh_buf_printf(why, "secret file '%s' is empty", path);
		goto out;
	}
	if (strlen(b) != len) {
		hh_buf_printf(why, "secret file '%s' contains a NUL byte", path);
		goto out;
	}
	hh_cfg_free_secret(out);
	if (!(*out = hh_strdup(b))) {
		hh_error("out of memory");
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	explicit_bzero(b, MAX + 1);
	free(b);
	return rc;
}

static int valid_url(const char *v)
{
	return (strncmp(v, "http://", 7) == 0 && v[7]) || (strncmp(v, "https://", 8) == 0 && v[8]);
}

/* Why v is not a host spec, or NULL if it is one. */
static const char *host_error(const char *v)
{
	const char *p, *slash, *at, *port = NULL;
	unsigned long long n;
	const char *end;

	if (v[0] == '/')
		return NULL;
	if (strncmp(v, "local:", 6) == 0)
		return v[6] == '/' ? NULL : "local: needs an absolute path (local:/path)";
	if (strncmp(v, "ssh://", 6) != 0)
		return "not ssh://[user@]host[:port]/path, local:/path or an absolute /path";
	p = v + 6;
	slash = strchr(p, '/');
	if (!slash || !slash[1])
		return "an ssh host needs the work tree path: ssh://user@host/path";
	at = memrchr(p, '@', (size_t)(slash - p));
	if (at == p)
		return "the user before '@' is empty";
	if (at)
		p = at + 1;
	if (*p == '[') {
		const char *rb = memchr(p, ']', (size_t)(slash - p));

		if (!rb || rb == p + 1 || (rb[1] != ':' && rb + 1 != slash))
			return "bad [address] in the host";
		if (rb[1] == ':')
			port = rb + 2;
	} else {
		const char *colon = memchr(p, ':', (size_t)(slash - p));

		if (colon == p || p == slash)
			return "the host name is empty";
		if (colon)
			port = colon + 1;
	}
	if (port && (hh_cfg_parse_ulong(port, &n, &end) < 0 || end != slash || !n || n > 65535))
		return "its port is not a number from 1 to 65535";
	return NULL;
}

static int valid_listen(const char *v)
{
	const char *c = strrchr(v, ':');
	unsigned long long port;
	const char *end;

	return c && hh_cfg_parse_ulong(c + 1, &port, &end) == 0 && !*end && port <= 65535 ? 0 : -1;
}

/*
 * Splits a list value at commas, trimming blanks; with regex set, commas inside {} or [] and
 * escaped commas do not split (so "a{1,3}" stays one pattern).
 */
static int split_list(hh_strv *out, const char *v, int regex)
{
	int depth = 0, rc = 0;

	while (*v && !rc) {
		const char *s, *e, *p = v;
		char *item;

		for (; *p; p++) {
			if (regex && *p == '\\' && p[1])
				p++;
			else if (regex && (*p == '{' || *p == '['))
				depth++;
			else if (regex && (*p == '}' || *p == ']') && depth > 0)
				depth--;
			else if (*p == ',' && depth == 0)
				break;
		}
		for (s = v; s < p && isspace((unsigned char)*s); s++)
			;
		for (e = p; e > s && isspace((unsigned char)e[-1]); e--)
			;
		if (e > s) {
			if (!(item = hh_strndup(s, (size_t)(e - s))))
				return -1;
			rc = hh_strv_push(out, item);
			free(item);
		}
		v = *p ? p + 1 : p;
	}
	return rc;
}

static int set_str(char **field, const char *v)
{
	char *n = NULL;

	if (*v && !(n = hh_strdup(v)))
		return -1;
	free(*field);
	*field = n;
	return 0;
}

int hh_cfg_set(void *base, const struct hh_cfg_key *k, const char *v, int append, hh_buf *why)
{
	char *f = (char *)base + k->offset;
	hh_strv tmp = {NULL, 0}, *sv = (hh_strv *)f;
	const char *e;
	long n = 0;
	size_t i;
	int b, rc = -1;

	if (!v && k->type != HH_CT_BOOL)
		return hh_buf_puts(why, "no value (write key = value)"), -1;
	switch (k->type) {
	case HH_CT_STR: return set_str((char **)f, v);
	case HH_CT_SECRET:
		hh_cfg_free_secret((char **)f);
		if (*v && !(*(char **)f = hh_strdup(v)))
			return -1;
		return 0;
	case HH_CT_SECRET_FILE:
		if (!*v)
			return hh_cfg_free_secret((char **)f), 0;
		if (skip_token_files &&
		    ((strcmp(k->section, "server") != 0 && strcmp(k->section, "state") != 0) ||
		     skip_token_files == 2))
			return 0; /* the receiver never reads the Gitea or Telegram token (nor,
				     when its user was dropped, the secret or the database
				     password: it gets them by pipe) */
		return read_secret_file((char **)f, v, why);
	case HH_CT_URL:
		if (*v && !valid_url(v))
			return hh_buf_printf(why, "'%s' is not an http:// or https:// URL", v), -1;
		return set_str((char **)f, v);
	case HH_CT_HOST:
		if (*v && (e = host_error(v)))
			return hh_buf_printf(why, "'%s': %s", v, e), -1;
		return set_str((char **)f, v);
	case HH_CT_LISTEN:
		if (*v && valid_listen(v) < 0)
			return hh_buf_printf(why, "'%s' is not ADDR:PORT", v), -1;
		return set_str((char **)f, v);
	case HH_CT_ARGV:
		if (*v && hh_argv_template(&tmp, v, NULL) < 0)
			return hh_buf_printf(why, "%s", hh_error_last()), -1;
		hh_strv_release(&tmp);
		return set_str((char **)f, v);
	case HH_CT_NUM:
	case HH_CT_NUM0:
	case HH_CT_DUR:
	case HH_CT_DUR0:
		if (k->type == HH_CT_NUM || k->type == HH_CT_NUM0) {
			unsigned long long u;
			const char *end;

			if (hh_cfg_parse_ulong(v, &u, &end) < 0 || *end || u > LONG_MAX)
				return hh_buf_printf(why, "'%s' is not a number", v), -1;
			n = (long)u;
		} else if (hh_parse_duration(v, &n) < 0) {
			return hh_buf_printf(why, "'%s' is not a duration (N, Ns, Nm, Nh or Nd)",
					     v),
			       -1;
		}
		if (n == 0 && k->type != HH_CT_DUR0 && k->type != HH_CT_NUM0)
			return hh_buf_printf(why, "'%s' must be greater than 0", v), -1;
		*(long *)f = n;
		return 0;
	case HH_CT_SIZE:
		if (hh_parse_size(v, (size_t *)f) < 0)
			return hh_buf_printf(why, "'%s' is not a size (N, Nk, Nm or Ng)", v), -1;
		if (!*(size_t *)f)
			return hh_buf_printf(why, "'%s' must be greater than 0", v), -1;
		return 0;
	case HH_CT_BOOL:
		if (!v)
			return *(int *)f = 1, 0;
		if (hh_parse_bool(v, &b) < 0)
			return hh_buf_printf(why, "'%s' is not a boolean (true/false)", v), -1;
		*(int *)f = b;
		return 0;
	case HH_CT_TARGET:
		if (strcmp(v, "auto") == 0)
			*(int *)f = HH_TARGET_AUTO;
		else if (strcmp(v, "pr-head") == 0)
			*(int *)f = HH_TARGET_PR_HEAD;
		else if (strcmp(v, "default-branch") == 0)
			*(int *)f = HH_TARGET_DEFAULT_BRANCH;
		else
			return hh_buf_printf(why, "'%s' is not auto, pr-head or default-branch", v),
			       -1;
		return 0;
	case HH_CT_PUSH_VIA:
		if (strcmp(v, "host") == 0)
			*(int *)f = HH_PUSH_VIA_HOST;
		else if (strcmp(v, "mirror") == 0)
			*(int *)f = HH_PUSH_VIA_MIRROR;
		else
			return hh_buf_printf(why, "'%s' is not host or mirror", v), -1;
		return 0;
	case HH_CT_LANG:
		if (strcmp(v, "en") != 0 && strcmp(v, "zh-TW") != 0)
			return hh_buf_printf(why, "'%s' is not en or zh-TW", v), -1;
		return set_str((char **)f, v);
	case HH_CT_LEVEL:
		if ((b = hh_log_level_parse(v)) < 0)
			return hh_buf_printf(why, "'%s' is not error, warn, info or debug", v), -1;
		*(int *)f = b;
		return 0;
	case HH_CT_FORMAT:
		if (strcmp(v, "text") == 0)
			*(int *)f = HH_LOG_TEXT;
		else if (strcmp(v, "json") == 0)
			*(int *)f = HH_LOG_JSON;
		else
			return hh_buf_printf(why, "'%s' is not text or json", v), -1;
		return 0;
	case HH_CT_LIST:
	case HH_CT_URL_LIST:
	case HH_CT_ALLOW:
		if (split_list(&tmp, v, k->type == HH_CT_ALLOW) < 0)
			goto out;
		for (i = 0; i < tmp.n; i++) {
			regex_t re;
			int err;

			if (k->type == HH_CT_URL_LIST && !valid_url(tmp.v[i])) {
				hh_buf_printf(why, "'%s' is not an http:// or https:// URL",
					      tmp.v[i]);
				goto out;
			}
			if (k->type != HH_CT_ALLOW)
				continue;
			if (!hh_cfg_regex_bounded(tmp.v[i])) {
				hh_buf_printf(why, "regex '%s' is too complex", tmp.v[i]);
				goto out;
			}
			err = regcomp(&re, tmp.v[i], REG_EXTENDED | REG_NOSUB);
			if (err) {
				char msg[256];

				regerror(err, &re, msg, sizeof(msg));
				hh_buf_printf(why, "bad regex '%s': %s", tmp.v[i], msg);
				goto out;
			}
			regfree(&re);
		}
		if (!append)
			hh_strv_release(sv);
		for (i = 0; i < tmp.n; i++)
			if (hh_strv_push(sv, tmp.v[i]) < 0)
				goto out;
		rc = 0;
		break;
	}
out:
	hh_strv_release(&tmp);
	return rc;
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

int hh_config_load_receiver(hh_config **out, const char *path, char *const *envp)
{
	return hh_config_load_receiver_ex(out, path, envp, 0);
}

int hh_config_load_receiver_ex(hh_config **out, const char *path, char *const *envp,
			       int skip_secret_file)
{
	int rc;

	skip_token_files = skip_secret_file ? 2 : 1;
	rc = hh_config_load(out, path, envp);
	skip_token_files = 0;
	if (rc == 0) {
		hh_cfg_free_secret(&(*out)->gitea_token);
		hh_cfg_free_secret(&(*out)->telegram_token);
		hh_cfg_free_secret(&(*out)->status_token);
	}
	return rc;
}

int hh_config_load(hh_config **out, const char *path, char *const *envp)
{
	hh_config *cfg = NULL;
	size_t i;
	int rc = -1;

	*out = NULL;
	if (!path)
		path = hh_cfg_env(envp, "HEALHOOK_CONFIG");
	if (config_new(&cfg) < 0)
		goto out;
	if (path) {
		if (!(cfg->path = hh_strdup(path)))
			goto out;
		if (hh_cfg_load_file(cfg, path) < 0)
			goto out;
	}
	if (hh_cfg_apply_env(cfg, envp) < 0 || hh_fixer_path_check(cfg->fixer_path) < 0)
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
