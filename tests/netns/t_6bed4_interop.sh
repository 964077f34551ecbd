#!/usr/bin/env bash
# 6bed4 interop on the wire (lib_6bed4.sh draws the topology): a capture of
# the VPS's IPv4 link from before the peers start (their RS/RA) through
# echoes internet <-> peers, a hair-pinned peer-to-peer exchange, a TCP
# stream, keepalives and a Router Solicitation byte for byte as the
# reference 6bed4peer sends it, decoded by tshark -V with the UDP port
# decoded as IPv6 (`-d udp.port==25790,ipv6`; IPv4, UDP, TCP and ICMPv6
# checksum validation on): every non-empty datagram is a whole IPv6
# packet (UDP length = IPv6 payload + 48), nothing malformed, no expert
# warning or error, every ICMPv6 checksum good; RS from :: to ff02::2 with
# hop limit 255; each RA from fe80:: to ff02::1 with hop limit 255 whose
# PIO is the /114 of the very endpoint it is sent to (L, A, infinite
# lifetimes), MTU 1280 and the configured route as an RFC 4191 RIO;
# keepalives are empty datagrams that left the peer with TTL 3 (1 at the
# VPS, after the NAT and the IPv4 router); DF clear on every datagram of
# the router and the peers (the IPv4 side may fragment); inner hop limits: one per
# router, the hair-pin one. The reference peer's own RA handling (its code,
# emulated step by step in b4_tool: source exactly fe80::, destination,
# flag bit, option lengths, a /114 PIO with L and A) accepts our RA and
# takes the address the NAT's conntrack entry predicts. A peer with
# default-route = no routes the offered route into its TUN instead.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_edge6d.sh"
. "$(dirname "$0")/lib_radv.sh"
. "$(dirname "$0")/lib_tun.sh"
. "$(dirname "$0")/lib_6bed4.sh"

command -v tshark >/dev/null || { fail "tshark is not installed (package tshark)"; exit 1; }
e6d_prepare
b4_topo
b4_nat a
b4_nat b
vconf=$(e6d_conf vps)
B4_VPS_TUN='    routes = { "2001:db8:9:20::/64" }'
b4_vps_conf "$vconf"
b4_peer_conf "$(e6d_conf peera)" a
B4_DEFAULT_ROUTE=no b4_peer_conf "$(e6d_conf peerb)" b
# checksums whole on the wire: no transmit checksum offload where the UDP
# datagrams start (a veth otherwise hands them on with the checksum unfinished)
# shellcheck disable=SC2317 # called through txcsum_all_off
txcsum_off() {
    nsx "$1" "$E6_PY" -c '
import array, fcntl, socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
ev = array.array("I", [0x17, 0])  # ETHTOOL_STXCSUM off
fcntl.ioctl(s.fileno(), 0x8946, struct.pack("16sP", sys.argv[1].encode(), ev.buffer_info()[0]))' "$2"
}
# shellcheck disable=SC2317 # called by assert_ok
txcsum_all_off() { txcsum_off "$B4_VPS" wan0 && txcsum_off "${B4_PEER[a]}" eth0 && txcsum_off "${B4_PEER[b]}" eth0; }
assert_ok "tx checksum offload off on the VPS's wan0 and the peers' eth0" txcsum_all_off
b4_start_vps "$vconf"

cap=$E6_WORK/wan0.pcap
e6_bg dumpcap "$B4_VPS" timeout 40 dumpcap -q -i wan0 -f "udp port $B4_PORT" -w "$cap"
cap_pid=$E6_BG_PID
wait_for 10 "dumpcap capturing" test -s "$cap"
b4_start_peer a "$(e6d_conf peera)"
b4_start_peer b "$(e6d_conf peerb)"
wait_for 15 "peer a's address" b4_addr a
wait_for 15 "peer b's address" b4_addr b
A=$(b4_addr a)
B=$(b4_addr b)

# the reference peer's RS from peer a's namespace (its own port behind NAT a)
r=$(b4_tool "${B4_PEER[a]}" rs --router "$B4_VPS_V4" --lport 50100 --wait 2)
printf '%s\n' "$r" >"$E6_WORK/ref-rs.json"
map=$(b4_ct_map a 50100)
assert_eq "reference RS: one RA back" 1 "$(json_get "$r" 'len(j["ras"])')"
ra() { json_get "$r" "$1"; }
assert_eq "RA: from fe80:: (exactly) to ff02::1, hop limit 255" "fe80:: ff02::1 255" \
    "$(ra '"%s %s %d" % (j["ras"][0]["src"], j["ras"][0]["dst"], j["ras"][0]["hlim"])')"
