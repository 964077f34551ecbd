/*
 * tunnel/sixin4: the 6in4 decisions (tunnel/sixin4.h). Owns the immutable
 * client table (longest-prefix match by destination, lookup by remote
 * IPv4), the RFC 4213 checks on decapsulation, the routing of TUN packets
 * to clients, the ICMPv6 Packet Too Big builder and the reading of ICMPv4
 * "fragmentation needed".
 *
 * The longest-prefix match runs once per packet, for thousands of clients:
 * one open-addressing hash table of masked prefixes per distinct prefix
 * length, the lengths tried longest first. A config has a handful of
 * distinct lengths (/48, /56, /64, /127), so a lookup is a few masked
 * hashes and usually one probe each. The keys are the admin's prefixes,
 * fixed when the snapshot is built; a destination an attacker picks only
 * probes, so it cannot lengthen the chains it walks.
 *
 * In client mode the one entry is the server: client_address is still the
 * client's (ours) and server_address the server's, as in the config; its
 * prefixes are the link and ::/0, so every TUN packet goes to the server.
 */
#include "config.h"

#include "tunnel/sixin4.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "common/ip6.h"

/* what a prefix entry stands for: anti-spoofing accepts routed sources only */
enum { PFX_LINK = 1, PFX_ROUTED = 2 };

#define SLOT_EMPTY UINT32_MAX

struct pfx_slot {
    uint64_t key[2]; /* the masked prefix, in memory order */
    uint32_t client; /* SLOT_EMPTY: free slot */
    uint32_t kind;
};

/* every prefix of one length */
struct len_tab {
    uint64_t mask[2]; /* in memory order, like the keys */
    uint32_t slot_mask;
    uint8_t len;
    struct pfx_slot *slots;
};

struct remote_slot {
    uint32_t addr; /* network order, as in struct in_addr */
    uint32_t client;
};

struct tun_table {
    bool server;
    size_t n;
    struct tun_client *clients;
    unsigned n_lens;
    struct len_tab lens[129]; /* longest first */
    uint32_t remote_mask;
    struct remote_slot *remotes;
};

/* ---- hashing ---------------------------------------------------------------- */

/* MurmurHash3's 64-bit finaliser: every input bit reaches every output bit */
static inline uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return x;
}

static inline uint64_t hash_pfx(const uint64_t k[2], uint8_t len)
{
    return mix64(k[0] ^ mix64(k[1] + len));
}

static inline uint64_t hash_v4(uint32_t a)
{
    return mix64((uint64_t)a + 0x9e3779b97f4a7c15ull);
}

static size_t pow2_at_least(size_t n)
{
    size_t s = 1;
    while (s < n)
        s <<= 1;
    return s;
}

static void addr_words(const struct in6_addr *a, uint64_t w[2])
{
    memcpy(w, a, 16);
}

/* ---- building ------------------------------------------------------------------ */

struct pfx_in {
    struct e6_prefix p;
    uint32_t client;
    uint32_t kind;
};

static int cmp_pfx_in(const void *a, const void *b)
{
    const struct pfx_in *x = a, *y = b;
    if (x->p.len != y->p.len)
        return x->p.len > y->p.len ? -1 : 1; /* longest first */
    int c = memcmp(&x->p.addr, &y->p.addr, 16);
    if (c)
        return c;
    return x->client < y->client ? -1 : x->client > y->client;
}

/* the config's default server address: the other end of a /127, else ::1 */
static void default_server(const struct in6_addr *client, unsigned plen, struct in6_addr *out)
{
    *out = *client;
    if (plen == 127) {
        out->s6_addr[15] ^= 1;
        return;
    }
    e6_addr_mask(out, plen);
    out->s6_addr[15] |= 1;
}

static bool fill_client(struct tun_client *c, const char *name, struct in_addr remote, unsigned mtu,
                        const struct in6_addr *client_address, unsigned plen,
                        const struct in6_addr *server_address, char *err, size_t errlen)
{
    if (plen > 128) {
        snprintf(err, errlen, "%s: client-address prefix length %u", name, plen);
        return false;
    }
    if (remote.s_addr == 0) {
        snprintf(err, errlen, "%s: no remote IPv4 address", name);
        return false;
    }
    snprintf(c->name, sizeof(c->name), "%s", name);
    c->remote = remote;
    c->mtu = mtu;
    c->client_address = *client_address;
    if (e6_addr_is_unspecified(server_address))
        default_server(client_address, plen, &c->server_address);
    else
        c->server_address = *server_address;
    e6_prefix_make(&c->link, client_address, plen);
    return true;
}

