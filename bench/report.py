"""Writes docs/performance.md and docs/performance.png from build/bench/results.json (and
bench/baseline.json, the figures of the build before the fixes, when present)."""
import json
import os
import subprocess
import tempfile

from common import BENCH, ROOT, log

DOC = os.path.join(ROOT, "docs", "performance.md")
PNG = os.path.join(ROOT, "docs", "performance.png")


def f1(x, nd=1):
	return "–" if x is None else ("%%.%df" % nd) % x


def ok(cond):
	return "met" if cond else "**not met**"


def chart(res, base):
	im, h, d = res.get("intake_matrix"), res.get("heal"), res.get("diff")
	if not (im and h and d):
		return False
	tmp = tempfile.mkdtemp(prefix="hh-bench-plot-")
	s = im["sets"][0]["summary"]
	with open(os.path.join(tmp, "intake.dat"), "w") as f:
		rows = [("healhook", s["healhook"]), ("webhook", s["webhook"])]
		if "before" in s:
			rows.insert(0, ("healhook\\nbefore", s["before"]))
		for n, (name, r) in enumerate(rows):
			f.write('%d "%s" %.1f %.3f\n' % (n, name, r["rps"], r["p99_ms"]))
	with open(os.path.join(tmp, "heal.dat"), "w") as f:
		f.write('0 "healhook heal" %.3f\n1 "predecessor.sh" %.3f\n'
			% (h["healhook"]["wall_s"], h["predecessor"]["wall_s"]))
	with open(os.path.join(tmp, "diff.dat"), "w") as f:
		for r in d["sizes"]:
			f.write("%d %.4f %.3f\n" % (r["files"], r["healhook_cold_ms"], r["git_ms"]))
	gp = """
set terminal pngcairo size 1200,800 font ",10"
set output '%(png)s'
set multiplot layout 2,2 title "healhook performance (%(nproc)d cores, 127.0.0.1)"
set style fill solid 0.8 border -1
set boxwidth 0.6
set grid ytics
set title "Intake: requests/s (wrk, 8 connections, 15 KB signed review, durable)"
set yrange [0:*]
plot '%(d)s/intake.dat' using 1:3:xtic(2) with boxes lc rgb "#3b7dd8" notitle, \\
     '' using 1:3:(sprintf("%%.0f",$3)) with labels offset 0,0.8 notitle
set title "Intake: p99 latency, ms (log scale)"
set logscale y
set yrange [*:*]
plot '%(d)s/intake.dat' using 1:4:xtic(2) with boxes lc rgb "#d8783b" notitle, \\
     '' using 1:4:(sprintf("%%.1f",$4)) with labels offset 0,0.8 notitle
unset logscale y
set title "Heal overhead: job start to push, s (instant fixer, loopback sshd)"
set yrange [0:*]
plot '%(d)s/heal.dat' using 1:3:xtic(2) with boxes lc rgb "#4caf50" notitle, \\
     '' using 1:3:(sprintf("%%.2f",$3)) with labels offset 0,0.8 notitle
set title "Diff count of one changed file, ms (log-log)"
set logscale xy
set xlabel "files in the repository"
set key top left
set yrange [*:*]
set xrange [700:70000]
plot '%(d)s/diff.dat' using 1:3 with linespoints lw 2 title "git diff --numstat (work tree)", \\
     '' using 1:2 with linespoints lw 2 title "healhook (libgit2, mirror)"
unset multiplot
""" % {"png": PNG, "d": tmp, "nproc": res["machine"]["nproc"]}
	gpf = os.path.join(tmp, "chart.gp")
	with open(gpf, "w") as f:
		f.write(gp)
	p = subprocess.run(["gnuplot", gpf], stderr=subprocess.PIPE, text=True)
	if p.returncode != 0:
		log("gnuplot failed: %s" % p.stderr)
		return False
	return True


