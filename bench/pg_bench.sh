#!/usr/bin/env bash
# PostgreSQL against SQLite and MCAP on the same drive, in one run: import
# rate (MB/s of readings), a full read through the store interface (MB/s and
# peak memory, bench_store), and the demo replay at max speed (x real time,
# peak memory), each store in turn; then the read at several fetch sizes.
# Starts a throwaway server (Debian's postgresql) in a temporary folder and
# stops it at the end.  Figures go to docs/benchmarks.md ("PostgreSQL").
#
#   bench/pg_bench.sh [DURATION] [BUILD_DIR]      (default 60s, build)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dur="${1:-60s}"; build="${2:-$root/build}"
rs="$build/bin/replaysim"; bs="$build/bin/bench_store"
work="$(mktemp -d /tmp/rsim-pgbench-XXXXXX)"
trap 'pg_server_stop 2>/dev/null; rm -rf "$work"' EXIT
source "$root/bench/pg_server.sh"
echo "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') (default settings), drive of $dur"

"$rs" generate --quiet --out "$work/drive.db" --duration "$dur" --seed 42 >/dev/null
"$rs" db init "$uri" >/dev/null
mb="$(sqlite3 "$work/drive.db" 'SELECT (sum(length(payload)) + sum(length(meta))) / 1e6 FROM readings')"
timed() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>&1; t1=$(date +%s.%N); awk "BEGIN {print $t1 - $t0}"; }
div() { awk "BEGIN {print $1 / $2}"; }
sync
t_mcap=$(timed "$rs" export "$work/drive.db" --out "$work/drive.mcap")
t_sqlite=$(timed "$rs" import "$work/drive.mcap" --out "$work/back.db")
t_pg=$(timed "$rs" import "$work/drive.db" --out "$uri" --drive d)
printf '\nimport of %.0f MB of readings           seconds    MB/s\n' "$mb"
printf '  SQLite -> MCAP (export)               %7.2f  %6.0f\n' "$t_mcap" "$(div "$mb" "$t_mcap")"
printf '  MCAP -> SQLite (import)               %7.2f  %6.0f\n' "$t_sqlite" "$(div "$mb" "$t_sqlite")"
printf '  SQLite -> PostgreSQL (import, COPY)   %7.2f  %6.0f\n' "$t_pg" "$(div "$mb" "$t_pg")"

echo; echo "full read through the store interface (bench_store, best of 3)"
for s in "$work/drive.db" "$work/drive.mcap" "$uri?drive=d"; do
  printf '  %-8s %s\n' "$(case "$s" in *.db) echo SQLite;; *.mcap) echo MCAP;; *) echo Postgres;; esac)" "$("$bs" "$s" 3)"
done
echo; echo "demo replay at max speed (replaysim run --speed max)"
for s in "$work/drive.db" "$work/drive.mcap" "$uri?drive=d"; do
  out="$("$rs" run "$root/examples/demo/graph.yaml" --store "$s" --speed max --quiet)"
  printf '  %-8s %s, %s, %s\n' "$(case "$s" in *.db) echo SQLite;; *.mcap) echo MCAP;; *) echo Postgres;; esac)" \
    "$(grep -o '[0-9.]*x real time' <<<"$out")" "$(grep -o 'peak memory: .*' <<<"$out")" "$(grep -o 'digest: .\{12\}' <<<"$out")"
done
echo; echo "PostgreSQL read at several fetch sizes (RSIM_PG_FETCH_BYTES; bench_store, best of 3)"
for fb in 65536 262144 1048576 4194304 16777216; do
  printf '  %8d  %s\n' "$fb" "$(RSIM_PG_FETCH_BYTES=$fb "$bs" "$uri?drive=d" 3)"
done
