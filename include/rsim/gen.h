/*
** gen.h -- the synthetic drive generator.
**
** Simulates an ego car on a three-lane road with other road users and
** renders what its sensors see (camera, radar, lidar, ultrasonic, IMU, GPS,
** CAN; layouts in docs/sensors.md), with noise, into a store, with ground
** truth beside.  Everything is derived from the seed through one PRNG, so
** the same seed and duration give the same bytes.
*/
#ifndef RSIM_GEN_H
#define RSIM_GEN_H

#include <stdbool.h>
#include <stdint.h>

#include "rsim/store.h"

typedef void (*rsim_progress_fn)(void *ud, double fraction);

/* Which sensors the car carries. */
typedef enum rsim_gen_rig {
  RSIM_GEN_RIG_DEFAULT = 0, /* one front camera, one front radar, lidar, ultrasonic, IMU, GPS, CAN */
  RSIM_GEN_RIG_SURROUND,    /* cameras and radars facing front, rear, left and right, and the rest */
  RSIM_GEN_RIG_COUNT
} rsim_gen_rig;

/* "default", "surround"; NULL for a bad rig. */
const char *rsim_gen_rig_name(rsim_gen_rig r);
/* RSIM_EINVAL for an unknown name. */
int rsim_gen_rig_parse(const char *name, rsim_gen_rig *out);

typedef struct rsim_gen_opts {
  int64_t duration_ns;    /* length of the drive */
  uint64_t seed;
  rsim_time start;        /* time of the first reading; 0 = 1700000000 s */
  rsim_gen_rig rig;
  rsim_progress_fn progress;  /* may be NULL; called with 0..1 */
  void *progress_ud;
} rsim_gen_opts;

/* Writes the drive into st (a store opened with rsim_store_create). */
int rsim_generate(rsim_store *st, const rsim_gen_opts *opts, rsim_errbuf *eb);

/* The default start time: 2023-11-14T22:13:20Z in ns. */
#define RSIM_GEN_DEFAULT_START INT64_C(1700000000000000000)

#endif /* RSIM_GEN_H */
