/*
 * common/ip6: the IPv6 header codec. Owns parsing a whole IPv6 packet as a
 * TUN or libpcap hands it over (fixed header, extension header walk up to the
 * upper-layer header, fragment detection), building the fixed header, and the
 * upper-layer checksum over the IPv6 pseudo-header (RFC 8200 8.1).
 *
 * Nothing here allocates; parse results point into the caller's buffer.
 */
#ifndef E6_COMMON_IP6_H
#define E6_COMMON_IP6_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define E6_IP6_HDR_LEN 40
/* Largest payload the 16-bit Payload Length field can describe (no jumbograms). */
#define E6_IP6_MAX_PAYLOAD 65535u
/*
 * Extension headers walked before giving up. RFC 8200 4.1 recommends at most
 * one of each (two Destination Options); 8 leaves room for odd but legal
 * chains while bounding the work an attacker can cause.
 */
#define E6_IP6_MAX_EXT 8

/* IP protocol numbers the codec knows about (IANA "Assigned Internet Protocol Numbers") */
enum {
    E6_IPPROTO_HOPOPTS = 0,
    E6_IPPROTO_ROUTING = 43,
    E6_IPPROTO_FRAGMENT = 44,
    E6_IPPROTO_ICMPV6 = 58,
    E6_IPPROTO_NONE = 59,
    E6_IPPROTO_DSTOPTS = 60,
};

/* Why e6_ip6_parse refused a packet. Stable names: see e6_ip6_reject_name(). */
enum e6_ip6_reject {
    E6_IP6_OK = 0,
    E6_IP6_R_SHORT,         /* fewer than 40 bytes */
    E6_IP6_R_VERSION,       /* version field is not 6 */
    E6_IP6_R_TRUNCATED,     /* buffer shorter than 40 + Payload Length */
    E6_IP6_R_SRC_MULTICAST, /* RFC 4291 2.7: never a source */
    E6_IP6_R_EXT_TRUNCATED, /* an extension header runs past the payload */
    E6_IP6_R_EXT_TOO_MANY,  /* more than E6_IP6_MAX_EXT extension headers */
    E6_IP6_R_HBH_NOT_FIRST, /* RFC 8200 4.3: Hop-by-Hop only right after the header */
    E6_IP6_R__COUNT
};

/* Fields of the fixed header; e6_ip6_write_hdr takes the same struct. */
struct e6_ip6_hdr {
    struct in6_addr src;
    struct in6_addr dst;
    uint32_t flow;  /* 20 bits */
    uint8_t tclass; /* DSCP << 2 | ECN */
    uint8_t hop_limit;
    uint8_t next_header; /* the fixed header's Next Header field */
};

struct e6_ip6_pkt {
    struct e6_ip6_hdr hdr;
    /* protocol of the upper-layer header (after all extension headers walked) */
    uint8_t proto;
    /* upper-layer bytes: from the end of the last walked header to 40 + Payload Length */
    const uint8_t *payload;
    size_t payload_len;
    size_t payload_off; /* offset of payload from the start of the packet */
    size_t pkt_len;     /* 40 + Payload Length; trailing bytes beyond are ignored */
    unsigned n_ext;     /* extension headers walked */
    /*
     * A Routing header with Segments Left > 0: this node is not the final
     * destination, so nothing addressed to it (ND) may be taken from it.
     */
    bool routed;
    /*
     * A Fragment header was present. ND must drop such messages (RFC 6980 5).
     * When frag_offset is not 0 the walk stops at the fragment header: payload
     * is then fragment data, not the start of a proto header.
     */
    bool fragment;
    bool frag_more;
    uint16_t frag_offset; /* in 8-octet units */
    uint32_t frag_id;
};

/*
 * Parse buf[0..len). Returns E6_IP6_OK and fills *out, or a reject reason
 * (then *out is partially filled and must not be used).
 * Walks Hop-by-Hop, Routing, Destination Options and Fragment headers; any
 * other Next Header value (including AH, ESP, No Next Header) is the
 * upper-layer protocol.
 */
enum e6_ip6_reject e6_ip6_parse(const uint8_t *buf, size_t len, struct e6_ip6_pkt *out);
const char *e6_ip6_reject_name(enum e6_ip6_reject r);

/*
 * Write the 40-byte fixed header into buf (cap bytes available). The payload
 * of payload_len bytes is expected right after it. Returns 0, -ENOSPC when
 * cap < 40, -EMSGSIZE when payload_len > 65535, -EINVAL when flow > 0xfffff.
 */
int e6_ip6_write_hdr(uint8_t *buf, size_t cap, const struct e6_ip6_hdr *h, size_t payload_len);

/*
 * Upper-layer checksum over the pseudo-header of RFC 8200 8.1 and data.
 * The checksum field inside data is summed as it is, so to compute a fresh
 * checksum zero it first; to verify, sum with it in place and compare the
 * result to 0. Returns the value to store, in host order (store big-endian).
 * Odd lengths are padded with one zero byte, as RFC 1071 requires.
 */
uint16_t e6_ip6_cksum(const struct in6_addr *src, const struct in6_addr *dst, uint8_t proto,
                      const void *data, size_t len);

/* ICMPv6 helpers: icmp points to the ICMPv6 header, len covers the whole message. */
bool e6_ip6_icmp6_cksum_ok(const struct in6_addr *src, const struct in6_addr *dst,
                           const uint8_t *icmp, size_t len);
/* Zero the checksum field, compute and store it. len must be >= 4. */
void e6_ip6_icmp6_cksum_set(const struct in6_addr *src, const struct in6_addr *dst, uint8_t *icmp,
                            size_t len);

#endif
