/*
 * store_pg_jobs: jobs, the claim and the L3 ledger on PostgreSQL (see store_pg.h).
 *
 * The claim is one statement: the oldest queued job of a repository with nothing in progress,
 * locked FOR UPDATE SKIP LOCKED (instances claiming at the same moment take different rows
 * instead of waiting), moved to fixing with this instance as owner and a fresh lease. The
 * partial unique index jobs_one_in_progress makes a second job of the same repository in
 * progress impossible whatever the race: the later claim fails with a unique violation and
 * claims nothing. Because a repository has one job in progress, its L3 ledger (counted before
 * the fixer runs, appended when it starts) is read and written by one job at a time.
 *
 * A job update is fenced by the lease: an instance whose job was taken over after its lease
 * ran out can no longer write it.
 */
#include "internal/store_pg.h"
#include "internal/store_pg_priv.h"
#include "internal/buf.h"
#include "internal/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define JOB_COLS                                                                                   \
	"id, repo, branch, file, type, message, delivery_id, pr_number, pr_url, sender, state,"    \
	" reason, attempts, base_sha, commit_sha, revert_sha, diff_lines, output_tail, stages,"    \
	" created, updated, detail, pr_head"
#define IN_PROGRESS "('fixing','committed','watching','reverting')"

/* Every column but id, in JOB_COLS order, as the next 22 parameters. */
static void job_args(struct pg_args *a, const hh_job *j, long long created, long long updated)
{
	hh_pg_arg_text(a, j->repo);
	hh_pg_arg_text(a, j->branch);
	hh_pg_arg_text(a, j->file);
	hh_pg_arg_text(a, j->type);
	hh_pg_arg_text(a, j->message);
	hh_pg_arg_text(a, j->delivery_id);
	hh_pg_arg_int(a, j->pr_number);
	hh_pg_arg_text(a, j->pr_url);
	hh_pg_arg_text(a, j->sender);
	hh_pg_arg_text(a, hh_job_state_name(j->state));
	hh_pg_arg_text(a, j->reason);
	hh_pg_arg_int(a, j->attempts);
	hh_pg_arg_text(a, j->base_sha);
	hh_pg_arg_text(a, j->commit_sha);
	hh_pg_arg_text(a, j->revert_sha);
	hh_pg_arg_int(a, j->diff_lines);
	hh_pg_arg_text(a, j->output_tail);
	hh_pg_arg_text(a, j->stages);
	hh_pg_arg_int(a, created);
	hh_pg_arg_int(a, updated);
	hh_pg_arg_text(a, j->detail);
	hh_pg_arg_int(a, j->pr_head);
}

/* Reads row of a JOB_COLS result into out (zeroed first); releases it on failure. */
static int read_job(const PGresult *r, int row, hh_job *out)
{
	int oom = 0, state;
	const char *name = PQgetisnull(r, row, 10) ? NULL : PQgetvalue(r, row, 10);

	memset(out, 0, sizeof(*out));
	out->id = hh_pg_cell_int(r, row, 0);
	out->repo = hh_pg_cell_dup(r, row, 1, &oom);
	out->branch = hh_pg_cell_dup(r, row, 2, &oom);
	out->file = hh_pg_cell_dup(r, row, 3, &oom);
	out->type = hh_pg_cell_dup(r, row, 4, &oom);
	out->message = hh_pg_cell_dup(r, row, 5, &oom);
	out->delivery_id = hh_pg_cell_dup(r, row, 6, &oom);
	out->pr_number = (long)hh_pg_cell_int(r, row, 7);
	out->pr_url = hh_pg_cell_dup(r, row, 8, &oom);
	out->sender = hh_pg_cell_dup(r, row, 9, &oom);
	out->reason = hh_pg_cell_dup(r, row, 11, &oom);
	out->attempts = (int)hh_pg_cell_int(r, row, 12);
	out->base_sha = hh_pg_cell_dup(r, row, 13, &oom);
	out->commit_sha = hh_pg_cell_dup(r, row, 14, &oom);
	out->revert_sha = hh_pg_cell_dup(r, row, 15, &oom);
	out->diff_lines = (long)hh_pg_cell_int(r, row, 16);
	out->output_tail = hh_pg_cell_dup(r, row, 17, &oom);
	out->stages = hh_pg_cell_dup(r, row, 18, &oom);
	out->created = hh_pg_cell_int(r, row, 19);
	out->updated = hh_pg_cell_int(r, row, 20);
	out->detail = hh_pg_cell_dup(r, row, 21, &oom);
	out->pr_head = (int)hh_pg_cell_int(r, row, 22);
	state = hh_job_state_parse(name);
	if (oom || state < 0) {
		long long id = out->id;

		hh_job_release(out);
		if (oom)
			return hh_error("out of memory");
		return hh_error("store: job %lld has unknown state '%s'", id, name ? name : "");
	}
	out->state = (enum hh_job_state)state;
	return 0;
}

