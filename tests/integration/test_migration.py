"""Issue 15: a predecessor user switches with its `.env` and what docs/operations.md's
migration table says to add, nothing else.

The fix host is a real sshd on 127.0.0.1 (tests/lib/sshd.py); the host's work tree is a clone
of a bare origin at .../acme/shop-api.git, so `git remote get-url origin` there names the
repository acme/shop-api. Telegram is tests/lib/telegram_mock.py, Ollama a /api/tags
stand-in, the deployed application tests/lib/health_server.py, the fixer fake-aider. The
environment below is the predecessor's `.env` (its variable names and shapes, with
TELEGRAM_CHAT_IDS as the JSON it read with json.loads), plus the table's additions
(HEALHOOK_SECRET, HEALHOOK_REVIEWERS, the listen address), plus what points the stand-ins in
(HEALHOOK_FIXER_COMMAND for Aider, HEALHOOK_NOTIFY_TELEGRAM_API for api.telegram.org).
HOME is the user's home, whose ~/.ssh/known_hosts knows the host.
"""
import json
import os
import sqlite3
import subprocess
import unittest

from lib import harness as H
from lib.health_server import HealthServer
from lib.sshd import Sshd
from lib.telegram_mock import TelegramMock

import test_aftercare as A
import test_doctor as D

TOKEN = "5150:predecessor-bot-token"
MODEL = "qwen2.5-coder:7b"


