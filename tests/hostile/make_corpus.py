#!/usr/bin/env python3
"""Writes the hostile-input corpus of tests/hostile/: NAME.body + NAME.headers per case and
expectations.json (the expected answer of each). Run it again after changing a case; the
output is committed so that the corpus is reusable without this script (e.g. by a fuzzer
seeding from it, or by `healhook replay`).

Every delivery is signed with the fixtures' secret (fixtures/README.md: fixture-secret-7f3a)
unless the case is about signatures. The repository is acme/shop-api, reviewer bob.

expectations.json: {"secret": ..., "marker": ..., "cases": [{
    "name":     NAME (files NAME.body and NAME.headers),
    "what":     one line,
    "status":   expected HTTP status, or a list of acceptable ones (null = connection dropped),
    "pad":      optional: the body is repeated/padded to this many bytes when sent (keeps the
                files small), with "transfer": "chunked" or "content-length",
    "raw_headers": optional: extra header lines sent verbatim (duplicates, oversized, many),
    "content_length": optional: the Content-Length value sent, "{n}" standing for the body's
                length and "{x}" for it in hex (malformed values),
    "no_host":  optional: the request has no Host header,
    "accepted": files that must be accepted as jobs (202 only),
    "rejected": [[file, reason], ...] findings that must be rejected (202 only),
    "jobs":     {file: [final state, reason or null]} after the worker ran them,
    "error":    optional substring of the error answer}]}
Nothing of the hostile text may ever execute: the marker files (marker, and `pwned` in the
host's work tree or any scratch directory) must never appear.
"""
import json
import os
import sys
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "fixtures"))
import make_fixtures as mf  # noqa: E402

SECRET = "fixture-secret-7f3a"
MARKER = "/tmp/healhook-hostile-pwned"
MSG = "name 'totl' is not defined"


def did(name):
	return str(uuid.uuid5(uuid.NAMESPACE_URL, "healhook-hostile/" + name))


def finding(name):
	"""A valid finding line unique to a case (its own fingerprint: never a duplicate)."""
	return "services/misc_service.py:3: [NameError] %s (%s)" % (MSG, name)


def comment(name, text, comment_id):
	"""A signed PR comment by bob holding text."""
	payload = mf.comment_payload("bob", text, comment_id, "2026-04-15T12:00:00Z")
	return mf.delivery(payload, "issue_comment", "pull_request_comment", did(name), secret=SECRET)


def review(name, body_bytes, event_type="pull_request_review_rejected"):
	"""Raw body bytes signed as a review delivery."""
	return mf.headers("pull_request_review", event_type, body_bytes, did(name), SECRET)


def hdr_set(hdrs, name, value):
	out = [(k, v) for k, v in hdrs if k.lower() != name.lower()]
	if value is not None:
		out.append((name, value))
	return out


CASES = []


def case(name, what, hb, **exp):
	hdrs, body = hb
	CASES.append((name, hdrs, body, dict(what=what, **exp)))


