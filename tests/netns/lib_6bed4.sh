# shellcheck shell=bash
# tests/netns/lib_6bed4.sh: the 6bed4 tests' topology and helpers (also used
# by tests/bench/tun_6bed4.sh), sourced after lib.sh, lib_edge6d.sh,
# lib_radv.sh and lib_tun.sh (tun_tool, tun_xfer, tun_counter, tun_stop,
# json_sum). The user's setup (../shared/seeds/004): a VPS with a native /64
# on eth0 serving 6bed4 peers behind IPv4 NATs:
#
#   inet (i0 2001:db8:ffff::10/64, default via up)
#    |
#   up (u1 2001:db8:ffff::1/64; u0 link-local only, 2001:db8:9:10::/64
#    |  on-link on u0: the provider's router solicits every address of it)
#   vps (eth0: link-local + the local server 2001:db8:9:10::11/128 (port
#    |   word 0), default via up's link-local; wan0 192.0.2.1/25:
#    |   edge6d: 6bed4 router b4 on 2001:db8:9:10::/64 + `proxy eth0` with
#    |   a `method = 6bed4; tunnel = b4` rule)
#   wan (w0 192.0.2.126/25, wa 198.51.100.126/25, wb 203.0.113.126/25: the
#    |   IPv4 internet, a plain router that knows no private network)
#   nat-X (wan0 public 198.51.100.1/25 (a) or 203.0.113.1/25 (b); lan0
#    |     192.0.2.129/25 in both homes; nftables masquerade, UDP mapped
#    |     into B4_RANGE[X])
#   peer-X (eth0 192.0.2.130/25, default via .129: edge6d, 6bed4 peer b4
#           from UDP port B4_LPORT[X])
#
# Both homes use the same inside network, like two homes behind two ISPs'
# boxes: only the NAT's mapping tells them apart. The IPv4 links carry no
# IPv6 at all (disable_ipv6).
#
#   b4_topo                     inet, up, vps and wan
#   b4_nat ID                   nat-ID and peer-ID (a|b)
#   b4_nat_range ID RANGE       the NAT maps UDP into RANGE (lo-hi) from now on
#   b4_ct_flush ID              forget the NAT's mappings (conntrack flush)
#   b4_ct_map ID LPORT          "PUBV4:PORT" the NAT maps peer:LPORT -> router to
#   b4_vps_conf FILE            the VPS's config (B4_VPS_GLOBAL, B4_VPS_TUN, B4_VPS_EXTRA)
#   b4_peer_conf FILE ID        peer ID's config (B4_PEER_GLOBAL, B4_PEER_TUN,
#                               B4_KEEPALIVE (2 s), B4_DEFAULT_ROUTE (yes))
#   b4_start_vps CONF / b4_start_peer ID CONF   e6d_start as "vps" / "peer_ID"
#   b4_addr ID                  peer ID's 6bed4 address on its TUN (fails if none)
#   b4_addr_len ID              its prefix length
#   b4_decode ADDR              "V4 PORT LANIP" embedded in a 6bed4 address
#   b4_encode P64 V4 PORT LANIP the 6bed4 address
#   b4_fwd NS                   the kernel's forwarded IPv6 datagrams (snmp6)
#   b4_ping NS DST              one echo (tun_ping)
#   b4_tool NS ARGS...          b4_tool.py (below) in NS
#   b4_watch NAME NS ARGS...    b4_tool watch in the background, ready on return;
#   b4_watch_result NAME        its JSON when done
#   b4_peers NS CONF [json]     `edge6ctl [--json] peers`
#   b4_peer_listed JSON V4 PORT the peers JSON lists V4:PORT

