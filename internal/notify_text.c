/*
 * notify_text: the wording of notices, in English and Traditional Chinese, as Telegram HTML,
 * Gitea Markdown or plain text. See notify.h.
 *
 * A message is a title line, then one "Label: value" line per known fact, then the detail in
 * a preformatted block. Every value comes from outside (file names, review text, command
 * output) and is treated as hostile: control characters become spaces (the detail keeps its
 * newlines), invalid UTF-8 becomes U+FFFD, and it is escaped for the format. Values are cut
 * by code points; when the whole message is too long the detail is cut first, then the values.
 */
#include "internal/notify.h"
#include "internal/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const outcome_names[HH_OUT_COUNT] = {
	"start",          "rejected",     "preflight_failed", "no_diff",
	"diff_too_large", "check_failed", "fix_failed",       "push_failed",
	"pushed",         "healed",       "reverted",         "revert_failed",
	"frozen",         "budget",       "expired",          "revert_unhealthy",
};

static const char *const title_en[HH_OUT_COUNT] = {
	"🔧 Healing started",
	"🚫 Finding rejected, no fix attempted",
	"⛔ Preflight failed",
	"➖ Nothing to fix: the fixer changed nothing",
	"📏 Fix discarded: diff too large",
	"❌ Fix discarded: check failed",
	"❌ Fix failed",
	"❌ Push failed",
	"🚀 Fix pushed, watching health",
	"✅ Healed",
	"⏪ Reverted automatically",
	"🚨 Revert failed: repository frozen, a human is needed",
	"🧊 Repository frozen after repeated reverts",
	"⏳ Hourly fix budget reached, jobs wait",
	"⌛ Job expired in the queue",
	"🚨 Reverted, but health is still failing: repository frozen, a human is needed",
};

static const char *const title_zh[HH_OUT_COUNT] = {
	"🔧 開始自動修復",
	"🚫 已拒絕此審查意見，不進行修復",
	"⛔ 預檢失敗",
	"➖ 無需修復：修復程式未做任何變更",
	"📏 已捨棄修復：變更行數過多",
	"❌ 已捨棄修復：檢查未通過",
	"❌ 自動修復失敗",
	"❌ 推送失敗",
	"🚀 修復已推送，正在監控健康狀態",
	"✅ 自動修復成功",
	"⏪ 已自動回滾",
	"🚨 回滾失敗：儲存庫已凍結，需要人工處理",
	"🧊 多次回滾後儲存庫已凍結",
	"⏳ 已達每小時修復上限，工作將延後",
	"⌛ 工作在佇列中等候過久，已過期",
	"🚨 已回滾，但健康檢查仍然失敗：儲存庫已凍結，需要人工處理",
};

enum label {
	L_REPO,
	L_FILE,
	L_BRANCH,
	L_TYPE,
	L_MESSAGE,
	L_COMMIT,
	L_REVERT,
	L_DIFF,
	L_REASON,
	L_PR,
	L_JOB,
	L_DETAIL,
	L_COUNT
};

static const char *const label_en[L_COUNT] = {
	"Repository",    "File", "Branch", "Type",         "Finding", "Commit",
	"Revert commit", "Diff", "Reason", "Pull request", "Job",     "Detail",
};

static const char *const label_zh[L_COUNT] = {
	"儲存庫",   "檔案", "分支", "類型",     "審查意見", "提交",
	"回滾提交", "變更", "原因", "合併請求", "工作",     "詳細資訊",
};

const char *hh_outcome_name(enum hh_outcome o)
{
	return (unsigned)o < HH_OUT_COUNT ? outcome_names[o] : "unknown";
}

int hh_outcome_parse(const char *s)
{
	int i;

	for (i = 0; s && i < HH_OUT_COUNT; i++)
		if (strcmp(s, outcome_names[i]) == 0)
			return i;
	return -1;
}

const char *hh_notice_status_state(enum hh_outcome o)
{
	switch (o) {
	case HH_OUT_PUSHED: return "pending";
	case HH_OUT_HEALED: return "success";
	case HH_OUT_REVERTED:
	case HH_OUT_REVERT_FAILED:
	case HH_OUT_REVERT_UNHEALTHY: return "failure";
	default: return NULL;
	}
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0 if it is not valid. */
static size_t utf8_len(const unsigned char *p)
{
	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		return (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (p[0] >= 0xe0 && p[0] <= 0xef) {
		if ((p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80)
			return 0;
		if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0))
			return 0;
		return 3;
	}
	if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		if ((p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 || (p[3] & 0xc0) != 0x80)
			return 0;
		if ((p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] >= 0x90))
			return 0;
		return 4;
	}
	return 0;
}

