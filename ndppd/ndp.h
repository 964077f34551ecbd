/*
 * ndppd/ndp: the NDP proxy engine for one proxied (upstream) interface. It
 * is pure: the configuration, the upstream link's state, validated
 * Neighbor Solicitations captured upstream, Neighbor Advertisements heard
 * downstream and the time come in as arguments; answers, downstream probes
 * and kernel changes (proxy entries, /128 routes) go out through callbacks,
 * and what it must know about the rest of the box (routes, kernel
 * neighbours, its own addresses, tunnel clients and 6bed4 peers) it asks
 * through callbacks too. It never reads a clock, opens a socket or talks
 * to netlink: ndppd/io (the shell) does.
 *
 * It owns rule matching (longest prefix wins), the RFC 4861 7.2.4 answer
 * (flags, destination, link-layer addresses), the optional 7.2.8 random
 * delay, and the session table of iface/auto rules: a bounded e6_htable
 * whose classes keep confirmed targets safe from a flood of unknown ones,
 * per-state lifetimes, refresh of targets still asked about before they
 * expire, and per-source rate limiting of downstream probes.
 */
#ifndef E6_NDPPD_NDP_H
#define E6_NDPPD_NDP_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/counters.h"
#include "common/nd.h"
#include "common/strbuf.h"
#include "conf/conf.h"

/* Askers remembered per unconfirmed target, answered when it is confirmed */
#define NDP_MAX_ASKERS 4
/* Asking sources whose probe budget is tracked (LRU beyond) */
#define NDP_MAX_SOURCES 1024
/* Answers waiting for their random delay (RFC 4861 7.2.8); beyond: sent at once */
#define NDP_MAX_DELAYED 4096
/*
 * All sources together may start at most this many times probe-rate
 * probes/s for multicast NS, and as many again for unicast NS (NUD of a
 * target the asker had cached; those have no per-source budget)
 */
#define NDP_GLOBAL_PROBE_FACTOR 10

/* Counter indices of the "ndppd" set (one set for all proxies). */
enum ndp_counter {
    NDP_C_NS_SEEN,           /* NS that passed validation and reached the engine */
    NDP_C_NA_SENT,           /* answers sent upstream (all kinds) */
    NDP_C_NA_SENT_DAD,       /* of which to ff02::1 for a DAD probe */
    NDP_C_NA_DELAYED,        /* answers that waited for the 7.2.8 random delay */
    NDP_C_NO_RULE,           /* target outside every rule */
    NDP_C_EXCLUDED,          /* target in an exclude rule */
    NDP_C_LOCAL,             /* target is an address of this box: the kernel answers */
    NDP_C_ROUTE_BACK,        /* auto/tunnel: the route leads back out the proxied iface */
    NDP_C_NO_ROUTE,          /* auto/tunnel: no route, or a reject route */
    NDP_C_NOT_TUNNEL,        /* tunnel: the target is not routed to a client of the tunnel */
    NDP_C_6BED4_PORT0,       /* 6bed4: port word 0 (local address, never proxied) */
    NDP_C_6BED4_DEAD,        /* 6bed4: not a live peer */
    NDP_C_PENDING,           /* NS for a target being probed (answered on confirmation) */
    NDP_C_INVALID,           /* NS for a target known not to answer */
    NDP_C_NO_LINKLOCAL,      /* no answer possible: source link-local missing */
    NDP_C_PROBE_RATELIMITED, /* new target not probed: its source's (or the global) budget */
    NDP_C_SESSION_FULL,      /* new target not probed: table full of confirmed ones */
    NDP_C_PROBE_SENT,        /* NS sent downstream (first tries and retries) */
    NDP_C_REFRESH_SENT,      /* of which refreshes of confirmed targets */
    NDP_C_NA_RECEIVED,       /* downstream NA that matched a session */
    NDP_C_NA_UNMATCHED,      /* downstream NA for no session (ignored) */
    NDP_C_KERNEL_NEIGH,      /* targets confirmed by a kernel neighbour entry */
    NDP_C_CONFIRMED,         /* sessions that became valid */
    NDP_C_EXPIRED,           /* valid sessions that ended (not asked about, or no answer) */
    NDP_C_FAILED,            /* sessions that became invalid (no answer to probes) */
    NDP_C_EVICTED,           /* sessions evicted to make room */
    NDP_C_DELAY_OVERFLOW,    /* answers sent without delay: the delay queue was full */
    NDP_C_IFACE_DOWN,        /* iface: the rule's downstream interface is missing or down */
    NDP_C_REMOVED,           /* sessions ended by reload, interface or route change */
    NDP_C__COUNT,
};
extern const char *const ndp_counter_names[NDP_C__COUNT];

