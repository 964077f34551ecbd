#!/usr/bin/env bash
# A peer that starts before its router solicits with the reference peer's
# back-off (RS at 0, 1, 4, 11 s) and takes its address from the RS after
# the router came up. Then NAT rebinding (lib_6bed4.sh draws the
# topology): peer a's NAT changes its
# mapping (the masquerade's port range replaced, its conntrack table
# flushed: the next datagram leaves from another public port). The router
# sees peer a's address arrive from an endpoint it does not embed: no
# forwarding (drop_rebind) and a fresh RA to the new endpoint, captured on
# the NAT's public link (PIO = the /114 of the new mapping); peer a takes
# the new address (lanip 1 of the new /114, the old one removed), its
# embedded port is the new conntrack mapping in the new range; then the
# internet host and peer b reach it again, the provider's router learns the
# new address through the proxy, `edge6ctl peers` lists the new endpoint,
# and once peer-timeout (10 s) passes the old endpoint leaves the table and
# the proxy stops answering for the old address. Peer b is untouched.
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
B4_VPS_TUN='    peer-timeout = 10'
b4_vps_conf "$vconf"
for id in a b; do b4_peer_conf "$(e6d_conf "peer$id")" $id; done
# peer b starts before its router: it solicits at once, then after 1, 3,
# 7 s (the reference peer's back-off); each count read mid-interval
b4_start_peer b "$(e6d_conf peerb)"
t0=$(date +%s%N)
rs_b() { tun_counter "${B4_PEER[b]}" "$(e6d_conf peerb)" '^6bed4\.rs_sent$'; }
since() { sleep "$(awk -v t0="$t0" -v t="$1" -v now="$(date +%s%N)" 'BEGIN {d = t - (now - t0) / 1e9; print (d > 0 ? d : 0)}')"; }
since 2.5
assert_eq "no router yet: peer b sent 2 RSs in 2.5 s (at 0 and 1 s)" 2 "$(rs_b)"
since 5.5
assert_eq "no router yet: peer b sent 3 RSs in 5.5 s (at 0, 1 and 4 s)" 3 "$(rs_b)"
assert_fail "no router yet: peer b has no address" b4_addr b
b4_start_vps "$vconf"
b4_start_peer a "$(e6d_conf peera)"
wait_for 15 "peer a's address" b4_addr a
wait_for 15 "peer b's address (its next RS, at 11 s)" b4_addr b
e6_log "peer b configured $((($(date +%s%N) - t0) / 1000000)) ms after its start, after $(rs_b) RSs"
assert_eq "peer b configured from its 4th RS (at 11 s), the first after the router came up" 4 "$(rs_b)"
old=$(b4_addr a)
addr_b=$(b4_addr b)
read -r _ oport _ <<<"$(b4_decode "$old")"
assert_ok "before: the internet host pings peer a" b4_ping "$B4_INET" "$old"
assert_ok "before: peer b pings peer a" b4_ping "${B4_PEER[b]}" "$old"

# --- the NAT's mapping changes
b4_nat_range a 41000-41999
assert_ok "NAT a: conntrack flushed" b4_ct_flush a
vcount() { tun_counter "$B4_VPS" "$vconf" "^6bed4\\.$1\$"; }
pcount() { tun_counter "${B4_PEER[a]}" "$(e6d_conf peera)" "^6bed4\\.$1\$"; }
rb0=$(vcount drop_rebind)
ra0=$(vcount ra_sent)
pc0=$(pcount prefix_changes)
b4_watch ra "${B4_NAT[a]}" --iface wan0 --udp-port "$B4_PORT" --icmp6-type 134 --duration 6
# peer a speaks: from the new public port now
nsx "${B4_PEER[a]}" ping -6 -n -c 1 -W 1 "$B4_INET_ADDR" >/dev/null 2>&1
# shellcheck disable=SC2317 # called by wait_for
addr_changed() {
    local a
    a=$(b4_addr a) && [ "$a" != "$old" ]
}
wait_for 15 "peer a takes a new address" addr_changed
new=$(b4_addr a)
read -r v4 port lanip <<<"$(b4_decode "$new")"
map=$(b4_ct_map a "${B4_LPORT[a]}")
e6_log "peer a: $old (port $oport) -> $new ($v4 port $port lanip $lanip); conntrack: $map"
assert_eq "peer a's new address embeds the new mapping (conntrack)" "$map" "$v4:$port"
assert_eq "new port $port in the new range 41000-41999" 1 "$((port >= 41000 && port <= 41999))"
assert_eq "new address: lanip 1, /114" "1 114" "$lanip $(b4_addr_len a)"
assert_eq "the old address is gone from peer a's TUN (one global address)" 1 \
    "$(nsx "${B4_PEER[a]}" ip -6 -o addr show dev $B4_NAME scope global | wc -l)"
