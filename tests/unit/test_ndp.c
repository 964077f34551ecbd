/*
 * tests/unit/test_ndp: the NDP proxy engine (ndppd/ndp.h) with fake
 * callbacks that record every call and a fake clock (plain numbers). Every
 * NA the engine sends is parsed back with e6_nd_parse as the upstream
 * router would (hop limit 255); every session_up must be matched by exactly
 * one session_down by the time the engine is freed.
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
#include <malloc.h>

#include "common/addr.h"
#include "common/counters.h"
#include "common/nd.h"
#include "ndppd/ndp.h"

#define S 1000ull /* ms */

/* ---- addresses -------------------------------------------------------------- */

static struct in6_addr A(const char *s) {
    struct in6_addr a;
    assert_true(e6_addr_parse(s, &a));
    return a;
}

/* a pointer to the address, valid for the next few calls */
static const struct in6_addr *
AP(const char *s)
{
    static struct in6_addr ring[8];
    static unsigned i;
    struct in6_addr *a = &ring[i++ % 8];
    *a = A(s);
    return a;
}

static struct e6_prefix P(const char *s) {
    struct e6_prefix p;
    assert_true(e6_prefix_parse(s, true, &p, NULL, 0));
    return p;
}

/* the i-th address of 2001:db8:1::/64 (for floods) */
static struct in6_addr
nth(const char *prefix, uint32_t i)
{
    struct in6_addr a = A(prefix);
    a.s6_addr[12] = (uint8_t)(i >> 24);
    a.s6_addr[13] = (uint8_t)(i >> 16);
    a.s6_addr[14] = (uint8_t)(i >> 8);
    a.s6_addr[15] = (uint8_t)i;
    return a;
}

static const uint8_t up_mac[6] = {0x02, 0x00, 0x5e, 0x00, 0x53, 0x01};     /* our upstream MAC */
static const uint8_t router_mac[6] = {0x02, 0x00, 0x5e, 0x00, 0x53, 0xfe}; /* the asking router */
static const uint8_t frame_mac[6] = {0x02, 0x00, 0x5e, 0x00, 0x53, 0xfd};  /* its frame source */
static const uint8_t conf_mac[6] = {0x02, 0x00, 0x5e, 0x00, 0x53, 0x77};   /* target-lladdr */

#define UP_IF   1
#define LAN_IF  2
#define TUN_IF  3
#define LAN2_IF 4

/* ---- the fake world ---------------------------------------------------------- */

struct sent_na {
    uint64_t t;
    struct ndp_tx tx;
    uint8_t icmp[64];
    struct e6_nd_msg *m; /* parsed back */
};

struct probe_rec {
    uint64_t t;
    int ifindex;
    struct in6_addr target;
    bool unicast;
};

struct updown {
    bool up;
    struct ndp_session_info info;
};

struct route_ent {
    struct e6_prefix prefix;
    int rc;
    struct ndp_route r;
};

struct iface_ent {
    const char *name;
    struct ndp_iface i;
};

struct neigh_ent {
    int ifindex;
    struct in6_addr a;
};

struct member_ent {
    struct e6_prefix prefix;
    enum ndp_verdict v;
};

struct fake {
    uint64_t now;
    struct conf_proxy cfg;
    struct conf_rule rules[16];
    struct ndp_link link;
    struct e6_counters *set;
    e6_counter_block blk;
    struct ndp_ops ops;
    struct ndp_proxy *p;

    struct sent_na *na;
    size_t n_na, cap_na;
    struct probe_rec *pr;
    size_t n_pr, cap_pr;
    struct updown *ud;
    size_t n_ud, cap_ud;
    struct in6_addr *live; /* targets up now */
    size_t n_live, cap_live;
    size_t n_up, n_down;

    struct route_ent routes[16];
    size_t n_routes;
    unsigned route_calls;
    struct iface_ent ifaces[8];
    size_t n_ifaces;
    struct neigh_ent neigh[64];
    size_t n_neigh;
    unsigned kernel_calls;
    struct in6_addr local[8];
    size_t n_local;
    struct member_ent member[8];
    size_t n_member;
    unsigned member_calls;
    uint32_t rand_val;
    bool probe_fails;
    bool keep_parsed; /* parse every NA back (off for big floods) */
};

#define GROW(arr, n, cap)                                                                          \
    do {                                                                                           \
        if ((n) == (cap)) {                                                                        \
            (cap) = (cap) ? (cap)*2 : 64;                                                          \
            (arr) = realloc((arr), (cap) * sizeof(*(arr)));                                        \
            assert_non_null(arr);                                                                  \
        }                                                                                          \
    } while (0)

static void f_send_na(void *arg, const struct ndp_tx *tx)
{
    struct fake *f = arg;
    GROW(f->na, f->n_na, f->cap_na);
    struct sent_na *s = &f->na[f->n_na++];
    memset(s, 0, sizeof(*s));
    s->t = f->now;
    s->tx = *tx;
    assert_true(tx->len <= sizeof(s->icmp));
    memcpy(s->icmp, tx->icmp, tx->len);
    s->tx.icmp = s->icmp;
    if (f->keep_parsed) {
        s->m = calloc(1, sizeof(*s->m));
        assert_non_null(s->m);
        struct e6_nd_in in = {
            .src = tx->src, .dst = tx->dst, .hop_limit = 255, .icmp = s->icmp, .len = tx->len};
        assert_int_equal(e6_nd_parse(&in, s->m), E6_ND_OK);
        assert_int_equal(s->m->type, E6_ND_NA);
        /* a proxy never sets O (RFC 4861 7.2.4, 7.2.8) */
        assert_int_equal(s->m->na_flags & E6_ND_NA_O, 0);
    }
}

static bool f_send_probe(void *arg, int ifindex, const struct in6_addr *target, bool unicast)
{
    struct fake *f = arg;
    GROW(f->pr, f->n_pr, f->cap_pr);
    f->pr[f->n_pr++] =
        (struct probe_rec){.t = f->now, .ifindex = ifindex, .target = *target, .unicast = unicast};
    return !f->probe_fails;
}

static int f_route(void *arg, const struct in6_addr *target, struct ndp_route *out)
{
    struct fake *f = arg;
    const struct route_ent *best = NULL;
    f->route_calls++;
    for (size_t i = 0; i < f->n_routes; i++)
        if (e6_prefix_contains(&f->routes[i].prefix, target) &&
            (!best || f->routes[i].prefix.len > best->prefix.len))
            best = &f->routes[i];
    if (!best)
        return -2; /* -ENOENT */
    *out = best->r;
    return best->rc;
}

static void f_iface(void *arg, const char *name, struct ndp_iface *out)
{
    struct fake *f = arg;
    for (size_t i = 0; i < f->n_ifaces; i++)
        if (strcmp(f->ifaces[i].name, name) == 0) {
            *out = f->ifaces[i].i;
            return;
        }
    memset(out, 0, sizeof(*out));
}

static bool f_kernel_neigh(void *arg, int ifindex, const struct in6_addr *target)
{
    struct fake *f = arg;
    f->kernel_calls++;
    for (size_t i = 0; i < f->n_neigh; i++)
        if (f->neigh[i].ifindex == ifindex && e6_addr_equal(&f->neigh[i].a, target))
            return true;
    return false;
}

static bool f_is_local(void *arg, const struct in6_addr *target)
{
    struct fake *f = arg;
    for (size_t i = 0; i < f->n_local; i++)
        if (e6_addr_equal(&f->local[i], target))
            return true;
    return false;
}

static enum ndp_verdict f_member(void *arg, enum conf_proxy_method m, const char *tunnel,
                                 const struct in6_addr *target)
{
    struct fake *f = arg;
    f->member_calls++;
    for (size_t i = 0; i < f->n_member; i++)
        if (e6_prefix_contains(&f->member[i].prefix, target))
            return f->member[i].v;
    return NDP_UNKNOWN;
}

static size_t live_find(const struct fake *f, const struct in6_addr *a)
{
    for (size_t i = 0; i < f->n_live; i++)
        if (e6_addr_equal(&f->live[i], a))
            return i;
    return SIZE_MAX;
}

static void f_up(void *arg, const struct ndp_session_info *s)
{
    struct fake *f = arg;
    assert_int_equal(live_find(f, &s->target), SIZE_MAX); /* not up twice */
    GROW(f->live, f->n_live, f->cap_live);
    f->live[f->n_live++] = s->target;
    GROW(f->ud, f->n_ud, f->cap_ud);
    f->ud[f->n_ud++] = (struct updown){.up = true, .info = *s};
    f->n_up++;
}

static void f_down(void *arg, const struct ndp_session_info *s)
{
    struct fake *f = arg;
    size_t i = live_find(f, &s->target);
    assert_int_not_equal(i, SIZE_MAX); /* only what was up */
    f->live[i] = f->live[--f->n_live];
    GROW(f->ud, f->n_ud, f->cap_ud);
    f->ud[f->n_ud++] = (struct updown){.up = false, .info = *s};
    f->n_down++;
}

static uint32_t f_rand(void *arg)
{
    struct fake *f = arg;
    return f->rand_val;
}

static void add_rule(struct fake *f, const char *prefix, enum conf_proxy_method m,
                     const char *iface, const char *tunnel)
{
    assert_true(f->cfg.n_rules < 16);
    struct conf_rule *r = &f->rules[f->cfg.n_rules++];
    memset(r, 0, sizeof(*r));
    r->prefix = P(prefix);
    r->method = m;
    r->iface = (char *)iface;
    r->tunnel = (char *)tunnel;
    r->allow_wide = true;
    f->cfg.rules = f->rules;
}

static void add_route(struct fake *f, const char *prefix, int ifindex, bool gw, bool nd)
{
    f->routes[f->n_routes++] = (struct route_ent){
        .prefix = P(prefix),
        .r = {.ifindex = ifindex, .via_gateway = gw, .link_nd = nd},
    };
}

static void add_iface(struct fake *f, const char *name, int ifindex, bool up, bool nd)
{
    f->ifaces[f->n_ifaces++] =
        (struct iface_ent){.name = name, .i = {.ifindex = ifindex, .up = up, .link_nd = nd}};
}

static void add_neigh(struct fake *f, int ifindex, struct in6_addr a)
{
    f->neigh[f->n_neigh++] = (struct neigh_ent){.ifindex = ifindex, .a = a};
}

