/*
** cmd_generate.c -- `replaysim generate`: writes a synthetic drive.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "rsim/gen.h"
#include "rsim/store.h"

static void on_progress(void *ud, double f) {
  cli_progress_update(ud, f, NULL);
}

int cli_generate(int argc, char **argv) {
  const char *out = NULL, *v;
  int64_t duration = 60 * RSIM_NS_PER_S;
  uint64_t seed = 1;
  rsim_time start = RSIM_GEN_DEFAULT_START;
  bool overwrite = false, quiet = false;
  rsim_gen_rig rig = RSIM_GEN_RIG_DEFAULT;
  rsim_store_opts so = {.foxglove = true}; /* an MCAP drive opens in Foxglove */
  rsim_errbuf eb = {0};
  for (int i = 1; i < argc; i++) {
    if (cli_opt(argc, argv, &i, "--out", &v)) out = v;
    else if (cli_opt(argc, argv, &i, "--duration", &v)) {
      if (rsim_parse_duration_arg(v, true, &duration, &eb)) return cli_bad_value("generate", "--duration", &eb);
    } else if (cli_opt(argc, argv, &i, "--seed", &v)) {
      if (rsim_parse_uint(v, &seed, &eb)) return cli_bad_value("generate", "--seed", &eb);
    } else if (cli_opt(argc, argv, &i, "--start", &v)) {
      if (rsim_parse_time_arg(v, 0, &start, &eb)) return cli_bad_value("generate", "--start", &eb);
    } else if (cli_opt(argc, argv, &i, "--rig", &v)) {
      if (rsim_gen_rig_parse(v, &rig)) {
        fprintf(stderr, "generate: --rig '%s': must be default or surround\n", v);
        return CLI_USAGE;
      }
    } else if (cli_opt(argc, argv, &i, "--schemas", &v) && (!strcmp(v, "foxglove") || !strcmp(v, "rsim")))
      so.foxglove = !strcmp(v, "foxglove");
    else if (!strcmp(argv[i], "--overwrite")) overwrite = true;
    else if (!strcmp(argv[i], "--quiet")) quiet = true;
    else {
      fprintf(stderr, "usage: replaysim generate --out drive.db|drive.mcap [--duration 60s] [--seed N] "
                      "[--start NS] [--overwrite] [--quiet]\n"
                      "                         [--rig default|surround]   (surround: cameras and radars on four sides)\n"
                      "                         [--schemas foxglove|rsim]   (MCAP: Foxglove schemas by default)\n");
      return CLI_USAGE;
    }
  }
  if (!out) {
    fprintf(stderr, "generate: --out FILE is required\n");
    return CLI_USAGE;
  }
  rsim_store *st;
  if (rsim_store_create_opts(out, overwrite, &so, &st, &eb)) return cli_fail("generate: %s", eb.msg);
  cli_progress pr;
  cli_progress_init(&pr, "generating");
  rsim_gen_opts o = {.duration_ns = duration, .seed = seed, .start = start, .rig = rig};
  if (!quiet) {
    o.progress = on_progress;
    o.progress_ud = &pr;
  }
  int64_t t0 = rsim_monotonic_ns();
  int rc = rsim_generate(st, &o, &eb);
  /* An MCAP output is written out here: a full disk shows up now. */
  if (!rc && (rc = rsim_store_finish(st))) rsim_errbuf_set(&eb, rc, "%s", rsim_store_errmsg(st));
  rsim_store_close(st);
  if (rc) return cli_fail("\ngenerate: %s", eb.msg[0] ? eb.msg : rsim_strerror(rc));
  char d[32], w[32];
  rsim_format_duration(duration, d, sizeof d);
  rsim_format_duration(rsim_monotonic_ns() - t0, w, sizeof w);
  if (!quiet) cli_progress_done(&pr, NULL);
  printf("wrote %s: %s synthetic drive%s, seed %llu, in %s\n", out, d, rig ? " (surround rig)" : "",
         (unsigned long long)seed, w);
  return CLI_OK;
}
