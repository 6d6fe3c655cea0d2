/*
 * intake: from raw delivery bytes to durable jobs. See intake.h for the flow.
 *
 * The order of checks is the security boundary: nothing of the body is parsed before the
 * signature (over the exact payload bytes) and the Authorization header have been checked.
 */
#include "webhook/intake.h"
#include "internal/gitea.h"
#include "internal/guard.h"
#include "internal/log.h"
#include "webhook/form.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DUPLICATE_WINDOW (24 * 3600)

/* A step of hh_intake_process returns NEXT to go on, DONE when res holds the answer, or < 0
 * when it does and the delivery failed (500 or 503: nothing acknowledged). */
enum { NEXT = 0, DONE = 1 };

static void set_status(hh_intake_result *res, int status, const char *msg)
{
	res->status = status;
	free(res->error);
	res->error = msg ? hh_strdup(msg) : NULL;
}

static const char *target_branch(const hh_repo_config *repo, const hh_event *ev)
{
	const char *def = repo && repo->branch                        ? repo->branch
			  : ev->default_branch && *ev->default_branch ? ev->default_branch
								      : "main";
	int open_pr = ev->pr_number > 0 && ev->pr_state && strcmp(ev->pr_state, "open") == 0 &&
		      !ev->pr_merged && ev->head_ref && *ev->head_ref;

	if (!repo || repo->target == HH_TARGET_DEFAULT_BRANCH)
		return def;
	if (repo->target == HH_TARGET_PR_HEAD)
		return ev->head_ref && *ev->head_ref ? ev->head_ref : def;
	return open_pr ? ev->head_ref : def;
}

static int event_enabled(const hh_repo_config *repo, const char *event)
{
	return !repo || repo->events.n == 0 || hh_strv_contains(&repo->events, event);
}

/*
 * Headers that decide how a delivery is read and trusted may appear once: with two signatures,
 * event types, delivery ids or content types, which one counts would depend on the parser (a
 * proxy in front may take the last where we take the first). Gitea sends each once.
 */
static const char *duplicate_header(const hh_headers *h)
{
	static const char *const once[] = {
		"Content-Type",
		"X-Gitea-Signature",
		"X-Gogs-Signature",
		"X-Hub-Signature",
		"X-Hub-Signature-256",
		"X-Gitea-Event-Type",
		"X-Gogs-Event-Type",
		"X-Gitea-Event",
		"X-Gitea-Delivery",
		"Authorization",
		NULL,
	};
	size_t i, k;
	int n;

	for (k = 0; once[k]; k++) {
		for (i = 0, n = 0; i < h->n; i++)
			n += strcasecmp(h->v[i].name, once[k]) == 0;
		if (n > 1)
			return once[k];
	}
	return NULL;
}

/* 1 when a signature header hh_sig_check() would use or judge is present (its MISSING verdict
 * is exactly "none of these"). */
static int sig_header_given(const hh_headers *h)
{
	const char *g = hh_headers_get(h, "X-Gitea-Signature");
	const char *hub = hh_headers_get(h, "X-Hub-Signature-256");

	return (g && *g) || (hub && *hub && strcmp(hub, "sha256=") != 0);
}

/* 1 if the media type of Content-Type ct (before any ';' parameters, blanks trimmed) is
 * exactly type, case-insensitively: "application/jsonfoo" is not "application/json". */
