/*
 * tunnel/gso: segmentation, checksum completion and coalescing for the TUN
 * with a virtio_net_hdr (see gso.h).
 */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>

#include "tunnel/gso.h"

_Static_assert(sizeof(struct gso_vnet_hdr) == GSO_VNET_HDR_LEN, "virtio_net_hdr is 10 bytes");

#define IP6_HLEN  40
#define PROTO_TCP 6
#define TCP_FIN   0x01
#define TCP_PSH   0x08
#define TCP_ACK   0x10
#define TCP_CWR   0x80
#define TCP_CSUM  16 /* offset of the checksum in the TCP header */

const char gso_counter_names[GSO_R__COUNT][24] = {
    [GSO_OK] = "gso_none",
    [GSO_R_SHORT] = "gso_short",
    [GSO_R_NOT_IPV6] = "gso_not_ipv6",
    [GSO_R_FLAGS] = "gso_bad_flags",
    [GSO_R_GSO_TYPE] = "gso_bad_type",
    [GSO_R_GSO_SIZE] = "gso_bad_size",
    [GSO_R_HDR_LEN] = "gso_bad_hdr_len",
    [GSO_R_CSUM_START] = "gso_bad_csum_start",
    [GSO_R_NOT_TCP] = "gso_not_tcp",
    [GSO_R_TCP_HDR] = "gso_bad_tcp_hdr",
    [GSO_R_TOO_MANY_SEGS] = "gso_too_many_segs",
    [GSO_R_SEG_ROOM] = "gso_seg_too_big",
};

const char *gso_reject_name(enum gso_reject r)
{
    if ((unsigned)r >= GSO_R__COUNT)
        return "unknown";
    return r == GSO_OK ? "ok" : gso_counter_names[r];
}

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* ---- checksums ------------------------------------------------------- */

uint16_t gso_csum_fold(uint64_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)sum;
}

/*
 * Sums native 16-bit words: the ones'-complement sum does not care about
 * the word size (2^16 = 1 modulo 0xffff) nor, up to one swap at the end,
 * about byte order (RFC 1071 2.B). An odd length pads with a zero byte,
 * so only the last piece of an area may have one. The bulk goes 32 bytes
 * a round through generic vectors (the compiler's SIMD, or plain words
 * where there is none): the 16-bit halves of each 32-bit lane add up in
 * their own lanes, which 32768 rounds cannot overflow.
 */
typedef uint32_t csum_v4 __attribute__((vector_size(16)));
#define CSUM_ROUNDS_MAX 32768

uint64_t gso_csum_add(uint64_t sum, const void *data, size_t len)
{
    const uint8_t *p = data;
    uint64_t acc = 0;
    const csum_v4 low16 = {0xffff, 0xffff, 0xffff, 0xffff};
    while (len >= 32) {
        csum_v4 lo = {0, 0, 0, 0}, hi = {0, 0, 0, 0};
        size_t rounds = len / 32 < CSUM_ROUNDS_MAX ? len / 32 : CSUM_ROUNDS_MAX;
        for (size_t r = 0; r < rounds; r++) {
            csum_v4 a, b;
            memcpy(&a, p, sizeof(a));
            memcpy(&b, p + 16, sizeof(b));
            lo += (a & low16) + (b & low16);
            hi += (a >> 16) + (b >> 16);
            p += 32;
        }
        len -= rounds * 32;
        for (int i = 0; i < 4; i++)
            acc += (uint64_t)lo[i] + hi[i];
    }
    while (len >= 4) {
        uint32_t w;
        memcpy(&w, p, 4);
        acc += w;
        p += 4;
        len -= 4;
    }
    if (len >= 2) {
        uint16_t h;
        memcpy(&h, p, 2);
        acc += h;
        p += 2;
        len -= 2;
    }
    if (len) {
        uint8_t last[2] = {p[0], 0};
        uint16_t h;
        memcpy(&h, last, 2);
        acc += h;
    }
    return sum + ntohs(gso_csum_fold(acc));
}

static uint64_t pseudo_sum(const uint8_t *ip6, size_t l4len, uint8_t proto)
{
    uint64_t s = gso_csum_add(0, ip6 + 8, 32);
    return s + (l4len >> 16) + (l4len & 0xffff) + proto;
}

