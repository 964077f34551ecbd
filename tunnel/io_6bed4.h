/*
 * tunnel/io_6bed4: the 6bed4 shell. For every `tunnel NAME { type = 6bed4 }`
 * section it owns the TUN interface (tunnel/tun_dev; MTU 1280; a router
 * routes its /64 into it with protocol TUN_RTPROT, a peer puts its /114
 * address on it and its default route or the router's routes), the UDP
 * socket on the IPv4 side, and the worker threads that carry packets
 * between them with batches (recvmmsg/sendmmsg; TCP super-packets cut and
 * merged at the TUN through its offloads, tunnel/gso), deciding with
 * tunnel/sixbed4 and counting per thread (counter set "6bed4").
 *
 * Router: answers RS and NS over UDP, hair-pins peer-to-peer traffic,
 * keeps the bounded table of live peers (RS, rebinding RAs and keepalives
 * put an endpoint in as "solicited", a valid originator's traffic and a
 * keepalive from a known endpoint make it "active"; expiry on the loop)
 * the NDP proxy's `6bed4` rules ask through tb4_service_member, and
 * rate-limits the RAs it sends (token buckets: rebinding or forged
 * sources, and solicitations).
 *
 * Peer: solicits with back-off until an RA comes, configures lanip 1 of
 * the /114 on its TUN, sends keepalives (TTL keepalive-ttl) every
 * keepalive seconds, and follows a new prefix when the router sends one
 * (NAT rebinding).
 *
 * The control plane (this API) runs on the daemon's loop.
 */
#ifndef E6_TUNNEL_IO_6BED4_H
#define E6_TUNNEL_IO_6BED4_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/counters.h"
#include "common/loop.h"
#include "common/netlink.h"
#include "common/strbuf.h"
#include "conf/conf.h"

struct tb4_service;

struct tb4_service_env {
    struct e6_loop *loop;
    struct e6_nl *nl; /* shared; the caller processes it */
    struct e6_counter_registry *registry;
    /* TUN queues per router tunnel (encap workers); 0: one per CPU, at most 4 */
    unsigned queues;
};

int tb4_service_new(struct tb4_service **out, const struct tb4_service_env *env);
/* Before the privilege drop: /dev/net/tun for c's 6bed4 tunnels (and spares). */
int tb4_service_preopen(struct tb4_service *s, const struct conf *c);
/* Create every 6bed4 tunnel of c. CAP_NET_ADMIN. 0 or -errno with err. */
int tb4_service_start(struct tb4_service *s, const struct conf *c, char *err, size_t errlen);
/* Tunnels unchanged stay untouched (peer table kept); changed ones are re-created. */
int tb4_service_reconcile(struct tb4_service *s, const struct conf *old, const struct conf *new_,
                          char *err, size_t errlen);
void tb4_service_stop(struct tb4_service *s);
void tb4_service_free(struct tb4_service *s);

/*
 * The NDP proxy's `6bed4` rules: 1 when target is a 6bed4 address of the
 * /64 of router tunnel NAME (any router tunnel when tunnel is NULL) whose
 * endpoint is a live peer; 0 when not; -1 when no such router runs or it
 * keeps no peer table (peers = 0): the proxy then answers by the address
 * form alone.
 */
int tb4_service_member(const struct tb4_service *s, const char *tunnel,
                       const struct in6_addr *target);

/* `edge6ctl status`: the 6bed4 tunnels with their state and counters (e6_view_fn). */
void tb4_service_view(struct e6_json *j, enum e6_view_format fmt, void *service);
/* `edge6ctl peers [TUNNEL]`: live peers of each router (e6_view_fn; arg: the service). */
void tb4_service_peers_view(struct e6_json *j, enum e6_view_format fmt, void *service);

/* `edge6ctl peers TUNNEL`: one router's (tunnel NULL: every router's). */
struct tb4_peers_query {
    struct tb4_service *service;
    const char *tunnel;
};
void tb4_service_peers_query_view(struct e6_json *j, enum e6_view_format fmt, void *query);
/* A 6bed4 router of that name runs (to refuse `peers NAME` for anything else). */
bool tb4_service_has_router(const struct tb4_service *s, const char *tunnel);

#endif
