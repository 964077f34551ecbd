/*
 * tunnel/io_6bed4_int: what tunnel/io_6bed4.c (the control plane) and
 * tunnel/io_6bed4_worker.c (the fast path threads) share, plus the pure
 * helpers of the 6bed4 shell the unit tests reach (the RA token bucket,
 * the per-batch peer-table touches, the kernel state a peer wants from an
 * RA, the rows and rendering of the peers view).
 *
 * What the workers read: the router's decision config and the sockets are
 * immutable while the workers run (a changed section is re-created, never
 * edited in place). The mutable part (the peer table of a router, the
 * address of a peer) sits behind one mutex per tunnel, taken at most once
 * per batch by a worker and briefly by the loop (expiry, views, the
 * proxy's membership questions, a new prefix).
 */
#ifndef E6_TUNNEL_IO_6BED4_INT_H
#define E6_TUNNEL_IO_6BED4_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "common/counters.h"
#include "common/strbuf.h"
#include "conf/conf.h"
#include "tunnel/gso.h"
#include "tunnel/sixbed4.h"
#include "tunnel/tun_dev.h"
#include "tunnel/worker.h"

/* TUN queues of a router tunnel, each read by its own encap worker */
#define TB4_MAX_QUEUES TUN_DEV_MAX_QUEUES
/* queues chosen when the environment leaves it to us: one per CPU up to this */
#define TB4_AUTO_QUEUES 4

/* datagrams or TUN packets per batch */
#define TB4_BATCH 64
/* room per packet: the link MTU is 1280; a larger datagram is counted as
 * truncated and dropped */
#define TB4_SLOT 2048
/* UDP datagrams one encap send batch holds (the segments of TUN reads) */
#define TB4_OUT_SLOTS 128
/* room per received message when the socket takes UDP_GRO: a coalesced
 * run of datagrams is at most one IPv4 packet */
#define TB4_GRO_SLOT 65536

/* UDP segmentation offload (UDP_SEGMENT): the datagrams one message may
 * carry (the kernel's UDP_MAX_SEGMENTS was 64 before Linux 6.9), and their
 * payload bytes together (one IPv4 packet) */
#define TB4_UDP_GSO_SEGS  64
#define TB4_UDP_GSO_BYTES (65535 - 20 - 8)
/* after the kernel refused one (a path whose device MTU is below a
 * datagram, no checksum offload on the way out), a worker sends datagram
 * by datagram this long before it asks again */
#define TB4_UDP_GSO_RETRY_MS 10000

/* RAs answering rebinding (or forged) sources: per second, burst */
#define TB4_RA_REBIND_RATE  100
#define TB4_RA_REBIND_BURST 50
/* RAs answering solicitations (an RS is small, an RA with routes is not:
 * a reflector in the making when unbounded) */
#define TB4_RA_SOLICIT_RATE  1000
#define TB4_RA_SOLICIT_BURST 200

/* Counters of the "6bed4" set: per worker block (and one of the control
 * plane), summed for the views. */
enum tb4_counter {
    B4_ENCAP_PACKETS,   /* TUN -> UDP */
    B4_ENCAP_BYTES,     /* IPv6 bytes */
    B4_DECAP_PACKETS,   /* UDP -> TUN */
    B4_DECAP_BYTES,     /* IPv6 bytes */
    B4_LOCAL_PACKETS,   /* of the decapsulated: to a port-0 address of the /64 */
    B4_HAIRPIN_PACKETS, /* UDP -> UDP, peer to peer */
    B4_HAIRPIN_BYTES,
    B4_RS_RECEIVED,       /* router: RS answered or suppressed */
    B4_RA_SENT,           /* router: to an RS or a rebinding source */
    B4_RA_SUPPRESSED,     /* router: the token bucket said no */
    B4_NS_ANSWERED,       /* router: NS for its own addresses */
    B4_KEEPALIVES,        /* router: received; peer: sent */
    B4_RS_SENT,           /* peer */
    B4_RA_RECEIVED,       /* peer: RAs from the router (prefix changes counted apart) */
    B4_PREFIX_CHANGES,    /* peer: a new /114 configured (the first one counts) */
    B4_PEERS_REFUSED,     /* router: the peer table was full of higher classes */
    B4_SEND_ERRORS,       /* sendmmsg / send refused a datagram */
    B4_TUN_ERRORS,        /* a write into the TUN failed */
    B4_RX_TRUNCATED,      /* a datagram larger than TB4_SLOT (a run: each) */
    B4_GSO_PACKETS,       /* TUN offloads: super-packets read and cut */
    B4_GSO_SEGMENTS,      /* the datagrams they became */
    B4_CSUM_COMPLETED,    /* packets whose checksum the kernel left to us */
    B4_GRO_PACKETS,       /* super-packets written (merged runs of a receive batch) */
    B4_GRO_SEGMENTS,      /* the packets they merged */
    B4_UDP_GSO_SENDS,     /* UDP_SEGMENT: messages that carried several datagrams */
    B4_UDP_GSO_DATAGRAMS, /* the datagrams they carried */
    B4_UDP_GRO_RECEIVES,  /* UDP_GRO: coalesced datagrams received */
    B4_UDP_GRO_DATAGRAMS, /* the datagrams they held */
    B4_UDP_GSO_FALLBACKS, /* a UDP_SEGMENT send the kernel refused, sent one by one */
    B4_GSO_DROP_BASE,     /* + enum gso_reject (GSO_OK unused): refused TUN reads */
    B4_DROP_BASE = B4_GSO_DROP_BASE + GSO_R__COUNT, /* + enum tb4_drop (TB4_OK unused) */
    B4__COUNT = B4_DROP_BASE + TB4_D__COUNT,
};
extern const char *tb4_counter_names[B4__COUNT];
/* Fill the drop names from tb4_drop_name(); once, before any set is made. */
void tb4_counter_names_init(void);

