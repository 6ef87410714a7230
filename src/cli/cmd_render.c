/*
** cmd_render.c -- `replaysim render GRAPH --store drive.db --at T --out
** frame.png` and `--every 1s --out DIR/`: the UI's layers drawn into PNGs
** by the compositor (src/viz), at exact instants (seek), for reports and CI.
*/
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "rsim/engine.h"
#include "rsim/viz.h"

static int usage(void) {
  fprintf(stderr, "usage: replaysim render GRAPH --store drive.db (--at T --out frame.png | --every D --out DIR/)\n"
                  "                        [--camera ID] [--lidar ID] [--scale PX_PER_M] [--require-hashes] [--threads N]\n"
                  "                        [sensor filters]\n"
                  "  T: ns since the epoch or a duration into the log (12.5s); clamped to the log\n");
  return CLI_USAGE;
}

static int render_one(rsim_engine *e, rsim_store *st, const rsim_render_opts *ro, rsim_time t, const char *path) {
  rsim_errbuf eb = {0};
  rsim_canvas *c = NULL;
  if (rsim_engine_seek(e, t)) return cli_fail("render: %s", rsim_engine_errmsg(e));
  if (rsim_viz_render(e, st, ro, &c, &eb) || rsim_canvas_write_png(c, path, &eb)) {
    rsim_canvas_free(c);
    return cli_fail("render: %s", eb.msg);
  }
  rsim_canvas_free(c);
  printf("wrote %s (t = %lld)\n", path, (long long)rsim_engine_time(e));
  return CLI_OK;
}

int cli_render(int argc, char **argv) {
  const char *graph = NULL, *store = NULL, *at = NULL, *every = NULL, *out = NULL, *v;
  rsim_render_opts ro = {0};
  cli_filters filters = {0};
  bool require_hashes = false;
  rsim_errbuf eb = {0};
  int64_t step = 0;
  int threads = 0, bad = 0;
  for (int i = 1; i < argc; i++) {
    if (cli_opt(argc, argv, &i, "--store", &v)) store = v;
    else if (cli_opt(argc, argv, &i, "--at", &v)) {
      rsim_time t; /* its form now, before anything is loaded; its value against the log below */
      if (rsim_parse_time_arg(v, 0, &t, &eb)) return cli_bad_value("render", "--at", &eb);
      at = v;
    }
    else if (cli_opt(argc, argv, &i, "--every", &v)) {
      if (rsim_parse_duration_arg(v, true, &step, &eb)) return cli_bad_value("render", "--every", &eb);
      every = v;
    }
    else if (cli_opt(argc, argv, &i, "--out", &v)) out = v;
    else if (cli_opt(argc, argv, &i, "--camera", &v)) ro.camera = v;
    else if (cli_opt(argc, argv, &i, "--lidar", &v)) ro.lidar = v;
    else if (cli_opt(argc, argv, &i, "--scale", &v)) {
      if (rsim_parse_real(v, 0.1, 1000, &ro.bev_scale, &eb)) return cli_bad_value("render", "--scale", &eb);
    }
    else if (!strcmp(argv[i], "--require-hashes")) require_hashes = true;
    else if (cli_threads_opt(argc, argv, &i, "render", &threads, &bad)) {
      if (bad) return bad;
    }
    else if (cli_filter_opt(argc, argv, &i, &filters)) continue;
    else if (argv[i][0] != '-' && !graph) graph = argv[i];
    else return usage();
  }
  if (!graph || !store || !out || !at == !every) return usage();
  rsim_graph *g = NULL;
  rsim_store *base = NULL, *st = NULL;
  rsim_engine *e = NULL;
  int code = CLI_FAIL;
  rsim_time log_from = 0; /* log lines count seconds from the start of the log */
  if (rsim_graph_load(graph, &g, &eb)) goto done;
  rsim_graph_require_hashes(g, require_hashes);
  if (cli_store_open(store, &filters, &base, &st, &eb)) goto done;
  rsim_engine_opts eo = {.store = st, .log_level = RSIM_LOG_ERROR, .log = cli_engine_log, .log_ud = &log_from,
                         .threads = threads};
  rsim_store_time_range(st, &log_from, &(rsim_time){0}); /* the engine's range: the whole log */
  if (rsim_engine_new(g, &eo, &e, &eb)) goto done;
  ro.title = graph;
  rsim_time from, to;
  rsim_engine_range(e, &from, &to);
  if (at) {
    rsim_time t;
    if (rsim_parse_time_arg(at, from, &t, &eb)) {
      code = cli_bad_value("render", "--at", &eb);
      eb.msg[0] = 0; /* said */
      goto done;
    }
    if (t < from || t > to) {
      fprintf(stderr, "render: --at is outside the log (%lld..%lld); clamped\n", (long long)from, (long long)to);
      t = t < from ? from : to;
    }
    code = render_one(e, st, &ro, t, out);
    goto done;
  }
  if (mkdir(out, 0777) && errno != EEXIST) {
    fprintf(stderr, "render: %s: %s\n", out, strerror(errno));
    goto done;
  }
  code = CLI_OK;
  /* Forward only: each frame goes on from the last, no re-simulation. */
  for (rsim_time t = from; t <= to && code == CLI_OK; t += step) {
    char path[1200];
    snprintf(path, sizeof path, "%s/frame-%09.3f.png", out, (double)(t - from) / 1e9);
    code = render_one(e, st, &ro, t, path);
  }
done:
  if (eb.msg[0]) cli_fail("render: %s", eb.msg);
  rsim_engine_free(e);
  if (st != base) rsim_store_close(st);
  rsim_store_close(base);
  rsim_graph_free(g);
  cli_filters_free(&filters);
  return code;
}
