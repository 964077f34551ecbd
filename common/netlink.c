/*
 * common/netlink: rtnetlink for edge6d (see netlink.h). libnl-3 owns the
 * sockets and attribute validation, libnl-route-3 is the codec: messages
 * are parsed into rtnl_* objects and requests are built from them. The
 * state itself lives in our own tables and not in libnl caches, for two
 * reasons: the libnl route cache merges a single-nexthop IPv6 NEWROUTE into
 * the route it replaces (so "ip -6 route replace ... via B" leaves A and B
 * as ECMP nexthops in the cache), and engines get plain structs with no
 * libnl type in their API.
 *
 * We read datagrams ourselves rather than through nl_recvmsgs() so that
 * ENOBUFS (events lost) is told apart from a failed allocation, kernel
 * errors keep their errno, and datagrams not sent by the kernel are dropped.
 */
#include "config.h"

#include <net/if.h> /* before any <linux/if.h> that libnl pulls in */

#include "common/netlink.h"

#include <errno.h>
#include <linux/if_arp.h>
#include <linux/neighbour.h>
#include <linux/netconf.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <netlink/addr.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/neighbour.h>
#include <netlink/route/netconf.h>
#include <netlink/route/nexthop.h>
#include <netlink/route/route.h>
#include <netlink/socket.h>

#include "common/log.h"

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif
#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif

#define EV_RCVBUF_DEFAULT (4 * 1024 * 1024)
#define RX_BUF_INITIAL    (64 * 1024)
#define RX_BUF_MAX        (4 * 1024 * 1024)
#define EV_BATCH          256     /* datagrams per e6_nl_process() call */
#define DRAIN_MAX         1000000 /* datagrams thrown away at most before a resync */
#define DUMP_TRIES        5       /* a dump interrupted by changes is retried */
#define REQ_TIMEOUT_S     5
#define LFT_SLACK_MS      2000 /* lifetimes that moved less than this did not change */
#define MAX_SUBS          16

_Static_assert(E6_NL_IFNAMSIZ == IFNAMSIZ, "E6_NL_IFNAMSIZ must be IFNAMSIZ");

enum { K_LINK, K_ADDR, K_ROUTE, K_NETCONF, K_COUNT };

/* an address as cached: lifetimes as monotonic deadlines, so they count down */
struct addr_ent {
    struct e6_nl_addr a; /* preferred_lft / valid_lft unused here */
    uint64_t pref_until; /* ms, UINT64_MAX = forever */
    uint64_t valid_until;
};

/*
 * An array of fixed-size entries with a chained hash index on the entry's
 * key (link ifindex; address ifindex+address; route table+dst+src+metric;
 * netconf ifindex), so events and resyncs cost O(1) per object even with a
 * large routing table. Removal moves the last entry into the hole.
 */
struct table {
    uint8_t *v;
    uint32_t *next; /* chain: index + 1, 0 ends */
    uint32_t *hash;
    uint32_t *bucket; /* index + 1 of the chain head */
    size_t n, cap, nbuckets, esize;
    int kind;
};

struct sub {
    unsigned mask;
    e6_nl_cb cb;
    void *arg;
};

struct rxbuf {
    uint8_t *p;
    size_t len;
};

struct e6_nl {
    struct nl_sock *ev; /* subscribed, non-blocking */
    struct nl_sock *rq; /* requests and dumps, blocking with a timeout */
    uint32_t rq_port;
    uint32_t seq;
    struct rxbuf evbuf, rqbuf;
    struct table tab[K_COUNT];
    struct sub subs[MAX_SUBS];
    bool need_resync;
    bool opened;
    struct e6_nl_stats stats;
    char errmsg[256];
};

static const unsigned kind_bit[K_COUNT] = {E6_NL_LINK, E6_NL_ADDR, E6_NL_ROUTE, E6_NL_NETCONF};
static const size_t kind_size[K_COUNT] = {sizeof(struct e6_nl_link), sizeof(struct addr_ent),
                                          sizeof(struct e6_nl_route), sizeof(struct e6_nl_netconf)};

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* libnl's own error codes for the few libnl calls whose errno we cannot see */
static int nlerr_errno(int nlerr)
{
    switch (nlerr < 0 ? -nlerr : nlerr) {
    case 0:
        return 0;
    case NLE_NOMEM:
        return -ENOMEM;
    case NLE_PERM:
        return -EPERM;
    case NLE_NOACCESS:
        return -EACCES;
    case NLE_AGAIN:
        return -EAGAIN;
    case NLE_BAD_SOCK:
        return -EBADF;
    case NLE_MSGSIZE:
        return -EMSGSIZE;
    case NLE_OPNOTSUPP:
        return -EOPNOTSUPP;
    case NLE_PROTO_MISMATCH:
        return -EPROTONOSUPPORT;
    case NLE_AF_NOSUPPORT:
        return -EAFNOSUPPORT;
    case NLE_INVAL:
    case NLE_MISSING_ATTR:
    case NLE_AF_MISMATCH:
    case NLE_RANGE:
        return -EINVAL;
    default:
        return -EIO;
    }
}

/* ---- keyed tables ---------------------------------------------------- */

static uint32_t fnv(uint32_t h, const void *p, size_t len)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < len; i++) {
        h ^= b[i];
        h *= 16777619u;
    }
    return h;
}

/*
 * Route identity. The kernel keeps several IPv6 routes with the same
 * table, destination, source and metric: one per device for on-link
 * prefixes (fe80::/64 on every link), one per router for RA default
 * routes, and at most one ECMP group of gateway routes. So a route is
 * known by that "base" plus its first nexthop, nexthops being kept in a
 * canonical order (ifindex, gateway). The hash covers the base only, so
 * every route sharing a base is on one chain.
 */
static bool route_same_base(const struct e6_nl_route *a, const struct e6_nl_route *b)
{
    return a->table == b->table && a->metric == b->metric && e6_prefix_equal(&a->dst, &b->dst) &&
           e6_prefix_equal(&a->src, &b->src);
}

static uint32_t key_hash(int kind, const void *e)
{
    uint32_t h = 2166136261u;
    switch (kind) {
    case K_LINK:
        return fnv(h, &((const struct e6_nl_link *)e)->ifindex, sizeof(int));
    case K_ADDR: {
        const struct e6_nl_addr *a = &((const struct addr_ent *)e)->a;
        h = fnv(h, &a->ifindex, sizeof a->ifindex);
        return fnv(h, &a->addr, sizeof a->addr);
    }
    case K_ROUTE: {
        const struct e6_nl_route *r = e;
        h = fnv(h, &r->table, sizeof r->table);
        h = fnv(h, &r->dst.addr, sizeof r->dst.addr);
        h = fnv(h, &r->dst.len, 1);
        h = fnv(h, &r->src.addr, sizeof r->src.addr);
        h = fnv(h, &r->src.len, 1);
        return fnv(h, &r->metric, sizeof r->metric);
    }
    default:
        return fnv(h, &((const struct e6_nl_netconf *)e)->ifindex, sizeof(int));
    }
}

static bool same_key(int kind, const void *x, const void *y)
{
    switch (kind) {
    case K_LINK:
        return ((const struct e6_nl_link *)x)->ifindex == ((const struct e6_nl_link *)y)->ifindex;
    case K_ADDR: {
        const struct e6_nl_addr *a = &((const struct addr_ent *)x)->a;
        const struct e6_nl_addr *b = &((const struct addr_ent *)y)->a;
        return a->ifindex == b->ifindex && e6_addr_equal(&a->addr, &b->addr);
    }
    case K_ROUTE: {
        const struct e6_nl_route *a = x, *b = y;
        return route_same_base(a, b) && a->nh[0].ifindex == b->nh[0].ifindex &&
               e6_addr_equal(&a->nh[0].gateway, &b->nh[0].gateway);
    }
    default:
        return ((const struct e6_nl_netconf *)x)->ifindex ==
               ((const struct e6_nl_netconf *)y)->ifindex;
    }
}

static bool lft_close(uint64_t a, uint64_t b)
{
    if (a == UINT64_MAX || b == UINT64_MAX)
        return a == b;
    return (a > b ? a - b : b - a) <= LFT_SLACK_MS;
}

/* Entries are always built from zeroed memory, so memcmp is exact. */
static bool same_val(int kind, const void *x, const void *y)
{
    if (kind == K_ADDR) {
        const struct addr_ent *a = x, *b = y;
        return memcmp(&a->a, &b->a, sizeof a->a) == 0 && lft_close(a->pref_until, b->pref_until) &&
               lft_close(a->valid_until, b->valid_until);
    }
    return memcmp(x, y, kind_size[kind]) == 0;
}

static void tab_init(struct table *t, int kind)
{
    memset(t, 0, sizeof *t);
    t->kind = kind;
    t->esize = kind_size[kind];
}

static void tab_free(struct table *t)
{
    free(t->v);
    free(t->next);
    free(t->hash);
    free(t->bucket);
    tab_init(t, t->kind);
}

static void *tab_at(const struct table *t, size_t i)
{
    return t->v + i * t->esize;
}

static void tab_link(struct table *t, size_t i)
{
    uint32_t *head = &t->bucket[t->hash[i] & (t->nbuckets - 1)];
    t->next[i] = *head;
    *head = (uint32_t)(i + 1);
}

static void tab_unlink(struct table *t, size_t i)
{
    uint32_t *pp = &t->bucket[t->hash[i] & (t->nbuckets - 1)];
    while (*pp && *pp != i + 1)
        pp = &t->next[*pp - 1];
    if (*pp)
        *pp = t->next[i];
}

