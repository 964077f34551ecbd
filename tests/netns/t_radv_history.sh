#!/usr/bin/env bash
# Prefix history across a restart (RFC 9096): edge6d advertises A, stops on
# SIGUSR1 (the restart path: no final RA), the config loses A, and the new
# process deprecates A on the host although A is in no config any more: it
# can only know A from the history it kept in the state directory.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_edge6d.sh"
. "$(dirname "$0")/lib_radv.sh"

A=2001:db8:a::/64
B=2001:db8:b::/64
e6d_prepare
radv_topo
conf=$(e6d_conf history)

radv_conf_prefixes "$conf" "$A" "$B"
radv_start d "$conf"
wait_for 10 "host address in $A" radv_slaac "$A"
wait_for 5 "host address in $B" radv_slaac "$B"
e6d_stop_sig d USR1 3
assert_ok "after SIGUSR1 A is still preferred on the host" radv_slaac "$A"
files=$(find "$E6_STATE" -type f | wc -l)
if [ "$files" -ge 1 ]; then ok "state directory holds $files file(s)"; else fail "state directory is empty"; fi
assert_ok "the history names A" grep -rqF "2001:db8:a::" "$E6_STATE"
assert_nomatch "state files belong to the run user" "^root " \
    "$(find "$E6_STATE" -type f -printf '%u %p\n')"

radv_conf_prefixes "$conf" "$B"
radv_listen l --ifname "$RADV_HIF" --duration 12
t0=$(date +%s%N)
radv_start d "$conf"
wait_for 10 "host address in $A deprecated by the restarted daemon" radv_deprecated "$A"
e6_log "A deprecated $((($(date +%s%N) - t0) / 1000000)) ms after the restart"
assert_match "A: preferred 0, still valid" "^2001:db8:a:0:[0-9a-f:]+ 0 [1-9][0-9]* deprecated$" \
    "$(radv_addr_info "$A")"
assert_ok "B still usable" radv_slaac "$B"
sleep 0.5
assert_eq "the new process advertises A with 0/0 lifetimes" True \
    "$(radv_ras "$E6_WORK/l.json" "any(p['prefix'] == '2001:db8:a::/64' and p['valid'] == 0 and p['preferred'] == 0 for r in ras for p in r['prefixes'])")"
assert_eq "and never A with a non-zero lifetime" False \
    "$(radv_ras "$E6_WORK/l.json" "any(p['prefix'] == '2001:db8:a::/64' and p['valid'] > 0 for r in ras for p in r['prefixes'])")"
assert_match "edge6ctl ra lists the stale prefix A" "2001:db8:a::/64" "$(e6ctl "$RADV_R" "$conf" ra "$RADV_RIF")"

# --- without the history (state directory emptied) A is not advertised
e6d_stop_sig d USR1 3
find "$E6_STATE" -mindepth 1 -delete
radv_listen l2 --ifname "$RADV_HIF" --duration 5
radv_start d "$conf"
timeout 5 ip netns exec "$RADV_H" rdisc6 -1 -w 2000 "$RADV_HIF" >"$E6_WORK/rdisc6.out" 2>&1
sleep 0.5
assert_match "fresh state: rdisc6 sees B" "Prefix +: 2001:db8:b::/64" "$(cat "$E6_WORK/rdisc6.out")"
assert_nomatch "fresh state: A no longer advertised" "2001:db8:a::/64" "$(cat "$E6_WORK/rdisc6.out")"
e6d_stop_sig d TERM
e6_done
