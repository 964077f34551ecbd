/* tests for common/loop: fake-clock timer ordering, real fds/signals/timers, and changes made
 * from inside callbacks (deleting fds of the same batch, cancelling timers) */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/loop.h"

static uint64_t mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- fake clock ---- */

struct rec {
    struct e6_timer t;
    int id;
    uint64_t fired_at; /* loop clock inside the callback */
    int fired;
};

static int order[16384];
static size_t norder;

static void rec_cb(struct e6_loop *loop, struct e6_timer *t, void *arg)
{
    struct rec *r = arg;

    r->fired++;
    r->fired_at = e6_loop_now(loop);
    order[norder++] = r->id;
}

static void rec_init(struct rec *r, int id)
{
    memset(r, 0, sizeof(*r));
    r->id = id;
    e6_timer_init(&r->t, rec_cb, r);
}

static void test_fake_basic(void **state)
{
    struct e6_loop *loop;
    struct rec r;

    assert_int_equal(e6_loop_new_fake(&loop, 1000), 0);
    assert_int_equal(e6_loop_now(loop), 1000);
    assert_int_equal(e6_loop_next_deadline(loop), UINT64_MAX);
    rec_init(&r, 1);
    assert_false(e6_timer_armed(&r.t));
    assert_int_equal(e6_timer_arm_in(loop, &r.t, 50), 0);
    assert_true(e6_timer_armed(&r.t));
    assert_int_equal(r.t.deadline_ms, 1050);
    assert_int_equal(e6_loop_next_deadline(loop), 1050);
    e6_loop_advance(loop, 49);
    assert_int_equal(r.fired, 0);
    assert_int_equal(e6_loop_now(loop), 1049);
    e6_loop_advance(loop, 1);
    assert_int_equal(r.fired, 1);
    assert_int_equal(r.fired_at, 1050);
    assert_false(e6_timer_armed(&r.t));
    assert_int_equal(e6_loop_next_deadline(loop), UINT64_MAX);
    e6_loop_advance(loop, 1000);
    assert_int_equal(r.fired, 1);
    assert_int_equal(e6_loop_now(loop), 2050);

    /* cancel: no-op when not armed, twice is fine */
    e6_timer_cancel(loop, &r.t);
    assert_int_equal(e6_timer_arm_in(loop, &r.t, 10), 0);
    e6_timer_cancel(loop, &r.t);
    e6_timer_cancel(loop, &r.t);
    assert_false(e6_timer_armed(&r.t));
    e6_loop_advance(loop, 100);
    assert_int_equal(r.fired, 1);

    /* saturating arithmetic at the end of time */
    assert_int_equal(e6_timer_arm_in(loop, &r.t, UINT64_MAX), 0);
    assert_int_equal(r.t.deadline_ms, UINT64_MAX);
    e6_loop_advance(loop, UINT64_MAX);
    assert_int_equal(e6_loop_now(loop), UINT64_MAX);
    assert_int_equal(r.fired, 2);
    e6_loop_free(loop);
}

static void test_same_ms_arming_order(void **state)
{
    struct e6_loop *loop;
    struct rec r[8];
    static const int arm_seq[8] = {5, 2, 7, 0, 3, 6, 1, 4};

    assert_int_equal(e6_loop_new_fake(&loop, 0), 0);
    norder = 0;
    for (int i = 0; i < 8; i++)
        rec_init(&r[i], i);
    for (int i = 0; i < 8; i++)
        assert_int_equal(e6_timer_arm_at(loop, &r[arm_seq[i]].t, 100), 0);
    /* re-arming counts as arming again: 5 goes last */
    assert_int_equal(e6_timer_arm_at(loop, &r[5].t, 100), 0);
    /* an earlier deadline armed last still goes first */
    struct rec early;
    rec_init(&early, 99);
    assert_int_equal(e6_timer_arm_at(loop, &early.t, 99), 0);
    e6_loop_advance(loop, 100);
    assert_int_equal(norder, 9);
    static const int want[9] = {99, 2, 7, 0, 3, 6, 1, 4, 5};
    for (int i = 0; i < 9; i++)
        assert_int_equal(order[i], want[i]);
    e6_loop_free(loop);
}

