/*
** sample.c -- what the sensor bridge does to readings, as pure functions:
** linear interpolation of numeric kinds between two readings, and the
** host-side transforms of derived sensors (camera grayscale and downscale,
** point decimation and range crop, unit scaling).  Payload layouts are the
** ones of docs/sensors.md; a payload that does not fit is refused, never
** guessed at.
**
** Determinism: everything here is plain arithmetic on the inputs, with
** rounding written out (no library call whose result could differ between
** machines), so a replay gives the same bytes everywhere.
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine_int.h"

/* ---- little-endian fields ------------------------------------------------- */

static void meta_set(rsim_reading *r, const char *key, const char *value) {
  for (size_t i = 0; i < r->n_meta; i++)
    if (!strcmp(r->meta[i].key, key)) {
      free(r->meta[i].value);
      r->meta[i].value = rsim_xstrdup(value);
      return;
    }
  r->meta = rsim_xrealloc(r->meta, (r->n_meta + 1) * sizeof *r->meta);
  r->meta[r->n_meta].key = rsim_xstrdup(key);
  r->meta[r->n_meta].value = rsim_xstrdup(value);
  r->n_meta++;
}

/* ---- interpolation ----------------------------------------------------------- */

/* Numeric payload layouts: which fields are f32 / f64 / angles, by offset. */
typedef struct num_field {
  int offset;
  char type; /* 'f' f32, 'd' f64, 'a' f32 angle in [0, 2pi), 'k' keep prev */
} num_field;

static const num_field kImu[] = {{0, 'f'}, {4, 'f'}, {8, 'f'}, {12, 'f'}, {16, 'f'}, {20, 'f'}};
static const num_field kGps[] = {{0, 'd'}, {8, 'd'}, {16, 'd'}, {24, 'f'}, {28, 'f'}, {32, 'a'}, {36, 'k'}};
static const num_field kUltra[] = {{0, 'f'}, {4, 'k'}};

static int64_t get_int(const uint8_t *p, const rsim__can_signal *s) {
  uint32_t u = 0;
  for (int i = s->bytes - 1; i >= 0; i--) u = u << 8 | p[s->offset + i];
  if (!s->is_signed) return u;
  int shift = 32 - 8 * s->bytes;
  return (int64_t)((int32_t)(u << shift) >> shift);
}

static void put_int(uint8_t *p, const rsim__can_signal *s, int64_t v) {
  int64_t lo = s->is_signed ? -((int64_t)1 << (8 * s->bytes - 1)) : 0;
  int64_t hi = s->is_signed ? ((int64_t)1 << (8 * s->bytes - 1)) - 1 : ((int64_t)1 << (8 * s->bytes)) - 1;
  v = v < lo ? lo : v > hi ? hi : v;
  for (int i = 0; i < s->bytes; i++) p[s->offset + i] = (uint8_t)((uint64_t)v >> (8 * i));
}

/* Rounds half away from zero, written out so that it does not depend on
** the rounding mode. */
static int64_t round_half_away(double x) { return x < 0 ? -(int64_t)(-x + 0.5) : (int64_t)(x + 0.5); }

