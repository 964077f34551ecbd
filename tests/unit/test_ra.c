/*
 * tests/unit/test_ra: the RA engine (radv/ra.h) with a fake clock (plain
 * numbers) and a repeatable random source. Every packet the engine emits is
 * parsed with e6_nd_parse as a host would (hop limit 255) and must be a
 * valid RA no larger than the link MTU allows.
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

#include "common/counters.h"
#include "common/nd.h"
#include "common/strbuf.h"
#include "radv/ra.h"

#define NEVER UINT64_MAX
#define S     1000ull /* ms */

/* ---- randomness ---------------------------------------------------------- */

struct trand {
    uint64_t s;
    int mode; /* 0 xorshift, 1 fixed */
    uint32_t fixed;
};

static uint32_t trand_next(void *arg)
{
    struct trand *r = arg;
    if (r->mode == 1)
        return r->fixed;
    r->s ^= r->s << 13;
    r->s ^= r->s >> 7;
    r->s ^= r->s << 17;
    return (uint32_t)(r->s >> 16);
}

/* ---- addresses --------------------------------------------------------------- */

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

static const struct e6_prefix *
PP(const char *s)
{
    static struct e6_prefix ring[8];
    static unsigned i;
    struct e6_prefix *p = &ring[i++ % 8];
    *p = P(s);
    return p;
}

static const uint8_t mac1[6] = {0x00, 0x00, 0x5e, 0x00, 0x53, 0x01};

/* ---- captured packets --------------------------------------------------------- */

struct sent {
    uint64_t t;
    struct in6_addr dst;
    bool final;
    uint8_t *data;
    size_t len;
    const uint8_t *ptr; /* the engine's buffer, to see the cache at work */
};

struct cap {
    uint64_t now;
    struct sent *s;
    size_t n, cap;
    size_t max_len; /* link MTU - 40 */
    struct in6_addr src;
};

static struct e6_nd_msg *msg_new(void)
{
    struct e6_nd_msg *m = calloc(1, sizeof(*m));
    assert_non_null(m);
    return m;
}

static void parse_into(const struct cap *c, const struct sent *s, struct e6_nd_msg *m)
{
    struct e6_nd_in in = {
        .src = c->src, .dst = s->dst, .hop_limit = 255, .icmp = s->data, .len = s->len};
    assert_int_equal(e6_nd_parse(&in, m), E6_ND_OK);
    assert_int_equal(m->type, E6_ND_RA);
}

static void emit(void *arg, const struct ra_tx *tx)
{
    struct cap *c = arg;
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 64;
        c->s = realloc(c->s, c->cap * sizeof(*c->s));
        assert_non_null(c->s);
    }
    struct sent *s = &c->s[c->n++];
    s->t = c->now;
    s->dst = tx->dst;
    s->final = tx->final;
    s->len = tx->len;
    s->ptr = tx->icmp6;
    s->data = malloc(tx->len);
    assert_non_null(s->data);
    memcpy(s->data, tx->icmp6, tx->len);
    assert_true(tx->len <= c->max_len);
    /* every packet must be a valid RA to a host */
    struct e6_nd_msg *m = msg_new();
    parse_into(c, s, m);
    free(m);
}

static void cap_clear(struct cap *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->s[i].data);
    c->n = 0;
}

static void cap_free(struct cap *c)
{
    cap_clear(c);
    free(c->s);
    c->s = NULL;
    c->cap = 0;
}

static bool is_mcast(const struct sent *s)
{
    return e6_addr_is_multicast(&s->dst);
}

/* Run every timer up to and including until. */
static void drive(struct ra_engine *e, struct cap *c, uint64_t until)
{
    unsigned guard = 0;
    for (;;) {
        uint64_t next = ra_engine_next(e);
        if (next == NEVER || next > until)
            break;
        if (next < c->now)
            next = c->now; /* overdue: run now */
        c->now = next;
        ra_engine_run(e, next, emit, c);
        assert_true(++guard < 1000000);
    }
    if (until != NEVER && until > c->now)
        c->now = until;
}

/* options of type in a raw RA, counted by walking them */
static unsigned count_opts(const struct sent *s, uint8_t type)
{
    unsigned n = 0;
    for (size_t o = E6_ND_RA_LEN; o + 2 <= s->len && s->data[o + 1]; o += s->data[o + 1] * 8u)
        n += s->data[o] == type;
    return n;
}

/* the i-th PIO of a raw RA */
static bool raw_pio(const struct sent *s, unsigned idx, struct e6_prefix *p, uint8_t *flags,
                    uint32_t *valid, uint32_t *pref)
{
    unsigned n = 0;
    for (size_t o = E6_ND_RA_LEN; o + 2 <= s->len && s->data[o + 1]; o += s->data[o + 1] * 8u) {
        if (s->data[o] != E6_ND_OPT_PIO || n++ != idx)
            continue;
        const uint8_t *d = s->data + o;
        p->len = d[2];
        memcpy(&p->addr, d + 16, 16);
        *flags = d[3];
        *valid = (uint32_t)d[4] << 24 | (uint32_t)d[5] << 16 | (uint32_t)d[6] << 8 | d[7];
        *pref = (uint32_t)d[8] << 24 | (uint32_t)d[9] << 16 | (uint32_t)d[10] << 8 | d[11];
        return true;
    }
    return false;
}

/* Find prefix p in the packets sent at time t (one RA may be several). */
static bool find_pio(const struct cap *c, size_t from, size_t to, const struct e6_prefix *want,
                     uint8_t *flags, uint32_t *valid, uint32_t *pref)
{
    for (size_t i = from; i < to; i++) {
        struct e6_prefix p;
        for (unsigned k = 0; raw_pio(&c->s[i], k, &p, flags, valid, pref); k++)
            if (e6_prefix_equal(&p, want))
                return true;
    }
    return false;
}

/* ---- fixtures ---------------------------------------------------------------- */

struct fx {
    struct conf_interface cfg;
    struct conf_ra_prefix prefixes[64];
    struct conf_ra_route routes[2];
    struct conf_ra_rdnss rdnss[1];
    struct in6_addr servers[4];
    struct conf_ra_dnssl dnssl[1];
    char *domains[2];
    struct conf_ra_pref64 pref64[1];
    struct ra_link link;
    struct trand rnd;
    struct e6_counters *set;
    e6_counter_block blk;
    struct ra_engine *e;
    struct cap c;
};

static void add_prefix(struct fx *f, const char *p, uint32_t valid, uint32_t pref, bool decrement)
{
    struct conf_ra_prefix *x = &f->prefixes[f->cfg.n_prefixes++];
    memset(x, 0, sizeof(*x));
    if (p) {
        x->prefix = P(p);
    } else {
        x->is_auto = true;
    }
    x->on_link = true;
    x->autonomous = true;
    x->valid_lifetime = valid;
    x->preferred_lifetime = pref;
    x->decrement = decrement;
    f->cfg.prefixes = f->prefixes;
}

static void add_addr(struct ra_link *l, const char *a, uint8_t plen, uint32_t valid, uint32_t pref)
{
    struct ra_addr *x = &l->addrs[l->n_addrs++];
    memset(x, 0, sizeof(*x));
    x->addr = A(a);
    x->plen = plen;
    x->valid_left = valid;
    x->preferred_left = pref;
}

static struct fx *fx_new(void)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    struct conf_interface *c = &f->cfg;
    c->name = "lan0";
    c->advertise = true;
    c->max_interval = 600;
    c->min_interval = 200;
    c->router_lifetime = 1800;
    c->router_preference = CONF_PREF_MEDIUM;
    c->cur_hop_limit = 64;
    c->mtu_mode = CONF_MTU_AUTO;
    c->source_lladdr = CONF_TRI_AUTO;
    c->solicited_unicast = true;
    add_prefix(f, "2001:db8:1::/64", 5400, 2700, false);

    f->link.present = true;
    f->link.up = true;
    f->link.ifindex = 3;
    f->link.mtu = 1500;
    memcpy(f->link.lladdr, mac1, 6);
    f->link.lladdr_len = 6;
    f->link.have_linklocal = true;
    f->link.linklocal = A("fe80::1");
    f->link.forwarding = true;
    add_addr(&f->link, "fe80::1", 64, CONF_LIFETIME_INFINITY, CONF_LIFETIME_INFINITY);

    f->rnd.s = 0x9e3779b97f4a7c15ull;
    f->set = e6_counters_new(NULL, "radv", ra_counter_names, RA_C__COUNT);
    assert_non_null(f->set);
    f->blk = e6_counters_block(f->set);
    assert_non_null(f->blk.v);
    f->c.src = f->link.linklocal;
    f->c.max_len = f->link.mtu - 40;
    return f;
}

/* engine created at t=0 and given the link at t=0 */
static void fx_start(struct fx *f)
{
    f->e = ra_engine_new(&f->cfg, f->blk, trand_next, &f->rnd, 0);
    assert_non_null(f->e);
    ra_engine_set_link(f->e, &f->link, 0);
}

