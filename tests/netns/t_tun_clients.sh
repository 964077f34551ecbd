#!/usr/bin/env bash
# Two tunnel-broker clients on one 6in4 server at once (home a: link
# 2001:db8:9:1::/64, routed 2001:db8:9:10::/64; home b: 2001:db8:9:2::/64,
# 2001:db8:9:20::/64, per-client mtu = 1400):
#   - both LAN hosts get their own /64 by SLAAC and reach the internet
#     host both ways; TCP 1 MB each way per LAN, whole
#   - the server sends each destination to its own client only (the other
#     home's IPv4 link sees no protocol-41 packet)
#   - each client may send only from its own prefixes: home a sourcing
#     from home b's routed /64 (and b from a's) is dropped and counted
#     (inner_spoof), nothing reaches the internet host
#   - the proxy answers upstream for both clients' addresses, and not for
#     an address of 2001:db8:9::/48 that no client owns
#   - home b's MTU 1400: a 1448-byte packet toward it earns a Packet Too
#     Big of 1400 from edge6d (ptb_sent), while home a keeps 1480
#   - edge6ctl status lists both clients with their own counters
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_edge6d.sh"
. "$(dirname "$0")/lib_radv.sh"
. "$(dirname "$0")/lib_tun.sh"

e6d_prepare
tun_topo
tun_home a 198.51.100.2
tun_home b 198.51.100.12
TUN_CLIENT_EXTRA[b]="        mtu = 1400"
vconf=$(e6d_conf vps)
aconf=$(e6d_conf homea)
bconf=$(e6d_conf homeb)
tun_vps_conf "$vconf" a b
tun_home_conf "$aconf" a
tun_home_conf "$bconf" b
tun_start_vps "$vconf"
tun_start_home a "$aconf"
tun_start_home b "$bconf"
wait_for 10 "home a's tunnel up" tun_up a
wait_for 10 "home b's tunnel up" tun_up b
wait_for 15 "LAN a's SLAAC address" tun_lan_addr a
wait_for 15 "LAN b's SLAAC address" tun_lan_addr b
la=$(tun_lan_addr a)
lb=$(tun_lan_addr b)
assert_match "LAN a in home a's /64" "^2001:db8:9:10:" "$la"
assert_match "LAN b in home b's /64" "^2001:db8:9:20:" "$lb"
assert_eq "VPS routes both routed /64s via t6 (proto 231)" \
    "2001:db8:9:10::/64 2001:db8:9:20::/64" \
    "$(nsx "$TUN_VPS" ip -6 route show proto 231 | grep -Eo '^2001:db8:9:[0-9a-f]+0::/64' | sort | xargs)"

# --- both reach the internet and back
for id in a b; do
    addr=$(tun_lan_addr $id)
    assert_ok "LAN $id pings the internet host" tun_ping "${TUN_LAN[$id]}" "$TUN_INET_ADDR"
    assert_ok "the internet host pings LAN $id" tun_ping "$TUN_INET" "$addr"
    x=$(tun_xfer "up$id" "${TUN_LAN[$id]}" "$TUN_INET" "$TUN_INET_ADDR" 1000000 "531${TUN_NUM[$id]}")
    assert_match "1 MB LAN $id -> internet, whole" "^1000000 ([0-9a-f]{16}) 1000000 \1$" "$x"
    x=$(tun_xfer "down$id" "$TUN_INET" "${TUN_LAN[$id]}" "$addr" 1000000 "533${TUN_NUM[$id]}")
    assert_match "1 MB internet -> LAN $id, whole" "^1000000 ([0-9a-f]{16}) 1000000 \1$" "$x"
done

# --- each destination goes to its own client only
tun_tool_bg capa "${TUN_HOME[a]}" count --iface wan0 --v4-proto 41 --duration 2
tun_tool_bg capb "${TUN_HOME[b]}" count --iface wan0 --v4-proto 41 --duration 2
wait_for 5 "capture on home a ready" grep -q ready "$E6_WORK/capa.log"
wait_for 5 "capture on home b ready" grep -q ready "$E6_WORK/capb.log"
nsx "$TUN_INET" ping -6 -n -q -c 5 -i 0.1 -W 1 "$lb" >/dev/null 2>&1
wait_for 10 "captures done" grep -q '"count"' "$E6_WORK/capa.log"
wait_for 10 "captures done" grep -q '"count"' "$E6_WORK/capb.log"
assert_eq "5 echoes to LAN b: none on home a's IPv4 link" 0 \
    "$(json_get "$(grep '"count"' "$E6_WORK/capa.log")" 'j["count"]')"
assert_eq "5 echoes to LAN b: 5 on home b's IPv4 link (echo requests in)" 5 \
    "$(json_get "$(grep '"count"' "$E6_WORK/capb.log")" 'j["count"]')"

