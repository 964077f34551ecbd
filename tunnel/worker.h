/*
 * tunnel/worker: what the fast path threads of the 6in4 and the 6bed4
 * shells share. A thread (struct tun_thread) waits on its own epoll for
 * the descriptors it serves and an eventfd that stops it; the control
 * plane starts and stops it. A worker sends its batches with sendmmsg,
 * and writes into the TUN one packet or a receive batch with its TCP runs
 * merged into super-packets, counting into the caller's counter indices.
 */
#ifndef E6_TUNNEL_WORKER_H
#define E6_TUNNEL_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "common/counters.h"
#include "tunnel/gso.h"

/* One fast path thread, its epoll and its stop eventfd. */
struct tun_thread {
    int epfd;
    int stopfd; /* eventfd */
    pthread_t thread;
    bool running;
    _Atomic bool stop;
};

/* The fields before start: no descriptors, not running. */
#define TUN_THREAD_INIT                                                                            \
    {                                                                                              \
        .epfd = -1, .stopfd = -1                                                                   \
    }

/*
 * Make the epoll (the stop eventfd and fds[0..nfds) for reading) and run
 * fn(arg) in a new thread. 0, or -errno with err saying what failed
 * (prefixed with what, e.g. "6bed4 worker") and nothing left open.
 */
int tun_thread_start(struct tun_thread *t, const int *fds, size_t nfds, void *(*fn)(void *),
                     void *arg, const char *what, char *err, size_t errlen);
/* Stop and join a running thread, close its descriptors (also after a failed start). */
void tun_thread_stop(struct tun_thread *t);

static inline bool tun_thread_stopping(struct tun_thread *t)
{
    return atomic_load(&t->stop);
}

/*
 * The thread's wait: the descriptors that became readable into
 * ready[0..max) (the stop eventfd never among them) and their count, or
 * -1 when the thread is to end (stopped, or epoll failed: logged with
 * what).
 */
int tun_thread_wait(struct tun_thread *t, int *ready, int max, const char *what);

/* Count into a worker's block (none: .v NULL, nothing counted). */
static inline void tun_cnt_add(e6_counter_block b, size_t idx, uint64_t n)
{
    if (b.v)
        e6_count_add(b, idx, n);
}

/* What a borrowed block counted since it was lent (base: its values then). */
static inline uint64_t tun_block_count(e6_counter_block b, const uint64_t *base, size_t idx)
{
    if (!b.v)
        return 0;
    return atomic_load_explicit(&b.v[idx], memory_order_relaxed) - base[idx];
}

/* Where a worker's TUN writes count: its block and the indices in its set. */
struct tun_wcount {
    e6_counter_block cnt;
    size_t errors;       /* a write refused */
    size_t gro_packets;  /* super-packets written */
    size_t gro_segments; /* the packets merged into them */
};

/* Scratch for one receive batch's merge (a worker's, not on its stack). */
struct tun_merge {
    struct gso_plan plan;
    struct iovec iov[GSO_COALESCE_MAX + 1];
};

/*
 * Send msg[0..m) on fd with sendmmsg (non-blocking), going on past a
 * message the kernel refuses: sent(ctx, i) for each one it took,
 * refused(ctx, i, errno) for each one it did not (the callee counts it,
 * or still sends it some other way).
 */
void tun_send_batch(int fd, struct mmsghdr *msg, size_t m, void (*sent)(void *ctx, size_t i),
                    void (*refused)(void *ctx, size_t i, int err), void *ctx);

/* One whole packet into the TUN fd, behind an all-zero virtio header
 * when the TUN has one (vnet). */
void tun_write_pkt(int fd, bool vnet, const uint8_t *p, size_t len, const struct tun_wcount *c);

/*
 * The packets gp[0..n) (n at most GSO_COALESCE_MAX) into the TUN fd:
 * merged runs of TCP segments when the kernel takes them (vnet, TUN_F_TSO6
 * in offload), else one write each.
 */
void tun_write_batch(int fd, bool vnet, unsigned offload, struct gso_pkt *gp, size_t n,
                     struct tun_merge *m, const struct tun_wcount *c);

#endif
