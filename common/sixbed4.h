/*
 * common/sixbed4: the 6bed4 address codec (draft-vanrein-6bed4-03 layout as
 * implemented by the reference 6bed4router since 2017). A 6bed4 address
 * carries its peer's IPv4:port so the router can stay stateless:
 *
 *   bytes 0-7    the /64 prefix
 *   byte  8      IPv4[0] & 0xfc         (IID u/g bits stay 0)
 *   bytes 9-11   IPv4[1..3]
 *   bytes 12-13  UDP port, network order (16-bit word 6)
 *   byte  14     (IPv4[0] & 0x03) << 6 | lanip[13:8]
 *   byte  15     lanip[7:0]
 *
 * Word 6 == 0 never names a 6bed4 peer: that space is local to the router.
 */
#ifndef E6_COMMON_SIXBED4_H
#define E6_COMMON_SIXBED4_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/addr.h"

/* Default UDP port of 6bed4 (experimental, not IANA-assigned). */
#define E6_6BED4_PORT 25790
/* lanip is 14 bits; the router itself uses 0, a peer uses 1 for itself. */
#define E6_6BED4_LANIP_MAX 0x3fff
/* A peer gets prefix/64 + IPv4 (32) + port (16) + 2 IPv4 bits = /114. */
#define E6_6BED4_PEER_PREFIXLEN 114

/*
 * Build the 6bed4 address for ipv4:port (port in host order) inside the /64
 * of prefix64 (bytes 8..15 of prefix64 are ignored). Returns false, leaving
 * out untouched, when lanip > E6_6BED4_LANIP_MAX or port == 0.
 */
bool e6_6bed4_encode(const struct in6_addr *prefix64, struct in_addr ipv4, uint16_t port,
                     uint16_t lanip, struct in6_addr *out);

/*
 * Extract the peer's IPv4, UDP port (host order) and lanip. Returns false,
 * leaving the outputs untouched, when word 6 is 0 (not a 6bed4 address).
 * Any output pointer may be NULL.
 */
bool e6_6bed4_decode(const struct in6_addr *addr, struct in_addr *ipv4, uint16_t *port,
                     uint16_t *lanip);

/* The address has the 6bed4 form (word 6 != 0); the prefix is not checked. */
bool e6_6bed4_is_6bed4(const struct in6_addr *addr);

/* addr lies in the /64 of prefix64 and has the 6bed4 form. */
bool e6_6bed4_in_prefix(const struct in6_addr *prefix64, const struct in6_addr *addr);

/* addr lies in the /64 of prefix64 with word 6 == 0: local to the router. */
bool e6_6bed4_is_local(const struct in6_addr *prefix64, const struct in6_addr *addr);

/*
 * The /114 a peer at ipv4:port gets by RS/RA (lanip bits zero). Returns false
 * when port == 0.
 */
bool e6_6bed4_peer_prefix(const struct in6_addr *prefix64, struct in_addr ipv4, uint16_t port,
                          struct e6_prefix *out);

/*
 * Anti-spoofing: the IPv4:port embedded in addr equals the UDP source the
 * packet came from (port in host order). False for non-6bed4 addresses.
 */
bool e6_6bed4_matches_endpoint(const struct in6_addr *addr, struct in_addr ipv4, uint16_t port);

#endif
