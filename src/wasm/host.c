/*
** host.c -- components and instances on Wasmtime: compile a file, build a
** linker that satisfies the component's imports with host callbacks,
** instantiate into a store of its own, call exports, recover from traps.
**
** Invariants:
**  - one wasmtime_store_t per rsim_instance; a trap marks the instance
**    poisoned and only rsim_instance_reset (a fresh store) clears it;
**  - a host callback never lets an rsim error escape as anything but a
**    Wasmtime error (which traps the guest), with the reason kept on the
**    instance so the trap message can say what happened.
*/
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wasm/wasm_int.h"

typedef struct host_binding {
  rsim_instance *in;
  const rsim_func_sig *sig; /* the import as the component declares it */
  rsim_host_fn fn;
} host_binding;

struct rsim_instance {
  rsim_component *c;
  char *name;
  void *ctx;
  rsim_wasm_limits limits;
  wasmtime_component_linker_t *linker;
  host_binding *bindings;
  size_t n_bindings;
  wasmtime_store_t *store;
  wasmtime_component_instance_t inst;
  wasmtime_component_func_t *funcs; /* one per export */
  bool *has_func;
  /* Per export, its arguments as the last call left them (NULL until the
  ** first call): rsim__wasm_update rewrites them in place, so a call with
  ** the shapes of the last one allocates nothing.  Holds one call's
  ** arguments per export in memory (a camera frame: its size in C values). */
  wasmtime_component_val_t **args;
  bool poisoned;
  uint64_t last_fuel;
  rsim_limit_kind last_limit;
  char host_err[512]; /* why the last host callback failed */
  char errmsg[1024];
};

/* ---- engine and components ------------------------------------------------------- */

#define TICK_NS 1000000 /* epoch period: the resolution of deadlines */

static void *ticker(void *arg) {
  rsim_wasm_engine *e = arg;
  struct timespec ts = {0, TICK_NS};
  while (!atomic_load(&e->stop)) {
    nanosleep(&ts, NULL);
    wasmtime_engine_increment_epoch(e->engine);
  }
  return NULL;
}

int rsim_wasm_engine_new(rsim_wasm_engine **out, rsim_errbuf *eb) { return rsim_wasm_engine_new_opts(NULL, out, eb); }

/*
** Every call that hands a camera frame over allocates and frees several MB
** of C API values (convert.c) and as much again inside Wasmtime.  With
** glibc's adaptive thresholds that memory was often given back to the OS
** and faulted in again on the next frame when checkpoints changed the
** allocation pattern: 415,638 page faults on 20 s of the demo drive, +40 %
** wall time on 60 s (docs/benchmarks.md, section 2).  Fixed thresholds
** keep it in the heap (at most 128 MiB of free heap is held back).  Once
** per process, before the first engine.
*/
static void tune_malloc(void) {
#ifdef M_TRIM_THRESHOLD
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 128 << 20);
#endif
}

int rsim_wasm_engine_new_opts(const rsim_wasm_engine_opts *o, rsim_wasm_engine **out, rsim_errbuf *eb) {
  static pthread_once_t malloc_once = PTHREAD_ONCE_INIT;
  pthread_once(&malloc_once, tune_malloc);
  wasm_config_t *cfg = wasm_config_new();
  if (!cfg) return rsim_errbuf_set(eb, RSIM_EBACKEND, "wasmtime: cannot create a config");
  wasmtime_config_wasm_component_model_set(cfg, true);
  if (o && o->fuel) wasmtime_config_consume_fuel_set(cfg, true);
  if (o && o->deadlines) wasmtime_config_epoch_interruption_set(cfg, true);
  /* Built with component-model-async; its concurrency support roughly
  ** doubles the cost of every call, and replaysim makes no async calls. */
  wasmtime_config_concurrency_support_set(cfg, false);
#ifdef WASMTIME_COMPONENT_PACKED_LIST
  /* Our patched Wasmtime (patches/wasmtime): lists of numbers come back as
  ** one packed value, not one value per element (convert.c). */
  wasmtime_config_component_model_packed_lists_set(cfg, true);
#endif
  wasm_engine_t *engine = wasm_engine_new_with_config(cfg);
  if (!engine) return rsim_errbuf_set(eb, RSIM_EBACKEND, "wasmtime: cannot create an engine");
  rsim_wasm_engine *e = rsim_xcalloc(1, sizeof *e);
  e->engine = engine;
  if (o) e->o = *o;
  atomic_init(&e->stop, false);
  if (e->o.deadlines && pthread_create(&e->ticker, NULL, ticker, e)) {
    wasm_engine_delete(engine);
    free(e);
    return rsim_errbuf_set(eb, RSIM_EBACKEND, "cannot start the deadline ticker thread");
  }
  *out = e;
  return RSIM_OK;
}

