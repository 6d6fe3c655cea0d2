/*
 * Unit tests for the choice of store back end (store_api.c) and the PostgreSQL parts that need
 * no server: [state] keys, the default instance id, the redacted URL, a refused connection.
 * The PostgreSQL back end itself is tested against a real server by the integration tests
 * (tests/run.py runs intake, heal and aftercare on it; test_instances.py).
 */
#include "tests/unit/t.h"
#include "internal/config.h"
#include "internal/log.h"
#include "internal/store.h"
#include "internal/store_pg_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Every test leaves the process on SQLite, as the other store tests expect. */
static void back_to_sqlite(void)
{
	hh_store_setup(NULL, NULL, NULL, NULL, 0);
}

TEST(store_pg_config_keys)
{
	char path[] = "/tmp/hh-store-pg-test-XXXXXX", pw[] = "/tmp/hh-store-pg-pw-XXXXXX";
	char *const env[] = {NULL};
	hh_config *cfg = NULL;
	char text[512];
	int fd = mkstemp(pw);

	REQUIRE(fd >= 0);
	REQUIRE(write(fd, "pw-4711\n", 8) == 8);
	close(fd);
	snprintf(text, sizeof(text),
		 "[state]\n\tdir = /tmp/x\n\tdatabase = postgresql://hh@127.0.0.1:1/hh\n"
		 "\tdatabase-password-file = %s\n\tinstance-id = hook-1\n\tlease = 2m\n",
		 pw);
	fd = mkstemp(path);
	REQUIRE(fd >= 0);
	REQUIRE(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
	CHECK(hh_config_load(&cfg, path, env) == 0);
	if (cfg) {
		CHECK_STR(cfg->database, "postgresql://hh@127.0.0.1:1/hh");
		CHECK_STR(cfg->database_password, "pw-4711");
		CHECK_STR(cfg->instance_id, "hook-1");
		CHECK(cfg->lease == 120);
		CHECK_STR(hh_store_instance(), "hook-1");
		CHECK(hh_pg_cfg.lease == 120);
		CHECK_STR(hh_pg_cfg.password, "pw-4711");
	}
	hh_config_free(cfg);
	unlink(path);
	unlink(pw);
	back_to_sqlite();
	CHECK(hh_pg_target() == NULL);
}

TEST(store_pg_default_instance_id)
{
	char host[256], want[600];

	REQUIRE(gethostname(host, sizeof(host)) == 0);
	REQUIRE(hh_store_setup(NULL, NULL, NULL, "/var/lib/healhook", 0) == 0);
	snprintf(want, sizeof(want), "%s:/var/lib/healhook", host);
	CHECK_STR(hh_store_instance(), want);
	CHECK(hh_pg_cfg.lease == 30);
	back_to_sqlite();
}

TEST(store_pg_redacted_url)
{
	char *a = hh_pg_redacted("postgresql://hh:s3cret@db.example.com:5432/hh?sslmode=require");
	char *b = hh_pg_redacted("postgresql://hh@db.example.com/hh");
	char *c = hh_pg_redacted("host=db dbname=hh password=s3cret");

	CHECK_STR(a, "postgresql://hh@db.example.com:5432/hh?sslmode=require");
	CHECK_STR(b, "postgresql://hh@db.example.com/hh");
	CHECK(c && !strstr(c, "s3cret"));
	free(a);
	free(b);
	free(c);
}

TEST(store_pg_refused_connection)
{
	hh_store *st = NULL;
	char *where = NULL;
	int have, want;

	CHECK(hh_store_probe(&where, &have, &want) == 1); /* SQLite: nothing to probe */
	REQUIRE(hh_store_setup("postgresql://hh:pw-secret@127.0.0.1:1/hh", "file-secret", "t", NULL,
			       0) == 0);
	CHECK(hh_store_open(&st, "/nonexistent") == HH_EBUSY); /* intake: 503, Gitea retries */
	CHECK(st == NULL);
	CHECK(hh_error_code() == HH_EBUSY);
	CHECK(strstr(hh_error_last(), "database unavailable") != NULL);
	CHECK(strstr(hh_error_last(), "127.0.0.1") != NULL);
	CHECK(strstr(hh_error_last(), "secret") == NULL);
	CHECK(hh_store_probe(&where, &have, &want) == -1);
	CHECK_STR(where, "postgresql://hh@127.0.0.1:1/hh");
	free(where);
	back_to_sqlite();
}

/* The receiver stores deliveries in the shared database: its environment keeps the [state]
 * database variables and libpq's file variables (never PGPASSWORD or a token), and a receiver
 * whose user was dropped does not read the password file (it gets the password by pipe). */
TEST(store_pg_receiver_keeps_the_database)
{
	char path[] = "/tmp/hh-store-pg-test-XXXXXX", pw[] = "/tmp/hh-store-pg-pw-XXXXXX";
	char *const env[] = {NULL};
	hh_config *cfg = NULL;
	char text[512];
	int fd = mkstemp(pw);

	CHECK(hh_config_receiver_env("HEALHOOK_STATE_DATABASE=postgresql://hh@127.0.0.1/hh") == 1);
	CHECK(hh_config_receiver_env("HEALHOOK_STATE_DATABASE_PASSWORD_FILE=/etc/pw") == 1);
	CHECK(hh_config_receiver_env("HEALHOOK_STATE_INSTANCE_ID=hook-1") == 1);
	CHECK(hh_config_receiver_env("PGPASSFILE=/etc/pgpass") == 1);
	CHECK(hh_config_receiver_env("PGSSLROOTCERT=/etc/ca.pem") == 1);
	CHECK(hh_config_receiver_env("PGPASSWORD=secret") == 0);
	CHECK(hh_config_receiver_env("HEALHOOK_GITEA_TOKEN_FILE=/etc/t") == 0);
	CHECK(hh_config_receiver_env("HEALHOOK_STATUS_TOKEN_FILE=/etc/t") == 0);

	REQUIRE(fd >= 0);
	REQUIRE(write(fd, "pw-4712\n", 8) == 8);
	close(fd);
	snprintf(text, sizeof(text),
		 "[state]\n\tdir = /tmp/x\n\tdatabase = postgresql://hh@127.0.0.1:1/hh\n"
		 "\tdatabase-password-file = %s\n",
		 pw);
	fd = mkstemp(path);
	REQUIRE(fd >= 0);
	REQUIRE(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
	CHECK(hh_config_load_receiver_ex(&cfg, path, env, 0) == 0);
	if (cfg) {
		CHECK_STR(cfg->database, "postgresql://hh@127.0.0.1:1/hh");
		CHECK_STR(cfg->database_password, "pw-4712");
	}
	hh_config_free(cfg);
	cfg = NULL;
	CHECK(hh_config_load_receiver_ex(&cfg, path, env, 1) == 0);
	if (cfg) {
		CHECK_STR(cfg->database, "postgresql://hh@127.0.0.1:1/hh");
		CHECK(cfg->database_password == NULL);
	}
	hh_config_free(cfg);
	unlink(path);
	unlink(pw);
	back_to_sqlite();
}
