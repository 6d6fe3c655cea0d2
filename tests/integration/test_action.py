"""`healhook action` as a Gitea Actions step, end to end on 127.0.0.1.

Each test builds what a runner provides: the event file (GITHUB_EVENT_PATH), a local bare
origin whose PR head branch holds the reviewed files with `# BUG:` lines, the checkout
(GITHUB_WORKSPACE, a full clone on the head branch), GITHUB_API_URL pointing at a GiteaMock,
and temporary GITHUB_OUTPUT / GITHUB_STEP_SUMMARY files. The fixer is fake-aider. Nothing else
is configured: the defaults healhook takes from the runner's variables are under test too.

Two events: the shared sample actions_event_pull_request_review.json (erik's review of
northwind/billing-svc PR 42; skipped only when ../shared is absent) and the equivalent event
built from the project's own fixtures (bob's review 501 of acme/shop-api PR 7)."""
import json
import os
import subprocess
import unittest

from lib import harness as H
from lib.gitea_mock import GiteaMock
from lib.health_server import HealthServer

FIXER = (H.FAKE_AIDER + " --model {model} --message-file {prompt} --yes-always --no-git "
	 "--chat-history-file /dev/null {file}")


def parse_output(path):
	"""GITHUB_OUTPUT → dict, reading both `name=value` and `name<<DELIM` forms."""
	out = {}
	with open(path, encoding="utf-8") as f:
		lines = f.read().split("\n")
	i = 0
	while i < len(lines):
		line = lines[i]
		i += 1
		if not line:
			continue
		if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
			name, delim = line.split("<<", 1)
			val = []
			while lines[i] != delim:
				val.append(lines[i])
				i += 1
			i += 1
			out[name] = "\n".join(val)
		else:
			name, _, value = line.partition("=")
			out[name] = value
	return out


class Scenario:
	"""One repository, its PR, the review event and the mock Gitea."""

	def __init__(self, repo, pr, branch, reviewer, event_bytes, routes, files, allowed):
		self.repo, self.pr, self.branch, self.reviewer = repo, pr, branch, reviewer
		self.event_bytes, self.routes, self.files, self.allowed = (event_bytes, routes, files,
									   allowed)


def bug_file(fixed_line, buggy_line, indent="    "):
	return ('"""A module of the service."""\n\n\ndef f(order, fee):\n'
		'%s%s  # BUG: %s\n%sreturn order\n' % (indent, buggy_line, fixed_line, indent))


def sample_scenario():
	with open(os.path.join(H.SHARED_SAMPLES, "actions_event_pull_request_review.json"), "rb") as f:
		event = f.read()
	files = {
		"services/invoice_service.py": bug_file("order.total = max(order.total - fee.amount, 0)",
							"order.total = order.total - fee.amount"),
		"routes/api.py": bug_file("code = order.get('code')", "code = order['code']"),
		"tests/test_x.py": bug_file("assert order.total == 90", "pass"),
	}
	return Scenario("northwind/billing-svc", 42, "feature/late_fee-codes", "erik", event,
			GiteaMock.sample_routes(), files,
			["routes/api.py", "services/invoice_service.py"])


def fixture_scenario():
	mf = H.make_fixtures()
	payload = mf.review_payload("bob", "pull_request_review_rejected", "see inline comments",
				    at="2026-04-15T10:34:52Z")
	event = json.dumps(payload, sort_keys=True, separators=(",", ":"),
			   ensure_ascii=False).encode("utf-8")
	files = {
		"services/order_service.py": bug_file("total = order.total", "total = totl"),
		"routes/api.py": bug_file("code = order.get('code')", "code = order['code']"),
		"tests/test_orders.py": bug_file("assert order.total == 90", "pass"),
	}
	return Scenario(mf.FULL, mf.PR, mf.HEAD_REF, "bob", event, GiteaMock.fixture_routes(), files,
			["routes/api.py", "services/order_service.py"])


