"""A stand-in for the parts of Gitea's REST API that healhook uses, on 127.0.0.1.

    with GiteaMock(token="t0k", routes=GiteaMock.fixture_routes()) as g:
        ... point healhook at g.url ...
        g.requests        # every request: Request(method, path, query, headers, body)
        g.comments        # bodies of POSTed PR comments, g.statuses: POSTed commit statuses

Routes served (answers are compact JSON plus a newline, like Gitea):
  GET  /api/v1/user                                              the bot user (name `user`)
  GET  /api/v1/repos/{o}/{r}/pulls/{n}/reviews                   canned, else []       (`reviews`)
  GET  /api/v1/repos/{o}/{r}/pulls/{n}/reviews/{id}/comments     canned, else 404      (`review_comments`)
  POST /api/v1/repos/{o}/{r}/issues/{n}/comments                 201 + comment object  (`post_comment`)
  POST /api/v1/repos/{o}/{r}/statuses/{sha}                      201, field `status`   (`post_status`)
  GET  /api/v1/repos/{o}/{r}/commits/{ref}/status                combined status       (`combined_status`)
                                                                 (latest per context, paged, state as Gitea's combine())
Canned answers: `routes` maps "GET /api/v1/..." (exact path) to bytes/str (sent as is), a
JSON-able object, a (status, body) pair, or a callable(request) -> (status, body).
Every request is first checked against Gitea's own API description (tests/lib/gitea_openapi.json,
a subset of Gitea's swagger spec, validated by openapi_check.py): a path or method Gitea does not
have → 404, a bad parameter, an unknown or mistyped field, a missing required one → 422, as a
validating server answers. Each refusal is kept in `violations`; stop() raises AssertionError
when there are any (strict=True, the default), so a wrong call by healhook fails its test.
validate=False turns the check off (the mock as a plain echo server).
Every route needs `Authorization: token <token>` (else 401, as Gitea). `delays` and `fail`
take a route name above or an exact "METHOD /path": delays={"post_comment": 2.5} sleeps before
answering; fail={"reviews": 500} answers that status always, fail={"reviews": (503, 2)} only
the first 2 times.
"""
import json
import os
import re
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

try:
	from . import harness
	from .openapi_check import Spec
except ImportError:  # run as a plain module
	import harness
	from openapi_check import Spec

SPEC_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gitea_openapi.json")
_spec = None


def gitea_spec():
	"""The Gitea API subset (loaded once)."""
	global _spec
	if _spec is None:
		_spec = Spec.load(SPEC_PATH)
	return _spec

STATES = ("pending", "success", "error", "failure", "warning")
DEFAULT_PAGING_NUM, MAX_RESPONSE_ITEMS = 30, 50  # Gitea's [api] defaults for page sizes


def combine(states):
	"""Gitea's combined state of the latest states of a commit's contexts (CalcCommitStatus →
	CommitStatusStates.Combine() in modules/commitstatus/commit_status.go, as changed by
	go-gitea/gitea#37048): failure if any is error, failure or warning; success if every one
	is success (or skipped); else pending; "" for none."""
	states = list(states)
	if not states:
		return ""
	if any(st in ("error", "failure", "warning") for st in states):
		return "failure"
	if all(st in ("success", "skipped") for st in states):
		return "success"
	return "pending"


class Request:
	def __init__(self, method, path, query, headers, body):
		self.method, self.path, self.query, self.headers, self.body = (method, path, query,
									    headers, body)

	def json(self):
		return json.loads(self.body.decode("utf-8"))

	def header(self, name):
		return harness.header(self.headers, name)

	def __repr__(self):
		return "Request(%s %s)" % (self.method, self.path)


def _compact(obj):
	return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"


