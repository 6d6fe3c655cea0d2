#!/usr/bin/env python3
"""Load test of `healhook serve` (issue 6, item 5), Python standard library only, 127.0.0.1 only.

Starts serve (worker.parallel = 0: it only receives and stores) in a temporary directory, then
sends COUNT signed deliveries, every one unique (its own delivery id, body and finding), from
CONCURRENCY threads over keep-alive connections, as fast as serve answers. Afterwards it reads
the store and checks that every delivery answered 2xx is in it (deliveries.id =
X-Gitea-Delivery): none acknowledged and missing. Every 503 must carry Retry-After. The peak
RSS (VmHWM) of both serve processes (main and receiver) is read from /proc before stopping.

    python3 tests/load/load.py                        # 10 000 deliveries, max-queue 20000
    python3 tests/load/load.py --max-queue 500        # the queue fills: 503 + Retry-After
    python3 tests/load/load.py --count 1000 --json    # one JSON object with the figures

The count and the duration are bounded (--count <= 100000, --deadline seconds, default 600).
"""
import argparse
import http.client
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests"))
from lib import harness as H  # noqa: E402

REPO = "acme/shop-api"
FILES = ("services/order_service.py", "services/cart_service.py", "routes/api.py",
	 "database/models.py")


def deliveries(count, run_tag):
	"""COUNT (delivery id, headers, body) triples: PR comments by bob, one unique finding each."""
	mf = H.make_fixtures()
	base = mf.comment_payload("bob", "@@TEXT@@", 1, "2026-04-15T12:00:00Z")
	template = mf.marshal_compact(base)
	out = []
	for i in range(count):
		did = str(uuid.uuid4())
		text = "%s:3: [NameError] name 'v%d' is not defined (%s)" % (FILES[i % len(FILES)], i,
									      run_tag)
		body = template.replace(b'"@@TEXT@@"', json.dumps(text).encode())
		hdrs, body = mf.headers("issue_comment", "pull_request_comment", body, did,
					secret=H.FIXTURE_SECRET)
		out.append((did, [(k, v) for k, v in hdrs if k.lower() != "content-length"], body))
	return out


def vm_hwm_kb(pid):
	try:
		with open("/proc/%d/status" % pid) as f:
			for line in f:
				if line.startswith("VmHWM:"):
					return int(line.split()[1])
	except OSError:
		pass
	return None


def children(pid):
	try:
		with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
			return [int(x) for x in f.read().split()]
	except OSError:
		return []


class Sender(threading.Thread):
	def __init__(self, port, items, results, deadline):
		super().__init__(daemon=True)
		self.port, self.items, self.results, self.deadline = port, items, results, deadline

	def run(self):
		conn = None
		for did, hdrs, body in self.items:
			if time.time() > self.deadline:
				self.results.append((did, "deadline", None, b""))
				continue
			for attempt in range(3):
				try:
					if conn is None:
						conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
					conn.putrequest("POST", "/hooks/gitea", skip_accept_encoding=True)
					conn.putheader("Content-Length", str(len(body)))
					for k, v in hdrs:
						conn.putheader(k, v)
					conn.endheaders(body)
					r = conn.getresponse()
					data = r.read()
					self.results.append((did, r.status, r.getheader("Retry-After"), data))
					if r.getheader("Connection", "").lower() == "close":
						conn.close()
						conn = None
					break
				except (OSError, http.client.HTTPException) as e:
					if conn:
						conn.close()
					conn = None
					if attempt == 2:
						self.results.append((did, "error:%s" % e, None, b""))
		if conn:
			conn.close()


def write_config(tmp, max_queue):
	with open(os.path.join(tmp, "secret"), "w") as f:
		f.write(H.FIXTURE_SECRET + "\n")
	cfg = os.path.join(tmp, "healhook.conf")
	with open(cfg, "w") as f:
		f.write("[server]\n\tsecret-file = %s\n\tmax-queue = %d\n\tmax-connections = 64\n"
			% (os.path.join(tmp, "secret"), max_queue))
		f.write("[state]\n\tdir = %s\n" % os.path.join(tmp, "state"))
		f.write("[worker]\n\tparallel = 0\n")
		f.write("[log]\n\tlevel = warn\n")
		f.write("[gitea]\n\tuser = healhook-bot\n")
		f.write('[repo "%s"]\n\thost = %s\n\treviewers = bob\n\ttarget = default-branch\n'
			"\tmax-fixes-per-hour = 100000\n" % (REPO, os.path.join(tmp, "host")))
	return cfg


