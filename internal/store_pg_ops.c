/*
 * store_pg_ops: deliveries, findings, quarantine and repositories on PostgreSQL (see
 * store_pg.h). The same contract as store.c, made safe for several instances:
 *
 * - A delivery is unique by id and by body hash (unique indexes, schema version 3); the insert
 *   is INSERT ... ON CONFLICT DO NOTHING and says when another instance stored it first, so
 *   two instances given the same delivery store it once and both answer 2xx only after that
 *   commit.
 * - The fingerprint check of a finding takes a transaction-scoped advisory lock on the
 *   fingerprint first: a second transaction judging the same finding waits for the first to
 *   commit and then sees its job (READ COMMITTED: each statement reads what was committed
 *   before it started), so one finding never makes two jobs.
 */
#include "internal/store_pg.h"
#include "internal/store_pg_priv.h"
#include "internal/buf.h"
#include "internal/log.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NOT_FINAL "('queued','waiting','fixing','committed','pushed','watching','reverting')"

int hh_pg_delivery_known(hh_pg *pg, const char *id, const char *body_sha256)
{
	struct pg_args a = {0};

	hh_pg_arg_text(&a, id);
	hh_pg_arg_text(&a, body_sha256);
	return (int)hh_pg_int(pg,
			      "SELECT EXISTS (SELECT 1 FROM deliveries WHERE id = $1)"
			      " OR EXISTS (SELECT 1 FROM deliveries WHERE body_sha256 = $2)",
			      &a, "cannot look up delivery");
}

/* Returns 0 when stored, 1 when a delivery with this id or body hash was already stored. */
int hh_pg_delivery_insert(hh_pg *pg, const hh_delivery_rec *d)
{
	struct pg_args a = {0};
	const char *id = d->id ? d->id : d->body_sha256;
	PGresult *r;
	int ret;

	if (!id || !d->body_sha256)
		return hh_error("store: cannot insert delivery: no id and no body hash");
	hh_pg_arg_text(&a, id);
	hh_pg_arg_text(&a, d->body_sha256);
	hh_pg_arg_text(&a, d->event);
	hh_pg_arg_text(&a, d->repo);
	hh_pg_arg_text(&a, d->verdict);
	hh_pg_arg_text(&a, d->lookup ? d->lookup : "none");
	hh_pg_arg_int(&a, d->received);
	hh_pg_arg_text(&a, d->headers);
	hh_pg_arg_blob(&a, d->body, d->body_len);
	r = hh_pg_exec(pg,
		       "INSERT INTO deliveries (id, body_sha256, event, repo, verdict, lookup,"
		       " received, headers, body) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
		       " ON CONFLICT DO NOTHING",
		       &a, "cannot insert delivery");
	if (!r)
		return -1;
	ret = strcmp(PQcmdTuples(r), "1") == 0 ? 0 : 1;
	PQclear(r);
	return ret;
}

int hh_pg_delivery_set_lookup(hh_pg *pg, const char *id, const char *lookup)
{
	struct pg_args a = {0};

	hh_pg_arg_text(&a, id);
	hh_pg_arg_text(&a, lookup);
	return hh_pg_do(pg, "UPDATE deliveries SET lookup = $2 WHERE id = $1 AND lookup <> 'none'",
			&a, "cannot set delivery lookup");
}

/* One pending delivery at a time (seq > the last one), copied out before fn runs. */
static int next_pending(hh_pg *pg, long long *last, char **id, char **event, char **headers,
			unsigned char **body, size_t *body_len)
{
	struct pg_args a = {0};
	PGresult *r;
	int oom = 0, ret = -1;

	hh_pg_arg_int(&a, *last);
	r = hh_pg_exec(pg,
		       "SELECT seq, id, event, headers, body FROM deliveries"
		       " WHERE lookup = 'pending' AND seq > $1 ORDER BY seq LIMIT 1",
		       &a, "cannot list pending lookups");
	if (!r)
		return -1;
	if (PQntuples(r) == 0) {
		ret = 0;
		goto out;
	}
	*last = hh_pg_cell_int(r, 0, 0);
	*id = hh_pg_cell_dup(r, 0, 1, &oom);
	*event = hh_pg_cell_dup(r, 0, 2, &oom);
	*headers = hh_pg_cell_dup(r, 0, 3, &oom);
	*body = PQunescapeBytea((const unsigned char *)PQgetvalue(r, 0, 4), body_len);
	if (oom || !*body) {
		hh_error("out of memory");
		goto out;
	}
	ret = 1;
out:
	PQclear(r);
	return ret;
}

