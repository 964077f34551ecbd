#!/usr/bin/env bash
# NDP proxy on a link without a MAC: a TUN interface (IFF_TUN, no packet
# information) whose other end this test holds. NSs written into the TUN
# are answered through it: raw IPv6, from the TUN's link-local, hop limit
# 255, a correct checksum, the RFC 4861 7.2.4 flags (S=1 to a unicast
# asker, DAD to ff02::1 with S=0, O=0) and no Target Link-Layer Address
# option, since there is no link-layer address to give. Hop limit 64, a
# target outside the rules and an excluded one are not answered.
# Then a TUN downstream (a tunnel behind the VPS, no neighbour discovery):
# iface and auto rules pointing at it answer for targets routed into it,
# never for others, and stop when the route goes or the TUN goes down.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_edge6d.sh"
. "$(dirname "$0")/lib_ndp.sh"

e6d_prepare
vps=$(ns_new vps)
# shellcheck disable=SC2034 # lib_ndp.sh reaches edge6d through it
NDP_VPS=$vps
ctl=$E6_WORK/tun.ctl
mkfifo "$ctl"
e6_bg tun "$vps" "$E6_PY" "$NDP_TOOL" serve --tun tun0 --ctl "$ctl"
wait_for 5 "the TUN is open" grep -q ready "$E6_WORK/tun.log"
# the tool's JSON lines go to tun.log after "ready"
exec 7>"$ctl"
nsx "$vps" ip link set tun0 up
wait_for 5 "a link-local address on tun0" ndp_ll "$vps" tun0
tll=$(ndp_ll "$vps" tun0)
conf=$(e6d_conf tun)
ndp_conf_head "$conf"
cat >>"$conf" <<'CONF'
proxy tun0 {
    rule 2001:db8:3::/120 {
        method = static
    }
    rule 2001:db8:3::80/128 {
        method = exclude
    }
}
CONF
e6d_start d "$vps" "$conf"
wait_for 5 "edge6d proxying on tun0" grep -q "ndp tun0: proxying" "$E6_WORK/d.log"

# ask SPEC: one NS through the TUN; its JSON result line is left in $out
# (call it directly, not in $(...): it counts the NSs asked)
n_asked=0
has_answers() { [ "$(grep -c '^{' "$E6_WORK/tun.log")" -ge "$1" ]; }
ask() {
    echo "$1" >&7
    n_asked=$((n_asked + 1))
    wait_for 10 "the answer to NS $n_asked" has_answers "$n_asked"
    out=$(grep '^{' "$E6_WORK/tun.log" | sed -n "${n_asked}p")
}
desc='"src=%s dst=%s hlim=%d R%dS%dO%d tlla=%s opts=%s csum=%s l2=%s" % (n["src"], n["dst"], n["hlim"], n["r"], n["s"], n["o"], n["tlla"], n["opts"], n["csum_ok"], n["l2src"])'
T=2001:db8:3::5
ask "target=$T,src=fe80::2,wait=0.5"
assert_eq "NS from a link-local asker: one NA through the TUN, S=1, O=0, no TLLA, good checksum" \
    "src=$tll dst=fe80::2 hlim=255 R1S1O0 tlla=None opts=[] csum=True l2=None" "$(ndp_one_na "$out" 0 "$desc")"
ask "target=$T,src=::,wait=0.5"
assert_eq "DAD through the TUN: to ff02::1, S=0, O=0, no TLLA" \
    "src=$tll dst=ff02::1 hlim=255 R1S0O0 tlla=None opts=[] csum=True l2=None" "$(ndp_one_na "$out" 0 "$desc")"
ask "target=$T,src=fe80::2,dst=$T,wait=0.5"
assert_eq "unicast NS (NUD) through the TUN: S=1" \
    "src=$tll dst=fe80::2 hlim=255 R1S1O0 tlla=None opts=[] csum=True l2=None" "$(ndp_one_na "$out" 0 "$desc")"
ask "target=$T,src=2001:db8:3::ff,wait=0.5"
assert_eq "NS from a global asker through the TUN: answered to it" \
    "src=$tll dst=2001:db8:3::ff hlim=255 R1S1O0 tlla=None opts=[] csum=True l2=None" "$(ndp_one_na "$out" 0 "$desc")"
