/*
 * tunnel/sixbed4: the pure 6bed4 decisions (router and peer), the RS/RA/NA
 * the tunnel sends over UDP, and the bounded table of live peers. Wire
 * compatible with the reference 6bed4router/6bed4peer (reference section
 * 3), without its quirks: the hop limit falls by exactly one per router
 * hop, every ND message is checked as RFC 4861 asks (except the RS from ::
 * with a Source Link-Layer Address option the reference peer sends), and
 * NS are answered only for the router's own addresses.
 */
#include "config.h"

#include <errno.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "common/ip6.h"
#include "common/nd.h"
#include "common/sixbed4.h"
#include "tunnel/sixbed4.h"

static const char *const drop_names[TB4_D__COUNT] = {
    [TB4_OK] = "ok",
    [TB4_D_SHORT] = "short",
    [TB4_D_NOT_IPV6] = "not_ipv6",
    [TB4_D_MULTICAST] = "multicast",
    [TB4_D_ND_HOPLIMIT] = "nd_hop_limit",
    [TB4_D_ND_INVALID] = "nd_invalid",
    [TB4_D_ND_OTHER] = "nd_other",
    [TB4_D_SPOOFED] = "spoofed",
    [TB4_D_REBIND] = "rebind",
    [TB4_D_HOP_LIMIT] = "hop_limit",
    [TB4_D_NOT_PEER] = "not_peer",
    [TB4_D_NOT_OURS] = "not_ours",
    [TB4_D_NO_PREFIX] = "no_prefix",
    [TB4_D_BAD_RA] = "bad_ra",
    [TB4_D_NOT_LIVE] = "not_live",
};

const char *tb4_drop_name(enum tb4_drop d)
{
    if ((unsigned)d >= TB4_D__COUNT)
        return "unknown";
    return drop_names[d];
}

/* The router's link-local address is literally fe80:: (reference 3.5) */
static const struct in6_addr router_ll = {.s6_addr = {0xfe, 0x80}};
static const struct in6_addr all_nodes = {.s6_addr = {0xff, 0x02, [15] = 1}};
static const struct in6_addr all_routers = {.s6_addr = {0xff, 0x02, [15] = 2}};

/* Lifetime of PIO and RIOs: infinite, as the reference router sends its PIO */
#define TB4_INFINITE 0xffffffffu
/* The 6-byte 6bed4 link-layer address: port little-endian, then the IPv4 */
#define TB4_LLADDR_LEN 6

static void verdict_drop(struct tb4_verdict *v, enum tb4_drop why)
{
    v->action = TB4_A_DROP;
    v->why = why;
}

/* Parse an IPv6 packet, or drop it as short or not IPv6: false then. */
static bool ip6_or_drop(const uint8_t *pkt, size_t len, struct e6_ip6_pkt *p, struct tb4_verdict *v)
{
    if (len < E6_IP6_HDR_LEN) {
        verdict_drop(v, TB4_D_SHORT);
        return false;
    }
    if (e6_ip6_parse(pkt, len, p) != E6_IP6_OK) {
        verdict_drop(v, TB4_D_NOT_IPV6);
        return false;
    }
    return true;
}

static void verdict_reset(struct tb4_verdict *v)
{
    v->action = TB4_A_DROP;
    v->why = TB4_OK;
    v->ep.addr.s_addr = 0;
    v->ep.port = 0;
    v->hairpin = false;
    v->local = false;
    v->live = false;
    v->reply_type = 0;
    v->reply_len = 0;
    /* v->ra is large: only tb4_peer_from_udp fills it, for TB4_A_RA */
}

/* ICMPv6 ND type of the packet, or 0. A non-first fragment carries no header. */
static uint8_t nd_type(const struct e6_ip6_pkt *p)
{
    if (p->proto != E6_IPPROTO_ICMPV6 || (p->fragment && p->frag_offset != 0) || p->payload_len < 1)
        return 0;
    uint8_t t = p->payload[0];
    return t >= E6_ND_RS && t <= E6_ND_REDIRECT ? t : 0;
}

