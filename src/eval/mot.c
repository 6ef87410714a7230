/*
** mot.c -- multi-object tracking scores over frames of truth and output
** objects in the vehicle frame, matched by centre distance.
**
** CLEAR MOT follows py-motmetrics' MOTAccumulator.update event by event:
** a pair matched before (at any earlier frame) stays matched while it is
** within max_dist; the rest are assigned by minimum total distance with the
** most pairs (invalid pairs cost py-motmetrics' large constant), and a
** truth assigned to another output than its last one is a switch.  IDF1 is
** its global min-cost matching of whole trajectories; HOTA is TrackEval's
** eval_sequence with similarity max(0, 1 - d / max_dist) (TrackEval's
** euclidean similarity).  docs/evaluation.md has the formulas.
*/
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rsim/eval.h"

#define N_ALPHA 19
#define DBL_EPS 2.220446049250313e-16

/* ---- dense ids --------------------------------------------------------------- */

typedef struct ids {
  int64_t *v;
  size_t n;
} ids;

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

static ids collect(const rsim_eval_frame *f, size_t nf, bool gt) {
  size_t n = 0;
  for (size_t t = 0; t < nf; t++) n += gt ? f[t].n_gt : f[t].n_hyp;
  ids s = {rsim_xmalloc((n ? n : 1) * sizeof(int64_t)), 0};
  for (size_t t = 0; t < nf; t++)
    for (size_t i = 0; i < (gt ? f[t].n_gt : f[t].n_hyp); i++) s.v[s.n++] = gt ? f[t].gt[i].id : f[t].hyp[i].id;
  qsort(s.v, s.n, sizeof *s.v, cmp_i64);
  size_t k = 0;
  for (size_t i = 0; i < s.n; i++)
    if (!k || s.v[k - 1] != s.v[i]) s.v[k++] = s.v[i];
  s.n = k;
  return s;
}

static size_t index_of(const ids *s, int64_t id) {
  const int64_t *p = bsearch(&id, s->v, s->n, sizeof id, cmp_i64);
  return (size_t)(p - s->v);
}

static double dist(const rsim_eval_obj *a, const rsim_eval_obj *b) {
  double dx = a->x - b->x, dy = a->y - b->y;
  return sqrt(dx * dx + dy * dy);
}

/* An assignment over a matrix whose NaN entries are forbidden pairs, with
** py-motmetrics' add_expensive_edges: a forbidden pair costs more than any
** set of allowed ones, so the most allowed pairs are made first. */
static void assign_nan(double *c, size_t n, size_t m, ptrdiff_t *row_to_col) {
  double mx = -1;
  bool any = false, all = true;
  for (size_t i = 0; i < n * m; i++)
    if (isfinite(c[i])) {
      any = true;
      if (fabs(c[i]) > mx) mx = fabs(c[i]);
    } else {
      all = false;
    }
  if (!all) {
    double large = any ? 2.0 * (double)(n < m ? n : m) * (mx + 1) + 1 : 0;
    for (size_t i = 0; i < n * m; i++)
      if (!any) c[i] = 0;
      else if (!isfinite(c[i])) c[i] = large;
  }
  rsim_eval_assign(c, n, m, row_to_col);
}

/* ---- errors -------------------------------------------------------------------- */

