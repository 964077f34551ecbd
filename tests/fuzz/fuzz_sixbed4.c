/*
 * tests/fuzz/fuzz_sixbed4: the 6bed4 decisions (tunnel/sixbed4.h) on
 * arbitrary bytes. Input: a flags byte, an endpoint byte, then a packet.
 * The flags patch the packet so the fuzzer gets past the cheap checks
 * (source = the 6bed4 address of the sending endpoint, hop limit 255, a
 * good ICMPv6 checksum). The packet goes through the router's UDP and TUN
 * decisions, the peer's UDP and TUN decisions and the RA parser; the same
 * bytes then drive the peer table as a list of operations. Checked: every
 * REPLY is a valid ND packet (RA or NA) of at most TB4_REPLY_MAX bytes and
 * nothing is written past it, every UDP endpoint has a port, the input is
 * changed only in the hop limit of a hair-pinned packet, the table never
 * exceeds its bound and its last-heard list stays consistent.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include "common/addr.h"
#include "common/bytes.h"
#include "common/ip6.h"
#include "common/nd.h"
#include "common/sixbed4.h"
#include "tunnel/sixbed4.h"

#define BOUND 8

static struct tb4_router_cfg cfg;
static struct e6_prefix routes[3];
static struct tb4_peers peers;
static bool ready;

static void check(int ok)
{
    if (!ok)
        abort();
}

static void setup(void)
{
    check(e6_addr_parse("2001:db8:1:2::", &cfg.prefix));
    check(inet_pton(AF_INET, "192.0.2.1", &cfg.self.addr) == 1);
    cfg.self.port = 25790;
    check(e6_prefix_parse("2001:db8:100::/48", true, &routes[0], NULL, 0));
    check(e6_prefix_parse("2001:db8:200::/56", true, &routes[1], NULL, 0));
    check(e6_prefix_parse("2001:db8:300::1/128", true, &routes[2], NULL, 0));
    cfg.routes = routes;
    cfg.n_routes = 3;
    check(tb4_peers_init(&peers, BOUND, 1000) == 0);
    ready = true;
}

/* endpoints: 203.0.113.x with a port never 0 */
static struct tb4_endpoint endpoint(uint8_t b)
{
    struct tb4_endpoint e;
    e.addr.s_addr = htonl(0xcb007100u | (b & 0x0f));
    e.port = (uint16_t)(40000 + (b >> 4));
    return e;
}

static void check_verdict(const struct tb4_verdict *v)
{
    check(v->why < TB4_D__COUNT && tb4_drop_name(v->why) != NULL);
    check(v->action <= TB4_A_RA);
    if (v->action == TB4_A_DROP)
        check(v->why != TB4_OK);
    else if (v->action != TB4_A_REPLY)
        check(v->why == TB4_OK);
    if (v->action == TB4_A_UDP && (v->hairpin || v->ep.port)) {
        uint8_t top = (uint8_t)(ntohl(v->ep.addr.s_addr) >> 24);
        check(v->ep.port != 0 && top != 0 && top != 127 && top < 224);
        check(v->ep.addr.s_addr != cfg.self.addr.s_addr);
    }
}

static void check_reply(const struct tb4_verdict *v, const uint8_t *reply, struct tb4_endpoint from)
{
    check(v->reply_len >= 40 + 24 && v->reply_len <= TB4_REPLY_MAX);
    check(reply[v->reply_len] == 0xa5);
    struct e6_ip6_pkt p;
    check(e6_ip6_parse(reply, v->reply_len, &p) == E6_IP6_OK);
    check(p.pkt_len == v->reply_len);
    static struct e6_nd_msg m;
    check(e6_nd_parse_ip6(&p, &m) == E6_ND_OK);
    check(m.type == v->reply_type);
    if (v->reply_type == E6_ND_RA) {
        struct tb4_ra_info ra;
        check(tb4_parse_ra(reply, v->reply_len, &ra) == TB4_OK);
        struct e6_prefix want;
        check(e6_6bed4_peer_prefix(&cfg.prefix, from.addr, from.port, &want));
        check(e6_prefix_equal(&ra.pio, &want));
        check(ra.mtu == TB4_MTU && ra.n_routes == 3);
    } else {
        check(v->reply_type == E6_ND_NA && v->why == TB4_OK);
        check(m.tlla.addr && m.tlla.len == 6);
    }
}

static uint64_t now;

