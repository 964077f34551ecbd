#!/usr/bin/env bash
# tests/bench/tun_6in4.sh: iperf3 through edge6d's 6in4 tunnel (userspace,
# TUN + raw protocol-41 socket) against the kernel's own routed path, on
# the same namespaces in the same run (tests/netns/lib_tun.sh: internet
# host, upstream router, VPS, IPv4 router, home router, LAN host):
#
#   routed  no edge6d: IPv6 enabled on the IPv4 links and routed natively
#           VPS -> IPv4 router -> home (the same veths and bridge)
#   no offload  the same with TSO, GSO and GRO off on every link: packets
#           of the wire's size all the way, as the tunnel carries them
#   6in4    those routes removed; edge6d on the VPS (server) and the home
#           router (client) carry the LAN's /64 in protocol 41 instead
#
# Both endpoints' links are set to MTU 1480 so both paths carry packets of
# the same size. Each test runs DUR seconds (default 5) from the LAN host
# to the internet host: TCP 1 stream, TCP 2 streams, TCP 1 stream reversed
# (internet -> LAN), UDP with 64-byte payloads unpaced (-b 0; received
# packets/s). Printed: each result, the ratio 6in4/routed, and the CPU of
# both edge6d processes over each test (utime+stime from /proc/PID/stat, %
# of one core; threads included), and after each round what the TUN
# offloads did on both ends (gso/gro/csum counters) and anything lost
# (rx_truncated, send_errors, tun_write_errors). Not pass/fail. Needs root
# and iperf3:
#   sudo E6_BUILDDIR=/tmp/b tests/bench/tun_6in4.sh
# Environment: DUR (5), ROUNDS (1: the whole comparison repeated).
. "$(dirname "$0")/../netns/lib.sh"
. "$(dirname "$0")/../netns/lib_edge6d.sh"
. "$(dirname "$0")/../netns/lib_radv.sh"
. "$(dirname "$0")/../netns/lib_tun.sh"
. "$(dirname "$0")/lib_bench.sh"

DUR=${DUR:-5}
ROUNDS=${ROUNDS:-1}
command -v iperf3 >/dev/null || { fail "iperf3 is not installed (package iperf3)"; exit 1; }

e6d_prepare
TUN_LOG_LEVEL=notice
tun_topo
tun_home a 198.51.100.2
home=${TUN_HOME[a]}
lan=${TUN_LAN[a]}
LANADDR=2001:db8:9:10::100
# the LAN host: a static address (no RA in the routed runs), same MTU both ways
nsx "$lan" sysctl -qw net.ipv6.conf.eth0.accept_ra=0
nsx "$lan" ip -6 addr add "$LANADDR/64" dev eth0 nodad
nsx "$lan" ip -6 route add default via "$(tun_home_lan_addr a)" dev eth0
nsx "$lan" ip link set eth0 mtu 1480
nsx "$TUN_INET" ip link set i0 mtu 1480

# the native path: IPv6 on the IPv4 links, static routes both ways
routed_on() {
    nsx "$TUN_VPS" sysctl -qw net.ipv6.conf.wan0.disable_ipv6=0
    nsx "$home" sysctl -qw net.ipv6.conf.wan0.disable_ipv6=0
    nsx "$TUN_WAN" sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.w0.disable_ipv6=0 \
        net.ipv6.conf.br0.disable_ipv6=0 net.ipv6.conf.wha.disable_ipv6=0 net.ipv6.conf.all.forwarding=1
    nsx "$TUN_VPS" ip -6 addr replace 2001:db8:ff00::1/64 dev wan0 nodad
    nsx "$TUN_WAN" ip -6 addr replace 2001:db8:ff00::2/64 dev w0 nodad
    nsx "$TUN_WAN" ip -6 addr replace 2001:db8:ff01::2/64 dev br0 nodad
    nsx "$home" ip -6 addr replace 2001:db8:ff01::1/64 dev wan0 nodad
    # the provider routes the /64 to the VPS (no proxy runs in this mode)
    nsx "$TUN_UP" ip -6 route replace 2001:db8:9:10::/64 via "$TUN_VPS_ADDR" dev u0
    nsx "$TUN_VPS" ip -6 route replace 2001:db8:9:10::/64 via 2001:db8:ff00::2 dev wan0
    nsx "$TUN_WAN" ip -6 route replace 2001:db8:9:10::/64 via 2001:db8:ff01::1 dev br0
    nsx "$TUN_WAN" ip -6 route replace default via 2001:db8:ff00::1 dev w0
    nsx "$home" ip -6 route replace default via 2001:db8:ff01::2 dev wan0
}
routed_off() {
    nsx "$TUN_UP" ip -6 route del 2001:db8:9:10::/64 via "$TUN_VPS_ADDR" dev u0
    nsx "$TUN_VPS" ip -6 route del 2001:db8:9:10::/64 via 2001:db8:ff00::2 dev wan0
    nsx "$home" ip -6 route del default via 2001:db8:ff01::2 dev wan0
    nsx "$TUN_VPS" sysctl -qw net.ipv6.conf.wan0.disable_ipv6=1
    nsx "$home" sysctl -qw net.ipv6.conf.wan0.disable_ipv6=1
}

