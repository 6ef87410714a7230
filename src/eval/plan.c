/*
** plan.c -- planning metrics over a planner's trajectories: time-to-collision
** and headway to the true lead, the deceleration and hard braking a plan
** commands, nuPlan's comfort (ego_is_comfortable) and time in each
** manoeuvre.
**
** Every plan is scored on its first second (RSIM_EVAL_HORIZON): that is what
** a receding-horizon planner commits to before it plans again, while the rest
** is a forecast it will revise.  The comfort series is one sample per plan
** (its starting state), the series a vehicle that followed each plan until
** the next would have driven; its derivatives are nuplan-devkit's
** Savitzky-Golay filters (nuplan/planning/metrics/utils/state_extractors.py).
** docs/evaluation.md defines each number and lists where this deviates.
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eval/eval_int.h"

/* nuPlan's bounds (nuplan-devkit, config/common/simulation_metric/low_level). */
#define LON_ACCEL_MIN (-4.05)
#define LON_ACCEL_MAX 2.40
#define LAT_ACCEL_MAX 4.89
#define YAW_RATE_MAX 0.95
#define YAW_ACCEL_MAX 1.93
#define LON_JERK_MAX 4.13
#define JERK_MAX 8.37

/* ---- Savitzky-Golay ------------------------------------------------------------------ */

/* The least-squares polynomial of degree poly through y[s..s+w) at sample
** positions (s + j) - pos, its deriv-th derivative at 0.  Normal equations
** with partial pivoting: w <= 15 and poly <= 3 keep them well conditioned. */
static double fit_at(const double *y, size_t s, size_t w, int poly, int deriv, double pos) {
  double a[4][5] = {{0}};
  int m = poly + 1;
  for (size_t j = 0; j < w; j++) {
    double t = (double)(s + j) - pos, pw[8];
    pw[0] = 1;
    for (int k = 1; k < 2 * m; k++) pw[k] = pw[k - 1] * t;
    for (int r = 0; r < m; r++) {
      for (int c = 0; c < m; c++) a[r][c] += pw[r + c];
      a[r][m] += pw[r] * y[s + j];
    }
  }
  for (int col = 0; col < m; col++) {
    int piv = col;
    for (int r = col + 1; r < m; r++)
      if (fabs(a[r][col]) > fabs(a[piv][col])) piv = r;
    if (piv != col)
      for (int c = 0; c <= m; c++) {
        double x = a[col][c];
        a[col][c] = a[piv][c], a[piv][c] = x;
      }
    for (int r = col + 1; r < m; r++) {
      double f = a[r][col] / a[col][col];
      for (int c = col; c <= m; c++) a[r][c] -= f * a[col][c];
    }
  }
  double coef[4];
  for (int r = m - 1; r >= 0; r--) {
    double x = a[r][m];
    for (int c = r + 1; c < m; c++) x -= a[r][c] * coef[c];
    coef[r] = x / a[r][r];
  }
  double fact = 1;
  for (int k = 2; k <= deriv; k++) fact *= k;
  return deriv <= poly ? fact * coef[deriv] : 0;
}

/* scipy's savgol_filter, mode 'interp': the first and last window/2 samples
** are the polynomial fitted to the first (last) window evaluated at them;
** the rest is the convolution, whose centre for an even window lies half a
** sample after the output's own sample (scipy's, and so nuPlan's, window 8). */
void rsim_eval_savgol(const double *y, size_t n, size_t window, int poly, int deriv, double delta, double *out) {
  size_t w = window < n ? window : n;
  if (poly < 0 || poly > 3 || w <= (size_t)poly) {
    for (size_t i = 0; i < n; i++) out[i] = NAN;
    return;
  }
  size_t h = w / 2;
  double scale = pow(delta, -deriv);
  for (size_t i = 0; i < n; i++) {
    size_t s;
    double pos;
    if (i < h) s = 0, pos = (double)i;
    else if (i >= n - h) s = n - w, pos = (double)i;
    else s = i - (w - 1) / 2, pos = (double)s + (double)(w - 1) / 2;
    out[i] = fit_at(y, s, w, poly, deriv, pos) * scale;
  }
}

