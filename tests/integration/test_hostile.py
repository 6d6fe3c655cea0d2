"""Hostile inputs (issue 6, item 4): every case of the corpus in tests/hostile/ (NAME.body +
NAME.headers, expectations in tests/hostile/expectations.json, written by
tests/hostile/make_corpus.py) is sent to `healhook serve` as raw bytes on 127.0.0.1, and its
answer, the findings' verdicts and — for the accepted ones — the jobs' end states are checked
against the expectations. The worker runs the accepted jobs for real (local transport, the
scripted fixer), so that "nothing of the hostile text executes" is checked where it could
happen: the marker files (expectations' marker, `pwned` anywhere in the host's work tree or a
scratch directory) must never appear, and every prompt the fixer received starts with the
fixed instruction, never with `/` or `!`.
"""
import json
import os
import socket
import sqlite3
import time
import unittest

from lib import harness as H
from test_aftercare import App, FILES

HOSTILE = os.path.join(H.ROOT, "tests", "hostile")
REPO = "acme/shop-api"


def load_corpus():
	with open(os.path.join(HOSTILE, "expectations.json"), encoding="utf-8") as f:
		return json.load(f)


def request_bytes(port, case):
	"""The raw request of a case: headers file (Content-Length recomputed or dropped), then
	its raw_headers, then the body (padded to `pad`, or chunked)."""
	with open(os.path.join(HOSTILE, case["name"] + ".headers"), encoding="utf-8") as f:
		hdrs = H.parse_headers(f.read())
	with open(os.path.join(HOSTILE, case["name"] + ".body"), "rb") as f:
		body = f.read()
	if case.get("pad"):
		body = body + b" " * (case["pad"] - len(body))
	chunked = case.get("transfer") == "chunked" or case["name"] == "chunked_small"
	hdrs = [(k, v) for k, v in hdrs if k.lower() != "content-length"]
	head = ["POST /hooks/gitea HTTP/1.1"]
	if not case.get("no_host"):
		head.append("Host: 127.0.0.1:%d" % port)
	head += ["%s: %s" % kv for kv in hdrs]
	head += case.get("raw_headers", [])
	if chunked:
		head.append("Transfer-Encoding: chunked")
	elif "content_length" in case:
		head.append("Content-Length: " + case["content_length"].format(n=len(body), x=len(body)))
	else:
		head.append("Content-Length: %d" % len(body))
	data = ("\r\n".join(head) + "\r\n\r\n").encode("utf-8")
	if chunked:
		pieces = [data]
		for i in range(0, len(body), 1 << 16):
			part = body[i:i + (1 << 16)]
			pieces.append(b"%x\r\n" % len(part) + part + b"\r\n")
		pieces.append(b"0\r\n\r\n")
		return pieces
	if len(body) > (1 << 20):
		return [data, body]
	return [data + body]


def exchange(port, pieces, timeout=30):
	"""Sends the pieces, then reads until the server closes (every answer says Connection:
	close). Returns the raw bytes of the answer (b"" when dropped without one)."""
	s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
	data = b""
	try:
		try:
			for piece in pieces:
				s.sendall(piece)
		except (BrokenPipeError, ConnectionResetError):
			pass
		deadline = time.time() + timeout
		while time.time() < deadline:
			try:
				d = s.recv(65536)
			except ConnectionResetError:
				break
			if not d:
				break
			data += d
	finally:
		s.close()
	return data


def parse_one_response(tc, raw):
	"""Asserts raw is exactly one well-formed HTTP/1.1 response (status line, headers, a body
	of exactly Content-Length bytes, nothing after). Returns (status, headers dict, body)."""
	head, sep, rest = raw.partition(b"\r\n\r\n")
	tc.assertEqual(sep, b"\r\n\r\n", raw[:300])
	lines = head.decode("latin-1").split("\r\n")
	tc.assertRegex(lines[0], r"^HTTP/1\.1 [1-5][0-9][0-9] ", raw[:300])
	hdrs = {}
	for l in lines[1:]:
		k, _, v = l.partition(":")
		tc.assertNotIn(k.lower(), hdrs, "header %s twice: %r" % (k, raw[:300]))
		hdrs[k.lower()] = v.strip()
	tc.assertIn("content-length", hdrs, raw[:300])
	tc.assertEqual(len(rest), int(hdrs["content-length"]), "one response, nothing after: %r"
		       % raw[:600])
	return int(lines[0].split()[1]), hdrs, rest


