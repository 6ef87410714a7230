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
#include <unistd.h>

#include "engine/engine_int.h"
#include "engine/engine_rt.h"
#include "rsim/record.h"

/* The engine's message (engine_rt.h; checkpoint.c sets it too). */
#define seterr rsim__engine_seterr

int rsim__engine_seterr(rsim_engine *e, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(e->errmsg, sizeof e->errmsg, fmt, ap);
  va_end(ap);
  return code;
}

/* ---- sensor slots ---------------------------------------------------------------- */

static int slot_of(const rsim_engine *e, const char *id) {
  for (size_t i = 0; i < e->n_slots; i++)
    if (!strcmp(e->slots[i].id, id)) return (int)i;
  return -1;
}

static void emit_log(rsim_engine *e, const char *component, int level, const char *msg);

/* Bridge defaults (docs/graph.md): numeric kinds are interpolated, frames
** and clouds held; either answer goes stale after ten nominal periods. */
static void slot_settings(rsim_engine *e, sensor_slot *s, const rsim_sensor_info *info) {
  s->gs = rsim__graph_sensor(e->g, s->id);
  s->kind = info ? info->kind : RSIM_SENSOR_CAMERA;
  int sample = s->gs ? s->gs->sample : RSIM__SAMPLE_AUTO;
  if (sample == RSIM__SAMPLE_AUTO) {
    switch (s->kind) {
    case RSIM_SENSOR_IMU:
    case RSIM_SENSOR_GPS:
    case RSIM_SENSOR_ULTRASONIC: sample = RSIM__SAMPLE_INTERPOLATE; break;
    case RSIM_SENSOR_CAN: sample = s->gs && s->gs->n_signals ? RSIM__SAMPLE_INTERPOLATE : RSIM__SAMPLE_HOLD; break;
    default: sample = RSIM__SAMPLE_HOLD;
    }
  }
  s->sample = sample;
  if (s->gs && s->gs->max_staleness_ns) s->max_stale = s->gs->max_staleness_ns;
  else if (info && info->rate_hz > 0) s->max_stale = (int64_t)(10e9 / info->rate_hz);
  else s->max_stale = RSIM_NS_PER_S;
}

/* Adds (or finds) the slot of a sensor; derived sensors add their source. */
static int slot_add(rsim_engine *e, const char *id) {
  int s = slot_of(e, id);
  if (s >= 0) return s;
  const rsim__gsensor *gs = rsim__graph_sensor(e->g, id);
  int src = gs && gs->from ? slot_add(e, gs->from) : -1;
  e->slots = rsim_xrealloc(e->slots, (e->n_slots + 1) * sizeof *e->slots);
  sensor_slot *n = &e->slots[e->n_slots];
  memset(n, 0, sizeof *n);
  n->id = rsim_xstrdup(id);
  n->src = src;
  n->ans_now = INT64_MIN;
  if (src >= 0) {
    sensor_slot *base = &e->slots[src];
    n->kind = base->kind;
    n->gs = gs;
    n->sample = base->sample;
    n->max_stale = base->max_stale;
  } else {
    slot_settings(e, n, rsim_store_sensor(e->o.store, id));
  }
  return (int)e->n_slots++;
}

static void slot_set(sensor_slot *s, const rsim_reading *r) {
  rsim_reading_clear(&s->latest);
  rsim_reading_copy(&s->latest, r);
  s->has = true;
  s->seq++;
  s->ans_valid = false;
}

/* Moves the lookahead to the first reading after now. */
static void ahead_advance(rsim_engine *e, sensor_slot *s) {
  if (s->ahead_done) return;
  if (!s->ahead) {
    const char *ids[1] = {s->id};
    if (rsim_store_cursor_open(e->o.store, e->bnow + 1, INT64_MAX, ids, 1, &s->ahead)) {
      s->ahead_done = true;
      return;
    }
  }
  while (!s->has_next || s->next.t <= e->bnow) {
    const rsim_reading *r;
    if (rsim_cursor_next(s->ahead, &r) != RSIM_OK) {
      s->has_next = false;
      s->ahead_done = true;
      return;
    }
    rsim_reading_clear(&s->next);
    rsim_reading_copy(&s->next, r);
    s->has_next = true;
  }
}

/* Ad hoc slots are not on the main cursor: the store answers for them. */
static void adhoc_refresh(rsim_engine *e, sensor_slot *s) {
  rsim_reading r = {0};
  if (rsim_store_reading_at(e->o.store, s->id, e->bnow, &r) != RSIM_OK) {
    if (s->has) s->ans_valid = false;
    s->has = false;
    return;
  }
  if (!s->has || r.t != s->latest.t) slot_set(s, &r);
  rsim_reading_clear(&r);
}

static void base_answer(rsim_engine *e, sensor_slot *s) {
  if (s->adhoc) adhoc_refresh(e, s);
  s->ans = ANS_NONE;
  s->ans_r = NULL;
  if (!s->has) return;
  s->ans_age = e->bnow - s->latest.t;
  if (s->ans_age == 0) {
    s->ans = ANS_EXACT;
    s->ans_r = &s->latest;
    return;
  }
  if (s->sample == RSIM__SAMPLE_EXACT) return;
  if (s->sample == RSIM__SAMPLE_INTERPOLATE) {
    ahead_advance(e, s);
    if (s->has_next && s->next.t - s->latest.t <= s->max_stale) {
      bool same = s->key_ans == ANS_INTERP && s->key_seq == s->seq && s->key_t == e->bnow;
      if (same) {
        s->ans = ANS_INTERP;
        s->ans_r = &s->interp;
        return;
      }
      rsim_reading tmp = {0};
      const rsim__can_signal *sig = s->gs ? s->gs->signals : NULL;
      if (rsim__interpolate(&s->latest, &s->next, e->bnow, sig, s->gs ? s->gs->n_signals : 0, &tmp) == RSIM_OK) {
        rsim_reading_clear(&s->interp);
        s->interp = tmp;
        s->ans = ANS_INTERP;
        s->ans_r = &s->interp;
        e->bst.interpolated++;
        return;
      }
    }
  }
  if (s->ans_age <= s->max_stale) {
    s->ans = ANS_HELD;
    s->ans_r = &s->latest;
  } else {
    e->bst.stale++;
  }
}

static void slot_answer(rsim_engine *e, int idx);

static void derived_answer(rsim_engine *e, sensor_slot *s) {
  slot_answer(e, s->src);
  sensor_slot *b = &e->slots[s->src];
  s->ans = b->ans;
  s->ans_age = b->ans_age;
  s->ans_r = NULL;
  if (b->ans == ANS_NONE) return;
  /* Same source content as last time: the cached transform serves. */
  if (s->key_seq == b->gen && s->has) {
    s->ans_r = &s->xf;
    return;
  }
  char msg[300];
  rsim_reading tmp = {0};
  if (rsim__transform(s->gs->ops, s->gs->n_ops, b->ans_r, &tmp, msg, sizeof msg)) {
    /* Said once, by the commit of the first run (in serial order) that
    ** asked: slot_val hands the line to every asker until then. */
    if (!s->warned && !s->fail_msg) {
      char line[400];
      snprintf(line, sizeof line, "sensor %s: %s; answering none", s->id, msg);
      s->fail_msg = rsim_xstrdup(line);
    }
    s->ans = ANS_NONE;
    return;
  }
  free(tmp.sensor_id);
  tmp.sensor_id = rsim_xstrdup(s->id);
  rsim_reading_clear(&s->xf);
  s->xf = tmp;
  s->has = true;
  s->key_seq = b->gen;
  s->gen++;
  s->ans_r = &s->xf;
  e->bst.transforms++;
}

