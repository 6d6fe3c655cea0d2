#!/bin/sh
# Installs the benchmark tools that are missing (Debian packages): wrk, webhook (adnanh's),
# hyperfine, gnuplot (gnuplot-nox: PNG output without X), valgrind. Runs apt-get only when
# something is missing.
set -u
missing=""
need() { command -v "$1" >/dev/null 2>&1 || missing="$missing $2"; }
need wrk wrk
need webhook webhook
need hyperfine hyperfine
need gnuplot gnuplot-nox
need valgrind valgrind
need sqlite3 sqlite3
[ -z "$missing" ] && exit 0
echo "bench: installing$missing"
SUDO=""
if [ "$(id -u)" != 0 ]; then
	if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
		echo "bench: missing packages:$missing (run as root or install them)" >&2; exit 1
	fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq || exit 1
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