B4_NAME=b4
B4_PREFIX=2001:db8:9:10::/64
# shellcheck disable=SC2034 # for the tests and the bench
B4_P64=2001:db8:9:10::
B4_SERVER=2001:db8:9:10::11
B4_INET_ADDR=2001:db8:ffff::10
B4_UP_INET=2001:db8:ffff::1
B4_VPS_V4=192.0.2.1
B4_WAN_VPS=192.0.2.126
B4_NAT_IN=192.0.2.129
B4_PEER_V4=192.0.2.130
B4_PORT=25790
B4_INET=
B4_UP=
B4_VPS=
B4_WAN=
declare -A B4_NAT B4_PEER B4_PUB B4_WANSIDE B4_LPORT B4_RANGE
B4_PUB=([a]=198.51.100.1 [b]=203.0.113.1)
B4_WANSIDE=([a]=198.51.100.126 [b]=203.0.113.126)
B4_LPORT=([a]=50000 [b]=50002)
B4_RANGE=([a]=40000-40999 [b]=42000-42999)
B4_VPS_GLOBAL=${B4_VPS_GLOBAL:-}
B4_VPS_TUN=${B4_VPS_TUN:-}
B4_VPS_EXTRA=${B4_VPS_EXTRA:-}
B4_PEER_GLOBAL=${B4_PEER_GLOBAL:-}
B4_PEER_TUN=${B4_PEER_TUN:-}
B4_LOG_LEVEL=${B4_LOG_LEVEL:-debug}

b4_v6_off() { nsx "$1" sysctl -qw "net.ipv6.conf.$2.disable_ipv6=1"; }

# b4_topo: the four fixed namespaces.
b4_topo() {
    B4_INET=$(ns_new inet)
    B4_UP=$(ns_new up)
    B4_VPS=$(ns_new vps)
    B4_WAN=$(ns_new wan)
    nsx "$B4_INET" sysctl -qw net.ipv6.conf.default.accept_ra=0 net.ipv6.conf.all.forwarding=0
    nsx "$B4_UP" sysctl -qw net.ipv6.conf.default.accept_ra=0 net.ipv6.conf.all.forwarding=1
    nsx "$B4_VPS" sysctl -qw net.ipv6.conf.default.accept_ra=0 net.ipv6.conf.all.accept_ra=0 \
        net.ipv6.conf.all.forwarding=1 net.ipv6.conf.default.forwarding=1
    nsx "$B4_WAN" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.default.disable_ipv6=1 \
        net.ipv6.conf.all.disable_ipv6=1
    veth_new "$B4_INET" i0 "$B4_UP" u1
    veth_new "$B4_UP" u0 "$B4_VPS" eth0
    veth_new "$B4_VPS" wan0 "$B4_WAN" w0
    b4_v6_off "$B4_VPS" wan0
    nsx "$B4_INET" ip -6 addr add "$B4_INET_ADDR/64" dev i0 nodad
    nsx "$B4_INET" ip -6 route add default via "$B4_UP_INET" dev i0
    nsx "$B4_UP" ip -6 addr add "$B4_UP_INET/64" dev u1 nodad
    # the provider's router: the customer's /64 is on-link on u0
    nsx "$B4_UP" ip -6 route add "$B4_PREFIX" dev u0
    # the VPS (seed 004): a /128 for the local server on eth0, the /64 goes
    # to the 6bed4 TUN (edge6d routes it), default via the provider's link-local
    nsx "$B4_VPS" ip -6 addr add "$B4_SERVER/128" dev eth0 nodad
    wait_for 5 "up's link-local on u0" radv_ll_of "$B4_UP" u0
    wait_for 5 "vps's link-local on eth0" radv_ll_of "$B4_VPS" eth0
    nsx "$B4_VPS" ip -6 route add default via "$(radv_ll_of "$B4_UP" u0)" dev eth0
    nsx "$B4_VPS" ip addr add "$B4_VPS_V4/25" dev wan0
    nsx "$B4_VPS" ip route add default via "$B4_WAN_VPS" dev wan0
    nsx "$B4_WAN" ip addr add "$B4_WAN_VPS/25" dev w0
}

