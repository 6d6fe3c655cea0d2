/*
 * healhook migrate: creates or upgrades the store's schema (SQLite in state.dir, or the
 * PostgreSQL database of [state] database) and says which version it is at.
 */
#include "cmd/cmd.h"
#include "internal/log.h"
#include "internal/store.h"

#include <getopt.h>
#include <stdio.h>

static const char usage[] =
	"usage: healhook migrate [--config FILE]\n"
	"\n"
	"Creates the store's tables, or upgrades them to this healhook's schema version, in one\n"
	"transaction (instances starting together wait for each other). Every command also does\n"
	"this when it opens the store; run it alone before a rolling upgrade of several\n"
	"instances. Prints the back end and the schema version.\n";

int cmd_migrate(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *config = NULL;
	hh_config *cfg = NULL;
	hh_store *st = NULL;
	int c, have = 0, want = 0, rc = HH_EXIT_USAGE;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'h': fputs(usage, stdout); return HH_EXIT_OK;
		default: fputs(usage, stderr); return HH_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fputs(usage, stderr);
		return HH_EXIT_USAGE;
	}
	if (!(cfg = cmd_load_config(config)))
		return HH_EXIT_USAGE;
	if ((rc = cmd_open_store(&st, cfg, "migrate")) != HH_EXIT_OK)
		goto out;
	rc = HH_EXIT_FAIL;
	if (hh_store_schema_version(st, &have, &want) < 0) {
		cmd_die_msg("migrate", "%s", hh_error_last());
		goto out;
	}
	printf("%s store at schema version %d%s\n", hh_store_backend(st), have,
	       have == want ? " (current)" : "");
	rc = have == want ? HH_EXIT_OK : HH_EXIT_FAIL;
out:
	hh_store_close(st);
	hh_config_free(cfg);
	return rc;
}
