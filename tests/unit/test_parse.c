/*
** test_parse.c -- the strict parsers behind every option and query
** argument (src/core/parse.c): whole text only, overflow is an error, the
** range is checked, and each failure quotes the text and says what was
** expected.
*/
#include <stdint.h>

#include "rsim/util.h"
#include "test.h"

/* The message of a parse that must fail. */
#define REFUSED(call, eb)                       \
  do {                                          \
    rsim_errbuf_clear(&(eb));                   \
    ASSERT_EQ((call), RSIM_EINVAL);             \
    ASSERT((eb).msg[0] != 0);                   \
  } while (0)

TEST(parse_int_whole_text_in_range) {
  rsim_errbuf eb = {0};
  int64_t v = 0;
  ASSERT_OK(rsim_parse_int("42", 0, 100, &v, &eb));
  ASSERT_EQ(v, 42);
  ASSERT_OK(rsim_parse_int("-7", -10, 10, &v, &eb));
  ASSERT_EQ(v, -7);
  ASSERT_OK(rsim_parse_int("+7", -10, 10, &v, &eb));
  ASSERT_EQ(v, 7);
  ASSERT_OK(rsim_parse_int("9223372036854775807", INT64_MIN, INT64_MAX, &v, &eb));
  ASSERT_EQ(v, INT64_MAX);
  const char *junk[] = {"", " 42", "42 ", "42x", "4 2", "0x10", "1e3", "1.0", "-", "+", "abc"};
  for (size_t i = 0; i < sizeof junk / sizeof *junk; i++) {
    v = 99;
    REFUSED(rsim_parse_int(junk[i], 0, 100, &v, &eb), eb);
    ASSERT_EQ(v, 99); /* untouched on failure */
    ASSERT_CONTAINS(eb.msg, "expected an integer 0..100");
  }
  REFUSED(rsim_parse_int("abc", 0, 100, &v, &eb), eb);
  ASSERT_STREQ(eb.msg, "'abc' is not a number (expected an integer 0..100)");
  /* Overflow is out of range, not a clamp to INT64_MAX. */
  REFUSED(rsim_parse_int("9223372036854775808", INT64_MIN, INT64_MAX, &v, &eb), eb);
  ASSERT_CONTAINS(eb.msg, "out of range");
  REFUSED(rsim_parse_int("-9223372036854775809", INT64_MIN, INT64_MAX, &v, &eb), eb);
  REFUSED(rsim_parse_int("101", 0, 100, &v, &eb), eb);
  ASSERT_STREQ(eb.msg, "'101' is out of range (expected an integer 0..100)");
  REFUSED(rsim_parse_int("-1", 0, 100, &v, &eb), eb);
  /* A huge argument is cut in the message, which still says what was expected. */
  char big[300];
  memset(big, '7', sizeof big - 1);
  big[sizeof big - 1] = 0;
  REFUSED(rsim_parse_int(big, 0, 100, &v, &eb), eb);
  ASSERT_CONTAINS(eb.msg, "...' is out of range (expected an integer 0..100)");
  ASSERT(strlen(eb.msg) < 120);
}

TEST(parse_uint_decimal_or_hex_no_sign) {
  rsim_errbuf eb = {0};
  uint64_t v = 0;
  ASSERT_OK(rsim_parse_uint("18446744073709551615", &v, &eb));
  ASSERT(v == UINT64_MAX);
  ASSERT_OK(rsim_parse_uint("0x10", &v, &eb));
  ASSERT_EQ(v, 16);
  ASSERT_OK(rsim_parse_uint("010", &v, &eb)); /* decimal, not octal */
  ASSERT_EQ(v, 10);
  /* strtoull takes "-1" as 2^64-1: a negative seed must not become a huge one. */
  REFUSED(rsim_parse_uint("-1", &v, &eb), eb);
  ASSERT_CONTAINS(eb.msg, "'-1' is not a number");
  REFUSED(rsim_parse_uint("18446744073709551616", &v, &eb), eb);
  ASSERT_CONTAINS(eb.msg, "out of range");
  const char *junk[] = {"", "0x", "12abc", " 1", "+1", "1.5", "0xg"};
  for (size_t i = 0; i < sizeof junk / sizeof *junk; i++) REFUSED(rsim_parse_uint(junk[i], &v, &eb), eb);
}

TEST(parse_real_refuses_nan_inf_hex_and_junk) {
  rsim_errbuf eb = {0};
  double v = 0;
  ASSERT_OK(rsim_parse_real("1.5", 0, 10, &v, &eb));
  ASSERT_NEAR(v, 1.5, 0);
  ASSERT_OK(rsim_parse_real(".5", 0, 10, &v, &eb));
  ASSERT_NEAR(v, 0.5, 0);
  ASSERT_OK(rsim_parse_real("2.", 0, 10, &v, &eb));
  ASSERT_OK(rsim_parse_real("-2.5e-1", -1, 1, &v, &eb));
  ASSERT_NEAR(v, -0.25, 0);
  ASSERT_OK(rsim_parse_real("1e-400", 0, 1, &v, &eb)); /* too small for a double: 0, a number */
  const char *junk[] = {"", "nan", "NaN", "inf", "-inf", "infinity", "0x1p3", " 1", "1 ", "1e", "1e+", ".", "-", "1..2", "1,5", "abc"};
  for (size_t i = 0; i < sizeof junk / sizeof *junk; i++) {
    REFUSED(rsim_parse_real(junk[i], -1e300, 1e300, &v, &eb), eb);
    ASSERT_CONTAINS(eb.msg, "is not a number");
  }
  REFUSED(rsim_parse_real("1e999", -1e300, 1e300, &v, &eb), eb);
  ASSERT_CONTAINS(eb.msg, "out of range");
  REFUSED(rsim_parse_real("10.5", 0, 10, &v, &eb), eb);
  ASSERT_STREQ(eb.msg, "'10.5' is out of range (expected 0..10)");
}

