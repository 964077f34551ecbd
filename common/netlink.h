/*
 * common/netlink: every conversation edge6d has with the kernel's routing
 * tables, over rtnetlink through libnl-3 / libnl-route-3.
 *
 * It owns two sockets. The event socket is subscribed to link, IPv6
 * address, IPv6 route and IPv6 netconf events and keeps four caches
 * current: links, IPv6 addresses, IPv6 routes (every table) and IPv6
 * netconf (forwarding, proxy_ndp per interface). The request socket
 * carries synchronous changes (each waits for the kernel's ack and returns
 * its errno) and the dumps that fill the caches.
 *
 * Integration: register e6_nl_fd() with the event loop for EPOLLIN and
 * call e6_nl_process() when it is readable. The socket is non-blocking and
 * process() reads at most a bounded batch, so a busy kernel cannot starve
 * the loop (the fd stays readable and the loop comes back).
 *
 * Overrun: when the kernel drops events because the socket buffer was full
 * (ENOBUFS), process() throws away what is still queued, dumps every table
 * again, reports each object that differs from the cache as an ordinary
 * NEW / CHANGE / DEL event and then a RESYNC event, after which engines
 * should reconcile everything they derived from kernel state.
 *
 * The caches change only in process() (and in e6_nl_resync()). A change
 * made through this module is in the caches once its event has been
 * processed, not when the request returns.
 *
 * Results are plain structs copied out of the caches: no libnl type
 * appears in this header. Functions return 0 (or a count) on success and
 * a negative errno on failure; kernel errors are passed through unchanged
 * (-EEXIST, -ENODEV, -ESRCH, ...) and the kernel's extended-ack text, when
 * it sent one, is available from e6_nl_errmsg().
 */
#ifndef E6_COMMON_NETLINK_H
#define E6_COMMON_NETLINK_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"

struct e6_nl;

#define E6_NL_LFT_INFINITE    UINT32_MAX /* address lifetime "forever" */
#define E6_NL_IFNAMSIZ        16         /* IFNAMSIZ, without <net/if.h> here */
#define E6_NL_HWADDR_MAX      32         /* MAX_ADDR_LEN in the kernel */
#define E6_NL_MAX_NEXTHOPS    16         /* ECMP nexthops kept per route */
#define E6_NL_TABLE_MAIN      254        /* RT_TABLE_MAIN */
#define E6_NL_TABLE_LOCAL     255        /* RT_TABLE_LOCAL */
#define E6_NL_IFINDEX_ALL     (-1)       /* netconf net.ipv6.conf.all */
#define E6_NL_IFINDEX_DEFAULT (-2)       /* netconf net.ipv6.conf.default */

/* ---- cached objects ---------------------------------------------------- */

struct e6_nl_link {
    int ifindex;
    char name[E6_NL_IFNAMSIZ];
    uint32_t flags; /* IFF_* as the kernel reports them */
    bool up;        /* IFF_UP: administratively up */
    bool running;   /* IFF_RUNNING: carrier and operationally up */
    bool pointopoint;
    bool noarp;
    bool loopback;
    uint32_t mtu;
    uint16_t arptype;   /* ARPHRD_*: ARPHRD_ETHER, ARPHRD_NONE (tun), ARPHRD_SIT ... */
    uint8_t operstate;  /* IF_OPER_* (RFC 2863) */
    uint8_t hwaddr_len; /* 0 when the link has no link-layer address */
    uint8_t hwaddr[E6_NL_HWADDR_MAX];
    int master; /* ifindex of the bridge/bond/vrf it is enslaved to, or 0 */
};

/*
 * true when NDP on this link carries link-layer address options: it has
 * a link-layer address and resolves neighbours (the kernel does no
 * neighbour discovery on NOARP links such as tun, sit or dummy)
 */
static inline bool e6_nl_link_has_lladdr(const struct e6_nl_link *l)
{
    return l->hwaddr_len > 0 && !l->noarp;
}

struct e6_nl_addr {
    int ifindex;
    struct in6_addr addr;
    uint8_t prefixlen;
    uint8_t scope;  /* RT_SCOPE_UNIVERSE, RT_SCOPE_LINK, RT_SCOPE_HOST */
    uint32_t flags; /* IFA_F_* (32-bit, from IFA_FLAGS) */
    bool tentative; /* DAD not finished: not usable as a source yet */
    bool deprecated;
    bool dadfailed;
    bool permanent; /* configured, not learnt from an RA */
    /* seconds remaining at the time of the query; E6_NL_LFT_INFINITE = forever */
    uint32_t preferred_lft;
    uint32_t valid_lft;
};

