/*
** test_eval_plan.c -- the planning metrics of src/eval/plan.c: the
** Savitzky-Golay filter on polynomials (where it must be exact, including
** scipy's half-sample shift of an even window), hand-worked plans for
** time-to-collision and headway, hard braking, manoeuvres, yaw and comfort,
** and random plans checked against scipy's savgol_filter and the formulas
** written out again in tests/eval/reference.py.
*/
#include <math.h>

#include "rsim/eval.h"
#include "test.h"

/* ---- Savitzky-Golay ---------------------------------------------------------------- */

TEST(eval_savgol_reproduces_polynomials_and_scipys_even_window_shift) {
  enum { N = 20 };
  double y[N], out[N];
  for (int i = 0; i < N; i++) y[i] = 0.5 * i * i - 3 * i + 1;
  /* odd window: a quadratic is its own smoothing; derivatives exact */
  rsim_eval_savgol(y, N, 15, 2, 0, 0.1, out);
  for (int i = 0; i < N; i++) ASSERT_NEAR(out[i], y[i], 1e-9);
  rsim_eval_savgol(y, N, 5, 2, 1, 0.1, out); /* dy/dt = (i - 3) / 0.1 */
  for (int i = 0; i < N; i++) ASSERT_NEAR(out[i], (i - 3) / 0.1, 1e-8);
  rsim_eval_savgol(y, N, 5, 3, 2, 0.1, out); /* d2y/dt2 = 1 / 0.01 */
  for (int i = 0; i < N; i++) ASSERT_NEAR(out[i], 100.0, 1e-6);
  /* nuPlan's window 8: scipy fits the first and last 4 samples exactly and
  ** evaluates the rest half a sample late, (i + 0.5) */
  rsim_eval_savgol(y, N, 8, 2, 0, 1, out);
  for (int i = 0; i < N; i++) {
    double s = i < 4 || i >= N - 4 ? i : i + 0.5;
    ASSERT_NEAR(out[i], 0.5 * s * s - 3 * s + 1, 1e-9);
  }
  /* the window is cut to the series; a degree it cannot fit is NaN */
  rsim_eval_savgol(y, 3, 15, 2, 0, 1, out);
  for (int i = 0; i < 3; i++) ASSERT_NEAR(out[i], y[i], 1e-9);
  rsim_eval_savgol(y, 3, 5, 3, 2, 1, out);
  ASSERT(isnan(out[0]) && isnan(out[2]));
}

/* ---- hand-worked plans --------------------------------------------------------------- */

/* A straight plan at 0.5 s steps from speed v with constant accel a. */
static void straight(rsim_eval_plan_point *q, double v, double a) {
  double x = 0;
  for (int k = 0; k < 11; k++) {
    double t = 0.5 * k, vk = fmax(0, v + a * t);
    if (k) x += 0.25 * (fmax(0, v + a * (t - 0.5)) + vk);
    q[k] = (rsim_eval_plan_point){t, x, 0, vk, vk > 0 ? a : 0};
  }
}

TEST(eval_plan_time_to_collision_and_headway_over_the_first_second) {
  /* ego at 20 m/s, lead 20 m ahead at 10 m/s: the gap closes 10 m a
  ** second, so over the first second (dt 0, 0.5, 1) it is 20, 15, 10 m:
  ** TTC 2, 1.5, 1 s and headway 1, 0.75, 0.5 s; later points do not count. */
  rsim_eval_plan_point q[11];
  straight(q, 20, 0);
  rsim_eval_plan p = {0, q, 11, -1, 20, 10};
  rsim_eval_planning r;
  rsim_eval_plans(&p, 1, 0, NULL, NULL, &r);
  ASSERT_NEAR(r.min_ttc, 1.0, 1e-12);
  ASSERT_NEAR(r.min_headway, 0.5, 1e-12);
  /* a faster lead is never closed on: TTC infinite, headway finite */
  p.lead_speed = 25;
  rsim_eval_plans(&p, 1, 0, NULL, NULL, &r);
  ASSERT(isinf(r.min_ttc));
  ASSERT_NEAR(r.min_headway, 1.0, 1e-12);
  /* a plan that reaches the lead within its first second collides: 0 */
  p.lead_speed = 10, p.lead_gap = 7;
  rsim_eval_plans(&p, 1, 0, NULL, NULL, &r);
  ASSERT_EQ(r.min_ttc, 0.0);
  /* no lead: nothing to collide with */
  p.lead_gap = NAN;
  rsim_eval_plans(&p, 1, 0, NULL, NULL, &r);
  ASSERT(isinf(r.min_ttc) && isinf(r.min_headway));
}

