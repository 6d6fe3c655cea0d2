"""Benchmark 7, physical limits of this machine (build/tools/limits, tests/tools/limits.c):
SHA-256 MB/s with OpenSSL's EVP with and without the SHA extensions (OPENSSL_ia32cap masks
CPUID leaf 7 EBX bit 29, SHA) and with mbedTLS 2.28, one cJSON parse of the 15 KB review, one
healhook event parse of it, and one 4 KiB write + fdatasync in the directory the benchmarks'
stores live in; and the HTTP floor: wrk (as in the intake benchmark: 2 threads, 8 connections,
the 15 KB signed reviews) against build/tools/nullhttp, libmicrohttpd set up as the receiver
sets it up answering 202 without any work, once closing every connection as healhook does and
once keeping them alive as webhook does. Several runs, medians."""
import json
import os
import shutil
import subprocess
import tempfile

from common import BUILD, H, log, median

TOOL = os.path.join(BUILD, "tools", "limits")
NULLHTTP = os.path.join(BUILD, "tools", "nullhttp")


def http_floor(runs):
	"""requests/s and p99 of nullhttp, closing each connection and keeping them alive."""
	import intake
	d = tempfile.mkdtemp(prefix="hh-bench-floor-")
	out = {}
	try:
		intake.make_bodies(d, 150000)
		for name, extra in (("close", ["--close"]), ("keepalive", [])):
			rs = []
			for _ in range(runs):
				port = H.free_port()
				p = subprocess.Popen([NULLHTTP, str(port)] + extra, stdout=subprocess.PIPE)
				try:
					p.stdout.readline()
					rs.append(intake.wrk("http://127.0.0.1:%d/hooks/gitea" % port, d, 2, 8, 5,
							     202))
				finally:
					p.terminate()
					p.wait()
			out[name] = {"rps": median([r["rps"] for r in rs]),
				     "p99_ms": median([r["p99_us"] for r in rs]) / 1e3}
	finally:
		shutil.rmtree(d, ignore_errors=True)
	return out
FIXTURE = os.path.join(H.FIXTURES, "review_rejected_body.json")


def run(env_extra, d):
	env = dict(os.environ, **env_extra)
	p = subprocess.run([TOOL, FIXTURE, d, "0.5"], stdout=subprocess.PIPE, text=True, env=env,
			   check=True, timeout=120)
	return json.loads(p.stdout)


def bench(args):
	d = tempfile.mkdtemp(prefix="hh-bench-limits-")
	try:
		ni, no = [], []
		for _ in range(args.runs):
			ni.append(run({}, d))
			no.append(run({"OPENSSL_ia32cap": ":~0x20000000"}, d))
		m = lambda rs, k: median([r[k] for r in rs])
		out = {
			"sha256_shani_mb_s": m(ni, "sha256_evp_mb_s"),
			"sha256_no_shani_mb_s": m(no, "sha256_evp_mb_s"),
			"sha256_mbedtls_mb_s": m(ni + no, "sha256_mbedtls_mb_s"),
			"sha256_own_mb_s": m(ni, "sha256_own_best_mb_s"),
			"sha256_own_portable_mb_s": m(ni + no, "sha256_own_portable_mb_s"),
			"sha256_own_shani": bool(ni[0]["sha256_own_uses_shani"]),
			"json_bytes": ni[0]["json_bytes"],
			"cjson_parse_us": m(ni + no, "cjson_parse_us"),
			"event_parse_us": m(ni + no, "event_parse_us"),
			"fsync_ms": m(ni + no, "fsync_ms"),
			"sha_ni": "sha_ni" in open("/proc/cpuinfo").read(),
			"http_floor": http_floor(args.runs),
		}
		log("limits: SHA-256 %.0f MB/s (SHA-NI), %.0f MB/s without, mbedTLS %.0f MB/s; cJSON "
		    "%.0f us; fsync %.3f ms" % (out["sha256_shani_mb_s"], out["sha256_no_shani_mb_s"],
						 out["sha256_mbedtls_mb_s"], out["cjson_parse_us"],
						 out["fsync_ms"]))
		return out
	finally:
		os.rmdir(d) if not os.listdir(d) else None