struct e6_nl_nexthop {
    int ifindex;
    struct in6_addr gateway; /* :: when the destination is on-link */
    uint8_t weight;          /* relative ECMP weight (rtnh_hops + 1); 1 without ECMP */
    uint8_t flags;           /* RTNH_F_ONLINK ...; not LINKDOWN/DEAD: see the link */
};

/*
 * One route as the kernel lists it. Several may share table, dst, src and
 * metric (fe80::/64 on every link, one default route per RA router); they
 * differ by nexthop. An ECMP group is one route with several nexthops,
 * kept sorted by (ifindex, gateway). The lookup's answer is nh[0].
 */
struct e6_nl_route {
    uint32_t table;
    struct e6_prefix dst;
    struct e6_prefix src; /* source-specific routing ("from"); len 0 normally */
    uint32_t metric;
    uint8_t type;     /* RTN_UNICAST, RTN_UNREACHABLE, RTN_BLACKHOLE, RTN_LOCAL ... */
    uint8_t protocol; /* RTPROT_* */
    uint8_t scope;
    uint8_t nhcount; /* 0 for reject routes (unreachable, blackhole, prohibit) */
    struct e6_nl_nexthop nh[E6_NL_MAX_NEXTHOPS];
};

/* IPv6 netconf of one interface (or E6_NL_IFINDEX_ALL / _DEFAULT). -1: not reported. */
struct e6_nl_netconf {
    int ifindex;
    int forwarding;
    int proxy_ndp;
    int mc_forwarding;
    int ignore_routes_with_linkdown;
};

/* a neighbour table entry, read on demand (not cached) */
struct e6_nl_neigh {
    int ifindex;
    struct in6_addr addr;
    uint16_t state; /* NUD_* (NUD_REACHABLE, NUD_STALE, NUD_FAILED ...); 0 for proxy entries */
    uint8_t flags;  /* NTF_* (NTF_ROUTER, NTF_PROXY) */
    uint8_t lladdr_len;
    uint8_t lladdr[E6_NL_HWADDR_MAX];
};

/* ---- events -------------------------------------------------------------- */

enum e6_nl_kind {
    E6_NL_LINK = 1u << 0,
    E6_NL_ADDR = 1u << 1,
    E6_NL_ROUTE = 1u << 2,
    E6_NL_NETCONF = 1u << 3,
    E6_NL_RESYNC = 1u << 4, /* the caches were refilled after an overrun */
};
#define E6_NL_ALL (E6_NL_LINK | E6_NL_ADDR | E6_NL_ROUTE | E6_NL_NETCONF | E6_NL_RESYNC)

enum e6_nl_action {
    E6_NL_NEW,    /* old == NULL */
    E6_NL_CHANGE, /* old and cur both set */
    E6_NL_DEL,    /* cur == NULL */
};

/*
 * One change. The pointers are valid only during the callback. ifindex is
 * the link's / address's / netconf's interface, and for a route the
 * interface of its first nexthop (0 for reject routes); 0 for RESYNC.
 * Order is the kernel's: a link comes before its addresses and routes and
 * goes after them, but its netconf is announced before the link itself.
 */
struct e6_nl_event {
    enum e6_nl_kind kind;
    enum e6_nl_action action;
    int ifindex;
    union {
        struct {
            const struct e6_nl_link *old, *cur;
        } link;
        struct {
            const struct e6_nl_addr *old, *cur;
        } addr;
        struct {
            const struct e6_nl_route *old, *cur;
        } route;
        struct {
            const struct e6_nl_netconf *old, *cur;
        } netconf;
    } u;
};

/*
 * A subscriber may query the caches and make changes from its callback. It
 * must not call e6_nl_process(), e6_nl_resync() or e6_nl_free() from it.
 */
typedef void (*e6_nl_cb)(const struct e6_nl_event *ev, void *arg);

/* ---- life cycle -------------------------------------------------------- */

/*
 * Opens both sockets, subscribes, and fills the caches with dumps.
 * 0 or -errno (-EPERM/-EACCES from the kernel are passed on).
 */
int e6_nl_open(struct e6_nl **out);
void e6_nl_free(struct e6_nl *nl);

