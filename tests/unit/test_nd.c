/*
 * tests/unit/test_nd: common/nd. Golden bytes for every message and option,
 * written out by hand from the RFC formats (checksums from an independent
 * implementation; the golden messages decode cleanly in tshark), every
 * reject reason and every malformed-option reason (the last two tests check
 * that each one was produced), build -> parse round trips, builder bounds.
 *
 * With E6_ND_DUMP_DIR set, the golden messages are also written there as
 * full IPv6 packets: that is how tests/fuzz/corpus_nd was seeded. With
 * E6_ND_PCAP set, they go into that pcap file (tests/data/nd_tshark.sh).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>

#include <cmocka.h>

#include "common/ip6.h"
#include "common/nd.h"

/* ---- addresses (documentation ranges; MACs from 00:00:5e:00:53:00/24, RFC 7042) ---- */

#define A16(...)                                                                                   \
    {                                                                                              \
        {                                                                                          \
            {                                                                                      \
                __VA_ARGS__                                                                        \
            }                                                                                      \
        }                                                                                          \
    }
static const struct in6_addr unspec = A16(0);
static const struct in6_addr ll_1 = A16(0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1);
static const struct in6_addr ll_2 = A16(0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2);
static const struct in6_addr ll_3 = A16(0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3);
static const struct in6_addr all_nodes = A16(0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1);
static const struct in6_addr all_routers =
    A16(0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2);
/* solicited-node group of 2001:db8:1::10 */
static const struct in6_addr snm_10 =
    A16(0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0, 0, 0x10);
static const struct in6_addr db8_1_10 =
    A16(0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10);
static const struct in6_addr db8_1_2 =
    A16(0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2);
static const struct in6_addr db8_1_53 =
    A16(0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53);
static const struct in6_addr db8_9_1 =
    A16(0x20, 0x01, 0x0d, 0xb8, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1);
static const uint8_t mac_1[6] = {0x00, 0x00, 0x5e, 0x00, 0x53, 0x01};
static const uint8_t mac_2[6] = {0x00, 0x00, 0x5e, 0x00, 0x53, 0x02};

/* ---- golden messages ---------------------------------------------------- */

/* clang-format off */

/* RS fe80::2 -> ff02::2 */
static const uint8_t g_rs[] = {
    0x85, 0x00, 0xcb, 0x29,                         /* type 133, code, checksum */
    0x00, 0x00, 0x00, 0x00,                         /* reserved */
    0x01, 0x01, 0x00, 0x00, 0x5e, 0x00, 0x53, 0x02, /* SLLA */
};

/* RA fe80::1 -> ff02::1 with one of every RA option */
static const uint8_t g_ra[] = {
    0x86, 0x00, 0x98, 0xbd,                         /* type 134, code, checksum */
    0x40, 0xc8, 0x07, 0x08,                         /* hop 64, M|O|Prf high, lifetime 1800 */
    0x00, 0x00, 0x75, 0x30,                         /* reachable 30000 ms */
    0x00, 0x00, 0x03, 0xe8,                         /* retrans 1000 ms */
    0x01, 0x01, 0x00, 0x00, 0x5e, 0x00, 0x53, 0x01, /* SLLA 00:00:5e:00:53:01 */
    0x05, 0x01, 0x00, 0x00, 0x00, 0x00, 0x05, 0xc8, /* MTU 1480 */
    0x03, 0x04, 0x40, 0xc0,                         /* PIO /64 L|A */
    0x00, 0x01, 0x51, 0x80,                         /*   valid 86400 */
    0x00, 0x00, 0x38, 0x40,                         /*   preferred 14400 */
    0x00, 0x00, 0x00, 0x00,                         /*   reserved */
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00, /*   2001:db8:1:: */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x18, 0x02, 0x30, 0x08,                         /* RIO /48 Prf high */
    0x00, 0x00, 0x0e, 0x10,                         /*   lifetime 3600 */
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x02, 0x00, 0x00, /*   2001:db8:2:: */
    0x19, 0x03, 0x00, 0x00,                         /* RDNSS */
    0x00, 0x00, 0x07, 0x08,                         /*   lifetime 1800 */
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00, /*   2001:db8:1::53 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x53,
    0x1f, 0x05, 0x00, 0x00,                         /* DNSSL */
    0x00, 0x00, 0x07, 0x08,                         /*   lifetime 1800 */
    0x07, 'e', 'x', 'a', 'm', 'p', 'l', 'e',        /*   example.com */
    0x03, 'c', 'o', 'm', 0x00,
    0x03, 'l', 'a', 'b',                            /*   lab.example.org */
    0x07, 'e', 'x', 'a', 'm', 'p', 'l', 'e',
    0x03, 'o', 'r', 'g', 0x00,
    0x00, 0x00,                                     /*   padding */
    0x26, 0x02, 0x07, 0x08,                         /* PREF64 lifetime 225*8, PLC 0 (/96) */
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x64, 0x00, 0x00, /*   2001:db8:64::/96 */
    0x00, 0x00, 0x00, 0x00,
    0x25, 0x04,                                     /* Captive portal */
    'h', 't', 't', 'p', 's', ':', '/', '/', 'p', 'o', 'r', 't', 'a', 'l', '.',
    'e', 'x', 'a', 'm', 'p', 'l', 'e', '/', 'a', 'p', 'i',
    0x00, 0x00, 0x00, 0x00,                         /*   NUL padding */
};

/* NS fe80::2 -> ff02::1:ff00:10 for 2001:db8:1::10 (address resolution) */
static const uint8_t g_ns[] = {
    0x87, 0x00, 0x9c, 0x3f,
    0x00, 0x00, 0x00, 0x00,
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00, /* target 2001:db8:1::10 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
    0x01, 0x01, 0x00, 0x00, 0x5e, 0x00, 0x53, 0x02, /* SLLA */
};

/* DAD NS :: -> ff02::1:ff00:10 with a Nonce (RFC 7527) */
static const uint8_t g_ns_dad[] = {
    0x87, 0x00, 0x35, 0xb9,
    0x00, 0x00, 0x00, 0x00,
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
    0x0e, 0x01, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, /* Nonce */
};

/* NA 2001:db8:1::10 -> fe80::2, S|O, TLLA */
static const uint8_t g_na[] = {
    0x88, 0x00, 0x0a, 0x8b,
    0x60, 0x00, 0x00, 0x00,                         /* S|O */
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
    0x02, 0x01, 0x00, 0x00, 0x5e, 0x00, 0x53, 0x01, /* TLLA */
};

/* Redirect fe80::1 -> fe80::2: use fe80::3 for 2001:db8:9::1 */
static const uint8_t g_redirect[] = {
    0x89, 0x00, 0xa0, 0x46,
    0x00, 0x00, 0x00, 0x00,
    0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* target fe80::3 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03,
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x09, 0x00, 0x00, /* destination 2001:db8:9::1 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x02, 0x01, 0x00, 0x00, 0x5e, 0x00, 0x53, 0x03, /* TLLA */
    0x04, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* Redirected Header */
    0x60, 0x00, 0x00, 0x00, 0x00, 0x08, 0x3a, 0x40, /*   the IPv6 header that caused it */
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x09, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
};

/* clang-format on */

struct golden {
    const char *name;
    const struct in6_addr *src, *dst;
    const uint8_t *icmp;
    size_t len;
};

static const struct golden goldens[] = {
    {"rs", &ll_2, &all_routers, g_rs, sizeof(g_rs)},
    {"ra", &ll_1, &all_nodes, g_ra, sizeof(g_ra)},
    {"ns", &ll_2, &snm_10, g_ns, sizeof(g_ns)},
    {"ns_dad", &unspec, &snm_10, g_ns_dad, sizeof(g_ns_dad)},
    {"na", &db8_1_10, &ll_2, g_na, sizeof(g_na)},
    {"redirect", &ll_1, &ll_2, g_redirect, sizeof(g_redirect)},
};
#define N_GOLDEN (sizeof(goldens) / sizeof(goldens[0]))

/* ---- parse helpers that remember which reasons the tests produced ------ */

static bool seen_reject[E6_ND_R__COUNT];
static bool seen_bad[E6_ND_OB__COUNT];

static void note(enum e6_nd_reject r, const struct e6_nd_msg *m)
{
    if ((unsigned)r < E6_ND_R__COUNT)
        seen_reject[r] = true;
    if (r == E6_ND_OK)
        for (unsigned i = 0; i < m->n_bad && i < E6_ND_MAX_BAD; i++)
            if (m->bad[i].reason < E6_ND_OB__COUNT)
                seen_bad[m->bad[i].reason] = true;
}

static enum e6_nd_reject parse_hl(const struct in6_addr *src, const struct in6_addr *dst,
                                  uint8_t hop, const uint8_t *icmp, size_t len, struct e6_nd_msg *m)
{
    struct e6_nd_in in = {.src = *src, .dst = *dst, .hop_limit = hop, .icmp = icmp, .len = len};
    enum e6_nd_reject r = e6_nd_parse(&in, m);
    note(r, m);
    return r;
}

static enum e6_nd_reject parse(const struct in6_addr *src, const struct in6_addr *dst,
                               const uint8_t *icmp, size_t len, struct e6_nd_msg *m)
{
    return parse_hl(src, dst, 255, icmp, len, m);
}

/* fix the checksum of a mutated message first, so only the mutation is judged */
static enum e6_nd_reject parse_fix(const struct in6_addr *src, const struct in6_addr *dst,
                                   uint8_t *icmp, size_t len, struct e6_nd_msg *m)
{
    e6_ip6_icmp6_cksum_set(src, dst, icmp, len);
    return parse(src, dst, icmp, len, m);
}

/* An RA from fe80::1 to ff02::1 with header fields of g_ra and the given options */
static size_t make_ra(uint8_t *buf, const uint8_t *opts, size_t n)
{
    memcpy(buf, g_ra, E6_ND_RA_LEN);
    memcpy(buf + E6_ND_RA_LEN, opts, n);
    e6_ip6_icmp6_cksum_set(&ll_1, &all_nodes, buf, E6_ND_RA_LEN + n);
    return E6_ND_RA_LEN + n;
}

static enum e6_nd_reject parse_ra_opts(const uint8_t *opts, size_t n, struct e6_nd_msg *m)
{
    static uint8_t buf[4096];
    assert_true(n + E6_ND_RA_LEN <= sizeof(buf));
    size_t len = make_ra(buf, opts, n);
    return parse(&ll_1, &all_nodes, buf, len, m);
}

/* Parse options expected to be ignored as malformed, check the one reason */
static void expect_bad_opt(const uint8_t *opts, size_t n, uint8_t type,
                           enum e6_nd_optbad_reason why)
{
    static struct e6_nd_msg m;
    assert_int_equal(parse_ra_opts(opts, n, &m), E6_ND_OK);
    if (m.n_bad != 1)
        fail_msg("option %u: n_bad %u, want 1 (%s)", type, m.n_bad, e6_nd_optbad_name(why));
    assert_int_equal(m.bad[0].type, type);
    if (m.bad[0].reason != why)
        fail_msg("option %u: reason %s, want %s", type, e6_nd_optbad_name(m.bad[0].reason),
                 e6_nd_optbad_name(why));
    assert_int_equal(m.bad[0].offset, E6_ND_RA_LEN);
    assert_int_equal(m.n_pio + m.n_rio + m.n_rdnss + m.n_dnssl + m.n_pref64, 0);
    assert_false(m.has_mtu);
    assert_null(m.captive);
}

static void check_bytes(const uint8_t *got, size_t got_len, const uint8_t *want, size_t want_len)
{
    if (got_len != want_len)
        fail_msg("length %zu, want %zu", got_len, want_len);
    for (size_t i = 0; i < want_len; i++)
        if (got[i] != want[i])
            fail_msg("byte %zu: got 0x%02x want 0x%02x", i, got[i], want[i]);
}

/* ---- builders reproduce the golden bytes ------------------------------- */

static const struct e6_nd_ra golden_ra_hdr = {
    .cur_hop_limit = 64,
    .flags = E6_ND_RA_M | E6_ND_RA_O,
    .prf = E6_ND_PRF_HIGH,
    .router_lifetime = 1800,
    .reachable = 30000,
    .retrans = 1000,
};

static int build_golden_ra(uint8_t *buf, size_t cap)
{
    struct e6_nd_builder b;
    e6_nd_build_init(&b, buf, cap);
    e6_nd_put_ra(&b, &golden_ra_hdr);
    e6_nd_put_lladdr(&b, E6_ND_OPT_SLLA, mac_1, 6);
    e6_nd_put_mtu(&b, 1480);
    struct e6_nd_pio pio = {
        .prefix = {.addr = A16(0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x99),
                   .len = 64},
        .flags = E6_ND_PIO_L | E6_ND_PIO_A,
        .valid = 86400,
        .preferred = 14400,
    };
    e6_nd_put_pio(&b, &pio);
    struct e6_nd_route rio = {
        .prefix = {.addr = A16(0x20, 0x01, 0x0d, 0xb8, 0, 2, 0xff), .len = 48},
        .prf = E6_ND_PRF_HIGH,
        .lifetime = 3600,
    };
    e6_nd_put_route(&b, &rio);
    e6_nd_put_rdnss(&b, 1800, &db8_1_53, 1);
    const char *names[] = {"example.com", "lab.example.org."};
    e6_nd_put_dnssl(&b, 1800, names, 2);
    struct e6_prefix p64 = {.addr = A16(0x20, 0x01, 0x0d, 0xb8, 0, 0x64), .len = 96};
    e6_nd_put_pref64(&b, 1800, &p64);
    e6_nd_put_captive(&b, "https://portal.example/api");
    return e6_nd_build_finish(&b, &ll_1, &all_nodes);
}

static void test_build_ra_golden(void **state)
{
    (void)state;
    uint8_t buf[512];
    int n = build_golden_ra(buf, sizeof(buf));
    assert_int_equal(n, sizeof(g_ra));
    check_bytes(buf, (size_t)n, g_ra, sizeof(g_ra));
}

