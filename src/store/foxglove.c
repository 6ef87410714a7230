/*
** foxglove.c -- Foxglove's well-known schemas in MCAP, read and written:
**
**   foxglove.RawImage         -> camera (rgb8, bgr8, mono8)
**   foxglove.CompressedImage  -> camera (JPEG, PNG decoded to rgb8)
**   foxglove.PointCloud       -> lidar (x, y, z, intensity) or radar (range,
**                                azimuth, ... fields, or from x, y, z)
**   foxglove.LocationFix      -> gps
**
** in both of Foxglove's encodings: protobuf (schema = FileDescriptorSet,
** field numbers looked up by name in it) and JSON (bytes in base64).  A
** channel is bound once (rsim__fox_bind): the field numbers are resolved
** then, so decoding a message is a walk over its fields.
**
** Writing (generate --out x.mcap) uses protobuf with descriptors built
** here, and only where the Foxglove message holds the reading exactly: the
** readings of a Foxglove file replay to the same digest as the SQLite drive.
** GPS speed and course have no LocationFix field; they travel in its
** metadata as rsim.speed_mps and rsim.course_rad ("%.9g" round-trips f32).
*/
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/codec.h"

enum { FX_RAW, FX_COMPRESSED, FX_CLOUD, FX_FIX, FX_COUNT };

/* Per schema, the fields read (by name); a leading '?' marks an optional one. */
#define MAX_F 6
static const struct {
  const char *name;
  rsim_sensor_kind kind;
  const char *fields[MAX_F];
} kSchemas[FX_COUNT] = {
    {"foxglove.RawImage", RSIM_SENSOR_CAMERA, {"width", "height", "encoding", "?step", "data"}},
    {"foxglove.CompressedImage", RSIM_SENSOR_CAMERA, {"format", "data"}},
    {"foxglove.PointCloud", RSIM_SENSOR_LIDAR, {"point_stride", "fields", "data"}},
    {"foxglove.LocationFix", RSIM_SENSOR_GPS, {"latitude", "longitude", "altitude", "?position_covariance", "?metadata"}},
};
/* Nested messages: PackedElementField {name, offset, type}, KeyValuePair {key, value}. */
static const char *const kElement[3] = {"name", "offset", "type"};
static const char *const kPair[2] = {"key", "value"};

struct rsim__fox {
  int schema;
  bool json;
  rsim_sensor_kind kind;
  uint32_t num[MAX_F];  /* protobuf field numbers; 0 when an optional field is absent */
  uint32_t element[3];
  uint32_t pair[2];
};

static const char *field_name(int schema, int k) {
  const char *f = kSchemas[schema].fields[k];
  return f && *f == '?' ? f + 1 : f;
}

static bool optional(int schema, int k) { return kSchemas[schema].fields[k][0] == '?'; }

/* ---- binding ------------------------------------------------------------------------ */

static int bind_protobuf(rsim__fox *f, const uint8_t *data, size_t n, char *why) {
  rsim__pbdesc *d;
  int rc = rsim__pbdesc_parse(data, n, &d, why);
  if (rc) return rc;
  const char *msg = kSchemas[f->schema].name;
  for (int k = 0; k < MAX_F && kSchemas[f->schema].fields[k] && !rc; k++) {
    int type;
    const char *tn = NULL;
    if (rsim__pbdesc_field(d, msg, field_name(f->schema, k), &f->num[k], &type, &tn)) {
      /* The nested message's fields, when this field has one we read. */
      const char *const *sub = NULL;
      uint32_t *out = NULL;
      int nsub = 0;
      if (!strcmp(field_name(f->schema, k), "fields")) sub = kElement, out = f->element, nsub = 3;
      if (!strcmp(field_name(f->schema, k), "metadata")) sub = kPair, out = f->pair, nsub = 2;
      for (int s = 0; s < nsub && !rc; s++)
        if (!tn || !rsim__pbdesc_field(d, tn, sub[s], &out[s], &type, NULL)) {
          snprintf(why, RSIM__WHY, "schema %s: field %s has no '%s'", msg, field_name(f->schema, k), sub[s]);
          rc = RSIM_ECORRUPT;
        }
    } else if (!optional(f->schema, k)) {
      snprintf(why, RSIM__WHY, "schema %s has no field '%s'", msg, field_name(f->schema, k));
      rc = RSIM_ECORRUPT;
    }
  }
  rsim__pbdesc_free(d);
  return rc;
}

static bool kind_ok(int schema, rsim_sensor_kind kind) {
  if (schema == FX_CLOUD) return kind == RSIM_SENSOR_LIDAR || kind == RSIM_SENSOR_RADAR;
  return kind == kSchemas[schema].kind;
}

bool rsim__fox_reads(const char *schema) {
  for (int s = 0; s < FX_COUNT; s++)
    if (!strcmp(kSchemas[s].name, schema)) return true;
  return false;
}

int rsim__fox_bind(const char *schema, const char *schema_encoding, const uint8_t *schema_data, size_t n,
                   const char *message_encoding, rsim_sensor_kind *kind, rsim__fox **out, char *why) {
  int s = 0;
  while (s < FX_COUNT && strcmp(kSchemas[s].name, schema)) s++;
  if (s == FX_COUNT) return 1;
  bool json = !strcmp(message_encoding, "json");
  if (!json && (strcmp(message_encoding, "protobuf") || strcmp(schema_encoding, "protobuf"))) {
    snprintf(why, RSIM__WHY, "schema %s in message encoding '%.20s' is not supported (protobuf, json)", schema,
             message_encoding);
    return RSIM_ENOTSUP;
  }
  if (*kind == RSIM_SENSOR_KIND_COUNT) *kind = kSchemas[s].kind;
  if (!kind_ok(s, *kind)) {
    snprintf(why, RSIM__WHY, "schema %s cannot be read as a %s sensor", schema, rsim_sensor_kind_name(*kind));
    return RSIM_EINVAL;
  }
  rsim__fox *f = rsim_xcalloc(1, sizeof *f);
  f->schema = s;
  f->json = json;
  f->kind = *kind;
  int rc = json ? RSIM_OK : bind_protobuf(f, schema_data, n, why);
  if (rc) {
    free(f);
    return rc;
  }
  *out = f;
  return RSIM_OK;
}