TEST(eval_plan_hard_brakes_max_decel_and_manoeuvres) {
  /* plans every 0.1 s commanding -1, -5, -5, -1, -4 (not over 4), -4.5:
  ** two hard-brake events, 0.3 s of hard braking, 5 m/s^2 at most */
  static const double accel[] = {-1, -5, -5, -1, -4, -4.5};
  static const int man[] = {0, 1, 1, 0, 0, 1};
  rsim_eval_plan_point q[6][11];
  rsim_eval_plan p[6];
  for (int k = 0; k < 6; k++) {
    straight(q[k], 20, accel[k]);
    p[k] = (rsim_eval_plan){0.1 * k, q[k], 11, man[k], NAN, NAN};
  }
  int64_t entries[2];
  double time[2];
  rsim_eval_planning r;
  rsim_eval_plans(p, 6, 2, entries, time, &r);
  ASSERT_EQ(r.hard_brakes, 2);
  ASSERT_NEAR(r.hard_brake_time, 0.3, 1e-12);
  ASSERT_NEAR(r.max_decel, 5.0, 1e-12);
  ASSERT_NEAR(r.max_accel, -1.0, 1e-12);
  ASSERT_EQ(r.plans, 6);
  /* manoeuvre 0 at plans 0, 3-4; 1 at 1-2 and 5 (the last holds 0.1 s) */
  ASSERT_EQ(entries[0], 2);
  ASSERT_EQ(entries[1], 2);
  ASSERT_NEAR(time[0], 0.3, 1e-12);
  ASSERT_NEAR(time[1], 0.3, 1e-12);
}

TEST(eval_plan_yaw_rate_of_an_arc_and_nuplan_comfort) {
  /* plans along a circle of curvature 0.02 at 10 m/s: yaw rate 0.2 rad/s,
  ** lateral acceleration 2 m/s^2; constant, so no yaw acceleration or jerk */
  enum { N = 30 };
  static rsim_eval_plan_point q[N][11];
  rsim_eval_plan p[N];
  double kappa = 0.02, v = 10;
  for (int k = 0; k < N; k++) {
    for (int j = 0; j < 11; j++) {
      double s = v * 0.5 * j;
      q[k][j] = (rsim_eval_plan_point){0.5 * j, sin(kappa * s) / kappa, (1 - cos(kappa * s)) / kappa, v, 0};
    }
    p[k] = (rsim_eval_plan){0.1 * k, q[k], 11, -1, NAN, NAN};
  }
  rsim_eval_planning r;
  rsim_eval_plans(p, N, 0, NULL, NULL, &r);
  ASSERT_NEAR(r.yaw_rate_max, 0.2, 1e-9);
  ASSERT_NEAR(r.lat_accel_max, 2.0, 1e-9);
  ASSERT_NEAR(r.yaw_accel_max, 0.0, 1e-6);
  ASSERT_NEAR(r.lon_jerk_max, 0.0, 1e-9);
  ASSERT_NEAR(r.jerk_max, 0.0, 1e-9);
  ASSERT_EQ(r.comfortable, 1.0);
  /* turning at 0.2 rad/s with 25 m/s is 5 m/s^2 sideways: over nuPlan's 4.89 */
  for (int k = 0; k < N; k++)
    for (int j = 0; j < 11; j++) q[k][j].speed = 25;
  rsim_eval_plans(p, N, 0, NULL, NULL, &r);
  ASSERT_NEAR(r.lat_accel_max, 5.0, 1e-9);
  ASSERT_EQ(r.comfortable, 0.0);
}

/* Plans along arcs at speed v whose yaw rate is r. */
static void arc(rsim_eval_plan_point *q, double v, double r) {
  double kappa = r / v;
  for (int j = 0; j < 11; j++) {
    double s = v * 0.5 * j;
    q[j] = fabs(kappa) < 1e-12 ? (rsim_eval_plan_point){0.5 * j, s, 0, v, 0}
                               : (rsim_eval_plan_point){0.5 * j, sin(kappa * s) / kappa, (1 - cos(kappa * s)) / kappa, v, 0};
  }
}

