/*
 * config_file: reads a git-config file with libgit2 and applies every entry through the key
 * tables of config.c. The only place of the config module that uses libgit2.
 *
 * libgit2 lowercases section and key names and keeps the subsection verbatim, so an entry name
 * is split at its first and its last dot: "repo.acme/shop.v2.allow" is section "repo",
 * subsection "acme/shop.v2", key "allow". Entries carry no line number: for an error about a
 * key, the file text is scanned for the section header and the n-th line of that key (best
 * effort; without a match the message just has no line). libgit2's own syntax errors carry
 * file:line already and are kept as they are.
 */
#include "internal/buf.h"
#include "internal/config.h"
#include "internal/config_impl.h"
#include "internal/gitops.h"
#include "internal/log.h"

#include <ctype.h>
#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_CONFIG_FILE (1024 * 1024)

/* Parses a section header line "[name]", "[name \"sub\"]" or "[name.sub]"; 0 if it is one. */
static int parse_header(const char *p, hh_buf *sec, hh_buf *sub, int *has_sub)
{
	hh_buf_clear(sec);
	hh_buf_clear(sub);
	*has_sub = 0;
	if (*p++ != '[')
		return -1;
	while (isspace((unsigned char)*p))
		p++;
	for (; *p && *p != ']' && !isspace((unsigned char)*p) && *p != '"'; p++) {
		if (*p == '.' && !*has_sub) {
			*has_sub = 1;
			continue;
		}
		hh_buf_putc(*has_sub ? sub : sec, (char)tolower((unsigned char)*p));
	}
	while (isspace((unsigned char)*p))
		p++;
	if (*p == '"') {
		*has_sub = 1;
		for (p++; *p && *p != '"'; p++) {
			if (*p == '\\' && p[1])
				p++;
			hh_buf_putc(sub, *p);
		}
	}
	hh_buf_putc(sec, '\0');
	hh_buf_putc(sub, '\0');
	return 0;
}

/*
 * The line of the nth (1-based) occurrence of key in [section "sub"] in text, or of the last
 * one seen if there are fewer; 0 if none.
 */
static int find_line(const char *text, const char *section, const char *sub, const char *key,
		     int nth)
{
	hh_buf sec = HH_BUF_INIT, cur_sub = HH_BUF_INIT;
	const char *p = text ? text : ""; /* entries without their text: no line */
	int line = 1, in = 0, has_sub = 0, found = 0, seen = 0;
	size_t klen = strlen(key);

	while (*p) {
		const char *q = p;

		while (*q == ' ' || *q == '\t')
			q++;
		if (*q == '[') {
			parse_header(q, &sec, &cur_sub, &has_sub);
			in = strcmp(sec.ptr, section) == 0 &&
			     (sub ? has_sub && strcmp(cur_sub.ptr, sub) == 0 : !has_sub);
		} else if (in && strncasecmp(q, key, klen) == 0 &&
			   strchr(" \t=#;\r\n", q[klen] ? q[klen] : '\n')) {
			found = line;
			if (++seen == nth)
				break;
		}
		p = strchr(p, '\n');
		if (!p)
			break;
		p++;
		line++;
	}
	hh_buf_release(&sec);
	hh_buf_release(&cur_sub);
	return found;
}

/* The line of the first invalid escape (a backslash not followed by \ " n t b or a newline). */
static int find_bad_escape(const char *text)
{
	int line = 1, comment = 0;
	const char *p;

	for (p = text; *p; p++) {
		if (*p == '\n') {
			line++;
			comment = 0;
		} else if (*p == '#' || *p == ';') {
			comment = 1;
		} else if (*p == '\\' && !comment) {
			if (!strchr("\\\"ntb\n\r", p[1]) || !p[1])
				return line;
			p++;
		}
	}
	return 0;
}

struct file_ctx {
	const struct hh_cfg_load *ld;
	const char *path;
	const char *text;
	hh_strv seen; /* names of the entries applied so far, for the n-th occurrence */
};