int rsim__interpolate(const rsim_reading *prev, const rsim_reading *next, rsim_time t,
                      const rsim__can_signal *sig, size_t n_sig, rsim_reading *out) {
  if (prev->kind != next->kind || prev->payload_len != next->payload_len || !(prev->t < t && t < next->t))
    return RSIM_ENOTSUP;
  const num_field *f = NULL;
  size_t nf = 0, size = 0;
  switch (prev->kind) {
  case RSIM_SENSOR_IMU: f = kImu, nf = 6, size = 24; break;
  case RSIM_SENSOR_GPS: f = kGps, nf = 7, size = 40; break;
  case RSIM_SENSOR_ULTRASONIC: f = kUltra, nf = 2, size = 8; break;
  case RSIM_SENSOR_CAN: size = 16; break;
  default: return RSIM_ENOTSUP;
  }
  if (prev->payload_len != size) return RSIM_ENOTSUP;
  /* A CAN frame is interpolated signal by signal, and only between frames
  ** of the same id and length: anything else is not one signal over time. */
  if (prev->kind == RSIM_SENSOR_CAN &&
      (!n_sig || memcmp(prev->payload, next->payload, 5) != 0))
    return RSIM_ENOTSUP;
  /* The weight in exact integer ns, then one division. */
  double w = (double)(t - prev->t) / (double)(next->t - prev->t);
  rsim_reading_copy(out, prev);
  out->t = t;
  const uint8_t *a = prev->payload, *b = next->payload;
  uint8_t *o = out->payload;
  for (size_t i = 0; i < nf; i++) {
    int k = f[i].offset;
    if (f[i].type == 'f') rsim_le_put_f32(o + k, (float)((double)rsim_le_f32(a + k) + w * ((double)rsim_le_f32(b + k) - rsim_le_f32(a + k))));
    else if (f[i].type == 'd') rsim_le_put_f64(o + k, rsim_le_f64(a + k) + w * (rsim_le_f64(b + k) - rsim_le_f64(a + k)));
    else if (f[i].type == 'a') {
      /* The short way round: 6.2 rad to 0.1 rad passes through 0. */
      const double two_pi = 6.283185307179586;
      double x = rsim_le_f32(a + k), y = rsim_le_f32(b + k), d = y - x;
      if (d > two_pi / 2) d -= two_pi;
      if (d < -two_pi / 2) d += two_pi;
      double v = x + w * d;
      if (v < 0) v += two_pi;
      if (v >= two_pi) v -= two_pi;
      rsim_le_put_f32(o + k, (float)v);
    }
  }
  for (size_t i = 0; i < n_sig; i++) {
    int64_t x = get_int(a + 5, &sig[i]), y = get_int(b + 5, &sig[i]);
    put_int(o + 5, &sig[i], x + round_half_away(w * (double)(y - x)));
  }
  return RSIM_OK;
}

/* ---- transforms ------------------------------------------------------------------ */

int rsim__xform_parse(const char *text, rsim__xform *out, char *msg, size_t msg_len) {
  /* Words: the operation and at most three arguments (a fourth is an error). */
  char copy[128], *w[5] = {0}, *save = NULL;
  int nw = 0;
  memset(out, 0, sizeof *out);
  snprintf(copy, sizeof copy, "%s", text);
  for (char *t = strtok_r(copy, " \t", &save); t && nw < 5; t = strtok_r(NULL, " \t", &save)) w[nw++] = t;
  if (!nw) {
    snprintf(msg, msg_len, "empty transform");
    return RSIM_EINVAL;
  }
  const char *op = w[0];
  int64_t n = 0;
  double a = 0, b = 0;
  if (strlen(text) >= sizeof copy) goto bad;
  if (!strcmp(op, "grayscale")) {
    out->op = RSIM__OP_GRAYSCALE;
    if (nw != 1) goto bad;
  } else if (!strcmp(op, "downscale") || !strcmp(op, "decimate")) {
    out->op = op[1] == 'o' ? RSIM__OP_DOWNSCALE : RSIM__OP_DECIMATE;
    if (nw != 2 || rsim_parse_int(w[1], 1, 64, &n, NULL)) goto bad;
    out->n = (int)n;
  } else if (!strcmp(op, "range_crop")) {
    out->op = RSIM__OP_RANGE_CROP;
    if (nw != 3 || rsim_parse_real(w[1], 0, 1e9, &a, NULL) || rsim_parse_real(w[2], 0, 1e9, &b, NULL) || !(b > a))
      goto bad;
    out->a = a;
    out->b = b;
  } else if (!strcmp(op, "scale")) {
    out->op = RSIM__OP_SCALE;
    if (nw != 3 || strlen(w[1]) >= sizeof out->field || rsim_parse_real(w[2], -1e300, 1e300, &a, NULL)) goto bad;
    snprintf(out->field, sizeof out->field, "%s", w[1]);
    out->a = a;
  } else {
    snprintf(msg, msg_len,
             "unknown transform '%s' (known: grayscale, downscale N, decimate N, range_crop MIN MAX, "
             "scale FIELD FACTOR)", op);
    return RSIM_EINVAL;
  }
  return RSIM_OK;
bad:
  snprintf(msg, msg_len,
           "transform '%s': expected grayscale, downscale N (1-64), decimate N (1-64), "
           "range_crop MIN MAX (metres, 0 <= MIN < MAX) or scale FIELD FACTOR", text);
  return RSIM_EINVAL;
}

