/*
 * tunnel/io: the tunnels' control plane (see io.h). Per 6in4 tunnel it
 * creates the TUN (one queue per encap worker), sets its MTU, brings it
 * up, installs the addresses and routes the section asks for, opens the
 * raw protocol-41 and ICMPv4 sockets, builds the first snapshot and starts
 * the workers (io_worker.c). Reloads publish new snapshots and apply the
 * difference in addresses and routes; tunnels that stay are not touched
 * otherwise. It also probes for a kernel sit driver, checks (and with
 * manage-sysctls sets) IPv6 forwarding, answers the NDP proxy's membership
 * questions and renders the views.
 */
#include "config.h"

/* glibc's net/if.h before any linux/ header: libc-compat then skips the duplicates */
#include <net/if.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/filter.h>
#include <linux/icmp.h>
#include <net/if_arp.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <netlink/route/link.h>
#include <netlink/route/link/sit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "tunnel/io.h"
#include "tunnel/io_int.h"
#include "tunnel/tun_dev.h"

/* ---- counter names --------------------------------------------------- */

static char drop_names[TUN_D__COUNT][48];
const char *tun_counter_names[TC__COUNT] = {
    [TC_ENCAP_PACKETS] = "encap_packets",   [TC_ENCAP_BYTES] = "encap_bytes",
    [TC_DECAP_PACKETS] = "decap_packets",   [TC_DECAP_BYTES] = "decap_bytes",
    [TC_GSO_PACKETS] = "gso_packets",       [TC_GSO_SEGMENTS] = "gso_segments",
    [TC_CSUM_COMPLETED] = "csum_completed", [TC_GRO_PACKETS] = "gro_packets",
    [TC_GRO_SEGMENTS] = "gro_segments",     [TC_PTB_SENT] = "ptb_sent",
    [TC_PTB_RELAYED] = "ptb_relayed",       [TC_ICMP4_IGNORED] = "icmp4_ignored",
    [TC_SEND_ERRORS] = "send_errors",       [TC_SENT_FRAGMENTABLE] = "sent_df_clear",
    [TC_TUN_ERRORS] = "tun_write_errors",   [TC_RX_TRUNCATED] = "rx_truncated",
    GSO_COUNTER_NAMES(TC_GSO_DROP_BASE),
    /* the drop reasons: filled by tun_counter_names_init() */
};

void tun_counter_names_init(void)
{
    for (size_t i = 0; i < TUN_D__COUNT; i++) {
        snprintf(drop_names[i], sizeof(drop_names[i]), "drop_%s",
                 i == TUN_OK ? "none" : tun_drop_name((enum tun_drop)i));
        tun_counter_names[TC_DROP_BASE + i] = drop_names[i];
    }
}

/* ---- pure helpers ---------------------------------------------------- */

static int want_addr(struct tun_addr_want **a, size_t *n, const struct in6_addr *addr,
                     unsigned plen)
{
    struct tun_addr_want *p = realloc(*a, (*n + 1) * sizeof(**a));
    if (!p)
        return -ENOMEM;
    *a = p;
    p[(*n)++] = (struct tun_addr_want){.addr = *addr, .plen = (uint8_t)plen};
    return 0;
}

static int want_route(struct tun_route_want **a, size_t *n, const struct e6_prefix *dst,
                      uint32_t metric)
{
    struct tun_route_want *p = realloc(*a, (*n + 1) * sizeof(**a));
    if (!p)
        return -ENOMEM;
    *a = p;
    p[(*n)++] = (struct tun_route_want){.dst = *dst, .metric = metric};
    return 0;
}

int tun_want_build(const struct conf_tunnel *t, struct tun_addr_want **addrs, size_t *n_addrs,
                   struct tun_route_want **routes, size_t *n_routes)
{
    *addrs = NULL;
    *routes = NULL;
    *n_addrs = *n_routes = 0;
    int r = 0;
    if (t->mode == CONF_TUN_CLIENT) {
        r = want_addr(addrs, n_addrs, &t->client_address, t->client_plen);
        if (!r && t->default_route) {
            struct e6_prefix any = {0};
            r = want_route(routes, n_routes, &any, TUN_DEFAULT_METRIC);
        }
    } else {
        for (size_t i = 0; i < t->n_clients && !r; i++) {
            const struct conf_tunnel_client *c = &t->clients[i];
            r = want_addr(addrs, n_addrs, &c->server_address, c->client_plen);
            for (size_t k = 0; k < c->n_routed && !r; k++)
                r = want_route(routes, n_routes, &c->routed[k], 0);
        }
    }
    if (r < 0) {
        free(*addrs);
        free(*routes);
        *addrs = NULL;
        *routes = NULL;
        *n_addrs = *n_routes = 0;
    }
    return r;
}

static int add_name(const char ***v, size_t *n, const char *name)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*v)[i], name) == 0)
            return 0;
    const char **p = realloc(*v, (*n + 1) * sizeof(*p));
    if (!p)
        return -ENOMEM;
    *v = p;
    p[(*n)++] = name;
    return 0;
}

/* a 6in4 tunnel (either end) and a 6bed4 router forward; a 6bed4 peer is a host */
static bool routes_between(const struct conf_tunnel *t)
{
    return t->type == CONF_TUNNEL_6IN4 || t->mode == CONF_TUN_ROUTER;
}

int tun_routed_ifaces(const struct conf *c, const char ***out)
{
    const char **v = NULL;
    size_t n = 0;
    int r = 0;
    *out = NULL;
    size_t routing = 0;
    for (size_t i = 0; i < c->n_tunnels; i++)
        routing += routes_between(&c->tunnels[i]);
    /* without a tunnel the proxy's and radv's own checks speak for them */
    if (routing == 0)
        return 0;
    for (size_t i = 0; i < c->n_tunnels && !r; i++)
        if (routes_between(&c->tunnels[i]))
            r = add_name(&v, &n, c->tunnels[i].name);
    for (size_t i = 0; i < c->n_proxies && !r; i++)
        r = add_name(&v, &n, c->proxies[i].name);
    for (size_t i = 0; i < c->n_interfaces && !r; i++)
        if (c->interfaces[i].advertise)
            r = add_name(&v, &n, c->interfaces[i].name);
    if (r < 0) {
        free(v);
        return r;
    }
    *out = v;
    return (int)n;
}

bool tun_sysctl_path(const char *ifname, char *buf, size_t len)
{
    size_t n = strlen(ifname);
    if (n == 0 || n >= IFNAMSIZ || strchr(ifname, '/') || strcmp(ifname, ".") == 0 ||
        strcmp(ifname, "..") == 0)
        return false;
    int w = snprintf(buf, len, "/proc/sys/net/ipv6/conf/%s/forwarding", ifname);
    return w > 0 && (size_t)w < len;
}

/*
 * TUN fds opened before the privilege drop: the configured 6in4 tunnels'
 * queues plus those of this many more, for reloads that add or re-create
 * tunnels where /dev/net/tun is root's only.
 */
#define TUN_PREOPEN_SPARE_TUNNELS 2

/* a second look at forwarding, once our new TUNs' netconf is in the cache */
#define FWD_RECHECK_MS 1000
/* interfaces named in one forwarding warning, and warnings per check */
#define FWD_NAMES_SHOWN 8
#define FWD_WARNINGS    8

/* packets the TUN holds for the encap worker (ip link ... txqueuelen) */
#define TUN_TXQUEUELEN 1000

/* ---- state ----------------------------------------------------------- */

