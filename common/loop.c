/*
 * common/loop: epoll dispatch, a binary min-heap of intrusive timers and a
 * signalfd. Heap nodes carry (deadline, arming sequence) so that timers
 * due at the same millisecond fire in the order they were armed, which a
 * plain heap would not guarantee.
 *
 * An fd removed while a batch of epoll events is being dispatched keeps
 * its registration record alive, marked dead, until the batch is over:
 * events already fetched for it are then skipped instead of reaching a
 * callback that its owner has torn down (or a new fd with the same number).
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "common/loop.h"

#define LOOP_MAX_EVENTS 64
#define LOOP_SIG_MAX    65 /* signals 1..64 */

struct fd_entry {
    int fd;
    uint32_t events;
    e6_fd_cb cb;
    void *arg;
    bool dead;
    bool internal; /* the loop's own signalfd: not counted as a callback */
    struct fd_entry *next_dead;
};

struct heap_node {
    uint64_t deadline;
    uint64_t seq;
    struct e6_timer *t;
};

struct sig_handler {
    e6_signal_cb cb;
    void *arg;
};

struct e6_loop {
    int epfd;
    bool fake;
    bool stop;
    unsigned dispatching;
    uint64_t fake_now;
    uint64_t ncb; /* callbacks run since creation */

    struct heap_node *heap;
    size_t nheap, heap_cap;
    uint64_t next_seq;

    struct fd_entry **fds; /* indexed by fd number */
    size_t fds_cap;
    struct fd_entry *dead; /* removed during dispatch, freed after it */

    int sigfd;
    sigset_t sigmask;
    struct sig_handler sig[LOOP_SIG_MAX];
};

uint64_t e6_monotonic_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int loop_create(struct e6_loop **out, bool fake, uint64_t origin)
{
    struct e6_loop *loop = calloc(1, sizeof(*loop));

    *out = NULL;
    if (!loop)
        return -ENOMEM;
    loop->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (loop->epfd < 0) {
        int err = -errno;
        free(loop);
        return err;
    }
    loop->fake = fake;
    loop->fake_now = origin;
    loop->sigfd = -1;
    sigemptyset(&loop->sigmask);
    *out = loop;
    return 0;
}

int e6_loop_new(struct e6_loop **out)
{
    return loop_create(out, false, 0);
}

int e6_loop_new_fake(struct e6_loop **out, uint64_t origin_ms)
{
    return loop_create(out, true, origin_ms);
}

void e6_loop_free(struct e6_loop *loop)
{
    if (!loop)
        return;
    /* Owners may still look at their timers; show them disarmed. */
    for (size_t i = 0; i < loop->nheap; i++)
        loop->heap[i].t->heap_index = SIZE_MAX;
    free(loop->heap);
    for (size_t i = 0; i < loop->fds_cap; i++)
        free(loop->fds[i]);
    free(loop->fds);
    while (loop->dead) {
        struct fd_entry *e = loop->dead;
        loop->dead = e->next_dead;
        free(e);
    }
    if (loop->sigfd >= 0)
        close(loop->sigfd);
    close(loop->epfd);
    free(loop);
}

uint64_t e6_loop_now(const struct e6_loop *loop)
{
    return loop->fake ? loop->fake_now : e6_monotonic_ms();
}

/* ---- file descriptors ---- */

static struct fd_entry *fd_lookup(const struct e6_loop *loop, int fd)
{
    if (fd < 0 || (size_t)fd >= loop->fds_cap)
        return NULL;
    return loop->fds[fd];
}