static void test_build_rs_ns_na_golden(void **state)
{
    (void)state;
    uint8_t buf[128];
    struct e6_nd_builder b;

    e6_nd_build_init(&b, buf, sizeof(buf));
    assert_int_equal(e6_nd_put_rs(&b), 0);
    assert_int_equal(e6_nd_put_lladdr(&b, E6_ND_OPT_SLLA, mac_2, 6), 0);
    int n = e6_nd_build_finish(&b, &ll_2, &all_routers);
    check_bytes(buf, (size_t)n, g_rs, sizeof(g_rs));

    e6_nd_build_init(&b, buf, sizeof(buf));
    assert_int_equal(e6_nd_put_ns(&b, &db8_1_10), 0);
    assert_int_equal(e6_nd_put_lladdr(&b, E6_ND_OPT_SLLA, mac_2, 6), 0);
    n = e6_nd_build_finish(&b, &ll_2, &snm_10);
    check_bytes(buf, (size_t)n, g_ns, sizeof(g_ns));

    static const uint8_t nonce[6] = {1, 2, 3, 4, 5, 6};
    e6_nd_build_init(&b, buf, sizeof(buf));
    assert_int_equal(e6_nd_put_ns(&b, &db8_1_10), 0);
    assert_int_equal(e6_nd_put_nonce(&b, nonce, 6), 0);
    n = e6_nd_build_finish(&b, &unspec, &snm_10);
    check_bytes(buf, (size_t)n, g_ns_dad, sizeof(g_ns_dad));

    e6_nd_build_init(&b, buf, sizeof(buf));
    assert_int_equal(e6_nd_put_na(&b, E6_ND_NA_S | E6_ND_NA_O, &db8_1_10), 0);
    assert_int_equal(e6_nd_put_lladdr(&b, E6_ND_OPT_TLLA, mac_1, 6), 0);
    n = e6_nd_build_finish(&b, &db8_1_10, &ll_2);
    check_bytes(buf, (size_t)n, g_na, sizeof(g_na));
}

/* ---- golden messages parse to the right fields ------------------------- */

static void test_parse_goldens_ok(void **state)
{
    (void)state;
    static struct e6_nd_msg m;
    for (size_t i = 0; i < N_GOLDEN; i++) {
        const struct golden *g = &goldens[i];
        enum e6_nd_reject r = parse(g->src, g->dst, g->icmp, g->len, &m);
        if (r != E6_ND_OK)
            fail_msg("%s: %s", g->name, e6_nd_reject_name(r));
        assert_int_equal(m.type, g->icmp[0]);
        assert_int_equal(m.len, g->len);
        assert_int_equal(m.n_bad, 0);
        assert_int_equal(m.n_unknown, 0);
        assert_int_equal(m.n_misplaced, 0);
        assert_memory_equal(&m.src, g->src, 16);
        assert_memory_equal(&m.dst, g->dst, 16);
    }
}

static void test_parse_rs(void **state)
{
    (void)state;
    static struct e6_nd_msg m;
    uint8_t mac[6];
    assert_int_equal(parse(&ll_2, &all_routers, g_rs, sizeof(g_rs), &m), E6_ND_OK);
    assert_int_equal(m.type, E6_ND_RS);
    assert_int_equal(m.n_opts, 1);
    assert_true(e6_nd_lladdr_eth(&m.slla, mac));
    assert_memory_equal(mac, mac_2, 6);
    assert_ptr_equal(m.slla.addr, g_rs + 10);
    assert_null(m.tlla.addr);
    assert_false(e6_nd_lladdr_eth(&m.tlla, mac));
}

static void test_parse_ra(void **state)
{
    (void)state;
    static struct e6_nd_msg m;
    uint8_t mac[6];
    assert_int_equal(parse(&ll_1, &all_nodes, g_ra, sizeof(g_ra), &m), E6_ND_OK);
    assert_int_equal(m.type, E6_ND_RA);
    assert_int_equal(m.ra.cur_hop_limit, 64);
    assert_int_equal(m.ra.flags, E6_ND_RA_M | E6_ND_RA_O);
    assert_int_equal(m.ra.prf, E6_ND_PRF_HIGH);
    assert_false(m.ra_prf_reserved);
    assert_int_equal(m.ra.router_lifetime, 1800);
    assert_int_equal(m.ra.reachable, 30000);
    assert_int_equal(m.ra.retrans, 1000);
    assert_int_equal(m.n_opts, 8);

    assert_true(e6_nd_lladdr_eth(&m.slla, mac));
    assert_memory_equal(mac, mac_1, 6);
    assert_true(m.has_mtu);
    assert_int_equal(m.mtu, 1480);

    assert_int_equal(m.n_pio, 1);
    assert_int_equal(m.pio_overflow, 0);
    const struct in6_addr p1 = A16(0x20, 0x01, 0x0d, 0xb8, 0, 1);
    assert_memory_equal(&m.pio[0].prefix.addr, &p1, 16);
    assert_int_equal(m.pio[0].prefix.len, 64);
    assert_int_equal(m.pio[0].flags, E6_ND_PIO_L | E6_ND_PIO_A);
    assert_int_equal(m.pio[0].valid, 86400);
    assert_int_equal(m.pio[0].preferred, 14400);

    assert_int_equal(m.n_rio, 1);
    const struct in6_addr p2 = A16(0x20, 0x01, 0x0d, 0xb8, 0, 2);
    assert_memory_equal(&m.rio[0].prefix.addr, &p2, 16);
    assert_int_equal(m.rio[0].prefix.len, 48);
    assert_int_equal(m.rio[0].prf, E6_ND_PRF_HIGH);
    assert_int_equal(m.rio[0].lifetime, 3600);

    assert_int_equal(m.n_rdnss, 1);
    assert_memory_equal(&m.rdnss[0].addr, &db8_1_53, 16);
    assert_int_equal(m.rdnss[0].lifetime, 1800);

    assert_int_equal(m.n_dnssl, 2);
    assert_string_equal(m.dnssl[0].name, "example.com");
    assert_string_equal(m.dnssl[1].name, "lab.example.org");
    assert_int_equal(m.dnssl[1].lifetime, 1800);

    assert_int_equal(m.n_pref64, 1);
    const struct in6_addr p64 = A16(0x20, 0x01, 0x0d, 0xb8, 0, 0x64);
    assert_memory_equal(&m.pref64[0].prefix.addr, &p64, 16);
    assert_int_equal(m.pref64[0].prefix.len, 96);
    assert_int_equal(m.pref64[0].lifetime, 1800);

    assert_int_equal(m.captive_len, strlen("https://portal.example/api"));
    assert_memory_equal(m.captive, "https://portal.example/api", m.captive_len);
    assert_null(m.nonce);
}

static void test_parse_ns_na(void **state)
{
    (void)state;
    static struct e6_nd_msg m;
    uint8_t mac[6];
    assert_int_equal(parse(&ll_2, &snm_10, g_ns, sizeof(g_ns), &m), E6_ND_OK);
    assert_int_equal(m.type, E6_ND_NS);
    assert_memory_equal(&m.target, &db8_1_10, 16);
    assert_true(e6_nd_lladdr_eth(&m.slla, mac));
    assert_memory_equal(mac, mac_2, 6);

    assert_int_equal(parse(&unspec, &snm_10, g_ns_dad, sizeof(g_ns_dad), &m), E6_ND_OK);
    assert_memory_equal(&m.target, &db8_1_10, 16);
    assert_null(m.slla.addr);
    assert_int_equal(m.nonce_len, 6);
    assert_memory_equal(m.nonce, "\x01\x02\x03\x04\x05\x06", 6);

    assert_int_equal(parse(&db8_1_10, &ll_2, g_na, sizeof(g_na), &m), E6_ND_OK);
    assert_int_equal(m.type, E6_ND_NA);
    assert_int_equal(m.na_flags, E6_ND_NA_S | E6_ND_NA_O);
    assert_memory_equal(&m.target, &db8_1_10, 16);
    assert_true(e6_nd_lladdr_eth(&m.tlla, mac));
    assert_memory_equal(mac, mac_1, 6);
    assert_null(m.slla.addr);
}

static void test_parse_redirect(void **state)
{
    (void)state;
    static struct e6_nd_msg m;
    uint8_t mac[6];
    assert_int_equal(parse(&ll_1, &ll_2, g_redirect, sizeof(g_redirect), &m), E6_ND_OK);
    assert_int_equal(m.type, E6_ND_REDIRECT);
    assert_memory_equal(&m.target, &ll_3, 16);
    assert_memory_equal(&m.redir_dst, &db8_9_1, 16);
    assert_true(e6_nd_lladdr_eth(&m.tlla, mac));
    assert_int_equal(mac[5], 0x03);
    assert_int_equal(m.redir_hdr_len, 40);
    assert_ptr_equal(m.redir_hdr, g_redirect + 56);
    assert_int_equal(m.redir_hdr[0], 0x60);
}

/* ---- rejects: rules common to every message ---------------------------- */

static void test_reject_common(void **state)
{
    (void)state;
    static struct e6_nd_msg m;
    uint8_t b[256];
    for (size_t i = 0; i < N_GOLDEN; i++) {
        const struct golden *g = &goldens[i];

        /* hop limit: anything but 255 means the message was routed */
        static const uint8_t hops[] = {0, 1, 64, 254};
        for (size_t h = 0; h < sizeof(hops); h++)
            assert_int_equal(parse_hl(g->src, g->dst, hops[h], g->icmp, g->len, &m),
                             E6_ND_R_HOP_LIMIT);

        memcpy(b, g->icmp, g->len);
        b[1] = 1;
        assert_int_equal(parse_fix(g->src, g->dst, b, g->len, &m), E6_ND_R_CODE);

        /* a wrong checksum, in the field and in the data */
        memcpy(b, g->icmp, g->len);
        b[3] ^= 1;
        assert_int_equal(parse(g->src, g->dst, b, g->len, &m), E6_ND_R_CHECKSUM);
        memcpy(b, g->icmp, g->len);
        b[g->len - 1] ^= 0x80;
        assert_int_equal(parse(g->src, g->dst, b, g->len, &m), E6_ND_R_CHECKSUM);
        /* a checksum made for another destination */
        assert_int_equal(parse(g->src, &db8_9_1, g->icmp, g->len, &m), E6_ND_R_CHECKSUM);

        /* one byte below the minimum for the type (RS 8, RA 16, NS/NA 24, Redirect 40) */
        size_t min = g->icmp[0] == E6_ND_RS         ? 8
                     : g->icmp[0] == E6_ND_RA       ? 16
                     : g->icmp[0] == E6_ND_REDIRECT ? 40
                                                    : 24;
        memcpy(b, g->icmp, g->len);
        assert_int_equal(parse_fix(g->src, g->dst, b, min - 1, &m), E6_ND_R_SHORT);
        assert_int_equal(parse_fix(g->src, g->dst, b, 4, &m), E6_ND_R_SHORT);
        assert_int_equal(parse(g->src, g->dst, b, 3, &m), E6_ND_R_SHORT);
        assert_int_equal(parse(g->src, g->dst, b, 0, &m), E6_ND_R_SHORT);

        /* a multicast source is never valid */
        memcpy(b, g->icmp, g->len);
        assert_int_equal(parse_fix(&all_nodes, g->dst, b, g->len, &m), E6_ND_R_SRC_MULTICAST);
    }

    /* types next to the ND range, and an Echo Request */
    static const uint8_t types[] = {1, 128, 129, 130, 132, 138, 255};
    for (size_t t = 0; t < sizeof(types); t++) {
        memcpy(b, g_ns, sizeof(g_ns));
        b[0] = types[t];
        assert_int_equal(parse_fix(&ll_2, &snm_10, b, sizeof(g_ns), &m), E6_ND_R_NOT_ND);
    }
}

static void test_reject_options_structure(void **state)
{
    (void)state;
    static struct e6_nd_msg m;
    uint8_t b[256];

    /* a zero-length option discards the message, even after good ones (RFC 4861 4.6) */
    memcpy(b, g_ra, sizeof(g_ra));
    static const uint8_t zero[8] = {200, 0, 1, 2, 3, 4, 5, 6};
    memcpy(b + sizeof(g_ra), zero, 8);
    assert_int_equal(parse_fix(&ll_1, &all_nodes, b, sizeof(g_ra) + 8, &m), E6_ND_R_OPT_ZERO_LEN);
    assert_int_equal(m.n_pio, 0); /* nothing half-parsed */
    memcpy(b, g_ns, sizeof(g_ns));
    b[25] = 0; /* the SLLA of the NS */
    assert_int_equal(parse_fix(&ll_2, &snm_10, b, sizeof(g_ns), &m), E6_ND_R_OPT_ZERO_LEN);
    /* even in an option type that is not defined for the message */
    memcpy(b, g_rs, sizeof(g_rs));
    b[8] = E6_ND_OPT_PIO;
    b[9] = 0;
    assert_int_equal(parse_fix(&ll_2, &all_routers, b, sizeof(g_rs), &m), E6_ND_R_OPT_ZERO_LEN);

    /* an option claiming more than what is left */
    memcpy(b, g_rs, sizeof(g_rs));
    b[9] = 2;
    assert_int_equal(parse_fix(&ll_2, &all_routers, b, sizeof(g_rs), &m), E6_ND_R_OPT_OVERRUN);
    /* the last option's length reaching exactly one unit past the end */
    memcpy(b, g_ra, sizeof(g_ra));
    b[sizeof(g_ra) - 31] = 5; /* captive portal: 4 -> 5 */
    assert_int_equal(parse_fix(&ll_1, &all_nodes, b, sizeof(g_ra), &m), E6_ND_R_OPT_OVERRUN);

    /* trailing bytes that cannot form an option: 1, 7, and 2..7 that claim more */
    for (size_t extra = 1; extra < 8; extra++) {
        memcpy(b, g_rs, sizeof(g_rs));
        memset(b + sizeof(g_rs), 0, extra);
        b[sizeof(g_rs)] = 200;
        if (extra >= 2)
            b[sizeof(g_rs) + 1] = 1;
        assert_int_equal(parse_fix(&ll_2, &all_routers, b, sizeof(g_rs) + extra, &m),
                         E6_ND_R_OPT_OVERRUN);
    }
    /* ... while 8 more bytes make a proper unknown option */
    memcpy(b, g_rs, sizeof(g_rs));
    memset(b + sizeof(g_rs), 0, 8);
    b[sizeof(g_rs)] = 200;
    b[sizeof(g_rs) + 1] = 1;
    assert_int_equal(parse_fix(&ll_2, &all_routers, b, sizeof(g_rs) + 8, &m), E6_ND_OK);
    assert_int_equal(m.n_unknown, 1);
}

/* ---- rejects: per-message rules ---------------------------------------- */

static void test_reject_rs(void **state)
{
    (void)state;
    static struct e6_nd_msg m;
    uint8_t b[64];
    /* RFC 4861 6.1.1: from :: there must be no SLLA */
    memcpy(b, g_rs, sizeof(g_rs));
    assert_int_equal(parse_fix(&unspec, &all_routers, b, sizeof(g_rs), &m), E6_ND_R_UNSPEC_SLLA);
    /* without it, an RS from :: is fine */
    assert_int_equal(parse_fix(&unspec, &all_routers, b, 8, &m), E6_ND_OK);
    assert_null(m.slla.addr);
    /* an SLLA anywhere among the options counts */
    memcpy(b + 16, g_rs + 8, 8);
    b[8] = 200; /* the first option becomes unknown */
    assert_int_equal(parse_fix(&unspec, &all_routers, b, 24, &m), E6_ND_R_UNSPEC_SLLA);
}

