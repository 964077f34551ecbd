#!/usr/bin/env bash
# Router Solicitations that break RFC 4861 6.1.1 are dropped, each under its
# named counter, and never answered: hop limit below 255, code not 0, too
# short, an option of length 0, an option running past the end, an SLLA
# option from the unspecified address. The daemon stays up and still
# answers a good RS after all that.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_edge6d.sh"
. "$(dirname "$0")/lib_radv.sh"

e6d_prepare
radv_topo
conf=$(e6d_conf badrs)
radv_conf_head "$conf"
cat >>"$conf" <<CONF
interface $RADV_RIF {
    max-interval = 600
    min-interval = 200
    prefix 2001:db8:1::/64 {
    }
}
CONF
send_py=$E6_WORK/send_rs.py
cat >"$send_py" <<'PY'
import socket, struct, sys
ifname, kind, count = sys.argv[1], sys.argv[2], int(sys.argv[3])

def csum(b):
    b += b"\0" * (len(b) % 2)
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF

ll = None
for line in open("/proc/net/if_inet6"):
    a, _, _, scope, _, name = line.split()
    if name == ifname and scope == "20":
        ll = bytes.fromhex(a)
mac = bytes.fromhex(open("/sys/class/net/%s/address" % ifname).read().strip().replace(":", ""))
src, dst, hlim, code = ll, socket.inet_pton(socket.AF_INET6, "ff02::2"), 255, 0
body = struct.pack("!BBHI", 133, 0, 0, 0)
opts = bytes([1, 1]) + mac
if kind == "hop_limit":
    hlim = 64
elif kind == "code":
    code = 1
elif kind == "short":
    body, opts = body[:6], b""
elif kind == "opt_zero_len":
    opts = bytes([1, 0]) + mac
elif kind == "opt_overrun":
    opts = bytes([1, 2]) + mac
elif kind == "unspec_slla":
    src = bytes(16)
icmp = bytearray(body[:1] + bytes([code]) + body[2:] + opts)
pseudo = src + dst + struct.pack("!I3xB", len(icmp), 58)
icmp[2:4] = struct.pack("!H", csum(pseudo + bytes(icmp)))
pkt = struct.pack("!IHBB", 6 << 28, len(icmp), 58, hlim) + src + dst + bytes(icmp)
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, ifname.encode())
for _ in range(count):
    s.sendto(pkt, ("ff02::2", 0, 0, socket.if_nametoindex(ifname)))
PY
# counter NAME: the value of a radv-rx or radv counter
counter() {
    e6ctl "$RADV_R" "$conf" counters | awk -v n="$1" '($1 == "radv-rx" || $1 == "radv") && $2 == n {print $3; exit}'
}

radv_start d "$conf"
wait_for 10 "SLAAC address" radv_slaac 2001:db8:1::/64
# the initial RAs (3 at 16 s) would blur "no answer": count only what follows
hll=$(radv_host_ll)
radv_listen l --ifname "$RADV_HIF" --duration 3
acc0=$(counter accepted)
rs0=$(counter rs_received)
for kind in hop_limit code short opt_zero_len opt_overrun unspec_slla; do
    before=$(counter "$kind")
    nsx "$RADV_H" "$E6_PY" "$send_py" "$RADV_HIF" "$kind" 3 || fail "cannot send $kind RS"
    sleep 0.2
    after=$(counter "$kind")
    if [ -z "$before" ]; then
        fail "no counter named $kind"
    elif [ "$((after - before))" -eq 3 ]; then
        ok "3 RS with $kind dropped and counted under $kind"
    else
        fail "RS with $kind: counter $kind went $before -> $after (3 sent)"
        e6ctl "$RADV_R" "$conf" counters | grep radv-rx | sed 's/^/    | /' >&2
    fi
done
assert_eq "none of them accepted" "$acc0" "$(counter accepted)"
assert_eq "none reached the engine" "$rs0" "$(counter rs_received)"
wait "$RADV_LISTEN_PID" 2>/dev/null
assert_eq "no unicast answer to any of them" 0 \
    "$(radv_ras "$E6_WORK/l.json" "sum(1 for r in ras if r['dst'] == '$hll')")"
assert_ok "edge6d still running" kill -0 "$(radv_pid d)"

# a good RS is still answered
out=$(timeout 5 ip netns exec "$RADV_H" rdisc6 -1 -r 1 -w 1500 "$RADV_HIF" 2>&1)
assert_match "a good RS is answered afterwards" "Prefix +: 2001:db8:1::/64" "$out"
assert_eq "and counted" "$((rs0 + 1))" "$(counter rs_received)"
e6d_stop_sig d TERM
e6_done
