/*
 * fixer: argv, environment and Ollama probe for the fixer. See fixer.h.
 */
#include "internal/fixer.h"
#include "internal/http.h"
#include "internal/log.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

int hh_fixer_argv(hh_strv *out, const hh_config *cfg, const char *prompt_path, const char *file,
		  const char *ollama)
{
	const char *vars[] = {"model",  cfg->fixer_model,     "prompt", prompt_path, "file", file,
			      "ollama", ollama ? ollama : "", NULL};

	return hh_argv_template(out, cfg->fixer_command, vars);
}

int hh_fixer_env(hh_strv *out, const char *home, const char *ollama)
{
	char *h = hh_asprintf("HOME=%s", home);
	int rc = h ? 0 : hh_error("out of memory");

	if (!rc)
		rc = hh_strv_push(out, h);
	free(h);
	if (!rc)
		rc = hh_strv_push(out, "NO_COLOR=1");
	if (!rc)
		rc = hh_strv_push(out, "TERM=dumb");
	if (!rc)
		rc = hh_strv_push(out, "BROWSER=true");
	if (!rc && ollama && *ollama) {
		char *o = hh_asprintf("OLLAMA_API_BASE=%s", ollama);
		rc = o ? hh_strv_push(out, o) : hh_error("out of memory");
		free(o);
	}
	return rc;
}

int hh_check_argv(hh_strv *out, const hh_repo_config *repo, const char *file)
{
	const char *vars[] = {"file", file, NULL};
	size_t n = strlen(file);

	if (repo && repo->check)
		return hh_argv_template(out, repo->check, vars);
	if (n > 3 && strcmp(file + n - 3, ".py") == 0) {
		const char *argv[] = {"python3", "-I", "-S", "-c", HH_PY_CHECK, file, NULL};
		size_t i;

		for (i = 0; argv[i]; i++)
			if (hh_strv_push(out, argv[i]) < 0) {
				hh_strv_release(out); /* as hh_argv_template leaves it */
				return -1;
			}
	}
	return 0;
}

char *hh_ollama_model_name(const char *aider_model)
{
	const char *name = aider_model, *slash = strchr(aider_model, '/');

	if (slash && (strncmp(aider_model, "ollama/", 7) == 0 ||
		      strncmp(aider_model, "ollama_chat/", 12) == 0))
		name = slash + 1;
	if (strchr(name, ':'))
		return hh_strdup(name);
	return hh_asprintf("%s:latest", name);
}

/* 1 if the /api/tags answer lists model. */
static int tags_list(const char *json, size_t len, const char *model)
{
	cJSON *root = cJSON_ParseWithLength(json, len), *m;
	const cJSON *models = root ? cJSON_GetObjectItemCaseSensitive(root, "models") : NULL;
	int found = 0;

	cJSON_ArrayForEach(m, models)
	{
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(m, "name");
		char *full;
		if (!cJSON_IsString(n))
			continue;
		full = strchr(n->valuestring, ':') ? hh_strdup(n->valuestring)
						   : hh_asprintf("%s:latest", n->valuestring);
		if (full && strcmp(full, model) == 0)
			found = 1;
		free(full);
	}
	cJSON_Delete(root);
	return found;
}

int hh_ollama_has(const char *base, const char *model, long timeout_ms)
{
	size_t bl = strlen(base);
	hh_http_req req = {0};
	hh_http_resp resp = {0};
	char *url;
	int rc = 0;

	while (bl && base[bl - 1] == '/')
		bl--;
	if (!(url = hh_asprintf("%.*s/api/tags", (int)bl, base)))
		return hh_error("out of memory");
	req.url = url;
	req.timeout_ms = timeout_ms;
	req.connect_timeout_ms = timeout_ms;
	if (hh_http_do(&req, &resp) < 0)
		rc = hh_error_code() < 0 ? hh_error_code() : HH_ERR;
	else if (resp.status != 200)
		rc = hh_error("%s answered %ld", url, resp.status);
	else if (!tags_list(resp.body.ptr, resp.body.len, model))
		rc = hh_fail(HH_ENOTFOUND, "%.*s does not have %s", (int)bl, base, model);
	hh_http_resp_release(&resp);
	free(url);
	return rc;
}

int hh_ollama_pick(const hh_strv *candidates, const char *aider_model, long timeout_ms, char **out)
{
	hh_buf why = HH_BUF_INIT;
	char *model;
	size_t i;

	*out = NULL;
	if (!candidates || candidates->n == 0)
		return 0;
	model = hh_ollama_model_name(aider_model);
	if (!model)
		return hh_error("out of memory");
	for (i = 0; i < candidates->n && !*out; i++) {
		if (hh_ollama_has(candidates->v[i], model, timeout_ms) < 0)
			hh_buf_printf(&why, "%s%s", why.len ? "; " : "", hh_error_last());
		else if (!(*out = hh_strdup(candidates->v[i])))
			break;
	}
	if (!*out)
		hh_error("no Ollama candidate has %s: %s", model, why.ptr ? why.ptr : "");
	free(model);
	hh_buf_release(&why);
	return *out ? 0 : -1;
}