struct tun_tunnel {
    struct tun_service *s;
    char name[IFNAMSIZ];
    /* what the section said (no pointer into the conf is kept) */
    enum conf_tunnel_mode mode;
    struct in_addr local, remote;
    unsigned ttl, mtu;
    enum conf_pmtu pmtu;
    enum conf_tristate kernel;
    struct in6_addr client_address;
    uint8_t client_plen;
    char path_why[192];

    int tunfd[TUN_MAX_QUEUES]; /* one per queue; [0] created the interface */
    unsigned n_queues;
    char offload_why[96]; /* the TUN's offloads, or why none (for the view) */
    int ifindex;
    struct tun_tunnel_fast fast;
    struct tun_worker enc[TUN_MAX_QUEUES]; /* one per queue */
    struct tun_worker dec;
    /* what we installed, so stop and reload remove exactly that */
    struct tun_addr_want *addrs;
    size_t n_addrs;
    struct tun_route_want *routes; /* metric as installed */
    size_t n_routes;
    struct tun_cstat **cs;
    size_t n_cs;
};

struct tun_service {
    struct tun_service_env env;
    struct e6_counters *set;
    struct e6_counter_pool pool; /* the workers' blocks */
    struct tun_tunnel **tuns;
    size_t n_tuns;
    bool started;
    bool manage_sysctls;
    unsigned queues; /* TUN queues (encap workers) per tunnel */
    /* /dev/net/tun opened before the privilege drop (tun_service_preopen) */
    struct tun_dev_spares spares;
    bool sit_warned;
    int sit; /* -2 not probed, -1 unknown, 0 absent, 1 present */
    char sit_why[160];
    char **fwd_ifs; /* interfaces edge6d routes between (for the view) */
    bool *fwd_ifs_checked;
    size_t n_fwd_ifs;
    struct e6_timer fwd_timer; /* looks again at those not in the cache yet */
};

static void fwd_recheck(struct e6_loop *loop, struct e6_timer *t, void *arg);

int tun_service_new(struct tun_service **out, const struct tun_service_env *env)
{
    struct tun_service *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->env = *env;
    s->sit = -2;
    e6_timer_init(&s->fwd_timer, fwd_recheck, s);
    s->queues = tun_dev_queues(env->queues, TUN_AUTO_QUEUES, TUN_MAX_QUEUES);
    tun_counter_names_init();
    s->set = e6_counters_new(env->registry, "tunnel", tun_counter_names, TC__COUNT);
    if (!s->set) {
        free(s);
        return -ENOMEM;
    }
    e6_counter_pool_init(&s->pool, s->set);
    *out = s;
    return 0;
}

/* Blocks are reused: a set cannot give back a block, and tunnels come and go. */
static int block_take(struct tun_service *s, struct tun_worker *w)
{
    int r = e6_counter_pool_take(&s->pool, &w->cnt, w->base);
    if (r < 0)
        return r;
    w->block_slot = r;
    return 0;
}

static void block_give(struct tun_service *s, struct tun_worker *w)
{
    e6_counter_pool_give(&s->pool, &w->block_slot);
    w->cnt.v = NULL;
}

static uint64_t worker_count(const struct tun_worker *w, size_t idx)
{
    return tun_block_count(w->cnt, w->base, idx);
}

static uint64_t tunnel_count(const struct tun_tunnel *t, size_t idx)
{
    uint64_t n = worker_count(&t->dec, idx);
    for (unsigned q = 0; q < t->n_queues; q++)
        n += worker_count(&t->enc[q], idx);
    return n;
}

static const char *v4(struct in_addr a, char *buf)
{
    return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN) ? buf : "?";
}

/* ---- kernel sit driver ------------------------------------------------ */

/*
 * Whether this kernel can make sit devices: create a throwaway one and
 * delete it. "Operation not supported" (no such link kind, after the
 * kernel tried to load the module) means no driver.
 */
/* a sit link (sit0 appears in every namespace once the driver is loaded) */
static bool sit_link_exists(struct tun_service *s)
{
    if (!s->env.nl)
        return false;
    struct e6_nl_link l[64];
    size_t n = e6_nl_links(s->env.nl, l, 64);
    for (size_t i = 0; i < n && i < 64; i++)
        if (l[i].arptype == ARPHRD_SIT)
            return true;
    return false;
}

static void sit_probe(struct tun_service *s)
{
    if (s->sit != -2)
        return;
    s->sit = -1;
    if (sit_link_exists(s)) {
        s->sit = 1;
        snprintf(s->sit_why, sizeof(s->sit_why), "the kernel's sit driver is loaded");
        return;
    }
    struct nl_sock *sk = nl_socket_alloc();
    struct rtnl_link *l = rtnl_link_sit_alloc();
    int r;
    if (!sk || !l) {
        snprintf(s->sit_why, sizeof(s->sit_why), "out of memory while probing");
        goto out;
    }
    if ((r = nl_connect(sk, NETLINK_ROUTE)) < 0) {
        snprintf(s->sit_why, sizeof(s->sit_why), "netlink: %s", nl_geterror(r));
        goto out;
    }
    char name[IFNAMSIZ];
    snprintf(name, sizeof(name), "e6sit%u", (unsigned)getpid() % 1000000u);
    rtnl_link_set_name(l, name);
    r = rtnl_link_add(sk, l, NLM_F_CREATE | NLM_F_EXCL);
    if (r == 0) {
        s->sit = 1;
        snprintf(s->sit_why, sizeof(s->sit_why), "this kernel has a sit driver");
        r = rtnl_link_delete(sk, l);
        if (r < 0)
            e6_warn("tunnel: could not delete the probe sit device %s: %s (ip link del %s)", name,
                    nl_geterror(r), name);
    } else if (r == -NLE_OPNOTSUPP || r == -NLE_NODEV || r == -NLE_OBJ_NOTFOUND) {
        s->sit = 0;
        snprintf(s->sit_why, sizeof(s->sit_why), "no sit driver in this kernel");
    } else {
        snprintf(s->sit_why, sizeof(s->sit_why), "could not tell whether the kernel has sit: %s",
                 nl_geterror(r));
    }
out:
    if (l)
        rtnl_link_put(l);
    if (sk)
        nl_socket_free(sk);
}

/* Decide the path; -ENOTSUP with err when `kernel = yes` cannot be met. */
static int choose_path(struct tun_service *s, struct tun_tunnel *t, char *err, size_t errlen)
{
    if (t->kernel == CONF_TRI_OFF) {
        snprintf(t->path_why, sizeof(t->path_why), "kernel = no");
        e6_info("tunnel %s: 6in4 in userspace (kernel = no)", t->name);
        return 0;
    }
    sit_probe(s);
    if (s->sit == 1) {
        /* the kernel path (one sit device per client) is not implemented:
         * the userspace path is wire-compatible, so it carries the tunnel */
        snprintf(t->path_why, sizeof(t->path_why),
                 "the kernel has sit, but edge6d carries 6in4 in userspace");
        e6_notice("tunnel %s: this kernel has a sit driver; edge6d still carries the 6in4 "
                  "tunnel in userspace (do not also configure a kernel sit device for the same "
                  "endpoints)",
                  t->name);
        /* tunnel4's handler answers what no sit device takes (RFC-wise
         * harmless, rate-limited, but remotes see it): say so once */
        if (!s->sit_warned)
            e6_warn("the loaded sit driver answers protocol-41 packets no sit device takes with "
                    "ICMP port unreachable (rate-limited), while edge6d receives them too; "
                    "kernel = no does not load it");
        s->sit_warned = true;
        return 0;
    }
    if (t->kernel == CONF_TRI_ON) {
        snprintf(err, errlen, "tunnel %s: kernel = yes, but %s (use kernel = auto or no)", t->name,
                 s->sit == 0 ? "this kernel has no sit driver" : s->sit_why);
        return -ENOTSUP;
    }
    snprintf(t->path_why, sizeof(t->path_why), "%s", s->sit_why);
    if (s->sit == 0)
        e6_notice("no sit driver in this kernel: 6in4 tunnel %s runs in userspace", t->name);
    else
        e6_notice("%s: 6in4 tunnel %s runs in userspace", s->sit_why, t->name);
    return 0;
}

