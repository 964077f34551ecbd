/*
 * tests/unit/test_addr: common/addr parsing, RFC 5952 formatting, prefix
 * arithmetic at every length 0..128, solicited-node, EUI-64 and scopes.
 * Vectors are computed by hand from the RFCs, not by running the code.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "common/addr.h"

/* Build an address from eight 16-bit words, independent of any parser. */
static struct in6_addr words(unsigned w0, unsigned w1, unsigned w2, unsigned w3, unsigned w4,
                             unsigned w5, unsigned w6, unsigned w7)
{
    unsigned w[8] = {w0, w1, w2, w3, w4, w5, w6, w7};
    struct in6_addr a;
    for (int i = 0; i < 8; i++) {
        a.s6_addr[2 * i] = (uint8_t)(w[i] >> 8);
        a.s6_addr[2 * i + 1] = (uint8_t)w[i];
    }
    return a;
}

static struct in6_addr parse_ok(const char *s)
{
    struct in6_addr a;
    if (!e6_addr_parse(s, &a))
        fail_msg("e6_addr_parse rejected valid '%s'", s);
    return a;
}

/* Deterministic xorshift so a failure can be reproduced. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void random_addr(struct in6_addr *a)
{
    for (int i = 0; i < 16; i++)
        a->s6_addr[i] = (uint8_t)rng();
}

/* Random address whose words are often zero, to exercise "::" placement. */
static void random_sparse_addr(struct in6_addr *a)
{
    for (int i = 0; i < 8; i++) {
        uint64_t r = rng();
        unsigned w = (r & 3) != 0 ? 0 : (unsigned)(r >> 8) & 0xffff;
        if ((r & 0x30) == 0x30)
            w &= 0x000f; /* short words: leading zeros must be dropped */
        a->s6_addr[2 * i] = (uint8_t)(w >> 8);
        a->s6_addr[2 * i + 1] = (uint8_t)w;
    }
}

/* ---- formatting ---- */

struct fmt_vec {
    const char *in;
    const char *out;
};

