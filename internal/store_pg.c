/*
 * store_pg: the PostgreSQL back end of the store: the connection, errors, transactions, the
 * schema migrations and the job leases. See store_pg.h and store.h.
 *
 * One handle is one libpq connection used by one thread at a time. Statements go through
 * hh_pg_exec() with text parameters (bytea in binary). A connection that broke (the server
 * restarted) is reset before the next statement outside a transaction, so an instance recovers
 * without a restart; while the server is down every call fails with "database unavailable",
 * which intake answers with 503 and Retry-After.
 *
 * The schema is versioned in a schema_version table (one row per applied step), migrated in one
 * transaction under an advisory lock so that instances starting together do not race. Versions
 * 1 and 2 are the SQLite schema's (store.c); version 3 adds what only a shared database needs:
 * the job lease (owner, lease_until), one job in progress per repository as a partial unique
 * index, deliveries unique by id and by body hash, and job_states, the history of state
 * changes written by a trigger; version 4 is the SQLite schema's 3 (health probes and
 * notifications for the status pages).
 *
 * The password (database-password-file) is given to libpq as a parameter, never put in a
 * message; a URL that carries one is shown without it.
 */
#include "internal/store_pg.h"
#include "internal/store_pg_priv.h"
#include "internal/buf.h"
#include "internal/log.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The advisory lock key that serializes schema migrations ("hhmg"). */
#define MIGRATE_LOCK 0x68686d67LL

struct pg_target hh_pg_cfg;

