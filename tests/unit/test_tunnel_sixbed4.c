/*
 * tests/unit/test_tunnel_sixbed4: the pure 6bed4 decisions (tunnel/sixbed4.h) on
 * crafted packets: the RS the reference peer sends and the RA we answer
 * (checked byte by byte), every RS and NS refusal, the NA for the router's
 * own addresses, anti-spoofing and NAT rebinding, hair-pin, port-0 and
 * multicast decisions, the TUN side, the peer's RA parser and decisions,
 * the RS back-off and the peer table on a fake clock (expiry order, the
 * bound and its eviction classes).
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "common/addr.h"
#include "common/bytes.h"
#include "common/ip6.h"
#include "common/nd.h"
#include "common/sixbed4.h"
#include "tunnel/sixbed4.h"

/* ---- helpers ----------------------------------------------------------- */

static struct in6_addr A6(const char *s) {
    struct in6_addr a;
    assert_true(e6_addr_parse(s, &a));
    return a;
}

static struct in_addr
A4(const char *s) {
    struct in_addr a;
    assert_int_equal(inet_pton(AF_INET, s, &a), 1);
    return a;
}

static struct e6_prefix
P(const char *s) {
    struct e6_prefix p;
    assert_true(e6_prefix_parse(s, true, &p, NULL, 0));
    return p;
}

static struct tb4_endpoint
EP(const char *a, uint16_t port) {
    struct tb4_endpoint e = {.addr = A4(a), .port = port};
    return e;
}

static struct e6_prefix routes[2];
static struct tb4_router_cfg cfg;

/* peer A: 203.0.113.7:50000 (low IPv4 bits 11), peer B: 198.51.100.45:40000 (10) */
static struct tb4_endpoint ep_a, ep_b;
static struct in6_addr addr_a, addr_b; /* lanip 1 of each */

static int setup(void **state)
{
    (void)state;
    routes[0] = P("2001:db8:100::/48");
    routes[1] = P("2001:db8:200::/56");
    memset(&cfg, 0, sizeof(cfg));
    cfg.prefix = A6("2001:db8:1:2::");
    cfg.self = EP("192.0.2.1", 25790);
    cfg.routes = routes;
    cfg.n_routes = 2;
    ep_a = EP("203.0.113.7", 50000);
    ep_b = EP("198.51.100.45", 40000);
    assert_true(e6_6bed4_encode(&cfg.prefix, ep_a.addr, ep_a.port, 1, &addr_a));
    assert_true(e6_6bed4_encode(&cfg.prefix, ep_b.addr, ep_b.port, 1, &addr_b));
    return 0;
}

/* An IPv6 packet with payload; ICMPv6 payloads get their checksum set. */
static size_t mkpkt(uint8_t *buf, const struct in6_addr *src, const struct in6_addr *dst,
                    uint8_t hop, uint8_t proto, const uint8_t *payload, size_t plen)
{
    struct e6_ip6_hdr h = {.src = *src, .dst = *dst, .hop_limit = hop, .next_header = proto};
    assert_int_equal(e6_ip6_write_hdr(buf, 40, &h, plen), 0);
    memcpy(buf + 40, payload, plen);
    if (proto == E6_IPPROTO_ICMPV6 && plen >= 4)
        e6_ip6_icmp6_cksum_set(src, dst, buf + 40, plen);
    return 40 + plen;
}

/* UDP-ish data (proto 17, content irrelevant to the decisions) */
static size_t mkdata(uint8_t *buf, const struct in6_addr *src, const struct in6_addr *dst,
                     uint8_t hop)
{
    static const uint8_t body[16] = {0x12, 0x34, 0x00, 0x35, 0, 16, 0, 0, 'h', 'e', 'l', 'l', 'o'};
    return mkpkt(buf, src, dst, hop, 17, body, sizeof(body));
}

/* RS: nopt SLLA options of 8 bytes (value ...:01) */
static size_t mkrs(uint8_t *buf, const struct in6_addr *src, uint8_t hop, uint8_t code,
                   unsigned nopt)
{
    uint8_t icmp[64] = {E6_ND_RS, code};
    size_t n = 8;
    for (unsigned i = 0; i < nopt; i++, n += 8) {
        icmp[n] = E6_ND_OPT_SLLA;
        icmp[n + 1] = 1;
        icmp[n + 7] = 1;
    }
    struct in6_addr dst = A6("ff02::2");
    return mkpkt(buf, src, &dst, hop, E6_IPPROTO_ICMPV6, icmp, n);
}

static size_t mkns(uint8_t *buf, const struct in6_addr *src, const struct in6_addr *dst,
                   const struct in6_addr *target, uint8_t hop)
{
    uint8_t icmp[24] = {E6_ND_NS};
    memcpy(icmp + 8, target, 16);
    return mkpkt(buf, src, dst, hop, E6_IPPROTO_ICMPV6, icmp, sizeof(icmp));
}

/* RA by hand, one PIO (pio_len 0: none) and optionally a reference-style route PIO */
static size_t mkra(uint8_t *buf, const struct in6_addr *src, uint8_t hop,
                   const struct e6_prefix *pio, uint8_t pio_flags, const struct e6_prefix *extra)
{
    uint8_t icmp[16 + 8 + 32 + 32] = {E6_ND_RA, 0, 0, 0, 64, 0, 0x07, 0x08};
    size_t n = 16;
    icmp[n] = E6_ND_OPT_MTU;
    icmp[n + 1] = 1;
    e6_put32(icmp + n + 4, 1280);
    n += 8;
    const struct e6_prefix *ps[2] = {pio, extra};
    for (int i = 0; i < 2; i++) {
        if (!ps[i])
            continue;
        uint8_t *o = icmp + n;
        o[0] = E6_ND_OPT_PIO;
        o[1] = 4;
        o[2] = ps[i]->len;
        o[3] = i == 0 ? pio_flags : 0;
        e6_put32(o + 4, 0xffffffff);
        e6_put32(o + 8, 0xffffffff);
        memcpy(o + 16, &ps[i]->addr, 16);
        n += 32;
    }
    struct in6_addr dst = A6("ff02::1");
    return mkpkt(buf, src, &dst, hop, E6_IPPROTO_ICMPV6, icmp, n);
}

static void udp(uint8_t *pkt, size_t len, struct tb4_endpoint from, uint8_t *reply,
                struct tb4_verdict *v)
{
    memset(reply, 0xee, TB4_REPLY_MAX);
    tb4_router_from_udp(&cfg, pkt, len, from, reply, v);
}

static void assert_drop(const struct tb4_verdict *v, enum tb4_drop why)
{
    if (v->action != TB4_A_DROP || v->why != why)
        fail_msg("want drop %s, got action %d why %s", tb4_drop_name(why), v->action,
                 tb4_drop_name(v->why));
}