static bool build_lpm(struct tun_table *t, struct pfx_in *in, size_t n, char *err, size_t errlen)
{
    qsort(in, n, sizeof(*in), cmp_pfx_in);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && in[j].p.len == in[i].p.len)
            j++;
        struct len_tab *lt = &t->lens[t->n_lens++];
        lt->len = in[i].p.len;
        struct in6_addr m;
        memset(&m, 0xff, sizeof(m));
        e6_addr_mask(&m, lt->len);
        addr_words(&m, lt->mask);
        size_t size = pow2_at_least(2 * (j - i));
        lt->slot_mask = (uint32_t)(size - 1);
        lt->slots = malloc(size * sizeof(*lt->slots));
        if (!lt->slots) {
            snprintf(err, errlen, "out of memory");
            return false;
        }
        for (size_t s = 0; s < size; s++)
            lt->slots[s].client = SLOT_EMPTY;
        for (size_t k = i; k < j; k++) {
            if (k > i && e6_prefix_equal(&in[k].p, &in[k - 1].p)) {
                char b[E6_PREFIXSTRLEN];
                snprintf(err, errlen, "%s and %s both hold %s", t->clients[in[k - 1].client].name,
                         t->clients[in[k].client].name, e6_prefix_format(&in[k].p, b, sizeof(b)));
                return false;
            }
            uint64_t key[2];
            addr_words(&in[k].p.addr, key);
            size_t h = (size_t)hash_pfx(key, lt->len) & lt->slot_mask;
            while (lt->slots[h].client != SLOT_EMPTY)
                h = (h + 1) & lt->slot_mask;
            lt->slots[h].key[0] = key[0];
            lt->slots[h].key[1] = key[1];
            lt->slots[h].client = in[k].client;
            lt->slots[h].kind = in[k].kind;
        }
        i = j;
    }
    return true;
}

static bool build_remotes(struct tun_table *t, char *err, size_t errlen)
{
    size_t size = pow2_at_least(2 * t->n);
    t->remote_mask = (uint32_t)(size - 1);
    t->remotes = malloc(size * sizeof(*t->remotes));
    if (!t->remotes) {
        snprintf(err, errlen, "out of memory");
        return false;
    }
    for (size_t s = 0; s < size; s++)
        t->remotes[s].client = SLOT_EMPTY;
    for (size_t i = 0; i < t->n; i++) {
        uint32_t a = t->clients[i].remote.s_addr;
        size_t h = (size_t)hash_v4(a) & t->remote_mask;
        while (t->remotes[h].client != SLOT_EMPTY) {
            if (t->remotes[h].addr == a) {
                char b[INET_ADDRSTRLEN];
                inet_ntop(AF_INET, &t->clients[i].remote, b, sizeof(b));
                snprintf(err, errlen, "%s and %s both have remote %s",
                         t->clients[t->remotes[h].client].name, t->clients[i].name, b);
                return false;
            }
            h = (h + 1) & t->remote_mask;
        }
        t->remotes[h].addr = a;
        t->remotes[h].client = (uint32_t)i;
    }
    return true;
}

static bool valid_mtu(unsigned mtu, unsigned max)
{
    return mtu >= 1280 && mtu <= max;
}

struct tun_table *tun_table_build(const struct conf_tunnel *ct, char *err, size_t errlen)
{
    char dummy[1];
    if (!err || !errlen) {
        err = dummy;
        errlen = sizeof(dummy);
    }
    const char *tname = ct->name ? ct->name : "tunnel";
    if (ct->type != CONF_TUNNEL_6IN4) {
        snprintf(err, errlen, "%s: not a 6in4 tunnel", tname);
        return NULL;
    }
    unsigned tmtu = ct->mtu ? ct->mtu : TUN_6IN4_MAX_MTU;
    if (!valid_mtu(tmtu, TUN_6IN4_MAX_MTU)) {
        snprintf(err, errlen, "%s: mtu %u outside 1280..%u", tname, tmtu, TUN_6IN4_MAX_MTU);
        return NULL;
    }
    bool server = ct->mode == CONF_TUN_SERVER;
    size_t n = server ? ct->n_clients : 1;
    if (n == 0 || n >= SLOT_EMPTY) {
        snprintf(err, errlen, "%s: %zu clients", tname, n);
        return NULL;
    }