void rsim__fox_free(rsim__fox *f) { free(f); }

/* ---- decoding: both encodings fill this, then one function per schema ------------------- */

typedef struct fields {
  uint64_t u[MAX_F];     /* integers */
  double d[MAX_F];       /* doubles */
  const uint8_t *p[MAX_F]; /* strings and bytes (JSON: decoded base64, owned) */
  size_t n[MAX_F];
  bool has[MAX_F];
  rsim__pfield elements[32];
  size_t n_elements;
  double cov[9];
  size_t n_cov;
  double speed, course, hacc; /* from LocationFix metadata; NAN when absent */
  uint8_t *owned[MAX_F];
} fields;

static int bad(const rsim__fox *f, const char *what, char *why) {
  snprintf(why, RSIM__WHY, "malformed %s message (%s)", kSchemas[f->schema].name, what);
  return RSIM_ECORRUPT;
}

/* PackedElementField.NumericType: UINT8 1, INT8 2, UINT16 3, INT16 4, UINT32 5, INT32 6, FLOAT32 7, FLOAT64 8. */
static int numeric_type(uint64_t t) {
  static const int map[] = {RSIM__PF_NONE, RSIM__PF_U8,  RSIM__PF_I8,  RSIM__PF_U16, RSIM__PF_I16,
                            RSIM__PF_U32,  RSIM__PF_I32, RSIM__PF_F32, RSIM__PF_F64};
  return t < sizeof map / sizeof *map ? map[t] : RSIM__PF_NONE;
}

static void metadata_value(fields *x, const char *key, const char *value) {
  double v;
  if (rsim_parse_real(value, -1e300, 1e300, &v, NULL)) return; /* not ours to judge: someone else's metadata */
  if (!strcmp(key, "rsim.speed_mps")) x->speed = v;
  else if (!strcmp(key, "rsim.course_rad")) x->course = v;
  else if (!strcmp(key, "rsim.horizontal_accuracy_m")) x->hacc = v;
}

static bool pb_integer(const rsim__pbval *v, uint64_t *out) {
  if (v->wire != 0 && v->wire != 5) return false;
  *out = v->u;
  return true;
}

static int pb_element(const rsim__fox *f, const rsim__pbval *v, rsim__pfield *e) {
  rsim__pbval a;
  uint64_t u;
  memset(e, 0, sizeof *e);
  if (v->wire != 2) return -1;
  int got = rsim__pb_get(v->p, v->n, f->element[0], 0, &a);
  if (got < 0 || (got && a.wire != 2)) return -1;
  if (got) {
    size_t k = a.n < sizeof e->name ? a.n : sizeof e->name - 1;
    memcpy(e->name, a.p, k);
  }
  if ((got = rsim__pb_get(v->p, v->n, f->element[1], 0, &a)) < 0 || (got && !pb_integer(&a, &u))) return -1;
  e->offset = got ? (uint32_t)u : 0;
  if ((got = rsim__pb_get(v->p, v->n, f->element[2], 0, &a)) < 0 || (got && !pb_integer(&a, &u))) return -1;
  e->type = got ? numeric_type(u) : RSIM__PF_NONE;
  return 0;
}

static int pb_pair(const rsim__fox *f, const rsim__pbval *v, fields *x) {
  rsim__pbval k, val;
  if (v->wire != 2 || rsim__pb_get(v->p, v->n, f->pair[0], 0, &k) != 1 ||
      rsim__pb_get(v->p, v->n, f->pair[1], 0, &val) != 1 || k.wire != 2 || val.wire != 2)
    return -1;
  char key[64], value[64];
  if (k.n >= sizeof key || val.n >= sizeof value) return 0; /* not one of ours */
  memcpy(key, k.p, k.n);
  key[k.n] = 0;
  memcpy(value, val.p, val.n);
  value[val.n] = 0;
  metadata_value(x, key, value);
  return 0;
}

/* Repeated doubles: packed (proto3's default) or one per field. */
static int pb_doubles(const uint8_t *msg, size_t n, uint32_t num, double *out, size_t cap, size_t *count) {
  rsim__pbval v;
  int got;
  *count = 0;
  for (size_t i = 0; (got = rsim__pb_get(msg, n, num, i, &v)) == 1; i++) {
    if (v.wire == 1) {
      if (*count < cap) out[(*count)++] = rsim__pb_double(&v);
    } else if (v.wire == 2 && v.n % 8 == 0) {
      for (size_t k = 0; k < v.n / 8; k++)
        if (*count < cap) out[(*count)++] = rsim_le_f64(v.p + 8 * k);
    } else
      return -1;
  }
  return got;
}

