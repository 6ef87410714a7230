#!/usr/bin/env bash
# The server soak (not run by CI): `replaysim serve` with 50 WebSocket
# clients, 4 that stop reading, and a stream of control requests for 60 s;
# prints pacing lag, throughput and memory (docs/reliability.md quotes it).
#   bench/server_soak.sh [SECONDS] [CLIENTS]    (after a build in build/)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$root/scripts/env.sh"
secs="${1:-60}"
clients="${2:-50}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$root/build/bin/replaysim" generate --quiet --out "$work/drive.db" --duration 20s --seed 7
python3 "$root/tests/server/load_test.py" "$root/build/bin/replaysim" "$root/examples/demo/graph.yaml" \
  "$work/drive.db" --seconds "$secs" --clients "$clients" --stalled 4