static size_t tab_find(const struct table *t, const void *key)
{
    if (t->n == 0)
        return SIZE_MAX;
    uint32_t h = key_hash(t->kind, key);
    for (uint32_t i = t->bucket[h & (t->nbuckets - 1)]; i; i = t->next[i - 1]) {
        if (t->hash[i - 1] == h && same_key(t->kind, tab_at(t, i - 1), key))
            return i - 1;
    }
    return SIZE_MAX;
}

/* Appends a copy of e (whose key must not be present). Returns its index or SIZE_MAX. */
static size_t tab_add(struct table *t, const void *e)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        if (cap > UINT32_MAX - 1)
            return SIZE_MAX;
        uint8_t *v = realloc(t->v, cap * t->esize);
        if (!v)
            return SIZE_MAX;
        t->v = v;
        uint32_t *nx = realloc(t->next, cap * sizeof *nx);
        if (!nx)
            return SIZE_MAX;
        t->next = nx;
        uint32_t *hs = realloc(t->hash, cap * sizeof *hs);
        if (!hs)
            return SIZE_MAX;
        t->hash = hs;
        t->cap = cap;
    }
    if (t->n >= t->nbuckets) {
        size_t nb = t->nbuckets ? t->nbuckets * 2 : 64;
        uint32_t *b = calloc(nb, sizeof *b);
        if (!b)
            return SIZE_MAX;
        free(t->bucket);
        t->bucket = b;
        t->nbuckets = nb;
        for (size_t i = 0; i < t->n; i++)
            tab_link(t, i);
    }
    size_t i = t->n++;
    memcpy(tab_at(t, i), e, t->esize);
    t->hash[i] = key_hash(t->kind, e);
    tab_link(t, i);
    return i;
}

static void tab_del(struct table *t, size_t i)
{
    size_t last = t->n - 1;
    tab_unlink(t, i);
    if (i != last) {
        tab_unlink(t, last);
        memcpy(tab_at(t, i), tab_at(t, last), t->esize);
        t->hash[i] = t->hash[last];
        tab_link(t, i);
    }
    t->n--;
}

/* ---- events to subscribers ------------------------------------------ */

static void addr_export(const struct addr_ent *e, uint64_t now, struct e6_nl_addr *out)
{
    memcpy(out, &e->a, sizeof *out);
    out->preferred_lft = e->pref_until == UINT64_MAX ? E6_NL_LFT_INFINITE
                         : e->pref_until > now       ? (uint32_t)((e->pref_until - now) / 1000)
                                                     : 0;
    out->valid_lft = e->valid_until == UINT64_MAX ? E6_NL_LFT_INFINITE
                     : e->valid_until > now       ? (uint32_t)((e->valid_until - now) / 1000)
                                                  : 0;
}

static int ent_ifindex(int kind, const void *e)
{
    switch (kind) {
    case K_LINK:
        return ((const struct e6_nl_link *)e)->ifindex;
    case K_ADDR:
        return ((const struct addr_ent *)e)->a.ifindex;
    case K_ROUTE: {
        const struct e6_nl_route *r = e;
        return r->nhcount ? r->nh[0].ifindex : 0;
    }
    default:
        return ((const struct e6_nl_netconf *)e)->ifindex;
    }
}

static void dispatch(struct e6_nl *nl, const struct e6_nl_event *ev)
{
    for (int i = 0; i < MAX_SUBS; i++) {
        struct sub s = nl->subs[i]; /* the callback may unsubscribe itself */
        if (s.cb && (s.mask & (unsigned)ev->kind))
            s.cb(ev, s.arg);
    }
}

static bool has_subscriber(const struct e6_nl *nl, int kind)
{
    for (int i = 0; i < MAX_SUBS; i++)
        if (nl->subs[i].cb && (nl->subs[i].mask & kind_bit[kind]))
            return true;
    return false;
}

/* old / cur point at cache entries (or copies of removed ones) of that kind */
static void emit(struct e6_nl *nl, int kind, enum e6_nl_action act, const void *old,
                 const void *cur)
{
    if (!nl->opened || !has_subscriber(nl, kind))
        return;
    struct e6_nl_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = (enum e6_nl_kind)kind_bit[kind];
    ev.action = act;
    ev.ifindex = ent_ifindex(kind, cur ? cur : old);
    struct e6_nl_addr ao, ac;
    switch (kind) {
    case K_LINK:
        ev.u.link.old = old;
        ev.u.link.cur = cur;
        break;
    case K_ADDR: {
        uint64_t now = now_ms();
        if (old) {
            addr_export(old, now, &ao);
            ev.u.addr.old = &ao;
        }
        if (cur) {
            addr_export(cur, now, &ac);
            ev.u.addr.cur = &ac;
        }
        break;
    }
    case K_ROUTE:
        ev.u.route.old = old;
        ev.u.route.cur = cur;
        break;
    default:
        ev.u.netconf.old = old;
        ev.u.netconf.cur = cur;
        break;
    }
    dispatch(nl, &ev);
}

/* ---- applying changes to the caches ---------------------------------- */

/* storage big enough for any entry kind, for copies of old values */
union any_ent {
    struct e6_nl_link link;
    struct addr_ent addr;
    struct e6_nl_route route;
    struct e6_nl_netconf netconf;
};

static void want_resync(struct e6_nl *nl, const char *why)
{
    if (!nl->need_resync)
        e6_info("netlink: %s; resynchronising", why);
    nl->need_resync = true;
}

static void cache_upsert(struct e6_nl *nl, int kind, const void *e)
{
    struct table *t = &nl->tab[kind];
    size_t i = tab_find(t, e);
    if (i == SIZE_MAX) {
        i = tab_add(t, e);
        if (i == SIZE_MAX) {
            want_resync(nl, "out of memory caching an object");
            return;
        }
        emit(nl, kind, E6_NL_NEW, NULL, tab_at(t, i));
        return;
    }
    if (same_val(kind, tab_at(t, i), e)) {
        /* lifetimes refreshed by less than the slack: keep them exact, say nothing */
        memcpy(tab_at(t, i), e, t->esize);
        return;
    }
    union any_ent old;
    memcpy(&old, tab_at(t, i), t->esize);
    memcpy(tab_at(t, i), e, t->esize);
    emit(nl, kind, E6_NL_CHANGE, &old, tab_at(t, i));
}

static void cache_remove_at(struct e6_nl *nl, int kind, size_t i)
{
    struct table *t = &nl->tab[kind];
    union any_ent old;
    memcpy(&old, tab_at(t, i), t->esize);
    tab_del(t, i);
    emit(nl, kind, E6_NL_DEL, &old, NULL);
}

static void cache_remove(struct e6_nl *nl, int kind, const void *key)
{
    size_t i = tab_find(&nl->tab[kind], key);
    if (i != SIZE_MAX)
        cache_remove_at(nl, kind, i);
}

static bool nh_equal(const struct e6_nl_nexthop *a, const struct e6_nl_nexthop *b)
{
    return a->ifindex == b->ifindex && e6_addr_equal(&a->gateway, &b->gateway);
}

static bool route_has_nexthop(const struct e6_nl_route *r, const struct e6_nl_nexthop *nh)
{
    for (unsigned i = 0; i < r->nhcount; i++)
        if (nh_equal(&r->nh[i], nh))
            return true;
    return false;
}

/* every nexthop of part is in whole */
static bool route_contains(const struct e6_nl_route *whole, const struct e6_nl_route *part)
{
    for (unsigned i = 0; i < part->nhcount; i++)
        if (!route_has_nexthop(whole, &part->nh[i]))
            return false;
    return true;
}

static bool route_shares_nexthop(const struct e6_nl_route *a, const struct e6_nl_route *b)
{
    for (unsigned i = 0; i < b->nhcount; i++)
        if (route_has_nexthop(a, &b->nh[i]))
            return true;
    return false;
}

static bool route_has_gateway(const struct e6_nl_route *r)
{
    for (unsigned i = 0; i < r->nhcount; i++)
        if (!e6_addr_is_unspecified(&r->nh[i].gateway))
            return true;
    return false;
}

/* Drops the nexthops of r found in gone (or, without gone, those on ifindex). */
static unsigned route_drop_nexthops(struct e6_nl_route *r, const struct e6_nl_route *gone,
                                    int ifindex)
{
    unsigned k = 0;
    for (unsigned i = 0; i < r->nhcount; i++) {
        bool drop = gone ? route_has_nexthop(gone, &r->nh[i]) : r->nh[i].ifindex == ifindex;
        if (!drop)
            r->nh[k++] = r->nh[i];
    }
    memset(&r->nh[k], 0, (r->nhcount - k) * sizeof r->nh[0]);
    r->nhcount = (uint8_t)k;
    if (k == 1)
        r->nh[0].weight = 1; /* a lone survivor is listed as a plain route */
    return k;
}

/*
 * Walks the cached routes sharing r's base (table, dst, src, metric):
 * start with *cur = 0; returns the next index or SIZE_MAX at the end.
 * The table must not change during the walk.
 */
static size_t route_base_next(const struct table *t, const struct e6_nl_route *r, uint32_t *cur)
{
    if (t->n == 0)
        return SIZE_MAX;
    uint32_t h = key_hash(K_ROUTE, r);
    uint32_t i = *cur ? t->next[*cur - 1] : t->bucket[h & (t->nbuckets - 1)];
    for (; i; i = t->next[i - 1]) {
        if (t->hash[i - 1] == h && route_same_base(tab_at(t, i - 1), r)) {
            *cur = i;
            return i - 1;
        }
    }
    return SIZE_MAX;
}