def intake_matrix(w, im, v):
	sets = im["sets"]
	w("## 1. Intake: healhook serve against adnanh's webhook")
	w("")
	w("wrk (2 threads) sends Gitea review deliveries, each with a unique `commit_id` and delivery")
	w("id, HMAC-SHA256-signed (bench/intake.py precomputes the signatures, bench/intake.lua cycles")
	w("through them without repeating one; repeats and unexpected answers are counted: %d), so"
	  % sum(x["unexpected"] for st in sets for x in st["summary"].values()))
	w("healhook verifies, parses, judges and durably stores every request (synchronous=FULL: on")
	w("disk before the 202). healhook runs `serve` with `worker.parallel = 0`, a secret, the")
	w("repository configured, log level `error` and `max-connections` = `max-connections-per-ip`")
	w("= 256 (wrk is one address; the default per-address limit, 16, would refuse most of 64")
	w("connections); every answer closes its connection (docs/security.md), so each request is")
	w("also a TCP connect and an accept; webhook runs the hook its documentation gives")
	w("for signed deliveries (a `payload-hmac-sha256` rule on `X-Gitea-Signature`, /bin/true).")
	w("The 15 KB body is fixtures/gitea/review_rejected_body.json; the 2 KB one is the same review")
	w("with Gitea's objects cut to the fields healhook reads (bench/intake.py `small_body`).")
	w("Every row of a table comes from the same minutes: the servers' runs are interleaved.")
	w("")
	w("```")
	w("wrk -t%d -cC -d%ds --timeout 5s -s bench/intake.lua http://127.0.0.1:PORT/hooks/gitea -- BODIES %d STATUS"
	  % (im["threads"], im["seconds"], im["threads"]))
	w("```")
	w("")
	w("| body | connections | server | requests/s (median) | slowest run | p50 ms | p99 ms | CPU per request (user + sys) | peak RSS |")
	w("|---|---|---|---|---|---|---|---|---|")
	for st in sets:
		for name, r in sorted(st["summary"].items(), key=lambda kv: ["healhook", "before",
									   "webhook"].index(kv[0])):
			roles = r["rss_roles_mb"]
			rss = ("receiver %.1f MB, main %.1f MB" % (roles["receiver"], roles["main"])
			       if roles.get("receiver") else "%.1f MB" % r["rss_mb"])
			label = {"healhook": "healhook (this branch)", "before": "healhook before",
				 "webhook": "webhook %s" % (v.get("webhook", "").split()[-1]
							     if v.get("webhook") else "")}[name]
			if r["unexpected"]:
				label += " (**%d answers not 202: not a valid run**)" % r["unexpected"]
			cpu = ("%.0f + %.0f µs" % tuple(r["cpu_us"])) if r.get("cpu_us") else ""
			w("| %d B | %d | %s | %.0f | %.0f | %.2f | %.1f | %s | %s |" % (
				st["body_bytes"], st["conns"], label, r["rps"], r["rps_min"], r["p50_ms"],
				r["p99_ms"], cpu, rss))
	w("")
	w("%d runs of %d s per row; medians; RSS is the largest VmHWM seen (the receiver faces the"
	  % (im["runs"], im["seconds"]))
	w("network: HTTP, HMAC, store; the main process runs the worker). CPU per request is the")
	w("answering process's user and system time over the run (/proc/PID/stat: healhook's")
	w("receiver, webhook itself) divided by the requests wrk counted.")
	w("")
	w("| goal | figure | verdict |")
	w("|---|---|---|")
	rss = 0
	for st in sets:
		hh, wb = st["summary"]["healhook"], st["summary"]["webhook"]
		rss = max(rss, hh["rss_roles_mb"].get("receiver") or hh["rss_mb"])
		big = st["body_bytes"] > 8000
		want = 3.0 if big else 1.5
		valid = not hh["unexpected"] and not wb["unexpected"]
		w("| %d B, %d connections: requests/s ≥ %.1f × webhook's | %.2f × | %s |" % (
			st["body_bytes"], st["conns"], want, hh["rps"] / wb["rps"],
			ok(valid and hh["rps"] >= want * wb["rps"])))
		if big:
			w("| %d B, %d connections: p99 ≤ 1/10 of webhook's | %.2f × | %s |" % (
				st["body_bytes"], st["conns"], hh["p99_ms"] / wb["p99_ms"],
				ok(hh["p99_ms"] <= 0.1 * wb["p99_ms"])))
		w("| %d B, %d connections: no run below 80 %% of the median (stalls) | slowest %.0f %% | %s |"
		  % (st["body_bytes"], st["conns"], 100.0 * hh["rps_min"] / hh["rps"],
		     ok(hh["rps_min"] >= 0.8 * hh["rps"])))
	w("| receiver RSS ≤ 20 MB | %.1f MB | %s |" % (rss, ok(rss <= 20)))
	mem = max((st["summary"]["healhook"].get("receiver_mem_kb") or {} for st in sets),
		  key=lambda m: m.get("rss", 0))
	if mem.get("rss"):
		w("")
		w("The receiver's memory at the end of its largest run: RSS %.1f MB, of which %.1f MB its"
		  % (mem["rss"] / 1024.0, mem.get("anonymous", 0) / 1024.0))
		w("own (anonymous: heap, stacks, SQLite caches) and the rest pages of shared libraries")
		w("(libc, SQLite, the gnutls libmicrohttpd loads, ...) that it touched; PSS, which divides those among the")
		w("processes sharing them, is %.1f MB." % (mem.get("pss", 0) / 1024.0))
	machine_split(w, sets)
	w("")
	w(INTAKE_BOUND)
	w("")


