/*
 * tests/fuzz/fuzz_nd: libFuzzer target for common/ip6 and common/nd.
 *
 * The input is a whole IPv6 packet, as a TUN or libpcap hands it over. It is
 * parsed twice: as it is (so the checksum and every early reject is
 * exercised), then with the ICMPv6 checksum fixed up so mutations reach the
 * option parsers. Whatever is accepted must satisfy the parse result's
 * invariants, and every decoded RA item is rebuilt alone by the builder and
 * parsed again: the builder must accept what the parser produced (where the
 * builder's stricter rules allow) and the second parse must give it back.
 * Violations call __builtin_trap().
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/ip6.h"
#include "common/nd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            __builtin_trap();                                                                      \
    } while (0)

static const struct in6_addr rt_src = {{{0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}}};
static const struct in6_addr rt_dst = {{{0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}}};

static bool inside(const void *p, size_t n, const uint8_t *base, size_t len)
{
    const uint8_t *q = p;
    return q >= base && n <= len && (size_t)(q - base) <= len - n;
}

static bool host_bits_clear(const struct e6_prefix *p)
{
    for (unsigned bit = p->len; bit < 128; bit++)
        if (p->addr.s6_addr[bit / 8] & (0x80 >> (bit % 8)))
            return false;
    return true;
}

static bool prefix_eq(const struct e6_prefix *a, const struct e6_prefix *b)
{
    return a->len == b->len && memcmp(&a->addr, &b->addr, sizeof(a->addr)) == 0;
}

static void check_msg(const struct e6_nd_msg *m, const uint8_t *icmp, size_t len)
{
    CHECK(m->type >= E6_ND_RS && m->type <= E6_ND_REDIRECT);
    CHECK(m->code == 0);
    CHECK(m->len == len);
    if (m->slla.addr)
        CHECK(m->slla.len >= 6 && inside(m->slla.addr, m->slla.len, icmp, len));
    if (m->tlla.addr)
        CHECK(m->tlla.len >= 6 && inside(m->tlla.addr, m->tlla.len, icmp, len));
    if (m->nonce)
        CHECK(m->nonce_len >= 6 && inside(m->nonce, m->nonce_len, icmp, len));
    if (m->redir_hdr)
        CHECK(inside(m->redir_hdr, m->redir_hdr_len, icmp, len));
    if (m->captive) {
        CHECK(m->captive_len > 0 && inside(m->captive, m->captive_len, icmp, len));
        for (size_t i = 0; i < m->captive_len; i++)
            CHECK(m->captive[i] > 0x20 && m->captive[i] < 0x7f);
    }
    CHECK(m->n_pio <= E6_ND_MAX_PIO && m->n_rio <= E6_ND_MAX_RIO);
    CHECK(m->n_rdnss <= E6_ND_MAX_RDNSS && m->n_dnssl <= E6_ND_MAX_DNSSL);
    CHECK(m->n_pref64 <= E6_ND_MAX_PREF64);
    CHECK(m->n_unknown + m->n_misplaced <= m->n_opts);
    for (unsigned i = 0; i < m->n_pio; i++)
        CHECK(m->pio[i].prefix.len <= 128 && host_bits_clear(&m->pio[i].prefix));
    for (unsigned i = 0; i < m->n_rio; i++) {
        CHECK(m->rio[i].prefix.len <= 128 && host_bits_clear(&m->rio[i].prefix));
        CHECK(m->rio[i].prf != E6_ND_PRF_RESERVED);
    }
    for (unsigned i = 0; i < m->n_pref64; i++) {
        CHECK(host_bits_clear(&m->pref64[i].prefix));
        CHECK(m->pref64[i].lifetime % 8 == 0);
    }
    for (unsigned i = 0; i < m->n_dnssl; i++) {
        size_t n = strnlen(m->dnssl[i].name, sizeof(m->dnssl[i].name));
        CHECK(n > 0 && n <= E6_ND_DNS_NAME_MAX);
        CHECK(e6_nd_dns_name_valid(m->dnssl[i].name, NULL, 0));
    }
    for (unsigned i = 0; i < m->n_bad && i < E6_ND_MAX_BAD; i++) {
        CHECK(m->bad[i].reason > 0 && m->bad[i].reason < E6_ND_OB__COUNT);
        CHECK(m->bad[i].offset < len);
    }
    CHECK(m->ra.prf != E6_ND_PRF_RESERVED);
}

/* Start an RA with m's header; flags the builder does not take are dropped */
static void start_ra(struct e6_nd_builder *b, uint8_t *buf, size_t cap, const struct e6_nd_msg *m)
{
    struct e6_nd_ra ra = m->ra;
    ra.flags &= E6_ND_RA_M | E6_ND_RA_O | E6_ND_RA_H | E6_ND_RA_P;
    e6_nd_build_init(b, buf, cap);
    CHECK(e6_nd_put_ra(b, &ra) == 0);
}

