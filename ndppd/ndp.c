/*
 * ndppd/ndp: the NDP proxy engine (see ndp.h): rule matching, the verdict
 * of each method, the RFC 4861 7.2.4 answer and its 7.2.8 delay, and the
 * bounded session table of iface/auto rules with its timers and probe
 * budgets.
 *
 * Choices made here:
 * - Every session sits in exactly one timer list, each list holding one
 *   kind of deadline (probe retransmission, end of INVALID, start of the
 *   refresh window, end of an unasked VALID). A list's lifetime is one
 *   config value, so appending keeps it sorted; insertion walks back from
 *   the tail only after a reload changed a lifetime. next() is the least
 *   of a few list heads: nothing scans the table per run.
 * - Table classes: INVALID 0, INCOMPLETE 1, VALID/REFRESH 2. New targets
 *   enter as class 1 (even when the kernel already knows them), so a flood
 *   of unknown targets only churns unconfirmed entries and a table full of
 *   confirmed ones refuses new targets instead of dropping known ones.
 * - Probe budgets (token buckets per asking source and overall) are charged
 *   for new targets only: refreshes of confirmed targets are never limited
 *   (RFC 6583 7.2.4: NUD of existing entries before new resolutions).
 * - Answers to askers of a target being probed go out when it is
 *   confirmed, without the 7.2.8 delay: they already waited.
 * - A session keeps no pointer into the config; its rule is matched again
 *   when needed (views, reload), so a reload never leaves one dangling.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/addr.h"
#include "common/htable.h"
#include "ndppd/ndp.h"

#define NEVER UINT64_MAX
/* Refill window of a probe bucket: burst == rate, so a second */
#define BUCKET_WINDOW_MS 1000
#define MILLI            1000ull

const char *const ndp_counter_names[NDP_C__COUNT] = {
    [NDP_C_NS_SEEN] = "ns_seen",
    [NDP_C_NA_SENT] = "na_sent",
    [NDP_C_NA_SENT_DAD] = "na_sent_dad",
    [NDP_C_NA_DELAYED] = "na_delayed",
    [NDP_C_NO_RULE] = "no_rule",
    [NDP_C_EXCLUDED] = "excluded",
    [NDP_C_LOCAL] = "local",
    [NDP_C_ROUTE_BACK] = "route_back",
    [NDP_C_NO_ROUTE] = "no_route",
    [NDP_C_NOT_TUNNEL] = "not_tunnel",
    [NDP_C_6BED4_PORT0] = "6bed4_port0",
    [NDP_C_6BED4_DEAD] = "6bed4_dead",
    [NDP_C_PENDING] = "pending",
    [NDP_C_INVALID] = "invalid",
    [NDP_C_OFFLOADED] = "offloaded",
    [NDP_C_NO_LINKLOCAL] = "no_linklocal",
    [NDP_C_PROBE_RATELIMITED] = "probe_ratelimited",
    [NDP_C_SESSION_FULL] = "session_full",
    [NDP_C_PROBE_SENT] = "probe_sent",
    [NDP_C_REFRESH_SENT] = "refresh_sent",
    [NDP_C_NA_RECEIVED] = "na_received",
    [NDP_C_NA_UNMATCHED] = "na_unmatched",
    [NDP_C_KERNEL_NEIGH] = "kernel_neigh",
    [NDP_C_CONFIRMED] = "confirmed",
    [NDP_C_EXPIRED] = "expired",
    [NDP_C_FAILED] = "failed",
    [NDP_C_EVICTED] = "evicted",
    [NDP_C_DELAY_OVERFLOW] = "delay_overflow",
    [NDP_C_IFACE_DOWN] = "iface_down",
    [NDP_C_REMOVED] = "removed",
};

const char *ndp_state_name(enum ndp_state s)
{
    switch (s) {
    case NDP_S_INCOMPLETE:
        return "incomplete";
    case NDP_S_VALID:
        return "valid";
    case NDP_S_REFRESH:
        return "refresh";
    case NDP_S_INVALID:
        return "invalid";
    case NDP_S__COUNT:
        break;
    }
    return "?";
}

/* ---- structures ------------------------------------------------------------ */

enum {
    CLS_INVALID = 0,
    CLS_INCOMPLETE = 1,
    CLS_VALID = 2,
};

/* Timer lists; see the comment at the top. */
enum tlist {
    TL_PROBE,   /* INCOMPLETE and REFRESH: next try (or giving up) */
    TL_INVALID, /* INVALID: removal */
    TL_VALID,   /* VALID: start of the refresh window */
    TL_LATE,    /* VALID, not asked when the window opened: expiry */
    TL__COUNT,
    TL_NONE = TL__COUNT,
};

/* Someone waiting for an answer; src :: is a DAD probe. */
struct asker {
    struct in6_addr src;
    uint8_t l2[6];
    uint8_t l2_len;
};