/* "'name' in path[:line]" for the current entry. */
static void origin(hh_buf *b, struct file_ctx *fc, const char *name, const char *section,
		   const char *sub, const char *key)
{
	size_t i;
	int nth = 0, line;

	for (i = 0; i < fc->seen.n; i++)
		nth += strcmp(fc->seen.v[i], name) == 0;
	line = find_line(fc->text, section, sub, key, nth + 1);
	hh_buf_printf(b, "'%s' in %s", name, fc->path);
	if (line)
		hh_buf_printf(b, ":%d", line);
}

static const struct hh_cfg_key *find_key(const struct hh_cfg_key *t, const char *section,
					 const char *key)
{
	for (; t->key; t++)
		if (strcmp(t->section, section) == 0 && strcmp(t->key, key) == 0)
			return t;
	return NULL;
}

static int apply_entry(struct file_ctx *fc, const char *name, const char *value)
{
	hh_buf section = HH_BUF_INIT, sub = HH_BUF_INIT, why = HH_BUF_INIT, where = HH_BUF_INIT;
	const char *first = strchr(name, '.'), *last = strrchr(name, '.');
	const struct hh_cfg_key *k = NULL;
	const char *key = last ? last + 1 : name;
	void *base = fc->ld->cfg;
	int rc = -1, has_sub = first && first != last;

	if (!first) {
		hh_error("bad entry name '%s' in %s", name, fc->path);
		goto out;
	}
	if (hh_buf_put(&section, name, (size_t)(first - name)) < 0 ||
	    (has_sub && hh_buf_put(&sub, first + 1, (size_t)(last - first - 1)) < 0) ||
	    hh_buf_puts(&sub, "") < 0)
		goto out;
	origin(&where, fc, name, section.ptr, has_sub ? sub.ptr : NULL, key);
	if (strcmp(section.ptr, "include") == 0 || strcmp(section.ptr, "includeif") == 0) {
		hh_error("include is not supported (%s)", where.ptr);
		goto out;
	}
	if (strcmp(section.ptr, "repo") == 0) {
		if (!has_sub) {
			hh_error("%s: repo keys belong in a [repo \"owner/name\"] section",
				 where.ptr);
			goto out;
		}
		if ((k = find_key(hh_cfg_repo_keys, "repo", key)) &&
		    !(base = hh_cfg_repo_get(fc->ld->cfg, sub.ptr, where.ptr)))
			goto out;
	} else if (!has_sub) {
		k = find_key(hh_cfg_global_keys, section.ptr, key);
	}
	if (!k) {
		hh_error("unknown key %s", where.ptr);
		goto out;
	}
	if (hh_cfg_set(fc->ld, base, k, value, 1, &why) < 0) {
		if (why.len)
			hh_error("bad value for %s: %s", where.ptr, why.ptr);
		goto out;
	}
	rc = hh_strv_push(&fc->seen, name);
out:
	hh_buf_release(&section);
	hh_buf_release(&sub);
	hh_buf_release(&why);
	hh_buf_release(&where);
	return rc;
}

/* Keeps libgit2's message; a file with an invalid escape (found in the text itself, not in
 * libgit2's words) gets its line and a hint. */
static int git_failed(const char *what, const char *path, const char *text)
{
	const git_error *e = git_error_last();
	const char *msg = e && e->message ? e->message : "unknown error";
	int line = e && e->klass == GIT_ERROR_CONFIG && text ? find_bad_escape(text) : 0;

	if (line)
		return hh_fail(HH_ECONFIG,
			       "%s config file '%s': %s (at %s:%d; git-config allows only "
			       "\\\\ \\\" \\n \\t \\b: write \\\\. or [.] in regexes)",
			       what, path, msg, path, line);
	return hh_fail(HH_ECONFIG, "%s config file '%s': %s", what, path, msg);
}