static struct e6_nd_msg m2;
static uint8_t bbuf[4096];

static const struct e6_nd_msg *reparse(struct e6_nd_builder *b)
{
    int n = e6_nd_build_finish(b, &rt_src, &rt_dst);
    CHECK(n > 0);
    struct e6_nd_in in = {
        .src = rt_src, .dst = rt_dst, .hop_limit = 255, .icmp = bbuf, .len = (size_t)n};
    CHECK(e6_nd_parse(&in, &m2) == E6_ND_OK);
    CHECK(m2.n_bad == 0);
    check_msg(&m2, bbuf, (size_t)n);
    return &m2;
}

static void roundtrip_ra(const struct e6_nd_msg *m)
{
    struct e6_nd_builder b;
    const struct e6_nd_msg *r;

    start_ra(&b, bbuf, sizeof(bbuf), m);
    r = reparse(&b);
    CHECK(r->ra.cur_hop_limit == m->ra.cur_hop_limit);
    CHECK(r->ra.router_lifetime == m->ra.router_lifetime);
    CHECK(r->ra.reachable == m->ra.reachable && r->ra.retrans == m->ra.retrans);
    CHECK(r->ra.prf == (m->ra.router_lifetime ? m->ra.prf : E6_ND_PRF_MEDIUM));

    if (m->slla.addr) {
        start_ra(&b, bbuf, sizeof(bbuf), m);
        CHECK(e6_nd_put_lladdr(&b, E6_ND_OPT_SLLA, m->slla.addr, m->slla.len) == 0);
        r = reparse(&b);
        CHECK(r->slla.len == m->slla.len && !memcmp(r->slla.addr, m->slla.addr, m->slla.len));
    }
    if (m->has_mtu && m->mtu >= 1280) {
        start_ra(&b, bbuf, sizeof(bbuf), m);
        CHECK(e6_nd_put_mtu(&b, m->mtu) == 0);
        CHECK(reparse(&b)->mtu == m->mtu);
    }
    for (unsigned i = 0; i < m->n_pio; i++) {
        start_ra(&b, bbuf, sizeof(bbuf), m);
        if (e6_nd_put_pio(&b, &m->pio[i]) != 0)
            continue; /* preferred > valid, reserved flag bits: the builder refuses those */
        r = reparse(&b);
        CHECK(r->n_pio == 1);
        CHECK(prefix_eq(&r->pio[0].prefix, &m->pio[i].prefix));
        CHECK(r->pio[0].flags == m->pio[i].flags && r->pio[0].valid == m->pio[i].valid &&
              r->pio[0].preferred == m->pio[i].preferred);
    }
    for (unsigned i = 0; i < m->n_rio; i++) {
        start_ra(&b, bbuf, sizeof(bbuf), m);
        CHECK(e6_nd_put_route(&b, &m->rio[i]) == 0);
        r = reparse(&b);
        CHECK(r->n_rio == 1 && prefix_eq(&r->rio[0].prefix, &m->rio[i].prefix));
        CHECK(r->rio[0].prf == m->rio[i].prf && r->rio[0].lifetime == m->rio[i].lifetime);
    }
    for (unsigned i = 0; i < m->n_rdnss; i++) {
        start_ra(&b, bbuf, sizeof(bbuf), m);
        if (e6_nd_put_rdnss(&b, m->rdnss[i].lifetime, &m->rdnss[i].addr, 1) != 0)
            continue; /* :: or multicast */
        r = reparse(&b);
        CHECK(r->n_rdnss == 1 && !memcmp(&r->rdnss[0], &m->rdnss[i], sizeof(r->rdnss[0])));
    }
    for (unsigned i = 0; i < m->n_dnssl; i++) {
        const char *name = m->dnssl[i].name;
        start_ra(&b, bbuf, sizeof(bbuf), m);
        CHECK(e6_nd_put_dnssl(&b, m->dnssl[i].lifetime, &name, 1) == 0);
        r = reparse(&b);
        CHECK(r->n_dnssl == 1 && !strcmp(r->dnssl[0].name, name));
        CHECK(r->dnssl[0].lifetime == m->dnssl[i].lifetime);
    }
    for (unsigned i = 0; i < m->n_pref64; i++) {
        start_ra(&b, bbuf, sizeof(bbuf), m);
        CHECK(e6_nd_put_pref64(&b, m->pref64[i].lifetime, &m->pref64[i].prefix) == 0);
        r = reparse(&b);
        CHECK(r->n_pref64 == 1 && r->pref64[0].lifetime == m->pref64[i].lifetime);
        CHECK(prefix_eq(&r->pref64[0].prefix, &m->pref64[i].prefix));
    }
    if (m->captive) {
        static char uri[E6_ND_OPT_MAX_SIZE];
        memcpy(uri, m->captive, m->captive_len);
        uri[m->captive_len] = '\0';
        start_ra(&b, bbuf, sizeof(bbuf), m);
        CHECK(e6_nd_put_captive(&b, uri) == 0);
        r = reparse(&b);
        CHECK(r->captive_len == m->captive_len && !memcmp(r->captive, uri, m->captive_len));
    }
    if (m->nonce) {
        start_ra(&b, bbuf, sizeof(bbuf), m);
        CHECK(e6_nd_put_nonce(&b, m->nonce, m->nonce_len) == 0);
        r = reparse(&b);
        CHECK(r->nonce_len == m->nonce_len && !memcmp(r->nonce, m->nonce, m->nonce_len));
    }
}

