/*
** job.c -- the jobs of a batch: made from store patterns (one a store, or
** one a scene), read from a jobs file, sharded; one job run to a result
** through the engine API; jobs and results as JSON for workers and ranks.
*/
#include <glob.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch_int.h"
#include "core/yaml_int.h"
#include "rsim/engine.h"
#include "rsim/record.h"
#include "rsim/store.h"

/* A store's short name: its file's base name, or a URI's drive. */
static void base_name(const char *store, char *out, size_t n) {
  const char *d = rsim_store_is_uri(store) ? strstr(store, "drive=") : NULL;
  const char *s = d ? d + 6 : strrchr(store, '/');
  s = d ? s : (s ? s + 1 : store);
  size_t len = strcspn(s, "&");
  snprintf(out, n, "%.*s", (int)len, s);
}

void rsim_batch_jobs_add(rsim_batch_jobs *js, const char *graph, const char *store, rsim_time from,
                         rsim_time to, int64_t warmup_ns, const char *name) {
  if (js->n == js->cap) {
    js->cap = js->cap ? js->cap * 2 : 16;
    js->v = rsim_xrealloc(js->v, js->cap * sizeof *js->v);
  }
  rsim_batch_job *j = &js->v[js->n];
  *j = (rsim_batch_job){.graph = rsim_xstrdup(graph), .store = rsim_xstrdup(store), .from = from, .to = to,
                        .warmup_ns = warmup_ns, .seq = js->n};
  rsim_buf b = {0};
  rsim_buf_printf(&b, "%s|%s|%lld|%lld", graph, store, (long long)from, (long long)to);
  j->key = rsim_buf_take_str(&b);
  char bn[256];
  if (name) snprintf(bn, sizeof bn, "%s", name);
  else base_name(store, bn, sizeof bn);
  j->name = rsim_xstrdup(bn);
  js->n++;
}

void rsim_batch_job_clear(rsim_batch_job *j) {
  free(j->key);
  free(j->name);
  free(j->graph);
  free(j->store);
  *j = (rsim_batch_job){0};
}

void rsim_batch_jobs_free(rsim_batch_jobs *js) {
  for (size_t i = 0; i < js->n; i++) rsim_batch_job_clear(&js->v[i]);
  free(js->v);
  *js = (rsim_batch_jobs){0};
}

void rsim_batch_jobs_shard(rsim_batch_jobs *js, size_t i, size_t n) {
  size_t k = 0;
  for (size_t s = 0; s < js->n; s++) {
    if (js->v[s].seq % n == i) js->v[k++] = js->v[s];
    else rsim_batch_job_clear(&js->v[s]);
  }
  js->n = k;
}

/* One job a window of scene_ns over store's log. */
static int add_scenes(rsim_batch_jobs *js, const char *graph, const char *store, int64_t scene_ns,
                      int64_t warmup_ns, rsim_errbuf *eb) {
  if (scene_ns <= 0) {
    rsim_batch_jobs_add(js, graph, store, 0, 0, 0, NULL);
    return RSIM_OK;
  }
  rsim_store *st;
  rsim_errbuf seb = {0};
  if (rsim_store_open(store, &st, &seb)) return rsim_errbuf_set(eb, seb.code, "batch: %s", seb.msg);
  rsim_time first = 0, last = 0;
  int rc = rsim_store_time_range(st, &first, &last);
  rsim_store_close(st);
  if (rc) return rsim_errbuf_set(eb, rc, "batch: %s: no readings to cut into scenes", store);
  char bn[200], name[256];
  base_name(store, bn, sizeof bn);
  size_t k = 0;
  /* [a, a + scene - 1]: the engine's range is inclusive, so a reading on
  ** a boundary belongs to the next scene only. */
  for (rsim_time a = first; a <= last; a += scene_ns, k++) {
    rsim_time b = a + scene_ns - 1 < last ? a + scene_ns - 1 : last;
    snprintf(name, sizeof name, "%s#%zu", bn, k);
    rsim_batch_jobs_add(js, graph, store, a, b, warmup_ns, name);
  }
  return RSIM_OK;
}

