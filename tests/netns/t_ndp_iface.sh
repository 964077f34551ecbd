#!/usr/bin/env bash
# NDP proxy, iface rule: edge6d answers for a target of the /64 only once it
# is confirmed on lan0 (our probe answered there, or a neighbour entry the
# kernel already holds). The upstream then reaches the LAN host through the
# proxy; a target absent from the LAN is never answered, shows as invalid
# in `edge6ctl neighbors` (text and --json) beside the valid LAN host;
# answers for a confirmed target follow RFC 4861 7.2.4 (DAD to ff02::1
# with S=0, NUD with and without SLLA with S=1, O=0); a DAD probe for an
# unconfirmed LAN address is answered once the LAN confirms it; a target
# that leaves the LAN stops being answered once its session lapses.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_edge6d.sh"
. "$(dirname "$0")/lib_ndp.sh"

e6d_prepare
ndp_topo
conf=$(e6d_conf iface)
ndp_conf "$conf" '
    retrans-time = 200
    retrans-limit = 3
    valid-ttl = 10
    invalid-ttl = 10
    rule 2001:db8:1::/64 {
        method = iface
        iface = lan0
    }'
vmac=$(ndp_mac "$NDP_VPS" "$NDP_IF")
umac=$(ndp_mac "$NDP_UP" "$NDP_UPIF")
vll=$(ndp_ll "$NDP_VPS" "$NDP_IF")
ndp_start d "$conf"

# --- a LAN host, confirmed by our probe
wait_for 10 "the upstream pings $NDP_HOST through the proxy" ndp_ping_ok "$NDP_HOST"
assert_eq "5 of 5 echoes to $NDP_HOST come back" 5/5 "$(ndp_ping "$NDP_HOST" 5)"
assert_match "the upstream caches the VPS's MAC for $NDP_HOST" \
    "^$NDP_HOST lladdr $vmac (router )?(REACHABLE|STALE|DELAY|PROBE)" "$(ndp_up_neigh "$NDP_HOST")"
assert_match "$NDP_HOST is a valid session" "^(valid|refresh)$" "$(ndp_state "$conf" "$NDP_HOST")"

# --- answers for the confirmed target
T=$NDP_HOST
out=$(ndp_ask \
    "target=$T,src=$NDP_UPADDR,wait=0.5" \
    "target=$T,src=::,wait=0.5" \
    "target=$T,src=$NDP_UPADDR,dst=$T,l2dst=$vmac,wait=0.5" \
    "target=$T,src=$NDP_UPADDR,dst=$T,l2dst=$vmac,slla=none,wait=0.5")
want="src=$vll dst=$NDP_UPADDR l2dst=$umac hlim=255 R1S1O0 tlla=$vmac csum=True code=0 bad_opts=False"
assert_eq "confirmed target, multicast NS: S=1, O=0, R=1" "$want" "$(ndp_one_na "$out" 0 "$NDP_NA_DESC")"
assert_eq "confirmed target, DAD: to ff02::1, S=0, O=0" \
    "src=$vll dst=ff02::1 l2dst=33:33:00:00:00:01 hlim=255 R1S0O0 tlla=$vmac csum=True code=0 bad_opts=False" \
    "$(ndp_one_na "$out" 1 "$NDP_NA_DESC")"
assert_eq "confirmed target, NUD with SLLA: S=1" "$want" "$(ndp_one_na "$out" 2 "$NDP_NA_DESC")"
assert_eq "confirmed target, NUD without SLLA: S=1" "$want" "$(ndp_one_na "$out" 3 "$NDP_NA_DESC")"
assert_eq "a confirmed target is answered from the table (< 50 ms)" 0 \
    "$(ndp_nas "$out" 'sum(1 for x in r for n in x["nas"] if n["t_ms"] > 50)')"

# --- DAD for a LAN address not yet confirmed: probed, then defended on
# the upstream link (to ff02::1, S=0) once the LAN answers
D=2001:db8:1::103
nsx "$NDP_LAN" ip -6 addr add "$D/120" dev "$NDP_HOSTIF" nodad
out=$(ndp_ask "target=$D,src=::,wait=1")
assert_eq "DAD for an unconfirmed LAN address: answered to ff02::1 with S=0 once confirmed" \
    "src=$vll dst=ff02::1 l2dst=33:33:00:00:00:01 hlim=255 R1S0O0 tlla=$vmac csum=True code=0 bad_opts=False" \
    "$(ndp_one_na "$out" 0 "$NDP_NA_DESC")"
assert_match "$D valid after the DAD probe" "^(valid|refresh)$" "$(ndp_state "$conf" "$D")"