static int pb_fields(const rsim__fox *f, const uint8_t *d, size_t n, fields *x, char *why) {
  if (!rsim__pb_valid(d, n)) return bad(f, "not protobuf", why);
  for (int k = 0; k < MAX_F && kSchemas[f->schema].fields[k]; k++) {
    const char *name = field_name(f->schema, k);
    if (!f->num[k]) continue;
    rsim__pbval v;
    if (!strcmp(name, "fields")) {
      for (size_t i = 0; rsim__pb_get(d, n, f->num[k], i, &v) == 1; i++) {
        if (x->n_elements == sizeof x->elements / sizeof *x->elements) break;
        if (pb_element(f, &v, &x->elements[x->n_elements++])) return bad(f, "point field", why);
      }
      continue;
    }
    if (!strcmp(name, "metadata")) {
      for (size_t i = 0; rsim__pb_get(d, n, f->num[k], i, &v) == 1; i++)
        if (pb_pair(f, &v, x)) return bad(f, "metadata", why);
      continue;
    }
    if (!strcmp(name, "position_covariance")) {
      if (pb_doubles(d, n, f->num[k], x->cov, 9, &x->n_cov) < 0) return bad(f, name, why);
      continue;
    }
    /* The last occurrence wins, as protobuf says. */
    size_t i = 0;
    while (rsim__pb_get(d, n, f->num[k], i, &v) == 1) i++;
    if (!i) continue;
    rsim__pb_get(d, n, f->num[k], i - 1, &v);
    x->has[k] = true;
    if (v.wire == 2) x->p[k] = v.p, x->n[k] = v.n;
    else if (v.wire == 1) x->d[k] = rsim__pb_double(&v), x->u[k] = v.u;
    else x->u[k] = v.u;
  }
  return RSIM_OK;
}

/* ---- JSON ---------------------------------------------------------------------------- */

static int b64(int c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}

static uint8_t *base64_decode(const char *s, size_t len, size_t *out_n) {
  uint8_t *out = rsim_xmalloc(len / 4 * 3 + 3);
  size_t n = 0;
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < len; i++) {
    if (s[i] == '=') break;
    int v = b64((unsigned char)s[i]);
    if (v < 0) {
      free(out);
      return NULL;
    }
    acc = acc << 6 | (uint32_t)v;
    if ((bits += 6) >= 8) {
      bits -= 8;
      out[n++] = (uint8_t)(acc >> bits);
    }
  }
  *out_n = n;
  return out;
}

static int numeric_type_name(const char *s) {
  static const char *const names[] = {"UNKNOWN", "UINT8", "INT8", "UINT16", "INT16", "UINT32", "INT32", "FLOAT32", "FLOAT64"};
  for (size_t i = 0; i < sizeof names / sizeof *names; i++)
    if (!strcmp(s, names[i])) return numeric_type(i);
  return RSIM__PF_NONE;
}

static int json_fields(const rsim__fox *f, json_t *root, fields *x, char *why) {
  if (!json_is_object(root)) return bad(f, "not a JSON object", why);
  for (int k = 0; k < MAX_F && kSchemas[f->schema].fields[k]; k++) {
    const char *name = field_name(f->schema, k);
    json_t *v = json_object_get(root, name);
    if (!v) continue;
    if (!strcmp(name, "fields")) {
      if (!json_is_array(v)) return bad(f, name, why);
      for (size_t i = 0; i < json_array_size(v) && x->n_elements < 32; i++) {
        json_t *e = json_array_get(v, i), *nm = json_object_get(e, "name"), *off = json_object_get(e, "offset"),
               *ty = json_object_get(e, "type");
        rsim__pfield *pf = &x->elements[x->n_elements++];
        memset(pf, 0, sizeof *pf);
        if (!json_is_string(nm) || !json_is_integer(off) || json_integer_value(off) < 0) return bad(f, "point field", why);
        snprintf(pf->name, sizeof pf->name, "%s", json_string_value(nm));
        pf->offset = (uint32_t)json_integer_value(off);
        pf->type = json_is_integer(ty) ? numeric_type((uint64_t)json_integer_value(ty))
                   : json_is_string(ty) ? numeric_type_name(json_string_value(ty)) : RSIM__PF_NONE;
      }
    } else if (!strcmp(name, "metadata")) {
      if (!json_is_array(v)) return bad(f, name, why);
      for (size_t i = 0; i < json_array_size(v); i++) {
        json_t *e = json_array_get(v, i), *kk = json_object_get(e, "key"), *vv = json_object_get(e, "value");
        if (json_is_string(kk) && json_is_string(vv)) metadata_value(x, json_string_value(kk), json_string_value(vv));
      }
    } else if (!strcmp(name, "position_covariance")) {
      if (!json_is_array(v)) return bad(f, name, why);
      for (size_t i = 0; i < json_array_size(v) && x->n_cov < 9; i++) x->cov[x->n_cov++] = json_number_value(json_array_get(v, i));
    } else if (json_is_string(v)) {
      const char *s = json_string_value(v);
      size_t len = json_string_length(v);
      x->has[k] = true;
      if (!strcmp(name, "data")) {
        if (!(x->owned[k] = base64_decode(s, len, &x->n[k]))) return bad(f, "data is not base64", why);
        x->p[k] = x->owned[k];
      } else
        x->p[k] = (const uint8_t *)s, x->n[k] = len;
    } else if (json_is_number(v)) {
      x->has[k] = true;
      x->d[k] = json_number_value(v);
      x->u[k] = json_is_integer(v) && json_integer_value(v) >= 0 ? (uint64_t)json_integer_value(v) : 0;
    } else
      return bad(f, name, why);
  }
  return RSIM_OK;
}

/* ---- schemas --------------------------------------------------------------------------- */

