/*
** cmd_install_sdk.c -- `replaysim install-sdk PREFIX`: everything a
** component project needs, in one folder that depends on neither this
** checkout nor its build:
**
**   PREFIX/bin/replaysim          this binary (it keeps running with the
**                                 Wasmtime library it was linked against:
**                                 that lives in ~/.cache/replaysim, not here)
**   PREFIX/tools/wit-bindgen, wasm-tools
**   PREFIX/wit/sim.wit            the contract (rsim:sim@0.2.0; 0.3.0 in wit/0.3.0)
**   PREFIX/include/rsim_guest.h   the guest SDK header
**   PREFIX/components/NAME.wasm   the example components the demo graphs name
**   PREFIX/share/templates, share/examples   what `new` writes from
**   PREFIX/share/web              the web UI (replaysim serve --web PREFIX/share/web)
**   PREFIX/toolchain.conf         the compiler and sysroot (Debian's clang-19
**                                 and wasi-libc) and the tools above
**
** `replaysim config --toolchain` run from PREFIX/bin (or with RSIM_SDK set)
** then names these, so a project from `new` builds against the SDK.
*/
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

static int usage(void) {
  fprintf(stderr,
          "usage: replaysim install-sdk PREFIX\n"
          "  installs replaysim, the WIT contract, the guest header, wit-bindgen, wasm-tools, the example\n"
          "  components and the project templates under PREFIX; put PREFIX/bin on PATH (or set RSIM_SDK=PREFIX)\n");
  return CLI_USAGE;
}

static int mkdirs(const char *path, rsim_errbuf *eb) {
  char p[PATH_MAX];
  snprintf(p, sizeof p, "%s", path);
  for (char *s = p + 1;; s++)
    if (*s == '/' || !*s) {
      char c = *s;
      *s = 0;
      if (mkdir(p, 0755) && errno != EEXIST) return rsim_errbuf_set(eb, RSIM_EIO, "%s: cannot create: %s", p, strerror(errno));
      if (!c) return RSIM_OK;
      *s = c;
    }
}

/* Copies src to PREFIX/rel with mode (a fresh file: a running copy of the
** old one is left alone). */
static int copy(const char *src, const char *prefix, const char *rel, mode_t mode, rsim_errbuf *eb) {
  char dst[PATH_MAX + 256], tmp[PATH_MAX + 300];
  cli_path(dst, sizeof dst, prefix, rel);
  char dir[PATH_MAX + 256];
  snprintf(dir, sizeof dir, "%s", dst);
  *strrchr(dir, '/') = 0;
  int rc = mkdirs(dir, eb);
  if (rc) return rc;
  uint8_t *b;
  size_t n;
  rc = rsim_read_file(src, 1u << 30, &b, &n, eb);
  if (rc) return rc;
  snprintf(tmp, sizeof tmp, "%s.tmp", dst);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, mode);
  if (fd < 0) rc = rsim_errbuf_set(eb, RSIM_EIO, "%s: cannot create: %s", tmp, strerror(errno));
  for (size_t off = 0; !rc && off < n;) {
    ssize_t w = write(fd, b + off, n - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) rc = rsim_errbuf_set(eb, RSIM_EIO, "%s: cannot write: %s", tmp, strerror(errno));
    else off += (size_t)w;
  }
  if (fd >= 0 && close(fd) && !rc) rc = rsim_errbuf_set(eb, RSIM_EIO, "%s: cannot write: %s", tmp, strerror(errno));
  if (!rc && (chmod(tmp, mode) || rename(tmp, dst)))
    rc = rsim_errbuf_set(eb, RSIM_EIO, "%s: cannot install: %s", dst, strerror(errno));
  if (rc) unlink(tmp);
  free(b);
  return rc;
}

static int write_text(const char *prefix, const char *rel, const char *text, mode_t mode, rsim_errbuf *eb) {
  char tmp[] = "/tmp/rsim-sdk-XXXXXX";
  int fd = mkstemp(tmp);
  if (fd < 0) return rsim_errbuf_set(eb, RSIM_EIO, "cannot create a scratch file: %s", strerror(errno));
  size_t len = strlen(text);
  bool ok = write(fd, text, len) == (ssize_t)len;
  close(fd);
  int rc = ok ? copy(tmp, prefix, rel, mode, eb) : rsim_errbuf_set(eb, RSIM_EIO, "%s: cannot write", tmp);
  unlink(tmp);
  return rc;
}

