/*
 * daemon/tunnel: the "tunnel" module, tunnel/io's service seen through the
 * d6_module_ops interface.
 */
#include "config.h"

#include "daemon/daemon.h"
#include "tunnel/io.h"

static int tunnel_start(void *self, const struct conf *c, char *err, size_t errlen)
{
    return tun_service_start(self, c, err, errlen);
}

static int tunnel_reconcile(void *self, const struct conf *old, const struct conf *new_, char *err,
                            size_t errlen)
{
    return tun_service_reconcile(self, old, new_, err, errlen);
}

/* Nothing to say on the wire: the tunnels go at once, goodbye or not. */
static void tunnel_stop(void *self, bool goodbye)
{
    (void)goodbye;
    tun_service_stop(self);
}

static void tunnel_free(void *self)
{
    tun_service_free(self);
}

const struct d6_module_ops d6_tunnel_module_ops = {
    .name = "tunnel",
    .start = tunnel_start,
    .reconcile = tunnel_reconcile,
    .stop = tunnel_stop,
    .free = tunnel_free,
    .view = tun_service_view,
};
