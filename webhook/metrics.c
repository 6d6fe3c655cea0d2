/*
 * metrics: see metrics.h. Counters are plain arrays updated with __atomic builtins.
 */
#include "webhook/metrics.h"
#include "internal/guard.h"

#include <string.h>

#define NKINDS (HH_EV_PUSH + 1)

static const char *verdict_names[HH_DV_COUNT] = {
	"accepted",    "no-fix",    "ignored",     "duplicate", "unauthorized",
	"bad-request", "too-large", "unavailable", "error",
};
static const char *reasons[] = {
	"accepted",          HH_REASON_PATH, HH_REASON_REVIEWER, HH_REASON_OWN,
	HH_REASON_DUPLICATE, HH_REASON_REPO, HH_REASON_FROZEN,   HH_REASON_QUARANTINED,
};
#define NREASONS (sizeof(reasons) / sizeof(reasons[0]))
static const double buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
				 0.25,  0.5,    1,     2.5,  5,     10};
#define NBUCKETS (sizeof(buckets) / sizeof(buckets[0]))

static unsigned long long deliveries[NKINDS][HH_DV_COUNT];
static unsigned long long findings[NREASONS];
static unsigned long long hist[NBUCKETS + 1];
static unsigned long long hist_count;
static unsigned long long hist_sum_us;

void hh_metrics_delivery(enum hh_event_kind kind, enum hh_delivery_verdict v)
{
	if ((int)kind < 0 || kind >= NKINDS || v >= HH_DV_COUNT)
		return;
	__atomic_add_fetch(&deliveries[kind][v], 1, __ATOMIC_RELAXED);
}

void hh_metrics_finding(const char *reason)
{
	size_t i;

	for (i = 1; reason && i < NREASONS; i++)
		if (strcmp(reason, reasons[i]) == 0)
			break;
	if (!reason)
		i = 0;
	if (i < NREASONS)
		__atomic_add_fetch(&findings[i], 1, __ATOMIC_RELAXED);
}

void hh_metrics_request_duration(double seconds)
{
	size_t i;

	for (i = 0; i < NBUCKETS && seconds > buckets[i]; i++)
		;
	__atomic_add_fetch(&hist[i], 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&hist_count, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&hist_sum_us, (unsigned long long)(seconds * 1e6), __ATOMIC_RELAXED);
}

struct job_ctx {
	hh_buf *out;
	long long counts[HH_JOB_STATE_COUNT];
};

static void on_job_count(void *ctx, enum hh_job_state s, long long n)
{
	struct job_ctx *jc = ctx;

	if ((int)s >= 0 && s < HH_JOB_STATE_COUNT)
		jc->counts[s] = n;
}

/* The instance id (a label of healhook_instance_info) and its lease takeovers. */
static void render_instance(hh_buf *out, hh_store *st)
{
	const char *p, *id = hh_store_instance();
	long long n = st ? hh_store_takeovers(st) : 0;
	hh_buf label = HH_BUF_INIT;

	for (p = id; *p; p++) {
		if (*p == '"' || *p == '\\')
			hh_buf_putc(&label, '\\');
		if (*p == '\n')
			hh_buf_puts(&label, "\\n");
		else
			hh_buf_putc(&label, *p);
	}
	hh_buf_printf(out,
		      "# HELP healhook_instance_info This instance and its store.\n"
		      "# TYPE healhook_instance_info gauge\n"
		      "healhook_instance_info{instance=\"%s\",store=\"%s\"} 1\n"
		      "# HELP healhook_lease_takeovers_total Jobs this instance took over after"
		      " their owner's lease ran out.\n"
		      "# TYPE healhook_lease_takeovers_total counter\n"
		      "healhook_lease_takeovers_total %lld\n",
		      label.ptr ? label.ptr : "", hh_store_backend(st), n < 0 ? 0 : n);
	hh_buf_release(&label);
}

int hh_metrics_render(hh_buf *out, hh_store *st)
{
	struct job_ctx jc = {out, {0}};
	unsigned long long cum = 0;
	size_t k, v;

	hh_buf_puts(
		out,
		"# HELP healhook_deliveries_total Deliveries received, by event type and verdict.\n"
		"# TYPE healhook_deliveries_total counter\n");
	for (k = 0; k < NKINDS; k++)
		for (v = 0; v < HH_DV_COUNT; v++) {
			unsigned long long n = __atomic_load_n(&deliveries[k][v], __ATOMIC_RELAXED);
			if (n)
				hh_buf_printf(out,
					      "healhook_deliveries_total{event=\"%s\",verdict=\"%"
					      "s\"} %llu\n",
					      k == HH_EV_UNKNOWN
						      ? "other"
						      : hh_event_kind_name((enum hh_event_kind)k),
					      verdict_names[v], n);
		}
	hh_buf_puts(out, "# HELP healhook_findings_total Findings extracted, by verdict.\n"
			 "# TYPE healhook_findings_total counter\n");
	for (k = 0; k < NREASONS; k++)
		hh_buf_printf(out, "healhook_findings_total{verdict=\"%s\"} %llu\n", reasons[k],
			      __atomic_load_n(&findings[k], __ATOMIC_RELAXED));
	hh_buf_puts(out, "# HELP healhook_jobs Jobs in the store, by state.\n"
			 "# TYPE healhook_jobs gauge\n");
	if (st)
		hh_store_job_counts(st, on_job_count, &jc);
	for (k = 0; k < HH_JOB_STATE_COUNT; k++)
		hh_buf_printf(out, "healhook_jobs{state=\"%s\"} %lld\n",
			      hh_job_state_name((enum hh_job_state)k), jc.counts[k]);
	render_instance(out, st);
	hh_buf_puts(out,
		    "# HELP healhook_request_duration_seconds Time to answer a webhook request.\n"
		    "# TYPE healhook_request_duration_seconds histogram\n");
	for (k = 0; k <= NBUCKETS; k++) {
		cum += __atomic_load_n(&hist[k], __ATOMIC_RELAXED);
		if (k < NBUCKETS)
			hh_buf_printf(out,
				      "healhook_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
				      buckets[k], cum);
		else
			hh_buf_printf(
				out, "healhook_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
				cum);
	}
	hh_buf_printf(out, "healhook_request_duration_seconds_sum %.6f\n",
		      (double)__atomic_load_n(&hist_sum_us, __ATOMIC_RELAXED) / 1e6);
	return hh_buf_printf(out, "healhook_request_duration_seconds_count %llu\n",
			     __atomic_load_n(&hist_count, __ATOMIC_RELAXED));
}
