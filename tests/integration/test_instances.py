"""Two `healhook serve` instances on one PostgreSQL database (issue 11), end to end on 127.0.0.1:
deduplication of deliveries sent to both, one job in progress per repository and the shared L3
budget, takeover of a job after its owner was killed (in fixing and in watching), and a
PostgreSQL restart under load (intake 503 and /healthz 503 while it is down).

Each instance has its own state directory (its own mirror) and the same [state] database. The
setting (origin, host, App, fake fixer) is test_aftercare's. tests/run.py runs this module only
with HEALHOOK_TEST_DB=postgresql; it starts its servers with tests/lib/postgres.py either way.
"""
import concurrent.futures
import json
import os
import signal
import threading
import time
import unittest
import uuid

from lib import harness as H
from lib import postgres
import test_aftercare as A

REPO, ORDER, MSG, BREAK, FILES = A.REPO, A.ORDER, A.MSG, A.BREAK, A.FILES
SLOW = " [[fixer:slow]]"
IN_PROGRESS = ("fixing", "committed", "watching", "reverting")


class Pair(A.World):
	"""test_aftercare's World with two instances, a and b, sharing database db of pg."""

	def __init__(self, tmp, pg, db, **kw):
		super().__init__(tmp, **kw)
		self.pg, self.db = pg, db
		self.states = [os.path.join(tmp, "state-a"), os.path.join(tmp, "state-b")]
		self.cfgs = [os.path.join(tmp, "a.conf"), os.path.join(tmp, "b.conf")]
		self.state, self.cfg = self.states[0], self.cfgs[0]  # history, frozen: instance a
		self.procs = [None, None]
		self.urls = [None, None]

	def write(self, parallel=1, lease=3, **keys):
		repo = {"host": self.host, "reviewers": "bob", "target": "default-branch",
			"health-url": self.app.health_url, "health-delay": 0, "health-interval": 1,
			"health-timeout": 10, "health-failures": 3}
		repo.update({k.replace("_", "-"): v for k, v in keys.items()})
		for state, cfg in zip(self.states, self.cfgs):
			with open(cfg, "w") as f:
				f.write("[server]\n\tsecret-file = %s\n" % os.path.join(self.tmp, "secret"))
				f.write(H.state_config(state, database="postgresql", db_name=self.db,
						       pg=self.pg))
				f.write("\tlease = %d\n" % lease)
				f.write("[worker]\n\tparallel = %d\n" % parallel)
				f.write("[gitea]\n\tuser = healhook-bot\n")
				f.write("[fixer]\n\tcommand = %s --model {model} --message-file {prompt} "
					"--yes-always --no-git --chat-history-file %s {file}\n"
					% (H.FAKE_AIDER, os.path.join(self.tmp, "chat.md")))
				f.write('[repo "%s"]\n' % REPO)
				for k, v in repo.items():
					if v is not None:
						f.write("\t%s = %s\n" % (k, v))

	def start(self, i):
		port = H.free_port()
		self.urls[i] = "http://127.0.0.1:%d" % port
		self.procs[i] = H.start_process(
			[H.BIN, "serve", "--config", self.cfgs[i], "--listen", "127.0.0.1:%d" % port],
			env={"PATH": os.environ["PATH"]},
			log_path=os.path.join(self.tmp, "serve-%s.log" % "ab"[i]))
		H.wait_http(self.urls[i] + "/healthz", timeout=15)

	def kill9(self, i):
		os.kill(self.procs[i].pid, signal.SIGKILL)
		self.procs[i].wait(10)
		self.procs[i].stop()
		self.procs[i] = None

	def stop(self):
		for p in self.procs:
			if p:
				p.stop()
		super().stop()

	def query(self, sql, params=()):
		return self.pg.query(self.db, sql, params)

	def frozen(self):
		rows = self.query("SELECT frozen FROM repos WHERE repo = ?", (REPO,))
		return bool(rows and rows[0][0])

	def instance(self, i):
		return "%s:%s" % (os.uname().nodename, self.states[i])

	def log_tail(self):
		out = ""
		for n in "ab":
			p = os.path.join(self.tmp, "serve-%s.log" % n)
			if os.path.exists(p):
				with open(p, encoding="utf-8", errors="replace") as f:
					out += "--- %s\n%s" % (n, f.read()[-2500:])
		return out


