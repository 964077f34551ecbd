/*
 * tests/unit/test_gso: the TUN offload helpers (tunnel/gso.h) on crafted
 * packets: the checksum arithmetic against common/ip6's independent one,
 * every refusal of gso_parse, segmentation of TCP super-packets (each
 * segment's every field and checksum), checksum completion, and the
 * coalescing plan (what merges, what does not, order) with its builder,
 * checked by segmenting the built super-packet back into the originals.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/addr.h"
#include "common/ip6.h"
#include "tunnel/gso.h"

#define SRC "2001:db8:9:10::100"
#define DST "2001:db8:1::2"

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static struct in6_addr A6(const char *s) {
    struct in6_addr a;
    assert_true(e6_addr_parse(s, &a));
    return a;
}

/* the TCP checksum of a whole IPv6+TCP packet, computed by common/ip6 */
static bool
tcp_cksum_ok(const uint8_t *p, size_t len)
{
    struct in6_addr s, d;
    memcpy(&s, p + 8, 16);
    memcpy(&d, p + 24, 16);
    return e6_ip6_cksum(&s, &d, 6, p + 40, len - 40) == 0;
}

static void tcp_cksum_set(uint8_t *p, size_t len)
{
    struct in6_addr s, d;
    memcpy(&s, p + 8, 16);
    memcpy(&d, p + 24, 16);
    wr16(p + 56, 0);
    wr16(p + 56, e6_ip6_cksum(&s, &d, 6, p + 40, len - 40));
}

struct tcp_spec {
    const char *src, *dst;
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;
    uint16_t win;
    uint8_t ae;   /* low bits of the data offset byte (AccECN AE, reserved) */
    uint16_t urg; /* urgent pointer (without URG) */
    size_t opts;  /* bytes of options (multiple of 4): NOP NOP TS */
    uint32_t tsval;
    size_t plen;
    uint8_t tclass, hlim;
    uint32_t flow;
    uint8_t fill; /* payload byte i = fill + i */
};

static struct tcp_spec spec(uint32_t seq, size_t plen)
{
    return (struct tcp_spec){.src = SRC,
                             .dst = DST,
                             .sport = 40000,
                             .dport = 5201,
                             .seq = seq,
                             .ack = 0x11223344,
                             .flags = 0x10,
                             .win = 501,
                             .opts = 12,
                             .tsval = 777,
                             .plen = plen,
                             .hlim = 63,
                             .flow = 0x12345,
                             .fill = (uint8_t)seq};
}

/* an IPv6+TCP packet into buf (after vnet bytes of room), its length */
static size_t tcp_build(uint8_t *buf, const struct tcp_spec *s)
{
    size_t thlen = 20 + s->opts;
    uint8_t *p = buf;
    memset(p, 0, 40 + thlen);
    uint32_t vtf = 6u << 28 | (uint32_t)s->tclass << 20 | s->flow;
    wr32(p, vtf);
    wr16(p + 4, (uint16_t)(thlen + s->plen));
    p[6] = 6;
    p[7] = s->hlim;
    struct in6_addr a = A6(s->src), b = A6(s->dst);
    memcpy(p + 8, &a, 16);
    memcpy(p + 24, &b, 16);
    uint8_t *t = p + 40;
    wr16(t, s->sport);
    wr16(t + 2, s->dport);
    wr32(t + 4, s->seq);
    wr32(t + 8, s->ack);
    t[12] = (uint8_t)(thlen / 4 << 4 | s->ae);
    t[13] = s->flags;
    wr16(t + 14, s->win);
    wr16(t + 18, s->urg);
    if (s->opts >= 12) {
        t[20] = 1;
        t[21] = 1;
        t[22] = 8;
        t[23] = 10;
        wr32(t + 24, s->tsval);
        wr32(t + 28, 99);
        for (size_t i = 32; i < thlen; i++)
            t[i] = 1;
    } else {
        for (size_t i = 20; i < thlen; i++)
            t[i] = 1;
    }
    for (size_t i = 0; i < s->plen; i++)
        t[thlen + i] = (uint8_t)(s->fill + i);
    tcp_cksum_set(p, 40 + thlen + s->plen);
    return 40 + thlen + s->plen;
}

static void vnet_put(uint8_t *buf, uint8_t flags, uint8_t type, uint16_t hdr_len, uint16_t gso_size,
                     uint16_t cstart, uint16_t coff)
{
    struct gso_vnet_hdr h = {.flags = flags,
                             .gso_type = type,
                             .hdr_len = hdr_len,
                             .gso_size = gso_size,
                             .csum_start = cstart,
                             .csum_offset = coff};
    memcpy(buf, &h, sizeof(h));
}

