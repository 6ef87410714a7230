/*
** gen_int.h -- internals of the synthetic drive: the PRNG, the world
** (scene.c), the camera and lidar renderers (render.c).
**
** World frame: x east along the road, y north (left), z up, metres.  The
** ego drives east in the middle lane; "ego frame" is the world shifted to
** the ego's rear axle (the road is straight, the ego's yaw stays tiny and
** is ignored by the renderers).
*/
#ifndef RSIM_GEN_INT_H
#define RSIM_GEN_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "rsim/gen.h"

/* xoshiro256** seeded through splitmix64: small, fast, reproducible. */
typedef struct rsim__rng {
  uint64_t s[4];
} rsim__rng;

void rsim__rng_seed(rsim__rng *r, uint64_t seed);
uint64_t rsim__rng_next(rsim__rng *r);
double rsim__rng_uniform(rsim__rng *r);          /* [0, 1) */
double rsim__rng_gauss(rsim__rng *r);            /* N(0, 1) */
int rsim__rng_poisson(rsim__rng *r, double mean);

enum { OBJ_CAR = 0, OBJ_TRUCK, OBJ_PEDESTRIAN, OBJ_CYCLIST, OBJ_N_CLASSES };

typedef struct rsim__obj {
  uint32_t id;
  int cls;
  double x, y, v, vy;      /* world position, speed along x, lateral speed */
  double target_y;         /* lane it is moving to */
  double length, width, height;
} rsim__obj;

#define GEN_MAX_OBJS 12

typedef struct rsim__world {
  rsim__rng rng;
  double t;                /* seconds since start */
  double ex, ey, ev, ea;   /* ego position, speed, acceleration */
  double yaw_rate, steer;
  rsim__obj obj[GEN_MAX_OBJS];
  int n_obj;
  uint32_t next_id;
} rsim__world;

extern const char *const rsim__obj_class[OBJ_N_CLASSES];
extern const uint8_t rsim__obj_rgb[OBJ_N_CLASSES][3];

void rsim__world_init(rsim__world *w, uint64_t seed);
void rsim__world_step(rsim__world *w, double dt);

/* Camera model (docs/sensors.md). */
#define CAM_W 640
#define CAM_H 360
#define CAM_FX 500.0
#define CAM_FY 500.0
#define CAM_CX 320.0
#define CAM_CY 180.0
#define CAM_X 1.5
#define CAM_Z 1.4

/* Renders the image (RGB, CAM_W x CAM_H) of a camera mounted at (mx, my,
** CAM_Z) in the vehicle frame and turned quarter * 90 degrees to the left
** (0 front, 1 left, 2 rear, 3 right), with noise from rng.  The front
** camera of the default rig is (CAM_X, 0, 0). */
void rsim__render_camera(const rsim__world *w, rsim__rng *rng, uint8_t *rgb, double mx, double my, int quarter);
/* Casts the lidar; writes points (x, y, z, intensity) in the vehicle frame
** into pts (room for 16 * 720 points) and returns the count. */
int rsim__render_lidar(const rsim__world *w, rsim__rng *rng, float *pts);

#endif
