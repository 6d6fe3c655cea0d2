/*
 * config_value: how one value is parsed, checked and stored (hh_cfg_set). Every key's type
 * (enum hh_cfg_type) is one row of kinds[]: a setter, the check its text or its list items
 * must pass, and for the enum types the words they accept, so that adding a type or a word is
 * a table row, not another branch. Error messages name the value, never a secret.
 */
#include "internal/buf.h"
#include "internal/config.h"
#include "internal/config_impl.h"
#include "internal/log.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* ---- one setter per kind of value (kinds[], indexed by enum hh_cfg_type) ------------------ */

/* One hh_cfg_set() call. */
struct set {
	const struct hh_cfg_load *ld;
	const struct hh_cfg_key *k;
	const struct kind *kd; /* kinds[k->type] */
	char *f;               /* the field in base */
	const char *v;         /* NULL for a bare key (only for booleans) */
	int append;            /* lists: add to the list instead of replacing it */
	hh_buf *why;
};

/* A word an enum kind accepts and the value stored for it. */
struct word {
	const char *name;
	int value;
};

enum {
	K_ZERO = 1,  /* numbers: 0 is allowed */
	K_DUR = 2,   /* numbers: a duration (N, Ns, Nm, Nh or Nd) */
	K_TEXT = 4,  /* words: the word itself is stored (char *), not its value */
	K_REGEX = 8, /* lists: commas inside {} or [] do not split */
};

struct kind {
	int (*set)(const struct set *s);
	/* Text and list items: 0, or -1 with the reason in why. */
	int (*check)(const char *v, hh_buf *why);
	const struct word *words; /* enum kinds: NULL-ended */
	unsigned flags;
};

static int check_url(const char *v, hh_buf *why)
{
	if (valid_url(v))
		return 0;
	return hh_buf_printf(why, "'%s' is not an http:// or https:// URL", v), -1;
}

static int check_host(const char *v, hh_buf *why)
{
	const char *e = host_error(v);

	return e ? (hh_buf_printf(why, "'%s': %s", v, e), -1) : 0;
}

static int check_listen(const char *v, hh_buf *why)
{
	if (valid_listen(v) == 0)
		return 0;
	return hh_buf_printf(why, "'%s' is not ADDR:PORT", v), -1;
}

static int check_argv(const char *v, hh_buf *why)
{
	hh_strv tmp = {NULL, 0};

	if (hh_argv_template(&tmp, v, NULL) < 0)
		return hh_buf_printf(why, "%s", hh_error_last()), -1;
	hh_strv_release(&tmp);
	return 0;
}

static int check_regex(const char *v, hh_buf *why)
{
	char msg[256];
	regex_t re;
	int err;

	if (!hh_cfg_regex_bounded(v))
		return hh_buf_printf(why, "regex '%s' is too complex", v), -1;
	if ((err = regcomp(&re, v, REG_EXTENDED | REG_NOSUB))) {
		regerror(err, &re, msg, sizeof(msg));
		return hh_buf_printf(why, "bad regex '%s': %s", v, msg), -1;
	}
	regfree(&re);
	return 0;
}

/* Text: empty means unset (NULL); anything else must pass the kind's check. */
static int set_text(const struct set *s)
{
	if (*s->v && s->kd->check && s->kd->check(s->v, s->why) < 0)
		return -1;
	return set_str((char **)s->f, s->v);
}

static int set_secret(const struct set *s)
{
	hh_cfg_free_secret((char **)s->f);
	if (*s->v && !(*(char **)s->f = hh_strdup(s->v)))
		return -1;
	return 0;
}

/* The receiver never reads the Gitea, Telegram or status token (nor, when its user was
 * dropped, the webhook secret or the database password: it gets them by pipe). */
static int set_secret_file(const struct set *s)
{
	int server = strcmp(s->k->section, "server") == 0 || strcmp(s->k->section, "state") == 0;

	if (!*s->v)
		return hh_cfg_free_secret((char **)s->f), 0;
	if (s->ld->files == HH_CFG_FILES_NONE || (s->ld->files == HH_CFG_FILES_RECEIVER && !server))
		return 0;
	return read_secret_file((char **)s->f, s->v, s->why);
}

static int set_number(const struct set *s)
{
	unsigned long long u;
	const char *end;
	long n;

	if (s->kd->flags & K_DUR) {
		if (hh_parse_duration(s->v, &n) < 0)
			return hh_buf_printf(s->why, "'%s' is not a duration (N, Ns, Nm, Nh or Nd)",
					     s->v),
			       -1;
	} else {
		if (hh_cfg_parse_ulong(s->v, &u, &end) < 0 || *end || u > LONG_MAX)
			return hh_buf_printf(s->why, "'%s' is not a number", s->v), -1;
		n = (long)u;
	}
	if (n == 0 && !(s->kd->flags & K_ZERO))
		return hh_buf_printf(s->why, "'%s' must be greater than 0", s->v), -1;
	*(long *)s->f = n;
	return 0;
}

