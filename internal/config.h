/*
 * config: healhook's configuration, read from a git-config file with libgit2's config API,
 * then overridden by environment variables (the predecessor's .env names and HEALHOOK_*).
 *
 * The file (see docs/configuration.md):
 *   [server]  listen, secret-file, authorization, max-body, record, max-connections,
 *             max-connections-per-ip, max-queue, request-timeout, max-headers, receiver-user
 *   [state]   dir, database, database-password-file, instance-id, lease
 *   [gitea]   url, token-file, user, timeout
 *   [fixer]   command, model, ollama (several), timeout, path
 *   [notify]  telegram-token-file, telegram-chat (several), telegram-api, gitea-comment, lang
 *   [repo "owner/name"]  host, identity, known-hosts, branch, target, push-via, remote,
 *             allow (several), max-diff-lines, max-fixes-per-hour, rate-window, max-reverts,
 * queue-ttl, check, health-url, health-delay, health-interval, health-timeout, health-failures,
 * health-version-field, ci-wait, ci-contexts (several), reviewers (several), events (several)
 *   [commit]  name, email (author and committer of healhook's commits)
 *   [worker]  parallel (repositories healed at the same time)
 *   [log]     level, format
 *   [status]  listen, token-file (the status pages, served by the main process of serve)
 *
 * Unknown sections or keys, `include`/`includeIf`, and bad values are errors whose message
 * names the key and the file (and the line when it can be found). Durations take an integer
 * with an optional unit s, m, h or d (default seconds); sizes take k, m or g (×1024).
 * Nothing here knows a host, URL or address: a value that is needed but not configured is
 * reported by the code that needs it, naming the key (see hh_config_require()).
 *
 * Environment (applied after the file; several values comma-separated):
 *   HEALHOOK_CONFIG (file, when no path is given), HEALHOOK_SECRET, HEALHOOK_GITEA_TOKEN,
 *   HEALHOOK_<SECTION>_<KEY> for server/state/gitea/fixer/notify/log keys
 *     (e.g. HEALHOOK_SERVER_LISTEN, HEALHOOK_STATE_DIR, HEALHOOK_GITEA_URL),
 *   HEALHOOK_REPO names the repository that these describe:
 *   HEALHOOK_<KEY> for repo keys (e.g. HEALHOOK_REVIEWERS=bob,ci-bot, HEALHOOK_ALLOW,
 *     HEALHOOK_MAX_DIFF_LINES, HEALHOOK_HEALTH_URL), and the predecessor's
 *   HEAL_SSH_HOST HEAL_SSH_USER HEAL_SSH_PORT AIDER_REPO_PATH (→ host = ssh://user@host:port/path),
 *   DEPLOY_SSH_KEY_PATH (→ identity), MOMO_BASE_URL (→ health-url = it + "/health"),
 *   OLLAMA_API_BASE (→ fixer.ollama), AIDER_MODEL (→ fixer.model),
 *   AIDER_MAX_DIFF_LINES, AIDER_MAX_HOURLY_FIX, TELEGRAM_BOT_TOKEN, TELEGRAM_CHAT_IDS
 *   (a JSON array as the predecessor wrote it, or comma-separated), TELEGRAM_CHAT_ID.
 *   With the predecessor's variables and no config file (config_compat.c), state.dir and
 *   known-hosts have defaults and the repository's name may come from the host (compat.h).
 */
#ifndef HH_CONFIG_H
#define HH_CONFIG_H

#include <regex.h>
#include <stddef.h>

#include "internal/buf.h"

enum hh_target { HH_TARGET_AUTO = 0, HH_TARGET_PR_HEAD, HH_TARGET_DEFAULT_BRANCH };
enum hh_push_via { HH_PUSH_VIA_HOST = 0, HH_PUSH_VIA_MIRROR };

/* The design's default allowlist. */
#define HH_DEFAULT_ALLOW "^(services|routes|database)/([a-zA-Z0-9_]+/)*[a-zA-Z0-9_]+[.]py$"

