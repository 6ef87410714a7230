#!/usr/bin/env bash
# Installs what replaysim needs on a Debian 12 machine, idempotently:
#   1. Debian packages (compilers, wasi-libc, SQLite, libyaml, ...),
#   2. the Wasmtime C API at a pinned version: the official libwasmtime.so
#      from PyPI's "wasmtime" wheel and the matching C headers from the
#      crates.io "wasmtime-c-api-impl" crate (conf.h rendered by its own
#      CMake script); or, with `--wasmtime patched` (or RSIM_WASMTIME=patched),
#      built from the crates' sources with patches/wasmtime applied (cargo
#      [patch]; docs/benchmarks.md section 4 has the first build's time),
#   3. wit-bindgen, wasm-tools and wac from crates.io (cargo install --locked).
# Heavy results are cached in $RSIM_CACHE keyed by version (see env.sh).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
while [ $# -gt 0 ]; do
  case "$1" in
    --wasmtime) RSIM_WASMTIME="${2:?--wasmtime needs stock or patched}"; shift 2 ;;
    --wasmtime=*) RSIM_WASMTIME="${1#--wasmtime=}"; shift ;;
    *) echo "usage: $0 [--wasmtime stock|patched]" >&2; exit 2 ;;
  esac
done
case "${RSIM_WASMTIME:=stock}" in
  stock|patched) export RSIM_WASMTIME ;;
  *) echo "--wasmtime must be stock or patched, not '$RSIM_WASMTIME'" >&2; exit 2 ;;
esac
. "$here/env.sh"
step() { printf '\n==> %s\n' "$*"; }

# ---- 1. Debian packages -------------------------------------------------------
APT_PACKAGES=(build-essential cmake pkg-config patch clang-19 lld-19 wasi-libc
  libclang-rt-19-dev-wasm32 libclang-rt-19-dev libsqlite3-dev sqlite3 libyaml-dev
  libzstd-dev liblz4-dev zlib1g-dev libturbojpeg0-dev libpng-dev libjansson-dev libwebsockets-dev
  libfreetype-dev fonts-dejavu-core libpq-dev python3-venv  # python3-venv: componentize-py
  openmpi-bin libopenmpi-dev)  # MPI: `replaysim batch` under mpirun (optional in CMake)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  step "installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  step "Debian packages present"
fi