static void test_format_rfc5952(void **state)
{
    (void)state;
    static const struct fmt_vec v[] = {
        /* RFC 5952 4.2.3: the longest run, the first one on ties */
        {"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},
        {"2001:0:0:1:0:0:0:1", "2001:0:0:1::1"},
        {"1:0:0:2:0:0:3:4", "1::2:0:0:3:4"},
        {"2001:db8:0:0:1:0:0:0", "2001:db8:0:0:1::"},
        {"0:0:0:1:0:0:0:0", "0:0:0:1::"},
        /* RFC 5952 4.2.2: a single zero field is never compressed */
        {"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"},
        {"2001:db8:1:1:1:1:1:0", "2001:db8:1:1:1:1:1:0"},
        {"0:2001:db8:1:1:1:1:1", "0:2001:db8:1:1:1:1:1"},
        /* RFC 5952 4.2.1 and 4.1: shorten as much as possible, lowercase */
        {"2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"},
        {"2001:db8::0:1", "2001:db8::1"},
        {"2001:DB8::AbCd", "2001:db8::abcd"},
        {"2001:db8:0:0:0:0:2:1", "2001:db8::2:1"},
        {"2001:0db8:000a:00b0:0c00:d000:0000:0001", "2001:db8:a:b0:c00:d000:0:1"},
        {"0:0:0:0:0:0:0:0", "::"},
        {"::", "::"},
        {"0:0:0:0:0:0:0:1", "::1"},
        {"1:0:0:0:0:0:0:0", "1::"},
        {"0:1:0:0:0:0:0:0", "0:1::"},
        {"0:0:1:0:0:0:1:0", "0:0:1::1:0"},
        {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
        {"FE80:0000:0000:0000:0211:22FF:FE33:4455", "fe80::211:22ff:fe33:4455"},
        {"fe80::1", "fe80::1"},
        {"ff02::1:ff33:4455", "ff02::1:ff33:4455"},
        /* RFC 5952 5: IPv4-mapped keeps the dotted quad */
        {"::ffff:192.0.2.1", "::ffff:192.0.2.1"},
        {"0:0:0:0:0:ffff:c000:0201", "::ffff:192.0.2.1"},
        {"::FFFF:203.0.113.255", "::ffff:203.0.113.255"},
        {"::ffff:0.0.0.0", "::ffff:0.0.0.0"},
        {"::ffff:198.51.100.10", "::ffff:198.51.100.10"},
        /* ...but only IPv4-mapped: compatible/other /96s stay hex */
        {"::192.0.2.1", "::c000:201"},
        {"::2", "::2"},
        {"::1:ffff:c000:201", "::1:ffff:c000:201"},
        {"::fffe:c000:201", "::fffe:c000:201"},
        {"1:2:3:4:5:6:192.0.2.1", "1:2:3:4:5:6:c000:201"},
        {"64:ff9b::192.0.2.1", "64:ff9b::c000:201"},
    };
    char buf[E6_ADDRSTRLEN];

    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        struct in6_addr a = parse_ok(v[i].in);
        const char *r = e6_addr_format(&a, buf, sizeof(buf));
        assert_ptr_equal(r, buf);
        if (strcmp(buf, v[i].out) != 0)
            fail_msg("'%s' formatted as '%s', want '%s'", v[i].in, buf, v[i].out);
    }
}

static void test_format_from_bytes(void **state)
{
    (void)state;
    char buf[E6_ADDRSTRLEN];
    struct in6_addr a;

    a = words(0x2001, 0x0db8, 0, 0, 1, 0, 0, 1);
    assert_string_equal(e6_addr_format(&a, buf, sizeof(buf)), "2001:db8::1:0:0:1");
    a = words(0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0201);
    assert_string_equal(e6_addr_format(&a, buf, sizeof(buf)), "::ffff:192.0.2.1");
    a = words(0, 0, 0, 0, 0, 0xffff, 0xffff, 0xffff);
    assert_string_equal(e6_addr_format(&a, buf, sizeof(buf)), "::ffff:255.255.255.255");
    a = words(0xfe80, 0, 0, 0, 0, 0, 0, 0);
    assert_string_equal(e6_addr_format(&a, buf, sizeof(buf)), "fe80::");
    a = words(0xabcd, 0x0ef0, 0x00a0, 0x000b, 0x1000, 0x0100, 0x0010, 0x0001);
    assert_string_equal(e6_addr_format(&a, buf, sizeof(buf)), "abcd:ef0:a0:b:1000:100:10:1");
    /* longest possible text fits E6_ADDRSTRLEN */
    a = words(0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff);
    assert_int_equal(strlen(e6_addr_format(&a, buf, sizeof(buf))), 39);
}

static void test_format_truncates(void **state)
{
    (void)state;
    struct in6_addr a = words(0x2001, 0x0db8, 0, 0, 0, 0, 0, 1);
    char buf[8];

    memset(buf, 'x', sizeof(buf));
    assert_string_equal(e6_addr_format(&a, buf, 5), "2001");
    assert_int_equal(buf[5], 'x');
    memset(buf, 'x', sizeof(buf));
    assert_ptr_equal(e6_addr_format(&a, buf, 0), buf);
    assert_int_equal(buf[0], 'x');
    assert_string_equal(e6_addr_format(&a, buf, 1), "");
}

/* Properties RFC 5952 demands, checked on random text without a reference. */
static void check_canonical(const struct in6_addr *a, const char *s)
{
    struct in6_addr back;
    const char *dc = strstr(s, "::");

    assert_true(inet_pton(AF_INET6, s, &back) == 1);
    assert_memory_equal(&back, a, sizeof(back));
    for (const char *p = s; *p; p++) {
        if (*p >= 'A' && *p <= 'F')
            fail_msg("uppercase in '%s'", s);
        /* no hex field starts with 0 unless it is the single digit 0 */
        if ((p == s || p[-1] == ':') && p[0] == '0' && p[1] != ':' && p[1] != '\0' && p[1] != '.')
            fail_msg("leading zero in '%s'", s);
    }
    if (dc != NULL)
        assert_null(strstr(dc + 1, "::"));

    /* the compressed run must be >= 2 fields and the first longest one */
    unsigned w[8];
    for (int i = 0; i < 8; i++)
        w[i] = (unsigned)a->s6_addr[2 * i] << 8 | a->s6_addr[2 * i + 1];
    int nw = e6_addr_is_v4mapped(a) ? 6 : 8;
    int best = -1, bestlen = 1;
    for (int i = 0; i < nw; i++) {
        int j = i;
        while (j < nw && w[j] == 0)
            j++;
        if (j - i > bestlen) {
            best = i;
            bestlen = j - i;
        }
    }
    if (best < 0) {
        assert_null(dc);
    } else {
        assert_non_null(dc);
        /* fields before "::" equal best */
        int before = 0;
        if (dc != s) {
            before = 1;
            for (const char *p = s; p < dc; p++)
                before += *p == ':';
        }
        assert_int_equal(before, best);
    }
}

static void test_format_random(void **state)
{
    (void)state;
    char buf[E6_ADDRSTRLEN], ref[INET6_ADDRSTRLEN];
    struct in6_addr a;
    static const uint8_t zero96[12];

    for (int n = 0; n < 20000; n++) {
        if (n % 2)
            random_addr(&a);
        else
            random_sparse_addr(&a);
        if (n % 7 == 0) {
            memset(a.s6_addr, 0, 10);
            a.s6_addr[10] = a.s6_addr[11] = 0xff;
        }
        e6_addr_format(&a, buf, sizeof(buf));
        check_canonical(&a, buf);
        /* glibc's inet_ntop follows RFC 5952 too, except that it prints the
         * deprecated IPv4-compatible ::/96 as dotted quad. */
        if (memcmp(a.s6_addr, zero96, 12) != 0) {
            assert_non_null(inet_ntop(AF_INET6, &a, ref, sizeof(ref)));
            if (strcmp(buf, ref) != 0)
                fail_msg("ours '%s' vs inet_ntop '%s'", buf, ref);
        }
    }
}

/* ---- parsing ---- */

static void test_parse_accepts(void **state)
{
    (void)state;
    struct in6_addr a, want;

    assert_true(e6_addr_parse("2001:db8::1", &a));
    want = words(0x2001, 0x0db8, 0, 0, 0, 0, 0, 1);
    assert_memory_equal(&a, &want, 16);

    assert_true(e6_addr_parse("2001:DB8:0:0:0:0:0:1", &a));
    assert_memory_equal(&a, &want, 16);

    assert_true(e6_addr_parse("::", &a));
    want = words(0, 0, 0, 0, 0, 0, 0, 0);
    assert_memory_equal(&a, &want, 16);

    assert_true(e6_addr_parse("::ffff:192.0.2.1", &a));
    want = words(0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0201);
    assert_memory_equal(&a, &want, 16);

    assert_true(e6_addr_parse("1:2:3:4:5:6:198.51.100.1", &a));
    want = words(1, 2, 3, 4, 5, 6, 0xc633, 0x6401);
    assert_memory_equal(&a, &want, 16);

    /* the longest legal text, 45 characters */
    assert_true(e6_addr_parse("0000:0000:0000:0000:0000:ffff:255.255.255.255", &a));
    want = words(0, 0, 0, 0, 0, 0xffff, 0xffff, 0xffff);
    assert_memory_equal(&a, &want, 16);
}

static void test_parse_rejects(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "2001:db8::1%eth0",
        "fe80::1%1",
        "fe80::1%",
        "2001:db8::/64",
        "2001:db8::1/128",
        " 2001:db8::1",
        "2001:db8::1 ",
        "2001:db8::1\n",
        "2001:db8::1\t",
        "2001:db8:: 1",
        "2001:db8::1x",
        "2001:db8::g",
        "[2001:db8::1]",
        "2001:db8::1::2",
        ":::",
        ":",
        "1:2:3:4:5:6:7",
        "1:2:3:4:5:6:7:8:9",
        "1:2:3:4:5:6:7:8::",
        "12345::",
        "0x1::",
        "1::2:",
        ":1::",
        "::ffff:192.0.2.256",
        "::ffff:192.0.2",
        "::ffff:192.0.2.1.5",
        "::ffff:01.0.2.1",
        "192.0.2.1",
        "-1::",
        "+1::",
        /* 46 characters: longer than any legal address */
        "0000:0000:0000:0000:0000:0000:0000:0000:0000:0",
        "00000000000000000000000000000000000000000000000000000000000000000000::1",
    };
    struct in6_addr a, orig;

    memset(&orig, 0xa5, sizeof(orig));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        a = orig;
        if (e6_addr_parse(bad[i], &a))
            fail_msg("e6_addr_parse accepted '%s'", bad[i]);
        assert_memory_equal(&a, &orig, sizeof(a)); /* untouched on failure */
    }
    assert_false(e6_addr_parse(NULL, &a));
    assert_false(e6_addr_parse("::1", NULL));

    /* embedded NUL ends the string: what follows is not seen */
    char s[] = "2001:db8::1\0junk";
    assert_true(e6_addr_parse(s, &a));
}