assert_eq "the router counted the rebinding (drop_rebind >= 1)" 1 "$(($(vcount drop_rebind) - rb0 >= 1))"
assert_eq "the router sent an RA for it (ra_sent >= 1)" 1 "$(($(vcount ra_sent) - ra0 >= 1))"
assert_eq "peer a counted a prefix change" 1 "$(($(pcount prefix_changes) - pc0))"
r=$(b4_watch_result ra)
printf '%s\n' "$r" >"$E6_WORK/ra-capture.json"
want=$(b4_encode "$B4_P64" "$v4" "$port" 0)
assert_eq "captured at NAT a: an RA from the router to $v4:$port whose PIO is $want/114" "ok" \
    "$(json_get "$r" '"ok" if any(x.get("pios") and x["pios"][0]["prefix"] == "'"$want"'" and x["pios"][0]["plen"] == 114 for x in j["ras"]) else j')"

# --- it works again
wait_for 10 "the internet host reaches peer a's new address" b4_ping "$B4_INET" "$new"
out=$(nsx "$B4_INET" ping -6 -n -c 3 -i 0.2 -W 2 "$new" 2>&1)
assert_match "internet host pings peer a's new address: 3/3" "3 packets transmitted, 3 received" "$out"
assert_match "upstream: peer a's new address -> the VPS's MAC" "lladdr $(tun_mac "$B4_VPS" eth0)" \
    "$(nsx "$B4_UP" ip -6 neigh show "$new" dev u0)"
assert_ok "peer b pings peer a's new address (hair-pin)" b4_ping "${B4_PEER[b]}" "$new"
assert_ok "peer a pings peer b" b4_ping "${B4_PEER[a]}" "$addr_b"
assert_eq "peer b kept its address" "$addr_b" "$(b4_addr b)"
pj=$(b4_peers "$B4_VPS" "$vconf" json)
printf '%s\n' "$pj" >"$E6_WORK/peers-after.json"
assert_ok "edge6ctl peers lists the new endpoint $v4:$port" b4_peer_listed "$pj" "$v4" "$port"

# --- the old endpoint ages out (peer-timeout 10 s): the proxy forgets it
# shellcheck disable=SC2317 # called by wait_for
old_gone() { ! b4_peer_listed "$(b4_peers "$B4_VPS" "$vconf" json)" "${B4_PUB[a]}" "$oport"; }
wait_for 20 "the old endpoint ${B4_PUB[a]}:$oport leaves the peer table" old_gone
pj=$(b4_peers "$B4_VPS" "$vconf" json)
printf '%s\n' "$pj" >"$E6_WORK/peers-late.json"
assert_fail "old endpoint no longer listed" b4_peer_listed "$pj" "${B4_PUB[a]}" "$oport"
assert_ok "new endpoint still listed (keepalives)" b4_peer_listed "$pj" "$v4" "$port"
read -r bv4 bport _ <<<"$(b4_decode "$addr_b")"
assert_ok "peer b still listed (keepalives)" b4_peer_listed "$pj" "$bv4" "$bport"
asks=$(ndp_ask -n "$B4_UP" -i u0 "target=$old" "target=$new")
printf '%s\n' "$asks" >"$E6_WORK/asks.json"
assert_eq "proxy: no answer for the old address, one for the new" "0 1" \
    "$(ndp_nas "$asks" '"%d %d" % (len(r[0]["nas"]), len(r[1]["nas"]))')"

tun_counters_dump "$B4_VPS" "$vconf" vps
tun_counters_dump "${B4_PEER[a]}" "$(e6d_conf peera)" peera
tun_stop peer_a peer_b vps
e6_done
