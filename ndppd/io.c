/*
 * ndppd/io: the NDP proxy engines' shell. Per proxy a libpcap capture (NS
 * in, answers out on the same packet socket), one raw ICMPv6 socket for
 * the downstream probes and the NAs that answer them, the engines' view
 * of the box from the shared netlink caches, kernel proxy entries and
 * autowire routes, one timer per engine, reload and views.
 */
#include "config.h"

#include "ndppd/io.h"

#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/rtnetlink.h>
#include <malloc.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/htable.h"
#include "common/icmp6sock.h"
#include "common/log.h"
#include "common/nd.h"
#include "ndppd/io_frame.h"

/* Frames handled per wake-up, so an NS flood cannot starve the loop. */
#define RX_BATCH 256
/* NAs read from the probe socket per wake-up. */
#define NA_BATCH 64
#define NA_BUF   2048
/*
 * The capture ring. The kernel maps all of it when the capture opens, so
 * it is part of the idle RSS and never grows under a flood; 4 MiB (about
 * 10000 NS frames) absorbs the bursts of a 200000 NS/s sender while the
 * loop does other work.
 */
#define CAPTURE_BUFFER (4 * 1024 * 1024)
/* A capture that failed to open on a present, up link is retried. */
#define CAPTURE_RETRY_MIN_MS 1000
#define CAPTURE_RETRY_MAX_MS 60000
/* After a flood: trim the heap once the sessions fall to this fraction. */
#define TRIM_MIN_HIGH_WATER 1024
#define TRIM_FRACTION       4
/* `edge6ctl neighbors` shows at most this many sessions (the answer is bounded). */
#define NEIGHBORS_MAX_SHOWN 20000

/* "ndppd-rx": what the captures read */
enum {
    RX_ACCEPTED = 0, /* NS handed to an engine */
    /* 1 .. E6_ND_R__COUNT-1: e6_nd_reject */
    RX_IP6_FIRST = E6_ND_R__COUNT, /* then e6_ip6_reject 1.. */
    RX_NOT_NS = RX_IP6_FIRST + E6_IP6_R__COUNT - 1,
    RX_BAD_L2,
    RX_VLAN,
    RX_TRUNCATED,
    RX_CAPTURE_ERRORS,
    RX__COUNT,
};
static const char *rx_names[RX__COUNT];
static char ip6_names[E6_IP6_R__COUNT][32];

/* "ndppd-io": answers, probes and kernel changes */
enum {
    IO_NA_SENT,
    IO_NA_SEND_FAILED,
    IO_NA_NO_CAPTURE,
    IO_NA_UNFRAMEABLE,
    IO_PROBE_SENT,
    IO_PROBE_SEND_FAILED,
    IO_PROBE_NO_SOURCE,
    IO_PROBE_NO_SOCKET,
    IO_NA_RX,
    IO_NA_RX_INVALID,
    IO_NA_RX_NO_CMSG,
    IO_NA_RX_TRUNCATED,
    IO_NA_RX_READ_ERRORS,
    IO_PROXY_ADDED,
    IO_PROXY_ADD_FAILED,
    IO_PROXY_REMOVED,
    IO_PROXY_DEL_FAILED,
    IO_ROUTE_ADDED,
    IO_ROUTE_ADD_FAILED,
    IO_ROUTE_REMOVED,
    IO_ROUTE_DEL_FAILED,
    IO_MALLOC_TRIMS,
    IO__COUNT,
};
static const char *const io_names[IO__COUNT] = {
    [IO_NA_SENT] = "na_sent",
    [IO_NA_SEND_FAILED] = "na_send_failed",
    [IO_NA_NO_CAPTURE] = "na_no_capture",
    [IO_NA_UNFRAMEABLE] = "na_unframeable",
    [IO_PROBE_SENT] = "probe_sent",
    [IO_PROBE_SEND_FAILED] = "probe_send_failed",
    [IO_PROBE_NO_SOURCE] = "probe_no_source",
    [IO_PROBE_NO_SOCKET] = "probe_no_socket",
    [IO_NA_RX] = "na_received",
    [IO_NA_RX_INVALID] = "na_invalid",
    [IO_NA_RX_NO_CMSG] = "na_no_ancillary_data",
    [IO_NA_RX_TRUNCATED] = "na_truncated",
    [IO_NA_RX_READ_ERRORS] = "na_read_errors",
    [IO_PROXY_ADDED] = "proxy_entries_added",
    [IO_PROXY_ADD_FAILED] = "proxy_entry_add_failed",
    [IO_PROXY_REMOVED] = "proxy_entries_removed",
    [IO_PROXY_DEL_FAILED] = "proxy_entry_del_failed",
    [IO_ROUTE_ADDED] = "autowire_routes_added",
    [IO_ROUTE_ADD_FAILED] = "autowire_route_add_failed",
    [IO_ROUTE_REMOVED] = "autowire_routes_removed",
    [IO_ROUTE_DEL_FAILED] = "autowire_route_del_failed",
    [IO_MALLOC_TRIMS] = "memory_trims",
};

/* Answers of one capture batch, sent with one sendmmsg(). */
#define TX_BATCH     64
#define TX_FRAME_MAX (14 + E6_IP6_HDR_LEN + 256)
struct tx_batch {
    uint8_t buf[TX_BATCH][TX_FRAME_MAX];
    struct sockaddr_ll to[TX_BATCH];
    struct iovec iov[TX_BATCH];
    struct mmsghdr msg[TX_BATCH];
    size_t n;
};

enum cap_state {
    CAP_WAIT_LINK, /* interface missing */
    CAP_WAIT_UP,   /* interface down */
    CAP_OPEN,
    CAP_FAILED,      /* open failed: retried from a timer */
    CAP_UNSUPPORTED, /* datalink we cannot read: waits for the link to change */
};

struct ndp_px {
    struct ndp_service *s;
    struct conf_proxy *cfg; /* our own copy: the engine points into it */
    struct ndp_proxy *eng;
    struct e6_timer timer;
    struct ndp_link link;
    uint16_t arptype;
    bool admin_up;     /* IFF_UP: the capture opens (link.up also wants carrier) */
    uint8_t hwaddr[6]; /* the link's MAC even when NOARP: the Ethernet source of answers */
    uint8_t hwaddr_len;
    uint64_t now; /* loop time of the batch being dispatched */

    pcap_t *pc;
    int pfd;
    enum cap_state cap;
    enum ndp_l2 l2;
    int dlt;
    int cap_ifindex;
    bool allmulti;
    struct tx_batch *tx; /* while the capture is open */
    bool dispatching;    /* inside pcap_dispatch: answers wait for the batch's end */
    char cap_err[256];
    char logged_err[256]; /* the capture error last logged */
    struct e6_timer cap_retry;
    uint32_t cap_retry_ms;
    uint16_t unsupported_arptype; /* the link type refused, to retry when it changes */
    int unsupported_ifindex;
    bool state_logged;
    enum cap_state logged_state;
    uint64_t drops_before; /* pcap drops of captures closed before */

    bool proxy_ndp_warned;
    size_t high_water;
    struct e6_ratelimit tx_rl, kern_rl, rx_rl;
};

/* The addresses of the box, refcounted over interfaces (ndp_ops.is_local). */
struct local_addr {
    struct e6_hentry h;
    struct in6_addr addr;
    unsigned refs;
};

struct ndp_service {
    struct ndp_service_env env;
    struct e6_counters *cnt_ndp, *cnt_rx, *cnt_io;
    e6_counter_block ndp_blk, rx, io;
    int fd; /* raw ICMPv6: probes out, NAs in */
    int nl_sub;
    struct ndp_px **pxs;
    size_t n_pxs, cap_pxs;
    struct e6_htable local;
    bool local_ok;
    struct e6_timer route_timer;
    bool route_dirty;
    bool started;
    bool stopped;
    uint64_t rnd;
    uint8_t *nabuf;
    struct e6_nd_msg *msg;
    struct e6_ratelimit probe_rl, na_rl;
};

static const struct ndp_ops ops;

/* ---- configuration copies ----------------------------------------------- */

static void pxcfg_free(struct conf_proxy *c)
{
    if (!c)
        return;
    for (size_t i = 0; c->rules && i < c->n_rules; i++) {
        free(c->rules[i].iface);
        free(c->rules[i].tunnel);
    }
    free(c->rules);
    free(c->name);
    free(c);
}

/* A deep copy, so an engine outlives the struct conf it came from. */
static struct conf_proxy *pxcfg_dup(const struct conf_proxy *src)
{
    struct conf_proxy *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    *c = *src;
    c->rules = NULL;
    c->n_rules = 0;
    c->name = strdup(src->name);
    if (!c->name)
        goto fail;
    if (src->n_rules) {
        c->rules = calloc(src->n_rules, sizeof(*c->rules));
        if (!c->rules)
            goto fail;
        for (size_t i = 0; i < src->n_rules; i++) {
            c->rules[i] = src->rules[i];
            c->rules[i].iface = NULL;
            c->rules[i].tunnel = NULL;
            c->n_rules = i + 1;
            if (src->rules[i].iface && !(c->rules[i].iface = strdup(src->rules[i].iface)))
                goto fail;
            if (src->rules[i].tunnel && !(c->rules[i].tunnel = strdup(src->rules[i].tunnel)))
                goto fail;
        }
    }
    return c;
fail:
    pxcfg_free(c);
    return NULL;
}

