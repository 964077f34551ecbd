/*
 * tunnel/sixbed4: the pure 6bed4 decisions (draft-vanrein-6bed4, wire
 * format of the reference 6bed4router/6bed4peer, facts in
 * ../shared/reference/ndp-tunnel-anchors.md section 3; the address codec
 * is common/sixbed4). No sockets, no clock, no threads: the shell
 * (tunnel/io_6bed4*) reads a datagram or a TUN packet, asks here what to
 * do with it, and does it.
 *
 * Router side: a UDP datagram from a peer is an empty keepalive, a Router
 * Solicitation (answered over UDP with a Router Advertisement whose Prefix
 * Information is the peer's /114, derived from the IPv4 address and port
 * the router observed), a Neighbor Solicitation for one of the router's
 * own addresses (answered with an NA), or IPv6 to forward: accepted only
 * from a valid originator (the IPv4:port embedded in the IPv6 source
 * equals the datagram's source; a mismatch from a 6bed4 address of our
 * /64 is a NAT rebinding and gets a fresh RA instead), then hair-pinned
 * straight to another peer of the /64 (hop limit decremented here, the
 * only router on that path), or written into the TUN (port word 0: local
 * servers; everything else: the kernel routes it and decrements the hop
 * limit itself). A packet from the TUN goes to the IPv4:port embedded in
 * its destination when that is a 6bed4 address of the /64.
 *
 * Peer side: RS builder, RA parser (the /114, MTU, routes), what to do with
 * a datagram from the router and with a packet from the TUN, the RS
 * back-off.
 *
 * Peer table: who is live (RS, keepalives, traffic), bounded, with
 * eviction classes so a flood of solicitations from forged sources churns
 * only unproven entries; fake-clock friendly (times are passed in).
 */
#ifndef E6_TUNNEL_SIXBED4_H
#define E6_TUNNEL_SIXBED4_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "common/htable.h"

/* RA and NA we build fit in this (RA with MTU, PIO and 16 RIOs: 40+16+8+32+16*24) */
#define TB4_REPLY_MAX 1024
/* Route Information options one RA carries (conf: routes, at most 16) */
#define TB4_MAX_ROUTES 16
/* The 6bed4 link MTU (the reference router and peer use nothing else) */
#define TB4_MTU 1280
/* Router Lifetime in our RAs (RFC 4861 6.2.1 default: 3 x 600 s) */
#define TB4_ROUTER_LIFETIME 1800

/* An IPv4 endpoint; port in host order. */
struct tb4_endpoint {
    struct in_addr addr;
    uint16_t port;
};

/* Why a packet was not forwarded (each one a counter "drop_<name>"). */
enum tb4_drop {
    TB4_OK = 0,
    TB4_D_SHORT,       /* not empty, yet shorter than an IPv6 header */
    TB4_D_NOT_IPV6,    /* version, payload length (e6_ip6_parse refused it) */
    TB4_D_MULTICAST,   /* multicast destination (other than an RS/NS to us) */
    TB4_D_ND_HOPLIMIT, /* ND message with hop limit != 255 */
    TB4_D_ND_INVALID,  /* ND message failing RFC 4861 checks (checksum, code, length) */
    TB4_D_ND_OTHER,    /* ND other than RS, and NS for one of our addresses */
    TB4_D_SPOOFED,     /* source not a 6bed4 address of our /64 (router) */
    TB4_D_REBIND,      /* 6bed4 source of our /64, endpoint differs: an RA answers it */
    TB4_D_HOP_LIMIT,   /* hair-pin with hop limit <= 1 */
    TB4_D_NOT_PEER,    /* from the TUN: destination not a 6bed4 address of our /64; from the
                          TUN or hair-pin: one whose IPv4 is no remote unicast host (0/8,
                          127/8, 224/4, 240/4, the router's own) */
    TB4_D_NOT_OURS,    /* peer: destination not our address, or source (TUN) not ours */
    TB4_D_NO_PREFIX,   /* peer: data before the router gave us a prefix */
    TB4_D_BAD_RA,      /* peer: an RA without a usable /114 (or not from fe80::/10) */
    TB4_D_NOT_LIVE,    /* router with a peer table (decided by the shell): the endpoint in
                          the destination is not a live peer; never sent to, so nobody can
                          aim the router's UDP at an IPv4:port of their choosing */
    TB4_D__COUNT
};
const char *tb4_drop_name(enum tb4_drop d);

