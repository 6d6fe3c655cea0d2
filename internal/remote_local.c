/*
 * remote_local: the local transport, for host = /path or local:/path.
 *
 * Commands are run with fork + execve on an argv, never through a shell. The program is looked
 * up in PATH before the fork (the fixed PATH when clean_env is set), so "not found" is an error
 * of the call, not an exit status. The child starts its own session (setsid), so the command
 * and everything it starts share one process group that can be signalled as a whole; errors
 * between fork and exec come back over a close-on-exec pipe.
 *
 * stdout and stderr are read with poll() against the deadline, keeping the tail of each when
 * over the cap. stdin is a socketpair, written with MSG_NOSIGNAL so that a child that does not
 * read its input cannot kill us with SIGPIPE. On time-out the group gets SIGTERM, then SIGKILL
 * 2 s later. When the command itself has exited, what is left of its group is killed, so a
 * background process holding the pipes cannot make us wait. The child is killed when healhook
 * dies (PR_SET_PDEATHSIG), so a crash or `kill -9` leaves no fixer or git running on: the
 * restart removes the interrupted job's scratch directory and must not race with it.
 *
 * Files: see remote_local_files.c.
 */
#include "internal/log.h"
#include "internal/remote_priv.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define CLEAN_PATH "/usr/local/bin:/usr/bin:/bin"
#define KILL_GRACE_MS 2000
#define DRAIN_GRACE_MS 2000

struct child {
	pid_t pid;
	int pidfd; /* readable when the child exits; -1 if the kernel has no pidfd */
	int in_fd; /* our end of the child's stdin; -1 when closed or /dev/null */
	int out_fd;
	int err_fd;
	int exited; /* the child is a zombie (seen with WNOWAIT), not yet reaped */
	int reaped;
	int wstatus;
	int timed_out;
	int64_t kill_at; /* when to send SIGKILL after SIGTERM; 0 = not pending */
};

struct hh_stream_local {
	struct child c;
	int64_t deadline;
	int failed;
};

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Looks prog up in the PATH value path; returns a new string or NULL with the error set. */
static char *find_program(const char *prog, const char *path)
{
	const char *p = path, *end;
	struct stat st;

	if (strchr(prog, '/'))
		return hh_strdup(prog);
	while (p && *p) {
		end = strchr(p, ':');
		if (!end)
			end = p + strlen(p);
		if (end > p) {
			char *cand = hh_asprintf("%.*s/%s", (int)(end - p), p, prog);

			if (!cand)
				return NULL;
			if (!stat(cand, &st) && S_ISREG(st.st_mode) && !access(cand, X_OK))
				return cand;
			free(cand);
		}
		p = *end ? end + 1 : end;
	}
	hh_fail(HH_ENOTINSTALLED, "command not found: '%s'", prog);
	return NULL;
}

static int env_name_eq(const char *a, const char *b)
{
	while (*a && *a != '=' && *a == *b)
		a++, b++;
	return (*a == '=' || !*a) && (*b == '=' || !*b);
}

/* Builds the child's environment (pointers borrowed, array owned by sv->v). */
static int build_env(hh_strv *sv, const hh_exec_opts *opts)
{
	const char *const *e;
	char **pe;

	if (opts->clean_env) {
		if (hh_strv_push(sv, "PATH=" CLEAN_PATH) < 0)
			return -1;
	} else {
		for (pe = environ; pe && *pe; pe++) {
			int overridden = 0;

			for (e = opts->env; e && *e; e++)
				if (env_name_eq(*pe, *e))
					overridden = 1;
			if (!overridden && hh_strv_push(sv, *pe) < 0)
				return -1;
		}
	}
	for (e = opts->env; e && *e; e++) {
		size_t i;

		for (i = 0; i < sv->n; i++) /* a later entry replaces an earlier one */
			if (env_name_eq(sv->v[i], *e))
				break;
		if (i < sv->n) {
			char *dup = hh_strdup(*e);

			if (!dup)
				return -1;
			free(sv->v[i]);
			sv->v[i] = dup;
		} else if (hh_strv_push(sv, *e) < 0) {
			return -1;
		}
	}
	return 0;
}

