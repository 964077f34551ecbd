/*
 * ndppd/ndp_int: what the two halves of the NDP proxy engine share and
 * nobody else sees: the engine structure, the session and probe-budget
 * records, and the calls between ndp.c (rules, verdicts, answers, the
 * 7.2.8 delay queue, lifecycle) and ndp_session.c (the session table, its
 * timers and the probe budgets).
 */
#ifndef E6_NDPPD_NDP_INT_H
#define E6_NDPPD_NDP_INT_H

#include "common/htable.h"
#include "ndppd/ndp.h"

#define NDP_NEVER UINT64_MAX

enum {
    CLS_INVALID = 0,
    CLS_INCOMPLETE = 1,
    CLS_VALID = 2,
};

/* Timer lists; see the comment at the top of ndp_session.c. */
enum ndp_tlist {
    TL_PROBE,   /* INCOMPLETE and REFRESH: next try (or giving up) */
    TL_INVALID, /* INVALID: removal */
    TL_VALID,   /* VALID: start of the refresh window */
    TL_LATE,    /* VALID, not asked when the window opened: expiry */
    TL__COUNT,
    TL_NONE = TL__COUNT,
};

/* Someone waiting for an answer; src :: is a DAD probe. */
struct ndp_asker {
    struct in6_addr src;
    uint8_t l2[6];
    uint8_t l2_len;
};

struct ndp_session {
    struct e6_hentry h;
    struct in6_addr target; /* the key */
    struct ndp_session *tprev, *tnext;
    uint64_t deadline; /* in its timer list */
    uint64_t expires;  /* for views: when the current state ends */
    uint64_t asked_count;
    int ifindex;
    uint8_t state; /* enum ndp_state */
    uint8_t tlist; /* enum ndp_tlist */
    uint8_t tries;
    uint8_t n_askers;
    bool up;    /* session_up was called, session_down not yet */
    bool asked; /* an NS for it since it was last confirmed */
    struct ndp_asker askers[NDP_MAX_ASKERS];
};

struct ndp_source {
    struct e6_hentry h;
    struct in6_addr addr; /* the key */
    uint64_t last_ms;
    uint64_t tokens; /* thousandths of a probe */
};

struct ndp_delayed {
    uint64_t due;
    uint64_t seq; /* FIFO among equal due times */
    struct in6_addr target;
    struct ndp_asker who;
};

struct ndp_tl {
    struct ndp_session *head, *tail;
};

struct ndp_proxy {
    const struct conf_proxy *cfg;
    const struct ndp_ops *ops;
    void *arg;
    e6_counter_block cnt;
    struct ndp_link link;

    struct e6_htable sessions;
    struct ndp_tl tl[TL__COUNT];
    size_t n_state[NDP_S__COUNT];

    struct e6_htable sources;
    uint64_t g_tokens[2], g_last[2]; /* global budgets: multicast NS, unicast NS */

    /* 7.2.8 delay queue: a binary min-heap on (due, seq), grown on demand */
    struct ndp_delayed *dq;
    size_t dq_n, dq_cap;
    uint64_t dq_seq;
};

static inline void ndp_count(struct ndp_proxy *p, enum ndp_counter c)
{
    if (p->cnt.v)
        e6_count(p->cnt, c);
}

static inline struct ndp_session *ndp_sess_of(struct e6_hentry *e)
{
    return (struct ndp_session *)((char *)e - offsetof(struct ndp_session, h));
}

static inline struct ndp_source *ndp_src_of(struct e6_hentry *e)
{
    return (struct ndp_source *)((char *)e - offsetof(struct ndp_source, h));
}

/* ndp.c: the callbacks with their defaults when the shell left one NULL */
/* A usable route: 0 with out filled, or -ENOENT (none, reject, no egress). */
int ndp_op_route(struct ndp_proxy *p, const struct in6_addr *t, struct ndp_route *out);
void ndp_op_iface(struct ndp_proxy *p, const char *name, struct ndp_iface *out);
bool ndp_op_kernel_neigh(struct ndp_proxy *p, int ifindex, const struct in6_addr *t);
void ndp_op_updown(struct ndp_proxy *p, struct ndp_session *s, bool up);

/* ndp.c: answers */
void ndp_asker_from_ns(const struct ndp_ns *ns, struct ndp_asker *a);
/* The answer to who, now (counted; NO_LINKLOCAL when none can be built). */
void ndp_send_now(struct ndp_proxy *p, const struct in6_addr *target, const struct ndp_asker *who);
/* The answer to an NS: after the 7.2.8 delay when it was multicast, else now. */
void ndp_answer_ns(struct ndp_proxy *p, const struct ndp_ns *ns, uint64_t now);
/* The delay queue's earliest due time (NDP_NEVER when empty); send what is due. */
uint64_t ndp_delay_next(const struct ndp_proxy *p);
void ndp_delay_run(struct ndp_proxy *p, uint64_t now);

/* ndp_session.c */
int ndp_sessions_init(struct ndp_proxy *p, uint64_t now);
/* Ends every session (down for those up) and frees both tables. */
void ndp_sessions_fini(struct ndp_proxy *p);
/* After p->cfg changed: sessions the config no longer sends there end; the new bound. */
void ndp_sessions_reconcile(struct ndp_proxy *p);
/* A target an iface/auto rule sends to downstream ifindex (a link with ND). */
void ndp_session_ns(struct ndp_proxy *p, const struct ndp_ns *ns, int ifindex, uint64_t now);

#endif