def delivery(findings):
	hdrs, body = A.comment_delivery(findings)
	return H.header(hdrs, "X-Gitea-Delivery"), hdrs, body


class TwoInstances(unittest.TestCase):
	def setUp(self):
		self._tmp = H.tmpdir("hh-inst-")
		self.tmp = self._tmp.__enter__()
		self.pg = postgres.shared()
		self.db = "inst_" + uuid.uuid4().hex[:12]
		self.p = Pair(self.tmp, self.pg, self.db)

	def tearDown(self):
		self.p.stop()
		self._tmp.__exit__(None, None, None)

	def post(self, i, findings):
		_, hdrs, body = delivery(findings)
		st, _, data = H.post(self.p.urls[i] + "/hooks/gitea", body, hdrs)
		self.assertEqual(st, 202, data)
		return json.loads(data)

	def states(self):
		return dict(self.p.query("SELECT id, state FROM jobs"))

	def wait_states(self, want, timeout=60):
		H.wait_for(lambda: want(self.states()), timeout=timeout, interval=0.2,
			   what="job states (now %s)\n%s" % (self.states(), self.p.log_tail()))

	def assert_never_two_in_progress(self):
		"""From the store's history of state changes (job_states, written by a trigger)."""
		rows = self.p.query("SELECT job_id, repo, state FROM job_states WHERE state <> 'takeover'"
				    " ORDER BY seq")
		self.assertTrue(rows)
		current, busy = {}, {}
		for job, repo, state in rows:
			current[job] = state
			now = sorted(j for j, s in current.items() if s in IN_PROGRESS)
			self.assertLessEqual(len(now), 1, "two jobs of %s in progress: %s" % (repo, now))
			busy[repo] = now

	def test_2000_deliveries_each_sent_to_both_are_stored_once(self):
		n = 2000
		self.p.write(parallel=0)
		self.p.start(0)
		self.p.start(1)
		ds = [delivery([(ORDER, "NameError", "%s #%d" % (MSG, i))]) for i in range(n)]
		answers = {}
		lock = threading.Lock()

		def send(k, i):
			did, hdrs, body = ds[k]
			st, _, _ = H.post(self.p.urls[i] + "/hooks/gitea", body, hdrs, timeout=30)
			with lock:
				answers.setdefault(did, []).append(st)

		with concurrent.futures.ThreadPoolExecutor(max_workers=8) as ex:
			# Both copies of a delivery go out together, so they race inside the database.
			futs = [ex.submit(send, k, i) for k in range(n) for i in (k % 2, 1 - k % 2)]
			for f in futs:
				f.result()
		self.assertEqual(len(answers), n)
		bad = {d: s for d, s in answers.items() if sorted(s) != [200, 202]}
		self.assertEqual(bad, {}, "each delivery: one 202, one 200 duplicate")
		self.assertEqual(self.p.query("SELECT COUNT(*), COUNT(DISTINCT id) FROM deliveries"),
				 [(n, n)])
		self.assertEqual(self.p.query("SELECT COUNT(*) FROM jobs"), [(n,)])
		self.assertEqual(self.p.query("SELECT verdict, COUNT(*) FROM findings GROUP BY verdict"),
				 [("accepted", n)])

	def test_six_jobs_budget_five_never_two_in_progress(self):
		self.p.write(parallel=2, max_fixes_per_hour=5, health_url=None)
		self.p.start(0)
		self.p.start(1)
		files = sorted(FILES)[:6]
		tip = H.rev(self.p.origin, "main")
		a = self.post(0, [(f, "NameError", MSG) for f in files])
		self.assertEqual(len(a["accepted"]), 6)
		self.wait_states(lambda s: sorted(s.values()).count("pushed") == 5 and
				 "waiting" in s.values())
		time.sleep(2)  # the sixth stays waiting: the budget is shared
		s = self.states()
		self.assertEqual(sorted(s.values()), ["pushed"] * 5 + ["waiting"], self.p.log_tail())
		self.assertEqual(self.p.query("SELECT COUNT(*) FROM fix_runs WHERE repo = ?", (REPO,)),
				 [(5,)])
		pushed = H.git(self.p.origin, "log", "--format=%H", "%s..main" % tip).split()
		self.assertEqual(len(pushed), 5)
		self.assertEqual(len(self.p.query("SELECT DISTINCT commit_sha FROM jobs"
						  " WHERE state = 'pushed'")), 5)
		self.assert_never_two_in_progress()
		# history from either instance shows the same jobs
		for cfg in self.p.cfgs:
			rc, out, err = A.run(["history", "--config", cfg, "--json", "--limit", "100"])
			self.assertEqual(rc, 0, err)
			self.assertEqual(sorted(j["state"] for j in json.loads(out)),
					 ["pushed"] * 5 + ["waiting"])
		# a repository frozen (here by hand) is unfrozen from instance b for both
		self.p.query("INSERT INTO repos (repo, frozen, why, changed) VALUES (?, 1, 'test', 0)",
			     (REPO,))
		self.assertTrue(self.p.frozen())
		rc, out, err = A.run(["unfreeze", "--config", self.p.cfgs[1], REPO])
		self.assertEqual(rc, 0, err)
		self.assertIn("unfrozen (was frozen: test)", out)
		self.assertEqual(self.p.query("SELECT frozen FROM repos WHERE repo = ?", (REPO,)), [(0,)])

	def takeover(self, message, end_state, ready):
		"""Instance a takes the job; kill -9 once ready(job) holds; b takes it over."""
		self.p.start(0)
		j = self.post(0, [(ORDER, "NameError", message)])["accepted"][0]
		H.wait_for(lambda: ready(j), timeout=30, interval=0.1,
			   what="job %d ready to kill (%s)\n%s" % (j, self.states(), self.p.log_tail()))
		owner = self.p.query("SELECT owner FROM jobs WHERE id = ?", (j,))
		self.assertEqual(owner, [(self.p.instance(0),)])
		self.p.kill9(0)
		before = self.states()[j]
		self.p.start(1)
		self.wait_states(lambda s: s.get(j) == end_state, timeout=60)
		took = self.p.query("SELECT owner FROM job_states WHERE job_id = ? AND state = 'takeover'",
				    (j,))
		self.assertEqual(took, [(self.p.instance(1),)], self.p.log_tail())
		st, _, body = H.get(self.p.urls[1] + "/metrics")
		text = body.decode()
		self.assertIn('healhook_instance_info{instance="%s",store="postgresql"} 1'
			      % self.p.instance(1), text)
		self.assertIn("healhook_lease_takeovers_total 1\n", text)
		self.assertEqual(len(self.states()), 1, "nothing lost, nothing duplicated")
		return j, before

	def test_kill9_in_fixing_other_instance_takes_over_one_push(self):
		self.p.write(parallel=1, lease=3, health_url=None)

		def fixing(j):
			row = self.p.query("SELECT state, detail FROM jobs WHERE id = ?", (j,))
			return row and row[0][0] == "fixing" and (row[0][1] or "").startswith("scratch: ")

		tip = H.rev(self.p.origin, "main")
		j, before = self.takeover(MSG + SLOW, "pushed", fixing)
		self.assertEqual(before, "fixing")
		log = H.git(self.p.origin, "log", "--format=%H", "%s..main" % tip).split()
		self.assertEqual(len(log), 1, "exactly one push")
		self.assertEqual(self.p.query("SELECT attempts, commit_sha FROM jobs WHERE id = ?", (j,)),
				 [(2, log[0])])
		self.assert_never_two_in_progress()

	def test_kill9_in_watching_other_instance_reverts_once(self):
		self.p.write(parallel=1, lease=3, health_timeout=30)
		tip = H.rev(self.p.origin, "main")
		j, before = self.takeover(MSG + BREAK, "reverted",
					  lambda j: self.p.app.hits >= 1 and self.states()[j] == "watching")
		self.assertEqual(before, "watching")
		log = H.git(self.p.origin, "log", "--format=%s", "%s..main" % tip).splitlines()
		self.assertEqual(len(log), 2, log)
		self.assertEqual(len([s for s in log if s.startswith('Revert "')]), 1, log)
		row = self.p.query("SELECT revert_sha FROM jobs WHERE id = ?", (j,))
		self.assertEqual(row, [(H.rev(self.p.origin, "main"),)])


