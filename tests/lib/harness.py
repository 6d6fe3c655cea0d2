"""Helpers shared by the integration tests: temp dirs, ports, signed deliveries, HTTP clients
(polite, chunked and slow), child processes with logs, and throw-away git repositories.

Everything talks to 127.0.0.1 only. Paths:
  ROOT            env HEALHOOK_ROOT, else the project root (two levels above this file)
  BIN             env HEALHOOK_BIN, else ROOT/build/healhook
  FIXTURES        ROOT/fixtures/gitea (the project's own deliveries, see fixtures/README.md)
  SHARED_SAMPLES  ROOT/../shared/gitea-samples (reference samples; may not exist)
  FAKE_AIDER      ROOT/tests/lib/fake-aider
"""
import contextlib
import hashlib
import hmac
import http.client
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse

ROOT = os.environ.get("HEALHOOK_ROOT") or os.path.dirname(
	os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("HEALHOOK_BIN") or os.path.join(ROOT, "build", "healhook")
FIXTURES = os.path.join(ROOT, "fixtures", "gitea")
FIXTURE_API = os.path.join(FIXTURES, "api")
SHARED_SAMPLES = os.path.normpath(os.path.join(ROOT, "..", "shared", "gitea-samples"))
FAKE_AIDER = os.path.join(ROOT, "tests", "lib", "fake-aider")
FIXTURE_SECRET = "fixture-secret-7f3a"
SAMPLE_SECRET = "sample-secret-2b9c"

_mf = None


def make_fixtures():
	"""The fixtures/make_fixtures.py module (its builders make deliveries with custom values)."""
	global _mf
	if _mf is None:
		path = os.path.join(ROOT, "fixtures", "make_fixtures.py")
		spec = importlib.util.spec_from_file_location("make_fixtures", path)
		_mf = importlib.util.module_from_spec(spec)
		spec.loader.exec_module(_mf)
	return _mf


@contextlib.contextmanager
def tmpdir(prefix="hh-"):
	"""A fresh directory, removed afterwards unless HEALHOOK_KEEP_TMP=1."""
	d = tempfile.mkdtemp(prefix=prefix)
	try:
		yield d
	finally:
		if os.environ.get("HEALHOOK_KEEP_TMP") == "1":
			print("kept %s" % d)
		else:
			shutil.rmtree(d, ignore_errors=True)


def free_port():
	"""A TCP port on 127.0.0.1 that was free a moment ago."""
	with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
		s.bind(("127.0.0.1", 0))
		return s.getsockname()[1]


def sign(secret, body):
	"""The signature headers Gitea would send for body (bytes), as an ordered dict."""
	key = secret.encode() if isinstance(secret, str) else secret
	s256 = hmac.new(key, body, hashlib.sha256).hexdigest()
	s1 = hmac.new(key, body, hashlib.sha1).hexdigest()
	return {
		"X-Gitea-Signature": s256,
		"X-Gogs-Signature": s256,
		"X-Hub-Signature": "sha1=" + s1,
		"X-Hub-Signature-256": "sha256=" + s256,
	}


def parse_headers(text):
	"""'Name: value' lines → list of (name, value) in order."""
	out = []
	for line in text.splitlines():
		if not line.strip():
			continue
		name, _, value = line.partition(":")
		out.append((name.strip(), value.strip()))
	return out


def _read_pair(directory, name):
	base = name if os.path.isabs(name) else os.path.join(directory, name)
	for ext in (".json", ".body"):
		if base.endswith(ext):
			base = base[:-len(ext)]
	for ext in (".json", ".body"):
		if os.path.exists(base + ext):
			with open(base + ext, "rb") as f:
				body = f.read()
			break
	else:
		raise FileNotFoundError("no fixture body %s.json or .body" % base)
	with open(base + ".headers", encoding="utf-8") as f:
		hdrs = parse_headers(f.read())
	return hdrs, body


def read_fixture(name):
	"""(headers list, body bytes) of fixtures/gitea/NAME (.json or .body); name may be a path."""
	return _read_pair(FIXTURES, name)


def read_sample(name):
	"""(headers list, body bytes) of a shared Gitea sample (raises if the samples are absent)."""
	return _read_pair(SHARED_SAMPLES, name)


def read_api_fixture(name):
	with open(os.path.join(FIXTURE_API, name), "rb") as f:
		return f.read()


def header(hdrs, name):
	"""The first value of name (case-insensitive) in a header list, or None."""
	for k, v in hdrs:
		if k.lower() == name.lower():
			return v
	return None


def replace_header(hdrs, name, value):
	"""A copy of hdrs with every `name` header set to value (appended if absent; None drops)."""
	out, seen = [], False
	for k, v in hdrs:
		if k.lower() == name.lower():
			if value is not None and not seen:
				out.append((k, value))
			seen = True
		else:
			out.append((k, v))
	if not seen and value is not None:
		out.append((name, value))
	return out


def resign(hdrs, body, secret, form=None):
	"""hdrs with Content-Length and the four signatures recomputed for body and secret.
	For a form body the signatures are over the decoded payload, as Gitea does."""
	if form is None:
		form = (header(hdrs, "Content-Type") or "").startswith("application/x-www-form")
	signed = body
	if form:
		signed = urllib.parse.unquote_to_bytes(body[len(b"payload="):].replace(b"+", b" "))
	out = replace_header(hdrs, "Content-Length", str(len(body)))
	for k, v in sign(secret, signed).items():
		out = replace_header(out, k, v)
	return out


def _split_url(url):
	u = urllib.parse.urlsplit(url)
	path = u.path or "/"
	if u.query:
		path += "?" + u.query
	return u.hostname, u.port or 80, path


def _hdr_items(headers):
	if headers is None:
		return []
	if isinstance(headers, dict):
		return list(headers.items())
	return list(headers)


def post(url, body, headers=None, timeout=10, method="POST"):
	"""Sends body with exactly these headers (plus Host, and Content-Length if absent).
	Returns (status, headers (an http.client.HTTPMessage), body bytes)."""
	host, port, path = _split_url(url)
	items = _hdr_items(headers)
	conn = http.client.HTTPConnection(host, port, timeout=timeout)
	try:
		conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
		names = {k.lower() for k, _ in items}
		if "host" not in names:
			conn.putheader("Host", "%s:%d" % (host, port))
		if "content-length" not in names and body is not None:
			conn.putheader("Content-Length", str(len(body)))
		for k, v in items:
			conn.putheader(k, v)
		conn.endheaders(body if body else None)
		r = conn.getresponse()
		data = r.read()
		return r.status, r.headers, data
	finally:
		conn.close()


def get(url, headers=None, timeout=10):
	return post(url, None, headers, timeout, method="GET")


def post_fixture(url, name, timeout=10, **replace):
	"""Posts fixtures/gitea/NAME as Gitea would; replace= overrides headers by name (use _ for -)."""
	hdrs, body = read_fixture(name)
	for k, v in replace.items():
		hdrs = replace_header(hdrs, k.replace("_", "-"), v)
	return post(url, body, hdrs, timeout)


class _SockFile:
	def __init__(self, sock):
		self.sock = sock

	def makefile(self, mode, *a, **kw):
		return self.sock.makefile(mode)


def send_raw(url, data, timeout=10, pieces=None, delay=0.0):
	"""Writes raw request bytes to the server of url, optionally split into `pieces`
	(a list of bytes) with `delay` seconds between them; then reads the answer.
	Returns (status, headers, body), or (None, None, b"") when the server closed the
	connection without an answer."""
	host, port, _ = _split_url(url)
	s = socket.create_connection((host, port), timeout=timeout)
	try:
		try:
			for i, piece in enumerate(pieces if pieces is not None else [data]):
				if i and delay:
					time.sleep(delay)
				s.sendall(piece)
		except (BrokenPipeError, ConnectionResetError):
			pass
		r = http.client.HTTPResponse(s)
		try:
			r.begin()
		except (http.client.RemoteDisconnected, ConnectionResetError, http.client.BadStatusLine):
			return None, None, b""
		return r.status, r.headers, r.read()
	finally:
		s.close()


def _head(method, path, host, port, headers):
	lines = ["%s %s HTTP/1.1" % (method, path), "Host: %s:%d" % (host, port)]
	lines += ["%s: %s" % kv for kv in _hdr_items(headers) if kv[0].lower() != "host"]
	return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def post_chunked(url, body, headers=None, chunk=1024, timeout=10, delay=0.0):
	"""POST with Transfer-Encoding: chunked (any Content-Length header is dropped)."""
	host, port, path = _split_url(url)
	hdrs = [kv for kv in _hdr_items(headers) if kv[0].lower() != "content-length"]
	hdrs.append(("Transfer-Encoding", "chunked"))
	pieces = [_head("POST", path, host, port, hdrs)]
	for i in range(0, len(body), chunk):
		part = body[i:i + chunk]
		pieces.append(b"%x\r\n" % len(part) + part + b"\r\n")
	pieces.append(b"0\r\n\r\n")
	return send_raw(url, None, timeout, pieces, delay)


def post_slow(url, body, headers=None, piece=64, delay=0.2, timeout=30, stop_after=None):
	"""POST that trickles the request, `piece` bytes every `delay` seconds (a slow client).
	stop_after: send only that many bytes of the body, then wait for the answer."""
	host, port, path = _split_url(url)
	items = _hdr_items(headers)
	if not any(k.lower() == "content-length" for k, _ in items):
		items.append(("Content-Length", str(len(body))))
	data = _head("POST", path, host, port, items) + (body if stop_after is None
							  else body[:stop_after])
	pieces = [data[i:i + piece] for i in range(0, len(data), piece)]
	return send_raw(url, None, timeout, pieces, delay)


class Process:
	"""A child process whose stdout+stderr go to a log file. stop() terminates, then kills."""

	def __init__(self, argv, env=None, cwd=None, log_path=None, stdin=subprocess.DEVNULL):
		self.argv = list(argv)
		if log_path is None:
			fd, log_path = tempfile.mkstemp(prefix="hh-proc-", suffix=".log")
			os.close(fd)
		self.log_path = log_path
		self._log = open(log_path, "ab")
		self.p = subprocess.Popen(self.argv, env=env, cwd=cwd, stdin=stdin, stdout=self._log,
					  stderr=subprocess.STDOUT, start_new_session=True)
		self.pid = self.p.pid

	def output(self):
		with open(self.log_path, "rb") as f:
			return f.read().decode("utf-8", "replace")

	def alive(self):
		return self.p.poll() is None

	def wait(self, timeout=None):
		return self.p.wait(timeout)

	def signal(self, sig):
		if self.alive():
			self.p.send_signal(sig)

	def stop(self, grace=5.0):
		"""SIGTERM, then SIGKILL after grace seconds. Also kills what is left of the child's
		own process group (it was started in a new session). Returns the exit status."""
		if self.alive():
			self.p.terminate()
			try:
				self.p.wait(grace)
			except subprocess.TimeoutExpired:
				self.p.kill()
				self.p.wait()
		try:
			os.killpg(self.pid, signal.SIGKILL)
		except (ProcessLookupError, PermissionError):
			pass
		self._log.close()
		return self.p.returncode

	def __enter__(self):
		return self

	def __exit__(self, *exc):
		self.stop()


def start_process(argv, env=None, cwd=None, log_path=None):
	return Process(argv, env=env, cwd=cwd, log_path=log_path)


def wait_http(url, timeout=10.0, status=None):
	"""Polls url (GET) until it answers (with `status`, if given). Returns the status."""
	deadline = time.time() + timeout
	last = None
	while time.time() < deadline:
		try:
			st, _, _ = get(url, timeout=1)
			if status is None or st == status:
				return st
			last = "status %d" % st
		except OSError as e:
			last = str(e)
		time.sleep(0.05)
	raise TimeoutError("%s did not answer within %.1fs (%s)" % (url, timeout, last))


def wait_for(pred, timeout=10.0, interval=0.05, what="condition"):
	"""Polls pred() until it returns a true value, which is returned."""
	deadline = time.time() + timeout
	while True:
		v = pred()
		if v:
			return v
		if time.time() >= deadline:
			raise TimeoutError("%s not met within %.1fs" % (what, timeout))
		time.sleep(interval)


def read_request_body(handler, limit=16 << 20):
	"""The body of a BaseHTTPRequestHandler request (Content-Length or chunked)."""
	if (handler.headers.get("Transfer-Encoding") or "").lower() == "chunked":
		out = b""
		while True:
			size = int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16)
			if size == 0:
				while handler.rfile.readline() not in (b"\r\n", b"\n", b""):
					pass
				return out
			out += handler.rfile.read(size)
			handler.rfile.readline()
			if len(out) > limit:
				raise ValueError("body too large")
	n = int(handler.headers.get("Content-Length") or 0)
	return handler.rfile.read(n) if n else b""