static enum tb4_drop nd_reject(enum e6_nd_reject r)
{
    return r == E6_ND_R_HOP_LIMIT ? TB4_D_ND_HOPLIMIT : TB4_D_ND_INVALID;
}

/* IPv6 fixed header + the ICMPv6 message already built at buf + 40 */
static size_t finish_ip6(uint8_t *buf, const struct in6_addr *src, const struct in6_addr *dst,
                         size_t icmp_len)
{
    struct e6_ip6_hdr h = {
        .src = *src,
        .dst = *dst,
        .hop_limit = 255,
        .next_header = E6_IPPROTO_ICMPV6,
    };
    if (e6_ip6_write_hdr(buf, E6_IP6_HDR_LEN, &h, icmp_len) != 0)
        return 0;
    return E6_IP6_HDR_LEN + icmp_len;
}

/* ---- router ------------------------------------------------------------ */

size_t tb4_build_ra(const struct tb4_router_cfg *r, struct tb4_endpoint peer,
                    const struct in6_addr *dst, uint8_t *buf, size_t cap)
{
    struct e6_nd_pio pio = {
        .flags = E6_ND_PIO_L | E6_ND_PIO_A,
        .valid = TB4_INFINITE,
        .preferred = TB4_INFINITE,
    };
    if (cap <= E6_IP6_HDR_LEN || peer.port == 0 ||
        !e6_6bed4_peer_prefix(&r->prefix, peer.addr, peer.port, &pio.prefix))
        return 0;
    pio.raw = pio.prefix.addr;

    struct e6_nd_builder b;
    e6_nd_build_init(&b, buf + E6_IP6_HDR_LEN, cap - E6_IP6_HDR_LEN);
    /* cur hop limit, reachable and retrans unspecified: the peer keeps its own */
    struct e6_nd_ra ra = {
        .prf = E6_ND_PRF_MEDIUM,
        .router_lifetime = TB4_ROUTER_LIFETIME,
    };
    e6_nd_put_ra(&b, &ra);
    e6_nd_put_mtu(&b, TB4_MTU);
    e6_nd_put_pio(&b, &pio);
    size_t n = r->n_routes < TB4_MAX_ROUTES ? r->n_routes : TB4_MAX_ROUTES;
    for (size_t i = 0; r->routes && i < n; i++) {
        /* a route no RIO can carry is left out rather than losing the whole RA */
        if (!e6_nd_route_size(r->routes[i].len))
            continue;
        struct e6_nd_route rio = {
            .prefix = r->routes[i],
            .prf = E6_ND_PRF_MEDIUM,
            .lifetime = TB4_INFINITE,
        };
        e6_nd_put_route(&b, &rio);
    }
    int len = e6_nd_build_finish(&b, &router_ll, dst);
    if (len <= 0)
        return 0;
    return finish_ip6(buf, &router_ll, dst, (size_t)len);
}

/* The router's own addresses on the 6bed4 link: fe80:: and prefix:: */
static bool router_own(const struct tb4_router_cfg *r, const struct in6_addr *a)
{
    static const uint8_t zero8[8];
    if (e6_addr_equal(a, &router_ll))
        return true;
    return memcmp(a->s6_addr, r->prefix.s6_addr, 8) == 0 && memcmp(a->s6_addr + 8, zero8, 8) == 0;
}

static void reply_ra(const struct tb4_router_cfg *r, struct tb4_endpoint from,
                     const struct in6_addr *dst, uint8_t *reply, struct tb4_verdict *v,
                     enum tb4_drop why)
{
    size_t n = tb4_build_ra(r, from, dst, reply, TB4_REPLY_MAX);
    if (!n) {
        verdict_drop(v, TB4_D_ND_INVALID);
        return;
    }
    v->action = TB4_A_REPLY;
    v->why = why;
    v->reply_type = E6_ND_RA;
    v->reply_len = n;
}