/* The event socket, for EPOLLIN, level-triggered. */
int e6_nl_fd(const struct e6_nl *nl);
/*
 * Reads and applies pending events, resynchronising after an overrun.
 * 0, or -errno when the socket failed or a needed resync could not
 * complete. Single-threaded: call it from the thread that owns nl.
 */
int e6_nl_process(struct e6_nl *nl);
/*
 * Dumps every table into the caches now (after discarding queued events,
 * which the dump supersedes); reports differences and RESYNC. 0 or -errno.
 */
int e6_nl_resync(struct e6_nl *nl);
/*
 * true when a resync is owed (an overrun, or a kernel change our caches
 * could not follow exactly) and the last attempt failed: the fd may stay
 * quiet, so the caller should retry e6_nl_resync() from a timer.
 */
bool e6_nl_resync_pending(const struct e6_nl *nl);
/*
 * Receive buffer of the event socket in bytes (the kernel doubles it and
 * enforces a minimum). Opened with 4 MiB; privileged callers get that
 * size even beyond net.core.rmem_max. 0 or -errno.
 */
int e6_nl_set_rcvbuf(struct e6_nl *nl, int bytes);

/* The kernel's extended-ack message for the last failed request, or "". */
const char *e6_nl_errmsg(const struct e6_nl *nl);

struct e6_nl_stats {
    uint64_t events;      /* rtnetlink messages applied from the event socket */
    uint64_t overruns;    /* ENOBUFS (or truncated datagrams) seen on the event socket */
    uint64_t resyncs;     /* completed full resynchronisations (not counting open) */
    uint64_t discarded;   /* queued messages dropped on overrun, before the dump */
    uint64_t foreign;     /* datagrams on the event socket not sent by the kernel */
    uint64_t unparseable; /* malformed messages, ignored */
};
void e6_nl_get_stats(const struct e6_nl *nl, struct e6_nl_stats *out);

/*
 * Subscribe to the kinds in mask (E6_NL_LINK | ...). Returns a handle >= 0
 * for e6_nl_unsubscribe(), or -ENOSPC (at most 16 subscribers) / -EINVAL.
 * Subscribers are called in the order they subscribed.
 */
int e6_nl_subscribe(struct e6_nl *nl, unsigned mask, e6_nl_cb cb, void *arg);
void e6_nl_unsubscribe(struct e6_nl *nl, int handle);

/* ---- queries (from the caches) ----------------------------------------- */

/* 0 or -ENOENT */
int e6_nl_link_by_index(const struct e6_nl *nl, int ifindex, struct e6_nl_link *out);
int e6_nl_link_by_name(const struct e6_nl *nl, const char *name, struct e6_nl_link *out);
/* Copies up to max links into out; returns how many exist. */
size_t e6_nl_links(const struct e6_nl *nl, struct e6_nl_link *out, size_t max);

/*
 * The IPv6 addresses of a link (ifindex 0: of every link), in no
 * particular order: copies up to max into out, returns how many there
 * are. Lifetimes count down from the kernel's last report.
 */
size_t e6_nl_addrs(const struct e6_nl *nl, int ifindex, struct e6_nl_addr *out, size_t max);
/* 0 or -ENOENT */
int e6_nl_addr_get(const struct e6_nl *nl, int ifindex, const struct in6_addr *a,
                   struct e6_nl_addr *out);
/*
 * The link-local address of a link to use as a source (RAs, NAs): the
 * lowest fe80::/10 address that finished DAD (optimistic ones count), so
 * the choice is stable. 0; -EAGAIN when the only link-local addresses are
 * still tentative; -ENOENT when there is none usable (none at all, or only
 * dadfailed ones). The kernel announces an address it configured itself
 * only when its DAD is over, so during that DAD this is -ENOENT too; the
 * ADDR event that follows says when to ask again.
 */
int e6_nl_link_local(const struct e6_nl *nl, int ifindex, struct in6_addr *out);

/* IPv6 forwarding of a link (or E6_NL_IFINDEX_ALL): 0 or 1, or -ENOENT. */
int e6_nl_forwarding(const struct e6_nl *nl, int ifindex);
/* 0 or -ENOENT */
int e6_nl_netconf_get(const struct e6_nl *nl, int ifindex, struct e6_nl_netconf *out);

