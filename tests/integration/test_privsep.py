"""Issue 15, item 8: the receiver's own user. `healhook serve` started as root with
server.receiver-user = nobody: the receiver runs as nobody (every uid and gid, no other group),
with no_new_privs, no inherited descriptor, and cannot open the Gitea token file, the Telegram
token file, the ssh key or the webhook secret file (mode 0600, root's); deliveries are still
verified (the secret reaches it by pipe) and stored.

Runs as root (CI and the development machine are); nobody/nogroup exist on Debian.
"""
import json
import os
import pwd
import subprocess
import unittest

from lib import harness as H

import test_aftercare as A

USER = "nobody"


def status(pid):
	out = {}
	with open("/proc/%d/status" % pid) as f:
		for line in f:
			k, _, v = line.partition(":")
			out[k] = v.split()
	return out


def open_as(uid, gid, path, op="open"):
	"""errno name of reading path (op "open": the file, "list": the directory) with exactly
	uid/gid/[gid], or 'ok'."""
	code = ("import os, sys\ntry:\n if sys.argv[2] == 'list':\n  os.listdir(sys.argv[1])\n"
		" else:\n  open(sys.argv[1], 'rb').read(1)\n print('ok')\n"
		"except OSError as e:\n import errno\n print(errno.errorcode[e.errno])\n")

	def become():
		os.setgroups([gid])
		os.setgid(gid)
		os.setuid(uid)
	p = subprocess.run(["python3", "-c", code, path, op], stdout=subprocess.PIPE, text=True,
			   preexec_fn=become, timeout=30)
	return p.stdout.strip()