static void fx_free(struct fx *f)
{
    ra_engine_free(f->e);
    e6_counters_free(f->set);
    cap_free(&f->c);
    free(f);
}

static uint64_t cnt(const struct fx *f, enum ra_counter c)
{
    return e6_counters_get(f->set, c);
}

static struct e6_nd_msg *parse_at(const struct fx *f, size_t i)
{
    struct e6_nd_msg *m = msg_new();
    parse_into(&f->c, &f->c.s[i], m);
    return m;
}

/* indices of multicast packets that start a new RA (time differs from the previous) */
static size_t mcast_times(const struct cap *c, uint64_t *t, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < c->n; i++) {
        if (!is_mcast(&c->s[i]))
            continue;
        if (n && t[n - 1] == c->s[i].t)
            continue;
        if (n < max)
            t[n] = c->s[i].t;
        n++;
    }
    return n;
}

/* ---- timers ---------------------------------------------------------------- */

static void test_states(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    f->e = ra_engine_new(&f->cfg, f->blk, trand_next, &f->rnd, 0);
    assert_int_equal(ra_engine_state(f->e), RA_ST_NO_LINK);
    assert_true(ra_engine_next(f->e) == NEVER);
    struct ra_link l = f->link;
    l.up = false;
    ra_engine_set_link(f->e, &l, 0);
    assert_int_equal(ra_engine_state(f->e), RA_ST_DOWN);
    l.up = true;
    l.have_linklocal = false;
    ra_engine_set_link(f->e, &l, 0);
    assert_int_equal(ra_engine_state(f->e), RA_ST_NO_LINKLOCAL);
    ra_engine_on_rs(f->e, &in6addr_any, 0); /* ignored: cannot answer */
    assert_true(ra_engine_next(f->e) == NEVER);
    ra_engine_set_link(f->e, &f->link, 1000);
    assert_int_equal(ra_engine_state(f->e), RA_ST_ADVERTISING);
    assert_true(ra_engine_next(f->e) <= 1000 + 500);

    struct conf_interface off = f->cfg;
    off.advertise = false;
    struct fx *g = fx_new();
    g->e = ra_engine_new(&off, g->blk, trand_next, &g->rnd, 0);
    ra_engine_set_link(g->e, &g->link, 0);
    assert_int_equal(ra_engine_state(g->e), RA_ST_DISABLED);
    assert_true(ra_engine_next(g->e) == NEVER);
    assert_string_equal(ra_state_name(RA_ST_NO_LINKLOCAL), "no-linklocal");
    assert_string_equal(ra_state_name(RA_ST_STOPPED), "stopped");
    fx_free(g);
    fx_free(f);
}

static void check_burst(struct fx *f, uint64_t lo, uint64_t hi)
{
    fx_start(f);
    drive(f->e, &f->c, 20000 * S);
    uint64_t t[200];
    size_t n = mcast_times(&f->c, t, 200);
    assert_true(n > 20 && n < 200);
    assert_true(t[0] <= 500); /* soon after becoming able */
    /* the first 3 RAs: intervals <= 16 s (and the 3 s floor) */
    for (size_t i = 1; i < 3; i++) {
        assert_true(t[i] - t[i - 1] <= 16000);
        assert_true(t[i] - t[i - 1] >= 3000);
    }
    for (size_t i = 3; i < n; i++) {
        assert_true(t[i] - t[i - 1] >= lo);
        assert_true(t[i] - t[i - 1] <= hi);
    }
    assert_int_equal(cnt(f, RA_C_SENT_PERIODIC), n);
}

static void test_initial_burst_then_interval(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    check_burst(f, 200 * S, 600 * S);
    fx_free(f);

    /* short intervals: the cap does not matter, [min, max] does */
    f = fx_new();
    f->cfg.max_interval = 4;
    f->cfg.min_interval = 3;
    fx_start(f);
    drive(f->e, &f->c, 600 * S);
    uint64_t t[400];
    size_t n = mcast_times(&f->c, t, 400);
    assert_true(n > 100);
    for (size_t i = 1; i < n; i++)
        assert_true(t[i] - t[i - 1] >= 3000 && t[i] - t[i - 1] <= 4000);
    fx_free(f);

    /* random at its top: the first at once, exactly 16 s twice, then max */
    f = fx_new();
    f->rnd.mode = 1;
    f->rnd.fixed = 0xffffffffu;
    fx_start(f);
    drive(f->e, &f->c, 2000 * S);
    n = mcast_times(&f->c, t, 400);
    assert_int_equal(t[0], 0);
    assert_int_equal(t[1], 16000);
    assert_int_equal(t[2], 32000);
    assert_int_equal(t[3], 632000);
    assert_int_equal(t[4], 1232000);
    fx_free(f);
}

static void test_rs_random_delay(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    fx_start(f);
    drive(f->e, &f->c, 100 * S); /* past the burst's first RAs */
    uint64_t now = 100 * S;
    struct in6_addr host = A("fe80::2");
    unsigned seen_lo = 0, seen_hi = 0;
    for (int k = 0; k < 300; k++) {
        now += 7 * S;
        drive(f->e, &f->c, now);
        cap_clear(&f->c);
        ra_engine_on_rs(f->e, &host, now);
        uint64_t due = ra_engine_next(f->e);
        assert_true(due >= now && due <= now + 500);
        drive(f->e, &f->c, now + 600);
        bool got = false;
        for (size_t i = 0; i < f->c.n; i++) {
            if (e6_addr_equal(&f->c.s[i].dst, &host)) {
                uint64_t d = f->c.s[i].t - now;
                assert_true(d <= 500);
                seen_lo += d < 100;
                seen_hi += d > 400;
                got = true;
            }
        }
        assert_true(got);
    }
    /* the delay is really random over 0..500 */
    assert_true(seen_lo > 10 && seen_hi > 10);
    assert_int_equal(cnt(f, RA_C_SENT_SOLICITED_UNICAST), 300);
    fx_free(f);
}

static void test_unicast_and_multicast_answers(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    fx_start(f);
    drive(f->e, &f->c, 100 * S);
    cap_clear(&f->c);

    /* from a unicast source: unicast, valid for that destination */
    struct in6_addr host = A("fe80::2");
    ra_engine_on_rs(f->e, &host, 100 * S);
    ra_engine_on_rs(f->e, &host, 100 * S + 10); /* same host again: one answer */
    drive(f->e, &f->c, 101 * S);
    assert_int_equal(f->c.n, 1);
    assert_true(e6_addr_equal(&f->c.s[0].dst, &host));
    assert_false(f->c.s[0].final);
    assert_int_equal(cnt(f, RA_C_RS_COALESCED), 1);

    /* from :: : multicast */
    cap_clear(&f->c);
    ra_engine_on_rs(f->e, &in6addr_any, 110 * S);
    drive(f->e, &f->c, 111 * S);
    assert_int_equal(f->c.n, 1);
    assert_true(is_mcast(&f->c.s[0]));
    assert_int_equal(cnt(f, RA_C_SENT_SOLICITED_MCAST), 1);

    /* more distinct solicitors than RA_MAX_PENDING_RS: the rest share one multicast */
    cap_clear(&f->c);
    uint64_t t0 = 120 * S;
    for (int i = 0; i < RA_MAX_PENDING_RS + 5; i++) {
        char a[64];
        snprintf(a, sizeof(a), "fe80::%x", 0x100 + i);
        struct in6_addr s = A(a);
        ra_engine_on_rs(f->e, &s, t0 + (uint64_t)i);
    }
    drive(f->e, &f->c, t0 + 5 * S);
    size_t uni = 0, multi = 0;
    for (size_t i = 0; i < f->c.n; i++)
        is_mcast(&f->c.s[i]) ? multi++ : uni++;
    assert_int_equal(uni, RA_MAX_PENDING_RS);
    assert_int_equal(multi, 1);
    fx_free(f);

    /* solicited-unicast = no: always multicast */
    f = fx_new();
    f->cfg.solicited_unicast = false;
    fx_start(f);
    drive(f->e, &f->c, 100 * S);
    cap_clear(&f->c);
    ra_engine_on_rs(f->e, &host, 100 * S);
    drive(f->e, &f->c, 101 * S);
    assert_int_equal(f->c.n, 1);
    assert_true(is_mcast(&f->c.s[0]));
    fx_free(f);
}

static void test_coalescing(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    f->cfg.solicited_unicast = false;
    fx_start(f);
    drive(f->e, &f->c, 100 * S);
    cap_clear(&f->c);
    uint64_t periodic_before = cnt(f, RA_C_SENT_PERIODIC);
    for (int i = 0; i < 10; i++)
        ra_engine_on_rs(f->e, &in6addr_any, 100 * S + (uint64_t)i * 10);
    uint64_t due = ra_engine_next(f->e);
    assert_true(due >= 100 * S && due <= 100 * S + 500); /* from the first RS */
    drive(f->e, &f->c, 104 * S);
    assert_int_equal(f->c.n, 1);
    assert_int_equal(cnt(f, RA_C_SENT_SOLICITED_MCAST), 1);
    assert_int_equal(cnt(f, RA_C_RS_COALESCED), 9);
    assert_int_equal(cnt(f, RA_C_RS_RECEIVED), 10);
    /* the multicast answer reset the periodic timer: next >= now + min */
    assert_true(ra_engine_next(f->e) >= f->c.s[0].t + 200 * S);
    assert_int_equal(cnt(f, RA_C_SENT_PERIODIC), periodic_before);
    fx_free(f);
}

