/*
 * doctor_http: the checks that are one HTTP request each (see doctor.h): the health URL, the
 * Ollama candidates (hh_ollama_has, one at a time, as hh_ollama_pick asks them), Gitea's GET
 * /api/v1/user with the token, and Telegram's getMe. URLs in messages are redacted with
 * hh_http_redact_url; the request URL holding the Telegram token and the Authorization header
 * are wiped after use. cJSON is used here only to read two fields of an answer.
 */
#include "internal/buf.h"
#include "internal/doctor.h"
#include "internal/doctor_priv.h"
#include "internal/fixer.h"
#include "internal/health.h"
#include "internal/http.h"
#include "internal/log.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void hh_doctor_check_health(hh_doctor *d, const hh_repo_config *repo)
{
	const char *scope = repo->name;
	hh_http_req req = {0};
	hh_http_resp resp = {0};
	char *safe;

	if (!repo->health_url) {
		hh_doctor_add(
			d, HH_CHECK_SKIP, scope, "health url",
			hh_asprintf("repo.%s.health-url not set (no health watch after a push)",
				    scope),
			NULL);
		return;
	}
	safe = hh_http_redact_url(repo->health_url);
	req.url = repo->health_url;
	req.connect_timeout_ms = d->timeout_ms;
	req.timeout_ms = d->timeout_ms;
	req.max_response = 64 * 1024;
	if (hh_http_do(&req, &resp) < 0) {
		hh_doctor_add(
			d, HH_CHECK_FAIL, scope, "health url", hh_strdup(hh_error_last()),
			hh_asprintf(
				"check that the application runs and that repo.%s.health-url is "
				"right (curl -sS %s); without an answer every fix is reverted",
				scope, safe ? safe : ""));
	} else {
		int ok = hh_health_judge(resp.status, resp.body.ptr, resp.body.len, NULL, NULL) ==
			 HH_HEALTH_OK;

		hh_doctor_add(
			d, HH_CHECK_OK, scope, "health url",
			hh_asprintf("%s answers HTTP %ld: %s", safe ? safe : "", resp.status,
				    ok ? "healthy now"
				       : "NOT healthy now (a fix pushed now would be reverted)"),
			NULL);
	}
	hh_http_resp_release(&resp);
	free(safe);
}

void hh_doctor_check_ollama(hh_doctor *d)
{
	const hh_config *cfg = d->cfg;
	char *model = hh_ollama_model_name(cfg->fixer_model ? cfg->fixer_model : "");
	char **why_ = NULL;
	int *code = NULL;
	size_t i, good = 0;

	if (!cfg->fixer_ollama.n) {
		hh_doctor_add(d, HH_CHECK_SKIP, "fixer", "ollama",
			      hh_strdup("no fixer.ollama candidates configured (not checked)"),
			      NULL);
		goto out;
	}
	if (!model || !(why_ = calloc(cfg->fixer_ollama.n, sizeof(*why_))) ||
	    !(code = calloc(cfg->fixer_ollama.n, sizeof(*code)))) {
		d->oom = 1;
		goto out;
	}
	for (i = 0; i < cfg->fixer_ollama.n; i++) {
		code[i] = hh_ollama_has(cfg->fixer_ollama.v[i], model, d->timeout_ms);
		if (code[i] < 0)
			why_[i] = hh_strdup(hh_error_last());
		else
			good++;
	}
	for (i = 0; i < cfg->fixer_ollama.n; i++) {
		char *safe = hh_http_redact_url(cfg->fixer_ollama.v[i]);

		if (code[i] == 0)
			hh_doctor_add(d, HH_CHECK_OK, "fixer", "ollama",
				      hh_asprintf("%s has %s", safe ? safe : "", model), NULL);
		else
			hh_doctor_add(
				d, good ? HH_CHECK_WARN : HH_CHECK_FAIL, "fixer", "ollama",
				hh_asprintf("%s%s", why_[i] ? why_[i] : "",
					    good ? " (another candidate works)" : ""),
				code[i] == HH_ENOTFOUND /* it answered, without the model */
					? hh_asprintf("ollama pull %s (on the machine behind %s)",
						      model, safe ? safe : "")
					: hh_asprintf(
						  "start Ollama there (ollama serve, listening "
						  "where "
						  "healhook and the host can reach it), or remove "
						  "%s from fixer.ollama",
						  safe ? safe : ""));
		free(safe);
	}
out:
	if (why_)
		for (i = 0; i < cfg->fixer_ollama.n; i++)
			free(why_[i]);
	free(why_);
	free(code);
	free(model);
}

