#!/usr/bin/env python3
"""Stand-in for systemd's notify socket: bind an AF_UNIX datagram socket at
argv[1] and append every message received to argv[2], one per line (a
message's own newlines become ' | '). Runs until killed."""
import os
import socket
import sys

path, out = sys.argv[1], sys.argv[2]
try:
    os.unlink(path)
except FileNotFoundError:
    pass
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
os.chmod(path, 0o777)
with open(out, "a", buffering=1) as f:
    while True:
        data = s.recv(4096)
        f.write(data.decode("utf-8", "replace").strip().replace("\n", " | ") + "\n")