/* ---- snapshots ------------------------------------------------------- */

static void snap_free(struct tun_snap *sn)
{
    if (!sn)
        return;
    tun_table_free(sn->tab);
    free(sn->cs);
    free(sn);
}

static void cstat_free(struct tun_cstat *c)
{
    if (!c)
        return;
    free(c->routed);
    free(c);
}

static struct tun_cstat *cstat_find(struct tun_tunnel *t, const char *name)
{
    for (size_t i = 0; i < t->n_cs; i++)
        if (strcmp(t->cs[i]->name, name) == 0)
            return t->cs[i];
    return NULL;
}

static const struct conf_tunnel_client *conf_client(const struct conf_tunnel *ct, const char *name)
{
    for (size_t i = 0; i < ct->n_clients; i++)
        if (strcmp(ct->clients[i].name, name) == 0)
            return &ct->clients[i];
    return NULL;
}

/*
 * A snapshot of ct; per-client stats are found by name in t->cs (created
 * when new, marked seen). Logs a changed remote. NULL with err.
 */
static struct tun_snap *snap_build(struct tun_tunnel *t, const struct conf_tunnel *ct, bool log,
                                   char *err, size_t errlen)
{
    struct tun_snap *sn = calloc(1, sizeof(*sn));
    if (!sn) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    sn->tab = tun_table_build(ct, err, errlen);
    if (!sn->tab) {
        free(sn);
        return NULL;
    }
    sn->server = ct->mode == CONF_TUN_SERVER;
    sn->local = ct->local;
    sn->self = ct->client_address;
    sn->n = tun_table_count(sn->tab);
    sn->cs = calloc(sn->n ? sn->n : 1, sizeof(*sn->cs));
    if (!sn->cs)
        goto oom;
    for (size_t i = 0; i < t->n_cs; i++)
        t->cs[i]->seen = false;
    for (size_t i = 0; i < sn->n; i++) {
        const struct tun_client *c = tun_table_at(sn->tab, i);
        if (!c || c->index >= sn->n)
            continue;
        struct tun_cstat *cs = cstat_find(t, c->name);
        if (!cs) {
            struct tun_cstat **v = realloc(t->cs, (t->n_cs + 1) * sizeof(*v));
            if (!v)
                goto oom;
            t->cs = v;
            cs = calloc(1, sizeof(*cs));
            if (!cs)
                goto oom;
            snprintf(cs->name, sizeof(cs->name), "%s", c->name);
            cs->remote = c->remote;
            t->cs[t->n_cs++] = cs;
        } else if (log && cs->remote.s_addr != c->remote.s_addr) {
            char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
            e6_notice("tunnel %s: %s's endpoint moved from %s to %s (tunnel-broker update "
                      "endpoint): packets now go to the new address, and only it is accepted",
                      t->name, c->name, v4(cs->remote, a), v4(c->remote, b));
        }
        cs->seen = true;
        cs->remote = c->remote;
        cs->link = c->link;
        cs->client_address = c->client_address;
        cs->server_address = c->server_address;
        cs->mtu = c->mtu;
        const struct conf_tunnel_client *cc = conf_client(ct, c->name);
        free(cs->routed);
        cs->routed = NULL;
        cs->n_routed = 0;
        if (cc && cc->n_routed) {
            cs->routed = malloc(cc->n_routed * sizeof(*cs->routed));
            if (!cs->routed)
                goto oom;
            memcpy(cs->routed, cc->routed, cc->n_routed * sizeof(*cs->routed));
            cs->n_routed = cc->n_routed;
        }
        sn->cs[c->index] = cs;
    }
    return sn;
oom:
    snprintf(err, errlen, "out of memory");
    snap_free(sn);
    return NULL;
}

static void drop_unseen_cstats(struct tun_tunnel *t)
{
    size_t k = 0;
    for (size_t i = 0; i < t->n_cs; i++) {
        if (t->cs[i]->seen)
            t->cs[k++] = t->cs[i];
        else
            cstat_free(t->cs[i]);
    }
    t->n_cs = k;
}

/* Swap in sn (NULL: none), wait out the workers, free the old one. */
static void snap_publish(struct tun_tunnel *t, struct tun_snap *sn)
{
    struct tun_snap *old = atomic_exchange(&t->fast.snap, sn);
    struct tun_worker *ws[TUN_MAX_QUEUES + 1];
    size_t n = 0;
    ws[n++] = &t->dec;
    for (unsigned q = 0; q < t->n_queues; q++)
        ws[n++] = &t->enc[q];
    tun_snap_synchronize(ws, n);
    snap_free(old);
    drop_unseen_cstats(t);
}

/* ---- kernel state: addresses and routes -------------------------------- */

static int route_install(struct tun_tunnel *t, struct tun_route_want *w)
{
    struct e6_nl_route_spec r = {
        .dst = w->dst, .ifindex = t->ifindex, .metric = w->metric, .protocol = TUN_RTPROT};
    char p[INET6_ADDRSTRLEN + 8];
    if (w->dst.len == 0)
        return tun_dev_default_route_add(t->s->env.nl, t->name, t->ifindex, TUN_RTPROT, &w->metric);
    int e = e6_nl_route_add(t->s->env.nl, &r, true);
    if (e == 0)
        e6_info("tunnel %s: route %s dev %s proto %d", t->name,
                e6_prefix_format(&w->dst, p, sizeof(p)), t->name, TUN_RTPROT);
    return e;
}

static void route_remove(struct tun_tunnel *t, const struct tun_route_want *w)
{
    struct e6_nl_route_spec r = {
        .dst = w->dst, .ifindex = t->ifindex, .metric = w->metric, .protocol = TUN_RTPROT};
    int e = e6_nl_route_del(t->s->env.nl, &r);
    char p[INET6_ADDRSTRLEN + 8];
    if (e < 0 && e != -ESRCH && e != -ENODEV)
        e6_warn("tunnel %s: cannot remove route %s: %s", t->name,
                e6_prefix_format(&w->dst, p, sizeof(p)), strerror(-e));
}

static bool addr_in(const struct tun_addr_want *v, size_t n, const struct tun_addr_want *a)
{
    for (size_t i = 0; i < n; i++)
        if (v[i].plen == a->plen && e6_addr_equal(&v[i].addr, &a->addr))
            return true;
    return false;
}

static struct tun_route_want *route_in(struct tun_route_want *v, size_t n,
                                       const struct tun_route_want *a)
{
    for (size_t i = 0; i < n; i++)
        if (e6_prefix_equal(&v[i].dst, &a->dst))
            return &v[i];
    return NULL;
}