/* 10000 timers with random deadlines (many equal), random cancels and re-arms. */
static struct rec many[10000];
static uint64_t arm_order[10000]; /* global arming sequence of each timer's last arming */

static void test_many_random_timers(void **state)
{
    struct e6_loop *loop;
    uint64_t seq = 0;
    bool cancelled[10000] = {false};
    unsigned seed = 12345;

    assert_int_equal(e6_loop_new_fake(&loop, 500), 0);
    norder = 0;
    for (int i = 0; i < 10000; i++) {
        rec_init(&many[i], i);
        assert_int_equal(e6_timer_arm_at(loop, &many[i].t, 500 + (uint64_t)(rand_r(&seed) % 5000)),
                         0);
        arm_order[i] = seq++;
    }
    /* cancel 1000, re-arm 1000 others (some to an earlier deadline) */
    for (int k = 0; k < 1000; k++) {
        int i = rand_r(&seed) % 10000;
        e6_timer_cancel(loop, &many[i].t);
        cancelled[i] = true;
        int j = rand_r(&seed) % 10000;
        if (!cancelled[j]) {
            assert_int_equal(
                e6_timer_arm_at(loop, &many[j].t, 500 + (uint64_t)(rand_r(&seed) % 5000)), 0);
            arm_order[j] = seq++;
        }
    }
    size_t expect = 0;
    uint64_t min = UINT64_MAX;
    for (int i = 0; i < 10000; i++) {
        if (!cancelled[i]) {
            expect++;
            if (many[i].t.deadline_ms < min)
                min = many[i].t.deadline_ms;
        }
    }
    assert_int_equal(e6_loop_next_deadline(loop), min);

    /* advance in uneven steps */
    while (e6_loop_now(loop) < 6000)
        e6_loop_advance(loop, (uint64_t)(rand_r(&seed) % 97));
    assert_int_equal(norder, expect);
    for (size_t k = 0; k < norder; k++) {
        struct rec *r = &many[order[k]];
        assert_int_equal(r->fired, 1);
        assert_int_equal(r->fired_at, r->t.deadline_ms); /* the clock shows the deadline */
        assert_false(cancelled[order[k]]);
        if (k > 0) {
            struct rec *p = &many[order[k - 1]];
            assert_true(p->t.deadline_ms <= r->t.deadline_ms);
            if (p->t.deadline_ms == r->t.deadline_ms)
                assert_true(arm_order[p->id] < arm_order[r->id]);
        }
    }
    for (int i = 0; i < 10000; i++)
        if (cancelled[i])
            assert_int_equal(many[i].fired, 0);
    assert_int_equal(e6_loop_next_deadline(loop), UINT64_MAX);
    e6_loop_free(loop);
}

struct chain {
    struct e6_timer a, b, c, d, self;
    int fa, fb, fc, fd, fself;
    uint64_t b_at, c_at;
};

static void chain_b(struct e6_loop *loop, struct e6_timer *t, void *arg)
{
    struct chain *ch = arg;
    ch->fb++;
    ch->b_at = e6_loop_now(loop);
}

static void chain_c(struct e6_loop *loop, struct e6_timer *t, void *arg)
{
    struct chain *ch = arg;
    ch->fc++;
    ch->c_at = e6_loop_now(loop);
}

static void chain_a(struct e6_loop *loop, struct e6_timer *t, void *arg)
{
    struct chain *ch = arg;
    ch->fa++;
    /* armed during the advance: b falls within it, c after it */
    assert_int_equal(e6_timer_arm_in(loop, &ch->b, 5), 0);
    assert_int_equal(e6_timer_arm_in(loop, &ch->c, 100), 0);
}