struct session {
    struct e6_hentry h;
    struct in6_addr target; /* the key */
    struct session *tprev, *tnext;
    uint64_t deadline; /* in its timer list */
    uint64_t expires;  /* for views: when the current state ends */
    uint64_t asked_count;
    int ifindex;
    uint8_t state; /* enum ndp_state */
    uint8_t tlist; /* enum tlist */
    uint8_t tries;
    uint8_t n_askers;
    bool up;    /* session_up was called, session_down not yet */
    bool asked; /* an NS for it since it was last confirmed */
    struct asker askers[NDP_MAX_ASKERS];
};

struct source {
    struct e6_hentry h;
    struct in6_addr addr; /* the key */
    uint64_t last_ms;
    uint64_t tokens; /* thousandths of a probe */
};

struct delayed {
    uint64_t due;
    uint64_t seq; /* FIFO among equal due times */
    struct in6_addr target;
    struct asker who;
};

struct tl {
    struct session *head, *tail;
};

struct ndp_proxy {
    const struct conf_proxy *cfg;
    const struct ndp_ops *ops;
    void *arg;
    e6_counter_block cnt;
    struct ndp_link link;

    struct e6_htable sessions;
    struct tl tl[TL__COUNT];
    size_t n_state[NDP_S__COUNT];

    struct e6_htable sources;
    uint64_t g_tokens, g_last;

    /* 7.2.8 delay queue: a binary min-heap on (due, seq), grown on demand */
    struct delayed *dq;
    size_t dq_n, dq_cap;
    uint64_t dq_seq;
};

static const struct in6_addr all_nodes = {{{0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}}};
static const uint8_t all_nodes_mac[6] = {0x33, 0x33, 0, 0, 0, 1};

static void count(struct ndp_proxy *p, enum ndp_counter c)
{
    if (p->cnt.v)
        e6_count(p->cnt, c);
}

static struct session *sess_of(struct e6_hentry *e)
{
    return (struct session *)((char *)e - offsetof(struct session, h));
}

static struct source *src_of(struct e6_hentry *e)
{
    return (struct source *)((char *)e - offsetof(struct source, h));
}

/* ---- callbacks with defaults ----------------------------------------------- */

static bool op_is_local(struct ndp_proxy *p, const struct in6_addr *t)
{
    return p->ops->is_local && p->ops->is_local(p->arg, t);
}

static enum ndp_verdict op_member(struct ndp_proxy *p, enum conf_proxy_method m, const char *tunnel,
                                  const struct in6_addr *t)
{
    if (!p->ops->member)
        return NDP_UNKNOWN;
    return p->ops->member(p->arg, m, tunnel, t);
}

/* A usable route: 0 with out filled, or -ENOENT (none, reject, no egress). */
static int op_route(struct ndp_proxy *p, const struct in6_addr *t, struct ndp_route *out)
{
    memset(out, 0, sizeof(*out));
    if (!p->ops->route || p->ops->route(p->arg, t, out) != 0 || out->reject || out->ifindex <= 0)
        return -ENOENT;
    return 0;
}

static void op_iface(struct ndp_proxy *p, const char *name, struct ndp_iface *out)
{
    memset(out, 0, sizeof(*out));
    if (p->ops->iface && name)
        p->ops->iface(p->arg, name, out);
}

static bool op_kernel_neigh(struct ndp_proxy *p, int ifindex, const struct in6_addr *t)
{
    return p->ops->kernel_neigh && p->ops->kernel_neigh(p->arg, ifindex, t);
}

static void op_updown(struct ndp_proxy *p, struct session *s, bool up)
{
    struct ndp_session_info info = {
        .target = s->target, .ifindex = s->ifindex, .state = (enum ndp_state)s->state};
    if (up && p->ops->session_up)
        p->ops->session_up(p->arg, &info);
    else if (!up && p->ops->session_down)
        p->ops->session_down(p->arg, &info);
}

/* ---- rules ----------------------------------------------------------------- */

const struct conf_rule *ndp_match_rule(const struct conf_proxy *cfg, const struct in6_addr *target)
{
    const struct conf_rule *best = NULL;

    if (!cfg)
        return NULL;
    for (size_t i = 0; i < cfg->n_rules; i++) {
        const struct conf_rule *r = &cfg->rules[i];
        if ((!best || r->prefix.len > best->prefix.len) &&
            e6_addr_match(&r->prefix.addr, target, r->prefix.len))
            best = r;
    }
    return best;
}

/* ---- answers (RFC 4861 7.2.4) ---------------------------------------------- */