static void test_reject_ra(void **state)
{
    (void)state;
    static struct e6_nd_msg m;
    uint8_t b[sizeof(g_ra)];
    /* RFC 4861 6.1.2: the source must be link-local */
    const struct in6_addr *bad[] = {&unspec, &db8_1_2, &db8_9_1};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memcpy(b, g_ra, sizeof(b));
        assert_int_equal(parse_fix(bad[i], &all_nodes, b, sizeof(b), &m),
                         E6_ND_R_SRC_NOT_LINKLOCAL);
    }
    /* fe80::/10 covers febf:: too */
    const struct in6_addr febf = A16(0xfe, 0xbf, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1);
    const struct in6_addr fec0 = A16(0xfe, 0xc0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1);
    memcpy(b, g_ra, sizeof(b));
    assert_int_equal(parse_fix(&febf, &all_nodes, b, sizeof(b), &m), E6_ND_OK);
    assert_int_equal(parse_fix(&fec0, &all_nodes, b, sizeof(b), &m), E6_ND_R_SRC_NOT_LINKLOCAL);
    /* a unicast RA (answer to an RS) is fine */
    assert_int_equal(parse_fix(&ll_1, &ll_2, b, sizeof(b), &m), E6_ND_OK);
}

static void test_reject_ns(void **state)
{
    (void)state;
    static struct e6_nd_msg m;
    uint8_t b[64];
    /* RFC 4861 7.1.1: target not multicast */
    memcpy(b, g_ns, sizeof(g_ns));
    memcpy(b + 8, &all_nodes, 16);
    assert_int_equal(parse_fix(&ll_2, &snm_10, b, sizeof(g_ns), &m), E6_ND_R_TARGET_MULTICAST);
    /* from :: only to a solicited-node group */
    memcpy(b, g_ns_dad, sizeof(g_ns_dad));
    assert_int_equal(parse_fix(&unspec, &all_nodes, b, sizeof(g_ns_dad), &m), E6_ND_R_DAD_DST);
    assert_int_equal(parse_fix(&unspec, &db8_1_10, b, sizeof(g_ns_dad), &m), E6_ND_R_DAD_DST);
    const struct in6_addr ff05 = A16(0xff, 0x05, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0, 0, 0x10);
    assert_int_equal(parse_fix(&unspec, &ff05, b, sizeof(g_ns_dad), &m), E6_ND_R_DAD_DST);
    /* any solicited-node group will do: the rule does not tie it to the target */
    const struct in6_addr snm_other =
        A16(0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0xab, 0xcd, 0xef);
    assert_int_equal(parse_fix(&unspec, &snm_other, b, sizeof(g_ns_dad), &m), E6_ND_OK);
    /* from :: no SLLA */
    memcpy(b, g_ns, sizeof(g_ns));
    assert_int_equal(parse_fix(&unspec, &snm_10, b, sizeof(g_ns), &m), E6_ND_R_UNSPEC_SLLA);
    /* a unicast NUD probe from a real address is fine */
    assert_int_equal(parse_fix(&ll_2, &db8_1_10, b, sizeof(g_ns), &m), E6_ND_OK);
}

static void test_reject_na(void **state)
{
    (void)state;
    static struct e6_nd_msg m;
    uint8_t b[64];
    memcpy(b, g_na, sizeof(g_na));
    memcpy(b + 8, &snm_10, 16);
    assert_int_equal(parse_fix(&db8_1_10, &ll_2, b, sizeof(g_na), &m), E6_ND_R_TARGET_MULTICAST);
    /* RFC 4861 7.1.2: S must be 0 when sent to a multicast address */
    memcpy(b, g_na, sizeof(g_na));
    assert_int_equal(parse_fix(&db8_1_10, &all_nodes, b, sizeof(g_na), &m),
                     E6_ND_R_NA_SOLICITED_MCAST);
    b[4] = E6_ND_NA_O | E6_ND_NA_R;
    assert_int_equal(parse_fix(&db8_1_10, &all_nodes, b, sizeof(g_na), &m), E6_ND_OK);
    assert_int_equal(m.na_flags, E6_ND_NA_O | E6_ND_NA_R);
    /* reserved bits are passed on, not judged */
    b[4] = 0x1f;
    b[7] = 0xff;
    assert_int_equal(parse_fix(&db8_1_10, &ll_2, b, sizeof(g_na), &m), E6_ND_OK);
    assert_int_equal(m.na_flags, 0x1f);
}

static void test_reject_redirect(void **state)
{
    (void)state;
    static struct e6_nd_msg m;
    uint8_t b[sizeof(g_redirect)];
    /* RFC 4861 8.1: source link-local */
    memcpy(b, g_redirect, sizeof(b));
    assert_int_equal(parse_fix(&db8_1_2, &ll_2, b, sizeof(b), &m), E6_ND_R_SRC_NOT_LINKLOCAL);
    /* Destination Address not multicast */
    memcpy(b, g_redirect, sizeof(b));
    memcpy(b + 24, &all_nodes, 16);
    assert_int_equal(parse_fix(&ll_1, &ll_2, b, sizeof(b), &m), E6_ND_R_REDIR_DST_MULTICAST);
    /* target: a link-local router, or the destination itself */
    memcpy(b, g_redirect, sizeof(b));
    memcpy(b + 8, &db8_1_2, 16);
    assert_int_equal(parse_fix(&ll_1, &ll_2, b, sizeof(b), &m), E6_ND_R_REDIR_TARGET);
    memcpy(b + 8, &db8_9_1, 16);
    assert_int_equal(parse_fix(&ll_1, &ll_2, b, sizeof(b), &m), E6_ND_OK);
    assert_memory_equal(&m.target, &m.redir_dst, 16);
    /* 40 bytes with no option is a complete Redirect */
    assert_int_equal(parse_fix(&ll_1, &ll_2, b, 40, &m), E6_ND_OK);
    assert_null(m.redir_hdr);
}

/* ---- through e6_ip6_parse ---------------------------------------------- */

static size_t make_pkt(uint8_t *out, const struct golden *g, const uint8_t *ext, size_t ext_len,
                       uint8_t first_nh)
{
    struct e6_ip6_hdr h = {
        .src = *g->src, .dst = *g->dst, .hop_limit = 255, .next_header = ext_len ? first_nh : 58};
    assert_int_equal(e6_ip6_write_hdr(out, 40, &h, ext_len + g->len), 0);
    if (ext_len)
        memcpy(out + 40, ext, ext_len);
    memcpy(out + 40 + ext_len, g->icmp, g->len);
    return 40 + ext_len + g->len;
}

static enum e6_nd_reject parse_pkt(const uint8_t *b, size_t len, struct e6_nd_msg *m)
{
    struct e6_ip6_pkt p;
    assert_int_equal(e6_ip6_parse(b, len, &p), E6_IP6_OK);
    enum e6_nd_reject r = e6_nd_parse_ip6(&p, m);
    note(r, m);
    return r;
}

static void test_parse_ip6(void **state)
{
    (void)state;
    static struct e6_nd_msg m;
    uint8_t b[512];
    const struct golden *ra = &goldens[1];
    assert_int_equal(parse_pkt(b, make_pkt(b, ra, NULL, 0, 0), &m), E6_ND_OK);
    assert_int_equal(m.n_pio, 1);

    /* Hop-by-Hop in front is fine */
    static const uint8_t hbh[8] = {58, 0, 0x01, 0x04, 0, 0, 0, 0};
    assert_int_equal(parse_pkt(b, make_pkt(b, ra, hbh, 8, 0), &m), E6_ND_OK);
    assert_int_equal(m.type, E6_ND_RA);

    /* the hop limit is taken from the IPv6 header */
    size_t n = make_pkt(b, ra, NULL, 0, 0);
    b[7] = 254;
    assert_int_equal(parse_pkt(b, n, &m), E6_ND_R_HOP_LIMIT);

    /* RFC 6980 5: with a Fragment header, even an atomic one, it is ignored */
    static const uint8_t frag[8] = {58, 0, 0, 0, 0, 0, 0, 1};
    assert_int_equal(parse_pkt(b, make_pkt(b, ra, frag, 8, 44), &m), E6_ND_R_FRAGMENT);
    static const uint8_t frag_more[8] = {58, 0, 0, 1, 0, 0, 0, 1};
    assert_int_equal(parse_pkt(b, make_pkt(b, ra, frag_more, 8, 44), &m), E6_ND_R_FRAGMENT);
    static const uint8_t frag_later[8] = {58, 0, 0, 8, 0, 0, 0, 1};
    assert_int_equal(parse_pkt(b, make_pkt(b, ra, frag_later, 8, 44), &m), E6_ND_R_FRAGMENT);

    /* a Routing header with segments left: the message is not for this node yet */
    static const uint8_t rh[24] = {58, 2, 3, 1};
    assert_int_equal(parse_pkt(b, make_pkt(b, ra, rh, 24, 43), &m), E6_ND_R_ROUTED);
    static const uint8_t rh_done[24] = {58, 2, 3, 0};
    assert_int_equal(parse_pkt(b, make_pkt(b, ra, rh_done, 24, 43), &m), E6_ND_OK);

    /* not ICMPv6: UDP, No Next Header, and ICMPv6 hidden behind ESP */
    n = make_pkt(b, ra, NULL, 0, 0);
    b[6] = 17;
    assert_int_equal(parse_pkt(b, n, &m), E6_ND_R_NOT_ICMPV6);
    b[6] = 59;
    assert_int_equal(parse_pkt(b, n, &m), E6_ND_R_NOT_ICMPV6);
    b[6] = 50;
    assert_int_equal(parse_pkt(b, n, &m), E6_ND_R_NOT_ICMPV6);
}

/* ---- options: counting, duplicates, misplaced ------------------------- */

static void test_opt_unknown_misplaced(void **state)
{
    (void)state;
    static struct e6_nd_msg m;
    uint8_t b[128];
    /* NS + SLLA, then an unknown type and options defined only for other messages */
    memcpy(b, g_ns, sizeof(g_ns));
    size_t n = sizeof(g_ns);
    /* clang-format off */
    static const uint8_t extra[] = {
        200, 1, 0, 0, 0, 0, 0, 0,                   /* unknown */
        E6_ND_OPT_PIO, 1, 0, 0, 0, 0, 0, 0,         /* misplaced, and malformed: not judged */
        E6_ND_OPT_TLLA, 1, 0, 0, 0x5e, 0, 0x53, 9,  /* misplaced */
        E6_ND_OPT_REDIR_HDR, 1, 0, 0, 0, 0, 0, 0,   /* misplaced */
        E6_ND_OPT_CAPTIVE, 1, 'a', 0, 0, 0, 0, 0,   /* misplaced */
    };
    /* clang-format on */
    memcpy(b + n, extra, sizeof(extra));
    n += sizeof(extra);
    assert_int_equal(parse_fix(&ll_2, &snm_10, b, n, &m), E6_ND_OK);
    assert_int_equal(m.n_opts, 6);
    assert_int_equal(m.n_unknown, 1);
    assert_int_equal(m.n_misplaced, 4);
    assert_int_equal(m.n_bad, 0);
    assert_null(m.tlla.addr);
    assert_null(m.captive);
    assert_non_null(m.slla.addr);

    /* in an NA the SLLA is the misplaced one */
    memcpy(b, g_na, sizeof(g_na));
    memcpy(b + sizeof(g_na), g_rs + 8, 8);
    assert_int_equal(parse_fix(&db8_1_10, &ll_2, b, sizeof(g_na) + 8, &m), E6_ND_OK);
    assert_int_equal(m.n_misplaced, 1);
    assert_null(m.slla.addr);
    assert_non_null(m.tlla.addr);

    /* an RS with MTU and a Redirect with a nonce */
    memcpy(b, g_rs, sizeof(g_rs));
    static const uint8_t mtu[8] = {5, 1, 0, 0, 0, 0, 5, 0xdc};
    memcpy(b + sizeof(g_rs), mtu, 8);
    assert_int_equal(parse_fix(&ll_2, &all_routers, b, sizeof(g_rs) + 8, &m), E6_ND_OK);
    assert_int_equal(m.n_misplaced, 1);
    assert_false(m.has_mtu);
    memcpy(b, g_redirect, sizeof(g_redirect));
    static const uint8_t nonce[8] = {14, 1, 1, 2, 3, 4, 5, 6};
    memcpy(b + sizeof(g_redirect), nonce, 8);
    assert_int_equal(parse_fix(&ll_1, &ll_2, b, sizeof(g_redirect) + 8, &m), E6_ND_OK);
    assert_int_equal(m.n_misplaced, 1);
    assert_null(m.nonce);
}

static void test_opt_duplicates(void **state)
{
    (void)state;
    static struct e6_nd_msg m;
    /* the first of each single-valued option wins (as in Linux ndisc) */
    static const uint8_t opts[] = {
        1,  1, 0,   0,   0x5e, 0,   0x53, 1,    /* SLLA ..:01 */
        1,  1, 0,   0,   0x5e, 0,   0x53, 2,    /* SLLA ..:02 duplicate */
        5,  1, 0,   0,   0,    0,   0x05, 0xdc, /* MTU 1500 */
        5,  1, 0,   0,   0,    0,   0x05, 0x00, /* MTU 1280 duplicate */
        14, 1, 1,   1,   1,    1,   1,    1,    /* nonce */
        14, 1, 2,   2,   2,    2,   2,    2,    /* nonce duplicate */
        37, 1, 'h', 't', 't',  'p', ':',  0,    /* captive */
        37, 1, 'x', 0,   0,    0,   0,    0,    /* captive duplicate */
    };
    assert_int_equal(parse_ra_opts(opts, sizeof(opts), &m), E6_ND_OK);
    assert_int_equal(m.n_bad, 4);
    for (unsigned i = 0; i < 4; i++) {
        assert_int_equal(m.bad[i].reason, E6_ND_OB_DUPLICATE);
        assert_int_equal(m.bad[i].offset, E6_ND_RA_LEN + 16 * i + 8);
    }
    assert_int_equal(m.bad[0].type, 1);
    assert_int_equal(m.bad[1].type, 5);
    assert_int_equal(m.bad[2].type, 14);
    assert_int_equal(m.bad[3].type, 37);
    assert_int_equal(m.slla.addr[5], 1);
    assert_int_equal(m.mtu, 1500);
    assert_int_equal(m.nonce[0], 1);
    assert_int_equal(m.captive_len, 5);

    /* TLLA and Redirected Header in a Redirect */
    uint8_t b[sizeof(g_redirect) + 16];
    memcpy(b, g_redirect, sizeof(g_redirect));
    static const uint8_t more[16] = {2, 1, 0, 0, 0x5e, 0, 0x53, 4, 4, 1, 0, 0, 0, 0, 0, 0};
    memcpy(b + sizeof(g_redirect), more, 16);
    assert_int_equal(parse_fix(&ll_1, &ll_2, b, sizeof(b), &m), E6_ND_OK);
    assert_int_equal(m.n_bad, 2);
    assert_int_equal(m.bad[0].type, E6_ND_OPT_TLLA);
    assert_int_equal(m.bad[1].type, E6_ND_OPT_REDIR_HDR);
    assert_int_equal(m.tlla.addr[5], 3);
    assert_int_equal(m.redir_hdr_len, 40);
}

