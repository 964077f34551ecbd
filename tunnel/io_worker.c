/*
 * tunnel/io_worker: the 6in4 fast path threads. An encap worker reads its
 * TUN queue in batches, asks tun_6in4_route where each packet goes and
 * hands the batch to the raw protocol-41 socket in one sendmmsg; a packet
 * too big for its client earns a Packet Too Big written back into the TUN.
 * A decap worker takes batches from the raw socket with recvmmsg, checks
 * each with tun_6in4_decap and writes the inner packets into the TUN (a
 * TUN fd is not a socket: one write per packet), and turns ICMPv4
 * "fragmentation needed" about our packets into Packet Too Big.
 *
 * With the TUN's offloads (a virtio_net_hdr before every packet, see
 * tunnel/gso.h) the encap worker reads TCP super-packets of up to 64 KiB,
 * cuts them into segments straight into the sendmmsg batch and finishes
 * the checksums the kernel left; the decap worker merges the TCP runs of
 * a receive batch into super-packets, one write each (tunnel/worker
 * writes them). Each has its own epoll and an eventfd that stops it
 * (tunnel/worker's struct tun_thread); each counts into its own block. No lock on the packet path:
 * the snapshot protocol is in io_int.h.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sys/uio.h>

#include "common/log.h"
#include "tunnel/gso.h"
#include "tunnel/io_int.h"

/* per-thread scratch: batch buffers live in the thread, not on its stack
 * (a worker touches only its direction's part) */
struct wbuf {
    /* decap: the receive batch */
    uint8_t pkt[TUN_BATCH][TUN_SLOT];
    /* encap with offloads: one TUN read, and the segments of the batch */
    uint8_t rd[GSO_MAX_PACKET];
    uint8_t out[TUN_OUT_SLOTS][TUN_OUT_SLOT];
    size_t lens[TUN_OUT_SLOTS];
    /* the send batch (encap) or receive batch (decap) */
    struct mmsghdr msg[TUN_OUT_SLOTS];
    struct iovec iov[TUN_OUT_SLOTS];
    struct sockaddr_in to[TUN_OUT_SLOTS];
    const struct tun_client *who[TUN_OUT_SLOTS];
    /* decap: what goes into the TUN */
    struct gso_pkt gp[TUN_BATCH];
    struct tun_merge merge;
    uint8_t ptb[1280];
    /* where the TUN writes count */
    struct tun_wcount wc;
};
_Static_assert(TUN_BATCH <= GSO_COALESCE_MAX, "a receive batch fits one coalescing plan");
_Static_assert(TUN_BATCH <= TUN_OUT_SLOTS, "the message arrays hold a receive batch");

static inline void cstat_add(_Atomic uint64_t *c, uint64_t n)
{
    atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static struct tun_cstat *cstat_of(const struct tun_snap *s, const struct tun_client *c)
{
    if (!c || c->index >= s->n)
        return NULL;
    return s->cs[c->index];
}

/* one whole packet, behind an all-zero virtio header */
static void write_tun(struct tun_worker *w, struct wbuf *b, const uint8_t *p, size_t len)
{
    tun_write_pkt(w->tunfd, true, p, len, &b->wc);
}

static const struct in6_addr *ptb_source(const struct tun_snap *s, const struct tun_client *c)
{
    return s->server ? &c->server_address : &s->self;
}

/* IPv4 path MTU the kernel holds toward remote, or 0 */
static uint32_t path_mtu(struct in_addr remote)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(9), .sin_addr = remote};
    int mtu = 0;
    socklen_t len = sizeof(mtu);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        getsockopt(fd, IPPROTO_IP, IP_MTU, &mtu, &len) < 0)
        mtu = 0;
    close(fd);
    return mtu > 0 ? (uint32_t)mtu : 0;
}

/*
 * mtu-discovery = dynamic: once the kernel learnt a smaller path MTU from
 * an ICMPv4 (relayed then as a Packet Too Big to that packet's source),
 * it refuses bigger packets toward that remote with EMSGSIZE and no ICMPv4
 * comes again: the other sources learn the MTU from our Packet Too Big.
 */
static void pmtu_exceeded(struct tun_worker *w, struct wbuf *b, const struct tun_snap *s, size_t i)
{
    const struct tun_client *c = b->who[i];
    uint32_t mtu = path_mtu(c->remote);
    if (mtu <= TUN_IPV4_HDR_LEN)
        return;
    mtu -= TUN_IPV4_HDR_LEN;
    if (mtu < 1280)
        mtu = 1280;
    size_t n = tun_icmp6_ptb(b->ptb, sizeof(b->ptb), ptb_source(s, c), b->iov[i].iov_base,
                             b->iov[i].iov_len, mtu);
    if (n) {
        write_tun(w, b, b->ptb, n);
        tun_cnt_add(w->cnt, TC_PTB_SENT, 1);
    }
}

