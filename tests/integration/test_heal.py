"""`healhook heal`, end to end: a bare origin, a host work tree cloned from it, the scripted
fixer (tests/lib/fake-aider) and a REAL sshd on 127.0.0.1 (tests/lib/sshd.py).

What a landed fix must look like: exactly one new commit on origin's branch, exactly the target
changed, the commit message of design.md with its trailers, origin's SHA == the result's
commit_sha, the host's work tree untouched and no scratch directory left behind. What a rejected
fix must look like: origin untouched, the host's work tree clean with its HEAD unchanged, no
scratch directory left and no fixer process left running. Hostile finding text reaches the
fixer's prompt verbatim and never a shell.
"""
import json
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time
import unittest

from lib import harness as H
from lib.sshd import Sshd, keygen

TARGET = "services/order_service.py"
OTHER = "services/other_service.py"
ORDER = (
	"def order_total(items):\n"
	"    s = 0\n"
	"    for i in items:\n"
	"        s += i\n"
	"    return totl  # BUG: return s\n"
)
ORDER_FIXED = ORDER.replace("    return totl  # BUG: return s\n", "    return s\n")
FILES = {
	TARGET: ORDER,
	OTHER: "def other():\n    return 1\n",
	"tests/x.py": "x = 1  # BUG: x = 2\n",
	"README.md": "# shop-api\n",
}
PROMPT = ("Fix the following {type} in this file. Only fix what is necessary, do not refactor or "
	  "add features. Error: {message}")
TAG_RE = re.compile(r"[^A-Za-z0-9_.:-]")


def sanitized_type(t):
	return TAG_RE.sub("", t)[:64] or "review"


def prompt_message(m):
	"""The message as the prompt carries it: C0 controls (but \\n, \\t), DEL, C1 removed."""
	return "".join(c for c in m if not ((ord(c) < 0x20 and c not in "\n\t") or ord(c) == 0x7f
					     or 0x80 <= ord(c) <= 0x9f))


def commit_error_line(m):
	"""The commit's `Error:` text: 200 bytes of the message, control characters as spaces."""
	b = m.encode()[:200]
	while b and len(b) < len(m.encode()) and (m.encode()[len(b)] & 0xc0) == 0x80:
		b = b[:-1]
	return "".join(" " if ord(c) < 0x20 or ord(c) == 0x7f else c for c in b.decode())


def pgrep(pattern):
	p = subprocess.run(["pgrep", "-f", pattern], stdout=subprocess.PIPE, text=True)
	return [int(x) for x in p.stdout.split()] if p.returncode == 0 else []


