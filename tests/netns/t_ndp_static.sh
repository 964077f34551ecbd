#!/usr/bin/env bash
# NDP proxy, static rules, against real kernels: the upstream router (which
# believes the whole /64 is on its link) reaches a LAN host behind edge6d
# and caches the VPS's MAC for it. Each answer is checked field by field
# (RFC 4861 7.2.4): S=1 to a unicast asker, DAD (source ::) answered to
# ff02::1 with S=0, O=0 always (a proxy), R as configured, TLLA our MAC,
# hop limit 255, good checksum; unicast NUD probes with and without SLLA
# answered. Never answered, each under its counter: hop limit 64, bad
# checksum, code 1, DAD with SLLA, multicast target, a target outside every
# rule, an excluded one, the box's own address (the kernel answers that
# one, once). Then reloads: router = no and source = target; a wide static
# rule without allow-wide refused (the old rules keep answering); with
# allow-wide the whole /64; answer-delay holds multicast answers back.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_edge6d.sh"
. "$(dirname "$0")/lib_ndp.sh"

e6d_prepare
ndp_topo
conf=$(e6d_conf static)
ndp_conf "$conf" '
    rule 2001:db8:1::100/120 {
        method = static
    }
    rule 2001:db8:1::1ff/128 {
        method = exclude
    }
    rule 2001:db8:1::/120 {
        method = static
    }'
vmac=$(ndp_mac "$NDP_VPS" "$NDP_IF")
umac=$(ndp_mac "$NDP_UP" "$NDP_UPIF")
vll=$(ndp_ll "$NDP_VPS" "$NDP_IF")
ull=$(ndp_ll "$NDP_UP" "$NDP_UPIF")
ndp_start d "$conf"

# --- the upstream reaches the LAN host through the proxy
wait_for 10 "the upstream pings $NDP_HOST through the proxy" ndp_ping_ok "$NDP_HOST"
assert_eq "5 of 5 echoes to $NDP_HOST come back" 5/5 "$(ndp_ping "$NDP_HOST" 5)"
assert_match "the upstream caches the VPS's MAC for $NDP_HOST" \
    "^$NDP_HOST lladdr $vmac (router )?(REACHABLE|STALE|DELAY|PROBE)" "$(ndp_up_neigh "$NDP_HOST")"

# --- the answers, field by field
T=2001:db8:1::105
c0=$(e6ctl "$NDP_VPS" "$conf" --json counters)
out=$(ndp_ask \
    "target=$T,src=$NDP_UPADDR,wait=0.6" \
    "target=$T,src=::,wait=0.6" \
    "target=$T,src=$NDP_UPADDR,dst=$T,l2dst=$vmac,wait=0.6" \
    "target=$T,src=$NDP_UPADDR,dst=$T,l2dst=$vmac,slla=none,wait=0.6" \
    "target=$T,src=$NDP_UPADDR,hlim=64,wait=0.6" \
    "target=2001:db8:1::1:5,src=$NDP_UPADDR,wait=0.6" \
    "target=2001:db8:1::1ff,src=$NDP_UPADDR,wait=0.6" \
    "target=$NDP_VPSADDR,src=$NDP_UPADDR,wait=0.6" \
    "target=$T,src=$NDP_UPADDR,csum=bad,wait=0.6" \
    "target=$T,src=$NDP_UPADDR,code=1,wait=0.6" \
    "target=$T,src=$NDP_UPADDR,hbh=1,wait=0.6" \
    "target=$T,src=::,slla=$umac,wait=0.6" \
    "target=ff02::1:2,src=$NDP_UPADDR,wait=0.6" \
    "target=$T,src=$ull,wait=0.6")
printf '%s\n' "$out" >"$E6_WORK/asks.json"
want="src=$vll dst=$NDP_UPADDR l2dst=$umac hlim=255 R1S1O0 tlla=$vmac csum=True code=0 bad_opts=False"
assert_eq "multicast NS from a unicast source: S=1, O=0, R=1, to the asker, from our link-local, TLLA our MAC" \
    "$want" "$(ndp_one_na "$out" 0 "$NDP_NA_DESC")"
