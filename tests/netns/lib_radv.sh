# shellcheck shell=bash
# tests/netns/lib_radv.sh: helpers for the Router Advertisement tests (and
# the RA benchmarks), sourced after lib.sh and lib_edge6d.sh. The topology is
# two namespaces joined by a veth pair: the router ($RADV_R, interface r0)
# runs edge6d, the host ($RADV_H, interface h0) is a plain Linux kernel that
# configures itself from what it hears (accept_ra=1, autoconf=1,
# forwarding=0, Route Information up to /64, no DAD).
#
#   radv_topo [SUFFIX]          build it; router forwarding on r0 (SUFFIX:
#                               for more than one topology in a run)
#   radv_topo_del               delete it (and what runs inside)
#   radv_conf_head FILE         global settings for a test config (the
#                               test appends its interface section)
#   radv_conf_prefixes FILE P.. a test config advertising prefixes P..
#   radv_start NAME CONF        e6d_start in the router namespace
#   radv_pid NAME               its pid
#   radv_slaac PREFIX           the host's usable address in PREFIX (/64)
#   radv_addr_info PREFIX       "ADDR PREFERRED VALID FLAGS" of that address
#   radv_deprecated PREFIX      the host's address in PREFIX has preferred 0
#   radv_defrtr                 gateway of the host's default route via h0
#   radv_router_ll              link-local address of the router's r0
#   radv_listen NAME ARGS...    background RA listener (JSON line per RA)
#                               in the host namespace, output NAME.json
#   radv_ras FILE EXPR          evaluate EXPR on `ras` (list of decoded RAs)

RADV_RIF=r0
RADV_HIF=h0
RADV_R=
RADV_H=

# how long a client command may take before the test calls it hung
RADV_CMD_TIMEOUT=${RADV_CMD_TIMEOUT:-10}

# shellcheck disable=SC2120 # the suffix is optional
radv_topo() {
    RADV_R=$(ns_new "r${1:-}")
    RADV_H=$(ns_new "h${1:-}")
    # defaults first: the host's veth end takes them when it moves in
    nsx "$RADV_H" sysctl -qw net.ipv6.conf.all.forwarding=0 \
        net.ipv6.conf.default.accept_ra=1 net.ipv6.conf.default.autoconf=1 \
        net.ipv6.conf.default.accept_ra_rt_info_max_plen=64 \
        net.ipv6.conf.default.accept_ra_mtu=1 net.ipv6.conf.default.accept_ra_defrtr=1 ||
        { fail "host sysctls"; exit 1; }
    veth_new "$RADV_R" "$RADV_RIF" "$RADV_H" "$RADV_HIF"
    nsx "$RADV_H" sysctl -qw net.ipv6.conf.$RADV_HIF.forwarding=0 \
        net.ipv6.conf.$RADV_HIF.accept_ra=1 net.ipv6.conf.$RADV_HIF.autoconf=1 \
        net.ipv6.conf.$RADV_HIF.accept_ra_rt_info_max_plen=64 || { fail "host sysctls"; exit 1; }
    # a router: a non-zero router lifetime needs forwarding on the link
    nsx "$RADV_R" sysctl -qw net.ipv6.conf.$RADV_RIF.forwarding=1 || { fail "router sysctls"; exit 1; }
    wait_for 5 "router link-local on $RADV_RIF" radv_router_ll
    wait_for 5 "host link-local on $RADV_HIF" radv_host_ll
}

radv_topo_del() {
    local ns
    for ns in "$RADV_R" "$RADV_H"; do
        ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
        ip netns del "$ns" 2>/dev/null
    done
}

# radv_conf_head FILE: the global settings of a test config.
radv_conf_head() {
    cat >"$1" <<CONF
user = "$E6_RUN_USER"
control-socket = "$E6_RUN/edge6d.sock"
state-directory = "$E6_STATE"
log-level = "debug"
CONF
    chmod 644 "$1"
}

# radv_conf_prefixes FILE PREFIX...: a test config advertising the given
# prefixes on the router's interface, with short intervals (3..4 s).
radv_conf_prefixes() {
    local f=$1 p
    shift
    radv_conf_head "$f"
    {
        printf 'interface %s {\n    max-interval = 4\n    min-interval = 3\n' "$RADV_RIF"
        for p in "$@"; do printf '    prefix %s {\n    }\n' "$p"; done
        printf '}\n'
    } >>"$f"
}

radv_start() { e6d_start "$1" "$RADV_R" "$2"; }

# radv_pid NAME: the pid of edge6d NAME (started by radv_start).
radv_pid() {
    local var="E6D_PID_$1"
    echo "${!var}"
}

radv_ll_of() {
    nsx "$1" ip -6 -o addr show dev "$2" scope link 2>/dev/null |
        awk '$0 !~ /tentative/ {sub("/.*", "", $4); print $4; exit}' | grep .
}
radv_router_ll() { radv_ll_of "$RADV_R" "$RADV_RIF"; }
radv_host_ll() { radv_ll_of "$RADV_H" "$RADV_HIF"; }