/* a super-packet as the kernel hands it over: checksum field = pseudo sum */
static size_t tso_build(uint8_t *buf, const struct tcp_spec *s, uint16_t mss)
{
    size_t n = tcp_build(buf + GSO_VNET_HDR_LEN, s);
    uint8_t *p = buf + GSO_VNET_HDR_LEN;
    /* what the kernel leaves: the pseudo-header part only */
    uint64_t ps = gso_csum_add(0, p + 8, 32) + (n - 40) + 6;
    wr16(p + 56, gso_csum_fold(ps));
    vnet_put(buf, GSO_F_NEEDS_CSUM, GSO_T_TCPV6, (uint16_t)(40 + 20 + s->opts), mss, 40, 16);
    return n + GSO_VNET_HDR_LEN;
}

/* ---- checksum ---------------------------------------------------------- */

static void test_csum(void **state)
{
    (void)state;
    static uint8_t data[3001];
    srand(7);
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)rand();
    struct in6_addr s = A6(SRC), d = A6(DST);
    for (size_t off = 0; off < 4; off++)
        for (size_t len = 0; len < 300; len += 7) {
            uint64_t sum = gso_csum_add(0, s.s6_addr, 16);
            sum = gso_csum_add(sum, d.s6_addr, 16);
            sum += len + 17;
            sum = gso_csum_add(sum, data + off, len);
            assert_int_equal((uint16_t)~gso_csum_fold(sum),
                             e6_ip6_cksum(&s, &d, 17, data + off, len));
        }
    uint64_t sum = gso_csum_add(0, s.s6_addr, 16);
    sum = gso_csum_add(sum, d.s6_addr, 16);
    sum += sizeof(data) + 6;
    sum = gso_csum_add(sum, data, sizeof(data));
    assert_int_equal((uint16_t)~gso_csum_fold(sum), e6_ip6_cksum(&s, &d, 6, data, sizeof(data)));
    assert_int_equal(gso_csum_fold(0x1ffff), 1);
    assert_int_equal(gso_csum_fold(0xffff), 0xffff);
}

/* RFC 1071 word by word, the reference for the vector sum */
static uint16_t csum_ref(const uint8_t *p, size_t len)
{
    uint64_t sum = 0;
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)p[i] << 8 | p[i + 1];
    if (len & 1)
        sum += (uint32_t)p[len - 1] << 8;
    return gso_csum_fold(sum);
}

/* the vector rounds: every lane at its largest (all ones), past the
 * round cap (2 MiB is 65536 rounds), and random data at every alignment
 * and length around the 32-byte rounds */
static void test_csum_wide(void **state)
{
    (void)state;
    size_t big = 2u << 20;
    uint8_t *buf = malloc(big + 64);
    assert_non_null(buf);
    memset(buf, 0xff, big + 64);
    size_t lens[] = {
        32, 64, 65535, 65536, 1u << 20, (32768u * 32) - 1, 32768u * 32, (32768u * 32) + 33, big};
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
        for (size_t off = 0; off < 3; off++)
            assert_int_equal(gso_csum_fold(gso_csum_add(0, buf + off, lens[i])),
                             csum_ref(buf + off, lens[i]));
    srand(11);
    for (size_t i = 0; i < big + 64; i++)
        buf[i] = (uint8_t)rand();
    for (size_t off = 0; off < 8; off++)
        for (size_t len = 0; len < 200; len++)
            assert_int_equal(gso_csum_fold(gso_csum_add(0, buf + off, len)),
                             csum_ref(buf + off, len));
    assert_int_equal(gso_csum_fold(gso_csum_add(0, buf + 1, big)), csum_ref(buf + 1, big));
    free(buf);
}

/* ---- parse refusals ------------------------------------------------------ */

static uint8_t big[GSO_MAX_PACKET];

static void expect(size_t len, enum gso_reject want)
{
    struct gso_info gi;
    enum gso_reject r = gso_parse(big, len, &gi);
    if (r != want)
        fail_msg("got %s, want %s", gso_reject_name(r), gso_reject_name(want));
}