# ---- git ------------------------------------------------------------------------------------

GIT_ENV = {
	"GIT_AUTHOR_NAME": "Test Author", "GIT_AUTHOR_EMAIL": "author@acme.test",
	"GIT_COMMITTER_NAME": "Test Committer", "GIT_COMMITTER_EMAIL": "committer@acme.test",
	"GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0",
}


def git(directory, *args, check=True, env=None):
	"""Runs git -C directory args...; returns stdout stripped. Raises on failure when check."""
	e = dict(os.environ)
	e.update(GIT_ENV)
	if env:
		e.update(env)
	argv = ["git", "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false",
		"-c", "protocol.file.allow=always", "-C", directory] + list(args)
	p = subprocess.run(argv, env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
	if check and p.returncode != 0:
		raise RuntimeError("git %s failed (%d): %s" % (" ".join(args), p.returncode,
							 p.stderr.decode(errors="replace")))
	return p.stdout.decode(errors="replace").strip()


def write_files(root, files):
	"""Writes {relative path: str or bytes} under root, creating directories."""
	for rel, content in files.items():
		path = os.path.join(root, rel)
		os.makedirs(os.path.dirname(path), exist_ok=True)
		with open(path, "wb") as f:
			f.write(content.encode() if isinstance(content, str) else content)


class Repos(tuple):
	"""(origin, worktree, head): a bare origin and the host work tree cloned from it."""
	origin = property(lambda self: self[0])
	worktree = property(lambda self: self[1])
	head = property(lambda self: self[2])


def make_origin_and_worktree(tmp, files, name="shop-api"):
	"""Creates tmp/NAME.git (bare, branch main, HEAD -> main) and tmp/NAME-host (a clone with
	files committed and pushed). Returns Repos(origin, worktree, head sha)."""
	origin = os.path.join(tmp, name + ".git")
	work = os.path.join(tmp, name + "-host")
	os.makedirs(origin)
	git(origin, "init", "-q", "--bare", "-b", "main")
	git(tmp, "clone", "-q", origin, work)
	git(work, "checkout", "-q", "-B", "main")
	write_files(work, files)
	git(work, "add", "-A")
	git(work, "commit", "-q", "-m", "initial")
	git(work, "push", "-q", "origin", "main")
	git(work, "branch", "-q", "--set-upstream-to=origin/main", "main")
	return Repos((origin, work, git(work, "rev-parse", "HEAD")))


def commit_files(worktree, files, message="change", push=True, branch=None):
	"""Writes files into worktree, commits, pushes (to origin `branch`, default current).
	Returns the new HEAD sha."""
	write_files(worktree, files)
	git(worktree, "add", "-A")
	git(worktree, "commit", "-q", "-m", message)
	if push:
		git(worktree, "push", "-q", "origin", "HEAD:" + (branch or git(
			worktree, "rev-parse", "--abbrev-ref", "HEAD")))
	return git(worktree, "rev-parse", "HEAD")


def rev(repo, ref="HEAD"):
	return git(repo, "rev-parse", ref)


def show(repo, ref, path):
	"""The content of path at ref (works in bare repositories)."""
	return git(repo, "show", "%s:%s" % (ref, path))


# ---- the store's back end (SQLite in the state directory, or PostgreSQL) ----

def _pg_db_name(state):
	return "hh_" + hashlib.sha1(os.path.abspath(state).encode()).hexdigest()[:20]


def state_config(state, database=None, db_name=None, pg=None):
	"""The [state] section for a state directory. With HEALHOOK_TEST_DB=postgresql (or
	database="postgresql") it also names a fresh database of the shared PostgreSQL server (or
	of pg), one per state directory unless db_name names one that several instances share,
	with its password file."""
	from lib import postgres
	text = "[state]\n\tdir = %s\n" % state
	if (database or postgres.backend()) == "postgresql":
		pg = pg or postgres.shared()
		text += "\tdatabase = %s\n\tdatabase-password-file = %s\n" % (
			pg.create_db(db_name or _pg_db_name(state)), pg.password_file)
	return text


def db_query(state, sql, params=(), database=None, db_name=None, pg=None):
	"""Rows of sql (with ? parameters) on the store of a state directory, on either back end."""
	from lib import postgres
	if (database or postgres.backend()) == "postgresql":
		pg = pg or postgres.shared()
		return pg.query(db_name or _pg_db_name(state), sql, params)
	import sqlite3
	db = sqlite3.connect(os.path.join(state, "healhook.db"), timeout=10)
	try:
		rows = db.execute(sql, params).fetchall()
		db.commit()
		return rows
	finally:
		db.close()
