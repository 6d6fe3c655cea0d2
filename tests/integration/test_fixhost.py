"""A fix host set up the usual way (issue 10): Aider's installers put `aider` in ~/.local/bin of
the host user, and healhook finds it there with the default fixer.path and the default
fixer.command, over ssh and over the local transport. Without it, the job ends fixer-not-found
with a message naming the program, the PATH searched and fixer.path, and `healhook doctor`
marks the fixer with the same advice. A fixer that exits 0 without editing (Aider with its model
unreachable) ends fixer-failed with its output in the detail, nothing pushed.

The "host user" over ssh is the sshd test user with HOME set to a fresh directory by the test
sshd (SetEnv HOME); for the local transport it is healhook's own HOME. The scripted fixer
(tests/lib/fake-aider, Aider's own option list) is copied to HOME/.local/bin/aider.
"""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

from lib import harness as H
from lib.sshd import Sshd
from test_heal import FILES, TARGET, HealBase

SYSTEM_DIRS = ("/usr/local/bin", "/usr/bin", "/bin")


def install_aider(home, name="aider"):
	d = os.path.join(home, ".local", "bin")
	os.makedirs(d, exist_ok=True)
	shutil.copy(H.FAKE_AIDER, os.path.join(d, name))
	os.chmod(os.path.join(d, name), 0o755)
	return os.path.join(d, name)


class FixHostBase(HealBase):
	"""Heals with the configuration a new user writes: no [fixer] command (the default), and
	nothing on PATH but what fixer.path gives."""
	fixer_command = None

	def setUp(self):
		super().setUp()
		for d in SYSTEM_DIRS:  # the test means nothing if a real aider is installed
			self.assertFalse(os.path.exists(os.path.join(d, "aider")), "%s/aider exists" % d)
		self.home = self.host_home()

	def host_home(self):
		return os.path.join(self.tmp, "home")

	def write_config(self, fixer_timeout=10, fixer_path=None, **keys):
		cfg = os.path.join(self.tmp, "healhook.conf")
		repo = {"host": self.host_spec(), "reviewers": "bob"}
		repo.update(self.repo_keys())
		repo.update({k.replace("_", "-"): v for k, v in keys.items()})
		with open(cfg, "w") as f:
			f.write("[state]\n\tdir = %s\n" % self.state)
			f.write("[fixer]\n\ttimeout = %d\n" % fixer_timeout)
			if self.fixer_command:
				f.write("\tcommand = %s\n" % self.fixer_command)
			if fixer_path:
				f.write("\tpath = %s\n" % fixer_path)
			f.write('[repo "acme/shop-api"]\n')
			for k, v in repo.items():
				if v is not None:
					f.write("\t%s = %s\n" % (k, v))
		return cfg

	def heal_env(self, cfg, extra_env=None, args=None):
		env = {"PATH": "/usr/bin:/bin", "HOME": self.tmp}
		env.update(extra_env or {})
		p = subprocess.run([H.BIN] + (args or []) + ["--config", cfg], env=env,
				   stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=90)
		return p

	def doctor(self, cfg):
		p = self.heal_env(cfg, args=["doctor"])
		return p.returncode, p.stdout.decode() + p.stderr.decode()

	# -- the acceptance of issue 10 --
	def test_default_command_heals_with_aider_in_local_bin(self):
		install_aider(self.home)
		res = self.heal(want="landed")
		self.assert_landed(res)
		self.assertIn("locate", res["stages"])
		rc, out = self.doctor(self.write_config())
		self.assertIn("fixer found", out)
		self.assertIn(os.path.join(self.home, ".local", "bin", "aider"), out)
		self.assertIn("aider 0.86.1", out)

	def test_absent_fixer_is_fixer_not_found_and_doctor_says_the_same(self):
		os.makedirs(self.home, exist_ok=True)
		res = self.heal(want="fixer-not-found")
		self.assert_rejected(res, "fixer-not-found")
		searched = os.path.join(self.home, ".local", "bin") + ":/usr/local/bin:/usr/bin:/bin"
		detail = res["detail"]
		self.assertIn("'aider'", detail)
		self.assertIn("PATH=" + searched, detail)
		self.assertIn("fixer.path", detail)
		self.assertIn("HEALHOOK_FIXER_PATH", detail)
		self.assertNotIn("locate", res["stages"])
		rc, out = self.doctor(self.write_config())
		self.assertNotEqual(rc, 0, out)
		line = [l for l in out.splitlines() if "fixer found" in l]
		self.assertEqual(len(line), 1, out)
		self.assertIn("\u2717", line[0], out)
		self.assertIn("PATH=" + searched, out)
		advice = detail.split("; ", 1)[1]
		self.assertIn(advice, out)

	def test_fixer_path_key_and_environment(self):
		elsewhere = os.path.join(self.tmp, "opt", "aider-bin")
		os.makedirs(elsewhere)
		shutil.copy(H.FAKE_AIDER, os.path.join(elsewhere, "aider"))
		os.chmod(os.path.join(elsewhere, "aider"), 0o755)
		res = self.heal(want="fixer-not-found")
		self.assert_rejected(res, "fixer-not-found")
		res = self.heal(want="landed", fixer_path=elsewhere + ":/usr/bin:/bin")
		self.assert_landed(res)
		# HEALHOOK_FIXER_PATH overrides the file
		cfg = self.write_config(fixer_path="/nonexistent")
		p = subprocess.run([H.BIN, "doctor", "--config", cfg],
				   env={"PATH": "/usr/bin:/bin", "HOME": self.tmp,
					"HEALHOOK_FIXER_PATH": "/usr/bin:" + elsewhere},
				   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=90)
		self.assertIn("aider is %s/aider (PATH=/usr/bin:%s)" % (elsewhere, elsewhere),
			      p.stdout.decode())
		# a bad value is a configuration error
		p = subprocess.run([H.BIN, "doctor", "--config", self.write_config(fixer_path="bin:/x")],
				   env={"PATH": "/usr/bin:/bin", "HOME": self.tmp}, stdout=subprocess.PIPE,
				   stderr=subprocess.PIPE, timeout=30)
		self.assertEqual(p.returncode, 2)
		self.assertIn("fixer.path 'bin:/x': 'bin' is neither an absolute directory",
			      p.stderr.decode())

	def test_exit_127_is_fixer_not_found(self):
		# the program (env) is there, what it starts is not: exit status 127
		self.fixer_command = "env no-such-aider --message-file {prompt} {file}"
		res = self.heal(want="fixer-not-found")
		self.assert_rejected(res, "fixer-not-found")
		self.assertIn("exit status 127", res["detail"])
		self.assertIn("fixer.path", res["detail"])
		self.assertIn("'env'", res["detail"])

	def test_model_unreachable_exit_0_is_fixer_failed_nothing_pushed(self):
		install_aider(self.home)
		res = self.heal(message="[[fixer:noop]] totl", want="fixer-failed")
		self.assert_rejected(res, "fixer-failed")
		self.assertIn("without editing " + TARGET, res["detail"])
		self.assertIn("litellm.APIConnectionError", res["detail"])
		self.assertIn("The API provider is not responding, giving up.", res["detail"])
		self.assertNotIn("Applied edit", res["detail"])

	def test_a_flag_aider_does_not_know_fails_the_heal(self):
		install_aider(self.home)
		self.fixer_command = ("aider --model {model} --message-file {prompt} --yes "
				      "--no-git {file}")
		res = self.heal(want="fixer-failed")
		self.assert_rejected(res, "fixer-failed")
		self.assertIn("exited with status 2", res["detail"])
		self.assertIn("unrecognized arguments: --yes", res["detail"])