/*
 * RS: 8 bytes, or 16 with exactly one SLLA option (what the reference peer
 * sends, from ::, which RFC 4861 6.1.1 would refuse: 6bed4 is not a LAN and
 * the option carries nothing we use). From ::, a link-local address, or a
 * 6bed4 address of our /64 (a peer asking again); the RA goes over UDP to
 * the endpoint observed, whatever the RS says.
 */
static void router_rs(const struct tb4_router_cfg *r, const struct e6_ip6_pkt *p,
                      struct tb4_endpoint from, uint8_t *reply, struct tb4_verdict *v)
{
    struct e6_nd_msg m;
    enum e6_nd_reject rej = e6_nd_parse_ip6(p, &m);
    if (rej == E6_ND_R_UNSPEC_SLLA)
        rej = E6_ND_OK; /* checked after hop limit, code, checksum and option tiling */
    if (rej != E6_ND_OK) {
        verdict_drop(v, nd_reject(rej));
        return;
    }
    const uint8_t *icmp = p->payload;
    size_t len = p->payload_len;
    bool shape_ok = len == E6_ND_RS_LEN ||
                    (len == E6_ND_RS_LEN + 8 && icmp[8] == E6_ND_OPT_SLLA && icmp[9] == 1);
    if (!shape_ok) {
        verdict_drop(v, TB4_D_ND_INVALID);
        return;
    }
    const struct in6_addr *src = &p->hdr.src;
    const struct in6_addr *dst;
    if (e6_addr_is_unspecified(src))
        dst = &all_nodes;
    else if (e6_addr_is_linklocal(src) || e6_6bed4_in_prefix(&r->prefix, src))
        dst = src;
    else {
        verdict_drop(v, TB4_D_SPOOFED);
        return;
    }
    reply_ra(r, from, dst, reply, v, TB4_OK);
    if (v->action == TB4_A_REPLY)
        v->live = true;
}

/*
 * Where the router may send a datagram on a peer's behalf: nowhere that is
 * not a remote unicast host. Without this a peer (hair-pin) or anyone on
 * the internet (through the TUN) could point an address at 127.0.0.1:53, at
 * a broadcast or multicast group, or at the router's own IPv4 and reach its
 * local services from a trusted source.
 */
static bool endpoint_ok(const struct tb4_router_cfg *r, struct tb4_endpoint ep)
{
    uint32_t a = ntohl(ep.addr.s_addr);
    uint8_t top = (uint8_t)(a >> 24);
    if (ep.port == 0 || top == 0 || top == 127 || top >= 224)
        return false;
    return ep.addr.s_addr != r->self.addr.s_addr;
}

/* Valid originator: a 6bed4 address of our /64 carrying the datagram's IPv4:port. */
enum origin { ORIGIN_VALID, ORIGIN_REBIND, ORIGIN_SPOOFED };

static enum origin originator(const struct tb4_router_cfg *r, const struct in6_addr *src,
                              struct tb4_endpoint from)
{
    if (!e6_6bed4_in_prefix(&r->prefix, src))
        return ORIGIN_SPOOFED;
    if (!e6_6bed4_matches_endpoint(src, from.addr, from.port))
        return ORIGIN_REBIND;
    return ORIGIN_VALID;
}

/* A peer whose mapping changed learns its new /114 (reference 3.5 step 5) */
static void answer_origin(const struct tb4_router_cfg *r, enum origin o, struct tb4_endpoint from,
                          uint8_t *reply, struct tb4_verdict *v)
{
    if (o == ORIGIN_REBIND)
        reply_ra(r, from, &all_nodes, reply, v, TB4_D_REBIND);
    else
        verdict_drop(v, TB4_D_SPOOFED);
}