static void text(const fields *x, int k, char *out, size_t cap) {
  size_t n = x->has[k] && x->n[k] < cap ? x->n[k] : 0;
  if (n) memcpy(out, x->p[k], n);
  out[n] = 0;
}

static int decode_fields(const rsim__fox *f, const fields *x, rsim_reading *r, char *why) {
  switch (f->schema) {
    case FX_RAW: {
      char enc[32];
      text(x, 2, enc, sizeof enc);
      if (!x->has[4]) return bad(f, "no data", why);
      if (x->u[0] > 0xffffffffu || x->u[1] > 0xffffffffu || x->u[3] > 0xffffffffu) return bad(f, "size", why);
      return rsim__layout_image(r, enc, (uint32_t)x->u[0], (uint32_t)x->u[1], (uint32_t)x->u[3], x->p[4], x->n[4], why);
    }
    case FX_COMPRESSED: {
      char format[32];
      text(x, 0, format, sizeof format);
      if (!x->has[1]) return bad(f, "no data", why);
      return rsim__layout_compressed(r, format, x->p[1], x->n[1], why);
    }
    case FX_CLOUD: {
      uint64_t stride = x->u[0];
      if (!stride || stride > 0xffff) return bad(f, "point_stride", why);
      size_t n = x->has[2] ? x->n[2] : 0;
      uint64_t count = n / stride;
      if (count > 0xffffffffu) return bad(f, "size", why);
      return rsim__layout_cloud(r, f->kind, x->elements, x->n_elements, (uint32_t)stride, 0, (uint32_t)count, 1,
                                x->p[2], n, why);
    }
    default: {
      double hacc = x->hacc;
      if (isnan(hacc)) hacc = x->n_cov >= 5 && x->cov[0] + x->cov[4] > 0 ? sqrt((x->cov[0] + x->cov[4]) / 2) : 0;
      rsim__layout_gps(r, x->d[0], x->d[1], x->d[2], (float)hacc, isnan(x->speed) ? 0.0f : (float)x->speed,
                       isnan(x->course) ? 0.0f : (float)x->course, 0);
      return RSIM_OK;
    }
  }
}

int rsim__fox_decode(const rsim__fox *f, const uint8_t *d, size_t n, rsim_reading *r, char *why) {
  fields x;
  memset(&x, 0, sizeof x);
  x.speed = x.course = x.hacc = NAN;
  int rc;
  json_t *root = NULL;
  if (f->json) {
    json_error_t err;
    root = json_loadb((const char *)d, n, JSON_REJECT_DUPLICATES, &err);
    if (!root) {
      snprintf(why, RSIM__WHY, "malformed %s JSON: %.80s", kSchemas[f->schema].name, err.text);
      return RSIM_ECORRUPT;
    }
    rc = json_fields(f, root, &x, why);
  } else
    rc = pb_fields(f, d, n, &x, why);
  if (!rc) rc = decode_fields(f, &x, r, why);
  for (int k = 0; k < MAX_F; k++) free(x.owned[k]);
  json_decref(root);
  return rc;
}

/* ---- writing: descriptors ----------------------------------------------------------------
** The FileDescriptorSet of each schema we write, built from these tables
** (dependencies first, as descriptor pools want them).  The field numbers
** are Foxglove's own (foxglove-sdk schemas/proto). */

enum { T_DOUBLE = 1, T_INT64 = 3, T_INT32 = 5, T_FIXED32 = 7, T_BOOL = 8, T_STRING = 9, T_MESSAGE = 11, T_BYTES = 12, T_ENUM = 14 };
enum { L_ONE = 1, L_MANY = 3 };

typedef struct fdef {
  const char *name;
  int num, label, type;
  const char *type_name;
} fdef;

typedef struct filedef {
  const char *file, *package, *message;
  const char *deps[6];
  fdef fields[12];
  const char *enum_name;
  const char *enum_values[10];
} filedef;