static void count_sent(struct tun_worker *w, struct wbuf *b, const struct tun_snap *s, size_t i)
{
    size_t len = b->iov[i].iov_len;
    tun_cnt_add(w->cnt, TC_ENCAP_PACKETS, 1);
    tun_cnt_add(w->cnt, TC_ENCAP_BYTES, len);
    struct tun_cstat *cs = cstat_of(s, b->who[i]);
    if (cs) {
        cstat_add(&cs->pkts_out, 1);
        cstat_add(&cs->bytes_out, len);
    }
}

struct send_ctx {
    struct tun_worker *w;
    struct tun_tunnel_fast *f;
    struct wbuf *b;
    const struct tun_snap *s;
};

static void on_sent(void *arg, size_t i)
{
    struct send_ctx *c = arg;
    count_sent(c->w, c->b, c->s, i);
}

/* EMSGSIZE when a dynamic PMTU shrank, ENOBUFS, EAGAIN on a full queue */
static void on_refused(void *arg, size_t i, int e)
{
    struct send_ctx *c = arg;
    struct wbuf *b = c->b;
    /* an IPv6 link must carry 1280 bytes: those go with DF clear */
    if (e == EMSGSIZE && c->f->fragfd >= 0 && b->iov[i].iov_len <= 1280 &&
        sendmsg(c->f->fragfd, &b->msg[i].msg_hdr, MSG_DONTWAIT) >= 0) {
        tun_cnt_add(c->w->cnt, TC_SENT_FRAGMENTABLE, 1);
        count_sent(c->w, b, c->s, i);
        return;
    }
    tun_cnt_add(c->w->cnt, TC_SEND_ERRORS, 1);
    struct tun_cstat *cs = cstat_of(c->s, b->who[i]);
    if (cs)
        cstat_add(&cs->drops_out, 1);
    if (e == EMSGSIZE)
        pmtu_exceeded(c->w, b, c->s, i);
}

static void send_batch(struct tun_worker *w, struct tun_tunnel_fast *f, struct wbuf *b,
                       const struct tun_snap *s, size_t m)
{
    struct send_ctx c = {.w = w, .f = f, .b = b, .s = s};
    tun_send_batch(f->rawfd, b->msg, m, on_sent, on_refused, &c);
}

static void queue_seg(struct wbuf *b, size_t m, const struct tun_client *who)
{
    b->to[m] = (struct sockaddr_in){.sin_family = AF_INET, .sin_addr = who->remote};
    b->iov[m] = (struct iovec){.iov_base = b->out[m], .iov_len = b->lens[m]};
    b->who[m] = who;
    b->msg[m] = (struct mmsghdr){
        .msg_hdr = {.msg_name = &b->to[m],
                    .msg_namelen = sizeof(b->to[m]),
                    .msg_iov = &b->iov[m],
                    .msg_iovlen = 1},
    };
}

/* a packet (or a super-packet's first segment, which stands for all) that
 * routing refused; a Packet Too Big when it is over its client's MTU */
static void encap_drop(struct tun_worker *w, struct wbuf *b, const struct tun_snap *s,
                       enum tun_drop d, const struct tun_client *who, const uint8_t *p, size_t len)
{
    tun_cnt_add(w->cnt, TC_DROP_BASE + (size_t)d, 1);
    if (d != TUN_D_TOO_BIG || !who)
        return;
    struct tun_cstat *cs = cstat_of(s, who);
    if (cs)
        cstat_add(&cs->drops_out, 1);
    size_t n = tun_icmp6_ptb(b->ptb, sizeof(b->ptb), ptb_source(s, who), p, len, who->mtu);
    if (n) {
        write_tun(w, b, b->ptb, n);
        tun_cnt_add(w->cnt, TC_PTB_SENT, 1);
    }
}

/*
 * One packet read from the TUN into b->rd: its segments appended to the
 * send batch at *m (sent first when the batch is full). The route is
 * asked about the whole packet, or about the first segment of a
 * super-packet: the MTU check must see what goes on the wire.
 */
