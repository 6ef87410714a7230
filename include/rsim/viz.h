/*
** viz.h -- the server-side compositor: the web UI's layers (camera frame
** with detection boxes, bird's-eye view with lidar, radar tracks, fused
** objects, ground truth and the plan, an overlay of time and speed) drawn
** into one RGB image and written as PNG, for reports and CI artifacts.
** Text is drawn with FreeType and Debian's DejaVu Sans; PNG with libpng.
**
** Ownership: a canvas is created by rsim_viz_render and freed with
** rsim_canvas_free.  Rendering reads the engine's current state (seek it
** first) and the store; it changes neither.
*/
#ifndef RSIM_VIZ_H
#define RSIM_VIZ_H

#include "rsim/engine.h"
#include "rsim/store.h"

typedef struct rsim_canvas rsim_canvas;

/* Layers, as the UI names them. */
enum {
  RSIM_LAYER_BOXES = 1 << 0,
  RSIM_LAYER_LIDAR = 1 << 1,
  RSIM_LAYER_TRACKS = 1 << 2,
  RSIM_LAYER_FUSED = 1 << 3,
  RSIM_LAYER_TRUTH = 1 << 4,
  RSIM_LAYER_PLAN = 1 << 5,
  RSIM_LAYER_OVERLAY = 1 << 6,
  RSIM_LAYER_ALL = 0x7f
};

typedef struct rsim_render_opts {
  const char *camera;  /* sensor id; NULL = the store's first camera */
  const char *lidar;   /* sensor id; NULL = the store's first lidar */
  unsigned layers;     /* RSIM_LAYER_*; 0 = all */
  double bev_scale;    /* pixels a metre in the bird's-eye view; 0 = 4 */
  const char *title;   /* top line, e.g. the graph's name; may be NULL */
} rsim_render_opts;

/* Panel geometry, so that callers (and tests) can find things in the image. */
#define RSIM_VIZ_CAM_X 10
#define RSIM_VIZ_CAM_Y 34
#define RSIM_VIZ_CAM_W 640
#define RSIM_VIZ_CAM_H 360

int rsim_viz_render(rsim_engine *e, rsim_store *st, const rsim_render_opts *o, rsim_canvas **out, rsim_errbuf *eb);
int rsim_canvas_write_png(const rsim_canvas *c, const char *path, rsim_errbuf *eb);
/* RGB, rows top first; borrowed until rsim_canvas_free. */
const uint8_t *rsim_canvas_pixels(const rsim_canvas *c, int *w, int *h);
void rsim_canvas_free(rsim_canvas *c);
/* The colour boxes of a class are drawn in ("car", "truck", ...). */
void rsim_viz_class_colour(const char *cls, uint8_t rgb[3]);

#endif /* RSIM_VIZ_H */