int hh_pg_job_insert(hh_pg *pg, hh_job *job)
{
	struct pg_args a = {0};
	long long created = job->created ? job->created : (long long)time(NULL);
	long long updated = job->updated ? job->updated : created, id;

	if (!job->repo)
		return hh_error("store: cannot insert job: no repository");
	job_args(&a, job, created, updated);
	id = hh_pg_int(pg,
		       "INSERT INTO jobs (repo, branch, file, type, message, delivery_id,"
		       " pr_number, pr_url, sender, state, reason, attempts, base_sha,"
		       " commit_sha, revert_sha, diff_lines, output_tail, stages, created,"
		       " updated, detail, pr_head) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,"
		       " $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)"
		       " RETURNING id",
		       &a, "cannot insert job");
	if (id <= 0)
		return -1;
	job->id = id;
	job->created = created;
	job->updated = updated;
	return 0;
}

int hh_pg_job_update(hh_pg *pg, const hh_job *job)
{
	struct pg_args a = {0};
	PGresult *r;
	int changed;

	if (!job->repo)
		return hh_error("store: cannot update job %lld: no repository", job->id);
	hh_pg_arg_int(&a, job->id);
	job_args(&a, job, job->created, (long long)time(NULL));
	hh_pg_arg_text(&a, hh_pg_cfg.instance);
	r = hh_pg_exec(pg,
		       "UPDATE jobs SET repo = $2, branch = $3, file = $4, type = $5,"
		       " message = $6, delivery_id = $7, pr_number = $8, pr_url = $9,"
		       " sender = $10, state = $11, reason = $12, attempts = $13,"
		       " base_sha = $14, commit_sha = $15, revert_sha = $16, diff_lines = $17,"
		       " output_tail = $18, stages = $19, created = $20, updated = $21,"
		       " detail = $22, pr_head = $23"
		       " WHERE id = $1 AND (owner IS NULL OR owner = $24)",
		       &a, "cannot update job");
	if (!r)
		return -1;
	changed = atoi(PQcmdTuples(r));
	PQclear(r);
	if (changed == 1)
		return 0;
	{
		struct pg_args b = {0};
		long long n;

		hh_pg_arg_int(&b, job->id);
		n = hh_pg_int(pg, "SELECT COUNT(*) FROM jobs WHERE id = $1", &b,
			      "cannot update job");
		if (n > 0)
			return hh_error(
				"store: cannot update job %lld: another instance took it over",
				job->id);
	}
	return hh_error("store: cannot update job %lld: no such job", job->id);
}

/* Runs a JOB_COLS query into a new array of jobs (caller frees with hh_store_jobs_free). */
static int query_jobs(hh_pg *pg, const char *sql, const struct pg_args *a, hh_job **out, size_t *n,
		      const char *what)
{
	PGresult *r = hh_pg_exec(pg, sql, a, what);
	hh_job *v = NULL;
	int rows, i, ret = -1;

	*out = NULL;
	*n = 0;
	if (!r)
		return -1;
	rows = PQntuples(r);
	if (rows && !(v = calloc((size_t)rows, sizeof(*v)))) {
		hh_error("out of memory");
		goto out;
	}
	for (i = 0; i < rows; i++)
		if (read_job(r, i, &v[i]) < 0) {
			hh_store_jobs_free(v, (size_t)i);
			goto out;
		}
	*out = v;
	*n = (size_t)rows;
	ret = 0;
out:
	PQclear(r);
	return ret;
}

int hh_pg_job_get(hh_pg *pg, long long id, hh_job *out)
{
	struct pg_args a = {0};
	hh_job *v = NULL;
	size_t n = 0;

	memset(out, 0, sizeof(*out));
	hh_pg_arg_int(&a, id);
	if (query_jobs(pg, "SELECT " JOB_COLS " FROM jobs WHERE id = $1", &a, &v, &n,
		       "cannot read job") < 0)
		return -1;
	if (n == 0)
		return hh_error("store: no job %lld", id);
	*out = v[0];
	free(v);
	return 0;
}

