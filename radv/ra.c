/*
 * radv/ra: the RA engine's state and timers (RFC 4861 6.2.2-6.2.6): when to
 * advertise, the initial burst, the answers to Router Solicitations
 * (random delay, unicast or coalesced multicast, the 3 s multicast floor),
 * and the final RAs. What the RAs say is radv/ra_content.c; the status view
 * and the checks of other routers' RAs are radv/ra_view.c.
 *
 * Readings of RFC 4861 taken here:
 * - "initial" RAs: the first goes out as soon as the engine becomes able
 *   (or the content changes), subject only to the 3 s multicast floor:
 *   6.2.6's random delay is for answers to solicitations, and hosts that
 *   just came up want the prefix now. The intervals before the 2nd and 3rd
 *   are random, capped at MAX_INITIAL_RTR_ADVERT_INTERVAL (6.2.4), which is
 *   what keeps routers started together from staying in step.
 * - MIN_DELAY_BETWEEN_RAS holds for every multicast RA, periodic,
 *   solicited and final alike; unicast answers do not count against it.
 * - One multicast RA answers every solicitation pending when it goes out,
 *   including a periodic one that falls inside an RS's random delay
 *   (6.2.6: "sent at the scheduled time" then), and resets the periodic
 *   timer.
 * - Unicast answers (RFC 7772) for up to RA_MAX_PENDING_RS distinct
 *   sources at a time; beyond that one multicast RA, so an RS flood from
 *   many sources costs at most one multicast RA per 3 s plus a bounded
 *   number of unicasts.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "radv/ra_int.h"

static const struct in6_addr all_nodes = {{{0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}}};

const char *const ra_counter_names[RA_C__COUNT] = {
    [RA_C_SENT_PERIODIC] = "sent_periodic",
    [RA_C_SENT_SOLICITED_MCAST] = "sent_solicited_multicast",
    [RA_C_SENT_SOLICITED_UNICAST] = "sent_solicited_unicast",
    [RA_C_SENT_FINAL] = "sent_final",
    [RA_C_SENT_SPLIT_EXTRA] = "sent_split_extra",
    [RA_C_RS_RECEIVED] = "rs_received",
    [RA_C_RS_COALESCED] = "rs_coalesced",
    [RA_C_RA_RECEIVED] = "ra_received",
    [RA_C_RA_INCONSISTENT] = "ra_inconsistent",
    [RA_C_FORWARDING_OFF] = "forwarding_off",
};

const char *ra_state_name(enum ra_state s)
{
    switch (s) {
    case RA_ST_DISABLED:
        return "disabled";
    case RA_ST_NO_LINK:
        return "no-link";
    case RA_ST_DOWN:
        return "down";
    case RA_ST_NO_LINKLOCAL:
        return "no-linklocal";
    case RA_ST_ADVERTISING:
        return "advertising";
    case RA_ST_STOPPING:
        return "stopping";
    case RA_ST_STOPPED:
        return "stopped";
    }
    return "?";
}

void ra_count(struct ra_engine *e, enum ra_counter c, uint64_t n)
{
    e->local[c] += n;
    if (e->cnt.v)
        e6_count_add(e->cnt, c, n);
}

/* ---- randomness and timers ------------------------------------------------ */

/* uniform in [lo, hi] */
static uint64_t rnd_range(struct ra_engine *e, uint64_t lo, uint64_t hi)
{
    uint32_t r = e->rnd ? e->rnd(e->rnd_arg) : 0;
    return lo + (((hi - lo + 1) * (uint64_t)r) >> 32);
}

/* RFC 4861 6.2.6: multicast RAs at most one per MIN_DELAY_BETWEEN_RAS */
static uint64_t mcast_floor(const struct ra_engine *e, uint64_t t)
{
    if (e->have_last_mcast && t < e->last_mcast_ms + RA_MIN_DELAY_BETWEEN_RAS_MS)
        return e->last_mcast_ms + RA_MIN_DELAY_BETWEEN_RAS_MS;
    return t;
}

static void intervals(const struct ra_engine *e, uint64_t *lo, uint64_t *hi)
{
    uint64_t max = e->cfg->max_interval ? e->cfg->max_interval : 600;
    uint64_t min = e->cfg->min_interval;
    if (min < 3)
        min = 3; /* RFC 4861 6.2.1 */
    if (min > max)
        min = max;
    *lo = min * 1000;
    *hi = max * 1000;
}