/* ---- prefixes ---- */

static void test_prefix_parse_ok(void **state)
{
    (void)state;
    struct e6_prefix p;
    struct in6_addr want;
    char err[128], buf[E6_PREFIXSTRLEN];

    assert_true(e6_prefix_parse("2001:db8::/32", true, &p, err, sizeof(err)));
    want = words(0x2001, 0x0db8, 0, 0, 0, 0, 0, 0);
    assert_memory_equal(&p.addr, &want, 16);
    assert_int_equal(p.len, 32);
    assert_string_equal(err, "");

    assert_true(e6_prefix_parse("::/0", true, &p, err, sizeof(err)));
    assert_int_equal(p.len, 0);
    assert_true(e6_addr_is_unspecified(&p.addr));

    assert_true(e6_prefix_parse("2001:db8::1/128", true, &p, err, sizeof(err)));
    want = words(0x2001, 0x0db8, 0, 0, 0, 0, 0, 1);
    assert_memory_equal(&p.addr, &want, 16);
    assert_int_equal(p.len, 128);

    assert_true(e6_prefix_parse("2001:DB8:9:10::/64", true, &p, NULL, 0));
    assert_string_equal(e6_prefix_format(&p, buf, sizeof(buf)), "2001:db8:9:10::/64");

    assert_true(e6_prefix_parse("2001:db8:8000::/33", true, &p, err, sizeof(err)));
    assert_int_equal(p.len, 33);

    /* non-strict clears the host bits */
    assert_true(e6_prefix_parse("2001:db8::1/64", false, &p, err, sizeof(err)));
    want = words(0x2001, 0x0db8, 0, 0, 0, 0, 0, 0);
    assert_memory_equal(&p.addr, &want, 16);
    assert_int_equal(p.len, 64);

    assert_true(e6_prefix_parse("2001:db8:ffff::/33", false, &p, err, sizeof(err)));
    want = words(0x2001, 0x0db8, 0x8000, 0, 0, 0, 0, 0);
    assert_memory_equal(&p.addr, &want, 16);

    assert_true(e6_prefix_parse("2001:db8:9:10:c000:201:64be:7fff/114", false, &p, NULL, 0));
    assert_string_equal(e6_prefix_format(&p, buf, sizeof(buf)),
                        "2001:db8:9:10:c000:201:64be:4000/114");

    assert_true(e6_prefix_parse("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/0", false, &p, NULL, 0));
    assert_true(e6_addr_is_unspecified(&p.addr));
    assert_int_equal(p.len, 0);
}