/* An RA in reply for endpoint `for`, sent to dst: every byte checked. */
static void check_ra(const uint8_t *r, size_t len, struct tb4_endpoint peer, const char *dst)
{
    assert_int_equal(len, 40 + 16 + 8 + 32 + 16 + 16);
    struct in6_addr src = A6("fe80::"), d = A6(dst);
    assert_int_equal(r[0], 0x60);
    assert_int_equal(r[1], 0);
    assert_int_equal(e6_get16(r + 4), len - 40);
    assert_int_equal(r[6], E6_IPPROTO_ICMPV6);
    assert_int_equal(r[7], 255);
    assert_memory_equal(r + 8, &src, 16);
    assert_memory_equal(r + 24, &d, 16);
    const uint8_t *i = r + 40;
    assert_true(e6_ip6_icmp6_cksum_ok(&src, &d, i, len - 40));
    assert_int_equal(i[0], 134);
    assert_int_equal(i[1], 0);
    assert_int_equal(i[4], 0); /* cur hop limit unspecified */
    assert_int_equal(i[5], 0); /* no M/O, medium preference */
    assert_int_equal(e6_get16(i + 6), TB4_ROUTER_LIFETIME);
    assert_int_equal(e6_get32(i + 8), 0);
    assert_int_equal(e6_get32(i + 12), 0);
    const uint8_t *o = i + 16;
    static const uint8_t mtu[8] = {5, 1, 0, 0, 0, 0, 0x05, 0x00};
    assert_memory_equal(o, mtu, 8);
    o += 8;
    assert_int_equal(o[0], 3);
    assert_int_equal(o[1], 4);
    assert_int_equal(o[2], 114);
    assert_int_equal(o[3], 0xc0); /* L, A */
    assert_int_equal(e6_get32(o + 4), 0xffffffff);
    assert_int_equal(e6_get32(o + 8), 0xffffffff);
    assert_int_equal(e6_get32(o + 12), 0);
    /* the /114: /64, IPv4 with the low 2 bits of octet 0 cleared, port, those 2 bits */
    const uint8_t *v4 = (const uint8_t *)&peer.addr.s_addr;
    uint8_t want[16];
    memcpy(want, &cfg.prefix, 8);
    want[8] = v4[0] & 0xfc;
    want[9] = v4[1];
    want[10] = v4[2];
    want[11] = v4[3];
    want[12] = (uint8_t)(peer.port >> 8);
    want[13] = (uint8_t)peer.port;
    want[14] = (uint8_t)((v4[0] & 3) << 6);
    want[15] = 0;
    assert_memory_equal(o + 16, want, 16);
    o += 32;
    /* RFC 4191 RIOs, /48 and /56 in 16 bytes each */
    static const uint8_t rio0[16] = {24,   2,    48,   0,    0xff, 0xff, 0xff, 0xff,
                                     0x20, 0x01, 0x0d, 0xb8, 0x01, 0x00, 0,    0};
    static const uint8_t rio1[16] = {24,   2,    56,   0,    0xff, 0xff, 0xff, 0xff,
                                     0x20, 0x01, 0x0d, 0xb8, 0x02, 0x00, 0,    0};
    assert_memory_equal(o, rio0, 16);
    assert_memory_equal(o + 16, rio1, 16);
}

/* ---- names ------------------------------------------------------------- */

static void test_drop_names(void **state)
{
    (void)state;
    for (int i = 0; i < TB4_D__COUNT; i++) {
        const char *n = tb4_drop_name((enum tb4_drop)i);
        assert_non_null(n);
        assert_true(strlen(n) > 0 && strlen(n) < 20);
        for (const char *c = n; *c; c++)
            assert_true((*c >= 'a' && *c <= 'z') || *c == '_' || (*c >= '0' && *c <= '9'));
        for (int j = 0; j < i; j++)
            assert_string_not_equal(n, tb4_drop_name((enum tb4_drop)j));
    }
    assert_string_equal(tb4_drop_name(TB4_D__COUNT), "unknown");
    assert_string_equal(tb4_drop_name(TB4_D_SPOOFED), "spoofed");
}

/* ---- router: RS -------------------------------------------------------- */

static void test_rs_unspec_slla(void **state)
{
    (void)state;
    uint8_t pkt[128], reply[TB4_REPLY_MAX];
    struct tb4_verdict v;
    struct in6_addr any = IN6ADDR_ANY_INIT;
    size_t n = mkrs(pkt, &any, 255, 0, 1);
    assert_int_equal(n, 56);
    udp(pkt, n, ep_a, reply, &v);
    assert_int_equal(v.action, TB4_A_REPLY);
    assert_int_equal(v.why, TB4_OK);
    assert_int_equal(v.reply_type, 134);
    assert_true(v.live);
    check_ra(reply, v.reply_len, ep_a, "ff02::1");
    assert_int_equal(reply[v.reply_len], 0xee); /* nothing written past */

    /* the PIO equals the codec's /114 (byte 14 carries the 2 low IPv4 bits: 0xc0) */
    struct e6_prefix want;
    assert_true(e6_6bed4_peer_prefix(&cfg.prefix, ep_a.addr, ep_a.port, &want));
    assert_memory_equal(reply + 40 + 24 + 16, &want.addr, 16);
    assert_int_equal(reply[40 + 24 + 16 + 14], 0xc0);

    /* peer B: its low bits are 10 */
    udp(pkt, n, ep_b, reply, &v);
    assert_int_equal(v.action, TB4_A_REPLY);
    check_ra(reply, v.reply_len, ep_b, "ff02::1");
    assert_int_equal(reply[40 + 24 + 16 + 14], 0x80);
    assert_int_equal(reply[40 + 24 + 16 + 8], 198 & 0xfc);
}

static void test_rs_accepted_variants(void **state)
{
    (void)state;
    uint8_t pkt[128], reply[TB4_REPLY_MAX];
    struct tb4_verdict v;
    struct in6_addr any = IN6ADDR_ANY_INIT, ll = A6("fe80::1:2");

    /* no option */
    size_t n = mkrs(pkt, &any, 255, 0, 0);
    udp(pkt, n, ep_a, reply, &v);
    assert_int_equal(v.action, TB4_A_REPLY);
    check_ra(reply, v.reply_len, ep_a, "ff02::1");

    /* a link-local source is answered to that source */
    n = mkrs(pkt, &ll, 255, 0, 1);
    udp(pkt, n, ep_a, reply, &v);
    assert_int_equal(v.action, TB4_A_REPLY);
    check_ra(reply, v.reply_len, ep_a, "fe80::1:2");

    /* a peer asking again from its 6bed4 address: answered for the observed endpoint */
    n = mkrs(pkt, &addr_a, 255, 0, 0);
    udp(pkt, n, ep_b, reply, &v);
    assert_int_equal(v.action, TB4_A_REPLY);
    char buf[E6_ADDRSTRLEN];
    check_ra(reply, v.reply_len, ep_b, e6_addr_format(&addr_a, buf, sizeof(buf)));

    /* our own RS builder is accepted */
    n = tb4_build_rs(pkt, sizeof(pkt));
    assert_int_equal(n, 56);
    udp(pkt, n, ep_a, reply, &v);
    assert_int_equal(v.action, TB4_A_REPLY);
}