static bool build_na(const struct conf_proxy *cfg, const struct ndp_link *link,
                     const struct in6_addr *target, const struct asker *who, uint8_t *buf,
                     size_t cap, struct ndp_tx *tx)
{
    struct e6_nd_builder b;
    uint8_t flags = cfg->router ? E6_ND_NA_R : 0;
    bool dad = e6_addr_is_unspecified(&who->src);
    bool has_mac = link->lladdr_len == 6;

    memset(tx, 0, sizeof(*tx));
    if (cfg->na_source == CONF_NA_SRC_TARGET)
        tx->src = *target;
    else if (link->have_linklocal)
        tx->src = link->linklocal;
    else
        return false;
    if (dad) {
        tx->dst = all_nodes;
        if (has_mac) {
            memcpy(tx->l2dst, all_nodes_mac, 6);
            tx->l2dst_len = 6;
        }
    } else {
        flags |= E6_ND_NA_S;
        tx->dst = who->src;
        if (has_mac && who->l2_len == 6) {
            memcpy(tx->l2dst, who->l2, 6);
            tx->l2dst_len = 6;
        }
    }
    /* O stays 0: we answer as a proxy (7.2.4, 7.2.8) */
    e6_nd_build_init(&b, buf, cap);
    e6_nd_put_na(&b, flags, target);
    if (has_mac)
        e6_nd_put_lladdr(&b, E6_ND_OPT_TLLA,
                         cfg->has_target_lladdr ? cfg->target_lladdr : link->lladdr, 6);
    int n = e6_nd_build_finish(&b, &tx->src, &tx->dst);
    if (n < 0)
        return false;
    tx->icmp = buf;
    tx->len = (size_t)n;
    return true;
}

static void asker_from_ns(const struct ndp_ns *ns, struct asker *a)
{
    memset(a, 0, sizeof(*a));
    a->src = ns->msg->src;
    if (e6_nd_lladdr_eth(&ns->msg->slla, a->l2)) {
        a->l2_len = 6;
    } else if (ns->l2src) {
        memcpy(a->l2, ns->l2src, 6);
        a->l2_len = 6;
    }
}

bool ndp_build_na(const struct conf_proxy *cfg, const struct ndp_link *link,
                  const struct ndp_ns *ns, uint8_t *buf, size_t cap, struct ndp_tx *tx)
{
    struct asker a;
    asker_from_ns(ns, &a);
    return build_na(cfg, link, &ns->msg->target, &a, buf, cap, tx);
}

static void send_now(struct ndp_proxy *p, const struct in6_addr *target, const struct asker *who)
{
    uint8_t buf[64];
    struct ndp_tx tx;

    if (!build_na(p->cfg, &p->link, target, who, buf, sizeof(buf), &tx)) {
        count(p, NDP_C_NO_LINKLOCAL);
        return;
    }
    if (p->ops->send_na)
        p->ops->send_na(p->arg, &tx);
    count(p, NDP_C_NA_SENT);
    if (e6_addr_is_unspecified(&who->src))
        count(p, NDP_C_NA_SENT_DAD);
}

