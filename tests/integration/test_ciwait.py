"""ci-wait for a fix pushed to an open PR's head (issue 16), end to end on 127.0.0.1.

`healhook serve` gets bob's signed "request changes" review of acme/shop-api PR 7 (head branch
fix/order-totals); the fix lands on the PR head, and with `ci-wait = true` healhook waits for the
repository's CI on that commit. healhook itself posts its own commit status `healhook` (pending
at the push, then success or failure) on the same SHA, so the verdict must judge the other
contexts: GiteaMock computes the combined status the way Gitea does (latest status per context,
failure/pending/success), in which healhook's own pending would hold the state at pending.

The repository's CI is played by CI (below): it watches origin's PR head and, for every new
commit there, posts its contexts through the mock's API as a runner would: pending at once,
the final state `delay` seconds later. Transport is local (host = a clone of a bare origin).
"""
import json
import os
import subprocess
import threading
import time
import unittest
import uuid

from lib import harness as H
from lib.gitea_mock import GiteaMock

REPO = "acme/shop-api"
TOKEN = "gitea-token-ci-wait"
HEAD = "fix/order-totals"
ORDER = "services/order_service.py"
BUGGY = "def total(items):\n    s = sum(items)\n    return totl  # BUG: return s\n"
FINDING = "%s:3: [NameError] name 'totl' is not defined" % ORDER


class CI(threading.Thread):
	"""For each new tip of origin's `branch`: POST contexts (name -> final state) as pending,
	then after `delay` s the final states. posted: (time, sha, context, state), in order."""

	def __init__(self, origin, branch, mock, contexts, delay):
		super().__init__(daemon=True)
		self.origin, self.branch, self.mock = origin, branch, mock
		self.contexts, self.delay = contexts, delay
		self.posted = []
		self.seen = {H.rev(origin, branch)}
		self.halt = threading.Event()

	def post(self, sha, context, state):
		body = json.dumps({"state": state, "context": context, "description": "ci run",
				   "target_url": self.mock.url + "/ci/1"}).encode()
		st, _, data = H.post("%s/api/v1/repos/%s/statuses/%s" % (self.mock.url, REPO, sha), body,
				     {"Authorization": "token " + TOKEN, "Content-Type": "application/json"})
		assert st == 201, (st, data)
		self.posted.append((time.time(), sha, context, state))

	def run(self):
		while not self.halt.wait(0.1):
			sha = H.rev(self.origin, self.branch)
			if sha in self.seen:
				continue
			self.seen.add(sha)
			for c in self.contexts:
				self.post(sha, c, "pending")
			if self.halt.wait(self.delay):
				return
			for c, state in self.contexts.items():
				self.post(sha, c, state)

	def stop(self):
		self.halt.set()
		self.join(5)


