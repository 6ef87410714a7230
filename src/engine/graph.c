/*
** graph.c -- reads a graph file (YAML) into an rsim_graph and checks what
** needs no component: syntax (with line numbers), names, link syntax,
** triggers, references and cycles.  The type checks live in check.c.
**
** File format (see docs/graph.md):
**
**   name: demo
**   components:
**     detector:
**       wasm: camera_detector.wasm
**       sha256: 3f5a...                 # optional pin of the file's bytes
**       world: camera-detector          # optional, checked
**       trigger: camera_front           # on-data, or rate_hz: N, or period: 50ms
**       inputs: { reading: sensor:camera_front }
**       config: { min_area: "40" }      # strings handed to get-config
**   sensors:                              # optional: bridge settings, derived sensors
**     imu: { sample: interpolate, max_staleness: 50ms }
**     camera_gray: { from: camera_front, transform: [grayscale, downscale 2] }
**
** An input is a source ("sensor:<id>" or a component), a list of sources
** (fan-in into a list), or { from:, interface:, policy: latest|queue, queue: N }.
*/
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/yaml_int.h"
#include "engine/engine_int.h"

#define MAX_COMPONENTS 256

typedef struct loader {
  yaml_document_t doc;
  const char *path;
  rsim_errbuf *eb;
} loader;

static int fail(loader *L, const yaml_node_t *n, const char *fmt, const char *a, const char *b) {
  char msg[400];
  snprintf(msg, sizeof msg, fmt, a ? a : "", b ? b : "");
  return rsim_errbuf_set(L->eb, RSIM_EGRAPH, "%s:%lu: %s", L->path,
                         n ? (unsigned long)n->start_mark.line + 1 : 0UL, msg);
}

static yaml_node_t *node_at(loader *L, int id) { return yaml_document_get_node(&L->doc, id); }

/* YAML allows a key twice in a mapping; a graph file does not. */
static int no_duplicate_keys(loader *L, const yaml_node_t *map) {
  for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++)
    for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; q++) {
      const char *a = rsim__yaml_text(node_at(L, p->key)), *b = rsim__yaml_text(node_at(L, q->key));
      if (a && b && !strcmp(a, b)) return fail(L, node_at(L, p->key), "key '%s' appears twice", a, NULL);
    }
  return RSIM_OK;
}

/* Reads a scalar value for key, with a helpful error for other shapes. */
static int want_scalar(loader *L, const yaml_node_t *key, const yaml_node_t *v, const char **out) {
  const char *s = rsim__yaml_text(v);
  if (!s) return fail(L, v, "'%s' must be a single value", rsim__yaml_text(key), NULL);
  if (!rsim_utf8_valid(s, strlen(s))) return fail(L, v, "'%s' is not valid UTF-8", rsim__yaml_text(key), NULL);
  *out = s;
  return RSIM_OK;
}