/* Replaces the route cached at i by nv, whose identity may differ. */
static void route_set(struct e6_nl *nl, size_t i, const struct e6_nl_route *nv)
{
    struct table *t = &nl->tab[K_ROUTE];
    if (same_key(K_ROUTE, tab_at(t, i), nv)) {
        if (!same_val(K_ROUTE, tab_at(t, i), nv)) {
            struct e6_nl_route old;
            memcpy(&old, tab_at(t, i), sizeof old);
            memcpy(tab_at(t, i), nv, sizeof old);
            emit(nl, K_ROUTE, E6_NL_CHANGE, &old, tab_at(t, i));
        }
        return;
    }
    if (tab_find(t, nv) != SIZE_MAX) {
        /* two cached routes would become one: no longer sure of either */
        want_resync(nl, "a route change merged two cached routes");
        cache_remove_at(nl, K_ROUTE, i);
        cache_upsert(nl, K_ROUTE, nv);
        return;
    }
    struct e6_nl_route old;
    memcpy(&old, tab_at(t, i), sizeof old);
    tab_del(t, i);
    size_t j = tab_add(t, nv);
    if (j == SIZE_MAX) {
        want_resync(nl, "out of memory caching a route");
        emit(nl, K_ROUTE, E6_NL_DEL, &old, NULL);
        return;
    }
    emit(nl, K_ROUTE, E6_NL_CHANGE, &old, tab_at(t, j));
}

static void route_remove(struct e6_nl *nl, const struct e6_nl_route *key)
{
    size_t i = tab_find(&nl->tab[K_ROUTE], key);
    if (i != SIZE_MAX)
        cache_remove_at(nl, K_ROUTE, i);
}

/*
 * RTM_NEWROUTE. A replace (NLM_F_REPLACE in the notification) took the
 * place of the first route of the same kind (gateway or on-link) at this
 * base in the kernel's list, whose order we do not know: with a single
 * candidate that is the one, with several a resync settles it (the kernel
 * may even be left holding two identical routes). Otherwise the route is
 * new, or it is an ECMP group announced whole after a sibling was added:
 * then the previous version of the group is the cached route at the base
 * that shares a nexthop with it.
 */
static void route_event_new(struct e6_nl *nl, const struct e6_nl_route *r, bool replace,
                            bool append)
{
    struct table *t = &nl->tab[K_ROUTE];
    uint32_t cur = 0;
    size_t i;
    if (replace) {
        struct e6_nl_route pick;
        unsigned same_kind = 0;
        while ((i = route_base_next(t, r, &cur)) != SIZE_MAX) {
            const struct e6_nl_route *c = tab_at(t, i);
            if (route_has_gateway(c) == route_has_gateway(r) && same_kind++ == 0)
                memcpy(&pick, c, sizeof pick);
        }
        if (same_kind == 1) {
            route_set(nl, tab_find(t, &pick), r);
            return;
        }
        if (same_kind > 1)
            want_resync(nl, "a route replace hit one of several equal routes");
        cache_upsert(nl, K_ROUTE, r);
        return;
    }
    enum { PREV_MAX = 4 };
    struct e6_nl_route prev[PREV_MAX];
    size_t np = 0;
    while ((i = route_base_next(t, r, &cur)) != SIZE_MAX) {
        const struct e6_nl_route *c = tab_at(t, i);
        if (same_key(K_ROUTE, c, r) || !route_shares_nexthop(c, r))
            continue;
        if (np == PREV_MAX) {
            want_resync(nl, "an ECMP route overlaps many cached routes");
            break;
        }
        memcpy(&prev[np++], c, sizeof prev[0]);
    }
    if (np == 1 && tab_find(t, r) == SIZE_MAX) {
        route_set(nl, tab_find(t, &prev[0]), r);
        return;
    }
    if (np == 0 && append && route_has_gateway(r) && tab_find(t, r) == SIZE_MAX) {
        /* kernels that announce an appended sibling alone: which group it joined is unsaid */
        cur = 0;
        while ((i = route_base_next(t, r, &cur)) != SIZE_MAX) {
            if (route_has_gateway(tab_at(t, i))) {
                want_resync(nl, "an ECMP sibling was announced without its group");
                break;
            }
        }
    }
    for (size_t k = 0; k < np; k++)
        route_remove(nl, &prev[k]);
    cache_upsert(nl, K_ROUTE, r);
}

/*
 * RTM_DELROUTE. Removing one ECMP sibling is announced with that nexthop
 * alone while the others stay; a message covering every nexthop of the
 * route (or a route without nexthops) removes it.
 */
static void route_event_del(struct e6_nl *nl, const struct e6_nl_route *r)
{
    struct table *t = &nl->tab[K_ROUTE];
    size_t i = tab_find(t, r);
    if (i == SIZE_MAX && r->nhcount > 0) {
        /* a sibling other than the group's first nexthop */
        uint32_t cur = 0;
        while ((i = route_base_next(t, r, &cur)) != SIZE_MAX) {
            if (route_contains(tab_at(t, i), r))
                break;
        }
    }
    if (i == SIZE_MAX)
        return;
    const struct e6_nl_route *cur = tab_at(t, i);
    if (r->nhcount == 0 || route_contains(r, cur)) {
        cache_remove_at(nl, K_ROUTE, i);
        return;
    }
    struct e6_nl_route nv;
    memcpy(&nv, cur, sizeof nv);
    if (route_drop_nexthops(&nv, r, 0) == 0)
        cache_remove_at(nl, K_ROUTE, i);
    else
        route_set(nl, i, &nv);
}

/*
 * The kernel drops the IPv6 routes of an unregistered device without
 * telling anyone (fib6_clean_all_skip_notify), so a vanished link takes
 * its routes, addresses and netconf out of the caches here.
 */
static void purge_ifindex(struct e6_nl *nl, int ifindex)
{
    struct table *t = &nl->tab[K_ADDR];
    for (size_t i = t->n; i-- > 0;) {
        if (((struct addr_ent *)tab_at(t, i))->a.ifindex == ifindex)
            cache_remove_at(nl, K_ADDR, i);
    }
    /* downwards: an entry re-keyed by route_set() goes to the end, already visited */
    t = &nl->tab[K_ROUTE];
    for (size_t i = t->n; i-- > 0;) {
        if (i >= t->n)
            continue;
        struct e6_nl_route nv;
        memcpy(&nv, tab_at(t, i), sizeof nv);
        unsigned before = nv.nhcount;
        unsigned left = route_drop_nexthops(&nv, NULL, ifindex);
        if (left == before)
            continue;
        if (left == 0)
            cache_remove_at(nl, K_ROUTE, i);
        else
            route_set(nl, i, &nv);
    }
    struct e6_nl_netconf key = {.ifindex = ifindex};
    cache_remove(nl, K_NETCONF, &key);
}

/* ---- parsing (libnl-route objects into our structs) ------------------- */

static void grab_object(struct nl_object *obj, void *arg)
{
    struct nl_object **out = arg;
    if (!*out) {
        nl_object_get(obj);
        *out = obj;
    }
}

static struct nl_object *parse_object(struct nlmsghdr *nlh)
{
    struct nl_msg *msg = nlmsg_convert(nlh);
    if (!msg)
        return NULL;
    nlmsg_set_proto(msg, NETLINK_ROUTE);
    struct nl_object *obj = NULL;
    int err = nl_msg_parse(msg, grab_object, &obj);
    nlmsg_free(msg);
    if (err < 0 && obj) {
        nl_object_put(obj);
        obj = NULL;
    }
    return obj;
}

static bool nladdr_in6(struct nl_addr *a, struct in6_addr *out)
{
    if (!a || nl_addr_get_family(a) != AF_INET6 || nl_addr_get_len(a) != sizeof *out)
        return false;
    memcpy(out, nl_addr_get_binary_addr(a), sizeof *out);
    return true;
}

/* 1: parsed into out; 0: not ours (other family ...); <0: malformed */
static int parse_link(struct nlmsghdr *nlh, struct e6_nl_link *out)
{
    if (!nlmsg_valid_hdr(nlh, sizeof(struct ifinfomsg)))
        return -EINVAL;
    const struct ifinfomsg *ifi = nlmsg_data(nlh);
    /* AF_BRIDGE messages describe bridge ports, not the link itself */
    if (ifi->ifi_family != AF_UNSPEC)
        return 0;
    struct rtnl_link *l = (struct rtnl_link *)parse_object(nlh);
    if (!l)
        return -EINVAL;
    memset(out, 0, sizeof *out);
    out->ifindex = rtnl_link_get_ifindex(l);
    const char *name = rtnl_link_get_name(l);
    if (name)
        snprintf(out->name, sizeof out->name, "%s", name);
    out->flags = rtnl_link_get_flags(l);
    out->up = out->flags & IFF_UP;
    out->running = out->flags & IFF_RUNNING;
    out->pointopoint = out->flags & IFF_POINTOPOINT;
    out->noarp = out->flags & IFF_NOARP;
    out->loopback = out->flags & IFF_LOOPBACK;
    out->mtu = rtnl_link_get_mtu(l);
    out->arptype = (uint16_t)rtnl_link_get_arptype(l);
    out->operstate = rtnl_link_get_operstate(l);
    out->master = rtnl_link_get_master(l);
    struct nl_addr *hw = rtnl_link_get_addr(l);
    if (hw && nl_addr_get_len(hw) <= E6_NL_HWADDR_MAX) {
        out->hwaddr_len = (uint8_t)nl_addr_get_len(hw);
        memcpy(out->hwaddr, nl_addr_get_binary_addr(hw), out->hwaddr_len);
    }
    rtnl_link_put(l);
    return out->ifindex > 0 ? 1 : -EINVAL;
}

