#!/usr/bin/env bash
# Stopping: SIGUSR1 (the restart path) exits at once without a final RA, so
# the host keeps its default route; SIGTERM sends 3 final RAs with router
# lifetime 0, 3 s apart (RFC 4861 6.2.5, 6.2.6), and the host's default
# route goes with the first one. withdraw-on-exit also zeroes the prefix
# lifetimes, and the host's address is deprecated.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_edge6d.sh"
. "$(dirname "$0")/lib_radv.sh"

A=2001:db8:1::/64
e6d_prepare
radv_topo
conf=$(e6d_conf shutdown)
write_conf() {
    radv_conf_head "$conf"
    cat >>"$conf" <<CONF
interface $RADV_RIF {
    max-interval = 4
    min-interval = 3
    router-lifetime = 600
    withdraw-on-exit = $1
    prefix $A {
    }
    rdnss {
        servers = { "2001:db8::53" }
    }
}
CONF
}
write_conf no
rll=$(radv_router_ll)

# --- SIGUSR1: no final RA, the host keeps its router
radv_start d "$conf"
wait_for 10 "default route on the host" radv_defrtr
radv_listen usr1 --ifname "$RADV_HIF" --duration 4
t0=$(date +%s%N)
e6d_stop_sig d USR1 3
e6_log "SIGUSR1 exit took $((($(date +%s%N) - t0) / 1000000)) ms"
sleep 3
assert_eq "after SIGUSR1: default route still via the router" "$rll" "$(radv_defrtr)"
assert_eq "after SIGUSR1: no RA with router lifetime 0" 0 \
    "$(radv_ras "$E6_WORK/usr1.json" "sum(1 for r in ras if r['router_lifetime'] == 0)")"
assert_ok "after SIGUSR1: address still usable" radv_slaac "$A"

# --- SIGTERM: 3 final RAs 3 s apart, the default route goes
radv_start d "$conf"
radv_listen term --ifname "$RADV_HIF" --duration 14
# at least one RA of the new process before it stops
wait_for 10 "an RA of the restarted daemon" grep -q router_lifetime "$E6_WORK/term.json"
t0=$(date +%s%N)
kill -TERM "$(radv_pid d)"
wait_for 5 "default route gone after SIGTERM" radv_no_defrtr
e6_log "default route gone $((($(date +%s%N) - t0) / 1000000)) ms after SIGTERM"
e6d_stop_sig d TERM 12
wait "$RADV_LISTEN_PID" 2>/dev/null
finals="[r for r in ras if r['router_lifetime'] == 0]"
assert_eq "SIGTERM: 3 final RAs" 3 "$(radv_ras "$E6_WORK/term.json" "len(${finals})")"
assert_eq "final RAs to all-nodes" "['ff02::1', 'ff02::1', 'ff02::1']" \
    "$(radv_ras "$E6_WORK/term.json" "[r['dst'] for r in ${finals}]")"
gaps=$(radv_ras "$E6_WORK/term.json" "' '.join('%.2f' % (b['t'] - a['t']) for a, b in zip(${finals}, ${finals}[1:]))")
e6_log "gaps between final RAs: $gaps s"
assert_eq "final RAs at least 3 s apart (10 ms slack)" True \
    "$(radv_ras "$E6_WORK/term.json" "all(b['t'] - a['t'] >= 2.99 for a, b in zip(${finals}, ${finals}[1:]))")"
assert_eq "final RAs not more than 4 s apart" True \
    "$(radv_ras "$E6_WORK/term.json" "all(b['t'] - a['t'] <= 4.0 for a, b in zip(${finals}, ${finals}[1:]))")"
assert_eq "no RA after the final ones" 0 \
    "$(radv_ras "$E6_WORK/term.json" "sum(1 for r in ras if r['router_lifetime'] and r['t'] > ${finals}[0]['t'])")"
assert_eq "without withdraw-on-exit the prefix keeps its lifetimes" True \
    "$(radv_ras "$E6_WORK/term.json" "all(p['valid'] > 0 for r in ${finals} for p in r['prefixes'])")"
assert_ok "without withdraw-on-exit the address stays usable" radv_slaac "$A"

# --- SIGTERM with withdraw-on-exit: prefix and DNS lifetimes 0 as well
write_conf yes
radv_start d "$conf"
wait_for 10 "default route back" radv_defrtr
radv_listen wd --ifname "$RADV_HIF" --duration 12
kill -TERM "$(radv_pid d)"
wait_for 5 "host address deprecated (withdraw-on-exit)" radv_deprecated "$A"
wait_for 2 "default route gone" radv_no_defrtr
e6d_stop_sig d TERM 12
wait "$RADV_LISTEN_PID" 2>/dev/null
assert_eq "withdraw-on-exit: 3 final RAs" 3 "$(radv_ras "$E6_WORK/wd.json" "len(${finals})")"
assert_eq "withdraw-on-exit: prefixes with 0/0 lifetimes" True \
    "$(radv_ras "$E6_WORK/wd.json" "all(p['valid'] == 0 and p['preferred'] == 0 for r in ${finals} for p in r['prefixes']) and all(r['prefixes'] for r in ${finals})")"
assert_eq "withdraw-on-exit: RDNSS lifetime 0" True \
    "$(radv_ras "$E6_WORK/wd.json" "all(d['lifetime'] == 0 for r in ${finals} for d in r['rdnss'])")"
e6_done