int hh_pg_jobs_recent(hh_pg *pg, const char *repo, int limit, hh_job **out, size_t *n)
{
	struct pg_args a = {0};

	/* Two statements, so that one repository's history reads the index jobs_repo. */
	if (!repo) {
		hh_pg_arg_int(&a, limit > 0 ? limit : 50);
		return query_jobs(pg,
				  "SELECT " JOB_COLS " FROM jobs ORDER BY created DESC, id DESC"
				  " LIMIT $1",
				  &a, out, n, "cannot list jobs");
	}
	hh_pg_arg_text(&a, repo);
	hh_pg_arg_int(&a, limit > 0 ? limit : 50);
	return query_jobs(pg,
			  "SELECT " JOB_COLS " FROM jobs WHERE repo = $1"
			  " ORDER BY created DESC, id DESC LIMIT $2",
			  &a, out, n, "cannot list jobs");
}

int hh_pg_jobs_in_state(hh_pg *pg, enum hh_job_state state, hh_job **out, size_t *n)
{
	struct pg_args a = {0};

	hh_pg_arg_text(&a, hh_job_state_name(state));
	return query_jobs(pg, "SELECT " JOB_COLS " FROM jobs WHERE state = $1 ORDER BY created, id",
			  &a, out, n, "cannot list jobs");
}

int hh_pg_job_counts(hh_pg *pg, void (*fn)(void *ctx, enum hh_job_state s, long long n), void *ctx)
{
	long long counts[HH_JOB_STATE_COUNT] = {0};
	PGresult *r = hh_pg_exec(pg, "SELECT state, COUNT(*) FROM jobs GROUP BY state", NULL,
				 "cannot count jobs");
	int i, rows;

	if (!r)
		return -1;
	rows = PQntuples(r);
	for (i = 0; i < rows; i++) {
		int s = hh_job_state_parse(PQgetvalue(r, i, 0));
		if (s >= 0)
			counts[s] += hh_pg_cell_int(r, i, 1);
	}
	PQclear(r);
	for (i = 0; i < HH_JOB_STATE_COUNT; i++)
		if (counts[i])
			fn(ctx, (enum hh_job_state)i, counts[i]);
	return 0;
}

long long hh_pg_queue_depth(hh_pg *pg)
{
	return hh_pg_int(pg, "SELECT COUNT(*) FROM jobs WHERE state IN ('queued', 'waiting')", NULL,
			 "cannot count queued jobs");
}

/* skip as a text[] literal: {"a","b"} with " and \ escaped. Caller frees. */
static char *text_array(const char *const *v, size_t n)
{
	hh_buf b = HH_BUF_INIT;
	size_t i;
	const char *p;

	hh_buf_putc(&b, '{');
	for (i = 0; i < n; i++) {
		if (!v[i])
			continue;
		hh_buf_puts(&b, b.len > 1 ? ",\"" : "\"");
		for (p = v[i]; *p; p++) {
			if (*p == '"' || *p == '\\')
				hh_buf_putc(&b, '\\');
			hh_buf_putc(&b, *p);
		}
		hh_buf_putc(&b, '"');
	}
	if (hh_buf_putc(&b, '}') < 0) {
		hh_buf_release(&b);
		return NULL;
	}
	return b.ptr;
}

int hh_pg_job_claim(hh_pg *pg, const char *const *skip_repos, size_t nskip, hh_job *out)
{
	struct pg_args a = {0};
	long long now = (long long)time(NULL);
	char *skip = text_array(skip_repos, nskip);
	PGresult *r;
	const char *code;
	long long id = 0;

	memset(out, 0, sizeof(*out));
	if (!skip)
		return hh_error("out of memory");
	hh_pg_arg_int(&a, now);
	hh_pg_arg_text(&a, hh_pg_cfg.instance);
	hh_pg_arg_int(&a, now + hh_pg_cfg.lease);
	hh_pg_arg_text(&a, skip);
	/* Not hh_pg_exec: a unique violation is an answer here, not an error. */
	r = PQexecParams(pg->conn,
			 "UPDATE jobs SET state = 'fixing', updated = $1, owner = $2,"
			 " lease_until = $3 WHERE id = (SELECT id FROM jobs WHERE state = 'queued'"
			 " AND repo NOT IN (SELECT repo FROM jobs WHERE state IN " IN_PROGRESS
			 " OR (state = 'pushed' AND owner IS NOT NULL))"
			 " AND repo NOT IN (SELECT repo FROM repos WHERE frozen <> 0)"
			 " AND NOT (repo = ANY ($4::text[]))"
			 " ORDER BY created, id LIMIT 1 FOR UPDATE SKIP LOCKED)"
			 " AND state = 'queued' RETURNING id",
			 a.n, NULL, a.v, a.len, a.fmt, 0);
	free(skip);
	code = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	if (code && strcmp(code, "23505") == 0) {
		PQclear(r); /* another instance took a job of that repository a moment ago */
		return 0;
	}
	if (!r || PQresultStatus(r) != PGRES_TUPLES_OK) {
		hh_pg_error(pg, r, "cannot claim job");
		PQclear(r);
		if (!pg->in_tx && PQstatus(pg->conn) == CONNECTION_BAD)
			PQreset(pg->conn), pg->nprepared = 0;
		return -1;
	}
	if (PQntuples(r) > 0)
		id = hh_pg_cell_int(r, 0, 0);
	PQclear(r);
	if (!id)
		return 0;
	if (hh_pg_job_get(pg, id, out) < 0)
		return -1;
	return 1;
}