static int setup(void **state)
{
    struct fake *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->now = 1000000;
    f->cfg = (struct conf_proxy){
        .name = "up0",
        .router = true,
        .na_source = CONF_NA_SRC_LINKLOCAL,
        .sessions = 16,
        .valid_ttl = 30,
        .invalid_ttl = 5,
        .retrans_time = 1000,
        .retrans_limit = 3,
        .probe_rate = 100,
        .answer_delay = 0,
        .rules = f->rules,
    };
    f->link = (struct ndp_link){.present = true,
                                .up = true,
                                .ifindex = UP_IF,
                                .lladdr_len = 6,
                                .have_linklocal = true,
                                .linklocal = A("fe80::1")};
    memcpy(f->link.lladdr, up_mac, 6);
    f->set = e6_counters_new(NULL, "ndppd", ndp_counter_names, NDP_C__COUNT);
    assert_non_null(f->set);
    f->blk = e6_counters_block(f->set);
    f->ops = (struct ndp_ops){
        .send_na = f_send_na,
        .send_probe = f_send_probe,
        .route = f_route,
        .iface = f_iface,
        .kernel_neigh = f_kernel_neigh,
        .is_local = f_is_local,
        .member = f_member,
        .session_up = f_up,
        .session_down = f_down,
        .rand = f_rand,
    };
    f->keep_parsed = true;
    add_iface(f, "lan0", LAN_IF, true, true);
    add_iface(f, "tun0", TUN_IF, true, false);
    add_iface(f, "lan1", LAN2_IF, true, true);
    *state = f;
    return 0;
}

static void start(struct fake *f)
{
    f->p = ndp_proxy_new(&f->cfg, &f->ops, f, f->blk, f->now);
    assert_non_null(f->p);
    ndp_proxy_set_link(f->p, &f->link, f->now);
}

static void clear_na(struct fake *f)
{
    for (size_t i = 0; i < f->n_na; i++)
        free(f->na[i].m);
    f->n_na = 0;
}

static int teardown(void **state)
{
    struct fake *f = *state;
    if (f->p) {
        ndp_proxy_free(f->p);
        /* every up got its down */
        assert_int_equal(f->n_live, 0);
        assert_int_equal(f->n_up, f->n_down);
    }
    clear_na(f);
    free(f->na);
    free(f->pr);
    free(f->ud);
    free(f->live);
    e6_counters_free(f->set);
    free(f);
    return 0;
}

static uint64_t C(const struct fake *f, enum ndp_counter c)
{
    return e6_counters_get(f->set, c);
}

/* ---- NS input ------------------------------------------------------------------ */

struct ns_opts {
    const char *src; /* NULL: :: (DAD) */
    const char *dst; /* NULL: the target's solicited-node group */
    bool slla;       /* carry router_mac as SLLA */
    bool no_l2;      /* no frame source (no-MAC link) */
};

/* Build an NS on the wire, parse it as the shell would, hand it over. */
static void ns_full(struct fake *f, const struct in6_addr *target, const struct ns_opts *o)
{
    uint8_t buf[64];
    struct e6_nd_builder b;
    struct in6_addr src = o->src ? A(o->src) : in6addr_any;
    struct in6_addr dst;
    if (o->dst)
        dst = A(o->dst);
    else
        e6_addr_solicited_node(target, &dst);
    e6_nd_build_init(&b, buf, sizeof(buf));
    e6_nd_put_ns(&b, target);
    if (o->slla)
        e6_nd_put_lladdr(&b, E6_ND_OPT_SLLA, router_mac, 6);
    int n = e6_nd_build_finish(&b, &src, &dst);
    assert_true(n > 0);
    struct e6_nd_in in = {.src = src, .dst = dst, .hop_limit = 255, .icmp = buf, .len = (size_t)n};
    struct e6_nd_msg *m = calloc(1, sizeof(*m));
    assert_non_null(m);
    assert_int_equal(e6_nd_parse(&in, m), E6_ND_OK);
    struct ndp_ns ns = {.msg = m, .l2src = o->no_l2 ? NULL : frame_mac};
    ndp_proxy_on_ns(f->p, &ns, f->now);
    free(m);
}

/* the common case: the upstream router (with SLLA) asks by multicast */
static void ns(struct fake *f, const char *target)
{
    struct in6_addr t = A(target);
    struct ns_opts o = {.src = "fe80::fe", .slla = true};
    ns_full(f, &t, &o);
}

static void ns_a(struct fake *f, const struct in6_addr *t, const char *src)
{
    struct ns_opts o = {.src = src, .slla = true};
    ns_full(f, t, &o);
}

/* advance the fake clock to t, running the engine at each deadline on the way */
static void run_until(struct fake *f, uint64_t t)
{
    for (;;) {
        uint64_t n = ndp_proxy_next(f->p);
        if (n > t)
            break;
        assert_true(n >= f->now || n == 0 || true);
        if (n > f->now)
            f->now = n;
        ndp_proxy_run(f->p, f->now);
        assert_true(ndp_proxy_next(f->p) > f->now); /* nothing left due */
    }
    f->now = t;
    ndp_proxy_run(f->p, f->now);
}

static size_t count_state(struct fake *f, enum ndp_state st)
{
    size_t c[NDP_S__COUNT];
    ndp_proxy_session_counts(f->p, c);
    return c[st];
}

struct find_view {
    struct in6_addr target;
    bool found;
    struct ndp_session_view v;
};

static void find_fn(void *arg, const struct ndp_session_view *s)
{
    struct find_view *fv = arg;
    if (e6_addr_equal(&fv->target, &s->target)) {
        fv->found = true;
        fv->v = *s;
    }
}

/* the session state of target, or -1 */
static int state_of(struct fake *f, const char *target)
{
    struct find_view fv = {.target = A(target)};
    ndp_proxy_foreach(f->p, find_fn, &fv);
    return fv.found ? (int)fv.v.state : -1;
}

/* ---- rule matching ------------------------------------------------------------- */

static void test_match_rule(void **state)
{
    struct fake *f = *state;
    /* file order is not precedence: the longest prefix wins */
    add_rule(f, "2001:db8:1::/64", CONF_PROXY_STATIC, NULL, NULL);
    add_rule(f, "2001:db8::/32", CONF_PROXY_EXCLUDE, NULL, NULL);
    add_rule(f, "2001:db8:1::100/120", CONF_PROXY_EXCLUDE, NULL, NULL);
    add_rule(f, "2001:db8:1::180/121", CONF_PROXY_IFACE, "lan0", NULL);
    add_rule(f, "2001:db8:1::1/128", CONF_PROXY_STATIC, NULL, NULL);

    struct in6_addr t = A("2001:db8:1::5");
    assert_ptr_equal(ndp_match_rule(&f->cfg, &t), &f->rules[0]);
    t = A("2001:db8:2::5");
    assert_ptr_equal(ndp_match_rule(&f->cfg, &t), &f->rules[1]);
    t = A("2001:db8:1::105");
    assert_ptr_equal(ndp_match_rule(&f->cfg, &t), &f->rules[2]);
    t = A("2001:db8:1::181");
    assert_ptr_equal(ndp_match_rule(&f->cfg, &t), &f->rules[3]);
    t = A("2001:db8:1::1");
    assert_ptr_equal(ndp_match_rule(&f->cfg, &t), &f->rules[4]);
    t = A("2001:db9::1");
    assert_null(ndp_match_rule(&f->cfg, &t));
    /* /0 matches everything, but anything longer beats it */
    add_rule(f, "::/0", CONF_PROXY_EXCLUDE, NULL, NULL);
    assert_ptr_equal(ndp_match_rule(&f->cfg, &t), &f->rules[5]);
    t = A("2001:db8:1::5");
    assert_ptr_equal(ndp_match_rule(&f->cfg, &t), &f->rules[0]);
    assert_null(ndp_match_rule(NULL, &t));

    /* the same rules reversed decide the same */
    struct conf_rule rev[6];
    for (int i = 0; i < 6; i++)
        rev[i] = f->rules[5 - i];
    struct conf_proxy c2 = f->cfg;
    c2.rules = rev;
    t = A("2001:db8:1::105");
    assert_int_equal(ndp_match_rule(&c2, &t)->prefix.len, 120);
    t = A("2001:db8:1::1");
    assert_int_equal(ndp_match_rule(&c2, &t)->prefix.len, 128);
}

static void test_no_rule_local_exclude(void **state)
{
    struct fake *f = *state;
    add_rule(f, "2001:db8:1::/64", CONF_PROXY_STATIC, NULL, NULL);
    add_rule(f, "2001:db8:1::100/120", CONF_PROXY_EXCLUDE, NULL, NULL);
    f->local[f->n_local++] = A("2001:db8:1::1");
    start(f);

    ns(f, "2001:db8:2::1");   /* outside every rule */
    ns(f, "2001:db8:1::1");   /* ours: the kernel answers */
    ns(f, "2001:db8:1::1ff"); /* exclude inside the static */
    assert_int_equal(f->n_na, 0);
    assert_int_equal(C(f, NDP_C_NS_SEEN), 3);
    assert_int_equal(C(f, NDP_C_NO_RULE), 1);
    assert_int_equal(C(f, NDP_C_LOCAL), 1);
    assert_int_equal(C(f, NDP_C_EXCLUDED), 1);
    ns(f, "2001:db8:1::2");
    assert_int_equal(f->n_na, 1);
    assert_int_equal(C(f, NDP_C_NA_SENT), 1);
    assert_int_equal(f->route_calls, 0);
    assert_int_equal(ndp_proxy_session_total(f->p), 0);
}

/* ---- answers -------------------------------------------------------------------- */

static void test_static_answer(void **state)
{
    struct fake *f = *state;
    add_rule(f, "2001:db8:1::/64", CONF_PROXY_STATIC, NULL, NULL);
    start(f);
    ns(f, "2001:db8:1::42");
    assert_int_equal(f->n_na, 1);
    struct sent_na *s = &f->na[0];
    assert_true(e6_addr_equal(&s->tx.src, &f->link.linklocal));
    assert_true(e6_addr_equal(&s->tx.dst, AP("fe80::fe")));
    assert_int_equal(s->tx.l2dst_len, 6);
    assert_memory_equal(s->tx.l2dst, router_mac, 6); /* the SLLA */
    struct in6_addr t = A("2001:db8:1::42");
    assert_true(e6_addr_equal(&s->m->target, &t));
    assert_int_equal(s->m->na_flags, E6_ND_NA_R | E6_ND_NA_S);
    uint8_t mac[6];
    assert_true(e6_nd_lladdr_eth(&s->m->tlla, mac));
    assert_memory_equal(mac, up_mac, 6);
    assert_int_equal(ndp_proxy_session_total(f->p), 0);
    assert_int_equal(ndp_proxy_next(f->p), UINT64_MAX);
    assert_int_equal(C(f, NDP_C_NA_SENT), 1);
    assert_int_equal(C(f, NDP_C_NA_SENT_DAD), 0);
}