static const char *env_get(const hh_strv *sv, const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; i < sv->n; i++)
		if (!strncmp(sv->v[i], name, n) && sv->v[i][n] == '=')
			return sv->v[i] + n + 1;
	return NULL;
}

/* After fork: only async-signal-safe calls. Reports failures as {stage, errno} on ep. */
static void child_run(const char *exe, const char *const *argv, char *const *envp, const char *cwd,
		      int in, int out, int err, int ep, pid_t parent)
{
	sigset_t all;
	int code[2];
	int sig;

	setsid();
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127); /* healhook died before prctl */
	for (sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) {
		code[0] = 1;
		goto fail;
	}
	if (cwd && chdir(cwd) < 0) {
		code[0] = 2;
		goto fail;
	}
	execve(exe, (char *const *)argv, envp);
	code[0] = 3;
fail:
	code[1] = errno;
	if (write(ep, code, sizeof(code)) < 0)
		_exit(127);
	_exit(127);
}

static int spawn(struct child *c, const char *const *argv, const hh_exec_opts *opts,
		 const char *cwd, int want_stdin)
{
	hh_strv env = {0};
	char *exe = NULL;
	int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1}, ep[2] = {-1, -1};
	int code[2], rc = -1;
	const char *path;
	pid_t parent;
	ssize_t n;

	memset(c, 0, sizeof(*c));
	c->pid = -1;
	c->pidfd = c->in_fd = c->out_fd = c->err_fd = -1;
	if (build_env(&env, opts) < 0)
		goto out;
	path = env_get(&env, "PATH");
	if (!(exe = find_program(argv[0], path ? path : CLEAN_PATH)))
		goto out;
	if (want_stdin) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) < 0) {
			hh_error("cannot run '%s': socketpair: %s", argv[0], strerror(errno));
			goto out;
		}
	} else if ((in[0] = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) {
		hh_error("cannot open /dev/null: %s", strerror(errno));
		goto out;
	}
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0 || pipe2(ep, O_CLOEXEC) < 0) {
		hh_error("cannot run '%s': pipe: %s", argv[0], strerror(errno));
		goto out;
	}
	parent = getpid();
	c->pid = fork();
	if (c->pid < 0) {
		hh_error("cannot run '%s': fork: %s", argv[0], strerror(errno));
		goto out;
	}
	if (c->pid == 0)
		child_run(exe, argv, env.v, cwd, in[0], out[1], err[1], ep[1], parent);
	close_fd(&ep[1]);
	close_fd(&out[1]);
	close_fd(&err[1]);
	close_fd(&in[0]);
	/* EOF on ep means exec succeeded (and setsid ran, so the group exists). */
	do
		n = read(ep[0], code, sizeof(code));
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)sizeof(code)) {
		waitpid(c->pid, NULL, 0);
		c->pid = -1;
		if (code[0] == 2)
			hh_error("cannot change to directory '%s': %s", cwd, strerror(code[1]));
		else
			hh_fail(code[1] == ENOENT ? HH_ENOTINSTALLED : HH_ERR,
				"cannot run '%s': %s", argv[0], strerror(code[1]));
		goto out;
	}
	c->pidfd = (int)syscall(SYS_pidfd_open, c->pid, 0);
	c->in_fd = want_stdin ? in[1] : -1;
	in[1] = -1;
	c->out_fd = out[0];
	c->err_fd = err[0];
	out[0] = err[0] = -1;
	if (c->in_fd >= 0)
		fcntl(c->in_fd, F_SETFL, fcntl(c->in_fd, F_GETFL) | O_NONBLOCK);
	fcntl(c->out_fd, F_SETFL, fcntl(c->out_fd, F_GETFL) | O_NONBLOCK);
	fcntl(c->err_fd, F_SETFL, fcntl(c->err_fd, F_GETFL) | O_NONBLOCK);
	rc = 0;
