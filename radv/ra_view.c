/*
 * radv/ra_view: what the engine shows and checks. The status view for
 * edge6ctl (state, next RA, this interface's counters, the current RA
 * decoded option by option) and the RFC 4861 6.2.7 consistency checks of
 * other routers' RAs against ours.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "radv/ra_int.h"

/*
 * Decrementing lifetimes (ours or theirs) are compared with this much
 * slack: both routers count down in real time, so they only agree up to
 * the RA's time in flight and the second-granularity of the fields.
 */
#define RA_CHECK_SLACK_S 10

static const char *prf_name(enum e6_nd_prf p)
{
    switch (p) {
    case E6_ND_PRF_HIGH:
        return "high";
    case E6_ND_PRF_LOW:
        return "low";
    case E6_ND_PRF_MEDIUM:
        return "medium";
    case E6_ND_PRF_RESERVED:
        break;
    }
    return "reserved";
}

static void report_line(struct ra_engine *e, struct e6_strbuf *report, const char *what,
                        uint64_t theirs, uint64_t ours, const char *from)
{
    ra_count(e, RA_C_RA_INCONSISTENT, 1);
    if (report)
        e6_strbuf_printf(report, "%s %" PRIu64 " vs ours %" PRIu64 " from %s\n", what, theirs, ours,
                         from);
}

static bool life_differs(uint32_t theirs, uint32_t ours, bool varying)
{
    if (theirs == ours)
        return false;
    if (!varying || theirs == CONF_LIFETIME_INFINITY || ours == CONF_LIFETIME_INFINITY)
        return true;
    uint32_t d = theirs > ours ? theirs - ours : ours - theirs;
    return d > RA_CHECK_SLACK_S;
}

void ra_engine_on_ra(struct ra_engine *e, const struct in6_addr *src, const struct e6_nd_msg *ra,
                     struct e6_strbuf *report, uint64_t now_ms)
{
    ra_count(e, RA_C_RA_RECEIVED, 1);
    if (ra->type != E6_ND_RA || !e->cfg->advertise || e->stopped)
        return;
    if (e->link.have_linklocal && e6_addr_equal(src, &e->link.linklocal))
        return; /* our own, looped back */
    struct ra_model m;
    if (ra_model_build(e, RA_MODE_NORMAL, now_ms, &m) < 0)
        return;
    char from[E6_ADDRSTRLEN];
    e6_addr_format(src, from, sizeof(from));
    const struct e6_nd_ra *h = &ra->ra;

    /* RFC 4861 6.2.7: a zero (unspecified) value is never inconsistent */
    if (h->cur_hop_limit && m.hdr.cur_hop_limit && h->cur_hop_limit != m.hdr.cur_hop_limit)
        report_line(e, report, "cur hop limit", h->cur_hop_limit, m.hdr.cur_hop_limit, from);
    if ((h->flags & E6_ND_RA_M) != (m.hdr.flags & E6_ND_RA_M))
        report_line(e, report, "managed flag", !!(h->flags & E6_ND_RA_M),
                    !!(m.hdr.flags & E6_ND_RA_M), from);
    if ((h->flags & E6_ND_RA_O) != (m.hdr.flags & E6_ND_RA_O))
        report_line(e, report, "other-config flag", !!(h->flags & E6_ND_RA_O),
                    !!(m.hdr.flags & E6_ND_RA_O), from);
    if (h->reachable && m.hdr.reachable && h->reachable != m.hdr.reachable)
        report_line(e, report, "reachable time", h->reachable, m.hdr.reachable, from);
    if (h->retrans && m.hdr.retrans && h->retrans != m.hdr.retrans)
        report_line(e, report, "retrans timer", h->retrans, m.hdr.retrans, from);
    if (ra->has_mtu && m.mtu_opt && ra->mtu != m.mtu_opt)
        report_line(e, report, "mtu", ra->mtu, m.mtu_opt, from);

