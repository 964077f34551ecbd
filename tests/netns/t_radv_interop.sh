#!/usr/bin/env bash
# Interop: clients no one here wrote must read our RAs the way we mean them.
# rdisc6 (ndisc6) prints the prefix, MTU, RDNSS, DNSSL and route; radvdump
# turns the RA back into radvd syntax with the same values; tshark -V
# decodes a capture of our RAs (multicast, unicast and the final ones) with
# no malformed-packet or error notes and every option recognised.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_edge6d.sh"
. "$(dirname "$0")/lib_radv.sh"

for tool in rdisc6 radvdump tshark; do
    command -v "$tool" >/dev/null || { fail "$tool is not installed (packages ndisc6, radvdump, tshark)"; exit 1; }
done

e6d_prepare
radv_topo
conf=$(e6d_conf interop)
radv_conf_head "$conf"
cat >>"$conf" <<CONF
interface $RADV_RIF {
    max-interval = 4
    min-interval = 3
    router-lifetime = 1800
    router-preference = high
    cur-hop-limit = 42
    other-config = yes
    reachable-time = 30000
    retrans-timer = 1000
    mtu = 1400
    captive-portal = "https://portal.example.com/api"
    prefix 2001:db8:1::/64 {
        valid-lifetime = 7200
        preferred-lifetime = 3600
    }
    prefix 2001:db8:2::/64 {
        autonomous = no
    }
    route 2001:db8:77::/48 {
        preference = low
        lifetime = 1200
    }
    rdnss {
        servers = { "2001:db8::53", "2001:db8::54" }
        lifetime = 600
    }
    dnssl {
        domains = { "example.com", "lab.example.org" }
        lifetime = 600
    }
    pref64 64:ff9b::/96 {
        lifetime = 600
    }
}
CONF
capture=$E6_WORK/ra.pcap
e6_bg tshark-capture "$RADV_H" timeout 40 tshark -n -q -i "$RADV_HIF" -f "icmp6" -w "$capture"
capture_pid=$E6_BG_PID
wait_for 10 "tshark capturing" grep -q "Capturing on" "$E6_WORK/tshark-capture.log"
radv_start d "$conf"
rll=$(radv_router_ll)
wait_for 10 "SLAAC address on the host" radv_slaac 2001:db8:1::/64

# --- rdisc6
out=$(timeout "$RADV_CMD_TIMEOUT" ip netns exec "$RADV_H" rdisc6 -1 -w 2000 "$RADV_HIF" 2>&1)
assert_eq "rdisc6 -1 gets an answer" 0 $?
printf '%s\n' "$out" >"$E6_WORK/rdisc6.out"
while IFS='|' read -r what re; do
    assert_match "rdisc6: $what" "$re" "$out"
done <<'WANT'
hop limit|Hop limit +: +42
other config (O)|Stateful other conf\. +: +Yes
no managed (M)|Stateful address conf\. +: +No
router preference|Router preference +: +high
router lifetime|Router lifetime +: +1800 
reachable time|Reachable time +: +30000 
retransmit timer|Retransmit time +: +1000 
prefix 1|Prefix +: 2001:db8:1::/64
prefix 1 valid|Valid time +: +7200 
prefix 1 preferred|Pref\. time +: +3600 
prefix 2|Prefix +: 2001:db8:2::/64
prefix 2 not autonomous|Autonomous address conf\.: +No
MTU|MTU +: +1400 bytes \(valid\)
RDNSS|Recursive DNS server +: 2001:db8::53
RDNSS second server|Recursive DNS server +: 2001:db8::54
RDNSS lifetime|DNS servers? lifetime +: +600 
DNSSL|DNS search list +: example.com lab.example.org
DNSSL lifetime|DNS search list lifetime: +600 
route|Route +: 2001:db8:77::/48
route preference|Route preference +: +low
route lifetime|Route lifetime +: +1200 
source link-layer address|Source link-layer address: [0-9A-F:]{17}
WANT
assert_match "rdisc6: from the router's link-local" "from $rll" "$out"

