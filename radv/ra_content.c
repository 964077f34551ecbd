/*
 * radv/ra_content: what an RA says. Turns the interface config and the link
 * into a content model (header, per-packet options, the other options in a
 * stable order), packs the model into as many RAs as the link MTU needs
 * (RFC 6980: ND is never fragmented; RFC 4861 6.2.3: each RA carries a
 * subset), and keeps the per-prefix records that RFC 9096 deprecation and
 * lifetime decrement need. Packets are built with common/nd only.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "radv/ra_int.h"

static const struct in6_addr all_nodes = {{{0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}}};
static const struct in6_addr ll_placeholder = {{{0xfe, 0x80}}};

#define INF CONF_LIFETIME_INFINITY

const struct in6_addr *ra_src(const struct ra_engine *e)
{
    return e->link.have_linklocal ? &e->link.linklocal : &ll_placeholder;
}

static uint32_t life_sub(uint32_t life, uint64_t elapsed_s)
{
    if (life == INF)
        return INF;
    return elapsed_s >= life ? 0 : (uint32_t)(life - elapsed_s);
}

static uint32_t min32(uint32_t a, uint32_t b)
{
    return a < b ? a : b;
}

/* ---- prefixes the config and the link want advertised ------------------- */

struct ra_want {
    struct e6_prefix prefix;
    bool on_link, autonomous;
    uint32_t valid, preferred;
    bool varying;
};

static int want_cmp(const void *a, const void *b)
{
    const struct ra_want *x = a, *y = b;
    int c = memcmp(&x->prefix.addr, &y->prefix.addr, sizeof(x->prefix.addr));
    if (c)
        return c;
    return (int)x->prefix.len - (int)y->prefix.len;
}

static struct ra_want *want_find(struct ra_want *w, size_t n, const struct e6_prefix *p)
{
    for (size_t i = 0; i < n; i++)
        if (e6_prefix_equal(&w[i].prefix, p))
            return &w[i];
    return NULL;
}

/* An address `prefix auto` may take its prefix from: global scope (ULA
 * included: hosts need it for SLAAC as much as a GUA), usable, <= /64. */
static bool auto_candidate(const struct ra_addr *a)
{
    if (a->tentative || a->valid_left == 0 || a->plen == 0 || a->plen > 64)
        return false;
    return !e6_addr_is_linklocal(&a->addr) && !e6_addr_is_multicast(&a->addr) &&
           !e6_addr_is_unspecified(&a->addr) && !e6_addr_is_loopback(&a->addr) &&
           !e6_addr_is_v4mapped(&a->addr);
}

/*
 * Static prefixes in config order, then the auto ones sorted (netlink order
 * is not stable). decrement = yes: my reading of RFC 4861 6.2.1 is that the
 * lifetimes reach zero at a fixed point in time, counted from when this
 * engine first advertised the prefix (after a restart, or when the prefix
 * comes back after leaving, the countdown starts again: the engine has no
 * wall clock to carry it across). Auto prefixes: the kernel's remaining
 * lifetimes (counted down since the link report), capped by the configured
 * lifetimes (RFC 9096 limits by default).
 */
static int compute_wants(const struct ra_engine *e, enum ra_mode mode, uint64_t now,
                         struct ra_want **out, size_t *n_out)
{
    const struct conf_interface *cfg = e->cfg;
    size_t cap = cfg->n_prefixes + e->link.n_addrs;
    struct ra_want *w = calloc(cap ? cap : 1, sizeof(*w));
    size_t n = 0;
    const struct conf_ra_prefix *autop = NULL;
    if (!w)
        return -ENOMEM;