    for (unsigned i = 0; i < ra->n_pio && i < E6_ND_MAX_PIO; i++) {
        const struct e6_nd_pio *p = &ra->pio[i];
        for (size_t k = 0; k < m.n; k++) {
            const struct ra_item *x = &m.it[k];
            if (x->kind != RA_IT_PIO || x->stale || !e6_prefix_equal(&x->u.pio.prefix, &p->prefix))
                continue;
            char what[E6_PREFIXSTRLEN + 32];
            char pfx[E6_PREFIXSTRLEN];
            e6_prefix_format(&p->prefix, pfx, sizeof(pfx));
            if (life_differs(p->valid, x->u.pio.valid, x->varying)) {
                snprintf(what, sizeof(what), "prefix %s valid lifetime", pfx);
                report_line(e, report, what, p->valid, x->u.pio.valid, from);
            }
            if (life_differs(p->preferred, x->u.pio.preferred, x->varying)) {
                snprintf(what, sizeof(what), "prefix %s preferred lifetime", pfx);
                report_line(e, report, what, p->preferred, x->u.pio.preferred, from);
            }
            break;
        }
    }
    ra_model_free(&m);
}

/* ---- the view --------------------------------------------------------------- */

static void fmt_ll(const uint8_t *ll, size_t n, char *buf, size_t len)
{
    size_t o = 0;
    buf[0] = 0;
    for (size_t i = 0; i < n && o + 4 <= len; i++)
        o += (size_t)snprintf(buf + o, len - o, i ? ":%02x" : "%02x", ll[i]);
}

static void fmt_life(uint32_t v, char *buf, size_t len)
{
    if (v == CONF_LIFETIME_INFINITY)
        snprintf(buf, len, "infinity");
    else
        snprintf(buf, len, "%" PRIu32, v);
}

/* ms until a stale prefix leaves the RA */
static uint64_t stale_left(const struct ra_engine *e, const struct e6_prefix *p, uint64_t now)
{
    const struct ra_track *t = ra_track_find(e, p);
    return t && t->hold_until_ms > now ? t->hold_until_ms - now : 0;
}