void gso_csum_finish(uint8_t *pkt, size_t len, size_t csum_start, size_t csum_offset)
{
    uint16_t c = (uint16_t)~gso_csum_fold(gso_csum_add(0, pkt + csum_start, len - csum_start));
    /* as the kernel does (CSUM_MANGLED_0): UDP reads 0 as "no checksum" */
    wr16(pkt + csum_start + csum_offset, c ? c : 0xffff);
}

/* ---- reading what the TUN hands over ---------------------------------- */

enum gso_reject gso_parse(const uint8_t *buf, size_t len, struct gso_info *out)
{
    memset(out, 0, sizeof(*out));
    if (len < GSO_VNET_HDR_LEN)
        return GSO_R_SHORT;
    struct gso_vnet_hdr h;
    memcpy(&h, buf, sizeof(h));
    out->h = h;
    const uint8_t *p = buf + GSO_VNET_HDR_LEN;
    size_t n = len - GSO_VNET_HDR_LEN;
    out->pkt = p;
    out->len = n;
    out->segs = 1;
    out->seglen = n;

    if (h.flags & ~(GSO_F_NEEDS_CSUM | GSO_F_DATA_VALID))
        return GSO_R_FLAGS;
    uint8_t type = h.gso_type & (uint8_t)~GSO_T_ECN;
    switch (type) {
    case GSO_T_NONE:
        if (h.gso_type & GSO_T_ECN)
            return GSO_R_FLAGS;
        break;
    case GSO_T_TCPV6:
        break;
    case GSO_T_TCPV4:
    case GSO_T_UDP:
    case GSO_T_UDP_L4:
        return GSO_R_GSO_TYPE;
    default:
        return GSO_R_FLAGS;
    }
    if (n < IP6_HLEN)
        return GSO_R_SHORT;
    if (p[0] >> 4 != 6 || IP6_HLEN + (size_t)rd16(p + 4) != n)
        return GSO_R_NOT_IPV6;
    if (h.hdr_len > n)
        return GSO_R_HDR_LEN;
    bool csum = h.flags & GSO_F_NEEDS_CSUM;
    if (csum && (h.csum_start < IP6_HLEN || (size_t)h.csum_start + h.csum_offset + 2 > n))
        return GSO_R_CSUM_START;
    if (type == GSO_T_NONE)
        return GSO_OK;

    if (h.gso_size == 0)
        return GSO_R_GSO_SIZE;
    if (p[6] != PROTO_TCP)
        return GSO_R_NOT_TCP;
    if (n < IP6_HLEN + 20)
        return GSO_R_TCP_HDR;
    size_t thlen = (size_t)(p[IP6_HLEN + 12] >> 4) * 4;
    if (thlen < 20 || IP6_HLEN + thlen > n)
        return GSO_R_TCP_HDR;
    if (csum && (h.csum_start != IP6_HLEN || h.csum_offset != TCP_CSUM))
        return GSO_R_CSUM_START;
    size_t payload = n - IP6_HLEN - thlen;
    out->thoff = IP6_HLEN;
    out->thlen = thlen;
    if (payload <= h.gso_size)
        return GSO_OK; /* one segment's worth: "not really GSO", as the kernel says */
    out->gso = true;
    out->segs = (payload + h.gso_size - 1) / h.gso_size;
    out->seglen = IP6_HLEN + thlen + h.gso_size;
    return GSO_OK;
}

/* ---- segmentation ------------------------------------------------------ */

