/*
 * findings: the grammar that turns review text into findings. See findings.h for the
 * contract and docs/findings.md for the grammar with examples.
 *
 * Text is read line by line. A line that opens a fence (``` or ~~~, three or more) starts a
 * block that lasts until a closing fence of the same character and at least the same length
 * (or the end of the text); lines inside are never scanned for findings. A block whose info
 * string is exactly `healhook` is collected and parsed as a JSON array of findings; a block
 * that is not valid JSON, or not an array, adds nothing (it is not an error).
 *
 * Outside blocks, each line is matched against one pattern, written as a small hand parser
 * rather than a regex so that every branch is explicit:
 *   [ws] [bullet ws] PATH ':' LINE [':' COL] ':' ws+ MESSAGE
 * with PATH optionally in backticks (`PATH`:LINE: or `PATH:LINE`:). Anything else is prose.
 * The path is only checked for shape here (it must not be a bare number or a URL); whether it
 * may be touched is the guard's decision, which rejects `..` and absolute paths with a reason.
 *
 * Everything here is pure: no clock, environment, disk, network or logging.
 */
#include "internal/findings.h"
#include "internal/sha256.h"
#include "internal/buf.h"
#include "internal/log.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TAG 64
#define MAX_DIGITS 9

const char *hh_source_name(enum hh_source src)
{
	switch (src) {
	case HH_SRC_REVIEW_BODY: return "review-body";
	case HH_SRC_LINE_COMMENT: return "line-comment";
	case HH_SRC_COMMENT: return "comment";
	}
	return "unknown";
}

/* The length of the longest prefix of s[0..len) that is at most max bytes and does not end
 * inside a UTF-8 sequence. */
static size_t utf8_cut(const char *s, size_t len, size_t max)
{
	size_t cut;

	if (len <= max)
		return len;
	cut = max;
	while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
		cut--;
	return cut;
}

static int is_ws(char c)
{
	return c == ' ' || c == '\t';
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int is_tag_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || is_digit(c) || c == '_' ||
	       c == '.' || c == ':' || c == '-';
}

static void free_finding(hh_finding *f)
{
	free(f->file);
	free(f->type);
	free(f->message);
}

int hh_findings_add(hh_findings *out, const char *file, long line, const char *type,
		    const char *message, enum hh_source src)
{
	size_t i, mlen;
	hh_finding f = {0};

	if (!file || !type || !message)
		return hh_error("finding without file, type or message");
	mlen = utf8_cut(message, strlen(message), HH_MAX_MESSAGE);
	for (i = 0; i < out->n; i++) {
		const hh_finding *o = &out->v[i];
		if (o->line == line && strcmp(o->file, file) == 0 && strcmp(o->type, type) == 0 &&
		    strlen(o->message) == mlen && memcmp(o->message, message, mlen) == 0)
			return 0;
	}
	if (out->n >= HH_MAX_FINDINGS)
		return hh_error("too many findings (max %d)", HH_MAX_FINDINGS);
	if (out->n == out->cap) {
		size_t cap = out->cap ? out->cap * 2 : 8;
		hh_finding *v = realloc(out->v, cap * sizeof(*v));
		if (!v)
			return hh_error("out of memory");
		out->v = v;
		out->cap = cap;
	}
	f.file = hh_strdup(file);
	f.type = hh_strdup(type);
	f.message = hh_strndup(message, mlen);
	f.line = line;
	f.source = src;
	if (!f.file || !f.type || !f.message) {
		free_finding(&f);
		return hh_error("out of memory");
	}
	out->v[out->n++] = f;
	return 0;
}

void hh_findings_release(hh_findings *f)
{
	size_t i;

	if (!f)
		return;
	for (i = 0; i < f->n; i++)
		free_finding(&f->v[i]);
	free(f->v);
	f->v = NULL;
	f->n = f->cap = 0;
}

/* Adds and reports whether something new was added: 1 added, 0 duplicate, -1 error. */
static int add_counted(hh_findings *out, const char *file, long line, const char *type,
		       const char *message, enum hh_source src)
{
	size_t before = out->n;

	if (hh_findings_add(out, file, line, type, message, src) < 0)
		return -1;
	return out->n > before;
}

/* A path token as the grammar wants it: non-empty, not all digits, no URL. */
static int path_ok(const char *p, size_t n)
{
	size_t i;
	int nondigit = 0;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c <= ' ' || c == 0x7f || c == ':' || c == '`')
			return 0;
		if (!is_digit((char)c))
			nondigit = 1;
	}
	return nondigit;
}

/* Reads 1..MAX_DIGITS digits at *pp into *num and advances; returns 0 if there are none or
 * too many. */
