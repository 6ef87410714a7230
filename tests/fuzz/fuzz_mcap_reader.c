/*
** fuzz_mcap_reader.c -- libFuzzer target for the MCAP reader: any bytes,
** read streamed to the end, then through the summary and the indexes,
** must give records or an error with a message, never a crash.
*/
#include <stdlib.h>

#include "rsim/mcap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  rsim_errbuf eb = {0};
  rsim_mcap_reader *rd;
  if (rsim_mcap_reader_open_memory("fuzz.mcap", data, size, &rd, &eb)) return 0;
  const rsim_mcap_record *r;
  int rc;
  while ((rc = rsim_mcap_reader_next(rd, &r)) == RSIM_OK) {
  }
  if (rc != RSIM_EEOF && !rsim_mcap_reader_errmsg(rd)[0]) abort();
  const rsim_mcap_message *m;
  if (rsim_mcap_reader_messages(rd, 0, UINT64_MAX, NULL, 0) == RSIM_OK)
    while (rsim_mcap_reader_next_message(rd, &m) == RSIM_OK) {
    }
  rsim_mcap_reader_close(rd);
  return 0;
}