static void test_parse_rejects(void **state)
{
    (void)state;
    struct tcp_spec s = spec(1000, 5000);
    size_t n = tso_build(big, &s, 1428);
    expect(n, GSO_OK);

    expect(0, GSO_R_SHORT);
    expect(9, GSO_R_SHORT);
    expect(GSO_VNET_HDR_LEN + 39, GSO_R_SHORT);
    /* read shorter than the Payload Length says */
    expect(n - 1, GSO_R_NOT_IPV6);
    big[GSO_VNET_HDR_LEN] = 0x45;
    expect(n, GSO_R_NOT_IPV6);
    n = tso_build(big, &s, 1428);

    /* header flags */
    big[0] = 0x04;
    expect(n, GSO_R_FLAGS);
    big[0] = GSO_F_NEEDS_CSUM;
    big[1] = GSO_T_ECN; /* ECN without a GSO type */
    expect(n, GSO_R_FLAGS);
    big[1] = 7;
    expect(n, GSO_R_FLAGS);
    big[1] = GSO_T_TCPV4;
    expect(n, GSO_R_GSO_TYPE);
    big[1] = GSO_T_UDP;
    expect(n, GSO_R_GSO_TYPE);
    big[1] = GSO_T_UDP_L4;
    expect(n, GSO_R_GSO_TYPE);
    big[1] = GSO_T_TCPV6 | GSO_T_ECN;
    expect(n, GSO_OK);

    /* gso_size 0 */
    vnet_put(big, GSO_F_NEEDS_CSUM, GSO_T_TCPV6, 72, 0, 40, 16);
    expect(n, GSO_R_GSO_SIZE);
    /* hdr_len beyond the packet; shorter or longer than the headers is a hint */
    vnet_put(big, GSO_F_NEEDS_CSUM, GSO_T_TCPV6, (uint16_t)(n - 9), 1428, 40, 16);
    expect(n, GSO_R_HDR_LEN);
    vnet_put(big, GSO_F_NEEDS_CSUM, GSO_T_TCPV6, 0, 1428, 40, 16);
    expect(n, GSO_OK);
    vnet_put(big, GSO_F_NEEDS_CSUM, GSO_T_TCPV6, 1000, 1428, 40, 16);
    expect(n, GSO_OK);
    /* checksum place */
    vnet_put(big, GSO_F_NEEDS_CSUM, GSO_T_TCPV6, 72, 1428, 60000, 16);
    expect(n, GSO_R_CSUM_START);
    vnet_put(big, GSO_F_NEEDS_CSUM, GSO_T_TCPV6, 72, 1428, 30, 16);
    expect(n, GSO_R_CSUM_START);
    vnet_put(big, GSO_F_NEEDS_CSUM, GSO_T_TCPV6, 72, 1428, 40, 6);
    expect(n, GSO_R_CSUM_START); /* not the TCP checksum */
    vnet_put(big, GSO_F_NEEDS_CSUM, GSO_T_TCPV6, 72, 1428, 44, 16);
    expect(n, GSO_R_CSUM_START);
    vnet_put(big, GSO_F_NEEDS_CSUM, GSO_T_NONE, 0, 0, (uint16_t)(n - 10 - 2), 0);
    expect(n, GSO_OK); /* the last two bytes */
    vnet_put(big, GSO_F_NEEDS_CSUM, GSO_T_NONE, 0, 0, (uint16_t)(n - 10 - 2), 1);
    expect(n, GSO_R_CSUM_START);
    vnet_put(big, GSO_F_NEEDS_CSUM, GSO_T_NONE, 0, 0, 40, 0xffff);
    expect(n, GSO_R_CSUM_START);
    /* without NEEDS_CSUM the offsets are not used */
    vnet_put(big, 0, GSO_T_NONE, 0, 0, 60000, 60000);
    expect(n, GSO_OK);

    /* not TCP right after the header: UDP, a Hop-by-Hop header */
    vnet_put(big, GSO_F_NEEDS_CSUM, GSO_T_TCPV6, 72, 1428, 40, 16);
    big[GSO_VNET_HDR_LEN + 6] = 17;
    expect(n, GSO_R_NOT_TCP);
    big[GSO_VNET_HDR_LEN + 6] = 0;
    expect(n, GSO_R_NOT_TCP);
    big[GSO_VNET_HDR_LEN + 6] = 6;
    /* TCP data offset */
    big[GSO_VNET_HDR_LEN + 40 + 12] = 4 << 4;
    expect(n, GSO_R_TCP_HDR);
    big[GSO_VNET_HDR_LEN + 40 + 12] = 8 << 4;

    /* TCP header cut: 40 + 16 bytes of packet */
    n = tso_build(big, &s, 1428);
    wr16(big + GSO_VNET_HDR_LEN + 4, 16);
    vnet_put(big, 0, GSO_T_TCPV6, 0, 1428, 0, 0);
    expect(GSO_VNET_HDR_LEN + 56, GSO_R_TCP_HDR);
    /* data offset past the packet: 15 words, 40 bytes present */
    struct tcp_spec z = spec(1, 0);
    z.opts = 20;
    n = tso_build(big, &z, 1428);
    big[GSO_VNET_HDR_LEN + 40 + 12] = 15 << 4;
    expect(n, GSO_R_TCP_HDR);

    /* names: distinct, out of range named */
    for (int i = 0; i < GSO_R__COUNT; i++) {
        assert_non_null(gso_reject_name(i));
        for (int j = 0; j < i; j++)
            assert_string_not_equal(gso_reject_name(i), gso_reject_name(j));
    }
    assert_string_equal(gso_reject_name(GSO_R__COUNT), "unknown");
    assert_string_equal(gso_reject_name(GSO_OK), "ok");
    /* as counters: the same names, "gso_none" for the unused GSO_OK */
    assert_string_equal(gso_counter_names[GSO_OK], "gso_none");
    for (int i = 1; i < GSO_R__COUNT; i++)
        assert_string_equal(gso_counter_names[i], gso_reject_name(i));
    static const char *const table[4 + GSO_R__COUNT] = {GSO_COUNTER_NAMES(4)};
    assert_null(table[3]);
    assert_string_equal(table[4], "gso_none");
    assert_string_equal(table[4 + GSO_R_SEG_ROOM], "gso_seg_too_big");
}

