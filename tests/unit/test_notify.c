/*
 * Unit tests of notify: the wording of every outcome in both languages, escaping of hostile
 * text for Telegram HTML and Gitea Markdown, the length cap, and the notifier's queue (NULL
 * notifier, overflow dropping the oldest without blocking, stop). Delivery over HTTP is tested
 * in tests/integration/test_notify.py.
 */
#include "tests/unit/t.h"

#include "internal/gitea.h"
#include "internal/log.h"
#include "internal/notify.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

static const char *const SHA = "0123456789abcdef0123456789abcdef01234567";

static hh_notice sample(enum hh_outcome o)
{
	hh_notice n = {0};

	n.outcome = o;
	n.job = 42;
	n.repo = "acme/shop-api";
	n.branch = "feature/x";
	n.file = "services/cart.py";
	n.type = "SyntaxError";
	n.message = "missing colon";
	n.reason = "the reason 17";
	n.detail = "line 3\nline 4";
	n.commit_sha = SHA;
	n.revert_sha = "fedcba9876543210fedcba9876543210fedcba98";
	n.pr_url = "https://gitea.example.com/acme/shop-api/pulls/7";
	n.commit_url = "https://gitea.example.com/acme/shop-api/commit/0123456";
	n.pr_number = 7;
	n.diff_lines = 3;
	return n;
}