static const filedef kFiles[] = {
    {"google/protobuf/timestamp.proto", "google.protobuf", "Timestamp", {0},
     {{"seconds", 1, L_ONE, T_INT64, 0}, {"nanos", 2, L_ONE, T_INT32, 0}}, 0, {0}},
    {"foxglove/Vector3.proto", "foxglove", "Vector3", {0},
     {{"x", 1, L_ONE, T_DOUBLE, 0}, {"y", 2, L_ONE, T_DOUBLE, 0}, {"z", 3, L_ONE, T_DOUBLE, 0}}, 0, {0}},
    {"foxglove/Quaternion.proto", "foxglove", "Quaternion", {0},
     {{"x", 1, L_ONE, T_DOUBLE, 0}, {"y", 2, L_ONE, T_DOUBLE, 0}, {"z", 3, L_ONE, T_DOUBLE, 0}, {"w", 4, L_ONE, T_DOUBLE, 0}},
     0, {0}},
    {"foxglove/Pose.proto", "foxglove", "Pose", {"foxglove/Quaternion.proto", "foxglove/Vector3.proto"},
     {{"position", 1, L_ONE, T_MESSAGE, ".foxglove.Vector3"}, {"orientation", 2, L_ONE, T_MESSAGE, ".foxglove.Quaternion"}},
     0, {0}},
    {"foxglove/PackedElementField.proto", "foxglove", "PackedElementField", {0},
     {{"name", 1, L_ONE, T_STRING, 0}, {"offset", 2, L_ONE, T_FIXED32, 0},
      {"type", 3, L_ONE, T_ENUM, ".foxglove.PackedElementField.NumericType"}},
     "NumericType", {"UNKNOWN", "UINT8", "INT8", "UINT16", "INT16", "UINT32", "INT32", "FLOAT32", "FLOAT64"}},
    {"foxglove/KeyValuePair.proto", "foxglove", "KeyValuePair", {0},
     {{"key", 1, L_ONE, T_STRING, 0}, {"value", 2, L_ONE, T_STRING, 0}}, 0, {0}},
    {"foxglove/RawImage.proto", "foxglove", "RawImage", {"google/protobuf/timestamp.proto"},
     {{"timestamp", 1, L_ONE, T_MESSAGE, ".google.protobuf.Timestamp"}, {"frame_id", 7, L_ONE, T_STRING, 0},
      {"width", 2, L_ONE, T_FIXED32, 0}, {"height", 3, L_ONE, T_FIXED32, 0}, {"encoding", 4, L_ONE, T_STRING, 0},
      {"step", 5, L_ONE, T_FIXED32, 0}, {"data", 6, L_ONE, T_BYTES, 0}},
     0, {0}},
    {"foxglove/PointCloud.proto", "foxglove", "PointCloud",
     {"foxglove/PackedElementField.proto", "foxglove/Pose.proto", "google/protobuf/timestamp.proto"},
     {{"timestamp", 1, L_ONE, T_MESSAGE, ".google.protobuf.Timestamp"}, {"frame_id", 2, L_ONE, T_STRING, 0},
      {"pose", 3, L_ONE, T_MESSAGE, ".foxglove.Pose"}, {"point_stride", 4, L_ONE, T_FIXED32, 0},
      {"fields", 5, L_MANY, T_MESSAGE, ".foxglove.PackedElementField"}, {"data", 6, L_ONE, T_BYTES, 0}},
     0, {0}},
    {"foxglove/LocationFix.proto", "foxglove", "LocationFix",
     {"foxglove/KeyValuePair.proto", "google/protobuf/timestamp.proto"},
     {{"timestamp", 6, L_ONE, T_MESSAGE, ".google.protobuf.Timestamp"}, {"frame_id", 7, L_ONE, T_STRING, 0},
      {"latitude", 1, L_ONE, T_DOUBLE, 0}, {"longitude", 2, L_ONE, T_DOUBLE, 0}, {"altitude", 3, L_ONE, T_DOUBLE, 0},
      {"position_covariance", 4, L_MANY, T_DOUBLE, 0},
      {"position_covariance_type", 5, L_ONE, T_ENUM, ".foxglove.LocationFix.PositionCovarianceType"},
      {"metadata", 9, L_MANY, T_MESSAGE, ".foxglove.KeyValuePair"}},
     "PositionCovarianceType", {"UNKNOWN", "APPROXIMATED", "DIAGONAL_KNOWN", "KNOWN"}},
    /* For the live view (src/foxglove): what it sends besides readings.  The
    ** annotation messages carry the fields it fills, at Foxglove's numbers. */
    {"foxglove/CompressedImage.proto", "foxglove", "CompressedImage", {"google/protobuf/timestamp.proto"},
     {{"timestamp", 1, L_ONE, T_MESSAGE, ".google.protobuf.Timestamp"}, {"frame_id", 4, L_ONE, T_STRING, 0},
      {"data", 2, L_ONE, T_BYTES, 0}, {"format", 3, L_ONE, T_STRING, 0}},
     0, {0}},
    {"foxglove/Point2.proto", "foxglove", "Point2", {0},
     {{"x", 1, L_ONE, T_DOUBLE, 0}, {"y", 2, L_ONE, T_DOUBLE, 0}}, 0, {0}},
    {"foxglove/Color.proto", "foxglove", "Color", {0},
     {{"r", 1, L_ONE, T_DOUBLE, 0}, {"g", 2, L_ONE, T_DOUBLE, 0}, {"b", 3, L_ONE, T_DOUBLE, 0}, {"a", 4, L_ONE, T_DOUBLE, 0}},
     0, {0}},
    {"foxglove/PointsAnnotation.proto", "foxglove", "PointsAnnotation",
     {"foxglove/Color.proto", "foxglove/Point2.proto", "google/protobuf/timestamp.proto"},
     {{"timestamp", 1, L_ONE, T_MESSAGE, ".google.protobuf.Timestamp"},
      {"type", 2, L_ONE, T_ENUM, ".foxglove.PointsAnnotation.Type"},
      {"points", 3, L_MANY, T_MESSAGE, ".foxglove.Point2"}, {"outline_color", 4, L_ONE, T_MESSAGE, ".foxglove.Color"},
      {"fill_color", 6, L_ONE, T_MESSAGE, ".foxglove.Color"}, {"thickness", 7, L_ONE, T_DOUBLE, 0}},
     "Type", {"UNKNOWN", "POINTS", "LINE_LOOP", "LINE_STRIP", "LINE_LIST"}},
    {"foxglove/TextAnnotation.proto", "foxglove", "TextAnnotation",
     {"foxglove/Color.proto", "foxglove/Point2.proto", "google/protobuf/timestamp.proto"},
     {{"timestamp", 1, L_ONE, T_MESSAGE, ".google.protobuf.Timestamp"}, {"position", 2, L_ONE, T_MESSAGE, ".foxglove.Point2"},
      {"text", 3, L_ONE, T_STRING, 0}, {"font_size", 4, L_ONE, T_DOUBLE, 0},
      {"text_color", 5, L_ONE, T_MESSAGE, ".foxglove.Color"}, {"background_color", 6, L_ONE, T_MESSAGE, ".foxglove.Color"}},
     0, {0}},
    {"foxglove/ImageAnnotations.proto", "foxglove", "ImageAnnotations",
     {"foxglove/PointsAnnotation.proto", "foxglove/TextAnnotation.proto"},
     {{"points", 2, L_MANY, T_MESSAGE, ".foxglove.PointsAnnotation"}, {"texts", 3, L_MANY, T_MESSAGE, ".foxglove.TextAnnotation"}},
     0, {0}},
    {"google/protobuf/duration.proto", "google.protobuf", "Duration", {0},
     {{"seconds", 1, L_ONE, T_INT64, 0}, {"nanos", 2, L_ONE, T_INT32, 0}}, 0, {0}},
    {"foxglove/Point3.proto", "foxglove", "Point3", {0},
     {{"x", 1, L_ONE, T_DOUBLE, 0}, {"y", 2, L_ONE, T_DOUBLE, 0}, {"z", 3, L_ONE, T_DOUBLE, 0}}, 0, {0}},
    {"foxglove/CubePrimitive.proto", "foxglove", "CubePrimitive",
     {"foxglove/Color.proto", "foxglove/Pose.proto", "foxglove/Vector3.proto"},
     {{"pose", 1, L_ONE, T_MESSAGE, ".foxglove.Pose"}, {"size", 2, L_ONE, T_MESSAGE, ".foxglove.Vector3"},
      {"color", 3, L_ONE, T_MESSAGE, ".foxglove.Color"}},
     0, {0}},
    {"foxglove/LinePrimitive.proto", "foxglove", "LinePrimitive",
     {"foxglove/Color.proto", "foxglove/Point3.proto", "foxglove/Pose.proto"},
     {{"type", 1, L_ONE, T_ENUM, ".foxglove.LinePrimitive.Type"}, {"pose", 2, L_ONE, T_MESSAGE, ".foxglove.Pose"},
      {"thickness", 3, L_ONE, T_DOUBLE, 0}, {"scale_invariant", 4, L_ONE, T_BOOL, 0},
      {"points", 5, L_MANY, T_MESSAGE, ".foxglove.Point3"}, {"color", 6, L_ONE, T_MESSAGE, ".foxglove.Color"}},
     "Type", {"LINE_STRIP", "LINE_LOOP", "LINE_LIST"}},
    {"foxglove/TextPrimitive.proto", "foxglove", "TextPrimitive", {"foxglove/Color.proto", "foxglove/Pose.proto"},
     {{"pose", 1, L_ONE, T_MESSAGE, ".foxglove.Pose"}, {"billboard", 2, L_ONE, T_BOOL, 0},
      {"font_size", 3, L_ONE, T_DOUBLE, 0}, {"scale_invariant", 4, L_ONE, T_BOOL, 0},
      {"color", 5, L_ONE, T_MESSAGE, ".foxglove.Color"}, {"text", 6, L_ONE, T_STRING, 0}},
     0, {0}},
    {"foxglove/SceneEntity.proto", "foxglove", "SceneEntity",
     {"foxglove/CubePrimitive.proto", "foxglove/LinePrimitive.proto", "foxglove/TextPrimitive.proto",
      "google/protobuf/duration.proto", "google/protobuf/timestamp.proto"},
     {{"timestamp", 1, L_ONE, T_MESSAGE, ".google.protobuf.Timestamp"}, {"frame_id", 2, L_ONE, T_STRING, 0},
      {"id", 3, L_ONE, T_STRING, 0}, {"lifetime", 4, L_ONE, T_MESSAGE, ".google.protobuf.Duration"},
      {"frame_locked", 5, L_ONE, T_BOOL, 0}, {"cubes", 8, L_MANY, T_MESSAGE, ".foxglove.CubePrimitive"},
      {"lines", 11, L_MANY, T_MESSAGE, ".foxglove.LinePrimitive"}, {"texts", 13, L_MANY, T_MESSAGE, ".foxglove.TextPrimitive"}},
     0, {0}},
    {"foxglove/SceneUpdate.proto", "foxglove", "SceneUpdate", {"foxglove/SceneEntity.proto"},
     {{"entities", 2, L_MANY, T_MESSAGE, ".foxglove.SceneEntity"}}, 0, {0}},
    {"foxglove/FrameTransform.proto", "foxglove", "FrameTransform",
     {"foxglove/Quaternion.proto", "foxglove/Vector3.proto", "google/protobuf/timestamp.proto"},
     {{"timestamp", 1, L_ONE, T_MESSAGE, ".google.protobuf.Timestamp"}, {"parent_frame_id", 2, L_ONE, T_STRING, 0},
      {"child_frame_id", 3, L_ONE, T_STRING, 0}, {"translation", 4, L_ONE, T_MESSAGE, ".foxglove.Vector3"},
      {"rotation", 5, L_ONE, T_MESSAGE, ".foxglove.Quaternion"}},
     0, {0}},
    {"foxglove/FrameTransforms.proto", "foxglove", "FrameTransforms", {"foxglove/FrameTransform.proto"},
     {{"transforms", 1, L_MANY, T_MESSAGE, ".foxglove.FrameTransform"}}, 0, {0}},
    {"foxglove/Log.proto", "foxglove", "Log", {"google/protobuf/timestamp.proto"},
     {{"timestamp", 1, L_ONE, T_MESSAGE, ".google.protobuf.Timestamp"}, {"level", 2, L_ONE, T_ENUM, ".foxglove.Log.Level"},
      {"message", 3, L_ONE, T_STRING, 0}, {"name", 4, L_ONE, T_STRING, 0}, {"file", 5, L_ONE, T_STRING, 0},
      {"line", 6, L_ONE, T_FIXED32, 0}},
     "Level", {"UNKNOWN", "DEBUG", "INFO", "WARNING", "ERROR", "FATAL"}},
};

