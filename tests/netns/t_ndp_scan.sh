#!/usr/bin/env bash
# NDP proxy under a /64 scan: the upstream solicits 20000 distinct
# addresses of the /64 (none of them present) at 2000/s against an iface
# rule with `sessions = 256`. edge6d's sessions never exceed the bound, its
# memory (VmRSS) stays within 4 MiB of the idle value during and after the
# scan (not judged on a sanitizer build), no scanned address is answered,
# and the real LAN host stays reachable from the upstream all along (pings
# during the scan, at most 2 lost) and keeps its valid session.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_edge6d.sh"
. "$(dirname "$0")/lib_ndp.sh"

N=20000
RATE=2000
BOUND=256
e6d_prepare
ndp_topo
conf=$(e6d_conf scan)
NDP_LOG_LEVEL=info ndp_conf "$conf" "
    sessions = $BOUND
    rule 2001:db8:1::/64 {
        method = iface
        iface = lan0
    }"
ndp_start d "$conf"
pid=$(ndp_pid d)
wait_for 10 "the upstream pings $NDP_HOST through the proxy" ndp_ping_ok "$NDP_HOST"
sleep 1
rss0=$(ndp_rss_kb "$pid")
e6_log "idle VmRSS: $rss0 KiB"
seen0=$(ndp_counter "$conf" '^ndppd\.ns_seen$')

# the legitimate host, pinged every 0.2 s while the scan runs
ip netns exec "$NDP_UP" "$E6_PY" "$NDP_TOOL" ping --src "$NDP_UPADDR" --dst "$NDP_HOST" \
    --count 70 --interval 0.2 >"$E6_WORK/ping.json" 2>"$E6_WORK/ping.err" &
ping_pid=$!
E6_PIDS+=("$ping_pid")
ip netns exec "$NDP_UP" "$E6_PY" "$NDP_TOOL" scan --iface "$NDP_UPIF" --src "$NDP_UPADDR" \
    --prefix "$NDP_PREFIX" --count "$N" --rate "$RATE" --avoid "$NDP_HOST" --avoid "$NDP_VPSADDR" \
    --avoid "$NDP_UPADDR" >"$E6_WORK/scan.json" 2>"$E6_WORK/scan.err" &
scan_pid=$!
E6_PIDS+=("$scan_pid")
max_sessions=0
max_rss=$rss0
samples=0
while kill -0 "$scan_pid" 2>/dev/null; do
    s=$(ndp_sessions_total "$conf")
    r=$(ndp_rss_kb "$pid")
    [ "${s:-0}" -gt "$max_sessions" ] && max_sessions=$s
    [ "${r:-0}" -gt "$max_rss" ] && max_rss=$r
    samples=$((samples + 1))
    sleep 0.5
done
wait "$scan_pid"
wait "$ping_pid"
scan=$(cat "$E6_WORK/scan.json")
e6_log "scan: $scan; $samples samples: at most $max_sessions sessions, VmRSS at most $max_rss KiB"
assert_eq "the scan sent $N NSs" "$N" "$(json_get "$scan" 'j["sent"]')"
assert_eq "no scanned (absent) address was answered" 0 "$(json_get "$scan" 'j["answered"]')"
seen1=$(ndp_counter "$conf" '^ndppd\.ns_seen$')
if [ $((seen1 - seen0)) -ge $((N * 99 / 100)) ]; then ok "edge6d saw $((seen1 - seen0)) NSs (>= 99 % of $N)"; else
    fail "edge6d saw only $((seen1 - seen0)) of the $N NSs"
fi
if [ "$samples" -ge 5 ] && [ "$max_sessions" -le "$BOUND" ] && [ "$max_sessions" -gt 0 ]; then
    ok "sessions stayed within the bound during the scan (at most $max_sessions <= $BOUND, $samples samples)"
else
    fail "sessions during the scan: at most $max_sessions (bound $BOUND, $samples samples)"
fi
# a sanitizer build holds freed memory back (ASan's quarantine, shadow
# memory): its RSS says nothing about edge6d's
if e6_san_build; then
    SAN_BUILD=1
    e6_log "VmRSS not judged: $EDGE6D is a sanitizer build"
else
    SAN_BUILD=0
fi
if [ "$SAN_BUILD" = 1 ]; then :; elif [ $((max_rss - rss0)) -le 4096 ]; then
    ok "VmRSS during the scan within 4 MiB of idle (+$((max_rss - rss0)) KiB)"
else
    fail "VmRSS grew by $((max_rss - rss0)) KiB during the scan (idle $rss0 KiB)"
fi
ping=$(cat "$E6_WORK/ping.json")
lost=$(json_get "$ping" 'j["sent"] - j["received"]')
e6_log "pings to $NDP_HOST during the scan: $(json_get "$ping" '"%d/%d" % (j["received"], j["sent"])')"
if [ "${lost:-99}" -le 2 ]; then ok "the LAN host stayed reachable during the scan ($lost of 70 pings lost)"; else
    fail "$lost of 70 pings to the LAN host lost during the scan"
fi
assert_match "$NDP_HOST keeps its valid session through the scan" "^(valid|refresh)$" "$(ndp_state "$conf" "$NDP_HOST")"
shed=$(ndp_counter "$conf" '^ndppd\.(probe_ratelimited|session_full|evicted)$')
if [ "${shed:-0}" -gt 0 ]; then ok "the scan was shed (probe rate limits, full table, evictions: $shed)"; else
    fail "no probe rate limiting, full table or eviction counted under a $N-target scan"
fi

# --- afterwards: the unknown targets expire, memory stays at the idle level
sleep 6
rss2=$(ndp_rss_kb "$pid")
e6_log "VmRSS after the scan: $rss2 KiB (idle $rss0 KiB); sessions: $(ndp_sessions_total "$conf")"
if [ "$SAN_BUILD" = 1 ]; then :; elif [ $((rss2 - rss0)) -le 4096 ]; then
    ok "VmRSS after the scan within 4 MiB of idle (+$((rss2 - rss0)) KiB)"
else
    fail "VmRSS after the scan is $((rss2 - rss0)) KiB above idle"
fi
assert_eq "after the scan: 3 of 3 pings to $NDP_HOST" 3/3 "$(ndp_ping "$NDP_HOST" 3)"
ndp_counters_dump "$conf"
e6d_stop d
e6_done