/* ---- helpers --------------------------------------------------------------- */

static uint64_t now_ms(const struct ndp_service *s)
{
    return e6_loop_now(s->env.loop);
}

static struct ndp_px *find_px(const struct ndp_service *s, const char *name)
{
    for (size_t i = 0; i < s->n_pxs; i++)
        if (strcmp(s->pxs[i]->cfg->name, name) == 0)
            return s->pxs[i];
    return NULL;
}

static const char *fmt_mac(const uint8_t *m, size_t len, char *buf, size_t cap)
{
    size_t off = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < len && off + 4 <= cap; i++)
        off += (size_t)snprintf(buf + off, cap - off, "%s%02x", i ? ":" : "", m[i]);
    return buf;
}

static const char *ifname_of(const struct ndp_service *s, int ifindex, char *buf, size_t cap)
{
    struct e6_nl_link l;
    if (s->env.nl && ifindex > 0 && e6_nl_link_by_index(s->env.nl, ifindex, &l) == 0)
        snprintf(buf, cap, "%s", l.name);
    else
        snprintf(buf, cap, "ifindex %d", ifindex);
    return buf;
}

/* ---- local addresses -------------------------------------------------------- */

static void local_evict(struct e6_hentry *e, void *arg)
{
    (void)arg;
    free(e);
}

static void local_add(struct ndp_service *s, const struct in6_addr *a);

/* (Re)build the set from the address cache, sized for what is there. */
static void local_rebuild(struct ndp_service *s, size_t want)
{
    if (s->local_ok)
        e6_htable_destroy(&s->local);
    s->local_ok = false;
    if (!s->env.nl)
        return;
    size_t n = e6_nl_addrs(s->env.nl, 0, NULL, 0);
    size_t cap = 64;
    while (cap < 2 * n || cap < want)
        cap *= 2;
    if (e6_htable_init(&s->local, cap,
                       (ptrdiff_t)offsetof(struct local_addr, addr) -
                           (ptrdiff_t)offsetof(struct local_addr, h),
                       sizeof(struct in6_addr), local_evict, NULL) < 0) {
        e6_err("ndp: out of memory for the local address set");
        return;
    }
    s->local_ok = true;
    struct e6_nl_addr *v = n ? calloc(n, sizeof(*v)) : NULL;
    if (n && !v) {
        e6_err("ndp: out of memory reading the local addresses");
        return;
    }
    n = e6_nl_addrs(s->env.nl, 0, v, n);
    for (size_t i = 0; v && i < n; i++)
        local_add(s, &v[i].addr);
    free(v);
}

static void local_add(struct ndp_service *s, const struct in6_addr *a)
{
    if (!s->local_ok)
        return;
    struct e6_hentry *e = e6_htable_find(&s->local, a);
    if (e) {
        ((struct local_addr *)(void *)e)->refs++;
        return;
    }
    if (e6_htable_count(&s->local) >= s->local.max_entries) {
        /* never let the table evict one of our own addresses: grow */
        local_rebuild(s, s->local.max_entries * 2);
        return; /* the rebuild read a from the cache */
    }
    struct local_addr *la = calloc(1, sizeof(*la));
    if (!la)
        return;
    la->addr = *a;
    la->refs = 1;
    if (e6_htable_insert(&s->local, &la->h, 0) < 0)
        free(la);
}

static void local_del(struct ndp_service *s, const struct in6_addr *a)
{
    if (!s->local_ok)
        return;
    struct e6_hentry *e = e6_htable_find(&s->local, a);
    if (!e)
        return;
    struct local_addr *la = (struct local_addr *)(void *)e;
    if (--la->refs == 0) {
        e6_htable_remove(&s->local, e);
        free(la);
    }
}

/* ---- after every call into an engine ------------------------------------- */

static void after_input(struct ndp_px *p)
{
    struct ndp_service *s = p->s;
    uint64_t next = ndp_proxy_next(p->eng);
    if (next == UINT64_MAX)
        e6_timer_cancel(s->env.loop, &p->timer);
    else if (!e6_timer_armed(&p->timer) || p->timer.deadline_ms != next) {
        if (e6_timer_arm_at(s->env.loop, &p->timer, next) < 0)
            e6_err("ndp %s: cannot arm a timer: out of memory", p->cfg->name);
    }
}

/* A flood of unknown targets is over: give its memory back to the system. */
static void maybe_trim(struct ndp_px *p)
{
    size_t total = ndp_proxy_session_total(p->eng);
    if (total > p->high_water) {
        p->high_water = total;
        return;
    }
    if (p->high_water > TRIM_MIN_HIGH_WATER && total <= p->high_water / TRIM_FRACTION) {
        e6_debug("ndp %s: sessions down from %zu to %zu: returning memory", p->cfg->name,
                 p->high_water, total);
        p->high_water = total;
        malloc_trim(0);
        e6_count(p->s->io, IO_MALLOC_TRIMS);
    }
}

static void px_timer(struct e6_loop *loop, struct e6_timer *t, void *arg)
{
    struct ndp_px *p = arg;
    ndp_proxy_run(p->eng, e6_loop_now(loop));
    maybe_trim(p);
    after_input(p);
}

/* ---- capture --------------------------------------------------------------- */

static void cap_ready(struct e6_loop *loop, int fd, uint32_t events, void *arg);
static void tx_flush(struct ndp_px *p);

static void cap_close(struct ndp_px *p)
{
    if (!p->pc)
        return;
    struct pcap_stat st;
    if (pcap_stats(p->pc, &st) == 0)
        p->drops_before += (uint64_t)st.ps_drop + st.ps_ifdrop;
    if (p->pfd >= 0)
        e6_loop_del_fd(p->s->env.loop, p->pfd);
    free(p->tx);
    p->tx = NULL;
    /* closing the socket ends its all-multicast membership */
    pcap_close(p->pc);
    p->pc = NULL;
    p->pfd = -1;
    p->allmulti = false;
    p->cap_ifindex = 0;
}

static bool cap_set_allmulti(struct ndp_px *p)
{
    struct packet_mreq mr = {
        .mr_ifindex = p->link.ifindex,
        .mr_type = PACKET_MR_ALLMULTI,
    };
    if (setsockopt(p->pfd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)) < 0) {
        e6_warn("ndp %s: cannot receive all multicast (PACKET_MR_ALLMULTI): %s; NS to "
                "solicited-node groups may be filtered by the interface",
                p->cfg->name, strerror(errno));
        return false;
    }
    return true;
}

/* 0, or -errno with p->cap_err set; p->cap says whether to retry. */
static int cap_open(struct ndp_px *p)
{
    char eb[PCAP_ERRBUF_SIZE] = "";
    const char *step = "pcap_create";
    int rc;
    pcap_t *pc = pcap_create(p->cfg->name, eb);
    if (!pc) {
        snprintf(p->cap_err, sizeof(p->cap_err), "pcap_create: %s", eb);
        return -ENODEV;
    }
    if ((rc = pcap_set_snaplen(pc, NDP_IO_SNAPLEN)) != 0)
        step = "snaplen";
    else if ((rc = pcap_set_promisc(pc, 0)) != 0)
        step = "promisc";
    else if ((rc = pcap_set_immediate_mode(pc, 1)) != 0)
        step = "immediate mode";
    else if ((rc = pcap_set_buffer_size(pc, CAPTURE_BUFFER)) != 0)
        step = "buffer size";
    if (rc == 0) {
        step = "activate";
        rc = pcap_activate(pc);
        if (rc > 0) {
            e6_info("ndp %s: capture: %s", p->cfg->name, pcap_statustostr(rc));
            rc = 0;
        }
    }
    if (rc != 0) {
        const char *why = rc == PCAP_ERROR ? pcap_geterr(pc) : pcap_statustostr(rc);
        snprintf(p->cap_err, sizeof(p->cap_err), "capture %s: %s%s", step, why,
                 rc == PCAP_ERROR_PERM_DENIED ? " (needs CAP_NET_RAW)" : "");
        pcap_close(pc);
        return rc == PCAP_ERROR_PERM_DENIED ? -EPERM : -EIO;
    }
    int dlt = pcap_datalink(pc);
    enum ndp_l2 l2 = ndp_io_l2_kind(dlt);
    if (l2 == NDP_L2_UNSUPPORTED) {
        const char *dn = pcap_datalink_val_to_name(dlt);
        snprintf(p->cap_err, sizeof(p->cap_err),
                 "datalink %s (%d) is not supported (Ethernet or raw IPv6 only)", dn ? dn : "?",
                 dlt);
        pcap_close(pc);
        p->cap = CAP_UNSUPPORTED;
        return -EPROTONOSUPPORT;
    }
    struct bpf_program prog;
    step = "filter";
    if (pcap_compile(pc, &prog, NDP_IO_BPF, 1, PCAP_NETMASK_UNKNOWN) != 0 ||
        (rc = pcap_setfilter(pc, &prog), pcap_freecode(&prog), rc != 0) ||
        (step = "direction", pcap_setdirection(pc, PCAP_D_IN) != 0) ||
        (step = "non-blocking", pcap_setnonblock(pc, 1, eb) != 0)) {
        snprintf(p->cap_err, sizeof(p->cap_err), "capture %s: %s", step,
                 eb[0] ? eb : pcap_geterr(pc));
        pcap_close(pc);
        return -EIO;
    }
    if (!p->tx && !(p->tx = calloc(1, sizeof(*p->tx)))) {
        snprintf(p->cap_err, sizeof(p->cap_err), "out of memory");
        pcap_close(pc);
        return -ENOMEM;
    }
    int fd = pcap_get_selectable_fd(pc);
    if (fd < 0) {
        snprintf(p->cap_err, sizeof(p->cap_err), "capture has no selectable descriptor");
        pcap_close(pc);
        return -EIO;
    }
    rc = e6_loop_add_fd(p->s->env.loop, fd, EPOLLIN, cap_ready, p);
    if (rc < 0) {
        snprintf(p->cap_err, sizeof(p->cap_err), "cannot watch the capture: %s", strerror(-rc));
        pcap_close(pc);
        return rc;
    }
    p->pc = pc;
    p->pfd = fd;
    p->dlt = dlt;
    p->l2 = l2;
    p->cap_ifindex = p->link.ifindex;
    p->cap = CAP_OPEN;
    p->cap_err[0] = '\0';
    p->allmulti = cap_set_allmulti(p);
    return 0;
}

