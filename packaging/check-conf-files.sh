#!/bin/sh
# make check: the installed configuration and the example both pass edge6d -t
set -e
srcdir=${srcdir:-.}
for f in "$srcdir/packaging/edge6d.conf" "$srcdir/conf/edge6d.conf"; do
    ./daemon/edge6d -t -c "$f"
done