# b4_nft_rules ID: the NAT's ruleset: masquerade on wan0, UDP into B4_RANGE[ID]
b4_nft_rules() {
    cat <<NFT
flush ruleset
table ip nat {
    chain post {
        type nat hook postrouting priority srcnat; policy accept;
        oifname "wan0" meta l4proto udp masquerade to :${B4_RANGE[$1]}
        oifname "wan0" masquerade
    }
}
NFT
}

# b4_nat ID: nat-ID (public B4_PUB[ID] towards wan, 192.0.2.129/25 inside)
# and peer-ID (192.0.2.130/25 behind it).
b4_nat() {
    local id=$1 nat peer n
    nat=$(ns_new "nat$id")
    peer=$(ns_new "peer$id")
    B4_NAT[$id]=$nat
    B4_PEER[$id]=$peer
    n=wa
    [ "$id" = b ] && n=wb
    nsx "$nat" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.default.disable_ipv6=1 \
        net.ipv6.conf.all.disable_ipv6=1
    nsx "$peer" sysctl -qw net.ipv6.conf.all.forwarding=0 net.ipv6.conf.default.accept_ra=0 \
        net.ipv6.conf.all.accept_ra=0
    veth_new "$nat" wan0 "$B4_WAN" "$n"
    veth_new "$nat" lan0 "$peer" eth0
    b4_v6_off "$peer" eth0
    nsx "$B4_WAN" ip addr add "${B4_WANSIDE[$id]}/25" dev "$n"
    nsx "$nat" ip addr add "${B4_PUB[$id]}/25" dev wan0
    nsx "$nat" ip route add default via "${B4_WANSIDE[$id]}" dev wan0
    nsx "$nat" ip addr add "$B4_NAT_IN/25" dev lan0
    nsx "$peer" ip addr add "$B4_PEER_V4/25" dev eth0
    nsx "$peer" ip route add default via "$B4_NAT_IN" dev eth0
    b4_nft_rules "$id" | nsx "$nat" nft -f - || { fail "nft in nat$id"; exit 1; }
}

# b4_nat_range ID RANGE: new mappings of UDP go into RANGE
b4_nat_range() {
    B4_RANGE[$1]=$2
    b4_nft_rules "$1" | nsx "${B4_NAT[$1]}" nft -f -
}

b4_ct_flush() { b4_tool "${B4_NAT[$1]}" ctflush; }

# b4_ct_map ID LPORT: the public IPv4:port of the NAT's UDP mapping of
# 192.0.2.130:LPORT -> the router (the reply tuple's destination).
b4_ct_map() {
    nsx "${B4_NAT[$1]}" cat /proc/net/nf_conntrack | "$E6_PY" -c '
import sys
lport, router, rport = sys.argv[1:4]
for line in sys.stdin:
    f = line.split()
    if len(f) < 3 or f[2] != "udp":
        continue
    kv = [x.split("=", 1) for x in f if "=" in x]
    orig, reply = dict(kv[:4]), dict(kv[4:8])
    if orig.get("sport") == lport and orig.get("dst") == router and orig.get("dport") == rport:
        print("%s:%s" % (reply["dst"], reply["dport"]))
        sys.exit(0)
sys.exit(1)' "$2" "$B4_VPS_V4" "$B4_PORT"
}

# b4_conf_head FILE NAME GLOBAL: global settings of instance NAME.
b4_conf_head() {
    mkdir -p "$E6_STATE/$2"
    chown "$E6_RUN_USER" "$E6_STATE/$2"
    cat >"$1" <<CONF
user = "$E6_RUN_USER"
control-socket = "$E6_RUN/$2.sock"
state-directory = "$E6_STATE/$2"
log-level = "$B4_LOG_LEVEL"
$3
CONF
    chmod 644 "$1"
}

