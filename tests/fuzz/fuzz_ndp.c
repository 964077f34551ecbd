/*
 * tests/fuzz/fuzz_ndp: the NDP proxy engine driven by arbitrary input. The
 * bytes are a program: each step advances the clock (running whatever fell
 * due) and feeds one input: an NS built from a small pool of targets,
 * sources and options and parsed by common/nd, a downstream NA, a reload
 * between two fuzzed configs, a link report, an interface or route change,
 * or a change of what the fake box knows (routes, interfaces, kernel
 * neighbours). Whatever happens: the table never holds more than the
 * configured bound, the per-state counts add up, exactly the VALID and
 * REFRESH sessions are "up" (every session_up matched by one session_down,
 * none left after free), every NA is a valid NA without O, probes go only
 * to downstream links, and run() leaves nothing due. A violation aborts.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/addr.h"
#include "common/nd.h"
#include "ndppd/ndp.h"

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

static uint16_t u16(struct in *in)
{
    return (uint16_t)(u8(in) << 8 | u8(in));
}

#define UP_IF    1
#define LAN_IF   2
#define TUN_IF   3
#define LAN2_IF  4
#define MAX_LIVE 256

struct st {
    uint64_t now;
    struct ndp_link link;
    uint32_t rnd;
    uint8_t world; /* bits: lan0 up, lan0 link_nd, routes flipped, kernel knows, tunnel yes */
    struct in6_addr live[MAX_LIVE];
    size_t n_live;
};

static void emit(void *arg, const struct ndp_tx *tx)
{
    static struct e6_nd_msg m;
    struct e6_nd_in in = {
        .src = tx->src, .dst = tx->dst, .hop_limit = 255, .icmp = tx->icmp, .len = tx->len};
    (void)arg;
    if (e6_nd_parse(&in, &m) != E6_ND_OK || m.type != E6_ND_NA || (m.na_flags & E6_ND_NA_O))
        abort();
    if (e6_addr_is_multicast(&tx->dst) != !(m.na_flags & E6_ND_NA_S))
        abort();
    if (tx->l2dst_len != 0 && tx->l2dst_len != 6)
        abort();
}

static bool probe(void *arg, int ifindex, const struct in6_addr *target, bool unicast)
{
    (void)target;
    (void)unicast;
    (void)arg;
    if (ifindex != LAN_IF && ifindex != LAN2_IF)
        abort();
    return true;
}

/* The route of a target depends on its 14th byte (and a world bit). */
static int route(void *arg, const struct in6_addr *t, struct ndp_route *out)
{
    struct st *s = arg;
    uint8_t k = (uint8_t)(t->s6_addr[13] ^ ((s->world & 4) ? 1 : 0)) % 7;
    memset(out, 0, sizeof(*out));
    switch (k) {
    case 0:
        return -2;
    case 1:
        out->reject = true;
        return 0;
    case 2:
        out->ifindex = UP_IF;
        out->link_nd = true;
        return 0;
    case 3:
        out->ifindex = TUN_IF;
        return 0;
    case 4:
        out->ifindex = LAN_IF;
        out->via_gateway = true;
        out->link_nd = true;
        return 0;
    case 5:
        out->ifindex = LAN2_IF;
        out->link_nd = true;
        return 0;
    default:
        out->ifindex = LAN_IF;
        out->link_nd = true;
        return 0;
    }
}

static void iface(void *arg, const char *name, struct ndp_iface *out)
{
    struct st *s = arg;
    memset(out, 0, sizeof(*out));
    if (strcmp(name, "lan0") == 0) {
        out->ifindex = LAN_IF;
        out->up = s->world & 1;
        out->link_nd = !(s->world & 2);
    } else if (strcmp(name, "tun0") == 0) {
        out->ifindex = TUN_IF;
        out->up = true;
    }
}

static bool kernel_neigh(void *arg, int ifindex, const struct in6_addr *t)
{
    struct st *s = arg;
    (void)ifindex;
    return (s->world & 8) && (t->s6_addr[15] & 1);
}

static bool is_local(void *arg, const struct in6_addr *t)
{
    (void)arg;
    return t->s6_addr[15] == 0xff;
}

static enum ndp_verdict member(void *arg, enum conf_proxy_method m, const char *tunnel,
                               const struct in6_addr *t)
{
    struct st *s = arg;
    (void)m;
    (void)tunnel;
    if (!(s->world & 16))
        return NDP_UNKNOWN;
    return (enum ndp_verdict)(t->s6_addr[15] % 3);
}

static size_t live_find(const struct st *s, const struct in6_addr *a)
{
    for (size_t i = 0; i < s->n_live; i++)
        if (e6_addr_equal(&s->live[i], a))
            return i;
    return SIZE_MAX;
}

