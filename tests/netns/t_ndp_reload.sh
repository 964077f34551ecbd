#!/usr/bin/env bash
# NDP proxy across changes: a reload with a harmless change keeps a valid
# session (still valid, not re-probed, answered from the table at once);
# a reload that drops its rule ends it, and bringing the rule back works.
# The upstream interface changes its MAC (answers carry the new one), is
# deleted and re-created (edge6d answers again on the new one). All-
# multicast reception comes from a packet-socket membership: `ip -d link`
# counts it (allmulti N) while edge6d runs and not after; the ALLMULTI
# flag itself is never flipped, and an administrator's `allmulticast on`
# survives edge6d's stop.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_edge6d.sh"
. "$(dirname "$0")/lib_ndp.sh"

e6d_prepare
ndp_topo
conf=$(e6d_conf reload)
body_iface='
    valid-ttl = 60
    rule 2001:db8:1::/64 {
        method = iface
        iface = lan0
    }
    rule 2001:db8:1::200/120 {
        method = static
    }'
ndp_conf "$conf" "$body_iface"
assert_eq "before edge6d: eth0's allmulti count is 0" 0 "$(ndp_allmulti "$NDP_VPS" "$NDP_IF")"
ndp_start d "$conf"
am=$(ndp_allmulti "$NDP_VPS" "$NDP_IF")
if [ "${am:-0}" -ge 1 ]; then ok "edge6d running: eth0 receives all multicast (allmulti $am)"; else
    fail "edge6d running: eth0's allmulti count is ${am:-?}"
fi
assert_nomatch "edge6d running: the ALLMULTI flag itself is not flipped" "ALLMULTI" "$(ndp_flags "$NDP_VPS" "$NDP_IF")"

wait_for 10 "the upstream pings $NDP_HOST" ndp_ping_ok "$NDP_HOST"
assert_match "$NDP_HOST valid before the reload" "^(valid|refresh)$" "$(ndp_state "$conf" "$NDP_HOST")"
before=$(ndp_neighbors_json "$conf")
conf0=$(ndp_counter "$conf" '^ndppd\.confirmed$')
probe0=$(ndp_counter "$conf" '^ndppd\.probe_sent$')

# --- a harmless change: probe-rate, one more static rule
ndp_conf "$conf" "
    probe-rate = 200$body_iface
    rule 2001:db8:1::300/120 {
        method = static
    }"
assert_ok "edge6ctl reload (probe-rate, a new static rule)" e6ctl "$NDP_VPS" "$conf" reload
after=$(ndp_neighbors_json "$conf")
printf '%s\n---\n%s\n' "$before" "$after" >"$E6_WORK/neighbors-reload.json"
assert_match "$NDP_HOST still valid after the reload" "^(valid|refresh)$" "$(ndp_state "$conf" "$NDP_HOST")"
assert_eq "its session kept its history (asked count not reset)" 1 \
    "$("$E6_PY" -c '
import json, sys
b, a = json.loads(sys.argv[1]), json.loads(sys.argv[2])
f = lambda j: [n for n in j["neighbors"] if n["target"] == "2001:db8:1::101"][0]
print(int(f(a)["asked"] >= f(b)["asked"] > 0))' "$before" "$after")"
out=$(ndp_ask "target=$NDP_HOST,src=$NDP_UPADDR,wait=0.5" "target=2001:db8:1::305,src=$NDP_UPADDR,wait=0.5")
assert_eq "after the reload $NDP_HOST is answered at once, from the table" "1 fast" \
    "$(ndp_nas "$out" '"%d %s" % (len(r[0]["nas"]), "fast" if r[0]["nas"] and r[0]["nas"][0]["t_ms"] < 50 else "slow")')"
assert_eq "the new static rule answers" 1 "$(ndp_count_nas "$out" 1)"
assert_eq "no new confirmation: the session was kept, not rebuilt" "$conf0" "$(ndp_counter "$conf" '^ndppd\.confirmed$')"
assert_eq "no new probe for it" "$probe0" "$(ndp_counter "$conf" '^ndppd\.probe_sent$')"

