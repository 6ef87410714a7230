/*
** checkpoint.c -- checkpoints of a run and exact seeking.
**
** A checkpoint is everything a run carries from one instant to the next
** that cannot be recomputed: the time, each component's schedule, its
** latest output and digest, what its links have handed over or queued, the
** run digest, and each component's own state through the WIT state
** interface (save -> bytes).  Sensor readings are not copied: the store
** gives each slot's latest reading at the checkpoint's time again
** (engine_rt.h, first invariant), and the bridge's caches are rebuilt.
**
** Checkpoints are taken at the first instant of every `every` of sim time
** (buckets counted from the start of the range, so a re-simulation takes
** them at the same instants), kept sorted by time in a bounded array, plus
** the start, which is always kept.  seek(t) restores the latest checkpoint
** at or before t (or goes on from the current instant, when that is
** nearer) and steps to t with recording and logging off: the state after
** it is the state a run from the start would have at t, bit for bit.
**
** A component without the state interface cannot be put back mid-run, so
** then only the start serves: everything is re-simulated from the start of
** the range, and the run says so once.
*/
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "engine/ckpt_int.h"
#include "engine/engine_rt.h"

struct rsim__ckpts {
  rsim__ck_shape shape;
  ckpt start;
  ckpt *ring; /* sorted by now */
  size_t n, cap;
  int64_t every;
  int64_t stride;              /* only buckets that are multiples of it are kept (1, 2, 4...) */
  int *save_idx, *restore_idx; /* per node; -1 without the state interface */
  bool stateless;              /* some component has no state interface */
  bool said_stateless;
  rsim_engine_ckpt_stats stats;
};

#define DEFAULT_EVERY 500000000LL /* 0.5 s of sim time: seeks p95 under 50 ms (docs/benchmarks.md, 13b) */
#define DEFAULT_CAP 4096

/* ---- taking ------------------------------------------------------------------------ */

/* Calls save() of node i into nc. */
static int save_node(rsim_engine *e, size_t i, node_ck *nc) {
  struct rsim__ckpts *k = e->ck;
  node_rt *n = &e->nodes[i];
  if (k->save_idx[i] < 0) return RSIM_OK;
  rsim_val v = {0};
  int rc = rsim_instance_call(n->inst, (size_t)k->save_idx[i], NULL, 0, &v);
  if (rc) return rsim__engine_seterr(e, rc, "checkpoint at t=%lld: %s", (long long)e->now, rsim_instance_errmsg(n->inst));
  if (v.kind == RSIM_BYTES && v.of.bytes.len) {
    nc->state = v.of.bytes.ptr; /* taken over from v */
    nc->state_len = v.of.bytes.len;
    v.of.bytes.ptr = NULL;
    v.of.bytes.len = 0;
  }
  rsim_val_clear(&v);
  return RSIM_OK;
}

static int take(rsim_engine *e, ckpt *c, bool start) {
  memset(c, 0, sizeof *c);
  c->now = e->now;
  c->start = start;
  c->bucket = start ? -1 : (e->now - e->from) / e->ck->every;
  c->digest = e->digest;
  c->readings = e->readings;
  c->bst = e->bst;
  c->nodes = rsim_xcalloc(e->g->n, sizeof *c->nodes);
  c->bytes = sizeof *c + e->g->n * sizeof *c->nodes;
  for (size_t i = 0; i < e->g->n; i++) {
    node_rt *n = &e->nodes[i];
    node_ck *nc = &c->nodes[i];
    nc->next_tick = n->next_tick;
    nc->has_out = n->has_out;
    if (n->has_out) rsim_val_copy(&nc->out, &n->out);
    nc->out_seq = n->out_seq;
    nc->out_t = n->out_t;
    nc->digest = n->digest;
    nc->st = n->st;
    nc->links = rsim_xcalloc(n->g->n_inputs ? n->g->n_inputs : 1, sizeof *nc->links);
    for (size_t j = 0; j < n->g->n_inputs; j++) {
      link_rt *lr = &n->links[j];
      link_ck *lc = &nc->links[j];
      lc->consumed = rsim_xcalloc(lr->l->n_srcs, sizeof *lc->consumed);
      for (size_t s = 0; s < lr->l->n_srcs; s++) lc->consumed[s] = lr->srcs[s].consumed;
      lc->qn = lr->qn;
      lc->q = lr->qn ? rsim_xcalloc(lr->qn, sizeof *lc->q) : NULL;
      for (size_t q = 0; q < lr->qn; q++) {
        rsim_val_copy(&lc->q[q].v, &lr->q[q].v);
        lc->q[q].concat = lr->q[q].concat;
      }
    }
    if (!start) {
      int rc = save_node(e, i, nc);
      if (rc) {
        rsim__ck_clear(&e->ck->shape, c);
        return rc;
      }
    }
    c->bytes += nc->state_len;
    if (nc->has_out) {
      e->scratch.len = 0;
      rsim_val_encode(&nc->out, &e->scratch);
      c->bytes += e->scratch.len;
    }
  }
  return RSIM_OK;
}

