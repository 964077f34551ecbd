# shellcheck shell=bash
# tests/netns/lib_ndp.sh: the NDP proxy tests' topology and helpers (also
# used by the NDP benchmarks), sourced after lib.sh and lib_edge6d.sh.
#
# Three namespaces, the way a VPS fronting a /64 sits:
#
#   $NDP_UP  (the provider's router)  u0 2001:db8:1::1/64: believes the
#            whole /64 is on-link, so it solicits every address it reaches
#   $NDP_VPS (runs edge6d)            eth0 2001:db8:1::2/64 (the proxied,
#            upstream link), lan0 (no global address), forwarding on, the
#            LAN part 2001:db8:1::100/120 routed via lan0
#   $NDP_LAN (a host behind it)       l0 2001:db8:1::101/120, default route
#            via the VPS's link-local on lan0
#
# DAD is off everywhere (ns_new), so every address is usable at once.
#
#   ndp_topo                   build it
#   ndp_conf FILE BODY         a test config: global settings and
#                              `proxy eth0 { BODY }`
#   ndp_start NAME CONF        e6d_start in the VPS namespace
#   ndp_pid NAME               its pid
#   ndp_mac NS IF              MAC of IF in NS
#   ndp_ll NS IF               link-local address of IF in NS
#   ndp_ask SPEC...            ns_tool.py ask on u0 in the upstream
#                              namespace (JSON line per NS)
#   ndp_nas JSONLINES EXPR     EXPR over `r`, the list of decoded results
#   ndp_ping DST [COUNT]       ICMPv6 echo from 2001:db8:1::1 to DST: prints
#                              "RECEIVED/SENT"
#   ndp_up_neigh ADDR          the upstream's neighbour entry for ADDR
#   ndp_counter CONF REGEX     sum of edge6d counters whose "module.name"
#                              matches REGEX (extended, anchored by the caller)
#   ndp_sessions CONF          `edge6ctl --json neighbors` as JSON
#   ndp_rss_kb PID             VmRSS of PID in KiB

NDP_UP=
NDP_VPS=
NDP_LAN=
NDP_UPIF=u0
NDP_IF=eth0
NDP_LANIF=lan0
NDP_HOSTIF=l0
# shellcheck disable=SC2034 # for the tests and benchmarks
NDP_PREFIX=2001:db8:1::/64
NDP_UPADDR=2001:db8:1::1
NDP_VPSADDR=2001:db8:1::2
NDP_LANNET=2001:db8:1::100/120
NDP_HOST=2001:db8:1::101
NDP_TOOL=$E6_SRCDIR/tests/netns/ns_tool.py

# ndp_topo [SUFFIX]: build the three namespaces (SUFFIX: for more than one
# topology in a run).
# shellcheck disable=SC2120 # the suffix is optional
ndp_topo() {
    local s=${1:-}
    NDP_UP=$(ns_new "up$s")
    NDP_VPS=$(ns_new "vps$s")
    NDP_LAN=$(ns_new "lan$s")
    nsx "$NDP_VPS" sysctl -qw net.ipv6.conf.all.forwarding=1 net.ipv6.conf.default.forwarding=1 ||
        { fail "vps sysctls"; exit 1; }
    # the upstream and the LAN host are plain hosts: no RA is expected, none taken
    nsx "$NDP_UP" sysctl -qw net.ipv6.conf.default.accept_ra=0 net.ipv6.conf.all.forwarding=0
    nsx "$NDP_LAN" sysctl -qw net.ipv6.conf.default.accept_ra=0 net.ipv6.conf.all.forwarding=0
    veth_new "$NDP_UP" "$NDP_UPIF" "$NDP_VPS" "$NDP_IF"
    veth_new "$NDP_VPS" "$NDP_LANIF" "$NDP_LAN" "$NDP_HOSTIF"
    nsx "$NDP_UP" ip -6 addr add "$NDP_UPADDR/64" dev "$NDP_UPIF" nodad
    nsx "$NDP_VPS" ip -6 addr add "$NDP_VPSADDR/64" dev "$NDP_IF" nodad
    nsx "$NDP_VPS" ip -6 route add "$NDP_LANNET" dev "$NDP_LANIF"
    nsx "$NDP_LAN" ip -6 addr add "$NDP_HOST/120" dev "$NDP_HOSTIF" nodad
    wait_for 5 "vps link-local on $NDP_LANIF" ndp_ll "$NDP_VPS" "$NDP_LANIF"
    wait_for 5 "vps link-local on $NDP_IF" ndp_ll "$NDP_VPS" "$NDP_IF"
    wait_for 5 "upstream link-local on $NDP_UPIF" ndp_ll "$NDP_UP" "$NDP_UPIF"
    wait_for 5 "LAN link-local on $NDP_HOSTIF" ndp_ll "$NDP_LAN" "$NDP_HOSTIF"
    nsx "$NDP_LAN" ip -6 route add default via "$(ndp_ll "$NDP_VPS" "$NDP_LANIF")" dev "$NDP_HOSTIF"
}

