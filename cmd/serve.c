/*
 * healhook serve: two processes that meet only in the store (privilege separation).
 *
 *   the receiver (faces the network): HTTP intake, signature checks, durable jobs. It is
 *     started by the main process as `serve --role receiver` with an environment stripped of
 *     tokens and credentials, reads the configuration without the Gitea and Telegram token
 *     files, and never opens the SSH key. It dies with its parent (PR_SET_PDEATHSIG).
 *   the main process (holds the secrets): resolves review line comments through Gitea's API,
 *     runs the worker (fixer, git, push, health, revert), restarts the receiver if it dies, and
 *     speaks to systemd (READY=1 once the receiver listens).
 *
 * Signals: SIGTERM/SIGINT stop accepting, let in-flight requests finish, exit 0.
 */
#include "cmd/cmd.h"
#include "cmd/serve_priv.h"
#include "internal/compat.h"
#include "webhook/intake.h"
#include "internal/log.h"
#include "internal/retention.h"
#include "internal/sdnotify.h"
#include "internal/status.h"
#include "internal/statelock.h"
#include "internal/worker.h"
#include "webhook/server.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
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
	"  --config FILE     configuration file (default: $HEALHOOK_CONFIG, else environment "
	"only)\n"
	"  --listen ADDR:PORT  overrides server.listen (e.g. 127.0.0.1:8787)\n"
	"  --record DIR      save every delivery as NAME.json + NAME.headers in DIR\n"
	"  --insecure        serve without a webhook secret (deliveries are not authenticated)\n"
	"  --log-format F    text (key=value, default) or json\n"
	"  --log-level L     error, warn, info (default) or debug\n"
	"\n"
	"With status.listen set, the main process also serves read-only status pages on that\n"
	"address (docs/operations.md, \"Status pages\").\n"
	"\n"
	"serve runs two processes: a receiver that faces the network and holds no token or key,\n"
	"and the main process that heals; they meet only in the store (docs/security.md). Started\n"
	"as root with server.receiver-user, the receiver runs as that user.\n";

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
	hh_retention ret = {0};

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
		hh_retention_tick(&ret, st, lt->cfg, (long long)time(NULL));
	}
	hh_store_close(st);
	return NULL;
}

struct serve_args {
	const char *config, *listen, *record, *fmt, *lvl;
	int insecure, receiver, ready_fd;
	int drop, secret_fd; /* receiver: --drop UID:GID, --secret-fd N */
	int config_fd;       /* receiver: --config-fd N, the entries of the config file */
	hh_buf entries;      /* receiver: read from config_fd */
	unsigned long drop_uid, drop_gid;
	char *secret; /* receiver: read from secret_fd */
	char *dbpass; /* receiver: the database password, after the secret */
};

static int parse_args(int argc, char **argv, struct serve_args *a)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"listen", required_argument, NULL, 'l'},
		{"record", required_argument, NULL, 'r'},
		{"insecure", no_argument, NULL, 'i'},
		{"log-format", required_argument, NULL, 'f'},
		{"log-level", required_argument, NULL, 'v'},
		{"role", required_argument, NULL, 'R'},
		{"ready-fd", required_argument, NULL, 'F'},
		{"drop", required_argument, NULL, 'D'},
		{"secret-fd", required_argument, NULL, 'S'},
		{"config-fd", required_argument, NULL, 'C'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	memset(a, 0, sizeof(*a));
	a->ready_fd = -1;
	a->secret_fd = -1;
	a->config_fd = -1;
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:l:r:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': a->config = optarg; break;
		case 'l': a->listen = optarg; break;
		case 'r': a->record = optarg; break;
		case 'i': a->insecure = 1; break;
		case 'f': a->fmt = optarg; break;
		case 'v': a->lvl = optarg; break;
		case 'R': a->receiver = strcmp(optarg, "receiver") == 0; break;
		case 'F': a->ready_fd = atoi(optarg); break;
		case 'S': a->secret_fd = atoi(optarg); break;
		case 'C': a->config_fd = atoi(optarg); break;
		case 'D':
			if (sscanf(optarg, "%lu:%lu", &a->drop_uid, &a->drop_gid) != 2) {
				cmd_die_msg("serve", "--drop wants UID:GID");
				return -1;
			}
			a->drop = 1;
			break;
		case 'h': fputs(usage, stdout); return 1;
		default: fputs(usage, stderr); return -1;
		}
	}
	if (optind != argc) {
		fputs(usage, stderr);
		return -1;
	}
	if (a->fmt && strcmp(a->fmt, "text") != 0 && strcmp(a->fmt, "json") != 0) {
		cmd_die_msg("serve", "--log-format must be text or json");
		return -1;
	}
	if (a->lvl && hh_log_level_parse(a->lvl) < 0) {
		cmd_die_msg("serve", "--log-level must be error, warn, info or debug");
		return -1;
	}
	return 0;
}

