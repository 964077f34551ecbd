# shellcheck shell=bash
# tests/netns/lib.sh: harness for integration tests that run edge6d against
# real Linux kernels in network namespaces. A test script sources this file,
# builds its topology with ns_new/veth_new, runs commands with nsx, waits
# with wait_for and checks with the assert_* helpers. Everything it creates
# (namespaces, processes, files) is removed on exit, pass or fail; on
# failure the logs are kept under tests/netns/logs/<test>/.
#
# Environment:
#   E6_BUILDDIR  where daemon/edge6d and daemon/edge6ctl were built
#                (default: the source tree)
#   E6_KEEP=1    keep the work directory even when the test passes

set -u
set -o pipefail

E6_SRCDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
E6_BUILDDIR=${E6_BUILDDIR:-$E6_SRCDIR}
E6_BUILDDIR=$(cd "$E6_BUILDDIR" && pwd)
EDGE6D=${EDGE6D:-$E6_BUILDDIR/daemon/edge6d}
EDGE6CTL=${EDGE6CTL:-$E6_BUILDDIR/daemon/edge6ctl}

E6_TEST=$(basename "${0%.sh}")
E6_ID=$(printf '%04x%02x' $$ $((RANDOM % 256)))
E6_WORK=$(mktemp -d "/tmp/e6-$E6_TEST.XXXXXX")
E6_PIDS=()
E6_FAILED=0
E6_CHECKS=0

e6_log() { printf '[%s] %s\n' "$E6_TEST" "$*" >&2; }

e6_cleanup() {
    local rc=$?
    local pid ns
    for pid in "${E6_PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null
    done
    for pid in "${E6_PIDS[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null
    done
    # by name rather than from a list: ns_new usually runs inside $(...),
    # where appending to a list would be lost
    for ns in $(ip netns list | awk -v p="e6-$E6_ID-" 'index($1, p) == 1 {print $1}'); do
        ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
        ip netns del "$ns" 2>/dev/null
    done
    if [ "$rc" -ne 0 ] || [ "$E6_FAILED" -ne 0 ]; then
        local keep="$E6_SRCDIR/tests/netns/logs/$E6_TEST"
        mkdir -p "$keep" && cp -a "$E6_WORK/." "$keep/" 2>/dev/null
        e6_log "FAILED; logs kept in $keep"
        rm -rf "$E6_WORK"
        exit 1
    fi
    if [ "${E6_KEEP:-0}" = 1 ]; then e6_log "work dir kept: $E6_WORK"; else rm -rf "$E6_WORK"; fi
    exit 0
}
trap e6_cleanup EXIT
trap 'e6_log "interrupted"; E6_FAILED=1; exit 1' INT TERM

# ns_new SHORT: create namespace e6-<id>-SHORT with lo up; prints its name.
ns_new() {
    local ns="e6-$E6_ID-$1"
    ip netns add "$ns" || { e6_log "cannot create netns $ns"; exit 1; }
    ip -n "$ns" link set lo up
    # a fresh namespace should not solicit on its own while we measure it
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
    echo "$ns"
}

# nsx NS CMD...: run CMD inside NS.
nsx() {
    local ns=$1
    shift
    ip netns exec "$ns" "$@"
}

# veth_new NS1 IF1 NS2 IF2: a veth pair between two namespaces, both up.
veth_new() {
    local tmp="e6v$E6_ID$RANDOM"
    tmp=${tmp:0:15}
    ip link add "${tmp}a" type veth peer name "${tmp}b" || exit 1
    ip link set "${tmp}a" netns "$1" name "$2" || exit 1
    ip link set "${tmp}b" netns "$3" name "$4" || exit 1
    ip -n "$1" link set "$2" up
    ip -n "$3" link set "$4" up
}

# e6_bg NAME NS CMD...: start CMD in NS in the background, output to
# $E6_WORK/NAME.log; its pid is left in E6_BG_PID and killed at cleanup.
# Call it directly, not inside $(...), so the pid is recorded in this shell.
e6_bg() {
    local name=$1 ns=$2
    shift 2
    ip netns exec "$ns" "$@" >"$E6_WORK/$name.log" 2>&1 &
    E6_BG_PID=$!
    E6_PIDS+=("$E6_BG_PID")
}

# wait_for SECONDS WHAT CMD...: poll CMD every 0.1 s until it succeeds.
wait_for() {
    local secs=$1 what=$2
    shift 2
    local deadline=$(($(date +%s%N) / 1000000 + secs * 1000))
    while :; do
        if "$@" >/dev/null 2>&1; then return 0; fi
        if [ $(($(date +%s%N) / 1000000)) -ge "$deadline" ]; then
            fail "timed out after ${secs}s waiting for: $what"
            return 1
        fi
        sleep 0.1
    done
}

fail() {
    E6_FAILED=1
    e6_log "FAIL: $*"
}

ok() {
    E6_CHECKS=$((E6_CHECKS + 1))
    e6_log "ok: $*"
}

# assert_ok WHAT CMD...: CMD must succeed.
assert_ok() {
    local what=$1
    shift
    if "$@" >>"$E6_WORK/asserts.log" 2>&1; then ok "$what"; else fail "$what (command: $*)"; fi
}

# assert_fail WHAT CMD...: CMD must fail.
assert_fail() {
    local what=$1
    shift
    if "$@" >>"$E6_WORK/asserts.log" 2>&1; then fail "$what (command succeeded: $*)"; else ok "$what"; fi
}

