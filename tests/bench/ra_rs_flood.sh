#!/usr/bin/env bash
# tests/bench/ra_rs_flood.sh [RATE] [SECONDS] [SRC]: Router Solicitations at
# RATE/s (default 1000) for SECONDS (default 20) from the host to edge6d
# (rs_flood.py; SRC mix|unspec|ll|random, default mix: half from ::, whose
# answer must be multicast, half from the host's link-local). Prints
# edge6d's CPU use and memory (from /proc) over the flood, and the
# intervals between the multicast RAs the host saw: the smallest must stay
# >= 3 s (MIN_DELAY_BETWEEN_RAS, RFC 4861 6.2.6). Targets: min interval
# >= 3 s, CPU < 10 %. Not pass/fail. Needs root:
#   sudo E6_BUILDDIR=/tmp/b tests/bench/ra_rs_flood.sh
. "$(dirname "$0")/../netns/lib.sh"
. "$(dirname "$0")/../netns/lib_edge6d.sh"
. "$(dirname "$0")/../netns/lib_radv.sh"

RATE=${1:-1000}
SECS=${2:-20}
SRC=${3:-mix}
FLOOD=$(cd "$(dirname "$0")" && pwd)/rs_flood.py

e6d_prepare
radv_topo
conf=$(e6d_conf flood)
radv_conf_head "$conf"
sed -i 's/log-level = "debug"/log-level = "info"/' "$conf"
cat >>"$conf" <<CONF
interface $RADV_RIF {
    max-interval = 4
    min-interval = 3
    prefix 2001:db8:1::/64 {
    }
    rdnss {
        servers = { "2001:db8::53" }
    }
}
CONF
radv_start d "$conf"
pid=$(radv_pid d)
wait_for 10 "SLAAC address" radv_slaac 2001:db8:1::/64
# the initial burst over, before measuring
sleep 1

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
status_kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }
hz=$(getconf CLK_TCK)
rss0=$(status_kb "$pid" VmRSS)
radv_listen l --ifname "$RADV_HIF" --duration "$((SECS + 1))"
c0=$(cpu_ticks "$pid")
t0=$(date +%s%N)
out=$(ip netns exec "$RADV_H" "$E6_PY" "$FLOOD" --ifname "$RADV_HIF" --rate "$RATE" \
    --duration "$SECS" --src "$SRC")
t1=$(date +%s%N)
c1=$(cpu_ticks "$pid")
rss1=$(status_kb "$pid" VmRSS)
hwm=$(status_kb "$pid" VmHWM)
wait "$RADV_LISTEN_PID" 2>/dev/null
alive=yes
kill -0 "$pid" 2>/dev/null || alive=NO

echo "flood: $out (source: $SRC)"
awk -v c="$((c1 - c0))" -v hz="$hz" -v ns="$((t1 - t0))" \
    'BEGIN {printf "edge6d CPU: %.2f %% of one core over %.1f s (target < 10 %%)\n", 100 * c / hz / (ns / 1e9), ns / 1e9}'
echo "edge6d memory: VmRSS ${rss0} kB before, ${rss1} kB after, VmHWM ${hwm} kB; still running: $alive"
radv_ras "$E6_WORK/l.json" '"multicast RAs seen by the host: %d, unicast RAs: %d" % (sum(1 for r in ras if r["dst"] == "ff02::1"), sum(1 for r in ras if r["dst"] != "ff02::1"))'
radv_ras "$E6_WORK/l.json" '(lambda m: "intervals between multicast RAs (s): min %.3f (target >= 3), median %.3f, max %.3f" % (min(m), sorted(m)[len(m) // 2], max(m)) if m else "fewer than 2 multicast RAs")([b["t"] - a["t"] for a, b in zip([r for r in ras if r["dst"] == "ff02::1"], [r for r in ras if r["dst"] == "ff02::1"][1:])])'
echo "edge6d counters:"
e6ctl "$RADV_R" "$conf" counters | grep -Ei 'radv|ra_|rs' | sed 's/^/    /'
ok "benchmark ran"
e6d_stop_sig d USR1 5
e6_done