void rsim_wasm_engine_free(rsim_wasm_engine *e) {
  if (!e) return;
  if (e->o.deadlines) {
    atomic_store(&e->stop, true);
    pthread_join(e->ticker, NULL);
  }
  wasm_engine_delete(e->engine);
  free(e);
}

/* Tells a component from a core module or something else by its preamble. */
static int check_preamble(const char *name, const uint8_t *b, size_t n, rsim_errbuf *eb) {
  if (n < 8 || memcmp(b, "\0asm", 4))
    return rsim_errbuf_set(eb, RSIM_ECORRUPT, "%s: not a WebAssembly file (no \\0asm header)", name);
  if (b[6] == 0 && b[7] == 0)
    return rsim_errbuf_set(eb, RSIM_ECORRUPT,
                           "%s: is a core WebAssembly module, not a component; make a component "
                           "with `wasm-tools component new`",
                           name);
  return RSIM_OK;
}

int rsim_component_load_bytes(rsim_wasm_engine *e, const char *name, const uint8_t *bytes,
                              size_t len, rsim_component **out, rsim_errbuf *eb) {
  *out = NULL;
  int rc = check_preamble(name, bytes, len, eb);
  if (rc) return rc;
  wasmtime_component_t *comp = NULL;
  wasmtime_error_t *err = wasmtime_component_new(e->engine, bytes, len, &comp);
  if (err) {
    char msg[400];
    rsim__wasm_take_error(err, msg, sizeof msg);
    return rsim_errbuf_set(eb, RSIM_ECORRUPT, "%s: not a valid component: %s", name, msg);
  }
  rsim_component *c = rsim_xcalloc(1, sizeof *c);
  c->e = e;
  c->comp = comp;
  c->path = rsim_xstrdup(name);
  rsim__wasm_reflect(c);
  *out = c;
  return RSIM_OK;
}

int rsim_component_load(rsim_wasm_engine *e, const char *path, rsim_component **out,
                        rsim_errbuf *eb) {
  uint8_t *bytes;
  size_t len;
  *out = NULL;
  int rc = rsim_read_file(path, RSIM_COMPONENT_MAX_BYTES, &bytes, &len, eb);
  if (rc) return rc;
  rc = rsim_component_load_bytes(e, path, bytes, len, out, eb);
  free(bytes);
  return rc;
}

void rsim_component_free(rsim_component *c) {
  if (!c) return;
  for (size_t i = 0; i < c->n_imports; i++) rsim__wasm_sig_clear(&c->imports[i]);
  for (size_t i = 0; i < c->n_exports; i++) rsim__wasm_sig_clear(&c->exports[i]);
  free(c->imports);
  free(c->exports);
  wasmtime_component_delete(c->comp);
  free(c->path);
  free(c);
}

const char *rsim_component_path(const rsim_component *c) { return c->path; }
size_t rsim_component_n_imports(const rsim_component *c) { return c->n_imports; }
const rsim_func_sig *rsim_component_import(const rsim_component *c, size_t i) { return &c->imports[i]; }
size_t rsim_component_n_exports(const rsim_component *c) { return c->n_exports; }
const rsim_func_sig *rsim_component_export(const rsim_component *c, size_t i) { return &c->exports[i]; }

int rsim_component_find_export(const rsim_component *c, const char *name) {
  int found = -1;
  for (size_t i = 0; i < c->n_exports; i++) {
    if (!strcmp(c->exports[i].full, name)) return (int)i;
    if (!strcmp(c->exports[i].name, name)) {
      if (found >= 0) return -2;
      found = (int)i;
    }
  }
  return found;
}

