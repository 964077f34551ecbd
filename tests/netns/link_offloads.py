#!/usr/bin/env python3
"""link_offloads.py 0|1 IFACE...: TSO, GSO and GRO off (0) or on (1) on
each interface of this namespace, with the legacy ethtool ioctls (no
ethtool binary needed). The benches use it for the kernel's per-packet
path."""
import array
import fcntl
import socket
import struct
import sys

SIOCETHTOOL = 0x8946
# ETHTOOL_STSO, ETHTOOL_SGSO, ETHTOOL_SGRO
COMMANDS = (0x1F, 0x24, 0x2C)


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("0", "1"):
        sys.exit("usage: link_offloads.py 0|1 IFACE...")
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for ifname in sys.argv[2:]:
        for cmd in COMMANDS:
            ev = array.array("I", [cmd, int(sys.argv[1])])
            req = struct.pack("16sP", ifname.encode(), ev.buffer_info()[0])
            fcntl.ioctl(s.fileno(), SIOCETHTOOL, req)


if __name__ == "__main__":
    main()