/*
** Full: every other checkpoint goes (by bucket) and from now on only those
** buckets are taken, so the checkpoints keep covering the whole run at
** twice the interval.  Dropping the oldest instead made seeks into the
** first part of a long drive re-simulate from the start (34 minutes of an
** hour at K = 0.5 s with the default cap).  False when nothing could go.
*/
static bool thin(struct rsim__ckpts *k) {
  size_t w = 0;
  for (size_t i = 0; i < k->n; i++) {
    if (k->ring[i].bucket % (2 * k->stride) == 0) {
      k->ring[w++] = k->ring[i];
    } else {
      k->stats.bytes -= k->ring[i].bytes;
      rsim__ck_clear(&k->shape, &k->ring[i]);
    }
  }
  bool freed = w < k->n;
  k->n = w;
  k->stride *= 2;
  return freed;
}

/* Inserts c (taken over) in time order; when full, thin() makes room. */
static void ring_put(rsim_engine *e, ckpt *c) {
  struct rsim__ckpts *k = e->ck;
  if (k->n == k->cap && !thin(k)) { /* only bucket 0 left in a ring of one */
    k->stats.bytes -= k->ring[0].bytes;
    rsim__ck_clear(&k->shape, &k->ring[0]);
    k->n = 0;
  }
  if (c->bucket % k->stride) { /* not one of the buckets kept any more */
    rsim__ck_clear(&k->shape, c);
    k->stats.held = k->n;
    return;
  }
  size_t at = k->n;
  while (at > 0 && k->ring[at - 1].now > c->now) at--;
  memmove(k->ring + at + 1, k->ring + at, (k->n - at) * sizeof *k->ring);
  k->ring[at] = *c;
  k->n++;
  k->stats.held = k->n;
  k->stats.bytes += c->bytes;
  k->stats.taken++;
}

static bool have_bucket(const struct rsim__ckpts *k, int64_t b) {
  for (size_t i = k->n; i-- > 0;)
    if (k->ring[i].bucket == b) return true;
  return false;
}

static int write_file(rsim_engine *e, const ckpt *c);

bool rsim__ckpt_due(const rsim_engine *e, rsim_time t) {
  const struct rsim__ckpts *k = e->ck;
  if (!k || k->every <= 0 || k->stateless) return false;
  int64_t b = (t - e->from) / k->every;
  return !(b % k->stride) && !have_bucket(k, b);
}

int rsim__ckpt_after_step(rsim_engine *e) {
  struct rsim__ckpts *k = e->ck;
  if (!k || k->every <= 0 || k->stateless) return RSIM_OK;
  int64_t b = (e->now - e->from) / k->every;
  if (b % k->stride || have_bucket(k, b)) return RSIM_OK;
  int64_t t0 = rsim_monotonic_ns();
  ckpt c;
  int rc = take(e, &c, false);
  if (!rc && e->o.checkpoint_dir) rc = write_file(e, &c);
  if (rc) {
    rsim__ck_clear(&e->ck->shape, &c);
    return rc;
  }
  ring_put(e, &c);
  k->stats.take_ns += rsim_monotonic_ns() - t0;
  return RSIM_OK;
}