ask "target=$T,src=fe80::2,hlim=64,wait=0.5"
assert_eq "hop limit 64 through the TUN: not answered" 0 "$(ndp_count_nas "$out" 0)"
ask "target=2001:db8:4::5,src=fe80::2,wait=0.5"
assert_eq "a target outside every rule: not answered" 0 "$(ndp_count_nas "$out" 0)"
ask "target=2001:db8:3::80,src=fe80::2,wait=0.5"
assert_eq "an excluded target: not answered" 0 "$(ndp_count_nas "$out" 0)"
st=$(e6ctl "$vps" "$conf" status)
printf '%s\n' "$st" >"$E6_WORK/status.txt"
assert_match "edge6ctl status shows the proxy on tun0" "tun0" "$st"
assert_eq "counter ndppd.na_sent: the 4 answers" 4 "$(ndp_counter "$conf" '^ndppd\.na_sent$')"
assert_eq "counter ndppd-rx.hop_limit: 1" 1 "$(ndp_counter "$conf" '^ndppd-rx\.hop_limit$')"

e6d_stop d
echo quit >&7
exec 7>&-

# --- a TUN downstream: confirmed by its route (it has no ND to probe with)
ndp_topo 2
ctl2=$E6_WORK/tun1.ctl
mkfifo "$ctl2"
e6_bg tun1 "$NDP_VPS" "$E6_PY" "$NDP_TOOL" serve --tun tun1 --ctl "$ctl2"
wait_for 5 "the downstream TUN is open" grep -q ready "$E6_WORK/tun1.log"
exec 8>"$ctl2"
nsx "$NDP_VPS" ip link set tun1 up
nsx "$NDP_VPS" ip -6 route add 2001:db8:1::4:0/112 dev tun1
nsx "$NDP_VPS" ip -6 route add 2001:db8:1::5:0/112 dev tun1
conf2=$(e6d_conf tundown)
ndp_conf "$conf2" '
    rule 2001:db8:1::4:0/112 {
        method = iface
        iface = tun1
    }
    rule 2001:db8:1::5:0/112 {
        method = auto
    }
    rule 2001:db8:1::6:0/112 {
        method = iface
        iface = tun1
    }'
vmac=$(ndp_mac "$NDP_VPS" "$NDP_IF")
vll=$(ndp_ll "$NDP_VPS" "$NDP_IF")
ndp_start d2 "$conf2"
want="src=$vll dst=$NDP_UPADDR R1S1O0 tlla=$vmac"
d2='"src=%s dst=%s R%dS%dO%d tlla=%s" % (n["src"], n["dst"], n["r"], n["s"], n["o"], n["tlla"])'
out=$(ndp_ask "target=2001:db8:1::4:5,src=$NDP_UPADDR,wait=0.5" \
    "target=2001:db8:1::5:5,src=$NDP_UPADDR,wait=0.5" \
    "target=2001:db8:1::6:5,src=$NDP_UPADDR,wait=0.5")
assert_eq "iface rule on a TUN downstream: a target routed into it answered on eth0" "$want" \
    "$(ndp_one_na "$out" 0 "$d2")"
assert_eq "auto rule, route into the TUN: answered" "$want" "$(ndp_one_na "$out" 1 "$d2")"
assert_eq "iface rule on the TUN, target not routed into it: not answered" 0 "$(ndp_count_nas "$out" 2)"
nsx "$NDP_VPS" ip -6 route del 2001:db8:1::4:0/112 dev tun1
sleep 0.5
out=$(ndp_ask "target=2001:db8:1::4:6,src=$NDP_UPADDR,wait=0.5" "target=2001:db8:1::4:5,src=$NDP_UPADDR,wait=0.5")
assert_eq "route into the TUN removed: neither a new nor the earlier target answered" "0 0" \
    "$(ndp_nas "$out" '" ".join(str(len(x["nas"])) for x in r)')"
nsx "$NDP_VPS" ip link set tun1 down
sleep 0.5
out=$(ndp_ask "target=2001:db8:1::5:6,src=$NDP_UPADDR,wait=0.5")
assert_eq "TUN down: the auto rule's targets no longer answered" 0 "$(ndp_count_nas "$out" 0)"
e6d_stop d2
echo quit >&8
exec 8>&-
e6_done