static void test_opt_bad_overflow(void **state)
{
    (void)state;
    static struct e6_nd_msg m;
    /* ten MTU options of length 2: all ignored, the first eight recorded */
    uint8_t opts[160];
    memset(opts, 0, sizeof(opts));
    for (int i = 0; i < 10; i++) {
        opts[16 * i] = E6_ND_OPT_MTU;
        opts[16 * i + 1] = 2;
    }
    assert_int_equal(parse_ra_opts(opts, sizeof(opts), &m), E6_ND_OK);
    assert_int_equal(m.n_bad, 10);
    assert_int_equal(m.n_opts, 10);
    for (int i = 0; i < E6_ND_MAX_BAD; i++) {
        assert_int_equal(m.bad[i].type, E6_ND_OPT_MTU);
        assert_int_equal(m.bad[i].reason, E6_ND_OB_LENGTH);
        assert_int_equal(m.bad[i].offset, E6_ND_RA_LEN + 16 * i);
    }
    assert_false(m.has_mtu);
}

/* ---- options one by one ------------------------------------------------ */

static void test_opt_mtu(void **state)
{
    (void)state;
    static const uint8_t len2[16] = {5, 2, 0, 0, 0, 0, 5, 0xdc};
    expect_bad_opt(len2, 16, E6_ND_OPT_MTU, E6_ND_OB_LENGTH);
    /* reserved bits ignored, any value passed on for the engine to judge */
    static struct e6_nd_msg m;
    static const uint8_t odd[8] = {5, 1, 0xff, 0xff, 0, 0, 0, 100};
    assert_int_equal(parse_ra_opts(odd, 8, &m), E6_ND_OK);
    assert_int_equal(m.mtu, 100);
}

static void test_opt_pio(void **state)
{
    (void)state;
    static struct e6_nd_msg m;
    uint8_t o[40];
    /* clang-format off */
    static const uint8_t pio[32] = {
        3, 4, 61, 0xf0,                 /* /61, L|A|R|P */
        0xff, 0xff, 0xff, 0xff,         /* valid infinity */
        0x00, 0x00, 0x00, 0x00,         /* preferred 0 (RFC 9096 deprecation) */
        0xaa, 0xbb, 0xcc, 0xdd,         /* reserved, ignored */
        0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x0f, /* 2001:db8:1:f::1 */
        0, 0, 0, 0, 0, 0, 0, 1,
    };
    /* clang-format on */
    assert_int_equal(parse_ra_opts(pio, 32, &m), E6_ND_OK);
    assert_int_equal(m.n_pio, 1);
    /* bits beyond /61 are cleared; the raw field keeps the router address */
    const struct in6_addr want = A16(0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0x08);
    assert_memory_equal(&m.pio[0].prefix.addr, &want, 16);
    assert_int_equal(m.pio[0].prefix.len, 61);
    assert_memory_equal(&m.pio[0].raw, pio + 16, 16);
    assert_int_equal(m.pio[0].flags, 0xf0);
    assert_int_equal(m.pio[0].valid, 0xffffffffu);
    assert_int_equal(m.pio[0].preferred, 0);

    /* RFC 4861 4.6.2: the length must be 4 */
    memset(o, 0, sizeof(o));
    memcpy(o, pio, 32);
    o[1] = 3;
    expect_bad_opt(o, 24, E6_ND_OPT_PIO, E6_ND_OB_LENGTH);
    o[1] = 5;
    expect_bad_opt(o, 40, E6_ND_OPT_PIO, E6_ND_OB_LENGTH);
    /* prefix length 0..128 */
    memcpy(o, pio, 32);
    o[2] = 129;
    expect_bad_opt(o, 32, E6_ND_OPT_PIO, E6_ND_OB_PREFIX_LEN);
    o[2] = 255;
    expect_bad_opt(o, 32, E6_ND_OPT_PIO, E6_ND_OB_PREFIX_LEN);
    o[2] = 128;
    assert_int_equal(parse_ra_opts(o, 32, &m), E6_ND_OK);
    assert_memory_equal(&m.pio[0].prefix.addr, pio + 16, 16);
    o[2] = 0;
    assert_int_equal(parse_ra_opts(o, 32, &m), E6_ND_OK);
    assert_memory_equal(&m.pio[0].prefix.addr, &unspec, 16);

    /* 17 prefixes: 16 kept, one counted */
    uint8_t many[17 * 32];
    for (int i = 0; i < 17; i++) {
        memcpy(many + 32 * i, pio, 32);
        many[32 * i + 23] = (uint8_t)i;
    }
    assert_int_equal(parse_ra_opts(many, sizeof(many), &m), E6_ND_OK);
    assert_int_equal(m.n_pio, E6_ND_MAX_PIO);
    assert_int_equal(m.pio_overflow, 1);
    assert_int_equal(m.pio[15].raw.s6_addr[7], 15);
}

static void test_opt_rdnss(void **state)
{
    (void)state;
    static struct e6_nd_msg m;
    uint8_t o[8 + 16 * 17];
    memset(o, 0, sizeof(o));
    o[0] = E6_ND_OPT_RDNSS;
    o[7] = 60; /* lifetime 60 */
    /* RFC 8106 5.1: length 1 + 2N, at least 3 */
    o[1] = 1;
    expect_bad_opt(o, 8, E6_ND_OPT_RDNSS, E6_ND_OB_LENGTH);
    o[1] = 2;
    expect_bad_opt(o, 16, E6_ND_OPT_RDNSS, E6_ND_OB_LENGTH);
    o[1] = 4;
    expect_bad_opt(o, 32, E6_ND_OPT_RDNSS, E6_ND_OB_LENGTH);
    /* two servers */
    o[1] = 5;
    memcpy(o + 8, &db8_1_53, 16);
    memcpy(o + 24, &ll_1, 16);
    assert_int_equal(parse_ra_opts(o, 40, &m), E6_ND_OK);
    assert_int_equal(m.n_rdnss, 2);
    assert_memory_equal(&m.rdnss[0].addr, &db8_1_53, 16);
    assert_memory_equal(&m.rdnss[1].addr, &ll_1, 16);
    assert_int_equal(m.rdnss[1].lifetime, 60);
    /* 17 servers in one option: 16 kept */
    o[1] = 35;
    for (int i = 0; i < 17; i++) {
        memcpy(o + 8 + 16 * i, &db8_1_53, 16);
        o[8 + 16 * i + 14] = (uint8_t)i;
    }
    assert_int_equal(parse_ra_opts(o, sizeof(o), &m), E6_ND_OK);
    assert_int_equal(m.n_rdnss, E6_ND_MAX_RDNSS);
    assert_int_equal(m.rdnss_overflow, 1);
    assert_int_equal(m.rdnss[15].addr.s6_addr[14], 15);
}