/* Code points in a valid UTF-8 string. */
static size_t utf8_count(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/*
 * A clean copy of s: valid UTF-8, control characters replaced by a space (keep_nl keeps \n
 * and turns \t into a space; \r is dropped), at most max code points ("…" added when cut).
 */
static char *clean(const char *s, size_t max, int keep_nl)
{
	const unsigned char *p = (const unsigned char *)s;
	hh_buf b = HH_BUF_INIT;
	size_t n = 0, l;

	while (*p) {
		if (n >= max) {
			hh_buf_puts(&b, "…");
			break;
		}
		l = utf8_len(p);
		if (l == 0) {
			hh_buf_puts(&b, "\xef\xbf\xbd");
			p++;
		} else if (l == 1 && (*p < 0x20 || *p == 0x7f)) {
			if (*p == '\n' && keep_nl)
				hh_buf_putc(&b, '\n');
			else if (*p != '\r' || !keep_nl)
				hh_buf_putc(&b, ' ');
			p++;
		} else {
			hh_buf_put(&b, p, l);
			p += l;
		}
		n++;
	}
	return hh_buf_detach(&b);
}

/* HTML-escapes s (&, <, >, and " for attributes). */
static void put_html(hh_buf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': hh_buf_puts(b, "&amp;"); break;
		case '<': hh_buf_puts(b, "&lt;"); break;
		case '>': hh_buf_puts(b, "&gt;"); break;
		case '"': hh_buf_puts(b, "&quot;"); break;
		default: hh_buf_putc(b, *s); break;
		}
	}
}

/* Longest run of c in s. */
static size_t longest_run(const char *s, char c)
{
	size_t best = 0, run = 0;

	for (; *s; s++) {
		run = *s == c ? run + 1 : 0;
		if (run > best)
			best = run;
	}
	return best;
}

/*
 * A Markdown code span holding s verbatim (CommonMark: a fence longer than any backtick run
 * inside; a space on each side when s begins or ends with a backtick or a space, which the
 * renderer strips again).
 */
static void put_md_code(hh_buf *b, const char *s)
{
	size_t fence = longest_run(s, '`') + 1, len = strlen(s), i;
	int pad = len && (s[0] == '`' || s[len - 1] == '`' || s[0] == ' ' || s[len - 1] == ' ');

	for (i = 0; i < fence; i++)
		hh_buf_putc(b, '`');
	hh_buf_puts(b, pad ? " " : "");
	hh_buf_puts(b, s);
	hh_buf_puts(b, pad ? " " : "");
	for (i = 0; i < fence; i++)
		hh_buf_putc(b, '`');
}

static int is_web_url(const char *u)
{
	return u && (strncmp(u, "https://", 8) == 0 || strncmp(u, "http://", 7) == 0);
}

struct ctx {
	hh_buf *b;
	int format;
	const char *const *label;
	size_t field_max;
};

/* "Label: value" with value a clean copy of v; code = monospace; url = link target. */
static void line(struct ctx *c, enum label l, const char *v, int code, const char *url)
{
	char *s, *u = NULL;

	if (!v || !*v)
		return;
	s = clean(v, c->field_max, 0);
	if (is_web_url(url))
		u = clean(url, 2000, 0);
	switch (c->format) {
	case HH_NOTICE_HTML:
		hh_buf_printf(c->b, "\n<b>%s:</b> ", c->label[l]);
		if (u) {
			hh_buf_puts(c->b, "<a href=\"");
			put_html(c->b, u);
			hh_buf_puts(c->b, "\">");
		}
		hh_buf_puts(c->b, code ? "<code>" : "");
		put_html(c->b, s);
		hh_buf_puts(c->b, code ? "</code>" : "");
		hh_buf_puts(c->b, u ? "</a>" : "");
		break;
	case HH_NOTICE_MARKDOWN:
		/* Every outside value is a code span: no markup, mention or reference fires. */
		hh_buf_printf(c->b, "\n- **%s:** ", c->label[l]);
		put_md_code(c->b, s);
		if (u && !strpbrk(u, " <>()")) /* a link only when it cannot break out */
			hh_buf_printf(c->b, " ([link](%s))", u);
		break;
	default:
		hh_buf_printf(c->b, "\n%s: %s", c->label[l], s);
		if (u)
			hh_buf_printf(c->b, " (%s)", u);
		break;
	}
	free(u);
	free(s);
}