@unittest.skipUnless(os.geteuid() == 0, "needs root (serve must start as root to drop)")
class ReceiverUser(unittest.TestCase):
	def setUp(self):
		self._tmp = H.tmpdir("hh-privsep-")
		self.tmp = self._tmp.__enter__()
		os.chmod(self.tmp, 0o755)
		self.pw = pwd.getpwnam(USER)
		self.proc = None

	def tearDown(self):
		if self.proc:
			self.proc.stop()
		self._tmp.__exit__(None, None, None)

	def secret_file(self, name, value):
		path = os.path.join(self.tmp, name)
		with open(path, "w") as f:
			f.write(value + "\n")
		os.chmod(path, 0o600)
		return path

	def test_receiver_drops_to_its_user_and_cannot_open_secrets(self):
		files = {
			"gitea": self.secret_file("gitea-token", "gitea-token-value-123"),
			"telegram": self.secret_file("telegram-token", "123:telegram-token-xyz"),
			"key": self.secret_file("id_ed25519", "-----BEGIN OPENSSH PRIVATE KEY-----\nx"),
			"secret": self.secret_file("webhook-secret", H.FIXTURE_SECRET),
		}
		repos = H.make_origin_and_worktree(self.tmp, {A.ORDER: A.FILES[A.ORDER]})
		record = os.path.join(self.tmp, "record")
		cfg = os.path.join(self.tmp, "healhook.conf")
		with open(cfg, "w") as f:
			f.write("[server]\n\tsecret-file = %s\n\treceiver-user = %s\n\trecord = %s\n"
				% (files["secret"], USER, record))
			f.write("[state]\n\tdir = %s\n" % os.path.join(self.tmp, "state"))
			f.write("[worker]\n\tparallel = 0\n")
			f.write("[gitea]\n\turl = http://127.0.0.1:9\n\ttoken-file = %s\n" % files["gitea"])
			f.write("[notify]\n\ttelegram-token-file = %s\n\ttelegram-chat = 1\n"
				% files["telegram"])
			f.write('[repo "%s"]\n\thost = %s\n\treviewers = bob\n\ttarget = default-branch\n'
				% (A.REPO, repos.worktree))
			f.write("\tidentity = %s\n" % files["key"])
		# root's alone: the receiver gets the configuration's entries from the main process
		# (which read the file), it never reads the file itself
		os.chmod(cfg, 0o600)
		files["config"] = cfg
		port = H.free_port()
		url = "http://127.0.0.1:%d" % port
		self.proc = H.start_process([H.BIN, "serve", "--config", cfg, "--listen",
					     "127.0.0.1:%d" % port], env={"PATH": os.environ["PATH"]},
					    log_path=os.path.join(self.tmp, "serve.log"))
		H.wait_http(url + "/healthz", timeout=15)
		kids = subprocess.run(["pgrep", "-P", str(self.proc.pid)], stdout=subprocess.PIPE,
				      text=True).stdout.split()
		self.assertEqual(len(kids), 1, "one receiver")
		rpid = int(kids[0])
		uid, gid = self.pw.pw_uid, self.pw.pw_gid

		# its credentials: every uid and gid is nobody's, no other group, no_new_privs
		st = status(rpid)
		self.assertEqual(st["Uid"], [str(uid)] * 4, st["Uid"])
		self.assertEqual(st["Gid"], [str(gid)] * 4, st["Gid"])
		self.assertEqual(st.get("Groups", []), [str(gid)])
		self.assertEqual(st["NoNewPrivs"], ["1"])
		self.assertEqual(st["CapEff"], ["0000000000000000"])
		self.assertEqual(status(self.proc.pid)["Uid"][0], "0", "the main process stays root")

		# its descriptors: stdio, sockets, the store; nothing else inherited
		for fd in os.listdir("/proc/%d/fd" % rpid):
			try:
				link = os.readlink("/proc/%d/fd/%s" % (rpid, fd))
			except FileNotFoundError:
				continue
			if int(fd) <= 2 or link.startswith(("socket:", "anon_inode:", "pipe:")):
				continue
			self.assertTrue(os.path.basename(link).startswith("healhook.db")
					or link == "/dev/urandom", "fd %s -> %s" % (fd, link))
		with open("/proc/%d/environ" % rpid, "rb") as f:
			self.assertNotIn(H.FIXTURE_SECRET.encode(), f.read(), "the secret went by pipe")

		# it cannot open the token files, the key, the secret file or the configuration
		for name, path in files.items():
			self.assertEqual(open_as(uid, gid, path), "EACCES", name)
		self.assertEqual(open_as(uid, gid, os.path.join(self.tmp, "state"), "list"), "EACCES",
				 "the state directory cannot be listed (only its store is reachable)")
		self.assertEqual(open_as(uid, gid, os.path.join(self.tmp, "state", "healhook.db")),
				 "ok", "the store is the receiver's")
		self.assertEqual(open_as(0, 0, files["gitea"]), "ok", "the check itself works")

		# it still verifies signatures (the secret reached it) and stores jobs
		hdrs, body = A.comment_delivery([(A.ORDER, "NameError", A.MSG)])
		st_, _, data = H.post(url + "/hooks/gitea", body, hdrs)
		self.assertEqual(st_, 202, data)
		self.assertEqual(len(json.loads(data)["accepted"]), 1, data)
		bad = H.replace_header(hdrs, "X-Gitea-Signature", "0" * 64)
		bad = H.replace_header(bad, "X-Hub-Signature-256", "sha256=" + "0" * 64)
		st_, _, _ = H.post(url + "/hooks/gitea", body.replace(b"please", b"PLEASE"), bad)
		self.assertEqual(st_, 401)
		self.assertTrue(os.listdir(record), "the receiver records into its directory")
		# its group commit syncs the log itself (a read-only descriptor on the -wal file,
		# beside SQLite's own): the state directory it cannot open was synced by serve
		ro_wal = []
		for fd in os.listdir("/proc/%d/fd" % rpid):
			try:
				link = os.readlink("/proc/%d/fd/%s" % (rpid, fd))
				with open("/proc/%d/fdinfo/%s" % (rpid, fd)) as f:
					flags = int(f.read().split("flags:")[1].split()[0], 8)
			except (OSError, IndexError, ValueError):
				continue
			if link.endswith("healhook.db-wal") and flags & os.O_ACCMODE == os.O_RDONLY:
				ro_wal.append(fd)
		self.assertEqual(len(ro_wal), 1, "the group's own descriptor on the log")
		self.assertEqual(self.proc.stop(), 0, self.proc.output()[-2000:])
		self.proc = None

	def test_receiver_on_postgresql_gets_the_database_password_by_pipe(self):
		"""On PostgreSQL the receiver as nobody cannot open the database password file (0600,
		root's, in a 0700 directory) and still stores deliveries: the password reaches it by
		pipe after the secret, never through its environment."""
		from lib import postgres
		secret = self.secret_file("webhook-secret", H.FIXTURE_SECRET)
		state = os.path.join(self.tmp, "state")
		pg = postgres.shared()
		cfg = os.path.join(self.tmp, "healhook.conf")
		with open(cfg, "w") as f:
			f.write("[server]\n\tsecret-file = %s\n\treceiver-user = %s\n" % (secret, USER))
			f.write(H.state_config(state, database="postgresql", pg=pg))
			f.write("[worker]\n\tparallel = 0\n")
			f.write('[repo "%s"]\n\thost = %s\n\ttarget = default-branch\n'
				% (A.REPO, self.tmp))
		os.chmod(cfg, 0o644)
		port = H.free_port()
		url = "http://127.0.0.1:%d" % port
		self.proc = H.start_process([H.BIN, "serve", "--config", cfg, "--listen",
					     "127.0.0.1:%d" % port], env={"PATH": os.environ["PATH"]},
					    log_path=os.path.join(self.tmp, "serve.log"))
		try:
			H.wait_http(url + "/healthz", timeout=15)
		except TimeoutError:
			self.fail("serve did not start: %s" % self.proc.output()[-2000:])
		kids = subprocess.run(["pgrep", "-P", str(self.proc.pid)], stdout=subprocess.PIPE,
				      text=True).stdout.split()
		self.assertEqual(len(kids), 1, "one receiver")
		rpid = int(kids[0])
		uid, gid = self.pw.pw_uid, self.pw.pw_gid
		self.assertEqual(status(rpid)["Uid"], [str(uid)] * 4)
		self.assertEqual(open_as(uid, gid, pg.password_file), "EACCES",
				 "the receiver's user cannot read the password file")
		self.assertEqual(open_as(0, 0, pg.password_file), "ok", "the check itself works")
		with open("/proc/%d/environ" % rpid, "rb") as f:
			env = f.read()
		self.assertNotIn(pg.password.encode(), env)
		self.assertNotIn(pg.password_file.encode(), env)

		hdrs, body = A.comment_delivery([(A.ORDER, "NameError", A.MSG)])
		st_, _, data = H.post(url + "/hooks/gitea", body, hdrs)
		self.assertEqual(st_, 202, data)
		rows = H.db_query(state, "SELECT COUNT(*) FROM deliveries WHERE id = ?",
				  (H.header(hdrs, "X-Gitea-Delivery"),), database="postgresql", pg=pg)
		self.assertEqual(rows, [(1,)], "the receiver stored the delivery in PostgreSQL")
		self.assertEqual(self.proc.stop(), 0, self.proc.output()[-2000:])
		self.proc = None

	def test_unknown_or_root_user_is_refused_at_start(self):
		for user, want in (("healhook-no-such-user", "no user 'healhook-no-such-user'"),
				   ("root", "has uid or gid 0")):
			cfg = os.path.join(self.tmp, "c.conf")
			with open(cfg, "w") as f:
				f.write("[server]\n\treceiver-user = %s\n[state]\n\tdir = %s\n"
					% (user, os.path.join(self.tmp, "state")))
			p = subprocess.run([H.BIN, "serve", "--config", cfg, "--insecure", "--listen",
					    "127.0.0.1:%d" % H.free_port()], stdout=subprocess.PIPE,
					   stderr=subprocess.PIPE, text=True, timeout=30,
					   env={"PATH": os.environ["PATH"]})
			self.assertEqual(p.returncode, 1, p.stderr)
			self.assertIn("server.receiver-user: ", p.stderr)
			self.assertIn(want, p.stderr)