# b4_vps_conf FILE: the 6bed4 router on the /64 and the proxy on eth0
# answering for its live peers (B4_VPS_TUN: more keys of the tunnel;
# B4_VPS_EXTRA: more sections).
b4_vps_conf() {
    b4_conf_head "$1" "${B4_VPS_INST:-vps}" "$B4_VPS_GLOBAL"
    cat >>"$1" <<CONF
proxy eth0 {
    rule $B4_PREFIX {
        method = 6bed4
        tunnel = $B4_NAME
    }
}
tunnel $B4_NAME {
    type = 6bed4
    mode = router
    local = $B4_VPS_V4
    prefix = "$B4_PREFIX"
$B4_VPS_TUN
}
$B4_VPS_EXTRA
CONF
}

# b4_peer_conf FILE ID: peer ID: from UDP port B4_LPORT[ID], keepalive every
# 2 s (B4_PEER_TUN: more keys)
b4_peer_conf() {
    b4_conf_head "$1" "peer$2" "$B4_PEER_GLOBAL"
    cat >>"$1" <<CONF
tunnel $B4_NAME {
    type = 6bed4
    mode = peer
    router = $B4_VPS_V4
    local-port = ${B4_LPORT[$2]}
    keepalive = ${B4_KEEPALIVE:-2}
    default-route = ${B4_DEFAULT_ROUTE:-yes}
$B4_PEER_TUN
}
CONF
}

b4_start_vps() { e6d_start vps "$B4_VPS" "$1"; }
b4_start_peer() { e6d_start "peer_$1" "${B4_PEER[$1]}" "$2"; }

# b4_addr ID: the global address on peer ID's TUN (fails if none)
b4_addr() {
    nsx "${B4_PEER[$1]}" ip -6 -o addr show dev "$B4_NAME" scope global 2>/dev/null |
        awk '{sub("/.*", "", $4); print $4; f=1; exit} END {exit !f}'
}
# b4_addr_len ID: the prefix length of that address
b4_addr_len() {
    nsx "${B4_PEER[$1]}" ip -6 -o addr show dev "$B4_NAME" scope global 2>/dev/null |
        awk '{sub(".*/", "", $4); print $4; exit}'
}

# b4_decode ADDR: "V4 PORT LANIP" (draft-vanrein-6bed4-03 layout), or
# "none" when word 6 is 0.
b4_decode() {
    "$E6_PY" -c '
import ipaddress, sys
a = ipaddress.IPv6Address(sys.argv[1]).packed
port = a[12] << 8 | a[13]
if port == 0:
    print("none")
else:
    v4 = ipaddress.IPv4Address(bytes([a[8] & 0xfc | a[14] >> 6, a[9], a[10], a[11]]))
    print(v4, port, (a[14] & 0x3f) << 8 | a[15])' "$1"
}

# b4_encode P64 V4 PORT LANIP
b4_encode() {
    "$E6_PY" -c '
import ipaddress, sys
p = bytearray(ipaddress.IPv6Address(sys.argv[1]).packed)
v4 = ipaddress.IPv4Address(sys.argv[2]).packed
port, lanip = int(sys.argv[3]), int(sys.argv[4])
p[8:12] = v4
p[8] &= 0xfc
p[12:14] = port.to_bytes(2, "big")
p[14] = (v4[0] & 3) << 6 | lanip >> 8
p[15] = lanip & 0xff
print(ipaddress.IPv6Address(bytes(p)))' "$@"
}

# b4_fwd NS: datagrams the kernel of NS forwarded (Ip6OutForwDatagrams)
# shellcheck disable=SC2016 # awk's
b4_fwd() { nsx "$1" awk '$1 == "Ip6OutForwDatagrams" {print $2}' /proc/net/snmp6; }

# b4_cnt NS CONF NAME: the 6bed4 counter NAME of that edge6d
b4_cnt() { tun_counter "$1" "$2" "^6bed4\\.$3\$"; }

# b4_ping NS DST [ARGS...]: tun_ping
b4_ping() { tun_ping "$@"; }

# b4_peers NS CONF [json]: `edge6ctl peers`
b4_peers() {
    if [ "${3:-}" = json ]; then e6ctl "$1" "$2" --json peers; else e6ctl "$1" "$2" peers; fi
}

