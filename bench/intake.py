"""Benchmark 1, intake: wrk against `healhook serve` (receive-only) and adnanh's `webhook`.

Both receive the same ~15 KB Gitea review delivery (fixtures/gitea/review_rejected_body.json)
with a unique commit_id and delivery id per request, signed with HMAC-SHA256 (bench/intake.lua
cycles through signatures precomputed here), so healhook's deduplication never answers a
request early: every request is verified, parsed, judged and stored.

healhook runs three ways: durable (synchronous=FULL: the delivery is on disk before the 202,
as in production), without the fsync (HEALHOOK_BENCH_NO_FSYNC=1, benchmark-only: shows what
the durable write costs), and webhook as its documentation configures it for Gitea (a
payload-hmac-sha256 rule on X-Gitea-Signature running /bin/true).
"""
import hashlib
import hmac
import json
import os
import re
import resource
import shutil
import subprocess
import tempfile
import time

from common import BENCH, BIN, H, OUT, SECRET, children, cpu_s, log, median, stop, vm_hwm_kb

FIXTURE = os.path.join(H.FIXTURES, "review_rejected_body.json")
LUA = os.path.join(BENCH, "intake.lua")


def small_body():
	"""A 2 KB delivery: the review of FIXTURE with only the fields Gitea's smallest objects
	carry that healhook reads (the same review, repository, branches and sender)."""
	with open(FIXTURE) as f:
		d = json.load(f)
	pr, repo = d["pull_request"], d["repository"]
	keep = lambda o, ks: {k: o[k] for k in ks if k in o}
	side = lambda b: dict(keep(b, ("label", "ref", "sha", "repo_id")),
			      repo=keep(b["repo"], ("id", "name", "full_name", "default_branch")))
	small = {
		"action": d["action"], "number": d["number"],
		"pull_request": dict(keep(pr, ("id", "url", "number", "title", "state", "html_url",
					       "merged", "created_at", "updated_at")),
				     user=keep(pr["user"], ("id", "login")),
				     base=side(pr["base"]), head=side(pr["head"])),
		"repository": dict(keep(repo, ("id", "name", "full_name", "html_url", "clone_url",
						"ssh_url", "default_branch", "private")),
				   owner=keep(repo["owner"], ("id", "login"))),
		"sender": keep(d["sender"], ("id", "login", "full_name", "email")),
		"commit_id": "",
		"review": d["review"],
	}
	return json.dumps(small, indent=2).encode()


def make_bodies(d, n, small=False):
	"""prefix, suffix and n signatures in d (see intake.lua)."""
	if small:
		body = small_body()
	else:
		with open(FIXTURE, "rb") as f:
			body = f.read()
	marker = b'"commit_id": ""'
	at = body.index(marker) + len(marker) - 1
	prefix, suffix = body[:at], body[at:]
	with open(os.path.join(d, "prefix"), "wb") as f:
		f.write(prefix)
	with open(os.path.join(d, "suffix"), "wb") as f:
		f.write(suffix)
	key = SECRET.encode()
	inner = hmac.new(key, prefix, hashlib.sha256)
	with open(os.path.join(d, "sigs"), "w") as f:
		for i in range(n):
			h = inner.copy()
			h.update(b"%040d" % i)
			h.update(suffix)
			f.write(h.hexdigest() + "\n")
	return len(prefix) + 40 + len(suffix)


def proc_stat():
	"""The machine's CPU time so far (/proc/stat's first line, in clock ticks): total, idle
	(idle + iowait) and softirq."""
	with open("/proc/stat") as f:
		v = [int(x) for x in f.readline().split()[1:]]
	return sum(v), v[3] + v[4], v[6]


def wrk(url, d, threads, conns, seconds, expected):
	"""One wrk run; besides wrk's own figures, wrk's CPU time per request (it is this
	process's child) and the split of the whole machine's CPU time over the run."""
	argv = ["wrk", "-t%d" % threads, "-c%d" % conns, "-d%ds" % seconds, "--timeout", "5s",
		"-s", LUA, url, "--", d, str(threads), str(expected)]
	ru0, st0 = resource.getrusage(resource.RUSAGE_CHILDREN), proc_stat()
	p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
			   timeout=seconds + 30)
	ru1, st1 = resource.getrusage(resource.RUSAGE_CHILDREN), proc_stat()
	m = re.search(r"^BENCH (\{.*\})$", p.stdout, re.M)
	if not m:
		raise RuntimeError("wrk failed: %s %s" % (p.stdout, p.stderr))
	r = json.loads(m.group(1))
	r["stderr"] = p.stderr.strip()[:300]
	n = max(r.get("requests") or 1, 1)
	r["wrk_cpu_us"] = ((ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)) * 1e6 / n
	tot = max(st1[0] - st0[0], 1)
	r["machine"] = {"idle": (st1[1] - st0[1]) / tot, "softirq": (st1[2] - st0[2]) / tot,
			"ticks": tot}
	return r