class PostgresRestart(unittest.TestCase):
	"""PostgreSQL restarted under load: 503 + Retry-After while down, nothing acknowledged
	lost, both instances recover without a restart. A server of its own (it is stopped)."""

	def test_restart_under_load(self):
		with H.tmpdir("hh-inst-") as tmp, postgres.Postgres() as pg:
			p = Pair(tmp, pg, "restart")
			try:
				self._run(p, pg)
			finally:
				p.stop()

	def _run(self, p, pg):
		p.write(parallel=0)
		p.start(0)
		p.start(1)
		seen = []  # (instance, delivery id, status, Retry-After)
		stop = threading.Event()

		def load(i):
			while not stop.is_set():
				did, hdrs, body = delivery([(ORDER, "NameError", "%s %s" % (MSG, uuid.uuid4()))])
				try:
					st, hd, _ = H.post(p.urls[i] + "/hooks/gitea", body, hdrs, timeout=20)
				except OSError:
					st, hd = None, None
				seen.append((i, did, st, hd.get("Retry-After") if hd else None))
				if st == 503:
					time.sleep(0.05)

		H.make_fixtures()  # loaded once, before the threads use it
		threads = [threading.Thread(target=load, args=(i,)) for i in (0, 1, 0, 1)]
		for t in threads:
			t.start()
		try:
			time.sleep(1.5)
			pg.shutdown()
			down_from = len(seen)
			time.sleep(2.5)
			down_to = len(seen)
			# /healthz reports the store: 503 on both while the database is down
			down_health = [H.get(u + "/healthz")[0] for u in p.urls]
			pg.start_again()
			up_from = len(seen)
			H.wait_for(lambda: {i for i, _, st, _ in seen[up_from:] if st == 202} == {0, 1},
				   timeout=30, interval=0.2, what="both instances accept again")
			up_health = [H.get(u + "/healthz")[0] for u in p.urls]
		finally:
			stop.set()
			for t in threads:
				t.join(30)
		self.assertEqual((down_health, up_health), ([503, 503], [200, 200]))
		statuses = {st for _, _, st, _ in seen}
		self.assertLessEqual(statuses, {202, 503}, p.log_tail())
		down = seen[down_from + 8:down_to]
		self.assertTrue(down and all(st == 503 for _, _, st, _ in down), down[:5])
		self.assertTrue(all(ra and int(ra) > 0 for _, _, st, ra in seen if st == 503))
		acked = {d for _, d, st, _ in seen if st == 202}
		stored = {r[0] for r in pg.query("restart", "SELECT id FROM deliveries")}
		self.assertEqual(acked - stored, set(), "acknowledged deliveries lost")
		self.assertGreater(len(acked), 10)


