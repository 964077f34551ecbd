#!/usr/bin/env python3
"""tests/netns/ns_tool.py: Neighbor Solicitations crafted whole, and the
Neighbor Advertisements they draw, for the NDP proxy tests (t_ndp_*.sh).

Everything is built by hand so each field can be wrong on purpose: hop
limit, code, checksum, source (:: for DAD), Source Link-Layer Address
option, IPv6 destination, Ethernet destination, a Hop-by-Hop header.

Modes (each prints JSON, one object per line):

  ask   --iface IF | --tun NAME  --ns SPEC [--ns SPEC ...]
        Send each NS in turn; collect every inbound NA whose target is the
        NS's target for `wait` seconds (default 1): one line per NS,
        {"spec": ..., "nas": [NA, ...]}. On a TUN the device is created
        (IFF_TUN | IFF_NO_PI), "ready" goes to stderr, and the tool waits
        for the file --go to exist before sending (so the caller can
        configure the link and start the daemon meanwhile).
  serve --iface IF | --tun NAME  --ctl FIFO
        Same, but the SPECs come one per line from FIFO (opened after
        "ready" is printed); "quit" ends. Keeps the TUN open all along.
  listen --iface IF --duration S
        Every inbound NA and NS on IF, one line each.
  scan  --iface IF --src ADDR --prefix P --count N --rate R [--seed S]
        N multicast NSs for N distinct random targets of P (never one of
        --avoid), paced at R/s; then {"sent", "answered", "s"}: answered
        counts the distinct scanned targets some NA came back for.
  respond --iface IF --prefix P --offset K --count N [--duration S]
        Play N hosts on IF: answer every NS for the addresses P+K ..
        P+K+N-1 as their owner would (an NA from the target, S=1 O=1,
        TLLA our MAC; to ff02::1 with S=0 for DAD). For benchmarks that
        need a LAN of many hosts without giving a namespace thousands of
        addresses. Prints {"answered": N} at the end.
  ping  --src ADDR --dst ADDR --count N --interval S [--timeout S]
        ICMPv6 echo through the kernel (so ND happens for real):
        {"sent", "received", "rtt_ms": [...]}.

SPEC is comma-separated key=value:
  target=ADDR   (required)
  src=ADDR      IPv6 source (default: the interface's link-local; "::" DAD)
  dst=ADDR      IPv6 destination (default: solicited-node group of target)
  l2dst=MAC     Ethernet destination (default: 33:33:xx of a multicast dst;
                required for a unicast dst on Ethernet)
  hlim=N        hop limit (255)
  code=N        ICMPv6 code (0)
  slla=auto|none|MAC   auto: own MAC unless src is :: or the link has none
  csum=good|bad
  hbh=0|1       a Hop-by-Hop Options header (PadN) before the ICMPv6 header
  wait=S        how long to collect NAs (1.0)

An NA is {"t_ms", "l2src", "l2dst", "src", "dst", "hlim", "r", "s", "o",
"target", "tlla", "opts", "csum_ok", "len"} (l2src/l2dst null on a TUN).
"""
import argparse, fcntl, ipaddress, json, os, random, select, socket, struct, sys, time

ETH_P_IPV6 = 0x86DD
ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
SOL_PACKET = 263
PACKET_ADD_MEMBERSHIP = 1
PACKET_MR_ALLMULTI = 2


def a6(s):
    return ipaddress.IPv6Address(s).packed


def s6(b):
    return str(ipaddress.IPv6Address(bytes(b)))


def mac_bytes(s):
    return bytes.fromhex(s.replace(":", ""))


def mac_str(b):
    return bytes(b).hex(":") if b is not None else None


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def icmp6_csum(src, dst, icmp):
    pseudo = src + dst + struct.pack("!I3xB", len(icmp), 58)
    return checksum(pseudo + icmp)


def solicited_node(target):
    return a6("ff02::1:ff00:0")[:13] + target[13:]


def mcast_mac(dst):
    return b"\x33\x33" + dst[12:]


def link_local(ifname):
    with open("/proc/net/if_inet6") as f:
        for line in f:
            addr, _, _, scope, flags, name = line.split()
            if name == ifname and scope == "20" and not int(flags, 16) & 0x40:
                return bytes.fromhex(addr)
    return None