static const filedef *file_named(const char *name) {
  for (size_t i = 0; i < sizeof kFiles / sizeof *kFiles; i++)
    if (!strcmp(kFiles[i].file, name)) return &kFiles[i];
  return NULL;
}

static void put_file(rsim_buf *fds, const filedef *fd) {
  rsim_buf msg = {0}, f = {0}, file = {0};
  rsim__pb_str(&msg, 1, fd->message);
  for (size_t i = 0; i < 12 && fd->fields[i].name; i++) {
    const fdef *d = &fd->fields[i];
    f.len = 0;
    rsim__pb_str(&f, 1, d->name);
    rsim__pb_varint(&f, 3, (uint64_t)d->num);
    rsim__pb_varint(&f, 4, (uint64_t)d->label);
    rsim__pb_varint(&f, 5, (uint64_t)d->type);
    if (d->type_name) rsim__pb_str(&f, 6, d->type_name);
    rsim__pb_bytes(&msg, 2, f.data, f.len);
  }
  if (fd->enum_name) {
    rsim_buf e = {0};
    rsim__pb_str(&e, 1, fd->enum_name);
    for (size_t i = 0; i < 10 && fd->enum_values[i]; i++) {
      f.len = 0;
      rsim__pb_str(&f, 1, fd->enum_values[i]);
      rsim__pb_varint(&f, 2, i);
      rsim__pb_bytes(&e, 2, f.data, f.len);
    }
    rsim__pb_bytes(&msg, 4, e.data, e.len);
    rsim_buf_free(&e);
  }
  rsim__pb_str(&file, 1, fd->file);
  rsim__pb_str(&file, 2, fd->package);
  for (size_t i = 0; i < 6 && fd->deps[i]; i++) rsim__pb_str(&file, 3, fd->deps[i]);
  rsim__pb_bytes(&file, 4, msg.data, msg.len);
  rsim__pb_str(&file, 12, "proto3");
  rsim__pb_bytes(fds, 1, file.data, file.len);
  rsim_buf_free(&msg);
  rsim_buf_free(&f);
  rsim_buf_free(&file);
}

