/*
** scene.c -- the world of the synthetic drive: a straight three-lane road,
** the ego following the car ahead with the Intelligent Driver Model, other
** cars and trucks in every lane (some changing lanes), pedestrians and
** cyclists on the verges.  A recurring script (every 60 s) makes the lead
** brake hard and a car cut in, so the stack has something to react to.
** Road users that fall far behind or ahead reappear at the other end, so
** a drive of any length stays populated in constant memory.
*/
#include <math.h>
#include <string.h>

#include "gen/gen_int.h"

const char *const rsim__obj_class[OBJ_N_CLASSES] = {"car", "truck", "pedestrian", "cyclist"};
const uint8_t rsim__obj_rgb[OBJ_N_CLASSES][3] = {
    {200, 30, 30}, {40, 60, 170}, {230, 180, 30}, {170, 40, 170}};
static const double kDims[OBJ_N_CLASSES][3] = {
    {4.5, 1.8, 1.5}, {10.0, 2.5, 3.5}, {0.6, 0.6, 1.75}, {1.8, 0.6, 1.7}};

static void place(rsim__world *w, rsim__obj *o, int cls, double x, double y, double v) {
  memset(o, 0, sizeof *o);
  o->id = w->next_id++;
  o->cls = cls;
  o->x = x;
  o->y = o->target_y = y;
  o->v = v;
  o->length = kDims[cls][0];
  o->width = kDims[cls][1];
  o->height = kDims[cls][2];
}

static double jitter(rsim__world *w, double a) { return a * (2.0 * rsim__rng_uniform(&w->rng) - 1.0); }

void rsim__world_init(rsim__world *w, uint64_t seed) {
  memset(w, 0, sizeof *w);
  rsim__rng_seed(&w->rng, seed);
  w->next_id = 1;
  w->ev = 25.0;
  /* Object 0 is the lead in the ego lane; the script below drives it. */
  place(w, &w->obj[w->n_obj++], OBJ_CAR, 40 + jitter(w, 5), 0.0, 24.5);
  place(w, &w->obj[w->n_obj++], OBJ_CAR, 25 + jitter(w, 8), 3.5, 27 + jitter(w, 1));
  place(w, &w->obj[w->n_obj++], OBJ_TRUCK, 70 + jitter(w, 10), 3.5, 22 + jitter(w, 1));
  place(w, &w->obj[w->n_obj++], OBJ_CAR, 55 + jitter(w, 10), -3.5, 23 + jitter(w, 1));
  place(w, &w->obj[w->n_obj++], OBJ_CAR, -25 + jitter(w, 5), -3.5, 28 + jitter(w, 1));
  place(w, &w->obj[w->n_obj++], OBJ_CAR, 100 + jitter(w, 10), 0.0, 26 + jitter(w, 1));
  place(w, &w->obj[w->n_obj++], OBJ_PEDESTRIAN, 45 + jitter(w, 10), 7.5, 1.4);
  place(w, &w->obj[w->n_obj++], OBJ_CYCLIST, 60 + jitter(w, 10), -7.5, 5.5);
  place(w, &w->obj[w->n_obj++], OBJ_PEDESTRIAN, 90 + jitter(w, 10), -8.0, -1.2);
}

/* The recurring script: phase = seconds into the current minute. */
static double lead_target_speed(double phase) {
  if (phase >= 20 && phase < 24) return 12.0; /* hard braking */
  return 24.5;
}

static void respawn(rsim__world *w, rsim__obj *o) {
  bool ahead = o->x < w->ex; /* fell behind: bring it back ahead, and vice versa */
  double x = ahead ? w->ex + 110 + jitter(w, 30) : w->ex - 50 + jitter(w, 10);
  if (o->cls == OBJ_PEDESTRIAN || o->cls == OBJ_CYCLIST) {
    x = w->ex + 90 + jitter(w, 40);
    place(w, o, o->cls, x, o->y, o->v);
    return;
  }
  double lanes[3] = {-3.5, 0.0, 3.5};
  double y = lanes[rsim__rng_next(&w->rng) % 3];
  double v = ahead ? w->ev - 2 + jitter(w, 2) : w->ev + 3 + jitter(w, 1);
  int cls = rsim__rng_uniform(&w->rng) < 0.2 ? OBJ_TRUCK : OBJ_CAR;
  place(w, o, cls, x, y, v);
}

