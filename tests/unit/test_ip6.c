/*
 * tests/unit/test_ip6: common/ip6 packet parsing (fixed header, extension
 * header walk, fragments, every reject reason), header building and the
 * RFC 8200 8.1 checksum. Packets are written out by hand; checksums were
 * computed by an independent implementation and confirmed by tshark.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>

#include <cmocka.h>

#include "common/ip6.h"

/* 2001:db8::1 and 2001:db8::2 */
#define ADDR_DB8_1 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01
#define ADDR_DB8_2 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02
/* fe80::2 and ff02::1:ff00:10 */
#define ADDR_LL_2  0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02
#define ADDR_SNM10 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff, 0, 0, 0x10

static const struct in6_addr db8_1 = {{{ADDR_DB8_1}}};
static const struct in6_addr db8_2 = {{{ADDR_DB8_2}}};
static const struct in6_addr ll_2 = {{{ADDR_LL_2}}};
static const struct in6_addr snm_10 = {{{ADDR_SNM10}}};

/*
 * ICMPv6 Echo Request, 13 bytes (odd), tclass 0xab, flow 0xcdef1, hop limit
 * 64, 2001:db8::1 -> 2001:db8::2, followed by 3 bytes of link padding.
 */
static const uint8_t echo_pkt[] = {
    0x6a,       0xbc,       0xde, 0xf1, /* version 6, tclass 0xab, flow 0xcdef1 */
    0x00,       0x0d,       0x3a, 0x40, /* payload length 13, next header 58, hop limit 64 */
    ADDR_DB8_1, ADDR_DB8_2, 0x80, 0x00, 0xe8, 0x46, /* echo request, checksum */
    0x12,       0x34,       0x00, 0x01,             /* identifier, sequence */
    'a',        'b',        'c',  'd',  'e',  0xee,
    0xee,       0xee, /* trailing bytes beyond Payload Length */
};

/* The Neighbor Solicitation of test_nd (fe80::2 -> ff02::1:ff00:10), 32 bytes */
#define NS_BODY                                                                                    \
    0x87, 0x00, 0x9c, 0x3f, 0, 0, 0, 0, 0x20, 0x01, 0x0d, 0xb8, 0, 0x01, 0, 0, 0, 0, 0, 0, 0, 0,   \
        0, 0x10, 0x01, 0x01, 0x00, 0x00, 0x5e, 0x00, 0x53, 0x02

/* NS behind a Hop-by-Hop header (Router Alert + PadN), as MLD-style senders do */
static const uint8_t hbh_ns_pkt[] = {
    0x60,      0,          0,    0,    0x00, 0x28, 0x00, 0xff, /* payload 40, next header HBH, hop
                                                                  255 */
    ADDR_LL_2, ADDR_SNM10, 0x3a, 0x00, 0x05, 0x02, 0x00, 0x00, 0x01,
    0x00, /* HBH: NH 58, len 0, RA, PadN */
    NS_BODY,
};

static void check_bytes_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i])
            fail_msg("byte %zu: got 0x%02x want 0x%02x", i, a[i], b[i]);
}

static void test_parse_echo(void **state)
{
    (void)state;
    struct e6_ip6_pkt p;
    assert_int_equal(e6_ip6_parse(echo_pkt, sizeof(echo_pkt), &p), E6_IP6_OK);
    assert_int_equal(p.hdr.tclass, 0xab);
    assert_int_equal(p.hdr.flow, 0xcdef1);
    assert_int_equal(p.hdr.hop_limit, 64);
    assert_int_equal(p.hdr.next_header, 58);
    assert_memory_equal(&p.hdr.src, &db8_1, 16);
    assert_memory_equal(&p.hdr.dst, &db8_2, 16);
    assert_int_equal(p.proto, 58);
    assert_int_equal(p.pkt_len, 53);
    assert_int_equal(p.payload_off, 40);
    assert_int_equal(p.payload_len, 13);
    assert_ptr_equal(p.payload, echo_pkt + 40);
    assert_int_equal(p.n_ext, 0);
    assert_false(p.fragment);
    assert_false(p.routed);
    /* the trailing padding is neither payload nor an error */
    assert_int_equal(e6_ip6_parse(echo_pkt, 53, &p), E6_IP6_OK);
    assert_int_equal(p.payload_len, 13);
}

