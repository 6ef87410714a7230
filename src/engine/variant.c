/*
** variant.c -- the graph of an A/B run (`replaysim run --variant`): the
** same graph with one component's file and/or configuration replaced.
** Everything else is the graph as loaded from its file, so the variant's
** downstream components are the baseline's, fed the variant's outputs.
*/
#include <stdlib.h>
#include <string.h>

#include "engine/engine_int.h"

static void set_config(rsim__gnode *n, const char *key, const char *value) {
  for (size_t i = 0; i < n->n_config; i++)
    if (!strcmp(n->config[i].key, key)) {
      free(n->config[i].value);
      n->config[i].value = rsim_xstrdup(value);
      return;
    }
  n->config = rsim_xrealloc(n->config, (n->n_config + 1) * sizeof *n->config);
  n->config[n->n_config].key = rsim_xstrdup(key);
  n->config[n->n_config].value = rsim_xstrdup(value);
  n->n_config++;
}

int rsim_graph_variant(const rsim_graph *g, const char *component, const char *wasm, const rsim_kv *config,
                       size_t n_config, rsim_graph **out, rsim_errbuf *eb) {
  *out = NULL;
  rsim__gnode *n = NULL;
  for (size_t i = 0; i < g->n; i++)
    if (!strcmp(g->nodes[i].name, component)) n = &g->nodes[i];
  if (!n) return rsim_errbuf_set(eb, RSIM_ENOTFOUND, "%s: no component '%s' to replace", g->path, component);
  if (wasm && !rsim_file_readable(wasm))
    return rsim_errbuf_set(eb, RSIM_ENOTFOUND, "variant of '%s': cannot read %s", component, wasm);
  rsim_graph *v = NULL;
  int rc = rsim_graph_load(g->path, &v, eb);
  if (rc) return rc;
  v->require_hashes = g->require_hashes;
  for (size_t i = 0; i < v->n; i++) {
    rsim__gnode *m = &v->nodes[i];
    if (strcmp(m->name, component)) continue;
    if (wasm) {
      free(m->wasm_spec);
      free(m->wasm_path);
      m->wasm_spec = rsim_xstrdup(wasm);
      m->wasm_path = rsim_xstrdup(wasm);
      /* The pin names the baseline's file; the replacement is the user's
      ** choice, refused under require_hashes like any unpinned file. */
      free(m->sha256);
      m->sha256 = NULL;
    }
    for (size_t k = 0; k < n_config; k++) set_config(m, config[k].key, config[k].value);
  }
  *out = v;
  return RSIM_OK;
}
