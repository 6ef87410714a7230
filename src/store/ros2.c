/*
** ros2.c -- ROS 2 messages (CDR, as rosbag2 writes them into MCAP) turned
** into replaysim readings in the layouts of docs/sensors.md:
**
**   sensor_msgs/msg/Image            -> camera (rgb8; bgr8 swapped; mono8 kept)
**   sensor_msgs/msg/CompressedImage  -> camera (JPEG or PNG decoded to rgb8)
**   sensor_msgs/msg/PointCloud2      -> lidar  (x, y, z, intensity), or radar when
**                                       the topic map says so (layout.c)
**   sensor_msgs/msg/Imu              -> imu    (linear acceleration, angular velocity)
**   sensor_msgs/msg/NavSatFix        -> gps    (lat, lon, alt, horizontal accuracy
**                                       from the east/north covariance)
**   radar_msgs/msg/RadarScan         -> radar  (range, azimuth, doppler as range
**                                       rate, amplitude as rcs, elevation)
**   can_msgs/msg/Frame               -> can    (id, dlc, data)
**   sensor_msgs/msg/Range            -> ultrasonic (range, max_range)
**
** CDR (XCDR1): a 4-byte encapsulation header (0x0001 = little endian), then
** fields aligned to their size (at most 8) from the end of the header.
** Every read is bounds-checked; a malformed message is RSIM_ECORRUPT.
*/
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "store/codec.h"

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

/* ---- messages ----------------------------------------------------------------------- */

static int malformed(const char *type, char *why) {
  snprintf(why, RSIM__WHY, "malformed sensor_msgs/%s", type);
  return RSIM_ECORRUPT;
}

static int image(cdr *c, rsim_sensor_kind kind, rsim_reading *r, char *why) {
  (void)kind;
  char enc[32];
  header(c);
  uint32_t h = u32(c), w = u32(c);
  str(c, enc, sizeof enc);
  u8(c); /* is_bigendian: irrelevant for 8-bit encodings */
  uint32_t step = u32(c), n;
  const uint8_t *d = bytes(c, &n);
  if (!c->ok) return malformed("Image", why);
  return rsim__layout_image(r, enc, w, h, step, d, n, why);
}

static int compressed(cdr *c, rsim_sensor_kind kind, rsim_reading *r, char *why) {
  (void)kind;
  char format[64];
  header(c);
  str(c, format, sizeof format);
  uint32_t n;
  const uint8_t *d = bytes(c, &n);
  if (!c->ok) return malformed("CompressedImage", why);
  return rsim__layout_compressed(r, format, d, n, why);
}

/* PointField datatypes: INT8 1, UINT8 2, INT16 3, UINT16 4, INT32 5, UINT32 6, FLOAT32 7, FLOAT64 8. */
static int pf_type(uint8_t t) {
  static const int map[] = {RSIM__PF_NONE, RSIM__PF_I8,  RSIM__PF_U8,  RSIM__PF_I16, RSIM__PF_U16,
                            RSIM__PF_I32,  RSIM__PF_U32, RSIM__PF_F32, RSIM__PF_F64};
  return t < sizeof map / sizeof *map ? map[t] : RSIM__PF_NONE;
}

static int pointcloud(cdr *c, rsim_sensor_kind kind, rsim_reading *r, char *why) {
  header(c);
  uint32_t h = u32(c), w = u32(c), nf = u32(c);
  rsim__pfield f[32];
  size_t kept = 0;
  for (uint32_t i = 0; i < nf && c->ok; i++) {
    rsim__pfield pf;
    str(c, pf.name, sizeof pf.name);
    pf.offset = u32(c);
    pf.type = pf_type(u8(c));
    u32(c); /* count */
    if (kept < sizeof f / sizeof *f) f[kept++] = pf;
  }
  uint8_t big = u8(c);
  uint32_t point_step = u32(c), row_step = u32(c), n;
  const uint8_t *d = bytes(c, &n);
  if (!c->ok) return malformed("PointCloud2", why);
  if (big) {
    snprintf(why, RSIM__WHY, "big-endian PointCloud2 data is not supported");
    return RSIM_ENOTSUP;
  }
  return rsim__layout_cloud(r, kind, f, kept, point_step, row_step, w, h, d, n, why);
}

static int imu(cdr *c, rsim_sensor_kind kind, rsim_reading *r, char *why) {
  (void)kind;
  header(c);
  for (int i = 0; i < 4 + 9; i++) f64(c); /* orientation and its covariance */
  double g[3], a[3];
  for (int i = 0; i < 3; i++) g[i] = f64(c);
  for (int i = 0; i < 9; i++) f64(c);
  for (int i = 0; i < 3; i++) a[i] = f64(c);
  if (!c->ok) return malformed("Imu", why);
  rsim__layout_imu(r, a, g);
  return RSIM_OK;
}

static int navsatfix(cdr *c, rsim_sensor_kind kind, rsim_reading *r, char *why) {
  (void)kind;
  header(c);
  u8(c); /* status.status */
  take(c, 2, 2); /* status.service */
  double lat = f64(c), lon = f64(c), alt = f64(c), cov[9];
  for (int i = 0; i < 9; i++) cov[i] = f64(c);
  if (!c->ok) return malformed("NavSatFix", why);
  /* Horizontal accuracy: the RMS of the east and north sigmas. */
  double hv = (cov[0] + cov[4]) / 2;
  rsim__layout_gps(r, lat, lon, alt, hv > 0 ? (float)sqrt(hv) : 0.0f, 0, 0, 0);
  return RSIM_OK;
}

