# Sourced by the benchmarks that need PostgreSQL: starts a throwaway server
# (Debian's postgresql, default settings but for a socket folder; fsync on)
# in $work/data on a free port, as the postgres user when run as root, and
# sets $uri (database postgres), $bindir and PGPASSWORD.  pg_server_stop
# stops it; the caller's EXIT trap calls it.
bindir="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
chmod 755 "$work"
as_pg=(); [ "$(id -u)" -eq 0 ] && as_pg=(runuser -u postgres --)
echo pw >"$work/pw"; [ "$(id -u)" -eq 0 ] && chown postgres "$work" "$work/pw"
pg_server_stop() { "${as_pg[@]}" "$bindir/pg_ctl" -D "$work/data" -m fast -w stop >/dev/null 2>&1 || true; }
"${as_pg[@]}" "$bindir/initdb" -D "$work/data" -U rsim --pwfile="$work/pw" -A scram-sha-256 -E UTF8 --locale=C >/dev/null
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"${as_pg[@]}" "$bindir/pg_ctl" -D "$work/data" -l "$work/log" -w -o "-c listen_addresses=127.0.0.1 -p $port -k $work" start >/dev/null
export PGPASSWORD=pw
uri="postgresql://rsim@127.0.0.1:$port/postgres"