static void cap_retry_cb(struct e6_loop *loop, struct e6_timer *t, void *arg);

static const char *cap_state_text(const struct ndp_px *p)
{
    switch (p->cap) {
    case CAP_WAIT_LINK:
        return "interface missing: waiting for it to appear";
    case CAP_WAIT_UP:
        return "interface down: waiting for it to come up";
    case CAP_OPEN:
        return "capturing";
    case CAP_FAILED:
        return "capture failed: retrying";
    case CAP_UNSUPPORTED:
        return "link type not supported";
    }
    return "?";
}

static const char *cap_state_name(enum cap_state c)
{
    switch (c) {
    case CAP_WAIT_LINK:
        return "waiting_for_interface";
    case CAP_WAIT_UP:
        return "waiting_for_up";
    case CAP_OPEN:
        return "open";
    case CAP_FAILED:
        return "failed";
    case CAP_UNSUPPORTED:
        return "unsupported";
    }
    return "?";
}

/* Each change of capture state once in the log (9000 missing interfaces
 * must not flood it: the waiting states are info). */
static void cap_log(struct ndp_px *p)
{
    if (p->state_logged && p->logged_state == p->cap)
        return;
    p->state_logged = true;
    p->logged_state = p->cap;
    switch (p->cap) {
    case CAP_OPEN: {
        char mac[32];
        e6_notice("ndp %s: proxying on ifindex %d (%s%s%s, all-multicast %s)", p->cfg->name,
                  p->cap_ifindex, ndp_io_l2_name(p->l2), p->hwaddr_len ? " " : "",
                  p->hwaddr_len ? fmt_mac(p->hwaddr, p->hwaddr_len, mac, sizeof(mac)) : "",
                  p->allmulti ? "on" : "OFF");
        break;
    }
    case CAP_WAIT_LINK:
    case CAP_WAIT_UP:
        e6_info("ndp %s: %s", p->cfg->name, cap_state_text(p));
        break;
    case CAP_FAILED:
        e6_err("ndp %s: %s; retrying every %u s at most, not proxying meanwhile", p->cfg->name,
               p->cap_err, CAPTURE_RETRY_MAX_MS / 1000);
        break;
    case CAP_UNSUPPORTED:
        e6_err("ndp %s: %s: not proxying on this interface", p->cfg->name, p->cap_err);
        break;
    }
}

static void cap_fail(struct ndp_px *p)
{
    uint32_t ms = p->cap_retry_ms ? p->cap_retry_ms * 2 : CAPTURE_RETRY_MIN_MS;
    p->cap_retry_ms = ms > CAPTURE_RETRY_MAX_MS ? CAPTURE_RETRY_MAX_MS : ms;
    p->cap = CAP_FAILED;
    e6_timer_arm_in(p->s->env.loop, &p->cap_retry, p->cap_retry_ms);
    /* a new error is worth a line; the same one retried is not */
    if (strcmp(p->logged_err, p->cap_err) != 0) {
        p->state_logged = false;
        snprintf(p->logged_err, sizeof(p->logged_err), "%s", p->cap_err);
    }
    cap_log(p);
}

/* Open or close the capture to match the link. */
static void cap_update(struct ndp_px *p)
{
    struct ndp_service *s = p->s;
    bool want = !s->stopped && p->link.present && p->admin_up;
    if (p->pc && (!want || p->cap_ifindex != p->link.ifindex))
        cap_close(p);
    if (!want) {
        e6_timer_cancel(s->env.loop, &p->cap_retry);
        p->cap_retry_ms = 0;
        p->cap = p->link.present ? CAP_WAIT_UP : CAP_WAIT_LINK;
        if (!s->stopped)
            cap_log(p);
        return;
    }
    if (p->pc)
        return;
    if (p->cap == CAP_UNSUPPORTED && p->unsupported_ifindex == p->link.ifindex &&
        p->unsupported_arptype == p->arptype)
        return;
    if (p->cap == CAP_FAILED && e6_timer_armed(&p->cap_retry))
        return;
    int rc = cap_open(p);
    if (rc == 0) {
        e6_timer_cancel(s->env.loop, &p->cap_retry);
        p->cap_retry_ms = 0;
        p->logged_err[0] = '\0';
        cap_log(p);
        return;
    }
    if (rc == -EPROTONOSUPPORT) {
        p->unsupported_ifindex = p->link.ifindex;
        p->unsupported_arptype = p->arptype;
        cap_log(p);
        return;
    }
    cap_fail(p);
}

static void cap_retry_cb(struct e6_loop *loop, struct e6_timer *t, void *arg)
{
    cap_update(arg);
}

static void on_frame(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
    struct ndp_px *p = (struct ndp_px *)(void *)user;
    struct ndp_service *s = p->s;
    struct ndp_l2_frame f;

    enum ndp_l2_reject lr = ndp_io_l2_decode(p->l2, bytes, h->caplen, h->len, &f);
    if (lr != NDP_L2_OK) {
        e6_count(s->rx, lr == NDP_L2_R_TRUNCATED ? RX_TRUNCATED
                        : lr == NDP_L2_R_VLAN    ? RX_VLAN
                                                 : RX_BAD_L2);
        return;
    }
    struct e6_ip6_pkt pkt;
    enum e6_ip6_reject ir = e6_ip6_parse(f.ip6, f.ip6_len, &pkt);
    if (ir != E6_IP6_OK) {
        e6_count(s->rx, (size_t)RX_IP6_FIRST + (size_t)ir - 1);
        return;
    }
    enum e6_nd_reject nr = e6_nd_parse_ip6(&pkt, s->msg);
    if (nr != E6_ND_OK) {
        e6_count(s->rx, (size_t)nr);
        return;
    }
    if (s->msg->type != E6_ND_NS) {
        e6_count(s->rx, RX_NOT_NS);
        return;
    }
    e6_count(s->rx, RX_ACCEPTED);
    struct ndp_ns ns = {.msg = s->msg, .l2src = f.l2src};
    ndp_proxy_on_ns(p->eng, &ns, p->now);
}

static void cap_ready(struct e6_loop *loop, int fd, uint32_t events, void *arg)
{
    struct ndp_px *p = arg;
    if (!p->pc)
        return;
    p->now = e6_loop_now(loop);
    p->dispatching = true;
    int n = pcap_dispatch(p->pc, RX_BATCH, on_frame, (u_char *)(void *)p);
    p->dispatching = false;
    tx_flush(p);
    if (n < 0) {
        e6_count(p->s->rx, RX_CAPTURE_ERRORS);
        snprintf(p->cap_err, sizeof(p->cap_err), "capture: %s",
                 n == PCAP_ERROR ? pcap_geterr(p->pc) : pcap_statustostr(n));
        cap_close(p);
        cap_fail(p);
    }
    after_input(p);
}

/* ---- engine callbacks -------------------------------------------------------- */

/* Sends what the batch holds: one system call for a whole capture batch. */
static void tx_flush(struct ndp_px *p)
{
    struct ndp_service *s = p->s;
    struct tx_batch *t = p->tx;
    size_t done = 0;
    if (!t || t->n == 0)
        return;
    while (done < t->n) {
        int r =
            sendmmsg(p->pfd, t->msg + done, (unsigned)(t->n - done), MSG_DONTWAIT | MSG_NOSIGNAL);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            /* the message at done failed; the others may still go */
            e6_count(s->io, IO_NA_SEND_FAILED);
            e6_log_rl(&p->tx_rl, E6_LOG_WARNING, "ndp %s: cannot send an NA: %s", p->cfg->name,
                      r < 0 ? strerror(errno) : "nothing sent");
            done++;
            continue;
        }
        e6_count_add(s->io, IO_NA_SENT, (uint64_t)r);
        done += (size_t)r;
    }
    t->n = 0;
}

