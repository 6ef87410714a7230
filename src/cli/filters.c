/*
** filters.c -- the sensor filter options shared by `run` and `check`.
*/
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static bool push(const char **arr, size_t *n, const char *v) {
  if (*n >= 32) return false;
  arr[(*n)++] = v;
  return true;
}

bool cli_filter_opt(int argc, char **argv, int *i, cli_filters *f) {
  const char *v;
  if (cli_opt(argc, argv, i, "--exclude", &v)) return push(f->exclude, &f->n_exclude, v);
  if (cli_opt(argc, argv, i, "--remap", &v)) return push(f->remap, &f->n_remap, v);
  if (!cli_opt(argc, argv, i, "--sensors", &v)) return false;
  free(f->owned);
  f->owned = rsim_xstrdup(v);
  f->n_include = 0;
  char *save = NULL;
  for (char *p = strtok_r(f->owned, ",", &save); p; p = strtok_r(NULL, ",", &save))
    if (!push(f->include, &f->n_include, p)) return false;
  return true;
}

int cli_filter_apply(cli_filters *f, rsim_store *base, rsim_store **st, rsim_errbuf *eb) {
  *st = base;
  if (!f->n_include && !f->n_exclude && !f->n_remap) return RSIM_OK;
  rsim_store_filter sf = {f->include, f->n_include, f->exclude, f->n_exclude, f->remap, f->n_remap};
  return rsim_store_view(base, &sf, st, eb);
}

void cli_filters_free(cli_filters *f) {
  free(f->owned);
  f->owned = NULL;
}