/* clang-format off */
/* Route Information golden options, lifetime 3600, Prf high unless noted */
static const uint8_t rio_0[] = {      /* ::/0 Prf low */
    24, 1, 0, 0x18, 0x00, 0x00, 0x0e, 0x10,
};
static const uint8_t rio_1[] = {      /* 2001:db8:1:: as /1 is ::/1 */
    24, 2, 1, 0x08, 0x00, 0x00, 0x0e, 0x10,
    0, 0, 0, 0, 0, 0, 0, 0,
};
static const uint8_t rio_64[] = {     /* 2001:db8:1:2::/64 */
    24, 2, 64, 0x08, 0x00, 0x00, 0x0e, 0x10,
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x02,
};
static const uint8_t rio_65[] = {     /* 2001:db8:1:2:8000::/65 */
    24, 3, 65, 0x08, 0x00, 0x00, 0x0e, 0x10,
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x02,
    0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
static const uint8_t rio_128[] = {    /* 2001:db8:1:2:ffff::1/128 */
    24, 3, 128, 0x08, 0x00, 0x00, 0x0e, 0x10,
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x02,
    0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
};
/* clang-format on */

static void test_opt_rio_lengths(void **state)
{
    (void)state;
    static struct e6_nd_msg m;
    /* one address for all: each length keeps its own leading bits */
    const struct in6_addr a = A16(0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2, 0xff, 0xff, 0, 0, 0, 0, 0, 1);
    static const struct {
        unsigned plen;
        const uint8_t *want;
        size_t size;
        enum e6_nd_prf prf;
    } v[] = {
        {0, rio_0, sizeof(rio_0), E6_ND_PRF_LOW},
        {1, rio_1, sizeof(rio_1), E6_ND_PRF_HIGH},
        {64, rio_64, sizeof(rio_64), E6_ND_PRF_HIGH},
        {65, rio_65, sizeof(rio_65), E6_ND_PRF_HIGH},
        {128, rio_128, sizeof(rio_128), E6_ND_PRF_HIGH},
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        uint8_t buf[64];
        struct e6_nd_builder b;
        assert_int_equal(e6_nd_route_size(v[i].plen), v[i].size);
        e6_nd_build_init(&b, buf, sizeof(buf));
        e6_nd_put_ra(&b, &golden_ra_hdr);
        struct e6_nd_route r = {
            .prefix = {.addr = a, .len = (uint8_t)v[i].plen}, .prf = v[i].prf, .lifetime = 3600};
        assert_int_equal(e6_nd_put_route(&b, &r), 0);
        int n = e6_nd_build_finish(&b, &ll_1, &all_nodes);
        assert_int_equal(n, E6_ND_RA_LEN + v[i].size);
        check_bytes(buf + E6_ND_RA_LEN, v[i].size, v[i].want, v[i].size);

        assert_int_equal(parse(&ll_1, &all_nodes, buf, (size_t)n, &m), E6_ND_OK);
        assert_int_equal(m.n_rio, 1);
        assert_int_equal(m.rio[0].prefix.len, v[i].plen);
        assert_int_equal(m.rio[0].prf, v[i].prf);
        assert_int_equal(m.rio[0].lifetime, 3600);
        struct in6_addr want = {0};
        memcpy(&want, v[i].want + 8, v[i].size - 8);
        assert_memory_equal(&m.rio[0].prefix.addr, &want, 16);
    }
    assert_int_equal(e6_nd_route_size(129), 0);

    /* longer than needed is legal: /0 in 3 units, /64 in 3 units */
    uint8_t o[24];
    memcpy(o, rio_128, 24);
    o[2] = 0;
    assert_int_equal(parse_ra_opts(o, 24, &m), E6_ND_OK);
    assert_memory_equal(&m.rio[0].prefix.addr, &unspec, 16);
    o[2] = 64;
    assert_int_equal(parse_ra_opts(o, 24, &m), E6_ND_OK);
    assert_int_equal(m.rio[0].prefix.addr.s6_addr[8], 0);

    /* RFC 4191 2.3: too short for the prefix length, or longer than 3 */
    memcpy(o, rio_65, 24);
    o[1] = 2;
    expect_bad_opt(o, 16, E6_ND_OPT_RIO, E6_ND_OB_PREFIX_LEN);
    memcpy(o, rio_1, 16);
    o[1] = 1;
    expect_bad_opt(o, 8, E6_ND_OPT_RIO, E6_ND_OB_PREFIX_LEN);
    uint8_t o4[32] = {24, 4, 64, 0x08};
    expect_bad_opt(o4, 32, E6_ND_OPT_RIO, E6_ND_OB_LENGTH);
    memcpy(o, rio_128, 24);
    o[2] = 129;
    expect_bad_opt(o, 24, E6_ND_OPT_RIO, E6_ND_OB_PREFIX_LEN);
    /* Prf 10 is reserved: the option is ignored (RFC 4191 2.3) */
    memcpy(o, rio_64, 16);
    o[3] = 0x10;
    expect_bad_opt(o, 16, E6_ND_OPT_RIO, E6_ND_OB_PRF_RESERVED);
    /* the reserved bits around Prf are ignored */
    o[3] = 0xe7 | 0x18;
    assert_int_equal(parse_ra_opts(o, 16, &m), E6_ND_OK);
    assert_int_equal(m.rio[0].prf, E6_ND_PRF_LOW);

    /* 17 routes: 16 kept */
    uint8_t many[17 * 8];
    for (int i = 0; i < 17; i++)
        memcpy(many + 8 * i, rio_0, 8);
    assert_int_equal(parse_ra_opts(many, sizeof(many), &m), E6_ND_OK);
    assert_int_equal(m.n_rio, E6_ND_MAX_RIO);
    assert_int_equal(m.rio_overflow, 1);
}

static void test_pref64_lifetime(void **state)
{
    (void)state;
    static const struct {
        uint32_t in;
        uint16_t out;
    } v[] = {
        {0, 0},         {1, 8},         {7, 8},         {8, 8},         {9, 16},
        {600, 600},     {601, 608},     {1800, 1800},   {65520, 65520}, {65521, 65528},
        {65527, 65528}, {65528, 65528}, {65529, 65528}, {65536, 65528}, {0xffffffffu, 65528},
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
        if (e6_nd_pref64_lifetime(v[i].in) != v[i].out)
            fail_msg("lifetime %u -> %u, want %u", v[i].in, e6_nd_pref64_lifetime(v[i].in),
                     v[i].out);
    /* and on the wire: 601 s is Scaled Lifetime 76 */
    uint8_t buf[64];
    struct e6_nd_builder b;
    e6_nd_build_init(&b, buf, sizeof(buf));
    e6_nd_put_ra(&b, &golden_ra_hdr);
    struct e6_prefix p = {.addr = A16(0x20, 0x01, 0x0d, 0xb8), .len = 96};
    assert_int_equal(e6_nd_put_pref64(&b, 601, &p), 0);
    assert_int_equal(buf[18], 76 >> 5);
    assert_int_equal(buf[19], (76 << 3) & 0xff);
    e6_nd_build_init(&b, buf, sizeof(buf));
    e6_nd_put_ra(&b, &golden_ra_hdr);
    assert_int_equal(e6_nd_put_pref64(&b, 1000000, &p), 0);
    assert_int_equal(buf[18], 0xff); /* 8191 << 3 | 0 */
    assert_int_equal(buf[19], 0xf8);
}

static void test_opt_pref64(void **state)
{
    (void)state;
    static struct e6_nd_msg m;
    /* 2001:db8:64:: at each length, lifetime 600 s (scaled 75, 0x0258 | PLC) */
    static const struct {
        uint8_t plen;
        uint8_t plc;
        uint8_t byte5; /* 0x64 survives only from /48 on */
    } v[] = {{96, 0, 0x64}, {64, 1, 0x64}, {56, 2, 0x64}, {48, 3, 0x64}, {40, 4, 0}, {32, 5, 0}};
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        uint8_t want[16] = {38,   2,    0x02,      (uint8_t)(0x58 | v[i].plc), 0x20, 0x01, 0x0d,
                            0xb8, 0x00, v[i].byte5};
        uint8_t buf[64];
        struct e6_nd_builder b;
        e6_nd_build_init(&b, buf, sizeof(buf));
        e6_nd_put_ra(&b, &golden_ra_hdr);
        struct e6_prefix p = {.addr = A16(0x20, 0x01, 0x0d, 0xb8, 0, 0x64, 0, 0, 0, 0, 0, 0, 0xff),
                              .len = v[i].plen};
        assert_int_equal(e6_nd_put_pref64(&b, 600, &p), 0);
        int n = e6_nd_build_finish(&b, &ll_1, &all_nodes);
        assert_int_equal(n, E6_ND_RA_LEN + E6_ND_PREF64_SIZE);
        check_bytes(buf + E6_ND_RA_LEN, 16, want, 16);
        assert_int_equal(parse(&ll_1, &all_nodes, buf, (size_t)n, &m), E6_ND_OK);
        assert_int_equal(m.n_pref64, 1);
        assert_int_equal(m.pref64[0].prefix.len, v[i].plen);
        assert_int_equal(m.pref64[0].lifetime, 600);
        assert_int_equal(m.pref64[0].prefix.addr.s6_addr[5], v[i].byte5);
        assert_int_equal(m.pref64[0].prefix.addr.s6_addr[12], 0);
    }
    /* other prefix lengths cannot be encoded */
    static const uint8_t bad_len[] = {0, 31, 33, 63, 95, 97, 128};
    for (size_t i = 0; i < sizeof(bad_len); i++) {
        uint8_t buf[64];
        struct e6_nd_builder b;
        e6_nd_build_init(&b, buf, sizeof(buf));
        e6_nd_put_ra(&b, &golden_ra_hdr);
        struct e6_prefix p = {.addr = A16(0x20, 0x01, 0x0d, 0xb8), .len = bad_len[i]};
        assert_int_equal(e6_nd_put_pref64(&b, 600, &p), -EINVAL);
    }
    /* RFC 8781 4: PLC 6 and 7 make the option ignored; so does a length other than 2 */
    uint8_t o[24] = {38, 2, 0x02, 0x5e, 0x20, 0x01, 0x0d, 0xb8};
    expect_bad_opt(o, 16, E6_ND_OPT_PREF64, E6_ND_OB_PLC);
    o[3] = 0x5f;
    expect_bad_opt(o, 16, E6_ND_OPT_PREF64, E6_ND_OB_PLC);
    o[3] = 0x58;
    o[1] = 1;
    expect_bad_opt(o, 8, E6_ND_OPT_PREF64, E6_ND_OB_LENGTH);
    o[1] = 3;
    expect_bad_opt(o, 24, E6_ND_OPT_PREF64, E6_ND_OB_LENGTH);
    /* lifetime 0 (withdrawn) and the maximum */
    o[1] = 2;
    o[2] = 0;
    o[3] = 0;
    assert_int_equal(parse_ra_opts(o, 16, &m), E6_ND_OK);
    assert_int_equal(m.pref64[0].lifetime, 0);
    o[2] = 0xff;
    o[3] = 0xfd;
    assert_int_equal(parse_ra_opts(o, 16, &m), E6_ND_OK);
    assert_int_equal(m.pref64[0].lifetime, 65528);
    assert_int_equal(m.pref64[0].prefix.len, 32);
    /* more than the bound */
    uint8_t many[16 * (E6_ND_MAX_PREF64 + 2)];
    for (int i = 0; i < E6_ND_MAX_PREF64 + 2; i++)
        memcpy(many + 16 * i, o, 16);
    assert_int_equal(parse_ra_opts(many, sizeof(many), &m), E6_ND_OK);
    assert_int_equal(m.n_pref64, E6_ND_MAX_PREF64);
    assert_int_equal(m.pref64_overflow, 2);
}

/* ---- DNSSL ------------------------------------------------------------- */

/* Put a DNSSL option with the given name bytes (zero padded) into o; returns its size */
static size_t dnssl_opt(uint8_t *o, const void *names, size_t n, size_t units)
{
    size_t size = units ? units * 8 : 8 + ((n + 7) & ~(size_t)7);
    memset(o, 0, size);
    o[0] = E6_ND_OPT_DNSSL;
    o[1] = (uint8_t)(size / 8);
    o[7] = 100;
    memcpy(o + 8, names, n);
    return size;
}

static void test_dnssl_label_63_64(void **state)
{
    (void)state;
    static struct e6_nd_msg m;
    char name[128];
    uint8_t buf[256];
    struct e6_nd_builder b;

    /* a 63-character label is the longest there is */
    memset(name, 'a', 63);
    strcpy(name + 63, ".example");
    const char *names[] = {name};
    assert_int_equal(e6_nd_dnssl_size(names, 1), 8 + 80); /* 1+63+1+7+1 = 73 -> 80 */
    e6_nd_build_init(&b, buf, sizeof(buf));
    e6_nd_put_ra(&b, &golden_ra_hdr);
    assert_int_equal(e6_nd_put_dnssl(&b, 100, names, 1), 0);
    int n = e6_nd_build_finish(&b, &ll_1, &all_nodes);
    assert_int_equal(n, E6_ND_RA_LEN + 88);
    assert_int_equal(buf[E6_ND_RA_LEN + 8], 63);
    assert_int_equal(buf[E6_ND_RA_LEN + 8 + 64], 7);
    assert_int_equal(parse(&ll_1, &all_nodes, buf, (size_t)n, &m), E6_ND_OK);
    assert_int_equal(m.n_dnssl, 1);
    assert_string_equal(m.dnssl[0].name, name);
    assert_int_equal(m.dnssl[0].lifetime, 100);

    /* 64 is refused by the builder ... */
    memset(name, 'a', 64);
    strcpy(name + 64, ".example");
    char err[64];
    assert_false(e6_nd_dns_name_valid(name, err, sizeof(err)));
    assert_string_equal(err, "label longer than 63 characters");
    assert_int_equal(e6_nd_dnssl_size(names, 1), 0);
    e6_nd_build_init(&b, buf, sizeof(buf));
    e6_nd_put_ra(&b, &golden_ra_hdr);
    assert_int_equal(e6_nd_put_dnssl(&b, 100, names, 1), -EINVAL);
    assert_int_equal(e6_nd_build_finish(&b, &ll_1, &all_nodes), -EINVAL);

    /* ... and on the wire 64 (0x40) is the reserved label type 01 */
    uint8_t w[80], o[96];
    w[0] = 64;
    memset(w + 1, 'a', 64);
    w[65] = 0;
    expect_bad_opt(o, dnssl_opt(o, w, 66, 0), E6_ND_OPT_DNSSL, E6_ND_OB_DNS_LABEL);
    w[0] = 0x80; /* label type 10 */
    expect_bad_opt(o, dnssl_opt(o, w, 66, 0), E6_ND_OPT_DNSSL, E6_ND_OB_DNS_LABEL);
}

static void test_dnssl_name_length(void **state)
{
    (void)state;
    static struct e6_nd_msg m;
    char name[300];
    uint8_t buf[512];
    struct e6_nd_builder b;
    /* 63.63.63.61 = 253 characters, 255 octets on the wire: the longest name */
    memset(name, 'b', sizeof(name));
    name[63] = name[127] = name[191] = '.';
    name[253] = '\0';
    const char *names[] = {name};
    assert_true(e6_nd_dns_name_valid(name, NULL, 0));
    assert_int_equal(e6_nd_dnssl_size(names, 1), 8 + 256);
    e6_nd_build_init(&b, buf, sizeof(buf));
    e6_nd_put_ra(&b, &golden_ra_hdr);
    assert_int_equal(e6_nd_put_dnssl(&b, 100, names, 1), 0);
    int n = e6_nd_build_finish(&b, &ll_1, &all_nodes);
    assert_int_equal(parse(&ll_1, &all_nodes, buf, (size_t)n, &m), E6_ND_OK);
    assert_int_equal(m.n_dnssl, 1);
    assert_int_equal(strlen(m.dnssl[0].name), 253);
    assert_string_equal(m.dnssl[0].name, name);
    /* the trailing dot is allowed and does not count */
    name[253] = '.';
    name[254] = '\0';
    assert_true(e6_nd_dns_name_valid(name, NULL, 0));
    /* 254 characters is one too many */
    name[253] = 'b';
    char err[64];
    assert_false(e6_nd_dns_name_valid(name, err, sizeof(err)));
    assert_string_equal(err, "name longer than 253 characters");

    /* on the wire: four 63-octet labels make 257 octets */
    uint8_t w[260], o[280];
    for (int i = 0; i < 4; i++) {
        w[64 * i] = 63;
        memset(w + 64 * i + 1, 'c', 63);
    }
    w[256] = 0;
    expect_bad_opt(o, dnssl_opt(o, w, 257, 0), E6_ND_OPT_DNSSL, E6_ND_OB_DNS_NAME_LONG);
    /* 63+63+63+61 labels: 255 octets, accepted */
    w[192] = 61;
    w[254] = 0;
    assert_int_equal(parse_ra_opts(o, dnssl_opt(o, w, 255, 0), &m), E6_ND_OK);
    assert_int_equal(strlen(m.dnssl[0].name), 253);
    /* 63+63+63+62: 256 octets */
    w[192] = 62;
    w[255] = 0;
    expect_bad_opt(o, dnssl_opt(o, w, 256, 0), E6_ND_OPT_DNSSL, E6_ND_OB_DNS_NAME_LONG);
}

static void test_dnssl_root_empty_padding(void **state)
{
    (void)state;
    static struct e6_nd_msg m;
    uint8_t o[64];
    char err[64];
    /* the root name is a single zero octet, indistinguishable from padding */
    assert_false(e6_nd_dns_name_valid(".", err, sizeof(err)));
    assert_string_equal(err, "empty name or the root");
    assert_false(e6_nd_dns_name_valid("", NULL, 0));
    assert_false(e6_nd_dns_name_valid(NULL, err, sizeof(err)));
    assert_false(e6_nd_dns_name_valid(".example", err, sizeof(err)));
    assert_string_equal(err, "empty label");
    assert_false(e6_nd_dns_name_valid("example..com", NULL, 0));
    assert_false(e6_nd_dns_name_valid("example.com..", NULL, 0));
    assert_false(e6_nd_dns_name_valid("exa mple.com", err, sizeof(err)));
    assert_string_equal(err, "character outside [A-Za-z0-9_-]");
    assert_false(e6_nd_dns_name_valid("ex\\.ample", NULL, 0));
    assert_true(e6_nd_dns_name_valid("Under_score-1.Example", NULL, 0));
    /* a tiny error buffer truncates, never overflows */
    char tiny[4] = "xyz";
    assert_false(e6_nd_dns_name_valid("", tiny, 3));
    assert_string_equal(tiny, "em");

    /* an option with only padding has no name: ignored */
    expect_bad_opt(o, dnssl_opt(o, "", 0, 2), E6_ND_OPT_DNSSL, E6_ND_OB_EMPTY);
    /* a name that exactly fills the option needs no padding */
    static const uint8_t exact[8] = {3, 'a', 'b', 'c', 2, 'd', 'e', 0};
    assert_int_equal(parse_ra_opts(o, dnssl_opt(o, exact, 8, 0), &m), E6_ND_OK);
    assert_string_equal(m.dnssl[0].name, "abc.de");
    /* more zero padding than needed is harmless */
    assert_int_equal(parse_ra_opts(o, dnssl_opt(o, exact, 8, 4), &m), E6_ND_OK);
    assert_int_equal(m.n_dnssl, 1);
    /* anything after the padding began makes the option malformed */
    static const uint8_t after[12] = {3, 'a', 'b', 'c', 0, 0, 0, 0, 0, 1, 'x', 0};
    expect_bad_opt(o, dnssl_opt(o, after, 12, 0), E6_ND_OPT_DNSSL, E6_ND_OB_DNS_PADDING);
    /* mixed case is kept */
    static const uint8_t mixed[8] = {6, 'E', 'x', 'A', 'm', 'P', 'l', 0};
    assert_int_equal(parse_ra_opts(o, dnssl_opt(o, mixed, 8, 0), &m), E6_ND_OK);
    assert_string_equal(m.dnssl[0].name, "ExAmPl");
}

static void test_dnssl_malformed(void **state)
{
    (void)state;
    static struct e6_nd_msg m;
    uint8_t o[64];
    /* RFC 8106 5.2: no compression */
    static const uint8_t ptr[] = {7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0xc0, 0x0c};
    expect_bad_opt(o, dnssl_opt(o, ptr, sizeof(ptr), 0), E6_ND_OPT_DNSSL, E6_ND_OB_DNS_POINTER);
    /* a label running past the option */
    static const uint8_t run[] = {3, 'a', 'b', 'c', 20, 'd', 'e', 'f'};
    expect_bad_opt(o, dnssl_opt(o, run, sizeof(run), 0), E6_ND_OPT_DNSSL, E6_ND_OB_DNS_TRUNCATED);
    /* a name without its terminating zero */
    static const uint8_t unterminated[8] = {3, 'a', 'b', 'c', 3, 'd', 'e', 'f'};
    expect_bad_opt(o, dnssl_opt(o, unterminated, 8, 0), E6_ND_OPT_DNSSL, E6_ND_OB_DNS_TRUNCATED);
    static const uint8_t unterm2[8] = {3, 'a', 'b', 'c', 1, 'd', 1, 'e'};
    expect_bad_opt(o, dnssl_opt(o, unterm2, 8, 0), E6_ND_OPT_DNSSL, E6_ND_OB_DNS_TRUNCATED);
    /* characters that would mean something else in text: dot, NUL, space, control */
    static const uint8_t dot[] = {3, 'a', '.', 'c', 0};
    expect_bad_opt(o, dnssl_opt(o, dot, sizeof(dot), 0), E6_ND_OPT_DNSSL, E6_ND_OB_DNS_LABEL);
    static const uint8_t nul[] = {3, 'a', 0, 'c', 0};
    expect_bad_opt(o, dnssl_opt(o, nul, sizeof(nul), 0), E6_ND_OPT_DNSSL, E6_ND_OB_DNS_LABEL);
    static const uint8_t nl[] = {3, 'a', '\n', 'c', 0};
    expect_bad_opt(o, dnssl_opt(o, nl, sizeof(nl), 0), E6_ND_OPT_DNSSL, E6_ND_OB_DNS_LABEL);
    static const uint8_t hi[] = {3, 'a', 0xc3, 'c', 0};
    expect_bad_opt(o, dnssl_opt(o, hi, sizeof(hi), 0), E6_ND_OPT_DNSSL, E6_ND_OB_DNS_LABEL);
    /* a good name before a bad one: the whole option is ignored, nothing stored */
    static const uint8_t half[] = {3, 'a', 'b', 'c', 0, 3, 'd', ' ', 'f', 0};
    expect_bad_opt(o, dnssl_opt(o, half, sizeof(half), 0), E6_ND_OPT_DNSSL, E6_ND_OB_DNS_LABEL);
    /* length 1 holds no name at all */
    expect_bad_opt(o, dnssl_opt(o, "", 0, 1), E6_ND_OPT_DNSSL, E6_ND_OB_LENGTH);
    /* 17 names: 16 kept */
    uint8_t w[17 * 3];
    for (int i = 0; i < 17; i++) {
        w[3 * i] = 1;
        w[3 * i + 1] = (uint8_t)('a' + i);
        w[3 * i + 2] = 0;
    }
    uint8_t big[80];
    assert_int_equal(parse_ra_opts(big, dnssl_opt(big, w, sizeof(w), 0), &m), E6_ND_OK);
    assert_int_equal(m.n_dnssl, E6_ND_MAX_DNSSL);
    assert_int_equal(m.dnssl_overflow, 1);
    assert_string_equal(m.dnssl[15].name, "p");
}

static void test_dnssl_build(void **state)
{
    (void)state;
    uint8_t buf[64];
    struct e6_nd_builder b;
    /* the trailing dot makes no difference on the wire */
    const char *n1[] = {"example.com."};
    e6_nd_build_init(&b, buf, sizeof(buf));
    e6_nd_put_ra(&b, &golden_ra_hdr);
    assert_int_equal(e6_nd_put_dnssl(&b, 0xffffffffu, n1, 1), 0);
    /* clang-format off */
    static const uint8_t want[24] = {
        31, 3, 0, 0, 0xff, 0xff, 0xff, 0xff,
        7, 'e', 'x', 'a', 'm', 'p', 'l', 'e',
        3, 'c', 'o', 'm', 0, 0, 0, 0,
    };
    /* clang-format on */
    check_bytes(buf + E6_ND_RA_LEN, b.len - E6_ND_RA_LEN, want, sizeof(want));
    /* invalid inputs: no names, a NULL, the root */
    const char *bad1[] = {"."};
    const char *bad2[] = {"ok.example", NULL};
    assert_int_equal(e6_nd_dnssl_size(n1, 0), 0);
    assert_int_equal(e6_nd_dnssl_size(NULL, 1), 0);
    assert_int_equal(e6_nd_dnssl_size(bad1, 1), 0);
    assert_int_equal(e6_nd_dnssl_size(bad2, 2), 0);
    /* names that together exceed the 2040-octet option */
    static char longname[250];
    memset(longname, 'x', 60);
    longname[60] = '.';
    memset(longname + 61, 'y', 60);
    longname[121] = '\0'; /* 123 octets on the wire */
    const char *lots[17];
    for (int i = 0; i < 17; i++)
        lots[i] = longname;
    assert_int_equal(e6_nd_dnssl_size(lots, 16), 8 + 1968);
    assert_int_equal(e6_nd_dnssl_size(lots, 17), 0);
}

/* ---- captive portal, nonce, link-layer addresses ------------------------ */

static void test_opt_captive(void **state)
{
    (void)state;
    static struct e6_nd_msg m;
    uint8_t o[40];
    /* six characters fill one unit exactly, with no NUL at all */
    static const uint8_t exact[8] = {37, 1, 'h', 't', 't', 'p', 's', ':'};
    assert_int_equal(parse_ra_opts(exact, 8, &m), E6_ND_OK);
    assert_int_equal(m.captive_len, 6);
    assert_memory_equal(m.captive, "https:", 6);
    /* all NULs: no URI */
    static const uint8_t empty[8] = {37, 1};
    expect_bad_opt(empty, 8, E6_ND_OPT_CAPTIVE, E6_ND_OB_EMPTY);
    /* a NUL inside, then more text */
    static const uint8_t inner[16] = {37, 2, 'a', 'b', 0, 'c', 'd'};
    expect_bad_opt(inner, 16, E6_ND_OPT_CAPTIVE, E6_ND_OB_URI);
    /* non-printable octets (a URI has none) */
    static const uint8_t ctl[8] = {37, 1, 'a', '\n', 'b'};
    expect_bad_opt(ctl, 8, E6_ND_OPT_CAPTIVE, E6_ND_OB_URI);
    static const uint8_t sp[8] = {37, 1, 'a', ' ', 'b'};
    expect_bad_opt(sp, 8, E6_ND_OPT_CAPTIVE, E6_ND_OB_URI);
    static const uint8_t del[8] = {37, 1, 'a', 0x7f};
    expect_bad_opt(del, 8, E6_ND_OPT_CAPTIVE, E6_ND_OB_URI);

    /* build: padded to 8 with NUL */
    uint8_t buf[64];
    struct e6_nd_builder b;
    e6_nd_build_init(&b, buf, sizeof(buf));
    e6_nd_put_ra(&b, &golden_ra_hdr);
    assert_int_equal(e6_nd_put_captive(&b, "urn:ietf:params:capport:unrestricted"), 0);
    assert_int_equal(b.len, E6_ND_RA_LEN + 40); /* 2 + 36 -> 40 */
    memset(o, 0, sizeof(o));
    o[0] = 37;
    o[1] = 5;
    memcpy(o + 2, "urn:ietf:params:capport:unrestricted", 36);
    check_bytes(buf + E6_ND_RA_LEN, 40, o, 40);
    assert_int_equal(e6_nd_captive_size("123456"), 8);
    assert_int_equal(e6_nd_captive_size("1234567"), 16);
    assert_int_equal(e6_nd_captive_size(""), 0);
    assert_int_equal(e6_nd_captive_size("a b"), 0);
    assert_int_equal(e6_nd_captive_size(NULL), 0);
    assert_false(e6_nd_captive_uri_valid("http://\x01"));
    static char huge[2100];
    memset(huge, 'a', 2038);
    huge[2038] = '\0';
    assert_int_equal(e6_nd_captive_size(huge), 2040);
    huge[2038] = 'a';
    huge[2039] = '\0';
    assert_int_equal(e6_nd_captive_size(huge), 0);
    e6_nd_build_init(&b, buf, sizeof(buf));
    e6_nd_put_ra(&b, &golden_ra_hdr);
    assert_int_equal(e6_nd_put_captive(&b, "a b"), -EINVAL);
}

static void test_opt_nonce(void **state)
{
    (void)state;
    static struct e6_nd_msg m;
    static const uint8_t n14[14] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14};
    assert_int_equal(e6_nd_nonce_size(6), 8);
    assert_int_equal(e6_nd_nonce_size(14), 16);
    assert_int_equal(e6_nd_nonce_size(5), 0);
    assert_int_equal(e6_nd_nonce_size(7), 0);
    assert_int_equal(e6_nd_nonce_size(0), 0);
    uint8_t buf[64];
    struct e6_nd_builder b;
    e6_nd_build_init(&b, buf, sizeof(buf));
    e6_nd_put_ns(&b, &db8_1_10);
    assert_int_equal(e6_nd_put_nonce(&b, n14, 14), 0);
    int n = e6_nd_build_finish(&b, &unspec, &snm_10);
    assert_int_equal(n, 24 + 16);
    assert_int_equal(buf[24], 14);
    assert_int_equal(buf[25], 2);
    assert_memory_equal(buf + 26, n14, 14);
    assert_int_equal(parse(&unspec, &snm_10, buf, (size_t)n, &m), E6_ND_OK);
    assert_int_equal(m.nonce_len, 14);
    assert_memory_equal(m.nonce, n14, 14);
    e6_nd_build_init(&b, buf, sizeof(buf));
    e6_nd_put_ns(&b, &db8_1_10);
    assert_int_equal(e6_nd_put_nonce(&b, n14, 7), -EINVAL);
}