static void encap_one(struct tun_worker *w, struct tun_tunnel_fast *f, struct wbuf *b,
                      const struct tun_snap *s, size_t len, size_t *m)
{
    struct gso_info gi;
    enum gso_reject g = gso_parse(b->rd, len, &gi);
    if (g != GSO_OK) {
        tun_cnt_add(w->cnt, TC_GSO_DROP_BASE + (size_t)g, 1);
        return;
    }
    const struct tun_client *who = NULL;
    enum tun_drop d;
    if (!gi.gso) {
        d = s ? tun_6in4_route(s->tab, gi.pkt, gi.len, &who) : TUN_D_NO_CLIENT;
        if (d != TUN_OK) {
            encap_drop(w, b, s, d, who, gi.pkt, gi.len);
            return;
        }
    } else if (!s) {
        tun_cnt_add(w->cnt, TC_DROP_BASE + TUN_D_NO_CLIENT, 1);
        return;
    }
    for (size_t first = 0; first < gi.segs;) {
        if (*m == TUN_OUT_SLOTS) {
            send_batch(w, f, b, s, *m);
            *m = 0;
        }
        size_t n;
        g = gso_segment(&gi, first, b->out[*m], TUN_OUT_SLOT, TUN_OUT_SLOTS - *m, b->lens + *m, &n);
        if (g != GSO_OK) {
            tun_cnt_add(w->cnt, TC_GSO_DROP_BASE + (size_t)g, 1);
            return;
        }
        if (gi.gso && first == 0) {
            d = tun_6in4_route(s->tab, b->out[*m], b->lens[*m], &who);
            if (d != TUN_OK) {
                encap_drop(w, b, s, d, who, b->out[*m], b->lens[*m]);
                return;
            }
        }
        for (size_t k = 0; k < n; k++)
            queue_seg(b, *m + k, who);
        *m += n;
        first += n;
    }
    if (gi.gso) {
        tun_cnt_add(w->cnt, TC_GSO_PACKETS, 1);
        tun_cnt_add(w->cnt, TC_GSO_SEGMENTS, gi.segs);
    } else if (gi.h.flags & GSO_F_NEEDS_CSUM) {
        tun_cnt_add(w->cnt, TC_CSUM_COMPLETED, 1);
    }
}

/* One batch from the TUN; false when the queue is empty (EAGAIN). */
static bool encap_batch(struct tun_worker *w, struct tun_tunnel_fast *f, struct wbuf *b)
{
    bool more = true;
    atomic_fetch_add(&w->seq, 1);
    const struct tun_snap *s = atomic_load(&f->snap);
    size_t m = 0;
    for (size_t reads = 0; reads < TUN_BATCH; reads++) {
        ssize_t r = read(w->tunfd, b->rd, sizeof(b->rd));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            more = false;
            break;
        }
        encap_one(w, f, b, s, (size_t)r, &m);
    }
    if (m)
        send_batch(w, f, b, s, m);
    atomic_fetch_add(&w->seq, 1);
    return more;
}

/* tun_6in4_decap names the client on the drops after the remote check */
static void count_decap_drop(struct tun_worker *w, const struct tun_snap *s, enum tun_drop d,
                             const struct tun_client *who)
{
    tun_cnt_add(w->cnt, TC_DROP_BASE + (size_t)d, 1);
    struct tun_cstat *cs = cstat_of(s, who);
    if (cs)
        cstat_add(&cs->drops_in, 1);
}

static bool decap_batch(struct tun_worker *w, struct tun_tunnel_fast *f, struct wbuf *b)
{
    for (size_t i = 0; i < TUN_BATCH; i++) {
        b->iov[i] = (struct iovec){.iov_base = b->pkt[i], .iov_len = TUN_SLOT};
        b->msg[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &b->iov[i], .msg_iovlen = 1}};
    }
    int n;
    do
        n = recvmmsg(f->rawfd, b->msg, TUN_BATCH, MSG_DONTWAIT, NULL);
    while (n < 0 && errno == EINTR);
    if (n <= 0)
        return false;
    atomic_fetch_add(&w->seq, 1);
    const struct tun_snap *s = atomic_load(&f->snap);
    size_t good = 0;
    for (int i = 0; i < n; i++) {
        const uint8_t *p = b->pkt[i];
        size_t len = b->msg[i].msg_len;
        if (b->msg[i].msg_hdr.msg_flags & MSG_TRUNC) {
            tun_cnt_add(w->cnt, TC_RX_TRUNCATED, 1);
            continue;
        }
        if (!s) {
            tun_cnt_add(w->cnt, TC_DROP_BASE + TUN_D_UNKNOWN_REMOTE, 1);
            continue;
        }
        const uint8_t *inner;
        size_t inner_len;
        const struct tun_client *who = NULL;
        enum tun_drop d = tun_6in4_decap(s->tab, s->local, p, len, &inner, &inner_len, &who);
        if (d != TUN_OK) {
            count_decap_drop(w, s, d, who);
            continue;
        }
        /* inner points into b->pkt[i], ours to rewrite */
        b->gp[good++] = (struct gso_pkt){.p = b->pkt[i] + (inner - p), .len = inner_len};
        tun_cnt_add(w->cnt, TC_DECAP_PACKETS, 1);
        tun_cnt_add(w->cnt, TC_DECAP_BYTES, inner_len);
        struct tun_cstat *cs = cstat_of(s, who);
        if (cs) {
            cstat_add(&cs->pkts_in, 1);
            cstat_add(&cs->bytes_in, inner_len);
        }
    }
    /* merged runs of TCP segments when the kernel takes them */
    if (good)
        tun_write_batch(w->tunfd, true, f->offload, b->gp, good, &b->merge, &b->wc);
    atomic_fetch_add(&w->seq, 1);
    return n == TUN_BATCH;
}

