/*
** check.c -- the graph checks that need the components themselves:
** every file compiles, its world and export are the ones the graph says,
** every input port exists and is linked, the types at both ends of every
** link are equal (WIT structural equality), the host imports a component
** expects are the ones the host gives, the files are the ones the graph
** pins (sha256), and the sensors exist.
**
** All problems are listed, one line each, so that a user fixes a graph in
** one round; the first one also goes to the errbuf.
*/
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine_int.h"

/* The worlds of components/wit/sim.wit and the interface each exports. */
static const struct {
  const char *world, *iface;
} kWorlds[] = {
    {"camera-detector", "rsim:sim/camera-processing@"},
    {"radar-tracker", "rsim:sim/radar-processing@"},
    {"fusion", "rsim:sim/sensor-fusion@"},
    {"planner", "rsim:sim/planning@"},
};

typedef struct checker {
  const rsim_graph *g;
  rsim_buf *report;
  rsim_errbuf *eb;
  int problems;
} checker;

static void problem(checker *C, int code, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void problem(checker *C, int code, int line, const char *fmt, ...) {
  char msg[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (C->report) rsim_buf_printf(C->report, "%s:%d: %s\n", C->g->path, line, msg);
  rsim_errbuf_set(C->eb, code, "%s:%d: %s", C->g->path, line, msg);
  C->problems++;
}

static const char *world_iface(const char *world) {
  for (size_t i = 0; i < sizeof kWorlds / sizeof kWorlds[0]; i++)
    if (!strcmp(kWorlds[i].world, world)) return kWorlds[i].iface;
  return NULL;
}

static bool iface_is(const char *iface, const char *prefix) {
  return iface && !strncmp(iface, prefix, strlen(prefix));
}

/* Picks the export the graph node runs; -1 after reporting a problem. */
static int pick_export(checker *C, const rsim__gnode *n, const rsim_component *comp) {
  size_t ne = rsim_component_n_exports(comp);
  const char *wiface = NULL;
  if (n->world) {
    wiface = world_iface(n->world);
    if (!wiface) {
      problem(C, RSIM_EGRAPH, n->line,
              "component '%s': unknown world '%s' (known: camera-detector, radar-tracker, "
              "fusion, planner)",
              n->name, n->world);
      return -1;
    }
  }
  if (n->export_name) {
    int i = rsim_component_find_export(comp, n->export_name);
    if (i < 0)
      problem(C, RSIM_EGRAPH, n->line, "component '%s' (%s) has %s export named '%s'", n->name,
              n->wasm_path, i == -2 ? "more than one" : "no", n->export_name);
    return i < 0 ? -1 : i;
  }
  int found = -1, count = 0;
  for (size_t i = 0; i < ne; i++) {
    const rsim_func_sig *s = rsim_component_export(comp, i);
    if (wiface && !iface_is(s->iface, wiface)) continue;
    if (iface_is(s->iface, "rsim:sim/state@")) continue; /* checkpoints, not the work */
    found = (int)i;
    count++;
  }
  if (count == 1) return found;
  rsim_buf names = {0};
  for (size_t i = 0; i < ne; i++)
    rsim_buf_printf(&names, "%s%s", i ? ", " : "", rsim_component_export(comp, i)->full);
  rsim_buf_putc(&names, 0);
  if (count == 0 && wiface)
    problem(C, RSIM_EGRAPH, n->line,
            "component '%s' (%s) does not implement world '%s': it exports no %s* function "
            "(its exports: %s)",
            n->name, n->wasm_path, n->world, wiface, ne ? (char *)names.data : "none");
  else
    problem(C, RSIM_EGRAPH, n->line,
            "component '%s' (%s) exports %d functions; name one with 'export:' (%s)", n->name,
            n->wasm_path, count, count ? (char *)names.data : "none");
  rsim_buf_free(&names);
  return -1;
}

static void check_sig_types(checker *C, const rsim__gnode *n, const rsim_func_sig *want,
                            const rsim_func_sig *got) {
  bool same = want->n_params == got->n_params && rsim_type_equal(want->result, got->result);
  for (size_t i = 0; same && i < want->n_params; i++)
    same = rsim_type_equal(want->param_types[i], got->param_types[i]);
  if (same) return;
  rsim_buf w = {0}, g = {0};
  for (size_t i = 0; i < want->n_params; i++) {
    rsim_buf_printf(&w, "%s%s: ", i ? ", " : "", want->param_names[i]);
    rsim_type_format(want->param_types[i], &w);
  }
  for (size_t i = 0; i < got->n_params; i++) {
    rsim_buf_printf(&g, "%s%s: ", i ? ", " : "", got->param_names[i]);
    rsim_type_format(got->param_types[i], &g);
  }
  if (want->result) rsim_buf_puts(&w, ") -> "), rsim_type_format(want->result, &w);
  else rsim_buf_puts(&w, ")");
  if (got->result) rsim_buf_puts(&g, ") -> "), rsim_type_format(got->result, &g);
  else rsim_buf_puts(&g, ")");
  rsim_buf_putc(&w, 0);
  rsim_buf_putc(&g, 0);
  problem(C, RSIM_ETYPE, n->line,
          "component '%s' imports %s as func(%s but the host provides func(%s", n->name,
          got->full, (char *)g.data, (char *)w.data);
  rsim_buf_free(&w);
  rsim_buf_free(&g);
}

/* An import of the deterministic WASI adapter (components/wasi-deterministic):
** allowed only where the graph says `wasi: deterministic`. */
static void check_wasi_import(checker *C, const rsim__gnode *n, const rsim_func_sig *s) {
  const rsim_host_def *d = NULL;
  for (size_t i = 0; i < rsim__n_wasi_host_defs; i++)
    if (!strcmp(s->iface, rsim__wasi_host_defs[i].iface) && !strcmp(s->name, rsim__wasi_host_defs[i].name))
      d = &rsim__wasi_host_defs[i];
  if (!d)
    problem(C, RSIM_EGRAPH, n->line,
            "component '%s' (%s) imports %s, which the host does not provide (it provides "
            RSIM_WASI_DET_IFACE "#seed to the deterministic WASI adapter)",
            n->name, n->wasm_path, s->full);
  else if (!n->wasi_deterministic)
    problem(C, RSIM_EGRAPH, n->line,
            "component '%s' (%s) imports %s: it carries replaysim's deterministic WASI adapter (its "
            "language runtime imports WASI: wasi:cli, wasi:clocks, wasi:random, ...), which the graph "
            "must allow with `wasi: deterministic` in component '%s'",
            n->name, n->wasm_path, s->full, n->name);
  else if (s->n_params != 0 || !s->result || s->result->kind != RSIM_U64)
    problem(C, RSIM_ETYPE, n->line, "component '%s' imports %s with another type than func() -> u64",
            n->name, s->full);
}

static void check_imports(checker *C, const rsim__gnode *n, const rsim_component *comp) {
  for (size_t i = 0; i < rsim_component_n_imports(comp); i++) {
    const rsim_func_sig *s = rsim_component_import(comp, i);
    if (iface_is(s->iface, "rsim:wasi/deterministic@")) {
      check_wasi_import(C, n, s);
      continue;
    }
    const rsim_func_sig *h = rsim__host_sig(s->iface, s->name);
    if (!h && iface_is(s->iface, "wasi:")) {
      problem(C, RSIM_EGRAPH, n->line,
              "component '%s' (%s) imports %s, which the host does not provide (components get no "
              "WASI; one whose language runtime needs it, such as a Python component, must have "
              "replaysim's deterministic WASI adapter plugged in (docs/authoring.md) and `wasi: "
              "deterministic` in the graph)",
              n->name, n->wasm_path, s->full);
      continue;
    }
    if (!h) {
      problem(C, RSIM_EGRAPH, n->line,
              "component '%s' (%s) imports %s, which the host does not provide (components "
              "get no WASI; the host provides " RSIM_SENSOR_DATA_IFACE " and " RSIM_WIT_VERSION_030 ")",
              n->name, n->wasm_path, s->full);
      continue;
    }
    check_sig_types(C, n, h, s);
  }
}

static void check_sensor(checker *C, rsim_store *st, const rsim__gnode *n, int line,
                         const char *what, const char *id) {
  if (!st || rsim_store_sensor(st, id)) return;
  const rsim_sensor_info *list;
  size_t count = 0;
  rsim_buf names = {0};
  if (rsim_store_sensors(st, &list, &count) == RSIM_OK)
    for (size_t i = 0; i < count; i++) rsim_buf_printf(&names, "%s%s", i ? ", " : "", list[i].id);
  rsim_buf_putc(&names, 0);
  problem(C, RSIM_ENOTFOUND, line, "%s of component '%s' is sensor '%s', which %s does not have (it has: %s)",
          what, n->name, id, rsim_store_path(st), count ? (char *)names.data : "no sensors");
  rsim_buf_free(&names);
}

static void type_mismatch(checker *C, const rsim__gnode *n, const rsim__link *l, const char *src,
                          const rsim_type *src_t, const rsim_type *dst_t) {
  char *a = rsim_type_str(src_t), *b = rsim_type_str(dst_t);
  problem(C, RSIM_ETYPE, l->line, "link %s -> %s.%s: type mismatch: %s is %s, but %s.%s expects %s",
          src, n->name, l->port, src, a, n->name, l->port, b);
  free(a);
  free(b);
}

/* A sensor id the graph may use: one in the store, or a derived one whose
** source is in the store. */
static void check_sensor_ref(checker *C, rsim_store *st, const rsim__gnode *n, int line,
                             const char *what, const char *id) {
  const rsim__gsensor *gs = rsim__graph_sensor(C->g, id);
  if (gs && gs->from) {
    if (st && !rsim_store_sensor(st, gs->from))
      problem(C, RSIM_ENOTFOUND, gs->line, "sensor '%s' (used by component '%s') comes from '%s', which %s does not have",
              id, n->name, gs->from, rsim_store_path(st));
    return;
  }
  check_sensor(C, st, n, line, what, id);
}

/* The type a source hands over: a sensor reading or a component's result. */
static const rsim_type *src_type(const rsim__src *s, const rsim__checked *chk, const rsim_type *want,
                                 const rsim_func_sig **ssig) {
  *ssig = NULL;
  if (s->is_sensor) return rsim__reading_type_for(want); /* either contract's reading */
  if (!chk[s->index].comp || chk[s->index].export_index < 0) return NULL;
  *ssig = rsim_component_export(chk[s->index].comp, (size_t)chk[s->index].export_index);
  return (*ssig)->result;
}

/* interface: given with or without a version ("rsim:sim/planning"). */
static bool iface_matches(const char *have, const char *want) {
  if (!have) return false;
  size_t n = strlen(want);
  return !strncmp(have, want, n) && (have[n] == 0 || (have[n] == '@' && !strchr(want, '@')));
}

static void check_link_types(checker *C, const rsim__gnode *n, const rsim__link *l, const rsim_type *want,
                             const rsim__checked *chk) {
  /* Fan-in and queues hand over a list: each source gives an element or a
  ** list of elements, concatenated in order. */
  bool listy = l->fan_in || l->policy == RSIM__LINK_QUEUE;
  if (listy && want->kind != RSIM_LIST) {
    char *b = rsim_type_str(want);
    problem(C, RSIM_ETYPE, l->line, "input %s.%s takes %s, but a %s link hands over a list", n->name, l->port,
            b, l->fan_in ? "fan-in" : "queue");
    free(b);
    return;
  }
  for (size_t k = 0; k < l->n_srcs; k++) {
    const rsim__src *s = &l->srcs[k];
    const rsim_func_sig *ssig;
    const rsim_type *have = src_type(s, chk, want, &ssig);
    char src[300];
    snprintf(src, sizeof src, s->is_sensor ? "sensor:%s" : "%s.out", s->name);
    if (!s->is_sensor && !ssig) continue; /* already reported */
    if (!s->is_sensor && l->iface && !iface_matches(ssig->iface, l->iface))
      problem(C, RSIM_ETYPE, l->line, "link %s -> %s.%s must carry interface %s, but %s exports %s", src, n->name,
              l->port, l->iface, s->name, ssig->iface ? ssig->iface : ssig->full);
    if (s->is_sensor && l->iface)
      problem(C, RSIM_EGRAPH, l->line, "link %s -> %s.%s: interface: applies to component sources, not sensors",
              src, n->name, l->port);
    if (!have) {
      problem(C, RSIM_ETYPE, l->line, "link %s -> %s.%s: %s returns nothing", src, n->name, l->port, ssig->full);
      continue;
    }
    bool ok = rsim_type_equal(have, want) || (listy && rsim_type_equal(have, want->types[0]));
    if (!ok) type_mismatch(C, n, l, src, have, want);
  }
}

static void check_links(checker *C, rsim_store *st, size_t idx, const rsim__checked *chk) {
  const rsim__gnode *n = &C->g->nodes[idx];
  if (n->trigger) check_sensor_ref(C, st, n, n->line, "the trigger", n->trigger);
  const rsim_func_sig *sig =
      chk[idx].comp && chk[idx].export_index >= 0 ? rsim_component_export(chk[idx].comp, (size_t)chk[idx].export_index) : NULL;
  for (size_t j = 0; j < n->n_inputs; j++) {
    const rsim__link *l = &n->inputs[j];
    for (size_t k = 0; k < l->n_srcs; k++)
      if (l->srcs[k].is_sensor) check_sensor_ref(C, st, n, l->line, "an input", l->srcs[k].name);
    if (!sig) continue;
    int p = -1;
    for (size_t k = 0; k < sig->n_params; k++)
      if (!strcmp(sig->param_names[k], l->port)) p = (int)k;
    if (p < 0) {
      rsim_buf ports = {0};
      for (size_t k = 0; k < sig->n_params; k++)
        rsim_buf_printf(&ports, "%s%s", k ? ", " : "", sig->param_names[k]);
      rsim_buf_putc(&ports, 0);
      problem(C, RSIM_EGRAPH, l->line, "component '%s' has no input '%s' (%s takes: %s)", n->name,
              l->port, sig->full, sig->n_params ? (char *)ports.data : "nothing");
      rsim_buf_free(&ports);
      continue;
    }
    check_link_types(C, n, l, sig->param_types[p], chk);
  }
  if (!sig) return;
  for (size_t k = 0; k < sig->n_params; k++) {
    bool linked = false;
    for (size_t j = 0; j < n->n_inputs; j++) linked |= !strcmp(n->inputs[j].port, sig->param_names[k]);
    if (!linked) {
      char *t = rsim_type_str(sig->param_types[k]);
      problem(C, RSIM_EGRAPH, n->line, "input '%s' of component '%s' (%s) is not linked", sig->param_names[k],
              n->name, t);
      free(t);
    }
  }
}

/* Reads the component's file once, holds its bytes to the graph's sha256
** pin (and requires one when the graph says so), and compiles those same
** bytes: the file cannot change between the check and the load.  Returns
** false after reporting a problem. */
static bool load_pinned(checker *C, const rsim__gnode *n, rsim_wasm_engine *we, rsim_component **out) {
  uint8_t *bytes = NULL, digest[32];
  size_t len = 0;
  rsim_errbuf ceb = {0};
  if (rsim_read_file(n->wasm_path, RSIM_COMPONENT_MAX_BYTES, &bytes, &len, &ceb)) {
    problem(C, ceb.code ? ceb.code : RSIM_EGRAPH, n->line, "component '%s': %s", n->name, ceb.msg);
    return false;
  }
  rsim_sha256 h;
  char hex[65];
  rsim_sha256_init(&h);
  rsim_sha256_update(&h, bytes, len);
  rsim_sha256_final(&h, digest);
  rsim_sha256_hex(digest, hex);
  bool ok = false;
  if (n->sha256 && strcmp(n->sha256, hex))
    problem(C, RSIM_EGRAPH, n->line, "component '%s' (%s): sha256 mismatch: the graph pins %s, the file is %s", n->name,
            n->wasm_path, n->sha256, hex);
  else if (!n->sha256 && C->g->require_hashes)
    problem(C, RSIM_EGRAPH, n->line,
            "component '%s' (%s) has no sha256 pin and hashes are required: expected a pin, the file is %s "
            "(add 'sha256: %s' if you trust it)",
            n->name, n->wasm_path, hex, hex);
  else if (rsim_component_load_bytes(we, n->wasm_path, bytes, len, out, &ceb))
    problem(C, ceb.code ? ceb.code : RSIM_EGRAPH, n->line, "component '%s': %s", n->name, ceb.msg);
  else
    ok = true;
  free(bytes);
  return ok;
}

int rsim__graph_check(const rsim_graph *g, rsim_store *st, rsim_wasm_engine *we,
                      rsim__checked *out, rsim_buf *report, rsim_errbuf *eb) {
  checker C = {.g = g, .report = report, .eb = eb};
  for (size_t i = 0; i < g->n; i++) {
    const rsim__gnode *n = &g->nodes[i];
    out[i].comp = NULL;
    out[i].export_index = -1;
    if (!n->wasm_path) {
      problem(&C, RSIM_ENOTFOUND, n->line,
              "component '%s': file '%s' not found (looked beside the graph, in "
              "$RSIM_COMPONENT_PATH and in the build's components folder)",
              n->name, n->wasm_spec);
      continue;
    }
    if (!load_pinned(&C, n, we, &out[i].comp)) continue;
    out[i].export_index = pick_export(&C, n, out[i].comp);
    check_imports(&C, n, out[i].comp);
  }
  for (size_t i = 0; i < g->n; i++) check_links(&C, st, i, out);
  return C.problems;
}

int rsim_graph_check(const rsim_graph *g, rsim_store *st, rsim_buf *report, rsim_errbuf *eb) {
  rsim_wasm_engine *we;
  int rc = rsim_wasm_engine_new(&we, eb);
  if (rc) return rc;
  rsim__checked *chk = rsim_xcalloc(g->n, sizeof *chk);
  int problems = rsim__graph_check(g, st, we, chk, report, eb);
  for (size_t i = 0; i < g->n; i++) rsim_component_free(chk[i].comp);
  free(chk);
  rsim_wasm_engine_free(we);
  return problems ? (eb && eb->code ? eb->code : RSIM_EGRAPH) : RSIM_OK;
}
