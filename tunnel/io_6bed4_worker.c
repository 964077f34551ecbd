/*
 * tunnel/io_6bed4_worker: the 6bed4 fast path threads. An encap worker
 * reads its TUN queue in batches, asks tunnel/sixbed4 where each packet
 * goes (router: the IPv4:port embedded in the destination; peer: the
 * router) and sends the batch with one sendmmsg. The decap worker takes
 * batches from the UDP socket with recvmmsg: the router writes what it
 * accepts into the TUN, hair-pins peer-to-peer packets and sends its RS
 * and NS answers (RAs through token buckets) in one sendmmsg, and touches
 * the peer table once per endpoint per batch; the peer writes the
 * router's packets into the TUN and hands RAs to the loop through a pipe.
 * With the TUN's offloads (a virtio_net_hdr before every packet,
 * tunnel/gso) an encap worker reads TCP super-packets and cuts them into
 * the send batch, and the decap worker writes the TCP runs of a receive
 * batch as super-packets (tunnel/worker writes them). Each worker has its
 * own epoll and an eventfd that stops it (tunnel/worker's struct
 * tun_thread), and its own counter block.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/log.h"
#include "common/loop.h"
#include "tunnel/io_6bed4_int.h"

/* per-thread scratch: batch buffers live in the heap, not on the stack
 * (a worker touches only its direction's part) */
struct wbuf {
    /* decap: the receive batch and the answers */
    uint8_t pkt[TB4_BATCH][TB4_SLOT];
    uint8_t reply[TB4_BATCH][TB4_REPLY_MAX];
    struct mmsghdr in[TB4_BATCH];
    struct iovec iniov[TB4_BATCH];
    struct sockaddr_in from[TB4_BATCH];
    struct tb4_touch touch[TB4_BATCH];
    /* decap: what goes into the TUN, and where its writes count */
    struct gso_pkt gp[TB4_BATCH];
    struct tun_merge merge;
    struct tun_wcount wc;
    /* encap: one TUN read with offloads, and the datagrams of the batch */
    uint8_t rd[GSO_MAX_PACKET];
    uint8_t seg[TB4_OUT_SLOTS][TB4_SLOT];
    size_t lens[TB4_OUT_SLOTS];
    /* the send batch (encap: segments; decap: hair-pins and answers) */
    struct mmsghdr out[TB4_OUT_SLOTS];
    struct iovec outiov[TB4_OUT_SLOTS];
    struct sockaddr_in to[TB4_OUT_SLOTS];
    uint8_t kind[TB4_OUT_SLOTS]; /* what each out message is, for the counters */
};
_Static_assert(TB4_BATCH <= GSO_COALESCE_MAX, "a receive batch fits one coalescing plan");
_Static_assert(TB4_BATCH <= TB4_OUT_SLOTS, "a receive batch's answers fit the send batch");

enum out_kind { OUT_DATA, OUT_HAIRPIN, OUT_REPLY };

static void out_add(struct wbuf *b, size_t *m, const void *p, size_t len,
                    const struct sockaddr_in *to, enum out_kind k)
{
    size_t i = (*m)++;
    b->outiov[i] = (struct iovec){.iov_base = (void *)p, .iov_len = len};
    if (to)
        b->to[i] = *to;
    b->kind[i] = (uint8_t)k;
    b->out[i] = (struct mmsghdr){
        .msg_hdr = {.msg_name = to ? &b->to[i] : NULL,
                    .msg_namelen = to ? sizeof(b->to[i]) : 0,
                    .msg_iov = &b->outiov[i],
                    .msg_iovlen = 1},
    };
}

static void count_sent(struct tb4_worker *w, const struct wbuf *b, size_t i)
{
    size_t len = b->outiov[i].iov_len;
    switch ((enum out_kind)b->kind[i]) {
    case OUT_DATA:
        tun_cnt_add(w->cnt, B4_ENCAP_PACKETS, 1);
        tun_cnt_add(w->cnt, B4_ENCAP_BYTES, len);
        break;
    case OUT_HAIRPIN:
        tun_cnt_add(w->cnt, B4_HAIRPIN_PACKETS, 1);
        tun_cnt_add(w->cnt, B4_HAIRPIN_BYTES, len);
        break;
    case OUT_REPLY:
        break; /* counted when decided */
    }
}