static void test_prefix_parse_strict_hint(void **state)
{
    (void)state;
    struct e6_prefix p, orig;
    char err[128];

    memset(&orig, 0x5a, sizeof(orig));
    p = orig;
    assert_false(e6_prefix_parse("2001:db8::1/64", true, &p, err, sizeof(err)));
    assert_string_equal(err, "host bits set beyond /64; did you mean 2001:db8::/64?");
    assert_memory_equal(&p, &orig, sizeof(p));

    assert_false(e6_prefix_parse("2001:db8:ffff::/33", true, &p, err, sizeof(err)));
    assert_string_equal(err, "host bits set beyond /33; did you mean 2001:db8:8000::/33?");

    assert_false(e6_prefix_parse("2001:db8::1/0", true, &p, err, sizeof(err)));
    assert_string_equal(err, "host bits set beyond /0; did you mean ::/0?");

    assert_false(e6_prefix_parse("2001:db8::1/127", true, &p, err, sizeof(err)));
    assert_string_equal(err, "host bits set beyond /127; did you mean 2001:db8::/127?");

    /* a short error buffer is truncated, never overrun */
    char small[9];
    memset(small, 'x', sizeof(small));
    assert_false(e6_prefix_parse("2001:db8::1/64", true, &p, small, 8));
    assert_string_equal(small, "host bi");
    assert_int_equal(small[8], 'x');
    assert_false(e6_prefix_parse("2001:db8::1/64", true, &p, NULL, 0));
}

static size_t count_char(const char *s, char c)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == c;
    return n;
}

struct bad_prefix {
    const char *in;
    const char *err_part;
};

