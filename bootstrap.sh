#!/usr/bin/env bash
# bootstrap.sh: the two commands of the README.
#
#   sudo ./bootstrap.sh check   install what is needed, build with gcc and
#                               clang, run unit, netns, sanitizer and fuzz
#                               tests, make distcheck, build the .deb, run
#                               lintian and install-test the package
#   sudo ./bootstrap.sh demo    install what is needed, build, and run
#                               edge6d in a network-namespace lab
#
# Build directories: build-gcc/, build-clang/, build-asan/, build-fuzz/.
# Environment: JOBS (default: number of cores), FUZZ_SECONDS (default 20),
# E6_SKIP_DEPS=1 to skip apt-get.
set -u
set -o pipefail

top=$(cd "$(dirname "$0")" && pwd)
cd "$top"
JOBS=${JOBS:-$(nproc)}
FUZZ_SECONDS=${FUZZ_SECONDS:-20}

# Debian 12 packages: build tools and libraries, then the real clients the
# tests check us against.
BUILD_DEPS=(build-essential autoconf automake pkg-config clang libclang-rt-14-dev
    libpcap-dev libnl-3-dev libnl-route-3-dev libconfuse-dev libsystemd-dev
    libcap-dev libcmocka-dev)
TEST_DEPS=(iproute2 iputils-ping nftables ndisc6 radvd radvdump tshark iperf3 python3 procps psmisc
    valgrind clang-format)
PKG_DEPS=(debhelper devscripts dpkg-dev fakeroot lintian adduser)

say() { printf '\n=== %s\n' "$*"; }
die() {
    echo "bootstrap: $*" >&2
    exit 1
}

need_root() {
    [ "$(id -u)" -eq 0 ] || die "run as root (sudo ./bootstrap.sh $1): the tests use network namespaces"
}

install_deps() {
    [ "${E6_SKIP_DEPS:-0}" = 1 ] && return 0
    local missing=()
    local p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    say "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # wireshark-common asks whether non-root users may capture; keep the default
    echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
    apt-get update -qq || die "apt-get update failed"
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
        die "apt-get install failed"
}

autogen() {
    # out-of-tree builds need an unconfigured source tree
    if [ -f config.status ]; then
        say "source tree was configured in place; make distclean"
        make distclean >/dev/null 2>&1 || rm -f config.status config.h Makefile
    fi
    if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt Makefile.in ]; then
        say "autoreconf"
        autoreconf -fi >/dev/null || die "autoreconf failed"
    fi
}

# build DIR [configure args...]
build() {
    local dir=$1
    shift
    mkdir -p "$top/$dir"
    (cd "$top/$dir" && { [ -f Makefile ] || "$top/configure" "$@" >configure.out 2>&1 ||
        { cat configure.out; exit 1; }; } && make -j"$JOBS" >make.out 2>&1 ||
        { tail -50 make.out; exit 1; })
}

# --- check -----------------------------------------------------------------

passed=0
failed=0
failures=()
stage() {
    local name=$1
    shift
    say "$name"
    local start=$SECONDS
    if "$@"; then
        passed=$((passed + 1))
        echo "--- $name: ok ($((SECONDS - start))s)"
    else
        failed=$((failed + 1))
        failures+=("$name")
        echo "--- $name: FAILED ($((SECONDS - start))s)"
    fi
}

