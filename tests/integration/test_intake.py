"""Webhook intake, end to end: `healhook replay` and `healhook serve` on 127.0.0.1 against the
project's fixtures, the shared Gitea samples (when present) and a local mock of Gitea's API."""
import json
import os
import signal
import threading
import time
import unittest

from lib import harness as H
from lib.gitea_mock import GiteaMock


def write_config(tmp, repo="acme/shop-api", reviewers="bob", gitea_url=None, extra=""):
	state = os.path.join(tmp, "state")
	with open(os.path.join(tmp, "secret"), "w") as f:
		f.write((H.FIXTURE_SECRET if repo == "acme/shop-api" else H.SAMPLE_SECRET) + "\n")
	cfg = os.path.join(tmp, "healhook.conf")
	with open(cfg, "w") as f:
		f.write("[server]\n\tsecret-file = %s\n" % os.path.join(tmp, "secret"))
		f.write(H.state_config(state))
		f.write("[worker]\n\tparallel = 0\n")  # intake only: jobs stay queued
		f.write("[gitea]\n\tuser = healhook-bot\n\ttoken-file = %s\n" % os.path.join(tmp, "token"))
		if gitea_url:
			f.write("\turl = %s\n" % gitea_url)
		f.write('[repo "%s"]\n\thost = %s\n' % (repo, os.path.join(tmp, "host")))
		for r in reviewers.split(","):
			f.write("\treviewers = %s\n" % r)
		f.write(extra)
	with open(os.path.join(tmp, "token"), "w") as f:
		f.write("test-token\n")
	return cfg, state


def run(args, env=None, check=None):
	import subprocess
	e = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
	e.update(env or {})
	p = subprocess.run([H.BIN] + args, env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
			   timeout=60)
	if check is not None and p.returncode != check:
		raise AssertionError("healhook %s exited %d, want %d\n%s" % (" ".join(args), p.returncode,
									     check, p.stderr.decode()))
	return p


def replay_json(cfg, files, extra=()):
	p = run(["replay", "--config", cfg, "--json"] + list(extra) + list(files))
	return p.returncode, [json.loads(l) for l in p.stdout.decode().splitlines() if l.strip()]


def jobs(state):
	return H.db_query(state, "SELECT id, repo, branch, file, state FROM jobs ORDER BY id")


def verdicts(report):
	return sorted((f["file"], f["verdict"], f["reason"] or "", f["source"]) for f in report["findings"])