static void detail(struct ctx *c, const char *v, size_t max)
{
	char *s;
	size_t fence, i;

	if (!v || !*v || max == 0)
		return;
	s = clean(v, max, 1);
	switch (c->format) {
	case HH_NOTICE_HTML:
		hh_buf_printf(c->b, "\n<b>%s:</b>\n<pre>", c->label[L_DETAIL]);
		put_html(c->b, s);
		hh_buf_puts(c->b, "</pre>");
		break;
	case HH_NOTICE_MARKDOWN:
		fence = longest_run(s, '`') + 1;
		fence = fence < 3 ? 3 : fence;
		hh_buf_printf(c->b, "\n\n**%s:**\n\n", c->label[L_DETAIL]);
		for (i = 0; i < fence; i++)
			hh_buf_putc(c->b, '`');
		hh_buf_printf(c->b, "\n%s\n", s);
		for (i = 0; i < fence; i++)
			hh_buf_putc(c->b, '`');
		break;
	default: hh_buf_printf(c->b, "\n%s:\n%s", c->label[L_DETAIL], s); break;
	}
	free(s);
}

static char *build(const hh_notice *n, int zh, int format, size_t field_max, size_t detail_max)
{
	hh_buf b = HH_BUF_INIT;
	struct ctx c = {&b, format, zh ? label_zh : label_en, field_max};
	const char *title = (unsigned)n->outcome < HH_OUT_COUNT
				    ? (zh ? title_zh : title_en)[n->outcome]
				    : "healhook";
	char num[64], sha[16];

	if (format == HH_NOTICE_HTML)
		hh_buf_printf(&b, "<b>%s</b>", title);
	else if (format == HH_NOTICE_MARKDOWN)
		hh_buf_printf(&b, "**%s** (healhook)\n", title);
	else
		hh_buf_puts(&b, title);
	line(&c, L_REPO, n->repo, 0, NULL);
	line(&c, L_FILE, n->file, 1, NULL);
	line(&c, L_BRANCH, n->branch, 1, NULL);
	line(&c, L_TYPE, n->type, 0, NULL);
	line(&c, L_MESSAGE, n->message, 0, NULL);
	if (n->commit_sha && *n->commit_sha) {
		snprintf(sha, sizeof(sha), "%.7s", n->commit_sha);
		line(&c, L_COMMIT, sha, 1, n->commit_url);
	}
	if (n->revert_sha && *n->revert_sha) {
		snprintf(sha, sizeof(sha), "%.7s", n->revert_sha);
		line(&c, L_REVERT, sha, 1, NULL);
	}
	if (n->diff_lines > 0 || (n->diff_lines == 0 && n->outcome == HH_OUT_NO_DIFF)) {
		snprintf(num, sizeof(num), zh ? "%ld 行" : "%ld line%s", n->diff_lines,
			 n->diff_lines == 1 ? "" : "s");
		line(&c, L_DIFF, num, 0, NULL);
	}
	line(&c, L_REASON, n->reason, 0, NULL);
	if (n->pr_number > 0) {
		snprintf(num, sizeof(num), "#%ld", n->pr_number);
		line(&c, L_PR, num, 0, n->pr_url);
	} else if (is_web_url(n->pr_url)) {
		line(&c, L_PR, n->pr_url, 0, NULL);
	}
	if (n->job > 0) {
		snprintf(num, sizeof(num), "%lld", n->job);
		line(&c, L_JOB, num, 0, NULL);
	}
	detail(&c, n->detail, detail_max);
	return hh_buf_detach(&b);
}

char *hh_notice_text(const hh_notice *n, const char *lang, int format)
{
	int zh = lang && strcmp(lang, "zh-TW") == 0;
	size_t field_max = 300, detail_max = 1500;
	char *s;

	for (;;) {
		s = build(n, zh, format, field_max, detail_max);
		if (!s || utf8_count(s) <= HH_NOTIFY_MAX_TEXT || field_max <= 8)
			return s;
		free(s);
		if (detail_max > 100)
			detail_max = detail_max * 2 / 3;
		else if (detail_max > 0)
			detail_max = 0;
		else
			field_max /= 2;
	}
}