class FixHostSsh(FixHostBase):
	"""ssh: the host user's home is what the ssh session reports ($HOME set by the sshd)."""

	@classmethod
	def setUpClass(cls):
		cls.ssh_home = tempfile.mkdtemp(prefix="hh-fixhome-")
		os.chmod(cls.ssh_home, 0o755)
		cls.sshd = Sshd(home=cls.ssh_home).start()

	@classmethod
	def tearDownClass(cls):
		cls.sshd.stop()
		shutil.rmtree(cls.ssh_home, ignore_errors=True)

	def setUp(self):
		super().setUp()
		shutil.rmtree(os.path.join(self.ssh_home, ".local"), ignore_errors=True)

	def host_home(self):
		return self.ssh_home

	def host_spec(self):
		return self.sshd.host_spec(self.host)

	def repo_keys(self):
		return {"identity": self.sshd.user_key_ed25519, "known-hosts": self.sshd.known_hosts}

	def test_home_is_the_hosts_not_healhooks(self):
		# healhook's own HOME (self.tmp) holds an aider too: the host's home is the one used
		install_aider(self.tmp)
		res = self.heal(want="fixer-not-found")
		self.assertIn(self.ssh_home, res["detail"])
		self.assertNotIn(self.tmp + "/.local", res["detail"])


class FixHostLocal(FixHostBase):
	"""host = /path: the host user is healhook's own user, its home healhook's $HOME."""

	def host_home(self):
		return self.tmp

	def test_connections_zero(self):
		install_aider(self.home)
		res = self.heal(want="landed")
		self.assertEqual(res["connections"], 0, res)


del FixHostBase  # only its subclasses run
