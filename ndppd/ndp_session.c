/*
 * ndppd/ndp_session: the session table of iface/auto rules (see ndp.h and
 * the choices listed in ndp.c): the bounded e6_htable and its classes, the
 * state machine and its timer lists, the per-source and global probe
 * budgets, downstream NAs, reload and interface reconciliation, and the
 * views.
 *
 * Every session sits in exactly one timer list, each list holding one kind
 * of deadline (probe retransmission, end of INVALID, start of the refresh
 * window, end of an unasked VALID). A list's lifetime is one config value,
 * so appending keeps it sorted; insertion walks back from the tail only
 * after a reload changed a lifetime. next() is the least of a few list
 * heads: nothing scans the table per run.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/addr.h"
#include "ndppd/ndp_int.h"

/* Refill window of a probe bucket: burst == rate, so a second */
#define BUCKET_WINDOW_MS 1000
#define MILLI            1000ull

/* ---- timer lists ------------------------------------------------------------ */

static void tl_del(struct ndp_proxy *p, struct ndp_session *s)
{
    if (s->tlist == TL_NONE)
        return;
    struct ndp_tl *l = &p->tl[s->tlist];
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
static void tl_add(struct ndp_proxy *p, struct ndp_session *s, enum ndp_tlist which,
                   uint64_t deadline)
{
    tl_del(p, s);
    struct ndp_tl *l = &p->tl[which];
    struct ndp_session *after = l->tail;
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

/* 1..255: a session counts its tries in a byte (the config allows 1..10) */
static unsigned retrans_limit(const struct ndp_proxy *p)
{
    unsigned v = p->cfg->retrans_limit;
    return v == 0 ? 1 : v > UINT8_MAX ? UINT8_MAX : v;
}

static void set_state(struct ndp_proxy *p, struct ndp_session *s, enum ndp_state st)
{
    p->n_state[s->state]--;
    s->state = (uint8_t)st;
    p->n_state[st]++;
}

static void session_free(struct ndp_proxy *p, struct ndp_session *s)
{
    tl_del(p, s);
    p->n_state[s->state]--;
    free(s);
}

/* Ends a session that is (or was) in the table: down if it was up, freed. */
static void session_end(struct ndp_proxy *p, struct ndp_session *s)
{
    e6_htable_remove(&p->sessions, &s->h);
    if (s->up) {
        s->up = false;
        ndp_op_updown(p, s, false);
    }
    session_free(p, s);
}

/* The table made room: only unconfirmed ones can go this way, but be exact. */
static void on_evict(struct e6_hentry *e, void *arg)
{
    struct ndp_proxy *p = arg;
    struct ndp_session *s = ndp_sess_of(e);
    ndp_count(p, NDP_C_EVICTED);
    if (s->up) {
        s->up = false;
        ndp_op_updown(p, s, false);
    }
    session_free(p, s);
}

static void answer_askers(struct ndp_proxy *p, struct ndp_session *s)
{
    for (unsigned i = 0; i < s->n_askers; i++)
        ndp_send_now(p, &s->target, &s->askers[i]);
    s->n_askers = 0;
}

static void schedule_valid(struct ndp_proxy *p, struct ndp_session *s, uint64_t now)
{
    uint64_t life = (uint64_t)(p->cfg->valid_ttl ? p->cfg->valid_ttl : 30) * 1000;
    uint64_t lead = retrans_ms(p) * retrans_limit(p);
    s->expires = now + life;
    tl_add(p, s, TL_VALID, now + (life > lead ? life - lead : 0));
}

/* Confirmed (NA, kernel neighbour): VALID with a new life, askers answered. */
static void confirm(struct ndp_proxy *p, struct ndp_session *s, uint64_t now)
{
    set_state(p, s, NDP_S_VALID);
    e6_htable_set_class(&p->sessions, &s->h, CLS_VALID);
    s->asked = false;
    s->tries = 0;
    schedule_valid(p, s, now);
    if (!s->up) {
        s->up = true;
        ndp_count(p, NDP_C_CONFIRMED);
        ndp_op_updown(p, s, true);
    }
    answer_askers(p, s);
}

static void go_invalid(struct ndp_proxy *p, struct ndp_session *s, uint64_t now)
{
    if (s->state == NDP_S_REFRESH || s->state == NDP_S_VALID)
        ndp_count(p, NDP_C_EXPIRED);
    ndp_count(p, NDP_C_FAILED);
    set_state(p, s, NDP_S_INVALID);
    e6_htable_set_class(&p->sessions, &s->h, CLS_INVALID);
    s->n_askers = 0;
    s->tries = 0;
    s->asked = false;
    s->expires = now + (uint64_t)(p->cfg->invalid_ttl ? p->cfg->invalid_ttl : 5) * 1000;
    tl_add(p, s, TL_INVALID, s->expires);
    if (s->up) {
        s->up = false;
        ndp_op_updown(p, s, false);
    }
}

static void probe(struct ndp_proxy *p, struct ndp_session *s, bool unicast)
{
    s->tries++;
    if (p->ops->send_probe && p->ops->send_probe(p->arg, s->ifindex, &s->target, unicast)) {
        ndp_count(p, NDP_C_PROBE_SENT);
        if (unicast)
            ndp_count(p, NDP_C_REFRESH_SENT);
    }
}

/* One step of probing a new target: another try, or give up. */
static void incomplete_step(struct ndp_proxy *p, struct ndp_session *s, uint64_t now)
{
    if (s->tries >= retrans_limit(p)) {
        go_invalid(p, s, now);
        return;
    }
    probe(p, s, false);
    tl_add(p, s, TL_PROBE, now + retrans_ms(p));
}

/* One step of a refresh: the kernel knows it, another unicast try, or fail. */
static void refresh_step(struct ndp_proxy *p, struct ndp_session *s, uint64_t now)
{
    if (ndp_op_kernel_neigh(p, s->ifindex, &s->target)) {
        ndp_count(p, NDP_C_KERNEL_NEIGH);
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

static void start_refresh(struct ndp_proxy *p, struct ndp_session *s, uint64_t now)
{
    set_state(p, s, NDP_S_REFRESH);
    s->tries = 0;
    uint64_t end = now + retrans_ms(p) * retrans_limit(p);
    if (end > s->expires)
        s->expires = end;
    refresh_step(p, s, now);
}

static void add_asker(struct ndp_session *s, const struct ndp_ns *ns)
{
    struct ndp_asker a;
    unsigned i;

    ndp_asker_from_ns(ns, &a);
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
    free(ndp_src_of(e));
}

/*
 * The asking source's bucket (created full), refilled to now, or NULL when
 * memory is short (then only the global budget applies).
 */
static struct ndp_source *source_get(struct ndp_proxy *p, const struct in6_addr *src, uint64_t now)
{
    uint64_t rate = p->cfg->probe_rate ? p->cfg->probe_rate : 1;
    uint64_t cap = rate * MILLI;
    struct e6_hentry *e = e6_htable_find(&p->sources, src);
    struct ndp_source *s;

    if (e) {
        s = ndp_src_of(e);
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

/* The global bucket g (0: multicast NS, 1: unicast NS), refilled to now. */
static uint64_t *global_get(struct ndp_proxy *p, int g, uint64_t now)
{
    uint64_t rate =
        (uint64_t)(p->cfg->probe_rate ? p->cfg->probe_rate : 1) * NDP_GLOBAL_PROBE_FACTOR;
    p->g_tokens[g] = refill(p->g_tokens[g], p->g_last[g], now, rate, rate * MILLI);
    p->g_last[g] = now;
    return &p->g_tokens[g];
}

/* ---- NS and NA ---------------------------------------------------------------- */

void ndp_session_ns(struct ndp_proxy *p, const struct ndp_ns *ns, int ifindex, uint64_t now)
{
    const struct in6_addr *target = &ns->msg->target;
    struct e6_hentry *e = e6_htable_find(&p->sessions, target);
    struct ndp_session *s = e ? ndp_sess_of(e) : NULL;

    if (s && s->ifindex != ifindex) {
        /* the target moved to another downstream link: start over there */
        ndp_count(p, NDP_C_REMOVED);
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
            ndp_answer_ns(p, ns, now);
            if (s->tlist == TL_LATE)
                start_refresh(p, s, now); /* asked once the window had opened */
            return;
        case NDP_S_INCOMPLETE:
            add_asker(s, ns);
            e6_htable_touch(&p->sessions, &s->h);
            ndp_count(p, NDP_C_PENDING);
            return;
        case NDP_S_INVALID:
        case NDP_S__COUNT:
            ndp_count(p, NDP_C_INVALID);
            return;
        }
        return;
    }

    /*
     * A new target: budgets first, so a flood costs no allocation. A
     * unicast NS is a re-resolution (NUD) of a target the asker had cached,
     * which only an answer of ours put there: a scan of unknown targets
     * cannot produce it. It has its own global budget and no per-source
     * one, so a scan by the upstream router cannot starve the targets it
     * already uses (RFC 6583 7.2.4) once their sessions have lapsed.
     */
    bool nud = !e6_addr_is_multicast(&ns->msg->dst);
    struct ndp_source *src = nud ? NULL : source_get(p, &ns->msg->src, now);
    uint64_t *global = global_get(p, nud, now);
    if ((src && src->tokens < MILLI) || *global < MILLI) {
        ndp_count(p, NDP_C_PROBE_RATELIMITED);
        return;
    }
    s = calloc(1, sizeof(*s));
    if (!s) {
        ndp_count(p, NDP_C_SESSION_FULL);
        return;
    }
    s->target = *target;
    s->ifindex = ifindex;
    s->state = NDP_S_INCOMPLETE;
    s->tlist = TL_NONE;
    s->asked_count = 1;
    if (e6_htable_insert(&p->sessions, &s->h, CLS_INCOMPLETE) != 0) {
        free(s);
        ndp_count(p, NDP_C_SESSION_FULL);
        return;
    }
    p->n_state[NDP_S_INCOMPLETE]++;
    if (src)
        src->tokens -= MILLI;
    *global -= MILLI;

    if (ndp_op_kernel_neigh(p, ifindex, target)) {
        ndp_count(p, NDP_C_KERNEL_NEIGH);
        confirm(p, s, now);
        ndp_answer_ns(p, ns, now);
        return;
    }
    add_asker(s, ns);
    s->expires = now + retrans_ms(p) * retrans_limit(p);
    ndp_count(p, NDP_C_PENDING);
    incomplete_step(p, s, now);
}

void ndp_proxy_on_na(struct ndp_proxy *p, int ifindex, const struct in6_addr *target,
                     uint64_t now_ms)
{
    struct e6_hentry *e = e6_htable_find(&p->sessions, target);
    struct ndp_session *s = e ? ndp_sess_of(e) : NULL;

    if (!s || s->ifindex != ifindex) {
        ndp_count(p, NDP_C_NA_UNMATCHED);
        return;
    }
    ndp_count(p, NDP_C_NA_RECEIVED);
    e6_htable_touch(&p->sessions, &s->h);
    confirm(p, s, now_ms);
}

/* ---- timers ------------------------------------------------------------------- */

static uint64_t source_due(const struct ndp_proxy *p)
{
    struct e6_hentry *e = e6_htable_oldest(&p->sources, 0);
    return e ? ndp_src_of(e)->last_ms + BUCKET_WINDOW_MS : NDP_NEVER;
}

uint64_t ndp_proxy_next(const struct ndp_proxy *p)
{
    uint64_t t = NDP_NEVER;
    for (int i = 0; i < TL__COUNT; i++)
        if (p->tl[i].head && p->tl[i].head->deadline < t)
            t = p->tl[i].head->deadline;
    uint64_t dq = ndp_delay_next(p);
    if (dq < t)
        t = dq;
    uint64_t sd = source_due(p);
    return sd < t ? sd : t;
}

void ndp_proxy_run(struct ndp_proxy *p, uint64_t now_ms)
{
    for (;;) {
        int best = -1;
        uint64_t t = NDP_NEVER;
        for (int i = 0; i < TL__COUNT; i++) {
            if (p->tl[i].head && p->tl[i].head->deadline < t) {
                t = p->tl[i].head->deadline;
                best = i;
            }
        }
        if (best < 0 || t > now_ms)
            break;
        struct ndp_session *s = p->tl[best].head;
        switch ((enum ndp_tlist)best) {
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
            ndp_count(p, NDP_C_EXPIRED);
            session_end(p, s);
            break;
        default:
            tl_del(p, s);
            break;
        }
    }
    ndp_delay_run(p, now_ms);
    for (;;) {
        struct e6_hentry *e = e6_htable_oldest(&p->sources, 0);
        if (!e || ndp_src_of(e)->last_ms + BUCKET_WINDOW_MS > now_ms)
            break;
        /* its bucket is full again: forgetting it changes nothing */
        e6_htable_remove(&p->sources, e);
        free(ndp_src_of(e));
    }
}

/* ---- lifecycle, reload, interface changes ------------------------------------------ */

static int table_init(struct ndp_proxy *p, struct e6_htable *t, size_t bound)
{
    return e6_htable_init(
        t, bound ? bound : 1,
        (ptrdiff_t)(offsetof(struct ndp_session, target) - offsetof(struct ndp_session, h)),
        sizeof(struct in6_addr), on_evict, p);
}

int ndp_sessions_init(struct ndp_proxy *p, uint64_t now)
{
    if (table_init(p, &p->sessions, p->cfg->sessions) != 0)
        return -ENOMEM;
    if (e6_htable_init(
            &p->sources, NDP_MAX_SOURCES,
            (ptrdiff_t)(offsetof(struct ndp_source, addr) - offsetof(struct ndp_source, h)),
            sizeof(struct in6_addr), src_evict, p) != 0) {
        e6_htable_destroy(&p->sessions);
        return -ENOMEM;
    }
    for (int g = 0; g < 2; g++) {
        p->g_last[g] = now;
        p->g_tokens[g] = (uint64_t)(p->cfg->probe_rate ? p->cfg->probe_rate : 1) *
                         NDP_GLOBAL_PROBE_FACTOR * MILLI;
    }
    return 0;
}

static void end_all(struct ndp_proxy *p)
{
    for (int i = 0; i < TL__COUNT; i++)
        while (p->tl[i].head)
            session_end(p, p->tl[i].head);
}

void ndp_sessions_fini(struct ndp_proxy *p)
{
    end_all(p);
    e6_htable_destroy(&p->sessions);
    e6_htable_destroy(&p->sources);
}

/* Would the current config still send target to a session on ifindex? */
static bool still_holds(struct ndp_proxy *p, const struct ndp_session *s)
{
    const struct conf_rule *r = ndp_match_rule(p->cfg, &s->target);
    struct ndp_iface ifc;
    struct ndp_route rt;

    if (!r)
        return false;
    if (r->method == CONF_PROXY_IFACE) {
        ndp_op_iface(p, r->iface, &ifc);
        return ifc.ifindex == s->ifindex;
    }
    if (r->method == CONF_PROXY_AUTO)
        return ndp_op_route(p, &s->target, &rt) == 0 && rt.ifindex == s->ifindex &&
               !rt.via_gateway && rt.link_nd;
    return false;
}

/* Ends the sessions for which keep() is false. */
static void sweep(struct ndp_proxy *p,
                  bool (*keep)(struct ndp_proxy *, const struct ndp_session *, int), int arg)
{
    for (int i = 0; i < TL__COUNT; i++) {
        struct ndp_session *s = p->tl[i].head;
        while (s) {
            struct ndp_session *next = s->tnext;
            if (!keep(p, s, arg)) {
                ndp_count(p, NDP_C_REMOVED);
                session_end(p, s);
            }
            s = next;
        }
    }
}

static bool keep_reload(struct ndp_proxy *p, const struct ndp_session *s, int unused)
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
        ndp_count(p, NDP_C_EVICTED);
        session_end(p, ndp_sess_of(e));
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

void ndp_sessions_reconcile(struct ndp_proxy *p)
{
    sweep(p, keep_reload, 0);
    resize(p, p->cfg->sessions);
}

static bool keep_iface(struct ndp_proxy *p, const struct ndp_session *s, int ifindex)
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
        for (const struct ndp_session *s = p->tl[i].head; s; s = s->tnext) {
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
