/*
 * store_status: what the status pages read (job lists with filters, findings, per-repository
 * activity, outcomes per day) and what the health watch and the notifier record for them
 * (health_probes, notifications). Part of the store module; see store.h.
 *
 * These statements are prepared when used, not at open: the status listener reads a page
 * now and then, and the recorders write a few rows per job. Every statement is plain SQL
 * (CAST(? AS TEXT) IS NULL for optional filters, integer division for days, no INSERT OR,
 * no SQLite functions); a PostgreSQL handle runs the same statements with $N parameters
 * (store_pg_status.c).
 */
#include "internal/store.h"
#include "internal/store_priv.h"
#include "internal/store_pg.h"
#include "internal/buf.h"
#include "internal/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ENDED "('healed','reverted','revert-failed','failed','expired')"

static int prepare(hh_store *st, const char *sql, sqlite3_stmt **s, const char *what)
{
	*s = NULL;
	if (sqlite3_prepare_v2(st->db, sql, -1, s, NULL) != SQLITE_OK)
		return hh_st_db_error(st, what);
	return 0;
}

static const char *col(sqlite3_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s, i);
}

/* Steps s to its end; returns 0, or -1 with the error set. */
static int finish(hh_store *st, sqlite3_stmt *s, int rc, const char *what)
{
	int ret = 0;

	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		ret = hh_st_db_error(st, what);
	sqlite3_finalize(s);
	return ret;
}

/* Steps a write statement to its end holding the writers' locks (store_priv.h: the flock
 * every healhook process takes, so that the recorders never wait in SQLite's busy handler),
 * then finalizes it. */
static int finish_write(hh_store *st, sqlite3_stmt *s, const char *what)
{
	int ret = hh_st_run(st, s, what);

	sqlite3_finalize(s);
	return ret;
}

/* Copies at most max bytes of v, cut at a UTF-8 boundary (the caller frees). */
static char *cut(const char *v, size_t max)
{
	size_t n;

	if (!v)
		return NULL;
	n = strlen(v);
	if (n > max) {
		n = max;
		while (n && ((unsigned char)v[n] & 0xc0) == 0x80)
			n--;
	}
	return hh_asprintf("%.*s", (int)n, v);
}

/* ---- recorders ---- */

int hh_store_probe_add(hh_store *st, const hh_probe_rec *p)
{
	static const char sql[] =
		"INSERT INTO health_probes (job_id, sha, at, status, verdict, answer)"
		" SELECT ?1, ?2, ?3, ?4, ?5, ?6"
		" WHERE (SELECT COUNT(*) FROM health_probes WHERE job_id = ?1) < ?7";
	const char *what = "cannot record health probe";
	char *answer;
	sqlite3_stmt *s;
	int rc;

	if (st->pg)
		return hh_pg_probe_add(st->pg, p);
	answer = cut(p->answer, HH_STORE_PROBE_TEXT);
	if (prepare(st, sql, &s, what) < 0) {
		free(answer);
		return -1;
	}
	if (hh_st_bind_int(s, 1, p->job_id) || hh_st_bind_text(s, 2, p->sha) ||
	    hh_st_bind_int(s, 3, p->at) || hh_st_bind_int(s, 4, p->status) ||
	    hh_st_bind_text(s, 5, p->verdict ? p->verdict : "bad") ||
	    hh_st_bind_text(s, 6, answer) || hh_st_bind_int(s, 7, HH_STORE_MAX_PROBES)) {
		hh_st_db_error(st, what);
		sqlite3_finalize(s);
		free(answer);
		return -1;
	}
	rc = finish_write(st, s, what);
	free(answer);
	return rc;
}

int hh_store_notification_add(hh_store *st, const hh_notification_rec *n)
{
	static const char sql[] =
		"INSERT INTO notifications (job_id, outcome, target, ok, attempts, error, at)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
	const char *what = "cannot record notification";
	char *error;
	sqlite3_stmt *s;
	int rc;

	if (st->pg)
		return hh_pg_notification_add(st->pg, n);
	error = cut(n->error, HH_STORE_PROBE_TEXT);
	if (prepare(st, sql, &s, what) < 0) {
		free(error);
		return -1;
	}
	if (hh_st_bind_job_id(s, 1, n->job_id) || hh_st_bind_text(s, 2, n->outcome) ||
	    hh_st_bind_text(s, 3, n->target ? n->target : "") || hh_st_bind_int(s, 4, n->ok != 0) ||
	    hh_st_bind_int(s, 5, n->attempts) || hh_st_bind_text(s, 6, error) ||
	    hh_st_bind_int(s, 7, n->at)) {
		hh_st_db_error(st, what);
		sqlite3_finalize(s);
		free(error);
		return -1;
	}
	rc = finish_write(st, s, what);
	free(error);
	return rc;
}

