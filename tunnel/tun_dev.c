/*
 * tunnel/tun_dev: TUN descriptors and interfaces, their offloads and a
 * default route through them (see tun_dev.h).
 */
#include "config.h"

/* glibc's net/if.h before any linux/ header: libc-compat then skips the duplicates */
#include <net/if.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "tunnel/tun_dev.h"

static int tun_fd_new(void)
{
    return open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
}

int tun_dev_preopen(struct tun_dev_spares *sp, size_t want)
{
    if (want > TUN_DEV_MAX_SPARES)
        want = TUN_DEV_MAX_SPARES;
    while (sp->n < want) {
        int fd = tun_fd_new();
        if (fd < 0)
            return sp->n ? 0 : -errno; /* later opens may still work (mode 0666) */
        sp->fd[sp->n++] = fd;
    }
    return 0;
}

void tun_dev_spares_close(struct tun_dev_spares *sp)
{
    while (sp->n)
        close(sp->fd[--sp->n]);
}

/* queue q: the first creates the interface, the others attach to it */
static int open_queue(struct tun_dev_spares *sp, const char *name, const struct tun_dev_opts *o,
                      int *fd, char *err, size_t errlen)
{
    *fd = sp && sp->n ? sp->fd[--sp->n] : tun_fd_new();
    if (*fd < 0) {
        int r = -errno;
        snprintf(err, errlen, "tunnel %s: cannot open /dev/net/tun: %s%s", name, strerror(-r),
                 r == -EACCES ? " (edge6d no longer runs as root and the device is not "
                                "world-writable: make it mode 0666, as udev does, or restart "
                                "edge6d so it opens what the new tunnels need before dropping "
                                "privileges)"
                              : "");
        return r;
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE | (o->vnet_hdr ? IFF_VNET_HDR : 0);
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
    if (ioctl(*fd, TUNSETIFF, &ifr) < 0) {
        int r = -errno;
        snprintf(err, errlen, "tunnel %s: cannot create the TUN interface: %s%s", name,
                 strerror(-r),
                 r == -EBUSY || r == -EINVAL
                     ? " (an interface of that name exists and is not a free multi-queue TUN)"
                     : "");
        return r;
    }
    if (o->vnet_hdr) {
        int sz = (int)sizeof(struct virtio_net_hdr);
        if (ioctl(*fd, TUNSETVNETHDRSZ, &sz) < 0 ||
            ioctl(*fd, TUNSETOFFLOAD, (unsigned long)o->offload) < 0) {
            int r = -errno;
            snprintf(err, errlen, "tunnel %s: cannot set the TUN's offloads: %s", name,
                     strerror(-r));
            return r;
        }
    }
    return 0;
}

int tun_dev_open(struct tun_dev_spares *sp, const char *name, const struct tun_dev_opts *o,
                 int *fds, int *ifindex, char *err, size_t errlen)
{
    int r = 0;
    for (unsigned q = 0; q < o->queues; q++)
        fds[q] = -1;
    if (strlen(name) >= IFNAMSIZ) {
        snprintf(err, errlen, "tunnel %s: name too long for an interface", name);
        return -EINVAL;
    }
    for (unsigned q = 0; q < o->queues && r == 0; q++)
        r = open_queue(sp, name, o, &fds[q], err, errlen);
    if (r == 0) {
        *ifindex = (int)if_nametoindex(name);
        if (*ifindex <= 0) {
            r = -errno;
            snprintf(err, errlen, "tunnel %s: TUN created but not found: %s", name, strerror(-r));
        }
    }
    if (r < 0) {
        /* the interface is not persistent: it goes with its last queue */
        for (unsigned q = 0; q < o->queues; q++) {
            if (fds[q] >= 0)
                close(fds[q]);
            fds[q] = -1;
        }
    }
    return r;
}

unsigned tun_dev_queues(unsigned asked, unsigned auto_max, unsigned max)
{
    unsigned q = asked;
    if (q == 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        q = cpus < 1 ? 1 : cpus > (long)auto_max ? auto_max : (unsigned)cpus;
    }
    if (q > max)
        q = max;
    return q ? q : 1;
}

bool tun_dev_set_txqlen(const char *name, unsigned qlen)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
    ifr.ifr_qlen = (int)qlen;
    int r = ioctl(fd, SIOCSIFTXQLEN, &ifr);
    int e = errno;
    close(fd);
    errno = e;
    return r == 0;
}

