/* tests for common/strbuf: bounded buffer, UTF-8 decoding, JSON writer and its misuse paths */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/strbuf.h"

static void test_empty(void **state)
{
    struct e6_strbuf sb = E6_STRBUF_INIT;

    assert_string_equal(e6_strbuf_str(&sb), "");
    assert_int_equal(sb.len, 0);
    e6_strbuf_free(&sb);
    assert_null(sb.buf);
}

static void test_append_printf(void **state)
{
    struct e6_strbuf sb = E6_STRBUF_INIT;

    e6_strbuf_puts(&sb, "abc");
    e6_strbuf_append(&sb, "defXX", 3);
    e6_strbuf_printf(&sb, "-%d-%s", 42, "x");
    assert_string_equal(e6_strbuf_str(&sb), "abcdef-42-x");
    assert_int_equal(sb.len, 11);
    assert_false(sb.failed);
    e6_strbuf_append(&sb, "", 0);
    assert_int_equal(sb.len, 11);
    e6_strbuf_free(&sb);
}

static void test_grow_large(void **state)
{
    struct e6_strbuf sb = E6_STRBUF_INIT;
    char chunk[1000];

    memset(chunk, 'a', sizeof(chunk));
    for (int i = 0; i < 100; i++)
        e6_strbuf_append(&sb, chunk, sizeof(chunk));
    /* a printf longer than the free space takes the grow-and-retry path */
    e6_strbuf_printf(&sb, "%5000s|", "z");
    assert_false(sb.failed);
    assert_int_equal(sb.len, 100000 + 5001);
    assert_int_equal(strlen(sb.buf), sb.len);
    assert_int_equal(sb.buf[sb.len - 1], '|');
    assert_int_equal(sb.buf[sb.len - 2], 'z');
    e6_strbuf_free(&sb);
}

static void test_reset_keeps_allocation(void **state)
{
    struct e6_strbuf sb = E6_STRBUF_INIT;

    e6_strbuf_puts(&sb, "hello");
    char *p = sb.buf;
    size_t cap = sb.cap;
    e6_strbuf_reset(&sb);
    assert_ptr_equal(sb.buf, p);
    assert_int_equal(sb.cap, cap);
    assert_string_equal(e6_strbuf_str(&sb), "");
    e6_strbuf_puts(&sb, "x");
    assert_string_equal(e6_strbuf_str(&sb), "x");
    e6_strbuf_free(&sb);
}

static void test_max_enforced(void **state)
{
    struct e6_strbuf sb = E6_STRBUF_INIT;

    sb.max = 8; /* 7 characters + NUL */
    e6_strbuf_puts(&sb, "1234567");
    assert_false(sb.failed);
    assert_string_equal(sb.buf, "1234567");
    e6_strbuf_puts(&sb, "8");
    assert_true(sb.failed);
    assert_string_equal(sb.buf, "1234567"); /* the overflowing write is dropped whole */
    /* further writes are dropped even if they would fit */
    e6_strbuf_reset(&sb);
    assert_false(sb.failed);
    e6_strbuf_puts(&sb, "12");
    e6_strbuf_printf(&sb, "%s", "345678");
    assert_true(sb.failed);
    assert_string_equal(sb.buf, "12");
    e6_strbuf_puts(&sb, "3");
    assert_string_equal(sb.buf, "12");
    e6_strbuf_free(&sb);
    assert_int_equal(sb.max, 8); /* the limit survives free */
}

static void test_max_printf_in_place(void **state)
{
    struct e6_strbuf sb = E6_STRBUF_INIT;

    /* capacity (64) exceeds the limit set afterwards: printf that fits in
     * the allocation must still respect max */
    e6_strbuf_puts(&sb, "ab");
    sb.max = 6;
    e6_strbuf_printf(&sb, "%s", "cdef");
    assert_true(sb.failed);
    assert_string_equal(sb.buf, "ab");
    e6_strbuf_free(&sb);
}

static void test_default_max(void **state)
{
    struct e6_strbuf sb = E6_STRBUF_INIT;
    static char big[1 << 20];

    memset(big, 'b', sizeof(big));
    for (int i = 0; i < 15; i++)
        e6_strbuf_append(&sb, big, sizeof(big));
    assert_false(sb.failed);
    e6_strbuf_append(&sb, big, sizeof(big)); /* would reach 16 MiB + NUL */
    assert_true(sb.failed);
    assert_int_equal(sb.len, (size_t)15 << 20);
    e6_strbuf_free(&sb);
}

