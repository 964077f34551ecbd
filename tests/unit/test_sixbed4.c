/*
 * tests/unit/test_sixbed4: the 6bed4 address codec against vectors written
 * out byte by byte from the layout in common/sixbed4.h (the reference
 * 6bed4router's addr_6bed4()), plus round trips and every rejection.
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
#include "common/sixbed4.h"

static struct in_addr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    struct in_addr r;
    uint8_t *p = (uint8_t *)&r.s_addr;
    p[0] = a;
    p[1] = b;
    p[2] = c;
    p[3] = d;
    return r;
}

/* 2001:db8:9:10::/64, written as bytes */
static const struct in6_addr prefix = {
    .s6_addr = {0x20, 0x01, 0x0d, 0xb8, 0x00, 0x09, 0x00, 0x10, 0, 0, 0, 0, 0, 0, 0, 0}};

struct vec {
    uint8_t ip[4];
    uint16_t port;
    uint16_t lanip;
    uint8_t want[16];
    const char *text;
};

/*
 * Each vector: byte 8 = ip[0] & 0xfc, bytes 9-11 = ip[1..3], bytes 12-13 =
 * port big-endian, byte 14 = (ip[0] & 3) << 6 | lanip >> 8, byte 15 = lanip.
 */
static const struct vec vecs[] = {
    /* 192 = 0xc0, low bits 00; default port 25790 = 0x64be; lanip 0 */
    {{192, 0, 2, 1},
     25790,
     0,
     {0x20, 0x01, 0x0d, 0xb8, 0x00, 0x09, 0x00, 0x10, 0xc0, 0x00, 0x02, 0x01, 0x64, 0xbe, 0x00,
      0x00},
     "2001:db8:9:10:c000:201:64be:0"},
    /* 193 = 0xc1, low bits 01 -> byte 14 bits 0x40; lanip 1 */
    {{193, 0, 2, 1},
     25790,
     1,
     {0x20, 0x01, 0x0d, 0xb8, 0x00, 0x09, 0x00, 0x10, 0xc0, 0x00, 0x02, 0x01, 0x64, 0xbe, 0x40,
      0x01},
     "2001:db8:9:10:c000:201:64be:4001"},
    /* 194 = 0xc2, low bits 10 -> 0x80; port 1; lanip 0x3fff */
    {{194, 51, 100, 7},
     1,
     0x3fff,
     {0x20, 0x01, 0x0d, 0xb8, 0x00, 0x09, 0x00, 0x10, 0xc0, 0x33, 0x64, 0x07, 0x00, 0x01, 0xbf,
      0xff},
     "2001:db8:9:10:c033:6407:1:bfff"},
    /* 195 = 0xc3, low bits 11 -> 0xc0; port 65535; lanip 0x123 */
    {{195, 0, 113, 255},
     65535,
     0x0123,
     {0x20, 0x01, 0x0d, 0xb8, 0x00, 0x09, 0x00, 0x10, 0xc0, 0x00, 0x71, 0xff, 0xff, 0xff, 0xc1,
      0x23},
     "2001:db8:9:10:c000:71ff:ffff:c123"},
    /* 203 = 0xcb = 110010 11 -> byte 8 0xc8, 0xc0 in byte 14; lanip 2 */
    {{203, 0, 113, 9},
     25790,
     2,
     {0x20, 0x01, 0x0d, 0xb8, 0x00, 0x09, 0x00, 0x10, 0xc8, 0x00, 0x71, 0x09, 0x64, 0xbe, 0xc0,
      0x02},
     "2001:db8:9:10:c800:7109:64be:c002"},
    /* 198 = 0xc6 = 110001 10 -> byte 8 0xc4, 0x80; port 0x1234; lanip 0x100 */
    {{198, 51, 100, 200},
     0x1234,
     0x0100,
     {0x20, 0x01, 0x0d, 0xb8, 0x00, 0x09, 0x00, 0x10, 0xc4, 0x33, 0x64, 0xc8, 0x12, 0x34, 0x81,
      0x00},
     "2001:db8:9:10:c433:64c8:1234:8100"},
    /* port 0x0100: the high byte alone makes word 6 non-zero */
    {{192, 0, 2, 255},
     0x0100,
     0x3f00,
     {0x20, 0x01, 0x0d, 0xb8, 0x00, 0x09, 0x00, 0x10, 0xc0, 0x00, 0x02, 0xff, 0x01, 0x00, 0x3f,
      0x00},
     "2001:db8:9:10:c000:2ff:100:3f00"},
};

