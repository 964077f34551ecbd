/*
 * tunnel/sixin4: the decisions of the 6in4 fast path (RFC 4213), pure and
 * allocation-free per packet: which client an IPv6 packet read from the
 * TUN goes to (longest-prefix match over every client's link prefix and
 * routed prefixes), whether a protocol-41 packet received on the IPv4
 * side may be delivered (outer source = a configured remote, inner source
 * = what that client may send), the ICMPv6 Packet Too Big a too-large
 * packet earns, and the translation of an ICMPv4 "fragmentation needed"
 * about one of our encapsulated packets into a Packet Too Big toward the
 * inner source (RFC 4213 3.4).
 *
 * A tun_table is an immutable snapshot built from one `tunnel` section:
 * the worker threads read it without locks while the control plane builds
 * the next one and swaps it in (tunnel/io).
 */
#ifndef E6_TUNNEL_SIXIN4_H
#define E6_TUNNEL_SIXIN4_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "conf/conf.h"

#define TUN_IPV4_HDR_LEN 20 /* we send no IPv4 options */
#define TUN_6IN4_PROTO   41
/* the biggest outer packet a 1500-byte IPv4 path carries */
#define TUN_6IN4_MAX_MTU 1480

/* One client of a server-mode tunnel (or the server, seen from a client). */
struct tun_client {
    char name[64];
    struct in_addr remote;
    uint32_t mtu;                   /* effective: the client's, else the tunnel's */
    struct in6_addr client_address; /* its link address */
    struct in6_addr server_address; /* ours on its link */
    struct e6_prefix link;          /* client-address/LEN masked */
    size_t index;                   /* position in the table, for per-client counters */
};

struct tun_table;

/*
 * Snapshot of a 6in4 tunnel section (server: one entry per client;
 * client: one entry for the server, whose prefixes are ::/0). NULL with
 * err on allocation failure or a section conf/ should have refused.
 */
struct tun_table *tun_table_build(const struct conf_tunnel *t, char *err, size_t errlen);
void tun_table_free(struct tun_table *t);
size_t tun_table_count(const struct tun_table *t);
const struct tun_client *tun_table_at(const struct tun_table *t, size_t i);
/* longest-prefix match of an IPv6 destination over link and routed prefixes */
const struct tun_client *tun_table_by_dst(const struct tun_table *t, const struct in6_addr *dst);
/* the client whose remote is this IPv4 address */
const struct tun_client *tun_table_by_remote(const struct tun_table *t, struct in_addr remote);
/*
 * May c send from src? Server mode: its client-address, an address inside
 * one of its routed prefixes, or a link-local address. Client mode (the
 * server is the internet): anything but our own prefixes' spoofs is not
 * checkable, so everything not multicast/unspecified/loopback.
 */
bool tun_table_may_send(const struct tun_table *t, const struct tun_client *c,
                        const struct in6_addr *src);
/* 6in4 mode of the table */
bool tun_table_is_server(const struct tun_table *t);

/* Why a packet was not passed on; stable names for counters. */
enum tun_drop {
    TUN_OK = 0,
    TUN_D_SHORT,          /* shorter than the headers it claims */
    TUN_D_NOT_IPV4,       /* outer header not IPv4, or header length/ total length wrong */
    TUN_D_NOT_41,         /* outer protocol is not 41 */
    TUN_D_FRAGMENT,       /* outer IPv4 fragment (the kernel reassembles before raw sockets
                             see it; a fragment here is malformed) */
    TUN_D_UNKNOWN_REMOTE, /* outer source is no configured remote (RFC 4213 3.8) */
    TUN_D_WRONG_LOCAL,    /* outer destination is not our local address */
    TUN_D_NOT_IPV6,       /* inner packet not IPv6 or its length disagrees */
    TUN_D_INNER_SPOOF,    /* inner source not what that client may send */
    TUN_D_INNER_BAD_SRC,  /* inner source multicast, unspecified or loopback */
    TUN_D_NO_CLIENT,      /* TUN packet to a destination no client owns */
    TUN_D_TOO_BIG,        /* TUN packet over the client's MTU (a Packet Too Big is due) */
    TUN_D__COUNT,
};
const char *tun_drop_name(enum tun_drop d);

/*
 * A packet received on the raw protocol-41 socket (IPv4 header included).
 * On TUN_OK: *inner / *inner_len the IPv6 packet to write to the TUN and
 * *who the client it came from. local: our IPv4 address.
 */
enum tun_drop tun_6in4_decap(const struct tun_table *t, struct in_addr local, const uint8_t *pkt,
                             size_t len, const uint8_t **inner, size_t *inner_len,
                             const struct tun_client **who);

/*
 * A packet read from the TUN: to which client (TUN_OK, *who set), or why
 * not. TUN_D_TOO_BIG also sets *who (its MTU is the one to announce).
 */
enum tun_drop tun_6in4_route(const struct tun_table *t, const uint8_t *pkt, size_t len,
                             const struct tun_client **who);

/*
 * An ICMPv6 Packet Too Big (RFC 4443 3.2) about pkt (the offending IPv6
 * packet, possibly truncated), from `from`, announcing mtu: a whole IPv6
 * packet written into out (at most 1280 bytes: as much of pkt as fits).
 * Returns its length, or 0 when none is due (pkt's source is not unicast,
 * pkt is itself an ICMPv6 error, or cap is too small).
 */
size_t tun_icmp6_ptb(uint8_t *out, size_t cap, const struct in6_addr *from, const uint8_t *pkt,
                     size_t len, uint32_t mtu);

/* What an ICMPv4 "fragmentation needed" says about one of our packets. */
struct tun_frag_needed {
    struct in_addr remote; /* where our encapsulated packet was going */
    uint32_t mtu;          /* IPv6 MTU left: next-hop MTU - 20, at least 1280 */
    bool have_inner;       /* the quote reached the inner IPv6 header */
    struct in6_addr inner_src;
    struct in6_addr inner_dst;
    const uint8_t *inner; /* the quoted inner packet (for the PTB's body) */
    size_t inner_len;
};

/*
 * An ICMPv4 message (IPv4 header included, from a raw IPPROTO_ICMP
 * socket): true when it is type 3 code 4 quoting a protocol-41 packet from
 * local, with the details in *out.
 */
bool tun_icmp4_frag_needed(const uint8_t *pkt, size_t len, struct in_addr local,
                           struct tun_frag_needed *out);

#endif