static uint64_t lft_deadline(uint32_t secs, uint64_t now)
{
    return secs == E6_NL_LFT_INFINITE ? UINT64_MAX : now + (uint64_t)secs * 1000u;
}

static int parse_addr(struct nlmsghdr *nlh, struct addr_ent *out, uint64_t now)
{
    if (!nlmsg_valid_hdr(nlh, sizeof(struct ifaddrmsg)))
        return -EINVAL;
    if (((const struct ifaddrmsg *)nlmsg_data(nlh))->ifa_family != AF_INET6)
        return 0;
    struct rtnl_addr *a = (struct rtnl_addr *)parse_object(nlh);
    if (!a)
        return -EINVAL;
    memset(out, 0, sizeof *out);
    struct e6_nl_addr *v = &out->a;
    v->ifindex = rtnl_addr_get_ifindex(a);
    bool ok = nladdr_in6(rtnl_addr_get_local(a), &v->addr);
    int plen = rtnl_addr_get_prefixlen(a);
    v->prefixlen = (uint8_t)(plen >= 0 && plen <= 128 ? plen : 128);
    v->scope = (uint8_t)rtnl_addr_get_scope(a);
    v->flags = rtnl_addr_get_flags(a);
    v->tentative = v->flags & IFA_F_TENTATIVE;
    v->deprecated = v->flags & IFA_F_DEPRECATED;
    v->dadfailed = v->flags & IFA_F_DADFAILED;
    v->permanent = v->flags & IFA_F_PERMANENT;
    out->pref_until = lft_deadline(rtnl_addr_get_preferred_lifetime(a), now);
    out->valid_until = lft_deadline(rtnl_addr_get_valid_lifetime(a), now);
    rtnl_addr_put(a);
    return ok && v->ifindex > 0 ? 1 : -EINVAL;
}

static bool route_is_reject(uint8_t type)
{
    return type == RTN_UNREACHABLE || type == RTN_BLACKHOLE || type == RTN_PROHIBIT ||
           type == RTN_THROW;
}

static void prefix_from(struct nl_addr *a, struct e6_prefix *out)
{
    struct in6_addr x = IN6ADDR_ANY_INIT;
    unsigned len = 0;
    if (a) {
        if (nl_addr_get_len(a) == sizeof x)
            memcpy(&x, nl_addr_get_binary_addr(a), sizeof x);
        len = nl_addr_get_prefixlen(a);
    }
    e6_prefix_make(out, &x, len > 128 ? 128 : len);
}

struct nh_fill {
    struct e6_nl_route *r;
    bool multipath;
};

static void fill_nexthop(struct rtnl_nexthop *nh, void *arg)
{
    struct nh_fill *f = arg;
    if (f->r->nhcount >= E6_NL_MAX_NEXTHOPS)
        return;
    struct e6_nl_nexthop *o = &f->r->nh[f->r->nhcount++];
    o->ifindex = rtnl_route_nh_get_ifindex(nh);
    if (!nladdr_in6(rtnl_route_nh_get_gateway(nh), &o->gateway))
        memset(&o->gateway, 0, sizeof o->gateway);
    o->weight = f->multipath ? (uint8_t)(rtnl_route_nh_get_weight(nh) + 1) : 1;
    /* link state is computed at dump time and never notified: it is in the link cache */
    o->flags = (uint8_t)(rtnl_route_nh_get_flags(nh) & ~(unsigned)(RTNH_F_LINKDOWN | RTNH_F_DEAD));
}

static int nh_order(const void *x, const void *y)
{
    const struct e6_nl_nexthop *a = x, *b = y;
    if (a->ifindex != b->ifindex)
        return a->ifindex < b->ifindex ? -1 : 1;
    return memcmp(&a->gateway, &b->gateway, sizeof a->gateway);
}

static int parse_route(struct nlmsghdr *nlh, struct e6_nl_route *out)
{
    if (!nlmsg_valid_hdr(nlh, sizeof(struct rtmsg)))
        return -EINVAL;
    const struct rtmsg *rtm = nlmsg_data(nlh);
    /* cloned entries are the PMTU/redirect exception cache, not the FIB */
    if (rtm->rtm_family != AF_INET6 || (rtm->rtm_flags & RTM_F_CLONED))
        return 0;
    struct rtnl_route *r = (struct rtnl_route *)parse_object(nlh);
    if (!r)
        return -EINVAL;
    memset(out, 0, sizeof *out);
    out->table = rtnl_route_get_table(r);
    prefix_from(rtnl_route_get_dst(r), &out->dst);
    prefix_from(rtnl_route_get_src(r), &out->src);
    out->metric = rtnl_route_get_priority(r);
    out->type = rtnl_route_get_type(r);
    out->protocol = rtnl_route_get_protocol(r);
    out->scope = rtnl_route_get_scope(r);
    if (!route_is_reject(out->type)) {
        struct nh_fill f = {.r = out, .multipath = rtnl_route_get_nnexthops(r) > 1};
        rtnl_route_foreach_nexthop(r, fill_nexthop, &f);
        qsort(out->nh, out->nhcount, sizeof out->nh[0], nh_order);
    }
    rtnl_route_put(r);
    return 1;
}

static int parse_netconf(struct nlmsghdr *nlh, struct e6_nl_netconf *out)
{
    if (!nlmsg_valid_hdr(nlh, sizeof(struct netconfmsg)))
        return -EINVAL;
    /* libnl prints to stdout on families it does not know: filter first */
    if (((const struct netconfmsg *)nlmsg_data(nlh))->ncm_family != AF_INET6)
        return 0;
    struct rtnl_netconf *c = (struct rtnl_netconf *)parse_object(nlh);
    if (!c)
        return -EINVAL;
    int v;
    memset(out, 0, sizeof *out);
    if (rtnl_netconf_get_ifindex(c, &out->ifindex) < 0)
        out->ifindex = 0;
    out->forwarding = rtnl_netconf_get_forwarding(c, &v) == 0 ? v : -1;
    out->proxy_ndp = rtnl_netconf_get_proxy_neigh(c, &v) == 0 ? v : -1;
    out->mc_forwarding = rtnl_netconf_get_mc_forwarding(c, &v) == 0 ? v : -1;
    out->ignore_routes_with_linkdown = rtnl_netconf_get_ignore_routes_linkdown(c, &v) == 0 ? v : -1;
    rtnl_netconf_put(c);
    return out->ifindex != 0 ? 1 : -EINVAL;
}

static int parse_neigh(struct nlmsghdr *nlh, struct e6_nl_neigh *out)
{
    if (!nlmsg_valid_hdr(nlh, sizeof(struct ndmsg)))
        return -EINVAL;
    if (((const struct ndmsg *)nlmsg_data(nlh))->ndm_family != AF_INET6)
        return 0;
    struct rtnl_neigh *n = (struct rtnl_neigh *)parse_object(nlh);
    if (!n)
        return -EINVAL;
    memset(out, 0, sizeof *out);
    out->ifindex = rtnl_neigh_get_ifindex(n);
    bool ok = nladdr_in6(rtnl_neigh_get_dst(n), &out->addr);
    int st = rtnl_neigh_get_state(n);
    out->state = (uint16_t)(st < 0 ? 0 : st);
    out->flags = (uint8_t)rtnl_neigh_get_flags(n);
    struct nl_addr *ll = rtnl_neigh_get_lladdr(n);
    if (ll && nl_addr_get_len(ll) <= E6_NL_HWADDR_MAX) {
        out->lladdr_len = (uint8_t)nl_addr_get_len(ll);
        memcpy(out->lladdr, nl_addr_get_binary_addr(ll), out->lladdr_len);
    }
    rtnl_neigh_put(n);
    return ok ? 1 : -EINVAL;
}

/* Applies one event message to the caches. */
static void apply_event(struct e6_nl *nl, struct nlmsghdr *nlh)
{
    union any_ent e;
    int r;
    switch (nlh->nlmsg_type) {
    case RTM_NEWLINK:
    case RTM_DELLINK:
        r = parse_link(nlh, &e.link);
        if (r > 0) {
            if (nlh->nlmsg_type == RTM_NEWLINK) {
                cache_upsert(nl, K_LINK, &e.link);
            } else {
                purge_ifindex(nl, e.link.ifindex);
                cache_remove(nl, K_LINK, &e.link);
            }
        }
        break;
    case RTM_NEWADDR:
    case RTM_DELADDR:
        r = parse_addr(nlh, &e.addr, now_ms());
        if (r > 0) {
            if (nlh->nlmsg_type == RTM_NEWADDR)
                cache_upsert(nl, K_ADDR, &e.addr);
            else
                cache_remove(nl, K_ADDR, &e.addr);
        }
        break;
    case RTM_NEWROUTE:
    case RTM_DELROUTE:
        r = parse_route(nlh, &e.route);
        if (r > 0) {
            if (nlh->nlmsg_type == RTM_NEWROUTE)
                route_event_new(nl, &e.route, nlh->nlmsg_flags & NLM_F_REPLACE,
                                nlh->nlmsg_flags & NLM_F_APPEND);
            else
                route_event_del(nl, &e.route);
        }
        break;
    case RTM_NEWNETCONF:
    case RTM_DELNETCONF:
        r = parse_netconf(nlh, &e.netconf);
        if (r > 0) {
            if (nlh->nlmsg_type == RTM_DELNETCONF) {
                cache_remove(nl, K_NETCONF, &e.netconf);
                break;
            }
            /* a change notification carries only the attribute that changed */
            size_t i = tab_find(&nl->tab[K_NETCONF], &e.netconf);
            if (i != SIZE_MAX) {
                const struct e6_nl_netconf *o = tab_at(&nl->tab[K_NETCONF], i);
                struct e6_nl_netconf *n = &e.netconf;
                if (n->forwarding < 0)
                    n->forwarding = o->forwarding;
                if (n->proxy_ndp < 0)
                    n->proxy_ndp = o->proxy_ndp;
                if (n->mc_forwarding < 0)
                    n->mc_forwarding = o->mc_forwarding;
                if (n->ignore_routes_with_linkdown < 0)
                    n->ignore_routes_with_linkdown = o->ignore_routes_with_linkdown;
            }
            cache_upsert(nl, K_NETCONF, &e.netconf);
        }
        break;
    default:
        return;
    }
    if (r < 0)
        nl->stats.unparseable++;
    else
        nl->stats.events++;
}

