/*
 * radv/io: the RA engines' shell. One raw ICMPv6 socket for every
 * interface, link state from the shared netlink caches, one timer per
 * engine re-armed after every input, the history file, reload and views.
 */
#include "config.h"

#include "radv/io.h"

#include <errno.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/icmp6sock.h"
#include "common/log.h"
#include "common/nd.h"
#include "radv/history.h"
#include "radv/ra.h"

/* Datagrams read per wake-up, so an RS flood cannot starve the loop. */
#define RX_BATCH 64
/* Large enough for any RA on a jumbo link; longer ones are counted truncated. */
#define RX_BUF 65536
/* A failed history write is retried no sooner than this. */
#define HIST_RETRY_S 30

/* "radv-rx": one counter per e6_nd_reject (index 0 counts accepted ones), then these */
enum {
    RX_TRUNCATED = E6_ND_R__COUNT,
    RX_UNKNOWN_IF,  /* arrived on an interface we do not advertise on */
    RX_NO_CMSG,     /* no packet info or hop limit ancillary data */
    RX_OWN,         /* an RA from our own link-local address */
    RX_UNEXPECTED,  /* valid ND but neither RS nor RA (the filter should stop them) */
    RX_READ_ERRORS, /* recvmsg failed */
    RX__COUNT,
};
static const char *rx_names[RX__COUNT];

/* "radv-tx" */
enum {
    TX_SENT,
    TX_FAILED,
    TX_NO_SOURCE, /* an RA was due while the link had no usable link-local */
    TX_JOIN_FAILED,
    TX__COUNT,
};
static const char *const tx_names[TX__COUNT] = {
    [TX_SENT] = "sent",
    [TX_FAILED] = "send_failed",
    [TX_NO_SOURCE] = "no_source_address",
    [TX_JOIN_FAILED] = "join_all_routers_failed",
};

struct ra_if {
    struct ra_service *s;
    struct conf_interface *cfg; /* our own copy: the engine points into it */
    struct ra_engine *eng;
    struct e6_timer timer;
    struct ra_link link;
    int joined;       /* ifindex where ff02::2 was joined, 0 when none */
    bool removed;     /* left the config: saying goodbye, then freed */
    bool state_known; /* last_state has been logged once */
    enum ra_state last_state;
    bool fwd_warned;           /* the forwarding-off warning was logged */
    struct e6_ratelimit ra_rl; /* RA consistency reports */
    struct e6_ratelimit tx_rl;
};

struct ra_service {
    struct ra_service_env env;
    struct e6_counters *cnt_ra, *cnt_rx, *cnt_tx;
    e6_counter_block ra_blk, rx, tx;
    int fd;
    int nl_sub;
    struct ra_if **ifs;
    size_t n_ifs, cap_ifs;
    char *state_dir;
    struct ra_history hist;
    time_t hist_fail_at;
    struct e6_ratelimit hist_rl;
    struct e6_ratelimit rx_rl;
    struct e6_timer reap;
    bool stopping;
    bool done_reported;
    uint64_t rnd;
    uint8_t *buf;
    struct e6_nd_msg *msg;
};

/* ---- configuration copies ----------------------------------------------- */

static void ifcfg_free(struct conf_interface *c)
{
    if (!c)
        return;
    free(c->name);
    free(c->captive_portal);
    free(c->prefixes);
    free(c->routes);
    for (size_t i = 0; c->rdnss && i < c->n_rdnss; i++)
        free(c->rdnss[i].servers);
    free(c->rdnss);
    for (size_t i = 0; c->dnssl && i < c->n_dnssl; i++) {
        for (size_t k = 0; c->dnssl[i].domains && k < c->dnssl[i].n_domains; k++)
            free(c->dnssl[i].domains[k]);
        free(c->dnssl[i].domains);
    }
    free(c->dnssl);
    free(c->pref64);
    free(c);
}

static void *dup_array(const void *p, size_t n, size_t size, bool *ok)
{
    if (!p || n == 0)
        return NULL;
    void *q = calloc(n, size);
    if (!q) {
        *ok = false;
        return NULL;
    }
    memcpy(q, p, n * size);
    return q;
}

static char *dup_str(const char *s, bool *ok)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *ok = false;
    return d;
}