static void test_floor_under_rs_flood(void **state)
{
    (void)state;
    for (int variant = 0; variant < 2; variant++) {
        struct fx *f = fx_new();
        f->cfg.min_interval = 3; /* periodic RAs as close to the floor as allowed */
        f->cfg.max_interval = 4;
        fx_start(f);
        /* 1000 RS/s for 60 s: from :: (variant 0) or from ever new hosts (1) */
        uint64_t rs = 0;
        for (uint64_t t = 0; t < 60 * S; t++) {
            drive(f->e, &f->c, t);
            struct in6_addr src = in6addr_any;
            if (variant) {
                src = A("fe80::1:0:0");
                src.s6_addr[14] = (uint8_t)(t >> 8);
                src.s6_addr[15] = (uint8_t)t;
            }
            f->c.now = t;
            ra_engine_on_rs(f->e, &src, t);
            rs++;
        }
        drive(f->e, &f->c, 61 * S);
        uint64_t t[100];
        size_t n = mcast_times(&f->c, t, 100);
        assert_true(n >= 15 && n <= 21); /* one per 3 s, not one per RS */
        for (size_t i = 1; i < n; i++)
            assert_true(t[i] - t[i - 1] >= RA_MIN_DELAY_BETWEEN_RAS_MS);
        assert_int_equal(cnt(f, RA_C_RS_RECEIVED), rs);
        if (variant == 0)
            assert_int_equal(cnt(f, RA_C_SENT_SOLICITED_UNICAST), 0);
        else /* unicast answers are each delayed, bounded by the pending table */
            assert_true(cnt(f, RA_C_SENT_SOLICITED_UNICAST) > 0);
        fx_free(f);
    }
}

static void test_multicast_answer_respects_floor(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    f->cfg.solicited_unicast = false;
    f->rnd.mode = 1;
    f->rnd.fixed = 0x80000000u; /* delays of 250 ms */
    fx_start(f);
    drive(f->e, &f->c, 1000); /* first RA at once */
    assert_int_equal(f->c.n, 1);
    assert_int_equal(f->c.s[0].t, 0);
    ra_engine_on_rs(f->e, &in6addr_any, 1000);
    /* last multicast at 0: not before 3000, plus a random 0..500 ms */
    assert_int_equal(ra_engine_next(f->e), 3000 + 250);
    drive(f->e, &f->c, 5000);
    assert_int_equal(f->c.n, 2);
    assert_int_equal(f->c.s[1].t, 3250);
    fx_free(f);
}

static void test_unsolicited_floor_and_early_periodic(void **state)
{
    (void)state;
    /* a content change right after a multicast RA: the new burst waits for the floor */
    struct fx *f = fx_new();
    f->rnd.mode = 1;
    f->rnd.fixed = 0;
    fx_start(f);
    drive(f->e, &f->c, 1000);
    assert_int_equal(f->c.n, 1);
    assert_int_equal(f->c.s[0].t, 0);
    struct conf_interface c1 = f->cfg;
    c1.managed = true;
    ra_engine_set_config(f->e, &c1, 1000);
    assert_int_equal(ra_engine_next(f->e), 3000);
    drive(f->e, &f->c, 3000);
    assert_int_equal(f->c.n, 2);
    assert_int_equal(f->c.s[1].t, 3000);
    fx_free(f);

    /* an RS whose random delay ends after the next periodic RA: that RA answers it */
    f = fx_new();
    f->cfg.solicited_unicast = false;
    f->rnd.mode = 1;
    f->rnd.fixed = 0xffffffffu; /* every delay at its maximum */
    fx_start(f);
    drive(f->e, &f->c, 15700);
    assert_int_equal(f->c.n, 1); /* at 0 */
    assert_int_equal(ra_engine_next(f->e), 16000);
    ra_engine_on_rs(f->e, &in6addr_any, 15700);
    assert_int_equal(ra_engine_next(f->e), 16000);
    assert_int_equal(cnt(f, RA_C_RS_COALESCED), 1);
    drive(f->e, &f->c, 17000);
    assert_int_equal(f->c.n, 2);
    assert_int_equal(cnt(f, RA_C_SENT_SOLICITED_MCAST), 0);
    assert_int_equal(cnt(f, RA_C_SENT_PERIODIC), 2);
    fx_free(f);
}

/* ---- final RAs -------------------------------------------------------------------- */

static void fill_options(struct fx *f)
{
    f->routes[0].prefix = P("2001:db8:100::/48");
    f->routes[0].preference = CONF_PREF_HIGH;
    f->routes[0].lifetime = 1800;
    f->cfg.routes = f->routes;
    f->cfg.n_routes = 1;
    f->servers[0] = A("2001:db8:1::53");
    f->rdnss[0].servers = f->servers;
    f->rdnss[0].n_servers = 1;
    f->rdnss[0].lifetime = 1800;
    f->cfg.rdnss = f->rdnss;
    f->cfg.n_rdnss = 1;
    f->domains[0] = "example.com";
    f->dnssl[0].domains = f->domains;
    f->dnssl[0].n_domains = 1;
    f->dnssl[0].lifetime = 1800;
    f->cfg.dnssl = f->dnssl;
    f->cfg.n_dnssl = 1;
    f->pref64[0].prefix = P("2001:db8:64::/96");
    f->pref64[0].lifetime = 1800;
    f->cfg.pref64 = f->pref64;
    f->cfg.n_pref64 = 1;
    f->cfg.captive_portal = "https://portal.example.com/api";
}

static void check_final(bool withdraw)
{
    struct fx *f = fx_new();
    fill_options(f);
    f->cfg.withdraw_on_exit = withdraw;
    fx_start(f);
    drive(f->e, &f->c, 100 * S);
    uint64_t last = f->c.s[f->c.n - 1].t;
    cap_clear(&f->c);
    f->c.now = last + 1000; /* 1 s after the last multicast RA */
    ra_engine_on_rs(f->e, AP("fe80::2"), f->c.now);
    ra_engine_stop(f->e, true, f->c.now);
    assert_int_equal(ra_engine_state(f->e), RA_ST_STOPPING);
    assert_false(ra_engine_done(f->e));
    drive(f->e, &f->c, NEVER);
    assert_true(ra_engine_done(f->e));
    assert_int_equal(ra_engine_state(f->e), RA_ST_STOPPED);
    assert_int_equal(f->c.n, RA_MAX_FINAL_RTR_ADVERTISEMENTS); /* no answer to the RS */
    assert_int_equal(f->c.s[0].t, last + 3000);                /* the floor */
    for (size_t i = 0; i < f->c.n; i++) {
        assert_true(f->c.s[i].final);
        assert_true(is_mcast(&f->c.s[i]));
        if (i)
            assert_int_equal(f->c.s[i].t - f->c.s[i - 1].t, 3000);
        struct e6_nd_msg *m = parse_at(f, i);
        assert_int_equal(m->ra.router_lifetime, 0);
        assert_int_equal(m->n_pio, 1);
        assert_int_equal(m->pio[0].valid, withdraw ? 0 : 5400);
        assert_int_equal(m->pio[0].preferred, withdraw ? 0 : 2700);
        assert_int_equal(m->n_rio, 1);
        assert_int_equal(m->rio[0].lifetime, withdraw ? 0 : 1800);
        assert_int_equal(m->n_rdnss, 1);
        assert_int_equal(m->rdnss[0].lifetime, withdraw ? 0 : 1800);
        assert_int_equal(m->n_dnssl, 1);
        assert_int_equal(m->dnssl[0].lifetime, withdraw ? 0 : 1800);
        assert_int_equal(m->n_pref64, 1);
        assert_int_equal(m->pref64[0].lifetime, withdraw ? 0 : 1800);
        free(m);
    }
    assert_int_equal(cnt(f, RA_C_SENT_FINAL), 3);
    /* nothing more, whatever comes in */
    ra_engine_on_rs(f->e, &in6addr_any, f->c.now + 10 * S);
    ra_engine_set_config(f->e, &f->cfg, f->c.now + 10 * S);
    assert_true(ra_engine_next(f->e) == NEVER);
    fx_free(f);
}

static void test_final_ras(void **state)
{
    (void)state;
    check_final(false);
    check_final(true);

    /* far from the last multicast RA: the first goes at once */
    struct fx *f = fx_new();
    fx_start(f);
    drive(f->e, &f->c, 100 * S);
    cap_clear(&f->c);
    ra_engine_stop(f->e, true, 100 * S);
    assert_int_equal(ra_engine_next(f->e), 100 * S);
    fx_free(f);
}