/*
 * NS for fe80:: or prefix:: (nothing else lives on the router's side of
 * the link), from a valid originator or from :: (DAD). Answered R=1, S=1,
 * O=0 (S=0 to ff02::1 for DAD), with the router's 6bed4 link-layer address.
 */
static void router_ns(const struct tb4_router_cfg *r, const struct e6_ip6_pkt *p,
                      struct tb4_endpoint from, uint8_t *reply, struct tb4_verdict *v)
{
    struct e6_nd_msg m;
    enum e6_nd_reject rej = e6_nd_parse_ip6(p, &m);
    if (rej != E6_ND_OK) {
        verdict_drop(v, nd_reject(rej));
        return;
    }
    bool dad = e6_addr_is_unspecified(&p->hdr.src);
    if (!dad) {
        enum origin o = originator(r, &p->hdr.src, from);
        if (o != ORIGIN_VALID) {
            answer_origin(r, o, from, reply, v);
            return;
        }
    }
    struct in6_addr snm;
    e6_addr_solicited_node(&m.target, &snm);
    if (!router_own(r, &m.target) ||
        !(e6_addr_equal(&p->hdr.dst, &m.target) || e6_addr_equal(&p->hdr.dst, &snm))) {
        verdict_drop(v, TB4_D_ND_OTHER);
        return;
    }
    uint8_t ll[TB4_LLADDR_LEN] = {(uint8_t)(r->self.port & 0xff), (uint8_t)(r->self.port >> 8)};
    memcpy(ll + 2, &r->self.addr.s_addr, 4);
    const struct in6_addr *dst = dad ? &all_nodes : &p->hdr.src;

    struct e6_nd_builder b;
    e6_nd_build_init(&b, reply + E6_IP6_HDR_LEN, TB4_REPLY_MAX - E6_IP6_HDR_LEN);
    e6_nd_put_na(&b, dad ? E6_ND_NA_R : E6_ND_NA_R | E6_ND_NA_S, &m.target);
    e6_nd_put_lladdr(&b, E6_ND_OPT_TLLA, ll, sizeof(ll));
    int len = e6_nd_build_finish(&b, &m.target, dst);
    size_t n = len > 0 ? finish_ip6(reply, &m.target, dst, (size_t)len) : 0;
    if (!n) {
        verdict_drop(v, TB4_D_ND_INVALID);
        return;
    }
    v->action = TB4_A_REPLY;
    v->reply_type = E6_ND_NA;
    v->reply_len = n;
    v->live = !dad;
}

void tb4_router_from_udp(const struct tb4_router_cfg *r, uint8_t *pkt, size_t len,
                         struct tb4_endpoint from, uint8_t *reply, struct tb4_verdict *v)
{
    verdict_reset(v);
    /* nothing can be answered to, nor kept in the table for, port 0 */
    if (from.port == 0) {
        verdict_drop(v, TB4_D_SPOOFED);
        return;
    }
    if (len == 0) {
        v->action = TB4_A_KEEPALIVE;
        return;
    }
    struct e6_ip6_pkt p;
    if (!ip6_or_drop(pkt, len, &p, v))
        return;

    switch (nd_type(&p)) {
    case 0:
        break;
    case E6_ND_RS:
        router_rs(r, &p, from, reply, v);
        return;
    case E6_ND_NS:
        router_ns(r, &p, from, reply, v);
        return;
    default:
        verdict_drop(v, p.hdr.hop_limit != 255 ? TB4_D_ND_HOPLIMIT : TB4_D_ND_OTHER);
        return;
    }

    enum origin o = originator(r, &p.hdr.src, from);
    if (o != ORIGIN_VALID) {
        answer_origin(r, o, from, reply, v);
        return;
    }
    v->live = true;

