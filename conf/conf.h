/*
 * conf: the configuration file. libconfuse parses edge6d.conf against the
 * schema of the whole product; validation then turns it into an immutable,
 * typed `struct conf`. Every problem is reported as
 * "FILE:LINE: what is wrong (what was expected)", single-field and
 * cross-field checks alike, so `edge6d -t`, startup and reload run exactly
 * the same checks. Nothing here touches the system.
 */
#ifndef E6_CONF_CONF_H
#define E6_CONF_CONF_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "common/log.h"

/* One error line, already formatted "FILE:LINE: message". */
typedef void (*conf_report_fn)(void *arg, const char *msg);

struct conf_global {
    char *user;                  /* run as; default "edge6" */
    char *control_socket;        /* default E6_RUNDIR "/edge6d.sock" */
    char *state_dir;             /* default E6_STATEDIR */
    enum e6_log_level log_level; /* default info */
    /* "manage-sysctls", default no: set net.ipv6.conf.IF.forwarding=1 (and all) on the
       interfaces edge6d routes between instead of only reporting it missing */
    bool manage_sysctls;
};

/* Lifetimes in seconds; this value means "infinity" on the wire. */
#define CONF_LIFETIME_INFINITY 0xffffffffu

/* RFC 4191 2.1 preference, as encoded in the 2-bit Prf fields. */
enum conf_ra_preference {
    CONF_PREF_MEDIUM = 0, /* 00 */
    CONF_PREF_HIGH = 1,   /* 01 */
    CONF_PREF_LOW = 3,    /* 11 */
};

enum conf_ra_mtu_mode {
    CONF_MTU_OFF,   /* no MTU option */
    CONF_MTU_AUTO,  /* the interface's MTU, followed through netlink */
    CONF_MTU_VALUE, /* conf_interface.mtu */
};

enum conf_tristate {
    CONF_TRI_AUTO = -1,
    CONF_TRI_OFF = 0,
    CONF_TRI_ON = 1,
};

/*
 * prefix P/L { ... } or prefix auto { ... } inside interface. For a static
 * prefix the lifetimes are what is advertised; for `auto` (every global
 * prefix of length <= 64 on the interface, RFC 4862 needs a /64 for SLAAC)
 * they are caps on the kernel's remaining address lifetimes.
 * Defaults: RFC 9096 ND_VALID_LIMIT 5400 s and ND_PREFERRED_LIMIT 2700 s.
 */
struct conf_ra_prefix {
    bool is_auto;
    struct e6_prefix prefix;     /* unset when is_auto */
    bool on_link;                /* L, default yes */
    bool autonomous;             /* A, default yes */
    uint32_t valid_lifetime;     /* default 5400; "infinity" allowed */
    uint32_t preferred_lifetime; /* default 2700; <= valid_lifetime */
    bool decrement; /* count lifetimes down in real time (RFC 4861 6.2.1), default no */
    unsigned line;
};

/* route P/L { preference, lifetime }: RFC 4191 Route Information */
struct conf_ra_route {
    struct e6_prefix prefix;
    enum conf_ra_preference preference; /* default medium */
    uint32_t lifetime;                  /* default 3 x max-interval; max-interval..infinity */
    unsigned line;
};

/* rdnss { servers = {...}, lifetime }: RFC 8106 */
struct conf_ra_rdnss {
    struct in6_addr *servers; /* n_servers entries, none multicast, loopback or :: */
    size_t n_servers;
    bool self;         /* the list contained "auto": our own address on that link */
    uint32_t lifetime; /* default 3 x max-interval (RFC 8106 5.1); 0 not allowed here */
    unsigned line;
};

/* dnssl { domains = {...}, lifetime }: RFC 8106 */
struct conf_ra_dnssl {
    char **domains; /* validated with e6_nd_dns_name_valid */
    size_t n_domains;
    uint32_t lifetime; /* default 3 x max-interval */
    unsigned line;
};