# --- radvdump: listens for a bounded time; an RS makes the router answer
timeout 8 ip netns exec "$RADV_H" radvdump -d 1 >"$E6_WORK/radvdump.out" 2>"$E6_WORK/radvdump.err" &
dump_pid=$!
E6_PIDS+=("$dump_pid")
sleep 0.5
timeout 5 ip netns exec "$RADV_H" rdisc6 -1 -w 2000 "$RADV_HIF" >/dev/null 2>&1
wait_for 8 "radvdump printed an RA" grep -q "End of interface definition" "$E6_WORK/radvdump.out"
dump=$(cat "$E6_WORK/radvdump.out")
while IFS='|' read -r what re; do
    assert_match "radvdump: $what" "$re" "$dump"
done <<'WANT'
RA from the router|based on Router Advertisement from fe80:
hop limit|AdvCurHopLimit 42;
other config|AdvOtherConfigFlag on;
router lifetime|AdvDefaultLifetime 1800;
preference|AdvDefaultPreference high;
reachable time|AdvReachableTime 30000;
retrans timer|AdvRetransTimer 1000;
MTU|AdvLinkMTU 1400;
SLLA|AdvSourceLLAddress on;
prefix|prefix 2001:db8:1::/64
prefix valid|AdvValidLifetime 7200;
prefix preferred|AdvPreferredLifetime 3600;
second prefix|prefix 2001:db8:2::/64
non-autonomous prefix|AdvAutonomous off;
route|route 2001:db8:77::/48
route preference|AdvRoutePreference low;
route lifetime|AdvRouteLifetime 1200;
RDNSS|RDNSS 2001:db8::53 2001:db8::54
RDNSS lifetime|AdvRDNSSLifetime 600;
DNSSL|DNSSL example.com lab.example.org
DNSSL lifetime|AdvDNSSLLifetime 600;
WANT
# radvdump 2.19 predates PREF64 (38) and the captive portal option (37):
# it names them unknown, and nothing else may be
assert_nomatch "radvdump: no complaints (but about options 37, 38 it does not know)" \
    "[Ee]rror|[Ii]nvalid|[Mm]alformed|[Uu]nknown" \
    "$(grep -v 'unknown option 3[78] in RA$' "$E6_WORK/radvdump.err")"
wait "$dump_pid" 2>/dev/null

# --- tshark: the capture holds the initial, periodic, solicited and final RAs
e6d_stop_sig d TERM
sleep 0.5
kill -INT "$capture_pid" 2>/dev/null
for _ in $(seq 50); do kill -0 "$capture_pid" 2>/dev/null || break; sleep 0.1; done
decode=$E6_WORK/ra-decode.txt
tshark -n -r "$capture" -V -Y "icmpv6.type == 134" >"$decode" 2>"$E6_WORK/tshark-read.err"
assert_eq "tshark reads the capture" 0 $?
n_ra=$(grep -c '^ *Type: Router Advertisement (134)' "$decode")
if [ "${n_ra:-0}" -ge 5 ]; then ok "tshark decoded $n_ra RAs"; else fail "tshark decoded only ${n_ra:-0} RAs"; fi
assert_nomatch "tshark: nothing malformed" "Malformed" "$(cat "$decode")"
assert_nomatch "tshark: no error notes" "Expert Info \(Error" "$(cat "$decode")"
assert_nomatch "tshark: every checksum good" "Checksum Status: Bad" "$(cat "$decode")"
good=$(grep -c 'Checksum Status: Good' "$decode")
assert_eq "tshark: one good ICMPv6 checksum per RA" "$n_ra" "$good"
while IFS='|' read -r what want; do
    if grep -qF -- "$want" "$decode"; then ok "tshark decodes $what"; else fail "tshark did not decode $what: $want"; fi
done <<'WANT'
cur hop limit|Cur hop limit: 42
preference|Prf (Default Router Preference): High (1)
router lifetime|Router lifetime (s): 1800
final RA|Router lifetime (s): 0
reachable time|Reachable time (ms): 30000
retrans timer|Retrans timer (ms): 1000
MTU|MTU: 1400
prefix|Prefix: 2001:db8:1::
second prefix|Prefix: 2001:db8:2::
valid lifetime|Valid Lifetime: 7200
preferred lifetime|Preferred Lifetime: 3600
route|Route Information : Low 2001:db8:77::/48
RDNSS|Recursive DNS Servers: 2001:db8::53
DNSSL|Domain Names: example.com
DNSSL second name|Domain Names: lab.example.org
PREF64 length|PLC (Prefix Length Code): 96 bits prefix length (0x0)
PREF64 lifetime|Scaled Lifetime: 75
captive portal|Captive Portal: https://portal.example.com/api
WANT
e6_done