static bool valid_name(const char *s) {
  if (!*s) return false;
  for (const char *p = s; *p; p++)
    if (!(*p == '-' || *p == '_' || *p == '.' || (*p >= '0' && *p <= '9') ||
          (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
      return false;
  return true;
}

/* ---- component file resolution ------------------------------------------ */

static char *join(const char *dir, const char *rel) {
  size_t n = strlen(dir) + strlen(rel) + 2;
  char *p = rsim_xmalloc(n);
  snprintf(p, n, "%s/%s", dir, rel);
  return p;
}

static char *dir_of(const char *path) {
  const char *slash = strrchr(path, '/');
  if (!slash) return rsim_xstrdup(".");
  if (slash == path) return rsim_xstrdup("/");
  return rsim_xstrndup(path, (size_t)(slash - path));
}

/* The build's components folder: <dir of the running binary>/../components. */
static char *exe_components_dir(void) {
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return NULL;
  exe[n] = 0;
  char *bin = dir_of(exe);
  char *comp = join(bin, "../components");
  free(bin);
  return comp;
}

static char *resolve_wasm(const char *graph_dir, const char *spec) {
  if (spec[0] == '/') return access(spec, F_OK) == 0 ? rsim_xstrdup(spec) : NULL;
  char *p = join(graph_dir, spec);
  if (access(p, F_OK) == 0) return p;
  free(p);
  const char *env = getenv("RSIM_COMPONENT_PATH");
  if (env) {
    char *copy = rsim_xstrdup(env), *save = NULL;
    for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
      p = join(d, spec);
      if (access(p, F_OK) == 0) {
        free(copy);
        return p;
      }
      free(p);
    }
    free(copy);
  }
  char *comp = exe_components_dir();
  if (comp) {
    p = join(comp, spec);
    free(comp);
    if (access(p, F_OK) == 0) return p;
    free(p);
  }
  return NULL;
}

/* ---- parsing --------------------------------------------------------------- */

/* One source as written: "sensor:<id>" or a component name ("x.out" too). */
static int parse_src(loader *L, const char *port, const yaml_node_t *v, rsim__src *out) {
  const char *src = rsim__yaml_text(v);
  if (!src || !rsim_utf8_valid(src, strlen(src)))
    return fail(L, v, "input '%s': a source must be sensor:<id> or a component name", port, NULL);
  if (!strncmp(src, "sensor:", 7)) {
    if (!src[7]) return fail(L, v, "input '%s': 'sensor:' needs a sensor id", port, NULL);
    out->is_sensor = true;
    out->name = rsim_xstrdup(src + 7);
    return RSIM_OK;
  }
  size_t n = strlen(src);
  if (n > 4 && !strcmp(src + n - 4, ".out")) n -= 4; /* "detector.out" == "detector" */
  out->name = rsim_xstrndup(src, n);
  if (!valid_name(out->name))
    return fail(L, v, "input '%s': '%s' is neither sensor:<id> nor a component name", port, src);
  return RSIM_OK;
}

static int parse_srcs(loader *L, rsim__link *l, const yaml_node_t *v) {
  if (v->type != YAML_SEQUENCE_NODE) {
    l->srcs = rsim_xcalloc(1, sizeof *l->srcs);
    l->n_srcs = 1;
    return parse_src(L, l->port, v, &l->srcs[0]);
  }
  size_t n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
  if (n == 0) return fail(L, v, "input '%s': an empty list of sources", l->port, NULL);
  l->fan_in = true;
  l->srcs = rsim_xcalloc(n, sizeof *l->srcs);
  for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
    int rc = parse_src(L, l->port, node_at(L, *it), &l->srcs[l->n_srcs]);
    l->n_srcs++;
    if (rc) return rc;
  }
  return RSIM_OK;
}

/* An input: a source, a list of sources (fan-in), or a mapping with
** from:, and optionally interface:, policy: and queue:. */
static int parse_link(loader *L, rsim__gnode *c, const yaml_node_t *k, const yaml_node_t *v) {
  rsim__link *l = &c->inputs[c->n_inputs++];
  l->port = rsim_xstrdup(rsim__yaml_text(k));
  l->line = (int)v->start_mark.line + 1;
  if (v->type != YAML_MAPPING_NODE) return parse_srcs(L, l, v);
  int rc = no_duplicate_keys(L, v);
  if (rc) return rc;
  const yaml_node_t *from = NULL;
  for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
    yaml_node_t *pk = node_at(L, p->key), *pv = node_at(L, p->value);
    const char *key = rsim__yaml_text(pk), *s;
    if (key && !strcmp(key, "from")) {
      from = pv;
    } else if (key && !strcmp(key, "interface")) {
      if ((rc = want_scalar(L, pk, pv, &s))) return rc;
      l->iface = rsim_xstrdup(s);
    } else if (key && !strcmp(key, "policy")) {
      if ((rc = want_scalar(L, pk, pv, &s))) return rc;
      if (!strcmp(s, "latest")) l->policy = RSIM__LINK_LATEST;
      else if (!strcmp(s, "queue")) l->policy = RSIM__LINK_QUEUE;
      else return fail(L, pv, "input '%s': policy '%s' is not latest or queue", l->port, s);
    } else if (key && !strcmp(key, "queue")) {
      if ((rc = want_scalar(L, pk, pv, &s))) return rc;
      int64_t q;
      if (rsim_parse_int(s, 1, 100000, &q, NULL))
        return fail(L, pv, "input '%s': queue '%s' must be a number of outputs, 1 to 100000", l->port, s);
      l->queue = (size_t)q;
      l->policy = RSIM__LINK_QUEUE;
    } else {
      return fail(L, pk, "input '%s': unknown key '%s' (expected from, interface, policy, queue)",
                  l->port, key);
    }
  }
  if (!from) return fail(L, v, "input '%s' has no 'from:'", l->port, NULL);
  if (l->policy == RSIM__LINK_QUEUE && !l->queue) l->queue = 64;
  return parse_srcs(L, l, from);
}

/* ---- sensors: bridge settings and derived sensors ------------------------- */