static void test_rs_refused(void **state)
{
    (void)state;
    uint8_t pkt[128], reply[TB4_REPLY_MAX];
    struct tb4_verdict v;
    struct in6_addr any = IN6ADDR_ANY_INIT, glob = A6("2001:db8:9::1");

    size_t n = mkrs(pkt, &any, 254, 0, 1);
    udp(pkt, n, ep_a, reply, &v);
    assert_drop(&v, TB4_D_ND_HOPLIMIT);
    assert_false(v.live);

    n = mkrs(pkt, &any, 255, 1, 1);
    udp(pkt, n, ep_a, reply, &v);
    assert_drop(&v, TB4_D_ND_INVALID);

    n = mkrs(pkt, &any, 255, 0, 1);
    pkt[42] ^= 0x01; /* checksum */
    udp(pkt, n, ep_a, reply, &v);
    assert_drop(&v, TB4_D_ND_INVALID);

    /* two options */
    n = mkrs(pkt, &any, 255, 0, 2);
    udp(pkt, n, ep_a, reply, &v);
    assert_drop(&v, TB4_D_ND_INVALID);

    /* length 12: options do not tile */
    uint8_t icmp[12] = {E6_ND_RS, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0};
    struct in6_addr dst = A6("ff02::2");
    n = mkpkt(pkt, &any, &dst, 255, E6_IPPROTO_ICMPV6, icmp, sizeof(icmp));
    udp(pkt, n, ep_a, reply, &v);
    assert_drop(&v, TB4_D_ND_INVALID);

    /* length 4: below the RS minimum */
    n = mkpkt(pkt, &any, &dst, 255, E6_IPPROTO_ICMPV6, icmp, 4);
    udp(pkt, n, ep_a, reply, &v);
    assert_drop(&v, TB4_D_ND_INVALID);

    /* one option that is not SLLA (a nonce) */
    uint8_t icmp2[16] = {E6_ND_RS, 0, 0, 0, 0, 0, 0, 0, E6_ND_OPT_NONCE, 1, 1, 2, 3, 4, 5, 6};
    n = mkpkt(pkt, &any, &dst, 255, E6_IPPROTO_ICMPV6, icmp2, sizeof(icmp2));
    udp(pkt, n, ep_a, reply, &v);
    assert_drop(&v, TB4_D_ND_INVALID);

    /* an SLLA of 16 bytes */
    uint8_t icmp3[24] = {E6_ND_RS, 0, 0, 0, 0, 0, 0, 0, E6_ND_OPT_SLLA, 2};
    n = mkpkt(pkt, &any, &dst, 255, E6_IPPROTO_ICMPV6, icmp3, sizeof(icmp3));
    udp(pkt, n, ep_a, reply, &v);
    assert_drop(&v, TB4_D_ND_INVALID);

    /* a global source outside our /64 */
    n = mkrs(pkt, &glob, 255, 0, 0);
    udp(pkt, n, ep_a, reply, &v);
    assert_drop(&v, TB4_D_SPOOFED);

    /* a fragmented RS (RFC 6980) */
    uint8_t frag[8 + 16] = {E6_IPPROTO_ICMPV6, 0, 0, 0, 0, 0, 0, 1, E6_ND_RS};
    n = mkpkt(pkt, &any, &dst, 255, E6_IPPROTO_FRAGMENT, frag, sizeof(frag));
    udp(pkt, n, ep_a, reply, &v);
    assert_drop(&v, TB4_D_ND_INVALID);

    /* UDP source port 0: nothing to answer to */
    n = mkrs(pkt, &any, 255, 0, 1);
    udp(pkt, n, EP("203.0.113.7", 0), reply, &v);
    assert_drop(&v, TB4_D_SPOOFED);
}

static void test_short_and_keepalive(void **state)
{
    (void)state;
    uint8_t pkt[128] = {0x60}, reply[TB4_REPLY_MAX];
    struct tb4_verdict v;
    udp(pkt, 0, ep_a, reply, &v);
    assert_int_equal(v.action, TB4_A_KEEPALIVE);
    assert_int_equal(v.why, TB4_OK);
    assert_false(v.live);
    udp(pkt, 1, ep_a, reply, &v);
    assert_drop(&v, TB4_D_SHORT);
    udp(pkt, 39, ep_a, reply, &v);
    assert_drop(&v, TB4_D_SHORT);
    /* version 4 */
    size_t n = mkdata(pkt, &addr_a, &addr_b, 64);
    pkt[0] = 0x40;
    udp(pkt, n, ep_a, reply, &v);
    assert_drop(&v, TB4_D_NOT_IPV6);
    /* payload length beyond the datagram */
    n = mkdata(pkt, &addr_a, &addr_b, 64);
    udp(pkt, n - 1, ep_a, reply, &v);
    assert_drop(&v, TB4_D_NOT_IPV6);
    /* keepalive from port 0 */
    udp(pkt, 0, EP("203.0.113.7", 0), reply, &v);
    assert_drop(&v, TB4_D_SPOOFED);
}

/* ---- router: NS -------------------------------------------------------- */

static void check_na(const uint8_t *r, size_t len, const char *src, const char *dst, uint8_t flags)
{
    assert_int_equal(len, 40 + 24 + 8);
    struct in6_addr s = A6(src), d = A6(dst);
    assert_int_equal(r[0], 0x60);
    assert_int_equal(e6_get16(r + 4), 32);
    assert_int_equal(r[6], 58);
    assert_int_equal(r[7], 255);
    assert_memory_equal(r + 8, &s, 16);
    assert_memory_equal(r + 24, &d, 16);
    const uint8_t *i = r + 40;
    assert_true(e6_ip6_icmp6_cksum_ok(&s, &d, i, 32));
    assert_int_equal(i[0], 136);
    assert_int_equal(i[1], 0);
    assert_int_equal(i[4], flags);
    assert_int_equal(i[5] | i[6] | i[7], 0);
    assert_memory_equal(i + 8, &s, 16); /* target: the address asked for */
    /* TLLA: 6bed4 link-layer form of 192.0.2.1:25790 (0x64be), port little-endian */
    static const uint8_t tlla[8] = {2, 1, 0xbe, 0x64, 192, 0, 2, 1};
    assert_memory_equal(i + 24, tlla, 8);
}

static void test_ns_own(void **state)
{
    (void)state;
    uint8_t pkt[128], reply[TB4_REPLY_MAX];
    struct tb4_verdict v;
    struct in6_addr ll = A6("fe80::"), glob = A6("2001:db8:1:2::"), snm;
    char a[E6_ADDRSTRLEN];
    e6_addr_format(&addr_a, a, sizeof(a));

    size_t n = mkns(pkt, &addr_a, &ll, &ll, 255);
    udp(pkt, n, ep_a, reply, &v);
    assert_int_equal(v.action, TB4_A_REPLY);
    assert_int_equal(v.reply_type, 136);
    assert_true(v.live);
    check_na(reply, v.reply_len, "fe80::", a, 0xc0);

    /* solicited-node destination, prefix:: target */
    e6_addr_solicited_node(&glob, &snm);
    n = mkns(pkt, &addr_a, &snm, &glob, 255);
    udp(pkt, n, ep_a, reply, &v);
    assert_int_equal(v.action, TB4_A_REPLY);
    check_na(reply, v.reply_len, "2001:db8:1:2::", a, 0xc0);

    /* DAD from ::: S clear, to all nodes */
    struct in6_addr any = IN6ADDR_ANY_INIT;
    e6_addr_solicited_node(&ll, &snm);
    n = mkns(pkt, &any, &snm, &ll, 255);
    udp(pkt, n, ep_a, reply, &v);
    assert_int_equal(v.action, TB4_A_REPLY);
    assert_false(v.live);
    check_na(reply, v.reply_len, "fe80::", "ff02::1", 0x80);
}

