/*
** variant.c -- A/B runs for `replaysim run --variant COMPONENT[=FILE.wasm]
** [--variant-config KEY=VALUE] [--out-variant run_b.db]`: the baseline
** graph and its variant (rsim_graph_variant) run side by side in one
** command, two engines stepped in lockstep, instant by instant.
**
** Both read the drive through one rsim_store_shared: their main cursors
** (same range, same sensors) share one read, each reading kept until both
** have taken it, so lockstep keeps about one instant's readings in memory.
** The baseline engine is built as a plain run builds it, so its digest is a
** plain run's.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "rsim/engine.h"
#include "rsim/record.h"

bool cli_variant_opt(int argc, char **argv, int *i, cli_variant *v, int *bad) {
  const char *val;
  if (cli_opt(argc, argv, i, "--variant", &val)) {
    if (v->component) {
      fprintf(stderr, "replaysim run: --variant: one component a run (given twice)\n");
      *bad = CLI_USAGE;
      return true;
    }
    const char *eq = strchr(val, '=');
    v->spec = val;
    v->component = v->owned[v->n_owned++] = eq ? rsim_xstrndup(val, (size_t)(eq - val)) : rsim_xstrdup(val);
    v->wasm = eq && eq[1] ? eq + 1 : NULL;
    if (!v->component[0]) {
      fprintf(stderr, "replaysim run: --variant '%s': expected COMPONENT[=FILE.wasm]\n", val);
      *bad = CLI_USAGE;
    }
    return true;
  }
  if (cli_opt(argc, argv, i, "--variant-config", &val)) {
    const char *eq = strchr(val, '=');
    if (!eq || eq == val || v->n_config == sizeof v->config / sizeof *v->config) {
      fprintf(stderr, "replaysim run: --variant-config '%s': expected KEY=VALUE (at most 32)\n", val);
      *bad = CLI_USAGE;
      return true;
    }
    rsim_kv *kv = &v->config[v->n_config++];
    kv->key = v->owned[v->n_owned++] = rsim_xstrndup(val, (size_t)(eq - val));
    kv->value = (char *)eq + 1;
    return true;
  }
  if (cli_opt(argc, argv, i, "--out-variant", &val)) {
    v->out = val;
    return true;
  }
  return false;
}

rsim_store *cli_variant_store(cli_variant *v, rsim_store *st) {
  rsim_store_shared(st, 0, &v->shared);
  return v->shared;
}

int cli_variant_start(cli_variant *v, const rsim_graph *g, const rsim_engine_opts *base_opts, const char *graph,
                      const char *store, bool overwrite, rsim_errbuf *eb) {
  if (rsim_graph_variant(g, v->component, v->wasm, v->config, v->n_config, &v->g, eb)) return CLI_FAIL;
  rsim_engine_opts o = *base_opts;
  o.record = NULL;
  o.checkpoint_dir = NULL;
  if (v->out) {
    if (rsim_record_open(v->out, overwrite, &v->rec, eb)) return CLI_FAIL;
    int rc = rsim_record_set(v->rec, "graph", graph);
    if (!rc) rc = rsim_record_set(v->rec, "store", store);
    if (!rc) rc = rsim_record_set(v->rec, "variant", v->spec);
    for (size_t i = 0; !rc && i < v->n_config; i++) {
      char key[300];
      snprintf(key, sizeof key, "variant.config.%s", v->config[i].key);
      rc = rsim_record_set(v->rec, key, v->config[i].value);
    }
    if (rc) return rsim_errbuf_set(eb, rc, "run: %s", rsim_record_errmsg(v->rec)), CLI_FAIL;
    o.record = v->rec;
  }
  if (rsim_engine_new(v->g, &o, &v->e, eb)) {
    char msg[sizeof eb->msg];
    snprintf(msg, sizeof msg, "%s", eb->msg);
    rsim_errbuf_set(eb, eb->code, "variant %s: %s", v->spec, msg);
    return CLI_FAIL;
  }
  return CLI_OK;
}

/* Both engines instant by instant; one that stops (its end, or an error)
** leaves the other to go on alone.  Returns the baseline's code. */
int cli_variant_play(cli_variant *v, rsim_engine *base) {
  int ra = RSIM_OK, rb = RSIM_OK;
  while (ra == RSIM_OK || rb == RSIM_OK) {
    if (ra == RSIM_OK) ra = rsim_engine_step(base);
    if (rb == RSIM_OK) rb = rsim_engine_step(v->e);
  }
  v->rc = rb;
  return ra;
}

int cli_variant_report(cli_variant *v, bool component_digests, rsim_errbuf *eb) {
  printf("variant %s", v->spec);
  for (size_t i = 0; i < v->n_config; i++) printf("%s%s=%s", i ? ", " : " with ", v->config[i].key, v->config[i].value);
  printf(":\n");
  for (size_t i = 0; i < rsim_engine_n_components(v->e); i++) {
    rsim_component_stats s;
    rsim_engine_stats(v->e, i, &s);
    printf("  %-14s %8llu calls %8llu outputs %7llu errors\n", s.name, (unsigned long long)s.calls,
           (unsigned long long)s.outputs, (unsigned long long)s.errors);
    if (v->rec) rsim_record_stats(v->rec, &s);
  }
  char hex[65];
  rsim_engine_digest(v->e, hex);
  bool ok = v->rc == RSIM_EEOF;
  if (v->rec) {
    /* As the baseline's: 'complete' only when it played to its end, and
    ** close says the first recording error. */
    rsim_record_set(v->rec, "digest", hex);
    rsim_record_finish(v->rec, ok ? NULL : rsim_engine_errmsg(v->e));
    int crc = rsim_record_close(v->rec, eb);
    v->rec = NULL;
    if (crc) return CLI_FAIL;
    printf("variant outputs recorded in %s\n", v->out);
  }
  for (size_t i = 0; component_digests && i < rsim_engine_n_components(v->e); i++) {
    char chex[65];
    rsim_engine_component_digest(v->e, i, chex);
    printf("digest of variant %s%s: %s\n", rsim_graph_component_name(v->g, i), ok ? "" : " (partial)", chex);
  }
  /* Not "digest: ": that line is the baseline's, the last, as in a plain run. */
  printf("digest of variant%s: %s\n", ok ? "" : " (partial)", hex);
  printf("drive read once for both runs: %llu readings (the variant took %llu)\n",
         (unsigned long long)rsim_store_shared_reads(v->shared), (unsigned long long)rsim_engine_readings(v->e));
  if (ok) return CLI_OK;
  if (!eb->msg[0]) {
    const char *why = rsim_engine_errmsg(v->e);
    rsim_errbuf_set(eb, v->rc, "run: variant %s: %s", v->spec, why[0] ? why : rsim_strerror(v->rc));
  }
  return CLI_FAIL;
}

void cli_variant_free(cli_variant *v) {
  rsim_engine_free(v->e);
  if (v->rec) rsim_record_close(v->rec, NULL); /* only on the way out of a failed run, whose error is said */
  rsim_graph_free(v->g);
  rsim_store_close(v->shared);
  for (size_t i = 0; i < v->n_owned; i++) free(v->owned[i]);
  memset(v, 0, sizeof *v);
}
