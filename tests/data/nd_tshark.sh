#!/bin/sh
# tests/data/nd_tshark: interop check of the ND codec against a decoder no one
# here wrote. test_nd writes its golden messages and a builder-made RA with
# every option into a pcap; tshark must find every checksum good, report no
# malformed packet or expert warning, and decode the options to the values
# the tests assert. Skipped (77) when tshark is not installed.
set -u
TEST_ND=./tests/unit/test_nd
command -v tshark >/dev/null 2>&1 || { echo "tshark not installed: skipped"; exit 77; }
[ -x "$TEST_ND" ] || { echo "run from the build directory (no $TEST_ND)"; exit 99; }

tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT INT TERM
E6_ND_PCAP="$tmp/nd.pcap" "$TEST_ND" >"$tmp/test.log" 2>&1 || { cat "$tmp/test.log"; exit 1; }
tshark -n -r "$tmp/nd.pcap" -V >"$tmp/decode.txt" 2>"$tmp/tshark.err" || {
    cat "$tmp/tshark.err"; exit 1; }

fails=0
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

frames=$(grep -c '^Frame [0-9]' "$tmp/decode.txt")
good=$(grep -c 'Checksum Status: Good' "$tmp/decode.txt")
[ "$frames" -eq 7 ] || bad "expected 7 frames, tshark read $frames"
[ "$good" -eq "$frames" ] || bad "only $good of $frames ICMPv6 checksums good"
if grep -nE 'Malformed|Expert Info|\[Checksum Status: Bad' "$tmp/decode.txt"; then
    bad "tshark found problems (lines above)"
fi

while IFS= read -r want; do
    [ -n "$want" ] || continue
    grep -qF -- "$want" "$tmp/decode.txt" || bad "tshark did not decode: $want"
done <<'WANT'
Router Solicitation (133)
Neighbor Solicitation (135)
Neighbor Advertisement (136)
Redirect (137)
Prf (Default Router Preference): High (1)
Router lifetime (s): 1800
Link-layer address: 00:00:5e:00:53:01
MTU: 1480
Prefix: 2001:db8:1::
Valid Lifetime: 86400
Preferred Lifetime: 14400
Route Information : High 2001:db8:2::/48
Route Information : Medium ::/0
Route Information : Medium 2001:db8:9::/65
Route Information : Medium 2001:db8:9::1/128
Recursive DNS Servers: 2001:db8:1::53
Domain Names: example.com
Domain Names: lab.example.org
Domain Names: B-2.example.net
Scaled Lifetime: 225
PLC (Prefix Length Code): 96 bits prefix length (0x0)
PLC (Prefix Length Code): 56 bits prefix length (0x2)
Captive Portal: https://portal.example/api
Nonce: 010203040506
Target Address: 2001:db8:1::10
Destination Address: 2001:db8:9::1
WANT

if [ "$fails" -ne 0 ]; then
    echo "decode kept in nd_tshark.decode.txt"
    cp "$tmp/decode.txt" nd_tshark.decode.txt
    exit 1
fi
echo "tshark decoded $frames ND messages cleanly"
exit 0