def own_mac(ifname):
    try:
        with open("/sys/class/net/%s/address" % ifname) as f:
            m = f.read().strip()
        b = mac_bytes(m) if m else b""
        return b if len(b) == 6 else None
    except OSError:
        return None


def parse_spec(text, ifname, mac):
    spec = {"hlim": 255, "code": 0, "slla": "auto", "csum": "good", "hbh": 0, "wait": 1.0}
    for kv in text.split(","):
        if not kv.strip():
            continue
        k, _, v = kv.partition("=")
        spec[k.strip()] = v.strip()
    if "target" not in spec:
        raise SystemExit("spec without target: " + text)
    if "src" not in spec:
        ll = link_local(ifname)
        if ll is None:
            raise SystemExit("no link-local address on %s for the NS source" % ifname)
        spec["src"] = s6(ll)
    if "dst" not in spec:
        spec["dst"] = s6(solicited_node(a6(spec["target"])))
    for k in ("hlim", "code", "hbh"):
        spec[k] = int(spec[k])
    spec["wait"] = float(spec["wait"])
    return spec


def ns_ip6(spec, mac):
    """The IPv6 packet (header included) of the NS a spec describes."""
    src, dst, target = a6(spec["src"]), a6(spec["dst"]), a6(spec["target"])
    slla = spec["slla"]
    opt = b""
    if slla == "auto":
        if src != bytes(16) and mac:
            opt = bytes([1, 1]) + mac
    elif slla != "none":
        opt = bytes([1, 1]) + mac_bytes(slla)
    icmp = struct.pack("!BBHI", 135, spec["code"], 0, 0) + target + opt
    c = icmp6_csum(src, dst, icmp)
    if spec["csum"] == "bad":
        c ^= 0x5A5A
    icmp = icmp[:2] + struct.pack("!H", c) + icmp[4:]
    if spec["hbh"]:
        # Hop-by-Hop: next header ICMPv6, length 0 (8 bytes), PadN of 4
        ext = bytes([58, 0, 1, 4, 0, 0, 0, 0])
        return struct.pack("!IHBB", 6 << 28, len(ext) + len(icmp), 0, spec["hlim"]) + src + dst + ext + icmp
    return struct.pack("!IHBB", 6 << 28, len(icmp), 58, spec["hlim"]) + src + dst + icmp


def parse_icmp6(pkt):
    """(src, dst, hlim, icmp bytes) of an IPv6 packet carrying ICMPv6, else None."""
    if len(pkt) < 40 or pkt[0] >> 4 != 6:
        return None
    nh, hlim = pkt[6], pkt[7]
    src, dst = pkt[8:24], pkt[24:40]
    plen = struct.unpack("!H", pkt[4:6])[0]
    end = min(len(pkt), 40 + plen)
    off = 40
    while nh in (0, 43, 60):
        if off + 8 > end:
            return None
        nh, off = pkt[off], off + 8 * (pkt[off + 1] + 1)
    if nh != 58 or off > end:
        return None
    return src, dst, hlim, pkt[off:end]


def decode_na(ip6, l2src, l2dst, t0):
    p = parse_icmp6(ip6)
    if p is None:
        return None
    src, dst, hlim, icmp = p
    if len(icmp) < 24 or icmp[0] != 136:
        return None
    na = {"t_ms": round((time.monotonic() - t0) * 1000, 3) if t0 else None,
          "l2src": mac_str(l2src), "l2dst": mac_str(l2dst),
          "src": s6(src), "dst": s6(dst), "hlim": hlim, "code": icmp[1],
          "r": bool(icmp[4] & 0x80), "s": bool(icmp[4] & 0x40), "o": bool(icmp[4] & 0x20),
          "target": s6(icmp[8:24]), "tlla": None, "opts": [], "bad_opts": False,
          "csum_ok": icmp6_csum(src, dst, icmp[:2] + b"\0\0" + icmp[4:]) ==
          struct.unpack("!H", icmp[2:4])[0], "len": len(icmp)}
    off = 24
    while off < len(icmp):
        if off + 2 > len(icmp) or icmp[off + 1] == 0 or off + 8 * icmp[off + 1] > len(icmp):
            na["bad_opts"] = True
            break
        t, n = icmp[off], 8 * icmp[off + 1]
        na["opts"].append(t)
        if t == 2:
            na["tlla"] = mac_str(icmp[off + 2:off + n])
        off += n
    return na


