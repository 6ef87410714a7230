/*
** fixtures.c -- what integration tests share: a generated drive, a replay
** through the replaysim command with its digest, any replaysim command, a
** text file in the test's folder, one integer from a SQLite query.  Kept
** here so that every test file builds its fixtures the same way.
*/
#include <sqlite3.h>
#include <stdarg.h>

#include <turbojpeg.h>

#include "test.h"

const char *test_make_drive(const char *name, const char *duration, int seed) {
  static char path[1024];
  snprintf(path, sizeof path, "%s", test_tmpfile(name));
  char cmd[2048], *out = NULL;
  snprintf(cmd, sizeof cmd, "%s generate --quiet --out %s --duration %s --seed %d",
           test_replaysim_path(), path, duration, seed);
  int rc = test_run(cmd, &out);
  if (rc != 0) test_fail(__FILE__, __LINE__, "generate failed (%d): %s", rc, out);
  free(out);
  return path;
}

/* Copies the 64 hex digits after "label" in out into hex ("" if absent). */
void test_find_digest(const char *out, const char *label, char hex[65]) {
  hex[0] = 0;
  const char *d = out ? strstr(out, label) : NULL;
  if (!d || strlen(d + strlen(label)) < 64) return;
  memcpy(hex, d + strlen(label), 64);
  hex[64] = 0;
}

int test_replay(const char *graph, const char *store, const char *extra, char **out, char digest[65]) {
  char cmd[4096];
  snprintf(cmd, sizeof cmd, "%s run %s --store %s --quiet %s", test_replaysim_path(), graph,
           store, extra ? extra : "");
  int rc = test_run(cmd, out);
  if (digest) test_find_digest(*out, "digest: ", digest);
  return rc;
}

const char *test_write_text(const char *name, const char *text) {
  static char path[1024];
  snprintf(path, sizeof path, "%s", test_tmpfile(name));
  FILE *f = fopen(path, "w");
  if (!f) test_fail(__FILE__, __LINE__, "cannot write %s", path);
  fputs(text, f);
  fclose(f);
  return path;
}

const char *test_edit_source(const char *name, const char *src, const char *const *from, const char *const *to,
                             size_t n) {
  char *text = NULL;
  size_t len;
  rsim_errbuf eb = {0};
  if (rsim_read_file(test_source_path(src), 1 << 20, (uint8_t **)&text, &len, &eb))
    test_fail(__FILE__, __LINE__, "%s", eb.msg);
  for (size_t k = 0; k < n; k++)
    if (!strstr(text, from[k])) test_fail(__FILE__, __LINE__, "%s has no `%s`", src, from[k]);
  rsim_buf out = {0};
  for (const char *p = text; *p;) {
    size_t k = 0;
    while (k < n && strncmp(p, from[k], strlen(from[k]))) k++;
    if (k < n) {
      rsim_buf_printf(&out, "%s", to[k]);
      p += strlen(from[k]);
    } else {
      rsim_buf_putc(&out, *p++);
    }
  }
  rsim_buf_putc(&out, 0);
  const char *path = test_write_text(name, (char *)out.data);
  rsim_buf_free(&out);
  free(text);
  return path;
}

const char *test_demo_graph_warning(void) {
  const char *from = "    trigger: radar_front\n", *to = "    trigger: radar_front\n    budget: 1us\n    on_timing: warn\n";
  return test_edit_source("graph.yaml", "examples/demo/graph.yaml", &from, &to, 1);
}

int64_t test_query_int(const char *db, const char *sql) {
  sqlite3 *h;
  sqlite3_stmt *st;
  if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
    test_fail(__FILE__, __LINE__, "cannot open %s", db);
  if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK)
    test_fail(__FILE__, __LINE__, "%s: %s", sql, sqlite3_errmsg(h));
  if (sqlite3_step(st) != SQLITE_ROW) test_fail(__FILE__, __LINE__, "%s: no row", sql);
  int64_t v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(h);
  return v;
}

const char *test_write_jpeg(const char *name, int w, int h, uint8_t r, uint8_t g, uint8_t b) {
  uint8_t *rgb = malloc((size_t)w * (size_t)h * 3);
  for (int i = 0; i < w * h; i++) rgb[3 * i] = r, rgb[3 * i + 1] = g, rgb[3 * i + 2] = b;
  tjhandle tj = tjInitCompress();
  unsigned char *jpeg = NULL;
  unsigned long len = 0;
  if (!tj || tjCompress2(tj, rgb, w, 0, h, TJPF_RGB, &jpeg, &len, TJSAMP_444, 95, 0))
    test_fail(__FILE__, __LINE__, "cannot make a JPEG");
  tjDestroy(tj);
  free(rgb);
  const char *path = test_tmpfile(name);
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(jpeg, 1, len, f) != len) test_fail(__FILE__, __LINE__, "cannot write %s", path);
  fclose(f);
  tjFree(jpeg);
  return path;
}

int test_replaysim(char **out, const char *fmt, ...) {
  char args[6000], cmd[8192];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(args, sizeof args, fmt, ap);
  va_end(ap);
  snprintf(cmd, sizeof cmd, "%s %s", test_replaysim_path(), args);
  char *o = NULL;
  int rc = test_run(cmd, &o);
  if (out) *out = o;
  else free(o);
  return rc;
}

const char *test_last_line(const char *out) {
  static char line[4096];
  size_t n = out ? strlen(out) : 0;
  while (n && (out[n - 1] == '\n' || out[n - 1] == '\r')) n--;
  size_t b = n;
  while (b && out[b - 1] != '\n') b--;
  snprintf(line, sizeof line, "%.*s", (int)(n - b), out ? out + b : "");
  return line;
}
