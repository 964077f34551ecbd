#!/usr/bin/env bash
# NDP proxy, auto rule: the downstream interface comes from the routing
# table, followed through netlink events (no polling). A target routed via
# lan0 is confirmed there and answered; one whose route leads back out the
# proxied eth0 is not; a reject route is not. Remove the LAN route: new
# targets are no longer answered and the sessions it carried end; put it
# back: answered again within moments.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_edge6d.sh"
. "$(dirname "$0")/lib_ndp.sh"

e6d_prepare
ndp_topo
conf=$(e6d_conf auto)
ndp_conf "$conf" '
    retrans-time = 200
    retrans-limit = 3
    invalid-ttl = 1
    rule 2001:db8:1::/64 {
        method = auto
    }'
vmac=$(ndp_mac "$NDP_VPS" "$NDP_IF")
umac=$(ndp_mac "$NDP_UP" "$NDP_UPIF")
vll=$(ndp_ll "$NDP_VPS" "$NDP_IF")
for a in 2001:db8:1::102 2001:db8:1::103 2001:db8:1::104; do
    nsx "$NDP_LAN" ip -6 addr add "$a/120" dev "$NDP_HOSTIF" nodad
done
ndp_start d "$conf"

wait_for 10 "the upstream pings $NDP_HOST through the proxy (auto)" ndp_ping_ok "$NDP_HOST"
assert_eq "5 of 5 echoes to $NDP_HOST come back" 5/5 "$(ndp_ping "$NDP_HOST" 5)"
assert_match "the upstream caches the VPS's MAC for $NDP_HOST" \
    "^$NDP_HOST lladdr $vmac (router )?(REACHABLE|STALE|DELAY|PROBE)" "$(ndp_up_neigh "$NDP_HOST")"
assert_match "$NDP_HOST: a valid session on lan0" "^(valid|refresh)$" "$(ndp_state "$conf" "$NDP_HOST")"

want="src=$vll dst=$NDP_UPADDR l2dst=$umac hlim=255 R1S1O0 tlla=$vmac csum=True code=0 bad_opts=False"
rb0=$(ndp_counter "$conf" '^ndppd\.route_back$')
nr0=$(ndp_counter "$conf" '^ndppd\.no_route$')
nsx "$NDP_VPS" ip -6 route add unreachable 2001:db8:1::200/120
out=$(ndp_ask "target=2001:db8:1::102,src=$NDP_UPADDR,wait=1" \
    "target=2001:db8:1::1:5,src=$NDP_UPADDR,wait=1" \
    "target=2001:db8:1::205,src=$NDP_UPADDR,wait=1")
assert_eq "a target routed via lan0 and present there: answered" "$want" "$(ndp_one_na "$out" 0 "$NDP_NA_DESC")"
assert_eq "a target routed back out eth0: not answered" 0 "$(ndp_count_nas "$out" 1)"
assert_eq "a target under an unreachable route: not answered" 0 "$(ndp_count_nas "$out" 2)"
rb1=$(ndp_counter "$conf" '^ndppd\.route_back$')
nr1=$(ndp_counter "$conf" '^ndppd\.no_route$')
assert_eq "counter ndppd.route_back +1" 1 "$((rb1 - rb0))"
assert_eq "counter ndppd.no_route +1 (reject route)" 1 "$((nr1 - nr0))"

# --- the LAN route goes: new targets are not answered, its sessions end
nsx "$NDP_VPS" ip -6 route del "$NDP_LANNET" dev "$NDP_LANIF"
not_valid() { [[ "$(ndp_state "$conf" "$1")" =~ ^(none|invalid)$ ]]; }
wait_for 3 "the sessions on lan0 end with the route" not_valid "$NDP_HOST"
assert_match "2001:db8:1::102's session ended too" "^(none|invalid)$" "$(ndp_state "$conf" 2001:db8:1::102)"
out=$(ndp_ask "target=2001:db8:1::103,src=$NDP_UPADDR,wait=1" "target=$NDP_HOST,src=$NDP_UPADDR,wait=1")
assert_eq "route removed: a new LAN target is not answered" 0 "$(ndp_count_nas "$out" 0)"
assert_eq "route removed: the formerly valid $NDP_HOST is not answered" 0 "$(ndp_count_nas "$out" 1)"

# --- the route comes back: answered again (netlink event, no poll)
nsx "$NDP_VPS" ip -6 route add "$NDP_LANNET" dev "$NDP_LANIF"
answered() {
    local o
    o=$(ndp_ask "target=$1,src=$NDP_UPADDR,wait=0.5")
    [ "$(ndp_count_nas "$o" 0)" = 1 ]
}
t0=$(date +%s%N)
wait_for 5 "2001:db8:1::104 answered once the route is back" answered 2001:db8:1::104
e6_log "answered $((($(date +%s%N) - t0) / 1000000)) ms after the route came back"
wait_for 5 "$NDP_HOST answered once the route is back" answered "$NDP_HOST"
assert_eq "the upstream reaches $NDP_HOST again" 3/3 "$(ndp_ping "$NDP_HOST" 3)"

ndp_counters_dump "$conf"
e6d_stop d
e6_done