struct send_ctx {
    struct tb4_worker *w;
    const struct wbuf *b;
};

static void on_sent(void *arg, size_t i)
{
    struct send_ctx *c = arg;
    count_sent(c->w, c->b, i);
}

/* ENOBUFS, EAGAIN on a full queue, ECONNREFUSED from an earlier ICMP on a
 * connected socket: dropped */
static void on_refused(void *arg, size_t i, int e)
{
    (void)i;
    (void)e;
    struct send_ctx *c = arg;
    tun_cnt_add(c->w->cnt, B4_SEND_ERRORS, 1);
}

static void send_batch(struct tb4_worker *w, int fd, struct wbuf *b, size_t m)
{
    struct send_ctx c = {.w = w, .b = b};
    tun_send_batch(fd, b->out, m, on_sent, on_refused, &c);
}

static struct sockaddr_in sin_of(struct tb4_endpoint ep)
{
    return (struct sockaddr_in){
        .sin_family = AF_INET, .sin_addr = ep.addr, .sin_port = htons(ep.port)};
}

/* peer: our address, read once per batch */
static bool self_get(struct tb4_fast *f, struct in6_addr *self)
{
    pthread_mutex_lock(&f->mu);
    bool have = f->have_self;
    if (have)
        *self = f->self;
    pthread_mutex_unlock(&f->mu);
    return have;
}

/*
 * With a peer table, the router sends only to endpoints the table holds
 * (an RS, a keepalive or traffic came from there): the IPv4:port in a
 * destination is anybody's choice, and the router must not carry UDP to a
 * service that never asked for it. Without one (peers = 0) it is as
 * stateless as the reference router.
 */
static bool endpoint_live(struct tb4_fast *f, struct tb4_endpoint ep)
{
    if (!f->table)
        return true;
    uint64_t now = e6_monotonic_ms();
    pthread_mutex_lock(&f->mu);
    bool live = tb4_peers_live(&f->peers, ep, tb4_fast_now(f, now));
    pthread_mutex_unlock(&f->mu);
    return live;
}

/*
 * Where a packet from the TUN goes: true and *to set (router: the endpoint
 * in its destination; peer: NULL, the connected router), or counted and
 * false.
 */
static bool encap_decide(struct tb4_worker *w, struct tb4_fast *f, const uint8_t *p, size_t len,
                         const struct in6_addr *self, struct sockaddr_in *to, bool *named)
{
    struct tb4_verdict v;
    if (f->router)
        tb4_router_from_tun(&f->rcfg, p, len, &v);
    else
        tb4_peer_from_tun(self, p, len, &v);
    if (v.action != TB4_A_UDP) {
        tun_cnt_add(w->cnt, B4_DROP_BASE + (size_t)(v.why == TB4_OK ? TB4_D_NOT_PEER : v.why), 1);
        return false;
    }
    if (f->router && !endpoint_live(f, v.ep)) {
        tun_cnt_add(w->cnt, B4_DROP_BASE + TB4_D_NOT_LIVE, 1);
        return false;
    }
    *named = f->router;
    if (f->router)
        *to = sin_of(v.ep);
    return true;
}

/*
 * One read with offloads (in b->rd): its segments appended to the send
 * batch at *m (sent first when the batch is full). The decision is asked
 * about the whole packet, or the first segment of a super-packet (they
 * all share its addresses).
 */