static int read_number(const char **pp, const char *end, long *num)
{
	const char *p = *pp;
	long v = 0;
	int n = 0;

	while (p < end && is_digit(*p)) {
		if (++n > MAX_DIGITS)
			return 0;
		v = v * 10 + (*p - '0');
		p++;
	}
	if (n == 0)
		return 0;
	*pp = p;
	*num = v;
	return 1;
}

/* LINE [':' COL]: reads the line number and an optional column (discarded). The column is
 * only taken when `term` follows it (':', or '`' inside backticks), so "a.py:4:30 seconds"
 * is not read as line 4 column 30. */
static int read_line_col(const char **pp, const char *end, long *line, char term)
{
	const char *p = *pp, *q;
	long col;

	if (!read_number(&p, end, line))
		return 0;
	q = p;
	if (q < end && *q == ':') {
		q++;
		if (read_number(&q, end, &col) && q < end && *q == term)
			p = q;
	}
	*pp = p;
	return 1;
}

/* Skips a list bullet ("-", "*", "+", "1.", "12)") and the blanks after it. */
static const char *skip_bullet(const char *p, const char *end)
{
	const char *q = p;

	if (q < end && (*q == '-' || *q == '*' || *q == '+')) {
		q++;
	} else {
		int n = 0;
		while (q < end && is_digit(*q) && n <= MAX_DIGITS)
			q++, n++;
		if (n == 0 || n > MAX_DIGITS || q >= end || (*q != '.' && *q != ')'))
			return p;
		q++;
	}
	if (q >= end || !is_ws(*q))
		return p;
	while (q < end && is_ws(*q))
		q++;
	return q;
}

/* Length of a `[Type]` tag at the start of s (including brackets), or 0. */
static size_t tag_len(const char *s, size_t n)
{
	size_t i;

	if (n < 3 || s[0] != '[')
		return 0;
	for (i = 1; i < n && i <= MAX_TAG + 1 && is_tag_char(s[i]); i++)
		;
	if (i == 1 || i > MAX_TAG + 1 || i >= n || s[i] != ']')
		return 0;
	return i + 1;
}

/* Length of a leading word [A-Z][A-Za-z0-9_]*(Error|Exception|Warning) followed by ':', or 0. */
static size_t error_word_len(const char *s, size_t n)
{
	static const char *const suffixes[] = {"Error", "Exception", "Warning"};
	size_t i, k;

	if (n == 0 || s[0] < 'A' || s[0] > 'Z')
		return 0;
	for (i = 1; i < n && (is_tag_char(s[i]) && s[i] != '.' && s[i] != ':' && s[i] != '-'); i++)
		;
	if (i >= n || s[i] != ':' || i > MAX_TAG)
		return 0;
	for (k = 0; k < sizeof(suffixes) / sizeof(suffixes[0]); k++) {
		size_t sl = strlen(suffixes[k]);
		if (i > sl && memcmp(s + i - sl, suffixes[k], sl) == 0)
			return i;
	}
	return 0;
}

/*
 * Splits a message into type and text and adds the finding. msg[0..n) has no leading or
 * trailing blanks. Returns 1 added, 0 nothing (duplicate, or a tag with no text), -1 error.
 */
static int add_typed(hh_findings *out, const char *file, long line, const char *msg, size_t n,
		     int error_words, enum hh_source src)
{
	char type[MAX_TAG + 1] = "review";
	char *text = NULL;
	size_t t = tag_len(msg, n), w;
	int rc;

	if (t) {
		memcpy(type, msg + 1, t - 2);
		type[t - 2] = '\0';
		msg += t;
		n -= t;
		while (n && (is_ws(*msg) || *msg == '\n' || *msg == '\r'))
			msg++, n--;
	} else if (error_words && (w = error_word_len(msg, n)) != 0) {
		memcpy(type, msg, w);
		type[w] = '\0';
	}
	if (n == 0)
		return 0;
	text = hh_strndup(msg, n);
	if (!text)
		return hh_error("out of memory");
	rc = add_counted(out, file, line, type, text, src);
	free(text);
	return rc;
}

/*
 * Matches one line (without its newline) against the finding pattern. Returns 1 when a
 * finding was added, 0 when the line is not a finding (or a duplicate), -1 on error.
 */
