#!/bin/sh
# Writes the WIT of the deterministic WASI adapter into OUTDIR: a world that
# exports exactly the WASI interfaces COMPONENT.wasm imports, at exactly the
# versions it imports them, and imports only rsim:sim/sensor-data and
# rsim:wasi/deterministic.  The WASI packages themselves (deps/) are taken
# from the component (`wasm-tools component wit`), so nothing of WASI is
# copied into this tree and a new componentize-py gets a matching adapter.
# Usage: world.sh WASM_TOOLS COMPONENT.wasm DETERMINISTIC.wit OUTDIR
set -eu
tools="$1"; comp="$2"; det="$3"; out="$4"
rm -rf "$out"; mkdir -p "$out"
"$tools" component wit "$comp" --out-dir "$out/from" >/dev/null
mkdir -p "$out/deps"
cp "$out"/from/deps/*.wit "$out/deps/"
cp "$det" "$out/deps/deterministic.wit"
sim="$(grep -o 'import rsim:sim/sensor-data@[0-9.]*' "$out/from/component.wit" | head -1)"
[ -n "$sim" ] || { echo "$comp: imports no rsim:sim/sensor-data" >&2; exit 1; }
{
  echo 'package rsim:wasi-adapter;'
  echo 'world wasi-deterministic {'
  echo "  $sim;"
  echo '  import rsim:wasi/deterministic@0.1.0;'
  grep -o 'import wasi:[^;]*;' "$out/from/component.wit" | sed 's/^import/  export/'
  echo '}'
} >"$out/world.wit"
rm -rf "$out/from"
