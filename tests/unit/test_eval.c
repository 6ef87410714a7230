/*
** test_eval.c -- the metric kernels of src/eval: the assignment against
** brute force, hand-worked cases that pin the edge cases (no truth, no
** outputs, all false positives, one truth switching identity, a gap that
** fragments a track, ignored truth), and random cases checked against the
** Python references (pycocotools, py-motmetrics, TrackEval) through
** tests/eval/reference.py.
*/
#include <math.h>

#include "rsim/eval.h"
#include "test.h"

/* ---- assignment ------------------------------------------------------------------ */

static double brute(const double *c, size_t n, size_t m, size_t row, bool *used) {
  if (row == n) return 0;
  double best = INFINITY;
  bool any = false;
  for (size_t j = 0; j < m; j++)
    if (!used[j]) {
      any = true;
      used[j] = true;
      double v = c[row * m + j] + brute(c, n, m, row + 1, used);
      used[j] = false;
      if (v < best) best = v;
    }
  return any ? best : 0;
}

TEST(eval_assignment_is_the_minimum_of_brute_force) {
  uint64_t s = 12345;
  for (int trial = 0; trial < 300; trial++) {
    size_t n = 1 + (size_t)(trial % 5), m = 1 + (size_t)((trial / 5) % 6);
    double c[36];
    for (size_t i = 0; i < n * m; i++) {
      s = s * 6364136223846793005ULL + 1442695040888963407ULL;
      c[i] = (double)(s >> 40) / 1000.0 - (trial % 3 == 0 ? 5000 : 0);
    }
    ptrdiff_t r2c[6];
    double got = rsim_eval_assign(c, n, m, r2c);
    /* brute force over the smaller side as rows */
    double want;
    bool used[6] = {0};
    if (n <= m) {
      want = brute(c, n, m, 0, used);
    } else {
      double t[36];
      for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < m; j++) t[j * n + i] = c[i * m + j];
      want = brute(t, m, n, 0, used);
    }
    ASSERT_NEAR(got, want, 1e-6);
    size_t pairs = 0;
    bool col_used[6] = {0};
    double sum = 0;
    for (size_t i = 0; i < n; i++)
      if (r2c[i] >= 0) {
        ASSERT(!col_used[r2c[i]]);
        col_used[r2c[i]] = true;
        sum += c[i * m + (size_t)r2c[i]];
        pairs++;
      }
    ASSERT_EQ(pairs, n < m ? n : m);
    ASSERT_NEAR(sum, got, 1e-9);
  }
}

/* ---- detection, by hand ------------------------------------------------------------- */

#define BOX(x, y, w, h, c, s) ((rsim_eval_box){x, y, w, h, c, s, false})

TEST(eval_detection_hand_worked_ap) {
  /* Two truths; detections ranked: hit, miss, hit.  Precision 1, 1/2, 2/3
  ** at recall 1/2, 1/2, 1; made monotone: 1 up to recall 0.5 (51 of the
  ** 101 points), 2/3 beyond (50 points). */
  rsim_eval_box gt[] = {BOX(10, 10, 20, 20, 0, 0), BOX(100, 10, 20, 20, 0, 0)};
  rsim_eval_box dt[] = {BOX(10, 10, 20, 20, 0, 0.9), BOX(300, 300, 10, 10, 0, 0.8), BOX(100, 10, 20, 20, 0, 0.7)};
  rsim_eval_image im = {gt, dt, 2, 3};
  rsim_eval_det d[2];
  rsim_eval_detection(&im, 1, 1, 0.5, d);
  double want = (51 * 1.0 + 50 * (2.0 / 3.0)) / 101;
  ASSERT_NEAR(d[0].ap50, want, 1e-12);
  ASSERT_NEAR(d[0].ap, want, 1e-12); /* every IoU is 1 */
  ASSERT_NEAR(d[1].ap, want, 1e-12);
  ASSERT_EQ(d[0].tp, 2);
  ASSERT_EQ(d[0].fp, 1);
  ASSERT_EQ(d[0].fn, 0);
  ASSERT_NEAR(d[0].precision, 2.0 / 3, 1e-12);
  ASSERT_NEAR(d[0].recall, 1, 1e-12);
  ASSERT_NEAR(d[0].f1, 0.8, 1e-12);
}