/* RFC 4861 6.2.4: uniform in [Min, Max]; the first few capped at 16 s */
static void schedule_periodic(struct ra_engine *e, uint64_t now)
{
    uint64_t lo, hi;
    intervals(e, &lo, &hi);
    uint64_t iv = rnd_range(e, lo, hi);
    if (e->initial_sent < RA_MAX_INITIAL_RTR_ADVERTISEMENTS &&
        iv > RA_MAX_INITIAL_RTR_ADVERT_INTERVAL_MS)
        iv = RA_MAX_INITIAL_RTR_ADVERT_INTERVAL_MS;
    e->periodic_due_ms = mcast_floor(e, now + iv);
}

/* Now (or when the 3 s floor allows), then up to 3 RAs at <= 16 s. */
static void start_burst(struct ra_engine *e, uint64_t now)
{
    uint64_t due = mcast_floor(e, now);
    e->initial_sent = 0;
    if (e->periodic_due_ms == RA_NEVER || due < e->periodic_due_ms)
        e->periodic_due_ms = due;
}

static bool link_usable(const struct ra_engine *e)
{
    return e->link.present && e->link.up && e->link.have_linklocal;
}

static bool compute_able(const struct ra_engine *e)
{
    return !e->stopped && e->cfg->advertise && link_usable(e);
}

static void clear_pending(struct ra_engine *e)
{
    e->n_ucast = 0;
    e->mcast_pending = false;
    e->periodic_due_ms = RA_NEVER;
}

static void start_final(struct ra_engine *e, uint64_t now)
{
    e->final_left = RA_MAX_FINAL_RTR_ADVERTISEMENTS;
    e->final_due_ms = mcast_floor(e, now);
    e->final_withdraw = e->cfg->withdraw_on_exit;
}

/*
 * After any input: recompute the content, then whether we advertise. A
 * change of content restarts the initial burst (RFC 4861 6.2.4 MAY),
 * becoming able starts it, ceasing to advertise while the link is still
 * usable sends final RAs (RFC 4861 6.2.5).
 */
static void reevaluate(struct ra_engine *e, uint64_t now)
{
    bool was_able = e->able;
    bool changed = ra_content_update(e, now);
    e->able = compute_able(e);
    if (e->able) {
        e->final_left = 0;
        if (!was_able)
            start_burst(e, now);
        else if (changed)
            start_burst(e, now);
    } else {
        if (was_able) {
            clear_pending(e);
            if (link_usable(e) && !e->stopped)
                start_final(e, now); /* advertise turned off */
        }
        if (!link_usable(e))
            e->final_left = 0; /* nowhere to send them */
    }
}

/* ---- API ------------------------------------------------------------------- */

struct ra_engine *ra_engine_new(const struct conf_interface *cfg, e6_counter_block cnt,
                                ra_rand_fn rnd, void *rnd_arg, uint64_t now_ms)
{
    struct ra_engine *e = calloc(1, sizeof(*e));
    if (!e)
        return NULL;
    e->cfg = cfg;
    e->cnt = cnt;
    e->rnd = rnd;
    e->rnd_arg = rnd_arg;
    e->link_ms = now_ms;
    e->periodic_due_ms = RA_NEVER;
    e->final_due_ms = RA_NEVER;
    reevaluate(e, now_ms);
    return e;
}

void ra_engine_free(struct ra_engine *e)
{
    if (!e)
        return;
    ra_pktset_free(&e->cache);
    free(e->key);
    free(e->tr);
    free(e);
}

void ra_engine_set_config(struct ra_engine *e, const struct conf_interface *cfg, uint64_t now_ms)
{
    e->cfg = cfg;
    /* the cached model points nowhere into cfg, but its bytes came from the
     * old config: rebuild from the new one at the next send */
    e->cache_valid = false;
    if (e->stopped)
        return;
    reevaluate(e, now_ms);
}

