#!/usr/bin/env bash
# Configures and builds replaysim into build/ (or $1), components included.
# Extra arguments after the folder go to cmake's configure step.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
. "$here/env.sh"
dir="${1:-$root/build}"
shift || true
printf '\n==> building replaysim into %s\n' "$dir"
cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build "$dir" -j"$(nproc)" 2>&1 | grep --line-buffered -vE '^\[ *[0-9]+%\] (Building|Linking) C' || true
test -x "$dir/bin/replaysim" || { echo "build failed" >&2; cmake --build "$dir" -j1; exit 1; }