static void op_send_na(void *arg, const struct ndp_tx *tx)
{
    struct ndp_px *p = arg;
    struct ndp_service *s = p->s;
    struct tx_batch *t = p->tx;

    if (!p->pc || !t) {
        e6_count(s->io, IO_NA_NO_CAPTURE);
        return;
    }
    if (t->n == TX_BATCH)
        tx_flush(p);
    size_t i = t->n;
    size_t n = ndp_io_frame_build(p->l2, tx, p->hwaddr, p->hwaddr_len, t->buf[i], TX_FRAME_MAX);
    if (n == 0) {
        e6_count(s->io, IO_NA_UNFRAMEABLE);
        return;
    }
    /* sll_protocol gives the kernel the packet's type: raw links (TUN)
     * and qdiscs need it; on Ethernet the frame carries its own header */
    struct sockaddr_ll *sll = &t->to[i];
    memset(sll, 0, sizeof(*sll));
    sll->sll_family = AF_PACKET;
    sll->sll_protocol = htons(ETH_P_IPV6);
    sll->sll_ifindex = p->cap_ifindex;
    if ((p->l2 == NDP_L2_SLL || p->l2 == NDP_L2_SLL2) && tx->l2dst_len == 6) {
        sll->sll_halen = 6;
        memcpy(sll->sll_addr, tx->l2dst, 6);
    }
    t->iov[i] = (struct iovec){.iov_base = t->buf[i], .iov_len = n};
    t->msg[i] = (struct mmsghdr){
        .msg_hdr = {.msg_name = sll,
                    .msg_namelen = sizeof(*sll),
                    .msg_iov = &t->iov[i],
                    .msg_iovlen = 1},
    };
    t->n++;
    /* answers from timers (delays, confirmations) go at once; those of a
     * capture batch when it is done */
    if (!p->dispatching)
        tx_flush(p);
}

static bool op_send_probe(void *arg, int ifindex, const struct in6_addr *target, bool unicast)
{
    struct ndp_px *p = arg;
    struct ndp_service *s = p->s;
    struct in6_addr src, dst;
    struct e6_nl_link l;

    if (s->fd < 0) {
        e6_count(s->io, IO_PROBE_NO_SOCKET);
        return false;
    }
    if (!s->env.nl || e6_nl_link_by_index(s->env.nl, ifindex, &l) < 0 || !l.up ||
        e6_nl_link_local(s->env.nl, ifindex, &src) < 0) {
        e6_count(s->io, IO_PROBE_NO_SOURCE);
        return false;
    }
    if (unicast)
        dst = *target;
    else
        e6_addr_solicited_node(target, &dst);

    uint8_t buf[64];
    struct e6_nd_builder b;
    e6_nd_build_init(&b, buf, sizeof(buf));
    e6_nd_put_ns(&b, target);
    if (e6_nl_link_has_lladdr(&l))
        e6_nd_put_lladdr(&b, E6_ND_OPT_SLLA, l.hwaddr, l.hwaddr_len);
    int len = e6_nd_build_finish(&b, &src, &dst);
    if (len < 0) {
        e6_count(s->io, IO_PROBE_SEND_FAILED);
        return false;
    }

    int rc = e6_icmp6_send(s->fd, ifindex, &src, &dst, buf, (size_t)len);
    if (rc < 0) {
        char a[E6_ADDRSTRLEN];
        e6_count(s->io, IO_PROBE_SEND_FAILED);
        e6_log_rl(&s->probe_rl, E6_LOG_WARNING, "ndp %s: cannot probe %s on %s: %s", p->cfg->name,
                  e6_addr_format(target, a, sizeof(a)), l.name, strerror(-rc));
        return false;
    }
    e6_count(s->io, IO_PROBE_SENT);
    return true;
}

static int op_route(void *arg, const struct in6_addr *target, struct ndp_route *out)
{
    struct ndp_px *p = arg;
    struct e6_nl *nl = p->s->env.nl;
    struct e6_nl_route r;
    memset(out, 0, sizeof(*out));
    if (!nl || e6_nl_route_lookup(nl, target, 0, &r) < 0)
        return -ENOENT;
    if (r.type != RTN_UNICAST || r.nhcount == 0) {
        /* unreachable, blackhole, prohibit, throw... nothing lives there */
        out->reject = true;
        return 0;
    }
    out->ifindex = r.nh[0].ifindex;
    out->via_gateway = !e6_addr_is_unspecified(&r.nh[0].gateway);
    struct e6_nl_link l;
    out->link_nd = e6_nl_link_by_index(nl, out->ifindex, &l) == 0 && e6_nl_link_has_lladdr(&l);
    return 0;
}

static void op_iface(void *arg, const char *name, struct ndp_iface *out)
{
    struct ndp_px *p = arg;
    struct e6_nl_link l;
    memset(out, 0, sizeof(*out));
    if (!p->s->env.nl || e6_nl_link_by_name(p->s->env.nl, name, &l) < 0)
        return;
    out->ifindex = l.ifindex;
    out->up = l.up && l.running;
    out->link_nd = e6_nl_link_has_lladdr(&l);
}

static bool op_kernel_neigh(void *arg, int ifindex, const struct in6_addr *target)
{
    struct ndp_px *p = arg;
    struct e6_nl_neigh n;
    if (!p->s->env.nl || e6_nl_neigh_get(p->s->env.nl, ifindex, target, &n) < 0)
        return false;
    return (n.flags & NTF_PROXY) == 0 && (n.state & (NUD_REACHABLE | NUD_PERMANENT | NUD_NOARP));
}

static bool op_is_local(void *arg, const struct in6_addr *target)
{
    struct ndp_px *p = arg;
    return p->s->local_ok && e6_htable_find(&p->s->local, target) != NULL;
}

static enum ndp_verdict op_member(void *arg, enum conf_proxy_method m, const char *tunnel,
                                  const struct in6_addr *target)
{
    struct ndp_px *p = arg;
    if (!p->s->env.member)
        return NDP_UNKNOWN;
    return p->s->env.member(p->s->env.member_arg, m, tunnel, target);
}

/* The kernel answers from NTF_PROXY entries only with proxy_ndp (the
 * interface's or all) and forwarding on that interface. */
static void check_proxy_ndp(struct ndp_px *p)
{
    struct e6_nl *nl = p->s->env.nl;
    if (!nl || !p->cfg->kernel_offload || !p->link.present || p->s->stopped)
        return;
    struct e6_nl_netconf nc, all;
    if (e6_nl_netconf_get(nl, p->link.ifindex, &nc) < 0 || nc.proxy_ndp < 0)
        return; /* not reported yet */
    bool on = nc.proxy_ndp > 0 ||
              (e6_nl_netconf_get(nl, E6_NL_IFINDEX_ALL, &all) == 0 && all.proxy_ndp > 0);
    if (!on && !p->proxy_ndp_warned) {
        e6_warn("ndp %s: kernel-offload is on but net.ipv6.conf.%s.proxy_ndp is 0: the proxy "
                "entries edge6d installs do nothing until it is set (sysctl -w "
                "net.ipv6.conf.%s.proxy_ndp=1); edge6d keeps answering itself",
                p->cfg->name, p->cfg->name, p->cfg->name);
        p->proxy_ndp_warned = true;
    } else if (on && p->proxy_ndp_warned) {
        e6_notice("ndp %s: proxy_ndp is on: the kernel answers from the proxy entries",
                  p->cfg->name);
        p->proxy_ndp_warned = false;
    }
}

/* The proxy entry for target on the proxied interface (kernel-offload). */
static void kern_proxy(struct ndp_px *p, const struct in6_addr *target, bool add)
{
    struct ndp_service *s = p->s;
    char a[E6_ADDRSTRLEN];
    if (!s->env.nl || !p->link.present)
        return;
    int rc = add ? e6_nl_proxy_add(s->env.nl, p->link.ifindex, target)
                 : e6_nl_proxy_del(s->env.nl, p->link.ifindex, target);
    if (add && rc < 0) {
        e6_count(s->io, IO_PROXY_ADD_FAILED);
        e6_log_rl(&p->kern_rl, E6_LOG_WARNING, "ndp %s: cannot add the proxy entry for %s: %s",
                  p->cfg->name, e6_addr_format(target, a, sizeof(a)), strerror(-rc));
    } else if (add) {
        e6_count(s->io, IO_PROXY_ADDED);
    } else if (rc == 0) {
        e6_count(s->io, IO_PROXY_REMOVED);
    } else if (rc != -ENOENT && rc != -ENODEV) {
        /* gone with its interface: nothing to remove */
        e6_count(s->io, IO_PROXY_DEL_FAILED);
        e6_log_rl(&p->kern_rl, E6_LOG_WARNING, "ndp %s: cannot remove the proxy entry for %s: %s",
                  p->cfg->name, e6_addr_format(target, a, sizeof(a)), strerror(-rc));
    }
}