static void view_ra_json(const struct ra_engine *e, struct e6_json *j, const struct ra_model *m,
                         const struct ra_pktset *s, uint64_t now)
{
    char buf[E6_PREFIXSTRLEN + 8];
    e6_json_begin_object(j, "ra");
    e6_json_uint(j, "packets", s->n);
    e6_json_begin_array(j, "sizes");
    for (size_t i = 0; i < s->n; i++)
        e6_json_uint(j, NULL, s->p[i].len);
    e6_json_end_array(j);
    e6_json_uint(j, "cur_hop_limit", m->hdr.cur_hop_limit);
    e6_json_bool(j, "managed", m->hdr.flags & E6_ND_RA_M);
    e6_json_bool(j, "other_config", m->hdr.flags & E6_ND_RA_O);
    e6_json_string(j, "router_preference", prf_name(m->hdr.prf));
    e6_json_uint(j, "router_lifetime", m->hdr.router_lifetime);
    e6_json_bool(j, "forwarding_off", m->forwarding_off);
    e6_json_uint(j, "reachable_time", m->hdr.reachable);
    e6_json_uint(j, "retrans_timer", m->hdr.retrans);
    if (m->slla) {
        char ll[64];
        fmt_ll(m->ll, m->ll_len, ll, sizeof(ll));
        e6_json_string(j, "source_lladdr", ll);
    } else {
        e6_json_null(j, "source_lladdr");
    }
    if (m->mtu_opt)
        e6_json_uint(j, "mtu", m->mtu_opt);
    else
        e6_json_null(j, "mtu");

    e6_json_begin_array(j, "prefixes");
    for (size_t i = 0; i < m->n; i++) {
        const struct ra_item *x = &m->it[i];
        if (x->kind != RA_IT_PIO)
            continue;
        e6_json_begin_object(j, NULL);
        e6_json_string(j, "prefix", e6_prefix_format(&x->u.pio.prefix, buf, sizeof(buf)));
        e6_json_bool(j, "on_link", x->u.pio.flags & E6_ND_PIO_L);
        e6_json_bool(j, "autonomous", x->u.pio.flags & E6_ND_PIO_A);
        e6_json_uint(j, "valid", x->u.pio.valid);
        e6_json_uint(j, "preferred", x->u.pio.preferred);
        e6_json_bool(j, "stale", x->stale);
        if (x->stale)
            e6_json_uint(j, "stale_left_ms", stale_left(e, &x->u.pio.prefix, now));
        e6_json_end_object(j);
    }
    e6_json_end_array(j);

    e6_json_begin_array(j, "routes");
    for (size_t i = 0; i < m->n; i++) {
        const struct ra_item *x = &m->it[i];
        if (x->kind != RA_IT_RIO)
            continue;
        e6_json_begin_object(j, NULL);
        e6_json_string(j, "prefix", e6_prefix_format(&x->u.rio.prefix, buf, sizeof(buf)));
        e6_json_string(j, "preference", prf_name(x->u.rio.prf));
        e6_json_uint(j, "lifetime", x->u.rio.lifetime);
        e6_json_end_object(j);
    }
    e6_json_end_array(j);

    e6_json_begin_array(j, "rdnss");
    for (size_t i = 0; i < m->n; i++) {
        const struct ra_item *x = &m->it[i];
        if (x->kind != RA_IT_RDNSS)
            continue;
        e6_json_begin_object(j, NULL);
        e6_json_begin_array(j, "servers");
        for (size_t k = 0; k < x->u.rdnss.n; k++)
            e6_json_string(j, NULL, e6_addr_format(&x->u.rdnss.servers[k], buf, sizeof(buf)));
        e6_json_end_array(j);
        e6_json_uint(j, "lifetime", x->u.rdnss.lifetime);
        e6_json_end_object(j);
    }
    e6_json_end_array(j);

    e6_json_begin_array(j, "dnssl");
    for (size_t i = 0; i < m->n; i++) {
        const struct ra_item *x = &m->it[i];
        if (x->kind != RA_IT_DNSSL)
            continue;
        e6_json_begin_object(j, NULL);
        e6_json_begin_array(j, "domains");
        for (size_t k = 0; k < x->u.dnssl.n; k++)
            e6_json_string(j, NULL, x->u.dnssl.names[k]);
        e6_json_end_array(j);
        e6_json_uint(j, "lifetime", x->u.dnssl.lifetime);
        e6_json_end_object(j);
    }
    e6_json_end_array(j);

    e6_json_begin_array(j, "pref64");
    for (size_t i = 0; i < m->n; i++) {
        const struct ra_item *x = &m->it[i];
        if (x->kind != RA_IT_PREF64)
            continue;
        e6_json_begin_object(j, NULL);
        e6_json_string(j, "prefix", e6_prefix_format(&x->u.pref64.prefix, buf, sizeof(buf)));
        e6_json_uint(j, "lifetime", e6_nd_pref64_lifetime(x->u.pref64.lifetime));
        e6_json_end_object(j);
    }
    e6_json_end_array(j);

    const char *captive = NULL;
    for (size_t i = 0; i < m->n; i++)
        if (m->it[i].kind == RA_IT_CAPTIVE)
            captive = m->it[i].u.captive;
    e6_json_string(j, "captive_portal", captive);
    e6_json_end_object(j);
}