static int camera_geometry(const rsim_reading *r, int *w, int *h, int *ch, char *msg, size_t n) {
  if (rsim_reading_frame(r, w, h, ch)) return RSIM_OK;
  snprintf(msg, n, "camera reading of %s is not rgb8/mono8 of its width x height", r->sensor_id);
  return RSIM_EINVAL;
}

static void set_geometry(rsim_reading *r, int w, int h, int ch) {
  char b[24];
  snprintf(b, sizeof b, "%d", w);
  meta_set(r, "width", b);
  snprintf(b, sizeof b, "%d", h);
  meta_set(r, "height", b);
  meta_set(r, "encoding", ch == 1 ? "mono8" : "rgb8");
}

static int op_grayscale(rsim_reading *r, char *msg, size_t n) {
  int w, h, ch;
  if (camera_geometry(r, &w, &h, &ch, msg, n)) return RSIM_EINVAL;
  if (ch == 1) return RSIM_OK;
  size_t px = (size_t)w * (size_t)h;
  for (size_t i = 0; i < px; i++) {
    const uint8_t *p = r->payload + 3 * i;
    /* ITU-R BT.601 luma in integers: 0.299 R + 0.587 G + 0.114 B. */
    r->payload[i] = (uint8_t)((299u * p[0] + 587u * p[1] + 114u * p[2] + 500u) / 1000u);
  }
  r->payload_len = px;
  set_geometry(r, w, h, 1);
  return RSIM_OK;
}

static int op_downscale(rsim_reading *r, int f, char *msg, size_t n) {
  int w, h, ch;
  if (camera_geometry(r, &w, &h, &ch, msg, n)) return RSIM_EINVAL;
  int ow = w / f, oh = h / f;
  if (ow < 1 || oh < 1) {
    snprintf(msg, n, "downscale %d of a %dx%d frame of %s leaves nothing", f, w, h, r->sensor_id);
    return RSIM_EINVAL;
  }
  /* In place is safe: output pixel (x, y) is written after every input
  ** pixel at or before it was read. */
  for (int y = 0; y < oh; y++)
    for (int x = 0; x < ow; x++)
      for (int c = 0; c < ch; c++) {
        unsigned sum = 0;
        for (int dy = 0; dy < f; dy++)
          for (int dx = 0; dx < f; dx++)
            sum += r->payload[((size_t)(y * f + dy) * (size_t)w + (size_t)(x * f + dx)) * (size_t)ch + (size_t)c];
        unsigned cnt = (unsigned)(f * f);
        r->payload[((size_t)y * (size_t)ow + (size_t)x) * (size_t)ch + (size_t)c] = (uint8_t)((sum + cnt / 2) / cnt);
      }
  r->payload_len = (size_t)ow * (size_t)oh * (size_t)ch;
  set_geometry(r, ow, oh, ch);
  return RSIM_OK;
}

/* Points of a cloud (lidar: x y z i, 16 B) or a scan (radar: range az rr
** rcs el, 20 B), after the u32 count. */
static int cloud_layout(const rsim_reading *r, size_t *stride, uint32_t *count, char *msg, size_t n) {
  *stride = r->kind == RSIM_SENSOR_LIDAR ? 16 : r->kind == RSIM_SENSOR_RADAR ? 20 : 0;
  if (!*stride || r->payload_len < 4) goto bad;
  *count = (uint32_t)r->payload[0] | (uint32_t)r->payload[1] << 8 | (uint32_t)r->payload[2] << 16 |
           (uint32_t)r->payload[3] << 24;
  if ((r->payload_len - 4) / *stride != *count || (r->payload_len - 4) % *stride) goto bad;
  return RSIM_OK;
bad:
  snprintf(msg, n, "reading of %s is not a lidar cloud or radar scan as docs/sensors.md lays out", r->sensor_id);
  return RSIM_EINVAL;
}

static void put_count(rsim_reading *r, uint32_t count, size_t stride) {
  for (int i = 0; i < 4; i++) r->payload[i] = (uint8_t)(count >> (8 * i));
  r->payload_len = 4 + (size_t)count * stride;
}

