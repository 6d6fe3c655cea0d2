/*
 * remote_ssh: the ssh transport, on one libssh2 session per hh_remote.
 *
 * The session runs in non-blocking mode; every libssh2 call is retried while it says EAGAIN,
 * after poll() on the socket in the directions libssh2 is blocked on, against a deadline (the
 * command's limit, or SSH_IO_TIMEOUT_MS for file operations). So no call can hang forever.
 *
 * Opening: TCP connect with a time limit, handshake, host key check against the known_hosts
 * file (exact name match: "host" for port 22, "[host]:port" otherwise, because libssh2 alone
 * lets a port-less entry match any port), key authentication.
 *
 * Commands: sshd hands the command line to the user's shell, so every word is single-quoted.
 * The line is
 *     echo $$ >&2; cd -- '<cwd>' && exec [timeout -k 2 <N>] [env [-i PATH=...] 'N=V'...] 'argv'...
 *         [</dev/null (exec without stdin data, as the local transport does)]
 * sshd makes the shell a session and process-group leader; exec keeps its pid, which is echoed
 * first on stderr (and stripped from it) and names the command's process group. With a time
 * limit, the remote `timeout` sends TERM to the group at the limit and KILL 2 s later, even if
 * we are gone. As a fallback, 3 s after the limit we open a second channel and run
 * `kill -s KILL -- -<pgid>`, wait 3 s more for the channel to end, and then abandon it (never
 * blocking in channel_close). A command killed by a signal is reported with status -1 and its
 * signal (libssh2 reports status 0 for it). Exit status 124/137 after the limit means `timeout`
 * stopped it.
 *
 * Files go over SFTP: see remote_sftp.c.
 */
#include "internal/knownhosts.h"
#include "internal/log.h"
#include "internal/netopt.h"
#include "internal/remote_priv.h"
#include "internal/remote_ssh_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define KILL_AFTER_S 2 /* timeout -k */
#define LOCAL_KILL_MARGIN_MS 3000
#define ABANDON_AFTER_MS 3000
#define CLEAN_PATH "/usr/local/bin:/usr/bin:/bin"

struct hh_stream_ssh {
	LIBSSH2_CHANNEL *ch;
	int64_t deadline;
	long pid;
	char pidbuf[24];
	size_t pidlen;
	int pid_done;
	int eof_sent;
	int failed;
};

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_rc;

static void ssh_global_init(void)
{
	init_rc = libssh2_init(0);
}

int64_t hh_ssh_io_deadline(void)
{
	return hh_now_ms() + SSH_IO_TIMEOUT_MS;
}

/* Waits for the socket in the directions libssh2 needs; -1 once the deadline has passed. */
int hh_ssh_wait(struct hh_ssh *s, int64_t deadline)
{
	struct pollfd pf = {s->sock, 0, 0};
	int dir = libssh2_session_block_directions(s->session);
	int64_t now = hh_now_ms(), wait;

	if (now >= deadline)
		return -1;
	if (dir & LIBSSH2_SESSION_BLOCK_INBOUND)
		pf.events |= POLLIN;
	if (dir & LIBSSH2_SESSION_BLOCK_OUTBOUND)
		pf.events |= POLLOUT;
	wait = deadline - now;
	if (!pf.events && wait > 10)
		wait = 10;
	if (wait > 1000)
		wait = 1000;
	if (!pf.events)
		pf.events = POLLIN;
	if (pf.events & POLLIN)
		hh_sock_quickack(s->sock);
	poll(&pf, 1, (int)wait);
	return 0;
}

const char *hh_ssh_errmsg(struct hh_ssh *s)
{
	char *msg = NULL;

	libssh2_session_last_error(s->session, &msg, NULL, 0);
	return msg && *msg ? msg : "unknown error";
}

/* ---- opening ---- */