static int set_size(const struct set *s)
{
	if (hh_parse_size(s->v, (size_t *)s->f) < 0)
		return hh_buf_printf(s->why, "'%s' is not a size (N, Nk, Nm or Ng)", s->v), -1;
	if (!*(size_t *)s->f)
		return hh_buf_printf(s->why, "'%s' must be greater than 0", s->v), -1;
	return 0;
}

static int set_bool(const struct set *s)
{
	int b = 1;

	if (s->v && hh_parse_bool(s->v, &b) < 0)
		return hh_buf_printf(s->why, "'%s' is not a boolean (true/false)", s->v), -1;
	*(int *)s->f = b;
	return 0;
}

/* One of the kind's words; the error lists them ("'x' is not a, b or c"). */
static int set_word(const struct set *s)
{
	const struct word *w, *first = s->kd->words;

	for (w = first; w->name; w++) {
		if (strcmp(s->v, w->name) != 0)
			continue;
		if (s->kd->flags & K_TEXT)
			return set_str((char **)s->f, s->v);
		*(int *)s->f = w->value;
		return 0;
	}
	hh_buf_printf(s->why, "'%s' is not ", s->v);
	for (w = first; w->name; w++)
		hh_buf_printf(s->why, "%s%s", w == first ? "" : (w[1].name ? ", " : " or "),
			      w->name);
	return -1;
}

/* Every item is checked before the list changes. */
static int set_list(const struct set *s)
{
	hh_strv tmp = {NULL, 0}, *sv = (hh_strv *)s->f;
	int rc = -1;
	size_t i;

	if (split_list(&tmp, s->v, (s->kd->flags & K_REGEX) != 0) < 0)
		goto out;
	for (i = 0; s->kd->check && i < tmp.n; i++)
		if (s->kd->check(tmp.v[i], s->why) < 0)
			goto out;
	if (!s->append)
		hh_strv_release(sv);
	for (i = 0; i < tmp.n; i++)
		if (hh_strv_push(sv, tmp.v[i]) < 0)
			goto out;
	rc = 0;
out:
	hh_strv_release(&tmp);
	return rc;
}

static const struct word targets[] = {{"auto", HH_TARGET_AUTO},
				      {"pr-head", HH_TARGET_PR_HEAD},
				      {"default-branch", HH_TARGET_DEFAULT_BRANCH},
				      {NULL, 0}};
static const struct word push_vias[] = {
	{"host", HH_PUSH_VIA_HOST}, {"mirror", HH_PUSH_VIA_MIRROR}, {NULL, 0}};
static const struct word langs[] = {{"en", 0}, {"zh-TW", 0}, {NULL, 0}};
static const struct word levels[] = {{"error", HH_LOG_ERROR},
				     {"warn", HH_LOG_WARN},
				     {"info", HH_LOG_INFO},
				     {"debug", HH_LOG_DEBUG},
				     {NULL, 0}};
static const struct word formats[] = {{"text", HH_LOG_TEXT}, {"json", HH_LOG_JSON}, {NULL, 0}};

static const struct kind kinds[] = {
	[HH_CT_STR] = {set_text, NULL, NULL, 0},
	[HH_CT_SECRET] = {set_secret, NULL, NULL, 0},
	[HH_CT_SECRET_FILE] = {set_secret_file, NULL, NULL, 0},
	[HH_CT_URL] = {set_text, check_url, NULL, 0},
	[HH_CT_HOST] = {set_text, check_host, NULL, 0},
	[HH_CT_LISTEN] = {set_text, check_listen, NULL, 0},
	[HH_CT_ARGV] = {set_text, check_argv, NULL, 0},
	[HH_CT_NUM] = {set_number, NULL, NULL, 0},
	[HH_CT_NUM0] = {set_number, NULL, NULL, K_ZERO},
	[HH_CT_DUR] = {set_number, NULL, NULL, K_DUR},
	[HH_CT_DUR0] = {set_number, NULL, NULL, K_DUR | K_ZERO},
	[HH_CT_SIZE] = {set_size, NULL, NULL, 0},
	[HH_CT_BOOL] = {set_bool, NULL, NULL, 0},
	[HH_CT_TARGET] = {set_word, NULL, targets, 0},
	[HH_CT_PUSH_VIA] = {set_word, NULL, push_vias, 0},
	[HH_CT_LANG] = {set_word, NULL, langs, K_TEXT},
	[HH_CT_LEVEL] = {set_word, NULL, levels, 0},
	[HH_CT_FORMAT] = {set_word, NULL, formats, 0},
	[HH_CT_LIST] = {set_list, NULL, NULL, 0},
	[HH_CT_URL_LIST] = {set_list, check_url, NULL, 0},
	[HH_CT_ALLOW] = {set_list, check_regex, NULL, K_REGEX},
};
_Static_assert(sizeof(kinds) / sizeof(kinds[0]) == HH_CT_COUNT, "one kind per hh_cfg_type");

int hh_cfg_set(const struct hh_cfg_load *ld, void *base, const struct hh_cfg_key *k, const char *v,
	       int append, hh_buf *why)
{
	const struct set s = {ld, k, &kinds[k->type], (char *)base + k->offset, v, append, why};

	if (!v && k->type != HH_CT_BOOL)
		return hh_buf_puts(why, "no value (write key = value)"), -1;
	return s.kd->set(&s);
}