TEST(eval_plan_yaw_acceleration_and_jerk_of_a_tightening_turn) {
  /* the yaw rate grows at c rad/s^2 (r = c t over 8 plans 0.1 s apart) at
  ** 10 m/s: the heading c t^2 / 2 (the trapezoid is exact), so nuPlan's
  ** filters give yaw rate c t, yaw acceleration c; the lateral acceleration
  ** 10 c t is the acceleration's magnitude, so the jerk is 10 c */
  enum { N = 8 };
  static rsim_eval_plan_point q[N][11];
  rsim_eval_plan p[N];
  rsim_eval_planning r;
  for (int run = 0; run < 2; run++) {
    double c = run ? 2.0 : 0.5;
    for (int k = 0; k < N; k++) {
      arc(q[k], 10, c * 0.1 * k);
      p[k] = (rsim_eval_plan){0.1 * k, q[k], 11, -1, NAN, NAN};
    }
    rsim_eval_plans(p, N, 0, NULL, NULL, &r);
    ASSERT_NEAR(r.yaw_accel_max, c, 1e-6);
    ASSERT_NEAR(r.yaw_rate_max, c * 0.7, 1e-9);
    ASSERT_NEAR(r.lat_accel_max, 10 * c * 0.7, 1e-9);
    ASSERT_NEAR(r.jerk_max, 10 * c, 1e-9);
    ASSERT_NEAR(r.lon_jerk_max, 0, 1e-9);
    /* 0.5: within every bound; 2.0: yaw acceleration over 1.93, yaw rate 1.4 over 0.95 */
    ASSERT_EQ(r.comfortable, run ? 0.0 : 1.0);
  }
}

TEST(eval_plan_comfort_bounds_on_a_ramp_and_too_few_plans) {
  /* the commanded acceleration ramps from -2 m/s^2 at J m/s^3 over 8 plans
  ** 0.1 s apart: 8 samples are one window of nuPlan's filters, which then
  ** fit it exactly, so the jerk is J; 3 is within nuPlan's 4.13, 5 is not */
  enum { N = 8 };
  static rsim_eval_plan_point q[N][11];
  rsim_eval_plan p[N];
  rsim_eval_planning r;
  for (double jerk = 3; jerk <= 5; jerk += 2) {
    for (int k = 0; k < N; k++) {
      straight(q[k], 20, -2 + jerk * 0.1 * k);
      p[k] = (rsim_eval_plan){0.1 * k, q[k], 11, -1, NAN, NAN};
    }
    rsim_eval_plans(p, N, 0, NULL, NULL, &r);
    ASSERT_NEAR(r.lon_jerk_max, jerk, 1e-9);
    ASSERT_NEAR(r.lon_accel_min, -2, 1e-9);
    ASSERT_NEAR(r.lon_accel_max, -2 + jerk * 0.7, 1e-9);
    ASSERT_EQ(r.comfortable, jerk < 4.13 ? 1.0 : 0.0);
  }
  /* nuPlan's yaw acceleration (degree 3) needs 4 samples: with 3, comfort
  ** is undefined while the jerk is still there */
  rsim_eval_plans(p, 3, 0, NULL, NULL, &r);
  ASSERT(isnan(r.comfortable));
  ASSERT_NEAR(r.lon_jerk_max, 5.0, 1e-9);
  /* an acceleration over 2.40 m/s^2 is uncomfortable however smooth */
  for (int k = 0; k < N; k++) straight(q[k], 20, 2.5), p[k].t = 0.1 * k;
  rsim_eval_plans(p, N, 0, NULL, NULL, &r);
  ASSERT_NEAR(r.lon_jerk_max, 0, 1e-9);
  ASSERT_EQ(r.comfortable, 0.0);
}

/* ---- random plans against the reference ------------------------------------------- */

static uint64_t rng_state;
static double uni(void) {
  rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
  return (double)(rng_state >> 11) / 9007199254740992.0;
}

static void num(FILE *f, double v) {
  if (isfinite(v)) fprintf(f, "%.17g", v);
  else fprintf(f, "null");
}