static int scan_line(hh_findings *out, const char *s, size_t len, enum hh_source src)
{
	const char *p = s, *end = s + len, *path, *path_end;
	char *file = NULL;
	long line = 0;
	int rc;

	while (end > p && (is_ws(end[-1]) || end[-1] == '\r'))
		end--;
	while (p < end && is_ws(*p))
		p++;
	p = skip_bullet(p, end);
	if (p < end && *p == '`') {
		/* `path`:LINE: or `path:LINE`: */
		path = ++p;
		while (p < end && *p != '`' && *p != ':' && !is_ws(*p))
			p++;
		path_end = p;
		if (p < end && *p == '`') {
			p++;
			if (p >= end || *p != ':')
				return 0;
			p++;
			if (!read_line_col(&p, end, &line, ':'))
				return 0;
		} else {
			if (p >= end || *p != ':')
				return 0;
			p++;
			if (!read_line_col(&p, end, &line, '`') || p >= end || *p != '`')
				return 0;
			p++;
		}
	} else {
		path = p;
		while (p < end && *p != ':' && *p != '`' && !is_ws(*p))
			p++;
		path_end = p;
		if (p >= end || *p != ':')
			return 0;
		p++;
		if (!read_line_col(&p, end, &line, ':'))
			return 0;
	}
	if (!path_ok(path, (size_t)(path_end - path)))
		return 0;
	if (p >= end || *p != ':')
		return 0;
	p++;
	if (p >= end || !is_ws(*p))
		return 0;
	while (p < end && is_ws(*p))
		p++;
	if (p >= end)
		return 0;
	file = hh_strndup(path, (size_t)(path_end - path));
	if (!file)
		return hh_error("out of memory");
	rc = add_typed(out, file, line, p, (size_t)(end - p), 1, src);
	free(file);
	return rc;
}

/* Adds the findings of a ```healhook block. Bad JSON or bad entries add nothing. */
static int scan_healhook_json(hh_findings *out, const char *json, size_t len, enum hh_source src)
{
	cJSON *root, *it;
	int added = 0, rc = 0;

	if (len == 0)
		return 0;
	root = cJSON_ParseWithLength(json, len);
	if (!cJSON_IsArray(root))
		goto out;
	cJSON_ArrayForEach(it, root)
	{
		const cJSON *file = cJSON_GetObjectItemCaseSensitive(it, "file");
		const cJSON *line = cJSON_GetObjectItemCaseSensitive(it, "line");
		const cJSON *type = cJSON_GetObjectItemCaseSensitive(it, "type");
		const cJSON *msg = cJSON_GetObjectItemCaseSensitive(it, "message");
		const char *ty = "review", *m;
		long ln = 0;
		size_t mlen, tlen;

		if (!cJSON_IsObject(it) || !cJSON_IsString(file) || !cJSON_IsString(msg))
			continue;
		if (!path_ok(file->valuestring, strlen(file->valuestring)))
			continue;
		if (line) {
			if (!cJSON_IsNumber(line) ||
			    !(line->valuedouble >= 0 && line->valuedouble <= 999999999) ||
			    line->valuedouble != (double)(long)line->valuedouble)
				continue;
			ln = (long)line->valuedouble;
		}
		if (type) {
			if (!cJSON_IsString(type))
				continue;
			ty = type->valuestring;
			tlen = strlen(ty);
			if (tlen == 0 || tlen > MAX_TAG)
				continue;
			while (tlen && is_tag_char(ty[tlen - 1]))
				tlen--;
			if (tlen)
				continue;
		}
		m = msg->valuestring;
		mlen = strlen(m);
		while (mlen && (is_ws(m[mlen - 1]) || m[mlen - 1] == '\n' || m[mlen - 1] == '\r'))
			mlen--;
		while (mlen && (is_ws(*m) || *m == '\n' || *m == '\r'))
			m++, mlen--;
		if (mlen == 0)
			continue;
		{
			char *text = hh_strndup(m, mlen);
			if (!text) {
				rc = hh_error("out of memory");
				goto out;
			}
			rc = add_counted(out, file->valuestring, ln, ty, text, src);
			free(text);
		}
		if (rc < 0)
			goto out;
		added += rc;
	}
	rc = added;
out:
	cJSON_Delete(root);
	return rc;
}

/* If s[0..len) opens a fence, returns its length (>= 3) and sets *ch and the info string. */
static size_t fence_open(const char *s, size_t len, char *ch, const char **info, size_t *ilen)
{
	const char *p = s, *end = s + len;
	size_t n = 0;

	while (end > p && (is_ws(end[-1]) || end[-1] == '\r'))
		end--;
	while (p < end && is_ws(*p))
		p++;
	if (p >= end || (*p != '`' && *p != '~'))
		return 0;
	*ch = *p;
	while (p < end && *p == *ch)
		p++, n++;
	if (n < 3)
		return 0;
	while (p < end && is_ws(*p))
		p++;
	/* CommonMark: a backtick fence's info string cannot hold a backtick. */
	if (*ch == '`' && memchr(p, '`', (size_t)(end - p)))
		return 0;
	*info = p;
	*ilen = (size_t)(end - p);
	return n;
}

