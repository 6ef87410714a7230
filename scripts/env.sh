# Source this file to put replaysim's pinned toolchain on PATH and point the
# build at the pinned Wasmtime.  Everything heavy lives outside the clone in
# RSIM_CACHE (default ~/.cache/replaysim), one folder per tool and version,
# so a second setup is instant.  A user's own Wasmtime: set WASMTIME_DIR first.
_rsim_here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$_rsim_here/versions.sh"
export RSIM_CACHE="${RSIM_CACHE:-$HOME/.cache/replaysim}"
# RSIM_WASMTIME=patched: Wasmtime built from the registry's crates with
# patches/wasmtime applied (packed lists; see its README), one folder per
# version and patch hash.  Default (stock): the release library from PyPI.
if [ "${RSIM_WASMTIME:-stock}" = patched ]; then
  RSIM_WASMTIME_PATCH_HASH="$(cat "$_rsim_here"/../patches/wasmtime/*.patch | sha256sum | cut -c1-12)"
  export RSIM_WASMTIME_PATCH_HASH
  export WASMTIME_DIR="${WASMTIME_DIR:-$RSIM_CACHE/wasmtime-$WASMTIME_VERSION-patched-$RSIM_WASMTIME_PATCH_HASH}"
fi
export WASMTIME_DIR="${WASMTIME_DIR:-$RSIM_CACHE/wasmtime-$WASMTIME_VERSION}"
# componentize-py's bin holds only its command (a link into its venv), so
# the venv's python does not shadow the system's.
RSIM_TOOLS_BIN="$RSIM_CACHE/wit-bindgen-$WIT_BINDGEN_VERSION/bin:$RSIM_CACHE/wasm-tools-$WASM_TOOLS_VERSION/bin:$RSIM_CACHE/wac-$WAC_VERSION/bin:$RSIM_CACHE/componentize-py-$COMPONENTIZE_PY_VERSION/bin"
case ":$PATH:" in *":$RSIM_CACHE/wit-bindgen-$WIT_BINDGEN_VERSION/bin:"*) ;; *) export PATH="$RSIM_TOOLS_BIN:$PATH" ;; esac
export LD_LIBRARY_PATH="$WASMTIME_DIR/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
unset _rsim_here