/* The autowire route target/128 dev ifindex, protocol NDP_RTPROT_AUTOWIRE. */
static void kern_route(struct ndp_px *p, const struct in6_addr *target, int ifindex, bool add)
{
    struct ndp_service *s = p->s;
    char a[E6_ADDRSTRLEN];
    if (!s->env.nl || ifindex <= 0)
        return;
    struct e6_nl_route_spec r = {
        .ifindex = ifindex,
        .protocol = NDP_RTPROT_AUTOWIRE,
    };
    e6_prefix_make(&r.dst, target, 128);
    int rc = add ? e6_nl_route_add(s->env.nl, &r, true) : e6_nl_route_del(s->env.nl, &r);
    if (add && rc < 0) {
        e6_count(s->io, IO_ROUTE_ADD_FAILED);
        e6_log_rl(&p->kern_rl, E6_LOG_WARNING,
                  "ndp %s: cannot add the autowire route %s/128 dev ifindex %d: %s", p->cfg->name,
                  e6_addr_format(target, a, sizeof(a)), ifindex, strerror(-rc));
    } else if (add) {
        e6_count(s->io, IO_ROUTE_ADDED);
    } else if (rc == 0) {
        e6_count(s->io, IO_ROUTE_REMOVED);
    } else if (rc != -ESRCH && rc != -ENODEV && rc != -ENOENT) {
        /* a route of a deleted interface went with it */
        e6_count(s->io, IO_ROUTE_DEL_FAILED);
        e6_log_rl(&p->kern_rl, E6_LOG_WARNING,
                  "ndp %s: cannot remove the autowire route %s/128: %s", p->cfg->name,
                  e6_addr_format(target, a, sizeof(a)), strerror(-rc));
    }
}

static void op_session_up(void *arg, const struct ndp_session_info *si)
{
    struct ndp_px *p = arg;
    if (p->cfg->kernel_offload) {
        kern_proxy(p, &si->target, true);
        check_proxy_ndp(p);
    }
    if (p->cfg->autowire)
        kern_route(p, &si->target, si->ifindex, true);
}

static void op_session_down(void *arg, const struct ndp_session_info *si)
{
    struct ndp_px *p = arg;
    if (p->cfg->kernel_offload)
        kern_proxy(p, &si->target, false);
    if (p->cfg->autowire)
        kern_route(p, &si->target, si->ifindex, false);
}

/* What kernel state the up sessions (valid, refresh) must now gain or lose. */
struct kern_fix {
    struct ndp_px *p;
    int proxy; /* +1 add, -1 remove, 0 leave */
    int route;
};

static void kern_fix_one(void *arg, const struct ndp_session_view *sv)
{
    struct kern_fix *f = arg;
    if (sv->state != NDP_S_VALID && sv->state != NDP_S_REFRESH)
        return;
    if (f->proxy)
        kern_proxy(f->p, &sv->target, f->proxy > 0);
    if (f->route)
        kern_route(f->p, &sv->target, sv->ifindex, f->route > 0);
}

static void kern_fix(struct ndp_px *p, int proxy, int route)
{
    if (!proxy && !route)
        return;
    struct kern_fix f = {.p = p, .proxy = proxy, .route = route};
    ndp_proxy_foreach(p->eng, kern_fix_one, &f);
}

/* xorshift64*: the engine only needs unpredictable-enough jitter */
static uint32_t op_rand(void *arg)
{
    struct ndp_px *p = arg;
    uint64_t x = p->s->rnd;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    p->s->rnd = x;
    return (uint32_t)((x * 0x2545F4914F6CDD1DULL) >> 32);
}

static const struct ndp_ops ops = {
    .send_na = op_send_na,
    .send_probe = op_send_probe,
    .route = op_route,
    .iface = op_iface,
    .kernel_neigh = op_kernel_neigh,
    .is_local = op_is_local,
    .member = op_member,
    .session_up = op_session_up,
    .session_down = op_session_down,
    .rand = op_rand,
};

/* ---- the upstream link ---------------------------------------------------------- */

static void read_link(struct ndp_px *p, struct ndp_link *l, bool *admin_up, uint16_t *arptype,
                      uint8_t hw[6], uint8_t *hwlen)
{
    struct e6_nl_link nl;
    memset(l, 0, sizeof(*l));
    *admin_up = false;
    *arptype = 0;
    *hwlen = 0;
    memset(hw, 0, 6);
    if (!p->s->env.nl || e6_nl_link_by_name(p->s->env.nl, p->cfg->name, &nl) < 0)
        return;
    l->present = true;
    l->ifindex = nl.ifindex;
    l->up = nl.up && nl.running;
    *admin_up = nl.up;
    *arptype = nl.arptype;
    if (nl.hwaddr_len == 6) {
        memcpy(hw, nl.hwaddr, 6);
        *hwlen = 6;
        if (e6_nl_link_has_lladdr(&nl)) {
            memcpy(l->lladdr, nl.hwaddr, 6);
            l->lladdr_len = 6;
        }
    }
    if (e6_nl_link_local(p->s->env.nl, nl.ifindex, &l->linklocal) == 0)
        l->have_linklocal = true;
    else
        memset(&l->linklocal, 0, sizeof(l->linklocal));
}

static void refresh(struct ndp_px *p, bool force)
{
    struct ndp_link l;
    bool admin_up;
    uint16_t arptype;
    uint8_t hw[6], hwlen;
    read_link(p, &l, &admin_up, &arptype, hw, &hwlen);
    bool same = memcmp(&l, &p->link, sizeof(l)) == 0 && admin_up == p->admin_up &&
                arptype == p->arptype && hwlen == p->hwaddr_len && memcmp(hw, p->hwaddr, 6) == 0;
    if (!same || force) {
        /* proxy entries live on the link: a new one (re-created, back) has none */
        bool relink = l.present && (!p->link.present || p->link.ifindex != l.ifindex);
        p->link = l;
        p->admin_up = admin_up;
        p->arptype = arptype;
        memcpy(p->hwaddr, hw, 6);
        p->hwaddr_len = hwlen;
        ndp_proxy_set_link(p->eng, &p->link, now_ms(p->s));
        if (relink && p->cfg->kernel_offload && !force)
            kern_fix(p, +1, 0);
        cap_update(p);
        after_input(p);
    }
    check_proxy_ndp(p);
}

/* ---- netlink ------------------------------------------------------------------- */

static void route_timer_cb(struct e6_loop *loop, struct e6_timer *t, void *arg)
{
    struct ndp_service *s = arg;
    if (!s->route_dirty)
        return;
    s->route_dirty = false;
    uint64_t now = e6_loop_now(loop);
    for (size_t i = 0; i < s->n_pxs; i++) {
        ndp_proxy_iface_changed(s->pxs[i]->eng, 0, now);
        after_input(s->pxs[i]);
    }
}

static void routes_changed(struct ndp_service *s)
{
    /* a route flap brings many events in one read: re-check once */
    if (s->route_dirty)
        return;
    s->route_dirty = true;
    e6_timer_arm_in(s->env.loop, &s->route_timer, 0);
}

static void ifaces_changed(struct ndp_service *s, int ifindex)
{
    uint64_t now = now_ms(s);
    for (size_t i = 0; i < s->n_pxs; i++) {
        ndp_proxy_iface_changed(s->pxs[i]->eng, ifindex, now);
        after_input(s->pxs[i]);
    }
}

struct ifidx_set {
    int v[64];
    size_t n;
    bool overflow;
};

static void collect_ifindex(void *arg, const struct ndp_session_view *sv)
{
    struct ifidx_set *set = arg;
    for (size_t i = 0; i < set->n; i++)
        if (set->v[i] == sv->ifindex)
            return;
    if (set->n < sizeof(set->v) / sizeof(set->v[0]))
        set->v[set->n++] = sv->ifindex;
    else
        set->overflow = true;
}

/* After an overrun: sessions on links that vanished meanwhile end. */
static void sweep_vanished(struct ndp_service *s)
{
    struct ifidx_set set = {.n = 0};
    for (size_t i = 0; i < s->n_pxs; i++)
        ndp_proxy_foreach(s->pxs[i]->eng, collect_ifindex, &set);
    for (size_t i = 0; i < set.n; i++) {
        struct e6_nl_link l;
        if (set.v[i] > 0 && e6_nl_link_by_index(s->env.nl, set.v[i], &l) < 0)
            ifaces_changed(s, set.v[i]);
    }
}

static bool link_usable(const struct e6_nl_link *l)
{
    return l->up && l->running;
}

static void on_link_event(struct ndp_service *s, const struct e6_nl_event *ev)
{
    const struct e6_nl_link *old = ev->u.link.old, *cur = ev->u.link.cur;
    for (size_t i = 0; i < s->n_pxs; i++) {
        struct ndp_px *p = s->pxs[i];
        if ((p->link.present && p->link.ifindex == ev->ifindex) ||
            (old && strcmp(old->name, p->cfg->name) == 0) ||
            (cur && strcmp(cur->name, p->cfg->name) == 0))
            refresh(p, false);
    }
    /* a downstream link whose neighbours are no longer what sessions say */
    bool changed = ev->action == E6_NL_DEL;
    if (old && cur)
        changed = strcmp(old->name, cur->name) != 0 || old->hwaddr_len != cur->hwaddr_len ||
                  memcmp(old->hwaddr, cur->hwaddr, old->hwaddr_len) != 0 ||
                  (link_usable(old) && !link_usable(cur));
    if (changed)
        ifaces_changed(s, ev->ifindex);
}

static void on_addr_event(struct ndp_service *s, const struct e6_nl_event *ev)
{
    const struct e6_nl_addr *old = ev->u.addr.old, *cur = ev->u.addr.cur;
    if (ev->action == E6_NL_NEW && cur) {
        local_add(s, &cur->addr);
    } else if (ev->action == E6_NL_DEL && old) {
        local_del(s, &old->addr);
    } else if (old && cur &&
               (!e6_addr_equal(&old->addr, &cur->addr) || old->ifindex != cur->ifindex)) {
        local_del(s, &old->addr);
        local_add(s, &cur->addr);
    }
    for (size_t i = 0; i < s->n_pxs; i++)
        if (s->pxs[i]->link.present && s->pxs[i]->link.ifindex == ev->ifindex)
            refresh(s->pxs[i], false);
}

