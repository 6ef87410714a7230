/*
** misbehave.c -- a deliberately bad camera detector for the fault tests.
** Its graph config picks the fault and the call it starts at (counting from
** its last (re-)instantiation):
**   fault: loop      spins forever           (stopped by fuel or a deadline)
**   fault: alloc     allocates without end   (stopped by its memory limit)
**   fault: badvalue  returns a string that is not UTF-8 (refused by the host)
**   fault: echo      no fault: the object's id is "LEN HASH", the payload's
**                    length and FNV-1a hash as it arrived (packing tests);
**                    and `restore` keeps the bytes it is given, which
**                    `save` returns (lists of bytes both ways)
**   at: N            the first faulty call (default 2); calls before it
**                    return one object
*/
#include <stdlib.h>
#include <string.h>

#include "camera_detector.h"
#define RSIM_WORLD camera_detector
#include "rsim_guest.h"

static int g_calls;

/* volatile: the optimiser must not prove the loops finite or the memory unused. */
static volatile unsigned g_sink;

static void spin(void) {
  for (;;) g_sink++;
}

static void eat_memory(void) {
  for (;;) {
    unsigned char *p = malloc(1 << 20);
    if (!p) __builtin_trap(); /* what a component does when malloc fails */
    memset(p, 1, 1 << 20);
    g_sink += p[4096];
  }
}

void exports_rsim_sim_camera_processing_process_frame(
    exports_rsim_sim_camera_processing_sensor_reading_t *reading,
    exports_rsim_sim_camera_processing_list_detected_object_t *ret) {
  char fault[16];
  rsim_config_str("fault", fault, sizeof fault, "loop");
  int at = (int)rsim_config_f32("at", 2.0f);
  char id[32] = "obj";
  if (!strcmp(fault, "echo")) {
    size_t len;
    const uint8_t *p = rsim_payload(reading, &len);
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) h = (h ^ p[i]) * 16777619u;
    if (p) rsim_fmt(id, sizeof id, "%zu %x", len, h);
    else rsim_fmt(id, sizeof id, "bad payload-len");
  }
  rsim_sim_types_sensor_reading_free(reading);
  ret->len = 1;
  ret->ptr = calloc(1, sizeof *ret->ptr);
  ret->ptr[0].id = rsim_str_dup(id);
  ret->ptr[0].class_ = rsim_str_dup("car");
  ret->ptr[0].confidence = 0.5f;
  if (++g_calls < at) return;
  if (!strcmp(fault, "loop")) spin();
  if (!strcmp(fault, "alloc")) eat_memory();
  if (!strcmp(fault, "badvalue")) {
    free(ret->ptr[0].class_.ptr);
    ret->ptr[0].class_.ptr = (uint8_t *)malloc(2);
    ret->ptr[0].class_.ptr[0] = 0xff; /* not UTF-8 */
    ret->ptr[0].class_.ptr[1] = 0xfe;
    ret->ptr[0].class_.len = 2;
  }
}

/* The call count is the state: a restored instance traps when the original
** would.  In echo mode the state is whatever bytes restore was last given. */
static uint8_t *g_echo;
static size_t g_echo_len;

static bool echo_mode(void) {
  char fault[16];
  rsim_config_str("fault", fault, sizeof fault, "loop");
  return !strcmp(fault, "echo");
}

void exports_rsim_sim_state_save(camera_detector_list_u8_t *ret) {
  bool echo = echo_mode();
  size_t n = echo ? g_echo_len : sizeof g_calls;
  ret->len = n;
  ret->ptr = n ? (uint8_t *)malloc(n) : NULL;
  if (n) memcpy(ret->ptr, echo ? g_echo : (const uint8_t *)&g_calls, n);
}

bool exports_rsim_sim_state_restore(camera_detector_list_u8_t *bytes, camera_detector_string_t *err) {
  bool ok = true;
  if (echo_mode()) {
    free(g_echo);
    g_echo = bytes->len ? (uint8_t *)malloc(bytes->len) : NULL;
    if (bytes->len) memcpy(g_echo, bytes->ptr, bytes->len);
    g_echo_len = bytes->len;
  } else if ((ok = bytes->len == sizeof g_calls)) {
    memcpy(&g_calls, bytes->ptr, sizeof g_calls);
  } else {
    *err = rsim_str_dup("state of the wrong size (another build?)");
  }
  if (bytes->len) free(bytes->ptr); /* an empty list's pointer is not malloc's */
  return ok;
}