assert_eq "RA: ICMPv6 type 134 code 0, checksum good" "134 0 True" \
    "$(ra '"%d %d %s" % (j["ras"][0]["type"], j["ras"][0]["code"], j["ras"][0]["csum_ok"])')"
assert_eq "RA: no M flag (the reference peer drops DHCPv6 offers), flag bit 0 clear" "0 0" \
    "$(ra '"%d %d" % (j["ras"][0]["flags"] >> 7, j["ras"][0]["flags"] & 1)')"
assert_eq "RA: router lifetime > 0" True "$(ra 'j["ras"][0]["router_lifetime"] > 0')"
assert_eq "RA: no option of length 0 or past the end" "[]" "$(ra 'j["ras"][0]["bad_opts"]')"
want=$(b4_encode "$B4_P64" "${map%:*}" "${map#*:}" 0)
assert_eq "RA: one PIO: $want/114, L=1 A=1, valid and preferred infinite" \
    "1 $want 114 1 1 4294967295 4294967295" \
    "$(ra '" ".join(str(x) for x in [len(j["ras"][0]["pios"])] + [j["ras"][0]["pios"][0][k] for k in ("prefix", "plen", "L", "A", "valid", "preferred")])')"
assert_eq "RA: MTU option 1280" 1280 "$(ra 'j["ras"][0]["mtu"]')"
assert_eq "RA: the route 2001:db8:9:20::/64 as an RFC 4191 RIO, lifetime > 0" "2001:db8:9:20:: 64 True" \
    "$(ra '" ".join("%s %d %s" % (x["prefix"], x["plen"], x["lifetime"] > 0) for x in j["ras"][0]["rios"])')"
assert_eq "the reference 6bed4peer's RA handling accepts it" "True " \
    "$(ra '"%s %s" % (j["ras"][0]["ref_ok"], j["ras"][0]["ref_why"])')"