if __name__ == "__main__":
	unittest.main()


class Operations(unittest.TestCase):
	"""healhook migrate and doctor on PostgreSQL; the database password is never shown."""

	def setUp(self):
		self._tmp = H.tmpdir("hh-inst-")
		self.tmp = self._tmp.__enter__()
		self.pg = postgres.shared()
		self.db = "ops_" + uuid.uuid4().hex[:12]

	def tearDown(self):
		self._tmp.__exit__(None, None, None)

	def config(self, state_text):
		cfg = os.path.join(self.tmp, "healhook.conf")
		with open(cfg, "w") as f:
			f.write(state_text)
			f.write('[repo "acme/x"]\n\thost = %s\n' % self.tmp)
		return cfg

	def test_migrate_then_doctor(self):
		state = os.path.join(self.tmp, "state")
		cfg = self.config(H.state_config(state, database="postgresql", db_name=self.db,
						 pg=self.pg))
		rc, out, err = A.run(["doctor", "--config", cfg])
		self.assertEqual(rc, 1, out + err)
		self.assertRegex(out, r"✗ store\s+schema version\s+0, this healhook needs \d+")
		self.assertIn("healhook migrate", out)
		rc, out, err = A.run(["migrate", "--config", cfg])
		self.assertEqual(rc, 0, err)
		self.assertRegex(out, r"^postgresql store at schema version (\d+) \(current\)$")
		want = int(out.split()[5])
		self.assertEqual(self.pg.query(self.db, "SELECT MAX(version) FROM schema_version"),
				 [(want,)])
		rc, out, err = A.run(["migrate", "--config", cfg])  # again: nothing to do
		self.assertEqual(rc, 0, err)
		rc, out, err = A.run(["doctor", "--config", cfg])
		self.assertNotRegex(out, r"✗ store", out + err)  # acme/x's own checks fail (no repo)
		self.assertRegex(out, r"✓ store\s+database\s+postgresql://healhook@127\.0\.0\.1:%d/%s answers"
				 % (self.pg.port, self.db))
		self.assertRegex(out, r"✓ store\s+schema version\s+%d \(current\)" % want)

	def test_retention_prunes_old_bodies(self):
		"""state.keep-deliveries on PostgreSQL: serve's first retention round removes the old
		bodies and headers, not the new ones; every row stays (the duplicate check). (A pending
		lookup's body is kept by the same clause as on SQLite, tests/unit/test_store_plan.c;
		serve's lookup thread would resolve an old pending row before the round.)"""
		state = os.path.join(self.tmp, "state")
		secret = os.path.join(self.tmp, "secret")
		with open(secret, "w") as f:
			f.write("s3cret\n")
		cfg = self.config("[server]\n\tsecret-file = %s\n" % secret
				  + H.state_config(state, database="postgresql", db_name=self.db,
						   pg=self.pg) + "\tkeep-deliveries = 1d\n")
		rc, out, err = A.run(["migrate", "--config", cfg])
		self.assertEqual(rc, 0, err)
		now = int(time.time())
		for i, (did, received, lookup) in enumerate((("old-1", 100, "none"), ("old-2", 100, "none"),
							     ("new", now, "none"))):
			self.pg.query(self.db, "INSERT INTO deliveries (id, body_sha256, event, verdict, lookup,"
				      " received, headers, body) VALUES (?, ?, 'e', 'no-fix', ?, ?, 'h: v',"
				      " '{}'::bytea)", (did, "sha-%d" % i, lookup, received))
		self.assertEqual(self.pg.query(self.db, "SELECT COUNT(*) FROM deliveries WHERE body IS"
					       " NULL"), [(0,)])
		port = H.free_port()
		proc = H.start_process([H.BIN, "serve", "--config", cfg, "--listen",
					"127.0.0.1:%d" % port], env={"PATH": os.environ["PATH"]},
				       log_path=os.path.join(self.tmp, "serve.log"))
		try:
			H.wait_http("http://127.0.0.1:%d/healthz" % port, timeout=15)
			def kept():
				return dict(self.pg.query(self.db, "SELECT id, (body IS NOT NULL AND headers"
							  " IS NOT NULL)::int FROM deliveries"))
			H.wait_for(lambda: not kept()["old-1"] and not kept()["old-2"], timeout=20,
				   what="old bodies pruned")
			self.assertEqual(kept(), {"old-1": 0, "old-2": 0, "new": 1})
		finally:
			proc.stop()
		with open(os.path.join(self.tmp, "serve.log"), encoding="utf-8") as f:
			self.assertIn("retention.pruned", f.read())

	def test_password_never_shown(self):
		state = os.path.join(self.tmp, "state")
		pw = os.path.join(self.tmp, "pw")
		with open(pw, "w") as f:
			f.write("file-secret-4711\n")
		url = "postgresql://healhook:url-secret-0815@127.0.0.1:%d/postgres" % self.pg.port
		for text in ("[state]\n\tdir = %s\n\tdatabase = %s\n" % (state, url),
			     "[state]\n\tdir = %s\n\tdatabase = %s\n\tdatabase-password-file = %s\n"
			     % (state, self.pg.url("postgres"), pw)):
			cfg = self.config(text)
			for cmd in (["migrate"], ["history"], ["doctor"]):
				rc, out, err = A.run(cmd + ["--config", cfg])
				self.assertEqual(rc, 1, out + err)
				self.assertIn("database unavailable", out + err)
				self.assertIn("password authentication failed", out + err)
				self.assertNotIn("secret-", out + err)