static int tcp_connect(hh_remote *r, int64_t deadline)
{
	struct hh_ssh *s = r->ssh;
	struct addrinfo hints = {0}, *res = NULL, *ai;
	char port[16];
	int rc, err = ETIMEDOUT;

	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%d", r->spec.port);
	rc = getaddrinfo(r->spec.hostname, port, &hints, &res);
	if (rc)
		return hh_fail(HH_ECONNECT, "cannot connect to %s:%d: %s", r->spec.hostname,
			       r->spec.port, gai_strerror(rc));
	for (ai = res; ai; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
				ai->ai_protocol);
		socklen_t len = sizeof(err);

		if (fd < 0) {
			err = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
			if (errno != EINPROGRESS) {
				err = errno;
				close(fd);
				continue;
			}
			for (;;) {
				struct pollfd pf = {fd, POLLOUT, 0};
				int64_t left = deadline - hh_now_ms();

				if (left <= 0) {
					err = ETIMEDOUT;
					break;
				}
				rc = poll(&pf, 1, (int)left);
				if (rc > 0) {
					if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
						err = errno;
					break;
				}
				if (rc < 0 && errno != EINTR) {
					err = errno;
					break;
				}
			}
			if (err) {
				close(fd);
				continue;
			}
		}
		hh_sock_tune(fd); /* no Nagle: ssh is small request/answer writes */
		s->sock = fd;
		r->connections++;
		freeaddrinfo(res);
		return 0;
	}
	freeaddrinfo(res);
	return hh_fail(HH_ECONNECT, "cannot connect to %s:%d: %s", r->spec.hostname, r->spec.port,
		       strerror(err));
}

/* Checks the server's key against known_hosts, with the one policy of knownhosts.c; returns
 * its code (HH_EKNOWNHOSTS, HH_EHOSTKEY_UNKNOWN, HH_EHOSTKEY_CHANGED with the fingerprint). */
static int check_host_key(hh_remote *r, const char *known_hosts)
{
	const char *key;
	size_t keylen;
	int type;

	key = libssh2_session_hostkey(r->ssh->session, &keylen, &type);
	if (!key)
		return hh_fail(HH_EHANDSHAKE, "no host key from %s:%d", r->spec.hostname,
			       r->spec.port);
	return hh_known_hosts_check(known_hosts, r->spec.hostname, r->spec.port, key, keylen, NULL);
}

/* libssh2 1.10 has no rsa-sha2-* signatures: say so when an RSA key is refused. */
#define RSA_HINT                                                                                   \
	" (libssh2 1.10 signs with RSA keys using ssh-rsa/SHA-1 only: use an ed25519 key, or "     \
	"allow it on the host with PubkeyAcceptedAlgorithms +ssh-rsa)"

static int is_rsa_key(const char *identity)
{
	char line[64] = "";
	char *pub = hh_asprintf("%s.pub", identity);
	FILE *f;

	if (pub && (f = fopen(pub, "r"))) {
		if (!fgets(line, sizeof(line), f))
			line[0] = '\0';
		fclose(f);
	} else if ((f = fopen(identity, "r"))) {
		if (!fgets(line, sizeof(line), f))
			line[0] = '\0';
		fclose(f);
	}
	free(pub);
	return !strncmp(line, "ssh-rsa ", 8) || !strncmp(line, "-----BEGIN RSA", 14);
}

static char *default_user(void)
{
	struct passwd pw, *res = NULL;
	char buf[4096];

	if (getpwuid_r(getuid(), &pw, buf, sizeof(buf), &res) || !res) {
		hh_error("cannot find the name of user %d", (int)getuid());
		return NULL;
	}
	return hh_strdup(res->pw_name);
}