enum ndp_state {
    NDP_S_INCOMPLETE, /* probing downstream; askers wait */
    NDP_S_VALID,      /* confirmed; answered from the table */
    NDP_S_REFRESH,    /* confirmed and still answered, being re-probed before expiry */
    NDP_S_INVALID,    /* probes went unanswered; not answered until it expires */
    NDP_S__COUNT,
};
const char *ndp_state_name(enum ndp_state s);

/* The upstream (proxied) link as the shell sees it through netlink. */
struct ndp_link {
    bool present;
    bool up;
    int ifindex;
    uint8_t lladdr[6]; /* own MAC; lladdr_len 0 on links without one (TUN, 6in4) */
    uint8_t lladdr_len;
    bool have_linklocal;
    struct in6_addr linklocal;
};

/* A validated NS captured on the upstream link. */
struct ndp_ns {
    const struct e6_nd_msg *msg; /* from e6_nd_parse_ip6: src, dst, target, slla */
    const uint8_t *l2src;        /* the frame's Ethernet source, or NULL (no-MAC link) */
};

/*
 * One NA to send upstream. icmp is the whole ICMPv6 message, checksum
 * done. l2dst: the Ethernet destination (the asker's SLLA, else its frame
 * source; 33:33:00:00:00:01 for ff02::1), absent (l2dst_len 0) on links
 * without a MAC, or when neither was known (ndp_ns.l2src NULL on an
 * Ethernet link: the shell should not let that happen). The shell adds the IPv6 header (hop limit
 * 255) and the Ethernet header from l2dst and the link's own MAC.
 */
struct ndp_tx {
    struct in6_addr src;
    struct in6_addr dst;
    uint8_t l2dst[6];
    uint8_t l2dst_len;
    const uint8_t *icmp;
    size_t len;
};

/* Where the kernel routes a target (for auto and tunnel rules). */
struct ndp_route {
    int ifindex;      /* 0 for a reject route */
    bool reject;      /* unreachable, blackhole, prohibit */
    bool via_gateway; /* the next hop is a router, not the target itself */
    bool link_nd;     /* the egress link does neighbour discovery (has a MAC, not NOARP) */
};

/* A downstream interface named by an iface rule. */
struct ndp_iface {
    int ifindex; /* 0: does not exist (now) */
    bool up;
    bool link_nd; /* does neighbour discovery; if not, confirmed by the route instead */
};

/* Answer of a membership question; UNKNOWN when nothing in the daemon knows. */
enum ndp_verdict {
    NDP_NO = 0,
    NDP_YES = 1,
    NDP_UNKNOWN = 2,
};

/* Why a session holds a kernel change, for session_up/down. */
struct ndp_session_info {
    struct in6_addr target;
    int ifindex; /* downstream interface that confirmed it */
    enum ndp_state state;
};

struct ndp_ops {
    /* Send an answer upstream now. */
    void (*send_na)(void *arg, const struct ndp_tx *tx);
    /*
     * Probe target on ifindex: an NS to its solicited-node group (unicast
     * to target when unicast is set: a refresh), from that link's
     * link-local address with our SLLA. Returns false when it could not be
     * sent (no link-local yet, link down): counts as an unanswered try.
     */
    bool (*send_probe)(void *arg, int ifindex, const struct in6_addr *target, bool unicast);
    /* Routing table lookup. 0, or -ENOENT when nothing covers target. */
    int (*route)(void *arg, const struct in6_addr *target, struct ndp_route *out);
    /* An interface named by a rule (iface rules; tunnel rules for the TUN's ifindex). */
    void (*iface)(void *arg, const char *name, struct ndp_iface *out);
    /*
     * Does the kernel already hold a usable neighbour entry (REACHABLE,
     * PERMANENT, NOARP) for target on ifindex? A fresh confirmation.
     */
    bool (*kernel_neigh)(void *arg, int ifindex, const struct in6_addr *target);
    /* Is target an address of this box (any interface)? Never proxied. */
    bool (*is_local)(void *arg, const struct in6_addr *target);
    /*
     * 6bed4 rules (tunnel may be NULL): is target a live peer? tunnel
     * rules: is target a link address or inside a routed prefix of a
     * client of the tunnel? NDP_UNKNOWN when no tunnel module knows: the
     * engine then falls back to the port-word check (6bed4) or to the
     * route (tunnel: routed out the tunnel's interface).
     */
    enum ndp_verdict (*member)(void *arg, enum conf_proxy_method m, const char *tunnel,
                               const struct in6_addr *target);
    /*
     * A session became valid (up) or stopped being answered (down: invalid,
     * expired, evicted, removed by reload or stop). The shell installs and
     * removes kernel proxy entries and autowire routes from these; every
     * up is matched by exactly one down.
     */
    void (*session_up)(void *arg, const struct ndp_session_info *s);
    void (*session_down)(void *arg, const struct ndp_session_info *s);
    /* Uniform [0, 2^32); for the random delay. */
    uint32_t (*rand)(void *arg);
};

