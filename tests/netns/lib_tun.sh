# shellcheck shell=bash
# tests/netns/lib_tun.sh: the 6in4 tunnel tests' topology and helpers (also
# used by tests/bench/tun_6in4.sh and the demo's story), sourced after
# lib.sh, lib_edge6d.sh and lib_radv.sh. The VPS -> home LAN story:
#
#   inet (i0 2001:db8:ffff::10/64)
#    |
#   up (u1 2001:db8:ffff::1/64; u0 2001:db8:9::1/48: the provider's router,
#    |  which believes all of 2001:db8:9::/48 is on-link on u0 and
#    |  solicits every address it forwards to)
#   vps (eth0 2001:db8:9::2/64, default via up; wan0 192.0.2.1/24:
#    |   edge6d, `proxy eth0` with a tunnel rule + 6in4 server t6)
#   wan (w0 192.0.2.254/24, br0 198.51.100.254/24: an IPv4-only router;
#    |   every home's wan0 is a port of br0)
#   home-X (wan0 198.51.100.N/24, default via .254; lan0 2001:db8:9:X0::1/64:
#    |      edge6d as the 6in4 client t6 + RA on lan0)
#   lan-X (eth0: SLAAC from home-X's RA)
#
# The IPv4 links carry no IPv6 at all (disable_ipv6). Home X's link on the
# tunnel is 2001:db8:9:X::/64 (server ::1, client ::2) and its routed prefix
# 2001:db8:9:X0::/64 (X = 1, 2, 3 for homes a, b, c).
#
#   tun_topo                     inet, up, vps and wan
#   tun_home ID V4 [NOLAN]       home ID (a|b|c) at V4 on the IPv4 side,
#                                with its LAN host unless NOLAN
#   tun_vps_conf FILE IDS...     the VPS's config: proxy + server with
#                                those clients (TUN_VPS_GLOBAL, TUN_VPS_TUN,
#                                TUN_CLIENT_EXTRA[ID], TUN_REMOTE[ID];
#                                TUN_VPS_INST names socket and state)
#   tun_home_conf FILE ID        home ID's config: client + RA on lan0
#                                (TUN_HOME_GLOBAL, TUN_HOME_TUN)
#   tun_up ID                    home ID reaches the server's link address
#   tun_lan_addr ID              the LAN host's SLAAC address (fails if none)
#   tun_ping NS DST [ARGS...]    ping -6 once, quietly; succeeds on a reply
#   tun_counter NS CONF REGEX    sum of edge6d counters matching REGEX
#   tun_tool NS ARGS...          tun_tool.py (below) in NS
#   tun_xfer NAME SNS DNS ADDR N a TCP transfer of N bytes, SHA-256 both ends
#   tun_stop NAME...             stop several edge6d at once, each must exit 0
#   json_sum JSON KEY            sum of KEY's integer values anywhere in JSON

TUN_NAME=t6
TUN_INET_ADDR=2001:db8:ffff::10
TUN_UP_INET=2001:db8:ffff::1
TUN_UP_ADDR=2001:db8:9::1
TUN_VPS_ADDR=2001:db8:9::2
TUN_VPS_V4=192.0.2.1
TUN_WAN_V4=192.0.2.254
TUN_WAN_HOMES=198.51.100.254
TUN_INET=
TUN_UP=
TUN_VPS=
TUN_WAN=
declare -A TUN_HOME TUN_LAN TUN_V4 TUN_NUM TUN_REMOTE TUN_CLIENT_EXTRA
TUN_NUM=([a]=1 [b]=2 [c]=3)
TUN_VPS_GLOBAL=${TUN_VPS_GLOBAL:-}
TUN_VPS_TUN=${TUN_VPS_TUN:-}
TUN_HOME_GLOBAL=${TUN_HOME_GLOBAL:-}
TUN_HOME_TUN=${TUN_HOME_TUN:-}
TUN_LOG_LEVEL=${TUN_LOG_LEVEL:-debug}

