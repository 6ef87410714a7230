# Pinned versions of everything the build fetches from a registry.
# Sourced by setup.sh and env.sh; bump here and nowhere else.
WASMTIME_VERSION=48.0.0          # PyPI "wasmtime" wheel (library) + crate "wasmtime-c-api-impl" (headers)
WIT_BINDGEN_VERSION=0.60.0       # crates.io wit-bindgen-cli
WASM_TOOLS_VERSION=1.257.1       # crates.io wasm-tools
WAC_VERSION=0.10.1               # crates.io wac-cli
COMPONENTIZE_PY_VERSION=0.25.1   # PyPI componentize-py (Python components; a venv of its own)
