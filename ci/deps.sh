#!/bin/sh
# Install the Debian packages healhook needs to build and test, but only those that are missing:
# libraries are checked with pkg-config (mbedTLS ships no .pc file, so by header), tools with
# command -v. Runs apt-get only when something is missing.
#
#   sh ci/deps.sh         what `make test` needs
#   sh ci/deps.sh fuzz    what `make fuzz` needs: clang and its libFuzzer runtime (Debian 12:
#                         libclang-rt-14-dev holds libclang_rt.fuzzer), checked by linking one
#   sh ci/deps.sh valgrind  valgrind (fuzz/valgrind-heal.sh)
set -u
mode=${1:-test}
missing=""
need_pkg() { pkg-config --exists "$1" 2>/dev/null || missing="$missing $2"; }
need_cmd() { command -v "$1" >/dev/null 2>&1 || [ -x "$1" ] || missing="$missing $2"; }

command -v pkg-config >/dev/null 2>&1 || missing="$missing pkg-config"
fuzzer_links() {
	t=$(mktemp -d) || return 1
	printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return d && n; }\n' >"$t/f.c"
	clang -fsanitize=fuzzer,address,undefined -o "$t/f" "$t/f.c" >/dev/null 2>&1
	rc=$?
	rm -rf "$t"
	return $rc
}
if [ "$mode" = fuzz ]; then
	if ! command -v clang >/dev/null 2>&1; then
		missing="$missing clang libclang-rt-14-dev"
	elif ! fuzzer_links; then
		missing="$missing libclang-rt-14-dev"
	fi
fi
[ "$mode" = valgrind ] && need_cmd valgrind valgrind

need_pkg libcurl       libcurl4-openssl-dev
need_pkg libgit2       libgit2-dev
need_pkg libssh2       libssh2-1-dev
need_pkg libcjson      libcjson-dev
need_pkg libmicrohttpd libmicrohttpd-dev
need_pkg sqlite3       libsqlite3-dev
need_pkg libpq         libpq-dev
need_pkg libcrypto     libssl-dev
[ -f /usr/include/mbedtls/md.h ] || missing="$missing libmbedtls-dev"
need_cmd cc            gcc
need_cmd make          make
need_cmd git           git
need_cmd curl          curl
need_cmd python3       python3
need_cmd ssh-keygen    openssh-client
need_cmd /usr/sbin/sshd openssh-server
need_cmd sqlite3       sqlite3
need_cmd clang-format  clang-format  # make lint (.ci/run)
# The PostgreSQL back end's tests start Debian's PostgreSQL 15 server (tests/lib/postgres.py).
need_cmd /usr/lib/postgresql/15/bin/initdb postgresql
need_cmd psql          postgresql-client
# the status pages are tested in headless Chromium (tests/integration/test_status.py); a font
# so that its screenshots show text
need_cmd /usr/bin/chromium chromium
[ -d /usr/share/fonts/truetype/dejavu ] || missing="$missing fonts-dejavu-core"
need_cmd promtool      prometheus
need_cmd systemd-analyze systemd

[ -z "$missing" ] && exit 0
echo "deps: installing$missing"
SUDO=""
if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
        echo "deps: missing packages:$missing (run as root or install them)" >&2; exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq || exit 1
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing || exit 1
if [ "$mode" = fuzz ] && ! fuzzer_links; then
	echo "deps: clang cannot link a libFuzzer target (-fsanitize=fuzzer)" >&2
	exit 1
fi