int hh_ssh_open(hh_remote *r, const hh_remote_opts *opts)
{
	struct hh_ssh *s;
	int64_t deadline = hh_now_ms() + r->connect_timeout_ms;
	int rc;

	if (!opts->identity || !opts->known_hosts)
		return hh_fail(HH_ECONFIG, "ssh host '%s' needs %s", opts->host,
			       !opts->identity && !opts->known_hosts
				       ? "an identity and a known-hosts file"
			       : !opts->identity ? "an identity (a private key file)"
						 : "a known-hosts file");
	pthread_once(&init_once, ssh_global_init);
	if (init_rc)
		return hh_error("cannot initialize libssh2");
	if (!(s = calloc(1, sizeof(*s))))
		return hh_error("out of memory");
	s->sock = -1;
	r->ssh = s;
	if (!(s->user = r->spec.user ? hh_strdup(r->spec.user) : default_user()))
		return -1;
	if (!(s->label = hh_asprintf("%s@%s", s->user, r->spec.hostname)))
		return -1;
	if (access(opts->identity, R_OK) < 0)
		return hh_fail(HH_EKEYFILE, "cannot read ssh key '%s': %s", opts->identity,
			       strerror(errno));
	if ((rc = tcp_connect(r, deadline)) < 0)
		return rc;
	if (!(s->session = libssh2_session_init()))
		return hh_error("cannot create an ssh session");
	libssh2_session_set_blocking(s->session, 0);
	RETRY(s, deadline, rc, libssh2_session_handshake(s->session, s->sock));
	if (rc)
		return hh_fail(HH_EHANDSHAKE, "ssh handshake with %s:%d failed: %s",
			       r->spec.hostname, r->spec.port,
			       rc == LIBSSH2_ERROR_EAGAIN ? "timed out" : hh_ssh_errmsg(s));
	if ((rc = check_host_key(r, opts->known_hosts)) < 0)
		return rc;
	RETRY(s, deadline, rc,
	      libssh2_userauth_publickey_fromfile_ex(s->session, s->user,
						     (unsigned int)strlen(s->user), NULL,
						     opts->identity, NULL));
	/* Every refusal is HH_EAUTH, a key libssh2 cannot parse too (LIBSSH2_ERROR_FILE): the
	 * file was readable, so the fix is another key or authorized_keys, not its mode. */
	if (rc)
		return hh_fail(HH_EAUTH, "ssh authentication failed for %s with key %s: %s%s",
			       s->label, opts->identity,
			       rc == LIBSSH2_ERROR_EAGAIN ? "timed out" : hh_ssh_errmsg(s),
			       is_rsa_key(opts->identity) ? RSA_HINT : "");
	/* No SFTP here: a heal runs everything through exec channels (rscript.h), so a host
	 * without the sftp subsystem heals; SFTP starts on the first file call, if any. */
	return 0;
}

void hh_ssh_close(hh_remote *r)
{
	struct hh_ssh *s = r->ssh;
	int64_t deadline = hh_now_ms() + 2000;
	int rc;

	if (!s)
		return;
	if (s->session) {
		if (s->abandoned && s->sock >= 0)
			shutdown(s->sock, SHUT_RDWR); /* never wait for abandoned channels */
		if (s->sftp)
			RETRY(s, deadline, rc, libssh2_sftp_shutdown(s->sftp));
		RETRY(s, deadline, rc,
		      libssh2_session_disconnect(s->session, "healhook: job done"));
		RETRY(s, deadline, rc, libssh2_session_free(s->session));
	}
	if (s->sock >= 0)
		close(s->sock);
	free(s->user);
	free(s->label);
	free(s);
	r->ssh = NULL;
}

int hh_ssh_channels(const hh_remote *r)
{
	return r->ssh->channels;
}

/* ---- commands ---- */

static int build_command(hh_buf *cmd, const char *const *argv, const char *cwd,
			 const char *const *env, int clean_env, long timeout_ms, int null_stdin)
{
	const char *const *p;

	if (hh_buf_puts(cmd, "echo $$ >&2; cd -- ") < 0 || hh_shell_quote(cmd, cwd) < 0 ||
	    hh_buf_puts(cmd, " && exec ") < 0)
		return -1;
	if (timeout_ms > 0 && hh_buf_printf(cmd, "timeout -k %d %ld.%03ld ", KILL_AFTER_S,
					    timeout_ms / 1000, timeout_ms % 1000) < 0)
		return -1;
	if (clean_env && hh_buf_puts(cmd, "env -i PATH=" CLEAN_PATH " ") < 0)
		return -1;
	else if (!clean_env && env && *env && hh_buf_puts(cmd, "env ") < 0)
		return -1;
	for (p = env; p && *p; p++)
		if (hh_shell_quote(cmd, *p) < 0 || hh_buf_putc(cmd, ' ') < 0)
			return -1;
	for (p = argv; *p; p++)
		if ((p != argv && hh_buf_putc(cmd, ' ') < 0) || hh_shell_quote(cmd, *p) < 0)
			return -1;
	if (null_stdin && hh_buf_puts(cmd, " </dev/null") < 0)
		return -1;
	return 0;
}