/* Move the kernel from what t installed to what ct wants. 0 or -errno with err. */
static int kernel_apply(struct tun_tunnel *t, const struct conf_tunnel *ct, char *err,
                        size_t errlen)
{
    struct tun_addr_want *wa;
    struct tun_route_want *wr;
    size_t nwa, nwr;
    int r = tun_want_build(ct, &wa, &nwa, &wr, &nwr);
    if (r < 0) {
        snprintf(err, errlen, "out of memory");
        return r;
    }
    struct e6_nl *nl = t->s->env.nl;
    char a[INET6_ADDRSTRLEN];
    for (size_t i = 0; i < t->n_routes; i++)
        if (!route_in(wr, nwr, &t->routes[i]))
            route_remove(t, &t->routes[i]);
    for (size_t i = 0; i < t->n_addrs; i++)
        if (!addr_in(wa, nwa, &t->addrs[i])) {
            int e = e6_nl_addr_del(nl, t->ifindex, &t->addrs[i].addr, t->addrs[i].plen);
            if (e < 0 && e != -EADDRNOTAVAIL && e != -ENODEV)
                e6_warn("tunnel %s: cannot remove address %s/%u: %s", t->name,
                        e6_addr_format(&t->addrs[i].addr, a, sizeof(a)), t->addrs[i].plen,
                        strerror(-e));
        }
    const struct e6_nl_addr_opts opts = {.nodad = true, .replace = true};
    for (size_t i = 0; i < nwa && !r; i++) {
        if (addr_in(t->addrs, t->n_addrs, &wa[i]))
            continue;
        r = e6_nl_addr_add(nl, t->ifindex, &wa[i].addr, wa[i].plen, &opts);
        if (r < 0)
            snprintf(err, errlen, "tunnel %s: cannot add address %s/%u: %s%s%s", t->name,
                     e6_addr_format(&wa[i].addr, a, sizeof(a)), wa[i].plen, strerror(-r),
                     e6_nl_errmsg(nl)[0] ? ": " : "", e6_nl_errmsg(nl));
        else
            e6_info("tunnel %s: address %s/%u", t->name, e6_addr_format(&wa[i].addr, a, sizeof(a)),
                    wa[i].plen);
    }
    for (size_t i = 0; i < nwr && !r; i++) {
        struct tun_route_want *have = route_in(t->routes, t->n_routes, &wr[i]);
        if (have) {
            wr[i].metric = have->metric;
            continue;
        }
        r = route_install(t, &wr[i]);
        if (r < 0) {
            char p[INET6_ADDRSTRLEN + 8];
            snprintf(err, errlen, "tunnel %s: cannot add route %s dev %s: %s%s%s", t->name,
                     e6_prefix_format(&wr[i].dst, p, sizeof(p)), t->name, strerror(-r),
                     e6_nl_errmsg(nl)[0] ? ": " : "", e6_nl_errmsg(nl));
        }
    }
    /* on failure, remember only what is surely installed: the old ones
     * that stay, plus every new one that got in before the failure (the
     * TUN goes away on teardown anyway, taking the rest with it) */
    free(t->addrs);
    free(t->routes);
    t->addrs = wa;
    t->n_addrs = nwa;
    t->routes = wr;
    t->n_routes = nwr;
    return r;
}

/* ---- sysctls --------------------------------------------------------- */

static int write_proc_forwarding(const char *ifname)
{
    char path[128];
    if (!tun_sysctl_path(ifname, path, sizeof(path)))
        return -EINVAL;
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ssize_t n = write(fd, "1\n", 2);
    int r = n == 2 ? 0 : (n < 0 ? -errno : -EIO);
    close(fd);
    return r;
}

/*
 * forwarding of ifname ("all" for net.ipv6.conf.all) from the netconf
 * cache: 0/1, -ENOENT when the cache has none (the interface is absent, or
 * was created a moment ago and its events are still queued)
 */
static int forwarding_of(struct tun_service *s, const char *ifname)
{
    if (!s->env.nl) /* tests without a kernel context */
        return -ENOENT;
    if (strcmp(ifname, "all") == 0)
        return e6_nl_forwarding(s->env.nl, E6_NL_IFINDEX_ALL);
    struct e6_nl_link l;
    if (e6_nl_link_by_name(s->env.nl, ifname, &l) < 0)
        return -ENOENT;
    return e6_nl_forwarding(s->env.nl, l.ifindex);
}

/* the interfaces but self and "all", the first few by name */
static void others(struct tun_service *s, const char *self, char *buf, size_t len)
{
    size_t o = 0, shown = 0, more = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < s->n_fwd_ifs; i++) {
        if (strcmp(s->fwd_ifs[i], self) == 0 || strcmp(s->fwd_ifs[i], "all") == 0)
            continue;
        if (shown == FWD_NAMES_SHOWN) {
            more++;
            continue;
        }
        int w = snprintf(buf + o, len - o, "%s%s", o ? ", " : "", s->fwd_ifs[i]);
        if (w < 0 || (size_t)w >= len - o) {
            buf[o] = '\0';
            more++;
            continue;
        }
        o += (size_t)w;
        shown++;
    }
    if (more && o < len)
        snprintf(buf + o, len - o, " and %zu more", more);
    if (!buf[0])
        snprintf(buf, len, "the other interfaces");
}

static void fwd_clear(struct tun_service *s)
{
    if (s->env.loop)
        e6_timer_cancel(s->env.loop, &s->fwd_timer);
    for (size_t i = 0; i < s->n_fwd_ifs; i++)
        free(s->fwd_ifs[i]);
    free(s->fwd_ifs);
    free(s->fwd_ifs_checked);
    s->fwd_ifs = NULL;
    s->fwd_ifs_checked = NULL;
    s->n_fwd_ifs = 0;
}

static bool fwd_pass(struct tun_service *s);

static void check_sysctls(struct tun_service *s, const struct conf *c)
{
    fwd_clear(s);
    s->manage_sysctls = c->global.manage_sysctls;
    const char **names;
    int n = tun_routed_ifaces(c, &names);
    if (n <= 0) {
        if (n < 0)
            e6_warn("tunnel: out of memory while checking forwarding");
        return;
    }
    s->fwd_ifs = calloc((size_t)n + 1, sizeof(*s->fwd_ifs));
    s->fwd_ifs_checked = calloc((size_t)n + 1, sizeof(*s->fwd_ifs_checked));
    if (!s->fwd_ifs || !s->fwd_ifs_checked) {
        free(names);
        return;
    }
    s->fwd_ifs[s->n_fwd_ifs++] = strdup("all");
    for (int i = 0; i < n; i++)
        s->fwd_ifs[s->n_fwd_ifs++] = strdup(names[i]);
    free(names);
    for (size_t i = 0; i < s->n_fwd_ifs; i++)
        if (!s->fwd_ifs[i]) {
            e6_warn("tunnel: out of memory while checking forwarding");
            return;
        }
    for (size_t i = 0; i < s->n_fwd_ifs; i++)
        s->fwd_ifs_checked[i] = false;
    /* our new TUNs reach the netconf cache once the loop read their
     * events: look again at whatever was missing in a moment */
    if (fwd_pass(s) && s->env.loop)
        e6_timer_arm_in(s->env.loop, &s->fwd_timer, FWD_RECHECK_MS);
}

static void fwd_recheck(struct e6_loop *loop, struct e6_timer *t, void *arg)
{
    (void)loop;
    (void)t;
    fwd_pass(arg);
}

/*
 * Log (or with manage-sysctls set) the forwarding of every interface not
 * checked yet; true when some were not in the cache.
 */