assert_eq "... and takes lanip 1 of NAT a's mapping $map" "$(b4_encode "$B4_P64" "${map%:*}" "${map#*:}" 1)" \
    "$(ra 'j["ras"][0]["ref_addr"]')"
assert_match "peer b (default-route = no): the offered route 2001:db8:9:20::/64 into b4" \
    "^2001:db8:9:20::/64 .*dev $B4_NAME" "$(nsx "${B4_PEER[b]}" ip -6 route show 2001:db8:9:20::/64)"
assert_eq "peer b (default-route = no): no default route" "" "$(nsx "${B4_PEER[b]}" ip -6 route show default)"

# traffic: echoes both ways, hair-pin, local server, TCP
wait_for 10 "the internet host reaches peer a" b4_ping "$B4_INET" "$A"
out=$(nsx "$B4_INET" ping -6 -n -q -c 5 -i 0.1 -W 1 "$A" 2>&1)
assert_match "internet -> peer a: 5/5" "5 received" "$out"
out=$(nsx "${B4_PEER[a]}" ping -6 -n -q -c 5 -i 0.1 -W 1 "$B4_INET_ADDR" 2>&1)
assert_match "peer a -> internet: 5/5" "5 received" "$out"
out=$(nsx "${B4_PEER[a]}" ping -6 -n -q -c 5 -i 0.1 -W 1 "$B" 2>&1)
assert_match "peer a -> peer b (hair-pin): 5/5" "5 received" "$out"
out=$(nsx "${B4_PEER[b]}" ping -6 -n -q -c 3 -i 0.1 -W 1 "$B4_SERVER" 2>&1)
assert_match "peer b -> the local server: 3/3" "3 received" "$out"
x=$(tun_xfer s "${B4_PEER[a]}" "$B4_INET" "$B4_INET_ADDR" 300000 5601)
assert_match "300 kB peer a -> internet, whole" "^300000 ([0-9a-f]{16}) 300000 \1$" "$x"
sleep 2.5 # a keepalive from each peer (every 2 s)
kill -INT "$cap_pid" 2>/dev/null
wait "$cap_pid" 2>/dev/null

# shellcheck disable=SC2054 # the commas are tshark's
opts=(-d "udp.port==$B4_PORT,ipv6" -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE
    -o tcp.check_checksum:TRUE -o tcp.analyze_sequence_numbers:FALSE -d tcp.port==5601,data)
dec=$E6_WORK/decode.txt
tshark -n "${opts[@]}" -r "$cap" -V >"$dec" 2>"$E6_WORK/tshark.err"
assert_eq "tshark reads the capture" 0 $?
# one pass of tshark into a table; tq FILTER [FIELD...] then filters it
# (FILTER: a python expression over `r`, whose attributes are the fields
# below with "_" for ".", "" when absent): the FIELDs of each matching
# frame, or how many frames match
tsv=$E6_WORK/fields.tsv
TQ_FIELDS=(frame.number ip.src ip.dst ip.ttl udp.srcport udp.dstport udp.length udp.checksum.status
    ipv6.plen ipv6.src ipv6.dst ipv6.hlim icmpv6.type icmpv6.checksum.status icmpv6.opt.prefix
    icmpv6.opt.prefix.length icmpv6.opt.prefix.flag.l icmpv6.opt.prefix.flag.a icmpv6.opt.mtu ip.flags.df)
tqe=()
for x in "${TQ_FIELDS[@]}"; do tqe+=(-e "$x"); done
tshark -n "${opts[@]}" -r "$cap" -T fields -E separator=/t -E occurrence=f "${tqe[@]}" >"$tsv" 2>>"$E6_WORK/tshark.err"
tq() {
    "$E6_PY" -c '
import sys, types
names = [n.replace(".", "_") for n in sys.argv[2].split()]
flt, out = sys.argv[3], [f.replace(".", "_") for f in sys.argv[4:]]
n = 0
for line in open(sys.argv[1]):
    r = types.SimpleNamespace(**dict(zip(names, line.rstrip("\n").split("\t"))))
    if eval(flt):
        n += 1
        if out:
            print(" ".join(getattr(r, f) for f in out))
if not out:
    print(n)' "$tsv" "${TQ_FIELDS[*]}" "$@"
}
frames=$(tq True)
v6=$(tq 'r.ipv6_plen != ""')
if [ "$v6" -ge 200 ]; then ok "tshark: $v6 frames of $frames decode as IPv6 in UDP"; else
    fail "tshark: only $v6 IPv6-in-UDP frames of $frames (expected >= 200)"; fi
assert_eq "every UDP checksum good" "$frames" "$(tq 'r.udp_checksum_status == "1"')"
assert_eq "every datagram is IPv6 or an empty keepalive" 0 "$(tq 'r.ipv6_plen == "" and r.udp_length != "8"')"
assert_eq "UDP length = IPv6 payload + 48 in every IPv6 frame" 0 \
    "$(tq 'r.ipv6_plen != "" and int(r.udp_length) != int(r.ipv6_plen) + 48')"
assert_nomatch "tshark: nothing malformed" "[Mm]alformed" "$(cat "$dec")"
assert_nomatch "tshark: no expert warning or error" "Expert Info \((Warning|Error)" "$(cat "$dec")"
assert_nomatch "tshark: no bad checksum" "\[(Header c|C)hecksum [Ss]tatus: Bad\]|[Cc]hecksum.*incorrect" "$(cat "$dec")"
assert_eq "tshark: no frame flagged by the expert system" 0 \
    "$(tshark -n "${opts[@]}" -r "$cap" -Y "_ws.expert.severity >= warning || _ws.malformed" 2>/dev/null | wc -l)"
icmp=$(tq 'r.icmpv6_type != ""')
assert_eq "all $icmp ICMPv6 messages (>= 30 expected) with a good checksum" "$icmp 1" \
    "$(tq 'r.icmpv6_type != "" and r.icmpv6_checksum_status == "1"') $((icmp >= 30))"

# RS and RA on the wire
rs=$(tq 'r.icmpv6_type == "133"' ip.src ipv6.src ipv6.dst ipv6.hlim | sort -u)
printf '%s\n' "$rs" >"$E6_WORK/rs.txt"
assert_match "RS from NAT a's public address, :: -> ff02::2, hop limit 255" "^${B4_PUB[a]} :: ff02::2 255$" "$rs"
assert_match "RS from NAT b's public address, :: -> ff02::2, hop limit 255" "^${B4_PUB[b]} :: ff02::2 255$" "$rs"
ras=$(tq 'r.icmpv6_type == "134"' ip.src udp.srcport ip.dst udp.dstport ipv6.src ipv6.dst ipv6.hlim \
    icmpv6.opt.prefix icmpv6.opt.prefix.length icmpv6.opt.prefix.flag.l icmpv6.opt.prefix.flag.a icmpv6.opt.mtu)
printf '%s\n' "$ras" >"$E6_WORK/ras.txt"
nra=$(grep -c . <<<"$ras")
assert_eq "RAs: at least 3 (two peers, the reference RS)" 1 "$((nra >= 3))"
bad=$(while read -r s4 sp d4 dp src dst hl pfx plen fl fa mtu; do
    w=$(b4_encode "$B4_P64" "$d4" "$dp" 0)
    [ "$s4:$sp $src $dst $hl $pfx $plen $fl $fa $mtu" = "$B4_VPS_V4:$B4_PORT fe80:: ff02::1 255 $w 114 1 1 1280" ] ||
        echo "$s4:$sp -> $d4:$dp $src $dst hlim $hl PIO $pfx/$plen L$fl A$fa mtu $mtu (want PIO $w)"
done <<<"$ras")
assert_eq "every RA: from the router's port, fe80:: -> ff02::1, hop limit 255, PIO = the /114 of its destination endpoint, L A, MTU 1280" "" "$bad"

# keepalives: empty datagrams, TTL 3 at the peer
ka=$(tq 'r.udp_length == "8" and r.ip_dst == "'"$B4_VPS_V4"'"' ip.src ip.ttl | sort -u)
printf '%s\n' "$ka" >"$E6_WORK/keepalives.txt"
assert_match "keepalives from NAT a arrive with TTL 1 (3 - NAT - IPv4 router)" "^${B4_PUB[a]} 1$" "$ka"
assert_match "keepalives from NAT b arrive with TTL 1" "^${B4_PUB[b]} 1$" "$ka"
assert_eq "data from the router: IPv4 TTL 64 (default ttl)" "64" \
    "$(tq 'r.ip_src == "'"$B4_VPS_V4"'" and r.ipv6_plen != ""' ip.ttl | sort -u | xargs)"

# the reference router's fix (its commit 6416a58): the IPv4 side must be free to fragment
assert_eq "the router's datagrams leave with DF clear" "0" \
    "$(tq 'r.ip_src == "'"$B4_VPS_V4"'"' ip.flags.df | sort -u | xargs)"
assert_eq "the peers' datagrams (not the reference RS tool's) leave with DF clear" "0" \
    "$(tq 'r.ip_dst == "'"$B4_VPS_V4"'" and r.udp_srcport != "'"${map#*:}"'"' ip.flags.df | sort -u | xargs)"

# inner hop limits, one per router
assert_eq "internet -> peer a echo requests: hop limit 62 (up, the VPS's kernel)" "62" \
    "$(tq 'r.ip_src == "'"$B4_VPS_V4"'" and r.ipv6_src == "'"$B4_INET_ADDR"'" and r.icmpv6_type == "128"' ipv6.hlim | sort -u | xargs)"
assert_eq "peer a -> peer b echo requests: 64 in from NAT a, 63 out to NAT b (the hair-pin's hop)" "64 63" \
    "$(tq 'r.ip_dst == "'"$B4_VPS_V4"'" and r.ipv6_dst == "'"$B"'" and r.icmpv6_type == "128"' ipv6.hlim | sort -u | xargs) $(tq 'r.ip_src == "'"$B4_VPS_V4"'" and r.ipv6_dst == "'"$B"'" and r.icmpv6_type == "128"' ipv6.hlim | sort -u | xargs)"
assert_eq "local server's echo replies to peer b: hop limit 64 (nobody forwarded them)" "64" \
    "$(tq 'r.ip_src == "'"$B4_VPS_V4"'" and r.ipv6_src == "'"$B4_SERVER"'" and r.icmpv6_type == "129"' ipv6.hlim | sort -u | xargs)"

tun_stop peer_a peer_b vps
e6_done