static void test_arm_during_advance(void **state)
{
    struct e6_loop *loop;
    struct chain ch = {0};

    assert_int_equal(e6_loop_new_fake(&loop, 0), 0);
    e6_timer_init(&ch.a, chain_a, &ch);
    e6_timer_init(&ch.b, chain_b, &ch);
    e6_timer_init(&ch.c, chain_c, &ch);
    assert_int_equal(e6_timer_arm_at(loop, &ch.a, 10), 0);
    e6_loop_advance(loop, 50);
    assert_int_equal(ch.fa, 1);
    assert_int_equal(ch.fb, 1);
    assert_int_equal(ch.b_at, 15);
    assert_int_equal(ch.fc, 0);
    assert_true(e6_timer_armed(&ch.c));
    assert_int_equal(e6_loop_now(loop), 50);
    e6_loop_advance(loop, 59);
    assert_int_equal(ch.fc, 0);
    e6_loop_advance(loop, 1);
    assert_int_equal(ch.fc, 1);
    assert_int_equal(ch.c_at, 110);
    e6_loop_free(loop);
}

static void cancel_others(struct e6_loop *loop, struct e6_timer *t, void *arg)
{
    struct chain *ch = arg;
    ch->fa++;
    e6_timer_cancel(loop, &ch->b); /* due at the same ms, armed after a */
    e6_timer_cancel(loop, &ch->d); /* due later */
    e6_timer_cancel(loop, t);      /* itself: already disarmed, no-op */
    assert_false(e6_timer_armed(&ch->b));
}

static void count_d(struct e6_loop *loop, struct e6_timer *t, void *arg)
{
    ((struct chain *)arg)->fd++;
}

static void periodic(struct e6_loop *loop, struct e6_timer *t, void *arg)
{
    struct chain *ch = arg;
    ch->fself++;
    assert_false(e6_timer_armed(t));
    assert_int_equal(e6_timer_arm_in(loop, t, 10), 0);
}

static void test_cancel_inside_callbacks(void **state)
{
    struct e6_loop *loop;
    struct chain ch = {0};

    assert_int_equal(e6_loop_new_fake(&loop, 0), 0);
    e6_timer_init(&ch.a, cancel_others, &ch);
    e6_timer_init(&ch.b, chain_b, &ch);
    e6_timer_init(&ch.c, chain_c, &ch);
    e6_timer_init(&ch.d, count_d, &ch);
    e6_timer_init(&ch.self, periodic, &ch);
    assert_int_equal(e6_timer_arm_at(loop, &ch.a, 10), 0);
    assert_int_equal(e6_timer_arm_at(loop, &ch.b, 10), 0);
    assert_int_equal(e6_timer_arm_at(loop, &ch.c, 15), 0);
    assert_int_equal(e6_timer_arm_at(loop, &ch.d, 20), 0);
    assert_int_equal(e6_timer_arm_at(loop, &ch.self, 10), 0);
    e6_loop_advance(loop, 100);
    assert_int_equal(ch.fa, 1);
    assert_int_equal(ch.fb, 0);
    assert_int_equal(ch.fc, 1);
    assert_int_equal(ch.fd, 0);
    assert_int_equal(ch.fself, 10); /* at 10, 20, ... 100 */
    assert_true(e6_timer_armed(&ch.self));
    assert_int_equal(ch.self.deadline_ms, 110);
    e6_loop_free(loop);
    /* freeing the loop disarms what was still armed */
    assert_false(e6_timer_armed(&ch.self));
}

static void test_arm_in_past(void **state)
{
    struct e6_loop *loop;
    struct rec r;

    assert_int_equal(e6_loop_new_fake(&loop, 1000), 0);
    rec_init(&r, 1);
    assert_int_equal(e6_timer_arm_at(loop, &r.t, 10), 0);
    e6_loop_advance(loop, 0);
    assert_int_equal(r.fired, 1);
    assert_int_equal(e6_loop_now(loop), 1000); /* time never goes back */
    assert_int_equal(r.fired_at, 1000);
    e6_loop_free(loop);
}

