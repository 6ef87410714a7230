/*
** socket.c -- the socket of the composed perception example (world
** perception-socket).  It owns no algorithm: per radar scan it asks the
** tracker (an import), runs the detector on the newest camera frame when
** that frame is new, and fuses both.  `wac plug` satisfies its three
** imports with the detector, tracker and fusion components, giving one
** component (perception.wasm) that the host runs like any other.
**
** Why the frame check: in the linked twin (examples/composed/linked.yaml)
** the detector runs once per camera frame and fusion sees its latest
** output; running the detector again on a frame it has already seen would
** give the same boxes (it keeps no state) but cost a call.
*/
#include "perception_socket.h"
#define RSIM_WORLD perception_socket
#include "rsim_guest.h"

static rsim_sim_camera_processing_list_detected_object_t g_objects; /* of the last frame */
static int64_t g_frame_t;
static bool g_have_frame;

static void detect_if_new(void) {
  char cam[64];
  const char *id = rsim_config_str("camera", cam, sizeof cam, "camera_front");
  perception_socket_string_t sid = rsim_str(id);
  rsim_sim_sensor_data_sensor_reading_t frame;
  if (!rsim_sim_sensor_data_get_sensor_data(&sid, &frame)) return;
  if (!g_have_frame || frame.timestamp != g_frame_t) {
    rsim_sim_camera_processing_list_detected_object_free(&g_objects);
    rsim_sim_camera_processing_process_frame(&frame, &g_objects);
    g_frame_t = frame.timestamp;
    g_have_frame = true;
  }
  rsim_sim_sensor_data_sensor_reading_free(&frame);
}

void exports_rsim_sim_perceiving_perceive(exports_rsim_sim_perceiving_sensor_reading_t *scan,
                                          exports_rsim_sim_perceiving_list_fused_object_t *ret) {
  rsim_sim_radar_processing_list_radar_track_t tracks;
  rsim_sim_radar_processing_process_scan(scan, &tracks);
  detect_if_new();
  ret->ptr = NULL;
  ret->len = 0;
  /* Without a frame yet there is nothing to fuse, as in the linked twin,
  ** whose fusion is not ready until the detector has run once. */
  if (g_have_frame) {
    /* wit-bindgen names one list type per interface; the elements are the
    ** same rsim:sim/types records, so the lists are rewrapped, not copied. */
    rsim_sim_sensor_fusion_list_detected_object_t cam = {g_objects.ptr, g_objects.len};
    rsim_sim_sensor_fusion_list_radar_track_t rad = {tracks.ptr, tracks.len};
    rsim_sim_sensor_fusion_list_fused_object_t fused;
    rsim_sim_sensor_fusion_fuse_detections(&cam, &rad, &fused);
    ret->ptr = fused.ptr;
    ret->len = fused.len;
  }
  rsim_sim_radar_processing_list_radar_track_free(&tracks);
  exports_rsim_sim_perceiving_sensor_reading_free(scan);
}
