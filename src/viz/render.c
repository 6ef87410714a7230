/*
** render.c -- the UI's layers for the engine's current instant, composed
** into one image: the camera frame with the detections' boxes (left), the
** bird's-eye view (right), a title line and an overlay of time and speed.
**
** Which output is drawn how is decided by its WIT structure, as the UI and
** the MCAP recorder do: a list of records with a `bbox` is boxes on the
** camera; a list of records with a `position` is tracks (or, with a
** `classification`, fused objects) in the bird's-eye view; a record with a
** `points` list of (x, y) is the plan.
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "viz/viz_int.h"

#define BEV_X (RSIM_VIZ_CAM_X + RSIM_VIZ_CAM_W + 10)
#define BEV_Y RSIM_VIZ_CAM_Y
#define BEV_W 510
#define BEV_H RSIM_VIZ_CAM_H
#define CANVAS_W (BEV_X + BEV_W + 10)
#define CANVAS_H (RSIM_VIZ_CAM_Y + RSIM_VIZ_CAM_H + 10)

static const uint8_t kBg[3] = {20, 22, 26}, kPanel[3] = {12, 13, 16}, kText[3] = {230, 230, 230},
                     kDim[3] = {154, 163, 173}, kGrid[3] = {34, 38, 45}, kLidar[3] = {91, 107, 122},
                     kTruth[3] = {138, 143, 152}, kTrack[3] = {245, 215, 110}, kPlan[3] = {126, 224, 129},
                     kEgo[3] = {255, 255, 255};

void rsim_viz_class_colour(const char *cls, uint8_t rgb[3]) {
  static const struct {
    const char *name;
    uint8_t rgb[3];
  } k[] = {{"car", {74, 163, 255}}, {"truck", {255, 181, 71}}, {"pedestrian", {255, 95, 126}}, {"cyclist", {126, 224, 129}}};
  for (size_t i = 0; i < sizeof k / sizeof *k; i++)
    if (cls && !strcmp(cls, k[i].name)) {
      memcpy(rgb, k[i].rgb, 3);
      return;
    }
  memset(rgb, 255, 3);
}

/* ---- reading outputs by their shape ----------------------------------------------------- */

static const rsim_val *member(const rsim_val *v, const rsim_type *t, const char *name, const rsim_type **mt) {
  if (mt) *mt = rsim_type_field(t, name);
  return rsim_val_field(v, t, name);
}

static const char *str(const rsim_val *v) { return v && v->kind == RSIM_STRING ? v->of.str.ptr : NULL; }

/* The element type of a list of records that have field `name`, or NULL. */
static const rsim_type *list_of_records_with(const rsim_type *t, const char *name) {
  if (!t || t->kind != RSIM_LIST || !t->types[0] || t->types[0]->kind != RSIM_RECORD) return NULL;
  return rsim_type_member(t->types[0], name) >= 0 ? t->types[0] : NULL;
}

/* ---- panels ---------------------------------------------------------------------------------- */

static void camera_panel(rsim_canvas *c, rsim_engine *e, rsim_store *st, const char *cam, unsigned layers) {
  rsim__fill(c, RSIM_VIZ_CAM_X, RSIM_VIZ_CAM_Y, RSIM_VIZ_CAM_W, RSIM_VIZ_CAM_H, kPanel, 255);
  rsim_reading r = {0};
  double sx = 1, sy = 1;
  if (cam && rsim_store_reading_at(st, cam, rsim_engine_time(e), &r) == RSIM_OK) {
    int w, h, bpp;
    if (rsim_reading_frame(&r, &w, &h, &bpp)) {
      rsim__blit(c, RSIM_VIZ_CAM_X, RSIM_VIZ_CAM_Y, RSIM_VIZ_CAM_W, RSIM_VIZ_CAM_H, r.payload, w, h, bpp);
      sx = (double)RSIM_VIZ_CAM_W / w;
      sy = (double)RSIM_VIZ_CAM_H / h;
    }
    rsim_reading_clear(&r);
  }
  if (!(layers & RSIM_LAYER_BOXES)) return;
  rsim__clip(c, RSIM_VIZ_CAM_X, RSIM_VIZ_CAM_Y, RSIM_VIZ_CAM_W, RSIM_VIZ_CAM_H);
  for (size_t i = 0; i < rsim_engine_n_components(e); i++) {
    const rsim_type *t;
    const rsim_val *v = rsim_engine_output(e, i, &t, NULL);
    const rsim_type *et = v ? list_of_records_with(t, "bbox") : NULL;
    for (size_t k = 0; et && v->kind == RSIM_LIST && k < v->of.agg.n; k++) {
      const rsim_val *o = &v->of.agg.items[k];
      const rsim_type *bt;
      const rsim_val *b = member(o, et, "bbox", &bt);
      if (!b) continue;
      uint8_t col[3];
      rsim_viz_class_colour(str(member(o, et, "class", NULL)), col);
      int x = RSIM_VIZ_CAM_X + (int)lround(rsim_val_number(member(b, bt, "x", NULL)) * sx);
      int y = RSIM_VIZ_CAM_Y + (int)lround(rsim_val_number(member(b, bt, "y", NULL)) * sy);
      int w = (int)lround(rsim_val_number(member(b, bt, "width", NULL)) * sx), h = (int)lround(rsim_val_number(member(b, bt, "height", NULL)) * sy);
      rsim__rect(c, x, y, w, h, 2, col);
      char label[64];
      snprintf(label, sizeof label, "%s %.0f%%", str(member(o, et, "class", NULL)) ? str(member(o, et, "class", NULL)) : "?",
               100 * rsim_val_number(member(o, et, "confidence", NULL)));
      rsim__text(c, x, y > RSIM_VIZ_CAM_Y + 14 ? y - 4 : y + h + 13, 12, label, col);
    }
  }
  rsim__unclip(c);
}