/* Code points of a UTF-8 string. */
static size_t cps(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/* 1 if Telegram's HTML parser would take s: known tags only, balanced, & and < escaped. */
static int telegram_html_ok(const char *s)
{
	static const char *const tags[] = {"b", "i", "code", "pre", "a"};
	const char *stack[32];
	int depth = 0;

	while (*s) {
		if (*s == '&') {
			if (strncmp(s, "&lt;", 4) && strncmp(s, "&gt;", 4) &&
			    strncmp(s, "&amp;", 5) && strncmp(s, "&quot;", 6))
				return 0;
			s++;
			continue;
		}
		if (*s == '<') {
			int close = s[1] == '/';
			const char *name = s + 1 + close, *end = strchr(s, '>');
			size_t len = strcspn(name, " >"), i;
			if (!end)
				return 0;
			for (i = 0; i < 5; i++)
				if (strlen(tags[i]) == len && strncmp(name, tags[i], len) == 0)
					break;
			if (i == 5)
				return 0;
			if (close) {
				if (depth == 0 || strcmp(stack[depth - 1], tags[i]))
					return 0;
				depth--;
			} else {
				if (depth == 32)
					return 0;
				stack[depth++] = tags[i];
			}
			s = end + 1;
			continue;
		}
		if (*s == '>')
			return 0;
		s++;
	}
	return depth == 0;
}

TEST(notify_outcome_names)
{
	int i;

	for (i = 0; i < HH_OUT_COUNT; i++)
		CHECK(hh_outcome_parse(hh_outcome_name((enum hh_outcome)i)) == i);
	CHECK_STR(hh_outcome_name(HH_OUT_REVERT_FAILED), "revert_failed");
	CHECK(hh_outcome_parse("nope") == -1);
	CHECK(hh_outcome_parse(NULL) == -1);
	CHECK_STR(hh_outcome_name((enum hh_outcome)99), "unknown");
	CHECK_STR(hh_notice_status_state(HH_OUT_PUSHED), "pending");
	CHECK_STR(hh_notice_status_state(HH_OUT_HEALED), "success");
	CHECK_STR(hh_notice_status_state(HH_OUT_REVERTED), "failure");
	CHECK_STR(hh_notice_status_state(HH_OUT_REVERT_FAILED), "failure");
	CHECK_STR(hh_notice_status_state(HH_OUT_REVERT_UNHEALTHY), "failure");
	CHECK_STR(hh_outcome_name(HH_OUT_REVERT_UNHEALTHY), "revert_unhealthy");
	CHECK(hh_notice_status_state(HH_OUT_START) == NULL);
	CHECK(hh_notice_status_state(HH_OUT_PUSH_FAILED) == NULL);
}

TEST(notify_text_every_outcome_both_languages)
{
	const char *langs[] = {"en", "zh-TW"};
	char *titles[2][HH_OUT_COUNT] = {{0}};
	int i, j, l, f;

	for (l = 0; l < 2; l++) {
		for (i = 0; i < HH_OUT_COUNT; i++) {
			hh_notice n = sample((enum hh_outcome)i);
			for (f = 0; f < 3; f++) {
				char *t = hh_notice_text(&n, langs[l], f);
				REQUIRE(t);
				CHECK(strstr(t, "acme/shop-api"));
				CHECK(strstr(t, "services/cart.py"));
				CHECK(strstr(t, "feature/x"));
				CHECK(strstr(t, "0123456"));
				CHECK(!strstr(t, "01234567")); /* the short SHA, not the full one */
				CHECK(strstr(t, "fedcba9"));
				CHECK(strstr(t, l ? "3 行" : "3 lines"));
				CHECK(strstr(t, "the reason 17"));
				CHECK(strstr(t, "missing colon"));
				CHECK(strstr(t, "#7"));
				CHECK(strstr(t, "line 3\nline 4"));
				CHECK(strstr(t, l ? "儲存庫" : "Repository"));
				if (f == HH_NOTICE_HTML) {
					CHECK(telegram_html_ok(t));
					CHECK(strstr(t, "href=\"https://gitea.example.com/acme/"
							"shop-api/pulls/7\""));
				}
				if (f == HH_NOTICE_PLAIN) {
					titles[l][i] = hh_strndup(t, strcspn(t, "\n"));
				}
				free(t);
			}
		}
	}
	/* Every outcome has its own title in each language, and the languages differ. */
	for (l = 0; l < 2; l++)
		for (i = 0; i < HH_OUT_COUNT; i++)
			for (j = i + 1; j < HH_OUT_COUNT; j++)
				CHECK(strcmp(titles[l][i], titles[l][j]) != 0);
	for (i = 0; i < HH_OUT_COUNT; i++)
		CHECK(strcmp(titles[0][i], titles[1][i]) != 0);
	CHECK(strstr(titles[1][HH_OUT_HEALED], "✅ 自動修復成功"));
	CHECK(strstr(titles[1][HH_OUT_REVERTED], "⏪ 已自動回滾"));
	CHECK(strstr(titles[1][HH_OUT_REVERT_FAILED], "🚨 回滾失敗"));
	CHECK(strstr(titles[0][HH_OUT_HEALED], "Healed"));
	CHECK(strstr(titles[0][HH_OUT_REVERTED], "Reverted"));
	/* Issue 15: a landed revert with health still failing is not "Revert failed". */
	CHECK(strstr(titles[0][HH_OUT_REVERT_UNHEALTHY], "Reverted, but health is still failing"));
	CHECK(!strstr(titles[0][HH_OUT_REVERT_UNHEALTHY], "Revert failed"));
	CHECK(strstr(titles[1][HH_OUT_REVERT_UNHEALTHY], "已回滾，但健康檢查仍然失敗"));
	CHECK(!strstr(titles[1][HH_OUT_REVERT_UNHEALTHY], "回滾失敗"));
	for (l = 0; l < 2; l++)
		for (i = 0; i < HH_OUT_COUNT; i++)
			free(titles[l][i]);
}

TEST(notify_text_unknown_lang_is_english_and_sparse_notice)
{
	hh_notice n = {.outcome = HH_OUT_BUDGET, .repo = "a/b", .diff_lines = -1};
	char *t = hh_notice_text(&n, "fr", HH_NOTICE_HTML);

	REQUIRE(t);
	CHECK(strstr(t, "budget"));
	CHECK(strstr(t, "a/b"));
	CHECK(!strstr(t, "File"));
	CHECK(!strstr(t, "Diff"));
	CHECK(!strstr(t, "Job"));
	CHECK(telegram_html_ok(t));
	free(t);
}

TEST(notify_text_html_escapes_hostile_text)
{
	hh_notice n = sample(HH_OUT_CHECK_FAILED);
	char *t;

	n.file = "services/<script>alert(\"x\")</script>&.py";
	n.message = "a < b && c > d \"quoted\" <b>bold</b>";
	n.reason = "&amp; raw";
	n.detail = "Traceback <module>\n  x = 1 & 2";
	n.pr_url = "https://gitea.example.com/a?x=1&y=\"><script>";
	t = hh_notice_text(&n, "en", HH_NOTICE_HTML);
	REQUIRE(t);
	CHECK(!strstr(t, "<script>"));
	CHECK(strstr(t, "services/&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;.py"));
	CHECK(strstr(t, "a &lt; b &amp;&amp; c &gt; d &quot;quoted&quot; &lt;b&gt;bold&lt;/b&gt;"));
	CHECK(strstr(t, "&amp;amp; raw"));
	CHECK(strstr(t, "Traceback &lt;module&gt;\n  x = 1 &amp; 2"));
	CHECK(strstr(t, "href=\"https://gitea.example.com/a?x=1&amp;y=&quot;&gt;&lt;script&gt;\""));
	CHECK(telegram_html_ok(t));
	free(t);
	/* A link that is not http(s) is not a link. */
	n = sample(HH_OUT_HEALED);
	n.commit_url = "javascript:alert(1)";
	t = hh_notice_text(&n, "en", HH_NOTICE_HTML);
	REQUIRE(t);
	CHECK(!strstr(t, "javascript"));
	free(t);
}

TEST(notify_text_markdown_neutralises_mentions_and_fences)
{
	hh_notice n = sample(HH_OUT_REVERTED);
	char *t;

	n.message = "ping @admin see #12 `code`";
	n.detail = "``` breaks out?\n@admin";
	t = hh_notice_text(&n, "en", HH_NOTICE_MARKDOWN);
	REQUIRE(t);
	/* Inline values are code spans with a longer fence than any backtick run inside. */
	CHECK(strstr(t, "`` ping @admin see #12 `code` ``"));
	CHECK(strstr(t, "`services/cart.py`"));
	/* The detail's fence is longer than its longest backtick run. */
	CHECK(strstr(t, "````\n``` breaks out?\n@admin\n````"));
	free(t);
}

TEST(notify_text_cleans_control_and_invalid_utf8)
{
	hh_notice n = sample(HH_OUT_FIX_FAILED);
	char *t;

	n.file = "services/a\nb\x01\xff.py";
	t = hh_notice_text(&n, "en", HH_NOTICE_PLAIN);
	REQUIRE(t);
	CHECK(strstr(t, "services/a b \xef\xbf\xbd.py"));
	free(t);
}

TEST(notify_text_long_detail_is_cut)
{
	hh_notice n = sample(HH_OUT_CHECK_FAILED);
	char *big = malloc(20001), *t;
	int f;

	REQUIRE(big);
	memset(big, '<', 20000);
	big[20000] = '\0';
	n.detail = big;
	for (f = 0; f < 3; f++) {
		t = hh_notice_text(&n, "zh-TW", f);
		REQUIRE(t);
		CHECK(cps(t) <= HH_NOTIFY_MAX_TEXT);
		CHECK(strstr(t, "…"));
		CHECK(strstr(t, "services/cart.py")); /* the facts survive, the detail is cut */
		if (f == HH_NOTICE_HTML)
			CHECK(telegram_html_ok(t));
		free(t);
	}
	/* Every field hostile and huge: still under the cap, still valid HTML. */
	n.file = n.message = n.reason = n.branch = n.type = n.repo = big;
	t = hh_notice_text(&n, "en", HH_NOTICE_HTML);
	REQUIRE(t);
	CHECK(cps(t) <= HH_NOTIFY_MAX_TEXT);
	CHECK(telegram_html_ok(t));
	free(t);
	free(big);
}

TEST(notify_null_notifier_is_noop)
{
	hh_notice n = sample(HH_OUT_START);
	hh_notifier_stats st;

	hh_notify(NULL, &n);
	hh_notifier_stats_get(NULL, &st);
	CHECK(st.queued == 0 && st.sent == 0);
	CHECK(hh_notifier_stop(NULL, 100) == 0);
}

struct held {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int entered, release;
	long long seen[64];
	int nseen;
};

static void hold_sink(void *ud, const hh_notice *n)
{
	struct held *h = ud;

	pthread_mutex_lock(&h->mu);
	if (h->nseen < 64)
		h->seen[h->nseen++] = n->job;
	h->entered = 1;
	pthread_cond_broadcast(&h->cv);
	while (!h->release)
		pthread_cond_wait(&h->cv, &h->mu);
	pthread_mutex_unlock(&h->mu);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

TEST(notify_queue_overflow_drops_oldest_without_blocking)
{
	struct held h = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, {0}, 0};
	hh_notifier_opts o = {.queue_cap = 4, .sink = hold_sink, .sink_ud = &h};
	hh_config cfg = {0};
	hh_notifier_stats st;
	hh_notifier *nf;
	hh_notice n = sample(HH_OUT_START);
	double t0, took;
	int i;

	cfg.lang = "en";
	REQUIRE(hh_notifier_start_opts(&nf, &cfg, &o) == 0);
	n.job = 1;
	hh_notify(nf, &n);
	pthread_mutex_lock(&h.mu);
	while (!h.entered)
		pthread_cond_wait(&h.cv, &h.mu);
	pthread_mutex_unlock(&h.mu);
	/* The thread holds job 1; 10 more into a queue of 4. */
	t0 = now_s();
	for (i = 2; i <= 11; i++) {
		n.job = i;
		hh_notify(nf, &n);
	}
	took = now_s() - t0;
	CHECK(took < 0.5);
	hh_notifier_stats_get(nf, &st);
	CHECK(st.queued == 11);
	CHECK(st.dropped == 6);
	pthread_mutex_lock(&h.mu);
	h.release = 1;
	pthread_cond_broadcast(&h.cv);
	pthread_mutex_unlock(&h.mu);
	CHECK(hh_notifier_stop(nf, 2000) == 0);
	REQUIRE(h.nseen == 5);
	CHECK(h.seen[0] == 1);
	for (i = 1; i < 5; i++)
		CHECK(h.seen[i] == 7 + i); /* 8, 9, 10, 11: the oldest were dropped */
}

TEST(notify_stop_is_prompt_with_nothing_configured)
{
	hh_config cfg = {0};
	hh_notifier *nf;
	hh_notice n = sample(HH_OUT_HEALED);
	hh_notifier_stats st;
	double t0;
	int i;

	REQUIRE(hh_notifier_start(&nf, &cfg) == 0);
	for (i = 0; i < 100; i++)
		hh_notify(nf, &n);
	hh_notifier_stats_get(nf, &st);
	CHECK(st.queued == 100);
	t0 = now_s();
	CHECK(hh_notifier_stop(nf, 1000) == 0);
	CHECK(now_s() - t0 < 1.0);
}

TEST(notify_stop_gives_up_on_a_hanging_sink)
{
	struct held h = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, {0}, 0};
	hh_notifier_opts o = {.sink = hold_sink, .sink_ud = &h};
	hh_config cfg = {0};
	hh_notifier *nf;
	hh_notice n = sample(HH_OUT_HEALED);
	double t0, took;

	REQUIRE(hh_notifier_start_opts(&nf, &cfg, &o) == 0);
	hh_notify(nf, &n);
	hh_notify(nf, &n);
	t0 = now_s();
	CHECK(hh_notifier_stop(nf, 300) == -1);
	took = now_s() - t0;
	CHECK(took >= 0.25 && took < 1.0);
	/* Let the left-behind thread end (it frees the notifier). */
	pthread_mutex_lock(&h.mu);
	h.release = 1;
	pthread_cond_broadcast(&h.cv);
	pthread_mutex_unlock(&h.mu);
	{
		struct timespec ts = {0, 200 * 1000000L};
		nanosleep(&ts, NULL);
	}
}

TEST(gitea_write_back_checks_arguments)
{
	hh_gitea g = {"http://127.0.0.1:9", "t", 1};

	CHECK(hh_gitea_comment(&g, "../etc", 1, "x") == -1);
	CHECK(hh_gitea_comment(&g, "a/b/c", 1, "x") == -1);
	CHECK(hh_gitea_comment(&g, "a/..", 1, "x") == -1);
	CHECK(hh_gitea_comment(&g, "a/b", 0, "x") == -1);
	CHECK(hh_gitea_comment(&g, "a/b", 1, "") == -1);
	CHECK(hh_gitea_status(&g, "a/b", "../../x", "success", NULL, NULL) == -1);
	CHECK(hh_gitea_status(&g, "a/b", SHA, "great", NULL, NULL) == -1);
	CHECK(strstr(hh_error_last(), "great"));
	/* Valid arguments reach the network: a closed port is an error a retry may fix. */
	CHECK(hh_gitea_status(&g, "acme/.github", SHA, "success", NULL, NULL) == HH_EAGAIN);
	CHECK(hh_gitea_comment(&g, "a/b", 1, "x") == HH_EAGAIN);
}
