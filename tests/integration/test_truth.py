"""Issue 15, "every report is true", end to end on 127.0.0.1 (local transport, the App of
test_aftercare as the deployed application, tests/lib/telegram_mock.py as Telegram):

- a revert that landed while health stays bad is `reverted: true` with its own reason and
  notice, and freezes the repository with that reason (also with health-version-field when the
  endpoint never reports the revert's SHA);
- two `healhook heal` of one repository at once: the second waits for the first's claim (or is
  refused with --no-wait); neither fails on a ref lock;
- a revert-failed job's finding is quarantined: after `unfreeze` serve and heal refuse it
  (heal --force takes it);
- the small truths: the fixer's own error text, the right "needs ..." message, a binary edit,
  fresh `seconds`/`updated` in heal --json, `heal --log-format json`.
"""
import json
import os
import re
import sqlite3
import subprocess
import threading
import time
import unittest

from lib import harness as H
from lib import postgres
from lib.sshd import Sshd
from lib.telegram_mock import TelegramMock

import test_aftercare as A

TOKEN = "4242:truth-token"
CHATS = ["1001", "1002"]


class World(A.World):
	"""test_aftercare's World, with Telegram notices (two chats) and a few extra keys."""

	def __init__(self, tmp, telegram=None, lag=0.0, hook=None):
		super().__init__(tmp, lag=lag, hook=hook)
		self.telegram = telegram
		self.extra = ""

	def write(self, **keys):
		super().write(**keys)
		with open(self.cfg, "a") as f:
			f.write(self.extra)
			if self.telegram:
				tf = os.path.join(self.tmp, "tg-token")
				with open(tf, "w") as t:
					t.write(TOKEN + "\n")
				f.write("[notify]\n\ttelegram-token-file = %s\n\ttelegram-api = %s\n"
					% (tf, self.telegram.url))
				for c in CHATS:
					f.write("\ttelegram-chat = %s\n" % c)
		return self.cfg

	def frozen_why(self):
		rows = H.db_query(self.state, "SELECT frozen, why FROM repos WHERE repo = ?", (A.REPO,))
		return rows[0][1] if rows and rows[0][0] else None


def heal_argv(cfg, file=A.ORDER, message=A.MSG, extra=()):
	return [H.BIN, "heal", "--config", cfg, "--repo", A.REPO, "--file", file, "--type",
		"NameError", "--message", message, "--json"] + list(extra)