static void test_fake_run_once(void **state)
{
    struct e6_loop *loop;
    struct rec due, later;

    assert_int_equal(e6_loop_new_fake(&loop, 0), 0);
    rec_init(&due, 1);
    rec_init(&later, 2);
    assert_int_equal(e6_timer_arm_at(loop, &due.t, 0), 0);
    assert_int_equal(e6_timer_arm_at(loop, &later.t, 1000000), 0);
    uint64_t t0 = mono_ns();
    assert_int_equal(e6_loop_run_once(loop, -1), 1); /* never sleeps on a fake clock */
    assert_int_equal(e6_loop_run_once(loop, 5000), 0);
    assert_true(mono_ns() - t0 < 500000000u);
    assert_int_equal(due.fired, 1);
    assert_int_equal(later.fired, 0);
    assert_int_equal(e6_loop_now(loop), 0);
    e6_loop_free(loop);
}

static void stop_cb(struct e6_loop *loop, struct e6_timer *t, void *arg)
{
    (*(int *)arg)++;
    e6_loop_stop(loop);
}

static void test_fake_run(void **state)
{
    struct e6_loop *loop;
    struct rec r;
    struct e6_timer stop;
    int stopped = 0;

    assert_int_equal(e6_loop_new_fake(&loop, 0), 0);
    rec_init(&r, 1);
    e6_timer_init(&stop, stop_cb, &stopped);
    assert_int_equal(e6_timer_arm_at(loop, &r.t, 100), 0);
    assert_int_equal(e6_timer_arm_at(loop, &stop, 200), 0);
    assert_int_equal(e6_loop_run(loop), 0);
    assert_int_equal(r.fired, 1);
    assert_int_equal(stopped, 1);
    assert_int_equal(e6_loop_now(loop), 200);
    /* nothing left that could ever happen */
    assert_int_equal(e6_loop_run(loop), -EDEADLK);
    /* a stop requested before run returns at once */
    assert_int_equal(e6_timer_arm_at(loop, &r.t, 300), 0);
    e6_loop_stop(loop);
    assert_int_equal(e6_loop_run(loop), 0);
    assert_int_equal(r.fired, 1);
    e6_loop_free(loop);
}

/* ---- real clock ---- */

struct real_timer {
    struct e6_timer t;
    uint64_t fired_ms;
    uint64_t fired_ns;
    int fired;
};

static void real_cb(struct e6_loop *loop, struct e6_timer *t, void *arg)
{
    struct real_timer *rt = arg;
    rt->fired++;
    rt->fired_ms = e6_monotonic_ms();
    rt->fired_ns = mono_ns();
}

static void test_real_timer_not_early(void **state)
{
    struct e6_loop *loop;
    struct real_timer rt = {0};

    assert_int_equal(e6_loop_new(&loop), 0);
    for (int round = 0; round < 5; round++) {
        rt.fired = 0;
        e6_timer_init(&rt.t, real_cb, &rt);
        uint64_t t0 = mono_ns();
        assert_int_equal(e6_timer_arm_in(loop, &rt.t, 20), 0);
        uint64_t deadline = rt.t.deadline_ms;
        /* one wake-up, straight to the timer: no early wake and no spin */
        assert_int_equal(e6_loop_run_once(loop, -1), 1);
        assert_int_equal(rt.fired, 1);
        assert_true(rt.fired_ms >= deadline);
        /* the deadline is on a ms grid, so at least 19 ms of real time */
        assert_true(rt.fired_ns - t0 >= 19000000u);
        assert_true(rt.fired_ns - t0 < 1000000000u);
    }
    e6_loop_free(loop);
}

