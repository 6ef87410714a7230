#!/usr/bin/env bash
# One command from a fresh machine to a replay: installs the toolchain,
# builds, writes a 60 s synthetic drive into SQLite (drive.db) and replays it
# through the demo graph of four WebAssembly components, recording every
# output into run.db.  At the end the run prints its detection, tracking and
# planning scores against the drive's ground truth (--eval; the numbers are in
# run.db's eval table, docs/evaluation.md) and, as its last line, its digest.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
"$here/setup.sh"
"$here/build.sh" "$root/build"
cd "$root"
if [ ! -f drive.db ]; then
  printf '\n==> generating a 60 s synthetic drive into drive.db\n'
  build/bin/replaysim generate --out drive.db --duration 60s --seed 42
fi
printf '\n==> replaying drive.db through examples/demo/graph.yaml\n'
build/bin/replaysim check examples/demo/graph.yaml --store drive.db
build/bin/replaysim run examples/demo/graph.yaml --store drive.db --speed max --out run.db --overwrite --eval
