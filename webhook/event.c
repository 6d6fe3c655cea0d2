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
 * (Kelvin) as "k"; every object of the body is checked (up to 128 keys in a hash table, more
 * sorted: no quadratic case). Every string kept is copied, and the cJSON tree is freed before
 * returning, so no cJSON type leaves this file.
 */
#include "webhook/event.h"
#include "internal/buf.h"
#include "internal/log.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/*
 * cJSON's allocations while a body is parsed come from a per-thread arena: a 15 KB review is
 * about 1 100 nodes and strings, and malloc and free of each one were a fifth of the
 * receiver's instructions. The hooks are installed once, before main (no thread runs yet);
 * outside a parse they are malloc and free, so every other cJSON user is unchanged. The tree
 * of a parse never outlives it (fill copies what it keeps), so the arena is reset at the end
 * and its first chunk kept for the thread's next parse.
 */
#define ARENA_CHUNK (64 * 1024)

struct arena_chunk {
	struct arena_chunk *next;
	size_t size, used;
	max_align_t data[];
};

static _Thread_local struct arena_chunk *arena; /* non-NULL: a parse is running */
static pthread_key_t spare_key;                 /* the thread's kept chunk, freed at its exit */
static int hooked;                              /* set before main: the hooks are installed */

static int in_arena(const void *p)
{
	const struct arena_chunk *c;

	for (c = arena; c; c = c->next)
		if ((const char *)p >= (const char *)c->data &&
		    (const char *)p < (const char *)c->data + c->size)
			return 1;
	return 0;
}

static void *arena_malloc(size_t n)
{
	struct arena_chunk *c = arena;
	void *p;

	if (!c)
		return malloc(n);
	n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
	if (c->size - c->used < n) {
		size_t size = n > ARENA_CHUNK ? n : ARENA_CHUNK;
		if (!(c = malloc(sizeof(*c) + size)))
			return NULL;
		c->size = size;
		c->used = 0;
		c->next = arena;
		arena = c;
	}
	p = (char *)c->data + c->used;
	c->used += n;
	return p;
}

static void arena_free(void *p)
{
	if (p && !(arena && in_arena(p)))
		free(p);
}

static int arena_begin(void)
{
	struct arena_chunk *c;

	if (!hooked)
		return 0; /* cJSON allocates with malloc; the tree is deleted as usual */
	c = pthread_getspecific(spare_key);
	if (!c && !(c = malloc(sizeof(*c) + ARENA_CHUNK)))
		return hh_error("out of memory");
	pthread_setspecific(spare_key, NULL);
	c->size = ARENA_CHUNK;
	c->used = 0;
	c->next = NULL;
	arena = c;
	return 0;
}

/* Frees the parse's tree at once; keeps one chunk. */
static void arena_end(void)
{
	struct arena_chunk *c = arena, *next;

	arena = NULL;
	for (; c; c = next) {
		next = c->next;
		if (next || pthread_setspecific(spare_key, c) != 0)
			free(c); /* the last one is the first chunk, ARENA_CHUNK bytes */
	}
}

__attribute__((constructor)) static void arena_hooks(void)
{
	cJSON_Hooks h = {arena_malloc, arena_free};

	if (pthread_key_create(&spare_key, free) == 0) {
		cJSON_InitHooks(&h);
		hooked = 1;
	}
}

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

/* The pre-scan described at the top. Returns 0 or -1 with the error set. Strings, most of a
 * body, are crossed with memchr (to the closing quote, stopping only at escapes). */
