#!/usr/bin/env bash
# Packet sizes on the 6bed4 link (lib_6bed4.sh draws the topology): the
# link MTU is 1280 on both TUNs; a whole 1280-byte IPv6 packet passes both
# ways with DF; a bigger one from the internet draws a Packet Too Big from
# the VPS (its kernel routes into the 1280 TUN), after which the internet
# host fragments (IPv6 fragments cross the tunnel like any packet); the
# peer's own kernel fragments what it sends. Then the IPv4 link between the
# IPv4 router and NAT a narrows to 1300 bytes, less than a full datagram
# (1280 + 28): the datagrams leave edge6d with DF clear, so the IPv4
# router fragments them (FragCreates) and NAT a reassembles them
# (ReasmOKs): echoes of 1280 bytes and 1 MB of TCP each way arrive whole.
# Last the links of both senders narrow to 1300: the kernel refuses runs
# of datagrams sent with UDP_SEGMENT there, both edge6d fall back to
# datagram by datagram and their own kernels fragment; 1 MB each way again.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_edge6d.sh"
. "$(dirname "$0")/lib_radv.sh"
. "$(dirname "$0")/lib_tun.sh"
. "$(dirname "$0")/lib_6bed4.sh"

e6d_prepare
b4_topo
b4_nat a
vconf=$(e6d_conf vps)
b4_vps_conf "$vconf"
b4_peer_conf "$(e6d_conf peera)" a
b4_start_vps "$vconf"
b4_start_peer a "$(e6d_conf peera)"
wait_for 15 "peer a's address" b4_addr a
A=$(b4_addr a)
pa=${B4_PEER[a]}
wait_for 10 "the internet host reaches peer a" b4_ping "$B4_INET" "$A"
# big NS SIZE DST [PING ARGS...]: 2 of 2 echoes of SIZE bytes of data come back
# shellcheck disable=SC2317 # called by assert_ok
big() { nsx "$1" ping -6 -n -q -c 2 -i 0.2 -W 2 -s "$2" "${@:4}" "$3" 2>&1 | grep -q ' 2 received'; }

assert_ok "internet -> peer a: 1280-byte packets, DF (ping -M do -s 1232)" big "$B4_INET" 1232 "$A" -M "do"
assert_ok "peer a -> internet: 1280-byte packets, DF" big "$pa" 1232 "$B4_INET_ADDR" -M "do"
nsx "$B4_INET" ping -6 -n -q -c 1 -W 2 -s 1400 -M "do" "$A" >/dev/null 2>&1
assert_eq "internet host: a Packet Too Big taught it MTU 1280 towards peer a" 1280 "$(tun_route_mtu "$B4_INET" "$A")"
assert_ok "internet -> peer a: 1448-byte packets in IPv6 fragments" big "$B4_INET" 1400 "$A"
assert_ok "peer a -> internet: 1448-byte packets, fragmented by the peer's kernel" big "$pa" 1400 "$B4_INET_ADDR"

