/*
 * ndppd/io_frame: the link-layer side of the NDP proxy's capture, kept
 * pure so it can be unit-tested without a capture: the BPF expression,
 * which libpcap datalinks are served, taking the link-layer header off a
 * captured frame, and putting one on an answer.
 */
#ifndef E6_NDPPD_IO_FRAME_H
#define E6_NDPPD_IO_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ndppd/ndp.h"

/*
 * Neighbor Solicitations, directly after the IPv6 header or after one
 * Hop-by-Hop header (MLD-style router alert, some stacks add it). Nothing
 * else is checked here: hop limit, code, checksum and options are the
 * parser's job, so that every invalid NS is counted by reason.
 */
#define NDP_IO_BPF                                                                                 \
    "ip6 and ((ip6[6] == 58 and ip6[40] == 135) or "                                               \
    "(ip6[6] == 0 and ip6[40] == 58 and ip6[48 + ip6[41] * 8] == 135))"

/* Enough for an NS with a Hop-by-Hop header, SLLA and nonce options. */
#define NDP_IO_SNAPLEN 256

/* How frames of a datalink are framed. */
enum ndp_l2 {
    NDP_L2_UNSUPPORTED = 0,
    NDP_L2_ETHER, /* DLT_EN10MB: 14-byte Ethernet header */
    NDP_L2_RAW,   /* DLT_RAW, DLT_IPV6: the IPv6 packet itself (TUN, 6in4) */
    NDP_L2_SLL,   /* DLT_LINUX_SLL: 16-byte cooked header */
    NDP_L2_SLL2,  /* DLT_LINUX_SLL2: 20-byte cooked header */
};

enum ndp_l2 ndp_io_l2_kind(int dlt);
/* "Ethernet", "raw IPv6", "Linux cooked", "Linux cooked v2", "unsupported" */
const char *ndp_io_l2_name(enum ndp_l2 k);

/* Why a captured frame was not an IPv6 packet we can read. */
enum ndp_l2_reject {
    NDP_L2_OK = 0,
    NDP_L2_R_SHORT,     /* shorter than its link-layer header */
    NDP_L2_R_TRUNCATED, /* the capture cut it (caplen < len) */
    NDP_L2_R_VLAN,      /* 802.1Q / 802.1ad tagged: not expected on a proxied link */
    NDP_L2_R_NOT_IPV6,  /* another ethertype / IP version */
};

struct ndp_l2_frame {
    const uint8_t *ip6; /* the IPv6 packet */
    size_t ip6_len;
    const uint8_t *l2src; /* the sender's MAC, or NULL (no-MAC link, cooked without one) */
};

enum ndp_l2_reject ndp_io_l2_decode(enum ndp_l2 k, const uint8_t *frame, size_t caplen, size_t len,
                                    struct ndp_l2_frame *out);

/*
 * The whole frame for an answer: the link-layer header (Ethernet only:
 * destination tx->l2dst, source own_mac, ethertype IPv6; the cooked and
 * raw kinds carry no header of ours), the IPv6 header (hop limit 255,
 * next header ICMPv6) and tx->icmp. Returns the length, or 0 when it does
 * not fit or an Ethernet answer has no destination or source MAC.
 */
size_t ndp_io_frame_build(enum ndp_l2 k, const struct ndp_tx *tx, const uint8_t *own_mac,
                          size_t own_mac_len, uint8_t *buf, size_t cap);

#endif