/* A deep copy, so an engine outlives the struct conf it came from. */
static struct conf_interface *ifcfg_dup(const struct conf_interface *src)
{
    struct conf_interface *c = calloc(1, sizeof(*c));
    bool ok = true;
    if (!c)
        return NULL;
    *c = *src;
    c->name = NULL;
    c->captive_portal = NULL;
    c->prefixes = NULL;
    c->routes = NULL;
    c->rdnss = NULL;
    c->dnssl = NULL;
    c->pref64 = NULL;
    c->name = dup_str(src->name, &ok);
    c->captive_portal = dup_str(src->captive_portal, &ok);
    c->prefixes = dup_array(src->prefixes, src->n_prefixes, sizeof(*src->prefixes), &ok);
    c->routes = dup_array(src->routes, src->n_routes, sizeof(*src->routes), &ok);
    c->pref64 = dup_array(src->pref64, src->n_pref64, sizeof(*src->pref64), &ok);
    if (src->n_rdnss && ok) {
        c->rdnss = calloc(src->n_rdnss, sizeof(*c->rdnss));
        if (!c->rdnss)
            ok = false;
        for (size_t i = 0; ok && i < src->n_rdnss; i++) {
            c->rdnss[i] = src->rdnss[i];
            c->rdnss[i].servers = dup_array(src->rdnss[i].servers, src->rdnss[i].n_servers,
                                            sizeof(struct in6_addr), &ok);
        }
    }
    if (src->n_dnssl && ok) {
        c->dnssl = calloc(src->n_dnssl, sizeof(*c->dnssl));
        if (!c->dnssl)
            ok = false;
        for (size_t i = 0; ok && i < src->n_dnssl; i++) {
            c->dnssl[i] = src->dnssl[i];
            c->dnssl[i].domains = NULL;
            if (!src->dnssl[i].n_domains)
                continue;
            c->dnssl[i].domains = calloc(src->dnssl[i].n_domains, sizeof(char *));
            if (!c->dnssl[i].domains) {
                ok = false;
                break;
            }
            for (size_t k = 0; ok && k < src->dnssl[i].n_domains; k++)
                c->dnssl[i].domains[k] = dup_str(src->dnssl[i].domains[k], &ok);
        }
    }
    if (!ok || !c->name) {
        ifcfg_free(c);
        return NULL;
    }
    return c;
}

/* ---- helpers --------------------------------------------------------------- */

static uint64_t now_ms(const struct ra_service *s)
{
    return e6_loop_now(s->env.loop);
}

/* xorshift64*: the engine only needs unpredictable-enough jitter */
static uint32_t rnd32(void *arg)
{
    struct ra_service *s = arg;
    uint64_t x = s->rnd;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    s->rnd = x;
    return (uint32_t)((x * 0x2545F4914F6CDD1DULL) >> 32);
}

static struct ra_if *find_if(const struct ra_service *s, const char *name, bool removed)
{
    for (size_t i = 0; i < s->n_ifs; i++)
        if (s->ifs[i]->removed == removed && strcmp(s->ifs[i]->cfg->name, name) == 0)
            return s->ifs[i];
    return NULL;
}

static struct ra_if *find_ifindex(const struct ra_service *s, int ifindex)
{
    for (size_t i = 0; i < s->n_ifs; i++) {
        struct ra_if *f = s->ifs[i];
        if (f->link.present && f->link.ifindex == ifindex)
            return f;
    }
    return NULL;
}

static const char *state_text(enum ra_state st)
{
    switch (st) {
    case RA_ST_DISABLED:
        return "advertise = no: not sending";
    case RA_ST_NO_LINK:
        return "interface missing: waiting for it to appear";
    case RA_ST_DOWN:
        return "interface down: waiting for it to come up";
    case RA_ST_NO_LINKLOCAL:
        return "waiting for a link-local address (DAD)";
    case RA_ST_ADVERTISING:
        return "advertising";
    case RA_ST_STOPPING:
        return "sending final RAs";
    case RA_ST_STOPPED:
        return "stopped";
    }
    return "?";
}

static bool fwd_off(const struct ra_if *f)
{
    /* only where it matters: a link that is up (a vanishing link reports
     * its netconf gone before the link itself) */
    return f->link.present && f->link.up && !f->link.forwarding && f->cfg->advertise &&
           !f->removed && !f->s->stopping;
}

/* ---- ICMPv6 socket ------------------------------------------------------ */

static void rx_ready(struct e6_loop *loop, int fd, uint32_t events, void *arg);

static int open_socket(struct ra_service *s, char *err, size_t errlen)
{
    static const uint8_t types[] = {E6_ND_RS, E6_ND_RA};
    int fd = e6_icmp6_open(types, sizeof(types), err, errlen);
    if (fd < 0)
        return fd;
    int rc = e6_loop_add_fd(s->env.loop, fd, EPOLLIN, rx_ready, s);
    if (rc < 0) {
        snprintf(err, errlen, "ICMPv6 socket: cannot watch it: %s", strerror(-rc));
        close(fd);
        return rc;
    }
    s->fd = fd;
    return 0;
}

/*
 * Without the socket (no CAP_NET_RAW) the daemon still runs its other
 * parts: say so loudly, show it in status, try again at the next reload.
 */
static void update_membership(struct ra_if *f, bool was_up);

static void try_socket(struct ra_service *s)
{
    char err[256];
    if (open_socket(s, err, sizeof(err)) < 0)
        e6_err("ra: %s; router advertisements are not sent", err);
    else
        for (size_t i = 0; i < s->n_ifs; i++)
            update_membership(s->ifs[i], false);
}

static int membership(struct ra_service *s, int opt, int ifindex)
{
    struct ipv6_mreq mr = {.ipv6mr_interface = (unsigned)ifindex};
    mr.ipv6mr_multiaddr.s6_addr[0] = 0xff;
    mr.ipv6mr_multiaddr.s6_addr[1] = 0x02;
    mr.ipv6mr_multiaddr.s6_addr[15] = 0x02;
    if (setsockopt(s->fd, IPPROTO_IPV6, opt, &mr, sizeof(mr)) < 0)
        return -errno;
    return 0;
}

