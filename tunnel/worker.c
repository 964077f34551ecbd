/*
 * tunnel/worker: the fast path threads' start, wait and stop, their send
 * batches and their writes into the TUN, for both shells (see worker.h).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <linux/if_tun.h>

#include "common/log.h"
#include "tunnel/worker.h"

static int ep_add(int epfd, int fd)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
    return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

static void close_fds(struct tun_thread *t)
{
    if (t->epfd >= 0)
        close(t->epfd);
    if (t->stopfd >= 0)
        close(t->stopfd);
    t->epfd = t->stopfd = -1;
}

int tun_thread_start(struct tun_thread *t, const int *fds, size_t nfds, void *(*fn)(void *),
                     void *arg, const char *what, char *err, size_t errlen)
{
    int r;
    t->epfd = epoll_create1(EPOLL_CLOEXEC);
    t->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (t->epfd < 0 || t->stopfd < 0) {
        r = -errno;
        snprintf(err, errlen, "%s: %s", what, strerror(-r));
        goto fail;
    }
    r = ep_add(t->epfd, t->stopfd);
    for (size_t i = 0; i < nfds && r == 0; i++)
        r = ep_add(t->epfd, fds[i]);
    if (r < 0) {
        snprintf(err, errlen, "%s epoll: %s", what, strerror(-r));
        goto fail;
    }
    atomic_store(&t->stop, false);
    r = -pthread_create(&t->thread, NULL, fn, arg);
    if (r < 0) {
        snprintf(err, errlen, "cannot start a %s thread: %s", what, strerror(-r));
        goto fail;
    }
    t->running = true;
    return 0;
fail:
    close_fds(t);
    return r;
}

void tun_thread_stop(struct tun_thread *t)
{
    if (t->running) {
        atomic_store(&t->stop, true);
        uint64_t one = 1;
        ssize_t n = write(t->stopfd, &one, sizeof(one));
        (void)n;
        pthread_join(t->thread, NULL);
        t->running = false;
    }
    close_fds(t);
}

int tun_thread_wait(struct tun_thread *t, int *ready, int max, const char *what)
{
    struct epoll_event ev[8];
    if (max > 8)
        max = 8;
    while (!tun_thread_stopping(t)) {
        int n = epoll_wait(t->epfd, ev, max, -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            e6_err("%s: epoll_wait: %s", what, strerror(errno));
            return -1;
        }
        int k = 0;
        for (int i = 0; i < n; i++) {
            /* stop was set before the eventfd was written */
            if (ev[i].data.fd == t->stopfd)
                return -1;
            ready[k++] = ev[i].data.fd;
        }
        return k;
    }
    return -1;
}

void tun_send_batch(int fd, struct mmsghdr *msg, size_t m, void (*sent)(void *ctx, size_t i),
                    void (*refused)(void *ctx, size_t i, int err), void *ctx)
{
    size_t done = 0;
    while (done < m) {
        int r = sendmmsg(fd, msg + done, (unsigned)(m - done), MSG_DONTWAIT);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            /* the first message was refused: the rest may still go */
            refused(ctx, done, errno);
            done++;
            continue;
        }
        for (size_t i = done; i < done + (size_t)r; i++)
            sent(ctx, i);
        done += (size_t)r;
    }
}

static void writev_tun(int fd, const struct iovec *iov, int n, const struct tun_wcount *c)
{
    for (;;) {
        if (writev(fd, iov, n) >= 0)
            return;
        if (errno == EINTR)
            continue;
        tun_cnt_add(c->cnt, c->errors, 1);
        return;
    }
}

void tun_write_pkt(int fd, bool vnet, const uint8_t *p, size_t len, const struct tun_wcount *c)
{
    static const struct gso_vnet_hdr none;
    struct iovec iov[2] = {{.iov_base = (void *)&none, .iov_len = sizeof(none)},
                           {.iov_base = (void *)p, .iov_len = len}};
    if (vnet)
        writev_tun(fd, iov, 2, c);
    else
        writev_tun(fd, iov + 1, 1, c);
}

void tun_write_batch(int fd, bool vnet, unsigned offload, struct gso_pkt *gp, size_t n,
                     struct tun_merge *m, const struct tun_wcount *c)
{
    if (!vnet || !(offload & TUN_F_TSO6)) {
        for (size_t i = 0; i < n; i++)
            tun_write_pkt(fd, vnet, gp[i].p, gp[i].len, c);
        return;
    }
    gso_coalesce_plan(gp, n, &m->plan);
    for (size_t o = 0; o < m->plan.n_out; o++) {
        struct gso_vnet_hdr h;
        size_t k = gso_coalesce_build(&m->plan, o, gp, &h, m->iov, GSO_COALESCE_MAX + 1);
        if (!k)
            continue; /* cannot happen: the plan holds at most GSO_COALESCE_MAX */
        writev_tun(fd, m->iov, (int)k, c);
        if (m->plan.count[o] > 1) {
            tun_cnt_add(c->cnt, c->gro_packets, 1);
            tun_cnt_add(c->cnt, c->gro_segments, m->plan.count[o]);
        }
    }
}
