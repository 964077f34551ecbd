/*
 * tunnel/io_int: what tunnel/io.c (the control plane) and
 * tunnel/io_worker.c (the fast path threads) share, plus the pure helpers
 * of the shell the unit tests reach (the kernel changes a tunnel section
 * asks for, the interfaces whose forwarding matters).
 *
 * The hand-off between the two sides: a tunnel's current snapshot (struct
 * tun_snap: the immutable tun_table plus what the workers need besides) is
 * published with an atomic pointer store. A worker makes its sequence
 * number odd, loads the pointer, works a batch, and makes it even again.
 * After publishing a new snapshot the control plane waits until every
 * worker whose number was odd has moved on; then nobody can hold the old
 * snapshot and it is freed (tun_snap_synchronize). All the accesses are
 * sequentially consistent, which is what makes "even when read after the
 * store" mean "will load the new pointer".
 */
#ifndef E6_TUNNEL_IO_INT_H
#define E6_TUNNEL_IO_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "common/counters.h"
#include "common/netlink.h"
#include "conf/conf.h"
#include "tunnel/gso.h"
#include "tunnel/sixin4.h"
#include "tunnel/tun_dev.h"
#include "tunnel/worker.h"

/* TUN queues per tunnel, each read by its own encap worker */
#define TUN_MAX_QUEUES TUN_DEV_MAX_QUEUES
/* queues chosen when the environment leaves it to us: one per CPU up to this */
#define TUN_AUTO_QUEUES 4

/* packets read or received per batch */
#define TUN_BATCH 64
/* room per packet: the tunnel MTU is at most 1480, a reassembled IPv4
 * packet may be larger (dropped as truncated) */
#define TUN_SLOT 4096
/* encap with offloads: segments handed to one sendmmsg, and their room (a
 * segment is at most the tunnel MTU, 1480) */
#define TUN_OUT_SLOTS 128
#define TUN_OUT_SLOT  2048

/* Counters of the "tunnel" set: per worker block, summed for the view. */
enum tun_counter {
    TC_ENCAP_PACKETS,
    TC_ENCAP_BYTES,
    TC_DECAP_PACKETS,
    TC_DECAP_BYTES,
    TC_GSO_PACKETS,       /* TCP super-packets the TUN handed over (offloads on) */
    TC_GSO_SEGMENTS,      /* the packets they were cut into */
    TC_CSUM_COMPLETED,    /* packets whose checksum the kernel left to us */
    TC_GRO_PACKETS,       /* super-packets written into the TUN */
    TC_GRO_SEGMENTS,      /* received packets merged into them */
    TC_PTB_SENT,          /* Packet Too Big written into the TUN (too big for a client) */
    TC_PTB_RELAYED,       /* ICMPv4 fragmentation needed turned into a Packet Too Big */
    TC_ICMP4_IGNORED,     /* ICMPv4 not about one of our packets, or no inner source */
    TC_SEND_ERRORS,       /* sendmmsg refused a packet (EMSGSIZE, ENOBUFS ...) */
    TC_SENT_FRAGMENTABLE, /* <= 1280 bytes the path MTU refused, sent with DF clear */
    TC_TUN_ERRORS,        /* a write into the TUN failed */
    TC_RX_TRUNCATED,      /* a protocol-41 packet larger than a slot */
    TC_GSO_DROP_BASE,     /* + enum gso_reject (GSO_OK unused): refused TUN reads */
    TC_DROP_BASE = TC_GSO_DROP_BASE + GSO_R__COUNT, /* + enum tun_drop (TUN_OK unused) */
    TC__COUNT = TC_DROP_BASE + TUN_D__COUNT,
};
extern const char *tun_counter_names[TC__COUNT];
/* Fill the drop names from tun_drop_name(); once, before any set is made. */
void tun_counter_names_init(void);

/* Per client, kept across reloads while the client stays; atomics because
 * several workers may count the same client. */
