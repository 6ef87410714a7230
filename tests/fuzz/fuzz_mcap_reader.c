/*
** fuzz_mcap_reader.c -- libFuzzer target for the MCAP reader: any bytes,
** read streamed to the end, then through the summary and the indexes, and
** then (as a crashed recording is read) through an index made by a scan of
** the records, with damaged chunks skipped or not, must give records or an
** error with a message, never a crash.  Fuzzed inputs are mostly cut or
** damaged files, so the scan meets truncated records of every kind.
*/
#include <stdlib.h>

#include "rsim/mcap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_gap(void *ud, const rsim_mcap_gap *g) {
  if (!g->why || !g->why[0]) abort(); /* a gap always says why */
  ++*(int *)ud;
}

/* Every message of an indexed iteration, then latest() of each channel. */
static void read_indexed(rsim_mcap_reader *rd) {
  const rsim_mcap_message *m;
  if (rsim_mcap_reader_messages(rd, 0, UINT64_MAX, NULL, 0) == RSIM_OK)
    while (rsim_mcap_reader_next_message(rd, &m) == RSIM_OK) {
    }
  size_t nc;
  const rsim_mcap_channel *ch = rsim_mcap_channels(rd, &nc);
  for (size_t i = 0; i < nc && i < 4; i++) rsim_mcap_reader_latest(rd, ch[i].id, UINT64_MAX, &m);
}

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
  /* The scan path, stopping at damage and skipping it. */
  for (int skip = 0; skip < 2; skip++) {
    int gaps = 0;
    if (rsim_mcap_reader_open_memory("fuzz.mcap", data, size, &rd, &eb)) return 0;
    if (skip) rsim_mcap_reader_skip_corrupt(rd, on_gap, &gaps);
    rc = rsim_mcap_reader_scan(rd);
    if (rc && !rsim_mcap_reader_errmsg(rd)[0]) abort();
    if (!rc) {
      const rsim_mcap_scan_info *si = rsim_mcap_reader_scan_info(rd);
      if (!si || si->scanned > size || !si->stop[0]) abort();
      read_indexed(rd);
      rsim_mcap_reader *again;
      if (rsim_mcap_reader_reopen(rd, &again, &eb) == RSIM_OK) {
        read_indexed(again);
        rsim_mcap_reader_close(again);
      }
    }
    rsim_mcap_reader_close(rd);
  }
  return 0;
}