static void test_prefix_parse_rejects(void **state)
{
    (void)state;
    static const struct bad_prefix bad[] = {
        {"2001:db8::", "no prefix length"},
        {"", "no prefix length"},
        {"2001:db8::/", "not a decimal number"},
        {"2001:db8::/129", "out of range 0..128"},
        {"2001:db8::/255", "out of range 0..128"},
        {"2001:db8::/1000", "out of range 0..128"},
        {"2001:db8::/99999999999999999999999", "out of range 0..128"},
        {"2001:db8::/-1", "not a decimal number"},
        {"2001:db8::/+64", "not a decimal number"},
        {"2001:db8::/ 64", "not a decimal number"},
        {"2001:db8::/64 ", "not a decimal number"},
        {"2001:db8::/64\n", "prefix length '64?' is not a decimal number"},
        {"2001:db8::/64\033[2J", "prefix length '64?[2J' is not a decimal number"},
        {"2001:db8::\r/64", "'2001:db8::?' is not an IPv6 address"},
        {"\t2001:db8::", "'?2001:db8::' has no prefix length"},
        {"2001:db8::/\xff", "prefix length '?' is not a decimal number"},
        {"2001:db8::/64x", "not a decimal number"},
        {"2001:db8::/6 4", "not a decimal number"},
        {"2001:db8::/0x40", "not a decimal number"},
        {"2001:db8::/64/64", "not a decimal number"},
        {"2001:db8::/064", "leading zero"},
        {"2001:db8::/00", "leading zero"},
        {"/64", "is not an IPv6 address"},
        {"2001:db8::%eth0/64", "is not an IPv6 address"},
        {"2001:db8:: /64", "is not an IPv6 address"},
        {" 2001:db8::/64", "is not an IPv6 address"},
        {"192.0.2.0/24", "is not an IPv6 address"},
        {"zzz/64", "'zzz' is not an IPv6 address"},
        {"2001:db8::1::/64", "is not an IPv6 address"},
    };
    struct e6_prefix p, orig;
    char err[128];

    memset(&orig, 0x5a, sizeof(orig));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        p = orig;
        err[0] = '\0';
        if (e6_prefix_parse(bad[i].in, false, &p, err, sizeof(err)))
            fail_msg("e6_prefix_parse accepted '%s'", bad[i].in);
        if (strstr(err, bad[i].err_part) == NULL)
            fail_msg("'%s': error '%s' lacks '%s'", bad[i].in, err, bad[i].err_part);
        assert_memory_equal(&p, &orig, sizeof(p));
        /* input is quoted without control characters: it goes to logs */
        for (const char *c = err; *c; c++) {
            if (*c < 0x20 || *c >= 0x7f)
                fail_msg("'%s': control character in error", bad[i].in);
        }
        /* strict mode rejects the same inputs */
        assert_false(e6_prefix_parse(bad[i].in, true, &p, NULL, 0));
    }
    assert_false(e6_prefix_parse(NULL, false, &p, err, sizeof(err)));
    assert_string_equal(err, "no prefix given");
    assert_false(e6_prefix_parse("2001:db8::/64", false, NULL, err, sizeof(err)));

    /* long junk is quoted, but cut short (60 characters) */
    char longin[300];
    memset(longin, 'z', sizeof(longin));
    longin[sizeof(longin) - 1] = '\0';
    assert_false(e6_prefix_parse(longin, false, &p, err, sizeof(err)));
    assert_int_equal(count_char(err, 'z'), 60);
    assert_non_null(strstr(err, "has no prefix length"));
    longin[150] = '/';
    assert_false(e6_prefix_parse(longin, false, &p, err, sizeof(err)));
    assert_int_equal(count_char(err, 'z'), 60);
    assert_non_null(strstr(err, "is not an IPv6 address"));
    longin[150] = 'z';
    memcpy(longin, "::/6", 4);
    assert_false(e6_prefix_parse(longin, false, &p, err, sizeof(err)));
    assert_int_equal(count_char(err, 'z'), 60 - 1);
    assert_non_null(strstr(err, "is not a decimal number"));
}

static void test_prefix_format(void **state)
{
    (void)state;
    struct e6_prefix p;
    char buf[E6_PREFIXSTRLEN];

    e6_prefix_make(&p, &(struct in6_addr){0}, 0);
    assert_string_equal(e6_prefix_format(&p, buf, sizeof(buf)), "::/0");
    p.addr = words(0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff);
    p.len = 128;
    assert_string_equal(e6_prefix_format(&p, buf, sizeof(buf)),
                        "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128");
    p.addr = words(0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0200);
    p.len = 120;
    assert_string_equal(e6_prefix_format(&p, buf, sizeof(buf)), "::ffff:192.0.2.0/120");
    p.addr = words(0x2001, 0x0db8, 0, 0, 0, 0, 0, 0);
    p.len = 9;
    assert_string_equal(e6_prefix_format(&p, buf, sizeof(buf)), "2001:db8::/9");
    assert_string_equal(e6_prefix_format(&p, buf, 6), "2001:");
}

/* Reference: bit i (0 = most significant of byte 0). */
static int bit(const struct in6_addr *a, unsigned i)
{
    return (a->s6_addr[i / 8] >> (7 - i % 8)) & 1;
}

static bool ref_match(const struct in6_addr *a, const struct in6_addr *b, unsigned len)
{
    for (unsigned i = 0; i < len; i++) {
        if (bit(a, i) != bit(b, i))
            return false;
    }
    return true;
}

static void flip_bit(struct in6_addr *a, unsigned i)
{
    a->s6_addr[i / 8] ^= (uint8_t)(0x80 >> (i % 8));
}