/* Reads the file with libgit2 and calls fn for each entry in order (value NULL: a key without
 * "=", git's true). fc->text is the file's text while fn runs. */
static int each_entry(struct file_ctx *fc,
		      int (*fn)(void *arg, const char *name, const char *value), void *arg)
{
	git_config *gc = NULL, *snap = NULL;
	git_config_iterator *it = NULL;
	git_config_entry *entry;
	hh_buf text = HH_BUF_INIT;
	int rc = -1, err;

	if (hh_git_init() < 0)
		return -1;
	/* libgit2 takes a missing file for an empty one: read it first (also for line numbers). */
	if (hh_buf_read_file(&text, fc->path, MAX_CONFIG_FILE) < 0) {
		char msg[512];

		snprintf(msg, sizeof(msg), "%s", hh_error_last());
		hh_error("cannot read config file: %s", msg);
		goto out;
	}
	fc->text = text.ptr;
	if (git_config_open_ondisk(&gc, fc->path) < 0) {
		git_failed("cannot load", fc->path, text.ptr);
		goto out;
	}
	if (git_config_snapshot(&snap, gc) < 0 || git_config_iterator_new(&it, snap) < 0) {
		git_failed("cannot read", fc->path, text.ptr);
		goto out;
	}
	while ((err = git_config_next(&entry, it)) == 0)
		if (fn(arg, entry->name, entry->value) < 0)
			goto out;
	if (err != GIT_ITEROVER) {
		git_failed("cannot read", fc->path, text.ptr);
		goto out;
	}
	rc = 0;
out:
	fc->text = NULL;
	git_config_iterator_free(it);
	git_config_free(snap);
	git_config_free(gc);
	hh_buf_release(&text);
	return rc;
}

static int apply_cb(void *arg, const char *name, const char *value)
{
	return apply_entry(arg, name, value);
}

int hh_cfg_load_file(const struct hh_cfg_load *ld, const char *path)
{
	struct file_ctx fc = {ld, path, NULL, {NULL, 0}};
	int rc = each_entry(&fc, apply_cb, &fc);

	hh_strv_release(&fc.seen);
	return rc;
}

static int put_cb(void *arg, const char *name, const char *value)
{
	hh_buf *out = arg;

	hh_buf_put(out, name, strlen(name) + 1);
	hh_buf_putc(out, value ? '=' : '!');
	hh_buf_put(out, value ? value : "", value ? strlen(value) + 1 : 1);
	return hh_buf_failed(out) ? hh_error("out of memory") : 0;
}

/* The next NUL-terminated string of [*p, end), *p moved past it; NULL if there is none. */
static const char *next_str(const char **p, const char *end)
{
	const char *s = *p, *nul = s < end ? memchr(s, '\0', (size_t)(end - s)) : NULL;

	if (!nul)
		return NULL;
	*p = nul + 1;
	return s;
}

int hh_config_entries(const char *path, hh_buf *out)
{
	struct file_ctx fc = {NULL, path, NULL, {NULL, 0}};

	return each_entry(&fc, put_cb, out);
}

int hh_cfg_load_entries(const struct hh_cfg_load *ld, const char *path, const char *p, size_t len)
{
	struct file_ctx fc = {ld, path, NULL, {NULL, 0}};
	const char *end = p + len, *name, *rest;
	int rc = 0;

	/* each entry: the name, then "=VALUE" or "!" (no "="), each string with its NUL */
	while (rc == 0 && p < end) {
		name = next_str(&p, end);
		rest = name ? next_str(&p, end) : NULL;
		if (!rest || (rest[0] != '=' && strcmp(rest, "!") != 0))
			rc = hh_fail(HH_ECONFIG,
				     "the configuration from the main process is damaged");
		else
			rc = apply_entry(&fc, name, rest[0] == '=' ? rest + 1 : NULL);
	}
	hh_strv_release(&fc.seen);
	return rc;
}

/* ---- allow patterns: a bound on what regcomp() builds ------------------------------------- */

