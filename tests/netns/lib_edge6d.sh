# shellcheck shell=bash
# tests/netns/lib_edge6d.sh: helpers for the tests of edge6d itself (start,
# reload, control socket, privileges), sourced after lib.sh.
#
#   e6d_example_conf OUT    the example config with control-socket,
#                           state-directory and user pointed at $E6_WORK
#   conf_set FILE KEY VAL   rewrite a global "KEY = ..." line
#   json_get JSON EXPR      evaluate a Python expression on parsed JSON `j`
#   valid_json TEXT         python's json.tool accepts TEXT

E6_EXAMPLE_CONF=${E6_EXAMPLE_CONF:-$E6_SRCDIR/conf/edge6d.conf}
# the system's python: a version-manager shim in PATH costs ~0.4 s a call
E6_PY=${E6_PY:-$(command -v /usr/bin/python3 || command -v python3)}

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

json_get() {
    "$E6_PY" -c 'import json,sys; j=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"
}

# valid_json TEXT: "$E6_PY" -m json.tool accepts it.
valid_json() {
    printf '%s' "$1" | "$E6_PY" -m json.tool >/dev/null
}