ndp_topo_del() {
    local ns
    for ns in "$NDP_UP" "$NDP_VPS" "$NDP_LAN"; do
        ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
        ip netns del "$ns" 2>/dev/null
    done
}

ndp_ll() {
    nsx "$1" ip -6 -o addr show dev "$2" scope link 2>/dev/null |
        awk '$0 !~ /tentative/ {sub("/.*", "", $4); print $4; exit}' | grep .
}

ndp_mac() { nsx "$1" cat "/sys/class/net/$2/address"; }

# ndp_conf_head FILE: the global settings of a test config.
ndp_conf_head() {
    cat >"$1" <<CONF
user = "$E6_RUN_USER"
control-socket = "$E6_RUN/edge6d.sock"
state-directory = "$E6_STATE"
log-level = "${NDP_LOG_LEVEL:-debug}"
CONF
    chmod 644 "$1"
}

# ndp_conf FILE BODY: a config proxying eth0 with BODY inside its section.
ndp_conf() {
    ndp_conf_head "$1"
    printf 'proxy %s {\n%s\n}\n' "$NDP_IF" "$2" >>"$1"
}

ndp_start() { e6d_start "$1" "$NDP_VPS" "$2"; }

ndp_pid() {
    local var="E6D_PID_$1"
    echo "${!var}"
}

# ndp_ask [-i IF] [-n NS] SPEC...: one NS per SPEC (see ns_tool.py), the
# NAs each drew, one JSON line per SPEC on stdout.
ndp_ask() {
    local ns=$NDP_UP ifc=$NDP_UPIF args=()
    while [ $# -gt 0 ]; do
        case $1 in
        -i) ifc=$2; shift 2 ;;
        -n) ns=$2; shift 2 ;;
        *) args+=(--ns "$1"); shift ;;
        esac
    done
    timeout 30 ip netns exec "$ns" "$E6_PY" "$NDP_TOOL" ask --iface "$ifc" "${args[@]}" 2>>"$E6_WORK/ns_tool.err"
}

# ndp_nas JSONLINES EXPR: EXPR over `r`, the results of ndp_ask (r[i] is
# {"spec", "nas"}).
ndp_nas() {
    "$E6_PY" -c '
import json, sys
r = [json.loads(l) for l in sys.argv[1].splitlines() if l.strip()]
print(eval(sys.argv[2]))' "$1" "$2"
}

# ndp_ping DST [COUNT [INTERVAL]]: prints "RECEIVED/SENT".
ndp_ping() {
    timeout 30 ip netns exec "$NDP_UP" "$E6_PY" "$NDP_TOOL" ping --src "$NDP_UPADDR" --dst "$1" \
        --count "${2:-3}" --interval "${3:-0.2}" | "$E6_PY" -c '
import json, sys
j = json.load(sys.stdin)
print("%d/%d" % (j["received"], j["sent"]))'
}

# ndp_ping_ok DST: at least one of 3 echoes comes back (for wait_for).
ndp_ping_ok() { [ "$(ndp_ping "$1" 3 0.1 | cut -d/ -f1)" -gt 0 ]; }

# ndp_up_neigh ADDR: the upstream's neighbour entry for ADDR on u0.
ndp_up_neigh() { nsx "$NDP_UP" ip -6 neigh show "$1" dev "$NDP_UPIF"; }