typedef struct hh_repo_config {
	char *name;            /* "owner/name", as written in [repo "owner/name"] */
	char *host;            /* ssh://user@host[:port]/path, /path or local:/path; NULL = unset */
	char *identity;        /* private key file for ssh hosts */
	char *known_hosts;     /* known_hosts file for ssh hosts */
	char *branch;          /* default branch; NULL = the delivery's default_branch */
	enum hh_target target; /* auto */
	enum hh_push_via push_via; /* host */
	char *remote;              /* URL pushed to with push-via = mirror */
	hh_strv allow;             /* POSIX EREs; default { HH_DEFAULT_ALLOW } */
	regex_t *allow_re;         /* allow, compiled (allow.n entries) */
	long max_diff_lines;       /* 50 */
	long max_fixes_per_hour;   /* 5 */
	long max_reverts;          /* 2 */
	long queue_ttl;            /* seconds, 86400 */
	long rate_window;          /* the sliding window of max-fixes-per-hour, seconds, 3600 */
	char *check;               /* argv template with {file}; NULL = default by file extension */
	char *health_url;
	long health_delay;    /* seconds, 10 */
	long health_interval; /* seconds, 10 */
	long health_timeout;  /* seconds, 120 */
	long health_failures; /* 3 */
	char *health_version_field;
	int ci_wait;         /* 0 */
	hh_strv ci_contexts; /* contexts ci-wait needs success on; empty = every one but
				healhook's own (see ci.h) */
	hh_strv reviewers;   /* logins allowed to cause a fix; empty = nobody */
	hh_strv events;      /* X-Gitea-Event-Type values acted on; empty = all supported */
} hh_repo_config;

typedef struct hh_config {
	char *path; /* the file read, or NULL when only the environment was used */
	/* [server] */
	char *listen;        /* ADDR:PORT; NULL = unset */
	char *secret;        /* webhook secret (from secret-file or HEALHOOK_SECRET); NULL = none */
	char *authorization; /* required Authorization header value; NULL = none */
	size_t max_body;     /* bytes, 5 MiB */
	char *record;        /* directory to record deliveries into; NULL = off */
	char *receiver_user; /* user the receiver drops to when serve starts as root; NULL =
				none (it runs as serve's user) */
	long max_connections;        /* 64 */
	long max_connections_per_ip; /* 0 = max_connections / 4 (at least 1) */
	long max_queue;              /* queued jobs before intake answers 503; 10000 */
	long request_timeout;        /* seconds a request may take in total, 10 */
	long max_headers;            /* header lines per request, 100 */
	/* [state] */
	char *state_dir;         /* NULL = unset */
	char *database;          /* libpq URL/conninfo; NULL = SQLite in state_dir (secret: it
				    may carry a password) */
	char *database_password; /* from database-password-file; NULL = libpq's PGPASSFILE */
	char *instance_id;       /* this instance in job leases; NULL = HOSTNAME:PID */
	long lease;              /* seconds a job lease lasts without renewal, 30 */
	long keep_deliveries;    /* seconds a delivery's body is kept, 30 days; 0 = forever */
	/* [gitea] */
	char *gitea_url;    /* base URL, e.g. https://gitea.example.com; NULL = unset */
	char *gitea_token;  /* from token-file or HEALHOOK_GITEA_TOKEN */
	char *gitea_user;   /* healhook's own login */
	long gitea_timeout; /* seconds for one API call, 10 */
	/* [fixer] */
	char *fixer_command;  /* argv template (see hh_argv_template) with {model} {prompt}
				 {file} {ollama}; default: the aider invocation of
				 docs/aider-facts (without the env/timeout wrapper) */
	char *fixer_model;    /* "ollama_chat/qwen2.5-coder:7b" */
	hh_strv fixer_ollama; /* candidate Ollama bases, in order (http:// or https://) */
	long fixer_timeout;   /* seconds, 180 */
	char *fixer_path;     /* PATH of the fixer and the check command on the host, ':'
				 separated, "~" = the host user's home as the host reports
				 it; "~/.local/bin:/usr/local/bin:/usr/bin:/bin" */
	/* [notify] */
	char *telegram_token;
	hh_strv telegram_chats;
	char *telegram_api; /* "https://api.telegram.org" */
	int gitea_comment;  /* 1 */
	char *lang;         /* "en" or "zh-TW" */
	/* [commit] */
	char *commit_name;  /* author and committer of healhook's commits, "healhook" */
	char *commit_email; /* "healhook@localhost" */
	/* [worker] */
	long worker_parallel; /* repositories healed at the same time, 2; 0 = no worker
				 (this instance only receives) */
	/* [log] */
	int log_level;  /* enum hh_log_level, info */
	int log_format; /* enum hh_log_format, text */
	/* [status] */
	char *status_listen; /* ADDR:PORT of the status pages; NULL = off */
	char *status_token;  /* Bearer token the status pages require; NULL = none */

	hh_repo_config *repos;
	size_t nrepos;
	/* Environment-only with the predecessor's variables (no config file): state.dir and
	 * known-hosts have defaults, and when HEALHOOK_REPO is unset the one repository is named
	 * HH_REPO_FROM_HOST until hh_compat_resolve() reads its name from the host. */
	int predecessor;
} hh_config;

