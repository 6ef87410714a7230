/*
** fuzz_value_decode.c -- libFuzzer target for the canonical value decoder
** (checkpoints and output databases are read back through it).  Anything
** that decodes must re-encode to the very same bytes.
*/
#include <stdlib.h>
#include <string.h>

#include "rsim/value.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  rsim_val v;
  size_t used = 0;
  if (rsim_val_decode(data, size, &v, &used) != RSIM_OK) return 0;
  rsim_buf b = {0};
  rsim_val_encode(&v, &b);
  if (b.len != used || memcmp(b.data, data, used) != 0) abort();
  rsim_buf json = {0};
  rsim_val_to_json(&v, NULL, 64, &json);
  rsim_buf_free(&json);
  rsim_buf_free(&b);
  rsim_val_clear(&v);
  return 0;
}