static void test_restart_sends_nothing(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    fx_start(f);
    drive(f->e, &f->c, 100 * S);
    cap_clear(&f->c);
    ra_engine_on_rs(f->e, &in6addr_any, 100 * S);
    ra_engine_stop(f->e, false, 100 * S);
    assert_true(ra_engine_done(f->e));
    assert_int_equal(ra_engine_state(f->e), RA_ST_STOPPED);
    assert_true(ra_engine_next(f->e) == NEVER);
    drive(f->e, &f->c, 1000 * S);
    ra_engine_run(f->e, 2000 * S, emit, &f->c);
    assert_int_equal(f->c.n, 0);
    fx_free(f);

    /* never advertised: a goodbye has nothing to retract */
    f = fx_new();
    f->e = ra_engine_new(&f->cfg, f->blk, trand_next, &f->rnd, 0);
    ra_engine_stop(f->e, true, 0);
    assert_true(ra_engine_done(f->e));
    fx_free(f);
}

static void test_advertise_off_and_link_gone(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    fx_start(f);
    drive(f->e, &f->c, 100 * S);
    cap_clear(&f->c);
    struct conf_interface off = f->cfg;
    off.advertise = false;
    ra_engine_set_config(f->e, &off, 100 * S);
    assert_int_equal(ra_engine_state(f->e), RA_ST_STOPPING);
    drive(f->e, &f->c, 200 * S);
    assert_int_equal(f->c.n, 3);
    for (size_t i = 0; i < 3; i++) {
        struct e6_nd_msg *m = parse_at(f, i);
        assert_true(f->c.s[i].final);
        assert_int_equal(m->ra.router_lifetime, 0);
        free(m);
    }
    assert_int_equal(ra_engine_state(f->e), RA_ST_DISABLED);
    /* back on: a new burst */
    cap_clear(&f->c);
    ra_engine_set_config(f->e, &f->cfg, 300 * S);
    assert_int_equal(ra_engine_state(f->e), RA_ST_ADVERTISING);
    assert_true(ra_engine_next(f->e) <= 300 * S + 500);

    /* the link goes away: nothing can be sent, nothing is */
    drive(f->e, &f->c, 400 * S);
    cap_clear(&f->c);
    struct ra_link gone = {0};
    ra_engine_set_link(f->e, &gone, 400 * S);
    assert_int_equal(ra_engine_state(f->e), RA_ST_NO_LINK);
    assert_true(ra_engine_next(f->e) == NEVER);
    ra_engine_stop(f->e, true, 401 * S);
    assert_true(ra_engine_done(f->e));
    drive(f->e, &f->c, NEVER);
    assert_int_equal(f->c.n, 0);
    fx_free(f);
}

/* ---- content ----------------------------------------------------------------------- */

static void test_header_and_forwarding(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    f->cfg.managed = true;
    f->cfg.other_config = true;
    f->cfg.cur_hop_limit = 32;
    f->cfg.reachable_time = 30000;
    f->cfg.retrans_timer = 1000;
    f->cfg.router_preference = CONF_PREF_HIGH;
    fx_start(f);
    drive(f->e, &f->c, 1 * S);
    struct e6_nd_msg *m = parse_at(f, 0);
    assert_int_equal(m->ra.cur_hop_limit, 32);
    assert_int_equal(m->ra.flags & (E6_ND_RA_M | E6_ND_RA_O), E6_ND_RA_M | E6_ND_RA_O);
    assert_int_equal(m->ra.prf, E6_ND_PRF_HIGH);
    assert_int_equal(m->ra.router_lifetime, 1800);
    assert_int_equal(m->ra.reachable, 30000);
    assert_int_equal(m->ra.retrans, 1000);
    assert_true(e6_nd_lladdr_eth(&m->slla, (uint8_t[6]){0}));
    assert_true(m->has_mtu);
    assert_int_equal(m->mtu, 1500);
    free(m);

    /* forwarding off: router lifetime 0, preference medium, counted; a
     * content change, so a new burst starts */
    drive(f->e, &f->c, 100 * S);
    cap_clear(&f->c);
    struct ra_link l = f->link;
    l.forwarding = false;
    ra_engine_set_link(f->e, &l, 100 * S);
    drive(f->e, &f->c, 101 * S);
    assert_int_equal(f->c.n, 1);
    m = parse_at(f, 0);
    assert_int_equal(m->ra.router_lifetime, 0);
    assert_int_equal(m->ra.prf, E6_ND_PRF_MEDIUM);
    free(m);
    assert_int_equal(cnt(f, RA_C_FORWARDING_OFF), 1);

    /* configured router lifetime 0: medium too, not counted as forwarding off */
    struct conf_interface c0 = f->cfg;
    c0.router_lifetime = 0;
    drive(f->e, &f->c, 200 * S);
    assert_int_equal(cnt(f, RA_C_FORWARDING_OFF), 3); /* the burst */
    ra_engine_set_link(f->e, &f->link, 200 * S);
    ra_engine_set_config(f->e, &c0, 200 * S);
    cap_clear(&f->c);
    drive(f->e, &f->c, 201 * S);
    assert_int_equal(f->c.n, 1);
    m = parse_at(f, 0);
    assert_int_equal(m->ra.router_lifetime, 0);
    assert_int_equal(m->ra.prf, E6_ND_PRF_MEDIUM);
    free(m);
    assert_int_equal(cnt(f, RA_C_FORWARDING_OFF), 3);
    fx_free(f);
}

static void test_slla(void **state)
{
    (void)state;
    /* a TUN or 6in4 link: no hardware address, no SLLA */
    struct fx *f = fx_new();
    f->link.lladdr_len = 0;
    fx_start(f);
    drive(f->e, &f->c, 1 * S);
    struct e6_nd_msg *m = parse_at(f, 0);
    assert_null(m->slla.addr);
    free(m);
    fx_free(f);

    f = fx_new();
    f->cfg.source_lladdr = CONF_TRI_OFF;
    fx_start(f);
    drive(f->e, &f->c, 1 * S);
    m = parse_at(f, 0);
    assert_null(m->slla.addr);
    free(m);
    fx_free(f);

    f = fx_new();
    f->cfg.source_lladdr = CONF_TRI_ON;
    fx_start(f);
    drive(f->e, &f->c, 1 * S);
    m = parse_at(f, 0);
    uint8_t mac[6];
    assert_true(e6_nd_lladdr_eth(&m->slla, mac));
    assert_memory_equal(mac, mac1, 6);
    free(m);
    fx_free(f);
}

static void test_mtu_option(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    f->link.mtu = 1480;
    f->c.max_len = 1440;
    fx_start(f);
    drive(f->e, &f->c, 100 * S);
    size_t n0 = f->c.n;
    struct e6_nd_msg *m = parse_at(f, 0);
    assert_true(m->has_mtu);
    assert_int_equal(m->mtu, 1480);
    free(m);
    /* the link MTU changes: followed, and the burst restarts */
    struct ra_link l = f->link;
    l.mtu = 1400;
    f->c.max_len = 1360;
    ra_engine_set_link(f->e, &l, 100 * S);
    assert_true(ra_engine_next(f->e) <= 100 * S + 500);
    drive(f->e, &f->c, 101 * S);
    assert_int_equal(f->c.n, n0 + 1);
    m = parse_at(f, n0);
    assert_int_equal(m->mtu, 1400);
    free(m);
    /* a fixed value, and off */
    struct conf_interface c1 = f->cfg;
    c1.mtu_mode = CONF_MTU_VALUE;
    c1.mtu = 1280;
    drive(f->e, &f->c, 200 * S);
    ra_engine_set_config(f->e, &c1, 200 * S);
    drive(f->e, &f->c, 201 * S);
    m = parse_at(f, f->c.n - 1);
    assert_int_equal(m->mtu, 1280);
    free(m);
    struct conf_interface c2 = f->cfg;
    c2.mtu_mode = CONF_MTU_OFF;
    drive(f->e, &f->c, 300 * S);
    ra_engine_set_config(f->e, &c2, 300 * S);
    drive(f->e, &f->c, 301 * S);
    m = parse_at(f, f->c.n - 1);
    assert_false(m->has_mtu);
    free(m);
    fx_free(f);
}