static int parse_signals(loader *L, rsim__gsensor *s, const yaml_node_t *v, const char *text) {
  /* "0:u16 2:s16 4:s16 6:s16": byte offset and type of each signal. */
  char *copy = rsim_xstrdup(text), *save = NULL;
  int rc = RSIM_OK;
  for (char *tok = strtok_r(copy, " ,", &save); tok && !rc; tok = strtok_r(NULL, " ,", &save)) {
    int64_t off = -1;
    char type[8] = "", num[8] = "";
    const char *colon = strchr(tok, ':');
    rsim__can_signal sig = {0};
    if (colon && (size_t)(colon - tok) < sizeof num && strlen(colon + 1) < sizeof type) {
      snprintf(num, sizeof num, "%.*s", (int)(colon - tok), tok);
      snprintf(type, sizeof type, "%s", colon + 1);
    }
    if (!colon || rsim_parse_int(num, 0, 7, &off, NULL) || !type[0]) {
      rc = fail(L, v, "sensor '%s': signal '%s' is not <byte offset 0-7>:<u8|s8|u16|s16|u32|s32>", s->id, tok);
      break;
    }
    sig.offset = (int)off;
    sig.is_signed = type[0] == 's';
    sig.bytes = !strcmp(type + 1, "8") ? 1 : !strcmp(type + 1, "16") ? 2 : !strcmp(type + 1, "32") ? 4 : 0;
    if (!sig.bytes || (type[0] != 'u' && type[0] != 's') || off + sig.bytes > 8) {
      rc = fail(L, v, "sensor '%s': signal '%s' does not fit an 8-byte CAN frame as u8..s32", s->id, tok);
      break;
    }
    s->signals = rsim_xrealloc(s->signals, (s->n_signals + 1) * sizeof *s->signals);
    s->signals[s->n_signals++] = sig;
  }
  free(copy);
  return rc;
}

static int parse_transforms(loader *L, rsim__gsensor *s, const yaml_node_t *v) {
  size_t n = v->type == YAML_SEQUENCE_NODE ? (size_t)(v->data.sequence.items.top - v->data.sequence.items.start) : 1;
  s->ops = rsim_xcalloc(n, sizeof *s->ops);
  rsim_buf text = {0};
  for (size_t i = 0; i < n; i++) {
    const yaml_node_t *item = v->type == YAML_SEQUENCE_NODE ? node_at(L, v->data.sequence.items.start[i]) : v;
    const char *t = rsim__yaml_text(item);
    char msg[200];
    if (!t) {
      rsim_buf_free(&text);
      return fail(L, item, "sensor '%s': a transform is a string like \"downscale 2\"", s->id, NULL);
    }
    if (rsim__xform_parse(t, &s->ops[s->n_ops], msg, sizeof msg)) {
      rsim_buf_free(&text);
      return fail(L, item, "sensor '%s': %s", s->id, msg);
    }
    s->n_ops++;
    rsim_buf_printf(&text, "%s%s", i ? ", " : "", t);
  }
  rsim_buf_putc(&text, 0);
  s->ops_text = (char *)text.data;
  return RSIM_OK;
}

static int parse_sensor(loader *L, rsim__gsensor *s, const yaml_node_t *k, const yaml_node_t *body) {
  s->id = rsim_xstrdup(rsim__yaml_text(k));
  s->line = (int)k->start_mark.line + 1;
  if (body->type != YAML_MAPPING_NODE)
    return fail(L, body, "sensor '%s' must be a mapping (from:, transform:, sample:, max_staleness:)", s->id, NULL);
  int rc = no_duplicate_keys(L, body);
  if (rc) return rc;
  for (yaml_node_pair_t *p = body->data.mapping.pairs.start; p < body->data.mapping.pairs.top; p++) {
    yaml_node_t *pk = node_at(L, p->key), *pv = node_at(L, p->value);
    const char *key = rsim__yaml_text(pk), *v = NULL;
    if (key && !strcmp(key, "transform")) {
      rc = parse_transforms(L, s, pv);
    } else if (key && (!strcmp(key, "from") || !strcmp(key, "sample") || !strcmp(key, "max_staleness") ||
                       !strcmp(key, "signals"))) {
      if ((rc = want_scalar(L, pk, pv, &v))) return rc;
      if (key[0] == 'f') {
        s->from = rsim_xstrdup(!strncmp(v, "sensor:", 7) ? v + 7 : v);
      } else if (key[0] == 's' && key[1] == 'a') {
        static const char *const names[] = {"auto", "exact", "hold", "interpolate"};
        s->sample = -1;
        for (int i = 0; i < 4; i++)
          if (!strcmp(v, names[i])) s->sample = i;
        if (s->sample < 0)
          return fail(L, pv, "sensor '%s': sample '%s' is not auto, exact, hold or interpolate", s->id, v);
      } else if (key[0] == 'm') {
        if (rsim_parse_duration(v, &s->max_staleness_ns) || s->max_staleness_ns <= 0)
          return fail(L, pv, "sensor '%s': max_staleness '%s' is not a positive duration (e.g. 200ms)", s->id, v);
      } else {
        rc = parse_signals(L, s, pv, v);
      }
    } else {
      return fail(L, pk, "sensor '%s': unknown key '%s' (expected from, transform, sample, max_staleness, signals)",
                  s->id, key);
    }
    if (rc) return rc;
  }
  if (s->n_ops && !s->from)
    return fail(L, body, "sensor '%s': transforms make a derived sensor; say which sensor it comes 'from:'", s->id, NULL);
  return RSIM_OK;
}

