#!/usr/bin/env bash
# sd_notify: edge6d tells a Type=notify service manager READY=1 once it
# serves, RELOADING=1 then READY=1 around a reload, STOPPING=1 on SIGTERM.
# systemd is not PID 1 in CI, so a small listener plays its part.
. "$(dirname "$0")/lib.sh"

ns=$(ns_new notify)
conf=$(e6d_conf notify)
e6d_prepare
cat >"$conf" <<CONF
user = "$E6_RUN_USER"
control-socket = "$E6_RUN/edge6d.sock"
state-directory = "$E6_STATE"
log-level = "info"
CONF

e6_bg listener "$ns" /usr/bin/python3 "$E6_SRCDIR/tests/netns/notify_listener.py" \
    "$E6_WORK/notify-socket" "$E6_WORK/notify.txt"
wait_for 5 "notify listener socket" test -S "$E6_WORK/notify-socket"

NOTIFY_SOCKET="$E6_WORK/notify-socket" e6d_start d "$ns" "$conf"
wait_for 5 "READY=1" grep -q 'READY=1' "$E6_WORK/notify.txt"
assert_match "first message says READY=1 and who we are" 'READY=1.*STATUS=|STATUS=.*READY=1' \
    "$(head -1 "$E6_WORK/notify.txt")"

lines_before=$(wc -l <"$E6_WORK/notify.txt")
kill -HUP "$E6D_PID_d"
wait_for 5 "READY=1 after RELOADING=1" bash -c \
    "tail -n +$((lines_before + 1)) '$E6_WORK/notify.txt' | grep -q RELOADING=1 &&
     tail -n +$((lines_before + 1)) '$E6_WORK/notify.txt' | sed -n '/RELOADING=1/,\$p' | grep -q READY=1"
ok "SIGHUP: RELOADING=1 then READY=1"

e6d_stop d
wait_for 5 "STOPPING=1" grep -q 'STOPPING=1' "$E6_WORK/notify.txt"
ok "SIGTERM: STOPPING=1"
echo "--- notify messages" >&2
cat "$E6_WORK/notify.txt" >&2
e6_done