class CIWait(unittest.TestCase):
	def setUp(self):
		self._tmp = H.tmpdir("hh-ciwait-")
		self.tmp = self._tmp.__enter__()
		r = H.make_origin_and_worktree(self.tmp, {"README.md": "shop\n"})
		self.origin, self.host = r.origin, r.worktree
		dev = os.path.join(self.tmp, "dev")
		H.git(self.tmp, "clone", "-q", self.origin, dev)
		H.git(dev, "checkout", "-q", "-b", HEAD)
		self.head0 = H.commit_files(dev, {ORDER: BUGGY}, "the PR's change", branch=HEAD)
		self.gitea = GiteaMock(token=TOKEN).start()
		self.ci = None
		self.proc = None

	def tearDown(self):
		if self.proc:
			self.proc.stop()
		if self.ci:
			self.ci.stop()
		self.gitea.stop()
		self._tmp.__exit__(None, None, None)

	def write(self, **repo_keys):
		secret, token = os.path.join(self.tmp, "secret"), os.path.join(self.tmp, "token")
		for path, value in ((secret, H.FIXTURE_SECRET), (token, TOKEN)):
			with open(path, "w") as f:
				f.write(value + "\n")
		repo = {"host": self.host, "reviewers": "bob", "ci-wait": "true", "health-interval": 1,
			"health-timeout": 20}
		repo.update({k.replace("_", "-"): v for k, v in repo_keys.items()})
		self.cfg = os.path.join(self.tmp, "healhook.conf")
		with open(self.cfg, "w") as f:
			f.write("[server]\n\tsecret-file = %s\n" % secret)
			f.write("[state]\n\tdir = %s\n" % os.path.join(self.tmp, "state"))
			f.write("[worker]\n\tparallel = 1\n")
			f.write("[gitea]\n\turl = %s\n\ttoken-file = %s\n\tuser = healhook-bot\n"
				"\ttimeout = 5\n" % (self.gitea.url, token))
			f.write("[notify]\n\tgitea-comment = false\n")
			f.write("[fixer]\n\tcommand = %s --model {model} --message-file {prompt} "
				"--yes-always --no-git --chat-history-file %s {file}\n"
				% (H.FAKE_AIDER, os.path.join(self.tmp, "chat.md")))
			f.write('[repo "%s"]\n' % REPO)
			for k, v in repo.items():
				f.write("\t%s = %s\n" % (k, v))

	def serve(self, ci_contexts=None, delay=2.0):
		if ci_contexts is not None:
			self.ci = CI(self.origin, HEAD, self.gitea, ci_contexts, delay)
			self.ci.start()
		self.port = H.free_port()
		self.url = "http://127.0.0.1:%d" % self.port
		self.proc = H.start_process([H.BIN, "serve", "--config", self.cfg, "--listen",
					     "127.0.0.1:%d" % self.port],
					    env={"PATH": os.environ["PATH"]},
					    log_path=os.path.join(self.tmp, "serve.log"))
		H.wait_http(self.url + "/healthz", timeout=10)
		mf = H.make_fixtures()
		hdrs, body = mf.review_delivery("bob", mf.T_REJ, "please fix\n\n" + FINDING,
						str(uuid.uuid4()), secret=H.FIXTURE_SECRET)
		st, _, data = H.post(self.url + "/hooks/gitea", body, hdrs)
		self.assertEqual(st, 202, data)
		jobs = json.loads(data)["accepted"]
		self.assertEqual(len(jobs), 1, data)
		return jobs[0]

	def history(self):
		p = subprocess.run([H.BIN, "history", "--config", self.cfg, "--json"],
				   stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30,
				   env={"PATH": os.environ["PATH"]})
		self.assertEqual(p.returncode, 0, p.stderr)
		return {j["job"]: j for j in json.loads(p.stdout)}

	def wait_done(self, job, timeout=40):
		final = ("healed", "reverted", "revert-failed", "failed", "pushed")
		H.wait_for(lambda: self.history().get(job, {}).get("state") in final, timeout=timeout,
			   interval=0.2, what="job %d to end\n%s" % (job, self.proc.output()[-3000:]))
		return self.history()[job]

	def own_statuses(self, sha):
		"""healhook's own statuses on sha, in order, once the last one has been posted."""
		return [st["state"] for r, s, st in self.gitea.statuses
			if s == sha and st["context"] == "healhook"]

	def wait_own(self, sha, last):
		H.wait_for(lambda: self.own_statuses(sha)[-1:] == [last], timeout=15, interval=0.1,
			   what="healhook status %s on %s (now %s)" % (last, sha, self.own_statuses(sha)))
		return self.own_statuses(sha)

	def test_ci_success_after_2s_heals_and_own_status_ends_success(self):
		# Two CI contexts and one context per page (Gitea's MAX_RESPONSE_ITEMS = 1): healhook
		# must read every page, and ci/build turns success 2 s after the push.
		self.gitea.max_items = 1
		self.write()
		job = self.serve({"ci/build": "success", "ci/lint": "success"}, delay=2.0)
		h = self.wait_done(job)
		self.assertEqual(h["state"], "healed", h)
		fix = h["commit_sha"]
		self.assertEqual(H.rev(self.origin, HEAD), fix, "the fix is the PR head's tip")
		self.assertEqual(H.rev(self.origin, HEAD + "~1"), self.head0)
		self.assertEqual(H.show(self.origin, HEAD, ORDER).splitlines()[2], "    return s")
		self.assertEqual(self.wait_own(fix, "success"), ["pending", "success"])
		# healhook's verdict came after CI's: its success was posted after both CI successes
		order = [json.loads(q.body) for q in self.gitea.requests_to("POST", "/statuses/")]
		own_success = [i for i, b in enumerate(order)
			       if b["context"] == "healhook" and b["state"] == "success"]
		ci_success = [i for i, b in enumerate(order)
			      if b["context"] != "healhook" and b["state"] == "success"]
		self.assertEqual(len(ci_success), 2, order)
		self.assertGreater(own_success[0], max(ci_success), order)
		# the pages were read: some request asked for page 3 (ci/build, ci/lint, healhook)
		pages = {q.query for q in self.gitea.requests_to("GET", "/commits/%s/status" % fix)}
		self.assertIn("page=3&limit=50", pages)
		# the combined state Gitea shows is success only now, after healhook's own success
		st, _, data = H.get("%s/api/v1/repos/%s/commits/%s/status?limit=50" % (
			self.gitea.url, REPO, fix), {"Authorization": "token " + TOKEN})
		self.assertEqual(json.loads(data)["state"], "success")
		self.assertEqual(H.git(self.origin, "log", "--format=%s", HEAD).count("Revert"), 0)

	def test_ci_failure_reverts_naming_the_context(self):
		self.write()
		job = self.serve({"ci/build": "failure", "ci/lint": "success"}, delay=1.0)
		h = self.wait_done(job)
		self.assertEqual(h["state"], "reverted", h)
		fix, revert = h["commit_sha"], h["revert_sha"]
		self.assertTrue(h["message"].endswith(": CI failed on %s: 'ci/build' failure" % fix[:12]),
				h["message"])
		self.assertNotIn("ci/lint", h["message"])
		# the revert is the PR head's tip and restores the file byte for byte
		self.assertEqual(H.rev(self.origin, HEAD), revert)
		self.assertEqual(H.rev(self.origin, HEAD + "~1"), fix)
		self.assertEqual(H.show(self.origin, HEAD, ORDER), BUGGY.rstrip("\n"))
		self.assertEqual(self.wait_own(fix, "failure"), ["pending", "failure"])

	def test_no_ci_status_times_out_naming_the_awaited_contexts(self):
		timeout = 3
		self.write(ci_contexts="ci/build, ci/test", health_timeout=timeout)
		t0 = time.time()
		job = self.serve()
		h = self.wait_done(job)
		took = time.time() - t0
		self.assertEqual(h["state"], "reverted", h)
		fix = h["commit_sha"]
		self.assertTrue(h["message"].endswith(
			": CI did not report on %s within %ds: awaited 'ci/build' not reported, "
			"'ci/test' not reported" % (fix[:12], timeout)), h["message"])
		self.assertGreaterEqual(took, timeout, "the wait ended before health-timeout")
		# the wait itself lasted the whole health-timeout (it once counted whole seconds of
		# time() and gave CI up to one second less)
		stages = h["stages"] if isinstance(h["stages"], dict) else json.loads(h["stages"])
		self.assertGreaterEqual(stages["ci"], timeout * 1000, stages)
		self.assertEqual(H.rev(self.origin, HEAD), h["revert_sha"])
		self.assertEqual(self.wait_own(fix, "failure"), ["pending", "failure"])
		# it asked Gitea for the commit's statuses, and only healhook's own were there
		self.assertTrue(self.gitea.requests_to("GET", "/commits/%s/status" % fix))
		self.assertEqual({st["context"] for r, s, st in self.gitea.statuses}, {"healhook"})


if __name__ == "__main__":
	unittest.main()