TEST(eval_detection_iou_thresholds_split_ap) {
  /* One truth, one detection of IoU 300/500 = 0.6 (a 20x20 box shifted by
  ** 5): a hit at the thresholds 0.50, 0.55 and 0.60 (inclusive, and
  ** linspace's third threshold is exactly 0.6), a miss from 0.65 on. */
  rsim_eval_box gt[] = {BOX(0, 0, 20, 20, 0, 0)};
  rsim_eval_box dt[] = {BOX(0, 5, 20, 20, 0, 0.5)};
  rsim_eval_image im = {gt, dt, 1, 1};
  rsim_eval_det d[2];
  rsim_eval_detection(&im, 1, 1, 0.5, d);
  ASSERT_NEAR(d[0].ap50, 1, 1e-12);
  ASSERT_NEAR(d[0].ap, 3.0 / 10, 1e-12);
  /* tp/fp/fn at a stricter IoU of their own */
  rsim_eval_detection(&im, 1, 1, 0.7, d);
  ASSERT_EQ(d[0].tp, 0);
  ASSERT_EQ(d[0].fp, 1);
  ASSERT_EQ(d[0].fn, 1);
  ASSERT_NEAR(d[0].ap, 3.0 / 10, 1e-12);
}

TEST(eval_detection_no_truth_no_detections_all_false_positives) {
  rsim_eval_box gt[] = {BOX(0, 0, 20, 20, 0, 0), BOX(50, 0, 20, 20, 1, 0)};
  rsim_eval_box dt[] = {BOX(200, 200, 20, 20, 0, 0.9), BOX(300, 200, 20, 20, 0, 0.8)};
  rsim_eval_det d[3];
  /* no truth: all false positives, AP undefined, recall undefined */
  rsim_eval_image only_dt = {NULL, dt, 0, 2};
  rsim_eval_detection(&only_dt, 1, 1, 0.5, d);
  ASSERT(isnan(d[0].ap) && isnan(d[1].ap50));
  ASSERT_EQ(d[0].fp, 2);
  ASSERT_EQ(d[0].tp + d[0].fn, 0);
  ASSERT_NEAR(d[0].precision, 0, 0);
  ASSERT(isnan(d[0].recall));
  /* no detections: AP 0, precision undefined */
  rsim_eval_image only_gt = {gt, NULL, 2, 0};
  rsim_eval_detection(&only_gt, 1, 2, 0.5, d);
  ASSERT_NEAR(d[2].ap, 0, 0);
  ASSERT_EQ(d[2].fn, 2);
  ASSERT(isnan(d[2].precision));
  ASSERT_NEAR(d[2].recall, 0, 0);
  ASSERT_NEAR(d[2].f1, 0, 0);
  /* all false positives: nothing overlaps; class 1 has truth but no detection */
  rsim_eval_image both = {gt, dt, 2, 2};
  rsim_eval_detection(&both, 1, 2, 0.5, d);
  ASSERT_NEAR(d[0].ap, 0, 0);
  ASSERT_NEAR(d[1].ap, 0, 0);
  ASSERT_EQ(d[2].fp, 2);
  ASSERT_EQ(d[2].fn, 2);
  ASSERT_NEAR(d[2].precision, 0, 0);
}

TEST(eval_detection_ignored_truth_is_neither_hit_nor_miss) {
  rsim_eval_box gt[] = {BOX(0, 0, 20, 20, 0, 0), {100, 0, 4, 4, 0, 0, true}};
  rsim_eval_box dt[] = {BOX(0, 0, 20, 20, 0, 0.9), BOX(100, 0, 4, 4, 0, 0.95)};
  rsim_eval_image im = {gt, dt, 2, 2};
  rsim_eval_det d[2];
  rsim_eval_detection(&im, 1, 1, 0.5, d);
  ASSERT_EQ(d[0].tp, 1);
  ASSERT_EQ(d[0].fp, 0);
  ASSERT_EQ(d[0].fn, 0);
  ASSERT_NEAR(d[0].ap, 1, 1e-12);
  /* the same detection on a class with no truth at all is a false positive */
  dt[1].cls = 0, gt[1].ignore = false, gt[1].x = 400;
  rsim_eval_detection(&im, 1, 1, 0.5, d);
  ASSERT_EQ(d[0].fp, 1);
  ASSERT_EQ(d[0].fn, 1);
}

/* ---- tracking, by hand ------------------------------------------------------------- */

#define OBJ(id, x, y) ((rsim_eval_obj){id, x, y, 0, 0})

