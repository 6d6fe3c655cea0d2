"""What follows a landed fix (issue 4), end to end with real processes on 127.0.0.1: the health
watch (L4) and its verdicts, the automatic revert, revert conflicts and the freeze, quarantine of
a reverted finding, resuming the watch after `kill -9` of `healhook serve`, the L3 rate limit
with a short `rate-window` across a restart, and `healhook history --json`.

The deployed application is played by App (below): it "runs" what origin's main holds, `lag`
seconds after it landed, and answers 500 while that tree contains the marker BROKEN. The
fixer (tests/lib/fake-aider) adds that marker when the prompt says [[fixer:break-health]], so a
fix can break the application and its revert repairs it, exactly as in production. Transport
is local (host = a clone of a bare origin).
"""
import json
import os
import signal
import subprocess
import threading
import time
import unittest
import uuid

from lib import harness as H
from lib.health_server import HealthServer

REPO = "acme/shop-api"
BREAK = " [[fixer:break-health]]"
MSG = "name 'totl' is not defined"


def buggy(name):
	return "def %s(items):\n    s = sum(items)\n    return totl  # BUG: return s\n" % name


# Seven allowed files, each with one `# BUG:` line the fake fixer repairs (line 3).
FILES = {
	"services/order_service.py": buggy("total"),
	"services/cart_service.py": buggy("cart"),
	"services/pay_service.py": buggy("pay"),
	"services/ship_service.py": buggy("ship"),
	"services/tax_service.py": buggy("tax"),
	"routes/api.py": buggy("api"),
	"database/models.py": buggy("models"),
}
ORDER = "services/order_service.py"


class App(HealthServer):
	"""The deployed application behind health-url. It runs origin's main `lag` seconds after
	a new commit lands there; 500 {"status": "error"} while its tree contains BROKEN, else
	200 {"status": "ok"}; "version" is the deployed SHA. fail_next forces that many 500s
	(for a deployment other than the initial one); hook(app, sha, broken) runs on each request.
	seen lists (version, status code) of every answer, answers (origin's tip, version, code)."""

	def __init__(self, origin, lag=0.0, hook=None):
		super().__init__()
		self.origin, self.lag, self.hook = origin, lag, hook
		self.initial = self.deployed = self._tip = H.rev(origin, "main")
		self._tip_at = 0.0
		self.fail_next = 0
		self.seen = []
		self.answers = []
		self._app_lock = threading.Lock()

	def answer(self):
		with self._app_lock:
			now = time.time()
			tip = H.rev(self.origin, "main")
			if tip != self._tip:
				self._tip, self._tip_at = tip, now
			if now - self._tip_at >= self.lag:
				self.deployed = tip
			sha = self.deployed
			broken = H.git(self.origin, "grep", "-l", "BROKEN", sha, check=False) != ""
			if not broken and self.fail_next and sha != self.initial:
				self.fail_next -= 1
				broken = True
			if self.hook:
				self.hook(self, sha, broken)
			code = 500 if broken else 200
			self.seen.append((sha, code))
			self.answers.append((tip, sha, code))
			self.hits += 1
		return code, {"status": "error" if broken else "ok", "version": sha}