/* ICMPv4 type 3 code 4 (the raw socket hands us the IPv4 header first) */
static bool is_frag_needed(const uint8_t *p, size_t len)
{
    if (len < 20 || p[0] >> 4 != 4)
        return false;
    size_t ihl = (size_t)(p[0] & 0x0f) * 4;
    return ihl >= 20 && len >= ihl + 2 && p[ihl] == 3 && p[ihl + 1] == 4;
}

/* ICMPv4 errors about our encapsulated packets (RFC 4213 3.4) */
static bool icmp_one(struct tun_worker *w, struct tun_tunnel_fast *f, struct wbuf *b)
{
    ssize_t r;
    do
        r = recv(f->icmpfd, b->pkt[0], TUN_SLOT, MSG_DONTWAIT);
    while (r < 0 && errno == EINTR);
    if (r < 0)
        return false;
    atomic_fetch_add(&w->seq, 1);
    const struct tun_snap *s = atomic_load(&f->snap);
    struct tun_frag_needed fn;
    if (s && tun_icmp4_frag_needed(b->pkt[0], (size_t)r, s->local, &fn)) {
        const struct tun_client *c = tun_table_by_remote(s->tab, fn.remote);
        size_t n = 0;
        if (c && fn.have_inner)
            n = tun_icmp6_ptb(b->ptb, sizeof(b->ptb), ptb_source(s, c), fn.inner, fn.inner_len,
                              fn.mtu);
        if (n) {
            write_tun(w, b, b->ptb, n);
            tun_cnt_add(w->cnt, TC_PTB_RELAYED, 1);
        } else {
            tun_cnt_add(w->cnt, TC_ICMP4_IGNORED, 1);
        }
    } else if (is_frag_needed(b->pkt[0], (size_t)r))
        tun_cnt_add(w->cnt, TC_ICMP4_IGNORED, 1); /* about someone else's packet */
    /* any other ICMPv4 on this socket is not ours to count */
    atomic_fetch_add(&w->seq, 1);
    return true;
}

static void *worker_main(void *arg)
{
    struct tun_worker *w = arg;
    struct tun_tunnel_fast *f = w->f;
    struct wbuf *b = malloc(sizeof(*b));
    if (!b) {
        e6_err("tunnel worker: out of memory; this direction carries nothing");
        return NULL;
    }
    b->wc = (struct tun_wcount){.cnt = w->cnt,
                                .errors = TC_TUN_ERRORS,
                                .gro_packets = TC_GRO_PACKETS,
                                .gro_segments = TC_GRO_SEGMENTS};
    int ready[4];
    int n;
    while ((n = tun_thread_wait(&w->th, ready, 4, "tunnel worker")) >= 0) {
        for (int i = 0; i < n && !tun_thread_stopping(&w->th); i++) {
            int fd = ready[i];
            if (w->kind == TUN_W_ENCAP && fd == w->tunfd) {
                while (encap_batch(w, f, b) && !tun_thread_stopping(&w->th))
                    ;
            } else if (fd == f->rawfd) {
                while (decap_batch(w, f, b) && !tun_thread_stopping(&w->th))
                    ;
            } else if (fd == f->icmpfd) {
                for (int k = 0; k < TUN_BATCH && icmp_one(w, f, b); k++)
                    ;
            }
        }
    }
    free(b);
    return NULL;
}

int tun_worker_start(struct tun_worker *w, struct tun_tunnel_fast *f, char *err, size_t errlen)
{
    int fds[2];
    size_t n = 0;
    if (w->kind == TUN_W_ENCAP) {
        fds[n++] = w->tunfd;
    } else {
        fds[n++] = f->rawfd;
        if (f->icmpfd >= 0)
            fds[n++] = f->icmpfd;
    }
    w->f = f;
    atomic_store(&w->seq, 0);
    return tun_thread_start(&w->th, fds, n, worker_main, w, "tunnel worker", err, errlen);
}

void tun_worker_stop(struct tun_worker *w)
{
    tun_thread_stop(&w->th);
}

void tun_snap_synchronize(struct tun_worker *const *ws, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct tun_worker *w = ws[i];
        if (!w || !w->th.running)
            continue;
        uint64_t s = atomic_load(&w->seq);
        if (!(s & 1))
            continue; /* outside a batch: its next one loads the new snapshot */
        /* a batch never blocks (non-blocking fds, bounded size): short wait */
        struct timespec ts = {.tv_nsec = 50000};
        while (atomic_load(&w->seq) == s)
            nanosleep(&ts, NULL);
    }
}
