/*
** test_quiet_library.c -- the library never prints: only the replaysim
** command (src/cli) writes to standard output or standard error.  The
** library's sources (src/ outside src/cli, and include/rsim) are scanned,
** comments and literals left out, for the names that reach those streams;
** a failure names the file, the line and the name.  Messages belong on a
** handle or in an rsim_errbuf, log lines in a caller's callback.
*/
#include <ctype.h>
#include <dirent.h>
#include <sys/stat.h>

#include "rsim/util.h"
#include "test.h"

/* Names that write to the process's standard streams, or give access to them. */
static const char *const kBanned[] = {"stdout", "stderr", "STDOUT_FILENO", "STDERR_FILENO", "printf",
                                      "vprintf", "puts", "putchar", "perror", "psignal", "warn",
                                      "warnx", "err", "errx", "error", "dprintf", "vdprintf"};

/* Blanks out comments, string and character literals (keeping newlines). */
static void strip(char *s) {
  for (char *p = s; *p;) {
    if (p[0] == '/' && p[1] == '*') {
      for (; *p && !(p[0] == '*' && p[1] == '/'); p++)
        if (*p != '\n') *p = ' ';
      if (*p) p[0] = p[1] = ' ', p += 2;
    } else if (p[0] == '/' && p[1] == '/') {
      for (; *p && *p != '\n'; p++) *p = ' ';
    } else if (*p == '"' || *p == '\'') {
      char q = *p++;
      for (; *p && *p != q && *p != '\n'; p++) {
        if (*p == '\\' && p[1]) *p++ = ' ';
        *p = ' ';
      }
      if (*p == q) p++;
    } else {
      p++;
    }
  }
}

/* path relative to the source tree, when it is in it. */
static const char *rel(const char *path) {
  size_t n = strlen(RSIM_SOURCE_DIR);
  return strncmp(path, RSIM_SOURCE_DIR, n) || path[n] != '/' ? path : path + n + 1;
}

static bool ident_char(char c) { return isalnum((unsigned char)c) || c == '_'; }

/* Appends "file:line: name" for each banned identifier (a whole token; for
** the function-like ones, followed by a call) and each write to fd 1 or 2. */
static void scan(const char *path, rsim_buf *found) {
  uint8_t *data;
  size_t len;
  rsim_errbuf eb = {0};
  if (rsim_read_file(path, 16u << 20, &data, &len, &eb)) test_fail(__FILE__, __LINE__, "%s", eb.msg);
  char *s = (char *)data;
  strip(s);
  int line = 1;
  for (char *p = s; *p; p++) {
    if (*p == '\n') line++;
    if (!ident_char(*p) || (p > s && ident_char(p[-1]))) continue;
    size_t n = 0;
    while (ident_char(p[n])) n++;
    const char *after = p + n;
    while (*after == ' ' || *after == '\t') after++;
    bool member = p > s && (p[-1] == '.' || (p > s + 1 && p[-1] == '>' && p[-2] == '-'));
    for (size_t k = 0; !member && k < sizeof kBanned / sizeof kBanned[0]; k++) {
      bool stream = !strncmp(kBanned[k], "std", 3) || !strncmp(kBanned[k], "STD", 3);
      if (strlen(kBanned[k]) == n && !memcmp(p, kBanned[k], n) && (stream || *after == '('))
        rsim_buf_printf(found, "%s:%d: %s\n", rel(path), line, kBanned[k]);
    }
    /* write(1, ...) or write(2, ...) */
    if (n == 5 && !memcmp(p, "write", 5) && *after == '(') {
      const char *a = after + 1;
      while (*a == ' ') a++;
      if ((*a == '1' || *a == '2') && !ident_char(a[1]))
        rsim_buf_printf(found, "%s:%d: write to fd %c\n", rel(path), line, *a);
    }
    /* libwebsockets prints its log to stderr unless given a function. */
    if (n == 17 && !memcmp(p, "lws_set_log_level", 17)) {
      const char *close = strchr(after, ')');
      const char *comma = strchr(after, ',');
      const char *fn = comma && close && comma < close ? comma + 1 : NULL;
      while (fn && (*fn == ' ' || *fn == '\n')) fn++;
      if (!fn || !strncmp(fn, "NULL", 4) || *fn == '0')
        rsim_buf_printf(found, "%s:%d: lws_set_log_level without a log function\n",
                        rel(path), line);
    }
    p += n - 1;
  }
  free(data);
}

static void walk(const char *dir, rsim_buf *found, int *files) {
  DIR *d = opendir(dir);
  if (!d) test_fail(__FILE__, __LINE__, "cannot open %s", dir);
  struct dirent *ent;
  while ((ent = readdir(d))) {
    if (ent->d_name[0] == '.') continue;
    char path[2048];
    snprintf(path, sizeof path, "%s/%s", dir, ent->d_name);
    struct stat sb;
    if (stat(path, &sb)) continue;
    size_t n = strlen(ent->d_name);
    if (S_ISDIR(sb.st_mode)) {
      if (strcmp(path + strlen(RSIM_SOURCE_DIR), "/src/cli")) walk(path, found, files);
    } else if (n > 2 && (!strcmp(ent->d_name + n - 2, ".c") || !strcmp(ent->d_name + n - 2, ".h"))) {
      scan(path, found);
      ++*files;
    }
  }
  closedir(d);
}

TEST(library_sources_never_print) {
  rsim_buf found = {0};
  int files = 0;
  walk(RSIM_SOURCE_DIR "/src", &found, &files);
  walk(RSIM_SOURCE_DIR "/include/rsim", &found, &files);
  ASSERT(files > 40); /* the tree was found */
  rsim_buf_putc(&found, 0);
  if (found.len > 1)
    test_fail(__FILE__, __LINE__, "the library prints (only src/cli may; keep messages on the handle):\n%s",
              (char *)found.data);
  rsim_buf_free(&found);
}

/* The scanner itself: it must see what it is there to see. */
TEST(library_print_scanner_finds_the_calls) {
  const char *path = test_write_text("probe.c",
                                     "/* stderr in a comment */ const char *s = \"printf(\";\n"
                                     "void f(void) {\n"
                                     "  fprintf(stderr, \"x\");\n"
                                     "  snprintf(b, 1, \"ok\"); rsim_buf_printf(&b, \"ok\"); o.printf = 0;\n"
                                     "  puts (\"x\");\n"
                                     "  write(2, \"x\", 1); write(fd, b, 1);\n"
                                     "  lws_set_log_level(LLL_ERR, NULL); lws_set_log_level(LLL_ERR, keep);\n"
                                     "}\n");
  rsim_buf found = {0};
  scan(path, &found);
  rsim_buf_putc(&found, 0);
  const char *f = (const char *)found.data;
  ASSERT_CONTAINS(f, ":3: stderr");
  ASSERT_CONTAINS(f, ":5: puts");
  ASSERT_CONTAINS(f, ":6: write to fd 2");
  ASSERT_CONTAINS(f, ":7: lws_set_log_level without a log function");
  /* Nothing else: not the comment, the literal, snprintf, rsim_buf_printf,
  ** a member named printf, write(fd), or lws with a function. */
  int lines = 0;
  for (const char *p = f; *p; p++) lines += *p == '\n';
  if (lines != 4) test_fail(__FILE__, __LINE__, "expected 4 findings, got:\n%s", f);
  rsim_buf_free(&found);
}
