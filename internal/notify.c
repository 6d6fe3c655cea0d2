/*
 * notify: the notifier's queue, its thread and the deliveries with retries. See notify.h.
 *
 * hh_notify() deep-copies the notice outside the lock and pushes it on a ring buffer under a
 * mutex; when the ring is full the oldest notice is dropped. The thread pops one notice at a
 * time and runs its deliveries (one per Telegram chat, the Gitea comment, the Gitea status)
 * one after the other, so notices arrive in order. Waits between attempts are timed waits on
 * the same condition variable, so hh_notifier_stop() wakes them; once its grace has elapsed
 * every wait and every request is cut short, and stop itself returns even if a request does
 * not (the thread then frees the notifier when it ends). The notifier keeps its own copies of
 * the settings it needs, so nothing it uses is freed under it. The bot token lives only in
 * the request URL, which is wiped after use and redacted in every error (http.c).
 */
#include "internal/notify.h"
#include "internal/buf.h"
#include "internal/gitea.h"
#include "internal/http.h"
#include "internal/log.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_RETRY_AFTER_MS 300000L /* a longer retry_after is not waited for */

struct item {
	hh_notice n;
	char *s[11]; /* the owned strings of n */
};

struct hh_notifier {
	pthread_mutex_t mu;
	pthread_cond_t wake;  /* a notice arrived or stop was called */
	pthread_cond_t ended; /* the thread is done */
	pthread_t thread;
	struct item **q;
	size_t cap, head, count;
	int stopping, done, detached;
	int64_t deadline; /* monotonic ms; valid when stopping */
	hh_notifier_stats st;
	unsigned long abandoned;
	/* settings (copies) */
	char *tg_api, *tg_token, *gitea_url, *gitea_token, *lang;
	hh_strv chats;
	long gitea_timeout;
	int gitea_comment;
	long backoff_ms;
	void (*sink)(void *, const hh_notice *);
	void *sink_ud;
	char *state_dir;        /* deliveries are recorded in this store (status pages) */
	struct hh_store *store; /* the thread's handle on it, opened when first needed */
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct timespec abs_ts(int64_t ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
	return ts;
}

static void item_free(struct item *it)
{
	size_t i;

	if (!it)
		return;
	for (i = 0; i < sizeof(it->s) / sizeof(it->s[0]); i++)
		free(it->s[i]);
	free(it);
}

static struct item *item_copy(const hh_notice *src)
{
	struct item *it = calloc(1, sizeof(*it));
	const char **fields[11];
	size_t i;