static const char *const pg_migrations[] = {
	/* 0 -> 1: the initial schema (the SQLite schema's version 1). */
	"CREATE TABLE deliveries ("
	" seq BIGSERIAL PRIMARY KEY, id TEXT NOT NULL, body_sha256 TEXT NOT NULL,"
	" event TEXT, repo TEXT, verdict TEXT, lookup TEXT NOT NULL DEFAULT 'none',"
	" received BIGINT NOT NULL, headers TEXT, body BYTEA);"
	"CREATE INDEX deliveries_id ON deliveries(id);"
	"CREATE INDEX deliveries_sha ON deliveries(body_sha256);"
	"CREATE INDEX deliveries_pending ON deliveries(seq) WHERE lookup = 'pending';"
	"CREATE TABLE jobs ("
	" id BIGSERIAL PRIMARY KEY, repo TEXT NOT NULL, branch TEXT, file TEXT, type TEXT,"
	" message TEXT, delivery_id TEXT, pr_number BIGINT NOT NULL DEFAULT 0, pr_url TEXT,"
	" sender TEXT, state TEXT NOT NULL, reason TEXT, attempts INTEGER NOT NULL DEFAULT 0,"
	" base_sha TEXT, commit_sha TEXT, revert_sha TEXT, diff_lines BIGINT NOT NULL DEFAULT 0,"
	" output_tail TEXT, stages TEXT, created BIGINT NOT NULL, updated BIGINT NOT NULL,"
	" detail TEXT, pr_head INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX jobs_state ON jobs(state, repo);"
	"CREATE INDEX jobs_queue ON jobs(state, created, id);"
	"CREATE INDEX jobs_repo ON jobs(repo, created);"
	"CREATE INDEX jobs_recent ON jobs(created, id);"
	"CREATE TABLE findings ("
	" id BIGSERIAL PRIMARY KEY, delivery_id TEXT, repo TEXT, branch TEXT, file TEXT,"
	" line BIGINT, type TEXT, message TEXT, source TEXT, sender TEXT, verdict TEXT NOT NULL,"
	" reason TEXT, fingerprint TEXT, job_id BIGINT REFERENCES jobs(id),"
	" created BIGINT NOT NULL);"
	"CREATE INDEX findings_fingerprint ON findings(fingerprint);"
	"CREATE INDEX findings_job ON findings(job_id);"
	"CREATE TABLE fix_runs ("
	" id BIGSERIAL PRIMARY KEY, repo TEXT NOT NULL, job_id BIGINT REFERENCES jobs(id),"
	" ran_at BIGINT NOT NULL);"
	"CREATE INDEX fix_runs_repo ON fix_runs(repo, ran_at);"
	"CREATE TABLE repos ("
	" repo TEXT PRIMARY KEY, frozen INTEGER NOT NULL DEFAULT 0, why TEXT,"
	" changed BIGINT NOT NULL);"
	"CREATE TABLE quarantine ("
	" fingerprint TEXT PRIMARY KEY, repo TEXT, file TEXT, job_id BIGINT REFERENCES jobs(id),"
	" added BIGINT NOT NULL);",
	/* 1 -> 2: the duplicate check reads only findings that made a job (as SQLite's 2). */
	"CREATE INDEX findings_fingerprint_job ON findings(fingerprint, job_id)"
	" WHERE job_id IS NOT NULL;",
	/* 2 -> 3: what several instances on one database need. */
	"ALTER TABLE jobs ADD COLUMN owner TEXT,"
	" ADD COLUMN lease_until BIGINT NOT NULL DEFAULT 0;"
	"CREATE UNIQUE INDEX jobs_one_in_progress ON jobs(repo)"
	" WHERE state IN ('fixing', 'committed', 'watching', 'reverting');"
	"CREATE INDEX jobs_lease ON jobs(lease_until) WHERE owner IS NOT NULL;"
	"CREATE UNIQUE INDEX deliveries_unique_id ON deliveries(id);"
	"CREATE UNIQUE INDEX deliveries_unique_sha ON deliveries(body_sha256);"
	"CREATE TABLE job_states ("
	" seq BIGSERIAL PRIMARY KEY, job_id BIGINT NOT NULL, repo TEXT NOT NULL,"
	" state TEXT NOT NULL, owner TEXT, at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp());"
	"CREATE INDEX job_states_job ON job_states(job_id);"
	"CREATE FUNCTION healhook_job_state() RETURNS trigger LANGUAGE plpgsql AS $$"
	" BEGIN"
	"  IF TG_OP = 'INSERT' OR OLD.state IS DISTINCT FROM NEW.state THEN"
	"   INSERT INTO job_states (job_id, repo, state, owner)"
	"    VALUES (NEW.id, NEW.repo, NEW.state, NEW.owner);"
	"  END IF;"
	"  RETURN NULL;"
	" END $$;"
	"CREATE TRIGGER jobs_state_history AFTER INSERT OR UPDATE OF state ON jobs"
	" FOR EACH ROW EXECUTE FUNCTION healhook_job_state();",
	/* 3 -> 4: the status pages' records (the SQLite schema's 3, store_status.c): every
	 * health probe of a watch and its answer, every notification delivered or given up. */
	"CREATE TABLE health_probes ("
	" id BIGSERIAL PRIMARY KEY,"
	" job_id BIGINT NOT NULL REFERENCES jobs(id), sha TEXT, at BIGINT NOT NULL,"
	" status INTEGER NOT NULL, verdict TEXT NOT NULL, answer TEXT);"
	"CREATE INDEX health_probes_job ON health_probes(job_id, id);"
	"CREATE TABLE notifications ("
	" id BIGSERIAL PRIMARY KEY,"
	" job_id BIGINT REFERENCES jobs(id), outcome TEXT NOT NULL, target TEXT NOT NULL,"
	" ok INTEGER NOT NULL, attempts INTEGER NOT NULL, error TEXT, at BIGINT NOT NULL);"
	"CREATE INDEX notifications_job ON notifications(job_id, id);",
	/* 4 -> 5: retention (state.keep-deliveries) finds the old bodies through a partial
	 * index, as SQLite's 4. Job counts stay counted (no trigger-kept table: one row per state
	 * updated by every job change would serialize the instances' writes). */
	"CREATE INDEX deliveries_body_age ON deliveries(received) WHERE body IS NOT NULL;",
	/* 5 -> 6: findings_fingerprint served no query since 2 (as SQLite's 5). */
	"DROP INDEX IF EXISTS findings_fingerprint;",
};
#define PG_SCHEMA_VERSION ((int)(sizeof(pg_migrations) / sizeof(pg_migrations[0])))

/* ---- the process-wide target (hh_store_setup) ---- */

const char *hh_pg_target(void)
{
	return hh_pg_cfg.database;
}

/* The URL without a password ("postgresql://user:secret@host/db" -> "postgresql://user@host/db"),
 * for messages. Caller frees. */