/* Adds file and its dependencies (first) unless already in; done[] marks them. */
static void put_with_deps(rsim_buf *fds, const filedef *fd, bool *done) {
  size_t at = (size_t)(fd - kFiles);
  if (done[at]) return;
  done[at] = true;
  for (size_t i = 0; i < 6 && fd->deps[i]; i++) put_with_deps(fds, file_named(fd->deps[i]), done);
  put_file(fds, fd);
}

static int writer_schema(rsim_sensor_kind kind) {
  switch (kind) {
    case RSIM_SENSOR_CAMERA: return FX_RAW;
    case RSIM_SENSOR_LIDAR:
    case RSIM_SENSOR_RADAR: return FX_CLOUD;
    case RSIM_SENSOR_GPS: return FX_FIX;
    default: return -1;
  }
}

bool rsim__fox_schema_for(rsim_sensor_kind kind, const char **name, rsim_buf *fds) {
  int s = writer_schema(kind);
  if (s < 0) return false;
  *name = kSchemas[s].name;
  bool done[sizeof kFiles / sizeof *kFiles] = {0};
  char file[64];
  snprintf(file, sizeof file, "foxglove/%s.proto", kSchemas[s].name + strlen("foxglove."));
  fds->len = 0;
  put_with_deps(fds, file_named(file), done);
  return true;
}

bool rsim__fox_descriptor(const char *schema, rsim_buf *fds) {
  for (size_t i = 0; i < sizeof kFiles / sizeof *kFiles; i++) {
    size_t pl = strlen(kFiles[i].package);
    if (strncmp(schema, kFiles[i].package, pl) || schema[pl] != '.' || strcmp(schema + pl + 1, kFiles[i].message))
      continue;
    bool done[sizeof kFiles / sizeof *kFiles] = {0};
    fds->len = 0;
    put_with_deps(fds, &kFiles[i], done);
    return true;
  }
  return false;
}

/* ---- writing: messages ------------------------------------------------------------------ */

static void put_element(rsim_buf *b, const char *name, uint32_t offset, int type) {
  rsim_buf e = {0};
  rsim__pb_str(&e, 1, name);
  if (offset) rsim__pb_fixed32(&e, 2, offset);
  rsim__pb_varint(&e, 3, (uint64_t)type);
  rsim__pb_bytes(b, 5, e.data, e.len);
  rsim_buf_free(&e);
}

static void put_f32le(rsim_buf *b, float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  rsim_buf_put_u32le(b, u);
}

static int encode_camera(const rsim_reading *r, rsim_buf *out, char *why) {
  int w, h, bpp;
  if (r->n_meta != 3 || !rsim_reading_frame(r, &w, &h, &bpp)) {
    snprintf(why, RSIM__WHY, "the camera reading is not a plain rgb8/mono8 frame");
    return RSIM_ENOTSUP;
  }
  rsim__pb_fixed32(out, 2, (uint32_t)w);
  rsim__pb_fixed32(out, 3, (uint32_t)h);
  rsim__pb_str(out, 4, bpp == 1 ? "mono8" : "rgb8");
  rsim__pb_fixed32(out, 5, (uint32_t)(w * bpp));
  rsim__pb_bytes(out, 6, r->payload, r->payload_len);
  return RSIM_OK;
}

