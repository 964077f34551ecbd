#!/usr/bin/env bash
# common/netlink against the running kernel: tests/netns/test_netlink
# unshares its own network namespace and drives links, addresses, routes,
# proxy entries, netconf and an event-socket overrun through e6_nl_*.
# It runs here inside a namespace of the harness too, so that nothing it
# does (or leaves behind on failure) can touch the host's interfaces.
. "$(dirname "$0")/lib.sh"

bin="$E6_BUILDDIR/tests/netns/test_netlink"
if [ ! -x "$bin" ]; then
    fail "$bin not built (make check builds it)"
    e6_done
fi

ns=$(ns_new nl)
log="$E6_WORK/test_netlink.log"
if nsx "$ns" "$bin" >"$log" 2>&1; then
    ok "test_netlink: $(grep -c '^\[       OK \]' "$log") cmocka tests passed"
else
    fail "test_netlink failed:"
    sed 's/^/    | /' "$log" >&2
fi
assert_match "every test ran" '^\[  PASSED  \] [0-9]+ test\(s\)\.$' "$(cat "$log")"
assert_nomatch "no test failed" 'FAILED' "$(cat "$log")"
assert_match "the overrun was provoked and resynchronised" 'overrun: [1-9][0-9]* overruns, [1-9][0-9]* resyncs' "$(cat "$log")"
e6_done
