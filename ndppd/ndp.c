/*
 * ndppd/ndp: the NDP proxy engine (see ndp.h), first half: rule matching,
 * the verdict of each method, the RFC 4861 7.2.4 answer and its 7.2.8
 * delay queue, and the engine's life. The session table of iface/auto
 * rules, its timers and the probe budgets are ndppd/ndp_session.c.
 *
 * Choices made here and there:
 * - Table classes: INVALID 0, INCOMPLETE 1, VALID/REFRESH 2. New targets
 *   enter as class 1 (even when the kernel already knows them), so a flood
 *   of unknown targets only churns unconfirmed entries and a table full of
 *   confirmed ones refuses new targets instead of dropping known ones.
 * - Probe budgets (token buckets per asking source and overall) are charged
 *   for new targets only, before the kernel is asked about them: refreshes
 *   of confirmed targets are never limited (RFC 6583 7.2.4: NUD of
 *   existing entries before new resolutions).
 * - Answers to askers of a target being probed go out when it is
 *   confirmed, without the 7.2.8 delay: they already waited.
 * - A delayed answer is built when it is sent, from the link as it is
 *   then (a MAC change meanwhile is honoured).
 * - A session keeps no pointer into the config; its rule is matched again
 *   when needed (views, reload), so a reload never leaves one dangling.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/addr.h"
#include "ndppd/ndp_int.h"

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

static const struct in6_addr all_nodes = {{{0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}}};
static const uint8_t all_nodes_mac[6] = {0x33, 0x33, 0, 0, 0, 1};

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

int ndp_op_route(struct ndp_proxy *p, const struct in6_addr *t, struct ndp_route *out)
{
    memset(out, 0, sizeof(*out));
    if (!p->ops->route || p->ops->route(p->arg, t, out) != 0 || out->reject || out->ifindex <= 0)
        return -ENOENT;
    return 0;
}

void ndp_op_iface(struct ndp_proxy *p, const char *name, struct ndp_iface *out)
{
    memset(out, 0, sizeof(*out));
    if (p->ops->iface && name)
        p->ops->iface(p->arg, name, out);
}

bool ndp_op_kernel_neigh(struct ndp_proxy *p, int ifindex, const struct in6_addr *t)
{
    return p->ops->kernel_neigh && p->ops->kernel_neigh(p->arg, ifindex, t);
}

void ndp_op_updown(struct ndp_proxy *p, struct ndp_session *s, bool up)
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
                     const struct in6_addr *target, const struct ndp_asker *who, uint8_t *buf,
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

void ndp_asker_from_ns(const struct ndp_ns *ns, struct ndp_asker *a)
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
    struct ndp_asker a;
    ndp_asker_from_ns(ns, &a);
    return build_na(cfg, link, &ns->msg->target, &a, buf, cap, tx);
}

void ndp_send_now(struct ndp_proxy *p, const struct in6_addr *target, const struct ndp_asker *who)
{
    uint8_t buf[64];
    struct ndp_tx tx;

    if (!build_na(p->cfg, &p->link, target, who, buf, sizeof(buf), &tx)) {
        ndp_count(p, NDP_C_NO_LINKLOCAL);
        return;
    }
    if (p->ops->send_na)
        p->ops->send_na(p->arg, &tx);
    ndp_count(p, NDP_C_NA_SENT);
    if (e6_addr_is_unspecified(&who->src))
        ndp_count(p, NDP_C_NA_SENT_DAD);
}

static bool dq_less(const struct ndp_delayed *a, const struct ndp_delayed *b)
{
    return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static void dq_swap(struct ndp_delayed *a, struct ndp_delayed *b)
{
    struct ndp_delayed t = *a;
    *a = *b;
    *b = t;
}

static bool dq_push(struct ndp_proxy *p, const struct ndp_delayed *d)
{
    if (p->dq_n == p->dq_cap) {
        if (p->dq_cap >= NDP_MAX_DELAYED)
            return false;
        size_t nc = p->dq_cap ? p->dq_cap * 2 : 16;
        if (nc > NDP_MAX_DELAYED)
            nc = NDP_MAX_DELAYED;
        struct ndp_delayed *n = realloc(p->dq, nc * sizeof(*n));
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

static void dq_pop(struct ndp_proxy *p, struct ndp_delayed *out)
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

void ndp_answer_ns(struct ndp_proxy *p, const struct ndp_ns *ns, uint64_t now)
{
    struct ndp_delayed d = {0};

    ndp_asker_from_ns(ns, &d.who);
    if (p->cfg->answer_delay > 0 && e6_addr_is_multicast(&ns->msg->dst)) {
        uint32_t r = p->ops->rand ? p->ops->rand(p->arg) : 0;
        uint64_t delay = ((uint64_t)(p->cfg->answer_delay + 1) * r) >> 32;
        if (delay > 0) {
            d.due = now + delay;
            d.seq = p->dq_seq++;
            d.target = ns->msg->target;
            if (dq_push(p, &d))
                return;
            ndp_count(p, NDP_C_DELAY_OVERFLOW);
        }
    }
    ndp_send_now(p, &ns->msg->target, &d.who);
}

uint64_t ndp_delay_next(const struct ndp_proxy *p)
{
    return p->dq_n ? p->dq[0].due : NDP_NEVER;
}

void ndp_delay_run(struct ndp_proxy *p, uint64_t now)
{
    while (p->dq_n && p->dq[0].due <= now) {
        struct ndp_delayed d;
        dq_pop(p, &d);
        ndp_count(p, NDP_C_NA_DELAYED);
        ndp_send_now(p, &d.target, &d.who);
    }
}

/* ---- NS --------------------------------------------------------------------------- */