static int encode_cloud(const rsim_reading *r, const rsim_sensor_info *s, rsim_buf *out, char *why) {
  bool radar = s->kind == RSIM_SENSOR_RADAR;
  size_t in_stride = radar ? 20 : 16;
  uint32_t count = 0;
  if (r->payload_len >= 4) memcpy(&count, r->payload, 4);
  if (r->n_meta || r->payload_len < 4 || (r->payload_len - 4) / in_stride != count || (r->payload_len - 4) % in_stride) {
    snprintf(why, RSIM__WHY, "the %s reading does not match its layout", radar ? "radar" : "lidar");
    return RSIM_ENOTSUP;
  }
  if (radar) { /* The detections sit in the radar's frame, placed by the pose. */
    rsim_buf pose = {0}, v = {0};
    const char *keys[3] = {"mount_x", "mount_y", "mount_z"};
    for (int k = 0; k < 3; k++) {
      const char *m = rsim_kv_get(s->meta, s->n_meta, keys[k]);
      double x;
      rsim_errbuf bad = {0};
      if (m && rsim_parse_real(m, -1e6, 1e6, &x, &bad)) { /* a garbled pose is no pose at 0 */
        snprintf(why, RSIM__WHY, "the radar's %s: %.120s", keys[k], bad.msg);
        rsim_buf_free(&v);
        return RSIM_EINVAL;
      }
      if (m) rsim__pb_double_put(&v, (uint32_t)k + 1, x);
    }
    rsim__pb_bytes(&pose, 1, v.data, v.len);
    v.len = 0;
    rsim__pb_double_put(&v, 4, 1.0);
    rsim__pb_bytes(&pose, 2, v.data, v.len);
    rsim__pb_bytes(out, 3, pose.data, pose.len);
    rsim_buf_free(&pose);
    rsim_buf_free(&v);
  }
  rsim__pb_fixed32(out, 4, radar ? 32 : 16);
  static const char *const lidar_names[] = {"x", "y", "z", "intensity"};
  static const char *const radar_names[] = {"x", "y", "z", "range", "azimuth", "range_rate", "rcs", "elevation"};
  for (int k = 0; k < (radar ? 8 : 4); k++) put_element(out, radar ? radar_names[k] : lidar_names[k], 4u * (uint32_t)k, 7);
  rsim_buf data = {0};
  if (!radar) rsim_buf_append(&data, r->payload + 4, r->payload_len - 4);
  for (uint32_t i = 0; radar && i < count; i++) {
    const uint8_t *p = r->payload + 4 + 20 * (size_t)i;
    double range = rsim_le_f32(p), az = rsim_le_f32(p + 4), el = rsim_le_f32(p + 16);
    put_f32le(&data, (float)(range * cos(el) * cos(az)));
    put_f32le(&data, (float)(range * cos(el) * sin(az)));
    put_f32le(&data, (float)(range * sin(el)));
    rsim_buf_append(&data, p, 20);
  }
  rsim__pb_bytes(out, 6, data.data, data.len);
  rsim_buf_free(&data);
  return RSIM_OK;
}

static void put_pair(rsim_buf *b, const char *key, double v) {
  char num[32];
  snprintf(num, sizeof num, "%.9g", v);
  rsim_buf e = {0};
  rsim__pb_str(&e, 1, key);
  rsim__pb_str(&e, 2, num);
  rsim__pb_bytes(b, 9, e.data, e.len);
  rsim_buf_free(&e);
}

static int encode_fix(const rsim_reading *r, rsim_buf *out, char *why) {
  if (r->n_meta || r->payload_len != 40 || rsim_le_f32(r->payload + 36) != 0.0f) {
    snprintf(why, RSIM__WHY, "the gps reading does not match its layout");
    return RSIM_ENOTSUP;
  }
  const uint8_t *p = r->payload;
  rsim__pb_double_put(out, 1, rsim_le_f64(p));
  rsim__pb_double_put(out, 2, rsim_le_f64(p + 8));
  rsim__pb_double_put(out, 3, rsim_le_f64(p + 16));
  double h = rsim_le_f32(p + 24), cov[9] = {h * h, 0, 0, 0, h * h, 0, 0, 0, 0};
  rsim_buf packed = {0};
  for (int i = 0; i < 9; i++) {
    uint64_t u;
    memcpy(&u, &cov[i], 8);
    rsim_buf_put_u64le(&packed, u);
  }
  rsim__pb_bytes(out, 4, packed.data, packed.len);
  rsim_buf_free(&packed);
  rsim__pb_varint(out, 5, 2); /* DIAGONAL_KNOWN */
  put_pair(out, "rsim.horizontal_accuracy_m", rsim_le_f32(p + 24));
  put_pair(out, "rsim.speed_mps", rsim_le_f32(p + 28));
  put_pair(out, "rsim.course_rad", rsim_le_f32(p + 32));
  return RSIM_OK;
}

int rsim__fox_encode(const rsim_reading *r, const rsim_sensor_info *sensor, rsim_buf *out, char *why) {
  out->len = 0;
  int s = writer_schema(sensor->kind);
  if (s < 0) {
    snprintf(why, RSIM__WHY, "no Foxglove schema for %s readings", rsim_sensor_kind_name(sensor->kind));
    return RSIM_ENOTSUP;
  }
  rsim__pb_stamp(out, s == FX_FIX ? 6 : 1, r->t);
  rsim__pb_str(out, s == FX_RAW || s == FX_FIX ? 7 : 2, s == FX_RAW || s == FX_FIX ? sensor->id : "base_link");
  switch (s) {
    case FX_RAW: return encode_camera(r, out, why);
    case FX_CLOUD: return encode_cloud(r, sensor, out, why);
    default: return encode_fix(r, out, why);
  }
}