    for (size_t i = 0; i < cfg->n_prefixes; i++) {
        const struct conf_ra_prefix *cp = &cfg->prefixes[i];
        if (cp->is_auto) {
            if (!autop)
                autop = cp;
            continue;
        }
        if (want_find(w, n, &cp->prefix))
            continue;
        struct ra_want *x = &w[n++];
        x->prefix = cp->prefix;
        x->on_link = cp->on_link;
        x->autonomous = cp->autonomous;
        x->valid = cp->valid_lifetime;
        x->preferred = min32(cp->preferred_lifetime, cp->valid_lifetime);
        if (cp->decrement && mode != RA_MODE_KEY) {
            const struct ra_track *t = ra_track_find(e, &cp->prefix);
            uint64_t start = t && t->active && t->decr_started ? t->decr_start_ms : now;
            uint64_t el = now > start ? (now - start) / 1000 : 0;
            x->valid = life_sub(x->valid, el);
            x->preferred = life_sub(x->preferred, el);
            x->varying = x->valid != INF || x->preferred != INF;
        }
    }

    size_t n_static = n;
    if (autop && e->link.present) {
        uint64_t el = now > e->link_ms ? (now - e->link_ms) / 1000 : 0;
        for (size_t i = 0; i < e->link.n_addrs && i < RA_MAX_ADDRS; i++) {
            const struct ra_addr *a = &e->link.addrs[i];
            if (!auto_candidate(a))
                continue;
            struct e6_prefix p;
            e6_prefix_make(&p, &a->addr, a->plen);
            if (want_find(w, n_static, &p))
                continue; /* configured statically: that wins */
            uint32_t vl = life_sub(a->valid_left, el);
            uint32_t pl = a->deprecated ? 0 : life_sub(a->preferred_left, el);
            if (vl == 0)
                continue;
            bool varying = a->valid_left != INF || (pl != 0 && a->preferred_left != INF);
            struct ra_want *x = want_find(w + n_static, n - n_static, &p);
            if (!x) {
                x = &w[n++];
                x->prefix = p;
                x->on_link = autop->on_link;
                x->autonomous = autop->autonomous;
            }
            /* several addresses in one prefix: the longest-lived counts */
            if (vl > x->valid)
                x->valid = vl;
            if (pl > x->preferred)
                x->preferred = pl;
            x->varying = x->varying || varying;
        }
        qsort(w + n_static, n - n_static, sizeof(*w), want_cmp);
        for (size_t i = n_static; i < n; i++) {
            struct ra_want *x = &w[i];
            if (mode == RA_MODE_KEY) {
                x->valid = autop->valid_lifetime;
                x->preferred = autop->preferred_lifetime;
            } else {
                x->valid = min32(x->valid, autop->valid_lifetime);
                x->preferred = min32(x->preferred, autop->preferred_lifetime);
            }
            x->preferred = min32(x->preferred, x->valid);
        }
    }
    *out = w;
    *n_out = n;
    return 0;
}

/* ---- prefix records (RFC 9096) ------------------------------------------ */

struct ra_track *ra_track_find(const struct ra_engine *e, const struct e6_prefix *p)
{
    for (size_t i = 0; i < e->n_tr; i++)
        if (e6_prefix_equal(&e->tr[i].prefix, p))
            return &e->tr[i];
    return NULL;
}

static void track_remove(struct ra_engine *e, size_t i)
{
    memmove(&e->tr[i], &e->tr[i + 1], (e->n_tr - i - 1) * sizeof(e->tr[0]));
    e->n_tr--;
}

static struct ra_track *track_add(struct ra_engine *e)
{
    if (e->n_tr == e->cap_tr) {
        size_t cap = e->cap_tr ? e->cap_tr * 2 : 16;
        struct ra_track *t = realloc(e->tr, cap * sizeof(*t));
        if (!t)
            return NULL;
        e->tr = t;
        e->cap_tr = cap;
    }
    struct ra_track *t = &e->tr[e->n_tr++];
    memset(t, 0, sizeof(*t));
    return t;
}

/* At most RA_MAX_STALE stale prefixes: the one that went stale first goes. */
static void stale_bound(struct ra_engine *e)
{
    for (;;) {
        size_t n = 0, oldest = 0;
        for (size_t i = 0; i < e->n_tr; i++) {
            const struct ra_track *t = &e->tr[i];
            if (t->active)
                continue;
            if (n == 0 || t->stale_since_ms < e->tr[oldest].stale_since_ms ||
                (t->stale_since_ms == e->tr[oldest].stale_since_ms &&
                 t->hold_until_ms < e->tr[oldest].hold_until_ms))
                oldest = i;
            n++;
        }
        if (n <= RA_MAX_STALE)
            return;
        track_remove(e, oldest);
    }
}