# ndp_counter CONF REGEX: sum of counters whose "module.name" matches REGEX.
ndp_counter() {
    e6ctl "$NDP_VPS" "$1" --json counters | "$E6_PY" -c '
import json, re, sys
j = json.load(sys.stdin)
rx = re.compile(sys.argv[1])
print(sum(v for m, c in j.items() if isinstance(c, dict)
          for n, v in c.items() if isinstance(v, int) and rx.search(m + "." + n)))' "$2"
}

# ndp_counters_dump CONF: every counter of edge6d into the log (for failures).
ndp_counters_dump() {
    e6ctl "$NDP_VPS" "$1" counters >"$E6_WORK/counters-$(date +%s%N).txt" 2>&1
}

ndp_neighbors_json() { e6ctl "$NDP_VPS" "$1" --json neighbors; }

ndp_rss_kb() { awk '$1 == "VmRSS:" {print $2}' "/proc/$1/status"; }

# ndp_allmulti NS IF: the interface's allmulti count (`ip -d link`), which a
# PACKET_MR_ALLMULTI membership raises without touching the flags.
ndp_allmulti() {
    nsx "$1" ip -d link show dev "$2" | awk '{for (i = 1; i < NF; i++) if ($i == "allmulti") print $(i + 1)}'
}
# ndp_flags NS IF: the <...> flags of `ip link show`.
ndp_flags() { nsx "$1" ip link show dev "$2" | sed -n '1s/.*<\([^>]*\)>.*/\1/p'; }

# ndp_state CONF TARGET: the state `edge6ctl --json neighbors` gives TARGET
# ("none" when it lists no session for it).
ndp_state() {
    ndp_neighbors_json "$1" | "$E6_PY" -c '
import ipaddress, json, sys
j = json.load(sys.stdin)
t = ipaddress.ip_address(sys.argv[1])
s = [n["state"] for n in j.get("neighbors", []) if ipaddress.ip_address(n["target"]) == t]
print(s[0] if s else "none")' "$2"
}

# ndp_sessions_total CONF: how many sessions edge6d holds.
ndp_sessions_total() {
    ndp_neighbors_json "$1" | "$E6_PY" -c 'import json, sys; print(json.load(sys.stdin)["total"])'
}

# ndp_one_na JSONLINES I EXPR: EXPR over `n`, the only NA drawn by the I-th
# NS (prints "count=K" instead when it drew K != 1 NAs).
ndp_one_na() {
    "$E6_PY" -c '
import json, sys
r = [json.loads(l) for l in sys.argv[1].splitlines() if l.strip()]
i = int(sys.argv[2])
nas = r[i]["nas"] if i < len(r) else []
if len(nas) != 1:
    print("count=%d" % len(nas))
else:
    n = nas[0]
    print(eval(sys.argv[3]))' "$1" "$2" "$3"
}

# ndp_count_nas JSONLINES I: how many NAs the I-th NS drew.
ndp_count_nas() { ndp_nas "$1" "len(r[$2]['nas']) if $2 < len(r) else -1"; }

# ndp_na_desc: the fields of an NA the checks below compare, as one string.
# shellcheck disable=SC2034 # for the tests
NDP_NA_DESC='"src=%s dst=%s l2dst=%s hlim=%d R%dS%dO%d tlla=%s csum=%s code=%d bad_opts=%s" % (n["src"], n["dst"], n["l2dst"], n["hlim"], n["r"], n["s"], n["o"], n["tlla"], n["csum_ok"], n["code"], n["bad_opts"])'

# ndp_status_sum CONF OBJ KEY: from `edge6ctl --json status`, the sum of
# KEY over every object named OBJ that holds it (e.g. sessions total,
# capture drops), wherever it sits: cheap enough to poll under load.
ndp_status_sum() {
    e6ctl "$NDP_VPS" "$1" --json status | "$E6_PY" -c '
import json, sys
obj, key = sys.argv[1], sys.argv[2]
def walk(v, name=None):
    if isinstance(v, dict):
        s = v[key] if name == obj and isinstance(v.get(key), int) else 0
        return s + sum(walk(x, k) for k, x in v.items())
    if isinstance(v, list):
        return sum(walk(x) for x in v)
    return 0
print(walk(json.load(sys.stdin)))' "$2" "$3"
}