TEST(parse_speed_and_port) {
  rsim_errbuf eb = {0};
  double x = -1;
  ASSERT_OK(rsim_parse_speed("max", &x, &eb));
  ASSERT_EQ(x, 0);
  ASSERT_OK(rsim_parse_speed("0.01", &x, &eb));
  ASSERT_OK(rsim_parse_speed("100", &x, &eb));
  ASSERT_NEAR(x, 100, 0);
  /* atof made "abc" 0, which is max speed. */
  REFUSED(rsim_parse_speed("abc", &x, &eb), eb);
  ASSERT_STREQ(eb.msg, "'abc' is not a number (expected 0.01..100 or max)");
  const char *bad[] = {"", "0", "-1", "100.01", "nan", "inf", "MAX", "2x", "1e9"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    REFUSED(rsim_parse_speed(bad[i], &x, &eb), eb);
    ASSERT_CONTAINS(eb.msg, "(expected 0.01..100 or max)");
  }
  int port = -1;
  ASSERT_OK(rsim_parse_port("0", &port, &eb));
  ASSERT_EQ(port, 0);
  ASSERT_OK(rsim_parse_port("65535", &port, &eb));
  ASSERT_EQ(port, 65535);
  /* atoi made "x" 0, which is any free port. */
  const char *badp[] = {"x", "", "-1", "65536", "80x", "4294967377", " 80"};
  for (size_t i = 0; i < sizeof badp / sizeof *badp; i++) {
    REFUSED(rsim_parse_port(badp[i], &port, &eb), eb);
    ASSERT_CONTAINS(eb.msg, "is not a port (expected 0..65535");
  }
}

TEST(parse_duration_strict_and_bounded) {
  rsim_errbuf eb = {0};
  int64_t ns = 0;
  ASSERT_OK(rsim_parse_duration("1.5ms", &ns));
  ASSERT_EQ(ns, 1500000);
  ASSERT_OK(rsim_parse_duration("2", &ns));
  ASSERT_EQ(ns, 2000000000);
  ASSERT_OK(rsim_parse_duration("1h", &ns));
  ASSERT_EQ(ns, INT64_C(3600000000000));
  ASSERT_OK(rsim_parse_duration("0", &ns));
  ASSERT_EQ(ns, 0);
  const char *junk[] = {"", "s", "-1s", "+1s", " 1s", "1s ", "1 s", "nan", "nans", "infs", "0x10s", "1e400s",
                        "3e6h", "5 parsecs", "1.5.5s", "1sec"};
  for (size_t i = 0; i < sizeof junk / sizeof *junk; i++) ASSERT_EQ(rsim_parse_duration(junk[i], &ns), RSIM_EINVAL);
  REFUSED(rsim_parse_duration_arg("soon", false, &ns, &eb), eb);
  ASSERT_CONTAINS(eb.msg, "'soon' is not a duration (expected e.g. 2s");
  ASSERT_OK(rsim_parse_duration_arg("0s", false, &ns, &eb));
  REFUSED(rsim_parse_duration_arg("0s", true, &ns, &eb), eb);
  ASSERT_CONTAINS(eb.msg, "'0s' is not a positive duration");
}

TEST(parse_time_absolute_relative_and_overflow) {
  rsim_errbuf eb = {0};
  rsim_time t = 0;
  ASSERT_OK(rsim_parse_time("+12.5s", 1000, &t));
  ASSERT_EQ(t, 1000 + 12500000000LL);
  ASSERT_OK(rsim_parse_time("2s", 1000, &t));
  ASSERT_EQ(t, 2000001000LL);
  ASSERT_OK(rsim_parse_time("1700000000000000123", 0, &t));
  ASSERT_EQ(t, 1700000000000000123LL);
  ASSERT_EQ(rsim_parse_time("99999999999999999999", 0, &t), RSIM_EINVAL); /* over INT64_MAX */
  /* base + duration past INT64_MAX is refused, not wrapped to a negative time. */
  ASSERT_EQ(rsim_parse_time("+2h", INT64_MAX - 1000, &t), RSIM_EINVAL);
  const char *junk[] = {"", "+", "-5s", "+-5s", "5x", " 5s", "++5s", "17000000000000001x"};
  for (size_t i = 0; i < sizeof junk / sizeof *junk; i++) ASSERT_EQ(rsim_parse_time(junk[i], 0, &t), RSIM_EINVAL);
  REFUSED(rsim_parse_time_arg("soon", 0, &t, &eb), eb);
  ASSERT_STREQ(eb.msg, "'soon' is not a time (expected ns since the epoch, or a duration into the log such as 12.5s or +2m)");
}

TEST(parse_secret_equal_compares_whole_strings) {
  ASSERT(rsim_secret_equal("abc123", "abc123"));
  ASSERT(rsim_secret_equal("", ""));
  ASSERT(!rsim_secret_equal("abc123", "abc124"));
  ASSERT(!rsim_secret_equal("abc123", "abc12"));  /* a prefix is not the token */
  ASSERT(!rsim_secret_equal("abc12", "abc123"));
  ASSERT(!rsim_secret_equal("", "abc"));
  ASSERT(!rsim_secret_equal("xbc123", "abc123"));
}