int hh_pg_pending_lookups(hh_pg *pg, hh_store_delivery_fn fn, void *ctx)
{
	long long last = 0;
	int rc;

	for (;;) {
		char *id = NULL, *event = NULL, *headers = NULL;
		unsigned char *body = NULL;
		size_t len = 0;

		rc = next_pending(pg, &last, &id, &event, &headers, &body, &len);
		if (rc == 1)
			rc = fn(ctx, id, event, headers, body, len) ? 2 : 1;
		free(id);
		free(event);
		free(headers);
		PQfreemem(body);
		if (rc != 1)
			return rc < 0 ? -1 : 0;
	}
}

long long hh_pg_delivery_count(hh_pg *pg)
{
	return hh_pg_int(pg, "SELECT COUNT(*) FROM deliveries", NULL, "cannot count deliveries");
}

int hh_pg_finding_insert(hh_pg *pg, const hh_finding_rec *f)
{
	struct pg_args a = {0};

	hh_pg_arg_text(&a, f->delivery_id);
	hh_pg_arg_text(&a, f->repo);
	hh_pg_arg_text(&a, f->branch);
	hh_pg_arg_text(&a, f->file);
	hh_pg_arg_int(&a, f->line);
	hh_pg_arg_text(&a, f->type);
	hh_pg_arg_text(&a, f->message);
	hh_pg_arg_text(&a, f->source);
	hh_pg_arg_text(&a, f->sender);
	hh_pg_arg_text(&a, f->verdict ? f->verdict : "rejected");
	hh_pg_arg_text(&a, f->reason);
	hh_pg_arg_text(&a, f->fingerprint);
	hh_pg_arg_job_id(&a, f->job_id);
	hh_pg_arg_int(&a, f->created);
	return hh_pg_do(pg,
			"INSERT INTO findings (delivery_id, repo, branch, file, line, type,"
			" message, source, sender, verdict, reason, fingerprint, job_id, created)"
			" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
			&a, "cannot insert finding");
}

int hh_pg_fingerprint_active(hh_pg *pg, const char *fingerprint, long long since)
{
	struct pg_args a = {0};

	hh_pg_arg_text(&a, fingerprint);
	/* Held until the transaction ends: the check and the job it leads to are one step. */
	if (pg->in_tx && hh_pg_do(pg, "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", &a,
				  "cannot lock fingerprint") < 0)
		return -1;
	hh_pg_arg_int(&a, since);
	return (int)hh_pg_int(pg,
			      "SELECT EXISTS (SELECT 1 FROM findings f"
			      " JOIN jobs j ON j.id = f.job_id WHERE f.fingerprint = $1"
			      " AND f.job_id IS NOT NULL AND (j.state IN " NOT_FINAL
			      " OR (j.state = 'healed' AND j.updated >= $2)))",
			      &a, "cannot look up fingerprint");
}

int hh_pg_quarantined(hh_pg *pg, const char *fingerprint)
{
	struct pg_args a = {0};

	hh_pg_arg_text(&a, fingerprint);
	return (int)hh_pg_int(pg, "SELECT EXISTS (SELECT 1 FROM quarantine WHERE fingerprint = $1)",
			      &a, "cannot look up quarantine");
}

int hh_pg_quarantine_add(hh_pg *pg, const char *fingerprint, const char *repo, const char *file,
			 long long job_id, long long when)
{
	struct pg_args a = {0};

	hh_pg_arg_text(&a, fingerprint);
	hh_pg_arg_text(&a, repo);
	hh_pg_arg_text(&a, file);
	hh_pg_arg_job_id(&a, job_id);
	hh_pg_arg_int(&a, when);
	return hh_pg_do(pg,
			"INSERT INTO quarantine (fingerprint, repo, file, job_id, added)"
			" VALUES ($1, $2, $3, $4, $5) ON CONFLICT (fingerprint) DO NOTHING",
			&a, "cannot quarantine finding");
}