static void encap_one_vnet(struct tb4_worker *w, struct tb4_fast *f, struct wbuf *b, size_t len,
                           const struct in6_addr *self, size_t *m)
{
    struct gso_info gi;
    enum gso_reject g = gso_parse(b->rd, len, &gi);
    if (g != GSO_OK) {
        tun_cnt_add(w->cnt, B4_GSO_DROP_BASE + (size_t)g, 1);
        return;
    }
    struct sockaddr_in to;
    bool named = false;
    for (size_t first = 0; first < gi.segs;) {
        if (*m == TB4_OUT_SLOTS) {
            send_batch(w, f->udpfd, b, *m);
            *m = 0;
        }
        size_t n;
        g = gso_segment(&gi, first, b->seg[*m], TB4_SLOT, TB4_OUT_SLOTS - *m, b->lens + *m, &n);
        if (g != GSO_OK) {
            tun_cnt_add(w->cnt, B4_GSO_DROP_BASE + (size_t)g, 1);
            return;
        }
        if (first == 0 && !encap_decide(w, f, b->seg[*m], b->lens[*m], self, &to, &named))
            return;
        for (size_t k = 0; k < n; k++)
            out_add(b, m, b->seg[*m], b->lens[*m], named ? &to : NULL, OUT_DATA);
        first += n;
    }
    if (gi.gso) {
        tun_cnt_add(w->cnt, B4_GSO_PACKETS, 1);
        tun_cnt_add(w->cnt, B4_GSO_SEGMENTS, gi.segs);
    } else if (gi.h.flags & GSO_F_NEEDS_CSUM) {
        tun_cnt_add(w->cnt, B4_CSUM_COMPLETED, 1);
    }
}

/* One batch from the TUN; false when the queue is empty. */
static bool encap_batch(struct tb4_worker *w, struct tb4_fast *f, struct wbuf *b)
{
    bool more = true;
    struct in6_addr self;
    bool have_self = !f->router && self_get(f, &self);
    const struct in6_addr *me = have_self ? &self : NULL;
    size_t m = 0;
    for (size_t reads = 0; reads < TB4_BATCH; reads++) {
        if (m == TB4_OUT_SLOTS) {
            send_batch(w, f->udpfd, b, m);
            m = 0;
        }
        ssize_t r =
            f->vnet ? read(w->tunfd, b->rd, sizeof(b->rd)) : read(w->tunfd, b->seg[m], TB4_SLOT);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            more = false;
            break;
        }
        if (f->vnet) {
            encap_one_vnet(w, f, b, (size_t)r, me, &m);
            continue;
        }
        struct sockaddr_in to;
        bool named = false;
        if (encap_decide(w, f, b->seg[m], (size_t)r, me, &to, &named))
            out_add(b, &m, b->seg[m], (size_t)r, named ? &to : NULL, OUT_DATA);
    }
    if (m)
        send_batch(w, f->udpfd, b, m);
    return more;
}

static void touch_flush(struct tb4_worker *w, struct tb4_fast *f, struct wbuf *b, size_t *nt)
{
    if (!*nt)
        return;
    uint64_t now = e6_monotonic_ms();
    pthread_mutex_lock(&f->mu);
    size_t refused = tb4_touch_apply(&f->peers, b->touch, *nt, tb4_fast_now(f, now));
    pthread_mutex_unlock(&f->mu);
    if (refused)
        tun_cnt_add(w->cnt, B4_PEERS_REFUSED, refused);
    *nt = 0;
}

static void touch(struct tb4_worker *w, struct tb4_fast *f, struct wbuf *b, size_t *nt,
                  struct tb4_endpoint ep, bool keepalive, enum tb4_peer_class cls)
{
    if (!f->table)
        return;
    if (!tb4_touch_add(b->touch, nt, TB4_BATCH, ep, keepalive, cls)) {
        touch_flush(w, f, b, nt);
        tb4_touch_add(b->touch, nt, TB4_BATCH, ep, keepalive, cls);
    }
}