static void test_utf8_decode(void **state)
{
    uint32_t cp;
    const unsigned char e_acute[] = {0xc3, 0xa9};
    const unsigned char euro[] = {0xe2, 0x82, 0xac};
    const unsigned char smile[] = {0xf0, 0x9f, 0x98, 0x80};
    const unsigned char max[] = {0xf4, 0x8f, 0xbf, 0xbf};

    assert_int_equal(e6_utf8_decode((const unsigned char *)"A", 1, &cp), 1);
    assert_int_equal(cp, 'A');
    assert_int_equal(e6_utf8_decode(e_acute, 2, &cp), 2);
    assert_int_equal(cp, 0xe9);
    assert_int_equal(e6_utf8_decode(euro, 3, &cp), 3);
    assert_int_equal(cp, 0x20ac);
    assert_int_equal(e6_utf8_decode(smile, 4, &cp), 4);
    assert_int_equal(cp, 0x1f600);
    assert_int_equal(e6_utf8_decode(max, 4, &cp), 4);
    assert_int_equal(cp, 0x10ffff);

    /* rejections, with the length of the maximal ill-formed subpart */
    const struct {
        unsigned char b[4];
        size_t n;
        int want;
    } bad[] = {
        {{0x80}, 1, -1},                   /* lone continuation */
        {{0xbf}, 1, -1},                   /* lone continuation */
        {{0xc0, 0xaf}, 2, -1},             /* overlong lead C0 */
        {{0xc1, 0xbf}, 2, -1},             /* overlong lead C1 */
        {{0xe0, 0x80, 0xaf}, 3, -1},       /* overlong 3-byte */
        {{0xed, 0xa0, 0x80}, 3, -1},       /* surrogate U+D800 */
        {{0xf0, 0x80, 0x80, 0xaf}, 4, -1}, /* overlong 4-byte */
        {{0xf4, 0x90, 0x80, 0x80}, 4, -1}, /* > U+10FFFF */
        {{0xf5, 0x80, 0x80, 0x80}, 4, -1}, /* invalid lead */
        {{0xff}, 1, -1},                   /* invalid lead */
        {{0xc3}, 1, -1},                   /* truncated 2-byte */
        {{0xe2, 0x82}, 2, -2},             /* truncated 3-byte */
        {{0xe2, 0x82, 0x41}, 3, -2},       /* bad 3rd byte */
        {{0xf0, 0x9f, 0x98}, 3, -3},       /* truncated 4-byte */
        {{0xc3, 0x41}, 2, -1},             /* bad 2nd byte */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(e6_utf8_decode(bad[i].b, bad[i].n, &cp), bad[i].want);
}

static const char *escaped(struct e6_strbuf *sb, const char *s, size_t n)
{
    e6_strbuf_reset(sb);
    e6_strbuf_json_escape(sb, s, n);
    return e6_strbuf_str(sb);
}

static void test_json_escape(void **state)
{
    struct e6_strbuf sb = E6_STRBUF_INIT;

    assert_string_equal(escaped(&sb, "plain", 5), "plain");
    assert_string_equal(escaped(&sb, "a\"b\\c", 5), "a\\\"b\\\\c");
    assert_string_equal(escaped(&sb, "\n\t\x01\x1f", 4), "\\u000a\\u0009\\u0001\\u001f");
    assert_string_equal(escaped(&sb, "a\0b", 3), "a\\u0000b");
    assert_string_equal(escaped(&sb, "\x7f/", 2), "\x7f/"); /* DEL and / need no escape */
    assert_string_equal(escaped(&sb, "caf\xc3\xa9", 5), "caf\xc3\xa9");
    assert_string_equal(escaped(&sb, "\xf0\x9f\x98\x80", 4), "\xf0\x9f\x98\x80");
    assert_string_equal(escaped(&sb,
                                "a\xff"
                                "b",
                                3),
                        "a\\ufffdb");
    assert_string_equal(escaped(&sb, "\xc3", 1), "\\ufffd");
    /* one replacement per maximal ill-formed subpart */
    assert_string_equal(escaped(&sb,
                                "\xe2\x82"
                                "A",
                                3),
                        "\\ufffdA");
    assert_string_equal(escaped(&sb, "\xed\xa0\x80", 3), "\\ufffd\\ufffd\\ufffd");
    assert_string_equal(escaped(&sb, "\xc0\xaf", 2), "\\ufffd\\ufffd");
    assert_string_equal(escaped(&sb, "\x80\x80", 2), "\\ufffd\\ufffd");
    e6_strbuf_free(&sb);
}

static void test_json_document(void **state)
{
    struct e6_strbuf sb = E6_STRBUF_INIT;
    struct e6_json j;

    e6_json_init(&j, &sb);
    e6_json_begin_object(&j, NULL);
    e6_json_string(&j, "name", "eth0");
    e6_json_uint(&j, "mtu", 1500);
    e6_json_int(&j, "delta", -3);
    e6_json_int(&j, "min", INT64_MIN);
    e6_json_uint(&j, "max", UINT64_MAX);
    e6_json_bool(&j, "up", true);
    e6_json_bool(&j, "down", false);
    e6_json_string(&j, "none", NULL);
    e6_json_null(&j, "nil");
    e6_json_begin_array(&j, "list");
    e6_json_uint(&j, NULL, 1);
    e6_json_string(&j, NULL, "two");
    e6_json_begin_object(&j, NULL);
    e6_json_end_object(&j);
    e6_json_begin_array(&j, NULL);
    e6_json_end_array(&j);
    e6_json_end_array(&j);
    e6_json_begin_object(&j, "q\"k");
    e6_json_uint(&j, "x", 0);
    e6_json_end_object(&j);
    e6_json_end_object(&j);
    assert_false(sb.failed);
    assert_true(e6_json_done(&j));
    assert_string_equal(e6_strbuf_str(&sb),
                        "{\"name\":\"eth0\",\"mtu\":1500,\"delta\":-3,"
                        "\"min\":-9223372036854775808,\"max\":18446744073709551615,"
                        "\"up\":true,\"down\":false,\"none\":null,\"nil\":null,"
                        "\"list\":[1,\"two\",{},[]],\"q\\\"k\":{\"x\":0}}");
    e6_strbuf_free(&sb);
}

static void sample_view(struct e6_json *j, enum e6_view_format fmt, void *arg)
{
    e6_json_begin_object(j, NULL);
    e6_json_uint(j, "n", *(unsigned *)arg);
    e6_json_end_object(j);
}

static void test_json_key_places_view(void **state)
{
    struct e6_strbuf sb = E6_STRBUF_INIT;
    struct e6_json j;
    unsigned a = 1, b = 2;

    e6_json_init(&j, &sb);
    e6_json_begin_object(&j, NULL);
    e6_json_key(&j, "a");
    sample_view(&j, E6_VIEW_JSON, &a);
    e6_json_key(&j, "b");
    sample_view(&j, E6_VIEW_JSON, &b);
    e6_json_key(&j, "c");
    e6_json_uint(&j, NULL, 3);
    e6_json_end_object(&j);
    assert_true(e6_json_done(&j));
    assert_string_equal(sb.buf, "{\"a\":{\"n\":1},\"b\":{\"n\":2},\"c\":3}");
    e6_strbuf_free(&sb);
}

static void test_json_scalar_top(void **state)
{
    struct e6_strbuf sb = E6_STRBUF_INIT;
    struct e6_json j;

    e6_json_init(&j, &sb);
    assert_false(e6_json_done(&j));
    e6_json_string(&j, NULL, "x");
    assert_true(e6_json_done(&j));
    assert_string_equal(sb.buf, "\"x\"");
    e6_strbuf_free(&sb);
}

/* Each misuse must set failed, never crash, and stop further output. */
typedef void (*misuse_fn)(struct e6_json *j);

static void mis_end_without_begin(struct e6_json *j)
{
    e6_json_end_object(j);
}
static void mis_end_array_without_begin(struct e6_json *j)
{
    e6_json_end_array(j);
}
static void mis_wrong_end(struct e6_json *j)
{
    e6_json_begin_object(j, NULL);
    e6_json_end_array(j);
}
static void mis_wrong_end2(struct e6_json *j)
{
    e6_json_begin_array(j, NULL);
    e6_json_end_object(j);
}
static void mis_key_at_top(struct e6_json *j)
{
    e6_json_begin_object(j, "k");
}
static void mis_no_key_in_object(struct e6_json *j)
{
    e6_json_begin_object(j, NULL);
    e6_json_uint(j, NULL, 1);
}
static void mis_key_in_array(struct e6_json *j)
{
    e6_json_begin_array(j, NULL);
    e6_json_uint(j, "k", 1);
}
static void mis_two_top_values(struct e6_json *j)
{
    e6_json_uint(j, NULL, 1);
    e6_json_uint(j, NULL, 2);
}
static void mis_too_deep(struct e6_json *j)
{
    for (int i = 0; i <= E6_JSON_MAX_DEPTH; i++)
        e6_json_begin_array(j, NULL);
}
static void mis_key_twice(struct e6_json *j)
{
    e6_json_begin_object(j, NULL);
    e6_json_key(j, "a");
    e6_json_key(j, "b");
}
static void mis_key_then_keyed_value(struct e6_json *j)
{
    e6_json_begin_object(j, NULL);
    e6_json_key(j, "a");
    e6_json_uint(j, "b", 1);
}
static void mis_key_then_end(struct e6_json *j)
{
    e6_json_begin_object(j, NULL);
    e6_json_key(j, "a");
    e6_json_end_object(j);
}
static void mis_key_in_array_fn(struct e6_json *j)
{
    e6_json_begin_array(j, NULL);
    e6_json_key(j, "a");
}
static void mis_key_null(struct e6_json *j)
{
    e6_json_begin_object(j, NULL);
    e6_json_key(j, NULL);
}
static void mis_key_top(struct e6_json *j)
{
    e6_json_key(j, "a");
}

static void test_json_misuse(void **state)
{
    static const misuse_fn fns[] = {
        mis_end_without_begin,
        mis_end_array_without_begin,
        mis_wrong_end,
        mis_wrong_end2,
        mis_key_at_top,
        mis_no_key_in_object,
        mis_key_in_array,
        mis_two_top_values,
        mis_too_deep,
        mis_key_twice,
        mis_key_then_keyed_value,
        mis_key_then_end,
        mis_key_in_array_fn,
        mis_key_null,
        mis_key_top,
    };
    for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
        struct e6_strbuf sb = E6_STRBUF_INIT;
        struct e6_json j;

        e6_json_init(&j, &sb);
        fns[i](&j);
        assert_true(sb.failed);
        assert_false(e6_json_done(&j));
        size_t len = sb.len;
        e6_json_uint(&j, NULL, 7);
        e6_json_end_object(&j);
        assert_int_equal(sb.len, len);
        e6_strbuf_free(&sb);
    }
}