/* ---- a job's records ---- */

int hh_store_job_probes(hh_store *st, long long job_id, int (*fn)(void *ctx, const hh_probe_rec *p),
			void *ctx)
{
	static const char sql[] = "SELECT sha, at, status, verdict, answer FROM health_probes"
				  " WHERE job_id = ?1 ORDER BY id";
	const char *what = "cannot read health probes";
	sqlite3_stmt *s;
	int rc;

	if (st->pg)
		return hh_pg_job_probes(st->pg, job_id, fn, ctx);
	if (prepare(st, sql, &s, what) < 0)
		return -1;
	hh_st_bind_int(s, 1, job_id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		hh_probe_rec p = {0};

		p.job_id = job_id;
		p.sha = col(s, 0);
		p.at = sqlite3_column_int64(s, 1);
		p.status = (long)sqlite3_column_int64(s, 2);
		p.verdict = col(s, 3);
		p.answer = col(s, 4);
		if (fn(ctx, &p)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	return finish(st, s, rc, what);
}

int hh_store_job_notifications(hh_store *st, long long job_id,
			       int (*fn)(void *ctx, const hh_notification_rec *n), void *ctx)
{
	static const char sql[] = "SELECT outcome, target, ok, attempts, error, at"
				  " FROM notifications WHERE job_id = ?1 ORDER BY id";
	const char *what = "cannot read notifications";
	sqlite3_stmt *s;
	int rc;

	if (st->pg)
		return hh_pg_job_notifications(st->pg, job_id, fn, ctx);
	if (prepare(st, sql, &s, what) < 0)
		return -1;
	hh_st_bind_int(s, 1, job_id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		hh_notification_rec n = {0};

		n.job_id = job_id;
		n.outcome = col(s, 0);
		n.target = col(s, 1);
		n.ok = sqlite3_column_int(s, 2);
		n.attempts = sqlite3_column_int(s, 3);
		n.error = col(s, 4);
		n.at = sqlite3_column_int64(s, 5);
		if (fn(ctx, &n)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	return finish(st, s, rc, what);
}

int hh_store_job_findings(hh_store *st, long long job_id,
			  int (*fn)(void *ctx, const hh_finding_rec *f), void *ctx)
{
	static const char sql[] = "SELECT delivery_id, repo, branch, file, line, type, message,"
				  " source, sender, verdict, reason, fingerprint, created"
				  " FROM findings WHERE job_id = ?1 ORDER BY id";
	const char *what = "cannot read findings";
	sqlite3_stmt *s;
	int rc;

	if (st->pg)
		return hh_pg_job_findings(st->pg, job_id, fn, ctx);
	if (prepare(st, sql, &s, what) < 0)
		return -1;
	hh_st_bind_int(s, 1, job_id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		hh_finding_rec f = {0};

		f.delivery_id = col(s, 0);
		f.repo = col(s, 1);
		f.branch = col(s, 2);
		f.file = col(s, 3);
		f.line = (long)sqlite3_column_int64(s, 4);
		f.type = col(s, 5);
		f.message = col(s, 6);
		f.source = col(s, 7);
		f.sender = col(s, 8);
		f.verdict = col(s, 9);
		f.reason = col(s, 10);
		f.fingerprint = col(s, 11);
		f.created = sqlite3_column_int64(s, 12);
		f.job_id = job_id;
		if (fn(ctx, &f)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	return finish(st, s, rc, what);
}

/* ---- lists ---- */

int hh_store_job_ids(hh_store *st, const char *repo, const char *state, long long offset,
		     long long *ids, size_t cap, size_t *n, long long *total)
{
	static const char where[] = " FROM jobs WHERE (CAST(?1 AS TEXT) IS NULL OR repo = ?1)"
				    " AND (CAST(?2 AS TEXT) IS NULL OR state = ?2)";
	const char *what = "cannot list jobs";
	char sql[512];
	sqlite3_stmt *s;
	int rc;

	if (st->pg)
		return hh_pg_job_ids(st->pg, repo, state, offset, ids, cap, n, total);
	*n = 0;
	*total = 0;
	snprintf(sql, sizeof(sql), "SELECT COUNT(*)%s", where);
	if (prepare(st, sql, &s, what) < 0)
		return -1;
	hh_st_bind_text(s, 1, repo);
	hh_st_bind_text(s, 2, state);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW)
		*total = sqlite3_column_int64(s, 0);
	if (finish(st, s, rc, what) < 0)
		return -1;
	snprintf(sql, sizeof(sql), "SELECT id%s ORDER BY created DESC, id DESC LIMIT ?3 OFFSET ?4",
		 where);
	if (prepare(st, sql, &s, what) < 0)
		return -1;
	hh_st_bind_text(s, 1, repo);
	hh_st_bind_text(s, 2, state);
	hh_st_bind_int(s, 3, (long long)cap);
	hh_st_bind_int(s, 4, offset < 0 ? 0 : offset);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW && *n < cap)
		ids[(*n)++] = sqlite3_column_int64(s, 0);
	return finish(st, s, rc, what);
}

int hh_store_repo_activity(hh_store *st, const char *repo, hh_repo_activity *out)
{
	static const char counts[] =
		"SELECT COALESCE(SUM(CASE WHEN state IN ('queued', 'waiting') THEN 1 ELSE 0 END), "
		"0),"
		" COALESCE(MAX(CASE WHEN state IN ('fixing', 'committed', 'watching', 'reverting')"
		" THEN id ELSE 0 END), 0) FROM jobs WHERE repo = ?1";
	static const char last[] = "SELECT id, state, reason, updated FROM jobs WHERE repo = ?1"
				   " AND (state IN " ENDED " OR state = 'pushed')"
				   " ORDER BY updated DESC, id DESC LIMIT 1";
	const char *what = "cannot read repository activity";
	sqlite3_stmt *s;
	int rc;

	if (st->pg)
		return hh_pg_repo_activity(st->pg, repo, out);
	memset(out, 0, sizeof(*out));
	if (prepare(st, counts, &s, what) < 0)
		return -1;
	hh_st_bind_text(s, 1, repo);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		out->queued = sqlite3_column_int64(s, 0);
		out->running = sqlite3_column_int64(s, 1);
	}
	if (finish(st, s, rc, what) < 0 || prepare(st, last, &s, what) < 0)
		return -1;
	hh_st_bind_text(s, 1, repo);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		out->last_job = sqlite3_column_int64(s, 0);
		snprintf(out->last_state, sizeof(out->last_state), "%s",
			 col(s, 1) ? col(s, 1) : "");
		snprintf(out->last_reason, sizeof(out->last_reason), "%s",
			 col(s, 2) ? col(s, 2) : "");
		out->last_at = sqlite3_column_int64(s, 3);
	}
	return finish(st, s, rc, what);
}

int hh_store_repo_names(hh_store *st, int (*fn)(void *ctx, const char *repo), void *ctx)
{
	static const char sql[] = "SELECT repo FROM jobs UNION SELECT repo FROM repos ORDER BY 1";
	const char *what = "cannot list repositories";
	sqlite3_stmt *s;
	int rc;

	if (st->pg)
		return hh_pg_repo_names(st->pg, fn, ctx);
	if (prepare(st, sql, &s, what) < 0)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (col(s, 0) && fn(ctx, col(s, 0))) {
			rc = SQLITE_DONE;
			break;
		}
	}
	return finish(st, s, rc, what);
}

int hh_store_outcomes_per_day(hh_store *st, long long since,
			      int (*fn)(void *ctx, long long day, const char *name, long long n),
			      void *ctx)
{
	static const char sql[] =
		"SELECT updated / 86400 AS day, state AS name, COUNT(*) FROM jobs"
		" WHERE state IN " ENDED " AND updated >= ?1 GROUP BY updated / 86400, state"
		" UNION ALL"
		" SELECT created / 86400 AS day, 'rejected' AS name, COUNT(*) FROM findings"
		" WHERE verdict = 'rejected' AND created >= ?1 GROUP BY created / 86400"
		" ORDER BY 1, 2";
	const char *what = "cannot count outcomes";
	sqlite3_stmt *s;
	int rc;

	if (st->pg)
		return hh_pg_outcomes_per_day(st->pg, since, fn, ctx);
	if (prepare(st, sql, &s, what) < 0)
		return -1;
	hh_st_bind_int(s, 1, since);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (fn(ctx, sqlite3_column_int64(s, 0), col(s, 1) ? col(s, 1) : "",
		       sqlite3_column_int64(s, 2))) {
			rc = SQLITE_DONE;
			break;
		}
	}
	return finish(st, s, rc, what);
}
