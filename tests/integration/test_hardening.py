"""Intake that a hostile client cannot stop, and a store that cannot silently disappear
(issue 17). Every attack here is bounded in time and in connections.

- header-phase slowloris (200 connections trickling a header from one address) while a second
  address delivers: every delivery answered 202 within 1 s, every slow connection closed within
  request-timeout of its connect (the per-address limit refuses most at once, the gate's
  deadline from accept closes the rest);
- the header-phase reserve: slow connections beyond max-connections - reserve make room (408)
  for a new one, even from the same address;
- request heads libmicrohttpd would have answered itself (in HTML, twice) get one JSON answer;
- the store file removed or replaced under a running serve: 503 + a logged error, /healthz
  503, no 2xx; after a restart every acknowledged delivery is there;
- a second serve on one state directory exits 2 naming the holder's pid;
- the receiver's environment is an allowlist (/proc/PID/environ).
"""
import json
import os
import re
import select
import shutil
import socket
import sqlite3
import subprocess
import threading
import time
import unittest

from lib import harness as H

OTHER = "127.0.0.2"  # a second loopback address: "another client" for the per-address limit


def one_response(tc, raw):
	"""Asserts raw is exactly one HTTP/1.1 response with a JSON body. Returns (status, body)."""
	head, sep, rest = raw.partition(b"\r\n\r\n")
	tc.assertEqual(sep, b"\r\n\r\n", raw[:300])
	lines = head.decode("latin-1").split("\r\n")
	m = re.match(r"^HTTP/1\.1 ([1-5][0-9][0-9]) ", lines[0])
	tc.assertTrue(m, raw[:300])
	hdrs = {}
	for l in lines[1:]:
		k, _, v = l.partition(":")
		tc.assertNotIn(k.lower(), hdrs, raw[:300])
		hdrs[k.lower()] = v.strip()
	tc.assertEqual(len(rest), int(hdrs["content-length"]), raw[:600])
	tc.assertTrue(hdrs.get("content-type", "").startswith("application/json"), raw[:300])
	return int(m.group(1)), json.loads(rest)


def read_all(s, timeout=10):
	s.settimeout(timeout)
	data = b""
	try:
		while True:
			d = s.recv(65536)
			if not d:
				break
			data += d
	except (ConnectionResetError, socket.timeout):
		pass
	return data


def exchange(port, data, source=None, timeout=10):
	s = socket.create_connection(("127.0.0.1", port), timeout=timeout,
				     source_address=(source, 0) if source else None)
	try:
		s.sendall(data)
		return read_all(s, timeout)
	finally:
		s.close()


def signed_push(n):
	"""A signed push delivery (202, stored as ignored) unique to n."""
	hdrs, body = H.read_fixture("push")
	body = body.rstrip()[:-1] + b',"hardening_probe":%d}' % n
	hdrs = H.replace_header(hdrs, "X-Gitea-Delivery", "hardening-%d-%d" % (os.getpid(), n))
	return H.resign(hdrs, body, H.FIXTURE_SECRET), body


def request(port, hdrs, body):
	return H._head("POST", "/hooks/gitea", "127.0.0.1", port, hdrs) + body


class Serve:
	def __init__(self, tmp, extra="", name="state"):
		self.tmp = tmp
		self.state = os.path.join(tmp, name)
		with open(os.path.join(tmp, "secret"), "w") as f:
			f.write(H.FIXTURE_SECRET + "\n")
		self.cfg = os.path.join(tmp, "healhook.conf")
		with open(self.cfg, "w") as f:
			f.write("[server]\n\tsecret-file = %s\n%s" % (os.path.join(tmp, "secret"), extra))
			f.write("[state]\n\tdir = %s\n[worker]\n\tparallel = 0\n" % self.state)
		self.proc = None
		self.n = 0

	def start(self, env=None):
		self.port = H.free_port()
		e = {"PATH": os.environ["PATH"]}
		e.update(env or {})
		self.log = os.path.join(self.tmp, "serve-%d.log" % self.port)
		self.proc = H.start_process([H.BIN, "serve", "--config", self.cfg, "--listen",
					     "127.0.0.1:%d" % self.port], env=e, log_path=self.log)
		H.wait_http("http://127.0.0.1:%d/healthz" % self.port, timeout=15, status=200)
		return self

	def stop(self):
		if self.proc:
			rc = self.proc.stop()
			self.proc = None
			return rc

	def deliver(self, source=None):
		"""One signed delivery: (status, answer, seconds)."""
		self.n += 1
		hdrs, body = signed_push(self.n)
		t0 = time.time()
		raw = exchange(self.port, request(self.port, hdrs, body), source=source)
		return raw, time.time() - t0

	def healthz(self):
		return H.get("http://127.0.0.1:%d/healthz" % self.port)

	def db(self, sql):
		con = sqlite3.connect(os.path.join(self.state, "healhook.db"), timeout=10)
		try:
			return con.execute(sql).fetchall()
		finally:
			con.close()