static void describe_sig(const rsim_func_sig *s, rsim_buf *out, const char *indent) {
  rsim_buf_printf(out, "%s%s: func(", indent, s->name);
  for (size_t i = 0; i < s->n_params; i++) {
    rsim_buf_printf(out, "%s%s: ", i ? ", " : "", s->param_names[i]);
    rsim_type_format(s->param_types[i], out);
  }
  rsim_buf_putc(out, ')');
  if (s->result) {
    rsim_buf_puts(out, " -> ");
    rsim_type_format(s->result, out);
  }
  rsim_buf_puts(out, ";\n");
}

static void describe_list(const rsim_func_sig *list, size_t n, const char *what, rsim_buf *out) {
  for (size_t i = 0; i < n; i++) {
    const char *iface = list[i].iface;
    if (!iface) {
      rsim_buf_printf(out, "%s ", what);
      describe_sig(&list[i], out, "");
      continue;
    }
    if (i == 0 || !list[i - 1].iface || strcmp(list[i - 1].iface, iface))
      rsim_buf_printf(out, "%s %s {\n", what, iface);
    describe_sig(&list[i], out, "  ");
    if (i + 1 == n || !list[i + 1].iface || strcmp(list[i + 1].iface, iface)) rsim_buf_puts(out, "}\n");
  }
}

void rsim_component_describe(const rsim_component *c, rsim_buf *out) {
  rsim_buf_printf(out, "component %s\n", c->path);
  if (!c->n_imports) rsim_buf_puts(out, "imports: none\n");
  describe_list(c->imports, c->n_imports, "import", out);
  if (!c->n_exports) rsim_buf_puts(out, "exports: none\n");
  describe_list(c->exports, c->n_exports, "export", out);
}

/* ---- host callbacks ---------------------------------------------------------------- */

static wasmtime_error_t *host_fail(host_binding *b, const char *what, const char *detail) {
  snprintf(b->in->host_err, sizeof b->in->host_err, "host function %.200s %s: %.250s",
           b->sig->full, what, detail);
  return wasmtime_error_new(b->in->host_err);
}

static wasmtime_error_t *host_trampoline(void *env, wasmtime_context_t *ctx,
                                         const wasmtime_component_func_type_t *ty,
                                         wasmtime_component_val_t *args, size_t nargs,
                                         wasmtime_component_val_t *results, size_t nresults) {
  host_binding *b = env;
  const rsim_func_sig *sig = b->sig;
  if (nargs != sig->n_params || nresults != (sig->result ? 1u : 0u))
    return host_fail(b, "was called with the wrong arity", "");
  rsim_val stack[4], *vals = nargs <= 4 ? stack : rsim_xcalloc(nargs, sizeof *vals);
  rsim_errbuf eb = {0};
  size_t done = 0;
  wasmtime_error_t *err = NULL;
  for (; done < nargs; done++)
    if (rsim__wasm_from(&args[done], sig->param_types[done], &vals[done], &eb)) break;
  if (done < nargs) {
    err = host_fail(b, "got a bad argument", eb.msg);
  } else {
    rsim_val result = {0};
    int rc = b->fn(b->in->ctx, sig, vals, nargs, &result);
    if (rc) err = host_fail(b, "failed", rsim_strerror(rc));
    else if (sig->result && rsim__wasm_to(&result, sig->result, &results[0], &eb))
      err = host_fail(b, "produced a bad result", eb.msg);
    rsim_val_clear(&result);
  }
  for (size_t i = 0; i < done; i++) rsim_val_clear(&vals[i]);
  if (vals != stack) free(vals);
  return err;
}

/* Same package and name; versions compatible by semver (0.x: same minor). */
static bool iface_matches(const char *want, const char *have) {
  const char *aw = strchr(want, '@'), *ah = strchr(have, '@');
  size_t nw = aw ? (size_t)(aw - want) : strlen(want), nh = ah ? (size_t)(ah - have) : strlen(have);
  if (nw != nh || memcmp(want, have, nw)) return false;
  if (!aw || !ah) return !aw && !ah;
  int mw = 0, mh = 0, iw = 0, ih = 0;
  sscanf(aw + 1, "%d.%d", &mw, &iw);
  sscanf(ah + 1, "%d.%d", &mh, &ih);
  return mw == mh && (mw != 0 || iw == ih);
}

