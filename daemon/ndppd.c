/*
 * daemon/ndppd: the "ndppd" module, ndppd/io's service seen through the
 * d6_module_ops interface.
 */
#include "config.h"

#include "daemon/daemon.h"
#include "ndppd/io.h"

static int ndppd_start(void *self, const struct conf *c, char *err, size_t errlen)
{
    return ndp_service_start(self, c, err, errlen);
}

static int ndppd_reconcile(void *self, const struct conf *old, const struct conf *new_, char *err,
                           size_t errlen)
{
    return ndp_service_reconcile(self, old, new_, err, errlen);
}

/* Nothing to say on the wire: every stop ends the sessions and removes
 * what they installed in the kernel at once. */
static void ndppd_stop(void *self, bool goodbye)
{
    (void)goodbye;
    ndp_service_stop(self);
}

static void ndppd_free(void *self)
{
    ndp_service_free(self);
}

const struct d6_module_ops d6_ndppd_module_ops = {
    .name = "ndppd",
    .start = ndppd_start,
    .reconcile = ndppd_reconcile,
    .stop = ndppd_stop,
    .free = ndppd_free,
    .view = ndp_service_view,
};