static int media_type_is(const char *ct, const char *type)
{
	size_t n = strcspn(ct, ";");

	while (*ct == ' ' || *ct == '\t')
		ct++, n--;
	while (n && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
		n--;
	return n == strlen(type) && strncasecmp(ct, type, n) == 0;
}

/* Appends the payload (the JSON bytes that are signed) of a delivery to out. */
static int extract_payload(const hh_headers *h, const void *body, size_t len, hh_buf *out,
			   int *form)
{
	const char *ct = hh_headers_get(h, "Content-Type");

	*form = 0;
	if (ct && media_type_is(ct, "application/x-www-form-urlencoded")) {
		*form = 1;
		return hh_form_payload(body, len, out);
	}
	if (ct && *ct && !media_type_is(ct, "application/json"))
		return hh_fail(HH_EMEDIATYPE, "unsupported content type '%s'", ct);
	if (hh_buf_put(out, body, len) < 0)
		return -1;
	return 0;
}

/* Stores the job of the accepted findings[i..] on findings[i]'s file (their messages, one a
 * line) and sets their job id. 0, or -1 on a store error. */
static int insert_job(const hh_intake *in, const hh_repo_config *repo, const hh_event *ev,
		      const char *branch, hh_intake_result *res, size_t i)
{
	hh_findings *f = &res->findings;
	const hh_finding *fi = &f->v[i];
	hh_job job = {0};
	hh_buf msg = HH_BUF_INIT;
	size_t j;
	int rc;

	for (j = i; j < f->n; j++) {
		if (!f->v[j].accepted || strcmp(f->v[j].file, fi->file) != 0)
			continue;
		if (msg.len)
			hh_buf_putc(&msg, '\n');
		hh_buf_puts(&msg, f->v[j].message);
	}
	if (hh_buf_failed(&msg))
		return -1;
	job.repo = repo->name;
	job.branch = (char *)branch;
	job.file = fi->file;
	job.type = fi->type;
	job.message = msg.ptr;
	job.delivery_id = res->delivery;
	job.pr_number = ev->pr_number;
	job.pr_url = ev->pr_url;
	job.sender = ev->sender;
	job.state = HH_JOB_QUEUED;
	job.pr_head = ev->head_ref && strcmp(branch, ev->head_ref) == 0 &&
		      !(ev->default_branch && strcmp(branch, ev->default_branch) == 0);
	job.created = job.updated = in->now;
	rc = hh_store_job_insert(in->store, &job);
	hh_buf_release(&msg);
	if (rc < 0)
		return -1;
	for (j = i; j < f->n; j++)
		if (f->v[j].accepted && strcmp(f->v[j].file, fi->file) == 0)
			f->v[j].job = job.id;
	return 0;
}

/* What judge_and_store returns besides 0 and < 0 (a store error): > 0, so that the group
 * commit rolls the write back and passes the value on. */
enum jas_result {
	JAS_QUEUE_FULL = 1, /* the queue is full (check_queue) */
	JAS_DUPLICATE = 2,  /* stored already: before, or meanwhile by another instance */
};

/*
 * Judges findings[from..] and stores the delivery (when drec != NULL), the findings and one
 * job per file, in one transaction. lookup is the delivery's lookup state to record.
 * Returns 0, -1 on a store error, JAS_DUPLICATE when the delivery (its id or its body) is
 * stored already, before or meanwhile by another instance (nothing is stored), or
 * JAS_QUEUE_FULL when check_queue is set and the queue is full. Both are read inside the write
 * transaction, on the group's handle whose page cache the batches keep warm: a thread's own
 * handle loses its cache at every commit of another, so the same reads before the write cost
 * about an eighth of the receiver's CPU (perf), mostly in preads; and concurrent receivers
 * cannot together overshoot server.max-queue, nor store one delivery twice.
 */
static int judge_and_store_tx(const hh_intake *in, const hh_repo_config *repo, const hh_event *ev,
			      const char *branch, const hh_delivery_rec *drec, const char *lookup,
			      int check_queue, const char (*fp)[65], hh_intake_result *res)
{
	hh_findings *f = &res->findings;
	const char *own = in->cfg->gitea_user;
	int frozen = 0, ret = -1, accepted = 0;
	size_t i;

	if (in->store && drec) {
		int known = hh_store_delivery_known(in->store, drec->id, drec->body_sha256);
		if (known)
			return known < 0 ? -1 : JAS_DUPLICATE;
	}
	if (in->store && check_queue) {
		long long depth = hh_store_queue_depth(in->store);
		if (depth < 0 || depth >= in->cfg->max_queue)
			return depth < 0 ? -1 : JAS_QUEUE_FULL;
	}
	if (in->store && repo && (frozen = hh_store_repo_frozen(in->store, repo->name)) < 0)
		goto out;
	for (i = 0; i < f->n; i++) {
		int quarantined = 0, dup = 0;
		if (in->store && repo) {
			if ((quarantined = hh_store_quarantined(in->store, fp[i])) < 0)
				goto out;
			if ((dup = hh_store_fingerprint_active(in->store, fp[i],
							       in->now - DUPLICATE_WINDOW)) < 0)
				goto out;
		}
		f->v[i].reason = hh_guard_verdict(repo, own, ev->sender, f->v[i].file, frozen,
						  quarantined, dup);
		f->v[i].accepted = f->v[i].reason == NULL;
		accepted += f->v[i].accepted;
	}
	if (!in->store) {
		ret = 0;
		goto out;
	}
	if (drec) {
		hh_delivery_rec d = *drec;
		d.verdict = accepted ? "accepted" : res->pending_lookup ? "pending" : "no-fix";
		d.lookup = lookup;
		/* 1: another instance stored this delivery first (PostgreSQL's unique indexes). */
		if ((ret = hh_store_delivery_insert(in->store, &d)) != 0) {
			ret = ret > 0 ? JAS_DUPLICATE : -1;
			goto out;
		}
		ret = -1;
	} else if (hh_store_delivery_set_lookup(in->store, res->delivery, lookup) < 0) {
		goto out;
	}
	/* One job per file: the first accepted finding on a file creates it. */
	for (i = 0; i < f->n; i++) {
		hh_finding *fi = &f->v[i];
		hh_finding_rec rec = {0};

		if (fi->accepted && fi->job == 0 && insert_job(in, repo, ev, branch, res, i) < 0)
			goto out;
		rec.delivery_id = res->delivery;
		rec.repo = ev->repo;
		rec.branch = branch;
		rec.file = fi->file;
		rec.line = fi->line;
		rec.type = fi->type;
		rec.message = fi->message;
		rec.source = hh_source_name(fi->source);
		rec.sender = ev->sender;
		rec.verdict = fi->accepted ? "accepted" : "rejected";
		rec.reason = fi->reason;
		rec.fingerprint = fp[i];
		rec.job_id = fi->job;
		rec.created = in->now;
		if (hh_store_finding_insert(in->store, &rec) < 0)
			goto out;
	}
	ret = 0;
out:
	return ret;
}

struct jas {
	const hh_intake *in;
	const hh_repo_config *repo;
	const hh_event *ev;
	const char *branch;
	const hh_delivery_rec *drec;
	const char *lookup;
	int check_queue;
	const char (*fp)[65];
	hh_intake_result *res;
};

static int jas_write(hh_store *w, void *ctx)
{
	struct jas *j = ctx;
	hh_intake in = *j->in;

	in.store = w;
	return judge_and_store_tx(&in, j->repo, j->ev, j->branch, j->drec, j->lookup,
				  j->check_queue, j->fp, j->res);
}

/* judge_and_store_tx in a transaction shared with concurrent deliveries (group commit): the
 * caller is answered once the transaction holding its writes is durable. The findings'
 * fingerprints are computed here, on the caller's thread, not by the batch's leader. */
static int judge_and_store(const hh_intake *in, const hh_repo_config *repo, const hh_event *ev,
			   const char *branch, const hh_delivery_rec *drec, const char *lookup,
			   int check_queue, hh_intake_result *res)
{
	char fp[HH_MAX_FINDINGS][65];
	struct jas j = {in, repo, ev, branch, drec, lookup, check_queue, (const char(*)[65])fp,
			res};
	size_t i;

	for (i = 0; i < res->findings.n; i++)
		hh_finding_fingerprint(ev->repo, branch, &res->findings.v[i], fp[i]);
	if (!in->store)
		return judge_and_store_tx(in, repo, ev, branch, drec, lookup, check_queue, j.fp,
					  res);
	return hh_store_group_write(in->store, jas_write, &j);
}

/* 1: stored already (its id or its body), before or meanwhile by another instance. */
static int insert_write(hh_store *w, void *ctx)
{
	const hh_delivery_rec *d = ctx;
	int known = hh_store_delivery_known(w, d->id, d->body_sha256);

	if (known)
		return known < 0 ? -1 : 1;
	return hh_store_delivery_insert(w, d);
}

/* Memory ran out: answered 500, nothing acknowledged (Gitea may send it again). */
static int out_of_memory(hh_intake_result *res)
{
	set_status(res, 500, "out of memory");
	hh_log(HH_LOG_ERROR, "intake.oom", "delivery", res->delivery, NULL);
	return -1;
}

/* Answers a failed store call; returns -1. */
static int store_failed(hh_intake_result *res)
{
	const char *e = hh_error_last();

	/* The store cannot take it now (full, locked, its file damaged under it: see
	 * hh_store_check, or the database server unreachable): Gitea should retry later,
	 * nothing was acknowledged. */
	if (hh_error_code() == HH_EBUSY) {
		set_status(res, 503, "state store unavailable, retry later");
		res->retry_after = 30;
	} else {
		set_status(res, 500, "cannot store the delivery");
	}
	hh_log(HH_LOG_ERROR, "store.failed", "delivery", res->delivery, "error", e, NULL);
	return -1;
}

static int queue_full(hh_intake_result *res)
{
	set_status(res, 503, "job queue is full, retry later");
	res->retry_after = 60;
	return DONE;
}

static int lookup_line_comments(const hh_intake *in, const hh_event *ev, hh_intake_result *res)
{
	hh_gitea g = {in->cfg->gitea_url, in->cfg->gitea_token, in->cfg->gitea_timeout};
	const char *state = hh_gitea_review_state(hh_event_kind_name(ev->kind));

	if (!state || ev->pr_number <= 0 || !ev->sender)
		return 0;
	if (hh_gitea_review_findings(&g, ev->repo, ev->pr_number, ev->sender, state,
				     &res->findings) < 0) {
		res->lookup_error = hh_strdup(hh_error_last());
		return -1;
	}
	return 0;
}

/*
 * One pass over the payload: with a secret, its HMAC both checks the signature (res->sig when
 * in->verify) and names the body for the duplicate check (res->sha256: for a fixed secret it
 * identifies the body as well as a plain hash does); without one, the plain SHA-256.
 */
static int payload_identity(const hh_intake *in, const hh_headers *hdrs, const hh_buf *payload,
			    hh_intake_result *res)
{
	unsigned char mac[32];

	if (!in->cfg->secret) {
		hh_sha256_hex(payload->ptr, payload->len, res->sha256);
		return 0;
	}
	if (hh_hmac_sha256(in->cfg->secret, payload->ptr, payload->len, mac) < 0) {
		set_status(res, 500, "cannot compute the payload's HMAC");
		return -1;
	}
	hh_hex32(mac, res->sha256);
	if (in->verify)
		res->sig = hh_sig_check_mac(mac, hh_headers_get(hdrs, "X-Gitea-Signature"),
					    hh_headers_get(hdrs, "X-Hub-Signature-256"));
	return 0;
}

/* The headers alone: the event type, no header twice, a signature header when one is needed. */
static int check_headers(const hh_intake *in, const hh_headers *hdrs, hh_intake_result *res)
{
	const char *v = hh_headers_get(hdrs, "X-Gitea-Event-Type");

	if (!v)
		v = hh_headers_get(hdrs, "X-Gogs-Event-Type");
	res->event = hh_strdup(v ? v : "");
	res->kind = hh_event_kind_from_type(v);
	res->sig = HH_SIG_SKIPPED;
	if (!res->event)
		return out_of_memory(res);
	if ((v = duplicate_header(hdrs))) {
		hh_buf b = HH_BUF_INIT;
		hh_buf_printf(&b, "duplicate header %s", v);
		set_status(res, 400, b.ptr ? b.ptr : "duplicate header");
		hh_buf_release(&b);
		return DONE;
	}
	/* Without a signature header nothing of the body is decoded (form bodies included): the
	 * request is refused on its headers alone. */
	if (in->verify && in->cfg->secret && !sig_header_given(hdrs)) {
		v = hh_headers_get(hdrs, "X-Gitea-Delivery");
		res->delivery = hh_strdup(v && *v ? v : "");
		res->sig = HH_SIG_MISSING;
		set_status(res, 401, "signature missing");
		return DONE;
	}
	return NEXT;
}

/* The payload out of the body, its identity, the signature and Authorization checks. */
static int read_payload(const hh_intake *in, const hh_headers *hdrs, const void *body, size_t len,
			hh_buf *payload, hh_intake_result *res)
{
	const hh_config *cfg = in->cfg;
	const char *v;
	int form;

	if (extract_payload(hdrs, body, len, payload, &form) < 0) {
		if (hh_buf_failed(payload))
			return out_of_memory(res);
		set_status(res, hh_error_code() == HH_EMEDIATYPE ? 415 : 400, hh_error_last());
		return DONE;
	}
	if (payload_identity(in, hdrs, payload, res) < 0)
		return -1; /* answered 500, nothing acknowledged */
	v = hh_headers_get(hdrs, "X-Gitea-Delivery");
	if (!(res->delivery = hh_strdup(v && *v ? v : res->sha256)))
		return out_of_memory(res);
	if (in->verify && cfg->secret && res->sig != HH_SIG_VALID) {
		set_status(res, 401,
			   res->sig == HH_SIG_MISSING ? "signature missing" : "signature invalid");
		return DONE;
	}
	if (in->verify && cfg->authorization) {
		v = hh_headers_get(hdrs, "Authorization");
		if (!v || !hh_ct_streq(v, cfg->authorization)) {
			set_status(res, 401, "authorization header missing or wrong");
			return DONE;
		}
	}
	return NEXT;
}

/* The event out of the (trusted) payload; event types not acted on are only marked ignored. */
static int parse_event(const hh_buf *payload, hh_event *ev, hh_intake_result *res)
{
	/* JSON is UTF-8 (RFC 8259); invalid bytes would reach prompts, commits and notices. */
	if (!hh_utf8_valid(payload->ptr, payload->len)) {
		set_status(res, 400, "the payload is not valid UTF-8");
		return DONE;
	}
	if (res->kind == HH_EV_UNKNOWN || res->kind == HH_EV_PUSH) {
		res->ignored = 1;
	} else if (hh_event_parse(ev, res->kind, payload->ptr, payload->len) < 0) {
		if (hh_error_code() != HH_EBADINPUT)
			return out_of_memory(res);
		set_status(res, 400, hh_error_last());
		return DONE;
	}
	if (ev->repo && !(res->repo = hh_strdup(ev->repo)))
		return out_of_memory(res);
	return NEXT;
}

/* Stores an ignored delivery (for the record: nothing is queued) and answers 202. */
static int store_ignored(const hh_intake *in, hh_delivery_rec *drec, hh_intake_result *res)
{
	int stored = 0;

	if (in->store) {
		drec->verdict = "ignored";
		drec->lookup = "none";
		/* 1: stored already: answered as a duplicate. */
		if ((stored = hh_store_group_write(in->store, insert_write, drec)) < 0)
			return store_failed(res);
	}
	res->duplicate = stored == 1;
	set_status(res, stored == 1 ? 200 : 202, NULL);
	return DONE;
}

/* The findings of the review or comment text, and the line comments when fetched inline.
 * Returns 1 when the line comments are still to be fetched, 0, or -1 (answered 500). */
static int collect_findings(const hh_intake *in, const hh_repo_config *repo, const hh_event *ev,
			    hh_intake_result *res)
{
	const hh_config *cfg = in->cfg;
	int review = hh_event_is_review(ev->kind), need_lookup;
	const char *text = review ? ev->review_content : ev->comment_body;

	if (text && hh_findings_from_text(&res->findings, text,
					  review ? HH_SRC_REVIEW_BODY : HH_SRC_COMMENT) < 0) {
		if (res->findings.n < HH_MAX_FINDINGS) /* not the cap: memory ran out */
			return out_of_memory(res);
		hh_log(HH_LOG_WARN, "findings.capped", "delivery", res->delivery, "error",
		       hh_error_last(), NULL);
	}
	/* Line comments are fetched for every reviewer of a configured repository (those who may
	 * not cause a fix see their findings reported as reviewer-not-allowed), but never for
	 * healhook's own reviews. */
	need_lookup = review && ev->pr_number > 0 && repo && ev->sender &&
		      !(cfg->gitea_user && strcasecmp(cfg->gitea_user, ev->sender) == 0);
	if (need_lookup && !cfg->gitea_url) {
		res->lookup_error = hh_strdup(
			"gitea.url is not set: review line comments cannot be fetched");
		hh_log(HH_LOG_WARN, "lookup.skipped", "delivery", res->delivery, "error",
		       res->lookup_error, NULL);
		need_lookup = 0;
	}
	if (need_lookup && in->lookup_inline) {
		if (lookup_line_comments(in, ev, res) < 0)
			hh_log(HH_LOG_WARN, "lookup.failed", "delivery", res->delivery, "error",
			       res->lookup_error, NULL);
		need_lookup = 0;
	}
	return need_lookup;
}

/* Judges the findings of an event acted on and stores delivery, findings and jobs. */
static int judge_delivery(const hh_intake *in, const hh_repo_config *repo, const hh_event *ev,
			  const hh_delivery_rec *drec, int check_queue, hh_intake_result *res)
{
	int rc;

	if (!(res->branch = hh_strdup(target_branch(repo, ev))))
		return out_of_memory(res);
	if ((rc = collect_findings(in, repo, ev, res)) < 0)
		return rc;
	res->pending_lookup = rc;
	rc = judge_and_store(in, repo, ev, res->branch, drec, rc ? "pending" : "none", check_queue,
			     res);
	if (rc < 0)
		return store_failed(res);
	if (rc == JAS_QUEUE_FULL)
		return queue_full(res);
	res->duplicate = rc == JAS_DUPLICATE;
	if (res->duplicate) { /* answered, counted and logged as before: without its findings */
		hh_findings_release(&res->findings);
		free(res->branch);
		res->branch = NULL;
		res->pending_lookup = 0;
	}
	set_status(res, res->duplicate ? 200 : 202, NULL);
	return DONE;
}

int hh_intake_process(const hh_intake *in, const hh_headers *hdrs, const void *body, size_t len,
		      hh_intake_result *res)
{
	const hh_repo_config *repo;
	hh_buf payload = HH_BUF_INIT, htext = HH_BUF_INIT;
	hh_event ev = {0};
	hh_delivery_rec drec = {0};
	int rc;

	memset(res, 0, sizeof(*res));
	if ((rc = check_headers(in, hdrs, res)) != NEXT ||
	    (rc = read_payload(in, hdrs, body, len, &payload, res)) != NEXT ||
	    (rc = parse_event(&payload, &ev, res)) != NEXT)
		goto out;
	if (hh_headers_format(hdrs, &htext) < 0 || hh_buf_failed(&htext)) {
		rc = out_of_memory(res);
		goto out;
	}
	drec.id = res->delivery;
	drec.body_sha256 = res->sha256;
	drec.event = res->event;
	drec.repo = ev.repo;
	drec.received = in->now;
	drec.headers = htext.ptr;
	drec.body = body;
	drec.body_len = len;
	repo = ev.repo ? hh_config_repo(in->cfg, ev.repo) : NULL;
	if (!res->ignored && repo && !event_enabled(repo, res->event))
		res->ignored = 1;
	if (res->ignored)
		rc = store_ignored(in, &drec, res);
	else
		rc = judge_delivery(in, repo, &ev, &drec, in->store && in->cfg->max_queue > 0, res);
out:
	hh_event_release(&ev);
	hh_buf_release(&payload);
	hh_buf_release(&htext);
	return rc < 0 ? -1 : 0;
}

int hh_intake_lookup(const hh_intake *in, const char *delivery_id, const char *headers,
		     const void *body, size_t len, hh_intake_result *res)
{
	hh_headers hdrs = {0};
	hh_buf payload = HH_BUF_INIT;
	hh_event ev = {0};
	const hh_repo_config *repo;
	int form, ret = -1;

	memset(res, 0, sizeof(*res));
	res->delivery = hh_strdup(delivery_id);
	if (hh_headers_parse(&hdrs, headers, strlen(headers)) < 0 ||
	    extract_payload(&hdrs, body, len, &payload, &form) < 0)
		goto fail;
	res->event = hh_strdup(hh_headers_get(&hdrs, "X-Gitea-Event-Type"));
	res->kind = hh_event_kind_from_type(res->event);
	if (hh_event_parse(&ev, res->kind, payload.ptr, payload.len) < 0)
		goto fail;
	res->repo = hh_strdup(ev.repo);
	repo = hh_config_repo(in->cfg, ev.repo);
	res->branch = hh_strdup(target_branch(repo, &ev));
	if (lookup_line_comments(in, &ev, res) < 0) {
		ret = -1;
		goto out;
	}
	if (judge_and_store(in, repo, &ev, res->branch, NULL, "done", 0, res) < 0)
		goto out;
	ret = 0;
	goto out;
fail:
	hh_log(HH_LOG_ERROR, "lookup.unreadable", "delivery", delivery_id, "error", hh_error_last(),
	       NULL);
	if (in->store)
		hh_store_delivery_set_lookup(in->store, delivery_id, "failed");
out:
	hh_event_release(&ev);
	hh_headers_release(&hdrs);
	hh_buf_release(&payload);
	return ret;
}

void hh_intake_result_release(hh_intake_result *res)
{
	if (!res)
		return;
	free(res->error);
	free(res->delivery);
	free(res->event);
	free(res->repo);
	free(res->branch);
	free(res->lookup_error);
	hh_findings_release(&res->findings);
	memset(res, 0, sizeof(*res));
}

static void put_str_field(hh_buf *b, const char *key, const char *val)
{
	hh_buf_printf(b, "\"%s\":", key);
	if (!val) {
		hh_buf_puts(b, "null");
		return;
	}
	hh_buf_putc(b, '"');
	hh_buf_put_json_str(b, val);
	hh_buf_putc(b, '"');
}

int hh_intake_answer_json(const hh_intake_result *res, hh_buf *out)
{
	size_t i;
	int first = 1;

	if (res->status >= 400) {
		hh_buf_putc(out, '{');
		put_str_field(out, "error", res->error ? res->error : "error");
		return hh_buf_puts(out, "}");
	}
	hh_buf_putc(out, '{');
	put_str_field(out, "delivery", res->delivery);
	hh_buf_putc(out, ',');
	put_str_field(out, "event", res->event);
	if (res->duplicate)
		return hh_buf_puts(out, ",\"duplicate\":true}");
	hh_buf_printf(out, ",\"findings\":%zu,\"accepted\":[", res->findings.n);
	for (i = 0; i < res->findings.n; i++) {
		const hh_finding *f = &res->findings.v[i];
		size_t j;
		int seen = 0;
		if (!f->accepted || !f->job)
			continue;
		for (j = 0; j < i; j++)
			seen |= res->findings.v[j].job == f->job;
		if (seen)
			continue;
		hh_buf_printf(out, "%s%lld", first ? "" : ",", f->job);
		first = 0;
	}
	hh_buf_puts(out, "],\"rejected\":[");
	first = 1;
	for (i = 0; i < res->findings.n; i++) {
		const hh_finding *f = &res->findings.v[i];
		if (f->accepted)
			continue;
		hh_buf_puts(out, first ? "{" : ",{");
		put_str_field(out, "file", f->file);
		hh_buf_putc(out, ',');
		put_str_field(out, "reason", f->reason);
		hh_buf_putc(out, '}');
		first = 0;
	}
	hh_buf_printf(out, "],\"pending_lookup\":%s", res->pending_lookup ? "true" : "false");
	if (res->ignored)
		hh_buf_puts(out, ",\"ignored\":true");
	hh_buf_puts(out, "}");
	return hh_buf_failed(out) ? -1 : 0;
}

int hh_intake_report_json(const hh_intake_result *res, hh_buf *out)
{
	size_t i;

	hh_buf_putc(out, '{');
	put_str_field(out, "delivery", res->delivery);
	hh_buf_putc(out, ',');
	put_str_field(out, "event", res->event);
	hh_buf_putc(out, ',');
	put_str_field(out, "signature", hh_sig_verdict_name(res->sig));
	hh_buf_putc(out, ',');
	put_str_field(out, "repo", res->repo);
	hh_buf_printf(out, ",\"status\":%d,\"duplicate\":%s,\"ignored\":%s,\"pending_lookup\":%s,",
		      res->status, res->duplicate ? "true" : "false",
		      res->ignored ? "true" : "false", res->pending_lookup ? "true" : "false");
	put_str_field(out, "branch", res->branch);
	if (res->error) {
		hh_buf_putc(out, ',');
		put_str_field(out, "error", res->error);
	}
	if (res->lookup_error) {
		hh_buf_putc(out, ',');
		put_str_field(out, "lookup_error", res->lookup_error);
	}
	hh_buf_puts(out, ",\"findings\":[");
	for (i = 0; i < res->findings.n; i++) {
		const hh_finding *f = &res->findings.v[i];
		hh_buf_puts(out, i ? ",{" : "{");
		put_str_field(out, "file", f->file);
		hh_buf_printf(out, ",\"line\":%ld,", f->line);
		put_str_field(out, "type", f->type);
		hh_buf_putc(out, ',');
		put_str_field(out, "message", f->message);
		hh_buf_putc(out, ',');
		put_str_field(out, "source", hh_source_name(f->source));
		hh_buf_putc(out, ',');
		put_str_field(out, "verdict", f->accepted ? "accepted" : "rejected");
		hh_buf_putc(out, ',');
		put_str_field(out, "reason", f->reason);
		if (f->job)
			hh_buf_printf(out, ",\"job\":%lld", f->job);
		hh_buf_putc(out, '}');
	}
	return hh_buf_puts(out, "]}");
}