class Predecessor(unittest.TestCase):
	@classmethod
	def setUpClass(cls):
		cls.sshd = Sshd().start()

	@classmethod
	def tearDownClass(cls):
		cls.sshd.stop()

	def setUp(self):
		self._tmp = H.tmpdir("hh-migr-")
		self.tmp = self._tmp.__enter__()
		os.chmod(self.tmp, 0o755)
		self.repos = H.make_origin_and_worktree(self.tmp, {A.ORDER: A.FILES[A.ORDER]},
							name="acme/shop-api")
		self.home = os.path.join(self.tmp, "home")
		os.makedirs(os.path.join(self.home, ".ssh"))
		with open(self.sshd.known_hosts) as f, \
				open(os.path.join(self.home, ".ssh", "known_hosts"), "w") as g:
			g.write(f.read())
		self.tg = TelegramMock(token=TOKEN, chats=["1001", "1002"]).start()
		self.ollama = D.OllamaMock([MODEL]).start()
		self.app = HealthServer().start()
		self.proc = None

	def tearDown(self):
		if self.proc:
			self.proc.stop()
		self.app.stop()
		self.ollama.stop()
		self.tg.stop()
		self._tmp.__exit__(None, None, None)

	def env(self, **over):
		e = {
			# the predecessor's .env
			"HEAL_SSH_HOST": "127.0.0.1",
			"HEAL_SSH_USER": self.sshd.user,
			"HEAL_SSH_PORT": str(self.sshd.port),
			"DEPLOY_SSH_KEY_PATH": self.sshd.user_key_ed25519,
			"AIDER_REPO_PATH": self.repos.worktree,
			"MOMO_BASE_URL": self.app.url,
			"OLLAMA_API_BASE": self.ollama.url,
			"AIDER_MODEL": "ollama_chat/" + MODEL,
			"AIDER_MAX_DIFF_LINES": "20",
			"AIDER_MAX_HOURLY_FIX": "3",
			"TELEGRAM_BOT_TOKEN": TOKEN,
			"TELEGRAM_CHAT_IDS": '["1001","1002"]',
			# what the migration table says to add
			"HEALHOOK_SECRET": H.FIXTURE_SECRET,
			"HEALHOOK_REVIEWERS": "bob",
			# the stand-ins for Aider and api.telegram.org
			"HEALHOOK_FIXER_COMMAND": "%s --model {model} --message-file {prompt} --yes-always "
						  "--no-git --chat-history-file /dev/null {file}" % H.FAKE_AIDER,
			"HEALHOOK_NOTIFY_TELEGRAM_API": self.tg.url,
			# the user's own
			"HOME": self.home,
			"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
		}
		for k, v in over.items():
			if v is None:
				e.pop(k, None)
			else:
				e[k] = v
		return e

	def state_db(self):
		return os.path.join(self.home, ".local", "state", "healhook", "healhook.db")

	def test_a_heal_lands_and_both_chats_get_every_notice(self):
		port = H.free_port()
		url = "http://127.0.0.1:%d" % port
		self.proc = H.start_process([H.BIN, "serve", "--listen", "127.0.0.1:%d" % port],
					    env=self.env(), log_path=os.path.join(self.tmp, "serve.log"))
		H.wait_http(url + "/healthz", timeout=15)
		self.assertIn("repo=acme/shop-api", self.proc.output())
		# bob's comment on an issue (not a PR): the fix goes to the default branch, main
		mf = H.make_fixtures()
		payload = mf.comment_payload("bob", "please fix:\n\n" + A.finding_lines(
			[(A.ORDER, "NameError", A.MSG)]), 4242, "2026-04-15T12:00:00Z", is_pull=False)
		hdrs, body = mf.delivery(payload, "issue_comment", "issue_comment",
					 "0b5e6a40-1b8c-4b7e-9a55-predecessor", secret=H.FIXTURE_SECRET)
		st, _, data = H.post(url + "/hooks/gitea", body, hdrs)
		self.assertEqual(st, 202, data)
		ans = json.loads(data)
		self.assertEqual(len(ans["accepted"]), 1, ans)
		job = ans["accepted"][0]

		def state():
			if not os.path.exists(self.state_db()):
				return None
			db = sqlite3.connect(self.state_db())
			try:
				row = db.execute("SELECT state, reason, detail, commit_sha FROM jobs WHERE id = ?",
						 (job,)).fetchone()
			finally:
				db.close()
			return row if row and row[0] in ("healed", "failed", "reverted",
							 "revert-failed") else None
		row = H.wait_for(state, timeout=60, interval=0.2,
				 what="job %d final\n%s" % (job, self.proc.output()[-3000:]))
		self.assertEqual(row[0], "healed", row)
		# the fix landed on origin's main, exactly one commit
		self.assertEqual(H.rev(self.repos.origin, "main"), row[3])
		self.assertEqual(H.rev(self.repos.origin, "main~1"), self.repos.head)
		self.assertNotIn("# BUG:", H.show(self.repos.origin, "main", A.ORDER))
		# every notice reached both chats
		H.wait_for(lambda: len([m for m in self.tg.messages if "Healed" in m["text"]]) >= 2,
			   timeout=15, what="the healed notice in both chats")
		by_text = {}
		for m in self.tg.messages:
			by_text.setdefault(m["text"], []).append(m["chat_id"])
		self.assertGreaterEqual(len(by_text), 2, by_text)  # started and healed at least
		for text, chats in by_text.items():
			self.assertEqual(sorted(chats), ["1001", "1002"], text)
		self.assertTrue([t for t in by_text if "Healing started" in t], list(by_text))
		self.assertGreaterEqual(self.app.hits, 1, "the health URL (MOMO_BASE_URL/health) was "
					"not watched")
		self.assertFalse([c for c in self.tg.calls if c[2] != 200], self.tg.calls)

	def test_one_error_lists_every_missing_variable(self):
		p = subprocess.run([H.BIN, "serve", "--listen", "127.0.0.1:1"],
				   env=self.env(HEAL_SSH_HOST=None, AIDER_REPO_PATH=None),
				   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30)
		self.assertEqual(p.returncode, 2, p.stderr)
		self.assertRegex(p.stderr, r"the predecessor's environment lacks HEAL_SSH_HOST .*, "
				 r"AIDER_REPO_PATH .*: set them")
		p = subprocess.run([H.BIN, "serve", "--listen", "127.0.0.1:1"],
				   env=self.env(DEPLOY_SSH_KEY_PATH=None),
				   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30)
		self.assertEqual(p.returncode, 2, p.stderr)
		self.assertIn("lacks DEPLOY_SSH_KEY_PATH (the ssh key), HEALHOOK_REPO", p.stderr)

	def test_chat_ids_not_json_nor_a_list_stop_serve_at_start(self):
		for bad in ('["1001" "1002"]', '["1001","1002"', "chat one"):
			p = subprocess.run([H.BIN, "serve", "--listen", "127.0.0.1:1"],
					   env=self.env(TELEGRAM_CHAT_IDS=bad), stdout=subprocess.PIPE,
					   stderr=subprocess.PIPE, text=True, timeout=30)
			self.assertEqual(p.returncode, 2, p.stderr)
			self.assertIn("bad value for TELEGRAM_CHAT_IDS: ", p.stderr)

	def test_name_unreadable_from_the_host_is_one_clear_error(self):
		H.git(self.repos.worktree, "remote", "remove", "origin")
		p = subprocess.run([H.BIN, "serve", "--listen", "127.0.0.1:1"], env=self.env(),
				   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30)
		self.assertEqual(p.returncode, 2, p.stderr)
		self.assertIn("lacks HEALHOOK_REPO, and the repository's name cannot be read from the "
			      "fix host: git remote get-url origin in %s exited with 2"
			      % self.repos.worktree, p.stderr)
		self.assertIn("set HEALHOOK_REPO=owner/name", p.stderr)


if __name__ == "__main__":
	unittest.main()
