#!/usr/bin/env bash
# edge6d smoke test: the command line (-t, --version, --help, bad options),
# a start with the example configuration in a fresh namespace, status and
# counters in text and JSON, the privilege drop as the kernel sees it, and
# an orderly SIGTERM that removes the socket and the pid file.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_edge6d.sh"

e6d_prepare
conf=$(e6d_conf smoke)
e6d_example_conf "$conf"
sock=$(e6d_socket "$conf")
pidfile=$E6_RUN/edge6d.pid

# --- command line
out=$("$EDGE6D" -t -c "$conf" 2>&1)
assert_eq "-t accepts the example config (exit 0)" 0 $?
assert_eq "-t says OK" "$conf: configuration OK" "$out"
out=$("$EDGE6D" --test --config "$E6_EXAMPLE_CONF" 2>&1)
assert_eq "--test accepts conf/edge6d.conf itself" 0 $?

broken=$E6_WORK/broken.conf
cp "$conf" "$broken"
printf 'interface {\n' >>"$broken"
out=$("$EDGE6D" -t -c "$broken" 2>&1)
assert_eq "-t rejects a broken config (exit 1)" 1 $?
assert_match "-t error names FILE:LINE" "^$broken:[0-9]+: " "$out"
assert_nomatch "-t does not claim OK on errors" "configuration OK" "$out"
out=$("$EDGE6D" -f -c "$broken" 2>&1)
assert_eq "start with a broken config exits 1" 1 $?
assert_match "start with a broken config prints FILE:LINE" "^$broken:[0-9]+: " "$out"
out=$("$EDGE6D" -t -c "$E6_WORK/does-not-exist.conf" 2>&1)
assert_eq "-t on a missing file exits 1" 1 $?
assert_match "missing file is named" "does-not-exist.conf" "$out"

out=$("$EDGE6D" --version)
assert_eq "--version exits 0" 0 $?
assert_match "--version prints the version" '^edge6d [0-9]+\.[0-9]+' "$out"
out=$("$EDGE6D" --help)
assert_eq "--help exits 0" 0 $?
assert_match "--help shows usage" '^Usage: edge6d' "$out"
assert_match "--help lists --pidfile" '--pidfile' "$out"
out=$("$EDGE6D" --no-such-option 2>&1)
assert_eq "unknown long option exits 2" 2 $?
assert_match "unknown option is named, with a hint" "unknown option --no-such-option.*|--help" "$out"
out=$("$EDGE6D" -x 2>&1)
assert_eq "unknown short option exits 2" 2 $?
out=$("$EDGE6D" -c 2>&1)
assert_eq "-c without argument exits 2" 2 $?
assert_match "-c without argument explains" "needs an argument" "$out"
out=$("$EDGE6D" -t -c "$conf" extra 2>&1)
assert_eq "stray argument exits 2" 2 $?

# --- start in a fresh namespace
ns=$(ns_new smoke)
e6d_start d "$ns" "$conf" -p "$pidfile"
pid=$E6D_PID_d

st=$(e6ctl "$ns" "$conf" status)
assert_eq "edge6ctl status exits 0" 0 $?
assert_match "status names the version and pid" "^edge6d [0-9.]+, pid $pid" "$st"
assert_match "status names the config" "config +$conf" "$st"
assert_match "status shows the run user" "user +$E6_RUN_USER" "$st"
assert_match "status shows the capabilities" "capabilities +cap_net_admin,cap_net_raw$" "$st"
assert_match "status lists interfaces" "^interfaces \([0-9]+\)" "$st"
assert_match "status lists proxies" "^proxies \([0-9]+\)" "$st"
assert_match "status lists tunnels" "^tunnels \([0-9]+\)" "$st"

js=$(e6ctl "$ns" "$conf" --json status)
assert_eq "edge6ctl --json status exits 0" 0 $?
assert_ok "status JSON is valid" valid_json "$js"
assert_eq "status JSON: pid" "$pid" "$(json_get "$js" 'j["daemon"]["pid"]')"
assert_eq "status JSON: config" "$conf" "$(json_get "$js" 'j["daemon"]["config"]')"
assert_eq "status JSON: user" "$E6_RUN_USER" "$(json_get "$js" 'j["daemon"]["user"]')"
assert_eq "status JSON: capabilities" "['cap_net_admin', 'cap_net_raw']" \
    "$(json_get "$js" 'j["daemon"]["capabilities"]')"
assert_eq "status JSON: no reload error" "None" "$(json_get "$js" 'j["daemon"]["last_reload_error"]')"
# every section of the example appears in the status, with its details
n_if=$(grep -Ec '^[[:space:]]*interface[[:space:]]+[A-Za-z0-9_.-]+' "$conf")
n_px=$(grep -Ec '^[[:space:]]*proxy[[:space:]]+[A-Za-z0-9_.-]+' "$conf")
n_tu=$(grep -Ec '^[[:space:]]*tunnel[[:space:]]+[A-Za-z0-9_.-]+' "$conf")
assert_eq "status JSON: every interface section" "$n_if" "$(json_get "$js" 'len(j["daemon"]["interfaces"])')"
assert_eq "status JSON: every proxy section" "$n_px" "$(json_get "$js" 'len(j["daemon"]["proxies"])')"
assert_eq "status JSON: every tunnel section" "$n_tu" "$(json_get "$js" 'len(j["daemon"]["tunnels"])')"
if [ "$n_px" -gt 0 ]; then
    assert_match "status JSON: proxy rules are prefixes" "^\['[0-9a-f:]+/[0-9]+'" \
        "$(json_get "$js" 'j["daemon"]["proxies"][0]["rules"]')"
