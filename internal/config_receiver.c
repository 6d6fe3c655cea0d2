/*
 * config_receiver: the environment the receiver (`serve --role=receiver`) may see, as an
 * allowlist (see hh_config_receiver_env() in config.h). A denylist of words ("TOKEN", "KEY")
 * missed names in another case (`gitea_token=`) or spelling; here a variable passes only when
 * its exact name is one the receiver reads: the configuration variables of config_env.c minus
 * the token files, and a few that the C library, SQLite and the sanitizers read.
 */
#include "internal/config.h"
#include "internal/config_impl.h"

#include <stdio.h>
#include <string.h>

static const char *const plain[] = {
	"HEALHOOK_CONFIG",
	"HEALHOOK_SECRET",
	"HEALHOOK_REPO",
	"HEALHOOK_BENCH_NO_FSYNC",
	/* the predecessor's repository variables (config_env.c): addresses and limits only, not
	 * the key's path (DEPLOY_SSH_KEY_PATH: only the process that connects needs it) */
	"HEAL_SSH_HOST",
	"HEAL_SSH_USER",
	"HEAL_SSH_PORT",
	"AIDER_REPO_PATH",
	"MOMO_BASE_URL",
	"AIDER_MAX_DIFF_LINES",
	"AIDER_MAX_HOURLY_FIX",
	"AIDER_MODEL",
	"OLLAMA_API_BASE",
	"TELEGRAM_CHAT_IDS",
	"TELEGRAM_CHAT_ID",
	/* where the state directory defaults to without a file (systemd, XDG, the home) */
	"STATE_DIRECTORY",
	"XDG_STATE_HOME",
	"HOME",
	/* the C library, SQLite's temporary files, sanitizer builds */
	"TZ",
	"LANG",
	"LC_ALL",
	"LC_CTYPE",
	"LC_MESSAGES",
	"TMPDIR",
	"SQLITE_TMPDIR",
	"ASAN_OPTIONS",
	"UBSAN_OPTIONS",
	"LSAN_OPTIONS",
	/* libpq, for the receiver's own connection to a [state] database: where its password
	 * file, service file and TLS files are, and the TLS mode (never PGPASSWORD itself) */
	"PGPASSFILE",
	"PGSERVICEFILE",
	"PGSSLMODE",
	"PGSSLROOTCERT",
	"PGSSLCERT",
	"PGSSLKEY",
	"PGSSLCRL",
	NULL,
};

/* Keys holding a token or naming its file: the receiver never reads them (the webhook
 * secret's file and server.authorization, which it checks, are the only secrets it keeps;
 * and state.database and its password file, since it stores deliveries in that database). */
static int token_key(const struct hh_cfg_key *k)
{
	return (k->type == HH_CT_SECRET_FILE || k->type == HH_CT_SECRET) &&
	       strcmp(k->section, "server") != 0 && strcmp(k->section, "state") != 0;
}

static int in_table(const struct hh_cfg_key *t, int repo, const char *name)
{
	char key[128], var[160];

	for (; t->key; t++) {
		if (token_key(t))
			continue;
		if (repo)
			snprintf(key, sizeof(key), "repo.x.%s", t->key);
		else
			snprintf(key, sizeof(key), "%s.%s", t->section, t->key);
		hh_cfg_env_name(var, sizeof(var), key);
		if (strcmp(var, name) == 0)
			return 1;
	}
	return 0;
}

int hh_config_receiver_env(const char *entry)
{
	const char *eq = strchr(entry, '=');
	size_t n = eq ? (size_t)(eq - entry) : strlen(entry), i;
	char name[160];

	if (!eq || n == 0 || n >= sizeof(name))
		return 0;
	memcpy(name, entry, n);
	name[n] = '\0';
	for (i = 0; plain[i]; i++)
		if (strcmp(name, plain[i]) == 0)
			return 1;
	if (strncmp(name, "HEALHOOK_", 9) != 0)
		return 0;
	return in_table(hh_cfg_global_keys, 0, name) || in_table(hh_cfg_repo_keys, 1, name);
}
