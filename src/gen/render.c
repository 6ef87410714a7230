/*
** render.c -- what the camera and the lidar see of the world.
**
** Camera: a pinhole (docs/sensors.md) over a flat ground.  Each row below
** the horizon is one ground distance, so the ground is coloured per pixel
** from its world point (asphalt, dashed and solid markings, verge); above
** the horizon is sky.  Road users and guard-rail segments are boxes drawn
** far to near (painter's algorithm): the face towards the camera at full
** colour, the visible side at 70%.  Gaussian noise (sigma 4) on every
** channel.
**
** Lidar: 16 beams x 720 columns cast against the ground, the boxes and the
** two guard rails, nearest hit wins.
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gen/gen_int.h"

#define RAIL_Y 6.5
#define RAIL_Z0 0.3
#define RAIL_Z1 0.8
#define ROAD_HALF 5.25

typedef struct box {
  double x0, x1, y0, y1, z0, z1; /* camera-relative: x forward, y left, z up */
  uint8_t rgb[3];
} box;

static const uint8_t kSky[3] = {170, 190, 215}, kGround[3] = {110, 100, 85},
                     kRoad[3] = {70, 70, 75}, kMark[3] = {230, 230, 230}, kRail[3] = {150, 150, 150};

/* Road users and rail segments relative to a sensor at (sx, sy, sz) in the
** world, rails from `back` metres behind the ego; returns the count. */
static int collect_boxes(const rsim__world *w, double sx, double sy, double sz, double back, box *out, int max) {
  int n = 0;
  for (int i = 0; i < w->n_obj && n < max; i++) {
    const rsim__obj *o = &w->obj[i];
    box *b = &out[n++];
    b->x0 = o->x - o->length / 2 - sx;
    b->x1 = o->x + o->length / 2 - sx;
    b->y0 = o->y - o->width / 2 - sy;
    b->y1 = o->y + o->width / 2 - sy;
    b->z0 = -sz;
    b->z1 = o->height - sz;
    memcpy(b->rgb, rsim__obj_rgb[o->cls], 3);
  }
  /* Rails in 8 m segments with 2 m gaps, so they look like posts and beams
  ** and never hide the whole road edge. */
  double start = floor((w->ex - back) / 10.0) * 10.0;
  for (double x = start; x < w->ex + 160 && n + 2 <= max; x += 10.0)
    for (int side = -1; side <= 1; side += 2) {
      box *b = &out[n++];
      b->x0 = x - sx;
      b->x1 = x + 8 - sx;
      b->y0 = side * RAIL_Y - 0.1 - sy;
      b->y1 = side * RAIL_Y + 0.1 - sy;
      b->z0 = RAIL_Z0 - sz;
      b->z1 = RAIL_Z1 - sz;
      memcpy(b->rgb, kRail, 3);
    }
  return n;
}

static int cmp_far_first(const void *a, const void *b) {
  const box *x = a, *y = b;
  return x->x0 < y->x0 ? 1 : x->x0 > y->x0 ? -1 : 0;
}

static void put(uint8_t *rgb, int u, int v, const uint8_t c[3], double shade) {
  uint8_t *p = rgb + 3 * ((size_t)v * CAM_W + (size_t)u);
  for (int k = 0; k < 3; k++) p[k] = (uint8_t)(c[k] * shade);
}

static double col_u(double x, double y) { return CAM_CX - CAM_FX * y / x; }
static double row_v(double x, double z) { return CAM_CY - CAM_FY * z / x; }

/* A vertical span of the box's colour at column u for depth x. */
static void span(uint8_t *rgb, int u, double x, const box *b, double shade) {
  int v0 = (int)ceil(row_v(x, b->z1)), v1 = (int)floor(row_v(x, b->z0));
  if (v0 < 0) v0 = 0;
  if (v1 >= CAM_H) v1 = CAM_H - 1;
  for (int v = v0; v <= v1; v++) put(rgb, u, v, b->rgb, shade);
}

static void draw_box(uint8_t *rgb, const box *b) {
  if (b->x0 < 1.0) return; /* at or behind the lens */
  /* Visible side: the one facing the optical axis. */
  if (b->y0 > 0 || b->y1 < 0) {
    double ys = b->y0 > 0 ? b->y0 : b->y1;
    double ua = col_u(b->x0, ys), ub = col_u(b->x1, ys);
    int u0 = (int)ceil(fmin(ua, ub)), u1 = (int)floor(fmax(ua, ub));
    for (int u = u0 < 0 ? 0 : u0; u <= u1 && u < CAM_W; u++) {
      double x = CAM_FX * ys / (CAM_CX - u); /* depth of that column on the side plane */
      if (x < b->x0 || x > b->x1) continue;
      span(rgb, u, x, b, 0.7);
    }
  }
  int u0 = (int)ceil(col_u(b->x0, b->y1)), u1 = (int)floor(col_u(b->x0, b->y0));
  for (int u = u0 < 0 ? 0 : u0; u <= u1 && u < CAM_W; u++) span(rgb, u, b->x0, b, 1.0);
}

static const uint8_t *ground_colour(double wx, double wy) {
  double ay = fabs(wy);
  if (ay > ROAD_HALF + 0.08) return kGround;
  if (ay > ROAD_HALF - 0.08) return kMark;
  if (fabs(ay - 1.75) < 0.075 && fmod(wx, 9.0) < 3.0) return kMark;
  return kRoad;
}

