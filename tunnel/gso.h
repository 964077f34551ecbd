/*
 * tunnel/gso: the offload half of the TUN fast path, pure and
 * allocation-free. With IFF_VNET_HDR every packet crossing the TUN starts
 * with a virtio_net_hdr, and with TUNSETOFFLOAD the kernel hands us TCP
 * super-packets (up to 64 KiB, one TCP header) and packets whose checksum
 * it left for us to finish. Owned here:
 *
 * - reading that header and the packet behind it, as from a buggy or
 *   hostile source: every field is checked against the packet itself;
 * - segmentation of an IPv6 TCP super-packet into wire-sized packets
 *   (sequence numbers advanced, FIN/PSH only on the last, CWR only on the
 *   first, checksums computed afresh), and completion of a partial
 *   checksum (VIRTIO_NET_HDR_F_NEEDS_CSUM) of any other packet;
 * - on the way back, the GRO-like decision which TCP segments of one
 *   receive batch form one super-packet, and the header and iovecs that
 *   write it into the TUN.
 *
 * The header's fields are in host order: a TUN without TUNSETVNETLE/BE
 * speaks the host's byte order (legacy virtio).
 */
#ifndef E6_TUNNEL_GSO_H
#define E6_TUNNEL_GSO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/* struct virtio_net_hdr (linux/virtio_net.h), layout fixed by the virtio spec */
struct gso_vnet_hdr {
    uint8_t flags;
    uint8_t gso_type;
    uint16_t hdr_len;     /* headers' length: a hint only, never trusted */
    uint16_t gso_size;    /* payload bytes per segment (TCP: the MSS) */
    uint16_t csum_start;  /* where the checksummed area starts */
    uint16_t csum_offset; /* where the checksum goes, from csum_start */
};
#define GSO_VNET_HDR_LEN 10

#define GSO_F_NEEDS_CSUM 1 /* VIRTIO_NET_HDR_F_NEEDS_CSUM */
#define GSO_F_DATA_VALID 2 /* VIRTIO_NET_HDR_F_DATA_VALID */
#define GSO_T_NONE       0 /* VIRTIO_NET_HDR_GSO_NONE */
#define GSO_T_TCPV4      1
#define GSO_T_UDP        3
#define GSO_T_TCPV6      4
#define GSO_T_UDP_L4     5
#define GSO_T_ECN        0x80 /* the super-packet carries CWR: first segment only */

/* the biggest packet a TUN with offloads hands over: header + IPv6 header
 * + the largest payload its 16-bit length field describes */
#define GSO_MAX_PACKET (GSO_VNET_HDR_LEN + 40 + 65535)

/* Why a packet read from the TUN was refused; stable counter names. */
enum gso_reject {
    GSO_OK = 0,
    GSO_R_SHORT,         /* shorter than the virtio header, or than its IPv6 header */
    GSO_R_NOT_IPV6,      /* not version 6, or its Payload Length disagrees with the read */
    GSO_R_FLAGS,         /* header flags or gso_type bits we do not know */
    GSO_R_GSO_TYPE,      /* a GSO type we never enabled (TCPv4, UFO, USO) */
    GSO_R_GSO_SIZE,      /* gso_size 0 */
    GSO_R_HDR_LEN,       /* hdr_len beyond the packet */
    GSO_R_CSUM_START,    /* csum_start/csum_offset outside the packet, or not the
                          * TCP checksum of a super-packet */
    GSO_R_NOT_TCP,       /* a super-packet that is not TCP right after the IPv6
                          * header (extension headers are not segmented) */
    GSO_R_TCP_HDR,       /* TCP data offset below 5 or past the packet */
    GSO_R_TOO_MANY_SEGS, /* more segments than the caller has room for */
    GSO_R_SEG_ROOM,      /* a segment larger than the caller's buffers */
    GSO_R__COUNT,
};
const char *gso_reject_name(enum gso_reject r);

/*
 * The refusals as counters of a shell's set (a refused TUN read, not a
 * tunnel drop): "gso_none" at GSO_OK (never counted), then what
 * gso_reject_name says. GSO_COUNTER_NAMES(base) are the designated
 * initializers of a `const char *const names[]` table that puts them at
 * base + enum gso_reject.
 */
extern const char gso_counter_names[GSO_R__COUNT][24];
#define GSO_COUNTER_NAMES(base)                                                                    \
    [(base) + 0] = gso_counter_names[0], [(base) + 1] = gso_counter_names[1],                      \
              [(base) + 2] = gso_counter_names[2], [(base) + 3] = gso_counter_names[3],            \
              [(base) + 4] = gso_counter_names[4], [(base) + 5] = gso_counter_names[5],            \
              [(base) + 6] = gso_counter_names[6], [(base) + 7] = gso_counter_names[7],            \
              [(base) + 8] = gso_counter_names[8], [(base) + 9] = gso_counter_names[9],            \
              [(base) + 10] = gso_counter_names[10], [(base) + 11] = gso_counter_names[11]