static const struct sent_na *one_na(struct fake *f)
{
    assert_int_equal(f->n_na, 1);
    return &f->na[0];
}

static void test_na_flags(void **state)
{
    struct fake *f = *state;
    add_rule(f, "2001:db8:1::/64", CONF_PROXY_STATIC, NULL, NULL);
    start(f);
    struct in6_addr t = A("2001:db8:1::42");
    const struct sent_na *s;
    uint8_t mac[6];

    /* DAD: to ff02::1 (33:33:00:00:00:01), S=0 */
    ns_full(f, &t, &(struct ns_opts){0});
    s = one_na(f);
    assert_true(e6_addr_equal(&s->tx.dst, AP("ff02::1")));
    static const uint8_t allnodes_mac[6] = {0x33, 0x33, 0, 0, 0, 1};
    assert_int_equal(s->tx.l2dst_len, 6);
    assert_memory_equal(s->tx.l2dst, allnodes_mac, 6);
    assert_int_equal(s->m->na_flags, E6_ND_NA_R);
    assert_int_equal(C(f, NDP_C_NA_SENT_DAD), 1);
    clear_na(f);

    /* unicast NUD probe without SLLA: to the frame's source, S=1 */
    ns_full(f, &t, &(struct ns_opts){.src = "2001:db8:ffff::1", .dst = "2001:db8:1::42"});
    s = one_na(f);
    assert_true(e6_addr_equal(&s->tx.dst, AP("2001:db8:ffff::1")));
    assert_memory_equal(s->tx.l2dst, frame_mac, 6);
    assert_int_equal(s->m->na_flags, E6_ND_NA_R | E6_ND_NA_S);
    clear_na(f);

    /* unicast with SLLA: the SLLA wins over the frame source */
    ns_full(f, &t, &(struct ns_opts){.src = "fe80::fe", .dst = "2001:db8:1::42", .slla = true});
    s = one_na(f);
    assert_memory_equal(s->tx.l2dst, router_mac, 6);
    clear_na(f);

    /* router = no */
    f->cfg.router = false;
    ns(f, "2001:db8:1::42");
    assert_int_equal(one_na(f)->m->na_flags, E6_ND_NA_S);
    clear_na(f);
    ns_full(f, &t, &(struct ns_opts){0});
    assert_int_equal(one_na(f)->m->na_flags, 0);
    clear_na(f);
    f->cfg.router = true;

    /* source = target */
    f->cfg.na_source = CONF_NA_SRC_TARGET;
    ns(f, "2001:db8:1::42");
    assert_true(e6_addr_equal(&one_na(f)->tx.src, &t));
    clear_na(f);
    f->cfg.na_source = CONF_NA_SRC_LINKLOCAL;

    /* target-lladdr */
    f->cfg.has_target_lladdr = true;
    memcpy(f->cfg.target_lladdr, conf_mac, 6);
    ns(f, "2001:db8:1::42");
    assert_true(e6_nd_lladdr_eth(&one_na(f)->m->tlla, mac));
    assert_memory_equal(mac, conf_mac, 6);
    clear_na(f);

    /* no link-local yet: no answer */
    f->link.have_linklocal = false;
    ndp_proxy_set_link(f->p, &f->link, f->now);
    ns(f, "2001:db8:1::42");
    assert_int_equal(f->n_na, 0);
    assert_int_equal(C(f, NDP_C_NO_LINKLOCAL), 1);
    /* ... unless the source is the target */
    f->cfg.na_source = CONF_NA_SRC_TARGET;
    ns(f, "2001:db8:1::42");
    assert_int_equal(f->n_na, 1);
    clear_na(f);
    f->cfg.na_source = CONF_NA_SRC_LINKLOCAL;
    f->link.have_linklocal = true;

    /* a link without a MAC (TUN, 6in4): no TLLA (even configured), no l2 destination */
    f->link.lladdr_len = 0;
    ndp_proxy_set_link(f->p, &f->link, f->now);
    ns_full(f, &t, &(struct ns_opts){.src = "fe80::fe", .no_l2 = true});
    s = one_na(f);
    assert_null(s->m->tlla.addr);
    assert_int_equal(s->tx.l2dst_len, 0);
    assert_int_equal(s->m->na_flags, E6_ND_NA_R | E6_ND_NA_S);
    clear_na(f);
    ns_full(f, &t, &(struct ns_opts){.no_l2 = true});
    s = one_na(f);
    assert_null(s->m->tlla.addr);
    assert_int_equal(s->tx.l2dst_len, 0);
    assert_true(e6_addr_equal(&s->tx.dst, AP("ff02::1")));
    clear_na(f);
}

/* ndp_build_na on its own, as the fuzz target and the shell may use it */
static void test_build_na_direct(void **state)
{
    struct fake *f = *state;
    uint8_t buf[32];
    struct ndp_tx tx;
    struct e6_nd_msg *m = calloc(1, sizeof(*m));
    assert_non_null(m);
    m->src = A("fe80::fe");
    e6_addr_solicited_node(AP("2001:db8:1::9"), &m->dst);
    m->target = A("2001:db8:1::9");
    struct ndp_ns n = {.msg = m, .l2src = frame_mac};
    assert_true(ndp_build_na(&f->cfg, &f->link, &n, buf, sizeof(buf), &tx));
    assert_int_equal(tx.len, 32);
    assert_ptr_equal(tx.icmp, buf);
    assert_memory_equal(tx.l2dst, frame_mac, 6);
    /* too small a buffer: no answer rather than a cut one */
    assert_false(ndp_build_na(&f->cfg, &f->link, &n, buf, 24, &tx));
    f->link.have_linklocal = false;
    assert_false(ndp_build_na(&f->cfg, &f->link, &n, buf, sizeof(buf), &tx));
    free(m);
}

/* ---- stateless methods ---------------------------------------------------------- */

static void test_6bed4(void **state)
{
    struct fake *f = *state;
    add_rule(f, "2001:db8:6b::/64", CONF_PROXY_6BED4, NULL, "sixbed4");
    start(f);
    ns(f, "2001:db8:6b::c000:201:0:1"); /* port word 0: local space */
    assert_int_equal(f->n_na, 0);
    assert_int_equal(C(f, NDP_C_6BED4_PORT0), 1);
    assert_int_equal(f->member_calls, 0);
    ns(f, "2001:db8:6b::c000:201:64be:1"); /* unknown to any tunnel: the form decides */
    assert_int_equal(f->n_na, 1);
    f->member[f->n_member++] = (struct member_ent){P("2001:db8:6b:0:c000:201:64be:0/112"), NDP_NO};
    f->member[f->n_member++] = (struct member_ent){P("2001:db8:6b:0:c000:202::/96"), NDP_YES};
    ns(f, "2001:db8:6b::c000:201:64be:1");
    assert_int_equal(f->n_na, 1);
    assert_int_equal(C(f, NDP_C_6BED4_DEAD), 1);
    ns(f, "2001:db8:6b::c000:202:64be:1");
    assert_int_equal(f->n_na, 2);
    /* port 0 is never asked about, even when "alive" */
    ns(f, "2001:db8:6b::c000:202:0:1");
    assert_int_equal(f->n_na, 2);
    assert_int_equal(C(f, NDP_C_6BED4_PORT0), 2);
    assert_int_equal(ndp_proxy_session_total(f->p), 0);
}

static void test_tunnel(void **state)
{
    struct fake *f = *state;
    add_rule(f, "2001:db8:7::/48", CONF_PROXY_TUNNEL, NULL, "tun0");
    start(f);
    f->member[f->n_member++] = (struct member_ent){P("2001:db8:7:1::/64"), NDP_YES};
    f->member[f->n_member++] = (struct member_ent){P("2001:db8:7:2::/64"), NDP_NO};
    add_route(f, "2001:db8:7:2::/64", TUN_IF, false, false);
    add_route(f, "2001:db8:7:3::/64", TUN_IF, false, false); /* to the tunnel */
    add_route(f, "2001:db8:7:4::/64", UP_IF, true, true);    /* back out upstream */
    add_route(f, "2001:db8:7:5::/64", LAN_IF, false, true);  /* somewhere else */
    add_route(f, "2001:db8:7:6::/64", 0, false, false);      /* reject */
    f->routes[f->n_routes - 1].r.reject = true;
    add_route(f, "2001:db8:7:7::/64", TUN_IF, false, false);
    f->routes[f->n_routes - 1].rc = -2; /* lookup failed */

    ns(f, "2001:db8:7:1::1"); /* a client: yes */
    assert_int_equal(f->n_na, 1);
    assert_int_equal(f->route_calls, 0);
    ns(f, "2001:db8:7:2::1"); /* the tunnel module says no: the route is not asked */
    assert_int_equal(C(f, NDP_C_NOT_TUNNEL), 1);
    assert_int_equal(f->route_calls, 0);
    ns(f, "2001:db8:7:3::1"); /* unknown, routed into the tunnel */
    assert_int_equal(f->n_na, 2);
    ns(f, "2001:db8:7:4::1");
    assert_int_equal(C(f, NDP_C_ROUTE_BACK), 1);
    ns(f, "2001:db8:7:5::1");
    assert_int_equal(C(f, NDP_C_NOT_TUNNEL), 2);
    ns(f, "2001:db8:7:6::1");
    ns(f, "2001:db8:7:7::1");
    ns(f, "2001:db8:7:8::1"); /* no route at all */
    assert_int_equal(C(f, NDP_C_NO_ROUTE), 3);
    assert_int_equal(f->n_na, 2);
    /* the tunnel's interface missing: nothing is routed "to" it */
    f->ifaces[1].i.ifindex = 0;
    ns(f, "2001:db8:7:3::1");
    assert_int_equal(C(f, NDP_C_NOT_TUNNEL), 3);
    assert_int_equal(ndp_proxy_session_total(f->p), 0);
}

