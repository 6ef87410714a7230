#!/usr/bin/env bash
# One command from a fresh machine to every test: installs the toolchain,
# builds, runs the whole suite, then builds again with AddressSanitizer and
# UndefinedBehaviorSanitizer and runs the suite once more.
# The last line is "N passed, N failed, N skipped" over both runs.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
"$here/setup.sh" || exit 1
. "$here/env.sh"
if ! python3 -c 'import mcap, mcap_ros2, mcap_protobuf, foxglove_schemas_protobuf' 2>/dev/null; then
  printf '\n==> installing the independent MCAP reader and ROS 2 / Foxglove writers the tests use (PyPI)\n'
  python3 -m pip install -q "mcap==1.6.0" "mcap-ros2-support==0.6.0" "mcap-protobuf-support==0.6.0" \
    "foxglove-schemas-protobuf==0.4.0" || exit 1
fi
if ! python3 -c 'import motmetrics, pycocotools, trackeval' 2>/dev/null; then
  printf '\n==> installing the evaluation references the tests compare with (PyPI)\n'
  python3 -m pip install -q "motmetrics==1.4.0" "pycocotools==2.0.11" "trackeval==1.3.0" || exit 1
fi
# The UI test drives Debian's chromium with playwright-core from npm.
if ! command -v chromium >/dev/null || ! command -v node >/dev/null; then
  pkgs=()
  command -v chromium >/dev/null || pkgs+=(chromium)
  command -v node >/dev/null || pkgs+=(nodejs npm)
  printf '\n==> installing what the web UI test needs: %s (Debian)\n' "${pkgs[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${pkgs[@]}" || exit 1
fi
# The PostgreSQL store's tests start a server of their own (tests/harness/pg.c).
if ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
  printf '\n==> installing the PostgreSQL server the store tests start (Debian)\n'
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends postgresql || exit 1
fi
# The batch test starts a one-node Slurm of its own (slurmctld, slurmd, munge).
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  printf '\n==> installing the Slurm and munge daemons the batch test starts (Debian)\n'
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends slurm-wlm munge || exit 1
fi
printf '\n==> npm ci in tests/browser (playwright-core, no browser is downloaded; @foxglove/ws-protocol, protobufjs, ws)\n'
(cd "$root/tests/browser" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund) || exit 1
"$here/build.sh" "$root/build" || exit 1
"$here/build.sh" "$root/build-asan" -DRSIM_SANITIZE=ON || exit 1
# RSIM_WASMTIME_AB=1: also build Wasmtime from source with patches/wasmtime
# (setup.sh --wasmtime patched; long the first time, then cached), build
# replaysim against it, and run the suite on it too; each run then replays
# the demo, composed and fault graphs with the other build as well and
# compares digests (tests/integration/test_runtime_ab.c).
stock_wasmtime="$WASMTIME_DIR"
patched_wasmtime=""
if [ "${RSIM_WASMTIME_AB:-0}" = 1 ]; then
  env -u WASMTIME_DIR RSIM_WASMTIME=patched "$here/setup.sh" || exit 1
  patched_wasmtime="$(unset WASMTIME_DIR; RSIM_WASMTIME=patched; . "$here/env.sh"; echo "$WASMTIME_DIR")"
  WASMTIME_DIR="$patched_wasmtime" "$here/build.sh" "$root/build-patched" || exit 1
  export RSIM_AB_REPLAYSIM="$root/build-patched/bin/replaysim" RSIM_AB_WASMTIME_DIR="$patched_wasmtime"
fi

total_p=0; total_f=0; total_s=0
run_suite() { # label, build dir
  printf '\n==> tests (%s)\n' "$1"
  local log; log="$(mktemp)"
  "$2/bin/rsim_tests" | tee "$log"
  local line; line="$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)"
  rm -f "$log"
  [ -n "$line" ] || { total_f=$((total_f + 1)); return; }
  set -- $line
  total_p=$((total_p + $1)); total_f=$((total_f + $3)); total_s=$((total_s + $5))
}
run_suite "plain build" "$root/build"
if [ -n "$patched_wasmtime" ]; then
  LD_LIBRARY_PATH="$patched_wasmtime/lib:$LD_LIBRARY_PATH" \
    RSIM_AB_REPLAYSIM="$root/build/bin/replaysim" RSIM_AB_WASMTIME_DIR="$stock_wasmtime" \
    run_suite "Wasmtime with patches/wasmtime" "$root/build-patched"
fi
# Wasmtime handles traps with its own SIGSEGV handler: ASan must let it.
export ASAN_OPTIONS="handle_segv=0:allow_user_segv_handler=1:detect_leaks=1:abort_on_error=0"
export LSAN_OPTIONS="suppressions=$root/tests/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
run_suite "ASan + UBSan build" "$root/build-asan"
# Parsers get fuzzed for a bounded time on every run (libFuzzer, ASan+UBSan).
printf '\n==> fuzzing the parsers (%ss each)\n' "${RSIM_FUZZ_SECONDS:-20}"
if "$root/tests/fuzz/run.sh" "${RSIM_FUZZ_SECONDS:-20}"; then
  total_p=$((total_p + 1))
else
  total_f=$((total_f + 1))
fi
echo
echo "all: $total_p passed, $total_f failed, $total_s skipped"
[ "$total_f" -eq 0 ]