static void router_one(struct tb4_worker *w, struct tb4_fast *f, struct wbuf *b, size_t i,
                       size_t *m, size_t *nt, size_t *ng, uint64_t now)
{
    uint8_t *p = b->pkt[i];
    size_t len = b->in[i].msg_len;
    struct tb4_endpoint from = {.addr = b->from[i].sin_addr, .port = ntohs(b->from[i].sin_port)};
    struct tb4_verdict v;
    tb4_router_from_udp(&f->rcfg, p, len, from, b->reply[i], &v);
    switch (v.action) {
    case TB4_A_DROP:
    case TB4_A_RA:
        tun_cnt_add(w->cnt, B4_DROP_BASE + (size_t)(v.why == TB4_OK ? TB4_D_ND_OTHER : v.why), 1);
        return;
    case TB4_A_KEEPALIVE:
        tun_cnt_add(w->cnt, B4_KEEPALIVES, 1);
        touch(w, f, b, nt, from, true, TB4_PEER_ACTIVE);
        return;
    case TB4_A_TUN:
        b->gp[(*ng)++] = (struct gso_pkt){.p = p, .len = len};
        tun_cnt_add(w->cnt, B4_DECAP_PACKETS, 1);
        tun_cnt_add(w->cnt, B4_DECAP_BYTES, len);
        if (v.local)
            tun_cnt_add(w->cnt, B4_LOCAL_PACKETS, 1);
        break;
    case TB4_A_UDP: {
        if (!endpoint_live(f, v.ep)) {
            tun_cnt_add(w->cnt, B4_DROP_BASE + TB4_D_NOT_LIVE, 1);
            break;
        }
        struct sockaddr_in to = sin_of(v.ep);
        out_add(b, m, p, len, &to, OUT_HAIRPIN);
        break;
    }
    case TB4_A_REPLY: {
        bool rebind = v.why == TB4_D_REBIND;
        if (rebind)
            tun_cnt_add(w->cnt, B4_DROP_BASE + TB4_D_REBIND, 1);
        bool ra = v.reply_type == ND_ROUTER_ADVERT;
        if (ra && !rebind)
            tun_cnt_add(w->cnt, B4_RS_RECEIVED, 1);
        else if (!ra)
            tun_cnt_add(w->cnt, B4_NS_ANSWERED, 1);
        bool sent = false;
        if (ra && !tb4_bucket_take(rebind ? &f->ra_rebind : &f->ra_solicit, now)) {
            tun_cnt_add(w->cnt, B4_RA_SUPPRESSED, 1);
        } else if (v.reply_len > 0 && v.reply_len <= TB4_REPLY_MAX) {
            if (ra)
                tun_cnt_add(w->cnt, B4_RA_SENT, 1);
            out_add(b, m, b->reply[i], v.reply_len, &b->from[i], OUT_REPLY);
            sent = true;
        }
        /*
         * An RS, or a rebinding our RA answers, is the first step of a peer
         * at this endpoint: known, not yet proven. The rebound peer may
         * send nothing but keepalives (which never insert) from its new
         * address, yet the upstream must learn it through the proxy now.
         */
        if (ra && sent)
            touch(w, f, b, nt, from, false, TB4_PEER_SOLICITED);
        else if (v.live)
            touch(w, f, b, nt, from, false, TB4_PEER_ACTIVE);
        return;
    }
    }
    if (v.live)
        touch(w, f, b, nt, from, false, TB4_PEER_ACTIVE);
}

static void peer_one(struct tb4_worker *w, struct tb4_fast *f, struct wbuf *b, size_t i,
                     const struct in6_addr *self, size_t *ng)
{
    uint8_t *p = b->pkt[i];
    size_t len = b->in[i].msg_len;
    /* connected to the router: only it can be here, but what was queued
     * between bind() and connect() came from anyone */
    if (b->from[i].sin_addr.s_addr != f->router_ep.addr.s_addr ||
        ntohs(b->from[i].sin_port) != f->router_ep.port) {
        tun_cnt_add(w->cnt, B4_DROP_BASE + TB4_D_SPOOFED, 1);
        return;
    }
    struct tb4_verdict v;
    tb4_peer_from_udp(self, p, len, &v);
    switch (v.action) {
    case TB4_A_TUN:
        b->gp[(*ng)++] = (struct gso_pkt){.p = p, .len = len};
        tun_cnt_add(w->cnt, B4_DECAP_PACKETS, 1);
        tun_cnt_add(w->cnt, B4_DECAP_BYTES, len);
        return;
    case TB4_A_RA: {
        /* the loop configures it; a full pipe means it is far behind and
         * the router will answer the next RS anyway */
        ssize_t r = write(f->rafd, &v.ra, sizeof(v.ra));
        if (r != (ssize_t)sizeof(v.ra))
            tun_cnt_add(w->cnt, B4_DROP_BASE + TB4_D_BAD_RA, 1);
        return;
    }
    default:
        tun_cnt_add(w->cnt, B4_DROP_BASE + (size_t)(v.why == TB4_OK ? TB4_D_NOT_OURS : v.why), 1);
        return;
    }
}

