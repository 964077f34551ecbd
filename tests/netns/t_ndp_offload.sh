#!/usr/bin/env bash
# NDP proxy, kernel-offload = yes and autowire = yes on an iface rule, with
# no route for the LAN part: edge6d must install, for each confirmed
# target only, an NTF_PROXY entry on eth0 (`ip -6 neigh show proxy`) and a
# /128 route via lan0 tagged proto 230, and remove both when the session
# ends (the target left the LAN) and when edge6d stops. With the route the
# upstream reaches the LAN host; once edge6d is gone the kernel (proxy_ndp
# on) no longer answers for it either.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_edge6d.sh"
. "$(dirname "$0")/lib_ndp.sh"

e6d_prepare
ndp_topo
nsx "$NDP_VPS" ip -6 route del "$NDP_LANNET" dev "$NDP_LANIF"
nsx "$NDP_VPS" sysctl -qw "net.ipv6.conf.$NDP_IF.proxy_ndp=1" "net.ipv6.neigh.$NDP_IF.proxy_delay=0" \
    "net.ipv6.neigh.$NDP_LANIF.base_reachable_time_ms=4000"
K=2001:db8:1::102
X=2001:db8:1::1:99
nsx "$NDP_LAN" ip -6 addr add "$K/120" dev "$NDP_HOSTIF" nodad
conf=$(e6d_conf offload)
ndp_conf "$conf" '
    kernel-offload = yes
    autowire = yes
    valid-ttl = 10
    retrans-time = 200
    rule 2001:db8:1::/64 {
        method = iface
        iface = lan0
    }'
proxies() { nsx "$NDP_VPS" ip -6 neigh show proxy dev "$NDP_IF"; }
wired() { nsx "$NDP_VPS" ip -6 route show proto 230; }
assert_eq "no proxy entry before edge6d" "" "$(proxies)"
ndp_start d "$conf"

wait_for 10 "the upstream pings $NDP_HOST (the autowire route carries it)" ndp_ping_ok "$NDP_HOST"
out=$(ndp_ask "target=$K,src=$NDP_UPADDR,wait=0.5" "target=$X,src=$NDP_UPADDR,wait=1.2")
assert_eq "$K answered once confirmed" 1 "$(ndp_nas "$out" 'min(len(r[0]["nas"]), 1)')"
assert_eq "$X (absent) not answered" 0 "$(ndp_count_nas "$out" 1)"
p=$(proxies)
w=$(wired)
printf '%s\n---\n%s\n' "$p" "$w" >"$E6_WORK/kernel-state.txt"
assert_match "kernel-offload: proxy entry for $NDP_HOST on $NDP_IF" "^$NDP_HOST( dev $NDP_IF)? +proxy" "$p"
assert_match "kernel-offload: proxy entry for $K on $NDP_IF" "^$K( dev $NDP_IF)? +proxy" "$p"
assert_nomatch "kernel-offload: no proxy entry for the absent $X" "$X" "$p"
assert_match "autowire: /128 route to $NDP_HOST via $NDP_LANIF, proto 230" "^$NDP_HOST dev $NDP_LANIF " "$w"
assert_match "autowire: /128 route to $K via $NDP_LANIF, proto 230" "^$K dev $NDP_LANIF " "$w"
assert_nomatch "autowire: no route for the absent $X" "$X" "$w"
assert_eq "only the two confirmed targets are offloaded" 2 "$(printf '%s\n' "$p" | grep -c proxy)"
assert_eq "5 of 5 echoes to $NDP_HOST come back" 5/5 "$(ndp_ping "$NDP_HOST" 5)"
assert_match "the kernel answers from the proxy entry too (proxy_ndp on): O=0" "False" \
    "$(ndp_nas "$(ndp_ask "target=$K,src=$NDP_UPADDR,wait=0.5")" 'set(n["o"] for n in r[0]["nas"])')"

# --- a target that leaves the LAN: its entry and route go when its session ends
nsx "$NDP_LAN" ip -6 addr del "$K/120" dev "$NDP_HOSTIF"
k_gone() { ! proxies | grep -q "^$K " && ! wired | grep -q "^$K "; }
# keep asking for both, as the upstream would: K's session is refreshed
# and fails, the LAN host's is refreshed and stays (unasked, it would lapse
# after valid-ttl like any other)
k_gone_asking() {
    ndp_ask "target=$K,src=$NDP_UPADDR,wait=0.2" "target=$NDP_HOST,src=$NDP_UPADDR,wait=0.1" >/dev/null
    k_gone
}
wait_for 20 "the proxy entry and route of $K removed once it left the LAN" k_gone_asking
assert_match "$NDP_HOST keeps its proxy entry" "^$NDP_HOST" "$(proxies)"
assert_match "$NDP_HOST keeps its route" "^$NDP_HOST dev $NDP_LANIF" "$(wired)"

# --- edge6d stops: every entry and route it made goes
e6d_stop d
assert_eq "after stop: no proxy entry left on $NDP_IF" "" "$(proxies)"
assert_eq "after stop: no proto 230 route left" "" "$(wired)"
out=$(ndp_ask "target=$NDP_HOST,src=$NDP_UPADDR,wait=0.5")
assert_eq "after stop: nobody answers for $NDP_HOST (the kernel's entry is gone)" 0 "$(ndp_count_nas "$out" 0)"
e6_done