class HealBase(unittest.TestCase):
	"""Per test: tmp dir, origin + host work tree, a record dir for fake-aider."""
	sshd = None

	def setUp(self):
		self.tmp = tempfile.mkdtemp(prefix="hh-heal-")
		os.chmod(self.tmp, 0o755)
		self.repos = H.make_origin_and_worktree(self.tmp, FILES)
		self.origin, self.host, self.base = self.repos
		self.rec = os.path.join(self.tmp, "rec")
		os.makedirs(self.rec)
		self.state = os.path.join(self.tmp, "state")
		self.fixer = H.FAKE_AIDER

	def tearDown(self):
		if os.environ.get("HEALHOOK_KEEP_TMP") == "1":
			print("kept %s" % self.tmp)
		else:
			shutil.rmtree(self.tmp, ignore_errors=True)

	# -- configuration and running --
	def host_spec(self):
		return self.host

	def repo_keys(self):
		return {}

	def write_config(self, fixer_timeout=10, **keys):
		cfg = os.path.join(self.tmp, "healhook.conf")
		repo = {"host": self.host_spec(), "reviewers": "bob"}
		repo.update(self.repo_keys())
		repo.update({k.replace("_", "-"): v for k, v in keys.items()})
		with open(cfg, "w") as f:
			f.write(H.state_config(self.state))
			f.write("[fixer]\n\tcommand = %s --model {model} --message-file {prompt} "
				"--yes-always --no-git --chat-history-file %s {file}\n"
				% (self.fixer, os.path.join(self.rec, "chat.md")))
			f.write("\ttimeout = %d\n" % fixer_timeout)
			f.write("[commit]\n\tname = healhook\n\temail = healhook@localhost\n")
			f.write('[repo "acme/shop-api"]\n')
			for k, v in repo.items():
				if v is not None:
					f.write("\t%s = %s\n" % (k, v))
		return cfg

	def heal(self, file=TARGET, type="NameError", message="name 'totl' is not defined",
		 extra=(), want=None, timeout=90, fixer_timeout=10, **keys):
		cfg = self.write_config(fixer_timeout=fixer_timeout, **keys)
		argv = [H.BIN, "heal", "--config", cfg, "--repo", "acme/shop-api", "--file", file,
			"--type", type, "--message", message, "--json"] + list(extra)
		env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": self.tmp}
		t0 = time.time()
		p = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
				   timeout=timeout)
		self.elapsed = time.time() - t0
		out = p.stdout.decode()
		self.assertTrue(out.strip(), "no result (exit %d): %s" % (p.returncode, p.stderr.decode()))
		res = json.loads(out)
		res["_exit"] = p.returncode
		res["_stderr"] = p.stderr.decode(errors="replace")
		if want is not None:
			got = "landed" if p.returncode == 0 else res.get("reason")
			self.assertEqual(got, want, "result: %s" % json.dumps(res, indent=1))
		return res

	def recorded(self):
		with open(os.path.join(self.rec, "argv.json"), encoding="utf-8") as f:
			return json.load(f)

	# -- assertions --
	def assert_landed(self, res, message="name 'totl' is not defined", type="NameError",
			  pr_url=None, parent=None):
		parent = parent or self.base
		self.assertEqual(res["_exit"], 0, res)
		self.assertTrue(res["success"], res)
		self.assertEqual(res["state"], "pushed", res)
		tip = H.rev(self.origin, "main")
		self.assertEqual(tip, res["commit_sha"])
		self.assertEqual(H.git(self.origin, "rev-list", "--count", "%s..%s" % (parent, tip)), "1")
		self.assertEqual(H.rev(self.origin, "main^"), parent)
		self.assertEqual(H.git(self.origin, "diff-tree", "--no-commit-id", "--name-only", "-r",
				       tip).splitlines(), [TARGET])
		self.assertEqual(H.show(self.origin, tip, TARGET) + "\n", ORDER_FIXED)
		self.assertEqual(res["diff_lines"], 2)
		msg = H.git(self.origin, "log", "-1", "--format=%B", tip)
		lines = msg.split("\n")
		self.assertEqual(lines[0], "fix(autoheal): [%s] auto-fix %s" % (sanitized_type(type), TARGET))
		self.assertEqual(lines[1], "")
		self.assertEqual(lines[2], "Error: " + commit_error_line(message))
		trailers = H.git(self.origin, "log", "-1", "--format=%(trailers:only,unfold)", tip)
		tr = [l.split(": ", 1) for l in trailers.splitlines() if l.strip()]
		names = [k for k, _ in tr]
		want = ["Healhook-Job", "Healhook-Finding"] + (["Reviewed-in"] if pr_url else [])
		self.assertEqual(names, want, msg)
		d = dict(tr)
		self.assertEqual(d["Healhook-Job"], str(res["job"]))
		self.assertRegex(d["Healhook-Finding"], r"^[0-9a-f]{16}$")
		if pr_url:
			self.assertEqual(d["Reviewed-in"], pr_url)
		self.assert_host_untouched()
		self.assert_no_scratch()
		return tip

	def assert_host_untouched(self):
		self.assertEqual(H.git(self.host, "status", "--porcelain"), "")
		self.assertEqual(H.rev(self.host, "HEAD"), self.base)
		self.assertEqual(H.git(self.host, "for-each-ref", "refs/healhook"), "")

	def assert_no_scratch(self):
		"""The fixer's cwd was SCRATCH/work (recorded by fake-aider): SCRATCH must be gone."""
		path = os.path.join(self.rec, "argv.json")
		if not os.path.exists(path):
			return
		cwd = self.recorded()["cwd"]
		self.assertTrue(cwd.endswith("/work") and "/healhook-" in cwd, cwd)
		self.assertFalse(os.path.exists(os.path.dirname(cwd)), "scratch dir left: %s" % cwd)

	def assert_rejected(self, res, reason, origin_tip=None):
		self.assertEqual(res["_exit"], 1, res)
		self.assertFalse(res["success"], res)
		self.assertEqual(res["state"], "failed", res)
		self.assertEqual(res["reason"], reason, res)
		self.assertFalse(res["commit_sha"], res)
		self.assertEqual(H.rev(self.origin, "main"), origin_tip or self.base)
		self.assert_host_untouched()
		self.assert_no_scratch()


	# -- the branch moves while the fixer runs --
	def concurrent_fixer(self, files):
		"""A fixer wrapper that first pushes a commit changing files to origin (from a separate
		clone), then execs fake-aider. Returns the clone."""
		clone = os.path.join(self.tmp, "other-clone")
		H.git(self.tmp, "clone", "-q", self.origin, clone)
		for rel, content in files.items():
			with open(os.path.join(clone, rel), "a") as f:
				f.write(content)
		wrapper = os.path.join(self.tmp, "fixer-wrapper")
		env = " ".join("%s='%s'" % kv for kv in sorted(H.GIT_ENV.items()))
		with open(wrapper, "w") as f:
			f.write("#!/bin/sh\nset -e\nexport HOME='%s' %s\n" % (self.tmp, env))
			f.write("git -C '%s' commit -q -a -m concurrent >&2\n" % clone)
			f.write("git -C '%s' push -q origin HEAD:main >&2\n" % clone)
			f.write('exec \'%s\' "$@"\n' % H.FAKE_AIDER)
		os.chmod(wrapper, 0o755)
		self.fixer = wrapper
		return clone

