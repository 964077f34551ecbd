#!/usr/bin/env bash
# tests/bench/ra_slaac.sh [ROUNDS]: time from daemon start to the host's
# first usable SLAAC address (global, not tentative, preferred), edge6d
# against radvd (Debian package) on the same router/host veth topology in
# the same run, ROUNDS (default 5) rounds each, interleaved, a fresh pair of
# namespaces per round. Prints every round, the medians and the ratio.
# Not pass/fail. Needs root; E6_BUILDDIR names the edge6d build:
#   sudo E6_BUILDDIR=/tmp/b tests/bench/ra_slaac.sh 5
. "$(dirname "$0")/../netns/lib.sh"
. "$(dirname "$0")/../netns/lib_edge6d.sh"
. "$(dirname "$0")/../netns/lib_radv.sh"

ROUNDS=${1:-5}
PREFIX=2001:db8:5::/64
command -v radvd >/dev/null || { fail "radvd is not installed"; exit 1; }
e6d_prepare

# prints the wall clock (ns) at which IF first holds a usable address in
# PREFIX; polls /proc/net/if_inet6 every millisecond
POLL_PY=$E6_WORK/poll_addr.py
cat >"$POLL_PY" <<'PY'
import ipaddress, sys, time
ifname, net, limit = sys.argv[1], ipaddress.ip_network(sys.argv[2]), float(sys.argv[3])
end = time.monotonic() + limit
print("ready", file=sys.stderr, flush=True)
while time.monotonic() < end:
    with open("/proc/net/if_inet6") as f:
        for line in f:
            addr, _, _, scope, flags, name = line.split()
            # 0x40 tentative, 0x20 deprecated, 0x08 dadfailed, 0x04 optimistic
            if name == ifname and scope == "00" and not int(flags, 16) & 0x6c \
                    and ipaddress.IPv6Address(bytes.fromhex(addr)) in net:
                print(time.time_ns(), flush=True)
                sys.exit(0)
    time.sleep(0.001)
sys.exit(1)
PY

e6conf=$(e6d_conf bench-edge6d)
radv_conf_head "$e6conf"
sed -i 's/log-level = "debug"/log-level = "info"/' "$e6conf"
cat >>"$e6conf" <<CONF
interface $RADV_RIF {
    max-interval = 30
    min-interval = 10
    prefix $PREFIX {
    }
}
CONF
rconf=$E6_WORK/radvd.conf
cat >"$rconf" <<CONF
interface $RADV_RIF {
    AdvSendAdvert on;
    MaxRtrAdvInterval 30;
    MinRtrAdvInterval 10;
    prefix $PREFIX {
        AdvValidLifetime 5400;
        AdvPreferredLifetime 2700;
    };
};
CONF

# one_round WHICH N: prints the milliseconds to the address, or "timeout"
one_round() {
    local which=$1 n=$2 t0 t1 pid
    radv_topo "$n"
    ip netns exec "$RADV_H" "$E6_PY" "$POLL_PY" "$RADV_HIF" "$PREFIX" 20 \
        >"$E6_WORK/poll-$which-$n.out" 2>"$E6_WORK/poll-$which-$n.err" &
    local poll=$!
    wait_for 5 "address poller" grep -q ready "$E6_WORK/poll-$which-$n.err"
    t0=$(date +%s%N)
    if [ "$which" = edge6d ]; then
        e6_bg "edge6d-$n" "$RADV_R" "$EDGE6D" -f -c "$e6conf"
    else
        e6_bg "radvd-$n" "$RADV_R" radvd -n -m stderr -C "$rconf" -p "$E6_WORK/radvd-$n.pid"
    fi
    pid=$E6_BG_PID
    wait "$poll"
    t1=$(head -n1 "$E6_WORK/poll-$which-$n.out")
    # edge6d: the restart path (no final RAs); radvd: its usual stop
    if [ "$which" = edge6d ]; then kill -USR1 "$pid"; else kill -TERM "$pid"; fi
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    radv_topo_del
    if [ -n "$t1" ]; then
        awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f\n", (b - a) / 1e6}'
    else
        echo timeout
    fi
    # edge6d logs when the interface becomes ready; the first RA follows a
    # random 0..500 ms later: say how the time splits
    local ts
    ts=$(grep -m1 "ra $RADV_RIF: advertising" "$E6_WORK/$which-$n.log" 2>/dev/null | cut -d' ' -f1)
    if [ -n "$ts" ] && ts=$(date -d "$ts" +%s%N 2>/dev/null); then
        echo "$(((ts - t0) / 1000000))" >"$E6_WORK/ready-$n.ms"
    fi
}

median() { sort -g | awk '{v[NR] = $1} END {if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

e6_log "edge6d: $EDGE6D ($("$EDGE6D" --version 2>&1 | head -n1)); radvd: $(radvd --version 2>&1 | head -n1)"
: >"$E6_WORK/edge6d.ms"
: >"$E6_WORK/radvd.ms"
for i in $(seq "$ROUNDS"); do
    for which in edge6d radvd; do
        ms=$(one_round "$which" "$i")
        extra=''
        [ "$which" = edge6d ] && [ -f "$E6_WORK/ready-$i.ms" ] &&
            extra=" (interface advertising $(cat "$E6_WORK/ready-$i.ms") ms after the start)"
        printf 'round %d %-7s %s ms%s\n' "$i" "$which" "$ms" "$extra"
        [ "$ms" = timeout ] || echo "$ms" >>"$E6_WORK/$which.ms"
    done
done
me=''
mr=''
[ -s "$E6_WORK/edge6d.ms" ] && me=$(median <"$E6_WORK/edge6d.ms")
[ -s "$E6_WORK/radvd.ms" ] && mr=$(median <"$E6_WORK/radvd.ms")
echo "median start-to-SLAAC: edge6d ${me:-n/a} ms ($(wc -l <"$E6_WORK/edge6d.ms")/$ROUNDS rounds)," \
    "radvd ${mr:-n/a} ms ($(wc -l <"$E6_WORK/radvd.ms")/$ROUNDS rounds)"
if [ -n "$me" ] && [ -n "$mr" ]; then
    awk -v e="$me" -v r="$mr" 'BEGIN {printf "ratio edge6d/radvd: %.2f\n", e / r}'
fi
ok "benchmark ran"
e6_done