/* Loads the configuration (without tokens for the receiver) and checks what serve needs. */
static hh_config *load(struct serve_args *a)
{
	hh_config *cfg = NULL;
	int rc;

	if (!a->receiver)
		rc = hh_config_load(&cfg, a->config, environ);
	else if (a->config_fd >= 0) /* the entries serve read, not the file */
		rc = hh_config_load_receiver_entries(&cfg, a->config, a->entries.ptr,
						     a->entries.len, environ, a->secret_fd >= 0);
	else
		rc = hh_config_load_receiver_ex(&cfg, a->config, environ, a->secret_fd >= 0);
	if (rc < 0) {
		fprintf(stderr, "healhook: %s\n", hh_error_last());
		return NULL;
	}
	if (a->receiver && a->secret) { /* from the main process: its file is not readable */
		free(cfg->secret);
		cfg->secret = a->secret;
		a->secret = NULL;
	}
	if (a->receiver && a->dbpass) { /* the same for the database password file */
		if (cfg->database_password) {
			explicit_bzero(cfg->database_password, strlen(cfg->database_password));
			free(cfg->database_password);
		}
		cfg->database_password = a->dbpass;
		a->dbpass = NULL;
		if (hh_store_setup(cfg->database, cfg->database_password, cfg->instance_id,
				   cfg->state_dir, cfg->lease) < 0) {
			fprintf(stderr, "healhook: %s\n", hh_error_last());
			goto fail;
		}
	}
	if (a->fmt)
		cfg->log_format = strcmp(a->fmt, "json") == 0 ? HH_LOG_JSON : HH_LOG_TEXT;
	if (a->lvl)
		cfg->log_level = hh_log_level_parse(a->lvl);
	hh_log_init((enum hh_log_level)cfg->log_level, (enum hh_log_format)cfg->log_format);
	/* The predecessor's .env: the repository's name from the host, told to the receiver
	 * (which cannot connect) as HEALHOOK_REPO. */
	if (!a->receiver && cfg->predecessor) {
		if (hh_compat_resolve(cfg) < 0) {
			fprintf(stderr, "healhook: %s\n", hh_error_last());
			goto fail;
		}
		if (cfg->nrepos == 1 && setenv("HEALHOOK_REPO", cfg->repos[0].name, 1) < 0) {
			cmd_die_msg("serve", "cannot set HEALHOOK_REPO: %s", strerror(errno));
			goto fail;
		}
	}
	if (!a->listen && !cfg->listen) {
		cmd_die_msg("serve", "server.listen is not set (use --listen ADDR:PORT, the config "
				     "file or HEALHOOK_SERVER_LISTEN)");
		goto fail;
	}
	if (!cfg->state_dir) {
		cmd_die_msg("serve", "state.dir is not set (config file or HEALHOOK_STATE_DIR)");
		goto fail;
	}
	if (!a->receiver && cfg->status_listen &&
	    strcmp(cfg->status_listen, a->listen ? a->listen : cfg->listen) == 0) {
		cmd_die_msg("serve", "status.listen must not be the webhook's address %s",
			    cfg->status_listen);
		goto fail;
	}
	if (!cfg->secret && !a->insecure) {
		cmd_die_msg("serve", "no webhook secret: set server.secret-file or HEALHOOK_SECRET "
				     "(or pass --insecure to accept unsigned deliveries)");
		goto fail;
	}
	return cfg;
fail:
	hh_config_free(cfg);
	return NULL;
}

static void block_signals(sigset_t *set, int with_chld)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
	if (with_chld)
		sigaddset(set, SIGCHLD);
	pthread_sigmask(SIG_BLOCK, set, NULL);
}

