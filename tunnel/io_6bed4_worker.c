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
#include <netinet/udp.h>
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
    /* decap: the receive batch (rx: TB4_BATCH slots of rx_slot bytes, a
     * coalesced run each when the socket takes UDP_GRO), the answers and
     * the peer-table touches */
    uint8_t *rx;
    size_t rx_slot;
    struct mmsghdr in[TB4_BATCH];
    struct iovec iniov[TB4_BATCH];
    struct sockaddr_in from[TB4_BATCH];
    uint8_t inctl[TB4_BATCH][CMSG_SPACE(sizeof(int))];
    uint8_t reply[TB4_BATCH][TB4_REPLY_MAX];
    size_t nrep;
    struct tb4_touch touch[TB4_BATCH];
    size_t nt;
    /* decap: what goes into the TUN, and where its writes count */
    struct gso_pkt gp[GSO_COALESCE_MAX];
    size_t ng;
    struct tun_merge merge;
    struct tun_wcount wc;
    /* encap: one TUN read with offloads, and the datagrams of the batch */
    uint8_t rd[GSO_MAX_PACKET];
    uint8_t seg[TB4_OUT_SLOTS][TB4_SLOT];
    size_t lens[TB4_OUT_SLOTS];
    /* the send batch (encap: segments; decap: hair-pins and answers): one
     * iovec per datagram, one message per datagram or run of them */
    struct iovec outiov[TB4_OUT_SLOTS];
    size_t niov;
    struct tb4_omsg om[TB4_OUT_SLOTS];
    size_t nom;
    struct mmsghdr out[TB4_OUT_SLOTS];
    struct sockaddr_in to[TB4_OUT_SLOTS];
    uint8_t outctl[TB4_OUT_SLOTS][CMSG_SPACE(sizeof(uint16_t))];
    /* a refused run, datagram by datagram */
    struct mmsghdr one[TB4_UDP_GSO_SEGS];
};
_Static_assert(TB4_BATCH <= TB4_OUT_SLOTS, "a receive batch's answers fit the send batch");
_Static_assert(TB4_SLOT <= UINT16_MAX && TB4_OUT_SLOTS <= UINT16_MAX, "omsg fields hold them");

enum out_kind { OUT_DATA, OUT_HAIRPIN, OUT_REPLY };

static struct sockaddr_in sin_of(struct tb4_endpoint ep)
{
    return (struct sockaddr_in){
        .sin_family = AF_INET, .sin_addr = ep.addr, .sin_port = htons(ep.port)};
}

static void count_sent(struct tb4_worker *w, const struct tb4_omsg *o)
{
    switch ((enum out_kind)o->kind) {
    case OUT_DATA:
        tun_cnt_add(w->cnt, B4_ENCAP_PACKETS, o->nseg);
        tun_cnt_add(w->cnt, B4_ENCAP_BYTES, o->bytes);
        break;
    case OUT_HAIRPIN:
        tun_cnt_add(w->cnt, B4_HAIRPIN_PACKETS, o->nseg);
        tun_cnt_add(w->cnt, B4_HAIRPIN_BYTES, o->bytes);
        break;
    case OUT_REPLY:
        break; /* counted when decided */
    }
    if (o->nseg > 1) {
        tun_cnt_add(w->cnt, B4_UDP_GSO_SENDS, 1);
        tun_cnt_add(w->cnt, B4_UDP_GSO_DATAGRAMS, o->nseg);
    }
}

struct send_ctx {
    struct tb4_worker *w;
    struct tb4_fast *f;
    struct wbuf *b;
    const struct tb4_omsg *o; /* a refused run sent one by one: that run */
};

static void on_sent(void *arg, size_t i)
{
    struct send_ctx *c = arg;
    count_sent(c->w, &c->b->om[i]);
}

static void on_sent_one(void *arg, size_t i)
{
    struct send_ctx *c = arg;
    struct tb4_omsg one = *c->o;
    one.nseg = 1;
    one.bytes = (uint32_t)c->b->outiov[one.iov0 + i].iov_len;
    count_sent(c->w, &one);
}

/* ENOBUFS, EAGAIN on a full queue, ECONNREFUSED from an earlier ICMP on a
 * connected socket: dropped */
static void on_refused_one(void *arg, size_t i, int e)
{
    (void)i;
    (void)e;
    struct send_ctx *c = arg;
    tun_cnt_add(c->w->cnt, B4_SEND_ERRORS, 1);
}

