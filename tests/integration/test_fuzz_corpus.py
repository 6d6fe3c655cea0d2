"""The saved fuzz corpora, replayed: each fuzz/corpus/NAME/ through BUILD/fuzz-replay-NAME (the
fuzz target fuzz/fuzz_NAME.c linked with fuzz/replay_main.c by the normal compiler, with the
sanitizers when built with SAN=...). A crash, a sanitizer report or a broken property of the
target fails the test; see docs/reliability.md, "Fuzzing"."""
import os
import subprocess
import unittest

from lib import harness as H

CORPUS = os.path.join(H.ROOT, "fuzz", "corpus")
BUILD = os.path.dirname(os.path.abspath(H.BIN))


def targets():
	src = os.path.join(H.ROOT, "fuzz")
	return sorted(n[len("fuzz_"):-2] for n in os.listdir(src)
		      if n.startswith("fuzz_") and n.endswith(".c"))


class FuzzCorpusTest(unittest.TestCase):
	def test_every_target_has_a_corpus(self):
		names = targets()
		self.assertGreaterEqual(len(names), 6)
		for name in names:
			d = os.path.join(CORPUS, name)
			self.assertTrue(os.path.isdir(d) and os.listdir(d), "no corpus for %s" % name)

	def test_replay_corpora(self):
		for name in targets():
			with self.subTest(target=name):
				exe = os.path.join(BUILD, "fuzz-replay-" + name)
				self.assertTrue(os.access(exe, os.X_OK), "%s not built (make test builds it)" % exe)
				d = os.path.join(CORPUS, name)
				files = [f for f in os.listdir(d) if not f.startswith(".")]
				env = dict(os.environ)
				env.setdefault("ASAN_OPTIONS", "detect_leaks=1")
				p = subprocess.run([exe, d], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
						   timeout=600, env=env)
				err = p.stderr.decode(errors="replace")
				self.assertEqual(p.returncode, 0, "%s crashed on its corpus:\n%s" % (name, err[-3000:]))
				self.assertIn("replayed %d inputs" % len(files), p.stdout.decode())
				self.assertNotIn("runtime error", err)

	def test_replay_fails_on_a_missing_path(self):
		# A corpus that cannot be read must not pass as "nothing to replay".
		exe = os.path.join(BUILD, "fuzz-replay-headers")
		p = subprocess.run([exe, os.path.join(CORPUS, "headers", "no-such-file")],
				   stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
		self.assertEqual(p.returncode, 2)


if __name__ == "__main__":
	unittest.main()
