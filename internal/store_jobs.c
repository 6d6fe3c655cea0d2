/*
 * store_jobs: the jobs table, the atomic claim and the L3 ledger. Part of the store module
 * (see store.c for the idea and store_priv.h for what the two files share).
 */
#include "internal/store.h"
#include "internal/store_priv.h"
#include "internal/store_pg.h"
#include "internal/buf.h"
#include "internal/log.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- jobs ---- */

void hh_job_release(hh_job *job)
{
	if (!job)
		return;
	free(job->repo);
	free(job->branch);
	free(job->file);
	free(job->type);
	free(job->message);
	free(job->delivery_id);
	free(job->pr_url);
	free(job->sender);
	free(job->reason);
	free(job->base_sha);
	free(job->commit_sha);
	free(job->revert_sha);
	free(job->output_tail);
	free(job->stages);
	free(job->detail);
	memset(job, 0, sizeof(*job));
}

void hh_store_jobs_free(hh_job *jobs, size_t n)
{
	size_t i;

	if (!jobs)
		return;
	for (i = 0; i < n; i++)
		hh_job_release(&jobs[i]);
	free(jobs);
}

/* Binds parameters 2..23 (every column but id) of S_JOB_INSERT / S_JOB_UPDATE. */
static int bind_job(sqlite3_stmt *s, const hh_job *j, long long created, long long updated)
{
	return hh_st_bind_text(s, 2, j->repo) || hh_st_bind_text(s, 3, j->branch) ||
	       hh_st_bind_text(s, 4, j->file) || hh_st_bind_text(s, 5, j->type) ||
	       hh_st_bind_text(s, 6, j->message) || hh_st_bind_text(s, 7, j->delivery_id) ||
	       hh_st_bind_int(s, 8, j->pr_number) || hh_st_bind_text(s, 9, j->pr_url) ||
	       hh_st_bind_text(s, 10, j->sender) ||
	       hh_st_bind_text(s, 11, hh_job_state_name(j->state)) ||
	       hh_st_bind_text(s, 12, j->reason) || hh_st_bind_int(s, 13, j->attempts) ||
	       hh_st_bind_text(s, 14, j->base_sha) || hh_st_bind_text(s, 15, j->commit_sha) ||
	       hh_st_bind_text(s, 16, j->revert_sha) || hh_st_bind_int(s, 17, j->diff_lines) ||
	       hh_st_bind_text(s, 18, j->output_tail) || hh_st_bind_text(s, 19, j->stages) ||
	       hh_st_bind_int(s, 20, created) || hh_st_bind_int(s, 21, updated) ||
	       hh_st_bind_text(s, 22, j->detail) || hh_st_bind_int(s, 23, j->pr_head);
}