void ra_track_sync(struct ra_engine *e, uint64_t now)
{
    struct ra_want *w;
    size_t n;
    if (compute_wants(e, RA_MODE_KEY, now, &w, &n) < 0)
        return; /* keep the records as they are; the next change retries */
    bool *seen = calloc(e->n_tr + n + 1, sizeof(*seen));
    if (!seen) {
        free(w);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        struct ra_track *t = ra_track_find(e, &w[i].prefix);
        if (!t) {
            t = track_add(e);
            if (!t)
                continue;
            t->prefix = w[i].prefix;
            t->active = true;
        } else if (!t->active) {
            /* it came back: advertised normally again, a fresh countdown */
            t->active = true;
            t->advertised = false;
            t->decr_started = false;
        }
        t->on_link = w[i].on_link;
        t->autonomous = w[i].autonomous;
        seen[t - e->tr] = true;
    }
    /* walk backwards so removal keeps seen[] aligned */
    for (size_t i = e->n_tr; i-- > 0;) {
        struct ra_track *t = &e->tr[i];
        if (seen[i])
            continue;
        if (t->active) {
            t->active = false;
            t->stale_since_ms = now;
        }
        /* a host holds nothing from us longer than ND_VALID_LIMIT from now:
         * only an imported record (ra_engine_add_stale) can say more */
        if (t->hold_until_ms > now + (uint64_t)RA_ND_VALID_LIMIT * 1000)
            t->hold_until_ms = now + (uint64_t)RA_ND_VALID_LIMIT * 1000;
        if (t->hold_until_ms <= now)
            track_remove(e, i);
    }
    free(seen);
    free(w);
    stale_bound(e);
}

void ra_track_sent(struct ra_engine *e, const struct ra_pktset *s, uint64_t now)
{
    for (size_t i = 0; i < s->n_pio; i++) {
        struct ra_track *t = ra_track_find(e, &s->pio[i].prefix);
        if (!t || !t->active)
            continue;
        uint32_t v = s->pio[i].valid;
        t->last_adv_ms = now;
        t->last_valid = v;
        if (v > 0) {
            uint64_t hold = now + (uint64_t)min32(v, RA_ND_VALID_LIMIT) * 1000;
            t->advertised = true;
            if (hold > t->hold_until_ms)
                t->hold_until_ms = hold;
        }
        if (!t->decr_started) {
            t->decr_started = true;
            t->decr_start_ms = now;
        }
    }
}

uint64_t ra_track_next_expiry(const struct ra_engine *e)
{
    uint64_t next = RA_NEVER;
    for (size_t i = 0; i < e->n_tr; i++)
        if (!e->tr[i].active && e->tr[i].hold_until_ms < next)
            next = e->tr[i].hold_until_ms;
    return next;
}

/* ---- the model ------------------------------------------------------------ */

/*
 * NULL when the option cannot be sent: not encodable (size 0; the config
 * checks should make that impossible, but one bad option must not cost the
 * whole RA), too large for any packet without fragmenting, or no memory
 * (m->oom, which fails the build).
 */
static struct ra_item *item_add(struct ra_model *m, enum ra_item_kind kind, size_t size)
{
    if (size == 0 || m->base + size > m->avail) {
        m->dropped++;
        return NULL;
    }
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 32;
        struct ra_item *it = realloc(m->it, cap * sizeof(*it));
        if (!it) {
            m->oom = true;
            return NULL;
        }
        m->it = it;
        m->cap = cap;
    }
    struct ra_item *x = &m->it[m->n++];
    memset(x, 0, sizeof(*x));
    x->kind = kind;
    x->size = size;
    return x;
}

/* RDNSS "auto": our best address on the link for hosts to reach: a
 * preferred global one, else a preferred ULA, else the link-local. Among
 * equals the numerically lowest, so the choice does not flap. */