void ra_engine_set_link(struct ra_engine *e, const struct ra_link *link, uint64_t now_ms)
{
    e->link = *link;
    if (e->link.n_addrs > RA_MAX_ADDRS)
        e->link.n_addrs = RA_MAX_ADDRS;
    e->link_ms = now_ms;
    if (e->stopped) {
        if (!link_usable(e))
            e->final_left = 0;
        /* final RAs carry what we advertised: refresh the records quietly */
        ra_content_update(e, now_ms);
        return;
    }
    reevaluate(e, now_ms);
}

void ra_engine_add_stale(struct ra_engine *e, const struct e6_prefix *p, bool on_link,
                         bool autonomous, uint64_t until_ms)
{
    if (p->len > 128)
        return;
    struct e6_prefix pm = *p;
    e6_addr_mask(&pm.addr, pm.len);
    struct ra_track *t = ra_track_find(e, &pm);
    if (!t) {
        if (e->n_tr == e->cap_tr) {
            size_t cap = e->cap_tr ? e->cap_tr * 2 : 16;
            struct ra_track *n = realloc(e->tr, cap * sizeof(*n));
            if (!n)
                return;
            e->tr = n;
            e->cap_tr = cap;
        }
        t = &e->tr[e->n_tr++];
        memset(t, 0, sizeof(*t));
        t->prefix = pm;
        t->on_link = on_link;
        t->autonomous = autonomous;
        /* no clock here: the latest it can have been advertised */
        t->stale_since_ms =
            until_ms > (uint64_t)RA_ND_VALID_LIMIT * 1000 ? until_ms - RA_ND_VALID_LIMIT * 1000 : 0;
    }
    /* hosts may hold it until then, whether or not it is still ours */
    if (until_ms > t->hold_until_ms)
        t->hold_until_ms = until_ms;
    /* the next send or input recomputes the content */
    e->key_valid = false;
    e->cache_valid = false;
}

void ra_engine_on_rs(struct ra_engine *e, const struct in6_addr *src, uint64_t now_ms)
{
    ra_count(e, RA_C_RS_RECEIVED, 1);
    if (!e->able)
        return;
    /* RFC 4861 6.2.6: every solicited RA waits a random 0..MAX_RA_DELAY_TIME */
    if (e->cfg->solicited_unicast && !e6_addr_is_unspecified(src)) {
        for (size_t i = 0; i < e->n_ucast; i++) {
            if (e6_addr_equal(&e->ucast[i].src, src)) {
                ra_count(e, RA_C_RS_COALESCED, 1);
                return;
            }
        }
        if (e->n_ucast < RA_MAX_PENDING_RS) {
            e->ucast[e->n_ucast].src = *src;
            e->ucast[e->n_ucast].due_ms = now_ms + rnd_range(e, 0, RA_MAX_RA_DELAY_TIME_MS);
            e->n_ucast++;
            return;
        }
        /* too many solicitors at once: one multicast RA answers them all */
    }
    if (e->mcast_pending) {
        ra_count(e, RA_C_RS_COALESCED, 1);
        return;
    }
    uint64_t due = now_ms + rnd_range(e, 0, RA_MAX_RA_DELAY_TIME_MS);
    if (e->have_last_mcast && due < e->last_mcast_ms + RA_MIN_DELAY_BETWEEN_RAS_MS)
        due = e->last_mcast_ms + RA_MIN_DELAY_BETWEEN_RAS_MS +
              rnd_range(e, 0, RA_MAX_RA_DELAY_TIME_MS);
    if (e->periodic_due_ms != RA_NEVER && e->periodic_due_ms <= due) {
        /* the next scheduled multicast RA comes first and answers it */
        ra_count(e, RA_C_RS_COALESCED, 1);
        return;
    }
    e->mcast_pending = true;
    e->mcast_due_ms = due;
}

static uint64_t mcast_due(const struct ra_engine *e)
{
    uint64_t due = e->periodic_due_ms;
    if (e->mcast_pending && e->mcast_due_ms < due)
        due = e->mcast_due_ms;
    return due == RA_NEVER ? RA_NEVER : mcast_floor(e, due);
}

uint64_t ra_engine_next(const struct ra_engine *e)
{
    if (e->final_left > 0)
        return e->final_due_ms;
    if (!e->able)
        return RA_NEVER;
    uint64_t next = mcast_due(e);
    for (size_t i = 0; i < e->n_ucast; i++)
        if (e->ucast[i].due_ms < next)
            next = e->ucast[i].due_ms;
    /* a stale prefix leaving the RA is not worth a wake-up of its own */
    return next;
}

