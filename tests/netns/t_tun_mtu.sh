#!/usr/bin/env bash
# MTU across the 1480 tunnel (RFC 4213 3.2, 3.4):
#   - a 1500-byte packet from the internet host toward the LAN host earns a
#     Packet Too Big (mtu=1480) and the internet host caches 1480; 1480 fits
#   - the LAN host learnt 1480 from the RA and refuses a bigger packet
#     itself; with the RA's MTU ignored, its 1500-byte packet earns a Packet
#     Too Big (mtu=1480) from the home router
#   - mtu-discovery = static (the VPS, DF clear): an IPv4 path of 1400
#     between the ends fragments the outer packet and 1480-byte packets
#     still arrive
#   - mtu-discovery = dynamic (DF set): the IPv4 router's "fragmentation
#     needed" (1400) becomes a Packet Too Big of 1380 toward the inner
#     source, on the VPS (to the internet host) and on the home router (to
#     the LAN host); the counters say so; 1380-byte packets then pass
#   - a forged "fragmentation needed" of 576 yields a Packet Too Big of
#     1280 at most (the IPv6 minimum); one quoting a packet that was not
#     ours (another outer source) is ignored and counted
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_edge6d.sh"
. "$(dirname "$0")/lib_radv.sh"
. "$(dirname "$0")/lib_tun.sh"

e6d_prepare
tun_topo
tun_home a 198.51.100.2
home=${TUN_HOME[a]}
lan=${TUN_LAN[a]}
vconf=$(e6d_conf vps)
hconf=$(e6d_conf homea)
tun_vps_conf "$vconf" a
TUN_HOME_TUN="    mtu-discovery = dynamic"
tun_home_conf "$hconf" a
tun_start_vps "$vconf"
tun_start_home a "$hconf"
wait_for 10 "home a's tunnel up" tun_up a
wait_for 15 "the LAN host's SLAAC address" tun_lan_addr a
lanaddr=$(tun_lan_addr a)
wait_for 5 "the internet host reaches the LAN host" tun_ping "$TUN_INET" "$lanaddr"

# pingdf NAME NS DST SIZE: 3 echoes with DF (-M do) of SIZE payload bytes
# (IPv6 packet = SIZE + 48); output kept in NAME.txt and printed.
pingdf() {
    nsx "$2" ping -6 -n -M "do" -c 3 -i 0.3 -W 2 -s "$4" "$3" >"$E6_WORK/$1.txt" 2>&1
    cat "$E6_WORK/$1.txt"
}

# --- the tunnel MTU, toward the LAN and from it
out=$(pingdf inet1500 "$TUN_INET" "$lanaddr" 1452)
assert_match "internet host, 1500 bytes with DF: Packet Too Big, mtu 1480" "[Pp]acket too big.*mtu[=:] ?1480" "$out"
assert_eq "the internet host cached PMTU 1480 toward the LAN host" 1480 "$(tun_route_mtu "$TUN_INET" "$lanaddr")"
out=$(pingdf inet1480 "$TUN_INET" "$lanaddr" 1432)
assert_match "internet host, 1480 bytes with DF: 3/3" "3 packets transmitted, 3 received" "$out"
out=$(pingdf lan1500 "$lan" "$TUN_INET_ADDR" 1452)
assert_match "LAN host (link MTU 1480 from the RA) refuses 1500 bytes itself" "[Mm]essage too long|mtu[=:] ?1480" "$out"
assert_nomatch "... and nothing came back" " 3 received" "$out"
out=$(pingdf lan1480 "$lan" "$TUN_INET_ADDR" 1432)
assert_match "LAN host, 1480 bytes with DF: 3/3" "3 packets transmitted, 3 received" "$out"
# the RA's MTU is on the LAN host's default route too: a route of its own without it
nsx "$lan" sysctl -qw net.ipv6.conf.eth0.accept_ra_mtu=0 net.ipv6.conf.eth0.mtu=1500
nsx "$lan" ip -6 route add "$TUN_INET_ADDR/128" via "$(tun_ll "$home" lan0)" dev eth0
out=$(pingdf lan1500b "$lan" "$TUN_INET_ADDR" 1452)
assert_match "LAN host with link MTU 1500: Packet Too Big (mtu 1480) from the home router" \
    "[Pp]acket too big.*mtu[=:] ?1480" "$out"
assert_eq "the LAN host cached PMTU 1480 toward the internet host" 1480 "$(tun_route_mtu "$lan" "$TUN_INET_ADDR")"

# --- a 1400-byte IPv4 path from the VPS to home a; VPS static: fragments
nsx "$TUN_WAN" ip route add 198.51.100.2/32 dev br0 mtu 1400
nsx "$TUN_INET" ip -6 route flush cache
tun_tool_bg frags "$home" count --iface wan0 --v4-proto 41 --v4-src "$TUN_VPS_V4" --duration 4
wait_for 5 "capture ready" grep -q ready "$E6_WORK/frags.log"
out=$(pingdf static1480 "$TUN_INET" "$lanaddr" 1432)
assert_match "mtu-discovery static (DF clear), 1400-byte IPv4 path: 1480-byte packets arrive, 3/3" \
    "3 packets transmitted, 3 received" "$out"
wait_for 10 "capture done" grep -q '"count"' "$E6_WORK/frags.log"
n=$(json_get "$(grep '"count"' "$E6_WORK/frags.log")" 'j["count"]')
# each 1500-byte outer packet in 2 fragments (the count sees protocol 41 in both)
if [ "${n:-0}" -ge 6 ]; then ok "the outer packets crossed the IPv4 router as fragments ($n frames)"; else
    fail "expected >= 6 protocol-41 frames at home (fragments), saw ${n:-0}"; fi