/* pref64 P/L { lifetime }: RFC 8781; L one of 32, 40, 48, 56, 64, 96 */
struct conf_ra_pref64 {
    struct e6_prefix prefix;
    uint32_t lifetime; /* default 3 x max-interval, at most 65528; >= max-interval;
                          as written (the wire rounds it up to a multiple of 8) */
    unsigned line;
};

/* interface NAME { ... }: Router Advertisements on NAME (RFC 4861 6.2.1) */
struct conf_interface {
    char *name;
    unsigned line;

    bool advertise;        /* default yes: the section is the opt-in */
    unsigned max_interval; /* s, 4..65535 (RFC 8319), default 600 */
    /* s, 3..0.75 x max; default max / 3 (>= 3), 0.75 x max when max < 9 */
    unsigned min_interval;
    /* s, 0 or max_interval..65535; default 3 x max, capped at 9000 but never below max */
    unsigned router_lifetime;
    enum conf_ra_preference router_preference; /* default medium */
    unsigned cur_hop_limit;                    /* 0..255, default 64 (0 = unspecified) */
    bool managed;                              /* M, default no */
    bool other_config;                         /* O, default no */
    uint32_t reachable_time;                   /* ms, 0..3600000, default 0 (unspecified) */
    uint32_t retrans_timer;                    /* ms, default 0 (unspecified) */
    enum conf_ra_mtu_mode mtu_mode;            /* default auto */
    unsigned mtu;                              /* 1280..65535 when CONF_MTU_VALUE */
    enum conf_tristate source_lladdr;          /* SLLA option; auto = on iff the link has a MAC */
    bool solicited_unicast;                    /* answer an RS from a unicast source by unicast;
                                                  default yes (RFC 7772) */
    bool withdraw_on_exit; /* final RAs also zero prefix, route and DNS lifetimes;
                              default no */
    char *captive_portal;  /* RFC 8910 API URI, or NULL */

    struct conf_ra_prefix *prefixes; /* in file order; at most one auto */
    size_t n_prefixes;
    struct conf_ra_route *routes;
    size_t n_routes;
    struct conf_ra_rdnss *rdnss;
    size_t n_rdnss;
    struct conf_ra_dnssl *dnssl;
    size_t n_dnssl;
    struct conf_ra_pref64 *pref64;
    size_t n_pref64;
};

/*
 * proxy IFACE { ... rule PREFIX { method = ... } ... }: the NDP proxy on
 * the upstream interface IFACE. A target is handled by the rule with the
 * longest prefix that contains it (file order does not matter; two rules
 * with the same prefix are an error).
 */
enum conf_proxy_method {
    CONF_PROXY_STATIC,  /* answer for every address of the prefix */
    CONF_PROXY_IFACE,   /* answer once the target is confirmed on rule.iface */
    CONF_PROXY_AUTO,    /* like iface, the interface taken from the routing table */
    CONF_PROXY_6BED4,   /* 6bed4 addresses (port word != 0); live peers when known */
    CONF_PROXY_TUNNEL,  /* addresses routed to a client of the 6in4 tunnel rule.tunnel */
    CONF_PROXY_EXCLUDE, /* never answered */
};

/* Source address of our Neighbor Advertisements */
enum conf_na_source {
    CONF_NA_SRC_LINKLOCAL, /* the proxied interface's link-local address (default) */
    CONF_NA_SRC_TARGET,    /* the target address itself (ndpresponder style) */
};

struct conf_rule {
    struct e6_prefix prefix;
    unsigned line;
    enum conf_proxy_method method; /* required */
    char *iface;     /* method iface: required, not the proxied interface; else NULL */
    char *tunnel;    /* method tunnel: required, a 6in4 tunnel of this file;
                        method 6bed4: optional, a 6bed4 tunnel of this file; else NULL */
    bool allow_wide; /* default no; a static rule shorter than /120 needs yes */
};

/* RFC 4861 10: MAX_ANYCAST_DELAY_TIME, the longest answer-delay */
#define CONF_PROXY_MAX_DELAY_MS 1000

