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
**       world: camera-detector          # optional, checked
**       trigger: camera_front           # on-data, or rate_hz: N, or period: 50ms
**       inputs: { reading: sensor:camera_front }
**       config: { min_area: "40" }      # strings handed to get-config
*/
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

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

static const char *scalar(const yaml_node_t *n) {
  return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static yaml_node_t *node_at(loader *L, int id) { return yaml_document_get_node(&L->doc, id); }

/* YAML allows a key twice in a mapping; a graph file does not. */
static int no_duplicate_keys(loader *L, const yaml_node_t *map) {
  for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++)
    for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; q++) {
      const char *a = scalar(node_at(L, p->key)), *b = scalar(node_at(L, q->key));
      if (a && b && !strcmp(a, b)) return fail(L, node_at(L, p->key), "key '%s' appears twice", a, NULL);
    }
  return RSIM_OK;
}

/* Reads a scalar value for key, with a helpful error for other shapes. */
static int want_scalar(loader *L, const yaml_node_t *key, const yaml_node_t *v, const char **out) {
  const char *s = scalar(v);
  if (!s) return fail(L, v, "'%s' must be a single value", scalar(key), NULL);
  if (!rsim_utf8_valid(s, strlen(s))) return fail(L, v, "'%s' is not valid UTF-8", scalar(key), NULL);
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

static int parse_link(loader *L, rsim__gnode *c, const yaml_node_t *k, const yaml_node_t *v) {
  const char *port = scalar(k), *src;
  int rc = want_scalar(L, k, v, &src);
  if (rc) return rc;
  rsim__link *l = &c->inputs[c->n_inputs];
  if (!strncmp(src, "sensor:", 7)) {
    if (!src[7]) return fail(L, v, "input '%s': 'sensor:' needs a sensor id", port, NULL);
    l->src_is_sensor = true;
    l->src = rsim_xstrdup(src + 7);
  } else {
    size_t n = strlen(src);
    if (n > 4 && !strcmp(src + n - 4, ".out")) n -= 4; /* "detector.out" == "detector" */
    l->src = rsim_xstrndup(src, n);
    if (!valid_name(l->src)) {
      free(l->src);
      l->src = NULL;
      return fail(L, v, "input '%s': '%s' is neither sensor:<id> nor a component name", port, src);
    }
  }
  l->port = rsim_xstrdup(port);
  l->line = (int)v->start_mark.line + 1;
  c->n_inputs++;
  return RSIM_OK;
}

static int parse_map_of_scalars(loader *L, rsim__gnode *c, const yaml_node_t *key,
                                const yaml_node_t *v, bool links) {
  if (v->type != YAML_MAPPING_NODE)
    return fail(L, v, "'%s' must be a mapping of names to values", scalar(key), NULL);
  int dup = no_duplicate_keys(L, v);
  if (dup) return dup;
  size_t n = (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
  if (links) c->inputs = rsim_xcalloc(n, sizeof *c->inputs);
  else c->config = rsim_xcalloc(n, sizeof *c->config);
  for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
    yaml_node_t *pk = node_at(L, p->key), *pv = node_at(L, p->value);
    const char *name = scalar(pk);
    if (!name || !rsim_utf8_valid(name, strlen(name)))
      return fail(L, pk, "a key under '%s' must be a plain name", scalar(key), NULL);
    if (links) {
      for (size_t i = 0; i < c->n_inputs; i++)
        if (!strcmp(c->inputs[i].port, name)) return fail(L, pk, "input '%s' is linked twice", name, NULL);
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
  char *end;
  errno = 0;
  double hz = strtod(s, &end);
  if (end == s || *end || errno || !(hz > 0) || hz > 1e9)
    return fail(L, v, "rate_hz '%s' is not a positive number", s, NULL);
  /* The period is whole nanoseconds, so every tick time is exact. */
  c->period_ns = (int64_t)(1e9 / hz + 0.5);
  return RSIM_OK;
}

static int parse_component(loader *L, rsim__gnode *c, const yaml_node_t *name_node,
                           const yaml_node_t *body) {
  const char *name = scalar(name_node);
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
    const char *key = scalar(k), *s = NULL;
    int rc = RSIM_OK;
    if (!key) return fail(L, k, "component '%s': keys must be plain names", name, NULL);
    if (!strcmp(key, "wasm")) {
      if (!(rc = want_scalar(L, k, v, &s))) c->wasm_spec = rsim_xstrdup(s);
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
    } else {
      return fail(L, k,
                  "component '%s': unknown key '%s' (expected wasm, world, export, trigger, "
                  "rate_hz, period, inputs, config)",
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
  return RSIM_OK;
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
    const char *key = scalar(k), *s;
    if (key && !strcmp(key, "components")) comps = v;
    else if (key && !strcmp(key, "name")) {
      int rc = want_scalar(L, k, v, &s);
      if (rc) return rc;
      free(g->name);
      g->name = rsim_xstrdup(s);
    } else if (key && !strcmp(key, "description")) {
      /* free text for people */
    } else {
      return fail(L, k, "unknown top-level key '%s' (expected name, description, components)",
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
      if (scalar(k) && !strcmp(g->nodes[i].name, scalar(k)))
        return fail(L, k, "component '%s' is defined twice", scalar(k), NULL);
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
    for (size_t j = 0; j < c->n_inputs; j++) {
      rsim__link *l = &c->inputs[j];
      if (l->src_is_sensor) continue;
      int s = find_node(g, l->src);
      if (s < 0)
        return rsim_errbuf_set(eb, RSIM_EGRAPH,
                               "%s:%d: input '%s' of component '%s' comes from '%s', which is "
                               "not a component (write sensor:%s for a sensor)",
                               g->path, l->line, l->port, c->name, l->src, l->src);
      if ((size_t)s == i)
        return rsim_errbuf_set(eb, RSIM_EGRAPH, "%s:%d: component '%s' feeds its own input '%s'",
                               g->path, l->line, c->name, l->port);
      l->src_index = (size_t)s;
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
      if (!g->nodes[i].inputs[j].src_is_sensor) indeg[i]++;
  size_t placed = 0;
  while (placed < g->n) {
    size_t pick = g->n;
    for (size_t i = 0; i < g->n && pick == g->n; i++)
      if (!done[i] && indeg[i] == 0) pick = i;
    if (pick == g->n) break;
    done[pick] = true;
    g->order[placed++] = pick;
    for (size_t i = 0; i < g->n; i++)
      for (size_t j = 0; j < g->nodes[i].n_inputs; j++) {
        const rsim__link *l = &g->nodes[i].inputs[j];
        if (!l->src_is_sensor && l->src_index == pick) indeg[i]--;
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

int rsim_graph_load(const char *path, rsim_graph **out, rsim_errbuf *eb) {
  *out = NULL;
  uint8_t *text;
  size_t len;
  int rc = rsim_read_file(path, 4u << 20, &text, &len, eb);
  if (rc) return rc;
  yaml_parser_t parser;
  loader L = {.path = path, .eb = eb};
  yaml_parser_initialize(&parser);
  yaml_parser_set_input_string(&parser, text, len);
  if (!yaml_parser_load(&parser, &L.doc)) {
    rc = rsim_errbuf_set(eb, RSIM_EGRAPH, "%s:%lu:%lu: YAML error: %s%s%s", path,
                         (unsigned long)parser.problem_mark.line + 1,
                         (unsigned long)parser.problem_mark.column + 1,
                         parser.problem ? parser.problem : "syntax error",
                         parser.context ? " " : "", parser.context ? parser.context : "");
    yaml_parser_delete(&parser);
    free(text);
    return rc;
  }
  rsim_graph *g = rsim_xcalloc(1, sizeof *g);
  g->path = rsim_xstrdup(path);
  g->name = rsim_xstrdup("graph");
  char *graph_dir = dir_of(path);
  rc = parse_root(&L, g, graph_dir);
  if (!rc) rc = resolve_links(g, eb);
  if (!rc) rc = topo_sort(g, eb);
  free(graph_dir);
  yaml_document_delete(&L.doc);
  yaml_parser_delete(&parser);
  free(text);
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
    free(c->world);
    free(c->export_name);
    free(c->trigger);
    for (size_t j = 0; j < c->n_inputs; j++) {
      free(c->inputs[j].port);
      free(c->inputs[j].src);
    }
    free(c->inputs);
    for (size_t j = 0; j < c->n_config; j++) {
      free(c->config[j].key);
      free(c->config[j].value);
    }
    free(c->config);
  }
  free(g->nodes);
  free(g->order);
  free(g->path);
  free(g->name);
  free(g);
}

size_t rsim_graph_n_components(const rsim_graph *g) { return g->n; }
const char *rsim_graph_component_name(const rsim_graph *g, size_t i) { return g->nodes[i].name; }
const char *rsim_graph_component_wasm(const rsim_graph *g, size_t i) {
  return g->nodes[i].wasm_path ? g->nodes[i].wasm_path : g->nodes[i].wasm_spec;
}