/*
 * Longest-prefix match of dst over the cached IPv6 routes of one table
 * (0 means main), like the kernel's FIB lookup without policy rules:
 * longest prefix first, then lowest metric. Source-specific routes are
 * skipped, and so is the kernel's choice between equal routes on several
 * links (fe80::/64), which needs an outgoing interface. The winner may be
 * a reject route (type RTN_UNREACHABLE ..., nhcount 0): the caller decides
 * what "unreachable" means to it. The answer is nh[0].ifindex and
 * nh[0].gateway. A linear scan: fine for an edge box's table, not for a
 * full BGP feed. 0 or -ENOENT (no route covers dst, not even a default).
 */
int e6_nl_route_lookup(const struct e6_nl *nl, const struct in6_addr *dst, uint32_t table,
                       struct e6_nl_route *out);
/* Routes of a table (0: every table); copies up to max, returns how many. */
size_t e6_nl_routes(const struct e6_nl *nl, uint32_t table, struct e6_nl_route *out, size_t max);

/* ---- changes (synchronous, 0 or -errno from the kernel) -------------------- */

struct e6_nl_addr_opts {
    bool nodad;             /* IFA_F_NODAD: usable at once, no Duplicate Address Detection */
    bool noprefixroute;     /* IFA_F_NOPREFIXROUTE: no on-link route for the prefix */
    bool replace;           /* update an existing address instead of failing with -EEXIST */
    bool lifetimes;         /* use preferred_lft / valid_lft; otherwise both forever */
    uint32_t preferred_lft; /* seconds, or E6_NL_LFT_INFINITE */
    uint32_t valid_lft;
};
/* opts may be NULL: permanent, with DAD. */
int e6_nl_addr_add(struct e6_nl *nl, int ifindex, const struct in6_addr *a, unsigned prefixlen,
                   const struct e6_nl_addr_opts *opts);
int e6_nl_addr_del(struct e6_nl *nl, int ifindex, const struct in6_addr *a, unsigned prefixlen);

struct e6_nl_route_spec {
    struct e6_prefix dst;
    int ifindex;             /* 0: none (reject routes use loopback) */
    struct in6_addr gateway; /* :: for an on-link route */
    uint32_t table;          /* 0: main */
    uint32_t metric;         /* 0: kernel default (1024) on add, any on delete */
    uint8_t type;            /* 0 or RTN_UNICAST; RTN_UNREACHABLE, RTN_BLACKHOLE, RTN_PROHIBIT */
    uint8_t protocol;        /* 0: RTPROT_STATIC on add, any on delete */
};
/* replace: NLM_F_REPLACE (create or overwrite); otherwise -EEXIST if present. */
int e6_nl_route_add(struct e6_nl *nl, const struct e6_nl_route_spec *r, bool replace);
/* Deletes the route matching the set fields; -ESRCH when none matches. */
int e6_nl_route_del(struct e6_nl *nl, const struct e6_nl_route_spec *r);

/* Proxy NDP entries (ip -6 neigh add proxy ADDR dev IF). Adding twice is not an error. */
int e6_nl_proxy_add(struct e6_nl *nl, int ifindex, const struct in6_addr *a);
/* -ENOENT when there is no such entry */
int e6_nl_proxy_del(struct e6_nl *nl, int ifindex, const struct in6_addr *a);
/* 0 when the proxy entry exists, -ENOENT when not */
int e6_nl_proxy_get(struct e6_nl *nl, int ifindex, const struct in6_addr *a);

/* The kernel's neighbour entry for a on ifindex: 0 or -ENOENT (asks the kernel). */
int e6_nl_neigh_get(struct e6_nl *nl, int ifindex, const struct in6_addr *a,
                    struct e6_nl_neigh *out);
/*
 * Dumps the IPv6 neighbour entries (proxy: the proxy entries instead) of a
 * link (ifindex 0: every link), calling cb for each. Returns the count.
 */
int e6_nl_neigh_dump(struct e6_nl *nl, int ifindex, bool proxy,
                     void (*cb)(const struct e6_nl_neigh *n, void *arg), void *arg);
/* "reachable", "stale", "permanent" ... for logs; "none" for 0 */
const char *e6_nl_nud_name(uint16_t state);

/* Link changes (TUN setup): administrative state, MTU. */
int e6_nl_link_set_up(struct e6_nl *nl, int ifindex, bool up);
int e6_nl_link_set_mtu(struct e6_nl *nl, int ifindex, uint32_t mtu);

#endif
