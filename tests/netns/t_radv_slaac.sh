#!/usr/bin/env bash
# Router Advertisements, the basics, with a real Linux kernel as the host:
# a usable SLAAC address in the advertised /64, a default route via the
# router's link-local address, the advertised MTU, a route from a Route
# Information option, and Router Solicitations answered (by unicast, as
# RFC 7772 prefers) within MAX_RA_DELAY_TIME (0.5 s) plus a margin.
# edge6ctl ra / status show what is advertised.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_edge6d.sh"
. "$(dirname "$0")/lib_radv.sh"

A=2001:db8:1::/64
e6d_prepare
radv_topo
conf=$(e6d_conf slaac)
radv_conf_head "$conf"
cat >>"$conf" <<CONF
interface $RADV_RIF {
    max-interval = 4
    min-interval = 3
    mtu = 1400
    prefix $A {
    }
    route 2001:db8:77::/48 {
        preference = high
        lifetime = 1800
    }
}
CONF
radv_listen l --ifname "$RADV_HIF" --duration 60
radv_start d "$conf"
rll=$(radv_router_ll)
hll=$(radv_host_ll)

# --- SLAAC address, default route, MTU, route information
wait_for 10 "a SLAAC address in $A on the host" radv_slaac "$A"
info=$(radv_addr_info "$A")
assert_match "host address: in $A, preferred 2700, valid 5400 (RFC 9096 defaults), no flags" \
    "^2001:db8:1:0:[0-9a-f:]+ 2[67][0-9]{2} 5[34][0-9]{2} -$" "$info"
assert_nomatch "host address not tentative, not deprecated" "tentative|deprecated|dadfailed" "$info"
wait_for 5 "a default route on the host" radv_defrtr
assert_eq "default route via the router's link-local address" "$rll" "$(radv_defrtr)"
assert_match "default route learnt from an RA" "via $rll dev $RADV_HIF proto ra" \
    "$(nsx "$RADV_H" ip -6 route show default)"
assert_eq "host link MTU is the advertised 1400" 1400 "$(radv_host_mtu)"
assert_match "the default route carries MTU 1400" "mtu 1400" \
    "$(nsx "$RADV_H" ip -6 route show default dev "$RADV_HIF")"
rt=$(nsx "$RADV_H" ip -6 route show 2001:db8:77::/48)
assert_match "Route Information option: 2001:db8:77::/48 via the router" \
    "^2001:db8:77::/48 via $rll dev $RADV_HIF proto ra" "$rt"
assert_match "Route Information option: preference high" "pref high" "$rt"
onlink=$(nsx "$RADV_H" ip -6 route show "$A")
assert_match "prefix on-link on the host" "^$A dev $RADV_HIF proto (kernel|ra)" "$onlink"
addr=$(radv_slaac "$A")
nsx "$RADV_R" ip -6 addr add 2001:db8:1::1/64 dev "$RADV_RIF" nodad
# no ping in the test image: a UDP echo across the link, from the SLAAC address
e6_bg echo "$RADV_R" "$E6_PY" -c '
import socket
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind(("2001:db8:1::1", 7007))
print("ready", flush=True)
s.settimeout(10)
d, a = s.recvfrom(100)
s.sendto(d + b" back", a)'
wait_for 5 "UDP echo on the router" grep -q ready "$E6_WORK/echo.log"
out=$(timeout 5 ip netns exec "$RADV_H" "$E6_PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 0))
s.settimeout(3)
s.sendto(b"hello", ("2001:db8:1::1", 7007))
d, a = s.recvfrom(100)
print(d.decode(), a[0])' "$addr" 2>&1)
assert_eq "the SLAAC address works: UDP to the router's 2001:db8:1::1 and back" \
    "hello back 2001:db8:1::1" "$out"

# --- Router Solicitations: answered within 0.5 s (+ margin for rdisc6 itself)
worst=0
answered=0
for i in 1 2 3 4 5; do
    if radv_timed timeout 5 ip netns exec "$RADV_H" rdisc6 -1 -r 1 -w 2000 "$RADV_HIF" \
        >"$E6_WORK/rdisc6-$i.out" 2>&1; then
        answered=$((answered + 1))
        [ "$RADV_MS" -gt "$worst" ] && worst=$RADV_MS
    fi
done
assert_eq "5 of 5 RS answered" 5 "$answered"
e6_log "slowest RS answer: ${worst} ms"
if [ "$worst" -le 900 ]; then ok "RS answered within 900 ms (slowest ${worst} ms)"; else
    fail "an RS took ${worst} ms to be answered (limit 500 ms + margin)"
fi
assert_match "rdisc6: the answer comes from the router" "from $rll" "$(cat "$E6_WORK/rdisc6-1.out")"
sleep 0.2
unicast=$(radv_ras "$E6_WORK/l.json" "sum(1 for r in ras if r['dst'] == '$hll')")
if [ "${unicast:-0}" -ge 1 ]; then ok "RS from a unicast source answered by unicast ($unicast RAs to $hll)"; else
    fail "no unicast RA to $hll seen (RFC 7772 solicited unicast)"
fi
n=$(radv_ras "$E6_WORK/l.json" "len(ras)")
if [ "${n:-0}" -ge 6 ]; then ok "the host saw $n RAs"; else fail "the host saw only ${n:-0} RAs"; fi
assert_eq "every RA has hop limit 255" 0 "$(radv_ras "$E6_WORK/l.json" "sum(1 for r in ras if r['hlim'] != 255)")"
assert_eq "every RA comes from the router's link-local" 0 \
    "$(radv_ras "$E6_WORK/l.json" "sum(1 for r in ras if r['src'] != '$rll')")"
assert_eq "every RA carries the SLLA option (veth has a MAC)" 0 \
    "$(radv_ras "$E6_WORK/l.json" "sum(1 for r in ras if r['slla'] is None)")"

# --- what edge6ctl shows
out=$(e6ctl "$RADV_R" "$conf" ra "$RADV_RIF" 2>&1)
assert_eq "edge6ctl ra $RADV_RIF exits 0" 0 $?
assert_match "edge6ctl ra: the prefix" "2001:db8:1::/64" "$out"
assert_match "edge6ctl ra: the MTU" "1400" "$out"
assert_match "edge6ctl ra: the route" "2001:db8:77::/48" "$out"
out=$(e6ctl "$RADV_R" "$conf" ra 2>&1)
assert_match "edge6ctl ra (all interfaces) names $RADV_RIF" "$RADV_RIF" "$out"
out=$(e6ctl "$RADV_R" "$conf" status 2>&1)
assert_match "edge6ctl status: $RADV_RIF advertising" "$RADV_RIF.*advertising|advertising.*$RADV_RIF" \
    "$(printf '%s\n' "$out" | tr '\n' ' ')"
assert_ok "edge6ctl --json status is valid JSON" valid_json "$(e6ctl "$RADV_R" "$conf" --json status)"
assert_ok "edge6ctl --json ra is valid JSON" valid_json "$(e6ctl "$RADV_R" "$conf" --json ra "$RADV_RIF")"
assert_fail "edge6ctl ra on an interface without RA section fails" \
    e6ctl "$RADV_R" "$conf" ra e6nosuchif

e6d_stop_sig d TERM
e6_done
