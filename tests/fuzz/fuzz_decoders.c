/*
** fuzz_decoders.c -- libFuzzer target for the message decoders of other
** people's MCAP files.  The first byte picks the decoder:
**   0..8    ROS 2 CDR (Image, CompressedImage, PointCloud2 as lidar and as
**           radar, Imu, NavSatFix, RadarScan, can_msgs Frame, Range)
**   9..18   Foxglove RawImage, CompressedImage, PointCloud (lidar, radar),
**           LocationFix, in protobuf (even) or JSON (odd) -- protobuf bound
**           to the descriptors replaysim writes
**   19      a FileDescriptorSet parse
** the rest is the message.  Any bytes must decode or fail with a reason,
** never crash.
*/
#include <stdlib.h>
#include <string.h>

#include "store/codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int rc, rsim_reading *r, const char *why) {
  if (rc && !why[0]) abort(); /* every failure says why */
  rsim_reading_clear(r);
}

static void ros2(int pick, const uint8_t *d, size_t n) {
  static const char *const types[] = {"sensor_msgs/msg/Image", "sensor_msgs/msg/CompressedImage",
                                      "sensor_msgs/msg/PointCloud2", "sensor_msgs/msg/PointCloud2",
                                      "sensor_msgs/msg/Imu", "sensor_msgs/msg/NavSatFix",
                                      "radar_msgs/msg/RadarScan", "can_msgs/msg/Frame",
                                      "sensor_msgs/msg/Range"};
  rsim_sensor_kind kind;
  int type = rsim__ros2_type(types[pick], "cdr", &kind);
  if (pick == 3) kind = RSIM_SENSOR_RADAR;
  rsim_reading r;
  memset(&r, 0, sizeof r);
  char why[RSIM__WHY] = "";
  check(rsim__ros2_decode(type, kind, d, n, &r, why), &r, why);
}

static void foxglove(int pick, const uint8_t *d, size_t n) {
  static const rsim_sensor_kind kinds[] = {RSIM_SENSOR_CAMERA, RSIM_SENSOR_CAMERA, RSIM_SENSOR_LIDAR,
                                           RSIM_SENSOR_RADAR, RSIM_SENSOR_GPS};
  static const char *const names[] = {"foxglove.RawImage", "foxglove.CompressedImage", "foxglove.PointCloud",
                                      "foxglove.PointCloud", "foxglove.LocationFix"};
  int s = pick / 2;
  bool json = pick % 2;
  rsim_buf fds = {0};
  const char *name = names[s];
  if (!json && s != 1) rsim__fox_schema_for(kinds[s], &name, &fds);
  if (!json && s == 1) return; /* replaysim writes no CompressedImage descriptor */
  rsim_sensor_kind kind = kinds[s];
  rsim__fox *f = NULL;
  char why[RSIM__WHY] = "";
  int rc = rsim__fox_bind(name, json ? "jsonschema" : "protobuf", fds.data, fds.len, json ? "json" : "protobuf",
                          &kind, &f, why);
  rsim_buf_free(&fds);
  if (rc) abort(); /* our own descriptors must bind */
  rsim_reading r;
  memset(&r, 0, sizeof r);
  check(rsim__fox_decode(f, d, n, &r, why), &r, why);
  rsim__fox_free(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  int pick = data[0] % 20;
  if (pick < 9) ros2(pick, data + 1, size - 1);
  else if (pick < 19) foxglove(pick - 9, data + 1, size - 1);
  else {
    rsim__pbdesc *d = NULL;
    char why[RSIM__WHY] = "";
    if (!rsim__pbdesc_parse(data + 1, size - 1, &d, why)) {
      uint32_t num;
      int type;
      const char *tn;
      rsim__pbdesc_field(d, "foxglove.PointCloud", "fields", &num, &type, &tn);
    } else if (!why[0])
      abort();
    rsim__pbdesc_free(d);
  }
  return 0;
}