/* Computes slot idx's answer for the current instant, once. */
static void slot_answer(rsim_engine *e, int idx) {
  sensor_slot *s = &e->slots[idx];
  if (s->ans_valid && s->ans_now == e->bnow) return;
  if (s->src >= 0) {
    derived_answer(e, s);
  } else {
    base_answer(e, s);
    /* gen follows the content: a new reading, or a new interpolation. */
    rsim_time kt = s->ans == ANS_INTERP ? e->bnow : 0;
    if (s->ans != ANS_NONE && (s->key_seq != s->seq || s->key_ans != (s->ans == ANS_INTERP ? ANS_INTERP : ANS_EXACT) || s->key_t != kt)) {
      s->key_seq = s->seq;
      s->key_ans = s->ans == ANS_INTERP ? ANS_INTERP : ANS_EXACT;
      s->key_t = kt;
      s->gen++;
    }
  }
  s->ans_valid = true;
  s->ans_now = e->bnow;
}

static const char *const kAnsNames[] = {"none", "exact", "held", "interpolated"};

/* A reading as a value, with the bridge's two metadata entries appended. */
static void reading_val(const rsim_reading *r, int ans, rsim_time age, rsim_val *out) {
  rsim_reading view = *r;
  rsim_kv *kv = rsim_xcalloc(r->n_meta + 2, sizeof *kv);
  if (r->n_meta) memcpy(kv, r->meta, r->n_meta * sizeof *kv);
  char agebuf[24];
  snprintf(agebuf, sizeof agebuf, "%lld", (long long)age);
  kv[r->n_meta] = (rsim_kv){(char *)"rsim.sample", (char *)kAnsNames[ans]};
  kv[r->n_meta + 1] = (rsim_kv){(char *)"rsim.age_ns", agebuf};
  view.meta = kv;
  view.n_meta = r->n_meta + 2;
  rsim_engine_reading_to_val(&view, out);
  free(kv);
}

/* Rewrites the value's last two metadata entries for the current answer. */
static void patch_val_meta(rsim_val *v, int ans, rsim_time age) {
  rsim_val *meta = &v->of.agg.items[RSIM_READING_METADATA];
  size_t n = meta->of.agg.n;
  char agebuf[24];
  snprintf(agebuf, sizeof agebuf, "%lld", (long long)age);
  rsim_val *sv = &meta->of.agg.items[n - 2].of.agg.items[1];
  rsim_val *av = &meta->of.agg.items[n - 1].of.agg.items[1];
  rsim_val_clear(sv);
  rsim_val_set_string(sv, kAnsNames[ans], strlen(kAnsNames[ans]));
  rsim_val_clear(av);
  rsim_val_set_string(av, agebuf, strlen(agebuf));
}

static void job_ev(run_job *j, int kind, int level, const char *component, const char *msg);

/* A derived sensor's failed transform, said once: by the commit of the
** asker's run, or at once when no run is asking. */
static void say_once(rsim_engine *e, node_rt *asker, int idx) {
  sensor_slot *s = &e->slots[idx];
  if (asker && asker->job) {
    job_ev(asker->job, EV_ONCE, RSIM_LOG_WARN, "bridge", s->fail_msg);
    asker->job->ev[asker->job->n_ev - 1].slot = idx;
    return;
  }
  emit_log(e, "bridge", RSIM_LOG_WARN, s->fail_msg);
  s->warned = true;
  free(s->fail_msg);
  s->fail_msg = NULL;
}

/* The answer of slot idx as a value, borrowed until the slot changes;
** NULL for none.  The caller holds the bridge lock; asker is the
** component whose run asks. */
static const rsim_val *slot_val(rsim_engine *e, int idx, node_rt *asker) {
  uint64_t done = e->bst.transforms;
  slot_answer(e, idx);
  sensor_slot *s = &e->slots[idx];
  if (s->ans == ANS_NONE) {
    if (s->fail_msg && !s->warned) say_once(e, asker, idx);
    return NULL;
  }
  /* Every use of a derived reading that did not transform is a cache hit. */
  if (s->src >= 0 && e->bst.transforms == done) e->bst.transform_hits++;
  /* A run executing later (ahead) may still read it: the next instant
  ** hands this value to the frame rather than change it (frame_open). */
  if (asker && asker->job) s->val_user = asker->job->seq + 1;
  if (!s->has_val || s->val_gen != s->gen) {
    if (s->has_val) rsim_val_clear(&s->val);
    reading_val(s->ans_r, s->ans, s->ans_age, &s->val);
    s->has_val = true;
    s->val_gen = s->gen;
    s->val_now = e->bnow;
  } else if (s->val_now != e->bnow) {
    patch_val_meta(&s->val, s->ans, s->ans_age);
    s->val_now = e->bnow;
  }
  return &s->val;
}

/* ---- host-import services (called from bridge.c) --------------------------------- */

/* The instant of the run executing on this thread: a run ahead of the
** engine's time asks for its own. */
static _Thread_local rsim_time tl_run_t = INT64_MIN;

rsim_time rsim__engine_now(const rsim_engine *e) { return tl_run_t != INT64_MIN ? tl_run_t : e->now; }

const char *rsim__engine_config(const rsim_engine *e, size_t node, const char *key) {
  const rsim__gnode *g = e->nodes[node].g;
  for (size_t i = 0; i < g->n_config; i++)
    if (!strcmp(g->config[i].key, key)) return g->config[i].value;
  return NULL;
}

static void emit_log(rsim_engine *e, const char *component, int level, const char *msg) {
  if (e->quiet) return;
  if (e->o.record) rsim_record_event(e->o.record, e->now, component, level, msg);
  /* Without a callback the line is only recorded: the library never prints. */
  if (level >= e->o.log_level && e->o.log) e->o.log(e->o.log_ud, e->now, component, level, msg);
}

/* A line of component n: kept with its run until the commit, when one is
** executing (so that lines come in the serial order whatever thread ran
** it), else said at once. */
static void node_say(rsim_engine *e, node_rt *n, int level, const char *msg) {
  if (n->job) job_ev(n->job, EV_LOG, level, n->g->name, msg);
  else emit_log(e, n->g->name, level, msg);
}

void rsim__engine_log(rsim_engine *e, size_t node, int level, const char *msg) {
  node_say(e, &e->nodes[node], level, msg);
}

static int sensor_val_locked(rsim_engine *e, size_t node, const char *id, rsim_val *out);

int rsim__engine_sensor_val(rsim_engine *e, size_t node, const char *id, rsim_val *out) {
  pthread_mutex_lock(&e->bridge_lock);
  int rc = sensor_val_locked(e, node, id, out);
  pthread_mutex_unlock(&e->bridge_lock);
  return rc;
}

static int sensor_val_locked(rsim_engine *e, size_t node, const char *id, rsim_val *out) {
  int s = slot_of(e, id);
  if (s < 0 && (rsim_store_sensor(e->o.store, id) || rsim__graph_sensor(e->g, id))) {
    /* A sensor the graph does not stream: the store answers for it.
    ** Slots are only ever appended, so indexes held elsewhere stay valid. */
    s = slot_add(e, id);
    for (size_t i = e->n_streamed; i < e->n_slots; i++)
      if (e->slots[i].src < 0) e->slots[i].adhoc = true;
  }
  node_rt *n = &e->nodes[node];
  if (s >= 0) {
    const rsim_val *v = slot_val(e, s, n);
    if (!v) return RSIM_ENOTFOUND;
    rsim_val_copy(out, v);
    return RSIM_OK;
  }
  for (size_t i = 0; i < n->n_warned; i++)
    if (!strcmp(n->warned[i], id)) return RSIM_ENOTFOUND;
  n->warned = rsim_xrealloc(n->warned, (n->n_warned + 1) * sizeof *n->warned);
  n->warned[n->n_warned++] = rsim_xstrdup(id);
  char msg[512];
  snprintf(msg, sizeof msg, "asked for sensor '%s', which %s does not have; answering none", id,
           rsim_store_path(e->o.store));
  node_say(e, n, RSIM_LOG_WARN, msg);
  return RSIM_ENOTFOUND;
}