    struct tun_table *t = calloc(1, sizeof(*t));
    struct pfx_in *in = NULL;
    if (!t)
        goto oom;
    t->server = server;
    t->n = n;
    t->clients = calloc(n, sizeof(*t->clients));
    if (!t->clients)
        goto oom;

    size_t n_in = 0;
    if (server) {
        n_in = n;
        for (size_t i = 0; i < n; i++) {
            if (ct->clients[i].n_routed > SIZE_MAX / 2 - n_in) {
                snprintf(err, errlen, "%s: too many prefixes", tname);
                goto fail;
            }
            n_in += ct->clients[i].n_routed;
        }
    } else {
        n_in = 2;
    }
    in = calloc(n_in, sizeof(*in));
    if (!in)
        goto oom;

    size_t k = 0;
    if (server) {
        for (size_t i = 0; i < n; i++) {
            const struct conf_tunnel_client *cc = &ct->clients[i];
            const char *cname = cc->name ? cc->name : "client";
            unsigned mtu = cc->mtu ? cc->mtu : tmtu;
            if (!valid_mtu(mtu, tmtu)) {
                snprintf(err, errlen, "%s: mtu %u outside 1280..%u", cname, mtu, tmtu);
                goto fail;
            }
            struct tun_client *c = &t->clients[i];
            if (!fill_client(c, cname, cc->remote, mtu, &cc->client_address, cc->client_plen,
                             &cc->server_address, err, errlen))
                goto fail;
            c->index = i;
            in[k++] = (struct pfx_in){c->link, (uint32_t)i, PFX_LINK};
            for (size_t r = 0; r < cc->n_routed; r++) {
                struct pfx_in *p = &in[k++];
                /* a hand-built prefix may carry host bits: the table keys need them clear */
                e6_prefix_make(&p->p, &cc->routed[r].addr, cc->routed[r].len);
                p->client = (uint32_t)i;
                p->kind = PFX_ROUTED;
            }
        }
    } else {
        struct tun_client *c = &t->clients[0];
        if (!fill_client(c, tname, ct->remote, tmtu, &ct->client_address, ct->client_plen,
                         &ct->server_address, err, errlen))
            goto fail;
        in[k++] = (struct pfx_in){c->link, 0, PFX_LINK};
        in[k++] = (struct pfx_in){{IN6ADDR_ANY_INIT, 0}, 0, PFX_ROUTED};
    }
    if (!build_lpm(t, in, k, err, errlen) || !build_remotes(t, err, errlen))
        goto fail;
    free(in);
    return t;

oom:
    snprintf(err, errlen, "out of memory");
fail:
    free(in);
    tun_table_free(t);
    return NULL;
}

void tun_table_free(struct tun_table *t)
{
    if (!t)
        return;
    for (unsigned i = 0; i < t->n_lens; i++)
        free(t->lens[i].slots);
    free(t->remotes);
    free(t->clients);
    free(t);
}

size_t tun_table_count(const struct tun_table *t)
{
    return t ? t->n : 0;
}

const struct tun_client *tun_table_at(const struct tun_table *t, size_t i)
{
    return t && i < t->n ? &t->clients[i] : NULL;
}

bool tun_table_is_server(const struct tun_table *t)
{
    return t && t->server;
}

/* ---- lookups ------------------------------------------------------------------- */

static const struct pfx_slot *lpm(const struct tun_table *t, const struct in6_addr *a)
{
    uint64_t w[2];
    addr_words(a, w);
    for (unsigned i = 0; i < t->n_lens; i++) {
        const struct len_tab *lt = &t->lens[i];
        uint64_t k[2] = {w[0] & lt->mask[0], w[1] & lt->mask[1]};
        size_t h = (size_t)hash_pfx(k, lt->len) & lt->slot_mask;
        for (;;) {
            const struct pfx_slot *s = &lt->slots[h];
            if (s->client == SLOT_EMPTY)
                break;
            if (s->key[0] == k[0] && s->key[1] == k[1])
                return s;
            h = (h + 1) & lt->slot_mask;
        }
    }
    return NULL;
}

const struct tun_client *tun_table_by_dst(const struct tun_table *t, const struct in6_addr *dst)
{
    if (!t)
        return NULL;
    const struct pfx_slot *s = lpm(t, dst);
    return s ? &t->clients[s->client] : NULL;
}

const struct tun_client *tun_table_by_remote(const struct tun_table *t, struct in_addr remote)
{
    if (!t)
        return NULL;
    size_t h = (size_t)hash_v4(remote.s_addr) & t->remote_mask;
    for (;;) {
        const struct remote_slot *s = &t->remotes[h];
        if (s->client == SLOT_EMPTY)
            return NULL;
        if (s->addr == remote.s_addr)
            return &t->clients[s->client];
        h = (h + 1) & t->remote_mask;
    }
}

