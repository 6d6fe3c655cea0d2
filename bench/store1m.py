"""Benchmark 6, cost against history: an empty store against one holding 1 000 000 deliveries,
1 000 000 jobs and their 1 000 000 findings (60 days of them, 50 repositories, bodies pruned
past 30 days as state.keep-deliveries does).

The schema is made by healhook itself (`healhook history` opens and migrates the store); the
rows are then inserted with Python's sqlite3 (the job-count triggers are dropped for the bulk
insert and the counts recomputed, as the migration does). The populated database is kept in
build/bench/store1m/ for later runs. Measured on both stores, interleaved:
  - the hot-path queries, median µs of 200 calls (build/tools/store_ops: the duplicate checks,
    queue depth, claim, one repository's history, the job counts of /metrics);
  - `healhook history` and `healhook history --repo`, hyperfine;
  - intake, wrk 2 threads 8 connections, the 15 KB review (requests/s, p99), with the
    database's pages in the page cache in 4 KB folios (as healhook's own random access leaves
    them), and once more after a sequential read of the file (a backup, cp or sqlite3's full
    scan), which on Linux >= 6.16 leaves it in large folios (ext4's large folios): each 4 KB
    write of the checkpoint then walks every buffer head of its folio (ext4_block_write_begin).
    The harness itself reads only through indexes and rowid ranges, so that it leaves the
    page cache as healhook would.
"""
import threading
import json
import os
import random
import shutil
import sqlite3
import subprocess
import tempfile
import time

from common import BIN, BUILD, OUT, H, log, median
import intake

ROWS = 1000000
TOOL = os.path.join(BUILD, "tools", "store_ops")
DAY = 86400


def conf(d):
	path = os.path.join(d, "healhook.conf")
	with open(path, "w") as f:
		f.write("[state]\n\tdir = %s\n" % os.path.join(d, "state"))
	return path