int rsim_batch_plan(rsim_batch_jobs *js, const char *graph, const char *pattern, int64_t scene_ns,
                    int64_t warmup_ns, rsim_errbuf *eb) {
  if (rsim_store_is_uri(pattern)) return add_scenes(js, graph, pattern, scene_ns, warmup_ns, eb);
  glob_t g;
  int grc = glob(pattern, 0, NULL, &g);
  if (grc == GLOB_NOMATCH || (grc == 0 && g.gl_pathc == 0)) {
    globfree(&g);
    return rsim_errbuf_set(eb, RSIM_ENOTFOUND, "batch: --stores '%s' matches no file", pattern);
  }
  if (grc) {
    globfree(&g);
    return rsim_errbuf_set(eb, RSIM_EIO, "batch: --stores '%s': cannot read its folder", pattern);
  }
  int rc = RSIM_OK;
  for (size_t i = 0; i < g.gl_pathc && !rc; i++) rc = add_scenes(js, graph, g.gl_pathv[i], scene_ns, warmup_ns, eb);
  globfree(&g);
  return rc;
}

/* ---- jobs file ---------------------------------------------------------- */
static char *rel_path(const char *dir, const char *p) {
  rsim_buf b = {0};
  if (p[0] == '/' || rsim_store_is_uri(p) || !dir[0]) rsim_buf_puts(&b, p);
  else rsim_buf_printf(&b, "%s/%s", dir, p);
  return rsim_buf_take_str(&b);
}

/* A job's --from/--to as the jobs file gives it: resolved against the log's start. */
static int job_time(const char *path, const char *store, const char *field, const char *s, rsim_time *out,
                    rsim_errbuf *eb) {
  if (!s) return RSIM_OK;
  rsim_time base = 0;
  if (!(s[0] >= '0' && s[0] <= '9' && !strpbrk(s, "smhu."))) {
    rsim_store *st;
    rsim_errbuf seb = {0};
    if (rsim_store_open(store, &st, &seb)) return rsim_errbuf_set(eb, seb.code, "batch: %s: %s", path, seb.msg);
    rsim_time last;
    rsim_store_time_range(st, &base, &last);
    rsim_store_close(st);
  }
  rsim_errbuf teb = {0};
  if (rsim_parse_time_arg(s, base, out, &teb))
    return rsim_errbuf_set(eb, RSIM_EINVAL, "batch: %s: %s of %s: %s", path, field, store, teb.msg);
  return RSIM_OK;
}