static void test_all_options(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    fill_options(f);
    f->rdnss[0].self = true;
    add_addr(&f->link, "2001:db8:1::1", 64, CONF_LIFETIME_INFINITY, CONF_LIFETIME_INFINITY);
    fx_start(f);
    drive(f->e, &f->c, 1 * S);
    assert_int_equal(f->c.n, 1);
    struct e6_nd_msg *m = parse_at(f, 0);
    assert_int_equal(m->n_bad, 0);
    assert_int_equal(m->n_rio, 1);
    assert_int_equal(m->rio[0].prf, E6_ND_PRF_HIGH);
    assert_true(e6_prefix_equal(&m->rio[0].prefix, PP("2001:db8:100::/48")));
    assert_int_equal(m->n_rdnss, 2);
    /* self first: our global address on the link */
    assert_true(e6_addr_equal(&m->rdnss[0].addr, AP("2001:db8:1::1")));
    assert_true(e6_addr_equal(&m->rdnss[1].addr, AP("2001:db8:1::53")));
    assert_string_equal(m->dnssl[0].name, "example.com");
    assert_int_equal(m->pref64[0].prefix.len, 96);
    assert_int_equal(m->captive_len, strlen("https://portal.example.com/api"));
    free(m);
    fx_free(f);

    /* an option that cannot be encoded is dropped, not the whole RA */
    f = fx_new();
    fill_options(f);
    f->pref64[0].prefix = P("2001:db8::/33");
    f->cfg.captive_portal = "not a uri";
    fx_start(f);
    drive(f->e, &f->c, 1 * S);
    assert_int_equal(f->c.n, 1);
    m = parse_at(f, 0);
    assert_int_equal(m->n_pref64, 0);
    assert_int_equal(m->captive_len, 0);
    assert_int_equal(m->n_pio, 1);
    assert_int_equal(m->n_rdnss, 1);
    free(m);
    struct e6_strbuf sb = E6_STRBUF_INIT;
    struct e6_json j;
    e6_json_init(&j, &sb);
    ra_engine_view(f->e, &j, E6_VIEW_JSON, false, 1 * S);
    assert_non_null(strstr(e6_strbuf_str(&sb), "\"dropped_options\":2"));
    e6_strbuf_free(&sb);
    fx_free(f);

    /* RDNSS self without a global address: the link-local */
    f = fx_new();
    fill_options(f);
    f->rdnss[0].self = true;
    fx_start(f);
    drive(f->e, &f->c, 1 * S);
    m = parse_at(f, 0);
    assert_true(e6_addr_equal(&m->rdnss[0].addr, AP("fe80::1")));
    free(m);
    fx_free(f);
}

static void test_decrement(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    add_prefix(f, "2001:db8:2::/64", 5400, 2700, true);
    f->rnd.mode = 1;
    f->rnd.fixed = 0;
    fx_start(f);
    drive(f->e, &f->c, 1000 * S);
    uint8_t fl;
    uint32_t v, p;
    struct e6_prefix dec = P("2001:db8:2::/64"), fixed = P("2001:db8:1::/64");
    /* the first RA (t=0) carries the full lifetimes */
    assert_int_equal(f->c.s[0].t, 0);
    assert_true(find_pio(&f->c, 0, 1, &dec, &fl, &v, &p));
    assert_int_equal(v, 5400);
    assert_int_equal(p, 2700);
    /* later ones count down in real time; the fixed one does not */
    for (size_t i = 1; i < f->c.n; i++) {
        uint64_t el = f->c.s[i].t / 1000;
        assert_true(find_pio(&f->c, i, i + 1, &dec, &fl, &v, &p));
        assert_int_equal(v, 5400 - el);
        assert_int_equal(p, el >= 2700 ? 0 : 2700 - el);
        assert_true(find_pio(&f->c, i, i + 1, &fixed, &fl, &v, &p));
        assert_int_equal(v, 5400);
    }
    /* reaches zero at a fixed time and stays there */
    drive(f->e, &f->c, 6000 * S);
    cap_clear(&f->c);
    ra_engine_on_rs(f->e, &in6addr_any, 6000 * S);
    drive(f->e, &f->c, 6001 * S);
    assert_true(find_pio(&f->c, f->c.n - 1, f->c.n, &dec, &fl, &v, &p));
    assert_int_equal(v, 0);
    assert_int_equal(p, 0);
    fx_free(f);
}

static void test_auto_prefix(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    f->cfg.n_prefixes = 0;
    add_prefix(f, NULL, 5400, 2700, false);
    add_addr(&f->link, "2001:db8:a::1", 64, 3000, 1000); /* under the caps */
    add_addr(&f->link, "2001:db8:b::1", 64, CONF_LIFETIME_INFINITY, CONF_LIFETIME_INFINITY);
    add_addr(&f->link, "2001:db8:b::2", 64, 100, 50);  /* same prefix, shorter */
    add_addr(&f->link, "2001:db8:c::1", 56, 86400, 0); /* deprecated by lifetime */
    f->link.addrs[f->link.n_addrs - 1].deprecated = true;
    add_addr(&f->link, "2001:db8:d::1", 64, 9000, 9000);
    f->link.addrs[f->link.n_addrs - 1].tentative = true; /* not yet ours */
    add_addr(&f->link, "2001:db8:e::1", 80, 9000, 9000); /* too long for SLAAC */
    add_addr(&f->link, "2001:db8:f::1", 64, 0, 0);       /* expired */
    fx_start(f);
    drive(f->e, &f->c, 1 * S);
    assert_int_equal(f->c.n, 1);
    struct e6_nd_msg *m = parse_at(f, 0);
    assert_int_equal(m->n_pio, 3);
    /* sorted: a, b, c */
    assert_true(e6_prefix_equal(&m->pio[0].prefix, PP("2001:db8:a::/64")));
    assert_int_equal(m->pio[0].valid, 3000);
    assert_int_equal(m->pio[0].preferred, 1000);
    assert_true(e6_prefix_equal(&m->pio[1].prefix, PP("2001:db8:b::/64")));
    assert_int_equal(m->pio[1].valid, 5400);
    assert_int_equal(m->pio[1].preferred, 2700);
    assert_true(e6_prefix_equal(&m->pio[2].prefix, PP("2001:db8:c::/56")));
    assert_int_equal(m->pio[2].valid, 5400);
    assert_int_equal(m->pio[2].preferred, 0);
    assert_int_equal(m->pio[0].flags & (E6_ND_PIO_L | E6_ND_PIO_A), E6_ND_PIO_L | E6_ND_PIO_A);
    free(m);

    /* the kernel's lifetimes run down between link reports */
    drive(f->e, &f->c, 500 * S);
    cap_clear(&f->c);
    ra_engine_on_rs(f->e, &in6addr_any, 500 * S);
    drive(f->e, &f->c, 501 * S);
    m = parse_at(f, 0);
    assert_int_equal(m->pio[0].valid, 2500);
    assert_int_equal(m->pio[0].preferred, 500);
    assert_int_equal(m->pio[1].valid, 5400);
    free(m);

    /* a fresh report with refreshed lifetimes is not a content change */
    uint64_t next = ra_engine_next(f->e);
    struct ra_link l = f->link;
    l.addrs[1].valid_left = 2990;
    ra_engine_set_link(f->e, &l, 510 * S);
    assert_int_equal(ra_engine_next(f->e), next);
    fx_free(f);
}

/* ---- renumbering (RFC 9096) --------------------------------------------------------- */

struct seen {
    int n;
    uint32_t valid[4];
};

static void on_advertised(void *arg, const struct e6_prefix *p, bool L, bool A, uint32_t valid)
{
    struct seen *seen = arg;
    (void)p;
    assert_true(L && A);
    seen->valid[seen->n++ & 3] = valid;
}

static void test_renumbering(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    add_prefix(f, "2001:db8:2::/64", 600, 300, false);
    fx_start(f);
    drive(f->e, &f->c, 100 * S);
    uint64_t last_adv = f->c.s[f->c.n - 1].t;
    struct e6_prefix gone = P("2001:db8:2::/64");

    /* persisted: both prefixes with what they were advertised with */
    struct seen seen = {0};
    ra_engine_foreach_advertised(f->e, on_advertised, &seen);
    assert_int_equal(seen.n, 2);
    assert_int_equal(seen.valid[0], 5400);
    assert_int_equal(seen.valid[1], 600);

    /* removed from the config: 0/0, L and A kept, a new burst */
    struct conf_interface c1 = f->cfg;
    c1.n_prefixes = 1;
    ra_engine_set_config(f->e, &c1, 100 * S);
    cap_clear(&f->c);
    drive(f->e, &f->c, 110 * S);
    assert_true(f->c.n >= 1);
    uint8_t fl;
    uint32_t v, p;
    assert_true(find_pio(&f->c, 0, 1, &gone, &fl, &v, &p));
    assert_int_equal(v, 0);
    assert_int_equal(p, 0);
    assert_int_equal(fl & (E6_ND_PIO_L | E6_ND_PIO_A), E6_ND_PIO_L | E6_ND_PIO_A);
    seen.n = 0;
    ra_engine_foreach_advertised(f->e, on_advertised, &seen);
    assert_int_equal(seen.n, 1);
    assert_int_equal(seen.valid[0], 5400);

    /* until the last advertisement + its valid lifetime (600 s), then gone */
    uint64_t deadline = last_adv + 600 * S;
    drive(f->e, &f->c, deadline - 5 * S);
    cap_clear(&f->c);
    ra_engine_on_rs(f->e, &in6addr_any, deadline - 5 * S);
    drive(f->e, &f->c, deadline - 1);
    assert_true(f->c.n >= 1);
    assert_true(find_pio(&f->c, 0, f->c.n, &gone, &fl, &v, &p));
    drive(f->e, &f->c, deadline + 1 * S);
    cap_clear(&f->c);
    ra_engine_on_rs(f->e, &in6addr_any, deadline + 1 * S);
    drive(f->e, &f->c, deadline + 5 * S);
    assert_true(f->c.n >= 1);
    assert_false(find_pio(&f->c, 0, f->c.n, &gone, &fl, &v, &p));

    /* comes back: advertised normally */
    drive(f->e, &f->c, deadline + 10 * S);
    ra_engine_set_config(f->e, &f->cfg, deadline + 10 * S);
    cap_clear(&f->c);
    drive(f->e, &f->c, deadline + 11 * S);
    assert_true(f->c.n >= 1);
    assert_true(find_pio(&f->c, 0, f->c.n, &gone, &fl, &v, &p));
    assert_int_equal(v, 600);
    assert_int_equal(p, 300);
    fx_free(f);
}