/* The receiver: HTTP intake only. Tells the parent "PORT\n" on ready_fd once it listens. */
static int run_receiver(struct serve_args *a)
{
	hh_server_opts so = {0};
	hh_server *srv = NULL;
	hh_config *cfg;
	sigset_t set;
	char line[32];
	int sig, n, keep;

	block_signals(&set, 0);
	/* Nothing inherited beyond stdio, the readiness, secret and configuration pipes. */
	keep = a->secret_fd > a->ready_fd ? a->secret_fd : a->ready_fd;
	keep = a->config_fd > keep ? a->config_fd : keep;
	serve_priv_close_fds(keep > 2 ? keep : 2);
	if (a->drop && serve_priv_drop((uid_t)a->drop_uid, (gid_t)a->drop_gid) < 0) {
		cmd_die_msg("serve", "%s", hh_error_last());
		return HH_EXIT_FAIL;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) /* with or without its own user */
		hh_log(HH_LOG_WARN, "serve.no_new_privs", "error", strerror(errno), NULL);
	prctl(PR_SET_PDEATHSIG, SIGTERM); /* after the drop: a credential change clears it */
	if (getppid() == 1)
		return HH_EXIT_FAIL; /* the main process is already gone */
	if (a->secret_fd >= 0 &&
	    serve_priv_read_secrets(a->secret_fd, &a->secret, &a->dbpass) < 0) {
		cmd_die_msg("serve", "%s", hh_error_last());
		return HH_EXIT_FAIL;
	}
	if (a->config_fd >= 0) { /* the configuration's entries, from the main process */
		int rc = hh_buf_read_fd(&a->entries, a->config_fd, 4u << 20,
					"the configuration pipe");

		close(a->config_fd);
		if (rc < 0) {
			cmd_die_msg("serve", "%s", hh_error_last());
			return HH_EXIT_FAIL;
		}
	}
	cfg = load(a);
	hh_buf_release(&a->entries);
	if (!cfg)
		return HH_EXIT_USAGE;
	if (!cfg->secret)
		hh_log(HH_LOG_WARN, "serve.insecure", "message",
		       "no webhook secret: deliveries are not authenticated", NULL);
	so.cfg = cfg;
	so.listen = a->listen ? a->listen : cfg->listen;
	so.record_dir = a->record ? a->record : cfg->record;
	if (hh_server_start(&srv, &so) < 0) {
		cmd_die_msg("serve", "%s", hh_error_last());
		hh_config_free(cfg);
		return HH_EXIT_FAIL;
	}
	if (a->ready_fd >= 0) {
		n = snprintf(line, sizeof(line), "%d\n", hh_server_port(srv));
		if (write(a->ready_fd, line, (size_t)n) != n)
			hh_log(HH_LOG_WARN, "serve.ready", "error", strerror(errno), NULL);
		close(a->ready_fd);
	}
	do {
		if (sigwait(&set, &sig) != 0)
			break;
	} while (sig == SIGHUP);
	hh_server_stop(srv, 10000);
	hh_config_free(cfg);
	return HH_EXIT_OK;
}

/* Writes len bytes of v to fd; 0 or -1. */
static int write_all(int fd, const char *v, size_t len)
{
	size_t off = 0;
	ssize_t w;

	while (off < len && ((w = write(fd, v + off, len - off)) > 0 || errno == EINTR))
		off += w > 0 ? (size_t)w : 0;
	return off < len ? -1 : 0;
}

static void close_pair(int fd[2])
{
	if (fd[0] >= 0)
		close(fd[0]);
	if (fd[1] >= 0)
		close(fd[1]);
	fd[0] = fd[1] = -1;
}

/* Writes the webhook secret into the receiver's secret pipe, then (on PostgreSQL, when
 * database-password-file gave one) a NUL byte and the database password, and closes both
 * ends. */
static void send_secret(int sp[2], const char *secret, const char *dbpass)
{
	int rc;

	close(sp[0]);
	rc = write_all(sp[1], secret ? secret : "", secret ? strlen(secret) : 0);
	if (rc == 0 && dbpass)
		rc = write_all(sp[1], "", 1) < 0 ? -1 : write_all(sp[1], dbpass, strlen(dbpass));
	if (rc < 0)
		hh_log(HH_LOG_ERROR, "serve.secret", "error", strerror(errno), NULL);
	close(sp[1]);
}

/* In the child: from[i] becomes descriptor to[i] (from[i] < 0: none), nothing else stays
 * open but stdio, then the receiver's program. */
