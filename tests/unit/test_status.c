/*
 * Unit tests for the status pages' pieces: HTML escaping (internal/html.c) and the queries of
 * internal/store_status.c on a fresh store in a mkdtemp directory.
 */
#include "tests/unit/t.h"
#include "internal/buf.h"
#include "internal/html.h"
#include "internal/log.h"
#include "internal/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

TEST(html_escape_hostile_text)
{
	hh_buf b = HH_BUF_INIT;

	hh_html_esc(&b, "<script>alert(1)</script>");
	CHECK_STR(b.ptr, "&lt;script&gt;alert(1)&lt;/script&gt;");
	hh_buf_clear(&b);
	hh_html_esc(&b, "\"><img src=x onerror=alert(1)> & 'q'");
	CHECK_STR(b.ptr, "&quot;&gt;&lt;img src=x onerror=alert(1)&gt; &amp; &#39;q&#39;");
	hh_buf_clear(&b);
	/* invalid UTF-8, an overlong form, a surrogate and control characters become U+FFFD;
	 * valid multi-byte text, tabs and newlines stay */
	hh_html_esc(&b,
		    "a\xff"
		    "b\xc0\xaf"
		    "c\xed\xa0\x80"
		    "d\x01\x7f\t\n\xe5\x8f\xb0");
	CHECK_STR(b.ptr,
		  "a\xef\xbf\xbd"
		  "b\xef\xbf\xbd\xef\xbf\xbd"
		  "c\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
		  "d\xef\xbf\xbd\xef\xbf\xbd\t\n\xe5\x8f\xb0");
	hh_buf_clear(&b);
	hh_html_escn(&b, "abc<def", 4);
	CHECK_STR(b.ptr, "abc&lt;");
	hh_buf_release(&b);
}

TEST(html_links_and_urls)
{
	hh_buf b = HH_BUF_INIT;

	hh_html_link(&b, "javascript:alert(1)", "x");
	CHECK_STR(b.ptr, "x");
	hh_buf_clear(&b);
	hh_html_link(&b, "https://git.example/a/b/pulls/7?\"x", "#7");
	CHECK_STR(b.ptr,
		  "<a href=\"https://git.example/a/b/pulls/7?&quot;x\" rel=\"noreferrer\">#7</a>");
	hh_buf_clear(&b);
	hh_url_esc(&b, "acme/shop api&x=<1>");
	CHECK_STR(b.ptr, "acme%2Fshop%20api%26x%3D%3C1%3E");
	hh_buf_release(&b);
}

TEST(html_svg_waterfall_is_cumulative)
{
	hh_svg_bar st[] = { { "connect", 100 }, { "fix", 300 }, { "<push>", 600 } };
	hh_buf b = HH_BUF_INIT;

	CHECK(hh_svg_waterfall(&b, "t", st, 3) == 0);
	/* plot 440 wide from x 130: 0-44, 44-176, 176-440 */
	CHECK(strstr(b.ptr, "x=\"130.0\" y=\"3\" width=\"44.0\"") != NULL);
	CHECK(strstr(b.ptr, "x=\"174.0\" y=\"25\" width=\"132.0\"") != NULL);
	CHECK(strstr(b.ptr, "x=\"306.0\" y=\"47\" width=\"264.0\"") != NULL);
	CHECK(strstr(b.ptr, "&lt;push&gt;") != NULL && !strstr(b.ptr, "<push>"));
	CHECK(strstr(b.ptr, "total 1.0 s") != NULL);
	hh_buf_release(&b);
}

struct seen {
	int n;
	char text[512];
};

static int on_probe(void *ctx, const hh_probe_rec *p)
{
	struct seen *s = ctx;

	s->n++;
	snprintf(s->text + strlen(s->text), sizeof(s->text) - strlen(s->text), "%ld %s %zu;",
		 p->status, p->verdict, strlen(p->answer ? p->answer : ""));
	return 0;
}

static int on_day(void *ctx, long long day, const char *name, long long n)
{
	struct seen *s = ctx;

	snprintf(s->text + strlen(s->text), sizeof(s->text) - strlen(s->text), "%lld %s %lld;", day,
		 name, n);
	return 0;
}

TEST(store_status_queries)
{
	char root[] = "/tmp/hh-status-XXXXXX", dir[64], cmd[96], big[1000];
	hh_store *st = NULL;
	hh_job j = { 0 };
	hh_probe_rec p = { 0 };
	hh_repo_activity a;
	hh_finding_rec f = { 0 };
	struct seen s = { 0, "" };
	long long ids[4], total, i, id[6];
	size_t n;
	static const enum hh_job_state states[] = { HH_JOB_HEALED, HH_JOB_FAILED,  HH_JOB_REVERTED,
						    HH_JOB_QUEUED, HH_JOB_WAITING, HH_JOB_FIXING };

	CHECK(mkdtemp(root) != NULL);
	snprintf(dir, sizeof(dir), "%s/state", root);
	CHECK(hh_store_open(&st, dir) == 0);
	for (i = 0; i < 6; i++) {
		memset(&j, 0, sizeof(j));
		j.repo = (char *)"acme/shop";
		j.file = (char *)"a.py";
		j.state = states[i];
		j.created = j.updated = 86400 * 10 + i;
		CHECK(hh_store_job_insert(st, &j) == 0);
		id[i] = j.id;
	}
	CHECK(hh_store_job_ids(st, NULL, NULL, 1, ids, 4, &n, &total) == 0);
	CHECK(n == 4 && total == 6 && ids[0] == id[4] && ids[3] == id[1]);
	CHECK(hh_store_job_ids(st, "acme/shop", "reverted", 0, ids, 4, &n, &total) == 0);
	CHECK(n == 1 && total == 1 && ids[0] == id[2]);
	CHECK(hh_store_job_ids(st, "other/x", NULL, 0, ids, 4, &n, &total) == 0 && n == 0 &&
	      !total);
	CHECK(hh_store_repo_activity(st, "acme/shop", &a) == 0);
	CHECK(a.queued == 2 && a.running == id[5] && a.last_job == id[2]);
	CHECK_STR(a.last_state, "reverted");

	/* probes: capped per job, answers cut at HH_STORE_PROBE_TEXT bytes */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	p.job_id = id[0];
	p.status = 500;
	p.verdict = "bad";
	p.answer = big;
	for (i = 0; i < HH_STORE_MAX_PROBES + 5; i++)
		CHECK(hh_store_probe_add(st, &p) == 0);
	CHECK(hh_store_job_probes(st, id[0], on_probe, &s) == 0);
	CHECK(s.n == HH_STORE_MAX_PROBES);
	CHECK(strncmp(s.text, "500 bad 300;", 12) == 0);

	f.repo = "acme/shop";
	f.file = "b.py";
	f.verdict = "rejected";
	f.reason = "path-not-allowed";
	f.created = 86400 * 10 + 50;
	CHECK(hh_store_finding_insert(st, &f) == 0);
	s.text[0] = '\0';
	CHECK(hh_store_outcomes_per_day(st, 86400 * 10, on_day, &s) == 0);
	CHECK_STR(s.text, "10 failed 1;10 healed 1;10 rejected 1;10 reverted 1;");
	hh_store_close(st);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	CHECK(system(cmd) == 0);
}