static void test_renumbering_link_and_bounds(void **state)
{
    (void)state;
    /* an auto prefix that leaves the link; the deadline is capped at ND_VALID_LIMIT */
    struct fx *f = fx_new();
    f->cfg.n_prefixes = 0;
    add_prefix(f, NULL, CONF_LIFETIME_INFINITY, CONF_LIFETIME_INFINITY, false);
    add_addr(&f->link, "2001:db8:a::1", 64, CONF_LIFETIME_INFINITY, CONF_LIFETIME_INFINITY);
    fx_start(f);
    drive(f->e, &f->c, 10 * S);
    uint64_t last_adv = f->c.s[f->c.n - 1].t;
    struct ra_link l = f->link;
    l.n_addrs = 1; /* only the link-local left */
    ra_engine_set_link(f->e, &l, 10 * S);
    cap_clear(&f->c);
    drive(f->e, &f->c, 11 * S);
    struct e6_prefix a = P("2001:db8:a::/64");
    uint8_t fl;
    uint32_t v, p;
    assert_true(find_pio(&f->c, 0, f->c.n, &a, &fl, &v, &p));
    assert_int_equal(v, 0);
    uint64_t deadline = last_adv + RA_ND_VALID_LIMIT * S;
    drive(f->e, &f->c, deadline - 5 * S);
    cap_clear(&f->c);
    ra_engine_on_rs(f->e, &in6addr_any, deadline - 5 * S);
    drive(f->e, &f->c, deadline - 1);
    assert_true(f->c.n >= 1);
    assert_true(find_pio(&f->c, 0, f->c.n, &a, &fl, &v, &p));
    drive(f->e, &f->c, deadline);
    cap_clear(&f->c);
    ra_engine_on_rs(f->e, &in6addr_any, deadline);
    drive(f->e, &f->c, deadline + 5 * S);
    assert_true(f->c.n >= 1);
    assert_false(find_pio(&f->c, 0, f->c.n, &a, &fl, &v, &p));
    fx_free(f);

    /* a prefix configured and removed before any RA carried it: nothing to deprecate */
    f = fx_new();
    add_prefix(f, "2001:db8:2::/64", 600, 300, false);
    f->e = ra_engine_new(&f->cfg, f->blk, trand_next, &f->rnd, 0);
    struct conf_interface c1 = f->cfg;
    c1.n_prefixes = 1;
    ra_engine_set_config(f->e, &c1, 0);
    ra_engine_set_link(f->e, &f->link, 0);
    drive(f->e, &f->c, 1 * S);
    struct e6_nd_msg *m = parse_at(f, 0);
    assert_int_equal(m->n_pio, 1);
    free(m);
    fx_free(f);

    /* at most RA_MAX_STALE remembered: the oldest go */
    f = fx_new();
    f->cfg.n_prefixes = 0;
    f->e = ra_engine_new(&f->cfg, f->blk, trand_next, &f->rnd, 0);
    for (int i = 0; i < RA_MAX_STALE + 6; i++) {
        char s[64];
        snprintf(s, sizeof(s), "2001:db8:%x::/64", 0x100 + i);
        struct e6_prefix px = P(s);
        ra_engine_add_stale(f->e, &px, true, true, 1000 * S + (uint64_t)i * S);
    }
    f->c.max_len = 1460;
    ra_engine_set_link(f->e, &f->link, 0);
    drive(f->e, &f->c, 1 * S);
    size_t total = 0;
    for (size_t i = 0; i < f->c.n; i++)
        total += count_opts(&f->c.s[i], E6_ND_OPT_PIO);
    assert_int_equal(total, RA_MAX_STALE);
    struct e6_prefix first = P("2001:db8:100::/64"), last = P("2001:db8:145::/64");
    assert_false(find_pio(&f->c, 0, f->c.n, &first, &fl, &v, &p));
    assert_true(find_pio(&f->c, 0, f->c.n, &last, &fl, &v, &p));
    fx_free(f);
}

static void test_stale_import(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    f->e = ra_engine_new(&f->cfg, f->blk, trand_next, &f->rnd, 0);
    struct e6_prefix old = P("2001:db8:77::/64"), cur = P("2001:db8:1::/64");
    ra_engine_add_stale(f->e, &old, true, false, 1000 * S);
    ra_engine_add_stale(f->e, &cur, true, true, 1000 * S); /* still configured */
    ra_engine_set_link(f->e, &f->link, 0);
    drive(f->e, &f->c, 1 * S);
    uint8_t fl;
    uint32_t v, p;
    assert_true(find_pio(&f->c, 0, f->c.n, &old, &fl, &v, &p));
    assert_int_equal(v, 0);
    assert_int_equal(p, 0);
    assert_int_equal(fl & (E6_ND_PIO_L | E6_ND_PIO_A), E6_ND_PIO_L);
    assert_true(find_pio(&f->c, 0, f->c.n, &cur, &fl, &v, &p));
    assert_int_equal(v, 5400);
    /* the view says how long it stays */
    struct e6_strbuf sb = E6_STRBUF_INIT;
    struct e6_json j;
    e6_json_init(&j, &sb);
    ra_engine_view(f->e, &j, E6_VIEW_TEXT, true, 400 * S);
    assert_non_null(strstr(e6_strbuf_str(&sb), "    prefix 2001:db8:77::/64 L- valid 0 preferred 0 "
                                               "(deprecated, RFC 9096: 600 s left)\n"));
    e6_strbuf_reset(&sb);
    e6_json_init(&j, &sb);
    ra_engine_view(f->e, &j, E6_VIEW_JSON, true, 400 * S);
    assert_non_null(strstr(e6_strbuf_str(&sb), "\"stale\":true,\"stale_left_ms\":600000"));
    e6_strbuf_free(&sb);
    /* after its time: gone */
    drive(f->e, &f->c, 1000 * S);
    cap_clear(&f->c);
    ra_engine_on_rs(f->e, &in6addr_any, 1000 * S);
    /* the answer: at most the 3 s floor plus 0.5 s away */
    drive(f->e, &f->c, 1004 * S);
    assert_true(f->c.n >= 1);
    assert_false(find_pio(&f->c, 0, f->c.n, &old, &fl, &v, &p));
    fx_free(f);

    /* an imported deadline beyond ND_VALID_LIMIT is cut to it */
    f = fx_new();
    f->e = ra_engine_new(&f->cfg, f->blk, trand_next, &f->rnd, 0);
    ra_engine_add_stale(f->e, &old, true, true, 86400 * S);
    ra_engine_set_link(f->e, &f->link, 100 * S);
    drive(f->e, &f->c, (100 + RA_ND_VALID_LIMIT) * S - 5 * S);
    cap_clear(&f->c);
    ra_engine_on_rs(f->e, &in6addr_any, f->c.now);
    drive(f->e, &f->c, (100 + RA_ND_VALID_LIMIT) * S - 1);
    assert_true(f->c.n >= 1);
    assert_true(find_pio(&f->c, 0, f->c.n, &old, &fl, &v, &p));
    drive(f->e, &f->c, (100 + RA_ND_VALID_LIMIT) * S);
    cap_clear(&f->c);
    ra_engine_on_rs(f->e, &in6addr_any, f->c.now);
    drive(f->e, &f->c, (100 + RA_ND_VALID_LIMIT) * S + 5 * S);
    assert_true(f->c.n >= 1);
    assert_false(find_pio(&f->c, 0, f->c.n, &old, &fl, &v, &p));
    fx_free(f);
}

/* ---- splitting (RFC 6980) ------------------------------------------------------------ */