static void test_auto_routes(void **state)
{
    struct fake *f = *state;
    add_rule(f, "2001:db8:1::/48", CONF_PROXY_AUTO, NULL, NULL);
    start(f);
    add_route(f, "2001:db8:1:1::/64", LAN_IF, false, true);  /* on-link, ND: session */
    add_route(f, "2001:db8:1:2::/64", LAN_IF, true, true);   /* via a router: at once */
    add_route(f, "2001:db8:1:3::/64", TUN_IF, false, false); /* no-ND link: at once */
    add_route(f, "2001:db8:1:4::/64", UP_IF, false, true);   /* back upstream */
    add_route(f, "2001:db8:1:5::/64", 0, false, false);      /* reject */
    f->routes[f->n_routes - 1].r.reject = true;

    ns(f, "2001:db8:1:2::1");
    ns(f, "2001:db8:1:3::1");
    assert_int_equal(f->n_na, 2);
    assert_int_equal(ndp_proxy_session_total(f->p), 0);
    ns(f, "2001:db8:1:4::1");
    assert_int_equal(C(f, NDP_C_ROUTE_BACK), 1);
    ns(f, "2001:db8:1:5::1");
    ns(f, "2001:db8:1:6::1");
    assert_int_equal(C(f, NDP_C_NO_ROUTE), 2);
    assert_int_equal(f->n_na, 2);
    assert_int_equal(f->n_pr, 0);
    ns(f, "2001:db8:1:1::1");
    assert_int_equal(f->n_na, 2);
    assert_int_equal(f->n_pr, 1);
    assert_int_equal(f->pr[0].ifindex, LAN_IF);
    assert_false(f->pr[0].unicast);
    assert_int_equal(state_of(f, "2001:db8:1:1::1"), NDP_S_INCOMPLETE);
    ndp_proxy_on_na(f->p, LAN_IF, AP("2001:db8:1:1::1"), f->now + 10);
    assert_int_equal(f->n_na, 3);
    assert_int_equal(state_of(f, "2001:db8:1:1::1"), NDP_S_VALID);
}

static void test_iface(void **state)
{
    struct fake *f = *state;
    add_rule(f, "2001:db8:1::/64", CONF_PROXY_IFACE, "lan0", NULL);
    add_rule(f, "2001:db8:2::/64", CONF_PROXY_IFACE, "tun0", NULL);
    add_rule(f, "2001:db8:3::/64", CONF_PROXY_IFACE, "gone0", NULL);
    start(f);
    add_route(f, "2001:db8:2::/80", TUN_IF, false, false);
    add_route(f, "2001:db8:2::/64", LAN_IF, false, true);

    /* a downstream link without ND: the route confirms */
    ns(f, "2001:db8:2::1");
    assert_int_equal(f->n_na, 1);
    ns(f, "2001:db8:2:0:1::1"); /* routed elsewhere */
    assert_int_equal(f->n_na, 1);
    assert_int_equal(C(f, NDP_C_NO_ROUTE), 1);
    assert_int_equal(ndp_proxy_session_total(f->p), 0);
    /* missing, then down */
    ns(f, "2001:db8:3::1");
    f->ifaces[0].i.up = false;
    ns(f, "2001:db8:1::1");
    assert_int_equal(C(f, NDP_C_IFACE_DOWN), 2);
    assert_int_equal(f->n_pr, 0);
    f->ifaces[0].i.up = true;
    ns(f, "2001:db8:1::1");
    assert_int_equal(f->n_pr, 1);
    assert_int_equal(f->pr[0].ifindex, LAN_IF);
    assert_int_equal(C(f, NDP_C_PENDING), 1);
}

/* ---- the session state machine ------------------------------------------------------ */

static void iface_rules(struct fake *f)
{
    add_rule(f, "2001:db8:1::/64", CONF_PROXY_IFACE, "lan0", NULL);
}

static void test_session_confirmed_by_na(void **state)
{
    struct fake *f = *state;
    iface_rules(f);
    start(f);
    uint64_t t0 = f->now;
    ns(f, "2001:db8:1::10");
    assert_int_equal(f->n_na, 0);
    assert_int_equal(f->n_pr, 1);
    assert_true(e6_addr_equal(&f->pr[0].target, AP("2001:db8:1::10")));
    assert_int_equal(state_of(f, "2001:db8:1::10"), NDP_S_INCOMPLETE);
    assert_int_equal(count_state(f, NDP_S_INCOMPLETE), 1);
    assert_int_equal(ndp_proxy_next(f->p), t0 + 1000);
    /* two more askers: a DAD probe and a unicast host; the router again (deduplicated) */
    ns_full(f, AP("2001:db8:1::10"), &(struct ns_opts){0});
    ns_full(f, AP("2001:db8:1::10"),
            &(struct ns_opts){.src = "2001:db8:ffff::7", .dst = "2001:db8:1::10"});
    ns(f, "2001:db8:1::10");
    assert_int_equal(C(f, NDP_C_PENDING), 4);
    assert_int_equal(f->n_pr, 1); /* no extra probes for askers */
    struct find_view fv = {.target = A("2001:db8:1::10")};
    ndp_proxy_foreach(f->p, find_fn, &fv);
    assert_true(fv.found);
    assert_int_equal(fv.v.askers, 3);
    assert_int_equal(fv.v.asked, 4);
    assert_int_equal(fv.v.ifindex, LAN_IF);
    assert_int_equal(fv.v.method, CONF_PROXY_IFACE);
    assert_int_equal(fv.v.rule.len, 64);
    assert_int_equal(fv.v.tries, 1);

    /* an NA on another link, or for another target, changes nothing */
    ndp_proxy_on_na(f->p, LAN2_IF, AP("2001:db8:1::10"), f->now);
    ndp_proxy_on_na(f->p, LAN_IF, AP("2001:db8:1::11"), f->now);
    assert_int_equal(C(f, NDP_C_NA_UNMATCHED), 2);
    assert_int_equal(f->n_na, 0);

    f->now = t0 + 400;
    ndp_proxy_on_na(f->p, LAN_IF, AP("2001:db8:1::10"), f->now);
    assert_int_equal(C(f, NDP_C_NA_RECEIVED), 1);
    assert_int_equal(C(f, NDP_C_CONFIRMED), 1);
    assert_int_equal(state_of(f, "2001:db8:1::10"), NDP_S_VALID);
    assert_int_equal(f->n_up, 1);
    assert_int_equal(f->ud[0].info.ifindex, LAN_IF);
    assert_int_equal(f->ud[0].info.state, NDP_S_VALID);
    /* every asker its own way: DAD to ff02::1, the others unicast */
    assert_int_equal(f->n_na, 3);
    int dad = 0, uni = 0;
    for (size_t i = 0; i < f->n_na; i++) {
        if (e6_addr_equal(&f->na[i].tx.dst, AP("ff02::1"))) {
            dad++;
            assert_int_equal(f->na[i].m->na_flags, E6_ND_NA_R);
        } else {
            uni++;
            assert_int_equal(f->na[i].m->na_flags, E6_ND_NA_R | E6_ND_NA_S);
        }
    }
    assert_int_equal(dad, 1);
    assert_int_equal(uni, 2);
    assert_int_equal(C(f, NDP_C_NA_SENT_DAD), 1);
    clear_na(f);
    /* from the table now, no probe */
    ns(f, "2001:db8:1::10");
    assert_int_equal(f->n_na, 1);
    assert_int_equal(f->n_pr, 1);
    /* a second NA only renews */
    ndp_proxy_on_na(f->p, LAN_IF, AP("2001:db8:1::10"), f->now);
    assert_int_equal(f->n_up, 1);
    assert_int_equal(C(f, NDP_C_CONFIRMED), 1);
    assert_int_equal(C(f, NDP_C_NA_RECEIVED), 2);
}

static void test_askers_bounded(void **state)
{
    struct fake *f = *state;
    iface_rules(f);
    start(f);
    char src[64];
    for (int i = 0; i < NDP_MAX_ASKERS + 3; i++) {
        snprintf(src, sizeof(src), "2001:db8:ffff::%d", i + 1);
        ns_full(f, AP("2001:db8:1::10"), &(struct ns_opts){.src = src, .slla = true});
    }
    struct find_view fv = {.target = A("2001:db8:1::10")};
    ndp_proxy_foreach(f->p, find_fn, &fv);
    assert_int_equal(fv.v.askers, NDP_MAX_ASKERS);
    ndp_proxy_on_na(f->p, LAN_IF, AP("2001:db8:1::10"), f->now);
    assert_int_equal(f->n_na, NDP_MAX_ASKERS);
    /* the newest are kept, the oldest replaced */
    for (size_t i = 0; i < f->n_na; i++) {
        snprintf(src, sizeof(src), "2001:db8:ffff::%d", (int)i + 4);
        assert_true(e6_addr_equal(&f->na[i].tx.dst, AP(src)));
    }
}

static void test_incomplete_to_invalid(void **state)
{
    struct fake *f = *state;
    iface_rules(f);
    start(f);
    uint64_t t0 = f->now;
    ns(f, "2001:db8:1::10");
    run_until(f, t0 + 2999);
    assert_int_equal(f->n_pr, 3); /* retrans_limit tries in all, retrans_time apart */
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(f->pr[i].t, t0 + i * 1000);
        assert_false(f->pr[i].unicast);
        assert_int_equal(f->pr[i].ifindex, LAN_IF);
    }
    assert_int_equal(state_of(f, "2001:db8:1::10"), NDP_S_INCOMPLETE);
    assert_int_equal(C(f, NDP_C_PROBE_SENT), 3);
    run_until(f, t0 + 3000);
    assert_int_equal(state_of(f, "2001:db8:1::10"), NDP_S_INVALID);
    assert_int_equal(C(f, NDP_C_FAILED), 1);
    assert_int_equal(C(f, NDP_C_EXPIRED), 0);
    assert_int_equal(f->n_pr, 3);
    assert_int_equal(f->n_na, 0);
    assert_int_equal(f->n_up, 0);
    /* known not to answer: neither answered nor probed */
    ns(f, "2001:db8:1::10");
    assert_int_equal(C(f, NDP_C_INVALID), 1);
    assert_int_equal(f->n_pr, 3);
    assert_int_equal(ndp_proxy_next(f->p), t0 + 3000 + 5000);
    /* a late NA still confirms it */
    run_until(f, t0 + 7999);
    assert_int_equal(state_of(f, "2001:db8:1::10"), NDP_S_INVALID);
    run_until(f, t0 + 8000);
    assert_int_equal(state_of(f, "2001:db8:1::10"), -1);
    assert_int_equal(ndp_proxy_session_total(f->p), 0);
    assert_int_equal(ndp_proxy_next(f->p), UINT64_MAX);
    assert_int_equal(f->n_up, 0);
    assert_int_equal(f->n_down, 0);
    /* asked again: probed afresh */
    ns(f, "2001:db8:1::10");
    assert_int_equal(f->n_pr, 4);
}

