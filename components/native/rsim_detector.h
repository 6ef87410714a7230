/*
** rsim_detector.h -- the camera detector's algorithm, in plain C: colour
** segmentation of an RGB image and connected-component labelling into
** boxes.  The WebAssembly component (camera-detector/component.c) and the
** native benchmark both call it.  Deterministic; no global state.
*/
#ifndef RSIM_DETECTOR_H
#define RSIM_DETECTOR_H

#include <stddef.h>
#include <stdint.h>

enum { DET_NONE = 0, DET_CAR, DET_TRUCK, DET_PEDESTRIAN, DET_CYCLIST, DET_N_CLASSES };

typedef struct det_box {
  float x, y, w, h;   /* pixels, top-left origin */
  int cls;            /* DET_CAR .. DET_CYCLIST */
  float confidence;   /* 0..1 */
  int pixels;
} det_box;

typedef struct det_params {
  int min_area;       /* blobs with fewer pixels are dropped (default 40) */
  int min_saturation; /* max-min channel spread that marks object colour (default 70) */
} det_params;

/* Scratch memory reused across frames; zero-initialise, free with det_ctx_free. */
typedef struct det_ctx {
  uint32_t *labels;
  uint32_t *parent;
  size_t cap;
} det_ctx;

void det_params_default(det_params *p);
/* "car", "truck", "pedestrian", "cyclist". */
const char *det_class_name(int cls);
/* The class a pixel's colour belongs to, or DET_NONE. */
int det_classify_pixel(const det_params *p, int r, int g, int b);
/*
** Finds the objects in an image (channels 3 = RGB, 1 = mono: mono finds
** nothing, it has no colour).  Writes at most max_out boxes, sorted by x
** then y, and returns how many it found (which may exceed max_out), or -1
** when the arguments are inconsistent.
*/
int det_process(det_ctx *ctx, const det_params *p, const uint8_t *pixels, int width, int height,
                int channels, det_box *out, int max_out);
void det_ctx_free(det_ctx *ctx);

#endif
