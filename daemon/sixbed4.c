/*
 * daemon/sixbed4: the "6bed4" module, tunnel/io_6bed4's service (6bed4
 * routers and peers) seen through the d6_module_ops interface; and the NDP
 * proxy's membership oracle, which asks both tunnel services (6in4 and
 * 6bed4) and lives here so a unit test can link it without edge6d's main.
 */
#include "config.h"

#include "daemon/daemon.h"
#include "tunnel/io.h"
#include "tunnel/io_6bed4.h"

static int sixbed4_start(void *self, const struct conf *c, char *err, size_t errlen)
{
    return tb4_service_start(self, c, err, errlen);
}

static int sixbed4_reconcile(void *self, const struct conf *old, const struct conf *new_, char *err,
                             size_t errlen)
{
    return tb4_service_reconcile(self, old, new_, err, errlen);
}

/* Nothing to say on the wire: the tunnels go at once, goodbye or not (a
 * peer whose router went away keeps soliciting until one answers). */
static void sixbed4_stop(void *self, bool goodbye)
{
    (void)goodbye;
    tb4_service_stop(self);
}

static void sixbed4_free(void *self)
{
    tb4_service_free(self);
}

const struct d6_module_ops d6_sixbed4_module_ops = {
    .name = "6bed4",
    .start = sixbed4_start,
    .reconcile = sixbed4_reconcile,
    .stop = sixbed4_stop,
    .free = sixbed4_free,
    .view = tb4_service_view,
};

/*
 * `tunnel NAME` rules ask the 6in4 module: YES/NO from the tunnel's
 * current client table, UNKNOWN when no 6in4 tunnel of that name runs
 * (the proxy then falls back to the route). `6bed4 [NAME]` rules ask the
 * 6bed4 module: YES/NO from the router's table of live peers, UNKNOWN
 * when no such router runs or it keeps no table (the proxy then answers
 * by the address form: any port word but 0). arg is the daemon: both
 * services are created before the proxy and stop after it.
 */
enum ndp_verdict d6_proxy_member(void *arg, enum conf_proxy_method m, const char *tunnel,
                                 const struct in6_addr *target)
{
    const struct d6_daemon *d = arg;
    int r;
    if (!d)
        return NDP_UNKNOWN;
    switch (m) {
    case CONF_PROXY_TUNNEL:
        if (!tunnel || !d->tun)
            return NDP_UNKNOWN;
        r = tun_service_member(d->tun, tunnel, target);
        break;
    case CONF_PROXY_6BED4:
        /* no tunnel named: whichever 6bed4 router's /64 holds the target */
        if (!d->tb4)
            return NDP_UNKNOWN;
        r = tb4_service_member(d->tb4, tunnel, target);
        break;
    default:
        return NDP_UNKNOWN;
    }
    return r < 0 ? NDP_UNKNOWN : r ? NDP_YES : NDP_NO;
}