def decode_ns(ip6, l2src, l2dst):
    p = parse_icmp6(ip6)
    if p is None:
        return None
    src, dst, hlim, icmp = p
    if len(icmp) < 24 or icmp[0] != 135:
        return None
    return {"type": "ns", "l2src": mac_str(l2src), "l2dst": mac_str(l2dst), "src": s6(src),
            "dst": s6(dst), "hlim": hlim, "target": s6(icmp[8:24])}


class Link:
    """An Ethernet link through AF_PACKET, or a TUN through its fd."""

    def __init__(self, iface=None, tun=None, allmulti=False):
        self.tunfd = None
        self.sock = None
        if tun:
            TUNSETIFF, IFF_TUN, IFF_NO_PI = 0x400454CA, 0x0001, 0x1000
            self.tunfd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
            fcntl.ioctl(self.tunfd, TUNSETIFF, struct.pack("16sH", tun.encode(), IFF_TUN | IFF_NO_PI))
            self.ifname = tun
            self.mac = None
        else:
            self.ifname = iface
            self.mac = own_mac(iface)
            self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_IPV6))
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 24)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 22)
            self.sock.bind((iface, ETH_P_IPV6))
            self.sock.setblocking(False)
            if allmulti:
                idx = socket.if_nametoindex(iface)
                self.sock.setsockopt(SOL_PACKET, PACKET_ADD_MEMBERSHIP,
                                     struct.pack("iHH8s", idx, PACKET_MR_ALLMULTI, 0, b""))

    def fileno(self):
        return self.tunfd if self.tunfd is not None else self.sock.fileno()

    def send(self, ip6, l2dst=None):
        if self.tunfd is not None:
            os.write(self.tunfd, ip6)
            return
        dst = ip6[24:40]
        if l2dst is None:
            if dst[0] != 0xFF:
                raise SystemExit("a unicast destination on Ethernet needs l2dst=")
            l2dst = mcast_mac(dst)
        frame = l2dst + (self.mac or bytes(6)) + struct.pack("!H", ETH_P_IPV6) + ip6
        while True:
            try:
                self.sock.send(frame)
                return
            except BlockingIOError:
                select.select([], [self.sock], [], 0.01)

    def recv_all(self):
        """Every inbound packet waiting now: (ip6, l2src, l2dst)."""
        out = []
        while True:
            try:
                if self.tunfd is not None:
                    out.append((os.read(self.tunfd, 65536), None, None))
                    continue
                data, addr = self.sock.recvfrom(65536)
            except (BlockingIOError, InterruptedError):
                return out
            if addr[2] == PACKET_OUTGOING or len(data) < 14:
                continue
            out.append((data[14:], data[6:12], data[0:6]))

    def wait(self, timeout):
        r, _, _ = select.select([self.fileno()], [], [], max(0.0, timeout))
        return bool(r)


def do_ask(link, spec):
    ip6 = ns_ip6(spec, link.mac)
    l2 = mac_bytes(spec["l2dst"]) if "l2dst" in spec else None
    link.recv_all()  # what came before is not an answer to this one
    t0 = time.monotonic()
    link.send(ip6, l2)
    nas = []
    end = t0 + spec["wait"]
    while True:
        left = end - time.monotonic()
        if left <= 0:
            break
        if not link.wait(left):
            continue
        for pkt, l2src, l2dst in link.recv_all():
            na = decode_na(pkt, l2src, l2dst, t0)
            if na and na["target"] == s6(a6(spec["target"])):
                nas.append(na)
    print(json.dumps({"spec": spec, "nas": nas}), flush=True)


def open_link(a):
    if a.tun:
        link = Link(tun=a.tun)
        print("ready", file=sys.stderr, flush=True)
        return link
    link = Link(iface=a.iface)
    print("ready", file=sys.stderr, flush=True)
    return link