static void test_json_max_depth_ok(void **state)
{
    struct e6_strbuf sb = E6_STRBUF_INIT;
    struct e6_json j;

    e6_json_init(&j, &sb);
    for (int i = 0; i < E6_JSON_MAX_DEPTH; i++)
        e6_json_begin_array(&j, NULL);
    for (int i = 0; i < E6_JSON_MAX_DEPTH; i++)
        e6_json_end_array(&j);
    assert_true(e6_json_done(&j));
    assert_int_equal(sb.len, 2 * E6_JSON_MAX_DEPTH);
    e6_strbuf_free(&sb);
}

static void test_json_hits_max(void **state)
{
    struct e6_strbuf sb = E6_STRBUF_INIT;
    struct e6_json j;

    sb.max = 32;
    e6_json_init(&j, &sb);
    e6_json_begin_array(&j, NULL);
    for (int i = 0; i < 100; i++)
        e6_json_string(&j, NULL, "abcdef");
    e6_json_end_array(&j);
    assert_true(sb.failed);
    assert_false(e6_json_done(&j));
    assert_true(sb.len < 32);
    e6_strbuf_free(&sb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_append_printf),
        cmocka_unit_test(test_grow_large),
        cmocka_unit_test(test_reset_keeps_allocation),
        cmocka_unit_test(test_max_enforced),
        cmocka_unit_test(test_max_printf_in_place),
        cmocka_unit_test(test_default_max),
        cmocka_unit_test(test_utf8_decode),
        cmocka_unit_test(test_json_escape),
        cmocka_unit_test(test_json_document),
        cmocka_unit_test(test_json_key_places_view),
        cmocka_unit_test(test_json_scalar_top),
        cmocka_unit_test(test_json_misuse),
        cmocka_unit_test(test_json_max_depth_ok),
        cmocka_unit_test(test_json_hits_max),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