#define NVECS (sizeof(vecs) / sizeof(vecs[0]))

static void test_encode_vectors(void **state)
{
    (void)state;
    char buf[E6_ADDRSTRLEN];

    for (size_t i = 0; i < NVECS; i++) {
        const struct vec *v = &vecs[i];
        struct in6_addr out;
        memset(&out, 0xee, sizeof(out));
        assert_true(e6_6bed4_encode(&prefix, v4(v->ip[0], v->ip[1], v->ip[2], v->ip[3]), v->port,
                                    v->lanip, &out));
        if (memcmp(out.s6_addr, v->want, 16) != 0)
            fail_msg("vector %zu: got %s", i, e6_addr_format(&out, buf, sizeof(buf)));
        assert_string_equal(e6_addr_format(&out, buf, sizeof(buf)), v->text);
        /* the IID's u (0x02) and g (0x01) bits are always zero */
        assert_int_equal(out.s6_addr[8] & 0x03, 0);
    }
}

static void test_encode_ignores_prefix_low_half(void **state)
{
    (void)state;
    struct in6_addr junk = prefix, out;

    memset(junk.s6_addr + 8, 0xff, 8);
    assert_true(e6_6bed4_encode(&junk, v4(192, 0, 2, 1), 25790, 0, &out));
    assert_memory_equal(out.s6_addr, vecs[0].want, 16);
}

static void test_encode_rejects(void **state)
{
    (void)state;
    struct in6_addr out, orig;

    memset(&orig, 0xee, sizeof(orig));
    out = orig;
    assert_false(e6_6bed4_encode(&prefix, v4(192, 0, 2, 1), 25790, 0x4000, &out));
    assert_memory_equal(&out, &orig, sizeof(out));
    assert_false(e6_6bed4_encode(&prefix, v4(192, 0, 2, 1), 25790, 0xffff, &out));
    assert_false(e6_6bed4_encode(&prefix, v4(192, 0, 2, 1), 25790, 0x8000, &out));
    assert_false(e6_6bed4_encode(&prefix, v4(192, 0, 2, 1), 0, 0, &out));
    assert_false(e6_6bed4_encode(&prefix, v4(192, 0, 2, 1), 0, 1, &out));
    assert_memory_equal(&out, &orig, sizeof(out));
    /* the limits themselves are fine */
    assert_true(e6_6bed4_encode(&prefix, v4(192, 0, 2, 1), 1, E6_6BED4_LANIP_MAX, &out));
    assert_true(e6_6bed4_encode(&prefix, v4(192, 0, 2, 1), 65535, 0, &out));
}

static void test_decode_vectors(void **state)
{
    (void)state;

    for (size_t i = 0; i < NVECS; i++) {
        const struct vec *v = &vecs[i];
        struct in6_addr a;
        struct in_addr ip;
        uint16_t port, lanip;

        memcpy(a.s6_addr, v->want, 16);
        assert_true(e6_6bed4_decode(&a, &ip, &port, &lanip));
        assert_memory_equal(&ip.s_addr, v->ip, 4);
        assert_int_equal(port, v->port);
        assert_int_equal(lanip, v->lanip);
        assert_true(e6_6bed4_is_6bed4(&a));
        assert_true(e6_6bed4_in_prefix(&prefix, &a));
        assert_false(e6_6bed4_is_local(&prefix, &a));

        /* NULL outputs are allowed */
        assert_true(e6_6bed4_decode(&a, NULL, NULL, NULL));
        port = 0;
        assert_true(e6_6bed4_decode(&a, NULL, &port, NULL));
        assert_int_equal(port, v->port);
    }
}