struct conf_proxy {
    char *name; /* the proxied (upstream) interface */
    unsigned line;
    bool router;                   /* R flag in our NAs, default yes */
    enum conf_na_source na_source; /* "source", default link-local */
    bool has_target_lladdr;        /* "target-lladdr" set */
    uint8_t target_lladdr[6];      /* unicast MAC for the TLLA option; default: own MAC */
    unsigned sessions;             /* session table bound, 16..1048576, default 8192 */
    unsigned valid_ttl;            /* s, 10..3600, default 30: life of a confirmed target */
    unsigned invalid_ttl;          /* s, 1..3600, default 5: life of an unconfirmed one */
    unsigned retrans_time;         /* ms, 100..10000, default 1000 (RFC 4861 RETRANS_TIMER) */
    unsigned retrans_limit;        /* 1..10, default 3 (MAX_MULTICAST_SOLICIT) */
    unsigned probe_rate;           /* new-target probes per second per asking source,
                                      1..100000, default 100 */
    unsigned answer_delay;         /* ms, 0..1000, default 0: max random delay before
                                      answering a multicast NS (RFC 4861 7.2.8) */
    bool kernel_offload;           /* default no: NTF_PROXY entries for confirmed targets */
    bool autowire;                 /* default no: a /128 route via the confirming iface */
    struct conf_rule *rules;       /* in file order */
    size_t n_rules;
};

enum conf_tunnel_type {
    CONF_TUNNEL_6IN4,
    CONF_TUNNEL_6BED4,
};

/* Which end of the tunnel this box is ("mode"): server|client for 6in4,
 * router|peer for 6bed4 */
enum conf_tunnel_mode {
    CONF_TUN_SERVER, /* 6in4: one TUN for every `client` block (tunnel-broker side, the VPS) */
    CONF_TUN_CLIENT, /* 6in4: one tunnel to `remote` (the home router) */
    CONF_TUN_ROUTER, /* 6bed4: serves peers on a /64 (the VPS) */
    CONF_TUN_PEER,   /* 6bed4: one peer behind NAT, talking to `router` */
};

/* RFC 4213 3.2: a static tunnel MTU sends DF clear; dynamic sets DF and follows ICMPv4 */
enum conf_pmtu {
    CONF_PMTU_STATIC,
    CONF_PMTU_DYNAMIC,
};

/*
 * client NAME { ... } inside a 6in4 server: one tunnel-broker client. The
 * link between server and client is client-address's prefix (a /64 with
 * server ::1 and client ::2, or a /127).
 */
struct conf_tunnel_client {
    char *name;
    unsigned line;
    struct in_addr remote;          /* "remote", required: the client's IPv4 (unicast) */
    struct in6_addr client_address; /* "client-address" ADDR/LEN, required; LEN 64..127 */
    uint8_t client_plen;
    struct in6_addr server_address; /* "server-address": ours on that link; default ::1 of
                                       the prefix (the other end of a /127), never equal to
                                       client-address */
    struct e6_prefix *routed;       /* "routed-prefixes" = { "P/L", ... }: L <= 64, none
                                       overlapping another client's or a link prefix */
    size_t n_routed;
    unsigned mtu; /* 1280..the tunnel's mtu; 0 (default): the tunnel's */
};

/* tunnel NAME { type = 6in4|6bed4 ... } */
struct conf_tunnel {
    char *name; /* also the TUN interface name */
    unsigned line;
    enum conf_tunnel_type type;

    /* both types */
    enum conf_tunnel_mode mode; /* "mode", required: server|client (6in4), router|peer (6bed4) */
    struct in_addr local;       /* "local": our IPv4 address. Required for 6in4 and a 6bed4
                                   router (the address it listens on); a 6bed4 peer:
                                   optional, INADDR_ANY when absent */
    unsigned ttl;               /* outer IPv4 TTL 1..255 of data packets, default 64
                                   (RFC 4213 3.3) */
    unsigned mtu;               /* the TUN's MTU. 6in4: 1280..1480, default 1480 (RFC 4213
                                   3.2); 6bed4: 1280 and nothing else (the only value the
                                   reference peer and router use) */