static bool udp_gso_on(struct tb4_worker *w, const struct tb4_fast *f)
{
    if (!f->udp_gso)
        return false;
    if (w->udp_gso_off_until) {
        if (e6_monotonic_ms() < w->udp_gso_off_until)
            return false;
        w->udp_gso_off_until = 0; /* asked again: no clock read per datagram after */
    }
    return true;
}

/*
 * A run the kernel refused: EMSGSIZE (EINVAL before Linux 6.x) when a
 * datagram is larger than the MTU of the route out (UDP_SEGMENT does not
 * fragment, and this socket lets the IPv4 side fragment), EIO when that
 * device cannot checksum. The run goes out datagram by datagram, and this
 * worker asks for segmentation again only after TB4_UDP_GSO_RETRY_MS.
 */
static void on_refused(void *arg, size_t i, int e)
{
    struct send_ctx *c = arg;
    const struct tb4_omsg *o = &c->b->om[i];
    if (o->nseg == 1 || (e != EMSGSIZE && e != EINVAL && e != EIO)) {
        tun_cnt_add(c->w->cnt, B4_SEND_ERRORS, o->nseg);
        return;
    }
    struct tb4_worker *w = c->w;
    tun_cnt_add(w->cnt, B4_UDP_GSO_FALLBACKS, 1);
    w->udp_gso_off_until = e6_monotonic_ms() + TB4_UDP_GSO_RETRY_MS;
    if (!w->udp_gso_logged) {
        w->udp_gso_logged = true;
        e6_info("6bed4 worker: the kernel refused UDP segmentation (%s): datagram by datagram, "
                "asking again every %u s (counter udp_gso_fallbacks)",
                strerror(e), TB4_UDP_GSO_RETRY_MS / 1000);
    }
    struct mmsghdr *m = &c->b->out[i];
    for (size_t k = 0; k < o->nseg; k++)
        c->b->one[k] = (struct mmsghdr){.msg_hdr = {.msg_name = m->msg_hdr.msg_name,
                                                    .msg_namelen = m->msg_hdr.msg_namelen,
                                                    .msg_iov = &c->b->outiov[o->iov0 + k],
                                                    .msg_iovlen = 1}};
    struct send_ctx one = {.w = w, .f = c->f, .b = c->b, .o = o};
    tun_send_batch(c->f->udpfd, c->b->one, o->nseg, on_sent_one, on_refused_one, &one);
}

/* Send the batch (a run of several datagrams with UDP_SEGMENT) and empty it. */
static void out_flush(struct tb4_worker *w, struct tb4_fast *f, struct wbuf *b)
{
    for (size_t i = 0; i < b->nom; i++) {
        const struct tb4_omsg *o = &b->om[i];
        struct msghdr *h = &b->out[i].msg_hdr;
        *h = (struct msghdr){.msg_iov = &b->outiov[o->iov0], .msg_iovlen = o->nseg};
        if (o->named) {
            b->to[i] = sin_of(o->ep);
            h->msg_name = &b->to[i];
            h->msg_namelen = sizeof(b->to[i]);
        }
        if (o->nseg > 1) {
            memset(b->outctl[i], 0, sizeof(b->outctl[i]));
            h->msg_control = b->outctl[i];
            h->msg_controllen = CMSG_SPACE(sizeof(uint16_t));
            struct cmsghdr *cm = CMSG_FIRSTHDR(h);
            cm->cmsg_level = SOL_UDP;
            cm->cmsg_type = UDP_SEGMENT;
            cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
            uint16_t seg = o->seg;
            memcpy(CMSG_DATA(cm), &seg, sizeof(seg));
        }
    }
    struct send_ctx c = {.w = w, .f = f, .b = b};
    if (b->nom)
        tun_send_batch(f->udpfd, b->out, b->nom, on_sent, on_refused, &c);
    b->nom = b->niov = b->nrep = 0;
}

/*
 * One datagram into the send batch (its iovec the next one: the encap
 * worker cuts segments into b->seg at that index), joining the last
 * message's run when UDP segmentation is on and it can; to NULL: the
 * connected router.
 */
