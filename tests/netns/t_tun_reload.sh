#!/usr/bin/env bash
# Reload of a 6in4 server with clients in use:
#   - remove client b and add client c while LAN a pings the internet host
#     20 times a second and sends it a paced TCP stream: no echo lost, the
#     stream whole, t6 the same interface (same ifindex), home a's counters
#     not reset; b's routed /64 route and traffic gone, c's there (c was
#     refused as an unknown remote before the reload); the proxy answers
#     for c's prefix
#   - tunnel-broker "update endpoint": home a's IPv4 address changes; its
#     edge6d follows by reload (local), the server drops its packets as an
#     unknown remote until its own reload names the new remote; then
#     traffic resumes both ways from the new address, status shows it
#   - a reload the validator refuses leaves everything running; the tunnel
#     removed by reload takes its TUN and routes along, put back it works
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_edge6d.sh"
. "$(dirname "$0")/lib_radv.sh"
. "$(dirname "$0")/lib_tun.sh"

e6d_prepare
tun_topo
tun_home a 198.51.100.2
tun_home b 198.51.100.12 nolan
tun_home c 198.51.100.22 nolan
vconf=$(e6d_conf vps)
tun_vps_conf "$vconf" a b
for id in a b c; do
    tun_home_conf "$(e6d_conf home$id)" $id
done
tun_start_vps "$vconf"
for id in a b c; do tun_start_home $id "$(e6d_conf home$id)"; done
wait_for 10 "home a's tunnel up" tun_up a
wait_for 10 "home b's tunnel up" tun_up b
wait_for 15 "LAN a's SLAAC address" tun_lan_addr a
la=$(tun_lan_addr a)
lana=${TUN_LAN[a]}
# from_home ID: home ID pings the internet host from its lan0 address (its routed /64)
# shellcheck disable=SC2317 # called through tun_ping and assert_*
from_home() { tun_ping "${TUN_HOME[$1]}" "$TUN_INET_ADDR" -I "$(tun_home_lan_addr "$1")"; }
drop() { tun_counter "$TUN_VPS" "$vconf" "^tunnel\\.(drops?[._])?$1\$"; }
assert_ok "home b reaches the internet from its routed /64" from_home b
u0=$(drop unknown_remote)
assert_fail "home c (not a client yet) does not" from_home c
if [ "$(drop unknown_remote)" -gt "$u0" ]; then ok "its packets counted as unknown_remote"; else
    fail "home c's packets not counted as unknown_remote"; fi
ifindex=$(nsx "$TUN_VPS" cat /sys/class/net/$TUN_NAME/ifindex)
a_in0=$(tun_counter "$TUN_VPS" "$vconf" '^tunnel.*decap_packets$')

# --- remove b, add c, while a is busy
e6_bg pinga "$lana" ping -6 -n -i 0.05 -c 120 -W 1 "$TUN_INET_ADDR"
pingpid=$E6_BG_PID
tun_tool_bg streamrecv "$TUN_INET" recv --addr "$TUN_INET_ADDR" --port 5401 --timeout 20
wait_for 5 "stream receiver" grep -q ready "$E6_WORK/streamrecv.log"
tun_tool_bg streamsend "$lana" send --addr "$TUN_INET_ADDR" --port 5401 --bytes 1000000 --rate 200000
sleep 1.5
tun_vps_conf "$vconf" a c
assert_ok "edge6ctl reload (b out, c in)" e6ctl "$TUN_VPS" "$vconf" reload
wait_for 10 "home c reaches the internet after the reload" from_home c
assert_ok "home c's link address reached from the internet" tun_ping "$TUN_INET" "$(tun_client_addr c)"
assert_fail "home b no longer reaches the internet" from_home b
assert_fail "home b's routed /64 no longer reached from the internet" \
    nsx "$TUN_INET" ping -6 -n -q -c 1 -W 2 "$(tun_home_lan_addr b)"
routes=$(nsx "$TUN_VPS" ip -6 route show proto 231)
assert_match "c's routed /64 routed via t6" "^2001:db8:9:30::/64 dev $TUN_NAME" "$routes"
assert_nomatch "b's routed /64 route removed" "^2001:db8:9:20::/64" "$routes"
assert_match "the upstream learnt c's address via the VPS" "lladdr $(tun_mac "$TUN_VPS" eth0)" \
    "$(nsx "$TUN_UP" ip -6 neigh show "$(tun_home_lan_addr c)" dev u0)"
wait "$pingpid"
out=$(cat "$E6_WORK/pinga.log")
assert_match "LAN a's 120 echoes across the reload: none lost" "120 packets transmitted, 120 received, 0% packet loss" "$out"
wait_for 15 "the stream finished" grep -q sha256 "$E6_WORK/streamrecv.log"
s=$(grep sha256 "$E6_WORK/streamsend.log")
r=$(grep sha256 "$E6_WORK/streamrecv.log")
[ -n "$s" ] || s='{}'
[ -n "$r" ] || r='{}'
assert_eq "LAN a's TCP stream across the reload arrived whole (1 MB, same SHA-256)" \
    "1000000 $(json_get "$s" 'j.get("sha256")')" "$(json_get "$r" '"%s %s" % (j.get("bytes"), j.get("sha256"))')"
