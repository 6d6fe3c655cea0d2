/*
 * store_pg_status: the status pages' reads and the watch's and notifier's records on
 * PostgreSQL (the SQL of store_status.c with $N parameters; see store.h and store_pg.h).
 * Tables health_probes and notifications are schema version 4 (store_pg.c).
 *
 * Statements are string literals: store_pg.c prepares each once per connection, keyed by its
 * address.
 */
#include "internal/store_pg.h"
#include "internal/store_pg_priv.h"
#include "internal/buf.h"
#include "internal/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ENDED "('healed','reverted','revert-failed','failed','expired')"
#define REPO_STATE_WHERE                                                                           \
	" FROM jobs WHERE ($1::text IS NULL OR repo = $1) AND ($2::text IS NULL OR state = $2)"

/* A borrowed text cell, NULL for SQL NULL. */
static const char *cell(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
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

int hh_pg_probe_add(hh_pg *pg, const hh_probe_rec *p)
{
	struct pg_args a = {0};
	char *answer = cut(p->answer, HH_STORE_PROBE_TEXT);
	int rc;

	if (p->answer && !answer)
		return hh_error("out of memory");
	hh_pg_arg_int(&a, p->job_id);
	hh_pg_arg_text(&a, p->sha);
	hh_pg_arg_int(&a, p->at);
	hh_pg_arg_int(&a, p->status);
	hh_pg_arg_text(&a, p->verdict ? p->verdict : "bad");
	hh_pg_arg_text(&a, answer);
	hh_pg_arg_int(&a, HH_STORE_MAX_PROBES);
	rc = hh_pg_do(pg,
		      "INSERT INTO health_probes (job_id, sha, at, status, verdict, answer)"
		      " SELECT $1::bigint, $2::text, $3::bigint, $4::integer, $5::text, $6::text"
		      " WHERE (SELECT COUNT(*) FROM health_probes WHERE job_id = $1::bigint)"
		      " < $7::bigint",
		      &a, "cannot record health probe");
	free(answer);
	return rc;
}

int hh_pg_notification_add(hh_pg *pg, const hh_notification_rec *n)
{
	struct pg_args a = {0};
	char *error = cut(n->error, HH_STORE_PROBE_TEXT);
	int rc;

	if (n->error && !error)
		return hh_error("out of memory");
	hh_pg_arg_job_id(&a, n->job_id);
	hh_pg_arg_text(&a, n->outcome);
	hh_pg_arg_text(&a, n->target ? n->target : "");
	hh_pg_arg_int(&a, n->ok != 0);
	hh_pg_arg_int(&a, n->attempts);
	hh_pg_arg_text(&a, error);
	hh_pg_arg_int(&a, n->at);
	rc = hh_pg_do(pg,
		      "INSERT INTO notifications (job_id, outcome, target, ok, attempts, error, at)"
		      " VALUES ($1, $2, $3, $4, $5, $6, $7)",
		      &a, "cannot record notification");
	free(error);
	return rc;
}

/* ---- a job's records ---- */

int hh_pg_job_probes(hh_pg *pg, long long job_id, int (*fn)(void *ctx, const hh_probe_rec *p),
		     void *ctx)
{
	struct pg_args a = {0};
	PGresult *r;
	int i, rows;

	hh_pg_arg_int(&a, job_id);
	r = hh_pg_exec(pg,
		       "SELECT sha, at, status, verdict, answer FROM health_probes"
		       " WHERE job_id = $1 ORDER BY id",
		       &a, "cannot read health probes");
	if (!r)
		return -1;
	rows = PQntuples(r);
	for (i = 0; i < rows; i++) {
		hh_probe_rec p = {0};

		p.job_id = job_id;
		p.sha = cell(r, i, 0);
		p.at = hh_pg_cell_int(r, i, 1);
		p.status = (long)hh_pg_cell_int(r, i, 2);
		p.verdict = cell(r, i, 3);
		p.answer = cell(r, i, 4);
		if (fn(ctx, &p))
			break;
	}
	PQclear(r);
	return 0;
}

int hh_pg_job_notifications(hh_pg *pg, long long job_id,
			    int (*fn)(void *ctx, const hh_notification_rec *n), void *ctx)
{
	struct pg_args a = {0};
	PGresult *r;
	int i, rows;

	hh_pg_arg_int(&a, job_id);
	r = hh_pg_exec(pg,
		       "SELECT outcome, target, ok, attempts, error, at FROM notifications"
		       " WHERE job_id = $1 ORDER BY id",
		       &a, "cannot read notifications");
	if (!r)
		return -1;
	rows = PQntuples(r);
	for (i = 0; i < rows; i++) {
		hh_notification_rec n = {0};

		n.job_id = job_id;
		n.outcome = cell(r, i, 0);
		n.target = cell(r, i, 1);
		n.ok = (int)hh_pg_cell_int(r, i, 2);
		n.attempts = (int)hh_pg_cell_int(r, i, 3);
		n.error = cell(r, i, 4);
		n.at = hh_pg_cell_int(r, i, 5);
		if (fn(ctx, &n))
			break;
	}
	PQclear(r);
	return 0;
}

int hh_pg_job_findings(hh_pg *pg, long long job_id, int (*fn)(void *ctx, const hh_finding_rec *f),
		       void *ctx)
{
	struct pg_args a = {0};
	PGresult *r;
	int i, rows;

	hh_pg_arg_int(&a, job_id);
	r = hh_pg_exec(pg,
		       "SELECT delivery_id, repo, branch, file, line, type, message, source,"
		       " sender, verdict, reason, fingerprint, created FROM findings"
		       " WHERE job_id = $1 ORDER BY id",
		       &a, "cannot read findings");
	if (!r)
		return -1;
	rows = PQntuples(r);
	for (i = 0; i < rows; i++) {
		hh_finding_rec f = {0};

		f.delivery_id = cell(r, i, 0);
		f.repo = cell(r, i, 1);
		f.branch = cell(r, i, 2);
		f.file = cell(r, i, 3);
		f.line = (long)hh_pg_cell_int(r, i, 4);
		f.type = cell(r, i, 5);
		f.message = cell(r, i, 6);
		f.source = cell(r, i, 7);
		f.sender = cell(r, i, 8);
		f.verdict = cell(r, i, 9);
		f.reason = cell(r, i, 10);
		f.fingerprint = cell(r, i, 11);
		f.created = hh_pg_cell_int(r, i, 12);
		f.job_id = job_id;
		if (fn(ctx, &f))
			break;
	}
	PQclear(r);
	return 0;
}

/* ---- lists ---- */

int hh_pg_job_ids(hh_pg *pg, const char *repo, const char *state, long long offset, long long *ids,
		  size_t cap, size_t *n, long long *total)
{
	struct pg_args a = {0};
	PGresult *r;
	int i, rows;

	*n = 0;
	*total = 0;
	hh_pg_arg_text(&a, repo);
	hh_pg_arg_text(&a, state);
	*total = hh_pg_int(pg, "SELECT COUNT(*)" REPO_STATE_WHERE, &a, "cannot list jobs");
	if (*total < 0) {
		*total = 0;
		return -1;
	}
	hh_pg_arg_int(&a, (long long)cap);
	hh_pg_arg_int(&a, offset < 0 ? 0 : offset);
	r = hh_pg_exec(pg,
		       "SELECT id" REPO_STATE_WHERE
		       " ORDER BY created DESC, id DESC LIMIT $3 OFFSET $4",
		       &a, "cannot list jobs");
	if (!r)
		return -1;
	rows = PQntuples(r);
	for (i = 0; i < rows && *n < cap; i++)
		ids[(*n)++] = hh_pg_cell_int(r, i, 0);
	PQclear(r);
	return 0;
}

int hh_pg_repo_activity(hh_pg *pg, const char *repo, hh_repo_activity *out)
{
	struct pg_args a = {0};
	const char *what = "cannot read repository activity";
	PGresult *r;

	memset(out, 0, sizeof(*out));
	hh_pg_arg_text(&a, repo);
	r = hh_pg_exec(
		pg,
		"SELECT COALESCE(SUM(CASE WHEN state IN ('queued', 'waiting') THEN 1"
		" ELSE 0 END), 0), COALESCE(MAX(CASE WHEN state IN ('fixing', 'committed',"
		" 'watching', 'reverting') THEN id ELSE 0 END), 0) FROM jobs WHERE repo = $1",
		&a, what);
	if (!r)
		return -1;
	if (PQntuples(r) > 0) {
		out->queued = hh_pg_cell_int(r, 0, 0);
		out->running = hh_pg_cell_int(r, 0, 1);
	}
	PQclear(r);
	r = hh_pg_exec(pg,
		       "SELECT id, state, reason, updated FROM jobs WHERE repo = $1"
		       " AND (state IN " ENDED " OR state = 'pushed')"
		       " ORDER BY updated DESC, id DESC LIMIT 1",
		       &a, what);
	if (!r)
		return -1;
	if (PQntuples(r) > 0) {
		out->last_job = hh_pg_cell_int(r, 0, 0);
		snprintf(out->last_state, sizeof(out->last_state), "%s",
			 cell(r, 0, 1) ? cell(r, 0, 1) : "");
		snprintf(out->last_reason, sizeof(out->last_reason), "%s",
			 cell(r, 0, 2) ? cell(r, 0, 2) : "");
		out->last_at = hh_pg_cell_int(r, 0, 3);
	}
	PQclear(r);
	return 0;
}

int hh_pg_repo_names(hh_pg *pg, int (*fn)(void *ctx, const char *repo), void *ctx)
{
	PGresult *r = hh_pg_exec(pg,
				 "SELECT repo FROM jobs UNION SELECT repo FROM repos ORDER BY 1",
				 NULL, "cannot list repositories");
	int i, rows;

	if (!r)
		return -1;
	rows = PQntuples(r);
	for (i = 0; i < rows; i++)
		if (cell(r, i, 0) && fn(ctx, cell(r, i, 0)))
			break;
	PQclear(r);
	return 0;
}

int hh_pg_outcomes_per_day(hh_pg *pg, long long since,
			   int (*fn)(void *ctx, long long day, const char *name, long long n),
			   void *ctx)
{
	struct pg_args a = {0};
	PGresult *r;
	int i, rows;

	hh_pg_arg_int(&a, since);
	r = hh_pg_exec(pg,
		       "SELECT updated / 86400 AS day, state AS name, COUNT(*) FROM jobs"
		       " WHERE state IN " ENDED " AND updated >= $1 GROUP BY updated / 86400, state"
		       " UNION ALL"
		       " SELECT created / 86400 AS day, 'rejected' AS name, COUNT(*) FROM findings"
		       " WHERE verdict = 'rejected' AND created >= $1 GROUP BY created / 86400"
		       " ORDER BY 1, 2",
		       &a, "cannot count outcomes");
	if (!r)
		return -1;
	rows = PQntuples(r);
	for (i = 0; i < rows; i++)
		if (fn(ctx, hh_pg_cell_int(r, i, 0), cell(r, i, 1) ? cell(r, i, 1) : "",
		       hh_pg_cell_int(r, i, 2)))
			break;
	PQclear(r);
	return 0;
}
