/* The temporary store directory of the store's unit tests (see store_tmp.h). */
#include "tests/unit/store_tmp.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int tmp_make(struct tmp *t)
{
	snprintf(t->root, sizeof(t->root), "/tmp/hh-store-XXXXXX");
	if (!mkdtemp(t->root))
		return -1;
	snprintf(t->dir, sizeof(t->dir), "%s/state", t->root);
	return 0;
}

void tmp_remove(struct tmp *t)
{
	static const char *const names[] = {"healhook.db", "healhook.db-wal", "healhook.db-shm",
					    "healhook.db-writer"};
	char path[160];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", t->dir, names[i]);
		unlink(path);
	}
	rmdir(t->dir);
	rmdir(t->root);
}