static int fd_add(struct e6_loop *loop, int fd, uint32_t events, e6_fd_cb cb, void *arg,
                  bool internal)
{
    struct epoll_event ev = {0};
    struct fd_entry *e;

    if (fd < 0)
        return -EBADF;
    if (!cb)
        return -EINVAL;
    if (fd_lookup(loop, fd))
        return -EEXIST;
    e = calloc(1, sizeof(*e));
    if (!e)
        return -ENOMEM;
    e->fd = fd;
    e->events = events;
    e->cb = cb;
    e->arg = arg;
    e->internal = internal;
    ev.events = events;
    ev.data.ptr = e;
    /* Register first: a bogus fd number fails here, before the table grows to it. */
    if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        int err = -errno;
        free(e);
        return err;
    }
    if ((size_t)fd >= loop->fds_cap) {
        size_t ncap = loop->fds_cap ? loop->fds_cap : 16;
        while (ncap <= (size_t)fd)
            ncap *= 2;
        struct fd_entry **n = realloc(loop->fds, ncap * sizeof(*n));
        if (!n) {
            epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
            free(e);
            return -ENOMEM;
        }
        memset(n + loop->fds_cap, 0, (ncap - loop->fds_cap) * sizeof(*n));
        loop->fds = n;
        loop->fds_cap = ncap;
    }
    loop->fds[fd] = e;
    return 0;
}

int e6_loop_add_fd(struct e6_loop *loop, int fd, uint32_t events, e6_fd_cb cb, void *arg)
{
    return fd_add(loop, fd, events, cb, arg, false);
}

int e6_loop_mod_fd(struct e6_loop *loop, int fd, uint32_t events)
{
    struct fd_entry *e = fd_lookup(loop, fd);
    struct epoll_event ev = {0};

    if (!e)
        return -ENOENT;
    ev.events = events;
    ev.data.ptr = e;
    if (epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
        return -errno;
    e->events = events;
    return 0;
}

int e6_loop_del_fd(struct e6_loop *loop, int fd)
{
    struct fd_entry *e = fd_lookup(loop, fd);

    if (!e)
        return -ENOENT;
    /* EBADF/ENOENT: the owner closed it first and the kernel already forgot it. */
    if (epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL) < 0 && errno != EBADF && errno != ENOENT)
        return -errno;
    loop->fds[fd] = NULL;
    if (loop->dispatching) {
        e->dead = true;
        e->next_dead = loop->dead;
        loop->dead = e;
    } else {
        free(e);
    }
    return 0;
}

/* ---- timers: binary min-heap ordered by (deadline, seq) ---- */

static bool node_before(const struct heap_node *a, const struct heap_node *b)
{
    return a->deadline < b->deadline || (a->deadline == b->deadline && a->seq < b->seq);
}

static void heap_set(struct e6_loop *loop, size_t i, struct heap_node n)
{
    loop->heap[i] = n;
    n.t->heap_index = i;
}

static void sift_up(struct e6_loop *loop, size_t i)
{
    struct heap_node n = loop->heap[i];

    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!node_before(&n, &loop->heap[p]))
            break;
        heap_set(loop, i, loop->heap[p]);
        i = p;
    }
    heap_set(loop, i, n);
}

static void sift_down(struct e6_loop *loop, size_t i)
{
    struct heap_node n = loop->heap[i];

    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= loop->nheap)
            break;
        if (c + 1 < loop->nheap && node_before(&loop->heap[c + 1], &loop->heap[c]))
            c++;
        if (!node_before(&loop->heap[c], &n))
            break;
        heap_set(loop, i, loop->heap[c]);
        i = c;
    }
    heap_set(loop, i, n);
}

static bool timer_in_heap(const struct e6_loop *loop, const struct e6_timer *t)
{
    return t->heap_index < loop->nheap && loop->heap[t->heap_index].t == t;
}

static void heap_remove(struct e6_loop *loop, size_t i)
{
    struct e6_timer *t = loop->heap[i].t;
    size_t last = --loop->nheap;

    if (i != last) {
        struct e6_timer *moved = loop->heap[last].t;
        heap_set(loop, i, loop->heap[last]);
        sift_down(loop, i);
        sift_up(loop, moved->heap_index);
    }
    t->heap_index = SIZE_MAX;
}

