/*
** layout.c -- readings in the layouts of docs/sensors.md, built from the
** parts every message family decodes to (an image with its encoding, a
** compressed image, a point cloud with named fields, a fix, an IMU sample).
** ros2.c and foxglove.c only parse their wire formats and call these, so a
** camera frame from sensor_msgs/Image and one from foxglove.RawImage become
** the same bytes.
**
** Sizes are checked against the data before anything is allocated: a
** message's numbers are never trusted.
*/
#include <math.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

#include "store/codec.h"

#define MAX_SIDE 16384u

void rsim__layout_image_meta(rsim_reading *r, const char *enc, int w, int h) {
  char num[2][16];
  snprintf(num[0], sizeof num[0], "%d", w);
  snprintf(num[1], sizeof num[1], "%d", h);
  r->n_meta = 3;
  r->meta = rsim_xcalloc(3, sizeof *r->meta);
  r->meta[0] = (rsim_kv){rsim_xstrdup("encoding"), rsim_xstrdup(enc)};
  r->meta[1] = (rsim_kv){rsim_xstrdup("width"), rsim_xstrdup(num[0])};
  r->meta[2] = (rsim_kv){rsim_xstrdup("height"), rsim_xstrdup(num[1])};
}

int rsim__layout_image(rsim_reading *r, const char *enc, uint32_t w, uint32_t h, uint32_t step,
                       const uint8_t *d, size_t n, char *why) {
  int bpp = !strcmp(enc, "mono8") ? 1 : (!strcmp(enc, "rgb8") || !strcmp(enc, "bgr8")) ? 3 : 0;
  if (!bpp) {
    snprintf(why, RSIM__WHY, "image encoding '%.40s' is not supported (rgb8, bgr8, mono8)", enc);
    return RSIM_ENOTSUP;
  }
  if (!step) step = w * (uint32_t)bpp; /* Foxglove allows 0 for packed rows */
  if (!w || !h || w > MAX_SIDE || h > MAX_SIDE || step < w * (uint32_t)bpp || (uint64_t)step * (h - 1) + w * (uint64_t)bpp > n) {
    snprintf(why, RSIM__WHY, "image size %ux%u (step %u) does not match its %zu bytes of data", w, h, step, n);
    return RSIM_ECORRUPT;
  }
  size_t row = (size_t)w * (size_t)bpp;
  r->payload_len = row * h;
  r->payload = rsim_xmalloc(r->payload_len);
  for (uint32_t y = 0; y < h; y++) memcpy(r->payload + y * row, d + (size_t)y * step, row);
  if (!strcmp(enc, "bgr8"))
    for (size_t i = 0; i + 2 < r->payload_len; i += 3) {
      uint8_t t = r->payload[i];
      r->payload[i] = r->payload[i + 2];
      r->payload[i + 2] = t;
    }
  rsim__layout_image_meta(r, bpp == 1 ? "mono8" : "rgb8", (int)w, (int)h);
  return RSIM_OK;
}

static int decode_jpeg(const uint8_t *d, size_t n, rsim_reading *r) {
  tjhandle tj = tjInitDecompress();
  int w, h, sub, cs;
  int ok = tj && n <= 0xffffffffu && !tjDecompressHeader3(tj, d, (unsigned long)n, &w, &h, &sub, &cs) && w > 0 &&
           h > 0 && w <= (int)MAX_SIDE && h <= (int)MAX_SIDE;
  if (ok) {
    r->payload_len = (size_t)w * (size_t)h * 3;
    r->payload = rsim_xmalloc(r->payload_len);
    ok = !tjDecompress2(tj, d, (unsigned long)n, r->payload, w, 0, h, TJPF_RGB, 0);
  }
  if (tj) tjDestroy(tj);
  if (ok) rsim__layout_image_meta(r, "rgb8", w, h);
  return ok ? RSIM_OK : RSIM_ECORRUPT;
}