static bool self_address(const struct ra_engine *e, struct in6_addr *out)
{
    const struct in6_addr *best = NULL;
    int best_rank = 0;
    for (size_t i = 0; i < e->link.n_addrs && i < RA_MAX_ADDRS; i++) {
        const struct ra_addr *a = &e->link.addrs[i];
        if (a->tentative || a->deprecated || a->valid_left == 0 || a->preferred_left == 0 ||
            e6_addr_is_linklocal(&a->addr) || e6_addr_is_multicast(&a->addr) ||
            e6_addr_is_unspecified(&a->addr) || e6_addr_is_loopback(&a->addr) ||
            e6_addr_is_v4mapped(&a->addr))
            continue;
        int rank = e6_addr_is_ula(&a->addr) ? 1 : 2;
        if (rank > best_rank ||
            (rank == best_rank && memcmp(&a->addr, best, sizeof(a->addr)) < 0)) {
            best = &a->addr;
            best_rank = rank;
        }
    }
    if (best) {
        *out = *best;
        return true;
    }
    if (e->link.have_linklocal) {
        *out = e->link.linklocal;
        return true;
    }
    return false;
}

static void add_rdnss(struct ra_model *m, const struct conf_ra_rdnss *r, uint32_t life,
                      const struct in6_addr *self)
{
    struct in6_addr *list = m->pool + m->n_pool;
    size_t n = 0;
    if (self)
        list[n++] = *self;
    for (size_t i = 0; i < r->n_servers; i++) {
        bool dup = false;
        for (size_t k = 0; k < n; k++)
            dup = dup || e6_addr_equal(&list[k], &r->servers[i]);
        if (!dup && !e6_addr_is_unspecified(&r->servers[i]) &&
            !e6_addr_is_multicast(&r->servers[i]))
            list[n++] = r->servers[i];
    }
    m->n_pool += n;
    /* one option holds 127 servers; a packet holds what avail leaves */
    size_t per = (m->avail - m->base - 8) / 16;
    if (per > 127)
        per = 127;
    for (size_t i = 0; i < n && per > 0; i += per) {
        size_t k = n - i < per ? n - i : per;
        struct ra_item *x = item_add(m, RA_IT_RDNSS, e6_nd_rdnss_size(k));
        if (!x)
            continue;
        x->u.rdnss.lifetime = life;
        x->u.rdnss.servers = list + i;
        x->u.rdnss.n = k;
    }
}

static void add_dnssl(struct ra_model *m, const struct conf_ra_dnssl *d, uint32_t life)
{
    const char *const *names = (const char *const *)d->domains;
    size_t i = 0;
    while (i < d->n_domains) {
        size_t k = 1;
        while (i + k < d->n_domains) {
            size_t sz = e6_nd_dnssl_size(names + i, k + 1);
            if (!sz || sz > E6_ND_OPT_MAX_SIZE || m->base + sz > m->avail)
                break;
            k++;
        }
        size_t sz = e6_nd_dnssl_size(names + i, k);
        if (sz && sz <= E6_ND_OPT_MAX_SIZE) {
            struct ra_item *x = item_add(m, RA_IT_DNSSL, sz);
            if (x) {
                x->u.dnssl.lifetime = life;
                x->u.dnssl.names = names + i;
                x->u.dnssl.n = k;
            }
        } else {
            m->dropped++;
        }
        i += k;
    }
}

void ra_model_free(struct ra_model *m)
{
    free(m->it);
    free(m->pool);
    memset(m, 0, sizeof(*m));
}