/* ---- segmentation -------------------------------------------------------- */

#define SLOT 2048
static uint8_t segs[128 * SLOT];
static size_t lens[128];

static void check_segments(const struct tcp_spec *s, uint16_t mss, size_t n)
{
    size_t want = (s->plen + mss - 1) / mss;
    assert_int_equal(n, want);
    size_t thlen = 20 + s->opts;
    struct tcp_spec ref = *s;
    uint8_t orig[GSO_MAX_PACKET];
    size_t olen = tcp_build(orig, &ref);
    (void)olen;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *p = segs + i * SLOT;
        size_t sp = i + 1 < n ? mss : s->plen - (n - 1) * mss;
        assert_int_equal(lens[i], 40 + thlen + sp);
        assert_int_equal(rd16(p + 4), thlen + sp);
        /* version, class, flow label, next header, hop limit, addresses */
        assert_memory_equal(p, orig, 4);
        assert_memory_equal(p + 6, orig + 6, 34);
        const uint8_t *t = p + 40;
        assert_int_equal(rd16(t), s->sport);
        assert_int_equal(rd16(t + 2), s->dport);
        assert_int_equal(rd32(t + 4), (uint32_t)(s->seq + i * mss));
        assert_int_equal(rd32(t + 8), s->ack);
        assert_int_equal(t[12], orig[52]);
        uint8_t f = s->flags;
        if (i + 1 < n)
            f &= (uint8_t)~0x09; /* FIN, PSH: last only */
        if (i > 0)
            f &= (uint8_t)~0x80; /* CWR: first only */
        assert_int_equal(t[13], f);
        assert_int_equal(rd16(t + 14), s->win);
        assert_memory_equal(t + 18, orig + 58, 2 + s->opts); /* urgent pointer, options */
        assert_memory_equal(t + thlen, orig + 40 + thlen + i * mss, sp);
        assert_true(tcp_cksum_ok(p, lens[i]));
    }
}

static void segment_case(struct tcp_spec s, uint16_t mss)
{
    size_t n = tso_build(big, &s, mss);
    struct gso_info gi;
    assert_int_equal(gso_parse(big, n, &gi), GSO_OK);
    size_t want = (s.plen + mss - 1) / mss;
    assert_int_equal(gi.gso, want > 1);
    assert_int_equal(gi.segs, want);
    size_t k;
    assert_int_equal(gso_segment(&gi, 0, segs, SLOT, 128, lens, &k), GSO_OK);
    check_segments(&s, mss, k);
}

static void test_segment(void **state)
{
    (void)state;
    struct tcp_spec s = spec(0xfffff000, 64000); /* the sequence number wraps */
    s.flags = 0x10 | 0x08 | 0x01 | 0x80;         /* ACK PSH FIN CWR */
    segment_case(s, 1416);
    s = spec(5, 3 * 1416); /* an exact multiple */
    s.flags = 0x18;
    segment_case(s, 1416);
    s = spec(5, 1417); /* one byte over */
    segment_case(s, 1416);
    s = spec(9, 65535 - 32); /* the largest */
    segment_case(s, 1220);
    s = spec(9, 20000);
    s.opts = 0;
    s.tclass = 0xb8;
    segment_case(s, 1440);
    s = spec(9, 100);
    s.opts = 40; /* the largest TCP header */
    segment_case(s, 7);
}