# b4_peer_listed JSON V4 PORT: some object of JSON names V4 and PORT (as
# "V4:PORT", or as two values)
b4_peer_listed() {
    "$E6_PY" -c '
import json, sys
v4, port = sys.argv[2], sys.argv[3]
def hit(d):
    vals = [str(x) for x in d.values() if not isinstance(x, (dict, list))]
    return ("%s:%s" % (v4, port)) in vals or (v4 in vals and port in vals)
def walk(v):
    if isinstance(v, dict):
        return hit(v) or any(walk(x) for x in v.values())
    if isinstance(v, list):
        return any(walk(x) for x in v)
    return isinstance(v, str) and v == "%s:%s" % (v4, port)
sys.exit(0 if walk(json.loads(sys.argv[1])) else 1)' "$@"
}

# b4_tool NS ARGS...: b4_tool.py in NS
b4_tool() {
    local ns=$1
    shift
    timeout 40 ip netns exec "$ns" "$E6_PY" "$B4_TOOL" "$@"
}
b4_tool_bg() {
    local name=$1 ns=$2
    shift 2
    e6_bg "$name" "$ns" "$E6_PY" "$B4_TOOL" "$@"
}

# b4_watch NAME NS ARGS...: b4_tool watch in the background, ready when
# this returns; b4_watch_result NAME: its JSON line when done
b4_watch() {
    local name=$1 ns=$2
    shift 2
    b4_tool_bg "$name" "$ns" watch "$@"
    wait_for 5 "capture $name ready" grep -q ready "$E6_WORK/$name.log"
}
b4_watch_result() {
    wait_for 15 "capture $1 done" grep -q '"count"' "$E6_WORK/$1.log" || { echo '{}'; return 1; }
    grep '"count"' "$E6_WORK/$1.log"
}

# The 6bed4 packet tool (python3, standard library only):
#   ctflush
#       flush the namespace's IPv4 conntrack table (ctnetlink), as
#       `conntrack -F` would
#   rs --router V4 [--port P] [--lport L] [--wait S] [--count N]
#       a UDP socket sends the reference 6bed4peer's Router Solicitation
#       (:: -> ff02::2, hop limit 255, SLLA 00:00:00:00:00:01) to the
#       router and decodes what comes back: {"ras": [RA, ...], "lport": L}
#   send --src V4 --sport P --dst V4 [--dport P] --isrc V6 --idst V6
#        [--kind echo|rs|ns|garbage] [--count N] [--hlim H] [--ttl T]
#        [--vary-sport]
#       UDP/IPv4 datagrams built whole (any IPv4 source; --vary-sport: the
#       source port + i for the i-th datagram) carrying IPv6: an
#       echo request (hop limit 64), the reference RS (255), an NS from
#       --isrc for the target --idst (255), each with --hlim instead when
#       given, or 48 bytes that are not IPv6
#   watch --iface IF [--duration S] [--udp-port P] [--src V6] [--dst V6]
#         [--icmp6-type T] [--dir in|out|any]
#       IPv6 packets on IF (plain on Ethernet or a TUN, or inside UDP with
#       port P on IPv4) that match: "ready" on stderr, then
#       {"count": N, "ras": [RA...], "hlims": [...], "ttls": [...]}
# An RA is decoded field by field, with "ref_ok"/"ref_why"/"ref_addr": what
# the reference 6bed4peer's RA handling (its code, not RFC 4861) does with
# it, and the address it would take.
B4_TOOL=$E6_WORK/b4_tool.py
cat >"$B4_TOOL" <<'PY'
import argparse, ipaddress, json, os, random, select, socket, struct, sys, time


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def s6(b):
    return str(ipaddress.IPv6Address(bytes(b)))


def icmp6_pkt(src, dst, icmp, hlim):
    s, d = ipaddress.IPv6Address(src).packed, ipaddress.IPv6Address(dst).packed
    pseudo = s + d + struct.pack("!IxxxB", len(icmp), 58)
    icmp = icmp[:2] + struct.pack("!H", csum(pseudo + icmp)) + icmp[4:]
    return struct.pack("!IHBB", 6 << 28, len(icmp), 58, hlim) + s + d + icmp


