#!/usr/bin/env bash
# edge6d started as an unprivileged user, the way the systemd unit starts it
# (User= with AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN and a bounding
# set of those two): it keeps exactly those two capabilities, clears the
# inheritable and ambient sets and sets no_new_privs. Started with more
# ambient capabilities than it needs, it sheds the rest; started with
# fewer, it warns and runs.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_edge6d.sh"

e6d_prepare
ns=$(ns_new user)
conf=$(e6d_conf u)
e6d_example_conf "$conf"
uid=$(id -u "$E6_RUN_USER")
gid=$(id -g "$E6_RUN_USER")

# as_user CAPS BOUNDING NAME: start edge6d as the run user with CAPS
# inheritable and ambient and the given bounding set, from this shell.
as_user() {
    local caps=$1 bnd=$2 name=$3
    ip netns exec "$ns" setpriv --reuid="$uid" --regid="$gid" --clear-groups \
        --inh-caps="$caps" --ambient-caps="$caps" --bounding-set="$bnd" \
        "$EDGE6D" -f -c "$conf" >"$E6_WORK/$name.log" 2>&1 &
    local pid=$!
    E6_PIDS+=("$pid")
    printf -v "E6D_PID_$name" '%s' "$pid"
    wait_for 10 "edge6d $name control socket" nsx "$ns" "$EDGE6CTL" -s "$(e6d_socket "$conf")" status
}
capline() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$2/status"; }

# --- like the systemd unit
as_user +net_raw,+net_admin -all,+net_raw,+net_admin unit
pid=$E6D_PID_unit
assert_eq "unit-like: CapEff" 0000000000003000 "$(capline CapEff "$pid")"
assert_eq "unit-like: CapPrm" 0000000000003000 "$(capline CapPrm "$pid")"
assert_eq "unit-like: CapBnd" 0000000000003000 "$(capline CapBnd "$pid")"
assert_eq "unit-like: CapInh cleared" 0000000000000000 "$(capline CapInh "$pid")"
assert_eq "unit-like: CapAmb cleared" 0000000000000000 "$(capline CapAmb "$pid")"
assert_eq "unit-like: NoNewPrivs" 1 "$(capline NoNewPrivs "$pid")"
assert_eq "unit-like: Uid" "$uid" "$(capline Uid "$pid")"
js=$(e6ctl "$ns" "$conf" -j status)
assert_eq "unit-like: status user" "$E6_RUN_USER" "$(json_get "$js" 'j["daemon"]["user"]')"
assert_eq "unit-like: status capabilities" "cap_net_admin,cap_net_raw" \
    "$(json_get "$js" '",".join(j["daemon"]["capabilities"])')"
assert_eq "unit-like: socket group is the user's" "660 $(id -gn "$E6_RUN_USER")" \
    "$(stat -c '%a %G' "$(e6d_socket "$conf")")"
assert_nomatch "unit-like: no warnings" "warning:" "$(cat "$E6_WORK/unit.log")"
e6d_stop unit

# --- more ambient capabilities than needed, full bounding set: the extra
# ones go; the bounding set is the service manager's business without
# CAP_SETPCAP, but with it edge6d empties it too
as_user +net_raw,+net_admin,+sys_admin,+setpcap +all extra
pid=$E6D_PID_extra
assert_eq "extra caps: CapEff reduced" 0000000000003000 "$(capline CapEff "$pid")"
assert_eq "extra caps: CapPrm reduced" 0000000000003000 "$(capline CapPrm "$pid")"
assert_eq "extra caps: CapBnd reduced (had CAP_SETPCAP)" 0000000000003000 "$(capline CapBnd "$pid")"
assert_eq "extra caps: CapAmb cleared" 0000000000000000 "$(capline CapAmb "$pid")"
e6d_stop extra

# --- too few: runs, but says what is missing
as_user +net_admin -all,+net_admin few
pid=$E6D_PID_few
assert_eq "too few caps: CapEff has what there was" 0000000000001000 "$(capline CapEff "$pid")"
assert_match "too few caps: warns about cap_net_raw" "warning: cap_net_raw is not permitted" \
    "$(cat "$E6_WORK/few.log")"
e6d_stop few

e6_done