static void test_real_max_wait(void **state)
{
    struct e6_loop *loop;
    struct real_timer rt = {0};

    assert_int_equal(e6_loop_new(&loop), 0);
    /* no timer, nothing ready: max_wait bounds the sleep */
    uint64_t t0 = mono_ns();
    assert_int_equal(e6_loop_run_once(loop, 30), 0);
    uint64_t el = mono_ns() - t0;
    assert_true(el >= 29000000u && el < 1000000000u);
    /* a far timer does not shorten max_wait's effect, nor fire */
    e6_timer_init(&rt.t, real_cb, &rt);
    assert_int_equal(e6_timer_arm_in(loop, &rt.t, 60000), 0);
    assert_int_equal(e6_loop_run_once(loop, 0), 0);
    /* a timer at the end of time sleeps "forever" in INT_MAX steps without overflow */
    assert_int_equal(e6_timer_arm_at(loop, &rt.t, UINT64_MAX), 0);
    assert_int_equal(e6_loop_run_once(loop, 0), 0);
    assert_int_equal(rt.fired, 0);
    /* advance is a no-op on a real clock */
    e6_loop_advance(loop, 1000000);
    assert_int_equal(rt.fired, 0);
    e6_loop_free(loop);
}

static void rearm_now(struct e6_loop *loop, struct e6_timer *t, void *arg)
{
    (*(int *)arg)++;
    e6_timer_arm_in(loop, t, 0);
}

static void test_real_rearm_now_no_livelock(void **state)
{
    struct e6_loop *loop;
    struct e6_timer t;
    int n = 0;

    assert_int_equal(e6_loop_new(&loop), 0);
    e6_timer_init(&t, rearm_now, &n);
    assert_int_equal(e6_timer_arm_in(loop, &t, 0), 0);
    assert_int_equal(e6_loop_run_once(loop, 0), 1);
    assert_int_equal(e6_loop_run_once(loop, -1), 1);
    assert_int_equal(n, 2);
    e6_timer_cancel(loop, &t);
    e6_loop_free(loop);
}

static void test_real_run_stop(void **state)
{
    struct e6_loop *loop;
    struct e6_timer stop;
    int stopped = 0;

    assert_int_equal(e6_loop_new(&loop), 0);
    e6_timer_init(&stop, stop_cb, &stopped);
    assert_int_equal(e6_timer_arm_in(loop, &stop, 30), 0);
    uint64_t t0 = mono_ns();
    assert_int_equal(e6_loop_run(loop), 0);
    assert_int_equal(stopped, 1);
    assert_true(mono_ns() - t0 >= 29000000u);
    e6_loop_free(loop);
}

/* ---- fds ---- */

struct fdrec {
    int calls;
    uint32_t events;
    char buf[8];
    ssize_t got;
};

static void fd_read_cb(struct e6_loop *loop, int fd, uint32_t events, void *arg)
{
    struct fdrec *r = arg;
    r->calls++;
    r->events = events;
    r->got = read(fd, r->buf, sizeof(r->buf));
}

static void test_pipe(void **state)
{
    struct e6_loop *loop;
    struct fdrec r = {0};
    int p[2];

    assert_int_equal(e6_loop_new(&loop), 0);
    assert_int_equal(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
    assert_int_equal(e6_loop_add_fd(loop, p[0], EPOLLIN, fd_read_cb, &r), 0);
    assert_int_equal(e6_loop_add_fd(loop, p[0], EPOLLIN, fd_read_cb, &r), -EEXIST);
    assert_int_equal(e6_loop_run_once(loop, 0), 0);
    assert_int_equal(write(p[1], "x", 1), 1);
    assert_int_equal(e6_loop_run_once(loop, 1000), 1);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.events, EPOLLIN);
    assert_int_equal(r.got, 1);
    assert_int_equal(r.buf[0], 'x');
    assert_int_equal(e6_loop_run_once(loop, 0), 0);

    /* the write end, for EPOLLOUT, then switched off with mod */
    struct fdrec w = {0};
    assert_int_equal(e6_loop_add_fd(loop, p[1], EPOLLOUT, fd_read_cb, &w), 0);
    assert_int_equal(e6_loop_run_once(loop, 1000), 1);
    assert_int_equal(w.events, EPOLLOUT);
    assert_int_equal(e6_loop_mod_fd(loop, p[1], 0), 0);
    assert_int_equal(e6_loop_run_once(loop, 0), 0);

    /* the reader sees the hang-up when the writer goes */
    assert_int_equal(e6_loop_del_fd(loop, p[1]), 0);
    close(p[1]);
    assert_int_equal(e6_loop_run_once(loop, 1000), 1);
    assert_true(r.events & EPOLLHUP);

    assert_int_equal(e6_loop_del_fd(loop, p[0]), 0);
    assert_int_equal(e6_loop_del_fd(loop, p[0]), -ENOENT);
    close(p[0]);
    e6_loop_free(loop);
}