char *hh_pg_redacted(const char *url)
{
	const char *scheme = strstr(url, "://"), *at, *colon;
	hh_buf b = HH_BUF_INIT;

	if (!scheme)
		return hh_strdup("(database)");
	scheme += 3;
	at = strchr(scheme, '@');
	colon = at ? memchr(scheme, ':', (size_t)(at - scheme)) : NULL;
	if (!colon)
		return hh_strdup(url);
	if (hh_buf_put(&b, url, (size_t)(colon - url)) < 0 || hh_buf_puts(&b, at) < 0) {
		hh_buf_release(&b);
		return NULL;
	}
	return b.ptr;
}

/* ---- errors ---- */

/* Copies the first line of a libpq message into buf. */
static const char *first_line(const char *msg, char *buf, size_t size)
{
	size_t n = 0;

	while (msg && msg[n] && msg[n] != '\n' && n + 1 < size) {
		buf[n] = msg[n];
		n++;
	}
	buf[n] = 0;
	return buf;
}

/*
 * Sets "store: <what>: <message>" from a failed result (or the connection). A lost or refused
 * connection, and a server shutting down, say "database unavailable"; a deadlock, a
 * serialization failure or a lock timeout say "busy"; a full disk says "disk full". All three
 * have code HH_EBUSY (intake answers 503), anything else HH_ERR. Returns the code.
 */
int hh_pg_error(hh_pg *pg, const PGresult *r, const char *what)
{
	const char *code = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = r && *PQresultErrorMessage(r) ? PQresultErrorMessage(r)
							: PQerrorMessage(pg->conn);
	char line[400];

	first_line(msg, line, sizeof(line));
	if (PQstatus(pg->conn) == CONNECTION_BAD ||
	    (code && (strncmp(code, "08", 2) == 0 || strncmp(code, "57P", 3) == 0)))
		return hh_fail(HH_EBUSY, "store: %s: database unavailable (%s)", what, line);
	if (code && (strcmp(code, "40001") == 0 || strcmp(code, "40P01") == 0 ||
		     strcmp(code, "55P03") == 0))
		return hh_fail(HH_EBUSY, "store: %s: database busy (%s)", what, line);
	if (code && strcmp(code, "53100") == 0)
		return hh_fail(HH_EBUSY, "store: %s: disk full (%s)", what, line);
	return hh_error("store: %s: %s", what, line);
}

/* ---- arguments ---- */

void hh_pg_arg_text(struct pg_args *a, const char *v)
{
	a->v[a->n] = v;
	a->len[a->n] = 0;
	a->fmt[a->n] = 0;
	a->n++;
}

void hh_pg_arg_int(struct pg_args *a, long long v)
{
	snprintf(a->num[a->n], sizeof(a->num[0]), "%lld", v);
	hh_pg_arg_text(a, a->num[a->n]);
}

void hh_pg_arg_job_id(struct pg_args *a, long long v)
{
	if (v)
		hh_pg_arg_int(a, v);
	else
		hh_pg_arg_text(a, NULL);
}

void hh_pg_arg_blob(struct pg_args *a, const void *v, size_t n)
{
	a->v[a->n] = v ? v : "";
	a->len[a->n] = (int)n;
	a->fmt[a->n] = 1;
	a->n++;
}

/* ---- statements ---- */

/* Prepares sql on this connection the first time it is used (statement "hhN"); later calls
 * only send the parameters. Past PG_MAX_PREPARED statements, the rest are sent whole. */
static PGresult *run(hh_pg *pg, const char *sql, const struct pg_args *a)
{
	char name[16];
	int i;

	if (!a)
		return PQexec(pg->conn, sql);
	for (i = 0; i < pg->nprepared && pg->prepared[i] != sql; i++)
		;
	if (i == pg->nprepared) {
		PGresult *r;

		if (i == PG_MAX_PREPARED)
			return PQexecParams(pg->conn, sql, a->n, NULL, a->v, a->len, a->fmt, 0);
		snprintf(name, sizeof(name), "hh%d", i);
		r = PQprepare(pg->conn, name, sql, a->n, NULL);
		if (!r || PQresultStatus(r) != PGRES_COMMAND_OK)
			return r;
		PQclear(r);
		pg->prepared[pg->nprepared++] = sql;
	}
	snprintf(name, sizeof(name), "hh%d", i);
	return PQexecPrepared(pg->conn, name, a->n, a->v, a->len, a->fmt, 0);
}