out:
	close_fd(&in[0]);
	close_fd(&in[1]);
	close_fd(&out[0]);
	close_fd(&out[1]);
	close_fd(&err[0]);
	close_fd(&err[1]);
	close_fd(&ep[0]);
	close_fd(&ep[1]);
	free(exe);
	hh_strv_release(&env);
	return rc;
}

/* Notices (without reaping) that the child has exited. */
static void check_exited(struct child *c)
{
	siginfo_t si;

	if (c->exited || c->pid < 0)
		return;
	memset(&si, 0, sizeof(si));
	if (!waitid(P_PID, (id_t)c->pid, &si, WEXITED | WNOHANG | WNOWAIT) && si.si_pid == c->pid) {
		c->exited = 1;
	} else if (errno == ECHILD) {
		/* Someone else reaped it (a SIGCHLD handler elsewhere): it is gone; never spin. */
		c->exited = 1;
		c->reaped = 1;
		c->wstatus = -1;
	}
}

/* Reaps the child after killing what is left of its group (the zombie keeps the id taken). */
static void reap(struct child *c)
{
	if (c->reaped || c->pid < 0)
		return;
	kill(-c->pid, SIGKILL);
	while (waitpid(c->pid, &c->wstatus, 0) < 0 && errno == EINTR)
		;
	c->reaped = 1;
	close_fd(&c->pidfd);
}

/* Time-out handling: SIGTERM to the group now, SIGKILL KILL_GRACE_MS later. */
static void deadline_step(struct child *c, int64_t deadline, int64_t now)
{
	if (!c->timed_out && now >= deadline) {
		c->timed_out = 1;
		kill(-c->pid, SIGTERM);
		c->kill_at = now + KILL_GRACE_MS;
	}
	if (c->kill_at && now >= c->kill_at) {
		kill(-c->pid, SIGKILL);
		c->kill_at = 0;
	}
}

static int64_t next_wake(const struct child *c, int64_t deadline, int64_t now)
{
	int64_t t = deadline;

	if (c->kill_at && c->kill_at < t)
		t = c->kill_at;
	if (c->pidfd < 0 && !c->exited && now + 50 < t)
		t = now + 50; /* no pidfd: look at the child every 50 ms */
	if (t - now > 60000)
		t = now + 60000;
	return t < now ? now : t;
}