static void test_fd_rejects(void **state)
{
    struct e6_loop *loop;
    struct fdrec r = {0};
    int p[2];
    char path[] = "/tmp/e6-test-loop-XXXXXX";

    assert_int_equal(e6_loop_new(&loop), 0);
    assert_int_equal(e6_loop_add_fd(loop, -1, EPOLLIN, fd_read_cb, &r), -EBADF);
    assert_int_equal(e6_loop_add_fd(loop, 0, EPOLLIN, NULL, &r), -EINVAL);
    assert_int_equal(e6_loop_add_fd(loop, 1000000, EPOLLIN, fd_read_cb, &r), -EBADF);
    assert_int_equal(e6_loop_mod_fd(loop, 5, EPOLLIN), -ENOENT);
    assert_int_equal(e6_loop_mod_fd(loop, -1, EPOLLIN), -ENOENT);
    assert_int_equal(e6_loop_del_fd(loop, 5), -ENOENT);
    assert_int_equal(e6_loop_del_fd(loop, -3), -ENOENT);
    /* epoll refuses regular files */
    int f = mkstemp(path);
    assert_true(f >= 0);
    unlink(path);
    assert_int_equal(e6_loop_add_fd(loop, f, EPOLLIN, fd_read_cb, &r), -EPERM);
    close(f);
    /* closed before del: del still forgets it */
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    assert_int_equal(e6_loop_add_fd(loop, p[0], EPOLLIN, fd_read_cb, &r), 0);
    close(p[0]);
    close(p[1]);
    assert_int_equal(e6_loop_del_fd(loop, p[0]), 0);
    e6_loop_free(loop);
}

/*
 * Two readable pipes in one batch. Whichever callback runs first deletes
 * the other fd, closes it and opens a new pipe that may reuse the number,
 * registered with a callback that must not run for the stale event.
 */
struct pair {
    int rd[2], wr[2];
    int calls[2];
    int newp[2];
    int stale_calls;
    bool swapped;
};

static void stale_cb(struct e6_loop *loop, int fd, uint32_t events, void *arg)
{
    ((struct pair *)arg)->stale_calls++;
}

static void pair_cb(struct e6_loop *loop, int fd, uint32_t events, void *arg)
{
    struct pair *pr = arg;
    int me = fd == pr->rd[0] ? 0 : 1;
    int other = 1 - me;

    pr->calls[me]++;
    if (pr->swapped)
        return;
    pr->swapped = true;
    assert_int_equal(e6_loop_del_fd(loop, pr->rd[other]), 0);
    close(pr->rd[other]);
    close(pr->wr[other]);
    assert_int_equal(pipe2(pr->newp, O_CLOEXEC | O_NONBLOCK), 0);
    assert_int_equal(pr->newp[0], pr->rd[other]); /* the number is reused */
    assert_int_equal(e6_loop_add_fd(loop, pr->newp[0], EPOLLIN, stale_cb, pr), 0);
    /* and delete myself while being served */
    assert_int_equal(e6_loop_del_fd(loop, fd), 0);
}

