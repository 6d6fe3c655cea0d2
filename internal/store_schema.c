/*
 * store_schema: the store's schema and its migrations. The schema is versioned with PRAGMA
 * user_version: migrations[i] takes the database from version i to i + 1, so a later version
 * appends a step (ALTER TABLE ... ADD COLUMN) and never edits an old one. Part of the store
 * module (store_priv.h).
 */
#include "internal/store_priv.h"
#include "internal/store_pg.h"
#include "internal/log.h"

#include <stdio.h>

static const char *const migrations[] = {
	/* 0 -> 1: the initial schema. */
	"CREATE TABLE deliveries ("
	" seq INTEGER PRIMARY KEY,"
	" id TEXT NOT NULL,"          /* X-Gitea-Delivery, or the body hash when absent */
	" body_sha256 TEXT NOT NULL," /* not UNIQUE: duplicates are kept with their verdict */
	" event TEXT, repo TEXT, verdict TEXT,"
	" lookup TEXT NOT NULL DEFAULT 'none',"
	" received INTEGER NOT NULL,"
	" headers TEXT, body BLOB);"
	"CREATE INDEX deliveries_id ON deliveries(id);"
	"CREATE INDEX deliveries_sha ON deliveries(body_sha256);"
	"CREATE INDEX deliveries_pending ON deliveries(seq) WHERE lookup = 'pending';"
	"CREATE TABLE jobs ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" repo TEXT NOT NULL, branch TEXT, file TEXT, type TEXT, message TEXT,"
	" delivery_id TEXT, pr_number INTEGER NOT NULL DEFAULT 0, pr_url TEXT, sender TEXT,"
	" state TEXT NOT NULL, reason TEXT, attempts INTEGER NOT NULL DEFAULT 0,"
	" base_sha TEXT, commit_sha TEXT, revert_sha TEXT,"
	" diff_lines INTEGER NOT NULL DEFAULT 0, output_tail TEXT, stages TEXT,"
	" created INTEGER NOT NULL, updated INTEGER NOT NULL, detail TEXT,"
	" pr_head INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX jobs_state ON jobs(state, repo);"
	"CREATE INDEX jobs_queue ON jobs(state, created, id);"
	"CREATE INDEX jobs_repo ON jobs(repo, created);"
	"CREATE INDEX jobs_recent ON jobs(created, id);"
	"CREATE TABLE findings ("
	" id INTEGER PRIMARY KEY,"
	" delivery_id TEXT, repo TEXT, branch TEXT, file TEXT, line INTEGER, type TEXT,"
	" message TEXT, source TEXT, sender TEXT, verdict TEXT NOT NULL, reason TEXT,"
	" fingerprint TEXT, job_id INTEGER REFERENCES jobs(id), created INTEGER NOT NULL);"
	"CREATE INDEX findings_fingerprint ON findings(fingerprint);"
	"CREATE INDEX findings_job ON findings(job_id);"
	"CREATE TABLE fix_runs ("
	" id INTEGER PRIMARY KEY,"
	" repo TEXT NOT NULL, job_id INTEGER REFERENCES jobs(id), ran_at INTEGER NOT NULL);"
	"CREATE INDEX fix_runs_repo ON fix_runs(repo, ran_at);"
	"CREATE TABLE repos ("
	" repo TEXT PRIMARY KEY, frozen INTEGER NOT NULL DEFAULT 0, why TEXT,"
	" changed INTEGER NOT NULL);"
	"CREATE TABLE quarantine ("
	" fingerprint TEXT PRIMARY KEY, repo TEXT, file TEXT,"
	" job_id INTEGER REFERENCES jobs(id), added INTEGER NOT NULL);",
	/* 1 -> 2: the duplicate check (S_FINGERPRINT_ACTIVE) looks only at findings that made a
	 * job. findings_fingerprint also holds every rejected repeat of a finding, so the check
	 * read one row per earlier delivery of it: intake slowed down linearly with the history
	 * (docs/performance.md). */
	"CREATE INDEX findings_fingerprint_job ON findings(fingerprint, job_id)"
	" WHERE job_id IS NOT NULL;",
	/* 2 -> 3: what the status pages show besides the job (store_status.c): every health
	 * probe of a watch and its answer, every notification delivered or given up. */
	"CREATE TABLE health_probes ("
	" id INTEGER PRIMARY KEY,"
	" job_id INTEGER NOT NULL REFERENCES jobs(id), sha TEXT, at INTEGER NOT NULL,"
	" status INTEGER NOT NULL, verdict TEXT NOT NULL, answer TEXT);"
	"CREATE INDEX health_probes_job ON health_probes(job_id, id);"
	"CREATE TABLE notifications ("
	" id INTEGER PRIMARY KEY,"
	" job_id INTEGER REFERENCES jobs(id), outcome TEXT NOT NULL, target TEXT NOT NULL,"
	" ok INTEGER NOT NULL, attempts INTEGER NOT NULL, error TEXT, at INTEGER NOT NULL);"
	"CREATE INDEX notifications_job ON notifications(job_id, id);",
	/* 3 -> 4: cost must not grow with history. Job counts per state (/metrics) are kept
	 * by triggers instead of counted over every job; retention (state.keep-deliveries)
	 * finds the old bodies through a partial index of the rows that still have one. */
	"CREATE TABLE job_state_counts (state TEXT PRIMARY KEY, n INTEGER NOT NULL)"
	" WITHOUT ROWID;"
	"INSERT INTO job_state_counts (state, n) SELECT state, COUNT(*) FROM jobs GROUP BY state;"
	"CREATE TRIGGER jobs_count_insert AFTER INSERT ON jobs BEGIN"
	" INSERT INTO job_state_counts (state, n) VALUES (NEW.state, 1)"
	"  ON CONFLICT (state) DO UPDATE SET n = n + 1; END;"
	"CREATE TRIGGER jobs_count_update AFTER UPDATE OF state ON jobs"
	" WHEN OLD.state IS NOT NEW.state BEGIN"
	" UPDATE job_state_counts SET n = n - 1 WHERE state = OLD.state;"
	" INSERT INTO job_state_counts (state, n) VALUES (NEW.state, 1)"
	"  ON CONFLICT (state) DO UPDATE SET n = n + 1; END;"
	"CREATE TRIGGER jobs_count_delete AFTER DELETE ON jobs BEGIN"
	" UPDATE job_state_counts SET n = n - 1 WHERE state = OLD.state; END;"
	"CREATE INDEX deliveries_body_age ON deliveries(received) WHERE body IS NOT NULL;",
	/* 4 -> 5: findings_fingerprint served no query since 2 (the duplicate check reads
	 * findings_fingerprint_job); every finding stored paid a write of a random page of it. */
	"DROP INDEX IF EXISTS findings_fingerprint;",
};
#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

