#!/usr/bin/env bash
# What the 6in4 server accepts from the IPv4 side (RFC 4213 3.8 and the
# issue): protocol-41 packets built whole and sent from the IPv4 router's
# namespace (which can claim any source), each case 5 packets carrying an
# ICMPv6 echo request to the internet host, whose interface is watched:
#   - outer source = client home a's remote, inner source in its routed
#     /64: delivered (the control that makes the other cases mean something)
#   - outer source no configured remote: dropped, unknown_remote +5
#   - outer source home a, inner source outside what home a may send (the
#     internet's space, another client's routed /64): inner_spoof +5 each
#   - inner source multicast: inner_bad_src +5
#   - inner header not IPv6 / cut short: not_ipv6 / short +5
#   - outer destination another address of the VPS: not delivered
# and the drop counters appear in `edge6ctl status --json`; the home
# router (client) likewise takes protocol 41 only from its server; the real
# tunnel keeps working throughout.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_edge6d.sh"
. "$(dirname "$0")/lib_radv.sh"
. "$(dirname "$0")/lib_tun.sh"

e6d_prepare
tun_topo
tun_home a 198.51.100.2
tun_home b 198.51.100.12 nolan
vconf=$(e6d_conf vps)
hconf=$(e6d_conf homea)
tun_vps_conf "$vconf" a b
tun_home_conf "$hconf" a
tun_start_vps "$vconf"
tun_start_home a "$hconf"
wait_for 10 "home a's tunnel up" tun_up a
wait_for 15 "the LAN host's SLAAC address" tun_lan_addr a
# a second VPS address on the IPv4 side: not the tunnel's local
nsx "$TUN_VPS" ip addr add 192.0.2.5/24 dev wan0

n_case=0
# delivered OUTER_SRC OUTER_DST INNER_SRC [INJECT ARGS...]: how many of 5
# echo requests from INNER_SRC reach the internet host.
delivered() {
    local osrc=$1 odst=$2 isrc=$3
    shift 3
    n_case=$((n_case + 1))
    local c="count$n_case"
    tun_tool_bg "$c" "$TUN_INET" count --iface i0 --src "$isrc" --icmp6-type 128 --duration 1.2
    wait_for 5 "capture $n_case ready" grep -q ready "$E6_WORK/$c.log" || return
    tun_tool "$TUN_WAN" inject --src "$osrc" --dst "$odst" --isrc "$isrc" --idst "$TUN_INET_ADDR" \
        --count 5 --interval 0.01 "$@" >>"$E6_WORK/inject.log" 2>&1
    wait_for 10 "capture $n_case done" grep -q '"count"' "$E6_WORK/$c.log" || return
    json_get "$(grep '"count"' "$E6_WORK/$c.log")" 'j["count"]'
}
drop() { tun_counter "$TUN_VPS" "$vconf" "^tunnel\\.(drops?[._])?$1\$"; }

A=198.51.100.2
good=2001:db8:9:10::5
assert_eq "control: outer source home a, inner from its routed /64: 5 delivered" 5 \
    "$(delivered $A "$TUN_VPS_V4" $good)"
assert_eq "control: home a's link address as inner source: 5 delivered" 5 \
    "$(delivered $A "$TUN_VPS_V4" "$(tun_client_addr a)")"

before=$(drop unknown_remote)
assert_eq "outer source 203.0.113.66 (no client): nothing delivered" 0 \
    "$(delivered 203.0.113.66 "$TUN_VPS_V4" $good)"
assert_eq "outer source 198.51.100.99 (the clients' subnet, no client): nothing delivered" 0 \
    "$(delivered 198.51.100.99 "$TUN_VPS_V4" $good)"
assert_eq "unknown_remote counted both (+10)" 10 "$(($(drop unknown_remote) - before))"

before=$(drop inner_spoof)
assert_eq "home a with an inner source of the internet's space: nothing delivered" 0 \
    "$(delivered $A "$TUN_VPS_V4" 2001:db8:ffff::99)"
