/*
 * ndppd/io_frame: link-layer framing of the proxy's capture and answers.
 * See io_frame.h.
 */
#include "config.h"

#include "ndppd/io_frame.h"

#include <pcap/pcap.h>
#include <string.h>

#include "common/addr.h"
#include "common/ip6.h"

#define ETH_HLEN_    14
#define SLL_HLEN_    16
#define SLL2_HLEN_   20
#define ETHERTYPE_V6 0x86dd

enum ndp_l2 ndp_io_l2_kind(int dlt)
{
    switch (dlt) {
    case DLT_EN10MB:
        return NDP_L2_ETHER;
    case DLT_RAW:
#ifdef DLT_IPV6
    case DLT_IPV6:
#endif
        return NDP_L2_RAW;
#ifdef DLT_LINUX_SLL
    case DLT_LINUX_SLL:
        return NDP_L2_SLL;
#endif
#ifdef DLT_LINUX_SLL2
    case DLT_LINUX_SLL2:
        return NDP_L2_SLL2;
#endif
    default:
        return NDP_L2_UNSUPPORTED;
    }
}

const char *ndp_io_l2_name(enum ndp_l2 k)
{
    switch (k) {
    case NDP_L2_ETHER:
        return "Ethernet";
    case NDP_L2_RAW:
        return "raw IPv6";
    case NDP_L2_SLL:
        return "Linux cooked";
    case NDP_L2_SLL2:
        return "Linux cooked v2";
    case NDP_L2_UNSUPPORTED:
        break;
    }
    return "unsupported";
}

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static enum ndp_l2_reject ethertype(uint16_t t)
{
    if (t == ETHERTYPE_V6)
        return NDP_L2_OK;
    if (t == 0x8100 || t == 0x88a8)
        return NDP_L2_R_VLAN;
    return NDP_L2_R_NOT_IPV6;
}

enum ndp_l2_reject ndp_io_l2_decode(enum ndp_l2 k, const uint8_t *frame, size_t caplen, size_t len,
                                    struct ndp_l2_frame *out)
{
    size_t hlen;
    enum ndp_l2_reject r;

    memset(out, 0, sizeof(*out));
    if (caplen < len)
        return NDP_L2_R_TRUNCATED;
    switch (k) {
    case NDP_L2_ETHER:
        hlen = ETH_HLEN_;
        if (caplen < hlen)
            return NDP_L2_R_SHORT;
        r = ethertype(be16(frame + 12));
        if (r != NDP_L2_OK)
            return r;
        out->l2src = frame + 6;
        break;
    case NDP_L2_SLL:
        /* packet type(2) ARPHRD(2) addr len(2) addr(8) protocol(2) */
        hlen = SLL_HLEN_;
        if (caplen < hlen)
            return NDP_L2_R_SHORT;
        r = ethertype(be16(frame + 14));
        if (r != NDP_L2_OK)
            return r;
        if (be16(frame + 4) == 6)
            out->l2src = frame + 6;
        break;
    case NDP_L2_SLL2:
        /* protocol(2) reserved(2) ifindex(4) ARPHRD(2) packet type(1) addr len(1) addr(8) */
        hlen = SLL2_HLEN_;
        if (caplen < hlen)
            return NDP_L2_R_SHORT;
        r = ethertype(be16(frame));
        if (r != NDP_L2_OK)
            return r;
        if (frame[11] == 6)
            out->l2src = frame + 12;
        break;
    case NDP_L2_RAW:
        hlen = 0;
        if (caplen < 1)
            return NDP_L2_R_SHORT;
        if (frame[0] >> 4 != 6)
            return NDP_L2_R_NOT_IPV6;
        break;
    default:
        return NDP_L2_R_NOT_IPV6;
    }
    out->ip6 = frame + hlen;
    out->ip6_len = caplen - hlen;
    return NDP_L2_OK;
}

size_t ndp_io_frame_build(enum ndp_l2 k, const struct ndp_tx *tx, const uint8_t *own_mac,
                          size_t own_mac_len, uint8_t *buf, size_t cap)
{
    size_t off = 0;
    if (k == NDP_L2_UNSUPPORTED || !tx->icmp || tx->len == 0)
        return 0;
    if (k == NDP_L2_ETHER) {
        uint8_t dst[6];
        if (tx->l2dst_len == 6)
            memcpy(dst, tx->l2dst, 6);
        else if (e6_addr_is_multicast(&tx->dst))
            e6_addr_multicast_mac(&tx->dst, dst);
        else
            return 0;
        if (own_mac_len != 6 || cap < ETH_HLEN_)
            return 0;
        memcpy(buf, dst, 6);
        memcpy(buf + 6, own_mac, 6);
        buf[12] = ETHERTYPE_V6 >> 8;
        buf[13] = ETHERTYPE_V6 & 0xff;
        off = ETH_HLEN_;
    }
    if (cap - off < E6_IP6_HDR_LEN || cap - off - E6_IP6_HDR_LEN < tx->len)
        return 0;
    struct e6_ip6_hdr h = {
        .src = tx->src,
        .dst = tx->dst,
        .hop_limit = 255,
        .next_header = E6_IPPROTO_ICMPV6,
    };
    if (e6_ip6_write_hdr(buf + off, cap - off, &h, tx->len) < 0)
        return 0;
    memcpy(buf + off + E6_IP6_HDR_LEN, tx->icmp, tx->len);
    return off + E6_IP6_HDR_LEN + tx->len;
}