int cli_install_sdk(int argc, char **argv) {
  if (argc != 2 || argv[1][0] == '-') {
    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
      usage();
      return CLI_OK;
    }
    return usage();
  }
  cli_sdk s;
  rsim_errbuf eb = {0};
  if (cli_sdk_find(&s, &eb)) return cli_fail("install-sdk: %s", eb.msg);
  char prefix[PATH_MAX];
  if (mkdirs(argv[1], &eb) || !realpath(argv[1], prefix))
    return cli_fail("install-sdk: %s", eb.msg[0] ? eb.msg : strerror(errno));
  char src[PATH_MAX + 256];
  struct {
    const char *from_dir, *name, *to;
    mode_t mode;
  } files[] = {
      {NULL, s.replaysim, "bin/replaysim", 0755},
      {NULL, s.wit_bindgen, "tools/wit-bindgen", 0755},
      {NULL, s.wasm_tools, "tools/wasm-tools", 0755},
      {s.wit, "sim.wit", "wit/sim.wit", 0644},
      {s.wit, "0.3.0/sim.wit", "wit/0.3.0/sim.wit", 0644},
      {s.include, "rsim_guest.h", "include/rsim_guest.h", 0644},
      {s.examples, "demo/graph.yaml", "share/examples/demo/graph.yaml", 0644},
      {s.examples, "composed/composed.yaml", "share/examples/composed/composed.yaml", 0644},
      {s.templates, "Makefile", "share/templates/Makefile", 0644},
      {s.templates, "README.md", "share/templates/README.md", 0644},
      {s.templates, "camera-detector.c", "share/templates/camera-detector.c", 0644},
      {s.templates, "radar-tracker.c", "share/templates/radar-tracker.c", 0644},
      {s.templates, "fusion.c", "share/templates/fusion.c", 0644},
      {s.templates, "planner.c", "share/templates/planner.c", 0644},
      {s.templates, "perception.c", "share/templates/perception.c", 0644},
      {s.components, "camera_detector.wasm", "components/camera_detector.wasm", 0644},
      {s.components, "radar_tracker.wasm", "components/radar_tracker.wasm", 0644},
      {s.components, "fusion.wasm", "components/fusion.wasm", 0644},
      {s.components, "planner.wasm", "components/planner.wasm", 0644},
      {s.components, "perception.wasm", "components/perception.wasm", 0644},
  };
  /* Python components: the adapter and wac, when this build has them. */
  cli_path(src, sizeof src, s.components, "wasi_deterministic.wasm");
  bool python = access(src, R_OK) == 0 && access(s.wac, X_OK) == 0;
  if (python && (copy(src, prefix, "components/wasi_deterministic.wasm", 0644, &eb) ||
                 copy(s.wac, prefix, "tools/wac", 0755, &eb)))
    return cli_fail("install-sdk: %s", eb.msg);
  const char *py_templates[] = {"python.mk", "planner.py", "list-world.py"};
  for (size_t i = 0; python && i < 3; i++) {
    char rel[128];
    snprintf(rel, sizeof rel, "share/templates/%s", py_templates[i]);
    cli_path(src, sizeof src, s.templates, py_templates[i]);
    if (copy(src, prefix, rel, 0644, &eb)) return cli_fail("install-sdk: %s", eb.msg);
  }
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    if (files[i].from_dir) cli_path(src, sizeof src, files[i].from_dir, files[i].name);
    else snprintf(src, sizeof src, "%.4000s", files[i].name);
    if (copy(src, prefix, files[i].to, files[i].mode, &eb)) return cli_fail("install-sdk: %s", eb.msg);
  }
  /* The web UI: every file of its folder. */
  DIR *d = opendir(s.web);
  if (!d) return cli_fail("install-sdk: %s: %s", s.web, strerror(errno));
  for (struct dirent *de; (de = readdir(d));) {
    char rel[600];
    cli_path(src, sizeof src, s.web, de->d_name);
    struct stat stb;
    if (de->d_name[0] == '.' || stat(src, &stb) || !S_ISREG(stb.st_mode)) continue;
    snprintf(rel, sizeof rel, "share/web/%.500s", de->d_name);
    if (copy(src, prefix, rel, 0644, &eb)) {
      closedir(d);
      return cli_fail("install-sdk: %s", eb.msg);
    }
  }
  closedir(d);
  char conf[3 * PATH_MAX + 512];
  snprintf(conf, sizeof conf,
           "# The component toolchain of this SDK (replaysim install-sdk); paths relative to it unless absolute.\n"
           "# clang and the wasi sysroot are Debian's (clang-19, lld-19, wasi-libc, libclang-rt-19-dev-wasm32).\n"
           "cc=%s\nsysroot=%s\nwit-bindgen=tools/wit-bindgen\nwasm-tools=tools/wasm-tools\n"
           "%s%s%s%s",
           s.cc, s.sysroot, python ? "wac=tools/wac\n" : "",
           /* componentize-py lives in its own venv (scripts/setup.sh): named, not copied */
           python && s.componentize_py[0] == '/' ? "componentize-py=" : "",
           python && s.componentize_py[0] == '/' ? s.componentize_py : "",
           python && s.componentize_py[0] == '/' ? "\n" : "");
  if (write_text(prefix, "toolchain.conf", conf, 0644, &eb)) return cli_fail("install-sdk: %s", eb.msg);
  printf("installed the replaysim SDK in %s\n", prefix);
  printf("next: export PATH=%s/bin:$PATH; replaysim new camera-detector my_detector\n", prefix);
  return CLI_OK;
}
