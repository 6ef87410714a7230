/*
** sdk.c -- where the component toolchain and the SDK are: the paths that
** `replaysim config --toolchain` prints, `new` writes projects against and
** `install-sdk` copies.
**
** Three places, first match wins:
**   $RSIM_SDK                  an installed SDK's prefix (install-sdk's layout)
**   <binary>/../toolchain.conf  this binary is an installed SDK's bin/replaysim
**   the build tree             the binary of a build: the WIT contract, the
**                              guest header and the templates from the source
**                              tree it was built from, the tools CMake found
** An installed SDK names its tools in toolchain.conf (key=value, paths
** relative to the prefix unless absolute), so a project built against it
** needs neither this checkout nor ~/.cache/replaysim's tool folders.
*/
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

#ifndef RSIM_SOURCE_DIR
#define RSIM_SOURCE_DIR ""
#endif
#ifndef RSIM_TC_CC
#define RSIM_TC_CC ""
#endif
#ifndef RSIM_TC_WIT_BINDGEN
#define RSIM_TC_WIT_BINDGEN ""
#endif
#ifndef RSIM_TC_WASM_TOOLS
#define RSIM_TC_WASM_TOOLS ""
#endif
#ifndef RSIM_TC_WAC
#define RSIM_TC_WAC ""
#endif
#ifndef RSIM_TC_COMPONENTIZE_PY
#define RSIM_TC_COMPONENTIZE_PY ""
#endif

static bool is_file(const char *p) {
  struct stat st;
  return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static bool is_exe(const char *p) { return is_file(p) && access(p, X_OK) == 0; }

/* name on $PATH, into out; false when absent. */
static bool on_path(const char *name, char *out, size_t n) {
  const char *path = getenv("PATH");
  if (!path) return false;
  for (const char *p = path; *p;) {
    size_t len = strcspn(p, ":");
    if (len) {
      snprintf(out, n, "%.*s/%s", (int)len, p, name);
      if (is_exe(out)) return true;
    }
    p += len + (p[len] == ':');
  }
  return false;
}

/* A tool: the configured path when it is there, else the name on $PATH. */
static void tool(char *out, size_t n, const char *configured, const char *name) {
  if (configured[0] && is_exe(configured)) {
    snprintf(out, n, "%s", configured);
    return;
  }
  if (!on_path(name, out, n)) snprintf(out, n, "%s", configured[0] ? configured : name);
}

void cli_path(char *out, size_t n, const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  if (la + 1 + lb + 1 > n) { /* never for real paths: PATH_MAX-sized buffers */
    out[0] = 0;
    return;
  }
  memcpy(out, a, la);
  out[la] = '/';
  memcpy(out + la + 1, b, lb + 1);
}

bool cli_self_path(char *out, size_t n) {
  ssize_t len = readlink("/proc/self/exe", out, n - 1);
  if (len <= 0) return false;
  out[len] = 0;
  return true;
}

/* The prefix an installed binary lives in: <dir of binary>/.. */
static bool self_prefix(char *out, size_t n) {
  char exe[PATH_MAX];
  if (!cli_self_path(exe, sizeof exe)) return false;
  char *slash = strrchr(exe, '/');
  if (!slash) return false;
  *slash = 0;
  cli_path(out, n, exe, "..");
  char real[PATH_MAX];
  if (realpath(out, real)) snprintf(out, n, "%s", real);
  return true;
}

/* Reads PREFIX/toolchain.conf into s. */
static int read_conf(cli_sdk *s, rsim_errbuf *eb) {
  char conf[PATH_MAX + 32];
  cli_path(conf, sizeof conf, s->root, "toolchain.conf");
  FILE *f = fopen(conf, "r");
  if (!f) return rsim_errbuf_set(eb, RSIM_ENOTFOUND,
                                 "%s: cannot open (is %s an SDK that `replaysim install-sdk` wrote?)", conf, s->root);
  char line[PATH_MAX + 64];
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\r\n")] = 0;
    char *eq = strchr(line, '=');
    if (line[0] == '#' || !eq) continue;
    *eq = 0;
    const char *v = eq + 1;
    char path[PATH_MAX];
    if (v[0] == '/') snprintf(path, sizeof path, "%.4000s", v);
    else cli_path(path, sizeof path, s->root, v);
    if (!strcmp(line, "cc")) snprintf(s->cc, sizeof s->cc, "%s", path);
    else if (!strcmp(line, "sysroot")) snprintf(s->sysroot, sizeof s->sysroot, "%s", path);
    else if (!strcmp(line, "wit-bindgen")) snprintf(s->wit_bindgen, sizeof s->wit_bindgen, "%s", path);
    else if (!strcmp(line, "wasm-tools")) snprintf(s->wasm_tools, sizeof s->wasm_tools, "%s", path);
    else if (!strcmp(line, "wac")) snprintf(s->wac, sizeof s->wac, "%s", path);
    else if (!strcmp(line, "componentize-py")) snprintf(s->componentize_py, sizeof s->componentize_py, "%s", path);
  }
  fclose(f);
  return RSIM_OK;
}