TEST(eval_tracking_one_truth_switching_identity) {
  /* Truth 1 followed by output 10 for two frames, then by output 11, 0.35 m off. */
  rsim_eval_obj g = OBJ(1, 10, 0), h10 = OBJ(10, 10.35, 0), h11 = OBJ(11, 10.35, 0);
  rsim_eval_frame f[4] = {{&g, &h10, 1, 1}, {&g, &h10, 1, 1}, {&g, &h11, 1, 1}, {&g, &h11, 1, 1}};
  rsim_eval_mot m;
  rsim_eval_tracking(f, 4, 2.0, &m);
  ASSERT_EQ(m.matches, 3);
  ASSERT_EQ(m.switches, 1);
  ASSERT_EQ(m.misses + m.false_positives + m.fragmentations, 0);
  ASSERT_NEAR(m.mota, 0.75, 1e-12);
  ASSERT_NEAR(m.precision, 1, 0);
  ASSERT_NEAR(m.recall, 1, 0);
  ASSERT_NEAR(m.motp, 0.35, 1e-9);
  ASSERT_EQ(m.idtp, 2);
  ASSERT_NEAR(m.idf1, 0.5, 1e-12);
  /* HOTA: similarity 1 - 0.35/2 = 0.825, a match at alpha 0.05..0.80 (16
  ** of 19); there DetA 1 and AssA (2*2/4 + 2*2/4)/4 = 0.5. */
  ASSERT_NEAR(m.deta, 16.0 / 19, 1e-9);
  ASSERT_NEAR(m.assa, 16 * 0.5 / 19, 1e-9);
  ASSERT_NEAR(m.hota, 16 * sqrt(0.5) / 19, 1e-9);
  ASSERT_NEAR(m.loca, (16 * 0.825 + 3) / 19, 1e-9);
  ASSERT_NEAR(m.pos_err.mean, 0.35, 1e-9);
}

TEST(eval_tracking_no_truth_and_no_outputs) {
  rsim_eval_obj g = OBJ(1, 10, 0), h = OBJ(7, 40, 0);
  rsim_eval_frame only_h[2] = {{NULL, &h, 0, 1}, {NULL, &h, 0, 1}};
  rsim_eval_mot m;
  rsim_eval_tracking(only_h, 2, 2.0, &m);
  ASSERT_EQ(m.false_positives, 2);
  ASSERT(isinf(m.mota) && m.mota < 0); /* 1 - 2/0, as py-motmetrics */
  ASSERT(isnan(m.motp));
  ASSERT_NEAR(m.precision, 0, 0);
  ASSERT(isnan(m.recall));
  ASSERT_NEAR(m.idf1, 0, 0);
  ASSERT_NEAR(m.hota, 0, 0);
  ASSERT_NEAR(m.loca, 1, 0);
  rsim_eval_frame only_g[2] = {{&g, NULL, 1, 0}, {&g, NULL, 1, 0}};
  rsim_eval_tracking(only_g, 2, 2.0, &m);
  ASSERT_EQ(m.misses, 2);
  ASSERT_NEAR(m.mota, 0, 0);
  ASSERT_NEAR(m.idf1, 0, 0);
  ASSERT_NEAR(m.hota, 0, 0);
  ASSERT(isnan(m.pos_err.mean));
  /* all false positives: outputs out of reach of the truth */
  rsim_eval_frame apart[2] = {{&g, &h, 1, 1}, {&g, &h, 1, 1}};
  rsim_eval_tracking(apart, 2, 2.0, &m);
  ASSERT_EQ(m.misses, 2);
  ASSERT_EQ(m.false_positives, 2);
  ASSERT_NEAR(m.mota, -1, 1e-12);
  ASSERT_NEAR(m.hota, 0, 0);
}

TEST(eval_tracking_gap_is_a_fragmentation_and_continuity_wins) {
  /* Frames: matched, missed (output far away), matched again: one fragment.
  ** Then a closer output appears but the established pair stays (CLEAR's
  ** continuity): no switch. */
  rsim_eval_obj g = OBJ(1, 0, 0), near = OBJ(5, 0.5, 0), far = OBJ(5, 9, 0), closer = OBJ(6, 0.1, 0);
  rsim_eval_obj two[2] = {OBJ(5, 0.5, 0), OBJ(6, 0.1, 0)};
  (void)closer;
  rsim_eval_frame f[4] = {{&g, &near, 1, 1}, {&g, &far, 1, 1}, {&g, &near, 1, 1}, {&g, two, 1, 2}};
  rsim_eval_mot m;
  rsim_eval_tracking(f, 4, 2.0, &m);
  ASSERT_EQ(m.fragmentations, 1);
  ASSERT_EQ(m.switches, 0);
  ASSERT_EQ(m.matches, 3);
  ASSERT_EQ(m.misses, 1);
  ASSERT_EQ(m.false_positives, 2);
}

/* ---- random cases against the Python references ------------------------------------- */

