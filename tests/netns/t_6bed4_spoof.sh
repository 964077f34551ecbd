#!/usr/bin/env bash
# What the 6bed4 router accepts over UDP (lib_6bed4.sh draws the topology):
# datagrams built whole and sent from the IPv4 router's namespace (which
# can claim any IPv4 source and port), each case 5 datagrams carrying an
# ICMPv6 echo request, with the internet host's link (or peer b's TUN)
# watched and the VPS's TUN watched:
#   - control: peer a's mapped endpoint with peer a's address: delivered
#   - peer a's address from another port of NAT a (a rebinding, or a
#     forger): nothing delivered, drop_rebind +5, and RAs (rate-limited) to
#     that endpoint whose PIO is that endpoint's /114, captured at NAT a
#   - the same towards peer b (hair-pin): nothing reaches peer b
#   - sources that are no 6bed4 address of the /64 (the internet's space,
#     the local server's port-0 address): drop_spoofed +5 each
#   - a multicast destination, a cut or non-IPv6 payload, a hair-pin with
#     hop limit 1: drop_multicast / drop_short|not_ipv6 / drop_hop_limit
#   - ND over UDP: an NS for the router's fe80:: answered with an NA to
#     the asking endpoint; an NS for another address (nd_other) and an RS
#     with hop limit 64 (nd_hop_limit) refused
#   - 300 rebinding datagrams at once: the RA token bucket holds (RAs sent
#     at most its burst plus its rate, the rest counted ra_suppressed)
#   - no reflector: an address embedding an IPv4:port that is no live peer
#     (203.0.113.99:53), pinged by a peer (hair-pin) or from the internet,
#     makes the router send nothing (drop_not_live)
# and the drop counters show in `edge6ctl status --json`; the real peers
# keep working throughout.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_edge6d.sh"
. "$(dirname "$0")/lib_radv.sh"
. "$(dirname "$0")/lib_tun.sh"
. "$(dirname "$0")/lib_6bed4.sh"

e6d_prepare
b4_topo
b4_nat a
b4_nat b
vconf=$(e6d_conf vps)
b4_vps_conf "$vconf"
for id in a b; do b4_peer_conf "$(e6d_conf "peer$id")" $id; done
b4_start_vps "$vconf"
b4_start_peer a "$(e6d_conf peera)"
b4_start_peer b "$(e6d_conf peerb)"
wait_for 15 "peer a's address" b4_addr a
wait_for 15 "peer b's address" b4_addr b
A=$(b4_addr a)
B=$(b4_addr b)
read -r av4 aport _ <<<"$(b4_decode "$A")"
wait_for 10 "peer a reaches the internet host" b4_ping "${B4_PEER[a]}" "$B4_INET_ADDR"
wait_for 10 "peer a reaches peer b" b4_ping "${B4_PEER[a]}" "$B"
drop() { tun_counter "$B4_VPS" "$vconf" "^6bed4\\.drop_$1\$"; }
vcount() { tun_counter "$B4_VPS" "$vconf" "^6bed4\\.$1\$"; }

n_case=0
tunseen() { cat "$E6_WORK/tunseen"; }
# delivered NS IF ISRC IDST SPORT [SEND ARGS...]: how many of 5 echo
# requests ISRC -> IDST sent from $av4:SPORT reach IF in NS; the VPS's TUN
# must see none of them unless they were delivered to the internet host.
# The TUN's count goes to $E6_WORK/tunseen (tunseen prints it).
delivered() {
    local ns=$1 ifc=$2 isrc=$3 idst=$4 sport=$5 c t
    shift 5
    n_case=$((n_case + 1))
    c="count$n_case" t="tun$n_case"
    b4_watch "$c" "$ns" --iface "$ifc" --src "$isrc" --icmp6-type 128 --duration 3 || return
    b4_watch "$t" "$B4_VPS" --iface "$B4_NAME" --src "$isrc" --icmp6-type 128 --duration 3 || return
    b4_tool "$B4_WAN" send --src "${SRC4:-$av4}" --sport "$sport" --dst "$B4_VPS_V4" --isrc "$isrc" \
        --idst "$idst" --count 5 "$@" >>"$E6_WORK/send.log" 2>&1
    json_get "$(b4_watch_result "$t")" 'j.get("count", -1)' >"$E6_WORK/tunseen"
    json_get "$(b4_watch_result "$c")" 'j.get("count", -1)'
}

# --- control
assert_eq "control: peer a's address from its mapped endpoint $av4:$aport: 5 delivered" 5 \
    "$(delivered "$B4_INET" i0 "$A" "$B4_INET_ADDR" "$aport")"

