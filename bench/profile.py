"""Benchmark 5, profile of the intake path: the receiver (`serve --role=receiver`, the process
that faces the network) runs under valgrind's callgrind while N unique signed review
deliveries are posted one after another; the report gives instructions per request (total
Ir / N, start-up included, so N is large enough to make it small) and the functions that
dominate (inclusive Ir, from callgrind_annotate).
"""
import http.client
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

from common import BIN, H, OUT, log
import intake


def annotate(path, top, inclusive):
	p = subprocess.run(["callgrind_annotate", "--inclusive=%s" % ("yes" if inclusive else "no"),
			    path], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
	total = None
	rows = []
	for line in p.stdout.splitlines():
		m = re.match(r"^\s*([\d,]+)\s+(?:\([^)]*\)\s+)?PROGRAM TOTALS", line)
		if m:
			total = int(m.group(1).replace(",", ""))
			continue
		m = re.match(r"^\s*([\d,]+)\s+(?:\([^)]*\)\s+)?\*?\s*(\S+):(\S+)", line)
		if m and total:
			name = m.group(3)
			if any(r[1] == name for r in rows):
				continue
			if inclusive and not (name.startswith("hh_") or name in (
					"handle_delivery", "judge_and_store", "on_request")):
				continue
			lm = re.search(r"\[([^\]]+)\]\s*$", line)
			lib = os.path.basename(lm.group(1)) if lm else ""
			rows.append((int(m.group(1).replace(",", "")), name, lib))
	return total, rows[:top]


def bench(args):
	"""Two runs (few and many requests): the difference of their totals divided by the
	difference of their request counts is the cost of one request without the start-up."""
	b = getattr(args, "bin", None)
	few = one(args.warm, args.top, b)
	many = one(args.warm + args.requests, args.top, b)
	many["ir_per_request"] = (many["total_ir"] - few["total_ir"]) / float(args.requests)
	many["startup_ir"] = few["total_ir"] - args.warm * many["ir_per_request"]
	log("profile: %.2f M instructions per request" % (many["ir_per_request"] / 1e6))
	return many


def one(n, top, bin=None):
	tmp = tempfile.mkdtemp(prefix="hh-bench-prof-")
	bodies = os.path.join(tmp, "bodies")
	os.makedirs(bodies)
	try:
		intake.make_bodies(bodies, n)
		with open(os.path.join(bodies, "prefix"), "rb") as f:
			prefix = f.read()
		with open(os.path.join(bodies, "suffix"), "rb") as f:
			suffix = f.read()
		with open(os.path.join(bodies, "sigs")) as f:
			sigs = f.read().split()
		port = H.free_port()
		p, lf = intake.healhook_serve(tmp, port, False, receiver_only=True, bin=bin,
					      wrap=["valgrind", "--tool=callgrind",
						    "--callgrind-out-file=%s/cg.out.%%p" % tmp])
		conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
		t0 = time.time()
		for i in range(n):
			nonce = b"%040d" % i
			body = prefix + nonce + suffix
			conn.request("POST", "/hooks/gitea", body, {
				"Content-Type": "application/json",
				"X-Gitea-Event": "pull_request_rejected",
				"X-Gitea-Event-Type": "pull_request_review_rejected",
				"X-Gitea-Delivery": "prof-%d" % i,
				"X-Gitea-Signature": sigs[i]})
			r = conn.getresponse()
			r.read()
			if r.status != 202:
				raise RuntimeError("profile: answer %d" % r.status)
		conn.close()
		wall = time.time() - t0
		p.send_signal(signal.SIGTERM)
		p.wait(60)
		lf.close()
		outs = [os.path.join(tmp, f) for f in os.listdir(tmp) if f.startswith("cg.out.")]
		total, rows = annotate(outs[0], top, False)
		_, inc = annotate(outs[0], top, True)
		os.makedirs(OUT, exist_ok=True)
		shutil.copy(outs[0], os.path.join(OUT, "callgrind.out.receiver"))
		return {"requests": n, "total_ir": total, "top_self": rows, "top_inclusive": inc,
			"wall_s": wall}
	finally:
		shutil.rmtree(tmp, ignore_errors=True)