def rs_pkt():
    # the reference 6bed4peer's RS, byte for byte (its checksum included)
    return icmp6_pkt("::", "ff02::2", struct.pack("!BBHI", 133, 0, 0, 0) + bytes([1, 1, 0, 0, 0, 0, 0, 1]), 255)


def ns_pkt(src, target, hlim):
    # a Neighbor Solicitation for target to its solicited-node group, with
    # a 6bed4 SLLA (port little-endian + IPv4, as the reference peer forms it)
    t = ipaddress.IPv6Address(target).packed
    dst = bytes([0xFF, 2] + [0] * 9 + [1, 0xFF]) + t[13:]
    icmp = struct.pack("!BBHI", 135, 0, 0, 0) + t + bytes([1, 1, 0, 0, 0, 0, 0, 1])
    return icmp6_pkt(src, s6(dst), icmp, hlim)


def echo_pkt(src, dst, seq, hlim):
    return icmp6_pkt(src, dst, struct.pack("!BBHHH", 128, 0, 0, 0xb4, seq) + b"edge6-6bed4-spoof", hlim)


def decode_ra(p):
    """Field by field; ref_*: what the reference 6bed4peer does with it."""
    r = {"len": len(p)}
    if len(p) < 48 or p[0] >> 4 != 6 or p[6] != 58:
        r["ref_ok"], r["ref_why"] = False, "not ICMPv6"
        return r
    plen = struct.unpack("!H", p[4:6])[0]
    src, dst, icmp = p[8:24], p[24:40], p[40:40 + plen]
    r.update(src=s6(src), dst=s6(dst), hlim=p[7], plen=plen, type=icmp[0], code=icmp[1])
    pseudo = src + dst + struct.pack("!IxxxB", len(icmp), 58)
    r["csum_ok"] = csum(pseudo + icmp) == 0
    if icmp[0] != 134 or len(icmp) < 16:
        r["ref_ok"], r["ref_why"] = False, "not an RA"
        return r
    r["cur_hlim"], r["flags"] = icmp[4], icmp[5]
    r["router_lifetime"], r["reachable"], r["retrans"] = struct.unpack("!HII", icmp[6:16])
    opts, pios, rios, mtu, bad = [], [], [], None, []
    o = 16
    while o + 2 <= len(icmp):
        t, ln = icmp[o], icmp[o + 1]
        if ln == 0 or o + ln * 8 > len(icmp):
            bad.append("option at %d: length %d" % (o, ln))
            break
        body = icmp[o:o + ln * 8]
        opts.append(t)
        if t == 3 and ln == 4:
            pios.append({"plen": body[2], "L": body[3] >> 7 & 1, "A": body[3] >> 6 & 1,
                         "valid": struct.unpack("!I", body[4:8])[0],
                         "preferred": struct.unpack("!I", body[8:12])[0],
                         "prefix": s6(body[16:32])})
        elif t == 5 and ln == 1:
            mtu = struct.unpack("!I", body[4:8])[0]
        elif t == 24:
            pfx = body[8:] + bytes(16 - len(body[8:]))
            rios.append({"plen": body[2], "prf": body[3] >> 3 & 3,
                         "lifetime": struct.unpack("!I", body[4:8])[0], "prefix": s6(pfx[:16])})
        o += ln * 8
    r.update(opts=opts, pios=pios, rios=rios, mtu=mtu, bad_opts=bad)
    # the reference peer (peer.c handle_4to6_nd, RA case), step by step
    why, addr = None, None
    if icmp[1] != 0 or not r["csum_ok"]:
        why = "code or checksum"
    elif plen < 8 + 16:
        why = "length"
    elif icmp[5] & 1:  # its check reads `flags & 0x80 != 0`, i.e. flags & 1
        why = "flags bit 0"
    elif src != bytes([0xfe, 0x80]) + bytes(14):
        why = "source is not fe80::"
    elif dst[:8] != bytes([0xfe, 0x80]) + bytes(6) and dst != bytes([0xff, 2]) + bytes(13) + b"\1":
        why = "destination neither fe80::/64 nor ff02::1"
    else:
        data, rd, dest = icmp[4:], 12, None
        while rd + 4 < plen:
            if rd + 1 >= len(data) or data[rd + 1] == 0:
                why = "zero-length option"
                break
            if data[rd] != 3:
                pass
            elif data[rd + 1] != 4:
                why = "PIO length not 4"
                break
            elif rd + 32 > plen + 4:
                why = "PIO past the end"
                break
            elif data[rd + 3] & 0xC0 != 0xC0:
                pass  # a route to it
            elif data[rd + 2] != 114:
                why = "an on-link autonomous PIO that is not /114"
                break
            else:
                dest = data[rd + 16:rd + 32]
            rd += data[rd + 1] << 3
        if why is None and dest is None:
            why = "no /114 PIO"
        if why is None:
            a = bytearray(dest)
            a[14] &= 0xC0
            a[15] = 1
            addr = s6(a)
    r["ref_ok"], r["ref_why"], r["ref_addr"] = why is None, why or "", addr
    return r


