#!/usr/bin/env bash
# tests/bench/tun_6bed4.sh: iperf3 through edge6d's 6bed4 router (userspace,
# TUN + UDP socket, peers behind nftables NATs) against the kernel's own
# routed path, on the same namespaces in the same run
# (tests/netns/lib_6bed4.sh: internet host, upstream router, VPS, IPv4
# router, two NATs, two peers):
#
#   routed  no edge6d: IPv6 enabled on the IPv4 links, each peer holds a
#           native address (2001:db8:9:10:a::1, :b::1) routed by the
#           kernels via link-local next hops VPS -> IPv4 router -> NAT ->
#           peer; peer to peer goes the way the hair-pin goes: the IPv4
#           router sends what comes from one NAT for the other peer up to
#           the VPS (a policy rule), whose kernel routes it back down
#   no offload  the same with TSO, GSO and GRO off on every link: the
#           kernel's path packet by packet, as 6bed4 was before its UDP
#           socket took UDP_SEGMENT and UDP_GRO
#   6bed4   those routes removed; edge6d on the VPS (router, the proxy on
#           eth0) and on both peers carry the traffic in UDP through the
#           NATs; peer to peer is hair-pinned inside the VPS's edge6d
#
# Every path carries IPv6 packets of at most 1280 bytes (the 6bed4 link
# MTU; the routed runs use routes with mtu 1280). Each test runs DUR
# seconds (default 4), REPS times (default 3), and prints the median:
# TCP 1 stream peer a -> internet, internet -> peer a (-R), peer a -> peer
# b; UDP with 64-byte payloads unpaced (-b 0; received packets/s, and what
# the sender managed) peer a -> internet and peer a -> peer b. Printed:
# each median, the ratios 6bed4/routed and 6bed4/no offload, and the CPU
# of the three edge6d processes over each test
# (utime+stime from /proc/PID/stat, % of one core; threads included). Not
# pass/fail. Needs root, nftables and iperf3:
#   sudo E6_BUILDDIR=/tmp/b tests/bench/tun_6bed4.sh
. "$(dirname "$0")/../netns/lib.sh"
. "$(dirname "$0")/../netns/lib_edge6d.sh"
. "$(dirname "$0")/../netns/lib_radv.sh"
. "$(dirname "$0")/../netns/lib_tun.sh"
. "$(dirname "$0")/../netns/lib_6bed4.sh"
. "$(dirname "$0")/lib_bench.sh"

DUR=${DUR:-4}
REPS=${REPS:-3}
command -v iperf3 >/dev/null || { fail "iperf3 is not installed (package iperf3)"; exit 1; }

e6d_prepare
# shellcheck disable=SC2034 # read by lib_6bed4.sh
B4_LOG_LEVEL=notice
b4_topo
b4_nat a
b4_nat b
pa=${B4_PEER[a]}
pb=${B4_PEER[b]}
declare -A NATIVE=([a]=2001:db8:9:10:a::1 [b]=2001:db8:9:10:b::1)
nsx "$B4_INET" ip -6 route replace default via "$B4_UP_INET" dev i0 mtu 1280

