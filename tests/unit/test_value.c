/*
** test_value.c -- types and values: structural equality, WIT printing,
** canonical encoding round trips, corrupt input, checks with paths, JSON.
*/
#include "rsim/value.h"
#include "test.h"

static rsim_type *bbox_record(const char *first_field) {
  rsim_type *t = rsim_type_new(RSIM_RECORD);
  rsim_type_add(t, first_field, rsim_type_new(RSIM_F32));
  rsim_type_add(t, "label", rsim_type_new(RSIM_STRING));
  return t;
}

TEST(value_type_equality_is_structural_with_names) {
  rsim_type *a = rsim_type_list(bbox_record("x")), *b = rsim_type_list(bbox_record("x"));
  rsim_type *c = rsim_type_list(bbox_record("y"));
  ASSERT(rsim_type_equal(a, b));
  ASSERT(!rsim_type_equal(a, c));
  rsim_type *d = rsim_type_clone(a);
  ASSERT(rsim_type_equal(a, d));
  char *s = rsim_type_str(a);
  ASSERT_STREQ(s, "list<record { x: f32, label: string }>");
  free(s);
  rsim_type_free(a);
  rsim_type_free(b);
  rsim_type_free(c);
  rsim_type_free(d);
}

static void sample(rsim_val *v) {
  /* record { name: string, bytes: list<u8>, opt: option<f64>, tag: variant, n: list<s32> } */
  rsim_val_set_agg(v, RSIM_RECORD, 5);
  rsim_val *f = v->of.agg.items;
  rsim_val_set_string(&f[0], "héllo", strlen("héllo"));
  const uint8_t bytes[4] = {0, 1, 254, 255};
  rsim_val_set_bytes(&f[1], bytes, 4);
  rsim_val_set_case(&f[2], RSIM_OPTION, 1, true);
  f[2].of.var.payload->kind = RSIM_F64;
  f[2].of.var.payload->of.f64 = -0.0;
  rsim_val_set_case(&f[3], RSIM_VARIANT, 1, false);
  rsim_val_set_agg(&f[4], RSIM_LIST, 3);
  for (int i = 0; i < 3; i++) {
    f[4].of.agg.items[i].kind = RSIM_S32;
    f[4].of.agg.items[i].of.s = -i * 1000;
  }
}

TEST(value_encode_decode_round_trip_is_exact) {
  rsim_val v = {0}, back = {0};
  sample(&v);
  rsim_buf b = {0};
  rsim_val_encode(&v, &b);
  size_t used = 0;
  ASSERT_OK(rsim_val_decode(b.data, b.len, &back, &used));
  ASSERT_EQ(used, b.len);
  ASSERT(rsim_val_equal(&v, &back));
  /* -0.0 and 0.0 differ bit for bit: equality must see it. */
  back.of.agg.items[2].of.var.payload->of.f64 = 0.0;
  ASSERT(!rsim_val_equal(&v, &back));
  rsim_val_clear(&back);
  rsim_buf b2 = {0};
  rsim_val copy = {0};
  rsim_val_copy(&copy, &v);
  rsim_val_encode(&copy, &b2);
  ASSERT_EQ(b.len, b2.len);
  ASSERT(memcmp(b.data, b2.data, b.len) == 0);
  rsim_val_clear(&copy);
  rsim_val_clear(&v);
  rsim_buf_free(&b);
  rsim_buf_free(&b2);
}

TEST(value_decode_rejects_every_truncation_and_garbage) {
  rsim_val v = {0}, out = {0};
  sample(&v);
  rsim_buf b = {0};
  rsim_val_encode(&v, &b);
  for (size_t n = 0; n < b.len; n++) ASSERT_EQ(rsim_val_decode(b.data, n, &out, NULL), RSIM_ECORRUPT);
  /* A list claiming 2^60 items in a 20-byte buffer must not allocate it. */
  uint8_t lying[20] = {RSIM_LIST, 0, 0, 0, 0, 0, 0, 0, 0x10};
  ASSERT_EQ(rsim_val_decode(lying, sizeof lying, &out, NULL), RSIM_ECORRUPT);
  uint8_t bad_kind[2] = {200, 0};
  ASSERT_EQ(rsim_val_decode(bad_kind, 2, &out, NULL), RSIM_ECORRUPT);
  /* Deep nesting is refused, not recursed into without bound. */
  uint8_t deep[150 * 6 + 2];
  for (int i = 0; i < 150; i++) {
    uint8_t level[6] = {RSIM_OPTION, 1, 0, 0, 0, 1}; /* some(...) */
    memcpy(deep + 6 * i, level, 6);
  }
  deep[900] = RSIM_BOOL;
  deep[901] = 0;
  ASSERT_EQ(rsim_val_decode(deep, sizeof deep, &out, NULL), RSIM_ECORRUPT);
  rsim_val_clear(&v);
  rsim_buf_free(&b);
}

