#!/usr/bin/env bash
# An RA bigger than the link MTU is split (RFC 6980 forbids fragmenting ND):
# 48 prefixes on a 1280-byte link need two packets; each is a whole RA (the
# header, SLLA and MTU in every one), none exceeds the MTU, together they
# carry every prefix, and the host configures an address from each.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_edge6d.sh"
. "$(dirname "$0")/lib_radv.sh"

N=48
e6d_prepare
radv_topo
nsx "$RADV_R" ip link set "$RADV_RIF" mtu 1280
nsx "$RADV_H" ip link set "$RADV_HIF" mtu 1280
# the kernel autoconfigures at most 16 addresses per interface by default
nsx "$RADV_H" sysctl -qw "net.ipv6.conf.$RADV_HIF.max_addresses=0"
conf=$(e6d_conf split)
radv_conf_head "$conf"
{
    printf 'interface %s {\n    max-interval = 4\n    min-interval = 3\n' "$RADV_RIF"
    for i in $(seq 0 $((N - 1))); do printf '    prefix 2001:db8:%x::/64 {\n    }\n' $((0x100 + i)); done
    printf '}\n'
} >>"$conf"
radv_listen l --ifname "$RADV_HIF" --duration 3
radv_start d "$conf"
wait "$RADV_LISTEN_PID" 2>/dev/null
n=$(radv_ras "$E6_WORK/l.json" "len(ras)")
e6_log "$n RAs seen, sizes: $(radv_ras "$E6_WORK/l.json" "[r['len'] for r in ras]")"
if [ "${n:-0}" -ge 2 ]; then ok "$n RAs seen"; else fail "only ${n:-0} RAs seen"; fi
assert_eq "no RA larger than the link MTU (ICMPv6 <= 1240 bytes)" 0 \
    "$(radv_ras "$E6_WORK/l.json" "sum(1 for r in ras if r['len'] > 1240)")"
assert_eq "every RA is whole: SLLA, MTU 1280, router lifetime" True \
    "$(radv_ras "$E6_WORK/l.json" "all(r['slla'] and r['mtu'] == 1280 and r['router_lifetime'] == ras[0]['router_lifetime'] > 0 for r in ras)")"
assert_eq "no malformed options" 0 "$(radv_ras "$E6_WORK/l.json" "sum(len(r['bad']) for r in ras)")"
assert_eq "the first burst carries all $N prefixes, each once" "$N $N" \
    "$(radv_ras "$E6_WORK/l.json" "(lambda b: '%d %d' % (len(set(p['prefix'] for r in b for p in r['prefixes'])), sum(len(r['prefixes']) for r in b)))([r for r in ras if r['t'] - ras[0]['t'] < 0.5])")"
assert_eq "the first burst is 2 packets" 2 \
    "$(radv_ras "$E6_WORK/l.json" "sum(1 for r in ras if r['t'] - ras[0]['t'] < 0.5)")"
# shellcheck disable=SC2317 # called through wait_for
count_addrs() { [ "$(radv_addr_info 2001:db8:100::/40 | awk '$4 == "-"' | wc -l)" -eq "$N" ]; }
wait_for 5 "$N SLAAC addresses on the host" count_addrs
assert_eq "host has an address in each of the $N prefixes" "$N" \
    "$(radv_addr_info 2001:db8:100::/40 | awk '$4 == "-"' | wc -l)"
assert_match "edge6ctl counters: extra packets counted" "sent_split_extra +[1-9]" \
    "$(e6ctl "$RADV_R" "$conf" counters)"
e6d_stop_sig d TERM
e6_done