assert_eq "DAD (source ::): one NA to ff02::1 (33:33:00:00:00:01), S=0, O=0" \
    "src=$vll dst=ff02::1 l2dst=33:33:00:00:00:01 hlim=255 R1S0O0 tlla=$vmac csum=True code=0 bad_opts=False" \
    "$(ndp_one_na "$out" 1 "$NDP_NA_DESC")"
assert_eq "unicast NS (NUD) with SLLA: S=1 to the asker" "$want" "$(ndp_one_na "$out" 2 "$NDP_NA_DESC")"
assert_eq "unicast NS (NUD) without SLLA: S=1 to the asker's frame source" "$want" \
    "$(ndp_one_na "$out" 3 "$NDP_NA_DESC")"
assert_eq "hop limit 64: not answered" 0 "$(ndp_count_nas "$out" 4)"
assert_eq "target outside every rule: not answered" 0 "$(ndp_count_nas "$out" 5)"
assert_eq "excluded target inside a static rule: not answered" 0 "$(ndp_count_nas "$out" 6)"
assert_eq "the box's own address: one NA, the kernel's (source the target, O=1), none of ours" \
    "src=$NDP_VPSADDR O=True" "$(ndp_one_na "$out" 7 '"src=%s O=%s" % (n["src"], n["o"])')"
assert_eq "bad checksum: not answered" 0 "$(ndp_count_nas "$out" 8)"
assert_eq "code 1: not answered" 0 "$(ndp_count_nas "$out" 9)"
assert_eq "NS behind a Hop-by-Hop header: answered as usual" "$want" "$(ndp_one_na "$out" 10 "$NDP_NA_DESC")"
assert_eq "DAD NS carrying an SLLA: not answered" 0 "$(ndp_count_nas "$out" 11)"
assert_eq "multicast target: not answered" 0 "$(ndp_count_nas "$out" 12)"
assert_eq "NS from a link-local source: answered to it" \
    "src=$vll dst=$ull l2dst=$umac hlim=255 R1S1O0 tlla=$vmac csum=True code=0 bad_opts=False" \
    "$(ndp_one_na "$out" 13 "$NDP_NA_DESC")"

c1=$(e6ctl "$NDP_VPS" "$conf" --json counters)
printf '%s\n%s\n' "$c0" "$c1" >"$E6_WORK/counters.json"
delta() {
    "$E6_PY" -c '
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
m, n = sys.argv[3].split(".", 1)
print(b.get(m, {}).get(n, 0) - a.get(m, {}).get(n, 0))' "$c0" "$c1" "$1"
}
while read -r name want_min what; do
    d=$(delta "$name")
    if [ "${d:-0}" -ge "$want_min" ]; then ok "counter $name +$d ($what)"; else
        fail "counter $name rose by ${d:-?}, expected >= $want_min ($what)"
    fi
done <<'WANT'
ndppd-rx.hop_limit 1 hop limit 64
ndppd-rx.checksum 1 bad checksum
ndppd-rx.code 1 code 1
ndppd-rx.unspec_slla 1 DAD with SLLA
ndppd-rx.target_multicast 1 multicast target
ndppd.no_rule 1 outside every rule
ndppd.excluded 1 excluded
ndppd.local 1 own address
ndppd.na_sent_dad 1 the DAD answer
ndppd.na_sent 6 the answers
WANT

# --- reload: router = no, source = target
ndp_conf "$conf" '
    router = no
    source = target
    rule 2001:db8:1::100/120 {
        method = static
    }'
assert_ok "edge6ctl reload (router = no, source = target)" e6ctl "$NDP_VPS" "$conf" reload
out=$(ndp_ask "target=$T,src=$NDP_UPADDR,wait=0.6" "target=$T,src=::,wait=0.6")
assert_eq "router = no, source = target: R=0, the NA comes from the target" \
    "src=$T dst=$NDP_UPADDR l2dst=$umac hlim=255 R0S1O0 tlla=$vmac csum=True code=0 bad_opts=False" \
    "$(ndp_one_na "$out" 0 "$NDP_NA_DESC")"