class ActionBase:
	"""The tests, run once per scenario (subclasses set scenario())."""

	def scenario(self):
		raise NotImplementedError

	def setUp(self):
		self.sc = self.scenario()
		self._tmp = H.tmpdir("hh-action-")
		self.tmp = self._tmp.__enter__()
		self.gitea = GiteaMock(token="test-token", routes=self.sc.routes).start()
		# origin: main with a README, the PR head branch with the reviewed files.
		r = H.make_origin_and_worktree(self.tmp, {"README.md": "service\n"}, name="origin-seed")
		self.origin, self.seed = r.origin, r.worktree
		H.git(r.worktree, "checkout", "-q", "-b", self.sc.branch)
		self.head0 = H.commit_files(r.worktree, self.sc.files, "the PR's change",
					    branch=self.sc.branch)
		self.workspace = os.path.join(self.tmp, "workspace")
		H.git(self.tmp, "clone", "-q", self.origin, self.workspace)
		H.git(self.workspace, "checkout", "-q", self.sc.branch)
		self.event = os.path.join(self.tmp, "event.json")
		with open(self.event, "wb") as f:
			f.write(self.sc.event_bytes)
		self.output = os.path.join(self.tmp, "github_output")
		self.summary = os.path.join(self.tmp, "step_summary")
		self.runner_temp = os.path.join(self.tmp, "runner-temp")
		os.makedirs(self.runner_temp)

	def tearDown(self):
		self.gitea.stop()
		self._tmp.__exit__(None, None, None)

	def env(self, **over):
		e = {
			"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
			"HOME": self.tmp,
			"GIT_CONFIG_NOSYSTEM": "1",
			"GITEA_ACTIONS": "true",
			"GITHUB_ACTIONS": "true",
			"GITHUB_EVENT_NAME": "pull_request_review",
			"GITHUB_EVENT_PATH": self.event,
			"GITHUB_REPOSITORY": self.sc.repo,
			"GITHUB_WORKSPACE": self.workspace,
			"GITHUB_SERVER_URL": self.gitea.url,
			"GITHUB_API_URL": self.gitea.url + "/api/v1",
			"GITHUB_OUTPUT": self.output,
			"GITHUB_STEP_SUMMARY": self.summary,
			"RUNNER_TEMP": self.runner_temp,
			"GITHUB_RUN_ID": "77",
			"GITHUB_RUN_NUMBER": "5",
			"GITHUB_TOKEN": "test-token",
			"HEALHOOK_REVIEWERS": self.sc.reviewer,
			"HEALHOOK_FIXER_COMMAND": FIXER,
			"HEALHOOK_FIXER_TIMEOUT": "30",
		}
		for k, v in over.items():
			if v is None:
				e.pop(k, None)
			else:
				e[k] = v
		return e

	def action(self, *args, **over):
		p = subprocess.run([H.BIN, "action"] + list(args), env=self.env(**over),
				   stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
		return p.returncode, p.stdout.decode(), p.stderr.decode()

	def outputs(self):
		return parse_output(self.output)

	def test_heals_each_accepted_file(self):
		rc, out, err = self.action()
		self.assertEqual(rc, 0, out + err)
		o = self.outputs()
		tip = H.rev(self.origin, "refs/heads/" + self.sc.branch)
		self.assertEqual((o["result"], o["findings"], o["healed"], o["reverted"]),
				 ("healed", "3", "2", "false"), o)
		self.assertEqual(o["commit_sha"], tip)
		jobs = json.loads(o["jobs"])
		self.assertEqual(sorted(j["file"] for j in jobs), self.sc.allowed)
		self.assertTrue(all(j["success"] and j["branch"] == self.sc.branch for j in jobs), jobs)

		# One commit per file on the PR head branch, each touching only its file; fixed text.
		commits = H.git(self.origin, "rev-list", "--reverse", "%s..%s" % (self.head0, tip)).split()
		self.assertEqual(len(commits), 2)
		touched = [H.git(self.origin, "show", "--format=", "--name-only", c).split() for c in commits]
		self.assertEqual(sorted(t[0] for t in touched), self.sc.allowed)
		self.assertTrue(all(len(t) == 1 for t in touched), touched)
		for path in self.sc.allowed:
			text = H.show(self.origin, tip, path)
			self.assertNotIn("# BUG:", text)
		self.assertIn("# BUG:", H.show(self.origin, tip, [p for p in self.sc.files
								  if p not in self.sc.allowed][0]))
		self.assertEqual(H.rev(self.origin, "refs/heads/main"),
				 H.rev(self.origin, "%s~1" % self.head0))

		# Step summary: one table row per finding with its verdict/state and commit.
		with open(self.summary, encoding="utf-8") as f:
			summary = f.read()
		self.assertIn("| file | line | type | verdict | commit |", summary)
		rows = [l for l in summary.splitlines() if l.startswith("| ") and "---" not in l][1:]
		self.assertEqual(len(rows), 3, summary)
		for row in rows:
			cells = [c.strip() for c in row.strip("|").split("|")]
			if cells[0] in self.sc.allowed:
				self.assertEqual(cells[3], "pushed", row)
				self.assertEqual(len(cells[4]), 12, row)
				self.assertTrue(any(c.startswith(cells[4]) for c in commits), row)
			else:
				self.assertEqual(cells[3], "rejected: path-not-allowed", row)
				self.assertEqual(cells[4], "", row)

		# Workflow commands and the PR comment (Gitea shows neither of the former).
		notices = [l for l in out.splitlines() if l.startswith("::notice::")]
		self.assertGreaterEqual(len(notices), 3, out)
		self.assertTrue(any("3 findings, 2 accepted" in l for l in notices), notices)
		self.assertFalse([l for l in out.splitlines() if l.startswith("::error::")], out)
		self.assertEqual(len(self.gitea.comments), 1, self.gitea.comments)
		repo, index, body = self.gitea.comments[0]
		self.assertEqual((repo, index), (self.sc.repo, self.sc.pr))
		self.assertIn("**healhook**", body)
		self.assertIn(tip[:12], body)
		self.assertIn("path-not-allowed", body)
		self.assertIn("(%s/%s/actions/runs/5)" % (self.gitea.url, self.sc.repo), body)
		# The comment never reads as a finding to a workflow on issue_comment.
		self.assertNotRegex(body, r"(?m)^[-*+ `]*[\w./]+\.py`?:\d+:")
		for q in self.gitea.requests:
			self.assertEqual(q.header("Authorization"), "token test-token")

	def test_dry_run_lands_nothing(self):
		rc, out, err = self.action("--dry-run")
		self.assertEqual(rc, 0, out + err)
		o = self.outputs()
		self.assertEqual((o["result"], o["findings"], o["healed"], o["commit_sha"], o["reverted"]),
				 ("dry-run", "3", "0", "", "false"), o)
		self.assertEqual(H.rev(self.origin, "refs/heads/" + self.sc.branch), self.head0)
		self.assertEqual(self.gitea.comments, [])
		would = sorted(l.split()[2].rsplit(":", 1)[0] for l in out.splitlines()
			       if l.startswith("would fix "))
		self.assertEqual(would, self.sc.allowed, out)
		self.assertRegex(out, r"finding tests/[a-z_]+\.py:\d+ \[\w+\] rejected: path-not-allowed")
		with open(self.summary, encoding="utf-8") as f:
			self.assertIn("would fix", f.read())
		self.assertEqual(os.listdir(self.runner_temp), [])

	def test_unsupported_event_is_nothing_to_do(self):
		rc, out, err = self.action(GITHUB_EVENT_NAME="push")
		self.assertEqual(rc, 0, out + err)
		self.assertEqual(self.outputs()["result"], "nothing")
		self.assertIn("::notice::", out)
		self.assertEqual(H.rev(self.origin, "refs/heads/" + self.sc.branch), self.head0)

	def test_missing_event_path_is_usage_error(self):
		rc, out, err = self.action(GITHUB_EVENT_PATH=None)
		self.assertEqual(rc, 2, out + err)
		self.assertIn("::error::", out)
		self.assertIn("GITHUB_EVENT_PATH", out)

	def test_state_dir_is_fresh_and_removed(self):
		rc, out, err = self.action()
		self.assertEqual(rc, 0, out + err)
		self.assertEqual(os.listdir(self.runner_temp), [])


@unittest.skipUnless(os.path.isdir(H.SHARED_SAMPLES), "../shared/gitea-samples not present")
class ActionSharedSample(ActionBase, unittest.TestCase):
	def scenario(self):
		return sample_scenario()


class ActionFixtureEvent(ActionBase, unittest.TestCase):
	def scenario(self):
		return fixture_scenario()

	def test_issue_comment_on_a_pr_scans_the_comment(self):
		mf = H.make_fixtures()
		body = ("Two more:\n\n- `services/order_service.py`:41: [NameError] name 'totl' is not "
			"defined\n- routes/api.py:12: [KeyError] 'code' missing\n")
		payload = mf.comment_payload("bob", body, 91, "2026-04-15T11:02:00Z")
		with open(self.event, "wb") as f:
			f.write(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode())
		rc, out, err = self.action(GITHUB_EVENT_NAME="issue_comment")
		self.assertEqual(rc, 0, out + err)
		o = self.outputs()
		self.assertEqual((o["result"], o["findings"], o["healed"]), ("healed", "2", "2"), o)
		self.assertEqual(o["commit_sha"], H.rev(self.origin, "refs/heads/" + self.sc.branch))

	def test_failed_heal_exits_1(self):
		rc, out, err = self.action(HEALHOOK_FIXER_COMMAND="/bin/false {file}")
		self.assertEqual(rc, 1, out + err)
		o = self.outputs()
		self.assertEqual((o["result"], o["healed"], o["commit_sha"]), ("failed", "0", ""), o)
		errors = [l for l in out.splitlines() if l.startswith("::error::")]
		self.assertEqual(len(errors), 2, out)
		self.assertEqual(H.rev(self.origin, "refs/heads/" + self.sc.branch), self.head0)
		self.assertEqual(len(self.gitea.comments), 1)
		self.assertIn("failed", self.gitea.comments[0][2])

	def test_fix_that_breaks_health_is_reverted(self):
		# On the default branch (target = default-branch) with a health URL: the deployed copy
		# follows main through origin's post-receive hook, and the order_service fix adds a
		# line that the health endpoint reports as broken; the routes/api.py fix stays healthy.
		deploy = os.path.join(self.tmp, "deploy")
		H.git(self.seed, "checkout", "-q", "main")
		H.git(self.seed, "merge", "-q", "--ff-only", self.sc.branch)
		main0 = H.commit_files(self.seed, {"services/order_service.py":
			'"""Orders."""\nstate = "ok"  # BUG: state = "bad"\n'}, "order service", branch="main")
		H.git(self.tmp, "clone", "-q", self.origin, deploy)
		hook = os.path.join(self.origin, "hooks", "post-receive")
		with open(hook, "w") as f:
			f.write("#!/bin/sh\nunset GIT_DIR\ngit -C %s pull -q --ff-only origin main "
				">/dev/null 2>&1\n" % deploy)
		os.chmod(hook, 0o755)
		with HealthServer(status_file=os.path.join(deploy, "services", "order_service.py"),
				  marker='\nstate = "bad"') as hs:
			rc, out, err = self.action(HEALHOOK_TARGET="default-branch",
						   HEALHOOK_HEALTH_URL=hs.health_url,
						   HEALHOOK_HEALTH_DELAY="0", HEALHOOK_HEALTH_INTERVAL="1",
						   HEALHOOK_HEALTH_FAILURES="1", HEALHOOK_HEALTH_TIMEOUT="10")
		self.assertEqual(rc, 1, out + err)
		o = self.outputs()
		self.assertEqual((o["result"], o["findings"], o["healed"], o["reverted"]),
				 ("reverted", "3", "1", "true"), o)
		jobs = {j["file"]: j for j in json.loads(o["jobs"])}
		self.assertEqual(jobs["routes/api.py"]["state"], "healed")
		self.assertEqual(jobs["services/order_service.py"]["state"], "reverted")
		self.assertEqual(o["commit_sha"], jobs["routes/api.py"]["commit_sha"])
		tip = H.rev(self.origin, "refs/heads/main")
		self.assertEqual(tip, jobs["services/order_service.py"]["revert_sha"])
		self.assertEqual(H.show(self.origin, tip, "services/order_service.py"),
				 H.show(self.origin, main0, "services/order_service.py"))
		self.assertEqual(H.rev(self.origin, "refs/heads/" + self.sc.branch), self.head0)
		self.assertTrue(any(l.startswith("::error::") and "reverted" in l
				    for l in out.splitlines()), out)
		with open(self.summary, encoding="utf-8") as f:
			self.assertRegex(f.read(), r"\| services/order_service.py \| 41 \| NameError \| reverted")

	def test_line_comments_unreadable_fails_the_step(self):
		rc, out, err = self.action(GITHUB_TOKEN="wrong-token")
		self.assertEqual(rc, 1, out + err)
		o = self.outputs()
		self.assertEqual((o["result"], o["findings"], o["healed"]), ("failed", "0", "0"), o)
		self.assertRegex(out, r"(?m)^::error::healhook: review line comments not fetched: .*401")
		self.assertEqual(H.rev(self.origin, "refs/heads/" + self.sc.branch), self.head0)

	def test_dry_run_with_lookup_unreadable_is_not_failed(self):
		# Issue 15: only the optional line-comment lookup failed; a dry run heals nothing,
		# so it says so as a warning and stays a dry run.
		rc, out, err = self.action("--dry-run", GITHUB_TOKEN="wrong-token")
		self.assertEqual(rc, 0, out + err)
		o = self.outputs()
		self.assertEqual((o["result"], o["healed"]), ("dry-run", "0"), o)
		self.assertRegex(out, r"(?m)^::warning::healhook: review line comments not fetched: "
				 r".*401.*dry run")
		self.assertFalse([l for l in out.splitlines() if l.startswith("::error::")], out)
		self.assertEqual(H.rev(self.origin, "refs/heads/" + self.sc.branch), self.head0)

	def test_workflow_command_text_is_escaped(self):
		rc, out, err = self.action(GITHUB_EVENT_NAME="odd%event\r\nname")
		self.assertEqual(rc, 0, out + err)
		self.assertIn("::notice::healhook: nothing to do for event 'odd%25event%0D%0Aname'\n",
			      out)

if __name__ == "__main__":
	unittest.main()