TEST(value_check_names_the_path_of_a_mismatch) {
  rsim_type *t = rsim_type_list(bbox_record("x"));
  rsim_val v = {0};
  rsim_val_set_agg(&v, RSIM_LIST, 2);
  for (int i = 0; i < 2; i++) {
    rsim_val_set_agg(&v.of.agg.items[i], RSIM_RECORD, 2);
    v.of.agg.items[i].of.agg.items[0].kind = RSIM_F32;
    rsim_val_set_string(&v.of.agg.items[i].of.agg.items[1], "a", 1);
  }
  rsim_errbuf eb = {0};
  ASSERT_OK(rsim_val_check(&v, t, &eb));
  v.of.agg.items[1].of.agg.items[0].kind = RSIM_S32;
  ASSERT_EQ(rsim_val_check(&v, t, &eb), RSIM_ETYPE);
  ASSERT_CONTAINS(eb.msg, "[1].x");
  ASSERT_CONTAINS(eb.msg, "expected f32, got s32");
  /* Invalid UTF-8 never passes a check (it would abort Wasmtime). */
  v.of.agg.items[1].of.agg.items[0].kind = RSIM_F32;
  v.of.agg.items[0].of.agg.items[1].of.str.ptr[0] = (char)0xC3;
  rsim_errbuf_clear(&eb);
  ASSERT_EQ(rsim_val_check(&v, t, &eb), RSIM_ETYPE);
  ASSERT_CONTAINS(eb.msg, "UTF-8");
  rsim_val_clear(&v);
  rsim_type_free(t);
}

TEST(value_json_uses_names_and_summarises_bytes) {
  rsim_type *t = bbox_record("x");
  rsim_val v = {0};
  rsim_val_set_agg(&v, RSIM_RECORD, 2);
  v.of.agg.items[0].kind = RSIM_F32;
  v.of.agg.items[0].of.f32 = 1.5f;
  rsim_val_set_string(&v.of.agg.items[1], "car \"A\"", 7);
  rsim_buf b = {0};
  rsim_val_to_json(&v, t, 16, &b);
  rsim_buf_putc(&b, 0);
  ASSERT_STREQ((char *)b.data, "{\"x\":1.5,\"label\":\"car \\\"A\\\"\"}");
  rsim_buf_free(&b);
  rsim_val big = {0};
  uint8_t bytes[100] = {0};
  rsim_val_set_bytes(&big, bytes, sizeof bytes);
  rsim_val_to_json(&big, NULL, 16, &b);
  rsim_buf_putc(&b, 0);
  ASSERT_CONTAINS((char *)b.data, "{\"bytes\":100,\"sha256\":\"");
  rsim_buf_free(&b);
  rsim_val_clear(&big);
  rsim_val_clear(&v);
  rsim_type_free(t);
}

TEST(value_sha256_matches_known_vectors) {
  const char *abc = "abc";
  rsim_sha256 s;
  uint8_t d[32];
  char hex[65];
  rsim_sha256_init(&s);
  rsim_sha256_update(&s, abc, 3);
  rsim_sha256_final(&s, d);
  rsim_sha256_hex(d, hex);
  ASSERT_STREQ(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  /* Fed byte by byte across block boundaries: the same as in one piece. */
  char msg[200];
  for (int i = 0; i < 200; i++) msg[i] = (char)('a' + i % 26);
  uint8_t d1[32], d2[32];
  rsim_sha256_init(&s);
  rsim_sha256_update(&s, msg, 200);
  rsim_sha256_final(&s, d1);
  rsim_sha256_init(&s);
  for (int i = 0; i < 200; i++) rsim_sha256_update(&s, msg + i, 1);
  rsim_sha256_final(&s, d2);
  ASSERT(memcmp(d1, d2, 32) == 0);
}

TEST(value_duration_and_time_parsing) {
  int64_t ns;
  ASSERT_OK(rsim_parse_duration("1.5ms", &ns));
  ASSERT_EQ(ns, 1500000);
  ASSERT_OK(rsim_parse_duration("2m", &ns));
  ASSERT_EQ(ns, 120000000000LL);
  ASSERT_EQ(rsim_parse_duration("5 parsecs", &ns), RSIM_EINVAL);
  rsim_time t;
  ASSERT_OK(rsim_parse_time("+12.5s", 1000, &t));
  ASSERT_EQ(t, 12500001000LL);
  ASSERT_OK(rsim_parse_time("1700000000000000123", 0, &t));
  ASSERT_EQ(t, 1700000000000000123LL);
  ASSERT(rsim_utf8_valid("h\xc3\xa9", 3));
  ASSERT(!rsim_utf8_valid("\xc3", 1));
  ASSERT(!rsim_utf8_valid("\xed\xa0\x80", 3)); /* a surrogate */
  ASSERT(!rsim_utf8_valid("\xc0\xaf", 2));     /* overlong '/' */
}

TEST(value_decode_rejects_inconsistent_cases) {
  /* Found by fuzz_value_decode: an option with case 2 and no payload. */
  const uint8_t opt2[] = {RSIM_OPTION, 2, 0, 0, 0, 0};
  const uint8_t some_without_payload[] = {RSIM_OPTION, 1, 0, 0, 0, 0};
  const uint8_t none_with_payload[] = {RSIM_OPTION, 0, 0, 0, 0, 1, RSIM_BOOL, 0};
  rsim_val v;
  ASSERT_EQ(rsim_val_decode(opt2, sizeof opt2, &v, NULL), RSIM_ECORRUPT);
  ASSERT_EQ(rsim_val_decode(some_without_payload, sizeof some_without_payload, &v, NULL), RSIM_ECORRUPT);
  ASSERT_EQ(rsim_val_decode(none_with_payload, sizeof none_with_payload, &v, NULL), RSIM_ECORRUPT);
}
