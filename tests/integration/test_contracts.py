"""healhook against validators nobody on this project wrote (issue 10): Prometheus' own
`promtool check metrics` on a /metrics scrape taken after deliveries, heals and a revert,
systemd's `systemd-analyze security` on the shipped unit, and the Gitea stand-in's OpenAPI
validator (tests/lib/gitea_openapi.json, a subset of Gitea's swagger spec) refusing a call
Gitea would refuse.
"""
import json
import os
import re
import subprocess
import unittest
import urllib.parse

from lib import harness as H
from lib.gitea_mock import GiteaMock, gitea_spec
from lib.openapi_check import Spec
from test_aftercare import BREAK, MSG, ORDER, World, comment_delivery
from test_intake import write_config

UNIT = os.path.join(H.ROOT, "ci", "systemd", "healhook.service")


class Prometheus(unittest.TestCase):
	def setUp(self):
		self._tmp = H.tmpdir("hh-prom-")
		self.tmp = self._tmp.__enter__()
		self.w = World(self.tmp)
		self.w.write()
		self.proc = None

	def tearDown(self):
		if self.proc:
			self.proc.stop()
		self.w.stop()
		self._tmp.__exit__(None, None, None)

	def test_promtool_accepts_a_scrape_after_heals_and_a_revert(self):
		port = H.free_port()
		url = "http://127.0.0.1:%d" % port
		self.proc = H.start_process([H.BIN, "serve", "--config", self.w.cfg, "--listen",
					     "127.0.0.1:%d" % port], env={"PATH": os.environ["PATH"]},
					    log_path=os.path.join(self.tmp, "serve.log"))
		H.wait_http(url + "/healthz", timeout=10)
		hdrs, body = comment_delivery([(ORDER, "NameError", MSG + BREAK),
					       ("services/cart_service.py", "NameError", MSG)])
		st, _, data = H.post(url + "/hooks/gitea", body, hdrs)
		self.assertEqual(st, 202, data)
		jobs = sorted(json.loads(data)["accepted"])
		st, _, _ = H.post(url + "/hooks/gitea", body, H.replace_header(hdrs, "X-Gitea-Signature",
									       "0" * 64))
		self.assertEqual(st, 401)
		H.post(url + "/hooks/gitea", b"{}", [("X-Gitea-Event", "push")])

		def done():
			h = self.w.history()
			return sorted(h.get(j, {}).get("state", "") for j in jobs) == ["healed", "reverted"]
		H.wait_for(done, timeout=60, interval=0.2, what="one job healed and one reverted")
		st, hd, scrape = H.get(url + "/metrics")
		self.assertEqual(st, 200)
		text = scrape.decode()
		self.assertIn('healhook_jobs{state="reverted"} 1', text)
		self.assertIn('healhook_jobs{state="healed"} 1', text)
		self.assertIn('verdict="unauthorized"', text)
		self.assertTrue(hd.get("Content-Type", "").startswith("text/plain; version=0.0.4"),
				hd.get("Content-Type"))
		p = subprocess.run(["promtool", "check", "metrics"], input=scrape,
				   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
		self.assertEqual((p.returncode, p.stdout.decode()), (0, ""), text)

	def test_promtool_is_a_real_check(self):
		# the same tool rejects a scrape with a counter lacking _total and a broken line
		bad = b"# TYPE x counter\nx 1\nbroken{ 2\n"
		p = subprocess.run(["promtool", "check", "metrics"], input=bad, stdout=subprocess.PIPE,
				   stderr=subprocess.STDOUT, timeout=60)
		self.assertNotEqual(p.returncode, 0, p.stdout.decode())


class Systemd(unittest.TestCase):
	def test_unit_exposure_at_most_2(self):
		p = subprocess.run(["systemd-analyze", "security", "--offline=true", UNIT],
				   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
		out = p.stdout.decode()
		m = re.search(r"Overall exposure level for healhook\.service: (\d+\.\d+) (\w+)", out)
		self.assertIsNotNone(m, out)
		self.assertLessEqual(float(m.group(1)), 2.0, out)
		self.assertEqual(m.group(2), "OK", out)

	def test_every_directive_is_explained_in_operations_md(self):
		with open(UNIT) as f:
			keys = sorted({l.split("=", 1)[0] for l in f.read().splitlines()
				       if re.match(r"^[A-Z][A-Za-z]+=", l)})
		with open(os.path.join(H.ROOT, "docs", "operations.md")) as f:
			doc = f.read()
		missing = [k for k in keys if "`%s=" % k not in doc]
		self.assertEqual(missing, [], "directives of the unit not explained in operations.md")


class SignatureFirst(unittest.TestCase):
	"""A request without a signature header is refused on its headers: 401 whatever its body
	and content type (a form body is not decoded, an unknown type is not judged)."""

	def setUp(self):
		self._tmp = H.tmpdir("hh-sig-")
		self.tmp = self._tmp.__enter__()
		self.cfg, self.state = write_config(self.tmp)
		port = H.free_port()
		self.url = "http://127.0.0.1:%d" % port
		self.proc = H.start_process([H.BIN, "serve", "--config", self.cfg, "--listen",
					     "127.0.0.1:%d" % port], env={"PATH": os.environ["PATH"]},
					    log_path=os.path.join(self.tmp, "serve.log"))
		H.wait_http(self.url + "/healthz", timeout=10)

	def tearDown(self):
		self.proc.stop()
		self._tmp.__exit__(None, None, None)

	def post(self, ctype, body, extra=()):
		hdrs = [("Content-Type", ctype), ("X-Gitea-Event", "pull_request_comment"),
			("X-Gitea-Event-Type", "pull_request_comment")] + list(extra)
		st, _, data = H.post(self.url + "/hooks/gitea", body, hdrs)
		return st, json.loads(data)

	def test_unsigned_requests_get_401_before_the_body_is_read(self):
		cases = [
			("application/x-www-form-urlencoded", b"payload=%7B%22a%22%3A1%7D"),
			("application/x-www-form-urlencoded", b"payload=%zz-not-an-escape"),
			("application/x-www-form-urlencoded", b"no-payload-field=1"),
			("application/json", b"{not json"),
			("text/plain", b"anything"),
		]
		for ctype, body in cases:
			for extra in ((), [("X-Hub-Signature-256", "sha256=")], [("X-Gitea-Signature", "")]):
				st, a = self.post(ctype, body, extra)
				self.assertEqual((st, a.get("error")), (401, "signature missing"),
						 (ctype, body, extra))

	def test_signed_form_is_still_decoded_and_judged(self):
		# with a signature the body is read: a bad form is 400, a bad signature 401
		st, a = self.post("application/x-www-form-urlencoded", b"payload=%zz",
				  [("X-Gitea-Signature", "0" * 64)])
		self.assertEqual(st, 400, a)
		self.assertIn("malformed form body", a["error"])
		hdrs, body = H.read_fixture("review_rejected_body")
		form = b"payload=" + urllib.parse.quote_from_bytes(body).encode()
		hdrs = H.replace_header(hdrs, "Content-Type", "application/x-www-form-urlencoded")
		st, _, data = H.post(self.url + "/hooks/gitea", form,
				     H.resign(hdrs, form, H.FIXTURE_SECRET, form=True))
		self.assertEqual(st, 202, data)
		st, _, data = H.post(self.url + "/hooks/gitea", form,
				     H.replace_header(H.resign(hdrs, form, H.FIXTURE_SECRET, form=True),
						      "X-Gitea-Signature", "1" * 64))
		self.assertEqual(st, 401, data)
		self.assertEqual(json.loads(data)["error"], "signature invalid")


class GiteaSpec(unittest.TestCase):
	"""The Gitea stand-in answers only what Gitea's swagger spec allows."""
	SHA = "9f2c4a7e1b3d5f6a8c0e2b4d6f8a1c3e5b7d9f10"

	def setUp(self):
		self.g = GiteaMock(token="tok", routes=GiteaMock.fixture_routes(), strict=False).start()
		self.addCleanup(self.g.stop)
		self.api = self.g.url + "/api/v1/repos/acme/shop-api"
		self.json = [("Authorization", "token tok"), ("Content-Type", "application/json")]

	def call(self, method, url, body=None, hdrs=None):
		st, _, data = H.post(url, body, self.json if hdrs is None else hdrs, method=method)
		return st, data

	def test_the_subset_is_gitea_s(self):
		doc = gitea_spec().doc
		self.assertEqual(doc["info"]["x-source"]["commit"], "67ce9ca11034c00ea81f36f0e574529079534071")
		self.assertEqual(gitea_spec().operation_ids(), sorted([
			"issueCreateComment", "repoCreateStatus", "repoGetCombinedStatusByRef",
			"repoGetPullReviewComments", "repoListPullReviews", "repoListStatuses",
			"repoListStatusesByRef", "userGetCurrent"]))
		with open(os.path.join(H.ROOT, "docs", "gitea-api.md")) as f:
			doc_md = f.read()
		for op in gitea_spec().operation_ids():
			self.assertIn("`%s`" % op, doc_md)

	def test_calls_gitea_would_refuse_are_refused(self):
		status = json.dumps({"state": "success", "context": "healhook", "description": "d",
				     "target_url": ""}).encode()
		bad = [
			("POST", self.api + "/issues/7/comments", b'{"body":"x","bodyy":"y"}', None, 422,
			 "unknown field 'bodyy'"),
			("POST", self.api + "/issues/7/comments", b'{"body":7}', None, 422,
			 "not of type string"),
			("POST", self.api + "/issues/7/comments", b'{}', None, 422, "body.body: Required"),
			("POST", self.api + "/issues/7/comments", b'{"body":"x"}',
			 [("Authorization", "token tok")], 422, "Content-Type"),
			("POST", self.api + "/issues/seven/comments", b'{"body":"x"}', None, 422,
			 "path parameter index"),
			("POST", self.api + "/statuses/" + self.SHA, b'{"state":"success","contxt":"x"}',
			 None, 422, "unknown field 'contxt'"),
			("POST", self.api + "/statuses/" + self.SHA, b'{"state":["success"]}', None, 422,
			 "not of type string"),
			("POST", self.api + "/statuses/" + self.SHA, b'not json', None, 422, "not JSON"),
			("GET", self.api + "/pulls/7/reviews?per_page=5", None, None, 422,
			 "query parameter per_page"),
			("GET", self.api + "/pulls/7/reviews?limit=many", None, None, 422, "not an integer"),
			("GET", self.api + "/commits/%s/statuses?sort=newest" % self.SHA, None, None, 422,
			 "not one of"),
			("GET", self.g.url + "/api/v1/user", b'{"x":1}', None, 422, "takes no request body"),
			("POST", self.api + "/commits/%s/status" % self.SHA, status, None, 404, None),
			("PATCH", self.api + "/statuses/" + self.SHA, status, None, 404, None),
			("GET", self.api + "/pulls/7/review", None, None, 404, None),
			("POST", self.api + "/issues/7/comment", b'{"body":"x"}', None, 404, None),
			("GET", self.g.url + "/api/v1/users/me", None, None, 404, None),
		]
		for method, url, body, hdrs, want, why in bad:
			st, data = self.call(method, url, body, hdrs)
			self.assertEqual(st, want, (method, url, body, data))
			if why:
				self.assertIn(why, json.loads(data)["message"], (method, url))
		self.assertEqual(len(self.g.violations), len(bad))
		self.assertEqual(self.g.comments, [])
		self.assertEqual(self.g.statuses, [])
		# and what the spec allows passes
		ok = [("POST", self.api + "/issues/7/comments", b'{"body":"fixed"}', 201),
		      ("POST", self.api + "/statuses/" + self.SHA, status, 201),
		      ("GET", self.api + "/pulls/7/reviews?page=1&limit=50", None, 200),
		      ("GET", self.api + "/commits/%s/status" % self.SHA, None, 200),
		      ("GET", self.api + "/commits/%s/statuses?state=success&sort=oldest" % self.SHA,
		       None, 404),  # allowed by the spec; the stand-in has no answer for it
		      ("GET", self.g.url + "/api/v1/user", None, 200)]
		for method, url, body, want in ok:
			self.assertEqual(self.call(method, url, body)[0], want, (method, url))
		self.assertEqual(len(self.g.violations), len(bad))

	def test_a_strict_mock_fails_the_test_that_made_a_bad_call(self):
		g = GiteaMock(token="tok").start()
		st, _ = self.call("POST", g.url + "/api/v1/repos/a/b/issues/1/comments",
				  b'{"text":"x"}')
		self.assertEqual(st, 422)
		with self.assertRaises(AssertionError) as cm:
			g.stop()
		self.assertIn("unknown field 'text'", str(cm.exception))

	def test_healhook_s_own_call_is_checked(self):
		# Against a spec without GET /user, doctor's token check is refused like any bad call:
		# the check runs on what healhook really sends, not on what a test says it sends.
		doc = json.loads(json.dumps(gitea_spec().doc))
		del doc["paths"]["/user"]
		with H.tmpdir() as tmp:
			cfg = os.path.join(tmp, "healhook.conf")
			with open(os.path.join(tmp, "token"), "w") as f:
				f.write("tok\n")
			with open(cfg, "w") as f:
				f.write("[state]\n\tdir = %s\n[gitea]\n\turl = %s\n\ttoken-file = %s\n"
					'[repo "acme/shop-api"]\n\thost = %s\n'
					% (tmp, self.g.url, os.path.join(tmp, "token"), tmp))
			def doctor():
				p = subprocess.run([H.BIN, "doctor", "--config", cfg], stdout=subprocess.PIPE,
						   stderr=subprocess.STDOUT, env={"PATH": os.environ["PATH"]},
						   timeout=60)
				return p.stdout.decode()
			out = doctor()
			self.assertIn("healhook-bot", out)
			self.assertEqual(self.g.violations, [])
			self.g.spec = Spec(doc)
			out = doctor()
			self.assertNotIn("healhook-bot", out)
			self.assertEqual([(r.method, r.path, st) for r, st, _ in self.g.violations],
					 [("GET", "/api/v1/user", 404)], out)