unit_tests() {
    local dir=$1
    (cd "$top/$dir" && make -j"$JOBS" check >check.out 2>&1) && {
        grep -E '^(# )?(TOTAL|PASS|FAIL|ERROR):' "$top/$dir/check.out" | tail -8
        return 0
    }
    grep -E '^(FAIL|ERROR)' "$top/$dir/check.out"
    for log in "$top/$dir"/tests/unit/*.log; do
        grep -q -E '^\[  (FAILED|ERROR) |FAIL|ERROR' "$log" 2>/dev/null && { echo "--- $log"; tail -40 "$log"; }
    done
    return 1
}

netns_tests() {
    local dir=$1
    # the netns test binaries are check_PROGRAMS: make sure they are built
    (cd "$top/$dir" && make -j"$JOBS" check TESTS= >/dev/null 2>&1)
    # two at a time: most of a netns test is waiting on the kernel and on timers
    E6_NETNS_JOBS=${E6_NETNS_JOBS:-2} E6_BUILDDIR="$top/$dir" "$top/tests/netns/run.sh"
}

fuzz_run() {
    local ok=0 f name corpus
    for f in "$top"/build-fuzz/tests/fuzz/fuzz_*; do
        [ -x "$f" ] || continue
        name=$(basename "$f")
        corpus="$top/build-fuzz/corpus-$name"
        mkdir -p "$corpus"
        [ -d "$top/tests/fuzz/corpus_${name#fuzz_}" ] && cp -n "$top/tests/fuzz/corpus_${name#fuzz_}"/* "$corpus/" 2>/dev/null
        if "$f" -max_total_time="$FUZZ_SECONDS" -print_final_stats=0 "$corpus" >"$top/build-fuzz/$name.out" 2>&1; then
            echo "$name: $(grep -o 'Done [0-9]* runs' "$top/build-fuzz/$name.out" | tail -1) in ${FUZZ_SECONDS}s, no findings"
        else
            echo "$name: FINDING"
            tail -40 "$top/build-fuzz/$name.out"
            ok=1
        fi
    done
    return $ok
}

distcheck() {
    (cd "$top/build-gcc" && make -j"$JOBS" distcheck >distcheck.out 2>&1) || {
        tail -40 "$top/build-gcc/distcheck.out"
        return 1
    }
    grep -E 'archives ready|\.tar\.gz' "$top/build-gcc/distcheck.out" | head -3
}

deb_and_lintian() {
    (cd "$top/build-gcc" && make lintian >deb.out 2>&1) || {
        tail -40 "$top/build-gcc/deb.out"
        return 1
    }
    ls -1 "$top"/build-gcc/packaging/out/*.deb
    grep -E '^[EW]: ' "$top/build-gcc/deb.out" || echo "lintian: no errors or warnings"
}

# Install the package, check the service's config and unit, then purge it so
# the machine is left as it was.
deb_install() {
    local deb
    deb=$(ls "$top"/build-gcc/packaging/out/edge6_*.deb 2>/dev/null | head -1)
    [ -n "$deb" ] || { echo "no .deb built"; return 1; }
    local had_user=0
    getent passwd edge6 >/dev/null && had_user=1
    local rc=0
    dpkg -i "$deb" >/dev/null || rc=1
    if [ $rc -eq 0 ]; then
        /usr/sbin/edge6d -t -c /etc/edge6/edge6d.conf || rc=1
        getent passwd edge6 >/dev/null || { echo "user edge6 was not created"; rc=1; }
        dpkg-query -W -f='${Conffiles}\n' edge6 | grep -q /etc/edge6/edge6d.conf ||
            { echo "/etc/edge6/edge6d.conf is not a conffile"; rc=1; }
        systemd-analyze verify /lib/systemd/system/edge6d.service || rc=1
        /usr/sbin/edge6ctl --help >/dev/null || rc=1
        man -w edge6d edge6ctl edge6d.conf >/dev/null 2>&1 ||
            [ -f /usr/share/man/man8/edge6d.8.gz ] || { echo "man pages missing"; rc=1; }
    fi
    dpkg --purge edge6 >/dev/null || rc=1
    [ $had_user -eq 1 ] || userdel edge6 2>/dev/null
    [ $rc -eq 0 ] && echo "installed, edge6d -t on the conffile passed, unit verified, purged"
    return $rc
}

sanitizer_logs_clean() {
    # the netns tests fail on sanitizer reports in the daemon's log already;
    # this catches reports from any other program they ran
    ! grep -rlE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$top/tests/netns/logs" 2>/dev/null
}

cmd_check() {
    need_root check
    install_deps "${BUILD_DEPS[@]}" "${TEST_DEPS[@]}" "${PKG_DEPS[@]}"
    autogen
    rm -rf "$top/tests/netns/logs"
    stage "build (gcc, -Werror)" build build-gcc --enable-werror
    stage "build (clang, -Werror)" build build-clang --enable-werror CC=clang
    stage "layering" "$top/../shared/tools/check-layering" "$top"
    stage "format (clang-format)" make -s -C "$top/build-gcc" check-format
    stage "unit tests (gcc)" unit_tests build-gcc
    stage "unit tests (clang)" unit_tests build-clang
    stage "netns tests (gcc)" netns_tests build-gcc
    stage "build (ASan+UBSan)" build build-asan --enable-werror --enable-sanitizers CC=clang
    stage "unit tests (ASan+UBSan)" unit_tests build-asan
    stage "netns tests (ASan+UBSan)" netns_tests build-asan
    stage "sanitizer reports" sanitizer_logs_clean
    stage "build (libFuzzer)" build build-fuzz --enable-fuzz CC=clang
    stage "fuzz (${FUZZ_SECONDS}s per target)" fuzz_run
    stage "make distcheck" distcheck
    stage "deb + lintian" deb_and_lintian
    stage "deb install" deb_install
    echo
    [ $failed -eq 0 ] || echo "failed stages: ${failures[*]}"
    echo "check: $passed passed, $failed failed"
    [ $failed -eq 0 ]
}

# --- demo ------------------------------------------------------------------

# demo_conf DIR vps|home|peer: the embedded configs of the lab, one per
# edge6d (the example's two roles, conf/edge6d.conf, with the lab's
# addresses, and a 6bed4 peer behind NAT)
demo_conf() {
    cat <<EOF
# edge6 demo, role "$2" (see conf/edge6d.conf for every key)
user = "nobody"
control-socket = "$1/run/$2.sock"
state-directory = "$1/state/$2"
log-level = "info"
EOF
    case $2 in
    vps)
        cat <<'EOF'

# The provider routes 2001:db8:9:10::/64 to eth0 and solicits every address
# of it: answer for what the tunnel's client owns, never for our own ::1.
proxy eth0 {
    rule 2001:db8:9:10::/64 {
        method = tunnel
        tunnel = tun-home
    }
    rule 2001:db8:9:10::1/128 {
        method = exclude
    }
    # the 6bed4 peers' /64: answer for the live peers of tun-peers only
    rule 2001:db8:9:11::/64 {
        method = 6bed4
        tunnel = tun-peers
    }
}

# 6in4 server (protocol 41 over IPv4): the home router is its client.
tunnel tun-home {
    type = 6in4
    mode = server
    local = 192.0.2.1
    client home {
        remote = 203.0.113.2
        client-address = "2001:db8:9:1::2/64"
        routed-prefixes = { "2001:db8:9:10::/64" }
    }
}

# 6bed4 router (IPv6 in UDP over IPv4): peers behind NAT get a /114 of
# 2001:db8:9:11::/64 that embeds their NAT's public IPv4 and UDP port.
tunnel tun-peers {
    type = 6bed4
    mode = router
    local = 192.0.2.1
    prefix = "2001:db8:9:11::/64"
}
EOF
        ;;
    peer)
        cat <<'EOF'

# A 6bed4 peer behind an IPv4 NAT: it asks the VPS for its address (RS/RA
# over UDP) and keeps the NAT's mapping open with keepalives.
tunnel tun-vps {
    type = 6bed4
    mode = peer
    router = 192.0.2.1
    local-port = 50000
    default-route = yes
}
EOF
        ;;
    home)
        cat <<'EOF'

# The client end: the VPS's routed /64 and the default route come through it.
tunnel tun-vps {
    type = 6in4
    mode = client
    local = 203.0.113.2
    remote = 192.0.2.1
    client-address = "2001:db8:9:1::2/64"
    default-route = yes
}

# Router Advertisements on the LAN: SLAAC in the routed /64, the tunnel's
# MTU, this router as DNS resolver.
interface lan0 {
    mtu = 1480
    prefix 2001:db8:9:10::/64 {
    }
    rdnss {
        servers = { "auto" }
    }
}
EOF
        ;;
    esac
}

# run a command in a demo namespace, showing it
demo_run() {
    local n=$1
    shift
    echo "[${n%%-*}]\$ $*"
    ip netns exec "$n" "$@"
}

# demo_wait SECONDS CMD...: poll CMD every 0.2 s
demo_wait() {
    local i
    for i in $(seq $(($1 * 5))); do
        "${@:2}" >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    return 1
}

# demo_link NS1 IF1 NS2 IF2: a veth pair between two namespaces, both up
demo_link() {
    ip link add "e6x$$" type veth peer name "e6y$$"
    ip link set "e6x$$" netns "$1" name "$2"
    ip link set "e6y$$" netns "$3" name "$4"
    ip -n "$1" link set "$2" up
    ip -n "$3" link set "$4" up
}

cmd_demo() {
    need_root demo
    install_deps "${BUILD_DEPS[@]}" iproute2 iputils-ping python3 ndisc6 iperf3 nftables
    autogen
    say "build"
    build build-gcc || die "build failed"
    local d6="$top/build-gcc/daemon/edge6d" ctl="$top/build-gcc/daemon/edge6ctl"
    local inet="inet-e6demo-$$" up="up-e6demo-$$" vps="vps-e6demo-$$" home="home-e6demo-$$"
    local lan="lan-e6demo-$$" nat="nat-e6demo-$$" peer="peer-e6demo-$$"
    local all work n i lanaddr pid_vps pid_home pid_peer peeraddr
    all="$inet $up $vps $home $lan $nat $peer"
    work=$(mktemp -d /tmp/e6demo.XXXXXX)
    chmod 755 "$work"
    # like systemd's StateDirectory= and RuntimeDirectory=: owned by the user
    # edge6d drops to, so it can replace and remove its socket
    mkdir -p "$work/state/vps" "$work/state/home" "$work/state/peer" "$work/run"
    chown nobody "$work/state/vps" "$work/state/home" "$work/state/peer" "$work/run"
    # shellcheck disable=SC2064
    trap "for n in $all; do ip netns pids \$n 2>/dev/null | xargs -r kill 2>/dev/null; done; sleep 0.5; for n in $all; do ip netns pids \$n 2>/dev/null | xargs -r kill -9 2>/dev/null; ip netns del \$n 2>/dev/null; done; rm -rf $work" EXIT
    say "lab: inet --- up (the provider's router) ---eth0--- vps (edge6d: NDP proxy + 6in4 server)"
    echo "    ===IPv4 only=== home (edge6d: 6in4 client + RA on lan0) ---lan0--- lan (a host, SLAAC)"
    echo "    vps (also a 6bed4 router) ===IPv4 only=== nat (nftables masquerade) --- peer (edge6d: 6bed4 peer)"
    for n in $all; do
        ip netns add "$n"
        ip -n "$n" link set lo up
        ip netns exec "$n" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
            net.ipv6.conf.default.accept_ra=0
    done
    demo_link "$inet" eth0 "$up" eth1
    demo_link "$up" eth0 "$vps" eth0
    demo_link "$vps" wan0 "$home" wan0
    demo_link "$home" lan0 "$lan" eth0
    demo_link "$vps" wan1 "$nat" wan0
    demo_link "$nat" lan0 "$peer" eth0
    # the internet host and the provider's router, which believes the whole
    # /64 is on its eth0 and so solicits every address of it
    ip -n "$inet" -6 addr add 2001:db8:ffff::10/64 dev eth0 nodad
    ip -n "$inet" -6 route add default via 2001:db8:ffff::1
    ip -n "$up" -6 addr add 2001:db8:ffff::1/64 dev eth1 nodad
    ip -n "$up" -6 addr add 2001:db8:9:10::fffe/64 dev eth0 nodad
    ip -n "$up" -6 addr add 2001:db8:9:11::fffe/64 dev eth0 nodad
    ip netns exec "$up" sysctl -qw net.ipv6.conf.all.forwarding=1
    # the VPS: its own address, its IPv4 side, forwarding on
    ip -n "$vps" -6 addr add 2001:db8:9:10::1/128 dev eth0 nodad
    ip -n "$vps" -6 route add 2001:db8:9:10::fffe dev eth0
    ip -n "$vps" -6 route add default via 2001:db8:9:10::fffe dev eth0
    ip netns exec "$vps" sysctl -qw net.ipv6.conf.all.forwarding=1 net.ipv6.conf.wan0.disable_ipv6=1
    ip -n "$vps" addr add 192.0.2.1/24 dev wan0
    ip -n "$vps" route add 203.0.113.2/32 dev wan0
    # the home router: IPv4 only on wan0, the routed /64 on lan0
    ip netns exec "$home" sysctl -qw net.ipv6.conf.all.forwarding=1 net.ipv6.conf.wan0.disable_ipv6=1
    ip -n "$home" addr add 203.0.113.2/24 dev wan0
    ip -n "$home" route add 192.0.2.1/32 dev wan0
    ip -n "$home" -6 route add 2001:db8:9:10::/64 dev lan0
    # the LAN host: a plain host that listens to Router Advertisements
    ip netns exec "$lan" sysctl -qw net.ipv6.conf.eth0.accept_ra=1 net.ipv6.conf.eth0.autoconf=1
    # the 6bed4 side: the VPS reaches the NAT's public address on wan1; the
    # NAT masquerades its home network (documentation addresses standing in
    # for 192.168.x) and maps UDP ports into 40000-40999, as carrier-grade
    # NATs do; the peer has IPv4 only
    ip -n "$vps" route add 198.51.100.1/32 dev wan1
    ip netns exec "$vps" sysctl -qw net.ipv6.conf.wan1.disable_ipv6=1
    ip netns exec "$nat" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.disable_ipv6=1
    ip -n "$nat" addr add 198.51.100.1/25 dev wan0
    ip -n "$nat" route add 192.0.2.1/32 dev wan0
    ip -n "$nat" addr add 198.51.100.129/25 dev lan0
    ip netns exec "$peer" sysctl -qw net.ipv6.conf.eth0.disable_ipv6=1
    ip -n "$peer" addr add 198.51.100.130/25 dev eth0
    ip -n "$peer" route add default via 198.51.100.129
    ip netns exec "$nat" nft -f - <<'NFT' || die "nftables in the NAT namespace"
table ip nat {
    chain post {
        type nat hook postrouting priority srcnat; policy accept;
        oifname "wan0" meta l4proto udp masquerade to :40000-40999
        oifname "wan0" masquerade
    }
}
NFT
    for n in vps home peer; do
        demo_conf "$work" $n >"$work/$n.conf"
        echo "--- configuration of $n ($work/$n.conf)"
        cat "$work/$n.conf"
        say "edge6d -t ($n)"
        "$d6" -t -c "$work/$n.conf" || die "$n: configuration refused"
    done
    say "starting edge6d in vps and in home"
    ip netns exec "$vps" "$d6" -f -c "$work/vps.conf" >"$work/vps.log" 2>&1 &
    pid_vps=$!
    ip netns exec "$home" "$d6" -f -c "$work/home.conf" >"$work/home.log" 2>&1 &
    pid_home=$!
    demo_wait 10 ip netns exec "$vps" "$ctl" -s "$work/run/vps.sock" status
    demo_wait 10 ip netns exec "$home" "$ctl" -s "$work/run/home.sock" status
    say "the tunnel is up: home reaches the VPS's end of the link (2001:db8:9:1::1) through it"
    demo_wait 10 ip netns exec "$home" ping -6 -c 1 -W 1 2001:db8:9:1::1
    demo_run "$home" ping -6 -n -c 2 -i 0.3 -W 2 2001:db8:9:1::1 || true
    demo_run "$vps" ip -6 route show dev tun-home
    demo_run "$home" ip -6 route show dev tun-vps
    say "the LAN host configured itself from home's Router Advertisement (SLAAC, MTU, DNS)"
    demo_wait 15 sh -c "ip -n $lan -6 addr show dev eth0 scope global | grep -q 'inet6 2001:db8:9:10:'"
    demo_run "$lan" ip -6 addr show dev eth0 scope global
    demo_run "$lan" ip -6 route show default
    demo_run "$lan" cat /proc/sys/net/ipv6/conf/eth0/mtu
    demo_run "$lan" rdisc6 -1 eth0 | grep -E 'MTU|Prefix|Recursive' || true
    lanaddr=$(ip -n "$lan" -6 -o addr show dev eth0 scope global | awk '{sub("/.*", "", $4); print $4; exit}')
    say "the internet host pings the LAN host ($lanaddr)"
    echo "    the provider's router asks for it on its eth0, edge6d answers (the address is in"
    echo "    the tunnel client's routed prefix), and the VPS carries it through the tunnel"
    demo_run "$inet" ping -6 -n -c 3 -i 0.3 -W 2 "$lanaddr" || true
    demo_run "$up" ip -6 neigh show "$lanaddr"
    echo "(the VPS's eth0 is $(ip netns exec "$vps" cat /sys/class/net/eth0/address))"
    say "and back: the LAN host pings the internet host"
    demo_run "$lan" ping -6 -n -c 3 -i 0.3 -W 2 2001:db8:ffff::10 || true
    say "a short TCP transfer through the tunnel (iperf3, 2 s, LAN host -> internet host)"
    ip netns exec "$inet" iperf3 -s -1 -B 2001:db8:ffff::10 >/dev/null 2>&1 &
    demo_wait 5 sh -c "ip netns exec $inet ss -ltn | grep -q ':5201'"
    demo_run "$lan" iperf3 -c 2001:db8:ffff::10 -t 2 -f m | grep -E 'sender|receiver' || true
    say "a 6bed4 peer behind NAT: edge6d on the peer (198.51.100.130, UDP port 50000)"
    if command -v dumpcap >/dev/null; then
        ip netns exec "$nat" timeout 20 dumpcap -q -i wan0 -f "udp port 25790" -w "$work/6bed4.pcap" >/dev/null 2>&1 &
        demo_wait 5 test -s "$work/6bed4.pcap"
    fi
    ip netns exec "$peer" "$d6" -f -c "$work/peer.conf" >"$work/peer.log" 2>&1 &
    pid_peer=$!
    demo_wait 10 ip netns exec "$peer" "$ctl" -s "$work/run/peer.sock" status
    demo_wait 15 sh -c "ip -n $peer -6 addr show dev tun-vps scope global | grep -q 'inet6 2001:db8:9:11:'"
    say "its Router Solicitation and the VPS's Router Advertisement, over UDP through the NAT"
    grep -E 'soliciting|gave prefix' "$work/peer.log" | sed 's/^/    /'
    if [ -s "$work/6bed4.pcap" ] && command -v tshark >/dev/null; then
        sleep 0.5
        echo "    (captured on the NAT's public side, the UDP payload decoded as IPv6:)"
        tshark -n -r "$work/6bed4.pcap" -d udp.port==25790,ipv6 -Y "icmpv6.type == 133 || icmpv6.type == 134" \
            -T fields -e ip.src -e udp.srcport -e ip.dst -e udp.dstport -e icmpv6.type -e icmpv6.opt.prefix \
            -e icmpv6.opt.prefix.length 2>/dev/null |
            awk '{if ($5 == 133) m = "Router Solicitation"; else m = "Router Advertisement, prefix " $6 "/" $7
                  printf "    %s:%s -> %s:%s  %s\n", $1, $2, $3, $4, m}'
    fi
    peeraddr=$(ip -n "$peer" -6 -o addr show dev tun-vps scope global | awk '{sub("/.*", "", $4); print $4; exit}')
    demo_run "$peer" ip -6 addr show dev tun-vps scope global
    python3 -c '
import ipaddress, sys
a = ipaddress.IPv6Address(sys.argv[1]).packed
v4 = ipaddress.IPv4Address(bytes([a[8] & 0xfc | a[14] >> 6, a[9], a[10], a[11]]))
print("    %s embeds the public address %s and UDP port %d (lanip %d)"
      % (sys.argv[1], v4, a[12] << 8 | a[13], (a[14] & 0x3f) << 8 | a[15]))' "$peeraddr"
    echo "    which is the NAT's mapping of 198.51.100.130:50000 (its conntrack entry):"
    ip netns exec "$nat" grep 'dport=25790' /proc/net/nf_conntrack | sed 's/^/    /'
    say "the internet host pings the 6bed4 peer ($peeraddr)"
    echo "    the provider's router asks for it on its eth0, edge6d answers (a live peer of"
    echo "    tun-peers), and the VPS sends it in UDP to the NAT's public address and port"
    demo_run "$inet" ping -6 -n -c 3 -i 0.3 -W 2 "$peeraddr" || true
    demo_run "$up" ip -6 neigh show "$peeraddr"
    say "and the peer reaches the internet host and the 6in4 home's LAN host"
    demo_run "$peer" ping -6 -n -c 2 -i 0.3 -W 2 2001:db8:ffff::10 || true
    demo_run "$peer" ping -6 -n -c 2 -i 0.3 -W 2 "$lanaddr" || true
    say "edge6ctl peers (vps): the live 6bed4 peers, by their NAT's public endpoint"
    demo_run "$vps" "$ctl" -s "$work/run/vps.sock" peers || true
    say "edge6ctl status (vps): the 6in4 tunnel and its client, the 6bed4 router, their counters"
    demo_run "$vps" "$ctl" -s "$work/run/vps.sock" status || true
    say "edge6ctl status (home): its end of the tunnel"
    demo_run "$home" "$ctl" -s "$work/run/home.sock" status | sed -n '/^6in4 tunnels/,/^$/p' || true
    say "edge6ctl counters (vps), the tunnel's"
    demo_run "$vps" "$ctl" -s "$work/run/vps.sock" counters | awk 'NR == 1 || $1 == "module" || $1 == "tunnel"' || true
    say "edge6ctl counters (vps), the 6bed4 router's that moved"
    demo_run "$vps" "$ctl" -s "$work/run/vps.sock" counters | awk '$1 == "6bed4" && $3 != 0' || true
    say "a bad reload is refused and the old configuration stays in force"
    cp "$work/vps.conf" "$work/vps.conf.good"
    echo "bogus-key = 1" >>"$work/vps.conf"
    demo_run "$vps" "$ctl" -s "$work/run/vps.sock" reload || true
    cp "$work/vps.conf.good" "$work/vps.conf"
    demo_run "$lan" ping -6 -n -c 1 -W 2 2001:db8:ffff::10 | grep 'bytes from' || true
    say "process credentials of the VPS's edge6d (only CAP_NET_ADMIN and CAP_NET_RAW remain)"
    grep -E '^(Uid|CapEff|CapBnd):' "/proc/$(ip netns pids "$vps" | head -1)/status" || true
    say "stopping all three (SIGTERM): home sends its final Router Advertisements, all remove their tunnels"
    for i in $(ip netns pids "$vps") $(ip netns pids "$home") $(ip netns pids "$peer"); do kill -TERM "$i" 2>/dev/null; done
    wait "$pid_vps" "$pid_home" "$pid_peer" 2>/dev/null
    demo_run "$vps" ip link show dev tun-home 2>&1 || true
    demo_run "$vps" ip link show dev tun-peers 2>&1 || true
    for n in vps home peer; do
        echo "--- edge6d log ($n)"
        cat "$work/$n.log"
    done
}

case "${1:-}" in
check) cmd_check ;;
demo) cmd_demo ;;
*)
    echo "usage: sudo $0 check|demo" >&2
    exit 2
    ;;
esac
