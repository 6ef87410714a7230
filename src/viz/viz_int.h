/*
** viz_int.h -- internals of the compositor: the canvas (canvas.c) and its
** drawing primitives, used by render.c.
*/
#ifndef RSIM_VIZ_INT_H
#define RSIM_VIZ_INT_H

#include "rsim/viz.h"

struct rsim_canvas {
  int w, h;
  uint8_t *px; /* RGB, rows top first */
  int cx0, cy0, cx1, cy1; /* drawing is clipped to [cx0, cx1) x [cy0, cy1) */
};

/* Clips drawing to a rectangle (a panel); rsim__unclip for the whole canvas. */
void rsim__clip(rsim_canvas *c, int x, int y, int w, int h);
void rsim__unclip(rsim_canvas *c);

rsim_canvas *rsim__canvas_new(int w, int h, const uint8_t bg[3]);
/* alpha 0..255 over what is there; outside the canvas nothing happens. */
void rsim__blend(rsim_canvas *c, int x, int y, const uint8_t rgb[3], int alpha);
void rsim__fill(rsim_canvas *c, int x, int y, int w, int h, const uint8_t rgb[3], int alpha);
/* An outline t pixels thick, inside the rectangle. */
void rsim__rect(rsim_canvas *c, int x, int y, int w, int h, int t, const uint8_t rgb[3]);
void rsim__line(rsim_canvas *c, double x0, double y0, double x1, double y1, int t, const uint8_t rgb[3]);
/* An image (bpp 1 or 3) scaled into the rectangle, nearest neighbour. */
void rsim__blit(rsim_canvas *c, int x, int y, int w, int h, const uint8_t *img, int iw, int ih, int bpp);
/* Text with its baseline at y; RSIM_ENOTFOUND when the font is missing. */
int rsim__text(rsim_canvas *c, int x, int y, int px, const char *s, const uint8_t rgb[3]);

#endif /* RSIM_VIZ_INT_H */
