"""Self-tests of the test doubles: fixtures, harness, Gitea/Telegram mocks, health server and
fake-aider. If these fail, the other integration tests cannot be trusted."""
import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from lib import harness as h  # noqa: E402
from lib.gitea_mock import GiteaMock  # noqa: E402
from lib.health_server import HealthServer  # noqa: E402
from lib.telegram_mock import TelegramMock, check_html  # noqa: E402

DELIVERIES = ["review_rejected_body", "review_rejected_body_replay", "review_rejected_body_form",
	      "review_rejected_lines", "review_comment_single", "review_approved",
	      "pr_comment_healhook_block", "issue_comment_plain", "push", "review_from_bot",
	      "review_mallory"]


def _shape_diff(a, b, path=""):
	"""Differences in key order/kinds between two JSON values (first element of lists)."""
	if isinstance(a, dict) and isinstance(b, dict):
		if list(a) != list(b):
			return ["%s: %s != %s" % (path, list(a), list(b))]
		out = []
		for k in a:
			out += _shape_diff(a[k], b[k], path + "/" + k)
		return out
	if isinstance(a, list) and isinstance(b, list):
		return _shape_diff(a[0], b[0], path + "[0]") if a and b else []
	if a is None or b is None:
		return [] if a is None and b is None else ["%s: null vs value" % path]
	return [] if type(a) is type(b) else ["%s: %s vs %s" % (path, type(a), type(b))]


def _json_of(name):
	hdrs, body = h.read_fixture(name)
	if name.endswith("_form"):
		body = urllib.parse.unquote_to_bytes(body[len(b"payload="):].replace(b"+", b" "))
	return hdrs, body


