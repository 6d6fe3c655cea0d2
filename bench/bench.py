#!/usr/bin/env python3
"""`make bench`: runs every benchmark and regenerates docs/performance.md and its chart.

    python3 bench/bench.py [--only intake,heal,store1m,limits,diff,verdict,profile] [--quick]

HEALHOOK_BENCH_BEFORE=PATH names an earlier build's binary (e.g. main's) measured beside this
one, interleaved, for the before/after figures of intake, heal and the profile;
HEALHOOK_BENCH_BEFORE_NAME labels it in the tables (e.g. "main ad793a8").

Results go to build/bench/results.json (merged with earlier results when --only is given),
then bench/report.py writes docs/performance.md and docs/performance.png. Everything runs on
127.0.0.1 with bounded request counts and durations (about 3 minutes on 2 cores).
"""
import argparse
import json
import os
import sys
import time
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
from common import OUT, log  # noqa: E402


def main():
	ap = argparse.ArgumentParser()
	ap.add_argument("--only", default="intake,heal,store1m,limits,diff,verdict,profile,pg")
	ap.add_argument("--quick", action="store_true", help="fewer runs (for trying it out)")
	ap.add_argument("--baseline", metavar="COMMIT",
			help="measure the binary of HEALHOOK_BENCH_BIN (built from COMMIT) for the "
			     "before/after table: writes bench/baseline.json")
	a = ap.parse_args()
	if a.baseline:
		return baseline(a.baseline)
	only = a.only.split(",")
	runs = 1 if a.quick else 3
	os.makedirs(OUT, exist_ok=True)
	path = os.path.join(OUT, "results.json")
	res = {}
	if os.path.exists(path) and a.only != ap.get_default("only"):
		with open(path) as f:
			res = json.load(f)
	res["machine"] = common.machine()
	res["versions"] = {
		"wrk": common.version(["wrk", "-v"]),
		"webhook": common.version(["webhook", "-version"]),
		"hyperfine": common.version(["hyperfine", "--version"]),
		"git": common.version(["git", "--version"]),
		"healhook": common.version([common.BIN, "version"]),
	}
	t0 = time.time()
	before = os.environ.get("HEALHOOK_BENCH_BEFORE") or None
	res["before_bin"] = before and (os.environ.get("HEALHOOK_BENCH_BEFORE_NAME") or "before")
	if "limits" in only:
		import limits
		res["limits"] = limits.bench(types.SimpleNamespace(runs=runs))
	if "intake" in only:
		import intake
		res["intake_matrix"] = intake.matrix(types.SimpleNamespace(
			bodies=120000, threads=2, conns=[8, 16, 64], seconds=5, runs=runs, before=before))
	if "heal" in only:
		import heal
		res["heal"] = heal.bench(types.SimpleNamespace(runs=5 if not a.quick else 2,
							       before=before))
	if "store1m" in only:
		import store1m
		res["store1m"] = store1m.bench(types.SimpleNamespace(
			rows=100000 if a.quick else 1000000, runs=runs))
	if "diff" in only:
		import diffcount
		res["diff"] = diffcount.bench(types.SimpleNamespace(
			runs=runs, sizes=[1000, 10000, 50000]))
	if "verdict" in only:
		import verdict
		res["verdict"] = verdict.bench(types.SimpleNamespace(
			runs=5, predecessor=not a.quick))
	if "profile" in only:
		import profile as prof
		res["profile"] = prof.bench(types.SimpleNamespace(warm=50, requests=400, top=25))
		if before:
			res["profile_before"] = prof.bench(types.SimpleNamespace(
				warm=50, requests=400, top=25, bin=before))
	if "pg" in only:
		import intake_pg
		res["intake_pg"] = intake_pg.bench(types.SimpleNamespace(
			seconds=8, threads=2, conns=8, runs=1 if a.quick else 2, bodies=200000))
	if a.only == ap.get_default("only"):  # a part keeps the whole run's duration
		res["elapsed_s"] = time.time() - t0
	with open(path, "w") as f:
		json.dump(res, f, indent=1)
	log("results in %s (%.0f s)" % (path, res["elapsed_s"]))
	import report
	report.write(res)


def baseline(commit):
	"""Intake (durable, 3 runs) and profile of an earlier build, kept in bench/baseline.json."""
	import intake
	import profile as prof
	d = os.path.join(common.OUT, "baseline-bodies")
	os.makedirs(d, exist_ok=True)
	intake.make_bodies(d, 120000)
	ia = types.SimpleNamespace(threads=2, conns=8, seconds=5)
	runs = [intake.one("healhook", d, ia) for _ in range(3)]
	out = {"commit": commit, "intake": {
		"rps": common.median([r["rps"] for r in runs]),
		"p50_ms": common.median([r["p50_us"] for r in runs]) / 1e3,
		"p99_ms": common.median([r["p99_us"] for r in runs]) / 1e3,
		"rss_mb": max(r["rss_max_kb"] for r in runs) / 1024.0},
		"profile": prof.bench(types.SimpleNamespace(warm=50, requests=400, top=25))}
	with open(os.path.join(common.BENCH, "baseline.json"), "w") as f:
		json.dump(out, f, indent=1)
	log("baseline: %s" % json.dumps(out["intake"]))


if __name__ == "__main__":
	main()
