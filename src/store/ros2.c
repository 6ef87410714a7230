/*
** ros2.c -- ROS 2 messages (CDR, as rosbag2 writes them into MCAP) turned
** into replaysim readings in the layouts of docs/sensors.md:
**
**   sensor_msgs/msg/Image            -> camera (rgb8; bgr8 swapped; mono8 kept)
**   sensor_msgs/msg/CompressedImage  -> camera (JPEG or PNG decoded to rgb8)
**   sensor_msgs/msg/PointCloud2      -> lidar  (x, y, z, intensity as float32)
**   sensor_msgs/msg/Imu              -> imu    (linear acceleration, angular velocity)
**   sensor_msgs/msg/NavSatFix        -> gps    (lat, lon, alt, horizontal accuracy)
**
** CDR (XCDR1): a 4-byte encapsulation header (0x0001 = little endian), then
** fields aligned to their size (at most 8) from the end of the header.
** Every read is bounds-checked; a malformed message is RSIM_ECORRUPT.
*/
#include <math.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

#include "store/store_int.h"

typedef struct cdr {
  const uint8_t *base, *p, *end;
  bool ok;
} cdr;

static void align(cdr *c, size_t n) {
  size_t off = (size_t)(c->p - c->base);
  size_t pad = (n - off % n) % n;
  if ((size_t)(c->end - c->p) < pad) c->ok = false;
  else c->p += pad;
}

static const uint8_t *take(cdr *c, size_t n, size_t a) {
  if (!c->ok) return NULL;
  align(c, a);
  if (!c->ok || (size_t)(c->end - c->p) < n) {
    c->ok = false;
    return NULL;
  }
  const uint8_t *r = c->p;
  c->p += n;
  return r;
}

static uint32_t u32(cdr *c) {
  const uint8_t *b = take(c, 4, 4);
  return b ? (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24 : 0;
}

static uint8_t u8(cdr *c) {
  const uint8_t *b = take(c, 1, 1);
  return b ? b[0] : 0;
}

static double f64(cdr *c) {
  const uint8_t *b = take(c, 8, 8);
  uint64_t u = 0;
  for (int i = 7; b && i >= 0; i--) u = u << 8 | b[i];
  double d;
  memcpy(&d, &u, 8);
  return d;
}

/* A string: uint32 length (with the NUL), then the bytes. */
static void str(cdr *c, char *out, size_t n) {
  uint32_t len = u32(c);
  const uint8_t *b = take(c, len, 1);
  if (!b) return;
  size_t k = len && b[len - 1] == 0 ? len - 1 : len;
  if (k > n - 1) k = n - 1;
  memcpy(out, b, k);
  out[k] = 0;
}

static const uint8_t *bytes(cdr *c, uint32_t *len) {
  *len = u32(c);
  return take(c, *len, 1);
}

static void header(cdr *c) {
  char frame[256];
  u32(c); /* stamp.sec */
  u32(c); /* stamp.nanosec */
  str(c, frame, sizeof frame);
}

static bool start(cdr *c, const uint8_t *data, size_t len) {
  if (len < 4 || data[0] != 0 || data[1] != 1) return false; /* CDR little endian only */
  c->base = data + 4;
  c->p = data + 4;
  c->end = data + len;
  c->ok = true;
  return true;
}

static void set_meta(rsim_reading *r, const char *enc, int w, int h) {
  char num[2][16];
  snprintf(num[0], sizeof num[0], "%d", w);
  snprintf(num[1], sizeof num[1], "%d", h);
  r->n_meta = 3;
  r->meta = rsim_xcalloc(3, sizeof *r->meta);
  r->meta[0] = (rsim_kv){rsim_xstrdup("encoding"), rsim_xstrdup(enc)};
  r->meta[1] = (rsim_kv){rsim_xstrdup("width"), rsim_xstrdup(num[0])};
  r->meta[2] = (rsim_kv){rsim_xstrdup("height"), rsim_xstrdup(num[1])};
}

static int bad(rsim_store *st, const char *sensor, const char *what) {
  return rsim__store_err(st, RSIM_ECORRUPT, "%s: sensor '%s': %s", st->path, sensor, what);
}

/* ---- messages ----------------------------------------------------------------------- */

static int image(rsim_store *st, const char *sensor, cdr *c, rsim_reading *r) {
  char enc[32];
  header(c);
  uint32_t h = u32(c), w = u32(c);
  str(c, enc, sizeof enc);
  u8(c); /* is_bigendian: irrelevant for 8-bit encodings */
  uint32_t step = u32(c), n;
  const uint8_t *d = bytes(c, &n);
  if (!c->ok) return bad(st, sensor, "malformed sensor_msgs/Image");
  int bpp = !strcmp(enc, "mono8") ? 1 : (!strcmp(enc, "rgb8") || !strcmp(enc, "bgr8")) ? 3 : 0;
  if (!bpp) {
    char why[96];
    snprintf(why, sizeof why, "image encoding '%s' is not supported (rgb8, bgr8, mono8)", enc);
    return bad(st, sensor, why);
  }
  if (!w || !h || w > 16384 || h > 16384 || step < w * (uint32_t)bpp || (uint64_t)step * h > n)
    return bad(st, sensor, "image size does not match its data");
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
  set_meta(r, bpp == 1 ? "mono8" : "rgb8", (int)w, (int)h);
  return RSIM_OK;
}

static int decode_jpeg(const uint8_t *d, uint32_t n, rsim_reading *r) {
  tjhandle tj = tjInitDecompress();
  int w, h, sub, cs;
  int ok = tj && !tjDecompressHeader3(tj, d, n, &w, &h, &sub, &cs) && w > 0 && h > 0 && w <= 16384 && h <= 16384;
  if (ok) {
    r->payload_len = (size_t)w * (size_t)h * 3;
    r->payload = rsim_xmalloc(r->payload_len);
    ok = !tjDecompress2(tj, d, n, r->payload, w, 0, h, TJPF_RGB, 0);
  }
  if (tj) tjDestroy(tj);
  if (ok) set_meta(r, "rgb8", w, h);
  return ok ? RSIM_OK : RSIM_ECORRUPT;
}

static int decode_png(const uint8_t *d, uint32_t n, rsim_reading *r) {
  png_image img;
  memset(&img, 0, sizeof img);
  img.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&img, d, n)) return RSIM_ECORRUPT;
  if (img.width > 16384 || img.height > 16384) {
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
  set_meta(r, "rgb8", (int)img.width, (int)img.height);
  return RSIM_OK;
}