# tun_link ID / tun_routed ID / tun_client_addr ID / tun_server_addr ID
tun_link() { echo "2001:db8:9:${TUN_NUM[$1]}::/64"; }
tun_client_addr() { echo "2001:db8:9:${TUN_NUM[$1]}::2"; }
tun_server_addr() { echo "2001:db8:9:${TUN_NUM[$1]}::1"; }
tun_routed() { echo "2001:db8:9:${TUN_NUM[$1]}0::/64"; }
tun_home_lan_addr() { echo "2001:db8:9:${TUN_NUM[$1]}0::1"; }

tun_v6_off() { nsx "$1" sysctl -qw "net.ipv6.conf.$2.disable_ipv6=1"; }

# tun_topo [FWD]: the four fixed namespaces; FWD=0 leaves the VPS's IPv6
# forwarding off (the sysctl tests).
# shellcheck disable=SC2120 # FWD is optional
tun_topo() {
    local fwd=${1:-1}
    TUN_INET=$(ns_new inet)
    TUN_UP=$(ns_new up)
    TUN_VPS=$(ns_new vps)
    TUN_WAN=$(ns_new wan)
    nsx "$TUN_INET" sysctl -qw net.ipv6.conf.default.accept_ra=0 net.ipv6.conf.all.forwarding=0
    nsx "$TUN_UP" sysctl -qw net.ipv6.conf.default.accept_ra=0 net.ipv6.conf.all.forwarding=1
    nsx "$TUN_VPS" sysctl -qw net.ipv6.conf.default.accept_ra=0 net.ipv6.conf.all.accept_ra=0 \
        "net.ipv6.conf.all.forwarding=$fwd" "net.ipv6.conf.default.forwarding=$fwd"
    # the IPv4-only router: IPv6 off on every link it will get
    nsx "$TUN_WAN" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.default.disable_ipv6=1 \
        net.ipv6.conf.all.disable_ipv6=1
    veth_new "$TUN_INET" i0 "$TUN_UP" u1
    veth_new "$TUN_UP" u0 "$TUN_VPS" eth0
    veth_new "$TUN_VPS" wan0 "$TUN_WAN" w0
    tun_v6_off "$TUN_VPS" wan0
    nsx "$TUN_INET" ip -6 addr add "$TUN_INET_ADDR/64" dev i0 nodad
    nsx "$TUN_INET" ip -6 route add default via "$TUN_UP_INET" dev i0
    nsx "$TUN_UP" ip -6 addr add "$TUN_UP_INET/64" dev u1 nodad
    nsx "$TUN_UP" ip -6 addr add "$TUN_UP_ADDR/48" dev u0 nodad
    nsx "$TUN_VPS" ip -6 addr add "$TUN_VPS_ADDR/64" dev eth0 nodad
    nsx "$TUN_VPS" ip -6 route add default via "$TUN_UP_ADDR" dev eth0
    nsx "$TUN_VPS" ip addr add "$TUN_VPS_V4/24" dev wan0
    nsx "$TUN_VPS" ip route add default via "$TUN_WAN_V4" dev wan0
    nsx "$TUN_WAN" ip addr add "$TUN_WAN_V4/24" dev w0
    nsx "$TUN_WAN" ip link add br0 type bridge
    nsx "$TUN_WAN" ip link set br0 up
    nsx "$TUN_WAN" ip addr add "$TUN_WAN_HOMES/24" dev br0
    wait_for 5 "up's link-local on u0" ndp_ll_of "$TUN_UP" u0
    wait_for 5 "vps's link-local on eth0" ndp_ll_of "$TUN_VPS" eth0
}

ndp_ll_of() { radv_ll_of "$1" "$2"; }