/* PQreset: a new server session, without the prepared statements. */
static void reset(hh_pg *pg)
{
	PQreset(pg->conn);
	pg->nprepared = 0;
}

static int ok_status(const PGresult *r)
{
	ExecStatusType s = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;

	return s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
}

/*
 * Runs sql with the arguments a (may be NULL: then sql may hold several statements). Returns
 * the result (the caller PQclear()s it) or NULL with the error set. Outside a transaction a
 * broken connection is reset first, and a statement that failed because the connection had
 * broken is sent once more on the new connection (the old server never ran it).
 */
PGresult *hh_pg_exec(hh_pg *pg, const char *sql, const struct pg_args *a, const char *what)
{
	PGresult *r;
	int tries = pg->in_tx ? 1 : 2;

	for (;;) {
		if (!pg->in_tx && PQstatus(pg->conn) == CONNECTION_BAD) {
			reset(pg);
			if (PQstatus(pg->conn) == CONNECTION_BAD) {
				hh_pg_error(pg, NULL, what);
				return NULL;
			}
		}
		r = run(pg, sql, a);
		if (ok_status(r))
			return r;
		if (--tries > 0 && PQstatus(pg->conn) == CONNECTION_BAD) {
			PQclear(r);
			continue;
		}
		hh_pg_error(pg, r, what);
		PQclear(r);
		return NULL;
	}
}

int hh_pg_do(hh_pg *pg, const char *sql, const struct pg_args *a, const char *what)
{
	PGresult *r = hh_pg_exec(pg, sql, a, what);

	if (!r)
		return -1;
	PQclear(r);
	return 0;
}

long long hh_pg_int(hh_pg *pg, const char *sql, const struct pg_args *a, const char *what)
{
	PGresult *r = hh_pg_exec(pg, sql, a, what);
	long long v = 0;

	if (!r)
		return -1;
	if (PQntuples(r) > 0)
		v = hh_pg_cell_int(r, 0, 0);
	PQclear(r);
	return v;
}

/* Copies a text cell (NULL stays NULL); sets *oom when a copy fails. */
char *hh_pg_cell_dup(const PGresult *r, int row, int col, int *oom)
{
	char *p;

	if (PQgetisnull(r, row, col))
		return NULL;
	p = hh_strdup(PQgetvalue(r, row, col));
	if (!p)
		*oom = 1;
	return p;
}

/* An integer cell; a boolean (EXISTS) reads "t" or "f" in text format. NULL is 0. */
long long hh_pg_cell_int(const PGresult *r, int row, int col)
{
	const char *v;

	if (PQgetisnull(r, row, col))
		return 0;
	v = PQgetvalue(r, row, col);
	if (v[0] == 't' && !v[1])
		return 1;
	return strtoll(v, NULL, 10);
}

/* ---- transactions ---- */

int hh_pg_begin(hh_pg *pg)
{
	if (hh_pg_do(pg, "BEGIN", NULL, "cannot begin transaction") < 0)
		return -1;
	pg->in_tx = 1;
	return 0;
}

/* COMMIT of a transaction that failed answers "ROLLBACK", not an error: check the tag. */
int hh_pg_commit(hh_pg *pg)
{
	PGresult *r = hh_pg_exec(pg, "COMMIT", NULL, "cannot commit");
	int ret = 0;

	pg->in_tx = 0;
	if (!r)
		return -1;
	if (strcmp(PQcmdStatus(r), "COMMIT") != 0)
		ret = hh_error("store: cannot commit: the transaction was rolled back");
	PQclear(r);
	return ret;
}

void hh_pg_rollback(hh_pg *pg)
{
	if (!pg || !pg->in_tx)
		return;
	pg->in_tx = 0;
	if (PQstatus(pg->conn) != CONNECTION_BAD)
		PQclear(PQexec(pg->conn, "ROLLBACK"));
}

/* ---- schema ---- */

static int read_version(hh_pg *pg, int *v)
{
	long long n = hh_pg_int(pg, "SELECT COALESCE(MAX(version), 0) FROM schema_version", NULL,
				"cannot read schema version");

	if (n < 0)
		return -1;
	*v = (int)n;
	return 0;
}

