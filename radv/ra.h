/*
 * radv/ra: the Router Advertisement engine for one interface. It is pure:
 * configuration, link state, received Router Solicitations and
 * Advertisements and the time come in as arguments; packets to send come
 * out through a callback. It owns the RFC 4861 6.2.4-6.2.6 timers, RS
 * coalescing and the 3 s multicast floor, the final RAs, the RA cache and
 * splitting across the link MTU (RFC 6980), lifetime decrement, and the
 * RFC 9096 deprecation of prefixes that disappear. It never reads a clock,
 * opens a socket or touches a file: radv/io (the shell) does.
 */
#ifndef E6_RADV_RA_H
#define E6_RADV_RA_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "common/counters.h"
#include "common/nd.h"
#include "common/strbuf.h"
#include "conf/conf.h"

/* RFC 4861 section 10, router constants */
#define RA_MAX_INITIAL_RTR_ADVERT_INTERVAL_MS 16000
#define RA_MAX_INITIAL_RTR_ADVERTISEMENTS     3
#define RA_MAX_FINAL_RTR_ADVERTISEMENTS       3
#define RA_MIN_DELAY_BETWEEN_RAS_MS           3000
#define RA_MAX_RA_DELAY_TIME_MS               500
/* RFC 9096 */
#define RA_ND_PREFERRED_LIMIT 2700
#define RA_ND_VALID_LIMIT     5400

#define RA_MAX_ADDRS      64 /* addresses of the link the engine looks at */
#define RA_MAX_STALE      64 /* deprecated prefixes remembered per interface */
#define RA_MAX_PENDING_RS 16 /* distinct unicast RS sources answered separately */

/* One IPv6 address on the link, as netlink reports it. */
struct ra_addr {
    struct in6_addr addr;
    uint8_t plen;
    uint32_t valid_left;     /* s remaining; CONF_LIFETIME_INFINITY = forever */
    uint32_t preferred_left; /* s remaining */
    bool tentative;
    bool deprecated;
};

/* The link as the shell sees it through netlink. */
struct ra_link {
    bool present; /* the interface exists */
    bool up;      /* IFF_UP and IFF_RUNNING */
    int ifindex;
    unsigned mtu;
    uint8_t lladdr[16]; /* hardware address; lladdr_len 0 on links without one */
    uint8_t lladdr_len;
    bool have_linklocal; /* a link-local address that finished DAD */
    struct in6_addr linklocal;
    bool forwarding; /* net.ipv6.conf.IF.forwarding */
    struct ra_addr addrs[RA_MAX_ADDRS];
    size_t n_addrs;
};

/* Why the engine is or is not advertising; shown by edge6ctl status. */
enum ra_state {
    RA_ST_DISABLED,     /* advertise = no */
    RA_ST_NO_LINK,      /* interface missing */
    RA_ST_DOWN,         /* not up/running */
    RA_ST_NO_LINKLOCAL, /* waiting for a usable link-local address (DAD) */
    RA_ST_ADVERTISING,  /* sending */
    RA_ST_STOPPING,     /* sending final RAs */
    RA_ST_STOPPED,      /* final RAs done (or skipped) */
};
const char *ra_state_name(enum ra_state s);

/* Counter indices of the "radv" counter set (one set shared by all
 * interfaces; the shell creates it with ra_counter_names). */
enum ra_counter {
    RA_C_SENT_PERIODIC,
    RA_C_SENT_SOLICITED_MCAST,
    RA_C_SENT_SOLICITED_UNICAST,
    RA_C_SENT_FINAL,
    RA_C_SENT_SPLIT_EXTRA, /* additional packets because one RA did not fit the MTU */
    RA_C_RS_RECEIVED,
    RA_C_RS_COALESCED, /* answered by an RA already scheduled */
    RA_C_RA_RECEIVED,
    RA_C_RA_INCONSISTENT, /* RFC 4861 6.2.7 differences found */
    RA_C_FORWARDING_OFF,  /* RAs sent with router lifetime 0 because forwarding is off */
    RA_C__COUNT,
};
extern const char *const ra_counter_names[RA_C__COUNT];