/* ---- construction -------------------------------------------------------------------- */

static int wire_node(rsim_engine *e, size_t i) {
  node_rt *n = &e->nodes[i];
  n->sig = rsim_component_export(n->comp, n->export_index);
  n->param_link = rsim_xcalloc(n->sig->n_params ? n->sig->n_params : 1, sizeof *n->param_link);
  n->links = rsim_xcalloc(n->g->n_inputs ? n->g->n_inputs : 1, sizeof *n->links);
  for (size_t j = 0; j < n->g->n_inputs; j++) {
    link_rt *lr = &n->links[j];
    const rsim__link *l = lr->l = &n->g->inputs[j];
    const rsim_type *want = NULL;
    for (size_t p = 0; p < n->sig->n_params; p++)
      if (!strcmp(l->port, n->sig->param_names[p])) {
        n->param_link[p] = lr;
        want = n->sig->param_types[p];
      }
    lr->srcs = rsim_xcalloc(l->n_srcs, sizeof *lr->srcs);
    for (size_t k = 0; k < l->n_srcs; k++) {
      src_rt *sr = &lr->srcs[k];
      sr->slot = l->srcs[k].is_sensor ? slot_add(e, l->srcs[k].name) : -1;
      sr->node = l->srcs[k].index;
      /* check.c made sure each source gives the port's type or its element. */
      const rsim_type *have = l->srcs[k].is_sensor ? rsim_engine_reading_type() : e->nodes[sr->node].sig->result;
      sr->concat = want && rsim_type_equal(have, want);
    }
  }
  n->trigger_slot = n->g->trigger ? slot_add(e, n->g->trigger) : -1;
  for (size_t k = 0; k < rsim_component_n_imports(n->comp); k++)
    if (!strcmp(rsim_component_import(n->comp, k)->name, "get-sensor-data")) n->bridge_bound = true;
  n->st.name = n->g->name;
  rsim_sha256_init(&n->digest);
  n->host.engine = e;
  n->host.node = i;
  rsim_errbuf eb = {0};
  /* `wasi: deterministic` adds what the deterministic WASI adapter imports. */
  size_t nd = rsim__n_host_defs + (n->g->wasi_deterministic ? rsim__n_wasi_host_defs : 0);
  rsim_host_def *defs = rsim_xcalloc(nd, sizeof *defs);
  memcpy(defs, rsim__host_defs, rsim__n_host_defs * sizeof *defs);
  if (n->g->wasi_deterministic)
    memcpy(defs + rsim__n_host_defs, rsim__wasi_host_defs, rsim__n_wasi_host_defs * sizeof *defs);
  int rc = rsim_instance_new(n->comp, n->g->name, defs, nd, &n->host, &n->g->limits, &n->inst, &eb);
  free(defs);
  if (rc) return seterr(e, rc, "%s", eb.msg);
  if (e->o.record) {
    rc = rsim_record_component(e->o.record, n->g->name, n->g->wasm_path, n->sig->full, n->sig->result);
    if (rc) return seterr(e, rc, "%s", rsim_record_errmsg(e->o.record));
  }
  return RSIM_OK;
}

void rsim__engine_log_event(rsim_engine *e, const char *component, int level, const char *msg) {
  emit_log(e, component, level, msg);
}

/* The main cursor over every base slot, for readings after `after`. */
int rsim__engine_reopen(rsim_engine *e, rsim_time after) {
  rsim_cursor_close(e->cur);
  e->cur = NULL;
  size_t n_base = 0;
  for (size_t s = 0; s < e->n_streamed; s++) n_base += e->slots[s].src < 0;
  if (!n_base || after >= e->to) return RSIM_OK;
  const char **ids = rsim_xcalloc(n_base, sizeof *ids);
  size_t k = 0;
  for (size_t s = 0; s < e->n_streamed; s++)
    if (e->slots[s].src < 0) ids[k++] = e->slots[s].id;
  int rc = rsim_store_cursor_open(e->o.store, after + 1, e->to, ids, n_base, &e->cur);
  free(ids);
  return rc ? seterr(e, rc, "%s", rsim_store_errmsg(e->o.store)) : RSIM_OK;
}

void rsim__engine_reload_bridge(rsim_engine *e) {
  /* Before the first step the slots hold the readings before the range. */
  rsim_time at = e->started ? e->now : e->from - 1;
  e->bnow = e->now;
  for (size_t i = 0; i < e->n_slots; i++) {
    sensor_slot *s = &e->slots[i];
    rsim_reading_clear(&s->latest);
    rsim_reading_clear(&s->next);
    rsim_reading_clear(&s->interp);
    rsim_reading_clear(&s->xf);
    rsim_cursor_close(s->ahead);
    s->ahead = NULL;
    s->has = s->has_next = s->ahead_done = s->ans_valid = false;
    s->ans_now = INT64_MIN;
    if (s->has_val) rsim_val_clear(&s->val);
    s->has_val = false;
    s->key_seq = UINT64_MAX;
    s->key_ans = -1;
    s->gen++;
    s->seq++;
    rsim_reading r = {0};
    if (s->src < 0 && !s->adhoc && at > INT64_MIN && rsim_store_reading_at(e->o.store, s->id, at, &r) == RSIM_OK) {
      slot_set(s, &r);
      rsim_reading_clear(&r);
    }
  }
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
  size_t n_base = 0;
  for (size_t s = 0; s < e->n_slots; s++) {
    rsim_reading r = {0};
    if (e->slots[s].src >= 0) continue;
    n_base++;
    if (e->from > INT64_MIN && rsim_store_reading_at(e->o.store, e->slots[s].id, e->from - 1, &r) == RSIM_OK) {
      slot_set(&e->slots[s], &r);
      rsim_reading_clear(&r);
    }
  }
  e->n_streamed = e->n_slots;
  if (!n_base) return RSIM_OK;
  const char **ids = rsim_xcalloc(n_base, sizeof *ids);
  size_t k = 0;
  for (size_t s = 0; s < e->n_slots; s++)
    if (e->slots[s].src < 0) ids[k++] = e->slots[s].id;
  int rc = rsim_store_cursor_open(e->o.store, e->from, e->to, ids, n_base, &e->cur);
  free(ids);
  if (rc) return seterr(e, rc, "%s", rsim_store_errmsg(e->o.store));
  return RSIM_OK;
}

