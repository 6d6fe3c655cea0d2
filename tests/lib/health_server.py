#!/usr/bin/env python3
"""A stand-in for the deployed application's health endpoint, on 127.0.0.1.

GET /health answers JSON {"status": ..., "version": ...}. Two modes:
  - set at run time: h.set(status="ok", version="abc", code=200, delay=0.0);
  - watching a file (status_file=...): "ok" (200) unless the file contains the marker (default
    `BROKEN`), then "error" (503); the version is the HEAD commit of the git work tree holding
    the file, when there is one. This lets a demo break the application with a commit.
Every request is counted (h.hits). Runnable as a script:
    tests/lib/health_server.py --port 8099 [--status-file WORKTREE/services/order_service.py]
"""
import argparse
import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class HealthServer:
	def __init__(self, status="ok", version="", code=None, port=0, status_file=None,
		     marker="BROKEN"):
		self.status, self.version, self.code = status, version, code
		self.delay = 0.0
		self.status_file, self.marker = status_file, marker
		self.port = port
		self.hits = 0
		self._lock = threading.Lock()

	def set(self, status=None, version=None, code=None, delay=None):
		"""Changes the answer; code None means 200 for ok/healthy and 503 otherwise."""
		with self._lock:
			if status is not None:
				self.status = status
			if version is not None:
				self.version = version
			self.code = code
			if delay is not None:
				self.delay = delay

	def answer(self):
		"""-> (http status, JSON object)."""
		with self._lock:
			self.hits += 1
			status, version, code, delay = self.status, self.version, self.code, self.delay
		if delay:
			time.sleep(delay)
		if self.status_file:
			try:
				with open(self.status_file, "rb") as f:
					broken = self.marker.encode() in f.read()
				status = "error" if broken else "ok"
			except OSError:
				status = "error"
			version = _git_head(os.path.dirname(os.path.abspath(self.status_file))) or version
		if code is None:
			code = 200 if status in ("ok", "healthy") else 503
		return code, {"status": status, "version": version}

	def start(self):
		mock = self

		class Handler(_Handler):
			pass
		Handler.mock = mock
		self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
		self.server.daemon_threads = True
		self.port = self.server.server_address[1]
		self.url = "http://127.0.0.1:%d" % self.port
		self.health_url = self.url + "/health"
		threading.Thread(target=self.server.serve_forever, daemon=True).start()
		return self

	def stop(self):
		self.server.shutdown()
		self.server.server_close()

	def __enter__(self):
		return self.start()

	def __exit__(self, *exc):
		self.stop()


def _git_head(directory):
	try:
		p = subprocess.run(["git", "-C", directory, "rev-parse", "HEAD"], stdout=subprocess.PIPE,
				   stderr=subprocess.DEVNULL, timeout=5)
	except (OSError, subprocess.TimeoutExpired):
		return ""
	return p.stdout.decode().strip() if p.returncode == 0 else ""


class _Handler(BaseHTTPRequestHandler):
	mock = None
	protocol_version = "HTTP/1.1"

	def log_message(self, *a):
		pass

	def do_GET(self):
		if self.path.split("?")[0] != "/health":
			code, obj = 404, {"detail": "Not Found"}
		else:
			code, obj = self.mock.answer()
		data = json.dumps(obj).encode()
		self.send_response(code)
		self.send_header("Content-Type", "application/json")
		self.send_header("Content-Length", str(len(data)))
		self.end_headers()
		self.wfile.write(data)


def main():
	ap = argparse.ArgumentParser(description="serve /health on 127.0.0.1")
	ap.add_argument("--port", type=int, default=0)
	ap.add_argument("--status", default="ok")
	ap.add_argument("--version", default="")
	ap.add_argument("--status-file", help="unhealthy while this file contains the marker")
	ap.add_argument("--marker", default="BROKEN")
	a = ap.parse_args()
	h = HealthServer(status=a.status, version=a.version, port=a.port, status_file=a.status_file,
			 marker=a.marker).start()
	print("health server on %s/health" % h.url, flush=True)
	try:
		while True:
			time.sleep(3600)
	except KeyboardInterrupt:
		pass
	h.stop()
	return 0


if __name__ == "__main__":
	sys.exit(main())
