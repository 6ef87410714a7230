/*
** view.c -- a filtered, renamed view over another store (rsim_store_view):
** the sensors it shows are those the patterns let through, under their
** remapped ids; every call translates ids on the way in and out and
** delegates to the base store.
**
** Invariant: names[i] (the id shown) and base_ids[i] (the id in the base
** store) describe the same visible sensor; remapped ids must not collide.
*/
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

typedef struct view {
  rsim_store *base;
  char **shown, **base_ids; /* parallel, one per visible sensor */
  size_t n;
} view;

#define V(st) ((view *)(st)->impl)

static const char *to_base(const view *v, const char *id) {
  for (size_t i = 0; i < v->n; i++)
    if (!strcmp(v->shown[i], id)) return v->base_ids[i];
  return NULL;
}

static const char *to_shown(const view *v, const char *base_id) {
  for (size_t i = 0; i < v->n; i++)
    if (!strcmp(v->base_ids[i], base_id)) return v->shown[i];
  return NULL;
}

static int pass(rsim_store *st, int rc) {
  if (rc && rc != RSIM_EEOF && rc != RSIM_ENOTFOUND)
    return rsim__store_err(st, rc, "%s", rsim_store_errmsg(V(st)->base));
  return rc;
}

static void be_close(rsim_store *st) {
  view *v = V(st);
  for (size_t i = 0; v && i < v->n; i++) {
    free(v->shown[i]);
    free(v->base_ids[i]);
  }
  if (v) {
    free(v->shown);
    free(v->base_ids);
  }
  free(v);
}

static int be_load_sensors(rsim_store *st) {
  view *v = V(st);
  const rsim_sensor_info *s;
  size_t n;
  int rc = rsim_store_sensors(v->base, &s, &n);
  if (rc) return pass(st, rc);
  st->sensors = rsim_xcalloc(v->n ? v->n : 1, sizeof *st->sensors);
  for (size_t i = 0; i < v->n; i++) {
    const rsim_sensor_info *b = rsim_store_sensor(v->base, v->base_ids[i]);
    rsim_sensor_info *c = &st->sensors[st->n_sensors++];
    c->id = rsim_xstrdup(v->shown[i]);
    c->kind = b->kind;
    c->rate_hz = b->rate_hz;
    c->n_meta = b->n_meta;
    c->meta = rsim_xcalloc(b->n_meta ? b->n_meta : 1, sizeof *c->meta);
    for (size_t k = 0; k < b->n_meta; k++) {
      c->meta[k].key = rsim_xstrdup(b->meta[k].key);
      c->meta[k].value = rsim_xstrdup(b->meta[k].value);
    }
  }
  rsim__store_sort_sensors(st);
  return RSIM_OK;
}

/* The first and last time over the visible sensors only. */
static int be_time_range(rsim_store *st, rsim_time *first, rsim_time *last) {
  view *v = V(st);
  bool any = false;
  for (size_t i = 0; i < v->n; i++) {
    rsim_reading r = {0};
    rsim_cursor *c;
    const rsim_reading *x;
    const char *id[1] = {v->base_ids[i]};
    if (rsim_store_cursor_open(v->base, INT64_MIN, INT64_MAX, id, 1, &c)) return pass(st, RSIM_EBACKEND);
    int rc = rsim_cursor_next(c, &x);
    rsim_time t0 = rc == RSIM_OK ? x->t : 0;
    rsim_cursor_close(c);
    if (rc == RSIM_EEOF) continue;
    if (rc) return pass(st, rc);
    if (rsim_store_reading_at(v->base, v->base_ids[i], INT64_MAX, &r)) return pass(st, RSIM_EBACKEND);
    if (!any || t0 < *first) *first = t0;
    if (!any || r.t > *last) *last = r.t;
    rsim_reading_clear(&r);
    any = true;
  }
  return any ? RSIM_OK : rsim__store_err(st, RSIM_ENOTFOUND, "%s: the filters leave no readings", st->path);
}

static int be_count(rsim_store *st, const char *id, int64_t *n) {
  view *v = V(st);
  if (id) return pass(st, rsim_store_count(v->base, to_base(v, id), n));
  *n = 0;
  for (size_t i = 0; i < v->n; i++) {
    int64_t k;
    int rc = rsim_store_count(v->base, v->base_ids[i], &k);
    if (rc) return pass(st, rc);
    *n += k;
  }
  return RSIM_OK;
}

typedef struct vcursor {
  rsim_store *st; /* first, see store.c */
  rsim_cursor *inner;
  rsim_reading cur; /* the base reading, lent, with the id swapped */
} vcursor;

/* One base cursor over the visible sensors: equal-time readings come in
** base-id order, which is also shown-id order because rsim_store_view
** refuses remaps that would reorder sensors. */
static int be_cursor_open(rsim_store *st, rsim_time t0, rsim_time t1, const char *const *ids, size_t n,
                          rsim_cursor **out) {
  view *v = V(st);
  const char **base = rsim_xcalloc(n ? n : 1, sizeof *base);
  for (size_t i = 0; i < n; i++) base[i] = to_base(v, ids[i]);
  vcursor *c = rsim_xcalloc(1, sizeof *c);
  c->st = st;
  int rc = rsim_store_cursor_open(v->base, t0, t1, base, n, &c->inner);
  free(base);
  if (rc) {
    free(c);
    return pass(st, rc);
  }
  *out = (rsim_cursor *)c;
  return RSIM_OK;
}