def build():
	n = [9000]

	def cid():
		n[0] += 1
		return n[0]

	valid = comment("valid", finding("valid"), cid())

	# ---- HTTP and envelope ----
	h, b = valid
	case("oversized", "6 MiB announced in Content-Length (max-body 5 MiB): refused before reading",
	     (h, b), status=413, pad=6 << 20, transfer="content-length", error="body too large")
	case("chunked_oversized", "6 MiB chunked, no Content-Length", (h, b), status=[411, 413, None],
	     pad=6 << 20, transfer="chunked")
	case("chunked_small", "a small chunked body (no Content-Length)", (h, b), status=[411])
	nested = b'{"action":"reviewed","x":' + b"[" * 100000 + b"]" * 100000 + b"}"
	case("deeply_nested", "100 000 nested arrays", review("deeply_nested", nested), status=400)
	nested_obj = b'{"action":"reviewed","x":' + b'{"a":' * 20000 + b"1" + b"}" * 20000 + b"}"
	case("deeply_nested_objects", "20 000 nested objects", review("deeply_nested_objects", nested_obj),
	     status=400)
	bad = mf.marshal_indent(mf.comment_payload(
		"bob", "services/misc_service.py:3: [NameError] XBADX", cid(), "2026-04-15T12:00:00Z"))
	bad = bad.replace(b"XBADX", b"\xff\xfe\xc3\x28 \xed\xa0\x80 \xc0\xaf")
	case("invalid_utf8", "invalid UTF-8 (stray bytes, overlong, surrogate) in the comment",
	     mf.headers("issue_comment", "pull_request_comment", bad, did("invalid_utf8"), SECRET),
	     status=400, error="UTF-8")
	nul = mf.marshal_indent(mf.comment_payload(
		"bob", "services/misc_service.py:3: [NameError] XNULX", cid(), "2026-04-15T12:00:00Z"))
	nul_raw = nul.replace(b"XNULX", b"a\x00b")
	case("nul_raw", "a raw NUL byte inside a JSON string",
	     mf.headers("issue_comment", "pull_request_comment", nul_raw, did("nul_raw"), SECRET),
	     status=400)
	nul_esc = nul.replace(b"XNULX", b"before\\u0000after $(touch %s)" % MARKER.encode())
	case("nul_escaped", "an escaped \\u0000 in the comment: the text ends there, nothing runs",
	     mf.headers("issue_comment", "pull_request_comment", nul_esc, did("nul_escaped"), SECRET),
	     status=[202, 400])
	h, b = comment("dup_sig", finding("dup_sig"), cid())
	case("duplicate_signature", "X-Gitea-Signature twice (valid + forged): ambiguous, refused",
	     (h, b), status=400, raw_headers=["X-Gitea-Signature: " + "0" * 64],
	     error="duplicate header")
	h, b = comment("dup_event", finding("dup_event"), cid())
	case("duplicate_event_type", "X-Gitea-Event-Type twice", (h, b), status=400,
	     raw_headers=["X-Gitea-Event-Type: push"], error="duplicate header")
	h, b = comment("dup_delivery", finding("dup_delivery"), cid())
	case("duplicate_delivery_id", "X-Gitea-Delivery twice", (h, b), status=400,
	     raw_headers=["X-Gitea-Delivery: 00000000-0000-0000-0000-000000000000"],
	     error="duplicate header")
	h, b = comment("dup_ct", finding("dup_ct"), cid())
	case("duplicate_content_type", "Content-Type twice (JSON and form)", (h, b), status=400,
	     raw_headers=["Content-Type: application/x-www-form-urlencoded"],
	     error="duplicate header")
	h, b = comment("dup_harmless", finding("dup_harmless"), cid())
	case("duplicate_harmless_header", "an unrelated header twice: accepted", (h, b), status=202,
	     raw_headers=["X-Forwarded-For: 127.0.0.1", "X-Forwarded-For: 127.0.0.2"],
	     accepted=["services/misc_service.py"])
	h, b = comment("big_header", "x", cid())
	case("oversized_header", "one 100 KB header value", (h, b), status=431,
	     raw_headers=["X-Big: " + "a" * 100000])
	case("too_many_headers", "150 header lines", (h, b), status=431,
	     raw_headers=["X-H%d: v" % i for i in range(150)])
	h, b = comment("ctype", "x", cid())
	case("wrong_content_type", "text/plain", (hdr_set(h, "Content-Type", "text/plain"), b),
	     status=415)
	h, b = comment("noctype", finding("noctype"), cid())
	case("no_content_type", "no Content-Type: read as JSON (the signature still decides)",
	     (hdr_set(h, "Content-Type", None), b), status=202, accepted=["services/misc_service.py"])
	h, b = comment("nosig", finding("nosig"), cid())
	for k in ("X-Gitea-Signature", "X-Gogs-Signature", "X-Hub-Signature", "X-Hub-Signature-256"):
		h = hdr_set(h, k, None)
	case("missing_signature", "no signature header at all", (h, b), status=401,
	     error="signature missing")
	h, b = comment("forged", finding("forged"), cid())
	b = b.replace(b"[NameError]", b"[NameErrer]")
	case("forged_body", "body changed after signing", (h, b), status=401, error="signature invalid")
	case("not_json", "signed garbage", review("not_json", b"\x00\x01garbage{{{"), status=400)
	case("json_array", "signed JSON that is not an object", review("json_array", b"[1,2,3]"),
	     status=400)
	case("empty_body", "signed empty body", review("empty_body", b""), status=400)

	# ---- hostile findings (valid, signed deliveries) ----
	text = "\n".join([
		"services/order_service.py:3: [NameError] $(touch %s) `touch %s` ; touch pwned | sh" % (MARKER, MARKER),
		"services/cart_service.py:3: [NameError] '; rm -rf / #\" && touch pwned",
		"services/a;touch pwned.py:1: [NameError] x",
		"services/$(touch pwned).py:1: [NameError] x",
		"../../etc/passwd:1: [NameError] x",
		"services/../../etc/shadow.py:1: [NameError] x",
		"/etc/passwd:1: [NameError] x",
		"/srv/shop/services/order_service.py:1: [NameError] x",
		"services/link_service.py:3: [NameError] %s" % MSG,
	])
	case("hostile_findings", "shell metacharacters, .., absolute paths, a symlinked target",
	     comment("hostile_findings", text, cid()), status=202,
	     accepted=["services/order_service.py", "services/cart_service.py",
		       "services/link_service.py"],
	     rejected=[["../../etc/passwd", "path-not-allowed"],
		       ["services/../../etc/shadow.py", "path-not-allowed"],
		       ["/etc/passwd", "path-not-allowed"],
		       ["/srv/shop/services/order_service.py", "path-not-allowed"]],
	     jobs={"services/order_service.py": ["healed", None],
		   "services/cart_service.py": ["healed", None],
		   "services/link_service.py": ["failed", "preflight-failed"]})
	payload = mf.comment_payload("bob", "XX", cid(), "2026-04-15T12:00:00Z")
	body = mf.marshal_indent(payload).replace(
		b'"XX"', b'"services/evil\\nname.py:1: [NameError] x\\nservices/tax\\r_service.py:3: '
		b'[NameError] y\\nservices/pay\\u0085_service.py:3: [NameError] z"')
	case("newline_in_file_name", "newline, CR and NEL inside file names",
	     mf.headers("issue_comment", "pull_request_comment", body, did("newline_in_file_name"),
			SECRET), status=202, accepted=[],
	     rejected=[["name.py", "path-not-allowed"],
		       ["services/pay\u0085_service.py", "path-not-allowed"]],
	     no_file_with=["\n", "\r"])
	text = "\n".join([
		"services/ship_service.py:3: [NameError] /run touch %s" % MARKER,
		"services/tax_service.py:3: [NameError] !touch %s" % MARKER,
		"routes/api.py:3: [/shell] /help",
		"database/models.py:3: [!touch] !!",
	])
	case("slash_and_bang_prompts", "messages and types starting with / or ! (aider commands)",
	     comment("slash_and_bang_prompts", text, cid()), status=202,
	     accepted=["services/ship_service.py", "services/tax_service.py", "routes/api.py",
		       "database/models.py"],
	     jobs={"services/ship_service.py": ["healed", None],
		   "services/tax_service.py": ["healed", None],
		   "routes/api.py": ["healed", None],
		   "database/models.py": ["healed", None]})
	big = "services/pay_service.py:3: [NameError] " + ("A" * 1000 + " $(touch %s) " % MARKER) * 1000
	case("one_mb_message", "a 1 MB finding message (within max-body): kept to 4000 bytes",
	     comment("one_mb_message", big, cid()), status=202,
	     accepted=["services/pay_service.py"], max_message=4000,
	     jobs={"services/pay_service.py": ["healed", None]})

	# ---- read differently by proxies, Go (Gitea) and healhook (issue 17): 400, nothing queued
	h, b = comment("two_lengths", finding("two_lengths"), cid())
	case("two_content_lengths", "two different Content-Length headers (the rest would be a "
	     "second request)", (h, b), status=400, raw_headers=["Content-Length: 1"],
	     error="conflicting Content-Length")
	h, b = comment("header_nul", finding("header_nul"), cid())
	case("header_value_nul", "a NUL inside a header value (cut there by libmicrohttpd)", (h, b),
	     status=400, raw_headers=["X-Note: before\x00after"], error="NUL")
	h, b = comment("no_host", finding("no_host"), cid())
	case("no_host", "HTTP/1.1 without Host", (h, b), status=400, no_host=True,
	     error="missing Host")
	h, b = comment("jsonfoo", finding("jsonfoo"), cid())
	case("content_type_jsonfoo", "Content-Type application/jsonfoo: the media type must match "
	     "exactly", (hdr_set(h, "Content-Type", "application/jsonfoo"), b), status=415,
	     error="unsupported content type")
	payload = mf.comment_payload("bob", finding("bom"), cid(), "2026-04-15T12:00:00Z")
	case("json_bom", "a UTF-8 byte order mark before the JSON (Go refuses it)",
	     mf.headers("issue_comment", "pull_request_comment", b"\xef\xbb\xbf" +
			mf.marshal_indent(payload), did("json_bom"), SECRET),
	     status=400, error="byte order mark")
	dups = [
		("dup_key_repository", "repository twice at the top: cJSON reads the first, Go the last",
		 lambda j: j[:j.rindex(b"}")] + b',"repository":{"full_name":"evil/other"}}'),
		("dup_key_nested", "repository.full_name twice",
		 lambda j: j.replace(b'"full_name": "acme/shop-api"',
				     b'"full_name": "acme/shop-api", "full_name": "evil/other"', 1)),
		("dup_key_case", "sender and Sender (Go matches names case-insensitively)",
		 lambda j: j[:j.rindex(b"}")] + b',"Sender":{"login":"mallory"}}'),
		("dup_key_kelvin", "\"\u212aey\" beside \"key\" (Go folds the Kelvin sign to k)",
		 lambda j: j[:j.rindex(b"}")] + b',"comment_key":1,"comment_\xe2\x84\xaaey":2}'),
		("dup_key_deep", "a key twice in an object healhook does not read",
		 lambda j: j[:j.rindex(b"}")] + b',"x":[{"y":{"z":1,"z":2}}]}'),
	]
	for name, what, edit in dups:
		payload = mf.comment_payload("bob", finding(name), cid(), "2026-04-15T12:00:00Z")
		body = edit(mf.marshal_indent(payload))
		case(name, what, mf.headers("issue_comment", "pull_request_comment", body, did(name),
					    SECRET), status=400, error="duplicate key")

	# ---- malformed Content-Length: one JSON answer each (issue 17) ----
	for name, value, status in [("cl_plus", "+{n}", 400), ("cl_hex", "0x{x}", 400),
				    ("cl_negative", "-{n}", 400), ("cl_list", "{n}, {n}", 400),
				    ("cl_list_nospace", "{n},{n}", 400), ("cl_blank_after", "{n} ", 400),
				    ("cl_empty", "", 400),
				    ("cl_overflow", "99999999999999999999999", 413)]:
		h, b = comment(name, finding(name), cid())
		case(name, "Content-Length: %r" % value, (h, b), status=status, content_length=value)


def main():
	build()
	cases = []
	for name, hdrs, body, exp in CASES:
		with open(os.path.join(HERE, name + ".body"), "wb") as f:
			f.write(body)
		with open(os.path.join(HERE, name + ".headers"), "wb") as f:
			f.write(mf.headers_text(hdrs))
		cases.append(dict(name=name, **exp))
	with open(os.path.join(HERE, "expectations.json"), "w", encoding="utf-8") as f:
		json.dump({"secret": SECRET, "marker": MARKER, "repo": "acme/shop-api",
			   "cases": cases}, f, indent=1, ensure_ascii=True)
		f.write("\n")
	print("%d cases written to %s" % (len(cases), HERE))


if __name__ == "__main__":
	main()