def main_ask(a):
    link = open_link(a)
    if a.go:
        end = time.monotonic() + a.go_timeout
        while not os.path.exists(a.go):
            if time.monotonic() > end:
                raise SystemExit("no go file %s" % a.go)
            link.recv_all()
            time.sleep(0.05)
    for text in a.ns:
        do_ask(link, parse_spec(text, link.ifname, link.mac))


def main_serve(a):
    link = open_link(a)
    with open(a.ctl) as ctl:
        for line in ctl:
            line = line.strip()
            if not line:
                continue
            if line == "quit":
                break
            try:
                do_ask(link, parse_spec(line, link.ifname, link.mac))
            except (SystemExit, ValueError, OSError) as e:
                print(json.dumps({"error": str(e), "line": line}), flush=True)


def main_listen(a):
    link = Link(iface=a.iface, allmulti=a.allmulti)
    print("ready", file=sys.stderr, flush=True)
    end = time.monotonic() + a.duration
    t0 = time.monotonic()
    while time.monotonic() < end:
        if not link.wait(end - time.monotonic()):
            continue
        for pkt, l2src, l2dst in link.recv_all():
            m = decode_na(pkt, l2src, l2dst, t0)
            if m:
                m["type"] = "na"
            else:
                m = decode_ns(pkt, l2src, l2dst)
            if m:
                print(json.dumps(m), flush=True)


def main_scan(a):
    link = Link(iface=a.iface)
    src = a6(a.src)
    net = ipaddress.ip_network(a.prefix)
    avoid = {a6(x) for x in a.avoid}
    rng = random.Random(a.seed)
    base = int(net.network_address)
    span = net.num_addresses
    targets, seen = [], set()
    while len(targets) < a.count:
        t = (base + rng.randrange(1, span)).to_bytes(16, "big")
        if t in seen or t in avoid:
            continue
        seen.add(t)
        targets.append(t)
    slla = bytes([1, 1]) + link.mac
    hdr = link.mac + struct.pack("!H", ETH_P_IPV6)
    answered = set()

    def drain():
        for pkt, _, _ in link.recv_all():
            p = parse_icmp6(pkt)
            if p and len(p[3]) >= 24 and p[3][0] == 136 and p[3][8:24] in seen:
                answered.add(p[3][8:24])

    print("ready", file=sys.stderr, flush=True)
    t0 = time.monotonic()
    for i, t in enumerate(targets):
        due = t0 + i / a.rate
        while True:
            now = time.monotonic()
            if now >= due:
                break
            if (due - now) > 0.002:
                drain()
            time.sleep(min(0.001, due - now))
        dst = solicited_node(t)
        icmp = struct.pack("!BBHI", 135, 0, 0, 0) + t + slla
        icmp = icmp[:2] + struct.pack("!H", icmp6_csum(src, dst, icmp)) + icmp[4:]
        ip6 = struct.pack("!IHBB", 6 << 28, len(icmp), 58, 255) + src + dst + icmp
        frame = mcast_mac(dst) + hdr + ip6
        while True:
            try:
                link.sock.send(frame)
                break
            except BlockingIOError:
                drain()
                select.select([], [link.sock], [], 0.01)
    sent_s = time.monotonic() - t0
    end = time.monotonic() + a.linger
    while time.monotonic() < end:
        if link.wait(end - time.monotonic()):
            drain()
    print(json.dumps({"sent": len(targets), "answered": len(answered), "s": round(sent_s, 3)}),
          flush=True)


def main_respond(a):
    link = Link(iface=a.iface, allmulti=True)
    base = int(ipaddress.ip_network(a.prefix).network_address) + a.offset
    lo, hi = base, base + a.count
    mac = link.mac
    hdr_src = mac + struct.pack("!H", ETH_P_IPV6)
    tlla = bytes([2, 1]) + mac
    allnodes = a6("ff02::1")
    answered = 0
    print("ready", file=sys.stderr, flush=True)
    end = time.monotonic() + a.duration
    while time.monotonic() < end:
        if not link.wait(min(1.0, end - time.monotonic())):
            continue
        for pkt, l2src, _ in link.recv_all():
            # NS without extension headers: next header 58, type 135 at 40
            if len(pkt) < 64 or pkt[6] != 58 or pkt[40] != 135 or pkt[7] != 255:
                continue
            target = pkt[48:64]
            if not lo <= int.from_bytes(target, "big") < hi:
                continue
            src = pkt[8:24]
            if src == bytes(16):
                dst, flags, l2dst = allnodes, 0x20, mcast_mac(allnodes)
            else:
                dst, flags, l2dst = src, 0x60, l2src
                if len(pkt) >= 72 and pkt[64] == 1 and pkt[65] == 1:
                    l2dst = pkt[66:72]
            icmp = struct.pack("!BBHB3x", 136, 0, 0, flags) + target + tlla
            icmp = icmp[:2] + struct.pack("!H", icmp6_csum(target, dst, icmp)) + icmp[4:]
            ip6 = struct.pack("!IHBB", 6 << 28, len(icmp), 58, 255) + target + dst + icmp
            try:
                link.sock.send(l2dst + hdr_src + ip6)
                answered += 1
            except BlockingIOError:
                pass
    print(json.dumps({"answered": answered}), flush=True)