class Hostile(unittest.TestCase):
	@classmethod
	def setUpClass(cls):
		cls.corpus = load_corpus()
		cls.marker = cls.corpus["marker"]
		cls._tmp = H.tmpdir("hh-hostile-")
		cls.tmp = cls._tmp.__enter__()
		os.chmod(cls.tmp, 0o755)
		files = dict(FILES)
		files["README.md"] = "# shop\n"
		files["services/misc_service.py"] = FILES["services/order_service.py"]
		cls.repos = H.make_origin_and_worktree(cls.tmp, files)
		cls.origin, cls.host, cls.base = cls.repos
		os.symlink("/etc/hostname", os.path.join(cls.host, "services", "link_service.py"))
		cls.base = H.commit_files(cls.host, {}, "a symlinked service")
		cls.app = App(cls.origin).start()
		cls.state = os.path.join(cls.tmp, "state")
		cls.rec = os.path.join(cls.tmp, "rec")
		os.makedirs(cls.rec)
		with open(os.path.join(cls.tmp, "secret"), "w") as f:
			f.write(cls.corpus["secret"] + "\n")
		cls.cfg = os.path.join(cls.tmp, "healhook.conf")
		with open(cls.cfg, "w") as f:
			f.write("[server]\n\tsecret-file = %s\n" % os.path.join(cls.tmp, "secret"))
			f.write("[state]\n\tdir = %s\n" % cls.state)
			f.write("[worker]\n\tparallel = 1\n")
			f.write("[gitea]\n\tuser = healhook-bot\n")
			f.write("[fixer]\n\tcommand = %s --model {model} --message-file {prompt} "
				"--yes-always --no-git --chat-history-file %s {file}\n"
				% (H.FAKE_AIDER, os.path.join(cls.rec, "chat.md")))
			f.write('[repo "%s"]\n' % REPO)
			for k, v in {"host": cls.host, "reviewers": "bob", "target": "default-branch",
				     "health-url": cls.app.health_url, "health-delay": 0,
				     "health-interval": 1, "health-failures": 2,
				     "max-fixes-per-hour": 100}.items():
				f.write("\t%s = %s\n" % (k, v))
		if os.path.exists(cls.marker):
			os.unlink(cls.marker)
		cls.port = H.free_port()
		cls.url = "http://127.0.0.1:%d" % cls.port
		cls.proc = H.start_process([H.BIN, "serve", "--config", cls.cfg, "--listen",
					    "127.0.0.1:%d" % cls.port],
					   env={"PATH": os.environ["PATH"]}, cwd=cls.tmp,
					   log_path=os.path.join(cls.tmp, "serve.log"))
		H.wait_http(cls.url + "/healthz", timeout=10)
		cls.answers = {}
		cls.jobs_of = {}

	@classmethod
	def tearDownClass(cls):
		cls.proc.stop()
		cls.app.stop()
		cls._tmp.__exit__(None, None, None)

	def send(self, case):
		raw = exchange(self.port, request_bytes(self.port, case))
		if not raw:
			return None, None, b""
		st, hd, body = parse_one_response(self, raw)
		return st, {"Content-Type": hd.get("content-type")}, body

	def db(self, sql, args=()):
		con = sqlite3.connect(os.path.join(self.state, "healhook.db"), timeout=10)
		try:
			return con.execute(sql, args).fetchall()
		finally:
			con.close()

	def test_1_corpus(self):
		"""Each case's answer, verdicts and the jobs it creates."""
		for case in self.corpus["cases"]:
			with self.subTest(case=case["name"]):
				self.check_case(case)
		st, _, _ = H.get(self.url + "/healthz")
		self.assertEqual(st, 200, "serve is still up")
		self.assertTrue(self.proc.alive())

	def check_case(self, case):
		st, hd, body = self.send(case)
		want = case["status"]
		want = want if isinstance(want, list) else [want]
		self.assertIn(st, want, "%s: %r" % (case["name"], body[:300]))
		if st is None:
			return
		text = body.decode("utf-8")  # the answer is always valid UTF-8 ...
		json_answer = (hd.get("Content-Type") or "").startswith("application/json")
		self.assertTrue(json_answer, (st, hd.get("Content-Type")))  # every answer, errors too
		ans = json.loads(text)  # ... and JSON
		if case.get("error"):
			self.assertIn(case["error"], ans.get("error", ""), ans)
		if st >= 400:  # nothing queued for a refused request
			self.assertEqual(self.db("SELECT count(*) FROM deliveries WHERE id = ?",
						 (self.case_id(case),))[0][0], 0, case["name"])
		if st != 202:
			return
		self.answers[case["name"]] = ans
		jobs = {j: f for j, f in self.db("SELECT id, file FROM jobs")}
		accepted = sorted(jobs[j] for j in ans.get("accepted", []))
		self.jobs_of[case["name"]] = {jobs[j]: j for j in ans.get("accepted", [])}
		if "accepted" in case:
			self.assertEqual(accepted, sorted(case["accepted"]), ans)
		if "rejected" in case:
			got = sorted([r["file"], r["reason"]] for r in ans.get("rejected", []))
			self.assertEqual(got, sorted(case["rejected"]), ans)
		for bad in case.get("no_file_with", []):
			for r in ans.get("rejected", []):
				self.assertNotIn(bad, r["file"], ans)
			for f in accepted:
				self.assertNotIn(bad, f)
		if case.get("max_message"):
			for j in ans["accepted"]:
				(m,) = self.db("SELECT message FROM jobs WHERE id = ?", (j,))[0]
				self.assertLessEqual(len(m.encode()), case["max_message"])
				self.assertTrue(m.startswith("A" * 1000))

	def case_id(self, case):
		with open(os.path.join(HOSTILE, case["name"] + ".headers"), encoding="utf-8") as f:
			return H.header(H.parse_headers(f.read()), "X-Gitea-Delivery") or "-"

	def test_2_jobs_end_as_expected_nothing_executed(self):
		"""The accepted hostile findings run through the fixer; none of their text executes."""
		if not self.answers:
			self.test_1_corpus()
		want = {}
		for case in self.corpus["cases"]:
			for f, (state, reason) in case.get("jobs", {}).items():
				want[f] = (self.jobs_of[case["name"]][f], state, reason)
		final = ("healed", "failed", "reverted", "revert-failed", "expired")

		def settled():
			rows = self.db("SELECT id, file, state, reason FROM jobs")
			return rows if rows and all(r[2] in final for r in rows) else None
		rows = H.wait_for(settled, timeout=90, interval=0.2, what="every job settled")
		got = {j: (s, r) for j, f, s, r in rows}
		for f, (j, state, reason) in want.items():
			self.assertEqual(got[j][0], state, "%s: %s" % (f, rows))
			if reason:
				self.assertEqual(got[j][1], reason, rows)
		want = {f: (s, r) for f, (j, s, r) in want.items()}
		# nothing executed
		self.assertFalse(os.path.exists(self.marker), "hostile text was executed")
		for root in (self.host, self.tmp, "/tmp"):
			for dirpath, dirs, names in os.walk(root):
				dirs[:] = [d for d in dirs if d != ".git"] if root != "/tmp" else \
					[d for d in dirs if d.startswith("healhook-")]
				self.assertNotIn("pwned", names, dirpath)
		self.assertEqual(H.git(self.host, "status", "--porcelain"), "")
		# the fixer got every prompt from a file, starting with the fixed instruction
		with open(os.path.join(self.rec, "chat.md"), encoding="utf-8") as f:
			chats = f.read().split("# aider chat started at")[1:]
		healed = sum(1 for s, _ in want.values() if s == "healed")
		self.assertGreaterEqual(len(chats), healed)
		for c in chats:
			first = [l for l in c.splitlines() if l.startswith("#### ")][0][5:]
			self.assertTrue(first.startswith("Fix the following"), first)
			self.assertNotIn("--message ", c.split("\n\n")[1], "the prompt went on argv")
		# origin got exactly one fix per healed file
		subjects = H.git(self.origin, "log", "--format=%s", "main").splitlines()
		for f, (state, _) in want.items():
			n = sum(1 for s in subjects if s.startswith("fix(autoheal):") and s.endswith(" " + f))
			self.assertEqual(n, 1 if state == "healed" else 0, (f, subjects))

	def test_3_replay_of_the_corpus_agrees(self):
		"""`healhook replay --dry-run` reads the same files and never crashes on them."""
		import subprocess
		names = [c["name"] for c in self.corpus["cases"] if not c.get("pad")
			 and not c.get("raw_headers") and c["name"] != "chunked_small"
			 and "content_length" not in c and not c.get("no_host")]
		for n in names:
			p = subprocess.run([H.BIN, "replay", "--config", self.cfg, "--dry-run", "--no-heal",
					    "--json", os.path.join(HOSTILE, n + ".body")],
					   env={"PATH": os.environ["PATH"]}, stdout=subprocess.PIPE,
					   stderr=subprocess.PIPE, timeout=60)
			self.assertIn(p.returncode, (0, 1), "%s: %s" % (n, p.stderr.decode(errors="replace")))
			self.assertLess(p.returncode, 128, n)
		self.assertFalse(os.path.exists(self.marker))


if __name__ == "__main__":
	unittest.main()