static void test_invalid_confirmed_late(void **state)
{
    struct fake *f = *state;
    iface_rules(f);
    start(f);
    uint64_t t0 = f->now;
    ns(f, "2001:db8:1::10");
    run_until(f, t0 + 4000);
    assert_int_equal(state_of(f, "2001:db8:1::10"), NDP_S_INVALID);
    ndp_proxy_on_na(f->p, LAN_IF, AP("2001:db8:1::10"), f->now);
    assert_int_equal(state_of(f, "2001:db8:1::10"), NDP_S_VALID);
    assert_int_equal(f->n_up, 1);
    assert_int_equal(f->n_na, 0); /* its askers were dropped when it failed */
}

static void test_probe_send_failure_counts_as_try(void **state)
{
    struct fake *f = *state;
    iface_rules(f);
    start(f);
    f->probe_fails = true;
    uint64_t t0 = f->now;
    ns(f, "2001:db8:1::10");
    run_until(f, t0 + 3000);
    assert_int_equal(f->n_pr, 3);
    assert_int_equal(C(f, NDP_C_PROBE_SENT), 0);
    assert_int_equal(state_of(f, "2001:db8:1::10"), NDP_S_INVALID);
}

/* confirm target by NS + NA at the current time */
static void confirm_target(struct fake *f, const char *target)
{
    ns(f, target);
    ndp_proxy_on_na(f->p, LAN_IF, AP(target), f->now);
    assert_int_equal(state_of(f, target), NDP_S_VALID);
}

static void test_valid_expires_unasked(void **state)
{
    struct fake *f = *state;
    iface_rules(f);
    start(f);
    uint64_t t1 = f->now;
    confirm_target(f, "2001:db8:1::10");
    clear_na(f);
    size_t probes = f->n_pr;
    run_until(f, t1 + 29999);
    assert_int_equal(state_of(f, "2001:db8:1::10"), NDP_S_VALID);
    assert_int_equal(f->n_pr, probes); /* not asked: no refresh */
    run_until(f, t1 + 30000);
    assert_int_equal(state_of(f, "2001:db8:1::10"), -1);
    assert_int_equal(C(f, NDP_C_EXPIRED), 1);
    assert_int_equal(C(f, NDP_C_FAILED), 0);
    assert_int_equal(f->n_down, 1);
    assert_false(f->ud[f->n_ud - 1].up);
    /* nothing left: no session, no source bucket */
    assert_int_equal(ndp_proxy_next(f->p), UINT64_MAX);
}

static void test_refresh_confirmed(void **state)
{
    struct fake *f = *state;
    iface_rules(f);
    start(f);
    uint64_t t1 = f->now;
    confirm_target(f, "2001:db8:1::10");
    f->now = t1 + 5000;
    ns(f, "2001:db8:1::10"); /* asked since confirmation */
    size_t p0 = f->n_pr;
    run_until(f, t1 + 26999);
    assert_int_equal(f->n_pr, p0);
    run_until(f, t1 + 27000); /* expiry - retrans_limit * retrans_time */
    assert_int_equal(state_of(f, "2001:db8:1::10"), NDP_S_REFRESH);
    assert_int_equal(f->n_pr, p0 + 1);
    assert_true(f->pr[p0].unicast);
    assert_int_equal(C(f, NDP_C_REFRESH_SENT), 1);
    run_until(f, t1 + 28000);
    assert_int_equal(f->n_pr, p0 + 2);
    assert_true(f->pr[p0 + 1].unicast);
    /* still answered while refreshing */
    clear_na(f);
    ns(f, "2001:db8:1::10");
    assert_int_equal(f->n_na, 1);
    f->now = t1 + 28500;
    ndp_proxy_on_na(f->p, LAN_IF, AP("2001:db8:1::10"), f->now);
    assert_int_equal(state_of(f, "2001:db8:1::10"), NDP_S_VALID);
    assert_int_equal(f->n_up, 1); /* no second up */
    assert_int_equal(C(f, NDP_C_CONFIRMED), 1);
    struct find_view fv = {.target = A("2001:db8:1::10")};
    ndp_proxy_foreach(f->p, find_fn, &fv);
    assert_int_equal(fv.v.expires_ms, t1 + 28500 + 30000);
    /* not asked in the new life: it ends at its new expiry */
    run_until(f, t1 + 28500 + 29999);
    assert_int_equal(state_of(f, "2001:db8:1::10"), NDP_S_VALID);
    assert_int_equal(f->n_pr, p0 + 2);
    run_until(f, t1 + 28500 + 30000);
    assert_int_equal(state_of(f, "2001:db8:1::10"), -1);
    assert_int_equal(f->n_down, 1);
}

static void test_refresh_fails(void **state)
{
    struct fake *f = *state;
    iface_rules(f);
    start(f);
    uint64_t t1 = f->now;
    confirm_target(f, "2001:db8:1::10");
    ns(f, "2001:db8:1::10");
    run_until(f, t1 + 29999);
    assert_int_equal(state_of(f, "2001:db8:1::10"), NDP_S_REFRESH);
    assert_int_equal(C(f, NDP_C_REFRESH_SENT), 3);
    assert_int_equal(f->n_down, 0);
    run_until(f, t1 + 30000);
    assert_int_equal(state_of(f, "2001:db8:1::10"), NDP_S_INVALID);
    assert_int_equal(f->n_down, 1);
    assert_int_equal(f->ud[f->n_ud - 1].info.ifindex, LAN_IF);
    assert_int_equal(C(f, NDP_C_FAILED), 1);
    assert_int_equal(C(f, NDP_C_EXPIRED), 1);
    clear_na(f);
    ns(f, "2001:db8:1::10");
    assert_int_equal(f->n_na, 0);
    run_until(f, t1 + 35000);
    assert_int_equal(state_of(f, "2001:db8:1::10"), -1);
    assert_int_equal(f->n_down, 1);
}

static void test_late_ask_starts_refresh(void **state)
{
    struct fake *f = *state;
    iface_rules(f);
    start(f);
    uint64_t t1 = f->now;
    confirm_target(f, "2001:db8:1::10");
    size_t p0 = f->n_pr;
    run_until(f, t1 + 28000); /* the window opened unasked */
    assert_int_equal(f->n_pr, p0);
    clear_na(f);
    ns(f, "2001:db8:1::10");
    assert_int_equal(f->n_na, 1);
    assert_int_equal(f->n_pr, p0 + 1);
    assert_true(f->pr[p0].unicast);
    assert_int_equal(state_of(f, "2001:db8:1::10"), NDP_S_REFRESH);
    ndp_proxy_on_na(f->p, LAN_IF, AP("2001:db8:1::10"), f->now);
    assert_int_equal(state_of(f, "2001:db8:1::10"), NDP_S_VALID);
}

static void test_kernel_neigh(void **state)
{
    struct fake *f = *state;
    iface_rules(f);
    start(f);
    uint64_t t1 = f->now;
    add_neigh(f, LAN_IF, A("2001:db8:1::10"));
    ns(f, "2001:db8:1::10");
    assert_int_equal(f->n_na, 1); /* answered at once */
    assert_int_equal(f->n_pr, 0);
    assert_int_equal(state_of(f, "2001:db8:1::10"), NDP_S_VALID);
    assert_int_equal(C(f, NDP_C_KERNEL_NEIGH), 1);
    assert_int_equal(C(f, NDP_C_CONFIRMED), 1);
    assert_int_equal(f->n_up, 1);
    /* a neighbour on another link does not count */
    add_neigh(f, LAN2_IF, A("2001:db8:1::11"));
    ns(f, "2001:db8:1::11");
    assert_int_equal(f->n_pr, 1);
    /* the refresh asks the kernel first: still there, no probe */
    ns(f, "2001:db8:1::10");
    run_until(f, t1 + 26999);
    size_t p0 = f->n_pr;
    run_until(f, t1 + 27000);
    assert_int_equal(state_of(f, "2001:db8:1::10"), NDP_S_VALID);
    assert_int_equal(f->n_pr, p0);
    assert_int_equal(C(f, NDP_C_KERNEL_NEIGH), 2);
    struct find_view fv = {.target = A("2001:db8:1::10")};
    ndp_proxy_foreach(f->p, find_fn, &fv);
    assert_int_equal(fv.v.expires_ms, t1 + 27000 + 30000);
    assert_int_equal(f->n_up, 1);
}

/* ---- bounds, eviction, budgets ---------------------------------------------------------- */

static void test_flood_never_evicts_valid(void **state)
{
    struct fake *f = *state;
    iface_rules(f);
    f->cfg.probe_rate = 100000; /* the budgets are another test */
    start(f);
    char t[64];
    for (int i = 1; i <= 4; i++) {
        snprintf(t, sizeof(t), "2001:db8:1::a:%d", i);
        confirm_target(f, t);
    }
    f->keep_parsed = false;
    clear_na(f);
    for (uint32_t i = 0; i < 5000; i++) {
        struct in6_addr a = nth("2001:db8:1::", 0x10000 + i);
        ns_a(f, &a, "fe80::fe");
        assert_true(ndp_proxy_session_total(f->p) <= 16);
        if (i % 1000 == 0) {
            /* known targets stay answered during the flood */
            size_t before = f->n_na;
            ns(f, "2001:db8:1::a:3");
            assert_int_equal(f->n_na, before + 1);
        }
    }
    assert_int_equal(ndp_proxy_session_total(f->p), 16);
    assert_int_equal(count_state(f, NDP_S_VALID), 4);
    assert_int_equal(count_state(f, NDP_S_INCOMPLETE), 12);
    assert_int_equal(C(f, NDP_C_EVICTED), 5000 - 12);
    assert_int_equal(C(f, NDP_C_SESSION_FULL), 0);
    assert_int_equal(f->n_down, 0);
    for (int i = 1; i <= 4; i++) {
        snprintf(t, sizeof(t), "2001:db8:1::a:%d", i);
        assert_int_equal(state_of(f, t), NDP_S_VALID);
    }
    /* after the flood: the unconfirmed ones fail and go, the table empties */
    run_until(f, f->now + 3000 + 5000);
    assert_int_equal(ndp_proxy_session_total(f->p), 4);
    assert_int_equal(count_state(f, NDP_S_INVALID), 0);
}

static void test_full_of_valid(void **state)
{
    struct fake *f = *state;
    iface_rules(f);
    f->cfg.probe_rate = 100000;
    start(f);
    char t[64];
    for (int i = 1; i <= 16; i++) {
        snprintf(t, sizeof(t), "2001:db8:1::a:%d", i);
        confirm_target(f, t);
    }
    size_t p0 = f->n_pr;
    ns(f, "2001:db8:1::b:1");
    assert_int_equal(C(f, NDP_C_SESSION_FULL), 1);
    assert_int_equal(f->n_pr, p0);
    assert_int_equal(ndp_proxy_session_total(f->p), 16);
    /* not even a kernel neighbour pushes a confirmed one out */
    add_neigh(f, LAN_IF, A("2001:db8:1::b:2"));
    ns(f, "2001:db8:1::b:2");
    assert_int_equal(C(f, NDP_C_SESSION_FULL), 2);
    assert_int_equal(C(f, NDP_C_EVICTED), 0);
    clear_na(f);
    ns(f, "2001:db8:1::a:16");
    assert_int_equal(f->n_na, 1);
}

