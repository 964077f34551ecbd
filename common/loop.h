/*
 * common/loop: the control plane's single event loop. epoll for file
 * descriptors, a binary heap of timers on CLOCK_MONOTONIC, and signals
 * through a signalfd. When idle it sleeps until the earliest timer or
 * forever: there is no periodic wake-up.
 *
 * A loop created with a fake clock never reads the system clock: time
 * starts at 0 (or a chosen origin) and moves only through
 * e6_loop_advance(), which fires due timers in deadline order. Engines
 * are tested that way.
 */
#ifndef E6_COMMON_LOOP_H
#define E6_COMMON_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct e6_loop;
struct e6_timer;

typedef void (*e6_fd_cb)(struct e6_loop *loop, int fd, uint32_t events, void *arg);
typedef void (*e6_timer_cb)(struct e6_loop *loop, struct e6_timer *t, void *arg);
typedef void (*e6_signal_cb)(struct e6_loop *loop, int signo, void *arg);

/* Embedded in its owner; the loop never allocates or frees timers. */
struct e6_timer {
    uint64_t deadline_ms; /* absolute, loop clock */
    size_t heap_index;    /* internal; SIZE_MAX when not armed */
    e6_timer_cb cb;
    void *arg;
};

/* Monotonic milliseconds from CLOCK_MONOTONIC. */
uint64_t e6_monotonic_ms(void);

/* 0 or -errno */
int e6_loop_new(struct e6_loop **out);
/* A loop whose clock is fake and starts at origin_ms. */
int e6_loop_new_fake(struct e6_loop **out, uint64_t origin_ms);
/* Frees the loop; does not close registered fds. Not from a callback. */
void e6_loop_free(struct e6_loop *loop);

/* Current time on the loop's clock (monotonic or fake), milliseconds. */
uint64_t e6_loop_now(const struct e6_loop *loop);

/*
 * events: EPOLLIN / EPOLLOUT / ... 0 or -errno (-EEXIST when fd is already
 * registered). Call e6_loop_del_fd before closing the fd: the loop keys
 * registrations by fd number.
 */
int e6_loop_add_fd(struct e6_loop *loop, int fd, uint32_t events, e6_fd_cb cb, void *arg);
int e6_loop_mod_fd(struct e6_loop *loop, int fd, uint32_t events);
/*
 * Safe to call from inside any callback, including for the fd being served:
 * events already fetched for a deleted fd are dropped, never delivered.
 * 0 or -ENOENT.
 */
int e6_loop_del_fd(struct e6_loop *loop, int fd);

void e6_timer_init(struct e6_timer *t, e6_timer_cb cb, void *arg);
/* (Re)arm at an absolute deadline on the loop clock. 0 or -ENOMEM. */
int e6_timer_arm_at(struct e6_loop *loop, struct e6_timer *t, uint64_t deadline_ms);
int e6_timer_arm_in(struct e6_loop *loop, struct e6_timer *t, uint64_t delay_ms);
/* No-op when not armed. Safe inside callbacks. */
void e6_timer_cancel(struct e6_loop *loop, struct e6_timer *t);
bool e6_timer_armed(const struct e6_timer *t);
/* Deadline of the earliest armed timer, or UINT64_MAX. */
uint64_t e6_loop_next_deadline(const struct e6_loop *loop);

/*
 * Deliver signo through the loop's signalfd instead of asynchronously: the
 * signal is blocked in the calling thread's mask (call before starting other
 * threads so they inherit the mask). It stays blocked after e6_loop_free.
 * Adding a signal again replaces its callback. 0 or -errno (-EINVAL for
 * SIGKILL, SIGSTOP or an invalid number).
 */
int e6_loop_add_signal(struct e6_loop *loop, int signo, e6_signal_cb cb, void *arg);

/*
 * Wait at most max_wait_ms (-1: until the next timer, or forever when none)
 * and dispatch what is ready, then due timers. Returns the number of
 * callbacks run, or -errno. On a fake clock it never sleeps: it polls fds
 * with timeout 0.
 */
int e6_loop_run_once(struct e6_loop *loop, int max_wait_ms);
/*
 * Run until e6_loop_stop(). 0 or -errno. A stop requested before the call
 * makes it return at once. On a fake clock, whenever nothing is ready the
 * clock jumps to the next timer; with no timer armed it returns -EDEADLK
 * instead of spinning.
 */
int e6_loop_run(struct e6_loop *loop);
/* Makes e6_loop_run return after the current callback batch. */
void e6_loop_stop(struct e6_loop *loop);

/*
 * Fake clock only (no-op on a real one): move time forward by ms, firing
 * due timers in (deadline, arming order), including timers armed by those
 * callbacks if they fall within the new time. While a timer's callback
 * runs, e6_loop_now() returns that timer's deadline.
 */
void e6_loop_advance(struct e6_loop *loop, uint64_t ms);

#endif