def run_heal(cfg, **kw):
	p = subprocess.run(heal_argv(cfg, **kw), env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
			   stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
	out, err = p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")
	try:
		return p.returncode, json.loads(out), err
	except ValueError:
		raise AssertionError("heal printed no result (exit %d)\n%s%s" % (p.returncode, out, err))


class Base(unittest.TestCase):
	def setUp(self):
		self._tmp = H.tmpdir("hh-truth-")
		self.tmp = self._tmp.__enter__()
		self.w = None
		self.tg = None
		self.proc = None

	def tearDown(self):
		if self.proc:
			self.proc.stop()
		if self.w:
			self.w.stop()
		if self.tg:
			self.tg.stop()
		self._tmp.__exit__(None, None, None)

	def world(self, telegram=False, lag=0.0, hook=None, extra="", **keys):
		if telegram:
			self.tg = TelegramMock(token=TOKEN, chats=CHATS).start()
		self.w = World(self.tmp, telegram=self.tg, lag=lag, hook=hook)
		self.w.extra = extra
		self.w.write(**keys)
		return self.w

	def wait_texts(self, pred, what):
		return H.wait_for(lambda: pred(self.tg.messages), timeout=15, what=what)


class RevertOutcome(Base):
	"""Item 3: `reverted` is true iff the revert is on the branch."""

	def check_landed_revert_unhealthy(self, res, t_before):
		w = self.w
		self.assertEqual(res["state"], "reverted", res)
		self.assertTrue(res["reverted"], res)
		self.assertFalse(res["success"])
		self.assertEqual(res["reason"], "unhealthy-after-revert", res)
		self.assertRegex(res["message"], r"health still failing after the revert")
		# the revert is on origin's branch, restoring the file
		self.assertEqual(H.rev(w.origin, "main"), res["revert_sha"])
		self.assertEqual(H.rev(w.origin, "main~1"), res["commit_sha"])
		self.assertEqual(H.show(w.origin, "main", A.ORDER), A.FILES[A.ORDER].rstrip("\n"))
		# frozen, with that reason
		why = w.frozen_why()
		self.assertIsNotNone(why, "the repository is not frozen")
		self.assertIn("health still failing after the revert %s" % res["revert_sha"][:12], why)
		self.assertNotIn("revert of job", why)
		h = w.history()[res["job"]]
		self.assertEqual((h["state"], h["reverted"], h["reason"], h["quarantined"]),
				 ("reverted", True, "unhealthy-after-revert", True), h)
		# the notice: its own title, to both chats; never "Revert failed"
		title = "Reverted, but health is still failing"
		self.wait_texts(lambda m: len([x for x in m if title in x["text"]]) >= 2,
				"the revert-unhealthy notice")
		self.assertEqual(sorted(x["chat_id"] for x in self.tg.messages if title in x["text"]),
				 CHATS)
		self.assertFalse([x for x in self.tg.messages if "Revert failed" in x["text"]],
				 self.tg.texts())
		# heal --json: seconds and updated are those of the end, after the watch and revert
		self.assertGreaterEqual(res["updated"], int(t_before))
		self.assertEqual(res["updated"], h["updated"])
		stages = res["stages"]
		self.assertIn("watch-revert", stages)
		self.assertGreaterEqual(res["seconds"] * 1000, stages["watch"] + stages["watch-revert"])
		self.assertLess(res["push_seconds"], res["seconds"])

	def test_health_failing_after_a_landed_revert(self):
		w = self.world(telegram=True)
		w.app.fail_next = 10 ** 6  # every deployment but the initial one answers 500
		t0 = time.time()
		rc, res, _, err = w.heal()
		self.assertEqual(rc, 1, err)
		self.check_landed_revert_unhealthy(res, t0)

	def test_version_field_never_reports_the_revert(self):
		def hook(app, sha, broken):
			if broken:
				app.lag = 10 ** 6  # the broken fix stays deployed: the revert never shows
		w = self.world(telegram=True, hook=hook, health_version_field="version",
			       health_timeout=6)
		t0 = time.time()
		rc, res, _, err = w.heal(message=A.MSG + A.BREAK)
		self.assertEqual(rc, 1, err)
		self.assertNotIn(res["revert_sha"], [v for v, c in w.app.seen])
		self.check_landed_revert_unhealthy(res, t0)
		self.assertIn("version", res["message"])

	def test_zh_tw_wording(self):
		w = self.world(telegram=True, extra="[notify]\n\tlang = zh-TW\n")
		w.app.fail_next = 10 ** 6
		rc, res, _, err = w.heal()
		self.assertEqual((rc, res["reason"]), (1, "unhealthy-after-revert"), err)
		self.wait_texts(lambda m: len([x for x in m if "已回滾，但健康檢查仍然失敗" in x["text"]]) >= 2,
				"the zh-TW notice")
		self.assertFalse([x for x in self.tg.messages if "🚨 回滾失敗" in x["text"]])


SLOW_FIXER = """#!/usr/bin/env python3
import os, sys, time
time.sleep(float(os.environ.get("SLOW", "2")) if "SLOW" in os.environ else 2)
os.execv(sys.argv[1], sys.argv[1:])
"""


class Concurrency(Base):
	"""Item 4: `healhook heal` takes the worker's per-repository claim."""

	def slow_world(self):
		w = self.world()
		slow = os.path.join(self.tmp, "slow-fixer")
		with open(slow, "w") as f:
			f.write(SLOW_FIXER)
		os.chmod(slow, 0o755)
		with open(w.cfg) as f:
			text = f.read()
		with open(w.cfg, "w") as f:
			f.write(text.replace("command = %s " % H.FAKE_AIDER,
					     "command = %s %s " % (slow, H.FAKE_AIDER)))
		return w

	def test_two_concurrent_heals_one_waits_neither_fails(self):
		w = self.slow_world()
		out = {}

		def go(key, file):
			out[key] = run_heal(w.cfg, file=file)
		t1 = threading.Thread(target=go, args=("a", A.ORDER))
		t2 = threading.Thread(target=go, args=("b", "services/cart_service.py"))
		t1.start()
		time.sleep(0.3)
		t2.start()
		t1.join(120)
		t2.join(120)
		(rc1, r1, e1), (rc2, r2, e2) = out["a"], out["b"]
		self.assertEqual((rc1, r1["state"]), (0, "healed"), e1)
		self.assertEqual((rc2, r2["state"]), (0, "healed"), e2)
		self.assertNotIn("cannot lock ref", e1 + e2)
		self.assertRegex(e2, r"acme/shop-api has job %d in progress \((fixing|watching)\); "
				 r"waiting" % r1["job"])
		log = H.git(w.origin, "log", "--format=%s", "main").splitlines()
		self.assertEqual(len([s for s in log if s.startswith("fix(autoheal)")]), 2, log)
		# the second started its fixer only after the first's job had ended
		self.assertGreaterEqual(r2["created"], r1["updated"] - 1)

	def test_no_wait_refuses_with_a_clear_reason(self):
		w = self.slow_world()
		first = subprocess.Popen(heal_argv(w.cfg), env={"PATH": os.environ["PATH"]},
					 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
		try:
			H.wait_for(lambda: (postgres.backend() == "postgresql" or os.path.exists(
				os.path.join(w.state, "healhook.db"))) and any(
				j["state"] == "fixing" for j in w.history().values()), timeout=20,
				what="the first heal holds the claim")
			rc, res, err = run_heal(w.cfg, file="services/cart_service.py", extra=["--no-wait"])
		finally:
			o, e = first.communicate(timeout=120)
		self.assertEqual((rc, res["state"], res["reason"]), (1, "failed", "repo-busy"), err)
		self.assertRegex(res["message"], r"acme/shop-api has job \d+ in progress \(fixing\)")
		self.assertEqual(first.returncode, 0, e)
		self.assertEqual(json.loads(o)["state"], "healed")


class Quarantine(Base):
	"""Item 5: after revert-failed + unfreeze, the finding is refused (serve and heal)."""

	def test_revert_failed_finding_is_quarantined(self):
		conflict = {}

		def hook(app, sha, broken):
			if broken and not conflict:
				text = H.show(self.w.origin, sha, A.ORDER).replace("return s", "return s or 0")
				conflict["sha"] = self.w.dev_commit({A.ORDER: text + "\n"}, "hotfix by carol")
		w = self.world(hook=hook)
		message = A.MSG + A.BREAK
		rc, res, _, err = w.heal(message=message)
		self.assertEqual((rc, res["state"], res["reverted"]), (1, "revert-failed", False), err)
		self.assertTrue(w.frozen())
		self.assertTrue(w.history()[res["job"]]["quarantined"])
		self.assertEqual(w.unfreeze()[0], 0)
		self.assertFalse(w.frozen())
		# serve: the same finding is rejected as quarantined
		port = H.free_port()
		self.proc = H.start_process([H.BIN, "serve", "--config", w.cfg, "--listen",
					     "127.0.0.1:%d" % port], env={"PATH": os.environ["PATH"]},
					    log_path=os.path.join(self.tmp, "serve.log"))
		H.wait_http("http://127.0.0.1:%d/healthz" % port, timeout=10)
		hdrs, body = A.comment_delivery([(A.ORDER, "NameError", message)])
		st, _, data = H.post("http://127.0.0.1:%d/hooks/gitea" % port, body, hdrs)
		self.assertEqual(st, 202, data)
		self.assertEqual(json.loads(data)["rejected"], [{"file": A.ORDER,
								 "reason": "quarantined"}])
		self.proc.stop()
		self.proc = None
		# heal: refused as quarantined; nothing ran
		tip = H.rev(w.origin, "main")
		rc, r2, err = run_heal(w.cfg, message=message)
		self.assertEqual((rc, r2["state"], r2["reason"]), (1, "failed", "quarantined"), err)
		self.assertIn("--force", r2["message"])
		self.assertEqual(H.rev(w.origin, "main"), tip)
		# --force takes it (the fixer runs: nothing left to fix after carol's hotfix)
		rc, r3, err = run_heal(w.cfg, message=message, extra=["--force"])
		self.assertNotEqual(r3["reason"], "quarantined", err)
		self.assertIn("diff", r3["stages"], r3)


class SmallTruths(Base):
	"""Item 7."""

	def test_fixer_own_error_reaches_message_history_and_log(self):
		w = self.world()
		with open(w.cfg) as f:
			text = f.read()
		with open(w.cfg, "w") as f:
			f.write(text.replace("command = %s " % H.FAKE_AIDER,
					     "command = env healhook-no-such-aider ") +
				"[log]\n\tformat = json\n")
		rc, res, _, err = w.heal()
		want = "env: 'healhook-no-such-aider': No such file or directory"
		# env itself is found; its exit status 127 is reported as the fixer not found (issue 10)
		self.assertEqual((rc, res["reason"]), (1, "fixer-not-found"), err)
		self.assertIn(want, res["message"])
		self.assertIn(want, res["detail"])
		self.assertIn(want, w.history()[res["job"]]["message"])
		logged = [json.loads(l) for l in err.splitlines() if l.startswith("{")]
		self.assertTrue([l for l in logged if l.get("event") == "job.failed"
				 and want in l.get("detail", "")], err)

	def test_needs_message_names_what_is_missing(self):
		w = self.world()
		key = os.path.join(self.tmp, "id_test")
		with open(key, "w") as f:
			f.write("not used\n")
		for keys, want in (({"identity": key}, "needs a known-hosts file"),
				   ({"known_hosts": key}, "needs an identity (a private key file)"),
				   ({}, "needs an identity and a known-hosts file")):
			w.write(host="ssh://deploy@127.0.0.1:1/srv/shop", **keys)
			rc, res, _, err = w.heal()
			self.assertEqual(rc, 1, err)
			self.assertIn("ssh host 'ssh://deploy@127.0.0.1:1/srv/shop' " + want, res["message"])

	def test_binary_edit_is_not_unchanged(self):
		w = self.world(check="true")
		fixer = os.path.join(self.tmp, "binary-fixer")
		with open(fixer, "w") as f:
			f.write("#!/usr/bin/env python3\nimport sys\n"
				"open(sys.argv[-1], 'ab').write(b'\\x00\\x01binary\\x00')\n")
		os.chmod(fixer, 0o755)
		with open(w.cfg) as f:
			text = f.read()
		with open(w.cfg, "w") as f:
			f.write(text.replace("command = %s " % H.FAKE_AIDER, "command = %s " % fixer))
		tip = H.rev(w.origin, "main")
		rc, res, _, err = w.heal()
		self.assertEqual((rc, res["reason"]), (1, "binary-change"), err)
		self.assertNotIn("unchanged", res["message"])
		self.assertIn("binary", res["message"])
		self.assertEqual(H.rev(w.origin, "main"), tip)

	def test_heal_accepts_log_format_json(self):
		w = self.world()
		p = subprocess.run(heal_argv(w.cfg, extra=["--log-format", "json", "--log-level",
							   "debug"]),
				   env={"PATH": os.environ["PATH"]}, stdout=subprocess.PIPE,
				   stderr=subprocess.PIPE, timeout=120)
		err = p.stderr.decode()
		self.assertEqual(p.returncode, 0, err)
		lines = [l for l in err.splitlines() if l.strip()]
		self.assertTrue(lines, "no log line")
		for l in lines:
			json.loads(l)  # every log line is JSON
		p = subprocess.run(heal_argv(w.cfg, extra=["--log-format", "yaml"]),
				   env={"PATH": os.environ["PATH"]}, stdout=subprocess.PIPE,
				   stderr=subprocess.PIPE, timeout=30)
		self.assertEqual(p.returncode, 2)
		self.assertIn("--log-format must be text or json", p.stderr.decode())


class NoSftp(unittest.TestCase):
	"""Item 6: a fix host whose sshd has no sftp subsystem heals (issue 12: exec channels only)."""

	@classmethod
	def setUpClass(cls):
		cls.sshd = Sshd(sftp=False).start()

	@classmethod
	def tearDownClass(cls):
		cls.sshd.stop()

	def setUp(self):
		self._tmp = H.tmpdir("hh-nosftp-")
		self.tmp = self._tmp.__enter__()
		os.chmod(self.tmp, 0o755)
		self.repos = H.make_origin_and_worktree(self.tmp, {A.ORDER: A.FILES[A.ORDER]})
		self.cfg = os.path.join(self.tmp, "healhook.conf")
		with open(self.cfg, "w") as f:
			f.write(H.state_config(os.path.join(self.tmp, "state")))
			f.write("[fixer]\n\tcommand = %s --message-file {prompt} --chat-history-file %s "
				"{file}\n" % (H.FAKE_AIDER, os.path.join(self.tmp, "chat.md")))
			f.write('[repo "%s"]\n\thost = %s\n\tidentity = %s\n\tknown-hosts = %s\n'
				"\treviewers = bob\n" % (A.REPO, self.sshd.host_spec(self.repos.worktree),
							  self.sshd.user_key_ed25519, self.sshd.known_hosts))

	def tearDown(self):
		self._tmp.__exit__(None, None, None)

	def test_heal_lands_in_4_channels_without_sftp(self):
		# issue 12's heal moves every file through its exec channels: no SFTP is needed
		rc, res, err = run_heal(self.cfg)
		self.assertEqual((rc, res["state"], res["reason"]), (0, "pushed", None), err)
		self.assertEqual((res["connections"], res["channels"]), (1, 4), res)
		self.assertIn("locate", res["stages"])
		self.assertNotEqual(H.rev(self.repos.origin, "main"), self.repos.head)

	def test_heal_failure_cleans_up_without_sftp(self):
		# a fixer that fails leaves a scratch directory, removed through an exec channel
		fixer = os.path.join(self.tmp, "fixer.sh")
		with open(fixer, "w") as f:
			f.write("#!/bin/sh\necho \"in $PWD\"\nexit 3\n")
		os.chmod(fixer, 0o755)
		with open(self.cfg) as f:
			text = f.read()
		with open(self.cfg, "w") as f:
			f.write(text.replace(text.split("command = ")[1].split("\n")[0], "%s {file}" % fixer))
		rc, res, err = run_heal(self.cfg)
		self.assertEqual((rc, res["reason"]), (1, "fixer-failed"), res)
		m = re.search(r"in (/tmp/healhook-[0-9a-f]+)/work", res["detail"])
		self.assertTrue(m, res["detail"])
		self.assertFalse(os.path.exists(m.group(1)), "scratch directory left on the host")
		self.assertEqual(H.rev(self.repos.origin, "main"), self.repos.head)

	def test_doctor_reports_the_sftp_subsystem_as_a_warning(self):
		p = subprocess.run([H.BIN, "doctor", "--config", self.cfg], stdout=subprocess.PIPE,
				   stderr=subprocess.PIPE, text=True, timeout=60,
				   env={"PATH": os.environ["PATH"]})
		lines = p.stdout.splitlines()
		self.assertTrue([l for l in lines if l.startswith("✓") and "key accepted" in l], p.stdout)
		warn = [l for l in lines if l.startswith("!") and "sftp subsystem" in l]
		self.assertTrue(warn, p.stdout)
		self.assertIn("no sftp subsystem", warn[0])
		self.assertIn("Subsystem sftp", p.stdout)
		# information only: no failed check, so the exit status is 0
		self.assertEqual([l for l in lines if l.startswith("✗")], [], p.stdout)
		self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

if __name__ == "__main__":
	unittest.main()
