#!/usr/bin/env bash
# tests/bench/ndp_scan.sh [RATE] [COUNT]: a /64 scan against edge6d's NDP
# proxy. On the three namespaces of tests/netns/lib_ndp.sh, edge6d proxies
# eth0 with `rule 2001:db8:1::/64 { method = iface  iface = lan0 }` and the
# default session bound (8192). From the upstream namespace nsgen sends
# COUNT (default 1,000,000) NSs for distinct random addresses of the /64 at
# RATE/s (default 100000, about what one nsgen sustains on 2 cores), none
# of them present behind the proxy, while a second nsgen stream solicits
# the one real LAN host (2001:db8:1::101) at 200/s, as the upstream router
# resolving it would.
#
# Printed: edge6d's VmRSS idle before, sampled every 0.5 s during the scan
# (largest value) and after the scan's sessions expired; the sessions held
# (largest sample); how many scan NSs edge6d saw; the share of the real
# host's NSs answered and their p50/p99 latency; the proxy's counters.
# Targets (not asserted): RSS within +4 MiB of idle during the scan and
# back to idle after; the real host >= 99.9 % answered. Needs root:
#   sudo E6_BUILDDIR=/tmp/b tests/bench/ndp_scan.sh [RATE] [COUNT]
. "$(dirname "$0")/../netns/lib.sh"
. "$(dirname "$0")/../netns/lib_edge6d.sh"
. "$(dirname "$0")/../netns/lib_ndp.sh"

RATE=${1:-100000}
COUNT=${2:-1000000}
LEGIT_RATE=200
NSGEN=${NSGEN:-$E6_BUILDDIR/tests/bench/nsgen}
[ -x "$NSGEN" ] || { fail "no $NSGEN: build it (make tests/bench/nsgen)"; exit 1; }
field() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

e6d_prepare
# shellcheck disable=SC2034 # read by ndp_conf
NDP_LOG_LEVEL=notice
ndp_topo
conf=$(e6d_conf scan)
ndp_conf "$conf" '
    rule 2001:db8:1::/64 {
        method = iface
        iface = lan0
    }'
ndp_start d "$conf"
pid=$(ndp_pid d)
wait_for 10 "the upstream reaches $NDP_HOST" ndp_ping_ok "$NDP_HOST"
sleep 2
rss0=$(ndp_rss_kb "$pid")
seen0=$(ndp_counter "$conf" '^ndppd\.ns_seen$')
secs=$(awk -v c="$COUNT" -v r="$RATE" 'BEGIN {printf "%d", c / r + 2}')

ip netns exec "$NDP_UP" "$NSGEN" -i "$NDP_UPIF" -s "$NDP_UPADDR" -t "$NDP_HOST" -R "$LEGIT_RATE" \
    -d "$secs" -w 500 -k legit >"$E6_WORK/legit.out" 2>&1 &
legit_pid=$!
E6_PIDS+=("$legit_pid")
sleep 1
ip netns exec "$NDP_UP" "$NSGEN" -i "$NDP_UPIF" -s "$NDP_UPADDR" -p "$NDP_PREFIX" -r -n "$COUNT" \
    -R "$RATE" -x "$NDP_HOST" -x "$NDP_UPADDR" -x "$NDP_VPSADDR" -w 200 -k scan >"$E6_WORK/scan.out" 2>&1 &
scan_pid=$!
E6_PIDS+=("$scan_pid")
max_rss=$rss0
max_sessions=0
samples=0
while kill -0 "$scan_pid" 2>/dev/null; do
    r=$(ndp_rss_kb "$pid")
    s=$(ndp_status_sum "$conf" sessions total)
    [ "${r:-0}" -gt "$max_rss" ] && max_rss=$r
    [ "${s:-0}" -gt "$max_sessions" ] && max_sessions=$s
    samples=$((samples + 1))
    echo "$(date +%s.%N) rss=$r sessions=$s" >>"$E6_WORK/samples.txt"
    sleep 0.5
done
wait "$scan_pid"
wait "$legit_pid"
seen1=$(ndp_counter "$conf" '^ndppd\.ns_seen$')
scan=$(grep '^nsgen' "$E6_WORK/scan.out")
legit=$(grep '^nsgen' "$E6_WORK/legit.out")
# the scan's sessions: incomplete for 3 x 1 s, then invalid for 5 s
sleep 12
rss2=$(ndp_rss_kb "$pid")
sess2=$(ndp_status_sum "$conf" sessions total)
drops=$(ndp_status_sum "$conf" capture drops)

echo
echo "scan:   $scan"
echo "legit:  $legit"
echo "edge6d saw $((seen1 - seen0)) NSs during the scan ($(awk -v a="$((seen1 - seen0))" -v b="$(field "$scan" sent)" 'BEGIN {printf "%.1f", b ? 100 * a / b : 0}') % of the scan's)"
printf 'VmRSS idle %d KiB, largest during the scan %d KiB (+%d KiB, %d samples), after %d KiB (%+d KiB)\n' \
    "$rss0" "$max_rss" "$((max_rss - rss0))" "$samples" "$rss2" "$((rss2 - rss0))"
echo "sessions: at most $max_sessions during the scan (bound 8192), $sess2 after; capture drops: $drops"
echo "legitimate host: $(field "$legit" pct) % answered ($(field "$legit" answered)/$(field "$legit" sent)), p50 $(field "$legit" p50_us) us, p99 $(field "$legit" p99_us) us"
echo "counters:"
e6ctl "$NDP_VPS" "$conf" counters | awk '$1 ~ /^ndppd/ && $3 != 0' | sed 's/^/    /'
e6d_stop d
ok "benchmark ran"
e6_done