class GiteaMock:
	def __init__(self, token="test-token", routes=None, user="healhook-bot", delays=None,
		     fail=None, combined=None, base_url=None, validate=True, strict=True):
		self.spec = gitea_spec() if validate else None
		self.strict = strict
		self.violations = []  # (Request, status, why): calls Gitea's spec refuses
		self.token = token
		self.routes = dict(routes or {})
		self.user_login = user
		self.delays = dict(delays or {})
		self.fail = dict(fail or {})
		self.combined = dict(combined or {})  # sha -> forced combined state
		self.max_items = MAX_RESPONSE_ITEMS   # [api] MAX_RESPONSE_ITEMS: the largest page
		self.requests = []
		self.comments = []   # (owner/repo, index, body)
		self.statuses = []   # (owner/repo, sha, {state, target_url, description, context})
		self._lock = threading.Lock()
		self._fail_count = {}
		self._next_id = 9000
		self.base_url = base_url
		self.server = None
		self.thread = None

	# ---- fixtures ----
	@staticmethod
	def fixture_routes(repo="acme/shop-api", until=None):
		"""Canned answers from fixtures/gitea/api (pulls_N_reviews[_ID_comments].json).
		until=ID keeps only the reviews with id <= ID in the list (the state of the PR when
		an earlier review was submitted, e.g. until=498 for review_rejected_body)."""
		r = _routes_from_dir(harness.FIXTURE_API, repo,
				     r"pulls_(\d+)_reviews(?:_(\d+)_comments)?\.json$")
		if until is not None:
			for k in list(r):
				if k.endswith("/reviews"):
					r[k] = _compact([x for x in json.loads(r[k]) if x["id"] <= until])
		return r

	@staticmethod
	def sample_routes():
		"""Canned answers of the shared samples (northwind/billing-svc PR 42, review 231)."""
		d = harness.SHARED_SAMPLES
		r = {}
		with open(os.path.join(d, "reviews_api.json"), "rb") as f:
			r["GET /api/v1/repos/northwind/billing-svc/pulls/42/reviews"] = f.read()
		with open(os.path.join(d, "review_comments_api.json"), "rb") as f:
			r["GET /api/v1/repos/northwind/billing-svc/pulls/42/reviews/231/comments"] = f.read()
		return r

	# ---- life cycle ----
	def start(self):
		mock = self

		class Handler(_Handler):
			pass
		Handler.mock = mock
		self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
		self.server.daemon_threads = True
		self.port = self.server.server_address[1]
		self.url = "http://127.0.0.1:%d" % self.port
		if not self.base_url:
			self.base_url = self.url
		self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
		self.thread.start()
		return self

	def stop(self):
		if self.server:
			self.server.shutdown()
			self.server.server_close()
			self.server = None
		if self.strict and self.violations:
			bad, self.violations = self.violations, []
			raise AssertionError("requests Gitea's API refuses:\n" + "\n".join(
				"  %s %s%s -> %d %s" % (r.method, r.path, "?" + r.query if r.query else "",
						       st, why) for r, st, why in bad))

	def __enter__(self):
		return self.start()

	def __exit__(self, *exc):
		self.stop()

	# ---- helpers for tests ----
	def requests_to(self, method=None, pattern=None):
		"""Recorded requests filtered by method and a regex searched in the path."""
		with self._lock:
			return [r for r in self.requests if (method is None or r.method == method)
				and (pattern is None or re.search(pattern, r.path))]

	def bot_user(self):
		return _user(self.user_login, 9, self.base_url)

	def _new_id(self):
		with self._lock:
			self._next_id += 1
			return self._next_id

	# ---- dispatch ----
	def handle(self, req):
		"""-> (status, body bytes). Runs in the server thread."""
		key = req.method + " " + req.path
		op = None
		if self.spec and req.path.startswith("/api/v1/"):
			op, err = self.spec.match(req.method, req.path)
			if err:
				return self._refuse(req, *err)
		name, fn = self._route(req)
		for k in (key, name):
			if k in self.delays:
				time.sleep(self.delays[k])
				break
		for k in (key, name):
			if k in self.fail:
				f = self.fail[k]
				status, times = (f, None) if isinstance(f, int) else f
				with self._lock:
					n = self._fail_count.get(k, 0)
					self._fail_count[k] = n + 1
				if times is None or n < times:
					return status, _compact({"message": "injected failure", "url": self.base_url + "/api/swagger"})
				break
		if not req.path.startswith("/api/v1/"):
			return 404, b"404 page not found\n"
		auth = req.header("Authorization") or ""
		if auth != "token " + self.token:
			return 401, _compact({"message": "user does not exist [uid: 0, name: ]",
					      "url": self.base_url + "/api/swagger"})
		if op is not None:
			err = self.spec.validate(op, req.query, req.headers, req.body)
			if err:
				return self._refuse(req, *err)
		if key in self.routes:
			return _answer(self.routes[key], req)
		if fn is None:
			return 404, _compact({"errors": [], "message": "not found",
					      "url": self.base_url + "/api/swagger"})
		return fn(req)

	def _refuse(self, req, status, why):
		with self._lock:
			self.violations.append((req, status, why))
		if status == 404:
			return 404, _compact({"errors": [], "message": "not found",
					      "url": self.base_url + "/api/swagger"})
		return status, _compact({"message": why, "url": self.base_url + "/api/swagger"})

	def _route(self, req):
		m, p = req.method, req.path
		table = [
			("GET", r"/api/v1/user", "user", self._user),
			("GET", r"/api/v1/repos/[^/]+/[^/]+/pulls/\d+/reviews", "reviews",
			 lambda r: (200, b"[]\n")),
			("GET", r"/api/v1/repos/[^/]+/[^/]+/pulls/\d+/reviews/\d+/comments",
			 "review_comments", None),
			("POST", r"/api/v1/repos/([^/]+/[^/]+)/issues/(\d+)/comments", "post_comment",
			 self._post_comment),
			("POST", r"/api/v1/repos/([^/]+/[^/]+)/statuses/([^/]+)", "post_status",
			 self._post_status),
			("GET", r"/api/v1/repos/([^/]+/[^/]+)/commits/([^/]+)/status", "combined_status",
			 self._combined),
		]
		for method, rx, name, fn in table:
			if m == method and re.fullmatch(rx, p):
				return name, fn
		return None, None

	def _user(self, req):
		return 200, _compact(self.bot_user())

	def _post_comment(self, req):
		m = re.fullmatch(r"/api/v1/repos/([^/]+/[^/]+)/issues/(\d+)/comments", req.path)
		try:
			body = req.json()["body"]
			if not isinstance(body, str) or body == "":
				raise ValueError
		except (ValueError, KeyError, TypeError):
			return 422, _compact({"message": "[Body]: Required", "url": self.base_url + "/api/swagger"})
		repo, index = m.group(1), int(m.group(2))
		cid = self._new_id()
		with self._lock:
			self.comments.append((repo, index, body))
		page = "%s/%s/pulls/%d" % (self.base_url, repo, index)
		now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
		return 201, _compact({
			"id": cid, "html_url": page + "#issuecomment-%d" % cid, "pull_request_url": page,
			"issue_url": "", "user": self.bot_user(), "original_author": "",
			"original_author_id": 0, "body": body, "assets": [], "created_at": now,
			"updated_at": now})

	def _post_status(self, req):
		m = re.fullmatch(r"/api/v1/repos/([^/]+/[^/]+)/statuses/([^/]+)", req.path)
		try:
			d = req.json()
			state = d["state"]
			if state not in STATES:
				raise ValueError
		except (ValueError, KeyError, TypeError):
			return 422, _compact({"message": "invalid state", "url": self.base_url + "/api/swagger"})
		repo, sha = m.group(1), m.group(2)
		st = {"state": state, "target_url": d.get("target_url", ""),
		      "description": d.get("description", ""), "context": d.get("context", "")}
		sid = self._new_id()
		with self._lock:
			self.statuses.append((repo, sha, st))
		return 201, _compact(self._status_obj(sid, repo, sha, st))

	def _status_obj(self, sid, repo, sha, st):
		now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
		return {"id": sid, "status": st["state"], "target_url": st["target_url"],
			"description": st["description"],
			"url": "%s/api/v1/repos/%s/statuses/%s" % (self.base_url, repo, sha),
			"context": st["context"], "creator": self.bot_user(), "created_at": now,
			"updated_at": now}

	def _combined(self, req):
		"""As routers/api/v1/repo/status.go: the latest status of each context, newest first,
		paged by page/limit (limit defaults to 30, at most max_items), the state combined
		over that page; no status at all (or a page past the end) is an empty object."""
		m = re.fullmatch(r"/api/v1/repos/([^/]+/[^/]+)/commits/([^/]+)/status", req.path)
		repo, sha = m.group(1), m.group(2)
		q = urllib.parse.parse_qs(req.query)
		page, limit = max(_form_int(q, "page"), 1), _form_int(q, "limit")
		limit = DEFAULT_PAGING_NUM if limit <= 0 else min(limit, self.max_items)
		with self._lock:
			latest = {}
			for i, (r, s, st) in enumerate(self.statuses):
				if r == repo and s == sha:
					latest[st["context"]] = (i + 1, st)
		newest = sorted(latest.values(), key=lambda x: -x[0])[(page - 1) * limit:page * limit]
		objs = [self._status_obj(i, repo, sha, st) for i, st in newest]
		if not objs and sha not in self.combined:
			return 200, _compact({"state": "", "sha": "", "total_count": 0, "statuses": None,
					      "repository": None, "commit_url": "", "url": ""})
		state = combine(o["status"] for o in objs)
		if sha in self.combined:
			state = self.combined[sha]
		return 200, _compact({
			"state": state, "sha": sha, "total_count": len(objs), "statuses": objs,
			"repository": None,
			"commit_url": "%s/api/v1/repos/%s/commits/%s" % (self.base_url, repo, sha),
			"url": "%s/api/v1/repos/%s/commits/%s/status" % (self.base_url, repo, sha)})