def healhook_serve(tmp, port, no_fsync, receiver_only=False, wrap=(), bin=None):
	"""Starts `healhook serve` (or, receiver_only, the receiver process alone, under wrap)."""
	state = os.path.join(tmp, "state")
	cfg = os.path.join(tmp, "healhook.conf")
	with open(os.path.join(tmp, "secret"), "w") as f:
		f.write(SECRET + "\n")
	with open(cfg, "w") as f:
		# wrk is one address opening up to 64 connections at once: the per-address limit
		# (a quarter of max-connections by default) would refuse most of them with 503.
		f.write("[server]\n\tlisten = 127.0.0.1:%d\n\tsecret-file = %s\n"
			"\tmax-connections = 256\n\tmax-connections-per-ip = 256\n"
			% (port, os.path.join(tmp, "secret")))
		f.write("[state]\n\tdir = %s\n[worker]\n\tparallel = 0\n[log]\n\tlevel = error\n"
			% state)
		f.write('[repo "acme/shop-api"]\n\thost = %s\n\treviewers = bob\n'
			% os.path.join(tmp, "host"))
	env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": tmp}
	if no_fsync:
		env["HEALHOOK_BENCH_NO_FSYNC"] = "1"
	log_f = open(os.path.join(tmp, "serve.log"), "w")
	argv = list(wrap) + [bin or BIN, "serve", "--config", cfg]
	if receiver_only:
		argv.append("--role=receiver")
	p = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL,
			     stdout=log_f, stderr=subprocess.STDOUT)
	H.wait_http("http://127.0.0.1:%d/healthz" % port, timeout=60)
	return p, log_f


def webhook_serve(tmp, port):
	hooks = os.path.join(tmp, "hooks.json")
	with open(hooks, "w") as f:
		json.dump([{
			"id": "gitea",
			"execute-command": "/bin/true",
			"command-working-directory": tmp,
			"trigger-rule": {"match": {
				"type": "payload-hmac-sha256", "secret": SECRET,
				"parameter": {"source": "header", "name": "X-Gitea-Signature"}}},
		}], f, indent=2)
	log_f = open(os.path.join(tmp, "webhook.log"), "w")
	p = subprocess.Popen(["webhook", "-hooks", hooks, "-ip", "127.0.0.1", "-port", str(port)],
			     stdin=subprocess.DEVNULL, stdout=log_f, stderr=subprocess.STDOUT)
	H.wait_http("http://127.0.0.1:%d/" % port, timeout=15)
	return p, log_f


def rollup(pid):
	"""The receiver's memory at the end of a run: Rss (as VmHWM counts it: the shared library
	pages it touched included), Pss (those shared pages divided among their users) and
	Anonymous (its own heap, stacks, caches)."""
	out = {}
	try:
		with open("/proc/%d/smaps_rollup" % pid) as f:
			for line in f:
				k = line.split(":")[0]
				if k in ("Rss", "Pss", "Anonymous"):
					out[k.lower()] = int(line.split()[1])
	except OSError:
		pass
	return out


def one(kind, d, args, state_tmp=None, bin=None):
	"""One wrk run against a fresh server (kind healhook, healhook-nofsync or webhook); bin
	replaces healhook's binary, state_tmp is a directory to reuse (kept) with its store."""
	tmp = state_tmp or tempfile.mkdtemp(prefix="hh-bench-intake-")
	port = H.free_port()
	try:
		if kind == "webhook":
			p, lf = webhook_serve(tmp, port)
			url, expected = "http://127.0.0.1:%d/hooks/gitea" % port, 200
		else:
			p, lf = healhook_serve(tmp, port, kind == "healhook-nofsync", bin=bin)
			url, expected = "http://127.0.0.1:%d/hooks/gitea" % port, 202
		try:
			# the process answering: webhook itself, healhook's receiver
			ans = p.pid if kind == "webhook" else (children(p.pid) or [p.pid])[0]
			c0 = cpu_s(ans)
			r = wrk(url, d, args.threads, args.conns, args.seconds, expected)
			c1 = cpu_s(ans)
			n = max(r.get("requests") or 1, 1)
			r["cpu_us"] = [(c1[0] - c0[0]) * 1e6 / n, (c1[1] - c0[1]) * 1e6 / n]
			# the answering process's share of the machine's CPU time over the run
			hz = os.sysconf("SC_CLK_TCK")
			r["machine"]["server"] = (c1[0] - c0[0] + c1[1] - c0[1]) * hz / r["machine"]["ticks"]
			pids = [p.pid] + children(p.pid)
			r["rss_kb"] = {str(pid): vm_hwm_kb(pid) for pid in pids}
			r["rss_max_kb"] = max(v for v in r["rss_kb"].values() if v)
			r["rss_roles"] = {"main": vm_hwm_kb(p.pid)}
			if kind != "webhook":
				rc = [c for c in children(p.pid)]
				r["rss_roles"]["receiver"] = max((vm_hwm_kb(c) or 0) for c in rc) if rc else None
				r["receiver_mem_kb"] = rollup(rc[0]) if rc else None
		finally:
			stop(p)
			lf.close()
		if kind != "webhook" and not state_tmp:  # a kept store: no scan of its history
			db = os.path.join(tmp, "state", "healhook.db")
			q = subprocess.run(["sqlite3", db, "select count(*) from deliveries"],
					   stdout=subprocess.PIPE, text=True)
			r["stored"] = int(q.stdout.strip() or 0)
		return r
	finally:
		if not state_tmp:
			shutil.rmtree(tmp, ignore_errors=True)