/*
 * RFC 4861 6.2.2: an advertising interface MUST join all-routers, or RSs
 * sent there never reach us while forwarding is off. Rejoined after the
 * interface came back (a new ifindex, or down and up again).
 */
static void update_membership(struct ra_if *f, bool was_up)
{
    struct ra_service *s = f->s;
    if (s->fd < 0)
        return;
    bool want = f->link.present && f->link.up && !f->removed;
    if (f->joined && (!want || f->joined != f->link.ifindex || !was_up)) {
        (void)membership(s, IPV6_LEAVE_GROUP, f->joined); /* may be gone already */
        f->joined = 0;
    }
    if (want && !f->joined) {
        int rc = membership(s, IPV6_JOIN_GROUP, f->link.ifindex);
        if (rc < 0 && rc != -EADDRINUSE) {
            e6_count(s->tx, TX_JOIN_FAILED);
            e6_warn("ra %s: cannot join ff02::2 (all-routers): %s; Router Solicitations may "
                    "go unanswered",
                    f->cfg->name, strerror(-rc));
            return;
        }
        f->joined = f->link.ifindex;
    }
}

static void emit(void *arg, const struct ra_tx *tx)
{
    struct ra_if *f = arg;
    struct ra_service *s = f->s;
    char dst[E6_ADDRSTRLEN];

    if (s->fd < 0 || !f->link.present || !f->link.have_linklocal) {
        e6_count(s->tx, TX_NO_SOURCE);
        return;
    }
    /* RFC 4861 6.1.2: an RA's source MUST be the interface's link-local */
    int rc =
        e6_icmp6_send(s->fd, f->link.ifindex, &f->link.linklocal, &tx->dst, tx->icmp6, tx->len);
    if (rc < 0) {
        e6_count(s->tx, TX_FAILED);
        e6_log_rl(&f->tx_rl, E6_LOG_WARNING, "ra %s: cannot send %sRA to %s: %s", f->cfg->name,
                  tx->final ? "final " : "", e6_addr_format(&tx->dst, dst, sizeof(dst)),
                  strerror(-rc));
        return;
    }
    e6_count(s->tx, TX_SENT);
    e6_debug("ra %s: sent %s%zu-byte RA to %s", f->cfg->name, tx->final ? "final " : "", tx->len,
             e6_addr_format(&tx->dst, dst, sizeof(dst)));
}

/* ---- after every input ---------------------------------------------------- */

static void note_advertised(void *arg, const struct e6_prefix *p, bool on_link, bool autonomous,
                            uint32_t valid)
{
    struct ra_if *f = arg;
    if (!ra_history_note(&f->s->hist, f->cfg->name, p, on_link, autonomous, valid, time(NULL)))
        f->s->hist.dirty = true; /* out of memory: try writing what we have */
}

static void save_history(struct ra_service *s)
{
    time_t now = time(NULL);
    ra_history_expire(&s->hist, now);
    if (!s->hist.dirty || !s->state_dir)
        return;
    if (s->hist_fail_at && now - s->hist_fail_at < HIST_RETRY_S && now >= s->hist_fail_at)
        return;
    char err[512];
    if (ra_history_save(&s->hist, s->state_dir, err, sizeof(err)) < 0) {
        s->hist_fail_at = now;
        e6_log_rl(&s->hist_rl, E6_LOG_WARNING,
                  "ra: cannot save the advertised prefixes (RFC 9096): %s; a restart will not "
                  "deprecate them",
                  err);
        return;
    }
    s->hist_fail_at = 0;
    e6_debug("ra: advertised prefixes saved in %s/%s", s->state_dir, RA_HIST_FILE);
}

static void log_state(struct ra_if *f)
{
    enum ra_state st = ra_engine_state(f->eng);
    if (!f->state_known || st != f->last_state) {
        /* what changes service is a notice; the waiting states are info
         * (9000 interfaces that do not exist yet should not flood the log) */
        enum e6_log_level lvl =
            st == RA_ST_ADVERTISING || st == RA_ST_STOPPING ? E6_LOG_NOTICE : E6_LOG_INFO;
        if (st == RA_ST_ADVERTISING && f->link.present)
            e6_log(lvl, "ra %s: advertising (ifindex %d, from %s)", f->cfg->name, f->link.ifindex,
                   e6_addr_format(&f->link.linklocal, (char[E6_ADDRSTRLEN]){0}, E6_ADDRSTRLEN));
        else
            e6_log(lvl, "ra %s: %s", f->cfg->name, state_text(st));
        f->state_known = true;
        f->last_state = st;
    }
    if (fwd_off(f) && !f->fwd_warned) {
        e6_warn("ra %s: IPv6 forwarding is off on this interface: RAs carry router lifetime 0, "
                "so hosts configure addresses but will not route through this box (set "
                "net.ipv6.conf.%s.forwarding=1)",
                f->cfg->name, f->cfg->name);
        f->fwd_warned = true;
    } else if (f->fwd_warned && f->link.present && f->link.forwarding) {
        e6_notice("ra %s: IPv6 forwarding is on again: advertising as a default router",
                  f->cfg->name);
        f->fwd_warned = false;
    }
}