static void __attribute__((noreturn))
exec_receiver(int from[3], const int to[3], const char **argv, char **env)
{
	sigset_t none;
	int j, last = 3;

	sigemptyset(&none);
	pthread_sigmask(SIG_SETMASK, &none, NULL);
	/* Each first above the targets, so that no dup2 overwrites a pipe still to be placed,
	 * and no target is its own source (dup2 would keep its close-on-exec flag). */
	for (j = 0; j < 3; j++)
		if (from[j] >= 0 && (from[j] = fcntl(from[j], F_DUPFD, 16)) < 0)
			_exit(127);
	for (j = 0; j < 3; j++) {
		if (from[j] >= 0 && dup2(from[j], to[j]) < 0)
			_exit(127);
		if (from[j] >= 0 && to[j] > last)
			last = to[j];
	}
	serve_priv_close_fds(last);
	execve("/proc/self/exe", (char *const *)argv, env);
	_exit(127);
}

/* Starts the receiver; *ready is the read end of its readiness pipe. With priv->on it runs as
 * priv's user and gets the webhook secret (and the database password) on fd 4. Returns its
 * pid or -1. */
static pid_t spawn_receiver(const struct serve_args *a, const hh_config *cfg,
			    const struct serve_priv *priv, int *ready)
{
	char fdarg[16], drop[48], cfdarg[16];
	const char *argv[26];
	char **env;
	size_t n = 0, i, k = 0;
	int p[2], sp[2] = {-1, -1}, cp[2] = {-1, -1}, cfd = priv->on ? 5 : 4;
	hh_buf entries = HH_BUF_INIT;
	pid_t pid;

	/* The configuration's entries, read here with libgit2: the receiver never starts it. */
	if (cfg->path && (hh_config_entries(cfg->path, &entries) < 0 || pipe2(cp, O_CLOEXEC) < 0)) {
		hh_buf_release(&entries);
		return hh_error("cannot start the receiver: %s", hh_error_last());
	}
	if (pipe2(p, O_CLOEXEC) < 0) {
		close_pair(cp);
		hh_buf_release(&entries);
		return hh_error("cannot start the receiver: %s", strerror(errno));
	}
	if (priv->on && pipe2(sp, O_CLOEXEC) < 0) {
		close_pair(p);
		close_pair(cp);
		hh_buf_release(&entries);
		return hh_error("cannot start the receiver: %s", strerror(errno));
	}
	for (i = 0; environ[i]; i++)
		;
	env = calloc(i + 1, sizeof(*env));
	if (!env) {
		close_pair(p);
		close_pair(sp);
		close_pair(cp);
		hh_buf_release(&entries);
		return hh_error("out of memory");
	}
	for (i = 0; environ[i]; i++)
		if (hh_config_receiver_env(environ[i]) &&
		    !(priv->on && strncmp(environ[i], "HEALHOOK_SECRET=", 16) == 0))
			env[k++] = environ[i]; /* a dropped receiver gets the secret by pipe */
	env[k] = NULL;
	snprintf(fdarg, sizeof(fdarg), "%d", 3);
	argv[n++] = "healhook";
	argv[n++] = "serve";
	argv[n++] = "--role=receiver";
	argv[n++] = "--ready-fd";
	argv[n++] = fdarg;
	if (cfg->path) {
		snprintf(cfdarg, sizeof(cfdarg), "%d", cfd);
		argv[n++] = "--config";
		argv[n++] = cfg->path;
		argv[n++] = "--config-fd";
		argv[n++] = cfdarg;
	}
	if (a->listen) {
		argv[n++] = "--listen";
		argv[n++] = a->listen;
	}
	if (a->record) {
		argv[n++] = "--record";
		argv[n++] = a->record;
	}
	if (a->insecure)
		argv[n++] = "--insecure";
	if (a->fmt) {
		argv[n++] = "--log-format";
		argv[n++] = a->fmt;
	}
	if (a->lvl) {
		argv[n++] = "--log-level";
		argv[n++] = a->lvl;
	}
	if (priv->on) {
		snprintf(drop, sizeof(drop), "%lu:%lu", (unsigned long)priv->uid,
			 (unsigned long)priv->gid);
		argv[n++] = "--drop";
		argv[n++] = drop;
		argv[n++] = "--secret-fd";
		argv[n++] = "4";
	}
	argv[n] = NULL;
	pid = fork();
	if (pid == 0) {
		int from[3] = {p[1], priv->on ? sp[0] : -1, cp[0]}, to[3] = {3, 4, cfd};
		exec_receiver(from, to, argv, env);
	}
	free(env);
	close(p[1]);
	if (priv->on) {
		if (pid > 0)
			send_secret(sp, cfg->secret, cfg->database ? cfg->database_password : NULL);
		else
			close_pair(sp);
	}
	if (cp[0] >= 0) { /* after the secret: the receiver reads that pipe first */
		close(cp[0]);
		if (pid > 0 && write_all(cp[1], entries.ptr, entries.len) < 0)
			hh_log(HH_LOG_ERROR, "serve.config", "error", strerror(errno), NULL);
		close(cp[1]);
	}
	hh_buf_release(&entries);
	if (pid < 0) {
		close(p[0]);
		return hh_error("cannot start the receiver: %s", strerror(errno));
	}
	*ready = p[0];
	return pid;
}