# assert_eq WHAT EXPECTED ACTUAL
assert_eq() {
    if [ "$2" = "$3" ]; then ok "$1"; else fail "$1: expected '$2', got '$3'"; fi
}

# assert_match WHAT REGEX TEXT: TEXT must match the extended REGEX.
assert_match() {
    if grep -Eq -- "$2" <<<"$3"; then ok "$1"; else
        fail "$1: /$2/ not found in:"
        printf '%s\n' "$3" | sed 's/^/    | /' >&2
    fi
}

# assert_nomatch WHAT REGEX TEXT
assert_nomatch() {
    if grep -Eq -- "$2" <<<"$3"; then
        fail "$1: /$2/ unexpectedly found in:"
        printf '%s\n' "$3" | sed 's/^/    | /' >&2
    else ok "$1"; fi
}

# e6d_conf NAME: path of a config file for this test (write it yourself).
e6d_conf() { echo "$E6_WORK/$1.conf"; }

# e6d_prepare: like systemd's RuntimeDirectory= and StateDirectory=, give the
# user edge6d drops to ($E6_RUN_USER) a run directory $E6_RUN (socket, pid
# file) and a state directory $E6_STATE: the daemon reads its config at
# reload and removes its socket at exit after dropping root.
E6_RUN_USER=${E6_RUN_USER:-nobody}
E6_RUN=$E6_WORK/run
E6_STATE=$E6_WORK/state
e6d_prepare() {
    chmod 755 "$E6_WORK"
    mkdir -p "$E6_RUN" "$E6_STATE"
    chown "$E6_RUN_USER" "$E6_RUN" "$E6_STATE"
}

# e6d_start NAME NS CONF [ARGS...]: run edge6d in the foreground (-f) in NS
# with CONF, output in $E6_WORK/NAME.log; waits until its control socket
# answers. Sets E6D_PID_<NAME>; e6d_stop NAME collects the exit status.
e6d_start() {
    local name=$1 ns=$2 conf=$3
    shift 3
    e6_bg "$name" "$ns" "$EDGE6D" -f -c "$conf" "$@"
    printf -v "E6D_PID_$name" '%s' "$E6_BG_PID"
    wait_for 10 "edge6d $name control socket" nsx "$ns" "$EDGE6CTL" -s "$(e6d_socket "$conf")" status
}

# e6d_stop_sig NAME SIGNAL [SECONDS]: send SIGNAL (TERM, USR1, ...); edge6d
# must exit within SECONDS (default 12: on SIGTERM an advertising interface
# sends its 3 final RAs 3 s apart, and edge6d gives the goodbye at most
# 10 s) with status 0 and a log free of sanitizer reports.
e6d_stop_sig() {
    local name=$1 sig=$2 secs=${3:-12} var="E6D_PID_$1"
    local pid=${!var}
    kill "-$sig" "$pid"
    for _ in $(seq $((secs * 10))); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        fail "edge6d $name still running $secs s after SIG$sig"
        return 1
    fi
    wait "$pid" 2>/dev/null
    assert_eq "edge6d $name exits 0 on SIG$sig" 0 "$?"
    san_check "$E6_WORK/$name.log"
}

# e6d_stop NAME [SECONDS]: e6d_stop_sig NAME TERM [SECONDS]
e6d_stop() { e6d_stop_sig "$1" TERM "${2:-12}"; }

# e6_san_build: true when $EDGE6D is a sanitizer build (gcc links libasan
# dynamically, clang statically). grep without -q: an early exit would
# SIGPIPE nm and fail the pipefail pipeline.
e6_san_build() {
    ldd "$EDGE6D" 2>/dev/null | grep libasan >/dev/null ||
        nm "$EDGE6D" 2>/dev/null | grep ' __asan_init$' >/dev/null
}

# san_check FILE...: fail on AddressSanitizer/LeakSanitizer/UBSan reports.
# e6_done runs it on every log of the test as well.
san_check() {
    local f bad=0
    for f in "$@"; do
        [ -f "$f" ] || continue
        if grep -Eq 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$f"; then
            fail "sanitizer report in $(basename "$f")"
            grep -E -A30 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$f" | sed 's/^/    | /' >&2
            bad=1
        fi
    done
    [ $bad -eq 0 ] && ok "no sanitizer reports in: $(for f in "$@"; do basename "$f"; done | tr '\n' ' ')"
}

# e6d_socket CONF: the control-socket path a config names.
e6d_socket() {
    sed -n 's/^[[:space:]]*control-socket[[:space:]]*=[[:space:]]*"\{0,1\}\([^"]*\)"\{0,1\}[[:space:]]*$/\1/p' "$1" | head -n1
}

# e6ctl NS CONF ARGS...: run edge6ctl against the daemon that uses CONF.
e6ctl() {
    local ns=$1 conf=$2
    shift 2
    nsx "$ns" "$EDGE6CTL" -s "$(e6d_socket "$conf")" "$@"
}

# e6_done: end of a test; exit status reflects the asserts.
e6_done() {
    local logs=("$E6_WORK"/*.log)
    [ -e "${logs[0]}" ] && san_check "${logs[@]}"
    if [ "$E6_FAILED" -ne 0 ]; then exit 1; fi
    if [ "$E6_CHECKS" -eq 0 ]; then fail "test made no checks"; exit 1; fi
    e6_log "passed ($E6_CHECKS checks)"
    exit 0
}
