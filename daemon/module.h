/*
 * daemon/module: the interface through which edge6d drives its parts (the
 * daemon itself, and later radv, ndppd and tunnel). The daemon owns the
 * order: modules start after privileges are dropped, reconcile after every
 * successful reload, and stop in reverse order of start. Each module
 * registers its counters in the registry it is given and renders its state
 * through an e6_view_fn for `edge6ctl status`.
 */
#ifndef E6_DAEMON_MODULE_H
#define E6_DAEMON_MODULE_H

#include <stdbool.h>
#include <stddef.h>

#include "common/counters.h"
#include "common/loop.h"
#include "common/strbuf.h"
#include "conf/conf.h"

struct e6_nl;

/* What the daemon lends every module; valid from registration to free. */
struct d6_env {
    struct e6_loop *loop;                 /* the control-plane loop */
    struct e6_counter_registry *registry; /* register counter sets here */
    /* Kernel state: one netlink context for every module (opened before the
     * privilege drop, processed by the daemon); subscribe, do not process. */
    struct e6_nl *nl;
    /* A module whose stop(goodbye) left work for the loop calls this once
     * its done() turned true, so the daemon can exit without waiting. */
    void (*stopped)(void *arg);
    void *stopped_arg;
};

/*
 * Every callback is optional (NULL). self is the pointer given at
 * registration. Errors go into err as one line without a trailing newline.
 */
struct d6_module_ops {
    const char *name; /* JSON key in `status json`: a plain identifier */
    /* Once, after privileges were dropped. 0 or -errno. */
    int (*start)(void *self, const struct conf *c, char *err, size_t errlen);
    /*
     * After a reload succeeded: move from old to new, keeping whatever
     * state survives (timers, sessions). old stays valid during the call
     * and is freed afterwards. A failure is logged; the new config stays.
     */
    int (*reconcile)(void *self, const struct conf *old, const struct conf *new_, char *err,
                     size_t errlen);
    /*
     * goodbye: orderly shutdown (say goodbye on the wire); false when
     * unwinding a failed start or restarting (SIGUSR1). A goodbye may go
     * on after the call: the loop keeps running until done() is true (or
     * a deadline passes), then free() ends whatever is left.
     */
    void (*stop)(void *self, bool goodbye);
    /* true when nothing is left to do after stop; NULL: always done */
    bool (*done)(void *self);
    /* Frees self; called once at exit whether or not start ran. */
    void (*free)(void *self);
    e6_view_fn view; /* arg is self */
};

#define D6_MODULES_MAX 16

struct d6_module {
    const struct d6_module_ops *ops;
    void *self;
    bool started;
};

struct d6_modules {
    struct d6_module m[D6_MODULES_MAX];
    size_t n;
};

/* 0, or -ENOSPC when D6_MODULES_MAX are registered. */
int d6_modules_add(struct d6_modules *ms, const struct d6_module_ops *ops, void *self);
/*
 * Start every module in order. On the first failure, stops the ones already
 * started (goodbye=false), writes "MODULE: reason" into err and returns the
 * module's error.
 */
int d6_modules_start(struct d6_modules *ms, const struct conf *c, char *err, size_t errlen);
/*
 * Reconcile every started module; failures are logged and, when why is
 * non-NULL, appended to it as "module NAME: reason" lines. Returns how
 * many failed.
 */
size_t d6_modules_reconcile(struct d6_modules *ms, const struct conf *old, const struct conf *new_,
                            struct e6_strbuf *why);
/* Stop started modules in reverse order. */
void d6_modules_stop(struct d6_modules *ms, bool goodbye);
/* true when every module's done() is (modules without one always are) */
bool d6_modules_done(const struct d6_modules *ms);
/* Free every module (stopping it first if it is still started). */
void d6_modules_free(struct d6_modules *ms);

/*
 * Render every module's view into out. TEXT: the views one after another,
 * separated by a blank line. JSON: one object {"name": view, ...}.
 */
void d6_modules_view(const struct d6_modules *ms, enum e6_view_format fmt, struct e6_strbuf *out);

#endif