fi
if [ "$n_tu" -gt 0 ]; then
    assert_match "status JSON: tunnel types" "^(6in4|6bed4)$" "$(json_get "$js" 'j["daemon"]["tunnels"][0]["type"]')"
fi

ct=$(e6ctl "$ns" "$conf" counters)
assert_eq "edge6ctl counters exits 0" 0 $?
for c in reloads_ok reloads_failed control_requests control_bad_requests control_timeouts control_overload; do
    assert_match "counters text has daemon $c" "daemon +$c +[0-9]+" "$ct"
done
cj=$(e6ctl "$ns" "$conf" -j counters)
assert_ok "counters JSON is valid" valid_json "$cj"
assert_eq "counters JSON: reloads_failed" 0 "$(json_get "$cj" 'j["daemon"]["reloads_failed"]')"
requests=$(json_get "$cj" 'j["daemon"]["control_requests"]')
if [ "$requests" -ge 4 ]; then ok "control_requests counts requests ($requests)"; else
    fail "control_requests is $requests, expected >= 4"; fi

help=$(e6ctl "$ns" "$conf" help)
assert_eq "edge6ctl help exits 0" 0 $?
for c in status counters reload help; do assert_match "help lists $c" "^$c" "$help"; done

# --- what the kernel says about the running daemon
status=/proc/$pid/status
assert_eq "CapEff is NET_RAW+NET_ADMIN" 0000000000003000 "$(awk '/^CapEff:/ {print $2}' "$status")"
assert_eq "CapPrm is NET_RAW+NET_ADMIN" 0000000000003000 "$(awk '/^CapPrm:/ {print $2}' "$status")"
assert_eq "CapBnd is NET_RAW+NET_ADMIN" 0000000000003000 "$(awk '/^CapBnd:/ {print $2}' "$status")"
assert_eq "CapInh is empty" 0000000000000000 "$(awk '/^CapInh:/ {print $2}' "$status")"
assert_eq "CapAmb is empty" 0000000000000000 "$(awk '/^CapAmb:/ {print $2}' "$status")"
uid=$(id -u "$E6_RUN_USER")
gid=$(id -g "$E6_RUN_USER")
assert_eq "Uid is $E6_RUN_USER's (real, effective, saved, fs)" "$uid $uid $uid $uid" \
    "$(awk '/^Uid:/ {print $2, $3, $4, $5}' "$status")"
assert_eq "Gid is $E6_RUN_USER's" "$gid $gid $gid $gid" "$(awk '/^Gid:/ {print $2, $3, $4, $5}' "$status")"
assert_eq "supplementary groups: only the primary" "$gid" "$(awk '/^Groups:/ {print $2$3}' "$status")"
assert_eq "no_new_privs is set" 1 "$(awk '/^NoNewPrivs:/ {print $2}' "$status")"
# After setuid the kernel marks the process non-dumpable, which keeps other
# processes of the run user from ptracing it; /proc/PID then belongs to
# root. Only sanitizer builds set it back (LeakSanitizer needs it).
if e6_san_build; then
    assert_eq "sanitizer build: dumpable again for LeakSanitizer" "$E6_RUN_USER" "$(stat -c %U "/proc/$pid/status")"
else
    assert_eq "non-dumpable after the switch (/proc/PID owned by root)" root "$(stat -c %U "/proc/$pid/status")"
fi

out=$(nsx "$ns" setpriv --reuid="$E6_RUN_USER" --regid="$(id -g "$E6_RUN_USER")" --clear-groups \
    "$EDGE6CTL" -s "$sock" status 2>&1)
assert_eq "edge6ctl works for the run user's group" 0 $?
out=$(nsx "$ns" setpriv --reuid=54321 --regid=54321 --clear-groups "$EDGE6CTL" -s "$sock" status 2>&1)
assert_eq "edge6ctl as an outsider: exit 3" 3 $?
assert_match "edge6ctl as an outsider: permission denied, with a hint" \
    "cannot connect to $sock: Permission denied -- run as root or as a member" "$out"
assert_eq "socket mode 0660, group of the run user" "660 $(id -gn "$E6_RUN_USER")" "$(stat -c '%a %G' "$sock")"
assert_eq "pid file holds the daemon's pid" "$pid" "$(cat "$pidfile")"
assert_match "the log says ready" "ready: " "$(cat "$E6_WORK/d.log")"

# --- orderly shutdown
e6d_stop d
assert_fail "control socket removed at exit" test -e "$sock"
assert_fail "pid file removed at exit" test -e "$pidfile"
assert_match "the log says why it stopped" "received SIGTERM" "$(cat "$E6_WORK/d.log")"
out=$(e6ctl "$ns" "$conf" status 2>&1)
assert_eq "edge6ctl exits 3 when the daemon is gone" 3 $?
assert_match "edge6ctl says it cannot connect" "cannot connect to $sock: .* -- is edge6d running\?" "$out"

e6_done