class Slowloris:
	"""n connections that send a partial request head, then one byte every `every` seconds,
	re-opened (after `reopen` s) when the server closes them, for `duration` seconds. Records
	(connect time, close time, bytes received) of every connection."""

	HEAD = b"POST /hooks/gitea HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "

	def __init__(self, port, n, duration, every=0.5, reopen=1.0, source="127.0.0.1"):
		self.port, self.n, self.duration, self.every = port, n, duration, every
		self.reopen, self.source = reopen, source
		self.done = []  # (opened, closed, received bytes)
		self.thread = threading.Thread(target=self.run, daemon=True)

	def open_one(self):
		s = socket.socket()
		s.setblocking(False)
		s.bind((self.source, 0))
		try:
			s.connect(("127.0.0.1", self.port))
		except BlockingIOError:
			pass
		return s

	def run(self):
		t_end = time.time() + self.duration
		live = {}  # socket -> [opened, received, sent head]
		waiting = [time.time()] * self.n  # when to (re)open a slot
		last_tick = 0
		while time.time() < t_end:
			now = time.time()
			for i, at in enumerate(waiting):
				if at is not None and at <= now:
					s = self.open_one()
					live[s] = [now, b"", False]
					waiting[i] = None
			r, w, _ = select.select(list(live), [s for s, v in live.items() if not v[2]], [],
						0.05)
			for s in w:
				try:
					s.send(self.HEAD)
					live[s][2] = True
				except (BlockingIOError, OSError):
					pass
			tick = time.time() - last_tick >= self.every
			if tick:
				last_tick = time.time()
			for s in list(live):
				gone = False
				if s in r:
					try:
						d = s.recv(4096)
						live[s][1] += d
						gone = not d
					except BlockingIOError:
						pass
					except OSError:
						gone = True
				elif tick and live[s][2]:
					try:
						s.send(b"a")
					except BlockingIOError:
						pass
					except OSError:
						gone = True
				if gone:
					opened, got, _ = live.pop(s)
					self.done.append((opened, time.time(), got))
					s.close()
					waiting[waiting.index(None)] = time.time() + self.reopen
		for s, (opened, got, _) in live.items():
			self.done.append((opened, None, got))  # still open at the end: a failure if old
			s.close()
		self.end = time.time()