/* Where a packet goes: all-nodes multicast, or unicast to one solicitor. */
struct ra_tx {
    struct in6_addr dst;  /* ff02::1 or the RS source */
    bool final;           /* one of the final RAs */
    const uint8_t *icmp6; /* ICMPv6 message, checksum already computed */
    size_t len;
};
typedef void (*ra_emit_fn)(void *arg, const struct ra_tx *tx);

/* Randomness is injected so tests are repeatable. Returns uniform [0, 2^32). */
typedef uint32_t (*ra_rand_fn)(void *arg);

struct ra_engine;

/*
 * A new engine for cfg (which must stay valid until ra_engine_set_config
 * hands it a new one or ra_engine_free). cnt: the shell's counter block.
 * NULL on allocation failure.
 */
struct ra_engine *ra_engine_new(const struct conf_interface *cfg, e6_counter_block cnt,
                                ra_rand_fn rnd, void *rnd_arg, uint64_t now_ms);
void ra_engine_free(struct ra_engine *e);

/*
 * Reload: the new config replaces the old one. Prefixes that leave the
 * config are deprecated (RFC 9096); when the RA content changes the
 * engine sends a fresh burst of up to 3 initial RAs (RFC 4861 6.2.4).
 */
void ra_engine_set_config(struct ra_engine *e, const struct conf_interface *cfg, uint64_t now_ms);

/* The link changed (netlink event or resync). Same rules as above. */
void ra_engine_set_link(struct ra_engine *e, const struct ra_link *link, uint64_t now_ms);

/*
 * A prefix advertised before (restored from the state directory after a
 * restart): advertise it with preferred = valid = 0 until until_ms (on the
 * engine's clock) unless it is advertised again.
 */
void ra_engine_add_stale(struct ra_engine *e, const struct e6_prefix *p, bool on_link,
                         bool autonomous, uint64_t until_ms);

/* A valid RS (already checked by e6_nd_parse) arrived from src. */
void ra_engine_on_rs(struct ra_engine *e, const struct in6_addr *src, uint64_t now_ms);

/*
 * A valid RA from another router on the link: RFC 4861 6.2.7 checks
 * against ours. Each difference is counted and written as one line
 * ("cur hop limit 64 vs ours 32 from fe80::1") into report when non-NULL.
 */
void ra_engine_on_ra(struct ra_engine *e, const struct in6_addr *src, const struct e6_nd_msg *ra,
                     struct e6_strbuf *report, uint64_t now_ms);

/* When ra_engine_run next has something to do (UINT64_MAX: nothing). */
uint64_t ra_engine_next(const struct ra_engine *e);

/* Send whatever is due at now_ms through emit (possibly several packets). */
void ra_engine_run(struct ra_engine *e, uint64_t now_ms, ra_emit_fn emit, void *arg);

/*
 * Stop advertising. goodbye: schedule up to 3 final RAs with router
 * lifetime 0 (and, with withdraw-on-exit, zero prefix/route/DNS
 * lifetimes), 3 s apart as RFC 4861 6.2.6 requires of multicast RAs;
 * otherwise stop at once (restart path). ra_engine_done() turns true when
 * nothing is left to send.
 */
void ra_engine_stop(struct ra_engine *e, bool goodbye, uint64_t now_ms);
bool ra_engine_done(const struct ra_engine *e);

enum ra_state ra_engine_state(const struct ra_engine *e);

/* Prefixes currently advertised with a non-zero valid lifetime, for the
 * shell to persist: fn is called with the prefix, its L and A flags and
 * the valid lifetime it was last advertised with (seconds). */
void ra_engine_foreach_advertised(const struct ra_engine *e,
                                  void (*fn)(void *arg, const struct e6_prefix *p, bool on_link,
                                             bool autonomous, uint32_t valid),
                                  void *arg);

/*
 * Status for edge6ctl: state, next RA time, counts, and (detail) the RA
 * currently advertised, decoded option by option. Writes a JSON object
 * for E6_VIEW_JSON, indented text lines for E6_VIEW_TEXT.
 */
void ra_engine_view(const struct ra_engine *e, struct e6_json *j, enum e6_view_format fmt,
                    bool detail, uint64_t now_ms);

#endif