static void test_ns_refused(void **state)
{
    (void)state;
    uint8_t pkt[128], reply[TB4_REPLY_MAX];
    struct tb4_verdict v;
    struct in6_addr ll = A6("fe80::"), other = A6("2001:db8:1:2::5"), snm;

    /* another target: another peer, a port-0 address, an address elsewhere */
    size_t n = mkns(pkt, &addr_a, &addr_b, &addr_b, 255);
    udp(pkt, n, ep_a, reply, &v);
    assert_drop(&v, TB4_D_ND_OTHER);
    n = mkns(pkt, &addr_a, &other, &other, 255);
    udp(pkt, n, ep_a, reply, &v);
    assert_drop(&v, TB4_D_ND_OTHER);
    /* our target, but sent to a third address */
    n = mkns(pkt, &addr_a, &other, &ll, 255);
    udp(pkt, n, ep_a, reply, &v);
    assert_drop(&v, TB4_D_ND_OTHER);

    n = mkns(pkt, &addr_a, &ll, &ll, 64);
    udp(pkt, n, ep_a, reply, &v);
    assert_drop(&v, TB4_D_ND_HOPLIMIT);

    n = mkns(pkt, &addr_a, &ll, &ll, 255);
    pkt[43] ^= 0x10;
    udp(pkt, n, ep_a, reply, &v);
    assert_drop(&v, TB4_D_ND_INVALID);

    /* not a valid originator: a spoofed source, a rebinding */
    struct in6_addr glob = A6("2001:db8:9::1");
    n = mkns(pkt, &glob, &ll, &ll, 255);
    udp(pkt, n, ep_a, reply, &v);
    assert_drop(&v, TB4_D_SPOOFED);
    n = mkns(pkt, &addr_a, &ll, &ll, 255);
    udp(pkt, n, ep_b, reply, &v);
    assert_int_equal(v.action, TB4_A_REPLY);
    assert_int_equal(v.why, TB4_D_REBIND);
    assert_int_equal(v.reply_type, 134);

    /* DAD not to the solicited-node group */
    struct in6_addr any = IN6ADDR_ANY_INIT;
    n = mkns(pkt, &any, &ll, &ll, 255);
    udp(pkt, n, ep_a, reply, &v);
    assert_drop(&v, TB4_D_ND_INVALID);
    e6_addr_solicited_node(&ll, &snm);
    (void)snm;

    /* other ND from a peer: RA, NA, Redirect */
    uint8_t icmp[40] = {E6_ND_NA};
    memcpy(icmp + 8, &addr_a, 16);
    n = mkpkt(pkt, &addr_a, &ll, 255, E6_IPPROTO_ICMPV6, icmp, 24);
    udp(pkt, n, ep_a, reply, &v);
    assert_drop(&v, TB4_D_ND_OTHER);
    icmp[0] = E6_ND_REDIRECT;
    n = mkpkt(pkt, &addr_a, &ll, 255, E6_IPPROTO_ICMPV6, icmp, 40);
    udp(pkt, n, ep_a, reply, &v);
    assert_drop(&v, TB4_D_ND_OTHER);
    icmp[0] = E6_ND_RA;
    n = mkpkt(pkt, &addr_a, &ll, 64, E6_IPPROTO_ICMPV6, icmp, 16);
    udp(pkt, n, ep_a, reply, &v);
    assert_drop(&v, TB4_D_ND_HOPLIMIT);
}

/* ---- router: data ------------------------------------------------------ */

static void test_antispoof(void **state)
{
    (void)state;
    uint8_t pkt[128], reply[TB4_REPLY_MAX];
    struct tb4_verdict v;
    struct in6_addr net = A6("2001:db8:ffff::1");

    size_t n = mkdata(pkt, &addr_a, &net, 64);
    udp(pkt, n, ep_a, reply, &v);
    assert_int_equal(v.action, TB4_A_TUN);
    assert_true(v.live);
    assert_false(v.local);
    assert_false(v.hairpin);
    assert_int_equal(pkt[7], 64); /* the kernel decrements */

    /* IPv4 differs: rebinding, an RA for the endpoint observed, no forwarding */
    n = mkdata(pkt, &addr_a, &net, 64);
    udp(pkt, n, EP("203.0.113.8", 50000), reply, &v);
    assert_int_equal(v.action, TB4_A_REPLY);
    assert_int_equal(v.why, TB4_D_REBIND);
    assert_false(v.live);
    check_ra(reply, v.reply_len, EP("203.0.113.8", 50000), "ff02::1");

    /* port differs */
    udp(pkt, n, EP("203.0.113.7", 50002), reply, &v);
    assert_int_equal(v.action, TB4_A_REPLY);
    assert_int_equal(v.why, TB4_D_REBIND);
    check_ra(reply, v.reply_len, EP("203.0.113.7", 50002), "ff02::1");

    /* a 6bed4 form outside our /64 */
    struct in6_addr out;
    assert_true(e6_6bed4_encode(&net, ep_a.addr, ep_a.port, 1, &out));
    n = mkdata(pkt, &out, &net, 64);
    udp(pkt, n, ep_a, reply, &v);
    assert_drop(&v, TB4_D_SPOOFED);
    assert_false(v.live);

    /* not a 6bed4 address: port word 0 of our /64, link-local, elsewhere */
    const char *bad[] = {"2001:db8:1:2::1", "2001:db8:1:2:c800:7107:0:c001", "fe80::1",
                         "2001:db8:9::1", "::"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct in6_addr s = A6(bad[i]);
        n = mkdata(pkt, &s, &net, 64);
        udp(pkt, n, ep_a, reply, &v);
        assert_drop(&v, TB4_D_SPOOFED);
    }
}

static void test_hairpin(void **state)
{
    (void)state;
    uint8_t pkt[128], reply[TB4_REPLY_MAX];
    struct tb4_verdict v;

    size_t n = mkdata(pkt, &addr_a, &addr_b, 64);
    udp(pkt, n, ep_a, reply, &v);
    assert_int_equal(v.action, TB4_A_UDP);
    assert_true(v.hairpin);
    assert_true(v.live);
    assert_int_equal(v.ep.addr.s_addr, ep_b.addr.s_addr);
    assert_int_equal(v.ep.port, ep_b.port);
    assert_int_equal(pkt[7], 63);

    n = mkdata(pkt, &addr_a, &addr_b, 2);
    udp(pkt, n, ep_a, reply, &v);
    assert_int_equal(v.action, TB4_A_UDP);
    assert_int_equal(pkt[7], 1);

    /* never to the router's own IPv4, loopback, "this network", multicast or broadcast */
    const char *bad[] = {"192.0.2.1", "127.0.0.1", "0.1.2.3", "224.0.0.1", "255.255.255.255"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct in6_addr d;
        struct in_addr ip = A4(bad[i]);
        assert_true(e6_6bed4_encode(&cfg.prefix, ip, i == 0 ? 53 : 25790, 1, &d));
        n = mkdata(pkt, &addr_a, &d, 64);
        udp(pkt, n, ep_a, reply, &v);
        assert_drop(&v, TB4_D_NOT_PEER);
        assert_int_equal(pkt[7], 64);
        tb4_router_from_tun(&cfg, pkt, n, &v);
        assert_drop(&v, TB4_D_NOT_PEER);
    }

    for (uint8_t hop = 0; hop <= 1; hop++) {
        n = mkdata(pkt, &addr_a, &addr_b, hop);
        udp(pkt, n, ep_a, reply, &v);
        assert_drop(&v, TB4_D_HOP_LIMIT);
        assert_int_equal(pkt[7], hop);
    }
}

