"""internal/notify against TelegramMock and GiteaMock on 127.0.0.1, driven by
build/tools/notify_send: every chat gets every message exactly once, 429 with retry_after is
honoured, 5xx is retried, the bot token never reaches the logs, an unreachable Telegram does not
hold up the exit beyond the grace, Gitea gets PR comments and healhook commit statuses
(pending, success, failure), and zh-TW wording arrives."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from lib import harness  # noqa: E402
from lib.gitea_mock import GiteaMock  # noqa: E402
from lib.telegram_mock import TelegramMock  # noqa: E402

ROOT = os.environ.get("HEALHOOK_ROOT",
                      os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
TOOL = os.path.join(ROOT, os.environ.get("HEALHOOK_BUILD", "build"), "tools", "notify_send")

TOKEN = "987654:SECRET-bot-token-XYZ"
GTOKEN = "gitea-secret-token-123"
SHA = "0123456789abcdef0123456789abcdef01234567"
REVERT = "fedcba9876543210fedcba9876543210fedcba98"


def notice(outcome, job=1, **kw):
    d = {"outcome": outcome, "job": job, "repo": "acme/shop-api", "branch": "main",
         "file": "services/cart.py", "type": "SyntaxError", "message": "missing colon"}
    d.update(kw)
    return json.dumps(d)


@unittest.skipUnless(os.path.exists(TOOL), "build/tools/notify_send not built")
class NotifyTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="hh-notify-")
        self.env = {k: v for k, v in os.environ.items()
                    if not (k.startswith("HEALHOOK_") or k.startswith("TELEGRAM_"))}

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def config(self, tg_url=None, chats=("111", "222"), gitea=None, lang="en", comment=True):
        lines = ["[log]", "\tlevel = debug", "[notify]", "\tlang = %s" % lang,
                 "\tgitea-comment = %s" % ("true" if comment else "false")]
        if tg_url:
            tf = os.path.join(self.tmp, "tg-token")
            with open(tf, "w") as f:
                f.write(TOKEN + "\n")
            lines += ["\ttelegram-token-file = %s" % tf, "\ttelegram-api = %s" % tg_url]
            lines += ["\ttelegram-chat = %s" % c for c in chats]
        if gitea:
            gf = os.path.join(self.tmp, "gitea-token")
            with open(gf, "w") as f:
                f.write(GTOKEN + "\n")
            lines += ["[gitea]", "\turl = %s" % gitea, "\ttoken-file = %s" % gf]
        path = os.path.join(self.tmp, "healhook.conf")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return path

    def send(self, cfg, notices, grace=10000, backoff=None, timeout=60):
        args = [TOOL, cfg, "--grace", str(grace)]
        if backoff:
            args += ["--backoff", str(backoff)]
        t0 = time.monotonic()
        p = subprocess.run(args + list(notices), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=timeout, env=self.env)
        p.elapsed = time.monotonic() - t0
        p.stats = dict(kv.split("=", 1) for kv in p.stdout.split() if "=" in kv)
        self.assertNotIn(TOKEN, p.stdout + p.stderr)
        self.assertNotIn(TOKEN.split(":")[1], p.stdout + p.stderr)
        self.assertNotIn(GTOKEN, p.stdout + p.stderr)
        return p

    def test_every_chat_gets_every_message_once(self):
        with TelegramMock(token=TOKEN, chats=["111", "222"]) as tg:
            msgs = [notice("start", 1), notice("pushed", 1, commit_sha=SHA, diff_lines=3),
                    notice("healed", 1, commit_sha=SHA, diff_lines=3)]
            p = self.send(self.config(tg.url), msgs)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertEqual(p.stats["sent"], "6")
            by_chat = {}
            for m in tg.messages:
                by_chat.setdefault(m["chat_id"], []).append(m["text"])
                self.assertEqual(m["parse_mode"], "HTML")
                # The mock turns JSON true into Python's str(True).
                self.assertEqual(m["disable_web_page_preview"], "True")
            self.assertEqual(sorted(by_chat), ["111", "222"])
            for chat, texts in by_chat.items():
                self.assertEqual(len(texts), 3, texts)
                self.assertIn("Healing started", texts[0])
                self.assertIn("Fix pushed", texts[1])
                self.assertIn("Healed", texts[2])
                self.assertIn("0123456", texts[2])
                self.assertIn("3 lines", texts[2])
            self.assertEqual(len(tg.calls), 6)

    def test_hostile_text_is_accepted_by_strict_html(self):
        with TelegramMock(token=TOKEN, chats=["111"]) as tg:
            m = notice("check_failed", 2, file="services/<script>&\".py",
                       message="a <b>x</b> & \"y\"", detail="E" * 9000 + "<tail>")
            p = self.send(self.config(tg.url, chats=["111"]), [m])
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertEqual(len(tg.messages), 1)
            text = tg.messages[0]["text"]
            self.assertIn("&lt;script&gt;&amp;&quot;.py", text)
            self.assertLessEqual(len(text), 4096)
            self.assertNotIn("<tail>", text)

    def test_429_retry_after_is_honoured_and_no_duplicates(self):
        with TelegramMock(token=TOKEN, chats=["111", "222"], rate_limit=2, retry_after=1) as tg:
            msgs = [notice("start", 3), notice("reverted", 3, commit_sha=SHA, revert_sha=REVERT)]
            times = []
            orig = tg.handle

            def timed(path, params):
                times.append(time.monotonic())
                return orig(path, params)
            tg.handle = timed
            p = self.send(self.config(tg.url), msgs, backoff=100)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            statuses = [c[2] for c in tg.calls]
            self.assertEqual(statuses[:2], [429, 429])
            self.assertEqual(statuses[2:], [200] * 4)
            # The retries waited retry_after (1 s), not the 100 ms backoff.
            self.assertGreaterEqual(times[1] - times[0], 0.95)
            self.assertGreaterEqual(times[2] - times[1], 0.95)
            pairs = sorted((m["chat_id"], m["text"].split("\n")[0]) for m in tg.messages)
            self.assertEqual(len(pairs), 4)
            self.assertEqual(len(set(pairs)), 4)  # exactly once per chat and message
            self.assertIn("notify.retry", p.stderr)
            self.assertIn("wait_ms=1000", p.stderr)

    def test_5xx_is_retried_4xx_is_not(self):
        with TelegramMock(token=TOKEN, chats=["111"]) as tg:
            n = {"count": 0}
            orig = tg.handle

            def flaky(path, params):
                n["count"] += 1
                if n["count"] <= 2:
                    return 502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}
                return orig(path, params)
            tg.handle = flaky
            p = self.send(self.config(tg.url, chats=["111", "999"]), [notice("healed", 4)],
                          backoff=50)
            # Chat 111: two 502s then delivered. Chat 999 is unknown: 400, given up at once.
            self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
            self.assertEqual(p.stats["sent"], "1")
            self.assertEqual(p.stats["failed"], "1")
            self.assertEqual([m["chat_id"] for m in tg.messages], ["111"])
            self.assertEqual(len(tg.calls), 4)
            self.assertIn("chat not found", p.stderr)
            self.assertIn("gave up", p.stderr)

    def test_wrong_token_error_does_not_leak_token(self):
        with TelegramMock(token="1:other", chats=["111"]) as tg:
            p = self.send(self.config(tg.url, chats=["111"]), [notice("healed", 5)])
            self.assertEqual(p.returncode, 1)
            self.assertIn("401", p.stderr)
            self.assertIn("gave up", p.stderr)
            self.assertEqual(len(tg.calls), 1)  # 401 is not retried

    def test_unreachable_telegram_exits_within_grace(self):
        url = "http://127.0.0.1:%d" % harness.free_port()  # nothing listens there
        msgs = [notice("start", 6), notice("healed", 6), notice("reverted", 6)]
        p = self.send(self.config(url), msgs, grace=1500, timeout=30)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertEqual(p.stats["stop"], "gave_up")
        self.assertLess(int(p.stats["notify_max_ms"]), 50)
        self.assertLess(int(p.stats["stop_ms"]), 2000)
        self.assertLess(p.elapsed, 4.0)
        self.assertIn("gave up", p.stderr)
        self.assertIn("bot***", p.stderr)

    def test_hanging_telegram_does_not_delay_stop(self):
        with TelegramMock(token=TOKEN, chats=["111"], delay=20) as tg:
            p = self.send(self.config(tg.url, chats=["111"]), [notice("healed", 7)], grace=1000,
                          timeout=30)
            self.assertEqual(p.stats["stop"], "gave_up")
            self.assertLess(int(p.stats["stop_ms"]), 1500)
            self.assertLess(p.elapsed, 3.0)
            self.assertIn("gave up", p.stderr)
            self.assertEqual(tg.messages, [])  # still hanging when the tool exited

    def test_gitea_comment_and_statuses(self):
        with TelegramMock(token=TOKEN, chats=["111"]) as tg, GiteaMock(token=GTOKEN) as g:
            pr = dict(pr=12, pr_url=g.url + "/acme/shop-api/pulls/12",
                      commit_url=g.url + "/acme/shop-api/commit/" + SHA, commit_sha=SHA)
            msgs = [notice("start", 8, pr=12),
                    notice("pushed", 8, diff_lines=4, **pr),
                    notice("healed", 8, diff_lines=4, **pr),
                    notice("reverted", 9, revert_sha=REVERT, reason="health failed @admin", **pr),
                    notice("revert_failed", 10, reason="conflict", **pr),
                    notice("healed", 11, commit_sha=SHA)]  # no PR: a status, no comment
            p = self.send(self.config(tg.url, chats=["111"], gitea=g.url), msgs)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertEqual(len(tg.messages), 6)
            # Comments: every PR outcome but the start.
            self.assertEqual([(r, i) for r, i, _ in g.comments], [("acme/shop-api", 12)] * 4)
            bodies = [b for _, _, b in g.comments]
            self.assertIn("Fix pushed", bodies[0])
            self.assertIn("4 lines", bodies[0])
            self.assertIn(SHA, bodies[0])  # the commit link
            self.assertIn("Healed", bodies[1])
            self.assertIn("Reverted", bodies[2])
            self.assertIn("`health failed @admin`", bodies[2])  # a code span: no mention
            self.assertIn("conflict", bodies[3])
            states = [(s[1], s[2]["state"], s[2]["context"]) for s in g.statuses]
            self.assertEqual(states, [(SHA, "pending", "healhook"), (SHA, "success", "healhook"),
                                      (SHA, "failure", "healhook"), (SHA, "failure", "healhook"),
                                      (SHA, "success", "healhook")])
            self.assertEqual(g.statuses[0][2]["target_url"], pr["commit_url"])
            for r in g.requests:
                self.assertEqual(r.header("Authorization"), "token " + GTOKEN)

    def test_gitea_5xx_retried_and_comment_switch(self):
        with GiteaMock(token=GTOKEN, fail={"post_status": (503, 2)}) as g:
            pr = dict(pr=3, commit_sha=SHA)
            p = self.send(self.config(gitea=g.url, comment=False),
                          [notice("healed", 12, **pr)], backoff=50)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertEqual(g.comments, [])  # notify.gitea-comment = false
            self.assertEqual([s[2]["state"] for s in g.statuses], ["success"])
            self.assertEqual(len(g.requests_to("POST", "/statuses/")), 3)

    def test_zh_tw_wording(self):
        with TelegramMock(token=TOKEN, chats=["111"]) as tg, GiteaMock(token=GTOKEN) as g:
            msgs = [notice("healed", 13, commit_sha=SHA, diff_lines=2, pr=5),
                    notice("reverted", 13, commit_sha=SHA, revert_sha=REVERT, pr=5),
                    notice("revert_failed", 13, commit_sha=SHA, pr=5)]
            p = self.send(self.config(tg.url, chats=["111"], gitea=g.url, lang="zh-TW"), msgs)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            texts = tg.texts()
            self.assertIn("✅ 自動修復成功", texts[0])
            self.assertIn("2 行", texts[0])
            self.assertIn("儲存庫", texts[0])
            self.assertIn("⏪ 已自動回滾", texts[1])
            self.assertIn("🚨 回滾失敗", texts[2])
            self.assertIn("自動修復成功", g.comments[0][2])
            self.assertIn("自動修復成功", g.statuses[0][2]["description"])

    def test_stdin_notices(self):
        with TelegramMock(token=TOKEN, chats=["111"]) as tg:
            cfg = self.config(tg.url, chats=["111"])
            lines = "\n".join(notice(o, 20 + i) for i, o in
                              enumerate(["no_diff", "diff_too_large", "budget", "expired"]))
            p = subprocess.run([TOOL, cfg], input=lines + "\n", stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, timeout=30, env=self.env)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertEqual(len(tg.messages), 4)
            self.assertIn("budget", tg.messages[2]["text"])


if __name__ == "__main__":
    unittest.main()