static void check_done(struct ra_service *s)
{
    if (!s->stopping || s->done_reported || !ra_service_done(s))
        return;
    s->done_reported = true;
    if (s->env.on_done)
        s->env.on_done(s->env.on_done_arg);
}

/*
 * After anything was handed to an engine: re-arm its timer, log a change
 * of state, and (unless the input was a packet, which never changes what
 * is advertised: an RS flood stays cheap) persist the advertised prefixes.
 */
static void after_input_ex(struct ra_if *f, bool packet)
{
    struct ra_service *s = f->s;
    uint64_t next = ra_engine_next(f->eng);
    if (next == UINT64_MAX)
        e6_timer_cancel(s->env.loop, &f->timer);
    else if (e6_timer_arm_at(s->env.loop, &f->timer, next) < 0)
        e6_err("ra %s: cannot arm a timer: out of memory", f->cfg->name);
    log_state(f);
    if (!packet) {
        ra_engine_foreach_advertised(f->eng, note_advertised, f);
        save_history(s);
    }
    if (f->removed && ra_engine_done(f->eng))
        e6_timer_arm_in(s->env.loop, &s->reap, 0);
    check_done(s);
}

static void after_input(struct ra_if *f)
{
    after_input_ex(f, false);
}

static void if_timer(struct e6_loop *loop, struct e6_timer *t, void *arg)
{
    struct ra_if *f = arg;
    ra_engine_run(f->eng, e6_loop_now(loop), emit, f);
    after_input(f);
}

/* ---- link state ---------------------------------------------------------- */

static int addr_cmp(const void *a, const void *b)
{
    const struct ra_addr *x = a, *y = b;
    int c = memcmp(&x->addr, &y->addr, sizeof(x->addr));
    return c ? c : (int)x->plen - (int)y->plen;
}

static void read_link(struct ra_service *s, const char *name, struct ra_link *l)
{
    struct e6_nl_link nl;
    memset(l, 0, sizeof(*l));
    if (!s->env.nl || e6_nl_link_by_name(s->env.nl, name, &nl) < 0)
        return;
    l->present = true;
    l->ifindex = nl.ifindex;
    l->up = nl.up && nl.running;
    l->mtu = nl.mtu;
    if (e6_nl_link_has_lladdr(&nl)) {
        l->lladdr_len = nl.hwaddr_len < sizeof(l->lladdr) ? nl.hwaddr_len : sizeof(l->lladdr);
        memcpy(l->lladdr, nl.hwaddr, l->lladdr_len);
    }
    if (e6_nl_link_local(s->env.nl, nl.ifindex, &l->linklocal) == 0)
        l->have_linklocal = true;
    else
        memset(&l->linklocal, 0, sizeof(l->linklocal));
    int fw = e6_nl_forwarding(s->env.nl, nl.ifindex);
    if (fw < 0) /* netconf not reported yet for a brand new link */
        fw = e6_nl_forwarding(s->env.nl, E6_NL_IFINDEX_ALL);
    l->forwarding = fw == 1;

    struct e6_nl_addr a[RA_MAX_ADDRS];
    size_t n = e6_nl_addrs(s->env.nl, nl.ifindex, a, RA_MAX_ADDRS);
    if (n > RA_MAX_ADDRS)
        n = RA_MAX_ADDRS;
    for (size_t i = 0; i < n; i++) {
        if (a[i].dadfailed)
            continue;
        struct ra_addr *r = &l->addrs[l->n_addrs++];
        r->addr = a[i].addr;
        r->plen = a[i].prefixlen;
        r->valid_left = a[i].valid_lft;
        r->preferred_left = a[i].preferred_lft;
        r->tentative = a[i].tentative;
        r->deprecated = a[i].deprecated;
    }
    /* the kernel's order is not stable; the engine compares links */
    qsort(l->addrs, l->n_addrs, sizeof(l->addrs[0]), addr_cmp);
}

static void refresh(struct ra_if *f, bool force)
{
    struct ra_link l;
    read_link(f->s, f->cfg->name, &l);
    if (!force && memcmp(&l, &f->link, sizeof(l)) == 0)
        return;
    bool was_up = f->link.present && f->link.up && f->link.ifindex == l.ifindex;
    f->link = l;
    ra_engine_set_link(f->eng, &f->link, now_ms(f->s));
    update_membership(f, was_up);
    after_input(f);
}

static void on_netlink(const struct e6_nl_event *ev, void *arg)
{
    struct ra_service *s = arg;
    const char *names[2] = {NULL, NULL};

    if (ev->kind == E6_NL_LINK) {
        if (ev->u.link.old)
            names[0] = ev->u.link.old->name;
        if (ev->u.link.cur)
            names[1] = ev->u.link.cur->name;
    }
    for (size_t i = 0; i < s->n_ifs; i++) {
        struct ra_if *f = s->ifs[i];
        bool hit;
        switch (ev->kind) {
        case E6_NL_LINK:
            hit = (f->link.present && f->link.ifindex == ev->ifindex) ||
                  (names[0] && strcmp(names[0], f->cfg->name) == 0) ||
                  (names[1] && strcmp(names[1], f->cfg->name) == 0);
            break;
        case E6_NL_ADDR:
        case E6_NL_NETCONF:
            hit = ev->ifindex < 0 || (f->link.present && f->link.ifindex == ev->ifindex);
            break;
        default: /* RESYNC: everything may have changed */
            hit = true;
            break;
        }
        if (hit)
            refresh(f, false);
    }
}

