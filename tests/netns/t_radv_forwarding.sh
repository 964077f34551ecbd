#!/usr/bin/env bash
# A router that does not forward must not offer itself as the default
# router: with net.ipv6.conf.r0.forwarding=0 edge6d advertises router
# lifetime 0 (the host configures its address but gets no default route)
# and edge6ctl status warns. Turning forwarding on is seen through netlink
# and the next RAs make the host use the router.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_edge6d.sh"
. "$(dirname "$0")/lib_radv.sh"

A=2001:db8:1::/64
e6d_prepare
radv_topo
nsx "$RADV_R" sysctl -qw "net.ipv6.conf.$RADV_RIF.forwarding=0"
conf=$(e6d_conf forwarding)
radv_conf_head "$conf"
cat >>"$conf" <<CONF
interface $RADV_RIF {
    max-interval = 4
    min-interval = 3
    router-lifetime = 1800
    prefix $A {
    }
}
CONF
radv_listen l --ifname "$RADV_HIF" --duration 30
radv_start d "$conf"
wait_for 10 "SLAAC address (prefixes are still advertised)" radv_slaac "$A"
timeout 5 ip netns exec "$RADV_H" rdisc6 -1 -w 2000 "$RADV_HIF" >"$E6_WORK/rdisc6.out" 2>&1
assert_match "forwarding off: router lifetime 0" "Router lifetime +: +0 " "$(cat "$E6_WORK/rdisc6.out")"
sleep 1
assert_ok "forwarding off: no default route on the host" radv_no_defrtr
status=$(e6ctl "$RADV_R" "$conf" status)
assert_match "edge6ctl status warns that forwarding is off" "WARNING.*[Ff]orwarding.*(off|OFF)" "$status"
assert_match "the status names the interface" "$RADV_RIF" "$status"
assert_ok "the daemon logs it" grep -qi "forwarding" "$E6_WORK/d.log"
assert_ok "status JSON still valid" valid_json "$(e6ctl "$RADV_R" "$conf" --json status)"

# --- forwarding on: picked up without a reload
nsx "$RADV_R" sysctl -qw "net.ipv6.conf.$RADV_RIF.forwarding=1"
t0=$(date +%s%N)
wait_for 8 "default route once forwarding is on" radv_defrtr
e6_log "default route $((($(date +%s%N) - t0) / 1000000)) ms after forwarding=1"
assert_eq "default route via the router" "$(radv_router_ll)" "$(radv_defrtr)"
assert_nomatch "the warning is gone from edge6ctl status" "WARNING.*[Ff]orwarding" \
    "$(e6ctl "$RADV_R" "$conf" status)"
assert_match "router lifetime back to 1800" "expires (1[6-7][0-9]{2}|1800)sec" \
    "$(nsx "$RADV_H" ip -6 route show default)"

# --- and off again: the next RAs withdraw the router
nsx "$RADV_R" sysctl -qw "net.ipv6.conf.$RADV_RIF.forwarding=0"
wait_for 8 "default route gone once forwarding is off again" radv_no_defrtr
e6d_stop_sig d TERM
e6_done