    const struct in6_addr *dst = &p.hdr.dst;
    if (e6_addr_is_multicast(dst)) {
        verdict_drop(v, TB4_D_MULTICAST);
        return;
    }
    struct tb4_endpoint to;
    if (e6_6bed4_in_prefix(&r->prefix, dst) && e6_6bed4_decode(dst, &to.addr, &to.port, NULL)) {
        if (!endpoint_ok(r, to)) {
            verdict_drop(v, TB4_D_NOT_PEER);
            return;
        }
        /* the daemon is the only router on a peer-to-peer path: one decrement here */
        if (p.hdr.hop_limit <= 1) {
            verdict_drop(v, TB4_D_HOP_LIMIT);
            return;
        }
        pkt[7] = (uint8_t)(p.hdr.hop_limit - 1);
        v->action = TB4_A_UDP;
        v->ep = to;
        v->hairpin = true;
        return;
    }
    /* to the kernel, which decrements the hop limit when it forwards */
    v->action = TB4_A_TUN;
    v->local = e6_6bed4_is_local(&r->prefix, dst);
}

void tb4_router_from_tun(const struct tb4_router_cfg *r, const uint8_t *pkt, size_t len,
                         struct tb4_verdict *v)
{
    verdict_reset(v);
    struct e6_ip6_pkt p;
    if (!ip6_or_drop(pkt, len, &p, v))
        return;
    if (e6_addr_is_multicast(&p.hdr.dst)) {
        verdict_drop(v, TB4_D_MULTICAST);
        return;
    }
    if (nd_type(&p)) {
        verdict_drop(v, TB4_D_ND_OTHER);
        return;
    }
    struct tb4_endpoint to;
    if (!e6_6bed4_in_prefix(&r->prefix, &p.hdr.dst) ||
        !e6_6bed4_decode(&p.hdr.dst, &to.addr, &to.port, NULL) || !endpoint_ok(r, to)) {
        verdict_drop(v, TB4_D_NOT_PEER);
        return;
    }
    v->action = TB4_A_UDP;
    v->ep = to;
}

/* ---- peer -------------------------------------------------------------- */

size_t tb4_build_rs(uint8_t *buf, size_t cap)
{
    /* built by hand: common/nd's builder rightly refuses SLLA from :: on a LAN */
    static const uint8_t icmp[16] = {E6_ND_RS,       0, 0, 0, 0, 0, 0, 0,
                                     E6_ND_OPT_SLLA, 1, 0, 0, 0, 0, 0, 1};
    const size_t n = E6_IP6_HDR_LEN + sizeof(icmp);
    if (!buf || cap < n)
        return 0;
    memcpy(buf + E6_IP6_HDR_LEN, icmp, sizeof(icmp));
    struct in6_addr any = IN6ADDR_ANY_INIT;
    e6_ip6_icmp6_cksum_set(&any, &all_routers, buf + E6_IP6_HDR_LEN, sizeof(icmp));
    return finish_ip6(buf, &any, &all_routers, sizeof(icmp));
}

enum tb4_drop tb4_parse_ra(const uint8_t *pkt, size_t len, struct tb4_ra_info *out)
{
    memset(out, 0, sizeof(*out));
    struct e6_ip6_pkt p;
    if (e6_ip6_parse(pkt, len, &p) != E6_IP6_OK)
        return TB4_D_NOT_IPV6;
    if (nd_type(&p) != E6_ND_RA)
        return TB4_D_BAD_RA;
    struct e6_nd_msg m;
    enum e6_nd_reject rej = e6_nd_parse_ip6(&p, &m);
    if (rej == E6_ND_R_SRC_NOT_LINKLOCAL)
        return TB4_D_BAD_RA;
    if (rej != E6_ND_OK)
        return nd_reject(rej);

