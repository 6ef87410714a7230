/*
** cmd_check.c -- `replaysim check`, `replaysim inspect` and `replaysim info`:
** the commands that look at graphs, components and stores without running.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "rsim/engine.h"
#include "rsim/store.h"
#include "rsim/wasm.h"

int cli_check(int argc, char **argv) {
  const char *graph = NULL, *store = NULL, *v;
  cli_filters filters = {0};
  bool require_hashes = false;
  for (int i = 1; i < argc; i++) {
    if (cli_opt(argc, argv, &i, "--store", &v)) store = v;
    else if (!strcmp(argv[i], "--require-hashes")) require_hashes = true;
    else if (cli_filter_opt(argc, argv, &i, &filters)) continue;
    else if (argv[i][0] != '-' && !graph) graph = argv[i];
    else {
      fprintf(stderr, "usage: replaysim check GRAPH [--store drive.db|drive.mcap] [--require-hashes] [--topics MAP.yaml] ...\n");
      return CLI_USAGE;
    }
  }
  if (!graph) {
    fprintf(stderr, "usage: replaysim check GRAPH [--store drive.db]\n");
    return CLI_USAGE;
  }
  rsim_errbuf eb = {0};
  rsim_graph *g;
  if (rsim_graph_load(graph, &g, &eb)) {
    fprintf(stderr, "%s\n", eb.msg);
    return CLI_FAIL;
  }
  rsim_graph_require_hashes(g, require_hashes);
  rsim_store *st = NULL, *base = NULL;
  if (store && cli_store_open(store, &filters, &base, &st, &eb)) {
    fprintf(stderr, "%s\n", eb.msg);
    rsim_store_close(base);
    rsim_graph_free(g);
    cli_filters_free(&filters);
    return CLI_FAIL;
  }
  rsim_buf report = {0};
  int rc = rsim_graph_check(g, st, &report, &eb);
  if (rc) {
    if (report.len) fwrite(report.data, 1, report.len, stderr);
    else fprintf(stderr, "%s\n", eb.msg);
  } else {
    printf("%s: ok, %zu components", graph, rsim_graph_n_components(g));
    printf(store ? ", sensors present in %s\n" : " (no --store: sensors not checked)\n", store);
  }
  rsim_buf_free(&report);
  if (st != base) rsim_store_close(st);
  rsim_store_close(base);
  rsim_graph_free(g);
  cli_filters_free(&filters);
  return rc ? CLI_FAIL : CLI_OK;
}

int cli_inspect(int argc, char **argv) {
  if (argc != 2 || argv[1][0] == '-') {
    fprintf(stderr, "usage: replaysim inspect COMPONENT.wasm\n");
    return CLI_USAGE;
  }
  rsim_errbuf eb = {0};
  rsim_wasm_engine *we;
  rsim_component *c;
  if (rsim_wasm_engine_new(&we, &eb)) {
    fprintf(stderr, "%s\n", eb.msg);
    return CLI_FAIL;
  }
  if (rsim_component_load(we, argv[1], &c, &eb)) {
    fprintf(stderr, "%s\n", eb.msg);
    rsim_wasm_engine_free(we);
    return CLI_FAIL;
  }
  rsim_buf out = {0};
  rsim_component_describe(c, &out);
  fwrite(out.data, 1, out.len, stdout);
  rsim_buf_free(&out);
  rsim_component_free(c);
  rsim_wasm_engine_free(we);
  return CLI_OK;
}

int cli_info(int argc, char **argv) {
  const char *path = NULL;
  cli_filters filters = {0};
  for (int i = 1; i < argc; i++) {
    if (cli_filter_opt(argc, argv, &i, &filters)) continue;
    if (argv[i][0] != '-' && !path) path = argv[i];
    else path = NULL, i = argc;
  }
  if (!path) {
    fprintf(stderr, "usage: replaysim info STORE [--topics MAP.yaml] [--topic TOPIC=ID[:KIND]] [--sensors ...]\n");
    cli_filters_free(&filters);
    return CLI_USAGE;
  }
  rsim_errbuf eb = {0};
  rsim_store *st, *base;
  int orc = cli_store_open(path, &filters, &base, &st, &eb);
  cli_filters_free(&filters);
  if (orc) {
    fprintf(stderr, "%s\n", eb.msg);
    rsim_store_close(base);
    return CLI_FAIL;
  }
  const rsim_sensor_info *s;
  size_t n;
  rsim_time t0 = 0, t1 = 0;
  int rc = rsim_store_sensors(st, &s, &n);
  if (!rc) rc = rsim_store_time_range(st, &t0, &t1);
  if (rc) {
    fprintf(stderr, "%s\n", rsim_store_errmsg(st));
    if (st != base) rsim_store_close(st);
    rsim_store_close(base);
    return CLI_FAIL;
  }
  char d[32];
  rsim_format_duration(t1 - t0, d, sizeof d);
  printf("store:    %s\nstart:    %lld ns\nend:      %lld ns\nduration: %s\nsensors:  %zu\n\n",
         path, (long long)t0, (long long)t1, d, n);
  printf("  %-20s %-11s %9s %10s\n", "id", "kind", "rate", "readings");
  int code = CLI_OK;
  for (size_t i = 0; i < n && code == CLI_OK; i++) {
    int64_t count = 0;
    if (rsim_store_count(st, s[i].id, &count)) code = cli_fail("%s", rsim_store_errmsg(st));
    else
      printf("  %-20s %-11s %7.1f Hz %10lld\n", s[i].id, rsim_sensor_kind_name(s[i].kind), s[i].rate_hz,
             (long long)count);
  }
  if (st != base) rsim_store_close(st);
  rsim_store_close(base);
  return code;
}
