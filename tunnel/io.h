/*
 * tunnel/io: the tunnels' shell. For every 6in4 `tunnel` section it owns
 * the TUN interface (created with IFF_TUN | IFF_NO_PI, one queue per
 * worker with IFF_MULTI_QUEUE; its MTU, addresses and routes set through
 * common/netlink), the raw protocol-41 socket on the IPv4 side, the raw
 * ICMPv4 socket that hears "fragmentation needed", and the worker threads
 * of the fast path: they read batches from the TUN and the raw socket,
 * decide with tunnel/sixin4 against the current immutable tun_table
 * (published by the control plane and swapped atomically on reload) and
 * write batches out, counting per thread. It also checks the forwarding
 * sysctls of the interfaces edge6d routes between (and sets them when the
 * configuration says manage-sysctls = yes), and detects whether the
 * kernel has a sit driver (`kernel = auto` falls back to userspace, and
 * says so).
 *
 * The control plane (this file's API) runs on the daemon's loop; only the
 * workers run elsewhere.
 */
#ifndef E6_TUNNEL_IO_H
#define E6_TUNNEL_IO_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/counters.h"
#include "common/loop.h"
#include "common/netlink.h"
#include "common/strbuf.h"
#include "conf/conf.h"

/* Routing protocol number on the routes a tunnel installs (its routed prefixes). */
#define TUN_RTPROT 231

struct tun_service;

struct tun_service_env {
    struct e6_loop *loop;
    struct e6_nl *nl; /* shared; the caller processes it */
    struct e6_counter_registry *registry;
    /* TUN queues per tunnel, one encap worker thread each (the kernel
     * spreads flows over them); 0: one per CPU, at most 4. Capped at 8. */
    unsigned queues;
};

int tun_service_new(struct tun_service **out, const struct tun_service_env *env);
/*
 * Before the privilege drop: open /dev/net/tun for c's 6in4 tunnels (and a
 * few more, for reloads), so the tunnels can be created where the device
 * is root's only (mode 0600; udev usually makes it 0666). The fds wait,
 * unattached, until start or a reload takes them. 0 or -errno (nothing
 * could be opened: start tries again and reports the error).
 */
int tun_service_preopen(struct tun_service *s, const struct conf *c);
/*
 * Create and configure every 6in4 tunnel of c (TUN, addresses, routes,
 * sockets, workers) and check the sysctls. Needs CAP_NET_ADMIN (TUN,
 * netlink, sysctls) and CAP_NET_RAW (raw sockets). 0 or -errno with err.
 */
int tun_service_start(struct tun_service *s, const struct conf *c, char *err, size_t errlen);
/*
 * After a reload: tunnels that stay keep their TUN and workers; clients
 * added, removed or changed (a new remote: tunnel-broker "update
 * endpoint") take effect through a new table, the others undisturbed.
 */
int tun_service_reconcile(struct tun_service *s, const struct conf *old, const struct conf *new_,
                          char *err, size_t errlen);
/* Stop the workers, remove routes and addresses, close the TUNs. */
void tun_service_stop(struct tun_service *s);
void tun_service_free(struct tun_service *s);

/*
 * For the NDP proxy's `tunnel NAME` rules: 1 when target is a client's
 * link address or inside one of its routed prefixes in tunnel NAME, 0
 * when not, -1 when this service runs no tunnel of that name.
 */
int tun_service_member(const struct tun_service *s, const char *tunnel,
                       const struct in6_addr *target);

/* `edge6ctl status`: tunnels, their clients with counters, sysctl findings (e6_view_fn). */
void tun_service_view(struct e6_json *j, enum e6_view_format fmt, void *service);

#endif
