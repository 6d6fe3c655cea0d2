"""Fault injection with real processes (issue 6, item 3): `kill -9` of `healhook serve` in each
job state, sshd killed in the middle of a fix, the state directory's disk full, origin refusing
the push, Gitea and Telegram unreachable or slow. Every case asserts the final state of origin
(commits counted: no double push, every needed revert exactly once), of the host (work tree
clean, HEAD unchanged, no refs/healhook/*, no scratch directory left) and of the store (no job
lost, the expected end state).

How each state is hit exactly (polling the store's jobs.state before the kill):
  queued     a second job of the same repository waits while the first one is fixing
  fixing     the fixer (a wrapper around tests/lib/fake-aider) waits while FLAGS/hang exists
  committed  origin's pre-receive hook waits while FLAGS/hold-push exists (the job's commit is
             built and its state saved before the push); after the kill the held push is either
             refused (FLAGS/refuse-push) or let through, so both "not landed" and "landed
             before the restart" are covered
  watching   the health endpoint stalls while FLAGS/slow-health exists
  reverting  like committed, for the push of the revert
  pushed     the window between the saved `pushed` and the saved `watching` is a few
             microseconds (no I/O in between): it cannot be hit reliably, so that case is set up
             in the store (a watched job put back to pushed) before the restart.
Transport: local (host = a clone of a bare origin), except the sshd case.
"""
import json
import os
import signal
import sqlite3
import subprocess
import time
import unittest

from lib import harness as H
from lib.gitea_mock import GiteaMock
from lib.sshd import Sshd
from lib.telegram_mock import TelegramMock
from test_aftercare import App, BREAK, FILES, MSG, ORDER, comment_delivery

REPO = "acme/shop-api"
CART = "services/cart_service.py"
PAY = "services/pay_service.py"


def alive(pid):
	try:
		os.kill(pid, 0)
	except ProcessLookupError:
		return False
	try:  # a zombie is not alive
		with open("/proc/%d/stat" % pid) as f:
			return f.read().rsplit(")", 1)[1].split()[0] != "Z"
	except OSError:
		return False
	return True


