#!/usr/bin/env bash
# The 6bed4 story end to end (lib_6bed4.sh draws it): an internet host, the
# provider's router, the VPS (edge6d: 6bed4 router b4 on its native /64 and
# the NDP proxy on eth0 with a `method = 6bed4; tunnel = b4` rule, a local
# server on the port-0 address ::11/128 of eth0), an IPv4 router, and two
# homes, each an nftables NAT with an edge6d 6bed4 peer behind it. Checked:
# the TUNs (MTU 1280, the /64 routed into the VPS's, proto 231); each peer's
# /114 address embeds its NAT's public IPv4 and the port the NAT mapped
# (decoded and compared with the NAT's conntrack entry, in the NAT's port
# range, lanip 1); the internet host pings each peer (hop limit: one per
# router, the tunnel none) and the provider's router learnt each peer
# through the proxy (-> the VPS's MAC); the proxy answers for live peers
# only (not for a 6bed4 address nobody holds, not for a port-0 address);
# the peers ping each other through the hair-pin (counted, hop limit -1,
# the VPS's kernel forwards none of it and its TUN sees none of it); the
# local server answers a peer itself (hop limit 64) and carries TCP; TCP
# peer <-> internet both ways whole (SHA-256); `edge6ctl peers` (text and
# JSON) lists both mapped endpoints and `status` the tunnel; keepalives
# counted; a reload that leaves the tunnel alone keeps the peer table
# (first-heard times go on); after a crash a new edge6d
# learns the peers from their keepalives; at stop the TUNs and routes go.
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
b4_vps_conf "$vconf"
for id in a b; do b4_peer_conf "$(e6d_conf "peer$id")" $id; done
assert_ok "edge6d -t accepts the VPS config" "$EDGE6D" -t -c "$vconf"
assert_ok "edge6d -t accepts a peer config" "$EDGE6D" -t -c "$(e6d_conf peera)"
b4_start_vps "$vconf"
b4_start_peer a "$(e6d_conf peera)"
b4_start_peer b "$(e6d_conf peerb)"

# --- the router's side
assert_eq "VPS: TUN b4 with MTU 1280" 1280 "$(nsx "$B4_VPS" cat /sys/class/net/$B4_NAME/mtu 2>&1)"
assert_match "VPS: the /64 routed into b4, proto 231" "^2001:db8:9:10::/64 dev $B4_NAME" \
    "$(nsx "$B4_VPS" ip -6 route show proto 231)"