static int op_points(rsim_reading *r, const rsim__xform *x, char *msg, size_t n) {
  size_t stride;
  uint32_t count, kept = 0;
  if (cloud_layout(r, &stride, &count, msg, n)) return RSIM_EINVAL;
  for (uint32_t i = 0; i < count; i++) {
    const uint8_t *p = r->payload + 4 + i * stride;
    bool keep;
    if (x->op == RSIM__OP_DECIMATE) {
      keep = i % (uint32_t)x->n == 0;
    } else {
      double range;
      if (r->kind == RSIM_SENSOR_RADAR) {
        range = rsim_le_f32(p);
      } else {
        double px = rsim_le_f32(p), py = rsim_le_f32(p + 4), pz = rsim_le_f32(p + 8);
        range = sqrt(px * px + py * py + pz * pz);
      }
      keep = range >= x->a && range <= x->b;
    }
    if (keep) memmove(r->payload + 4 + kept++ * stride, p, stride);
  }
  put_count(r, kept, stride);
  return RSIM_OK;
}

/* scale FIELD FACTOR: the f32 fields each numeric kind offers. */
static int field_offset(rsim_sensor_kind k, const char *name) {
  static const struct {
    rsim_sensor_kind kind;
    const char *name;
    int offset;
  } kFields[] = {
      {RSIM_SENSOR_ULTRASONIC, "distance", 0}, {RSIM_SENSOR_ULTRASONIC, "max_range", 4},
      {RSIM_SENSOR_IMU, "ax", 0},  {RSIM_SENSOR_IMU, "ay", 4},  {RSIM_SENSOR_IMU, "az", 8},
      {RSIM_SENSOR_IMU, "gx", 12}, {RSIM_SENSOR_IMU, "gy", 16}, {RSIM_SENSOR_IMU, "gz", 20},
      {RSIM_SENSOR_GPS, "accuracy", 24}, {RSIM_SENSOR_GPS, "speed", 28}, {RSIM_SENSOR_GPS, "course", 32},
  };
  for (size_t i = 0; i < sizeof kFields / sizeof kFields[0]; i++)
    if (kFields[i].kind == k && !strcmp(kFields[i].name, name)) return kFields[i].offset;
  return -1;
}

static int op_scale(rsim_reading *r, const rsim__xform *x, char *msg, size_t n) {
  int off = field_offset(r->kind, x->field);
  size_t need = r->kind == RSIM_SENSOR_ULTRASONIC ? 8 : r->kind == RSIM_SENSOR_IMU ? 24 : 40;
  if (off < 0 || r->payload_len != need) {
    snprintf(msg, n, "scale: %s readings of %s have no field '%s' (docs/graph.md lists them)",
             rsim_sensor_kind_name(r->kind), r->sensor_id, x->field);
    return RSIM_EINVAL;
  }
  rsim_le_put_f32(r->payload + off, (float)((double)rsim_le_f32(r->payload + off) * x->a));
  return RSIM_OK;
}

int rsim__transform(const rsim__xform *ops, size_t n_ops, const rsim_reading *in,
                    rsim_reading *out, char *msg, size_t msg_len) {
  rsim_reading_copy(out, in);
  for (size_t i = 0; i < n_ops; i++) {
    const rsim__xform *x = &ops[i];
    int rc;
    if ((x->op == RSIM__OP_GRAYSCALE || x->op == RSIM__OP_DOWNSCALE) && in->kind != RSIM_SENSOR_CAMERA)
      rc = RSIM_EINVAL, snprintf(msg, msg_len, "%s is a %s sensor; grayscale and downscale apply to cameras",
                                 in->sensor_id, rsim_sensor_kind_name(in->kind));
    else if (x->op == RSIM__OP_GRAYSCALE) rc = op_grayscale(out, msg, msg_len);
    else if (x->op == RSIM__OP_DOWNSCALE) rc = op_downscale(out, x->n, msg, msg_len);
    else if (x->op == RSIM__OP_SCALE) rc = op_scale(out, x, msg, msg_len);
    else rc = op_points(out, x, msg, msg_len);
    if (rc) {
      rsim_reading_clear(out);
      return rc;
    }
  }
  return RSIM_OK;
}
