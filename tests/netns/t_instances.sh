#!/usr/bin/env bash
# One daemon per socket and per pid file; leftovers of a crash are reused;
# daemon mode (no -f) returns only once the daemon serves, or fails with
# the daemon's own error message.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_edge6d.sh"

e6d_prepare
ns=$(ns_new inst)
conf=$(e6d_conf a)
e6d_example_conf "$conf"
sock=$(e6d_socket "$conf")
pidfile=$E6_RUN/a.pid

# refused NAME ARGS...: run edge6d in the namespace, keep its output in
# $E6_WORK/refused-NAME.log, print it; exit status is edge6d's
refused() {
    local name=$1
    shift
    timeout 10 ip netns exec "$ns" "$EDGE6D" "$@" >"$E6_WORK/refused-$name.log" 2>&1
    local rc=$?
    cat "$E6_WORK/refused-$name.log"
    return $rc
}

e6d_start a "$ns" "$conf" -p "$pidfile"
pid_a=$E6D_PID_a
assert_eq "pid file holds the first daemon's pid" "$pid_a" "$(cat "$pidfile")"

# same config: the socket answers, the second refuses and leaves it alone
out=$(refused r1 -f -c "$conf" -p "$E6_RUN/other.pid" 2>&1)
assert_eq "second instance on the same socket exits 1" 1 $?
assert_match "second instance: another process answers" "another process is answering on it" "$out"
assert_ok "first daemon's socket still there and serving" e6ctl "$ns" "$conf" status
assert_fail "refused instance removed its own pid file" test -e "$E6_RUN/other.pid"

# other socket, same pid file: the lock refuses
conf_b=$(e6d_conf b)
e6d_example_conf "$conf_b" "$E6_RUN/b.sock"
out=$(refused r2 -f -c "$conf_b" -p "$pidfile" 2>&1)
assert_eq "second instance on the same pid file exits 1" 1 $?
assert_match "second instance: pid file locked by the first" "pid file $pidfile is locked by pid $pid_a" "$out"
assert_eq "pid file still holds the first pid" "$pid_a" "$(cat "$pidfile")"
assert_fail "refused instance removed its own socket" test -e "$E6_RUN/b.sock"
assert_ok "first daemon unaffected" e6ctl "$ns" "$conf" status

# a crash leaves socket and pid file behind; the next start reuses both
kill -KILL "$pid_a"
wait "$pid_a" 2>/dev/null
assert_ok "crash left the socket" test -S "$sock"
assert_ok "crash left the pid file" test -f "$pidfile"
e6d_start a2 "$ns" "$conf" -p "$pidfile"
assert_match "stale socket removed" "removed stale control socket $sock" "$(cat "$E6_WORK/a2.log")"
assert_eq "pid file reused" "$E6D_PID_a2" "$(cat "$pidfile")"
e6d_stop a2

# a path that is not a socket is never removed
touch "$E6_RUN/file.sock"
e6d_example_conf "$conf_b" "$E6_RUN/file.sock"
out=$(refused r3 -f -c "$conf_b" 2>&1)
assert_eq "control-socket path is a regular file: exits 1" 1 $?
assert_match "regular file: says so" "exists and is not a socket" "$out"
assert_ok "regular file left alone" test -f "$E6_RUN/file.sock"

# a user that does not exist
e6d_example_conf "$conf_b" "$E6_RUN/b.sock"
conf_set "$conf_b" user e6-no-such-user
out=$(refused r4 -f -c "$conf_b" 2>&1)
assert_eq "missing user: exits 1" 1 $?
assert_match "missing user: named" "user 'e6-no-such-user' does not exist" "$out"
assert_fail "missing user: no socket left" test -e "$E6_RUN/b.sock"

# the refused instances printed their errors on stderr, which is also where
# sanitizers report
san_check "$E6_WORK"/refused-*.log

# --- daemon mode: the command returns once the daemon serves
san_env=(ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$E6_RUN/asan"
    UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$E6_RUN/ubsan")
dpid=$E6_RUN/daemon.pid
out=$(timeout 20 ip netns exec "$ns" env "${san_env[@]}" "$EDGE6D" -c "$conf" -p "$dpid" 2>&1)
assert_eq "daemon mode: parent exits 0 once ready" 0 $?
assert_eq "daemon mode: parent prints nothing" "" "$out"
# no waiting: it must already serve when the parent returns
assert_ok "daemon mode: serves at once" e6ctl "$ns" "$conf" status
dp=$(cat "$dpid" 2>/dev/null)
assert_match "daemon mode: pid file written" '^[0-9]+$' "$dp"
assert_ok "daemon mode: that pid runs" kill -0 "$dp"
js=$(e6ctl "$ns" "$conf" -j status)
assert_eq "daemon mode: status pid = pid file" "$dp" "$(json_get "$js" 'j["daemon"]["pid"]')"
assert_eq "daemon mode: not a session leader" 1 \
    "$(awk '{ print ($6 != $1) }' "/proc/$dp/stat")"
assert_eq "daemon mode: no controlling terminal" 0 "$(awk '{ print $7 }' "/proc/$dp/stat")"
assert_eq "daemon mode: cwd is /" / "$(readlink "/proc/$dp/cwd")"
assert_eq "daemon mode: stdin is /dev/null" /dev/null "$(readlink "/proc/$dp/fd/0")"
assert_eq "daemon mode: CapEff" 0000000000003000 "$(awk '/^CapEff:/ {print $2}' "/proc/$dp/status")"

# a second daemon-mode start fails, and the parent prints the child's error
out=$(timeout 20 ip netns exec "$ns" "$EDGE6D" -c "$conf" -p "$E6_RUN/daemon2.pid" 2>&1)
assert_eq "daemon mode: failing start exits 1" 1 $?
assert_match "daemon mode: child's error printed by the parent" \
    "^edge6d: control socket $sock: another process is answering" "$out"

kill -TERM "$dp"
for _ in $(seq 50); do kill -0 "$dp" 2>/dev/null || break; sleep 0.1; done
assert_fail "daemon mode: exits on SIGTERM" kill -0 "$dp"
assert_fail "daemon mode: pid file removed" test -e "$dpid"
assert_fail "daemon mode: socket removed" test -e "$sock"
san_check "$E6_RUN"/asan.* "$E6_RUN"/ubsan.*

e6_done
