#!/usr/bin/env bash
# The VPS -> home LAN story end to end (lib_tun.sh draws it): an internet
# host, the provider's router, the VPS (edge6d: NDP proxy on eth0 with a
# `method = tunnel` rule + 6in4 server t6), an IPv4-only router, the home
# router (edge6d: 6in4 client t6 with the default route, RA on lan0) and a
# LAN host that configures itself by SLAAC. Checked: the TUN on both ends
# (MTU 1480, link addresses, the routes edge6d installs, proto 231); the LAN
# host's SLAAC address in the routed /64, MTU 1480 and RDNSS from the RA
# (rdisc6); echo both ways with the hop limit decremented once per router
# (the tunnel is one hop); the provider's router learns the LAN host (and
# the home router's link address) through the proxy, with the VPS's eth0
# MAC; TCP transfers of 4 MB both ways arrive whole (SHA-256); edge6ctl
# status and counters show the tunnel, its client and its traffic; after a
# crash (SIGKILL) a new edge6d takes over; at stop the TUN and its routes
# are gone.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_edge6d.sh"
. "$(dirname "$0")/lib_radv.sh"
. "$(dirname "$0")/lib_tun.sh"

e6d_prepare
tun_topo
tun_home a 198.51.100.2
home=${TUN_HOME[a]}
lan=${TUN_LAN[a]}
vconf=$(e6d_conf vps)
hconf=$(e6d_conf homea)
tun_vps_conf "$vconf" a
tun_home_conf "$hconf" a
assert_ok "edge6d -t accepts the VPS config" "$EDGE6D" -t -c "$vconf"
assert_ok "edge6d -t accepts the home config" "$EDGE6D" -t -c "$hconf"
tun_start_vps "$vconf"
tun_start_home a "$hconf"

# --- the tunnel on both ends
wait_for 10 "home a reaches the server's link address through t6" tun_up a
assert_eq "VPS: TUN t6 with MTU 1480" 1480 "$(nsx "$TUN_VPS" cat /sys/class/net/$TUN_NAME/mtu 2>&1)"
assert_eq "home: TUN t6 with MTU 1480" 1480 "$(nsx "$home" cat /sys/class/net/$TUN_NAME/mtu 2>&1)"
assert_match "VPS: the server's link address on t6" "inet6 2001:db8:9:1::1/" \
    "$(nsx "$TUN_VPS" ip -6 addr show dev $TUN_NAME)"
assert_match "home: the client's link address on t6" "inet6 2001:db8:9:1::2/64" \
    "$(nsx "$home" ip -6 addr show dev $TUN_NAME)"
routes=$(nsx "$TUN_VPS" ip -6 route show proto 231)
assert_match "VPS: the routed /64 via t6, proto 231" "^2001:db8:9:10::/64 dev $TUN_NAME" "$routes"
assert_match "home: default route through t6" "^default .*dev $TUN_NAME" \
    "$(nsx "$home" ip -6 route show default)"
assert_ok "VPS reaches the client's link address" tun_ping "$TUN_VPS" "$(tun_client_addr a)"

# --- the LAN host: SLAAC, MTU, RDNSS, default router
wait_for 15 "a SLAAC address in $(tun_routed a) on the LAN host" tun_lan_addr a
lanaddr=$(tun_lan_addr a)
assert_match "LAN host address in the routed /64" "^2001:db8:9:10:" "$lanaddr"
assert_eq "LAN host link MTU 1480 from the RA" 1480 "$(nsx "$lan" cat /proc/sys/net/ipv6/conf/eth0/mtu)"
assert_match "LAN host: default route via the home router's link-local" \
    "^default via $(tun_ll "$home" lan0) dev eth0 proto ra" "$(nsx "$lan" ip -6 route show default)"
rd=$(nsx "$lan" timeout 10 rdisc6 -1 -w 1500 eth0 2>&1)
printf '%s\n' "$rd" >"$E6_WORK/rdisc6.txt"
assert_match "rdisc6: MTU 1480" "MTU +: +1480 bytes \(valid\)" "$rd"
assert_match "rdisc6: the routed /64" "Prefix +: 2001:db8:9:10::/64" "$rd"
assert_match "rdisc6: RDNSS naming the home router itself" \
    "Recursive DNS server +: ($(tun_home_lan_addr a)|$(tun_ll "$home" lan0))$" "$rd"

# --- echo both ways; the hop limit is decremented once per router hop
assert_ok "LAN host pings the internet host" tun_ping "$lan" "$TUN_INET_ADDR"
out=$(nsx "$TUN_INET" ping -6 -n -c 3 -i 0.2 -W 2 "$lanaddr" 2>&1)
printf '%s\n' "$out" >"$E6_WORK/ping-inet-lan.txt"
assert_match "internet host pings the LAN host: 3/3" "3 packets transmitted, 3 received" "$out"
# LAN host 64 -> home 63 -> VPS 62 -> up 61: the tunnel costs no hop of its own
assert_match "reply hop limit 61 at the internet host (3 routers: home, VPS, up)" "ttl=61 " "$out"
out=$(nsx "$lan" ping -6 -n -c 1 -W 2 "$TUN_INET_ADDR" 2>&1)
assert_match "LAN host pings the internet host: reply hop limit 61 (up, VPS, home)" "ttl=61 " "$out"
assert_ok "internet host pings the home router's link address" tun_ping "$TUN_INET" "$(tun_client_addr a)"
assert_ok "internet host pings the home router's lan0 address" tun_ping "$TUN_INET" "$(tun_home_lan_addr a)"