static void on_route_event(struct ndp_service *s, const struct e6_nl_event *ev)
{
    const struct e6_nl_route *old = ev->u.route.old, *cur = ev->u.route.cur;
    const struct e6_nl_route *r = cur ? cur : old;
    if (!r)
        return;
    bool in_main =
        (old && old->table == E6_NL_TABLE_MAIN) || (cur && cur->table == E6_NL_TABLE_MAIN);
    /* our own autowire routes point where the session already is */
    bool ours = (!old || old->protocol == NDP_RTPROT_AUTOWIRE) &&
                (!cur || cur->protocol == NDP_RTPROT_AUTOWIRE);
    if (in_main && !ours)
        routes_changed(s);
}

static void on_netlink(const struct e6_nl_event *ev, void *arg)
{
    struct ndp_service *s = arg;
    if (s->stopped)
        return;
    switch (ev->kind) {
    case E6_NL_LINK:
        on_link_event(s, ev);
        break;
    case E6_NL_ADDR:
        on_addr_event(s, ev);
        break;
    case E6_NL_ROUTE:
        on_route_event(s, ev);
        break;
    case E6_NL_NETCONF:
        for (size_t i = 0; i < s->n_pxs; i++)
            if (ev->ifindex < 0 ||
                (s->pxs[i]->link.present && s->pxs[i]->link.ifindex == ev->ifindex))
                refresh(s->pxs[i], false);
        break;
    case E6_NL_RESYNC:
        local_rebuild(s, 0);
        for (size_t i = 0; i < s->n_pxs; i++)
            refresh(s->pxs[i], false);
        sweep_vanished(s);
        routes_changed(s);
        break;
    }
}

/* ---- the probe socket ------------------------------------------------------------- */

static void na_ready(struct e6_loop *loop, int fd, uint32_t events, void *arg);

static int open_socket(struct ndp_service *s, char *err, size_t errlen)
{
    static const uint8_t types[] = {E6_ND_NA};
    int fd = e6_icmp6_open(types, sizeof(types), err, errlen);
    if (fd < 0)
        return fd;
    int rc = e6_loop_add_fd(s->env.loop, fd, EPOLLIN, na_ready, s);
    if (rc < 0) {
        snprintf(err, errlen, "ICMPv6 socket: cannot watch it: %s", strerror(-rc));
        close(fd);
        return rc;
    }
    s->fd = fd;
    return 0;
}

static void try_socket(struct ndp_service *s)
{
    char err[256];
    if (s->fd < 0 && open_socket(s, err, sizeof(err)) < 0)
        e6_err("ndp: %s; iface and auto rules cannot probe their targets", err);
}

static void close_socket(struct ndp_service *s)
{
    if (s->fd < 0)
        return;
    e6_loop_del_fd(s->env.loop, s->fd);
    close(s->fd);
    s->fd = -1;
}

static void na_one(struct ndp_service *s, const struct e6_nd_in *in, int ifindex)
{
    enum e6_nd_reject r = e6_nd_parse(in, s->msg);
    if (r != E6_ND_OK || s->msg->type != E6_ND_NA) {
        char a[E6_ADDRSTRLEN];
        e6_count(s->io, IO_NA_RX_INVALID);
        e6_log_rl(&s->na_rl, E6_LOG_DEBUG, "ndp: dropped NA from %s: %s",
                  e6_addr_format(&in->src, a, sizeof(a)),
                  r != E6_ND_OK ? e6_nd_reject_name(r) : "not an NA");
        return;
    }
    e6_count(s->io, IO_NA_RX);
    struct in6_addr target = s->msg->target;
    uint64_t now = now_ms(s);
    for (size_t i = 0; i < s->n_pxs; i++) {
        ndp_proxy_on_na(s->pxs[i]->eng, ifindex, &target, now);
        after_input(s->pxs[i]);
    }
}

static void na_ready(struct e6_loop *loop, int fd, uint32_t events, void *arg)
{
    struct ndp_service *s = arg;
    for (int i = 0; i < NA_BATCH; i++) {
        struct e6_nd_in in;
        int ifindex;
        switch (e6_icmp6_recv(fd, s->nabuf, NA_BUF, &in, &ifindex)) {
        case E6_ICMP6_RX_OK:
            na_one(s, &in, ifindex);
            break;
        case E6_ICMP6_RX_AGAIN:
            return;
        case E6_ICMP6_RX_ERROR:
            e6_count(s->io, IO_NA_RX_READ_ERRORS);
            e6_log_rl(&s->na_rl, E6_LOG_WARNING, "ndp: ICMPv6 socket: %s", strerror(errno));
            return;
        case E6_ICMP6_RX_TRUNCATED:
            e6_count(s->io, IO_NA_RX_TRUNCATED);
            break;
        case E6_ICMP6_RX_NO_CMSG:
            e6_count(s->io, IO_NA_RX_NO_CMSG);
            break;
        }
    }
}

/* ---- proxies ---------------------------------------------------------------------- */

static void px_free(struct ndp_px *p)
{
    if (!p)
        return;
    struct ndp_service *s = p->s;
    e6_timer_cancel(s->env.loop, &p->timer);
    e6_timer_cancel(s->env.loop, &p->cap_retry);
    /* ends every session: proxy entries and autowire routes go */
    ndp_proxy_free(p->eng);
    p->eng = NULL;
    cap_close(p);
    free(p->tx);
    pxcfg_free(p->cfg);
    free(p);
}

static int px_add(struct ndp_service *s, const struct conf_proxy *cp, char *err, size_t errlen)
{
    if (s->n_pxs == s->cap_pxs) {
        size_t cap = s->cap_pxs ? s->cap_pxs * 2 : 4;
        struct ndp_px **n = realloc(s->pxs, cap * sizeof(*n));
        if (!n)
            goto oom;
        s->pxs = n;
        s->cap_pxs = cap;
    }
    struct ndp_px *p = calloc(1, sizeof(*p));
    if (!p)
        goto oom;
    p->s = s;
    p->pfd = -1;
    p->cap = CAP_WAIT_LINK;
    p->tx_rl = (struct e6_ratelimit)E6_RATELIMIT_INIT(60000, 3);
    p->kern_rl = (struct e6_ratelimit)E6_RATELIMIT_INIT(60000, 5);
    p->rx_rl = (struct e6_ratelimit)E6_RATELIMIT_INIT(60000, 3);
    e6_timer_init(&p->timer, px_timer, p);
    e6_timer_init(&p->cap_retry, cap_retry_cb, p);
    p->cfg = pxcfg_dup(cp);
    if (p->cfg)
        p->eng = ndp_proxy_new(p->cfg, &ops, p, s->ndp_blk, now_ms(s));
    if (!p->eng) {
        pxcfg_free(p->cfg);
        free(p);
        goto oom;
    }
    s->pxs[s->n_pxs++] = p;
    refresh(p, true);
    return 0;
oom:
    snprintf(err, errlen, "proxy %s: out of memory", cp->name);
    return -ENOMEM;
}

static void px_remove_at(struct ndp_service *s, size_t i)
{
    px_free(s->pxs[i]);
    memmove(&s->pxs[i], &s->pxs[i + 1], (s->n_pxs - i - 1) * sizeof(s->pxs[0]));
    s->n_pxs--;
}

/* Autowire routes left by a run that did not stop cleanly. */
static void remove_leftover_routes(struct ndp_service *s)
{
    if (!s->env.nl)
        return;
    size_t n = e6_nl_routes(s->env.nl, E6_NL_TABLE_MAIN, NULL, 0);
    if (n == 0)
        return;
    struct e6_nl_route *v = calloc(n, sizeof(*v));
    if (!v)
        return;
    n = e6_nl_routes(s->env.nl, E6_NL_TABLE_MAIN, v, n);
    size_t removed = 0, failed = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i].protocol != NDP_RTPROT_AUTOWIRE || v[i].dst.len != 128)
            continue;
        struct e6_nl_route_spec r = {
            .dst = v[i].dst,
            .ifindex = v[i].nhcount ? v[i].nh[0].ifindex : 0,
            .table = E6_NL_TABLE_MAIN,
            .protocol = NDP_RTPROT_AUTOWIRE,
        };
        int rc = e6_nl_route_del(s->env.nl, &r);
        if (rc == 0 || rc == -ESRCH)
            removed++;
        else
            failed++;
    }
    free(v);
    if (removed)
        e6_notice("ndp: removed %zu autowire route(s) (protocol %d) left by an earlier run",
                  removed, NDP_RTPROT_AUTOWIRE);
    if (failed)
        e6_warn("ndp: could not remove %zu autowire route(s) left by an earlier run", failed);
}

/* ---- service ------------------------------------------------------------------------ */

int ndp_service_new(struct ndp_service **out, const struct ndp_service_env *env)
{
    struct ndp_service *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->env = *env;
    s->fd = -1;
    s->nl_sub = -1;
    s->probe_rl = (struct e6_ratelimit)E6_RATELIMIT_INIT(60000, 3);
    s->na_rl = (struct e6_ratelimit)E6_RATELIMIT_INIT(10000, 5);
    e6_timer_init(&s->route_timer, route_timer_cb, s);
    if (getrandom(&s->rnd, sizeof(s->rnd), GRND_NONBLOCK) != sizeof(s->rnd))
        s->rnd = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^ e6_monotonic_ms();
    if (!s->rnd)
        s->rnd = 0x9e3779b97f4a7c15ULL;
    *out = s;
    return 0;
}