static const unsigned offload_steps[] = {
    TUN_F_CSUM | TUN_F_TSO6 | TUN_F_TSO_ECN,
    TUN_F_CSUM | TUN_F_TSO6,
    TUN_F_CSUM,
};

const char *tun_dev_offload_env_off(void)
{
    const char *env = getenv("EDGE6_TUN_OFFLOAD");
    if (env && (strcmp(env, "off") == 0 || strcmp(env, "0") == 0 || strcmp(env, "no") == 0))
        return env;
    return NULL;
}

unsigned tun_dev_offload_negotiate(int fd, char *why, size_t whylen, int *refused)
{
    *refused = 0;
    const char *env = tun_dev_offload_env_off();
    if (env) {
        snprintf(why, whylen, "off (EDGE6_TUN_OFFLOAD=%s)", env);
        return 0;
    }
    for (size_t i = 0; i < sizeof(offload_steps) / sizeof(offload_steps[0]); i++) {
        unsigned f = offload_steps[i];
        if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)f) == 0) {
            snprintf(why, whylen, "csum%s%s", f & TUN_F_TSO6 ? ",tso6" : "",
                     f & TUN_F_TSO_ECN ? ",tso_ecn" : "");
            return f;
        }
        *refused = errno;
    }
    snprintf(why, whylen, "off (the kernel refused: %s)", strerror(*refused));
    return 0;
}

unsigned tun_dev_offload_setup(int fd, const char *name, char *why, size_t whylen)
{
    int refused;
    unsigned f = tun_dev_offload_negotiate(fd, why, whylen, &refused);
    if (!f && !refused)
        e6_notice("tunnel %s: TUN offloads %s", name, why);
    else if (!f)
        e6_warn("tunnel %s: the kernel refused the TUN offloads (%s): running without, about one "
                "system call per packet",
                name, strerror(refused));
    else if (refused)
        e6_info("tunnel %s: TUN offloads %s (the kernel refused more: %s)", name, why,
                strerror(refused));
    return f;
}

int tun_dev_default_route_add(struct e6_nl *nl, const char *name, int ifindex, uint8_t protocol,
                              uint32_t *metric)
{
    struct e6_nl_route_spec r = {
        .ifindex = ifindex, .metric = TUN_DEFAULT_METRIC, .protocol = protocol};
    /* never replace someone else's default route: add beside it */
    int e = e6_nl_route_add(nl, &r, false);
    if (e == -EEXIST) {
        r.metric = TUN_DEFAULT_METRIC_BACKUP;
        e = e6_nl_route_add(nl, &r, false);
        if (e == 0)
            e6_warn("tunnel %s: a default route with metric %u already exists; the "
                    "tunnel's default route got metric %u and is used only without it",
                    name, TUN_DEFAULT_METRIC, TUN_DEFAULT_METRIC_BACKUP);
    }
    if (e == 0)
        *metric = r.metric;
    return e;
}

void tun_dev_handover_take(struct tun_dev_handover *h, const char *name, int *fds, unsigned n,
                           int ifindex)
{
    tun_dev_handover_close(h);
    snprintf(h->name, sizeof(h->name), "%s", name);
    for (unsigned q = 0; q < n && q < TUN_DEV_MAX_QUEUES; q++) {
        h->fd[h->n++] = fds[q];
        fds[q] = -1;
    }
    h->ifindex = ifindex;
}

void tun_dev_handover_close(struct tun_dev_handover *h)
{
    while (h->n)
        close(h->fd[--h->n]);
}

int tun_dev_reopen(struct tun_dev_handover *h, struct tun_dev_spares *sp, const char *name,
                   const struct tun_dev_opts *o, int *fds, int *ifindex, char *err, size_t errlen)
{
    if (h && h->n && h->n == o->queues && strcmp(h->name, name) == 0) {
        for (unsigned q = 0; q < h->n; q++)
            fds[q] = h->fd[q];
        *ifindex = h->ifindex;
        h->n = 0;
        return 0;
    }
    if (h)
        tun_dev_handover_close(h);
    return tun_dev_open(sp, name, o, fds, ifindex, err, errlen);
}