def machine_split(w, sets):
	"""Where the machine's CPU time went during the runs of each row, and what 3 x webhook's
	requests/s would leave healhook's receiver of it."""
	rows = [(st, name, r) for st in sets for name, r in st["summary"].items()
		if r.get("machine") and r.get("wrk_cpu_us") is not None]
	if not rows:
		return
	ncpu = os.cpu_count() or 1
	w("")
	w("Where the machine's %d cores went during those runs (/proc/stat over each run; the" % ncpu)
	w("server's and wrk's own CPU time; medians):")
	w("")
	w("| body | connections | server | the server's CPU | wrk's CPU | softirq (loopback TCP) | idle | wrk's CPU per request |")
	w("|---|---|---|---|---|---|---|---|")
	for st, name, r in rows:
		m = r["machine"]
		w("| %d B | %d | %s | %.0f %% | %.0f %% | %.0f %% | %.0f %% | %.0f µs |" % (
			st["body_bytes"], st["conns"], name, 100 * m["server"],
			100.0 * r["wrk_cpu_us"] * r["rps"] / (ncpu * 1e6), 100 * m["softirq"],
			100 * m["idle"], r["wrk_cpu_us"]))
	st = sets[0]
	hh, wb = st["summary"]["healhook"], st["summary"]["webhook"]
	if hh.get("cpu_us") and hh.get("machine"):
		want = 3.0 * wb["rps"]
		budget = ncpu * 1e6 / want
		soft = hh["machine"]["softirq"] * ncpu * 1e6 / hh["rps"]
		w("")
		w("Three times webhook's requests/s at %d connections is %.0f req/s: %.0f µs of the whole"
		  % (st["conns"], want, budget))
		w("machine per request. Against healhook wrk itself takes %.0f µs of it (it reconnects"
		  % hh["wrk_cpu_us"])
		w("for every request, as every answer closes its connection) and loopback TCP's softirq")
		w("%.0f µs, which leaves %.0f µs for the receiver, whose CPU per request is %.0f µs now."
		  % (soft, budget - hh["wrk_cpu_us"] - soft, sum(hh["cpu_us"])))


def store_section(w, sm):
	w("## 6. Cost against history: 1 000 000 deliveries and jobs")
	w("")
	w("bench/store1m.py fills a store made by healhook with %d deliveries, %d jobs and their"
	  % (sm["rows"], sm["rows"]))
	w("findings (60 days, 50 repositories; bodies older than 30 days pruned, as")
	w("`state.keep-deliveries` does; %.0f MB) and measures it beside an empty store" % sm["db_mb"])
	w("(which holds only the 50 jobs one repository's history shows), interleaved. Every query on")
	w("the hot path is proved to use an index by a unit test of its `EXPLAIN QUERY PLAN`")
	w("(tests/unit/test_store_plan.c: no SCAN of deliveries, jobs or findings).")
	w("")
	w("| operation | empty store | 1 000 000 rows | ratio |")
	w("|---|---|---|---|")
	e, f = sm["ops"]["empty"], sm["ops"]["full"]
	names = {"delivery_known_us": "duplicate check: delivery id or body (hh_store_delivery_known)",
		 "fingerprint_active_us": "duplicate check: finding fingerprint",
		 "queue_depth_us": "queue depth (max-queue)",
		 "claim_us": "claim a queued job (a write: commit and fsync), and put it back",
		 "history_repo_us": "one repository's 50 newest jobs (hh_store_jobs_recent)",
		 "job_counts_us": "job counts per state (/metrics)"}
	for k, name in names.items():
		w("| %s | %.1f µs | %.1f µs | %.2f |" % (name, e[k], f[k], f[k] / e[k] if e[k] else 0))
	hm = sm["history_ms"]
	w("| `healhook history` (whole command) | %.1f ms | %.1f ms | %.2f |" % (
		hm["history empty"], hm["history full"], hm["history full"] / hm["history empty"]))
	w("| `healhook history --repo bench/repo-7` | %.1f ms | %.1f ms | %.2f |" % (
		hm["repo empty"], hm["repo full"], hm["repo full"] / hm["repo empty"]))
	ie, iff = sm["intake"]["empty"], sm["intake"]["full"]
	w("| intake requests/s (15 KB, 8 connections) | %.0f | %.0f | %.2f |" % (
		ie["rps"], iff["rps"], iff["rps"] / ie["rps"]))
	w("| intake p99 | %.1f ms | %.1f ms | %.2f |" % (ie["p99_ms"], iff["p99_ms"],
							 iff["p99_ms"] / ie["p99_ms"]))
	il = sm["intake"].get("full-large")
	if ie.get("cpu_us") and iff.get("cpu_us"):
		w("| intake: the receiver's CPU per delivery (user + sys) | %.0f + %.0f µs | %.0f + %.0f µs | %.2f |"
		  % (ie["cpu_us"][0], ie["cpu_us"][1], iff["cpu_us"][0], iff["cpu_us"][1],
		     sum(iff["cpu_us"]) / sum(ie["cpu_us"])))
	if il and il.get("cpu_us"):
		w("| intake after a sequential read of the file (large folios): requests/s | | %.0f | %.2f |"
		  % (il["rps"], il["rps"] / ie["rps"]))
		w("| the same: p99; CPU per delivery | | %.1f ms; %.0f + %.0f µs | %.2f; %.2f |"
		  % (il["p99_ms"], il["cpu_us"][0], il["cpu_us"][1], il["p99_ms"] / ie["p99_ms"],
		     sum(il["cpu_us"]) / sum(ie["cpu_us"])))
	w("")
	w("Microsecond figures are medians of 200 calls (build/tools/store_ops); a search of an index")
	w("grows with the logarithm of its size, so the query ratios above 1 are the B-tree's extra")
	w("levels and a cache that no longer holds every page, not a walk of the history.")
	w("")
	w(STORE_PAGECACHE)
	w("")