static int decode_png(const uint8_t *d, size_t n, rsim_reading *r) {
  png_image img;
  memset(&img, 0, sizeof img);
  img.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&img, d, n)) return RSIM_ECORRUPT;
  if (img.width > MAX_SIDE || img.height > MAX_SIDE) {
    png_image_free(&img);
    return RSIM_ECORRUPT;
  }
  img.format = PNG_FORMAT_RGB;
  r->payload_len = PNG_IMAGE_SIZE(img);
  r->payload = rsim_xmalloc(r->payload_len);
  if (!png_image_finish_read(&img, NULL, r->payload, 0, NULL)) {
    png_image_free(&img);
    return RSIM_ECORRUPT;
  }
  rsim__layout_image_meta(r, "rgb8", (int)img.width, (int)img.height);
  return RSIM_OK;
}

int rsim__layout_compressed(rsim_reading *r, const char *format, const uint8_t *d, size_t n, char *why) {
  int rc;
  if (strstr(format, "jpeg") || strstr(format, "jpg")) rc = decode_jpeg(d, n, r);
  else if (strstr(format, "png")) rc = decode_png(d, n, r);
  else {
    snprintf(why, RSIM__WHY, "compressed image format '%.40s' is not supported (jpeg, png)", format);
    return RSIM_ENOTSUP;
  }
  if (rc) snprintf(why, RSIM__WHY, "the %s image does not decode", strstr(format, "png") ? "PNG" : "JPEG");
  return rc;
}

static size_t pf_size(int type) {
  static const size_t size[] = {0, 1, 1, 2, 2, 4, 4, 4, 8};
  return type > 0 && type <= RSIM__PF_F64 ? size[type] : 0;
}

static double pf_value(const uint8_t *p, int type) {
  switch (type) {
    case RSIM__PF_I8: return (int8_t)p[0];
    case RSIM__PF_U8: return p[0];
    case RSIM__PF_I16: return (int16_t)(uint16_t)(p[0] | p[1] << 8);
    case RSIM__PF_U16: return (uint16_t)(p[0] | p[1] << 8);
    case RSIM__PF_I32: return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
    case RSIM__PF_U32: return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    case RSIM__PF_F32: return rsim_le_f32(p);
    case RSIM__PF_F64: return rsim_le_f64(p);
    default: return 0;
  }
}

/* The index of the field named name, -1 when absent. */
static int find_field(const rsim__pfield *f, size_t nf, const char *name) {
  for (size_t i = 0; i < nf; i++)
    if (!strcmp(f[i].name, name) && pf_size(f[i].type)) return (int)i;
  return -1;
}

