/*
 * config_impl: what config.c, config_file.c and config_env.c share. Private to the config
 * module: no other module includes this header.
 *
 * A key is one row of a table: its section, its name, how its value is parsed and where it is
 * stored (offset in hh_config for global keys, in hh_repo_config for repo keys).
 */
#ifndef HH_CONFIG_IMPL_H
#define HH_CONFIG_IMPL_H

#include <stddef.h>

#include "internal/buf.h"
#include "internal/config.h"

enum hh_cfg_type {
	HH_CT_STR,         /* char *; empty = NULL */
	HH_CT_SECRET,      /* char *, wiped when replaced */
	HH_CT_SECRET_FILE, /* value is a path; the file's content goes to the char * field */
	HH_CT_URL,         /* char *, http:// or https:// */
	HH_CT_HOST,        /* char *, ssh://[user@]host[:port]/path, local:/path or /path */
	HH_CT_LISTEN,      /* char *, ADDR:PORT */
	HH_CT_ARGV,        /* char *, an argv template (see hh_argv_template) */
	HH_CT_NUM,         /* long > 0 */
	HH_CT_NUM0,        /* long >= 0 */
	HH_CT_DUR,         /* long seconds > 0 */
	HH_CT_DUR0,        /* long seconds >= 0 */
	HH_CT_SIZE,        /* size_t bytes > 0 */
	HH_CT_BOOL,        /* int; a bare key means true */
	HH_CT_TARGET,      /* int, enum hh_target */
	HH_CT_PUSH_VIA,    /* int, enum hh_push_via */
	HH_CT_LANG,        /* char *, en or zh-TW */
	HH_CT_LEVEL,       /* int, enum hh_log_level */
	HH_CT_FORMAT,      /* int, enum hh_log_format */
	HH_CT_LIST,        /* hh_strv, several values, comma-separated too */
	HH_CT_URL_LIST,    /* hh_strv of URLs */
	HH_CT_ALLOW,       /* hh_strv of POSIX EREs (commas inside {} or [] do not split) */
	HH_CT_COUNT        /* the number of types (rows of config_value.c's kinds[]) */
};

struct hh_cfg_key {
	const char *section;
	const char *key;
	enum hh_cfg_type type;
	size_t offset;
};

/* Both tables end with a row of NULLs. */
extern const struct hh_cfg_key hh_cfg_global_keys[];
extern const struct hh_cfg_key hh_cfg_repo_keys[];

/* Which secret files (the *-file keys) a load reads. */
enum hh_cfg_files {
	HH_CFG_FILES_ALL,      /* hh_config_load(): every one */
	HH_CFG_FILES_RECEIVER, /* the receiver: only those of [server] and [state] */
	HH_CFG_FILES_NONE,     /* a receiver whose user was dropped: none (it gets them by pipe) */
};

/* One load in progress: handed to the file, the environment and every value it sets, so
 * that what a load may read is a parameter, not a flag set around the call. */
struct hh_cfg_load {
	hh_config *cfg;
	enum hh_cfg_files files;
};

/* Parses an unsigned decimal number at s; *end gets the first byte after it. 0 or -1. */
int hh_cfg_parse_ulong(const char *s, unsigned long long *out, const char **end);
/*
 * Parses v (NULL for a bare key) and stores it in the field of base (a hh_config or a
 * hh_repo_config) that k names (config_value.c). Lists: append adds to the list, else the
 * list is replaced. A secret file the load ld does not read is skipped (0, field unchanged).
 * Returns 0, or -1 with the reason appended to why ("'abc' is not a number"; never a secret).
 * On allocation failure -1 with why left empty and hh_error set.
 */
int hh_cfg_set(const struct hh_cfg_load *ld, void *base, const struct hh_cfg_key *k, const char *v,
	       int append, hh_buf *why);

/* The repository named name (case-insensitive), created with defaults if missing; NULL with the
 * error set (naming origin) if name is not owner/name. */
hh_repo_config *hh_cfg_repo_get(hh_config *cfg, const char *name, const char *origin);

void hh_cfg_free_secret(char **p);

/*
 * 1 if an allow pattern (POSIX ERE) is small enough for regcomp(): glibc copies a repeated
 * element once per repetition, so stacked or nested repetitions ("x++++++++", "((x+)+)+")
 * grow exponentially, and deep nesting recurses. Patterns whose estimated size passes 20000
 * nodes, or that nest groups deeper than 64, are refused before regcomp() sees them.
 */
int hh_cfg_regex_bounded(const char *re);

/* Applies the file's entries to ld->cfg. Returns 0 or -1 with the error set. */
int hh_cfg_load_file(const struct hh_cfg_load *ld, const char *path);
/* The same with entries made by hh_config_entries() from the file at path (named in errors,
 * which carry no line numbers then). */
int hh_cfg_load_entries(const struct hh_cfg_load *ld, const char *path, const char *p, size_t len);

/* The value of name in envp; NULL if missing or empty. */
const char *hh_cfg_env(char *const *envp, const char *name);
/* Applies the environment overrides to ld->cfg. Returns 0 or -1 with the error naming the
 * variable. */
int hh_cfg_apply_env(const struct hh_cfg_load *ld, char *const *envp);
/* The main environment variable for a full key name ("server.listen" → HEALHOOK_SERVER_LISTEN). */
void hh_cfg_env_name(char *out, size_t size, const char *key);

/*
 * TELEGRAM_CHAT_IDS as the predecessor wrote it: a JSON array of chat ids (strings or
 * integers) or a comma-separated list. Appends the ids, comma-separated, to out (empty for
 * "[]"). Returns 0, or -1 with the error naming var when v is anything else.
 */
int hh_cfg_chat_ids(const char *var, const char *v, hh_buf *out);

/* Environment-only mode with the predecessor's variables (config_compat.c). */
/* 1 without a config file and HEALHOOK_HOST, when one of HEAL_SSH_HOST HEAL_SSH_USER
 * HEAL_SSH_PORT AIDER_REPO_PATH DEPLOY_SSH_KEY_PATH is set. */
int hh_cfg_predecessor_mode(const hh_config *cfg, char *const *envp);
/* Before the variables are applied: one error listing every missing variable, or 0. */
int hh_cfg_predecessor_check(hh_config *cfg, char *const *envp);
/* The one repository, named HH_REPO_FROM_HOST until compat.c reads its name from the host. */
hh_repo_config *hh_cfg_predecessor_repo(hh_config *cfg);
/* After the variables: the default state.dir and known-hosts. */
int hh_cfg_predecessor_defaults(hh_config *cfg, char *const *envp);

#endif
