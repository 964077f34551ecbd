#!/bin/sh
# make check: the installed configuration, the example and the README's
# configuration example all pass edge6d -t
set -e
srcdir=${srcdir:-.}
for f in "$srcdir/packaging/edge6d.conf" "$srcdir/conf/edge6d.conf"; do
    ./daemon/edge6d -t -c "$f"
done
# the README's example is the fenced block that starts with "user"
readme=$(mktemp)
trap 'rm -f "$readme"' EXIT
awk '/^```/ { if (inblock) exit; next } /^user / { inblock = 1 } inblock' \
    "$srcdir/README.md" >"$readme"
test -s "$readme"
./daemon/edge6d -t -c "$readme"