struct tun_cstat {
    char name[64];
    _Atomic uint64_t pkts_in, bytes_in, pkts_out, bytes_out, drops_in, drops_out;
    /* shown by the view (control plane only) */
    struct in_addr remote;
    struct e6_prefix link;
    struct in6_addr client_address, server_address;
    struct e6_prefix *routed;
    size_t n_routed;
    uint32_t mtu;
    bool seen; /* reconcile's mark */
};

/* What a worker reads per batch: immutable once published. */
struct tun_snap {
    struct tun_table *tab;
    bool server;
    struct in_addr local;
    struct in6_addr self; /* client mode: our client-address (source of our PTBs) */
    size_t n;
    struct tun_cstat **cs; /* by tun_client.index; owned by the tunnel, not the snap */
};

enum tun_worker_kind {
    TUN_W_ENCAP, /* TUN -> protocol 41 */
    TUN_W_DECAP, /* protocol 41 (and ICMPv4) -> TUN */
};

struct tun_tunnel;

struct tun_tunnel_fast;

struct tun_worker {
    struct tun_tunnel *t;
    enum tun_worker_kind kind;
    int tunfd; /* its TUN queue (decap: the queue it writes into) */
    struct tun_thread th;
    struct tun_tunnel_fast *f; /* set by tun_worker_start */
    _Atomic uint64_t seq;      /* odd while a batch holds a snapshot */
    e6_counter_block cnt;
    uint64_t base[TC__COUNT]; /* block values when it was taken (blocks are reused) */
    int block_slot;           /* in the service's pool */
};

/* The tunnel state the workers see (the rest is in io.c). */
struct tun_tunnel_fast {
    _Atomic(struct tun_snap *) snap;
    int rawfd;  /* protocol 41 */
    int icmpfd; /* ICMPv4, -1 when none */
    /* mtu-discovery = dynamic only (else -1): protocol 41 with DF clear, send
     * only, for packets of at most 1280 bytes a shrunken path MTU refuses:
     * the IPv6 minimum MTU must cross, fragmented by IPv4 (RFC 4213 3.2) */
    int fragfd;
    /* What TUNSETOFFLOAD accepted (TUN_F_*, 0: none), set before the
     * workers start. The TUN always speaks with a virtio_net_hdr before
     * every packet (all zero without offloads); the decap worker writes
     * merged super-packets only when the kernel took TUN_F_TSO6. */
    unsigned offload;
};

/* io_worker.c */
int tun_worker_start(struct tun_worker *w, struct tun_tunnel_fast *f, char *err, size_t errlen);
void tun_worker_stop(struct tun_worker *w);
/* wait until no worker can still hold a snapshot published before now */
void tun_snap_synchronize(struct tun_worker *const *ws, size_t n);

/* ---- pure helpers (unit-tested) ---------------------------------------- */

struct tun_addr_want {
    struct in6_addr addr;
    uint8_t plen;
};

struct tun_route_want {
    struct e6_prefix dst;
    uint32_t metric;
};

/*
 * The addresses and routes a 6in4 section wants on its TUN (server: each
 * client's server-address/LEN and routed prefixes; client: client-address/LEN
 * and ::/0 when default-route). Arrays malloc'd (NULL when empty). 0 or
 * -ENOMEM.
 */
int tun_want_build(const struct conf_tunnel *t, struct tun_addr_want **addrs, size_t *n_addrs,
                   struct tun_route_want **routes, size_t *n_routes);

/*
 * Names of the interfaces edge6d routes between for c when it has a 6in4
 * tunnel or a 6bed4 router: every such tunnel, every proxy's upstream,
 * every advertising interface (their prefixes are routed through the
 * tunnel), without duplicates. Returns the count (0 without one), -ENOMEM;
 * *out malloc'd, its strings point into c.
 */
int tun_routed_ifaces(const struct conf *c, const char ***out);

/* "/proc/sys/net/ipv6/conf/IF/forwarding"; false when ifname cannot be a
 * sysctl path component (empty, "." "..", a slash, too long) */
bool tun_sysctl_path(const char *ifname, char *buf, size_t len);

#endif