static void view_ra_text(const struct ra_engine *e, struct e6_strbuf *sb, const struct ra_model *m,
                         const struct ra_pktset *s, uint64_t now)
{
    char buf[E6_PREFIXSTRLEN + 8], l1[16], l2[16];
    e6_strbuf_printf(sb, "  ra: %zu packet%s (", s->n, s->n == 1 ? "" : "s");
    for (size_t i = 0; i < s->n; i++)
        e6_strbuf_printf(sb, "%s%zu", i ? ", " : "", s->p[i].len);
    e6_strbuf_printf(sb, " bytes)\n");
    e6_strbuf_printf(sb,
                     "    hop limit %u, flags%s%s%s, preference %s, router lifetime %u s%s, "
                     "reachable %" PRIu32 " ms, retrans %" PRIu32 " ms\n",
                     m->hdr.cur_hop_limit, m->hdr.flags & E6_ND_RA_M ? " M" : "",
                     m->hdr.flags & E6_ND_RA_O ? " O" : "",
                     m->hdr.flags & (E6_ND_RA_M | E6_ND_RA_O) ? "" : " none", prf_name(m->hdr.prf),
                     m->hdr.router_lifetime, m->forwarding_off ? " (forwarding off)" : "",
                     m->hdr.reachable, m->hdr.retrans);
    if (m->slla) {
        char ll[64];
        fmt_ll(m->ll, m->ll_len, ll, sizeof(ll));
        e6_strbuf_printf(sb, "    source lladdr %s\n", ll);
    }
    if (m->mtu_opt)
        e6_strbuf_printf(sb, "    mtu %" PRIu32 "\n", m->mtu_opt);
    for (size_t i = 0; i < m->n; i++) {
        const struct ra_item *x = &m->it[i];
        switch (x->kind) {
        case RA_IT_PIO:
            fmt_life(x->u.pio.valid, l1, sizeof(l1));
            fmt_life(x->u.pio.preferred, l2, sizeof(l2));
            e6_strbuf_printf(sb, "    prefix %s %c%c valid %s preferred %s",
                             e6_prefix_format(&x->u.pio.prefix, buf, sizeof(buf)),
                             x->u.pio.flags & E6_ND_PIO_L ? 'L' : '-',
                             x->u.pio.flags & E6_ND_PIO_A ? 'A' : '-', l1, l2);
            if (x->stale)
                e6_strbuf_printf(sb, " (deprecated, RFC 9096: %" PRIu64 " s left)",
                                 (stale_left(e, &x->u.pio.prefix, now) + 999) / 1000);
            e6_strbuf_printf(sb, "\n");
            break;
        case RA_IT_RIO:
            fmt_life(x->u.rio.lifetime, l1, sizeof(l1));
            e6_strbuf_printf(sb, "    route %s preference %s lifetime %s\n",
                             e6_prefix_format(&x->u.rio.prefix, buf, sizeof(buf)),
                             prf_name(x->u.rio.prf), l1);
            break;
        case RA_IT_RDNSS:
            fmt_life(x->u.rdnss.lifetime, l1, sizeof(l1));
            e6_strbuf_printf(sb, "    rdnss");
            for (size_t k = 0; k < x->u.rdnss.n; k++)
                e6_strbuf_printf(sb, " %s",
                                 e6_addr_format(&x->u.rdnss.servers[k], buf, sizeof(buf)));
            e6_strbuf_printf(sb, " lifetime %s\n", l1);
            break;
        case RA_IT_DNSSL:
            fmt_life(x->u.dnssl.lifetime, l1, sizeof(l1));
            e6_strbuf_printf(sb, "    dnssl");
            for (size_t k = 0; k < x->u.dnssl.n; k++)
                e6_strbuf_printf(sb, " %s", x->u.dnssl.names[k]);
            e6_strbuf_printf(sb, " lifetime %s\n", l1);
            break;
        case RA_IT_PREF64:
            e6_strbuf_printf(sb, "    pref64 %s lifetime %u\n",
                             e6_prefix_format(&x->u.pref64.prefix, buf, sizeof(buf)),
                             e6_nd_pref64_lifetime(x->u.pref64.lifetime));
            break;
        case RA_IT_CAPTIVE:
            e6_strbuf_printf(sb, "    captive portal %s\n", x->u.captive);
            break;
        }
    }
}