def limits_section(w, lm, res):
	w("## 7. Physical limits of this machine")
	w("")
	w("build/tools/limits (tests/tools/limits.c), medians of %s runs:" % "several")
	w("")
	w("| limit | figure | what healhook spends on it per 15 KB delivery |")
	w("|---|---|---|")
	kb = lm["json_bytes"] / 1e6
	w("| SHA-256, healhook's own (internal/sha256.c, %s) | %.0f MB/s | %.1f µs for one pass (healhook does one) |"
	  % ("SHA-NI" if lm.get("sha256_own_shani") else "portable code", lm["sha256_own_mb_s"],
	     kb / lm["sha256_own_mb_s"] * 1e6))
	w("| SHA-256, healhook's own portable code (CPUs without SHA-NI) | %.0f MB/s | |"
	  % lm["sha256_own_portable_mb_s"])
	w("| SHA-256, OpenSSL EVP with SHA-NI (`sha_ni` %s) | %.0f MB/s | (before: one pass here) |"
	  % ("present" if lm["sha_ni"] else "absent", lm["sha256_shani_mb_s"]))
	w("| SHA-256, OpenSSL EVP without SHA-NI | %.0f MB/s | |" % lm["sha256_no_shani_mb_s"])
	w("| SHA-256, mbedTLS 2.28 (earlier: two passes) | %.0f MB/s | |" % lm["sha256_mbedtls_mb_s"])
	w("| cJSON parse of the %d-byte review | %.1f µs | healhook's whole event parse: %.1f µs |"
	  % (lm["json_bytes"], lm["cjson_parse_us"], lm["event_parse_us"]))
	w("| one 4 KiB write + fdatasync (the store's disk) | %.3f ms | one per group commit, shared |"
	  % lm["fsync_ms"])
	hf = lm.get("http_floor")
	im = res.get("intake_matrix")
	hh = im["sets"][0]["summary"]["healhook"] if im else None
	if hf:
		w("| HTTP floor: libmicrohttpd answering 202 with no work, every answer closing its"
		  " connection (build/tools/nullhttp --close; wrk 2 threads, 8 connections, 15 KB) |"
		  " %.0f req/s, p99 %.1f ms | %s |" % (hf["close"]["rps"], hf["close"]["p99_ms"],
		  "healhook: %.0f req/s, %.0f %% of it" % (hh["rps"], 100.0 * hh["rps"] / hf["close"]["rps"])
		  if hh else ""))
		w("| the same keeping connections alive (as wrk and webhook do) | %.0f req/s, p99 %.1f ms | |"
		  % (hf["keepalive"]["rps"], hf["keepalive"]["p99_ms"]))
	w("")
	if hh:
		per = 1e6 / hh["rps"]
		floor = lm["event_parse_us"] + kb / lm["sha256_own_mb_s"] * 1e6
		cpu = sum(hh["cpu_us"]) if hh.get("cpu_us") else None
		w("At %.0f requests/s (8 connections) the receiver spends %s of CPU per delivery;"
		  % (hh["rps"], "%.0f µs" % cpu if cpu else "(not measured)"))
		w("the parse and hash floor above is %.0f µs of it; the HTTP floor with one request per"
		  % floor)
		if hf:
			w("connection costs the whole machine %.0f µs per request (2 cores ÷ its requests/s)."
			  % (2e6 / hf["close"]["rps"]))
		w("The rest is SQLite's writes (the WAL frames, the checkpoint that copies them into the")
		w("database, their fdatasyncs), the hand-offs between threads (a context switch each: the")
		w("most expensive kernel path in perf's profile of the receiver on this virtual machine), and")
		w("malloc.")
		w("")