static void test_reject_short_version_truncated(void **state)
{
    (void)state;
    struct e6_ip6_pkt p;
    uint8_t b[sizeof(echo_pkt)];
    assert_int_equal(e6_ip6_parse(echo_pkt, 0, &p), E6_IP6_R_SHORT);
    assert_int_equal(e6_ip6_parse(echo_pkt, 39, &p), E6_IP6_R_SHORT);
    /* one byte short of 40 + Payload Length */
    assert_int_equal(e6_ip6_parse(echo_pkt, 52, &p), E6_IP6_R_TRUNCATED);
    assert_int_equal(e6_ip6_parse(echo_pkt, 40, &p), E6_IP6_R_TRUNCATED);

    memcpy(b, echo_pkt, sizeof(b));
    b[0] = 0x4a;
    assert_int_equal(e6_ip6_parse(b, sizeof(b), &p), E6_IP6_R_VERSION);
    b[0] = 0x0a;
    assert_int_equal(e6_ip6_parse(b, sizeof(b), &p), E6_IP6_R_VERSION);

    memcpy(b, echo_pkt, sizeof(b));
    b[4] = 0xff; /* payload length 65293 */
    assert_int_equal(e6_ip6_parse(b, sizeof(b), &p), E6_IP6_R_TRUNCATED);
}

static void test_reject_src_multicast(void **state)
{
    (void)state;
    struct e6_ip6_pkt p;
    uint8_t b[sizeof(echo_pkt)];
    memcpy(b, echo_pkt, sizeof(b));
    b[8] = 0xff;
    b[9] = 0x02;
    assert_int_equal(e6_ip6_parse(b, sizeof(b), &p), E6_IP6_R_SRC_MULTICAST);
    /* multicast destination is fine */
    memcpy(b, echo_pkt, sizeof(b));
    b[24] = 0xff;
    assert_int_equal(e6_ip6_parse(b, sizeof(b), &p), E6_IP6_OK);
}

static void test_zero_payload(void **state)
{
    (void)state;
    struct e6_ip6_pkt p;
    uint8_t b[40];
    memcpy(b, echo_pkt, 40);
    b[4] = b[5] = 0;
    b[6] = 59; /* No Next Header */
    assert_int_equal(e6_ip6_parse(b, 40, &p), E6_IP6_OK);
    assert_int_equal(p.proto, 59);
    assert_int_equal(p.payload_len, 0);
    assert_int_equal(p.payload_off, 40);
    /* a Hop-by-Hop header announced with no payload to hold it */
    b[6] = 0;
    assert_int_equal(e6_ip6_parse(b, 40, &p), E6_IP6_R_EXT_TRUNCATED);
}

static void test_hbh_before_icmp(void **state)
{
    (void)state;
    struct e6_ip6_pkt p;
    assert_int_equal(e6_ip6_parse(hbh_ns_pkt, sizeof(hbh_ns_pkt), &p), E6_IP6_OK);
    assert_int_equal(p.hdr.next_header, 0);
    assert_int_equal(p.proto, 58);
    assert_int_equal(p.n_ext, 1);
    assert_int_equal(p.payload_off, 48);
    assert_int_equal(p.payload_len, 32);
    assert_int_equal(p.payload[0], 135);
    assert_false(p.fragment);
    /* the checksum covers the upper layer only, with the final destination */
    assert_true(e6_ip6_icmp6_cksum_ok(&ll_2, &snm_10, p.payload, p.payload_len));
}

/* HBH, Destination Options, Routing (Segments Left 0), Destination Options, then ICMPv6 */
static const uint8_t chain_pkt[] = {
    0x60,
    0,
    0,
    0,
    0x00,
    0x58,
    0x00,
    0xff, /* payload 88 = 8 + 16 + 24 + 8 + 32 */
    ADDR_LL_2,
    ADDR_SNM10,
    /* HBH: NH DstOpts, len 0, PadN(4) */
    60,
    0x00,
    0x01,
    0x04,
    0,
    0,
    0,
    0,
    /* Destination Options: NH Routing, len 1 (16 bytes), PadN(12) */
    43,
    0x01,
    0x01,
    0x0c,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    /* Routing: NH DstOpts, len 2, type 3 (RPL), Segments Left 0, 4 + 16 bytes */
    60,
    0x02,
    0x03,
    0x00,
    0,
    0,
    0,
    0,
    ADDR_DB8_1,
    /* Destination Options: NH ICMPv6, Pad1 x6 */
    58,
    0x00,
    0,
    0,
    0,
    0,
    0,
    0,
    NS_BODY,
};

