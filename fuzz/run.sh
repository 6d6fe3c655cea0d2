#!/bin/sh
# Runs each libFuzzer target for SECONDS on its working corpus BUILD/corpus/NAME (seeded from
# the committed fuzz/corpus/NAME, which is only read), then prints one line per target with
# the executions and the seconds. Crash inputs go to BUILD/artifacts/NAME-*. Exits 1 when a
# target failed (a crash, a leak, undefined behaviour, a broken property or a time-out).
#
#   sh fuzz/run.sh BUILD SECONDS NAME...
#   FUZZ_MERGE=1 sh fuzz/run.sh ...   afterwards, adds the inputs that bring new coverage to
#                                     fuzz/corpus/NAME (libFuzzer -merge=1), to be committed
#   FUZZ_JOBS=2 ...                   runs that many targets at a time
set -u
build=$1 seconds=$2
shift 2
jobs=${FUZZ_JOBS:-1}
mkdir -p "$build/corpus" "$build/artifacts" "$build/logs"

run_one() {
	name=$1
	bin=$build/fuzz/fuzz_$name
	mkdir -p "$build/corpus/$name" "fuzz/corpus/$name"
	"$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$build/artifacts/$name-" \
		"$build/corpus/$name" "fuzz/corpus/$name" >"$build/logs/$name.log" 2>&1
	echo $? >"$build/logs/$name.rc"
	if [ "${FUZZ_MERGE:-0}" = 1 ] && [ "$(cat "$build/logs/$name.rc")" = 0 ]; then
		"$bin" -merge=1 "fuzz/corpus/$name" "$build/corpus/$name" \
			>"$build/logs/$name.merge.log" 2>&1
	fi
}

set -- "$@"
running=0
for name in "$@"; do
	echo "fuzz: $name for ${seconds}s"
	run_one "$name" &
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then
		wait
		running=0
	fi
done
wait

failed=0
printf '%-12s %12s %8s %8s  %s\n' target executions seconds corpus result
for name in "$@"; do
	log=$build/logs/$name.log
	rc=$(cat "$build/logs/$name.rc" 2>/dev/null || echo 1)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
	ncorp=$(ls "$build/corpus/$name" | wc -l)
	if [ "$rc" = 0 ]; then result=ok; else
		result="FAILED (exit $rc, see $log)"
		failed=1
		grep -m3 -E 'ERROR: |runtime error|property failed|Test unit written' "$log" | sed 's/^/    /'
	fi
	printf '%-12s %12s %8s %8s  %s\n' "$name" "${execs:-?}" "${secs:-$seconds}" "$ncorp" "$result"
done
exit $failed
