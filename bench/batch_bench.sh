#!/usr/bin/env bash
# The same batch of 8 jobs (a 16 s drive cut into 2 s scenes, no warm-up,
# the demo graph, runs not recorded) with 1 and 2 workers: --jobs 1 / 2,
# and mpirun with 1 / 2 worker ranks (rank 0 only deals).  Prints wall
# times and the efficiency T1 / (2 * T2).  Figures go to docs/benchmarks.md
# ("Batches").
#
#   bench/batch_bench.sh [REPEATS] [BUILD_DIR]      (default 3, build)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
reps="${1:-3}"; build="${2:-$root/build}"
rs="$build/bin/replaysim"
work="$(mktemp -d /tmp/rsim-batchbench-XXXXXX)"
trap 'rm -rf "$work"' EXIT
"$rs" generate --quiet --out "$work/drive.db" --duration 16s --seed 42 >/dev/null
graph="$root/examples/demo/graph.yaml"
args=("$graph" --stores "$work/drive.db" --scenes 2s --warmup 0 --no-runs --quiet)
mpi=(env OMPI_MCA_btl_vader_single_copy_mechanism=none mpirun --allow-run-as-root --oversubscribe)
timed() { local t0 t1; rm -f "$work/r.db"; t0=$(date +%s.%N); "$@" --out "$work/r.db" >/dev/null 2>&1; t1=$(date +%s.%N)
          [ "$(sqlite3 "$work/r.db" "SELECT count(*) FROM jobs WHERE status='ok'")" = 8 ] || { echo "batch failed: $*" >&2; exit 1; }
          awk "BEGIN {print $t1 - $t0}"; }
best() { sort -g | head -1; }
for mode in jobs mpi; do
  for w in 1 2; do
    for _ in $(seq "$reps"); do
      if [ $mode = jobs ]; then timed "$rs" batch "${args[@]}" --jobs $w; else timed "${mpi[@]}" -n $((w + 1)) "$rs" batch "${args[@]}"; fi
    done | best > "$work/$mode$w"
  done
  t1=$(cat "$work/${mode}1"); t2=$(cat "$work/${mode}2")
  awk -v m="$mode" -v a="$t1" -v b="$t2" 'BEGIN { printf "%-5s 1 worker %6.2fs  2 workers %6.2fs  efficiency T1/(2*T2) = %.2f\n", m, a, b, a / (2 * b) }'
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