static void test_segment_limits(void **state)
{
    (void)state;
    struct tcp_spec s = spec(1, 10000);
    size_t n = tso_build(big, &s, 1000);
    struct gso_info gi;
    assert_int_equal(gso_parse(big, n, &gi), GSO_OK);
    assert_int_equal(gi.seglen, 40 + 32 + 1000);
    size_t k;
    assert_int_equal(gso_segment(&gi, 0, segs, 1071, 128, lens, &k), GSO_R_SEG_ROOM);
    assert_int_equal(gso_segment(&gi, 0, segs, 1072, 128, lens, &k), GSO_OK);
    assert_int_equal(k, 10);
    /* in chunks of 3 (the caller's room): the same segments */
    static uint8_t whole[10 * SLOT];
    static size_t wl[10];
    assert_int_equal(gso_segment(&gi, 0, whole, SLOT, 10, wl, &k), GSO_OK);
    for (size_t first = 0; first < 10; first += k) {
        assert_int_equal(gso_segment(&gi, first, segs, SLOT, 3, lens, &k), GSO_OK);
        assert_int_equal(k, first + 3 <= 10 ? 3 : 10 - first);
        for (size_t i = 0; i < k; i++) {
            assert_int_equal(lens[i], wl[first + i]);
            assert_memory_equal(segs + i * SLOT, whole + (first + i) * SLOT, lens[i]);
        }
    }
    assert_int_equal(gso_segment(&gi, 10, segs, SLOT, 3, lens, &k), GSO_OK);
    assert_int_equal(k, 0);
    assert_int_equal(gso_segment(&gi, 4, segs, SLOT, 0, lens, &k), GSO_R_TOO_MANY_SEGS);
    assert_int_equal(k, 6);
    /* a tiny gso_size: many segments, taken as room allows */
    vnet_put(big, GSO_F_NEEDS_CSUM, GSO_T_TCPV6, 72, 1, 40, 16);
    assert_int_equal(gso_parse(big, n, &gi), GSO_OK);
    assert_int_equal(gi.segs, 10000);
    assert_int_equal(gso_segment(&gi, 0, segs, SLOT, 128, lens, &k), GSO_OK);
    assert_int_equal(k, 128);
    assert_int_equal(gso_segment(&gi, 9990, segs, SLOT, 128, lens, &k), GSO_OK);
    assert_int_equal(k, 10);
    assert_int_equal(lens[9], 40 + 32 + 1);
    assert_int_equal(rd32(segs + 9 * SLOT + 44), 1 + 9999);
    assert_true(tcp_cksum_ok(segs + 9 * SLOT, lens[9]));
    assert_int_equal(gso_segment(&gi, 0, segs, SLOT, 0, lens, &k), GSO_R_TOO_MANY_SEGS);
    assert_int_equal(k, 10000);
    /* not gso: no room at all, a slot too small */
    s = spec(1, 100);
    n = tso_build(big, &s, 1000);
    assert_int_equal(gso_parse(big, n, &gi), GSO_OK);
    assert_false(gi.gso);
    assert_int_equal(gso_segment(&gi, 0, segs, SLOT, 0, lens, &k), GSO_R_TOO_MANY_SEGS);
    assert_int_equal(k, 1);
    assert_int_equal(gso_segment(&gi, 0, segs, 100, 1, lens, &k), GSO_R_SEG_ROOM);
}

/* a packet that fits one segment: copied, its partial checksum finished */
static void test_csum_finish(void **state)
{
    (void)state;
    struct tcp_spec s = spec(77, 1000);
    size_t n = tso_build(big, &s, 1428);
    struct gso_info gi;
    assert_int_equal(gso_parse(big, n, &gi), GSO_OK);
    assert_false(gi.gso);
    assert_false(tcp_cksum_ok(big + GSO_VNET_HDR_LEN, n - GSO_VNET_HDR_LEN));
    size_t k;
    assert_int_equal(gso_segment(&gi, 0, segs, SLOT, 1, lens, &k), GSO_OK);
    assert_int_equal(k, 1);
    assert_int_equal(lens[0], n - GSO_VNET_HDR_LEN);
    assert_true(tcp_cksum_ok(segs, lens[0]));

    /* no GSO at all, NEEDS_CSUM on UDP */
    uint8_t *p = big + GSO_VNET_HDR_LEN;
    size_t ulen = 8 + 31;
    memset(p, 0, 40 + ulen);
    wr32(p, 6u << 28);
    wr16(p + 4, (uint16_t)ulen);
    p[6] = 17;
    p[7] = 64;
    struct in6_addr a = A6(SRC), b = A6(DST);
    memcpy(p + 8, &a, 16);
    memcpy(p + 24, &b, 16);
    wr16(p + 40, 1000);
    wr16(p + 42, 53);
    wr16(p + 44, (uint16_t)ulen);
    for (size_t i = 8; i < ulen; i++)
        p[40 + i] = (uint8_t)(i * 13);
    uint64_t ps = gso_csum_add(0, p + 8, 32) + ulen + 17;
    wr16(p + 46, gso_csum_fold(ps));
    vnet_put(big, GSO_F_NEEDS_CSUM, GSO_T_NONE, 0, 0, 40, 6);
    assert_int_equal(gso_parse(big, GSO_VNET_HDR_LEN + 40 + ulen, &gi), GSO_OK);
    assert_int_equal(gso_segment(&gi, 0, segs, SLOT, 4, lens, &k), GSO_OK);
    assert_int_equal(e6_ip6_cksum(&a, &b, 17, segs + 40, ulen), 0);

    /* a sum that comes out 0 is stored as 0xffff */
    wr16(p + 46, 0);
    wr16(p + 48, 0);
    uint16_t c = e6_ip6_cksum(&a, &b, 17, p + 40, ulen);
    wr16(p + 48, c); /* now the whole sums to 0xffff: checksum 0 */
    wr16(p + 46, gso_csum_fold(ps));
    assert_int_equal(gso_parse(big, GSO_VNET_HDR_LEN + 40 + ulen, &gi), GSO_OK);
    assert_int_equal(gso_segment(&gi, 0, segs, SLOT, 4, lens, &k), GSO_OK);
    assert_int_equal(rd16(segs + 46), 0xffff);
    assert_int_equal(e6_ip6_cksum(&a, &b, 17, segs + 40, ulen), 0);

    /* without NEEDS_CSUM, copied untouched */
    wr16(p + 46, 0x1234);
    vnet_put(big, 0, GSO_T_NONE, 0, 0, 0, 0);
    assert_int_equal(gso_parse(big, GSO_VNET_HDR_LEN + 40 + ulen, &gi), GSO_OK);
    assert_int_equal(gso_segment(&gi, 0, segs, SLOT, 4, lens, &k), GSO_OK);
    assert_memory_equal(segs, p, 40 + ulen);
}

