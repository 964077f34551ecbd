#!/usr/bin/env bash
# The sysctls the seeds set by hand, and the kernel's sit driver:
#   - the VPS with IPv6 forwarding off and manage-sysctls = no (default):
#     the log and `edge6ctl status` (text and JSON) say forwarding is
#     missing, and edge6d leaves it alone; a reload with manage-sysctls =
#     yes turns it on (all and t6) and status stops complaining
#   - the home router with forwarding off and manage-sysctls = yes from
#     the start: edge6d turns it on, the LAN host gets a default route and
#     reaches the internet host
#   - kernel = auto (default): the log says the kernel has no sit driver
#     and that the userspace path carries the tunnel; kernel = yes refuses
#     to start with a clear message, exit status 1; kernel = no starts
#     without probing
#   - a link already named like the tunnel: refused (exit 1, named), the
#     link left alone
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_edge6d.sh"
. "$(dirname "$0")/lib_radv.sh"
. "$(dirname "$0")/lib_tun.sh"

e6d_prepare
tun_topo 0
TUN_HOME_FWD=0
tun_home a 198.51.100.2
home=${TUN_HOME[a]}
vconf=$(e6d_conf vps)
hconf=$(e6d_conf homea)
tun_vps_conf "$vconf" a
TUN_HOME_GLOBAL='manage-sysctls = yes'
tun_home_conf "$hconf" a
fwd() { nsx "$1" cat "/proc/sys/net/ipv6/conf/$2/forwarding" 2>&1; }

# --- the VPS: reported, not touched
tun_start_vps "$vconf"
wait_for 5 "the VPS's t6" nsx "$TUN_VPS" ip link show dev "$TUN_NAME"
sleep 0.5
log=$(cat "$E6_WORK/vps.log")
assert_match "VPS log: IPv6 forwarding missing" "[Ff]orwarding.*(off|missing|disabled|not (on|enabled|set))|(off|missing|disabled).*forwarding" "$log"
st=$(e6ctl "$TUN_VPS" "$vconf" status)
printf '%s\n' "$st" >"$E6_WORK/status-missing.txt"
assert_match "VPS status: IPv6 forwarding missing" "[Ff]orwarding.*(off|missing|disabled|no\b|0)" "$st"
js=$(tun_status_json "$TUN_VPS" "$vconf")
printf '%s\n' "$js" >"$E6_WORK/status-missing.json"
assert_ok "status --json valid" valid_json "$js"
assert_match "VPS status --json names forwarding" "forwarding" "$js"
assert_eq "manage-sysctls = no: all.forwarding left at 0" 0 "$(fwd "$TUN_VPS" all)"
assert_eq "manage-sysctls = no: eth0 forwarding left at 0" 0 "$(fwd "$TUN_VPS" eth0)"

# --- the home router sets its own
tun_start_home a "$hconf"
wait_for 10 "home a's tunnel up" tun_up a
assert_eq "home (manage-sysctls = yes): all.forwarding set to 1" 1 "$(fwd "$home" all)"
assert_eq "home: lan0 forwarding 1" 1 "$(fwd "$home" lan0)"
assert_eq "home: t6 forwarding 1" 1 "$(fwd "$home" "$TUN_NAME")"
assert_match "home log says what it set" "[Ff]orwarding" "$(cat "$E6_WORK/home_a.log")"
wait_for 15 "LAN a's SLAAC address" tun_lan_addr a
wait_for 10 "LAN a's default route (the home router forwards)" \
    nsx "${TUN_LAN[a]}" ip -6 route show default dev eth0 proto ra
assert_fail "VPS not forwarding: the LAN host cannot reach the internet host" \
    nsx "${TUN_LAN[a]}" ping -6 -n -q -c 2 -i 0.3 -W 1 "$TUN_INET_ADDR"

# --- the VPS: manage-sysctls = yes by reload
TUN_VPS_GLOBAL='manage-sysctls = yes'
tun_vps_conf "$vconf" a
assert_ok "VPS reload with manage-sysctls = yes" e6ctl "$TUN_VPS" "$vconf" reload
wait_for 5 "VPS all.forwarding set by the reload" test "$(fwd "$TUN_VPS" all)" = 1
assert_eq "VPS eth0 forwarding 1" 1 "$(fwd "$TUN_VPS" eth0)"
assert_eq "VPS t6 forwarding 1" 1 "$(fwd "$TUN_VPS" "$TUN_NAME")"
st=$(e6ctl "$TUN_VPS" "$vconf" status)
printf '%s\n' "$st" >"$E6_WORK/status-fixed.txt"
assert_nomatch "VPS status no longer reports forwarding missing" "[Ff]orwarding.*([Oo][Ff][Ff]|missing|disabled)" "$st"
wait_for 5 "the LAN host reaches the internet host" tun_ping "${TUN_LAN[a]}" "$TUN_INET_ADDR"

# --- kernel = auto / yes / no
assert_match "kernel = auto: the log says there is no sit driver" "sit" "$(cat "$E6_WORK/vps.log")"
assert_match "kernel = auto: ... and that userspace carries the tunnel" "[Uu]serspace|[Uu]ser space|TUN" \
    "$(grep -i sit "$E6_WORK/vps.log")"
k=$(ns_new kern)
nsx "$k" ip link add wan0 type veth peer name wan0p
nsx "$k" ip addr add "$TUN_VPS_V4/24" dev wan0
nsx "$k" ip link set wan0 up
kconf=$(e6d_conf kyes)
TUN_VPS_GLOBAL=''
TUN_VPS_TUN='    kernel = yes'
TUN_VPS_INST=k tun_vps_conf "$kconf" a
assert_ok "edge6d -t accepts kernel = yes (a property of the system, not the file)" "$EDGE6D" -t -c "$kconf"
timeout 15 ip netns exec "$k" "$EDGE6D" -f -c "$kconf" >"$E6_WORK/kyes.log" 2>&1
assert_eq "kernel = yes without a sit driver: edge6d exits 1" 1 "$?"
assert_match "kernel = yes: a clear message naming sit" "sit" "$(cat "$E6_WORK/kyes.log")"
assert_nomatch "kernel = yes: no TUN left behind" "$TUN_NAME" "$(nsx "$k" ip -o link show)"
TUN_VPS_TUN='    kernel = no'
TUN_VPS_INST=k tun_vps_conf "$kconf" a
e6d_start kno "$k" "$kconf"
assert_ok "kernel = no: t6 is a TUN" nsx "$k" test -e "/sys/class/net/$TUN_NAME/tun_flags"
assert_nomatch "kernel = no: no sit probe, no fallback message" "no sit driver" "$(cat "$E6_WORK/kno.log")"
tun_stop kno

# --- a link of the tunnel's name exists already: refused, left alone
nsx "$k" ip link add "$TUN_NAME" type veth peer name t6peer
timeout 15 ip netns exec "$k" "$EDGE6D" -f -c "$kconf" >"$E6_WORK/kexists.log" 2>&1
assert_eq "an existing link named $TUN_NAME: edge6d exits 1" 1 "$?"
assert_match "... with a message naming it" "$TUN_NAME" "$(grep -E 'err|error' "$E6_WORK/kexists.log")"
assert_match "... and the veth $TUN_NAME is still there" "veth" "$(nsx "$k" ip -d link show dev "$TUN_NAME")"
assert_fail "... not turned into a TUN" nsx "$k" test -e "/sys/class/net/$TUN_NAME/tun_flags"

tun_stop vps home_a
e6_done
