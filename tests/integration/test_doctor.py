"""healhook doctor against real local servers: an sshd (tests/lib/sshd.py) in front of a host
work tree cloned from a bare origin, fake-aider as the fixer, a health server, GiteaMock
(GET /api/v1/user), TelegramMock (getMe) and a tiny Ollama stand-in (GET /api/tags), all on
127.0.0.1. Everything right gives exit 0 and only ✓ lines; then one thing is broken at a time
and must be reported with its ✗ (and a fix) and exit 1. Secrets never appear in the output.
One sshd and one set of servers per class."""
import json
import shutil
import tempfile
import os
import re
import subprocess
import sys
import threading
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from lib import harness as h  # noqa: E402
from lib.gitea_mock import GiteaMock  # noqa: E402
from lib.health_server import HealthServer  # noqa: E402
from lib.sshd import Sshd, keygen  # noqa: E402
from lib.telegram_mock import TelegramMock  # noqa: E402

GITEA_TOKEN = "gitea-secret-token-5e1d"
TG_TOKEN = "424242:TG-secret-token-9a7c"
MODEL = "qwen2.5-coder:7b"
LINE = re.compile(r"^(✓|✗|!|-) (\S+) +(\S+(?: \S+)*)  +(.*)$")


class OllamaMock:
	"""GET /api/tags → {"models": [{"name": ...}]} for the given model names."""

	def __init__(self, models):
		self.models = list(models)

	def start(self):
		mock = self

		class Handler(BaseHTTPRequestHandler):
			def log_message(self, *a):
				pass

			def do_GET(self):
				if self.path != "/api/tags":
					self.send_response(404)
					self.send_header("Content-Length", "0")
					self.end_headers()
					return
				body = json.dumps({"models": [{"name": m, "model": m} for m in mock.models]})
				body = body.encode()
				self.send_response(200)
				self.send_header("Content-Type", "application/json")
				self.send_header("Content-Length", str(len(body)))
				self.end_headers()
				self.wfile.write(body)

		self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
		self.server.daemon_threads = True
		self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
		threading.Thread(target=self.server.serve_forever, daemon=True).start()
		return self

	def stop(self):
		self.server.shutdown()
		self.server.server_close()


def parse(out):
	"""stdout → list of (mark, scope, name, detail) for the check lines."""
	rows = []
	for line in out.splitlines():
		m = LINE.match(line)
		if m:
			rows.append(m.groups())
	return rows


def closed_port():
	return h.free_port()