/* Brings the schema to PG_SCHEMA_VERSION in one transaction, under an advisory lock. */
static int migrate(hh_pg *pg)
{
	struct pg_args a = {0};
	int v, ret = -1;

	if (hh_pg_begin(pg) < 0)
		return -1;
	hh_pg_arg_int(&a, MIGRATE_LOCK);
	if (hh_pg_do(pg, "SELECT pg_advisory_xact_lock($1)", &a, "cannot lock the schema") < 0 ||
	    hh_pg_do(pg,
		     "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY,"
		     " applied BIGINT NOT NULL)",
		     NULL, "cannot create schema_version") < 0 ||
	    read_version(pg, &v) < 0)
		goto out;
	if (v > PG_SCHEMA_VERSION) {
		hh_error("store: the database has schema version %d, newer than this healhook (%d)",
			 v, PG_SCHEMA_VERSION);
		goto out;
	}
	for (; v < PG_SCHEMA_VERSION; v++) {
		struct pg_args b = {0};

		hh_pg_arg_int(&b, v + 1);
		hh_pg_arg_int(&b, (long long)time(NULL));
		if (hh_pg_do(pg, pg_migrations[v], NULL, "cannot migrate schema") < 0 ||
		    hh_pg_do(pg, "INSERT INTO schema_version (version, applied) VALUES ($1, $2)",
			     &b, "cannot set schema version") < 0)
			goto out;
	}
	if (hh_pg_commit(pg) < 0)
		return -1;
	return 0;
out:
	hh_pg_rollback(pg);
	return ret;
}

int hh_pg_schema_version(hh_pg *pg, int *have, int *want)
{
	long long exists;

	*want = PG_SCHEMA_VERSION;
	*have = 0;
	exists = hh_pg_int(pg, "SELECT to_regclass('schema_version') IS NOT NULL", NULL,
			   "cannot read schema version");
	if (exists <= 0)
		return (int)exists;
	return read_version(pg, have);
}

int hh_pg_health(hh_pg *pg)
{
	return hh_pg_int(pg, "SELECT 1", NULL, "cannot reach the database") == 1 ? 0 : -1;
}

/* ---- open and close ---- */

int hh_pg_open(hh_pg **out, int do_migrate)
{
	const char *keys[5], *vals[5];
	hh_pg *pg = NULL;
	int n = 0, ret = -1;
	char *shown = NULL;

	*out = NULL;
	if (!hh_pg_cfg.database)
		return hh_error("store: no database configured");
	if (!(pg = calloc(1, sizeof(*pg))))
		return hh_error("out of memory");
	keys[n] = "dbname", vals[n++] = hh_pg_cfg.database;
	keys[n] = "application_name", vals[n++] = "healhook";
	keys[n] = "connect_timeout", vals[n++] = "5";
	if (hh_pg_cfg.password)
		keys[n] = "password", vals[n++] = hh_pg_cfg.password;
	keys[n] = NULL, vals[n] = NULL;
	pg->conn = PQconnectdbParams(keys, vals, 1);
	if (!pg->conn) {
		hh_error("out of memory");
		goto out;
	}
	if (PQstatus(pg->conn) != CONNECTION_OK) {
		char line[400];

		shown = hh_pg_redacted(hh_pg_cfg.database);
		ret = hh_fail(HH_EBUSY, "store: cannot open '%s': database unavailable (%s)",
			      shown ? shown : "",
			      first_line(PQerrorMessage(pg->conn), line, sizeof(line)));
		goto out;
	}
	PQclear(PQexec(pg->conn, "SET client_min_messages = warning"));
	if (do_migrate && migrate(pg) < 0)
		goto out;
	*out = pg;
	pg = NULL;
	ret = 0;
out:
	free(shown);
	hh_pg_close(pg);
	return ret;
}

void hh_pg_close(hh_pg *pg)
{
	if (!pg)
		return;
	hh_pg_rollback(pg);
	PQfinish(pg->conn);
	free(pg);
}

/* ---- leases ---- */

long long hh_pg_takeovers(hh_pg *pg)
{
	struct pg_args a = {0};

	hh_pg_arg_text(&a, hh_pg_cfg.instance);
	return hh_pg_int(pg,
			 "SELECT COUNT(*) FROM job_states WHERE state = 'takeover'"
			 " AND owner = $1",
			 &a, "cannot count takeovers");
}