static void test_eviction_order(void **state)
{
    struct fake *f = *state;
    iface_rules(f);
    f->cfg.probe_rate = 100000;
    start(f);
    /* one INVALID first */
    ns(f, "2001:db8:1::dead");
    run_until(f, f->now + 3000);
    assert_int_equal(state_of(f, "2001:db8:1::dead"), NDP_S_INVALID);
    char t[64];
    for (int i = 0; i < 15; i++) {
        snprintf(t, sizeof(t), "2001:db8:1::c:%d", i);
        ns(f, t);
        f->now += 1;
    }
    assert_int_equal(ndp_proxy_session_total(f->p), 16);
    /* c:0 asked again: most recently used among the unconfirmed */
    ns_a(f, AP("2001:db8:1::c:0"), "2001:db8:ffff::9");
    /* the INVALID goes first, then the least recently used INCOMPLETE */
    ns(f, "2001:db8:1::d:1");
    assert_int_equal(state_of(f, "2001:db8:1::dead"), -1);
    assert_int_equal(state_of(f, "2001:db8:1::c:0"), NDP_S_INCOMPLETE);
    ns(f, "2001:db8:1::d:2");
    assert_int_equal(state_of(f, "2001:db8:1::c:1"), -1);
    assert_int_equal(state_of(f, "2001:db8:1::c:0"), NDP_S_INCOMPLETE);
    ns(f, "2001:db8:1::d:3");
    assert_int_equal(state_of(f, "2001:db8:1::c:2"), -1);
    assert_int_equal(state_of(f, "2001:db8:1::c:0"), NDP_S_INCOMPLETE);
    assert_int_equal(C(f, NDP_C_EVICTED), 3);
    assert_int_equal(ndp_proxy_session_total(f->p), 16);
}

static void test_rate_per_source(void **state)
{
    struct fake *f = *state;
    add_rule(f, "2001:db8:1::/48", CONF_PROXY_IFACE, "lan0", NULL);
    f->cfg.probe_rate = 5;
    f->cfg.sessions = 1024;
    start(f);
    for (uint32_t i = 0; i < 10; i++) {
        struct in6_addr a = nth("2001:db8:1::", 0x100 + i);
        ns_a(f, &a, "fe80::fe");
    }
    assert_int_equal(f->n_pr, 5);
    assert_int_equal(C(f, NDP_C_PROBE_RATELIMITED), 5);
    assert_int_equal(ndp_proxy_session_total(f->p), 5); /* no session for the refused */
    /* another source has its own budget */
    for (uint32_t i = 0; i < 10; i++) {
        struct in6_addr a = nth("2001:db8:1::", 0x200 + i);
        ns_a(f, &a, "fe80::fd");
    }
    assert_int_equal(f->n_pr, 10);
    /* DAD probes share one budget (source ::) */
    for (uint32_t i = 0; i < 10; i++) {
        struct in6_addr a = nth("2001:db8:1::", 0x300 + i);
        ns_full(f, &a, &(struct ns_opts){0});
    }
    assert_int_equal(f->n_pr, 15);
    /* an asker of a target already being probed costs nothing */
    ns_a(f, AP("2001:db8:1::100"), "fe80::fe");
    assert_int_equal(C(f, NDP_C_PROBE_RATELIMITED), 15);
    /* 200 ms later: one more probe for the first source */
    f->now += 200;
    for (uint32_t i = 0; i < 3; i++) {
        struct in6_addr a = nth("2001:db8:1::", 0x400 + i);
        ns_a(f, &a, "fe80::fe");
    }
    assert_int_equal(C(f, NDP_C_PROBE_RATELIMITED), 17);
    /* a second on: full budget again, and the bucket was forgotten meanwhile */
    run_until(f, f->now + 1000);
    for (uint32_t i = 0; i < 6; i++) {
        struct in6_addr a = nth("2001:db8:1::", 0x500 + i);
        ns_a(f, &a, "fe80::fe");
    }
    assert_int_equal(C(f, NDP_C_PROBE_RATELIMITED), 18);
}

static void test_rate_global(void **state)
{
    struct fake *f = *state;
    add_rule(f, "2001:db8:1::/48", CONF_PROXY_IFACE, "lan0", NULL);
    f->cfg.probe_rate = 2;
    f->cfg.sessions = 1024;
    start(f);
    char src[64];
    for (uint32_t i = 0; i < 30; i++) {
        snprintf(src, sizeof(src), "fe80::%x", i + 1);
        struct in6_addr a = nth("2001:db8:1::", 0x100 + i);
        ns_a(f, &a, src);
    }
    assert_int_equal(C(f, NDP_C_PROBE_RATELIMITED), 30 - 2 * NDP_GLOBAL_PROBE_FACTOR);
    assert_int_equal(ndp_proxy_session_total(f->p), 2 * NDP_GLOBAL_PROBE_FACTOR);
}

static void test_refresh_not_ratelimited(void **state)
{
    struct fake *f = *state;
    iface_rules(f);
    f->cfg.probe_rate = 1;
    start(f);
    uint64_t t1 = f->now;
    confirm_target(f, "2001:db8:1::10");
    ns(f, "2001:db8:1::10");
    /* drain the router's and the global budgets right before the refresh */
    f->now = t1 + 26999;
    char src[64];
    for (uint32_t i = 0; i < 3 * NDP_GLOBAL_PROBE_FACTOR; i++) {
        snprintf(src, sizeof(src), "fe80::%x", i + 1);
        struct in6_addr a = nth("2001:db8:1::", 0x100 + i);
        ns_a(f, &a, src);
    }
    assert_true(C(f, NDP_C_PROBE_RATELIMITED) > 0);
    uint64_t limited = C(f, NDP_C_PROBE_RATELIMITED);
    run_until(f, t1 + 27000);
    assert_int_equal(state_of(f, "2001:db8:1::10"), NDP_S_REFRESH);
    assert_int_equal(C(f, NDP_C_REFRESH_SENT), 1);
    /* while new targets are still refused */
    ns(f, "2001:db8:1::99");
    assert_int_equal(C(f, NDP_C_PROBE_RATELIMITED), limited + 1);
}

/* ---- the 7.2.8 random delay ------------------------------------------------------------ */

static void test_delay(void **state)
{
    struct fake *f = *state;
    add_rule(f, "2001:db8:1::/64", CONF_PROXY_STATIC, NULL, NULL);
    f->cfg.answer_delay = 500;
    start(f);
    uint64_t t0 = f->now;
    f->rand_val = 0x80000000u; /* half of [0, 500]: 250 ms */
    ns(f, "2001:db8:1::1");
    assert_int_equal(f->n_na, 0);
    assert_int_equal(ndp_proxy_next(f->p), t0 + 250);
    f->rand_val = 0x20000000u; /* 62 ms: answered before the first */
    ns(f, "2001:db8:1::2");
    assert_int_equal(ndp_proxy_next(f->p), t0 + 62);
    /* a unicast NS (NUD) is never delayed */
    ns_full(f, AP("2001:db8:1::3"), &(struct ns_opts){.src = "fe80::fe", .dst = "2001:db8:1::3"});
    assert_int_equal(f->n_na, 1);
    /* 0 drawn: at once */
    f->rand_val = 0;
    ns(f, "2001:db8:1::4");
    assert_int_equal(f->n_na, 2);
    run_until(f, t0 + 249);
    assert_int_equal(f->n_na, 3);
    assert_true(e6_addr_equal(&f->na[2].m->target, AP("2001:db8:1::2")));
    assert_int_equal(f->na[2].t, t0 + 62);
    run_until(f, t0 + 250);
    assert_int_equal(f->n_na, 4);
    assert_true(e6_addr_equal(&f->na[3].m->target, AP("2001:db8:1::1")));
    assert_int_equal(f->na[3].t, t0 + 250);
    /* answers keep their own way after the wait */
    assert_int_equal(f->na[3].m->na_flags, E6_ND_NA_R | E6_ND_NA_S);
    assert_memory_equal(f->na[3].tx.l2dst, router_mac, 6);
    assert_int_equal(C(f, NDP_C_NA_DELAYED), 2);
    assert_int_equal(ndp_proxy_next(f->p), UINT64_MAX);
    /* the largest draw stays within answer_delay */
    f->rand_val = UINT32_MAX;
    ns(f, "2001:db8:1::5");
    assert_int_equal(ndp_proxy_next(f->p), f->now + 500);
    /* equal due times: first in, first out */
    ns(f, "2001:db8:1::6");
    clear_na(f);
    run_until(f, f->now + 500);
    assert_int_equal(f->n_na, 2);
    assert_true(e6_addr_equal(&f->na[0].m->target, AP("2001:db8:1::5")));
    assert_true(e6_addr_equal(&f->na[1].m->target, AP("2001:db8:1::6")));
}

static void test_delay_bounded(void **state)
{
    struct fake *f = *state;
    add_rule(f, "2001:db8:1::/64", CONF_PROXY_STATIC, NULL, NULL);
    f->cfg.answer_delay = 1000;
    f->rand_val = 0x40000000u;
    f->keep_parsed = false;
    start(f);
    for (uint32_t i = 0; i < NDP_MAX_DELAYED + 10; i++) {
        struct in6_addr a = nth("2001:db8:1::", i + 1);
        ns_a(f, &a, "fe80::fe");
    }
    assert_int_equal(f->n_na, 10);
    assert_int_equal(C(f, NDP_C_DELAY_OVERFLOW), 10);
    run_until(f, f->now + 1000);
    assert_int_equal(f->n_na, NDP_MAX_DELAYED + 10);
    assert_int_equal(C(f, NDP_C_NA_DELAYED), NDP_MAX_DELAYED);
    assert_int_equal(C(f, NDP_C_NA_SENT), NDP_MAX_DELAYED + 10);
    assert_int_equal(ndp_proxy_next(f->p), UINT64_MAX);
}

