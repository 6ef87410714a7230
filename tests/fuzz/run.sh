#!/usr/bin/env bash
# Builds the libFuzzer targets with clang-19 (ASan + UBSan) and runs each for
# a bounded time: tests/fuzz/run.sh [SECONDS]  (default 20 per target; CI).
#   tests/fuzz/run.sh --long [RUNS]  the campaign outside CI: each target for
#   RUNS executions (default 1000000), printing executions, coverage and time
#   per target (docs/reliability.md has the figures).  CPU heavy: run it
#   under nice.  RSIM_FUZZ_TARGETS="graph decoders" picks targets.
# Needs Debian's libclang-rt-19-dev (scripts/setup.sh installs it).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
. "$root/scripts/env.sh"
runs=""
if [ "${1:-}" = "--long" ]; then
  runs="${2:-1000000}"
  secs=""
else
  secs="${1:-20}"
fi
out="$root/build-fuzz"
mkdir -p "$out"
common=(-std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -g -O1
        -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
        -I"$root/include" -I"$root/src")
core=("$root"/src/core/*.c "$root"/src/value/*.c)
core_libs="$(pkg-config --cflags --libs yaml-0.1) -lm" # core/yaml.c
clang-19 "${common[@]}" "$here/fuzz_value_decode.c" "${core[@]}" $core_libs -o "$out/fuzz_value_decode"
# The graph loader lives in the engine, which links Wasmtime for checks it
# does not run here; link the library for simplicity.
# The graph loader parses transforms (sample.c), which use the store's
# reading helpers; link the store and its backends for them.
store=("$root"/src/store/*.c "$root"/src/mcap/*.c)
# -pthread: the read-ahead store (src/store/readahead.c) starts threads.
store_libs="$(pkg-config --cflags --libs libzstd liblz4 zlib libturbojpeg libpng sqlite3 jansson yaml-0.1 libpq) -pthread"
clang-19 "${common[@]}" "$here/fuzz_graph.c" "$root/src/engine/graph.c" "$root/src/engine/sample.c" \
  "${store[@]}" "${core[@]}" $store_libs -lm -o "$out/fuzz_graph"
clang-19 "${common[@]}" "$here/fuzz_mcap_reader.c" "$root"/src/mcap/*.c "${core[@]}" \
  $(pkg-config --cflags --libs libzstd liblz4 zlib) $core_libs -o "$out/fuzz_mcap_reader"
clang-19 "${common[@]}" "$here/fuzz_decoders.c" "${store[@]}" "${core[@]}" $store_libs -lm -o "$out/fuzz_decoders"
clang-19 "${common[@]}" -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION "$here/fuzz_checkpoint.c" \
  "$root/src/engine/ckpt_file.c" "${core[@]}" $core_libs -o "$out/fuzz_checkpoint"
# The boundary's value conversion, against the Wasmtime env.sh selects
# (stock, or patched with RSIM_WASMTIME=patched: packed lists).
clang-19 "${common[@]}" -I"$WASMTIME_DIR/include" "$here/fuzz_convert.c" "$root/src/wasm/convert.c" \
  "${core[@]}" -L"$WASMTIME_DIR/lib" -Wl,-rpath,"$WASMTIME_DIR/lib" -lwasmtime $core_libs -o "$out/fuzz_convert"
for t in ${RSIM_FUZZ_TARGETS:-value_decode graph mcap_reader decoders checkpoint convert}; do
  corpus="$here/corpus/${t%%_*}"
  work="$(mktemp -d)"
  cp "$corpus"/* "$work"/
  if [ -n "$runs" ]; then
    printf '==> fuzz_%s for %s executions\n' "$t" "$runs"
    limit=(-runs="$runs" -print_final_stats=1)
  else
    printf '==> fuzz_%s for %ss\n' "$t" "$secs"
    limit=(-max_total_time="$secs")
  fi
  rc=0
  t0=$(date +%s)
  "$out/fuzz_$t" "${limit[@]}" -max_len=4096 -artifact_prefix="$work/" "$work" \
    >"$work.log" 2>&1 || rc=$?
  grep -E '^#[0-9]+[[:space:]]+DONE|ERROR|SUMMARY' "$work.log" | tail -3 || true
  if [ -n "$runs" ] && [ "$rc" -eq 0 ]; then
    # One line a target: what docs/reliability.md quotes.
    done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$work.log" | tail -1 || true)
    printf 'fuzz_%s: %s executions, cov %s, ft %s, corpus %s, %ss\n' "$t" \
      "$(awk '/^stat::number_of_executed_units/ {print $2}' "$work.log")" \
      "$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$done_line")" "$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$done_line")" \
      "$(sed -nE 's/.* corp: ([0-9]+\/[0-9a-zA-Z]+).*/\1/p' <<<"$done_line")" "$(( $(date +%s) - t0 ))"
  fi
  if [ "$rc" -ne 0 ]; then
    echo "fuzz_$t found a problem (exit $rc); input saved in $work:" >&2
    tail -30 "$work.log" >&2
    exit 1
  fi
  rm -rf "$work" "$work.log"
done