/* Reads a row of JOB_COLS into out (zeroed first); releases it on failure. */
static int read_job(sqlite3_stmt *s, hh_job *out)
{
	int oom = 0, state;
	const char *name;

	memset(out, 0, sizeof(*out));
	out->id = sqlite3_column_int64(s, 0);
	out->repo = hh_st_col_dup(s, 1, &oom);
	out->branch = hh_st_col_dup(s, 2, &oom);
	out->file = hh_st_col_dup(s, 3, &oom);
	out->type = hh_st_col_dup(s, 4, &oom);
	out->message = hh_st_col_dup(s, 5, &oom);
	out->delivery_id = hh_st_col_dup(s, 6, &oom);
	out->pr_number = (long)sqlite3_column_int64(s, 7);
	out->pr_url = hh_st_col_dup(s, 8, &oom);
	out->sender = hh_st_col_dup(s, 9, &oom);
	name = (const char *)sqlite3_column_text(s, 10);
	out->reason = hh_st_col_dup(s, 11, &oom);
	out->attempts = sqlite3_column_int(s, 12);
	out->base_sha = hh_st_col_dup(s, 13, &oom);
	out->commit_sha = hh_st_col_dup(s, 14, &oom);
	out->revert_sha = hh_st_col_dup(s, 15, &oom);
	out->diff_lines = (long)sqlite3_column_int64(s, 16);
	out->output_tail = hh_st_col_dup(s, 17, &oom);
	out->stages = hh_st_col_dup(s, 18, &oom);
	out->created = sqlite3_column_int64(s, 19);
	out->updated = sqlite3_column_int64(s, 20);
	out->detail = hh_st_col_dup(s, 21, &oom);
	out->pr_head = sqlite3_column_int(s, 22);
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

int hh_store_job_insert(hh_store *st, hh_job *job)
{
	if (st->pg)
		return hh_pg_job_insert(st->pg, job);
	sqlite3_stmt *s = st->s[S_JOB_INSERT];
	long long created = job->created ? job->created : (long long)time(NULL);
	long long updated = job->updated ? job->updated : created;

	if (!job->repo)
		return hh_error("store: cannot insert job: no repository");
	if (bind_job(s, job, created, updated))
		return hh_st_bind_failed(st, s, "cannot insert job");
	if (hh_st_run(st, s, "cannot insert job") < 0)
		return -1;
	job->id = sqlite3_last_insert_rowid(st->db);
	job->created = created;
	job->updated = updated;
	return 0;
}

int hh_store_job_update(hh_store *st, const hh_job *job)
{
	if (st->pg)
		return hh_pg_job_update(st->pg, job);
	sqlite3_stmt *s = st->s[S_JOB_UPDATE];

	if (!job->repo)
		return hh_error("store: cannot update job %lld: no repository", job->id);
	if (hh_st_bind_int(s, 1, job->id) || bind_job(s, job, job->created, (long long)time(NULL)))
		return hh_st_bind_failed(st, s, "cannot update job");
	if (hh_st_run(st, s, "cannot update job") < 0)
		return -1;
	if (sqlite3_changes(st->db) != 1)
		return hh_error("store: cannot update job %lld: no such job", job->id);
	return 0;
}

int hh_store_job_get(hh_store *st, long long id, hh_job *out)
{
	if (st->pg)
		return hh_pg_job_get(st->pg, id, out);
	sqlite3_stmt *s = st->s[S_JOB_GET];
	int rc, ret = -1;

	memset(out, 0, sizeof(*out));
	if (hh_st_bind_int(s, 1, id))
		return hh_st_bind_failed(st, s, "cannot read job");
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		ret = read_job(s, out);
	else if (rc == SQLITE_DONE)
		hh_error("store: no job %lld", id);
	else
		hh_st_db_error(st, "cannot read job");
	hh_st_done(s);
	return ret;
}

/* Reads every row of a bound JOB_COLS statement into a new array; resets s. */
static int read_jobs(hh_store *st, sqlite3_stmt *s, hh_job **out, size_t *n, const char *what)
{
	hh_job *v = NULL, *p;
	size_t len = 0, cap = 0;
	int rc, ret = -1;

	*out = NULL;
	*n = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (len == cap) {
			cap = cap ? cap * 2 : 16;
			p = realloc(v, cap * sizeof(*v));
			if (!p) {
				hh_error("out of memory");
				goto out;
			}
			v = p;
		}
		if (read_job(s, &v[len]) < 0)
			goto out;
		len++;
	}
	if (rc != SQLITE_DONE) {
		hh_st_db_error(st, what);
		goto out;
	}
	*out = v;
	*n = len;
	v = NULL;
	ret = 0;
out:
	hh_st_done(s);
	hh_store_jobs_free(v, len);
	return ret;
}

int hh_store_jobs_recent(hh_store *st, const char *repo, int limit, hh_job **out, size_t *n)
{
	if (st->pg)
		return hh_pg_jobs_recent(st->pg, repo, limit, out, n);
	sqlite3_stmt *s = st->s[repo ? S_JOBS_RECENT_REPO : S_JOBS_RECENT];

	*out = NULL;
	*n = 0;
	if (hh_st_bind_text(s, 1, repo) || hh_st_bind_int(s, 2, limit > 0 ? limit : 50))
		return hh_st_bind_failed(st, s, "cannot list jobs");
	return read_jobs(st, s, out, n, "cannot list jobs");
}

int hh_store_jobs_in_state(hh_store *st, enum hh_job_state state, hh_job **out, size_t *n)
{
	if (st->pg)
		return hh_pg_jobs_in_state(st->pg, state, out, n);
	sqlite3_stmt *s = st->s[S_JOBS_IN_STATE];

	*out = NULL;
	*n = 0;
	if (hh_st_bind_text(s, 1, hh_job_state_name(state)))
		return hh_st_bind_failed(st, s, "cannot list jobs");
	return read_jobs(st, s, out, n, "cannot list jobs");
}