int rsim_batch_jobs_load(rsim_batch_jobs *js, const char *path, rsim_errbuf *eb) {
  yaml_document_t d;
  rsim_errbuf yeb = {0};
  int rc = rsim__yaml_load(path, RSIM_EINVAL, &d, &yeb);
  if (rc) return rsim_errbuf_set(eb, rc, "batch: jobs file %s", yeb.msg);
  char dir[1024];
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  if (slash) *slash = 0;
  else dir[0] = 0;
  yaml_node_t *root = yaml_document_get_root_node(&d);
  const char *graph = NULL;
  int64_t warmup = 0;
  yaml_node_t *list = NULL;
  if (!root || root->type != YAML_MAPPING_NODE) {
    rc = rsim_errbuf_set(eb, RSIM_EINVAL, "batch: %s: expected a mapping with jobs:", path);
    goto out;
  }
  for (yaml_node_pair_t *q = root->data.mapping.pairs.start; q < root->data.mapping.pairs.top; q++) {
    const char *k = rsim__yaml_text(yaml_document_get_node(&d, q->key));
    yaml_node_t *v = yaml_document_get_node(&d, q->value);
    if (k && !strcmp(k, "graph") && rsim__yaml_text(v)) graph = rsim__yaml_text(v);
    else if (k && !strcmp(k, "warmup") && rsim__yaml_text(v)) {
      rsim_errbuf deb = {0};
      if (rsim_parse_duration_arg(rsim__yaml_text(v), false, &warmup, &deb)) {
        rc = rsim_errbuf_set(eb, RSIM_EINVAL, "batch: %s: warmup: %s", path, deb.msg);
        goto out;
      }
    } else if (k && !strcmp(k, "jobs") && v->type == YAML_SEQUENCE_NODE) list = v;
    else {
      rc = rsim_errbuf_set(eb, RSIM_EINVAL, "batch: %s: unknown or malformed key '%s' (graph, warmup, jobs)", path,
                           k ? k : "?");
      goto out;
    }
  }
  if (!list) {
    rc = rsim_errbuf_set(eb, RSIM_EINVAL, "batch: %s: no jobs: list", path);
    goto out;
  }
  for (yaml_node_item_t *it = list->data.sequence.items.start; it < list->data.sequence.items.top && !rc; it++) {
    yaml_node_t *jn = yaml_document_get_node(&d, *it);
    size_t idx = (size_t)(it - list->data.sequence.items.start);
    const char *jg = graph, *store = NULL, *from = NULL, *to = NULL, *name = NULL;
    if (jn->type != YAML_MAPPING_NODE) {
      rc = rsim_errbuf_set(eb, RSIM_EINVAL, "batch: %s: job %zu is not a mapping", path, idx + 1);
      break;
    }
    for (yaml_node_pair_t *q = jn->data.mapping.pairs.start; q < jn->data.mapping.pairs.top; q++) {
      const char *k = rsim__yaml_text(yaml_document_get_node(&d, q->key));
      const char *v = rsim__yaml_text(yaml_document_get_node(&d, q->value));
      if (!k || !v) k = "?";
      if (!strcmp(k, "graph")) jg = v;
      else if (!strcmp(k, "store")) store = v;
      else if (!strcmp(k, "from")) from = v;
      else if (!strcmp(k, "to")) to = v;
      else if (!strcmp(k, "name")) name = v;
      else {
        rc = rsim_errbuf_set(eb, RSIM_EINVAL, "batch: %s: job %zu: unknown key '%s' (graph, store, from, to, name)",
                             path, idx + 1, k);
        break;
      }
    }
    if (rc) break;
    if (!jg || !store) {
      rc = rsim_errbuf_set(eb, RSIM_EINVAL, "batch: %s: job %zu has no %s", path, idx + 1, jg ? "store" : "graph");
      break;
    }
    char *g = rel_path(dir, jg), *s = rel_path(dir, store);
    rsim_time tf = 0, tt = 0;
    rc = job_time(path, s, "from", from, &tf, eb);
    if (!rc) rc = job_time(path, s, "to", to, &tt, eb);
    if (!rc) rsim_batch_jobs_add(js, g, s, tf, tt, from ? warmup : 0, name);
    free(g);
    free(s);
  }
out:
  yaml_document_delete(&d);
  return rc;
}

/* ---- one job ------------------------------------------------------------- */
void rsim_batch_result_free(rsim_batch_result *r) {
  free(r->key);
  free(r->reason);
  free(r->out);
  free(r->worker);
  for (size_t i = 0; i < r->n_comps; i++) free(r->comps[i].name);
  free(r->comps);
  for (size_t i = 0; i < r->n_metrics; i++) rsim__batch_metric_clear(&r->metrics[i]);
  free(r->metrics);
  *r = (rsim_batch_result){0};
}