def pg_section(w, pg):
	"""8. Intake on PostgreSQL (bench/intake_pg.py), beside SQLite."""
	import intake_pg
	a = pg["args"]
	w("## 8. Intake on PostgreSQL: one and two instances, beside SQLite")
	w("")
	w("bench/intake_pg.py: the deliveries of section 1 (every one unique, stored before its 202),")
	w("wrk with %d threads and %d connections for %d s, median of %d runs. PostgreSQL 15 runs on"
	  % (a["threads"], a["conns"], a["seconds"], a["runs"]))
	w("the same 2 cores, with fsync on (a 2xx is on disk, as with SQLite's synchronous=FULL). Two")
	w("instances: two `healhook serve` on one database, two wrk processes at once with half the")
	w("connections each; req/s is their sum, p50/p99 the worse of the two.")
	w("")
	for line in intake_pg.table(pg):
		w(line)
	w("")
	w("What bounds it: a delivery with three findings is about fifteen round trips to the server")
	w("(statements prepared once per connection), each a context switch on a machine whose two")
	w("cores also run PostgreSQL, the receivers and wrk; a second instance adds no CPU here, so")
	w("it adds no throughput (on separate hosts it should, until PostgreSQL's commit rate, one")
	w("WAL flush per delivery, is the bound; not measured here). Measured while other jobs")
	w("loaded the machine (load average about 4 on 2 cores): the SQLite p99 swung from 30 ms")
	w("to 740 ms between runs; compare rows of one run, not runs.")
	w("")


