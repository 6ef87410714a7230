/*
** gen.c -- the generator's driver: steps the world in 1 ms steps and, at
** each sensor's sample times (start + phase + k * period, whole ns), turns
** the world into that sensor's payload (docs/sensors.md), with noise.
** Ground truth is written at every camera frame.
**
** Phases: sensors are deliberately not aligned, as on a real car: camera
** 0 ms, imu 1 ms, can 2 ms, radar 3 ms, lidar 7 ms, ultrasonic 11 ms, gps 13 ms.
** Rigs: the default one (a front camera and radar) and the surround one
** (cameras and radars facing front, rear, left and right; the cameras of
** one frame share a time, as do the radars of one scan).
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen/gen_int.h"

enum { S_CAMERA, S_RADAR, S_LIDAR, S_ULTRA, S_IMU, S_GPS, S_CAN, S_COUNT };

typedef struct sensor_def {
  const char *id;
  rsim_sensor_kind kind;
  double rate_hz;
  int64_t phase_ns;
  int emit;         /* S_CAMERA ...: which payload */
  double mx, my;    /* cameras and radars: mount in the vehicle frame */
  int quarter;      /* and facing: quarter turns to the left (0 front, 1 left, 2 rear, 3 right) */
} sensor_def;

#define MAX_SENSORS 16

static const sensor_def kDefault[] = {
    {"camera_front", RSIM_SENSOR_CAMERA, 30, 0, S_CAMERA, CAM_X, 0, 0},
    {"radar_front", RSIM_SENSOR_RADAR, 20, 3000000, S_RADAR, 3.6, 0, 0},
    {"lidar_top", RSIM_SENSOR_LIDAR, 10, 7000000, S_LIDAR, 0, 0, 0},
    {"ultrasonic_front", RSIM_SENSOR_ULTRASONIC, 20, 11000000, S_ULTRA, 0, 0, 0},
    {"imu", RSIM_SENSOR_IMU, 100, 1000000, S_IMU, 0, 0, 0},
    {"gps", RSIM_SENSOR_GPS, 10, 13000000, S_GPS, 0, 0, 0},
    {"can_vehicle", RSIM_SENSOR_CAN, 100, 2000000, S_CAN, 0, 0, 0},
};

/* Surround: the cameras are triggered together (as a real rig's are), the
** radars too; the first camera is the front one, whose frames the ground
** truth goes with, as in the default rig. */
static const sensor_def kSurround[] = {
    {"camera_front", RSIM_SENSOR_CAMERA, 30, 0, S_CAMERA, CAM_X, 0, 0},
    {"camera_rear", RSIM_SENSOR_CAMERA, 30, 0, S_CAMERA, -1.0, 0, 2},
    {"camera_left", RSIM_SENSOR_CAMERA, 30, 0, S_CAMERA, 1.0, 0.9, 1},
    {"camera_right", RSIM_SENSOR_CAMERA, 30, 0, S_CAMERA, 1.0, -0.9, 3},
    {"radar_front", RSIM_SENSOR_RADAR, 20, 3000000, S_RADAR, 3.6, 0, 0},
    {"radar_rear", RSIM_SENSOR_RADAR, 20, 3000000, S_RADAR, -1.0, 0, 2},
    {"radar_left", RSIM_SENSOR_RADAR, 20, 3000000, S_RADAR, 2.0, 0.9, 1},
    {"radar_right", RSIM_SENSOR_RADAR, 20, 3000000, S_RADAR, 2.0, -0.9, 3},
    {"lidar_top", RSIM_SENSOR_LIDAR, 10, 7000000, S_LIDAR, 0, 0, 0},
    {"ultrasonic_front", RSIM_SENSOR_ULTRASONIC, 20, 11000000, S_ULTRA, 0, 0, 0},
    {"imu", RSIM_SENSOR_IMU, 100, 1000000, S_IMU, 0, 0, 0},
    {"gps", RSIM_SENSOR_GPS, 10, 13000000, S_GPS, 0, 0, 0},
    {"can_vehicle", RSIM_SENSOR_CAN, 100, 2000000, S_CAN, 0, 0, 0},
};

static const char *const kRigNames[RSIM_GEN_RIG_COUNT] = {"default", "surround"};

