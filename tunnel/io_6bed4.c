/*
 * tunnel/io_6bed4: the 6bed4 control plane (see io_6bed4.h). Per section
 * it creates the TUN (MTU 1280, up), the UDP socket, and the workers
 * (io_6bed4_worker.c). A router routes its /64 into the TUN and expires
 * its peer table from a loop timer; a peer solicits with back-off, takes
 * the RAs its decap worker hands over through a pipe, configures lanip 1
 * of the /114 and its routes, and sends keepalives. Reloads keep
 * unchanged sections running and re-create the others. It also answers
 * the NDP proxy's membership questions and renders the views. The pure
 * helpers (token bucket, batch touches, a peer's wants, the peers view)
 * are at the top, for the unit tests.
 */
#include "config.h"

/* glibc's net/if.h before any linux/ header: libc-compat then skips the duplicates */
#include <net/if.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "common/sixbed4.h"
#include "tunnel/io.h"
#include "tunnel/io_6bed4.h"
#include "tunnel/io_6bed4_int.h"
#include "tunnel/io_int.h"
#include "tunnel/tun_dev.h"

/* ---- counter names --------------------------------------------------- */

static char drop_names[TB4_D__COUNT][48];
const char *tb4_counter_names[B4__COUNT] = {
    [B4_ENCAP_PACKETS] = "encap_packets",
    [B4_ENCAP_BYTES] = "encap_bytes",
    [B4_DECAP_PACKETS] = "decap_packets",
    [B4_DECAP_BYTES] = "decap_bytes",
    [B4_LOCAL_PACKETS] = "local_packets",
    [B4_HAIRPIN_PACKETS] = "hairpin_packets",
    [B4_HAIRPIN_BYTES] = "hairpin_bytes",
    [B4_RS_RECEIVED] = "rs_received",
    [B4_RA_SENT] = "ra_sent",
    [B4_RA_SUPPRESSED] = "ra_suppressed",
    [B4_NS_ANSWERED] = "ns_answered",
    [B4_KEEPALIVES] = "keepalives",
    [B4_RS_SENT] = "rs_sent",
    [B4_RA_RECEIVED] = "ra_received",
    [B4_PREFIX_CHANGES] = "prefix_changes",
    [B4_PEERS_REFUSED] = "peers_refused",
    [B4_SEND_ERRORS] = "send_errors",
    [B4_TUN_ERRORS] = "tun_write_errors",
    [B4_RX_TRUNCATED] = "rx_truncated",
    [B4_GSO_PACKETS] = "gso_packets",
    [B4_GSO_SEGMENTS] = "gso_segments",
    [B4_CSUM_COMPLETED] = "csum_completed",
    [B4_GRO_PACKETS] = "gro_packets",
    [B4_GRO_SEGMENTS] = "gro_segments",
    [B4_UDP_GSO_SENDS] = "udp_gso_sends",
    [B4_UDP_GSO_DATAGRAMS] = "udp_gso_datagrams",
    [B4_UDP_GRO_RECEIVES] = "udp_gro_receives",
    [B4_UDP_GRO_DATAGRAMS] = "udp_gro_datagrams",
    [B4_UDP_GSO_FALLBACKS] = "udp_gso_fallbacks",
    GSO_COUNTER_NAMES(B4_GSO_DROP_BASE),
    /* the drop reasons: filled by tb4_counter_names_init() */
};

void tb4_counter_names_init(void)
{
    for (size_t i = 0; i < TB4_D__COUNT; i++) {
        snprintf(drop_names[i], sizeof(drop_names[i]), "drop_%s",
                 i == TB4_OK ? "none" : tb4_drop_name((enum tb4_drop)i));
        tb4_counter_names[B4_DROP_BASE + i] = drop_names[i];
    }
}

/* ---- pure helpers ---------------------------------------------------- */

void tb4_bucket_init(struct tb4_bucket *b, uint32_t rate, uint32_t burst, uint64_t now_ms)
{
    b->rate = rate;
    b->burst = burst;
    b->milli = (uint64_t)burst * 1000;
    b->last_ms = now_ms;
}

bool tb4_bucket_take(struct tb4_bucket *b, uint64_t now_ms)
{
    uint64_t cap = (uint64_t)b->burst * 1000;
    if (now_ms > b->last_ms) {
        uint64_t dt = now_ms - b->last_ms;
        /* rate tokens per second = rate milli-tokens per millisecond;
         * a long silence fills the bucket, no need to multiply it out */
        uint64_t add = dt >= cap ? cap : dt * b->rate;
        b->milli = add >= cap - b->milli ? cap : b->milli + add;
        b->last_ms = now_ms;
    }
    if (b->milli < 1000)
        return false;
    b->milli -= 1000;
    return true;
}

static bool ep_equal(struct tb4_endpoint a, struct tb4_endpoint b)
{
    return a.addr.s_addr == b.addr.s_addr && a.port == b.port;
}

bool tb4_touch_add(struct tb4_touch *v, size_t *n, size_t cap, struct tb4_endpoint ep,
                   bool keepalive, enum tb4_peer_class cls)
{
    for (size_t i = 0; i < *n; i++) {
        if (!ep_equal(v[i].ep, ep))
            continue;
        if (!keepalive) {
            if (v[i].keepalive_only || cls > v[i].cls)
                v[i].cls = cls;
            v[i].keepalive_only = false;
            v[i].packets++;
        }
        return true;
    }
    if (*n == cap)
        return false;
    v[(*n)++] = (struct tb4_touch){
        .ep = ep, .cls = cls, .packets = keepalive ? 0 : 1, .keepalive_only = keepalive};
    return true;
}

bool tb4_omsg_joins(const struct tb4_omsg *o, uint8_t kind, bool named, struct tb4_endpoint ep,
                    size_t len)
{
    if (o->kind != kind || o->named != named || (named && !ep_equal(o->ep, ep)))
        return false;
    if (len == 0 || o->seg == 0 || len > o->seg)
        return false;
    /* a shorter datagram ended the run: only the last may be short */
    if (o->bytes != (uint32_t)o->seg * o->nseg)
        return false;
    return o->nseg < TB4_UDP_GSO_SEGS && o->bytes + len <= TB4_UDP_GSO_BYTES;
}

size_t tb4_touch_apply(struct tb4_peers *p, const struct tb4_touch *v, size_t n, uint64_t now_ms)
{
    size_t refused = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i].keepalive_only) {
            if (!tb4_peers_keepalive(p, v[i].ep, now_ms) &&
                tb4_peers_touch(p, v[i].ep, TB4_PEER_SOLICITED, 0, now_ms) < 0)
                refused++;
            continue;
        }
        if (tb4_peers_touch(p, v[i].ep, v[i].cls, v[i].packets, now_ms) < 0)
            refused++;
    }
    return refused;
}

static bool route_listed(const struct e6_prefix *v, size_t n, const struct e6_prefix *p)
{
    for (size_t i = 0; i < n; i++)
        if (e6_prefix_equal(&v[i], p))
            return true;
    return false;
}

bool tb4_peer_want_build(const struct tb4_ra_info *ra, bool default_route,
                         struct tb4_peer_want *out)
{
    memset(out, 0, sizeof(*out));
    if (ra->pio.len != E6_6BED4_PEER_PREFIXLEN || !tb4_peer_address(&ra->pio, &out->addr))
        return false;
    out->pio = ra->pio;
    if (default_route) {
        out->n_routes = 1; /* ::/0, zeroed above */
        return true;
    }
    e6_prefix_make(&out->routes[out->n_routes++], &ra->pio.addr, 64);
    for (size_t i = 0; i < ra->n_routes && i < TB4_MAX_ROUTES; i++) {
        const struct e6_prefix *r = &ra->routes[i];
        if (r->len == 0 || e6_addr_is_multicast(&r->addr) || e6_addr_is_linklocal(&r->addr) ||
            route_listed(out->routes, out->n_routes, r))
            continue;
        out->routes[out->n_routes++] = *r;
    }
    return true;
}