/* ---- receive --------------------------------------------------------------- */

static void log_report(struct ra_if *f, const struct e6_strbuf *rep)
{
    const char *p = e6_strbuf_str(rep);
    while (*p) {
        const char *nl = strchr(p, '\n');
        int n = nl ? (int)(nl - p) : (int)strlen(p);
        if (n)
            e6_log_rl(&f->ra_rl, E6_LOG_WARNING, "ra %s: another router's RA differs: %.*s",
                      f->cfg->name, n, p);
        p += n + (nl ? 1 : 0);
    }
}

static void rx_one(struct ra_service *s, const struct e6_nd_in *in, int ifindex)
{
    struct ra_if *f = find_ifindex(s, ifindex);
    if (!f) {
        e6_count(s->rx, RX_UNKNOWN_IF);
        return;
    }
    enum e6_nd_reject r = e6_nd_parse(in, s->msg);
    if (r != E6_ND_OK) {
        e6_count(s->rx, r < E6_ND_R__COUNT ? (size_t)r : RX_UNEXPECTED);
        char a[E6_ADDRSTRLEN];
        e6_log_rl(&s->rx_rl, E6_LOG_DEBUG, "ra %s: dropped ND message from %s: %s", f->cfg->name,
                  e6_addr_format(&in->src, a, sizeof(a)), e6_nd_reject_name(r));
        return;
    }
    uint64_t now = now_ms(s);
    if (s->msg->type == E6_ND_RS) {
        e6_count(s->rx, E6_ND_OK);
        ra_engine_on_rs(f->eng, &in->src, now);
    } else if (s->msg->type == E6_ND_RA) {
        if (f->link.have_linklocal && e6_addr_equal(&in->src, &f->link.linklocal)) {
            e6_count(s->rx, RX_OWN);
            return;
        }
        e6_count(s->rx, E6_ND_OK);
        struct e6_strbuf rep = E6_STRBUF_INIT;
        rep.max = 8192;
        ra_engine_on_ra(f->eng, &in->src, s->msg, &rep, now);
        log_report(f, &rep);
        e6_strbuf_free(&rep);
    } else {
        e6_count(s->rx, RX_UNEXPECTED);
        return;
    }
    after_input_ex(f, true);
}

static void rx_ready(struct e6_loop *loop, int fd, uint32_t events, void *arg)
{
    struct ra_service *s = arg;
    for (int i = 0; i < RX_BATCH; i++) {
        struct e6_nd_in in;
        int ifindex;
        switch (e6_icmp6_recv(fd, s->buf, RX_BUF, &in, &ifindex)) {
        case E6_ICMP6_RX_OK:
            rx_one(s, &in, ifindex);
            break;
        case E6_ICMP6_RX_AGAIN:
            return;
        case E6_ICMP6_RX_ERROR:
            e6_count(s->rx, RX_READ_ERRORS);
            e6_log_rl(&s->rx_rl, E6_LOG_WARNING, "ra: ICMPv6 socket: %s", strerror(errno));
            return;
        case E6_ICMP6_RX_TRUNCATED:
            e6_count(s->rx, RX_TRUNCATED);
            break;
        case E6_ICMP6_RX_NO_CMSG:
            e6_count(s->rx, RX_NO_CMSG);
            break;
        }
    }
}

/* ---- interfaces ------------------------------------------------------------ */

static void if_free(struct ra_if *f)
{
    if (!f)
        return;
    e6_timer_cancel(f->s->env.loop, &f->timer);
    if (f->joined && f->s->fd >= 0)
        (void)membership(f->s, IPV6_LEAVE_GROUP, f->joined);
    ra_engine_free(f->eng);
    ifcfg_free(f->cfg);
    free(f);
}

static void if_remove_at(struct ra_service *s, size_t i)
{
    if_free(s->ifs[i]);
    memmove(&s->ifs[i], &s->ifs[i + 1], (s->n_ifs - i - 1) * sizeof(s->ifs[0]));
    s->n_ifs--;
}

static void reap(struct e6_loop *loop, struct e6_timer *t, void *arg)
{
    struct ra_service *s = arg;
    for (size_t i = s->n_ifs; i-- > 0;) {
        struct ra_if *f = s->ifs[i];
        if (f->removed && ra_engine_done(f->eng)) {
            e6_info("ra %s: removed from the configuration, final RAs sent", f->cfg->name);
            if_remove_at(s, i);
        }
    }
}