const char *rsim_gen_rig_name(rsim_gen_rig r) { return (unsigned)r < RSIM_GEN_RIG_COUNT ? kRigNames[r] : NULL; }

int rsim_gen_rig_parse(const char *name, rsim_gen_rig *out) {
  for (int i = 0; i < RSIM_GEN_RIG_COUNT; i++)
    if (!strcmp(name, kRigNames[i])) {
      *out = (rsim_gen_rig)i;
      return RSIM_OK;
    }
  return RSIM_EINVAL;
}

typedef struct gen {
  rsim_store *st;
  rsim__world w;
  rsim__rng noise;       /* sensor noise: a stream of its own, so adding a
                            sensor does not change the world */
  rsim_buf buf;
  uint8_t *rgb;
  float *lidar;
  double gps_bias_n, gps_bias_e, gyro_bias;
  rsim_errbuf *eb;
  const sensor_def *defs;
  int n_defs;
} gen;

static void put_f32(rsim_buf *b, double v) {
  float f = (float)v;
  uint32_t u;
  memcpy(&u, &f, 4);
  rsim_buf_put_u32le(b, u);
}

static void put_f64(rsim_buf *b, double v) {
  uint64_t u;
  memcpy(&u, &v, 8);
  rsim_buf_put_u64le(b, u);
}

static int write_reading(gen *g, const sensor_def *s, rsim_time t, const void *p, size_t n, rsim_kv *meta,
                         size_t n_meta) {
  rsim_reading r = {.sensor_id = (char *)s->id, .t = t, .kind = s->kind,
                    .payload = (uint8_t *)p, .payload_len = n, .meta = meta, .n_meta = n_meta};
  int rc = rsim_store_put(g->st, &r);
  if (rc) rsim_errbuf_set(g->eb, rc, "%s", rsim_store_errmsg(g->st));
  return rc;
}

/* ---- per-sensor payloads -------------------------------------------------------- */

static int emit_camera(gen *g, const sensor_def *s, rsim_time t) {
  rsim__render_camera(&g->w, &g->noise, g->rgb, s->mx, s->my, s->quarter);
  rsim_kv meta[3] = {{(char *)"encoding", (char *)"rgb8"}, {(char *)"width", (char *)"640"},
                     {(char *)"height", (char *)"360"}};
  int rc = write_reading(g, s, t, g->rgb, (size_t)CAM_W * CAM_H * 3, meta, 3);
  for (int i = 0; i < g->w.n_obj && !rc && s == g->defs; i++) { /* the truth: with the first camera's frames */
    const rsim__obj *o = &g->w.obj[i];
    rsim_truth tr = {.t = t, .object_id = o->id, .x = o->x - g->w.ex, .y = o->y - g->w.ey,
                     .z = o->height / 2, .vx = o->v - g->w.ev, .vy = o->vy, .length = o->length,
                     .width = o->width, .height = o->height, .heading = 0};
    snprintf(tr.cls, sizeof tr.cls, "%s", rsim__obj_class[o->cls]);
    rc = rsim_store_put_truth(g->st, &tr);
    if (rc) rsim_errbuf_set(g->eb, rc, "%s", rsim_store_errmsg(g->st));
  }
  return rc;
}

