#!/usr/bin/env bash
# The control socket under misuse: unknown and malformed requests, requests
# in pieces, overlong requests, clients that never speak, more clients than
# allowed; and edge6ctl's exit statuses for each kind of failure. `peers`
# with every kind of TUNNEL argument, against running tunnels.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_edge6d.sh"

e6d_prepare
conf=$(e6d_conf ctl)
e6d_example_conf "$conf"
sock=$(e6d_socket "$conf")
ns=$(ns_new ctl)
e6d_start d "$ns" "$conf"

# raw CLIENT-SCRIPT: run python with `sock` bound to the socket path and
# helpers `conn()` and `answer(s)` (everything until the server closes).
raw() {
    nsx "$ns" "$E6_PY" -c "
import socket, sys, time
sock = sys.argv[1]
def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock)
    return s
def answer(s, limit=10):
    # a bytearray and large reads: appending to bytes copies everything
    # read so far, which on a loaded box made a 5 MB answer outlast the
    # daemon's 2 s client deadline
    s.settimeout(limit)
    out = bytearray()
    while True:
        try:
            d = s.recv(1 << 20)
        except ConnectionResetError:
            # the server closed with our excess bytes unread
            return out.decode('utf-8', 'replace')
        if not d:
            return out.decode('utf-8', 'replace')
        out += d
$1" "$sock"
}
counter() { json_get "$(nsx "$ns" "$EDGE6CTL" -s "$sock" -j counters)" "j['daemon']['$1']"; }

# --- edge6ctl: usage and errors
out=$(e6ctl "$ns" "$conf" bogus 2>&1)
assert_eq "unknown command exits 1" 1 $?
assert_match "unknown command: ERR lists the commands" \
    "unknown command 'bogus' \(commands: status, counters, ra, neighbors, peers, reload, help\)" "$out"
out=$(nsx "$ns" "$EDGE6CTL" -s "$sock" 2>&1)
assert_eq "no command exits 2" 2 $?
assert_match "no command: usage hint" "Try 'edge6ctl --help'" "$out"
out=$(nsx "$ns" "$EDGE6CTL" -s "$sock" -c "$conf" status 2>&1)
assert_eq "-s with -c exits 2" 2 $?
out=$(nsx "$ns" "$EDGE6CTL" --frobnicate status 2>&1)
assert_eq "unknown option exits 2" 2 $?
out=$(nsx "$ns" "$EDGE6CTL" -s "$sock" status counters 2>&1)
assert_eq "two commands exit 2" 2 $?
out=$(nsx "$ns" "$EDGE6CTL" -s "$E6_RUN/nothing-here.sock" status 2>&1)
assert_eq "no daemon on the socket exits 3" 3 $?
assert_match "no daemon: says so" "cannot connect to $E6_RUN/nothing-here.sock: .*is edge6d running" "$out"
out=$(nsx "$ns" "$EDGE6CTL" -c "$conf" status 2>&1)
assert_eq "-c CONF finds the socket" 0 $?
printf 'nonsense {\n' >"$E6_WORK/bad.conf"
out=$(nsx "$ns" "$EDGE6CTL" -c "$E6_WORK/bad.conf" status 2>&1)
assert_eq "-c with a broken config exits 2" 2 $?
assert_match "-c with a broken config prints FILE:LINE" "$E6_WORK/bad.conf:[0-9]+: " "$out"
assert_match "edge6ctl --version" "^edge6ctl [0-9]" "$("$EDGE6CTL" --version)"
out=$(e6ctl "$ns" "$conf" -j reload 2>&1)
assert_eq "reload json: rejected argument exits 1" 1 $?

# --- peers [TUNNEL] [json]: the example runs no 6bed4 router
out=$(e6ctl "$ns" "$conf" peers 2>&1)
assert_eq "peers without a 6bed4 router exits 0" 0 $?
out=$(e6ctl "$ns" "$conf" -j peers 2>&1)
assert_ok "peers --json is valid JSON" valid_json "$out"
out=$(e6ctl "$ns" "$conf" peers nosuch 2>&1)
assert_eq "peers of an unknown tunnel exits 1" 1 $?
assert_match "peers of an unknown tunnel: says so" "^edge6ctl: no tunnel 'nosuch' in the configuration" "$out"
out=$(e6ctl "$ns" "$conf" -j peers nosuch 2>&1)
assert_eq "peers --json of an unknown tunnel exits 1" 1 $?
out=$(e6ctl "$ns" "$conf" peers t1 t2 2>&1)
assert_eq "peers with two tunnels exits 2" 2 $?
assert_match "peers with two tunnels: says one at most" "peers takes one tunnel at most" "$out"
out=$(e6ctl "$ns" "$conf" peers 0123456789abcdefg 2>&1)
assert_eq "peers with an overlong name exits 2" 2 $?
assert_match "peers with an overlong name: not a tunnel name" "is not a tunnel name" "$out"