def main_ctflush(a):
    # NETLINK_NETFILTER, NFNL_SUBSYS_CTNETLINK << 8 | IPCTNL_MSG_CT_DELETE, no
    # attributes: flush; nfgenmsg family AF_INET
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 12)
    s.bind((0, 0))
    body = struct.pack("!BBH", socket.AF_INET, 0, 0)
    hdr = struct.pack("=IHHII", 16 + len(body), (1 << 8) | 2, 0x1 | 0x4, 1, 0)
    s.send(hdr + body)
    data = s.recv(4096)
    err = struct.unpack("=i", data[16:20])[0] if len(data) >= 20 else 0
    print(json.dumps({"flushed": err == 0, "error": err}), flush=True)
    sys.exit(0 if err == 0 else 1)


def main_rs(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", a.lport))
    ras = []
    end = time.monotonic() + a.wait
    for _ in range(a.count):
        s.sendto(rs_pkt(), (a.router, a.port))
    while True:
        left = end - time.monotonic()
        if left <= 0:
            break
        r, _, _ = select.select([s], [], [], left)
        if not r:
            continue
        data, src = s.recvfrom(65536)
        d = decode_ra(data)
        d["from"] = "%s:%d" % src
        ras.append(d)
        if len(ras) >= a.count:
            break
    print(json.dumps({"ras": ras, "lport": s.getsockname()[1]}), flush=True)


def ipv4_udp(src, sport, dst, dport, payload, ttl):
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!xBH", 17, len(udp))
    c = csum(pseudo + udp) or 0xFFFF
    udp = udp[:6] + struct.pack("!H", c) + udp[8:]
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), random.randrange(1, 65535), 0,
                    ttl, 17, 0, socket.inet_aton(src), socket.inet_aton(dst))
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + udp