assert_eq "t6 kept across the reload (same ifindex)" "$ifindex" \
    "$(nsx "$TUN_VPS" cat /sys/class/net/$TUN_NAME/ifindex)"
a_in=$(tun_counter "$TUN_VPS" "$vconf" '^tunnel.*decap_packets$')
if [ "$a_in" -ge $((a_in0 + 120)) ]; then ok "counters not reset by the reload ($a_in0 -> $a_in)"; else
    fail "decap counter $a_in0 -> $a_in: reset or not counting"; fi
st=$(e6ctl "$TUN_VPS" "$vconf" status)
printf '%s\n' "$st" >"$E6_WORK/status-after-reload.txt"
assert_match "status lists homec" "homec" "$st"
assert_nomatch "status no longer lists homeb" "homeb" "$st"

# --- update endpoint: home a moves to 198.51.100.3
ha=${TUN_HOME[a]}
nsx "$ha" ip addr del 198.51.100.2/24 dev wan0
nsx "$ha" ip addr add 198.51.100.3/24 dev wan0
nsx "$ha" ip route replace default via "$TUN_WAN_HOMES" dev wan0
TUN_V4[a]=198.51.100.3
tun_home_conf "$(e6d_conf homea)" a
assert_ok "home a: edge6ctl reload (local 198.51.100.3)" e6ctl "$ha" "$(e6d_conf homea)" reload
u0=$(drop unknown_remote)
assert_fail "before the server knows: LAN a cut off" nsx "$lana" ping -6 -n -q -c 2 -i 0.3 -W 1 "$TUN_INET_ADDR"
if [ "$(drop unknown_remote)" -gt "$u0" ]; then ok "home a's packets from the new address: unknown_remote"; else
    fail "home a's packets from 198.51.100.3 not counted as unknown_remote"; fi
TUN_REMOTE[a]=198.51.100.3
tun_vps_conf "$vconf" a c
tun_tool_bg newsrc "$TUN_VPS" count --iface wan0 --v4-proto 41 --v4-src 198.51.100.3 --duration 6
wait_for 5 "capture ready" grep -q ready "$E6_WORK/newsrc.log"
assert_ok "VPS: edge6ctl reload (home a's remote 198.51.100.3)" e6ctl "$TUN_VPS" "$vconf" reload
wait_for 5 "LAN a reaches the internet again" tun_ping "$lana" "$TUN_INET_ADDR"
assert_ok "the internet host reaches LAN a again" tun_ping "$TUN_INET" "$la"
assert_ok "home c undisturbed" from_home c
wait_for 10 "capture done" grep -q '"count"' "$E6_WORK/newsrc.log"
n=$(json_get "$(grep '"count"' "$E6_WORK/newsrc.log")" 'j["count"]')
if [ "${n:-0}" -ge 2 ]; then ok "protocol 41 from 198.51.100.3 on the VPS's IPv4 link ($n)"; else
    fail "no protocol 41 from 198.51.100.3 seen (${n:-0})"; fi
st=$(e6ctl "$TUN_VPS" "$vconf" status)
printf '%s\n' "$st" >"$E6_WORK/status-after-endpoint.txt"
assert_match "status shows home a's new remote" "198\.51\.100\.3" "$st"
assert_nomatch "... not the old one" "198\.51\.100\.2([^0-9]|$)" "$st"

# --- a reload the validator refuses (two clients routing the same /64)
# changes nothing
cp "$vconf" "$E6_WORK/vps-good.conf"
sed -i 's|routed-prefixes = { "2001:db8:9:30::/64" }|routed-prefixes = { "2001:db8:9:10::/64" }|' "$vconf"
assert_fail "reload with c routing a's /64: refused" e6ctl "$TUN_VPS" "$vconf" reload
assert_ok "... LAN a still reaches the internet" tun_ping "$lana" "$TUN_INET_ADDR"
assert_ok "... home c too" from_home c
cp "$E6_WORK/vps-good.conf" "$vconf"

# --- the tunnel section removed by reload, then put back
tun_conf_head "$vconf" vps ""
assert_ok "reload without the tunnel (and its proxy)" e6ctl "$TUN_VPS" "$vconf" reload
wait_for 5 "t6 removed" sh -c "! ip netns exec $TUN_VPS ip link show dev $TUN_NAME"
assert_eq "no proto 231 route left" "" "$(nsx "$TUN_VPS" ip -6 route show proto 231)"
assert_fail "LAN a cut off" nsx "$lana" ping -6 -n -q -c 1 -W 1 "$TUN_INET_ADDR"
cp "$E6_WORK/vps-good.conf" "$vconf"
assert_ok "reload with the tunnel back" e6ctl "$TUN_VPS" "$vconf" reload
wait_for 10 "LAN a reaches the internet again" tun_ping "$lana" "$TUN_INET_ADDR"
assert_ok "the internet host reaches LAN a again (the proxy answers again)" tun_ping "$TUN_INET" "$la"

tun_counters_dump "$TUN_VPS" "$vconf" vps
tun_stop vps home_a home_b home_c
e6_done
