/*
** detector_core.c -- colour segmentation and connected-component labelling.
**
** Pass 1 classifies each pixel by colour (saturation, then hue) and labels
** it with a two-pass union-find over 4-neighbours of the same class; pass 2
** resolves labels and accumulates each blob's bounding box and area.  No
** recursion, memory proportional to the image, reused between frames.
*/
#include <stdlib.h>
#include <string.h>

#include "rsim_detector.h"

void det_params_default(det_params *p) {
  p->min_area = 40;
  p->min_saturation = 70;
}

const char *det_class_name(int cls) {
  static const char *const names[] = {"none", "car", "truck", "pedestrian", "cyclist"};
  return cls > 0 && cls < DET_N_CLASSES ? names[cls] : "none";
}

int det_classify_pixel(const det_params *p, int r, int g, int b) {
  int mx = r > g ? (r > b ? r : b) : (g > b ? g : b);
  int mn = r < g ? (r < b ? r : b) : (g < b ? g : b);
  int d = mx - mn;
  if (d < p->min_saturation) return DET_NONE;
  /* Hue in degrees, 0..360, the usual hexcone formula in integers. */
  int h;
  if (mx == r) h = 60 * (g - b) / d;
  else if (mx == g) h = 120 + 60 * (b - r) / d;
  else h = 240 + 60 * (r - g) / d;
  if (h < 0) h += 360;
  if (h <= 20 || h >= 340) return DET_CAR;
  if (h >= 25 && h <= 75) return DET_PEDESTRIAN;
  if (h >= 190 && h <= 260) return DET_TRUCK;
  if (h >= 270 && h < 340) return DET_CYCLIST;
  return DET_NONE;
}

static uint32_t find(uint32_t *parent, uint32_t x) {
  while (parent[x] != x) {
    parent[x] = parent[parent[x]];
    x = parent[x];
  }
  return x;
}

static void unite(uint32_t *parent, uint32_t a, uint32_t b) {
  a = find(parent, a);
  b = find(parent, b);
  if (a < b) parent[b] = a;
  else if (b < a) parent[a] = b;
}

typedef struct blob {
  int x0, y0, x1, y1, n, cls;
} blob;

static int cmp_box(const void *a, const void *b) {
  const det_box *x = a, *y = b;
  if (x->x != y->x) return x->x < y->x ? -1 : 1;
  if (x->y != y->y) return x->y < y->y ? -1 : 1;
  return 0;
}

int det_process(det_ctx *ctx, const det_params *p, const uint8_t *px, int width, int height,
                int channels, det_box *out, int max_out) {
  if (width <= 0 || height <= 0 || (channels != 1 && channels != 3)) return -1;
  if (channels == 1) return 0;
  size_t n = (size_t)width * (size_t)height;
  if (ctx->cap < n + 1) {
    free(ctx->labels);
    free(ctx->parent);
    ctx->labels = malloc((n + 1) * sizeof *ctx->labels);
    ctx->parent = malloc((n + 1) * sizeof *ctx->parent);
    if (!ctx->labels || !ctx->parent) {
      ctx->cap = 0;
      return -1;
    }
    ctx->cap = n + 1;
  }
  uint32_t *lab = ctx->labels, *parent = ctx->parent, next = 1;
  uint8_t *cls_of = malloc(n);
  if (!cls_of) return -1;
  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++) {
      size_t i = (size_t)y * (size_t)width + (size_t)x;
      const uint8_t *q = px + 3 * i;
      int c = det_classify_pixel(p, q[0], q[1], q[2]);
      cls_of[i] = (uint8_t)c;
      lab[i] = 0;
      if (!c) continue;
      uint32_t left = x > 0 && cls_of[i - 1] == c ? lab[i - 1] : 0;
      uint32_t up = y > 0 && cls_of[i - (size_t)width] == c ? lab[i - (size_t)width] : 0;
      if (!left && !up) {
        parent[next] = next;
        lab[i] = next++;
      } else {
        lab[i] = left ? left : up;
        if (left && up) unite(parent, left, up);
      }
    }
  free(cls_of);
  blob *blobs = calloc(next, sizeof *blobs);
  if (!blobs) return -1;
  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++) {
      size_t i = (size_t)y * (size_t)width + (size_t)x;
      if (!lab[i]) continue;
      uint32_t r = find(parent, lab[i]);
      blob *b = &blobs[r];
      if (!b->n) {
        b->x0 = b->x1 = x;
        b->y0 = b->y1 = y;
        const uint8_t *q = px + 3 * i;
        b->cls = det_classify_pixel(p, q[0], q[1], q[2]);
      }
      if (x < b->x0) b->x0 = x;
      if (x > b->x1) b->x1 = x;
      if (y < b->y0) b->y0 = y;
      if (y > b->y1) b->y1 = y;
      b->n++;
    }
  int found = 0;
  for (uint32_t r = 1; r < next; r++) {
    blob *b = &blobs[r];
    if (b->n < p->min_area) continue;
    if (found < max_out) {
      det_box *o = &out[found];
      o->x = (float)b->x0;
      o->y = (float)b->y0;
      o->w = (float)(b->x1 - b->x0 + 1);
      o->h = (float)(b->y1 - b->y0 + 1);
      o->cls = b->cls;
      o->pixels = b->n;
      /* A solid box fills its bounding box; noise and occlusion do not. */
      float fill = (float)b->n / (o->w * o->h);
      float size = b->n >= 400 ? 1.0f : (float)b->n / 400.0f;
      o->confidence = 0.5f * fill + 0.5f * size;
      if (o->confidence > 1.0f) o->confidence = 1.0f;
    }
    found++;
  }
  free(blobs);
  qsort(out, (size_t)(found < max_out ? found : max_out), sizeof *out, cmp_box);
  return found;
}

void det_ctx_free(det_ctx *ctx) {
  free(ctx->labels);
  free(ctx->parent);
  memset(ctx, 0, sizeof *ctx);
}