static void emit_set(const struct ra_pktset *s, const struct in6_addr *dst, bool final,
                     ra_emit_fn emit, void *arg)
{
    for (size_t i = 0; i < s->n; i++) {
        struct ra_tx tx = {.dst = *dst, .final = final, .icmp6 = s->p[i].data, .len = s->p[i].len};
        emit(arg, &tx);
    }
}

/* The current RA for ff02::1, from the cache when nothing moved. */
static const struct ra_pktset *current(struct ra_engine *e, uint64_t now, bool *fwd_off)
{
    if (ra_track_next_expiry(e) <= now || !e->key_valid)
        ra_content_update(e, now); /* a stale prefix expired, or a stale import */
    if (e->cache_valid && !e->cache_varying) {
        *fwd_off = !e->link.forwarding && e->cfg->router_lifetime > 0;
        return &e->cache;
    }
    struct ra_model m;
    ra_pktset_free(&e->cache);
    e->cache_valid = false;
    if (ra_model_build(e, RA_MODE_NORMAL, now, &m) < 0) {
        e->build_errors++;
        return NULL;
    }
    int err = ra_model_pack(&m, ra_src(e), &all_nodes, &e->cache);
    e->cache_varying = m.varying;
    e->dropped_options = m.dropped;
    *fwd_off = m.forwarding_off;
    ra_model_free(&m);
    if (err < 0) {
        e->build_errors++;
        return NULL;
    }
    e->cache_valid = true;
    return &e->cache;
}

/* RFC 1624 eqn. 3: the ICMPv6 checksum after the pseudo-header's
 * destination changes from old to new. */
static void recsum(uint8_t *icmp, const struct in6_addr *old, const struct in6_addr *new)
{
    uint32_t sum = (uint16_t) ~((icmp[2] << 8) | icmp[3]);
    for (int i = 0; i < 16; i += 2) {
        sum += (uint16_t) ~((old->s6_addr[i] << 8) | old->s6_addr[i + 1]);
        sum += (uint32_t)((new->s6_addr[i] << 8) | new->s6_addr[i + 1]);
    }
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    uint16_t c = (uint16_t)~sum;
    icmp[2] = (uint8_t)(c >> 8);
    icmp[3] = (uint8_t)c;
}

static void send_unicast(struct ra_engine *e, const struct ra_pktset *s, const struct in6_addr *dst,
                         ra_emit_fn emit, void *arg)
{
    for (size_t i = 0; i < s->n; i++) {
        uint8_t *copy = malloc(s->p[i].len);
        if (!copy) {
            e->build_errors++;
            continue;
        }
        memcpy(copy, s->p[i].data, s->p[i].len);
        recsum(copy, &all_nodes, dst);
        struct ra_tx tx = {.dst = *dst, .final = false, .icmp6 = copy, .len = s->p[i].len};
        emit(arg, &tx);
        free(copy);
    }
}

static void run_final(struct ra_engine *e, uint64_t now, ra_emit_fn emit, void *arg)
{
    if (e->final_left == 0 || now < e->final_due_ms)
        return;
    struct ra_model m;
    struct ra_pktset s;
    enum ra_mode mode = e->final_withdraw ? RA_MODE_FINAL_WITHDRAW : RA_MODE_FINAL;
    if (ra_model_build(e, mode, now, &m) == 0) {
        if (ra_model_pack(&m, ra_src(e), &all_nodes, &s) == 0) {
            emit_set(&s, &all_nodes, true, emit, arg);
            ra_count(e, RA_C_SENT_FINAL, 1);
            if (s.n > 1)
                ra_count(e, RA_C_SENT_SPLIT_EXTRA, s.n - 1);
            ra_track_sent(e, &s, now);
            ra_pktset_free(&s);
        } else {
            e->build_errors++;
        }
        ra_model_free(&m);
    } else {
        e->build_errors++;
    }
    e->have_last_mcast = true;
    e->last_mcast_ms = now;
    e->final_left--;
    e->final_due_ms = e->final_left ? now + RA_MIN_DELAY_BETWEEN_RAS_MS : RA_NEVER;
}