class SshMixin:
	"""A real sshd shared by the class; host = ssh://USER@127.0.0.1:PORT/<work tree>."""

	@classmethod
	def setUpClass(cls):
		cls.sshd = Sshd().start()

	@classmethod
	def tearDownClass(cls):
		cls.sshd.stop()

	def host_spec(self):
		return self.sshd.host_spec(self.host)

	def repo_keys(self):
		return {"identity": self.sshd.user_key_ed25519, "known-hosts": self.sshd.known_hosts}


class HealSshHost(SshMixin, HealBase):
	"""ssh transport, push-via host (the default)."""

	def test_fix_lands_one_connection(self):
		url = "https://gitea.acme.test/acme/shop-api/pulls/7"
		res = self.heal(extra=["--pr-url", url], want="landed")
		self.assert_landed(res, pr_url=url)
		self.assertEqual(res["connections"], 1, res)
		# sync, fixer run, check, push: one ssh channel each (issue 12)
		self.assertEqual(res["channels"], 4, res)
		self.assertGreater(res["seconds"], 0)
		self.assertIn("push", res["stages"])
		rec = self.recorded()
		self.assertTrue(rec["stdin_devnull"])
		self.assertEqual(rec["files"], [TARGET])
		self.assertTrue(rec["env"]["HOME"].startswith(os.path.dirname(rec["cwd"])), rec)

	def test_dry_run_lands_nothing(self):
		res = self.heal(extra=["--dry-run"])
		self.assertEqual(res["_exit"], 0, res)
		self.assertEqual(res["state"], "dry-run", res)
		self.assertEqual(res["diff_lines"], 2)
		self.assertEqual(H.rev(self.origin, "main"), self.base)
		self.assert_host_untouched()
		self.assert_no_scratch()

	# -- the fixer misbehaves --
	def test_check_failed(self):
		res = self.heal(message="[[fixer:syntax-error]] totl", want="check-failed")
		self.assert_rejected(res, "check-failed")
		self.assertIn("SyntaxError", res["detail"])

	def test_other_file_edited(self):
		# with only the target in the scratch work directory, fake-aider edits ../x
		res = self.heal(message="[[fixer:other-file]] totl", want="other-file-changed")
		self.assert_rejected(res, "other-file-changed")
		self.assertIn("../x", res["detail"])

	def test_file_created(self):
		res = self.heal(message="[[fixer:create-file]] totl", want="other-file-changed")
		self.assert_rejected(res, "other-file-changed")
		self.assertIn("services/junk.py", res["detail"])

	def test_diff_too_large(self):
		res = self.heal(message="[[fixer:huge]] totl", want="diff-too-large",
				max_diff_lines="50")
		self.assert_rejected(res, "diff-too-large")
		self.assertGreater(res["diff_lines"], 50)

	def test_no_diff(self):
		# an edit applied that leaves the file as it was; a fixer that edits nothing at all
		# (Aider with its model unreachable) is fixer-failed, see test_fixhost
		res = self.heal(message="[[fixer:unchanged]] totl", want="no-diff")
		self.assert_rejected(res, "no-diff")

	def test_fixer_failed(self):
		res = self.heal(message="[[fixer:fail]] totl", want="fixer-failed")
		self.assert_rejected(res, "fixer-failed")

	def test_fixer_timeout_kills_remote_process(self):
		res = self.heal(message="[[fixer:hang]] totl", want="fixer-timeout", fixer_timeout=3)
		self.assert_rejected(res, "fixer-timeout")
		self.assertGreaterEqual(self.elapsed, 3)
		self.assertLess(self.elapsed, 3 + 8, "not stopped at the limit")
		self.assertIn("longer than 3s", res["detail"])
		scratch = os.path.dirname(self.recorded()["cwd"])
		time.sleep(0.3)
		self.assertEqual(pgrep(scratch), [], "the fixer survived its time-out")

	# -- L0 / L1 before the fixer --
	def test_symlink_target_preflight(self):
		os.symlink("order_service.py", os.path.join(self.host, "services", "link.py"))
		self.base = H.commit_files(self.host, {}, "add a symlink")
		res = self.heal(file="services/link.py", want="preflight-failed")
		self.assert_rejected(res, "preflight-failed")
		self.assertIn("symlink", res["detail"])
		self.assertFalse(os.path.exists(os.path.join(self.rec, "argv.json")), "the fixer ran")

	def test_path_with_dotdot_or_absolute(self):
		for path in ("services/../services/order_service.py", "../shop-api-host/" + TARGET,
			     os.path.join(self.host, TARGET), "/etc/passwd"):
			with self.subTest(path=path):
				res = self.heal(file=path, want="path-not-allowed")
				self.assert_rejected(res, "path-not-allowed")
				self.assertEqual(res["connections"], 0, res)

	def test_path_not_allowed_no_connection(self):
		res = self.heal(file="tests/x.py", want="path-not-allowed")
		self.assert_rejected(res, "path-not-allowed")
		self.assertEqual(res["connections"], 0, res)
		self.assertFalse(os.path.exists(os.path.join(self.rec, "argv.json")), "the fixer ran")

	def test_unknown_host_key_refused(self):
		kh = self.sshd.write_known_hosts(os.path.join(self.tmp, "kh-other"),
						 [self.sshd.host_key_ed25519, self.sshd.host_key_rsa],
						 name="[127.0.0.1]:1")
		res = self.heal(known_hosts=kh, want="preflight-failed")
		self.assert_rejected(res, "preflight-failed")
		self.assertIn("SHA256:", res["detail"])
		fps = {self.sshd.fingerprint(self.sshd.host_key_ed25519),
		       self.sshd.fingerprint(self.sshd.host_key_rsa)}
		self.assertTrue(any(fp in res["detail"] for fp in fps), res["detail"])

	def test_wrong_user_key(self):
		key = keygen(os.path.join(self.tmp, "stranger"), "ed25519")
		res = self.heal(identity=key, want="preflight-failed")
		self.assert_rejected(res, "preflight-failed")
		self.assertIn("ssh authentication failed for %s@127.0.0.1 with key %s"
			      % (self.sshd.user, key), res["detail"])

	def test_branch_moved_other_file_rebuilds(self):
		clone = self.concurrent_fixer({OTHER: "# concurrent\n"})
		res = self.heal(want="landed")
		other = H.rev(clone, "HEAD")
		self.assertNotEqual(other, self.base)
		self.assertIn("rebuild", res["stages"])
		self.assertEqual(res["connections"], 1, res)
		tip = H.rev(self.origin, "main")
		self.assertEqual(tip, res["commit_sha"])
		self.assertEqual(H.rev(self.origin, "main^"), other)
		self.assertEqual(H.rev(self.origin, "main^^"), self.base)
		self.assertEqual(H.git(self.origin, "diff-tree", "--no-commit-id", "--name-only", "-r",
				       tip).splitlines(), [TARGET])
		self.assertEqual(H.show(self.origin, tip, TARGET) + "\n", ORDER_FIXED)
		self.assertTrue(H.show(self.origin, tip, OTHER).endswith("# concurrent"))
		self.assert_host_untouched()
		self.assert_no_scratch()

	def test_branch_moved_same_file_dropped(self):
		clone = self.concurrent_fixer({TARGET: "# concurrent\n"})
		res = self.heal(want="branch-moved")
		other = H.rev(clone, "HEAD")
		self.assertEqual(res["_exit"], 1)
		self.assertEqual(res["state"], "failed")
		self.assertEqual(H.rev(self.origin, "main"), other)
		self.assertEqual(H.rev(self.origin, "main^"), self.base)
		self.assertEqual(H.show(self.origin, "main", TARGET) + "\n", ORDER + "# concurrent\n")
		self.assert_host_untouched()
		self.assert_no_scratch()

	# -- hostile finding text --
	def test_hostile_message_verbatim_nothing_executed(self):
		m1 = "/tmp/pwned-%d-a" % os.getpid()
		m2 = "/tmp/pwned-%d-b" % os.getpid()
		m3 = "/tmp/pwned-%d-c" % os.getpid()
		for m in (m1, m2, m3):
			if os.path.exists(m):
				os.unlink(m)
		message = ('/run rm -rf / "; touch %s; echo " $(touch %s)\n`touch %s`\n'
			   "!touch %s\ttab 'quote' \\ back\r\x07\x1b[31mred\x7f end \u00e9\u0085"
			   % (m1, m2, m3, m1))
		try:
			res = self.heal(message=message, want="landed")
			rec = self.recorded()
			want = PROMPT.format(type="NameError", message=prompt_message(message))
			self.assertEqual(rec["prompt"], want)
			self.assertNotIn(message, " ".join(rec["argv"]))
			self.assertNotIn("touch", " ".join(rec["argv"]))
			with open(os.path.join(self.rec, "chat.md"), encoding="utf-8") as f:
				chat = f.read()
			self.assertIn("#### " + want.split("\n")[0], chat)
			self.assert_landed(res, message=message)
			for m in (m1, m2, m3):
				self.assertFalse(os.path.exists(m), "%s was created" % m)
		finally:
			for m in (m1, m2, m3):
				if os.path.exists(m):
					os.unlink(m)

	def test_hostile_type_sanitized(self):
		marker = "/tmp/pwned-%d-type" % os.getpid()
		if os.path.exists(marker):
			os.unlink(marker)
		t = "NameError$(id -un >%s)" % marker
		try:
			res = self.heal(type=t, want="landed")
			self.assertFalse(os.path.exists(marker), "the type was executed")
			self.assertEqual(self.recorded()["prompt"],
					 PROMPT.format(type=sanitized_type(t),
						       message="name 'totl' is not defined"))
			self.assert_landed(res, type=t)
			subject = H.git(self.origin, "log", "-1", "--format=%s", "main")
			self.assertNotIn("$", subject)
			self.assertNotIn(" -un", subject)
		finally:
			if os.path.exists(marker):
				os.unlink(marker)