enum gso_reject gso_segment(const struct gso_info *gi, size_t first, uint8_t *out, size_t slot,
                            size_t max, size_t *lens, size_t *n)
{
    *n = 0;
    if (first >= gi->segs)
        return GSO_OK;
    if (max < 1) {
        *n = gi->segs - first;
        return GSO_R_TOO_MANY_SEGS;
    }
    if (gi->seglen > slot)
        return GSO_R_SEG_ROOM;
    if (!gi->gso) {
        memcpy(out, gi->pkt, gi->len);
        if (gi->h.flags & GSO_F_NEEDS_CSUM)
            gso_csum_finish(out, gi->len, gi->h.csum_start, gi->h.csum_offset);
        lens[0] = gi->len;
        *n = 1;
        return GSO_OK;
    }
    const uint8_t *p = gi->pkt;
    size_t hl = IP6_HLEN + gi->thlen;
    size_t payload = gi->len - hl;
    size_t mss = gi->h.gso_size;
    size_t end = gi->segs - first < max ? gi->segs : first + max;
    uint32_t seq0 = rd32(p + IP6_HLEN + 4);
    for (size_t i = first; i < end; i++) {
        uint8_t *s = out + (i - first) * slot;
        size_t off = i * mss;
        size_t sp = payload - off < mss ? payload - off : mss;
        memcpy(s, p, hl);
        memcpy(s + hl, p + hl + off, sp);
        uint8_t *th = s + IP6_HLEN;
        wr16(s + 4, (uint16_t)(gi->thlen + sp));
        wr32(th + 4, seq0 + (uint32_t)off);
        if (i + 1 < gi->segs)
            th[13] &= (uint8_t) ~(TCP_FIN | TCP_PSH);
        if (i > 0)
            th[13] &= (uint8_t)~TCP_CWR;
        wr16(th + TCP_CSUM, 0);
        uint64_t sum = pseudo_sum(s, gi->thlen + sp, PROTO_TCP);
        sum = gso_csum_add(sum, th, gi->thlen + sp);
        wr16(th + TCP_CSUM, (uint16_t)~gso_csum_fold(sum));
        lens[i - first] = hl + sp;
    }
    *n = end - first;
    return GSO_OK;
}

/* ---- coalescing -------------------------------------------------------- */

/* what the plan needs of a TCP segment; ok false: it goes alone */
struct tseg {
    bool tcp; /* TCP right after the header, header complete: has a flow */
    bool ok;  /* may be merged */
    size_t thlen;
    size_t plen; /* payload bytes */
    uint32_t seq;
    uint8_t flags;
};

static struct tseg tseg_of(const struct gso_pkt *k)
{
    struct tseg t = {0};
    const uint8_t *p = k->p;
    if (k->len < IP6_HLEN + 20 || p[0] >> 4 != 6 || p[6] != PROTO_TCP ||
        IP6_HLEN + (size_t)rd16(p + 4) != k->len)
        return t;
    t.thlen = (size_t)(p[IP6_HLEN + 12] >> 4) * 4;
    if (t.thlen < 20 || IP6_HLEN + t.thlen > k->len)
        return t;
    t.tcp = true;
    t.plen = k->len - IP6_HLEN - t.thlen;
    t.seq = rd32(p + IP6_HLEN + 4);
    t.flags = p[IP6_HLEN + 13];
    if (t.plen == 0 || (t.flags & ~(TCP_ACK | TCP_PSH)) || !(t.flags & TCP_ACK))
        return t;
    /* a corrupt segment must reach the receiver as such: merged, its
     * checksum would be recomputed over the damage */
    uint64_t sum = pseudo_sum(p, k->len - IP6_HLEN, PROTO_TCP);
    if (gso_csum_fold(gso_csum_add(sum, p + IP6_HLEN, k->len - IP6_HLEN)) != 0xffff)
        return t;
    t.ok = true;
    return t;
}

static bool same_flow(const uint8_t *a, const uint8_t *b)
{
    /* addresses and ports */
    return memcmp(a + 8, b + 8, 32) == 0 && memcmp(a + IP6_HLEN, b + IP6_HLEN, 4) == 0;
}

struct run {
    uint16_t out;  /* its output */
    uint16_t last; /* packet index */
    uint32_t next_seq;
    size_t mss;   /* the first segment's payload */
    size_t total; /* payload bytes so far */
    bool open;
};

static bool joins(const struct gso_pkt *pk, const struct tseg *ts, const struct run *r,
                  uint16_t head, size_t i)
{
    const uint8_t *a = pk[head].p, *b = pk[i].p;
    const struct tseg *h = &ts[head], *t = &ts[i];
    /* the data offset byte holds the reserved bits and AccECN's AE flag too */
    return t->ok && a[IP6_HLEN + 12] == b[IP6_HLEN + 12] && t->seq == r->next_seq &&
           t->plen <= r->mss && IP6_HLEN + h->thlen + r->total + t->plen <= IP6_HLEN + 65535u &&
           memcmp(a, b, 4) == 0 && a[7] == b[7] &&               /* class, flow label, hop limit */
           memcmp(a + IP6_HLEN + 8, b + IP6_HLEN + 8, 4) == 0 && /* ACK number */
           memcmp(a + IP6_HLEN + 14, b + IP6_HLEN + 14, 2) == 0 &&           /* window */
           memcmp(a + IP6_HLEN + 18, b + IP6_HLEN + 18, 2) == 0 &&           /* urgent pointer */
           memcmp(a + IP6_HLEN + 20, b + IP6_HLEN + 20, h->thlen - 20) == 0; /* options */
}