static int parse_sensors(loader *L, rsim_graph *g, const yaml_node_t *v) {
  if (v->type != YAML_MAPPING_NODE) return fail(L, v, "'sensors:' must be a mapping of sensor ids", NULL, NULL);
  int rc = no_duplicate_keys(L, v);
  if (rc) return rc;
  size_t n = (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
  g->sensors = rsim_xcalloc(n ? n : 1, sizeof *g->sensors);
  for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
    yaml_node_t *k = node_at(L, p->key);
    if (!rsim__yaml_text(k) || !valid_name(rsim__yaml_text(k)))
      return fail(L, k, "sensor id '%s' may use only letters, digits, '-', '_' and '.'", rsim__yaml_text(k), NULL);
    rc = parse_sensor(L, &g->sensors[g->n_sensors++], k, node_at(L, p->value));
    if (rc) return rc;
  }
  for (size_t i = 0; i < g->n_sensors; i++) {
    const rsim__gsensor *s = &g->sensors[i];
    if (!s->from) continue;
    if (!strcmp(s->from, s->id)) return fail(L, NULL, "sensor '%s' is derived from itself", s->id, NULL);
    const rsim__gsensor *src = rsim__graph_sensor(g, s->from);
    if (src && src->from)
      return rsim_errbuf_set(L->eb, RSIM_EGRAPH,
                             "%s:%d: sensor '%s' comes from '%s', which is itself derived; list "
                             "all transforms on one derived sensor instead",
                             L->path, s->line, s->id, s->from);
  }
  return RSIM_OK;
}

const rsim__gsensor *rsim__graph_sensor(const rsim_graph *g, const char *id) {
  for (size_t i = 0; i < g->n_sensors; i++)
    if (!strcmp(g->sensors[i].id, id)) return &g->sensors[i];
  return NULL;
}

static int parse_map_of_scalars(loader *L, rsim__gnode *c, const yaml_node_t *key,
                                const yaml_node_t *v, bool links) {
  if (v->type != YAML_MAPPING_NODE)
    return fail(L, v, "'%s' must be a mapping of names to values", rsim__yaml_text(key), NULL);
  int dup = no_duplicate_keys(L, v);
  if (dup) return dup;
  size_t n = (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
  if (links) c->inputs = rsim_xcalloc(n, sizeof *c->inputs);
  else c->config = rsim_xcalloc(n, sizeof *c->config);
  for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
    yaml_node_t *pk = node_at(L, p->key), *pv = node_at(L, p->value);
    const char *name = rsim__yaml_text(pk);
    if (!name || !rsim_utf8_valid(name, strlen(name)))
      return fail(L, pk, "a key under '%s' must be a plain name", rsim__yaml_text(key), NULL);
    if (links) {
      int rc = parse_link(L, c, pk, pv);
      if (rc) return rc;
    } else {
      const char *val;
      int rc = want_scalar(L, pk, pv, &val);
      if (rc) return rc;
      c->config[c->n_config].key = rsim_xstrdup(name);
      c->config[c->n_config].value = rsim_xstrdup(val);
      c->n_config++;
    }
  }
  return RSIM_OK;
}

static int parse_rate(loader *L, rsim__gnode *c, const yaml_node_t *k, const yaml_node_t *v,
                      bool is_period) {
  const char *s;
  int rc = want_scalar(L, k, v, &s);
  if (rc) return rc;
  if (c->period_ns) return fail(L, v, "give only one of rate_hz and period", NULL, NULL);
  if (is_period) {
    int64_t ns;
    if (rsim_parse_duration(s, &ns) || ns <= 0)
      return fail(L, v, "period '%s' is not a positive duration (e.g. 50ms)", s, NULL);
    c->period_ns = ns;
    return RSIM_OK;
  }
  double hz;
  if (rsim_parse_real(s, 0, 1e9, &hz, NULL) || !(hz > 0))
    return fail(L, v, "rate_hz '%s' is not a positive number", s, NULL);
  /* The period is whole nanoseconds, so every tick time is exact. */
  c->period_ns = (int64_t)(1e9 / hz + 0.5);
  return RSIM_OK;
}