static const rsim_host_def *find_def(const rsim_func_sig *s, const rsim_host_def *defs, size_t n) {
  for (size_t i = 0; i < n; i++) {
    bool iface_ok = !s->iface ? !defs[i].iface : defs[i].iface && iface_matches(defs[i].iface, s->iface);
    if (iface_ok && !strcmp(defs[i].name, s->name)) return &defs[i];
  }
  return NULL;
}

static int link_error(rsim_instance *in, rsim_errbuf *eb, const char *what, wasmtime_error_t *err) {
  char msg[400];
  rsim__wasm_take_error(err, msg, sizeof msg);
  return rsim_errbuf_set(eb, RSIM_EBACKEND, "component %s (%s): %s: %s", in->name, in->c->path, what, msg);
}

/* Defines every import of the component in a fresh linker. */
static int build_linker(rsim_instance *in, const rsim_host_def *defs, size_t n_defs, rsim_errbuf *eb) {
  rsim_component *c = in->c;
  in->linker = wasmtime_component_linker_new(c->e->engine);
  in->bindings = rsim_xcalloc(c->n_imports ? c->n_imports : 1, sizeof *in->bindings);
  for (size_t i = 0; i < c->n_imports; i++) {
    const rsim_func_sig *s = &c->imports[i];
    const rsim_host_def *d = find_def(s, defs, n_defs);
    if (!d)
      return rsim_errbuf_set(eb, RSIM_ENOTFOUND,
                             "component %s (%s) imports %s, which the host does not provide",
                             in->name, c->path, s->full);
    in->bindings[i] = (host_binding){in, s, d->fn};
  }
  in->n_bindings = c->n_imports;
  /* Imports of one interface are contiguous in reflection order. */
  for (size_t i = 0; i < c->n_imports;) {
    const char *iface = c->imports[i].iface;
    wasmtime_component_linker_instance_t *root = wasmtime_component_linker_root(in->linker), *li = root;
    wasmtime_error_t *err = NULL;
    if (iface) err = wasmtime_component_linker_instance_add_instance(root, iface, strlen(iface), &li);
    if (err) {
      wasmtime_component_linker_instance_delete(root);
      return link_error(in, eb, "linking", err);
    }
    size_t j = i;
    for (; j < c->n_imports && (iface ? c->imports[j].iface && !strcmp(c->imports[j].iface, iface)
                                      : !c->imports[j].iface);
         j++) {
      const char *name = c->imports[j].name;
      err = wasmtime_component_linker_instance_add_func(li, name, strlen(name), host_trampoline,
                                                        &in->bindings[j], NULL);
      if (err) break;
    }
    if (li != root) wasmtime_component_linker_instance_delete(li);
    wasmtime_component_linker_instance_delete(root);
    if (err) return link_error(in, eb, "linking", err);
    i = j;
  }
  return RSIM_OK;
}

/* Sets the store's fuel and epoch deadline for the next call.  On an engine
** that meters them, a store without limits still needs fuel and a deadline
** (both start at zero): it gets all there is. */
static void arm(rsim_instance *in) {
  wasmtime_context_t *ctx = wasmtime_store_context(in->store);
  const rsim_wasm_engine_opts *o = &in->c->e->o;
  if (o->fuel) {
    wasmtime_error_t *err = wasmtime_context_set_fuel(ctx, in->limits.fuel_per_call ? in->limits.fuel_per_call : UINT64_MAX);
    if (err) wasmtime_error_delete(err);
  }
  if (o->deadlines)
    wasmtime_context_set_epoch_deadline(ctx, in->limits.deadline_ns ? (uint64_t)(in->limits.deadline_ns + TICK_NS - 1) / TICK_NS + 1
                                                                    : UINT64_MAX / 2);
}

