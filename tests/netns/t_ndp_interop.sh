#!/usr/bin/env bash
# Interop: tools no one here wrote must read our Neighbor Advertisements
# the way we mean them. ndisc6 (from the upstream router) gets an answer
# for proxied targets (static and iface rules) and prints the VPS's eth0
# MAC; it gets none for a target outside every rule. ndisc6 1.0.5 only
# reports an NA whose IPv6 source is the target itself (it ignores the
# kernel's own proxy_ndp answers, from the box's address, just the same),
# so that part runs with `source = target`. Then with the default source
# (our link-local) tshark -V decodes a capture, taken in the upstream
# namespace, of every NA we sent (multicast and unicast NS, DAD, NUD, both
# sources) with no malformed packet and no expert warning or error, a good
# checksum each, and the flags RFC 4861 7.2.4 asks of a proxy (R set, S set
# but for DAD, O clear).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_edge6d.sh"
. "$(dirname "$0")/lib_ndp.sh"

for tool in ndisc6 tshark; do
    command -v "$tool" >/dev/null || { fail "$tool is not installed (packages ndisc6, tshark)"; exit 1; }
done

e6d_prepare
ndp_topo
conf=$(e6d_conf interop)
ndp_conf "$conf" '
    source = target
    rule 2001:db8:1::100/120 {
        method = static
    }
    rule 2001:db8:1::/64 {
        method = iface
        iface = lan0
    }'
vmac=$(ndp_mac "$NDP_VPS" "$NDP_IF")
VMAC=$(printf '%s' "$vmac" | tr 'a-f' 'A-F')
vll=$(ndp_ll "$NDP_VPS" "$NDP_IF")
nsx "$NDP_LAN" ip -6 addr add 2001:db8:1::1:5/64 dev "$NDP_HOSTIF" nodad
capture=$E6_WORK/na.pcap
e6_bg tshark-capture "$NDP_UP" timeout 40 tshark -n -q -i "$NDP_UPIF" -f "icmp6" -w "$capture"
capture_pid=$E6_BG_PID
wait_for 10 "tshark capturing" grep -q "Capturing on" "$E6_WORK/tshark-capture.log"
ndp_start d "$conf"

# --- ndisc6
nd() { timeout 10 ip netns exec "$NDP_UP" ndisc6 -n "$@" 2>&1; }
out=$(nd -1 -r 3 -w 1000 -s "$NDP_UPADDR" 2001:db8:1::105 "$NDP_UPIF")
assert_eq "ndisc6 2001:db8:1::105 (static rule) exits 0" 0 $?
printf '%s\n' "$out" >"$E6_WORK/ndisc6-static.out"
assert_match "ndisc6: the target link-layer address is the VPS's eth0 MAC" \
    "Target link-layer address: $VMAC" "$out"
assert_match "ndisc6: the answer comes from the target (source = target)" "from 2001:db8:1::105" "$out"
out=$(nd -q -r 3 -w 1000 "$NDP_HOST" "$NDP_UPIF")
assert_eq "ndisc6 -q $NDP_HOST (source picked by the kernel) prints the VPS's MAC" "$VMAC" "$out"
out=$(nd -1 -r 3 -w 1000 -s "$NDP_UPADDR" 2001:db8:1::1:5 "$NDP_UPIF")
assert_eq "ndisc6 2001:db8:1::1:5 (iface rule, confirmed on lan0) exits 0" 0 $?
assert_match "ndisc6 (iface rule): the VPS's MAC" "Target link-layer address: $VMAC" "$out"
out=$(nd -1 -r 2 -w 500 -s "$NDP_UPADDR" 2001:db8:2::5 "$NDP_UPIF")
rc=$?
printf '%s\n' "$out" >"$E6_WORK/ndisc6-none.out"
if [ "$rc" -ne 0 ] && ! printf '%s' "$out" | grep -q "Target link-layer"; then
    ok "ndisc6 for a target outside every rule gets no answer (exit $rc)"
