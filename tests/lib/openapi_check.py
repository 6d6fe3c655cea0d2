"""A request validator for a Swagger 2.0 document (Gitea's API is described in Swagger 2.0),
as strict as a validating server: used by gitea_mock.py with tests/lib/gitea_openapi.json.

    spec = Spec.load(path)
    op, err = spec.match("POST", "/api/v1/repos/a/b/issues/7/comments")   # err: (404, why)
    err = spec.validate(op, query, headers, body)                        # None or (422, why)

match: the path must be one of the document's paths (under basePath) and the method one of
its operations, else 404. validate: every path parameter of the declared type (an integer is
decimal digits), no query parameter the operation does not declare, declared ones of their
type or enum; no body unless the operation has a body parameter; a body is JSON (Content-Type
application/json) matching the schema: an object has only the properties the schema lists
(an unknown field is refused, as no Gitea client may rely on it being read), the required ones,
each of its type. Errors are (status, message) with the message naming what is wrong.
Python standard library only.
"""
import json
import re
import urllib.parse

INT64 = (-(1 << 63), (1 << 63) - 1)


class Spec:
	def __init__(self, doc):
		self.doc = doc
		self.base = doc.get("basePath", "")
		self.paths = []
		for template, item in doc["paths"].items():
			rx = "^" + re.sub(r"\\\{([A-Za-z0-9_]+)\\\}", r"(?P<\1>[^/]+)",
					 re.escape(template)) + "$"
			self.paths.append((template, re.compile(rx), item))

	@classmethod
	def load(cls, path):
		with open(path, encoding="utf-8") as f:
			return cls(json.load(f))

	def operation_ids(self):
		return sorted(op["operationId"] for _, _, item in self.paths for op in item.values())

	def match(self, method, path):
		"""-> (operation dict with "_template" and "_params" added, None) or (None, (404, why))."""
		if not path.startswith(self.base + "/"):
			return None, (404, "%s is not under %s" % (path, self.base))
		rel = path[len(self.base):]
		for template, rx, item in self.paths:
			m = rx.match(rel)
			if not m:
				continue
			op = item.get(method.lower())
			if op is None:
				return None, (404, "%s %s: Gitea's API has no %s for %s" % (
					method, path, method, template))
			op = dict(op)
			op["_template"] = template
			op["_params"] = m.groupdict()
			return op, None
		return None, (404, "%s %s: no such path in Gitea's API" % (method, path))

	def validate(self, op, query, headers, body):
		params = op.get("parameters", [])
		for p in params:
			if p["in"] == "path":
				v = urllib.parse.unquote(op["_params"].get(p["name"], ""))
				why = self._scalar(p, v)
				if why:
					return 422, "path parameter %s: %s" % (p["name"], why)
		declared = {p["name"]: p for p in params if p["in"] == "query"}
		for k, vs in urllib.parse.parse_qs(query or "", keep_blank_values=True).items():
			if k not in declared:
				return 422, "query parameter %s is not one of %s" % (k, sorted(declared) or "none")
			if len(vs) > 1 and declared[k].get("type") != "array":
				return 422, "query parameter %s given %d times" % (k, len(vs))
			why = self._scalar(declared[k], vs[0])
			if why:
				return 422, "query parameter %s: %s" % (k, why)
		for p in params:
			if p["in"] == "query" and p.get("required") and p["name"] not in (
					urllib.parse.parse_qs(query or "")):
				return 422, "query parameter %s is required" % p["name"]
		bodyp = [p for p in params if p["in"] == "body"]
		if not bodyp:
			if body:
				return 422, "%s takes no request body" % op["operationId"]
			return None
		if not body:
			if bodyp[0].get("required"):
				return 422, "[Body]: Required"
			return None
		ctype = (_header(headers, "Content-Type") or "").split(";")[0].strip().lower()
		if ctype != "application/json":
			return 422, "Content-Type %r: the body of %s is JSON" % (ctype or "(none)",
										  op["operationId"])
		try:
			value = json.loads(body.decode("utf-8"))
		except (UnicodeDecodeError, ValueError) as e:
			return 422, "the body is not JSON: %s" % e
		why = self._schema(bodyp[0]["schema"], value, "body")
		return (422, why) if why else None

	# ---- helpers ----
	def _resolve(self, schema):
		while "$ref" in schema:
			ref = schema["$ref"]
			if not ref.startswith("#/definitions/"):
				raise ValueError("unsupported $ref %s" % ref)
			schema = self.doc["definitions"][ref[len("#/definitions/"):]]
		return schema

	def _scalar(self, p, v):
		t = p.get("type")
		if t == "integer":
			if not re.fullmatch(r"-?[0-9]+", v) or not INT64[0] <= int(v) <= INT64[1]:
				return "%r is not an integer" % v
		elif t == "boolean":
			if v not in ("true", "false", "1", "0"):
				return "%r is not a boolean" % v
		elif t == "string":
			if p.get("in") == "path" and v == "":
				return "empty"
			if p.get("format") == "date-time" and not re.fullmatch(
					r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", v):
				return "%r is not an RFC 3339 date-time" % v
		if "enum" in p and v not in p["enum"]:
			return "%r is not one of %s" % (v, p["enum"])
		return None

	def _schema(self, schema, value, where):
		s = self._resolve(schema)
		t = s.get("type")
		ok = {
			"object": lambda x: isinstance(x, dict),
			"array": lambda x: isinstance(x, list),
			"string": lambda x: isinstance(x, str),
			"integer": lambda x: isinstance(x, int) and not isinstance(x, bool),
			"number": lambda x: isinstance(x, (int, float)) and not isinstance(x, bool),
			"boolean": lambda x: isinstance(x, bool),
		}
		if t and not ok[t](value):
			return "%s: %s is not of type %s" % (where, json.dumps(value)[:60], t)
		if "enum" in s and value not in s["enum"]:
			return "%s: %r is not one of %s" % (where, value, s["enum"])
		if t == "object":
			props = s.get("properties", {})
			extra = s.get("additionalProperties")
			for k, v in value.items():
				if k in props:
					why = self._schema(props[k], v, "%s.%s" % (where, k))
				elif isinstance(extra, dict):
					why = self._schema(extra, v, "%s.%s" % (where, k))
				else:
					why = "%s: unknown field %r (%s has %s)" % (where, k, where,
										    ", ".join(sorted(props)))
				if why:
					return why
			for k in s.get("required", []):
				if k not in value:
					return "%s.%s: Required" % (where, k)
		if t == "array" and "items" in s:
			for i, v in enumerate(value):
				why = self._schema(s["items"], v, "%s[%d]" % (where, i))
				if why:
					return why
		return None


def _header(headers, name):
	for k, v in headers:
		if k.lower() == name.lower():
			return v
	return None