static uint64_t rng_state;
static double uni(void) {
  rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
  return (double)(rng_state >> 11) / 9007199254740992.0;
}

static void num(FILE *f, double v) {
  if (isfinite(v)) fprintf(f, "%.17g", v);
  else fprintf(f, "null");
}

static void result_row(FILE *f, bool *first, const char *comp, const char *cls, const char *metric, double v) {
  fprintf(f, "%s{\"component\": \"%s\", \"scope\": \"run\", \"class\": \"%s\", \"metric\": \"%s\", \"value\": ",
          *first ? "" : ",\n", comp, cls, metric);
  num(f, v);
  fprintf(f, "}");
  *first = false;
}

TEST(eval_random_cases_agree_with_pycocotools_motmetrics_trackeval) {
  rng_state = 2026;
  enum { NF = 60, NC = 3 };
  static rsim_eval_box gts[NF][8], dts[NF][10];
  rsim_eval_image im[NF];
  for (int i = 0; i < NF; i++) {
    size_t ng = (size_t)(uni() * 6), nd = 0;
    for (size_t j = 0; j < ng; j++)
      gts[i][j] = (rsim_eval_box){uni() * 500, uni() * 300, 5 + uni() * 80, 5 + uni() * 60, (int)(uni() * NC), 0,
                                  uni() < 0.15};
    for (size_t j = 0; j < ng && nd < 10; j++)
      if (uni() < 0.8) { /* a noisy detection of the truth, sometimes of another class */
        const rsim_eval_box *g = &gts[i][j];
        dts[i][nd++] = (rsim_eval_box){g->x + (uni() - 0.5) * g->w * 0.4, g->y + (uni() - 0.5) * g->h * 0.4,
                                        g->w * (0.8 + uni() * 0.4), g->h * (0.8 + uni() * 0.4),
                                        uni() < 0.9 ? g->cls : (int)(uni() * NC), uni(), false};
      }
    while (nd < 10 && uni() < 0.3)
      dts[i][nd++] = (rsim_eval_box){uni() * 500, uni() * 300, 5 + uni() * 50, 5 + uni() * 50, (int)(uni() * NC), uni(), false};
    im[i] = (rsim_eval_image){gts[i], dts[i], ng, nd};
  }
  /* Tracking: 6 truths on straight lines, outputs with noise, dropouts,
  ** identity changes and clutter (ids unique within a frame: TrackEval
  ** refuses data with repeated ids, and numpy's += counts them once). */
  static rsim_eval_obj tg[NF][6], th[NF][10];
  rsim_eval_frame fr[NF];
  int64_t next_id[6] = {100, 200, 300, 400, 500, 600};
  for (int i = 0; i < NF; i++) {
    size_t ng = 0, nh = 0;
    for (int k = 0; k < 6; k++) {
      if ((k == 4 && i < 20) || (k == 5 && i > 45)) continue;
      rsim_eval_obj g = {k + 1, 10 + 5 * k + 0.3 * i, -6 + 2.5 * k, 0.3 * 20, 0};
      tg[i][ng++] = g;
      if (uni() < 0.85) {
        if (uni() < 0.04) next_id[k]++;
        th[i][nh++] = (rsim_eval_obj){next_id[k], g.x + (uni() - 0.5) * 2.2, g.y + (uni() - 0.5) * 1.2,
                                      g.vx + (uni() - 0.5), (uni() - 0.5)};
      }
    }
    while (nh < 10 && uni() < 0.4) th[i][nh] = (rsim_eval_obj){900 + (int64_t)nh, uni() * 50, uni() * 20 - 10, 0, 0}, nh++;
    fr[i] = (rsim_eval_frame){tg[i], th[i], ng, nh};
  }
  const char *classes[NC] = {"car", "truck", "pedestrian"};
  rsim_eval_det d[NC + 1];
  rsim_eval_detection(im, NF, NC, 0.5, d);
  rsim_eval_mot m;
  rsim_eval_tracking(fr, NF, 2.0, &m);
  ASSERT(m.switches > 0 && m.fragmentations > 0 && m.false_positives > 0); /* the case exercises them */
  ASSERT(d[NC].fp > 0 && d[NC].fn > 0);

  char frames[1024], result[1024];
  snprintf(frames, sizeof frames, "%s", test_tmpfile("frames.json"));
  snprintf(result, sizeof result, "%s", test_tmpfile("result.json"));
  FILE *f = fopen(frames, "w");
  ASSERT(f);
  fprintf(f, "{\"classes\": [\"car\", \"truck\", \"pedestrian\"], \"components\": [\n"
             "{\"component\": \"det\", \"kind\": \"detection\", \"max_dist\": 2, \"frames\": [");
  for (int i = 0; i < NF; i++) {
    fprintf(f, "%s{\"t\": %d, \"gt\": [", i ? ",\n" : "", i);
    for (size_t j = 0; j < im[i].n_gt; j++) {
      const rsim_eval_box *b = &im[i].gt[j];
      fprintf(f, "%s[%.17g, %.17g, %.17g, %.17g, %d, %d]", j ? ", " : "", b->x, b->y, b->w, b->h, b->cls, b->ignore);
    }
    fprintf(f, "], \"dt\": [");
    for (size_t j = 0; j < im[i].n_dt; j++) {
      const rsim_eval_box *b = &im[i].dt[j];
      fprintf(f, "%s[%.17g, %.17g, %.17g, %.17g, %d, %.17g]", j ? ", " : "", b->x, b->y, b->w, b->h, b->cls, b->score);
    }
    fprintf(f, "]}");
  }
  fprintf(f, "]},\n{\"component\": \"trk\", \"kind\": \"tracking\", \"max_dist\": 2, \"frames\": [");
  for (int i = 0; i < NF; i++) {
    fprintf(f, "%s{\"t\": %d, \"gt\": [", i ? ",\n" : "", i);
    for (int side = 0; side < 2; side++) {
      size_t n = side ? fr[i].n_hyp : fr[i].n_gt;
      if (side) fprintf(f, "], \"hyp\": [");
      for (size_t j = 0; j < n; j++) {
        const rsim_eval_obj *o = side ? &fr[i].hyp[j] : &fr[i].gt[j];
        fprintf(f, "%s[%lld, %.17g, %.17g, %.17g, %.17g]", j ? ", " : "", (long long)o->id, o->x, o->y, o->vx, o->vy);
      }
    }
    fprintf(f, "]}");
  }
  fprintf(f, "]}]}\n");
  fclose(f);

  f = fopen(result, "w");
  ASSERT(f);
  fprintf(f, "{\"metrics\": [\n");
  bool first = true;
  for (int c = 0; c <= NC; c++) {
    const char *cls = c == NC ? "all" : classes[c];
    const rsim_eval_det *x = &d[c];
    result_row(f, &first, "det", cls, "ap", x->ap);
    result_row(f, &first, "det", cls, "ap50", x->ap50);
    result_row(f, &first, "det", cls, "tp", (double)x->tp);
    result_row(f, &first, "det", cls, "fp", (double)x->fp);
    result_row(f, &first, "det", cls, "fn", (double)x->fn);
    result_row(f, &first, "det", cls, "precision", x->precision);
    result_row(f, &first, "det", cls, "recall", x->recall);
    result_row(f, &first, "det", cls, "f1", x->f1);
  }
  const struct {
    const char *name;
    double v;
  } t[] = {{"mota", m.mota}, {"motp", m.motp}, {"idf1", m.idf1}, {"idp", m.idp}, {"idr", m.idr}, {"precision", m.precision}, {"recall", m.recall}, {"f1", m.f1},
           {"switches", (double)m.switches}, {"fragmentations", (double)m.fragmentations},
           {"objects", (double)m.objects}, {"predictions", (double)m.predictions}, {"matches", (double)m.matches},
           {"misses", (double)m.misses}, {"false_positives", (double)m.false_positives}, {"idtp", (double)m.idtp},
           {"idfp", (double)m.idfp}, {"idfn", (double)m.idfn}, {"hota", m.hota}, {"deta", m.deta}, {"assa", m.assa},
           {"loca", m.loca}, {"pos_err_mean", m.pos_err.mean}, {"pos_err_rmse", m.pos_err.rmse},
           {"pos_err_p95", m.pos_err.p95}, {"vel_err_mean", m.vel_err.mean}, {"vel_err_rmse", m.vel_err.rmse},
           {"vel_err_p95", m.vel_err.p95}};
  for (size_t i = 0; i < sizeof t / sizeof *t; i++) result_row(f, &first, "trk", "all", t[i].name, t[i].v);
  fprintf(f, "\n]}\n");
  fclose(f);

  char cmd[4096], *out = NULL;
  snprintf(cmd, sizeof cmd, "python3 %s %s %s", test_source_path("tests/eval/reference.py"), frames, result);
  int rc = test_run(cmd, &out);
  if (rc) test_fail(__FILE__, __LINE__, "the references disagree (%d): %s", rc, out);
  ASSERT_CONTAINS(out, "compared 60 values with the references, 0 differ");
  free(out);
}