#define LEASED_STATES "('fixing', 'committed', 'pushed', 'watching', 'reverting')"

/* Only the jobs this process runs: a job of this instance's previous life (same id, after a
 * restart) must expire so that it is taken over and resumed. */
int hh_pg_lease_renew(hh_pg *pg, const long long *ids, size_t n)
{
	struct pg_args a = {0};
	hh_buf list = HH_BUF_INIT;
	PGresult *r;
	size_t i;
	int renewed = -1;

	if (n == 0)
		return 0;
	hh_buf_putc(&list, '{');
	for (i = 0; i < n; i++)
		hh_buf_printf(&list, "%s%lld", i ? "," : "", ids[i]);
	if (hh_buf_putc(&list, '}') < 0) {
		hh_buf_release(&list);
		return hh_error("out of memory");
	}
	hh_pg_arg_text(&a, hh_pg_cfg.instance);
	hh_pg_arg_int(&a, (long long)time(NULL) + hh_pg_cfg.lease);
	hh_pg_arg_text(&a, list.ptr);
	r = hh_pg_exec(pg,
		       "UPDATE jobs SET lease_until = $2 WHERE owner = $1"
		       " AND id = ANY ($3::bigint[])",
		       &a, "cannot renew leases");
	hh_buf_release(&list);
	if (r) {
		renewed = atoi(PQcmdTuples(r));
		PQclear(r);
	}
	return renewed;
}

int hh_pg_lease_drop(hh_pg *pg, long long job_id)
{
	struct pg_args a = {0};

	hh_pg_arg_int(&a, job_id);
	hh_pg_arg_text(&a, hh_pg_cfg.instance);
	return hh_pg_do(pg,
			"UPDATE jobs SET owner = NULL, lease_until = 0"
			" WHERE id = $1 AND owner = $2",
			&a, "cannot release lease");
}

/* Also adopts jobs in progress that nobody owns (left by `healhook heal` or an edit of the
 * database), which a restart resumes on SQLite too. */
int hh_pg_lease_forget_mine(hh_pg *pg)
{
	struct pg_args a = {0};

	hh_pg_arg_text(&a, hh_pg_cfg.instance);
	return hh_pg_do(pg,
			"UPDATE jobs SET owner = $1, lease_until = 0 WHERE owner = $1"
			" OR (owner IS NULL AND state IN ('fixing', 'committed', 'watching',"
			" 'reverting'))",
			&a, "cannot release leases");
}

/* Takes the oldest job whose lease ran out (its owner died or lost the database for longer
 * than the lease). Returns 1 with *out filled, 0 when there is none. */
int hh_pg_lease_takeover(hh_pg *pg, hh_job *out)
{
	struct pg_args a = {0};
	long long now = (long long)time(NULL), id;

	memset(out, 0, sizeof(*out));
	hh_pg_arg_text(&a, hh_pg_cfg.instance);
	hh_pg_arg_int(&a, now);
	hh_pg_arg_int(&a, now + hh_pg_cfg.lease);
	/* The takeover is written to the history of state changes, in the same statement. */
	id = hh_pg_int(pg,
		       "WITH t AS (UPDATE jobs SET owner = $1, lease_until = $3 WHERE id = ("
		       " SELECT id FROM jobs WHERE owner IS NOT NULL AND lease_until < $2"
		       " AND state IN " LEASED_STATES " ORDER BY id LIMIT 1"
		       " FOR UPDATE SKIP LOCKED) RETURNING id, repo),"
		       " h AS (INSERT INTO job_states (job_id, repo, state, owner)"
		       " SELECT id, repo, 'takeover', $1 FROM t)"
		       " SELECT id FROM t",
		       &a, "cannot take over a job");
	if (id <= 0)
		return id < 0 ? -1 : 0;
	{
		char num[24];

		snprintf(num, sizeof(num), "%lld", id);
		hh_log(HH_LOG_WARN, "job.takeover", "job", num, "instance", hh_pg_cfg.instance,
		       NULL);
	}
	if (hh_pg_job_get(pg, id, out) < 0)
		return -1;
	return 1;
}
