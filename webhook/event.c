/*
 * event: a Gitea webhook body parsed into a plain struct. See event.h for the contract.
 *
 * The body is untrusted bytes of a given length, not a C string. Before cJSON sees it, one
 * linear pre-scan rejects what cJSON would accept silently or report badly:
 *   - a NUL byte anywhere (cJSON skips it as whitespace, and C strings would end there);
 *   - a "\u0000" escape inside a string (it would truncate the decoded value, so that
 *     "northwind/billing-svc\u0000x" would read as "northwind/billing-svc");
 *   - nesting deeper than CJSON_NESTING_LIMIT (cJSON fails too, but says nothing useful).
 * cJSON then parses exactly len bytes without requiring a terminator; after the value only
 * JSON whitespace may follow. A UTF-8 byte order mark before the value is refused (as Go's
 * encoding/json does), and so is an object with a key twice: cJSON would read the first and Go
 * (Gitea, or a proxy) the last, so the same signed body would mean two things. Keys are compared
 * as Go matches them to struct fields: ASCII case-insensitively, with U+017F as "s" and U+212A
 * (Kelvin) as "k"; every object of the body is checked (sorting its keys: no quadratic case). Every
 * string kept is copied, and the cJSON tree is freed before returning, so no cJSON type leaves this
 * file.
 */
#include "webhook/event.h"
#include "internal/buf.h"
#include "internal/log.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	enum hh_event_kind kind;
	const char *name;
} kinds[] = {
	{HH_EV_REVIEW_REJECTED, "pull_request_review_rejected"},
	{HH_EV_REVIEW_APPROVED, "pull_request_review_approved"},
	{HH_EV_REVIEW_COMMENT, "pull_request_review_comment"},
	{HH_EV_PR_COMMENT, "pull_request_comment"},
	{HH_EV_ISSUE_COMMENT, "issue_comment"},
	{HH_EV_PUSH, "push"},
};

enum hh_event_kind hh_event_kind_from_type(const char *event_type)
{
	size_t i;

	if (!event_type)
		return HH_EV_UNKNOWN;
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(event_type, kinds[i].name) == 0)
			return kinds[i].kind;
	return HH_EV_UNKNOWN;
}

const char *hh_event_kind_name(enum hh_event_kind kind)
{
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (kinds[i].kind == kind)
			return kinds[i].name;
	return "unknown";
}

int hh_event_is_review(enum hh_event_kind kind)
{
	return kind == HH_EV_REVIEW_REJECTED || kind == HH_EV_REVIEW_APPROVED ||
	       kind == HH_EV_REVIEW_COMMENT;
}

static int is_json_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The pre-scan described at the top. Returns 0 or -1 with the error set. */
static int prescan(const char *json, size_t len)
{
	const char *nul = memchr(json, '\0', len);
	size_t i, depth = 0;
	int in_str = 0;

	if (nul)
		return hh_fail(HH_EBADINPUT, "malformed JSON: NUL byte at offset %zu",
			       (size_t)(nul - json));
	for (i = 0; i < len; i++) {
		char c = json[i];

		if (in_str) {
			if (c == '"') {
				in_str = 0;
			} else if (c == '\\' && i + 1 < len) {
				i++;
				if (json[i] == 'u' && i + 4 < len &&
				    memcmp(json + i + 1, "0000", 4) == 0)
					return hh_fail(
						HH_EBADINPUT,
						"malformed JSON: \\u0000 escape at offset %zu",
						i - 1);
			}
			continue;
		}
		if (c == '"') {
			in_str = 1;
		} else if (c == '{' || c == '[') {
			if (++depth > CJSON_NESTING_LIMIT)
				return hh_fail(HH_EBADINPUT,
					       "malformed JSON: nested deeper than %d levels",
					       CJSON_NESTING_LIMIT);
		} else if ((c == '}' || c == ']') && depth > 0) {
			depth--;
		}
	}
	return 0;
}

/* key folded as Go's encoding/json matches names (see the top); NULL when out of memory. */
static char *fold_key(const char *k)
{
	size_t n = strlen(k), i, o = 0;
	char *f = malloc(n + 1);

	if (!f)
		return NULL;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)k[i];
		if (c == 0xc5 && (unsigned char)k[i + 1] == 0xbf) {
			f[o++] = 's';
			i++;
		} else if (c == 0xe2 && (unsigned char)k[i + 1] == 0x84 &&
			   (unsigned char)k[i + 2] == 0xaa) {
			f[o++] = 'k';
			i += 2;
		} else {
			f[o++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
		}
	}
	f[o] = '\0';
	return f;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Refuses an object holding a key twice, at any depth. Returns 0 or -1 with the error set. */
static int check_keys(const cJSON *node)
{
	const cJSON *it;
	char **keys = NULL;
	size_t n = 0, i;
	int rc = 0;

	if (!cJSON_IsObject(node) && !cJSON_IsArray(node))
		return 0;
	for (it = node->child; it; it = it->next)
		n++;
	if (cJSON_IsObject(node) && n > 1) {
		if (!(keys = calloc(n, sizeof(*keys))))
			return hh_error("out of memory");
		for (i = 0, it = node->child; it && rc == 0; it = it->next, i++)
			if (!(keys[i] = fold_key(it->string ? it->string : "")))
				rc = hh_error("out of memory");
		if (rc == 0)
			qsort(keys, n, sizeof(*keys), cmp_str);
		for (i = 1; rc == 0 && i < n; i++)
			if (strcmp(keys[i - 1], keys[i]) == 0)
				rc = hh_fail(HH_EBADINPUT, "malformed JSON: duplicate key '%.64s'",
					     keys[i]);
		for (i = 0; i < n; i++)
			free(keys[i]);
		free(keys);
	}
	for (it = node->child; it && rc == 0; it = it->next)
		rc = check_keys(it);
	return rc;
}