static bool bad_src(const struct in6_addr *a)
{
    return e6_addr_is_multicast(a) || e6_addr_is_unspecified(a) || e6_addr_is_loopback(a);
}

bool tun_table_may_send(const struct tun_table *t, const struct tun_client *c,
                        const struct in6_addr *src)
{
    if (!t || !c || bad_src(src))
        return false;
    if (!t->server) {
        /* the server speaks for the internet; only our own address is certainly a spoof */
        return !e6_addr_equal(src, &c->client_address);
    }
    if (e6_addr_equal(src, &c->client_address) || e6_addr_is_linklocal(src))
        return true;
    /*
     * A routed source is the client's when replies to it would be routed to
     * that client: the same longest match the other direction uses, so a
     * more specific prefix of another client carved out of it is not.
     */
    const struct pfx_slot *s = lpm(t, src);
    return s && s->kind == PFX_ROUTED && &t->clients[s->client] == c;
}

/* ---- packets ------------------------------------------------------------------- */

const char *tun_drop_name(enum tun_drop d)
{
    switch (d) {
    case TUN_OK:
        return "ok";
    case TUN_D_SHORT:
        return "short";
    case TUN_D_NOT_IPV4:
        return "not_ipv4";
    case TUN_D_NOT_41:
        return "not_proto41";
    case TUN_D_FRAGMENT:
        return "fragment";
    case TUN_D_UNKNOWN_REMOTE:
        return "unknown_remote";
    case TUN_D_WRONG_LOCAL:
        return "wrong_local";
    case TUN_D_NOT_IPV6:
        return "not_ipv6";
    case TUN_D_INNER_SPOOF:
        return "inner_spoof";
    case TUN_D_INNER_BAD_SRC:
        return "inner_bad_src";
    case TUN_D_NO_CLIENT:
        return "no_client";
    case TUN_D_TOO_BIG:
        return "too_big";
    case TUN_D__COUNT:
        break;
    }
    return "unknown";
}

#define IP4_MF         0x2000
#define IP4_OFF_MASK   0x1fff
#define IP4_PROTO_ICMP 1

/*
 * The outer IPv4 header of pkt[0..len): on success *hlen its length and
 * *tot the packet's (total length, within len).
 */
static enum tun_drop ip4_hdr(const uint8_t *pkt, size_t len, size_t *hlen, size_t *tot)
{
    if (len < TUN_IPV4_HDR_LEN)
        return TUN_D_SHORT;
    if (pkt[0] >> 4 != 4)
        return TUN_D_NOT_IPV4;
    size_t ihl = (size_t)(pkt[0] & 0x0f) * 4;
    if (ihl < TUN_IPV4_HDR_LEN)
        return TUN_D_NOT_IPV4;
    if (ihl > len)
        return TUN_D_SHORT;
    size_t total = e6_get16(pkt + 2);
    if (total < ihl)
        return TUN_D_NOT_IPV4;
    if (total > len)
        return TUN_D_SHORT;
    if (e6_get16(pkt + 6) & (IP4_MF | IP4_OFF_MASK))
        return TUN_D_FRAGMENT;
    *hlen = ihl;
    *tot = total;
    return TUN_OK;
}

enum tun_drop tun_6in4_decap(const struct tun_table *t, struct in_addr local, const uint8_t *pkt,
                             size_t len, const uint8_t **inner, size_t *inner_len,
                             const struct tun_client **who)
{
    if (who)
        *who = NULL;
    size_t ihl, total;
    enum tun_drop d = ip4_hdr(pkt, len, &ihl, &total);
    if (d != TUN_OK)
        return d;
    if (pkt[9] != TUN_6IN4_PROTO)
        return TUN_D_NOT_41;
    if (memcmp(pkt + 16, &local.s_addr, 4) != 0)
        return TUN_D_WRONG_LOCAL;
    struct in_addr src;
    memcpy(&src.s_addr, pkt + 12, 4);
    const struct tun_client *c = tun_table_by_remote(t, src);
    if (!c)
        return TUN_D_UNKNOWN_REMOTE;
    /* set on the drops that follow too, so they can be counted per client */
    if (who)
        *who = c;

    const uint8_t *ip6 = pkt + ihl;
    size_t rest = total - ihl;
    if (rest < E6_IP6_HDR_LEN || ip6[0] >> 4 != 6)
        return TUN_D_NOT_IPV6;
    size_t plen = e6_get16(ip6 + 4);
    if (plen > rest - E6_IP6_HDR_LEN)
        return TUN_D_NOT_IPV6;
    struct in6_addr isrc;
    memcpy(&isrc, ip6 + 8, 16);
    if (bad_src(&isrc))
        return TUN_D_INNER_BAD_SRC;
    if (!tun_table_may_send(t, c, &isrc))
        return TUN_D_INNER_SPOOF;
    if (inner)
        *inner = ip6;
    if (inner_len)
        *inner_len = E6_IP6_HDR_LEN + plen; /* padding after the payload trimmed */
    return TUN_OK;
}