/* "64MiB", "512KiB", "1GiB", "100MB", "1e8", or a plain number of bytes:
** a strict number (rsim_parse_real) before one of the units. */
static bool parse_size(const char *s, uint64_t *out) {
  static const struct { const char *unit; double mul; } units[] = {
      {"KiB", 1024.0}, {"MiB", 1048576.0}, {"GiB", 1073741824.0}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9},
      {"B", 1}, {"k", 1e3}, {"M", 1e6}, {"G", 1e9}, {"", 1}};
  size_t n = strlen(s);
  for (size_t i = 0; i < sizeof units / sizeof *units; i++) {
    size_t u = strlen(units[i].unit);
    if (u > n || strcmp(s + n - u, units[i].unit)) continue;
    char num[64];
    double v;
    if (n - u >= sizeof num) return false;
    snprintf(num, sizeof num, "%.*s", (int)(n - u), s);
    if (rsim_parse_real(num, 0, 1.8e19 / units[i].mul, &v, NULL) || !(v > 0)) return false;
    *out = (uint64_t)(v * units[i].mul);
    return *out > 0;
  }
  return false;
}

/* limits: {fuel: N, deadline: 20ms, memory: 64MiB, table: N} */
static int parse_limits(loader *L, rsim__gnode *c, const yaml_node_t *v) {
  if (v->type != YAML_MAPPING_NODE)
    return fail(L, v, "component '%s': limits must be a mapping (fuel, deadline, memory, table)", c->name, NULL);
  for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
    yaml_node_t *pk = node_at(L, p->key), *pv = node_at(L, p->value);
    const char *key = rsim__yaml_text(pk), *s;
    if (!key) return fail(L, pk, "component '%s': limit names must be plain names", c->name, NULL);
    int rc = want_scalar(L, pk, pv, &s);
    if (rc) return rc;
    bool ok;
    if (!strcmp(key, "fuel")) ok = parse_size(s, &c->limits.fuel_per_call);
    else if (!strcmp(key, "memory")) ok = parse_size(s, &c->limits.memory_bytes);
    else if (!strcmp(key, "table")) ok = parse_size(s, &c->limits.table_elements);
    else if (!strcmp(key, "deadline")) ok = !rsim_parse_duration(s, &c->limits.deadline_ns) && c->limits.deadline_ns > 0;
    else return fail(L, pk, "component '%s': unknown limit '%s' (expected fuel, deadline, memory, table)", c->name, key);
    if (!ok) return fail(L, pv, "component '%s': limit '%s' is not a positive amount (fuel: 1e8, memory: 64MiB, deadline: 50ms)", c->name, s);
  }
  return RSIM_OK;
}

static int parse_choice(loader *L, const yaml_node_t *k, const yaml_node_t *v, const char *const *names, int *out,
                        const char *what) {
  const char *s;
  int rc = want_scalar(L, k, v, &s);
  if (rc) return rc;
  for (int i = 0; names[i]; i++)
    if (!strcmp(s, names[i])) {
      *out = i;
      return RSIM_OK;
    }
  return fail(L, v, "'%s' is not one of %s", s, what);
}