static void test_opt_lladdr(void **state)
{
    (void)state;
    static struct e6_nd_msg m;
    uint8_t mac[6];
    /* an 8-byte (EUI-64, IEEE 802.15.4) address takes two units, zero padded */
    static const uint8_t eui64[8] = {0x02, 0x00, 0x5e, 0xef, 0x10, 0x00, 0x00, 0x01};
    uint8_t buf[64];
    struct e6_nd_builder b;
    e6_nd_build_init(&b, buf, sizeof(buf));
    e6_nd_put_rs(&b);
    assert_int_equal(e6_nd_put_lladdr(&b, E6_ND_OPT_SLLA, eui64, 8), 0);
    int n = e6_nd_build_finish(&b, &ll_2, &all_routers);
    assert_int_equal(n, 8 + 16);
    static const uint8_t want[16] = {1, 2, 0x02, 0x00, 0x5e, 0xef, 0x10, 0x00, 0x00, 0x01};
    check_bytes(buf + 8, 16, want, 16);
    assert_int_equal(parse(&ll_2, &all_routers, buf, (size_t)n, &m), E6_ND_OK);
    assert_int_equal(m.slla.len, 14);
    assert_memory_equal(m.slla.addr, eui64, 8);
    assert_false(e6_nd_lladdr_eth(&m.slla, mac));

    assert_int_equal(e6_nd_lladdr_size(6), 8);
    assert_int_equal(e6_nd_lladdr_size(7), 16);
    assert_int_equal(e6_nd_lladdr_size(20), 24); /* InfiniBand */
    assert_int_equal(e6_nd_lladdr_size(0), 0);
    assert_int_equal(e6_nd_lladdr_size(2038), 2040);
    assert_int_equal(e6_nd_lladdr_size(2039), 0);

    e6_nd_build_init(&b, buf, sizeof(buf));
    e6_nd_put_rs(&b);
    assert_int_equal(e6_nd_put_lladdr(&b, E6_ND_OPT_SLLA, eui64, 0), -EINVAL);
    e6_nd_build_init(&b, buf, sizeof(buf));
    e6_nd_put_rs(&b);
    assert_int_equal(e6_nd_put_lladdr(&b, E6_ND_OPT_MTU, eui64, 6), -EINVAL);
    e6_nd_build_init(&b, buf, sizeof(buf));
    e6_nd_put_rs(&b);
    assert_int_equal(e6_nd_put_lladdr(&b, E6_ND_OPT_SLLA, NULL, 6), -EINVAL);
    /* a TLLA belongs in an NA, not an RS */
    e6_nd_build_init(&b, buf, sizeof(buf));
    e6_nd_put_rs(&b);
    assert_int_equal(e6_nd_put_lladdr(&b, E6_ND_OPT_TLLA, eui64, 6), -EINVAL);
}

/* ---- builder rules ----------------------------------------------------- */

static void test_build_bounds(void **state)
{
    (void)state;
    /*
     * Every capacity below the full size must fail with -ENOSPC and leave the
     * bytes beyond the capacity untouched; the full size must succeed.
     */
    uint8_t buf[sizeof(g_ra) + 16];
    for (size_t cap = 0; cap <= sizeof(g_ra); cap++) {
        memset(buf, 0xa5, sizeof(buf));
        int r = build_golden_ra(buf, cap);
        if (cap < sizeof(g_ra))
            assert_int_equal(r, -ENOSPC);
        else
            assert_int_equal(r, sizeof(g_ra));
        for (size_t i = cap; i < sizeof(buf); i++)
            if (buf[i] != 0xa5)
                fail_msg("cap %zu: byte %zu written", cap, i);
    }
    /* the error latches: later puts are no-ops, even ones that would fit */
    uint8_t small[20];
    struct e6_nd_builder b;
    e6_nd_build_init(&b, small, sizeof(small));
    assert_int_equal(e6_nd_put_ra(&b, &golden_ra_hdr), 0);
    assert_int_equal(e6_nd_put_mtu(&b, 1500), -ENOSPC);
    assert_int_equal(b.len, E6_ND_RA_LEN);
    assert_int_equal(e6_nd_put_nonce(&b, (const uint8_t *)"abcdef", 6), -ENOSPC);
    assert_int_equal(e6_nd_build_finish(&b, &ll_1, &all_nodes), -ENOSPC);
    /* a NULL buffer is a zero capacity */
    e6_nd_build_init(&b, NULL, 100);
    assert_int_equal(e6_nd_put_rs(&b), -ENOSPC);
}

static void test_build_order(void **state)
{
    (void)state;
    uint8_t buf[128];
    struct e6_nd_builder b;
    /* finish without a header */
    e6_nd_build_init(&b, buf, sizeof(buf));
    assert_int_equal(e6_nd_build_finish(&b, &ll_1, &all_nodes), -EINVAL);
    /* an option before the header */
    e6_nd_build_init(&b, buf, sizeof(buf));
    assert_int_equal(e6_nd_put_mtu(&b, 1500), -EINVAL);
    assert_int_equal(e6_nd_put_ra(&b, &golden_ra_hdr), -EINVAL); /* latched */
    assert_int_equal(b.len, 0);
    /* two headers */
    e6_nd_build_init(&b, buf, sizeof(buf));
    assert_int_equal(e6_nd_put_rs(&b), 0);
    assert_int_equal(e6_nd_put_rs(&b), -EINVAL);
    /* RA options in an NS, NA */
    e6_nd_build_init(&b, buf, sizeof(buf));
    e6_nd_put_ns(&b, &db8_1_10);
    assert_int_equal(e6_nd_put_mtu(&b, 1500), -EINVAL);
    e6_nd_build_init(&b, buf, sizeof(buf));
    e6_nd_put_na(&b, 0, &db8_1_10);
    assert_int_equal(e6_nd_put_rdnss(&b, 1, &db8_1_53, 1), -EINVAL);
    e6_nd_build_init(&b, buf, sizeof(buf));
    e6_nd_put_na(&b, 0, &db8_1_10);
    assert_int_equal(e6_nd_put_lladdr(&b, E6_ND_OPT_SLLA, mac_1, 6), -EINVAL);
}