def run(count=10000, concurrency=16, max_queue=20000, deadline=600.0, binary=None, keep=False):
	"""Runs one load test; returns the figures (a dict)."""
	count = max(1, min(int(count), 100000))
	tmp = tempfile.mkdtemp(prefix="hh-load-")
	proc = None
	try:
		cfg = write_config(tmp, max_queue)
		port = H.free_port()
		url = "http://127.0.0.1:%d" % port
		proc = H.start_process([binary or H.BIN, "serve", "--config", cfg, "--listen",
					"127.0.0.1:%d" % port], env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
				       log_path=os.path.join(tmp, "serve.log"))
		H.wait_http(url + "/healthz", timeout=15)
		receivers = children(proc.pid)
		items = deliveries(count, uuid.uuid4().hex[:8])
		results = []
		threads = []
		t_end = time.time() + deadline
		for k in range(concurrency):
			t = Sender(port, items[k::concurrency], results, t_end)
			threads.append(t)
		t0 = time.time()
		for t in threads:
			t.start()
		for t in threads:
			t.join(deadline + 60)
		duration = time.time() - t0
		rss = {"main_kb": vm_hwm_kb(proc.pid),
		       "receiver_kb": max([vm_hwm_kb(p) or 0 for p in receivers] or [0]) or None}
		st, _, _ = H.get(url + "/healthz", timeout=10)
		alive = proc.alive() and st == 200
		proc.stop()
		proc = None

		acked = [r[0] for r in results if isinstance(r[1], int) and 200 <= r[1] < 300]
		unavailable = [r for r in results if r[1] == 503]
		other = [r for r in results if not (isinstance(r[1], int) and (200 <= r[1] < 300
									      or r[1] == 503))]
		con = sqlite3.connect(os.path.join(tmp, "state", "healhook.db"))
		try:
			stored = {row[0] for row in con.execute("SELECT id FROM deliveries")}
			jobs = con.execute("SELECT count(*) FROM jobs").fetchone()[0]
			integrity = con.execute("PRAGMA integrity_check").fetchone()[0]
		finally:
			con.close()
		missing = [d for d in acked if d not in stored]
		figures = {
			"sent": count, "answered": len(results), "acknowledged": len(acked),
			"stored": len(stored), "acknowledged_missing": len(missing),
			"status_503": len(unavailable),
			"status_503_without_retry_after": sum(1 for r in unavailable if not r[2]),
			"other": len(other), "other_examples": [str(r[1]) for r in other[:5]],
			"jobs": jobs, "duration_s": round(duration, 2),
			"per_second": round(len(results) / duration, 1) if duration else None,
			"peak_rss_main_kb": rss["main_kb"], "peak_rss_receiver_kb": rss["receiver_kb"],
			"max_queue": max_queue, "concurrency": concurrency, "serve_alive": alive,
			"integrity": integrity,
		}
		return figures
	finally:
		if proc:
			proc.stop()
		if keep:
			print("kept %s" % tmp, file=sys.stderr)
		else:
			shutil.rmtree(tmp, ignore_errors=True)


def main():
	ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
	ap.add_argument("--count", type=int, default=10000)
	ap.add_argument("--concurrency", type=int, default=16)
	ap.add_argument("--max-queue", type=int, default=20000)
	ap.add_argument("--deadline", type=float, default=600.0)
	ap.add_argument("--bin", default=None, help="healhook binary (default build/healhook)")
	ap.add_argument("--keep", action="store_true")
	ap.add_argument("--json", action="store_true")
	a = ap.parse_args()
	f = run(a.count, a.concurrency, a.max_queue, a.deadline, a.bin, a.keep)
	if a.json:
		print(json.dumps(f))
	else:
		for k, v in f.items():
			print("%-32s %s" % (k, v))
	ok = f["acknowledged_missing"] == 0 and f["status_503_without_retry_after"] == 0 and \
		f["other"] == 0 and f["serve_alive"] and f["integrity"] == "ok"
	return 0 if ok else 1


if __name__ == "__main__":
	sys.exit(main())