void e6_timer_init(struct e6_timer *t, e6_timer_cb cb, void *arg)
{
    t->deadline_ms = 0;
    t->heap_index = SIZE_MAX;
    t->cb = cb;
    t->arg = arg;
}

int e6_timer_arm_at(struct e6_loop *loop, struct e6_timer *t, uint64_t deadline_ms)
{
    struct heap_node n = {.deadline = deadline_ms, .seq = loop->next_seq++, .t = t};

    t->deadline_ms = deadline_ms;
    if (timer_in_heap(loop, t)) {
        size_t i = t->heap_index;
        heap_set(loop, i, n);
        sift_up(loop, i);
        sift_down(loop, t->heap_index);
        return 0;
    }
    if (loop->nheap == loop->heap_cap) {
        size_t ncap = loop->heap_cap ? loop->heap_cap * 2 : 16;
        struct heap_node *h = realloc(loop->heap, ncap * sizeof(*h));
        if (!h) {
            t->heap_index = SIZE_MAX;
            return -ENOMEM;
        }
        loop->heap = h;
        loop->heap_cap = ncap;
    }
    loop->nheap++;
    heap_set(loop, loop->nheap - 1, n);
    sift_up(loop, loop->nheap - 1);
    return 0;
}

int e6_timer_arm_in(struct e6_loop *loop, struct e6_timer *t, uint64_t delay_ms)
{
    uint64_t now = e6_loop_now(loop);
    uint64_t deadline = delay_ms > UINT64_MAX - now ? UINT64_MAX : now + delay_ms;

    return e6_timer_arm_at(loop, t, deadline);
}

void e6_timer_cancel(struct e6_loop *loop, struct e6_timer *t)
{
    if (timer_in_heap(loop, t))
        heap_remove(loop, t->heap_index);
    t->heap_index = SIZE_MAX;
}

bool e6_timer_armed(const struct e6_timer *t)
{
    return t->heap_index != SIZE_MAX;
}

uint64_t e6_loop_next_deadline(const struct e6_loop *loop)
{
    return loop->nheap ? loop->heap[0].deadline : UINT64_MAX;
}

/*
 * Fire timers due at or before `limit` in (deadline, seq) order. Timers
 * armed from inside this pass (seq >= seq_limit) wait for the next pass
 * unless seq_limit is UINT64_MAX, so a timer re-arming itself at "now"
 * cannot starve the fds on a real clock. On a fake clock the clock steps
 * to each deadline so callbacks see the time they were due at.
 */
static void fire_due(struct e6_loop *loop, uint64_t limit, uint64_t seq_limit)
{
    while (loop->nheap && loop->heap[0].deadline <= limit && loop->heap[0].seq < seq_limit) {
        struct heap_node n = loop->heap[0];
        heap_remove(loop, 0);
        if (loop->fake && n.deadline > loop->fake_now)
            loop->fake_now = n.deadline;
        if (n.t->cb) {
            loop->ncb++;
            n.t->cb(loop, n.t, n.t->arg);
        }
    }
}

void e6_loop_advance(struct e6_loop *loop, uint64_t ms)
{
    if (!loop->fake)
        return;
    uint64_t target = ms > UINT64_MAX - loop->fake_now ? UINT64_MAX : loop->fake_now + ms;
    fire_due(loop, target, UINT64_MAX);
    loop->fake_now = target;
}

/* ---- signals ---- */

static void signal_ready(struct e6_loop *loop, int fd, uint32_t events, void *arg)
{
    struct signalfd_siginfo si[16];

    for (;;) {
        ssize_t r = read(fd, si, sizeof(si));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return;
        for (size_t i = 0; i < (size_t)r / sizeof(si[0]); i++) {
            uint32_t s = si[i].ssi_signo;
            if (s < LOOP_SIG_MAX && loop->sig[s].cb) {
                loop->ncb++;
                loop->sig[s].cb(loop, (int)s, loop->sig[s].arg);
            }
        }
        if ((size_t)r < sizeof(si))
            return;
    }
}

