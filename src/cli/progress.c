/*
** progress.c -- progress lines for long commands (generate, run).
*/
#include <stdio.h>
#include <unistd.h>

#include "cli.h"

void cli_progress_init(cli_progress *p, const char *label) {
  p->label = label;
  p->last_decile = -1;
  p->last_draw_ns = 0;
  p->tty = isatty(2);
}

void cli_progress_update(cli_progress *p, double fraction, const char *detail) {
  if (fraction < 0) fraction = 0;
  if (fraction > 1) fraction = 1;
  if (p->tty) {
    int64_t now = rsim_monotonic_ns();
    if (now - p->last_draw_ns < 100 * RSIM_NS_PER_MS) return;
    p->last_draw_ns = now;
    char bar[31];
    int fill = (int)(fraction * 30);
    for (int i = 0; i < 30; i++) bar[i] = i < fill ? '=' : (i == fill ? '>' : ' ');
    bar[30] = 0;
    fprintf(stderr, "\r%s [%s] %3d%% %s\033[K", p->label, bar, (int)(fraction * 100), detail ? detail : "");
    return;
  }
  int decile = (int)(fraction * 10);
  if (decile == p->last_decile) return;
  p->last_decile = decile;
  fprintf(stderr, "%s %3d%% %s\n", p->label, decile * 10, detail ? detail : "");
}

void cli_progress_done(cli_progress *p, const char *detail) {
  if (p->tty) fprintf(stderr, "\r%s [==============================] 100%% %s\033[K\n", p->label,
                      detail ? detail : "");
  else if (p->last_decile != 10) fprintf(stderr, "%s 100%% %s\n", p->label, detail ? detail : "");
}
