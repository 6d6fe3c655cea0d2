/*
 * gitops_int: what gitops.c and gitops_transport.c share. Private to the gitops module (it is
 * the one header that may name libgit2 types).
 */
#ifndef HH_GITOPS_INT_H
#define HH_GITOPS_INT_H

#include <git2.h>

#include "internal/gitops.h"

struct hh_mirror {
	git_repository *repo;
	char *dir;
};

/* hh_error("<fmt>: <libgit2's last message>"); returns -1. */
int hh_git_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The last libgit2 message, or "unknown error". */
const char *hh_git_msg(void);

#endif