# --- the proxy: the provider's router learnt the LAN host from the VPS
vmac=$(tun_mac "$TUN_VPS" eth0)
neigh=$(nsx "$TUN_UP" ip -6 neigh show "$lanaddr" dev u0)
assert_match "upstream: LAN host's address -> the VPS's eth0 MAC ($vmac)" \
    "^$lanaddr lladdr $vmac (router )?(REACHABLE|STALE|DELAY|PROBE)" "$neigh"
neigh=$(nsx "$TUN_UP" ip -6 neigh show "$(tun_client_addr a)" dev u0)
assert_match "upstream: home's link address -> the VPS's eth0 MAC" "lladdr $vmac" "$neigh"

# --- TCP both ways, whole
x=$(tun_xfer up "$lan" "$TUN_INET" "$TUN_INET_ADDR" 4000000 5301)
assert_match "4 MB LAN host -> internet host arrive whole" "^4000000 ([0-9a-f]{16}) 4000000 \1$" "$x"
x=$(tun_xfer down "$TUN_INET" "$lan" "$lanaddr" 4000000 5302)
assert_match "4 MB internet host -> LAN host arrive whole" "^4000000 ([0-9a-f]{16}) 4000000 \1$" "$x"

# --- status and counters
st=$(e6ctl "$TUN_VPS" "$vconf" status)
printf '%s\n' "$st" >"$E6_WORK/vps-status.txt"
assert_match "VPS status: tunnel t6" "$TUN_NAME" "$st"
assert_match "VPS status: client homea with its remote" "homea.*198\.51\.100\.2|198\.51\.100\.2.*homea" \
    "$(printf '%s' "$st" | tr '\n' ' ')"
js=$(tun_status_json "$TUN_VPS" "$vconf")
printf '%s\n' "$js" >"$E6_WORK/vps-status.json"
assert_ok "VPS status --json is valid JSON" valid_json "$js"
st=$(e6ctl "$home" "$hconf" status)
printf '%s\n' "$st" >"$E6_WORK/home-status.txt"
assert_match "home status: tunnel t6 to the VPS" "192\.0\.2\.1" "$st"
tun_counters_dump "$TUN_VPS" "$vconf" vps
tun_counters_dump "$home" "$hconf" home
# 4 MB each way: thousands of packets both ways through each end
rx=$(tun_counter "$TUN_VPS" "$vconf" '^tunnel.*decap_packets$')
tx=$(tun_counter "$TUN_VPS" "$vconf" '^tunnel.*encap_packets$')
if [ "${rx:-0}" -ge 2000 ] && [ "${tx:-0}" -ge 2000 ]; then
    ok "VPS counters: $rx packets decapsulated, $tx encapsulated"
else fail "VPS counters: rx ${rx:-?} tx ${tx:-?} packets (expected >= 2000 each; see vps.counters)"; fi
rx=$(tun_counter "$home" "$hconf" '^tunnel.*decap_packets$')
tx=$(tun_counter "$home" "$hconf" '^tunnel.*encap_packets$')
if [ "${rx:-0}" -ge 2000 ] && [ "${tx:-0}" -ge 2000 ]; then
    ok "home counters: $rx packets decapsulated, $tx encapsulated"
else fail "home counters: rx ${rx:-?} tx ${tx:-?} packets (expected >= 2000 each; see home.counters)"; fi

# --- a crash of the VPS's edge6d: the TUN goes with its file descriptor;
# a new edge6d takes over and the tunnel carries traffic again
kill -KILL "$E6D_PID_vps"
wait "$E6D_PID_vps" 2>/dev/null
wait_for 5 "t6 gone with the crashed edge6d" sh -c "! ip netns exec $TUN_VPS ip link show dev $TUN_NAME"
e6d_start vps2 "$TUN_VPS" "$vconf"
wait_for 10 "home a reaches the server again" tun_up a
assert_ok "after a restart of the VPS's edge6d the internet host pings the LAN host" tun_ping "$TUN_INET" "$lanaddr"

# --- stop: the TUN and its routes go with the daemon
tun_stop home_a vps2
assert_fail "VPS: t6 removed at stop" nsx "$TUN_VPS" ip link show dev "$TUN_NAME"
assert_fail "home: t6 removed at stop" nsx "$home" ip link show dev "$TUN_NAME"
assert_eq "VPS: no proto 231 route left" "" "$(nsx "$TUN_VPS" ip -6 route show proto 231)"
e6_done
