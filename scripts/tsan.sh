#!/bin/sh
# ThreadSanitizer run of the engine's thread tests (issue 19): a build with
# -DRSIM_TSAN=ON in build-tsan, then the threads_ tests (and the other engine
# tests given as filters) under TSan.  Slow (10x): not part of scripts/test.sh.
#   scripts/tsan.sh [FILTER...]     default: threads_
set -e
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
"$here/build.sh" "$root/build-tsan" -DRSIM_TSAN=ON
export TSAN_OPTIONS="suppressions=$root/tests/tsan.supp:report_signal_unsafe=0:halt_on_error=0"
[ $# -gt 0 ] || set -- threads_
for f in "$@"; do
  "$root/build-tsan/bin/rsim_tests" --filter "$f" --timeout 1800
done
