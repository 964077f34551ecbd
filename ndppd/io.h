/*
 * ndppd/io: the I/O shell around the NDP proxy engines (ndp.h), one per
 * `proxy` section. It owns, per proxied interface, a libpcap capture
 * (compiled BPF for NS with or without a Hop-by-Hop header, immediate
 * mode, memory-mapped ring, inbound only, all-multicast through a
 * PACKET_MR_ALLMULTI membership on its socket: never by flipping interface
 * flags) through which answers are also injected, Ethernet or raw IPv6;
 * one raw ICMPv6 socket for downstream probes and the NAs that answer
 * them; the link, route and address state read from common/netlink; the
 * kernel proxy entries and autowire routes of confirmed targets (removed
 * on expiry and exit); one timer per engine; reload reconciliation; and
 * the views behind `edge6ctl status` and `edge6ctl neighbors`.
 *
 * Everything runs on the control-plane loop; nothing here blocks.
 */
#ifndef E6_NDPPD_IO_H
#define E6_NDPPD_IO_H

#include <stdbool.h>
#include <stddef.h>

#include "common/counters.h"
#include "common/loop.h"
#include "common/netlink.h"
#include "common/strbuf.h"
#include "conf/conf.h"
#include "ndppd/ndp.h"

/* Routing protocol number on autowire routes, so leftovers can be found. */
#define NDP_RTPROT_AUTOWIRE 230

struct ndp_service;

/*
 * Membership oracle wired by the daemon when a tunnel module knows the
 * answer (6in4 clients, live 6bed4 peers); same contract as
 * ndp_ops.member. NULL: NDP_UNKNOWN for everything.
 */
typedef enum ndp_verdict (*ndp_member_fn)(void *arg, enum conf_proxy_method m, const char *tunnel,
                                          const struct in6_addr *target);

struct ndp_service_env {
    struct e6_loop *loop;
    struct e6_nl *nl; /* shared with other modules; the caller processes it */
    struct e6_counter_registry *registry;
    ndp_member_fn member;
    void *member_arg;
};

/* A service with no proxy yet. 0 or -ENOMEM. env is copied. */
int ndp_service_new(struct ndp_service **out, const struct ndp_service_env *env);
/*
 * An engine and a capture for every `proxy` of c (a capture opens when its
 * interface exists and is up; until then the proxy waits for netlink).
 * Needs CAP_NET_RAW (capture, raw socket) and CAP_NET_ADMIN (proxy
 * entries, routes). 0 or -errno with err.
 */
int ndp_service_start(struct ndp_service *s, const struct conf *c, char *err, size_t errlen);
/*
 * After a reload: proxies that stay keep their engine and sessions (new
 * config), new ones start, removed ones end (their kernel entries and
 * routes removed). Never keeps a pointer into old or new_.
 */
int ndp_service_reconcile(struct ndp_service *s, const struct conf *old, const struct conf *new_,
                          char *err, size_t errlen);
/* Ends every session (kernel entries and routes removed), closes captures. */
void ndp_service_stop(struct ndp_service *s);
void ndp_service_free(struct ndp_service *s);

/* `edge6ctl status`: per proxy its link, capture, rules and session counts (e6_view_fn). */
void ndp_service_view(struct e6_json *j, enum e6_view_format fmt, void *service);
/*
 * `edge6ctl neighbors [IFACE]`: every session with its state, downstream,
 * rule and time left. arg is a struct ndp_neighbors_query.
 */
struct ndp_neighbors_query {
    struct ndp_service *service;
    const char *iface; /* NULL: every proxy */
};
void ndp_service_neighbors_view(struct e6_json *j, enum e6_view_format fmt, void *query);
/* true when a proxy section names iface */
bool ndp_service_has_proxy(const struct ndp_service *s, const char *iface);

#endif