def main_send(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    for i in range(a.count):
        if a.kind == "echo":
            p = echo_pkt(a.isrc, a.idst, i, 64 if a.hlim < 0 else a.hlim)
        elif a.kind == "rs":
            p = rs_pkt()
            if a.hlim >= 0:
                p = p[:7] + bytes([a.hlim]) + p[8:]
        elif a.kind == "ns":
            p = ns_pkt(a.isrc, a.idst, 255 if a.hlim < 0 else a.hlim)
        else:
            p = b"\x45" + bytes(47)
        sport = a.sport + i if a.vary_sport else a.sport
        s.sendto(ipv4_udp(a.src, sport, a.dst, a.dport, p, a.ttl), (a.dst, 0))
        time.sleep(a.interval)
    print(json.dumps({"sent": a.count}), flush=True)


def main_watch(a):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
    s.bind((a.iface, 0))
    try:
        tun = open("/sys/class/net/%s/type" % a.iface).read().strip() == "65534"
    except OSError:
        tun = False
    print("ready", file=sys.stderr, flush=True)
    end = time.monotonic() + a.duration
    n, ras, hlims, ttls, srcs = 0, [], [], [], set()
    want_src = ipaddress.ip_address(a.src) if a.src else None
    want_dst = ipaddress.ip_address(a.dst) if a.dst else None
    while True:
        left = end - time.monotonic()
        if left <= 0:
            break
        r, _, _ = select.select([s], [], [], left)
        if not r:
            continue
        data, addr = s.recvfrom(65536)
        out = addr[2] == socket.PACKET_OUTGOING
        if a.dir == "in" and out or a.dir == "out" and not out:
            continue
        if tun:
            et, p = (0x86DD if data[:1] and data[0] >> 4 == 6 else 0x0800), data
        else:
            et, p = struct.unpack("!H", data[12:14])[0], data[14:]
        ttl, outer = None, None
        if et == 0x0800 and len(p) >= 28 and p[9] == 17 and a.udp_port:
            ihl = (p[0] & 15) * 4
            sport, dport = struct.unpack("!HH", p[ihl:ihl + 4])
            if a.udp_port not in (sport, dport):
                continue
            ttl, outer = p[8], "%s:%d" % (socket.inet_ntoa(p[12:16]), sport)
            p = p[ihl + 8:]
            if len(p) < 40 or p[0] >> 4 != 6:
                continue
        elif et != 0x86DD or len(p) < 40:
            continue
        src, dst = ipaddress.IPv6Address(p[8:24]), ipaddress.IPv6Address(p[24:40])
        if want_src and src != want_src or want_dst and dst != want_dst:
            continue
        if a.icmp6_type is not None and not (p[6] == 58 and len(p) > 40 and p[40] == a.icmp6_type):
            continue
        n += 1
        hlims.append(p[7])
        srcs.add(str(src))
        if ttl is not None:
            ttls.append(ttl)
        if p[6] == 58 and len(p) > 40 and p[40] == 134:
            d = decode_ra(p)
            d["outer"] = outer
            ras.append(d)
    print(json.dumps({"count": n, "ras": ras, "hlims": hlims, "ttls": ttls,
                      "sources": sorted(srcs)}), flush=True)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="mode", required=True)
    sub.add_parser("ctflush")
    p = sub.add_parser("rs")
    p.add_argument("--router", required=True)
    p.add_argument("--port", type=int, default=25790)
    p.add_argument("--lport", type=int, default=0)
    p.add_argument("--wait", type=float, default=2.0)
    p.add_argument("--count", type=int, default=1)
    p = sub.add_parser("send")
    for k in ("src", "dst"):
        p.add_argument("--" + k, required=True)
    p.add_argument("--isrc", default="::")
    p.add_argument("--idst", default="::")
    p.add_argument("--sport", type=int, required=True)
    p.add_argument("--dport", type=int, default=25790)
    p.add_argument("--kind", default="echo", choices=("echo", "rs", "ns", "garbage"))
    p.add_argument("--count", type=int, default=5)
    p.add_argument("--interval", type=float, default=0.02)
    p.add_argument("--vary-sport", action="store_true")  # sport + i for datagram i
    p.add_argument("--hlim", type=int, default=-1)  # echo 64, RS and NS 255
    p.add_argument("--ttl", type=int, default=64)
    p = sub.add_parser("watch")
    p.add_argument("--iface", required=True)
    p.add_argument("--duration", type=float, default=3.0)
    p.add_argument("--udp-port", type=int, default=0)
    p.add_argument("--src")
    p.add_argument("--dst")
    p.add_argument("--icmp6-type", type=int)
    p.add_argument("--dir", default="in", choices=("in", "out", "any"))
    a = ap.parse_args()
    {"ctflush": main_ctflush, "rs": main_rs, "send": main_send, "watch": main_watch}[a.mode](a)


main()
PY