    bool have = false;
    for (unsigned i = 0; i < m.n_pio; i++) {
        const struct e6_nd_pio *pi = &m.pio[i];
        bool la = (pi->flags & (E6_ND_PIO_L | E6_ND_PIO_A)) == (E6_ND_PIO_L | E6_ND_PIO_A);
        if (!have && la && pi->prefix.len == E6_6BED4_PEER_PREFIXLEN && pi->valid > 0 &&
            e6_6bed4_is_6bed4(&pi->prefix.addr)) {
            out->pio = pi->prefix;
            have = true;
        } else if (!(pi->flags & (E6_ND_PIO_L | E6_ND_PIO_A)) && pi->valid > 0 &&
                   out->n_routes < TB4_MAX_ROUTES) {
            /* the reference router offers its -R routes as PIOs with L=0, A=0 */
            out->routes[out->n_routes++] = pi->prefix;
        }
    }
    if (!have) {
        memset(out, 0, sizeof(*out));
        return TB4_D_BAD_RA;
    }
    for (unsigned i = 0; i < m.n_rio && out->n_routes < TB4_MAX_ROUTES; i++)
        if (m.rio[i].lifetime > 0)
            out->routes[out->n_routes++] = m.rio[i].prefix;
    out->mtu = m.has_mtu ? m.mtu : 0;
    out->router_lifetime = m.ra.router_lifetime;
    return TB4_OK;
}

/* addr lies in the /114 of self */
static bool in_own_prefix(const struct in6_addr *self, const struct in6_addr *addr)
{
    return e6_addr_match(self, addr, E6_6BED4_PEER_PREFIXLEN);
}

void tb4_peer_from_udp(const struct in6_addr *self, const uint8_t *pkt, size_t len,
                       struct tb4_verdict *v)
{
    verdict_reset(v);
    struct e6_ip6_pkt p;
    if (!ip6_or_drop(pkt, len, &p, v))
        return;
    uint8_t t = nd_type(&p);
    if (t == E6_ND_RA) {
        enum tb4_drop d = tb4_parse_ra(pkt, len, &v->ra);
        if (d != TB4_OK) {
            verdict_drop(v, d);
            return;
        }
        v->action = TB4_A_RA;
        return;
    }
    if (t) {
        verdict_drop(v, TB4_D_ND_OTHER);
        return;
    }
    if (!self) {
        verdict_drop(v, TB4_D_NO_PREFIX);
        return;
    }
    if (e6_addr_is_multicast(&p.hdr.dst)) {
        verdict_drop(v, TB4_D_MULTICAST);
        return;
    }
    if (!in_own_prefix(self, &p.hdr.dst)) {
        verdict_drop(v, TB4_D_NOT_OURS);
        return;
    }
    v->action = TB4_A_TUN;
}

void tb4_peer_from_tun(const struct in6_addr *self, const uint8_t *pkt, size_t len,
                       struct tb4_verdict *v)
{
    verdict_reset(v);
    struct e6_ip6_pkt p;
    if (!ip6_or_drop(pkt, len, &p, v))
        return;
    if (!self) {
        verdict_drop(v, TB4_D_NO_PREFIX);
        return;
    }
    /* the kernel's own RS and MLD reports on the TUN end here */
    if (e6_addr_is_multicast(&p.hdr.dst)) {
        verdict_drop(v, TB4_D_MULTICAST);
        return;
    }
    if (nd_type(&p)) {
        verdict_drop(v, TB4_D_ND_OTHER);
        return;
    }
    if (!in_own_prefix(self, &p.hdr.src)) {
        verdict_drop(v, TB4_D_NOT_OURS);
        return;
    }
    v->action = TB4_A_UDP;
}

bool tb4_peer_address(const struct e6_prefix *pio, struct in6_addr *out)
{
    if (pio->len != E6_6BED4_PEER_PREFIXLEN || !e6_6bed4_is_6bed4(&pio->addr))
        return false;
    struct in6_addr a = pio->addr;
    e6_addr_mask(&a, E6_6BED4_PEER_PREFIXLEN);
    a.s6_addr[15] |= 1; /* lanip 1 */
    *out = a;
    return true;
}

