/* A temporary store directory for the store's unit tests (test_store.c, test_store_plan.c). */
#ifndef HH_T_STORE_TMP_H
#define HH_T_STORE_TMP_H

struct tmp {
	char root[64];
	char dir[96];
};

/* Creates /tmp/hh-store-XXXXXX; the store directory is its "state" child (not yet created). */
int tmp_make(struct tmp *t);
/* Removes the store's files, the state directory and the root. */
void tmp_remove(struct tmp *t);

#endif
