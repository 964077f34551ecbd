/*
 * common/addr: IPv6 addresses and prefixes. Owns parsing and formatting
 * (RFC 5952), prefix arithmetic for every length 0-128, solicited-node
 * multicast (RFC 4291 2.7.1) and its Ethernet MAC (RFC 2464 7), modified
 * EUI-64 interface identifiers (RFC 4291 2.5.1) and scope checks.
 */
#ifndef E6_COMMON_ADDR_H
#define E6_COMMON_ADDR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255/128" plus NUL */
#define E6_ADDRSTRLEN   46
#define E6_PREFIXSTRLEN (E6_ADDRSTRLEN + 4)

struct e6_prefix {
    struct in6_addr addr; /* bits beyond len are always zero */
    uint8_t len;          /* 0..128 */
};

/* Parse an IPv6 address. Rejects zone ids, prefixes and trailing junk. */
bool e6_addr_parse(const char *s, struct in6_addr *out);
/* RFC 5952 canonical text; buf must hold E6_ADDRSTRLEN. Returns buf. */
const char *e6_addr_format(const struct in6_addr *a, char *buf, size_t len);

/*
 * Parse "ADDR/LEN". With strict, host bits beyond LEN must be zero (the
 * config wants that); otherwise they are cleared. A missing "/LEN" is an
 * error. On error, err (if non-NULL) gets a short reason.
 */
bool e6_prefix_parse(const char *s, bool strict, struct e6_prefix *out, char *err, size_t errlen);
const char *e6_prefix_format(const struct e6_prefix *p, char *buf, size_t len);
/* Clear the bits of a beyond len (len > 128 counts as 128). */
void e6_addr_mask(struct in6_addr *a, unsigned len);
/* Build a prefix from an address and a length, clearing host bits. */
void e6_prefix_make(struct e6_prefix *out, const struct in6_addr *a, unsigned len);

/* true when the first len bits of a and b are equal (len 0..128). */
bool e6_addr_match(const struct in6_addr *a, const struct in6_addr *b, unsigned len);
bool e6_prefix_contains(const struct e6_prefix *p, const struct in6_addr *a);
/* true when inner lies entirely inside outer */
bool e6_prefix_covers(const struct e6_prefix *outer, const struct e6_prefix *inner);
bool e6_prefix_equal(const struct e6_prefix *a, const struct e6_prefix *b);

/* ff02::1:ffXX:XXXX for a */
void e6_addr_solicited_node(const struct in6_addr *a, struct in6_addr *out);
/* 33:33 + low 32 bits of a multicast address */
void e6_addr_multicast_mac(const struct in6_addr *mcast, uint8_t mac[6]);
/* modified EUI-64 identifier from a 48-bit MAC, written into bytes 8..15 */
void e6_addr_eui64(const uint8_t mac[6], struct in6_addr *inout);

bool e6_addr_is_unspecified(const struct in6_addr *a);
bool e6_addr_is_multicast(const struct in6_addr *a);
bool e6_addr_is_linklocal(const struct in6_addr *a); /* fe80::/10 */
bool e6_addr_is_loopback(const struct in6_addr *a);
/* solicited-node multicast group ff02::1:ff00:0/104 */
bool e6_addr_is_solicited_node(const struct in6_addr *a);
bool e6_addr_equal(const struct in6_addr *a, const struct in6_addr *b);
/* unique local fc00::/7 (RFC 4193) */
bool e6_addr_is_ula(const struct in6_addr *a);
/* IPv4-mapped ::ffff:0:0/96 (RFC 4291 2.5.5.2) */
bool e6_addr_is_v4mapped(const struct in6_addr *a);
/* multicast scope nibble (RFC 4291 2.7: 1 interface, 2 link, 5 site, 0xe
 * global...), or -1 when a is not multicast */
int e6_addr_mcast_scope(const struct in6_addr *a);

#endif