int rsim__ckpt_init(rsim_engine *e) {
  struct rsim__ckpts *k = rsim_xcalloc(1, sizeof *k);
  e->ck = k;
  k->every = e->o.checkpoint_every_ns ? e->o.checkpoint_every_ns : DEFAULT_EVERY;
  k->cap = e->o.checkpoint_max ? e->o.checkpoint_max : DEFAULT_CAP;
  k->stride = 1;
  k->ring = rsim_xcalloc(k->cap, sizeof *k->ring);
  rsim__ck_shape *sh = &k->shape;
  *sh = (rsim__ck_shape){.from = e->from, .every = k->every, .n = e->g->n};
  sh->names = rsim_xcalloc(e->g->n, sizeof *sh->names);
  sh->exports = rsim_xcalloc(e->g->n, sizeof *sh->exports);
  sh->n_inputs = rsim_xcalloc(e->g->n, sizeof *sh->n_inputs);
  sh->n_srcs = rsim_xcalloc(e->g->n, sizeof *sh->n_srcs);
  for (size_t i = 0; i < e->g->n; i++) {
    const node_rt *n = &e->nodes[i];
    sh->names[i] = n->g->name;
    sh->exports[i] = n->sig->full;
    sh->n_inputs[i] = n->g->n_inputs;
    sh->n_srcs[i] = rsim_xcalloc(n->g->n_inputs ? n->g->n_inputs : 1, sizeof **sh->n_srcs);
    for (size_t j = 0; j < n->g->n_inputs; j++) sh->n_srcs[i][j] = n->links[j].l->n_srcs;
  }
  k->save_idx = rsim_xcalloc(e->g->n, sizeof *k->save_idx);
  k->restore_idx = rsim_xcalloc(e->g->n, sizeof *k->restore_idx);
  for (size_t i = 0; i < e->g->n; i++) {
    const rsim_component *c = e->nodes[i].comp;
    k->save_idx[i] = rsim_component_find_export(c, RSIM_STATE_IFACE "#save");
    k->restore_idx[i] = rsim_component_find_export(c, RSIM_STATE_IFACE "#restore");
    if (k->save_idx[i] < 0 && k->restore_idx[i] < 0) { /* a 0.3.0 component */
      k->save_idx[i] = rsim_component_find_export(c, RSIM_STATE_IFACE_030 "#save");
      k->restore_idx[i] = rsim_component_find_export(c, RSIM_STATE_IFACE_030 "#restore");
    }
    if (k->save_idx[i] < 0 || k->restore_idx[i] < 0) {
      k->save_idx[i] = k->restore_idx[i] = -1;
      k->stateless = true;
      k->stats.stateless = e->nodes[i].g->name;
    }
  }
  if (e->o.checkpoint_dir && mkdir(e->o.checkpoint_dir, 0777) && errno != EEXIST)
    return rsim__engine_seterr(e, RSIM_EIO, "%s: cannot create the checkpoint folder: %s", e->o.checkpoint_dir,
                               strerror(errno));
  return take(e, &k->start, true);
}

void rsim__ckpt_free(rsim_engine *e) {
  struct rsim__ckpts *k = e->ck;
  if (!k) return;
  rsim__ck_clear(&e->ck->shape, &k->start);
  for (size_t i = 0; i < k->n; i++) rsim__ck_clear(&e->ck->shape, &k->ring[i]);
  free(k->ring);
  for (size_t i = 0; i < k->shape.n; i++) free(k->shape.n_srcs[i]);
  free(k->shape.n_srcs);
  free(k->shape.n_inputs);
  free(k->shape.names);
  free(k->shape.exports);
  free(k->save_idx);
  free(k->restore_idx);
  free(k);
  e->ck = NULL;
}

/* ---- restoring --------------------------------------------------------------------- */