static LIBSSH2_CHANNEL *open_exec(struct hh_ssh *s, const char *cmd, int64_t deadline)
{
	LIBSSH2_CHANNEL *ch;
	int rc;

	RETRY_PTR(s, deadline, ch, libssh2_channel_open_session(s->session));
	if (ch)
		s->channels++;
	if (!ch) {
		hh_error("cannot open an ssh channel to %s: %s", s->label, hh_ssh_errmsg(s));
		return NULL;
	}
	RETRY(s, deadline, rc, libssh2_channel_exec(ch, cmd));
	if (rc) {
		hh_error("cannot start a command on %s: %s", s->label, hh_ssh_errmsg(s));
		RETRY(s, deadline, rc, libssh2_channel_free(ch));
		return NULL;
	}
	return ch;
}

/* Feeds stderr bytes through the "pid\n" prefix parser, then into err (tail kept). */
static int take_stderr(struct hh_stream_ssh *p, const char *d, size_t n, hh_buf *err, size_t cap,
		       int *trunc)
{
	while (!p->pid_done && n) {
		char c = *d++;

		n--;
		if (c == '\n' || p->pidlen + 1 >= sizeof(p->pidbuf)) {
			p->pidbuf[p->pidlen] = '\0';
			p->pid = strtol(p->pidbuf, NULL, 10);
			p->pid_done = 1;
		} else {
			p->pidbuf[p->pidlen++] = c;
		}
	}
	return n ? hh_buf_put_tail(err, d, n, cap, trunc) : 0;
}

/* Kills the command's process group from a second channel (best effort, bounded). */
static void kill_remote(struct hh_ssh *s, long pid)
{
	LIBSSH2_CHANNEL *ch;
	char cmd[96], buf[256];
	int64_t deadline = hh_now_ms() + 3000;
	int rc;

	if (pid <= 1)
		return;
	snprintf(cmd, sizeof(cmd), "kill -s KILL -- -%ld 2>/dev/null; kill -s KILL %ld 2>/dev/null",
		 pid, pid);
	if (!(ch = open_exec(s, cmd, deadline)))
		return;
	do {
		RETRY(s, deadline, rc, libssh2_channel_read(ch, buf, sizeof(buf)));
	} while (rc > 0);
	RETRY(s, deadline, rc, libssh2_channel_close(ch));
	RETRY(s, deadline, rc, libssh2_channel_wait_closed(ch));
	RETRY(s, deadline, rc, libssh2_channel_free(ch));
	if (rc)
		s->abandoned = 1;
}

/* Closes a channel whose remote end has sent EOF, then reads its exit status or signal. */
static void finish_channel(struct hh_ssh *s, LIBSSH2_CHANNEL *ch, int *status, int *sig)
{
	int64_t deadline = hh_now_ms() + ABANDON_AFTER_MS;
	char *signame = NULL;
	size_t len = 0;
	int rc;

	*status = -1;
	*sig = 0;
	RETRY(s, deadline, rc, libssh2_channel_close(ch));
	if (!rc)
		RETRY(s, deadline, rc, libssh2_channel_wait_closed(ch));
	if (!rc) {
		*status = libssh2_channel_get_exit_status(ch);
		if (!libssh2_channel_get_exit_signal(ch, &signame, &len, NULL, NULL, NULL, NULL) &&
		    signame) {
			*status = -1; /* libssh2 says 0 for a killed command */
			*sig = hh_signal_from_name(signame);
			if (!*sig)
				*sig = SIGKILL;
			libssh2_free(s->session, signame);
		}
	}
	RETRY(s, deadline, rc, libssh2_channel_free(ch));
	if (rc)
		s->abandoned = 1;
}