int ra_model_build(const struct ra_engine *e, enum ra_mode mode, uint64_t now, struct ra_model *m)
{
    const struct conf_interface *cfg = e->cfg;
    const struct ra_link *l = &e->link;
    bool final = mode == RA_MODE_FINAL || mode == RA_MODE_FINAL_WITHDRAW;
    bool wd = mode == RA_MODE_FINAL_WITHDRAW;
    memset(m, 0, sizeof(*m));

    m->hdr.cur_hop_limit = (uint8_t)(cfg->cur_hop_limit > 255 ? 255 : cfg->cur_hop_limit);
    m->hdr.flags =
        (uint8_t)((cfg->managed ? E6_ND_RA_M : 0) | (cfg->other_config ? E6_ND_RA_O : 0));
    m->hdr.router_lifetime =
        (uint16_t)(cfg->router_lifetime > 65535 ? 65535 : cfg->router_lifetime);
    if (!l->forwarding && m->hdr.router_lifetime) {
        /* RFC 4861 6.2.5: not forwarding, so not a default router */
        m->hdr.router_lifetime = 0;
        m->forwarding_off = !final;
    }
    if (final)
        m->hdr.router_lifetime = 0;
    /* RFC 4191 2.2: with router lifetime 0 the preference MUST be medium */
    m->hdr.prf = m->hdr.router_lifetime ? (enum e6_nd_prf)cfg->router_preference : E6_ND_PRF_MEDIUM;
    if (m->hdr.prf == E6_ND_PRF_RESERVED)
        m->hdr.prf = E6_ND_PRF_MEDIUM;
    m->hdr.reachable = cfg->reachable_time;
    m->hdr.retrans = cfg->retrans_timer;

    /* source-lladdr auto: only when the link has a hardware address (none on TUN, 6in4) */
    if (cfg->source_lladdr != CONF_TRI_OFF && l->lladdr_len > 0 && l->lladdr_len <= sizeof(m->ll)) {
        m->slla = true;
        memcpy(m->ll, l->lladdr, l->lladdr_len);
        m->ll_len = l->lladdr_len;
    }
    if (cfg->mtu_mode == CONF_MTU_AUTO && l->mtu >= 1280)
        m->mtu_opt = l->mtu;
    else if (cfg->mtu_mode == CONF_MTU_VALUE && cfg->mtu >= 1280)
        m->mtu_opt = cfg->mtu;

    size_t link_mtu = l->mtu < 1280 ? 1280 : l->mtu;
    m->avail = link_mtu - 40;
    if (m->avail > 65535)
        m->avail = 65535;
    m->base = E6_ND_RA_LEN + (m->slla ? e6_nd_lladdr_size(m->ll_len) : 0) +
              (m->mtu_opt ? E6_ND_MTU_SIZE : 0);

    struct ra_want *w = NULL;
    size_t nw = 0;
    if (compute_wants(e, mode == RA_MODE_KEY ? RA_MODE_KEY : RA_MODE_NORMAL, now, &w, &nw) < 0)
        return -ENOMEM;
    for (size_t i = 0; i < nw; i++) {
        struct ra_item *x = item_add(m, RA_IT_PIO, w[i].prefix.len <= 128 ? E6_ND_PIO_SIZE : 0);
        if (!x) {
            if (m->oom)
                goto nomem;
            continue;
        }
        x->u.pio.prefix = w[i].prefix;
        x->u.pio.flags =
            (uint8_t)((w[i].on_link ? E6_ND_PIO_L : 0) | (w[i].autonomous ? E6_ND_PIO_A : 0));
        /*
         * Withdrawal sends 0/0. RFC 4862 5.5.3 e) (the "two-hour rule"):
         * hosts ignore a valid lifetime below 2 h for an address they
         * hold, unless authenticated, so most will only deprecate the
         * address (preferred 0 is honoured) and keep it up to 2 h.
         * Sending 7200 instead would extend it on hosts that do honour
         * small lifetimes (RFC 9096 asks for 0/0); we send 0.
         */
        x->u.pio.valid = wd ? 0 : w[i].valid;
        x->u.pio.preferred = wd ? 0 : w[i].preferred;
        x->varying = w[i].varying;
        m->varying = m->varying || (w[i].varying && !wd);
    }
    for (size_t i = 0; i < e->n_tr; i++) {
        const struct ra_track *t = &e->tr[i];
        if (t->active || t->hold_until_ms <= now || want_find(w, nw, &t->prefix))
            continue;
        /* RFC 9096 3.5: 0/0, the A and L bits unchanged */
        struct ra_item *x = item_add(m, RA_IT_PIO, t->prefix.len <= 128 ? E6_ND_PIO_SIZE : 0);
        if (!x) {
            if (m->oom)
                goto nomem;
            continue;
        }
        x->stale = true;
        x->u.pio.prefix = t->prefix;
        x->u.pio.flags =
            (uint8_t)((t->on_link ? E6_ND_PIO_L : 0) | (t->autonomous ? E6_ND_PIO_A : 0));
    }
    free(w);
    w = NULL;

    for (size_t i = 0; i < cfg->n_routes; i++) {
        const struct conf_ra_route *r = &cfg->routes[i];
        struct ra_item *x = item_add(m, RA_IT_RIO, e6_nd_route_size(r->prefix.len));
        if (!x)
            continue;
        x->u.rio.prefix = r->prefix;
        x->u.rio.prf = (enum e6_nd_prf)r->preference;
        if (x->u.rio.prf == E6_ND_PRF_RESERVED)
            x->u.rio.prf = E6_ND_PRF_MEDIUM;
        x->u.rio.lifetime = wd ? 0 : r->lifetime;
    }

    size_t pool = 0;
    for (size_t i = 0; i < cfg->n_rdnss; i++)
        pool += cfg->rdnss[i].n_servers + 1;
    if (pool) {
        m->pool = calloc(pool, sizeof(*m->pool));
        if (!m->pool)
            goto nomem;
    }
    struct in6_addr self;
    bool have_self = self_address(e, &self);
    for (size_t i = 0; i < cfg->n_rdnss; i++)
        add_rdnss(m, &cfg->rdnss[i], wd ? 0 : cfg->rdnss[i].lifetime,
                  cfg->rdnss[i].self && have_self ? &self : NULL);
    for (size_t i = 0; i < cfg->n_dnssl; i++)
        add_dnssl(m, &cfg->dnssl[i], wd ? 0 : cfg->dnssl[i].lifetime);
    for (size_t i = 0; i < cfg->n_pref64; i++) {
        unsigned len = cfg->pref64[i].prefix.len;
        bool ok = len == 32 || len == 40 || len == 48 || len == 56 || len == 64 || len == 96;
        struct ra_item *x = item_add(m, RA_IT_PREF64, ok ? E6_ND_PREF64_SIZE : 0);
        if (!x)
            continue;
        x->u.pref64.prefix = cfg->pref64[i].prefix;
        x->u.pref64.lifetime = wd ? 0 : cfg->pref64[i].lifetime;
    }
    if (cfg->captive_portal) {
        struct ra_item *x = item_add(m, RA_IT_CAPTIVE, e6_nd_captive_size(cfg->captive_portal));
        if (x)
            x->u.captive = cfg->captive_portal;
    }
    if (m->oom)
        goto nomem;
    return 0;
nomem:
    free(w);
    ra_model_free(m);
    return -ENOMEM;
}