enum tun_drop tun_6in4_route(const struct tun_table *t, const uint8_t *pkt, size_t len,
                             const struct tun_client **who)
{
    if (who)
        *who = NULL;
    if (len < E6_IP6_HDR_LEN)
        return TUN_D_SHORT;
    /* the TUN hands whole packets over: anything but an exact length is not IPv6 */
    if (pkt[0] >> 4 != 6 || (size_t)e6_get16(pkt + 4) + E6_IP6_HDR_LEN != len)
        return TUN_D_NOT_IPV6;
    struct in6_addr dst;
    memcpy(&dst, pkt + 24, 16);
    const struct tun_client *c = tun_table_by_dst(t, &dst);
    if (!c)
        return TUN_D_NO_CLIENT;
    if (who)
        *who = c;
    if (len > c->mtu)
        return TUN_D_TOO_BIG;
    return TUN_OK;
}

/* ---- ICMP ---------------------------------------------------------------------- */

#define PTB_MAX       1280 /* RFC 4443 2.4(c): an error never exceeds the minimum MTU */
#define ICMP6_HDR_LEN 8
#define ICMP6_PTB     2

/*
 * The upper-layer protocol of a packet cut short (an ICMPv4 quote): the
 * extension headers walked as far as the bytes go. -1 when the walk
 * leaves the bytes first; *off the offset of the upper-layer header.
 */
static int partial_upper(const uint8_t *pkt, size_t len, size_t *off)
{
    uint8_t nh = pkt[6];
    size_t o = E6_IP6_HDR_LEN;
    for (unsigned n = 0; n <= E6_IP6_MAX_EXT; n++) {
        if (nh != E6_IPPROTO_HOPOPTS && nh != E6_IPPROTO_DSTOPTS && nh != E6_IPPROTO_ROUTING &&
            nh != E6_IPPROTO_FRAGMENT) {
            *off = o;
            return nh;
        }
        if (len - o < 8)
            return -1;
        const uint8_t *x = pkt + o;
        size_t hlen = nh == E6_IPPROTO_FRAGMENT ? 8 : ((size_t)x[1] + 1) * 8;
        /* a non-first fragment carries data from the middle: its protocol says nothing */
        if (nh == E6_IPPROTO_FRAGMENT && (e6_get16(x + 2) >> 3) != 0)
            return -1;
        nh = x[0];
        if (len - o < hlen)
            return -1;
        o += hlen;
    }
    return -1;
}

/*
 * RFC 4443 2.4(e): no error about an error. An ICMPv6 message whose type
 * we cannot see (cut short) counts as one: a missing PTB is recovered by
 * the next one, a storm of errors about errors is not.
 */
static bool is_icmp6_error(const uint8_t *pkt, size_t len)
{
    struct e6_ip6_pkt p;
    enum e6_ip6_reject r = e6_ip6_parse(pkt, len, &p);
    if (r == E6_IP6_OK) {
        if (p.proto != E6_IPPROTO_ICMPV6 || (p.fragment && p.frag_offset != 0))
            return false;
        return p.payload_len < 1 || p.payload[0] < 128;
    }
    /* bytes past the payload length are not the packet's */
    size_t end = E6_IP6_HDR_LEN + (size_t)e6_get16(pkt + 4);
    if (len > end)
        len = end;
    size_t off;
    int proto = partial_upper(pkt, len, &off);
    if (proto != E6_IPPROTO_ICMPV6)
        return false;
    return off >= len || pkt[off] < 128;
}