# --- a 1300-byte IPv4 link between the IPv4 router and NAT a
nsx "$B4_WAN" ip link set wa mtu 1300
nsx "${B4_NAT[a]}" ip link set wan0 mtu 1300
# snmp NS KEY: the Ip counter KEY of /proc/net/snmp in NS
# shellcheck disable=SC2016 # awk's
snmp() { nsx "$1" awk -v k="$2" '$1 == "Ip:" {if (!seen) {for (i = 2; i <= NF; i++) if ($i == k) col = i; seen = 1} else print $col}' /proc/net/snmp; }
fc0=$(snmp "$B4_WAN" FragCreates)
ro0=$(snmp "${B4_NAT[a]}" ReasmOKs)
assert_ok "over the 1300-byte IPv4 link: internet -> peer a, 1280-byte packets" big "$B4_INET" 1232 "$A"
assert_ok "over the 1300-byte IPv4 link: peer a -> internet, 1280-byte packets" big "$pa" 1232 "$B4_INET_ADDR"
x=$(tun_xfer down "$B4_INET" "$pa" "$A" 1000000 5701)
assert_match "over the 1300-byte IPv4 link: 1 MB internet -> peer a, whole" "^1000000 ([0-9a-f]{16}) 1000000 \1$" "$x"
x=$(tun_xfer up "$pa" "$B4_INET" "$B4_INET_ADDR" 1000000 5702)
assert_match "over the 1300-byte IPv4 link: 1 MB peer a -> internet, whole" "^1000000 ([0-9a-f]{16}) 1000000 \1$" "$x"
fc=$(($(snmp "$B4_WAN" FragCreates) - fc0))
ro=$(($(snmp "${B4_NAT[a]}" ReasmOKs) - ro0))
e6_log "IPv4 router: $fc fragments created; NAT a: $ro datagrams reassembled"
assert_eq "the IPv4 router fragmented the router's datagrams (DF clear; FragCreates >= 100)" 1 "$((fc >= 100))"
assert_eq "NAT a reassembled them (ReasmOKs >= 50)" 1 "$((ro >= 50))"


# --- the senders' own links at 1300 bytes: a run of datagrams with
# UDP_SEGMENT is refused (the kernel segments, it does not fragment), so
# both edge6d send datagram by datagram (udp_gso_fallbacks) and their own
# kernels fragment
nsx "$B4_WAN" ip link set wa mtu 1500
nsx "${B4_NAT[a]}" ip link set wan0 mtu 1500
for l in "$B4_VPS wan0" "$B4_WAN w0" "${B4_NAT[a]} lan0" "$pa eth0"; do
    # shellcheck disable=SC2086 # NS IFACE
    set -- $l
    nsx "$1" ip link set "$2" mtu 1300
done
vf0=$(b4_cnt "$B4_VPS" "$vconf" udp_gso_fallbacks)
pf0=$(b4_cnt "$pa" "$(e6d_conf peera)" udp_gso_fallbacks)
vfc0=$(snmp "$B4_VPS" FragCreates)
pfc0=$(snmp "$pa" FragCreates)
x=$(tun_xfer down "$B4_INET" "$pa" "$A" 1000000 5703)
assert_match "1300-byte links at both ends: 1 MB internet -> peer a, whole" "^1000000 ([0-9a-f]{16}) 1000000 \1$" "$x"
x=$(tun_xfer up "$pa" "$B4_INET" "$B4_INET_ADDR" 1000000 5704)
assert_match "1300-byte links at both ends: 1 MB peer a -> internet, whole" "^1000000 ([0-9a-f]{16}) 1000000 \1$" "$x"
vf=$(($(b4_cnt "$B4_VPS" "$vconf" udp_gso_fallbacks) - vf0))
pf=$(($(b4_cnt "$pa" "$(e6d_conf peera)" udp_gso_fallbacks) - pf0))
vfc=$(($(snmp "$B4_VPS" FragCreates) - vfc0))
pfc=$(($(snmp "$pa" FragCreates) - pfc0))
e6_log "udp_gso_fallbacks vps $vf peer a $pf; fragments created: vps $vfc, peer a $pfc"
assert_eq "the VPS fell back from UDP segmentation (udp_gso_fallbacks >= 1)" 1 "$((vf >= 1))"
assert_eq "peer a fell back from UDP segmentation (udp_gso_fallbacks >= 1)" 1 "$((pf >= 1))"
assert_eq "the VPS's kernel fragmented its datagrams (FragCreates >= 100)" 1 "$((vfc >= 100))"
assert_eq "peer a's kernel fragmented its datagrams (FragCreates >= 100)" 1 "$((pfc >= 100))"

tun_counters_dump "$B4_VPS" "$vconf" vps
tun_counters_dump "$pa" "$(e6d_conf peera)" peera
tun_stop peer_a vps
e6_done
