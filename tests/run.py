#!/usr/bin/env python3
"""Runs every test of healhook and ends with one line: "N passed, N failed".

1. The C unit tests (build/unit-tests), counted from their own summary line.
2. The integration tests, tests/integration/test_*.py (unittest), which drive the real
   binary against real local servers (sshd, git, HTTP on 127.0.0.1).
3. The modules of PG_MODULES (intake, heal, aftercare, status) once more with the store on
   PostgreSQL (HEALHOOK_TEST_DB=postgresql: a PostgreSQL 15 server started by
   tests/lib/postgres.py), and PG_ONLY (several instances on one database), which only run
   that way.

Usage: tests/run.py [--build DIR] [--unit-only] [PATTERN]
PATTERN keeps the integration modules whose name contains it.
"""
import argparse
import os
import re
import subprocess
import sys
import time
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_unit(build):
    exe = os.path.join(build, "unit-tests")
    print("== unit tests", flush=True)
    p = subprocess.run([exe], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = p.stdout
    for line in out.splitlines():
        if line.startswith("not ok") or line.startswith("    "):
            print(line)
    m = re.search(r"^unit: (\d+) passed, (\d+) failed$", out, re.M)
    if not m:
        print(out[-4000:])
        print("unit tests did not report a summary (exit %d)" % p.returncode)
        return 0, 1
    passed, failed = int(m.group(1)), int(m.group(2))
    if p.returncode != 0 and failed == 0:
        failed = 1
    print("unit: %d passed, %d failed" % (passed, failed), flush=True)
    return passed, failed


class CountingResult(unittest.TextTestResult):
    pass


PG_MODULES = ("test_intake.py", "test_heal.py", "test_aftercare.py", "test_status.py")
PG_ONLY = ("test_instances.py",)


def run_integration(build, pattern, postgres=False):
    os.environ["HEALHOOK_BIN"] = os.path.abspath(os.path.join(build, "healhook"))
    os.environ["HEALHOOK_ROOT"] = ROOT
    os.environ["HEALHOOK_BUILD"] = build  # the test tools (BUILD/tools/*) of the same build
    sys.path.insert(0, os.path.join(ROOT, "tests"))
    loader = unittest.TestLoader()
    suite = unittest.TestSuite()
    idir = os.path.join(ROOT, "tests", "integration")
    for name in sorted(os.listdir(idir)):
        if not (name.startswith("test_") and name.endswith(".py")):
            continue
        if pattern and pattern not in name:
            continue
        if (name in PG_ONLY) != postgres and not (postgres and name in PG_MODULES):
            continue
        suite.addTests(loader.discover(idir, pattern=name, top_level_dir=idir))
    if postgres and not suite.countTestCases():
        return 0, 0, 0
    os.environ["HEALHOOK_TEST_DB"] = "postgresql" if postgres else "sqlite"
    print("== integration tests%s" % (" on PostgreSQL" if postgres else ""), flush=True)
    t0 = time.time()
    runner = unittest.TextTestRunner(stream=sys.stdout, verbosity=2, resultclass=CountingResult)
    res = runner.run(suite)
    failed = len(res.failures) + len(res.errors) + len(res.unexpectedSuccesses)
    skipped = len(res.skipped)
    passed = res.testsRun - failed - skipped
    print("integration: %d passed, %d failed, %d skipped (%.1fs)" % (passed, failed, skipped, time.time() - t0), flush=True)
    return passed, failed, skipped


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--unit-only", action="store_true")
    ap.add_argument("pattern", nargs="?")
    a = ap.parse_args()
    build = os.path.join(ROOT, a.build) if not os.path.isabs(a.build) else a.build
    passed, failed = run_unit(build)
    skipped = 0
    if not a.unit_only:
        for pg in (False, True):
            p, f, s = run_integration(build, a.pattern, postgres=pg)
            passed, failed, skipped = passed + p, failed + f, skipped + s
    line = "%d passed, %d failed" % (passed, failed)
    if skipped:
        line += ", %d skipped" % skipped
    print(line)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