static int cmp_dbl(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static rsim_eval_stat stat_of(double *v, size_t n) {
  rsim_eval_stat s = {NAN, NAN, NAN, (int64_t)n};
  if (!n) return s;
  double sum = 0, sq = 0;
  for (size_t i = 0; i < n; i++) sum += v[i], sq += v[i] * v[i];
  s.mean = sum / (double)n;
  s.rmse = sqrt(sq / (double)n);
  qsort(v, n, sizeof *v, cmp_dbl);
  double pos = 0.95 * (double)(n - 1);
  size_t lo = (size_t)floor(pos);
  double frac = pos - (double)lo;
  s.p95 = lo + 1 < n ? v[lo] + (v[lo + 1] - v[lo]) * frac : v[lo];
  return s;
}

/* ---- CLEAR MOT and the matched-pair errors ---------------------------------- */

static void clear_mot(const rsim_eval_frame *f, size_t nf, double max_dist, const ids *G, const ids *H,
                      rsim_eval_mot *o) {
  ptrdiff_t *last = rsim_xmalloc((G->n ? G->n : 1) * sizeof *last); /* hyp index of each truth's last match */
  uint8_t *state = rsim_xcalloc(G->n ? G->n : 1, 1);                /* 0 unseen, 1 tracked, 2 missed */
  bool *gap = rsim_xcalloc(G->n ? G->n : 1, sizeof *gap);
  for (size_t i = 0; i < G->n; i++) last[i] = -1;
  size_t cap = 0;
  for (size_t t = 0; t < nf; t++) cap += f[t].n_gt < f[t].n_hyp ? f[t].n_gt : f[t].n_hyp;
  double *pe = rsim_xmalloc((cap ? cap : 1) * sizeof *pe), *ve = rsim_xmalloc((cap ? cap : 1) * sizeof *ve);
  size_t ne = 0;
  double dsum = 0;
  for (size_t t = 0; t < nf; t++) {
    size_t no = f[t].n_gt, nh = f[t].n_hyp;
    o->objects += (int64_t)no;
    o->predictions += (int64_t)nh;
    bool *om = rsim_xcalloc(no + 1, 1), *hm = rsim_xcalloc(nh + 1, 1);
    double *d = rsim_xmalloc((no * nh + 1) * sizeof *d);
    for (size_t i = 0; i < no; i++)
      for (size_t j = 0; j < nh; j++) {
        double x = dist(&f[t].gt[i], &f[t].hyp[j]);
        d[i * nh + j] = x <= max_dist ? x : NAN;
      }
    size_t *gi = rsim_xmalloc((no ? no : 1) * sizeof *gi), *hj = rsim_xmalloc((nh ? nh : 1) * sizeof *hj);
    for (size_t i = 0; i < no; i++) gi[i] = index_of(G, f[t].gt[i].id);
    for (size_t j = 0; j < nh; j++) hj[j] = index_of(H, f[t].hyp[j].id);
#define PAIR(i, j, sw)                                                                          \
  do {                                                                                          \
    om[i] = hm[j] = true;                                                                       \
    last[gi[i]] = (ptrdiff_t)hj[j];                                                             \
    if (sw) o->switches++;                                                                      \
    else o->matches++;                                                                          \
    dsum += d[(i) * nh + (j)];                                                                  \
    pe[ne] = d[(i) * nh + (j)];                                                                 \
    ve[ne++] = hypot(f[t].hyp[j].vx - f[t].gt[i].vx, f[t].hyp[j].vy - f[t].gt[i].vy);           \
  } while (0)
    if (no && nh) {
      /* 1. Pairs matched before carry on while they are within reach. */
      for (size_t i = 0; i < no; i++) {
        if (last[gi[i]] < 0) continue;
        for (size_t j = 0; j < nh; j++)
          if (!hm[j] && (ptrdiff_t)hj[j] == last[gi[i]]) {
            if (isfinite(d[i * nh + j])) PAIR(i, j, false);
            break;
          }
      }
      /* 2. The rest by minimum total distance. */
      double *c = rsim_xmalloc(no * nh * sizeof *c);
      for (size_t i = 0; i < no; i++)
        for (size_t j = 0; j < nh; j++) c[i * nh + j] = om[i] || hm[j] ? NAN : d[i * nh + j];
      ptrdiff_t *r2c = rsim_xmalloc(no * sizeof *r2c);
      double *cc = rsim_xmalloc(no * nh * sizeof *cc);
      memcpy(cc, c, no * nh * sizeof *cc);
      assign_nan(cc, no, nh, r2c);
      for (size_t i = 0; i < no; i++) {
        ptrdiff_t j = r2c[i];
        if (j < 0 || !isfinite(c[i * nh + (size_t)j])) continue;
        bool sw = last[gi[i]] >= 0 && last[gi[i]] != (ptrdiff_t)hj[j];
        PAIR(i, (size_t)j, sw);
      }
      free(c);
      free(cc);
      free(r2c);
    }
#undef PAIR
    for (size_t i = 0; i < no; i++) {
      size_t g = gi[i];
      if (om[i]) {
        if (gap[g]) o->fragmentations++, gap[g] = false;
        state[g] = 1;
      } else {
        o->misses++;
        if (state[g] == 1) gap[g] = true;
        state[g] = 2;
      }
    }
    for (size_t j = 0; j < nh; j++) o->false_positives += !hm[j];
    free(om);
    free(hm);
    free(d);
    free(gi);
    free(hj);
  }
  double det = (double)(o->matches + o->switches);
  o->motp = dsum / det;
  o->mota = 1.0 - (double)(o->misses + o->switches + o->false_positives) / (double)o->objects;
  o->precision = det / (double)o->predictions;
  o->recall = det / (double)o->objects;
  o->f1 = 2.0 * det / (double)(o->objects + o->predictions);
  o->pos_err = stat_of(pe, ne);
  o->vel_err = stat_of(ve, ne);
  free(pe);
  free(ve);
  free(last);
  free(state);
  free(gap);
}

/* ---- IDF1 ------------------------------------------------------------------------ */

static void identity(const rsim_eval_frame *f, size_t nf, double max_dist, const ids *G, const ids *H, rsim_eval_mot *o) {
  size_t no = G->n, nh = H->n, n = no + nh;
  double *oc = rsim_xcalloc(no + 1, sizeof *oc), *hc = rsim_xcalloc(nh + 1, sizeof *hc);
  double *ex = rsim_xcalloc(no * nh + 1, sizeof *ex);
  /* Frames in which each id appears (py-motmetrics counts frames, so an id
  ** given twice in one frame counts once). */
  size_t *seen_o = rsim_xmalloc((no + 1) * sizeof *seen_o), *seen_h = rsim_xmalloc((nh + 1) * sizeof *seen_h);
  for (size_t i = 0; i <= no; i++) seen_o[i] = SIZE_MAX;
  for (size_t j = 0; j <= nh; j++) seen_h[j] = SIZE_MAX;
  for (size_t t = 0; t < nf; t++) {
    for (size_t i = 0; i < f[t].n_gt; i++) {
      size_t k = index_of(G, f[t].gt[i].id);
      if (seen_o[k] != t) oc[k] += 1, seen_o[k] = t;
    }
    for (size_t j = 0; j < f[t].n_hyp; j++) {
      size_t k = index_of(H, f[t].hyp[j].id);
      if (seen_h[k] != t) hc[k] += 1, seen_h[k] = t;
    }
    for (size_t i = 0; i < f[t].n_gt; i++)
      for (size_t j = 0; j < f[t].n_hyp; j++)
        if (dist(&f[t].gt[i], &f[t].hyp[j]) <= max_dist)
          ex[index_of(G, f[t].gt[i].id) * nh + index_of(H, f[t].hyp[j].id)] += 1;
  }
  double idfp = 0, idfn = 0;
  if (n) {
    /* py-motmetrics' id_global_assignment: rows are truth and "no truth",
    ** columns outputs and "no output". */
    double *fp = rsim_xcalloc(n * n, sizeof *fp), *fn = rsim_xcalloc(n * n, sizeof *fn);
    for (size_t r = 0; r < n; r++)
      for (size_t c = 0; c < n; c++) {
        if (r >= no && c < nh) fp[r * n + c] = c + no == r ? hc[c] : NAN;
        if (r < no && c >= nh) fn[r * n + c] = c == nh + r ? oc[r] : NAN;
        if (r < no && c < nh) {
          fp[r * n + c] = hc[c] - ex[r * nh + c];
          fn[r * n + c] = oc[r] - ex[r * nh + c];
        }
      }
    double *cost = rsim_xmalloc(n * n * sizeof *cost);
    for (size_t i = 0; i < n * n; i++) cost[i] = fp[i] + fn[i];
    ptrdiff_t *r2c = rsim_xmalloc(n * sizeof *r2c);
    assign_nan(cost, n, n, r2c);
    for (size_t r = 0; r < n; r++) {
      idfp += fp[r * n + (size_t)r2c[r]];
      idfn += fn[r * n + (size_t)r2c[r]];
    }
    free(fp);
    free(fn);
    free(cost);
    free(r2c);
  }
  o->idfp = (int64_t)idfp;
  o->idfn = (int64_t)idfn;
  o->idtp = o->objects - o->idfn;
  o->idf1 = 2.0 * (double)o->idtp / (double)(o->objects + o->predictions);
  o->idp = (double)o->idtp / (double)(o->idtp + o->idfp);
  o->idr = (double)o->idtp / (double)(o->idtp + o->idfn);
  free(oc);
  free(hc);
  free(ex);
  free(seen_o);
  free(seen_h);
}

/* ---- HOTA ------------------------------------------------------------------------- */

static void hota(const rsim_eval_frame *f, size_t nf, double max_dist, const ids *G, const ids *H, rsim_eval_mot *o) {
  double alpha[N_ALPHA];
  /* numpy's arange(0.05, 0.99, 0.05): start + i * (second - start). */
  double delta = (0.05 + 0.05) - 0.05;
  for (int a = 0; a < N_ALPHA; a++) alpha[a] = 0.05 + a * delta;
  double tp[N_ALPHA] = {0}, fn[N_ALPHA] = {0}, fp[N_ALPHA] = {0}, loca[N_ALPHA] = {0}, assa[N_ALPHA] = {0};
  int64_t n_gt = 0, n_hyp = 0;
  for (size_t t = 0; t < nf; t++) n_gt += (int64_t)f[t].n_gt, n_hyp += (int64_t)f[t].n_hyp;
  if (n_hyp == 0 || n_gt == 0) { /* TrackEval's early return */
    for (int a = 0; a < N_ALPHA; a++) loca[a] = 1;
    o->hota = o->deta = o->assa = 0;
    o->loca = 1;
    return;
  }
  size_t ng = G->n, nh = H->n;
  double *pmc = rsim_xcalloc(ng * nh, sizeof *pmc), *gc = rsim_xcalloc(ng, sizeof *gc), *hc = rsim_xcalloc(nh, sizeof *hc);
  size_t maxn = 1;
  for (size_t t = 0; t < nf; t++)
    if (f[t].n_gt * f[t].n_hyp > maxn) maxn = f[t].n_gt * f[t].n_hyp;
  double *sim = rsim_xmalloc(maxn * sizeof *sim), *rs = NULL, *cs = NULL;
  size_t *gi = NULL, *hj = NULL;
  size_t cap_g = 0, cap_h = 0;
#define PREP(t)                                                                                    \
  size_t no = f[t].n_gt, nn = f[t].n_hyp;                                                          \
  if (no > cap_g) cap_g = no, gi = rsim_xrealloc(gi, no * sizeof *gi), rs = rsim_xrealloc(rs, no * sizeof *rs); \
  if (nn > cap_h) cap_h = nn, hj = rsim_xrealloc(hj, nn * sizeof *hj), cs = rsim_xrealloc(cs, nn * sizeof *cs); \
  for (size_t i = 0; i < no; i++) gi[i] = index_of(G, f[t].gt[i].id);                             \
  for (size_t j = 0; j < nn; j++) hj[j] = index_of(H, f[t].hyp[j].id);                             \
  for (size_t i = 0; i < no; i++)                                                                  \
    for (size_t j = 0; j < nn; j++) {                                                              \
      double s = 1.0 - dist(&f[t].gt[i], &f[t].hyp[j]) / max_dist;                                 \
      sim[i * nn + j] = s > 0 ? s : 0;                                                             \
    }
  for (size_t t = 0; t < nf; t++) {
    PREP(t)
    for (size_t i = 0; i < no; i++) {
      rs[i] = 0;
      for (size_t j = 0; j < nn; j++) rs[i] += sim[i * nn + j];
    }
    for (size_t j = 0; j < nn; j++) {
      cs[j] = 0;
      for (size_t i = 0; i < no; i++) cs[j] += sim[i * nn + j];
    }
    for (size_t i = 0; i < no; i++)
      for (size_t j = 0; j < nn; j++) {
        double den = cs[j] + rs[i] - sim[i * nn + j];
        if (den > 0 + DBL_EPS) pmc[gi[i] * nh + hj[j]] += sim[i * nn + j] / den;
      }
    for (size_t i = 0; i < no; i++) gc[gi[i]] += 1;
    for (size_t j = 0; j < nn; j++) hc[hj[j]] += 1;
  }
  double *gas = rsim_xmalloc(ng * nh * sizeof *gas);
  for (size_t i = 0; i < ng; i++)
    for (size_t j = 0; j < nh; j++) gas[i * nh + j] = pmc[i * nh + j] / (gc[i] + hc[j] - pmc[i * nh + j]);
  double *mc = rsim_xcalloc((size_t)N_ALPHA * ng * nh, sizeof *mc);
  for (size_t t = 0; t < nf; t++) {
    PREP(t)
    if (!no || !nn) {
      for (int a = 0; a < N_ALPHA; a++) fp[a] += (double)nn, fn[a] += (double)no;
      continue;
    }
    double *score = rsim_xmalloc(no * nn * sizeof *score);
    for (size_t i = 0; i < no; i++)
      for (size_t j = 0; j < nn; j++) score[i * nn + j] = -(gas[gi[i] * nh + hj[j]] * sim[i * nn + j]);
    ptrdiff_t *r2c = rsim_xmalloc(no * sizeof *r2c);
    rsim_eval_assign(score, no, nn, r2c);
    for (int a = 0; a < N_ALPHA; a++) {
      double m = 0;
      for (size_t i = 0; i < no; i++) {
        if (r2c[i] < 0) continue;
        double s = sim[i * nn + (size_t)r2c[i]];
        if (s >= alpha[a] - DBL_EPS) {
          m += 1;
          loca[a] += s;
          mc[((size_t)a * ng + gi[i]) * nh + hj[r2c[i]]] += 1;
        }
      }
      tp[a] += m;
      fn[a] += (double)no - m;
      fp[a] += (double)nn - m;
    }
    free(score);
    free(r2c);
  }
#undef PREP
  double hsum = 0, dsum = 0, asum = 0, lsum = 0;
  for (int a = 0; a < N_ALPHA; a++) {
    double s = 0;
    for (size_t i = 0; i < ng; i++)
      for (size_t j = 0; j < nh; j++) {
        double m = mc[((size_t)a * ng + i) * nh + j];
        if (m > 0) s += m * (m / fmax(1, gc[i] + hc[j] - m));
      }
    assa[a] = s / fmax(1, tp[a]);
    double deta = tp[a] / fmax(1, tp[a] + fn[a] + fp[a]);
    hsum += sqrt(deta * assa[a]);
    dsum += deta;
    asum += assa[a];
    lsum += fmax(1e-10, loca[a]) / fmax(1e-10, tp[a]);
  }
  o->hota = hsum / N_ALPHA;
  o->deta = dsum / N_ALPHA;
  o->assa = asum / N_ALPHA;
  o->loca = lsum / N_ALPHA;
  free(pmc);
  free(gc);
  free(hc);
  free(sim);
  free(rs);
  free(cs);
  free(gi);
  free(hj);
  free(gas);
  free(mc);
}

static void tracking(const rsim_eval_frame *f, size_t n_frames, double max_dist, bool with_hota, rsim_eval_mot *out) {
  memset(out, 0, sizeof *out);
  ids G = collect(f, n_frames, true), H = collect(f, n_frames, false);
  clear_mot(f, n_frames, max_dist, &G, &H, out);
  identity(f, n_frames, max_dist, &G, &H, out);
  if (with_hota) hota(f, n_frames, max_dist, &G, &H, out);
  else out->hota = out->deta = out->assa = out->loca = NAN;
  free(G.v);
  free(H.v);
}

void rsim_eval_tracking(const rsim_eval_frame *f, size_t n_frames, double max_dist, rsim_eval_mot *out) {
  tracking(f, n_frames, max_dist, true, out);
}

void rsim_eval_tracking_clear(const rsim_eval_frame *f, size_t n_frames, double max_dist, rsim_eval_mot *out) {
  tracking(f, n_frames, max_dist, false, out);
}