int rsim_batch_run_job(const rsim_batch_job *job, const char *out, bool score, volatile sig_atomic_t *stop,
                       rsim_batch_result *r, rsim_errbuf *eb) {
  *r = (rsim_batch_result){.key = rsim_xstrdup(job->key), .attempts = 1};
  rsim_errbuf jeb = {0};
  rsim_graph *g = NULL;
  rsim_store *st = NULL;
  rsim_record *rec = NULL;
  rsim_engine *e = NULL;
  int64_t wall0 = rsim_monotonic_ns();
  char tmp[1100] = "";
  int rc;
  if ((rc = rsim_graph_load(job->graph, &g, &jeb))) goto out;
  if ((rc = rsim_store_open(job->store, &st, &jeb))) goto out;
  /* Scored jobs need a recording to score: a temporary one without out. */
  score = score && rsim__batch_scorable(g, st);
  if (score && !out) {
    if ((rc = rsim__batch_tmp_run(tmp, sizeof tmp, &jeb))) goto out;
    out = tmp;
  }
  /* One engine thread: a batch already runs a job a core (--jobs, ranks),
  ** and more threads a job would only compete with the other jobs. */
  rsim_engine_opts o = {.store = st, .from = job->from, .to = job->to, .threads = 1};
  if (job->from && job->warmup_ns) {
    rsim_time first = 0, last = 0;
    rsim_store_time_range(st, &first, &last);
    o.from = job->from - job->warmup_ns > first ? job->from - job->warmup_ns : first;
  }
  if (out) {
    if ((rc = rsim_record_open(out, true, &rec, &jeb))) goto out;
    rsim_record_set(rec, "graph", job->graph);
    rsim_record_set(rec, "store", job->store);
    o.record = rec;
    r->out = rsim_xstrdup(tmp[0] ? "" : out);
  }
  if ((rc = rsim_engine_new(g, &o, &e, &jeb))) goto out;
  while ((rc = rsim_engine_step(e)) == RSIM_OK)
    if (stop && *stop) {
      rc = RSIM_EHALTED;
      rsim_errbuf_set(&jeb, rc, "stopped");
      break;
    }
  if (rc == RSIM_EEOF) rc = RSIM_OK;
  else if (!jeb.msg[0]) rsim_errbuf_set(&jeb, rc, "%s", rsim_engine_errmsg(e)[0] ? rsim_engine_errmsg(e) : rsim_strerror(rc));
  rsim_engine_digest(e, r->digest);
  r->partial = rc != RSIM_OK;
  r->readings = rsim_engine_readings(e);
  r->n_comps = rsim_engine_n_components(e);
  r->comps = rsim_xcalloc(r->n_comps ? r->n_comps : 1, sizeof *r->comps);
  for (size_t i = 0; i < r->n_comps; i++) {
    rsim_component_stats s;
    rsim_engine_stats(e, i, &s);
    rsim_batch_comp *c = &r->comps[i];
    c->name = rsim_xstrdup(s.name);
    rsim_engine_component_digest(e, i, c->digest);
    c->calls = s.calls, c->outputs = s.outputs, c->errors = s.errors, c->limit_hits = s.limit_hits;
    c->timing_violations = s.timing_violations;
    c->mean_us = s.calls ? (double)s.total_ns / (double)s.calls / 1e3 : 0;
    c->max_us = (double)s.max_ns / 1e3;
    r->faults += s.errors;
    r->timing_violations += s.timing_violations;
    if (rec) rsim_record_stats(rec, &s);
  }
  if (rec) {
    /* 'complete' only when the job played to its end (record.h). */
    rsim_record_set(rec, "digest", r->digest);
    rsim_record_finish(rec, rc == RSIM_OK ? NULL : jeb.msg);
  }
out:
  r->ok = rc == RSIM_OK;
  r->reason = rsim_xstrdup(rc == RSIM_OK ? "" : jeb.msg);
  rsim_engine_free(e);
  rsim_errbuf reb = {0};
  if (rec && rsim_record_close(rec, &reb) && r->ok) { /* the first recording error, with its cause */
    r->ok = false;
    free(r->reason);
    r->reason = rsim_xstrdup(reb.msg[0] ? reb.msg : "cannot finish its output run");
  }
  if (score && r->ok && rsim__batch_score(job, out, st, r, &reb)) { /* a job that cannot be scored fails */
    r->ok = false;
    free(r->reason);
    r->reason = rsim_xstrdup(reb.msg);
  }
  if (tmp[0]) rsim__batch_tmp_remove(tmp);
  rsim_store_close(st);
  rsim_graph_free(g);
  r->wall_s = (double)(rsim_monotonic_ns() - wall0) / 1e9;
  (void)eb;
  return RSIM_OK;
}