class DoctorBase(unittest.TestCase):
	"""Servers shared by a class; subclasses set up the repository's host."""

	@classmethod
	def start_servers(cls):
		cls.tmp = tempfile.mkdtemp(prefix="hh-doctor-")
		cls.health = HealthServer(status="ok").start()
		cls.gitea = GiteaMock(token=GITEA_TOKEN, user="healhook-bot").start()
		cls.telegram = TelegramMock(token=TG_TOKEN).start()
		cls.ollama = OllamaMock([MODEL, "llama3:latest"]).start()
		cls.gitea_token_file = os.path.join(cls.tmp, "gitea-token")
		cls.tg_token_file = os.path.join(cls.tmp, "tg-token")
		with open(cls.gitea_token_file, "w") as f:
			f.write(GITEA_TOKEN + "\n")
		with open(cls.tg_token_file, "w") as f:
			f.write(TG_TOKEN + "\n")
		cls.repos = h.make_origin_and_worktree(cls.tmp, {"services/order_service.py": "x = 1\n"})

	@classmethod
	def stop_servers(cls):
		for s in ("health", "gitea", "telegram", "ollama"):
			obj = getattr(cls, s, None)
			if obj:
				obj.stop()
		shutil.rmtree(cls.tmp, ignore_errors=True)

	def repo_keys(self):
		raise NotImplementedError

	def config(self, repo=None, **glob):
		"""Writes a config: every value right, with repo= / glob= overrides (None drops a key)."""
		g = {
			"gitea.url": self.gitea.url,
			"gitea.token-file": self.gitea_token_file,
			"gitea.user": "healhook-bot",
			"fixer.command": "%s --model {model} --message-file {prompt} --yes-always {file}"
			% h.FAKE_AIDER,
			"fixer.ollama": self.ollama.url,
			"notify.telegram-token-file": self.tg_token_file,
			"notify.telegram-api": self.telegram.url,
			"notify.telegram-chat": "42",
		}
		g.update({k.replace("__", ".").replace("_", "-"): v for k, v in glob.items()})
		r = self.repo_keys()
		r.update({"branch": "main", "health-url": self.health.health_url, "reviewers": "bob"})
		r.update(repo or {})
		sections = {}
		for k, v in g.items():
			if v is None:
				continue
			sec, key = k.split(".", 1)
			sections.setdefault(sec, []).append((key, v))
		text = "[state]\n\tdir = %s\n" % os.path.join(self.tmp, "state")
		for sec, kvs in sections.items():
			text += "[%s]\n" % sec
			for k, v in kvs:
				for one in (v if isinstance(v, list) else [v]):
					text += '\t%s = "%s"\n' % (k, one.replace("\\", "\\\\").replace('"', '\\"'))
		text += '[repo "acme/shop-api"]\n'
		for k, v in r.items():
			if v is not None:
				text += '\t%s = "%s"\n' % (k, v)
		path = os.path.join(self.tmp, "healhook.conf")
		with open(path, "w") as f:
			f.write(text)
		return path

	def doctor(self, repo=None, args=None, **glob):
		argv = [h.BIN, "doctor", "--config", self.config(repo, **glob)] + (args or [])
		env = {k: v for k, v in os.environ.items()
		       if not k.startswith(("HEALHOOK_", "TELEGRAM_", "AIDER_", "OLLAMA_", "HEAL_"))}
		p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
				   env=env, timeout=60)
		out = p.stdout + p.stderr
		self.assertNotIn(GITEA_TOKEN, out)
		self.assertNotIn(TG_TOKEN, out)
		self.assertNotIn(TG_TOKEN.split(":")[1], out)
		return p.returncode, p.stdout, parse(p.stdout)

	def row(self, rows, scope, name):
		for r in rows:
			if r[1] == scope and r[2] == name:
				return r
		self.fail("no %s / %s line in %s" % (scope, name, rows))

	def assert_mark(self, rows, scope, name, mark, *words):
		r = self.row(rows, scope, name)
		self.assertEqual(r[0], mark, r)
		for w in words:
			self.assertIn(w, r[3], r)
		return r

	def assert_only_failure(self, rc, rows, scope, name, *words):
		"""Exactly this check failed (exit 1) and its line has a fix."""
		self.assertEqual(rc, 1, rows)
		bad = [r for r in rows if r[0] == "✗"]
		self.assertEqual([(r[1], r[2]) for r in bad], [(scope, name)], rows)
		r = self.assert_mark(rows, scope, name, "✗", *words)
		self.assertIn("→ fix: ", r[3])
		return r


