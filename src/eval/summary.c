/*
** summary.c -- a few lines of the scores that matter most, one a component,
** for the end of `replaysim run --eval`: AP and F1 of detections, MOTA,
** IDF1 and HOTA of tracks, time-to-collision, headway, hard brakes and
** comfort of plans.  `replaysim eval` prints them all.
*/
#include <math.h>
#include <string.h>

#include "rsim/eval.h"

static void put(rsim_buf *b, const char *label, double v, const char *fmt) {
  rsim_buf_printf(b, "  %s ", label);
  if (isnan(v)) rsim_buf_puts(b, "-");
  else if (isinf(v)) rsim_buf_puts(b, v > 0 ? "inf" : "-inf");
  else rsim_buf_printf(b, fmt, v);
}

void rsim_eval_summary(const rsim_eval_result *r, rsim_buf *out) {
  const char *last = NULL;
  for (size_t i = 0; i < rsim_eval_n_rows(r); i++) {
    const rsim_eval_row *x = rsim_eval_row_at(r, i);
    if (x->window || (last && !strcmp(last, x->component))) continue;
    last = x->component;
    const char *c = x->component;
#define G(m) rsim_eval_get(r, c, NULL, m)
    rsim_buf_printf(out, "%-12s %-10s", c, x->kind);
    if (!strcmp(x->kind, "detection")) {
      put(out, "AP", G("ap"), "%.3f");
      put(out, "AP50", G("ap50"), "%.3f");
      put(out, "precision", G("precision"), "%.3f");
      put(out, "recall", G("recall"), "%.3f");
      put(out, "F1", G("f1"), "%.3f");
    } else if (!strcmp(x->kind, "tracking")) {
      put(out, "MOTA", G("mota"), "%.3f");
      put(out, "IDF1", G("idf1"), "%.3f");
      put(out, "HOTA", G("hota"), "%.3f");
      put(out, "switches", G("switches"), "%.0f");
    } else {
      double comfy = G("comfortable");
      put(out, "min TTC", G("min_ttc"), "%.2f s");
      put(out, "min headway", G("min_headway"), "%.2f s");
      put(out, "hard brakes", G("hard_brakes"), "%.0f");
      put(out, "max decel", G("max_decel"), "%.2f m/s^2");
      rsim_buf_printf(out, "  comfortable %s", isnan(comfy) ? "-" : comfy == 1 ? "yes" : "no");
    }
#undef G
    rsim_buf_putc(out, '\n');
  }
}
