#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests and benchmarks: Debian's server (installed when
# missing), initdb in a temporary directory as an unprivileged user, on a free loopback port.
#
#   eval "$(bash scripts/postgres.sh start)"   # exports SLUICE_TEST_POSTGRES and SLUICE_PG_DIR
#   bash scripts/postgres.sh stop "$SLUICE_PG_DIR"
#
# The cluster trusts local connections and skips fsync: it lives for one run and holds test
# data only. Never point it at data you keep.
set -euo pipefail

bin_dir() {
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
    [[ -n "$dir" ]] && echo "$dir"
}

case "${1:-}" in
start)
    if [[ -z "$(bin_dir)" ]]; then
        bash "$(dirname "$0")/install-deps.sh" postgresql >&2
    fi
    bin=$(bin_dir)
    # The server refuses to run as root: as root, the cluster belongs to Debian's postgres user.
    user=$(id -un)
    [[ $(id -u) -eq 0 ]] && user=postgres
    dir=$(mktemp -d /tmp/sluice-pg.XXXXXX)
    chown "$user" "$dir"
    chmod 700 "$dir"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    as_user() { if [[ $(id -un) == "$user" ]]; then "$@"; else runuser -u "$user" -- "$@"; fi; }
    as_user "$bin/initdb" -D "$dir/data" -U sluice --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
    as_user "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
        >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    echo "export SLUICE_TEST_POSTGRES='postgres://sluice@127.0.0.1:$port/postgres?sslmode=disable'"
    echo "export SLUICE_PG_DIR='$dir'"
    echo "export SLUICE_PG_PORT='$port'"
    echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port ($dir)" >&2
    ;;
stop)
    dir=${2:?the directory printed by start}
    [[ -d "$dir/data" ]] || exit 0
    bin=$(bin_dir)
    user=$(stat -c %U "$dir")
    if [[ $(id -un) == "$user" ]]; then
        "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    else
        runuser -u "$user" -- "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
*)
    echo "usage: $0 start | stop DIR" >&2
    exit 2
    ;;
esac