/* askers of a confirmed target are answered at once, not delayed again */
static void test_delay_not_for_askers(void **state)
{
    struct fake *f = *state;
    iface_rules(f);
    f->cfg.answer_delay = 1000;
    f->rand_val = 0x80000000u;
    start(f);
    ns(f, "2001:db8:1::10");
    ndp_proxy_on_na(f->p, LAN_IF, AP("2001:db8:1::10"), f->now + 5);
    assert_int_equal(f->n_na, 1);
    /* from the table: multicast NS delayed as any other */
    ns(f, "2001:db8:1::10");
    assert_int_equal(f->n_na, 1);
    assert_int_equal(ndp_proxy_next(f->p), f->now + 500);
}

/* ---- reload, interface and route changes --------------------------------------------- */

static void test_reload(void **state)
{
    struct fake *f = *state;
    add_rule(f, "2001:db8:1::/64", CONF_PROXY_IFACE, "lan0", NULL);
    add_rule(f, "2001:db8:2::/64", CONF_PROXY_AUTO, NULL, NULL);
    add_rule(f, "2001:db8:3::/64", CONF_PROXY_IFACE, "lan0", NULL);
    add_rule(f, "2001:db8:4::/64", CONF_PROXY_AUTO, NULL, NULL);
    add_route(f, "2001:db8:2::/64", LAN_IF, false, true);
    add_route(f, "2001:db8:4::/64", LAN_IF, false, true);
    start(f);
    confirm_target(f, "2001:db8:1::1"); /* stays: same rule */
    confirm_target(f, "2001:db8:2::1"); /* stays: auto, same route */
    confirm_target(f, "2001:db8:3::1"); /* goes: now iface lan1 */
    confirm_target(f, "2001:db8:4::1"); /* goes: now static */
    ns(f, "2001:db8:1::2");             /* INCOMPLETE, stays */
    ns(f, "2001:db8:3::2");             /* INCOMPLETE, goes (never up: no down) */
    assert_int_equal(f->n_up, 4);

    struct conf_rule r2[5];
    memcpy(r2, f->rules, sizeof(r2));
    r2[2].iface = "lan1";
    r2[3].method = CONF_PROXY_STATIC;
    struct conf_proxy c2 = f->cfg;
    c2.rules = r2;
    c2.n_rules = 4;
    c2.valid_ttl = 60;
    ndp_proxy_set_config(f->p, &c2, f->now);
    assert_int_equal(state_of(f, "2001:db8:1::1"), NDP_S_VALID);
    assert_int_equal(state_of(f, "2001:db8:2::1"), NDP_S_VALID);
    assert_int_equal(state_of(f, "2001:db8:3::1"), -1);
    assert_int_equal(state_of(f, "2001:db8:4::1"), -1);
    assert_int_equal(state_of(f, "2001:db8:1::2"), NDP_S_INCOMPLETE);
    assert_int_equal(state_of(f, "2001:db8:3::2"), -1);
    assert_int_equal(f->n_down, 2);
    assert_int_equal(C(f, NDP_C_REMOVED), 3);
    /* the old config may be gone now: nothing points into it */
    memset(f->rules, 0xa5, sizeof(f->rules));
    clear_na(f);
    ns(f, "2001:db8:1::1");
    assert_int_equal(f->n_na, 1);
    /* the new TTL from the next transition */
    ndp_proxy_on_na(f->p, LAN_IF, AP("2001:db8:1::1"), f->now);
    struct find_view fv = {.target = A("2001:db8:1::1")};
    ndp_proxy_foreach(f->p, find_fn, &fv);
    assert_int_equal(fv.v.expires_ms, f->now + 60000);
    /* a rule removed entirely */
    c2.n_rules = 1;
    ndp_proxy_set_config(f->p, &c2, f->now);
    assert_int_equal(state_of(f, "2001:db8:2::1"), -1);
    assert_int_equal(state_of(f, "2001:db8:1::1"), NDP_S_VALID);
    /* the timers still run in order */
    run_until(f, f->now + 61000);
    assert_int_equal(ndp_proxy_session_total(f->p), 0);
    f->cfg.n_rules = 0; /* c2 and r2 end with this function */
    ndp_proxy_set_config(f->p, &f->cfg, f->now);
}

static void test_reload_bound(void **state)
{
    struct fake *f = *state;
    iface_rules(f);
    f->cfg.probe_rate = 100000;
    start(f);
    char t[64];
    for (int i = 0; i < 4; i++) { /* 4 INVALID */
        snprintf(t, sizeof(t), "2001:db8:1::e:%d", i);
        ns(f, t);
    }
    run_until(f, f->now + 3000);
    for (int i = 0; i < 4; i++) { /* 4 VALID */
        snprintf(t, sizeof(t), "2001:db8:1::a:%d", i);
        confirm_target(f, t);
    }
    for (int i = 0; i < 8; i++) { /* 8 INCOMPLETE, oldest first */
        snprintf(t, sizeof(t), "2001:db8:1::c:%d", i);
        ns(f, t);
        f->now++;
    }
    assert_int_equal(ndp_proxy_session_total(f->p), 16);
    struct conf_proxy c2 = f->cfg;
    c2.sessions = 6;
    ndp_proxy_set_config(f->p, &c2, f->now);
    assert_int_equal(ndp_proxy_session_total(f->p), 6);
    assert_int_equal(count_state(f, NDP_S_INVALID), 0);
    assert_int_equal(count_state(f, NDP_S_VALID), 4);
    assert_int_equal(state_of(f, "2001:db8:1::c:5"), -1);
    assert_int_equal(state_of(f, "2001:db8:1::c:6"), NDP_S_INCOMPLETE);
    assert_int_equal(state_of(f, "2001:db8:1::c:7"), NDP_S_INCOMPLETE);
    assert_int_equal(C(f, NDP_C_EVICTED), 10);
    assert_int_equal(f->n_down, 0);
    /* below the confirmed ones: they go too, least recently used first */
    ns(f, "2001:db8:1::a:0");
    c2.sessions = 1;
    ndp_proxy_set_config(f->p, &c2, f->now);
    assert_int_equal(ndp_proxy_session_total(f->p), 1);
    assert_int_equal(state_of(f, "2001:db8:1::a:0"), NDP_S_VALID);
    assert_int_equal(f->n_down, 3);
    /* and back up: the new bound holds */
    c2.sessions = 32;
    ndp_proxy_set_config(f->p, &c2, f->now);
    for (uint32_t i = 0; i < 100; i++) {
        struct in6_addr a = nth("2001:db8:1::", 0x10000 + i);
        ns_a(f, &a, "fe80::fe");
    }
    assert_int_equal(ndp_proxy_session_total(f->p), 32);
    assert_int_equal(state_of(f, "2001:db8:1::a:0"), NDP_S_VALID);
    ndp_proxy_on_na(f->p, LAN_IF, AP("2001:db8:1::a:0"), f->now);
    assert_int_equal(C(f, NDP_C_NA_RECEIVED), 5);
    ndp_proxy_set_config(f->p, &f->cfg, f->now); /* c2 ends with this function */
    assert_int_equal(ndp_proxy_session_total(f->p), 16);
}

static void test_iface_changed(void **state)
{
    struct fake *f = *state;
    add_rule(f, "2001:db8:1::/64", CONF_PROXY_IFACE, "lan0", NULL);
    add_rule(f, "2001:db8:2::/64", CONF_PROXY_AUTO, NULL, NULL);
    add_route(f, "2001:db8:2::/64", LAN2_IF, false, true);
    start(f);
    confirm_target(f, "2001:db8:1::1");
    ns(f, "2001:db8:1::2");
    ns(f, "2001:db8:2::1");
    ndp_proxy_on_na(f->p, LAN2_IF, AP("2001:db8:2::1"), f->now);
    assert_int_equal(state_of(f, "2001:db8:2::1"), NDP_S_VALID);
    ns(f, "2001:db8:2::2");
    ns(f, "2001:db8:2::3");
    ndp_proxy_on_na(f->p, LAN2_IF, AP("2001:db8:2::3"), f->now);
    assert_int_equal(f->n_up, 3);

    /* lan0 went away: its sessions end, the others stay */
    ndp_proxy_iface_changed(f->p, LAN_IF, f->now);
    assert_int_equal(state_of(f, "2001:db8:1::1"), -1);
    assert_int_equal(state_of(f, "2001:db8:1::2"), -1);
    assert_int_equal(state_of(f, "2001:db8:2::1"), NDP_S_VALID);
    assert_int_equal(f->n_down, 1);
    /* a route change that changes nothing */
    ndp_proxy_iface_changed(f->p, 0, f->now);
    assert_int_equal(ndp_proxy_session_total(f->p), 3);
    /* part of the prefix now routed elsewhere, or via a router */
    add_route(f, "2001:db8:2::1/128", LAN_IF, false, true);
    add_route(f, "2001:db8:2::2/128", LAN2_IF, true, true);
    ndp_proxy_iface_changed(f->p, 0, f->now);
    assert_int_equal(state_of(f, "2001:db8:2::1"), -1);
    assert_int_equal(state_of(f, "2001:db8:2::2"), -1);
    assert_int_equal(state_of(f, "2001:db8:2::3"), NDP_S_VALID);
    assert_int_equal(f->n_down, 2);
    assert_int_equal(C(f, NDP_C_REMOVED), 4);
    /* the target moved without an event: the next NS starts over on the new link */
    f->routes[f->n_routes - 1].r.via_gateway = false;
    f->routes[f->n_routes - 1].prefix = P("2001:db8:2::3/128");
    f->routes[f->n_routes - 1].r.ifindex = LAN_IF;
    ns(f, "2001:db8:2::3");
    assert_int_equal(state_of(f, "2001:db8:2::3"), NDP_S_INCOMPLETE);
    assert_int_equal(f->n_down, 3);
    assert_int_equal(f->pr[f->n_pr - 1].ifindex, LAN_IF);
}

/* every way a session that was up can end gives exactly one down */
static void test_updown_pairing(void **state)
{
    struct fake *f = *state;
    iface_rules(f);
    f->cfg.probe_rate = 100000;
    start(f);
    char t[64];
    for (int i = 0; i < 8; i++) {
        snprintf(t, sizeof(t), "2001:db8:1::a:%d", i);
        confirm_target(f, t);
    }
    /* a refresh that fails, one that works, an unasked expiry */
    ns(f, "2001:db8:1::a:0");
    ns(f, "2001:db8:1::a:1");
    run_until(f, f->now + 28000);
    ndp_proxy_on_na(f->p, LAN_IF, AP("2001:db8:1::a:1"), f->now);
    run_until(f, f->now + 2000);
    assert_int_equal(state_of(f, "2001:db8:1::a:0"), NDP_S_INVALID);
    assert_int_equal(state_of(f, "2001:db8:1::a:1"), NDP_S_VALID);
    assert_int_equal(state_of(f, "2001:db8:1::a:2"), -1);
    assert_int_equal(f->n_down, 7);
    /* confirmed again from INVALID: up again, then freed with the engine */
    ndp_proxy_on_na(f->p, LAN_IF, AP("2001:db8:1::a:0"), f->now);
    assert_int_equal(f->n_up, 9);
    assert_int_equal(f->n_live, 2);
    for (size_t i = 0; i < f->n_ud; i++)
        assert_int_equal(f->ud[i].info.ifindex, LAN_IF);
    /* teardown checks that free ends the two that are up */
}