static int parse_component(loader *L, rsim__gnode *c, const yaml_node_t *name_node,
                           const yaml_node_t *body) {
  const char *name = rsim__yaml_text(name_node);
  if (!name || !valid_name(name))
    return fail(L, name_node, "component name '%s' may use only letters, digits, '-', '_' and '.'",
                name, NULL);
  c->name = rsim_xstrdup(name);
  c->line = (int)name_node->start_mark.line + 1;
  if (body->type != YAML_MAPPING_NODE)
    return fail(L, body, "component '%s' must be a mapping (wasm:, trigger:, inputs:, ...)", name, NULL);
  int dup = no_duplicate_keys(L, body);
  if (dup) return dup;
  for (yaml_node_pair_t *p = body->data.mapping.pairs.start; p < body->data.mapping.pairs.top; p++) {
    yaml_node_t *k = node_at(L, p->key), *v = node_at(L, p->value);
    const char *key = rsim__yaml_text(k), *s = NULL;
    int rc = RSIM_OK;
    if (!key) return fail(L, k, "component '%s': keys must be plain names", name, NULL);
    if (!strcmp(key, "wasm")) {
      if (!(rc = want_scalar(L, k, v, &s))) c->wasm_spec = rsim_xstrdup(s);
    } else if (!strcmp(key, "sha256")) {
      if ((rc = want_scalar(L, k, v, &s))) return rc;
      if (strlen(s) != 64 || strspn(s, "0123456789abcdefABCDEF") != 64)
        return fail(L, v, "component '%s': sha256 '%s' is not 64 hex digits (sha256sum FILE.wasm)", name, s);
      c->sha256 = rsim_xstrdup(s);
      for (char *d = c->sha256; *d; d++)
        if (*d >= 'A' && *d <= 'F') *d = (char)(*d - 'A' + 'a');
    } else if (!strcmp(key, "world")) {
      if (!(rc = want_scalar(L, k, v, &s))) c->world = rsim_xstrdup(s);
    } else if (!strcmp(key, "export")) {
      if (!(rc = want_scalar(L, k, v, &s))) c->export_name = rsim_xstrdup(s);
    } else if (!strcmp(key, "trigger")) {
      if (!(rc = want_scalar(L, k, v, &s))) {
        if (!strncmp(s, "sensor:", 7)) s += 7;
        c->trigger = rsim_xstrdup(s);
      }
    } else if (!strcmp(key, "rate_hz") || !strcmp(key, "period")) {
      rc = parse_rate(L, c, k, v, key[0] == 'p');
    } else if (!strcmp(key, "inputs")) {
      rc = parse_map_of_scalars(L, c, k, v, true);
    } else if (!strcmp(key, "config")) {
      rc = parse_map_of_scalars(L, c, k, v, false);
    } else if (!strcmp(key, "limits")) {
      rc = parse_limits(L, c, v);
    } else if (!strcmp(key, "on_fault")) {
      static const char *const names[] = {"default", "skip", "retry", "halt", NULL};
      rc = parse_choice(L, k, v, names, &c->on_fault, "skip, retry, halt");
    } else if (!strcmp(key, "on_timing")) {
      static const char *const names[] = {"warn", "halt", NULL};
      int h = 0;
      rc = parse_choice(L, k, v, names, &h, "warn, halt");
      c->halt_on_timing = h == 1;
    } else if (!strcmp(key, "wasi")) {
      static const char *const names[] = {"deterministic", NULL};
      int d = -1;
      rc = parse_choice(L, k, v, names, &d, "deterministic");
      c->wasi_deterministic = d == 0;
    } else if (!strcmp(key, "budget")) {
      if (!(rc = want_scalar(L, k, v, &s)) && (rsim_parse_duration(s, &c->budget_ns) || c->budget_ns <= 0))
        return fail(L, v, "component '%s': budget '%s' is not a positive duration (e.g. 5ms)", name, s);
    } else {
      return fail(L, k,
                  "component '%s': unknown key '%s' (expected wasm, sha256, world, export, trigger, "
                  "rate_hz, period, inputs, config, limits, on_fault, budget, on_timing, wasi)",
                  name, key);
    }
    if (rc) return rc;
  }
  if (!c->wasm_spec) return fail(L, body, "component '%s' has no 'wasm:' file", name, NULL);
  if (!c->trigger && !c->period_ns)
    return fail(L, body,
                "component '%s' has no trigger: give 'trigger: <sensor>' (runs on each reading) "
                "or 'rate_hz: N'",
                name, NULL);
  if (c->trigger && c->period_ns)
    return fail(L, body, "component '%s': give either a trigger sensor or a rate, not both", name, NULL);
  rsim_errbuf seb = {0};
  uint64_t seed;
  if (rsim_engine_wasi_seed(rsim_kv_get(c->config, c->n_config, "wasi.seed"), &seed, &seb))
    return fail(L, body, "component '%s': config wasi.seed: %.300s", name, seb.msg);
  return RSIM_OK;
}

/* `eval:` -- how `replaysim eval` scores outputs: COMPONENT: {KEY: VALUE}.
** Kept as text; src/eval checks the keys and the component names. */
static int parse_eval(loader *L, rsim_graph *g, const yaml_node_t *key, const yaml_node_t *v) {
  if (v->type != YAML_MAPPING_NODE) return fail(L, v, "'%s' must be a mapping of component names", rsim__yaml_text(key), NULL);
  int rc = no_duplicate_keys(L, v);
  for (yaml_node_pair_t *p = v->data.mapping.pairs.start; !rc && p < v->data.mapping.pairs.top; p++) {
    yaml_node_t *ck = node_at(L, p->key), *cv = node_at(L, p->value);
    if (!rsim__yaml_text(ck) || cv->type != YAML_MAPPING_NODE)
      return fail(L, cv, "eval: each entry must be COMPONENT: {KEY: VALUE, ...}", NULL, NULL);
    if ((rc = no_duplicate_keys(L, cv))) return rc;
    for (yaml_node_pair_t *q = cv->data.mapping.pairs.start; q < cv->data.mapping.pairs.top; q++) {
      yaml_node_t *kk = node_at(L, q->key);
      const char *val;
      if (!rsim__yaml_text(kk)) return fail(L, kk, "eval: %s: keys must be plain names", rsim__yaml_text(ck), NULL);
      if ((rc = want_scalar(L, kk, node_at(L, q->value), &val))) return rc;
      rsim_buf name = {0};
      rsim_buf_printf(&name, "%s.%s", rsim__yaml_text(ck), rsim__yaml_text(kk));
      g->eval = rsim_xrealloc(g->eval, (g->n_eval + 1) * sizeof *g->eval);
      g->eval[g->n_eval++] = (rsim_kv){rsim_buf_take_str(&name), rsim_xstrdup(val)};
    }
  }
  return rc;
}

