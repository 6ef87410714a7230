/*
** @NAME@.c -- a camera detector for replaysim (world camera-detector of
** rsim:sim@0.2.0), started by `replaysim new`.
**
** The host calls process-frame once per frame of the graph's camera and
** keeps what it returns as this component's output.  This starter draws
** boxes around the strongly red pixels of the frame (the synthetic
** drive paints cars red): replace find_red_boxes with your detector.
**
** What you can use (components/sdk/rsim_guest.h, from `replaysim config`):
**   rsim_payload(reading, &len)   the frame's bytes (docs/sensors.md, camera)
**   rsim_meta(reading, key, ...)  the reading's metadata (width, height, encoding)
**   rsim_config_f32(key, def)     a value of this component's `config:` in graph.yaml
**   rsim_log(level, fmt, ...)     a line in the run's log, with the sim time
**   RSIM_STATE(var)               what survives between calls, for seek and checkpoints
** No WASI: no printf, no files, no clock; time and data come from the host.
*/
#include "@PREFIX@.h"
#define RSIM_WORLD @PREFIX@
#include "rsim_guest.h"

/* Everything kept between calls, saved and restored byte for byte by
** RSIM_STATE below (a plain struct: no pointers). */
static struct {
  uint32_t frames;  /* frames seen so far */
} g_state;

RSIM_STATE(g_state)

#define MAX_BOXES 32
#define MAX_WIDTH 4096

typedef struct box {
  int x0, y0, x1, y1;  /* inclusive pixel bounds */
  int count;           /* red pixels inside */
} box;

/* Boxes around the strongly red pixels (red beats green and blue by at
** least `margin`), one per run of neighbouring columns that hold some: cars
** side by side get a box each, cars one behind the other share one. */
static int find_red_boxes(const uint8_t *px, int w, int h, int margin, box *out, int max) {
  static int top[MAX_WIDTH], bottom[MAX_WIDTH], count[MAX_WIDTH];
  if (w > MAX_WIDTH) w = MAX_WIDTH;
  for (int x = 0; x < w; x++) top[x] = h, bottom[x] = -1, count[x] = 0;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      const uint8_t *p = px + ((size_t)y * (size_t)w + (size_t)x) * 3;
      if (p[0] - p[1] < margin || p[0] - p[2] < margin) continue;
      if (y < top[x]) top[x] = y;
      bottom[x] = y;
      count[x]++;
    }
  int n = 0;
  for (int x = 0; x < w && n < max; x++) {
    if (!count[x]) continue;
    box b = {x, top[x], x, bottom[x], 0};
    for (; x < w && count[x]; x++) {
      if (top[x] < b.y0) b.y0 = top[x];
      if (bottom[x] > b.y1) b.y1 = bottom[x];
      b.x1 = x;
      b.count += count[x];
    }
    out[n++] = b;
  }
  return n;
}

void exports_rsim_sim_camera_processing_process_frame(
    exports_rsim_sim_camera_processing_sensor_reading_t *reading,
    exports_rsim_sim_camera_processing_list_detected_object_t *ret) {
  ret->ptr = NULL;  /* no detections unless we find some */
  ret->len = 0;

  /* The frame: its size and encoding are in the reading's metadata. */
  char wbuf[16], hbuf[16], ebuf[16];
  const char *ws = rsim_meta(reading, "width", wbuf, sizeof wbuf);
  const char *hs = rsim_meta(reading, "height", hbuf, sizeof hbuf);
  const char *enc = rsim_meta(reading, "encoding", ebuf, sizeof ebuf);
  int w = ws ? atoi(ws) : 0, h = hs ? atoi(hs) : 0;
  int channels = enc && !strcmp(enc, "mono8") ? 1 : 3;
  size_t len;
  const uint8_t *px = rsim_payload(reading, &len);

  if (g_state.frames++ == 0)
    rsim_log(RSIM_INFO, "first frame: %dx%d %s, %zu bytes", w, h, enc ? enc : "?", len);
  if (w > 0 && h > 0 && px && len == (size_t)w * (size_t)h * (size_t)channels) {
    /* `config: {margin: "60"}` in graph.yaml changes this without a rebuild. */
    int margin = (int)rsim_config_f32("margin", 60.0f);
    int min_pixels = (int)rsim_config_f32("min_pixels", 40.0f);
    box boxes[MAX_BOXES];
    int n = channels == 3 ? find_red_boxes(px, w, h, margin, boxes, MAX_BOXES) : 0;  /* grey has no red */
    ret->ptr = n ? malloc((size_t)n * sizeof *ret->ptr) : NULL;  /* the host frees what we return */
    for (int i = 0; i < n; i++) {
      if (boxes[i].count < min_pixels) continue;  /* too small to be sure */
      rsim_sim_types_detected_object_t *o = &ret->ptr[ret->len];
      char id[16];
      rsim_fmt(id, sizeof id, "red-%d", (int)ret->len++);
      o->id = rsim_str_dup(id);
      o->class_ = rsim_str_dup("car");
      o->confidence = 0.5f;
      o->bbox = (rsim_sim_types_bbox2d_t){(float)boxes[i].x0, (float)boxes[i].y0,
                                          (float)(boxes[i].x1 - boxes[i].x0 + 1),
                                          (float)(boxes[i].y1 - boxes[i].y0 + 1)};
    }
  } else {
    rsim_log(RSIM_WARN, "frame %dx%d does not match its %zu payload bytes; skipped", w, h, len);
  }
  /* The arguments are ours to free (wit-bindgen's convention). */
  rsim_sim_types_sensor_reading_free(reading);
}