/* ---- one plan ---------------------------------------------------------------------- */

static double at(const rsim_eval_plan *p, double tau, size_t field) {
  const rsim_eval_plan_point *q = p->pts;
  size_t n = p->n_pts;
#define F(k) (field == 0 ? q[k].speed : field == 1 ? q[k].accel : field == 2 ? q[k].x : q[k].y)
  if (tau <= q[0].dt) return F(0);
  for (size_t k = 0; k + 1 < n; k++)
    if (tau <= q[k + 1].dt) {
      double w = q[k + 1].dt > q[k].dt ? (tau - q[k].dt) / (q[k + 1].dt - q[k].dt) : 1;
      return F(k) + (F(k + 1) - F(k)) * w;
    }
  return F(n - 1);
#undef F
}

/* The direction of the path's segment that holds tau (or the last one that
** moves before it); 0 on a path that does not move. */
static double heading(const rsim_eval_plan *p, double tau) {
  const rsim_eval_plan_point *q = p->pts;
  size_t k = 0;
  while (k + 2 < p->n_pts && q[k + 1].dt <= tau) k++;
  for (;; k--) {
    double dx = q[k + 1].x - q[k].x, dy = q[k + 1].y - q[k].y;
    if (hypot(dx, dy) > 1e-9) return atan2(dy, dx);
    if (!k) return 0;
  }
}

/* The yaw rate a plan commands: its path's turn over the first second. */
static double yaw_rate(const rsim_eval_plan *p) {
  if (p->n_pts < 2) return 0;
  double d = heading(p, RSIM_EVAL_HORIZON) - heading(p, 0);
  d = remainder(d, 2 * M_PI);
  return d / RSIM_EVAL_HORIZON;
}

/* ---- the run ------------------------------------------------------------------------ */

static double max_abs(const double *v, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; i++) m = isnan(v[i]) || isnan(m) ? NAN : fmax(m, fabs(v[i]));
  return n ? m : NAN;
}

static void min_max(const double *v, size_t n, double *lo, double *hi) {
  *lo = n ? INFINITY : NAN, *hi = n ? -INFINITY : NAN;
  for (size_t i = 0; i < n; i++) {
    if (isnan(v[i])) {
      *lo = *hi = NAN;
      return;
    }
    *lo = fmin(*lo, v[i]), *hi = fmax(*hi, v[i]);
  }
}