# --- the VPS with mtu-discovery = dynamic: DF set, ICMPv4 becomes PTB
e6d_stop vps
TUN_VPS_TUN="    mtu-discovery = dynamic"
tun_vps_conf "$vconf" a
e6d_start vps2 "$TUN_VPS" "$vconf"
wait_for 10 "home a's tunnel up again" tun_up a
nsx "$TUN_INET" ip -6 route flush cache
relayed0=$(tun_counter "$TUN_VPS" "$vconf" '^tunnel.*ptb_relayed$')
out=$(pingdf dyn1480 "$TUN_INET" "$lanaddr" 1432)
assert_match "dynamic: 1480 bytes over the 1400 IPv4 path: Packet Too Big, mtu 1380, to the internet host" \
    "[Pp]acket too big.*mtu[=:] ?1380" "$out"
assert_eq "the internet host cached PMTU 1380" 1380 "$(tun_route_mtu "$TUN_INET" "$lanaddr")"
relayed=$(($(tun_counter "$TUN_VPS" "$vconf" '^tunnel.*ptb_relayed$') - relayed0))
if [ "$relayed" -ge 1 ]; then ok "VPS counter ptb_relayed +$relayed"; else fail "VPS counter ptb_relayed did not rise"; fi
out=$(pingdf dyn1380 "$TUN_INET" "$lanaddr" 1332)
assert_match "dynamic: 1380-byte packets pass, 3/3" "3 packets transmitted, 3 received" "$out"

# --- the home router (dynamic from the start), 1400 toward the VPS
nsx "$TUN_WAN" ip route add "$TUN_VPS_V4/32" dev w0 mtu 1400
nsx "$lan" ip -6 route flush cache
out=$(pingdf homedyn "$lan" "$TUN_INET_ADDR" 1432)
assert_match "home dynamic: the LAN host's 1480 bytes earn a Packet Too Big of 1380" \
    "[Pp]acket too big.*mtu[=:] ?1380" "$out"
assert_eq "the LAN host cached PMTU 1380" 1380 "$(tun_route_mtu "$lan" "$TUN_INET_ADDR")"
out=$(pingdf homedyn1380 "$lan" "$TUN_INET_ADDR" 1332)
assert_match "home dynamic: 1380-byte packets pass, 3/3" "3 packets transmitted, 3 received" "$out"

# --- forged "fragmentation needed" (any host on the IPv4 side can send one)
# forged NAME MTU QSRC: one ICMPv4 from the IPv4 router to the VPS quoting a
# protocol-41 packet QSRC -> home a (inner: internet host -> LAN host);
# prints the MTUs of the Packet Too Bigs the internet host then receives.
forged() {
    tun_tool_bg "$1" "$TUN_INET" count --iface i0 --dst "$TUN_INET_ADDR" --icmp6-type 2 --duration 1.5
    wait_for 5 "capture ready" grep -q ready "$E6_WORK/$1.log" || return
    tun_tool "$TUN_WAN" icmp4 --src "$TUN_WAN_V4" --dst "$TUN_VPS_V4" --mtu "$2" --qsrc "$3" \
        --qdst 198.51.100.2 --isrc "$TUN_INET_ADDR" --idst "$lanaddr" >>"$E6_WORK/icmp4.log" 2>&1
    wait_for 10 "capture done" grep -q '"count"' "$E6_WORK/$1.log" || return
    json_get "$(grep '"count"' "$E6_WORK/$1.log")" '" ".join(str(m) for m in j["ptb_mtus"]) or "none"'
}
nsx "$TUN_INET" ip -6 route flush cache
relayed0=$(tun_counter "$TUN_VPS" "$vconf" '^tunnel.*ptb_relayed$')
assert_eq "a forged frag-needed of 576 about our packet: Packet Too Big clamped to 1280 (IPv6 minimum)" \
    1280 "$(forged forged576 576 "$TUN_VPS_V4")"
assert_eq "... counted as relayed" 1 "$(($(tun_counter "$TUN_VPS" "$vconf" '^tunnel.*ptb_relayed$') - relayed0))"
ign0=$(tun_counter "$TUN_VPS" "$vconf" '^tunnel.*icmp4_ignored$')
assert_eq "a frag-needed quoting a packet from another source (192.0.2.77): no Packet Too Big" \
    none "$(forged forgedother 1400 192.0.2.77)"
assert_eq "... counted as icmp4_ignored" 1 "$(($(tun_counter "$TUN_VPS" "$vconf" '^tunnel.*icmp4_ignored$') - ign0))"
out=$(pingdf after1280 "$TUN_INET" "$lanaddr" 1232)
# RFC 8200 5: every link carries 1280 bytes; RFC 4213 3.2: below that the
# encapsulator lets IPv4 fragment
assert_match "1280-byte packets still pass after the forged one (an IPv6 link carries 1280), 3/3" \
    "3 packets transmitted, 3 received" "$out"
out=$(pingdf after1000 "$TUN_INET" "$lanaddr" 952)
assert_match "1000-byte packets still pass after the forged one, 3/3" "3 packets transmitted, 3 received" "$out"

tun_counters_dump "$TUN_VPS" "$vconf" vps
tun_counters_dump "$home" "$hconf" home
tun_stop vps2 home_a
e6_done
