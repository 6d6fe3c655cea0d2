#!/usr/bin/env bash
# make demo: healhook end to end on this machine, in a temporary directory.
#
#   a bare "origin" with a small service that has a bug, a deploy checkout updated by origin's
#   post-receive hook, a /health endpoint that reports the deployed version (and fails when the
#   deployed code says BROKEN), the fix host's work tree, the scripted fixer standing in for
#   Aider, and `healhook serve` on 127.0.0.1 with a generated secret.
#
# 1. a signed review delivery with a NameError finding → fix → push → deploy → healthy → healed
# 2. a second delivery whose fix breaks health → automatic revert
# Everything runs on 127.0.0.1; all processes are stopped and the directory removed at the end.
set -euo pipefail
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
T=$(mktemp -d /tmp/healhook-demo.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
export GIT_AUTHOR_NAME=demo GIT_AUTHOR_EMAIL=demo@localhost GIT_COMMITTER_NAME=demo \
	GIT_COMMITTER_EMAIL=demo@localhost GIT_CONFIG_NOSYSTEM=1
G() { git -c init.defaultBranch=main -c advice.detachedHead=false "$@"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

say "a local origin with a small service that has a bug"
G init -q --bare "$T/origin.git"
G clone -q "$T/origin.git" "$T/seed" 2>/dev/null
mkdir -p "$T/seed/services"
cat > "$T/seed/services/order_service.py" <<'PY'
"""Order totals for the demo shop."""


def order_total(items):
    total = 0
    for price, qty in items:
        total += price * qty
    return totl  # BUG: return total
PY
G -C "$T/seed" add -A && G -C "$T/seed" commit -qm "order service" && G -C "$T/seed" push -q origin main
G clone -q "$T/origin.git" "$T/deploy"      # what is "deployed"
G clone -q "$T/origin.git" "$T/fixhost"     # the fix host's work tree
cat > "$T/origin.git/hooks/post-receive" <<HOOK
#!/bin/sh
# deploy main on every push
unset GIT_DIR
git -C "$T/deploy" pull -q --ff-only origin main >/dev/null 2>&1
HOOK
chmod +x "$T/origin.git/hooks/post-receive"
sed -n '1,8p' "$T/seed/services/order_service.py" | sed 's/^/    /'

say "a health endpoint for the deployed service"
HP=$(free_port)
python3 "$ROOT/tests/lib/health_server.py" --port "$HP" \
	--status-file "$T/deploy/services/order_service.py" >"$T/health.log" 2>&1 &
PIDS+=($!)

say "healhook serve on 127.0.0.1 with a generated secret and the scripted fixer"
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$T/secret"
SP=$(free_port)
cat >"$T/healhook.conf" <<CONF
[server]
	listen = 127.0.0.1:$SP
	secret-file = $T/secret
[state]
	dir = $T/state
[fixer]
	command = $ROOT/tests/lib/fake-aider --model {model} --message-file {prompt} --yes-always --no-git --chat-history-file /dev/null {file}
	timeout = 30
[repo "acme/shop-api"]
	host = $T/fixhost
	target = default-branch
	reviewers = bob
	health-url = http://127.0.0.1:$HP/health
	health-version-field = version
	health-delay = 0
	health-interval = 1
	health-failures = 2
	health-timeout = 20
CONF
sed 's/^/    /' "$T/healhook.conf"
"$BIN" serve --config "$T/healhook.conf" >"$T/serve.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$SP/healthz" >/dev/null && break; sleep 0.1; done
curl -fsS "http://127.0.0.1:$SP/healthz"; echo

deliver() { # NAME DELIVERY-ID REVIEW-TEXT
	python3 - "$ROOT" "$T/$1.json" "$2" "$3" <<'PY'
import importlib.util, sys
spec = importlib.util.spec_from_file_location("mf", sys.argv[1] + "/fixtures/make_fixtures.py")
mf = importlib.util.module_from_spec(spec); spec.loader.exec_module(mf)
body = mf.marshal_indent(mf.review_payload("bob", "pull_request_review_rejected", sys.argv[4]))
open(sys.argv[2], "wb").write(body)
PY
	"$BIN" sign --secret-file "$T/secret" <"$T/$1.json" >"$T/$1.sig"
	echo "    review by bob: $3"
	curl -sS -X POST "http://127.0.0.1:$SP/hooks/gitea" -H "Content-Type: application/json" \
		-H "X-Gitea-Event: pull_request_rejected" -H "X-Gitea-Event-Type: pull_request_review_rejected" \
		-H "X-Gitea-Delivery: $2" -H @"$T/$1.sig" --data-binary @"$T/$1.json"
	echo
}

wait_job() { # JOB-ID: prints the final state
	for _ in $(seq 300); do
		s=$("$BIN" history --config "$T/healhook.conf" --json --limit 50 2>/dev/null |
			python3 -c "import json,sys; j=[x for x in json.load(sys.stdin) if x['job']==$1]; print(j[0]['state'] if j else '')")
		case "$s" in healed|reverted|revert-failed|failed|pushed|expired) echo "$s"; return;; esac
		sleep 0.2
	done
	echo timeout
}

say "1. a signed review delivery (services/order_service.py:8: [NameError] ...)"
T0=$(date +%s%N)
deliver d1 "0b1f0000-0000-4000-8000-000000000001" "services/order_service.py:8: [NameError] name 'totl' is not defined"
S1=$(wait_job 1)
echo "    job 1: $S1 after $(( ($(date +%s%N) - T0) / 1000000 )) ms"
say "the stages (serve's log)"
grep -E 'event=(delivery|job\.)' "$T/serve.log" | sed 's/^/    /'
say "the commit on origin (git log -p -1)"
G -C "$T/origin.git" log -p -1 --format='commit %H%nAuthor: %an <%ae>%n%n%B' main | sed 's/^/    /'
say "the health verdict"
echo "    $(curl -fsS "http://127.0.0.1:$HP/health")  (deployed $(G -C "$T/deploy" rev-parse --short HEAD))"

say "2. a delivery whose fix breaks health"
deliver d2 "0b1f0000-0000-4000-8000-000000000002" "services/order_service.py:5: [LogicError] totals ignore discounts [[fixer:break-health]]"
S2=$(wait_job 2)
echo "    job 2: $S2"
say "origin after the automatic revert"
G -C "$T/origin.git" log --format='    %h %s' -4 main
echo "    health now: $(curl -sS "http://127.0.0.1:$HP/health")"

say "healhook history"
"$BIN" history --config "$T/healhook.conf" | sed 's/^/    /'
[ "$S1" = healed ] && [ "$S2" = reverted ] || { echo "demo: unexpected outcome ($S1, $S2)"; tail -20 "$T/serve.log"; exit 1; }
say "done: job 1 healed, job 2 reverted automatically"