# tun_home ID V4 [NOLAN]: home ID (a, b or c), its IPv4 address V4 on
# br0's link, lan0 with the first address of its routed /64, and (unless
# NOLAN is given) the LAN host lan-ID taking its address by SLAAC.
tun_home() {
    local id=$1 v4=$2 home lan
    home=$(ns_new "home$id")
    TUN_HOME[$id]=$home
    TUN_V4[$id]=$v4
    [ -n "${TUN_REMOTE[$id]:-}" ] || TUN_REMOTE[$id]=$v4
    nsx "$home" sysctl -qw net.ipv6.conf.all.forwarding="${TUN_HOME_FWD:-1}" \
        net.ipv6.conf.default.forwarding="${TUN_HOME_FWD:-1}" \
        net.ipv6.conf.default.accept_ra=0 net.ipv6.conf.all.accept_ra=0
    veth_new "$home" wan0 "$TUN_WAN" "wh$id"
    tun_v6_off "$home" wan0
    nsx "$TUN_WAN" ip link set "wh$id" master br0
    nsx "$home" ip addr add "$v4/24" dev wan0
    nsx "$home" ip route add default via "$TUN_WAN_HOMES" dev wan0
    if [ -z "${3:-}" ]; then
        lan=$(ns_new "lan$id")
        TUN_LAN[$id]=$lan
        # a plain host: SLAAC and the MTU from the RA, no forwarding
        nsx "$lan" sysctl -qw net.ipv6.conf.all.forwarding=0 net.ipv6.conf.default.accept_ra=1 \
            net.ipv6.conf.default.autoconf=1 net.ipv6.conf.default.accept_ra_mtu=1
        veth_new "$home" lan0 "$lan" eth0
        nsx "$lan" sysctl -qw net.ipv6.conf.eth0.accept_ra=1 net.ipv6.conf.eth0.autoconf=1
        wait_for 5 "home $id link-local on lan0" radv_ll_of "$home" lan0
    else
        # no LAN host: lan0 is one end of a veth whose peer stays in home
        nsx "$home" ip link add lan0 type veth peer name lan0p
        nsx "$home" ip link set lan0p up
        nsx "$home" ip link set lan0 up
    fi
    nsx "$home" ip -6 addr add "$(tun_home_lan_addr "$id")/64" dev lan0 nodad
}

# tun_conf_head FILE NAME GLOBAL: global settings of instance NAME (own
# socket and state directory) plus GLOBAL lines.
tun_conf_head() {
    mkdir -p "$E6_STATE/$2"
    chown "$E6_RUN_USER" "$E6_STATE/$2"
    cat >"$1" <<CONF
user = "$E6_RUN_USER"
control-socket = "$E6_RUN/$2.sock"
state-directory = "$E6_STATE/$2"
log-level = "$TUN_LOG_LEVEL"
$3
CONF
    chmod 644 "$1"
}

# tun_vps_conf FILE IDS...: the VPS: the provider's router solicits on eth0
# for all of 2001:db8:9::/48, edge6d answers for what t6's clients own;
# the server t6 with one client block per ID.
tun_vps_conf() {
    local f=$1 id
    shift
    tun_conf_head "$f" "${TUN_VPS_INST:-vps}" "$TUN_VPS_GLOBAL"
    {
        printf 'proxy eth0 {\n    rule 2001:db8:9::/48 {\n        method = tunnel\n        tunnel = %s\n    }\n}\n' "$TUN_NAME"
        printf 'tunnel %s {\n    type = 6in4\n    mode = server\n    local = %s\n%s\n' \
            "$TUN_NAME" "$TUN_VPS_V4" "$TUN_VPS_TUN"
        for id in "$@"; do
            printf '    client home%s {\n        remote = %s\n        client-address = "%s/64"\n' \
                "$id" "${TUN_REMOTE[$id]}" "$(tun_client_addr "$id")"
            printf '        server-address = "%s"\n        routed-prefixes = { "%s" }\n%s\n    }\n' \
                "$(tun_server_addr "$id")" "$(tun_routed "$id")" "${TUN_CLIENT_EXTRA[$id]:-}"
        done
        printf '}\n'
    } >>"$f"
}

