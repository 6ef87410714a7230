/*
** coco.c -- detection scores as the COCO evaluation defines them
** (cocoapi's COCOeval.evaluateImg, accumulate and summarize): per image and
** class, detections by descending score (stable), at most 100; each takes
** the unmatched truth of highest IoU at or above the threshold, truth that
** is not ignored first; a detection matched to ignored truth is ignored.
** Precision is made monotone from the end and read at 101 recall points;
** AP is the mean over IoU thresholds 0.50:0.05:0.95, recall points and
** classes that have truth.  The same matching at one IoU gives tp/fp/fn.
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rsim/eval.h"
#include "rsim/eval_live.h"

#define N_IOU 10
#define N_REC 101
#define MAX_DETS 100

/* The thresholds as numpy's linspace computes them (start + i*step, the
** last one exact), so that comparisons agree with the reference bit for bit. */
static void thresholds(double iou[N_IOU], double rec[N_REC]) {
  double step = (0.95 - 0.5) / (N_IOU - 1);
  for (int i = 0; i < N_IOU; i++) iou[i] = i * step + 0.5;
  iou[N_IOU - 1] = 0.95;
  step = 1.0 / (N_REC - 1);
  for (int i = 0; i < N_REC; i++) rec[i] = i * step;
  rec[N_REC - 1] = 1.0;
}

/* Intersection over union of two boxes, written as cocoapi's bbIou. */
static double box_iou(const rsim_eval_box *d, const rsim_eval_box *g) {
  double da = d->w * d->h, ga = g->w * g->h;
  double w = fmin(d->x + d->w, g->x + g->w) - fmax(d->x, g->x);
  if (w <= 0) return 0;
  double h = fmin(d->y + d->h, g->y + g->h) - fmax(d->y, g->y);
  if (h <= 0) return 0;
  double i = w * h;
  return i / (da + ga - i);
}

typedef struct det_rec {
  double score;
  bool matched[N_IOU], ignored[N_IOU];
} det_rec;

typedef struct sort_item {
  double score;
  size_t index;
} sort_item;

/* Descending score, ties in input order (numpy's stable mergesort on -score). */
static int by_score(const void *a, const void *b) {
  const sort_item *x = a, *y = b;
  if (x->score != y->score) return x->score > y->score ? -1 : 1;
  return x->index < y->index ? -1 : x->index > y->index;
}

/* The truth one detection takes (its IoUs with g[0..ng-1], truth that counts
** first): the untaken one of highest IoU at or above thr, or -1; marked taken. */
static ptrdiff_t take_truth(const double *iou, const rsim_eval_box **g, size_t ng, double thr, bool *gt_taken) {
  double best = fmin(thr, 1 - 1e-10);
  ptrdiff_t m = -1;
  for (size_t j = 0; j < ng; j++) {
    if (gt_taken[j]) continue;
    /* Once matched to truth that counts, ignored truth cannot take it. */
    if (m > -1 && !g[m]->ignore && g[j]->ignore) break;
    if (iou[j] < best) continue;
    best = iou[j];
    m = (ptrdiff_t)j;
  }
  if (m > -1) gt_taken[m] = true;
  return m;
}