# --- rebinding (or forged) endpoint: no forwarding, an RA instead
other=$((aport == 40999 ? 40998 : aport + 1))
b0=$(drop rebind)
ra0=$(vcount ra_sent)
b4_watch ra "${B4_NAT[a]}" --iface wan0 --udp-port "$B4_PORT" --icmp6-type 134 --duration 3
assert_eq "peer a's address from $av4:$other: nothing delivered" 0 \
    "$(delivered "$B4_INET" i0 "$A" "$B4_INET_ADDR" "$other")"
assert_eq "  ... nothing written into the VPS's TUN" 0 "$(tunseen)"
assert_eq "  ... drop_rebind +5" 5 "$(($(drop rebind) - b0))"
r=$(b4_watch_result ra)
printf '%s\n' "$r" >"$E6_WORK/ra-rebind.json"
want=$(b4_encode "$B4_P64" "$av4" "$other" 0)
nra=$(json_get "$r" 'sum(1 for x in j["ras"] if x["outer"] == "'"$B4_VPS_V4:$B4_PORT"'" and x.get("pios") and x["pios"][0]["prefix"] == "'"$want"'" and x["pios"][0]["plen"] == 114)')
assert_eq "  ... RAs to $av4:$other with PIO $want/114 (1..5: rate-limited; got $nra)" 1 "$((nra >= 1 && nra <= 5))"
assert_eq "  ... ra_sent rose as many" "$nra" "$(($(vcount ra_sent) - ra0))"
e6_log "rebinding RAs: $nra for 5 datagrams"

b0=$(drop rebind)
assert_eq "peer a's address from $av4:$other to peer b (hair-pin): nothing reaches peer b" 0 \
    "$(delivered "${B4_PEER[b]}" "$B4_NAME" "$A" "$B" "$other")"
assert_eq "  ... drop_rebind +5" 5 "$(($(drop rebind) - b0))"

# --- not a 6bed4 source of the /64
s0=$(drop spoofed)
assert_eq "source 2001:db8:ffff::99 (the internet's): nothing delivered" 0 \
    "$(delivered "$B4_INET" i0 2001:db8:ffff::99 "$B4_INET_ADDR" "$aport")"
assert_eq "  ... nothing written into the VPS's TUN" 0 "$(tunseen)"
assert_eq "source $B4_SERVER (the local server, port word 0): nothing delivered" 0 \
    "$(delivered "$B4_INET" i0 "$B4_SERVER" "$B4_INET_ADDR" "$aport")"
assert_eq "source 2001:db8:9:11::5 (outside the /64): nothing delivered" 0 \
    "$(delivered "$B4_INET" i0 2001:db8:9:11::5 "$B4_INET_ADDR" "$aport")"
assert_eq "drop_spoofed +15 for the three" 15 "$(($(drop spoofed) - s0))"

# --- other refusals
m0=$(drop multicast)
assert_eq "to ff0e::1 (multicast): nothing reaches the internet host" 0 \
    "$(delivered "$B4_INET" i0 "$A" ff0e::1 "$aport")"
assert_eq "drop_multicast +5" 5 "$(($(drop multicast) - m0))"
h0=$(drop hop_limit)
assert_eq "to peer b with hop limit 1: nothing reaches peer b" 0 \
    "$(delivered "${B4_PEER[b]}" "$B4_NAME" "$A" "$B" "$aport" --hlim 1)"
assert_eq "drop_hop_limit +5" 5 "$(($(drop hop_limit) - h0))"
g0=$(($(drop short) + $(drop not_ipv6)))
b4_tool "$B4_WAN" send --src "$av4" --sport "$aport" --dst "$B4_VPS_V4" --kind garbage --count 5 >>"$E6_WORK/send.log" 2>&1
assert_eq "48 bytes that are not IPv6 (version 4): drop_short/not_ipv6 +5" 5 \
    "$(($(drop short) + $(drop not_ipv6) - g0))"

# --- Neighbor Discovery over UDP: NS for the router's own fe80:: answered
# with an NA, NS for another address and RS with hop limit 64 refused
na0=$(vcount ns_answered)
b4_watch na "${B4_NAT[a]}" --iface wan0 --udp-port "$B4_PORT" --icmp6-type 136 --duration 3
b4_tool "$B4_WAN" send --src "$av4" --sport "$aport" --dst "$B4_VPS_V4" --kind ns --isrc "$A" --idst fe80:: \
    --count 1 >>"$E6_WORK/send.log" 2>&1