/* Puts node i's component back into the state of checkpoint c; why gets
** the reason it could not.  It touches only node i's instance (and reads
** c), so a worker thread may restore its component after a fault. */
static int restore_component(rsim_engine *e, size_t i, const ckpt *c, char *why, size_t why_len) {
  struct rsim__ckpts *k = e->ck;
  node_rt *n = &e->nodes[i];
  /* The start, or a poisoned store: a fresh instance first. */
  if (c->start || k->restore_idx[i] < 0 || rsim_instance_poisoned(n->inst)) {
    int rc = rsim_instance_reset(n->inst);
    if (rc) {
      snprintf(why, why_len, "component '%s' could not be re-instantiated: %s", n->g->name, rsim_instance_errmsg(n->inst));
      return rc;
    }
  }
  if (c->start || k->restore_idx[i] < 0) return RSIM_OK;
  rsim_val arg = {0}, res = {0};
  rsim_val_set_bytes(&arg, c->nodes[i].state, c->nodes[i].state_len);
  int rc = rsim_instance_call(n->inst, (size_t)k->restore_idx[i], &arg, 1, &res);
  rsim_val_clear(&arg);
  if (!rc && res.kind == RSIM_RESULT && res.of.var.index == 1) {
    const rsim_val *r = res.of.var.payload;
    rc = RSIM_ECORRUPT;
    snprintf(why, why_len, "component '%s' refused its state of t=%lld: %s", n->g->name, (long long)c->now,
             r && r->kind == RSIM_STRING ? r->of.str.ptr : "no reason");
  } else if (rc)
    snprintf(why, why_len, "component '%s': restoring its state of t=%lld: %s", n->g->name, (long long)c->now,
             rsim_instance_errmsg(n->inst));
  rsim_val_clear(&res);
  return rc;
}

static int restore(rsim_engine *e, const ckpt *c) {
  /* The window's runs go (waiting for those in flight): what they did to
  ** their components is undone below. */
  rsim__engine_drop_runs(e);
  for (size_t i = 0; i < e->g->n; i++) {
    node_rt *n = &e->nodes[i];
    const node_ck *nc = &c->nodes[i];
    n->next_tick = nc->next_tick;
    rsim__engine_drop_inputs(n); /* they would be from another time */
    if (n->has_out) rsim_val_clear(&n->out);
    n->has_out = nc->has_out;
    if (nc->has_out) rsim_val_copy(&n->out, &nc->out);
    n->out_seq = nc->out_seq;
    n->out_t = nc->out_t;
    n->digest = nc->digest;
    /* Wall times are not part of the state: keep adding them up. */
    int64_t total = n->st.total_ns, max = n->st.max_ns;
    n->st = nc->st;
    n->st.total_ns = total;
    n->st.max_ns = max;
    for (size_t j = 0; j < n->g->n_inputs; j++) {
      link_rt *lr = &n->links[j];
      const link_ck *lc = &nc->links[j];
      for (size_t s = 0; s < lr->l->n_srcs; s++) lr->srcs[s].consumed = lc->consumed[s];
      for (size_t q = 0; q < lr->qn; q++) rsim_val_clear(&lr->q[q].v);
      lr->qn = 0;
      if (lc->qn > lr->qcap) {
        lr->qcap = lc->qn;
        lr->q = rsim_xrealloc(lr->q, lr->qcap * sizeof *lr->q);
      }
      for (size_t q = 0; q < lc->qn; q++) {
        memset(&lr->q[q], 0, sizeof lr->q[q]);
        rsim_val_copy(&lr->q[q].v, &lc->q[q].v);
        lr->q[q].concat = lc->q[q].concat;
      }
      lr->qn = lc->qn;
    }
    char why[1024];
    int rc = restore_component(e, i, c, why, sizeof why);
    if (rc) return rsim__engine_seterr(e, rc, "%s", why);
  }
  e->digest = c->digest;
  e->readings = c->readings;
  e->bst = c->bst;
  e->now = c->now;
  e->started = !c->start;
  e->mid = false;
  rsim__engine_drop_runs(e);
  int rc = rsim__engine_reopen(e, c->start ? e->from - 1 : c->now);
  if (!rc) rsim__engine_reload_bridge(e);
  e->ck->stats.restores++;
  return rc;
}