bool tb4_peer_want_equal(const struct tb4_peer_want *a, const struct tb4_peer_want *b)
{
    if (!e6_addr_equal(&a->addr, &b->addr) || !e6_prefix_equal(&a->pio, &b->pio) ||
        a->n_routes != b->n_routes)
        return false;
    for (size_t i = 0; i < a->n_routes; i++)
        if (!route_listed(b->routes, b->n_routes, &a->routes[i]))
            return false;
    return true;
}

static bool collect_one(const struct tb4_peer *e, void *arg)
{
    struct tb4_rows *rows = arg;
    if (rows->n == rows->cap)
        return false;
    rows->v[rows->n++] = (struct tb4_peer_row){.ep = e->key,
                                               .cls = e->cls,
                                               .first_ms = e->first_ms,
                                               .last_ms = e->last_ms,
                                               .packets = e->packets};
    return true;
}

void tb4_rows_collect(const struct tb4_peers *p, struct tb4_rows *rows)
{
    rows->n = 0;
    if (rows->cap)
        tb4_peers_foreach(p, collect_one, rows);
}

const char *tb4_ep_format(struct tb4_endpoint ep, char *buf, size_t len)
{
    char a[INET_ADDRSTRLEN];
    if (!inet_ntop(AF_INET, &ep.addr, a, sizeof(a)))
        snprintf(a, sizeof(a), "?");
    snprintf(buf, len, "%s:%u", a, (unsigned)ep.port);
    return buf;
}

static const char *class_name(enum tb4_peer_class c)
{
    return c == TB4_PEER_ACTIVE ? "active" : "solicited";
}

/* seconds since t, 0 for a time in the future */
static uint64_t ago_s(uint64_t now_ms, uint64_t t)
{
    return now_ms > t ? (now_ms - t) / 1000 : 0;
}

void tb4_render_peers(struct e6_json *j, enum e6_view_format fmt, const char *name,
                      const struct e6_prefix *prefix64, size_t bound, size_t count,
                      const struct tb4_peer_row *rows, size_t n, uint64_t now_ms)
{
    char pfx[E6_PREFIXSTRLEN], ep[TB4_EPSTRLEN], p114[E6_PREFIXSTRLEN];
    e6_prefix_format(prefix64, pfx, sizeof(pfx));
    if (fmt == E6_VIEW_JSON) {
        e6_json_begin_object(j, NULL);
        e6_json_string(j, "name", name);
        e6_json_string(j, "prefix", pfx);
        e6_json_uint(j, "bound", bound);
        e6_json_uint(j, "count", count);
        e6_json_begin_array(j, "peers");
    } else {
        e6_strbuf_printf(j->sb, "  %s: prefix %s, %zu live peer%s (at most %zu)\n", name, pfx,
                         count, count == 1 ? "" : "s", bound);
    }
    for (size_t i = 0; i < n; i++) {
        const struct tb4_peer_row *r = &rows[i];
        struct e6_prefix pp;
        if (e6_6bed4_peer_prefix(&prefix64->addr, r->ep.addr, r->ep.port, &pp))
            e6_prefix_format(&pp, p114, sizeof(p114));
        else
            snprintf(p114, sizeof(p114), "-");
        tb4_ep_format(r->ep, ep, sizeof(ep));
        uint64_t first = ago_s(now_ms, r->first_ms), last = ago_s(now_ms, r->last_ms);
        if (fmt == E6_VIEW_JSON) {
            e6_json_begin_object(j, NULL);
            e6_json_string(j, "endpoint", ep);
            e6_json_string(j, "prefix", p114);
            e6_json_string(j, "class", class_name(r->cls));
            e6_json_uint(j, "first_heard_s", first);
            e6_json_uint(j, "last_heard_s", last);
            e6_json_uint(j, "packets", r->packets);
            e6_json_end_object(j);
        } else {
            e6_strbuf_printf(j->sb,
                             "    %-21s %s %s, first heard %" PRIu64 " s ago, last %" PRIu64
                             " s ago, %" PRIu64 " packets\n",
                             ep, p114, class_name(r->cls), first, last, r->packets);
        }
    }
    if (fmt == E6_VIEW_JSON) {
        e6_json_end_array(j);
        e6_json_end_object(j);
    } else if (count > n) {
        e6_strbuf_printf(j->sb, "    ... and %zu more\n", count - n);
    }
}

/* ---- state ----------------------------------------------------------- */

/* TUN fds opened before the privilege drop for reloads that add tunnels */
#define TB4_PREOPEN_SPARE_TUNNELS 2
/* packets the TUN holds for an encap worker */
#define TB4_TXQUEUELEN 1000
/* rows the peers view copies out of one table (the lock is held meanwhile) */
#define TB4_VIEW_ROWS 4096

/* What a section said (no pointer into the conf is kept). */
struct tb4_section {
    enum conf_tunnel_mode mode;
    struct in_addr local;
    uint16_t port;
    unsigned ttl, mtu;
    struct e6_prefix prefix;
    struct e6_prefix routes[TB4_MAX_ROUTES];
    size_t n_routes;
    unsigned peers, peer_timeout;
    struct in_addr router;
    uint16_t local_port;
    unsigned keepalive, keepalive_ttl;
    bool default_route;
};

struct tb4_tunnel {
    struct tb4_service *s;
    char name[IFNAMSIZ];
    struct tb4_section sec;
    int tunfd[TB4_MAX_QUEUES];
    unsigned n_queues;
    int ifindex;
    int rapipe[2]; /* peer: decap worker -> loop */
    bool rapipe_on_loop;
    struct tb4_endpoint bound; /* the UDP socket's own address */
    char offload_why[64];      /* the TUN's offloads, or why none (views) */
    char udp_offload_why[80];  /* the socket's UDP_SEGMENT and UDP_GRO, or why not (views) */
    struct tb4_fast fast;
    bool mu_init, peers_init;
    struct tb4_worker enc[TB4_MAX_QUEUES];
    struct tb4_worker dec;
    /* control plane counts (this tunnel's share of the service's block) */
    uint64_t ctl[B4__COUNT];
    /* router: the /64 route is installed */
    bool route_in;
    struct e6_timer expire_timer;
    /* peer */
    bool configured;
    struct tb4_peer_want have; /* installed when configured */
    uint32_t have_metric[TB4_MAX_ROUTES + 1];
    bool addr_in;
    uint16_t router_lifetime;
    unsigned rs_sent; /* since the last RA */
    uint64_t last_ra_ms;
    bool ttl_cmsg_warned;
    bool connected; /* peer: the UDP socket is connected to the router */
    struct e6_timer rs_timer, ka_timer;
};

struct tb4_service {
    struct tb4_service_env env;
    struct e6_counters *set;
    e6_counter_block ctl;        /* the loop's */
    struct e6_counter_pool pool; /* the workers' blocks */
    struct tb4_tunnel **tuns;
    size_t n_tuns;
    unsigned queues;
    struct tun_dev_spares spares;
};

int tb4_service_new(struct tb4_service **out, const struct tb4_service_env *env)
{
    struct tb4_service *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->env = *env;
    s->queues = tun_dev_queues(env->queues, TB4_AUTO_QUEUES, TB4_MAX_QUEUES);
    tb4_counter_names_init();
    s->set = e6_counters_new(env->registry, "6bed4", tb4_counter_names, B4__COUNT);
    if (!s->set) {
        free(s);
        return -ENOMEM;
    }
    s->ctl = e6_counters_block(s->set);
    e6_counter_pool_init(&s->pool, s->set);
    *out = s;
    return 0;
}

static int block_take(struct tb4_service *s, struct tb4_worker *w)
{
    int r = e6_counter_pool_take(&s->pool, &w->cnt, w->base);
    if (r < 0)
        return r;
    w->block_slot = r;
    return 0;
}

static void block_give(struct tb4_service *s, struct tb4_worker *w)
{
    e6_counter_pool_give(&s->pool, &w->block_slot);
    w->cnt.v = NULL;
}