static const cJSON *get(const cJSON *obj, const char *key)
{
	return cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
}

/* Copies obj.key into *out when it is a string; anything else leaves *out NULL. */
static int copy_str(char **out, const cJSON *obj, const char *key)
{
	const cJSON *it = get(obj, key);

	if (!cJSON_IsString(it) || !it->valuestring)
		return 0;
	*out = hh_strdup(it->valuestring);
	return *out ? 0 : hh_error("out of memory");
}

/* obj.key when it is a positive whole number that fits a long, else 0. */
static long get_id(const cJSON *obj, const char *key)
{
	const cJSON *it = get(obj, key);
	double d;

	if (!cJSON_IsNumber(it))
		return 0;
	d = it->valuedouble;
	if (!isfinite(d) || d < 1 || d > 9007199254740992.0 || d != (double)(long long)d)
		return 0;
	return (long)d;
}

static int get_bool(const cJSON *obj, const char *key)
{
	return cJSON_IsTrue(get(obj, key)) ? 1 : 0;
}

static int fill(hh_event *ev, const cJSON *root)
{
	const cJSON *repo = get(root, "repository"), *pr = get(root, "pull_request");
	const cJSON *review = get(root, "review"), *comment = get(root, "comment");

	if (copy_str(&ev->repo, repo, "full_name") < 0)
		return -1;
	if (!ev->repo || !ev->repo[0])
		return hh_fail(HH_EBADINPUT, "missing repository.full_name");
	if (copy_str(&ev->action, root, "action") < 0 ||
	    copy_str(&ev->default_branch, repo, "default_branch") < 0 ||
	    copy_str(&ev->clone_url, repo, "clone_url") < 0 ||
	    copy_str(&ev->ssh_url, repo, "ssh_url") < 0 ||
	    copy_str(&ev->sender, get(root, "sender"), "login") < 0 ||
	    copy_str(&ev->pr_state, pr, "state") < 0 || copy_str(&ev->pr_url, pr, "html_url") < 0 ||
	    copy_str(&ev->head_ref, get(pr, "head"), "ref") < 0 ||
	    copy_str(&ev->head_sha, get(pr, "head"), "sha") < 0 ||
	    copy_str(&ev->base_ref, get(pr, "base"), "ref") < 0 ||
	    copy_str(&ev->review_type, review, "type") < 0 ||
	    copy_str(&ev->review_content, review, "content") < 0 ||
	    copy_str(&ev->comment_body, comment, "body") < 0)
		return -1;
	ev->pr_merged = get_bool(pr, "merged");
	ev->comment_id = get_id(comment, "id");
	ev->is_pull = get_bool(root, "is_pull");
	if (hh_event_is_review(ev->kind) || ev->kind == HH_EV_PR_COMMENT)
		ev->is_pull = 1;
	ev->pr_number = get_id(pr, "number");
	if (!ev->pr_number && ev->is_pull)
		ev->pr_number = get_id(get(root, "issue"), "number");
	return 0;
}

int hh_event_parse(hh_event *ev, enum hh_event_kind kind, const char *json, size_t len)
{
	const char *end = NULL;
	cJSON *root = NULL;
	int rc = -1;

	memset(ev, 0, sizeof(*ev));
	ev->kind = kind;
	if (!json || len == 0) {
		rc = hh_fail(HH_EBADINPUT, "malformed JSON: empty body");
		goto out;
	}
	if (len >= 3 && memcmp(json, "\xef\xbb\xbf", 3) == 0) {
		rc = hh_fail(HH_EBADINPUT, "malformed JSON: byte order mark before the value");
		goto out;
	}
	if ((rc = prescan(json, len)) < 0)
		goto out;
	root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
	if (!root) {
		size_t at = end && end >= json && end <= json + len ? (size_t)(end - json) : 0;
		rc = hh_fail(HH_EBADINPUT, "malformed JSON: syntax error at offset %zu", at);
		goto out;
	}
	while (end && end < json + len && is_json_space(*end))
		end++;
	if (!end || end != json + len) {
		rc = hh_fail(HH_EBADINPUT, "malformed JSON: trailing data at offset %zu",
			     end ? (size_t)(end - json) : 0);
		goto out;
	}
	if (!cJSON_IsObject(root)) {
		rc = hh_fail(HH_EBADINPUT, "malformed JSON: body is not an object");
		goto out;
	}
	if ((rc = check_keys(root)) < 0)
		goto out;
	rc = fill(ev, root);
out:
	cJSON_Delete(root);
	if (rc < 0)
		hh_event_release(ev);
	return rc;
}

void hh_event_release(hh_event *ev)
{
	if (!ev)
		return;
	free(ev->action);
	free(ev->repo);
	free(ev->default_branch);
	free(ev->clone_url);
	free(ev->ssh_url);
	free(ev->sender);
	free(ev->pr_state);
	free(ev->pr_url);
	free(ev->head_ref);
	free(ev->head_sha);
	free(ev->base_ref);
	free(ev->review_type);
	free(ev->review_content);
	free(ev->comment_body);
	memset(ev, 0, sizeof(*ev));
}
