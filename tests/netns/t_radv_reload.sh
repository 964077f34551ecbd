#!/usr/bin/env bash
# Reload and renumbering (RFC 9096): a prefix that leaves the config by a
# reload is advertised with zero lifetimes, so the host deprecates its
# address at once (preferred 0) instead of using it for up to 45 minutes;
# a prefix added by the same reload is picked up within a few seconds; a
# prefix that stays keeps its preferred lifetime.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_edge6d.sh"
. "$(dirname "$0")/lib_radv.sh"

A=2001:db8:a::/64
B=2001:db8:b::/64
C=2001:db8:c::/64
e6d_prepare
radv_topo
conf=$(e6d_conf reload)
radv_conf_prefixes "$conf" "$A" "$B"
radv_start d "$conf"
wait_for 10 "host address in $A" radv_slaac "$A"
wait_for 5 "host address in $B" radv_slaac "$B"
wait_for 5 "default route" radv_defrtr
assert_fail "no address in $C yet" radv_slaac "$C"

# --- reload: A leaves, C arrives
radv_conf_prefixes "$conf" "$B" "$C"
t0=$(date +%s%N)
assert_ok "edge6ctl reload accepts the new prefixes" e6ctl "$RADV_R" "$conf" reload
wait_for 10 "host address in $A deprecated" radv_deprecated "$A"
e6_log "A deprecated $((($(date +%s%N) - t0) / 1000000)) ms after the reload"
info=$(radv_addr_info "$A")
assert_match "A: preferred lifetime 0, address still valid (RFC 4862 two-hour rule)" \
    "^2001:db8:a:0:[0-9a-f:]+ 0 [1-9][0-9]* deprecated$" "$info"
wait_for 10 "host address in $C" radv_slaac "$C"
assert_ok "B still usable" radv_slaac "$B"
assert_match "B: still preferred for about 2700 s" "^2001:db8:b:0:[0-9a-f:]+ 2[67][0-9]{2} " "$(radv_addr_info "$B")"
assert_ok "default route stays" radv_defrtr
out=$(e6ctl "$RADV_R" "$conf" ra "$RADV_RIF")
assert_match "edge6ctl ra still lists A (advertised deprecated)" "2001:db8:a::/64" "$out"
assert_match "edge6ctl ra lists C" "2001:db8:c::/64" "$out"

# --- SIGHUP works the same: B leaves
radv_conf_prefixes "$conf" "$C"
kill -HUP "$(radv_pid d)"
wait_for 10 "host address in $B deprecated after SIGHUP" radv_deprecated "$B"
assert_ok "C still usable after SIGHUP" radv_slaac "$C"
assert_ok "A stays deprecated" radv_deprecated "$A"

e6d_stop_sig d TERM
e6_done