static void init_names(void)
{
    for (size_t i = 1; i < E6_IP6_R__COUNT; i++)
        snprintf(ip6_names[i], sizeof(ip6_names[i]), "ip6_%s",
                 e6_ip6_reject_name((enum e6_ip6_reject)i));
    for (size_t i = 0; i < RX__COUNT; i++) {
        if (i == RX_ACCEPTED)
            rx_names[i] = "ns_accepted";
        else if (i < E6_ND_R__COUNT)
            rx_names[i] = e6_nd_reject_name((enum e6_nd_reject)i);
        else if (i < RX_NOT_NS)
            rx_names[i] = ip6_names[i - RX_IP6_FIRST + 1];
        else
            rx_names[i] = i == RX_NOT_NS      ? "not_ns"
                          : i == RX_BAD_L2    ? "bad_link_header"
                          : i == RX_VLAN      ? "vlan_tagged"
                          : i == RX_TRUNCATED ? "truncated"
                                              : "capture_errors";
    }
}

int ndp_service_start(struct ndp_service *s, const struct conf *c, char *err, size_t errlen)
{
    int rc;
    if (!s->cnt_ndp) {
        init_names();
        s->cnt_ndp = e6_counters_new(s->env.registry, "ndppd", ndp_counter_names, NDP_C__COUNT);
        s->cnt_rx = e6_counters_new(s->env.registry, "ndppd-rx", rx_names, RX__COUNT);
        s->cnt_io = e6_counters_new(s->env.registry, "ndppd-io", io_names, IO__COUNT);
        if (!s->cnt_ndp || !s->cnt_rx || !s->cnt_io)
            goto oom;
        s->ndp_blk = e6_counters_block(s->cnt_ndp);
        s->rx = e6_counters_block(s->cnt_rx);
        s->io = e6_counters_block(s->cnt_io);
        if (!s->ndp_blk.v || !s->rx.v || !s->io.v)
            goto oom;
    }
    if (!s->nabuf)
        s->nabuf = malloc(NA_BUF);
    if (!s->msg)
        s->msg = malloc(sizeof(*s->msg));
    if (!s->nabuf || !s->msg)
        goto oom;
    s->stopped = false;
    if (s->env.nl && s->nl_sub < 0) {
        rc = e6_nl_subscribe(s->env.nl, E6_NL_ALL, on_netlink, s);
        if (rc < 0) {
            snprintf(err, errlen, "cannot subscribe to netlink events: %s", strerror(-rc));
            return rc;
        }
        s->nl_sub = rc;
    }
    local_rebuild(s, 0);
    if (!s->started)
        remove_leftover_routes(s);
    s->started = true;
    if (c->n_proxies)
        try_socket(s);
    for (size_t i = 0; i < c->n_proxies; i++) {
        rc = px_add(s, &c->proxies[i], err, errlen);
        if (rc < 0)
            return rc;
    }
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
    return -ENOMEM;
}

int ndp_service_reconcile(struct ndp_service *s, const struct conf *old, const struct conf *new_,
                          char *err, size_t errlen)
{
    int rc = 0;
    uint64_t now = now_ms(s);
    (void)old;
    for (size_t i = s->n_pxs; i-- > 0;) {
        if (conf_find_proxy(new_, s->pxs[i]->cfg->name))
            continue;
        e6_notice("ndp %s: no longer in the configuration: its sessions end", s->pxs[i]->cfg->name);
        px_remove_at(s, i);
    }
    if (new_->n_proxies)
        try_socket(s);
    for (size_t i = 0; i < new_->n_proxies; i++) {
        const struct conf_proxy *cp = &new_->proxies[i];
        struct ndp_px *p = find_px(s, cp->name);
        if (!p) {
            int r = px_add(s, cp, err, errlen);
            if (r < 0)
                rc = r;
            continue;
        }
        struct conf_proxy *copy = pxcfg_dup(cp);
        if (!copy) {
            snprintf(err, errlen, "proxy %s: out of memory; it keeps its old settings", cp->name);
            rc = -ENOMEM;
            continue;
        }
        bool offload_was = p->cfg->kernel_offload, autowire_was = p->cfg->autowire;
        /* sessions the new rules end go with the old settings' kernel state */
        ndp_proxy_set_config(p->eng, copy, now);
        pxcfg_free(p->cfg);
        p->cfg = copy;
        /* the ones that stay gain or lose what the switches now say */
        kern_fix(p,
                 copy->kernel_offload == offload_was ? 0
                 : copy->kernel_offload              ? 1
                                                     : -1,
                 copy->autowire == autowire_was ? 0
                 : copy->autowire               ? 1
                                                : -1);
        if (!offload_was)
            p->proxy_ndp_warned = false;
        check_proxy_ndp(p);
        maybe_trim(p);
        after_input(p);
    }
    return rc;
}

void ndp_service_stop(struct ndp_service *s)
{
    if (s->stopped)
        return;
    s->stopped = true;
    for (size_t i = 0; i < s->n_pxs; i++)
        px_free(s->pxs[i]);
    s->n_pxs = 0;
    e6_timer_cancel(s->env.loop, &s->route_timer);
    s->route_dirty = false;
    close_socket(s);
}

void ndp_service_free(struct ndp_service *s)
{
    if (!s)
        return;
    ndp_service_stop(s);
    if (s->nl_sub >= 0 && s->env.nl)
        e6_nl_unsubscribe(s->env.nl, s->nl_sub);
    if (s->local_ok)
        e6_htable_destroy(&s->local);
    free(s->pxs);
    free(s->nabuf);
    free(s->msg);
    free(s);
}

bool ndp_service_has_proxy(const struct ndp_service *s, const char *iface)
{
    return iface && find_px(s, iface) != NULL;
}

/* ---- views ---------------------------------------------------------------------------- */

static uint64_t pcap_drops(const struct ndp_px *p)
{
    uint64_t d = p->drops_before;
    struct pcap_stat st;
    if (p->pc && pcap_stats(p->pc, &st) == 0)
        d += (uint64_t)st.ps_drop + st.ps_ifdrop;
    return d;
}

static const char *warning_of(const struct ndp_px *p)
{
    if (p->s->stopped)
        return NULL;
    if (p->proxy_ndp_warned)
        return "kernel-offload is on but proxy_ndp is 0 on this interface: the kernel ignores "
               "the proxy entries";
    if (p->s->fd < 0)
        return "no ICMPv6 socket (edge6d lacks CAP_NET_RAW): iface and auto rules cannot probe";
    return NULL;
}

static void rule_text(const struct conf_rule *r, char *buf, size_t len)
{
    char pf[E6_PREFIXSTRLEN];
    e6_prefix_format(&r->prefix, pf, sizeof(pf));
    const char *arg = r->method == CONF_PROXY_IFACE    ? r->iface
                      : r->method == CONF_PROXY_TUNNEL ? r->tunnel
                      : r->method == CONF_PROXY_6BED4  ? r->tunnel
                                                       : NULL;
    snprintf(buf, len, "%s %s%s%s", pf, conf_proxy_method_name(r->method), arg ? " " : "",
             arg ? arg : "");
}