void rsim_eval_plans(const rsim_eval_plan *p, size_t n, size_t n_maneuvers, int64_t *entries, double *time,
                     rsim_eval_planning *out) {
  *out = (rsim_eval_planning){.min_ttc = INFINITY, .min_headway = INFINITY, .max_decel = NAN, .max_accel = NAN,
                              .plans = (int64_t)n};
  for (size_t m = 0; m < n_maneuvers; m++) entries[m] = 0, time[m] = 0;
  double *a = rsim_xmalloc((6 * n + 1) * sizeof *a), *lat = a + n, *mag = lat + n, *psi = mag + n, *s1 = psi + n,
         *s2 = s1 + n;
  double yr_prev = 0;
  bool hard_prev = false;
  for (size_t k = 0; k < n; k++) {
    const rsim_eval_plan *x = &p[k];
    double hold = k + 1 < n ? p[k + 1].t - x->t : k ? x->t - p[k - 1].t : 0;
    /* the first second: deceleration, time-to-collision and headway */
    double decel = -INFINITY;
    for (size_t j = 0; j < x->n_pts && x->pts[j].dt <= RSIM_EVAL_HORIZON; j++) {
      const rsim_eval_plan_point *q = &x->pts[j];
      decel = fmax(decel, -q->accel);
      out->max_decel = isnan(out->max_decel) ? -q->accel : fmax(out->max_decel, -q->accel);
      out->max_accel = isnan(out->max_accel) ? q->accel : fmax(out->max_accel, q->accel);
      if (isnan(x->lead_gap)) continue;
      /* the lead keeps its speed (constant velocity, as nuPlan's TTC) */
      double gap = x->lead_gap + x->lead_speed * q->dt - (q->x - x->pts[0].x);
      double ttc = gap <= 0 ? 0 : q->speed > x->lead_speed ? gap / (q->speed - x->lead_speed) : INFINITY;
      double hw = gap <= 0 ? 0 : q->speed > 0 ? gap / q->speed : INFINITY;
      out->min_ttc = fmin(out->min_ttc, ttc);
      out->min_headway = fmin(out->min_headway, hw);
    }
    bool hard = decel > RSIM_EVAL_HARD_BRAKE;
    if (hard && !hard_prev) out->hard_brakes++;
    if (hard) out->hard_brake_time += hold;
    hard_prev = hard;
    if (x->maneuver >= 0 && (size_t)x->maneuver < n_maneuvers) {
      if (!k || p[k - 1].maneuver != x->maneuver) entries[x->maneuver]++;
      time[x->maneuver] += hold;
    }
    /* the starting state, a sample of the comfort series */
    double v0 = x->n_pts ? at(x, 0, 0) : 0, yr = yaw_rate(x);
    a[k] = x->n_pts ? at(x, 0, 1) : 0;
    lat[k] = v0 * yr;
    mag[k] = hypot(a[k], lat[k]);
    psi[k] = k ? psi[k - 1] + 0.5 * (yr_prev + yr) * (x->t - p[k - 1].t) : 0;
    yr_prev = yr;
  }
  double delta = n > 1 ? (p[n - 1].t - p[0].t) / (double)(n - 1) : 1;
  /* nuPlan: accelerations smoothed (window 8, degree 2), jerks their first
  ** derivative (window 15, degree 2), yaw rate and acceleration the first and
  ** second derivative of the heading (window 5, degree 2 and 3). */
  rsim_eval_savgol(a, n, 8, 2, 0, delta, s1);
  min_max(s1, n, &out->lon_accel_min, &out->lon_accel_max);
  rsim_eval_savgol(s1, n, 15, 2, 1, delta, s2);
  out->lon_jerk_max = max_abs(s2, n);
  rsim_eval_savgol(lat, n, 8, 2, 0, delta, s1);
  out->lat_accel_max = max_abs(s1, n);
  rsim_eval_savgol(mag, n, 8, 2, 0, delta, s1);
  rsim_eval_savgol(s1, n, 15, 2, 1, delta, s2);
  out->jerk_max = max_abs(s2, n);
  rsim_eval_savgol(psi, n, 5, 2, 1, delta, s1);
  out->yaw_rate_max = max_abs(s1, n);
  rsim_eval_savgol(psi, n, 5, 3, 2, delta, s1);
  out->yaw_accel_max = max_abs(s1, n);
  free(a);
  if (n < 4) {
    out->comfortable = NAN;
    return;
  }
  /* within bounds: strictly, as nuPlan's WithinBoundMetricBase */
  bool ok = out->lon_accel_min > LON_ACCEL_MIN && out->lon_accel_max < LON_ACCEL_MAX &&
            out->lat_accel_max < LAT_ACCEL_MAX && out->yaw_rate_max < YAW_RATE_MAX &&
            out->yaw_accel_max < YAW_ACCEL_MAX && out->lon_jerk_max < LON_JERK_MAX && out->jerk_max < JERK_MAX;
  out->comfortable = ok ? 1 : 0;
}

/* ---- plans from a run ---------------------------------------------------------------- */