enum tb4_action {
    TB4_A_DROP,      /* why says which */
    TB4_A_KEEPALIVE, /* empty datagram: refresh the sender in the peer table */
    TB4_A_TUN,       /* write the packet into the TUN */
    TB4_A_UDP,       /* send the packet over UDP to ep */
    TB4_A_REPLY,     /* send reply[0..reply_len) over UDP back to the sender */
    TB4_A_RA,        /* peer: an RA from the router was parsed into ra (tb4_peer_from_udp) */
};

struct tb4_ra_info {
    struct e6_prefix pio; /* the /114 (L and A set) */
    uint32_t mtu;         /* 0 when absent */
    uint16_t router_lifetime;
    struct e6_prefix routes[TB4_MAX_ROUTES]; /* RFC 4191 Route Information, lifetime > 0 */
    size_t n_routes;
};

struct tb4_verdict {
    enum tb4_action action;
    enum tb4_drop why;      /* TB4_OK unless DROP; REPLY to a rebinding: TB4_D_REBIND */
    struct tb4_endpoint ep; /* UDP: where to */
    bool hairpin;           /* UDP from the router's decap side: peer to peer */
    bool local;             /* TUN: port word 0 of our /64 (a local server) */
    bool live;              /* the sender proved itself: refresh/insert it in the peer table */
    uint8_t reply_type;     /* REPLY: ND_ROUTER_ADVERT or ND_NEIGHBOR_ADVERT */
    size_t reply_len;
    struct tb4_ra_info ra; /* RA (peer side) */
};

/* ---- router ------------------------------------------------------------ */

struct tb4_router_cfg {
    struct in6_addr prefix;         /* the /64 (bytes 8..15 zero) */
    struct tb4_endpoint self;       /* where the router listens (the NA's link-layer option) */
    const struct e6_prefix *routes; /* offered as RFC 4191 RIOs */
    size_t n_routes;
};

/*
 * A datagram of len bytes (0: keepalive) from `from`. pkt may be modified
 * (the hop limit of a hair-pinned packet). reply must hold TB4_REPLY_MAX
 * bytes; it is written for TB4_A_REPLY. Never reads past len.
 */
void tb4_router_from_udp(const struct tb4_router_cfg *r, uint8_t *pkt, size_t len,
                         struct tb4_endpoint from, uint8_t *reply, struct tb4_verdict *v);

/* A packet the kernel routed into the TUN (its hop limit already decremented). */
void tb4_router_from_tun(const struct tb4_router_cfg *r, const uint8_t *pkt, size_t len,
                         struct tb4_verdict *v);

/*
 * The RA for a peer at `peer`: IPv6 from fe80:: to dst (the RS's source, or
 * ff02::1 when that was ::), hop limit 255, Router Lifetime
 * TB4_ROUTER_LIFETIME, MTU option TB4_MTU, the peer's /114 as PIO (L, A,
 * infinite lifetimes, as the reference router sends), one RIO per route.
 * Returns the length, 0 when cap is too small or peer.port is 0.
 */
size_t tb4_build_ra(const struct tb4_router_cfg *r, struct tb4_endpoint peer,
                    const struct in6_addr *dst, uint8_t *buf, size_t cap);

/* ---- peer -------------------------------------------------------------- */

/*
 * The RS a peer sends: IPv6 from :: to ff02::2, hop limit 255, one Source
 * Link-Layer Address option 00:00:00:00:00:01 (what the reference router
 * requires). Returns the length, 0 when cap is too small.
 */
size_t tb4_build_rs(uint8_t *buf, size_t cap);

/*
 * An RA (whole IPv6 packet): from fe80::/10, hop limit 255, valid ICMPv6,
 * with one PIO of length E6_6BED4_PEER_PREFIXLEN with L and A set whose
 * address has the 6bed4 form. TB4_OK and *out filled, or TB4_D_BAD_RA /
 * TB4_D_ND_HOPLIMIT / TB4_D_ND_INVALID / TB4_D_NOT_IPV6.
 */