/* ---- coalescing ------------------------------------------------------------ */

#define NP 64
static uint8_t pbuf[NP][2048];
static uint8_t orig[NP][2048];
static struct gso_pkt pk[NP];
static size_t np;

static void add(const struct tcp_spec *s)
{
    assert_true(np < NP);
    pk[np].p = pbuf[np];
    pk[np].len = tcp_build(pbuf[np], s);
    memcpy(orig[np], pbuf[np], pk[np].len);
    np++;
}

static size_t add_run(uint32_t seq, size_t count, size_t mss, size_t last)
{
    for (size_t i = 0; i < count; i++) {
        struct tcp_spec s = spec(seq, i + 1 < count ? mss : last);
        add(&s);
        seq += (uint32_t)s.plen;
    }
    return seq;
}

/* outputs as lists of packet indexes, e.g. "0-1-2 3 4-5" */
static void plan_str(const struct gso_plan *pl, char *buf, size_t len)
{
    size_t w = 0;
    buf[0] = 0;
    for (size_t o = 0; o < pl->n_out; o++) {
        size_t c = 0;
        for (uint16_t i = pl->head[o]; i != GSO_END; i = pl->next[i], c++)
            w += (size_t)snprintf(buf + w, len - w, "%s%u", c ? "-" : (o ? " " : ""), i);
        assert_int_equal(c, pl->count[o]);
    }
}

static uint8_t super[GSO_MAX_PACKET];

/* build every output, check it, segment it back into the originals */
static void check_built(struct gso_plan *pl)
{
    for (size_t o = 0; o < pl->n_out; o++) {
        struct gso_vnet_hdr h;
        struct iovec iov[NP + 1];
        assert_int_equal(gso_coalesce_build(pl, o, pk, &h, iov, pl->count[o]), 0);
        size_t k = gso_coalesce_build(pl, o, pk, &h, iov, NP + 1);
        assert_int_equal(k, pl->count[o] + 1);
        size_t len = 0;
        for (size_t i = 0; i < k; i++) {
            memcpy(super + len, iov[i].iov_base, iov[i].iov_len);
            len += iov[i].iov_len;
        }
        uint16_t head = pl->head[o];
        if (pl->count[o] == 1) {
            static const uint8_t zero[GSO_VNET_HDR_LEN];
            assert_memory_equal(super, zero, GSO_VNET_HDR_LEN);
            assert_int_equal(len, GSO_VNET_HDR_LEN + pk[head].len);
            assert_memory_equal(super + GSO_VNET_HDR_LEN, orig[head], pk[head].len);
            continue;
        }
        assert_int_equal(h.flags, GSO_F_NEEDS_CSUM);
        assert_int_equal(h.gso_type, GSO_T_TCPV6);
        assert_int_equal(h.csum_start, 40);
        assert_int_equal(h.csum_offset, 16);
        assert_int_equal(h.hdr_len, 40 + (orig[head][52] >> 4) * 4);
        assert_int_equal(h.gso_size, pk[head].len - h.hdr_len);
        /* finishing the checksum as the kernel would gives a valid packet */
        memcpy(segs, super + GSO_VNET_HDR_LEN, len - GSO_VNET_HDR_LEN);
        gso_csum_finish(segs, len - GSO_VNET_HDR_LEN, 40, 16);
        assert_true(tcp_cksum_ok(segs, len - GSO_VNET_HDR_LEN));
        /* and segmenting it gives back the packets, byte for byte */
        struct gso_info gi;
        assert_int_equal(gso_parse(super, len, &gi), GSO_OK);
        size_t n;
        assert_int_equal(gso_segment(&gi, 0, segs, SLOT, 128, lens, &n), GSO_OK);
        assert_int_equal(n, pl->count[o]);
        size_t s = 0;
        for (uint16_t i = head; i != GSO_END; i = pl->next[i], s++) {
            assert_int_equal(lens[s], pk[i].len);
            assert_memory_equal(segs + s * SLOT, orig[i], pk[i].len);
        }
    }
}

