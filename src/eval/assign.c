/*
** assign.c -- minimum-cost rectangular assignment (the Hungarian method with
** row and column potentials and shortest augmenting paths, O(n^2 m) for
** n <= m).  Every metric that matches truth to outputs goes through it:
** CLEAR's per-frame matching, IDF1's global trajectory matching, HOTA's
** per-frame matching and the distractor filter.
*/
#include <math.h>
#include <stdlib.h>

#include "rsim/eval.h"

/* n <= m: rows are assigned one column each. */
static double solve(const double *a, size_t n, size_t m, bool transposed, ptrdiff_t *row_to_col) {
  /* 1-based, as the textbook statement: column 0 is the virtual start. */
  double *u = rsim_xcalloc(n + 1, sizeof *u), *v = rsim_xcalloc(m + 1, sizeof *v);
  double *minv = rsim_xmalloc((m + 1) * sizeof *minv);
  size_t *p = rsim_xcalloc(m + 1, sizeof *p), *way = rsim_xcalloc(m + 1, sizeof *way);
  bool *used = rsim_xmalloc(m + 1);
#define COST(i, j) (transposed ? a[(j) * n + (i)] : a[(i) * m + (j)])
  for (size_t i = 1; i <= n; i++) {
    p[0] = i;
    size_t j0 = 0;
    for (size_t j = 0; j <= m; j++) minv[j] = INFINITY, used[j] = false;
    do {
      used[j0] = true;
      size_t i0 = p[j0], j1 = 0;
      double delta = INFINITY;
      for (size_t j = 1; j <= m; j++)
        if (!used[j]) {
          double cur = COST(i0 - 1, j - 1) - u[i0] - v[j];
          if (cur < minv[j]) minv[j] = cur, way[j] = j0;
          if (minv[j] < delta) delta = minv[j], j1 = j;
        }
      for (size_t j = 0; j <= m; j++)
        if (used[j]) u[p[j]] += delta, v[j] -= delta;
        else minv[j] -= delta;
      j0 = j1;
    } while (p[j0] != 0);
    do {
      size_t j1 = way[j0];
      p[j0] = p[j1];
      j0 = j1;
    } while (j0);
  }
  double total = 0;
  for (size_t j = 1; j <= m; j++)
    if (p[j]) {
      total += COST(p[j] - 1, j - 1);
      row_to_col[p[j] - 1] = (ptrdiff_t)(j - 1);
    }
#undef COST
  free(u);
  free(v);
  free(minv);
  free(p);
  free(way);
  free(used);
  return total;
}

double rsim_eval_assign(const double *cost, size_t n, size_t m, ptrdiff_t *row_to_col) {
  for (size_t i = 0; i < n; i++) row_to_col[i] = -1;
  if (!n || !m) return 0;
  if (n <= m) return solve(cost, n, m, false, row_to_col);
  /* More rows than columns: solve the transpose, then turn the answer round. */
  ptrdiff_t *c2r = rsim_xmalloc(m * sizeof *c2r);
  double total = solve(cost, m, n, true, c2r);
  for (size_t j = 0; j < m; j++)
    if (c2r[j] >= 0) row_to_col[c2r[j]] = (ptrdiff_t)j;
  free(c2r);
  return total;
}