class DoctorSsh(DoctorBase):
	@classmethod
	def setUpClass(cls):
		cls.sshd = Sshd().start()
		try:
			cls.start_servers()
		except Exception:
			cls.sshd.stop()
			raise

	@classmethod
	def tearDownClass(cls):
		cls.stop_servers()
		cls.sshd.stop()

	def repo_keys(self):
		return {"host": self.sshd.host_spec(self.repos.worktree),
			"identity": self.sshd.user_key_ed25519,
			"known-hosts": self.sshd.known_hosts}

	def test_everything_right(self):
		rc, out, rows = self.doctor()
		self.assertEqual(rc, 0, out)
		self.assertTrue(all(r[0] == "✓" for r in rows), out)
		names = [(r[1], r[2]) for r in rows]
		for n in ("ssh reachable", "host key known", "key accepted", "work tree exists",
			  "git repository", "not shallow", "branch", "fixer found", "fixer runnable",
			  "health url"):
			self.assertIn(("acme/shop-api", n), names)
		for n in (("fixer", "ollama"), ("gitea", "token valid"), ("telegram", "token valid")):
			self.assertEqual(names.count(n), 1, out)
		self.assert_mark(rows, "acme/shop-api", "ssh reachable", "✓",
				 "127.0.0.1:%d" % self.sshd.port)
		self.assert_mark(rows, "acme/shop-api", "sftp subsystem", "✓", "has one")
		self.assert_mark(rows, "acme/shop-api", "fixer runnable", "✓", "aider 0.86.1")
		self.assert_mark(rows, "acme/shop-api", "branch", "✓", "on main")
		self.assert_mark(rows, "acme/shop-api", "health url", "✓", "healthy now")
		self.assert_mark(rows, "fixer", "ollama", "✓", MODEL)
		self.assert_mark(rows, "gitea", "token valid", "✓", "healhook-bot")
		self.assert_mark(rows, "telegram", "token valid", "✓", "@healhook_test_bot")
		self.assertIn("0 failed", out)
		# the token went to Gitea as "Authorization: token T"
		reqs = self.gitea.requests_to("GET", "/api/v1/user")
		self.assertTrue(reqs and reqs[-1].header("Authorization") == "token " + GITEA_TOKEN)

	def test_host_key_changed(self):
		other = os.path.join(self.tmp, "other_host_key")
		if not os.path.exists(other):
			keygen(other, "ed25519")
		kh = self.sshd.write_known_hosts(os.path.join(self.tmp, "kh_other"), [other])
		rc, out, rows = self.doctor({"known-hosts": kh})
		r = self.assert_only_failure(rc, rows, "acme/shop-api", "host key known",
					     "does not match", "ssh-keygen -R",
					     "ssh-keyscan -p %d 127.0.0.1 >> %s" % (self.sshd.port, kh))
		self.assertIn(self.sshd.fingerprint(self.sshd.host_key_ed25519), r[3])
		self.assert_mark(rows, "acme/shop-api", "ssh reachable", "✓")
		self.assert_mark(rows, "acme/shop-api", "work tree", "-", "not checked")

	def test_host_key_unknown(self):
		kh = self.sshd.write_known_hosts(os.path.join(self.tmp, "kh_elsewhere"),
						 [self.sshd.host_key_ed25519], name="[127.0.0.1]:1")
		rc, out, rows = self.doctor({"known-hosts": kh})
		r = self.assert_only_failure(rc, rows, "acme/shop-api", "host key known", "is not in",
					     "→ fix: ssh-keyscan -p %d 127.0.0.1 >> %s (then verify the "
					     "fingerprint" % (self.sshd.port, kh))
		# the fingerprint in the fix is the error's detail, not read back from its message
		fp = self.sshd.fingerprint(self.sshd.host_key_ed25519)
		self.assertIn("verify the fingerprint %s against" % fp, r[3])
		self.assert_mark(rows, "acme/shop-api", "ssh reachable", "✓")

	def test_known_hosts_unreadable(self):
		kh = os.path.join(self.tmp, "no-such-known-hosts")
		rc, out, rows = self.doctor({"known-hosts": kh})
		self.assert_only_failure(rc, rows, "acme/shop-api", "host key known",
					 "cannot read known hosts file",
					 "→ fix: ssh-keyscan -p %d 127.0.0.1 >> %s" % (self.sshd.port, kh))
		self.assert_mark(rows, "acme/shop-api", "ssh reachable", "✓")

	def test_key_file_unreadable(self):
		key = os.path.join(self.tmp, "no-such-key")
		rc, out, rows = self.doctor({"identity": key})
		self.assert_only_failure(rc, rows, "acme/shop-api", "key accepted",
					 "cannot read ssh key", "→ fix: repo.acme/shop-api.identity must "
					 "name a private key file", "chmod 600 " + key)
		# checked before connecting: no ssh line claims more
		names = [r[2] for r in rows if r[1] == "acme/shop-api"]
		self.assertNotIn("ssh reachable", names)
		self.assertNotIn("host key known", names)

	def test_host_spec_incomplete(self):
		rc, out, rows = self.doctor({"identity": None})
		self.assert_only_failure(rc, rows, "acme/shop-api", "ssh config",
					 "repo.acme/shop-api.identity is not set",
					 "set repo.acme/shop-api.identity")
		rc, out, rows = self.doctor({"host": "ssh://%s@bad host/w" % self.sshd.user})
		self.assert_only_failure(rc, rows, "acme/shop-api", "host", "bad host spec",
					 "ssh://[user@]host[:port]/abs/path")

	def test_not_ssh(self):
		# the health server answers on its port, but not in ssh
		port = int(self.health.health_url.split(":")[2].split("/")[0])
		rc, out, rows = self.doctor({"host": "ssh://%s@127.0.0.1:%d%s" % (
			self.sshd.user, port, self.repos.worktree)})
		self.assert_only_failure(rc, rows, "acme/shop-api", "ssh reachable",
					 "ssh handshake with", "does not speak ssh")

	def test_no_sftp_is_a_warning(self):
		with Sshd(sftp=False) as s:
			rc, out, rows = self.doctor({"host": s.host_spec(self.repos.worktree),
						     "identity": s.user_key_ed25519,
						     "known-hosts": s.known_hosts})
		self.assertEqual(rc, 0, out)
		self.assert_mark(rows, "acme/shop-api", "sftp subsystem", "!", "no sftp subsystem",
				 "nothing to do for healhook")
		self.assert_mark(rows, "acme/shop-api", "fixer runnable", "✓")

	def test_wrong_identity(self):
		key = os.path.join(self.tmp, "stranger_key")
		if not os.path.exists(key):
			keygen(key, "ed25519")
		rc, out, rows = self.doctor({"identity": key})
		self.assert_only_failure(rc, rows, "acme/shop-api", "key accepted",
					 "authentication failed", "authorized_keys", "ssh-copy-id")
		self.assert_mark(rows, "acme/shop-api", "ssh reachable", "✓")
		self.assert_mark(rows, "acme/shop-api", "host key known", "✓")

	def test_unreachable(self):
		port = closed_port()
		rc, out, rows = self.doctor({"host": "ssh://%s@127.0.0.1:%d%s" % (
			self.sshd.user, port, self.repos.worktree)})
		self.assert_only_failure(rc, rows, "acme/shop-api", "ssh reachable", "cannot connect",
					 "nc -vz 127.0.0.1 %d" % port)

	def test_work_tree_not_a_repository(self):
		d = os.path.join(self.tmp, "plain-dir")
		os.makedirs(d, exist_ok=True)
		rc, out, rows = self.doctor({"host": self.sshd.host_spec(d)})
		self.assert_only_failure(rc, rows, "acme/shop-api", "git repository",
					 "not a git work tree", "git clone")
		self.assert_mark(rows, "acme/shop-api", "work tree exists", "✓")
		self.assert_mark(rows, "acme/shop-api", "fixer runnable", "✓")

	def test_work_tree_missing(self):
		d = os.path.join(self.tmp, "no-such-dir")
		rc, out, rows = self.doctor({"host": self.sshd.host_spec(d)})
		self.assert_only_failure(rc, rows, "acme/shop-api", "work tree exists",
					 "does not exist", "git clone")

	def test_shallow_and_wrong_branch(self):
		d = os.path.join(self.tmp, "shallow-host")
		if not os.path.exists(d):
			h.git(self.tmp, "clone", "-q", "--depth", "1", "file://" + self.repos.origin, d)
		rc, out, rows = self.doctor({"host": self.sshd.host_spec(d), "branch": "release"})
		self.assertEqual(rc, 1)
		self.assert_mark(rows, "acme/shop-api", "not shallow", "✗", "shallow",
				 "fetch --unshallow")
		self.assert_mark(rows, "acme/shop-api", "branch", "✗", "is on main",
				 "repo.acme/shop-api.branch is release", "checkout release")

	def test_fixer_missing(self):
		rc, out, rows = self.doctor(fixer__command="no-such-fixer-xyz --model {model} {file}")
		r = self.assert_only_failure(rc, rows, "acme/shop-api", "fixer found",
					     "no-such-fixer-xyz", "PATH=", "set fixer.path")
		self.assert_mark(rows, "acme/shop-api", "fixer runnable", "-", "not checked")

	def test_fixer_fails(self):
		rc, out, rows = self.doctor(fixer__command="/bin/false {file}")
		self.assert_only_failure(rc, rows, "acme/shop-api", "fixer runnable",
					 "exited with status 1")

	def test_health_url_closed(self):
		url = "http://127.0.0.1:%d/health" % closed_port()
		rc, out, rows = self.doctor({"health-url": url})
		self.assert_only_failure(rc, rows, "acme/shop-api", "health url",
					 "Couldn't connect", "curl -sS " + url)

	def test_health_unhealthy_is_reachable(self):
		with HealthServer(status="error") as hs:
			rc, out, rows = self.doctor({"health-url": hs.health_url})
		self.assertEqual(rc, 0, out)
		self.assert_mark(rows, "acme/shop-api", "health url", "✓", "HTTP 503",
				 "NOT healthy now")

	def test_gitea_wrong_token(self):
		bad = os.path.join(self.tmp, "bad-gitea-token")
		with open(bad, "w") as f:
			f.write("not-the-token\n")
		rc, out, rows = self.doctor(gitea__token_file=bad)
		self.assert_only_failure(rc, rows, "gitea", "token valid", "HTTP 401",
					 "gitea.token-file")
		self.assertNotIn("not-the-token", out)

	def test_gitea_user_differs_is_a_warning(self):
		rc, out, rows = self.doctor(gitea__user="someone-else")
		self.assertEqual(rc, 0, out)
		self.assert_mark(rows, "gitea", "token valid", "!", "token of healhook-bot",
				 "gitea.user is someone-else", "set gitea.user = healhook-bot")

	def test_telegram_wrong_token(self):
		bad = os.path.join(self.tmp, "bad-tg-token")
		with open(bad, "w") as f:
			f.write("999:WRONG-tg-secret\n")
		rc, out, rows = self.doctor(notify__telegram_token_file=bad)
		self.assert_only_failure(rc, rows, "telegram", "token valid", "HTTP 401",
					 "@BotFather")
		self.assertNotIn("WRONG-tg-secret", out)

	def test_telegram_unreachable_hides_token(self):
		rc, out, rows = self.doctor(notify__telegram_api="http://127.0.0.1:%d" % closed_port())
		self.assert_only_failure(rc, rows, "telegram", "token valid", "/bot***/getMe")

	def test_ollama(self):
		# the model is missing everywhere: failure with `ollama pull`
		rc, out, rows = self.doctor(fixer__model="ollama_chat/missing-model:1b")
		self.assert_only_failure(rc, rows, "fixer", "ollama", "does not have missing-model:1b",
					 "ollama pull missing-model:1b")
		# one dead candidate beside a good one: a warning, exit 0
		dead = "http://127.0.0.1:%d" % closed_port()
		rc, out, rows = self.doctor(fixer__ollama=[dead, self.ollama.url])
		self.assertEqual(rc, 0, out)
		marks = [(r[0], dead in r[3]) for r in rows if r[1] == "fixer"]
		self.assertEqual(marks, [("!", True), ("✓", False)], out)

	def test_unconfigured_services_are_skipped(self):
		rc, out, rows = self.doctor({"health-url": None}, gitea__url=None,
					    notify__telegram_token_file=None, fixer__ollama=None)
		self.assertEqual(rc, 0, out)
		self.assert_mark(rows, "acme/shop-api", "health url", "-", "not set")
		self.assert_mark(rows, "fixer", "ollama", "-", "no fixer.ollama")
		self.assert_mark(rows, "gitea", "token valid", "-", "gitea.url not set")
		self.assert_mark(rows, "telegram", "token valid", "-", "no bot token")