/* Hosts may still hold the prefixes this interface advertised before. */
static void feed_stale(struct ra_service *s, struct ra_if *f)
{
    time_t wall = time(NULL);
    uint64_t now = now_ms(s);
    for (size_t i = 0; i < s->hist.n; i++) {
        const struct ra_hist_entry *h = &s->hist.e[i];
        if (strcmp(h->ifname, f->cfg->name) != 0 || h->until <= (int64_t)wall)
            continue;
        /* an infinite lifetime cannot be waited out; RFC 9096 caps what a
         * router should advertise at ND_VALID_LIMIT, so deprecate that long */
        uint64_t left =
            h->until == RA_HIST_INFINITY ? RA_ND_VALID_LIMIT : (uint64_t)(h->until - (int64_t)wall);
        ra_engine_add_stale(f->eng, &h->prefix, h->on_link, h->autonomous, now + left * 1000);
    }
}

static int if_add(struct ra_service *s, const struct conf_interface *ci, char *err, size_t errlen)
{
    if (s->n_ifs == s->cap_ifs) {
        size_t cap = s->cap_ifs ? s->cap_ifs * 2 : 8;
        struct ra_if **n = realloc(s->ifs, cap * sizeof(*n));
        if (!n)
            goto oom;
        s->ifs = n;
        s->cap_ifs = cap;
    }
    struct ra_if *f = calloc(1, sizeof(*f));
    if (!f)
        goto oom;
    f->s = s;
    f->ra_rl = (struct e6_ratelimit)E6_RATELIMIT_INIT(60000, 5);
    f->tx_rl = (struct e6_ratelimit)E6_RATELIMIT_INIT(60000, 3);
    e6_timer_init(&f->timer, if_timer, f);
    f->cfg = ifcfg_dup(ci);
    if (f->cfg)
        f->eng = ra_engine_new(f->cfg, s->ra_blk, rnd32, s, now_ms(s));
    if (!f->eng) {
        ifcfg_free(f->cfg);
        free(f);
        goto oom;
    }
    s->ifs[s->n_ifs++] = f;
    feed_stale(s, f);
    refresh(f, true);
    return 0;
oom:
    snprintf(err, errlen, "interface %s: out of memory", ci->name);
    return -ENOMEM;
}

/* ---- service ----------------------------------------------------------------- */

int ra_service_new(struct ra_service **out, const struct ra_service_env *env)
{
    struct ra_service *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->env = *env;
    s->fd = -1;
    s->nl_sub = -1;
    s->hist_rl = (struct e6_ratelimit)E6_RATELIMIT_INIT(600000, 2);
    s->rx_rl = (struct e6_ratelimit)E6_RATELIMIT_INIT(10000, 5);
    e6_timer_init(&s->reap, reap, s);
    ra_history_init(&s->hist);
    if (getrandom(&s->rnd, sizeof(s->rnd), GRND_NONBLOCK) != sizeof(s->rnd))
        s->rnd = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^ e6_monotonic_ms();
    if (!s->rnd)
        s->rnd = 0x9e3779b97f4a7c15ULL;
    *out = s;
    return 0;
}

static void hist_report(void *arg, const char *msg)
{
    struct ra_service *s = arg;
    e6_warn("ra: %s", msg);
    s->hist.dirty = true; /* the next write leaves a clean file */
}

int ra_service_start(struct ra_service *s, const struct conf *c, char *err, size_t errlen)
{
    int rc;
    for (size_t i = 0; i < RX__COUNT; i++)
        rx_names[i] = i == E6_ND_OK        ? "accepted"
                      : i < E6_ND_R__COUNT ? e6_nd_reject_name((enum e6_nd_reject)i)
                      : i == RX_TRUNCATED  ? "truncated"
                      : i == RX_UNKNOWN_IF ? "unknown_interface"
                      : i == RX_NO_CMSG    ? "no_ancillary_data"
                      : i == RX_OWN        ? "own_ra"
                      : i == RX_UNEXPECTED ? "unexpected_type"
                                           : "read_errors";
    if (!s->cnt_ra) {
        s->cnt_ra = e6_counters_new(s->env.registry, "radv", ra_counter_names, RA_C__COUNT);
        s->cnt_rx = e6_counters_new(s->env.registry, "radv-rx", rx_names, RX__COUNT);
        s->cnt_tx = e6_counters_new(s->env.registry, "radv-tx", tx_names, TX__COUNT);
        if (!s->cnt_ra || !s->cnt_rx || !s->cnt_tx)
            goto oom;
        s->ra_blk = e6_counters_block(s->cnt_ra);
        s->rx = e6_counters_block(s->cnt_rx);
        s->tx = e6_counters_block(s->cnt_tx);
        if (!s->ra_blk.v || !s->rx.v || !s->tx.v)
            goto oom;
    }
    s->buf = malloc(RX_BUF);
    s->msg = malloc(sizeof(*s->msg));
    if (!s->buf || !s->msg)
        goto oom;
    free(s->state_dir);
    s->state_dir = c->global.state_dir ? strdup(c->global.state_dir) : NULL;

    if (c->n_interfaces)
        try_socket(s);
    if (s->env.nl) {
        rc = e6_nl_subscribe(s->env.nl, E6_NL_LINK | E6_NL_ADDR | E6_NL_NETCONF | E6_NL_RESYNC,
                             on_netlink, s);
        if (rc < 0) {
            snprintf(err, errlen, "cannot subscribe to netlink events: %s", strerror(-rc));
            return rc;
        }
        s->nl_sub = rc;
    }
    if (s->state_dir && c->n_interfaces) {
        char herr[512];
        rc =
            ra_history_load(&s->hist, s->state_dir, time(NULL), hist_report, s, herr, sizeof(herr));
        if (rc < 0)
            e6_warn("ra: cannot read the prefixes advertised before the restart: %s", herr);
        else if (rc > 0)
            e6_info("ra: %d prefix(es) advertised before the restart are remembered (RFC 9096)",
                    rc);
    }
    for (size_t i = 0; i < c->n_interfaces; i++) {
        rc = if_add(s, &c->interfaces[i], err, errlen);
        if (rc < 0)
            return rc;
    }
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
    return -ENOMEM;
}