static void test_match_every_length(void **state)
{
    (void)state;
    struct in6_addr a, b;
    unsigned checked = 0;

    for (int round = 0; round < 24; round++) {
        random_addr(&a);
        if (round == 0)
            memset(&a, 0, sizeof(a));
        if (round == 1)
            memset(&a, 0xff, sizeof(a));
        if (round == 2)
            a = words(0x2001, 0x0db8, 0x9, 0x10, 0xc000, 0x0201, 0x64be, 0x4001);
        for (unsigned len = 0; len <= 128; len++) {
            assert_true(e6_addr_match(&a, &a, len));
            /* one differing bit at every position */
            for (unsigned k = 0; k < 128; k++) {
                b = a;
                flip_bit(&b, k);
                if (e6_addr_match(&a, &b, len) != (k >= len))
                    fail_msg("match len %u, bit %u differs: got %d", len, k, !(k >= len));
                assert_int_equal(e6_addr_match(&b, &a, len), k >= len);
                checked++;
            }
            /* random partners, and a partner sharing exactly len bits */
            for (int r = 0; r < 8; r++) {
                random_addr(&b);
                if (r >= 4) {
                    for (unsigned i = 0; i < len; i++) {
                        if (bit(&a, i) != bit(&b, i))
                            flip_bit(&b, i);
                    }
                }
                assert_int_equal(e6_addr_match(&a, &b, len), ref_match(&a, &b, len));
                checked++;
            }
        }
    }
    assert_true(checked > 24 * 129 * 128);

    /* lengths beyond 128 behave as 128 instead of reading past the address */
    b = a;
    flip_bit(&b, 127);
    assert_false(e6_addr_match(&a, &b, 129));
    assert_false(e6_addr_match(&a, &b, 1000));
    assert_true(e6_addr_match(&a, &a, 1000));
}

static void test_prefix_make_every_length(void **state)
{
    (void)state;
    struct in6_addr a;
    struct e6_prefix p, q;

    for (int round = 0; round < 16; round++) {
        random_addr(&a);
        if (round == 0)
            memset(&a, 0xff, sizeof(a));
        for (unsigned len = 0; len <= 128; len++) {
            e6_prefix_make(&p, &a, len);
            assert_int_equal(p.len, len);
            for (unsigned i = 0; i < 128; i++) {
                int want = i < len ? bit(&a, i) : 0;
                if (bit(&p.addr, i) != want)
                    fail_msg("make len %u bit %u: got %d", len, i, bit(&p.addr, i));
            }
            assert_true(e6_prefix_contains(&p, &a));
            assert_true(e6_prefix_equal(&p, &p));
            /* the same prefix made from a different host address */
            struct in6_addr h = a;
            if (len < 128) {
                flip_bit(&h, 127);
                e6_prefix_make(&q, &h, len);
                assert_true(e6_prefix_equal(&p, &q));
            }
            /* a neighbour prefix differs in its last bit */
            if (len > 0) {
                h = a;
                flip_bit(&h, len - 1);
                assert_false(e6_prefix_contains(&p, &h));
                e6_prefix_make(&q, &h, len);
                assert_false(e6_prefix_equal(&p, &q));
                assert_false(e6_prefix_covers(&p, &q));
                assert_false(e6_prefix_covers(&q, &p));
            }
            /* every shorter prefix of a covers p; no longer one does */
            for (unsigned l2 = 0; l2 <= 128; l2++) {
                e6_prefix_make(&q, &a, l2);
                assert_int_equal(e6_prefix_covers(&q, &p), l2 <= len);
                assert_int_equal(e6_prefix_equal(&q, &p), l2 == len);
            }
        }
    }
    e6_prefix_make(&p, &a, 200);
    assert_int_equal(p.len, 128);
    assert_memory_equal(&p.addr, &a, 16);
}

static void test_prefix_contains_covers(void **state)
{
    (void)state;
    struct e6_prefix p32, p64, p114, all;

    assert_true(e6_prefix_parse("2001:db8::/32", true, &p32, NULL, 0));
    assert_true(e6_prefix_parse("2001:db8:9:10::/64", true, &p64, NULL, 0));
    assert_true(e6_prefix_parse("2001:db8:9:10:c000:201:64be:4000/114", true, &p114, NULL, 0));
    assert_true(e6_prefix_parse("::/0", true, &all, NULL, 0));

    assert_true(e6_prefix_covers(&p32, &p64));
    assert_true(e6_prefix_covers(&p64, &p114));
    assert_true(e6_prefix_covers(&all, &p32));
    assert_true(e6_prefix_covers(&p64, &p64));
    assert_false(e6_prefix_covers(&p64, &p32));
    assert_false(e6_prefix_covers(&p114, &p64));

    struct in6_addr in = parse_ok("2001:db8:9:10:c000:201:64be:7fff");
    struct in6_addr out114 = parse_ok("2001:db8:9:10:c000:201:64be:8000");
    struct in6_addr out64 = parse_ok("2001:db8:9:11::1");
    assert_true(e6_prefix_contains(&p114, &in));
    assert_false(e6_prefix_contains(&p114, &out114));
    assert_true(e6_prefix_contains(&p64, &out114));
    assert_false(e6_prefix_contains(&p64, &out64));
    assert_true(e6_prefix_contains(&p32, &out64));
    assert_true(e6_prefix_contains(&all, &out64));

    /* same bits, different lengths: not equal */
    struct e6_prefix p63;
    assert_true(e6_prefix_parse("2001:db8:9:10::/63", true, &p63, NULL, 0));
    assert_false(e6_prefix_equal(&p63, &p64));
    assert_true(e6_prefix_covers(&p63, &p64));
}