static int parse_root(loader *L, rsim_graph *g, char *graph_dir) {
  yaml_node_t *root = yaml_document_get_root_node(&L->doc);
  if (!root) return rsim_errbuf_set(L->eb, RSIM_EGRAPH, "%s: empty graph file", L->path);
  if (root->type != YAML_MAPPING_NODE)
    return fail(L, root, "the graph must be a mapping with 'components:'", NULL, NULL);
  int dup = no_duplicate_keys(L, root);
  if (dup) return dup;
  yaml_node_t *comps = NULL;
  for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
    yaml_node_t *k = node_at(L, p->key), *v = node_at(L, p->value);
    const char *key = rsim__yaml_text(k), *s;
    if (key && !strcmp(key, "components")) comps = v;
    else if (key && !strcmp(key, "sensors")) {
      int rc = parse_sensors(L, g, v);
      if (rc) return rc;
    }
    else if (key && !strcmp(key, "name")) {
      int rc = want_scalar(L, k, v, &s);
      if (rc) return rc;
      free(g->name);
      g->name = rsim_xstrdup(s);
    } else if (key && !strcmp(key, "description")) {
      /* free text for people */
    } else if (key && !strcmp(key, "eval")) {
      int rc = parse_eval(L, g, k, v);
      if (rc) return rc;
    } else {
      return fail(L, k, "unknown top-level key '%s' (expected name, description, sensors, components, eval)",
                  key, NULL);
    }
  }
  if (!comps || comps->type != YAML_MAPPING_NODE)
    return fail(L, comps ? comps : root, "'components:' must be a mapping of component names",
                NULL, NULL);
  size_t n = (size_t)(comps->data.mapping.pairs.top - comps->data.mapping.pairs.start);
  if (n == 0) return fail(L, comps, "the graph has no components", NULL, NULL);
  if (n > MAX_COMPONENTS) return fail(L, comps, "too many components (limit 256)", NULL, NULL);
  g->nodes = rsim_xcalloc(n, sizeof *g->nodes);
  for (yaml_node_pair_t *p = comps->data.mapping.pairs.start; p < comps->data.mapping.pairs.top; p++) {
    yaml_node_t *k = node_at(L, p->key);
    for (size_t i = 0; i < g->n; i++)
      if (rsim__yaml_text(k) && !strcmp(g->nodes[i].name, rsim__yaml_text(k)))
        return fail(L, k, "component '%s' is defined twice", rsim__yaml_text(k), NULL);
    int rc = parse_component(L, &g->nodes[g->n++], k, node_at(L, p->value));
    if (rc) return rc;
    rsim__gnode *c = &g->nodes[g->n - 1];
    c->wasm_path = resolve_wasm(graph_dir, c->wasm_spec);
  }
  return RSIM_OK;
}

/* ---- references and order ---------------------------------------------------- */

static int find_node(const rsim_graph *g, const char *name) {
  for (size_t i = 0; i < g->n; i++)
    if (!strcmp(g->nodes[i].name, name)) return (int)i;
  return -1;
}

static int resolve_links(rsim_graph *g, rsim_errbuf *eb) {
  for (size_t i = 0; i < g->n; i++) {
    rsim__gnode *c = &g->nodes[i];
    for (size_t j = 0; j < c->n_inputs; j++)
      for (size_t k = 0; k < c->inputs[j].n_srcs; k++) {
        rsim__link *l = &c->inputs[j];
        rsim__src *src = &l->srcs[k];
        if (src->is_sensor) continue;
        int s = find_node(g, src->name);
        if (s < 0)
          return rsim_errbuf_set(eb, RSIM_EGRAPH,
                                 "%s:%d: input '%s' of component '%s' comes from '%s', which is "
                                 "not a component (write sensor:%s for a sensor)",
                                 g->path, l->line, l->port, c->name, src->name, src->name);
        if ((size_t)s == i)
          return rsim_errbuf_set(eb, RSIM_EGRAPH, "%s:%d: component '%s' feeds its own input '%s'",
                                 g->path, l->line, c->name, l->port);
        src->index = (size_t)s;
      }
  }
  return RSIM_OK;
}