static void expect_plan(const char *want)
{
    struct gso_plan pl;
    gso_coalesce_plan(pk, np, &pl);
    char got[1024];
    plan_str(&pl, got, sizeof(got));
    if (strcmp(got, want) != 0)
        fail_msg("plan %s, want %s", got, want);
    check_built(&pl);
}

static void test_coalesce_run(void **state)
{
    (void)state;
    np = 0;
    add_run(1000, 10, 1416, 500);
    pbuf[9][53] |= 0x08; /* PSH on the last */
    tcp_cksum_set(pbuf[9], pk[9].len);
    memcpy(orig[9], pbuf[9], pk[9].len);
    expect_plan("0-1-2-3-4-5-6-7-8-9");
    /* a full batch of one flow */
    np = 0;
    add_run(7, NP, 1000, 1000);
    char want[1024];
    size_t w = 0;
    for (size_t i = 0; i < NP; i++)
        w += (size_t)snprintf(want + w, sizeof(want) - w, "%s%zu", i ? "-" : "", i);
    expect_plan(want);
    /* one packet alone, nothing to merge with */
    np = 0;
    add_run(7, 1, 1000, 1000);
    expect_plan("0");
    np = 0;
    expect_plan("");
}

static void test_coalesce_limits(void **state)
{
    (void)state;
    /* at most 65535 bytes of IPv6 payload: 46 x 1400 + 32 > 65535 */
    np = 0;
    add_run(1, 50, 1400, 1400);
    struct gso_plan pl;
    gso_coalesce_plan(pk, np, &pl);
    assert_int_equal(pl.n_out, 2);
    assert_int_equal(pl.count[0], 46);
    assert_int_equal(pl.count[1], 4);
    assert_true(32 + 46 * 1400 <= 65535);
    check_built(&pl);
    /* a shorter segment ends the run; PSH ends it; a longer one starts anew */
    np = 0;
    uint32_t seq = add_run(1, 3, 1000, 600);
    seq = add_run(seq, 2, 1000, 1000);
    expect_plan("0-1-2 3-4");
    np = 0;
    struct tcp_spec s = spec(1, 1000);
    add(&s);
    s = spec(1001, 1000);
    s.flags = 0x18;
    add(&s);
    s = spec(2001, 1000);
    add(&s);
    expect_plan("0-1 2");
    np = 0;
    s = spec(1, 1000);
    s.flags = 0x18; /* PSH on the first: it goes alone */
    add(&s);
    s = spec(1001, 1000);
    add(&s);
    expect_plan("0 1");
    np = 0;
    s = spec(1, 800);
    add(&s);
    s = spec(801, 1000); /* larger than the first */
    add(&s);
    expect_plan("0 1");
}

/* one variation of the second packet of a pair that must not merge */
static void pair_split(void (*mod)(struct tcp_spec *))
{
    np = 0;
    struct tcp_spec a = spec(1, 1000), b = spec(1001, 1000);
    add(&a);
    mod(&b);
    add(&b);
    expect_plan("0 1");
}

static void m_ack(struct tcp_spec *s)
{
    s->ack++;
}
static void m_urgptr(struct tcp_spec *s)
{
    s->urg = 9;
}
static void m_ae(struct tcp_spec *s)
{
    s->ae = 1;
}
static void m_win(struct tcp_spec *s)
{
    s->win++;
}
static void m_gap(struct tcp_spec *s)
{
    s->seq++;
}
static void m_back(struct tcp_spec *s)
{
    s->seq = 1;
}
static void m_ts(struct tcp_spec *s)
{
    s->tsval++;
}
static void m_optlen(struct tcp_spec *s)
{
    s->opts = 16;
}
static void m_hlim(struct tcp_spec *s)
{
    s->hlim--;
}
static void m_tclass(struct tcp_spec *s)
{
    s->tclass = 1; /* ECN ECT(1) */
}
static void m_flow(struct tcp_spec *s)
{
    s->flow++;
}
static void m_syn(struct tcp_spec *s)
{
    s->flags = 0x12;
}
static void m_fin(struct tcp_spec *s)
{
    s->flags = 0x11;
}
static void m_rst(struct tcp_spec *s)
{
    s->flags = 0x14;
}
static void m_urg(struct tcp_spec *s)
{
    s->flags = 0x30;
}
static void m_cwr(struct tcp_spec *s)
{
    s->flags = 0x90;
}
static void m_ece(struct tcp_spec *s)
{
    s->flags = 0x50;
}
static void m_noack(struct tcp_spec *s)
{
    s->flags = 0x08;
}
static void m_empty(struct tcp_spec *s)
{
    s->plen = 0;
}
static void m_sport(struct tcp_spec *s)
{
    s->sport++;
}
static void m_dport(struct tcp_spec *s)
{
    s->dport++;
}
static void m_src(struct tcp_spec *s)
{
    s->src = "2001:db8:9:10::101";
}
static void m_dst(struct tcp_spec *s)
{
    s->dst = "2001:db8:1::3";
}