# ---- 2. Wasmtime C API --------------------------------------------------------
# The patched build: the two crates from the registry, patches/wasmtime
# applied, built as one cdylib by a wrapper crate that [patch]es them in.
# Only the features replaysim uses (component model, Cranelift, parallel
# compilation), which is also what keeps the first build short.  The cargo
# target folder is kept in the cache, so a changed patch rebuilds only the
# two patched crates.
build_patched_wasmtime() {
  step "building Wasmtime $WASMTIME_VERSION from source with patches/wasmtime ($RSIM_WASMTIME_PATCH_HASH) into $WASMTIME_DIR"
  local work src crate c
  work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
  mkdir -p "$work/wrap/src" "$work/src"
  cat >"$work/wrap/Cargo.toml" <<TOML
[package]
name = "rsim-wasmtime"
version = "$WASMTIME_VERSION"
edition = "2021"
publish = false

[lib]
name = "wasmtime"
crate-type = ["cdylib"]
path = "src/lib.rs"

[dependencies]
wasmtime-c-api = { package = "wasmtime-c-api-impl", version = "=$WASMTIME_VERSION", default-features = false, features = ["component-model", "cranelift", "parallel-compilation"] }
wasmtime = { version = "=$WASMTIME_VERSION", default-features = false }
TOML
  echo 'pub use wasmtime_c_api::*;' >"$work/wrap/src/lib.rs"
  (cd "$work/wrap" && cargo fetch -q)
  for c in wasmtime wasmtime-c-api-impl; do
    crate="$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/"$c-$WASMTIME_VERSION" | head -1)"
    cp -r "$crate" "$work/src/$c"
  done
  for p in "$here"/../patches/wasmtime/*.patch; do
    echo "  - applying $(basename "$p")"
    patch -s -p1 -d "$work/src" <"$p"
  done
  cat >>"$work/wrap/Cargo.toml" <<TOML

[patch.crates-io]
wasmtime = { path = "$work/src/wasmtime" }
wasmtime-c-api-impl = { path = "$work/src/wasmtime-c-api-impl" }
TOML
  echo "  - cargo build --release (first time: long; see docs/benchmarks.md section 4)"
  if ! (cd "$work/wrap" && CARGO_TARGET_DIR="$RSIM_CACHE/wasmtime-$WASMTIME_VERSION-target" \
          cargo build --release -j"${RSIM_JOBS:-$(nproc)}" >"$work/cargo.log" 2>&1); then
    tail -30 "$work/cargo.log" >&2
    echo "building the patched Wasmtime failed (cargo build, above)" >&2
    exit 1
  fi
  local so="$RSIM_CACHE/wasmtime-$WASMTIME_VERSION-target/release/libwasmtime.so"
  rm -rf "$WASMTIME_DIR.tmp"; mkdir -p "$WASMTIME_DIR.tmp/lib"
  cmake -DWASMTIME_HEADER_DST="$WASMTIME_DIR.tmp/include" -DWASMTIME_DISABLE_ALL_FEATURES=ON \
    -DWASMTIME_FEATURE_COMPONENT_MODEL=ON -DWASMTIME_FEATURE_CRANELIFT=ON \
    -DWASMTIME_FEATURE_PARALLEL_COMPILATION=ON \
    -P "$work/src/wasmtime-c-api-impl/cmake/install-headers.cmake" >/dev/null
  cp "$so" "$WASMTIME_DIR.tmp/lib/libwasmtime.so"
  echo "$WASMTIME_VERSION crates+patches/wasmtime $RSIM_WASMTIME_PATCH_HASH" >"$WASMTIME_DIR.tmp/VERSION"
  rm -rf "$WASMTIME_DIR"; mv "$WASMTIME_DIR.tmp" "$WASMTIME_DIR"
  grep -q WASMTIME_COMPONENT_PACKED_LIST "$WASMTIME_DIR/include/wasmtime/component/val.h"
  rm -rf "$work"; trap - EXIT
  echo "  done: $(du -sh "$WASMTIME_DIR" | cut -f1)"
}

if [ -f "$WASMTIME_DIR/include/wasmtime.h" ] && [ -f "$WASMTIME_DIR/lib/libwasmtime.so" ]; then
  step "Wasmtime C API present in $WASMTIME_DIR"
elif [ "$RSIM_WASMTIME" = patched ] &&
     [ "$WASMTIME_DIR" = "$RSIM_CACHE/wasmtime-$WASMTIME_VERSION-patched-$RSIM_WASMTIME_PATCH_HASH" ]; then
  build_patched_wasmtime
elif [ "$WASMTIME_DIR" != "$RSIM_CACHE/wasmtime-$WASMTIME_VERSION" ]; then
  echo "WASMTIME_DIR=$WASMTIME_DIR has no include/wasmtime.h and lib/libwasmtime.so" >&2
  exit 1
else
  step "installing Wasmtime $WASMTIME_VERSION C API into $WASMTIME_DIR"
  work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
  echo "  - library: PyPI wheel wasmtime==$WASMTIME_VERSION"
  python3 -m pip download -q --no-deps --only-binary=:all: -d "$work/whl" "wasmtime==$WASMTIME_VERSION"
  python3 - "$work/whl" "$work/lib" <<'PY'
import sys, zipfile, glob, os
whl = glob.glob(os.path.join(sys.argv[1], "*.whl"))[0]
os.makedirs(sys.argv[2], exist_ok=True)
with zipfile.ZipFile(whl) as z:
    name = [n for n in z.namelist() if n.endswith("linux-x86_64/_libwasmtime.so")][0]
    with z.open(name) as src, open(os.path.join(sys.argv[2], "libwasmtime.so"), "wb") as dst:
        dst.write(src.read())
PY
  echo "  - headers: crate wasmtime-c-api-impl $WASMTIME_VERSION (cargo fetch)"
  mkdir -p "$work/fetch/src"
  cat >"$work/fetch/Cargo.toml" <<TOML
[package]
name = "rsim-wasmtime-headers"
version = "0.0.0"
edition = "2021"
[dependencies]
wasmtime-c-api-impl = { version = "=$WASMTIME_VERSION", default-features = false }
TOML
  : >"$work/fetch/src/lib.rs"
  (cd "$work/fetch" && cargo fetch -q)
  crate="$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/wasmtime-c-api-impl-"$WASMTIME_VERSION" | head -1)"
  # No -DWASMTIME_FEATURE_* flags: the script's defaults are the default
  # feature set, which is what the release library in the wheel is built with.
  cmake -DWASMTIME_HEADER_DST="$work/include" -P "$crate/cmake/install-headers.cmake" >/dev/null
  mkdir -p "$WASMTIME_DIR.tmp"
  rm -rf "$WASMTIME_DIR.tmp"/*
  mv "$work/include" "$WASMTIME_DIR.tmp/include"
  mv "$work/lib" "$WASMTIME_DIR.tmp/lib"
  echo "$WASMTIME_VERSION pypi-wheel+crate-headers" >"$WASMTIME_DIR.tmp/VERSION"
  rm -rf "$WASMTIME_DIR"; mv "$WASMTIME_DIR.tmp" "$WASMTIME_DIR"
  grep -q wasmtime_component_linker_new "$WASMTIME_DIR/include/wasmtime/component/linker.h"
  echo "  done: $(du -sh "$WASMTIME_DIR" | cut -f1)"
fi

# ---- 3. Bytecode Alliance tools -------------------------------------------------
install_crate() { # crate version dir binary
  local crate="$1" ver="$2" dir="$3" bin="$4"
  if [ -x "$dir/bin/$bin" ]; then
    step "$crate $ver present"
    return
  fi
  step "building $crate $ver with cargo (first time only; a few minutes on 2 cores)"
  cargo install --locked --root "$dir.tmp" "$crate@$ver" 2>&1 |
    grep --line-buffered -E '^\s+(Compiling|Finished|Installed|error)|^error' |
    awk '/Compiling/ {n++; if (n % 25 == 0) {print "  ... " n " crates compiled"; fflush()} next} {print; fflush()}'
  [ -x "$dir.tmp/bin/$bin" ] || { echo "cargo install $crate@$ver failed" >&2; exit 1; }
  rm -rf "$dir"; mv "$dir.tmp" "$dir"
}
install_crate wit-bindgen-cli "$WIT_BINDGEN_VERSION" "$RSIM_CACHE/wit-bindgen-$WIT_BINDGEN_VERSION" wit-bindgen
install_crate wasm-tools "$WASM_TOOLS_VERSION" "$RSIM_CACHE/wasm-tools-$WASM_TOOLS_VERSION" wasm-tools
install_crate wac-cli "$WAC_VERSION" "$RSIM_CACHE/wac-$WAC_VERSION" wac

# componentize-py (Python components: components/templates/planner.py, `replaysim new
# --lang python`): pip into a venv of its own, keyed by version; bin/ holds
# only a link to its command, so that PATH gets no second python.
cpy="$RSIM_CACHE/componentize-py-$COMPONENTIZE_PY_VERSION"
if [ -x "$cpy/bin/componentize-py" ]; then
  step "componentize-py $COMPONENTIZE_PY_VERSION present"
else
  step "installing componentize-py $COMPONENTIZE_PY_VERSION (pip, into $cpy/venv)"
  rm -rf "$cpy.tmp"; mkdir -p "$cpy.tmp"
  python3 -m venv "$cpy/venv"
  "$cpy/venv/bin/pip" install -q "componentize-py==$COMPONENTIZE_PY_VERSION"
  mkdir -p "$cpy.tmp/bin"
  ln -s "$cpy/venv/bin/componentize-py" "$cpy.tmp/bin/componentize-py"
  rm -rf "$cpy/bin"; mv "$cpy.tmp/bin" "$cpy/bin"; rm -rf "$cpy.tmp"
fi

step "toolchain ready: $(wit-bindgen --version), $(wasm-tools --version), $(wac --version), $(componentize-py --version)"