uint32_t tb4_rs_backoff_ms(unsigned sent)
{
    static const uint32_t steps[] = {1000, 3000, 7000, 15000};
    if (sent == 0)
        return 0;
    if (sent <= sizeof(steps) / sizeof(steps[0]))
        return steps[sent - 1];
    return 30000;
}

/* ---- peer table -------------------------------------------------------- */

/* Entries come in chunks so a table at its bound stops allocating */
#define TB4_CHUNK 256

struct tb4_chunk {
    struct tb4_chunk *next;
    size_t n;
    struct tb4_peer e[];
};

static struct tb4_peer *peer_of(struct e6_hentry *h)
{
    return (struct tb4_peer *)((char *)h - offsetof(struct tb4_peer, h));
}

static void list_unlink(struct tb4_peers *p, struct tb4_peer *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        p->oldest = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        p->newest = e->prev;
    e->prev = e->next = NULL;
}

static void list_append(struct tb4_peers *p, struct tb4_peer *e)
{
    e->next = NULL;
    e->prev = p->newest;
    if (p->newest)
        p->newest->next = e;
    else
        p->oldest = e;
    p->newest = e;
}

static void free_push(struct tb4_peers *p, struct tb4_peer *e)
{
    e->prev = NULL;
    e->next = p->free_list;
    p->free_list = e;
}

static void on_evict(struct e6_hentry *h, void *arg)
{
    struct tb4_peers *p = arg;
    struct tb4_peer *e = peer_of(h);
    list_unlink(p, e);
    free_push(p, e);
    p->evicted++;
}

/* One spare beyond the bound: the entry an insert fills before evicting. */
static struct tb4_peer *entry_get(struct tb4_peers *p)
{
    if (!p->free_list) {
        size_t limit = p->t.max_entries + 1;
        if (p->allocated >= limit)
            return NULL;
        size_t n = limit - p->allocated < TB4_CHUNK ? limit - p->allocated : TB4_CHUNK;
        struct tb4_chunk *c = calloc(1, sizeof(*c) + n * sizeof(c->e[0]));
        if (!c)
            return NULL;
        c->n = n;
        c->next = p->chunks;
        p->chunks = c;
        p->allocated += n;
        for (size_t i = n; i-- > 0;)
            free_push(p, &c->e[i]);
    }
    struct tb4_peer *e = p->free_list;
    p->free_list = e->next;
    memset(e, 0, sizeof(*e));
    return e;
}

int tb4_peers_init(struct tb4_peers *p, size_t bound, uint32_t timeout_ms)
{
    memset(p, 0, sizeof(*p));
    if (bound < 1 || timeout_ms < 1)
        return -EINVAL;
    /* addr (4) and port (2) are contiguous: the padding is never hashed */
    ptrdiff_t off =
        (ptrdiff_t)offsetof(struct tb4_peer, key) - (ptrdiff_t)offsetof(struct tb4_peer, h);
    int rc =
        e6_htable_init(&p->t, bound, off, sizeof(struct in_addr) + sizeof(uint16_t), on_evict, p);
    if (rc)
        return rc;
    p->timeout_ms = timeout_ms;
    return 0;
}

void tb4_peers_destroy(struct tb4_peers *p)
{
    if (p->t.buckets) {
        p->t.evict = NULL; /* the chunks go below, entries and all */
        e6_htable_destroy(&p->t);
    }
    struct tb4_chunk *c = p->chunks;
    while (c) {
        struct tb4_chunk *next = c->next;
        free(c);
        c = next;
    }
    memset(p, 0, sizeof(*p));
}

static struct tb4_peer *peers_find(const struct tb4_peers *p, struct tb4_endpoint ep)
{
    struct tb4_endpoint key;
    memset(&key, 0, sizeof(key));
    key.addr = ep.addr;
    key.port = ep.port;
    struct e6_hentry *h = e6_htable_find(&p->t, &key);
    return h ? peer_of(h) : NULL;
}