struct ndp_proxy;

/*
 * A new engine for cfg (which must stay valid until ndp_proxy_set_config
 * hands a new one, or ndp_proxy_free). ops and arg stay valid for the
 * engine's life. cnt: the shell's counter block. NULL on allocation
 * failure.
 */
struct ndp_proxy *ndp_proxy_new(const struct conf_proxy *cfg, const struct ndp_ops *ops, void *arg,
                                e6_counter_block cnt, uint64_t now_ms);
/* Ends every session (session_down for those that were up), frees. */
void ndp_proxy_free(struct ndp_proxy *p);

/*
 * Reload. Sessions whose target still falls under an iface/auto rule with
 * the same downstream stay (valid ones keep answering); the others end.
 * A smaller bound evicts down to it (lowest class, least recently used
 * first). New TTLs apply from each session's next transition.
 */
void ndp_proxy_set_config(struct ndp_proxy *p, const struct conf_proxy *cfg, uint64_t now_ms);

/* The upstream link changed (netlink event or resync). */
void ndp_proxy_set_link(struct ndp_proxy *p, const struct ndp_link *link, uint64_t now_ms);

/*
 * A downstream interface went away (or changed so sessions on it are no
 * longer true, e.g. MAC change there): its sessions end. Also called when
 * routes change, with ifindex 0, so auto sessions whose route now points
 * elsewhere end.
 */
void ndp_proxy_iface_changed(struct ndp_proxy *p, int ifindex, uint64_t now_ms);

/* A valid NS arrived on the upstream link. The hot path: no allocation for static rules. */
void ndp_proxy_on_ns(struct ndp_proxy *p, const struct ndp_ns *ns, uint64_t now_ms);

/*
 * A valid NA for target arrived on downstream ifindex (solicited or not).
 * Confirms a session probing or refreshing it there; answers its askers.
 */
void ndp_proxy_on_na(struct ndp_proxy *p, int ifindex, const struct in6_addr *target,
                     uint64_t now_ms);

/* When ndp_proxy_run next has something to do (UINT64_MAX: nothing). */
uint64_t ndp_proxy_next(const struct ndp_proxy *p);
/* Retransmit probes, expire and refresh sessions, send delayed answers. */
void ndp_proxy_run(struct ndp_proxy *p, uint64_t now_ms);

/* Number of sessions in each state (index enum ndp_state), for counters and views. */
void ndp_proxy_session_counts(const struct ndp_proxy *p, size_t out[NDP_S__COUNT]);
size_t ndp_proxy_session_total(const struct ndp_proxy *p);

/* One session, for `edge6ctl neighbors`. */
struct ndp_session_view {
    struct in6_addr target;
    enum ndp_state state;
    int ifindex; /* downstream */
    enum conf_proxy_method method;
    struct e6_prefix rule; /* the rule's prefix */
    uint64_t expires_ms;   /* engine clock */
    unsigned tries;        /* probes sent in this state */
    unsigned askers;       /* waiting (incomplete) */
    uint64_t asked;        /* NS answered or pending for it */
};
/* Visit every session (any order). */
void ndp_proxy_foreach(const struct ndp_proxy *p,
                       void (*fn)(void *arg, const struct ndp_session_view *s), void *arg);

/*
 * The NA for an NS: what RFC 4861 7.2.4 says a proxy answers, exposed for
 * the unit tests and the fuzz target. Writes into buf (at least 32 bytes)
 * and fills tx (tx->icmp = buf). false when no answer can be built (no
 * link-local source on the link with source = link-local).
 */
bool ndp_build_na(const struct conf_proxy *cfg, const struct ndp_link *link,
                  const struct ndp_ns *ns, uint8_t *buf, size_t cap, struct ndp_tx *tx);

/*
 * The rule that decides target (longest prefix that contains it), or NULL.
 * Exposed for tests.
 */
const struct conf_rule *ndp_match_rule(const struct conf_proxy *cfg, const struct in6_addr *target);

#endif