static void test_build_finish_rules(void **state)
{
    (void)state;
    uint8_t buf[128];
    struct e6_nd_builder b;
    /* an RA from a global address would be dropped by every host */
    e6_nd_build_init(&b, buf, sizeof(buf));
    e6_nd_put_ra(&b, &golden_ra_hdr);
    assert_int_equal(e6_nd_build_finish(&b, &db8_1_2, &all_nodes), -EINVAL);
    /* RS and NS from :: with an SLLA */
    e6_nd_build_init(&b, buf, sizeof(buf));
    e6_nd_put_rs(&b);
    e6_nd_put_lladdr(&b, E6_ND_OPT_SLLA, mac_1, 6);
    assert_int_equal(e6_nd_build_finish(&b, &unspec, &all_routers), -EINVAL);
    e6_nd_build_init(&b, buf, sizeof(buf));
    e6_nd_put_rs(&b);
    assert_int_equal(e6_nd_build_finish(&b, &unspec, &all_routers), 8);
    e6_nd_build_init(&b, buf, sizeof(buf));
    e6_nd_put_ns(&b, &db8_1_10);
    e6_nd_put_lladdr(&b, E6_ND_OPT_SLLA, mac_1, 6);
    assert_int_equal(e6_nd_build_finish(&b, &unspec, &snm_10), -EINVAL);
    /* DAD not to a solicited-node group */
    e6_nd_build_init(&b, buf, sizeof(buf));
    e6_nd_put_ns(&b, &db8_1_10);
    assert_int_equal(e6_nd_build_finish(&b, &unspec, &all_nodes), -EINVAL);
    /* NA with S to a multicast group; without S it is an unsolicited NA */
    e6_nd_build_init(&b, buf, sizeof(buf));
    e6_nd_put_na(&b, E6_ND_NA_S, &db8_1_10);
    assert_int_equal(e6_nd_build_finish(&b, &db8_1_10, &all_nodes), -EINVAL);
    e6_nd_build_init(&b, buf, sizeof(buf));
    e6_nd_put_na(&b, E6_ND_NA_O, &db8_1_10);
    assert_int_equal(e6_nd_build_finish(&b, &db8_1_10, &all_nodes), 24);
    /* a multicast source for anything */
    e6_nd_build_init(&b, buf, sizeof(buf));
    e6_nd_put_na(&b, E6_ND_NA_O, &db8_1_10);
    assert_int_equal(e6_nd_build_finish(&b, &all_nodes, &ll_2), -EINVAL);
    /* finishing twice gives the same checksum */
    e6_nd_build_init(&b, buf, sizeof(buf));
    e6_nd_put_rs(&b);
    e6_nd_put_lladdr(&b, E6_ND_OPT_SLLA, mac_2, 6);
    assert_int_equal(e6_nd_build_finish(&b, &ll_2, &all_routers), 16);
    assert_int_equal(e6_nd_build_finish(&b, &ll_2, &all_routers), 16);
    check_bytes(buf, 16, g_rs, sizeof(g_rs));
}

static void test_build_ra_header(void **state)
{
    (void)state;
    static struct e6_nd_msg m;
    uint8_t buf[64];
    struct e6_nd_builder b;
    struct e6_nd_ra ra = golden_ra_hdr;
    /* RFC 4191 2.2: router lifetime 0 forces preference 00 */
    ra.router_lifetime = 0;
    ra.prf = E6_ND_PRF_LOW;
    e6_nd_build_init(&b, buf, sizeof(buf));
    assert_int_equal(e6_nd_put_ra(&b, &ra), 0);
    assert_int_equal(buf[5], 0xc0);
    /* every preference value at lifetime > 0, and the H and P flags */
    static const struct {
        enum e6_nd_prf prf;
        uint8_t bits;
    } v[] = {{E6_ND_PRF_MEDIUM, 0x00}, {E6_ND_PRF_HIGH, 0x08}, {E6_ND_PRF_LOW, 0x18}};
    for (size_t i = 0; i < 3; i++) {
        ra = golden_ra_hdr;
        ra.flags = E6_ND_RA_H | E6_ND_RA_P;
        ra.prf = v[i].prf;
        e6_nd_build_init(&b, buf, sizeof(buf));
        assert_int_equal(e6_nd_put_ra(&b, &ra), 0);
        assert_int_equal(buf[5], 0x24 | v[i].bits);
        int n = e6_nd_build_finish(&b, &ll_1, &all_nodes);
        assert_int_equal(parse(&ll_1, &all_nodes, buf, (size_t)n, &m), E6_ND_OK);
        assert_int_equal(m.ra.prf, v[i].prf);
        assert_int_equal(m.ra.flags, E6_ND_RA_H | E6_ND_RA_P);
        assert_false(m.ra_prf_reserved);
    }
    /* on receipt a reserved preference reads as medium, and is noted */
    buf[5] = 0x10 | 0x02; /* Prf 10 and a reserved flag bit */
    e6_ip6_icmp6_cksum_set(&ll_1, &all_nodes, buf, 16);
    assert_int_equal(parse(&ll_1, &all_nodes, buf, 16, &m), E6_ND_OK);
    assert_int_equal(m.ra.prf, E6_ND_PRF_MEDIUM);
    assert_true(m.ra_prf_reserved);
    assert_int_equal(m.ra.flags, 0x02);
    /* bad arguments */
    ra = golden_ra_hdr;
    ra.prf = E6_ND_PRF_RESERVED;
    e6_nd_build_init(&b, buf, sizeof(buf));
    assert_int_equal(e6_nd_put_ra(&b, &ra), -EINVAL);
    ra.prf = (enum e6_nd_prf)4;
    e6_nd_build_init(&b, buf, sizeof(buf));
    assert_int_equal(e6_nd_put_ra(&b, &ra), -EINVAL);
    ra = golden_ra_hdr;
    ra.flags = 0x08; /* a preference bit passed as a flag */
    e6_nd_build_init(&b, buf, sizeof(buf));
    assert_int_equal(e6_nd_put_ra(&b, &ra), -EINVAL);
    ra.flags = 0x01;
    e6_nd_build_init(&b, buf, sizeof(buf));
    assert_int_equal(e6_nd_put_ra(&b, &ra), -EINVAL);
}

static void test_build_bad_args(void **state)
{
    (void)state;
    uint8_t buf[2200];
    struct e6_nd_builder b;
#define RA_BUILDER()                                                                               \
    do {                                                                                           \
        e6_nd_build_init(&b, buf, sizeof(buf));                                                    \
        e6_nd_put_ra(&b, &golden_ra_hdr);                                                          \
    } while (0)
    struct e6_nd_pio pio = {.prefix = {.addr = db8_1_2, .len = 64},
                            .flags = E6_ND_PIO_L | E6_ND_PIO_A,
                            .valid = 100,
                            .preferred = 100};
    RA_BUILDER();
    assert_int_equal(e6_nd_put_pio(&b, &pio), 0);
    /* host bits are not sent */
    assert_int_equal(buf[16 + 31], 0);
    pio.preferred = 101;
    RA_BUILDER();
    assert_int_equal(e6_nd_put_pio(&b, &pio), -EINVAL);
    pio.preferred = 100;
    pio.flags = 0x08;
    RA_BUILDER();
    assert_int_equal(e6_nd_put_pio(&b, &pio), -EINVAL);
    pio.flags = E6_ND_PIO_L;
    pio.prefix.len = 129;
    RA_BUILDER();
    assert_int_equal(e6_nd_put_pio(&b, &pio), -EINVAL);
    /* R: the full router address goes out, and it must be inside the prefix */
    pio.prefix.len = 64;
    pio.flags = E6_ND_PIO_L | E6_ND_PIO_R;
    pio.raw = db8_1_2;
    RA_BUILDER();
    assert_int_equal(e6_nd_put_pio(&b, &pio), 0);
    assert_memory_equal(buf + 16 + 16, &db8_1_2, 16);
    pio.raw = db8_9_1;
    RA_BUILDER();
    assert_int_equal(e6_nd_put_pio(&b, &pio), -EINVAL);

    RA_BUILDER();
    assert_int_equal(e6_nd_put_mtu(&b, 1279), -EINVAL);
    RA_BUILDER();
    assert_int_equal(e6_nd_put_mtu(&b, 1280), 0);
    /* a second one would be ignored by receivers as a duplicate */
    assert_int_equal(e6_nd_put_mtu(&b, 9000), -EINVAL);
    RA_BUILDER();
    assert_int_equal(e6_nd_put_mtu(&b, 9000), 0);
    assert_int_equal(e6_nd_put_captive(&b, "https://a.example/"), 0);
    assert_int_equal(e6_nd_put_captive(&b, "https://b.example/"), -EINVAL);
    RA_BUILDER();
    assert_int_equal(e6_nd_put_lladdr(&b, E6_ND_OPT_SLLA, mac_1, 6), 0);
    assert_int_equal(e6_nd_put_lladdr(&b, E6_ND_OPT_SLLA, mac_2, 6), -EINVAL);
    e6_nd_build_init(&b, buf, sizeof(buf));
    e6_nd_put_ns(&b, &db8_1_10);
    assert_int_equal(e6_nd_put_nonce(&b, (const uint8_t *)"abcdef", 6), 0);
    assert_int_equal(e6_nd_put_nonce(&b, (const uint8_t *)"abcdef", 6), -EINVAL);
    /* the options that may repeat */
    RA_BUILDER();
    for (int i = 0; i < 3; i++) {
        assert_int_equal(e6_nd_put_rdnss(&b, 1, &db8_1_53, 1), 0);
        const char *dn[] = {"example.com"};
        assert_int_equal(e6_nd_put_dnssl(&b, 1, dn, 1), 0);
        struct e6_nd_route rr = {.prefix = {.addr = db8_9_1, .len = 64}};
        assert_int_equal(e6_nd_put_route(&b, &rr), 0);
        struct e6_prefix pp = {.addr = db8_9_1, .len = 96};
        assert_int_equal(e6_nd_put_pref64(&b, 1, &pp), 0);
        struct e6_nd_pio pi = {.prefix = {.addr = db8_9_1, .len = 64}};
        assert_int_equal(e6_nd_put_pio(&b, &pi), 0);
    }

    /* RDNSS: 1..127 real unicast servers */
    static struct in6_addr servers[128];
    for (int i = 0; i < 128; i++) {
        servers[i] = db8_1_53;
        servers[i].s6_addr[13] = (uint8_t)i;
    }
    RA_BUILDER();
    assert_int_equal(e6_nd_put_rdnss(&b, 1, servers, 0), -EINVAL);
    RA_BUILDER();
    assert_int_equal(e6_nd_put_rdnss(&b, 1, servers, 128), -EINVAL);
    RA_BUILDER();
    assert_int_equal(e6_nd_put_rdnss(&b, 1, NULL, 1), -EINVAL);
    RA_BUILDER();
    assert_int_equal(e6_nd_put_rdnss(&b, 1, &all_nodes, 1), -EINVAL);
    RA_BUILDER();
    assert_int_equal(e6_nd_put_rdnss(&b, 1, &unspec, 1), -EINVAL);
    /* 127 servers make the largest option there is */
    RA_BUILDER();
    assert_int_equal(e6_nd_rdnss_size(127), 2040);
    assert_int_equal(e6_nd_put_rdnss(&b, 1, servers, 127), 0);
    assert_int_equal(buf[16 + 1], 255);
    int n = e6_nd_build_finish(&b, &ll_1, &all_nodes);
    assert_int_equal(n, 16 + 2040);
    static struct e6_nd_msg m;
    assert_int_equal(parse(&ll_1, &all_nodes, buf, (size_t)n, &m), E6_ND_OK);
    assert_int_equal(m.n_rdnss, 16);
    assert_int_equal(m.rdnss_overflow, 111);
    assert_int_equal(m.rdnss[15].addr.s6_addr[13], 15);

    /* RIO: bad length or reserved preference */
    struct e6_nd_route r = {.prefix = {.addr = db8_1_2, .len = 129}};
    RA_BUILDER();
    assert_int_equal(e6_nd_put_route(&b, &r), -EINVAL);
    r.prefix.len = 64;
    r.prf = E6_ND_PRF_RESERVED;
    RA_BUILDER();
    assert_int_equal(e6_nd_put_route(&b, &r), -EINVAL);

    /* NS/NA targets and NA flags */
    e6_nd_build_init(&b, buf, sizeof(buf));
    assert_int_equal(e6_nd_put_ns(&b, &all_nodes), -EINVAL);
    e6_nd_build_init(&b, buf, sizeof(buf));
    assert_int_equal(e6_nd_put_na(&b, 0, &snm_10), -EINVAL);
    e6_nd_build_init(&b, buf, sizeof(buf));
    assert_int_equal(e6_nd_put_na(&b, 0x10, &db8_1_10), -EINVAL);
    e6_nd_build_init(&b, buf, sizeof(buf));
    assert_int_equal(e6_nd_put_na(&b, E6_ND_NA_R | E6_ND_NA_S | E6_ND_NA_O, &db8_1_10), 0);
    assert_int_equal(buf[4], 0xe0);
#undef RA_BUILDER
}

static void test_sizes(void **state)
{
    (void)state;
    assert_int_equal(E6_ND_PIO_SIZE, 32);
    assert_int_equal(E6_ND_MTU_SIZE, 8);
    assert_int_equal(E6_ND_PREF64_SIZE, 16);
    assert_int_equal(e6_nd_rdnss_size(0), 0);
    assert_int_equal(e6_nd_rdnss_size(1), 24);
    assert_int_equal(e6_nd_rdnss_size(3), 56);
    assert_int_equal(e6_nd_rdnss_size(127), 2040);
    assert_int_equal(e6_nd_rdnss_size(128), 0);
    assert_int_equal(e6_nd_rdnss_size((size_t)-1), 0);
    const char *names[] = {"example.com", "lab.example.org"};
    assert_int_equal(e6_nd_dnssl_size(names, 2), 40);
    assert_int_equal(e6_nd_dnssl_size(names, 1), 24);
    /* the sizes add up to what the builder writes */
    size_t planned = E6_ND_RA_LEN + e6_nd_lladdr_size(6) + E6_ND_MTU_SIZE + E6_ND_PIO_SIZE +
                     e6_nd_route_size(48) + e6_nd_rdnss_size(1) + e6_nd_dnssl_size(names, 2) +
                     E6_ND_PREF64_SIZE + e6_nd_captive_size("https://portal.example/api");
    assert_int_equal(planned, sizeof(g_ra));
}

/* ---- round trips ------------------------------------------------------- */

/* An RA with many options of every kind, in unusual but legal shapes (fe80::1 -> fe80::2) */
static const unsigned rich_rlens[] = {0, 1, 64, 65, 128};
static const struct in6_addr rich_dns[3] = {
    A16(0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53),
    A16(0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1),
    A16(0x20, 0x01, 0x0d, 0xb8, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1),
};
static const char *const rich_names[] = {"a.example", "B-2.example.net", "_x.example"};
static const uint8_t rich_ib[20] = {0x80, 0, 0, 0x48, 0xfe, 0x80, 0, 0, 0, 0,
                                    0,    0, 0, 2,    0xc9, 0,    1, 2, 3, 4};
static const uint8_t rich_nonce[6] = {9, 8, 7, 6, 5, 4};