class ReplayFixtures(unittest.TestCase):
	"""The project's own deliveries, with a mock Gitea for line comments."""

	def setUp(self):
		self._tmp = H.tmpdir()
		self.tmp = self._tmp.__enter__()
		self.gitea = GiteaMock(token="test-token", routes=GiteaMock.fixture_routes()).start()
		self.cfg, self.state = write_config(self.tmp, gitea_url=self.gitea.url)

	def tearDown(self):
		self.gitea.stop()
		self._tmp.__exit__(None, None, None)

	def fx(self, name):
		return os.path.join(H.FIXTURES, name)

	def test_review_body_findings_and_verdicts(self):
		rc, [r] = replay_json(self.cfg, [self.fx("review_rejected_body.json")], ["--dry-run"])
		self.assertEqual(rc, 0)
		self.assertEqual(r["event"], "pull_request_review_rejected")
		self.assertEqual(r["signature"], "valid")
		self.assertEqual(r["repo"], "acme/shop-api")
		self.assertEqual(r["branch"], "fix/order-totals")
		body = [f for f in r["findings"] if f["source"] == "review-body"]
		self.assertEqual([(f["file"], f["line"], f["type"], f["verdict"], f["reason"]) for f in body], [
			("services/order_service.py", 41, "NameError", "accepted", None),
			("routes/api.py", 12, "KeyError", "accepted", None),
			("tests/test_orders.py", 3, "AssertionError", "rejected", "path-not-allowed"),
		])

	def test_form_variant_verifies_and_matches_json(self):
		rc, [a, b] = replay_json(self.cfg, [self.fx("review_rejected_body.json"),
						   self.fx("review_rejected_body_form.body")], ["--dry-run"])
		self.assertEqual(rc, 0)
		self.assertEqual(b["signature"], "valid")
		self.assertEqual(verdicts(a), verdicts(b))

	def test_line_comments_through_api(self):
		rc, [r] = replay_json(self.cfg, [self.fx("review_rejected_lines.json")], ["--dry-run"])
		self.assertEqual(rc, 0)
		lines = [f for f in r["findings"] if f["source"] == "line-comment"]
		self.assertGreaterEqual(len(lines), 2)
		self.assertEqual(lines, sorted(lines, key=lambda f: (f["file"], f["line"])))
		paths = [q.path for q in self.gitea.requests]
		self.assertTrue(any(p.endswith("/pulls/7/reviews") for p in paths), paths)
		for q in self.gitea.requests:
			self.assertEqual(q.header("Authorization"), "token test-token")

	def test_reviewer_not_allowed_and_own_account(self):
		rc, [m, bot] = replay_json(self.cfg, [self.fx("review_mallory.json"), self.fx("review_from_bot.json")],
					   ["--dry-run"])
		self.assertEqual(rc, 0)
		self.assertTrue(m["findings"])
		self.assertTrue(all(f["reason"] == "reviewer-not-allowed" for f in m["findings"]), m)
		self.assertTrue(bot["findings"])
		self.assertTrue(all(f["reason"] == "own-account" for f in bot["findings"]), bot)
		self.assertFalse(any(q.path.endswith("/reviews") and "healhook-bot" in q.path for q in self.gitea.requests))

	def test_healhook_block_in_pr_comment(self):
		rc, [r] = replay_json(self.cfg, [self.fx("pr_comment_healhook_block.json")], ["--dry-run"])
		self.assertEqual(r["event"], "pull_request_comment")
		self.assertEqual(len(r["findings"]), 2)
		self.assertTrue(all(f["source"] == "comment" for f in r["findings"]))

	def test_push_and_unknown_events_queue_nothing(self):
		rc, [r] = replay_json(self.cfg, [self.fx("push.json")], ["--no-heal"])
		self.assertEqual(rc, 0)
		self.assertEqual(r["event"], "push")
		self.assertEqual(r["status"], 202)
		self.assertEqual(r["findings"], [])
		self.assertEqual(jobs(self.state), [])

	def test_tampered_body_or_header_is_invalid(self):
		hdrs, body = H.read_fixture("review_rejected_body")
		d = os.path.join(self.tmp, "t")
		os.makedirs(d)
		bad = bytearray(body)
		bad[100] = ord("X") if bad[100] != ord("X") else ord("Y")
		with open(os.path.join(d, "body.json"), "wb") as f:
			f.write(bytes(bad))
		with open(os.path.join(d, "body.headers"), "w") as f:
			f.write("".join("%s: %s\n" % kv for kv in hdrs))
		sig = H.header(hdrs, "X-Gitea-Signature")
		sig2 = sig[:-1] + ("0" if sig[-1] != "0" else "1")
		with open(os.path.join(d, "hdr.json"), "wb") as f:
			f.write(body)
		with open(os.path.join(d, "hdr.headers"), "w") as f:
			f.write("".join("%s: %s\n" % kv for kv in H.replace_header(hdrs, "X-Gitea-Signature", sig2)))
		rc, [a, b] = replay_json(self.cfg, [os.path.join(d, "body.json"), os.path.join(d, "hdr.json")], ["--dry-run"])
		self.assertEqual(rc, 1)
		self.assertEqual((a["signature"], a["status"], a["findings"]), ("invalid", 401, []))
		self.assertEqual((b["signature"], b["status"], b["findings"]), ("invalid", 401, []))
		rc, [c] = replay_json(self.cfg, [os.path.join(d, "hdr.json")], ["--dry-run", "--no-verify"])
		self.assertEqual((rc, c["signature"], c["status"]), (0, "skipped", 202))

	def test_replay_stores_jobs_and_dedupes(self):
		rc, [r] = replay_json(self.cfg, [self.fx("review_rejected_body.json")], ["--no-heal"])
		self.assertEqual(rc, 0)
		j = jobs(self.state)
		self.assertEqual([(x[1], x[2], x[3], x[4]) for x in j], [
			("acme/shop-api", "fix/order-totals", "services/order_service.py", "queued"),
			("acme/shop-api", "fix/order-totals", "routes/api.py", "queued")] + [
			x[1:] for x in j[2:]])
		# Gitea's "Replay": same body, new delivery id → duplicate, nothing new queued.
		rc, [d] = replay_json(self.cfg, [self.fx("review_rejected_body_replay.json")], ["--no-heal"])
		self.assertTrue(d["duplicate"], d)
		self.assertEqual(d["status"], 200)
		self.assertEqual(len(jobs(self.state)), len(j))