static uint64_t worker_count(const struct tb4_worker *w, size_t idx)
{
    return tun_block_count(w->cnt, w->base, idx);
}

static uint64_t tunnel_count(const struct tb4_tunnel *t, size_t idx)
{
    uint64_t n = worker_count(&t->dec, idx) + t->ctl[idx];
    for (unsigned q = 0; q < t->n_queues; q++)
        n += worker_count(&t->enc[q], idx);
    return n;
}

/* a control-plane event: the tunnel's share and the registry's */
static void ctl_count(struct tb4_tunnel *t, size_t idx)
{
    t->ctl[idx]++;
    if (t->s->ctl.v)
        e6_count(t->s->ctl, idx);
}

static const char *v4(struct in_addr a, char *buf)
{
    return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN) ? buf : "?";
}

static void section_take(struct tb4_section *sec, const struct conf_tunnel *ct)
{
    memset(sec, 0, sizeof(*sec));
    sec->mode = ct->mode;
    sec->local = ct->local;
    sec->port = ct->port;
    sec->ttl = ct->ttl;
    sec->mtu = ct->mtu;
    sec->prefix = ct->prefix;
    sec->n_routes = ct->n_routes < TB4_MAX_ROUTES ? ct->n_routes : TB4_MAX_ROUTES;
    for (size_t i = 0; i < sec->n_routes; i++)
        sec->routes[i] = ct->routes[i];
    sec->peers = ct->peers;
    sec->peer_timeout = ct->peer_timeout;
    sec->router = ct->router;
    sec->local_port = ct->local_port;
    sec->keepalive = ct->keepalive;
    sec->keepalive_ttl = ct->keepalive_ttl;
    sec->default_route = ct->default_route;
}

static bool sections_equal(const struct tb4_section *a, const struct tb4_section *b)
{
    if (a->mode != b->mode || a->local.s_addr != b->local.s_addr || a->port != b->port ||
        a->ttl != b->ttl || a->mtu != b->mtu)
        return false;
    if (a->mode == CONF_TUN_ROUTER) {
        if (!e6_prefix_equal(&a->prefix, &b->prefix) || a->n_routes != b->n_routes ||
            a->peers != b->peers || a->peer_timeout != b->peer_timeout)
            return false;
        for (size_t i = 0; i < a->n_routes; i++)
            if (!e6_prefix_equal(&a->routes[i], &b->routes[i]))
                return false;
        return true;
    }
    return a->router.s_addr == b->router.s_addr && a->local_port == b->local_port &&
           a->keepalive == b->keepalive && a->keepalive_ttl == b->keepalive_ttl &&
           a->default_route == b->default_route;
}

static bool section_same(const struct tb4_section *a, const struct conf_tunnel *ct)
{
    struct tb4_section b;
    section_take(&b, ct);
    return sections_equal(a, &b);
}

bool tb4_conf_same(const struct conf_tunnel *a, const struct conf_tunnel *b)
{
    struct tb4_section sa;
    section_take(&sa, a);
    return section_same(&sa, b);
}

/* ---- peer: kernel state ------------------------------------------------ */

static int route_add(struct tb4_tunnel *t, const struct e6_prefix *dst, uint32_t *metric)
{
    struct e6_nl_route_spec r = {
        .dst = *dst, .ifindex = t->ifindex, .protocol = TUN_RTPROT, .metric = 0};
    if (dst->len == 0)
        return tun_dev_default_route_add(t->s->env.nl, t->name, t->ifindex, TUN_RTPROT, metric);
    int e = e6_nl_route_add(t->s->env.nl, &r, true);
    if (e == 0)
        *metric = 0;
    return e;
}

static void route_del(struct tb4_tunnel *t, const struct e6_prefix *dst, uint32_t metric)
{
    struct e6_nl_route_spec r = {
        .dst = *dst, .ifindex = t->ifindex, .metric = metric, .protocol = TUN_RTPROT};
    int e = e6_nl_route_del(t->s->env.nl, &r);
    char p[E6_PREFIXSTRLEN];
    if (e < 0 && e != -ESRCH && e != -ENODEV)
        e6_warn("tunnel %s: cannot remove route %s: %s", t->name,
                e6_prefix_format(dst, p, sizeof(p)), strerror(-e));
}

/* Remove what the peer installed (routes, then the address). */
static void peer_unconfigure(struct tb4_tunnel *t)
{
    for (size_t i = 0; t->configured && i < t->have.n_routes; i++)
        route_del(t, &t->have.routes[i], t->have_metric[i]);
    if (t->addr_in) {
        int e = e6_nl_addr_del(t->s->env.nl, t->ifindex, &t->have.addr, E6_6BED4_PEER_PREFIXLEN);
        if (e < 0 && e != -EADDRNOTAVAIL && e != -ENODEV) {
            char a[E6_ADDRSTRLEN];
            e6_warn("tunnel %s: cannot remove address %s/%u: %s", t->name,
                    e6_addr_format(&t->have.addr, a, sizeof(a)), E6_6BED4_PEER_PREFIXLEN,
                    strerror(-e));
        }
    }
    t->addr_in = false;
    t->configured = false;
}

/* Move the kernel from what is installed to w. */
static void peer_apply(struct tb4_tunnel *t, const struct tb4_peer_want *w)
{
    struct e6_nl *nl = t->s->env.nl;
    char a[E6_ADDRSTRLEN], p[E6_PREFIXSTRLEN];
    bool new_addr = !t->addr_in || !e6_addr_equal(&t->have.addr, &w->addr);
    uint32_t metric[TB4_MAX_ROUTES + 1] = {0};
    bool kept[TB4_MAX_ROUTES + 1] = {false};

    /* routes that go, then the old address (a new /114: NAT rebinding) */
    for (size_t i = 0; t->configured && i < t->have.n_routes; i++) {
        size_t k;
        for (k = 0; k < w->n_routes; k++)
            if (e6_prefix_equal(&w->routes[k], &t->have.routes[i]))
                break;
        if (k < w->n_routes) {
            kept[k] = true;
            metric[k] = t->have_metric[i];
        } else {
            route_del(t, &t->have.routes[i], t->have_metric[i]);
        }
    }
    if (new_addr && t->addr_in) {
        e6_nl_addr_del(nl, t->ifindex, &t->have.addr, E6_6BED4_PEER_PREFIXLEN);
        t->addr_in = false;
    }
    if (new_addr) {
        const struct e6_nl_addr_opts o = {.nodad = true, .replace = true};
        int e = e6_nl_addr_add(nl, t->ifindex, &w->addr, E6_6BED4_PEER_PREFIXLEN, &o);
        if (e < 0)
            e6_err("tunnel %s: cannot add address %s/%u: %s%s%s", t->name,
                   e6_addr_format(&w->addr, a, sizeof(a)), E6_6BED4_PEER_PREFIXLEN, strerror(-e),
                   e6_nl_errmsg(nl)[0] ? ": " : "", e6_nl_errmsg(nl));
        else
            t->addr_in = true;
    }
    /* what failed stays out of t->have: the next RA differs from it and
     * tries again */
    t->have = *w;
    t->have.n_routes = 0;
    for (size_t k = 0; k < w->n_routes; k++) {
        int e = kept[k] ? 0 : route_add(t, &w->routes[k], &metric[k]);
        if (e < 0) {
            e6_err("tunnel %s: cannot add route %s dev %s: %s%s%s", t->name,
                   e6_prefix_format(&w->routes[k], p, sizeof(p)), t->name, strerror(-e),
                   e6_nl_errmsg(nl)[0] ? ": " : "", e6_nl_errmsg(nl));
            continue;
        }
        t->have_metric[t->have.n_routes] = metric[k];
        t->have.routes[t->have.n_routes++] = w->routes[k];
    }
    t->configured = true;
    pthread_mutex_lock(&t->fast.mu);
    t->fast.have_self = t->addr_in;
    t->fast.self = w->addr;
    pthread_mutex_unlock(&t->fast.mu);
}

