# shellcheck shell=bash
# tests/bench/lib_bench.sh: what the throughput benches (tun_6in4.sh,
# tun_6bed4.sh) share; sourced after tests/netns/lib_edge6d.sh (E6_PY).
#   bench_cpu_start PID...  remember their CPU ticks and the time
#   bench_cpu_end PID...    % of one core each used since then (utime +
#                           stime from /proc/PID/stat, threads included),
#                           as "a/b/c"; empty with no PID
#   bench_iperf3 JSON       the figure of one `iperf3 -J` run, "FIGURE SENT":
#                           TCP: received Mbit/s and "-"; UDP (64-byte
#                           payloads): packets/s received and sent;
#                           "error -" when the run failed
#   bench_ratio A B         A/B with two decimals, "-" when either is no number

BENCH_HZ=$(getconf CLK_TCK)
BENCH_T0=0
BENCH_TICKS=()

bench_cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }

bench_cpu_start() {
    local p
    BENCH_TICKS=()
    for p in "$@"; do BENCH_TICKS+=("$(bench_cpu_ticks "$p")"); done
    BENCH_T0=$(date +%s%N)
}

bench_cpu_end() {
    local t1 i=0 p c=""
    t1=$(date +%s%N)
    for p in "$@"; do
        c+="$(awk -v d=$(($(bench_cpu_ticks "$p") - BENCH_TICKS[i])) -v hz="$BENCH_HZ" \
            -v ns=$((t1 - BENCH_T0)) 'BEGIN {printf "%.0f", 100 * d / hz / (ns / 1e9)}')/"
        i=$((i + 1))
    done
    echo "${c%/}"
}

bench_iperf3() {
    "$E6_PY" -c '
import json, sys
try:
    j = json.loads(sys.argv[1])
except ValueError:
    print("error -"); sys.exit()
if "error" in j:
    print("error -"); sys.exit()
e = j["end"]
if j["start"]["test_start"]["protocol"] == "UDP":
    r, s = e["sum_received"], e["sum_sent"]
    print("%.0f %.0f" % (r["bytes"] / 64 / r["seconds"], s["bytes"] / 64 / s["seconds"]))
else:
    print("%.0f -" % (e["sum_received"]["bits_per_second"] / 1e6))' "$1"
}

bench_ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b + 0 > 0 && a + 0 == a) printf "%.2f", a / b; else print "-"}'; }
