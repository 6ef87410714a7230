/*
** fuzz_graph.c -- libFuzzer target for graph files: any bytes must give a
** graph or a message, never a crash.  The graph loader reads files, so
** each input is written to a temporary file first: in /dev/shm when there
** is one, since rewriting a file on ext4 flushes it to disk on close and
** made the target a hundred times slower than the others.
*/
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "rsim/engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64];

static void remove_input(void) { unlink(path); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!path[0]) {
    snprintf(path, sizeof path, "%s/rsim-fuzz-graph-%d.yaml", access("/dev/shm", W_OK) ? "/tmp" : "/dev/shm",
             (int)getpid());
    atexit(remove_input);
  }
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
