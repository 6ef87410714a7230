/*
** fuzz_graph.c -- libFuzzer target for graph files: any bytes must give a
** graph or a message, never a crash.  The graph loader reads files, so
** each input is written to a temporary file first.
*/
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "rsim/engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static char path[64];
  if (!path[0]) snprintf(path, sizeof path, "/tmp/rsim-fuzz-graph-%d.yaml", (int)getpid());
  FILE *f = fopen(path, "wb");
  if (!f) return 0;
  fwrite(data, 1, size, f);
  fclose(f);
  rsim_errbuf eb = {0};
  rsim_graph *g = NULL;
  if (rsim_graph_load(path, &g, &eb) == RSIM_OK) rsim_graph_free(g);
  else if (!eb.msg[0]) abort(); /* every failure must say why */
  return 0;
}
