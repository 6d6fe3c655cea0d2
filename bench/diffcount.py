"""Benchmark 3, diff counting: healhook's libgit2 count (hh_mirror_diff_lines, driven by
build/tools/diff_lines) against `git diff --numstat` in a work tree, for one changed file in
repositories of 1 000, 10 000 and 50 000 files.

healhook looks up one path in the base commit's tree and diffs one blob against the new
content: its cost follows the path's depth, not the repository's size. `git diff --numstat`
must first refresh the index, an lstat() of every tracked file. The repositories are built
with git fast-import (files of 20 lines in directories of 100).
"""
import json
import os
import shutil
import subprocess
import tempfile
import time

from common import BUILD, log, median

TOOL = os.path.join(BUILD, "tools", "diff_lines")
TARGET = "src/d0000/f00042.py"


def content(i):
	return "".join("def f%d_%d():\n    return %d\n" % (i, j, j) for j in range(10))


def make_repo(d, nfiles):
	bare = os.path.join(d, "mirror.git")
	subprocess.run(["git", "init", "-q", "--bare", "-b", "main", bare], check=True)
	lines = []
	for i in range(nfiles):
		data = content(i).encode()
		lines.append(b"blob\nmark :%d\ndata %d\n%s\n" % (i + 1, len(data), data))
	lines.append(b"commit refs/heads/main\ncommitter bench <b@localhost> 1700000000 +0000\n"
		     b"data 5\nbase\n")
	for i in range(nfiles):
		lines.append(b"M 100644 :%d src/d%04d/f%05d.py\n" % (i + 1, i // 100, i))
	lines.append(b"\n")
	subprocess.run(["git", "-C", bare, "fast-import", "--quiet"], input=b"".join(lines),
		       check=True)
	sha = subprocess.run(["git", "-C", bare, "rev-parse", "main"], stdout=subprocess.PIPE,
			     text=True, check=True).stdout.strip()
	wt = os.path.join(d, "wt")
	subprocess.run(["git", "clone", "-q", "-b", "main", bare, wt], check=True)
	new = content(42).replace("return 3\n", "return 33\n")
	with open(os.path.join(wt, TARGET), "w") as f:
		f.write(new)
	newfile = os.path.join(d, "new.py")
	with open(newfile, "w") as f:
		f.write(new)
	# A fresh index whose entries are not "racy" (files as new as the index are re-read by
	# every git diff): rebuild it one second after the checkout.
	time.sleep(1.1)
	os.unlink(os.path.join(wt, ".git", "index"))
	subprocess.run(["git", "-C", wt, "reset", "-q"], check=True)
	return bare, sha, wt, newfile


def bench(args):
	out = []
	for n in args.sizes:
		d = tempfile.mkdtemp(prefix="hh-bench-diff-")
		try:
			bare, sha, wt, newfile = make_repo(d, n)
			hh_first, hh_med = [], []
			for _ in range(args.runs):
				p = subprocess.run([TOOL, bare, sha, TARGET, newfile, "20"],
						   stdout=subprocess.PIPE, text=True, check=True)
				a, dl, first, med = p.stdout.split()
				assert (a, dl) == ("1", "1"), p.stdout
				hh_first.append(float(first))
				hh_med.append(float(med))
			hf = os.path.join(d, "hf.json")
			subprocess.run(["hyperfine", "-N", "--style", "none", "--warmup", "2", "--runs",
					str(args.runs * 4), "--export-json", hf,
					"git -C %s diff --numstat" % wt],
				       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
			with open(hf) as f:
				g = json.load(f)["results"][0]
			numstat = subprocess.run(["git", "-C", wt, "diff", "--numstat"],
						 stdout=subprocess.PIPE, text=True).stdout.split()
			assert numstat[:2] == ["1", "1"], numstat
			r = {"files": n, "healhook_cold_ms": median(hh_first) / 1e3,
			     "healhook_ms": median(hh_med) / 1e3, "git_ms": g["median"] * 1e3}
			r["ratio"] = r["git_ms"] / r["healhook_cold_ms"]
			log("diff: %d files: healhook %.3f ms (cold %.3f ms), git diff --numstat %.1f ms"
			    % (n, r["healhook_ms"], r["healhook_cold_ms"], r["git_ms"]))
			out.append(r)
		finally:
			shutil.rmtree(d, ignore_errors=True)
	return {"runs": args.runs, "target": TARGET, "sizes": out}