# --- each peer's address: NAT public IPv4 + mapped port, lanip 1, /114
declare -A ADDR
for id in a b; do
    wait_for 15 "peer $id has a 6bed4 address" b4_addr $id || continue
    ADDR[$id]=$(b4_addr $id)
    peer=${B4_PEER[$id]}
    read -r v4 port lanip <<<"$(b4_decode "${ADDR[$id]}")"
    map=$(b4_ct_map $id "${B4_LPORT[$id]}")
    e6_log "peer $id: ${ADDR[$id]} = $v4 port $port lanip $lanip; NAT $id's conntrack maps 192.0.2.130:${B4_LPORT[$id]} to $map"
    assert_match "peer $id: address in the VPS's /64" "^2001:db8:9:10:" "${ADDR[$id]}"
    assert_eq "peer $id: address with prefix length 114" 114 "$(b4_addr_len $id)"
    assert_eq "peer $id: embedded endpoint = the NAT's mapping (conntrack)" "$map" "$v4:$port"
    assert_eq "peer $id: embedded IPv4 = NAT $id's public address" "${B4_PUB[$id]}" "$v4"
    lo=${B4_RANGE[$id]%-*} hi=${B4_RANGE[$id]#*-}
    assert_eq "peer $id: embedded port $port in the NAT's range ${B4_RANGE[$id]} (not the peer's own ${B4_LPORT[$id]})" \
        1 "$((port >= lo && port <= hi))"
    assert_eq "peer $id: lanip 1 (the reference peer's choice)" 1 "$lanip"
    assert_eq "peer $id: TUN b4 with MTU 1280" 1280 "$(nsx "$peer" cat /sys/class/net/$B4_NAME/mtu 2>&1)"
    assert_match "peer $id: default route through b4" "^default .*dev $B4_NAME" \
        "$(nsx "$peer" ip -6 route show default)"
done
if [ -z "${ADDR[a]:-}" ] || [ -z "${ADDR[b]:-}" ]; then fail "no addresses, stopping here"; exit 1; fi

# --- the internet host pings each peer through the proxy
vmac=$(tun_mac "$B4_VPS" eth0)
for id in a b; do
    wait_for 10 "the internet host reaches peer $id" b4_ping "$B4_INET" "${ADDR[$id]}"
    out=$(nsx "$B4_INET" ping -6 -n -c 3 -i 0.2 -W 2 "${ADDR[$id]}" 2>&1)
    printf '%s\n' "$out" >"$E6_WORK/ping-inet-$id.txt"
    assert_match "internet host pings peer $id: 3/3" "3 packets transmitted, 3 received" "$out"
    # peer 64 -> VPS's kernel 63 -> up 62: the 6bed4 link costs no hop of its own
    assert_match "peer $id's replies arrive with hop limit 62 (VPS, up)" "ttl=62 " "$out"
    assert_match "upstream: peer $id's address -> the VPS's eth0 MAC ($vmac)" \
        "^${ADDR[$id]} lladdr $vmac (router )?(REACHABLE|STALE|DELAY|PROBE)" \
        "$(nsx "$B4_UP" ip -6 neigh show "${ADDR[$id]}" dev u0)"
    out=$(nsx "${B4_PEER[$id]}" ping -6 -n -c 1 -W 2 "$B4_INET_ADDR" 2>&1)
    assert_match "peer $id pings the internet host: reply hop limit 62 (up, VPS)" "ttl=62 " "$out"
done

# --- the proxy answers for live peers only
ghost=$(b4_encode "$B4_P64" 198.51.100.77 4444 1)
asks=$(ndp_ask -n "$B4_UP" -i u0 "target=${ADDR[a]}" "target=$ghost" "target=2001:db8:9:10::12")
printf '%s\n' "$asks" >"$E6_WORK/asks.json"
assert_eq "proxy: an NS for peer a's address is answered, TLLA the VPS's eth0" "1 $vmac" \
    "$(ndp_nas "$asks" '"%d %s" % (len(r[0]["nas"]), r[0]["nas"][0]["tlla"] if r[0]["nas"] else "-")')"
assert_eq "proxy: no answer for a 6bed4 address no live peer holds ($ghost)" 0 \
    "$(ndp_nas "$asks" 'len(r[1]["nas"])')"
assert_eq "proxy: no answer for a port-0 address nobody holds (::12)" 0 "$(ndp_nas "$asks" 'len(r[2]["nas"])')"

# --- peer to peer: hair-pinned inside edge6d
hp0=$(tun_counter "$B4_VPS" "$vconf" '^6bed4\.hairpin_packets$')
fwd0=$(b4_fwd "$B4_VPS")
rx0=$(nsx "$B4_VPS" cat /sys/class/net/$B4_NAME/statistics/rx_packets)
tx0=$(nsx "$B4_VPS" cat /sys/class/net/$B4_NAME/statistics/tx_packets)
out=$(nsx "${B4_PEER[a]}" ping -6 -n -c 5 -i 0.2 -W 2 "${ADDR[b]}" 2>&1)
printf '%s\n' "$out" >"$E6_WORK/ping-a-b.txt"
assert_match "peer a pings peer b: 5/5" "5 packets transmitted, 5 received" "$out"
assert_match "peer b's replies: hop limit 63 (the router's one hop)" "ttl=63 " "$out"
out=$(nsx "${B4_PEER[b]}" ping -6 -n -c 2 -i 0.2 -W 2 "${ADDR[a]}" 2>&1)
assert_match "peer b pings peer a: 2/2" "2 packets transmitted, 2 received" "$out"
# counters reach the control socket a moment after the packets (worker blocks)
# shellcheck disable=SC2317 # called by wait_for
hp_reached() { [ $(($(tun_counter "$B4_VPS" "$vconf" '^6bed4\.hairpin_packets$') - hp0)) -ge 14 ]; }
wait_for 3 "hairpin_packets +14" hp_reached
hp=$(($(tun_counter "$B4_VPS" "$vconf" '^6bed4\.hairpin_packets$') - hp0))
assert_eq "hairpin_packets: +14 (5 + 2 echoes each way)" 14 "$hp"
assert_eq "the VPS's kernel forwarded none of them (Ip6OutForwDatagrams)" "$fwd0" "$(b4_fwd "$B4_VPS")"
assert_eq "the VPS's TUN carried none of them (rx tx)" "$rx0 $tx0" \
    "$(nsx "$B4_VPS" cat /sys/class/net/$B4_NAME/statistics/rx_packets) $(nsx "$B4_VPS" cat /sys/class/net/$B4_NAME/statistics/tx_packets)"

# --- the local server on a port-0 address: the VPS itself, not a peer
out=$(nsx "${B4_PEER[a]}" ping -6 -n -c 2 -i 0.2 -W 2 "$B4_SERVER" 2>&1)
assert_match "peer a pings the local server $B4_SERVER: 2/2" "2 packets transmitted, 2 received" "$out"
assert_match "the VPS answers itself (hop limit 64: forwarded by nobody)" "ttl=64 " "$out"
x=$(tun_xfer srv "${B4_PEER[b]}" "$B4_VPS" "$B4_SERVER" 300000 5401)
assert_match "300 kB peer b -> the local server, whole" "^300000 ([0-9a-f]{16}) 300000 \1$" "$x"

# --- TCP peer <-> internet; the TCP super-packets the TUNs hand over
# cross the IPv4 side as runs of datagrams (UDP_SEGMENT), which the
# receiving sockets take coalesced (UDP_GRO)
pac=$(e6d_conf peera)
pbc=$(e6d_conf peerb)
gs_a0=$(b4_cnt "${B4_PEER[a]}" "$pac" udp_gso_sends)
gr_v0=$(b4_cnt "$B4_VPS" "$vconf" udp_gro_receives)
gs_v0=$(b4_cnt "$B4_VPS" "$vconf" udp_gso_sends)
gr_b0=$(b4_cnt "${B4_PEER[b]}" "$pbc" udp_gro_receives)
x=$(tun_xfer up "${B4_PEER[a]}" "$B4_INET" "$B4_INET_ADDR" 2000000 5402)
assert_match "2 MB peer a -> internet host, whole" "^2000000 ([0-9a-f]{16}) 2000000 \1$" "$x"
x=$(tun_xfer down "$B4_INET" "${B4_PEER[b]}" "${ADDR[b]}" 2000000 5403)
assert_match "2 MB internet host -> peer b, whole" "^2000000 ([0-9a-f]{16}) 2000000 \1$" "$x"
gs_a=$(($(b4_cnt "${B4_PEER[a]}" "$pac" udp_gso_sends) - gs_a0))
gr_v=$(($(b4_cnt "$B4_VPS" "$vconf" udp_gro_receives) - gr_v0))
gs_v=$(($(b4_cnt "$B4_VPS" "$vconf" udp_gso_sends) - gs_v0))
gr_b=$(($(b4_cnt "${B4_PEER[b]}" "$pbc" udp_gro_receives) - gr_b0))
e6_log "UDP runs: peer a sent $gs_a, the VPS received $gr_v coalesced; the VPS sent $gs_v, peer b received $gr_b"
assert_eq "peer a sent runs of datagrams (udp_gso_sends >= 10)" 1 "$((gs_a >= 10))"
assert_eq "the VPS received coalesced runs (udp_gro_receives >= 10)" 1 "$((gr_v >= 10))"
assert_eq "the VPS sent runs of datagrams to peer b (udp_gso_sends >= 10)" 1 "$((gs_v >= 10))"
assert_eq "peer b received coalesced runs (udp_gro_receives >= 10)" 1 "$((gr_b >= 10))"
assert_eq "no send refused on the VPS" 0 "$(b4_cnt "$B4_VPS" "$vconf" send_errors)"

# --- edge6ctl peers and status
pt=$(b4_peers "$B4_VPS" "$vconf")
printf '%s\n' "$pt" >"$E6_WORK/peers.txt"
pj=$(b4_peers "$B4_VPS" "$vconf" json)
printf '%s\n' "$pj" >"$E6_WORK/peers.json"
assert_ok "edge6ctl --json peers is valid JSON" valid_json "$pj"
for id in a b; do
    read -r v4 port _ <<<"$(b4_decode "${ADDR[$id]}")"
    assert_match "edge6ctl peers lists peer $id ($v4:$port)" "${v4}[: ]+(port )?$port\b" "$pt"
    assert_ok "edge6ctl --json peers lists peer $id ($v4:$port)" b4_peer_listed "$pj" "$v4" "$port"
done
assert_fail "edge6ctl --json peers: no endpoint with port 0" b4_peer_listed "$pj" "${B4_PUB[a]}" 0
assert_nomatch "edge6ctl peers: not the local server" "2001:db8:9:10::11" "$pt$pj"
st=$(e6ctl "$B4_VPS" "$vconf" status)
printf '%s\n' "$st" >"$E6_WORK/vps-status.txt"
assert_match "VPS status: the 6bed4 tunnel b4" "6bed4" "$st"
assert_match "VPS status: UDP offloads on the socket" "udp offloads: gso,gro" "$st"
assert_match "VPS status: b4 and its prefix" "$B4_NAME.*2001:db8:9:10::/64" "$(tr '\n' ' ' <<<"$st")"
js=$(tun_status_json "$B4_VPS" "$vconf")
printf '%s\n' "$js" >"$E6_WORK/vps-status.json"
assert_ok "VPS status --json is valid JSON" valid_json "$js"
assert_eq "VPS status --json: 2 live peers" 2 "$(json_sum "$js" peers)"
pn=$(e6ctl "$B4_VPS" "$vconf" peers "$B4_NAME")
assert_eq "edge6ctl peers $B4_NAME: the same endpoints" "$(awk '{print $1, $2}' <<<"$pt" | sort)" "$(awk '{print $1, $2}' <<<"$pn" | sort)"
assert_fail "edge6ctl peers nosuch: refused" e6ctl "$B4_VPS" "$vconf" peers nosuch
st=$(e6ctl "${B4_PEER[a]}" "$(e6d_conf peera)" status)
printf '%s\n' "$st" >"$E6_WORK/peera-status.txt"
assert_match "peer a status: its router 192.0.2.1" "192\.0\.2\.1" "$st"
assert_match "peer a status: its address" "${ADDR[a]}" "$st"
if out=$(e6ctl "${B4_PEER[a]}" "$(e6d_conf peera)" peers "$B4_NAME" 2>&1); then
    fail "edge6ctl peers $B4_NAME on a peer: accepted ($out)"
else assert_match "edge6ctl peers $B4_NAME on a peer: refused with a reason (a peer keeps no table)" "[a-z]" "$out"; fi

# --- keepalives (every 2 s) reach the router and are counted
ka0=$(tun_counter "$B4_VPS" "$vconf" '^6bed4\.keepalives$')
sleep 5
ka=$(($(tun_counter "$B4_VPS" "$vconf" '^6bed4\.keepalives$') - ka0))
assert_eq "keepalives counted on the router in 5 s from 2 peers (>= 3; got $ka)" 1 "$((ka >= 3))"

# --- a reload that leaves the tunnel alone (the proxy gains an exclude rule
# for the local server) keeps the peer table (first heard times go on) and
# the addresses
first() { json_get "$(b4_peers "$B4_VPS" "$vconf" json)" 'min(p["first_heard_s"] for t in j["tunnels"] for p in t["peers"])'; }
f0=$(first)
sed -i "s|^    rule $B4_PREFIX {|    rule $B4_SERVER/128 {\n        method = exclude\n    }\n&|" "$vconf"
assert_ok "edge6d -t accepts the changed config" "$EDGE6D" -t -c "$vconf"
assert_ok "edge6ctl reload (the proxy changed, the tunnel not)" e6ctl "$B4_VPS" "$vconf" reload
f1=$(first)
assert_eq "after reload: the peers' first-heard times kept ($f0 s -> $f1 s)" 1 "$((f1 >= f0 && f0 >= 10))"
pj2=$(b4_peers "$B4_VPS" "$vconf" json)
for id in a b; do
    read -r v4 port _ <<<"$(b4_decode "${ADDR[$id]}")"
    assert_ok "after reload: peer $id still listed" b4_peer_listed "$pj2" "$v4" "$port"
done
assert_eq "after reload: peer a keeps its address" "${ADDR[a]}" "$(b4_addr a)"
assert_ok "after reload: the internet host pings peer a" b4_ping "$B4_INET" "${ADDR[a]}"
assert_ok "after reload: peer b pings peer a" b4_ping "${B4_PEER[b]}" "${ADDR[a]}"

tun_counters_dump "$B4_VPS" "$vconf" vps
tun_counters_dump "${B4_PEER[a]}" "$(e6d_conf peera)" peera

# --- a crash of the VPS's edge6d: the TUN goes with it; a new edge6d
# learns the peers again from their keepalives alone (every 2 s), so the
# proxy answers the provider's router anew (its neighbour cache flushed)
# shellcheck disable=SC2154 # set by e6d_start
kill -KILL "$E6D_PID_vps"
wait "$E6D_PID_vps" 2>/dev/null
wait_for 5 "b4 gone with the crashed edge6d" sh -c "! ip netns exec $B4_VPS ip link show dev $B4_NAME"
e6d_start vps2 "$B4_VPS" "$vconf"
nsx "$B4_UP" ip -6 neigh flush dev u0
wait_for 10 "after a restart of the VPS's edge6d, the internet host reaches peer a (keepalives only meanwhile)" \
    b4_ping "$B4_INET" "${ADDR[a]}"

# --- stop: the TUNs and routes go with the daemons
tun_stop peer_a peer_b vps2
assert_fail "VPS: b4 removed at stop" nsx "$B4_VPS" ip link show dev "$B4_NAME"
assert_fail "peer a: b4 removed at stop" nsx "${B4_PEER[a]}" ip link show dev "$B4_NAME"
assert_eq "VPS: no proto 231 route left" "" "$(nsx "$B4_VPS" ip -6 route show proto 231)"
e6_done