int rsim_engine_new(const rsim_graph *g, const rsim_engine_opts *opts, rsim_engine **out,
                    rsim_errbuf *eb) {
  *out = NULL;
  if (!opts || !opts->store) return rsim_errbuf_set(eb, RSIM_EINVAL, "engine: no store given");
  if (opts->threads < 0) return rsim_errbuf_set(eb, RSIM_EINVAL, "engine: threads must be 0 (one a core) or more, not %d", opts->threads);
  rsim_engine *e = rsim_xcalloc(1, sizeof *e);
  e->g = g;
  e->o = *opts;
  pthread_mutex_init(&e->bridge_lock, NULL);
  e->last_run = rsim_xcalloc(g->n ? g->n : 1, sizeof *e->last_run);
  rsim_sha256_init(&e->digest);
  /* Fuel metering and the deadline ticker cost something: only when used. */
  rsim_wasm_engine_opts wo = {0};
  for (size_t i = 0; i < g->n; i++) {
    wo.fuel |= g->nodes[i].limits.fuel_per_call > 0;
    wo.deadlines |= g->nodes[i].limits.deadline_ns > 0;
  }
  int rc = rsim_wasm_engine_new_opts(&wo, &e->we, eb);
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
  e->now = e->bnow = e->from;
  for (size_t i = 0; i < g->n && !rc; i++) rc = wire_node(e, g->order[i]);
  if (!rc) rc = position(e, first);
  if (!rc) rc = rsim__ckpt_init(e);
  if (!rc) {
    /* More threads than components could never all be busy. */
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int want = opts->threads ? opts->threads : cores > 0 ? (int)cores : 1;
    e->threads = (size_t)want > g->n ? (int)(g->n ? g->n : 1) : want;
    if (e->threads > 1) rc = rsim__pool_new(e, e->threads - 1); /* and the engine's thread */
  }
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
  rsim__pool_free(e->pool); /* runs in flight finish first */
  e->pool = NULL;
  rsim__engine_drop_runs(e);
  free(e->runs);
  free(e->last_run);
  rsim__ckpt_free(e);
  for (size_t i = 0; e->nodes && i < e->g->n; i++) {
    node_rt *n = &e->nodes[i];
    rsim_instance_free(n->inst);
    rsim_component_free(n->comp);
    free(n->param_link);
    for (size_t j = 0; n->links && j < n->g->n_inputs; j++) {
      for (size_t q = 0; q < n->links[j].qn; q++) rsim_val_clear(&n->links[j].q[q].v);
      free(n->links[j].q);
      free(n->links[j].srcs);
    }
    free(n->links);
    if (n->has_out) rsim_val_clear(&n->out);
    rsim__engine_drop_inputs(n);
    for (size_t j = 0; j < n->n_warned; j++) free(n->warned[j]);
    free(n->warned);
  }
  free(e->nodes);
  for (size_t s = 0; s < e->n_slots; s++) {
    sensor_slot *sl = &e->slots[s];
    free(sl->id);
    rsim_reading_clear(&sl->latest);
    rsim_reading_clear(&sl->next);
    rsim_reading_clear(&sl->interp);
    rsim_reading_clear(&sl->xf);
    rsim_cursor_close(sl->ahead);
    if (sl->has_val) rsim_val_clear(&sl->val);
    free(sl->fail_msg);
  }
  free(e->slots);
  free(e->fr);
  rsim_cursor_close(e->cur);
  rsim_wasm_engine_free(e->we);
  rsim_buf_free(&e->scratch);
  pthread_mutex_destroy(&e->bridge_lock);
  free(e);
}

const char *rsim_engine_errmsg(const rsim_engine *e) { return e->errmsg; }

/* ---- stepping ------------------------------------------------------------------------ */