# tun_home_conf FILE ID: home ID: the client end of t6 (default route
# through it) and Router Advertisements on lan0 (the routed /64, MTU 1480,
# RDNSS naming the router itself).
tun_home_conf() {
    local f=$1 id=$2
    tun_conf_head "$f" "home$id" "$TUN_HOME_GLOBAL"
    cat >>"$f" <<CONF
tunnel $TUN_NAME {
    type = 6in4
    mode = client
    local = ${TUN_V4[$id]}
    remote = $TUN_VPS_V4
    client-address = "$(tun_client_addr "$id")/64"
    server-address = "$(tun_server_addr "$id")"
    default-route = yes
$TUN_HOME_TUN
}
interface lan0 {
    max-interval = 4
    min-interval = 3
    mtu = ${TUN_RA_MTU:-1480}
    prefix $(tun_routed "$id") {
    }
    rdnss {
        servers = { "auto" }
    }
}
CONF
}

# tun_start_vps CONF / tun_start_home ID CONF: e6d_start as "vps" / "home_ID"
tun_start_vps() { e6d_start vps "$TUN_VPS" "$1"; }
tun_start_home() { e6d_start "home_$1" "${TUN_HOME[$1]}" "$2"; }

# tun_ping NS DST [PING ARGS...]: one echo (2 tries), quiet.
tun_ping() {
    local ns=$1 dst=$2
    shift 2
    nsx "$ns" ping -6 -n -q -c 1 -W 1 "$@" "$dst" >/dev/null 2>&1 ||
        nsx "$ns" ping -6 -n -q -c 1 -W 1 "$@" "$dst" >/dev/null 2>&1
}

# tun_up ID: home ID's tunnel carries packets: it reaches the server's address on its link.
tun_up() { tun_ping "${TUN_HOME[$1]}" "$(tun_server_addr "$1")"; }

# tun_lan_addr ID: the LAN host's usable SLAAC address in the routed /64.
tun_lan_addr() {
    radv_addr_info "$(tun_routed "$1")" "${TUN_LAN[$1]}" eth0 |
        awk '$4 == "-" && $2 > 0 {print $1; f=1; exit} END {exit !f}'
}

# tun_counter NS CONF REGEX: sum of the counters whose "module.name"
# matches REGEX (extended) in `edge6ctl --json counters`.
tun_counter() {
    e6ctl "$1" "$2" --json counters | "$E6_PY" -c '
import json, re, sys
j = json.load(sys.stdin)
rx = re.compile(sys.argv[1])
def walk(v, path):
    if isinstance(v, bool):
        return 0
    if isinstance(v, int):
        return v if rx.search(path) else 0
    if isinstance(v, dict):
        return sum(walk(x, path + "." + k if path else k) for k, x in v.items())
    if isinstance(v, list):
        return sum(walk(x, path) for x in v)
    return 0
print(walk(j, ""))' "$3"
}

# tun_counters_dump NS CONF NAME: every counter into NAME.counters (for failures).
tun_counters_dump() { e6ctl "$1" "$2" counters >"$E6_WORK/$3.counters" 2>&1; }

# tun_link_offloads NS 0|1 IFACE...: TSO, GSO and GRO off/on on IFACEs in NS
tun_link_offloads() {
    local ns=$1
    shift
    nsx "$ns" "$E6_PY" "$(dirname "${BASH_SOURCE[0]}")/link_offloads.py" "$@"
}

# tun_status_json NS CONF: `edge6ctl --json status`.
tun_status_json() { e6ctl "$1" "$2" --json status; }

# tun_tool NS ARGS...: tun_tool.py in NS.
tun_tool() {
    local ns=$1
    shift
    timeout 40 ip netns exec "$ns" "$E6_PY" "$TUN_TOOL" "$@"
}