class World:
	"""Origin (with a controllable pre-receive hook), host work tree, the App behind
	health-url (stalls while FLAGS/slow-health exists), the fixer wrapper, config, state."""

	def __init__(self, tmp, hook=None):
		self.tmp = tmp
		self.repos = H.make_origin_and_worktree(tmp, FILES)
		self.origin, self.host, self.base = self.repos
		self.flags = os.path.join(tmp, "flags")
		os.makedirs(self.flags)
		self.state = os.path.join(tmp, "state")
		self.cfg = os.path.join(tmp, "healhook.conf")
		with open(os.path.join(tmp, "secret"), "w") as f:
			f.write(H.FIXTURE_SECRET + "\n")
		f = self.flag

		def stall(app, sha, broken):
			open(f("health-polled"), "w").close()
			deadline = time.time() + 60
			while os.path.exists(f("slow-health")) and time.time() < deadline:
				time.sleep(0.05)
			if hook:
				hook(app, sha, broken)
		self.app = App(self.origin, hook=stall).start()
		# a poll cut short by kill -9 is expected here: no traceback on the console
		self.app.server.handle_error = lambda *a: None
		self.fixer = os.path.join(tmp, "fixer-wrapper")
		with open(self.fixer, "w") as out:
			out.write("#!/bin/sh\n"
				  "echo $$ >> '%(f)s/fixer.pids'\n"
				  "pwd >> '%(f)s/fixer.cwds'\n"
				  "if [ -e '%(f)s/hang' ]; then\n"
				  "  touch '%(f)s/fixer-started'\n"
				  "  while [ -e '%(f)s/hang' ]; do sleep 0.05; done\n"
				  "fi\n"
				  "exec '%(aider)s' \"$@\"\n" % {"f": self.flags, "aider": H.FAKE_AIDER})
		os.chmod(self.fixer, 0o755)
		hookf = os.path.join(self.origin, "hooks", "pre-receive")
		with open(hookf, "w") as out:
			out.write("#!/bin/sh\n"
				  "cat >/dev/null\n"
				  "if [ -e '%(f)s/hold-push' ]; then\n"
				  "  echo $$ > '%(f)s/push-held'\n"
				  "  while [ -e '%(f)s/hold-push' ]; do sleep 0.05; done\n"
				  "  if [ -e '%(f)s/refuse-push' ]; then\n"
				  "    touch '%(f)s/push-done'; echo 'held push refused' >&2; exit 1\n"
				  "  fi\n"
				  "  touch '%(f)s/push-done'\n"
				  "fi\n"
				  "if [ -e '%(f)s/deny' ]; then\n"
				  "  echo 'main is protected: pushes are refused' >&2; exit 1\n"
				  "fi\n"
				  "exit 0\n" % {"f": self.flags})
		os.chmod(hookf, 0o755)

	def flag(self, name):
		return os.path.join(self.flags, name)

	def set(self, name, on=True):
		if on:
			open(self.flag(name), "w").close()
		elif os.path.exists(self.flag(name)):
			os.unlink(self.flag(name))

	def write(self, host=None, repo_keys=None, extra="", fixer_timeout=20, **keys):
		repo = {"host": host or self.host, "reviewers": "bob", "target": "default-branch",
			"health-url": self.app.health_url, "health-delay": 0, "health-interval": 1,
			"health-timeout": 20, "health-failures": 2}
		repo.update(repo_keys or {})
		repo.update({k.replace("_", "-"): v for k, v in keys.items()})
		with open(self.cfg, "w") as f:
			f.write("[server]\n\tsecret-file = %s\n" % os.path.join(self.tmp, "secret"))
			f.write("[state]\n\tdir = %s\n" % self.state)
			f.write("[worker]\n\tparallel = 1\n")
			f.write("[gitea]\n\tuser = healhook-bot\n")
			f.write("[fixer]\n\tcommand = %s --model {model} --message-file {prompt} "
				"--yes-always --no-git --chat-history-file %s {file}\n"
				% (self.fixer, os.path.join(self.tmp, "chat.md")))
			f.write("\ttimeout = %d\n" % fixer_timeout)
			f.write(extra)
			f.write('[repo "%s"]\n' % REPO)
			for k, v in repo.items():
				if v is not None:
					f.write("\t%s = %s\n" % (k, v))
		return self.cfg

	def stop(self):
		for name in ("hang", "hold-push", "slow-health"):
			self.set(name, False)
		for pid in self.fixer_pids():
			try:
				os.kill(pid, signal.SIGKILL)
			except ProcessLookupError:
				pass
		self.app.stop()

	# ---- what the fixer and the hook recorded ----
	def fixer_pids(self):
		p = self.flag("fixer.pids")
		return [int(x) for x in open(p).read().split()] if os.path.exists(p) else []

	def scratch_dirs(self):
		"""Scratch directories of every fixer run (the fixer's cwd is SCRATCH/work)."""
		p = self.flag("fixer.cwds")
		return [os.path.dirname(x) for x in open(p).read().split()] if os.path.exists(p) else []

	# ---- origin ----
	def subjects(self):
		return H.git(self.origin, "log", "--format=%s", "main").splitlines()

	def fixes(self, file=ORDER):
		return [s for s in self.subjects() if s.startswith("fix(autoheal):") and s.endswith(file)]

	def reverts(self):
		return [s for s in self.subjects() if s.startswith('Revert "')]

	# ---- store ----
	def db(self, sql, args=()):
		con = sqlite3.connect(os.path.join(self.state, "healhook.db"), timeout=10)
		try:
			rows = con.execute(sql, args).fetchall()
			con.commit()
			return rows
		finally:
			con.close()

	def jobs(self):
		return {r[0]: {"state": r[1], "reason": r[2], "detail": r[3], "file": r[4],
			       "commit": r[5], "revert": r[6]}
			for r in self.db("SELECT id, state, reason, detail, file, commit_sha, revert_sha "
					 "FROM jobs ORDER BY id")}

	def state_of(self, job):
		rows = self.db("SELECT state FROM jobs WHERE id = ?", (job,))
		return rows[0][0] if rows else None


