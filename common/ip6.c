/*
 * common/ip6: IPv6 fixed header, extension header walk, pseudo-header
 * checksum. See ip6.h for the contract.
 */
#include "common/ip6.h"
#include "common/addr.h"
#include "common/bytes.h"

#include <errno.h>
#include <string.h>

static const char *const reject_names[E6_IP6_R__COUNT] = {
    [E6_IP6_OK] = "ok",
    [E6_IP6_R_SHORT] = "short",
    [E6_IP6_R_VERSION] = "version",
    [E6_IP6_R_TRUNCATED] = "truncated",
    [E6_IP6_R_SRC_MULTICAST] = "src_multicast",
    [E6_IP6_R_EXT_TRUNCATED] = "ext_truncated",
    [E6_IP6_R_EXT_TOO_MANY] = "ext_too_many",
    [E6_IP6_R_HBH_NOT_FIRST] = "hbh_not_first",
};

const char *e6_ip6_reject_name(enum e6_ip6_reject r)
{
    if ((unsigned)r >= E6_IP6_R__COUNT)
        return "unknown";
    return reject_names[r];
}

enum e6_ip6_reject e6_ip6_parse(const uint8_t *buf, size_t len, struct e6_ip6_pkt *out)
{
    memset(out, 0, sizeof(*out));
    if (len < E6_IP6_HDR_LEN)
        return E6_IP6_R_SHORT;
    if (buf[0] >> 4 != 6)
        return E6_IP6_R_VERSION;

    size_t plen = e6_get16(buf + 4);
    /* bytes beyond 40 + plen are link padding (Ethernet minimum frame), not ours */
    if (len - E6_IP6_HDR_LEN < plen)
        return E6_IP6_R_TRUNCATED;

    struct e6_ip6_hdr *h = &out->hdr;
    h->tclass = (uint8_t)((buf[0] & 0x0f) << 4 | buf[1] >> 4);
    h->flow = e6_get32(buf) & 0xfffffu;
    h->next_header = buf[6];
    h->hop_limit = buf[7];
    memcpy(&h->src, buf + 8, 16);
    memcpy(&h->dst, buf + 24, 16);
    if (e6_addr_is_multicast(&h->src))
        return E6_IP6_R_SRC_MULTICAST;

    const size_t end = E6_IP6_HDR_LEN + plen;
    size_t off = E6_IP6_HDR_LEN;
    uint8_t nh = h->next_header;
    out->pkt_len = end;

    for (;;) {
        size_t hlen;
        if (nh == E6_IPPROTO_HOPOPTS) {
            if (out->n_ext > 0)
                return E6_IP6_R_HBH_NOT_FIRST;
        } else if (nh != E6_IPPROTO_DSTOPTS && nh != E6_IPPROTO_ROUTING &&
                   nh != E6_IPPROTO_FRAGMENT) {
            break;
        }
        if (out->n_ext == E6_IP6_MAX_EXT)
            return E6_IP6_R_EXT_TOO_MANY;
        /* every header walked here starts with Next Header and a length octet */
        if (end - off < 8)
            return E6_IP6_R_EXT_TRUNCATED;
        const uint8_t *x = buf + off;
        if (nh == E6_IPPROTO_FRAGMENT) {
            /* fixed 8 bytes; its second octet is reserved, not a length */
            hlen = 8;
            out->fragment = true;
            out->frag_offset = e6_get16(x + 2) >> 3;
            out->frag_more = x[3] & 1;
            out->frag_id = e6_get32(x + 4);
        } else {
            hlen = ((size_t)x[1] + 1) * 8;
            if (end - off < hlen)
                return E6_IP6_R_EXT_TRUNCATED;
            /* Segments Left is the fourth octet of every Routing header type */
            if (nh == E6_IPPROTO_ROUTING && x[3] != 0)
                out->routed = true;
        }
        out->n_ext++;
        uint8_t cur = nh;
        nh = x[0];
        off += hlen;
        /*
         * A non-first fragment carries data, not headers: what follows the
         * fragment header is the middle of the original payload.
         */
        if (cur == E6_IPPROTO_FRAGMENT && out->frag_offset != 0)
            break;
    }

    out->proto = nh;
    out->payload = buf + off;
    out->payload_off = off;
    out->payload_len = end - off;
    return E6_IP6_OK;
}

int e6_ip6_write_hdr(uint8_t *buf, size_t cap, const struct e6_ip6_hdr *h, size_t payload_len)
{
    if (cap < E6_IP6_HDR_LEN)
        return -ENOSPC;
    if (payload_len > E6_IP6_MAX_PAYLOAD)
        return -EMSGSIZE;
    if (h->flow > 0xfffffu)
        return -EINVAL;
    buf[0] = (uint8_t)(0x60 | h->tclass >> 4);
    buf[1] = (uint8_t)((h->tclass & 0x0f) << 4 | h->flow >> 16);
    buf[2] = (uint8_t)(h->flow >> 8);
    buf[3] = (uint8_t)h->flow;
    buf[4] = (uint8_t)(payload_len >> 8);
    buf[5] = (uint8_t)payload_len;
    buf[6] = h->next_header;
    buf[7] = h->hop_limit;
    memcpy(buf + 8, &h->src, 16);
    memcpy(buf + 24, &h->dst, 16);
    return 0;
}

/* RFC 1071 one's complement sum of big-endian 16-bit words, not yet folded */
static uint64_t sum16(uint64_t acc, const uint8_t *p, size_t len)
{
    while (len >= 2) {
        acc += (uint32_t)(p[0] << 8 | p[1]);
        p += 2;
        len -= 2;
    }
    if (len)
        acc += (uint32_t)p[0] << 8;
    return acc;
}

uint16_t e6_ip6_cksum(const struct in6_addr *src, const struct in6_addr *dst, uint8_t proto,
                      const void *data, size_t len)
{
    uint64_t acc = 0;
    acc = sum16(acc, src->s6_addr, 16);
    acc = sum16(acc, dst->s6_addr, 16);
    /* 32-bit upper-layer length, 24 zero bits, next header */
    acc += (uint64_t)(len >> 16) + (len & 0xffff);
    acc += proto;
    acc = sum16(acc, data, len);
    while (acc >> 16)
        acc = (acc & 0xffff) + (acc >> 16);
    return (uint16_t)~acc;
}

bool e6_ip6_icmp6_cksum_ok(const struct in6_addr *src, const struct in6_addr *dst,
                           const uint8_t *icmp, size_t len)
{
    if (len < 4)
        return false;
    return e6_ip6_cksum(src, dst, E6_IPPROTO_ICMPV6, icmp, len) == 0;
}

void e6_ip6_icmp6_cksum_set(const struct in6_addr *src, const struct in6_addr *dst, uint8_t *icmp,
                            size_t len)
{
    if (len < 4)
        return;
    icmp[2] = icmp[3] = 0;
    uint16_t c = e6_ip6_cksum(src, dst, E6_IPPROTO_ICMPV6, icmp, len);
    icmp[2] = (uint8_t)(c >> 8);
    icmp[3] = (uint8_t)c;
}