# radv_addr_info PREFIX [NS IF]: one line "ADDR PREFERRED VALID FLAGS" per
# global address of the host inside PREFIX (FLAGS: comma list or "-").
radv_addr_info() {
    local ns=${2:-$RADV_H} ifc=${3:-$RADV_HIF}
    nsx "$ns" ip -j -6 addr show dev "$ifc" scope global 2>/dev/null | "$E6_PY" -c '
import ipaddress, json, sys
net = ipaddress.ip_network(sys.argv[1])
for link in json.load(sys.stdin):
    for a in link.get("addr_info", []):
        if a.get("family") != "inet6" or ipaddress.ip_address(a["local"]) not in net:
            continue
        flags = [f for f in ("tentative", "deprecated", "dadfailed", "optimistic") if a.get(f)]
        print(a["local"], a.get("preferred_life_time"), a.get("valid_life_time"),
              ",".join(flags) or "-")
' "$1"
}

# radv_slaac PREFIX: prints the host's usable (preferred, not tentative)
# address in PREFIX; fails when there is none.
radv_slaac() {
    radv_addr_info "$1" | awk '$4 == "-" && $2 > 0 {print $1; f=1} END {exit !f}'
}

# radv_deprecated PREFIX: the host still has an address in PREFIX, with
# preferred lifetime 0.
radv_deprecated() {
    radv_addr_info "$1" | awk '$2 == 0 {f=1} END {exit !f}'
}

# radv_defrtr: gateways of the host's default routes through h0.
radv_defrtr() {
    nsx "$RADV_H" ip -6 route show default dev "$RADV_HIF" 2>/dev/null |
        awk '{for (i = 1; i < NF; i++) if ($i == "via") print $(i + 1)}' | grep .
}
radv_no_defrtr() { ! radv_defrtr >/dev/null; }

radv_host_mtu() { nsx "$RADV_H" cat "/proc/sys/net/ipv6/conf/$RADV_HIF/mtu"; }

# radv_timed CMD...: run CMD, leave its run time in ms in RADV_MS (call it
# directly, not in $(...)).
radv_timed() {
    local t0 rc
    t0=$(date +%s%N)
    "$@"
    rc=$?
    # shellcheck disable=SC2034 # read by the caller
    RADV_MS=$((($(date +%s%N) - t0) / 1000000))
    return $rc
}

# The RA listener: decodes every Router Advertisement it sees into one JSON
# line, flushed as it arrives. "ready" goes to stderr once it listens.
#   --ifname IF      raw ICMPv6 socket bound to IF (host side)
#   --tun NAME       attach to the persistent TUN device NAME and read the
#                    packets the kernel sends into it (a link with no MAC)
#   --duration S     stop after S seconds; --count N: after N RAs
RADV_LISTEN_PY=$E6_WORK/ra_listen.py
cat >"$RADV_LISTEN_PY" <<'PY'
import argparse, fcntl, ipaddress, json, os, select, socket, struct, sys, time

ap = argparse.ArgumentParser()
ap.add_argument("--ifname")
ap.add_argument("--tun")
ap.add_argument("--duration", type=float, default=30.0)
ap.add_argument("--count", type=int, default=0)
args = ap.parse_args()

def ip6(b):
    return str(ipaddress.IPv6Address(bytes(b)))