static void test_local_and_multicast(void **state)
{
    (void)state;
    uint8_t pkt[128], reply[TB4_REPLY_MAX];
    struct tb4_verdict v;

    /* port word 0: a local server, and the router's own prefix:: (never hair-pinned) */
    const char *loc[] = {"2001:db8:1:2:0:1:0:5", "2001:db8:1:2::", "2001:db8:1:2:ffff:ffff:0:ffff"};
    for (size_t i = 0; i < 3; i++) {
        struct in6_addr d = A6(loc[i]);
        size_t n = mkdata(pkt, &addr_a, &d, 64);
        udp(pkt, n, ep_a, reply, &v);
        assert_int_equal(v.action, TB4_A_TUN);
        assert_true(v.local);
        assert_false(v.hairpin);
        assert_int_equal(pkt[7], 64);
    }
    /* fe80:: goes to the kernel, not local of the /64 */
    struct in6_addr d = A6("fe80::");
    size_t n = mkdata(pkt, &addr_a, &d, 64);
    udp(pkt, n, ep_a, reply, &v);
    assert_int_equal(v.action, TB4_A_TUN);
    assert_false(v.local);

    const char *mc[] = {"ff02::1", "ff0e::1", "ff02::1:ff00:1"};
    for (size_t i = 0; i < 3; i++) {
        d = A6(mc[i]);
        n = mkdata(pkt, &addr_a, &d, 64);
        udp(pkt, n, ep_a, reply, &v);
        assert_drop(&v, TB4_D_MULTICAST);
    }
}

static void test_from_tun(void **state)
{
    (void)state;
    uint8_t pkt[128];
    struct tb4_verdict v;
    struct in6_addr net = A6("2001:db8:ffff::1");

    size_t n = mkdata(pkt, &net, &addr_b, 63);
    tb4_router_from_tun(&cfg, pkt, n, &v);
    assert_int_equal(v.action, TB4_A_UDP);
    assert_int_equal(v.why, TB4_OK);
    assert_false(v.hairpin);
    assert_int_equal(v.ep.addr.s_addr, ep_b.addr.s_addr);
    assert_int_equal(v.ep.port, ep_b.port);
    assert_int_equal(pkt[7], 63);

    const char *not_peer[] = {"2001:db8:1:2::5", "2001:db8:1:3:c800:7107:c350:c001", "fe80::1"};
    for (size_t i = 0; i < 3; i++) {
        struct in6_addr d = A6(not_peer[i]);
        n = mkdata(pkt, &net, &d, 63);
        tb4_router_from_tun(&cfg, pkt, n, &v);
        assert_drop(&v, TB4_D_NOT_PEER);
    }
    struct in6_addr mc = A6("ff02::1");
    n = mkdata(pkt, &net, &mc, 63);
    tb4_router_from_tun(&cfg, pkt, n, &v);
    assert_drop(&v, TB4_D_MULTICAST);

    struct in6_addr ll = A6("fe80::");
    n = mkns(pkt, &ll, &addr_b, &addr_b, 255);
    tb4_router_from_tun(&cfg, pkt, n, &v);
    assert_drop(&v, TB4_D_ND_OTHER);

    tb4_router_from_tun(&cfg, pkt, 39, &v);
    assert_drop(&v, TB4_D_SHORT);
    tb4_router_from_tun(&cfg, pkt, 0, &v);
    assert_drop(&v, TB4_D_SHORT);
    n = mkdata(pkt, &net, &addr_b, 63);
    pkt[0] = 0x45;
    tb4_router_from_tun(&cfg, pkt, n, &v);
    assert_drop(&v, TB4_D_NOT_IPV6);
}

/* ---- builders ---------------------------------------------------------- */

static void test_build_rs(void **state)
{
    (void)state;
    uint8_t b[128];
    memset(b, 0xee, sizeof(b));
    assert_int_equal(tb4_build_rs(b, 55), 0);
    assert_int_equal(b[0], 0xee);
    size_t n = tb4_build_rs(b, sizeof(b));
    assert_int_equal(n, 56);
    struct in6_addr any = IN6ADDR_ANY_INIT, dst = A6("ff02::2");
    assert_int_equal(b[0], 0x60);
    assert_int_equal(e6_get16(b + 4), 16);
    assert_int_equal(b[6], 58);
    assert_int_equal(b[7], 255);
    assert_memory_equal(b + 8, &any, 16);
    assert_memory_equal(b + 24, &dst, 16);
    static const uint8_t icmp_head[2] = {133, 0};
    assert_memory_equal(b + 40, icmp_head, 2);
    static const uint8_t tail[12] = {0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 1};
    assert_memory_equal(b + 44, tail, 12);
    assert_true(e6_ip6_icmp6_cksum_ok(&any, &dst, b + 40, 16));
    assert_int_equal(b[56], 0xee);
}

static void test_build_ra(void **state)
{
    (void)state;
    uint8_t b[TB4_REPLY_MAX + 8];
    struct in6_addr dst = A6("ff02::1");
    size_t n = tb4_build_ra(&cfg, ep_a, &dst, b, sizeof(b));
    check_ra(b, n, ep_a, "ff02::1");
    /* too small: nothing (the builder never writes past) */
    memset(b, 0xee, sizeof(b));
    assert_int_equal(tb4_build_ra(&cfg, ep_a, &dst, b, n - 1), 0);
    assert_int_equal(b[n - 1], 0xee);
    assert_int_equal(tb4_build_ra(&cfg, ep_a, &dst, b, 40), 0);
    assert_int_equal(tb4_build_ra(&cfg, EP("203.0.113.7", 0), &dst, b, sizeof(b)), 0);

    /* 16 /128 routes fit TB4_REPLY_MAX; a 17th is not sent; a bad length is skipped */
    struct e6_prefix many[TB4_MAX_ROUTES + 1];
    for (int i = 0; i < TB4_MAX_ROUTES + 1; i++) {
        many[i] = P("2001:db8:7::1/128");
        many[i].addr.s6_addr[15] = (uint8_t)i;
    }
    many[3].len = 200;
    struct tb4_router_cfg c2 = cfg;
    c2.routes = many;
    c2.n_routes = TB4_MAX_ROUTES + 1;
    n = tb4_build_ra(&c2, ep_a, &dst, b, TB4_REPLY_MAX);
    assert_int_equal(n, 40 + 16 + 8 + 32 + 15 * 24);
    struct tb4_ra_info ra;
    assert_int_equal(tb4_parse_ra(b, n, &ra), TB4_OK);
    assert_int_equal(ra.n_routes, 15);
    assert_int_equal(ra.routes[3].addr.s6_addr[15], 4);
    c2.n_routes = TB4_MAX_ROUTES;
    many[3].len = 128;
    n = tb4_build_ra(&c2, ep_a, &dst, b, TB4_REPLY_MAX);
    assert_int_equal(n, 40 + 16 + 8 + 32 + 16 * 24);
    assert_true(n <= TB4_REPLY_MAX);
    /* no routes */
    c2.routes = NULL;
    c2.n_routes = 0;
    n = tb4_build_ra(&c2, ep_a, &dst, b, TB4_REPLY_MAX);
    assert_int_equal(n, 40 + 16 + 8 + 32);
}