/* ---- peer: solicitations, RAs, keepalives -------------------------------- */

static void peer_send_rs(struct tb4_tunnel *t)
{
    if (!t->connected) {
        struct sockaddr_in ra = {
            .sin_family = AF_INET, .sin_addr = t->sec.router, .sin_port = htons(t->sec.port)};
        t->connected = connect(t->fast.udpfd, (struct sockaddr *)&ra, sizeof(ra)) == 0;
        if (!t->connected) {
            ctl_count(t, B4_SEND_ERRORS);
            return;
        }
        e6_notice("tunnel %s: the router is reachable now", t->name);
    }
    uint8_t rs[64];
    size_t n = tb4_build_rs(rs, sizeof(rs));
    if (n && send(t->fast.udpfd, rs, n, MSG_DONTWAIT) == (ssize_t)n)
        ctl_count(t, B4_RS_SENT);
    else
        ctl_count(t, B4_SEND_ERRORS);
}

uint64_t tb4_resolicit_ms(uint16_t router_lifetime, unsigned keepalive_s)
{
    uint64_t ms = (uint64_t)keepalive_s * 4000;
    if (ms < TB4_RESOLICIT_MIN_MS)
        ms = TB4_RESOLICIT_MIN_MS;
    uint64_t half = (uint64_t)router_lifetime * 500;
    if (router_lifetime && half < ms)
        ms = half;
    return ms < TB4_RESOLICIT_MIN_MS ? TB4_RESOLICIT_MIN_MS : ms;
}

static uint64_t resolicit_ms(const struct tb4_tunnel *t)
{
    return tb4_resolicit_ms(t->router_lifetime, t->sec.keepalive);
}

static void rs_fire(struct e6_loop *loop, struct e6_timer *tm, void *arg)
{
    (void)tm;
    struct tb4_tunnel *t = arg;
    peer_send_rs(t);
    t->rs_sent++;
    /* unconfigured: the reference peer's back-off; configured: a refresh,
     * which also teaches us a new mapping our NAT made silently */
    e6_timer_arm_in(loop, &t->rs_timer,
                    t->configured ? resolicit_ms(t) : tb4_rs_backoff_ms(t->rs_sent));
}

/* An empty datagram with IP_TTL keepalive-ttl: it needs to reach the NAT only. */
static void peer_send_keepalive(struct tb4_tunnel *t)
{
    int ttl = (int)t->sec.keepalive_ttl;
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } c;
    memset(&c, 0, sizeof(c));
    struct msghdr mh = {.msg_control = c.buf, .msg_controllen = sizeof(c.buf)};
    struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
    cm->cmsg_level = IPPROTO_IP;
    cm->cmsg_type = IP_TTL;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &ttl, sizeof(ttl));
    ssize_t r = sendmsg(t->fast.udpfd, &mh, MSG_DONTWAIT);
    if (r < 0 && errno == EINVAL) {
        /* a kernel without IP_TTL ancillary data: the data TTL then */
        if (!t->ttl_cmsg_warned)
            e6_warn("tunnel %s: this kernel does not take a per-datagram TTL; keepalives go "
                    "with TTL %u instead of %u",
                    t->name, t->sec.ttl, t->sec.keepalive_ttl);
        t->ttl_cmsg_warned = true;
        r = send(t->fast.udpfd, "", 0, MSG_DONTWAIT);
    }
    if (r < 0)
        ctl_count(t, B4_SEND_ERRORS);
    else
        ctl_count(t, B4_KEEPALIVES);
}

static void ka_fire(struct e6_loop *loop, struct e6_timer *tm, void *arg)
{
    (void)tm;
    struct tb4_tunnel *t = arg;
    peer_send_keepalive(t);
    e6_timer_arm_in(loop, &t->ka_timer, (uint64_t)t->sec.keepalive * 1000);
}

static void peer_take_ra(struct tb4_tunnel *t, const struct tb4_ra_info *ra)
{
    struct e6_loop *loop = t->s->env.loop;
    struct tb4_peer_want w;
    ctl_count(t, B4_RA_RECEIVED);
    if (!tb4_peer_want_build(ra, t->sec.default_route, &w)) {
        ctl_count(t, B4_DROP_BASE + TB4_D_BAD_RA);
        return;
    }
    t->last_ra_ms = e6_monotonic_ms();
    t->router_lifetime = ra->router_lifetime;
    if (!t->configured || !t->addr_in || !tb4_peer_want_equal(&t->have, &w)) {
        char a[E6_ADDRSTRLEN], p[E6_PREFIXSTRLEN], b[E6_ADDRSTRLEN];
        if (t->configured && !e6_addr_equal(&t->have.addr, &w.addr))
            e6_notice("tunnel %s: the router gave a new prefix %s (our NAT mapping changed): "
                      "address %s replaces %s",
                      t->name, e6_prefix_format(&w.pio, p, sizeof(p)),
                      e6_addr_format(&w.addr, a, sizeof(a)),
                      e6_addr_format(&t->have.addr, b, sizeof(b)));
        else if (!t->configured)
            e6_notice("tunnel %s: the router gave prefix %s: address %s/%u", t->name,
                      e6_prefix_format(&w.pio, p, sizeof(p)), e6_addr_format(&w.addr, a, sizeof(a)),
                      E6_6BED4_PEER_PREFIXLEN);
        if (!t->configured || !e6_addr_equal(&t->have.addr, &w.addr))
            ctl_count(t, B4_PREFIX_CHANGES);
        peer_apply(t, &w);
    }
    t->rs_sent = 0;
    if (loop) {
        e6_timer_arm_in(loop, &t->rs_timer, resolicit_ms(t));
        if (!e6_timer_armed(&t->ka_timer))
            e6_timer_arm_in(loop, &t->ka_timer, (uint64_t)t->sec.keepalive * 1000);
    }
}

static void on_ra_pipe(struct e6_loop *loop, int fd, uint32_t events, void *arg)
{
    (void)loop;
    (void)events;
    struct tb4_tunnel *t = arg;
    struct tb4_ra_info ra;
    /* a bounded batch: the loop serves others too */
    for (int i = 0; i < 16; i++) {
        ssize_t r = read(fd, &ra, sizeof(ra));
        if (r != (ssize_t)sizeof(ra))
            return;
        peer_take_ra(t, &ra);
    }
}

/* ---- router: peer table expiry ---------------------------------------- */

static void expire_fire(struct e6_loop *loop, struct e6_timer *tm, void *arg)
{
    (void)tm;
    struct tb4_tunnel *t = arg;
    struct tb4_fast *f = &t->fast;
    pthread_mutex_lock(&f->mu);
    uint64_t now = tb4_fast_now(f, e6_monotonic_ms());
    tb4_peers_expire(&f->peers, now);
    uint64_t next = tb4_peers_next_expiry(&f->peers);
    pthread_mutex_unlock(&f->mu);
    /* workers insert without telling us: an empty table is looked at
     * again after one timeout, which is when its first entry could expire */
    uint64_t period = (uint64_t)t->sec.peer_timeout * 1000;
    if (next == UINT64_MAX || next > now + period)
        next = now + period;
    e6_timer_arm_in(loop, &t->expire_timer, next > now ? next - now : 0);
}

/* ---- tunnels --------------------------------------------------------- */