@unittest.skipUnless(os.path.isdir(H.SHARED_SAMPLES), "../shared/gitea-samples not present")
class ReplaySharedSamples(unittest.TestCase):
	"""Every byte-exact Gitea sample replays with the right event, signature and findings."""

	def setUp(self):
		self._tmp = H.tmpdir()
		self.tmp = self._tmp.__enter__()
		self.gitea = GiteaMock(token="test-token", routes=GiteaMock.sample_routes()).start()
		self.cfg, self.state = write_config(self.tmp, repo="northwind/billing-svc", reviewers="erik",
						    gitea_url=self.gitea.url)

	def tearDown(self):
		self.gitea.stop()
		self._tmp.__exit__(None, None, None)

	def s(self, name):
		return os.path.join(H.SHARED_SAMPLES, name)

	def test_every_sample(self):
		want = {
			"review_rejected.json": "pull_request_review_rejected",
			"review_rejected_form.body": "pull_request_review_rejected",
			"review_approved.json": "pull_request_review_approved",
			"review_comment.json": "pull_request_review_comment",
			"issue_comment_pr.json": "pull_request_comment",
			"push.json": "push",
		}
		rc, reps = replay_json(self.cfg, [self.s(n) for n in want], ["--dry-run"])
		self.assertEqual(rc, 0)
		for (name, event), r in zip(want.items(), reps):
			self.assertEqual(r["event"], event, name)
			self.assertEqual(r["signature"], "valid", name)
			self.assertEqual(r["status"], 202, name)
		rej, form = reps[0], reps[1]
		expect = [("routes/api.py", "accepted", "", "line-comment"),
			  ("services/invoice_service.py", "accepted", "", "line-comment"),
			  ("tests/test_x.py", "rejected", "path-not-allowed", "line-comment")]
		self.assertEqual(verdicts(rej), expect)
		self.assertEqual(verdicts(form), expect)
		lines = {f["file"]: f["line"] for f in rej["findings"]}
		self.assertEqual(lines, {"services/invoice_service.py": 48, "routes/api.py": 112, "tests/test_x.py": 27})
		self.assertEqual(reps[5]["findings"], [])

	def test_reviewer_outside_list(self):
		cfg, _ = write_config(os.path.join(self.tmp), repo="northwind/billing-svc", reviewers="fay",
				      gitea_url=self.gitea.url)
		rc, [r] = replay_json(cfg, [self.s("review_rejected.json")], ["--dry-run"])
		self.assertEqual(len(r["findings"]), 3)
		self.assertTrue(all(f["reason"] == "reviewer-not-allowed" for f in r["findings"]), r)

	def test_one_byte_or_one_char_changed_is_invalid(self):
		hdrs, body = H.read_sample("review_approved")
		d = os.path.join(self.tmp, "t")
		os.makedirs(d)
		b2 = body.replace(b"LGTM", b"LGTm", 1)
		self.assertNotEqual(b2, body)
		for name, (h, b) in {"b": (hdrs, b2), "h": (H.replace_header(hdrs, "X-Gitea-Signature",
			"0" + H.header(hdrs, "X-Gitea-Signature")[1:]), body)}.items():
			with open(os.path.join(d, name + ".json"), "wb") as f:
				f.write(b)
			with open(os.path.join(d, name + ".headers"), "w") as f:
				f.write("".join("%s: %s\n" % kv for kv in h))
		rc, reps = replay_json(self.cfg, [os.path.join(d, "b.json"), os.path.join(d, "h.json")], ["--dry-run"])
		self.assertEqual(rc, 1)
		self.assertEqual([r["signature"] for r in reps], ["invalid", "invalid"])


