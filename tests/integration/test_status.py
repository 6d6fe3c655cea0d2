"""The status pages (issue 13) in headless Chromium, against a real `healhook serve` whose store
holds jobs made by real heals on 127.0.0.1: one healed (its finding's message is
`<script>alert(1)</script>`), one failed (the fixer changed nothing), one reverted by its health
watch (which froze the repository, max-reverts 1), one left queued behind the freeze, and one
`healhook heal` refused for its file name `"><img src=x onerror=alert(1)>`. Notifications go to
a Telegram stand-in. The fixer is tests/lib/fake-aider; transport is local.

Chromium is driven through the DevTools protocol (tests/lib/cdp.py, standard library only):
every page renders without a console error, the job page shows the diff and the stage bars,
the numbers on `/` are the store's (read from the SQLite file here), hostile text is shown as
text and runs no script. Screenshots go to $HEALHOOK_TEST_OUTPUT, else BUILD/test-output/status.
"""
import json
import os
import re
import sqlite3
import subprocess
import time
import unittest
import urllib.request

from lib import harness as H
from lib.cdp import Browser, CHROMIUM
from lib.telegram_mock import TelegramMock
from test_aftercare import BREAK, FILES, MSG, ORDER, REPO, World, comment_delivery

XSS_MSG = "<script>alert(1)</script>"
XSS_FILE = '"><img src=x onerror=alert(1)>'
NOOP = " [[fixer:noop]]"
TOKEN = "status-token-5d1e"
TG_TOKEN = "123456:TEST-token"
OTHER = "acme/docs"
OUT = os.environ.get("HEALHOOK_TEST_OUTPUT") or os.path.join(
	H.ROOT, os.environ.get("HEALHOOK_BUILD") or "build", "test-output", "status")
NO_SCRIPT = ("window.__alerts = [];"
	     "window.alert = window.confirm = window.prompt = function (m) {"
	     " window.__alerts.push(String(m)); };")