static void table_ops(const uint8_t *d, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2) {
        struct tb4_endpoint ep = endpoint(d[i + 1]);
        now += d[i] >> 2;
        switch (d[i] & 3) {
        case 0:
        case 1: {
            int rc = tb4_peers_touch(&peers, ep, (enum tb4_peer_class)(d[i] & 1), 1, now);
            check(rc == 0 || rc == 1 || rc == -ENOSPC);
            if (rc >= 0)
                check(tb4_peers_live(&peers, ep, now));
            break;
        }
        case 2:
            tb4_peers_keepalive(&peers, ep, now);
            break;
        default:
            tb4_peers_expire(&peers, now);
            check(tb4_peers_next_expiry(&peers) > now);
            break;
        }
        check(tb4_peers_count(&peers) <= BOUND);
    }
    size_t count = 0;
    uint64_t last = 0;
    for (const struct tb4_peer *e = peers.oldest; e; e = e->next, count++) {
        check(e->last_ms >= last && e->first_ms <= e->last_ms);
        check(e->next || e == peers.newest);
        last = e->last_ms;
    }
    check(count == tb4_peers_count(&peers));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ready)
        setup();
    if (size < 2)
        return 0;
    uint8_t flags = data[0];
    struct tb4_endpoint from = endpoint(data[1]);
    size_t len = size - 2;
    uint8_t *pkt = malloc(len ? len : 1);
    uint8_t *orig = malloc(len ? len : 1);
    check(pkt && orig);
    memcpy(pkt, data + 2, len);

    struct in6_addr self;
    check(e6_6bed4_encode(&cfg.prefix, from.addr, from.port, 1, &self));
    if (len >= 40) {
        if (flags & 1)
            memcpy(pkt + 8, &self, 16);
        if (flags & 2)
            pkt[7] = 255;
        if (flags & 8) {
            struct in6_addr other;
            check(e6_6bed4_encode(&cfg.prefix, endpoint(flags).addr, endpoint(flags).port,
                                  flags & 0x30, &other));
            memcpy(pkt + 24, &other, 16);
        }
        size_t plen = e6_get16(pkt + 4);
        if ((flags & 4) && pkt[6] == E6_IPPROTO_ICMPV6 && plen >= 4 && 40 + plen <= len) {
            struct in6_addr s, d;
            memcpy(&s, pkt + 8, 16);
            memcpy(&d, pkt + 24, 16);
            e6_ip6_icmp6_cksum_set(&s, &d, pkt + 40, plen);
        }
    }
    memcpy(orig, pkt, len);

    /* router, from UDP */
    static uint8_t reply[TB4_REPLY_MAX + 1];
    memset(reply, 0xa5, sizeof(reply));
    struct tb4_verdict v;
    tb4_router_from_udp(&cfg, pkt, len, from, reply, &v);
    check_verdict(&v);
    if (v.action == TB4_A_KEEPALIVE)
        check(len == 0);
    if (v.action == TB4_A_REPLY)
        check_reply(&v, reply, from);
    if (v.action == TB4_A_UDP && v.hairpin) {
        check(v.ep.port != 0 && len >= 40);
        check(pkt[7] + 1 == orig[7]);
        pkt[7] = orig[7];
    }
    check(len == 0 || memcmp(pkt, orig, len) == 0);
    if (v.live) {
        int rc = tb4_peers_touch(
            &peers, from, v.action == TB4_A_REPLY ? TB4_PEER_SOLICITED : TB4_PEER_ACTIVE, 1, 0);
        check(rc == 0 || rc == 1 || rc == -ENOSPC);
    }

    /* router, from the TUN */
    tb4_router_from_tun(&cfg, pkt, len, &v);
    check_verdict(&v);
    check(v.action == TB4_A_DROP || v.action == TB4_A_UDP);
    if (v.action == TB4_A_UDP) {
        struct in6_addr dst;
        memcpy(&dst, pkt + 24, 16);
        check(v.ep.port != 0 && e6_6bed4_matches_endpoint(&dst, v.ep.addr, v.ep.port));
    }

    /* peer */
    tb4_peer_from_udp((flags & 0x40) ? &self : NULL, pkt, len, &v);
    check_verdict(&v);
    if (v.action == TB4_A_RA) {
        struct in6_addr a;
        check(v.ra.pio.len == E6_6BED4_PEER_PREFIXLEN && tb4_peer_address(&v.ra.pio, &a));
        check(v.ra.n_routes <= TB4_MAX_ROUTES);
    } else {
        check(v.action == TB4_A_DROP || v.action == TB4_A_TUN);
    }
    tb4_peer_from_tun((flags & 0x80) ? &self : NULL, pkt, len, &v);
    check_verdict(&v);
    check(v.action == TB4_A_DROP || v.action == TB4_A_UDP);

    struct tb4_ra_info ra;
    enum tb4_drop d = tb4_parse_ra(pkt, len, &ra);
    check(d == TB4_OK || d == TB4_D_BAD_RA || d == TB4_D_ND_HOPLIMIT || d == TB4_D_ND_INVALID ||
          d == TB4_D_NOT_IPV6);
    check(memcmp(pkt, orig, len) == 0 || len == 0);

    table_ops(data, size);
    free(pkt);
    free(orig);
    return 0;
}