# tun_tool_bg NAME NS ARGS...: the same in the background (e6_bg), its
# output in NAME.log; waits for "ready" on it when the mode prints one.
tun_tool_bg() {
    local name=$1 ns=$2
    shift 2
    e6_bg "$name" "$ns" "$E6_PY" "$TUN_TOOL" "$@"
}

# tun_ll NS IF: the link-local address of IF in NS.
tun_ll() { radv_ll_of "$1" "$2"; }

# tun_mac NS IF
tun_mac() { nsx "$1" cat "/sys/class/net/$2/address"; }

# tun_route_mtu NS DST: the MTU `ip -6 route get` reports (cached PMTU), or "none".
tun_route_mtu() {
    nsx "$1" ip -6 route get "$2" 2>/dev/null |
        awk '{for (i = 1; i < NF; i++) if ($i == "mtu") {print $(i + 1); f=1}} END {if (!f) print "none"}'
}

# The tests' packet tool (python3, standard library only):
#   inject --src V4 --dst V4 --isrc V6 --idst V6 [--count N] [--ttl T]
#          [--inner-version V] [--truncate N] [--proto P]
#       protocol-41 packets built whole (outer IPv4 with any source, inner
#       IPv6 ICMPv6 echo request), sent on an IPPROTO_RAW socket.
#   icmp4 --src V4 --dst V4 --mtu M --qsrc V4 --qdst V4 --isrc V6 --idst V6
#       an ICMPv4 fragmentation needed (next-hop MTU M) quoting a
#       protocol-41 packet qsrc -> qdst with inner isrc -> idst.
#   count --iface IF [--src V6] [--dst V6] [--icmp6-type T] [--v4-proto P]
#         [--v4-src V4] --duration S
#       inbound packets on IF that match, counted; "ready" on stderr, then
#       {"count": N, "sources": [...], "ptb_mtus": [...]} at the end.
#   recv --addr A --port P [--timeout S]
#       accept one TCP connection, read to EOF: {"bytes", "sha256", "s"}.
#   send --addr A --port P --bytes N [--rate BPS] [--seed S]
#       connect, send N pseudo-random bytes (paced at BPS when given):
#       {"bytes", "sha256", "s"}.
TUN_TOOL=$E6_WORK/tun_tool.py
cat >"$TUN_TOOL" <<'PY'
import argparse, hashlib, ipaddress, json, random, select, socket, struct, sys, time


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def echo6(src, dst, seq, payload=b"edge6-6in4-test", version=6):
    s, d = ipaddress.IPv6Address(src).packed, ipaddress.IPv6Address(dst).packed
    icmp = struct.pack("!BBHHH", 128, 0, 0, 0x6e6, seq) + payload
    pseudo = s + d + struct.pack("!IxxxB", len(icmp), 58)
    icmp = icmp[:2] + struct.pack("!H", csum(pseudo + icmp)) + icmp[4:]
    hdr = struct.pack("!IHBB", version << 28, len(icmp), 58, 64) + s + d
    return hdr + icmp


def ipv4(src, dst, proto, payload, ttl):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), random.randrange(1, 65535), 0,
                    ttl, proto, 0, socket.inet_aton(src), socket.inet_aton(dst))
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload


def main_inject(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    for i in range(a.count):
        inner = echo6(a.isrc, a.idst, i, version=a.inner_version)
        if a.truncate:
            inner = inner[:a.truncate]
        s.sendto(ipv4(a.src, a.dst, a.proto, inner, a.ttl), (a.dst, 0))
        time.sleep(a.interval)
    print(json.dumps({"sent": a.count}), flush=True)


def main_icmp4(a):
    # an ICMPv4 "fragmentation needed" (type 3 code 4) from --src to --dst
    # quoting a protocol-41 packet --qsrc -> --qdst whose inner IPv6
    # header goes --isrc -> --idst (and 8 bytes of its ICMPv6)
    inner = echo6(a.isrc, a.idst, 1)[:48]
    quoted = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 1500, 0x1234, 0x4000, 63, 41, 0,
                         socket.inet_aton(a.qsrc), socket.inet_aton(a.qdst)) + inner
    icmp = struct.pack("!BBHHH", 3, 4, 0, 0, a.mtu) + quoted
    icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    s.sendto(ipv4(a.src, a.dst, 1, icmp, 64), (a.dst, 0))
    print(json.dumps({"sent": 1}), flush=True)


