#!/bin/sh
# What an app's helper outside its session would do (tests/vm/guest.sh, group ipc): after a
# moment, say which cgroup it runs in, fetch URL, then stay around LINGER seconds (so that a
# check can find it by its command line, "escape.sh MARK").
# Usage: escape.sh MARK URL LINGER
sleep 2
echo "ESCAPE $1 cgroup $(sed -n 's/^0:://p' /proc/self/cgroup)"
curl -s -m 5 -o /dev/null "$2"
rc=$?
echo "ESCAPE $1 curl rc $rc"
[ "${3:-0}" -gt 0 ] && sleep "$3"
exit $rc