# --- each client may send only from its own prefixes
# spoof HOME_ID ADDR: HOME_ID sends 5 echoes to the internet host from ADDR
# (an address it holds on lo, in the other client's space); prints how
# many reached the internet host.
n_spoof=0
spoof() {
    local h=${TUN_HOME[$1]} c
    n_spoof=$((n_spoof + 1))
    c="spoof$n_spoof"
    nsx "$h" ip -6 addr add "$2/128" dev lo nodad
    tun_tool_bg "$c" "$TUN_INET" count --iface i0 --src "$2" --duration 1.8
    wait_for 5 "capture ready" grep -q ready "$E6_WORK/$c.log" || return
    nsx "$h" ping -6 -n -q -c 5 -i 0.1 -W 1 -I "$2" "$TUN_INET_ADDR" >/dev/null 2>&1
    wait_for 10 "capture done" grep -q '"count"' "$E6_WORK/$c.log" || return
    nsx "$h" ip -6 addr del "$2/128" dev lo
    json_get "$(grep '"count"' "$E6_WORK/$c.log")" 'j["count"]'
}
spoofs0=$(tun_counter "$TUN_VPS" "$vconf" '^tunnel\.(drops?[._])?inner_spoof$')
assert_eq "home a sourcing from home b's routed /64: nothing reaches the internet" 0 "$(spoof a 2001:db8:9:20::66)"
assert_eq "home b sourcing from home a's routed /64: nothing reaches the internet" 0 "$(spoof b 2001:db8:9:10::66)"
assert_eq "home a sourcing from home b's link address: nothing reaches the internet" 0 "$(spoof a 2001:db8:9:2::2)"
spoofs=$(($(tun_counter "$TUN_VPS" "$vconf" '^tunnel\.(drops?[._])?inner_spoof$') - spoofs0))
assert_eq "inner_spoof counted the 15 packets" 15 "$spoofs"
assert_eq "control: home a from its own routed /64 does reach it" 5 "$(spoof a 2001:db8:9:10::67)"

# --- the proxy: both clients answered, nothing else
vmac=$(tun_mac "$TUN_VPS" eth0)
assert_match "upstream learnt LAN a via the VPS" "lladdr $vmac" "$(nsx "$TUN_UP" ip -6 neigh show "$la" dev u0)"
assert_match "upstream learnt LAN b via the VPS" "lladdr $vmac" "$(nsx "$TUN_UP" ip -6 neigh show "$lb" dev u0)"
assert_fail "an address no client owns (2001:db8:9:99::1) is not reached" \
    nsx "$TUN_INET" ping -6 -n -q -c 1 -W 2 2001:db8:9:99::1
assert_nomatch "... and the upstream got no answer for it" "lladdr" \
    "$(nsx "$TUN_UP" ip -6 neigh show 2001:db8:9:99::1 dev u0)"

# --- per-client MTU: b 1400 (edge6d's Packet Too Big), a 1480; the
# transfers above may have taught the internet host already: forget it
nsx "$TUN_INET" ip -6 route flush cache
ptb0=$(tun_counter "$TUN_VPS" "$vconf" '^tunnel.*ptb_sent$')
out=$(nsx "$TUN_INET" ping -6 -n -M "do" -c 3 -i 0.3 -W 2 -s 1400 "$lb" 2>&1)
printf '%s\n' "$out" >"$E6_WORK/ping-b-1448.txt"
assert_match "1448 bytes to LAN b (client mtu 1400): Packet Too Big, mtu 1400, from the server's address on b's link" \
    "From $(tun_server_addr b) .*[Pp]acket too big.*mtu[=:] ?1400" "$out"
assert_eq "the internet host cached 1400 toward LAN b" 1400 "$(tun_route_mtu "$TUN_INET" "$lb")"
ptb=$(($(tun_counter "$TUN_VPS" "$vconf" '^tunnel.*ptb_sent$') - ptb0))
if [ "$ptb" -ge 1 ]; then ok "VPS counter ptb_sent +$ptb"; else fail "VPS counter ptb_sent did not rise"; fi
out=$(nsx "$TUN_INET" ping -6 -n -M "do" -c 3 -i 0.3 -W 2 -s 1352 "$lb" 2>&1)
assert_match "1400 bytes to LAN b: 3/3" "3 packets transmitted, 3 received" "$out"
out=$(nsx "$TUN_INET" ping -6 -n -M "do" -c 3 -i 0.3 -W 2 -s 1432 "$la" 2>&1)
assert_match "1480 bytes to LAN a (tunnel mtu): 3/3" "3 packets transmitted, 3 received" "$out"

# --- status: both clients, each with its own traffic
js=$(tun_status_json "$TUN_VPS" "$vconf")
printf '%s\n' "$js" >"$E6_WORK/vps-status.json"
assert_ok "status --json valid" valid_json "$js"
per_client() {
    "$E6_PY" -c '
import json, sys
name = sys.argv[2]
def find(v):
    if isinstance(v, dict):
        if v.get("name") == name:
            yield v
        for x in v.values():
            yield from find(x)
    elif isinstance(v, list):
        for x in v:
            yield from find(x)
def nums(v, path=""):
    if isinstance(v, dict):
        for k, x in v.items():
            yield from nums(x, path + "." + k)
    elif isinstance(v, int) and not isinstance(v, bool):
        yield path, v
c = next(find(json.loads(sys.argv[1])), None)
if c is None:
    print("absent")
else:
    p = [v for k, v in nums(c) if "pkts" in k or "packets" in k]
    print("remote=%s packets=%s drops_in>=%s" % (c.get("remote"), "yes" if p and min(p) > 0 else "no:%s" % p,
          sys.argv[3] if c.get("drops_in", -1) >= int(sys.argv[3]) else c.get("drops_in")))' "$1" "$2" "$3"
}
# a's spoofs: 10 packets, b's: 5, each counted against the client that sent them
assert_eq "status: client homea, its remote, packets both ways, its 10 spoofs dropped" \
    "remote=198.51.100.2 packets=yes drops_in>=10" "$(per_client "$js" homea 10)"
assert_eq "status: client homeb, its remote, packets both ways, its 5 spoofs dropped" \
    "remote=198.51.100.12 packets=yes drops_in>=5" "$(per_client "$js" homeb 5)"
tun_counters_dump "$TUN_VPS" "$vconf" vps
tun_stop vps home_a home_b
e6_done