static void test_split(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    f->cfg.n_prefixes = 0;
    for (int i = 0; i < 40; i++) {
        char s[64];
        snprintf(s, sizeof(s), "2001:db8:%x::/64", 0x1000 + i);
        add_prefix(f, s, 5400, 2700, false);
    }
    fill_options(f);
    f->link.mtu = 1280;
    f->c.max_len = 1240;
    fx_start(f);
    drive(f->e, &f->c, 1 * S);
    assert_true(f->c.n >= 2);
    unsigned pio = 0, rdnss = 0, dnssl = 0, rio = 0, pref64 = 0, captive = 0;
    for (size_t i = 0; i < f->c.n; i++) {
        const struct sent *s = &f->c.s[i];
        assert_int_equal(s->t, f->c.s[0].t); /* one RA, several packets */
        assert_true(s->len <= 1240);
        /* each a whole RA: header, SLLA and MTU in every one */
        assert_int_equal(count_opts(s, E6_ND_OPT_SLLA), 1);
        assert_int_equal(count_opts(s, E6_ND_OPT_MTU), 1);
        struct e6_nd_msg *m = parse_at(f, i);
        assert_int_equal(m->ra.router_lifetime, 1800);
        free(m);
        pio += count_opts(s, E6_ND_OPT_PIO);
        rdnss += count_opts(s, E6_ND_OPT_RDNSS);
        dnssl += count_opts(s, E6_ND_OPT_DNSSL);
        rio += count_opts(s, E6_ND_OPT_RIO);
        pref64 += count_opts(s, E6_ND_OPT_PREF64);
        captive += count_opts(s, E6_ND_OPT_CAPTIVE);
    }
    assert_int_equal(pio, 40);
    assert_int_equal(rdnss, 1);
    assert_int_equal(dnssl, 1);
    assert_int_equal(rio, 1);
    assert_int_equal(pref64, 1);
    assert_int_equal(captive, 1);
    for (int i = 0; i < 40; i++) {
        uint8_t fl;
        uint32_t v, p;
        unsigned hits = 0;
        for (size_t k = 0; k < f->c.n; k++)
            hits += find_pio(&f->c, k, k + 1, &f->prefixes[i].prefix, &fl, &v, &p);
        assert_int_equal(hits, 1);
    }
    assert_int_equal(cnt(f, RA_C_SENT_SPLIT_EXTRA), f->c.n - 1);
    /* a solicited answer carries all the parts too */
    size_t parts = f->c.n;
    drive(f->e, &f->c, 100 * S);
    cap_clear(&f->c);
    ra_engine_on_rs(f->e, AP("fe80::2"), 100 * S);
    drive(f->e, &f->c, 101 * S);
    assert_int_equal(f->c.n, parts);
    for (size_t i = 0; i < f->c.n; i++)
        assert_true(e6_addr_equal(&f->c.s[i].dst, AP("fe80::2")));
    fx_free(f);

    /* a large RDNSS list is cut into several options, never fragmented */
    f = fx_new();
    static struct in6_addr many[120];
    for (int i = 0; i < 120; i++) {
        many[i] = A("2001:db8:53::");
        many[i].s6_addr[15] = (uint8_t)(i + 1);
    }
    f->rdnss[0].servers = many;
    f->rdnss[0].n_servers = 120;
    f->rdnss[0].lifetime = 1800;
    f->cfg.rdnss = f->rdnss;
    f->cfg.n_rdnss = 1;
    f->link.mtu = 1280;
    f->c.max_len = 1240;
    fx_start(f);
    drive(f->e, &f->c, 1 * S);
    assert_true(f->c.n >= 2);
    unsigned servers = 0;
    for (size_t i = 0; i < f->c.n; i++) {
        const struct sent *s = &f->c.s[i];
        for (size_t o = E6_ND_RA_LEN; o + 2 <= s->len && s->data[o + 1]; o += s->data[o + 1] * 8u)
            if (s->data[o] == E6_ND_OPT_RDNSS)
                servers += (s->data[o + 1] - 1u) / 2;
    }
    assert_int_equal(servers, 120);
    fx_free(f);
}

/* ---- change detection and the cache ------------------------------------------------------ */

static void test_change_restarts_burst(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    fx_start(f);
    drive(f->e, &f->c, 3000 * S);
    /* nothing changed: the same cached packet every time */
    size_t n = f->c.n;
    assert_true(n >= 5);
    assert_ptr_equal(f->c.s[n - 1].ptr, f->c.s[n - 2].ptr);
    assert_memory_equal(f->c.s[n - 1].data, f->c.s[n - 2].data, f->c.s[n - 1].len);

    /* the same config again, or the same link: no new burst */
    uint64_t next = ra_engine_next(f->e);
    struct conf_interface same = f->cfg;
    ra_engine_set_config(f->e, &same, 3000 * S);
    ra_engine_set_link(f->e, &f->link, 3000 * S);
    assert_int_equal(ra_engine_next(f->e), next);

    /* a real change: a fresh burst of 3 at <= 16 s */
    uint64_t last = f->c.s[f->c.n - 1].t;
    uint64_t soonest = last + 3000 > 3000 * S + 500 ? last + 3000 : 3000 * S + 500;
    struct conf_interface c1 = f->cfg;
    c1.cur_hop_limit = 10;
    ra_engine_set_config(f->e, &c1, 3000 * S);
    cap_clear(&f->c);
    drive(f->e, &f->c, 3100 * S);
    uint64_t t[10];
    size_t k = mcast_times(&f->c, t, 10);
    assert_true(k >= 3);
    assert_true(t[0] >= 3000 * S && t[0] <= soonest);
    assert_true(t[1] - t[0] <= 16000 && t[2] - t[1] <= 16000);
    struct e6_nd_msg *m = parse_at(f, 0);
    assert_int_equal(m->ra.cur_hop_limit, 10);
    free(m);

    /* a new link-local is a change too (RFC 4861 6.2.8) */
    drive(f->e, &f->c, 5000 * S);
    last = f->c.s[f->c.n - 1].t;
    soonest = last + 3000 > 5000 * S + 500 ? last + 3000 : 5000 * S + 500;
    struct ra_link l = f->link;
    l.linklocal = A("fe80::99");
    f->c.src = l.linklocal;
    ra_engine_set_link(f->e, &l, 5000 * S);
    assert_true(ra_engine_next(f->e) <= soonest);
    cap_clear(&f->c);
    drive(f->e, &f->c, 5004 * S);
    assert_int_equal(f->c.n, 1); /* parsed with the new source by emit() */
    fx_free(f);
}

/* ---- RFC 4861 6.2.7 --------------------------------------------------------------------- */

static void test_consistency(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    f->cfg.reachable_time = 30000;
    add_prefix(f, "2001:db8:2::/64", 5400, 2700, true);
    fx_start(f);
    drive(f->e, &f->c, 1 * S);
    struct e6_nd_msg *ours = parse_at(f, 0);
    struct in6_addr other = A("fe80::7");

    /* a copy of our own RA from another router: consistent */
    struct e6_strbuf sb = E6_STRBUF_INIT;
    ra_engine_on_ra(f->e, &other, ours, &sb, 1 * S);
    assert_int_equal(sb.len, 0);
    assert_int_equal(cnt(f, RA_C_RA_INCONSISTENT), 0);

    /* decrementing: 5 s later and 5 s shorter is still consistent */
    struct e6_nd_msg *m = msg_new();
    *m = *ours;
    m->pio[1].valid -= 5;
    m->pio[1].preferred -= 5;
    ra_engine_on_ra(f->e, &other, m, &sb, 6 * S);
    assert_int_equal(sb.len, 0);

    *m = *ours;
    m->ra.cur_hop_limit = 32;
    m->ra.flags |= E6_ND_RA_M;
    m->ra.reachable = 10000;
    m->ra.retrans = 500; /* ours is 0 = unspecified: not compared */
    m->mtu = 1400;
    m->pio[0].valid = 86400;
    m->pio[1].preferred = 100;
    ra_engine_on_ra(f->e, &other, m, &sb, 1 * S);
    const char *r = e6_strbuf_str(&sb);
    assert_non_null(strstr(r, "cur hop limit 32 vs ours 64 from fe80::7\n"));
    assert_non_null(strstr(r, "managed flag 1 vs ours 0 from fe80::7\n"));
    assert_non_null(strstr(r, "reachable time 10000 vs ours 30000"));
    assert_null(strstr(r, "retrans"));
    assert_non_null(strstr(r, "mtu 1400 vs ours 1500"));
    assert_non_null(strstr(r, "prefix 2001:db8:1::/64 valid lifetime 86400 vs ours 5400"));
    /* decrementing: our RA went out at 0, so 1 s later ours is 2699 */
    assert_non_null(strstr(r, "prefix 2001:db8:2::/64 preferred lifetime 100 vs ours 2699"));
    assert_int_equal(cnt(f, RA_C_RA_INCONSISTENT), 6);
    assert_int_equal(cnt(f, RA_C_RA_RECEIVED), 3);

    /* our own RA looped back: not compared; a NULL report only counts */
    ra_engine_on_ra(f->e, &f->link.linklocal, m, NULL, 1 * S);
    assert_int_equal(cnt(f, RA_C_RA_INCONSISTENT), 6);
    ra_engine_on_ra(f->e, &other, m, NULL, 1 * S);
    assert_int_equal(cnt(f, RA_C_RA_INCONSISTENT), 12);
    e6_strbuf_free(&sb);
    free(m);
    free(ours);
    fx_free(f);
}

