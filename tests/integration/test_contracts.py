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
from lib.gitea_mock import GiteaMock
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
