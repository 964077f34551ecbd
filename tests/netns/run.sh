#!/usr/bin/env bash
# tests/netns/run.sh [TEST...]: run every netns integration test (or the
# named ones), each with a time limit, and print "N passed, N failed".
# Needs root. E6_BUILDDIR says where the binaries are; E6_NETNS_JOBS how
# many tests run at once (default 1). Every test builds its own namespaces
# under its own id, so they do not meet; results print in test order.
set -u
here=$(cd "$(dirname "$0")" && pwd)
limit=${E6_TEST_TIMEOUT:-180}
jobs=${E6_NETNS_JOBS:-1}
if [ "$(id -u)" -ne 0 ]; then
    echo "netns tests need root" >&2
    exit 1
fi
if [ $# -gt 0 ]; then
    tests=("$@")
else
    mapfile -t tests < <(ls "$here"/t_*.sh | sort)
fi
results=$(mktemp -d /tmp/e6-run.XXXXXX)
trap 'rm -rf "$results"' EXIT

# run_one INDEX TEST: output in $results/INDEX.out, "rc seconds" in INDEX.rc
run_one() {
    local start rc
    start=$(date +%s)
    timeout --kill-after=10 "$limit" bash "$2" >"$results/$1.out" 2>&1
    rc=$?
    echo "$rc $(($(date +%s) - start))" >"$results/$1.rc"
}

passed=0
failed=0
failed_names=()
shown=0
# print, in order, every finished result not printed yet
report() {
    local name rc secs
    while [ $shown -lt ${#tests[@]} ] && [ -f "$results/$shown.rc" ]; do
        name=$(basename "${tests[$shown]}" .sh)
        read -r rc secs <"$results/$shown.rc"
        if [ "$rc" -eq 0 ]; then
            passed=$((passed + 1))
            echo "PASS $name (${secs}s)"
        else
            failed=$((failed + 1))
            failed_names+=("$name")
            echo "FAIL $name (${secs}s)"
            sed 's/^/    /' "$results/$shown.out"
        fi
        shown=$((shown + 1))
    done
}

running=0
for i in "${!tests[@]}"; do
    t=${tests[$i]}
    [ -f "$t" ] || t="$here/$t"
    if [ "$running" -ge "$jobs" ]; then
        wait -n
        running=$((running - 1))
        report
    fi
    run_one "$i" "$t" &
    running=$((running + 1))
done
wait
report
[ $failed -eq 0 ] || echo "failed: ${failed_names[*]}"
echo "netns: $passed passed, $failed failed"
[ $failed -eq 0 ]