static void out_add(struct tb4_worker *w, struct tb4_fast *f, struct wbuf *b, const void *p,
                    size_t len, const struct tb4_endpoint *to, enum out_kind k)
{
    if (b->niov == TB4_OUT_SLOTS)
        out_flush(w, f, b);
    size_t i = b->niov++;
    b->outiov[i] = (struct iovec){.iov_base = (void *)p, .iov_len = len};
    struct tb4_endpoint ep = to ? *to : (struct tb4_endpoint){0};
    if (b->nom && k != OUT_REPLY && udp_gso_on(w, f) &&
        tb4_omsg_joins(&b->om[b->nom - 1], (uint8_t)k, to != NULL, ep, len)) {
        struct tb4_omsg *o = &b->om[b->nom - 1];
        o->nseg++;
        o->bytes += (uint32_t)len;
        return;
    }
    b->om[b->nom++] = (struct tb4_omsg){.ep = ep,
                                        .named = to != NULL,
                                        .kind = (uint8_t)k,
                                        .seg = (uint16_t)len,
                                        .nseg = 1,
                                        .bytes = (uint32_t)len,
                                        .iov0 = (uint16_t)i};
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
 * Where a packet from the TUN goes: true and *named (router: to the
 * endpoint *to in its destination; peer: false, the connected router), or
 * counted and false.
 */
static bool encap_decide(struct tb4_worker *w, struct tb4_fast *f, const uint8_t *p, size_t len,
                         const struct in6_addr *self, struct tb4_endpoint *to, bool *named)
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
    *to = v.ep;
    return true;
}

/*
 * One read with offloads (in b->rd): its segments appended to the send
 * batch (sent first when the batch is full), one UDP_SEGMENT run where the
 * socket takes them. The decision is asked about the whole packet, or the
 * first segment of a super-packet (they all share its addresses).
 */
static void encap_one_vnet(struct tb4_worker *w, struct tb4_fast *f, struct wbuf *b, size_t len,
                           const struct in6_addr *self)
{
    struct gso_info gi;
    enum gso_reject g = gso_parse(b->rd, len, &gi);
    if (g != GSO_OK) {
        tun_cnt_add(w->cnt, B4_GSO_DROP_BASE + (size_t)g, 1);
        return;
    }
    struct tb4_endpoint to;
    bool named = false;
    for (size_t first = 0; first < gi.segs;) {
        if (b->niov == TB4_OUT_SLOTS)
            out_flush(w, f, b);
        size_t n, at = b->niov;
        g = gso_segment(&gi, first, b->seg[at], TB4_SLOT, TB4_OUT_SLOTS - at, b->lens + at, &n);
        if (g != GSO_OK) {
            tun_cnt_add(w->cnt, B4_GSO_DROP_BASE + (size_t)g, 1);
            return;
        }
        if (first == 0 && !encap_decide(w, f, b->seg[at], b->lens[at], self, &to, &named))
            return;
        for (size_t k = 0; k < n; k++)
            out_add(w, f, b, b->seg[at + k], b->lens[at + k], named ? &to : NULL, OUT_DATA);
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
    for (size_t reads = 0; reads < TB4_BATCH; reads++) {
        if (b->niov == TB4_OUT_SLOTS)
            out_flush(w, f, b);
        uint8_t *slot = b->seg[b->niov];
        ssize_t r = f->vnet ? read(w->tunfd, b->rd, sizeof(b->rd)) : read(w->tunfd, slot, TB4_SLOT);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            more = false;
            break;
        }
        if (f->vnet) {
            encap_one_vnet(w, f, b, (size_t)r, me);
            continue;
        }
        struct tb4_endpoint to;
        bool named = false;
        if (encap_decide(w, f, slot, (size_t)r, me, &to, &named))
            out_add(w, f, b, slot, (size_t)r, named ? &to : NULL, OUT_DATA);
    }
    out_flush(w, f, b);
    return more;
}

static void touch_flush(struct tb4_worker *w, struct tb4_fast *f, struct wbuf *b)
{
    if (!b->nt)
        return;
    uint64_t now = e6_monotonic_ms();
    pthread_mutex_lock(&f->mu);
    size_t refused = tb4_touch_apply(&f->peers, b->touch, b->nt, tb4_fast_now(f, now));
    pthread_mutex_unlock(&f->mu);
    if (refused)
        tun_cnt_add(w->cnt, B4_PEERS_REFUSED, refused);
    b->nt = 0;
}

static void touch(struct tb4_worker *w, struct tb4_fast *f, struct wbuf *b, struct tb4_endpoint ep,
                  bool keepalive, enum tb4_peer_class cls)
{
    if (!f->table)
        return;
    if (!tb4_touch_add(b->touch, &b->nt, TB4_BATCH, ep, keepalive, cls)) {
        touch_flush(w, f, b);
        tb4_touch_add(b->touch, &b->nt, TB4_BATCH, ep, keepalive, cls);
    }
}