/* ---- sockets ------------------------------------------------------------ */

static int rxbuf_reserve(struct rxbuf *b, size_t len)
{
    if (len <= b->len)
        return 0;
    if (len > RX_BUF_MAX)
        return -EMSGSIZE;
    uint8_t *p = realloc(b->p, len);
    if (!p)
        return -ENOMEM;
    b->p = p;
    b->len = len;
    return 0;
}

/*
 * One datagram from fd into b. Returns its length, 0 when nothing is
 * queued (non-blocking reads), or -errno. *from is the sender's port.
 * With peek, the datagram is sized first so it is never truncated.
 */
static ssize_t recv_datagram(int fd, struct rxbuf *b, bool peek, int dontwait, uint32_t *from,
                             bool *truncated)
{
    int flags = dontwait;
    *truncated = false;
    for (;;) {
        if (peek) {
            ssize_t want = recv(fd, NULL, 0, MSG_PEEK | MSG_TRUNC | flags);
            if (want < 0) {
                if (errno == EINTR)
                    continue;
                if (errno == EAGAIN || errno == EWOULDBLOCK)
                    return dontwait ? 0 : -ETIMEDOUT;
                return -errno;
            }
            int r = rxbuf_reserve(b, (size_t)want);
            if (r < 0)
                return r;
        }
        struct sockaddr_nl sa;
        struct iovec iov = {.iov_base = b->p, .iov_len = b->len};
        struct msghdr m = {
            .msg_name = &sa, .msg_namelen = sizeof sa, .msg_iov = &iov, .msg_iovlen = 1};
        ssize_t n = recvmsg(fd, &m, MSG_TRUNC | flags);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return dontwait ? 0 : -ETIMEDOUT;
            return -errno;
        }
        *from = sa.nl_pid;
        if ((size_t)n > b->len) {
            *truncated = true;
            /* the next one of that size fits */
            if (rxbuf_reserve(b, (size_t)n) < 0)
                return -EMSGSIZE;
            return (ssize_t)b->len;
        }
        return n;
    }
}

static void set_errmsg_from_ack(struct e6_nl *nl, const struct nlmsghdr *nlh)
{
    const struct nlmsgerr *e = NLMSG_DATA(nlh);
    if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
        return;
    size_t payload = nlh->nlmsg_len - NLMSG_HDRLEN;
    size_t off = sizeof *e;
    if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) {
        if (e->msg.nlmsg_len < NLMSG_HDRLEN)
            return;
        off += e->msg.nlmsg_len - NLMSG_HDRLEN;
    }
    off = NLMSG_ALIGN(off);
    if (off >= payload)
        return;
    struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
    struct nla_policy pol[NLMSGERR_ATTR_MAX + 1];
    memset(pol, 0, sizeof pol);
    pol[NLMSGERR_ATTR_MSG].type = NLA_STRING;
    if (nla_parse(tb, NLMSGERR_ATTR_MAX, (struct nlattr *)((uint8_t *)NLMSG_DATA(nlh) + off),
                  (int)(payload - off), pol) < 0)
        return;
    if (tb[NLMSGERR_ATTR_MSG])
        snprintf(nl->errmsg, sizeof nl->errmsg, "%s",
                 (const char *)nla_data(tb[NLMSGERR_ATTR_MSG]));
}

typedef int (*reply_cb)(struct e6_nl *nl, struct nlmsghdr *nlh, void *arg);

/*
 * Sends msg on the request socket and reads until the kernel's answer to
 * it: the ack (or error) of a request, NLMSG_DONE of a dump. Replies to
 * earlier requests that timed out are skipped by sequence number. A dump
 * is always read to its end, even after an error, so that the socket is
 * free for the next one. Returns 0, -EINTR when a dump was interrupted by
 * concurrent changes (retry), or -errno.
 */
static int transact(struct e6_nl *nl, struct nl_msg *msg, bool dump, reply_cb cb, void *arg)
{
    struct nlmsghdr *h = nlmsg_hdr(msg);
    if (++nl->seq == 0)
        nl->seq = 1;
    h->nlmsg_seq = nl->seq;
    h->nlmsg_pid = nl->rq_port;
    h->nlmsg_flags |= NLM_F_REQUEST | (dump ? NLM_F_DUMP : NLM_F_ACK);
    nl->errmsg[0] = '\0';

    int fd = nl_socket_get_fd(nl->rq);
    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    ssize_t sent;
    do {
        sent = sendto(fd, h, h->nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel);
    } while (sent < 0 && errno == EINTR);
    if (sent < 0)
        return -errno;

    int result = 0;
    bool intr = false;
    for (;;) {
        uint32_t from;
        bool trunc;
        ssize_t n = recv_datagram(fd, &nl->rqbuf, true, 0, &from, &trunc);
        if (n < 0)
            return (int)n;
        if (from != 0 || trunc)
            continue;
        int len = (int)n;
        for (struct nlmsghdr *m = (struct nlmsghdr *)nl->rqbuf.p; nlmsg_ok(m, len);
             m = nlmsg_next(m, &len)) {
            if (m->nlmsg_seq != nl->seq || m->nlmsg_pid != nl->rq_port)
                continue;
            if (m->nlmsg_flags & NLM_F_DUMP_INTR)
                intr = true;
            if (m->nlmsg_type == NLMSG_ERROR) {
                if (m->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr)))
                    return -EBADMSG;
                const struct nlmsgerr *e = NLMSG_DATA(m);
                if (e->error < 0)
                    set_errmsg_from_ack(nl, m);
                return e->error < 0 ? e->error : result;
            }
            if (m->nlmsg_type == NLMSG_DONE) {
                if (m->nlmsg_len >= NLMSG_LENGTH(sizeof(int))) {
                    int derr;
                    memcpy(&derr, NLMSG_DATA(m), sizeof derr);
                    if (derr < 0)
                        return derr;
                }
                return result < 0 ? result : intr ? -EINTR : 0;
            }
            if (m->nlmsg_type == NLMSG_NOOP || m->nlmsg_type == NLMSG_OVERRUN)
                continue;
            if (cb && result == 0) {
                int r = cb(nl, m, arg);
                if (r < 0)
                    result = r;
            }
        }
    }
}

/* Builds an empty dump request: type with a zeroed header of hdrlen and the family. */
static struct nl_msg *dump_request(int type, size_t hdrlen, uint8_t family)
{
    struct nl_msg *msg = nlmsg_alloc_simple(type, 0);
    if (!msg)
        return NULL;
    uint8_t hdr[sizeof(struct rtmsg) > sizeof(struct ifinfomsg) ? sizeof(struct rtmsg)
                                                                : sizeof(struct ifinfomsg)];
    memset(hdr, 0, sizeof hdr);
    hdr[0] = family; /* every rtnetlink header starts with its family */
    if (hdrlen > sizeof hdr || nlmsg_append(msg, hdr, hdrlen, NLMSG_ALIGNTO) < 0) {
        nlmsg_free(msg);
        return NULL;
    }
    return msg;
}

struct dump_ctx {
    int kind;
    struct table *out;
    uint64_t now;
};

static int dump_collect(struct e6_nl *nl, struct nlmsghdr *nlh, void *arg)
{
    struct dump_ctx *d = arg;
    union any_ent e;
    int r;
    switch (d->kind) {
    case K_LINK:
        r = nlh->nlmsg_type == RTM_NEWLINK ? parse_link(nlh, &e.link) : 0;
        break;
    case K_ADDR:
        r = nlh->nlmsg_type == RTM_NEWADDR ? parse_addr(nlh, &e.addr, d->now) : 0;
        break;
    case K_ROUTE:
        r = nlh->nlmsg_type == RTM_NEWROUTE ? parse_route(nlh, &e.route) : 0;
        break;
    default:
        r = nlh->nlmsg_type == RTM_NEWNETCONF ? parse_netconf(nlh, &e.netconf) : 0;
        break;
    }
    if (r < 0) {
        nl->stats.unparseable++;
        return 0;
    }
    if (r == 0)
        return 0;
    size_t i = tab_find(d->out, &e);
    if (i != SIZE_MAX) {
        /* the same key twice in one dump (route types sharing a metric): last wins */
        memcpy(tab_at(d->out, i), &e, d->out->esize);
        return 0;
    }
    return tab_add(d->out, &e) == SIZE_MAX ? -ENOMEM : 0;
}