static void up(void *arg, const struct ndp_session_info *i)
{
    struct st *s = arg;
    if (live_find(s, &i->target) != SIZE_MAX || s->n_live == MAX_LIVE)
        abort();
    s->live[s->n_live++] = i->target;
}

static void down(void *arg, const struct ndp_session_info *i)
{
    struct st *s = arg;
    size_t k = live_find(s, &i->target);
    if (k == SIZE_MAX)
        abort();
    s->live[k] = s->live[--s->n_live];
}

static uint32_t rnd(void *arg)
{
    struct st *s = arg;
    s->rnd = s->rnd * 1103515245u + 12345u;
    return s->rnd;
}

static const struct ndp_ops ops = {
    .send_na = emit,
    .send_probe = probe,
    .route = route,
    .iface = iface,
    .kernel_neigh = kernel_neigh,
    .is_local = is_local,
    .member = member,
    .session_up = up,
    .session_down = down,
    .rand = rnd,
};

static struct in6_addr pfx(uint8_t n)
{
    struct in6_addr a = {{{0x20, 0x01, 0x0d, 0xb8, 0, n}}};
    return a;
}

/* rules: 1 static, 2 iface lan0, 3 auto, 4 6bed4, 5 tunnel, 6 iface tun0; exclude inside 1 */
static void fuzz_cfg(struct in *in, struct conf_proxy *c, struct conf_rule *r)
{
    uint8_t f = u8(in);
    memset(c, 0, sizeof(*c));
    c->name = "up0";
    c->router = f & 1;
    c->na_source = (f & 2) ? CONF_NA_SRC_TARGET : CONF_NA_SRC_LINKLOCAL;
    c->has_target_lladdr = f & 4;
    memcpy(c->target_lladdr, (uint8_t[]){0x02, 0, 0x5e, 0, 0x53, 0x77}, 6);
    c->sessions = 16 + u8(in) % 64;
    c->valid_ttl = 10 + u8(in) % 50;
    c->invalid_ttl = 1 + u8(in) % 10;
    c->retrans_time = 100 + u8(in) * 20;
    c->retrans_limit = 1 + u8(in) % 10;
    c->probe_rate = 1 + u8(in) % 20;
    c->answer_delay = (f & 8) ? u8(in) * 4 : 0;
    size_t n = 0;
    static const enum conf_proxy_method ms[] = {CONF_PROXY_STATIC, CONF_PROXY_IFACE,
                                                CONF_PROXY_AUTO,   CONF_PROXY_6BED4,
                                                CONF_PROXY_TUNNEL, CONF_PROXY_IFACE};
    for (uint8_t i = 0; i < 6; i++) {
        if ((f & 0x80) && i == (f >> 4) % 6)
            continue; /* one rule missing in this config */
        memset(&r[n], 0, sizeof(r[n]));
        r[n].prefix.addr = pfx(i + 1);
        r[n].prefix.len = 48;
        r[n].method = ms[i];
        r[n].iface = i == 1 ? "lan0" : i == 5 ? "tun0" : NULL;
        r[n].tunnel = i == 4 ? "tun0" : NULL;
        n++;
    }
    memset(&r[n], 0, sizeof(r[n]));
    r[n].prefix.addr = pfx(1);
    r[n].prefix.addr.s6_addr[15] = 0x80;
    r[n].prefix.len = 121;
    r[n].method = CONF_PROXY_EXCLUDE;
    n++;
    c->rules = r;
    c->n_rules = n;
}

static struct in6_addr target_of(struct in *in)
{
    struct in6_addr t = pfx(1 + u8(in) % 7);
    t.s6_addr[12] = u8(in) & 1; /* 6bed4 port word 0 or not */
    t.s6_addr[13] = u8(in) % 8;
    t.s6_addr[15] = u8(in);
    return t;
}