# offloads 0|1: TSO, GSO and GRO off/on on every link of the path
offloads() {
    tun_link_offloads "$TUN_INET" "$1" i0
    tun_link_offloads "$TUN_UP" "$1" u1 u0
    tun_link_offloads "$TUN_VPS" "$1" eth0 wan0
    tun_link_offloads "$TUN_WAN" "$1" w0 br0 wha
    tun_link_offloads "$home" "$1" wan0 lan0
    tun_link_offloads "$lan" "$1" eth0
}

e6_bg iperf3-server "$TUN_INET" iperf3 -s -B "$TUN_INET_ADDR"
wait_for 5 "iperf3 server" nsx "$TUN_INET" sh -c "ss -ltn | grep -q ':5201'"

PIDS=()
# run MODE NAME ARGS...: one iperf3 client run from the LAN host; prints
# the figure (Mbit/s received, or packets/s received for UDP) and the CPU
# of the edge6d processes in PIDS.
declare -A RES CPU
run() {
    local mode=$1 name=$2 out v c
    shift 2
    bench_cpu_start "${PIDS[@]}"
    out=$(nsx "$lan" timeout $((DUR + 20)) iperf3 -c "$TUN_INET_ADDR" -B "$LANADDR" -t "$DUR" -J "$@" 2>&1)
    c=$(bench_cpu_end "${PIDS[@]}")
    printf '%s\n' "$out" >"$E6_WORK/iperf3-$mode-$name.json"
    v=$(bench_iperf3 "$out")
    # UDP: packets/s received of 64-byte payloads, and what was sent
    [ "${v#* }" = - ] && v=${v% *} || v="${v% *} (sent ${v#* })"
    RES[$mode.$name]=$v
    CPU[$mode.$name]=$c
    e6_log "$mode $name: $v ${c:+(edge6d CPU % vps/home: $c)}"
}


tests() {
    local mode=$1
    run "$mode" tcp1 -P 1
    run "$mode" tcp2 -P 2
    run "$mode" tcp1R -P 1 -R
    run "$mode" udp64 -u -l 64 -b 0
}

for round in $(seq "$ROUNDS"); do
    e6_log "round $round: routed (the kernel's own path)"
    routed_on
    wait_for 10 "the LAN host reaches the internet host natively" tun_ping "$lan" "$TUN_INET_ADDR"
    PIDS=()
    tests routed
    e6_log "round $round: routed, offloads (TSO, GSO, GRO) off on every link"
    offloads 0
    tests nooff
    offloads 1
    routed_off

    e6_log "round $round: 6in4 (edge6d)"
    vconf=$(e6d_conf vps)
    hconf=$(e6d_conf homea)
    tun_vps_conf "$vconf" a
    tun_home_conf "$hconf" a
    tun_start_vps "$vconf"
    tun_start_home a "$hconf"
    wait_for 10 "home a's tunnel up" tun_up a
    wait_for 10 "the LAN host reaches the internet host through the tunnel" tun_ping "$lan" "$TUN_INET_ADDR"
    PIDS=("$E6D_PID_vps" "$E6D_PID_home_a")
    tests 6in4
    tun_counters_dump "$TUN_VPS" "$vconf" "vps-round$round"
    tun_counters_dump "$home" "$hconf" "home-round$round"
    # what the offloads did, and anything lost on the way
    for side in vps home; do
        if [ $side = vps ]; then ns=$TUN_VPS conf=$vconf; else ns=$home conf=$hconf; fi
        line=""
        for c in gso_packets gso_segments csum_completed gro_packets gro_segments rx_truncated \
            send_errors tun_write_errors; do
            line+=" $c=$(tun_counter "$ns" "$conf" "^tunnel.*\\.$c\$")"
        done
        e6_log "round $round $side counters:$line"
    done
    tun_stop vps home_a

    printf '\nround %s, %s s per test, %s cores (%s)\n' "$round" "$DUR" "$(nproc)" "$(uname -r)"
    printf '%-28s %12s %12s %12s %7s %7s   %s\n' test routed "no offload" 6in4 ratio "ratio/no" \
        "edge6d CPU % (vps/home)"
    for t in tcp1 tcp2 tcp1R udp64; do
        case $t in
        tcp1) label="TCP 1 stream (Mbit/s)" ;;
        tcp2) label="TCP 2 streams (Mbit/s)" ;;
        tcp1R) label="TCP 1 stream, reverse" ;;
        udp64) label="UDP 64 B received (pkt/s)" ;;
        esac
        r=${RES[routed.$t]%% *} n=${RES[nooff.$t]%% *} u=${RES[6in4.$t]%% *}
        printf '%-28s %12s %12s %12s %7s %7s   %s\n' "$label" "$r" "$n" "$u" "$(bench_ratio "$u" "$r")" \
            "$(bench_ratio "$u" "$n")" "${CPU[6in4.$t]}"
    done
    echo
done
ok "bench done"
e6_done
