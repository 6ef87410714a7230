/*
** component.c -- the camera detector as a component (world camera-detector):
** decodes the frame, runs detector_core.c, returns detected-object records.
*/
#include "camera_detector.h"
#define RSIM_WORLD camera_detector
#include "rsim_detector.h"
#include "rsim_guest.h"

#define MAX_BOXES 256

static det_ctx g_ctx;   /* scratch reused across frames */
static bool g_warned;

void exports_rsim_sim_camera_processing_process_frame(
    exports_rsim_sim_camera_processing_sensor_reading_t *reading,
    exports_rsim_sim_camera_processing_list_detected_object_t *ret) {
  char wbuf[16], hbuf[16], ebuf[16];
  const char *ws = rsim_meta(reading, "width", wbuf, sizeof wbuf);
  const char *hs = rsim_meta(reading, "height", hbuf, sizeof hbuf);
  const char *enc = rsim_meta(reading, "encoding", ebuf, sizeof ebuf);
  int w = ws ? atoi(ws) : 0, h = hs ? atoi(hs) : 0;
  int ch = enc && !strcmp(enc, "mono8") ? 1 : 3;
  size_t len;
  const uint8_t *px = rsim_payload(reading, &len);
  ret->ptr = NULL;
  ret->len = 0;
  if (w <= 0 || h <= 0 || (size_t)w * (size_t)h * (size_t)ch != len ||
      (enc && strcmp(enc, "rgb8") && strcmp(enc, "mono8"))) {
    if (!g_warned)
      rsim_log(RSIM_WARN, "frame %dx%d '%s' does not match its %zu payload bytes; skipping such frames",
               w, h, enc ? enc : "?", len);
    g_warned = true;
    rsim_sim_types_sensor_reading_free(reading);
    return;
  }
  det_params p;
  det_params_default(&p);
  p.min_area = (int)rsim_config_f32("min_area", (float)p.min_area);
  det_box boxes[MAX_BOXES];
  int n = det_process(&g_ctx, &p, px, w, h, ch, boxes, MAX_BOXES);
  if (n > MAX_BOXES) n = MAX_BOXES;
  if (n > 0) {
    ret->ptr = malloc((size_t)n * sizeof *ret->ptr);
    ret->len = (size_t)n;
    for (int i = 0; i < n; i++) {
      rsim_sim_types_detected_object_t *o = &ret->ptr[i];
      char id[16];
      rsim_fmt(id, sizeof id, "det-%d", i);
      o->id = rsim_str_dup(id);
      o->class_ = rsim_str_dup(det_class_name(boxes[i].cls));
      o->confidence = boxes[i].confidence;
      o->bbox = (rsim_sim_types_bbox2d_t){boxes[i].x, boxes[i].y, boxes[i].w, boxes[i].h};
    }
  }
  rsim_sim_types_sensor_reading_free(reading);
}

/* Nothing but configuration and scratch survives a call. */
RSIM_STATELESS()