assert_eq "source = target, DAD: from the target to ff02::1, S=0" \
    "src=$T dst=ff02::1 l2dst=33:33:00:00:00:01 hlim=255 R0S0O0 tlla=$vmac csum=True code=0 bad_opts=False" \
    "$(ndp_one_na "$out" 1 "$NDP_NA_DESC")"

# --- a static /64 needs allow-wide = yes: refused, the running rules stay
ndp_conf "$conf" '
    rule 2001:db8:1::/64 {
        method = static
    }'
assert_fail "reload with a static /64 without allow-wide is refused" e6ctl "$NDP_VPS" "$conf" reload
out=$(ndp_ask "target=$T,src=$NDP_UPADDR,wait=0.6" "target=2001:db8:1::abcd:5,src=$NDP_UPADDR,wait=0.6")
assert_eq "after the refused reload the old rules answer (R=0 still)" "R=False" \
    "$(ndp_one_na "$out" 0 '"R=%s" % n["r"]')"
assert_eq "after the refused reload the /64 is not answered" 0 "$(ndp_count_nas "$out" 1)"
ndp_conf "$conf" '
    rule 2001:db8:1::/64 {
        method = static
        allow-wide = yes
    }'
assert_ok "reload with the /64 and allow-wide = yes" e6ctl "$NDP_VPS" "$conf" reload
out=$(ndp_ask "target=2001:db8:1::abcd:5,src=$NDP_UPADDR,wait=0.6" "target=2001:db8:1:0:ffff:ffff:ffff:fffe,src=$NDP_UPADDR,wait=0.6")
assert_eq "allow-wide: an address deep in the /64 answered" "$want" \
    "$(ndp_one_na "$out" 0 "$NDP_NA_DESC")"
assert_eq "allow-wide: the last address of the /64 answered" 1 "$(ndp_count_nas "$out" 1)"

# --- answer-delay: multicast NSs wait a random 0..300 ms, unicast ones do not
ndp_conf "$conf" '
    answer-delay = 300
    rule 2001:db8:1::100/120 {
        method = static
    }'
assert_ok "reload with answer-delay = 300" e6ctl "$NDP_VPS" "$conf" reload
d0=$(ndp_counter "$conf" '^ndppd\.na_delayed$')
specs=()
for i in 1 2 3 4 5 6; do specs+=("target=2001:db8:1::11$i,src=$NDP_UPADDR,wait=0.5"); done
out=$(ndp_ask "${specs[@]}" "target=$T,src=$NDP_UPADDR,dst=$T,l2dst=$vmac,wait=0.5")
times=$(ndp_nas "$out" '" ".join("%.0f" % x["nas"][0]["t_ms"] if len(x["nas"]) == 1 else "lost" for x in r)')
e6_log "answer times (ms), 6 multicast then 1 unicast: $times"
assert_nomatch "answer-delay: every NS answered once" "lost" "$times"
assert_eq "answer-delay: every multicast answer within 300 ms (+50)" 0 \
    "$(ndp_nas "$out" 'sum(1 for x in r[:6] for n in x["nas"] if n["t_ms"] > 350)')"
assert_eq "answer-delay: the unicast NS answered at once (< 50 ms)" 0 \
    "$(ndp_nas "$out" 'sum(1 for n in r[6]["nas"] if n["t_ms"] > 50)')"
d1=$(ndp_counter "$conf" '^ndppd\.na_delayed$')
# a draw of 0 ms (1 in 301 per NS) is an answer at once, not a delayed
# one: every multicast answer is counted as delayed unless it came at once
fast=$(ndp_nas "$out" 'sum(1 for x in r[:6] for n in x["nas"] if n["t_ms"] < 50)')
assert_eq "answer-delay: 6 answers counted as delayed (less those of a 0 ms draw, at most the $fast under 50 ms)" 1 \
    "$(($((d1 - d0)) <= 6 && $((d1 - d0)) >= 6 - fast))"
assert_eq "answer-delay: the delays differ (random)" 1 \
    "$(ndp_nas "$out" 'int(len(set(round(x["nas"][0]["t_ms"] / 10) for x in r[:6] if x["nas"])) > 1)')"

e6d_stop d
e6_done