/* Waits for the receiver's "PORT\n". Returns the port, or -1 if it failed to start. */
static int await_ready(int fd, long timeout_ms)
{
	struct pollfd pfd = {fd, POLLIN, 0};
	char buf[32];
	ssize_t n = 0;

	if (poll(&pfd, 1, (int)timeout_ms) > 0)
		n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return atoi(buf);
}

/* Stops the receiver: SIGTERM, then SIGKILL after grace_ms. */
static void stop_receiver(pid_t pid, long grace_ms)
{
	long waited = 0;
	int status;

	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (waited >= grace_ms) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return;
		}
		usleep(10000);
		waited += 10;
	}
}

static int start_status(const hh_config *cfg, hh_status_server **out)
{
	char port[16];

	if (hh_status_start(out, cfg, cfg->status_listen) < 0) {
		cmd_die_msg("serve", "%s", hh_error_last());
		return -1;
	}
	snprintf(port, sizeof(port), "%d", hh_status_port(*out));
	hh_log(HH_LOG_INFO, "status.listening", "listen", cfg->status_listen, "port", port, "token",
	       cfg->status_token ? "required" : "none", NULL);
	return 0;
}

/* The main process: what it started, so that one function can stop it all. */
struct serve {
	struct serve_args a;
	hh_config *cfg;
	struct serve_priv priv;
	int lockfd;
	pid_t receiver;
	int ready; /* the receiver's ready pipe */
	sigset_t set;
	struct lookup_thread lt;
	pthread_t lookup;
	hh_worker *worker;
	hh_notifier *notifier;
	hh_status_server *pages;
};

/* Takes the state directory, recovers the jobs a crash left running, prepares the receiver's
 * user. HH_EXIT_OK or the exit code (the error printed). */
static int prepare(struct serve *s)
{
	hh_store *st = NULL;

	/* The process that holds the secrets: no core dump, and no ptrace or /proc/PID/mem from
	 * processes of the same user (a compromised receiver without its own user). */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		hh_log(HH_LOG_WARN, "serve.dumpable", "error", strerror(errno), NULL);
	/* One serve per state directory (docs/security.md): a second one exits 2. */
	if ((s->lockfd = hh_state_lock(s->cfg->state_dir)) < 0) {
		cmd_die_msg("serve", "%s", hh_error_last());
		return HH_EXIT_USAGE;
	}
	if (hh_store_open(&st, s->cfg->state_dir) < 0) {
		cmd_die_msg("serve", "%s", hh_error_last());
		return HH_EXIT_FAIL;
	}
	if (hh_worker_recover(s->cfg, st, (long long)time(NULL)) < 0)
		hh_log(HH_LOG_ERROR, "serve.recover", "error", hh_error_last(), NULL);
	hh_store_close(st);
	if (serve_priv_prepare(s->cfg, s->a.record ? s->a.record : s->cfg->record, &s->priv) < 0) {
		cmd_die_msg("serve", "%s", hh_error_last());
		return HH_EXIT_FAIL;
	}
	return HH_EXIT_OK;
}

/* Starts the receiver and waits until it listens; its port goes to port. 0 or -1. */
static int start_receiver(struct serve *s, char port[16])
{
	int p, status;

	s->receiver = spawn_receiver(&s->a, s->cfg, &s->priv, &s->ready);
	p = s->receiver > 0 ? await_ready(s->ready, 15000) : -1;
	if (p >= 0) {
		snprintf(port, 16, "%d", p);
		return 0;
	}
	if (s->receiver > 0) {
		kill(s->receiver, SIGKILL);
		waitpid(s->receiver, &status, 0);
	}
	cmd_die_msg("serve", "the receiver did not start%s%s", s->receiver > 0 ? "" : ": ",
		    s->receiver > 0 ? "" : hh_error_last());
	s->receiver = 0;
	return -1;
}