int ra_service_reconcile(struct ra_service *s, const struct conf *old, const struct conf *new_,
                         char *err, size_t errlen)
{
    int rc = 0;
    uint64_t now = now_ms(s);

    if (new_->global.state_dir &&
        (!s->state_dir || strcmp(s->state_dir, new_->global.state_dir) != 0)) {
        char *d = strdup(new_->global.state_dir);
        if (d) {
            free(s->state_dir);
            s->state_dir = d;
            s->hist.dirty = true; /* write it where it now belongs */
        }
    }
    if (new_->n_interfaces && s->fd < 0)
        try_socket(s);
    /* removed ones say goodbye first */
    for (size_t i = 0; i < s->n_ifs; i++) {
        struct ra_if *f = s->ifs[i];
        if (f->removed || conf_find_interface(new_, f->cfg->name))
            continue;
        e6_notice("ra %s: no longer in the configuration: sending final RAs", f->cfg->name);
        f->removed = true;
        ra_engine_stop(f->eng, true, now);
        update_membership(f, true);
        after_input(f);
    }
    for (size_t i = 0; i < new_->n_interfaces; i++) {
        const struct conf_interface *ci = &new_->interfaces[i];
        /* one that comes back while saying goodbye: the new engine takes over */
        struct ra_if *gone = find_if(s, ci->name, true);
        if (gone) {
            for (size_t k = 0; k < s->n_ifs; k++)
                if (s->ifs[k] == gone) {
                    if_remove_at(s, k);
                    break;
                }
        }
        struct ra_if *f = find_if(s, ci->name, false);
        if (!f) {
            int r = if_add(s, ci, err, errlen);
            if (r < 0)
                rc = r;
            continue;
        }
        struct conf_interface *copy = ifcfg_dup(ci);
        if (!copy) {
            snprintf(err, errlen, "interface %s: out of memory; it keeps its old settings",
                     ci->name);
            rc = -ENOMEM;
            continue;
        }
        ra_engine_set_config(f->eng, copy, now);
        ifcfg_free(f->cfg);
        f->cfg = copy;
        after_input(f);
    }
    (void)old;
    return rc;
}

void ra_service_stop(struct ra_service *s, bool goodbye)
{
    uint64_t now = now_ms(s);
    s->stopping = true;
    s->done_reported = false;
    for (size_t i = 0; i < s->n_ifs; i++) {
        struct ra_if *f = s->ifs[i];
        ra_engine_stop(f->eng, goodbye, now);
        after_input(f);
    }
    check_done(s);
}

bool ra_service_done(const struct ra_service *s)
{
    for (size_t i = 0; i < s->n_ifs; i++)
        if (!ra_engine_done(s->ifs[i]->eng))
            return false;
    return true;
}

void ra_service_free(struct ra_service *s)
{
    if (!s)
        return;
    /* whatever the engines advertised last must be on disk */
    save_history(s);
    if (s->nl_sub >= 0 && s->env.nl)
        e6_nl_unsubscribe(s->env.nl, s->nl_sub);
    for (size_t i = 0; i < s->n_ifs; i++)
        if_free(s->ifs[i]);
    free(s->ifs);
    e6_timer_cancel(s->env.loop, &s->reap);
    if (s->fd >= 0) {
        e6_loop_del_fd(s->env.loop, s->fd);
        close(s->fd);
    }
    ra_history_free(&s->hist);
    free(s->state_dir);
    free(s->buf);
    free(s->msg);
    free(s);
}

/* ---- views -------------------------------------------------------------------- */

static void link_text(const struct ra_if *f, char *buf, size_t len)
{
    char ll[E6_ADDRSTRLEN];
    if (!f->link.present) {
        snprintf(buf, len, "missing");
        return;
    }
    snprintf(buf, len, "ifindex %d, %s, mtu %u, link-local %s, forwarding %s", f->link.ifindex,
             f->link.up ? "up" : "down", f->link.mtu,
             f->link.have_linklocal ? e6_addr_format(&f->link.linklocal, ll, sizeof(ll))
                                    : "(none yet)",
             f->link.forwarding ? "on" : "OFF");
}

static const char no_socket_warning[] =
    "no ICMPv6 socket (edge6d lacks CAP_NET_RAW): nothing is sent or received";

