/*
** wasm.h -- WebAssembly components on Wasmtime, seen as typed functions.
**
** src/wasm is the only module that includes Wasmtime's headers.  It loads
** component files, describes what they import and export with rsim_type,
** instantiates them (one Wasmtime store per instance, because a trap poisons
** the whole store), satisfies their imports with host functions given as
** plain C callbacks over rsim_val, and calls their exports.
**
** Objects and ownership:
**   rsim_wasm_engine  compilation settings, shared by every component; the
**                     caller frees it after everything made from it.
**   rsim_component    a compiled component file; immutable, can be
**                     instantiated many times.
**   rsim_instance     one running instance in its own store.
**
** Safety: every string handed to Wasmtime is checked for valid UTF-8 first
** (Wasmtime's C API aborts the process on invalid UTF-8); a host callback
** never returns an error to Wasmtime for an expected condition (that would
** trap the caller), it answers with a value instead.
*/
#ifndef RSIM_WASM_H
#define RSIM_WASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rsim/util.h"
#include "rsim/value.h"

typedef struct rsim_wasm_engine rsim_wasm_engine;
typedef struct rsim_component rsim_component;
typedef struct rsim_instance rsim_instance;

/* The signature of one function a component imports or exports. */
typedef struct rsim_func_sig {
  char *iface;        /* "rsim:sim/camera-processing@0.2.0", or NULL at the root */
  char *name;         /* "process-frame" */
  char *full;         /* "rsim:sim/camera-processing@0.2.0#process-frame" */
  size_t n_params;
  char **param_names;
  rsim_type **param_types;
  rsim_type *result;  /* NULL when the function returns nothing */
} rsim_func_sig;

/*
** Per-instance limits (0 = unlimited), filled by the caller.
**   fuel_per_call   Wasmtime fuel (about one unit a wasm instruction) a call
**                   may burn: deterministic, so a run stops at the same
**                   place on every machine.  Needs an engine with fuel.
**   deadline_ns     wall time a call may take, checked by epoch
**                   interruption every millisecond.  Needs an engine with
**                   deadlines.  Not deterministic: a safety net.
**   memory_bytes    linear memory size; growth past it fails inside the
**                   guest (memory.grow answers -1), so what follows is the
**                   guest's own reaction, usually a trap after malloc fails.
**   table_elements  table size; likewise.
** A call stopped by fuel or deadline returns RSIM_ELIMIT and
** rsim_instance_last_limit says which.
*/
typedef struct rsim_wasm_limits {
  uint64_t fuel_per_call;
  int64_t deadline_ns;
  uint64_t memory_bytes;
  uint64_t table_elements;
} rsim_wasm_limits;

typedef enum rsim_limit_kind {
  RSIM_LIMIT_NONE = 0,
  RSIM_LIMIT_FUEL,
  RSIM_LIMIT_DEADLINE
} rsim_limit_kind;

/* What an engine can enforce: fuel metering slows every call a little, and
** deadlines start a 1 ms ticker thread, so both are off unless asked for. */
typedef struct rsim_wasm_engine_opts {
  bool fuel;
  bool deadlines;
} rsim_wasm_engine_opts;

/* The first engine of a process fixes glibc's malloc thresholds (mmap
** 32 MiB, trim 128 MiB) so that the megabytes each camera frame's call
** allocates stay in the heap instead of being faulted in again per frame. */
int rsim_wasm_engine_new(rsim_wasm_engine **out, rsim_errbuf *eb);
/* Same with options (o may be NULL). */
int rsim_wasm_engine_new_opts(const rsim_wasm_engine_opts *o, rsim_wasm_engine **out, rsim_errbuf *eb);
void rsim_wasm_engine_free(rsim_wasm_engine *e);

/* The largest component file read (256 MiB). */
#define RSIM_COMPONENT_MAX_BYTES (256u << 20)

/*
** Reads and compiles a component file.  A missing file, a core module given
** where a component is expected, or bytes that fail validation each give a
** one-line message naming the file in eb.
*/
int rsim_component_load(rsim_wasm_engine *e, const char *path, rsim_component **out,
                        rsim_errbuf *eb);
/* Same from bytes in memory; name is used in messages. */
int rsim_component_load_bytes(rsim_wasm_engine *e, const char *name, const uint8_t *bytes,
                              size_t len, rsim_component **out, rsim_errbuf *eb);
void rsim_component_free(rsim_component *c);
const char *rsim_component_path(const rsim_component *c);

/* Imported and exported functions, flattened over interfaces, in the
** component's own order.  Borrowed until rsim_component_free. */
size_t rsim_component_n_imports(const rsim_component *c);
const rsim_func_sig *rsim_component_import(const rsim_component *c, size_t i);
size_t rsim_component_n_exports(const rsim_component *c);
const rsim_func_sig *rsim_component_export(const rsim_component *c, size_t i);
/* Finds an export by function name ("process-frame") or full name; -1 if
** absent, -2 if a bare name is ambiguous. */
int rsim_component_find_export(const rsim_component *c, const char *name);
/* Appends a WIT-like description of imports and exports (for `inspect`). */
void rsim_component_describe(const rsim_component *c, rsim_buf *out);

/*
** A host function.  args follow the import's param types; the callback
** fills *result (zeroed on entry) to match the import's result type.
** Returning non-zero traps the calling component: reserve that for host
** failures, never for answers such as "no such sensor".
*/
typedef int (*rsim_host_fn)(void *ctx, const rsim_func_sig *sig, const rsim_val *args,
                            size_t nargs, rsim_val *result);

typedef struct rsim_host_def {
  const char *iface; /* "rsim:sim/sensor-data@0.2.0" (semver-compatible match) */
  const char *name;  /* "get-sensor-data" */
  rsim_host_fn fn;
} rsim_host_def;

/*
** Instantiates c in a new store.  Every function the component imports must
** be among defs, else the call fails naming the missing import.  ctx is
** passed to every host function.  name (the component's name in the graph)
** is used in messages.  limits may be NULL.
*/
int rsim_instance_new(rsim_component *c, const char *name, const rsim_host_def *defs,
                      size_t n_defs, void *ctx, const rsim_wasm_limits *limits,
                      rsim_instance **out, rsim_errbuf *eb);
void rsim_instance_free(rsim_instance *in);

/*
** Calls export number export_index with args (checked against the param
** types first).  On success *result holds the result (caller clears it with
** rsim_val_clear) or is left a BOOL false for a function without one.
** A trap returns RSIM_ETRAP (RSIM_ELIMIT when a limit stopped it), with the
** message on the instance; the store is then unusable until
** rsim_instance_reset.
*/
int rsim_instance_call(rsim_instance *in, size_t export_index, const rsim_val *args,
                       size_t nargs, rsim_val *result);
/* Throws away the store and instantiates afresh (after a trap). */
int rsim_instance_reset(rsim_instance *in);
bool rsim_instance_poisoned(const rsim_instance *in);
const char *rsim_instance_errmsg(const rsim_instance *in);
/* Fuel consumed by the last call (0 when fuel is not metered). */
uint64_t rsim_instance_last_fuel(const rsim_instance *in);
/* The limit that stopped the last call, or RSIM_LIMIT_NONE. */
rsim_limit_kind rsim_instance_last_limit(const rsim_instance *in);

#endif /* RSIM_WASM_H */