static void test_port_zero_is_not_6bed4(void **state)
{
    (void)state;
    /* 2001:db8:9:10:c000:201:0:1 -- everything else set, word 6 zero */
    struct in6_addr a = {.s6_addr = {0x20, 0x01, 0x0d, 0xb8, 0x00, 0x09, 0x00, 0x10, 0xc0, 0x00,
                                     0x02, 0x01, 0x00, 0x00, 0x00, 0x01}};
    struct in_addr ip = {.s_addr = 0x12345678};
    uint16_t port = 77, lanip = 88;

    assert_false(e6_6bed4_is_6bed4(&a));
    assert_false(e6_6bed4_decode(&a, &ip, &port, &lanip));
    assert_int_equal(ip.s_addr, 0x12345678); /* untouched */
    assert_int_equal(port, 77);
    assert_int_equal(lanip, 88);
    assert_false(e6_6bed4_in_prefix(&prefix, &a));
    assert_true(e6_6bed4_is_local(&prefix, &a));
    assert_false(e6_6bed4_matches_endpoint(&a, v4(192, 0, 2, 1), 0));

    /* 2001:db8:9:10::1 and the /64's subnet-router anycast are local */
    struct in6_addr l = prefix;
    assert_true(e6_6bed4_is_local(&prefix, &l));
    l.s6_addr[15] = 1;
    assert_true(e6_6bed4_is_local(&prefix, &l));
    assert_false(e6_6bed4_is_6bed4(&l));

    /* only word 6 decides: one bit in either byte makes it 6bed4 form */
    a.s6_addr[13] = 0x01;
    assert_true(e6_6bed4_is_6bed4(&a));
    a.s6_addr[13] = 0;
    a.s6_addr[12] = 0x80;
    assert_true(e6_6bed4_is_6bed4(&a));
    assert_false(e6_6bed4_is_local(&prefix, &a));
}

static void test_in_prefix(void **state)
{
    (void)state;
    struct in6_addr a, other = prefix;

    assert_true(e6_6bed4_encode(&prefix, v4(192, 0, 2, 1), 25790, 1, &a));
    assert_true(e6_6bed4_in_prefix(&prefix, &a));

    /* 2001:db8:9:11::/64: the address form holds but the /64 is wrong */
    other.s6_addr[7] = 0x11;
    assert_true(e6_6bed4_is_6bed4(&a));
    assert_false(e6_6bed4_in_prefix(&other, &a));
    assert_false(e6_6bed4_is_local(&other, &a));
    /* a differing bit anywhere in the top 64 leaves the /64 */
    for (unsigned i = 0; i < 64; i++) {
        struct in6_addr b = a;
        b.s6_addr[i / 8] ^= (uint8_t)(0x80 >> (i % 8));
        assert_false(e6_6bed4_in_prefix(&prefix, &b));
    }
    /* bytes 8..15 of the prefix argument do not matter */
    struct in6_addr junk = prefix;
    memset(junk.s6_addr + 8, 0x5a, 8);
    assert_true(e6_6bed4_in_prefix(&junk, &a));
}

static void test_peer_prefix(void **state)
{
    (void)state;
    struct e6_prefix p, orig;
    char buf[E6_PREFIXSTRLEN];
    /* 193.0.2.1:25790 -> ...:c000:201:64be:4000/114 */
    static const uint8_t want[16] = {0x20, 0x01, 0x0d, 0xb8, 0x00, 0x09, 0x00, 0x10,
                                     0xc0, 0x00, 0x02, 0x01, 0x64, 0xbe, 0x40, 0x00};

    assert_true(e6_6bed4_peer_prefix(&prefix, v4(193, 0, 2, 1), 25790, &p));
    assert_memory_equal(p.addr.s6_addr, want, 16);
    assert_int_equal(p.len, 114);
    assert_string_equal(e6_prefix_format(&p, buf, sizeof(buf)),
                        "2001:db8:9:10:c000:201:64be:4000/114");

    /* every lanip of that peer lies inside, and decodes to the peer */
    for (unsigned lanip = 0; lanip <= E6_6BED4_LANIP_MAX; lanip++) {
        struct in6_addr a;
        assert_true(e6_6bed4_encode(&prefix, v4(193, 0, 2, 1), 25790, (uint16_t)lanip, &a));
        assert_true(e6_prefix_contains(&p, &a));
        assert_true(e6_6bed4_matches_endpoint(&a, v4(193, 0, 2, 1), 25790));
    }
    /* the same IPv4 with other low bits of the first octet is outside */
    static const uint8_t firsts[3] = {192, 194, 195};
    for (int i = 0; i < 3; i++) {
        struct in6_addr a;
        assert_true(e6_6bed4_encode(&prefix, v4(firsts[i], 0, 2, 1), 25790, 1, &a));
        assert_false(e6_prefix_contains(&p, &a));
    }

    /* 195.x (bits 11): the two IPv4 bits fill the top of byte 14 */
    assert_true(e6_6bed4_peer_prefix(&prefix, v4(195, 0, 113, 255), 65535, &p));
    assert_string_equal(e6_prefix_format(&p, buf, sizeof(buf)),
                        "2001:db8:9:10:c000:71ff:ffff:c000/114");

    memset(&orig, 0x5a, sizeof(orig));
    p = orig;
    assert_false(e6_6bed4_peer_prefix(&prefix, v4(193, 0, 2, 1), 0, &p));
    assert_memory_equal(&p, &orig, sizeof(p));
}