/* ---- JSON ------------------------------------------------------------------ */
static char *dump(json_t *o) {
  char *s = json_dumps(o, JSON_COMPACT);
  json_decref(o);
  if (!s) rsim_oom(0);
  return s;
}

char *rsim_batch_job_to_json(const rsim_batch_job *j) {
  return dump(json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:I}", "key", j->key, "name", j->name, "graph", j->graph,
                        "store", j->store, "from", (json_int_t)j->from, "to", (json_int_t)j->to, "warmup",
                        (json_int_t)j->warmup_ns, "seq", (json_int_t)j->seq));
}

int rsim_batch_job_from_json(const char *text, rsim_batch_job *j, rsim_errbuf *eb) {
  json_error_t err;
  json_t *o = json_loads(text, 0, &err);
  const char *key, *name, *graph, *store;
  json_int_t from, to, warmup, seq;
  if (!o || json_unpack(o, "{s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:I}", "key", &key, "name", &name, "graph", &graph, "store",
                        &store, "from", &from, "to", &to, "warmup", &warmup, "seq", &seq)) {
    json_decref(o);
    return rsim_errbuf_set(eb, RSIM_ECORRUPT, "batch: a malformed job message");
  }
  *j = (rsim_batch_job){.key = rsim_xstrdup(key), .name = rsim_xstrdup(name), .graph = rsim_xstrdup(graph),
                        .store = rsim_xstrdup(store), .from = from, .to = to, .warmup_ns = warmup, .seq = (size_t)seq};
  json_decref(o);
  return RSIM_OK;
}

char *rsim_batch_result_to_json(const rsim_batch_result *r) {
  json_t *comps = json_array();
  for (size_t i = 0; i < r->n_comps; i++) {
    const rsim_batch_comp *c = &r->comps[i];
    json_array_append_new(comps, json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:f,s:f}", "name", c->name, "digest",
                                           c->digest, "calls", (json_int_t)c->calls, "outputs",
                                           (json_int_t)c->outputs, "errors", (json_int_t)c->errors, "limit_hits",
                                           (json_int_t)c->limit_hits, "timing_violations",
                                           (json_int_t)c->timing_violations, "mean_us", c->mean_us, "max_us",
                                           c->max_us));
  }
  /* Scores as rows [component, kind, window, t0, t1, class, metric, value]:
  ** a scene of a long drive has thousands.  jansson writes doubles with 17
  ** digits, so they arrive as they were computed; JSON has no NaN or
  ** infinity: null is NaN, "inf"/"-inf" the infinities. */
  json_t *metrics = json_array();
  for (size_t i = 0; i < r->n_metrics; i++) {
    const rsim_batch_metric *m = &r->metrics[i];
    json_t *v = isnan(m->value) ? json_null() : isinf(m->value) ? json_string(m->value > 0 ? "inf" : "-inf")
                                                                 : json_real(m->value);
    json_array_append_new(metrics, json_pack("[s,s,b,I,I,s,s,o]", m->component, m->kind, m->window,
                                             (json_int_t)m->t0, (json_int_t)m->t1, m->cls, m->metric, v));
  }
  return dump(json_pack("{s:s,s:b,s:s,s:s,s:b,s:f,s:I,s:I,s:I,s:s,s:i,s:s,s:o,s:o}", "key", r->key, "ok", r->ok,
                        "reason", r->reason ? r->reason : "", "digest", r->digest, "partial", r->partial, "wall_s",
                        r->wall_s, "readings", (json_int_t)r->readings, "faults", (json_int_t)r->faults,
                        "timing_violations", (json_int_t)r->timing_violations, "out", r->out ? r->out : "",
                        "attempts", r->attempts, "worker", r->worker ? r->worker : "", "components", comps,
                        "metrics", metrics));
}

