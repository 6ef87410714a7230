/*
** fuzz_checkpoint.c -- libFuzzer target for checkpoint files (ckpt_file.c)
** of a fixed two-component shape.  Built with
** FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION, which skips the checksum so
** that mutations reach the body.  Any bytes must parse or be refused with a
** reason; what parses must write back to bytes that parse again the same.
*/
#include <stdlib.h>
#include <string.h>

#include "engine/ckpt_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *kNames[] = {"tracker", "fusion"};
static const char *kExports[] = {"rsim:sim/radar-processing@0.2.0#process-scan",
                                 "rsim:sim/sensor-fusion@0.2.0#fuse-detections"};
static size_t kInputs[] = {1, 2};
static size_t kSrcs0[] = {1}, kSrcs1[] = {2, 1};
static size_t *kSrcs[] = {kSrcs0, kSrcs1};

static const rsim__ck_shape kShape = {1700000000000000000LL, 1000000000LL, 2, kNames, kExports, kInputs, kSrcs};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  ckpt c;
  char why[200] = "";
  if (!rsim__ck_parse(&kShape, data, size, &c, why, sizeof why)) {
    if (!why[0]) abort(); /* every refusal says why */
    return 0;
  }
  rsim_buf file = {0};
  rsim__ck_file(&kShape, &c, &file);
  ckpt again;
  if (!rsim__ck_parse(&kShape, file.data, file.len, &again, why, sizeof why)) abort();
  if (again.now != c.now || again.nodes[1].links[0].qn != c.nodes[1].links[0].qn) abort();
  rsim__ck_clear(&kShape, &again);
  rsim__ck_clear(&kShape, &c);
  rsim_buf_free(&file);
  return 0;
}