static int dump_kind(struct e6_nl *nl, int kind, struct table *out)
{
    static const struct {
        int type;
        size_t hdrlen;
        uint8_t family;
    } req[K_COUNT] = {
        [K_LINK] = {RTM_GETLINK, sizeof(struct ifinfomsg), AF_UNSPEC},
        [K_ADDR] = {RTM_GETADDR, sizeof(struct ifaddrmsg), AF_INET6},
        [K_ROUTE] = {RTM_GETROUTE, sizeof(struct rtmsg), AF_INET6},
        [K_NETCONF] = {RTM_GETNETCONF, sizeof(struct netconfmsg), AF_INET6},
    };
    int err = -EINTR;
    for (int attempt = 0; attempt < DUMP_TRIES && (err == -EINTR || err == -EMSGSIZE); attempt++) {
        tab_free(out);
        struct nl_msg *msg = dump_request(req[kind].type, req[kind].hdrlen, req[kind].family);
        if (!msg)
            return -ENOMEM;
        /* statistics are big and we do not read them */
        if (kind == K_LINK && nla_put_u32(msg, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS) < 0) {
            nlmsg_free(msg);
            return -ENOMEM;
        }
        struct dump_ctx d = {.kind = kind, .out = out, .now = now_ms()};
        err = transact(nl, msg, true, dump_collect, &d);
        nlmsg_free(msg);
    }
    if (err < 0)
        tab_free(out);
    return err;
}

/*
 * Installs fresh dumps (tables indexed by kind; they receive the old
 * contents) and reports the differences. Callbacks see the new state
 * throughout. Removals go first, children before parents (routes,
 * addresses, netconf, then links), and additions after, parents first,
 * as the kernel's own events would have told them.
 */
static void reconcile(struct e6_nl *nl, struct table fresh[K_COUNT])
{
    static const int parents_first[K_COUNT] = {K_LINK, K_NETCONF, K_ADDR, K_ROUTE};
    for (int k = 0; k < K_COUNT; k++) {
        struct table t = nl->tab[k];
        nl->tab[k] = fresh[k];
        fresh[k] = t; /* now the old contents */
    }
    for (int o = K_COUNT - 1; o >= 0; o--) {
        int k = parents_first[o];
        const struct table *old = &fresh[k];
        for (size_t i = 0; i < old->n; i++) {
            if (tab_find(&nl->tab[k], tab_at(old, i)) == SIZE_MAX)
                emit(nl, k, E6_NL_DEL, tab_at(old, i), NULL);
        }
    }
    for (int o = 0; o < K_COUNT; o++) {
        int k = parents_first[o];
        const struct table *old = &fresh[k], *cur = &nl->tab[k];
        for (size_t i = 0; i < cur->n; i++) {
            size_t j = tab_find(old, tab_at(cur, i));
            if (j == SIZE_MAX)
                emit(nl, k, E6_NL_NEW, NULL, tab_at(cur, i));
            else if (!same_val(k, tab_at(old, j), tab_at(cur, i)))
                emit(nl, k, E6_NL_CHANGE, tab_at(old, j), tab_at(cur, i));
        }
    }
    for (int k = 0; k < K_COUNT; k++)
        tab_free(&fresh[k]);
}

/* Throws away queued events: the dump that follows supersedes them. */
static void drain_events(struct e6_nl *nl)
{
    int fd = nl_socket_get_fd(nl->ev);
    for (long i = 0; i < DRAIN_MAX; i++) {
        uint32_t from;
        bool trunc;
        ssize_t n = recv_datagram(fd, &nl->evbuf, false, MSG_DONTWAIT, &from, &trunc);
        if (n == -ENOBUFS)
            continue;
        if (n <= 0)
            return;
        int len = (int)n;
        for (struct nlmsghdr *m = (struct nlmsghdr *)nl->evbuf.p; nlmsg_ok(m, len);
             m = nlmsg_next(m, &len))
            nl->stats.discarded++;
    }
}

int e6_nl_resync(struct e6_nl *nl)
{
    /* one table after the other: what changes in between arrives as events */
    static const int order[K_COUNT] = {K_LINK, K_NETCONF, K_ADDR, K_ROUTE};
    struct table fresh[K_COUNT];
    for (int k = 0; k < K_COUNT; k++)
        tab_init(&fresh[k], k);
    drain_events(nl);
    nl->need_resync = false;
    int err = 0;
    for (int i = 0; i < K_COUNT && err == 0; i++)
        err = dump_kind(nl, order[i], &fresh[order[i]]);
    if (err < 0) {
        for (int k = 0; k < K_COUNT; k++)
            tab_free(&fresh[k]);
        nl->need_resync = true;
        e6_warn("netlink: resynchronisation failed: %s", strerror(-err));
        return err;
    }
    reconcile(nl, fresh);
    if (nl->opened) {
        nl->stats.resyncs++;
        struct e6_nl_event ev;
        memset(&ev, 0, sizeof ev);
        ev.kind = E6_NL_RESYNC;
        ev.action = E6_NL_CHANGE;
        dispatch(nl, &ev);
    }
    return 0;
}

bool e6_nl_resync_pending(const struct e6_nl *nl)
{
    return nl->need_resync;
}

int e6_nl_process(struct e6_nl *nl)
{
    int fd = nl_socket_get_fd(nl->ev);
    int err = 0;
    for (int i = 0; i < EV_BATCH && !nl->need_resync; i++) {
        uint32_t from;
        bool trunc;
        ssize_t n = recv_datagram(fd, &nl->evbuf, false, MSG_DONTWAIT, &from, &trunc);
        if (n == 0)
            break;
        if (n == -ENOBUFS || trunc) {
            nl->stats.overruns++;
            nl->need_resync = true;
            e6_notice("netlink: %s on the event socket, resynchronising",
                      trunc ? "truncated event" : "events lost (ENOBUFS)");
            break;
        }
        if (n < 0) {
            err = (int)n;
            e6_warn("netlink: reading events: %s", strerror(-err));
            break;
        }
        if (from != 0) {
            nl->stats.foreign++;
            continue;
        }
        int len = (int)n;
        for (struct nlmsghdr *m = (struct nlmsghdr *)nl->evbuf.p; nlmsg_ok(m, len);
             m = nlmsg_next(m, &len))
            apply_event(nl, m);
    }
    if (nl->need_resync) {
        int r = e6_nl_resync(nl);
        if (r < 0)
            return r;
    }
    return err;
}

static int set_rcvbuf(int fd, int bytes)
{
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) == 0)
        return 0;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes) == 0)
        return 0;
    return -errno;
}

int e6_nl_set_rcvbuf(struct e6_nl *nl, int bytes)
{
    if (bytes <= 0)
        return -EINVAL;
    return set_rcvbuf(nl_socket_get_fd(nl->ev), bytes);
}

static int open_socket(struct nl_sock **out)
{
    struct nl_sock *sk = nl_socket_alloc();
    if (!sk)
        return -ENOMEM;
    int r = nl_connect(sk, NETLINK_ROUTE);
    if (r < 0) {
        nl_socket_free(sk);
        return nlerr_errno(r);
    }
    *out = sk;
    return 0;
}