enum tb4_drop tb4_parse_ra(const uint8_t *pkt, size_t len, struct tb4_ra_info *out);

/*
 * A datagram from the router (the shell checked its endpoint). self: our
 * address (prefix | lanip 1), NULL before we have one. RA -> TB4_A_RA with
 * v->ra; IPv6 to self (or another lanip of our /114) -> TB4_A_TUN; the
 * rest dropped.
 */
void tb4_peer_from_udp(const struct in6_addr *self, const uint8_t *pkt, size_t len,
                       struct tb4_verdict *v);

/*
 * A packet from the peer's TUN: to the router (TB4_A_UDP, ep unset: the
 * shell sends to the router) when its source is in our /114 and it is not
 * multicast nor ND; else dropped.
 */
void tb4_peer_from_tun(const struct in6_addr *self, const uint8_t *pkt, size_t len,
                       struct tb4_verdict *v);

/* Our address from the RA's /114: lanip 1 (the reference peer's choice). */
bool tb4_peer_address(const struct e6_prefix *pio, struct in6_addr *out);

/*
 * Milliseconds to wait before RS number `sent` + 1 (sent >= 1 already
 * sent): 1, 3, 7, 15 s, then 30 s (the reference peer's back-off).
 */
uint32_t tb4_rs_backoff_ms(unsigned sent);

/* ---- peer table (router) ----------------------------------------------- */

/* A peer that only solicited is "solicited"; one that sent traffic or a
 * keepalive after its RA is "active" (a higher eviction class). */
enum tb4_peer_class {
    TB4_PEER_SOLICITED = 0,
    TB4_PEER_ACTIVE = 1,
};

struct tb4_peer {
    struct e6_hentry h;
    struct tb4_endpoint key; /* hashed as addr (4 bytes) + port (2 bytes), padding zeroed */
    uint64_t first_ms, last_ms;
    uint64_t packets; /* datagrams counted in by touches */
    enum tb4_peer_class cls;
    /* deadline list (oldest last_ms first) for expiry without a scan */
    struct tb4_peer *prev, *next;
};

struct tb4_peers {
    struct e6_htable t;
    uint32_t timeout_ms;
    struct tb4_peer *oldest, *newest;
    uint64_t inserted, expired, evicted, refused;
    /* entry memory: chunks allocated as the table grows to its bound, then
     * recycled through free_list, so a touch never allocates once warm */
    struct tb4_peer *free_list;
    void *chunks;
    size_t allocated;
};

/*
 * bound >= 1, timeout_ms >= 1. 0 or -errno. A now_ms earlier than the
 * newest entry's last_ms counts as that one (the expiry list stays sorted).
 */
int tb4_peers_init(struct tb4_peers *p, size_t bound, uint32_t timeout_ms);
void tb4_peers_destroy(struct tb4_peers *p);

/*
 * ep was heard from at now_ms (packets datagrams). cls: what this proved
 * (an RS: SOLICITED; a valid originator's packet: ACTIVE); an entry is
 * never demoted. Inserts when absent (evicting per common/htable's rule).
 * 1 inserted, 0 refreshed, -ENOSPC (full of higher classes), -ENOMEM.
 */
int tb4_peers_touch(struct tb4_peers *p, struct tb4_endpoint ep, enum tb4_peer_class cls,
                    uint64_t packets, uint64_t now_ms);

/* A keepalive: refresh (and promote to ACTIVE) only when ep is present. */
bool tb4_peers_keepalive(struct tb4_peers *p, struct tb4_endpoint ep, uint64_t now_ms);

/* ep is present and heard from within the timeout. */
bool tb4_peers_live(const struct tb4_peers *p, struct tb4_endpoint ep, uint64_t now_ms);

/* Remove every entry silent for timeout_ms or more; returns how many. */
size_t tb4_peers_expire(struct tb4_peers *p, uint64_t now_ms);

/* When the next entry expires (UINT64_MAX when empty). */
uint64_t tb4_peers_next_expiry(const struct tb4_peers *p);

size_t tb4_peers_count(const struct tb4_peers *p);

/* Visit every entry, most recently heard first; stop when fn returns false. */
void tb4_peers_foreach(const struct tb4_peers *p, bool (*fn)(const struct tb4_peer *, void *),
                       void *arg);

#endif