class HealSshMirror(SshMixin, HealBase):
	"""ssh transport for the fixer; the mirror pushes to origin itself over libgit2's ssh."""

	def repo_keys(self):
		keys = super().repo_keys()
		keys["push-via"] = "mirror"
		keys["remote"] = self.sshd.host_spec(self.origin)
		return keys

	def test_fix_lands(self):
		res = self.heal(want="landed")
		self.assert_landed(res)
		self.assertGreaterEqual(res["connections"], 1, res)
		self.assertLessEqual(res["connections"], 3, res)

	def test_rejected_fix_leaves_origin(self):
		res = self.heal(message="[[fixer:syntax-error]] totl", want="check-failed")
		self.assert_rejected(res, "check-failed")

	def test_branch_moved_other_file_rebuilds(self):
		clone = self.concurrent_fixer({OTHER: "# concurrent\n"})
		res = self.heal(want="landed")
		self.assertIn("rebuild", res["stages"])
		self.assertEqual(H.rev(self.origin, "main"), res["commit_sha"])
		self.assertEqual(H.rev(self.origin, "main^"), H.rev(clone, "HEAD"))
		self.assertEqual(H.git(self.origin, "diff-tree", "--no-commit-id", "--name-only", "-r",
				       "main").splitlines(), [TARGET])

	def test_branch_moved_same_file_dropped(self):
		clone = self.concurrent_fixer({TARGET: "# concurrent\n"})
		res = self.heal(want="branch-moved")
		self.assertEqual(H.rev(self.origin, "main"), H.rev(clone, "HEAD"))
		self.assert_host_untouched()
		self.assert_no_scratch()