/* ---- solicited-node, multicast MAC, EUI-64 ---- */

static void test_solicited_node(void **state)
{
    (void)state;
    struct in6_addr a = parse_ok("2001:db8::211:22ff:fe33:4455"), sn;
    static const uint8_t want[16] = {0xff, 0x02, 0, 0, 0,    0,    0,    0,
                                     0,    0,    0, 1, 0xff, 0x33, 0x44, 0x55};
    uint8_t mac[6];
    static const uint8_t want_mac[6] = {0x33, 0x33, 0xff, 0x33, 0x44, 0x55};
    char buf[E6_ADDRSTRLEN];

    e6_addr_solicited_node(&a, &sn);
    assert_memory_equal(sn.s6_addr, want, 16);
    assert_string_equal(e6_addr_format(&sn, buf, sizeof(buf)), "ff02::1:ff33:4455");
    assert_true(e6_addr_is_solicited_node(&sn));
    assert_true(e6_addr_is_multicast(&sn));
    e6_addr_multicast_mac(&sn, mac);
    assert_memory_equal(mac, want_mac, 6);

    /* only the low 24 bits count */
    struct in6_addr b = parse_ok("fe80::1:2:3:ab33:4455");
    e6_addr_solicited_node(&b, &b); /* in place */
    assert_memory_equal(b.s6_addr, want, 16);

    a = parse_ok("2001:db8::1");
    e6_addr_solicited_node(&a, &sn);
    assert_string_equal(e6_addr_format(&sn, buf, sizeof(buf)), "ff02::1:ff00:1");
    a = parse_ok("::");
    e6_addr_solicited_node(&a, &sn);
    assert_string_equal(e6_addr_format(&sn, buf, sizeof(buf)), "ff02::1:ff00:0");

    /* all-nodes and all-routers groups map to 33:33:00:00:00:0x */
    static const uint8_t m1[6] = {0x33, 0x33, 0, 0, 0, 1};
    static const uint8_t m2[6] = {0x33, 0x33, 0, 0, 0, 2};
    a = parse_ok("ff02::1");
    e6_addr_multicast_mac(&a, mac);
    assert_memory_equal(mac, m1, 6);
    a = parse_ok("ff02::2");
    e6_addr_multicast_mac(&a, mac);
    assert_memory_equal(mac, m2, 6);

    static const char *const yes[] = {"ff02::1:ff00:0", "ff02::1:ffff:ffff", "ff02::1:ff12:3456"};
    static const char *const no[] = {"ff02::1:fe00:0",       "ff02::1",
                                     "ff02::2:ff00:1",       "ff05::1:ff00:1",
                                     "ff02:0:0:1::1:ff00:1", "2001:db8::1:ff00:1",
                                     "ff02::1:7f00:1"};
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        struct in6_addr x = parse_ok(yes[i]);
        if (!e6_addr_is_solicited_node(&x))
            fail_msg("'%s' should be solicited-node", yes[i]);
    }
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
        struct in6_addr x = parse_ok(no[i]);
        if (e6_addr_is_solicited_node(&x))
            fail_msg("'%s' is not solicited-node", no[i]);
    }
}

static void test_eui64(void **state)
{
    (void)state;
    struct in6_addr a = parse_ok("fe80::");
    char buf[E6_ADDRSTRLEN];

    /* universal MAC: the U/L bit 0x02 becomes 1 */
    static const uint8_t mac1[6] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55};
    static const uint8_t want1[16] = {0xfe, 0x80, 0,    0,    0,    0,    0,    0,
                                      0x02, 0x11, 0x22, 0xff, 0xfe, 0x33, 0x44, 0x55};
    e6_addr_eui64(mac1, &a);
    assert_memory_equal(a.s6_addr, want1, 16);
    assert_string_equal(e6_addr_format(&a, buf, sizeof(buf)), "fe80::211:22ff:fe33:4455");

    /* locally administered MAC: the bit is cleared; prefix bytes untouched */
    a = parse_ok("2001:db8:9:10:ffff:ffff:ffff:ffff");
    static const uint8_t mac2[6] = {0x02, 0x00, 0x5e, 0x10, 0x00, 0x01};
    static const uint8_t want2[16] = {0x20, 0x01, 0x0d, 0xb8, 0x00, 0x09, 0x00, 0x10,
                                      0x00, 0x00, 0x5e, 0xff, 0xfe, 0x10, 0x00, 0x01};
    e6_addr_eui64(mac2, &a);
    assert_memory_equal(a.s6_addr, want2, 16);
    assert_string_equal(e6_addr_format(&a, buf, sizeof(buf)), "2001:db8:9:10:0:5eff:fe10:1");

    /* group bit and other bits of byte 0 are kept */
    static const uint8_t mac3[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    e6_addr_eui64(mac3, &a);
    assert_string_equal(e6_addr_format(&a, buf, sizeof(buf)), "2001:db8:9:10:fdff:ffff:feff:ffff");
    static const uint8_t mac4[6] = {0x52, 0x54, 0x00, 0xab, 0xcd, 0xef};
    e6_addr_eui64(mac4, &a);
    assert_string_equal(e6_addr_format(&a, buf, sizeof(buf)), "2001:db8:9:10:5054:ff:feab:cdef");
}

