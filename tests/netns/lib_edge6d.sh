# shellcheck shell=bash
# tests/netns/lib_edge6d.sh: helpers for the tests of edge6d itself (start,
# reload, control socket, privileges), sourced after lib.sh.
#
#   e6d_prepare             make $E6_WORK usable by the run user and create
#                           $E6_RUN (socket, pid file) and $E6_STATE for it
#   e6d_example_conf OUT    the example config with control-socket,
#                           state-directory and user pointed at $E6_WORK
#   e6d_run NAME NS CONF [ARGS...]
#                           like lib.sh's e6d_start, but started from this
#                           shell so that e6d_stop can collect the exit status
#   e6d_stop NAME           SIGTERM the daemon started as NAME, wait for exit,
#                           check exit status 0 and a clean sanitizer log
#   san_check FILE...       fail on AddressSanitizer/LeakSanitizer/UBSan
#                           reports in the given logs
#   json_get JSON EXPR      evaluate a Python expression on parsed JSON `j`

E6_RUN_USER=${E6_RUN_USER:-nobody}
E6_EXAMPLE_CONF=${E6_EXAMPLE_CONF:-$E6_SRCDIR/conf/edge6d.conf}
# the system's python: a version-manager shim in PATH costs ~0.4 s a call
E6_PY=${E6_PY:-$(command -v /usr/bin/python3 || command -v python3)}
E6_RUN=$E6_WORK/run
E6_STATE=$E6_WORK/state

e6d_prepare() {
    # The daemon reads its config (at reload) and removes its socket and
    # pid file (at exit) after dropping root: the work dir must be
    # traversable and run/ writable by the run user.
    chmod 755 "$E6_WORK"
    mkdir -p "$E6_RUN" "$E6_STATE"
    chown "$E6_RUN_USER" "$E6_RUN" "$E6_STATE"
}

# e6d_example_conf OUT [SOCKET]: conf/edge6d.conf with its global paths and
# user rewritten; keys the example leaves out are added.
e6d_example_conf() {
    local out=$1 sock=${2:-$E6_RUN/edge6d.sock}
    local example=$E6_EXAMPLE_CONF
    [ -f "$example" ] || {
        fail "example config $example missing"
        exit 1
    }
    sed -e "s|^\([[:space:]]*\)control-socket[[:space:]]*=.*|\1control-socket = \"$sock\"|" \
        -e "s|^\([[:space:]]*\)state-directory[[:space:]]*=.*|\1state-directory = \"$E6_STATE\"|" \
        -e "s|^\([[:space:]]*\)user[[:space:]]*=.*|\1user = \"$E6_RUN_USER\"|" \
        "$example" >"$out"
    local key val
    for key in control-socket state-directory user; do
        case $key in
        control-socket) val=$sock ;;
        state-directory) val=$E6_STATE ;;
        user) val=$E6_RUN_USER ;;
        esac
        grep -Eq "^[[:space:]]*${key}[[:space:]]*=" "$out" ||
            sed -i "1i $key = \"$val\"" "$out"
    done
    chmod 644 "$out"
}

# conf_set FILE KEY VALUE: rewrite a global "KEY = ..." line (quoted value).
conf_set() {
    sed -i "s|^\([[:space:]]*\)$2[[:space:]]*=.*|\1$2 = \"$3\"|" "$1"
    grep -Eq "^[[:space:]]*$2[[:space:]]*=" "$1" || sed -i "1i $2 = \"$3\"" "$1"
}

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

e6d_run() {
    local name=$1 ns=$2 conf=$3
    shift 3
    ip netns exec "$ns" "$EDGE6D" -f -c "$conf" "$@" >"$E6_WORK/$name.log" 2>&1 &
    local pid=$!
    E6_PIDS+=("$pid")
    printf -v "E6D_PID_$name" '%s' "$pid"
    wait_for 10 "edge6d $name control socket" nsx "$ns" "$EDGE6CTL" -s "$(e6d_socket "$conf")" status
}

# e6d_stop NAME: SIGTERM, exit within 5 s with status 0, clean log.
e6d_stop() {
    local name=$1 var="E6D_PID_$1"
    local pid=${!var}
    kill -TERM "$pid"
    local rc=0
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        fail "edge6d $name still running 5 s after SIGTERM"
        return 1
    fi
    wait "$pid" 2>/dev/null
    rc=$?
    assert_eq "edge6d $name exits 0 on SIGTERM" 0 "$rc"
    san_check "$E6_WORK/$name.log"
}

json_get() {
    "$E6_PY" -c 'import json,sys; j=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"
}

# valid_json TEXT: "$E6_PY" -m json.tool accepts it.
valid_json() {
    printf '%s' "$1" | "$E6_PY" -m json.tool >/dev/null
}
