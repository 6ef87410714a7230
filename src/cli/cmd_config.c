/*
** cmd_config.c -- `replaysim config --toolchain`: the paths of the
** component toolchain and SDK (sdk.c decides which: an installed SDK or
** this build), for Makefiles and shells, so that no project types a path.
**
**   eval "$(replaysim config --toolchain)"          shell: export RSIM_CC=...
**   replaysim config --toolchain --make > tc.mk     make: RSIM_CC := ...
*/
#include <stdio.h>
#include <string.h>

#include "cli.h"

static int usage(void) {
  fprintf(stderr,
          "usage: replaysim config --toolchain [--make]\n"
          "  prints RSIM_CC, RSIM_CFLAGS, RSIM_WIT_BINDGEN, RSIM_WASM_TOOLS, RSIM_WIT (the contract's folder),\n"
          "  RSIM_INCLUDE (rsim_guest.h), RSIM_COMPONENTS (the example components), RSIM_WEB (the web UI),\n"
          "  RSIM_SDK and REPLAYSIM; for Python components RSIM_COMPONENTIZE_PY, RSIM_WAC and\n"
          "  RSIM_WASI_ADAPTER (the deterministic WASI adapter, plugged in with wac)\n"
          "  as shell exports (eval \"$(replaysim config --toolchain)\"), or with --make as make assignments\n");
  return CLI_USAGE;
}

/* A shell word in single quotes. */
static void sh_quoted(const char *s) {
  putchar('\'');
  for (; *s; s++)
    if (*s == '\'') fputs("'\\''", stdout);
    else putchar(*s);
  putchar('\'');
}

int cli_config(int argc, char **argv) {
  bool toolchain = false, make = false;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--toolchain")) toolchain = true;
    else if (!strcmp(argv[i], "--make")) make = true;
    else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      usage();
      return CLI_OK;
    }
    else {
      fprintf(stderr, "replaysim config: unknown argument '%s'\n", argv[i]);
      return usage();
    }
  }
  if (!toolchain) return usage();
  cli_sdk s;
  rsim_errbuf eb = {0};
  if (cli_sdk_find(&s, &eb)) return cli_fail("config: %s", eb.msg);
  const char *kv[][2] = {
      {"RSIM_CC", s.cc},           {"RSIM_CFLAGS", s.cflags},         {"RSIM_WIT_BINDGEN", s.wit_bindgen},
      {"RSIM_WASM_TOOLS", s.wasm_tools}, {"RSIM_WIT", s.wit},          {"RSIM_INCLUDE", s.include},
      {"RSIM_COMPONENTS", s.components}, {"RSIM_WEB", s.web},         {"RSIM_SDK", s.root},         {"REPLAYSIM", s.replaysim},
      {"RSIM_COMPONENTIZE_PY", s.componentize_py}, {"RSIM_WAC", s.wac}, {"RSIM_WASI_ADAPTER", s.wasi_adapter},
  };
  if (make) printf("# written by `replaysim config --toolchain --make` (%s)\n", s.installed ? "installed SDK" : "build tree");
  for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++) {
    if (make) {
      /* make splits words on blanks: a path with one would build wrongly. */
      if (i != 1 && strpbrk(kv[i][1], " \t#$"))
        return cli_fail("config: %s '%s' has a blank, '#' or '$', which make cannot take; install the SDK "
                        "to a plain path (replaysim install-sdk PREFIX)", kv[i][0], kv[i][1]);
      printf("%s := %s\n", kv[i][0], kv[i][1]);
    } else {
      printf("export %s=", kv[i][0]);
      sh_quoted(kv[i][1]);
      putchar('\n');
    }
  }
  return CLI_OK;
}