static void test_ext_chain(void **state)
{
    (void)state;
    struct e6_ip6_pkt p;
    uint8_t b[sizeof(chain_pkt)];
    assert_int_equal(e6_ip6_parse(chain_pkt, sizeof(chain_pkt), &p), E6_IP6_OK);
    assert_int_equal(p.n_ext, 4);
    assert_int_equal(p.proto, 58);
    assert_int_equal(p.payload_off, 96);
    assert_int_equal(p.payload_len, 32);
    assert_false(p.routed);
    assert_true(e6_ip6_icmp6_cksum_ok(&ll_2, &snm_10, p.payload, p.payload_len));

    /* Segments Left 1: not for us yet */
    memcpy(b, chain_pkt, sizeof(b));
    b[40 + 8 + 16 + 3] = 1;
    assert_int_equal(e6_ip6_parse(b, sizeof(b), &p), E6_IP6_OK);
    assert_true(p.routed);

    /* the Routing header's length points past the payload */
    memcpy(b, chain_pkt, sizeof(b));
    b[40 + 8 + 16 + 1] = 12;
    assert_int_equal(e6_ip6_parse(b, sizeof(b), &p), E6_IP6_R_EXT_TRUNCATED);

    /* Hop-by-Hop anywhere but first */
    memcpy(b, chain_pkt, sizeof(b));
    b[40 + 8] = 0; /* DstOpts says the next one is HBH */
    assert_int_equal(e6_ip6_parse(b, sizeof(b), &p), E6_IP6_R_HBH_NOT_FIRST);

    /* cut the payload inside the last Destination Options header */
    memcpy(b, chain_pkt, sizeof(b));
    b[5] = 8 + 16 + 24 + 4;
    assert_int_equal(e6_ip6_parse(b, sizeof(b), &p), E6_IP6_R_EXT_TRUNCATED);
    /* ... and exactly at its end: an empty ICMPv6 payload */
    b[5] = 8 + 16 + 24 + 8;
    assert_int_equal(e6_ip6_parse(b, sizeof(b), &p), E6_IP6_OK);
    assert_int_equal(p.payload_len, 0);
    assert_int_equal(p.proto, 58);
}

static void test_ext_too_many(void **state)
{
    (void)state;
    /* HBH then N-1 Destination Options headers of 8 bytes, then No Next Header */
    uint8_t b[40 + 8 * (E6_IP6_MAX_EXT + 1)];
    struct e6_ip6_pkt p;
    for (unsigned n = 1; n <= E6_IP6_MAX_EXT + 1; n++) {
        memset(b, 0, sizeof(b));
        memcpy(b, echo_pkt, 40);
        b[4] = 0;
        b[5] = (uint8_t)(8 * n);
        b[6] = 0;
        for (unsigned i = 0; i < n; i++)
            b[40 + 8 * i] = i + 1 < n ? 60 : 59;
        enum e6_ip6_reject r = e6_ip6_parse(b, 40 + 8 * n, &p);
        if (n <= E6_IP6_MAX_EXT) {
            assert_int_equal(r, E6_IP6_OK);
            assert_int_equal(p.n_ext, n);
            assert_int_equal(p.proto, 59);
        } else {
            assert_int_equal(r, E6_IP6_R_EXT_TOO_MANY);
        }
    }
}

