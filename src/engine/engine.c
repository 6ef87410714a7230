/*
** engine.c -- the deterministic scheduler: streams readings from the store,
** keeps the latest reading of each sensor (the bridge) and the latest
** output of each component (the bus), runs due components in topological
** order, records outputs and folds them into the run digest.
**
** One step = one instant t, the earliest of: the next reading's time, the
** next rate tick of any component.  At t: (1) every reading stamped t is
** taken from the cursor, in store order, into the bridge; (2) in
** topological order, each component runs once if its rate tick is t, and
** once per reading of its trigger sensor stamped t.  A due component whose
** inputs have no value yet is counted as not ready, never silently dropped.
*/
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine_int.h"
#include "rsim/record.h"

typedef struct sensor_slot {
  char *id;
  bool has;               /* latest holds a reading at or before now */
  rsim_reading latest;
  rsim_val val;           /* latest as a value, built on first use */
  bool has_val;
} sensor_slot;

typedef struct node_rt {
  const rsim__gnode *g;
  rsim_component *comp;
  rsim_instance *inst;
  size_t export_index;
  const rsim_func_sig *sig;
  int *param_src;          /* per param: sensor slot (>= 0) or -1 - component index */
  int trigger_slot;        /* on-data trigger sensor slot, or -1 */
  rsim_time next_tick;     /* rate components */
  rsim_val out;            /* the bus: latest output */
  bool has_out;
  rsim_time out_t;
  rsim__host_ctx host;
  rsim_component_stats st;
  rsim_sha256 digest;      /* this component's outputs alone */
  char **warned;           /* unknown sensors already warned about */
  size_t n_warned;
} node_rt;

struct rsim_engine {
  const rsim_graph *g;
  rsim_engine_opts o;
  rsim_wasm_engine *we;
  node_rt *nodes;
  sensor_slot *slots;
  size_t n_slots;
  rsim_cursor *cur;
  rsim_time from, to, now;
  rsim_reading *pending;   /* readings of the current instant */
  int *pending_slot;
  size_t n_pending, cap_pending;
  uint64_t readings;
  rsim_sha256 digest;
  rsim_buf scratch;
  char errmsg[1024];
};

