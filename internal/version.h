/*
 * version: the versions of the libraries healhook runs with, read at run time.
 */
#ifndef HH_VERSION_H
#define HH_VERSION_H

#include "internal/buf.h"

/* Appends "libgit2 1.5.1, libssh2 1.10.0, ..." to out. */
int hh_version_libs(hh_buf *out);

#endif