static void test_matches_endpoint(void **state)
{
    (void)state;
    struct in6_addr a;

    assert_true(e6_6bed4_encode(&prefix, v4(203, 0, 113, 9), 25790, 5, &a));
    assert_true(e6_6bed4_matches_endpoint(&a, v4(203, 0, 113, 9), 25790));
    /* a spoofer differing in any part of IPv4:port is caught */
    assert_false(e6_6bed4_matches_endpoint(&a, v4(203, 0, 113, 9), 25791));
    assert_false(e6_6bed4_matches_endpoint(&a, v4(203, 0, 113, 9), 0xbe64)); /* byte-swapped */
    assert_false(e6_6bed4_matches_endpoint(&a, v4(203, 0, 113, 8), 25790));
    assert_false(e6_6bed4_matches_endpoint(&a, v4(198, 51, 100, 9), 25790));
    /* differing only in the two low bits of the first octet (moved to byte 14) */
    assert_false(e6_6bed4_matches_endpoint(&a, v4(200, 0, 113, 9), 25790));
    assert_false(e6_6bed4_matches_endpoint(&a, v4(201, 0, 113, 9), 25790));
    assert_false(e6_6bed4_matches_endpoint(&a, v4(202, 0, 113, 9), 25790));
    /* the /64 is not part of the check */
    a.s6_addr[7] = 0x11;
    assert_true(e6_6bed4_matches_endpoint(&a, v4(203, 0, 113, 9), 25790));
}

static void test_round_trip(void **state)
{
    (void)state;
    static const uint16_t ports[] = {1, 2, 0xff, 0x100, 0x7fff, 0x8000, 25790, 49152, 65534, 65535};
    static const uint16_t lanips[] = {0, 1, 2, 0xff, 0x100, 0x1fff, 0x2000, 0x3ffe, 0x3fff};
    unsigned n = 0;

    /* every first octet, so all four values of its low two bits */
    for (unsigned o = 0; o < 256; o++) {
        for (size_t pi = 0; pi < sizeof(ports) / sizeof(ports[0]); pi++) {
            for (size_t li = 0; li < sizeof(lanips) / sizeof(lanips[0]); li++) {
                struct in_addr ip = v4((uint8_t)o, (uint8_t)(o * 7), 2, (uint8_t)(255 - o)), got;
                struct in6_addr a;
                uint16_t port, lanip;

                assert_true(e6_6bed4_encode(&prefix, ip, ports[pi], lanips[li], &a));
                assert_memory_equal(a.s6_addr, prefix.s6_addr, 8);
                assert_int_equal(a.s6_addr[8] & 0x03, 0);
                assert_true(e6_6bed4_decode(&a, &got, &port, &lanip));
                assert_int_equal(got.s_addr, ip.s_addr);
                assert_int_equal(port, ports[pi]);
                assert_int_equal(lanip, lanips[li]);
                assert_true(e6_6bed4_in_prefix(&prefix, &a));
                assert_true(e6_6bed4_matches_endpoint(&a, ip, ports[pi]));
                n++;
            }
        }
    }
    assert_int_equal(n, 256 * 10 * 9);

    /* decode then encode gives back any address whose word 6 is non-zero */
    for (unsigned i = 0; i < 4096; i++) {
        struct in6_addr a, b;
        struct in_addr ip;
        uint16_t port, lanip;
        for (int k = 0; k < 16; k++)
            a.s6_addr[k] = (uint8_t)(i * 2654435761u >> (k % 24));
        a.s6_addr[12] |= 0x01;
        a.s6_addr[8] &= 0xfc;
        assert_true(e6_6bed4_decode(&a, &ip, &port, &lanip));
        assert_true(e6_6bed4_encode(&a, ip, port, lanip, &b));
        assert_memory_equal(&a, &b, 16);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_vectors),
        cmocka_unit_test(test_encode_ignores_prefix_low_half),
        cmocka_unit_test(test_encode_rejects),
        cmocka_unit_test(test_decode_vectors),
        cmocka_unit_test(test_port_zero_is_not_6bed4),
        cmocka_unit_test(test_in_prefix),
        cmocka_unit_test(test_peer_prefix),
        cmocka_unit_test(test_matches_endpoint),
        cmocka_unit_test(test_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
