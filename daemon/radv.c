/*
 * daemon/radv: the "radv" module, radv/io's service seen through the
 * d6_module_ops interface.
 */
#include "config.h"

#include "daemon/daemon.h"
#include "radv/io.h"

static int radv_start(void *self, const struct conf *c, char *err, size_t errlen)
{
    return ra_service_start(self, c, err, errlen);
}

static int radv_reconcile(void *self, const struct conf *old, const struct conf *new_, char *err,
                          size_t errlen)
{
    return ra_service_reconcile(self, old, new_, err, errlen);
}

static void radv_stop(void *self, bool goodbye)
{
    ra_service_stop(self, goodbye);
}

static bool radv_done(void *self)
{
    return ra_service_done(self);
}

static void radv_free(void *self)
{
    ra_service_free(self);
}

const struct d6_module_ops d6_radv_module_ops = {
    .name = "radv",
    .start = radv_start,
    .reconcile = radv_reconcile,
    .stop = radv_stop,
    .done = radv_done,
    .free = radv_free,
    .view = ra_service_view,
};