def write(res):
	base = None
	bp = os.path.join(BENCH, "baseline.json")
	if os.path.exists(bp):
		with open(bp) as f:
			base = json.load(f)
	m, v = res["machine"], res.get("versions", {})
	L = []
	w = L.append
	w("# Performance")
	w("")
	w("Generated by `make bench` (bench/bench.py, bench/report.py) on %s; do not edit by hand."
	  % m["date"])
	w("Every figure is measured on 127.0.0.1 with bounded request counts and durations; the")
	w("medians of several runs are shown. The raw results are in `build/bench/results.json`.")
	w("")
	try:
		load = float(m.get("load"))
	except (TypeError, ValueError):
		load = None
	if load is not None and load < 1.5:
		w("**Machine load.** Load average %.1f at the start, with nothing else running but the" % load)
		w("bench's own processes. Rows of one table ran interleaved, in the same minutes: compare")
		w("rows, and runs on the same machine.")
	else:
		w("**Shared machine.** Load average %s at the start: other work ran on the same cores, so"
		  % m.get("load", "?"))
		w("absolute figures are depressed and noisy. Only ratios between rows of one table mean")
		w("much: those rows ran interleaved, in the same minutes. Re-run `make bench` on a quiet")
		w("machine for absolute figures.")
	w("")
	w("**Machine**: %d cores (`nproc`), %s, %d MB of memory, Linux %s. Tools: %s, %s, %s, %s."
	  % (m["nproc"], m["cpu"], m["mem_mb"], m["kernel"], v.get("wrk", "wrk").split(" [")[0],
	     v.get("webhook", "webhook"), v.get("hyperfine", "hyperfine"), v.get("git", "git")))
	w("")
	w("![performance chart](performance.png)")
	w("")
	i = None
	im = res.get("intake_matrix")
	if im:
		intake_matrix(w, im, v)
	p = res.get("profile")
	if p:
		w("## 5. Profile of the intake path")
		w("")
		w("The receiver (`healhook serve --role=receiver`, the process that faces the network) runs")
		w("under `valgrind --tool=callgrind` while %d unique signed review deliveries are posted one"
		  % p["requests"])
		w("after another (bench/profile.py). Instructions per request are the difference of two")
		w("runs (50 and %d requests) divided by the difference in requests, so start-up (about"
		  % p["requests"])
		w("%.0f M instructions, most of them libgit2's initialisation for the configuration parser:"
		  % (p["startup_ir"] / 1e6))
		w("started alone, the receiver reads its configuration file itself; under `serve` it gets")
		w("the entries by pipe and starts no libgit2) is excluded. valgrind's CPU has no SHA")
		w("extensions, so under callgrind internal/sha256.c runs its portable code, not SHA-NI:")
		w("the instructions counted for SHA-256 are an upper bound of the real CPU's.")
		w("")
		w("| build | instructions per request | intake requests/s | p99 ms |")
		w("|---|---|---|---|")
		s8 = im["sets"][0]["summary"] if im else {}
		pb = res.get("profile_before")
		if pb:
			w("| before (%s) | %.2f M | %s | %s |" % (
				res.get("before_bin") or "HEALHOOK_BENCH_BEFORE", pb["ir_per_request"] / 1e6,
				f1(s8.get("before", {}).get("rps"), 0), f1(s8.get("before", {}).get("p99_ms"))))
		w("| after (this branch) | %.2f M | %s | %s |" % (
			p["ir_per_request"] / 1e6, f1(s8.get("healhook", {}).get("rps"), 0),
			f1(s8.get("healhook", {}).get("p99_ms"))))
		w("")
		tot = float(p["total_ir"])
		w("Where the instructions go (%d requests, start-up included; self cost):" % p["requests"])
		w("")
		w("| function | library | share |")
		w("|---|---|---|")
		for ir, name, lib in p["top_self"][:12]:
			w("| `%s` | %s | %.1f %% |" % (name, lib, 100.0 * ir / tot))
		w("")
		w("Inclusive cost of healhook's own steps:")
		w("")
		w("| function | share |")
		w("|---|---|")
		for ir, name, lib in p["top_inclusive"][:12]:
			w("| `%s` | %.1f %% |" % (name, 100.0 * ir / tot))
		w("")
		w(FINDINGS)
		w("")
	h = res.get("heal")
	if h:
		hh, pr = h["healhook"], h["predecessor"]
		w("## 2. Heal overhead: healhook heal against the predecessor's script")
		w("")
		w("One finding (`services/order_service.py`, a `# BUG:` line) in a repository of %d files"
		  % h["files"])
		w("on a loopback OpenSSH server (tests/lib/sshd.py); the fixer is bench/instant-fixer (sed),")
		w("for both. bench/predecessor.sh does what the predecessor did: one `ssh` call per step")
		w("(fetch and reset, fixer, `git diff --numstat`, commit and push) in the host's work tree.")
		w("Before each run the origin and the host are put back at the base commit. The fix host's")
		w("user has the dotfiles a Debian account starts with (/etc/skel; tests/lib/sshd.py `home`):")
		w("sshd runs every command through the user's shell, and bash reads ~/.bashrc for each,")
		w("so a development machine's own ~/.bashrc (here root's: pyenv and cargo set-up, about")
		w("0.1 s) would be timed once per channel on both sides, healhook's 4 and the script's 4.")
		w("")
		w("```")
		w("hyperfine -N --runs %d --prepare RESET 'healhook heal --config C --repo acme/shop-api --file services/order_service.py ... --json' \\"
		  % h["runs"])
		w("          'bench/predecessor.sh PORT KEY KNOWN_HOSTS USER WORKTREE main bench/instant-fixer services/order_service.py'")
		w("```")
		w("")
		w("| | wall time (median) | SSH connections | ssh channels |")
		w("|---|---|---|---|")
		if h.get("before"):
			w("| healhook heal before (%s) | %.3f s | 1 | (not counted) |" % (
				res.get("before_bin") or "before", h["before"]["wall_s"]))
		w("| healhook heal | %.3f s | %d | %d |" % (hh["wall_s"], hh["connections"],
							   hh.get("channels", 0)))
		w("| predecessor.sh | %.3f s | %d | %d |" % (pr["wall_s"], pr["connections"],
							    pr["connections"]))
		ratio = hh["wall_s"] / pr["wall_s"]
		w("")
		w("Ratio %.2f (goal ≤ 0.25: %s); %d connection (goal 1: %s); %d channels (goal ≤ 4: %s)."
		  % (ratio, ok(ratio <= 0.25), hh["connections"], ok(hh["connections"] == 1),
		     hh.get("channels", 0), ok(0 < hh.get("channels", 0) <= 4)))
		if h.get("before"):
			w("The build before this work took %.2f × the predecessor's time in the same run."
			  % (h["before"]["wall_s"] / pr["wall_s"]))
		w("")
		w("healhook's stages (medians, ms; from the result's `stages`):")
		w("")
		w("| " + " | ".join(hh["stages_ms"]) + " |")
		w("|" + "---|" * len(hh["stages_ms"]))
		w("| " + " | ".join("%d" % x for x in hh["stages_ms"].values()) + " |")
		w("")
		w(HEAL_NOTE)
		w("")
	d = res.get("diff")
	if d:
		w("## 3. Diff counting: libgit2 in the mirror against `git diff --numstat`")
		w("")
		w("One changed file (`%s`, 1 line) in repositories of 1 000 to 50 000 files of 20 lines"
		  % d["target"])
		w("(built with git fast-import). healhook: `build/tools/diff_lines` (tests/tools/diff_lines.c)")
		w("opens the bare mirror and calls `hh_mirror_diff_lines` 20 times; the first call (cold")
		w("tree and blob reads) is what a heal pays. git: `hyperfine -N --warmup 2 'git -C WT diff --numstat'`")
		w("in a checked-out work tree with a fresh index.")
		w("")
		w("| files | healhook first call | healhook warm | git diff --numstat | git / healhook |")
		w("|---|---|---|---|---|")
		for r in d["sizes"]:
			w("| %d | %.3f ms | %.3f ms | %.1f ms | %.0f × |" % (
				r["files"], r["healhook_cold_ms"], r["healhook_ms"], r["git_ms"], r["ratio"]))
		a, b = d["sizes"][0], d["sizes"][-1]
		w("")
		w("From %d to %d files (× %.0f), `git diff --numstat` grows × %.1f (it lstat()s every"
		  % (a["files"], b["files"], b["files"] / a["files"], b["git_ms"] / a["git_ms"]))
		w("tracked file to refresh the index) and healhook's count × %.1f (it reads the tree objects"
		  % (b["healhook_cold_ms"] / a["healhook_cold_ms"]))
		w("on the target's path and one blob, whatever the repository's size).")
		w("")
	vd = res.get("verdict")
	if vd:
		w("## 4. Verdict latency")
		w("")
		w("From the moment the health endpoint (tests/lib/health_server.py) starts answering the")
		w("pushed SHA as its `version` to the end of `healhook heal` with the `healed` verdict;")
		w("`health-version-field = version`, `health-delay = 0`, local transport. The deploy")
		w("happens 0.2 s to 1.2 s after the push (a different point of the poll cycle each run).")
		w("")
		w("| | median | max | runs |")
		w("|---|---|---|---|")
		w("| healhook, version field | %.3f s | %.3f s | %d |" % (vd["median_s"], vd["max_s"],
									  vd["runs"]))
		if vd.get("predecessor_measured_s") is not None:
			w("| predecessor's schedule (10 s sleep, 10 s polls, no version field), measured | %.3f s | | 1 |"
			  % vd["predecessor_measured_s"])
		w("")
		w("Goal < 1 s: %s. With a version field healhook polls every second (min(health-interval,"
		  % ok(vd["max_s"] < 1.0))
		w("1 s)) and an answer naming another version counts as the old deployment, so the")
		w("verdict follows the switch by at most one poll interval plus one HTTP request. The")
		w("predecessor's fixed 10 s sleep puts its verdict %.1f s after a switch %.1f s after the"
		  % (vd["predecessor_model_s"], vd["predecessor_delay_s"]))
		w("push, and without a version field it may judge the old deployment healthy.")
		w("")
	sm = res.get("store1m")
	if sm:
		store_section(w, sm)
	lm = res.get("limits")
	if lm:
		limits_section(w, lm, res)
	if res.get("intake_pg"):
		pg_section(w, res["intake_pg"])
	w("## Reproducing")
	w("")
	w("`make bench` installs what is missing (bench/deps.sh: wrk, webhook, hyperfine, gnuplot-nox,")
	w("valgrind), builds healhook and build/tools/diff_lines, runs `python3 bench/bench.py` and")
	w("rewrites this file and docs/performance.png. It took %.0f s here. `python3 bench/bench.py"
	  % res.get("elapsed_s", 0))
	w("--only intake,profile` reruns a part. The \"before\" rows are an earlier build measured in")
	w("the same run, interleaved: `HEALHOOK_BENCH_BEFORE=OLD/build/healhook make bench`.")
	w("")
	chart(res, base)
	with open(DOC, "w") as f:
		f.write("\n".join(L))
	log("wrote %s and %s" % (DOC, PNG))


