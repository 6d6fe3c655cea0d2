/*
 * store_api: the choice of back end (hh_store_setup) and of no fsync for benchmarks
 * (HEALHOOK_BENCH_NO_FSYNC, store.c), the PostgreSQL handle behind hh_store,
 * and the parts of the interface that only a shared database gives meaning to (leases, the
 * instance id). The SQLite code stays in store.c and store_jobs.c, which hand a PostgreSQL
 * handle's calls to store_pg*.c at the top of each public function.
 */
#include "internal/store.h"
#include "internal/store_priv.h"
#include "internal/store_pg.h"
#include "internal/store_pg_priv.h"
#include "internal/buf.h"
#include "internal/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_LEASE 30

static int replace(char **dst, const char *v)
{
	char *p = NULL;

	if (v && *v && !(p = hh_strdup(v)))
		return hh_error("out of memory");
	if (*dst && dst == &hh_pg_cfg.password)
		memset(*dst, 0, strlen(*dst));
	free(*dst);
	*dst = p;
	return 0;
}

int hh_store_setup(const char *database, const char *password, const char *instance_id,
		   const char *dir, long lease)
{
	char host[256], *id = NULL;

	if (!instance_id || !*instance_id) {
		if (gethostname(host, sizeof(host)) < 0)
			snprintf(host, sizeof(host), "localhost");
		host[sizeof(host) - 1] = 0;
		id = dir && *dir ? hh_asprintf("%s:%s", host, dir)
				 : hh_asprintf("%s:%ld", host, (long)getpid());
		if (!id)
			return hh_error("out of memory");
		instance_id = id;
	}
	if (replace(&hh_pg_cfg.database, database) < 0 ||
	    replace(&hh_pg_cfg.password, password) < 0 ||
	    replace(&hh_pg_cfg.instance, instance_id) < 0) {
		free(id);
		return -1;
	}
	free(id);
	hh_pg_cfg.lease = lease > 0 ? lease : DEFAULT_LEASE;
	return 0;
}

const char *hh_store_instance(void)
{
	if (!hh_pg_cfg.instance)
		hh_store_setup(NULL, NULL, NULL, NULL, 0);
	return hh_pg_cfg.instance ? hh_pg_cfg.instance : "";
}

int hh_store_open_pg(hh_store **out)
{
	hh_store *st = calloc(1, sizeof(*st));
	int rc;

	*out = NULL;
	if (!st)
		return hh_error("out of memory");
	if (!hh_pg_cfg.instance)
		hh_store_instance();
	if ((rc = hh_pg_open(&st->pg, 1)) < 0) {
		free(st);
		return rc;
	}
	*out = st;
	return 0;
}

int hh_store_probe(char **where, int *have, int *want)
{
	hh_pg *pg = NULL;
	int ret;

	*where = NULL;
	*have = *want = 0;
	if (!hh_pg_target())
		return 1;
	*where = hh_pg_redacted(hh_pg_target());
	if (hh_pg_open(&pg, 0) < 0)
		return -1;
	ret = hh_pg_schema_version(pg, have, want);
	hh_pg_close(pg);
	return ret;
}

int hh_store_shared(const hh_store *st)
{
	return st && st->pg != NULL;
}

const char *hh_store_backend(const hh_store *st)
{
	return hh_store_shared(st) ? "postgresql" : "sqlite";
}

int hh_store_lease_renew(hh_store *st, const long long *ids, size_t n)
{
	return st->pg ? hh_pg_lease_renew(st->pg, ids, n) : 0;
}

int hh_store_lease_drop(hh_store *st, long long job_id)
{
	return st->pg ? hh_pg_lease_drop(st->pg, job_id) : 0;
}

int hh_store_lease_takeover(hh_store *st, hh_job *out)
{
	memset(out, 0, sizeof(*out));
	return st->pg ? hh_pg_lease_takeover(st->pg, out) : 0;
}

int hh_store_lease_forget_mine(hh_store *st)
{
	return st->pg ? hh_pg_lease_forget_mine(st->pg) : 0;
}

long long hh_store_takeovers(hh_store *st)
{
	return st && st->pg ? hh_pg_takeovers(st->pg) : 0;
}

int hh_st_bench_no_fsync(void)
{
	const char *v = getenv("HEALHOOK_BENCH_NO_FSYNC");

	return v && strcmp(v, "1") == 0;
}
