/*
 * store_retention: state.keep-deliveries, the bodies of old deliveries removed a batch at a
 * time (see S_DELIVERY_PRUNE). The rows stay: the duplicate check needs their ids and hashes.
 */
#include "internal/store.h"
#include "internal/store_priv.h"
#include "internal/store_pg.h"
#include "internal/log.h"

long long hh_store_prune_deliveries(hh_store *st, long long before, int batch)
{
	sqlite3_stmt *s;

	if (st->pg)
		return hh_pg_prune_deliveries(st->pg, before, batch);
	s = st->s[S_DELIVERY_PRUNE];
	if (hh_st_bind_int(s, 1, before) || hh_st_bind_int(s, 2, batch > 0 ? batch : 500))
		return hh_st_bind_failed(st, s, "cannot prune deliveries");
	if (hh_st_run(st, s, "cannot prune deliveries") < 0)
		return -1;
	return sqlite3_changes(st->db);
}