/* The lookup thread, the notifier and the worker; their failures are logged, not fatal. */
static void start_services(struct serve *s)
{
	s->lt.cfg = s->cfg;
	pthread_mutex_init(&s->lt.lock, NULL);
	pthread_cond_init(&s->lt.cond, NULL);
	pthread_create(&s->lookup, NULL, lookup_main, &s->lt);
	if (hh_notifier_start(&s->notifier, s->cfg) < 0)
		hh_log(HH_LOG_ERROR, "serve.notifier", "error", hh_error_last(), NULL);
	if (hh_worker_start(&s->worker, s->cfg, s->notifier) < 0)
		hh_log(HH_LOG_ERROR, "serve.worker", "error", hh_error_last(), NULL);
}

/* SIGCHLD: only the receiver is reaped here (the worker's local transport waits for its own
 * children); a dead receiver is started again. */
static void reap_receiver(struct serve *s)
{
	int status;

	while (waitpid(s->receiver, &status, WNOHANG) > 0) {
		hh_log(HH_LOG_ERROR, "serve.receiver-died", "status",
		       WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) : "exited", NULL);
		sleep(1);
		s->receiver = spawn_receiver(&s->a, s->cfg, &s->priv, &s->ready);
		if (s->receiver < 0 || await_ready(s->ready, 15000) < 0)
			hh_log(HH_LOG_ERROR, "serve.receiver-restart", "error",
			       "the receiver did not start again", NULL);
		else
			hh_log(HH_LOG_INFO, "serve.receiver-restarted", NULL);
	}
}

/* Until SIGTERM or SIGINT; returns the signal that stopped serve. */
static int wait_for_stop(struct serve *s)
{
	int sig = 0;

	for (;;) {
		if (sigwait(&s->set, &sig) != 0)
			return sig;
		if (sig == SIGCHLD)
			reap_receiver(s);
		else if (sig != SIGHUP)
			return sig;
	}
}

/* Stops whatever was started, in the reverse order, and frees the rest. */
static void stop_all(struct serve *s, int started)
{
	if (s->receiver > 0)
		stop_receiver(s->receiver, started ? 15000 : 5000);
	if (started) {
		pthread_mutex_lock(&s->lt.lock);
		s->lt.stop = 1;
		pthread_cond_signal(&s->lt.cond);
		pthread_mutex_unlock(&s->lt.lock);
		pthread_join(s->lookup, NULL);
	}
	hh_status_stop(s->pages);
	hh_worker_stop(s->worker);
	hh_notifier_stop(s->notifier, 5000);
	if (started) {
		pthread_mutex_destroy(&s->lt.lock);
		pthread_cond_destroy(&s->lt.cond);
	}
	serve_priv_release(&s->priv);
	if (s->lockfd >= 0)
		hh_state_unlock(s->lockfd);
	hh_config_free(s->cfg);
}

int cmd_serve(int argc, char **argv)
{
	struct serve s = {.lockfd = -1};
	char port[16];
	int rc, sig;

	rc = parse_args(argc, argv, &s.a);
	if (rc)
		return rc > 0 ? HH_EXIT_OK : HH_EXIT_USAGE;
	if (s.a.receiver)
		return run_receiver(&s.a);
	if (!(s.cfg = load(&s.a)))
		return HH_EXIT_USAGE;
	if ((rc = prepare(&s)) != HH_EXIT_OK)
		goto fail;
	block_signals(&s.set, 1);
	rc = HH_EXIT_FAIL;
	if (start_receiver(&s, port) < 0)
		goto fail;
	/* The status pages: in this process (they read the store and the mirrors), never in the
	 * receiver, on their own port. */
	if (s.cfg->status_listen && start_status(s.cfg, &s.pages) < 0)
		goto fail;
	start_services(&s);
	hh_log(HH_LOG_INFO, "serve.listening", "listen", s.a.listen ? s.a.listen : s.cfg->listen,
	       "port", port, "state", s.cfg->state_dir, NULL);
	if (hh_sd_notify("READY=1") < 0)
		hh_log(HH_LOG_WARN, "serve.sd_notify", "error", hh_error_last(), NULL);
	sig = wait_for_stop(&s);
	hh_log(HH_LOG_INFO, "serve.stopping", "signal", sig == SIGINT ? "INT" : "TERM", NULL);
	hh_sd_notify("STOPPING=1");
	stop_all(&s, 1);
	hh_log(HH_LOG_INFO, "serve.stopped", NULL);
	return HH_EXIT_OK;
fail:
	stop_all(&s, 0);
	return rc;
}