class FaultBase(unittest.TestCase):
	def setUp(self):
		self._tmp = H.tmpdir("hh-faults-")
		self.tmp = self._tmp.__enter__()
		os.chmod(self.tmp, 0o755)
		self.w = None
		self.proc = None
		self.extra_stop = []

	def tearDown(self):
		if self.proc:
			self.proc.stop()
		if self.w:
			self.w.stop()
		for f in self.extra_stop:
			f()
		self._tmp.__exit__(None, None, None)

	def world(self, **keys):
		self.w = World(self.tmp)
		self.w.write(**keys)
		return self.w

	def start(self):
		self.port = H.free_port()
		self.url = "http://127.0.0.1:%d" % self.port
		self.proc = H.start_process([H.BIN, "serve", "--config", self.w.cfg, "--listen",
					     "127.0.0.1:%d" % self.port],
					    env={"PATH": os.environ["PATH"]},
					    log_path=os.path.join(self.tmp, "serve.log"))
		H.wait_http(self.url + "/healthz", timeout=10)

	def kill9(self):
		"""kill -9 of the main process; the receiver dies with it (PR_SET_PDEATHSIG)."""
		os.kill(self.proc.pid, signal.SIGKILL)
		self.proc.wait(10)
		self.proc.stop()
		self.proc = None

	def log_tail(self):
		p = os.path.join(self.tmp, "serve.log")
		return open(p, errors="replace").read()[-4000:] if os.path.exists(p) else ""

	def post(self, findings, want=202):
		hdrs, body = comment_delivery(findings)
		t0 = time.time()
		st, hd, data = H.post(self.url + "/hooks/gitea", body, hdrs)
		self.answer_time = time.time() - t0
		self.assertEqual(st, want, data)
		return json.loads(data)

	def wait_state(self, job, states, timeout=30):
		states = (states,) if isinstance(states, str) else tuple(states)
		return H.wait_for(lambda: self.w.state_of(job) in states, timeout=timeout,
				  interval=0.05, what="job %d in %s (now %s)\n%s" % (
					  job, states, self.w.jobs(), self.log_tail()))

	def wait_flag(self, name, timeout=30):
		H.wait_for(lambda: os.path.exists(self.w.flag(name)), timeout=timeout,
			   what="%s (jobs %s)\n%s" % (name, self.w.jobs(), self.log_tail()))

	# ---- final state ----
	def assert_host_clean(self):
		w = self.w
		self.assertEqual(H.git(w.host, "status", "--porcelain"), "")
		self.assertEqual(H.rev(w.host, "HEAD"), w.base, "the host's HEAD moved")
		self.assertEqual(H.git(w.host, "for-each-ref", "refs/healhook"), "")
		for d in w.scratch_dirs():
			self.assertFalse(os.path.exists(d), "scratch directory left on the host: %s" % d)

	def assert_no_fixer_left(self):
		left = [p for p in self.w.fixer_pids() if alive(p)]
		self.assertEqual(left, [], "fixer processes still running")