bad0=$(counter control_bad_requests)

# --- raw protocol
a=$(raw 's = conn(); s.sendall(b"help\n"); print(answer(s))')
assert_match "help: OK first" "^OK$" "$(printf '%s\n' "$a" | head -1)"
a=$(raw 's = conn(); s.sendall(b"sta"); time.sleep(0.3); s.sendall(b"tus js"); time.sleep(0.3); s.sendall(b"on\n"); print(answer(s))')
assert_eq "request in three pieces is answered" OK "$(printf '%s\n' "$a" | head -1)"
assert_ok "request in pieces: JSON body valid" valid_json "$(printf '%s\n' "$a" | tail -n +2)"
a=$(raw 's = conn(); s.sendall(b"counters"); s.shutdown(socket.SHUT_WR); print(answer(s))')
assert_eq "request ended by shutdown instead of newline" OK "$(printf '%s\n' "$a" | head -1)"
a=$(raw 's = conn(); s.sendall(b"status\r\n"); print(answer(s))')
assert_eq "CRLF line ending accepted" OK "$(printf '%s\n' "$a" | head -1)"
a=$(raw 's = conn(); s.sendall(b"x" * 300); print(answer(s))')
assert_match "300-byte request: ERR too long" "^ERR request too long \(limit 256 bytes\)" "$a"
a=$(raw 's = conn(); s.sendall(b"status\x00json\n"); print(answer(s))')
assert_match "NUL in request: ERR" "^ERR request contains a control" "$a"
a=$(raw 's = conn(); s.sendall(b"status \xff\n"); print(answer(s))')
assert_match "non-ASCII in request: ERR" "^ERR request contains a control or non-ASCII" "$a"
a=$(raw 's = conn(); s.sendall(b"\n"); print(answer(s))')
assert_match "empty request: ERR" "^ERR empty request" "$a"
a=$(raw 's = conn(); s.sendall(b"status yaml\n"); print(answer(s))')
assert_match "bad argument: ERR names it" "^ERR bad argument 'yaml' to status" "$a"
a=$(raw 's = conn(); s.sendall(b"status json please\n"); print(answer(s))')
assert_match "extra argument: ERR" "^ERR too many arguments" "$a"
a=$(raw 's = conn(); s.sendall(b"peers a/b\n"); print(answer(s))')
assert_match "peers with a slash: ERR not a tunnel name" "^ERR 'a/b' is not a tunnel name" "$a"
a=$(raw 's = conn(); s.sendall(b"peers x yaml\n"); print(answer(s))')
assert_match "peers NAME yaml: ERR names it" "^ERR bad argument 'yaml' to peers \(expected: peers \[TUNNEL\] \[json\]\)" "$a"
a=$(raw 's = conn(); s.sendall(b"status\nstatus\nstatus\n"); print(answer(s).splitlines().count("OK"))')
assert_eq "one answer per connection" 1 "$a"
bad1=$(counter control_bad_requests)
# too long, NUL, 0xff, empty, yaml, extra, peers a/b, peers x yaml
assert_eq "control_bad_requests counts each bad request" "$((bad0 + 8))" "$bad1"

# --- a client that never speaks is cut off after 2 s
t0=$(counter control_timeouts)
a=$(raw 's = conn(); t = time.time(); r = answer(s); print("%.1f %r" % (time.time() - t, r))')
secs=${a%% *}
if awk -v s="$secs" 'BEGIN { exit !(s >= 1.5 && s <= 4.0) }'; then ok "silent client closed after ${secs}s"; else
    fail "silent client closed after ${secs}s (expected about 2 s): $a"; fi
assert_eq "control_timeouts counted" "$((t0 + 1))" "$(counter control_timeouts)"

