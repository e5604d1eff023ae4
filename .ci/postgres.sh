#!/usr/bin/env bash
# A private PostgreSQL server for the OAuth state tests: Debian's packages (installed with apt-get when missing),
# a fresh cluster in a temporary folder, listening on 127.0.0.1 only at a free port, trust auth for one test role.
#   .ci/postgres.sh start DIR   prints the URL (postgresql://...) on stdout; the server runs until `stop`
#   .ci/postgres.sh stop DIR
# Run as root (CI): the server itself runs as the `postgres` user, which initdb requires.
set -euo pipefail
cmd=${1:?start|stop} dir=${2:?folder for the cluster}

bin_dir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

case $cmd in
start)
    if [ -z "$(bin_dir)" ]; then
        echo "installing PostgreSQL from Debian's packages" >&2
        DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2
    fi
    bin=$(bin_dir)
    mkdir -p "$dir"
    [ "$(id -u)" != 0 ] || chown postgres: "$dir"
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    as_postgres "$bin/initdb" -D "$dir/data" -U postgres --auth=trust >/dev/null
    as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off" start >&2
    as_postgres "$bin/psql" -q -h 127.0.0.1 -p "$port" -U postgres -c "CREATE DATABASE mcp_state" >&2
    echo "$port" >"$dir/port"
    echo "postgresql://postgres@127.0.0.1:$port/mcp_state"
    ;;
stop)
    bin=$(bin_dir)
    [ -d "$dir/data" ] && as_postgres "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
    ;;
*)
    echo "usage: $0 start|stop DIR" >&2
    exit 2
    ;;
esac