	if (!it)
		return NULL;
	it->n = *src;
	fields[0] = &it->n.repo;
	fields[1] = &it->n.branch;
	fields[2] = &it->n.file;
	fields[3] = &it->n.type;
	fields[4] = &it->n.message;
	fields[5] = &it->n.reason;
	fields[6] = &it->n.detail;
	fields[7] = &it->n.commit_sha;
	fields[8] = &it->n.revert_sha;
	fields[9] = &it->n.pr_url;
	fields[10] = &it->n.commit_url;
	for (i = 0; i < 11; i++) {
		if (!*fields[i])
			continue;
		it->s[i] = hh_strdup(*fields[i]);
		if (!it->s[i]) {
			item_free(it);
			return NULL;
		}
		*fields[i] = it->s[i];
	}
	return it;
}

static void notifier_free(hh_notifier *n)
{
	size_t i;

	for (i = 0; i < n->count; i++)
		item_free(n->q[(n->head + i) % n->cap]);
	free(n->q);
	free(n->tg_api);
	if (n->tg_token) {
		explicit_bzero(n->tg_token, strlen(n->tg_token));
		free(n->tg_token);
	}
	free(n->gitea_url);
	if (n->gitea_token) {
		explicit_bzero(n->gitea_token, strlen(n->gitea_token));
		free(n->gitea_token);
	}
	free(n->lang);
	free(n->state_dir);
	hh_strv_release(&n->chats);
	pthread_mutex_destroy(&n->mu);
	pthread_cond_destroy(&n->wake);
	pthread_cond_destroy(&n->ended);
	free(n);
}

static int telegram_on(const hh_notifier *n)
{
	return n->tg_token && *n->tg_token && n->tg_api && *n->tg_api && n->chats.n > 0;
}

static int gitea_on(const hh_notifier *n)
{
	return n->gitea_url && *n->gitea_url && n->gitea_token && *n->gitea_token;
}

/* Milliseconds a request may take now: its normal limit, or what is left of stop's grace. */
static long request_budget(hh_notifier *n, long normal)
{
	long left = normal;

	pthread_mutex_lock(&n->mu);
	if (n->stopping) {
		int64_t l = n->deadline - now_ms();
		left = l < normal ? (long)l : normal;
	}
	pthread_mutex_unlock(&n->mu);
	return left;
}

/* Waits until the monotonic time at. Returns 0, or -1 when stop's grace ends first. */
static int pause_until(hh_notifier *n, int64_t at)
{
	int rc = 0;

	pthread_mutex_lock(&n->mu);
	for (;;) {
		int64_t t = now_ms(), until = at;
		struct timespec ts;
		if (n->stopping && t >= n->deadline) {
			rc = -1;
			break;
		}
		if (t >= at)
			break;
		if (n->stopping && n->deadline < until)
			until = n->deadline;
		ts = abs_ts(until);
		pthread_cond_timedwait(&n->wake, &n->mu, &ts);
	}
	pthread_mutex_unlock(&n->mu);
	return rc;
}

/*
 * One attempt of a delivery. Returns 0 on success, HH_EAGAIN when a retry may help (then
 * *retry_after_ms may be set from the answer), HH_ERR when it will not; the error is set.
 */
typedef int (*try_fn)(hh_notifier *n, const void *arg, long timeout_ms, long *retry_after_ms);

struct tg_arg {
	const char *chat;
	const char *text;
};

static int try_telegram(hh_notifier *n, const void *varg, long timeout_ms, long *retry_after_ms)
{
	const struct tg_arg *a = varg;
	static const char *const hdrs[] = {"Content-Type: application/json", NULL};
	hh_http_req req = {0};
	hh_http_resp resp = {0};
	hh_buf body = HH_BUF_INIT;
	size_t alen = strlen(n->tg_api);
	char *url;
	cJSON *j = NULL;
	const cJSON *v;
	int rc = -1;

	while (alen && n->tg_api[alen - 1] == '/')
		alen--;
	url = hh_asprintf("%.*s/bot%s/sendMessage", (int)alen, n->tg_api, n->tg_token);
	hh_buf_puts(&body, "{\"chat_id\":\"");
	hh_buf_put_json_str(&body, a->chat);
	hh_buf_puts(&body, "\",\"text\":\"");
	hh_buf_put_json_str(&body, a->text);
	hh_buf_puts(&body, "\",\"parse_mode\":\"HTML\",\"disable_web_page_preview\":true}");
	if (!url || !body.ptr) {
		hh_error("telegram chat %s: out of memory", a->chat);
		goto out;
	}
	req.method = "POST";
	req.url = url;
	req.headers = hdrs;
	req.body = body.ptr;
	req.body_len = body.len;
	req.timeout_ms = timeout_ms;
	req.connect_timeout_ms = timeout_ms < 5000 ? timeout_ms : 5000;
	req.max_response = 64 * 1024;
	if (hh_http_do(&req, &resp) < 0) {
		char why[512];
		snprintf(why, sizeof(why), "%s", hh_error_last());
		rc = hh_fail(HH_EAGAIN, "telegram chat %s: %s", a->chat, why);
		goto out;
	}
	j = cJSON_ParseWithLength(resp.body.ptr, resp.body.len);
	if (resp.status >= 200 && resp.status < 300) {
		v = cJSON_GetObjectItemCaseSensitive(j, "ok");
		if (!j || cJSON_IsTrue(v)) {
			rc = 0;
			goto out;
		}
	}
	v = cJSON_GetObjectItemCaseSensitive(j, "description");
	rc = hh_fail(resp.status == 429 || resp.status >= 500 ? HH_EAGAIN : HH_ERR,
		     "telegram chat %s: sendMessage answered %ld%s%.200s", a->chat, resp.status,
		     cJSON_IsString(v) ? ": " : "", cJSON_IsString(v) ? v->valuestring : "");
	if (resp.status == 429) {
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(j, "parameters");
		const cJSON *ra = cJSON_GetObjectItemCaseSensitive(p, "retry_after");
		if (cJSON_IsNumber(ra) && ra->valuedouble > 0)
			*retry_after_ms = (long)(ra->valuedouble * 1000);
		else if (resp.retry_after > 0)
			*retry_after_ms = resp.retry_after * 1000;
	}
out:
	cJSON_Delete(j);
	hh_http_resp_release(&resp);
	hh_buf_release(&body);
	if (url) {
		explicit_bzero(url, strlen(url));
		free(url);
	}
	return rc;
}

struct gitea_arg {
	const hh_notice *n;
	const char *body;  /* comment: the Markdown text; status: the description */
	const char *state; /* status only */
};

static void gitea_client(hh_notifier *n, long timeout_ms, hh_gitea *g)
{
	long s = (timeout_ms + 999) / 1000;

	g->url = n->gitea_url;
	g->token = n->gitea_token;
	g->timeout_s = s < n->gitea_timeout || n->gitea_timeout <= 0 ? s : n->gitea_timeout;
}

static int try_comment(hh_notifier *n, const void *varg, long timeout_ms, long *retry_after_ms)
{
	const struct gitea_arg *a = varg;
	hh_gitea g;
	int rc;

	(void)retry_after_ms;
	gitea_client(n, timeout_ms, &g);
	rc = hh_gitea_comment(&g, a->n->repo, a->n->pr_number, a->body);
	return rc == 0 || rc == HH_EAGAIN ? rc : HH_ERR;
}

static int try_status(hh_notifier *n, const void *varg, long timeout_ms, long *retry_after_ms)
{
	const struct gitea_arg *a = varg;
	const char *target = a->n->commit_url ? a->n->commit_url : a->n->pr_url;
	hh_gitea g;
	int rc;

	(void)retry_after_ms;
	gitea_client(n, timeout_ms, &g);
	rc = hh_gitea_status(&g, a->n->repo, a->n->commit_sha, a->state, a->body, target);
	return rc == 0 || rc == HH_EAGAIN ? rc : HH_ERR;
}

static void count(hh_notifier *n, int ok)
{
	pthread_mutex_lock(&n->mu);
	if (ok)
		n->st.sent++;
	else
		n->st.failed++;
	pthread_mutex_unlock(&n->mu);
}

/* A delivery given up because stop's grace elapsed. */
static void cut_short(hh_notifier *n)
{
	pthread_mutex_lock(&n->mu);
	n->abandoned++;
	pthread_mutex_unlock(&n->mu);
}

/* Runs one delivery with retries and backoff; logs the outcome (what names it, no secret). */
static void deliver(hh_notifier *n, const hh_notice *notice, const char *what, try_fn fn,
		    const void *arg)
{
	long backoff = n->backoff_ms, wait, budget;
	char job[32], att[16], ms[32], last[512] = "";
	int i, rc, tried = 0;

	snprintf(job, sizeof(job), "%lld", notice->job);
	for (i = 1;; i++) {
		long retry_after = 0;
		budget = request_budget(n, 10000);
		if (budget <= 0) {
			hh_error("%s: grace elapsed while stopping%s%s", what, *last ? "; " : "",
				 last);
			cut_short(n);
			break;
		}
		rc = fn(n, arg, budget, &retry_after);
		tried = i;
		if (rc == 0) {
			count(n, 1);
			hh_notify_record(&n->store, n->state_dir, notice, what, 1, tried, NULL);
			snprintf(att, sizeof(att), "%d", tried);
			hh_log(HH_LOG_INFO, "notify.sent", "to", what, "outcome",
			       hh_outcome_name(notice->outcome), "job", job, "attempts", att, NULL);
			return;
		}
		if (rc != HH_EAGAIN || i >= HH_NOTIFY_ATTEMPTS)
			break;
		snprintf(last, sizeof(last), "%s", hh_error_last());
		wait = retry_after > 0 ? retry_after : backoff;
		if (wait > MAX_RETRY_AFTER_MS)
			wait = MAX_RETRY_AFTER_MS;
		backoff *= 2;
		snprintf(att, sizeof(att), "%d", tried);
		snprintf(ms, sizeof(ms), "%ld", wait);
		hh_log(HH_LOG_WARN, "notify.retry", "to", what, "outcome",
		       hh_outcome_name(notice->outcome), "job", job, "attempt", att, "wait_ms", ms,
		       "error", last, NULL);
		if (pause_until(n, now_ms() + wait) < 0) {
			hh_error("%s: grace elapsed while stopping; %s", what, last);
			cut_short(n);
			break;
		}
	}
	count(n, 0);
	snprintf(att, sizeof(att), "%d", tried);
	hh_log(HH_LOG_ERROR, "notify.gave_up", "to", what, "outcome",
	       hh_outcome_name(notice->outcome), "job", job, "attempts", att, "error",
	       hh_error_last(), "msg", "gave up on this notification", NULL);
	hh_notify_record(&n->store, n->state_dir, notice, what, 0, tried, hh_error_last());
}

static void handle(hh_notifier *n, const hh_notice *notice)
{
	char *text = NULL, what[160];
	size_t i;

	if (n->sink)
		n->sink(n->sink_ud, notice);
	if (telegram_on(n)) {
		text = hh_notice_text(notice, n->lang, HH_NOTICE_HTML);
		for (i = 0; text && i < n->chats.n; i++) {
			struct tg_arg a = {n->chats.v[i], text};
			snprintf(what, sizeof(what), "telegram chat %.100s", n->chats.v[i]);
			deliver(n, notice, what, try_telegram, &a);
		}
		free(text);
		text = NULL;
	}
	if (!gitea_on(n) || !notice->repo)
		return;
	if (n->gitea_comment && notice->pr_number > 0 && notice->outcome != HH_OUT_START) {
		text = hh_notice_text(notice, n->lang, HH_NOTICE_MARKDOWN);
		if (text) {
			struct gitea_arg a = {notice, text, NULL};
			snprintf(what, sizeof(what), "gitea comment %.100s#%ld", notice->repo,
				 notice->pr_number);
			deliver(n, notice, what, try_comment, &a);
		}
		free(text);
		text = NULL;
	}
	if (hh_notice_status_state(notice->outcome) && notice->commit_sha && *notice->commit_sha) {
		hh_notice title = {.outcome = notice->outcome, .diff_lines = -1};
		struct gitea_arg a = {notice, NULL, hh_notice_status_state(notice->outcome)};
		text = hh_notice_text(&title, n->lang, HH_NOTICE_PLAIN);
		a.body = text;
		snprintf(what, sizeof(what), "gitea status %.100s@%.12s", notice->repo,
			 notice->commit_sha);
		deliver(n, notice, what, try_status, &a);
		free(text);
	}
}

static void *run(void *arg)
{
	hh_notifier *n = arg;
	struct item *it;
	int detached;

	pthread_mutex_lock(&n->mu);
	for (;;) {
		while (n->count == 0 && !n->stopping)
			pthread_cond_wait(&n->wake, &n->mu);
		if (n->count == 0)
			break;
		if (n->stopping && now_ms() >= n->deadline) {
			char left[32];
			snprintf(left, sizeof(left), "%zu", n->count);
			n->abandoned += n->count;
			hh_log(HH_LOG_ERROR, "notify.gave_up", "pending", left, "msg",
			       "gave up on queued notifications: grace elapsed while stopping",
			       NULL);
			while (n->count) {
				item_free(n->q[n->head]);
				n->head = (n->head + 1) % n->cap;
				n->count--;
			}
			break;
		}
		it = n->q[n->head];
		n->head = (n->head + 1) % n->cap;
		n->count--;
		pthread_mutex_unlock(&n->mu);
		handle(n, &it->n);
		item_free(it);
		pthread_mutex_lock(&n->mu);
	}
	hh_notify_record_close(&n->store);
	n->done = 1;
	detached = n->detached;
	pthread_cond_broadcast(&n->ended);
	pthread_mutex_unlock(&n->mu);
	if (detached)
		notifier_free(n);
	return NULL;
}

int hh_notifier_start(hh_notifier **out, const hh_config *cfg)
{
	return hh_notifier_start_opts(out, cfg, NULL);
}

static int copy_opt(char **dst, const char *src)
{
	if (!src)
		return 0;
	*dst = hh_strdup(src);
	return *dst ? 0 : -1;
}

int hh_notifier_start_opts(hh_notifier **out, const hh_config *cfg, const hh_notifier_opts *opts)
{
	hh_notifier *n = calloc(1, sizeof(*n));
	pthread_condattr_t ca;
	size_t i;
	int err;

	*out = NULL;
	if (!n)
		return hh_error("cannot start the notifier: out of memory");
	n->cap = opts && opts->queue_cap ? opts->queue_cap : HH_NOTIFY_QUEUE;
	n->backoff_ms = opts && opts->backoff_ms > 0 ? opts->backoff_ms : 1000;
	n->sink = opts ? opts->sink : NULL;
	n->sink_ud = opts ? opts->sink_ud : NULL;
	n->q = calloc(n->cap, sizeof(*n->q));
	pthread_mutex_init(&n->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&n->wake, &ca);
	pthread_cond_init(&n->ended, &ca);
	pthread_condattr_destroy(&ca);
	n->gitea_timeout = cfg->gitea_timeout;
	n->gitea_comment = cfg->gitea_comment;
	if (!n->q || copy_opt(&n->tg_api, cfg->telegram_api) < 0 ||
	    copy_opt(&n->tg_token, cfg->telegram_token) < 0 ||
	    copy_opt(&n->gitea_url, cfg->gitea_url) < 0 ||
	    copy_opt(&n->gitea_token, cfg->gitea_token) < 0 ||
	    copy_opt(&n->lang, cfg->lang ? cfg->lang : "en") < 0 ||
	    copy_opt(&n->state_dir, cfg->state_dir) < 0)
		goto oom;
	for (i = 0; i < cfg->telegram_chats.n; i++)
		if (hh_strv_push(&n->chats, cfg->telegram_chats.v[i]) < 0)
			goto oom;
	if (n->tg_token && *n->tg_token && n->chats.n == 0)
		hh_log(HH_LOG_WARN, "notify.telegram_off", "msg",
		       "notify.telegram-token is set but no notify.telegram-chat", NULL);
	err = pthread_create(&n->thread, NULL, run, n);
	if (err) {
		notifier_free(n);
		return hh_error("cannot start the notifier thread: %s", strerror(err));
	}
	*out = n;
	return 0;
oom:
	notifier_free(n);
	return hh_error("cannot start the notifier: out of memory");
}

void hh_notify(hh_notifier *n, const hh_notice *notice)
{
	struct item *it, *old = NULL;
	char job[32];

	if (!n || !notice)
		return;
	it = item_copy(notice);
	if (!it) {
		hh_log(HH_LOG_ERROR, "notify.dropped", "outcome", hh_outcome_name(notice->outcome),
		       "msg", "out of memory", NULL);
		return;
	}
	pthread_mutex_lock(&n->mu);
	if (n->stopping) {
		pthread_mutex_unlock(&n->mu);
		item_free(it);
		hh_log(HH_LOG_WARN, "notify.dropped", "outcome", hh_outcome_name(notice->outcome),
		       "msg", "notifier is stopping", NULL);
		return;
	}
	if (n->count == n->cap) {
		old = n->q[n->head];
		n->head = (n->head + 1) % n->cap;
		n->count--;
		n->st.dropped++;
	}
	n->q[(n->head + n->count) % n->cap] = it;
	n->count++;
	n->st.queued++;
	pthread_cond_broadcast(&n->wake);
	pthread_mutex_unlock(&n->mu);
	if (old) {
		snprintf(job, sizeof(job), "%lld", old->n.job);
		hh_log(HH_LOG_WARN, "notify.dropped", "outcome", hh_outcome_name(old->n.outcome),
		       "job", job, "msg", "notification queue full: dropped the oldest", NULL);
		item_free(old);
	}
}

void hh_notifier_stats_get(const hh_notifier *n, hh_notifier_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (!n)
		return;
	pthread_mutex_lock((pthread_mutex_t *)&n->mu);
	*out = n->st;
	pthread_mutex_unlock((pthread_mutex_t *)&n->mu);
}

int hh_notifier_stop(hh_notifier *n, long grace_ms)
{
	return hh_notifier_stop_stats(n, grace_ms, NULL);
}

int hh_notifier_stop_stats(hh_notifier *n, long grace_ms, hh_notifier_stats *out)
{
	struct timespec ts;
	char left[32];
	int rc = 0;

	if (out)
		memset(out, 0, sizeof(*out));
	if (!n)
		return 0;
	pthread_mutex_lock(&n->mu);
	n->stopping = 1;
	n->deadline = now_ms() + (grace_ms > 0 ? grace_ms : 0);
	pthread_cond_broadcast(&n->wake);
	/* A little slack so that the thread can log what it gave up at the deadline. */
	ts = abs_ts(n->deadline + 100);
	while (!n->done) {
		if (pthread_cond_timedwait(&n->ended, &n->mu, &ts) == ETIMEDOUT)
			break;
	}
	if (out)
		*out = n->st;
	if (n->done) {
		rc = n->abandoned ? -1 : 0;
		pthread_mutex_unlock(&n->mu);
		pthread_join(n->thread, NULL);
		notifier_free(n);
		return rc;
	}
	/* The thread is stuck in a request: leave it; it frees the notifier when it ends. */
	snprintf(left, sizeof(left), "%zu", n->count + 1);
	n->detached = 1;
	pthread_mutex_unlock(&n->mu);
	pthread_detach(n->thread);
	hh_log(HH_LOG_ERROR, "notify.gave_up", "pending", left, "msg",
	       "gave up on notifications still being sent: grace elapsed while stopping", NULL);
	return -1;
}