class Kill9(FaultBase):
	"""kill -9 of serve in each job state, then restart."""

	def test_queued_and_fixing(self):
		w = self.world()
		w.set("hang")
		self.start()
		a, b = sorted(self.post([(ORDER, "NameError", MSG), (CART, "NameError", MSG)])["accepted"])
		self.wait_flag("fixer-started")
		fixing = [j for j in (a, b) if w.state_of(j) == "fixing"]
		self.assertEqual(len(fixing), 1, w.jobs())
		queued = ({a, b} - set(fixing)).pop()
		self.assertEqual(w.state_of(queued), "queued")
		scratch = w.jobs()[fixing[0]]["detail"]
		self.assertTrue(scratch.startswith("scratch: "), scratch)
		self.assertTrue(os.path.isdir(scratch[9:]))
		self.kill9()
		# the fixer of the killed process does not outlive it
		H.wait_for(lambda: not [p for p in w.fixer_pids() if alive(p)], timeout=5,
			   what="the orphaned fixer to end")
		w.set("hang", False)
		self.assertEqual(w.fixes(ORDER) + w.fixes(CART), [])
		self.start()
		self.wait_state(a, "healed")
		self.wait_state(b, "healed")
		self.assertIn("job.resume", self.proc.output())
		self.assertEqual(len(w.fixes(ORDER)), 1, w.subjects())
		self.assertEqual(len(w.fixes(CART)), 1, w.subjects())
		self.assertEqual(len(w.subjects()), 3)
		self.assertEqual(w.reverts(), [])
		self.assertEqual(set(w.jobs()), {a, b}, "a job was lost or added")
		self.assertFalse(os.path.exists(scratch[9:]), "the interrupted scratch dir is left")
		self.assert_host_clean()
		self.assert_no_fixer_left()

	def committed(self, landed):
		w = self.world()
		w.set("hold-push")
		self.start()
		j = self.post([(ORDER, "NameError", MSG)])["accepted"][0]
		self.wait_flag("push-held")
		self.assertEqual(w.state_of(j), "committed")
		commit = w.jobs()[j]["commit"]
		self.assertRegex(commit, "^[0-9a-f]{40}$")
		self.kill9()
		# the interrupted push ends (refused or let through) before the restart
		w.set("refuse-push", not landed)
		w.set("hold-push", False)
		time.sleep(0.5)
		on_origin = H.rev(w.origin, "main") == commit
		if not landed:
			self.assertFalse(on_origin)
		self.start()
		self.wait_state(j, "healed")
		self.assertEqual(len(w.fixes(ORDER)), 1, w.subjects())
		self.assertEqual(len(w.subjects()), 2, w.subjects())
		if on_origin:
			self.assertEqual(w.jobs()[j]["commit"], commit, "a landed commit was rebuilt")
		self.assertEqual(H.rev(w.origin, "main"), w.jobs()[j]["commit"])
		self.assertEqual(H.show(w.origin, "main", ORDER).splitlines()[2], "    return s")
		self.assertEqual(list(w.jobs()), [j])
		self.assert_host_clean()
		return on_origin

	def test_committed_push_never_landed(self):
		self.committed(landed=False)

	def test_committed_push_landed_before_restart(self):
		self.committed(landed=True)

	def test_watching(self):
		w = self.world()
		self.start()
		w.set("slow-health")
		j = self.post([(ORDER, "NameError", MSG)])["accepted"][0]
		self.wait_state(j, "watching")
		self.wait_flag("health-polled")
		self.kill9()
		w.set("slow-health", False)
		self.start()
		self.wait_state(j, "healed")
		self.assertEqual(len(w.fixes(ORDER)), 1)
		self.assertEqual(len(w.subjects()), 2)
		self.assertEqual(w.reverts(), [])
		self.assert_host_clean()

	def test_pushed_store_level(self):
		"""`pushed` → `watching` has no I/O in between, so it is set up in the store: a
		broken fix being watched is put back to pushed, as a kill between the two would
		leave it. The restart must watch it and revert it once."""
		w = self.world()
		self.start()
		w.set("slow-health")
		j = self.post([(ORDER, "NameError", MSG + BREAK)])["accepted"][0]
		self.wait_state(j, "watching")
		self.kill9()
		w.db("UPDATE jobs SET state = 'pushed' WHERE id = ?", (j,))
		w.set("slow-health", False)
		self.start()
		self.wait_state(j, "reverted")
		self.assertEqual(len(w.fixes(ORDER)), 1)
		self.assertEqual(len(w.reverts()), 1, w.subjects())
		self.assertEqual(H.show(w.origin, "main", ORDER), FILES[ORDER].rstrip("\n"))
		self.assert_host_clean()

	def reverting(self, landed):
		w = self.world()
		self.start()
		j = self.post([(ORDER, "NameError", MSG + BREAK)])["accepted"][0]
		self.wait_state(j, "watching")
		w.set("hold-push")
		self.wait_flag("push-held")
		self.assertEqual(w.state_of(j), "reverting")
		self.kill9()
		w.set("refuse-push", not landed)
		w.set("hold-push", False)
		time.sleep(0.5)
		self.assertEqual(len(w.reverts()), 1 if landed else 0, w.subjects())
		self.start()
		self.wait_state(j, "reverted")
		self.assertEqual(len(w.fixes(ORDER)), 1)
		self.assertEqual(len(w.reverts()), 1, w.subjects())
		self.assertEqual(len(w.subjects()), 3)
		self.assertEqual(H.rev(w.origin, "main"), w.jobs()[j]["revert"])
		self.assertEqual(H.show(w.origin, "main", ORDER), FILES[ORDER].rstrip("\n"))
		self.assert_host_clean()

	def test_reverting_push_never_landed(self):
		self.reverting(landed=False)

	def test_reverting_push_landed_before_restart(self):
		self.reverting(landed=True)