/* ---- peer -------------------------------------------------------------- */

static void test_parse_ra(void **state)
{
    (void)state;
    uint8_t b[TB4_REPLY_MAX];
    struct tb4_ra_info ra;
    struct in6_addr dst = A6("ff02::1"), ll = A6("fe80::"), glob = A6("2001:db8:1:2::");
    struct e6_prefix p114;
    assert_true(e6_6bed4_peer_prefix(&cfg.prefix, ep_a.addr, ep_a.port, &p114));

    /* ours */
    size_t n = tb4_build_ra(&cfg, ep_a, &dst, b, sizeof(b));
    assert_int_equal(tb4_parse_ra(b, n, &ra), TB4_OK);
    assert_true(e6_prefix_equal(&ra.pio, &p114));
    assert_int_equal(ra.mtu, 1280);
    assert_int_equal(ra.router_lifetime, TB4_ROUTER_LIFETIME);
    assert_int_equal(ra.n_routes, 2);
    assert_true(e6_prefix_equal(&ra.routes[0], &routes[0]));
    assert_true(e6_prefix_equal(&ra.routes[1], &routes[1]));

    /* the reference router's: a route as a PIO with L=0, A=0 */
    struct e6_prefix r = P("2001:db8:300::/40");
    n = mkra(b, &ll, 255, &p114, 0xc0, &r);
    assert_int_equal(tb4_parse_ra(b, n, &ra), TB4_OK);
    assert_true(e6_prefix_equal(&ra.pio, &p114));
    assert_int_equal(ra.n_routes, 1);
    assert_true(e6_prefix_equal(&ra.routes[0], &r));

    /* /64 PIO, no PIO, L or A clear, a /114 not of the 6bed4 form */
    struct e6_prefix p64 = P("2001:db8:1:2::/64");
    n = mkra(b, &ll, 255, &p64, 0xc0, NULL);
    assert_int_equal(tb4_parse_ra(b, n, &ra), TB4_D_BAD_RA);
    n = mkra(b, &ll, 255, NULL, 0, NULL);
    assert_int_equal(tb4_parse_ra(b, n, &ra), TB4_D_BAD_RA);
    n = mkra(b, &ll, 255, &p114, 0x40, NULL);
    assert_int_equal(tb4_parse_ra(b, n, &ra), TB4_D_BAD_RA);
    n = mkra(b, &ll, 255, &p114, 0x80, NULL);
    assert_int_equal(tb4_parse_ra(b, n, &ra), TB4_D_BAD_RA);
    struct e6_prefix p0 = P("2001:db8:1:2:c800:7107::/114");
    n = mkra(b, &ll, 255, &p0, 0xc0, NULL);
    assert_int_equal(tb4_parse_ra(b, n, &ra), TB4_D_BAD_RA);

    /* not from a link-local address */
    n = mkra(b, &glob, 255, &p114, 0xc0, NULL);
    assert_int_equal(tb4_parse_ra(b, n, &ra), TB4_D_BAD_RA);
    /* checksum, hop limit, code, not IPv6, not an RA */
    n = mkra(b, &ll, 255, &p114, 0xc0, NULL);
    b[n - 1] ^= 1;
    assert_int_equal(tb4_parse_ra(b, n, &ra), TB4_D_ND_INVALID);
    n = mkra(b, &ll, 254, &p114, 0xc0, NULL);
    assert_int_equal(tb4_parse_ra(b, n, &ra), TB4_D_ND_HOPLIMIT);
    n = mkra(b, &ll, 255, &p114, 0xc0, NULL);
    b[41] = 1;
    e6_ip6_icmp6_cksum_set(&ll, &dst, b + 40, n - 40);
    assert_int_equal(tb4_parse_ra(b, n, &ra), TB4_D_ND_INVALID);
    assert_int_equal(tb4_parse_ra(b, 30, &ra), TB4_D_NOT_IPV6);
    n = tb4_build_rs(b, sizeof(b));
    assert_int_equal(tb4_parse_ra(b, n, &ra), TB4_D_BAD_RA);
}

static void test_peer_address(void **state)
{
    (void)state;
    struct e6_prefix p114;
    assert_true(e6_6bed4_peer_prefix(&cfg.prefix, ep_a.addr, ep_a.port, &p114));
    struct in6_addr a;
    assert_true(tb4_peer_address(&p114, &a));
    assert_memory_equal(&a, &addr_a, 16);
    assert_int_equal(a.s6_addr[15], 1);
    struct e6_prefix bad = p114;
    bad.len = 64;
    assert_false(tb4_peer_address(&bad, &a));
    bad = P("2001:db8:1:2:c800:7107::/114");
    assert_false(tb4_peer_address(&bad, &a));
}

static void test_peer_from_udp(void **state)
{
    (void)state;
    uint8_t b[TB4_REPLY_MAX];
    struct tb4_verdict v;
    struct in6_addr dst = A6("ff02::1"), net = A6("2001:db8:ffff::1");

    size_t n = tb4_build_ra(&cfg, ep_a, &dst, b, sizeof(b));
    tb4_peer_from_udp(NULL, b, n, &v);
    assert_int_equal(v.action, TB4_A_RA);
    assert_int_equal(v.ra.pio.len, 114);
    tb4_peer_from_udp(&addr_a, b, n, &v);
    assert_int_equal(v.action, TB4_A_RA);
    b[n - 1] ^= 1;
    tb4_peer_from_udp(&addr_a, b, n, &v);
    assert_drop(&v, TB4_D_ND_INVALID);

    n = mkdata(b, &net, &addr_a, 60);
    tb4_peer_from_udp(NULL, b, n, &v);
    assert_drop(&v, TB4_D_NO_PREFIX);
    tb4_peer_from_udp(&addr_a, b, n, &v);
    assert_int_equal(v.action, TB4_A_TUN);
    assert_int_equal(b[7], 60);
    /* another lanip of our /114 */
    struct in6_addr other = addr_a;
    other.s6_addr[15] = 9;
    other.s6_addr[14] |= 0x3f;
    n = mkdata(b, &net, &other, 60);
    tb4_peer_from_udp(&addr_a, b, n, &v);
    assert_int_equal(v.action, TB4_A_TUN);
    /* not ours */
    n = mkdata(b, &net, &addr_b, 60);
    tb4_peer_from_udp(&addr_a, b, n, &v);
    assert_drop(&v, TB4_D_NOT_OURS);
    n = mkdata(b, &net, &dst, 60);
    tb4_peer_from_udp(&addr_a, b, n, &v);
    assert_drop(&v, TB4_D_MULTICAST);
    struct in6_addr ll = A6("fe80::");
    n = mkns(b, &ll, &addr_a, &addr_a, 255);
    tb4_peer_from_udp(&addr_a, b, n, &v);
    assert_drop(&v, TB4_D_ND_OTHER);
    tb4_peer_from_udp(&addr_a, b, 0, &v);
    assert_drop(&v, TB4_D_SHORT);
    tb4_peer_from_udp(&addr_a, b, 39, &v);
    assert_drop(&v, TB4_D_SHORT);
    n = mkdata(b, &net, &addr_a, 60);
    tb4_peer_from_udp(&addr_a, b, n - 1, &v);
    assert_drop(&v, TB4_D_NOT_IPV6);
}

