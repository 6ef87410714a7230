/*
** fusion_core.c -- camera-radar association.  Each camera box gives a
** bearing (from its centre column) and, on a flat road, a range (from its
** bottom edge); each radar track gives both precisely.  Pairs within the
** bearing gate are costed by normalised bearing and range differences and
** assigned cheapest first.
*/
#include <math.h>
#include <string.h>

#include "rsim_fusion.h"

#define MAX_PAIRS 1024

void fus_params_default(fus_params *p) {
  p->fx = p->fy = 500.0f;
  p->cx = 320.0f;
  p->cy = 180.0f;
  p->cam_x = 1.5f;
  p->cam_y = 0.0f;
  p->cam_z = 1.4f;
  p->gate_rad = 3.0f * 3.14159265f / 180.0f;
}

float fus_box_bearing(const fus_params *p, const fus_cam *c) {
  float u = c->x + 0.5f * c->w;
  return atan2f(p->cx - u, p->fx);
}

float fus_box_range(const fus_params *p, const fus_cam *c) {
  float v = c->y + c->h; /* bottom edge */
  if (v <= p->cy + 1.0f) return -1.0f;
  return p->fy * p->cam_z / (v - p->cy) + p->cam_x;
}

typedef struct cand {
  float cost;
  int c, r;
} cand;

/* No stdio: in a component it would pull WASI imports in. */
static void copy_str(char *dst, size_t n, const char *src) {
  size_t len = strlen(src);
  if (len > n - 1) len = n - 1;
  memcpy(dst, src, len);
  dst[len] = 0;
}

static void id_with_number(char *dst, size_t n, const char *prefix, unsigned v) {
  char digits[12];
  int k = 0;
  do digits[k++] = (char)('0' + v % 10); while ((v /= 10) && k < 11);
  size_t len = strlen(prefix);
  copy_str(dst, n, prefix);
  while (k > 0 && len < n - 1) dst[len++] = digits[--k];
  dst[len] = 0;
}

static void id_with_text(char *dst, size_t n, const char *prefix, const char *text) {
  copy_str(dst, n, prefix);
  size_t len = strlen(dst);
  copy_str(dst + len, n - len, text);
}

int fus_fuse(const fus_params *p, const fus_cam *cams, int n_cams, const fus_radar *radar,
             int n_radar, fus_obj *out, int max) {
  cand cands[MAX_PAIRS];
  int nc = 0;
  for (int i = 0; i < n_cams; i++) {
    float b = fus_box_bearing(p, &cams[i]), rng = fus_box_range(p, &cams[i]);
    for (int j = 0; j < n_radar && nc < MAX_PAIRS; j++) {
      float rb = atan2f(radar[j].y - p->cam_y, radar[j].x - p->cam_x);
      float db = fabsf(b - rb);
      if (db > p->gate_rad || radar[j].x <= p->cam_x) continue;
      float cost = db / p->gate_rad;
      if (rng > 0) {
        float rr = radar[j].x;
        float tol = rr * 0.3f > 5.0f ? rr * 0.3f : 5.0f;
        float dr = fabsf(rng - rr);
        if (dr > 2.0f * tol) continue; /* same bearing, clearly another object */
        cost += dr / tol;
      }
      cands[nc++] = (cand){cost, i, j};
    }
  }
  for (int a = 1; a < nc; a++)
    for (int b = a; b > 0 && cands[b].cost < cands[b - 1].cost; b--) {
      cand t = cands[b];
      cands[b] = cands[b - 1];
      cands[b - 1] = t;
    }
  int cam_of[256], used_cam[256];
  for (int j = 0; j < n_radar && j < 256; j++) cam_of[j] = -1;
  for (int i = 0; i < n_cams && i < 256; i++) used_cam[i] = 0;
  for (int k = 0; k < nc; k++) {
    if (cands[k].r >= 256 || cands[k].c >= 256) continue;
    if (cam_of[cands[k].r] >= 0 || used_cam[cands[k].c]) continue;
    cam_of[cands[k].r] = cands[k].c;
    used_cam[cands[k].c] = 1;
  }
  int n = 0;
  for (int j = 0; j < n_radar && n < max; j++) {
    fus_obj *o = &out[n++];
    memset(o, 0, sizeof *o);
    const fus_radar *r = &radar[j];
    id_with_number(o->id, sizeof o->id, "f-", r->id);
    o->x = r->x;
    o->y = r->y;
    o->vx = r->vx;
    o->vy = r->vy;
    o->from_radar = true;
    int c = j < 256 ? cam_of[j] : -1;
    if (c >= 0) {
      copy_str(o->cls, sizeof o->cls, cams[c].cls);
      o->from_camera = true;
      o->confidence = 1.0f - (1.0f - r->confidence) * (1.0f - cams[c].confidence);
    } else {
      copy_str(o->cls, sizeof o->cls, "unknown");
      o->confidence = r->confidence * 0.8f;
    }
  }
  for (int i = 0; i < n_cams && n < max; i++) {
    if (i < 256 && used_cam[i]) continue;
    float rng = fus_box_range(p, &cams[i]);
    if (rng <= 0) continue; /* no range, no place in the world */
    float b = fus_box_bearing(p, &cams[i]);
    fus_obj *o = &out[n++];
    memset(o, 0, sizeof *o);
    id_with_text(o->id, sizeof o->id, "c-", cams[i].id);
    o->x = rng;
    o->y = p->cam_y + (rng - p->cam_x) * tanf(b);
    copy_str(o->cls, sizeof o->cls, cams[i].cls);
    o->confidence = cams[i].confidence * 0.6f;
    o->from_camera = true;
  }
  return n;
}
