#!/usr/bin/env python3
"""The structural rules `make lint` holds besides clang-format (docs/architecture.md, "Layout"):

- includes point one way: cmd/ -> webhook/ -> internal/; internal/ includes neither webhook/
  nor cmd/, webhook/ never cmd/;
- no C file or header over 800 lines;
- no function over 120 lines, counted from its opening `{` at column 0 to its closing `}` at
  column 0 (both lines included).

Prints one line per violation (file:line: rule) and exits 1 if there is any."""
import glob
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAYERS = {"internal": 0, "webhook": 1, "cmd": 2}
INCLUDE = re.compile(r'^\s*#\s*include\s+"(\w+)/')
MAX_FILE_LINES = 800
MAX_FUNCTION_LINES = 120
SIGNATURE = re.compile(r"(\w+)\s*\(")



def sources():
	for d in LAYERS:
		for f in sorted(glob.glob(os.path.join(ROOT, d, "*.[ch]"))):
			yield d, f


def functions(lines):
	"""(name, first line, line count) of each function: a `{` at column 0 up to the next `}` at
	column 0. The name is the identifier before the first `(` of the signature, whose first
	line is the closest line above the `{` that starts at column 0."""
	start = None
	for n, line in enumerate(lines):
		if line.startswith("{"):
			start = n
		elif line.startswith("}") and start is not None:
			sig = start - 1
			while sig > 0 and (not lines[sig] or lines[sig][0].isspace()):
				sig -= 1
			m = SIGNATURE.search(lines[sig]) if sig >= 0 else None
			yield (m.group(1) if m else "?"), start + 1, n - start + 1
			start = None


def main():
	bad = []
	for layer, path in sources():
		rel = os.path.relpath(path, ROOT)
		with open(path, encoding="utf-8") as fh:
			lines = fh.read().split("\n")
		if len(lines) - 1 > MAX_FILE_LINES:
			bad.append("%s: %d lines (at most %d)" % (rel, len(lines) - 1, MAX_FILE_LINES))
		for name, first, count in functions(lines):
			if count > MAX_FUNCTION_LINES:
				bad.append("%s:%d: function %s is %d lines (at most %d)" %
					   (rel, first, name, count, MAX_FUNCTION_LINES))
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
