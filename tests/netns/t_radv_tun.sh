#!/usr/bin/env bash
# A link without a hardware address (a TUN device, as edge6's tunnels and
# VPNs have): edge6d still advertises on it, from its link-local address,
# and leaves out the Source Link-Layer Address option it could not fill.
# The peer here is the process holding the TUN fd: it reads what the kernel
# sends into the device.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_edge6d.sh"
. "$(dirname "$0")/lib_radv.sh"

TUN=e6tun0
e6d_prepare
RADV_R=$(ns_new r)
nsx "$RADV_R" ip tuntap add mode tun name "$TUN" || { fail "cannot create a TUN device"; exit 1; }
nsx "$RADV_R" ip link set "$TUN" up
nsx "$RADV_R" sysctl -qw "net.ipv6.conf.$TUN.forwarding=1"
# the listener attaches to the TUN fd, which gives the device its carrier
RADV_LISTEN_NS=$RADV_R radv_listen l --tun "$TUN" --duration 20
# no MAC, so no EUI-64: the kernel may or may not make up a link-local
radv_ll_of "$RADV_R" "$TUN" >/dev/null || nsx "$RADV_R" ip -6 addr add fe80::e6:1/64 dev "$TUN"
wait_for 5 "link-local on $TUN" radv_ll_of "$RADV_R" "$TUN"
ll=$(radv_ll_of "$RADV_R" "$TUN")
assert_eq "the TUN device has no hardware address" "none" \
    "$(nsx "$RADV_R" ip -o link show "$TUN" | grep -o 'link/[a-z]*' | cut -d/ -f2)"

conf=$(e6d_conf tun)
radv_conf_head "$conf"
cat >>"$conf" <<CONF
interface $TUN {
    max-interval = 4
    min-interval = 3
    mtu = 1480
    prefix 2001:db8:6::/64 {
    }
}
CONF
e6d_start d "$RADV_R" "$conf"
wait_for 10 "an RA read from the TUN device" grep -q router_lifetime "$E6_WORK/l.json"
ra=$(head -n1 "$E6_WORK/l.json")
e6_log "RA on $TUN: $ra"
assert_eq "RA from the TUN's link-local" "$ll" "$(json_get "$ra" 'j["src"]')"
assert_eq "RA to all-nodes" "ff02::1" "$(json_get "$ra" 'j["dst"]')"
assert_eq "RA hop limit 255" 255 "$(json_get "$ra" 'j["hlim"]')"
assert_eq "no Source Link-Layer Address option" "None" "$(json_get "$ra" 'j["slla"]')"
assert_eq "no option of type 1 at all" False "$(json_get "$ra" '1 in j["opts"]')"
assert_eq "options well formed" "[]" "$(json_get "$ra" 'j["bad"]')"
assert_eq "the prefix is advertised" "['2001:db8:6::/64']" "$(json_get "$ra" '[p["prefix"] for p in j["prefixes"]]')"
assert_eq "MTU 1480 advertised" 1480 "$(json_get "$ra" 'j["mtu"]')"
assert_ok "router lifetime non-zero (forwarding on)" test "$(json_get "$ra" 'j["router_lifetime"]')" -gt 0
assert_match "edge6ctl status: $TUN advertising" "$TUN.*advertising|advertising.*$TUN" \
    "$(e6ctl "$RADV_R" "$conf" status | tr '\n' ' ')"
e6d_stop_ok=0
e6d_stop_sig d USR1 3 && e6d_stop_ok=1
assert_eq "edge6d stops" 1 "$e6d_stop_ok"
e6_done
