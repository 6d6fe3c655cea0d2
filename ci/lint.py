#!/usr/bin/env python3
"""The structural rules `make lint` holds besides clang-format (docs/architecture.md, "Layout"):

- includes point one way: cmd/ -> webhook/ -> internal/; internal/ includes neither webhook/
  nor cmd/, webhook/ never cmd/;
- no C file or header over 800 lines.

Prints one line per violation (file:line: rule) and exits 1 if there is any."""
import glob
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAYERS = {"internal": 0, "webhook": 1, "cmd": 2}
INCLUDE = re.compile(r'^\s*#\s*include\s+"(\w+)/')
MAX_FILE_LINES = 800


def sources():
	for d in LAYERS:
		for f in sorted(glob.glob(os.path.join(ROOT, d, "*.[ch]"))):
			yield d, f


def main():
	bad = []
	for layer, path in sources():
		rel = os.path.relpath(path, ROOT)
		with open(path, encoding="utf-8") as fh:
			lines = fh.read().split("\n")
		if len(lines) - 1 > MAX_FILE_LINES:
			bad.append("%s: %d lines (at most %d)" % (rel, len(lines) - 1, MAX_FILE_LINES))
		for n, line in enumerate(lines, 1):
			m = INCLUDE.match(line)
			if m and m.group(1) in LAYERS and LAYERS[m.group(1)] > LAYERS[layer]:
				bad.append("%s:%d: %s/ must not include %s/ (includes point cmd -> webhook "
					   "-> internal)" % (rel, n, layer, m.group(1)))
	for b in bad:
		print(b)
	return 1 if bad else 0


if __name__ == "__main__":
	sys.exit(main())