/* ---- packing -------------------------------------------------------------- */

void ra_pktset_free(struct ra_pktset *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->p[i].data);
    free(s->p);
    free(s->pio);
    memset(s, 0, sizeof(*s));
}

static void put_item(struct e6_nd_builder *b, const struct ra_item *x)
{
    switch (x->kind) {
    case RA_IT_PIO:
        e6_nd_put_pio(b, &x->u.pio);
        break;
    case RA_IT_RIO:
        e6_nd_put_route(b, &x->u.rio);
        break;
    case RA_IT_RDNSS:
        e6_nd_put_rdnss(b, x->u.rdnss.lifetime, x->u.rdnss.servers, x->u.rdnss.n);
        break;
    case RA_IT_DNSSL:
        e6_nd_put_dnssl(b, x->u.dnssl.lifetime, x->u.dnssl.names, x->u.dnssl.n);
        break;
    case RA_IT_PREF64:
        e6_nd_put_pref64(b, x->u.pref64.lifetime, &x->u.pref64.prefix);
        break;
    case RA_IT_CAPTIVE:
        e6_nd_put_captive(b, x->u.captive);
        break;
    }
}

static int build_one(const struct ra_model *m, size_t from, size_t to, const struct in6_addr *src,
                     const struct in6_addr *dst, uint8_t *buf, struct ra_pkt *out)
{
    struct e6_nd_builder b;
    e6_nd_build_init(&b, buf, m->avail);
    e6_nd_put_ra(&b, &m->hdr);
    if (m->slla)
        e6_nd_put_lladdr(&b, E6_ND_OPT_SLLA, m->ll, m->ll_len);
    if (m->mtu_opt)
        e6_nd_put_mtu(&b, m->mtu_opt);
    for (size_t i = from; i < to; i++)
        put_item(&b, &m->it[i]);
    int len = e6_nd_build_finish(&b, src, dst);
    if (len < 0)
        return len;
    out->data = malloc((size_t)len);
    if (!out->data)
        return -ENOMEM;
    memcpy(out->data, buf, (size_t)len);
    out->len = (size_t)len;
    return 0;
}