static int emit_radar(gen *g, const sensor_def *s, rsim_time t) {
  static const double rcs[OBJ_N_CLASSES] = {10, 20, -5, 0};
  const double mx = s->mx, mz = 0.5, fov = 0.525, max_range = 150;
  rsim__world *w = &g->w;
  rsim_buf *b = &g->buf;
  b->len = 0;
  rsim_buf_put_u32le(b, 0); /* count, patched below */
  uint32_t count = 0;
  for (int i = 0; i < w->n_obj; i++) {
    const rsim__obj *o = &w->obj[i];
    double dx = o->x - o->length / 2 - (w->ex + mx), dy = o->y - w->ey - s->my;
    double vx = o->v - w->ev, vy = o->vy;
    if (s->quarter) { /* into the radar's frame: its near face and the velocity, turned */
      double ox = o->x - (w->ex + mx), oy = o->y - (w->ey + s->my), hx = o->length / 2, hy = o->width / 2;
      if (s->quarter == 1) dx = oy - hy, dy = -ox, vx = o->vy, vy = -(o->v - w->ev);
      else if (s->quarter == 2) dx = -ox - hx, dy = -oy, vx = -(o->v - w->ev), vy = -o->vy;
      else dx = -oy - hy, dy = ox, vx = -o->vy, vy = o->v - w->ev;
    }
    if (dx <= 0.5) continue;
    double range = sqrt(dx * dx + dy * dy), az = atan2(dy, dx);
    if (range > max_range || fabs(az) > fov) continue;
    if (rsim__rng_uniform(&g->noise) > 0.92) continue; /* missed detection */
    double rr = (dx * vx + dy * vy) / range;
    put_f32(b, range + 0.15 * rsim__rng_gauss(&g->noise));
    put_f32(b, az + 0.005 * rsim__rng_gauss(&g->noise));
    put_f32(b, rr + 0.1 * rsim__rng_gauss(&g->noise));
    put_f32(b, rcs[o->cls] + 2.0 * rsim__rng_gauss(&g->noise));
    put_f32(b, atan2(o->height / 2 - mz, range));
    count++;
  }
  int clutter = rsim__rng_poisson(&g->noise, 2.0);
  for (int k = 0; k < clutter; k++) {
    put_f32(b, 5 + 145 * rsim__rng_uniform(&g->noise));
    put_f32(b, fov * (2 * rsim__rng_uniform(&g->noise) - 1));
    put_f32(b, -w->ev + 3 * rsim__rng_gauss(&g->noise)); /* static clutter closes at ego speed */
    put_f32(b, -10 + 5 * rsim__rng_gauss(&g->noise));
    put_f32(b, 0);
    count++;
  }
  for (int k = 0; k < 4; k++) b->data[k] = (uint8_t)(count >> (8 * k));
  return write_reading(g, s, t, b->data, b->len, NULL, 0);
}

static int emit_lidar(gen *g, const sensor_def *s, rsim_time t) {
  int n = rsim__render_lidar(&g->w, &g->noise, g->lidar);
  rsim_buf *b = &g->buf;
  b->len = 0;
  rsim_buf_put_u32le(b, (uint32_t)n);
  for (int i = 0; i < 4 * n; i++) put_f32(b, g->lidar[i]);
  return write_reading(g, s, t, b->data, b->len, NULL, 0);
}

static int emit_ultrasonic(gen *g, const sensor_def *s, rsim_time t) {
  const double bx = 3.8, max_range = 5.0, cone = 15 * M_PI / 180;
  double best = max_range;
  for (int i = 0; i < g->w.n_obj; i++) {
    const rsim__obj *o = &g->w.obj[i];
    double dx = o->x - o->length / 2 - (g->w.ex + bx), dy = o->y - g->w.ey;
    if (dx <= 0) continue;
    double d = sqrt(dx * dx + dy * dy);
    if (fabs(atan2(dy, dx)) < cone && d < best) best = d + 0.01 * rsim__rng_gauss(&g->noise);
  }
  rsim_buf *b = &g->buf;
  b->len = 0;
  put_f32(b, best);
  put_f32(b, max_range);
  return write_reading(g, s, t, b->data, b->len, NULL, 0);
}

static int emit_imu(gen *g, const sensor_def *s, rsim_time t) {
  rsim__world *w = &g->w;
  g->gyro_bias += 1e-5 * rsim__rng_gauss(&g->noise);
  rsim_buf *b = &g->buf;
  b->len = 0;
  put_f32(b, w->ea + 0.05 * rsim__rng_gauss(&g->noise));
  put_f32(b, w->ev * w->yaw_rate + 0.05 * rsim__rng_gauss(&g->noise));
  put_f32(b, 9.81 + 0.05 * rsim__rng_gauss(&g->noise));
  put_f32(b, 0.002 * rsim__rng_gauss(&g->noise));
  put_f32(b, 0.002 * rsim__rng_gauss(&g->noise));
  put_f32(b, w->yaw_rate + g->gyro_bias + 0.002 * rsim__rng_gauss(&g->noise));
  return write_reading(g, s, t, b->data, b->len, NULL, 0);
}