typedef struct bev {
  double scale;
} bev;

static void to_px(const bev *b, double x, double y, double *px, double *py) {
  *px = BEV_X + BEV_W / 2.0 - y * b->scale;
  *py = BEV_Y + BEV_H * 0.8 - x * b->scale;
}

/* A box of length along x and width along y, turned by heading, outlined. */
static void bev_box(rsim_canvas *c, const bev *b, double x, double y, double len, double wid, double hd,
                    const uint8_t col[3]) {
  double ch = cos(hd), sh = sin(hd), cx[4], cy[4];
  const double kx[4] = {1, 1, -1, -1}, ky[4] = {1, -1, -1, 1};
  for (int k = 0; k < 4; k++) {
    double lx = kx[k] * len / 2, ly = ky[k] * wid / 2;
    to_px(b, x + lx * ch - ly * sh, y + lx * sh + ly * ch, &cx[k], &cy[k]);
  }
  for (int k = 0; k < 4; k++) rsim__line(c, cx[k], cy[k], cx[(k + 1) % 4], cy[(k + 1) % 4], 2, col);
}

static void bev_panel(rsim_canvas *c, rsim_engine *e, rsim_store *st, const char *lidar, unsigned layers, double scale) {
  bev b = {scale};
  rsim__fill(c, BEV_X, BEV_Y, BEV_W, BEV_H, kPanel, 255);
  rsim__clip(c, BEV_X, BEV_Y, BEV_W, BEV_H);
  for (int m = -200; m <= 300; m += 10) { /* a 10 m grid */
    double x0, y0, x1, y1;
    to_px(&b, m, -200, &x0, &y0);
    to_px(&b, m, 200, &x1, &y1);
    rsim__line(c, x0, y0, x1, y1, 1, kGrid);
    to_px(&b, -200, m, &x0, &y0);
    to_px(&b, 300, m, &x1, &y1);
    rsim__line(c, x0, y0, x1, y1, 1, kGrid);
  }
  rsim_time now = rsim_engine_time(e);
  rsim_reading r = {0};
  if ((layers & RSIM_LAYER_LIDAR) && lidar && rsim_store_reading_at(st, lidar, now, &r) == RSIM_OK) {
    uint32_t n = 0;
    if (r.payload_len >= 4) memcpy(&n, r.payload, 4);
    for (uint32_t i = 0; r.payload_len >= 4 && (r.payload_len - 4) / 16 >= n && i < n; i++) {
      double px, py;
      to_px(&b, rsim_le_f32(r.payload + 4 + 16 * (size_t)i), rsim_le_f32(r.payload + 8 + 16 * (size_t)i), &px, &py);
      rsim__blend(c, (int)px, (int)py, kLidar, 255);
    }
    rsim_reading_clear(&r);
  }
  rsim_truth *g = NULL;
  size_t ng = 0;
  if ((layers & RSIM_LAYER_TRUTH) && rsim_store_truth(st, now - 200000000, now, &g, &ng) == RSIM_OK)
    for (size_t i = 0; i < ng; i++)
      if (g[i].t == g[ng - 1].t) bev_box(c, &b, g[i].x, g[i].y, g[i].length, g[i].width, g[i].heading, kTruth);
  free(g);
  for (size_t i = 0; i < rsim_engine_n_components(e); i++) {
    const rsim_type *t;
    const rsim_val *v = rsim_engine_output(e, i, &t, NULL);
    if (!v) continue;
    const rsim_type *et = list_of_records_with(t, "position");
    bool fused = et && rsim_type_member(et, "classification") >= 0;
    if (et && ((fused && (layers & RSIM_LAYER_FUSED)) || (!fused && (layers & RSIM_LAYER_TRACKS))))
      for (size_t k = 0; v->kind == RSIM_LIST && k < v->of.agg.n; k++) {
        const rsim_type *pt;
        const rsim_val *p = member(&v->of.agg.items[k], et, "position", &pt);
        double x = rsim_val_number(member(p, pt, "x", NULL)), y = rsim_val_number(member(p, pt, "y", NULL)), px, py;
        if (fused) {
          uint8_t col[3];
          rsim_viz_class_colour(str(member(&v->of.agg.items[k], et, "classification", NULL)), col);
          bev_box(c, &b, x, y, 4.5, 1.9, 0, col);
        } else {
          to_px(&b, x, y, &px, &py);
          rsim__rect(c, (int)px - 4, (int)py - 4, 9, 9, 2, kTrack);
        }
      }
    const rsim_type *pts_t;
    const rsim_val *pts = (layers & RSIM_LAYER_PLAN) ? member(v, t, "points", &pts_t) : NULL;
    const rsim_type *ptt = pts ? list_of_records_with(pts_t, "x") : NULL;
    for (size_t k = 1; ptt && pts->kind == RSIM_LIST && k < pts->of.agg.n; k++) {
      double x0, y0, x1, y1;
      const rsim_val *a = &pts->of.agg.items[k - 1], *z = &pts->of.agg.items[k];
      to_px(&b, rsim_val_number(member(a, ptt, "x", NULL)), rsim_val_number(member(a, ptt, "y", NULL)), &x0, &y0);
      to_px(&b, rsim_val_number(member(z, ptt, "x", NULL)), rsim_val_number(member(z, ptt, "y", NULL)), &x1, &y1);
      rsim__line(c, x0, y0, x1, y1, 3, kPlan);
    }
  }
  bev_box(c, &b, 0, 0, 4.6, 1.9, 0, kEgo); /* the ego car */
  rsim__unclip(c);
}