/* A string field of a JSON object (path of up to two names), or NULL. Caller frees. */
static char *json_str(const hh_buf *b, const char *k1, const char *k2)
{
	cJSON *root = b->ptr ? cJSON_ParseWithLength(b->ptr, b->len) : NULL;
	const cJSON *v = root ? cJSON_GetObjectItemCaseSensitive(root, k1) : NULL;
	char *s = NULL;

	if (v && k2)
		v = cJSON_GetObjectItemCaseSensitive(v, k2);
	if (cJSON_IsString(v))
		s = hh_strdup(v->valuestring);
	else if (cJSON_IsBool(v))
		s = hh_strdup(cJSON_IsTrue(v) ? "true" : "false");
	cJSON_Delete(root);
	return s;
}

void hh_doctor_check_gitea(hh_doctor *d)
{
	const hh_config *cfg = d->cfg;
	const char *name = "token valid";
	hh_http_req req = {0};
	hh_http_resp resp = {0};
	char *url = NULL, *safe = NULL, *auth = NULL, *login = NULL;
	const char *hdrs[3] = {"Accept: application/json", NULL, NULL};
	size_t bl;

	if (!cfg->gitea_url) {
		hh_doctor_add(
			d, HH_CHECK_SKIP, "gitea", name,
			hh_strdup("gitea.url not set (no review lookups, comments or statuses)"),
			NULL);
		return;
	}
	safe = hh_http_redact_url(cfg->gitea_url);
	if (!cfg->gitea_token) {
		hh_doctor_add(d, HH_CHECK_FAIL, "gitea", name, hh_strdup("no API token configured"),
			      hh_strdup("create a token in Gitea (Settings → Applications) for "
					"healhook's user "
					"and name its file in gitea.token-file (or set "
					"HEALHOOK_GITEA_TOKEN)"));
		goto out;
	}
	bl = strlen(cfg->gitea_url);
	while (bl && cfg->gitea_url[bl - 1] == '/')
		bl--;
	url = hh_asprintf("%.*s/api/v1/user", (int)bl, cfg->gitea_url);
	auth = hh_asprintf("Authorization: token %s", cfg->gitea_token);
	if (!url || !auth) {
		d->oom = 1;
		goto out;
	}
	hdrs[1] = auth;
	req.url = url;
	req.headers = hdrs;
	req.connect_timeout_ms = d->timeout_ms;
	req.timeout_ms = d->timeout_ms;
	req.max_response = 256 * 1024;
	if (hh_http_do(&req, &resp) < 0) {
		hh_doctor_add(d, HH_CHECK_FAIL, "gitea", name, hh_strdup(hh_error_last()),
			      hh_asprintf("check gitea.url (%s) and that this machine can reach it",
					  safe ? safe : ""));
	} else if (resp.status == 401) {
		hh_doctor_add(
			d, HH_CHECK_FAIL, "gitea", name,
			hh_asprintf("%s refused the token (HTTP 401)", safe ? safe : ""),
			hh_strdup("create a new token in Gitea (Settings → Applications; scopes "
				  "read:user, write:repository, write:issue) and put it in "
				  "gitea.token-file"));
	} else if (resp.status == 403) {
		hh_doctor_add(
			d, HH_CHECK_WARN, "gitea", name,
			hh_asprintf(
				"%s accepted the token but it may not read /api/v1/user (HTTP 403)",
				safe ? safe : ""),
			hh_strdup("give the token the read:user scope so that its login can be "
				  "checked"));
	} else if (resp.status != 200) {
		hh_doctor_add(d, HH_CHECK_FAIL, "gitea", name,
			      hh_asprintf("GET %s/api/v1/user answered HTTP %ld", safe ? safe : "",
					  resp.status),
			      hh_strdup("gitea.url must be Gitea's base URL (without /api/v1)"));
	} else if (!(login = json_str(&resp.body, "login", NULL))) {
		hh_doctor_add(
			d, HH_CHECK_FAIL, "gitea", name,
			hh_asprintf("GET %s/api/v1/user answered 200 without a login: not Gitea?",
				    safe ? safe : ""),
			hh_strdup("gitea.url must be Gitea's base URL (without /api/v1)"));
	} else if (!cfg->gitea_user) {
		hh_doctor_add(
			d, HH_CHECK_WARN, "gitea", name,
			hh_asprintf("token of %s; gitea.user is not set", login),
			hh_asprintf(
				"set gitea.user = %s (healhook ignores events from its own login)",
				login));
	} else if (strcasecmp(login, cfg->gitea_user) != 0) {
		hh_doctor_add(
			d, HH_CHECK_WARN, "gitea", name,
			hh_asprintf("token of %s, but gitea.user is %s", login, cfg->gitea_user),
			hh_asprintf("set gitea.user = %s, or use a token of %s (healhook ignores "
				    "events "
				    "from gitea.user)",
				    login, cfg->gitea_user));
	} else {
		hh_doctor_add(d, HH_CHECK_OK, "gitea", name,
			      hh_asprintf("token of %s at %s", login, safe ? safe : ""), NULL);
	}
out:
	hh_http_resp_release(&resp);
	if (auth)
		explicit_bzero(auth, strlen(auth));
	free(auth);
	free(url);
	free(safe);
	free(login);
}