/* Reads what fd has into b (tail kept); closes fd at EOF or error. */
static void drain(int *fd, hh_buf *b, size_t cap, int *trunc, int *oom)
{
	char chunk[65536];
	ssize_t n;

	for (;;) {
		n = read(*fd, chunk, sizeof(chunk));
		if (n > 0) {
			if (hh_buf_put_tail(b, chunk, (size_t)n, cap, trunc) < 0)
				*oom = 1;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		close_fd(fd);
		return;
	}
}

static void fill_status(const struct child *c, hh_exec_result *res)
{
	res->timed_out = c->timed_out;
	if (c->wstatus == -1) {
		res->status = -1; /* reaped elsewhere: the status is unknown */
	} else if (WIFEXITED(c->wstatus)) {
		res->status = WEXITSTATUS(c->wstatus);
	} else if (WIFSIGNALED(c->wstatus)) {
		res->status = -1;
		res->signal = WTERMSIG(c->wstatus);
	}
}

int hh_local_exec(hh_remote *r, const char *const *argv, const hh_exec_opts *opts,
		  hh_exec_result *res)
{
	struct child c;
	size_t cap = opts->out_cap ? opts->out_cap : HH_REMOTE_DEFAULT_CAP;
	const char *in = opts->stdin_data;
	size_t in_left = opts->stdin_data ? opts->stdin_len : 0;
	int64_t now = hh_now_ms(), deadline, exited_at = 0, wake;
	int oom = 0;

	deadline = opts->timeout_ms > 0 ? now + opts->timeout_ms : INT64_MAX;
	if (spawn(&c, argv, opts, opts->cwd ? opts->cwd : r->spec.path, opts->stdin_data != NULL) <
	    0)
		return -1;
	if (c.in_fd >= 0 && !in_left)
		close_fd(&c.in_fd);
	for (;;) {
		struct pollfd pf[4];
		int np = 0, i_in = -1, i_out = -1, i_err = -1;

		now = hh_now_ms();
		check_exited(&c);
		if (c.exited && !exited_at) {
			exited_at = now;
			/* kill the leftovers of the group; their output stays in the pipes */
			kill(-c.pid, SIGKILL);
			close_fd(&c.in_fd);
		}
		if (c.out_fd < 0 && c.err_fd < 0 && c.exited)
			break;
		if (exited_at && now - exited_at > DRAIN_GRACE_MS)
			break; /* an escaped process holds the pipes */
		if (!c.exited)
			deadline_step(&c, deadline, now);
		if (c.in_fd >= 0) {
			i_in = np;
			pf[np++] = (struct pollfd){c.in_fd, POLLOUT, 0};
		}
		if (c.out_fd >= 0) {
			i_out = np;
			pf[np++] = (struct pollfd){c.out_fd, POLLIN, 0};
		}
		if (c.err_fd >= 0) {
			i_err = np;
			pf[np++] = (struct pollfd){c.err_fd, POLLIN, 0};
		}
		if (c.pidfd >= 0 && !c.exited)
			pf[np++] = (struct pollfd){c.pidfd, POLLIN, 0};
		wake = next_wake(&c, exited_at ? exited_at + DRAIN_GRACE_MS : deadline, now);
		if (poll(pf, (nfds_t)np, (int)(wake - now)) < 0 && errno != EINTR)
			break;
		if (i_in >= 0 && pf[i_in].revents) {
			ssize_t n = send(c.in_fd, in, in_left, MSG_NOSIGNAL | MSG_DONTWAIT);

			if (n > 0) {
				in += n;
				in_left -= (size_t)n;
			}
			if ((n < 0 && errno != EAGAIN && errno != EINTR) || !in_left)
				close_fd(&c.in_fd); /* done, or the child stopped reading */
		}
		if (i_out >= 0 && pf[i_out].revents)
			drain(&c.out_fd, &res->out, cap, &res->truncated, &oom);
		if (i_err >= 0 && pf[i_err].revents)
			drain(&c.err_fd, &res->err, cap, &res->truncated, &oom);
	}
	close_fd(&c.in_fd);
	close_fd(&c.out_fd);
	close_fd(&c.err_fd);
	reap(&c);
	fill_status(&c, res);
	if (oom)
		return hh_error("out of memory reading the output of '%s'", argv[0]);
	return 0;
}

/* ---- streams ---- */

int hh_local_stream_open(hh_stream *s, const char *const *argv, long timeout_ms)
{
	static const hh_exec_opts none;
	struct hh_stream_local *l = calloc(1, sizeof(*l));

	if (!l)
		return hh_error("out of memory");
	if (spawn(&l->c, argv, &none, s->cwd ? s->cwd : s->r->spec.path, 1) < 0) {
		free(l);
		return -1;
	}
	l->deadline = timeout_ms > 0 ? hh_now_ms() + timeout_ms : INT64_MAX;
	s->local = l;
	return 0;
}

/* Kills the group on time-out (TERM, then KILL after KILL_GRACE_MS) and marks the stream. */
static int stream_timeout(hh_stream *s, const char *what)
{
	struct hh_stream_local *l = s->local;
	int64_t end;

	if (!l->failed) {
		kill(-l->c.pid, SIGTERM);
		l->c.timed_out = 1;
		end = hh_now_ms() + KILL_GRACE_MS;
		while (hh_now_ms() < end) {
			check_exited(&l->c);
			if (l->c.exited)
				break;
			usleep(20000);
		}
		kill(-l->c.pid, SIGKILL);
		l->failed = 1;
	}
	return hh_error("stream to '%s' timed out while %s", s->r->spec.path, what);
}

/*
 * Waits until fd is ready for events (stderr is drained meanwhile). Returns 1 when ready,
 * 0 when fd was closed by a drain, -1 on time-out (error set).
 */
static int stream_wait(hh_stream *s, int fd, short events, const char *what)
{
	struct hh_stream_local *l = s->local;
	int trunc = 0, oom = 0;

	for (;;) {
		struct pollfd pf[2];
		int np = 0;
		int64_t now = hh_now_ms(), wait;

		if (now >= l->deadline)
			return stream_timeout(s, what);
		pf[np++] = (struct pollfd){fd, events, 0};
		if (l->c.err_fd >= 0)
			pf[np++] = (struct pollfd){l->c.err_fd, POLLIN, 0};
		wait = l->deadline - now;
		if (wait > 60000)
			wait = 60000;
		if (poll(pf, (nfds_t)np, (int)wait) < 0 && errno != EINTR)
			return hh_error("poll: %s", strerror(errno));
		if (np > 1 && pf[1].revents)
			drain(&l->c.err_fd, &s->err, HH_STREAM_ERR_CAP, &trunc, &oom);
		if (pf[0].revents)
			return 1;
	}
}

ssize_t hh_local_stream_read(hh_stream *s, void *buf, size_t len)
{
	struct hh_stream_local *l = s->local;
	ssize_t n;

	if (l->failed)
		return hh_error("stream to '%s' has failed", s->r->spec.path);
	for (;;) {
		if (l->c.out_fd < 0)
			return 0;
		n = read(l->c.out_fd, buf, len);
		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return hh_error("cannot read from the stream: %s", strerror(errno));
		if (stream_wait(s, l->c.out_fd, POLLIN, "reading") < 0)
			return -1;
	}
}

int hh_local_stream_write(hh_stream *s, const void *buf, size_t len)
{
	struct hh_stream_local *l = s->local;
	const char *p = buf;
	ssize_t n;

	if (l->failed)
		return hh_error("stream to '%s' has failed", s->r->spec.path);
	if (l->c.in_fd < 0)
		return hh_error("cannot write to the stream: input already closed");
	while (len) {
		n = send(l->c.in_fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return hh_error("cannot write to the stream: %s", strerror(errno));
		if (stream_wait(s, l->c.in_fd, POLLOUT, "writing") < 0)
			return -1;
	}
	return 0;
}

int hh_local_stream_send_eof(hh_stream *s)
{
	close_fd(&s->local->c.in_fd);
	return 0;
}

int hh_local_stream_close(hh_stream *s)
{
	struct hh_stream_local *l = s->local;
	int64_t end;
	int trunc = 0, oom = 0, rc = -1;

	close_fd(&l->c.in_fd);
	close_fd(&l->c.out_fd); /* a command still writing gets SIGPIPE */
	/* Give the command until the deadline (at most 10 s) to exit, then kill its group. */
	end = hh_now_ms() + (s->close_wait_ms > 0 ? s->close_wait_ms : 10000);
	if (l->deadline < end)
		end = l->deadline;
	while (!l->c.exited && hh_now_ms() < end) {
		struct pollfd pf = {l->c.err_fd, POLLIN, 0};

		if (l->c.err_fd >= 0 && poll(&pf, 1, 20) > 0)
			drain(&l->c.err_fd, &s->err, HH_STREAM_ERR_CAP, &trunc, &oom);
		else if (l->c.err_fd < 0)
			usleep(20000);
		check_exited(&l->c);
	}
	if (!l->c.exited)
		l->c.timed_out = 1;
	if (l->c.err_fd >= 0)
		drain(&l->c.err_fd, &s->err, HH_STREAM_ERR_CAP, &trunc, &oom);
	close_fd(&l->c.err_fd);
	reap(&l->c);
	if (!l->c.timed_out && !l->failed && WIFEXITED(l->c.wstatus))
		rc = WEXITSTATUS(l->c.wstatus);
	free(l);
	s->local = NULL;
	return rc;
}