static void test_delete_other_fd_in_batch(void **state)
{
    struct e6_loop *loop;
    struct pair pr = {0};
    int p[2];

    assert_int_equal(e6_loop_new(&loop), 0);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
        pr.rd[i] = p[0];
        pr.wr[i] = p[1];
        assert_int_equal(e6_loop_add_fd(loop, p[0], EPOLLIN, pair_cb, &pr), 0);
        assert_int_equal(write(p[1], "y", 1), 1);
    }
    /* both are ready: make sure the batch holds both events */
    usleep(1000);
    assert_int_equal(e6_loop_run_once(loop, 1000), 1);
    assert_int_equal(pr.calls[0] + pr.calls[1], 1);
    assert_int_equal(pr.stale_calls, 0);
    /* nothing else happens afterwards either */
    assert_int_equal(e6_loop_run_once(loop, 0), 0);
    int me = pr.calls[0] ? 0 : 1;
    assert_int_equal(e6_loop_del_fd(loop, pr.rd[me]), -ENOENT);
    close(pr.rd[me]);
    close(pr.wr[me]);
    assert_int_equal(e6_loop_del_fd(loop, pr.newp[0]), 0);
    close(pr.newp[0]);
    close(pr.newp[1]);
    e6_loop_free(loop);
}

/* Same shape with mod_fd: events no longer asked for are not delivered. */
struct modpair {
    int rd[2], wr[2];
    int calls[2];
};

static void mod_cb(struct e6_loop *loop, int fd, uint32_t events, void *arg)
{
    struct modpair *mp = arg;
    int me = fd == mp->rd[0] ? 0 : 1;

    mp->calls[me]++;
    char c;
    (void)!read(fd, &c, 1);
    assert_int_equal(e6_loop_mod_fd(loop, mp->rd[1 - me], EPOLLOUT), 0);
}

static void test_mod_other_fd_in_batch(void **state)
{
    struct e6_loop *loop;
    struct modpair mp = {0};
    int p[2];

    assert_int_equal(e6_loop_new(&loop), 0);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
        mp.rd[i] = p[0];
        mp.wr[i] = p[1];
        assert_int_equal(e6_loop_add_fd(loop, p[0], EPOLLIN, mod_cb, &mp), 0);
        assert_int_equal(write(p[1], "y", 1), 1);
    }
    assert_int_equal(e6_loop_run_once(loop, 1000), 1);
    assert_int_equal(mp.calls[0] + mp.calls[1], 1);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(e6_loop_del_fd(loop, mp.rd[i]), 0);
        close(mp.rd[i]);
        close(mp.wr[i]);
    }
    e6_loop_free(loop);
}

struct fd_timer {
    struct e6_timer t;
    int timer_fired;
    int fd_calls;
};

static void ft_timer(struct e6_loop *loop, struct e6_timer *t, void *arg)
{
    ((struct fd_timer *)arg)->timer_fired++;
}

static void ft_fd(struct e6_loop *loop, int fd, uint32_t events, void *arg)
{
    struct fd_timer *ft = arg;
    char c;

    ft->fd_calls++;
    (void)!read(fd, &c, 1);
    assert_int_equal(e6_timer_arm_in(loop, &ft->t, 0), 0);
}