void hh_doctor_check_telegram(hh_doctor *d)
{
	const hh_config *cfg = d->cfg;
	const char *name = "token valid";
	const char *api = cfg->telegram_api ? cfg->telegram_api : "https://api.telegram.org";
	hh_http_req req = {0};
	hh_http_resp resp = {0};
	char *url = NULL, *safe = NULL, *ok = NULL, *user = NULL;
	size_t bl;

	if (!cfg->telegram_token) {
		hh_doctor_add(
			d, HH_CHECK_SKIP, "telegram", name,
			hh_strdup(
				"no bot token (notify.telegram-token-file or TELEGRAM_BOT_TOKEN): "
				"no Telegram notifications"),
			NULL);
		return;
	}
	bl = strlen(api);
	while (bl && api[bl - 1] == '/')
		bl--;
	url = hh_asprintf("%.*s/bot%s/getMe", (int)bl, api, cfg->telegram_token);
	safe = hh_http_redact_url(api);
	if (!url || !safe) {
		d->oom = 1;
		goto out;
	}
	req.url = url;
	req.connect_timeout_ms = d->timeout_ms;
	req.timeout_ms = d->timeout_ms;
	req.max_response = 64 * 1024;
	if (hh_http_do(&req, &resp) < 0) {
		hh_doctor_add(
			d, HH_CHECK_FAIL, "telegram", name, hh_strdup(hh_error_last()),
			hh_asprintf(
				"check notify.telegram-api (%s) and that this machine can reach it",
				safe));
	} else if (resp.status == 401 || resp.status == 404) {
		hh_doctor_add(
			d, HH_CHECK_FAIL, "telegram", name,
			hh_asprintf("the Bot API at %s refused the bot token (HTTP %ld)", safe,
				    resp.status),
			hh_strdup("get the bot's token from @BotFather (/token) and put it in "
				  "notify.telegram-token-file"));
	} else if (resp.status != 200 || !(ok = json_str(&resp.body, "ok", NULL)) ||
		   strcmp(ok, "true") != 0) {
		hh_doctor_add(d, HH_CHECK_FAIL, "telegram", name,
			      hh_asprintf("getMe at %s answered HTTP %ld without \"ok\": true",
					  safe, resp.status),
			      hh_strdup("notify.telegram-api must be the Bot API's base URL"));
	} else {
		user = json_str(&resp.body, "result", "username");
		if (!cfg->telegram_chats.n)
			hh_doctor_add(
				d, HH_CHECK_WARN, "telegram", name,
				hh_asprintf("bot @%s, but notify.telegram-chat is empty: nobody is "
					    "told",
					    user ? user : "?"),
				hh_strdup("set notify.telegram-chat to the chat ids to notify"));
		else
			hh_doctor_add(d, HH_CHECK_OK, "telegram", name,
				      hh_asprintf("bot @%s, %zu chat%s", user ? user : "?",
						  cfg->telegram_chats.n,
						  cfg->telegram_chats.n == 1 ? "" : "s"),
				      NULL);
	}
out:
	hh_http_resp_release(&resp);
	if (url)
		explicit_bzero(url, strlen(url));
	free(url);
	free(safe);
	free(ok);
	free(user);
}