static bool dq_less(const struct delayed *a, const struct delayed *b)
{
    return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static void dq_swap(struct delayed *a, struct delayed *b)
{
    struct delayed t = *a;
    *a = *b;
    *b = t;
}

static bool dq_push(struct ndp_proxy *p, const struct delayed *d)
{
    if (p->dq_n == p->dq_cap) {
        if (p->dq_cap >= NDP_MAX_DELAYED)
            return false;
        size_t nc = p->dq_cap ? p->dq_cap * 2 : 16;
        if (nc > NDP_MAX_DELAYED)
            nc = NDP_MAX_DELAYED;
        struct delayed *n = realloc(p->dq, nc * sizeof(*n));
        if (!n)
            return false;
        p->dq = n;
        p->dq_cap = nc;
    }
    size_t i = p->dq_n++;
    p->dq[i] = *d;
    while (i > 0 && dq_less(&p->dq[i], &p->dq[(i - 1) / 2])) {
        dq_swap(&p->dq[i], &p->dq[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    return true;
}

static void dq_pop(struct ndp_proxy *p, struct delayed *out)
{
    *out = p->dq[0];
    p->dq[0] = p->dq[--p->dq_n];
    for (size_t i = 0;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < p->dq_n && dq_less(&p->dq[l], &p->dq[m]))
            m = l;
        if (r < p->dq_n && dq_less(&p->dq[r], &p->dq[m]))
            m = r;
        if (m == i)
            break;
        dq_swap(&p->dq[i], &p->dq[m]);
        i = m;
    }
    if (p->dq_n == 0) {
        /* a burst's queue is not kept after it drained */
        free(p->dq);
        p->dq = NULL;
        p->dq_cap = 0;
    }
}

/* The answer to an NS: after the 7.2.8 delay when it was multicast, else now. */
static void answer_ns(struct ndp_proxy *p, const struct ndp_ns *ns, uint64_t now)
{
    struct delayed d = {0};

    asker_from_ns(ns, &d.who);
    if (p->cfg->answer_delay > 0 && e6_addr_is_multicast(&ns->msg->dst)) {
        uint32_t r = p->ops->rand ? p->ops->rand(p->arg) : 0;
        uint64_t delay = ((uint64_t)(p->cfg->answer_delay + 1) * r) >> 32;
        if (delay > 0) {
            d.due = now + delay;
            d.seq = p->dq_seq++;
            d.target = ns->msg->target;
            if (dq_push(p, &d))
                return;
            count(p, NDP_C_DELAY_OVERFLOW);
        }
    }
    send_now(p, &ns->msg->target, &d.who);
}

/* ---- timer lists ------------------------------------------------------------ */

static void tl_del(struct ndp_proxy *p, struct session *s)
{
    if (s->tlist == TL_NONE)
        return;
    struct tl *l = &p->tl[s->tlist];
    if (s->tprev)
        s->tprev->tnext = s->tnext;
    else
        l->head = s->tnext;
    if (s->tnext)
        s->tnext->tprev = s->tprev;
    else
        l->tail = s->tprev;
    s->tprev = s->tnext = NULL;
    s->tlist = TL_NONE;
}

/* Sorted by deadline; from the tail, where an unchanged lifetime puts it. */
static void tl_add(struct ndp_proxy *p, struct session *s, enum tlist which, uint64_t deadline)
{
    tl_del(p, s);
    struct tl *l = &p->tl[which];
    struct session *after = l->tail;
    while (after && after->deadline > deadline)
        after = after->tprev;
    s->deadline = deadline;
    s->tlist = (uint8_t)which;
    s->tprev = after;
    s->tnext = after ? after->tnext : l->head;
    if (s->tprev)
        s->tprev->tnext = s;
    else
        l->head = s;
    if (s->tnext)
        s->tnext->tprev = s;
    else
        l->tail = s;
}

/* ---- sessions ----------------------------------------------------------------- */

static uint64_t retrans_ms(const struct ndp_proxy *p)
{
    return p->cfg->retrans_time ? p->cfg->retrans_time : 1000;
}

static unsigned retrans_limit(const struct ndp_proxy *p)
{
    return p->cfg->retrans_limit ? p->cfg->retrans_limit : 1;
}

static void set_state(struct ndp_proxy *p, struct session *s, enum ndp_state st)
{
    p->n_state[s->state]--;
    s->state = (uint8_t)st;
    p->n_state[st]++;
}

static void session_free(struct ndp_proxy *p, struct session *s)
{
    tl_del(p, s);
    p->n_state[s->state]--;
    free(s);
}

/* Ends a session that is (or was) in the table: down if it was up, freed. */
static void session_end(struct ndp_proxy *p, struct session *s)
{
    e6_htable_remove(&p->sessions, &s->h);
    if (s->up) {
        s->up = false;
        op_updown(p, s, false);
    }
    session_free(p, s);
}

/* The table made room: only unconfirmed ones can go this way, but be exact. */
static void on_evict(struct e6_hentry *e, void *arg)
{
    struct ndp_proxy *p = arg;
    struct session *s = sess_of(e);
    count(p, NDP_C_EVICTED);
    if (s->up) {
        s->up = false;
        op_updown(p, s, false);
    }
    session_free(p, s);
}

static void answer_askers(struct ndp_proxy *p, struct session *s)
{
    for (unsigned i = 0; i < s->n_askers; i++)
        send_now(p, &s->target, &s->askers[i]);
    s->n_askers = 0;
}

static void schedule_valid(struct ndp_proxy *p, struct session *s, uint64_t now)
{
    uint64_t life = (uint64_t)(p->cfg->valid_ttl ? p->cfg->valid_ttl : 30) * 1000;
    uint64_t lead = retrans_ms(p) * retrans_limit(p);
    s->expires = now + life;
    tl_add(p, s, TL_VALID, now + (life > lead ? life - lead : 0));
}

/* Confirmed (NA, kernel neighbour): VALID with a new life, askers answered. */
static void confirm(struct ndp_proxy *p, struct session *s, uint64_t now)
{
    set_state(p, s, NDP_S_VALID);
    e6_htable_set_class(&p->sessions, &s->h, CLS_VALID);
    s->asked = false;
    s->tries = 0;
    schedule_valid(p, s, now);
    if (!s->up) {
        s->up = true;
        count(p, NDP_C_CONFIRMED);
        op_updown(p, s, true);
    }
    answer_askers(p, s);
}

static void go_invalid(struct ndp_proxy *p, struct session *s, uint64_t now)
{
    if (s->state == NDP_S_REFRESH || s->state == NDP_S_VALID)
        count(p, NDP_C_EXPIRED);
    count(p, NDP_C_FAILED);
    set_state(p, s, NDP_S_INVALID);
    e6_htable_set_class(&p->sessions, &s->h, CLS_INVALID);
    s->n_askers = 0;
    s->tries = 0;
    s->asked = false;
    s->expires = now + (uint64_t)(p->cfg->invalid_ttl ? p->cfg->invalid_ttl : 5) * 1000;
    tl_add(p, s, TL_INVALID, s->expires);
    if (s->up) {
        s->up = false;
        op_updown(p, s, false);
    }
}

static void probe(struct ndp_proxy *p, struct session *s, bool unicast)
{
    s->tries++;
    if (p->ops->send_probe && p->ops->send_probe(p->arg, s->ifindex, &s->target, unicast)) {
        count(p, NDP_C_PROBE_SENT);
        if (unicast)
            count(p, NDP_C_REFRESH_SENT);
    }
}

/* One step of probing a new target: another try, or give up. */
static void incomplete_step(struct ndp_proxy *p, struct session *s, uint64_t now)
{
    if (s->tries >= retrans_limit(p)) {
        go_invalid(p, s, now);
        return;
    }
    probe(p, s, false);
    tl_add(p, s, TL_PROBE, now + retrans_ms(p));
}

/* One step of a refresh: the kernel knows it, another unicast try, or fail. */
static void refresh_step(struct ndp_proxy *p, struct session *s, uint64_t now)
{
    if (op_kernel_neigh(p, s->ifindex, &s->target)) {
        count(p, NDP_C_KERNEL_NEIGH);
        confirm(p, s, now);
        return;
    }
    if (s->tries >= retrans_limit(p)) {
        go_invalid(p, s, now);
        return;
    }
    probe(p, s, true);
    tl_add(p, s, TL_PROBE, now + retrans_ms(p));
}

static void start_refresh(struct ndp_proxy *p, struct session *s, uint64_t now)
{
    set_state(p, s, NDP_S_REFRESH);
    s->tries = 0;
    uint64_t end = now + retrans_ms(p) * retrans_limit(p);
    if (end > s->expires)
        s->expires = end;
    refresh_step(p, s, now);
}

static void add_asker(struct session *s, const struct ndp_ns *ns)
{
    struct asker a;
    unsigned i;

    asker_from_ns(ns, &a);
    for (i = 0; i < s->n_askers; i++)
        if (e6_addr_equal(&s->askers[i].src, &a.src))
            break;
    if (i == s->n_askers && s->n_askers < NDP_MAX_ASKERS)
        s->n_askers++;
    else if (i == s->n_askers)
        i = 0; /* full: the oldest goes */
    /* keep oldest first: close the gap, append as the newest */
    memmove(&s->askers[i], &s->askers[i + 1], (s->n_askers - 1 - i) * sizeof(a));
    s->askers[s->n_askers - 1] = a;
}

/* ---- probe budgets -------------------------------------------------------- */

static uint64_t refill(uint64_t tokens, uint64_t last, uint64_t now, uint64_t rate, uint64_t cap)
{
    uint64_t elapsed = now > last ? now - last : 0;
    if (elapsed >= BUCKET_WINDOW_MS)
        return cap;
    tokens += elapsed * rate;
    return tokens > cap ? cap : tokens;
}

static void src_evict(struct e6_hentry *e, void *arg)
{
    (void)arg;
    free(src_of(e));
}

/*
 * The asking source's bucket (created full), refilled to now, or NULL when
 * memory is short (then only the global budget applies).
 */
static struct source *source_get(struct ndp_proxy *p, const struct in6_addr *src, uint64_t now)
{
    uint64_t rate = p->cfg->probe_rate ? p->cfg->probe_rate : 1;
    uint64_t cap = rate * MILLI;
    struct e6_hentry *e = e6_htable_find(&p->sources, src);
    struct source *s;

    if (e) {
        s = src_of(e);
        s->tokens = refill(s->tokens, s->last_ms, now, rate, cap);
        s->last_ms = now;
        e6_htable_touch(&p->sources, e);
        return s;
    }
    s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->addr = *src;
    s->last_ms = now;
    s->tokens = cap;
    if (e6_htable_insert(&p->sources, &s->h, 0) != 0) {
        free(s);
        return NULL;
    }
    return s;
}

static void global_refill(struct ndp_proxy *p, uint64_t now)
{
    uint64_t rate =
        (uint64_t)(p->cfg->probe_rate ? p->cfg->probe_rate : 1) * NDP_GLOBAL_PROBE_FACTOR;
    p->g_tokens = refill(p->g_tokens, p->g_last, now, rate, rate * MILLI);
    p->g_last = now;
}

/* ---- NS handling ------------------------------------------------------------ */

/* A target an iface/auto rule sends to downstream ifindex (a link with ND). */
static void ns_session(struct ndp_proxy *p, const struct ndp_ns *ns, int ifindex, uint64_t now)
{
    const struct in6_addr *target = &ns->msg->target;
    struct e6_hentry *e = e6_htable_find(&p->sessions, target);
    struct session *s = e ? sess_of(e) : NULL;

    if (s && s->ifindex != ifindex) {
        /* the target moved to another downstream link: start over there */
        count(p, NDP_C_REMOVED);
        session_end(p, s);
        s = NULL;
    }
    if (s) {
        s->asked_count++;
        switch ((enum ndp_state)s->state) {
        case NDP_S_VALID:
        case NDP_S_REFRESH:
            s->asked = true;
            e6_htable_touch(&p->sessions, &s->h);
            answer_ns(p, ns, now);
            if (s->tlist == TL_LATE)
                start_refresh(p, s, now); /* asked once the window had opened */
            return;
        case NDP_S_INCOMPLETE:
            add_asker(s, ns);
            e6_htable_touch(&p->sessions, &s->h);
            count(p, NDP_C_PENDING);
            return;
        case NDP_S_INVALID:
        case NDP_S__COUNT:
            count(p, NDP_C_INVALID);
            return;
        }
        return;
    }

    /* a new target: budgets first, so a flood costs no allocation */
    struct source *src = source_get(p, &ns->msg->src, now);
    global_refill(p, now);
    if ((src && src->tokens < MILLI) || p->g_tokens < MILLI) {
        count(p, NDP_C_PROBE_RATELIMITED);
        return;
    }
    s = calloc(1, sizeof(*s));
    if (!s) {
        count(p, NDP_C_SESSION_FULL);
        return;
    }
    s->target = *target;
    s->ifindex = ifindex;
    s->state = NDP_S_INCOMPLETE;
    s->tlist = TL_NONE;
    s->asked_count = 1;
    if (e6_htable_insert(&p->sessions, &s->h, CLS_INCOMPLETE) != 0) {
        free(s);
        count(p, NDP_C_SESSION_FULL);
        return;
    }
    p->n_state[NDP_S_INCOMPLETE]++;
    if (src)
        src->tokens -= MILLI;
    p->g_tokens -= MILLI;

    if (op_kernel_neigh(p, ifindex, target)) {
        count(p, NDP_C_KERNEL_NEIGH);
        confirm(p, s, now);
        answer_ns(p, ns, now);
        return;
    }
    add_asker(s, ns);
    s->expires = now + retrans_ms(p) * retrans_limit(p);
    count(p, NDP_C_PENDING);
    incomplete_step(p, s, now);
}

void ndp_proxy_on_ns(struct ndp_proxy *p, const struct ndp_ns *ns, uint64_t now_ms)
{
    const struct in6_addr *target = &ns->msg->target;
    struct ndp_route rt;
    struct ndp_iface ifc;

    count(p, NDP_C_NS_SEEN);
    const struct conf_rule *rule = ndp_match_rule(p->cfg, target);
    if (!rule) {
        count(p, NDP_C_NO_RULE);
        return;
    }
    if (op_is_local(p, target)) {
        count(p, NDP_C_LOCAL);
        return;
    }
    switch (rule->method) {
    case CONF_PROXY_EXCLUDE:
        count(p, NDP_C_EXCLUDED);
        return;
    case CONF_PROXY_STATIC:
        answer_ns(p, ns, now_ms);
        return;
    case CONF_PROXY_6BED4:
        if (target->s6_addr[12] == 0 && target->s6_addr[13] == 0) {
            count(p, NDP_C_6BED4_PORT0);
            return;
        }
        if (op_member(p, CONF_PROXY_6BED4, rule->tunnel, target) == NDP_NO) {
            count(p, NDP_C_6BED4_DEAD);
            return;
        }
        answer_ns(p, ns, now_ms);
        return;
    case CONF_PROXY_TUNNEL:
        switch (op_member(p, CONF_PROXY_TUNNEL, rule->tunnel, target)) {
        case NDP_YES:
            answer_ns(p, ns, now_ms);
            return;
        case NDP_NO:
            count(p, NDP_C_NOT_TUNNEL);
            return;
        case NDP_UNKNOWN:
            break;
        }
        if (op_route(p, target, &rt) != 0) {
            count(p, NDP_C_NO_ROUTE);
            return;
        }
        if (rt.ifindex == p->link.ifindex) {
            count(p, NDP_C_ROUTE_BACK);
            return;
        }
        op_iface(p, rule->tunnel, &ifc);
        if (ifc.ifindex > 0 && rt.ifindex == ifc.ifindex) {
            answer_ns(p, ns, now_ms);
            return;
        }
        count(p, NDP_C_NOT_TUNNEL);
        return;
    case CONF_PROXY_AUTO:
        if (op_route(p, target, &rt) != 0) {
            count(p, NDP_C_NO_ROUTE);
            return;
        }
        if (rt.ifindex == p->link.ifindex) {
            count(p, NDP_C_ROUTE_BACK);
            return;
        }
        if (rt.via_gateway || !rt.link_nd) {
            /* routed on: nothing to confirm by ND there */
            answer_ns(p, ns, now_ms);
            return;
        }
        ns_session(p, ns, rt.ifindex, now_ms);
        return;
    case CONF_PROXY_IFACE:
        op_iface(p, rule->iface, &ifc);
        if (ifc.ifindex <= 0 || !ifc.up) {
            count(p, NDP_C_IFACE_DOWN);
            return;
        }
        if (!ifc.link_nd) {
            if (op_route(p, target, &rt) == 0 && rt.ifindex == ifc.ifindex)
                answer_ns(p, ns, now_ms);
            else
                count(p, NDP_C_NO_ROUTE);
            return;
        }
        ns_session(p, ns, ifc.ifindex, now_ms);
        return;
    }
    count(p, NDP_C_NO_RULE);
}

void ndp_proxy_on_na(struct ndp_proxy *p, int ifindex, const struct in6_addr *target,
                     uint64_t now_ms)
{
    struct e6_hentry *e = e6_htable_find(&p->sessions, target);
    struct session *s = e ? sess_of(e) : NULL;

    if (!s || s->ifindex != ifindex) {
        count(p, NDP_C_NA_UNMATCHED);
        return;
    }
    count(p, NDP_C_NA_RECEIVED);
    e6_htable_touch(&p->sessions, &s->h);
    confirm(p, s, now_ms);
}

/* ---- timers ------------------------------------------------------------------- */

static uint64_t source_due(const struct ndp_proxy *p)
{
    struct e6_hentry *e = e6_htable_oldest(&p->sources, 0);
    return e ? src_of(e)->last_ms + BUCKET_WINDOW_MS : NEVER;
}

uint64_t ndp_proxy_next(const struct ndp_proxy *p)
{
    uint64_t t = NEVER;
    for (int i = 0; i < TL__COUNT; i++)
        if (p->tl[i].head && p->tl[i].head->deadline < t)
            t = p->tl[i].head->deadline;
    if (p->dq_n && p->dq[0].due < t)
        t = p->dq[0].due;
    uint64_t sd = source_due(p);
    return sd < t ? sd : t;
}

void ndp_proxy_run(struct ndp_proxy *p, uint64_t now_ms)
{
    for (;;) {
        int best = -1;
        uint64_t t = NEVER;
        for (int i = 0; i < TL__COUNT; i++) {
            if (p->tl[i].head && p->tl[i].head->deadline < t) {
                t = p->tl[i].head->deadline;
                best = i;
            }
        }
        if (best < 0 || t > now_ms)
            break;
        struct session *s = p->tl[best].head;
        switch ((enum tlist)best) {
        case TL_PROBE:
            if (s->state == NDP_S_REFRESH)
                refresh_step(p, s, now_ms);
            else
                incomplete_step(p, s, now_ms);
            break;
        case TL_INVALID:
            session_end(p, s);
            break;
        case TL_VALID:
            if (s->asked)
                start_refresh(p, s, now_ms);
            else
                tl_add(p, s, TL_LATE, s->expires > now_ms ? s->expires : now_ms);
            break;
        case TL_LATE:
            count(p, NDP_C_EXPIRED);
            session_end(p, s);
            break;
        default:
            tl_del(p, s);
            break;
        }
    }
    while (p->dq_n && p->dq[0].due <= now_ms) {
        struct delayed d;
        dq_pop(p, &d);
        count(p, NDP_C_NA_DELAYED);
        send_now(p, &d.target, &d.who);
    }
    for (;;) {
        struct e6_hentry *e = e6_htable_oldest(&p->sources, 0);
        if (!e || src_of(e)->last_ms + BUCKET_WINDOW_MS > now_ms)
            break;
        /* its bucket is full again: forgetting it changes nothing */
        e6_htable_remove(&p->sources, e);
        free(src_of(e));
    }
}

/* ---- lifecycle ------------------------------------------------------------------ */

static int table_init(struct ndp_proxy *p, struct e6_htable *t, size_t bound)
{
    return e6_htable_init(
        t, bound ? bound : 1,
        (ptrdiff_t)(offsetof(struct session, target) - offsetof(struct session, h)),
        sizeof(struct in6_addr), on_evict, p);
}

struct ndp_proxy *ndp_proxy_new(const struct conf_proxy *cfg, const struct ndp_ops *ops, void *arg,
                                e6_counter_block cnt, uint64_t now_ms)
{
    struct ndp_proxy *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->cfg = cfg;
    p->ops = ops;
    p->arg = arg;
    p->cnt = cnt;
    if (table_init(p, &p->sessions, cfg->sessions) != 0) {
        free(p);
        return NULL;
    }
    if (e6_htable_init(&p->sources, NDP_MAX_SOURCES,
                       (ptrdiff_t)(offsetof(struct source, addr) - offsetof(struct source, h)),
                       sizeof(struct in6_addr), src_evict, p) != 0) {
        e6_htable_destroy(&p->sessions);
        free(p);
        return NULL;
    }
    p->g_last = now_ms;
    p->g_tokens =
        (uint64_t)(cfg->probe_rate ? cfg->probe_rate : 1) * NDP_GLOBAL_PROBE_FACTOR * MILLI;
    return p;
}

static void end_all(struct ndp_proxy *p)
{
    for (int i = 0; i < TL__COUNT; i++)
        while (p->tl[i].head)
            session_end(p, p->tl[i].head);
}

void ndp_proxy_free(struct ndp_proxy *p)
{
    if (!p)
        return;
    end_all(p);
    e6_htable_destroy(&p->sessions);
    e6_htable_destroy(&p->sources);
    free(p->dq);
    free(p);
}

/* Would the current config still send target to a session on ifindex? */
static bool still_holds(struct ndp_proxy *p, const struct session *s)
{
    const struct conf_rule *r = ndp_match_rule(p->cfg, &s->target);
    struct ndp_iface ifc;
    struct ndp_route rt;

    if (!r)
        return false;
    if (r->method == CONF_PROXY_IFACE) {
        op_iface(p, r->iface, &ifc);
        return ifc.ifindex == s->ifindex;
    }
    if (r->method == CONF_PROXY_AUTO)
        return op_route(p, &s->target, &rt) == 0 && rt.ifindex == s->ifindex && !rt.via_gateway &&
               rt.link_nd;
    return false;
}

/* Ends the sessions for which keep() is false. */
static void sweep(struct ndp_proxy *p,
                  bool (*keep)(struct ndp_proxy *, const struct session *, int), int arg)
{
    for (int i = 0; i < TL__COUNT; i++) {
        struct session *s = p->tl[i].head;
        while (s) {
            struct session *next = s->tnext;
            if (!keep(p, s, arg)) {
                count(p, NDP_C_REMOVED);
                session_end(p, s);
            }
            s = next;
        }
    }
}

static bool keep_reload(struct ndp_proxy *p, const struct session *s, int unused)
{
    (void)unused;
    return still_holds(p, s);
}

/* A new table of another bound: the least valuable go first, LRU order kept. */
static void resize(struct ndp_proxy *p, size_t bound)
{
    struct e6_htable nt;

    if (bound == 0)
        bound = 1;
    if (bound == p->sessions.max_entries)
        return;
    while (e6_htable_count(&p->sessions) > bound) {
        struct e6_hentry *e = NULL;
        for (uint8_t c = 0; c < E6_HTABLE_CLASSES && !e; c++)
            e = e6_htable_oldest(&p->sessions, c);
        count(p, NDP_C_EVICTED);
        session_end(p, sess_of(e));
    }
    if (table_init(p, &nt, bound) != 0)
        return; /* keep the old table (and its bound) rather than lose sessions */
    for (uint8_t c = 0; c < E6_HTABLE_CLASSES; c++) {
        struct e6_hentry *e;
        while ((e = e6_htable_oldest(&p->sessions, c)) != NULL) {
            e6_htable_remove(&p->sessions, e);
            e6_htable_insert(&nt, e, c); /* cannot fail: room for all, keys distinct */
        }
    }
    e6_htable_destroy(&p->sessions);
    p->sessions = nt;
}

void ndp_proxy_set_config(struct ndp_proxy *p, const struct conf_proxy *cfg, uint64_t now_ms)
{
    (void)now_ms;
    p->cfg = cfg;
    sweep(p, keep_reload, 0);
    resize(p, cfg->sessions);
}

void ndp_proxy_set_link(struct ndp_proxy *p, const struct ndp_link *link, uint64_t now_ms)
{
    (void)now_ms;
    p->link = *link;
}

static bool keep_iface(struct ndp_proxy *p, const struct session *s, int ifindex)
{
    if (ifindex > 0)
        return s->ifindex != ifindex;
    /* routes changed: auto sessions follow the route */
    const struct conf_rule *r = ndp_match_rule(p->cfg, &s->target);
    if (r && r->method == CONF_PROXY_AUTO)
        return still_holds(p, s);
    return true;
}

void ndp_proxy_iface_changed(struct ndp_proxy *p, int ifindex, uint64_t now_ms)
{
    (void)now_ms;
    sweep(p, keep_iface, ifindex);
}

/* ---- views ------------------------------------------------------------------------- */

void ndp_proxy_session_counts(const struct ndp_proxy *p, size_t out[NDP_S__COUNT])
{
    for (int i = 0; i < NDP_S__COUNT; i++)
        out[i] = p->n_state[i];
}

size_t ndp_proxy_session_total(const struct ndp_proxy *p)
{
    return e6_htable_count(&p->sessions);
}

void ndp_proxy_foreach(const struct ndp_proxy *p,
                       void (*fn)(void *arg, const struct ndp_session_view *s), void *arg)
{
    for (int i = 0; i < TL__COUNT; i++) {
        for (const struct session *s = p->tl[i].head; s; s = s->tnext) {
            struct ndp_session_view v = {
                .target = s->target,
                .state = (enum ndp_state)s->state,
                .ifindex = s->ifindex,
                .expires_ms = s->expires,
                .tries = s->tries,
                .askers = s->n_askers,
                .asked = s->asked_count,
            };
            const struct conf_rule *r = ndp_match_rule(p->cfg, &s->target);
            if (r) {
                v.method = r->method;
                v.rule = r->prefix;
            }
            fn(arg, &v);
        }
    }
}