/* Creates the store and the instance, and looks the exports up. */
static int instantiate(rsim_instance *in, rsim_errbuf *eb) {
  rsim_component *c = in->c;
  in->store = wasmtime_store_new(c->e->engine, NULL, NULL);
  if (in->limits.memory_bytes || in->limits.table_elements)
    wasmtime_store_limiter(in->store, in->limits.memory_bytes ? (int64_t)in->limits.memory_bytes : -1,
                           in->limits.table_elements ? (int64_t)in->limits.table_elements : -1, -1, -1, -1);
  arm(in); /* start functions run at instantiation, under the limits too */
  wasmtime_context_t *ctx = wasmtime_store_context(in->store);
  wasmtime_error_t *err = wasmtime_component_linker_instantiate(in->linker, ctx, c->comp, &in->inst);
  if (err) return link_error(in, eb, "instantiation failed", err);
  for (size_t i = 0; i < c->n_exports; i++) {
    const rsim_func_sig *s = &c->exports[i];
    wasmtime_component_export_index_t *parent = NULL, *idx;
    if (s->iface) parent = wasmtime_component_get_export_index(c->comp, NULL, s->iface, strlen(s->iface));
    idx = (!s->iface || parent) ? wasmtime_component_get_export_index(c->comp, parent, s->name, strlen(s->name)) : NULL;
    in->has_func[i] = idx && wasmtime_component_instance_get_func(&in->inst, ctx, idx, &in->funcs[i]);
    if (idx) wasmtime_component_export_index_delete(idx);
    if (parent) wasmtime_component_export_index_delete(parent);
  }
  in->poisoned = false;
  return RSIM_OK;
}

int rsim_instance_new(rsim_component *c, const char *name, const rsim_host_def *defs,
                      size_t n_defs, void *ctx, const rsim_wasm_limits *limits,
                      rsim_instance **out, rsim_errbuf *eb) {
  *out = NULL;
  if (limits && limits->fuel_per_call && !c->e->o.fuel)
    return rsim_errbuf_set(eb, RSIM_EINVAL, "component %s: a fuel limit needs an engine with fuel metering", name);
  if (limits && limits->deadline_ns && !c->e->o.deadlines)
    return rsim_errbuf_set(eb, RSIM_EINVAL, "component %s: a deadline needs an engine with deadlines", name);
  rsim_instance *in = rsim_xcalloc(1, sizeof *in);
  in->c = c;
  in->name = rsim_xstrdup(name);
  in->ctx = ctx;
  if (limits) in->limits = *limits;
  in->funcs = rsim_xcalloc(c->n_exports ? c->n_exports : 1, sizeof *in->funcs);
  in->has_func = rsim_xcalloc(c->n_exports ? c->n_exports : 1, sizeof *in->has_func);
  in->args = rsim_xcalloc(c->n_exports ? c->n_exports : 1, sizeof *in->args);
  int rc = build_linker(in, defs, n_defs, eb);
  if (!rc) rc = instantiate(in, eb);
  if (rc) {
    rsim_instance_free(in);
    return rc;
  }
  *out = in;
  return RSIM_OK;
}

void rsim_instance_free(rsim_instance *in) {
  if (!in) return;
  if (in->store) wasmtime_store_delete(in->store);
  if (in->linker) wasmtime_component_linker_delete(in->linker);
  free(in->bindings);
  for (size_t i = 0; i < in->c->n_exports && in->args; i++) {
    for (size_t k = 0; in->args[i] && k < in->c->exports[i].n_params; k++)
      wasmtime_component_val_delete(&in->args[i][k]);
    free(in->args[i]);
  }
  free(in->args);
  free(in->funcs);
  free(in->has_func);
  free(in->name);
  free(in);
}

int rsim_instance_reset(rsim_instance *in) {
  if (in->store) wasmtime_store_delete(in->store);
  in->store = NULL;
  rsim_errbuf eb = {0};
  int rc = instantiate(in, &eb);
  if (rc) snprintf(in->errmsg, sizeof in->errmsg, "%s", eb.msg);
  return rc;
}

bool rsim_instance_poisoned(const rsim_instance *in) { return in->poisoned; }
const char *rsim_instance_errmsg(const rsim_instance *in) { return in->errmsg; }
uint64_t rsim_instance_last_fuel(const rsim_instance *in) { return in->last_fuel; }
rsim_limit_kind rsim_instance_last_limit(const rsim_instance *in) { return in->last_limit; }

/* ---- calls --------------------------------------------------------------------------- */