static void test_peer_from_tun(void **state)
{
    (void)state;
    uint8_t b[256];
    struct tb4_verdict v;
    struct in6_addr net = A6("2001:db8:ffff::1"), ll = A6("fe80::1"), any = IN6ADDR_ANY_INIT;

    size_t n = mkdata(b, &addr_a, &net, 64);
    tb4_peer_from_tun(&addr_a, b, n, &v);
    assert_int_equal(v.action, TB4_A_UDP);
    assert_int_equal(b[7], 64);
    tb4_peer_from_tun(NULL, b, n, &v);
    assert_drop(&v, TB4_D_NO_PREFIX);
    n = mkdata(b, &addr_b, &net, 64);
    tb4_peer_from_tun(&addr_a, b, n, &v);
    assert_drop(&v, TB4_D_NOT_OURS);
    n = mkdata(b, &ll, &net, 64);
    tb4_peer_from_tun(&addr_a, b, n, &v);
    assert_drop(&v, TB4_D_NOT_OURS);
    /* the kernel's RS and MLD report */
    n = mkrs(b, &any, 255, 0, 0);
    tb4_peer_from_tun(&addr_a, b, n, &v);
    assert_drop(&v, TB4_D_MULTICAST);
    struct in6_addr mld = A6("ff02::16");
    uint8_t rep[28] = {143};
    n = mkpkt(b, &ll, &mld, 1, E6_IPPROTO_ICMPV6, rep, sizeof(rep));
    tb4_peer_from_tun(&addr_a, b, n, &v);
    assert_drop(&v, TB4_D_MULTICAST);
    /* unicast ND */
    struct in6_addr rll = A6("fe80::");
    n = mkns(b, &addr_a, &rll, &rll, 255);
    tb4_peer_from_tun(&addr_a, b, n, &v);
    assert_drop(&v, TB4_D_ND_OTHER);
    tb4_peer_from_tun(&addr_a, b, 20, &v);
    assert_drop(&v, TB4_D_SHORT);
}

static void test_backoff(void **state)
{
    (void)state;
    assert_int_equal(tb4_rs_backoff_ms(0), 0);
    assert_int_equal(tb4_rs_backoff_ms(1), 1000);
    assert_int_equal(tb4_rs_backoff_ms(2), 3000);
    assert_int_equal(tb4_rs_backoff_ms(3), 7000);
    assert_int_equal(tb4_rs_backoff_ms(4), 15000);
    assert_int_equal(tb4_rs_backoff_ms(5), 30000);
    assert_int_equal(tb4_rs_backoff_ms(6), 30000);
    assert_int_equal(tb4_rs_backoff_ms(~0u), 30000);
}

/* ---- peer table -------------------------------------------------------- */

static struct tb4_endpoint nth(unsigned i)
{
    struct tb4_endpoint e = {.port = (uint16_t)(1000 + i % 60000)};
    e.addr.s_addr = htonl(0xc6336400u + (i / 60000)); /* 198.51.100.x */
    return e;
}

struct visit {
    struct tb4_endpoint seen[8];
    size_t n, stop_at;
};

static bool visit_fn(const struct tb4_peer *e, void *arg)
{
    struct visit *v = arg;
    if (v->n < 8)
        v->seen[v->n] = e->key;
    v->n++;
    return v->n != v->stop_at;
}

static void test_peers_basic(void **state)
{
    (void)state;
    struct tb4_peers p;
    assert_int_equal(tb4_peers_init(&p, 0, 1000), -EINVAL);
    assert_int_equal(tb4_peers_init(&p, 4, 0), -EINVAL);
    assert_int_equal(tb4_peers_init(&p, 8, 1000), 0);
    assert_int_equal(tb4_peers_next_expiry(&p), UINT64_MAX);
    assert_int_equal(tb4_peers_expire(&p, 5000), 0);

    assert_false(tb4_peers_keepalive(&p, ep_a, 100));
    assert_int_equal(tb4_peers_count(&p), 0);
    assert_int_equal(tb4_peers_touch(&p, ep_a, TB4_PEER_SOLICITED, 1, 100), 1);
    assert_int_equal(tb4_peers_touch(&p, ep_b, TB4_PEER_ACTIVE, 3, 200), 1);
    assert_int_equal(tb4_peers_touch(&p, ep_a, TB4_PEER_SOLICITED, 1, 300), 0);
    assert_int_equal(tb4_peers_count(&p), 2);
    assert_int_equal(p.inserted, 2);
    /* A refreshed at 300 is now the newest: B expires first */
    assert_int_equal(tb4_peers_next_expiry(&p), 1200);
    assert_true(tb4_peers_live(&p, ep_a, 1299));
    assert_false(tb4_peers_live(&p, ep_a, 1300));
    assert_false(tb4_peers_live(&p, EP("203.0.113.7", 50001), 300));

    const struct tb4_peer *pa = NULL, *pb = NULL;
    struct visit vis = {0};
    tb4_peers_foreach(&p, visit_fn, &vis);
    assert_int_equal(vis.n, 2);
    assert_int_equal(vis.seen[0].port, ep_a.port);
    assert_int_equal(vis.seen[1].port, ep_b.port);
    pa = p.newest;
    pb = p.oldest;
    assert_int_equal(pa->packets, 2);
    assert_int_equal(pa->first_ms, 100);
    assert_int_equal(pa->last_ms, 300);
    assert_int_equal(pa->cls, TB4_PEER_SOLICITED);
    assert_int_equal(pb->cls, TB4_PEER_ACTIVE);
    /* never demoted */
    assert_int_equal(tb4_peers_touch(&p, ep_b, TB4_PEER_SOLICITED, 1, 400), 0);
    assert_int_equal(pb->cls, TB4_PEER_ACTIVE);
    assert_int_equal(pb->packets, 4);
    /* keepalive of a known one promotes it and makes it the newest */
    assert_true(tb4_peers_keepalive(&p, ep_a, 500));
    assert_int_equal(pa->cls, TB4_PEER_ACTIVE);
    assert_int_equal(pa->last_ms, 500);
    assert_ptr_equal(p.newest, pa);
    /* foreach stops when told */
    vis = (struct visit){.stop_at = 1};
    tb4_peers_foreach(&p, visit_fn, &vis);
    assert_int_equal(vis.n, 1);
    assert_int_equal(vis.seen[0].port, ep_a.port);

    /* expiry in last-heard order */
    assert_int_equal(tb4_peers_next_expiry(&p), 1400);
    assert_int_equal(tb4_peers_expire(&p, 1399), 0);
    assert_int_equal(tb4_peers_expire(&p, 1400), 1);
    assert_int_equal(tb4_peers_count(&p), 1);
    assert_false(tb4_peers_live(&p, ep_b, 1400));
    assert_true(tb4_peers_live(&p, ep_a, 1400));
    assert_int_equal(tb4_peers_next_expiry(&p), 1500);
    assert_int_equal(tb4_peers_expire(&p, 10000), 1);
    assert_int_equal(p.expired, 2);
    assert_int_equal(tb4_peers_count(&p), 0);
    assert_null(p.oldest);
    assert_null(p.newest);
    assert_int_equal(tb4_peers_next_expiry(&p), UINT64_MAX);
    /* an expired peer comes back as new */
    assert_int_equal(tb4_peers_touch(&p, ep_b, TB4_PEER_ACTIVE, 1, 20000), 1);
    assert_int_equal(tb4_peers_touch(&p, ep_b, 7, 1, 20000), -EINVAL);
    /* a time from the past (another thread's stamp) keeps the list sorted */
    assert_int_equal(tb4_peers_touch(&p, ep_a, TB4_PEER_ACTIVE, 1, 19000), 1);
    assert_int_equal(p.newest->last_ms, 20000);
    assert_int_equal(p.newest->first_ms, 20000);
    assert_int_equal(tb4_peers_expire(&p, 20999), 0);
    assert_int_equal(tb4_peers_expire(&p, 21000), 2);
    tb4_peers_destroy(&p);
}