/* Write what the batch holds for the TUN unless k more packets fit. */
static void tun_room(struct tb4_fast *f, struct wbuf *b, size_t k)
{
    if (b->ng + k <= GSO_COALESCE_MAX)
        return;
    tun_write_batch(f->tunfd0, f->vnet, f->offload, b->gp, b->ng, &b->merge, &b->wc);
    b->ng = 0;
}

/* A packet for the TUN (written with the batch, merged where it can be). */
static void tun_add(struct tb4_worker *w, struct tb4_fast *f, struct wbuf *b, uint8_t *p,
                    size_t len)
{
    tun_room(f, b, 1);
    b->gp[b->ng++] = (struct gso_pkt){.p = p, .len = len};
    tun_cnt_add(w->cnt, B4_DECAP_PACKETS, 1);
    tun_cnt_add(w->cnt, B4_DECAP_BYTES, len);
}

/* One IPv6 packet (or keepalive) that came from `from`, at the router. */
static void router_one(struct tb4_worker *w, struct tb4_fast *f, struct wbuf *b, uint8_t *p,
                       size_t len, const struct sockaddr_in *sin, uint64_t now)
{
    struct tb4_endpoint from = {.addr = sin->sin_addr, .port = ntohs(sin->sin_port)};
    /* room for an answer and its datagram now: a flush inside out_add
     * would hand the answer's slot to the next one before it is sent */
    if (b->nrep == TB4_BATCH || b->niov == TB4_OUT_SLOTS)
        out_flush(w, f, b);
    uint8_t *reply = b->reply[b->nrep];
    struct tb4_verdict v;
    tb4_router_from_udp(&f->rcfg, p, len, from, reply, &v);
    switch (v.action) {
    case TB4_A_DROP:
    case TB4_A_RA:
        tun_cnt_add(w->cnt, B4_DROP_BASE + (size_t)(v.why == TB4_OK ? TB4_D_ND_OTHER : v.why), 1);
        return;
    case TB4_A_KEEPALIVE:
        tun_cnt_add(w->cnt, B4_KEEPALIVES, 1);
        touch(w, f, b, from, true, TB4_PEER_ACTIVE);
        return;
    case TB4_A_TUN:
        tun_add(w, f, b, p, len);
        if (v.local)
            tun_cnt_add(w->cnt, B4_LOCAL_PACKETS, 1);
        break;
    case TB4_A_UDP:
        if (!endpoint_live(f, v.ep)) {
            tun_cnt_add(w->cnt, B4_DROP_BASE + TB4_D_NOT_LIVE, 1);
            break;
        }
        out_add(w, f, b, p, len, &v.ep, OUT_HAIRPIN);
        break;
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
            b->nrep++;
            out_add(w, f, b, reply, v.reply_len, &from, OUT_REPLY);
            sent = true;
        }
        /*
         * An RS, or a rebinding our RA answers, is the first step of a peer
         * at this endpoint: known, not yet proven. The rebound peer may
         * send nothing but keepalives (which never insert) from its new
         * address, yet the upstream must learn it through the proxy now.
         */
        if (ra && sent)
            touch(w, f, b, from, false, TB4_PEER_SOLICITED);
        else if (v.live)
            touch(w, f, b, from, false, TB4_PEER_ACTIVE);
        return;
    }
    }
    if (v.live)
        touch(w, f, b, from, false, TB4_PEER_ACTIVE);
}

