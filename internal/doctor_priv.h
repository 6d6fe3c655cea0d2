/*
 * doctor_priv: what doctor.c and doctor_http.c share.
 */
#ifndef HH_DOCTOR_PRIV_H
#define HH_DOCTOR_PRIV_H

#include "internal/doctor.h"

/* Appends a check and reports it through d->on_check; takes ownership of detail and fix
 * (either may be NULL; a NULL detail becomes ""). Out of memory sets d->oom. */
void hh_doctor_add(hh_doctor *d, enum hh_check_state st, const char *scope, const char *name,
		   char *detail, char *fix);

void hh_doctor_check_health(hh_doctor *d, const hh_repo_config *repo);
void hh_doctor_check_ollama(hh_doctor *d);
void hh_doctor_check_gitea(hh_doctor *d);
void hh_doctor_check_telegram(hh_doctor *d);
/* The shared database (doctor_store.c): only when [state] database is set. */
void hh_doctor_check_store(hh_doctor *d);

#endif