#define REGEX_MAX_COST 20000
#define REGEX_MAX_DEPTH 64

/* c + n, or REGEX_MAX_COST + 1 when it would pass the bound (no overflow). */
static unsigned long cost_add(unsigned long c, unsigned long n)
{
	return c + n > REGEX_MAX_COST ? REGEX_MAX_COST + 1 : c + n;
}

/* Skips a bracket expression starting at s ('['); returns the character after its ']', or
 * the end of the string when it is unterminated (regcomp then rejects it). */
static const char *skip_bracket(const char *s)
{
	const char *p = s + 1;

	if (*p == '^')
		p++;
	if (*p == ']')
		p++;
	while (*p && *p != ']') {
		if (*p == '[' && (p[1] == ':' || p[1] == '=' || p[1] == '.')) {
			char end = p[1];
			const char *q = strchr(p + 2, end);
			while (q && q[1] != ']')
				q = strchr(q + 1, end);
			if (!q)
				return p + strlen(p);
			p = q + 2;
		} else {
			p++;
		}
	}
	return *p ? p + 1 : p;
}

/* Reads "{n}", "{n,}" or "{n,m}" at s; returns its end and the copies it makes, or NULL. */
static const char *read_interval(const char *s, unsigned long *copies)
{
	unsigned long n = 0, m;
	const char *p = s + 1;

	if (*p < '0' || *p > '9')
		return NULL;
	while (*p >= '0' && *p <= '9')
		n = n > REGEX_MAX_COST ? n : n * 10 + (unsigned long)(*p++ - '0');
	m = n;
	if (*p == ',') {
		p++;
		if (*p >= '0' && *p <= '9') {
			m = 0;
			while (*p >= '0' && *p <= '9')
				m = m > REGEX_MAX_COST ? m : m * 10 + (unsigned long)(*p++ - '0');
		} else {
			m = n + 1; /* {n,}: n copies and a star */
		}
	}
	if (*p != '}')
		return NULL;
	*copies = m > n ? m : n;
	return p + 1;
}

int hh_cfg_regex_bounded(const char *re)
{
	/* Per open group: the cost of its contents so far, and of its last element. */
	unsigned long sum[REGEX_MAX_DEPTH + 1] = {0}, last[REGEX_MAX_DEPTH + 1] = {0};
	size_t d = 0;
	const char *p = re;

	while (*p) {
		unsigned long copies = 0, atom = 1;
		const char *q;

		switch (*p) {
		case '(':
			if (++d > REGEX_MAX_DEPTH)
				return 0;
			sum[d] = last[d] = 0;
			p++;
			continue;
		case ')':
			if (d == 0) {
				atom = 1;
				p++;
				break;
			}
			atom = sum[d] ? sum[d] : 1;
			d--;
			p++;
			break;
		case '|':
			last[d] = 0;
			p++;
			continue;
		case '*':
		case '?':
			copies = 1;
			p++;
			break;
		case '+':
			copies = 2;
			p++;
			break;
		case '{':
			if ((q = read_interval(p, &copies)) != NULL) {
				p = q;
				break;
			}
			atom = 1;
			p++;
			break;
		case '[':
			atom = 1;
			p = skip_bracket(p);
			break;
		case '\\':
			atom = 1;
			p += p[1] ? 2 : 1;
			break;
		default:
			atom = 1;
			p++;
			break;
		}
		if (copies) {
			/* regcomp copies the repeated element once per repetition, plus a node. */
			unsigned long grown = last[d] * copies;
			grown = grown / copies != last[d] ? REGEX_MAX_COST + 1 : cost_add(grown, 1);
			sum[d] = cost_add(sum[d] - last[d], grown);
			last[d] = grown;
		} else {
			last[d] = atom;
			sum[d] = cost_add(sum[d], atom);
		}
		if (sum[d] > REGEX_MAX_COST)
			return 0;
	}
	return 1;
}