def run(args, timeout=60):
	p = subprocess.run([H.BIN] + list(args), env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
			   stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
	return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


class World:
	"""One test's setting: bare origin, host work tree, a developer's clone, the App, the
	config file (write() again to change repo keys) and the state directory."""

	def __init__(self, tmp, lag=0.0, hook=None):
		self.tmp = tmp
		self.repos = H.make_origin_and_worktree(tmp, FILES)
		self.origin, self.host = self.repos.origin, self.repos.worktree
		self.dev = os.path.join(tmp, "dev")
		H.git(tmp, "clone", "-q", self.origin, self.dev)
		self.app = App(self.origin, lag=lag, hook=hook).start()
		self.state = os.path.join(tmp, "state")
		self.cfg = os.path.join(tmp, "healhook.conf")
		with open(os.path.join(tmp, "secret"), "w") as f:
			f.write(H.FIXTURE_SECRET + "\n")

	def write(self, **keys):
		repo = {"host": self.host, "reviewers": "bob", "target": "default-branch",
			"health-url": self.app.health_url, "health-delay": 0, "health-interval": 1,
			"health-timeout": 10, "health-failures": 3}
		repo.update({k.replace("_", "-"): v for k, v in keys.items()})
		with open(self.cfg, "w") as f:
			f.write("[server]\n\tsecret-file = %s\n" % os.path.join(self.tmp, "secret"))
			f.write(H.state_config(self.state))
			f.write("[worker]\n\tparallel = 1\n")
			f.write("[gitea]\n\tuser = healhook-bot\n")
			f.write("[fixer]\n\tcommand = %s --model {model} --message-file {prompt} "
				"--yes-always --no-git --chat-history-file %s {file}\n"
				% (H.FAKE_AIDER, os.path.join(self.tmp, "chat.md")))
			f.write('[repo "%s"]\n' % REPO)
			for k, v in repo.items():
				if v is not None:
					f.write("\t%s = %s\n" % (k, v))
		return self.cfg

	def stop(self):
		self.app.stop()

	# ---- commands ----
	def heal(self, file=ORDER, message=MSG, type_="NameError"):
		t0 = time.time()
		rc, out, err = run(["heal", "--config", self.cfg, "--repo", REPO, "--file", file,
				    "--type", type_, "--message", message, "--json"])
		try:
			res = json.loads(out)
		except ValueError:
			raise AssertionError("heal printed no result (exit %d)\n%s%s" % (rc, out, err))
		return rc, res, time.time() - t0, err

	def history(self):
		rc, out, err = run(["history", "--config", self.cfg, "--json", "--limit", "100"])
		if rc != 0 or "\ufffd" in out + err:
			raise AssertionError("history exited %d: %r %r" % (rc, out, err))
		return {j["job"]: j for j in json.loads(out)}

	def unfreeze(self):
		return run(["unfreeze", "--config", self.cfg, REPO])

	# ---- origin ----
	def log(self):
		"""Subjects on origin's main, newest first."""
		return H.git(self.origin, "log", "--format=%s", "main").splitlines()

	def reverts(self):
		return [s for s in self.log() if s.startswith('Revert "')]

	def dev_commit(self, files, message):
		"""Someone else's commit on main (pushed from the developer's clone)."""
		H.git(self.dev, "fetch", "-q", "origin")
		H.git(self.dev, "reset", "-q", "--hard", "origin/main")
		return H.commit_files(self.dev, files, message, branch="main")

	def frozen(self):
		rows = H.db_query(self.state, "SELECT frozen FROM repos WHERE repo = ?", (REPO,))
		return bool(rows and rows[0][0])


def finding_lines(findings):
	"""Review-comment lines `path:LINE: [Type] message` for (file, type, message) triples."""
	return "\n".join("%s:3: [%s] %s" % f for f in findings)


def comment_delivery(findings, secret=H.FIXTURE_SECRET):
	"""A signed PR comment by bob holding finding lines. Returns (headers, body)."""
	mf = H.make_fixtures()
	did = str(uuid.uuid4())
	body = "healhook please take these:\n\n" + finding_lines(findings) + "\n\n(%s)" % did
	payload = mf.comment_payload("bob", body, 100 + (uuid.uuid4().int % 100000),
				     "2026-04-15T12:00:00Z")
	return mf.delivery(payload, "issue_comment", "pull_request_comment", did, secret=secret)


def save_delivery(directory, name, hb):
	hdrs, body = hb
	os.makedirs(directory, exist_ok=True)
	with open(os.path.join(directory, name + ".json"), "wb") as f:
		f.write(body)
	with open(os.path.join(directory, name + ".headers"), "wb") as f:
		f.write("".join("%s: %s\n" % kv for kv in hdrs).encode())
	return os.path.join(directory, name + ".json")


class HealWatch(unittest.TestCase):
	"""`healhook heal` through the health watch: healed, reverted, retries, version field."""

	def setUp(self):
		self._tmp = H.tmpdir("hh-after-")
		self.tmp = self._tmp.__enter__()
		self.w = None

	def tearDown(self):
		if self.w:
			self.w.stop()
		self._tmp.__exit__(None, None, None)

	def world(self, lag=0.0, hook=None, **keys):
		self.w = World(self.tmp, lag=lag, hook=hook)
		self.w.write(**keys)
		return self.w

	def test_healthy_fix_is_healed(self):
		w = self.world()
		rc, res, _, err = w.heal()
		self.assertEqual((rc, res["state"], res["success"]), (0, "healed", True), err)
		self.assertFalse(res["reverted"])
		self.assertIsNone(res["revert_sha"])
		self.assertEqual(H.rev(w.origin, "main"), res["commit_sha"])
		self.assertEqual(H.show(w.origin, "main", ORDER).splitlines()[2], "    return s")
		self.assertEqual(w.reverts(), [])
		self.assertGreaterEqual(w.app.hits, 1)
		self.assertEqual(w.history()[res["job"]]["state"], "healed")

	def test_unhealthy_fix_is_reverted_and_quarantined(self):
		w = self.world()
		rc, res, _, err = w.heal(message=MSG + BREAK)
		self.assertEqual(rc, 1, err)
		self.assertEqual(res["state"], "reverted", res)
		self.assertTrue(res["reverted"])
		self.assertTrue(res["revert_sha"])
		self.assertFalse(res["success"])
		# origin: the fix, then its revert, which restores the file byte for byte
		self.assertEqual(H.rev(w.origin, "main"), res["revert_sha"])
		self.assertEqual(H.rev(w.origin, "main~1"), res["commit_sha"])
		self.assertEqual(H.show(w.origin, "main", ORDER), FILES[ORDER].rstrip("\n"))
		self.assertIn("BROKEN", H.show(w.origin, res["commit_sha"], ORDER))
		self.assertEqual(len(w.reverts()), 1)
		self.assertIn("Healhook-Job: %d" % res["job"],
			      H.git(w.origin, "log", "-1", "--format=%B", "main"))
		# the app saw the broken fix, then the revert, healthy
		self.assertIn((res["commit_sha"], 500), w.app.seen)
		self.assertIn((res["revert_sha"], 200), w.app.seen)
		h = w.history()[res["job"]]
		self.assertEqual((h["state"], h["reverted"], h["quarantined"]), ("reverted", True, True))
		self.assertFalse(w.frozen(), "one revert does not freeze (max-reverts 2)")

		# The same finding delivered again: quarantined, not retried.
		body = save_delivery(os.path.join(self.tmp, "rec"), "again",
				     comment_delivery([(ORDER, "NameError", MSG + BREAK)]))
		rc, out, err = run(["replay", "--config", w.cfg, "--json", body])
		rep = json.loads(out.splitlines()[0])
		self.assertEqual([(f["file"], f["verdict"], f["reason"]) for f in rep["findings"]],
				 [(ORDER, "rejected", "quarantined")], out + err)
		self.assertEqual(len(w.history()), 1, "no new job for a quarantined finding")
		self.assertEqual(len(w.reverts()), 1)

	def test_two_failures_then_recovery_is_healed(self):
		w = self.world(health_failures=3)
		w.app.fail_next = 2
		rc, res, _, err = w.heal()
		self.assertEqual((rc, res["state"]), (0, "healed"), err)
		codes = [c for sha, c in w.app.seen if sha == res["commit_sha"]]
		self.assertEqual(codes[:3], [500, 500, 200])
		self.assertEqual(w.reverts(), [])

	def test_version_field_waits_for_the_new_deployment(self):
		w = self.world(lag=3.0, health_version_field="version", health_timeout=15)
		rc, res, took, err = w.heal()
		self.assertEqual((rc, res["state"]), (0, "healed"), err)
		old = [c for sha, c in w.app.seen if sha == w.app.initial]
		self.assertGreaterEqual(len(old), 2, "the old version was answered for a while")
		self.assertEqual(w.app.seen[-1], (res["commit_sha"], 200))
		self.assertGreaterEqual(res["stages"]["watch"], 2500, res["stages"])
		self.assertLess(took, 15)

	def test_new_version_unhealthy_three_times_reverted_before_timeout(self):
		timeout = 40
		w = self.world(lag=2.0, health_version_field="version", health_timeout=timeout)
		rc, res, took, err = w.heal(message=MSG + BREAK)
		self.assertEqual(res["state"], "reverted", err)
		# while the fix was on origin: the old version for `lag`, then three 500s of the new one
		during = [(v, c) for tip, v, c in w.app.answers if tip == res["commit_sha"]]
		self.assertEqual([c for v, c in during if v == res["commit_sha"]], [500, 500, 500],
				 w.app.answers)
		self.assertTrue([1 for v, c in during if v == w.app.initial], "no lag was seen")
		self.assertLess(res["stages"]["watch"], timeout * 1000 / 2, res["stages"])
		self.assertLess(took, timeout)
		self.assertEqual(H.show(w.origin, "main", ORDER), FILES[ORDER].rstrip("\n"))

	def test_two_reverts_in_a_row_freeze_the_repository(self):
		w = self.world(max_reverts=2)
		_, r1, _, err = w.heal(message=MSG + BREAK)
		self.assertEqual(r1["state"], "reverted", err)
		self.assertFalse(w.frozen())
		_, r2, _, err = w.heal(file="services/cart_service.py", message=MSG + BREAK)
		self.assertEqual(r2["state"], "reverted", err)
		self.assertTrue(w.frozen(), "max-reverts 2 reverts in a row freeze the repository")
		self.assertEqual(len(w.reverts()), 2)
		tip = H.rev(w.origin, "main")
		# frozen: no more heals there, neither by hand nor from a delivery
		rc, r3, _, err = w.heal(file="services/pay_service.py")
		self.assertEqual((rc, r3["state"], r3["reason"]), (1, "failed", "repo-frozen"), err)
		self.assertEqual(H.rev(w.origin, "main"), tip, "a frozen repository got a commit")
		body = save_delivery(os.path.join(self.tmp, "rec"), "frozen",
				     comment_delivery([("services/tax_service.py", "NameError", MSG)]))
		rc, out, err = run(["replay", "--config", w.cfg, "--json", body])
		rep = json.loads(out.splitlines()[0])
		self.assertEqual([f["reason"] for f in rep["findings"]], ["repo-frozen"], out + err)
		# unfreeze: heals again
		self.assertEqual(w.unfreeze()[0], 0)
		self.assertFalse(w.frozen())
		rc, r4, _, err = w.heal(file="services/pay_service.py")
		self.assertEqual((rc, r4["state"]), (0, "healed"), err)
		states = {j: h["state"] for j, h in w.history().items()}
		self.assertEqual(states, {r1["job"]: "reverted", r2["job"]: "reverted",
					  r3["job"]: "failed", r4["job"]: "healed"})


class Serve(unittest.TestCase):
	"""`healhook serve` with its worker: freeze and unfreeze, kill -9 during the watch, L3."""

	def setUp(self):
		self._tmp = H.tmpdir("hh-after-")
		self.tmp = self._tmp.__enter__()
		self.w = None
		self.proc = None

	def tearDown(self):
		if self.proc:
			self.proc.stop()
		if self.w:
			self.w.stop()
		self._tmp.__exit__(None, None, None)

	def start(self):
		self.port = H.free_port()
		self.url = "http://127.0.0.1:%d" % self.port
		self.proc = H.start_process([H.BIN, "serve", "--config", self.w.cfg, "--listen",
					     "127.0.0.1:%d" % self.port],
					    env={"PATH": os.environ["PATH"]},
					    log_path=os.path.join(self.tmp, "serve.log"))
		H.wait_http(self.url + "/healthz", timeout=10)

	def kill9(self):
		os.kill(self.proc.pid, signal.SIGKILL)
		self.proc.wait(10)
		self.proc.stop()
		self.proc = None

	def post(self, findings):
		hdrs, body = comment_delivery(findings)
		st, _, data = H.post(self.url + "/hooks/gitea", body, hdrs)
		self.assertEqual(st, 202, data)
		return json.loads(data)

	def states(self):
		return {j: h["state"] for j, h in self.w.history().items()}

	def wait_state(self, job, states, timeout=20):
		states = (states,) if isinstance(states, str) else states
		return H.wait_for(lambda: self.w.history().get(job, {}).get("state") in states,
				  timeout=timeout, interval=0.1,
				  what="job %d in %s (now %s)\n%s" % (job, states, self.states(),
								      self.log_tail()))

	def log_tail(self):
		p = os.path.join(self.tmp, "serve.log")
		if not os.path.exists(p):
			return ""
		with open(p, encoding="utf-8", errors="replace") as f:
			return f.read()[-3000:]

	def test_revert_conflict_freezes_later_jobs_wait_for_unfreeze(self):
		conflict = {}

		def hook(app, sha, broken):
			# While the broken fix is deployed, someone edits the same line on main.
			if broken and not conflict:
				text = H.show(self.w.origin, sha, ORDER).replace("return s", "return s or 0")
				conflict["sha"] = self.w.dev_commit({ORDER: text + "\n"}, "hotfix by carol")

		self.w = World(self.tmp, hook=hook)
		self.w.write()
		self.start()
		a = self.post([(ORDER, "NameError", MSG + BREAK),
			       ("services/cart_service.py", "NameError", MSG)])
		ja, jb = sorted(a["accepted"])
		self.wait_state(ja, "revert-failed")
		h = self.w.history()
		self.assertEqual(h[ja]["reason"], "revert-failed")
		self.assertRegex(h[ja]["message"], r"^cannot revert [0-9a-f]{12} on main: .*conflict")
		self.assertFalse(h[ja]["reverted"])
		self.assertTrue(conflict, "the conflicting change was pushed")
		self.assertEqual(self.w.reverts(), [], "a conflicting revert must not land")
		self.assertEqual(H.rev(self.w.origin, "main"), conflict["sha"])
		self.assertTrue(self.w.frozen())
		# a new delivery for the frozen repository is refused ...
		c = self.post([("services/pay_service.py", "NameError", MSG)])
		self.assertEqual(c["accepted"], [])
		self.assertEqual(c["rejected"], [{"file": "services/pay_service.py",
						  "reason": "repo-frozen"}])
		# ... and the job queued before the freeze waits
		time.sleep(2.5)
		self.assertEqual(self.w.history()[jb]["state"], "queued", self.log_tail())
		# people repair main, then unfreeze: the waiting job runs
		self.w.dev_commit({ORDER: FILES[ORDER].replace("totl  # BUG: return s", "s")},
				  "repair by carol")
		rc, out, err = self.w.unfreeze()
		self.assertEqual(rc, 0, err)
		self.wait_state(jb, "healed")
		self.assertFalse(self.w.frozen())
		self.assertEqual(H.show(self.w.origin, "main", "services/cart_service.py").splitlines()[2],
				 "    return s")
		self.assertEqual(self.states(), {ja: "revert-failed", jb: "healed"})

	def test_kill9_during_watch_resumes_and_reverts_once(self):
		self.w = World(self.tmp)
		self.w.write(health_timeout=30)
		self.start()
		j = self.post([(ORDER, "NameError", MSG + BREAK)])["accepted"][0]
		H.wait_for(lambda: self.w.app.hits >= 1, timeout=20, what="the watch started")
		self.kill9()
		h = self.w.history()[j]
		self.assertEqual(h["state"], "watching", "kill -9 was too late to test the resume")
		self.assertEqual(self.w.reverts(), [])
		self.start()
		self.wait_state(j, "reverted")
		self.assertIn("job.resume", self.proc.output())
		self.assertEqual(len(self.w.reverts()), 1)
		h = self.w.history()[j]
		self.assertEqual(H.rev(self.w.origin, "main"), h["revert_sha"])

		# kill -9 after the revert was pushed but before its state was saved: the job is
		# still reverting; the restart finds the revert by its trailer and pushes nothing.
		self.proc.stop()
		self.proc = None
		H.db_query(self.w.state, "UPDATE jobs SET state = 'reverting' WHERE id = ?", (j,))
		self.start()
		self.wait_state(j, "reverted")
		self.assertEqual(len(self.w.reverts()), 1, self.w.log())
		self.assertEqual(self.w.history()[j]["revert_sha"], h["revert_sha"])
		self.assertEqual(H.rev(self.w.origin, "main"), h["revert_sha"])

	def test_rate_limit_sixth_waits_for_the_window_across_a_restart(self):
		window = 8
		self.w = World(self.tmp)
		self.w.write(max_fixes_per_hour=5, rate_window=window)
		self.start()
		six = [f for f in FILES if f != "database/models.py"]
		self.assertEqual(len(six), 6)
		t_post = time.time()
		ids = sorted(self.post([(f, "NameError", MSG) for f in six])["accepted"])
		self.assertEqual(len(ids), 6)
		first5, sixth = ids[:5], ids[5]
		for j in first5:
			self.wait_state(j, "healed")
		self.wait_state(sixth, "waiting", timeout=5)
		self.assertEqual(self.w.history()[sixth]["reason"], "rate-limited")
		self.assertLess(time.time() - t_post, window - 3, "too slow to test the window")
		# a restart keeps the count: the ledger is in the store
		self.proc.stop()
		self.proc = None
		self.start()
		time.sleep(1.0)
		if time.time() - t_post < window - 1.5:
			self.assertEqual(self.w.history()[sixth]["state"], "waiting", self.log_tail())
		self.wait_state(sixth, ("fixing", "committed", "pushed", "watching", "healed"),
				timeout=window + 10)
		self.assertGreaterEqual(time.time() - t_post, window - 1.0,
					"the sixth ran before the window freed")
		self.wait_state(sixth, "healed")
		self.assertEqual(self.states(), {j: "healed" for j in ids})
		self.assertEqual(len(H.git(self.w.origin, "log", "--format=%H", "main").splitlines()), 7)


if __name__ == "__main__":
	unittest.main()
