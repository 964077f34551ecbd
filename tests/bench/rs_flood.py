#!/usr/bin/env python3
"""tests/bench/rs_flood.py: send Router Solicitations at a fixed rate on one
interface, for the RS-flood benchmark (ra_rs_flood.sh). The packets are
built whole (IPPROTO_RAW) so the source can be :: (the answer must then be
multicast, which is what the 3 s floor of RFC 4861 6.2.6 is about), the
host's own link-local address, or a fresh random link-local each time.

usage: rs_flood.py --ifname IF [--rate 1000] [--duration 20]
                   [--src mix|unspec|ll|random]
Prints one line: "sent N RS in S s (R/s)".
"""
import argparse, ipaddress, os, socket, struct, time


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def rs_packet(src, dst, mac):
    # RFC 4861 4.1: no Source Link-Layer Address option from ::
    opt = b"" if src == bytes(16) else bytes([1, 1]) + mac
    icmp = struct.pack("!BBHI", 133, 0, 0, 0) + opt
    pseudo = src + dst + struct.pack("!I3xB", len(icmp), 58)
    icmp = icmp[:2] + struct.pack("!H", checksum(pseudo + icmp)) + icmp[4:]
    ip6 = struct.pack("!IHBB", 6 << 28, len(icmp), 58, 255) + src + dst
    return ip6 + icmp


def link_local(ifname):
    with open("/proc/net/if_inet6") as f:
        for line in f:
            addr, _, _, scope, flags, name = line.split()
            if name == ifname and scope == "20" and not int(flags, 16) & 0x40:
                return bytes.fromhex(addr)
    raise SystemExit("no link-local address on " + ifname)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ifname", required=True)
    ap.add_argument("--rate", type=float, default=1000.0)
    ap.add_argument("--duration", type=float, default=20.0)
    ap.add_argument("--src", choices=["mix", "unspec", "ll", "random"], default="mix")
    a = ap.parse_args()

    ifindex = socket.if_nametoindex(a.ifname)
    with open("/sys/class/net/%s/address" % a.ifname) as f:
        mac = bytes.fromhex(f.read().strip().replace(":", ""))
    dst = ipaddress.IPv6Address("ff02::2").packed
    ll = link_local(a.ifname)
    fixed = {
        "unspec": [rs_packet(bytes(16), dst, mac)],
        "ll": [rs_packet(ll, dst, mac)],
        "mix": [rs_packet(bytes(16), dst, mac), rs_packet(ll, dst, mac)],
    }.get(a.src)

    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, a.ifname.encode())
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 22)
    target = ("ff02::2", 0, 0, ifindex)

    start = time.monotonic()
    end = start + a.duration
    sent = 0
    while True:
        now = time.monotonic()
        if now >= end:
            break
        due = int((now - start) * a.rate)
        while sent < due:
            if fixed:
                pkt = fixed[sent % len(fixed)]
            else:
                src = bytes.fromhex("fe80000000000000") + os.urandom(8)
                rmac = bytes([0x02]) + os.urandom(5)
                pkt = rs_packet(src, dst, rmac)
            try:
                s.sendto(pkt, target)
            except OSError:
                pass  # a full queue: the rate printed below says so
            sent += 1
        time.sleep(0.002)
    elapsed = time.monotonic() - start
    print("sent %d RS in %.1f s (%.0f/s)" % (sent, elapsed, sent / elapsed), flush=True)


if __name__ == "__main__":
    main()