static bool fwd_pass(struct tun_service *s)
{
    size_t warned = 0, unwarned = 0, missing = 0;
    bool all_set = false;
    for (size_t i = 0; i < s->n_fwd_ifs; i++) {
        const char *ifn = s->fwd_ifs[i];
        if (all_set)
            break; /* the kernel copies all.forwarding into every interface */
        if (s->fwd_ifs_checked[i])
            continue;
        int f = forwarding_of(s, ifn);
        if (f < 0) {
            missing++;
            continue;
        }
        s->fwd_ifs_checked[i] = true;
        if (f != 0)
            continue;
        if (s->manage_sysctls) {
            int r = write_proc_forwarding(ifn);
            if (r == 0) {
                e6_notice("manage-sysctls: set net.ipv6.conf.%s.forwarding = 1", ifn);
                all_set = strcmp(ifn, "all") == 0;
                continue;
            }
            e6_warn("manage-sysctls: cannot set net.ipv6.conf.%s.forwarding = 1: %s", ifn,
                    strerror(-r));
        }
        if (warned == FWD_WARNINGS) {
            unwarned++;
            continue;
        }
        warned++;
        char ot[256];
        others(s, ifn, ot, sizeof(ot));
        if (strcmp(ifn, "all") == 0)
            e6_warn("IPv6 forwarding is off (net.ipv6.conf.all.forwarding = 0): packets will "
                    "not be routed through %s (set net.ipv6.conf.all.forwarding=1, or "
                    "manage-sysctls = yes)",
                    ot);
        else if (strcmp(ot, "the other interfaces") == 0)
            e6_warn("IPv6 forwarding is off on %s: packets will not be routed through %s (set "
                    "net.ipv6.conf.all.forwarding=1, or manage-sysctls = yes)",
                    ifn, ifn);
        else
            e6_warn("IPv6 forwarding is off on %s: packets will not be routed between %s and %s "
                    "(set net.ipv6.conf.all.forwarding=1, or manage-sysctls = yes)",
                    ifn, ifn, ot);
    }
    if (unwarned)
        e6_warn("IPv6 forwarding is off on %zu more interfaces (edge6ctl status lists them)",
                unwarned);
    return missing > 0;
}

/* ---- tunnels --------------------------------------------------------- */

/* h non-NULL: the TUN's queues go into h (a re-creation takes them) instead of closing */
static void tunnel_free_into(struct tun_tunnel *t, struct tun_dev_handover *h)
{
    if (!t)
        return;
    for (unsigned q = 0; q < t->n_queues; q++) {
        tun_worker_stop(&t->enc[q]);
        block_give(t->s, &t->enc[q]);
    }
    tun_worker_stop(&t->dec);
    block_give(t->s, &t->dec);
    for (size_t i = 0; t->ifindex > 0 && i < t->n_routes; i++)
        route_remove(t, &t->routes[i]);
    for (size_t i = 0; t->ifindex > 0 && i < t->n_addrs; i++)
        e6_nl_addr_del(t->s->env.nl, t->ifindex, &t->addrs[i].addr, t->addrs[i].plen);
    if (t->fast.rawfd >= 0)
        close(t->fast.rawfd);
    if (t->fast.icmpfd >= 0)
        close(t->fast.icmpfd);
    if (t->fast.fragfd >= 0)
        close(t->fast.fragfd);
    if (h && t->ifindex > 0)
        tun_dev_handover_take(h, t->name, t->tunfd, t->n_queues, t->ifindex);
    /* the TUN is not persistent: the interface goes with its last queue */
    for (unsigned q = 0; q < t->n_queues; q++)
        if (t->tunfd[q] >= 0)
            close(t->tunfd[q]);
    snap_free(atomic_load(&t->fast.snap));
    for (size_t i = 0; i < t->n_cs; i++)
        cstat_free(t->cs[i]);
    free(t->cs);
    free(t->addrs);
    free(t->routes);
    free(t);
}

static void tunnel_free(struct tun_tunnel *t)
{
    tunnel_free_into(t, NULL);
}

/*
 * With a virtio_net_hdr on every packet, the kernel may hand the encap
 * workers 64 KiB TCP super-packets (segmented once, in userspace, before
 * sendmmsg) and the decap worker may write merged runs of segments: the
 * per-packet system calls and the kernel's per-packet work shrink by the
 * segment count. When the kernel refuses the offloads, or
 * EDGE6_TUN_OFFLOAD=off asks so (tests, diagnosis), the TUN keeps the
 * header and runs without: every packet then comes whole and checksummed.
 */
static int open_tun(struct tun_tunnel *t, unsigned queues, struct tun_dev_handover *h, char *err,
                    size_t errlen)
{
    const struct tun_dev_opts o = {.queues = queues, .vnet_hdr = true, .offload = 0};
    int r = tun_dev_reopen(h, &t->s->spares, t->name, &o, t->tunfd, &t->ifindex, err, errlen);
    if (r < 0)
        return r;
    t->n_queues = queues;
    t->fast.offload =
        tun_dev_offload_setup(t->tunfd[0], t->name, t->offload_why, sizeof(t->offload_why));
    return 0;
}

/*
 * mtu-discovery = dynamic: the second protocol-41 socket, DF clear, that
 * carries packets of at most 1280 bytes when a path MTU learnt from an
 * ICMPv4 (real or forged) would refuse them. It only sends: a drop-all
 * filter keeps the kernel from queueing every received packet on it too.
 */
static int open_fragfd(struct tun_tunnel *t, char *err, size_t errlen)
{
    static struct sock_filter drop_all[] = {BPF_STMT(BPF_RET | BPF_K, 0)};
    struct sock_fprog prog = {.len = 1, .filter = drop_all};
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr = t->local};
    int ttl = (int)t->ttl, pmtu = IP_PMTUDISC_DONT, r;

    t->fast.fragfd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_IPV6);
    if (t->fast.fragfd < 0 ||
        setsockopt(t->fast.fragfd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0 ||
        bind(t->fast.fragfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        setsockopt(t->fast.fragfd, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl)) < 0 ||
        setsockopt(t->fast.fragfd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof(pmtu)) < 0) {
        r = -errno;
        snprintf(err, errlen, "tunnel %s: the DF-clear protocol-41 socket: %s", t->name,
                 strerror(-r));
        return r;
    }
    return 0;
}