class FixtureTests(unittest.TestCase):
	def test_generator_check_passes(self):
		p = subprocess.run([sys.executable, os.path.join(h.ROOT, "fixtures", "make_fixtures.py"),
				    "--check"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
		self.assertEqual(p.returncode, 0, p.stdout.decode())

	def test_generator_check_detects_stale(self):
		with h.tmpdir() as t:
			mf = os.path.join(h.ROOT, "fixtures", "make_fixtures.py")
			subprocess.run([sys.executable, mf, "--out", t], check=True, stdout=subprocess.DEVNULL)
			with open(os.path.join(t, "push.json"), "ab") as f:
				f.write(b" ")
			p = subprocess.run([sys.executable, mf, "--check", "--out", t],
					   stdout=subprocess.PIPE)
			self.assertEqual(p.returncode, 1)
			self.assertIn(b"push.json", p.stdout)

	def test_deliveries_are_signed_and_sized(self):
		ids = set()
		for name in DELIVERIES:
			hdrs, body = h.read_fixture(name)
			_, signed = _json_of(name)
			self.assertEqual(int(h.header(hdrs, "Content-Length")), len(body), name)
			sig = hmac.new(h.FIXTURE_SECRET.encode(), signed, hashlib.sha256).hexdigest()
			self.assertEqual(h.header(hdrs, "X-Gitea-Signature"), sig, name)
			self.assertEqual(dict(h.sign(h.FIXTURE_SECRET, signed)),
					 {k: h.header(hdrs, k) for k in h.sign("x", b"")}, name)
			for p in ("Delivery", "Event", "Event-Type"):
				self.assertEqual(h.header(hdrs, "X-Gitea-" + p), h.header(hdrs, "X-Gogs-" + p))
				self.assertEqual(h.header(hdrs, "X-Gitea-" + p), h.header(hdrs, "X-GitHub-" + p))
			ids.add(h.header(hdrs, "X-Gitea-Delivery"))
			obj = json.loads(signed)
			self.assertFalse(signed.endswith(b"\n"), name)
			self.assertEqual(json.dumps(obj, indent=2, ensure_ascii=False).encode(), signed, name)
			self.assertEqual(obj["repository"]["full_name"], "acme/shop-api")
			self.assertNotIn(b"example.com", signed)
		self.assertEqual(len(ids), len(DELIVERIES))

	def test_form_and_replay_carry_the_same_json(self):
		_, base = h.read_fixture("review_rejected_body")
		_, form = _json_of("review_rejected_body_form")
		_, replay = h.read_fixture("review_rejected_body_replay")
		hdrs, _ = h.read_fixture("review_rejected_body_form")
		self.assertEqual(form, base)
		self.assertEqual(replay, base)
		self.assertEqual(h.header(hdrs, "Content-Type"), "application/x-www-form-urlencoded")
		self.assertIn("—".encode(), base)  # UTF-8 kept raw

	def test_story_values(self):
		obj = json.loads(h.read_fixture("review_rejected_body")[1])
		self.assertEqual(obj["sender"]["login"], "bob")
		self.assertEqual(obj["pull_request"]["head"]["ref"], "fix/order-totals")
		self.assertEqual(obj["repository"]["clone_url"], "http://localhost:3000/acme/shop-api.git")
		self.assertEqual(obj["repository"]["ssh_url"], "git@localhost:acme/shop-api.git")
		self.assertIn("services/order_service.py:41: [NameError]", obj["review"]["content"])
		self.assertEqual(json.loads(h.read_fixture("review_comment_single")[1])["review"],
				 {"type": "pull_request_review_comment", "content": ""})
		plain = json.loads(h.read_fixture("issue_comment_plain")[1])
		self.assertFalse(plain["is_pull"])
		self.assertNotIn("pull_request", plain)
		self.assertEqual(json.loads(h.read_fixture("review_from_bot")[1])["sender"]["login"],
				 "healhook-bot")
		c501 = json.loads(h.read_api_fixture("pulls_7_reviews_501_comments.json"))
		self.assertEqual([(c["path"], c["position"], c["original_position"]) for c in c501],
				 [("services/order_service.py", 41, 0), ("routes/api.py", 12, 0),
				  ("tests/test_orders.py", 0, 3)])

	def test_builders_make_custom_deliveries(self):
		mf = h.make_fixtures()
		hdrs, body = mf.review_delivery("bob", mf.T_REJ, "x.py:1: [E] m", "00000000-0000-4000-8000-000000000001",
						secret="s3", head_sha="1" * 40, clone_url="file:///tmp/o.git")
		obj = json.loads(body)
		self.assertEqual(obj["pull_request"]["head"]["sha"], "1" * 40)
		self.assertEqual(obj["repository"]["clone_url"], "file:///tmp/o.git")
		self.assertEqual(h.header(hdrs, "X-Gitea-Signature"), h.sign("s3", body)["X-Gitea-Signature"])

	@unittest.skipUnless(os.path.isdir(h.SHARED_SAMPLES), "shared samples absent")
	def test_shapes_match_gitea_samples(self):
		pairs = [("review_rejected_body", "review_rejected"), ("review_approved", "review_approved"),
			 ("review_comment_single", "review_comment"),
			 ("pr_comment_healhook_block", "issue_comment_pr"), ("push", "push")]
		for ours, theirs in pairs:
			a = json.loads(h.read_fixture(ours)[1])
			b = json.loads(h.read_sample(theirs)[1])
			self.assertEqual(_shape_diff(a, b), [], ours)
			ha = [k for k, _ in h.read_fixture(ours)[0]]
			hb = [k for k, _ in h.read_sample(theirs)[0]]
			self.assertEqual(ha, hb, ours)
		for ours, theirs in [("pulls_7_reviews.json", "reviews_api.json"),
				     ("pulls_7_reviews_501_comments.json", "review_comments_api.json")]:
			with open(os.path.join(h.SHARED_SAMPLES, theirs), "rb") as f:
				b = json.loads(f.read())
			self.assertEqual(_shape_diff(json.loads(h.read_api_fixture(ours)), b), [], ours)

	@unittest.skipUnless(os.path.isdir(h.SHARED_SAMPLES), "shared samples absent")
	def test_sign_and_headers_reproduce_samples(self):
		mf = h.make_fixtures()
		hdrs, body = h.read_sample("review_rejected")
		for k, v in h.sign(h.SAMPLE_SECRET, body).items():
			self.assertEqual(h.header(hdrs, k), v)
		gen, _ = mf.headers("pull_request_rejected", "pull_request_review_rejected", body,
				    h.header(hdrs, "X-Gitea-Delivery"), h.SAMPLE_SECRET)
		self.assertEqual(gen, hdrs)
		fh, fbody = h.read_sample("review_rejected_form")
		gen, gbody = mf.headers("pull_request_rejected", "pull_request_review_rejected", body,
					h.header(fh, "X-Gitea-Delivery"), h.SAMPLE_SECRET, form=True)
		self.assertEqual(gbody, fbody)
		self.assertEqual(gen, fh)
		self.assertEqual(h.resign(fh, fbody, h.SAMPLE_SECRET), fh)


class HarnessTests(unittest.TestCase):
	def test_post_chunked_slow(self):
		def echo(req):
			return 200, {"len": len(req.body), "sha": hashlib.sha256(req.body).hexdigest(),
				     "te": req.header("Transfer-Encoding")}
		body = b"x" * 5000 + "é".encode()
		route = {"POST /api/v1/echo": echo}
		with GiteaMock(token="t", routes=route, validate=False) as g:
			auth = [("Authorization", "token t"), ("X-Test", "1")]
			st, hd, data = h.post(g.url + "/api/v1/echo", body, auth)
			self.assertEqual(st, 200)
			self.assertEqual(json.loads(data)["sha"], hashlib.sha256(body).hexdigest())
			self.assertTrue(hd.get("content-type").startswith("application/json"))
			req = g.requests[-1]
			self.assertEqual(req.header("X-Test"), "1")
			self.assertEqual(req.header("Content-Length"), str(len(body)))
			st, _, data = h.post_chunked(g.url + "/api/v1/echo", body, auth, chunk=700)
			self.assertEqual(st, 200)
			self.assertEqual(json.loads(data)["len"], len(body))
			self.assertEqual(json.loads(data)["te"], "chunked")
			t0 = time.time()
			st, _, data = h.post_slow(g.url + "/api/v1/echo", body[:300], auth, piece=100, delay=0.1)
			self.assertEqual(st, 200)
			self.assertEqual(json.loads(data)["len"], 300)
			self.assertGreater(time.time() - t0, 0.3)

	def test_post_to_closed_port_raises(self):
		with self.assertRaises(OSError):
			h.post("http://127.0.0.1:%d/x" % h.free_port(), b"", timeout=2)
		with self.assertRaises(TimeoutError):
			h.wait_http("http://127.0.0.1:%d/x" % h.free_port(), timeout=0.3)

	def test_git_helpers(self):
		with h.tmpdir() as t:
			r = h.make_origin_and_worktree(t, {"services/order_service.py": "x = 1\n", "README": "r\n"})
			origin, work, head = r
			self.assertEqual(h.git(origin, "rev-parse", "--is-bare-repository"), "true")
			self.assertEqual(h.rev(origin, "main"), head)
			self.assertEqual(h.git(origin, "symbolic-ref", "HEAD"), "refs/heads/main")
			self.assertEqual(h.show(origin, "main", "services/order_service.py"), "x = 1")
			new = h.commit_files(work, {"services/order_service.py": "x = 2\n"}, "two")
			self.assertNotEqual(new, head)
			self.assertEqual(h.rev(origin, "main"), new)
			self.assertEqual(h.git(work, "status", "--porcelain"), "")
			with self.assertRaises(RuntimeError):
				h.git(work, "rev-parse", "no-such-ref")

	def test_process_stop_and_log(self):
		p = h.start_process([sys.executable, "-c",
				     "import time,sys; print('hello', flush=True); time.sleep(60)"])
		h.wait_for(lambda: "hello" in p.output(), 5, what="output")
		rc = p.stop(grace=2)
		self.assertFalse(p.alive())
		self.assertNotEqual(rc, 0)
		os.unlink(p.log_path)


class GiteaMockTests(unittest.TestCase):
	def setUp(self):
		# strict=False: these tests also send what Gitea refuses (the mock's own 422s)
		self.g = GiteaMock(token="tok", routes=GiteaMock.fixture_routes(), strict=False).start()
		self.addCleanup(self.g.stop)
		self.auth = {"Authorization": "token tok", "Content-Type": "application/json"}
		self.api = self.g.url + "/api/v1/repos/acme/shop-api"

	def test_auth_required(self):
		for hdrs in ({}, {"Authorization": "token nope"}, {"Authorization": "Bearer tok"}):
			st, _, _ = h.get(self.api + "/pulls/7/reviews", hdrs)
			self.assertEqual(st, 401)
		self.assertEqual(len(self.g.requests), 3)

	def test_canned_and_defaults(self):
		st, _, data = h.get(self.api + "/pulls/7/reviews", self.auth)
		self.assertEqual(st, 200)
		self.assertEqual(data, h.read_api_fixture("pulls_7_reviews.json"))
		st, _, data = h.get(self.api + "/pulls/7/reviews/502/comments", self.auth)
		self.assertEqual(json.loads(data)[0]["pull_request_review_id"], 502)
		self.assertEqual(h.get(self.api + "/pulls/8/reviews", self.auth)[2], b"[]\n")
		self.assertEqual(h.get(self.api + "/pulls/7/reviews/999/comments", self.auth)[0], 404)
		st, _, data = h.get(self.g.url + "/api/v1/user", self.auth)
		self.assertEqual(json.loads(data)["login"], "healhook-bot")
		until = GiteaMock.fixture_routes(until=498)
		self.assertEqual([r["id"] for r in json.loads(
			until["GET /api/v1/repos/acme/shop-api/pulls/7/reviews"])], [495, 498])

	def test_comment_and_status(self):
		st, _, data = h.post(self.api + "/issues/7/comments", b'{"body":"fixed \xc3\xa9"}', self.auth)
		self.assertEqual(st, 201)
		self.assertEqual(json.loads(data)["body"], "fixed é")
		self.assertEqual(self.g.comments, [("acme/shop-api", 7, "fixed é")])
		self.assertEqual(h.post(self.api + "/issues/7/comments", b'{}', self.auth)[0], 422)
		sha = "9f2c4a7e1b3d5f6a8c0e2b4d6f8a1c3e5b7d9f10"
		self.assertEqual(json.loads(h.get(self.api + "/commits/%s/status" % sha, self.auth)[2])["state"], "")
		for ctx, state in (("ci", "success"), ("healhook", "pending")):
			st, _, data = h.post(self.api + "/statuses/" + sha, json.dumps(
				{"state": state, "context": ctx, "description": "d", "target_url": ""}).encode(), self.auth)
			self.assertEqual(st, 201)
			self.assertEqual(json.loads(data)["status"], state)
			self.assertNotIn("state", json.loads(data))
		comb = json.loads(h.get(self.api + "/commits/%s/status" % sha, self.auth)[2])
		self.assertEqual((comb["state"], comb["total_count"]), ("pending", 2))
		self.g.combined[sha] = "failure"
		self.assertEqual(json.loads(h.get(self.api + "/commits/%s/status" % sha, self.auth)[2])["state"], "failure")
		self.assertEqual(h.post(self.api + "/statuses/" + sha, b'{"state":"great"}', self.auth)[0], 422)
		self.assertEqual(len(self.g.requests_to("POST", r"/statuses/")), 3)

	def test_combined_status_as_gitea(self):
		sha = "a3e5c7b9d1f2a4c6e8b0d2f4a6c8e0b1d3f5a7c9"

		def post(ctx, state):
			st, _, _ = h.post(self.api + "/statuses/" + sha, json.dumps(
				{"state": state, "context": ctx}).encode(), self.auth)
			self.assertEqual(st, 201)

		def get(query=""):
			st, _, data = h.get(self.api + "/commits/%s/status%s" % (sha, query), self.auth)
			self.assertEqual(st, 200)
			return json.loads(data)

		empty = get()
		self.assertEqual((empty["state"], empty["statuses"], empty["total_count"]), ("", None, 0))
		# the latest status of a context replaces its earlier ones
		post("ci/build", "failure")
		post("ci/build", "success")
		self.assertEqual(get()["state"], "success")
		# healhook's own pending keeps the combined state pending (issue 16)
		post("healhook", "pending")
		self.assertEqual(get()["state"], "pending")
		post("healhook", "success")
		self.assertEqual(get()["state"], "success")
		# warning and error combine to failure, as in Gitea since go-gitea/gitea#37048
		post("lint", "warning")
		self.assertEqual(get()["state"], "failure")
		post("lint", "error")
		self.assertEqual(get()["state"], "failure")
		post("lint", "success")
		comb = get()
		self.assertEqual((comb["state"], comb["total_count"]), ("success", 3))
		self.assertEqual([(s["context"], s["status"]) for s in comb["statuses"]],
				 [("lint", "success"), ("healhook", "success"), ("ci/build", "success")])
		# paged by limit, at most max_items a page, each page combined on its own
		self.g.max_items = 2
		pages = [get("?page=%d&limit=50" % n) for n in (1, 2, 3)]
		self.assertEqual([[s["context"] for s in p["statuses"] or []] for p in pages],
				 [["lint", "healhook"], ["ci/build"], []])
		self.assertEqual(pages[2]["state"], "")
		post("ci/build", "pending")
		self.assertEqual([s["context"] for s in get("?limit=1")["statuses"]], ["ci/build"])
		self.assertEqual(get("?page=2&limit=2")["state"], "success")

	def test_delay_and_failures(self):
		self.g.fail["reviews"] = (503, 2)
		self.g.delays["user"] = 0.4
		codes = [h.get(self.api + "/pulls/7/reviews", self.auth)[0] for _ in range(3)]
		self.assertEqual(codes, [503, 503, 200])
		self.g.fail["POST " + "/api/v1/repos/acme/shop-api/issues/7/comments"] = 500
		self.assertEqual(h.post(self.api + "/issues/7/comments", b'{"body":"x"}', self.auth)[0], 500)
		t0 = time.time()
		h.get(self.g.url + "/api/v1/user", self.auth)
		self.assertGreaterEqual(time.time() - t0, 0.4)


class TelegramMockTests(unittest.TestCase):
	def test_send_rate_limit_and_auth(self):
		with TelegramMock(token="42:abc", rate_limit=2, retry_after=3, chats=["1001"]) as t:
			url = t.url + "/bot42:abc/sendMessage"
			msg = json.dumps({"chat_id": 1001, "text": "healed <b>x</b>", "parse_mode": "HTML"}).encode()
			ctype = {"Content-Type": "application/json"}
			for _ in range(2):
				st, hd, data = h.post(url, msg, ctype)
				self.assertEqual(st, 429)
				self.assertEqual(json.loads(data)["parameters"]["retry_after"], 3)
			st, _, data = h.post(url, msg, ctype)
			self.assertEqual(st, 200)
			self.assertTrue(json.loads(data)["ok"])
			self.assertEqual(t.messages, [{"chat_id": "1001", "text": "healed <b>x</b>", "parse_mode": "HTML"}])
			st, _, _ = h.post(url, b"chat_id=1001&text=a+%3C+b&parse_mode=HTML",
					  {"Content-Type": "application/x-www-form-urlencoded"})
			self.assertEqual(st, 400)
			st, _, _ = h.post(url, b"chat_id=99&text=hi", {"Content-Type": "application/x-www-form-urlencoded"})
			self.assertEqual(st, 400)
			self.assertEqual(h.post(t.url + "/bot42:wrong/sendMessage", msg, ctype)[0], 401)
			st, _, data = h.get(t.url + "/bot42:abc/getMe")
			self.assertEqual((st, json.loads(data)["result"]["is_bot"]), (200, True))
			self.assertEqual(len(t.messages), 1)

	def test_check_html(self):
		self.assertIsNone(check_html("<b>a</b> &lt; <code>x</code> &amp; <a href=\"u\">l</a>"))
		self.assertIsNotNone(check_html("a < b"))
		self.assertIsNotNone(check_html("<b>a"))
		self.assertIsNotNone(check_html("a & b"))
		self.assertIsNotNone(check_html("<script>x</script>"))


class HealthServerTests(unittest.TestCase):
	def test_settable(self):
		with HealthServer(status="ok", version="abc") as hs:
			st, _, data = h.get(hs.health_url)
			self.assertEqual((st, json.loads(data)), (200, {"status": "ok", "version": "abc"}))
			hs.set(status="degraded")
			st, _, data = h.get(hs.health_url)
			self.assertEqual((st, json.loads(data)["status"]), (503, "degraded"))
			hs.set(status="healthy", code=500)
			self.assertEqual(h.get(hs.health_url)[0], 500)
			self.assertEqual(h.get(hs.url + "/other")[0], 404)
			self.assertEqual(hs.hits, 3)

	def test_script_watches_file(self):
		with h.tmpdir() as t:
			r = h.make_origin_and_worktree(t, {"services/order_service.py": "x = 1\n"})
			target = os.path.join(r.worktree, "services", "order_service.py")
			port = h.free_port()
			p = h.start_process([sys.executable, os.path.join(h.ROOT, "tests", "lib", "health_server.py"),
					     "--port", str(port), "--status-file", target])
			try:
				url = "http://127.0.0.1:%d/health" % port
				h.wait_http(url, 10)
				st, _, data = h.get(url)
				self.assertEqual((st, json.loads(data)), (200, {"status": "ok", "version": r.head}))
				h.write_files(r.worktree, {"services/order_service.py": "BROKEN = True  # healhook-demo\n"})
				st, _, data = h.get(url)
				self.assertEqual((st, json.loads(data)["status"]), (503, "error"))
			finally:
				p.stop()
				os.unlink(p.log_path)


AIDER_ARGS = ["--model", "ollama_chat/qwen2.5-coder:7b", "--edit-format", "whole", "--yes-always",
	      "--no-git", "--no-auto-commits", "--no-gitignore", "--no-check-update",
	      "--no-show-release-notes", "--no-show-model-warnings", "--no-analytics", "--no-pretty",
	      "--no-fancy-input", "--no-suggest-shell-commands", "--no-detect-urls", "--no-auto-lint",
	      "--map-tokens", "0", "--no-restore-chat-history", "--input-history-file", "/dev/null",
	      "--set-env", "OLLAMA_API_BASE=http://127.0.0.1:11434"]

BUGGY = ("class OrderService:\n"
	 "    def total(self, order):\n"
	 "        subtotal = sum(l.price for l in order.lines)\n"
	 "        return totl  # BUG: return subtotal\n")


class FakeAiderTests(unittest.TestCase):
	def run_aider(self, prompt, files=None, extra=(), timeout=20):
		"""Runs fake-aider in a fresh scratch dir. Returns (proc, scratch, work)."""
		cm = h.tmpdir()
		self.tmp = cm.__enter__()
		self.addCleanup(cm.__exit__, None, None, None)
		work = os.path.join(self.tmp, "work")
		h.write_files(work, files or {"services/order_service.py": BUGGY})
		with open(os.path.join(self.tmp, "prompt"), "w") as f:
			f.write(prompt)
		argv = [h.FAKE_AIDER] + AIDER_ARGS + [
			"--message-file", os.path.join(self.tmp, "prompt"),
			"--chat-history-file", os.path.join(self.tmp, "chat.md")] + list(extra) + [
			"services/order_service.py"]
		p = subprocess.run(argv, cwd=work, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
				   stderr=subprocess.STDOUT, timeout=timeout)
		return p, self.tmp, work

	def read(self, *parts):
		with open(os.path.join(*parts)) as f:
			return f.read()

	def test_version_and_unknown_flag(self):
		p = subprocess.run([h.FAKE_AIDER, "--version"], stdout=subprocess.PIPE)
		self.assertEqual((p.returncode, p.stdout), (0, b"aider 0.86.1\n"))
		p = subprocess.run([h.FAKE_AIDER, "--yes", "x.py"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
		self.assertEqual(p.returncode, 2)
		self.assertIn(b"unrecognized arguments: --yes", p.stderr)

	def test_parser_as_strict_as_aiders(self):
		# Aider's argparse refuses these with exit 2; so does the stand-in
		for bad, why in ((["--map-tokens", "zero"], b"invalid int value"),
				 (["--map-refresh", "never"], b"invalid choice"),
				 (["--timeout", "soon"], b"invalid float value"),
				 (["--model"], b"expected one argument"),
				 (["--no-yes-always"], b"unrecognized arguments"),
				 (["--no-git-ignore"], b"unrecognized arguments"),
				 (["--yes-al"], b"unrecognized arguments")):
			p = subprocess.run([h.FAKE_AIDER, "x.py"] + bad, stdout=subprocess.PIPE,
					   stderr=subprocess.PIPE)
			self.assertEqual(p.returncode, 2, bad)
			self.assertIn(why, p.stderr, bad)
		# ... and accepts Aider's aliases and negations
		for ok in (["--chat-mode", "whole"], ["--msg", "x"], ["-m", "x"], ["--no-browser"],
			   ["--timeout", "2.5"], ["--list-models", "q"], ["--update"], ["-4"],
			   ["--no-stream", "--no-verify-ssl", "--cache-keepalive-pings", "0"]):
			p = subprocess.run([h.FAKE_AIDER] + ok + ["--version"], stdout=subprocess.PIPE,
					   stderr=subprocess.PIPE)
			self.assertEqual((p.returncode, p.stdout), (0, b"aider 0.86.1\n"), (ok, p.stderr))

	def test_unchanged_mode_applies_an_identical_edit(self):
		p, _, work = self.run_aider("fix [[fixer:unchanged]]")
		self.assertEqual(p.returncode, 0)
		self.assertIn(b"Applied edit to services/order_service.py", p.stdout)
		self.assertEqual(self.read(work, "services", "order_service.py"), BUGGY)

	def test_default_fix_records_argv_and_prompt(self):
		prompt = ("Fix the following NameError in this file. Only fix what is necessary, do not "
			  "refactor or add features. Error: name 'totl' is not defined; $(touch /tmp/x) `id` \"q\"")
		p, tmp, work = self.run_aider(prompt)
		out = p.stdout.decode()
		self.assertEqual(p.returncode, 0, out)
		self.assertIn("Applied edit to services/order_service.py", out)
		self.assertEqual(self.read(work, "services", "order_service.py"),
				 BUGGY.replace("return totl  # BUG: return subtotal", "return subtotal"))
		rec = json.loads(self.read(tmp, "argv.json"))
		self.assertEqual(rec["prompt"], prompt)
		self.assertEqual(rec["argv"][-1], "services/order_service.py")
		self.assertTrue(rec["stdin_devnull"])
		self.assertEqual(rec["env"]["OLLAMA_API_BASE"], "http://127.0.0.1:11434")
		self.assertIn("#### " + prompt, self.read(tmp, "chat.md"))
		self.assertEqual(sorted(os.listdir(work)), ["services"])

	def test_indentation_as_written(self):
		src = "def f():\n    x = 1  # BUG:         x = 2\n    return x\n"
		p, _, work = self.run_aider("fix", {"services/order_service.py": src})
		self.assertEqual(self.read(work, "services", "order_service.py"),
				 "def f():\n        x = 2\n    return x\n")

	def test_nothing_to_fix(self):
		p, _, work = self.run_aider("fix", {"services/order_service.py": "x = 1\n"})
		self.assertEqual(p.returncode, 0)
		self.assertNotIn(b"Applied edit", p.stdout)

	def test_noop(self):
		p, _, work = self.run_aider("fix [[fixer:noop]]")
		self.assertEqual(p.returncode, 0)
		self.assertIn(b"APIConnectionError", p.stdout)
		self.assertNotIn(b"Applied edit", p.stdout)
		self.assertEqual(self.read(work, "services", "order_service.py"), BUGGY)

	def test_fail(self):
		p, _, work = self.run_aider("fix [[fixer:fail]]")
		self.assertEqual(p.returncode, 1)
		self.assertEqual(self.read(work, "services", "order_service.py"), BUGGY)

	def test_other_file(self):
		p, _, work = self.run_aider("fix [[fixer:other-file]]",
					    {"services/order_service.py": BUGGY, "routes/api.py": "a = 1\n"})
		self.assertIn("touched by fake-aider", self.read(work, "routes", "api.py"))
		p, tmp, work = self.run_aider("fix [[fixer:other-file]]")
		self.assertIn("touched by fake-aider", self.read(tmp, "x"))  # ../x of the work dir

	def test_create_file(self):
		p, _, work = self.run_aider("fix [[fixer:create-file]]")
		self.assertTrue(os.path.exists(os.path.join(work, "services", "junk.py")))

	def test_huge(self):
		p, _, work = self.run_aider("fix [[fixer:huge]]")
		self.assertEqual(len(self.read(work, "services", "order_service.py").splitlines()), 4 + 500)

	def test_syntax_error(self):
		p, _, work = self.run_aider("fix [[fixer:syntax-error]]")
		self.assertIn(b"Applied edit", p.stdout)
		with self.assertRaises(SyntaxError):
			compile(self.read(work, "services", "order_service.py"), "t.py", "exec")

	def test_hang(self):
		with self.assertRaises(subprocess.TimeoutExpired):
			self.run_aider("fix [[fixer:hang]]", timeout=1.5)

	def test_break_health(self):
		p, _, work = self.run_aider("fix [[fixer:break-health]]")
		target = os.path.join(work, "services", "order_service.py")
		text = self.read(target)
		self.assertIn("return subtotal\n", text)
		self.assertIn("BROKEN = True  # healhook-demo\n", text)
		compile(text, target, "exec")
		with HealthServer(status_file=target) as hs:
			self.assertEqual(h.get(hs.health_url)[0], 503)


if __name__ == "__main__":
	unittest.main()
