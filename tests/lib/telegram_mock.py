"""A stand-in for the Telegram Bot API (api.telegram.org) on 127.0.0.1.

    with TelegramMock(token="123:abc", rate_limit=1) as t:
        ... telegram-api = t.url ...
        t.messages       # [{"chat_id", "text", "parse_mode", ...}] of accepted sendMessage calls

Methods: /bot<token>/sendMessage (JSON, form or query parameters) and /bot<token>/getMe.
Answers are Telegram's: {"ok":true,"result":...} or {"ok":false,"error_code":N,"description":...}.
A wrong token gets 401 Unauthorized, an unknown method 404, an empty text 400, a chat outside
`chats` (when given) 400 "chat not found". rate_limit=N answers the first N sendMessage calls
with 429 and parameters.retry_after (seconds, `retry_after`). With parse_mode HTML the text is
checked like Telegram does (only known tags, balanced, `&` and `<` escaped): 400 otherwise.
"""
import json
import re
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

try:
	from . import harness
except ImportError:
	import harness

HTML_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
	     "tg-spoiler", "span", "blockquote", "tg-emoji"}


def check_html(text):
	"""None if Telegram would accept text with parse_mode HTML, else the error description."""
	stack = []
	i = 0
	while i < len(text):
		c = text[i]
		if c == "&":
			m = re.match(r"&(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);", text[i:])
			if not m:
				return "Bad Request: can't parse entities: unsupported start tag or entity at byte offset %d" % i
			i += len(m.group(0))
			continue
		if c == "<":
			m = re.match(r"<(/?)([a-zA-Z-]+)((?:\s+[a-z-]+=\"[^\"]*\")*)\s*>", text[i:])
			if not m or m.group(2).lower() not in HTML_TAGS:
				return "Bad Request: can't parse entities: unsupported start tag at byte offset %d" % i
			name = m.group(2).lower()
			if m.group(1):
				if not stack or stack[-1] != name:
					return "Bad Request: can't parse entities: unmatched end tag at byte offset %d" % i
				stack.pop()
			else:
				stack.append(name)
			i += len(m.group(0))
			continue
		i += 1
	if stack:
		return "Bad Request: can't parse entities: can't find end tag corresponding to start tag \"%s\"" % stack[-1]
	return None


class TelegramMock:
	def __init__(self, token="123456:TEST-token", rate_limit=0, retry_after=1, chats=None,
		     strict_html=True, delay=0.0):
		self.token = token
		self.rate_limit = rate_limit
		self.retry_after = retry_after
		self.chats = None if chats is None else {str(c) for c in chats}
		self.strict_html = strict_html
		self.delay = delay
		self.messages = []
		self.calls = []   # every request: (method name or path, params dict, http status)
		self._lock = threading.Lock()
		self._limited = 0
		self._next = 100

	def start(self):
		mock = self

		class Handler(_Handler):
			pass
		Handler.mock = mock
		self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
		self.server.daemon_threads = True
		self.port = self.server.server_address[1]
		self.url = "http://127.0.0.1:%d" % self.port
		threading.Thread(target=self.server.serve_forever, daemon=True).start()
		return self

	def stop(self):
		self.server.shutdown()
		self.server.server_close()

	def __enter__(self):
		return self.start()

	def __exit__(self, *exc):
		self.stop()

	def texts(self):
		with self._lock:
			return [m["text"] for m in self.messages]

	def handle(self, path, params):
		if self.delay:
			time.sleep(self.delay)
		m = re.fullmatch(r"/bot([^/]+)/([A-Za-z]+)", path)
		if not m:
			return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
		if m.group(1) != self.token:
			return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
		method = m.group(2)
		bot = {"id": int(self.token.split(":")[0]) if self.token.split(":")[0].isdigit() else 1,
		       "is_bot": True, "first_name": "healhook", "username": "healhook_test_bot"}
		if method == "getMe":
			return 200, {"ok": True, "result": dict(bot, can_join_groups=True,
								 can_read_all_group_messages=False,
								 supports_inline_queries=False)}
		if method != "sendMessage":
			return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
		with self._lock:
			if self._limited < self.rate_limit:
				self._limited += 1
				return 429, {"ok": False, "error_code": 429,
					     "description": "Too Many Requests: retry after %d" % self.retry_after,
					     "parameters": {"retry_after": self.retry_after}}
		chat = params.get("chat_id")
		text = params.get("text")
		if chat in (None, ""):
			return 400, {"ok": False, "error_code": 400, "description": "Bad Request: chat_id is empty"}
		if not text:
			return 400, {"ok": False, "error_code": 400, "description": "Bad Request: message text is empty"}
		if len(text) > 4096:
			return 400, {"ok": False, "error_code": 400, "description": "Bad Request: message is too long"}
		if self.chats is not None and str(chat) not in self.chats:
			return 400, {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}
		pm = params.get("parse_mode")
		if pm == "HTML" and self.strict_html:
			err = check_html(text)
			if err:
				return 400, {"ok": False, "error_code": 400, "description": err}
		with self._lock:
			self._next += 1
			mid = self._next
			self.messages.append(dict(params))
		try:
			cid = int(chat)
		except (TypeError, ValueError):
			cid = chat
		return 200, {"ok": True, "result": {
			"message_id": mid, "from": bot,
			"chat": {"id": cid, "first_name": "Ops", "type": "private"},
			"date": int(time.time()), "text": text}}


class _Handler(BaseHTTPRequestHandler):
	mock = None
	protocol_version = "HTTP/1.1"

	def log_message(self, *a):
		pass

	def _do(self):
		body = harness.read_request_body(self)
		path, _, query = self.path.partition("?")
		params = {k: v[-1] for k, v in urllib.parse.parse_qs(query).items()}
		ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
		try:
			if ctype == "application/json" and body:
				d = json.loads(body.decode("utf-8"))
				params.update({k: (v if isinstance(v, str) else
						   json.dumps(v) if isinstance(v, (dict, list)) else str(v))
					       if k != "chat_id" else str(v) for k, v in d.items()})
			elif ctype == "application/x-www-form-urlencoded" and body:
				params.update({k: v[-1] for k, v in urllib.parse.parse_qs(
					body.decode("utf-8"), keep_blank_values=True).items()})
			status, obj = self.mock.handle(path, params)
		except ValueError:
			status, obj = 400, {"ok": False, "error_code": 400,
					    "description": "Bad Request: can't parse JSON object"}
		with self.mock._lock:
			self.mock.calls.append((path.rsplit("/", 1)[-1], params, status))
		data = json.dumps(obj).encode()
		self.send_response(status)
		self.send_header("Content-Type", "application/json")
		self.send_header("Content-Length", str(len(data)))
		if status == 429:
			self.send_header("Retry-After", str(self.mock.retry_after))
		self.end_headers()
		self.wfile.write(data)

	do_GET = do_POST = _do
