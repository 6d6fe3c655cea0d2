/*
 * Out-of-memory unit tests (FAILALLOC=1 builds only; .ci/run runs them under ASan+UBSan):
 * for every N up to the number of allocations a run makes, the Nth allocation fails, and the
 * run must end either with an error or with exactly the result of a run without failures —
 * never a crash, a leak (LeakSanitizer at exit) or a success with a truncated result.
 * Covered: the intake of a signed review delivery into a store, its answer JSON, and
 * history --json over the stored jobs.
 */
#ifdef HH_FAILALLOC
#include "tests/unit/t.h"
#include "internal/buf.h"
#include "internal/config.h"
#include "webhook/intake.h"
#include "internal/log.h"
#include "internal/result.h"
#include "internal/store.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define OOM_FIXTURE FIXTURES "/gitea/review_rejected_body"

struct oom_env {
	char root[64];
	hh_config *cfg;
	hh_headers hdrs;
	hh_buf body;
};

static int oom_env_open(struct oom_env *e)
{
	char conf[128];
	hh_buf text = HH_BUF_INIT;
	FILE *f;
	static char secret[] = "HEALHOOK_SECRET=fixture-secret-7f3a";
	char *envp[] = {secret, NULL};
	int rc = -1;

	memset(e, 0, sizeof(*e));
	/* tmpfs when there is one: every iteration opens a store, and fsync is free there. */
	snprintf(e->root, sizeof(e->root), "%s/hh-oom-XXXXXX",
		 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	if (!mkdtemp(e->root))
		return -1;
	snprintf(conf, sizeof(conf), "%s/healhook.conf", e->root);
	if (!(f = fopen(conf, "w")))
		return -1;
	fprintf(f, "[gitea]\n\turl = http://127.0.0.1:9\n\tuser = healhook-bot\n[repo \"acme/shop-api\"]\n"
		   "\thost = %s/work\n\treviewers = bob\n", e->root);
	fclose(f);
	if (hh_config_load(&e->cfg, conf, envp) < 0 ||
	    hh_buf_read_file(&text, OOM_FIXTURE ".headers", 0) < 0 ||
	    hh_headers_parse(&e->hdrs, text.ptr, text.len) < 0 ||
	    hh_buf_read_file(&e->body, OOM_FIXTURE ".json", 0) < 0)
		goto out;
	rc = 0;
out:
	hh_buf_release(&text);
	return rc;
}

static void oom_env_close(struct oom_env *e)
{
	char cmd[128];

	hh_config_free(e->cfg);
	hh_headers_release(&e->hdrs);
	hh_buf_release(&e->body);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", e->root);
	if (system(cmd) != 0)
		fprintf(stderr, "      cannot remove %s\n", e->root);
}

/* One intake into a new store in ROOT/N, the Nth allocation failing (0: none). Returns the
 * answer (caller frees) when the delivery was acknowledged, else NULL; *jobs gets the number
 * of jobs stored (read back without failures). */
static char *intake_once(struct oom_env *e, long nth, long *count, long *jobs)
{
	char dir[96];
	hh_store *st = NULL;
	hh_intake in = {0};
	hh_intake_result res;
	hh_buf answer = HH_BUF_INIT;
	hh_job *list = NULL;
	size_t n = 0;
	char *out = NULL;
	int rc, built;

	snprintf(dir, sizeof(dir), "%s/s%ld", e->root, nth);
	if (hh_store_open(&st, dir) < 0)
		return NULL;
	in.cfg = e->cfg;
	in.store = st;
	in.verify = 1;
	in.now = 1767225600;
	hh_failalloc_arm(nth, 0);
	rc = hh_intake_process(&in, &e->hdrs, e->body.ptr, e->body.len, &res);
	built = hh_intake_answer_json(&res, &answer) == 0 && !hh_buf_failed(&answer);
	*count = hh_failalloc_count();
	hh_failalloc_arm(0, 0);
	/* An answer that cannot be built is sent as a fixed 500 (webhook/server.c): the
	 * delivery is stored but not acknowledged, and Gitea's retry is then a duplicate. */
	if (rc == 0 && res.status == 202 && built)
		out = hh_buf_detach(&answer);
	*jobs = hh_store_jobs_recent(st, NULL, 50, &list, &n) < 0 ? -1 : (long)n;
	if (rc == 0 && res.status == 202 && !built)
		*jobs = 0; /* stored, not acknowledged: allowed */
	hh_store_jobs_free(list, n);
	hh_intake_result_release(&res);
	hh_buf_release(&answer);
	hh_store_close(st);
	return out;
}

TEST(oom_intake_every_allocation)
{
	struct oom_env e;
	char *ref;
	long total = 0, ref_jobs = 0, nth, acked = 0, refused = 0, bad = 0;

	REQUIRE(oom_env_open(&e) == 0);
	ref = intake_once(&e, 0, &total, &ref_jobs);
	REQUIRE(ref != NULL);
	CHECK(ref_jobs == 2);
	CHECK(total > 100); /* the countdown sees the intake's allocations */
	fprintf(stderr, "      reference run: %ld allocations\n", total);
	for (nth = 1; nth <= total; nth++) {
		long count, jobs;
		char *got = intake_once(&e, nth, &count, &jobs);

		if (got) {
			acked++;
			/* Acknowledged: exactly the answer and the jobs of the run without failure. */
			if (strcmp(got, ref) != 0 || jobs != ref_jobs) {
				if (bad++ < 5)
					fprintf(stderr, "      N=%ld: acknowledged with %ld jobs: %s\n",
						nth, jobs, got);
			}
		} else {
			refused++;
			if (jobs != 0 && bad++ < 5) /* refused: nothing may have been stored */
				fprintf(stderr, "      N=%ld: refused but %ld jobs stored\n", nth, jobs);
		}
		free(got);
	}
	fprintf(stderr, "      %ld allocations: %ld acknowledged, %ld refused\n", total, acked,
		refused);
	CHECK(bad == 0);
	CHECK(refused > 0);
	free(ref);
	oom_env_close(&e);
}

TEST(oom_history_json_every_allocation)
{
	struct oom_env e;
	char *ack;
	hh_store *st = NULL;
	char dir[96];
	hh_buf ref = HH_BUF_INIT;
	long total, jobs, nth, bad = 0, failed = 0;
	hh_job *list = NULL;
	size_t n = 0;

	REQUIRE(oom_env_open(&e) == 0);
	ack = intake_once(&e, 0, &total, &jobs);
	REQUIRE(ack && jobs == 2);
	snprintf(dir, sizeof(dir), "%s/s0", e.root);
	REQUIRE(hh_store_open(&st, dir) == 0);
	REQUIRE(hh_store_jobs_recent(st, NULL, 20, &list, &n) == 0);
	REQUIRE(hh_history_json(list, NULL, n, &ref) == 0);
	hh_store_jobs_free(list, n);
	hh_failalloc_arm(0, 0);
	REQUIRE(hh_store_jobs_recent(st, NULL, 20, &list, &n) == 0);
	hh_store_jobs_free(list, n);
	total = hh_failalloc_count();
	for (nth = 1;; nth++) {
		hh_buf b = HH_BUF_INIT;
		int rc;

		list = NULL;
		n = 0;
		hh_failalloc_arm(nth, 0);
		rc = hh_store_jobs_recent(st, NULL, 20, &list, &n);
		if (rc == 0)
			rc = hh_history_json(list, NULL, n, &b);
		hh_failalloc_arm(0, 0);
		if (rc == 0 && strcmp(b.ptr, ref.ptr) != 0 && bad++ < 5)
			fprintf(stderr, "      N=%ld: history --json succeeded with %s\n", nth, b.ptr);
		failed += rc != 0;
		hh_store_jobs_free(list, n);
		hh_buf_release(&b);
		if (nth > total + 200 && rc == 0)
			break; /* past the last allocation of a whole run */
	}
	CHECK(bad == 0);
	CHECK(failed > 0);
	hh_buf_release(&ref);
	hh_store_close(st);
	free(ack);
	oom_env_close(&e);
}
#endif