static void test_coalesce_split(void **state)
{
    (void)state;
    void (*mods[])(struct tcp_spec *) = {m_ack,   m_win,    m_urgptr, m_ae,     m_gap,  m_back,
                                         m_ts,    m_optlen, m_hlim,   m_tclass, m_flow, m_syn,
                                         m_fin,   m_rst,    m_urg,    m_cwr,    m_ece,  m_noack,
                                         m_empty, m_sport,  m_dport,  m_src,    m_dst};
    for (size_t i = 0; i < sizeof(mods) / sizeof(mods[0]); i++)
        pair_split(mods[i]);

    /* a bad checksum: never merged, neither as head nor as follower */
    np = 0;
    add_run(1, 3, 1000, 1000);
    pbuf[1][100] ^= 1;
    memcpy(orig[1], pbuf[1], pk[1].len);
    expect_plan("0 1 2");
    np = 0;
    add_run(1, 2, 1000, 1000);
    pbuf[0][100] ^= 1;
    memcpy(orig[0], pbuf[0], pk[0].len);
    expect_plan("0 1");

    /* not TCP, an extension header, not IPv6, a length that lies */
    np = 0;
    add_run(1, 2, 1000, 1000);
    pbuf[1][6] = 17;
    memcpy(orig[1], pbuf[1], pk[1].len);
    expect_plan("0 1");
    np = 0;
    add_run(1, 2, 1000, 1000);
    pbuf[0][6] = 0;
    memcpy(orig[0], pbuf[0], pk[0].len);
    expect_plan("0 1");
    np = 0;
    add_run(1, 2, 1000, 1000);
    pbuf[1][0] = 0x45;
    memcpy(orig[1], pbuf[1], pk[1].len);
    expect_plan("0 1");
    np = 0;
    add_run(1, 2, 1000, 1000);
    pk[1].len--;
    expect_plan("0 1");
    np = 0;
    add_run(1, 2, 1000, 1000);
    pk[1].len = 50; /* shorter than a TCP header */
    expect_plan("0 1");
    np = 0;
    add_run(1, 2, 1000, 1000);
    pbuf[1][52] = 3 << 4; /* data offset < 5 */
    memcpy(orig[1], pbuf[1], pk[1].len);
    expect_plan("0 1");
}

static void test_coalesce_order(void **state)
{
    (void)state;
    /* two flows interleaved: each merges, heads in batch order */
    np = 0;
    struct tcp_spec a = spec(1, 1000), b = spec(50000, 1000);
    b.sport = 40001;
    for (int i = 0; i < 3; i++) {
        add(&a);
        add(&b);
        a.seq += 1000;
        b.seq += 1000;
    }
    expect_plan("0-2-4 1-3-5");

    /* a pure ACK of the flow between data: the run before, the ACK, a new run */
    np = 0;
    a = spec(1, 1000);
    add(&a);
    a.seq += 1000;
    add(&a);
    struct tcp_spec ack = spec(2001, 0);
    add(&ack);
    a.seq += 1000;
    add(&a);
    a.seq += 1000;
    add(&a);
    expect_plan("0-1 2 3-4");

    /* a non-TCP packet between does not split a TCP run */
    np = 0;
    a = spec(1, 1000);
    add(&a);
    add(&a);
    a.seq += 1000;
    pbuf[1][6] = 58;
    memcpy(orig[1], pbuf[1], pk[1].len);
    add(&a);
    expect_plan("0-2 1");

    /* a retransmission (a gap backwards) after a run: in order, alone */
    np = 0;
    a = spec(1, 1000);
    add(&a);
    a.seq += 1000;
    add(&a);
    a.seq = 1;
    add(&a);
    a.seq = 1001;
    add(&a);
    expect_plan("0-1 2-3");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csum),           cmocka_unit_test(test_csum_wide),
        cmocka_unit_test(test_parse_rejects),  cmocka_unit_test(test_segment),
        cmocka_unit_test(test_segment_limits), cmocka_unit_test(test_csum_finish),
        cmocka_unit_test(test_coalesce_run),   cmocka_unit_test(test_coalesce_limits),
        cmocka_unit_test(test_coalesce_split), cmocka_unit_test(test_coalesce_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