static int emit_gps(gen *g, const sensor_def *s, rsim_time t) {
  const double lat0 = 48.137, lon0 = 11.575, alt0 = 520.0, R = 6371000.0;
  rsim__world *w = &g->w;
  g->gps_bias_n += 0.05 * rsim__rng_gauss(&g->noise);
  g->gps_bias_e += 0.05 * rsim__rng_gauss(&g->noise);
  double north = w->ey + g->gps_bias_n + 1.5 * rsim__rng_gauss(&g->noise);
  double east = w->ex + g->gps_bias_e + 1.5 * rsim__rng_gauss(&g->noise);
  rsim_buf *b = &g->buf;
  b->len = 0;
  put_f64(b, lat0 + north / R * 180 / M_PI);
  put_f64(b, lon0 + east / (R * cos(lat0 * M_PI / 180)) * 180 / M_PI);
  put_f64(b, alt0 + 0.5 * rsim__rng_gauss(&g->noise));
  put_f32(b, 1.5);
  put_f32(b, w->ev + 0.1 * rsim__rng_gauss(&g->noise));
  put_f32(b, M_PI / 2);
  put_f32(b, 0);
  return write_reading(g, s, t, b->data, b->len, NULL, 0);
}

static void put_s16(uint8_t *p, double v) {
  long x = lround(v);
  if (x > 32767) x = 32767;
  if (x < -32768) x = -32768;
  uint16_t u = (uint16_t)(int16_t)x;
  p[0] = (uint8_t)u;
  p[1] = (uint8_t)(u >> 8);
}

static int emit_can(gen *g, const sensor_def *s, rsim_time t) {
  rsim__world *w = &g->w;
  uint8_t f[16] = {0x00, 0x01, 0, 0, 8};
  uint8_t *d = f + 5;
  long speed = lround((w->ev + 0.02 * rsim__rng_gauss(&g->noise)) / 0.01);
  if (speed < 0) speed = 0;
  if (speed > 65535) speed = 65535;
  d[0] = (uint8_t)speed;
  d[1] = (uint8_t)(speed >> 8);
  put_s16(d + 2, w->yaw_rate / 0.0001);
  put_s16(d + 4, w->ea / 0.001);
  put_s16(d + 6, w->steer / 0.001);
  return write_reading(g, s, t, f, sizeof f, NULL, 0);
}

static int (*const kEmit[S_COUNT])(gen *, const sensor_def *, rsim_time) = {emit_camera, emit_radar, emit_lidar,
                                                         emit_ultrasonic, emit_imu, emit_gps, emit_can};

/* ---- sensors and the loop -------------------------------------------------------- */

static int add_sensors(gen *g) {
  char num[10][32];
  for (int s = 0; s < g->n_defs; s++) {
    const sensor_def *d = &g->defs[s];
    rsim_kv meta[10];
    size_t n = 0;
    /* A camera or radar that is turned says so (yaw_rad); the front ones
    ** keep the metadata they always had. */
    if (d->emit == S_CAMERA) {
      const char *keys[8] = {"fx", "fy", "cx", "cy", "mount_x", "mount_y", "mount_z", "pitch"};
      const double vals[8] = {CAM_FX, CAM_FY, CAM_CX, CAM_CY, d->mx, d->my, CAM_Z, 0};
      for (; n < 8; n++) {
        snprintf(num[n], sizeof num[n], "%g", vals[n]);
        meta[n] = (rsim_kv){(char *)keys[n], num[n]};
      }
    } else if (d->emit == S_RADAR) {
      snprintf(num[0], sizeof num[0], "%g", d->mx);
      meta[n++] = (rsim_kv){(char *)"mount_x", num[0]};
      if (d->my != 0 || d->quarter) {
        snprintf(num[1], sizeof num[1], "%g", d->my);
        meta[n++] = (rsim_kv){(char *)"mount_y", num[1]};
      }
      meta[n++] = (rsim_kv){(char *)"fov_rad", (char *)"1.05"};
      meta[n++] = (rsim_kv){(char *)"max_range_m", (char *)"150"};
    }
    if ((d->emit == S_CAMERA || d->emit == S_RADAR) && d->quarter) {
      snprintf(num[9], sizeof num[9], "%.6f", d->quarter * M_PI / 2);
      meta[n++] = (rsim_kv){(char *)"yaw_rad", num[9]};
    }
    rsim_sensor_info info = {.id = (char *)d->id, .kind = d->kind, .rate_hz = d->rate_hz, .meta = meta, .n_meta = n};
    int rc = rsim_store_add_sensor(g->st, &info);
    if (rc) return rsim_errbuf_set(g->eb, rc, "%s", rsim_store_errmsg(g->st));
  }
  return RSIM_OK;
}