static void test_fragment(void **state)
{
    (void)state;
    struct e6_ip6_pkt p;
    /* first fragment (offset 0, M 1) of an NS */
    static const uint8_t first[] = {
        0x60,       0,  0,    0,    0x00, 0x28, 44,   0xff, ADDR_LL_2,
        ADDR_SNM10, 58, 0x00, 0x00, 0x01, 0xde, 0xad, 0xbe, 0xef, /* NH 58, offset 0, M, id */
        NS_BODY,
    };
    assert_int_equal(e6_ip6_parse(first, sizeof(first), &p), E6_IP6_OK);
    assert_true(p.fragment);
    assert_true(p.frag_more);
    assert_int_equal(p.frag_offset, 0);
    assert_int_equal(p.frag_id, 0xdeadbeef);
    assert_int_equal(p.proto, 58);
    assert_int_equal(p.payload_off, 48);
    assert_int_equal(p.payload_len, 32);

    /* atomic fragment (RFC 6946): offset 0, M 0 is still a fragment header */
    uint8_t b[sizeof(first)];
    memcpy(b, first, sizeof(b));
    b[43] = 0;
    assert_int_equal(e6_ip6_parse(b, sizeof(b), &p), E6_IP6_OK);
    assert_true(p.fragment);
    assert_false(p.frag_more);

    /*
     * A later fragment (offset 185 * 8) whose next header is DstOpts: the
     * walk must stop, because what follows is data, not a header.
     */
    static const uint8_t later[] = {
        0x60, 0,    0,    0,    0x00, 0x10, 44, 0xff, ADDR_LL_2, ADDR_SNM10,
        60,   0x00, 0x05, 0xc8, 0,    0,    0,  7, /* NH DstOpts, offset 185, M 0, id 7 */
        0,    0xff, 0,    0,    0,    0,    0,  0, /* would be a 2 KB header if walked */
    };
    assert_int_equal(e6_ip6_parse(later, sizeof(later), &p), E6_IP6_OK);
    assert_true(p.fragment);
    assert_int_equal(p.frag_offset, 185);
    assert_false(p.frag_more);
    assert_int_equal(p.frag_id, 7);
    assert_int_equal(p.proto, 60);
    assert_int_equal(p.n_ext, 1);
    assert_int_equal(p.payload_off, 48);
    assert_int_equal(p.payload_len, 8);

    /* a fragment header cut short */
    memcpy(b, first, sizeof(b));
    b[5] = 7;
    assert_int_equal(e6_ip6_parse(b, 47, &p), E6_IP6_R_EXT_TRUNCATED);
}

static void test_reject_names(void **state)
{
    (void)state;
    for (int i = 0; i < E6_IP6_R__COUNT; i++) {
        const char *n = e6_ip6_reject_name((enum e6_ip6_reject)i);
        assert_non_null(n);
        assert_true(strlen(n) > 0);
        assert_string_not_equal(n, "unknown");
        for (int j = 0; j < i; j++)
            assert_string_not_equal(n, e6_ip6_reject_name((enum e6_ip6_reject)j));
    }
    assert_string_equal(e6_ip6_reject_name(E6_IP6_R__COUNT), "unknown");
    assert_string_equal(e6_ip6_reject_name((enum e6_ip6_reject) - 1), "unknown");
    assert_string_equal(e6_ip6_reject_name(E6_IP6_R_HBH_NOT_FIRST), "hbh_not_first");
}

static void test_write_hdr(void **state)
{
    (void)state;
    struct e6_ip6_hdr h = {.src = db8_1,
                           .dst = db8_2,
                           .flow = 0xcdef1,
                           .tclass = 0xab,
                           .hop_limit = 64,
                           .next_header = 58};
    uint8_t b[64];
    memset(b, 0x55, sizeof(b));
    assert_int_equal(e6_ip6_write_hdr(b, sizeof(b), &h, 13), 0);
    check_bytes_equal(b, echo_pkt, 40);
    assert_int_equal(b[40], 0x55);

    memset(b, 0x55, sizeof(b));
    assert_int_equal(e6_ip6_write_hdr(b, 39, &h, 13), -ENOSPC);
    assert_int_equal(b[0], 0x55);
    assert_int_equal(e6_ip6_write_hdr(b, 40, &h, 65536), -EMSGSIZE);
    assert_int_equal(e6_ip6_write_hdr(b, 40, &h, 65535), 0);
    assert_int_equal(b[4], 0xff);
    assert_int_equal(b[5], 0xff);
    h.flow = 0x100000;
    assert_int_equal(e6_ip6_write_hdr(b, 40, &h, 0), -EINVAL);

    /* round trip through the parser at the bit edges of tclass and flow */
    static const struct {
        uint8_t tclass;
        uint32_t flow;
    } edge[] = {{0, 0}, {0xff, 0xfffff}, {0x01, 0x80000}, {0x80, 0x00001}, {0x0f, 0xf0000}};
    for (size_t i = 0; i < sizeof(edge) / sizeof(edge[0]); i++) {
        struct e6_ip6_pkt p;
        h.tclass = edge[i].tclass;
        h.flow = edge[i].flow;
        h.next_header = 59;
        h.hop_limit = (uint8_t)(i * 50);
        assert_int_equal(e6_ip6_write_hdr(b, sizeof(b), &h, 0), 0);
        assert_int_equal(e6_ip6_parse(b, 40, &p), E6_IP6_OK);
        assert_int_equal(p.hdr.tclass, edge[i].tclass);
        assert_int_equal(p.hdr.flow, edge[i].flow);
        assert_int_equal(p.hdr.hop_limit, h.hop_limit);
        assert_int_equal(p.proto, 59);
        assert_memory_equal(&p.hdr.src, &db8_1, 16);
        assert_memory_equal(&p.hdr.dst, &db8_2, 16);
    }
}