/*
 * Times that went backwards (threads stamping out of order) count as the
 * newest entry's: the last-heard list stays ordered, so expiry never scans.
 */
static uint64_t clamp_now(const struct tb4_peers *p, uint64_t now_ms)
{
    return p->newest && p->newest->last_ms > now_ms ? p->newest->last_ms : now_ms;
}

static void heard(struct tb4_peers *p, struct tb4_peer *e, enum tb4_peer_class cls,
                  uint64_t packets, uint64_t now_ms)
{
    now_ms = clamp_now(p, now_ms);
    e->last_ms = now_ms;
    e->packets += packets;
    if (cls > e->cls) {
        e->cls = cls;
        e6_htable_set_class(&p->t, &e->h, (uint8_t)cls);
    } else {
        e6_htable_touch(&p->t, &e->h);
    }
    list_unlink(p, e);
    list_append(p, e);
}

int tb4_peers_touch(struct tb4_peers *p, struct tb4_endpoint ep, enum tb4_peer_class cls,
                    uint64_t packets, uint64_t now_ms)
{
    if ((unsigned)cls > TB4_PEER_ACTIVE)
        return -EINVAL;
    struct tb4_peer *e = peers_find(p, ep);
    if (e) {
        heard(p, e, cls, packets, now_ms);
        return 0;
    }
    e = entry_get(p);
    if (!e)
        return -ENOMEM;
    e->key.addr = ep.addr;
    e->key.port = ep.port;
    e->first_ms = e->last_ms = clamp_now(p, now_ms);
    e->packets = packets;
    e->cls = cls;
    int rc = e6_htable_insert(&p->t, &e->h, (uint8_t)cls);
    if (rc) {
        free_push(p, e);
        if (rc == -ENOSPC)
            p->refused++;
        return rc;
    }
    list_append(p, e);
    p->inserted++;
    return 1;
}

bool tb4_peers_keepalive(struct tb4_peers *p, struct tb4_endpoint ep, uint64_t now_ms)
{
    struct tb4_peer *e = peers_find(p, ep);
    if (!e)
        return false;
    heard(p, e, TB4_PEER_ACTIVE, 1, now_ms);
    return true;
}

static bool silent(const struct tb4_peers *p, const struct tb4_peer *e, uint64_t now_ms)
{
    return now_ms >= e->last_ms && now_ms - e->last_ms >= p->timeout_ms;
}

bool tb4_peers_live(const struct tb4_peers *p, struct tb4_endpoint ep, uint64_t now_ms)
{
    const struct tb4_peer *e = peers_find(p, ep);
    return e && !silent(p, e, now_ms);
}

size_t tb4_peers_expire(struct tb4_peers *p, uint64_t now_ms)
{
    size_t n = 0;
    /* the list is in last-heard order: stop at the first one still live */
    while (p->oldest && silent(p, p->oldest, now_ms)) {
        struct tb4_peer *e = p->oldest;
        e6_htable_remove(&p->t, &e->h);
        list_unlink(p, e);
        free_push(p, e);
        p->expired++;
        n++;
    }
    return n;
}

uint64_t tb4_peers_next_expiry(const struct tb4_peers *p)
{
    if (!p->oldest)
        return UINT64_MAX;
    uint64_t t = p->oldest->last_ms + p->timeout_ms;
    return t < p->oldest->last_ms ? UINT64_MAX : t;
}

size_t tb4_peers_count(const struct tb4_peers *p)
{
    return e6_htable_count(&p->t);
}

void tb4_peers_foreach(const struct tb4_peers *p, bool (*fn)(const struct tb4_peer *, void *),
                       void *arg)
{
    for (const struct tb4_peer *e = p->newest; e; e = e->prev)
        if (!fn(e, arg))
            return;
}