int cli_sdk_find(cli_sdk *s, rsim_errbuf *eb) {
  memset(s, 0, sizeof *s);
  cli_self_path(s->replaysim, sizeof s->replaysim);
  const char *env = getenv("RSIM_SDK");
  char prefix[PATH_MAX], probe[PATH_MAX + 32];
  if (env && env[0]) {
    if (!realpath(env, s->root)) return rsim_errbuf_set(eb, RSIM_ENOTFOUND, "RSIM_SDK=%s: no such folder", env);
  } else if (self_prefix(prefix, sizeof prefix)) {
    cli_path(probe, sizeof probe, prefix, "toolchain.conf");
    if (is_file(probe)) snprintf(s->root, sizeof s->root, "%s", prefix);
  }
  if (s->root[0]) {
    s->installed = true;
    int rc = read_conf(s, eb);
    if (rc) return rc;
    cli_path(s->wit, sizeof s->wit, s->root, "wit");
    cli_path(s->include, sizeof s->include, s->root, "include");
    cli_path(s->templates, sizeof s->templates, s->root, "share/templates");
    cli_path(s->examples, sizeof s->examples, s->root, "share/examples");
    cli_path(s->components, sizeof s->components, s->root, "components");
    cli_path(s->web, sizeof s->web, s->root, "share/web");
  } else {
    /* A build: its tree beside the binary (bin/, components/), its sources
    ** where CMake says. */
    snprintf(s->root, sizeof s->root, "%s", RSIM_SOURCE_DIR);
    tool(s->cc, sizeof s->cc, RSIM_TC_CC, "clang-19");
    snprintf(s->sysroot, sizeof s->sysroot, "/usr");
    tool(s->wit_bindgen, sizeof s->wit_bindgen, RSIM_TC_WIT_BINDGEN, "wit-bindgen");
    tool(s->wasm_tools, sizeof s->wasm_tools, RSIM_TC_WASM_TOOLS, "wasm-tools");
    tool(s->wac, sizeof s->wac, RSIM_TC_WAC, "wac");
    tool(s->componentize_py, sizeof s->componentize_py, RSIM_TC_COMPONENTIZE_PY, "componentize-py");
    cli_path(s->wit, sizeof s->wit, RSIM_SOURCE_DIR, "components/wit");
    cli_path(s->include, sizeof s->include, RSIM_SOURCE_DIR, "components/sdk");
    cli_path(s->templates, sizeof s->templates, RSIM_SOURCE_DIR, "components/templates");
    cli_path(s->examples, sizeof s->examples, RSIM_SOURCE_DIR, "examples");
    cli_path(s->web, sizeof s->web, RSIM_SOURCE_DIR, "web");
    if (self_prefix(prefix, sizeof prefix)) cli_path(s->components, sizeof s->components, prefix, "components");
  }
  /* An SDK without them (one installed before Python) names none: `new
  ** --lang python` says what is missing. */
  if (!s->wac[0]) snprintf(s->wac, sizeof s->wac, "wac");
  if (!s->componentize_py[0]) snprintf(s->componentize_py, sizeof s->componentize_py, "componentize-py");
  cli_path(s->wasi_adapter, sizeof s->wasi_adapter, s->components, "wasi_deterministic.wasm");
  snprintf(s->cflags, sizeof s->cflags,
           "--target=wasm32-wasi --sysroot=%s -O2 -g0 -mexec-model=reactor -std=c11 -Wall -Wextra "
           "-Wno-unused-parameter",
           s->sysroot);
  /* Everything must be there: a missing piece named now, not as a
  ** compiler's puzzling error in the user's make. */
  const struct {
    const char *what, *path;
    bool exe;
  } need[] = {
      {"clang (wasm32)", s->cc, true},
      {"wit-bindgen", s->wit_bindgen, true},
      {"wasm-tools", s->wasm_tools, true},
  };
  for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
    if (!is_exe(need[i].path))
      return rsim_errbuf_set(eb, RSIM_ENOTFOUND, "%s: %s is missing (run scripts/setup.sh, or install an SDK with "
                             "`replaysim install-sdk PREFIX` and set RSIM_SDK)", need[i].what, need[i].path);
  const char *files[][2] = {{s->wit, "sim.wit"}, {s->include, "rsim_guest.h"}, {s->templates, "Makefile"}};
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    cli_path(probe, sizeof probe, files[i][0], files[i][1]);
    if (!is_file(probe))
      return rsim_errbuf_set(eb, RSIM_ENOTFOUND, "%s is missing: %s",
                             probe, s->installed ? "the SDK is incomplete (install it again)"
                                                 : "this build's source tree moved (install an SDK with "
                                                   "`replaysim install-sdk PREFIX`)");
  }
  cli_path(probe, sizeof probe, s->sysroot, "include/wasm32-wasi/stdlib.h");
  if (!is_file(probe))
    return rsim_errbuf_set(eb, RSIM_ENOTFOUND, "wasi-libc: %s is missing (Debian package wasi-libc)", probe);
  return RSIM_OK;
}