static int compressed(rsim_store *st, const char *sensor, cdr *c, rsim_reading *r) {
  char format[64];
  header(c);
  str(c, format, sizeof format);
  uint32_t n;
  const uint8_t *d = bytes(c, &n);
  if (!c->ok) return bad(st, sensor, "malformed sensor_msgs/CompressedImage");
  int rc;
  if (strstr(format, "jpeg") || strstr(format, "jpg")) rc = decode_jpeg(d, n, r);
  else if (strstr(format, "png")) rc = decode_png(d, n, r);
  else {
    char why[128];
    snprintf(why, sizeof why, "compressed image format '%s' is not supported (jpeg, png)", format);
    return bad(st, sensor, why);
  }
  return rc ? bad(st, sensor, "the compressed image does not decode") : RSIM_OK;
}

static float field_value(const uint8_t *p, uint8_t type) {
  if (type == 7) { /* FLOAT32 */
    float f;
    memcpy(&f, p, 4);
    return f;
  }
  double d; /* FLOAT64 */
  memcpy(&d, p, 8);
  return (float)d;
}

static int pointcloud(rsim_store *st, const char *sensor, cdr *c, rsim_reading *r) {
  header(c);
  uint32_t h = u32(c), w = u32(c), nf = u32(c);
  int off[4] = {-1, -1, -1, -1};
  uint8_t type[4] = {0};
  static const char *const names[4] = {"x", "y", "z", "intensity"};
  for (uint32_t i = 0; i < nf && c->ok && i < 64; i++) {
    char name[64];
    str(c, name, sizeof name);
    uint32_t o = u32(c);
    uint8_t t = u8(c);
    u32(c); /* count */
    for (int k = 0; k < 4; k++)
      if (!strcmp(name, names[k]) && (t == 7 || t == 8)) off[k] = (int)o, type[k] = t;
  }
  u8(c); /* is_bigendian */
  uint32_t point_step = u32(c), row_step = u32(c), n;
  const uint8_t *d = bytes(c, &n);
  if (!c->ok) return bad(st, sensor, "malformed sensor_msgs/PointCloud2");
  if (off[0] < 0 || off[1] < 0 || off[2] < 0) return bad(st, sensor, "PointCloud2 without float x, y, z fields");
  for (int k = 0; k < 4; k++)
    if (off[k] >= 0 && (uint64_t)off[k] + (type[k] == 7 ? 4 : 8) > point_step)
      return bad(st, sensor, "PointCloud2 field past its point_step");
  if ((uint64_t)row_step * h > n || (uint64_t)point_step * w > row_step) return bad(st, sensor, "PointCloud2 size does not match its data");
  uint64_t count = (uint64_t)w * h;
  r->payload_len = 4 + 16 * (size_t)count;
  r->payload = rsim_xmalloc(r->payload_len);
  uint32_t cnt = (uint32_t)count;
  memcpy(r->payload, &cnt, 4);
  float *out = (float *)(void *)(r->payload + 4);
  size_t i = 0;
  for (uint32_t y = 0; y < h; y++)
    for (uint32_t x = 0; x < w; x++, i++) {
      const uint8_t *pt = d + (size_t)y * row_step + (size_t)x * point_step;
      float v[4];
      for (int k = 0; k < 4; k++) v[k] = off[k] >= 0 ? field_value(pt + off[k], type[k]) : 0.0f;
      memcpy(out + 4 * i, v, sizeof v);
    }
  return RSIM_OK;
}