int e6_nl_open(struct e6_nl **out)
{
    struct e6_nl *nl = calloc(1, sizeof *nl);
    if (!nl)
        return -ENOMEM;
    for (int k = 0; k < K_COUNT; k++)
        tab_init(&nl->tab[k], k);
    int r = rxbuf_reserve(&nl->evbuf, RX_BUF_INITIAL);
    if (r == 0)
        r = rxbuf_reserve(&nl->rqbuf, RX_BUF_INITIAL);
    if (r == 0)
        r = open_socket(&nl->ev);
    if (r == 0)
        r = open_socket(&nl->rq);
    if (r < 0)
        goto fail;

    int one = 1;
    int rqfd = nl_socket_get_fd(nl->rq);
    nl->rq_port = nl_socket_get_local_port(nl->rq);
    struct timeval tv = {.tv_sec = REQ_TIMEOUT_S};
    if (setsockopt(rqfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0) {
        r = -errno;
        goto fail;
    }
    /* extended acks give the kernel's reason; both are best effort on old kernels */
    (void)setsockopt(rqfd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
    (void)setsockopt(rqfd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);

    int evfd = nl_socket_get_fd(nl->ev);
    r = nl_socket_set_nonblocking(nl->ev);
    if (r == 0)
        r = nl_socket_add_memberships(nl->ev, RTNLGRP_LINK, RTNLGRP_IPV6_IFADDR, RTNLGRP_IPV6_ROUTE,
                                      RTNLGRP_IPV6_NETCONF, 0);
    if (r < 0) {
        r = nlerr_errno(r);
        goto fail;
    }
    r = set_rcvbuf(evfd, EV_RCVBUF_DEFAULT);
    if (r < 0)
        goto fail;
    /* subscribed before the dump, so nothing falls between the two */
    r = e6_nl_resync(nl);
    if (r < 0)
        goto fail;
    nl->opened = true;
    *out = nl;
    return 0;
fail:
    e6_nl_free(nl);
    return r;
}

void e6_nl_free(struct e6_nl *nl)
{
    if (!nl)
        return;
    if (nl->ev)
        nl_socket_free(nl->ev);
    if (nl->rq)
        nl_socket_free(nl->rq);
    for (int k = 0; k < K_COUNT; k++)
        tab_free(&nl->tab[k]);
    free(nl->evbuf.p);
    free(nl->rqbuf.p);
    free(nl);
}

int e6_nl_fd(const struct e6_nl *nl)
{
    return nl_socket_get_fd(nl->ev);
}

const char *e6_nl_errmsg(const struct e6_nl *nl)
{
    return nl->errmsg;
}

void e6_nl_get_stats(const struct e6_nl *nl, struct e6_nl_stats *out)
{
    *out = nl->stats;
}

int e6_nl_subscribe(struct e6_nl *nl, unsigned mask, e6_nl_cb cb, void *arg)
{
    if (!cb || mask == 0 || (mask & ~(unsigned)E6_NL_ALL))
        return -EINVAL;
    for (int i = 0; i < MAX_SUBS; i++) {
        if (!nl->subs[i].cb) {
            nl->subs[i] = (struct sub){.mask = mask, .cb = cb, .arg = arg};
            return i;
        }
    }
    return -ENOSPC;
}

void e6_nl_unsubscribe(struct e6_nl *nl, int handle)
{
    if (handle >= 0 && handle < MAX_SUBS)
        memset(&nl->subs[handle], 0, sizeof nl->subs[handle]);
}

/* ---- queries ------------------------------------------------------------ */

int e6_nl_link_by_index(const struct e6_nl *nl, int ifindex, struct e6_nl_link *out)
{
    struct e6_nl_link key = {.ifindex = ifindex};
    size_t i = tab_find(&nl->tab[K_LINK], &key);
    if (i == SIZE_MAX)
        return -ENOENT;
    memcpy(out, tab_at(&nl->tab[K_LINK], i), sizeof *out);
    return 0;
}

int e6_nl_link_by_name(const struct e6_nl *nl, const char *name, struct e6_nl_link *out)
{
    const struct table *t = &nl->tab[K_LINK];
    for (size_t i = 0; name && i < t->n; i++) {
        const struct e6_nl_link *l = tab_at(t, i);
        if (strncmp(l->name, name, sizeof l->name) == 0) {
            memcpy(out, l, sizeof *out);
            return 0;
        }
    }
    return -ENOENT;
}

size_t e6_nl_links(const struct e6_nl *nl, struct e6_nl_link *out, size_t max)
{
    const struct table *t = &nl->tab[K_LINK];
    for (size_t i = 0; i < t->n && i < max; i++)
        memcpy(&out[i], tab_at(t, i), sizeof *out);
    return t->n;
}

size_t e6_nl_addrs(const struct e6_nl *nl, int ifindex, struct e6_nl_addr *out, size_t max)
{
    const struct table *t = &nl->tab[K_ADDR];
    uint64_t now = now_ms();
    size_t n = 0;
    for (size_t i = 0; i < t->n; i++) {
        const struct addr_ent *e = tab_at(t, i);
        if (ifindex != 0 && e->a.ifindex != ifindex)
            continue;
        if (n < max)
            addr_export(e, now, &out[n]);
        n++;
    }
    return n;
}

int e6_nl_addr_get(const struct e6_nl *nl, int ifindex, const struct in6_addr *a,
                   struct e6_nl_addr *out)
{
    struct addr_ent key;
    memset(&key, 0, sizeof key);
    key.a.ifindex = ifindex;
    key.a.addr = *a;
    size_t i = tab_find(&nl->tab[K_ADDR], &key);
    if (i == SIZE_MAX)
        return -ENOENT;
    addr_export(tab_at(&nl->tab[K_ADDR], i), now_ms(), out);
    return 0;
}

int e6_nl_link_local(const struct e6_nl *nl, int ifindex, struct in6_addr *out)
{
    const struct table *t = &nl->tab[K_ADDR];
    const struct e6_nl_addr *best = NULL;
    bool tentative = false;
    for (size_t i = 0; i < t->n; i++) {
        const struct e6_nl_addr *a = &((const struct addr_ent *)tab_at(t, i))->a;
        if (a->ifindex != ifindex || !e6_addr_is_linklocal(&a->addr) || a->dadfailed)
            continue;
        if (a->tentative && !(a->flags & IFA_F_OPTIMISTIC)) {
            tentative = true;
            continue;
        }
        /* lowest address: the same choice on every call and every restart */
        if (!best || memcmp(&a->addr, &best->addr, sizeof a->addr) < 0)
            best = a;
    }
    if (best) {
        *out = best->addr;
        return 0;
    }
    return tentative ? -EAGAIN : -ENOENT;
}

int e6_nl_netconf_get(const struct e6_nl *nl, int ifindex, struct e6_nl_netconf *out)
{
    struct e6_nl_netconf key = {.ifindex = ifindex};
    size_t i = tab_find(&nl->tab[K_NETCONF], &key);
    if (i == SIZE_MAX)
        return -ENOENT;
    memcpy(out, tab_at(&nl->tab[K_NETCONF], i), sizeof *out);
    return 0;
}

int e6_nl_forwarding(const struct e6_nl *nl, int ifindex)
{
    struct e6_nl_netconf c;
    if (e6_nl_netconf_get(nl, ifindex, &c) < 0 || c.forwarding < 0)
        return -ENOENT;
    return c.forwarding ? 1 : 0;
}

int e6_nl_route_lookup(const struct e6_nl *nl, const struct in6_addr *dst, uint32_t table,
                       struct e6_nl_route *out)
{
    const struct table *t = &nl->tab[K_ROUTE];
    const struct e6_nl_route *best = NULL;
    if (table == 0)
        table = E6_NL_TABLE_MAIN;
    for (size_t i = 0; i < t->n; i++) {
        const struct e6_nl_route *r = tab_at(t, i);
        if (r->table != table || r->src.len != 0 || !e6_prefix_contains(&r->dst, dst))
            continue;
        if (!best || r->dst.len > best->dst.len ||
            (r->dst.len == best->dst.len && r->metric < best->metric))
            best = r;
    }
    if (!best)
        return -ENOENT;
    memcpy(out, best, sizeof *out);
    return 0;
}

size_t e6_nl_routes(const struct e6_nl *nl, uint32_t table, struct e6_nl_route *out, size_t max)
{
    const struct table *t = &nl->tab[K_ROUTE];
    size_t n = 0;
    for (size_t i = 0; i < t->n; i++) {
        const struct e6_nl_route *r = tab_at(t, i);
        if (table != 0 && r->table != table)
            continue;
        if (n < max)
            memcpy(&out[n], r, sizeof *out);
        n++;
    }
    return n;
}

/* ---- changes ------------------------------------------------------------ */

static struct nl_addr *in6_nladdr(const struct in6_addr *a, unsigned prefixlen)
{
    struct nl_addr *x = nl_addr_build(AF_INET6, a, sizeof *a);
    if (x)
        nl_addr_set_prefixlen(x, (int)prefixlen);
    return x;
}

/* Runs a built request (consumes msg); build_err is the libnl builder's result. */
static int run_request(struct e6_nl *nl, int build_err, struct nl_msg *msg)
{
    if (build_err < 0)
        return nlerr_errno(build_err);
    int r = transact(nl, msg, false, NULL, NULL);
    nlmsg_free(msg);
    return r;
}

static int addr_request(struct e6_nl *nl, bool add, int ifindex, const struct in6_addr *a,
                        unsigned prefixlen, const struct e6_nl_addr_opts *o)
{
    if (ifindex <= 0 || !a || prefixlen > 128)
        return -EINVAL;
    if (o && o->lifetimes && (o->valid_lft == 0 || o->preferred_lft > o->valid_lft))
        return -EINVAL;
    struct rtnl_addr *ra = rtnl_addr_alloc();
    struct nl_addr *local = in6_nladdr(a, prefixlen);
    struct nl_msg *msg = NULL;
    int r = -NLE_NOMEM;
    if (ra && local) {
        rtnl_addr_set_ifindex(ra, ifindex);
        rtnl_addr_set_family(ra, AF_INET6);
        r = rtnl_addr_set_local(ra, local);
    }
    if (r == 0 && add) {
        unsigned flags = 0;
        if (o && o->nodad)
            flags |= IFA_F_NODAD;
        if (o && o->noprefixroute)
            flags |= IFA_F_NOPREFIXROUTE;
        if (flags)
            rtnl_addr_set_flags(ra, flags);
        if (o && o->lifetimes) {
            rtnl_addr_set_preferred_lifetime(ra, o->preferred_lft);
            rtnl_addr_set_valid_lifetime(ra, o->valid_lft);
        }
        int nlf = (o && o->replace) ? NLM_F_REPLACE : NLM_F_EXCL;
        r = rtnl_addr_build_add_request(ra, nlf, &msg);
    } else if (r == 0) {
        r = rtnl_addr_build_delete_request(ra, 0, &msg);
    }
    if (local)
        nl_addr_put(local);
    if (ra)
        rtnl_addr_put(ra);
    return run_request(nl, r, msg);
}

int e6_nl_addr_add(struct e6_nl *nl, int ifindex, const struct in6_addr *a, unsigned prefixlen,
                   const struct e6_nl_addr_opts *opts)
{
    return addr_request(nl, true, ifindex, a, prefixlen, opts);
}

int e6_nl_addr_del(struct e6_nl *nl, int ifindex, const struct in6_addr *a, unsigned prefixlen)
{
    return addr_request(nl, false, ifindex, a, prefixlen, NULL);
}

static int route_request(struct e6_nl *nl, const struct e6_nl_route_spec *s, bool add, bool replace)
{
    if (!s || s->dst.len > 128 || s->ifindex < 0)
        return -EINVAL;
    uint8_t type = s->type ? s->type : RTN_UNICAST;
    bool reject = route_is_reject(type);
    if (type != RTN_UNICAST && !reject)
        return -EINVAL;
    bool has_gw = !e6_addr_is_unspecified(&s->gateway);
    /* a unicast route needs somewhere to go; a reject route goes nowhere */
    if (add && !reject && s->ifindex == 0 && !has_gw)
        return -EINVAL;
    if (reject && has_gw)
        return -EINVAL;

    struct rtnl_route *rt = rtnl_route_alloc();
    struct nl_addr *dst = in6_nladdr(&s->dst.addr, s->dst.len);
    struct nl_addr *gw = has_gw ? in6_nladdr(&s->gateway, 128) : NULL;
    struct nl_msg *msg = NULL;
    int r = -NLE_NOMEM;
    if (rt && dst && (gw || !has_gw)) {
        rtnl_route_set_family(rt, AF_INET6);
        r = rtnl_route_set_dst(rt, dst);
    }
    if (r == 0) {
        rtnl_route_set_table(rt, s->table ? s->table : E6_NL_TABLE_MAIN);
        rtnl_route_set_type(rt, type);
        /* on delete, protocol 0 matches any: libnl's default would be "static" */
        rtnl_route_set_protocol(rt, s->protocol ? s->protocol : add ? RTPROT_STATIC : 0);
        if (s->metric)
            rtnl_route_set_priority(rt, s->metric);
        if (s->ifindex > 0 || has_gw) {
            struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
            if (!nh) {
                r = -NLE_NOMEM;
            } else {
                if (s->ifindex > 0)
                    rtnl_route_nh_set_ifindex(nh, s->ifindex);
                if (gw)
                    rtnl_route_nh_set_gateway(nh, gw);
                rtnl_route_add_nexthop(rt, nh);
            }
        }
    }
    if (r == 0) {
        if (add)
            r = rtnl_route_build_add_request(rt, replace ? NLM_F_REPLACE : NLM_F_EXCL, &msg);
        else
            r = rtnl_route_build_del_request(rt, 0, &msg);
    }
    if (gw)
        nl_addr_put(gw);
    if (dst)
        nl_addr_put(dst);
    if (rt)
        rtnl_route_put(rt);
    return run_request(nl, r, msg);
}

int e6_nl_route_add(struct e6_nl *nl, const struct e6_nl_route_spec *r, bool replace)
{
    return route_request(nl, r, true, replace);
}

int e6_nl_route_del(struct e6_nl *nl, const struct e6_nl_route_spec *r)
{
    return route_request(nl, r, false, false);
}

static int proxy_request(struct e6_nl *nl, bool add, int ifindex, const struct in6_addr *a)
{
    if (ifindex <= 0 || !a)
        return -EINVAL;
    struct rtnl_neigh *n = rtnl_neigh_alloc();
    struct nl_addr *dst = in6_nladdr(a, 128);
    struct nl_msg *msg = NULL;
    int r = -NLE_NOMEM;
    if (n && dst) {
        rtnl_neigh_set_ifindex(n, ifindex);
        rtnl_neigh_set_family(n, AF_INET6);
        rtnl_neigh_set_flags(n, NTF_PROXY);
        r = rtnl_neigh_set_dst(n, dst);
    }
    if (r == 0) {
        if (add)
            r = rtnl_neigh_build_add_request(n, NLM_F_REPLACE, &msg);
        else
            r = rtnl_neigh_build_delete_request(n, 0, &msg);
    }
    if (dst)
        nl_addr_put(dst);
    if (n)
        rtnl_neigh_put(n);
    return run_request(nl, r, msg);
}

int e6_nl_proxy_add(struct e6_nl *nl, int ifindex, const struct in6_addr *a)
{
    return proxy_request(nl, true, ifindex, a);
}

int e6_nl_proxy_del(struct e6_nl *nl, int ifindex, const struct in6_addr *a)
{
    return proxy_request(nl, false, ifindex, a);
}

static int neigh_reply(struct e6_nl *nl, struct nlmsghdr *nlh, void *arg)
{
    struct e6_nl_neigh *out = arg;
    if (nlh->nlmsg_type != RTM_NEWNEIGH)
        return 0;
    if (parse_neigh(nlh, out) <= 0)
        nl->stats.unparseable++;
    return 0;
}

/* RTM_GETNEIGH for one entry (kernel >= 4.20); proxy selects the proxy table. */
static int neigh_get(struct e6_nl *nl, int ifindex, const struct in6_addr *a, bool proxy,
                     struct e6_nl_neigh *out)
{
    if (ifindex <= 0 || !a)
        return -EINVAL;
    struct nl_msg *msg = nlmsg_alloc_simple(RTM_GETNEIGH, 0);
    if (!msg)
        return -ENOMEM;
    struct ndmsg ndm = {
        .ndm_family = AF_INET6,
        .ndm_ifindex = ifindex,
        .ndm_flags = proxy ? NTF_PROXY : 0,
    };
    if (nlmsg_append(msg, &ndm, sizeof ndm, NLMSG_ALIGNTO) < 0 ||
        nla_put(msg, NDA_DST, sizeof *a, a) < 0) {
        nlmsg_free(msg);
        return -ENOMEM;
    }
    memset(out, 0, sizeof *out);
    int r = transact(nl, msg, false, neigh_reply, out);
    nlmsg_free(msg);
    if (r < 0)
        return r;
    /* the kernel answers a matching entry or an error, but check anyway */
    if (out->ifindex != ifindex || !e6_addr_equal(&out->addr, a))
        return -ENOENT;
    return 0;
}

int e6_nl_proxy_get(struct e6_nl *nl, int ifindex, const struct in6_addr *a)
{
    struct e6_nl_neigh n;
    return neigh_get(nl, ifindex, a, true, &n);
}

int e6_nl_neigh_get(struct e6_nl *nl, int ifindex, const struct in6_addr *a,
                    struct e6_nl_neigh *out)
{
    return neigh_get(nl, ifindex, a, false, out);
}

struct neigh_list {
    struct e6_nl_neigh *v;
    size_t n, cap;
    int ifindex;
    bool proxy;
};

static int neigh_collect(struct e6_nl *nl, struct nlmsghdr *nlh, void *arg)
{
    struct neigh_list *l = arg;
    struct e6_nl_neigh e;
    if (nlh->nlmsg_type != RTM_NEWNEIGH)
        return 0;
    int r = parse_neigh(nlh, &e);
    if (r < 0)
        nl->stats.unparseable++;
    if (r <= 0 || (l->ifindex && e.ifindex != l->ifindex) || !!(e.flags & NTF_PROXY) != l->proxy)
        return 0;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 32;
        struct e6_nl_neigh *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return -ENOMEM;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = e;
    return 0;
}

int e6_nl_neigh_dump(struct e6_nl *nl, int ifindex, bool proxy,
                     void (*cb)(const struct e6_nl_neigh *n, void *arg), void *arg)
{
    if (ifindex < 0 || !cb)
        return -EINVAL;
    struct neigh_list l = {.ifindex = ifindex, .proxy = proxy};
    int r = -EINTR;
    for (int attempt = 0; attempt < DUMP_TRIES && (r == -EINTR || r == -EMSGSIZE); attempt++) {
        l.n = 0;
        struct nl_msg *msg = nlmsg_alloc_simple(RTM_GETNEIGH, 0);
        if (!msg) {
            r = -ENOMEM;
            break;
        }
        struct ndmsg ndm = {.ndm_family = AF_INET6, .ndm_flags = proxy ? NTF_PROXY : 0};
        if (nlmsg_append(msg, &ndm, sizeof ndm, NLMSG_ALIGNTO) < 0 ||
            (ifindex && nla_put_u32(msg, NDA_IFINDEX, (uint32_t)ifindex) < 0)) {
            nlmsg_free(msg);
            r = -ENOMEM;
            break;
        }
        r = transact(nl, msg, true, neigh_collect, &l);
        nlmsg_free(msg);
    }
    /* callbacks run after the dump so that they may make requests */
    if (r == 0) {
        for (size_t i = 0; i < l.n; i++)
            cb(&l.v[i], arg);
    }
    free(l.v);
    return r < 0 ? r : (int)(l.n > INT32_MAX ? INT32_MAX : l.n);
}

const char *e6_nl_nud_name(uint16_t state)
{
    switch (state) {
    case 0:
        return "none";
    case NUD_INCOMPLETE:
        return "incomplete";
    case NUD_REACHABLE:
        return "reachable";
    case NUD_STALE:
        return "stale";
    case NUD_DELAY:
        return "delay";
    case NUD_PROBE:
        return "probe";
    case NUD_FAILED:
        return "failed";
    case NUD_NOARP:
        return "noarp";
    case NUD_PERMANENT:
        return "permanent";
    default:
        return "mixed";
    }
}

static int link_request(struct e6_nl *nl, int ifindex, int up, uint32_t mtu)
{
    if (ifindex <= 0)
        return -EINVAL;
    struct rtnl_link *orig = rtnl_link_alloc();
    struct rtnl_link *chg = rtnl_link_alloc();
    struct nl_msg *msg = NULL;
    int r = -NLE_NOMEM;
    if (orig && chg) {
        rtnl_link_set_ifindex(orig, ifindex);
        if (up > 0)
            rtnl_link_set_flags(chg, IFF_UP);
        else if (up == 0)
            rtnl_link_unset_flags(chg, IFF_UP);
        if (mtu)
            rtnl_link_set_mtu(chg, mtu);
        r = rtnl_link_build_change_request(orig, chg, 0, &msg);
    }
    if (orig)
        rtnl_link_put(orig);
    if (chg)
        rtnl_link_put(chg);
    return run_request(nl, r, msg);
}

int e6_nl_link_set_up(struct e6_nl *nl, int ifindex, bool up)
{
    return link_request(nl, ifindex, up ? 1 : 0, 0);
}

int e6_nl_link_set_mtu(struct e6_nl *nl, int ifindex, uint32_t mtu)
{
    if (mtu == 0)
        return -EINVAL;
    return link_request(nl, ifindex, -1, mtu);
}