/* Kahn's algorithm, always taking the earliest ready component in file
** order, so the order is stable and documented. */
static int topo_sort(rsim_graph *g, rsim_errbuf *eb) {
  size_t *indeg = rsim_xcalloc(g->n, sizeof *indeg);
  bool *done = rsim_xcalloc(g->n, sizeof *done);
  g->order = rsim_xcalloc(g->n, sizeof *g->order);
  for (size_t i = 0; i < g->n; i++)
    for (size_t j = 0; j < g->nodes[i].n_inputs; j++)
      for (size_t k = 0; k < g->nodes[i].inputs[j].n_srcs; k++)
        if (!g->nodes[i].inputs[j].srcs[k].is_sensor) indeg[i]++;
  size_t placed = 0;
  while (placed < g->n) {
    size_t pick = g->n;
    for (size_t i = 0; i < g->n && pick == g->n; i++)
      if (!done[i] && indeg[i] == 0) pick = i;
    if (pick == g->n) break;
    done[pick] = true;
    g->order[placed++] = pick;
    for (size_t i = 0; i < g->n; i++)
      for (size_t j = 0; j < g->nodes[i].n_inputs; j++)
        for (size_t k = 0; k < g->nodes[i].inputs[j].n_srcs; k++) {
          const rsim__src *s = &g->nodes[i].inputs[j].srcs[k];
          if (!s->is_sensor && s->index == pick) indeg[i]--;
        }
  }
  int rc = RSIM_OK;
  if (placed < g->n) {
    rsim_buf names = {0};
    for (size_t i = 0; i < g->n; i++)
      if (!done[i]) rsim_buf_printf(&names, "%s%s", names.len ? ", " : "", g->nodes[i].name);
    rsim_buf_putc(&names, 0);
    rc = rsim_errbuf_set(eb, RSIM_EGRAPH, "%s: the links form a cycle through: %s", g->path,
                         (char *)names.data);
    rsim_buf_free(&names);
  }
  free(indeg);
  free(done);
  return rc;
}

/* ---- public ------------------------------------------------------------------- */

/* Here rather than beside the host import that answers it (bridge.c): the
** loader checks every seed, and the graph fuzz target links the loader alone. */
int rsim_engine_wasi_seed(const char *text, uint64_t *out, rsim_errbuf *eb) {
  *out = 0x7273696d2d776173ull; /* "rsim-was" */
  return text ? rsim_parse_uint(text, out, eb) : RSIM_OK;
}


int rsim_graph_load(const char *path, rsim_graph **out, rsim_errbuf *eb) {
  *out = NULL;
  loader L = {.path = path, .eb = eb};
  int rc = rsim__yaml_load(path, RSIM_EGRAPH, &L.doc, eb);
  if (rc) return rc;
  rsim_graph *g = rsim_xcalloc(1, sizeof *g);
  g->path = rsim_xstrdup(path);
  g->name = rsim_xstrdup("graph");
  char *graph_dir = dir_of(path);
  rc = parse_root(&L, g, graph_dir);
  if (!rc) rc = resolve_links(g, eb);
  if (!rc) rc = topo_sort(g, eb);
  free(graph_dir);
  yaml_document_delete(&L.doc);
  if (rc) {
    rsim_graph_free(g);
    return rc;
  }
  *out = g;
  return RSIM_OK;
}

void rsim_graph_free(rsim_graph *g) {
  if (!g) return;
  for (size_t i = 0; i < g->n; i++) {
    rsim__gnode *c = &g->nodes[i];
    free(c->name);
    free(c->wasm_spec);
    free(c->wasm_path);
    free(c->sha256);
    free(c->world);
    free(c->export_name);
    free(c->trigger);
    for (size_t j = 0; j < c->n_inputs; j++) {
      free(c->inputs[j].port);
      free(c->inputs[j].iface);
      for (size_t k = 0; k < c->inputs[j].n_srcs; k++) free(c->inputs[j].srcs[k].name);
      free(c->inputs[j].srcs);
    }
    free(c->inputs);
    for (size_t j = 0; j < c->n_config; j++) {
      free(c->config[j].key);
      free(c->config[j].value);
    }
    free(c->config);
  }
  free(g->nodes);
  for (size_t i = 0; i < g->n_sensors; i++) {
    free(g->sensors[i].id);
    free(g->sensors[i].from);
    free(g->sensors[i].ops);
    free(g->sensors[i].ops_text);
    free(g->sensors[i].signals);
  }
  free(g->sensors);
  for (size_t i = 0; i < g->n_eval; i++) {
    free(g->eval[i].key);
    free(g->eval[i].value);
  }
  free(g->eval);
  free(g->order);
  free(g->path);
  free(g->name);
  free(g);
}

void rsim_graph_require_hashes(rsim_graph *g, bool on) { g->require_hashes = on; }
size_t rsim_graph_n_components(const rsim_graph *g) { return g->n; }
const rsim_kv *rsim_graph_eval(const rsim_graph *g, size_t *n) {
  *n = g->n_eval;
  return g->eval;
}
const char *rsim_graph_component_name(const rsim_graph *g, size_t i) { return g->nodes[i].name; }
const char *rsim_graph_component_wasm(const rsim_graph *g, size_t i) {
  return g->nodes[i].wasm_path ? g->nodes[i].wasm_path : g->nodes[i].wasm_spec;
}