void gso_coalesce_plan(const struct gso_pkt *pk, size_t n, struct gso_plan *plan)
{
    struct tseg ts[GSO_COALESCE_MAX];
    struct run runs[GSO_COALESCE_MAX];
    size_t n_runs = 0;
    if (n > GSO_COALESCE_MAX)
        n = GSO_COALESCE_MAX;
    plan->n_out = 0;
    for (size_t i = 0; i < n; i++) {
        plan->next[i] = GSO_END;
        ts[i] = tseg_of(&pk[i]);
        struct run *r = NULL;
        if (ts[i].tcp) {
            for (size_t k = 0; k < n_runs; k++)
                if (runs[k].open && same_flow(pk[plan->head[runs[k].out]].p, pk[i].p)) {
                    r = &runs[k];
                    break;
                }
        }
        if (r && joins(pk, ts, r, plan->head[r->out], i)) {
            plan->next[r->last] = (uint16_t)i;
            r->last = (uint16_t)i;
            plan->count[r->out]++;
            r->total += ts[i].plen;
            r->next_seq += (uint32_t)ts[i].plen;
            if ((ts[i].flags & TCP_PSH) || ts[i].plen < r->mss)
                r->open = false;
            continue;
        }
        if (r)
            r->open = false; /* the flow goes on after this packet, in order */
        size_t o = plan->n_out++;
        plan->head[o] = (uint16_t)i;
        plan->count[o] = 1;
        if (ts[i].ok && !(ts[i].flags & TCP_PSH))
            runs[n_runs++] = (struct run){.out = (uint16_t)o,
                                          .last = (uint16_t)i,
                                          .next_seq = ts[i].seq + (uint32_t)ts[i].plen,
                                          .mss = ts[i].plen,
                                          .total = ts[i].plen,
                                          .open = true};
    }
}

size_t gso_coalesce_build(const struct gso_plan *plan, size_t o, struct gso_pkt *pk,
                          struct gso_vnet_hdr *h, struct iovec *iov, size_t iov_cap)
{
    if (o >= plan->n_out || iov_cap < 2u + (plan->count[o] > 1 ? plan->count[o] - 1u : 0u))
        return 0;
    memset(h, 0, sizeof(*h));
    uint16_t i = plan->head[o];
    iov[0] = (struct iovec){.iov_base = h, .iov_len = sizeof(*h)};
    iov[1] = (struct iovec){.iov_base = pk[i].p, .iov_len = pk[i].len};
    if (plan->count[o] == 1)
        return 2;

    uint8_t *p = pk[i].p;
    size_t thlen = (size_t)(p[IP6_HLEN + 12] >> 4) * 4;
    size_t hl = IP6_HLEN + thlen;
    size_t mss = pk[i].len - hl, total = mss, k = 2;
    uint8_t last_flags = 0;
    for (uint16_t j = plan->next[i]; j != GSO_END; j = plan->next[j]) {
        iov[k++] = (struct iovec){.iov_base = pk[j].p + hl, .iov_len = pk[j].len - hl};
        total += pk[j].len - hl;
        last_flags = pk[j].p[IP6_HLEN + 13];
    }
    wr16(p + 4, (uint16_t)(thlen + total));
    p[IP6_HLEN + 13] |= last_flags & TCP_PSH;
    /* NEEDS_CSUM: the field holds the pseudo-header sum, the kernel (or the
     * segmentation on the way out) adds the rest */
    wr16(p + IP6_HLEN + TCP_CSUM, gso_csum_fold(pseudo_sum(p, thlen + total, PROTO_TCP)));
    h->flags = GSO_F_NEEDS_CSUM;
    h->gso_type = GSO_T_TCPV6;
    h->hdr_len = (uint16_t)hl;
    h->gso_size = (uint16_t)mss;
    h->csum_start = IP6_HLEN;
    h->csum_offset = TCP_CSUM;
    return k;
}