static int be_cursor_next(rsim_cursor *cc, const rsim_reading **out) {
  vcursor *c = (vcursor *)cc;
  const rsim_reading *r;
  int rc = rsim_cursor_next(c->inner, &r);
  if (rc) return pass(c->st, rc);
  c->cur = *r;
  c->cur.sensor_id = (char *)to_shown(V(c->st), r->sensor_id);
  *out = &c->cur;
  return RSIM_OK;
}

static int be_cursor_peek_time(rsim_cursor *cc, rsim_time *out) {
  vcursor *c = (vcursor *)cc;
  return pass(c->st, rsim_cursor_peek_time(c->inner, out));
}

static void be_cursor_close(rsim_cursor *cc) {
  vcursor *c = (vcursor *)cc;
  rsim_cursor_close(c->inner);
  free(c);
}

static int be_reading_at(rsim_store *st, const char *id, rsim_time t, rsim_reading *out) {
  view *v = V(st);
  const char *b = to_base(v, id);
  if (!b) return rsim__store_err(st, RSIM_ENOTFOUND, "%s: no sensor '%s'", st->path, id);
  int rc = rsim_store_reading_at(v->base, b, t, out);
  if (rc) return pass(st, rc);
  free(out->sensor_id);
  out->sensor_id = rsim_xstrdup(id);
  return RSIM_OK;
}

static int be_get_meta(rsim_store *st, const char *key, char **out) {
  return pass(st, rsim_store_get_meta(V(st)->base, key, out));
}

static int be_truth(rsim_store *st, rsim_time t0, rsim_time t1, rsim_truth **out, size_t *n) {
  return pass(st, rsim_store_truth(V(st)->base, t0, t1, out, n));
}

static const rsim__store_backend rsim__store_view = {
    .name = "view",
    .close = be_close,
    .load_sensors = be_load_sensors,
    .time_range = be_time_range,
    .count = be_count,
    .cursor_open = be_cursor_open,
    .cursor_next = be_cursor_next,
    .cursor_peek_time = be_cursor_peek_time,
    .cursor_close = be_cursor_close,
    .reading_at = be_reading_at,
    .get_meta = be_get_meta,
    .truth = be_truth,
};

static bool matches_any(const char *id, const char *const *pats, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!fnmatch(pats[i], id, 0)) return true;
  return false;
}

int rsim_store_view(rsim_store *base, const rsim_store_filter *f, rsim_store **out, rsim_errbuf *eb) {
  *out = NULL;
  const rsim_sensor_info *s;
  size_t n;
  if (rsim_store_sensors(base, &s, &n)) return rsim_errbuf_set(eb, RSIM_EBACKEND, "%s", rsim_store_errmsg(base));
  for (size_t k = 0; k < f->n_remap; k++) {
    const char *eq = strchr(f->remap[k], '=');
    if (!eq || eq == f->remap[k] || !eq[1])
      return rsim_errbuf_set(eb, RSIM_EINVAL, "--remap '%s': expected OLD=NEW", f->remap[k]);
  }
  view *v = rsim_xcalloc(1, sizeof *v);
  v->base = base;
  v->shown = rsim_xcalloc(n ? n : 1, sizeof *v->shown);
  v->base_ids = rsim_xcalloc(n ? n : 1, sizeof *v->base_ids);
  int rc = RSIM_OK;
  for (size_t i = 0; i < n && !rc; i++) {
    if (f->n_include && !matches_any(s[i].id, f->include, f->n_include)) continue;
    if (matches_any(s[i].id, f->exclude, f->n_exclude)) continue;
    const char *shown = s[i].id;
    for (size_t k = 0; k < f->n_remap; k++) {
      const char *eq = strchr(f->remap[k], '=');
      if ((size_t)(eq - f->remap[k]) == strlen(s[i].id) && !strncmp(f->remap[k], s[i].id, (size_t)(eq - f->remap[k])))
        shown = eq + 1;
    }
    if (to_base(v, shown)) rc = rsim_errbuf_set(eb, RSIM_EINVAL, "--remap: two sensors would be called '%s'", shown);
    v->shown[v->n] = rsim_xstrdup(shown);
    v->base_ids[v->n++] = rsim_xstrdup(s[i].id);
  }
  /* Equal-time readings come in base-id order from the base cursor; the
  ** view promises shown-id order, so remaps must keep the relative order. */
  for (size_t i = 0; !rc && i < v->n; i++)
    for (size_t j = i + 1; j < v->n; j++)
      if ((strcmp(v->base_ids[i], v->base_ids[j]) < 0) != (strcmp(v->shown[i], v->shown[j]) < 0)) {
        rc = rsim_errbuf_set(eb, RSIM_ENOTSUP,
                             "--remap: renaming '%s' and '%s' would change their order; choose names that "
                             "sort the same way",
                             v->base_ids[i], v->base_ids[j]);
        break;
      }
  rsim_store *st = rsim_xcalloc(1, sizeof *st);
  st->be = &rsim__store_view;
  st->impl = v;
  st->path = rsim_xstrdup(rsim_store_path(base));
  st->warn_base = base;
  if (!rc && !v->n) rc = rsim_errbuf_set(eb, RSIM_ENOTFOUND, "%s: the sensor filters leave no sensor", st->path);
  if (rc) {
    rsim_store_close(st);
    return rc;
  }
  *out = st;
  return RSIM_OK;
}
