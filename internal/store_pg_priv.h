/*
 * store_pg_priv: what the PostgreSQL files of the store share (store_pg.c, store_pg_ops.c,
 * store_pg_jobs.c). libpq types never leave these files.
 */
#ifndef HH_STORE_PG_PRIV_H
#define HH_STORE_PG_PRIV_H

#include <libpq-fe.h>
#include <stddef.h>

#include "internal/store_pg.h"

/* The process-wide target, set once at start-up by hh_store_setup() (store_api.c). */
struct pg_target {
	char *database; /* libpq URL or conninfo; NULL = SQLite */
	char *password; /* from database-password-file; NULL = libpq's own (PGPASSFILE) */
	char *instance; /* this instance's id in job leases */
	long lease;     /* seconds a lease lasts without renewal */
};
extern struct pg_target hh_pg_cfg;

/* Statements are prepared once per connection, keyed by their SQL text's address (every
 * statement is a string literal); a reset connection forgets them. */
#define PG_MAX_PREPARED 64

struct hh_pg {
	PGconn *conn;
	int in_tx; /* between hh_pg_begin and commit/rollback */
	const char *prepared[PG_MAX_PREPARED];
	int nprepared;
};

/* Parameters of one statement: text (NULL = SQL NULL) or binary (bytea). */
#define PG_MAX_ARGS 24
struct pg_args {
	const char *v[PG_MAX_ARGS];
	int len[PG_MAX_ARGS];
	int fmt[PG_MAX_ARGS];
	char num[PG_MAX_ARGS][24];
	int n;
};
void hh_pg_arg_text(struct pg_args *a, const char *v);
void hh_pg_arg_int(struct pg_args *a, long long v);
void hh_pg_arg_job_id(struct pg_args *a, long long v); /* 0 = NULL */
void hh_pg_arg_blob(struct pg_args *a, const void *v, size_t n);

int hh_pg_error(hh_pg *pg, const PGresult *r, const char *what);
/* The result (caller PQclear()s) or NULL with the error set. */
PGresult *hh_pg_exec(hh_pg *pg, const char *sql, const struct pg_args *a, const char *what);
int hh_pg_do(hh_pg *pg, const char *sql, const struct pg_args *a, const char *what);
/* The first column of the first row (0 when there is none), or -1 on error. */
long long hh_pg_int(hh_pg *pg, const char *sql, const struct pg_args *a, const char *what);
char *hh_pg_cell_dup(const PGresult *r, int row, int col, int *oom);
long long hh_pg_cell_int(const PGresult *r, int row, int col);

/* A URL with its password removed, for messages; caller frees (NULL when out of memory). */
char *hh_pg_redacted(const char *url);
long long hh_pg_takeovers(hh_pg *pg);

#endif