static void test_timer_armed_from_fd_cb(void **state)
{
    struct e6_loop *loop;
    struct fd_timer ft = {0};
    int p[2];

    assert_int_equal(e6_loop_new(&loop), 0);
    e6_timer_init(&ft.t, ft_timer, &ft);
    assert_int_equal(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
    assert_int_equal(e6_loop_add_fd(loop, p[0], EPOLLIN, ft_fd, &ft), 0);
    assert_int_equal(write(p[1], "z", 1), 1);
    /* fd callback, then the timer it armed for "now", in the same turn */
    assert_int_equal(e6_loop_run_once(loop, 1000), 2);
    assert_int_equal(ft.fd_calls, 1);
    assert_int_equal(ft.timer_fired, 1);
    assert_int_equal(e6_loop_del_fd(loop, p[0]), 0);
    close(p[0]);
    close(p[1]);
    e6_loop_free(loop);
}

/* ---- signals ---- */

static int sig_seen[65];
static void *sig_arg_seen;

static void sig_cb(struct e6_loop *loop, int signo, void *arg)
{
    sig_seen[signo]++;
    sig_arg_seen = arg;
}

static void sig_cb2(struct e6_loop *loop, int signo, void *arg)
{
    sig_seen[signo] += 100;
}

static void test_signals(void **state)
{
    struct e6_loop *loop;
    int tag;

    memset(sig_seen, 0, sizeof(sig_seen));
    assert_int_equal(e6_loop_new(&loop), 0);
    assert_int_equal(e6_loop_add_signal(loop, SIGKILL, sig_cb, NULL), -EINVAL);
    assert_int_equal(e6_loop_add_signal(loop, SIGSTOP, sig_cb, NULL), -EINVAL);
    assert_int_equal(e6_loop_add_signal(loop, 0, sig_cb, NULL), -EINVAL);
    assert_int_equal(e6_loop_add_signal(loop, -1, sig_cb, NULL), -EINVAL);
    assert_int_equal(e6_loop_add_signal(loop, 65, sig_cb, NULL), -EINVAL);
    assert_int_equal(e6_loop_add_signal(loop, SIGUSR1, NULL, NULL), -EINVAL);

    assert_int_equal(e6_loop_add_signal(loop, SIGUSR1, sig_cb, &tag), 0);
    assert_int_equal(raise(SIGUSR1), 0); /* blocked now: would kill us otherwise */
    assert_int_equal(e6_loop_run_once(loop, 1000), 1);
    assert_int_equal(sig_seen[SIGUSR1], 1);
    assert_ptr_equal(sig_arg_seen, &tag);

    /* a second signal on the same signalfd */
    assert_int_equal(e6_loop_add_signal(loop, SIGUSR2, sig_cb, NULL), 0);
    assert_int_equal(raise(SIGUSR2), 0);
    assert_int_equal(raise(SIGUSR1), 0);
    int n = 0;
    for (int i = 0; i < 10 && n < 2; i++)
        n += e6_loop_run_once(loop, 1000);
    assert_int_equal(n, 2);
    assert_int_equal(sig_seen[SIGUSR1], 2);
    assert_int_equal(sig_seen[SIGUSR2], 1);

    /* adding again replaces the callback */
    assert_int_equal(e6_loop_add_signal(loop, SIGUSR1, sig_cb2, NULL), 0);
    assert_int_equal(raise(SIGUSR1), 0);
    assert_int_equal(e6_loop_run_once(loop, 1000), 1);
    assert_int_equal(sig_seen[SIGUSR1], 102);
    assert_int_equal(e6_loop_run_once(loop, 0), 0);
    e6_loop_free(loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fake_basic),
        cmocka_unit_test(test_same_ms_arming_order),
        cmocka_unit_test(test_many_random_timers),
        cmocka_unit_test(test_arm_during_advance),
        cmocka_unit_test(test_cancel_inside_callbacks),
        cmocka_unit_test(test_arm_in_past),
        cmocka_unit_test(test_fake_run_once),
        cmocka_unit_test(test_fake_run),
        cmocka_unit_test(test_real_timer_not_early),
        cmocka_unit_test(test_real_max_wait),
        cmocka_unit_test(test_real_rearm_now_no_livelock),
        cmocka_unit_test(test_real_run_stop),
        cmocka_unit_test(test_pipe),
        cmocka_unit_test(test_fd_rejects),
        cmocka_unit_test(test_delete_other_fd_in_batch),
        cmocka_unit_test(test_mod_other_fd_in_batch),
        cmocka_unit_test(test_timer_armed_from_fd_cb),
        cmocka_unit_test(test_signals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