size_t tun_icmp6_ptb(uint8_t *out, size_t cap, const struct in6_addr *from, const uint8_t *pkt,
                     size_t len, uint32_t mtu)
{
    if (!out || !from || !pkt || len < E6_IP6_HDR_LEN || pkt[0] >> 4 != 6)
        return 0;
    /* room for our headers and at least the offending header, so the source can match it */
    if (cap < E6_IP6_HDR_LEN + ICMP6_HDR_LEN + E6_IP6_HDR_LEN)
        return 0;
    struct in6_addr src;
    memcpy(&src, pkt + 8, 16);
    if (bad_src(&src) || is_icmp6_error(pkt, len))
        return 0;

    size_t room = (cap < PTB_MAX ? cap : PTB_MAX) - E6_IP6_HDR_LEN - ICMP6_HDR_LEN;
    size_t quote = len < room ? len : room;
    size_t icmp_len = ICMP6_HDR_LEN + quote;
    struct e6_ip6_hdr h = {
        .src = *from,
        .dst = src,
        .hop_limit = 64,
        .next_header = E6_IPPROTO_ICMPV6,
    };
    if (e6_ip6_write_hdr(out, cap, &h, icmp_len) != 0)
        return 0;
    uint8_t *icmp = out + E6_IP6_HDR_LEN;
    icmp[0] = ICMP6_PTB;
    icmp[1] = 0;
    e6_put16(icmp + 2, 0);
    e6_put32(icmp + 4, mtu);
    memmove(icmp + ICMP6_HDR_LEN, pkt, quote);
    e6_ip6_icmp6_cksum_set(&h.src, &h.dst, icmp, icmp_len);
    return E6_IP6_HDR_LEN + icmp_len;
}

/* RFC 1071 sum of data, folded, complemented */
static uint16_t ip4_cksum(const uint8_t *p, size_t len)
{
    uint32_t sum = 0;
    size_t i = 0;
    for (; i + 1 < len; i += 2)
        sum += e6_get16(p + i);
    if (i < len)
        sum += (uint32_t)p[i] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

#define ICMP4_UNREACH     3
#define ICMP4_FRAG_NEEDED 4
#define ICMP4_HDR_LEN     8
#define IP6_MIN_MTU       1280

bool tun_icmp4_frag_needed(const uint8_t *pkt, size_t len, struct in_addr local,
                           struct tun_frag_needed *out)
{
    if (!pkt || !out)
        return false;
    size_t ihl, total;
    if (ip4_hdr(pkt, len, &ihl, &total) != TUN_OK || pkt[9] != IP4_PROTO_ICMP)
        return false;
    const uint8_t *icmp = pkt + ihl;
    size_t ilen = total - ihl;
    if (ilen < ICMP4_HDR_LEN || icmp[0] != ICMP4_UNREACH || icmp[1] != ICMP4_FRAG_NEEDED)
        return false;
    if (ip4_cksum(icmp, ilen) != 0)
        return false;

    /* the quote: our packet's IPv4 header, then as much of the rest as the router kept */
    const uint8_t *q = icmp + ICMP4_HDR_LEN;
    size_t qlen = ilen - ICMP4_HDR_LEN;
    if (qlen < TUN_IPV4_HDR_LEN || q[0] >> 4 != 4)
        return false;
    size_t qihl = (size_t)(q[0] & 0x0f) * 4;
    if (qihl < TUN_IPV4_HDR_LEN || qihl > qlen)
        return false;
    if (q[9] != TUN_6IN4_PROTO || memcmp(q + 12, &local.s_addr, 4) != 0)
        return false;

    memset(out, 0, sizeof(*out));
    memcpy(&out->remote.s_addr, q + 16, 4);
    /* RFC 1191: next-hop MTU in the second half of the unused word; 0 from older routers */
    uint32_t nh = e6_get16(icmp + 6);
    out->mtu = IP6_MIN_MTU;
    if (nh > qihl && nh - qihl > IP6_MIN_MTU)
        out->mtu = (uint32_t)(nh - qihl);

    const uint8_t *in6 = q + qihl;
    size_t in6_len = qlen - qihl;
    /* the quote may run past what the quoted packet held (padding): trust its total length */
    size_t qtotal = e6_get16(q + 2);
    if (qtotal >= qihl && qtotal - qihl < in6_len)
        in6_len = qtotal - qihl;
    /* only the first fragment starts with the inner header */
    bool first = (e6_get16(q + 6) & IP4_OFF_MASK) == 0;
    if (first && in6_len >= E6_IP6_HDR_LEN && in6[0] >> 4 == 6) {
        out->have_inner = true;
        memcpy(&out->inner_src, in6 + 8, 16);
        memcpy(&out->inner_dst, in6 + 24, 16);
        out->inner = in6;
        out->inner_len = in6_len;
    }
    return true;
}
