/*
 * doctor_store: `healhook doctor` checks of the shared database ([state] database): that it
 * answers, and that its schema is the one this healhook knows. SQLite needs no check (it is
 * opened, and migrated, by every command).
 */
#include "internal/doctor_priv.h"
#include "internal/buf.h"
#include "internal/log.h"
#include "internal/store.h"

#include <stdlib.h>

void hh_doctor_check_store(hh_doctor *d)
{
	char *where = NULL;
	int have = 0, want = 0, rc = hh_store_probe(&where, &have, &want);

	if (rc == 1)
		return;
	if (rc < 0) {
		hh_doctor_add(
			d, HH_CHECK_FAIL, "store", "database",
			hh_asprintf("%s: %s", where ? where : "database", hh_error_last()),
			hh_strdup(
				"check [state] database, its password (database-password-file"
				" or PGPASSFILE) and that PostgreSQL runs and accepts this host"));
		hh_doctor_add(d, HH_CHECK_SKIP, "store", "schema version",
			      hh_strdup("database unreachable"), NULL);
		free(where);
		return;
	}
	hh_doctor_add(d, HH_CHECK_OK, "store", "database",
		      hh_asprintf("%s answers (instance %s)", where ? where : "database",
				  hh_store_instance()),
		      NULL);
	if (have == want)
		hh_doctor_add(d, HH_CHECK_OK, "store", "schema version",
			      hh_asprintf("%d (current)", have), NULL);
	else if (have < want)
		hh_doctor_add(
			d, HH_CHECK_FAIL, "store", "schema version",
			hh_asprintf("%d, this healhook needs %d", have, want),
			hh_strdup("run 'healhook migrate' (serve also migrates when it starts)"));
	else
		hh_doctor_add(d, HH_CHECK_FAIL, "store", "schema version",
			      hh_asprintf("%d, newer than this healhook (%d)", have, want),
			      hh_strdup("upgrade healhook on this host to the version that migrated"
					" the database"));
	free(where);
}