def populate(d, rows):
	cfg = conf(d)
	subprocess.run([BIN, "history", "--config", cfg], check=True, stdout=subprocess.DEVNULL)
	db = os.path.join(d, "state", "healhook.db")
	con = sqlite3.connect(db, isolation_level=None)
	con.execute("PRAGMA synchronous = OFF")
	trig = con.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall()
	for name, _ in trig:
		con.execute("DROP TRIGGER %s" % name)
	now = int(time.time())
	rnd = random.Random(12)
	hexs = lambda: "%064x" % rnd.getrandbits(256)
	con.execute("BEGIN")
	con.executemany(
		"INSERT INTO deliveries (id, body_sha256, event, repo, verdict, lookup, received,"
		" headers, body) VALUES (?, ?, 'pull_request_review_rejected', ?, 'accepted', 'none',"
		" ?, ?, ?)",
		((("hist-%07d" % i), hexs(), "bench/repo-%d" % (i % 50), now - (rows - i) * 60 * DAY // rows,
		  *((None, None) if (rows - i) * 60 // rows >= 30 else ("X-Gitea-Event: x", b"{}")))
		 for i in range(rows)))
	states = ["healed"] * 6 + ["failed"] * 2 + ["reverted", "expired"]
	con.executemany(
		"INSERT INTO jobs (repo, branch, file, type, message, delivery_id, state, created,"
		" updated) VALUES (?, 'main', ?, 'NameError', 'x', ?, ?, ?, ?)",
		(("bench/repo-%d" % (i % 50), "src/f%d.py" % (i % 997), "hist-%07d" % i,
		  states[i % 10], now - (rows - i) * 60 * DAY // rows,
		  now - (rows - i) * 60 * DAY // rows) for i in range(rows)))
	con.executemany(
		"INSERT INTO findings (delivery_id, repo, branch, file, line, type, message, source,"
		" sender, verdict, fingerprint, job_id, created) VALUES (?, ?, 'main', ?, 1,"
		" 'NameError', 'x', 'review', 'bob', 'accepted', ?, ?, ?)",
		(("hist-%07d" % i, "bench/repo-%d" % (i % 50), "src/f%d.py" % (i % 997), hexs(), i + 1,
		  now - (rows - i) * 60 * DAY // rows) for i in range(rows)))
	con.execute("COMMIT")
	for _, sql in trig:
		con.execute(sql)
	con.execute("DELETE FROM job_state_counts")
	con.execute("INSERT INTO job_state_counts (state, n) SELECT state, COUNT(*) FROM jobs"
		    " GROUP BY state")
	con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
	con.close()


def queued(d, n=20):
	"""A few queued jobs, for claim (put back by store_ops after each call)."""
	con = sqlite3.connect(os.path.join(d, "state", "healhook.db"), isolation_level=None)
	if con.execute("SELECT COUNT(*) FROM jobs WHERE state = 'queued'").fetchone()[0] < n:
		for i in range(n):
			con.execute("INSERT INTO jobs (repo, branch, file, state, created, updated) VALUES"
				    " (?, 'main', 'a.py', 'queued', ?, ?)", ("bench/q-%d" % i, i, i))
	con.close()


def forget_bench_deliveries(d, rows):
	"""Removes what earlier intake runs stored in the kept store (their deliveries, findings
	and jobs), so that every run's deliveries are new to it, never answered as duplicates.
	populate() gave its rows the rowids 1..rows: everything above (but the queued jobs of
	queued(), which have no delivery) came from the runs. Rowid ranges, not a LIKE over the
	tables: a full scan reads the whole file in order, which would leave it in large folios
	(see above) before every run."""
	con = sqlite3.connect(os.path.join(d, "state", "healhook.db"), isolation_level=None)
	last = con.execute("SELECT id FROM deliveries WHERE seq = ?", (rows,)).fetchone()
	if not last or last[0] != "hist-%07d" % (rows - 1):
		raise RuntimeError("store1m: the populated rows are not 1..%d" % rows)
	con.execute("BEGIN")
	con.execute("DELETE FROM findings WHERE id > ?", (rows,))
	con.execute("DELETE FROM jobs WHERE id > ? AND delivery_id IS NOT NULL", (rows,))
	con.execute("DELETE FROM deliveries WHERE seq > ?", (rows,))
	con.execute("COMMIT")
	con.close()


def page_cache(path, large):
	"""Drops the file's pages from the page cache and reads them back: without readahead, 16
	threads of 4 KB preads (4 KB folios, as SQLite's own random reads make them), or, large,
	in 1 MiB sequential reads with readahead (large folios, as a backup or cp leaves them)."""
	fd = os.open(path, os.O_RDONLY)
	try:
		os.fsync(fd)
		os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
		pages = os.fstat(fd).st_size // 4096
		if large:
			while os.read(fd, 1 << 20):
				pass
			return
		os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_RANDOM)

		def part(k, n=16):
			for p in range(k, pages, n):
				os.pread(fd, 4096, p * 4096)
		ts = [threading.Thread(target=part, args=(k,)) for k in range(16)]
		for t in ts:
			t.start()
		for t in ts:
			t.join()
	finally:
		os.close(fd)


def hyper(argv_list, runs):
	out = os.path.join(OUT, "store1m-hyperfine.json")
	cmd = ["hyperfine", "-N", "--style", "none", "--warmup", "2", "--runs", str(runs),
	       "--export-json", out]
	for name, argv in argv_list:
		cmd += ["-n", name, " ".join("'%s'" % a for a in argv)]
	subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, timeout=600)
	with open(out) as f:
		return {r["command"]: r["median"] for r in json.load(f)["results"]}


def bench(args):
	big = os.path.join(OUT, "store1m")
	marker = os.path.join(big, "rows")
	if not (os.path.exists(marker) and open(marker).read().strip() == str(args.rows)):
		shutil.rmtree(big, ignore_errors=True)
		os.makedirs(big)
		t = time.time()
		populate(big, args.rows)
		with open(marker, "w") as f:
			f.write(str(args.rows))
		log("store1m: %d rows each populated in %.0f s" % (args.rows, time.time() - t))
	empty = tempfile.mkdtemp(prefix="hh-bench-empty-")
	bodies = tempfile.mkdtemp(prefix="hh-bench-bodies-")
	try:
		subprocess.run([BIN, "history", "--config", conf(empty)], check=True,
			       stdout=subprocess.DEVNULL)
		for d in (empty, big):
			queued(d)
		# the empty store holds the 50 jobs one repository's history shows, nothing else
		con = sqlite3.connect(os.path.join(empty, "state", "healhook.db"), isolation_level=None)
		for i in range(50):
			con.execute("INSERT INTO jobs (repo, branch, file, state, created, updated) VALUES"
				    " ('bench/repo-7', 'main', 'a.py', 'healed', ?, ?)", (i, i))
		con.close()
		res = {"rows": args.rows, "db_mb": os.path.getsize(
			os.path.join(big, "state", "healhook.db")) / 1e6}
		for name, d in (("empty", empty), ("full", big)):
			p = subprocess.run([TOOL, os.path.join(d, "state"), "200"], check=True,
					   stdout=subprocess.PIPE, text=True)
			res.setdefault("ops", {})[name] = json.loads(p.stdout)
		h = hyper([("history empty", [BIN, "history", "--config", conf(empty)]),
			   ("history full", [BIN, "history", "--config", conf(big)]),
			   ("repo empty", [BIN, "history", "--config", conf(empty), "--repo",
					   "bench/repo-7"]),
			   ("repo full", [BIN, "history", "--config", conf(big), "--repo",
					  "bench/repo-7"])], 10)
		res["history_ms"] = {k: v * 1e3 for k, v in h.items()}
		intake.make_bodies(bodies, 120000)
		a = type("A", (), {"threads": 2, "conns": 8, "seconds": 5})()
		runs = {"empty": [], "full": [], "full-large": []}
		db = os.path.join(big, "state", "healhook.db")
		forget_bench_deliveries(big, args.rows)
		page_cache(db, False)
		order = [(("empty", None), ("full", big))] * args.runs + [(("full-large", big),)]
		for i, row in enumerate(order):
			if i == args.runs:
				page_cache(db, True)
			for name, d in row:
				if d:
					forget_bench_deliveries(d, args.rows)
				r = intake.one("healhook", bodies, a, state_tmp=d)
				if r["unexpected"] or r["wrapped"]:
					raise RuntimeError("store1m: %d unexpected answers" % (
						r["unexpected"] + r["wrapped"]))
				runs[name].append(r)
				log("store1m intake %s: %.0f req/s p99 %.1f ms, CPU %.0f + %.0f us" % (
					name, r["rps"], r["p99_us"] / 1e3, r["cpu_us"][0], r["cpu_us"][1]))
		res["intake"] = {k: {"rps": median([r["rps"] for r in v]),
				     "p99_ms": median([r["p99_us"] for r in v]) / 1e3,
				     "cpu_us": [median([r["cpu_us"][j] for r in v]) for j in (0, 1)],
				     "runs": len(v)}
				 for k, v in runs.items()}
		return res
	finally:
		shutil.rmtree(empty, ignore_errors=True)
		shutil.rmtree(bodies, ignore_errors=True)