static void test_free_ends_sessions(void **state)
{
    struct fake *f = *state;
    iface_rules(f);
    f->cfg.answer_delay = 100;
    f->rand_val = UINT32_MAX;
    start(f);
    confirm_target(f, "2001:db8:1::1");
    confirm_target(f, "2001:db8:1::2");
    ns(f, "2001:db8:1::3");
    ns(f, "2001:db8:1::1"); /* a delayed answer in the queue */
    ndp_proxy_free(f->p);
    f->p = NULL;
    assert_int_equal(f->n_live, 0);
    assert_int_equal(f->n_down, 2);
    ndp_proxy_free(NULL);
}

static void test_no_callbacks(void **state)
{
    struct fake *f = *state;
    add_rule(f, "2001:db8:1::/64", CONF_PROXY_IFACE, "lan0", NULL);
    add_rule(f, "2001:db8:2::/64", CONF_PROXY_AUTO, NULL, NULL);
    add_rule(f, "2001:db8:3::/64", CONF_PROXY_6BED4, NULL, NULL);
    add_rule(f, "2001:db8:4::/64", CONF_PROXY_TUNNEL, NULL, "tun0");
    add_rule(f, "2001:db8:5::/64", CONF_PROXY_STATIC, NULL, NULL);
    f->cfg.answer_delay = 100;
    static const struct ndp_ops none = {0};
    f->p = ndp_proxy_new(&f->cfg, &none, f, (e6_counter_block){0}, f->now);
    assert_non_null(f->p);
    ndp_proxy_set_link(f->p, &f->link, f->now);
    ns(f, "2001:db8:1::1");
    ns(f, "2001:db8:2::1");
    ns(f, "2001:db8:3::1:1");
    ns(f, "2001:db8:4::1");
    ns(f, "2001:db8:5::1");
    ndp_proxy_on_na(f->p, LAN_IF, AP("2001:db8:1::1"), f->now);
    run_until(f, f->now + 10000);
    assert_int_equal(f->n_na, 0);
    assert_int_equal(ndp_proxy_session_total(f->p), 0);
}

static void test_counter_names(void **state)
{
    (void)state;
    for (size_t i = 0; i < NDP_C__COUNT; i++) {
        const char *n = ndp_counter_names[i];
        assert_non_null(n);
        assert_true(strlen(n) > 0);
        for (const char *c = n; *c; c++)
            assert_true((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_');
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(n, ndp_counter_names[j]);
    }
    assert_string_equal(ndp_state_name(NDP_S_INCOMPLETE), "incomplete");
    assert_string_equal(ndp_state_name(NDP_S_VALID), "valid");
    assert_string_equal(ndp_state_name(NDP_S_REFRESH), "refresh");
    assert_string_equal(ndp_state_name(NDP_S_INVALID), "invalid");
    assert_string_equal(ndp_state_name(NDP_S__COUNT), "?");
}

/* next() is the earliest deadline, and run() at it does the work */
static void test_next_and_views(void **state)
{
    struct fake *f = *state;
    iface_rules(f);
    start(f);
    assert_int_equal(ndp_proxy_next(f->p), UINT64_MAX);
    uint64_t t0 = f->now;
    ns(f, "2001:db8:1::1");
    f->now += 300;
    ns(f, "2001:db8:1::2");
    assert_int_equal(ndp_proxy_next(f->p), t0 + 1000);
    ndp_proxy_run(f->p, t0 + 999);
    assert_int_equal(f->n_pr, 2);
    ndp_proxy_run(f->p, t0 + 1000);
    assert_int_equal(f->n_pr, 3);
    assert_int_equal(ndp_proxy_next(f->p), t0 + 1300);
    struct find_view fv = {.target = A("2001:db8:1::2")};
    ndp_proxy_foreach(f->p, find_fn, &fv);
    assert_int_equal(fv.v.state, NDP_S_INCOMPLETE);
    assert_int_equal(fv.v.expires_ms, t0 + 300 + 3000);
    assert_int_equal(fv.v.tries, 1);
    size_t c[NDP_S__COUNT];
    ndp_proxy_session_counts(f->p, c);
    assert_int_equal(c[NDP_S_INCOMPLETE], 2);
    assert_int_equal(c[NDP_S_VALID] + c[NDP_S_REFRESH] + c[NDP_S_INVALID], 0);
    assert_int_equal(ndp_proxy_session_total(f->p), 2);
}

/*
 * A flood of distinct unknown targets costs at most the bound's worth of
 * sessions, and once they are gone the heap is back where it was (the
 * table's bucket array is allocated once, at the start), give or take
 * the few chunks glibc keeps in its thread cache. Measured with
 * mallinfo2; under ASan it reports nothing and the leak checker covers it.
 */
static void test_memory_bounded_and_returned(void **state)
{
    struct fake *f = *state;
    add_rule(f, "2001:db8:1::/48", CONF_PROXY_IFACE, "lan0", NULL);
    f->cfg.sessions = 1024;
    f->cfg.probe_rate = 100000;
    f->cfg.answer_delay = 0;
    f->keep_parsed = false;
    start(f);
    /* the recorders grow as they go: give them their room first */
    f->cap_pr = 1 << 16;
    f->pr = realloc(f->pr, f->cap_pr * sizeof(*f->pr));
    assert_non_null(f->pr);
    struct mallinfo2 base = mallinfo2();
    size_t peak = base.uordblks;
    for (uint32_t i = 0; i < 20000; i++) {
        struct in6_addr a = nth("2001:db8:1::", 0x100000 + i);
        ns_a(f, &a, "fe80::fe");
        if (i % 1000 == 999) {
            size_t now = mallinfo2().uordblks;
            if (now > peak)
                peak = now;
            f->n_pr = 0;
        }
        f->now += (i % 100 == 0); /* 10 ms per 1000 NS: 100k NS/s */
    }
    assert_int_equal(ndp_proxy_session_total(f->p), 1024);
    assert_true(C(f, NDP_C_EVICTED) > 0);
    /* about 200 bytes per session with the allocator's overhead */
    assert_true(peak - base.uordblks <= 1024 * 320 + 65536);
    run_until(f, f->now + 10000);
    assert_int_equal(ndp_proxy_session_total(f->p), 0);
    assert_int_equal(ndp_proxy_next(f->p), UINT64_MAX);
    size_t after = mallinfo2().uordblks;
    /* glibc's per-thread cache may still count a few freed chunks as used */
    assert_true(after <= base.uordblks + 4096);
}

/*
 * A scan by the upstream router exhausts its budget for new targets, but a
 * unicast NS (its NUD of a target it had cached from an earlier answer of
 * ours) still gets probed: it draws on a global budget of its own.
 */
static void test_rate_nud_not_starved_by_scan(void **state)
{
    struct fake *f = *state;
    add_rule(f, "2001:db8:1::/48", CONF_PROXY_IFACE, "lan0", NULL);
    f->cfg.probe_rate = 5;
    f->cfg.sessions = 1024;
    start(f);
    for (uint32_t i = 0; i < 100; i++) {
        struct in6_addr a = nth("2001:db8:1::", 0x100 + i);
        ns_a(f, &a, "fe80::fe");
    }
    assert_int_equal(C(f, NDP_C_PROBE_RATELIMITED), 95);
    /* a multicast NS for the lapsed target: the router's budget is spent */
    ns(f, "2001:db8:1::77");
    assert_int_equal(C(f, NDP_C_PROBE_RATELIMITED), 96);
    size_t p0 = f->n_pr;
    /* its NUD probe (unicast) is heard */
    ns_full(f, AP("2001:db8:1::77"),
            &(struct ns_opts){.src = "fe80::fe", .dst = "2001:db8:1::77", .slla = true});
    assert_int_equal(f->n_pr, p0 + 1);
    assert_int_equal(state_of(f, "2001:db8:1::77"), NDP_S_INCOMPLETE);
    ndp_proxy_on_na(f->p, LAN_IF, AP("2001:db8:1::77"), f->now);
    assert_int_equal(f->na[f->n_na - 1].m->na_flags, E6_ND_NA_R | E6_ND_NA_S);
    assert_true(e6_addr_equal(&f->na[f->n_na - 1].tx.dst, AP("fe80::fe")));
    /* unicast NS are still bounded, by their global budget */
    for (uint32_t i = 0; i < 100; i++) {
        struct in6_addr a = nth("2001:db8:1::", 0x1000 + i);
        char dst[64];
        e6_addr_format(&a, dst, sizeof(dst));
        ns_full(f, &a, &(struct ns_opts){.src = "fe80::fe", .dst = dst});
    }
    assert_int_equal(C(f, NDP_C_PROBE_RATELIMITED), 96 + 100 - (5 * NDP_GLOBAL_PROBE_FACTOR - 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_match_rule, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_rule_local_exclude, setup, teardown),
        cmocka_unit_test_setup_teardown(test_static_answer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_na_flags, setup, teardown),
        cmocka_unit_test_setup_teardown(test_build_na_direct, setup, teardown),
        cmocka_unit_test_setup_teardown(test_6bed4, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tunnel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_auto_routes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_iface, setup, teardown),
        cmocka_unit_test_setup_teardown(test_session_confirmed_by_na, setup, teardown),
        cmocka_unit_test_setup_teardown(test_askers_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_incomplete_to_invalid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_confirmed_late, setup, teardown),
        cmocka_unit_test_setup_teardown(test_probe_send_failure_counts_as_try, setup, teardown),
        cmocka_unit_test_setup_teardown(test_valid_expires_unasked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refresh_confirmed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refresh_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_late_ask_starts_refresh, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kernel_neigh, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flood_never_evicts_valid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_of_valid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_eviction_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rate_per_source, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rate_global, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refresh_not_ratelimited, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delay, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delay_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delay_not_for_askers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reload, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reload_bound, setup, teardown),
        cmocka_unit_test_setup_teardown(test_iface_changed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_updown_pairing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_free_ends_sessions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_callbacks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_counter_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_next_and_views, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memory_bounded_and_returned, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rate_nud_not_starved_by_scan, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