static int open_sockets(struct tun_tunnel *t, char *err, size_t errlen)
{
    char a[INET_ADDRSTRLEN];
    int r;
    t->fast.rawfd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_IPV6);
    if (t->fast.rawfd < 0) {
        r = -errno;
        snprintf(err, errlen, "tunnel %s: cannot open a raw protocol-41 socket: %s%s", t->name,
                 strerror(-r), r == -EPERM ? " (CAP_NET_RAW needed)" : "");
        return r;
    }
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr = t->local};
    if (bind(t->fast.rawfd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        r = -errno;
        snprintf(err, errlen, "tunnel %s: cannot bind to local %s: %s%s", t->name, v4(t->local, a),
                 strerror(-r),
                 r == -EADDRNOTAVAIL ? " (the address is not configured on this box)" : "");
        return r;
    }
    int ttl = (int)t->ttl;
    /* RFC 4213 3.2: a static MTU sends DF clear, a dynamic one sets DF */
    int pmtu = t->pmtu == CONF_PMTU_DYNAMIC ? IP_PMTUDISC_DO : IP_PMTUDISC_DONT;
    if (setsockopt(t->fast.rawfd, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl)) < 0 ||
        setsockopt(t->fast.rawfd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof(pmtu)) < 0) {
        r = -errno;
        snprintf(err, errlen, "tunnel %s: raw socket options: %s", t->name, strerror(-r));
        return r;
    }
    /* bursts from a fast sender: a deeper queue than the default (best effort) */
    int buf = 4 << 20;
    if (setsockopt(t->fast.rawfd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)) < 0)
        setsockopt(t->fast.rawfd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
    if (setsockopt(t->fast.rawfd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf)) < 0)
        setsockopt(t->fast.rawfd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));

    t->fast.icmpfd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMP);
    if (t->fast.icmpfd < 0) {
        r = -errno;
        snprintf(err, errlen, "tunnel %s: cannot open a raw ICMPv4 socket: %s", t->name,
                 strerror(-r));
        return r;
    }
    /* only destination unreachable (fragmentation needed is code 4 of it) */
    struct icmp_filter flt = {.data = ~(1u << ICMP_DEST_UNREACH)};
    if (setsockopt(t->fast.icmpfd, SOL_RAW, ICMP_FILTER, &flt, sizeof(flt)) < 0) {
        r = -errno;
        snprintf(err, errlen, "tunnel %s: ICMPv4 filter: %s", t->name, strerror(-r));
        return r;
    }
    if (t->pmtu == CONF_PMTU_DYNAMIC)
        return open_fragfd(t, err, errlen);
    return 0;
}

/*
 * The kernel drops what the TUN's queue cannot hold while the encap worker
 * is busy (500 packets by default); TCP then sees losses instead of a
 * queue. An Ethernet-sized queue halves that without much bufferbloat.
 */
static void set_txqlen(struct tun_tunnel *t)
{
    if (!tun_dev_set_txqlen(t->name, TUN_TXQUEUELEN))
        e6_info("tunnel %s: cannot set the queue length to %d: %s (the default stays)", t->name,
                TUN_TXQUEUELEN, strerror(errno));
}

static void tunnel_take_conf(struct tun_tunnel *t, const struct conf_tunnel *ct)
{
    t->mode = ct->mode;
    t->local = ct->local;
    t->remote = ct->remote;
    t->ttl = ct->ttl;
    t->mtu = ct->mtu;
    t->pmtu = ct->pmtu;
    t->kernel = ct->kernel;
    t->client_address = ct->client_address;
    t->client_plen = ct->client_plen;
}

static int tunnel_new(struct tun_service *s, const struct conf_tunnel *ct,
                      struct tun_dev_handover *h, struct tun_tunnel **out, char *err, size_t errlen)
{
    struct tun_tunnel *t = calloc(1, sizeof(*t));
    if (!t) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    t->s = s;
    t->fast.rawfd = t->fast.icmpfd = t->fast.fragfd = -1;
    for (unsigned q = 0; q < TUN_MAX_QUEUES; q++) {
        t->tunfd[q] = -1;
        t->enc[q] = (struct tun_worker){
            .t = t, .kind = TUN_W_ENCAP, .th = TUN_THREAD_INIT, .tunfd = -1, .block_slot = -1};
    }
    t->dec = (struct tun_worker){
        .t = t, .kind = TUN_W_DECAP, .th = TUN_THREAD_INIT, .tunfd = -1, .block_slot = -1};
    atomic_init(&t->fast.snap, NULL);
    snprintf(t->name, sizeof(t->name), "%s", ct->name);
    tunnel_take_conf(t, ct);
    int r;
    if (strlen(ct->name) >= IFNAMSIZ) {
        snprintf(err, errlen, "tunnel %s: name too long for an interface", ct->name);
        r = -EINVAL;
        goto fail;
    }
    if ((r = choose_path(s, t, err, errlen)) < 0 ||
        (r = open_tun(t, s->queues, h, err, errlen)) < 0 || (r = open_sockets(t, err, errlen)) < 0)
        goto fail;
    set_txqlen(t);
    struct e6_nl *nl = s->env.nl;
    if ((r = e6_nl_link_set_mtu(nl, t->ifindex, t->mtu)) < 0 ||
        (r = e6_nl_link_set_up(nl, t->ifindex, true)) < 0) {
        snprintf(err, errlen, "tunnel %s: cannot set MTU %u and bring it up: %s", t->name, t->mtu,
                 strerror(-r));
        goto fail;
    }
    struct tun_snap *sn = snap_build(t, ct, false, err, errlen);
    if (!sn) {
        r = -EINVAL;
        goto fail;
    }
    atomic_store(&t->fast.snap, sn);
    drop_unseen_cstats(t);
    if ((r = kernel_apply(t, ct, err, errlen)) < 0)
        goto fail;
    t->dec.tunfd = t->tunfd[0];
    if ((r = block_take(s, &t->dec)) < 0)
        goto no_block;
    for (unsigned q = 0; q < t->n_queues; q++) {
        t->enc[q].tunfd = t->tunfd[q];
        if ((r = block_take(s, &t->enc[q])) < 0)
            goto no_block;
    }
    if ((r = tun_worker_start(&t->dec, &t->fast, err, errlen)) < 0)
        goto fail;
    for (unsigned q = 0; q < t->n_queues; q++)
        if ((r = tun_worker_start(&t->enc[q], &t->fast, err, errlen)) < 0)
            goto fail;
    char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
    if (t->mode == CONF_TUN_SERVER)
        e6_notice("tunnel %s: 6in4 server on %s, %zu client%s, mtu %u, ifindex %d", t->name,
                  v4(t->local, a), sn->n, sn->n == 1 ? "" : "s", t->mtu, t->ifindex);
    else
        e6_notice("tunnel %s: 6in4 client %s -> %s, mtu %u, ifindex %d", t->name, v4(t->local, a),
                  v4(t->remote, b), t->mtu, t->ifindex);
    *out = t;
    return 0;
no_block:
    snprintf(err, errlen, "tunnel %s: no counter block left (too many tunnels and queues)",
             t->name);
fail:
    tunnel_free(t);
    return r;
}

/* A tunnel that stays: new table, new addresses and routes, new MTU. */
static int tunnel_update(struct tun_tunnel *t, const struct conf_tunnel *ct, char *err,
                         size_t errlen)
{
    int r;
    if (ct->mtu != t->mtu) {
        r = e6_nl_link_set_mtu(t->s->env.nl, t->ifindex, ct->mtu);
        if (r < 0) {
            snprintf(err, errlen, "tunnel %s: cannot set MTU %u: %s", t->name, ct->mtu,
                     strerror(-r));
            return r;
        }
        e6_notice("tunnel %s: mtu %u -> %u", t->name, t->mtu, ct->mtu);
    }
    struct tun_snap *sn = snap_build(t, ct, true, err, errlen);
    if (!sn)
        return -EINVAL;
    tunnel_take_conf(t, ct);
    snap_publish(t, sn);
    return kernel_apply(t, ct, err, errlen);
}

/* Changes the running sockets and TUN cannot follow: re-create the tunnel. */
static bool needs_recreate(const struct tun_tunnel *t, const struct conf_tunnel *ct)
{
    return t->mode != ct->mode || t->local.s_addr != ct->local.s_addr || t->ttl != ct->ttl ||
           t->pmtu != ct->pmtu || t->kernel != ct->kernel;
}

static const struct conf_tunnel *find_6in4(const struct conf *c, const char *name)
{
    for (size_t i = 0; i < c->n_tunnels; i++)
        if (c->tunnels[i].type == CONF_TUNNEL_6IN4 && strcmp(c->tunnels[i].name, name) == 0)
            return &c->tunnels[i];
    return NULL;
}