int hh_ssh_exec(hh_remote *r, const char *const *argv, const hh_exec_opts *opts,
		hh_exec_result *res)
{
	struct hh_ssh *s = r->ssh;
	struct hh_stream_ssh pidp = {0};
	LIBSSH2_CHANNEL *ch;
	hh_buf cmd = HH_BUF_INIT;
	size_t cap = opts->out_cap ? opts->out_cap : HH_REMOTE_DEFAULT_CAP;
	const char *in = opts->stdin_data;
	size_t in_left = opts->stdin_data ? opts->stdin_len : 0;
	int64_t start = hh_now_ms(), deadline, give_up = 0;
	int eof_sent = 0, killed = 0, rc = -1;
	char buf[32768];

	deadline = opts->timeout_ms > 0 ? start + opts->timeout_ms + LOCAL_KILL_MARGIN_MS
					: INT64_MAX;
	if (build_command(&cmd, argv, opts->cwd ? opts->cwd : r->spec.path, opts->env,
			  opts->clean_env, opts->timeout_ms, opts->stdin_data == NULL) < 0)
		goto out;
	if (!(ch = open_exec(s, cmd.ptr, hh_now_ms() + SSH_IO_TIMEOUT_MS)))
		goto out;
	for (;;) {
		ssize_t n_out, n_err, n;
		int progress = 0;
		int64_t now;

		if (in_left) {
			n = libssh2_channel_write(ch, in, in_left);
			if (n > 0) {
				in += n;
				in_left -= (size_t)n;
				progress = 1;
			} else if (n != LIBSSH2_ERROR_EAGAIN) {
				in_left = 0; /* the command stopped reading */
			}
		}
		if (!in_left && !eof_sent) {
			n = libssh2_channel_send_eof(ch);
			if (n != LIBSSH2_ERROR_EAGAIN)
				eof_sent = 1;
		}
		n_out = libssh2_channel_read(ch, buf, sizeof(buf));
		if (n_out > 0) {
			progress = 1;
			if (hh_buf_put_tail(&res->out, buf, (size_t)n_out, cap, &res->truncated) <
			    0)
				goto out_abandon;
		}
		n_err = libssh2_channel_read_stderr(ch, buf, sizeof(buf));
		if (n_err > 0) {
			progress = 1;
			if (take_stderr(&pidp, buf, (size_t)n_err, &res->err, cap,
					&res->truncated) < 0)
				goto out_abandon;
		}
		if ((n_out < 0 && n_out != LIBSSH2_ERROR_EAGAIN) ||
		    (n_err < 0 && n_err != LIBSSH2_ERROR_EAGAIN)) {
			hh_error("ssh connection to %s failed while running '%s': %s", s->label,
				 argv[0], hh_ssh_errmsg(s));
			goto out_abandon;
		}
		if (n_out == 0 && n_err == 0 && libssh2_channel_eof(ch))
			break;
		if (progress)
			continue;
		now = hh_now_ms();
		if (!killed && now >= deadline) {
			killed = 1;
			res->timed_out = 1;
			kill_remote(s, pidp.pid);
			give_up = hh_now_ms() + ABANDON_AFTER_MS;
		}
		if (killed && now >= give_up) {
			res->signal = SIGKILL;
			rc = 0;
			goto out_abandon;
		}
		hh_ssh_wait(s, killed ? give_up : deadline);
	}
	finish_channel(s, ch, &res->status, &res->signal);
	if (opts->timeout_ms > 0 && hh_now_ms() - start >= opts->timeout_ms &&
	    (res->status == 124 || res->status == 128 + SIGKILL || res->signal))
		res->timed_out = 1;
	if (killed && res->status >= 0)
		res->status = -1;
	rc = 0;
	goto out;
out_abandon:
	/* The command may still run: do not wait for the channel, leave it to the session. */
	s->abandoned = 1;
	res->status = -1;
out:
	hh_buf_release(&cmd);
	return rc;
}

/* ---- streams ---- */

int hh_ssh_stream_open(hh_stream *st, const char *const *argv, long timeout_ms)
{
	static const char *const noenv[] = {NULL};
	struct hh_ssh *s = st->r->ssh;
	struct hh_stream_ssh *p;
	hh_buf cmd = HH_BUF_INIT;
	int rc = -1;

	if (!(p = calloc(1, sizeof(*p))))
		return hh_error("out of memory");
	p->deadline = timeout_ms > 0 ? hh_now_ms() + timeout_ms : INT64_MAX;
	if (build_command(&cmd, argv, st->cwd ? st->cwd : st->r->spec.path, noenv, 0, timeout_ms,
			  0) < 0)
		goto out;
	if (!(p->ch = open_exec(s, cmd.ptr, hh_now_ms() + SSH_IO_TIMEOUT_MS)))
		goto out;
	st->ssh = p;
	p = NULL;
	rc = 0;
out:
	free(p);
	hh_buf_release(&cmd);
	return rc;
}

static int stream_fail(hh_stream *st, const char *what)
{
	struct hh_stream_ssh *p = st->ssh;

	if (!p->failed) {
		p->failed = 1;
		kill_remote(st->r->ssh, p->pid);
	}
	return hh_error("ssh stream to %s timed out while %s", st->r->ssh->label, what);
}