/* evaluateImg for one image and class: appends one record per kept
** detection to recs and adds the truth that is not ignored to *npig. */
static void eval_image(const rsim_eval_image *im, int cls, const double iou_thr[N_IOU], det_rec **recs,
                       size_t *n_recs, size_t *cap, int64_t *npig) {
  size_t ng = 0, nd = 0;
  for (size_t i = 0; i < im->n_gt; i++) ng += im->gt[i].cls == cls;
  for (size_t i = 0; i < im->n_dt; i++) nd += im->dt[i].cls == cls;
  if (!nd) {
    for (size_t i = 0; i < im->n_gt; i++) *npig += im->gt[i].cls == cls && !im->gt[i].ignore;
    return;
  }
  /* Truth: not ignored first, stable. */
  const rsim_eval_box **g = rsim_xmalloc((ng ? ng : 1) * sizeof *g);
  size_t k = 0;
  for (int pass = 0; pass < 2; pass++)
    for (size_t i = 0; i < im->n_gt; i++)
      if (im->gt[i].cls == cls && im->gt[i].ignore == (pass == 1)) g[k++] = &im->gt[i];
  for (size_t i = 0; i < ng; i++) *npig += !g[i]->ignore;
  sort_item *order = rsim_xmalloc(nd * sizeof *order);
  k = 0;
  for (size_t i = 0; i < im->n_dt; i++)
    if (im->dt[i].cls == cls) order[k] = (sort_item){im->dt[i].score, i}, k++;
  qsort(order, nd, sizeof *order, by_score);
  if (nd > MAX_DETS) nd = MAX_DETS;
  bool *gt_taken = rsim_xcalloc(ng ? ng : 1, sizeof *gt_taken);
  if (*n_recs + nd > *cap) {
    *cap = (*n_recs + nd) * 2;
    *recs = rsim_xrealloc(*recs, *cap * sizeof **recs);
  }
  det_rec *out = *recs + *n_recs;
  memset(out, 0, nd * sizeof *out);
  double *ious = rsim_xmalloc((ng ? ng : 1) * nd * sizeof *ious);
  for (size_t d = 0; d < nd; d++)
    for (size_t j = 0; j < ng; j++) ious[d * ng + j] = box_iou(&im->dt[order[d].index], g[j]);
  for (int t = 0; t < N_IOU; t++) {
    memset(gt_taken, 0, (ng ? ng : 1) * sizeof *gt_taken);
    for (size_t d = 0; d < nd; d++) {
      ptrdiff_t m = take_truth(ious + d * ng, g, ng, iou_thr[t], gt_taken);
      if (m == -1) continue;
      out[d].matched[t] = true;
      out[d].ignored[t] = g[m]->ignore;
    }
  }
  for (size_t d = 0; d < nd; d++) out[d].score = order[d].score;
  *n_recs += nd;
  free(ious);
  free(gt_taken);
  free(order);
  free(g);
}

/* accumulate for one class: adds the precision read at each recall point
** to sum[t].  Returns false when the class has no truth that counts
** (COCO's -1). */
static bool accumulate(const det_rec *recs, size_t nd, int64_t npig, const double rec_thr[N_REC],
                       double sum[N_IOU]) {
  if (npig == 0) return false;
  /* Stable sort over the concatenation in image order (numpy mergesort). */
  sort_item *order = rsim_xmalloc((nd ? nd : 1) * sizeof *order);
  for (size_t i = 0; i < nd; i++) order[i] = (sort_item){recs[i].score, i};
  qsort(order, nd, sizeof *order, by_score);
  double *pr = rsim_xmalloc((nd ? nd : 1) * sizeof *pr), *rc = rsim_xmalloc((nd ? nd : 1) * sizeof *rc);
  for (int t = 0; t < N_IOU; t++) {
    double tp = 0, fp = 0;
    for (size_t i = 0; i < nd; i++) {
      const det_rec *r = &recs[order[i].index];
      if (!r->ignored[t]) {
        if (r->matched[t]) tp += 1;
        else fp += 1;
      }
      rc[i] = tp / (double)npig;
      pr[i] = tp / (fp + tp + 2.220446049250313e-16); /* np.spacing(1) */
    }
    for (size_t i = nd; i-- > 1;)
      if (pr[i] > pr[i - 1]) pr[i - 1] = pr[i];
    size_t j = 0;
    for (int ri = 0; ri < N_REC; ri++) {
      while (j < nd && rc[j] < rec_thr[ri]) j++; /* searchsorted, side left */
      if (j >= nd) break;
      sum[t] += pr[j];
    }
  }
  free(order);
  free(pr);
  free(rc);
  return true;
}

/* One class over all images at thresholds thr: the records and the count of
** truth that counts; tp and fp at thr[0]. */
static det_rec *match_class(const rsim_eval_image *im, size_t n_images, int cls, const double thr[N_IOU],
                            size_t *n_recs, int64_t *npig, int64_t *tp, int64_t *fp) {
  det_rec *recs = NULL;
  size_t cap = 0;
  *n_recs = 0;
  *npig = *tp = *fp = 0;
  for (size_t i = 0; i < n_images; i++) eval_image(&im[i], cls, thr, &recs, n_recs, &cap, npig);
  for (size_t i = 0; i < *n_recs; i++)
    if (!recs[i].ignored[0]) {
      if (recs[i].matched[0]) ++*tp;
      else ++*fp;
    }
  return recs;
}

