/*
 * tunnel/tun_dev: the TUN device itself, shared by the 6in4 and 6bed4
 * shells: /dev/net/tun descriptors opened before the privilege drop
 * (spares), the multi-queue interface made from them (optionally with a
 * virtio_net_hdr before every packet and the kernel's offloads enabled),
 * and its transmit queue length, and a client's or peer's default route
 * through it.
 */
#ifndef E6_TUNNEL_TUN_DEV_H
#define E6_TUNNEL_TUN_DEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/netlink.h"

/* /dev/net/tun descriptors one service keeps for later tunnels */
#define TUN_DEV_MAX_SPARES 64

struct tun_dev_spares {
    int fd[TUN_DEV_MAX_SPARES];
    size_t n;
};

/*
 * Open /dev/net/tun until sp holds want descriptors (capped). 0, or
 * -errno when none at all could be opened (a later open may still work
 * when the device is world-writable).
 */
int tun_dev_preopen(struct tun_dev_spares *sp, size_t want);
void tun_dev_spares_close(struct tun_dev_spares *sp);

struct tun_dev_opts {
    unsigned queues; /* 1..; IFF_MULTI_QUEUE always (so queues can be added later) */
    /* IFF_VNET_HDR: every read and write starts with a struct virtio_net_hdr
     * (sizeof == 10, set with TUNSETVNETHDRSZ) */
    bool vnet_hdr;
    /* TUNSETOFFLOAD flags (TUN_F_CSUM, TUN_F_TSO6 ...) when vnet_hdr; 0: none */
    unsigned offload;
};

/*
 * Create (or attach to a free multi-queue TUN of that name) interface
 * `name`, one descriptor per queue into fds[0..queues-1], non-blocking,
 * close-on-exec; a spare from sp is used first. *ifindex set. On failure
 * every descriptor opened here is closed, fds[] are all -1, err says what
 * went wrong (with a hint for EACCES and EBUSY) and -errno is returned.
 */
int tun_dev_open(struct tun_dev_spares *sp, const char *name, const struct tun_dev_opts *o,
                 int *fds, int *ifindex, char *err, size_t errlen);

/* The value of EDGE6_TUN_OFFLOAD when it turns the offloads off ("off",
 * "0" or "no"; the TUN's, and a 6bed4 socket's UDP_SEGMENT and UDP_GRO),
 * else NULL. */
const char *tun_dev_offload_env_off(void);

/*
 * Ask a vnet_hdr TUN for the best offloads its kernel takes, best first:
 * TUN_F_CSUM | TUN_F_TSO6 | TUN_F_TSO_ECN, then without TSO_ECN, then
 * TUN_F_CSUM alone (the offloads are device-wide: any queue's fd will do).
 * The environment variable EDGE6_TUN_OFFLOAD=off (or 0, no) asks for none
 * (tests, diagnosis). Returns the flags now set, 0 for none; why gets
 * "csum,tso6,tso_ecn" or "off (...)" for views; *refused the errno of the
 * last step the kernel refused (0 when none was), for the caller's log.
 */
unsigned tun_dev_offload_negotiate(int fd, char *why, size_t whylen, int *refused);

/*
 * tun_dev_offload_negotiate, and the outcome logged for tunnel `name`: a
 * notice when none was asked for, a warning when the kernel refused them
 * all (about one system call per packet then), an info when it refused
 * only the better ones. Returns the flags now set.
 */
unsigned tun_dev_offload_setup(int fd, const char *name, char *why, size_t whylen);

/* metric of a client's or peer's default route ::/0 dev TUN: the kernel's default */
#define TUN_DEFAULT_METRIC 1024
/* when another ::/0 already holds that metric: ours waits behind it */
#define TUN_DEFAULT_METRIC_BACKUP 4096

/*
 * ::/0 dev ifindex (the TUN `name`) proto protocol, never replacing
 * someone else's default route: metric TUN_DEFAULT_METRIC, or
 * TUN_DEFAULT_METRIC_BACKUP (with a warning) when a default route already
 * holds that one. 0 and *metric set to the metric installed (to remove it
 * by), or -errno.
 */
int tun_dev_default_route_add(struct e6_nl *nl, const char *name, int ifindex, uint8_t protocol,
                              uint32_t *metric);

/*
 * The TUN queues (encap workers) per tunnel: asked, or when 0 one per
 * online CPU up to auto_max; at most max, at least 1.
 */
unsigned tun_dev_queues(unsigned asked, unsigned auto_max, unsigned max);

/*
 * A tunnel re-created by a reload keeps its TUN: the old one hands its
 * open queues over instead of closing them (the interface lives while one
 * is open), so no new /dev/net/tun descriptor is needed (there may be none
 * left once privileges are dropped) and the interface keeps its index.
 */
#define TUN_DEV_MAX_QUEUES 8
struct tun_dev_handover {
    char name[16]; /* IFNAMSIZ */
    int fd[TUN_DEV_MAX_QUEUES];
    unsigned n; /* 0: nothing handed over */
    int ifindex;
};
/* h takes fds[0..n) of interface name (fds[] set to -1); n <= TUN_DEV_MAX_QUEUES */
void tun_dev_handover_take(struct tun_dev_handover *h, const char *name, int *fds, unsigned n,
                           int ifindex);
/*
 * tun_dev_open, but with h's descriptors when h holds interface `name`
 * with o->queues queues (h is emptied: they are the caller's now). When h
 * holds something else, or nothing, h's descriptors are closed and the
 * TUN opened as usual. h may be NULL. The offloads are negotiated again
 * by the caller either way.
 */
int tun_dev_reopen(struct tun_dev_handover *h, struct tun_dev_spares *sp, const char *name,
                   const struct tun_dev_opts *o, int *fds, int *ifindex, char *err, size_t errlen);
/* close whatever h still holds */
void tun_dev_handover_close(struct tun_dev_handover *h);

/* ip link set NAME txqueuelen QLEN; false (errno set) when refused */
bool tun_dev_set_txqlen(const char *name, unsigned qlen);

#endif
