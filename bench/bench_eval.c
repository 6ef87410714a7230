/*
** bench_eval.c -- what the metric kernels of src/eval cost on a real run.
**
**   bench_eval FRAMES.json [REPEATS]
**
** FRAMES.json is `replaysim eval RUN.db --truth drive.db --dump FRAMES.json`
** (the frames the numbers are computed on).  Times rsim_eval_detection
** (COCO AP at 10 IoU thresholds, P/R/F1) on each detection component and
** rsim_eval_tracking (CLEAR MOT, IDF1, HOTA) on each tracking component and
** rsim_eval_plans (TTC, headway, nuPlan comfort) on each planning component,
** the median of REPEATS (default 5) runs each; bench/eval_python.py times
** the Python references on the same file.  Prints a Markdown table.
*/
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "rsim/eval.h"

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double num(json_t *a, size_t i) { return json_number_value(json_array_get(a, i)); }

/* Plans: rsim_eval_plans (TTC, headway, hard brakes, nuPlan comfort with
** its Savitzky-Golay filters, manoeuvres) over the dumped plans. */
static void bench_plans(json_t *c, int repeats) {
  json_t *frames = json_object_get(c, "frames");
  size_t nf = json_array_size(frames), nm = json_array_size(json_object_get(c, "maneuvers"));
  rsim_eval_plan *p = calloc(nf + 1, sizeof *p);
  for (size_t f = 0; f < nf; f++) {
    json_t *F = json_array_get(frames, f), *pts = json_object_get(F, "points");
    size_t np = json_array_size(pts);
    rsim_eval_plan_point *q = calloc(np + 1, sizeof *q);
    for (size_t j = 0; j < np; j++) {
      json_t *a = json_array_get(pts, j);
      q[j] = (rsim_eval_plan_point){num(a, 0), num(a, 1), num(a, 2), num(a, 3), num(a, 4)};
    }
    json_t *gap = json_object_get(F, "lead_gap"), *ls = json_object_get(F, "lead_speed");
    p[f] = (rsim_eval_plan){json_number_value(json_object_get(F, "t")), q, np,
                            (int)json_integer_value(json_object_get(F, "maneuver")),
                            json_is_number(gap) ? json_number_value(gap) : NAN,
                            json_is_number(ls) ? json_number_value(ls) : NAN};
  }
  int64_t *entries = calloc(nm + 1, sizeof *entries);
  double *time = calloc(nm + 1, sizeof *time), *ms = calloc((size_t)repeats, sizeof *ms);
  rsim_eval_planning out;
  for (int r = 0; r < repeats; r++) {
    int64_t t0 = rsim_monotonic_ns();
    rsim_eval_plans(p, nf, nm, entries, time, &out);
    ms[r] = (double)(rsim_monotonic_ns() - t0) / 1e6;
  }
  qsort(ms, (size_t)repeats, sizeof *ms, cmp);
  printf("| %s | planning | %zu | TTC, headway, hard brakes, nuPlan comfort, manoeuvres | %.2f |\n",
         json_string_value(json_object_get(c, "component")), nf, ms[repeats / 2]);
  for (size_t f = 0; f < nf; f++) free((void *)p[f].pts);
  free(p), free(entries), free(time), free(ms);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: bench_eval FRAMES.json [REPEATS]\n");
    return 2;
  }
  bench_name = "bench_eval";
  int repeats = (int)bench_arg_int(argc, argv, 2, "REPEATS", 5, 1, 1000000);
  json_error_t err;
  json_t *root = json_load_file(argv[1], 0, &err);
  if (!root) {
    fprintf(stderr, "bench_eval: %s: %s\n", argv[1], err.text);
    return 1;
  }
  int n_classes = (int)json_array_size(json_object_get(root, "classes"));
  double iou = json_number_value(json_object_get(root, "iou"));
  printf("| component | kind | frames | what | C (ms, median of %d) |\n|---|---|---|---|---|\n", repeats);
  json_t *comps = json_object_get(root, "components"), *c;
  size_t ci;
  json_array_foreach(comps, ci, c) {
    json_t *frames = json_object_get(c, "frames");
    size_t nf = json_array_size(frames);
    const char *kind = json_string_value(json_object_get(c, "kind"));
    bool det = !strcmp(kind, "detection");
    if (!strcmp(kind, "planning")) {
      bench_plans(c, repeats);
      continue;
    }
    double md = json_number_value(json_object_get(c, "max_dist"));
    rsim_eval_image *im = calloc(nf + 1, sizeof *im);
    rsim_eval_frame *fr = calloc(nf + 1, sizeof *fr);
    for (size_t f = 0; f < nf; f++) {
      json_t *F = json_array_get(frames, f), *g = json_object_get(F, "gt"), *h = json_object_get(F, det ? "dt" : "hyp");
      size_t ng = json_array_size(g), nh = json_array_size(h);
      if (det) {
        rsim_eval_box *gb = calloc(ng + 1, sizeof *gb), *db = calloc(nh + 1, sizeof *db);
        for (size_t i = 0; i < ng; i++) {
          json_t *a = json_array_get(g, i);
          gb[i] = (rsim_eval_box){num(a, 0), num(a, 1), num(a, 2), num(a, 3), (int)num(a, 4), 0, num(a, 5) != 0};
        }
        for (size_t i = 0; i < nh; i++) {
          json_t *a = json_array_get(h, i);
          db[i] = (rsim_eval_box){num(a, 0), num(a, 1), num(a, 2), num(a, 3), (int)num(a, 4), num(a, 5), false};
        }
        im[f] = (rsim_eval_image){gb, db, ng, nh};
      } else {
        rsim_eval_obj *go = calloc(ng + 1, sizeof *go), *ho = calloc(nh + 1, sizeof *ho);
        for (size_t i = 0; i < ng; i++) {
          json_t *a = json_array_get(g, i);
          go[i] = (rsim_eval_obj){(int64_t)num(a, 0), num(a, 1), num(a, 2), num(a, 3), num(a, 4)};
        }
        for (size_t i = 0; i < nh; i++) {
          json_t *a = json_array_get(h, i);
          ho[i] = (rsim_eval_obj){(int64_t)num(a, 0), num(a, 1), num(a, 2), num(a, 3), num(a, 4)};
        }
        fr[f] = (rsim_eval_frame){go, ho, ng, nh};
      }
    }
    double *ms = calloc((size_t)repeats, sizeof *ms);
    rsim_eval_det *d = calloc((size_t)n_classes + 1, sizeof *d);
    rsim_eval_mot m;
    for (int r = 0; r < repeats; r++) {
      int64_t t0 = rsim_monotonic_ns();
      if (det) rsim_eval_detection(im, nf, n_classes, iou, d);
      else rsim_eval_tracking(fr, nf, md, &m);
      ms[r] = (double)(rsim_monotonic_ns() - t0) / 1e6;
    }
    qsort(ms, (size_t)repeats, sizeof *ms, cmp);
    printf("| %s | %s | %zu | %s | %.2f |\n", json_string_value(json_object_get(c, "component")),
           det ? "detection" : "tracking", nf, det ? "AP, AP50, P/R/F1" : "CLEAR MOT, IDF1, HOTA", ms[repeats / 2]);
    for (size_t f = 0; f < nf; f++) {
      free((void *)im[f].gt), free((void *)im[f].dt), free((void *)fr[f].gt), free((void *)fr[f].hyp);
    }
    free(im), free(fr), free(ms), free(d);
  }
  json_decref(root);
  return 0;
}