static int fence_closes(const char *s, size_t len, char ch, size_t n)
{
	const char *p = s, *end = s + len;
	size_t k = 0;

	while (end > p && (is_ws(end[-1]) || end[-1] == '\r'))
		end--;
	while (p < end && is_ws(*p))
		p++;
	while (p < end && *p == ch)
		p++, k++;
	return p == end && k >= n;
}

int hh_findings_from_text(hh_findings *out, const char *text, enum hh_source src)
{
	const char *p = text, *end, *block = NULL;
	size_t fence = 0;
	char fch = 0;
	int healhook = 0, added = 0, rc;

	if (!text)
		return 0;
	end = text + strlen(text);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end, *info;
		size_t len = (size_t)(eol - p), ilen;

		if (fence) {
			if (fence_closes(p, len, fch, fence)) {
				if (healhook) {
					rc = scan_healhook_json(out, block, (size_t)(p - block),
								src);
					if (rc < 0)
						return -1;
					added += rc;
				}
				fence = 0;
			}
		} else if ((fence = fence_open(p, len, &fch, &info, &ilen)) != 0) {
			healhook = ilen == 8 && memcmp(info, "healhook", 8) == 0;
			block = nl ? nl + 1 : end;
		} else {
			rc = scan_line(out, p, len, src);
			if (rc < 0)
				return -1;
			added += rc;
		}
		p = nl ? nl + 1 : end;
	}
	if (fence && healhook) {
		/* An unclosed block runs to the end of the text, as in CommonMark. */
		rc = scan_healhook_json(out, block, (size_t)(end - block), src);
		if (rc < 0)
			return -1;
		added += rc;
	}
	return added;
}

int hh_findings_from_line_comment(hh_findings *out, const char *path, long line, const char *body)
{
	const char *p = body, *end;

	if (!path || !path[0])
		return hh_error("line comment without a path");
	if (!body)
		return 0;
	end = body + strlen(body);
	while (p < end && (is_ws(*p) || *p == '\n' || *p == '\r'))
		p++;
	while (end > p && (is_ws(end[-1]) || end[-1] == '\n' || end[-1] == '\r'))
		end--;
	if (p == end)
		return 0;
	return add_typed(out, path, line < 0 ? 0 : line, p, (size_t)(end - p), 0,
			 HH_SRC_LINE_COMMENT) < 0
		       ? -1
		       : 0;
}

char *hh_prompt_build(const char *type, const char *message)
{
	hh_buf msg = HH_BUF_INIT, out = HH_BUF_INIT;
	char ty[MAX_TAG + 1];
	const unsigned char *m = (const unsigned char *)(message ? message : "");
	char *res = NULL;
	size_t i, n = 0, cut;

	for (i = 0; type && type[i] && n < MAX_TAG; i++)
		if (is_tag_char(type[i]))
			ty[n++] = type[i];
	ty[n] = '\0';
	if (n == 0)
		strcpy(ty, "review");
	if (hh_buf_puts(&msg, "") < 0)
		goto out;
	for (i = 0; m[i]; i++) {
		/* C0 controls and DEL, except newline and tab; C1 controls (U+0080..U+009F). */
		if ((m[i] < 0x20 && m[i] != '\n' && m[i] != '\t') || m[i] == 0x7f)
			continue;
		if (m[i] == 0xC2 && m[i + 1] >= 0x80 && m[i + 1] <= 0x9F) {
			i++;
			continue;
		}
		if (hh_buf_putc(&msg, (char)m[i]) < 0)
			goto out;
	}
	cut = utf8_cut(msg.ptr, msg.len, HH_MAX_PROMPT_MESSAGE);
	if (hh_buf_printf(&out,
			  "Fix the following %s in this file. Only fix what is necessary, do not "
			  "refactor or add features. Error: %.*s",
			  ty, (int)cut, msg.ptr) < 0)
		goto out;
	res = hh_buf_detach(&out);
out:
	hh_buf_release(&msg);
	hh_buf_release(&out);
	return res;
}

/* Incremental: no allocation, so a fingerprint can never be taken over truncated input. */
void hh_finding_fingerprint(const char *repo, const char *branch, const hh_finding *f, char out[65])
{
	const char *part[5] = {repo, branch, f->file, f->type, f->message};
	static const char hex[] = "0123456789abcdef";
	unsigned char h[32];
	hh_sha256 c;
	size_t i;

	hh_sha256_init(&c);
	for (i = 0; i < 5; i++) /* each part with its NUL, but the message */
		hh_sha256_update(&c, part[i], strlen(part[i]) + (i < 4));
	hh_sha256_final(&c, h);
	for (i = 0; i < 32; i++) {
		out[2 * i] = hex[h[i] >> 4];
		out[2 * i + 1] = hex[h[i] & 15];
	}
	out[64] = '\0';
}
