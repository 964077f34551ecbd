#!/usr/bin/env bash
# Interop on the wire: a capture of the VPS's IPv4 link while the LAN host
# and the internet host exchange echoes and a TCP stream through the
# tunnel, decoded by tshark -V (Wireshark's own dissectors, with IPv4, TCP
# and ICMPv6 checksum validation on): every frame is IPv4 protocol 41
# carrying a whole IPv6 packet (IPv4 total length = IPv6 payload + 60),
# nothing malformed, no expert warning or error, no bad checksum. Also on
# the wire: the outer TTL is the configured one (ttl = 40 on the VPS, the
# default 64 on the home router, 63 once across the IPv4 router), DF clear
# from the static VPS and set from the dynamic home router (RFC 4213 3.2),
# and the inner hop limit decremented once per router (echo requests from
# the internet host carry 62 inside: up and the VPS; from the LAN host 63:
# the home router), never by the tunnel itself.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_edge6d.sh"
. "$(dirname "$0")/lib_radv.sh"
. "$(dirname "$0")/lib_tun.sh"

command -v tshark >/dev/null || { fail "tshark is not installed (package tshark)"; exit 1; }
e6d_prepare
tun_topo
tun_home a 198.51.100.2
vconf=$(e6d_conf vps)
hconf=$(e6d_conf homea)
TUN_VPS_TUN='    ttl = 40'
tun_vps_conf "$vconf" a
TUN_HOME_TUN='    mtu-discovery = dynamic'
tun_home_conf "$hconf" a
tun_start_vps "$vconf"
tun_start_home a "$hconf"
wait_for 10 "home a's tunnel up" tun_up a
wait_for 15 "LAN a's SLAAC address" tun_lan_addr a
la=$(tun_lan_addr a)
lan=${TUN_LAN[a]}
wait_for 5 "the internet host reaches the LAN host" tun_ping "$TUN_INET" "$la"

cap=$E6_WORK/wan0.pcap
e6_bg dumpcap "$TUN_VPS" timeout 30 dumpcap -q -i wan0 -f "ip" -w "$cap"
cap_pid=$E6_BG_PID
wait_for 10 "dumpcap capturing" test -s "$cap"
nsx "$TUN_INET" ping -6 -n -q -c 5 -i 0.2 -W 1 "$la" >"$E6_WORK/ping1.txt" 2>&1
assert_match "internet -> LAN: 5/5" "5 received" "$(cat "$E6_WORK/ping1.txt")"
nsx "$lan" ping -6 -n -q -c 5 -i 0.2 -W 1 "$TUN_INET_ADDR" >"$E6_WORK/ping2.txt" 2>&1
assert_match "LAN -> internet: 5/5" "5 received" "$(cat "$E6_WORK/ping2.txt")"
x=$(tun_xfer s "$lan" "$TUN_INET" "$TUN_INET_ADDR" 300000 5501)
assert_match "300 kB LAN -> internet through the tunnel, whole" "^300000 ([0-9a-f]{16}) 300000 \1$" "$x"
sleep 0.5
kill -INT "$cap_pid" 2>/dev/null
wait "$cap_pid" 2>/dev/null

# TCP's sequence analysis judges the stream's flow control (a full receive
# window is a "warning"), not the packets: off
# shellcheck disable=SC2054 # the comma is tshark's
opts=(-o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE -o tcp.analyze_sequence_numbers:FALSE
    -d tcp.port==5501,data)
dec=$E6_WORK/decode.txt
tshark -n "${opts[@]}" -r "$cap" -V >"$dec" 2>"$E6_WORK/tshark.err"
assert_eq "tshark reads the capture" 0 $?
frames=$(grep -c '^Frame [0-9]' "$dec")
p41=$(tshark -n -r "$cap" -Y "ip.proto == 41" 2>/dev/null | wc -l)
if [ "$p41" -ge 200 ]; then ok "tshark: $p41 protocol-41 frames of $frames"; else
    fail "tshark: only $p41 protocol-41 frames of $frames (expected >= 200: 20 echoes, 212 segments of 300 kB and their ACKs)"; fi
assert_eq "every frame is IPv4 protocol 41 with an IPv6 packet inside" "$frames" \
    "$(tshark -n -r "$cap" -Y "ip.proto == 41 && ipv6" 2>/dev/null | wc -l)"
assert_nomatch "tshark: nothing malformed" "[Mm]alformed" "$(cat "$dec")"
assert_nomatch "tshark: no expert warning or error" "Expert Info \((Warning|Error)" "$(cat "$dec")"
assert_nomatch "tshark: no bad checksum" "\[(Header c|C)hecksum [Ss]tatus: Bad\]|[Cc]hecksum.*incorrect" "$(cat "$dec")"
assert_eq "tshark: no frame flagged by the expert system" 0 \
    "$(tshark -n "${opts[@]}" -r "$cap" -Y "_ws.expert.severity >= warning || _ws.malformed" 2>/dev/null | wc -l)"
# fields FILTER FIELDS...: distinct value lines
fields() {
    local f=$1 a=()
    shift
    for x in "$@"; do a+=(-e "$x"); done
    tshark -n -r "$cap" -Y "$f" -T fields -E separator=' ' "${a[@]}" 2>/dev/null | sort -u
}
assert_eq "IPv4 total length = IPv6 payload length + 60 in every frame" "" \
    "$(tshark -n -r "$cap" -Y 'ip.proto == 41' -T fields -E separator=' ' -e ip.len -e ipv6.plen 2>/dev/null |
        awk '$1 != $2 + 60')"
assert_eq "from the VPS: TTL 40 (ttl = 40), DF clear (static)" "40 0" \
    "$(fields "ip.src == $TUN_VPS_V4" ip.ttl ip.flags.df | xargs)"
assert_eq "from home a: TTL 63 (64, one IPv4 router), DF set (dynamic)" "63 1" \
    "$(fields "ip.src == 198.51.100.2" ip.ttl ip.flags.df | xargs)"
assert_eq "inner echo requests from the internet host: hop limit 62 (up, VPS)" "62" \
    "$(fields "ip.src == $TUN_VPS_V4 && ipv6.src == $TUN_INET_ADDR && icmpv6.type == 128" ipv6.hlim | xargs)"
assert_eq "inner echo requests from the LAN host: hop limit 63 (home)" "63" \
    "$(fields "ip.src == 198.51.100.2 && ipv6.src == $la && icmpv6.type == 128" ipv6.hlim | xargs)"
# checksum status 1: PROTO_CHECKSUM_E_GOOD
echoes=$(tshark -n -r "$cap" -Y "!icmp && (icmpv6.type == 128 || icmpv6.type == 129)" 2>/dev/null | wc -l)
assert_eq "all $echoes inner ICMPv6 echoes (>= 20 expected) decode with a good checksum" \
    "$echoes $((echoes >= 20))" \
    "$(tshark -n -r "$cap" -Y "!icmp && (icmpv6.type == 128 || icmpv6.type == 129) && icmpv6.checksum.status == 1" 2>/dev/null | wc -l) 1"

tun_stop vps home_a
e6_done
