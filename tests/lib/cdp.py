"""Headless Chromium driven through the DevTools protocol, with the Python standard library only
(a minimal WebSocket client: RFC 6455 text frames, masked from the client, no extensions).

    with Browser(tmpdir) as b:
        page = b.new_page()
        page.navigate("http://127.0.0.1:8081/")
        page.evaluate("document.title")
        page.errors()          # console errors, exceptions and log entries of level error
        page.screenshot(path)  # a PNG of the whole page

Chromium is /usr/bin/chromium (Debian package `chromium`), started with a fresh profile in
tmpdir, on a DevTools port it picks itself (read from DevToolsActivePort), talking only to
127.0.0.1. Every call has a time limit, so a hung browser fails the test instead of hanging it.
"""
import base64
import json
import os
import socket
import struct
import subprocess
import time
import urllib.parse

CHROMIUM = os.environ.get("HEALHOOK_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
	 "--disable-background-networking", "--disable-component-update", "--disable-sync",
	 "--disable-extensions", "--disable-default-apps", "--mute-audio",
	 "--hide-scrollbars", "--remote-debugging-address=127.0.0.1",
	 "--remote-debugging-port=0"]


class WebSocket:
	def __init__(self, url, timeout=30):
		u = urllib.parse.urlparse(url)
		self.sock = socket.create_connection((u.hostname, u.port), timeout=timeout)
		key = base64.b64encode(os.urandom(16)).decode()
		req = ("GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
		       "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
		       % (u.path, u.hostname, u.port, key))
		self.sock.sendall(req.encode())
		head = b""
		while b"\r\n\r\n" not in head:
			chunk = self.sock.recv(4096)
			if not chunk:
				raise IOError("websocket: connection closed during the handshake")
			head += chunk
		head, self.buf = head.split(b"\r\n\r\n", 1)
		if not head.startswith(b"HTTP/1.1 101"):
			raise IOError("websocket: handshake refused: %r" % head[:200])

	def send(self, text):
		data = text.encode()
		n = len(data)
		hdr = bytes([0x81])
		if n < 126:
			hdr += bytes([0x80 | n])
		elif n < 65536:
			hdr += bytes([0x80 | 126]) + struct.pack(">H", n)
		else:
			hdr += bytes([0x80 | 127]) + struct.pack(">Q", n)
		mask = os.urandom(4)
		self.sock.sendall(hdr + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

	def _read(self, n):
		while len(self.buf) < n:
			chunk = self.sock.recv(1 << 16)
			if not chunk:
				raise IOError("websocket: connection closed")
			self.buf += chunk
		out, self.buf = self.buf[:n], self.buf[n:]
		return out

	def recv(self):
		"""The next text message (fragments joined); answers pings."""
		parts = []
		while True:
			b0, b1 = self._read(2)
			op, n = b0 & 0x0F, b1 & 0x7F
			if n == 126:
				n = struct.unpack(">H", self._read(2))[0]
			elif n == 127:
				n = struct.unpack(">Q", self._read(8))[0]
			mask = self._read(4) if b1 & 0x80 else None
			data = self._read(n)
			if mask:
				data = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
			if op == 8:
				raise IOError("websocket: closed by the browser")
			if op == 9:
				self.sock.sendall(bytes([0x8A, 0x80 | len(data)]) + b"\0\0\0\0" + data)
				continue
			if op in (0, 1, 2):
				parts.append(data)
				if b0 & 0x80:
					return b"".join(parts).decode()

	def close(self):
		try:
			self.sock.close()
		except OSError:
			pass


class Page:
	def __init__(self, browser, session):
		self.b, self.session = browser, session
		self.events = []

	def call(self, method, timeout=30, **params):
		return self.b.call(method, params, self.session, timeout)

	def wait_event(self, name, timeout=30):
		end = time.time() + timeout
		while True:
			for i, e in enumerate(self.events):
				if e["method"] == name:
					return self.events.pop(i)
			if time.time() > end:
				raise AssertionError("chromium: no %s within %ss" % (name, timeout))
			self.b.pump(end - time.time())

	def navigate(self, url, timeout=30):
		self.events = [e for e in self.events if e["method"] != "Page.loadEventFired"]
		res = self.call("Page.navigate", url=url)
		if res.get("errorText"):
			raise AssertionError("chromium: cannot load %s: %s" % (url, res["errorText"]))
		self.wait_event("Page.loadEventFired", timeout)
		self.call("Runtime.evaluate", expression="1")  # let pending log events arrive
		return res

	def evaluate(self, expr):
		res = self.call("Runtime.evaluate", expression=expr, returnByValue=True)
		if "exceptionDetails" in res:
			raise AssertionError("chromium: %s threw %s" % (expr, res["exceptionDetails"]))
		return res["result"].get("value")

	def errors(self):
		"""Console errors, uncaught exceptions and log entries of level error, as text."""
		out = []
		for e in self.events:
			p = e.get("params", {})
			if e["method"] == "Runtime.exceptionThrown":
				out.append("exception: %s" % p.get("exceptionDetails", {}).get("text"))
			elif e["method"] == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
				out.append("console.%s: %s" % (p["type"], [a.get("value") for a in p.get("args", [])]))
			elif e["method"] == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
				out.append("log: %s %s" % (p["entry"].get("text"), p["entry"].get("url", "")))
			elif e["method"] == "Page.javascriptDialogOpening":
				out.append("dialog: %s" % p.get("message"))
		return out

	def screenshot(self, path, width=1200):
		self.call("Emulation.setDeviceMetricsOverride", width=width, height=600,
			  deviceScaleFactor=1, mobile=False)
		h = self.evaluate("Math.ceil(document.documentElement.scrollHeight)") or 800
		self.call("Emulation.setDeviceMetricsOverride", width=width, height=min(int(h), 3000),
			  deviceScaleFactor=1, mobile=False)
		data = self.call("Page.captureScreenshot", format="png")["data"]
		with open(path, "wb") as f:
			f.write(base64.b64decode(data))
		return path


class Browser:
	def __init__(self, tmp, timeout=30):
		self.profile = os.path.join(tmp, "chromium-profile")
		os.makedirs(self.profile, exist_ok=True)
		self.log = open(os.path.join(tmp, "chromium.log"), "wb")
		self.proc = subprocess.Popen([CHROMIUM] + FLAGS + ["--user-data-dir=" + self.profile,
								   "about:blank"],
					     stdin=subprocess.DEVNULL, stdout=self.log,
					     stderr=subprocess.STDOUT, start_new_session=True)
		port_file = os.path.join(self.profile, "DevToolsActivePort")
		end = time.time() + timeout
		while True:
			if os.path.exists(port_file):
				with open(port_file) as f:
					lines = f.read().split("\n")
				if len(lines) >= 2 and lines[1]:
					break
			if self.proc.poll() is not None or time.time() > end:
				self.stop()
				raise AssertionError("chromium did not start (see %s)" % self.log.name)
			time.sleep(0.05)
		self.ws = WebSocket("ws://127.0.0.1:%s%s" % (lines[0], lines[1]), timeout=timeout)
		self.next_id = 0
		self.pages = {}

	def pump(self, timeout):
		"""Reads one message and files it: an answer is returned, an event queued."""
		self.ws.sock.settimeout(max(timeout, 0.05))
		msg = json.loads(self.ws.recv())
		if "method" in msg and msg.get("sessionId") in self.pages:
			self.pages[msg["sessionId"]].events.append(msg)
		return msg

	def call(self, method, params=None, session=None, timeout=30):
		self.next_id += 1
		mid = self.next_id
		msg = {"id": mid, "method": method, "params": params or {}}
		if session:
			msg["sessionId"] = session
		self.ws.send(json.dumps(msg))
		end = time.time() + timeout
		while True:
			if time.time() > end:
				raise AssertionError("chromium: no answer to %s within %ss" % (method, timeout))
			m = self.pump(end - time.time())
			if m.get("id") == mid:
				if "error" in m:
					raise AssertionError("chromium: %s failed: %s" % (method, m["error"]))
				return m.get("result", {})

	def new_page(self, headers=None):
		target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
		session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
		page = Page(self, session)
		self.pages[session] = page
		for m in ("Page.enable", "Runtime.enable", "Log.enable", "Network.enable"):
			page.call(m)
		if headers:
			page.call("Network.setExtraHTTPHeaders", headers=headers)
		return page

	def stop(self):
		if getattr(self, "ws", None):
			self.ws.close()
		if self.proc.poll() is None:
			try:
				os.killpg(self.proc.pid, 15)
				self.proc.wait(10)
			except (OSError, subprocess.TimeoutExpired):
				os.killpg(self.proc.pid, 9)
				self.proc.wait(10)
		self.log.close()

	def __enter__(self):
		return self

	def __exit__(self, *exc):
		self.stop()
