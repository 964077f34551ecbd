#!/usr/bin/env bash
# tests/bench/ndp_rate.sh: how many Neighbor Solicitations per second the
# NDP proxy answers, edge6d against ndppd (Debian's /usr/sbin/ndppd), in
# the same run, on the same three namespaces (tests/netns/lib_ndp.sh:
# upstream router, VPS, LAN host), never both daemons at once:
#
#   static  `rule 2001:db8:1::/64 static` (edge6d: allow-wide = yes)
#   iface   `rule 2001:db8:1::/64 iface lan0`, with N targets (default
#           20000) made valid first
#
# The iface targets must answer on lan0. Giving the LAN namespace 20000
# addresses takes minutes (the kernel's address list is linear), and the
# LAN kernel answering from 20000 proxy_ndp entries is no better: its
# proxy entries hang off 16 hash buckets and it answered about 250 NS/s
# with 300 ms latency. So `ns_tool.py respond` plays the 20000 hosts on the
# LAN side instead: it answers each NS for one of them the way the host
# would (from the target, S=1, O=1, its MAC), at 10000 NS/s and more. To
# the proxy under test that is a LAN of 20000 hosts answering its probes.
# A warm-up (one paced NS per target, repeated until >= 99.9 % are
# answered) makes every target valid, then each rate step asks for those
# confirmed targets only.
#
# nsgen (tests/bench/nsgen, built by make) sends the NSs from the upstream
# namespace, cycling over the N targets, at rates stepping up (RATES) for
# STEP seconds each, then flat out; a step counts when >= 99 % are
# answered. Printed per step: answered %, p50/p99 latency, the daemon's CPU
# (utime+stime from /proc/PID/stat over the step) and VmRSS; then a table
# of the highest rate with >= 99 % answered and the ratios edge6d/ndppd
# (targets: static >= 4x, iface >= 50x). Not pass/fail. Needs root:
#   sudo E6_BUILDDIR=/tmp/b tests/bench/ndp_rate.sh
# Environment: N (20000), STEP (2), RATES (1000 to 300000 in 13 steps),
# WHICH ("static iface").
. "$(dirname "$0")/../netns/lib.sh"
. "$(dirname "$0")/../netns/lib_edge6d.sh"
. "$(dirname "$0")/../netns/lib_ndp.sh"

N=${N:-20000}
STEP=${STEP:-2}
RATES=${RATES:-"1000 2000 5000 10000 15000 20000 30000 50000 75000 100000 150000 200000 300000"}
WHICH=${WHICH:-"static iface"}
NSGEN=${NSGEN:-$E6_BUILDDIR/tests/bench/nsgen}
NDPPD=${NDPPD:-/usr/sbin/ndppd}
OFFSET=65537 # targets 2001:db8:1::1:1 onwards, clear of the LAN host's /120
[ -x "$NSGEN" ] || { fail "no $NSGEN: build it (make tests/bench/nsgen)"; exit 1; }
[ -x "$NDPPD" ] || { fail "$NDPPD is not installed (package ndppd)"; exit 1; }
hz=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

e6d_prepare
# shellcheck disable=SC2034 # read by ndp_conf
NDP_LOG_LEVEL=notice
ndp_topo
# the LAN: N hosts, played by one responder
e6_bg lan-hosts "$NDP_LAN" "$E6_PY" "$NDP_TOOL" respond --iface "$NDP_HOSTIF" --prefix "$NDP_PREFIX" \
    --offset "$OFFSET" --count "$N"
wait_for 5 "the LAN responder" grep -q ready "$E6_WORK/lan-hosts.log"

gen() {
    ip netns exec "$NDP_UP" "$NSGEN" -i "$NDP_UPIF" -s "$NDP_UPADDR" -p "$NDP_PREFIX" -o "$OFFSET" \
        -n "$N" "$@"
}
field() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

DPID=
start_daemon() {
    local which=$1 rule=$2 conf
    if [ "$which" = edge6d ]; then
        conf=$(e6d_conf "edge6d_$rule")
        if [ "$rule" = static ]; then
            ndp_conf "$conf" '
    rule 2001:db8:1::/64 {
        method = static
        allow-wide = yes
    }'
        else
            ndp_conf "$conf" "
    sessions = $((N * 2))
    valid-ttl = 3600
    probe-rate = 100000
    rule 2001:db8:1::/64 {
        method = iface
        iface = lan0
    }"
        fi
        e6d_start "edge6d_$rule" "$NDP_VPS" "$conf"
        DPID=$(ndp_pid "edge6d_$rule")
    else
        conf=$E6_WORK/ndppd-$rule.conf
        local how="static"
        [ "$rule" = iface ] && how="iface $NDP_LANIF"
        cat >"$conf" <<CONF
proxy $NDP_IF {
    router yes
    timeout 500
    ttl 3600000
    rule 2001:db8:1::/64 {
        $how
    }
}
CONF
        e6_bg "ndppd-$rule" "$NDP_VPS" "$NDPPD" -c "$conf"
        DPID=$E6_BG_PID
        sleep 1
    fi
}
stop_daemon() {
    kill -TERM "$DPID" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$DPID" 2>/dev/null
    wait "$DPID" 2>/dev/null
    # nothing of one daemon may help the next: the VPS forgets its neighbours
    nsx "$NDP_VPS" ip -6 neigh flush dev "$NDP_LANIF" 2>/dev/null
    nsx "$NDP_VPS" ip -6 neigh flush proxy 2>/dev/null
    nsx "$NDP_UP" ip -6 neigh flush dev "$NDP_UPIF" 2>/dev/null
    sleep 0.5
}

