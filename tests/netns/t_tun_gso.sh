#!/usr/bin/env bash
# The TUN offloads of a 6in4 tunnel (tunnel/gso.h): the VPS and the home
# router of lib_tun.sh, TCP between the LAN host and the internet host.
# With offloads (the default): both TUNs say so in `edge6ctl status`; 8 MB
# transfers both ways arrive whole (SHA-256) and bounded iperf3 runs (-n,
# both directions) complete; the counters show that the kernel handed
# super-packets over and that they were cut into more segments
# (gso_packets, gso_segments), that received runs were merged
# (gro_packets, gro_segments) on the side that receives the bulk, and that
# nothing was refused (gso_* reasons, tun_write_errors). Then both daemons
# again with the offloads refused (EDGE6_TUN_OFFLOAD=off, the path a
# kernel refusing TUNSETOFFLOAD takes): the status says off and why, the
# same transfers arrive whole, and no super-packet crossed either TUN.
# Last, a client MTU (1400) below the TUN's (1480): the first segment of a
# super-packet earns the Packet Too Big, the transfer arrives whole.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_edge6d.sh"
. "$(dirname "$0")/lib_radv.sh"
. "$(dirname "$0")/lib_tun.sh"

command -v iperf3 >/dev/null || { fail "iperf3 is not installed (package iperf3)"; exit 1; }

e6d_prepare
tun_topo
tun_home a 198.51.100.2
home=${TUN_HOME[a]}
lan=${TUN_LAN[a]}
vconf=$(e6d_conf vps)
hconf=$(e6d_conf homea)
tun_vps_conf "$vconf" a
tun_home_conf "$hconf" a

e6_bg iperf3-server "$TUN_INET" iperf3 -s -B "$TUN_INET_ADDR" -p 5401
wait_for 5 "iperf3 server" nsx "$TUN_INET" sh -c "ss -ltn | grep -q ':5401'"

# iperf3_n NAME ARGS...: a bounded iperf3 run (32 MB) from the LAN host;
# prints "SENT RECEIVED" bytes (iperf3 may close its count at the receiver
# before the last bytes of a forward -n run are in: the whole-data check
# is tun_xfer's)
iperf3_n() {
    local name=$1 out
    shift
    out=$(nsx "$lan" timeout 60 iperf3 -c "$TUN_INET_ADDR" -p 5401 -n 32M -J "$@" 2>&1)
    printf '%s\n' "$out" >"$E6_WORK/iperf3-$name.json"
    json_get "$out" '"%d %d" % (j["end"]["sum_sent"]["bytes"], j["end"]["sum_received"]["bytes"]) if "error" not in j else "0 0"' 2>/dev/null || echo "0 0"
}

# iperf3_ok PHASE NAME WHAT ARGS...: the run sent 32 MB and at least
# 75 % was counted at the receiver (what is still in the socket buffers
# when the sender ends is not: 10 % and more here)
iperf3_ok() {
    local phase=$1 name=$2 what=$3 r s n
    shift 3
    r=$(iperf3_n "$phase-$name" "$@")
    read -r s n <<<"$r"
    if [ "${s:-0}" -ge 33554432 ] && [ "${n:-0}" -ge 25165824 ]; then
        ok "$phase: iperf3 -n 32M $what: $s bytes sent, $n received"
    else fail "$phase: iperf3 -n 32M $what: ${s:-?} sent, ${n:-?} received (see iperf3-$phase-$name.json)"; fi
}

# transfers PHASE: whole both ways, iperf3 both ways
transfers() {
    local x lanaddr
    lanaddr=$(tun_lan_addr a)
    x=$(tun_xfer "up-$1" "$lan" "$TUN_INET" "$TUN_INET_ADDR" 8000000 5301)
    assert_match "$1: 8 MB LAN host -> internet host arrive whole" \
        "^8000000 ([0-9a-f]{16}) 8000000 \1$" "$x"
    x=$(tun_xfer "down-$1" "$TUN_INET" "$lan" "$lanaddr" 8000000 5302)
    assert_match "$1: 8 MB internet host -> LAN host arrive whole" \
        "^8000000 ([0-9a-f]{16}) 8000000 \1$" "$x"
    iperf3_ok "$1" up "LAN -> internet"
    iperf3_ok "$1" down "-R internet -> LAN" -R
}

# cnt NS CONF NAME: one counter of the tunnel set
cnt() { tun_counter "$1" "$2" "^tunnel.*\\.$3\$"; }

# --- offloads on
tun_start_vps "$vconf"
tun_start_home a "$hconf"
wait_for 10 "home a reaches the server's link address through t6" tun_up a
wait_for 15 "a SLAAC address in $(tun_routed a) on the LAN host" tun_lan_addr a
for side in vps home; do
    if [ $side = vps ]; then ns=$TUN_VPS conf=$vconf; else ns=$home conf=$hconf; fi
    st=$(e6ctl "$ns" "$conf" status)
    printf '%s\n' "$st" >"$E6_WORK/$side-status-on.txt"
    assert_match "$side: status shows the TUN offloads" "offloads: csum,tso6" "$st"
    js=$(tun_status_json "$ns" "$conf")
    assert_match "$side: status --json names the offloads" '"offloads": *"csum,tso6' "$js"