static const char *fwd_warning(const struct ra_if *f)
{
    if (!fwd_off(f))
        return NULL;
    return "IPv6 forwarding is off on this interface: RAs carry router lifetime 0 (hosts get "
           "addresses but no default route through this router)";
}

static const char *s_fd_warning(const struct ra_if *f)
{
    return f->s->fd < 0 && !f->s->stopping ? no_socket_warning : NULL;
}

static void view_if(const struct ra_if *f, struct e6_json *j, enum e6_view_format fmt, bool detail,
                    uint64_t now)
{
    enum ra_state st = ra_engine_state(f->eng);
    const char *warn = fwd_warning(f);
    char lt[200];
    link_text(f, lt, sizeof(lt));

    if (fmt == E6_VIEW_JSON) {
        e6_json_begin_object(j, NULL);
        e6_json_string(j, "name", f->cfg->name);
        e6_json_string(j, "state", ra_state_name(st));
        e6_json_string(j, "state_text", state_text(st));
        e6_json_bool(j, "removed", f->removed);
        e6_json_begin_object(j, "link");
        e6_json_bool(j, "present", f->link.present);
        if (f->link.present) {
            char ll[E6_ADDRSTRLEN];
            e6_json_int(j, "ifindex", f->link.ifindex);
            e6_json_bool(j, "up", f->link.up);
            e6_json_uint(j, "mtu", f->link.mtu);
            e6_json_string(
                j, "link_local",
                f->link.have_linklocal ? e6_addr_format(&f->link.linklocal, ll, sizeof(ll)) : NULL);
            e6_json_bool(j, "forwarding", f->link.forwarding);
            e6_json_bool(j, "all_routers_joined", f->joined != 0);
        }
        e6_json_end_object(j);
        e6_json_string(j, "warning", warn ? warn : s_fd_warning(f));
        e6_json_key(j, "engine");
        ra_engine_view(f->eng, j, fmt, detail, now);
        e6_json_end_object(j);
        return;
    }
    ra_engine_view(f->eng, j, fmt, detail, now);
    e6_strbuf_printf(j->sb, "  state: %s%s\n", state_text(st),
                     f->removed ? " (removed from the configuration)" : "");
    e6_strbuf_printf(j->sb, "  link: %s\n", lt);
    if (warn)
        e6_strbuf_printf(j->sb, "  WARNING: %s\n", warn);
    if (f->s->fd < 0 && !f->s->stopping)
        e6_strbuf_printf(j->sb, "  WARNING: %s\n", no_socket_warning);
}

void ra_service_view(struct e6_json *j, enum e6_view_format fmt, void *service)
{
    struct ra_service *s = service;
    uint64_t now = now_ms(s);
    if (fmt == E6_VIEW_JSON) {
        e6_json_begin_object(j, NULL);
        e6_json_bool(j, "socket_open", s->fd >= 0);
        char path[4200];
        snprintf(path, sizeof(path), "%s/%s", s->state_dir ? s->state_dir : "", RA_HIST_FILE);
        e6_json_string(j, "history_file", s->state_dir ? path : NULL);
        e6_json_uint(j, "history_entries", s->hist.n);
        e6_json_begin_array(j, "interfaces");
        for (size_t i = 0; i < s->n_ifs; i++)
            view_if(s->ifs[i], j, fmt, false, now);
        e6_json_end_array(j);
        e6_json_end_object(j);
        return;
    }
    size_t warned = 0;
    for (size_t i = 0; i < s->n_ifs; i++)
        warned += fwd_warning(s->ifs[i]) != NULL;
    e6_strbuf_printf(j->sb, "router advertisements (%zu interface%s%s)\n", s->n_ifs,
                     s->n_ifs == 1 ? "" : "s", warned ? ", SEE WARNINGS" : "");
    for (size_t i = 0; i < s->n_ifs; i++)
        view_if(s->ifs[i], j, fmt, false, now);
}

bool ra_service_view_detail(struct ra_service *s, const char *ifname, struct e6_json *j,
                            enum e6_view_format fmt, char *why, size_t whylen)
{
    uint64_t now = now_ms(s);
    const struct ra_if *one = NULL;
    if (ifname) {
        one = find_if(s, ifname, false);
        if (!one)
            one = find_if(s, ifname, true);
        if (!one) {
            snprintf(why, whylen, "no interface '%s' in the configuration", ifname);
            return false;
        }
    }
    if (fmt == E6_VIEW_JSON) {
        e6_json_begin_object(j, NULL);
        e6_json_begin_array(j, "interfaces");
    } else if (!one && s->n_ifs == 0) {
        e6_strbuf_puts(j->sb, "no interface sends router advertisements\n");
    }
    for (size_t i = 0; i < s->n_ifs; i++) {
        if (one && s->ifs[i] != one)
            continue;
        if (fmt == E6_VIEW_TEXT && !one && i)
            e6_strbuf_puts(j->sb, "\n");
        view_if(s->ifs[i], j, fmt, true, now);
    }
    if (fmt == E6_VIEW_JSON) {
        e6_json_end_array(j);
        e6_json_end_object(j);
    }
    return true;
}
