/*
 * healhook serve: the webhook receiver, plus the background thread that resolves review line
 * comments through Gitea's API after the delivery has been acknowledged.
 *
 * Signals: SIGTERM/SIGINT stop accepting, let in-flight requests finish, exit 0.
 */
#include "cmd/cmd.h"
#include "internal/intake.h"
#include "internal/log.h"
#include "internal/sdnotify.h"
#include "internal/worker.h"
#include "webhook/server.h"

#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char usage[] =
	"usage: healhook serve [--config FILE] [--listen ADDR:PORT] [--record DIR] [--insecure]\n"
	"                      [--log-format text|json] [--log-level error|warn|info|debug]\n"
	"\n"
	"Receives Gitea webhooks on POST /hooks/gitea (GET /healthz, GET /metrics), verifies\n"
	"their signatures, stores the accepted findings as jobs and answers 202.\n"
	"\n"
	"  --config FILE     configuration file (default: $HEALHOOK_CONFIG, else environment only)\n"
	"  --listen ADDR:PORT  overrides server.listen (e.g. 127.0.0.1:8787)\n"
	"  --record DIR      save every delivery as NAME.json + NAME.headers in DIR\n"
	"  --insecure        serve without a webhook secret (deliveries are not authenticated)\n"
	"  --log-format F    text (key=value, default) or json\n"
	"  --log-level L     error, warn, info (default) or debug\n";

struct lookup_thread {
	const hh_config *cfg;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int stop;
};

static int on_pending(void *ctx, const char *id, const char *event, const char *headers,
		      const void *body, size_t len)
{
	struct lookup_thread *lt = ctx;
	hh_store *st = NULL;
	hh_intake in = {0};
	hh_intake_result res;
	char n[24];
	size_t i;
	int accepted = 0;
	(void)event;

	if (hh_store_open(&st, lt->cfg->state_dir) < 0)
		return 1;
	in.cfg = lt->cfg;
	in.store = st;
	in.verify = 0; /* verified when it was received */
	in.now = (long long)time(NULL);
	if (hh_intake_lookup(&in, id, headers, body, len, &res) < 0) {
		hh_log(HH_LOG_WARN, "lookup.failed", "delivery", id, "error",
		       res.lookup_error ? res.lookup_error : hh_error_last(), NULL);
		hh_store_delivery_set_lookup(st, id, "failed");
	} else {
		for (i = 0; i < res.findings.n; i++)
			accepted += res.findings.v[i].accepted;
		snprintf(n, sizeof(n), "%zu", res.findings.n);
		hh_log(HH_LOG_INFO, "lookup.done", "delivery", id, "findings", n, NULL);
	}
	(void)accepted;
	hh_intake_result_release(&res);
	hh_store_close(st);
	pthread_mutex_lock(&lt->lock);
	i = (size_t)lt->stop;
	pthread_mutex_unlock(&lt->lock);
	return i ? 1 : 0;
}

/* Polls the store for pending lookups (a cheap indexed query), waking early when told. */
static void *lookup_main(void *arg)
{
	struct lookup_thread *lt = arg;
	hh_store *st = NULL;

	for (;;) {
		struct timespec ts;
		int stop;

		pthread_mutex_lock(&lt->lock);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 250 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		if (!lt->stop)
			pthread_cond_timedwait(&lt->cond, &lt->lock, &ts);
		stop = lt->stop;
		pthread_mutex_unlock(&lt->lock);
		if (stop)
			break;
		if (!st && hh_store_open(&st, lt->cfg->state_dir) < 0)
			continue;
		hh_store_pending_lookups(st, on_pending, lt);
	}
	hh_store_close(st);
	return NULL;
}