/* One IPv6 packet that came from `sin`, at a peer. */
static void peer_one(struct tb4_worker *w, struct tb4_fast *f, struct wbuf *b, uint8_t *p,
                     size_t len, const struct sockaddr_in *sin, const struct in6_addr *self)
{
    /* connected to the router: only it can be here, but what was queued
     * between bind() and connect() came from anyone */
    if (sin->sin_addr.s_addr != f->router_ep.addr.s_addr ||
        ntohs(sin->sin_port) != f->router_ep.port) {
        tun_cnt_add(w->cnt, B4_DROP_BASE + TB4_D_SPOOFED, 1);
        return;
    }
    struct tb4_verdict v;
    tb4_peer_from_udp(self, p, len, &v);
    switch (v.action) {
    case TB4_A_TUN:
        tun_add(w, f, b, p, len);
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

/* The segment size of a coalesced run (UDP_GRO), 0 for one datagram. */
static size_t gro_size(struct msghdr *h)
{
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(h); cm; cm = CMSG_NXTHDR(h, cm)) {
        if (cm->cmsg_level != SOL_UDP || cm->cmsg_type != UDP_GRO ||
            cm->cmsg_len < CMSG_LEN(sizeof(int)))
            continue;
        int v;
        memcpy(&v, CMSG_DATA(cm), sizeof(v));
        return v > 0 ? (size_t)v : 0;
    }
    return 0;
}

static bool decap_batch(struct tb4_worker *w, struct tb4_fast *f, struct wbuf *b)
{
    for (size_t i = 0; i < TB4_BATCH; i++) {
        b->iniov[i] = (struct iovec){.iov_base = b->rx + i * b->rx_slot, .iov_len = b->rx_slot};
        b->in[i] = (struct mmsghdr){.msg_hdr = {.msg_name = &b->from[i],
                                                .msg_namelen = sizeof(b->from[i]),
                                                .msg_iov = &b->iniov[i],
                                                .msg_iovlen = 1}};
        if (f->udp_gro) {
            b->in[i].msg_hdr.msg_control = b->inctl[i];
            b->in[i].msg_hdr.msg_controllen = sizeof(b->inctl[i]);
        }
    }
    int n;
    do
        n = recvmmsg(f->udpfd, b->in, TB4_BATCH, MSG_DONTWAIT, NULL);
    while (n < 0 && errno == EINTR);
    if (n <= 0)
        return false;
    uint64_t now = e6_monotonic_ms();
    struct in6_addr self;
    bool have_self = !f->router && self_get(f, &self);
    for (int i = 0; i < n; i++) {
        struct msghdr *h = &b->in[i].msg_hdr;
        if (h->msg_flags & MSG_TRUNC) {
            tun_cnt_add(w->cnt, B4_RX_TRUNCATED, 1);
            continue;
        }
        if (h->msg_namelen < sizeof(struct sockaddr_in) || b->from[i].sin_family != AF_INET) {
            tun_cnt_add(w->cnt, B4_DROP_BASE + TB4_D_SPOOFED, 1);
            continue;
        }
        uint8_t *p = b->iniov[i].iov_base;
        size_t len = b->in[i].msg_len;
        /* a coalesced run: datagrams of seg bytes, the last maybe shorter,
         * each decided on its own */
        size_t seg = f->udp_gro ? gro_size(h) : 0;
        if (!seg || seg >= len)
            seg = len;
        /* the 64 KB GRO slots take what the plain ones would cut: a
         * datagram above TB4_SLOT is refused either way */
        if (seg > TB4_SLOT) {
            tun_cnt_add(w->cnt, B4_RX_TRUNCATED, (len + seg - 1) / seg);
            continue;
        }
        if (seg < len) {
            size_t k = (len + seg - 1) / seg;
            tun_cnt_add(w->cnt, B4_UDP_GRO_RECEIVES, 1);
            tun_cnt_add(w->cnt, B4_UDP_GRO_DATAGRAMS, k);
            /* a run is one flow's: kept whole in one merge of TUN writes */
            tun_room(f, b, k);
        }
        size_t off = 0;
        do {
            size_t l = len - off < seg ? len - off : seg;
            if (f->router)
                router_one(w, f, b, p + off, l, &b->from[i], now);
            else
                peer_one(w, f, b, p + off, l, &b->from[i], have_self ? &self : NULL);
            off += l;
        } while (off < len);
    }
    /* merged runs of TCP segments when the kernel takes them */
    if (b->ng)
        tun_write_batch(f->tunfd0, f->vnet, f->offload, b->gp, b->ng, &b->merge, &b->wc);
    b->ng = 0;
    out_flush(w, f, b);
    touch_flush(w, f, b);
    return n == TB4_BATCH;
}

static void *worker_main(void *arg)
{
    struct tb4_worker *w = arg;
    struct tb4_fast *f = w->f;
    struct wbuf *b = calloc(1, sizeof(*b));
    if (b && w->kind == TB4_W_DECAP) {
        b->rx_slot = f->udp_gro ? TB4_GRO_SLOT : TB4_SLOT;
        b->rx = malloc(TB4_BATCH * b->rx_slot);
    }
    if (!b || (w->kind == TB4_W_DECAP && !b->rx)) {
        e6_err("6bed4 worker: out of memory; this direction carries nothing");
        free(b);
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
    free(b->rx);
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