# --- a target that is not in the LAN: probed (3 x 200 ms), never answered
X=2001:db8:1::1:99
p0=$(ndp_counter "$conf" '^ndppd\.probe_sent$')
out=$(ndp_ask "target=$X,src=$NDP_UPADDR,wait=1.5" "target=$X,src=$NDP_UPADDR,wait=0.5")
assert_eq "absent target: not answered while probed" 0 "$(ndp_count_nas "$out" 0)"
assert_eq "absent target: not answered once known absent" 0 "$(ndp_count_nas "$out" 1)"
assert_eq "absent target: invalid in edge6ctl neighbors" invalid "$(ndp_state "$conf" "$X")"
p1=$(ndp_counter "$conf" '^ndppd\.probe_sent$')
assert_eq "absent target: retrans-limit (3) probes sent on lan0" 3 "$((p1 - p0))"
text=$(e6ctl "$NDP_VPS" "$conf" neighbors)
printf '%s\n' "$text" >"$E6_WORK/neighbors.txt"
assert_match "edge6ctl neighbors (text): $NDP_HOST valid on lan0" "$NDP_HOST .*(valid|refresh).*lan0|$NDP_HOST .*lan0.*(valid|refresh)" "$text"
assert_match "edge6ctl neighbors (text): $X invalid" "$X .*invalid" "$text"
json=$(ndp_neighbors_json "$conf")
assert_ok "edge6ctl --json neighbors is valid JSON" valid_json "$json"
assert_eq "edge6ctl --json neighbors: both, with their states, proxy eth0, rule, method iface" \
    "2001:db8:1::101 valid lan0 eth0 2001:db8:1::/64 iface|2001:db8:1::1:99 invalid lan0 eth0 2001:db8:1::/64 iface" \
    "$(json_get "$json" '"|".join("%s %s %s %s %s %s" % (n["target"], "valid" if n["state"] == "refresh" else n["state"], n["iface"] or "-", n["proxy"], n["rule"], n["method"]) for n in sorted(j["neighbors"], key=lambda n: n["target"]) if n["target"] in ("2001:db8:1::101", "2001:db8:1::1:99"))')"
assert_match "edge6ctl neighbors eth0 (one proxy) lists them too" "$X" "$(e6ctl "$NDP_VPS" "$conf" neighbors eth0)"
for c in confirmed failed na_received invalid; do
    v=$(ndp_counter "$conf" "^ndppd\.$c\$")
    if [ "${v:-0}" -ge 1 ]; then ok "counter ndppd.$c = $v"; else fail "counter ndppd.$c is ${v:-?}"; fi
done

# --- confirmed by the kernel's own neighbour entry: answered at the first NS
K=2001:db8:1::102
nsx "$NDP_LAN" ip -6 addr add "$K/120" dev "$NDP_HOSTIF" nodad
# a refresh takes a REACHABLE kernel entry as confirmation too: keep the
# kernel's REACHABLE short (2..6 s) so the end of this test fits its budget
nsx "$NDP_VPS" sysctl -qw "net.ipv6.neigh.$NDP_LANIF.base_reachable_time_ms=4000"
timeout 10 ip netns exec "$NDP_VPS" "$E6_PY" "$NDP_TOOL" ping --src "$NDP_VPSADDR" --dst "$K" --count 1 >/dev/null
assert_match "the VPS kernel holds a neighbour entry for $K" "REACHABLE" \
    "$(nsx "$NDP_VPS" ip -6 neigh show "$K" dev "$NDP_LANIF")"
k0=$(ndp_counter "$conf" '^ndppd\.kernel_neigh$')
out=$(ndp_ask "target=$K,src=$NDP_UPADDR,wait=0.5")
assert_eq "kernel-confirmed target answered at its first NS, without waiting for a probe" "1 fast" \
    "$(ndp_nas "$out" '"%d %s" % (len(r[0]["nas"]), "fast" if r[0]["nas"] and r[0]["nas"][0]["t_ms"] < 100 else "slow")')"
k1=$(ndp_counter "$conf" '^ndppd\.kernel_neigh$')
# (>= 1: a refresh of another target may be confirmed the same way meanwhile)
if [ $((k1 - k0)) -ge 1 ]; then ok "counter ndppd.kernel_neigh +$((k1 - k0))"; else
    fail "counter ndppd.kernel_neigh did not rise"
fi

# --- the target leaves the LAN: no longer answered once its session lapses
# (valid-ttl 10 s, then the kernel's entry is STALE and the refresh probe
# goes unanswered)
nsx "$NDP_LAN" ip -6 addr del "$K/120" dev "$NDP_HOSTIF"
gone() {
    local o
    o=$(ndp_ask "target=$K,src=$NDP_UPADDR,wait=0.3")
    [ "$(ndp_count_nas "$o" 0)" = 0 ]
}
wait_for 16 "$K unanswered after it left the LAN" gone
assert_match "$K is no longer valid" "^(invalid|none|incomplete)$" "$(ndp_state "$conf" "$K")"
assert_eq "$NDP_HOST (asked meanwhile) is still reachable" 3/3 "$(ndp_ping "$NDP_HOST" 3)"

ndp_counters_dump "$conf"
e6d_stop d
e6_done