int rsim_batch_result_from_json(const char *text, rsim_batch_result *r, rsim_errbuf *eb) {
  json_error_t err;
  json_t *o = json_loads(text, 0, &err), *comps = NULL, *metrics = NULL;
  const char *key, *reason, *digest, *out, *worker;
  int ok, partial, attempts;
  double wall;
  json_int_t readings, faults, tv;
  *r = (rsim_batch_result){0};
  if (!o || json_unpack(o, "{s:s,s:b,s:s,s:s,s:b,s:F,s:I,s:I,s:I,s:s,s:i,s:s,s:o}", "key", &key, "ok", &ok, "reason",
                        &reason, "digest", &digest, "partial", &partial, "wall_s", &wall, "readings", &readings,
                        "faults", &faults, "timing_violations", &tv, "out", &out, "attempts", &attempts, "worker",
                        &worker, "components", &comps) ||
      !json_is_array(comps) || ((metrics = json_object_get(o, "metrics")) && !json_is_array(metrics))) {
    json_decref(o);
    return rsim_errbuf_set(eb, RSIM_ECORRUPT, "batch: a malformed result message");
  }
  *r = (rsim_batch_result){.key = rsim_xstrdup(key), .ok = ok, .reason = rsim_xstrdup(reason), .partial = partial,
                           .wall_s = wall, .readings = (uint64_t)readings, .faults = (uint64_t)faults,
                           .timing_violations = (uint64_t)tv, .out = rsim_xstrdup(out), .attempts = attempts,
                           .worker = rsim_xstrdup(worker)};
  snprintf(r->digest, sizeof r->digest, "%s", digest);
  r->n_comps = json_array_size(comps);
  r->comps = rsim_xcalloc(r->n_comps ? r->n_comps : 1, sizeof *r->comps);
  for (size_t i = 0; i < r->n_comps; i++) {
    rsim_batch_comp *c = &r->comps[i];
    const char *name = "", *cd = "";
    json_int_t calls = 0, outputs = 0, errors = 0, lh = 0, ctv = 0;
    json_unpack(json_array_get(comps, i), "{s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:F,s:F}", "name", &name, "digest", &cd,
                "calls", &calls, "outputs", &outputs, "errors", &errors, "limit_hits", &lh, "timing_violations", &ctv,
                "mean_us", &c->mean_us, "max_us", &c->max_us);
    c->name = rsim_xstrdup(name);
    snprintf(c->digest, sizeof c->digest, "%s", cd);
    c->calls = (uint64_t)calls, c->outputs = (uint64_t)outputs, c->errors = (uint64_t)errors;
    c->limit_hits = (uint64_t)lh, c->timing_violations = (uint64_t)ctv;
  }
  r->n_metrics = json_array_size(metrics);
  r->metrics = r->n_metrics ? rsim_xcalloc(r->n_metrics, sizeof *r->metrics) : NULL;
  for (size_t i = 0; i < r->n_metrics; i++) {
    rsim_batch_metric *m = &r->metrics[i];
    const char *comp = "", *kind = "", *cls = "", *metric = "";
    int window = 0;
    json_int_t t0 = 0, t1 = 0;
    json_t *v = NULL;
    json_unpack(json_array_get(metrics, i), "[s,s,b,I,I,s,s,o]", &comp, &kind, &window, &t0, &t1, &cls, &metric, &v);
    *m = (rsim_batch_metric){.component = rsim_xstrdup(comp), .kind = rsim_xstrdup(kind), .cls = rsim_xstrdup(cls),
                             .metric = rsim_xstrdup(metric), .window = window, .t0 = t0, .t1 = t1, .value = NAN};
    if (json_is_number(v)) m->value = json_number_value(v);
    else if (json_is_string(v)) m->value = json_string_value(v)[0] == '-' ? -INFINITY : INFINITY;
  }
  json_decref(o);
  return RSIM_OK;
}