static int radar_scan(cdr *c, rsim_sensor_kind kind, rsim_reading *r, char *why) {
  (void)kind;
  header(c);
  uint32_t n = u32(c);
  /* Five float32 a return: the count cannot claim more than the bytes hold. */
  if (!c->ok || (uint64_t)n * 20 > (uint64_t)(c->end - c->p)) return malformed("RadarScan", why);
  r->payload_len = 4 + 20 * (size_t)n;
  r->payload = rsim_xcalloc(1, r->payload_len);
  memcpy(r->payload, &n, 4);
  for (uint32_t i = 0; i < n && c->ok; i++) {
    const uint8_t *b = take(c, 20, 4);
    if (!b) break;
    float range = rsim_le_f32(b), az = rsim_le_f32(b + 4), el = rsim_le_f32(b + 8), doppler = rsim_le_f32(b + 12),
          amp = rsim_le_f32(b + 16);
    uint8_t *o = r->payload + 4 + 20 * (size_t)i;
    rsim_le_put_f32(o, range);
    rsim_le_put_f32(o + 4, az);
    rsim_le_put_f32(o + 8, doppler);
    rsim_le_put_f32(o + 12, amp);
    rsim_le_put_f32(o + 16, el);
  }
  if (!c->ok) return malformed("RadarScan", why);
  return RSIM_OK;
}

static int can_frame(cdr *c, rsim_sensor_kind kind, rsim_reading *r, char *why) {
  (void)kind;
  header(c);
  uint32_t id = u32(c);
  u8(c); /* is_rtr */
  uint8_t ext = u8(c);
  u8(c); /* is_error */
  uint8_t dlc = u8(c);
  const uint8_t *data = take(c, 8, 1);
  if (!c->ok) return malformed("can_msgs/Frame", why);
  if (dlc > 8) {
    snprintf(why, RSIM__WHY, "CAN frame with dlc %u (at most 8)", dlc);
    return RSIM_ECORRUPT;
  }
  (void)ext; /* docs/sensors.md keeps the identifier as it is, 11 or 29 bits */
  r->payload_len = 16;
  r->payload = rsim_xcalloc(1, 16);
  memcpy(r->payload, &id, 4);
  r->payload[4] = dlc;
  memcpy(r->payload + 5, data, dlc);
  return RSIM_OK;
}

static int range(cdr *c, rsim_sensor_kind kind, rsim_reading *r, char *why) {
  (void)kind;
  header(c);
  u8(c); /* radiation_type */
  const uint8_t *b = take(c, 16, 4); /* field_of_view, min_range, max_range, range */
  if (!c->ok) return malformed("Range", why);
  r->payload_len = 8;
  r->payload = rsim_xmalloc(8);
  rsim_le_put_f32(r->payload, rsim_le_f32(b + 12));
  rsim_le_put_f32(r->payload + 4, rsim_le_f32(b + 8));
  return RSIM_OK;
}

static const struct {
  const char *schema;
  rsim_sensor_kind kind;
  int (*fn)(cdr *, rsim_sensor_kind, rsim_reading *, char *);
} kTypes[] = {
    {"sensor_msgs/msg/Image", RSIM_SENSOR_CAMERA, image},
    {"sensor_msgs/msg/CompressedImage", RSIM_SENSOR_CAMERA, compressed},
    {"sensor_msgs/msg/PointCloud2", RSIM_SENSOR_LIDAR, pointcloud},
    {"sensor_msgs/msg/Imu", RSIM_SENSOR_IMU, imu},
    {"sensor_msgs/msg/NavSatFix", RSIM_SENSOR_GPS, navsatfix},
    {"radar_msgs/msg/RadarScan", RSIM_SENSOR_RADAR, radar_scan},
    {"can_msgs/msg/Frame", RSIM_SENSOR_CAN, can_frame},
    {"sensor_msgs/msg/Range", RSIM_SENSOR_ULTRASONIC, range},
};

int rsim__ros2_type(const char *schema, const char *encoding, rsim_sensor_kind *kind) {
  if (strcmp(encoding, "cdr")) return -1;
  for (size_t i = 0; i < sizeof kTypes / sizeof *kTypes; i++)
    if (!strcmp(kTypes[i].schema, schema)) {
      *kind = kTypes[i].kind;
      return (int)i;
    }
  return -1;
}

bool rsim__ros2_kind_ok(int type, rsim_sensor_kind kind) {
  if (kTypes[type].fn == pointcloud) return kind == RSIM_SENSOR_LIDAR || kind == RSIM_SENSOR_RADAR;
  return kind == kTypes[type].kind;
}

int rsim__ros2_decode(int type, rsim_sensor_kind kind, const uint8_t *data, size_t len, rsim_reading *r,
                      char *why) {
  cdr c;
  if (!start(&c, data, len)) {
    snprintf(why, RSIM__WHY, "not a little-endian CDR message");
    return RSIM_ECORRUPT;
  }
  return kTypes[type].fn(&c, kind, r, why);
}
