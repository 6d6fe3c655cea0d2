"""A reduced load run (tests/load/load.py) inside `make test`: 1 000 signed, unique deliveries
at full speed against `serve` with worker.parallel = 0, then 1 000 against a queue of 100.
No timing is asserted; what is asserted: every delivery answered 2xx is in the store, every
503 carries Retry-After, the queue never holds more than server.max-queue, serve stays up and
the store passes its integrity check. The 10 000-delivery figures are in docs/reliability.md."""
import os
import sys
import unittest

from lib import harness as H

sys.path.insert(0, os.path.join(H.ROOT, "tests", "load"))
import load  # noqa: E402


class Load(unittest.TestCase):
	def check(self, f):
		self.assertEqual(f["answered"], f["sent"], f)
		self.assertEqual(f["other"], 0, f)
		self.assertEqual(f["acknowledged_missing"], 0, f)
		self.assertEqual(f["status_503_without_retry_after"], 0, f)
		self.assertEqual(f["acknowledged"] + f["status_503"], f["sent"], f)
		self.assertTrue(f["serve_alive"], f)
		self.assertEqual(f["integrity"], "ok", f)
		self.assertTrue(f["peak_rss_main_kb"] and f["peak_rss_receiver_kb"], f)

	def test_1000_deliveries_all_stored(self):
		f = load.run(count=1000, concurrency=16, max_queue=20000, deadline=120, binary=H.BIN)
		self.check(f)
		self.assertEqual(f["acknowledged"], 1000, f)
		self.assertEqual(f["stored"], 1000, f)
		self.assertEqual(f["jobs"], 1000, f)

	def test_full_queue_503_retry_after(self):
		f = load.run(count=1000, concurrency=16, max_queue=100, deadline=120, binary=H.BIN)
		self.check(f)
		self.assertEqual(f["jobs"], 100, "the queue holds exactly max-queue jobs: %s" % f)
		self.assertEqual(f["acknowledged"], 100, f)
		self.assertEqual(f["status_503"], 900, f)


if __name__ == "__main__":
	unittest.main()