/* ---- the view ------------------------------------------------------------------------------ */

static void test_view(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    fill_options(f);
    fx_start(f);
    drive(f->e, &f->c, 1 * S);
    struct e6_strbuf sb = E6_STRBUF_INIT;
    struct e6_json j;
    e6_json_init(&j, &sb);
    ra_engine_view(f->e, &j, E6_VIEW_JSON, true, 1 * S);
    assert_true(e6_json_done(&j));
    const char *s = e6_strbuf_str(&sb);
    assert_non_null(strstr(s, "\"state\":\"advertising\""));
    assert_non_null(strstr(s, "\"next_ra_ms\":"));
    assert_non_null(strstr(s, "\"sent_periodic\":1"));
    assert_non_null(strstr(s, "\"prefix\":\"2001:db8:1::/64\""));
    assert_non_null(strstr(s, "\"router_lifetime\":1800"));
    assert_non_null(strstr(s, "\"captive_portal\":\"https://portal.example.com/api\""));
    assert_non_null(strstr(s, "\"source_lladdr\":\"00:00:5e:00:53:01\""));

    e6_strbuf_reset(&sb);
    e6_json_init(&j, &sb);
    ra_engine_view(f->e, &j, E6_VIEW_JSON, false, 1 * S);
    assert_true(e6_json_done(&j));
    assert_null(strstr(e6_strbuf_str(&sb), "\"ra\""));

    e6_strbuf_reset(&sb);
    e6_json_init(&j, &sb);
    ra_engine_view(f->e, &j, E6_VIEW_TEXT, true, 1 * S);
    s = e6_strbuf_str(&sb);
    assert_non_null(strstr(s, "interface lan0: advertising, next RA in"));
    assert_non_null(strstr(s, "    prefix 2001:db8:1::/64 LA valid 5400 preferred 2700\n"));
    assert_non_null(strstr(s, "    route 2001:db8:100::/48 preference high lifetime 1800\n"));
    assert_non_null(strstr(s, "    rdnss 2001:db8:1::53 lifetime 1800\n"));
    assert_non_null(strstr(s, "    dnssl example.com lifetime 1800\n"));
    assert_non_null(strstr(s, "    mtu 1500\n"));

    /* stopped: no next RA */
    ra_engine_stop(f->e, false, 2 * S);
    e6_strbuf_reset(&sb);
    e6_json_init(&j, &sb);
    ra_engine_view(f->e, &j, E6_VIEW_JSON, false, 2 * S);
    assert_non_null(strstr(e6_strbuf_str(&sb), "\"next_ra_ms\":null"));
    assert_non_null(strstr(e6_strbuf_str(&sb), "\"state\":\"stopped\""));
    e6_strbuf_free(&sb);
    fx_free(f);
}

/* ---- everything at once, at random ---------------------------------------------------------- */

/*
 * Random inputs in random order for a simulated day: every packet must
 * parse as a valid RA within the MTU (emit() checks), multicast RAs of any
 * kind stay 3 s apart, run() leaves nothing due, and no RA goes out while
 * the engine cannot advertise.
 */
static void test_random_inputs(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    fill_options(f);
    add_prefix(f, NULL, 5400, 2700, false);
    add_prefix(f, "2001:db8:3::/64", 7200, 3600, true);
    struct conf_interface cfgs[4];
    for (int i = 0; i < 4; i++)
        cfgs[i] = f->cfg;
    cfgs[1].n_prefixes = 1;
    cfgs[2].advertise = false;
    cfgs[3].mtu_mode = CONF_MTU_OFF;
    cfgs[3].withdraw_on_exit = true;
    cfgs[3].max_interval = 4;
    cfgs[3].min_interval = 3;
    struct trand r = {.s = 12345};
    f->e = ra_engine_new(&cfgs[0], f->blk, trand_next, &f->rnd, 0);
    uint64_t now = 0, last_mcast = 0;
    bool any_mcast = false, stopped = false;
    size_t checked = 0;
    for (int step = 0; step < 20000; step++) {
        now += trand_next(&r) % 8000;
        /* run what became due on the way */
        for (;;) {
            uint64_t next = ra_engine_next(f->e);
            if (next > now)
                break;
            uint64_t at = next < f->c.now ? f->c.now : next;
            f->c.now = at;
            ra_engine_run(f->e, at, emit, &f->c);
            assert_true(ra_engine_next(f->e) > at);
        }
        f->c.now = now;
        for (; checked < f->c.n; checked++) {
            const struct sent *s = &f->c.s[checked];
            if (!is_mcast(s))
                continue;
            if (any_mcast && s->t != last_mcast)
                assert_true(s->t - last_mcast >= RA_MIN_DELAY_BETWEEN_RAS_MS);
            any_mcast = true;
            last_mcast = s->t;
        }
        if (f->c.n > 4096) {
            cap_clear(&f->c);
            checked = 0;
        }
        uint32_t what = trand_next(&r) % 100;
        if (what < 50) {
            struct in6_addr src = in6addr_any;
            if (what & 1) {
                src = A("fe80::1:0:0");
                src.s6_addr[15] = (uint8_t)(trand_next(&r) % 40);
            }
            ra_engine_on_rs(f->e, &src, now);
        } else if (what < 70) {
            struct ra_link l = f->link;
            uint32_t k = trand_next(&r);
            l.up = k % 7 != 0;
            l.present = k % 11 != 0;
            l.have_linklocal = k % 13 != 0;
            l.forwarding = k % 3 != 0;
            l.mtu = k % 5 == 0 ? 1280 : 1500;
            l.lladdr_len = k % 2 ? 6 : 0;
            if (k % 4 == 0)
                add_addr(&l, "2001:db8:a::1", 64, 600 + k % 9000, 300);
            if (k % 6 == 0)
                add_addr(&l, "2001:db8:b::1", 48, CONF_LIFETIME_INFINITY, 0);
            f->c.max_len = l.mtu - 40;
            ra_engine_set_link(f->e, &l, now);
        } else if (what < 80) {
            ra_engine_set_config(f->e, &cfgs[trand_next(&r) % 4], now);
        } else if (what < 85) {
            struct e6_prefix p = P("2001:db8:77::/64");
            p.addr.s6_addr[7] = (uint8_t)(trand_next(&r) % 100);
            ra_engine_add_stale(f->e, &p, true, true, now + trand_next(&r) % (6000 * S));
        } else if (what < 95) {
            struct e6_strbuf sb = E6_STRBUF_INIT;
            struct e6_json j;
            e6_json_init(&j, &sb);
            ra_engine_view(f->e, &j, what & 1 ? E6_VIEW_JSON : E6_VIEW_TEXT, true, now);
            if (what & 1)
                assert_true(e6_json_done(&j));
            e6_strbuf_free(&sb);
        } else if (what < 96 && !stopped && step > 15000) {
            ra_engine_stop(f->e, true, now);
            stopped = true;
        }
        enum ra_state st = ra_engine_state(f->e);
        if (st != RA_ST_ADVERTISING && st != RA_ST_STOPPING)
            assert_true(ra_engine_next(f->e) == NEVER);
    }
    assert_true(cnt(f, RA_C_SENT_PERIODIC) > 100);
    assert_true(cnt(f, RA_C_SENT_SOLICITED_UNICAST) > 100);
    assert_true(cnt(f, RA_C_SENT_SOLICITED_MCAST) > 100);
    assert_true(cnt(f, RA_C_SENT_FINAL) > 10);
    assert_true(cnt(f, RA_C_FORWARDING_OFF) > 10);
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_states),
        cmocka_unit_test(test_initial_burst_then_interval),
        cmocka_unit_test(test_rs_random_delay),
        cmocka_unit_test(test_unicast_and_multicast_answers),
        cmocka_unit_test(test_coalescing),
        cmocka_unit_test(test_floor_under_rs_flood),
        cmocka_unit_test(test_multicast_answer_respects_floor),
        cmocka_unit_test(test_unsolicited_floor_and_early_periodic),
        cmocka_unit_test(test_final_ras),
        cmocka_unit_test(test_restart_sends_nothing),
        cmocka_unit_test(test_advertise_off_and_link_gone),
        cmocka_unit_test(test_header_and_forwarding),
        cmocka_unit_test(test_slla),
        cmocka_unit_test(test_mtu_option),
        cmocka_unit_test(test_all_options),
        cmocka_unit_test(test_decrement),
        cmocka_unit_test(test_auto_prefix),
        cmocka_unit_test(test_renumbering),
        cmocka_unit_test(test_renumbering_link_and_bounds),
        cmocka_unit_test(test_stale_import),
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_change_restarts_burst),
        cmocka_unit_test(test_consistency),
        cmocka_unit_test(test_view),
        cmocka_unit_test(test_random_inputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
