"""Operations: the systemd unit, readiness notification, JSON logs, the example config, and
`make demo` end to end."""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import unittest

from lib import harness as H


class SystemdUnit(unittest.TestCase):
	@unittest.skipUnless(shutil.which("systemd-analyze"), "systemd-analyze not installed")
	def test_unit_verifies(self):
		with H.tmpdir() as tmp:
			with open(os.path.join(H.ROOT, "ci", "systemd", "healhook.service")) as f:
				unit = f.read()
			self.assertIn("Type=notify", unit)
			for key in ("StateDirectory=", "NoNewPrivileges=", "ProtectSystem=strict", "PrivateTmp="):
				self.assertIn(key, unit)
			path = os.path.join(tmp, "healhook.service")
			with open(path, "w") as f:
				f.write(unit.replace("/usr/local/bin/healhook", H.BIN))
			p = subprocess.run(["systemd-analyze", "verify", path], stdout=subprocess.PIPE,
					   stderr=subprocess.STDOUT, timeout=60)
			self.assertEqual(p.returncode, 0, p.stdout.decode())

	def test_ready_and_stopping_notifications(self):
		with H.tmpdir() as tmp:
			sock_path = os.path.join(tmp, "notify.sock")
			s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
			s.bind(sock_path)
			s.settimeout(10)
			port = H.free_port()
			env = {"PATH": os.environ["PATH"], "NOTIFY_SOCKET": sock_path,
			       "HEALHOOK_STATE_DIR": os.path.join(tmp, "state"), "HEALHOOK_SECRET": "s3cret"}
			proc = H.start_process([H.BIN, "serve", "--listen", "127.0.0.1:%d" % port,
						"--log-format", "json"], env=env)
			try:
				self.assertEqual(s.recv(64), b"READY=1")
				H.wait_http("http://127.0.0.1:%d/healthz" % port)
				proc.signal(signal.SIGTERM)
				self.assertEqual(s.recv(64), b"STOPPING=1")
				self.assertEqual(proc.wait(15), 0)
			finally:
				proc.stop()
				s.close()
			lines = [l for l in proc.output().splitlines() if l.strip()]
			events = [json.loads(l)["event"] for l in lines]  # every line is a JSON object
			self.assertIn("serve.listening", events)
			self.assertIn("serve.stopped", events)
			self.assertNotIn("s3cret", proc.output())


class ExampleConfig(unittest.TestCase):
	def test_example_config_loads(self):
		with H.tmpdir() as tmp:
			with open(os.path.join(H.ROOT, "docs", "healhook.conf.example")) as f:
				text = f.read()
			for name in ("webhook-secret", "gitea-token", "telegram-token", "status-token"):
				with open(os.path.join(tmp, name), "w") as f:
					f.write("x-%s\n" % name)
			text = text.replace("/etc/healhook/", tmp + "/").replace("/var/lib/healhook", tmp + "/state")
			cfg = os.path.join(tmp, "healhook.conf")
			with open(cfg, "w") as f:
				f.write(text)
			p = subprocess.run([H.BIN, "history", "--config", cfg, "--json"], stdout=subprocess.PIPE,
					   stderr=subprocess.PIPE, env={"PATH": os.environ["PATH"]}, timeout=30)
			self.assertEqual(p.returncode, 0, p.stderr.decode())
			self.assertEqual(json.loads(p.stdout), [])


class Demo(unittest.TestCase):
	def test_make_demo_heals_then_reverts(self):
		before = set(os.listdir("/tmp"))
		p = subprocess.run(["bash", os.path.join(H.ROOT, "ci", "demo.sh"), H.BIN], stdout=subprocess.PIPE,
				   stderr=subprocess.STDOUT, timeout=120)
		out = p.stdout.decode()
		self.assertEqual(p.returncode, 0, out[-3000:])
		self.assertIn("job 1: healed", out)
		self.assertIn("job 2: reverted", out)
		self.assertRegex(out, r'Revert "fix\(autoheal\): \[LogicError\]')
		self.assertIn("fix(autoheal): [NameError] auto-fix services/order_service.py", out)
		left = [d for d in set(os.listdir("/tmp")) - before if d.startswith("healhook-demo")]
		self.assertEqual(left, [], "the demo left its directory behind")
		demo_dir = re.search(r"(/tmp/healhook-demo\.\w+)/", out).group(1)
		demo_procs = subprocess.run(["pgrep", "-f", demo_dir], stdout=subprocess.PIPE).stdout
		self.assertEqual(demo_procs.strip(), b"", "the demo left processes behind")