    /* 6in4 */
    enum conf_pmtu pmtu;       /* "mtu-discovery = static|dynamic", default static */
    enum conf_tristate kernel; /* "kernel = auto|yes|no", default auto: a kernel sit device
                                  when the kernel has one (yes: required), else userspace */
    /* client mode only (refused in server mode; default_route also 6bed4 peer mode) */
    struct in_addr remote;          /* required: the server's IPv4 */
    struct in6_addr client_address; /* "client-address" ADDR/LEN, required; ours */
    uint8_t client_plen;
    struct in6_addr server_address; /* "server-address", default as in a client block */
    bool default_route;             /* "default-route", default yes: ::/0 via the tunnel */
    /* server mode only: at least one */
    struct conf_tunnel_client *clients;
    size_t n_clients;

    /* 6bed4 (draft-vanrein-6bed4; common/sixbed4.h). 6in4 keys are refused
     * in a 6bed4 section and the other way round. */
    uint16_t port; /* "port" 1..65535, default 25790: the router's UDP port (a router
                      listens on it, a peer sends to it) */
    /* router only */
    struct e6_prefix prefix;  /* "prefix", required: the /64 the peers live in (L == 64,
                                 host bits zero, global unicast) */
    struct e6_prefix *routes; /* "routes" = { "P/L", ... }: offered to peers as RFC 4191
                                 Route Information (L 0..128, not multicast, at most 16) */
    size_t n_routes;
    unsigned peers;        /* "peers" 0..1048576, default 16384: bound of the table of live
                              peers (RS, keepalives, traffic), the only endpoints the
                              router sends to; 0: no table, stateless (UDP to any endpoint
                              an address names; a 6bed4 proxy rule then answers for every
                              6bed4 address) */
    unsigned peer_timeout; /* "peer-timeout" seconds 10..86400, default 120: a peer silent
                              that long is no longer live */
    /* peer only */
    struct in_addr router;  /* "router", required: the router's IPv4 (unicast) */
    uint16_t local_port;    /* "local-port" 0..65535, default 0: a random port */
    unsigned keepalive;     /* "keepalive" seconds 1..3600, default 30: an empty UDP
                               datagram to the router keeps the NAT mapping open */
    unsigned keepalive_ttl; /* "keepalive-ttl" 1..255, default 3: reaches the NAT, not the
                               router */
    /* default_route above: also a peer's ("default-route", default yes) */
};

struct conf {
    char *path;
    struct conf_global global;
    struct conf_interface *interfaces;
    size_t n_interfaces;
    struct conf_proxy *proxies;
    size_t n_proxies;
    struct conf_tunnel *tunnels;
    size_t n_tunnels;
};

/*
 * Parse and validate. On success returns the config; on any error reports
 * every problem found through report (may be NULL) and returns NULL.
 * Messages come in line order, "FILE:LINE: ..." ("FILE: ..." for the file
 * as a whole: cannot open, too large); a syntax error ends the parse, so
 * the messages stop there. The result holds only its own memory: nothing
 * in it points into libconfuse or into text. Lines (the `line` fields) are
 * those of each section's title.
 *
 * Not reentrant and not thread-safe: libconfuse's scanner is global. Load
 * from one thread; a struct conf once loaded is read-only and may be read
 * from any thread.
 */
struct conf *conf_load(const char *path, conf_report_fn report, void *arg);
/* Same, from text in memory; name stands for the file in messages. */
struct conf *conf_load_string(const char *text, const char *name, conf_report_fn report, void *arg);
void conf_free(struct conf *c);

const char *conf_tunnel_type_name(enum conf_tunnel_type t);
const char *conf_proxy_method_name(enum conf_proxy_method m);
const struct conf_interface *conf_find_interface(const struct conf *c, const char *name);
const struct conf_proxy *conf_find_proxy(const struct conf *c, const char *name);
const struct conf_tunnel *conf_find_tunnel(const struct conf *c, const char *name);

#endif
