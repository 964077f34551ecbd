#!/usr/bin/env bash
# Interfaces come and go, and edge6d follows them from netlink events alone:
# missing at start, appearing later, a link-local address that arrives late
# (DAD), an MTU change, down and up, deleted and re-created with a new
# ifindex. After each, a real host configures itself from what it hears.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_edge6d.sh"
. "$(dirname "$0")/lib_radv.sh"

P=2001:db8:31::/64
e6d_prepare
radv_topo
# the router's end of the pair goes away: edge6d starts without it
nsx "$RADV_R" ip link del "$RADV_RIF"
# every r0 to come forwards (router lifetime > 0) and runs DAD on its
# link-local, so edge6d has to wait for it
nsx "$RADV_R" sysctl -qw net.ipv6.conf.all.forwarding=1 net.ipv6.conf.default.forwarding=1 \
    net.ipv6.conf.default.accept_dad=1 net.ipv6.conf.default.dad_transmits=1

conf=$(e6d_conf iface)
radv_conf_head "$conf"
cat >>"$conf" <<CONF
interface $RADV_RIF {
    max-interval = 4
    min-interval = 3
    mtu = auto
    prefix $P { }
}
CONF

ra_state() { e6ctl "$RADV_R" "$conf" --json status | json_get "$(cat)" 'j["radv"]["interfaces"][0]["state"]' 2>/dev/null; }
state_is() { [ "$(ra_state)" = "$1" ]; }

# 1. missing at start: edge6d runs and says so
radv_start d "$conf"
wait_for 5 "state no-link while $RADV_RIF is missing" state_is no-link
ok "started with $RADV_RIF missing: $(ra_state)"

# 2. it appears (with DAD on its link-local): edge6d waits, then advertises
veth_new "$RADV_R" "$RADV_RIF" "$RADV_H" "$RADV_HIF"
nsx "$RADV_H" sysctl -qw net.ipv6.conf.$RADV_HIF.forwarding=0 net.ipv6.conf.$RADV_HIF.accept_ra=1 \
    net.ipv6.conf.$RADV_HIF.autoconf=1
wait_for 15 "host SLAAC address in $P after $RADV_RIF appeared" radv_slaac "$P"
ok "host address after the interface appeared: $(radv_slaac "$P")"
assert_match "edge6d waited for the link-local address (DAD) before advertising" \
    "waiting for a link-local address \(DAD\)" "$(grep -E 'ra r0' "$E6_WORK/d.log")"
assert_eq "default route via the router's link-local" "$(radv_router_ll)" "$(radv_defrtr)"

# 3. MTU change: the next RA carries it (mtu = auto follows the link)
nsx "$RADV_R" ip link set "$RADV_RIF" mtu 1400
wait_for 10 "host MTU 1400 after the router's MTU change" bash -c \
    "[ \"\$(ip netns exec $RADV_H cat /proc/sys/net/ipv6/conf/$RADV_HIF/mtu)\" = 1400 ]"
ok "host MTU follows the router's link MTU: $(radv_host_mtu)"

# 4. down and up: advertising stops and resumes (the host's default route,
# removed by hand while the link is down, comes back from a new RA)
nsx "$RADV_R" ip link set "$RADV_RIF" down
wait_for 5 "state down" state_is down
ok "link down: $(ra_state)"
nsx "$RADV_H" ip -6 route del default dev "$RADV_HIF" 2>/dev/null
nsx "$RADV_R" ip link set "$RADV_RIF" up
wait_for 15 "host default route again after down/up" radv_defrtr
ok "link up: advertising again, host default route via $(radv_defrtr)"

# 5. deleted and re-created: a new ifindex, same name
old_index=$(nsx "$RADV_R" cat "/sys/class/net/$RADV_RIF/ifindex")
nsx "$RADV_R" ip link del "$RADV_RIF"
wait_for 5 "state no-link after the delete" state_is no-link
ok "interface deleted: $(ra_state)"
veth_new "$RADV_R" "$RADV_RIF" "$RADV_H" "$RADV_HIF"
nsx "$RADV_H" sysctl -qw net.ipv6.conf.$RADV_HIF.forwarding=0 net.ipv6.conf.$RADV_HIF.accept_ra=1 \
    net.ipv6.conf.$RADV_HIF.autoconf=1
new_index=$(nsx "$RADV_R" cat "/sys/class/net/$RADV_RIF/ifindex")
assert_ok "the re-created interface has a new ifindex ($old_index -> $new_index)" \
    test "$old_index" != "$new_index"
wait_for 15 "host SLAAC address after the re-create" radv_slaac "$P"
ok "host address after the re-create: $(radv_slaac "$P")"
assert_eq "state advertising" advertising "$(ra_state)"

e6d_stop d
e6_done