static bool decap_batch(struct tb4_worker *w, struct tb4_fast *f, struct wbuf *b)
{
    for (size_t i = 0; i < TB4_BATCH; i++) {
        b->iniov[i] = (struct iovec){.iov_base = b->pkt[i], .iov_len = TB4_SLOT};
        b->in[i] = (struct mmsghdr){.msg_hdr = {.msg_name = &b->from[i],
                                                .msg_namelen = sizeof(b->from[i]),
                                                .msg_iov = &b->iniov[i],
                                                .msg_iovlen = 1}};
    }
    int n;
    do
        n = recvmmsg(f->udpfd, b->in, TB4_BATCH, MSG_DONTWAIT, NULL);
    while (n < 0 && errno == EINTR);
    if (n <= 0)
        return false;
    size_t m = 0, nt = 0, ng = 0;
    uint64_t now = e6_monotonic_ms();
    struct in6_addr self;
    bool have_self = !f->router && self_get(f, &self);
    for (int i = 0; i < n; i++) {
        if (b->in[i].msg_hdr.msg_flags & MSG_TRUNC) {
            tun_cnt_add(w->cnt, B4_RX_TRUNCATED, 1);
            continue;
        }
        if (b->in[i].msg_hdr.msg_namelen < sizeof(struct sockaddr_in) ||
            b->from[i].sin_family != AF_INET) {
            tun_cnt_add(w->cnt, B4_DROP_BASE + TB4_D_SPOOFED, 1);
            continue;
        }
        if (f->router)
            router_one(w, f, b, (size_t)i, &m, &nt, &ng, now);
        else
            peer_one(w, f, b, (size_t)i, have_self ? &self : NULL, &ng);
    }
    /* merged runs of TCP segments when the kernel takes them */
    if (ng)
        tun_write_batch(f->tunfd0, f->vnet, f->offload, b->gp, ng, &b->merge, &b->wc);
    if (m)
        send_batch(w, f->udpfd, b, m);
    touch_flush(w, f, b, &nt);
    return n == TB4_BATCH;
}

static void *worker_main(void *arg)
{
    struct tb4_worker *w = arg;
    struct tb4_fast *f = w->f;
    struct wbuf *b = malloc(sizeof(*b));
    if (!b) {
        e6_err("6bed4 worker: out of memory; this direction carries nothing");
        return NULL;
    }
    b->wc = (struct tun_wcount){.cnt = w->cnt,
                                .errors = B4_TUN_ERRORS,
                                .gro_packets = B4_GRO_PACKETS,
                                .gro_segments = B4_GRO_SEGMENTS};
    int ready[2];
    int n;
    while ((n = tun_thread_wait(&w->th, ready, 2, "6bed4 worker")) >= 0) {
        for (int i = 0; i < n && !tun_thread_stopping(&w->th); i++) {
            if (w->kind == TB4_W_ENCAP)
                while (encap_batch(w, f, b) && !tun_thread_stopping(&w->th))
                    ;
            else
                while (decap_batch(w, f, b) && !tun_thread_stopping(&w->th))
                    ;
        }
    }
    free(b);
    return NULL;
}

int tb4_worker_start(struct tb4_worker *w, struct tb4_fast *f, char *err, size_t errlen)
{
    int fd = w->kind == TB4_W_ENCAP ? w->tunfd : f->udpfd;
    w->f = f;
    return tun_thread_start(&w->th, &fd, 1, worker_main, w, "6bed4 worker", err, errlen);
}

void tb4_worker_stop(struct tb4_worker *w)
{
    tun_thread_stop(&w->th);
}