TEST(eval_plan_random_cases_agree_with_scipy_savgol_reference) {
  rng_state = 1616;
  enum { NP = 160 };
  static rsim_eval_plan_point q[NP][11];
  static rsim_eval_plan p[NP];
  static const size_t lens[] = {NP, 40, 9, 5, 4};
  const char *names[] = {"cruise", "follow", "brake"};
  char frames[1024], result[1024];
  snprintf(frames, sizeof frames, "%s", test_tmpfile("plan_frames.json"));
  snprintf(result, sizeof result, "%s", test_tmpfile("plan_result.json"));
  FILE *ff = fopen(frames, "w"), *fr = fopen(result, "w");
  ASSERT(ff && fr);
  fprintf(ff, "{\"classes\": [], \"components\": [");
  fprintf(fr, "{\"metrics\": [\n");
  bool first_row = true, any_hard = false, any_uncomfortable = false, any_comfortable = false;
  double t = 0;
  int man = 0;
  for (size_t c = 0; c < sizeof lens / sizeof *lens; c++) {
    size_t n = lens[c];
    double v = 5 + 20 * uni(), kappa = (uni() - 0.5) * (c < 2 ? 0.04 : 0.004), a = 0;
    for (size_t k = 0; k < n; k++) {
      /* a wandering command, the occasional hard brake, curving paths */
      double jolt = uni() < 0.03 ? 3 : 0;
      a = fmin(2, fmax(-6, a + (uni() - 0.5) * (c == 0 ? 1.2 : c == 1 ? 0.3 : 0.02) - (c == 0 ? jolt : 0)));
      kappa += (uni() - 0.5) * (c < 2 ? 0.004 : 0.0002);
      double x = 0, y = 0, th = 0, sp = v;
      for (int j = 0; j < 11; j++) {
        if (j) {
          double sp1 = fmax(0, sp + 0.5 * a), ds = 0.25 * (sp + sp1);
          x += ds * cos(th + 0.5 * kappa * ds), y += ds * sin(th + 0.5 * kappa * ds), th += kappa * ds, sp = sp1;
        }
        q[k][j] = (rsim_eval_plan_point){0.5 * j, x, y, sp, sp > 0 ? a : 0};
      }
      if (uni() < 0.2) man = (int)(uni() * 3);
      t += 0.09 + 0.02 * uni(); /* not quite uniform, as a run's plans */
      bool lead = uni() < 0.7;
      p[k] = (rsim_eval_plan){t, q[k], 11, man, lead ? 3 + 40 * uni() : NAN, lead ? v + (uni() - 0.6) * 10 : NAN};
      v = fmax(0, v + a * 0.1);
    }
    int64_t entries[3];
    double time[3];
    rsim_eval_planning r;
    rsim_eval_plans(p, n, 3, entries, time, &r);
    any_hard |= r.hard_brakes > 0;
    any_uncomfortable |= r.comfortable == 0;
    any_comfortable |= r.comfortable == 1;
    fprintf(ff, "%s\n{\"component\": \"plan%zu\", \"kind\": \"planning\", \"max_dist\": 2, \"frames\": [",
            c ? "," : "", c);
    for (size_t k = 0; k < n; k++) {
      fprintf(ff, "%s\n {\"t\": %.17g, \"maneuver\": %d, \"lead_gap\": ", k ? "," : "", p[k].t, p[k].maneuver);
      num(ff, p[k].lead_gap);
      fprintf(ff, ", \"lead_speed\": ");
      num(ff, p[k].lead_speed);
      fprintf(ff, ", \"points\": [");
      for (int j = 0; j < 11; j++)
        fprintf(ff, "%s[%.17g, %.17g, %.17g, %.17g, %.17g]", j ? ", " : "", q[k][j].dt, q[k][j].x, q[k][j].y,
                q[k][j].speed, q[k][j].accel);
      fprintf(ff, "]}");
    }
    fprintf(ff, "], \"maneuvers\": [\"cruise\", \"follow\", \"brake\"]}");
    const struct {
      const char *m;
      double v;
    } m[] = {{"min_ttc", r.min_ttc},           {"min_headway", r.min_headway},
             {"max_decel", r.max_decel},       {"max_accel", r.max_accel},
             {"hard_brakes", (double)r.hard_brakes}, {"hard_brake_time", r.hard_brake_time},
             {"comfortable", r.comfortable},   {"lon_accel_min", r.lon_accel_min},
             {"lon_accel_max", r.lon_accel_max}, {"lat_accel_max", r.lat_accel_max},
             {"yaw_rate_max", r.yaw_rate_max}, {"yaw_accel_max", r.yaw_accel_max},
             {"lon_jerk_max", r.lon_jerk_max}, {"jerk_max", r.jerk_max},
             {"plans", (double)r.plans}};
    for (size_t j = 0; j < sizeof m / sizeof *m + 6; j++) {
      bool is_man = j >= sizeof m / sizeof *m;
      size_t mi = (j - sizeof m / sizeof *m) / 2;
      fprintf(fr, "%s{\"component\": \"plan%zu\", \"scope\": \"run\", \"class\": \"%s\", \"metric\": \"%s\", \"value\": ",
              first_row ? "" : ",\n", c, is_man ? names[mi] : "all",
              is_man ? ((j - sizeof m / sizeof *m) % 2 ? "time" : "entries") : m[j].m);
      num(fr, is_man ? ((j - sizeof m / sizeof *m) % 2 ? time[mi] : (double)entries[mi]) : m[j].v);
      fprintf(fr, "}");
      first_row = false;
    }
  }
  fprintf(ff, "]}\n");
  fprintf(fr, "\n]}\n");
  fclose(ff);
  fclose(fr);
  ASSERT(any_hard && any_uncomfortable && any_comfortable); /* the cases exercise them */
  char cmd[4096], *out = NULL;
  snprintf(cmd, sizeof cmd, "python3 %s %s %s", test_source_path("tests/eval/reference.py"), frames, result);
  int rc = test_run(cmd, &out);
  if (rc) test_fail(__FILE__, __LINE__, "the reference disagrees (%d): %s", rc, out);
  ASSERT_CONTAINS(out, "compared 105 values with the references, 0 differ");
  free(out);
}
