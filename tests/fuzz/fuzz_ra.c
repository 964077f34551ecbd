/*
 * tests/fuzz/fuzz_ra: the RA engine driven by arbitrary input. The bytes are
 * a program: each step advances the clock and feeds one input (an RS, a
 * link report, a reload among a few fuzzed configs, a foreign RA parsed by
 * common/nd, a stale prefix, a view, a stop). Whatever happens, every
 * packet the engine emits must be a valid RA within the link MTU, multicast
 * RAs must stay MIN_DELAY_BETWEEN_RAS apart, and ra_engine_run must leave
 * nothing due. A violation aborts, which the fuzzer reports.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/nd.h"
#include "radv/ra.h"

struct in {
    const uint8_t *p;
    size_t n;
};

static uint8_t u8(struct in *in)
{
    if (!in->n)
        return 0;
    in->n--;
    return *in->p++;
}

static uint32_t u32(struct in *in)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v = v << 8 | u8(in);
    return v;
}

struct st {
    uint64_t now;
    struct ra_link link;
    bool any_mcast;
    uint64_t last_mcast;
    uint32_t rnd;
};

static uint32_t rnd(void *arg)
{
    struct st *s = arg;
    s->rnd = s->rnd * 1103515245u + 12345u;
    return s->rnd;
}

static void emit(void *arg, const struct ra_tx *tx)
{
    struct st *s = arg;
    unsigned mtu = s->link.mtu < 1280 ? 1280 : s->link.mtu;
    if (tx->len > mtu - 40 || tx->len > 65535)
        abort();
    struct e6_nd_in in = {.src = s->link.linklocal,
                          .dst = tx->dst,
                          .hop_limit = 255,
                          .icmp = tx->icmp6,
                          .len = tx->len};
    static struct e6_nd_msg m;
    if (e6_nd_parse(&in, &m) != E6_ND_OK || m.type != E6_ND_RA)
        abort();
    if (tx->final && m.ra.router_lifetime != 0)
        abort();
    if (e6_addr_is_multicast(&tx->dst)) {
        if (s->any_mcast && s->now != s->last_mcast &&
            s->now - s->last_mcast < RA_MIN_DELAY_BETWEEN_RAS_MS)
            abort();
        s->any_mcast = true;
        s->last_mcast = s->now;
    }
}

static struct in6_addr A(uint8_t b0, uint8_t b1, uint8_t b15) {
    struct in6_addr a = {{{b0, b1}}};
    a.s6_addr[15] = b15;
    return a;
}

static void
fuzz_cfg(struct in *in, struct conf_interface *c, struct conf_ra_prefix *px,
         struct conf_ra_rdnss *rd, struct conf_ra_dnssl *dl, struct conf_ra_pref64 *p64,
         struct conf_ra_route *rt)
{
    uint8_t f = u8(in);
    memset(c, 0, sizeof(*c));
    c->name = "f0";
    c->advertise = f & 1;
    c->max_interval = 4 + u8(in) % 64;
    c->min_interval = 3 + u8(in) % (c->max_interval * 3 / 4 - 2);
    c->router_lifetime = f & 2 ? 0 : c->max_interval * 3;
    c->router_preference = (enum conf_ra_preference)(u8(in) % 2 ? CONF_PREF_HIGH : CONF_PREF_LOW);
    c->cur_hop_limit = u8(in);
    c->managed = f & 4;
    c->other_config = f & 8;
    c->reachable_time = u32(in) % 3600001;
    c->retrans_timer = u32(in);
    c->mtu_mode = (enum conf_ra_mtu_mode)(u8(in) % 3);
    c->mtu = 1280 + u8(in) * 8;
    c->source_lladdr = (enum conf_tristate)(u8(in) % 3 - 1);
    c->solicited_unicast = f & 16;
    c->withdraw_on_exit = f & 32;
    c->captive_portal = f & 64 ? "https://portal.example.com/api" : NULL;
    size_t np = u8(in) % 8;
    for (size_t i = 0; i < np; i++) {
        memset(&px[i], 0, sizeof(px[i]));
        px[i].is_auto = u8(in) % 4 == 0;
        px[i].prefix.addr = A(0x20, 0x01, 0);
        px[i].prefix.addr.s6_addr[2] = 0x0d;
        px[i].prefix.addr.s6_addr[3] = 0xb8;
        px[i].prefix.addr.s6_addr[5] = u8(in);
        px[i].prefix.len = 64;
        px[i].on_link = u8(in) & 1;
        px[i].autonomous = u8(in) & 1;
        px[i].valid_lifetime = u8(in) % 2 ? CONF_LIFETIME_INFINITY : u32(in) % 100000;
        px[i].preferred_lifetime =
            px[i].valid_lifetime == CONF_LIFETIME_INFINITY ? 2700 : px[i].valid_lifetime / 2;
        px[i].decrement = u8(in) & 1;
    }
    c->prefixes = px;
    c->n_prefixes = np;
    static struct in6_addr servers[3];
    servers[0] = A(0x20, 0x01, 0x53);
    servers[1] = A(0x20, 0x01, 0x54);
    servers[2] = A(0xfe, 0x80, 0x55);
    rd->servers = servers;
    rd->n_servers = u8(in) % 4;
    rd->self = u8(in) & 1;
    rd->lifetime = u32(in);
    c->rdnss = rd;
    c->n_rdnss = rd->n_servers || rd->self;
    static char *domains[] = {"example.com", "lan.example.org"};
    dl->domains = domains;
    dl->n_domains = u8(in) % 3;
    dl->lifetime = u32(in);
    c->dnssl = dl;
    c->n_dnssl = dl->n_domains > 0;
    p64->prefix.addr = A(0x20, 0x01, 0);
    p64->prefix.len = (uint8_t[]){32, 40, 48, 56, 64, 96, 33}[u8(in) % 7];
    p64->lifetime = u32(in);
    c->pref64 = p64;
    c->n_pref64 = u8(in) & 1;
    rt->prefix.addr = A(0x20, 0x01, 0);
    rt->prefix.len = u8(in) % 129;
    e6_addr_mask(&rt->prefix.addr, rt->prefix.len);
    rt->preference = CONF_PREF_MEDIUM;
    rt->lifetime = u32(in);
    c->routes = rt;
    c->n_routes = u8(in) & 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct in in = {data, size};
    static struct conf_interface cfg[2];
    static struct conf_ra_prefix px[2][8];
    static struct conf_ra_rdnss rd[2];
    static struct conf_ra_dnssl dl[2];
    static struct conf_ra_pref64 p64[2];
    static struct conf_ra_route rt[2];
    for (int i = 0; i < 2; i++)
        fuzz_cfg(&in, &cfg[i], px[i], &rd[i], &dl[i], &p64[i], &rt[i]);

    struct st s = {.rnd = u32(&in)};
    static _Atomic uint64_t counters[RA_C__COUNT];
    e6_counter_block blk = {counters};
    struct ra_engine *e = ra_engine_new(&cfg[0], blk, rnd, &s, 0);
    if (!e)
        return 0;
    while (in.n) {
        /* the clock moves on; what fell due meanwhile runs when it was due */
        uint64_t target = s.now + u8(&in) * 100u;
        for (;;) {
            uint64_t next = ra_engine_next(e);
            if (next > target)
                break;
            if (next > s.now)
                s.now = next;
            ra_engine_run(e, s.now, emit, &s);
            if (ra_engine_next(e) <= s.now)
                abort();
        }
        s.now = target;
        uint8_t op = u8(&in) % 8;
        switch (op) {
        case 0:
        case 1: {
            struct in6_addr src = op ? A(0xfe, 0x80, u8(&in)) : in6addr_any;
            ra_engine_on_rs(e, &src, s.now);
            break;
        }
        case 2: {
            struct ra_link l;
            memset(&l, 0, sizeof(l));
            uint8_t f = u8(&in);
            l.present = f & 1;
            l.up = f & 2;
            l.have_linklocal = f & 4;
            l.forwarding = f & 8;
            l.linklocal = A(0xfe, 0x80, f & 16 ? 1 : 2);
            l.mtu = f & 32 ? 1280 + u8(&in) * 32u : (unsigned)u8(&in);
            l.lladdr_len = f & 64 ? 6 : 0;
            l.n_addrs = u8(&in) % 5;
            for (size_t i = 0; i < l.n_addrs; i++) {
                l.addrs[i].addr = A(0x20, 0x01, u8(&in));
                l.addrs[i].addr.s6_addr[2] = 0x0d;
                l.addrs[i].addr.s6_addr[3] = 0xb8;
                l.addrs[i].addr.s6_addr[5] = u8(&in) % 4;
                l.addrs[i].plen = u8(&in) % 130;
                l.addrs[i].valid_left = u8(&in) % 2 ? CONF_LIFETIME_INFINITY : u32(&in);
                l.addrs[i].preferred_left = u32(&in);
                l.addrs[i].tentative = u8(&in) % 5 == 0;
                l.addrs[i].deprecated = u8(&in) % 5 == 0;
            }
            s.link = l;
            ra_engine_set_link(e, &l, s.now);
            break;
        }
        case 3:
            ra_engine_set_config(e, &cfg[u8(&in) & 1], s.now);
            break;
        case 4: {
            /* a foreign RA, as the codec would hand it over */
            size_t len = u8(&in);
            if (len > in.n)
                len = in.n;
            struct e6_nd_in nin = {.src = A(0xfe, 0x80, 7),
                                   .dst = A(0xff, 0x02, 1),
                                   .hop_limit = 255,
                                   .icmp = in.p,
                                   .len = len};
            static struct e6_nd_msg m;
            if (e6_nd_parse(&nin, &m) == E6_ND_OK && m.type == E6_ND_RA) {
                struct e6_strbuf sb = E6_STRBUF_INIT;
                ra_engine_on_ra(e, &nin.src, &m, &sb, s.now);
                e6_strbuf_free(&sb);
            }
            in.p += len;
            in.n -= len;
            break;
        }
        case 5: {
            struct e6_prefix p = {.addr = A(0x20, 0x01, 0), .len = u8(&in)};
            p.addr.s6_addr[6] = u8(&in);
            ra_engine_add_stale(e, &p, u8(&in) & 1, u8(&in) & 1, s.now + u32(&in) % 10000000);
            break;
        }
        case 6: {
            struct e6_strbuf sb = E6_STRBUF_INIT;
            struct e6_json j;
            e6_json_init(&j, &sb);
            uint8_t f = u8(&in);
            ra_engine_view(e, &j, f & 1 ? E6_VIEW_JSON : E6_VIEW_TEXT, f & 2, s.now);
            if ((f & 1) && !e6_json_done(&j))
                abort();
            e6_strbuf_free(&sb);
            break;
        }
        case 7:
            if (u8(&in) % 8 == 0)
                ra_engine_stop(e, u8(&in) & 1, s.now);
            break;
        }
    }
    ra_engine_free(e);
    return 0;
}