def summarize(rs):
	return {
		"rps": median([r["rps"] for r in rs]),
		"rps_min": min(r["rps"] for r in rs),
		"rps_all": [r["rps"] for r in rs],
		"p50_ms": median([r["p50_us"] for r in rs]) / 1e3,
		"p99_ms": median([r["p99_us"] for r in rs]) / 1e3,
		"rss_mb": max(r["rss_max_kb"] for r in rs) / 1024.0,
		"rss_roles_mb": {k: max((r["rss_roles"].get(k) or 0) for r in rs) / 1024.0
				 for k in rs[0]["rss_roles"]},
		"unexpected": sum(r["unexpected"] + r["wrapped"] for r in rs),
		"cpu_us": [median([r["cpu_us"][0] for r in rs]), median([r["cpu_us"][1] for r in rs])]
		if all("cpu_us" in r for r in rs) else None,
		"wrk_cpu_us": median([r["wrk_cpu_us"] for r in rs]),
		"machine": {k: median([r["machine"][k] for r in rs])
			    for k in ("idle", "softirq", "server")},
		"errors": sum(r["errors_connect"] + r["errors_read"] + r["errors_write"] +
			      r["errors_timeout"] for r in rs),
		"requests": sum(r["requests"] for r in rs),
		"receiver_mem_kb": max((r.get("receiver_mem_kb") or {} for r in rs),
				       key=lambda m: m.get("rss", 0)),
	}


def matrix(args):
	"""Issue 12's intake figures: the 15 KB review at each of args.conns connections and the
	2 KB delivery at 8, healhook (durable) against webhook and, when args.before names an
	earlier build, that build, every run interleaved (same minute, same machine load)."""
	kinds = [("healhook", "healhook", None), ("webhook", "webhook", None)]
	if args.before:
		kinds.insert(1, ("before", "healhook", args.before))
	out = {"threads": args.threads, "seconds": args.seconds, "runs": args.runs, "sets": []}
	for small, conns_list in ((False, args.conns), (True, [8])):
		d = tempfile.mkdtemp(prefix="hh-bench-bodies-")
		try:
			size = make_bodies(d, args.bodies, small=small)
			for conns in conns_list:
				a = type("A", (), {"threads": args.threads, "conns": conns,
						   "seconds": args.seconds})()
				runs = {name: [] for name, _, _ in kinds}
				for i in range(args.runs):
					for name, kind, b in kinds:
						r = one(kind, d, a, bin=b)
						runs[name].append(r)
						log("intake %dB c=%d %s run %d: %.0f req/s p99 %.1f ms rss %d KiB"
						    % (size, conns, name, i + 1, r["rps"], r["p99_us"] / 1e3,
						       r["rss_max_kb"]))
				out["sets"].append({"body_bytes": size, "conns": conns,
						    "summary": {k: summarize(v) for k, v in runs.items()}})
		finally:
			shutil.rmtree(d, ignore_errors=True)
	return out


def bench(args):
	d = tempfile.mkdtemp(prefix="hh-bench-bodies-")
	try:
		size = make_bodies(d, args.bodies)
		log("intake: %d signed bodies of %d bytes" % (args.bodies, size))
		runs = {"healhook": [], "healhook-nofsync": [], "webhook": []}
		for i in range(args.runs):
			for kind in runs:  # interleaved, so drift hits all three alike
				r = one(kind, d, args)
				log("intake %s run %d: %.0f req/s p50 %.2f ms p99 %.2f ms rss %d KiB%s" % (
					kind, i + 1, r["rps"], r["p50_us"] / 1e3, r["p99_us"] / 1e3,
					r["rss_max_kb"], " stored %d" % r["stored"] if "stored" in r else ""))
				runs[kind].append(r)
		summary = {}
		for kind, rs in runs.items():
			summary[kind] = {
				"rps": median([r["rps"] for r in rs]),
				"p50_ms": median([r["p50_us"] for r in rs]) / 1e3,
				"p99_ms": median([r["p99_us"] for r in rs]) / 1e3,
				"rss_mb": max(r["rss_max_kb"] for r in rs) / 1024.0,
				"rss_roles_mb": {k: max((r["rss_roles"].get(k) or 0) for r in rs) / 1024.0
						 for k in rs[0]["rss_roles"]},
				"unexpected": sum(r["unexpected"] + r["wrapped"] for r in rs),
				"errors": sum(r["errors_connect"] + r["errors_read"] + r["errors_write"] +
					      r["errors_timeout"] for r in rs),
				"requests": sum(r["requests"] for r in rs),
			}
		return {"body_bytes": size, "bodies": args.bodies, "threads": args.threads,
			"conns": args.conns, "seconds": args.seconds, "runs": runs, "summary": summary}
	finally:
		shutil.rmtree(d, ignore_errors=True)