class Serve(unittest.TestCase):
	"""healhook serve on 127.0.0.1: status codes, limits, durability, metrics."""

	def setUp(self):
		self._tmp = H.tmpdir()
		self.tmp = self._tmp.__enter__()
		self.gitea = GiteaMock(token="test-token", routes=GiteaMock.fixture_routes()).start()
		self.cfg, self.state = write_config(self.tmp, gitea_url=self.gitea.url)
		self.record = os.path.join(self.tmp, "rec")
		self.proc = None
		self.start()

	def start(self):
		self.port = H.free_port()
		self.url = "http://127.0.0.1:%d" % self.port
		self.proc = H.start_process([H.BIN, "serve", "--config", self.cfg, "--listen",
					     "127.0.0.1:%d" % self.port, "--record", self.record],
					    env={"PATH": os.environ["PATH"]},
					    log_path=os.path.join(self.tmp, "serve.log"))
		H.wait_http(self.url + "/healthz", timeout=10)

	def tearDown(self):
		if self.proc:
			self.proc.stop()
		self.gitea.stop()
		self._tmp.__exit__(None, None, None)

	def hook(self):
		return self.url + "/hooks/gitea"

	def test_valid_review_202_and_answer_shape(self):
		st, hd, body = H.post_fixture(self.hook(), "review_rejected_body")
		self.assertEqual(st, 202, body)
		a = json.loads(body)
		self.assertEqual(a["delivery"], "3f0c6e1a-7b42-4d8e-9a15-2c6b8e4f1d07")
		self.assertEqual(a["event"], "pull_request_review_rejected")
		self.assertEqual(a["findings"], 3)
		self.assertEqual(len(a["accepted"]), 2)
		self.assertEqual(a["rejected"], [{"file": "tests/test_orders.py", "reason": "path-not-allowed"}])
		self.assertIn("pending_lookup", a)
		self.assertEqual(sorted(j[0] for j in jobs(self.state)), sorted(a["accepted"]))
		self.assertEqual(hd["Content-Type"], "application/json")

	def test_bad_or_missing_signature_401(self):
		st, _, body = H.post_fixture(self.hook(), "review_rejected_body", X_Gitea_Signature="0" * 64)
		self.assertEqual(st, 401)
		self.assertIn("error", json.loads(body))
		hdrs, b = H.read_fixture("review_rejected_body")
		for k in ("X-Gitea-Signature", "X-Gogs-Signature", "X-Hub-Signature-256", "X-Hub-Signature"):
			hdrs = H.replace_header(hdrs, k, "sha256=" if k == "X-Hub-Signature-256" else ("sha1=" if k == "X-Hub-Signature" else ""))
		st, _, body = H.post(self.hook(), b, hdrs)
		self.assertEqual(st, 401)
		self.assertEqual(json.loads(body)["error"], "signature missing")
		self.assertEqual(jobs(self.state), [])

	def test_oversized_body_413_and_chunked_411(self):
		hdrs, _ = H.read_fixture("review_rejected_body")
		big = b"{" + b" " * (6 << 20) + b"}"
		h6 = H.resign(hdrs, big, H.FIXTURE_SECRET)
		# Refused from Content-Length alone: with Expect: 100-continue the body is never sent.
		host = ("127.0.0.1", self.port)
		head = H._head("POST", "/hooks/gitea", host[0], host[1], h6 + [("Expect", "100-continue")])
		st, _, body = H.send_raw(self.hook(), head)
		self.assertEqual(st, 413)
		self.assertEqual(json.loads(body)["error"], "body too large")
		# Without Expect the answer is the same, sent before the body is read.
		st, _, _ = H.send_raw(self.hook(), None, pieces=[head.replace(b"Expect: 100-continue\r\n", b""), big])
		self.assertEqual(st, 413)
		st, _, _ = H.post_chunked(self.hook(), big, H.resign(hdrs, big, H.FIXTURE_SECRET), chunk=1 << 16)
		self.assertIn(st, (411, 413, None))
		st, _, _ = H.post_chunked(self.hook(), b"{}", H.resign(hdrs, b"{}", H.FIXTURE_SECRET))
		self.assertIn(st, (411, 413))
		st, _, _ = H.get(self.url + "/healthz")
		self.assertEqual(st, 200)

	def test_header_limits_and_routes(self):
		many = [("X-H%d" % i, "v") for i in range(150)] + [("Content-Length", "2")]
		st, _, _ = H.send_raw(self.hook(), H._head("POST", "/hooks/gitea", "127.0.0.1", self.port, many) + b"{}")
		self.assertEqual(st, 431)
		big = [("X-Big", "a" * 100000), ("Content-Length", "2")]
		st, _, _ = H.send_raw(self.hook(), H._head("POST", "/hooks/gitea", "127.0.0.1", self.port, big) + b"{}")
		self.assertEqual(st, 431)
		self.assertEqual(H.get(self.url + "/nope")[0], 404)
		self.assertEqual(H.get(self.hook())[0], 405)
		hdrs, body = H.read_fixture("review_rejected_body")
		st, _, _ = H.post(self.hook(), body, H.replace_header(hdrs, "Content-Type", "text/plain"))
		self.assertEqual(st, 415)
		self.assertEqual(jobs(self.state), [])

	def test_malformed_json_400(self):
		hdrs, _ = H.read_fixture("review_rejected_body")
		bad = b'{"action": "reviewed", "repository": '
		st, _, body = H.post(self.hook(), bad, H.resign(hdrs, bad, H.FIXTURE_SECRET))
		self.assertEqual(st, 400, body)
		self.assertIn("error", json.loads(body))

	def test_push_202_nothing_queued(self):
		st, _, body = H.post_fixture(self.hook(), "push")
		self.assertEqual(st, 202)
		a = json.loads(body)
		self.assertEqual((a["accepted"], a["findings"]), ([], 0))
		self.assertEqual(jobs(self.state), [])

	def test_replayed_delivery_is_duplicate(self):
		st, _, _ = H.post_fixture(self.hook(), "review_rejected_body")
		self.assertEqual(st, 202)
		n = len(jobs(self.state))
		st, _, body = H.post_fixture(self.hook(), "review_rejected_body_replay")
		self.assertEqual(st, 200)
		self.assertTrue(json.loads(body)["duplicate"])
		self.assertEqual(len(jobs(self.state)), n)

	def test_pending_lookup_resolved_in_background(self):
		st, _, body = H.post_fixture(self.hook(), "review_rejected_lines")
		self.assertEqual(st, 202)
		self.assertTrue(json.loads(body)["pending_lookup"])
		got = H.wait_for(lambda: jobs(self.state), timeout=10, what="jobs from line comments")
		self.assertTrue(all(j[4] == "queued" for j in got))

	def test_slow_client_does_not_delay_others(self):
		hdrs, body = H.read_fixture("review_approved")
		slow_done = []
		t = threading.Thread(target=lambda: slow_done.append(
			H.post_slow(self.hook(), body, hdrs, piece=40, delay=0.1, timeout=60)))
		t.start()
		time.sleep(0.5)
		t0 = time.time()
		st, _, _ = H.post_fixture(self.hook(), "push")
		fast = time.time() - t0
		self.assertEqual(st, 202)
		self.assertFalse(slow_done, "the slow client finished first")
		t.join(120)
		self.assertTrue(fast < 5, fast)

	def test_kill9_after_202_keeps_the_job(self):
		st, _, body = H.post_fixture(self.hook(), "review_rejected_body")
		self.assertEqual(st, 202)
		ids = json.loads(body)["accepted"]
		os.kill(self.proc.pid, signal.SIGKILL)
		self.proc.wait(10)
		self.proc.stop()
		self.start()
		self.assertEqual(sorted(j[0] for j in jobs(self.state)), sorted(ids))
		st, _, body = H.post_fixture(self.hook(), "review_rejected_body")
		self.assertEqual(st, 200)

	def test_metrics_and_healthz(self):
		H.post_fixture(self.hook(), "review_rejected_body")
		H.post_fixture(self.hook(), "push")
		H.post_fixture(self.hook(), "push", X_Gitea_Signature="1" * 64)
		st, _, body = H.get(self.url + "/healthz")
		self.assertEqual((st, json.loads(body)["status"]), (200, "ok"))
		st, hd, body = H.get(self.url + "/metrics")
		text = body.decode()
		self.assertEqual(st, 200)
		self.assertIn('healhook_deliveries_total{event="pull_request_review_rejected",verdict="accepted"} 1', text)
		self.assertIn('healhook_deliveries_total{event="push",verdict="ignored"} 1', text)
		self.assertIn('healhook_deliveries_total{event="push",verdict="unauthorized"} 1', text)
		self.assertIn('healhook_findings_total{verdict="path-not-allowed"} 1', text)
		self.assertIn('healhook_jobs{state="queued"} 2', text)
		self.assertIn("healhook_request_duration_seconds_count", text)

	def test_record_then_replay(self):
		H.post_fixture(self.hook(), "review_rejected_body")
		files = sorted(os.listdir(self.record))
		self.assertIn("3f0c6e1a-7b42-4d8e-9a15-2c6b8e4f1d07.json", files)
		self.assertIn("3f0c6e1a-7b42-4d8e-9a15-2c6b8e4f1d07.headers", files)
		_, body = H.read_fixture("review_rejected_body")
		with open(os.path.join(self.record, "3f0c6e1a-7b42-4d8e-9a15-2c6b8e4f1d07.json"), "rb") as f:
			self.assertEqual(f.read(), body)
		rc, [r] = replay_json(self.cfg, [os.path.join(self.record, "3f0c6e1a-7b42-4d8e-9a15-2c6b8e4f1d07.json")], ["--dry-run"])
		self.assertEqual(r["signature"], "valid")

	def test_sigterm_exits_0(self):
		self.proc.signal(signal.SIGTERM)
		self.assertEqual(self.proc.wait(15), 0)
		self.assertIn("serve.stopped", self.proc.output())


