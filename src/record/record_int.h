/*
** record_int.h -- the two kinds of run output behind rsim_record: the
** SQLite database (record.c) and MCAP for Foxglove (mcap_record.c).
*/
#ifndef RSIM_RECORD_INT_H
#define RSIM_RECORD_INT_H

#include "rsim/record.h"

typedef struct rsim__mcap_rec rsim__mcap_rec;

int rsim__mcap_rec_open(const char *path, rsim__mcap_rec **out, rsim_errbuf *eb);
/* Finishes the file (finish true) or removes it; err gets the message. */
int rsim__mcap_rec_close(rsim__mcap_rec *m, bool finish, char *err, size_t n);
int rsim__mcap_rec_set(rsim__mcap_rec *m, const char *key, const char *value);
int rsim__mcap_rec_reading(rsim__mcap_rec *m, const rsim_reading *r);
int rsim__mcap_rec_output(rsim__mcap_rec *m, rsim_time t, const char *component, const rsim_val *v,
                          const rsim_type *type, const char *json);
int rsim__mcap_rec_event(rsim__mcap_rec *m, rsim_time t, const char *component, int level,
                         const char *message);
const char *rsim__mcap_rec_errmsg(const rsim__mcap_rec *m);

#endif