static int build_rich_ra(uint8_t *buf, size_t cap)
{
    struct e6_nd_builder b;
    e6_nd_build_init(&b, buf, cap);
    struct e6_nd_ra ra = {.cur_hop_limit = 255,
                          .flags = E6_ND_RA_O,
                          .prf = E6_ND_PRF_LOW,
                          .router_lifetime = 65535,
                          .reachable = 3600000,
                          .retrans = 0xffffffffu};
    assert_int_equal(e6_nd_put_ra(&b, &ra), 0);
    assert_int_equal(e6_nd_put_lladdr(&b, E6_ND_OPT_SLLA, rich_ib, 20), 0);
    assert_int_equal(e6_nd_put_mtu(&b, 1280), 0);
    for (unsigned i = 0; i < 3; i++) {
        struct e6_nd_pio p = {.prefix = {.addr = db8_1_2, .len = (uint8_t)(48 + 8 * i)},
                              .flags = i == 1 ? E6_ND_PIO_L : E6_ND_PIO_A,
                              .valid = 7200 + i,
                              .preferred = i};
        p.prefix.addr.s6_addr[5] = (uint8_t)i;
        assert_int_equal(e6_nd_put_pio(&b, &p), 0);
    }
    for (unsigned i = 0; i < 5; i++) {
        struct e6_nd_route r = {.prefix = {.addr = db8_9_1, .len = (uint8_t)rich_rlens[i]},
                                .prf = E6_ND_PRF_MEDIUM,
                                .lifetime = 0xffffffffu - i};
        assert_int_equal(e6_nd_put_route(&b, &r), 0);
    }
    assert_int_equal(e6_nd_put_rdnss(&b, 0, rich_dns, 3), 0);
    assert_int_equal(e6_nd_put_dnssl(&b, 0xffffffffu, rich_names, 3), 0);
    struct e6_prefix p64 = {.addr = A16(0x20, 0x01, 0x0d, 0xb8, 0, 0x46), .len = 56};
    assert_int_equal(e6_nd_put_pref64(&b, 3, &p64), 0);
    assert_int_equal(e6_nd_put_captive(&b, "https://cp.example/?a=b&c"), 0);
    assert_int_equal(e6_nd_put_nonce(&b, rich_nonce, 6), 0);
    return e6_nd_build_finish(&b, &ll_1, &ll_2);
}

static void test_roundtrip_ra_all(void **state)
{
    (void)state;
    static struct e6_nd_msg m;
    static uint8_t buf[1500];
    int n = build_rich_ra(buf, sizeof(buf));
    assert_true(n > 0);

    assert_int_equal(parse(&ll_1, &ll_2, buf, (size_t)n, &m), E6_ND_OK);
    assert_int_equal(m.ra.cur_hop_limit, 255);
    assert_int_equal(m.ra.flags, E6_ND_RA_O);
    assert_int_equal(m.ra.prf, E6_ND_PRF_LOW);
    assert_int_equal(m.ra.router_lifetime, 65535);
    assert_int_equal(m.ra.reachable, 3600000);
    assert_int_equal(m.ra.retrans, 0xffffffffu);
    assert_int_equal(m.slla.len, 22);
    assert_memory_equal(m.slla.addr, rich_ib, 20);
    assert_int_equal(m.mtu, 1280);
    assert_int_equal(m.n_pio, 3);
    for (unsigned i = 0; i < 3; i++) {
        assert_int_equal(m.pio[i].prefix.len, 48 + 8 * i);
        assert_int_equal(m.pio[i].prefix.addr.s6_addr[5], i);
        assert_int_equal(m.pio[i].prefix.addr.s6_addr[15], 0);
        assert_int_equal(m.pio[i].valid, 7200 + i);
        assert_int_equal(m.pio[i].preferred, i);
        assert_int_equal(m.pio[i].flags, i == 1 ? E6_ND_PIO_L : E6_ND_PIO_A);
    }
    assert_int_equal(m.n_rio, 5);
    for (unsigned i = 0; i < 5; i++) {
        struct e6_prefix want = {.addr = db8_9_1, .len = (uint8_t)rich_rlens[i]};
        /* mask by hand */
        for (unsigned bit = rich_rlens[i]; bit < 128; bit++)
            want.addr.s6_addr[bit / 8] &= (uint8_t) ~(0x80 >> (bit % 8));
        assert_memory_equal(&m.rio[i].prefix.addr, &want.addr, 16);
        assert_int_equal(m.rio[i].prefix.len, rich_rlens[i]);
        assert_int_equal(m.rio[i].lifetime, 0xffffffffu - i);
        assert_int_equal(m.rio[i].prf, E6_ND_PRF_MEDIUM);
    }
    assert_int_equal(m.n_rdnss, 3);
    for (unsigned i = 0; i < 3; i++) {
        assert_memory_equal(&m.rdnss[i].addr, &rich_dns[i], 16);
        assert_int_equal(m.rdnss[i].lifetime, 0);
    }
    assert_int_equal(m.n_dnssl, 3);
    for (unsigned i = 0; i < 3; i++)
        assert_string_equal(m.dnssl[i].name, rich_names[i]);
    assert_int_equal(m.n_pref64, 1);
    assert_int_equal(m.pref64[0].prefix.len, 56);
    assert_int_equal(m.pref64[0].lifetime, 8);
    assert_int_equal(m.pref64[0].prefix.addr.s6_addr[5], 0x46);
    assert_int_equal(m.captive_len, strlen("https://cp.example/?a=b&c"));
    assert_memory_equal(m.captive, "https://cp.example/?a=b&c", m.captive_len);
    assert_int_equal(m.nonce_len, 6);
    assert_memory_equal(m.nonce, rich_nonce, 6);
    assert_int_equal(m.n_bad, 0);
    assert_int_equal(m.n_unknown, 0);
    assert_int_equal(m.n_opts, 1 + 1 + 3 + 5 + 1 + 1 + 1 + 1 + 1);
}

static void test_roundtrip_small(void **state)
{
    (void)state;
    static struct e6_nd_msg m;
    uint8_t buf[128];
    struct e6_nd_builder b;
    /* RS from :: without options */
    e6_nd_build_init(&b, buf, sizeof(buf));
    e6_nd_put_rs(&b);
    int n = e6_nd_build_finish(&b, &unspec, &all_routers);
    assert_int_equal(parse(&unspec, &all_routers, buf, (size_t)n, &m), E6_ND_OK);
    assert_int_equal(m.type, E6_ND_RS);
    assert_int_equal(m.n_opts, 0);
    /* NS for NUD, unicast, with nonce and SLLA */
    e6_nd_build_init(&b, buf, sizeof(buf));
    e6_nd_put_ns(&b, &db8_9_1);
    e6_nd_put_lladdr(&b, E6_ND_OPT_SLLA, mac_1, 6);
    e6_nd_put_nonce(&b, (const uint8_t *)"\x11\x22\x33\x44\x55\x66", 6);
    n = e6_nd_build_finish(&b, &db8_1_2, &db8_9_1);
    assert_int_equal(n, 40);
    assert_int_equal(parse(&db8_1_2, &db8_9_1, buf, (size_t)n, &m), E6_ND_OK);
    assert_memory_equal(&m.target, &db8_9_1, 16);
    assert_memory_equal(m.slla.addr, mac_1, 6);
    assert_int_equal(m.nonce[5], 0x66);
    /* NA for DAD defence to all-nodes: O only */
    e6_nd_build_init(&b, buf, sizeof(buf));
    e6_nd_put_na(&b, E6_ND_NA_O | E6_ND_NA_R, &db8_1_10);
    e6_nd_put_lladdr(&b, E6_ND_OPT_TLLA, mac_2, 6);
    n = e6_nd_build_finish(&b, &db8_1_10, &all_nodes);
    assert_int_equal(parse(&db8_1_10, &all_nodes, buf, (size_t)n, &m), E6_ND_OK);
    assert_int_equal(m.na_flags, E6_ND_NA_O | E6_ND_NA_R);
    assert_memory_equal(m.tlla.addr, mac_2, 6);
}

/* ---- names and coverage ------------------------------------------------ */

static void test_names(void **state)
{
    (void)state;
    for (int i = 0; i < E6_ND_R__COUNT; i++) {
        const char *n = e6_nd_reject_name((enum e6_nd_reject)i);
        assert_non_null(n);
        assert_true(strlen(n) > 0);
        assert_string_not_equal(n, "unknown");
        for (int j = 0; j < i; j++)
            assert_string_not_equal(n, e6_nd_reject_name((enum e6_nd_reject)j));
    }
    assert_string_equal(e6_nd_reject_name(E6_ND_R__COUNT), "unknown");
    assert_string_equal(e6_nd_reject_name(E6_ND_R_HOP_LIMIT), "hop_limit");
    for (int i = 1; i < E6_ND_OB__COUNT; i++) {
        const char *n = e6_nd_optbad_name((enum e6_nd_optbad_reason)i);
        assert_non_null(n);
        assert_string_not_equal(n, "unknown");
        for (int j = 1; j < i; j++)
            assert_string_not_equal(n, e6_nd_optbad_name((enum e6_nd_optbad_reason)j));
    }
    assert_string_equal(e6_nd_optbad_name(E6_ND_OB__COUNT), "unknown");
    assert_string_equal(e6_nd_optbad_name(E6_ND_OB_DNS_POINTER), "dns_pointer");
}

/* Must run after all the others: every reason has been produced by some test above */
static void test_every_reason_covered(void **state)
{
    (void)state;
    for (int i = 0; i < E6_ND_R__COUNT; i++)
        if (!seen_reject[i])
            fail_msg("no test produced reject reason %s", e6_nd_reject_name((enum e6_nd_reject)i));
    for (int i = 1; i < E6_ND_OB__COUNT; i++)
        if (!seen_bad[i])
            fail_msg("no test produced option reason %s",
                     e6_nd_optbad_name((enum e6_nd_optbad_reason)i));
}

/* ---- seed corpus and pcap for tshark ----------------------------------- */

static void write_file(const char *dir, const char *name, const void *data, size_t len)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
    fclose(f);
}

/* a pcap record (LINKTYPE_RAW) for pkt; returns the new end */
static size_t pcap_add(uint8_t *pcap, size_t pl, const uint8_t *pkt, size_t n)
{
    uint8_t rec[16] = {0};
    for (int k = 0; k < 4; k++)
        rec[8 + k] = rec[12 + k] = (uint8_t)(n >> (8 * k));
    memcpy(pcap + pl, rec, 16);
    memcpy(pcap + pl + 16, pkt, n);
    return pl + 16 + n;
}

/*
 * Write the golden messages and the rich RA as full IPv6 packets: one file
 * each into dir (fuzz seeds), and all of them into one pcap for tshark
 * (tests/data/nd_tshark.sh).
 */
static void dump(const char *dir, const char *pcap_path)
{
    static uint8_t pcap[65536];
    static const uint8_t ghdr[24] = {0xd4, 0xc3, 0xb2, 0xa1, 2,    0,    4, 0, 0,   0, 0, 0,
                                     0,    0,    0,    0,    0xff, 0xff, 0, 0, 101, 0, 0, 0};
    static const uint8_t hbh[8] = {58, 0, 0x01, 0x04, 0, 0, 0, 0};
    uint8_t pkt[2048];
    char name[64];
    size_t pl = 24, n;
    memcpy(pcap, ghdr, 24);
    for (size_t i = 0; i < N_GOLDEN; i++) {
        n = make_pkt(pkt, &goldens[i], NULL, 0, 0);
        pl = pcap_add(pcap, pl, pkt, n);
        snprintf(name, sizeof(name), "golden_%s", goldens[i].name);
        if (dir)
            write_file(dir, name, pkt, n);
        /* the same behind a Hop-by-Hop header */
        n = make_pkt(pkt, &goldens[i], hbh, 8, 0);
        snprintf(name, sizeof(name), "hbh_%s", goldens[i].name);
        if (dir)
            write_file(dir, name, pkt, n);
    }
    uint8_t icmp[1500];
    int len = build_rich_ra(icmp, sizeof(icmp));
    struct golden rich = {"rich_ra", &ll_1, &ll_2, icmp, (size_t)len};
    n = make_pkt(pkt, &rich, NULL, 0, 0);
    pl = pcap_add(pcap, pl, pkt, n);
    if (dir)
        write_file(dir, "rich_ra", pkt, n);
    if (pcap_path) {
        FILE *f = fopen(pcap_path, "wb");
        if (!f || fwrite(pcap, 1, pl, f) != pl || fclose(f) != 0) {
            fprintf(stderr, "cannot write %s\n", pcap_path);
            exit(1);
        }
    }
}

int main(void)
{
    const char *dir = getenv("E6_ND_DUMP_DIR");
    const char *pcap = getenv("E6_ND_PCAP");
    if ((dir && *dir) || (pcap && *pcap))
        dump(dir && *dir ? dir : NULL, pcap && *pcap ? pcap : NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build_ra_golden),
        cmocka_unit_test(test_build_rs_ns_na_golden),
        cmocka_unit_test(test_parse_goldens_ok),
        cmocka_unit_test(test_parse_rs),
        cmocka_unit_test(test_parse_ra),
        cmocka_unit_test(test_parse_ns_na),
        cmocka_unit_test(test_parse_redirect),
        cmocka_unit_test(test_reject_common),
        cmocka_unit_test(test_reject_options_structure),
        cmocka_unit_test(test_reject_rs),
        cmocka_unit_test(test_reject_ra),
        cmocka_unit_test(test_reject_ns),
        cmocka_unit_test(test_reject_na),
        cmocka_unit_test(test_reject_redirect),
        cmocka_unit_test(test_parse_ip6),
        cmocka_unit_test(test_opt_unknown_misplaced),
        cmocka_unit_test(test_opt_duplicates),
        cmocka_unit_test(test_opt_bad_overflow),
        cmocka_unit_test(test_opt_mtu),
        cmocka_unit_test(test_opt_pio),
        cmocka_unit_test(test_opt_rdnss),
        cmocka_unit_test(test_opt_rio_lengths),
        cmocka_unit_test(test_pref64_lifetime),
        cmocka_unit_test(test_opt_pref64),
        cmocka_unit_test(test_dnssl_label_63_64),
        cmocka_unit_test(test_dnssl_name_length),
        cmocka_unit_test(test_dnssl_root_empty_padding),
        cmocka_unit_test(test_dnssl_malformed),
        cmocka_unit_test(test_dnssl_build),
        cmocka_unit_test(test_opt_captive),
        cmocka_unit_test(test_opt_nonce),
        cmocka_unit_test(test_opt_lladdr),
        cmocka_unit_test(test_build_bounds),
        cmocka_unit_test(test_build_order),
        cmocka_unit_test(test_build_finish_rules),
        cmocka_unit_test(test_build_ra_header),
        cmocka_unit_test(test_build_bad_args),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_roundtrip_ra_all),
        cmocka_unit_test(test_roundtrip_small),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_every_reason_covered),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