/* Reads what stderr has (non-blocking); -1 on a connection error. */
static int stream_pump_err(hh_stream *st)
{
	struct hh_stream_ssh *p = st->ssh;
	char buf[4096];
	ssize_t n;
	int trunc = 0;

	while ((n = libssh2_channel_read_stderr(p->ch, buf, sizeof(buf))) > 0)
		if (take_stderr(p, buf, (size_t)n, &st->err, HH_STREAM_ERR_CAP, &trunc) < 0)
			return -1;
	if (n < 0 && n != LIBSSH2_ERROR_EAGAIN)
		return hh_error("ssh stream to %s failed: %s", st->r->ssh->label,
				hh_ssh_errmsg(st->r->ssh));
	return 0;
}

ssize_t hh_ssh_stream_read(hh_stream *st, void *buf, size_t len)
{
	struct hh_stream_ssh *p = st->ssh;
	ssize_t n;

	if (p->failed)
		return hh_error("ssh stream to %s has failed", st->r->ssh->label);
	for (;;) {
		if (stream_pump_err(st) < 0)
			return -1;
		n = libssh2_channel_read(p->ch, buf, len);
		if (n >= 0)
			return n;
		if (n != LIBSSH2_ERROR_EAGAIN)
			return hh_error("cannot read from the ssh stream to %s: %s",
					st->r->ssh->label, hh_ssh_errmsg(st->r->ssh));
		if (hh_ssh_wait(st->r->ssh, p->deadline) < 0)
			return stream_fail(st, "reading");
	}
}

int hh_ssh_stream_write(hh_stream *st, const void *buf, size_t len)
{
	struct hh_stream_ssh *p = st->ssh;
	const char *d = buf;
	ssize_t n;

	if (p->failed)
		return hh_error("ssh stream to %s has failed", st->r->ssh->label);
	if (p->eof_sent)
		return hh_error("cannot write to the ssh stream: input already closed");
	while (len) {
		if (stream_pump_err(st) < 0)
			return -1;
		n = libssh2_channel_write(p->ch, d, len);
		if (n > 0) {
			d += n;
			len -= (size_t)n;
			continue;
		}
		if (n != LIBSSH2_ERROR_EAGAIN)
			return hh_error("cannot write to the ssh stream to %s: %s",
					st->r->ssh->label, hh_ssh_errmsg(st->r->ssh));
		if (hh_ssh_wait(st->r->ssh, p->deadline) < 0)
			return stream_fail(st, "writing");
	}
	return 0;
}

int hh_ssh_stream_send_eof(hh_stream *st)
{
	struct hh_stream_ssh *p = st->ssh;
	int rc;

	if (p->eof_sent)
		return 0;
	RETRY(st->r->ssh, p->deadline, rc, libssh2_channel_send_eof(p->ch));
	if (rc == LIBSSH2_ERROR_EAGAIN)
		return stream_fail(st, "closing its input");
	p->eof_sent = 1;
	if (rc)
		return hh_error("cannot close the ssh stream's input: %s",
				hh_ssh_errmsg(st->r->ssh));
	return 0;
}

int hh_ssh_stream_close(hh_stream *st)
{
	struct hh_stream_ssh *p = st->ssh;
	struct hh_ssh *s = st->r->ssh;
	int64_t deadline = hh_now_ms() + (st->close_wait_ms > 0 ? st->close_wait_ms : 10000);
	int status = -1, sig = 0, eof = 0;
	char buf[8192];
	ssize_t n;

	if (p->deadline < deadline)
		deadline = p->deadline;
	if (!p->failed && !p->eof_sent && hh_ssh_stream_send_eof(st) < 0)
		p->failed = 1;
	while (!p->failed) { /* drain until the command ends (output is discarded) */
		if (stream_pump_err(st) < 0)
			break;
		n = libssh2_channel_read(p->ch, buf, sizeof(buf));
		if (n > 0)
			continue;
		if (n == 0 && libssh2_channel_eof(p->ch)) {
			eof = 1;
			break;
		}
		if (n < 0 && n != LIBSSH2_ERROR_EAGAIN)
			break;
		if (hh_ssh_wait(s, deadline) < 0) {
			stream_fail(st, "closing");
			break;
		}
	}
	if (eof) {
		finish_channel(s, p->ch, &status, &sig);
		if (sig)
			status = -1;
	} else {
		s->abandoned = 1;
	}
	free(p);
	st->ssh = NULL;
	return status;
}