def decode_ra(icmp, src, dst, hlim):
    if len(icmp) < 16 or icmp[0] != 134:
        return None
    ra = {"t": time.monotonic(), "src": src, "dst": dst, "hlim": hlim,
          "code": icmp[1], "cur_hop_limit": icmp[4],
          "m": bool(icmp[5] & 0x80), "o": bool(icmp[5] & 0x40),
          "prf": (icmp[5] >> 3) & 3,
          "router_lifetime": struct.unpack("!H", icmp[6:8])[0],
          "reachable": struct.unpack("!I", icmp[8:12])[0],
          "retrans": struct.unpack("!I", icmp[12:16])[0],
          "len": len(icmp), "opts": [], "slla": None, "mtu": None,
          "prefixes": [], "routes": [], "rdnss": [], "dnssl": [],
          "pref64": [], "captive": None, "bad": []}
    off = 16
    while off < len(icmp):
        if off + 2 > len(icmp) or icmp[off + 1] == 0 or off + 8 * icmp[off + 1] > len(icmp):
            ra["bad"].append("option at %d overruns" % off)
            break
        t, n = icmp[off], 8 * icmp[off + 1]
        o = icmp[off:off + n]
        ra["opts"].append(t)
        if t == 1:
            ra["slla"] = o[2:].hex(":")
        elif t == 5 and n == 8:
            ra["mtu"] = struct.unpack("!I", o[4:8])[0]
        elif t == 3 and n == 32:
            ra["prefixes"].append({"prefix": "%s/%d" % (ip6(o[16:32]), o[2]),
                                   "L": bool(o[3] & 0x80), "A": bool(o[3] & 0x40),
                                   "valid": struct.unpack("!I", o[4:8])[0],
                                   "preferred": struct.unpack("!I", o[8:12])[0]})
        elif t == 24:
            p = bytes(o[8:]) + bytes(16)
            ra["routes"].append({"prefix": "%s/%d" % (ip6(p[:16]), o[2]),
                                 "prf": (o[3] >> 3) & 3,
                                 "lifetime": struct.unpack("!I", o[4:8])[0]})
        elif t == 25:
            ra["rdnss"].append({"lifetime": struct.unpack("!I", o[4:8])[0],
                                "servers": [ip6(o[i:i + 16]) for i in range(8, n - 15, 16)]})
        elif t == 31:
            names, cur, i = [], [], 8
            while i < n:
                l = o[i]
                i += 1
                if l == 0:
                    if cur:
                        names.append(".".join(cur))
                    cur = []
                    continue
                cur.append(bytes(o[i:i + l]).decode("ascii", "replace"))
                i += l
            ra["dnssl"].append({"lifetime": struct.unpack("!I", o[4:8])[0], "domains": names})
        elif t == 38 and n == 16:
            sl = struct.unpack("!H", o[2:4])[0]
            plc = sl & 7
            plen = {0: 96, 1: 64, 2: 56, 3: 48, 4: 40, 5: 32}.get(plc, -1)
            ra["pref64"].append({"prefix": "%s/%d" % (ip6(bytes(o[4:16]) + bytes(4)), plen),
                                 "lifetime": (sl >> 3) * 8})
        elif t == 37:
            ra["captive"] = bytes(o[2:]).rstrip(b"\0").decode("ascii", "replace")
        off += n
    return ra

def emit(ra):
    if ra is None:
        return False
    sys.stdout.write(json.dumps(ra) + "\n")
    sys.stdout.flush()
    return True

deadline = time.monotonic() + args.duration
seen = 0
if args.tun:
    TUNSETIFF, IFF_TUN, IFF_NO_PI = 0x400454CA, 0x0001, 0x1000
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", args.tun.encode(), IFF_TUN | IFF_NO_PI))
    print("ready", file=sys.stderr, flush=True)
    while time.monotonic() < deadline and (not args.count or seen < args.count):
        r, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not r:
            break
        pkt = os.read(fd, 65536)
        # IPv6, next header ICMPv6 (RAs carry no extension header)
        if len(pkt) < 40 or pkt[0] >> 4 != 6 or pkt[6] != 58:
            continue
        if emit(decode_ra(pkt[40:], ip6(pkt[8:24]), ip6(pkt[24:40]), pkt[7])):
            seen += 1
else:
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, args.ifname.encode())
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVPKTINFO, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVHOPLIMIT, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    print("ready", file=sys.stderr, flush=True)
    while time.monotonic() < deadline and (not args.count or seen < args.count):
        s.settimeout(max(0.001, deadline - time.monotonic()))
        try:
            data, anc, _, addr = s.recvmsg(65536, 256)
        except socket.timeout:
            break
        dst, hlim = None, None
        for lvl, typ, val in anc:
            if lvl == socket.IPPROTO_IPV6 and typ == socket.IPV6_PKTINFO:
                dst = ip6(val[:16])
            elif lvl == socket.IPPROTO_IPV6 and typ == socket.IPV6_HOPLIMIT:
                hlim = struct.unpack("i", val[:4])[0]
        if emit(decode_ra(data, addr[0].split("%")[0], dst, hlim)):
            seen += 1
PY

# radv_listen NAME ARGS...: start the listener in the host namespace (on h0
# unless ARGS say otherwise); waits until it listens. Output: $E6_WORK/NAME.json.
radv_listen() {
    local name=$1
    shift
    [ $# -gt 0 ] || set -- --ifname "$RADV_HIF"
    ip netns exec "${RADV_LISTEN_NS:-$RADV_H}" "$E6_PY" "$RADV_LISTEN_PY" "$@" \
        >"$E6_WORK/$name.json" 2>"$E6_WORK/$name.err" &
    E6_BG_PID=$!
    E6_PIDS+=("$E6_BG_PID")
    # shellcheck disable=SC2034 # for the caller
    RADV_LISTEN_PID=$E6_BG_PID
    wait_for 5 "RA listener $name" grep -q ready "$E6_WORK/$name.err"
}

# radv_ras FILE EXPR: EXPR over `ras`, the RAs in FILE (JSON lines).
radv_ras() {
    "$E6_PY" -c '
import json, sys
ras = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print(eval(sys.argv[2]))' "$1" "$2"
}