int rsim__layout_cloud(rsim_reading *r, rsim_sensor_kind kind, const rsim__pfield *f, size_t nf,
                       uint32_t point_step, uint32_t row_step, uint32_t w, uint32_t h, const uint8_t *d,
                       size_t n, char *why) {
  /* Lidar wants x y z intensity; radar wants its own fields, or x y z. */
  static const char *const lidar[] = {"x", "y", "z", "intensity"};
  static const char *const radar[] = {"range", "azimuth", "range_rate", "rcs", "elevation"};
  const char *const *want = kind == RSIM_SENSOR_RADAR ? radar : lidar;
  int nw = kind == RSIM_SENSOR_RADAR ? 5 : 4;
  int idx[5], xyz[3];
  for (int k = 0; k < nw; k++) idx[k] = find_field(f, nf, want[k]);
  for (int k = 0; k < 3; k++) xyz[k] = find_field(f, nf, lidar[k]);
  bool polar = kind == RSIM_SENSOR_RADAR && idx[0] >= 0 && idx[1] >= 0;
  if (!polar && (xyz[0] < 0 || xyz[1] < 0 || xyz[2] < 0)) {
    snprintf(why, RSIM__WHY, "point cloud without numeric x, y, z fields%s",
             kind == RSIM_SENSOR_RADAR ? " (or range and azimuth)" : "");
    return RSIM_ECORRUPT;
  }
  for (size_t i = 0; i < nf; i++)
    if (pf_size(f[i].type) && (uint64_t)f[i].offset + pf_size(f[i].type) > point_step) {
      snprintf(why, RSIM__WHY, "point field '%.31s' lies past the point stride %u", f[i].name, point_step);
      return RSIM_ECORRUPT;
    }
  if (!row_step) row_step = point_step * w;
  uint64_t count = (uint64_t)w * h;
  if ((uint64_t)point_step * w > row_step || (h && (uint64_t)row_step * (h - 1) + (uint64_t)point_step * w > n) ||
      count > 0x7fffffffu / 20) {
    snprintf(why, RSIM__WHY, "point cloud of %ux%u points (stride %u) does not match its %zu bytes", w, h,
             point_step, n);
    return RSIM_ECORRUPT;
  }
  size_t stride = kind == RSIM_SENSOR_RADAR ? 20 : 16;
  r->payload_len = 4 + stride * (size_t)count;
  r->payload = rsim_xcalloc(1, r->payload_len);
  uint32_t cnt = (uint32_t)count;
  memcpy(r->payload, &cnt, 4);
  size_t i = 0;
  for (uint32_t y = 0; y < h; y++)
    for (uint32_t x = 0; x < w; x++, i++) {
      const uint8_t *pt = d + (size_t)y * row_step + (size_t)x * point_step;
      uint8_t *out = r->payload + 4 + stride * i;
      double v[5] = {0};
      for (int k = 0; k < nw; k++) v[k] = idx[k] >= 0 ? pf_value(pt + f[idx[k]].offset, f[idx[k]].type) : 0;
      if (kind == RSIM_SENSOR_RADAR && !polar) {
        double px = pf_value(pt + f[xyz[0]].offset, f[xyz[0]].type);
        double py = pf_value(pt + f[xyz[1]].offset, f[xyz[1]].type);
        double pz = pf_value(pt + f[xyz[2]].offset, f[xyz[2]].type);
        double planar = sqrt(px * px + py * py);
        v[0] = sqrt(px * px + py * py + pz * pz);
        v[1] = atan2(py, px);
        v[4] = atan2(pz, planar);
      }
      for (int k = 0; k < nw; k++) rsim_le_put_f32(out + 4 * k, (float)v[k]);
    }
  return RSIM_OK;
}

void rsim__layout_gps(rsim_reading *r, double lat, double lon, double alt, float hacc, float speed,
                      float course, float reserved) {
  r->payload_len = 40;
  r->payload = rsim_xcalloc(1, 40);
  memcpy(r->payload, &lat, 8);
  memcpy(r->payload + 8, &lon, 8);
  memcpy(r->payload + 16, &alt, 8);
  memcpy(r->payload + 24, &hacc, 4);
  memcpy(r->payload + 28, &speed, 4);
  memcpy(r->payload + 32, &course, 4);
  memcpy(r->payload + 36, &reserved, 4);
}

void rsim__layout_imu(rsim_reading *r, const double accel[3], const double gyro[3]) {
  r->payload_len = 24;
  r->payload = rsim_xmalloc(24);
  for (int i = 0; i < 3; i++) rsim_le_put_f32(r->payload + 4 * i, (float)accel[i]);
  for (int i = 0; i < 3; i++) rsim_le_put_f32(r->payload + 12 + 4 * i, (float)gyro[i]);
}

int rsim_reading_to_jpeg(const rsim_reading *r, int quality, rsim_buf *out) {
  int w, h, bpp;
  if (!rsim_reading_frame(r, &w, &h, &bpp)) return RSIM_EINVAL;
  tjhandle tj = tjInitCompress();
  unsigned char *jpeg = NULL;
  unsigned long len = 0;
  int bad = !tj || tjCompress2(tj, r->payload, w, 0, h, bpp == 1 ? TJPF_GRAY : TJPF_RGB, &jpeg, &len,
                               bpp == 1 ? TJSAMP_GRAY : TJSAMP_420, quality, 0);
  if (!bad) rsim_buf_append(out, jpeg, len);
  tjFree(jpeg);
  if (tj) tjDestroy(tj);
  return bad ? RSIM_EBACKEND : RSIM_OK;
}
