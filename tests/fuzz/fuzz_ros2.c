/*
** fuzz_ros2.c -- libFuzzer target for the ROS 2 CDR decoders: the first
** byte picks the message type, the rest is the CDR message.  Any bytes
** must decode or fail with a message, never crash.
*/
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const char *const types[] = {"sensor_msgs/msg/Image", "sensor_msgs/msg/CompressedImage",
                                      "sensor_msgs/msg/PointCloud2", "sensor_msgs/msg/Imu",
                                      "sensor_msgs/msg/NavSatFix"};
  if (size < 1) return 0;
  rsim_sensor_kind kind;
  int type = rsim__ros2_kind(types[data[0] % 5], "cdr", &kind);
  rsim_store st;
  memset(&st, 0, sizeof st);
  st.path = (char *)"fuzz.mcap";
  rsim_reading r;
  memset(&r, 0, sizeof r);
  int rc = rsim__ros2_decode(&st, type, "s", data + 1, size - 1, &r);
  if (rc && !st.errmsg[0]) abort();
  rsim_reading_clear(&r);
  return 0;
}
