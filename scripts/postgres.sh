#!/usr/bin/env bash
# A throwaway PostgreSQL 15 for the tests: `scripts/postgres.sh start DIR [PORT] [durable]` creates a
# cluster in DIR (initdb), starts it on PORT or a free loopback port (pg_ctl) and prints its URL
# (without fsync, as tests need; `durable` keeps PostgreSQL's defaults, for benchmarks);
# `scripts/postgres.sh stop DIR` stops it by its PID and deletes DIR.
# As root it runs the server as the `postgres` user (PostgreSQL refuses to run as root).
set -euo pipefail

cmd="${1:-}"
dir="${2:-}"
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }

bin=""
for d in /usr/lib/postgresql/15/bin /usr/lib/postgresql/*/bin; do
  if [ -x "$d/initdb" ]; then bin="$d"; break; fi
done
[ -n "$bin" ] || bin="$(dirname "$(command -v initdb)")"

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
  start)
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then chown postgres "$dir"; fi
    port="${3:-}"
    [ -n "$port" ] || port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
    as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    # For tests: no fsync (the data is thrown away). `durable`: PostgreSQL's own defaults.
    opts="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    [ "${4:-}" = durable ] && opts=""
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-p $port -c listen_addresses=127.0.0.1 -k $dir $opts -c max_connections=200" \
      start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    echo "postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
    ;;
  stop)
    if [ -f "$dir/data/postmaster.pid" ]; then
      as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1 \
        || kill "$(head -1 "$dir/data/postmaster.pid")" 2>/dev/null || true
    fi
    rm -rf "$dir"
    ;;
  *)
    echo "usage: $0 start|stop DIR" >&2; exit 2
    ;;
esac
