#!/usr/bin/env bash
# The embedded broker: a private Redis server on a Unix socket under DIR (no TCP port), every write appended to
# DIR/appendonly and synced before it is acknowledged, so a queued task survives a crash of any process.
# Used by `make run` (through supervisord), the test suite and the benchmarks. Usage: embedded-redis.sh DIR
set -euo pipefail
dir=${1:?usage: embedded-redis.sh DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
exec redis-server - <<CONF
port 0
unixsocket $dir/redis.sock
unixsocketperm 700
dir $dir
pidfile $dir/redis.pid
logfile ""
loglevel warning
save ""
appendonly yes
appendfsync always
appenddirname appendonly
daemonize no
CONF