# --- more clients than allowed: the 17th gets ERR busy, the loop stays responsive
o0=$(counter control_overload)
a=$(raw '
held = [conn() for _ in range(16)]
time.sleep(0.3)
extra = conn()
print(answer(extra, 3).strip())
')
assert_match "17th concurrent client: ERR busy" "^ERR busy" "$a"
assert_eq "control_overload counted" "$((o0 + 1))" "$(counter control_overload)"
# edge6ctl refused the same way: exit 1 with the reason, not a reset connection
raw '
held = [conn() for _ in range(16)]
open(sys.argv[1] + ".held", "w").close()
time.sleep(1.5)
' &
holder=$!
wait_for 2 "16 clients held" test -e "$sock.held"
out=$(e6ctl "$ns" "$conf" status 2>&1)
assert_eq "edge6ctl while 16 clients are served: exit 1" 1 $?
assert_match "edge6ctl while 16 clients are served: says busy" "^edge6ctl: busy" "$out"
wait "$holder"
rm -f "$sock.held"
# the held clients were closed when python exited; the daemon serves again
assert_ok "daemon serves after the crowd leaves" e6ctl "$ns" "$conf" status

# a flood of connections that never speak does not stop the daemon
raw '
import os
held = []
for _ in range(200):
    try:
        held.append(conn())
    except OSError:
        pass
time.sleep(0.5)
' >/dev/null 2>&1
for _ in $(seq 30); do e6ctl "$ns" "$conf" status >/dev/null 2>&1 && break; sleep 0.1; done
assert_ok "daemon serves after a connection flood" e6ctl "$ns" "$conf" status

# --- an answer larger than the socket buffer: written as the client reads
# (EPOLLOUT), and a client that stops reading cannot stall the loop
e6d_stop d
big=$(e6d_conf big)
e6d_example_conf "$big"
seq -f 'interface e6if%05g { }' 1 9000 >>"$big"
e6d_start big "$ns" "$big"
n=$(raw '
s = conn(); s.sendall(b"status json\n"); time.sleep(0.5)
a = answer(s)
import json
head, body = a.split("\n", 1)
print(head, len(body) > 250000, len(json.loads(body)["daemon"]["interfaces"]))
')
assert_eq "large answer arrives whole to a slow reader" "OK True $((9000 + $(grep -c '^interface ' "$conf")))" "$n"
t0=$(counter control_timeouts)
raw '
s = conn(); s.sendall(b"status json\n")
time.sleep(3)
' &
stuck=$!
sleep 0.5
assert_ok "loop serves others while one client does not read" e6ctl "$ns" "$big" status
wait "$stuck"
assert_eq "client that stops reading is cut off (control_timeouts)" "$((t0 + 1))" "$(counter control_timeouts)"
e6d_stop big

# --- peers TUNNEL against running tunnels: a 6bed4 router, a 6bed4 peer of
# it on the same box (over lo), a 6in4 client; only the router has peers
tns=$(ns_new ctltun)
nsx "$tns" ip addr add 192.0.2.1/32 dev lo
tconf=$(e6d_conf tun)
e6d_example_conf "$tconf" "$E6_RUN/tun.sock"
cat >>"$tconf" <<'CONF'
tunnel b4 { type = 6bed4 mode = router local = 192.0.2.1 prefix = "2001:db8:9:10::/64" }
tunnel b4peer { type = 6bed4 mode = peer router = 192.0.2.1 default-route = no }
tunnel he6 {
    type = 6in4 mode = client local = 192.0.2.1 remote = 198.51.100.9
    client-address = "2001:db8:1::2/64" kernel = no default-route = no
}
CONF
e6d_start tun "$tns" "$tconf"
b4_has_peer() { e6ctl "$tns" "$tconf" peers b4 | grep -q '192\.0\.2\.1:'; }
wait_for 10 "the peer b4peer solicited the router b4" b4_has_peer
out=$(e6ctl "$tns" "$tconf" peers b4 2>&1)
assert_eq "peers b4 (a 6bed4 router) exits 0" 0 $?
assert_match "peers b4: the router with its prefix" "b4: prefix 2001:db8:9:10::/64" "$out"
assert_match "peers b4: its peer's endpoint" "192\.0\.2\.1:[0-9]+ " "$out"
out=$(e6ctl "$tns" "$tconf" -j peers b4 2>&1)
assert_ok "peers b4 --json is valid JSON" valid_json "$out"
assert_eq "peers b4 --json: only b4, one peer at 192.0.2.1" "b4 1 192.0.2.1" \
    "$(json_get "$out" '" ".join([t["name"] for t in j["tunnels"]] + [str(len(j["tunnels"][0]["peers"])), j["tunnels"][0]["peers"][0]["endpoint"].split(":")[0]])')"
out=$(e6ctl "$tns" "$tconf" -j peers 2>&1)
assert_eq "peers --json: every router, and only routers" "b4" \
    "$(json_get "$out" '" ".join(t["name"] for t in j["tunnels"])')"
out=$(e6ctl "$tns" "$tconf" peers b4peer 2>&1)
assert_eq "peers of a 6bed4 peer exits 1" 1 $?
assert_match "peers of a 6bed4 peer: says so" \
    "^edge6ctl: 6bed4 tunnel 'b4peer' is a peer: only 6bed4 routers have peers" "$out"
out=$(e6ctl "$tns" "$tconf" peers he6 2>&1)
assert_eq "peers of a 6in4 tunnel exits 1" 1 $?
assert_match "peers of a 6in4 tunnel: says so" \
    "^edge6ctl: tunnel 'he6' is a 6in4 tunnel: only 6bed4 routers have peers" "$out"
out=$(e6ctl "$tns" "$tconf" -j status 2>&1)
assert_eq "status --json: the 6bed4 module lists b4 and b4peer" "b4 b4peer" \
    "$(json_get "$out" '" ".join(t["name"] for t in j["6bed4"]["tunnels"])')"
e6d_stop tun
e6_done