void ra_engine_view(const struct ra_engine *e, struct e6_json *j, enum e6_view_format fmt,
                    bool detail, uint64_t now_ms)
{
    enum ra_state st = ra_engine_state(e);
    uint64_t next = ra_engine_next(e);
    bool has_next = next != RA_NEVER;
    uint64_t in_ms = has_next && next > now_ms ? next - now_ms : 0;
    size_t n_stale = 0;
    for (size_t i = 0; i < e->n_tr; i++)
        n_stale += !e->tr[i].active && e->tr[i].hold_until_ms > now_ms;
    unsigned initial_left = e->able && e->initial_sent < RA_MAX_INITIAL_RTR_ADVERTISEMENTS
                                ? RA_MAX_INITIAL_RTR_ADVERTISEMENTS - e->initial_sent
                                : 0;

    struct ra_model m;
    struct ra_pktset s;
    bool have_ra = false;
    if (detail) {
        enum ra_mode mode = RA_MODE_NORMAL;
        if (st == RA_ST_STOPPING)
            mode = e->final_withdraw ? RA_MODE_FINAL_WITHDRAW : RA_MODE_FINAL;
        if (ra_model_build(e, mode, now_ms, &m) == 0) {
            if (ra_model_pack(&m, ra_src(e), &(struct in6_addr){{{0xff, 0x02, [15] = 1}}}, &s) == 0)
                have_ra = true;
            else
                ra_model_free(&m);
        }
    }

    if (fmt == E6_VIEW_JSON) {
        e6_json_begin_object(j, NULL);
        e6_json_string(j, "interface", e->cfg->name);
        e6_json_string(j, "state", ra_state_name(st));
        if (has_next)
            e6_json_uint(j, "next_ra_ms", in_ms);
        else
            e6_json_null(j, "next_ra_ms");
        e6_json_uint(j, "initial_left", initial_left);
        e6_json_uint(j, "final_left", e->final_left);
        e6_json_uint(j, "pending_unicast", e->n_ucast);
        e6_json_bool(j, "solicited_multicast_pending", e->mcast_pending);
        e6_json_uint(j, "stale_prefixes", n_stale);
        e6_json_uint(j, "build_errors", e->build_errors);
        e6_json_uint(j, "dropped_options", e->dropped_options);
        e6_json_begin_object(j, "counters");
        for (size_t i = 0; i < RA_C__COUNT; i++)
            e6_json_uint(j, ra_counter_names[i], e->local[i]);
        e6_json_end_object(j);
        if (have_ra)
            view_ra_json(e, j, &m, &s, now_ms);
        e6_json_end_object(j);
    } else {
        struct e6_strbuf *sb = j->sb;
        e6_strbuf_printf(sb, "interface %s: %s", e->cfg->name ? e->cfg->name : "?",
                         ra_state_name(st));
        if (has_next)
            e6_strbuf_printf(sb, ", next RA in %" PRIu64 " ms", in_ms);
        if (initial_left)
            e6_strbuf_printf(sb, ", %u initial left", initial_left);
        if (e->final_left)
            e6_strbuf_printf(sb, ", %u final left", e->final_left);
        e6_strbuf_printf(sb, "\n");
        if (e->n_ucast || e->mcast_pending || n_stale)
            e6_strbuf_printf(sb, "  pending: %zu unicast, %s multicast; %zu stale prefixes\n",
                             e->n_ucast, e->mcast_pending ? "one" : "no", n_stale);
        if (e->build_errors || e->dropped_options)
            e6_strbuf_printf(sb, "  build errors %" PRIu64 ", options too large %" PRIu64 "\n",
                             e->build_errors, e->dropped_options);
        e6_strbuf_printf(sb, "  counters:");
        for (size_t i = 0; i < RA_C__COUNT; i++)
            e6_strbuf_printf(sb, " %s %" PRIu64, ra_counter_names[i], e->local[i]);
        e6_strbuf_printf(sb, "\n");
        if (have_ra)
            view_ra_text(e, sb, &m, &s, now_ms);
    }
    if (have_ra) {
        ra_pktset_free(&s);
        ra_model_free(&m);
    }
}