void ra_engine_run(struct ra_engine *e, uint64_t now_ms, ra_emit_fn emit, void *arg)
{
    if (e->final_left > 0) {
        run_final(e, now_ms, emit, arg);
        return;
    }
    if (!e->able)
        return;
    bool fwd_off = false;
    const struct ra_pktset *s = NULL;

    /* unicast answers whose delay ran out (RFC 4861 6.2.6, RFC 7772) */
    size_t k = 0;
    for (size_t i = 0; i < e->n_ucast; i++) {
        if (e->ucast[i].due_ms > now_ms) {
            e->ucast[k++] = e->ucast[i];
            continue;
        }
        if (!s)
            s = current(e, now_ms, &fwd_off);
        if (!s)
            continue;
        send_unicast(e, s, &e->ucast[i].src, emit, arg);
        ra_count(e, RA_C_SENT_SOLICITED_UNICAST, 1);
        if (s->n > 1)
            ra_count(e, RA_C_SENT_SPLIT_EXTRA, s->n - 1);
        if (fwd_off)
            ra_count(e, RA_C_FORWARDING_OFF, 1);
        ra_track_sent(e, s, now_ms);
    }
    e->n_ucast = k;

    if (mcast_due(e) > now_ms)
        return;
    bool solicited = e->mcast_pending && e->mcast_due_ms <= now_ms;
    if (!s)
        s = current(e, now_ms, &fwd_off);
    if (s) {
        emit_set(s, &all_nodes, false, emit, arg);
        ra_count(e, solicited ? RA_C_SENT_SOLICITED_MCAST : RA_C_SENT_PERIODIC, 1);
        if (s->n > 1)
            ra_count(e, RA_C_SENT_SPLIT_EXTRA, s->n - 1);
        if (fwd_off)
            ra_count(e, RA_C_FORWARDING_OFF, 1);
        ra_track_sent(e, s, now_ms);
    }
    /* whatever it was, it answers every pending solicitation and resets the
     * periodic timer (RFC 4861 6.2.6) */
    e->mcast_pending = false;
    e->have_last_mcast = true;
    e->last_mcast_ms = now_ms;
    if (e->initial_sent < RA_MAX_INITIAL_RTR_ADVERTISEMENTS)
        e->initial_sent++;
    schedule_periodic(e, now_ms);
}

void ra_engine_stop(struct ra_engine *e, bool goodbye, uint64_t now_ms)
{
    bool was_sending = e->able || e->final_left > 0;
    e->stopped = true;
    e->able = false;
    clear_pending(e);
    if (goodbye && e->final_left > 0 && link_usable(e)) {
        /* final RAs already going out (advertise was turned off): finish them */
        e->final_withdraw = e->final_withdraw || e->cfg->withdraw_on_exit;
    } else if (goodbye && was_sending && link_usable(e)) {
        start_final(e, now_ms);
    } else {
        e->final_left = 0;
        e->final_due_ms = RA_NEVER;
    }
}

bool ra_engine_done(const struct ra_engine *e)
{
    return e->stopped && e->final_left == 0;
}

enum ra_state ra_engine_state(const struct ra_engine *e)
{
    if (e->stopped)
        return e->final_left ? RA_ST_STOPPING : RA_ST_STOPPED;
    if (e->final_left)
        return RA_ST_STOPPING;
    if (!e->cfg->advertise)
        return RA_ST_DISABLED;
    if (!e->link.present)
        return RA_ST_NO_LINK;
    if (!e->link.up)
        return RA_ST_DOWN;
    if (!e->link.have_linklocal)
        return RA_ST_NO_LINKLOCAL;
    return RA_ST_ADVERTISING;
}

void ra_engine_foreach_advertised(const struct ra_engine *e,
                                  void (*fn)(void *arg, const struct e6_prefix *p, bool on_link,
                                             bool autonomous, uint32_t valid),
                                  void *arg)
{
    for (size_t i = 0; i < e->n_tr; i++) {
        const struct ra_track *t = &e->tr[i];
        if (t->active && t->advertised && t->last_valid > 0)
            fn(arg, &t->prefix, t->on_link, t->autonomous, t->last_valid);
    }
}