static void test_cksum_golden_odd(void **state)
{
    (void)state;
    const uint8_t *icmp = echo_pkt + 40;
    /* stored value verifies; computed from scratch it is 0xe846 */
    assert_true(e6_ip6_icmp6_cksum_ok(&db8_1, &db8_2, icmp, 13));
    uint8_t b[14];
    memcpy(b, icmp, 13);
    b[2] = b[3] = 0;
    assert_int_equal(e6_ip6_cksum(&db8_1, &db8_2, 58, b, 13), 0xe846);
    /*
     * the odd byte is padded with zero for summing but the length in the
     * pseudo-header stays 13: with a real 14th zero byte the sum differs by one
     */
    b[13] = 0;
    assert_int_equal(e6_ip6_cksum(&db8_1, &db8_2, 58, b, 14), 0xe845);

    e6_ip6_icmp6_cksum_set(&db8_1, &db8_2, b, 13);
    assert_int_equal(b[2], 0xe8);
    assert_int_equal(b[3], 0x46);

    /* any single bit flip is caught, and so is another source address */
    for (size_t i = 0; i < 13 * 8; i++) {
        b[i / 8] ^= (uint8_t)(1u << (i % 8));
        assert_false(e6_ip6_icmp6_cksum_ok(&db8_1, &db8_2, b, 13));
        b[i / 8] ^= (uint8_t)(1u << (i % 8));
    }
    assert_true(e6_ip6_icmp6_cksum_ok(&db8_1, &db8_2, b, 13));
    assert_false(e6_ip6_icmp6_cksum_ok(&ll_2, &db8_2, b, 13));
    assert_false(e6_ip6_icmp6_cksum_ok(&db8_1, &db8_2, b, 12));
    /* the pseudo-header protocol is part of the sum */
    assert_int_not_equal(e6_ip6_cksum(&db8_1, &db8_2, 17, b, 13), 0);

    /* fewer than 4 bytes cannot hold a checksum: never valid, never written */
    assert_false(e6_ip6_icmp6_cksum_ok(&db8_1, &db8_2, b, 3));
    uint8_t tiny[3] = {1, 2, 3};
    e6_ip6_icmp6_cksum_set(&db8_1, &db8_2, tiny, 3);
    assert_int_equal(tiny[2], 3);
}

static void test_cksum_carries(void **state)
{
    (void)state;
    /* long runs of 0xff force many end-around carries; values from the oracle */
    static uint8_t ff[70001];
    memset(ff, 0xff, sizeof(ff));
    assert_int_equal(e6_ip6_cksum(&db8_1, &db8_2, 58, ff, 1001), 0xa166);
    /* above 65535 the 32-bit upper-layer length has a nonzero high half */
    assert_int_equal(e6_ip6_cksum(&db8_1, &db8_2, 58, ff, 70001), 0x93dd);
    /* a message whose checksum comes out 0 is stored as 0 and verifies */
    uint8_t m[8] = {0x80, 0, 0, 0, 0, 0, 0, 0};
    uint16_t c = e6_ip6_cksum(&db8_1, &db8_2, 58, m, 8);
    /* put the complement of the sum into the data so the total is 0xffff */
    m[4] = (uint8_t)(c >> 8);
    m[5] = (uint8_t)c;
    assert_int_equal(e6_ip6_cksum(&db8_1, &db8_2, 58, m, 8), 0);
    e6_ip6_icmp6_cksum_set(&db8_1, &db8_2, m, 8);
    assert_int_equal(m[2], 0);
    assert_int_equal(m[3], 0);
    assert_true(e6_ip6_icmp6_cksum_ok(&db8_1, &db8_2, m, 8));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_echo),
        cmocka_unit_test(test_reject_short_version_truncated),
        cmocka_unit_test(test_reject_src_multicast),
        cmocka_unit_test(test_zero_payload),
        cmocka_unit_test(test_hbh_before_icmp),
        cmocka_unit_test(test_ext_chain),
        cmocka_unit_test(test_ext_too_many),
        cmocka_unit_test(test_fragment),
        cmocka_unit_test(test_reject_names),
        cmocka_unit_test(test_write_hdr),
        cmocka_unit_test(test_cksum_golden_odd),
        cmocka_unit_test(test_cksum_carries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