static void one(const uint8_t *pkt, size_t size, bool fixed)
{
    static struct e6_nd_msg m;
    struct e6_ip6_pkt p;
    if (e6_ip6_parse(pkt, size, &p) != E6_IP6_OK)
        return;
    CHECK(p.pkt_len <= size && p.payload_off + p.payload_len == p.pkt_len);
    CHECK(p.payload == pkt + p.payload_off);
    enum e6_nd_reject r = e6_nd_parse_ip6(&p, &m);
    CHECK((unsigned)r < E6_ND_R__COUNT);
    if (fixed)
        CHECK(r != E6_ND_R_CHECKSUM);
    if (r != E6_ND_OK)
        return;
    check_msg(&m, p.payload, p.payload_len);
    if (m.type == E6_ND_RA)
        roundtrip_ra(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t copy[E6_IP6_HDR_LEN + E6_IP6_MAX_PAYLOAD];
    struct e6_ip6_pkt p;

    one(data, size, false);

    if (size > sizeof(copy))
        return 0;
    memcpy(copy, data, size);
    if (e6_ip6_parse(copy, size, &p) != E6_IP6_OK || p.proto != E6_IPPROTO_ICMPV6 ||
        p.payload_len < 4 || p.fragment)
        return 0;
    e6_ip6_icmp6_cksum_set(&p.hdr.src, &p.hdr.dst, copy + p.payload_off, p.payload_len);
    one(copy, size, true);
    return 0;
}