/* A box from world axes (relative to the camera) into the frame of a camera
** turned quarter * 90 degrees to the left: boxes stay axis-aligned. */
static void turn(box *b, int quarter) {
  double x0 = b->x0, x1 = b->x1, y0 = b->y0, y1 = b->y1;
  if (quarter == 1) b->x0 = y0, b->x1 = y1, b->y0 = -x1, b->y1 = -x0;
  else if (quarter == 2) b->x0 = -x1, b->x1 = -x0, b->y0 = -y1, b->y1 = -y0;
  else if (quarter == 3) b->x0 = -y1, b->x1 = -y0, b->y0 = x0, b->y1 = x1;
}

void rsim__render_camera(const rsim__world *w, rsim__rng *rng, uint8_t *rgb, double mx, double my, int quarter) {
  double cam_wx = w->ex + mx, cam_wy = w->ey + my;
  for (int v = 0; v < CAM_H; v++) {
    double dz = v - CAM_CY;
    double dist = dz > 0.5 ? CAM_FY * CAM_Z / dz : -1; /* ground distance of the row */
    for (int u = 0; u < CAM_W; u++) {
      if (dist < 0 || dist > 400) {
        uint8_t sky[3] = {kSky[0], kSky[1], (uint8_t)(kSky[2] - v / 12)};
        put(rgb, u, v, dist < 0 ? sky : kGround, 1.0);
        continue;
      }
      double side = (CAM_CX - u) * dist / CAM_FX; /* to the camera's left */
      if (quarter == 0) put(rgb, u, v, ground_colour(cam_wx + dist, cam_wy + side), 1.0);
      else if (quarter == 1) put(rgb, u, v, ground_colour(cam_wx - side, cam_wy + dist), 1.0);
      else if (quarter == 2) put(rgb, u, v, ground_colour(cam_wx - dist, cam_wy - side), 1.0);
      else put(rgb, u, v, ground_colour(cam_wx + side, cam_wy - dist), 1.0);
    }
  }
  box boxes[80];
  /* A camera that looks back or aside sees the rails behind the ego too. */
  int n = collect_boxes(w, cam_wx, cam_wy, CAM_Z, quarter ? 160 : 10, boxes, 80);
  for (int i = 0; i < n; i++) turn(&boxes[i], quarter);
  qsort(boxes, (size_t)n, sizeof *boxes, cmp_far_first);
  for (int i = 0; i < n; i++) draw_box(rgb, &boxes[i]);
  for (size_t i = 0; i < (size_t)CAM_W * CAM_H * 3; i++) {
    double x = rgb[i] + 4.0 * rsim__rng_gauss(rng);
    rgb[i] = (uint8_t)(x < 0 ? 0 : x > 255 ? 255 : x + 0.5);
  }
}

/* Ray-box intersection (slab method); returns the entry distance or -1. */
static double hit_box(const double o[3], const double d[3], const box *b) {
  double lo[3] = {b->x0, b->y0, b->z0}, hi[3] = {b->x1, b->y1, b->z1};
  double t0 = 0, t1 = 1e9;
  for (int k = 0; k < 3; k++) {
    if (fabs(d[k]) < 1e-12) {
      if (o[k] < lo[k] || o[k] > hi[k]) return -1;
      continue;
    }
    double a = (lo[k] - o[k]) / d[k], c = (hi[k] - o[k]) / d[k];
    if (a > c) {
      double t = a;
      a = c;
      c = t;
    }
    if (a > t0) t0 = a;
    if (c < t1) t1 = c;
    if (t0 > t1) return -1;
  }
  return t0 > 0 ? t0 : -1;
}

int rsim__render_lidar(const rsim__world *w, rsim__rng *rng, float *pts) {
  const double mount[3] = {1.2, 0.0, 1.9}, max_range = 80.0;
  box boxes[80];
  int nb = collect_boxes(w, w->ex + mount[0], w->ey + mount[1], mount[2], 10, boxes, 80);
  const double origin[3] = {0, 0, 0};
  int n = 0;
  for (int beam = 0; beam < 16; beam++) {
    double el = (-15.0 + 2.0 * beam) * M_PI / 180.0;
    for (int col = 0; col < 720; col++) {
      double az = col * 0.5 * M_PI / 180.0;
      double d[3] = {cos(el) * cos(az), cos(el) * sin(az), sin(el)};
      double best = max_range + 1;
      double intensity = 0.1;
      if (d[2] < 0) {
        double t = mount[2] / -d[2];
        if (t < best) best = t, intensity = 0.2;
      }
      for (int i = 0; i < nb; i++) {
        /* Cheap reject: boxes behind the ray's horizontal direction. */
        double cx = (boxes[i].x0 + boxes[i].x1) / 2, cy = (boxes[i].y0 + boxes[i].y1) / 2;
        if (cx * d[0] + cy * d[1] < -10) continue;
        double t = hit_box(origin, d, &boxes[i]);
        if (t > 0 && t < best) best = t, intensity = boxes[i].rgb[0] == kRail[0] ? 0.5 : 0.8;
      }
      if (best > max_range) continue;
      double r = best + 0.02 * rsim__rng_gauss(rng);
      pts[4 * n + 0] = (float)(mount[0] + r * d[0]);
      pts[4 * n + 1] = (float)(mount[1] + r * d[1]);
      pts[4 * n + 2] = (float)(mount[2] + r * d[2]);
      pts[4 * n + 3] = (float)intensity;
      n++;
    }
  }
  return n;
}