ll() { radv_ll_of "$1" "$2"; }
v6on() {
    local ns=$1 i
    shift
    nsx "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.all.forwarding=1
    for i in "$@"; do nsx "$ns" sysctl -qw "net.ipv6.conf.$i.disable_ipv6=0"; done
}
# the native path: IPv6 on the IPv4 links, routes by link-local next hops
routed_on() {
    local id n
    v6on "$B4_VPS" wan0
    v6on "$B4_WAN" w0 wa wb
    for id in a b; do
        v6on "${B4_NAT[$id]}" wan0 lan0
        nsx "${B4_PEER[$id]}" sysctl -qw net.ipv6.conf.eth0.disable_ipv6=0
    done
    wait_for 5 "wan's link-local on w0" ll "$B4_WAN" w0
    wait_for 5 "vps's link-local on wan0" ll "$B4_VPS" wan0
    nsx "$B4_UP" ip -6 route replace "$B4_PREFIX" via "$(ll "$B4_VPS" eth0)" dev u0
    nsx "$B4_WAN" ip -6 route replace default via "$(ll "$B4_VPS" wan0)" dev w0
    for id in a b; do
        n=wa
        [ $id = b ] && n=wb
        wait_for 5 "nat $id's link-locals" ll "${B4_NAT[$id]}" lan0
        wait_for 5 "peer $id's link-local" ll "${B4_PEER[$id]}" eth0
        wait_for 5 "wan's link-local on $n" ll "$B4_WAN" $n
        nsx "${B4_PEER[$id]}" ip -6 addr add "${NATIVE[$id]}/128" dev eth0 nodad
        nsx "${B4_PEER[$id]}" ip -6 route replace default via "$(ll "${B4_NAT[$id]}" lan0)" dev eth0 mtu 1280
        nsx "${B4_NAT[$id]}" ip -6 route replace "${NATIVE[$id]}" via "$(ll "${B4_PEER[$id]}" eth0)" dev lan0
        nsx "${B4_NAT[$id]}" ip -6 route replace default via "$(ll "$B4_WAN" $n)" dev wan0
        nsx "$B4_WAN" ip -6 route replace "${NATIVE[$id]}" via "$(ll "${B4_NAT[$id]}" wan0)" dev $n
        nsx "$B4_VPS" ip -6 route replace "${NATIVE[$id]}" via "$(ll "$B4_WAN" w0)" dev wan0
        # peer to peer through the VPS, like the hair-pin
        nsx "$B4_WAN" ip -6 route replace "${NATIVE[$id]}" via "$(ll "$B4_VPS" wan0)" dev w0 table 100
    done
    nsx "$B4_WAN" ip -6 rule add iif wa to "${NATIVE[b]}" table 100
    nsx "$B4_WAN" ip -6 rule add iif wb to "${NATIVE[a]}" table 100
}
routed_off() {
    local id
    nsx "$B4_UP" ip -6 route replace "$B4_PREFIX" dev u0
    for id in a b; do
        nsx "$B4_VPS" ip -6 route del "${NATIVE[$id]}" 2>/dev/null
        nsx "${B4_PEER[$id]}" ip -6 route del default 2>/dev/null
        nsx "${B4_PEER[$id]}" ip -6 addr del "${NATIVE[$id]}/128" dev eth0
        nsx "${B4_PEER[$id]}" sysctl -qw net.ipv6.conf.eth0.disable_ipv6=1
        nsx "${B4_NAT[$id]}" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
    done
    nsx "$B4_VPS" sysctl -qw net.ipv6.conf.wan0.disable_ipv6=1
    nsx "$B4_WAN" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
}

# offloads 0|1: TSO, GSO and GRO off/on on every link of the paths
offloads() {
    local id
    tun_link_offloads "$B4_INET" "$1" i0
    tun_link_offloads "$B4_UP" "$1" u1 u0
    tun_link_offloads "$B4_VPS" "$1" eth0 wan0
    tun_link_offloads "$B4_WAN" "$1" w0 wa wb
    for id in a b; do
        tun_link_offloads "${B4_NAT[$id]}" "$1" wan0 lan0
        tun_link_offloads "${B4_PEER[$id]}" "$1" eth0
    done
}

e6_bg iperf3-inet "$B4_INET" iperf3 -s -B "$B4_INET_ADDR" -p 5201
e6_bg iperf3-peerb "$pb" iperf3 -s -p 5202
wait_for 5 "iperf3 server (inet)" nsx "$B4_INET" sh -c "ss -ltn | grep -q ':5201'"
wait_for 5 "iperf3 server (peer b)" nsx "$pb" sh -c "ss -ltn | grep -q ':5202'"

PIDS=()
declare -A RES CPU SENT
# one MODE NAME DST PORT ARGS...: one iperf3 client run from peer a; prints
# the figure (Mbit/s received, or packets/s received for UDP) and the CPU
# of the edge6d processes in PIDS
one() {
    local mode=$1 name=$2 dst=$3 port=$4 out v c
    shift 4
    bench_cpu_start "${PIDS[@]}"
    out=$(nsx "$pa" timeout $((DUR + 20)) iperf3 -c "$dst" -p "$port" -t "$DUR" -J "$@" 2>&1)
    c=$(bench_cpu_end "${PIDS[@]}")
    printf '%s\n' "$out" >>"$E6_WORK/iperf3-$mode-$name.json"
    v=$(bench_iperf3 "$out")
    echo "${v% *} ${c:--} ${v#* }"
}
# run MODE NAME DST PORT ARGS...: REPS runs, the median (and the CPU of that run)
run() {
    local mode=$1 name=$2 i r all=()
    for i in $(seq "$REPS"); do
        r=$(one "$@")
        all+=("$r")
        e6_log "$mode $name run $i: $r"
    done
    r=$(printf '%s\n' "${all[@]}" | sort -n | awk '{a[NR] = $0} END {print a[int((NR + 1) / 2)]}')
    local v c x
    read -r v c x <<<"$r"
    RES[$mode.$name]=$v
    CPU[$mode.$name]=$c
    SENT[$mode.$name]=$x
}

