/*
** wasm_int.h -- internals of the Wasmtime host module, the one place that
** includes Wasmtime's headers: type reflection (types.c), value conversion
** (convert.c), components and instances (host.c).
*/
#ifndef RSIM_WASM_INT_H
#define RSIM_WASM_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <wasmtime.h>

#include "rsim/wasm.h"

struct rsim_wasm_engine {
  wasm_engine_t *engine;
  rsim_wasm_engine_opts o;
  pthread_t ticker;       /* o.deadlines: increments the epoch every 1 ms */
  atomic_bool stop;
};

struct rsim_component {
  rsim_wasm_engine *e;
  wasmtime_component_t *comp;
  char *path;
  rsim_func_sig *imports;
  size_t n_imports;
  rsim_func_sig *exports;
  size_t n_exports;
};

/* Converts a Wasmtime value type into an owned rsim_type. */
rsim_type *rsim__wasm_type(const wasmtime_component_valtype_t *t);
/* Fills the signature lists of c by walking its component type. */
void rsim__wasm_reflect(rsim_component *c);
void rsim__wasm_sig_clear(rsim_func_sig *s);

/*
** Wasmtime value -> rsim value following type t (names come from t).
** Returns RSIM_OK or RSIM_ETYPE/RSIM_ECORRUPT with a message in eb.
*/
int rsim__wasm_from(const wasmtime_component_val_t *w, const rsim_type *t, rsim_val *out,
                    rsim_errbuf *eb);
/*
** rsim value -> Wasmtime value, allocated with Wasmtime's allocators (as host
** callbacks' results must be).  v is checked against t on the way (strings
** for valid UTF-8 too, unless they are known valid: invalid UTF-8 would
** abort the process inside Wasmtime).  On error *out is left a harmless
** bool and eb says where v differs from t.
*/
int rsim__wasm_to(const rsim_val *v, const rsim_type *t, wasmtime_component_val_t *out,
                  rsim_errbuf *eb);
/*
** Same, into a slot that still holds the value the previous call put there
** (or a zeroed bool): what has the same shape is overwritten in place, so a
** call with the shapes of the last one allocates and frees nothing.  The
** slot must only ever carry values of type t.
*/
int rsim__wasm_update(const rsim_val *v, const rsim_type *t, wasmtime_component_val_t *slot,
                      rsim_errbuf *eb);

/* Copies a Wasmtime error's message into buf and deletes the error. */
void rsim__wasm_take_error(wasmtime_error_t *err, char *buf, size_t n);

#endif /* RSIM_WASM_INT_H */