void ndp_proxy_on_ns(struct ndp_proxy *p, const struct ndp_ns *ns, uint64_t now_ms)
{
    const struct in6_addr *target = &ns->msg->target;
    struct ndp_route rt;
    struct ndp_iface ifc;

    ndp_count(p, NDP_C_NS_SEEN);
    const struct conf_rule *rule = ndp_match_rule(p->cfg, target);
    if (!rule) {
        ndp_count(p, NDP_C_NO_RULE);
        return;
    }
    if (op_is_local(p, target)) {
        ndp_count(p, NDP_C_LOCAL);
        return;
    }
    switch (rule->method) {
    case CONF_PROXY_EXCLUDE:
        ndp_count(p, NDP_C_EXCLUDED);
        return;
    case CONF_PROXY_STATIC:
        ndp_answer_ns(p, ns, now_ms);
        return;
    case CONF_PROXY_6BED4:
        if (target->s6_addr[12] == 0 && target->s6_addr[13] == 0) {
            ndp_count(p, NDP_C_6BED4_PORT0);
            return;
        }
        if (op_member(p, CONF_PROXY_6BED4, rule->tunnel, target) == NDP_NO) {
            ndp_count(p, NDP_C_6BED4_DEAD);
            return;
        }
        ndp_answer_ns(p, ns, now_ms);
        return;
    case CONF_PROXY_TUNNEL:
        switch (op_member(p, CONF_PROXY_TUNNEL, rule->tunnel, target)) {
        case NDP_YES:
            ndp_answer_ns(p, ns, now_ms);
            return;
        case NDP_NO:
            ndp_count(p, NDP_C_NOT_TUNNEL);
            return;
        case NDP_UNKNOWN:
            break;
        }
        if (ndp_op_route(p, target, &rt) != 0) {
            ndp_count(p, NDP_C_NO_ROUTE);
            return;
        }
        if (rt.ifindex == p->link.ifindex) {
            ndp_count(p, NDP_C_ROUTE_BACK);
            return;
        }
        ndp_op_iface(p, rule->tunnel, &ifc);
        if (ifc.ifindex > 0 && rt.ifindex == ifc.ifindex) {
            ndp_answer_ns(p, ns, now_ms);
            return;
        }
        ndp_count(p, NDP_C_NOT_TUNNEL);
        return;
    case CONF_PROXY_AUTO:
        if (ndp_op_route(p, target, &rt) != 0) {
            ndp_count(p, NDP_C_NO_ROUTE);
            return;
        }
        if (rt.ifindex == p->link.ifindex) {
            ndp_count(p, NDP_C_ROUTE_BACK);
            return;
        }
        if (rt.via_gateway || !rt.link_nd) {
            /* routed on: nothing to confirm by ND there */
            ndp_answer_ns(p, ns, now_ms);
            return;
        }
        ndp_session_ns(p, ns, rt.ifindex, now_ms);
        return;
    case CONF_PROXY_IFACE:
        ndp_op_iface(p, rule->iface, &ifc);
        if (ifc.ifindex <= 0 || !ifc.up) {
            ndp_count(p, NDP_C_IFACE_DOWN);
            return;
        }
        if (!ifc.link_nd) {
            if (ndp_op_route(p, target, &rt) == 0 && rt.ifindex == ifc.ifindex)
                ndp_answer_ns(p, ns, now_ms);
            else
                ndp_count(p, NDP_C_NO_ROUTE);
            return;
        }
        ndp_session_ns(p, ns, ifc.ifindex, now_ms);
        return;
    }
    ndp_count(p, NDP_C_NO_RULE);
}

/* ---- lifecycle ------------------------------------------------------------------ */

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
    if (ndp_sessions_init(p, now_ms) != 0) {
        free(p);
        return NULL;
    }
    return p;
}

void ndp_proxy_free(struct ndp_proxy *p)
{
    if (!p)
        return;
    ndp_sessions_fini(p);
    free(p->dq);
    free(p);
}

void ndp_proxy_set_config(struct ndp_proxy *p, const struct conf_proxy *cfg, uint64_t now_ms)
{
    (void)now_ms;
    p->cfg = cfg;
    ndp_sessions_reconcile(p);
}

void ndp_proxy_set_link(struct ndp_proxy *p, const struct ndp_link *link, uint64_t now_ms)
{
    (void)now_ms;
    p->link = *link;
}