# --- a reload that drops the iface rule ends the session; back again
ndp_conf "$conf" '
    rule 2001:db8:1::200/120 {
        method = static
    }'
assert_ok "reload without the iface rule" e6ctl "$NDP_VPS" "$conf" reload
assert_match "$NDP_HOST's session ended with its rule" "^(none|invalid)$" "$(ndp_state "$conf" "$NDP_HOST")"
out=$(ndp_ask "target=$NDP_HOST,src=$NDP_UPADDR,wait=0.5")
assert_eq "$NDP_HOST not answered without its rule" 0 "$(ndp_count_nas "$out" 0)"
ndp_conf "$conf" "$body_iface"
assert_ok "reload with the iface rule again" e6ctl "$NDP_VPS" "$conf" reload
out=$(ndp_ask "target=$NDP_HOST,src=$NDP_UPADDR,wait=1")
assert_eq "$NDP_HOST answered again (probed anew)" 1 "$(ndp_count_nas "$out" 0)"

# --- the upstream link changes its MAC: answers carry the new one
nsx "$NDP_VPS" ip link set "$NDP_IF" address 02:00:5e:00:53:61
sleep 0.3
out=$(ndp_ask "target=2001:db8:1::205,src=$NDP_UPADDR,wait=0.5")
assert_eq "after a MAC change the NA's TLLA and Ethernet source are the new MAC" \
    "02:00:5e:00:53:61 02:00:5e:00:53:61" "$(ndp_one_na "$out" 0 '"%s %s" % (n["tlla"], n["l2src"])')"

# --- the upstream interface deleted and re-created
pid=$(ndp_pid d)
nsx "$NDP_VPS" ip link del "$NDP_IF"
sleep 1
assert_ok "edge6d survives the loss of its upstream interface" kill -0 "$pid"
assert_ok "edge6ctl status still answers" e6ctl "$NDP_VPS" "$conf" status
veth_new "$NDP_UP" "$NDP_UPIF" "$NDP_VPS" "$NDP_IF"
nsx "$NDP_UP" ip -6 addr add "$NDP_UPADDR/64" dev "$NDP_UPIF" nodad
nsx "$NDP_VPS" ip -6 addr add "$NDP_VPSADDR/64" dev "$NDP_IF" nodad
wait_for 5 "link-local on the new eth0" ndp_ll "$NDP_VPS" "$NDP_IF"
vmac2=$(ndp_mac "$NDP_VPS" "$NDP_IF")
answered_205() {
    local o
    o=$(ndp_ask "target=2001:db8:1::205,src=$NDP_UPADDR,wait=0.3")
    [ "$(ndp_one_na "$o" 0 'n["tlla"]')" = "$vmac2" ]
}
wait_for 10 "edge6d answers on the re-created eth0 (with its MAC)" answered_205
wait_for 10 "the upstream pings $NDP_HOST over the new link" ndp_ping_ok "$NDP_HOST"
am=$(ndp_allmulti "$NDP_VPS" "$NDP_IF")
if [ "${am:-0}" -ge 1 ]; then ok "the new eth0 receives all multicast too (allmulti $am)"; else
    fail "the new eth0's allmulti count is ${am:-?}"
fi

e6d_stop d
assert_eq "after stop: eth0's allmulti count back to 0" 0 "$(ndp_allmulti "$NDP_VPS" "$NDP_IF")"
assert_nomatch "after stop: no ALLMULTI flag" "ALLMULTI" "$(ndp_flags "$NDP_VPS" "$NDP_IF")"

# --- an administrator's allmulti survives edge6d
nsx "$NDP_VPS" ip link set dev "$NDP_IF" allmulticast on
ndp_start d2 "$conf"
two_members() { [ "$(ndp_allmulti "$NDP_VPS" "$NDP_IF")" -ge 2 ]; }
wait_for 5 "edge6d's membership counted beside the administrator's" two_members
e6d_stop d2
assert_match "the administrator's ALLMULTI flag survives edge6d's stop" "ALLMULTI" "$(ndp_flags "$NDP_VPS" "$NDP_IF")"
assert_eq "and its count is the administrator's 1" 1 "$(ndp_allmulti "$NDP_VPS" "$NDP_IF")"
e6_done