static void check(struct ndp_proxy *p, const struct conf_proxy *cfg, const struct st *s)
{
    size_t c[NDP_S__COUNT], sum = 0;
    ndp_proxy_session_counts(p, c);
    for (int i = 0; i < NDP_S__COUNT; i++)
        sum += c[i];
    size_t total = ndp_proxy_session_total(p);
    if (total > cfg->sessions || sum != total)
        abort();
    if (s->n_live != c[NDP_S_VALID] + c[NDP_S_REFRESH])
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct in in = {data, size};
    static struct conf_proxy cfg[2];
    static struct conf_rule rules[2][8];
    static struct st s;
    static _Atomic uint64_t counters[NDP_C__COUNT];
    e6_counter_block blk = {counters};
    int cur = 0;

    for (int i = 0; i < 2; i++)
        fuzz_cfg(&in, &cfg[i], rules[i]);
    memset(&s, 0, sizeof(s));
    s.rnd = u16(&in);
    s.world = u8(&in);
    s.now = 1000;
    s.link = (struct ndp_link){.present = true,
                               .up = true,
                               .ifindex = UP_IF,
                               .lladdr = {0x02, 0, 0x5e, 0, 0x53, 1},
                               .lladdr_len = 6,
                               .have_linklocal = true};
    s.link.linklocal.s6_addr[0] = 0xfe;
    s.link.linklocal.s6_addr[1] = 0x80;
    s.link.linklocal.s6_addr[15] = 1;

    struct ndp_proxy *p = ndp_proxy_new(&cfg[0], &ops, &s, blk, s.now);
    if (!p)
        return 0;
    ndp_proxy_set_link(p, &s.link, s.now);
    while (in.n) {
        uint64_t to = s.now + (uint64_t)u8(&in) * (u8(&in) & 1 ? 100 : 1);
        for (;;) {
            uint64_t next = ndp_proxy_next(p);
            if (next > to)
                break;
            if (next > s.now)
                s.now = next;
            ndp_proxy_run(p, s.now);
            if (ndp_proxy_next(p) <= s.now)
                abort();
            check(p, &cfg[cur], &s);
        }
        s.now = to;
        switch (u8(&in) % 10) {
        case 0:
        case 1:
        case 2:
        case 3: {
            struct in6_addr t = target_of(&in);
            uint8_t o = u8(&in);
            struct in6_addr src = {{{0xfe, 0x80}}}, dst;
            src.s6_addr[15] = o & 7;
            if ((o & 7) == 0)
                src = in6addr_any;
            if ((o & 8) && (o & 7))
                dst = t; /* unicast (NUD) */
            else
                e6_addr_solicited_node(&t, &dst);
            uint8_t buf[64];
            struct e6_nd_builder b;
            e6_nd_build_init(&b, buf, sizeof(buf));
            e6_nd_put_ns(&b, &t);
            if ((o & 16) && (o & 7))
                e6_nd_put_lladdr(&b, E6_ND_OPT_SLLA, (uint8_t[]){2, 0, 0x5e, 0, 0x53, o}, 6);
            int len = e6_nd_build_finish(&b, &src, &dst);
            if (len < 0)
                break;
            static struct e6_nd_msg m;
            struct e6_nd_in ni = {
                .src = src, .dst = dst, .hop_limit = 255, .icmp = buf, .len = (size_t)len};
            if (e6_nd_parse(&ni, &m) != E6_ND_OK)
                abort();
            static const uint8_t l2[6] = {2, 0, 0x5e, 0, 0x53, 0xfe};
            struct ndp_ns ns = {.msg = &m, .l2src = (o & 32) ? NULL : l2};
            ndp_proxy_on_ns(p, &ns, s.now);
            break;
        }
        case 4: {
            struct in6_addr t = target_of(&in);
            ndp_proxy_on_na(p, u8(&in) & 1 ? LAN_IF : LAN2_IF, &t, s.now);
            break;
        }
        case 5:
            cur ^= 1;
            ndp_proxy_set_config(p, &cfg[cur], s.now);
            break;
        case 6: {
            uint8_t o = u8(&in);
            s.link.lladdr_len = (o & 1) ? 0 : 6;
            s.link.have_linklocal = o & 2;
            s.link.up = !(o & 4);
            ndp_proxy_set_link(p, &s.link, s.now);
            break;
        }
        case 7: {
            uint8_t o = u8(&in);
            ndp_proxy_iface_changed(p, (int[]){0, LAN_IF, LAN2_IF, TUN_IF}[o % 4], s.now);
            break;
        }
        case 8:
            s.world = u8(&in);
            break;
        default: {
            /* a burst of the same kind of NS: floods, rate limits, the delay queue */
            uint8_t n = u8(&in), base = u8(&in);
            for (unsigned i = 0; i < n; i++) {
                struct in6_addr t = pfx(1 + base % 3);
                t.s6_addr[12] = 1;
                t.s6_addr[13] = 6;
                t.s6_addr[14] = (uint8_t)i;
                t.s6_addr[15] = base;
                struct in6_addr src = {{{0xfe, 0x80}}}, dst;
                src.s6_addr[15] = (uint8_t)(i % 5 + 1);
                e6_addr_solicited_node(&t, &dst);
                static struct e6_nd_msg m;
                memset(&m, 0, sizeof(m));
                m.type = E6_ND_NS;
                m.src = src;
                m.dst = dst;
                m.target = t;
                struct ndp_ns ns = {.msg = &m, .l2src = s.link.lladdr};
                ndp_proxy_on_ns(p, &ns, s.now);
            }
            break;
        }
        }
        check(p, &cfg[cur], &s);
    }
    ndp_proxy_free(p);
    if (s.n_live != 0)
        abort();
    return 0;
}