else
    fail "ndisc6 for 2001:db8:2::5 got an answer: $out"
fi

# --- the default source, our link-local; DAD and NUD shapes, so the
# capture holds every kind of answer
ndp_conf "$conf" '
    rule 2001:db8:1::100/120 {
        method = static
    }
    rule 2001:db8:1::/64 {
        method = iface
        iface = lan0
    }'
assert_ok "reload: source = link-local (the default)" e6ctl "$NDP_VPS" "$conf" reload
vmacl=$vmac
out=$(ndp_ask "target=2001:db8:1::107,src=$NDP_UPADDR,wait=0.5" \
    "target=2001:db8:1::106,src=::,wait=0.5" \
    "target=2001:db8:1::106,src=$NDP_UPADDR,dst=2001:db8:1::106,l2dst=$vmacl,slla=none,wait=0.5" \
    "target=2001:db8:1::106,src=$(ndp_ll "$NDP_UP" "$NDP_UPIF"),wait=0.5")
assert_eq "multicast NS, DAD, NUD and link-local-sourced NS each answered once" "1 1 1 1" \
    "$(ndp_nas "$out" '" ".join(str(len(x["nas"])) for x in r)')"
assert_eq "those answers come from our link-local" "$vll" \
    "$(ndp_nas "$out" '" ".join(sorted(set(n["src"] for x in r for n in x["nas"])))')"

e6d_stop d
sleep 0.5
kill -INT "$capture_pid" 2>/dev/null
for _ in $(seq 50); do kill -0 "$capture_pid" 2>/dev/null || break; sleep 0.1; done
decode=$E6_WORK/na-decode.txt
tshark -n -r "$capture" -V -Y "icmpv6.type == 136 && eth.src == $vmac && !(ipv6.src == $NDP_VPSADDR)" \
    >"$decode" 2>"$E6_WORK/tshark-read.err"
assert_eq "tshark reads the capture" 0 $?
n=$(grep -c '^ *Type: Neighbor Advertisement (136)' "$decode")
if [ "${n:-0}" -ge 7 ]; then ok "tshark decoded $n of our NAs"; else fail "tshark decoded only ${n:-0} of our NAs"; fi
assert_nomatch "tshark: nothing malformed" "Malformed" "$(cat "$decode")"
assert_nomatch "tshark: no expert warning or error" "Expert Info \((Warning|Error)" "$(cat "$decode")"
assert_nomatch "tshark: every checksum good" "Checksum Status: Bad" "$(cat "$decode")"
assert_eq "tshark: one good ICMPv6 checksum per NA" "$n" "$(grep -c 'Checksum Status: Good' "$decode")"
assert_eq "tshark: hop limit 255 on every NA" "$n" "$(grep -c 'Hop Limit: 255' "$decode")"
assert_eq "tshark: R (router) set on every NA" "$n" "$(grep -Ec '\.\.\.\. = Router: Set|^ +1\.\.\. \.\.\.\. = Router: Set' "$decode")"
assert_eq "tshark: O (override) clear on every NA" "$n" "$(grep -Ec '= Override: Not set' "$decode")"
assert_eq "tshark: S (solicited) clear on exactly the one DAD answer" 1 "$(grep -Ec '= Solicited: Not set' "$decode")"
assert_eq "tshark: the DAD answer goes to ff02::1" 1 "$(grep -Ec '^ +Destination Address: ff02::1$' "$decode")"
assert_eq "tshark: a Target link-layer address option, our MAC, on every NA" "$n" \
    "$(grep -Ec "ICMPv6 Option \(Target link-layer address : $vmac\)" "$decode")"
assert_match "tshark: target 2001:db8:1::105 decoded" "Target Address: 2001:db8:1::105" "$(cat "$decode")"
assert_match "tshark: an NA from our link-local decoded" "Source Address: $vll" "$(cat "$decode")"
assert_match "tshark: an NA from the target (source = target) decoded" "Source Address: 2001:db8:1::105" "$(cat "$decode")"
e6_done