assert_eq "home a with an inner source in home b's routed /64: nothing delivered" 0 \
    "$(delivered $A "$TUN_VPS_V4" 2001:db8:9:20::5)"
assert_eq "home a with home b's link address as inner source: nothing delivered" 0 \
    "$(delivered $A "$TUN_VPS_V4" "$(tun_client_addr b)")"
assert_eq "inner_spoof counted all three (+15)" 15 "$(($(drop inner_spoof) - before))"

before=$(drop inner_bad_src)
assert_eq "home a with a multicast inner source: nothing delivered" 0 \
    "$(delivered $A "$TUN_VPS_V4" ff02::1)"
assert_eq "inner_bad_src +5" 5 "$(($(drop inner_bad_src) - before))"

before=$(drop not_ipv6)
assert_eq "inner header version 4: nothing delivered" 0 \
    "$(delivered $A "$TUN_VPS_V4" $good --inner-version 4)"
assert_eq "not_ipv6 +5" 5 "$(($(drop not_ipv6) - before))"

before=$(($(drop short) + $(drop not_ipv6)))
assert_eq "inner packet cut to 30 bytes: nothing delivered" 0 \
    "$(delivered $A "$TUN_VPS_V4" $good --truncate 30)"
assert_eq "short/not_ipv6 +5 for the cut packets" 5 "$(($(drop short) + $(drop not_ipv6) - before))"

before=$(drop wrong_local)
assert_eq "outer destination 192.0.2.5 (the VPS, not the tunnel's local): nothing delivered" 0 \
    "$(delivered $A 192.0.2.5 $good)"
e6_log "wrong_local +$(($(drop wrong_local) - before)) (0 when the socket is bound to the local address)"

# --- the client end checks the outer source too
lanaddr=$(tun_lan_addr a)
# to_lan OUTER_SRC: how many of 5 echo requests (internet host -> LAN host)
# sent to home a from OUTER_SRC reach the LAN host
to_lan() {
    n_case=$((n_case + 1))
    local c="count$n_case"
    tun_tool_bg "$c" "${TUN_LAN[a]}" count --iface eth0 --src "$TUN_INET_ADDR" --icmp6-type 128 --duration 1.2
    wait_for 5 "capture $n_case ready" grep -q ready "$E6_WORK/$c.log" || return
    tun_tool "$TUN_WAN" inject --src "$1" --dst 198.51.100.2 --isrc "$TUN_INET_ADDR" --idst "$lanaddr" \
        --count 5 --interval 0.01 >>"$E6_WORK/inject.log" 2>&1
    wait_for 10 "capture $n_case done" grep -q '"count"' "$E6_WORK/$c.log" || return
    json_get "$(grep '"count"' "$E6_WORK/$c.log")" 'j["count"]'
}
assert_eq "home a, control: outer source the VPS: 5 delivered to the LAN host" 5 "$(to_lan "$TUN_VPS_V4")"
hbefore=$(tun_counter "${TUN_HOME[a]}" "$hconf" '^tunnel\.drop_unknown_remote$')
assert_eq "home a, outer source 203.0.113.66 (not its server): nothing delivered" 0 "$(to_lan 203.0.113.66)"
assert_eq "home a: unknown_remote +5" 5 \
    "$(($(tun_counter "${TUN_HOME[a]}" "$hconf" '^tunnel\.drop_unknown_remote$') - hbefore))"

js=$(tun_status_json "$TUN_VPS" "$vconf")
printf '%s\n' "$js" >"$E6_WORK/vps-status.json"
assert_ok "status --json is valid JSON" valid_json "$js"
assert_eq "status --json: drop_unknown_remote of the tunnel >= 10" 1 \
    "$(($(json_sum "$js" drop_unknown_remote) >= 10))"
assert_eq "status --json: drop_inner_spoof of the tunnel >= 15" 1 "$(($(json_sum "$js" drop_inner_spoof) >= 15))"
tun_counters_dump "$TUN_VPS" "$vconf" vps
assert_ok "the real tunnel still carries the LAN host's echo" tun_ping "${TUN_LAN[a]}" "$TUN_INET_ADDR"

tun_stop home_a vps
e6_done