bool rsim__ckpt_restore_node(rsim_engine *e, size_t i, rsim_time t) {
  struct rsim__ckpts *k = e->ck;
  if (!k || k->restore_idx[i] < 0) return false;
  const ckpt *c = NULL;
  for (size_t j = k->n; j-- > 0 && !c;)
    if (k->ring[j].now <= t) c = &k->ring[j];
  if (!c) return false; /* the start: the fresh instance is that state */
  char why[1024];
  return restore_component(e, i, c, why, sizeof why) == RSIM_OK;
}

/* ---- seeking ----------------------------------------------------------------------- */

int rsim_engine_seek(rsim_engine *e, rsim_time t) { return rsim_engine_seek_some(e, t, 0, NULL); }

int rsim_engine_seek_some(rsim_engine *e, rsim_time t, uint64_t max_instants, bool *reached) {
  struct rsim__ckpts *k = e->ck;
  if (reached) *reached = false;
  /* Half-way through an instant (stepping by runs), finish it first. */
  int frc;
  if (rsim__engine_finish_instant(e, &frc) && frc) return frc;
  if (t > e->to) t = e->to;
  /* The best base: the current state when it is at or before t, or a
  ** later checkpoint at or before t; else the start.  A seek cut short by
  ** max_instants is at an instant before t, so calling again continues it. */
  const ckpt *base = NULL;
  bool from_here = e->started ? e->now <= t : true;
  if (!k->stateless)
    for (size_t j = k->n; j-- > 0 && !base;)
      if (k->ring[j].now <= t && (!from_here || !e->started || k->ring[j].now > e->now)) base = &k->ring[j];
  if (!base && !from_here) base = &k->start;
  /* Instants after t opened ahead may have called their components: only
  ** a restore gives the state at t then. */
  if (!base && rsim__engine_ahead_past(e, t)) {
    for (size_t j = k->n; j-- > 0 && !base && !k->stateless;)
      if (k->ring[j].now <= t) base = &k->ring[j];
    if (!base) base = &k->start;
  }
  if (k->stateless && base == &k->start && !k->said_stateless) {
    char msg[300];
    snprintf(msg, sizeof msg,
             "component '%s' has no state interface: seeking back re-simulates from the start of the range",
             k->stats.stateless);
    rsim__engine_log_event(e, "engine", RSIM_LOG_INFO, msg);
    k->said_stateless = true;
  }
  int rc = base ? restore(e, base) : RSIM_OK;
  if (rc) return rc;
  /* Re-simulate to t quietly: nothing is recorded or logged twice. */
  rsim_record *rec = e->o.record;
  e->o.record = NULL;
  e->quiet = true;
  bool paced = e->paced; /* as fast as it goes, whatever the player's speed */
  e->paced = false;
  rsim_time next;
  bool cut = false;
  for (uint64_t steps = 0; !rc && (rc = rsim_engine_next_time(e, &next)) == RSIM_OK && next <= t; steps++) {
    if (max_instants && steps == max_instants) {
      cut = true;
      break;
    }
    rc = rsim_engine_step(e);
    k->stats.resimulated++;
  }
  e->quiet = false;
  e->paced = paced;
  e->o.record = rec;
  if (rc && rc != RSIM_EEOF) return rc;
  if (!cut) k->stats.seeks++;
  if (reached) *reached = !cut;
  return RSIM_OK;
}

int rsim_engine_step_back(rsim_engine *e) {
  if (!e->started) return RSIM_EEOF; /* nothing before the start */
  return rsim_engine_seek(e, e->now - 1);
}

void rsim_engine_ckpt_stats_get(const rsim_engine *e, rsim_engine_ckpt_stats *out) {
  *out = e->ck->stats;
  out->interval_ns = e->ck->every * e->ck->stride;
}

