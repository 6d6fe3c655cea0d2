#!/usr/bin/env python3
"""Writes the hand-made seed inputs of fuzz/corpus/NAME/ from fixtures/ and docs/.

Run from the project root: python3 fuzz/seeds.py. Seeds are named seed-*; the other files in
fuzz/corpus/NAME/ were found by the fuzzer and kept with `FUZZ_MERGE=1 make fuzz` (see
docs/reliability.md). Each seed is the input format its target's comment describes.
"""
import glob
import hashlib
import hmac
import json
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(ROOT, "fixtures", "gitea")
SECRET = b"fixture-secret-7f3a"


def put(target, name, data):
    d = os.path.join(ROOT, "fuzz", "corpus", target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def sig(secret, payload):
    return hmac.new(secret, payload, hashlib.sha256).hexdigest().encode()


def main():
    # signature: SECRET\nX-GITEA-SIGNATURE\nX-HUB-SIGNATURE-256\nPAYLOAD
    small = read(os.path.join(FIX, "push.json"))[:600]
    s = sig(SECRET, small)
    put("signature", "gitea-valid", SECRET + b"\n" + s + b"\n\n" + small)
    put("signature", "hub-valid", SECRET + b"\n\nsha256=" + s + b"\n" + small)
    put("signature", "both-wrong", SECRET + b"\n" + s.upper() + b"\nsha256=" + s[:63] + b"g\n" + small)
    put("signature", "hub-sha1", SECRET + b"\n\nsha1=8a48fdb64504028438ab25735708aa06dedbd337\n{}")
    put("signature", "missing", SECRET + b"\n\n\n{}")
    put("signature", "no-secret", b"{}")
    # form: a Gitea form body, and broken escapes
    form = read(os.path.join(FIX, "review_rejected_body_form.body"))
    put("form", "gitea", form[:2000])
    put("form", "escapes", b"a=1&payload=%7B%22x%22%3A+1%7D&payload=2")
    put("form", "bad-escape", b"payload=%7")
    put("form", "empty", b"payload=")
    # headers: the fixtures' header files
    for p in sorted(glob.glob(os.path.join(FIX, "*.headers")))[:5]:
        put("headers", os.path.basename(p), read(p))
    put("headers", "crlf", b"Content-Type: application/json\r\nX-Empty:\r\n\r\n  X-Pad :  v  \r\n")
    put("headers", "no-colon", b"Content-Type application/json\n")
    # event: the fixtures' bodies (small ones) and edge cases
    for name in ("issue_comment_plain.json", "push.json", "review_rejected_body.json",
                 "pr_comment_healhook_block.json"):
        put("event", name, read(os.path.join(FIX, name)))
    put("event", "minimal", b'{"repository":{"full_name":"a/b"},"pull_request":{"number":7,'
        b'"head":{"ref":"x","sha":"abc"}},"comment":{"id":1e3,"body":"b"},"is_pull":true}')
    put("event", "nul-escape", b'{"repository":{"full_name":"a/b\\u0000x"}}')
    put("event", "deep", b"[" * 1100 + b"]" * 1100)
    # findings: review bodies and comments of the fixtures, and the docs' examples
    texts = []
    for p in sorted(glob.glob(os.path.join(FIX, "*.json"))):
        d = json.loads(read(p))
        for t in ((d.get("review") or {}).get("content"), (d.get("comment") or {}).get("body")):
            if t and t not in texts:
                texts.append(t)
    for i, t in enumerate(texts[:6]):
        put("findings", "fixture-%d" % i, t)
    for p in glob.glob(os.path.join(ROOT, "fixtures", "gitea", "api", "*_comments.json")):
        for c in json.loads(read(p)) or []:
            body = c.get("body")
            if body:
                put("findings", "line-%s" % c.get("id"), "%s\n%s" % (c.get("path"), body))
    put("findings", "docs", read(os.path.join(ROOT, "docs", "findings.md"))[:6000])
    put("findings", "fences", "~~~~healhook\n[{\"file\":\"a.py\",\"line\":1,\"type\":\"X\","
        "\"message\":\"m\"}]\n~~~\n~~~~\n1. `a/b.py:3`: [E] x\n* c.py:1:2: ValueError: v\n")
    # config: the documented example and small variants
    conf = read(os.path.join(ROOT, "docs", "healhook.conf.example"))
    put("config", "example", conf)
    put("config", "minimal", '[server]\n\tlisten = 127.0.0.1:8080\n[repo "a/b"]\n\thost = /srv/x\n'
        "\tallow = ^x/.*[.]py$\n\tallow = (a|b)+\n\tmax-diff-lines = 10\n\thealth-timeout = 2m\n"
        "\treviewers = bob\n\treviewers = \"carol\"\n")
    put("config", "bad", '[server]\n\tmax-body = 5q\n[include]\n\tpath = /etc/passwd\n[repo "x"\n')
    put("config", "template", '[fixer]\n\tcommand = aider --message "{prompt}" \\"x\\" {file}\n'
        "\ttimeout = 3h\n")
    # health: FIELD\nBODY
    put("health", "ok", b'{"status":"ok"}')
    put("health", "version", b'version\n{"status":"healthy","version":"0123456789ab"}')
    put("health", "old", b'version\n{"status":"ok","version":"fedcba9876543"}')
    put("health", "bad", b'{"status":"down","checks":[1,2,{"db":false}]}')
    # reqhead: the bytes of a request as the gate peeks them (head, maybe some body)
    hdrs = read(os.path.join(FIX, "review_approved.headers")).replace(b"\n", b"\r\n")
    put("reqhead", "gitea", b"POST /hooks/gitea HTTP/1.1\r\nHost: h\r\n" + hdrs + b"\r\n{}")
    put("reqhead", "lf", b"GET /healthz HTTP/1.0\nX: y\n\n")
    put("reqhead", "partial", b"POST /hooks/gitea HTTP/1.1\r\nHost: h\r\nX-Slow: aaa")
    for name, cl in (("cl_plus", b"+2"), ("cl_hex", b"0x2"), ("cl_list", b"2, 2"),
                     ("cl_big", b"99999999999999999999999"), ("cl_two", b"2\r\nContent-Length: 3")):
        put("reqhead", name, b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: " + cl + b"\r\n\r\n")
    put("reqhead", "nul", b"GET / HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n")
    put("reqhead", "fold", b"GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n")
    put("reqhead", "te", b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n")
    put("reqhead", "v2", b"GET / HTTP/2.0\r\n\r\n")


if __name__ == "__main__":
    main()