int hh_pg_quarantine_job(hh_pg *pg, long long job_id, const char *repo, const char *file,
			 const char *extra_fingerprint, long long when)
{
	struct pg_args a = {0};

	hh_pg_arg_int(&a, job_id);
	hh_pg_arg_int(&a, when);
	if (hh_pg_do(pg,
		     "INSERT INTO quarantine (fingerprint, repo, file, job_id, added)"
		     " SELECT DISTINCT ON (fingerprint) fingerprint, repo, file, job_id, $2"
		     " FROM findings WHERE job_id = $1 AND fingerprint IS NOT NULL"
		     " ON CONFLICT (fingerprint) DO NOTHING",
		     &a, "cannot quarantine the job's findings") < 0)
		return -1;
	if (extra_fingerprint)
		return hh_pg_quarantine_add(pg, extra_fingerprint, repo, file, job_id, when);
	return 0;
}

int hh_pg_repo_has_waiting(hh_pg *pg, const char *repo)
{
	struct pg_args a = {0};

	hh_pg_arg_text(&a, repo);
	return (int)hh_pg_int(pg,
			      "SELECT EXISTS (SELECT 1 FROM jobs WHERE state = 'waiting'"
			      " AND repo = $1)",
			      &a, "cannot count waiting jobs");
}

int hh_pg_repo_frozen_info(hh_pg *pg, const char *repo, char **why, long long *since)
{
	struct pg_args a = {0};
	PGresult *r;
	int oom = 0, frozen = 0;

	if (why)
		*why = NULL;
	if (since)
		*since = 0;
	hh_pg_arg_text(&a, repo);
	r = hh_pg_exec(pg, "SELECT frozen, why, changed FROM repos WHERE repo = $1", &a,
		       "cannot look up repository");
	if (!r)
		return -1;
	if (PQntuples(r) > 0) {
		frozen = hh_pg_cell_int(r, 0, 0) != 0;
		if (frozen && why)
			*why = hh_pg_cell_dup(r, 0, 1, &oom);
		if (frozen && since)
			*since = hh_pg_cell_int(r, 0, 2);
	}
	PQclear(r);
	if (oom)
		return hh_error("out of memory");
	return frozen;
}

int hh_pg_repo_set_frozen(hh_pg *pg, const char *repo, int frozen, const char *why)
{
	struct pg_args a = {0};

	hh_pg_arg_text(&a, repo);
	hh_pg_arg_int(&a, frozen != 0);
	hh_pg_arg_text(&a, frozen ? why : NULL);
	hh_pg_arg_int(&a, (long long)time(NULL));
	return hh_pg_do(pg,
			"INSERT INTO repos (repo, frozen, why, changed)"
			" VALUES ($1, $2, $3, $4) ON CONFLICT (repo) DO UPDATE SET"
			" frozen = excluded.frozen, why = excluded.why, changed = excluded.changed",
			&a, "cannot set repository frozen");
}

/* Retention: the same UPDATE as SQLite's, rows locked by another instance's prune skipped. */
long long hh_pg_prune_deliveries(hh_pg *pg, long long before, int batch)
{
	struct pg_args a = {0};
	PGresult *r;
	long long n;

	hh_pg_arg_int(&a, before);
	hh_pg_arg_int(&a, batch > 0 ? batch : 500);
	r = hh_pg_exec(pg,
		       "UPDATE deliveries SET body = NULL, headers = NULL WHERE seq IN"
		       " (SELECT seq FROM deliveries WHERE body IS NOT NULL AND received < $1"
		       " AND lookup <> 'pending' LIMIT $2 FOR UPDATE SKIP LOCKED)",
		       &a, "cannot prune deliveries");
	if (!r)
		return -1;
	n = strtoll(PQcmdTuples(r), NULL, 10);
	PQclear(r);
	return n;
}