/* The nearest road user ahead of (x, y) in the same lane, or NULL. */
static const rsim__obj *ahead_in_lane(const rsim__world *w, double x, double y, const rsim__obj *self) {
  const rsim__obj *best = NULL;
  for (int i = 0; i < w->n_obj; i++) {
    const rsim__obj *o = &w->obj[i];
    if (o == self || o->cls >= OBJ_PEDESTRIAN || fabs(o->y - y) > 1.5 || o->x <= x) continue;
    if (!best || o->x < best->x) best = o;
  }
  return best;
}

static double idm(double v, double v0, double gap, double closing) {
  const double a = 1.5, b = 2.5, s0 = 2.0, T = 1.4;
  double s_star = s0 + v * T + v * closing / (2 * sqrt(a * b));
  if (s_star < s0) s_star = s0;
  double acc = a * (1 - pow(v / v0, 4));
  if (gap > 0) acc -= a * (s_star / gap) * (s_star / gap);
  return acc < -8 ? -8 : acc;
}

void rsim__world_step(rsim__world *w, double dt) {
  w->t += dt;
  double phase = fmod(w->t, 60.0);
  /* The ego: IDM behind whatever is ahead in its lane. */
  const rsim__obj *lead = ahead_in_lane(w, w->ex, 0.0, NULL);
  double gap = lead ? lead->x - w->ex - lead->length / 2 - 4.0 : 1e9;
  w->ea = idm(w->ev, 27.0, gap, lead ? w->ev - lead->v : 0);
  w->ev += w->ea * dt;
  if (w->ev < 0) w->ev = 0;
  w->ex += w->ev * dt;
  /* Lane keeping is not perfect: a slow weave of a few centimetres.  The
  ** yaw rate is the lateral acceleration of that weave over the speed. */
  w->ey = 0.12 * sin(0.35 * w->t) + 0.05 * sin(1.1 * w->t + 0.5);
  double ay = -0.12 * 0.35 * 0.35 * sin(0.35 * w->t) - 0.05 * 1.1 * 1.1 * sin(1.1 * w->t + 0.5);
  w->yaw_rate = w->ev > 1 ? ay / w->ev : 0;
  w->steer = w->ev > 1 ? w->yaw_rate * 2.8 / w->ev * 15.0 : 0; /* wheelbase 2.8 m, ratio 15 */
  for (int i = 0; i < w->n_obj; i++) {
    rsim__obj *o = &w->obj[i];
    if (o->cls <= OBJ_TRUCK) {
      double v0 = i == 0 ? lead_target_speed(phase) : (o->cls == OBJ_TRUCK ? 22.5 : 26.0);
      const rsim__obj *f = ahead_in_lane(w, o->x, o->y, o);
      double g = f ? f->x - o->x - (f->length + o->length) / 2 : 1e9;
      double acc = idm(o->v, v0, g, f ? o->v - f->v : 0);
      if (i == 0 && phase >= 20 && phase < 24) acc = o->v > 12 ? -4.0 : 0;
      o->v += acc * dt;
      if (o->v < 0) o->v = 0;
      /* The cut-in: the car right of the ego lane moves over at 35 s. */
      if (i == 3 && phase >= 35 && phase < 35 + dt && o->x > w->ex + 15) o->target_y = 0.0;
      if (i == 3 && phase >= 50 && phase < 50 + dt) o->target_y = -3.5;
      double dy = o->target_y - o->y;
      o->vy = fabs(dy) > 0.01 ? (dy > 0 ? 1.0 : -1.0) : 0;
      o->y += o->vy * dt;
      if (fabs(o->target_y - o->y) < 0.01) o->y = o->target_y;
    }
    o->x += o->v * dt;
    if (o->x - w->ex > 160 || o->x - w->ex < -80) respawn(w, o);
  }
}