class OriginRefuses(FaultBase):
	def test_pre_receive_refuses(self):
		w = self.world()
		w.set("deny")
		self.start()
		j = self.post([(ORDER, "NameError", MSG)])["accepted"][0]
		self.wait_state(j, ("failed", "healed", "reverted"))
		job = w.jobs()[j]
		self.assertEqual((job["state"], job["reason"]), ("failed", "push-failed"), job)
		self.assertIn("protected", job["detail"])
		self.assertEqual(H.rev(w.origin, "main"), w.base, "something landed")
		self.assert_host_clean()
		self.assertEqual(w.app.hits, 0, "nothing was pushed, nothing to watch")
		# the next job works once origin accepts again
		w.set("deny", False)
		k = self.post([(CART, "NameError", MSG)])["accepted"][0]
		self.wait_state(k, "healed")
		self.assertEqual(len(w.subjects()), 2)
		self.assert_host_clean()


class SshdDies(FaultBase):
	"""The fix host's sshd (and every session it runs) killed while the fixer runs."""

	def sshd_tree(self, pid):
		out, todo = [], [pid]
		while todo:
			p = todo.pop()
			out.append(p)
			try:
				kids = open("/proc/%d/task/%d/children" % (p, p)).read().split()
			except OSError:
				kids = []
			todo += [int(k) for k in kids]
		return out

	def test_sshd_killed_mid_fix(self):
		sshd = Sshd().start()
		self.extra_stop.append(sshd.stop)
		w = World(self.tmp)
		self.w = w
		keys = {"identity": sshd.user_key_ed25519, "known-hosts": sshd.known_hosts}
		w.write(host=sshd.host_spec(w.host), repo_keys=keys)
		w.set("hang")
		self.start()
		j = self.post([(ORDER, "NameError", MSG)])["accepted"][0]
		self.wait_flag("fixer-started")
		self.assertEqual(w.state_of(j), "fixing")
		port = sshd.port
		for p in self.sshd_tree(sshd.proc.pid):
			try:
				os.kill(p, signal.SIGKILL)
			except ProcessLookupError:
				pass
		sshd.proc.wait(5)
		self.wait_state(j, "failed", timeout=30)
		job = w.jobs()[j]
		self.assertIn(job["reason"], ("fixer-failed", "error", "preflight-failed"), job)
		self.assertEqual(H.rev(w.origin, "main"), w.base)
		self.assertEqual(H.git(w.host, "status", "--porcelain"), "")
		self.assertEqual(H.git(w.host, "for-each-ref", "refs/healhook"), "")
		self.assertTrue(self.proc.alive(), "serve died with the connection")
		for p in w.fixer_pids():  # the orphaned fixer ends at its `timeout` on the host
			try:
				os.kill(p, signal.SIGKILL)
			except ProcessLookupError:
				pass
		w.set("hang", False)
		# sshd back on the same port: the next job works
		sshd.proc = subprocess.Popen(["/usr/sbin/sshd", "-D", "-e", "-f", sshd.config],
					     stdin=subprocess.DEVNULL, stdout=sshd.log,
					     stderr=subprocess.STDOUT)
		H.wait_for(lambda: _port_open(port), timeout=10, what="sshd back")
		k = self.post([(CART, "NameError", MSG)])["accepted"][0]
		self.wait_state(k, "healed", timeout=40)
		self.assertEqual(len(w.fixes(CART)), 1)
		self.assertEqual(len(w.subjects()), 2)
		self.assertEqual(H.rev(w.host, "HEAD"), w.base)
		self.assertEqual(H.git(w.host, "status", "--porcelain"), "")


def _port_open(port):
	import socket
	try:
		socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
		return True
	except OSError:
		return False


