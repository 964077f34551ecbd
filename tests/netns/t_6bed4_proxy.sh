#!/usr/bin/env bash
# The NDP proxy's `method = 6bed4` rule against the router's peer table
# (lib_6bed4.sh draws the topology), each configuration reached by a
# reload of the VPS's edge6d, the provider's router soliciting on u0:
#   - peers = 0 (no table, stateless) and a rule naming no tunnel: the
#     proxy answers by the address form alone: a 6bed4 address nobody
#     holds is answered, a port-0 address of the /64 is not; the peer is
#     reachable from the internet
#   - a table of 4 and a rule naming no tunnel: only live peers are
#     answered (the peer proves itself with traffic); 300 RSs from forged
#     endpoints then churn only the unproven (solicited) entries: both
#     peers stay, active, and answered
#   - peers = 1 with two peers: one entry (the one heard last with
#     traffic), the other's keepalives refused (peers_refused), answered for
#     one address only, and nothing sent to the peer the table does not hold
#     (drop_not_live: the table decides where the router's UDP may go)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_edge6d.sh"
. "$(dirname "$0")/lib_radv.sh"
. "$(dirname "$0")/lib_ndp.sh"
. "$(dirname "$0")/lib_tun.sh"
. "$(dirname "$0")/lib_6bed4.sh"

e6d_prepare
b4_topo
b4_nat a
b4_nat b
vconf=$(e6d_conf vps)
# vps_conf PEERS: the VPS's config with that table bound and a rule
# naming no tunnel
vps_conf() {
    B4_VPS_TUN="    peers = $1" b4_vps_conf "$vconf"
    sed -i "/^        tunnel = $B4_NAME\$/d" "$vconf"
}
vps_conf 0
assert_ok "edge6d -t accepts peers = 0 and a 6bed4 rule naming no tunnel" "$EDGE6D" -t -c "$vconf"
b4_start_vps "$vconf"
for id in a b; do
    b4_peer_conf "$(e6d_conf "peer$id")" $id
    b4_start_peer $id "$(e6d_conf "peer$id")"
done
wait_for 15 "peer a's address" b4_addr a
wait_for 15 "peer b's address" b4_addr b
A=$(b4_addr a)
B=$(b4_addr b)
vmac=$(tun_mac "$B4_VPS" eth0)
ghost=$(b4_encode "$B4_P64" 198.51.100.77 4444 1)
# answers TARGET...: for each, how many NAs with the VPS's MAC it drew
answers() {
    local specs=() t
    for t in "$@"; do specs+=("target=$t"); done
    ndp_nas "$(ndp_ask -n "$B4_UP" -i u0 "${specs[@]}")" \
        '" ".join(str(sum(1 for n in x["nas"] if n["tlla"] == "'"$vmac"'")) for x in r)'
}

# --- stateless
assert_eq "peers = 0: answered for a 6bed4 address nobody holds, not for the port-0 ::12" "1 0" \
    "$(answers "$ghost" 2001:db8:9:10::12)"
assert_ok "peers = 0: the internet host pings peer a" b4_ping "$B4_INET" "$A"

# --- a table of 4, the rule naming no tunnel: live peers only
vps_conf 4
assert_ok "reload: a peer table of 4" e6ctl "$B4_VPS" "$vconf" reload
# the tunnel was re-created with an empty table: the peers prove themselves
wait_for 10 "peer a reaches the internet host" b4_ping "${B4_PEER[a]}" "$B4_INET_ADDR"
wait_for 10 "peer b reaches the internet host" b4_ping "${B4_PEER[b]}" "$B4_INET_ADDR"
read -r av4 aport _ <<<"$(b4_decode "$A")"
read -r bv4 bport _ <<<"$(b4_decode "$B")"
# shellcheck disable=SC2317 # called by wait_for
listed() { b4_peer_listed "$(b4_peers "$B4_VPS" "$vconf" json)" "$1" "$2"; }
wait_for 5 "peer a in the table" listed "$av4" "$aport"
wait_for 5 "peer b in the table" listed "$bv4" "$bport"
assert_eq "table: answered for peer a and peer b, not for the unheld 6bed4 address" "1 1 0" \
    "$(answers "$A" "$B" "$ghost")"
# 300 RSs from forged endpoints: the solicited entries churn, the active stay
b4_tool "$B4_WAN" send --src 203.0.113.77 --sport 20000 --vary-sport --dst "$B4_VPS_V4" --kind rs \
    --count 300 --interval 0.001 >>"$E6_WORK/send.log" 2>&1
sleep 1
pj=$(b4_peers "$B4_VPS" "$vconf" json)
printf '%s\n' "$pj" >"$E6_WORK/peers-flood.json"
assert_eq "after 300 forged RSs: the table is full (4 of 4)" 4 "$(json_sum "$pj" count)"
assert_eq "  ... peer a and peer b still in it, active" "active active" \
    "$(json_get "$pj" '" ".join(p["class"] for t in j["tunnels"] for p in t["peers"] if p["endpoint"] in ("'"$av4:$aport"'", "'"$bv4:$bport"'"))')"
assert_eq "  ... the proxy still answers for both" "1 1" "$(answers "$A" "$B")"
assert_ok "  ... and the internet host reaches peer b" b4_ping "$B4_INET" "$B"

# --- peers = 1: a full table holds one peer; the other's solicitations and
# keepalives are refused, and the router sends it nothing (drop_not_live)
vps_conf 1
assert_ok "reload: peers = 1" e6ctl "$B4_VPS" "$vconf" reload
r0=$(tun_counter "$B4_VPS" "$vconf" '^6bed4\.peers_refused$')
wait_for 10 "peer a reaches the internet host" b4_ping "${B4_PEER[a]}" "$B4_INET_ADDR"
# its own traffic makes a peer the one the table holds (the newest active
# entry takes the place of the least recently heard)
assert_ok "peer b reaches the internet host, the table full" b4_ping "${B4_PEER[b]}" "$B4_INET_ADDR"
# the workers hand their table touches to the loop in batches: a moment later
# shellcheck disable=SC2317 # called by wait_for
refused_rose() { [ "$(tun_counter "$B4_VPS" "$vconf" '^6bed4\.peers_refused$')" -gt "$r0" ]; }
wait_for 8 "peers_refused rises (the other peer's keepalives)" refused_rose && ok "peers_refused rose"
pj=$(b4_peers "$B4_VPS" "$vconf" json)
printf '%s\n' "$pj" >"$E6_WORK/peers-full.json"
assert_eq "edge6ctl peers: 1 live peer (count), bound 1" "1 1" "$(json_sum "$pj" count) $(json_sum "$pj" bound)"
if b4_peer_listed "$pj" "$av4" "$aport"; then
    held=$A other=$B held_ns=${B4_PEER[a]}
else
    held=$B other=$A held_ns=${B4_PEER[b]}
fi
e6_log "the table holds $held"
assert_eq "proxy: answered for the held peer only" "1 0" "$(answers "$held" "$other")"
nl0=$(tun_counter "$B4_VPS" "$vconf" '^6bed4\.drop_not_live$')
assert_fail "the held peer cannot reach the other through the hair-pin" \
    nsx "$held_ns" ping -6 -c 2 -i 0.2 -W 1 "$other"
assert_eq "  ... dropped as not_live (2 echoes)" 2 \
    "$(($(tun_counter "$B4_VPS" "$vconf" '^6bed4\.drop_not_live$') - nl0))"

tun_counters_dump "$B4_VPS" "$vconf" vps
tun_stop peer_a peer_b vps
e6_done
