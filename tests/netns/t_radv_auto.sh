#!/usr/bin/env bash
# `prefix auto` and RDNSS "auto" follow the router's own addresses through
# netlink, without a reload: a /64 added to r0 reaches the host as a SLAAC
# prefix, with lifetimes capped by what the kernel has left on the router's
# address; a /64 removed from r0 is deprecated on the host (RFC 9096); the
# RDNSS server is the router's preferred global address on the link and
# moves when that address goes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_edge6d.sh"
. "$(dirname "$0")/lib_radv.sh"

P9=2001:db8:9::/64
P10=2001:db8:10::/64
P11=2001:db8:11::/64
e6d_prepare
radv_topo
nsx "$RADV_R" ip -6 addr add 2001:db8:9::1/64 dev "$RADV_RIF" nodad
conf=$(e6d_conf auto)
radv_conf_head "$conf"
cat >>"$conf" <<CONF
interface $RADV_RIF {
    max-interval = 4
    min-interval = 3
    prefix auto {
    }
    rdnss {
        servers = { "auto" }
    }
}
CONF
rdisc() { timeout 5 ip netns exec "$RADV_H" rdisc6 -1 -w 2000 "$RADV_HIF" 2>&1; }

radv_start d "$conf"
wait_for 10 "host address in $P9 (from the router's 2001:db8:9::1/64)" radv_slaac "$P9"
assert_match "the auto prefix has the RFC 9096 caps (the router's address lives forever)" \
    "^2001:db8:9:0:[0-9a-f:]+ 2[67][0-9]{2} 5[34][0-9]{2} -$" "$(radv_addr_info "$P9")"
out=$(rdisc)
assert_match "RDNSS auto: the router's global address" "Recursive DNS server +: 2001:db8:9::1$" "$out"
assert_nomatch "no prefix from the link-local address" "Prefix +: fe80:" "$out"

# --- addresses added on the router: no reload needed
nsx "$RADV_R" ip -6 addr add 2001:db8:10::1/64 dev "$RADV_RIF" nodad
nsx "$RADV_R" ip -6 addr add 2001:db8:11::1/64 dev "$RADV_RIF" nodad valid_lft 1000 preferred_lft 500
wait_for 10 "host address in $P10" radv_slaac "$P10"
wait_for 10 "host address in $P11" radv_slaac "$P11"
info=$(radv_addr_info "$P11")
e6_log "address in $P11: $info"
assert_eq "lifetimes capped by the router's address: valid <= 1000, preferred <= 500" True \
    "$(echo "$info" | awk '{print ($2 <= 500 && $2 > 400 && $3 <= 1000 && $3 > 900) ? "True" : "False"}')"

# --- an address removed from the router: its prefix is deprecated
nsx "$RADV_R" ip -6 addr del 2001:db8:9::1/64 dev "$RADV_RIF"
wait_for 10 "host address in $P9 deprecated" radv_deprecated "$P9"
assert_ok "$P10 still usable" radv_slaac "$P10"
out=$(rdisc)
assert_match "RDNSS auto moves to the lowest remaining global address" \
    "Recursive DNS server +: 2001:db8:10::1$" "$out"
assert_match "the removed prefix is advertised with lifetime 0" \
    "Prefix +: 2001:db8:9::/64" "$out"
assert_match "edge6ctl ra shows the auto prefixes" "2001:db8:10::/64" "$(e6ctl "$RADV_R" "$conf" ra "$RADV_RIF")"
e6d_stop_sig d TERM
e6_done
