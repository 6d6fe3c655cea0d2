"""Shared helpers of the benchmarks (bench/bench.py): paths, processes, /proc readings, medians.

Everything runs on 127.0.0.1 with bounded request counts and times. Results are plain dicts,
saved as JSON in build/bench/ and turned into docs/performance.md by bench/report.py.
"""
import os
import signal
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))
from lib import harness as H  # noqa: E402

BUILD = os.environ.get("BUILD", os.path.join(ROOT, "build"))
BIN = os.environ.get("HEALHOOK_BENCH_BIN") or os.path.join(BUILD, "healhook")
OUT = os.path.join(BUILD, "bench")
BENCH = os.path.join(ROOT, "bench")
SECRET = H.FIXTURE_SECRET


def log(*a):
	print("bench:", *a, file=sys.stderr, flush=True)


def median(xs):
	xs = [x for x in xs if x is not None]
	return statistics.median(xs) if xs else None


def vm_hwm_kb(pid):
	"""Peak resident set size (VmHWM) of a live process, in KiB."""
	try:
		with open("/proc/%d/status" % pid) as f:
			for line in f:
				if line.startswith("VmHWM:"):
					return int(line.split()[1])
	except OSError:
		pass
	return None


def cpu_s(pid):
	"""(user, system) CPU seconds a live process has used, all its threads (/proc/PID/stat)."""
	try:
		with open("/proc/%d/stat" % pid) as f:
			v = f.read().rsplit(")", 1)[1].split()
	except OSError:
		return (0.0, 0.0)
	tck = float(os.sysconf("SC_CLK_TCK"))
	return (int(v[11]) / tck, int(v[12]) / tck)


def children(pid):
	try:
		with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
			return [int(x) for x in f.read().split()]
	except OSError:
		return []


def stop(proc, grace=10.0):
	if proc.poll() is None:
		proc.send_signal(signal.SIGTERM)
		try:
			proc.wait(grace)
		except subprocess.TimeoutExpired:
			proc.kill()
			proc.wait()


def run(argv, **kw):
	return subprocess.run(argv, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
			      text=True, **kw)


def machine():
	model = ""
	with open("/proc/cpuinfo") as f:
		for line in f:
			if line.startswith("model name"):
				model = line.split(":", 1)[1].strip()
				break
	mem = 0
	with open("/proc/meminfo") as f:
		for line in f:
			if line.startswith("MemTotal:"):
				mem = int(line.split()[1]) // 1024
	return {"nproc": os.cpu_count(), "cpu": model, "mem_mb": mem,
		"kernel": os.uname().release, "date": time.strftime("%Y-%m-%d"),
		"load": "%.1f" % os.getloadavg()[0]}


def version(argv):
	try:
		p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
				   timeout=10)
		return p.stdout.strip().splitlines()[0] if p.stdout.strip() else ""
	except (OSError, subprocess.SubprocessError):
		return ""
