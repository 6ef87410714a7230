#!/usr/bin/env bash
# Batches, in two parts.  Figures go to docs/benchmarks.md ("Batches").
#
# 1. Scaling: the same batch of 8 jobs (a drive of 8 scenes cut into
#    SCENE-long scenes, no warm-up, the demo graph, runs not recorded) with
#    1 and 2 workers: --jobs 1 / 2, and mpirun with 1 / 2 worker ranks
#    (rank 0 only deals).  Prints wall times, best of REPEATS, and the
#    efficiency T1 / (2 * T2).
# 2. What one job costs the parts that do not grow with the workers, for
#    the paper scaling to many nodes: the bytes of drive a job reads, the
#    size of its result message, and the time to record one job's result
#    in a results file and in PostgreSQL (a throwaway server started here).
#
#   bench/batch_bench.sh [REPEATS] [BUILD_DIR] [SCENE]   (default 3, build, 20s)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
reps="${1:-3}"; build="${2:-$root/build}"; scene="${3:-20s}"
rs="$build/bin/replaysim"
work="$(mktemp -d /tmp/rsim-batchbench-XXXXXX)"
trap 'pg_server_stop 2>/dev/null; rm -rf "$work"' EXIT
scene_s="$(sed 's/s$//' <<<"$scene")"
echo "generating a drive of $((8 * scene_s)) s (8 scenes of $scene)..." >&2
"$rs" generate --quiet --out "$work/drive.db" --duration "$((8 * scene_s))s" --seed 42 >/dev/null
graph="$root/examples/demo/graph.yaml"
args=("$graph" --stores "$work/drive.db" --scenes "$scene" --warmup 0 --no-runs --quiet)
mpi=(env OMPI_MCA_btl_vader_single_copy_mechanism=none mpirun --allow-run-as-root --oversubscribe)
timed() { local t0 t1; rm -f "$work/r.db"; t0=$(date +%s.%N); "$@" --out "$work/r.db" >/dev/null 2>&1; t1=$(date +%s.%N)
          [ "$(sqlite3 "$work/r.db" "SELECT count(*) FROM jobs WHERE status='ok'")" = 8 ] || { echo "batch failed: $*" >&2; exit 1; }
          awk "BEGIN {print $t1 - $t0}"; }
best() { sort -g | head -1; }
echo "1. scaling: 8 jobs of $scene, best of $reps"
for mode in jobs mpi; do
  for w in 1 2; do
    for _ in $(seq "$reps"); do
      if [ $mode = jobs ]; then timed "$rs" batch "${args[@]}" --jobs $w; else timed "${mpi[@]}" -n $((w + 1)) "$rs" batch "${args[@]}"; fi
    done | best > "$work/$mode$w"
  done
  t1=$(cat "$work/${mode}1"); t2=$(cat "$work/${mode}2")
  awk -v m="$mode" -v a="$t1" -v b="$t2" 'BEGIN { printf "  %-5s 1 worker %6.2fs  2 workers %6.2fs  efficiency T1/(2*T2) = %.2f\n", m, a, b, a / (2 * b) }'
done
echo "  load average: $(cut -d' ' -f1-3 /proc/loadavg)"

echo "2. one job's costs (a job = one $scene scene of the demo graph)"
rm -f "$work/r.db"; "$rs" batch "${args[@]}" --jobs 2 --out "$work/r.db" >/dev/null 2>&1
sqlite3 "$work/r.db" "SELECT printf('  job wall time: mean %.2f s (%.1fx real time); readings %d a job', avg(wall_s), $scene_s / avg(wall_s), avg(readings)) FROM jobs"
mb="$(sqlite3 "$work/drive.db" "SELECT (sum(length(payload)) + sum(length(meta))) / 1e6 / 8 FROM readings")"
printf '  drive read by a job: %.0f MB (%.0f MB/s of reading per worker)\n' "$mb" \
  "$(sqlite3 "$work/r.db" "SELECT $mb / avg(wall_s) FROM jobs")"
for target in "$work/rec.db" pg; do
  if [ "$target" = pg ]; then
    ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || continue
    source "$root/bench/pg_server.sh"; target="$uri"
  fi
  printf '  rank 0, a job into %s: %s\n' "$(case "$target" in postgresql*) echo PostgreSQL;; *) echo "a results file";; esac)" \
    "$("$build/bin/bench_batchdb" "$work/r.db" "$target" 50)"
done
