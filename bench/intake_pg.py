"""Benchmark: intake on PostgreSQL (one and two `healhook serve` instances on one database) beside
SQLite, with wrk and the signed deliveries of bench/intake.py (every request unique: verified,
parsed, judged and stored; 202 only after the commit).

PostgreSQL 15 runs from tests/lib/postgres.py with fsync on (a 2xx is on disk, as with SQLite's
synchronous=FULL), on the same machine. Two instances: two wrk processes at once, one per
instance, each with half the connections and its own nonces (intake.lua's OFFSET); req/s is
their sum, p50/p99 the worse of the two.

    python3 bench/intake_pg.py [--seconds 8] [--conns 8] [--runs 2]
Writes build/bench/intake_pg.json and prints a Markdown table for docs/performance.md.
"""
import argparse
import json
import os
import shutil
import subprocess
import tempfile
import threading
import types

import intake
from common import BIN, H, OUT, SECRET, log, median, stop

from lib import postgres  # noqa: E402 (tests/ is on sys.path through common)


def serve_pg(tmp, port, pg, db, name):
	state = os.path.join(tmp, "state-" + name)
	cfg = os.path.join(tmp, name + ".conf")
	with open(os.path.join(tmp, "secret"), "w") as f:
		f.write(SECRET + "\n")
	with open(cfg, "w") as f:
		f.write("[server]\n\tlisten = 127.0.0.1:%d\n\tsecret-file = %s\n"
			% (port, os.path.join(tmp, "secret")))
		f.write(H.state_config(state, database="postgresql", db_name=db, pg=pg))
		f.write("[worker]\n\tparallel = 0\n[log]\n\tlevel = error\n")
		f.write('[repo "acme/shop-api"]\n\thost = %s\n\treviewers = bob\n'
			% os.path.join(tmp, "host"))
	log_f = open(os.path.join(tmp, name + ".log"), "w")
	p = subprocess.Popen([BIN, "serve", "--config", cfg],
			     env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": tmp},
			     stdin=subprocess.DEVNULL, stdout=log_f, stderr=subprocess.STDOUT)
	H.wait_http("http://127.0.0.1:%d/healthz" % port, timeout=60)
	return p, log_f


def wrk_offset(url, d, threads, conns, seconds, stride, offset):
	argv = ["wrk", "-t%d" % threads, "-c%d" % conns, "-d%ds" % seconds, "--timeout", "5s",
		"-s", intake.LUA, url, "--", d, str(stride), "202", str(offset)]
	p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
			   timeout=seconds + 30)
	line = [l for l in p.stdout.splitlines() if l.startswith("BENCH ")]
	if not line:
		raise RuntimeError("wrk failed: %s %s" % (p.stdout, p.stderr))
	return json.loads(line[0][6:])


def pg_run(d, args, pg, instances):
	tmp = tempfile.mkdtemp(prefix="hh-bench-pg-")
	db = "bench_%d_%s" % (instances, os.path.basename(tmp).replace("-", "_"))
	procs, results = [], [None] * instances
	try:
		urls = []
		for i in range(instances):
			port = H.free_port()
			procs.append(serve_pg(tmp, port, pg, db, "ab"[i]))
			urls.append("http://127.0.0.1:%d/hooks/gitea" % port)
		threads = max(1, args.threads // instances)
		conns = max(threads, args.conns // instances)

		def go(i):
			results[i] = wrk_offset(urls[i], d, threads, conns, args.seconds,
						threads * instances, i)

		ts = [threading.Thread(target=go, args=(i,)) for i in range(instances)]
		for t in ts:
			t.start()
		for t in ts:
			t.join()
	finally:
		for p, lf in procs:
			stop(p)
			lf.close()
		shutil.rmtree(tmp, ignore_errors=True)
	stored = pg.query(db, "SELECT COUNT(*), COUNT(DISTINCT id) FROM deliveries")[0]
	return {"rps": sum(r["rps"] for r in results), "p50_us": max(r["p50_us"] for r in results),
		"p99_us": max(r["p99_us"] for r in results),
		"requests": sum(r["requests"] for r in results),
		"unexpected": sum(r["unexpected"] + r["wrapped"] for r in results),
		"stored": stored[0], "distinct": stored[1]}


def bench(a):
	"""a: seconds, threads, conns, runs, bodies. Returns {"args", "runs", "summary"}."""
	d = tempfile.mkdtemp(prefix="hh-bench-bodies-")
	pg = postgres.Postgres(fsync=True).start()
	runs = {"sqlite, 1 instance": [], "postgresql, 1 instance": [], "postgresql, 2 instances": []}
	try:
		intake.make_bodies(d, a.bodies)
		ia = types.SimpleNamespace(threads=a.threads, conns=a.conns, seconds=a.seconds)
		for i in range(a.runs):  # interleaved, so drift of the machine's load hits all alike
			for kind in runs:
				if kind.startswith("sqlite"):
					r = intake.one("healhook", d, ia)
					r["distinct"] = r["stored"]
				else:
					r = pg_run(d, a, pg, 2 if "2" in kind else 1)
				log("intake %s run %d: %.0f req/s p50 %.2f ms p99 %.2f ms stored %d" % (
					kind, i + 1, r["rps"], r["p50_us"] / 1e3, r["p99_us"] / 1e3, r["stored"]))
				runs[kind].append(r)
	finally:
		pg.stop()
		shutil.rmtree(d, ignore_errors=True)
	summary = {k: {"rps": median([r["rps"] for r in rs]),
		       "p50_ms": median([r["p50_us"] for r in rs]) / 1e3,
		       "p99_ms": median([r["p99_us"] for r in rs]) / 1e3,
		       "unexpected": sum(r["unexpected"] for r in rs),
		       "lost": sum(r["requests"] - r["unexpected"] - r["distinct"] for r in rs)}
		   for k, rs in runs.items()}
	return {"args": vars(a), "runs": runs, "summary": summary}


def table(res):
	"""The Markdown table of a bench() result (also used by bench/report.py)."""
	out = ["| store | req/s | p50 | p99 | non-202 |", "|---|---|---|---|---|"]
	for k, s in res["summary"].items():
		out.append("| %s | %.0f | %.1f ms | %.1f ms | %d |" % (k, s["rps"], s["p50_ms"],
								     s["p99_ms"], s["unexpected"]))
	return out


def main():
	ap = argparse.ArgumentParser()
	ap.add_argument("--seconds", type=int, default=8)
	ap.add_argument("--threads", type=int, default=2)
	ap.add_argument("--conns", type=int, default=8)
	ap.add_argument("--runs", type=int, default=2)
	ap.add_argument("--bodies", type=int, default=200000)
	res = bench(ap.parse_args())
	os.makedirs(OUT, exist_ok=True)
	with open(os.path.join(OUT, "intake_pg.json"), "w") as f:
		json.dump(res, f, indent=1)
	print("\n".join(table(res)))


if __name__ == "__main__":
	main()
