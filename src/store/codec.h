/*
** codec.h -- internal to the store: turning other people's messages into
** replaysim readings (docs/sensors.md layouts) and back.
**
**   layout.c    builds the payloads from decoded parts (images, point
**               clouds, fixes), shared by every message family
**   pb.c        the protobuf wire format and self-describing schemas
**               (FileDescriptorSet), read and written
**   foxglove.c  Foxglove schemas in protobuf or JSON
**   ros2.c      ROS 2 sensor_msgs in CDR
**
** Every decoder is bounds-checked and reports a malformed message by
** returning RSIM_ECORRUPT with a reason in why[]; none trusts a length.
*/
#ifndef RSIM_STORE_CODEC_H
#define RSIM_STORE_CODEC_H

#include "rsim/store.h"

#define RSIM__WHY 160 /* size of the why[] buffers below */

/* ---- layout.c -------------------------------------------------------------------- */

/* Point-field number types, one enum for ROS 2's and Foxglove's. */
enum { RSIM__PF_NONE, RSIM__PF_I8, RSIM__PF_U8, RSIM__PF_I16, RSIM__PF_U16, RSIM__PF_I32, RSIM__PF_U32,
       RSIM__PF_F32, RSIM__PF_F64 };

typedef struct rsim__pfield {
  char name[32];
  uint32_t offset;
  int type;
} rsim__pfield;

/* A raw image (rgb8, bgr8, mono8; rows step bytes apart) -> camera reading. */
int rsim__layout_image(rsim_reading *r, const char *enc, uint32_t w, uint32_t h, uint32_t step,
                       const uint8_t *d, size_t n, char *why);
/* A JPEG or PNG (format says which) -> rgb8 camera reading. */
int rsim__layout_compressed(rsim_reading *r, const char *format, const uint8_t *d, size_t n, char *why);
/* Points (h rows of w, point_step and row_step apart) -> lidar (x, y, z,
** intensity) or radar (range, azimuth, range_rate, rcs, elevation; from
** x, y, z when the cloud has no range and azimuth fields). */
int rsim__layout_cloud(rsim_reading *r, rsim_sensor_kind kind, const rsim__pfield *f, size_t nf,
                       uint32_t point_step, uint32_t row_step, uint32_t w, uint32_t h, const uint8_t *d,
                       size_t n, char *why);
void rsim__layout_gps(rsim_reading *r, double lat, double lon, double alt, float hacc, float speed,
                      float course, float reserved);
void rsim__layout_imu(rsim_reading *r, const double accel[3], const double gyro[3]);
/* Sets the reading's camera metadata (encoding, width, height). */
void rsim__layout_image_meta(rsim_reading *r, const char *enc, int w, int h);

/* ---- pb.c: protobuf ------------------------------------------------------------ */

/* One field of a message: wire type 0 (varint), 1 (64-bit), 2 (bytes), 5 (32-bit). */
typedef struct rsim__pbval {
  int wire;
  uint64_t u;          /* varint, fixed32 or fixed64 bits */
  const uint8_t *p;    /* wire 2 */
  size_t n;
} rsim__pbval;

/* The index-th occurrence (0-based) of field number num in msg: 1 found,
** 0 absent, -1 malformed message. */
int rsim__pb_get(const uint8_t *msg, size_t n, uint32_t num, size_t index, rsim__pbval *out);
/* Checks that the whole message parses as protobuf wire format. */
bool rsim__pb_valid(const uint8_t *msg, size_t n);
double rsim__pb_double(const rsim__pbval *v);

/* A parsed FileDescriptorSet: look message fields up by name. */
typedef struct rsim__pbdesc rsim__pbdesc;
int rsim__pbdesc_parse(const uint8_t *fds, size_t n, rsim__pbdesc **out, char *why);
void rsim__pbdesc_free(rsim__pbdesc *d);
/* The field `field` of message `msg` (full name, "foxglove.RawImage"):
** its number, its type (FieldDescriptorProto.Type) and for messages its
** type name without the leading dot.  false when there is no such field. */
bool rsim__pbdesc_field(const rsim__pbdesc *d, const char *msg, const char *field, uint32_t *num, int *type,
                        const char **type_name);

/* Writing. */
void rsim__pb_varint(rsim_buf *b, uint32_t num, uint64_t v);
void rsim__pb_fixed32(rsim_buf *b, uint32_t num, uint32_t v);
void rsim__pb_double_put(rsim_buf *b, uint32_t num, double v);
void rsim__pb_bytes(rsim_buf *b, uint32_t num, const void *p, size_t n);
void rsim__pb_str(rsim_buf *b, uint32_t num, const char *s);
/* A google.protobuf.Timestamp of t (clamped at 0) as field num. */
void rsim__pb_stamp(rsim_buf *b, uint32_t num, rsim_time t);

/* ---- foxglove.c -------------------------------------------------------------- */

typedef struct rsim__fox rsim__fox;
/* Whether schema is one of the Foxglove schemas read here. */
bool rsim__fox_reads(const char *schema);
/* Binds a channel with schema (name, encoding, data) and message encoding
** to a decoder producing readings of *kind.  Returns 1 when the schema is
** not a Foxglove schema replaysim reads (nothing bound), 0 with *out, or
** an error with why.  *kind: in, RSIM_SENSOR_KIND_COUNT for the schema's
** natural kind; out, the kind bound. */
int rsim__fox_bind(const char *schema, const char *schema_encoding, const uint8_t *schema_data, size_t n,
                   const char *message_encoding, rsim_sensor_kind *kind, rsim__fox **out, char *why);
int rsim__fox_decode(const rsim__fox *f, const uint8_t *d, size_t n, rsim_reading *r, char *why);
void rsim__fox_free(rsim__fox *f);

/* Writing Foxglove (protobuf) for a sensor of this kind: the schema name
** and FileDescriptorSet (into fds), or false when the kind has no
** Foxglove schema. */
bool rsim__fox_schema_for(rsim_sensor_kind kind, const char **name, rsim_buf *fds);
/* The FileDescriptorSet of a Foxglove message by its full name
** ("foxglove.CompressedImage"), into fds; false when not one built here.
** Also used by the live view (src/foxglove), which speaks the same schemas. */
bool rsim__fox_descriptor(const char *schema, rsim_buf *fds);
/* Encodes r as the kind's Foxglove message; RSIM_ENOTSUP with why when the
** reading cannot be represented exactly (then keep rsim.SensorReading). */
int rsim__fox_encode(const rsim_reading *r, const rsim_sensor_info *sensor, rsim_buf *out, char *why);

/* ---- ros2.c ------------------------------------------------------------------ */

/* The decoder index for a schema and message encoding (-1 when unknown);
** *kind gets the type's natural kind. */
int rsim__ros2_type(const char *schema, const char *encoding, rsim_sensor_kind *kind);
/* Whether type can be read as kind (PointCloud2 as lidar or radar). */
bool rsim__ros2_kind_ok(int type, rsim_sensor_kind kind);
int rsim__ros2_decode(int type, rsim_sensor_kind kind, const uint8_t *data, size_t len, rsim_reading *r,
                      char *why);

#endif /* RSIM_STORE_CODEC_H */