_Static_assert(GSO_R__COUNT == 12, "GSO_COUNTER_NAMES lists 12 refusals");

/* What gso_parse learnt about one packet read from the TUN. */
struct gso_info {
    struct gso_vnet_hdr h;
    const uint8_t *pkt; /* the IPv6 packet, after the virtio header */
    size_t len;
    bool gso;      /* a TCP super-packet to segment (more than one segment) */
    size_t thoff;  /* TCP header offset (gso only: 40) */
    size_t thlen;  /* TCP header length (gso only) */
    size_t segs;   /* segments it becomes (1 when not gso) */
    size_t seglen; /* largest segment, whole IPv6 packet */
};

/*
 * Check the virtio header and the IPv6 packet behind it (buf[0..len) as
 * read from the TUN). GSO_OK and *out filled, or why not.
 */
enum gso_reject gso_parse(const uint8_t *buf, size_t len, struct gso_info *out);

/*
 * Write segments first, first+1 ... of a parsed packet into out + i * slot
 * (at most max of them), their lengths into lens[i], *n the count: a
 * caller with less room calls again from first + *n. A packet that is not
 * a super-packet is copied as one segment, its partial checksum finished
 * when the header asked for it. GSO_R_TOO_MANY_SEGS (*n = the segments
 * left) when max is 0, GSO_R_SEG_ROOM when a segment is larger than slot.
 */
enum gso_reject gso_segment(const struct gso_info *gi, size_t first, uint8_t *out, size_t slot,
                            size_t max, size_t *lens, size_t *n);

/*
 * Finish a partial checksum in place (virtio semantics: the ones'-complement
 * sum from csum_start to the end, folded, complemented, stored at
 * csum_start + csum_offset, 0 stored as 0xffff). The caller checked the
 * offsets (gso_parse does).
 */
void gso_csum_finish(uint8_t *pkt, size_t len, size_t csum_start, size_t csum_offset);

/* Ones'-complement sum of data added to sum (not folded); big-endian words. */
uint64_t gso_csum_add(uint64_t sum, const void *data, size_t len);
/* fold to 16 bits (not complemented) */
uint16_t gso_csum_fold(uint64_t sum);

/* ---- coalescing (protocol 41 -> TUN) ------------------------------------ */

/* packets one decision looks at (a receive batch) */
#define GSO_COALESCE_MAX 64
#define GSO_END          0xffff

struct gso_pkt {
    uint8_t *p; /* an inner IPv6 packet that passed the decapsulation checks */
    size_t len;
};

/*
 * The plan for one batch: n_out outputs in write order, each a chain of
 * packet indexes (head[o], then next[] until GSO_END). An output of one
 * packet is written as it is (an all-zero virtio header); one of several
 * is a super-packet (gso_coalesce_build). Within a flow the order of the
 * batch is kept; different flows may be reordered.
 */
struct gso_plan {
    size_t n_out;
    uint16_t head[GSO_COALESCE_MAX];
    uint16_t count[GSO_COALESCE_MAX]; /* packets in output o */
    uint16_t next[GSO_COALESCE_MAX];  /* by packet index */
};

/*
 * Decide (reads the packets only). Packets are merged, as GRO does, when
 * they are TCP right after the IPv6 header, with the same addresses,
 * ports, traffic class, flow label and hop limit, contiguous sequence
 * numbers, the same ACK number, window and (unused) urgent pointer, only
 * ACK (and PSH, which ends the run) set, identical TCP options, a good
 * checksum, and the same payload size except for the last, which may be
 * shorter and ends the run; the super-packet stays within 65535 bytes of
 * IPv6 payload.
 */
void gso_coalesce_plan(const struct gso_pkt *pk, size_t n, struct gso_plan *plan);

/*
 * Make output o of a plan writable: fills *h and iov[0..) (iov[0] is h)
 * and returns the iovec count, 0 when iov_cap is too small. A
 * super-packet's first packet is rewritten in place (Payload Length, PSH
 * of the last segment, the TCP checksum field seeded with the
 * pseudo-header sum for VIRTIO_NET_HDR_F_NEEDS_CSUM); the others
 * contribute their payload. The bytes of output o: iov in order.
 */
size_t gso_coalesce_build(const struct gso_plan *plan, size_t o, struct gso_pkt *pk,
                          struct gso_vnet_hdr *h, struct iovec *iov, size_t iov_cap);

#endif