/* ---- scope predicates ---- */

struct pred_vec {
    const char *addr;
    bool unspec, mcast, ll, lo, ula, mapped;
    int scope;
};

static void test_predicates(void **state)
{
    (void)state;
    static const struct pred_vec v[] = {
        {"::", true, false, false, false, false, false, -1},
        {"::1", false, false, false, true, false, false, -1},
        {"::2", false, false, false, false, false, false, -1},
        {"1::1", false, false, false, false, false, false, -1},
        {"::ffff:127.0.0.1", false, false, false, false, false, true, -1},
        {"::ffff:192.0.2.1", false, false, false, false, false, true, -1},
        {"::fffe:192.0.2.1", false, false, false, false, false, false, -1},
        {"2001:db8::1", false, false, false, false, false, false, -1},
        {"fe80::1", false, false, true, false, false, false, -1},
        {"fe80::", false, false, true, false, false, false, -1},
        {"febf:ffff::1", false, false, true, false, false, false, -1},
        {"fe7f::1", false, false, false, false, false, false, -1},
        {"fec0::1", false, false, false, false, false, false, -1},
        {"fc00::1", false, false, false, false, true, false, -1},
        {"fd12:3456::1", false, false, false, false, true, false, -1},
        {"fbff::1", false, false, false, false, false, false, -1},
        {"fe00::1", false, false, false, false, false, false, -1},
        {"ff01::1", false, true, false, false, false, false, 1},
        {"ff02::1", false, true, false, false, false, false, 2},
        {"ff02::1:ff00:1", false, true, false, false, false, false, 2},
        {"ff12::1234", false, true, false, false, false, false, 2},
        {"ff05::1:3", false, true, false, false, false, false, 5},
        {"ff0e::1", false, true, false, false, false, false, 0xe},
        {"ff3e:40:2001:db8::1", false, true, false, false, false, false, 0xe},
        {"ff00::", false, true, false, false, false, false, 0},
    };

    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        struct in6_addr a = parse_ok(v[i].addr);
        if (e6_addr_is_unspecified(&a) != v[i].unspec || e6_addr_is_multicast(&a) != v[i].mcast ||
            e6_addr_is_linklocal(&a) != v[i].ll || e6_addr_is_loopback(&a) != v[i].lo ||
            e6_addr_is_ula(&a) != v[i].ula || e6_addr_is_v4mapped(&a) != v[i].mapped ||
            e6_addr_mcast_scope(&a) != v[i].scope)
            fail_msg("predicates wrong for '%s'", v[i].addr);
    }

    struct in6_addr a = parse_ok("2001:db8::1"), b = parse_ok("2001:db8::1");
    assert_true(e6_addr_equal(&a, &b));
    b.s6_addr[15] ^= 0x80;
    assert_false(e6_addr_equal(&a, &b));
    b = a;
    b.s6_addr[0] ^= 1;
    assert_false(e6_addr_equal(&a, &b));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_rfc5952),
        cmocka_unit_test(test_format_from_bytes),
        cmocka_unit_test(test_format_truncates),
        cmocka_unit_test(test_format_random),
        cmocka_unit_test(test_parse_accepts),
        cmocka_unit_test(test_parse_rejects),
        cmocka_unit_test(test_prefix_parse_ok),
        cmocka_unit_test(test_prefix_parse_strict_hint),
        cmocka_unit_test(test_prefix_parse_rejects),
        cmocka_unit_test(test_prefix_format),
        cmocka_unit_test(test_match_every_length),
        cmocka_unit_test(test_prefix_make_every_length),
        cmocka_unit_test(test_prefix_contains_covers),
        cmocka_unit_test(test_solicited_node),
        cmocka_unit_test(test_eui64),
        cmocka_unit_test(test_predicates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
