#!/usr/bin/env python3
"""valgrind memcheck of full heals with the local transport (docs/reliability.md, "Valgrind").

Sets up what tests/integration/test_heal.py sets up — a bare origin, a host work tree cloned
from it, the scripted fixer tests/lib/fake-aider and a health endpoint on 127.0.0.1
(tests/lib/health_server.py) — and runs under
    valgrind --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=3
two heals: one that lands and turns healthy ("healed"), and one whose fix breaks health and is
reverted ("reverted"). A memory error or a definite leak makes valgrind exit 3; the script then
fails. Prints valgrind's leak summary of each run.

Usage: python3 fuzz/valgrind-heal.py [--bin build/healhook] [--keep]
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))
from lib import harness as H  # noqa: E402
from lib.health_server import HealthServer  # noqa: E402

TARGET = "services/order_service.py"
FILES = {
	TARGET: "def order_total(items):\n    s = 0\n    for i in items:\n        s += i\n"
		"    return totl  # BUG: return s\n",
	"README.md": "# shop-api\n",
}


class OriginApp(HealthServer):
	"""The deployed application: origin's main, unhealthy (500) while its tree holds BROKEN."""

	def __init__(self, origin):
		super().__init__()
		self.origin = origin

	def answer(self):
		sha = H.rev(self.origin, "main")
		broken = H.git(self.origin, "grep", "-l", "BROKEN", sha, check=False) != ""
		return (500 if broken else 200), {"status": "error" if broken else "ok", "version": sha}


def run_one(bin_path, tmp, scenario):
	d = os.path.join(tmp, scenario)
	os.makedirs(d)
	origin, host, base = H.make_origin_and_worktree(d, FILES)
	rec = os.path.join(d, "rec")
	os.makedirs(rec)
	app = OriginApp(origin).start()
	try:
		cfg = os.path.join(d, "healhook.conf")
		with open(cfg, "w") as f:
			f.write("[state]\n\tdir = %s\n" % os.path.join(d, "state"))
			f.write("[fixer]\n\tcommand = %s --model {model} --message-file {prompt} --yes-always "
				"--no-git --chat-history-file %s {file}\n\ttimeout = 60\n"
				% (H.FAKE_AIDER, os.path.join(rec, "chat.md")))
			f.write("[commit]\n\tname = healhook\n\temail = healhook@localhost\n")
			f.write('[repo "acme/shop-api"]\n\thost = local:%s\n\treviewers = bob\n' % host)
			f.write("\thealth-url = %s\n\thealth-delay = 0\n\thealth-interval = 1\n"
				"\thealth-timeout = 60\n\thealth-failures = 1\n" % app.health_url)
		message = "name 'totl' is not defined"
		if scenario == "reverted":
			message += " [[fixer:break-health]]"
		log = os.path.join(tmp, "valgrind-%s.log" % scenario)
		argv = ["valgrind", "--leak-check=full", "--errors-for-leak-kinds=definite",
			"--error-exitcode=3", "--log-file=" + log, bin_path, "heal", "--config", cfg,
			"--repo", "acme/shop-api", "--file", TARGET, "--type", "NameError",
			"--message", message, "--json"]
		env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": d}
		p = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
				   timeout=900)
		with open(log) as f:
			vg = f.read()
		res = json.loads(p.stdout.decode() or "{}")
		summary = [l.split("== ", 1)[-1] for l in vg.splitlines()
			   if re.search(r"(definitely|indirectly|possibly) lost:|still reachable:|ERROR SUMMARY", l)]
		print("== %s: exit %d, state %s, reason %s" % (scenario, p.returncode, res.get("state"),
							     res.get("reason")))
		for l in summary:
			print("   " + l)
		return p.returncode, res, vg, p.stderr.decode(errors="replace")
	finally:
		app.stop()


def main():
	ap = argparse.ArgumentParser()
	ap.add_argument("--bin", default=os.path.join(ROOT, "build", "healhook"))
	ap.add_argument("--keep", action="store_true")
	ap.add_argument("scenarios", nargs="*", default=["healed", "reverted"])
	a = ap.parse_args()
	tmp = tempfile.mkdtemp(prefix="hh-valgrind-")
	os.chmod(tmp, 0o755)
	ok = True
	try:
		for sc in a.scenarios:
			rc, res, vg, err = run_one(os.path.abspath(a.bin), tmp, sc)
			if rc == 3 or "definitely lost: 0 bytes" not in vg and "definitely lost" in vg:
				ok = False
				print(vg[-6000:])
			if res.get("state") != sc:
				ok = False
				print("want state %s, got %s\n%s" % (sc, json.dumps(res), err[-3000:]))
	finally:
		if a.keep:
			print("kept %s" % tmp)
		else:
			shutil.rmtree(tmp, ignore_errors=True)
	print("valgrind heal: %s" % ("ok" if ok else "FAILED"))
	sys.exit(0 if ok else 1)


if __name__ == "__main__":
	main()