int hh_store_job_counts(hh_store *st, void (*fn)(void *ctx, enum hh_job_state s, long long n),
			void *ctx)
{
	if (st->pg)
		return hh_pg_job_counts(st->pg, fn, ctx);
	sqlite3_stmt *s = st->s[S_JOB_COUNTS];
	long long counts[HH_JOB_STATE_COUNT] = {0};
	int rc, i;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		i = hh_job_state_parse((const char *)sqlite3_column_text(s, 0));
		if (i >= 0)
			counts[i] += sqlite3_column_int64(s, 1);
	}
	if (rc != SQLITE_DONE) {
		hh_st_db_error(st, "cannot count jobs");
		hh_st_done(s);
		return -1;
	}
	hh_st_done(s);
	/* Called after the statement is reset, in enum order, so fn may use the store. */
	for (i = 0; i < HH_JOB_STATE_COUNT; i++)
		if (counts[i])
			fn(ctx, (enum hh_job_state)i, counts[i]);
	return 0;
}

long long hh_store_queue_depth(hh_store *st)
{
	if (st->pg)
		return hh_pg_queue_depth(st->pg);
	return hh_st_query_int(st, st->s[S_QUEUE_DEPTH], "cannot count queued jobs");
}

static int in_list(const char *const *list, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (list[i] && strcmp(list[i], s) == 0)
			return 1;
	return 0;
}

/*
 * Finds and takes the job in one write transaction (BEGIN IMMEDIATE), so two workers, in
 * threads or processes, can never take two jobs of one repository. Inside a transaction the
 * caller began, it runs as part of that transaction.
 */
int hh_store_job_claim(hh_store *st, const char *const *skip_repos, size_t nskip, hh_job *out)
{
	if (st->pg)
		return hh_pg_job_claim(st->pg, skip_repos, nskip, out);
	sqlite3_stmt *s = st->s[S_CLAIM_CANDIDATES];
	int own = sqlite3_get_autocommit(st->db), rc, ret = -1;
	long long id = 0;

	memset(out, 0, sizeof(*out));
	if (own && hh_store_begin(st) < 0)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *repo = (const char *)sqlite3_column_text(s, 1);

		if (repo && !in_list(skip_repos, nskip, repo)) {
			id = sqlite3_column_int64(s, 0);
			break;
		}
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		hh_st_db_error(st, "cannot claim job");
		hh_st_done(s);
		goto out;
	}
	hh_st_done(s);
	if (!id) {
		ret = 0;
		goto out;
	}
	s = st->s[S_CLAIM_TAKE];
	if (hh_st_bind_int(s, 1, id) || hh_st_bind_int(s, 2, (long long)time(NULL))) {
		hh_st_bind_failed(st, s, "cannot claim job");
		goto out;
	}
	if (hh_st_run(st, s, "cannot claim job") < 0 || hh_store_job_get(st, id, out) < 0)
		goto out;
	ret = 1;
out:
	if (own) {
		if (ret >= 0 && hh_store_commit(st) < 0) {
			hh_job_release(out);
			ret = -1;
		}
		if (ret < 0)
			hh_store_rollback(st);
	}
	return ret;
}

/* ---- L3 ledger ---- */

int hh_store_fix_run_add(hh_store *st, const char *repo, long long job_id, long long when)
{
	if (st->pg)
		return hh_pg_fix_run_add(st->pg, repo, job_id, when);
	sqlite3_stmt *s = st->s[S_FIX_RUN_ADD];

	if (hh_st_bind_text(s, 1, repo) || hh_st_bind_job_id(s, 2, job_id) ||
	    hh_st_bind_int(s, 3, when))
		return hh_st_bind_failed(st, s, "cannot record fixer run");
	return hh_st_run(st, s, "cannot record fixer run");
}

long long hh_store_fix_runs_since(hh_store *st, const char *repo, long long since)
{
	if (st->pg)
		return hh_pg_fix_runs_since(st->pg, repo, since);
	sqlite3_stmt *s = st->s[S_FIX_RUNS_SINCE];

	if (hh_st_bind_text(s, 1, repo) || hh_st_bind_int(s, 2, since))
		return hh_st_bind_failed(st, s, "cannot count fixer runs");
	return hh_st_query_int(st, s, "cannot count fixer runs");
}