/* h non-NULL: the TUN's queues go into h (a re-creation takes them) instead of closing */
static void tunnel_free_into(struct tb4_tunnel *t, struct tun_dev_handover *h)
{
    if (!t)
        return;
    struct e6_loop *loop = t->s->env.loop;
    if (loop) {
        e6_timer_cancel(loop, &t->rs_timer);
        e6_timer_cancel(loop, &t->ka_timer);
        e6_timer_cancel(loop, &t->expire_timer);
        if (t->rapipe_on_loop)
            e6_loop_del_fd(loop, t->rapipe[0]);
    }
    for (unsigned q = 0; q < t->n_queues; q++) {
        tb4_worker_stop(&t->enc[q]);
        block_give(t->s, &t->enc[q]);
    }
    tb4_worker_stop(&t->dec);
    block_give(t->s, &t->dec);
    if (t->ifindex > 0 && t->s->env.nl) {
        if (t->route_in)
            route_del(t, &t->sec.prefix, 0);
        peer_unconfigure(t);
    }
    if (t->fast.udpfd >= 0)
        close(t->fast.udpfd);
    for (int i = 0; i < 2; i++)
        if (t->rapipe[i] >= 0)
            close(t->rapipe[i]);
    if (h && t->ifindex > 0)
        tun_dev_handover_take(h, t->name, t->tunfd, t->n_queues, t->ifindex);
    /* the TUN is not persistent: the interface goes with its last queue */
    for (unsigned q = 0; q < t->n_queues; q++)
        if (t->tunfd[q] >= 0)
            close(t->tunfd[q]);
    if (t->peers_init)
        tb4_peers_destroy(&t->fast.peers);
    if (t->mu_init)
        pthread_mutex_destroy(&t->fast.mu);
    free(t);
}

static void tunnel_free(struct tb4_tunnel *t)
{
    tunnel_free_into(t, NULL);
}

static void sockbuf(int fd)
{
    /* bursts from many peers: a deeper queue than the default (best effort) */
    int buf = 4 << 20;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)) < 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf)) < 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
}

/*
 * UDP segmentation (one sendmsg carries a run of datagrams to one
 * endpoint: the segments of a TUN super-packet, a hair-pinned run) and
 * UDP GRO (a run of datagrams of one flow arrives as one buffer): the
 * IPv4 side, conntrack and NAT included, then carries super-packets as
 * the kernel's routed path does. Each is best effort (Linux 4.18 and 5.0).
 */
static void udp_offload(struct tb4_tunnel *t)
{
    struct tb4_fast *f = &t->fast;
    int fd = f->udpfd, one = 1, zero = 0;
    const char *env = tun_dev_offload_env_off();
    if (env) {
        snprintf(t->udp_offload_why, sizeof(t->udp_offload_why), "off (EDGE6_TUN_OFFLOAD=%s)", env);
        return;
    }
    /* a socket-wide segment size of 0: segmentation only where a send asks */
    f->udp_gso = setsockopt(fd, SOL_UDP, UDP_SEGMENT, &zero, sizeof(zero)) == 0;
    int gso_err = errno;
    f->udp_gro = setsockopt(fd, SOL_UDP, UDP_GRO, &one, sizeof(one)) == 0;
    int gro_err = errno;
    if (f->udp_gso && f->udp_gro)
        snprintf(t->udp_offload_why, sizeof(t->udp_offload_why), "gso,gro");
    else if (f->udp_gso || f->udp_gro)
        snprintf(t->udp_offload_why, sizeof(t->udp_offload_why), "%s (no %s: %s)",
                 f->udp_gso ? "gso" : "gro", f->udp_gso ? "gro" : "gso",
                 strerror(f->udp_gso ? gro_err : gso_err));
    else
        snprintf(t->udp_offload_why, sizeof(t->udp_offload_why), "off (the kernel refused: %s)",
                 strerror(gso_err));
    if (!f->udp_gso || !f->udp_gro)
        e6_info("tunnel %s: UDP offloads %s: a system call per datagram where they are missing",
                t->name, t->udp_offload_why);
}

static int open_udp(struct tb4_tunnel *t, char *err, size_t errlen)
{
    const struct tb4_section *sec = &t->sec;
    bool router = sec->mode == CONF_TUN_ROUTER;
    char a[INET_ADDRSTRLEN];
    int r, fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
    t->fast.udpfd = fd;
    if (fd < 0) {
        r = -errno;
        snprintf(err, errlen, "tunnel %s: cannot open a UDP socket: %s", t->name, strerror(-r));
        return r;
    }
    int ttl = (int)sec->ttl;
    /* reference 3.10: the IPv4 side fragments what the 1280-byte link carries */
    int pmtu = IP_PMTUDISC_DONT;
    if (setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl)) < 0 ||
        setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof(pmtu)) < 0) {
        r = -errno;
        snprintf(err, errlen, "tunnel %s: UDP socket options: %s", t->name, strerror(-r));
        return r;
    }
    sockbuf(fd);
    udp_offload(t);
    uint16_t lport = router ? sec->port : sec->local_port;
    struct sockaddr_in sa = {
        .sin_family = AF_INET, .sin_addr = sec->local, .sin_port = htons(lport)};
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        r = -errno;
        snprintf(err, errlen, "tunnel %s: cannot bind UDP %s:%u: %s%s", t->name, v4(sec->local, a),
                 (unsigned)lport, strerror(-r),
                 r == -EADDRNOTAVAIL ? " (the address is not configured on this box)"
                 : r == -EADDRINUSE  ? " (another socket holds that port)"
                                     : "");
        return r;
    }
    if (!router) {
        struct sockaddr_in ra = {
            .sin_family = AF_INET, .sin_addr = sec->router, .sin_port = htons(sec->port)};
        /* no route to the router yet (booting, link down) is no reason not
         * to start: the solicitations connect again until one gets through */
        t->connected = connect(fd, (struct sockaddr *)&ra, sizeof(ra)) == 0;
        if (!t->connected)
            e6_warn("tunnel %s: cannot reach the router %s:%u yet: %s (soliciting on)", t->name,
                    v4(sec->router, a), (unsigned)sec->port, strerror(errno));
    }
    socklen_t sl = sizeof(sa);
    if (getsockname(fd, (struct sockaddr *)&sa, &sl) == 0)
        t->bound = (struct tb4_endpoint){.addr = sa.sin_addr, .port = ntohs(sa.sin_port)};
    return 0;
}

static void init_worker(struct tb4_worker *w, enum tb4_worker_kind kind)
{
    *w = (struct tb4_worker){.kind = kind, .tunfd = -1, .th = TUN_THREAD_INIT, .block_slot = -1};
}