static void put_f32(uint8_t *p, double v) {
  float f = (float)v;
  memcpy(p, &f, 4);
}

static int imu(rsim_store *st, const char *sensor, cdr *c, rsim_reading *r) {
  header(c);
  for (int i = 0; i < 4 + 9; i++) f64(c); /* orientation and its covariance */
  double g[3], a[3];
  for (int i = 0; i < 3; i++) g[i] = f64(c);
  for (int i = 0; i < 9; i++) f64(c);
  for (int i = 0; i < 3; i++) a[i] = f64(c);
  if (!c->ok) return bad(st, sensor, "malformed sensor_msgs/Imu");
  r->payload_len = 24;
  r->payload = rsim_xmalloc(24);
  for (int i = 0; i < 3; i++) put_f32(r->payload + 4 * i, a[i]);
  for (int i = 0; i < 3; i++) put_f32(r->payload + 12 + 4 * i, g[i]);
  return RSIM_OK;
}

static int navsatfix(rsim_store *st, const char *sensor, cdr *c, rsim_reading *r) {
  header(c);
  u8(c); /* status.status */
  take(c, 2, 2); /* status.service */
  double lat = f64(c), lon = f64(c), alt = f64(c), cov0 = f64(c);
  for (int i = 1; i < 9; i++) f64(c);
  if (!c->ok) return bad(st, sensor, "malformed sensor_msgs/NavSatFix");
  r->payload_len = 40;
  r->payload = rsim_xcalloc(1, 40);
  memcpy(r->payload, &lat, 8);
  memcpy(r->payload + 8, &lon, 8);
  memcpy(r->payload + 16, &alt, 8);
  put_f32(r->payload + 24, cov0 > 0 ? sqrt(cov0) : 0);
  return RSIM_OK;
}

static const struct {
  const char *schema;
  rsim_sensor_kind kind;
  int (*fn)(rsim_store *, const char *, cdr *, rsim_reading *);
} kTypes[] = {
    {"sensor_msgs/msg/Image", RSIM_SENSOR_CAMERA, image},
    {"sensor_msgs/msg/CompressedImage", RSIM_SENSOR_CAMERA, compressed},
    {"sensor_msgs/msg/PointCloud2", RSIM_SENSOR_LIDAR, pointcloud},
    {"sensor_msgs/msg/Imu", RSIM_SENSOR_IMU, imu},
    {"sensor_msgs/msg/NavSatFix", RSIM_SENSOR_GPS, navsatfix},
};

int rsim__ros2_kind(const char *schema, const char *encoding, rsim_sensor_kind *kind) {
  if (strcmp(encoding, "cdr")) return -1;
  for (size_t i = 0; i < sizeof kTypes / sizeof *kTypes; i++)
    if (!strcmp(kTypes[i].schema, schema)) {
      *kind = kTypes[i].kind;
      return (int)i;
    }
  return -1;
}

int rsim__ros2_decode(rsim_store *st, int type, const char *sensor, const uint8_t *data, size_t len,
                      rsim_reading *r) {
  cdr c;
  if (!start(&c, data, len)) return bad(st, sensor, "not a little-endian CDR message");
  return kTypes[type].fn(st, sensor, &c, r);
}
