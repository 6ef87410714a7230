/*
** rsim_fusion.h -- camera-radar fusion: camera boxes and radar tracks are
** associated by bearing (and range where the camera can estimate it) with a
** greedy best-first assignment; fused objects take the radar's position and
** velocity and the camera's class.
*/
#ifndef RSIM_FUSION_H
#define RSIM_FUSION_H

#include <stdbool.h>

typedef struct fus_cam {
  float x, y, w, h;        /* box, pixels */
  float confidence;
  char cls[16];
  char id[24];
} fus_cam;

typedef struct fus_radar {
  unsigned id;
  float x, y, vx, vy;      /* vehicle frame */
  float confidence;
} fus_radar;

typedef struct fus_obj {
  char id[24];
  float x, y, vx, vy;
  char cls[16];
  float confidence;
  bool from_camera, from_radar;
} fus_obj;

typedef struct fus_params {
  float fx, fy, cx, cy;    /* camera intrinsics */
  float cam_x, cam_y, cam_z; /* camera mount */
  float gate_rad;          /* bearing gate (default 3 degrees) */
} fus_params;

void fus_params_default(fus_params *p);
/* Bearing (rad, left positive) of a box centre column as seen by the camera. */
float fus_box_bearing(const fus_params *p, const fus_cam *c);
/* Range estimate from the box's bottom edge on a flat road; <= 0 if none. */
float fus_box_range(const fus_params *p, const fus_cam *c);
/* Fuses; writes at most max objects (radar-backed first, in radar order,
** then camera-only in camera order); returns the count written. */
int fus_fuse(const fus_params *p, const fus_cam *cams, int n_cams, const fus_radar *radar,
             int n_radar, fus_obj *out, int max);

#endif
