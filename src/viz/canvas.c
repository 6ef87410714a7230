/*
** canvas.c -- an RGB image and what the compositor draws on it: filled and
** outlined rectangles, lines, points, scaled images, text (FreeType with
** Debian's DejaVu Sans), and the PNG writer (libpng's simplified API).
** Everything clips to the canvas, so callers may draw anywhere.
*/
#include <ft2build.h>
#include FT_FREETYPE_H
#include <png.h>
#include <stdlib.h>
#include <string.h>

#include "viz/viz_int.h"

#define FONT_PATH "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"

rsim_canvas *rsim__canvas_new(int w, int h, const uint8_t bg[3]) {
  rsim_canvas *c = rsim_xcalloc(1, sizeof *c);
  c->w = w;
  c->h = h;
  c->px = rsim_xmalloc((size_t)w * (size_t)h * 3);
  for (size_t i = 0; i < (size_t)w * (size_t)h; i++) memcpy(c->px + 3 * i, bg, 3);
  rsim__unclip(c);
  return c;
}

void rsim__clip(rsim_canvas *c, int x, int y, int w, int h) {
  c->cx0 = x < 0 ? 0 : x;
  c->cy0 = y < 0 ? 0 : y;
  c->cx1 = x + w > c->w ? c->w : x + w;
  c->cy1 = y + h > c->h ? c->h : y + h;
}

void rsim__unclip(rsim_canvas *c) { rsim__clip(c, 0, 0, c->w, c->h); }

void rsim_canvas_free(rsim_canvas *c) {
  if (!c) return;
  free(c->px);
  free(c);
}

const uint8_t *rsim_canvas_pixels(const rsim_canvas *c, int *w, int *h) {
  *w = c->w;
  *h = c->h;
  return c->px;
}

void rsim__blend(rsim_canvas *c, int x, int y, const uint8_t rgb[3], int alpha) {
  if (x < c->cx0 || y < c->cy0 || x >= c->cx1 || y >= c->cy1 || alpha <= 0) return;
  uint8_t *p = c->px + 3 * ((size_t)y * (size_t)c->w + (size_t)x);
  if (alpha >= 255) {
    memcpy(p, rgb, 3);
    return;
  }
  for (int k = 0; k < 3; k++) p[k] = (uint8_t)((p[k] * (255 - alpha) + rgb[k] * alpha) / 255);
}

void rsim__fill(rsim_canvas *c, int x, int y, int w, int h, const uint8_t rgb[3], int alpha) {
  for (int j = y; j < y + h; j++)
    for (int i = x; i < x + w; i++) rsim__blend(c, i, j, rgb, alpha);
}

void rsim__rect(rsim_canvas *c, int x, int y, int w, int h, int t, const uint8_t rgb[3]) {
  rsim__fill(c, x, y, w, t, rgb, 255);
  rsim__fill(c, x, y + h - t, w, t, rgb, 255);
  rsim__fill(c, x, y, t, h, rgb, 255);
  rsim__fill(c, x + w - t, y, t, h, rgb, 255);
}

void rsim__line(rsim_canvas *c, double x0, double y0, double x1, double y1, int t, const uint8_t rgb[3]) {
  double dx = x1 - x0, dy = y1 - y0, len = dx * dx + dy * dy;
  int steps = 1;
  while ((double)steps * steps < len && steps < 100000) steps *= 2;
  for (int i = 0; i <= steps; i++) {
    double f = (double)i / steps;
    int x = (int)(x0 + f * dx), y = (int)(y0 + f * dy);
    rsim__fill(c, x - t / 2, y - t / 2, t, t, rgb, 255);
  }
}

void rsim__blit(rsim_canvas *c, int x, int y, int w, int h, const uint8_t *img, int iw, int ih, int bpp) {
  for (int j = 0; j < h; j++)
    for (int i = 0; i < w; i++) {
      const uint8_t *s = img + bpp * ((size_t)(j * ih / h) * (size_t)iw + (size_t)(i * iw / w));
      uint8_t rgb[3] = {s[0], bpp == 3 ? s[1] : s[0], bpp == 3 ? s[2] : s[0]};
      rsim__blend(c, x + i, y + j, rgb, 255);
    }
}

/* One FreeType face for the process: rendering is single-threaded. */
static FT_Library g_ft;
static FT_Face g_face;
static bool g_font_tried;

int rsim__text(rsim_canvas *c, int x, int y, int px, const char *s, const uint8_t rgb[3]) {
  if (!g_font_tried) {
    g_font_tried = true;
    if (FT_Init_FreeType(&g_ft) || FT_New_Face(g_ft, FONT_PATH, 0, &g_face)) g_face = NULL;
  }
  if (!g_face) return RSIM_ENOTFOUND;
  FT_Set_Pixel_Sizes(g_face, 0, (FT_UInt)px);
  int pen = x;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (FT_Load_Char(g_face, *p < 128 ? *p : '?', FT_LOAD_RENDER)) continue;
    FT_GlyphSlot g = g_face->glyph;
    for (unsigned r = 0; r < g->bitmap.rows; r++)
      for (unsigned k = 0; k < g->bitmap.width; k++)
        rsim__blend(c, pen + g->bitmap_left + (int)k, y - g->bitmap_top + (int)r, rgb,
                    g->bitmap.buffer[r * (unsigned)g->bitmap.pitch + k]);
    pen += (int)(g->advance.x >> 6);
  }
  return RSIM_OK;
}

int rsim_canvas_write_png(const rsim_canvas *c, const char *path, rsim_errbuf *eb) {
  png_image img;
  memset(&img, 0, sizeof img);
  img.version = PNG_IMAGE_VERSION;
  img.width = (png_uint_32)c->w;
  img.height = (png_uint_32)c->h;
  img.format = PNG_FORMAT_RGB;
  if (!png_image_write_to_file(&img, path, 0, c->px, 0, NULL))
    return rsim_errbuf_set(eb, RSIM_EIO, "%s: cannot write the PNG: %s", path, img.message);
  return RSIM_OK;
}