static int user_version(hh_store *st, int *out)
{
	sqlite3_stmt *s = NULL;
	int ret = -1;

	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL) != SQLITE_OK ||
	    sqlite3_step(s) != SQLITE_ROW) {
		hh_st_db_error(st, "cannot read schema version");
		goto out;
	}
	*out = sqlite3_column_int(s, 0);
	ret = 0;
out:
	sqlite3_finalize(s);
	return ret;
}

/* Brings the schema to SCHEMA_VERSION, in one transaction (another process may race us). */
int hh_st_migrate(hh_store *st)
{
	char sql[64];
	int v, ret = -1;

	if (hh_st_exec(st, "BEGIN IMMEDIATE", "cannot begin schema migration") < 0)
		return -1;
	if (user_version(st, &v) < 0)
		goto out;
	if (v > SCHEMA_VERSION) {
		/* hh_store_open names the file */
		hh_error("store: the database has schema version %d, newer than this healhook (%d)",
			 v, SCHEMA_VERSION);
		goto out;
	}
	if (v == SCHEMA_VERSION) {
		ret = 0;
		goto out;
	}
	for (; v < SCHEMA_VERSION; v++)
		if (hh_st_exec(st, migrations[v], "cannot migrate schema") < 0)
			goto out;
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", SCHEMA_VERSION);
	if (hh_st_exec(st, sql, "cannot set schema version") < 0 ||
	    hh_st_exec(st, "COMMIT", "cannot commit schema migration") < 0)
		goto out;
	return 0;
out:
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return ret;
}

int hh_store_schema_version(hh_store *st, int *have, int *want)
{
	if (st->pg)
		return hh_pg_schema_version(st->pg, have, want);
	*want = SCHEMA_VERSION;
	return user_version(st, have);
}