static int prescan(const char *json, size_t len)
{
	const char *p = json, *end = json + len, *q, *bs;
	size_t depth = 0;

	if ((q = memchr(json, '\0', len)))
		return hh_fail(HH_EBADINPUT, "malformed JSON: NUL byte at offset %zu",
			       (size_t)(q - json));
	while (p < end) {
		char c = *p++;

		if (c == '"') {
			for (;;) {
				if (!(q = memchr(p, '"', (size_t)(end - p))))
					return 0; /* unterminated: cJSON says where */
				if (!(bs = memchr(p, '\\', (size_t)(q - p)))) {
					p = q + 1;
					break;
				}
				if (end - bs > 5 && bs[1] == 'u' && memcmp(bs + 2, "0000", 4) == 0)
					return hh_fail(
						HH_EBADINPUT,
						"malformed JSON: \\u0000 escape at offset %zu",
						(size_t)(bs - json));
				if ((p = bs + 2) >= end)
					return 0;
			}
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

/* The next character of a key folded as Go's encoding/json matches names (see the top):
 * ASCII lowercased, U+017F as 's', U+212A as 'k'; 0 at the end. Advances *p. */
static inline int fold_next(const unsigned char **p)
{
	const unsigned char *k = *p;

	if (!k[0])
		return 0;
	if (k[0] == 0xc5 && k[1] == 0xbf) {
		*p += 2;
		return 's';
	}
	if (k[0] == 0xe2 && k[1] == 0x84 && k[2] == 0xaa) {
		*p += 3;
		return 'k';
	}
	*p += 1;
	return k[0] >= 'A' && k[0] <= 'Z' ? k[0] + 32 : k[0];
}

/* strcmp of the folded keys, without building them. */
static int cmp_folded(const char *a, const char *b)
{
	const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;
	int ca, cb;

	do {
		ca = fold_next(&x);
		cb = fold_next(&y);
	} while (ca == cb && ca);
	return ca - cb;
}

static int cmp_key(const void *a, const void *b)
{
	return cmp_folded(*(const char *const *)a, *(const char *const *)b);
}

/* FNV-1a of the folded key. */
static uint32_t fold_hash(const char *k)
{
	const unsigned char *p = (const unsigned char *)k;
	uint32_t h = 2166136261u;
	int c;

	for (;;) {
		if (*p < 0x80 && *p != 0) /* plain ASCII, nearly every key: no call */
			c = *p >= 'A' && *p <= 'Z' ? *p++ + 32 : *p++;
		else if (!(c = fold_next(&p)))
			return h;
		h = (h ^ (uint32_t)c) * 16777619u;
	}
}

#define HASHED_KEYS 128 /* objects this small go through a hash table, larger ones are sorted */

/* A key of obj (n ≤ HASHED_KEYS keys) given twice, or NULL. Keys are compared only when their
 * hashes are equal; at most HASHED_KEYS² comparisons even if every hash collides. */
static const char *twice_hashed(const cJSON *obj)
{
	const char *keys[HASHED_KEYS];
	uint32_t hash[HASHED_KEYS];
	unsigned char slot[2 * HASHED_KEYS] = {0}; /* index + 1 of the key there, 0 = free */
	const cJSON *it;
	size_t i, b, j;

	for (i = 0, it = obj->child; it; it = it->next, i++) {
		const char *k = it->string ? it->string : "";
		uint32_t h = fold_hash(k);

		for (b = h & (2 * HASHED_KEYS - 1); slot[b]; b = (b + 1) & (2 * HASHED_KEYS - 1)) {
			j = slot[b] - 1u;
			if (hash[j] == h && cmp_folded(keys[j], k) == 0)
				return k;
		}
		keys[i] = k;
		hash[i] = h;
		slot[b] = (unsigned char)(i + 1);
	}
	return NULL;
}

/* The same for any n, sorting: n log n; *oom set when the array cannot be had. */
static const char *twice_sorted(const cJSON *obj, size_t n, int *oom)
{
	const char **keys = malloc(n * sizeof(*keys)), *dup = NULL;
	const cJSON *it;
	size_t i;

	if (!keys) {
		*oom = 1;
		return NULL;
	}
	for (i = 0, it = obj->child; it; it = it->next, i++)
		keys[i] = it->string ? it->string : "";
	qsort(keys, n, sizeof(*keys), cmp_key);
	for (i = 1; i < n && !dup; i++)
		if (cmp_key(&keys[i - 1], &keys[i]) == 0)
			dup = keys[i];
	free(keys);
	return dup;
}

static const char *twice(const cJSON *obj, size_t n, int *oom)
{
	return n <= HASHED_KEYS ? twice_hashed(obj) : twice_sorted(obj, n, oom);
}

/* Refuses an object holding a key twice, at any depth. Returns 0 or -1 with the error set. */
static int check_keys(const cJSON *node)
{
	const cJSON *it;
	const char *dup;
	size_t n = 0;
	int oom = 0;

	if (!cJSON_IsObject(node) && !cJSON_IsArray(node))
		return 0;
	for (it = node->child; it; it = it->next)
		n++;
	if (cJSON_IsObject(node) && n > 1) {
		if ((dup = twice(node, n, &oom)))
			return hh_fail(HH_EBADINPUT, "malformed JSON: duplicate key '%.64s'", dup);
		if (oom)
			return hh_error("out of memory");
	}
	for (it = node->child; it; it = it->next) {
		int rc = check_keys(it);
		if (rc < 0)
			return rc;
	}
	return 0;
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
	if ((rc = prescan(json, len)) < 0 || (rc = arena_begin()) < 0)
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
	if (arena)
		arena_end(); /* the tree with it */
	else
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
