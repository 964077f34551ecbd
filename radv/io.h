/*
 * radv/io: the I/O shell around the Router Advertisement engines (ra.h).
 * It owns the one raw ICMPv6 socket shared by every advertising interface
 * (RS and RA in, RAs out from the interface's link-local address), the
 * all-routers group memberships, the link state read from common/netlink,
 * one timer per engine, the RFC 9096 history file (history.h), reload
 * reconciliation and the views edge6ctl shows.
 *
 * Everything runs on the control-plane loop; nothing here blocks.
 */
#ifndef E6_RADV_IO_H
#define E6_RADV_IO_H

#include <stdbool.h>
#include <stddef.h>

#include "common/counters.h"
#include "common/loop.h"
#include "common/netlink.h"
#include "common/strbuf.h"
#include "conf/conf.h"

struct ra_service;

struct ra_service_env {
    struct e6_loop *loop;
    struct e6_nl *nl; /* shared with other modules; the caller processes it */
    struct e6_counter_registry *registry;
    /* Called (from the loop) when a stop finished: every engine is done. */
    void (*on_done)(void *arg);
    void *on_done_arg;
};

/* A service with no interface yet. 0 or -ENOMEM. env is copied. */
int ra_service_new(struct ra_service **out, const struct ra_service_env *env);
/*
 * An engine for every `interface` of c; opens the ICMPv6 socket when there
 * is at least one (needs CAP_NET_RAW), subscribes to netlink and restores
 * the history from c's state directory. 0 or -errno with err.
 */
int ra_service_start(struct ra_service *s, const struct conf *c, char *err, size_t errlen);
/*
 * After a reload: interfaces that stay keep their engine (new config),
 * new ones get an engine, removed ones send their final RAs and go.
 * Never keeps a pointer into old or new_. 0 or -errno with err.
 */
int ra_service_reconcile(struct ra_service *s, const struct conf *old, const struct conf *new_,
                         char *err, size_t errlen);
/*
 * goodbye: every engine sends its final RAs (up to 3, 3 s apart);
 * otherwise it stops at once. on_done is called once everything is done
 * (possibly from inside this call).
 */
void ra_service_stop(struct ra_service *s, bool goodbye);
bool ra_service_done(const struct ra_service *s);
void ra_service_free(struct ra_service *s);

/* `edge6ctl status`: per interface its state, link and next RA (an e6_view_fn). */
void ra_service_view(struct e6_json *j, enum e6_view_format fmt, void *service);
/*
 * `edge6ctl ra [IFACE]`: the RA each interface (or only ifname) currently
 * advertises, decoded. false with why when ifname is not configured.
 */
bool ra_service_view_detail(struct ra_service *s, const char *ifname, struct e6_json *j,
                            enum e6_view_format fmt, char *why, size_t whylen);

#endif