class HeaderPhase(unittest.TestCase):
	def setUp(self):
		self._tmp = H.tmpdir("hh-hard-")
		self.tmp = self._tmp.__enter__()

	def tearDown(self):
		self.srv.stop()
		self._tmp.__exit__(None, None, None)

	def check_closed_in_time(self, attack, timeout):
		slack = 1.5  # the gate's timer and a contended CPU
		held = 0
		for opened, closed, got in attack.done:
			if closed is None:
				self.assertLess(attack.end - opened, timeout + slack, "a slow connection "
						"was still open %.1fs after its connect" % (attack.end - opened))
				continue
			self.assertLess(closed - opened, timeout + slack, (closed - opened, got[:200]))
			if got:
				st, ans = one_response(self, got)
				self.assertIn(st, (408, 503), ans)
			held += closed - opened > timeout - 0.5
		return held

	def test_slowloris_from_one_address_does_not_stop_intake(self):
		"""200 slow header-phase connections from 127.0.0.1; deliveries from 127.0.0.2 get their
		202 within 1 s throughout; each slow connection is closed within request-timeout."""
		self.srv = Serve(self.tmp, "\trequest-timeout = 2s\n").start()
		attack = Slowloris(self.srv.port, 200, duration=6.0)
		attack.thread.start()
		time.sleep(0.5)
		times = []
		while attack.thread.is_alive():
			raw, dt = self.srv.deliver(source=OTHER)
			st, ans = one_response(self, raw)
			self.assertEqual(st, 202, ans)
			times.append(dt)
			time.sleep(0.2)
		attack.thread.join()
		self.assertGreater(len(times), 10)
		self.assertLess(max(times), 1.0, times)
		held = self.check_closed_in_time(attack, 2.0)
		refused = sum(1 for _, _, got in attack.done if b" 503 " in got[:20])
		self.assertGreater(len(attack.done), 200)
		self.assertGreaterEqual(held, 16, "the per-address limit (a quarter of 64) held some")
		self.assertGreater(refused, 100, "the rest were refused at once")
		self.assertEqual(self.srv.healthz()[0], 200)

	def test_reserve_slow_heads_make_room(self):
		"""One address may take every slot (per-ip = max): slow heads still never take the
		last ones, a new connection closes the oldest slow head instead."""
		self.srv = Serve(self.tmp, "\tmax-connections = 8\n\tmax-connections-per-ip = 8\n"
				 "\trequest-timeout = 3s\n").start()
		attack = Slowloris(self.srv.port, 20, duration=5.0, reopen=0.3)
		attack.thread.start()
		time.sleep(0.8)
		times = []
		while attack.thread.is_alive():
			raw, dt = self.srv.deliver()  # from the attacker's own address
			st, ans = one_response(self, raw)
			self.assertEqual(st, 202, ans)
			times.append(dt)
			time.sleep(0.3)
		attack.thread.join()
		self.assertLess(max(times), 1.0, times)
		self.check_closed_in_time(attack, 3.0)
		made_room = [got for _, _, got in attack.done if b"make room" in got]
		self.assertTrue(made_room, "some slow heads were closed to make room")

	def test_body_phase_trickle_is_cut_at_the_deadline(self):
		"""After a complete head, a body trickled a byte at a time (which resets
		libmicrohttpd's idle timer) is cut at request-timeout from the connect."""
		self.srv = Serve(self.tmp, "\trequest-timeout = 2s\n").start()
		hdrs, body = signed_push(1)
		data = request(self.srv.port, hdrs, body)
		head = data[:len(data) - len(body)]
		s = socket.create_connection(("127.0.0.1", self.srv.port), timeout=10)
		t0 = time.time()
		s.sendall(head + body[:10])
		s.setblocking(False)
		closed = None
		for b in body[10:60]:
			try:
				if s.recv(4096) == b"":
					closed = time.time()
					break
			except BlockingIOError:
				pass
			except OSError:
				closed = time.time()
				break
			try:
				s.send(bytes([b]))
			except OSError:
				closed = time.time()
				break
			time.sleep(0.25)
		s.close()
		self.assertIsNotNone(closed, "still open after %.1fs" % (time.time() - t0))
		self.assertLess(closed - t0, 2.0 + 1.5)
		self.assertEqual(self.srv.db("SELECT count(*) FROM deliveries"), [(0,)])

	def test_heads_libmicrohttpd_would_answer_get_one_json_answer(self):
		self.srv = Serve(self.tmp).start()
		p = self.srv.port
		big = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70000 + b"\r\n\r\n"
		for raw, want in [
			(b"GARBAGE\r\n\r\n", 400),
			(b"GET /healthz HTTP/2.0\r\nHost: x\r\n\r\n", 505),
			(b"GET /healthz HTTP/1.1\r\nHost: x\r\nBadHeaderLine\r\n\r\n", 400),
			(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX A: b\r\n\r\n", 400),
			(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: b\r\n folded\r\n\r\n", 400),
			(b"GET /healthz HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", 400),
			(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\x01b\r\n\r\n", 400),
			(b"GET /hooks/gitea%00 HTTP/1.1\r\nHost: x\r\n\r\n", 400),
			(b"POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 411),
			(big, 431),
			(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /metrics HTTP/1.1\r\nHost: x\r\n\r\n",
			 200),  # pipelined: one answer, then closed
		]:
			with self.subTest(raw=raw[:60]):
				st, _ = one_response(self, exchange(p, raw))
				self.assertEqual(st, want)


class StoreIdentity(unittest.TestCase):
	def setUp(self):
		self._tmp = H.tmpdir("hh-hard-")
		self.tmp = self._tmp.__enter__()
		self.srv = Serve(self.tmp).start()

	def tearDown(self):
		self.srv.stop()
		self._tmp.__exit__(None, None, None)

	def acked(self, raw):
		st, ans = one_response(self, raw)
		return st, ans

	def run_case(self, damage, what):
		ok = []
		for _ in range(3):
			st, ans = self.acked(self.srv.deliver()[0])
			self.assertEqual(st, 202, ans)
			ok.append(ans["delivery"])
		damage(os.path.join(self.srv.state, "healhook.db"))
		after = []
		for _ in range(20):
			st, ans = self.acked(self.srv.deliver()[0])
			self.assertEqual(st, 503, ans)  # never a 2xx once the file is not the one opened
			self.assertIn("retry later", ans["error"])
			after.append(st)
		st, _, body = self.srv.healthz()
		self.assertEqual(st, 503, body)
		self.assertIn(what, json.loads(body)["error"])
		with open(self.srv.log, encoding="utf-8", errors="replace") as f:
			log = f.read()
		self.assertIn("event=store.lost", log)
		self.assertIn(what, log)
		self.srv.stop()
		return ok

	def test_removed(self):
		self.run_case(os.unlink, "was removed")
		self.srv.start()
		st, ans = self.acked(self.srv.deliver()[0])
		self.assertEqual(st, 202, ans)
		self.assertEqual(self.srv.db("PRAGMA integrity_check"), [("ok",)])
		# acknowledged after the restart: kept
		self.assertIn((ans["delivery"],), self.srv.db("SELECT id FROM deliveries"))

	def test_replaced(self):
		def replace(path):  # a copy renamed over it, as a restore from backup would
			con = sqlite3.connect(path)
			con.execute("VACUUM INTO ?", (path + ".copy",))
			con.close()
			os.rename(path + ".copy", path)
		ok = self.run_case(replace, "was replaced")
		self.srv.start()
		stored = {r[0] for r in self.srv.db("SELECT id FROM deliveries")}
		self.assertEqual(set(ok) - stored, set(), "acknowledged deliveries missing")
		self.assertEqual(len(stored), len(ok), "nothing refused was stored either")
		self.assertEqual(self.srv.healthz()[0], 200)


	def test_overwritten_in_place(self):
		def overwrite(path):  # same inode, other bytes: SQLite's cache and WAL would not see it
			with open(path, "r+b") as f:
				f.write(b"garbage!" * 512)
		self.run_case(overwrite, "was overwritten")


class OneServePerStateDir(unittest.TestCase):
	def test_second_serve_exits_2_naming_the_holder(self):
		with H.tmpdir("hh-hard-") as tmp:
			first = Serve(tmp).start()
			try:
				p = subprocess.run([H.BIN, "serve", "--config", first.cfg, "--listen",
						    "127.0.0.1:%d" % H.free_port()],
						   env={"PATH": os.environ["PATH"]}, stdout=subprocess.PIPE,
						   stderr=subprocess.PIPE, timeout=30)
				self.assertEqual(p.returncode, 2, p.stderr)
				self.assertIn(b"in use by serve pid %d" % first.proc.pid, p.stderr)
				self.assertEqual(first.healthz()[0], 200)
			finally:
				self.assertEqual(first.stop(), 0)
			# the lock went with the holder: a new serve starts
			Serve(tmp).start().stop()


class ReceiverEnvironment(unittest.TestCase):
	def test_allowlist(self):
		with H.tmpdir("hh-hard-") as tmp:
			srv = Serve(tmp)
			token = os.path.join(tmp, "token")
			with open(token, "w") as f:
				f.write("file-token-8\n")
			env = {"gitea_token": "lower-token-1", "Gitea_Token": "mixed-token-2",
			       "healhook_gitea_token": "lower-hh-3", "HEALHOOK_GITEA_TOKEN": "upper-hh-4",
			       "MY_APP_SECRET": "app-secret-5", "AWS_SECRET_ACCESS_KEY": "aws-6",
			       "DATABASE_URL": "postgres://u:pw-7@127.0.0.1/x", "HOME": "/root",
			       "DEPLOY_SSH_KEY_PATH_X": "k", "PATH_EXTRA": "x",
			       "HEALHOOK_GITEA_TOKEN_FILE": token,
			       "HEALHOOK_SERVER_MAX_BODY": "1m", "HEALHOOK_LOG_LEVEL": "info", "TZ": "UTC"}
			srv.start(env)
			try:
				kids = subprocess.run(["pgrep", "-P", str(srv.proc.pid)],
						      stdout=subprocess.PIPE).stdout.split()
				self.assertEqual(len(kids), 1)
				with open("/proc/%d/environ" % int(kids[0]), "rb") as f:
					names = dict(e.split(b"=", 1) for e in f.read().split(b"\0") if e)
				self.assertEqual(sorted(names), sorted([b"HEALHOOK_SERVER_MAX_BODY",
									b"HEALHOOK_LOG_LEVEL", b"TZ", b"HOME"]))
				with open("/proc/%d/environ" % srv.proc.pid, "rb") as f:
					self.assertIn(b"gitea_token=lower-token-1", f.read())
			finally:
				srv.stop()


if __name__ == "__main__":
	unittest.main()