if __name__ == "__main__":
	unittest.main()


class PrivilegeSeparation(unittest.TestCase):
	"""The process that faces the network holds no key or token (docs/security.md)."""

	def test_receiver_holds_no_secret(self):
		with H.tmpdir() as tmp:
			token_file = os.path.join(tmp, "gitea-token")
			tg_file = os.path.join(tmp, "telegram-token")
			key = os.path.join(tmp, "id_ed25519")
			for path, value in ((token_file, "gitea-token-value-123"), (tg_file, "123:telegram-token-xyz"),
					    (key, "-----BEGIN OPENSSH PRIVATE KEY-----\nnot a real key\n")):
				with open(path, "w") as f:
					f.write(value + "\n")
			cfg = os.path.join(tmp, "c.conf")
			with open(cfg, "w") as f:
				f.write("[gitea]\n\turl = http://127.0.0.1:9\n\ttoken-file = %s\n" % token_file)
				f.write("[notify]\n\ttelegram-token-file = %s\n\ttelegram-chat = 1\n" % tg_file)
				f.write('[repo "acme/shop-api"]\n\thost = ssh://git@127.0.0.1:9/srv/x\n')
				f.write("\tidentity = %s\n\tknown-hosts = %s\n" % (key, key))
			port = H.free_port()
			env = {"PATH": os.environ["PATH"], "HEALHOOK_STATE_DIR": os.path.join(tmp, "state"),
			       "HEALHOOK_SECRET": "s3cret", "HEALHOOK_GITEA_TOKEN": "env-gitea-token-456",
			       "TELEGRAM_BOT_TOKEN": "789:env-telegram-token", "GITHUB_TOKEN": "gh-token-000",
			       "SSH_AUTH_SOCK": "/tmp/agent.sock"}
			proc = H.start_process([H.BIN, "serve", "--config", cfg, "--listen", "127.0.0.1:%d" % port], env=env)
			try:
				H.wait_http("http://127.0.0.1:%d/healthz" % port)
				kids = subprocess.run(["pgrep", "-P", str(proc.pid)], stdout=subprocess.PIPE).stdout.split()
				self.assertEqual(len(kids), 1, "one receiver process")
				rpid = int(kids[0])
				# The receiver owns the listening socket.
				fds = os.listdir("/proc/%d/fd" % rpid)
				links = [os.readlink("/proc/%d/fd/%s" % (rpid, fd)) for fd in fds]
				self.assertTrue(any(l.startswith("socket:") for l in links))
				for path in (token_file, tg_file, key):
					self.assertNotIn(path, links)
				with open("/proc/%d/environ" % rpid, "rb") as f:
					environ = f.read()
				for secret in (b"env-gitea-token-456", b"env-telegram-token", b"gh-token-000",
					       b"agent.sock", b"gitea-token-value-123", b"telegram-token-xyz"):
					self.assertNotIn(secret, environ)
				self.assertIn(b"HEALHOOK_SECRET=s3cret", environ)  # it checks signatures
				# The main process, which heals, has them.
				with open("/proc/%d/environ" % proc.pid, "rb") as f:
					self.assertIn(b"env-gitea-token-456", f.read())
				with open("/proc/%d/cmdline" % rpid, "rb") as f:
					self.assertIn(b"--role=receiver", f.read())
			finally:
				self.assertEqual(proc.stop(), 0)
			self.assertNotIn("gitea-token-value-123", proc.output())
			self.assertNotIn("env-gitea-token-456", proc.output())