/*
 * Greedy in the model's order: an option goes into the current packet when
 * it fits, otherwise it starts the next one. Every packet is a whole RA with
 * the header, SLLA and MTU, so a host that sees only one still has the
 * router, its link-layer address and the MTU.
 */
int ra_model_pack(const struct ra_model *m, const struct in6_addr *src, const struct in6_addr *dst,
                  struct ra_pktset *out)
{
    memset(out, 0, sizeof(*out));
    size_t npk = 1, used = m->base;
    for (size_t i = 0; i < m->n; i++) {
        if (used + m->it[i].size > m->avail && used > m->base) {
            npk++;
            used = m->base;
        }
        used += m->it[i].size;
    }
    uint8_t *buf = malloc(m->avail);
    out->p = calloc(npk, sizeof(*out->p));
    out->pio = calloc(m->n ? m->n : 1, sizeof(*out->pio));
    if (!buf || !out->p || !out->pio) {
        free(buf);
        ra_pktset_free(out);
        return -ENOMEM;
    }
    size_t from = 0;
    int err = 0;
    while (from < m->n || out->n == 0) {
        size_t to = from;
        used = m->base;
        while (to < m->n && (used + m->it[to].size <= m->avail || to == from)) {
            used += m->it[to].size;
            to++;
        }
        err = build_one(m, from, to, src, dst, buf, &out->p[out->n]);
        if (err < 0)
            break;
        out->n++;
        from = to;
        if (out->n == npk)
            break;
    }
    free(buf);
    if (err < 0) {
        ra_pktset_free(out);
        return err;
    }
    for (size_t i = 0; i < m->n; i++) {
        if (m->it[i].kind != RA_IT_PIO || m->it[i].stale)
            continue;
        out->pio[out->n_pio].prefix = m->it[i].u.pio.prefix;
        out->pio[out->n_pio].valid = m->it[i].u.pio.valid;
        out->n_pio++;
    }
    return 0;
}

bool ra_content_update(struct ra_engine *e, uint64_t now)
{
    struct ra_model m;
    struct ra_pktset s;
    ra_track_sync(e, now);
    if (ra_model_build(e, RA_MODE_KEY, now, &m) < 0) {
        e->key_valid = false;
        e->cache_valid = false;
        return true;
    }
    int err = ra_model_pack(&m, ra_src(e), &all_nodes, &s);
    ra_model_free(&m);
    if (err < 0) {
        e->key_valid = false;
        e->cache_valid = false;
        return true;
    }
    size_t len = 0;
    for (size_t i = 0; i < s.n; i++)
        len += s.p[i].len + 2;
    uint8_t *key = malloc(len ? len : 1);
    if (key) {
        size_t o = 0;
        for (size_t i = 0; i < s.n; i++) {
            key[o++] = (uint8_t)(s.p[i].len >> 8);
            key[o++] = (uint8_t)s.p[i].len;
            memcpy(key + o, s.p[i].data, s.p[i].len);
            o += s.p[i].len;
        }
    }
    ra_pktset_free(&s);
    bool changed = !key || !e->key_valid || len != e->key_len || memcmp(key, e->key, len) != 0;
    free(e->key);
    e->key = key;
    e->key_len = key ? len : 0;
    e->key_valid = key != NULL;
    if (changed)
        e->cache_valid = false;
    return changed;
}
