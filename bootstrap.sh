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
    E6_BUILDDIR="$top/$dir" "$top/tests/netns/run.sh"
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

demo_conf() {
    # embedded default config for the lab; grows as features land
    cat <<EOF
# edge6 demo: a VPS fronting 2001:db8:9:10::/64 on eth0 (see README); the
# part 2001:db8:9:10:1::/80 lives behind it on lan0
user = "nobody"
control-socket = "$1/run/edge6d.sock"
state-directory = "$1/state"
log-level = "info"

interface lan0 {                  # Router Advertisements: hosts on lan0 get a default route
    rdnss { servers = { "auto" } }
}

proxy eth0 {                      # NDP proxy: answer the provider's router ...
    rule 2001:db8:9:10:1::/80 {   # ... for addresses confirmed on lan0
        method = iface
        iface = lan0
    }
    rule 2001:db8:9:10::1/128 {   # the VPS's own address: the kernel answers
        method = exclude
    }
}
EOF
}

# run a command in a demo namespace, showing it
demo_run() {
    local n=$1
    shift
    echo "[${n%%-*}]\$ $*"
    ip netns exec "$n" "$@"
}

cmd_demo() {
    need_root demo
    install_deps "${BUILD_DEPS[@]}" iproute2 iputils-ping python3 ndisc6
    autogen
    say "build"
    build build-gcc || die "build failed"
    local d6="$top/build-gcc/daemon/edge6d" ctl="$top/build-gcc/daemon/edge6ctl"
    local ns="vps-e6demo-$$" up="up-e6demo-$$" lan="lan-e6demo-$$" work n i
    work=$(mktemp -d /tmp/e6demo.XXXXXX)
    chmod 755 "$work"
    # like systemd's StateDirectory= and RuntimeDirectory=: owned by the user
    # edge6d drops to, so it can replace and remove its socket
    mkdir -p "$work/state" "$work/run"
    chown nobody "$work/state" "$work/run"
    # shellcheck disable=SC2064
    trap "for n in $ns $up $lan; do ip netns pids \$n 2>/dev/null | xargs -r kill 2>/dev/null; done; sleep 0.5; for n in $ns $up $lan; do ip netns del \$n 2>/dev/null; done; rm -rf $work" EXIT
    say "lab: up (the provider's router) --eth0-- vps (edge6d) --lan0-- lan (a host behind it)"
    for n in "$ns" "$up" "$lan"; do
        ip netns add "$n"
        ip -n "$n" link set lo up
        ip netns exec "$n" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
    done
    ip link add "e6d$$" type veth peer name "e6u$$"
    ip link set "e6d$$" netns "$ns" name eth0
    ip link set "e6u$$" netns "$up" name eth0
    ip link add "e6l$$" type veth peer name "e6h$$"
    ip link set "e6l$$" netns "$ns" name lan0
    ip link set "e6h$$" netns "$lan" name eth0
    ip netns exec "$lan" sysctl -qw net.ipv6.conf.eth0.accept_ra=2
    ip -n "$ns" link set eth0 up
    ip -n "$ns" link set lan0 up
    ip -n "$up" link set eth0 up
    ip -n "$lan" link set eth0 up
    # the provider believes the whole /64 is on eth0, so it solicits every address
    ip -n "$up" -6 addr add 2001:db8:9:10::fffe/64 dev eth0 nodad
    ip -n "$ns" -6 addr add 2001:db8:9:10::1/64 dev eth0 nodad
    ip -n "$ns" -6 route add default via 2001:db8:9:10::fffe dev eth0
    ip -n "$ns" -6 route add 2001:db8:9:10:1::/80 dev lan0
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.forwarding=1
    # the LAN host: a static address in the part behind the VPS, its router from our RAs
    ip -n "$lan" -6 addr add 2001:db8:9:10:1::10/80 dev eth0 nodad
    demo_conf "$work" >"$work/edge6d.conf"
    echo "--- configuration ($work/edge6d.conf)"
    cat "$work/edge6d.conf"
    say "edge6d -t"
    "$d6" -t -c "$work/edge6d.conf"
    say "starting edge6d in vps"
    ip netns exec "$ns" "$d6" -f -c "$work/edge6d.conf" >"$work/edge6d.log" 2>&1 &
    for i in $(seq 50); do
        ip netns exec "$ns" "$ctl" -s "$work/run/edge6d.sock" status >/dev/null 2>&1 && break
        sleep 0.1
    done
    say "the LAN host learns its default router from edge6d's Router Advertisement"
    for i in $(seq 50); do
        ip -n "$lan" -6 route show default | grep -q 'proto ra' && break
        sleep 0.2
    done
    demo_run "$lan" ip -6 route show default
    say "the provider's router pings the LAN host: edge6d probes lan0, then answers on eth0"
    demo_run "$up" ping -6 -c 3 -i 0.3 -W 2 2001:db8:9:10:1::10 || true
    demo_run "$up" ip -6 neigh show 2001:db8:9:10:1::10
    say "an address of the /80 where no host lives gets no answer (ndisc6 gives up)"
    demo_run "$up" ndisc6 -1 -r 2 -w 500 2001:db8:9:10:1::99 eth0 || true
    say "edge6ctl neighbors: the proxy's sessions"
    demo_run "$ns" "$ctl" -s "$work/run/edge6d.sock" neighbors || true
    say "edge6ctl status"
    demo_run "$ns" "$ctl" -s "$work/run/edge6d.sock" status
    say "edge6ctl counters"
    demo_run "$ns" "$ctl" -s "$work/run/edge6d.sock" counters
    say "a bad reload is refused and the old configuration stays in force"
    echo "bogus-key = 1" >>"$work/edge6d.conf"
    ip netns exec "$ns" "$ctl" -s "$work/run/edge6d.sock" reload || true
    say "process credentials (only CAP_NET_ADMIN and CAP_NET_RAW remain)"
    local pid
    pid=$(ip netns pids "$ns" | head -1)
    grep -E '^(Uid|CapEff|CapBnd):' "/proc/$pid/status"
    say "stopping (SIGTERM): final Router Advertisements, then exit"
    kill -TERM "$pid"
    wait 2>/dev/null
    echo "--- edge6d log"
    cat "$work/edge6d.log"
}

case "${1:-}" in
check) cmd_check ;;
demo) cmd_demo ;;
*)
    echo "usage: sudo $0 check|demo" >&2
    exit 2
    ;;
esac
