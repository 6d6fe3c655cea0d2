"""Benchmark 4, verdict latency: from the moment the new version turns healthy to healhook's
`healed` verdict (the end of `healhook heal`), with health-version-field = version.

A heal lands a fix through the local transport (no ssh: only the watch is measured); a
thread sees the origin's branch move, waits a deploy delay (different per run, so the switch
falls at different points of the poll cycle), then switches tests/lib/health_server.py's
version to the pushed SHA. The predecessor slept 10 s after the push, then polled every 10 s:
its verdict comes at the first poll after the switch (10 s - delay for a delay under 10 s),
and without a version field it may even judge the old deployment; the same figure is also
measured by running healhook with that schedule (health-delay = health-interval = 10s, no
version field) once.
"""
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time

from common import BENCH, BIN, H, log, median
from lib.health_server import HealthServer

TARGET = "services/order_service.py"
FILES = {TARGET: "def order_total(items):\n    s = 0\n    for i in items:\n        s += i\n"
		 "    return totl  # BUG: return s\n", "README.md": "# shop-api\n"}


def tip(origin):
	return subprocess.run(["git", "-C", origin, "rev-parse", "main"], stdout=subprocess.PIPE,
			      text=True).stdout.strip()


def one(tmp, delay, version_field, health_delay, interval):
	d = tempfile.mkdtemp(dir=tmp)
	os.chmod(d, 0o755)
	origin, host, base = H.make_origin_and_worktree(d, FILES)
	h = HealthServer(status="ok", version=base).start()
	cfg = os.path.join(d, "healhook.conf")
	with open(cfg, "w") as f:
		f.write("[state]\n\tdir = %s\n" % os.path.join(d, "state"))
		f.write("[fixer]\n\tcommand = %s --model {model} --message-file {prompt} {file}\n"
			% os.path.join(BENCH, "instant-fixer"))
		f.write('[repo "acme/shop-api"]\n\thost = %s\n\treviewers = bob\n' % host)
		f.write("\thealth-url = %s\n\thealth-delay = %s\n\thealth-interval = %s\n"
			"\thealth-timeout = 60s\n" % (h.health_url, health_delay, interval))
		if version_field:
			f.write("\thealth-version-field = version\n")
	switched = {}

	def deploy():
		while True:
			t = tip(origin)
			if t != base:
				break
			time.sleep(0.005)
		time.sleep(delay)
		h.set(status="ok", version=t)
		switched["t"] = time.monotonic()

	th = threading.Thread(target=deploy, daemon=True)
	th.start()
	p = subprocess.run([BIN, "heal", "--config", cfg, "--repo", "acme/shop-api", "--file",
			    TARGET, "--type", "NameError", "--message", "name 'totl' is not defined",
			    "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
			   env=dict(os.environ, HOME=d), timeout=120)
	end = time.monotonic()
	th.join(5)
	h.stop()
	res = json.loads(p.stdout)
	if res.get("state") != "healed":
		raise RuntimeError("verdict: not healed: %s %s" % (p.stdout, p.stderr[-500:]))
	return end - switched["t"], h.hits


def bench(args):
	tmp = tempfile.mkdtemp(prefix="hh-bench-verdict-")
	try:
		lat = []
		for i in range(args.runs):
			delay = 0.2 + i * 0.25
			l, hits = one(tmp, delay, True, "0s", "10s")
			log("verdict: deploy %.2f s after the push, healed %.3f s after the switch "
			    "(%d polls)" % (delay, l, hits))
			lat.append(l)
		pred_delay = 0.7
		pred = None
		if args.predecessor:
			pred, _ = one(tmp, pred_delay, False, "10s", "10s")
			log("verdict: predecessor's schedule: %.3f s after the switch" % pred)
		return {"runs": args.runs, "latencies_s": lat, "median_s": median(lat),
			"max_s": max(lat), "predecessor_delay_s": pred_delay,
			"predecessor_measured_s": pred, "predecessor_model_s": 10 - pred_delay}
	finally:
		shutil.rmtree(tmp, ignore_errors=True)