int e6_loop_add_signal(struct e6_loop *loop, int signo, e6_signal_cb cb, void *arg)
{
    sigset_t one, mask;
    int fd, err;

    if (signo <= 0 || signo >= LOOP_SIG_MAX || signo == SIGKILL || signo == SIGSTOP || !cb)
        return -EINVAL;
    sigemptyset(&one);
    if (sigaddset(&one, signo) < 0)
        return -EINVAL;
    mask = loop->sigmask;
    sigaddset(&mask, signo);
    err = pthread_sigmask(SIG_BLOCK, &one, NULL);
    if (err)
        return -err;
    fd = signalfd(loop->sigfd, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (loop->sigfd < 0) {
        err = fd_add(loop, fd, EPOLLIN, signal_ready, NULL, true);
        if (err) {
            close(fd);
            return err;
        }
        loop->sigfd = fd;
    }
    loop->sigmask = mask;
    loop->sig[signo].cb = cb;
    loop->sig[signo].arg = arg;
    return 0;
}

/* ---- running ---- */

/* Milliseconds until the earliest timer, rounded up, or -1 without timers. */
static int wait_timeout(const struct e6_loop *loop)
{
    struct timespec ts;

    if (!loop->nheap)
        return -1;
    uint64_t d = loop->heap[0].deadline;
    if (d > UINT64_MAX / 1000000u)
        return INT_MAX;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t now_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    uint64_t d_ns = d * 1000000u;
    if (d_ns <= now_ns)
        return 0;
    uint64_t ms = (d_ns - now_ns + 999999u) / 1000000u;
    return ms > INT_MAX ? INT_MAX : (int)ms;
}

int e6_loop_run_once(struct e6_loop *loop, int max_wait_ms)
{
    struct epoll_event evs[LOOP_MAX_EVENTS];
    uint64_t ncb0 = loop->ncb;
    int timeout, n;

    if (loop->fake) {
        timeout = 0;
    } else {
        timeout = wait_timeout(loop);
        if (max_wait_ms >= 0 && (timeout < 0 || timeout > max_wait_ms))
            timeout = max_wait_ms;
    }
    n = epoll_wait(loop->epfd, evs, LOOP_MAX_EVENTS, timeout);
    if (n < 0) {
        if (errno != EINTR)
            return -errno;
        n = 0;
    }

    loop->dispatching++;
    for (int i = 0; i < n; i++) {
        struct fd_entry *e = evs[i].data.ptr;
        if (e->dead)
            continue;
        /* After a mod_fd in this batch, do not report what is no longer asked for. */
        uint32_t ev = evs[i].events & (e->events | EPOLLERR | EPOLLHUP);
        if (!ev)
            continue;
        if (!e->internal)
            loop->ncb++;
        e->cb(loop, e->fd, ev, e->arg);
    }
    if (--loop->dispatching == 0) {
        while (loop->dead) {
            struct fd_entry *e = loop->dead;
            loop->dead = e->next_dead;
            free(e);
        }
    }

    fire_due(loop, e6_loop_now(loop), loop->next_seq);
    uint64_t ran = loop->ncb - ncb0;
    return ran > INT_MAX ? INT_MAX : (int)ran;
}

int e6_loop_run(struct e6_loop *loop)
{
    int r = 0;

    while (!loop->stop) {
        r = e6_loop_run_once(loop, -1);
        if (r < 0)
            break;
        if (loop->fake && r == 0 && !loop->stop) {
            /* Nothing ready: jump the fake clock to the next timer. */
            if (!loop->nheap) {
                r = -EDEADLK;
                break;
            }
            if (loop->heap[0].deadline > loop->fake_now)
                loop->fake_now = loop->heap[0].deadline;
        }
    }
    loop->stop = false;
    return r < 0 ? r : 0;
}

void e6_loop_stop(struct e6_loop *loop)
{
    loop->stop = true;
}