/* Was the trap one of our limits?  Fuel: none left.  Deadline: Wasmtime's
** interrupt trap after at least the deadline. */
static int classify(rsim_instance *in, const char *msg, uint64_t fuel_left, int64_t dt) {
  if (in->limits.fuel_per_call && fuel_left == 0 && strstr(msg, "fuel")) {
    in->last_limit = RSIM_LIMIT_FUEL;
    return RSIM_ELIMIT;
  }
  if (in->limits.deadline_ns && dt >= in->limits.deadline_ns && strstr(msg, "interrupt")) {
    in->last_limit = RSIM_LIMIT_DEADLINE;
    return RSIM_ELIMIT;
  }
  return RSIM_ETRAP;
}

int rsim_instance_call(rsim_instance *in, size_t export_index, const rsim_val *args, size_t nargs,
                       rsim_val *result) {
  memset(result, 0, sizeof *result);
  if (in->poisoned) {
    snprintf(in->errmsg, sizeof in->errmsg,
             "component %s is poisoned by an earlier trap; reset it", in->name);
    return RSIM_ETRAP;
  }
  if (export_index >= in->c->n_exports || !in->has_func[export_index] ||
      nargs != in->c->exports[export_index].n_params) {
    snprintf(in->errmsg, sizeof in->errmsg, "component %s: no callable export #%zu with %zu arguments",
             in->name, export_index, nargs);
    return RSIM_EINVAL;
  }
  const rsim_func_sig *s = &in->c->exports[export_index];
  if (!in->args[export_index]) in->args[export_index] = rsim_xcalloc(nargs ? nargs : 1, sizeof **in->args);
  wasmtime_component_val_t *wargs = in->args[export_index];
  wasmtime_component_val_t wres;
  memset(&wres, 0, sizeof wres);
  rsim_errbuf eb = {0};
  int rc = RSIM_OK;
  for (size_t i = 0; i < nargs; i++)
    if (rsim__wasm_update(&args[i], s->param_types[i], &wargs[i], &eb)) {
      snprintf(in->errmsg, sizeof in->errmsg, "component %s: argument '%s' of %s: %s", in->name,
               s->param_names[i], s->name, eb.msg);
      rc = RSIM_ETYPE;
      break;
    }
  in->last_limit = RSIM_LIMIT_NONE;
  in->last_fuel = 0;
  if (!rc) {
    in->host_err[0] = 0;
    wasmtime_context_t *ctx = wasmtime_store_context(in->store);
    arm(in);
    int64_t t0 = rsim_monotonic_ns();
    wasmtime_error_t *err =
        wasmtime_component_func_call(&in->funcs[export_index], ctx, wargs, nargs, &wres, s->result ? 1 : 0);
    int64_t dt = rsim_monotonic_ns() - t0;
    uint64_t left = 0;
    if (in->c->e->o.fuel) {
      wasmtime_error_t *ferr = wasmtime_context_get_fuel(ctx, &left);
      if (ferr) wasmtime_error_delete(ferr);
      in->last_fuel = (in->limits.fuel_per_call ? in->limits.fuel_per_call : UINT64_MAX) - left;
    }
    if (err) {
      char msg[700];
      rsim__wasm_take_error(err, msg, sizeof msg);
      in->poisoned = true;
      rc = classify(in, msg, left, dt);
      if (rc == RSIM_ELIMIT && in->last_limit == RSIM_LIMIT_FUEL)
        snprintf(in->errmsg, sizeof in->errmsg, "component %s: %s stopped: fuel limit of %llu per call used up",
                 in->name, s->name, (unsigned long long)in->limits.fuel_per_call);
      else if (rc == RSIM_ELIMIT)
        snprintf(in->errmsg, sizeof in->errmsg, "component %s: %s stopped: deadline of %.3f ms per call passed (ran %.3f ms)",
                 in->name, s->name, (double)in->limits.deadline_ns / 1e6, (double)dt / 1e6);
      else
        snprintf(in->errmsg, sizeof in->errmsg, "component %s: trap in %s: %s%s", in->name, s->name, msg,
                 in->limits.memory_bytes ? " (its memory is capped: an allocation past the cap fails)" : "");
    } else if (s->result) {
      if (rsim__wasm_from(&wres, s->result, result, &eb)) {
        snprintf(in->errmsg, sizeof in->errmsg, "component %s: result of %s: %s", in->name, s->name, eb.msg);
        rc = RSIM_ETYPE;
      }
      wasmtime_component_val_delete(&wres);
    }
  }
  return rc;
}