static int seterr(rsim_engine *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int seterr(rsim_engine *e, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(e->errmsg, sizeof e->errmsg, fmt, ap);
  va_end(ap);
  return code;
}

/* Seconds since the run's range start, for messages. */
static double rel_s(const rsim_engine *e, rsim_time t) { return (double)(t - e->from) / 1e9; }

/* ---- sensor slots ---------------------------------------------------------------- */

static int slot_of(const rsim_engine *e, const char *id) {
  for (size_t i = 0; i < e->n_slots; i++)
    if (!strcmp(e->slots[i].id, id)) return (int)i;
  return -1;
}

static int slot_add(rsim_engine *e, const char *id) {
  int s = slot_of(e, id);
  if (s >= 0) return s;
  e->slots = rsim_xrealloc(e->slots, (e->n_slots + 1) * sizeof *e->slots);
  memset(&e->slots[e->n_slots], 0, sizeof e->slots[0]);
  e->slots[e->n_slots].id = rsim_xstrdup(id);
  return (int)e->n_slots++;
}

static void slot_set(sensor_slot *s, const rsim_reading *r) {
  rsim_reading_clear(&s->latest);
  rsim_reading_copy(&s->latest, r);
  s->has = true;
  if (s->has_val) rsim_val_clear(&s->val);
  s->has_val = false;
}

static const rsim_val *slot_val(sensor_slot *s) {
  if (!s->has_val) {
    rsim_engine_reading_to_val(&s->latest, &s->val);
    s->has_val = true;
  }
  return &s->val;
}

/* ---- host-import services (called from bridge.c) --------------------------------- */

rsim_time rsim__engine_now(const rsim_engine *e) { return e->now; }

const char *rsim__engine_config(const rsim_engine *e, size_t node, const char *key) {
  const rsim__gnode *g = e->nodes[node].g;
  for (size_t i = 0; i < g->n_config; i++)
    if (!strcmp(g->config[i].key, key)) return g->config[i].value;
  return NULL;
}

static void emit_log(rsim_engine *e, const char *component, int level, const char *msg) {
  if (e->o.record) rsim_record_event(e->o.record, e->now, component, level, msg);
  if (level < e->o.log_level) return;
  if (e->o.log) {
    e->o.log(e->o.log_ud, e->now, component, level, msg);
    return;
  }
  static const char *const names[] = {"debug", "info", "warn", "error"};
  fprintf(stderr, "[%9.3fs] %s %s: %s\n", rel_s(e, e->now), names[level & 3], component, msg);
}

void rsim__engine_log(rsim_engine *e, size_t node, int level, const char *msg) {
  emit_log(e, e->nodes[node].g->name, level, msg);
}

int rsim__engine_sensor_val(rsim_engine *e, size_t node, const char *id, rsim_val *out) {
  int s = slot_of(e, id);
  if (s >= 0) {
    if (!e->slots[s].has) return RSIM_ENOTFOUND;
    rsim_val_copy(out, slot_val(&e->slots[s]));
    return RSIM_OK;
  }
  /* A sensor the graph does not stream: ask the store directly. */
  rsim_reading r = {0};
  if (rsim_store_sensor(e->o.store, id) && rsim_store_reading_at(e->o.store, id, e->now, &r) == RSIM_OK) {
    rsim_engine_reading_to_val(&r, out);
    rsim_reading_clear(&r);
    return RSIM_OK;
  }
  node_rt *n = &e->nodes[node];
  if (!rsim_store_sensor(e->o.store, id)) {
    for (size_t i = 0; i < n->n_warned; i++)
      if (!strcmp(n->warned[i], id)) return RSIM_ENOTFOUND;
    n->warned = rsim_xrealloc(n->warned, (n->n_warned + 1) * sizeof *n->warned);
    n->warned[n->n_warned++] = rsim_xstrdup(id);
    char msg[512];
    snprintf(msg, sizeof msg, "asked for sensor '%s', which %s does not have; answering none", id,
             rsim_store_path(e->o.store));
    emit_log(e, n->g->name, RSIM_LOG_WARN, msg);
  }
  return RSIM_ENOTFOUND;
}

/* ---- construction -------------------------------------------------------------------- */

static int wire_node(rsim_engine *e, size_t i) {
  node_rt *n = &e->nodes[i];
  n->sig = rsim_component_export(n->comp, n->export_index);
  n->param_src = rsim_xcalloc(n->sig->n_params ? n->sig->n_params : 1, sizeof *n->param_src);
  for (size_t p = 0; p < n->sig->n_params; p++)
    for (size_t j = 0; j < n->g->n_inputs; j++) {
      const rsim__link *l = &n->g->inputs[j];
      if (strcmp(l->port, n->sig->param_names[p])) continue;
      n->param_src[p] = l->src_is_sensor ? slot_add(e, l->src) : -1 - (int)l->src_index;
    }
  n->trigger_slot = n->g->trigger ? slot_add(e, n->g->trigger) : -1;
  n->st.name = n->g->name;
  rsim_sha256_init(&n->digest);
  n->host.engine = e;
  n->host.node = i;
  rsim_errbuf eb = {0};
  int rc = rsim_instance_new(n->comp, n->g->name, rsim__host_defs, rsim__n_host_defs, &n->host,
                             NULL, &n->inst, &eb);
  if (rc) return seterr(e, rc, "%s", eb.msg);
  if (e->o.record) {
    rc = rsim_record_component(e->o.record, n->g->name, n->g->wasm_path, n->sig->full, n->sig->result);
    if (rc) return seterr(e, rc, "%s", rsim_record_errmsg(e->o.record));
  }
  return RSIM_OK;
}

/* Positions rate schedules and the bridge at the start of the range. */
static int position(rsim_engine *e, rsim_time anchor) {
  for (size_t i = 0; i < e->g->n; i++) {
    node_rt *n = &e->nodes[i];
    if (!n->g->period_ns) continue;
    int64_t p = n->g->period_ns;
    int64_t k = e->from > anchor ? (e->from - anchor + p - 1) / p : 0;
    n->next_tick = anchor + k * p;
  }
  /* Sensor inputs of rate components see the latest reading before the
  ** range too, exactly as if the run had started at the log's beginning. */
  for (size_t s = 0; s < e->n_slots; s++) {
    rsim_reading r = {0};
    if (e->from > INT64_MIN && rsim_store_reading_at(e->o.store, e->slots[s].id, e->from - 1, &r) == RSIM_OK) {
      slot_set(&e->slots[s], &r);
      rsim_reading_clear(&r);
    }
  }
  if (!e->n_slots) return RSIM_OK;
  const char **ids = rsim_xcalloc(e->n_slots, sizeof *ids);
  for (size_t s = 0; s < e->n_slots; s++) ids[s] = e->slots[s].id;
  int rc = rsim_store_cursor_open(e->o.store, e->from, e->to, ids, e->n_slots, &e->cur);
  free(ids);
  if (rc) return seterr(e, rc, "%s", rsim_store_errmsg(e->o.store));
  return RSIM_OK;
}

int rsim_engine_new(const rsim_graph *g, const rsim_engine_opts *opts, rsim_engine **out,
                    rsim_errbuf *eb) {
  *out = NULL;
  if (!opts || !opts->store) return rsim_errbuf_set(eb, RSIM_EINVAL, "engine: no store given");
  rsim_engine *e = rsim_xcalloc(1, sizeof *e);
  e->g = g;
  e->o = *opts;
  rsim_sha256_init(&e->digest);
  int rc = rsim_wasm_engine_new(&e->we, eb);
  if (rc) goto fail;
  rsim__checked *chk = rsim_xcalloc(g->n, sizeof *chk);
  int problems = rsim__graph_check(g, opts->store, e->we, chk, NULL, eb);
  e->nodes = rsim_xcalloc(g->n, sizeof *e->nodes);
  for (size_t i = 0; i < g->n; i++) {
    e->nodes[i].g = &g->nodes[i];
    e->nodes[i].comp = chk[i].comp;
    e->nodes[i].export_index = (size_t)chk[i].export_index;
  }
  free(chk);
  if (problems) {
    rc = eb && eb->code ? eb->code : RSIM_EGRAPH;
    goto fail;
  }
  rsim_time first, last;
  rc = rsim_store_time_range(opts->store, &first, &last);
  if (rc) {
    rsim_errbuf_set(eb, rc, "%s: %s", rsim_store_path(opts->store), rsim_store_errmsg(opts->store));
    goto fail;
  }
  e->from = opts->from ? opts->from : first;
  e->to = opts->to ? opts->to : last;
  if (e->from > e->to) {
    rc = rsim_errbuf_set(eb, RSIM_EINVAL, "empty range: from is after to");
    goto fail;
  }
  e->now = e->from;
  for (size_t i = 0; i < g->n && !rc; i++) rc = wire_node(e, g->order[i]);
  if (!rc) rc = position(e, first);
  if (rc) {
    rsim_errbuf_set(eb, rc, "%s", e->errmsg);
    goto fail;
  }
  *out = e;
  return RSIM_OK;
fail:
  rsim_engine_free(e);
  return rc;
}

void rsim_engine_free(rsim_engine *e) {
  if (!e) return;
  for (size_t i = 0; e->nodes && i < e->g->n; i++) {
    node_rt *n = &e->nodes[i];
    rsim_instance_free(n->inst);
    rsim_component_free(n->comp);
    free(n->param_src);
    if (n->has_out) rsim_val_clear(&n->out);
    for (size_t j = 0; j < n->n_warned; j++) free(n->warned[j]);
    free(n->warned);
  }
  free(e->nodes);
  for (size_t s = 0; s < e->n_slots; s++) {
    free(e->slots[s].id);
    rsim_reading_clear(&e->slots[s].latest);
    if (e->slots[s].has_val) rsim_val_clear(&e->slots[s].val);
  }
  free(e->slots);
  for (size_t i = 0; i < e->n_pending; i++) rsim_reading_clear(&e->pending[i]);
  free(e->pending);
  free(e->pending_slot);
  rsim_cursor_close(e->cur);
  rsim_wasm_engine_free(e->we);
  rsim_buf_free(&e->scratch);
  free(e);
}

const char *rsim_engine_errmsg(const rsim_engine *e) { return e->errmsg; }

/* ---- stepping ------------------------------------------------------------------------ */

int rsim_engine_next_time(rsim_engine *e, rsim_time *out) {
  rsim_time t = INT64_MAX;
  rsim_time rt;
  if (e->cur) {
    int rc = rsim_cursor_peek_time(e->cur, &rt);
    if (rc == RSIM_OK) t = rt;
    else if (rc != RSIM_EEOF) return seterr(e, rc, "%s", rsim_store_errmsg(e->o.store));
  }
  for (size_t i = 0; i < e->g->n; i++)
    if (e->nodes[i].g->period_ns && e->nodes[i].next_tick < t) t = e->nodes[i].next_tick;
  if (t == INT64_MAX || t > e->to) return RSIM_EEOF;
  *out = t;
  return RSIM_OK;
}

/* Takes every reading stamped t into the pending list and the bridge. */
static int take_readings(rsim_engine *e, rsim_time t) {
  for (size_t i = 0; i < e->n_pending; i++) rsim_reading_clear(&e->pending[i]);
  e->n_pending = 0;
  rsim_time rt;
  while (e->cur && rsim_cursor_peek_time(e->cur, &rt) == RSIM_OK && rt == t) {
    const rsim_reading *r;
    int rc = rsim_cursor_next(e->cur, &r);
    if (rc) return seterr(e, rc, "%s", rsim_store_errmsg(e->o.store));
    if (e->n_pending == e->cap_pending) {
      e->cap_pending = e->cap_pending ? 2 * e->cap_pending : 8;
      e->pending = rsim_xrealloc(e->pending, e->cap_pending * sizeof *e->pending);
      e->pending_slot = rsim_xrealloc(e->pending_slot, e->cap_pending * sizeof *e->pending_slot);
    }
    memset(&e->pending[e->n_pending], 0, sizeof e->pending[0]);
    rsim_reading_copy(&e->pending[e->n_pending], r);
    int s = slot_of(e, r->sensor_id);
    e->pending_slot[e->n_pending++] = s;
    if (s >= 0) slot_set(&e->slots[s], r);
    if (e->o.record) rsim_record_reading(e->o.record, r);
    e->readings++;
  }
  return RSIM_OK;
}

static void fold_output(rsim_engine *e, node_rt *n, rsim_time t) {
  rsim_buf *b = &e->scratch;
  b->len = 0;
  rsim_val_encode(&n->out, b);
  uint8_t tb[8];
  for (int i = 0; i < 8; i++) tb[i] = (uint8_t)((uint64_t)t >> (8 * i));
  rsim_sha256_update(&e->digest, n->g->name, strlen(n->g->name) + 1);
  rsim_sha256_update(&e->digest, tb, 8);
  rsim_sha256_update(&e->digest, b->data, b->len);
  rsim_sha256_update(&n->digest, tb, 8);
  rsim_sha256_update(&n->digest, b->data, b->len);
  if (!e->o.record) return;
  rsim_buf json = {0};
  rsim_val_to_json(&n->out, n->sig->result, 256, &json);
  rsim_buf_putc(&json, 0);
  rsim_record_output(e->o.record, t, n->g->name, &n->out, n->sig->result, b->data, b->len, (char *)json.data);
  rsim_buf_free(&json);
}

static int on_trap(rsim_engine *e, node_rt *n, int rc) {
  char tbuf[32];
  rsim_format_duration(e->now - e->from, tbuf, sizeof tbuf);
  seterr(e, rc, "component '%s' failed at sim time %s (t=%lld ns): %s", n->g->name, tbuf,
         (long long)e->now, rsim_instance_errmsg(n->inst));
  n->st.errors++;
  if (e->o.on_error == RSIM_ON_ERROR_STOP) {
    /* The caller reports it; keep it in the output database too. */
    if (e->o.record) rsim_record_event(e->o.record, e->now, n->g->name, RSIM_LOG_ERROR, e->errmsg);
    return rc;
  }
  emit_log(e, n->g->name, RSIM_LOG_ERROR, e->errmsg);
  /* Continue: a trap poisons the store, so start the component afresh.
  ** Its state is lost; the checkpoint issue restores it instead. */
  int rr = rsim_instance_reset(n->inst);
  if (rr) return seterr(e, rr, "component '%s' could not be restarted: %s", n->g->name,
                        rsim_instance_errmsg(n->inst));
  return RSIM_OK;
}

/* Runs node n once at e->now; trig is the triggering reading or NULL. */
static int run_node(rsim_engine *e, node_rt *n, const rsim_reading *trig) {
  size_t np = n->sig->n_params;
  rsim_val args_stack[8], *args = np <= 8 ? args_stack : rsim_xcalloc(np, sizeof *args);
  rsim_val trig_val = {0};
  bool ready = true;
  for (size_t p = 0; p < np && ready; p++) {
    int src = n->param_src[p];
    if (src >= 0 && trig && src == n->trigger_slot) {
      if (trig_val.kind == RSIM_BOOL) rsim_engine_reading_to_val(trig, &trig_val);
      args[p] = trig_val;
    } else if (src >= 0) {
      ready = e->slots[src].has;
      if (ready) args[p] = *slot_val(&e->slots[src]);
    } else {
      node_rt *s = &e->nodes[-1 - src];
      ready = s->has_out;
      if (ready) args[p] = s->out;
    }
  }
  int rc = RSIM_OK;
  if (!ready) {
    n->st.not_ready++;
  } else {
    rsim_val result = {0};
    int64_t t0 = rsim_monotonic_ns();
    rc = rsim_instance_call(n->inst, n->export_index, args, np, &result);
    int64_t dt = rsim_monotonic_ns() - t0;
    n->st.calls++;
    n->st.total_ns += dt;
    if (dt > n->st.max_ns) n->st.max_ns = dt;
    if (rc == RSIM_OK && n->sig->result) {
      if (n->has_out) rsim_val_clear(&n->out);
      n->out = result; /* moves ownership into the bus */
      n->has_out = true;
      n->out_t = e->now;
      n->st.outputs++;
      fold_output(e, n, e->now);
    } else if (rc) {
      rc = on_trap(e, n, rc);
    }
  }
  rsim_val_clear(&trig_val);
  if (args != args_stack) free(args);
  return rc;
}

int rsim_engine_step(rsim_engine *e) {
  rsim_time t;
  int rc = rsim_engine_next_time(e, &t);
  if (rc) return rc;
  e->now = t;
  rc = take_readings(e, t);
  for (size_t k = 0; k < e->g->n && !rc; k++) {
    node_rt *n = &e->nodes[e->g->order[k]];
    if (n->g->period_ns && n->next_tick == t) {
      n->next_tick += n->g->period_ns;
      rc = run_node(e, n, NULL);
    }
    for (size_t i = 0; i < e->n_pending && !rc && n->trigger_slot >= 0; i++)
      if (e->pending_slot[i] == n->trigger_slot) rc = run_node(e, n, &e->pending[i]);
  }
  return rc;
}

rsim_time rsim_engine_time(const rsim_engine *e) { return e->now; }

void rsim_engine_range(const rsim_engine *e, rsim_time *out_from, rsim_time *out_to) {
  *out_from = e->from;
  *out_to = e->to;
}

void rsim_engine_digest(const rsim_engine *e, char hex[65]) {
  rsim_sha256 copy = e->digest;
  uint8_t d[32];
  rsim_sha256_final(&copy, d);
  rsim_sha256_hex(d, hex);
}

void rsim_engine_component_digest(const rsim_engine *e, size_t i, char hex[65]) {
  rsim_sha256 copy = e->nodes[i].digest;
  uint8_t d[32];
  rsim_sha256_final(&copy, d);
  rsim_sha256_hex(d, hex);
}

size_t rsim_engine_n_components(const rsim_engine *e) { return e->g->n; }

void rsim_engine_stats(const rsim_engine *e, size_t i, rsim_component_stats *out) {
  *out = e->nodes[i].st;
}

uint64_t rsim_engine_readings(const rsim_engine *e) { return e->readings; }

const rsim_val *rsim_engine_output(const rsim_engine *e, size_t i, const rsim_type **out_type,
                                   rsim_time *out_t) {
  const node_rt *n = &e->nodes[i];
  if (out_type) *out_type = n->sig ? n->sig->result : NULL;
  if (out_t) *out_t = n->out_t;
  return n->has_out ? &n->out : NULL;
}
