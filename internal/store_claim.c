/*
 * store_claim: the per-repository claim taken by `healhook heal` (the same rule as the
 * worker's hh_store_job_claim: one job in progress per repository), and whether a job's
 * finding is quarantined. Part of the store module.
 */
#include "internal/store.h"
#include "internal/store_priv.h"
#include "internal/store_pg.h"
#include "internal/log.h"

#include <stdio.h>
#include <string.h>

/* The oldest job of repo in progress (fixing, committed, watching, reverting), or 0. */
static long long busy_job(hh_store *st, const char *repo, const char **state_out)
{
	static const char sql[] =
		"SELECT id, state FROM jobs WHERE repo = ?1 AND state IN "
		"('fixing','committed','watching','reverting') ORDER BY id LIMIT 1";
	static char state[16];
	sqlite3_stmt *s = NULL;
	long long id = -1;
	int rc;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
		hh_st_db_error(st, "cannot look up jobs in progress");
		return -1;
	}
	if (hh_st_bind_text(s, 1, repo)) {
		hh_st_db_error(st, "cannot look up jobs in progress");
		goto out;
	}
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		id = sqlite3_column_int64(s, 0);
		snprintf(state, sizeof(state), "%s", (const char *)sqlite3_column_text(s, 1));
		if (state_out)
			*state_out = state;
	} else if (rc == SQLITE_DONE) {
		id = 0;
	} else {
		hh_st_db_error(st, "cannot look up jobs in progress");
	}
out:
	sqlite3_finalize(s);
	return id;
}

int hh_store_job_insert_claimed(hh_store *st, hh_job *job, long long *busy, const char **state)
{
	long long other;
	int ret = -1;

	*busy = 0;
	if (st->pg)
		return hh_pg_job_insert_claimed(st->pg, job, busy, state);
	if (hh_store_begin(st) < 0)
		return -1;
	other = busy_job(st, job->repo, state);
	if (other < 0)
		goto out;
	if (other > 0) {
		*busy = other;
		ret = 0;
		goto out;
	}
	job->state = HH_JOB_FIXING;
	if (hh_store_job_insert(st, job) < 0)
		goto out;
	ret = 1;
out:
	if (ret >= 0 && hh_store_commit(st) < 0)
		ret = -1;
	if (ret < 0)
		hh_store_rollback(st);
	return ret;
}

int hh_store_job_quarantined(hh_store *st, long long job_id)
{
	static const char sql[] = "SELECT EXISTS (SELECT 1 FROM quarantine WHERE job_id = ?1)";
	sqlite3_stmt *s = NULL;
	int ret = -1;

	if (st->pg)
		return hh_pg_job_quarantined(st->pg, job_id);
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK ||
	    hh_st_bind_int(s, 1, job_id)) {
		hh_st_db_error(st, "cannot look up quarantine");
		goto out;
	}
	if (sqlite3_step(s) == SQLITE_ROW)
		ret = sqlite3_column_int(s, 0) != 0;
	else
		hh_st_db_error(st, "cannot look up quarantine");
out:
	sqlite3_finalize(s);
	return ret;
}
