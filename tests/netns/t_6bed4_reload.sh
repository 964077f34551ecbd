#!/usr/bin/env bash
# Reloads of the VPS's edge6d against its 6bed4 router (lib_6bed4.sh draws
# the topology), one peer behind NAT a:
#   - a refused reload (a 6bed4 prefix with host bits) leaves the router
#     carrying, its peer table and first-heard times intact
#   - three reloads in a row that each change the 6bed4 section
#     (peer-timeout 30, 40, 50: the tunnel is re-created each time): after
#     each one the TUN b4 is there with its /64 route, `status` shows the
#     new peer-timeout, and the internet host reaches the peer again (the
#     provider's neighbour cache flushed, so the proxy has to answer: the
#     new table learns the peer from its keepalives)
# The VPS's edge6d has dropped root by then and /dev/net/tun here is 0600:
# a re-created tunnel keeps its TUN (the same ifindex each time) rather
# than opening the device again.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_edge6d.sh"
. "$(dirname "$0")/lib_radv.sh"
. "$(dirname "$0")/lib_tun.sh"
. "$(dirname "$0")/lib_6bed4.sh"

e6d_prepare
b4_topo
b4_nat a
vconf=$(e6d_conf vps)
B4_VPS_TUN='    peer-timeout = 20'
b4_vps_conf "$vconf"
b4_peer_conf "$(e6d_conf peera)" a
b4_start_vps "$vconf"
b4_start_peer a "$(e6d_conf peera)"
wait_for 15 "peer a's address" b4_addr a
A=$(b4_addr a)
read -r av4 aport _ <<<"$(b4_decode "$A")"
wait_for 10 "the internet host reaches peer a" b4_ping "$B4_INET" "$A"
e6_log "/dev/net/tun: $(stat -c '%A %U' /dev/net/tun)"

# --- a refused reload changes nothing
sleep 2
first() { json_get "$(b4_peers "$B4_VPS" "$vconf" json)" 'min([p["first_heard_s"] for t in j["tunnels"] for p in t["peers"]] or [-1])'; }
f0=$(first)
cp "$vconf" "$vconf.good"
sed -i "s|^    prefix = .*|    prefix = \"2001:db8:9:10::5/64\"|" "$vconf"
assert_fail "a reload with a bad 6bed4 prefix is refused" e6ctl "$B4_VPS" "$vconf" reload
cp "$vconf.good" "$vconf"
f1=$(first)
assert_eq "after the refused reload: peer a's entry kept (first heard $f0 s -> $f1 s)" 1 "$((f0 >= 2 && f1 >= f0))"
assert_ok "after the refused reload: the internet host pings peer a" b4_ping "$B4_INET" "$A"

# --- three reloads that re-create the tunnel
ifx=$(nsx "$B4_VPS" cat /sys/class/net/$B4_NAME/ifindex)
# shellcheck disable=SC2317 # called by wait_for
listed() { b4_peer_listed "$(b4_peers "$B4_VPS" "$vconf" json)" "$av4" "$aport"; }
for pt in 30 40 50; do
    sed -i "s|^    peer-timeout = .*|    peer-timeout = $pt|" "$vconf"
    e6ctl "$B4_VPS" "$vconf" reload >"$E6_WORK/reload-$pt.txt" 2>&1
    assert_eq "reload (peer-timeout = $pt) applied whole" 0 "$?"
    assert_eq "peer-timeout = $pt: TUN b4 there, the same one (ifindex $ifx)" "$ifx" \
        "$(nsx "$B4_VPS" cat /sys/class/net/$B4_NAME/ifindex 2>&1)"
    assert_match "peer-timeout = $pt: the /64 routed into b4" "^2001:db8:9:10::/64 dev $B4_NAME" \
        "$(nsx "$B4_VPS" ip -6 route show proto 231)"
    assert_eq "peer-timeout = $pt: status --json says so" "$pt" \
        "$(json_get "$(tun_status_json "$B4_VPS" "$vconf")" '" ".join(str(v) for v in __import__("re").findall(r"\"peer_timeout\": *([0-9]+)", json.dumps(j)))')"
    wait_for 6 "peer-timeout = $pt: peer a back in the table (keepalives every 2 s)" listed
    nsx "$B4_UP" ip -6 neigh flush dev u0
    assert_ok "peer-timeout = $pt: the internet host reaches peer a through the proxy" b4_ping "$B4_INET" "$A"
done
assert_eq "no module failed to apply a reload (vps.log)" "" "$(grep -E 'could not apply|reconcile failed' "$E6_WORK/vps.log")"

tun_stop peer_a vps
e6_done
