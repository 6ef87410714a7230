/*
** filters.c -- the sensor filter, topic map and --on-corrupt options
** shared by the commands that open a store, opening a store with them (and
** showing its warnings), and the --from/--to range of `run` and `serve`.
*/
#include <stdio.h>
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
  if (cli_opt(argc, argv, i, "--topic", &v)) {
    if (!f->topic_err.code) rsim_topic_rule_add(v, &f->topics, &f->n_topics, &f->topic_err);
    return true;
  }
  if (cli_opt(argc, argv, i, "--topics", &v)) {
    rsim_topic_rule *r;
    size_t n;
    if (f->topic_err.code || rsim_topic_map_load(v, &r, &n, &f->topic_err)) return true;
    for (size_t k = 0; k < n; k++) { /* the file's rules go after --topic ones; a topic once */
      bool dup = false;
      for (size_t j = 0; j < f->n_topics; j++) dup |= !strcmp(f->topics[j].topic, r[k].topic);
      if (dup) {
        rsim_errbuf_set(&f->topic_err, RSIM_EINVAL, "%s: topic '%s' is also given with --topic", v, r[k].topic);
        break;
      }
      f->topics = rsim_xrealloc(f->topics, (f->n_topics + 1) * sizeof *f->topics);
      f->topics[f->n_topics++] = r[k];
      r[k].topic = r[k].id = NULL;
    }
    rsim_topic_rules_free(r, n);
    return true;
  }
  if (!strcmp(argv[*i], "--no-read-ahead")) {
    f->no_read_ahead = true;
    return true;
  }
  if (cli_opt(argc, argv, i, "--on-corrupt", &v)) {
    f->skip_corrupt = !strcmp(v, "skip");
    if (strcmp(v, "skip") && strcmp(v, "stop") && !f->topic_err.code)
      rsim_errbuf_set(&f->topic_err, RSIM_EINVAL, "--on-corrupt '%s': must be stop or skip", v);
    return true;
  }
  if (!cli_opt(argc, argv, i, "--sensors", &v)) return false;
  free(f->owned);
  f->owned = rsim_xstrdup(v);
  f->n_include = 0;
  char *save = NULL;
  for (char *p = strtok_r(f->owned, ",", &save); p; p = strtok_r(NULL, ",", &save))
    if (!push(f->include, &f->n_include, p)) return false;
  return true;
}

int cli_store_open(const char *path, cli_filters *f, rsim_store **base, rsim_store **st, rsim_errbuf *eb) {
  *base = *st = NULL;
  if (f->topic_err.code) return rsim_errbuf_set(eb, f->topic_err.code, "%s", f->topic_err.msg);
  rsim_store_opts o = {.topics = f->topics, .n_topics = f->n_topics, .skip_corrupt = f->skip_corrupt};
  int rc = rsim_store_open_opts(path, &o, base, eb);
  if (rc) return rc;
  if (!f->no_read_ahead) { /* the commands use base through it only, as it requires */
    rsim_readahead_opts ra = {.own_base = true};
    rsim_store *raw = *base;
    rsim_store_readahead(raw, &ra, base);
  }
  cli_store_warnings(*base, f);
  *st = *base;
  if (!f->n_include && !f->n_exclude && !f->n_remap) return RSIM_OK;
  rsim_store_filter sf = {f->include, f->n_include, f->exclude, f->n_exclude, f->remap, f->n_remap};
  return rsim_store_view(*base, &sf, st, eb);
}

void cli_store_warnings(rsim_store *st, cli_filters *f) {
  for (; f->warned < rsim_store_n_warnings(st); f->warned++)
    fprintf(stderr, "warning: %s\n", rsim_store_warning(st, f->warned));
}

void cli_filters_free(cli_filters *f) {
  free(f->owned);
  f->owned = NULL;
  rsim_topic_rules_free(f->topics, f->n_topics);
  f->topics = NULL;
  f->n_topics = 0;
}

bool cli_time_opt(int argc, char **argv, int *i, const char *verb, const char **from, const char **to, int *bad) {
  const char *v, *name = argv[*i];
  const char **dst = cli_opt(argc, argv, i, "--from", &v) ? from : cli_opt(argc, argv, i, "--to", &v) ? to : NULL;
  if (!dst) return false;
  rsim_time t;
  rsim_errbuf eb = {0};
  if (rsim_parse_time_arg(v, 0, &t, &eb)) *bad = cli_bad_value(verb, strncmp(name, "--from", 6) ? "--to" : "--from", &eb);
  *dst = v;
  return true;
}

/* One bound: parsed, then clamped to [first, last] and said so. */
static int bound(const char *verb, const char *name, const char *v, rsim_time first, rsim_time last, rsim_time *out,
                 rsim_errbuf *eb) {
  if (!v) return RSIM_OK;
  rsim_errbuf why = {0};
  if (rsim_parse_time_arg(v, first, out, &why)) return rsim_errbuf_set(eb, RSIM_EINVAL, "%s: %s: %s", verb, name, why.msg);
  if (*out < first || *out > last) {
    fprintf(stderr, "%s: %s is outside the log (%lld..%lld); clamped\n", verb, name, (long long)first, (long long)last);
    *out = *out < first ? first : last;
  }
  return RSIM_OK;
}

int cli_range(const char *verb, rsim_store *st, const char *from, const char *to, rsim_time *out_from,
              rsim_time *out_to, rsim_errbuf *eb) {
  rsim_time first, last;
  if (rsim_store_time_range(st, &first, &last))
    return rsim_errbuf_set(eb, RSIM_ENOTFOUND, "%s: %s", rsim_store_path(st), rsim_store_errmsg(st));
  int rc = bound(verb, "--from", from, first, last, out_from, eb);
  return rc ? rc : bound(verb, "--to", to, first, last, out_to, eb);
}
