/*
 * store_plan: the query plans of the store's statements (EXPLAIN QUERY PLAN), so that unit
 * tests can prove every query on the hot path searches an index instead of scanning a table
 * whose size is the history (deliveries, jobs, findings).
 */
#include "internal/store_priv.h"
#include "internal/log.h"

#include <stdlib.h>

int hh_st_query_plan(hh_store *st, int id, hh_buf *out)
{
	sqlite3_stmt *q = NULL;
	char *sql;
	int rc;

	if (id < 0 || id >= S_COUNT || !st->s[id])
		return hh_error("store: no statement %d", id);
	sql = hh_asprintf("EXPLAIN QUERY PLAN %s", sqlite3_sql(st->s[id]));
	if (!sql)
		return -1;
	rc = sqlite3_prepare_v2(st->db, sql, -1, &q, NULL);
	free(sql);
	if (rc != SQLITE_OK)
		return hh_st_db_error(st, "cannot explain statement");
	while ((rc = sqlite3_step(q)) == SQLITE_ROW)
		hh_buf_printf(out, "%s\n", (const char *)sqlite3_column_text(q, 3));
	sqlite3_finalize(q);
	return rc == SQLITE_DONE ? 0 : hh_st_db_error(st, "cannot explain statement");
}