void rsim_eval_detection(const rsim_eval_image *im, size_t n_images, int n_classes, double iou, rsim_eval_det *out) {
  double thr[N_IOU], rec_thr[N_REC];
  thresholds(thr, rec_thr);
  double sum_all = 0, sum_all50 = 0;
  int n_valid = 0;
  rsim_eval_det total = {0};
  for (int c = 0; c < n_classes; c++) {
    size_t n_recs;
    int64_t npig, tp, fp;
    det_rec *recs;
    if (iou != thr[0]) { /* counts at another IoU: a pass of their own */
      double other[N_IOU];
      memcpy(other, thr, sizeof other);
      other[0] = iou;
      free(match_class(im, n_images, c, other, &n_recs, &npig, &tp, &fp));
      int64_t t2, f2;
      recs = match_class(im, n_images, c, thr, &n_recs, &npig, &t2, &f2);
    } else {
      recs = match_class(im, n_images, c, thr, &n_recs, &npig, &tp, &fp);
    }
    double sums[N_IOU] = {0};
    bool valid = accumulate(recs, n_recs, npig, rec_thr, sums);
    free(recs);
    rsim_eval_det *o = &out[c];
    memset(o, 0, sizeof *o);
    o->tp = tp;
    o->fp = fp;
    o->fn = npig - tp;
    o->ap = o->ap50 = NAN;
    if (valid) {
      double s = 0;
      for (int t = 0; t < N_IOU; t++) s += sums[t];
      o->ap = s / (N_IOU * N_REC);
      o->ap50 = sums[0] / N_REC;
      sum_all += s;
      sum_all50 += sums[0];
      n_valid++;
    }
    total.tp += o->tp;
    total.fp += o->fp;
    total.fn += o->fn;
  }
  total.ap = n_valid ? sum_all / ((double)n_valid * N_IOU * N_REC) : NAN;
  total.ap50 = n_valid ? sum_all50 / ((double)n_valid * N_REC) : NAN;
  out[n_classes] = total;
  for (int c = 0; c <= n_classes; c++) {
    rsim_eval_det *o = &out[c];
    o->precision = (double)o->tp / (double)(o->tp + o->fp);
    o->recall = (double)o->tp / (double)(o->tp + o->fn);
    o->f1 = 2.0 * (double)o->tp / (double)(2 * o->tp + o->fp + o->fn);
  }
}

void rsim_eval_match(const rsim_eval_image *im, double iou, ptrdiff_t *dt_gt, ptrdiff_t *gt_dt) {
  if (!(iou > 0)) iou = 0.5;
  for (size_t i = 0; i < im->n_dt; i++) dt_gt[i] = -1;
  for (size_t j = 0; j < im->n_gt; j++) gt_dt[j] = -1;
  size_t cap = im->n_gt + 1;
  const rsim_eval_box **g = rsim_xmalloc(cap * sizeof *g);
  size_t *gi = rsim_xmalloc(cap * sizeof *gi);
  bool *taken = rsim_xmalloc(cap * sizeof *taken);
  double *ious = rsim_xmalloc(cap * sizeof *ious);
  sort_item *order = rsim_xmalloc((im->n_dt + 1) * sizeof *order);
  /* Class by class, as eval_image: the classes are those of the detections. */
  for (size_t first = 0; first < im->n_dt; first++) {
    int cls = im->dt[first].cls;
    bool done = false;
    for (size_t k = 0; k < first && !done; k++) done = im->dt[k].cls == cls;
    if (done) continue;
    size_t ng = 0, nd = 0;
    for (int pass = 0; pass < 2; pass++)
      for (size_t j = 0; j < im->n_gt; j++)
        if (im->gt[j].cls == cls && im->gt[j].ignore == (pass == 1)) g[ng] = &im->gt[j], gi[ng++] = j;
    for (size_t i = 0; i < im->n_dt; i++)
      if (im->dt[i].cls == cls) order[nd] = (sort_item){im->dt[i].score, i}, nd++;
    qsort(order, nd, sizeof *order, by_score);
    if (nd > MAX_DETS) nd = MAX_DETS;
    memset(taken, 0, cap * sizeof *taken);
    for (size_t d = 0; d < nd; d++) {
      for (size_t j = 0; j < ng; j++) ious[j] = box_iou(&im->dt[order[d].index], g[j]);
      ptrdiff_t m = take_truth(ious, g, ng, iou, taken);
      if (m == -1) continue;
      dt_gt[order[d].index] = (ptrdiff_t)gi[m];
      gt_dt[gi[m]] = (ptrdiff_t)order[d].index;
    }
  }
  free(order);
  free(ious);
  free(taken);
  free(gi);
  free(g);
}