static const char *first_of(rsim_store *st, rsim_sensor_kind kind) {
  const rsim_sensor_info *s = rsim_store_first_of_kind(st, kind);
  return s ? s->id : NULL;
}

int rsim_viz_render(rsim_engine *e, rsim_store *st, const rsim_render_opts *o, rsim_canvas **out, rsim_errbuf *eb) {
  rsim_render_opts d = {0};
  if (!o) o = &d;
  unsigned layers = o->layers ? o->layers : RSIM_LAYER_ALL;
  const char *cam = o->camera ? o->camera : first_of(st, RSIM_SENSOR_CAMERA);
  const char *lidar = o->lidar ? o->lidar : first_of(st, RSIM_SENSOR_LIDAR);
  if (o->camera && !rsim_store_sensor(st, o->camera))
    return rsim_errbuf_set(eb, RSIM_ENOTFOUND, "render: no camera '%s' in the store", o->camera);
  rsim_canvas *c = rsim__canvas_new(CANVAS_W, CANVAS_H, kBg);
  rsim_time from, to, now = rsim_engine_time(e);
  rsim_engine_range(e, &from, &to);
  char line[300];
  snprintf(line, sizeof line, "%s   t = %.3f s   (%lld ns)", o->title ? o->title : "replaysim", (double)(now - from) / 1e9,
           (long long)now);
  if (rsim__text(c, RSIM_VIZ_CAM_X, 22, 14, line, kText)) {
    rsim_canvas_free(c);
    return rsim_errbuf_set(eb, RSIM_ENOTFOUND, "render: the font /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf "
                                               "is missing (Debian package fonts-dejavu-core)");
  }
  camera_panel(c, e, st, cam, layers);
  bev_panel(c, e, st, lidar, layers, o->bev_scale > 0 ? o->bev_scale : 4);
  rsim__text(c, BEV_X + 6, BEV_Y + 16, 12, "bird's-eye view, 10 m grid", kDim);
  if (layers & RSIM_LAYER_OVERLAY) {
    rsim__fill(c, RSIM_VIZ_CAM_X, RSIM_VIZ_CAM_Y, 220, 22, (const uint8_t[3]){0, 0, 0}, 140);
    snprintf(line, sizeof line, "t %.3f s   %s", (double)(now - from) / 1e9, cam ? cam : "no camera");
    rsim__text(c, RSIM_VIZ_CAM_X + 6, RSIM_VIZ_CAM_Y + 16, 13, line, kText);
  }
  *out = c;
  return RSIM_OK;
}
