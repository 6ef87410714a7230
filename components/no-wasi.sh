#!/bin/sh
# Fails when a core module imports anything from WASI: components get no
# WASI (data and time come only from the host, so replays are deterministic).
# Usage: no-wasi.sh WASM_TOOLS CORE.wasm NAME
if "$1" print "$2" | grep -q '(import "wasi'; then
  echo "$3: imports WASI ($("$1" print "$2" | grep -o '(import "wasi[^)]*' | head -3 | tr '\n' ' ')); components must not (printf, time, files?)" >&2
  exit 1
fi