static void view_px(const struct ndp_px *p, struct e6_json *j, enum e6_view_format fmt)
{
    size_t counts[NDP_S__COUNT] = {0};
    ndp_proxy_session_counts(p->eng, counts);
    size_t total = ndp_proxy_session_total(p->eng);
    char ll[E6_ADDRSTRLEN], mac[32];
    const char *warn = warning_of(p);

    if (fmt == E6_VIEW_JSON) {
        e6_json_begin_object(j, NULL);
        e6_json_string(j, "name", p->cfg->name);
        e6_json_begin_object(j, "link");
        e6_json_bool(j, "present", p->link.present);
        if (p->link.present) {
            e6_json_int(j, "ifindex", p->link.ifindex);
            e6_json_bool(j, "up", p->link.up);
            e6_json_string(j, "mac",
                           p->hwaddr_len ? fmt_mac(p->hwaddr, p->hwaddr_len, mac, sizeof(mac))
                                         : NULL);
            e6_json_string(
                j, "link_local",
                p->link.have_linklocal ? e6_addr_format(&p->link.linklocal, ll, sizeof(ll)) : NULL);
        }
        e6_json_end_object(j);
        e6_json_begin_object(j, "capture");
        e6_json_string(j, "state", cap_state_name(p->cap));
        e6_json_string(j, "datalink", p->pc ? ndp_io_l2_name(p->l2) : NULL);
        e6_json_bool(j, "allmulti", p->allmulti);
        e6_json_uint(j, "drops", pcap_drops(p));
        e6_json_string(j, "error",
                       p->cap == CAP_FAILED || p->cap == CAP_UNSUPPORTED ? p->cap_err : NULL);
        e6_json_end_object(j);
        e6_json_begin_array(j, "rules");
        for (size_t i = 0; i < p->cfg->n_rules; i++) {
            const struct conf_rule *r = &p->cfg->rules[i];
            char pf[E6_PREFIXSTRLEN];
            e6_json_begin_object(j, NULL);
            e6_json_string(j, "prefix", e6_prefix_format(&r->prefix, pf, sizeof(pf)));
            e6_json_string(j, "method", conf_proxy_method_name(r->method));
            if (r->iface)
                e6_json_string(j, "iface", r->iface);
            if (r->tunnel)
                e6_json_string(j, "tunnel", r->tunnel);
            e6_json_end_object(j);
        }
        e6_json_end_array(j);
        e6_json_begin_object(j, "sessions");
        e6_json_uint(j, "total", total);
        e6_json_uint(j, "bound", p->cfg->sessions);
        for (int st = 0; st < NDP_S__COUNT; st++)
            e6_json_uint(j, ndp_state_name((enum ndp_state)st), counts[st]);
        e6_json_end_object(j);
        e6_json_bool(j, "kernel_offload", p->cfg->kernel_offload);
        e6_json_bool(j, "autowire", p->cfg->autowire);
        e6_json_string(j, "warning", warn);
        e6_json_end_object(j);
        return;
    }
    struct e6_strbuf *sb = j->sb;
    e6_strbuf_printf(sb, "proxy %s\n", p->cfg->name);
    if (p->link.present)
        e6_strbuf_printf(sb, "  link: ifindex %d, %s, mac %s, link-local %s\n", p->link.ifindex,
                         p->link.up ? "up" : "down",
                         p->hwaddr_len ? fmt_mac(p->hwaddr, p->hwaddr_len, mac, sizeof(mac))
                                       : "(none)",
                         p->link.have_linklocal ? e6_addr_format(&p->link.linklocal, ll, sizeof(ll))
                                                : "(none yet)");
    else
        e6_strbuf_puts(sb, "  link: missing\n");
    if (p->pc)
        e6_strbuf_printf(sb, "  capture: open (%s), all-multicast %s, drops %llu\n",
                         ndp_io_l2_name(p->l2), p->allmulti ? "on" : "OFF",
                         (unsigned long long)pcap_drops(p));
    else if (p->cap == CAP_FAILED || p->cap == CAP_UNSUPPORTED)
        e6_strbuf_printf(sb, "  capture: %s: %s\n", cap_state_text(p), p->cap_err);
    else
        e6_strbuf_printf(sb, "  capture: %s\n", cap_state_text(p));
    for (size_t i = 0; i < p->cfg->n_rules; i++) {
        char rt[200];
        rule_text(&p->cfg->rules[i], rt, sizeof(rt));
        e6_strbuf_printf(sb, "  rule %s\n", rt);
    }
    e6_strbuf_printf(sb, "  sessions: %zu of %u", total, p->cfg->sessions);
    for (int st = 0; st < NDP_S__COUNT; st++)
        e6_strbuf_printf(sb, "%s%s %zu", st ? ", " : " (", ndp_state_name((enum ndp_state)st),
                         counts[st]);
    e6_strbuf_puts(sb, ")\n");
    if (p->cfg->kernel_offload || p->cfg->autowire)
        e6_strbuf_printf(sb, "  kernel offload %s, autowire %s\n",
                         p->cfg->kernel_offload ? "on" : "off", p->cfg->autowire ? "on" : "off");
    if (warn)
        e6_strbuf_printf(sb, "  WARNING: %s\n", warn);
}

void ndp_service_view(struct e6_json *j, enum e6_view_format fmt, void *service)
{
    struct ndp_service *s = service;
    if (fmt == E6_VIEW_JSON) {
        e6_json_begin_object(j, NULL);
        e6_json_bool(j, "probe_socket_open", s->fd >= 0);
        e6_json_begin_array(j, "proxies");
        for (size_t i = 0; i < s->n_pxs; i++)
            view_px(s->pxs[i], j, fmt);
        e6_json_end_array(j);
        e6_json_end_object(j);
        return;
    }
    size_t warned = 0;
    for (size_t i = 0; i < s->n_pxs; i++)
        warned += warning_of(s->pxs[i]) != NULL;
    e6_strbuf_printf(j->sb, "ndp proxy (%zu prox%s%s)\n", s->n_pxs, s->n_pxs == 1 ? "y" : "ies",
                     warned ? ", SEE WARNINGS" : "");
    for (size_t i = 0; i < s->n_pxs; i++)
        view_px(s->pxs[i], j, fmt);
}

struct neigh_row {
    struct ndp_session_view v;
    size_t px;
};

struct neigh_collect {
    struct neigh_row *rows;
    size_t n, cap;
    size_t total;
    size_t px;
    bool oom;
};

static void neigh_add(void *arg, const struct ndp_session_view *sv)
{
    struct neigh_collect *c = arg;
    c->total++;
    if (c->oom || c->n >= NEIGHBORS_MAX_SHOWN)
        return;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        struct neigh_row *r = realloc(c->rows, cap * sizeof(*r));
        if (!r) {
            c->oom = true;
            return;
        }
        c->rows = r;
        c->cap = cap;
    }
    c->rows[c->n].v = *sv;
    c->rows[c->n].px = c->px;
    c->n++;
}

static int neigh_cmp(const void *a, const void *b)
{
    const struct neigh_row *x = a, *y = b;
    if (x->px != y->px)
        return x->px < y->px ? -1 : 1;
    return memcmp(&x->v.target, &y->v.target, sizeof(x->v.target));
}

void ndp_service_neighbors_view(struct e6_json *j, enum e6_view_format fmt, void *query)
{
    const struct ndp_neighbors_query *q = query;
    struct ndp_service *s = q->service;
    struct neigh_collect c = {.rows = NULL};
    uint64_t now = now_ms(s);

    for (size_t i = 0; i < s->n_pxs; i++) {
        if (q->iface && strcmp(q->iface, s->pxs[i]->cfg->name) != 0)
            continue;
        c.px = i;
        ndp_proxy_foreach(s->pxs[i]->eng, neigh_add, &c);
    }
    if (c.n > 1)
        qsort(c.rows, c.n, sizeof(c.rows[0]), neigh_cmp);

    if (fmt == E6_VIEW_JSON) {
        e6_json_begin_object(j, NULL);
        e6_json_uint(j, "total", c.total);
        e6_json_uint(j, "shown", c.n);
        e6_json_begin_array(j, "neighbors");
    } else if (c.total == 0) {
        e6_strbuf_puts(j->sb, "no sessions\n");
    } else {
        e6_strbuf_printf(j->sb, "%-10s %-39s %-10s %-12s %-24s %-6s %8s %5s %6s %8s\n", "PROXY",
                         "TARGET", "STATE", "IFACE", "RULE", "METHOD", "EXPIRES", "TRIES", "ASKERS",
                         "ASKED");
    }
    for (size_t i = 0; i < c.n; i++) {
        const struct neigh_row *r = &c.rows[i];
        const char *pname = s->pxs[r->px]->cfg->name;
        char t[E6_ADDRSTRLEN], pf[E6_PREFIXSTRLEN], ifn[32];
        uint64_t left = r->v.expires_ms > now ? r->v.expires_ms - now : 0;
        if (r->v.expires_ms == UINT64_MAX)
            left = UINT64_MAX;
        e6_addr_format(&r->v.target, t, sizeof(t));
        e6_prefix_format(&r->v.rule, pf, sizeof(pf));
        if (r->v.ifindex > 0)
            ifname_of(s, r->v.ifindex, ifn, sizeof(ifn));
        else
            snprintf(ifn, sizeof(ifn), "-");
        if (fmt == E6_VIEW_JSON) {
            e6_json_begin_object(j, NULL);
            e6_json_string(j, "proxy", pname);
            e6_json_string(j, "target", t);
            e6_json_string(j, "state", ndp_state_name(r->v.state));
            e6_json_string(j, "iface", r->v.ifindex > 0 ? ifn : NULL);
            e6_json_int(j, "ifindex", r->v.ifindex);
            e6_json_string(j, "rule", pf);
            e6_json_string(j, "method", conf_proxy_method_name(r->v.method));
            if (left == UINT64_MAX) {
                e6_json_null(j, "expires_in_ms");
                e6_json_null(j, "expires_in_s");
            } else {
                e6_json_uint(j, "expires_in_ms", left);
                e6_json_uint(j, "expires_in_s", (left + 999) / 1000);
            }
            e6_json_uint(j, "tries", r->v.tries);
            e6_json_uint(j, "askers", r->v.askers);
            e6_json_uint(j, "asked", r->v.asked);
            e6_json_end_object(j);
            continue;
        }
        char exp[24];
        if (left == UINT64_MAX)
            snprintf(exp, sizeof(exp), "never");
        else
            snprintf(exp, sizeof(exp), "%.1fs", (double)left / 1000.0);
        e6_strbuf_printf(j->sb, "%-10s %-39s %-10s %-12s %-24s %-6s %8s %5u %6u %8llu\n", pname, t,
                         ndp_state_name(r->v.state), ifn, pf, conf_proxy_method_name(r->v.method),
                         exp, r->v.tries, r->v.askers, (unsigned long long)r->v.asked);
    }
    if (fmt == E6_VIEW_JSON) {
        e6_json_end_array(j);
        e6_json_end_object(j);
    } else if (c.total > c.n) {
        e6_strbuf_printf(j->sb, "(%zu more not shown)\n", c.total - c.n);
    }
    free(c.rows);
}