INTAKE_BOUND = """What changed, and what bounds the ratios. Earlier: one SHA-256 pass instead of two; concurrent
deliveries share one transaction and its fsync (group commit, internal/store_group.c); writers of
both processes queue on the flock of `healhook.db-writer` instead of sleeping in SQLite's busy
handler; cJSON's allocations from a per-thread arena; the duplicate-key check hashed; the
pre-scan and UTF-8 check 8 bytes at a time; batches on one handle of the group; an unused index
dropped; a 32 KiB libmicrohttpd pool (malloc, not mmap). Then, found with `perf record -g`
on the receiver (CPU and call graphs), /proc/PID/task/*/status (context switches per request)
and a counter of the group commit's time (the leader was busy 92 % of the time, two thirds of it
in COMMIT's fsync): the group's handle commits with synchronous=NORMAL and its leader, after
handing the lead on, fdatasyncs the -wal file itself before it answers, so the next batch is
written while this one's frames reach the disk (nobody is answered before a sync that began after
their commit: tests/unit/test_store_plan.c); each waiter has its own condition (a broadcast woke
every waiting thread for each batch); the automatic checkpoint (1000 frames copied and two fsyncs
inside some delivery's commit: the p99) runs on a thread of its own; the duplicate check and the
queue depth are read inside the write transaction on the group's warm handle (a thread's own
handle loses its page cache at every commit of another: preads); SQLite keeps no allocation
statistics (a mutex of the whole process around every malloc, futex waits between the threads);
the gate is woken by a close only when it had stopped accepting; and the receiver no longer
starts libgit2 (its start-up starts libssh2's and OpenSSL's: about 3 MB touched): `serve` hands it
the configuration's entries by pipe, and SHA-256/HMAC are healhook's own (SHA-NI), so the
receiver never initialises libcrypto either (RSS about 21 -> 17.5 MB at 64 connections).
What bounds the ratio now: every answer closes its connection (docs/security.md: each request
passes the gate's head checks and deadline; and Gitea's Go client, whose connections the server
would have to close when idle, does not retry a POST that crossed such a close), so each healhook
request is also a TCP handshake, an accept, a hand-off and a close, where wrk and webhook keep one
connection for many requests (section 7: the HTTP floor with a close per request); healhook's 202
means the delivery, its findings and their verdicts are on disk, webhook answers before its
command has run and stores nothing; and the machine has little left (the table of where its
cores went: wrk, reconnecting for every request, takes about a fifth of them). Measured with the
close removed (keep-alive, not shipped): about 1.2 x this branch's 15 KB figure at 8 connections,
still under 2 x webhook's: three times webhook's requests/s would need the receiver at about a
third of webhook's CPU per request (the CPU column) while doing more work per request. The goals
the tables mark not met are not met."""