def main_count(a):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
    s.bind((a.iface, 0))
    print("ready", file=sys.stderr, flush=True)
    end = time.monotonic() + a.duration
    n, srcs, mtus = 0, set(), []
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
        if addr[2] == socket.PACKET_OUTGOING:
            continue
        et, p = struct.unpack("!H", data[12:14])[0], data[14:]
        if et == 0x86DD and len(p) >= 40:
            if a.v4_proto is not None:
                continue
            src, dst = ipaddress.IPv6Address(p[8:24]), ipaddress.IPv6Address(p[24:40])
            if want_src and src != want_src or want_dst and dst != want_dst:
                continue
            if a.icmp6_type is not None and not (p[6] == 58 and len(p) > 40 and p[40] == a.icmp6_type):
                continue
            n += 1
            srcs.add(str(src))
            if p[6] == 58 and len(p) >= 48 and p[40] == 2:
                mtus.append(struct.unpack("!I", p[44:48])[0])
        elif et == 0x0800 and len(p) >= 20:
            if a.v4_proto is None or p[9] != a.v4_proto:
                continue
            src = socket.inet_ntoa(p[12:16])
            if a.v4_src and src != a.v4_src:
                continue
            n += 1
            srcs.add(src)
    print(json.dumps({"count": n, "sources": sorted(srcs), "ptb_mtus": mtus}), flush=True)