int hh_pg_fix_run_add(hh_pg *pg, const char *repo, long long job_id, long long when)
{
	struct pg_args a = {0};

	hh_pg_arg_text(&a, repo);
	hh_pg_arg_job_id(&a, job_id);
	hh_pg_arg_int(&a, when);
	return hh_pg_do(pg, "INSERT INTO fix_runs (repo, job_id, ran_at) VALUES ($1, $2, $3)", &a,
			"cannot record fixer run");
}

long long hh_pg_fix_runs_since(hh_pg *pg, const char *repo, long long since)
{
	struct pg_args a = {0};

	hh_pg_arg_text(&a, repo);
	hh_pg_arg_int(&a, since);
	return hh_pg_int(pg, "SELECT COUNT(*) FROM fix_runs WHERE repo = $1 AND ran_at >= $2", &a,
			 "cannot count fixer runs");
}

/* The oldest job of repo in progress into *busy and *state (a static string), 0 when none. */
static int busy_job(hh_pg *pg, const char *repo, long long *busy, const char **state)
{
	static char name[16];
	struct pg_args a = {0};
	PGresult *r;

	hh_pg_arg_text(&a, repo);
	r = hh_pg_exec(pg,
		       "SELECT id, state FROM jobs WHERE repo = $1 AND state IN " IN_PROGRESS
		       " ORDER BY id LIMIT 1",
		       &a, "cannot look up jobs in progress");
	if (!r)
		return -1;
	*busy = 0;
	if (PQntuples(r) > 0) {
		*busy = hh_pg_cell_int(r, 0, 0);
		snprintf(name, sizeof(name), "%s", PQgetvalue(r, 0, 1));
		if (state)
			*state = name;
	}
	PQclear(r);
	return 0;
}

/*
 * heal's claim: one INSERT that adds the job in fixing only when its repository has nothing in
 * progress; the partial unique index jobs_one_in_progress settles a race with another instance
 * (ON CONFLICT DO NOTHING: no row). The job has no owner: heal runs it itself, and no lease
 * takeover touches it. A job in progress that ended between the two statements is retried.
 */
int hh_pg_job_insert_claimed(hh_pg *pg, hh_job *job, long long *busy, const char **state)
{
	long long now = (long long)time(NULL), id;
	int tries;

	*busy = 0;
	if (!job->repo)
		return hh_error("store: cannot insert job: no repository");
	job->state = HH_JOB_FIXING;
	if (!job->created)
		job->created = now;
	if (!job->updated)
		job->updated = job->created;
	for (tries = 0; tries < 5; tries++) {
		struct pg_args a = {0};

		job_args(&a, job, job->created, job->updated);
		id = hh_pg_int(pg,
			       "INSERT INTO jobs (repo, branch, file, type, message, delivery_id,"
			       " pr_number, pr_url, sender, state, reason, attempts, base_sha,"
			       " commit_sha, revert_sha, diff_lines, output_tail, stages, created,"
			       " updated, detail, pr_head) SELECT $1, $2, $3, $4, $5, $6,"
			       " $7::bigint, $8, $9, $10, $11, $12::integer, $13, $14, $15,"
			       " $16::bigint, $17, $18, $19::bigint, $20::bigint, $21, $22::integer"
			       " WHERE NOT EXISTS (SELECT 1 FROM jobs WHERE repo = $1::text"
			       " AND state IN " IN_PROGRESS ") ON CONFLICT DO NOTHING RETURNING id",
			       &a, "cannot insert job");
		if (id < 0)
			return -1;
		if (id > 0) {
			job->id = id;
			return 1;
		}
		if (busy_job(pg, job->repo, busy, state) < 0)
			return -1;
		if (*busy > 0)
			return 0;
	}
	return hh_error("store: cannot claim '%s': its jobs in progress keep changing", job->repo);
}

int hh_pg_job_quarantined(hh_pg *pg, long long job_id)
{
	struct pg_args a = {0};

	hh_pg_arg_int(&a, job_id);
	return (int)hh_pg_int(pg, "SELECT EXISTS (SELECT 1 FROM quarantine WHERE job_id = $1)", &a,
			      "cannot look up quarantine");
}