static int tunnel_new(struct tb4_service *s, const struct conf_tunnel *ct,
                      struct tun_dev_handover *h, struct tb4_tunnel **out, char *err, size_t errlen)
{
    struct tb4_tunnel *t = calloc(1, sizeof(*t));
    if (!t) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    t->s = s;
    t->fast.udpfd = t->fast.tunfd0 = t->fast.rafd = -1;
    t->rapipe[0] = t->rapipe[1] = -1;
    for (unsigned q = 0; q < TB4_MAX_QUEUES; q++) {
        t->tunfd[q] = -1;
        init_worker(&t->enc[q], TB4_W_ENCAP);
    }
    init_worker(&t->dec, TB4_W_DECAP);
    e6_timer_init(&t->rs_timer, rs_fire, t);
    e6_timer_init(&t->ka_timer, ka_fire, t);
    e6_timer_init(&t->expire_timer, expire_fire, t);
    snprintf(t->name, sizeof(t->name), "%s", ct->name);
    section_take(&t->sec, ct);
    bool router = ct->mode == CONF_TUN_ROUTER;
    struct tb4_fast *f = &t->fast;
    f->router = router;
    int r;
    if (strlen(ct->name) >= IFNAMSIZ) {
        snprintf(err, errlen, "tunnel %s: name too long for an interface", ct->name);
        r = -EINVAL;
        goto fail;
    }
    if ((r = -pthread_mutex_init(&f->mu, NULL)) < 0) {
        snprintf(err, errlen, "tunnel %s: mutex: %s", t->name, strerror(-r));
        goto fail;
    }
    t->mu_init = true;
    if (router) {
        f->rcfg = (struct tb4_router_cfg){.prefix = t->sec.prefix.addr,
                                          .self = {.addr = t->sec.local, .port = t->sec.port},
                                          .routes = t->sec.routes,
                                          .n_routes = t->sec.n_routes};
        f->table = t->sec.peers > 0;
        if (f->table) {
            r = tb4_peers_init(&f->peers, t->sec.peers, t->sec.peer_timeout * 1000u);
            if (r < 0) {
                snprintf(err, errlen, "tunnel %s: peer table: %s", t->name, strerror(-r));
                goto fail;
            }
            t->peers_init = true;
        }
        uint64_t now = e6_monotonic_ms();
        tb4_bucket_init(&f->ra_rebind, TB4_RA_REBIND_RATE, TB4_RA_REBIND_BURST, now);
        tb4_bucket_init(&f->ra_solicit, TB4_RA_SOLICIT_RATE, TB4_RA_SOLICIT_BURST, now);
    } else {
        f->router_ep = (struct tb4_endpoint){.addr = t->sec.router, .port = t->sec.port};
        if (pipe2(t->rapipe, O_NONBLOCK | O_CLOEXEC) < 0) {
            r = -errno;
            snprintf(err, errlen, "tunnel %s: pipe: %s", t->name, strerror(-r));
            goto fail;
        }
        f->rafd = t->rapipe[1];
    }
    /* a peer is one host: one queue; a router serves many */
    /* with a virtio_net_hdr on every packet the kernel may hand the encap
     * workers TCP super-packets (cut once, here, into the sendmmsg batch)
     * and take merged runs of segments from the decap worker: the system
     * calls shrink by the segment count (tun_dev_offload_setup) */
    const struct tun_dev_opts o = {.queues = router ? s->queues : 1, .vnet_hdr = true};
    if ((r = tun_dev_reopen(h, &s->spares, t->name, &o, t->tunfd, &t->ifindex, err, errlen)) < 0)
        goto fail;
    t->n_queues = o.queues;
    f->tunfd0 = t->tunfd[0];
    f->vnet = true;
    f->offload =
        tun_dev_offload_setup(t->tunfd[0], t->name, t->offload_why, sizeof(t->offload_why));
    if ((r = open_udp(t, err, errlen)) < 0)
        goto fail;
    if (!tun_dev_set_txqlen(t->name, TB4_TXQUEUELEN))
        e6_info("tunnel %s: cannot set the queue length to %d: %s (the default stays)", t->name,
                TB4_TXQUEUELEN, strerror(errno));
    struct e6_nl *nl = s->env.nl;
    if ((r = e6_nl_link_set_mtu(nl, t->ifindex, TB4_MTU)) < 0 ||
        (r = e6_nl_link_set_up(nl, t->ifindex, true)) < 0) {
        snprintf(err, errlen, "tunnel %s: cannot set MTU %u and bring it up: %s", t->name, TB4_MTU,
                 strerror(-r));
        goto fail;
    }
    char p[E6_PREFIXSTRLEN], a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
    if (router) {
        /* the /64 into the TUN; the operator's port-0 servers (/128s, /112s
         * on another link) win by longest match */
        struct e6_nl_route_spec rs = {
            .dst = t->sec.prefix, .ifindex = t->ifindex, .protocol = TUN_RTPROT};
        if ((r = e6_nl_route_add(nl, &rs, true)) < 0) {
            snprintf(err, errlen, "tunnel %s: cannot add route %s dev %s: %s%s%s", t->name,
                     e6_prefix_format(&t->sec.prefix, p, sizeof(p)), t->name, strerror(-r),
                     e6_nl_errmsg(nl)[0] ? ": " : "", e6_nl_errmsg(nl));
            goto fail;
        }
        t->route_in = true;
    }
    if ((r = block_take(s, &t->dec)) < 0)
        goto no_block;
    for (unsigned q = 0; q < t->n_queues; q++) {
        t->enc[q].tunfd = t->tunfd[q];
        if ((r = block_take(s, &t->enc[q])) < 0)
            goto no_block;
    }
    if ((r = tb4_worker_start(&t->dec, f, err, errlen)) < 0)
        goto fail;
    for (unsigned q = 0; q < t->n_queues; q++)
        if ((r = tb4_worker_start(&t->enc[q], f, err, errlen)) < 0)
            goto fail;
    struct e6_loop *loop = s->env.loop;
    if (router) {
        if (f->table && loop)
            e6_timer_arm_in(loop, &t->expire_timer, (uint64_t)t->sec.peer_timeout * 1000);
        e6_notice("tunnel %s: 6bed4 router on %s:%u for %s, %u queue%s, peer table %u%s, "
                  "ifindex %d",
                  t->name, v4(t->sec.local, a), (unsigned)t->sec.port,
                  e6_prefix_format(&t->sec.prefix, p, sizeof(p)), t->n_queues,
                  t->n_queues == 1 ? "" : "s", t->sec.peers, f->table ? "" : " (stateless)",
                  t->ifindex);
    } else {
        if (loop) {
            if ((r = e6_loop_add_fd(loop, t->rapipe[0], EPOLLIN, on_ra_pipe, t)) < 0) {
                snprintf(err, errlen, "tunnel %s: loop: %s", t->name, strerror(-r));
                goto fail;
            }
            t->rapipe_on_loop = true;
            e6_timer_arm_in(loop, &t->rs_timer, 0);
        }
        e6_notice("tunnel %s: 6bed4 peer %s:%u -> router %s:%u, soliciting, ifindex %d", t->name,
                  v4(t->bound.addr, a), (unsigned)t->bound.port, v4(t->sec.router, b),
                  (unsigned)t->sec.port, t->ifindex);
    }
    *out = t;
    return 0;
no_block:
    snprintf(err, errlen, "tunnel %s: no counter block left (too many tunnels and queues)",
             t->name);
fail:
    tunnel_free(t);
    return r;
}

static struct tb4_tunnel *find_tunnel(const struct tb4_service *s, const char *name)
{
    for (size_t i = 0; i < s->n_tuns; i++)
        if (strcmp(s->tuns[i]->name, name) == 0)
            return s->tuns[i];
    return NULL;
}

static const struct conf_tunnel *find_6bed4(const struct conf *c, const char *name)
{
    for (size_t i = 0; i < c->n_tunnels; i++)
        if (c->tunnels[i].type == CONF_TUNNEL_6BED4 && strcmp(c->tunnels[i].name, name) == 0)
            return &c->tunnels[i];
    return NULL;
}

static int add_tunnel(struct tb4_service *s, const struct conf_tunnel *ct,
                      struct tun_dev_handover *h, char *err, size_t errlen)
{
    struct tb4_tunnel **v = realloc(s->tuns, (s->n_tuns + 1) * sizeof(*v));
    if (!v) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    s->tuns = v;
    struct tb4_tunnel *t = NULL;
    int r = tunnel_new(s, ct, h, &t, err, errlen);
    if (r < 0)
        return r;
    s->tuns[s->n_tuns++] = t;
    return 0;
}

/* ---- the service ----------------------------------------------------- */

int tb4_service_preopen(struct tb4_service *s, const struct conf *c)
{
    size_t want = TB4_PREOPEN_SPARE_TUNNELS * s->queues;
    for (size_t i = 0; i < c->n_tunnels; i++)
        if (c->tunnels[i].type == CONF_TUNNEL_6BED4)
            want += c->tunnels[i].mode == CONF_TUN_ROUTER ? s->queues : 1;
    return tun_dev_preopen(&s->spares, want);
}

int tb4_service_start(struct tb4_service *s, const struct conf *c, char *err, size_t errlen)
{
    for (size_t i = 0; i < c->n_tunnels; i++) {
        const struct conf_tunnel *ct = &c->tunnels[i];
        if (ct->type != CONF_TUNNEL_6BED4)
            continue;
        int r = add_tunnel(s, ct, NULL, err, errlen);
        if (r < 0) {
            tb4_service_stop(s);
            return r;
        }
    }
    return 0;
}