class DiskFull(FaultBase):
	"""The state directory on a 2 MiB tmpfs, filled: 503 + Retry-After, no corruption."""

	def setUp(self):
		super().setUp()
		self.mnt = None

	def tearDown(self):
		super().tearDown()

	def mount(self, d):
		os.makedirs(d)
		p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", d],
				   stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
		if p.returncode != 0:
			self.skipTest("cannot mount a tmpfs here: %s" % p.stdout.decode().strip())
		self.extra_stop.insert(0, lambda: subprocess.run(["umount", "-l", d]))

	def test_disk_full_503_then_recovers(self):
		w = World(self.tmp)
		self.w = w
		self.mount(w.state)
		w.write(extra="[worker]\n\tparallel = 0\n")
		self.start()
		ok = self.post([(ORDER, "NameError", MSG)])
		self.assertEqual(len(ok["accepted"]), 1)
		filler = os.path.join(w.state, "filler")
		try:
			with open(filler, "wb") as f:
				while True:
					f.write(b"\0" * 65536)
					f.flush()
		except OSError:  # ENOSPC, from a write or from the close's last flush
			pass
		# tmpfs is full: small writes may still fit in a page, so post until refused
		statuses, acked = [], [ok["delivery"]]
		mf = H.make_fixtures()
		for i in range(40):
			hdrs, body = comment_delivery([(PAY, "NameError", "%s %d %s" % (MSG, i, "x" * 20000))])
			st, hd, data = H.post(self.url + "/hooks/gitea", body, hdrs)
			statuses.append(st)
			if st == 503:
				self.assertEqual(hd["Retry-After"], "30", data)
				self.assertIn("retry later", json.loads(data)["error"])
			elif st in (200, 202):
				acked.append(json.loads(data)["delivery"])
			if statuses.count(503) >= 3:
				break
		self.assertIn(503, statuses, statuses)
		self.assertNotIn(500, statuses, statuses)
		self.assertTrue(self.proc.alive())
		st, _, data = H.get(self.url + "/healthz")  # the store cannot write: not healthy
		self.assertEqual(st, 503, data)
		self.assertIn("disk full", json.loads(data)["error"])
		# space freed: accepted again, the store is intact, every acknowledged delivery kept
		os.unlink(filler)
		res = self.post([(CART, "NameError", MSG)])
		acked.append(res["delivery"])
		self.assertEqual(len(res["accepted"]), 1)
		self.assertEqual(H.get(self.url + "/healthz")[0], 200)
		self.proc.stop()
		self.proc = None
		self.assertEqual(w.db("PRAGMA integrity_check"), [("ok",)])
		stored = {r[0] for r in w.db("SELECT id FROM deliveries")}
		self.assertEqual(set(acked) - stored, set(), "acknowledged deliveries missing")
		self.start()
		self.post([(PAY, "NameError", MSG + " again")])


class UnreachableServices(FaultBase):
	"""Gitea's API and Telegram closed or slow: the notifier times out, the heal lands, serve
	answers deliveries promptly."""

	def run_case(self, gitea_url, telegram_url):
		w = World(self.tmp)
		self.w = w
		with open(os.path.join(self.tmp, "token"), "w") as f:
			f.write("test-token\n")
		with open(os.path.join(self.tmp, "tg"), "w") as f:
			f.write("123456:TEST-token\n")
		w.write(extra="[gitea]\n\turl = %s\n\ttoken-file = %s\n\ttimeout = 2s\n"
			"[notify]\n\ttelegram-token-file = %s\n\ttelegram-chat = 42\n"
			"\ttelegram-api = %s\n" % (gitea_url, os.path.join(self.tmp, "token"),
						    os.path.join(self.tmp, "tg"), telegram_url))
		self.start()
		t0 = time.time()
		j = self.post([(ORDER, "NameError", MSG)])["accepted"][0]
		self.assertLess(self.answer_time, 2.0)
		k = self.post([(CART, "NameError", MSG)])["accepted"][0]
		self.assertLess(self.answer_time, 2.0)
		self.wait_state(j, "healed", timeout=40)
		self.wait_state(k, "healed", timeout=40)
		self.assertLess(time.time() - t0, 40)
		self.assertEqual(len(w.fixes(ORDER)), 1)
		self.assertEqual(len(w.fixes(CART)), 1)
		self.assert_host_clean()
		# a review delivery needing a line-comment lookup is still answered at once
		hdrs, body = H.read_fixture("review_rejected_lines")
		t0 = time.time()
		st, _, data = H.post(self.url + "/hooks/gitea", body, hdrs)
		self.assertEqual(st, 202, data)
		self.assertLess(time.time() - t0, 2.0)
		st, _, _ = H.get(self.url + "/healthz", timeout=2)
		self.assertEqual(st, 200)
		self.proc.signal(signal.SIGTERM)
		self.assertEqual(self.proc.wait(30), 0, self.log_tail())

	def test_closed_ports(self):
		self.run_case("http://127.0.0.1:%d" % H.free_port(),
			      "http://127.0.0.1:%d" % H.free_port())

	def test_slow_services(self):
		g = GiteaMock(token="test-token", routes=GiteaMock.fixture_routes(),
			      delays={"post_comment": 30, "post_status": 30, "reviews": 30}).start()
		t = TelegramMock(delay=30).start()
		self.extra_stop += [g.stop, t.stop]
		self.run_case(g.url, t.url)


if __name__ == "__main__":
	unittest.main()