static int write_meta(gen *g, const rsim_gen_opts *o) {
  char v[64];
  int rc = rsim_store_set_meta(g->st, "generator", "replaysim synthetic drive 1");
  snprintf(v, sizeof v, "%llu", (unsigned long long)o->seed);
  if (!rc) rc = rsim_store_set_meta(g->st, "seed", v);
  snprintf(v, sizeof v, "%lld", (long long)o->duration_ns);
  if (!rc) rc = rsim_store_set_meta(g->st, "duration_ns", v);
  if (!rc && o->rig) rc = rsim_store_set_meta(g->st, "rig", rsim_gen_rig_name(o->rig));
  if (rc) rsim_errbuf_set(g->eb, rc, "%s", rsim_store_errmsg(g->st));
  return rc;
}

int rsim_generate(rsim_store *st, const rsim_gen_opts *o, rsim_errbuf *eb) {
  if (o->duration_ns <= 0) return rsim_errbuf_set(eb, RSIM_EINVAL, "generate: the duration must be positive");
  if ((unsigned)o->rig >= RSIM_GEN_RIG_COUNT) return rsim_errbuf_set(eb, RSIM_EINVAL, "generate: unknown rig %d", (int)o->rig);
  gen g = {.st = st, .eb = eb};
  g.defs = o->rig == RSIM_GEN_RIG_SURROUND ? kSurround : kDefault;
  g.n_defs = o->rig == RSIM_GEN_RIG_SURROUND ? (int)(sizeof kSurround / sizeof *kSurround)
                                             : (int)(sizeof kDefault / sizeof *kDefault);
  rsim__world_init(&g.w, o->seed);
  rsim__rng_seed(&g.noise, o->seed ^ 0x5eed5eed5eed5eedULL);
  g.rgb = rsim_xmalloc((size_t)CAM_W * CAM_H * 3);
  g.lidar = rsim_xmalloc(16 * 720 * 4 * sizeof(float));
  rsim_time start = o->start ? o->start : RSIM_GEN_DEFAULT_START;
  int64_t period[MAX_SENSORS], k[MAX_SENSORS] = {0};
  for (int s = 0; s < g.n_defs; s++) period[s] = (int64_t)llround(1e9 / g.defs[s].rate_hz);
  int rc = add_sensors(&g);
  if (!rc) rc = write_meta(&g, o);
  if (!rc) rc = rsim_store_begin(st) ? rsim_errbuf_set(eb, RSIM_EBACKEND, "%s", rsim_store_errmsg(st)) : 0;
  const int64_t step = RSIM_NS_PER_MS;
  int last_pct = -1;
  for (int64_t now = 0; !rc && now <= o->duration_ns; now += step) {
    if (now) rsim__world_step(&g.w, 1e-3);
    for (int s = 0; s < g.n_defs && !rc; s++)
      while (!rc && g.defs[s].phase_ns + k[s] * period[s] <= now &&
             g.defs[s].phase_ns + k[s] * period[s] <= o->duration_ns) {
        const sensor_def *d = &g.defs[s];
        rc = kEmit[d->emit](&g, d, start + d->phase_ns + k[s] * period[s]);
        k[s]++;
      }
    int pct = (int)(100 * now / o->duration_ns);
    if (pct != last_pct) {
      last_pct = pct;
      if (o->progress) o->progress(o->progress_ud, (double)now / (double)o->duration_ns);
      /* Commit in slices: a long drive never sits in one huge transaction. */
      if (!rc && (rsim_store_commit(st) || rsim_store_begin(st)))
        rc = rsim_errbuf_set(eb, RSIM_EBACKEND, "%s", rsim_store_errmsg(st));
    }
  }
  if (!rc && rsim_store_commit(st)) rc = rsim_errbuf_set(eb, RSIM_EBACKEND, "%s", rsim_store_errmsg(st));
  free(g.rgb);
  free(g.lidar);
  rsim_buf_free(&g.buf);
  return rc;
}