int tb4_service_reconcile(struct tb4_service *s, const struct conf *old, const struct conf *new_,
                          char *err, size_t errlen)
{
    (void)old;
    int rc = 0;
    char e[512];
    err[0] = '\0';
    /* the TUNs of the tunnels re-created, kept open across (tun_dev_handover) */
    struct tun_dev_handover *hs = s->n_tuns ? calloc(s->n_tuns, sizeof(*hs)) : NULL;
    size_t n_hs = 0;
    size_t k = 0;
    for (size_t i = 0; i < s->n_tuns; i++) {
        struct tb4_tunnel *t = s->tuns[i];
        const struct conf_tunnel *ct = find_6bed4(new_, t->name);
        if (ct && section_same(&t->sec, ct)) {
            s->tuns[k++] = t;
            continue;
        }
        e6_notice("tunnel %s: %s", t->name,
                  ct ? "its 6bed4 section changed: re-creating it (the interface stays)"
                     : "removed from the configuration");
        tunnel_free_into(t, ct && hs ? &hs[n_hs++] : NULL);
    }
    s->n_tuns = k;
    for (size_t i = 0; i < new_->n_tunnels; i++) {
        const struct conf_tunnel *ct = &new_->tunnels[i];
        if (ct->type != CONF_TUNNEL_6BED4 || find_tunnel(s, ct->name))
            continue;
        struct tun_dev_handover *h = NULL;
        for (size_t j = 0; j < n_hs && !h; j++)
            if (hs[j].n && strcmp(hs[j].name, ct->name) == 0)
                h = &hs[j];
        int r = add_tunnel(s, ct, h, e, sizeof(e));
        if (r < 0 && !rc) {
            rc = r;
            snprintf(err, errlen, "%s", e);
        }
    }
    for (size_t j = 0; j < n_hs; j++)
        tun_dev_handover_close(&hs[j]);
    free(hs);
    return rc;
}

void tb4_service_stop(struct tb4_service *s)
{
    for (size_t i = 0; i < s->n_tuns; i++)
        tunnel_free(s->tuns[i]);
    free(s->tuns);
    s->tuns = NULL;
    s->n_tuns = 0;
}

void tb4_service_free(struct tb4_service *s)
{
    if (!s)
        return;
    tb4_service_stop(s);
    tun_dev_spares_close(&s->spares);
    if (!s->env.registry)
        e6_counters_free(s->set);
    free(s);
}

/* -1: no table; 0/1: target's endpoint is live in t's table */
static int member_of(struct tb4_tunnel *t, const struct in6_addr *target)
{
    struct tb4_fast *f = &t->fast;
    if (!f->table)
        return -1;
    if (!e6_6bed4_in_prefix(&t->sec.prefix.addr, target))
        return 0;
    struct tb4_endpoint ep;
    if (!e6_6bed4_decode(target, &ep.addr, &ep.port, NULL))
        return 0;
    pthread_mutex_lock(&f->mu);
    bool live = tb4_peers_live(&f->peers, ep, tb4_fast_now(f, e6_monotonic_ms()));
    pthread_mutex_unlock(&f->mu);
    return live ? 1 : 0;
}

int tb4_service_member(const struct tb4_service *s, const char *tunnel,
                       const struct in6_addr *target)
{
    bool any = false;
    for (size_t i = 0; i < s->n_tuns; i++) {
        struct tb4_tunnel *t = s->tuns[i];
        if (t->sec.mode != CONF_TUN_ROUTER || (tunnel && strcmp(t->name, tunnel) != 0))
            continue;
        any = true;
        /* any router: the one whose /64 holds target speaks (one router per
         * /64, conf makes sure) */
        if (!tunnel && !e6_prefix_contains(&t->sec.prefix, target))
            continue;
        return member_of(t, target);
    }
    return any ? 0 : -1;
}

/* ---- views ----------------------------------------------------------- */

static void view_counters(struct e6_json *j, enum e6_view_format fmt, const struct tb4_tunnel *t)
{
    if (fmt == E6_VIEW_JSON) {
        e6_json_begin_object(j, "counters");
        for (size_t i = 0; i < B4__COUNT; i++)
            if (i != B4_DROP_BASE + TB4_OK && i != B4_GSO_DROP_BASE + GSO_OK)
                e6_json_uint(j, tb4_counter_names[i], tunnel_count(t, i));
        e6_json_end_object(j);
        return;
    }
    e6_strbuf_printf(j->sb,
                     "    encap %" PRIu64 " packets %" PRIu64 " bytes, decap %" PRIu64
                     " packets %" PRIu64 " bytes",
                     tunnel_count(t, B4_ENCAP_PACKETS), tunnel_count(t, B4_ENCAP_BYTES),
                     tunnel_count(t, B4_DECAP_PACKETS), tunnel_count(t, B4_DECAP_BYTES));
    if (t->sec.mode == CONF_TUN_ROUTER)
        e6_strbuf_printf(j->sb,
                         " (%" PRIu64 " local), hairpin %" PRIu64 " packets %" PRIu64
                         " bytes\n    rs %" PRIu64 ", ra sent %" PRIu64 " suppressed %" PRIu64
                         ", ns answered %" PRIu64 ", keepalives %" PRIu64 "\n",
                         tunnel_count(t, B4_LOCAL_PACKETS), tunnel_count(t, B4_HAIRPIN_PACKETS),
                         tunnel_count(t, B4_HAIRPIN_BYTES), tunnel_count(t, B4_RS_RECEIVED),
                         tunnel_count(t, B4_RA_SENT), tunnel_count(t, B4_RA_SUPPRESSED),
                         tunnel_count(t, B4_NS_ANSWERED), tunnel_count(t, B4_KEEPALIVES));
    else
        e6_strbuf_printf(j->sb,
                         "\n    rs sent %" PRIu64 ", ra received %" PRIu64
                         ", prefix changes %" PRIu64 ", keepalives sent %" PRIu64 "\n",
                         tunnel_count(t, B4_RS_SENT), tunnel_count(t, B4_RA_RECEIVED),
                         tunnel_count(t, B4_PREFIX_CHANGES), tunnel_count(t, B4_KEEPALIVES));
    e6_strbuf_printf(j->sb,
                     "    offloads: %s; gso %" PRIu64 " packets -> %" PRIu64
                     " datagrams, gro %" PRIu64 " packets <- %" PRIu64
                     " packets, checksums %" PRIu64 "\n",
                     t->offload_why, tunnel_count(t, B4_GSO_PACKETS),
                     tunnel_count(t, B4_GSO_SEGMENTS), tunnel_count(t, B4_GRO_PACKETS),
                     tunnel_count(t, B4_GRO_SEGMENTS), tunnel_count(t, B4_CSUM_COMPLETED));
    e6_strbuf_printf(j->sb,
                     "    udp offloads: %s; gso %" PRIu64 " sends -> %" PRIu64
                     " datagrams, gro %" PRIu64 " receives <- %" PRIu64
                     " datagrams, fallbacks %" PRIu64 "\n",
                     t->udp_offload_why, tunnel_count(t, B4_UDP_GSO_SENDS),
                     tunnel_count(t, B4_UDP_GSO_DATAGRAMS), tunnel_count(t, B4_UDP_GRO_RECEIVES),
                     tunnel_count(t, B4_UDP_GRO_DATAGRAMS), tunnel_count(t, B4_UDP_GSO_FALLBACKS));
    bool any = false;
    for (size_t i = B4_PEERS_REFUSED; i < B4__COUNT; i++) {
        if (i == B4_DROP_BASE + TB4_OK || i == B4_GSO_DROP_BASE + GSO_OK ||
            (i >= B4_GSO_PACKETS && i < B4_GSO_DROP_BASE))
            continue;
        uint64_t v = tunnel_count(t, i);
        if (!v)
            continue;
        e6_strbuf_printf(j->sb, "%s %s %" PRIu64,
                         any ? "," : "    drops/errors:", tb4_counter_names[i], v);
        any = true;
    }
    if (any)
        e6_strbuf_puts(j->sb, "\n");
}