static struct tun_tunnel *find_tunnel(const struct tun_service *s, const char *name)
{
    for (size_t i = 0; i < s->n_tuns; i++)
        if (strcmp(s->tuns[i]->name, name) == 0)
            return s->tuns[i];
    return NULL;
}

static int add_tunnel(struct tun_service *s, const struct conf_tunnel *ct,
                      struct tun_dev_handover *h, char *err, size_t errlen)
{
    struct tun_tunnel **v = realloc(s->tuns, (s->n_tuns + 1) * sizeof(*v));
    if (!v) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    s->tuns = v;
    struct tun_tunnel *t;
    int r = tunnel_new(s, ct, h, &t, err, errlen);
    if (r < 0)
        return r;
    s->tuns[s->n_tuns++] = t;
    return 0;
}

/* ---- the service ----------------------------------------------------- */

int tun_service_preopen(struct tun_service *s, const struct conf *c)
{
    size_t want = TUN_PREOPEN_SPARE_TUNNELS;
    for (size_t i = 0; i < c->n_tunnels; i++)
        want += c->tunnels[i].type == CONF_TUNNEL_6IN4;
    return tun_dev_preopen(&s->spares, want * s->queues);
}

int tun_service_start(struct tun_service *s, const struct conf *c, char *err, size_t errlen)
{
    s->started = true;
    for (size_t i = 0; i < c->n_tunnels; i++) {
        const struct conf_tunnel *ct = &c->tunnels[i];
        if (ct->type != CONF_TUNNEL_6IN4)
            continue;
        int r = add_tunnel(s, ct, NULL, err, errlen);
        if (r < 0) {
            tun_service_stop(s);
            return r;
        }
    }
    check_sysctls(s, c);
    return 0;
}

int tun_service_reconcile(struct tun_service *s, const struct conf *old, const struct conf *new_,
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
        struct tun_tunnel *t = s->tuns[i];
        const struct conf_tunnel *ct = find_6in4(new_, t->name);
        int r = 0;
        if (ct && !needs_recreate(t, ct)) {
            r = tunnel_update(t, ct, e, sizeof(e));
            s->tuns[k++] = t;
        } else {
            e6_notice("tunnel %s: %s", t->name,
                      ct ? "local address, ttl, mtu-discovery, mode or kernel changed: "
                           "re-creating it (the interface stays)"
                         : "removed from the configuration");
            tunnel_free_into(t, ct && hs ? &hs[n_hs++] : NULL);
        }
        if (r < 0 && !rc) {
            rc = r;
            snprintf(err, errlen, "%s", e);
        }
    }
    s->n_tuns = k;
    for (size_t i = 0; i < new_->n_tunnels; i++) {
        const struct conf_tunnel *ct = &new_->tunnels[i];
        if (ct->type != CONF_TUNNEL_6IN4 || find_tunnel(s, ct->name))
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
    check_sysctls(s, new_);
    return rc;
}

void tun_service_stop(struct tun_service *s)
{
    if (s->env.loop)
        e6_timer_cancel(s->env.loop, &s->fwd_timer);
    for (size_t i = 0; i < s->n_tuns; i++)
        tunnel_free(s->tuns[i]);
    free(s->tuns);
    s->tuns = NULL;
    s->n_tuns = 0;
    s->started = false;
}

void tun_service_free(struct tun_service *s)
{
    if (!s)
        return;
    tun_service_stop(s);
    tun_dev_spares_close(&s->spares);
    fwd_clear(s);
    if (!s->env.registry)
        e6_counters_free(s->set);
    free(s);
}

int tun_service_member(const struct tun_service *s, const char *tunnel,
                       const struct in6_addr *target)
{
    const struct tun_tunnel *t = find_tunnel(s, tunnel);
    if (!t)
        return -1;
    /* the control plane is the only writer of the pointer: no hand-off needed */
    const struct tun_snap *sn = atomic_load(&((struct tun_tunnel *)t)->fast.snap);
    if (!sn || !sn->server)
        return 0;
    const struct tun_client *c = tun_table_by_dst(sn->tab, target);
    if (!c || c->index >= sn->n || !sn->cs[c->index])
        return 0;
    if (e6_addr_equal(&c->client_address, target))
        return 1;
    const struct tun_cstat *cs = sn->cs[c->index];
    for (size_t i = 0; i < cs->n_routed; i++)
        if (e6_prefix_contains(&cs->routed[i], target))
            return 1;
    return 0;
}

/* ---- views ----------------------------------------------------------- */

static void view_client(struct e6_json *j, enum e6_view_format fmt, const struct tun_cstat *c,
                        bool server)
{
    char r4[INET_ADDRSTRLEN], lk[INET6_ADDRSTRLEN + 8], ca[INET6_ADDRSTRLEN], sa[INET6_ADDRSTRLEN],
        p[INET6_ADDRSTRLEN + 8];
    uint64_t pi = atomic_load_explicit(&c->pkts_in, memory_order_relaxed);
    uint64_t bi = atomic_load_explicit(&c->bytes_in, memory_order_relaxed);
    uint64_t po = atomic_load_explicit(&c->pkts_out, memory_order_relaxed);
    uint64_t bo = atomic_load_explicit(&c->bytes_out, memory_order_relaxed);
    uint64_t di = atomic_load_explicit(&c->drops_in, memory_order_relaxed);
    uint64_t dout = atomic_load_explicit(&c->drops_out, memory_order_relaxed);
    v4(c->remote, r4);
    e6_prefix_format(&c->link, lk, sizeof(lk));
    e6_addr_format(&c->client_address, ca, sizeof(ca));
    e6_addr_format(&c->server_address, sa, sizeof(sa));
    if (fmt == E6_VIEW_JSON) {
        e6_json_begin_object(j, NULL);
        e6_json_string(j, "name", c->name);
        e6_json_string(j, "remote", r4);
        e6_json_string(j, "link", lk);
        if (server) {
            e6_json_string(j, "client_address", ca);
            e6_json_string(j, "server_address", sa);
        }
        e6_json_uint(j, "mtu", c->mtu);
        e6_json_begin_array(j, "routed_prefixes");
        for (size_t i = 0; i < c->n_routed; i++)
            e6_json_string(j, NULL, e6_prefix_format(&c->routed[i], p, sizeof(p)));
        e6_json_end_array(j);
        e6_json_uint(j, "packets_in", pi);
        e6_json_uint(j, "bytes_in", bi);
        e6_json_uint(j, "packets_out", po);
        e6_json_uint(j, "bytes_out", bo);
        e6_json_uint(j, "drops_in", di);
        e6_json_uint(j, "drops_out", dout);
        e6_json_end_object(j);
        return;
    }
    e6_strbuf_printf(j->sb, "    %s %s: remote %s, link %s", server ? "client" : "server", c->name,
                     r4, lk);
    if (server)
        e6_strbuf_printf(j->sb, " (server %s, client %s)", sa, ca);
    e6_strbuf_printf(j->sb, ", mtu %u\n", c->mtu);
    if (c->n_routed) {
        e6_strbuf_puts(j->sb, "      routed:");
        for (size_t i = 0; i < c->n_routed; i++)
            e6_strbuf_printf(j->sb, " %s", e6_prefix_format(&c->routed[i], p, sizeof(p)));
        e6_strbuf_puts(j->sb, "\n");
    }
    e6_strbuf_printf(j->sb,
                     "      in %" PRIu64 " packets %" PRIu64 " bytes, out %" PRIu64
                     " packets %" PRIu64 " bytes, drops in %" PRIu64 " out %" PRIu64 "\n",
                     pi, bi, po, bo, di, dout);
}