/* ---- files (format: ckpt_file.c) -------------------------------------------------- */

static int write_file(rsim_engine *e, const ckpt *c) {
  const char *dir = e->o.checkpoint_dir;
  rsim_buf file = {0};
  rsim__ck_file(&e->ck->shape, c, &file);
  char path[1200], tmp[1210];
  snprintf(path, sizeof path, "%s/ckpt-%012lld.rsck", dir, (long long)c->bucket);
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  /* The first failing call's errno says why (a full disk, a file size limit). */
  errno = 0;
  FILE *f = fopen(tmp, "wb");
  int why = f ? 0 : errno;
  if (f && fwrite(file.data, 1, file.len, f) != file.len) why = errno ? errno : EIO;
  if (f && fclose(f) && !why) why = errno ? errno : EIO;
  if (!why && rename(tmp, path)) why = errno;
  if (why) remove(tmp); /* never a half file under either name */
  rsim_buf_free(&file);
  if (!why) return RSIM_OK;
  return rsim__engine_seterr(e, RSIM_EIO, "%s: cannot write the checkpoint of t=%lld: %s", path, (long long)c->now,
                             strerror(why));
}

static int by_name_desc(const void *a, const void *b) { return strcmp(*(char *const *)b, *(char *const *)a); }

int rsim_engine_resume(rsim_engine *e, const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return rsim__engine_seterr(e, RSIM_ENOTFOUND, "%s: cannot open the checkpoint folder", dir);
  char **names = NULL;
  size_t n = 0;
  for (struct dirent *de; (de = readdir(d));) {
    size_t len = strlen(de->d_name);
    if (len > 10 && !strncmp(de->d_name, "ckpt-", 5) && !strcmp(de->d_name + len - 5, ".rsck")) {
      names = rsim_xrealloc(names, (n + 1) * sizeof *names);
      names[n++] = rsim_xstrdup(de->d_name);
    }
  }
  closedir(d);
  qsort(names, n, sizeof *names, by_name_desc);
  int rc = RSIM_ENOTFOUND;
  char first_why[1600] = "";
  for (size_t i = 0; i < n && rc == RSIM_ENOTFOUND; i++) {
    char path[1200], why[200];
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    size_t len = 0;
    uint8_t *data = NULL;
    FILE *f = fopen(path, "rb");
    if (f) {
      rsim_buf b = {0};
      char chunk[65536];
      size_t got;
      while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) rsim_buf_append(&b, chunk, got);
      fclose(f);
      data = b.data;
      len = b.len;
    }
    ckpt c;
    if (data && rsim__ck_parse(&e->ck->shape, data, len, &c, why, sizeof why)) {
      if (c.now > e->to) {
        rsim__ck_clear(&e->ck->shape, &c);
      } else {
        ring_put(e, &c);
        const ckpt *in = NULL;
        for (size_t j = 0; j < e->ck->n; j++)
          if (e->ck->ring[j].bucket == c.bucket) in = &e->ck->ring[j];
        rc = restore(e, in);
        if (!rc) {
          char msg[1400];
          snprintf(msg, sizeof msg, "resumed from %s (t=%lld)", path, (long long)c.now);
          rsim__engine_log_event(e, "engine", RSIM_LOG_INFO, msg);
        }
      }
    } else {
      char msg[1500];
      snprintf(msg, sizeof msg, "%s: skipped: %s", path, data ? why : "cannot read it");
      rsim__engine_log_event(e, "engine", RSIM_LOG_WARN, msg);
      if (!first_why[0]) snprintf(first_why, sizeof first_why, "%s", msg);
    }
    free(data);
  }
  for (size_t i = 0; i < n; i++) free(names[i]);
  free(names);
  if (rc == RSIM_ENOTFOUND)
    rsim__engine_seterr(e, rc, "%s: no usable checkpoint%s%s", dir, first_why[0] ? "; " : "", first_why);
  return rc;
}