STORE_PAGECACHE = """Intake on the large store depends on how its file sits in the page cache. Before its runs
the file is dropped from the cache and read back in 4 KB pages without readahead (4 KB folios,
what SQLite's own random reads leave; bench/store1m.py `page_cache`), and the harness reads the
store only through indexes and rowid ranges. The last row is measured after one sequential read
of the file, as a backup, `cp` or a full scan by the sqlite3 shell leaves it: on this machine's
Linux (6.16 and later: ext4's large folios) the file then sits in large folios (85 % of its
cached pages were compound pages in /proc/kpageflags), and
each 4 KB write of the checkpoint walks every buffer head of its folio (measured on
2026-12-03 with `perf record -g -p RECEIVER`: ext4_block_write_begin 11 % of the receiver's
time, 0.6 % on the empty store; with `perf stat -e 'syscalls:sys_enter_*'` the system calls
per delivery are the same in both: 27 pwrite, 9 to 11 pread, 0.8 fdatasync). The earlier figure of this
table (0.72 ×) was that state, made before every run by the harness's own cleanup (a DELETE
with a LIKE over the whole tables). Debian 12's kernel (6.1) has no large folios on ext4. What
remains between the empty and the large store is reads of pages that are not cached yet and the
B-tree's extra level."""

FINDINGS = """The instructions per request above are the receiver's own work. Under callgrind, whose
CPU has no SHA extensions (sha256.c then runs its portable code), SHA-256 is a large self cost;
on the CPU itself, with SHA-NI, one 15 KB pass takes about 11 µs (section 7). The rest is cJSON's
own parse (building its nodes and strings: the arena took their malloc and free away), SQLite's
B-tree and WAL writes, and memset (SQLite's new pages). Start-up (configuration, the CA bundle) is
excluded. The stalls of earlier runs were never in these profiles (they count instructions, and a
thread asleep in SQLite's busy handler runs none): strace showed them, as futex and sleep time
with the receiver mostly idle."""

HEAL_NOTE = """What changed: the ssh socket had Nagle's algorithm on, so every small write that followed
another waited for the peer's delayed ACK (about 40 ms per exchange); now TCP_NODELAY (and
SO_KEEPALIVE) is set on every ssh socket healhook opens, libgit2's own included. And a heal
used 10 channels (9 commands and the SFTP subsystem); now 4, each one remote script of constant
steps whose values are positional arguments (internal/rscript.c): sync (the preflight checks,
`git fetch` on the host, then git-upload-pack for the mirror's fetch), the fixer's run (scratch
directory, the target and the prompt from stdin, the fixer under `timeout`, the listing the L1
judge reads and the target's bytes), the check, and the push (git-receive-pack into
`refs/healhook/pending`, then `git push`, the `ls-remote` check and the clean-up). What is left
is processes on the host: git, the check (which the predecessor never runs), and the fixer.
Then the sync stage still waited 40 ms on every heal for sshd's answer to the first channel
open. `strace -f -ttt -p SSHD` showed why: until a session's command starts, sshd's socket has
Nagle's algorithm on (it sets TCP_NODELAY then), and after authentication it writes an
unrequested hostkeys-00@openssh.com message; its answer to the channel open, written next,
waited for that message's ACK, which the client's kernel delays by 40 ms. healhook now sets
TCP_QUICKACK before each wait on the socket (internal/netopt.c), so the ACK leaves at once
(sync 68 -> 22 ms). And the default check of a `.py` file was `python3 -m py_compile`: 30 ms,
two thirds of it py_compile's imports and site's start-up; it is now Python's `compile()` on the
file under `python3 -I -S` (internal/fixer.h HH_PY_CHECK: the same check, 9 ms of Python, no
`.pyc` written; check 36 -> 15 ms). The first measurements on this machine (0.67 ×,
then 0.47 × on a quiet machine) used the machine's own root account as the fix host user: strace
of sshd's children (`strace -f -ttt -e trace=execve -p SSHD`) showed every channel's bash
running `pyenv init -` and `pyenv virtualenv-init -` from /root/.bashrc, some 40 processes and
about 0.1 s per channel, before healhook's script started. A fix host account set up the usual
way (Debian's /etc/skel/.bashrc returns at once when the shell is not interactive) does not pay
it; if yours does, keep the non-interactive part of its ~/.bashrc short."""