static void view_tunnel(struct e6_json *j, enum e6_view_format fmt, const struct tun_tunnel *t)
{
    char l4[INET_ADDRSTRLEN], r4[INET_ADDRSTRLEN];
    const struct tun_snap *sn = atomic_load(&((struct tun_tunnel *)t)->fast.snap);
    bool server = t->mode == CONF_TUN_SERVER;
    const char *mode = server ? "server" : "client";
    const char *pmtu = t->pmtu == CONF_PMTU_DYNAMIC ? "dynamic" : "static";
    unsigned workers = (unsigned)t->dec.th.running;
    for (unsigned q = 0; q < t->n_queues; q++)
        workers += (unsigned)t->enc[q].th.running;
    v4(t->local, l4);
    v4(t->remote, r4);
    if (fmt == E6_VIEW_JSON) {
        e6_json_begin_object(j, NULL);
        e6_json_string(j, "name", t->name);
        e6_json_string(j, "type", "6in4");
        e6_json_string(j, "mode", mode);
        e6_json_string(j, "local", l4);
        if (!server)
            e6_json_string(j, "remote", r4);
        e6_json_uint(j, "mtu", t->mtu);
        e6_json_uint(j, "ttl", t->ttl);
        e6_json_string(j, "mtu_discovery", pmtu);
        e6_json_string(j, "path", "userspace");
        e6_json_string(j, "path_reason", t->path_why);
        e6_json_int(j, "ifindex", t->ifindex);
        e6_json_uint(j, "workers", workers);
        e6_json_uint(j, "queues", t->n_queues);
        e6_json_string(j, "offloads", t->offload_why);
        e6_json_begin_object(j, "counters");
        for (size_t i = 0; i < TC__COUNT; i++)
            if (i != TC_DROP_BASE + TUN_OK && i != TC_GSO_DROP_BASE + GSO_OK)
                e6_json_uint(j, tun_counter_names[i], tunnel_count(t, i));
        e6_json_end_object(j);
        e6_json_begin_array(j, "clients"); /* client mode: the server */
        for (size_t i = 0; sn && i < sn->n; i++)
            if (sn->cs[i])
                view_client(j, fmt, sn->cs[i], server);
        e6_json_end_array(j);
        e6_json_end_object(j);
        return;
    }
    e6_strbuf_printf(j->sb, "  %s: 6in4 %s, local %s", t->name, mode, l4);
    if (!server)
        e6_strbuf_printf(j->sb, ", remote %s", r4);
    e6_strbuf_printf(j->sb, ", mtu %u (%s), ttl %u, ifindex %d\n", t->mtu, pmtu, t->ttl,
                     t->ifindex);
    e6_strbuf_printf(j->sb, "    path: userspace (%s), %u workers, %u queue%s\n", t->path_why,
                     workers, t->n_queues, t->n_queues == 1 ? "" : "s");
    e6_strbuf_printf(j->sb,
                     "    encap %" PRIu64 " packets %" PRIu64 " bytes, decap %" PRIu64
                     " packets %" PRIu64 " bytes, packet too big sent %" PRIu64 " relayed %" PRIu64
                     "\n",
                     tunnel_count(t, TC_ENCAP_PACKETS), tunnel_count(t, TC_ENCAP_BYTES),
                     tunnel_count(t, TC_DECAP_PACKETS), tunnel_count(t, TC_DECAP_BYTES),
                     tunnel_count(t, TC_PTB_SENT), tunnel_count(t, TC_PTB_RELAYED));
    e6_strbuf_printf(j->sb,
                     "    offloads: %s; gso %" PRIu64 " packets -> %" PRIu64
                     " segments, gro %" PRIu64 " packets <- %" PRIu64
                     " segments, checksums completed %" PRIu64 "\n",
                     t->offload_why, tunnel_count(t, TC_GSO_PACKETS),
                     tunnel_count(t, TC_GSO_SEGMENTS), tunnel_count(t, TC_GRO_PACKETS),
                     tunnel_count(t, TC_GRO_SEGMENTS), tunnel_count(t, TC_CSUM_COMPLETED));
    bool any = false;
    for (size_t i = TC_ICMP4_IGNORED; i < TC__COUNT; i++) {
        if (i == TC_DROP_BASE + TUN_OK || i == TC_GSO_DROP_BASE + GSO_OK)
            continue;
        uint64_t v = tunnel_count(t, i);
        if (!v)
            continue;
        e6_strbuf_printf(j->sb, "%s %s %" PRIu64,
                         any ? "," : "    drops/errors:", tun_counter_names[i], v);
        any = true;
    }
    if (any)
        e6_strbuf_puts(j->sb, "\n");
    for (size_t i = 0; sn && i < sn->n; i++)
        if (sn->cs[i])
            view_client(j, fmt, sn->cs[i], server);
}

void tun_service_view(struct e6_json *j, enum e6_view_format fmt, void *service)
{
    struct tun_service *s = service;
    int fw[64];
    size_t nfw = s->n_fwd_ifs < 64 ? s->n_fwd_ifs : 64;
    size_t off = 0;
    for (size_t i = 0; i < nfw; i++) {
        fw[i] = forwarding_of(s, s->fwd_ifs[i]);
        off += fw[i] == 0;
    }
    if (fmt == E6_VIEW_JSON) {
        e6_json_begin_object(j, NULL);
        e6_json_begin_array(j, "tunnels");
        for (size_t i = 0; i < s->n_tuns; i++)
            view_tunnel(j, fmt, s->tuns[i]);
        e6_json_end_array(j);
        e6_json_bool(j, "manage_sysctls", s->manage_sysctls);
        e6_json_begin_array(j, "forwarding");
        for (size_t i = 0; i < nfw; i++) {
            e6_json_begin_object(j, NULL);
            e6_json_string(j, "interface", s->fwd_ifs[i]);
            if (fw[i] < 0)
                e6_json_null(j, "forwarding");
            else
                e6_json_bool(j, "forwarding", fw[i] == 1);
            e6_json_end_object(j);
        }
        e6_json_end_array(j);
        e6_json_end_object(j);
        return;
    }
    e6_strbuf_printf(j->sb, "6in4 tunnels (%zu tunnel%s%s)\n", s->n_tuns, s->n_tuns == 1 ? "" : "s",
                     off ? ", SEE WARNINGS" : "");
    for (size_t i = 0; i < s->n_tuns; i++)
        view_tunnel(j, fmt, s->tuns[i]);
    if (!nfw)
        return;
    e6_strbuf_puts(j->sb, "  forwarding:");
    for (size_t i = 0; i < nfw; i++)
        e6_strbuf_printf(j->sb, " %s %s", s->fwd_ifs[i],
                         fw[i] == 1   ? "on"
                         : fw[i] == 0 ? "OFF"
                                      : "absent");
    e6_strbuf_puts(j->sb, "\n");
    for (size_t i = 0; i < nfw; i++)
        if (fw[i] == 0)
            e6_strbuf_printf(j->sb,
                             "  WARNING: IPv6 forwarding is off on %s: packets will not be "
                             "routed through it (set net.ipv6.conf.all.forwarding=1, or "
                             "manage-sysctls = yes)\n",
                             s->fwd_ifs[i]);
}