def _form_int(q, name):
	"""ctx.FormInt: the first value as an integer, 0 when absent or not a number."""
	try:
		return int(q.get(name, ["0"])[0])
	except ValueError:
		return 0


def _answer(v, req):
	if callable(v):
		return _answer(v(req), req)
	if isinstance(v, tuple):
		st, body = v
		return st, _answer(body, req)[1]
	if isinstance(v, bytes):
		return 200, v
	if isinstance(v, str):
		return 200, v.encode()
	return 200, _compact(v)


def _user(login, uid, base):
	return {"id": uid, "login": login, "login_name": "", "source_id": 0, "full_name": login,
		"email": login + "@noreply.localhost", "avatar_url": base + "/avatars/" + login,
		"html_url": base + "/" + login, "language": "", "is_admin": False,
		"last_login": "0001-01-01T00:00:00Z", "created": "2025-09-18T15:00:00Z",
		"restricted": False, "active": True, "prohibit_login": False, "location": "",
		"website": "", "description": "", "visibility": "public", "followers_count": 0,
		"following_count": 0, "starred_repos_count": 0, "username": login}


def _routes_from_dir(d, repo, rx):
	r = {}
	for n in sorted(os.listdir(d)):
		m = re.match(rx, n)
		if not m:
			continue
		path = "/api/v1/repos/%s/pulls/%s/reviews" % (repo, m.group(1))
		if m.group(2):
			path += "/%s/comments" % m.group(2)
		with open(os.path.join(d, n), "rb") as f:
			r["GET " + path] = f.read()
	return r


class _Handler(BaseHTTPRequestHandler):
	mock = None
	protocol_version = "HTTP/1.1"
	server_version = "GiteaMock"

	def log_message(self, *a):
		pass

	def _do(self):
		body = harness.read_request_body(self)
		path, _, query = self.path.partition("?")
		req = Request(self.command, path, query, list(self.headers.items()), body)
		with self.mock._lock:
			self.mock.requests.append(req)
		try:
			status, data = self.mock.handle(req)
		except Exception as e:  # a bug in a test's callable: answer 500, keep serving
			status, data = 500, _compact({"message": "mock error: %r" % e})
		self.send_response(status)
		self.send_header("Content-Type", "application/json;charset=utf-8")
		self.send_header("Content-Length", str(len(data)))
		self.end_headers()
		self.wfile.write(data)

	do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _do
