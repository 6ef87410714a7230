/*
** test_render.c -- `replaysim render` draws a known scene: at a chosen
** instant, the detector's largest box is outlined in its class colour at the
** box's place in the camera panel, and a ground-truth object the generator
** put there projects into that box.  --every writes one PNG per interval.
*/
#include <math.h>
#include <png.h>

#include "rsim/engine.h"
#include "rsim/viz.h"
#include "test.h"

typedef struct box {
  double x, y, w, h;
  char cls[16];
} box;

/* The detector's largest box at time t, through the library. */
static box largest_box(const char *drive, rsim_time *at) {
  rsim_errbuf eb = {0};
  rsim_store *st;
  rsim_graph *g;
  rsim_engine *e;
  ASSERT_OK(rsim_store_open(drive, &st, &eb));
  if (rsim_graph_load(test_source_path("examples/demo/graph.yaml"), &g, &eb)) test_fail(__FILE__, __LINE__, "%s", eb.msg);
  rsim_engine_opts o = {.store = st, .log_level = RSIM_LOG_ERROR};
  if (rsim_engine_new(g, &o, &e, &eb)) test_fail(__FILE__, __LINE__, "%s", eb.msg);
  rsim_time from, to;
  rsim_engine_range(e, &from, &to);
  *at = from + 1500000000;
  ASSERT_OK(rsim_engine_seek(e, *at));
  const rsim_type *t;
  const rsim_val *v = rsim_engine_output(e, 0, &t, NULL); /* detector */
  ASSERT(v && v->kind == RSIM_LIST && v->of.agg.n > 0);
  box best = {0};
  const rsim_type *et = t->types[0];
  for (size_t i = 0; i < v->of.agg.n; i++) {
    const rsim_val *obj = &v->of.agg.items[i];
    const rsim_val *b = &obj->of.agg.items[rsim_type_member(et, "bbox")];
    const rsim_val *cls = &obj->of.agg.items[rsim_type_member(et, "class")];
    box x = {b->of.agg.items[0].of.f32, b->of.agg.items[1].of.f32, b->of.agg.items[2].of.f32, b->of.agg.items[3].of.f32, ""};
    snprintf(x.cls, sizeof x.cls, "%s", cls->of.str.ptr);
    if (x.w * x.h > best.w * best.h) best = x;
  }
  /* A ground-truth object projects into it (pinhole, docs/sensors.md). */
  rsim_truth *gt;
  size_t n;
  ASSERT_OK(rsim_store_truth(st, *at - 200000000, *at, &gt, &n));
  ASSERT(n > 0);
  bool inside = false;
  for (size_t i = 0; i < n; i++) {
    if (gt[i].t != gt[n - 1].t || gt[i].x < 3) continue;
    double u = 320 - 500 * gt[i].y / (gt[i].x - 1.5);
    inside |= u >= best.x && u <= best.x + best.w;
  }
  ASSERT(inside);
  free(gt);
  rsim_engine_free(e);
  rsim_graph_free(g);
  rsim_store_close(st);
  return best;
}

TEST(render_draws_the_box_where_the_object_is) {
  const char *drive = test_make_drive("drive.db", "3s", 2);
  rsim_time at;
  box b = largest_box(drive, &at);
  char png[1024], cmd[3000], graph[1024], *out = NULL;
  snprintf(png, sizeof png, "%s", test_tmpfile("frame.png"));
  snprintf(graph, sizeof graph, "%s", test_source_path("examples/demo/graph.yaml"));
  snprintf(cmd, sizeof cmd, "%s render %s --store %s --at %lld --out %s", test_replaysim_path(), graph, drive,
           (long long)at, png);
  ASSERT_EQ(test_run(cmd, &out), 0);
  free(out);
  png_image img;
  memset(&img, 0, sizeof img);
  img.version = PNG_IMAGE_VERSION;
  ASSERT(png_image_begin_read_from_file(&img, png));
  img.format = PNG_FORMAT_RGB;
  uint8_t *px = malloc(PNG_IMAGE_SIZE(img));
  ASSERT(png_image_finish_read(&img, NULL, px, 0, NULL));
  ASSERT_EQ(img.width, 1180);
  ASSERT_EQ(img.height, 404);
  uint8_t want[3];
  rsim_viz_class_colour(b.cls, want);
  /* The middle of the box's left edge (the outline is 2 px, inside). */
  int x = RSIM_VIZ_CAM_X + (int)lround(b.x), y = RSIM_VIZ_CAM_Y + (int)lround(b.y + b.h / 2);
  const uint8_t *p = px + 3 * ((size_t)y * img.width + (size_t)x);
  if (memcmp(p, want, 3))
    test_fail(__FILE__, __LINE__, "pixel (%d,%d) is %d,%d,%d, the %s box colour is %d,%d,%d", x, y, p[0], p[1], p[2],
              b.cls, want[0], want[1], want[2]);
  /* Inside the box, the camera frame, not the outline colour. */
  const uint8_t *q = px + 3 * ((size_t)y * img.width + (size_t)(x + (int)(b.w / 2)));
  ASSERT(memcmp(q, want, 3) != 0);
  free(px);
}

TEST(render_every_writes_one_png_per_interval) {
  const char *drive = test_make_drive("drive.db", "3s", 2);
  char dir[1024], cmd[6000], graph[1024], *out = NULL;
  snprintf(dir, sizeof dir, "%s", test_tmpfile("frames"));
  snprintf(graph, sizeof graph, "%s", test_source_path("examples/demo/graph.yaml"));
  snprintf(cmd, sizeof cmd, "%s render %s --store %s --every 1s --out %s && ls %s | wc -l", test_replaysim_path(),
           graph, drive, dir, dir);
  ASSERT_EQ(test_run(cmd, &out), 0);
  ASSERT_CONTAINS(out, "frame-00000.000.png");
  ASSERT_CONTAINS(out, "frame-00002.000.png");
  free(out);
  snprintf(cmd, sizeof cmd, "%s render %s --store %s --at 99s --out %s/late.png", test_replaysim_path(), graph, drive, dir);
  ASSERT_EQ(test_run(cmd, &out), 0);
  ASSERT_CONTAINS(out, "outside the log");
  free(out);
}