static const rsim_type *points_type(const rsim_type *t) {
  if (!t || t->kind != RSIM_RECORD) return NULL;
  const rsim_type *pt = rsim_type_field(t, "points");
  if (!pt || pt->kind != RSIM_LIST || !pt->types[0] || pt->types[0]->kind != RSIM_RECORD) return NULL;
  const rsim_type *e = pt->types[0];
  static const char *const need[] = {"dt", "x", "y", "speed", "accel"};
  for (size_t i = 0; i < 5; i++)
    if (rsim_type_member(e, need[i]) < 0) return NULL;
  return e;
}

bool rsim__eval_is_plan_type(const rsim_type *t) { return points_type(t) != NULL; }

static double field_num(const rsim_val *v, const rsim_type *t, const char *name) {
  const rsim_val *f = rsim_val_field(v, t, name);
  return f ? rsim_val_number(f) : NAN;
}

double rsim__eval_ego_speed(rsim_store *st, const char *can_id, rsim_time t) {
  rsim_reading r = {0};
  if (!can_id || rsim_store_reading_at(st, can_id, t, &r)) return NAN;
  double v = NAN;
  const uint8_t *b = r.payload;
  /* docs/sensors.md: frame 0x100, speed u16 at 0.01 m/s in data bytes 0-1 */
  if (r.payload_len >= 16 && (b[0] | b[1] << 8 | b[2] << 16 | (uint32_t)b[3] << 24) == 0x100 && b[4] >= 2)
    v = (double)(uint16_t)(b[5] | b[6] << 8) * 0.01;
  rsim_reading_clear(&r);
  return v;
}

/* The true lead: the nearest road user ahead in the ego lane (centre ahead
** of the ego's origin, |y| under half a lane), the planner's own rule. */
#define LANE_HALF_WIDTH 1.75

void rsim__eval_plan_from(const rsim_val *v, const rsim_type *t, double t_s, const rsim_truth *g, size_t ng,
                          double ego_speed, double ego_front, char ***names, size_t *n_names, rsim_eval_plan *out) {
  const rsim_type *et = points_type(t);
  const rsim_val *pts = rsim_val_field(v, t, "points");
  size_t n = pts && pts->kind == RSIM_LIST ? pts->of.agg.n : 0;
  rsim_eval_plan_point *q = rsim_xmalloc((n + 1) * sizeof *q);
  for (size_t i = 0; i < n; i++) {
    const rsim_val *o = &pts->of.agg.items[i];
    q[i] = (rsim_eval_plan_point){field_num(o, et, "dt") / 1e9, field_num(o, et, "x"), field_num(o, et, "y"),
                                  field_num(o, et, "speed"), field_num(o, et, "accel")};
  }
  *out = (rsim_eval_plan){.t = t_s, .pts = q, .n_pts = n, .maneuver = -1, .lead_gap = NAN, .lead_speed = NAN};
  const rsim_val *m = rsim_val_field(v, t, "maneuver");
  if (m && m->kind == RSIM_STRING) {
    size_t i = 0;
    while (i < *n_names && strcmp((*names)[i], m->of.str.ptr)) i++;
    if (i == *n_names) {
      *names = rsim_xrealloc(*names, (*n_names + 1) * sizeof **names);
      (*names)[(*n_names)++] = rsim_xstrdup(m->of.str.ptr);
    }
    out->maneuver = (int)i;
  }
  if (isnan(ego_speed)) ego_speed = n ? q[0].speed : 0; /* without a CAN speed: where the plan starts */
  const rsim_truth *lead = NULL;
  for (size_t i = 0; i < ng; i++)
    if (g[i].x > 0 && fabs(g[i].y) < LANE_HALF_WIDTH && (!lead || g[i].x < lead->x)) lead = &g[i];
  if (lead) {
    out->lead_gap = lead->x - lead->length / 2 - ego_front;
    out->lead_speed = ego_speed + lead->vx;
  }
}