def fam(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def main_recv(a):
    ls = socket.socket(fam(a.addr), socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((a.addr, a.port))
    ls.listen(1)
    ls.settimeout(a.timeout)
    print("ready", file=sys.stderr, flush=True)
    c, _ = ls.accept()
    c.settimeout(a.timeout)
    t0, h, n = time.monotonic(), hashlib.sha256(), 0
    while True:
        b = c.recv(1 << 16)
        if not b:
            break
        h.update(b)
        n += len(b)
    print(json.dumps({"bytes": n, "sha256": h.hexdigest(), "s": round(time.monotonic() - t0, 3)}),
          flush=True)


def main_send(a):
    rnd = random.Random(a.seed)
    c = socket.create_connection((a.addr, a.port), timeout=a.timeout)
    t0, h, n = time.monotonic(), hashlib.sha256(), 0
    chunk = 16384 if not a.rate else max(512, min(16384, a.rate // 50))
    while n < a.bytes:
        b = rnd.randbytes(min(chunk, a.bytes - n))
        c.sendall(b)
        h.update(b)
        n += len(b)
        if a.rate:
            due = t0 + n / a.rate
            while time.monotonic() < due:
                time.sleep(min(0.02, due - time.monotonic()))
    c.shutdown(socket.SHUT_WR)
    c.settimeout(a.timeout)
    while c.recv(4096):
        pass
    print(json.dumps({"bytes": n, "sha256": h.hexdigest(), "s": round(time.monotonic() - t0, 3)}),
          flush=True)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="mode", required=True)
    p = sub.add_parser("inject")
    p.add_argument("--src", required=True)
    p.add_argument("--dst", required=True)
    p.add_argument("--isrc", required=True)
    p.add_argument("--idst", required=True)
    p.add_argument("--count", type=int, default=5)
    p.add_argument("--interval", type=float, default=0.05)
    p.add_argument("--ttl", type=int, default=64)
    p.add_argument("--proto", type=int, default=41)
    p.add_argument("--inner-version", type=int, default=6)
    p.add_argument("--truncate", type=int, default=0)
    p = sub.add_parser("icmp4")
    for k in ("src", "dst", "qsrc", "qdst", "isrc", "idst"):
        p.add_argument("--" + k, required=True)
    p.add_argument("--mtu", type=int, required=True)
    p = sub.add_parser("count")
    p.add_argument("--iface", required=True)
    p.add_argument("--src")
    p.add_argument("--dst")
    p.add_argument("--icmp6-type", type=int)
    p.add_argument("--v4-proto", type=int)
    p.add_argument("--v4-src")
    p.add_argument("--duration", type=float, default=5.0)
    for name in ("recv", "send"):
        p = sub.add_parser(name)
        p.add_argument("--addr", required=True)
        p.add_argument("--port", type=int, default=5201)
        p.add_argument("--timeout", type=float, default=20.0)
        if name == "send":
            p.add_argument("--bytes", type=int, required=True)
            p.add_argument("--rate", type=int, default=0)
            p.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    {"inject": main_inject, "icmp4": main_icmp4, "count": main_count, "recv": main_recv, "send": main_send}[a.mode](a)


main()
PY

# tun_xfer NAME SRC_NS DST_NS DST_ADDR BYTES [PORT]: a TCP transfer of BYTES
# pseudo-random bytes from SRC_NS to DST_ADDR (listening in DST_NS);
# prints "SENT_BYTES SENT_SHA RECV_BYTES RECV_SHA".
tun_xfer() {
    local name=$1 sns=$2 dns=$3 addr=$4 bytes=$5 port=${6:-5301} s r
    tun_tool_bg "$name-recv" "$dns" recv --addr "$addr" --port "$port" --timeout 20
    wait_for 5 "$name receiver listening" grep -q ready "$E6_WORK/$name-recv.log" || return 1
    s=$(tun_tool "$sns" send --addr "$addr" --port "$port" --bytes "$bytes" --timeout 20 2>>"$E6_WORK/$name-send.err")
    wait_for 20 "$name receiver done" grep -q sha256 "$E6_WORK/$name-recv.log"
    r=$(grep sha256 "$E6_WORK/$name-recv.log")
    [ -n "$s" ] || s='{}'
    [ -n "$r" ] || r='{}'
    json_get "$s" '"%s %s" % (j.get("bytes"), j.get("sha256", "-")[:16])' | tr '\n' ' '
    json_get "$r" '"%s %s" % (j.get("bytes"), j.get("sha256", "-")[:16])'
}

# tun_stop NAME...: SIGTERM to every edge6d NAME at once (a home router's
# final Router Advertisements take seconds each), then each must exit 0
# within 12 s with a log free of sanitizer reports.
tun_stop() {
    local name var pid rc
    for name in "$@"; do
        var="E6D_PID_$name"
        kill -TERM "${!var}" 2>/dev/null
    done
    for name in "$@"; do
        var="E6D_PID_$name"
        pid=${!var}
        for _ in $(seq 120); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            fail "edge6d $name still running 12 s after SIGTERM"
            continue
        fi
        wait "$pid" 2>/dev/null
        rc=$?
        assert_eq "edge6d $name exits 0 on SIGTERM" 0 "$rc"
        san_check "$E6_WORK/$name.log"
    done
}

# json_sum JSON KEY: the sum of the integer values of KEY wherever it is in JSON.
json_sum() {
    "$E6_PY" -c '
import json, sys
k = sys.argv[2]
def walk(v):
    if isinstance(v, dict):
        x = v.get(k)
        own = x if isinstance(x, int) and not isinstance(x, bool) else 0
        return own + sum(walk(y) for y in v.values())
    if isinstance(v, list):
        return sum(walk(y) for y in v)
    return 0
print(walk(json.loads(sys.argv[1])))' "$1" "$2"
}