r=$(b4_watch_result na)
printf '%s\n' "$r" >"$E6_WORK/na.json"
assert_eq "NS from peer a for the router's fe80:: over UDP: ns_answered +1" 1 "$(($(vcount ns_answered) - na0))"
assert_eq "  ... one NA from fe80:: back to peer a's endpoint, hop limit 255" "1 fe80:: 255" \
    "$(json_get "$r" '"%d %s %s" % (j["count"], ",".join(j["sources"]), ",".join(str(h) for h in j["hlims"]))')"
o0=$(drop nd_other)
b4_tool "$B4_WAN" send --src "$av4" --sport "$aport" --dst "$B4_VPS_V4" --kind ns --isrc "$A" --idst "$B" \
    --count 5 >>"$E6_WORK/send.log" 2>&1
assert_eq "NS from peer a for peer b's address over UDP: drop_nd_other +5" 5 "$(($(drop nd_other) - o0))"
n0=$(drop nd_hop_limit)
b4_tool "$B4_WAN" send --src "$av4" --sport "$aport" --dst "$B4_VPS_V4" --kind rs --hlim 64 \
    --count 5 >>"$E6_WORK/send.log" 2>&1
assert_eq "RS with hop limit 64: drop_nd_hop_limit +5" 5 "$(($(drop nd_hop_limit) - n0))"

# --- a flood of rebinding datagrams: the RA bucket holds
ra0=$(vcount ra_sent)
su0=$(vcount ra_suppressed)
sleep 1 # the bucket refills
b4_tool "$B4_WAN" send --src 198.51.100.99 --sport 7777 --dst "$B4_VPS_V4" --isrc "$A" \
    --idst "$B4_INET_ADDR" --count 300 --interval 0 >>"$E6_WORK/send.log" 2>&1
sleep 0.5
sent=$(($(vcount ra_sent) - ra0))
sup=$(($(vcount ra_suppressed) - su0))
e6_log "300 rebinding datagrams: $sent RAs sent, $sup suppressed"
assert_eq "300 forged rebindings: every one answered or suppressed ($sent + $sup)" 300 "$((sent + sup))"
assert_eq "300 forged rebindings: at most 100 RAs (burst 50 + 100/s)" 1 "$((sent <= 100 && sup >= 200))"

js=$(tun_status_json "$B4_VPS" "$vconf")
printf '%s\n' "$js" >"$E6_WORK/vps-status.json"
assert_ok "status --json is valid JSON" valid_json "$js"
assert_eq "status --json: drop_spoofed of the tunnel >= 15" 1 "$(($(json_sum "$js" drop_spoofed) >= 15))"
assert_eq "status --json: drop_rebind of the tunnel >= 310" 1 "$(($(json_sum "$js" drop_rebind) >= 310))"

# --- no reflector: the router's UDP goes only to endpoints its table holds.
# An address embedding 203.0.113.99:53 is anyone's to write; a peer aiming
# there (hair-pin) and the internet aiming there (the provider routing the
# /64 to the VPS, no proxy in the way) get nothing sent.
refl=$(b4_encode "$B4_P64" 203.0.113.99 53 1)
hp0=$(vcount hairpin_packets)
nl0=$(drop not_live)
assert_fail "peer a cannot make the router send to 203.0.113.99:53 (hair-pin)" \
    nsx "${B4_PEER[a]}" ping -6 -c 3 -i 0.2 -W 1 "$refl"
nsx "$B4_UP" ip -6 route replace "$refl/128" via "$(radv_ll_of "$B4_VPS" eth0)" dev u0 2>>"$E6_WORK/asserts.log"
assert_fail "the internet host cannot either (routed to the VPS)" \
    nsx "$B4_INET" ping -6 -c 3 -i 0.2 -W 1 "$refl"
nsx "$B4_UP" ip -6 route del "$refl/128" 2>/dev/null
assert_eq "  ... no hair-pin sent" 0 "$(($(vcount hairpin_packets) - hp0))"
assert_eq "  ... 6 datagrams refused as drop_not_live" 6 "$(($(drop not_live) - nl0))"

# --- the real peers never noticed
assert_eq "peer a kept its address" "$A" "$(b4_addr a)"
assert_ok "peer a still reaches the internet host" b4_ping "${B4_PEER[a]}" "$B4_INET_ADDR"
assert_ok "peer b still reaches peer a" b4_ping "${B4_PEER[b]}" "$A"
tun_counters_dump "$B4_VPS" "$vconf" vps
tun_stop peer_a peer_b vps
e6_done