done
transfers on
for side in vps home; do
    if [ $side = vps ]; then ns=$TUN_VPS conf=$vconf; else ns=$home conf=$hconf; fi
    tun_counters_dump "$ns" "$conf" "$side-on"
    gp=$(cnt "$ns" "$conf" gso_packets)
    gs=$(cnt "$ns" "$conf" gso_segments)
    rp=$(cnt "$ns" "$conf" gro_packets)
    rs=$(cnt "$ns" "$conf" gro_segments)
    bad=$(tun_counter "$ns" "$conf" '^tunnel.*\.(gso_(short|not_ipv6|bad_[a-z_]+|not_tcp|too_many_segs|seg_too_big)|tun_write_errors)$')
    if [ "${gp:-0}" -ge 10 ] && [ "${gs:-0}" -gt $((2 * ${gp:-0})) ]; then
        ok "$side: the kernel handed $gp super-packets over, cut into $gs segments"
    else fail "$side: gso_packets ${gp:-?} gso_segments ${gs:-?} (see $side-on.counters)"; fi
    if [ "${rp:-0}" -ge 10 ] && [ "${rs:-0}" -gt $((2 * ${rp:-0})) ]; then
        ok "$side: $rs received segments merged into $rp super-packets"
    else fail "$side: gro_packets ${rp:-?} gro_segments ${rs:-?} (see $side-on.counters)"; fi
    assert_eq "$side: no TUN read refused, no TUN write failed" 0 "${bad:-?}"
done

# --- offloads refused: the same traffic, one packet per system call
tun_stop home_a vps
export EDGE6_TUN_OFFLOAD=off
e6d_start vps_off "$TUN_VPS" "$vconf"
e6d_start home_off "$home" "$hconf"
unset EDGE6_TUN_OFFLOAD
wait_for 10 "home a reaches the server again (offloads off)" tun_up a
wait_for 15 "the LAN host's address again" tun_lan_addr a
for side in vps home; do
    if [ $side = vps ]; then ns=$TUN_VPS conf=$vconf log=vps_off; else ns=$home conf=$hconf log=home_off; fi
    st=$(e6ctl "$ns" "$conf" status)
    printf '%s\n' "$st" >"$E6_WORK/$side-status-off.txt"
    assert_match "$side: status says the offloads are off, and why" \
        "offloads: off \(EDGE6_TUN_OFFLOAD=off\)" "$st"
    assert_match "$side: the log says so once" "TUN offloads off" "$(cat "$E6_WORK/$log.log")"
done
transfers off
for side in vps home; do
    if [ $side = vps ]; then ns=$TUN_VPS conf=$vconf; else ns=$home conf=$hconf; fi
    tun_counters_dump "$ns" "$conf" "$side-off"
    gp=$(cnt "$ns" "$conf" gso_packets)
    rp=$(cnt "$ns" "$conf" gro_packets)
    tx=$(cnt "$ns" "$conf" encap_packets)
    assert_eq "$side: no super-packet crossed the TUN (gso + gro)" 0 "$((${gp:-1} + ${rp:-1}))"
    if [ "${tx:-0}" -ge 20000 ]; then ok "$side: $tx packets encapsulated one by one"
    else fail "$side: encap_packets ${tx:-?} (see $side-off.counters)"; fi
done
tun_stop home_off vps_off

# --- a client MTU below the TUN's: the kernel's super-packets are cut for
# 1480, the first segment is too big for the client's 1400, a Packet Too
# Big goes back and the sender's next super-packets fit
TUN_CLIENT_EXTRA[a]="        mtu = 1400"
tun_vps_conf "$vconf" a
tun_start_vps "$vconf"
tun_start_home a "$hconf"
wait_for 10 "home a reaches the server again (client MTU 1400)" tun_up a
wait_for 15 "the LAN host's address again" tun_lan_addr a
lanaddr=$(tun_lan_addr a)
x=$(tun_xfer down-1400 "$TUN_INET" "$lan" "$lanaddr" 8000000 5303)
assert_match "client MTU 1400: 8 MB internet host -> LAN host arrive whole" \
    "^8000000 ([0-9a-f]{16}) 8000000 \1$" "$x"
tun_counters_dump "$TUN_VPS" "$vconf" vps-1400
ptb=$(cnt "$TUN_VPS" "$vconf" ptb_sent)
gp=$(cnt "$TUN_VPS" "$vconf" gso_packets)
if [ "${ptb:-0}" -ge 1 ] && [ "${gp:-0}" -ge 10 ]; then
    ok "client MTU 1400: $ptb Packet Too Big sent, then $gp super-packets cut for the client"
else fail "client MTU 1400: ptb_sent ${ptb:-?} gso_packets ${gp:-?} (see vps-1400.counters)"; fi
assert_eq "client MTU 1400: the internet host caches 1400 toward the LAN host" 1400 \
    "$(tun_route_mtu "$TUN_INET" "$lanaddr")"
tun_stop home_a vps
e6_done