/* ---- pure helpers (unit-tested) ---------------------------------------- */

/* A token bucket in thousandths of a token, on a caller's millisecond clock. */
struct tb4_bucket {
    uint64_t milli; /* tokens x 1000 */
    uint64_t last_ms;
    uint32_t rate;  /* tokens per second */
    uint32_t burst; /* tokens at most */
};
void tb4_bucket_init(struct tb4_bucket *b, uint32_t rate, uint32_t burst, uint64_t now_ms);
/* Take one token: true when there was one. A clock going back refills nothing. */
bool tb4_bucket_take(struct tb4_bucket *b, uint64_t now_ms);

/* One batch's peer-table work, merged by endpoint so the table (and its
 * lock) is touched once per endpoint per batch. */
struct tb4_touch {
    struct tb4_endpoint ep;
    enum tb4_peer_class cls; /* the highest this batch proved */
    uint64_t packets;
    bool keepalive_only; /* only keepalives: promote if present, else insert as solicited */
};
/*
 * Record ep in v[0..*n) (capacity cap): keepalive true for an empty
 * datagram, else cls is what the packet proved. false when v is full and
 * ep is new (the caller flushes and retries).
 */
bool tb4_touch_add(struct tb4_touch *v, size_t *n, size_t cap, struct tb4_endpoint ep,
                   bool keepalive, enum tb4_peer_class cls);
/*
 * Apply v to the table at now_ms (the caller holds its lock). Returns how
 * many inserts the table refused (full of higher classes, or no memory).
 * A keepalive from an endpoint the table does not hold (a router restarted,
 * its peers only keep their mappings open) inserts it as solicited: no more
 * trust than an RS from the same forgeable source earns, and the class
 * that a flood churns among itself.
 */
size_t tb4_touch_apply(struct tb4_peers *p, const struct tb4_touch *v, size_t n, uint64_t now_ms);

/*
 * One message of a send batch: one UDP datagram, or (UDP_SEGMENT) a run of
 * datagrams to the same endpoint, all of the first one's length but the
 * last, which may be shorter and then ends the run. kind is the worker's
 * own (what the counters say of it).
 */
struct tb4_omsg {
    struct tb4_endpoint ep; /* when named; unnamed: the connected router */
    bool named;
    uint8_t kind;
    uint16_t seg;  /* the first datagram's length: the segment size */
    uint16_t nseg; /* datagrams */
    uint32_t bytes;
    uint16_t iov0; /* its first iovec in the batch (one per datagram) */
};
/*
 * Whether a datagram of len bytes of the given kind, to ep (named) or the
 * connected peer (!named), can join o: the same kind and destination, o
 * not ended by a shorter datagram, len not above o's segment size, and o
 * below TB4_UDP_GSO_SEGS datagrams and TB4_UDP_GSO_BYTES with it. Empty
 * datagrams never join (a segment size of 0 is no segmentation).
 */
bool tb4_omsg_joins(const struct tb4_omsg *o, uint8_t kind, bool named, struct tb4_endpoint ep,
                    size_t len);

/* The kernel state a peer wants from an RA. */
struct tb4_peer_want {
    struct in6_addr addr; /* lanip 1 of the /114, as ADDR/114 */
    struct e6_prefix pio; /* the /114 */
    struct e6_prefix routes[TB4_MAX_ROUTES + 1];
    size_t n_routes;
};
/*
 * default_route: ::/0 only. Otherwise the /64 the /114 lies in and the
 * RA's Route Information prefixes (without ::/0, which default-route = no
 * refuses, and without duplicates or what the /64 already covers exactly).
 * false when the PIO is not a usable 6bed4 /114.
 */
bool tb4_peer_want_build(const struct tb4_ra_info *ra, bool default_route,
                         struct tb4_peer_want *out);