static void view_tunnel(struct e6_json *j, enum e6_view_format fmt, struct tb4_tunnel *t)
{
    const struct tb4_section *sec = &t->sec;
    bool router = sec->mode == CONF_TUN_ROUTER;
    char l4[TB4_EPSTRLEN], r4[TB4_EPSTRLEN], pfx[E6_PREFIXSTRLEN], ad[E6_ADDRSTRLEN];
    unsigned workers = (unsigned)t->dec.th.running;
    for (unsigned q = 0; q < t->n_queues; q++)
        workers += (unsigned)t->enc[q].th.running;
    tb4_ep_format(t->bound, l4, sizeof(l4));
    size_t count = 0, bound = sec->peers;
    if (router && t->fast.table) {
        pthread_mutex_lock(&t->fast.mu);
        count = tb4_peers_count(&t->fast.peers);
        pthread_mutex_unlock(&t->fast.mu);
    }
    const char *state = router ? "routing" : t->configured ? "configured" : "soliciting";
    if (!router)
        tb4_ep_format(t->fast.router_ep, r4, sizeof(r4));
    if (fmt == E6_VIEW_JSON) {
        e6_json_begin_object(j, NULL);
        e6_json_string(j, "name", t->name);
        e6_json_string(j, "type", "6bed4");
        e6_json_string(j, "mode", router ? "router" : "peer");
        e6_json_string(j, "state", state);
        e6_json_string(j, "local", l4);
        e6_json_uint(j, "mtu", TB4_MTU);
        e6_json_uint(j, "ttl", sec->ttl);
        e6_json_int(j, "ifindex", t->ifindex);
        e6_json_uint(j, "workers", workers);
        e6_json_uint(j, "queues", t->n_queues);
        e6_json_string(j, "offloads", t->offload_why);
        e6_json_string(j, "udp_offloads", t->udp_offload_why);
        if (router) {
            e6_json_string(j, "prefix", e6_prefix_format(&sec->prefix, pfx, sizeof(pfx)));
            e6_json_begin_array(j, "routes");
            for (size_t i = 0; i < sec->n_routes; i++)
                e6_json_string(j, NULL, e6_prefix_format(&sec->routes[i], pfx, sizeof(pfx)));
            e6_json_end_array(j);
            e6_json_uint(j, "peers", count);
            e6_json_uint(j, "peers_bound", bound);
            e6_json_uint(j, "peer_timeout", sec->peer_timeout);
        } else {
            e6_json_string(j, "router", r4);
            if (t->configured) {
                e6_json_string(j, "prefix", e6_prefix_format(&t->have.pio, pfx, sizeof(pfx)));
                e6_json_string(j, "address", e6_addr_format(&t->have.addr, ad, sizeof(ad)));
            } else {
                e6_json_null(j, "prefix");
                e6_json_null(j, "address");
            }
            e6_json_begin_array(j, "routes");
            for (size_t i = 0; t->configured && i < t->have.n_routes; i++)
                e6_json_string(j, NULL, e6_prefix_format(&t->have.routes[i], pfx, sizeof(pfx)));
            e6_json_end_array(j);
            e6_json_bool(j, "default_route", sec->default_route);
            e6_json_uint(j, "keepalive", sec->keepalive);
            e6_json_uint(j, "keepalive_ttl", sec->keepalive_ttl);
        }
        view_counters(j, fmt, t);
        e6_json_end_object(j);
        return;
    }
    if (router) {
        e6_strbuf_printf(j->sb, "  %s: 6bed4 router on %s, prefix %s, mtu %u, ttl %u, ifindex %d\n",
                         t->name, l4, e6_prefix_format(&sec->prefix, pfx, sizeof(pfx)), TB4_MTU,
                         sec->ttl, t->ifindex);
        if (t->fast.table)
            e6_strbuf_printf(j->sb, "    peers: %zu live (at most %zu, timeout %u s)", count, bound,
                             sec->peer_timeout);
        else
            e6_strbuf_puts(j->sb, "    peers: no table (stateless)");
        e6_strbuf_printf(j->sb, "; %u workers, %u queue%s\n", workers, t->n_queues,
                         t->n_queues == 1 ? "" : "s");
        if (sec->n_routes) {
            e6_strbuf_puts(j->sb, "    routes offered:");
            for (size_t i = 0; i < sec->n_routes; i++)
                e6_strbuf_printf(j->sb, " %s", e6_prefix_format(&sec->routes[i], pfx, sizeof(pfx)));
            e6_strbuf_puts(j->sb, "\n");
        }
    } else {
        e6_strbuf_printf(j->sb,
                         "  %s: 6bed4 peer %s -> router %s, %s, mtu %u, ttl %u, ifindex %d\n",
                         t->name, l4, r4, state, TB4_MTU, sec->ttl, t->ifindex);
        if (t->configured) {
            e6_strbuf_printf(j->sb, "    address %s/%u (prefix %s), routes:",
                             e6_addr_format(&t->have.addr, ad, sizeof(ad)), E6_6BED4_PEER_PREFIXLEN,
                             e6_prefix_format(&t->have.pio, pfx, sizeof(pfx)));
            for (size_t i = 0; i < t->have.n_routes; i++)
                e6_strbuf_printf(j->sb, " %s",
                                 e6_prefix_format(&t->have.routes[i], pfx, sizeof(pfx)));
            e6_strbuf_puts(j->sb, "\n");
        }
        e6_strbuf_printf(j->sb, "    keepalive every %u s (ttl %u), %u workers\n", sec->keepalive,
                         sec->keepalive_ttl, workers);
    }
    view_counters(j, fmt, t);
}

void tb4_service_view(struct e6_json *j, enum e6_view_format fmt, void *service)
{
    struct tb4_service *s = service;
    if (fmt == E6_VIEW_JSON) {
        e6_json_begin_object(j, NULL);
        e6_json_begin_array(j, "tunnels");
        for (size_t i = 0; i < s->n_tuns; i++)
            view_tunnel(j, fmt, s->tuns[i]);
        e6_json_end_array(j);
        e6_json_end_object(j);
        return;
    }
    e6_strbuf_printf(j->sb, "6bed4 tunnels (%zu)\n", s->n_tuns);
    for (size_t i = 0; i < s->n_tuns; i++)
        view_tunnel(j, fmt, s->tuns[i]);
}

bool tb4_service_has_router(const struct tb4_service *s, const char *tunnel)
{
    const struct tb4_tunnel *t = find_tunnel(s, tunnel);
    return t && t->sec.mode == CONF_TUN_ROUTER;
}

void tb4_service_peers_query_view(struct e6_json *j, enum e6_view_format fmt, void *query)
{
    const struct tb4_peers_query *q = query;
    struct tb4_service *s = q->service;
    struct tb4_rows rows = {.v = malloc(TB4_VIEW_ROWS * sizeof(*rows.v)), .cap = TB4_VIEW_ROWS};
    if (!rows.v)
        rows.cap = 0;
    if (fmt == E6_VIEW_JSON) {
        e6_json_begin_object(j, NULL);
        e6_json_begin_array(j, "tunnels");
    } else {
        e6_strbuf_puts(j->sb, "6bed4 peers\n");
    }
    for (size_t i = 0; i < s->n_tuns; i++) {
        struct tb4_tunnel *t = s->tuns[i];
        if (t->sec.mode != CONF_TUN_ROUTER || (q->tunnel && strcmp(q->tunnel, t->name) != 0))
            continue;
        size_t count = 0;
        uint64_t now = e6_monotonic_ms();
        rows.n = 0;
        if (t->fast.table) {
            pthread_mutex_lock(&t->fast.mu);
            now = tb4_fast_now(&t->fast, now);
            count = tb4_peers_count(&t->fast.peers);
            tb4_rows_collect(&t->fast.peers, &rows);
            pthread_mutex_unlock(&t->fast.mu);
        }
        tb4_render_peers(j, fmt, t->name, &t->sec.prefix, t->sec.peers, count, rows.v, rows.n, now);
    }
    if (fmt == E6_VIEW_JSON) {
        e6_json_end_array(j);
        e6_json_end_object(j);
    }
    free(rows.v);
}

void tb4_service_peers_view(struct e6_json *j, enum e6_view_format fmt, void *service)
{
    struct tb4_peers_query q = {.service = service, .tunnel = NULL};
    tb4_service_peers_query_view(j, fmt, &q);
}