def run(args, timeout=60):
	p = subprocess.run([H.BIN] + list(args), env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
			   stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
	return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def fetch(url, token=None, method="GET"):
	req = urllib.request.Request(url, method=method, data=b"x=1" if method == "POST" else None)
	if token:
		req.add_header("Authorization", "Bearer " + token)
	try:
		with urllib.request.urlopen(req, timeout=10) as r:
			return r.status, dict(r.headers), r.read()
	except urllib.error.HTTPError as e:
		return e.code, dict(e.headers), e.read()


def listen_inode(port):
	"""The inode of the socket listening on 127.0.0.1:port (from /proc/net/tcp)."""
	with open("/proc/net/tcp") as f:
		for line in f.readlines()[1:]:
			p = line.split()
			if p[1] == "0100007F:%04X" % port and p[3] == "0A":
				return p[9]
	return None


def socket_owners(inode):
	"""Pids that hold the socket with this inode open."""
	pids = []
	for pid in filter(str.isdigit, os.listdir("/proc")):
		try:
			for fd in os.listdir("/proc/%s/fd" % pid):
				if os.readlink("/proc/%s/fd/%s" % (pid, fd)) == "socket:[%s]" % inode:
					pids.append(int(pid))
					break
		except OSError:
			continue
	return pids


def no_duplicates(pairs):
	keys = [k for k, _ in pairs]
	assert len(keys) == len(set(keys)), "duplicate keys in %s" % keys
	return dict(pairs)


def children(ppid):
	out = []
	for pid in filter(str.isdigit, os.listdir("/proc")):
		try:
			with open("/proc/%s/stat" % pid) as f:
				if f.read().rsplit(") ", 1)[1].split()[1] == str(ppid):
					out.append(int(pid))
		except OSError:
			continue
	return out


class StatusPages(unittest.TestCase):
	@classmethod
	def setUpClass(cls):
		if not os.path.exists(CHROMIUM):
			raise AssertionError("%s is missing: `make deps` installs the chromium package" % CHROMIUM)
		cls._tmp = H.tmpdir("hh-status-")
		cls.tmp = cls._tmp.__enter__()
		cls.proc = cls.browser = cls.tg = None
		try:
			cls.make_world()
		except BaseException:
			cls.tearDownClass()
			raise

	@classmethod
	def make_world(cls):
		cls.w = World(cls.tmp)
		cls.cfg = cls.w.write(max_reverts=1, health_failures=2)
		cls.tg = TelegramMock(token=TG_TOKEN).start()
		cls.port = H.free_port()
		cls.status_port = H.free_port()
		cls.base = "http://127.0.0.1:%d" % cls.status_port
		for name, text in (("token", TOKEN), ("tg-token", TG_TOKEN)):
			with open(os.path.join(cls.tmp, name), "w") as f:
				f.write(text + "\n")
		with open(cls.cfg, "a") as f:
			f.write('[repo "%s"]\n\thost = %s\n\treviewers = bob\n' % (OTHER, cls.w.host))
			f.write("[notify]\n\ttelegram-token-file = %s\n\ttelegram-api = %s\n"
				"\ttelegram-chat = 4242\n" % (os.path.join(cls.tmp, "tg-token"), cls.tg.url))
			f.write("[status]\n\tlisten = 127.0.0.1:%d\n\ttoken-file = %s\n"
				% (cls.status_port, os.path.join(cls.tmp, "token")))
		# a heal refused for its file name: a real job, failed path-not-allowed
		rc, out, err = run(["heal", "--config", cls.cfg, "--repo", REPO, "--file", XSS_FILE,
				    "--type", "NameError", "--message", MSG, "--json"])
		cls.refused = json.loads(out)
		assert cls.refused["reason"] == "path-not-allowed", out + err
		cls.proc = H.start_process([H.BIN, "serve", "--config", cls.cfg, "--listen",
					    "127.0.0.1:%d" % cls.port],
					   env={"PATH": os.environ["PATH"]},
					   log_path=os.path.join(cls.tmp, "serve.log"))
		H.wait_http("http://127.0.0.1:%d/healthz" % cls.port, timeout=15)
		hdrs, body = comment_delivery([(ORDER, "NameError", XSS_MSG),
					       ("services/cart_service.py", "NameError", MSG + NOOP),
					       ("services/pay_service.py", "NameError", MSG + BREAK),
					       ("services/tax_service.py", "NameError", MSG)])
		st, _, data = H.post("http://127.0.0.1:%d/hooks/gitea" % cls.port, body, hdrs)
		assert st == 202, data
		ids = sorted(json.loads(data)["accepted"])
		assert len(ids) == 4, data
		cls.healed, cls.failed, cls.reverted, cls.queued = ids

		def settled():
			h = cls.w.history()
			return (h.get(cls.reverted, {}).get("state") == "reverted" and cls.w.frozen() and
				h.get(cls.healed, {}).get("state") == "healed")
		H.wait_for(settled, timeout=60, interval=0.2, what="healed, failed, reverted and frozen")
		cls.history = cls.w.history()
		H.wait_for(lambda: len(cls.tg.messages) >= 6, timeout=15, what="notifications sent")
		time.sleep(0.3)  # the notifier records after each answer
		cls.browser = Browser(cls.tmp)
		cls.page = cls.browser.new_page(headers={"Authorization": "Bearer " + TOKEN})
		cls.page.call("Page.addScriptToEvaluateOnNewDocument", source=NO_SCRIPT)
		os.makedirs(OUT, exist_ok=True)

	@classmethod
	def tearDownClass(cls):
		for x in (cls.browser, cls.proc):
			if x:
				x.stop()
		if cls.tg:
			cls.tg.stop()
		if getattr(cls, "w", None):
			cls.w.stop()
		cls._tmp.__exit__(None, None, None)

	def db(self, sql, *args):
		db = sqlite3.connect(os.path.join(self.w.state, "healhook.db"))
		try:
			return db.execute(sql, args).fetchall()
		finally:
			db.close()

	def load(self, path, shot=None):
		"""Loads a page; fails on any console error. Saves a screenshot as OUT/shot.png."""
		p = self.page
		p.events.clear()
		p.navigate(self.base + path)
		self.assertEqual(p.errors(), [], "console errors on %s" % path)
		self.assertEqual(p.evaluate("window.__alerts.length"), 0)
		self.assertEqual(p.evaluate("document.scripts.length"), 0, "a page holds a script")
		if shot:
			p.screenshot(os.path.join(OUT, shot + ".png"))
		return p

	def test_pages_render_without_console_errors(self):
		p = self.load("/", "status-repos")
		self.assertEqual(p.evaluate("document.title"), "Repositories · healhook")
		self.assertEqual(p.evaluate("document.querySelector('meta[http-equiv=refresh]').content"), "30")
		self.assertEqual(p.evaluate("getComputedStyle(document.body).margin"), "0px",
				 "the stylesheet was not applied")
		self.assertEqual(p.evaluate("document.querySelectorAll('svg.chart rect.healed').length") > 0,
				 True, "no healed bar in the outcomes chart")
		p = self.load("/jobs", "status-jobs")
		rows = p.evaluate("[...document.querySelectorAll('#jobs tbody tr')].map(r => +r.dataset.job)")
		self.assertEqual(rows, sorted(rows, reverse=True), "not newest first")
		self.assertEqual(len(rows), 5)
		for j in (self.healed, self.failed, self.reverted, self.queued, self.refused["job"]):
			self.load("/jobs/%d" % j, "status-job-%d" % j)
		self.load("/jobs/%d" % self.healed, "status-job")
		for path in ("/jobs/99999", "/nothing"):
			self.page.navigate(self.base + path)
			self.assertIn("no such", self.page.evaluate("document.querySelector('h1').textContent"))

	def test_numbers_on_root_match_the_store(self):
		p = self.load("/")
		rows = p.evaluate("""[...document.querySelectorAll('#repos tbody tr')].map(r => ({
			repo: r.dataset.repo, status: r.querySelector('.status').textContent,
			used: +r.querySelector('.fixes .used').textContent,
			budget: +r.querySelector('.fixes .budget').textContent,
			last: r.querySelector('.last').textContent, queue: +r.querySelector('.queue').textContent}))""")
		self.assertEqual([r["repo"] for r in rows], [REPO, OTHER])
		for r in rows:
			queue = self.db("SELECT COUNT(*) FROM jobs WHERE repo = ? AND state IN ('queued','waiting')",
					r["repo"])[0][0]
			used = self.db("SELECT COUNT(*) FROM fix_runs WHERE repo = ? AND ran_at >= ?",
				       r["repo"], int(time.time()) - 3600)[0][0]
			frozen = self.db("SELECT frozen, why FROM repos WHERE repo = ?", r["repo"])
			self.assertEqual((r["queue"], r["used"], r["budget"]), (queue, used, 5), r)
			if frozen and frozen[0][0]:
				self.assertIn("frozen", r["status"])
				self.assertIn(frozen[0][1], r["status"])
			else:
				self.assertNotIn("frozen", r["status"])
		shop = rows[0]
		self.assertEqual((shop["queue"], shop["used"]), (1, 3), "the queued job; three fixer runs")
		last = self.db("SELECT id, state FROM jobs WHERE repo = ? AND state NOT IN ('queued','waiting')"
			       " ORDER BY updated DESC, id DESC LIMIT 1", REPO)[0]
		self.assertIn("#%d" % last[0], shop["last"])
		self.assertIn(last[1], shop["last"])
		self.assertEqual(rows[1]["last"], "no outcome yet")
		cards = p.evaluate("['healed','reverted','failed','queued'].map(k => "
				   "+document.getElementById('n-' + k).textContent)")
		count = lambda states: self.db("SELECT COUNT(*) FROM jobs WHERE state IN (%s)" % states)[0][0]
		self.assertEqual(cards, [count("'healed'"), count("'reverted','revert-failed'"),
					 count("'failed','expired'"), count("'queued','waiting'")])
		self.assertEqual(cards, [1, 1, 2, 1])

	def test_job_page_shows_diff_stages_probes_revert_and_notifications(self):
		p = self.load("/jobs/%d" % self.reverted, "status-job-reverted")
		h = self.history[self.reverted]
		diff = p.evaluate("document.getElementById('diff').textContent")
		self.assertIn("+++ b/services/pay_service.py", diff)
		self.assertIn("+BROKEN = True", diff)
		self.assertEqual(p.evaluate("document.querySelectorAll('#diff .add').length") >= 2, True)
		bars = p.evaluate("[...document.querySelectorAll('#stages rect.stage')].map(r => "
				  "[r.parentNode.querySelector('.label').textContent, +r.getAttribute('x'),"
				  " +r.getAttribute('width')])")
		self.assertEqual([b[0] for b in bars], list(h["stages"].keys()))
		for a, b in zip(bars, bars[1:]):  # a waterfall: each stage starts where the last ended
			self.assertAlmostEqual(a[1] + a[2], b[1], delta=1.01)
		probes = p.evaluate("[...document.querySelectorAll('#probes tbody tr')].map(r => r.textContent)")
		stored = self.db("SELECT status, verdict, sha FROM health_probes WHERE job_id = ? ORDER BY id",
				 self.reverted)
		self.assertEqual(len(probes), len(stored))
		self.assertEqual([s[0] for s in stored][:2], [500, 500], stored)
		self.assertEqual(stored[-1][:2], (200, "ok"))
		self.assertEqual(stored[-1][2], h["revert_sha"])
		self.assertIn('"status": "error"', probes[0])
		self.assertIn(h["revert_sha"], p.evaluate("document.getElementById('revert').textContent"))
		self.assertIn("-BROKEN = True", p.evaluate("document.getElementById('revert-diff').textContent"))
		notes = p.evaluate("[...document.querySelectorAll('#notifications tbody tr')].map(r => r.textContent)")
		stored = self.db("SELECT outcome, target, ok FROM notifications WHERE job_id = ?", self.reverted)
		self.assertEqual(len(notes), len(stored))
		self.assertIn(("reverted", "telegram chat 4242", 1), stored)
		self.assertTrue(any("reverted" in n and "telegram chat 4242" in n and "sent" in n for n in notes))
		self.assertNotIn(TG_TOKEN, p.evaluate("document.body.innerHTML"))
		# the healed job: its PR, its finding and its diff
		p = self.load("/jobs/%d" % self.healed)
		self.assertRegex(p.evaluate("document.querySelector('#pr a').href"), r"^http://.*/pulls?/\d+")
		self.assertIn("-    return totl  # BUG: return s",
			      p.evaluate("document.getElementById('diff').textContent"))

	def test_hostile_text_is_shown_as_text_and_runs_no_script(self):
		p = self.load("/jobs/%d" % self.healed)
		self.assertEqual(p.evaluate("document.querySelector('#findings td.message').textContent"),
				 XSS_MSG)
		self.assertIn("&lt;script&gt;alert(1)&lt;/script&gt;", p.evaluate("document.body.innerHTML"))
		p = self.load("/jobs/%d" % self.refused["job"], "status-job-hostile")
		self.assertEqual(p.evaluate("document.getElementById('file').textContent"), XSS_FILE)
		self.assertEqual(p.evaluate("document.querySelectorAll('img').length"), 0)
		for path in ("/jobs", "/jobs?repo=%s" % REPO):
			p = self.load(path)
			self.assertIn(XSS_FILE, p.evaluate("document.getElementById('jobs').textContent"))
			self.assertEqual(p.evaluate("document.querySelectorAll('img, script').length"), 0)
		self.assertEqual(p.evaluate("window.__alerts"), [])
		# the page carries the CSP that would block any script that got through
		st, hdrs, _ = fetch(self.base + "/jobs/%d" % self.healed, TOKEN)
		self.assertEqual(hdrs["Content-Security-Policy"],
				 "default-src 'none'; style-src 'self'; img-src 'self' data:")

	def test_filters_and_paging(self):
		p = self.load("/jobs?state=reverted")
		self.assertEqual(p.evaluate("[...document.querySelectorAll('#jobs tbody tr')].map(r => +r.dataset.job)"),
				 [self.reverted])
		p = self.load("/jobs?repo=%s&per=2&page=2" % REPO)
		ids = [r[0] for r in self.db("SELECT id FROM jobs WHERE repo = ? ORDER BY created DESC, id DESC", REPO)]
		self.assertEqual(p.evaluate("[...document.querySelectorAll('#jobs tbody tr')].map(r => +r.dataset.job)"),
				 ids[2:4])
		links = p.evaluate("[...document.querySelectorAll('.pager a')].map(a => a.getAttribute('href'))")
		self.assertEqual(links, ["/jobs?page=1&per=2&repo=acme%2Fshop-api",
					 "/jobs?page=3&per=2&repo=acme%2Fshop-api"])

	def test_token_required_and_writes_refused(self):
		for path in ("/", "/jobs", "/jobs/%d" % self.healed, "/api/repos", "/static/status.css"):
			self.assertEqual(fetch(self.base + path)[0], 401, path)
			self.assertEqual(fetch(self.base + path, "wrong-" + TOKEN)[0], 401, path)
			self.assertEqual(fetch(self.base + path, TOKEN)[0], 200, path)
		st, hdrs, _ = fetch(self.base + "/", TOKEN, method="POST")
		self.assertEqual((st, hdrs.get("Allow")), (405, "GET, HEAD"))
		for m in ("PUT", "DELETE", "PATCH"):
			self.assertEqual(fetch(self.base + "/jobs/%d" % self.healed, TOKEN, method=m)[0], 405)
		self.assertEqual(fetch(self.base + "/", method="POST")[0], 405)
		st, hdrs, body = fetch(self.base + "/", TOKEN, method="HEAD")
		self.assertEqual((st, body), (200, b""))
		# the webhook port serves no status page
		self.assertEqual(fetch("http://127.0.0.1:%d/" % self.port, TOKEN)[0], 404)

	def test_api_has_the_shapes_of_history(self):
		st, hdrs, body = fetch(self.base + "/api/jobs", TOKEN)
		self.assertEqual((st, hdrs["Content-Type"], hdrs["X-Total-Count"]), (200, "application/json", "5"))
		api = json.loads(body, object_pairs_hook=no_duplicates)
		rc, out, _ = run(["history", "--config", self.cfg, "--json"])
		hist = json.loads(out)
		self.assertEqual([j["job"] for j in api], [j["job"] for j in hist])
		self.assertEqual(api, hist)
		raw = fetch(self.base + "/api/jobs/%d" % self.reverted, TOKEN)[2]
		one = json.loads(raw, object_pairs_hook=no_duplicates)
		self.assertEqual({k: one[k] for k in hist[0]}, [j for j in hist if j["job"] == self.reverted][0])
		self.assertEqual([f["message"] for f in one["findings"]], [MSG + BREAK])
		self.assertEqual(one["probes"][-1]["verdict"], "ok")
		self.assertTrue(any(n["outcome"] == "reverted" and n["ok"] for n in one["notifications"]))
		repos = json.loads(fetch(self.base + "/api/repos", TOKEN)[2], object_pairs_hook=no_duplicates)
		rc, out, err = run(["status", "--config", self.cfg, "--json"])
		self.assertEqual(rc, 0, err)
		self.assertEqual(json.loads(out), repos)
		self.assertEqual(fetch(self.base + "/api/jobs/99999", TOKEN)[0], 404)

	def test_status_command(self):
		rc, out, err = run(["status", "--config", self.cfg])
		self.assertEqual(rc, 0, err)
		lines = out.splitlines()
		self.assertEqual(lines[0].split(), ["REPO", "STATE", "FIXES", "LAST", "OUTCOME", "QUEUE"])
		shop = lines[1].split()
		self.assertEqual((shop[0], shop[1], shop[2], shop[-1]), (REPO, "frozen", "3/5", "1"))
		self.assertIn("#%d" % self.reverted, lines[1])
		self.assertRegex(lines[2], r"frozen since .*: 1 reverts in a row \(max-reverts 1\) "
				 r"\(healhook unfreeze acme/shop-api\)")
		self.assertEqual(lines[3].split()[:3], [OTHER, "idle", "0/5"])
		rc, out, _ = run(["status", "--help"])
		self.assertEqual(rc, 0)
		self.assertIn("usage: healhook status", out)

	def test_listener_belongs_to_the_main_process_not_the_receiver(self):
		inode = listen_inode(self.status_port)
		self.assertIsNotNone(inode, "nothing listens on the status port")
		self.assertEqual(socket_owners(inode), [self.proc.pid])
		receivers = [pid for pid in children(self.proc.pid)]
		self.assertTrue(receivers, "no receiver process")
		for pid in receivers:
			env = open("/proc/%d/environ" % pid, "rb").read()
			self.assertNotIn(TOKEN.encode(), env)
		self.assertIn("status.listening", self.proc.output())
		self.assertNotIn(TOKEN, self.proc.output())


if __name__ == "__main__":
	unittest.main()


class StatusListenConfig(unittest.TestCase):
	"""status.listen can never share the webhook's port."""

	def serve(self, tmp, listen, status):
		cfg = os.path.join(tmp, "healhook.conf")
		with open(cfg, "w") as f:
			f.write("[state]\n\tdir = %s/state\n[status]\n\tlisten = %s\n" % (tmp, status))
		p = subprocess.run([H.BIN, "serve", "--config", cfg, "--listen", listen, "--insecure"],
				   env={"PATH": os.environ["PATH"]}, stdout=subprocess.PIPE,
				   stderr=subprocess.PIPE, timeout=30)
		return p.returncode, p.stderr.decode(errors="replace")

	def test_same_address_or_port_is_refused(self):
		with H.tmpdir("hh-status-") as tmp:
			port = H.free_port()
			rc, err = self.serve(tmp, "127.0.0.1:%d" % port, "127.0.0.1:%d" % port)
			self.assertEqual(rc, 2, err)
			self.assertIn("status.listen must not be the webhook's address", err)
			rc, err = self.serve(tmp, "0.0.0.0:%d" % port, "127.0.0.1:%d" % port)
			self.assertEqual(rc, 1, err)
			self.assertIn("status: cannot listen on 127.0.0.1:%d: Address already in use" % port, err)