static void test_peers_bound(void **state)
{
    (void)state;
    struct tb4_peers p;
    assert_int_equal(tb4_peers_init(&p, 4, 60000), 0);
    assert_int_equal(tb4_peers_touch(&p, nth(0), TB4_PEER_ACTIVE, 1, 1), 1);
    assert_int_equal(tb4_peers_touch(&p, nth(1), TB4_PEER_SOLICITED, 1, 2), 1);
    assert_true(tb4_peers_keepalive(&p, nth(1), 3)); /* now ACTIVE */
    /* a flood of solicitations churns among itself */
    for (unsigned i = 100; i < 1100; i++) {
        int rc = tb4_peers_touch(&p, nth(i), TB4_PEER_SOLICITED, 1, 10 + i);
        assert_int_equal(rc, 1);
        assert_true(tb4_peers_count(&p) <= 4);
    }
    assert_int_equal(tb4_peers_count(&p), 4);
    assert_true(tb4_peers_live(&p, nth(0), 2000));
    assert_true(tb4_peers_live(&p, nth(1), 2000));
    assert_true(tb4_peers_live(&p, nth(1099), 2000));
    assert_true(tb4_peers_live(&p, nth(1098), 2000));
    assert_false(tb4_peers_live(&p, nth(1097), 2000));
    assert_int_equal(p.evicted, 998);
    assert_true(p.allocated <= 5);
    /* the deadline list stayed consistent through the evictions */
    size_t n = 0;
    uint64_t last = 0;
    for (const struct tb4_peer *e = p.oldest; e; e = e->next, n++) {
        assert_true(e->last_ms >= last);
        last = e->last_ms;
    }
    assert_int_equal(n, 4);
    /* an ACTIVE one pushes out a solicited one */
    assert_int_equal(tb4_peers_touch(&p, nth(2), TB4_PEER_ACTIVE, 1, 3000), 1);
    assert_int_equal(tb4_peers_touch(&p, nth(3), TB4_PEER_ACTIVE, 1, 3001), 1);
    assert_int_equal(tb4_peers_count(&p), 4);
    /* full of ACTIVE: a solicitation is refused, so is nothing else */
    assert_int_equal(tb4_peers_touch(&p, nth(4), TB4_PEER_SOLICITED, 1, 3002), -ENOSPC);
    assert_int_equal(p.refused, 1);
    assert_int_equal(tb4_peers_count(&p), 4);
    assert_false(tb4_peers_live(&p, nth(4), 3002));
    /* an ACTIVE newcomer evicts the least recently used ACTIVE one (nth(0)) */
    assert_int_equal(tb4_peers_touch(&p, nth(5), TB4_PEER_ACTIVE, 1, 3003), 1);
    assert_false(tb4_peers_live(&p, nth(0), 3003));
    /* expiry still walks a consistent list */
    assert_int_equal(tb4_peers_expire(&p, 1000000), 4);
    assert_int_equal(tb4_peers_count(&p), 0);
    tb4_peers_destroy(&p);
}

static void test_peers_chunks(void **state)
{
    (void)state;
    struct tb4_peers p;
    assert_int_equal(tb4_peers_init(&p, 1000, 100), 0);
    for (unsigned i = 0; i < 1000; i++)
        assert_int_equal(tb4_peers_touch(&p, nth(i), TB4_PEER_ACTIVE, 1, i), 1);
    assert_int_equal(tb4_peers_count(&p), 1000);
    assert_int_equal(p.allocated, 1001);
    for (unsigned i = 0; i < 1000; i++)
        assert_true(tb4_peers_live(&p, nth(i), i + 99) && !tb4_peers_live(&p, nth(i), i + 100));
    assert_int_equal(tb4_peers_expire(&p, 600), 501);
    /* recycled entries: no growth */
    for (unsigned i = 2000; i < 2501; i++)
        assert_int_equal(tb4_peers_touch(&p, nth(i), TB4_PEER_SOLICITED, 1, 700), 1);
    assert_int_equal(p.allocated, 1001);
    assert_int_equal(tb4_peers_count(&p), 1000);
    tb4_peers_destroy(&p);
    /* destroy twice is harmless */
    tb4_peers_destroy(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_drop_names),
        cmocka_unit_test(test_rs_unspec_slla),
        cmocka_unit_test(test_rs_accepted_variants),
        cmocka_unit_test(test_rs_refused),
        cmocka_unit_test(test_short_and_keepalive),
        cmocka_unit_test(test_ns_own),
        cmocka_unit_test(test_ns_refused),
        cmocka_unit_test(test_antispoof),
        cmocka_unit_test(test_hairpin),
        cmocka_unit_test(test_local_and_multicast),
        cmocka_unit_test(test_from_tun),
        cmocka_unit_test(test_build_rs),
        cmocka_unit_test(test_build_ra),
        cmocka_unit_test(test_parse_ra),
        cmocka_unit_test(test_peer_address),
        cmocka_unit_test(test_peer_from_udp),
        cmocka_unit_test(test_peer_from_tun),
        cmocka_unit_test(test_backoff),
        cmocka_unit_test(test_peers_basic),
        cmocka_unit_test(test_peers_bound),
        cmocka_unit_test(test_peers_chunks),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
