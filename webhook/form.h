/*
 * form: the `payload` field of an application/x-www-form-urlencoded delivery. Gitea signs the
 * decoded JSON, so the signature is checked over what this returns.
 */
#ifndef HH_FORM_H
#define HH_FORM_H

#include <stddef.h>

#include "internal/buf.h"

/* Decodes the value of the first `payload=` field of body ('+' → space, %XX → byte) into out.
 * Returns 0; HH_EBADINPUT when there is no payload field or an escape is malformed; -1 when
 * out ran out of memory (hh_buf_failed). */
int hh_form_payload(const char *body, size_t len, hh_buf *out);

#endif