/* The same address and routes (order aside). */
bool tb4_peer_want_equal(const struct tb4_peer_want *a, const struct tb4_peer_want *b);

/*
 * A reload keeps a 6bed4 tunnel running only when its section is the same
 * in every key that tunnel uses (a router's: mode, local, port, ttl, mtu,
 * prefix, routes in order, peers, peer-timeout; a peer's: mode, local,
 * port, ttl, mtu, router, local-port, keepalive, keepalive-ttl,
 * default-route); any other change re-creates it.
 */
bool tb4_conf_same(const struct conf_tunnel *a, const struct conf_tunnel *b);

/*
 * When a configured peer solicits again: every 4 keepalive periods (a NAT
 * that mapped us anew while we only sent keepalives gives the router no
 * IPv6 source to answer with a fresh RA; an RS does), at most half the
 * router lifetime, never more often than TB4_RESOLICIT_MIN_MS.
 */
#define TB4_RESOLICIT_MIN_MS 60000u
uint64_t tb4_resolicit_ms(uint16_t router_lifetime, unsigned keepalive_s);

/* One row of the peers view, copied out of the table under its lock. */
struct tb4_peer_row {
    struct tb4_endpoint ep;
    enum tb4_peer_class cls;
    uint64_t first_ms, last_ms, packets;
};
struct tb4_rows {
    struct tb4_peer_row *v;
    size_t n, cap;
};
/* Copy at most rows->cap entries, most recently heard first (caller locks). */
void tb4_rows_collect(const struct tb4_peers *p, struct tb4_rows *rows);
/*
 * One router's entry of the peers view: its /64, the bound and count, and
 * one row per peer (endpoint, its /114, class, seconds since first and
 * last heard, packets). count may exceed n (rows were capped).
 */
void tb4_render_peers(struct e6_json *j, enum e6_view_format fmt, const char *name,
                      const struct e6_prefix *prefix64, size_t bound, size_t count,
                      const struct tb4_peer_row *rows, size_t n, uint64_t now_ms);
/* "192.0.2.1:25790"; buf of at least TB4_EPSTRLEN */
#define TB4_EPSTRLEN 24
const char *tb4_ep_format(struct tb4_endpoint ep, char *buf, size_t len);

/* ---- workers (io_6bed4_worker.c) ----------------------------------------- */

/* What the workers see of a tunnel. */
struct tb4_fast {
    bool router;
    int udpfd;
    int tunfd0;                    /* the decap worker writes here */
    int rafd;                      /* peer: write end of the pipe that hands RAs to the loop */
    bool vnet;                     /* every TUN read and write starts with a virtio_net_hdr */
    bool udp_gso;                  /* the socket takes UDP_SEGMENT sends */
    bool udp_gro;                  /* the socket hands coalesced runs (UDP_GRO) */
    unsigned offload;              /* TUN_F_* the kernel took (vnet only) */
    struct tb4_router_cfg rcfg;    /* router (routes point into the tunnel) */
    struct tb4_endpoint router_ep; /* peer: the only source accepted */
    bool table;                    /* router: a peer table is kept (peers > 0) */
    pthread_mutex_t mu;
    /* guarded by mu */
    struct tb4_peers peers; /* router, when table */
    uint64_t last_now;      /* the table's clock never goes back (tb4_fast_now) */
    bool have_self;         /* peer: the router gave us a /114 */
    struct in6_addr self;
    /* decap worker only */
    struct tb4_bucket ra_rebind, ra_solicit;
};

enum tb4_worker_kind {
    TB4_W_ENCAP, /* TUN -> UDP */
    TB4_W_DECAP, /* UDP -> TUN, hair-pin, replies */
};

struct tb4_worker {
    enum tb4_worker_kind kind;
    int tunfd; /* encap: its TUN queue */
    struct tun_thread th;
    struct tb4_fast *f; /* set by tb4_worker_start */
    e6_counter_block cnt;
    uint64_t base[B4__COUNT];   /* block values when it was taken (blocks are reused) */
    int block_slot;             /* in the service's pool */
    uint64_t udp_gso_off_until; /* monotonic ms: UDP_SEGMENT refused, not asked before then */
    bool udp_gso_logged;        /* its first refusal was logged */
};

/*
 * The peer table's clock, with f->mu held: threads read the monotonic
 * clock before they get the lock, so one that read earlier may come later.
 */
static inline uint64_t tb4_fast_now(struct tb4_fast *f, uint64_t now_ms)
{
    if (now_ms < f->last_now)
        return f->last_now;
    f->last_now = now_ms;
    return now_ms;
}

int tb4_worker_start(struct tb4_worker *w, struct tb4_fast *f, char *err, size_t errlen);
void tb4_worker_stop(struct tb4_worker *w);

#endif
