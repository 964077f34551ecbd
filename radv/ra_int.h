/*
 * radv/ra_int: what the parts of the RA engine share and nobody else sees:
 * the engine structure, the per-prefix advertisement record (RFC 9096
 * bookkeeping) and the RA content model that ra_content.c builds and packs
 * into packets for ra.c (timers) and ra_view.c (status, 6.2.7 checks).
 */
#ifndef E6_RADV_RA_INT_H
#define E6_RADV_RA_INT_H

#include "radv/ra.h"

#define RA_NEVER UINT64_MAX

/*
 * One prefix the engine advertises or advertised. active: wanted now (in the
 * config or on the link); otherwise it is stale and sent with 0/0 until
 * hold_until_ms. hold_until_ms is the latest time a host may still hold an
 * address from the prefix because of us: the maximum over our
 * advertisements of (when sent + valid lifetime, at most ND_VALID_LIMIT).
 * The maximum, not the last one, because RFC 4862 5.5.3 e) lets a host
 * ignore an advertised shortening of the valid lifetime.
 */
struct ra_track {
    struct e6_prefix prefix;
    bool on_link, autonomous;
    bool active;
    bool advertised;     /* sent with a non-zero valid lifetime since it became active */
    uint32_t last_valid; /* s, in the last RA that carried it */
    uint64_t last_adv_ms;
    bool decr_started; /* decrement = yes: the countdown began at decr_start_ms */
    uint64_t decr_start_ms;
    uint64_t stale_since_ms;
    uint64_t hold_until_ms;
};

struct ra_pkt {
    uint8_t *data;
    size_t len;
};

/* A PIO that went out, for the bookkeeping after a send. */
struct ra_sent_pio {
    struct e6_prefix prefix;
    uint32_t valid;
};

struct ra_pktset {
    struct ra_pkt *p;
    size_t n;
    struct ra_sent_pio *pio; /* active (not stale) PIOs carried */
    size_t n_pio;
};

struct ra_pending_rs {
    struct in6_addr src;
    uint64_t due_ms;
};

struct ra_engine {
    const struct conf_interface *cfg;
    struct ra_link link;
    uint64_t link_ms; /* when link (and its address lifetimes) was reported */
    e6_counter_block cnt;
    uint64_t local[RA_C__COUNT]; /* this interface's share, for the view */
    ra_rand_fn rnd;
    void *rnd_arg;

    bool able;    /* advertising: see ra_engine_state */
    bool stopped; /* ra_engine_stop was called */
    unsigned final_left;
    uint64_t final_due_ms;
    bool final_withdraw;

    unsigned initial_sent; /* multicast RAs since the burst (re)started */
    uint64_t periodic_due_ms;
    bool have_last_mcast;
    uint64_t last_mcast_ms;
    bool mcast_pending; /* a solicited multicast RA is scheduled */
    uint64_t mcast_due_ms;
    struct ra_pending_rs ucast[RA_MAX_PENDING_RS];
    size_t n_ucast;

    struct ra_track *tr;
    size_t n_tr, cap_tr;

    /* the multicast packets of the current RA, checksummed for ff02::1 */
    struct ra_pktset cache;
    bool cache_valid;
    bool cache_varying; /* lifetimes move with time: rebuild at each send */
    /* the content with time-varying lifetimes fixed, to tell real changes */
    uint8_t *key;
    size_t key_len;
    bool key_valid;

    uint64_t build_errors;    /* packets that could not be built (allocation) */
    uint64_t dropped_options; /* options that cannot fit any packet */
};

/* what the model is built for */
enum ra_mode {
    RA_MODE_NORMAL,
    RA_MODE_KEY,            /* time-varying lifetimes replaced by their configured bounds */
    RA_MODE_FINAL,          /* router lifetime 0 */
    RA_MODE_FINAL_WITHDRAW, /* and every other lifetime 0 */
};

enum ra_item_kind {
    RA_IT_PIO,
    RA_IT_RIO,
    RA_IT_RDNSS,
    RA_IT_DNSSL,
    RA_IT_PREF64,
    RA_IT_CAPTIVE,
};

struct ra_item {
    enum ra_item_kind kind;
    size_t size;  /* on the wire */
    bool varying; /* its lifetimes change with time */
    bool stale;   /* PIO: deprecated prefix (RFC 9096), 0/0 */
    union {
        struct e6_nd_pio pio;
        struct e6_nd_route rio;
        struct {
            uint32_t lifetime;
            const struct in6_addr *servers; /* into ra_model.pool */
            size_t n;
        } rdnss;
        struct {
            uint32_t lifetime;
            const char *const *names; /* into the config */
            size_t n;
        } dnssl;
        struct {
            uint32_t lifetime;
            struct e6_prefix prefix;
        } pref64;
        const char *captive;
    } u;
};

/* One RA's content before packing: the header, the per-packet options and
 * the others in their stable order. */
struct ra_model {
    struct e6_nd_ra hdr;
    bool forwarding_off; /* router lifetime forced to 0 */
    bool slla;
    uint8_t ll[16];
    uint8_t ll_len;
    uint32_t mtu_opt; /* 0: no MTU option */
    size_t avail;     /* ICMP bytes one packet may hold: link MTU - 40 */
    size_t base;      /* header + SLLA + MTU */
    struct ra_item *it;
    size_t n, cap;
    struct in6_addr *pool; /* RDNSS addresses */
    size_t n_pool;
    bool varying;
    unsigned dropped; /* options that cannot be sent (see item_add) */
    bool oom;
};

/* ra_content.c */
int ra_model_build(const struct ra_engine *e, enum ra_mode mode, uint64_t now_ms,
                   struct ra_model *m);
void ra_model_free(struct ra_model *m);
/* Packs m greedily into packets from src to dst. 0 or -errno. */
int ra_model_pack(const struct ra_model *m, const struct in6_addr *src, const struct in6_addr *dst,
                  struct ra_pktset *out);
void ra_pktset_free(struct ra_pktset *s);
/* Brings the prefix records up to date with the config and the link. */
void ra_track_sync(struct ra_engine *e, uint64_t now_ms);
struct ra_track *ra_track_find(const struct ra_engine *e, const struct e6_prefix *p);
/* After a send: remember what each prefix was advertised with. */
void ra_track_sent(struct ra_engine *e, const struct ra_pktset *s, uint64_t now_ms);
/* The earliest hold_until of a stale prefix, RA_NEVER if none. */
uint64_t ra_track_next_expiry(const struct ra_engine *e);
/* Recomputes the content key; true when the content changed. */
bool ra_content_update(struct ra_engine *e, uint64_t now_ms);
/* The link-local we send from, or fe80:: while we have none (for the key). */
const struct in6_addr *ra_src(const struct ra_engine *e);

/* ra.c */
void ra_count(struct ra_engine *e, enum ra_counter c, uint64_t n);

#endif