tests() {
    local mode=$1 pa_dst=$2 pb_dst=$3
    run "$mode" p2i "$pa_dst" 5201 -P 1
    run "$mode" i2p "$pa_dst" 5201 -P 1 -R
    run "$mode" p2p "$pb_dst" 5202 -P 1
    run "$mode" udp_p2i "$pa_dst" 5201 -u -l 64 -b 0
    run "$mode" udp_p2p "$pb_dst" 5202 -u -l 64 -b 0
}

e6_log "routed (the kernel's own path)"
routed_on
wait_for 10 "peer a reaches the internet host natively" tun_ping "$pa" "$B4_INET_ADDR"
wait_for 10 "peer a reaches peer b natively" tun_ping "$pa" "${NATIVE[b]}"
# b 64, NAT b, IPv4 router, VPS, IPv4 router, NAT a: 59 at peer a
e6_log "routed peer a -> peer b: $(nsx "$pa" ping -6 -n -c 1 -W 2 "${NATIVE[b]}" | grep -o 'ttl=[0-9]*') (59: through the VPS)"
PIDS=()
tests routed "$B4_INET_ADDR" "${NATIVE[b]}"
e6_log "routed, offloads (TSO, GSO, GRO) off on every link"
offloads 0
tests nooff "$B4_INET_ADDR" "${NATIVE[b]}"
offloads 1
routed_off

e6_log "6bed4 (edge6d)"
vconf=$(e6d_conf vps)
b4_vps_conf "$vconf"
b4_start_vps "$vconf"
for id in a b; do
    b4_peer_conf "$(e6d_conf "peer$id")" $id
    b4_start_peer $id "$(e6d_conf "peer$id")"
    wait_for 15 "peer $id's address" b4_addr $id
done
wait_for 10 "peer a reaches the internet host through 6bed4" tun_ping "$pa" "$B4_INET_ADDR"
wait_for 10 "peer a reaches peer b through the hair-pin" tun_ping "$pa" "$(b4_addr b)"
PIDS=("$E6D_PID_vps" "$E6D_PID_peer_a" "$E6D_PID_peer_b")
tests 6bed4 "$B4_INET_ADDR" "$(b4_addr b)"
tun_counters_dump "$B4_VPS" "$vconf" vps
tun_stop peer_a peer_b vps

printf '\n6bed4 vs routed: %s s per test, median of %s, %s cores (%s)\n' "$DUR" "$REPS" "$(nproc)" "$(uname -r)"
printf '%-34s %9s %10s %9s %6s %8s   %-12s %s\n' test routed "no offload" 6bed4 ratio ratio/no "edge6d CPU %" "UDP sent pkt/s"
printf '%-34s %9s %10s %9s %6s %8s   %-12s %s\n' "" "" "" "" "" "" "vps/a/b" "routed / 6bed4"
for t in p2i i2p p2p udp_p2i udp_p2p; do
    case $t in
    p2i) label="TCP peer a -> internet (Mbit/s)" ;;
    i2p) label="TCP internet -> peer a (Mbit/s)" ;;
    p2p) label="TCP peer a -> peer b (Mbit/s)" ;;
    udp_p2i) label="UDP 64 B peer a -> inet (pkt/s)" ;;
    udp_p2p) label="UDP 64 B peer a -> peer b (pkt/s)" ;;
    esac
    r=${RES[routed.$t]} n=${RES[nooff.$t]} u=${RES[6bed4.$t]}
    sent=""
    [ "${SENT[routed.$t]}" = - ] || sent="${SENT[routed.$t]} / ${SENT[6bed4.$t]}"
    printf '%-34s %9s %10s %9s %6s %8s   %-12s %s\n' "$label" "$r" "$n" "$u" "$(bench_ratio "$u" "$r")" \
        "$(bench_ratio "$u" "$n")" "${CPU[6bed4.$t]}" "$sent"
done
echo
ok "bench done"
e6_done