class DoctorLocal(DoctorBase):
	@classmethod
	def setUpClass(cls):
		cls.start_servers()

	@classmethod
	def tearDownClass(cls):
		cls.stop_servers()

	def repo_keys(self):
		return {"host": self.repos.worktree}

	def test_everything_right(self):
		rc, out, rows = self.doctor()
		self.assertEqual(rc, 0, out)
		self.assertTrue(all(r[0] == "✓" for r in rows), out)
		names = [r[2] for r in rows if r[1] == "acme/shop-api"]
		self.assertNotIn("ssh reachable", names)
		self.assert_mark(rows, "acme/shop-api", "work tree exists", "✓", self.repos.worktree)
		self.assert_mark(rows, "acme/shop-api", "fixer runnable", "✓", "aider 0.86.1")

	def test_missing_path(self):
		d = os.path.join(self.tmp, "gone")
		rc, out, rows = self.doctor({"host": "local:" + d})
		self.assert_only_failure(rc, rows, "acme/shop-api", "work tree exists", d,
					 "does not exist")
		self.assert_mark(rows, "acme/shop-api", "git repository", "-", "not checked")

	def test_fixer_missing(self):
		rc, out, rows = self.doctor(fixer__command="/nonexistent/aider {file}")
		self.assert_only_failure(rc, rows, "acme/shop-api", "fixer found",
					 "/nonexistent/aider", "fixer.path")

	def test_usage_and_config_errors(self):
		p = subprocess.run([h.BIN, "doctor", "--bogus"], capture_output=True, text=True)
		self.assertEqual(p.returncode, 2)
		p = subprocess.run([h.BIN, "doctor", "--help"], capture_output=True, text=True)
		self.assertEqual(p.returncode, 0)
		self.assertIn("usage: healhook doctor", p.stdout)
		bad = os.path.join(self.tmp, "bad.conf")
		with open(bad, "w") as f:
			f.write("[repo \"a/b\"]\n\tno-such-key = 1\n")
		p = subprocess.run([h.BIN, "doctor", "--config", bad], capture_output=True, text=True)
		self.assertEqual(p.returncode, 2, p.stderr)
		empty = os.path.join(self.tmp, "empty.conf")
		with open(empty, "w") as f:
			f.write("[state]\n\tdir = %s\n" % self.tmp)
		env = {k: v for k, v in os.environ.items() if not k.startswith("HEAL")}
		p = subprocess.run([h.BIN, "doctor", "--config", empty], capture_output=True,
				   text=True, env=env)
		self.assertEqual(p.returncode, 2, p.stderr)
		self.assertIn("no repository is configured", p.stderr)


if __name__ == "__main__":
	unittest.main()