def main_ping(a):
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    s.bind((a.src, 0))
    ident = os.getpid() & 0xFFFF
    sent_at = {}
    rtts = []
    t_start = time.monotonic()
    for seq in range(a.count):
        due = t_start + seq * a.interval
        while time.monotonic() < due:
            s.settimeout(max(0.0005, due - time.monotonic()))
            try:
                data, addr = s.recvfrom(2048)
            except socket.timeout:
                continue
            if len(data) >= 8 and data[0] == 129 and struct.unpack("!H", data[4:6])[0] == ident:
                q = struct.unpack("!H", data[6:8])[0]
                if q in sent_at:
                    rtts.append(round((time.monotonic() - sent_at.pop(q)) * 1000, 3))
        pkt = struct.pack("!BBHHH", 128, 0, 0, ident, seq) + b"edge6-ndp-test"
        sent_at[seq] = time.monotonic()
        try:
            s.sendto(pkt, (a.dst, 0))
        except OSError:
            pass  # no route / neighbour failed: a loss
    end = time.monotonic() + a.timeout
    while sent_at and time.monotonic() < end:
        s.settimeout(max(0.0005, end - time.monotonic()))
        try:
            data, addr = s.recvfrom(2048)
        except socket.timeout:
            break
        if len(data) >= 8 and data[0] == 129 and struct.unpack("!H", data[4:6])[0] == ident:
            q = struct.unpack("!H", data[6:8])[0]
            if q in sent_at:
                rtts.append(round((time.monotonic() - sent_at.pop(q)) * 1000, 3))
    print(json.dumps({"sent": a.count, "received": len(rtts), "rtt_ms": rtts}), flush=True)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="mode", required=True)
    for name in ("ask", "serve"):
        p = sub.add_parser(name)
        g = p.add_mutually_exclusive_group(required=True)
        g.add_argument("--iface")
        g.add_argument("--tun")
        if name == "ask":
            p.add_argument("--ns", action="append", default=[], required=True)
            p.add_argument("--go")
            p.add_argument("--go-timeout", type=float, default=20.0)
        else:
            p.add_argument("--ctl", required=True)
    p = sub.add_parser("listen")
    p.add_argument("--iface", required=True)
    p.add_argument("--duration", type=float, default=10.0)
    p.add_argument("--allmulti", action="store_true")
    p = sub.add_parser("scan")
    p.add_argument("--iface", required=True)
    p.add_argument("--src", required=True)
    p.add_argument("--prefix", required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--rate", type=float, default=1000.0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--avoid", action="append", default=[])
    p.add_argument("--linger", type=float, default=1.0)
    p = sub.add_parser("respond")
    p.add_argument("--iface", required=True)
    p.add_argument("--prefix", required=True)
    p.add_argument("--offset", type=int, default=1)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--duration", type=float, default=3600.0)
    p = sub.add_parser("ping")
    p.add_argument("--src", required=True)
    p.add_argument("--dst", required=True)
    p.add_argument("--count", type=int, default=3)
    p.add_argument("--interval", type=float, default=0.2)
    p.add_argument("--timeout", type=float, default=2.0)
    a = ap.parse_args()
    {"ask": main_ask, "serve": main_serve, "listen": main_listen, "scan": main_scan,
     "ping": main_ping, "respond": main_respond}[a.mode](a)


if __name__ == "__main__":
    main()