class ServeStartup(unittest.TestCase):
	def test_refuses_without_secret_unless_insecure(self):
		with H.tmpdir() as tmp:
			cfg = os.path.join(tmp, "c.conf")
			with open(cfg, "w") as f:
				f.write(H.state_config(os.path.join(tmp, "st")))
			p = run(["serve", "--config", cfg, "--listen", "127.0.0.1:%d" % H.free_port()])
			self.assertEqual(p.returncode, 2)
			self.assertIn("--insecure", p.stderr.decode())
			port = H.free_port()
			proc = H.start_process([H.BIN, "serve", "--config", cfg, "--insecure", "--listen",
						"127.0.0.1:%d" % port], env={"PATH": os.environ["PATH"]})
			try:
				H.wait_http("http://127.0.0.1:%d/healthz" % port)
				self.assertIn("serve.insecure", proc.output())
			finally:
				self.assertEqual(proc.stop(), 0)

	def test_sign_matches_fixture(self):
		hdrs, body = H.read_fixture("review_rejected_body")
		with H.tmpdir() as tmp:
			sf = os.path.join(tmp, "s")
			with open(sf, "w") as f:
				f.write(H.FIXTURE_SECRET + "\n")
			import subprocess
			p = subprocess.run([H.BIN, "sign", "--secret-file", sf], input=body, stdout=subprocess.PIPE)
			self.assertEqual(p.returncode, 0)
			out = dict(l.split(": ", 1) for l in p.stdout.decode().splitlines())
			self.assertEqual(out["X-Gitea-Signature"], H.header(hdrs, "X-Gitea-Signature"))
			self.assertEqual(out["X-Hub-Signature-256"], H.header(hdrs, "X-Hub-Signature-256"))
			self.assertEqual(out["X-Hub-Signature"], H.header(hdrs, "X-Hub-Signature"))

	def test_help_on_every_command(self):
		for c in ("serve", "replay", "sign", "version"):
			p = run([c, "--help"])
			self.assertEqual(p.returncode, 0, c)
			self.assertIn(b"usage: healhook " + c.encode(), p.stdout)
		p = run(["nope"])
		self.assertEqual(p.returncode, 2)


if __name__ == "__main__":
	unittest.main()