class HealLocal(HealBase):
	"""host = /path: the local transport."""

	def test_fix_lands(self):
		res = self.heal(want="landed")
		self.assert_landed(res)
		self.assertEqual(res["connections"], 0, res)
		self.assertTrue(self.recorded()["stdin_devnull"])

	def test_local_prefix_and_rejection(self):
		res = self.heal(message="[[fixer:create-file]] totl", want="other-file-changed",
				host="local:" + self.host)
		self.assert_rejected(res, "other-file-changed")

	def test_symlinked_dir_on_the_path(self):
		# a directory on the target's path that is a symlink in the repository
		os.symlink("services", os.path.join(self.host, "routes"))
		self.base = H.commit_files(self.host, {}, "add a symlinked dir")
		res = self.heal(file="routes/order_service.py", want="preflight-failed")
		self.assert_rejected(res, "preflight-failed")


class HealTiming(SshMixin, HealBase):
	"""Measures: connections and seconds of a successful heal over ssh, push-via host (five
	heals; the median is printed)."""

	def test_five_heals(self):
		secs = []
		for i in range(5):
			if i:
				# a fresh bug on the new tip for the next heal
				H.git(self.host, "pull", "-q", "--ff-only")
				self.base = H.commit_files(self.host, {TARGET: ORDER}, "bug again %d" % i)
			res = self.heal(want="landed")
			self.assertEqual(res["connections"], 1, res)
			secs.append(res["seconds"])
		print("\n  heal over ssh (push-via host): connections=1, seconds=%s, median %.3f"
		      % (["%.3f" % s for s in secs], statistics.median(secs)), flush=True)
		self.assertLess(statistics.median(secs), 10)


if __name__ == "__main__":
	unittest.main()
