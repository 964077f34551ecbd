#!/usr/bin/env bash
# tests/netns/run.sh [TEST...]: run every netns integration test (or the
# named ones), each with a time limit, and print "N passed, N failed".
# Needs root. E6_BUILDDIR says where the binaries are.
set -u
here=$(cd "$(dirname "$0")" && pwd)
limit=${E6_TEST_TIMEOUT:-180}
if [ "$(id -u)" -ne 0 ]; then
    echo "netns tests need root" >&2
    exit 1
fi
if [ $# -gt 0 ]; then
    tests=("$@")
else
    mapfile -t tests < <(ls "$here"/t_*.sh | sort)
fi
passed=0
failed=0
failed_names=()
for t in "${tests[@]}"; do
    [ -f "$t" ] || t="$here/$t"
    name=$(basename "$t" .sh)
    start=$(date +%s)
    out=$(mktemp "/tmp/e6-run-$name.XXXXXX")
    if timeout --kill-after=10 "$limit" bash "$t" >"$out" 2>&1; then
        passed=$((passed + 1))
        echo "PASS $name ($(($(date +%s) - start))s)"
    else
        failed=$((failed + 1))
        failed_names+=("$name")
        echo "FAIL $name ($(($(date +%s) - start))s)"
        sed 's/^/    /' "$out"
    fi
    rm -f "$out"
done
[ $failed -eq 0 ] || echo "failed: ${failed_names[*]}"
echo "netns: $passed passed, $failed failed"
[ $failed -eq 0 ]