# warm_up: one paced NS per target until >= 99 % answered (iface rule)
warm_up() {
    local which=$1 pass out pct
    for pass in 1 2 3 4 5; do
        out=$(gen -R 2000 -w 1500 -k "warmup$pass")
        pct=$(field "$out" pct)
        printf '  %-6s %-6s warm-up pass %d: %s %% of %d targets answered\n' "$2" "$which" "$pass" "$pct" "$N"
        awk -v p="$pct" 'BEGIN {exit !(p >= 99.9)}' && return 0
        sleep 2
    done
}

RESULTS=$E6_WORK/results.txt
: >"$RESULTS"
measure() {
    local which=$1 rule=$2 r out pct c0 c1 t0 t1 cpu rss best=0 bp50=- bp99=- bcpu=- label
    start_daemon "$which" "$rule"
    [ "$rule" = iface ] && warm_up "$which" "$rule"
    [ "$which" = edge6d ] && [ "$rule" = iface ] &&
        e6_log "edge6d sessions after the warm-up: $(ndp_sessions_total "$(e6d_conf edge6d_iface)")"
    for r in $RATES flat; do
        c0=$(cpu_ticks "$DPID")
        t0=$(date +%s%N)
        if [ "$r" = flat ]; then
            out=$(gen -R 0 -d "$STEP" -k "$which-$rule-flat")
        else
            out=$(gen -R "$r" -c $((r * STEP)) -k "$which-$rule-$r")
        fi
        t1=$(date +%s%N)
        c1=$(cpu_ticks "$DPID")
        kill -0 "$DPID" 2>/dev/null || { e6_log "$which died"; break; }
        cpu=$(awk -v c="$((c1 - c0))" -v hz="$hz" -v ns="$((t1 - t0))" 'BEGIN {printf "%.0f", 100 * c / hz / (ns / 1e9)}')
        rss=$(ndp_rss_kb "$DPID")
        pct=$(field "$out" pct)
        printf '  %-6s %-6s %7s/s: sent at %7s/s, %7s %% answered, p50 %6s us, p99 %7s us, CPU %3s %%, RSS %6s KiB\n' \
            "$rule" "$which" "$r" "$(field "$out" rate)" "$pct" "$(field "$out" p50_us)" \
            "$(field "$out" p99_us)" "$cpu" "$rss"
        echo "$out cpu=$cpu rss=$rss" >>"$E6_WORK/steps.txt"
        if awk -v p="$pct" 'BEGIN {exit !(p >= 99)}'; then
            best=$(field "$out" rate)
            bp50=$(field "$out" p50_us)
            bp99=$(field "$out" p99_us)
            bcpu=$cpu
        else
            break
        fi
        sleep 1
    done
    rss=$(ndp_rss_kb "$DPID")
    label="$best"
    [ "$r" = flat ] && [ "$best" != 0 ] && awk -v p="$pct" 'BEGIN {exit !(p >= 99)}' && label=">=$best"
    echo "$rule $which $best $label $bp50 $bp99 $bcpu $rss" >>"$RESULTS"
    stop_daemon
}

e6_log "edge6d: $EDGE6D; ndppd $(dpkg-query -W -f '${Version}' ndppd 2>/dev/null); $N targets, $STEP s steps, $(nproc) CPUs"
for rule in $WHICH; do
    for which in edge6d ndppd; do
        measure "$which" "$rule"
    done
done

echo
printf '%-7s %-7s %14s %8s %8s %6s %9s\n' rule daemon "best rate/s" "p50 us" "p99 us" "CPU %" "RSS KiB"
while read -r rule which best label p50 p99 cpu rss; do
    printf '%-7s %-7s %14s %8s %8s %6s %9s\n' "$rule" "$which" "$label" "$p50" "$p99" "$cpu" "$rss"
done <"$RESULTS"
for rule in $WHICH; do
    e=$(awk -v r="$rule" '$1 == r && $2 == "edge6d" {print $3}' "$RESULTS")
    n=$(awk -v r="$rule" '$1 == r && $2 == "ndppd" {print $3}' "$RESULTS")
    want=4
    [ "$rule" = iface ] && want=50
    if [ -n "$e" ] && [ -n "$n" ] && [ "$n" != 0 ]; then
        awk -v e="$e" -v n="$n" -v r="$rule" -v w="$want" \
            'BEGIN {printf "ratio %s edge6d/ndppd: %.1fx (target >= %dx)\n", r, e / n, w}'
    else
        echo "ratio $rule edge6d/ndppd: n/a (edge6d $e, ndppd $n)"
    fi
done
ok "benchmark ran"
e6_done