/* The placeholder name of the predecessor's repository before hh_compat_resolve(). */
#define HH_REPO_FROM_HOST "healhook-pending/repository-from-host"

/*
 * Loads the configuration. path may be NULL (then HEALHOOK_CONFIG from envp, else only the
 * environment). envp is a NULL-terminated "NAME=value" array (pass environ). Secret files
 * (secret-file, token-file, telegram-token-file) are read here and their trailing newline is
 * dropped. On success *out is a new config the caller frees with hh_config_free().
 * Returns 0, or -1 with the error naming the key and the file.
 */
int hh_config_load(hh_config **out, const char *path, char *const *envp);
void hh_config_free(hh_config *cfg);

/* Like hh_config_load() for the process that faces the network: the Gitea and Telegram token
 * files are not read, and no token is kept (the webhook secret is). */
int hh_config_load_receiver(hh_config **out, const char *path, char *const *envp);
/* Like hh_config_load_receiver(); with skip_secret_file the webhook secret file is not read
 * either (a receiver whose user was dropped gets the secret from its parent). */
int hh_config_load_receiver_ex(hh_config **out, const char *path, char *const *envp,
			       int skip_secret_file);
/* The file's entries as libgit2 reads them, appended to out (for each: the name and a NUL,
 * then '=', the value and a NUL, or '!' and a NUL for a key without "="): what `serve` hands its
 * receiver, which then loads its configuration with hh_config_load_receiver_entries() and
 * never initialises libgit2 (whose start-up, libssh2's and OpenSSL's with it, costs the
 * receiver about 3 MB). 0 or -1 with the error set. */
int hh_config_entries(const char *path, hh_buf *out);
/* hh_config_load_receiver_ex() from those entries instead of the file (path names it in
 * messages). */
int hh_config_load_receiver_entries(hh_config **out, const char *path, const char *entries,
				    size_t len, char *const *envp, int skip_secret_file);
/* 1 if the environment entry "NAME=value" may reach the receiver: an allowlist of the exact
 * (case-sensitive) names it reads, without any token file or token (config_receiver.c). */
int hh_config_receiver_env(const char *entry);

/* The repository named full_name (compared case-insensitively, like Gitea), or NULL. */
const hh_repo_config *hh_config_repo(const hh_config *cfg, const char *full_name);

/* 1 if path matches one of the repo's allow patterns, else 0 (no other checks). */
int hh_repo_allows(const hh_repo_config *repo, const char *path);

/*
 * Returns 0 if value is non-NULL and non-empty, else -1 with the error
 * "<key> is not set (in FILE or HEALHOOK_...)". key is the full name, e.g. "server.listen".
 */
int hh_config_require(const hh_config *cfg, const char *key, const char *value);

/*
 * Splits an argv template (fixer.command, repo check) into words and appends them to out:
 * words are separated by blanks; a double-quoted part belongs to its word ("a b" is one word,
 * the quotes are removed, \" and \\ inside quotes are a quote and a backslash); no other
 * shell syntax exists. Then every "{name}" in a word is replaced by its value from vars, a
 * NULL-terminated list of name, value pairs (vars may be NULL); a value is never split, so a
 * prompt or path with spaces stays one word. Unknown {x} are kept as is.
 * Returns 0, or -1 (unterminated quote, empty template) with out released and the error set.
 */
int hh_argv_template(hh_strv *out, const char *tmpl, const char *const *vars);

/* "10", "10s", "5m", "2h", "1d" → seconds. Returns 0 or -1. */
int hh_parse_duration(const char *s, long *out);
/* "512", "64k", "5m", "1g" → bytes (×1024). Returns 0 or -1. */
int hh_parse_size(const char *s, size_t *out);
/* "true/yes/on/1" and "false/no/off/0". Returns 0 or -1. */
int hh_parse_bool(const char *s, int *out);

#endif