int cmd_serve(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"listen", required_argument, NULL, 'l'},
		{"record", required_argument, NULL, 'r'},
		{"insecure", no_argument, NULL, 'i'},
		{"log-format", required_argument, NULL, 'f'},
		{"log-level", required_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *config = NULL, *listen = NULL, *record = NULL, *fmt = NULL, *lvl = NULL;
	struct lookup_thread lt = {0};
	hh_server_opts so = {0};
	hh_server *srv = NULL;
	hh_worker *worker = NULL;
	hh_config *cfg = NULL;
	hh_store *st = NULL;
	pthread_t lookup;
	sigset_t set;
	char port[16];
	int c, sig, insecure = 0, rc = HH_EXIT_USAGE;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:l:r:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'l': listen = optarg; break;
		case 'r': record = optarg; break;
		case 'i': insecure = 1; break;
		case 'f': fmt = optarg; break;
		case 'v': lvl = optarg; break;
		case 'h': fputs(usage, stdout); return HH_EXIT_OK;
		default: fputs(usage, stderr); return HH_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fputs(usage, stderr);
		return HH_EXIT_USAGE;
	}
	if (fmt && strcmp(fmt, "text") != 0 && strcmp(fmt, "json") != 0) {
		cmd_die_msg("serve", "--log-format must be text or json");
		return HH_EXIT_USAGE;
	}
	if (lvl && hh_log_level_parse(lvl) < 0) {
		cmd_die_msg("serve", "--log-level must be error, warn, info or debug");
		return HH_EXIT_USAGE;
	}
	cfg = cmd_load_config(config);
	if (!cfg)
		return HH_EXIT_USAGE;
	if (fmt)
		cfg->log_format = strcmp(fmt, "json") == 0 ? HH_LOG_JSON : HH_LOG_TEXT;
	if (lvl)
		cfg->log_level = hh_log_level_parse(lvl);
	hh_log_init((enum hh_log_level)cfg->log_level, (enum hh_log_format)cfg->log_format);
	if (listen)
		so.listen = listen;
	else
		so.listen = cfg->listen;
	if (!so.listen) {
		cmd_die_msg("serve", "server.listen is not set (use --listen ADDR:PORT, the config "
				     "file or HEALHOOK_SERVER_LISTEN)");
		goto out;
	}
	if (!cfg->state_dir) {
		cmd_die_msg("serve", "state.dir is not set (config file or HEALHOOK_STATE_DIR)");
		goto out;
	}
	if (!cfg->secret && !insecure) {
		cmd_die_msg("serve", "no webhook secret: set server.secret-file or HEALHOOK_SECRET "
				     "(or pass --insecure to accept unsigned deliveries)");
		goto out;
	}
	if (!cfg->secret)
		hh_log(HH_LOG_WARN, "serve.insecure", "message",
		       "no webhook secret: deliveries are not authenticated", NULL);
	if (hh_store_open(&st, cfg->state_dir) < 0) {
		cmd_die_msg("serve", "%s", hh_error_last());
		rc = HH_EXIT_FAIL;
		goto out;
	}
	if (hh_worker_recover(cfg, st, (long long)time(NULL)) < 0)
		hh_log(HH_LOG_ERROR, "serve.recover", "error", hh_error_last(), NULL);
	hh_store_close(st);

	/* Signals are taken synchronously by this thread; every other thread blocks them. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	so.cfg = cfg;
	so.record_dir = record ? record : cfg->record;
	if (hh_server_start(&srv, &so) < 0) {
		cmd_die_msg("serve", "%s", hh_error_last());
		rc = HH_EXIT_FAIL;
		goto out;
	}
	lt.cfg = cfg;
	pthread_mutex_init(&lt.lock, NULL);
	pthread_cond_init(&lt.cond, NULL);
	pthread_create(&lookup, NULL, lookup_main, &lt);
	if (hh_worker_start(&worker, cfg) < 0)
		hh_log(HH_LOG_ERROR, "serve.worker", "error", hh_error_last(), NULL);
	snprintf(port, sizeof(port), "%d", hh_server_port(srv));
	hh_log(HH_LOG_INFO, "serve.listening", "listen", so.listen, "port", port, "state",
	       cfg->state_dir, NULL);
	if (hh_sd_notify("READY=1") < 0)
		hh_log(HH_LOG_WARN, "serve.sd_notify", "error", hh_error_last(), NULL);

	do {
		if (sigwait(&set, &sig) != 0)
			break;
	} while (sig == SIGHUP);
	hh_log(HH_LOG_INFO, "serve.stopping", "signal", sig == SIGINT ? "INT" : "TERM", NULL);
	hh_sd_notify("STOPPING=1");
	hh_server_stop(srv, 10000);
	pthread_mutex_lock(&lt.lock);
	lt.stop = 1;
	pthread_cond_signal(&lt.cond);
	pthread_mutex_unlock(&lt.lock);
	pthread_join(lookup, NULL);
	hh_worker_stop(worker);
	pthread_mutex_destroy(&lt.lock);
	pthread_cond_destroy(&lt.cond);
	hh_log(HH_LOG_INFO, "serve.stopped", NULL);
	rc = HH_EXIT_OK;
out:
	hh_config_free(cfg);
	return rc;
}