/* The instant after the bridge's: the next to open. */
static int bridge_next_time(rsim_engine *e, rsim_time *out) {
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

/* The next instant to step to: the first opened one not entered yet, else
** the next to open. */
int rsim_engine_next_time(rsim_engine *e, rsim_time *out) {
  for (size_t i = 0; i < e->n_fr; i++)
    if (!e->fr[i].entered) {
      *out = e->fr[i].t;
      return RSIM_OK;
    }
  return bridge_next_time(e, out);
}

static pending *pending_push(frame *f) {
  if (f->n_pending == f->cap_pending) {
    f->cap_pending = f->cap_pending ? 2 * f->cap_pending : 8;
    f->pend = rsim_xrealloc(f->pend, f->cap_pending * sizeof *f->pend);
  }
  pending *p = &f->pend[f->n_pending++];
  memset(p, 0, sizeof *p);
  p->src_pending = -1;
  return p;
}

/* Takes every reading stamped t into frame f's pending list and the
** bridge; each reading of a derived sensor's source adds an entry for it
** too.  They are recorded and counted when f is entered. */
static int take_readings(rsim_engine *e, frame *f, rsim_time t) {
  rsim_time rt;
  while (e->cur && rsim_cursor_peek_time(e->cur, &rt) == RSIM_OK && rt == t) {
    const rsim_reading *r;
    int rc = rsim_cursor_next(e->cur, &r);
    if (rc) return seterr(e, rc, "%s", rsim_store_errmsg(e->o.store));
    int s = slot_of(e, r->sensor_id);
    pending *p = pending_push(f);
    rsim_reading_copy(&p->r, r);
    p->slot = s;
    size_t self = f->n_pending - 1;
    if (s >= 0) slot_set(&e->slots[s], r);
    for (size_t d = 0; s >= 0 && d < e->n_slots; d++)
      if (e->slots[d].src == s) {
        pending *q = pending_push(f);
        q->slot = (int)d;
        q->src_pending = (int)self;
      }
    f->readings++;
  }
  /* The last entry of a slot is the slot's latest: its cached value serves. */
  for (size_t i = 0; i < f->n_pending; i++) {
    f->pend[i].last = true;
    for (size_t j = i + 1; j < f->n_pending; j++)
      if (f->pend[j].slot == f->pend[i].slot) f->pend[i].last = false;
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

static int policy_of(const rsim_engine *e, const node_rt *n) {
  if (n->g->on_fault != RSIM__FAULT_DEFAULT) return n->g->on_fault;
  return e->o.on_error == RSIM_ON_ERROR_STOP ? RSIM__FAULT_HALT : RSIM__FAULT_SKIP;
}

/* ---- runs: prepare, execute, commit ---------------------------------------------- */

/* Keeps a line (or message) of run j until its commit. */
static void job_ev(run_job *j, int kind, int level, const char *component, const char *msg) {
  if (j->n_ev == j->cap_ev) {
    j->cap_ev = j->cap_ev ? 2 * j->cap_ev : 4;
    j->ev = rsim_xrealloc(j->ev, j->cap_ev * sizeof *j->ev);
  }
  j->ev[j->n_ev++] = (run_ev){.kind = kind, .level = level, .component = component, .msg = rsim_xstrdup(msg)};
}

/* A fault (trap, exceeded limit, malformed result) of n at e->now, on the
** thread executing its run: the reason (component, sim time) is kept for
** the commit; the instance is started afresh (a trap poisons its store)
** unless the policy halts the run.  Returns the error when the run must
** stop, else RSIM_OK.  A restarted component gets its state at the latest
** checkpoint (checkpoint.c). */
static int on_fault(rsim_engine *e, node_rt *n, run_job *j, int rc, bool will_retry) {
  char tbuf[32], why[1024];
  rsim_format_duration(j->t - e->from, tbuf, sizeof tbuf);
  snprintf(why, sizeof why, "component '%s' failed at sim time %s (t=%lld ns): %s", n->g->name, tbuf,
           (long long)j->t, rsim_instance_errmsg(n->inst));
  j->d.errors++;
  if (rc == RSIM_ELIMIT) j->d.limit_hits++;
  job_ev(j, EV_ERRMSG, 0, NULL, why);
  j->ev[j->n_ev - 1].code = rc;
  if (policy_of(e, n) == RSIM__FAULT_HALT) {
    /* The caller reports it; keep it in the output database too. */
    job_ev(j, EV_RECORD, RSIM_LOG_ERROR, n->g->name, why);
    return rc;
  }
  job_ev(j, EV_LOG, RSIM_LOG_ERROR, n->g->name, why);
  bool from_ckpt = false;
  if (rsim_instance_poisoned(n->inst) || rc == RSIM_ELIMIT) {
    int rr = rsim_instance_reset(n->inst);
    if (rr) {
      snprintf(why, sizeof why, "component '%s' could not be restarted: %s", n->g->name, rsim_instance_errmsg(n->inst));
      job_ev(j, EV_ERRMSG, 0, NULL, why);
      j->ev[j->n_ev - 1].code = rr;
      return rr;
    }
    j->d.restarts++;
    from_ckpt = rsim__ckpt_restore_node(e, (size_t)(n - e->nodes), j->t);
  }
  char msg[200];
  snprintf(msg, sizeof msg, "restarted%s; %s", from_ckpt ? " from its state at the latest checkpoint" : "",
           will_retry ? "calling it again with the same inputs" : "no output from this call");
  job_ev(j, EV_LOG, RSIM_LOG_WARN, n->g->name, msg);
  if (!will_retry) j->d.skipped++;
  return RSIM_OK;
}

/* A call longer than the budget (or the period, at 1x real time) is a
** timing violation: counted, logged, and the end of the run if asked.
** At the commit: it is wall time, but what it leads to is said in order. */
static int check_timing(rsim_engine *e, node_rt *n, int64_t dt) {
  int64_t budget = n->g->budget_ns ? n->g->budget_ns : n->g->period_ns;
  if (!budget || dt <= budget) return RSIM_OK;
  n->st.timing_violations++;
  char msg[200];
  snprintf(msg, sizeof msg, "call took %.3f ms, over its budget of %.3f ms%s", (double)dt / 1e6, (double)budget / 1e6,
           n->g->budget_ns ? "" : " (its period)");
  if (n->g->halt_on_timing) {
    char tbuf[32];
    rsim_format_duration(e->now - e->from, tbuf, sizeof tbuf);
    seterr(e, RSIM_EHALTED, "component '%s' at sim time %s (t=%lld ns): %s (on_timing: halt)", n->g->name, tbuf,
           (long long)e->now, msg);
    if (e->o.record) rsim_record_event(e->o.record, e->now, n->g->name, RSIM_LOG_ERROR, e->errmsg);
    return RSIM_EHALTED;
  }
  /* Warn on the first few and then every thousandth, not on every frame. */
  uint64_t v = n->st.timing_violations;
  if (v <= 3 || v % 1000 == 0) emit_log(e, n->g->name, RSIM_LOG_WARN, msg);
  return RSIM_OK;
}

/* Calls n with run j's arguments under its fault policy (executing). */
static int call_node(rsim_engine *e, node_rt *n, run_job *j) {
  for (int attempt = 0;; attempt++) {
    int64_t t0 = rsim_monotonic_ns();
    int rc = rsim_instance_call(n->inst, n->export_index, j->args, j->np, &j->result);
    int64_t dt = rsim_monotonic_ns() - t0;
    j->d.calls++;
    j->d.total_ns += dt;
    if (dt > j->d.max_ns) j->d.max_ns = dt;
    uint64_t fuel = rsim_instance_last_fuel(n->inst);
    if (n->g->limits.fuel_per_call && fuel > j->d.max_fuel) j->d.max_fuel = fuel;
    if (rc == RSIM_OK) {
      j->got = n->sig->result != NULL;
      if (!j->got) rsim_val_clear(&j->result);
      j->last_dt = dt;
      return RSIM_OK;
    }
    rsim_val_clear(&j->result);
    bool retry = attempt == 0 && policy_of(e, n) == RSIM__FAULT_RETRY;
    int frc = on_fault(e, n, j, rc, retry);
    if (frc || !retry) return frc;
    j->d.retries++;
  }
}

/* Appends v (a list to concatenate, or one element) to the list dst. */
static void list_append(rsim_val *dst, const rsim_val *v, bool concat) {
  size_t add = concat ? v->of.agg.n : 1;
  dst->of.agg.items = rsim_xrealloc(dst->of.agg.items, (dst->of.agg.n + add + 1) * sizeof(rsim_val));
  for (size_t i = 0; i < add; i++) {
    rsim_val *slot = &dst->of.agg.items[dst->of.agg.n++];
    memset(slot, 0, sizeof *slot);
    rsim_val_copy(slot, concat ? &v->of.agg.items[i] : v);
  }
}

/* The current value of one source (NULL when it has none), counting what a
** latest-policy target never saw. */
static const rsim_val *src_value(rsim_engine *e, node_rt *n, src_rt *sr, bool consume) {
  if (sr->slot >= 0) return slot_val(e, sr->slot, n);
  node_rt *s = &e->nodes[sr->node];
  if (!s->has_out) return NULL;
  if (consume) {
    if (s->out_seq > sr->consumed + 1) n->st.superseded += s->out_seq - sr->consumed - 1;
    sr->consumed = s->out_seq;
  }
  return &s->out;
}

/* Builds the argument for link lr into *arg: borrowed (*owned false) or a
** new list (*owned true).  Returns false when the input has no value yet. */
static bool link_arg(rsim_engine *e, node_rt *n, link_rt *lr, rsim_val *arg, bool *owned) {
  const rsim__link *l = lr->l;
  *owned = false;
  if (!l->fan_in && l->policy == RSIM__LINK_LATEST) {
    const rsim_val *v = src_value(e, n, &lr->srcs[0], true);
    if (!v) return false;
    *arg = *v;
    return true;
  }
  memset(arg, 0, sizeof *arg);
  rsim_val_set_agg(arg, RSIM_LIST, 0);
  *owned = true;
  bool any = l->policy == RSIM__LINK_QUEUE; /* an empty queue is an empty list */
  for (size_t k = 0; k < l->n_srcs; k++) {
    src_rt *sr = &lr->srcs[k];
    if (l->policy == RSIM__LINK_QUEUE && sr->slot < 0) continue; /* queued below */
    const rsim_val *v = src_value(e, n, sr, true);
    if (v) {
      list_append(arg, v, sr->concat);
      any = true;
    }
  }
  for (size_t q = 0; q < lr->qn; q++) {
    list_append(arg, &lr->q[q].v, lr->q[q].concat);
    rsim_val_clear(&lr->q[q].v);
  }
  lr->qn = 0;
  return any;
}

/* After node src output: queue links fed by it take a copy. */
static void feed_queues(rsim_engine *e, size_t src) {
  for (size_t i = 0; i < e->g->n; i++) {
    node_rt *t = &e->nodes[i];
    for (size_t j = 0; t->links && j < t->g->n_inputs; j++) {
      link_rt *lr = &t->links[j];
      if (lr->l->policy != RSIM__LINK_QUEUE) continue;
      for (size_t k = 0; k < lr->l->n_srcs; k++) {
        if (lr->srcs[k].slot >= 0 || lr->srcs[k].node != src) continue;
        if (lr->qn == lr->l->queue) {
          /* Full: the oldest goes, counted and said once. */
          rsim_val_clear(&lr->q[0].v);
          memmove(lr->q, lr->q + 1, (lr->qn - 1) * sizeof *lr->q);
          lr->qn--;
          t->st.dropped++;
          if (!lr->warned_drop) {
            char msg[400];
            snprintf(msg, sizeof msg, "queue of input '%s' (%zu outputs) is full; dropping the oldest output of %s (counted)",
                     lr->l->port, lr->l->queue, e->nodes[src].g->name);
            emit_log(e, t->g->name, RSIM_LOG_WARN, msg);
          }
          lr->warned_drop = true;
        }
        if (lr->qn == lr->qcap) {
          lr->qcap = lr->qcap ? 2 * lr->qcap : 8;
          lr->q = rsim_xrealloc(lr->q, lr->qcap * sizeof *lr->q);
        }
        qitem *it = &lr->q[lr->qn++];
        memset(it, 0, sizeof *it);
        rsim_val_copy(&it->v, &e->nodes[src].out);
        it->concat = lr->srcs[k].concat;
        src_value(e, t, &lr->srcs[k], true); /* queued outputs are never superseded */
      }
    }
  }
}

/* The value of a trigger reading: the slot's cached answer for the last
** reading of the instant, else built for this one reading. */
static const rsim_val *trigger_val(rsim_engine *e, node_rt *n, size_t pi, rsim_val *tmp) {
  pending *pend = e->fr[e->n_fr - 1].pend; /* the bridge's instant: the run's */
  pending *p = &pend[pi];
  if (p->last) return slot_val(e, p->slot, n);
  const rsim_reading *r = &p->r;
  rsim_reading xf = {0};
  sensor_slot *s = &e->slots[p->slot];
  if (p->src_pending >= 0) {
    char msg[300];
    if (rsim__transform(s->gs->ops, s->gs->n_ops, &pend[p->src_pending].r, &xf, msg, sizeof msg))
      return NULL;
    free(xf.sensor_id);
    xf.sensor_id = rsim_xstrdup(s->id);
    r = &xf;
    e->bst.transforms++;
  }
  reading_val(r, ANS_EXACT, 0, tmp);
  rsim_reading_clear(&xf);
  return tmp;
}

/*
** Prepares run j on the engine's thread: its rate schedule moves on and its
** arguments are built (borrowed from the bus and the bridge, which stay as
** they are until the instant ends, or lists of its own).  Every source it
** reads from has committed all its runs of the instant (j->need).
*/
void rsim__run_prepare(rsim_engine *e, run_job *j) {
  node_rt *n = &e->nodes[j->node];
  if (j->trig < 0) n->next_tick += n->g->period_ns;
  size_t np = n->sig->n_params;
  j->args = rsim_xcalloc(np ? np : 1, sizeof *j->args);
  j->owned = rsim_xcalloc(np ? np : 1, sizeof *j->owned);
  bool ready = true;
  size_t built = 0;
  pthread_mutex_lock(&e->bridge_lock);
  n->job = j; /* a bridge warning belongs to this run */
  for (size_t p = 0; p < np && ready; p++, built++) {
    link_rt *lr = n->param_link[p];
    if (j->trig >= 0 && !lr->l->fan_in && lr->l->policy == RSIM__LINK_LATEST && lr->srcs[0].slot == n->trigger_slot) {
      const rsim_val *v = trigger_val(e, n, (size_t)j->trig, &j->trig_tmp);
      ready = v != NULL;
      if (ready) j->args[p] = *v;
    } else {
      ready = link_arg(e, n, lr, &j->args[p], &j->owned[p]);
    }
  }
  n->job = NULL;
  pthread_mutex_unlock(&e->bridge_lock);
  j->np = built;
  j->ready = ready;
  if (ready && e->keep_inputs) {
    /* For inspection: a copy (the call owns nothing of it), shown from the
    ** run's commit on, so a run prepared ahead never shows a later
    ** instant's inputs. */
    j->kept = rsim_xcalloc(np ? np : 1, sizeof *j->kept);
    for (size_t p = 0; p < np; p++) rsim_val_copy(&j->kept[p], &j->args[p]);
    j->n_kept = np;
  }
}

/* Executes run j on any thread: the call (and a restart and a retry); only
** j, its node's instance and the bridge (under its lock) are touched. */
void rsim__run_execute(rsim_engine *e, run_job *j) {
  node_rt *n = &e->nodes[j->node];
  if (j->ready) {
    n->job = j;
    tl_run_t = j->t;
    j->rc = call_node(e, n, j);
    tl_run_t = INT64_MIN;
    n->job = NULL;
  }
  for (size_t p = 0; p < j->np; p++)
    if (j->owned[p]) rsim_val_clear(&j->args[p]);
  rsim_val_clear(&j->trig_tmp);
  free(j->args);
  free(j->owned);
  j->args = NULL;
  j->owned = NULL;
  j->np = 0;
}

static int record_check(rsim_engine *e, int rc);

static void job_free_kept(run_job *j) {
  for (size_t p = 0; p < j->n_kept; p++) rsim_val_clear(&j->kept[p]);
  free(j->kept);
}

static void job_free_events(run_job *j) {
  for (size_t i = 0; i < j->n_ev; i++) free(j->ev[i].msg);
  free(j->ev);
  j->ev = NULL;
  j->n_ev = j->cap_ev = 0;
}

/*
** Commits the next run of the instant, on the engine's thread: what it
** said, in the order it said it; its stats; its timing; its output to the
** bus, the digest, the record and the queues fed by it.  This is the order
** of a serial run whatever thread executed it, so outputs, digests, records
** and log lines cannot depend on the number of threads.
*/
int rsim__run_commit_next(rsim_engine *e) {
  run_job *j = rsim__run_at(e, e->committed++);
  node_rt *n = &e->nodes[j->node];
  for (size_t i = 0; i < j->n_ev; i++) {
    run_ev *v = &j->ev[i];
    switch (v->kind) {
    case EV_LOG: emit_log(e, v->component, v->level, v->msg); break;
    case EV_RECORD:
      if (e->o.record) rsim_record_event(e->o.record, e->now, v->component, v->level, v->msg);
      break;
    case EV_ERRMSG: seterr(e, v->code, "%s", v->msg); break;
    case EV_ONCE: {
      pthread_mutex_lock(&e->bridge_lock);
      sensor_slot *s = &e->slots[v->slot];
      if (!s->warned) {
        emit_log(e, v->component, v->level, v->msg);
        s->warned = true;
        free(s->fail_msg);
        s->fail_msg = NULL;
      }
      pthread_mutex_unlock(&e->bridge_lock);
      break;
    }
    }
  }
  job_free_events(j);
  if (j->kept && e->keep_inputs) {
    rsim__engine_drop_inputs(n);
    n->last_in = j->kept;
    n->n_last_in = j->n_kept;
    n->last_in_t = j->t;
  } else {
    job_free_kept(j);
  }
  j->kept = NULL;
  j->n_kept = 0;
  rsim_component_stats *st = &n->st;
  if (!j->ready) st->not_ready++;
  st->calls += j->d.calls;
  st->total_ns += j->d.total_ns;
  if (j->d.max_ns > st->max_ns) st->max_ns = j->d.max_ns;
  if (j->d.max_fuel > st->max_fuel) st->max_fuel = j->d.max_fuel;
  st->errors += j->d.errors;
  st->limit_hits += j->d.limit_hits;
  st->restarts += j->d.restarts;
  st->retries += j->d.retries;
  st->skipped += j->d.skipped;
  int rc = j->rc;
  if (j->ready && !rc) rc = check_timing(e, n, j->last_dt);
  if (j->got) {
    if (n->has_out) rsim_val_clear(&n->out);
    n->out = j->result; /* moves ownership into the bus */
    memset(&j->result, 0, sizeof j->result);
    j->got = false;
    n->has_out = true;
    n->out_seq++;
    n->out_t = e->now;
    n->st.outputs++;
    fold_output(e, n, e->now);
    feed_queues(e, j->node);
  }
  return record_check(e, rc);
}

static void job_clear(run_job *j) {
  for (size_t p = 0; p < j->np; p++)
    if (j->owned && j->owned[p]) rsim_val_clear(&j->args[p]);
  free(j->args);
  free(j->owned);
  rsim_val_clear(&j->trig_tmp);
  rsim_val_clear(&j->result);
  job_free_kept(j);
  job_free_events(j);
  free(j);
}

run_job *rsim__run_at(rsim_engine *e, uint64_t s) { return e->runs[s - e->run_base]; }

static void frame_clear(frame *f) {
  for (size_t i = 0; i < f->n_pending; i++) rsim_reading_clear(&f->pend[i].r);
  free(f->pend);
  free(f->msg);
  for (size_t i = 0; i < f->n_dead; i++) rsim_val_clear(&f->dead[i]);
  free(f->dead);
  memset(f, 0, sizeof *f);
}

void rsim__engine_drop_runs(rsim_engine *e) {
  if (e->pool) rsim__pool_idle(e->pool); /* nothing may execute a run being dropped */
  for (size_t r = 0; r < e->n_runs; r++) job_clear(e->runs[r]);
  e->n_runs = 0;
  e->run_base = e->n_seq = e->committed = 0;
  if (e->last_run) memset(e->last_run, 0, e->g->n * sizeof *e->last_run);
  for (size_t i = 0; i < e->n_fr; i++) frame_clear(&e->fr[i]);
  e->n_fr = 0;
  e->mid = false;
  e->ahead_stop = false;
}

bool rsim__engine_ahead_past(const rsim_engine *e, rsim_time t) {
  return e->n_fr && e->fr[e->n_fr - 1].t > t;
}

static void push_run(rsim_engine *e, size_t node, int trig, rsim_time t) {
  if (e->n_runs == e->cap_runs) {
    e->cap_runs = e->cap_runs ? 2 * e->cap_runs : 16;
    e->runs = rsim_xrealloc(e->runs, e->cap_runs * sizeof *e->runs);
  }
  run_job *j = rsim_xcalloc(1, sizeof *j);
  e->runs[e->n_runs++] = j;
  j->node = node;
  j->trig = trig;
  j->t = t;
  j->seq = e->n_seq++;
  /* Its own earlier run, and every earlier run (in serial order, at this
  ** instant or before) of each component it reads from. */
  const node_rt *n = &e->nodes[node];
  uint64_t need = e->last_run[node];
  for (size_t k = 0; k < n->g->n_inputs; k++)
    for (size_t s = 0; s < n->links[k].l->n_srcs; s++) {
      const src_rt *sr = &n->links[k].srcs[s];
      if (sr->slot < 0 && e->last_run[sr->node] > need) need = e->last_run[sr->node];
    }
  j->need = need;
  e->last_run[node] = j->seq + 1;
}

/*
** Opens the next instant at the end of the window: its readings are taken
** into the bridge and its runs listed in serial order -- in topological
** order, each component's rate run (when its tick is now) and then one run
** per reading of its trigger sensor.  Bridge values that runs not yet
** executed may borrow go to the previous frame, which frees them when it
** closes.
*/
int rsim__frame_open(rsim_engine *e) {
  rsim_time t;
  int rc = bridge_next_time(e, &t);
  if (rc) return rc;
  frame *prev = e->n_fr ? &e->fr[e->n_fr - 1] : NULL;
  for (size_t i = 0; prev && i < e->n_slots; i++) {
    sensor_slot *s = &e->slots[i];
    if (!s->has_val || s->val_user <= e->committed) continue;
    if (prev->n_dead == prev->cap_dead) {
      prev->cap_dead = prev->cap_dead ? 2 * prev->cap_dead : 8;
      prev->dead = rsim_xrealloc(prev->dead, prev->cap_dead * sizeof *prev->dead);
    }
    prev->dead[prev->n_dead++] = s->val;
    memset(&s->val, 0, sizeof s->val);
    s->has_val = false;
  }
  if (e->n_fr == e->cap_fr) {
    e->cap_fr = e->cap_fr ? 2 * e->cap_fr : 4;
    e->fr = rsim_xrealloc(e->fr, e->cap_fr * sizeof *e->fr);
  }
  frame *f = &e->fr[e->n_fr++];
  memset(f, 0, sizeof *f);
  f->t = t;
  f->bst0 = e->bst;
  f->run_lo = f->run_hi = e->n_seq;
  pthread_mutex_lock(&e->bridge_lock);
  e->bnow = t;
  rc = take_readings(e, f, t);
  pthread_mutex_unlock(&e->bridge_lock);
  if (rc) {
    f->rc = rc;
    f->msg = rsim_xstrdup(e->errmsg);
    return RSIM_OK;
  }
  for (size_t k = 0; k < e->g->n; k++) {
    size_t idx = e->g->order[k];
    node_rt *n = &e->nodes[idx];
    if (n->g->period_ns && n->next_tick == t) push_run(e, idx, -1, t);
    for (size_t i = 0; n->trigger_slot >= 0 && i < f->n_pending; i++)
      if (f->pend[i].slot == n->trigger_slot) push_run(e, idx, (int)i, t);
  }
  f->run_hi = e->n_seq;
  f->ckpt_due = rsim__ckpt_due(e, t);
  return RSIM_OK;
}

int rsim__frame_enter(rsim_engine *e) {
  frame *f = &e->fr[0];
  e->now = f->t;
  e->started = true;
  if (f->rc) {
    /* As without the window: the instant is not stepped; the next step
    ** tries the next one. */
    int rc = seterr(e, f->rc, "%s", f->msg);
    frame_clear(f);
    memmove(e->fr, e->fr + 1, --e->n_fr * sizeof *e->fr);
    return rc;
  }
  f->entered = true;
  e->mid = true;
  for (size_t i = 0; e->o.record && i < f->n_pending; i++)
    if (f->pend[i].src_pending < 0) rsim_record_reading(e->o.record, &f->pend[i].r);
  e->readings += f->readings;
  return RSIM_OK;
}

int rsim__frame_close(rsim_engine *e) {
  frame *f = &e->fr[0];
  size_t k = (size_t)(f->run_hi - e->run_base);
  for (size_t r = 0; r < k; r++) job_clear(e->runs[r]);
  if (e->n_runs > k) /* (none at all before the first run, as after a resume: runs is NULL) */
    memmove(e->runs, e->runs + k, (e->n_runs - k) * sizeof *e->runs);
  e->n_runs -= k;
  e->run_base = f->run_hi;
  frame_clear(f);
  if (--e->n_fr) memmove(e->fr, e->fr + 1, e->n_fr * sizeof *e->fr);
  e->mid = false;
  if (e->o.record) rsim_record_instant_done(e->o.record, e->now);
  return rsim__ckpt_after_step(e);
}

/* How many instants the window may hold: enough to keep the workers busy
** behind a slow instant, few enough to bound what is held. */
#define WINDOW 8

bool rsim__frame_can_open(rsim_engine *e) {
  if (!e->pool || e->ahead_stop || !e->n_fr || e->n_fr >= WINDOW) return false;
  const frame *last = &e->fr[e->n_fr - 1];
  if (last->ckpt_due || last->rc) return false;
  if (e->o.record && rsim_record_error(e->o.record)) return false;
  /* The bridge moves on: every run of the window has its arguments, and
  ** none that asks the bridge while it executes is still to execute. */
  for (uint64_t s = e->committed; s < e->n_seq; s++) {
    const run_job *j = rsim__run_at(e, s);
    if (j->state == RUN_NEW) return false;
    if (j->state != RUN_DONE && e->nodes[j->node].bridge_bound) return false;
  }
  return true;
}

/*
** One due run of the current instant, opening the next instant first when
** none is open; the call after the instant's last run closes it (and may
** take a checkpoint).  *ran is the node that ran, or -1.  A run executed
** already (on a worker, ahead) is only committed.  Stepping run by run
** computes exactly what stepping instant by instant does, on any number of
** threads.
*/
static int advance_1(rsim_engine *e, int *ran) {
  *ran = -1;
  if (!e->n_fr) {
    int rc = rsim__frame_open(e);
    if (rc) return rc;
    e->ahead_stop = false;
  }
  if (!e->fr[0].entered) {
    int rc = rsim__frame_enter(e);
    if (rc) return rc;
  }
  if (e->committed < e->fr[0].run_hi) {
    run_job *j = rsim__run_at(e, e->committed);
    if (j->state == RUN_NEW) {
      rsim__run_prepare(e, j);
      rsim__run_execute(e, j);
      j->state = RUN_DONE;
    } else if (e->pool) {
      rsim__pool_wait_run(e->pool, j);
    }
    *ran = (int)j->node;
    return rsim__run_commit_next(e);
  }
  return rsim__frame_close(e);
}

/* advance_1 with the recorder's first error: the recorder keeps it
** (sticky, record.h), so the outputs, events and readings recorded on the
** way need no check each, and the run stops at the step that met it -- a
** full disk ends the run rather than losing its results in silence. */
static int advance(rsim_engine *e, int *ran) {
  *ran = -1;
  int rc = e->o.record && rsim_record_error(e->o.record) ? RSIM_OK : advance_1(e, ran);
  if (e->o.record && rsim_record_error(e->o.record))
    return seterr(e, rsim_record_error(e->o.record), "cannot record the run: %s", rsim_record_errmsg(e->o.record));
  return rc;
}

void rsim__engine_drop_inputs(node_rt *n) {
  for (size_t p = 0; p < n->n_last_in; p++) rsim_val_clear(&n->last_in[p]);
  free(n->last_in);
  n->last_in = NULL;
  n->n_last_in = 0;
}

void rsim_engine_keep_inputs(rsim_engine *e, bool on) {
  e->keep_inputs = on;
  for (size_t i = 0; !on && i < e->g->n; i++) rsim__engine_drop_inputs(&e->nodes[i]);
}

bool rsim_engine_inputs_json(const rsim_engine *e, size_t i, rsim_buf *out) {
  const node_rt *n = &e->nodes[i];
  if (!n->last_in) return false;
  rsim_buf_printf(out, "{\"t\":%lld,\"inputs\":{", (long long)n->last_in_t);
  for (size_t p = 0; p < n->n_last_in; p++) {
    rsim_buf_printf(out, "%s\"%s\":", p ? "," : "", n->sig->param_names[p]);
    rsim_val_to_json(&n->last_in[p], n->sig->param_types[p], 64, out);
  }
  rsim_buf_puts(out, "}}");
  return true;
}

/* The recorder's first error, when it has one, else rc. */
static int record_check(rsim_engine *e, int rc) {
  if (e->o.record && rsim_record_error(e->o.record))
    return seterr(e, rsim_record_error(e->o.record), "cannot record the run: %s", rsim_record_errmsg(e->o.record));
  return rc;
}

/* With workers, the first instant of the window (opened first when none
** is) runs on them, later instants opening behind it (parallel.c). */
static int pool_step(rsim_engine *e) {
  if (e->o.record && rsim_record_error(e->o.record)) return record_check(e, RSIM_OK);
  if (!e->n_fr) {
    e->ahead_stop = false;
    int rc = rsim__frame_open(e);
    if (rc) return record_check(e, rc);
  }
  if (!e->fr[0].entered) {
    int rc = rsim__frame_enter(e);
    if (rc) return record_check(e, rc);
  }
  e->ahead_stop = false;
  return record_check(e, rsim__pool_step(e));
}

/* Below this, a wait is left alone: opening an instant or preparing a run
** (a frame's copy) could outlast it. */
#define AHEAD_MIN_NS 1000000

/*
** Work of the coming instants done while the caller waits for the next
** one's due time (the player at 1x): its calls move earlier, its outputs
** do not -- they are committed, in serial order, by the step, exactly as
** without.  With workers, every run whose inputs are final is handed to
** them, and instants behind it are opened while the window allows, for
** half of budget_ns at most (opening reads the store on this thread).  On
** the caller's thread only, the next instant's first run is executed here,
** when its component's mean call fits in budget_ns (one that overran the
** wait would make the instant itself start late).  Nothing happens at the
** end, after an error, past an instant that takes a checkpoint, or when
** the wait is too short to be worth it.
*/
bool rsim_engine_work_ahead(rsim_engine *e, int64_t budget_ns) {
  if (budget_ns < AHEAD_MIN_NS) return false;
  if (e->ahead_stop || (e->o.record && rsim_record_error(e->o.record))) return false;
  if (e->mid) return false; /* half-way through an instant, stepped by runs */
  int64_t t0 = rsim_monotonic_ns();
  if (!e->n_fr) {
    if (rsim__frame_open(e)) {
      e->ahead_stop = true; /* the step meets it again, and says it */
      return false;
    }
  }
  if (e->pool) {
    /* Half the wait at most on opening instants: the rest is the step's. */
    rsim__pool_ahead(e, t0 + budget_ns / 2);
    return false;
  }
  frame *f = &e->fr[0];
  if (f->rc || e->committed >= f->run_hi) return false;
  run_job *j = rsim__run_at(e, e->committed);
  const rsim_component_stats *st = &e->nodes[j->node].st;
  if (j->state != RUN_NEW || !st->calls || st->total_ns / (int64_t)st->calls > budget_ns) return false;
  rsim__run_prepare(e, j);
  rsim__run_execute(e, j);
  j->state = RUN_DONE;
  e->overlapped++;
  return true;
}

void rsim_engine_set_paced(rsim_engine *e, bool paced) { e->paced = paced; }

int rsim_engine_step(rsim_engine *e) {
  if (e->pool) return pool_step(e);
  int ran, rc;
  do rc = advance(e, &ran);
  while (!rc && e->mid);
  return rc;
}

int rsim_engine_step_run(rsim_engine *e, size_t *component) {
  int ran = -1, rc;
  do rc = advance(e, &ran);
  while (!rc && ran < 0);
  if (!rc && component) *component = (size_t)ran;
  return rc;
}

bool rsim__engine_finish_instant(rsim_engine *e, int *rc) {
  bool was = e->mid;
  *rc = RSIM_OK;
  if (was && e->pool) *rc = pool_step(e);
  else {
    int ran;
    while (!*rc && e->mid) *rc = advance(e, &ran);
  }
  return was;
}

uint64_t rsim_engine_runs_ahead(const rsim_engine *e) { return e->overlapped; }

rsim_time rsim_engine_time(const rsim_engine *e) { return e->now; }

int rsim_engine_threads(const rsim_engine *e) { return e->threads; }

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

/* As at the engine's time: the counts of instants opened ahead are left out. */
void rsim_engine_bridge_stats_get(const rsim_engine *e, rsim_engine_bridge_stats *out) {
  for (size_t i = 0; i < e->n_fr; i++)
    if (!e->fr[i].entered) {
      *out = e->fr[i].bst0;
      return;
    }
  /* A run asking the bridge may still execute (after a halt). */
  pthread_mutex_t *mu = (pthread_mutex_t *)&e->bridge_lock;
  pthread_mutex_lock(mu);
  *out = e->bst;
  pthread_mutex_unlock(mu);
}

const rsim_val *rsim_engine_output(const rsim_engine *e, size_t i, const rsim_type **out_type,
                                   rsim_time *out_t) {
  const node_rt *n = &e->nodes[i];
  if (out_type) *out_type = n->sig ? n->sig->result : NULL;
  if (out_t) *out_t = n->out_t;
  return n->has_out ? &n->out : NULL;
}