class SameUser(unittest.TestCase):
	"""Without receiver-user the receiver keeps serve's user (docs/security.md says what then
	holds): still no_new_privs and no inherited descriptor, and the main process, which holds
	the secrets, cannot be read by a process of the same user. serve runs as nobody here."""

	@unittest.skipUnless(os.geteuid() == 0, "needs root to start serve as nobody")
	def test_receiver_without_its_user(self):
		pw = pwd.getpwnam(USER)
		with H.tmpdir("hh-privsep-") as tmp:
			os.chmod(tmp, 0o755)
			state = os.path.join(tmp, "state")
			os.makedirs(state)
			os.chown(state, pw.pw_uid, pw.pw_gid)
			cfg = os.path.join(tmp, "c.conf")
			with open(cfg, "w") as f:
				f.write("[state]\n\tdir = %s\n[worker]\n\tparallel = 0\n" % state)
			os.chmod(cfg, 0o644)
			leak = open(os.path.join(tmp, "inherited"), "w")  # an fd serve inherits

			def become():
				os.setgroups([pw.pw_gid])
				os.setgid(pw.pw_gid)
				os.setuid(pw.pw_uid)
			port = H.free_port()
			proc = subprocess.Popen([H.BIN, "serve", "--config", cfg, "--insecure", "--listen",
						 "127.0.0.1:%d" % port], env={"PATH": os.environ["PATH"]},
						stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
						pass_fds=(leak.fileno(),), preexec_fn=become)
			try:
				H.wait_http("http://127.0.0.1:%d/healthz" % port, timeout=15)
				kids = subprocess.run(["pgrep", "-P", str(proc.pid)], stdout=subprocess.PIPE,
						      text=True).stdout.split()
				rpid = int(kids[0])
				self.assertEqual(status(rpid)["NoNewPrivs"], ["1"])
				self.assertEqual(status(rpid)["Uid"][0], str(pw.pw_uid))
				links = []
				for fd in os.listdir("/proc/%d/fd" % rpid):
					try:
						links.append(os.readlink("/proc/%d/fd/%s" % (rpid, fd)))
					except FileNotFoundError:
						pass
				self.assertNotIn(os.path.join(tmp, "inherited"), links)
				self.assertIn(os.path.join(tmp, "inherited"),
					      [os.readlink("/proc/%d/fd/%d" % (proc.pid, leak.fileno()))])
				# the main process is not dumpable: same-user processes cannot read it
				self.assertEqual(status(proc.pid)["Uid"][0], str(pw.pw_uid))
				self.assertEqual(open_as(pw.pw_uid, pw.pw_gid, "/proc/%d/environ" % proc.pid),
						 "EACCES")
				self.assertEqual(open_as(pw.pw_uid, pw.pw_gid, "/proc/%d/environ" % rpid),
						 "ok", "the check itself works (the receiver is dumpable)")
			finally:
				proc.terminate()
				proc.wait(15)
				leak.close()


if __name__ == "__main__":
	unittest.main()
