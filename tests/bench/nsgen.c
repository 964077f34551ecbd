/*
 * tests/bench/nsgen: a Neighbor Solicitation generator for the NDP proxy
 * benchmarks (ndp_rate.sh, ndp_scan.sh), run in the upstream router's
 * namespace. It sends NSs on an AF_PACKET socket, for targets taken from a
 * prefix (N distinct, sequential or random) or given one by one, paced at a
 * rate or flat out, for a count or a duration; a second packet socket with
 * a BPF filter hears the Neighbor Advertisements and matches them by target
 * (a hash table of the targets, the send time of each target's outstanding
 * NS beside it) for the share answered and the latency (CLOCK_MONOTONIC).
 * It prints one machine-readable line of key=value pairs.
 *
 * Benchmark tooling, not part of edge6d: it includes nothing of ours.
 */
#include "config.h"

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

#define NS_LEN   (14 + 40 + 24 + 8) /* Ethernet, IPv6, NS, SLLA option */
#define RX_BATCH 64
#define TX_BATCH 64

struct target {
    struct in6_addr addr;
    uint32_t head, count; /* outstanding NSs: ring[head .. head + count) */
};

struct gen {
    struct target *t;
    size_t n;
    uint32_t *slot; /* open addressing: index + 1, 0 empty */
    /*
     * Send times of each target's outstanding NSs, oldest first, ringsz a
     * target: with few targets asked fast an NS is often re-sent before
     * its answer is back, and answers come in order. When a ring is full
     * the oldest send is given up (counted unanswered).
     */
    uint64_t *ring;
    uint32_t ringsz;
    size_t mask;
    uint32_t *lat_us; /* one per answered NS */
    size_t n_lat, cap_lat;
    uint64_t sent, answered, late, unmatched, send_errors;
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static size_t addr_hash(const struct in6_addr *a)
{
    uint64_t x, y;
    memcpy(&x, a->s6_addr, 8);
    memcpy(&y, a->s6_addr + 8, 8);
    uint64_t h = x * 0x9e3779b97f4a7c15u ^ y;
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9u;
    return (size_t)(h ^ (h >> 32));
}

/* index of a, or SIZE_MAX; with add, inserts (returns SIZE_MAX - 1 if already there) */
static size_t lookup(struct gen *g, const struct in6_addr *a, bool add)
{
    for (size_t i = addr_hash(a) & g->mask;; i = (i + 1) & g->mask) {
        uint32_t s = g->slot[i];
        if (s == 0) {
            if (!add)
                return SIZE_MAX;
            g->t[g->n].addr = *a;
            g->t[g->n].head = g->t[g->n].count = 0;
            g->slot[i] = (uint32_t)++g->n;
            return g->n - 1;
        }
        if (memcmp(&g->t[s - 1].addr, a, sizeof(*a)) == 0)
            return add ? SIZE_MAX - 1 : s - 1;
    }
}

static uint16_t csum_fold(uint32_t s)
{
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

static uint32_t csum_add(uint32_t s, const uint8_t *p, size_t len)
{
    for (size_t i = 0; i + 1 < len; i += 2)
        s += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (len & 1)
        s += (uint32_t)p[len - 1] << 8;
    return s;
}

static void build_ns(uint8_t *f, const uint8_t *smac, const uint8_t *dmac,
                     const struct in6_addr *src, const struct in6_addr *target, bool unicast,
                     uint8_t hlim)
{
    struct in6_addr dst;
    if (unicast) {
        dst = *target;
    } else {
        static const uint8_t sn[13] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff};
        memcpy(dst.s6_addr, sn, 13);
        memcpy(dst.s6_addr + 13, target->s6_addr + 13, 3);
    }
    if (dmac)
        memcpy(f, dmac, 6);
    else {
        f[0] = 0x33;
        f[1] = 0x33;
        memcpy(f + 2, dst.s6_addr + 12, 4);
    }
    memcpy(f + 6, smac, 6);
    f[12] = 0x86;
    f[13] = 0xdd;
    uint8_t *ip = f + 14;
    memset(ip, 0, 40);
    ip[0] = 0x60;
    ip[4] = 0;
    ip[5] = 32; /* payload: NS 24 + SLLA 8 */
    ip[6] = 58;
    ip[7] = hlim;
    memcpy(ip + 8, src, 16);
    memcpy(ip + 24, &dst, 16);
    uint8_t *icmp = ip + 40;
    memset(icmp, 0, 32);
    icmp[0] = 135;
    memcpy(icmp + 8, target, 16);
    icmp[24] = 1;
    icmp[25] = 1;
    memcpy(icmp + 26, smac, 6);
    uint32_t s = csum_add(0, ip + 8, 32);
    s += 32 + 58;
    s = csum_add(s, icmp, 32);
    uint16_t c = csum_fold(s);
    icmp[2] = (uint8_t)(c >> 8);
    icmp[3] = (uint8_t)c;
}

static int mac_of(int fd, const char *ifname, uint8_t *mac)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
    if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
        return -errno;
    memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
    return 0;
}

static int parse_mac(const char *s, uint8_t *mac)
{
    unsigned v[6];
    if (sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
        return -1;
    for (int i = 0; i < 6; i++)
        mac[i] = (uint8_t)v[i];
    return 0;
}

static int parse_prefix(const char *s, struct in6_addr *a, unsigned *len)
{
    char buf[INET6_ADDRSTRLEN + 8];
    snprintf(buf, sizeof(buf), "%s", s);
    char *slash = strchr(buf, '/');
    *len = 128;
    if (slash) {
        *slash = 0;
        char *end;
        unsigned long l = strtoul(slash + 1, &end, 10);
        if (*end || l > 128)
            return -1;
        *len = (unsigned)l;
    }
    return inet_pton(AF_INET6, buf, a) == 1 ? 0 : -1;
}

/* NAs only: IPv6, next header ICMPv6 (no extension header), type 136 */
static int attach_na_filter(int fd)
{
    struct sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IPV6, 0, 5),
        BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 20),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 58, 0, 3),
        BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 54),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 136, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, 128),
        BPF_STMT(BPF_RET | BPF_K, 0),
    };
    struct sock_fprog prog = {.len = sizeof(code) / sizeof(code[0]), .filter = code};
    return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog));
}

static void drain(struct gen *g, int rx)
{
    struct mmsghdr m[RX_BATCH];
    struct iovec iov[RX_BATCH];
    static uint8_t buf[RX_BATCH][128];
    struct sockaddr_ll from[RX_BATCH];

    for (;;) {
        for (int i = 0; i < RX_BATCH; i++) {
            iov[i].iov_base = buf[i];
            iov[i].iov_len = sizeof(buf[i]);
            memset(&m[i].msg_hdr, 0, sizeof(m[i].msg_hdr));
            m[i].msg_hdr.msg_iov = &iov[i];
            m[i].msg_hdr.msg_iovlen = 1;
            m[i].msg_hdr.msg_name = &from[i];
            m[i].msg_hdr.msg_namelen = sizeof(from[i]);
        }
        int r = recvmmsg(rx, m, RX_BATCH, MSG_DONTWAIT, NULL);
        if (r <= 0)
            return;
        uint64_t t = now_ns();
        for (int i = 0; i < r; i++) {
            if (from[i].sll_pkttype == PACKET_OUTGOING || m[i].msg_len < 14 + 40 + 24)
                continue;
            struct in6_addr a;
            memcpy(&a, buf[i] + 14 + 40 + 8, 16);
            size_t k = lookup(g, &a, false);
            if (k == SIZE_MAX) {
                g->unmatched++;
                continue;
            }
            struct target *tg = &g->t[k];
            if (!tg->count) {
                g->late++; /* a second answer, or one after the NS was given up */
                continue;
            }
            uint64_t us = (t - g->ring[(size_t)k * g->ringsz + tg->head]) / 1000;
            tg->head = (tg->head + 1) % g->ringsz;
            tg->count--;
            g->answered++;
            if (g->n_lat == g->cap_lat) {
                size_t cap = g->cap_lat ? 2 * g->cap_lat : 65536;
                uint32_t *p = realloc(g->lat_us, cap * sizeof(*p));
                if (!p)
                    continue;
                g->lat_us = p;
                g->cap_lat = cap;
            }
            g->lat_us[g->n_lat++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
        }
        if (r < RX_BATCH)
            return;
    }
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: nsgen -i IF -s SRC TARGETS [options]\n"
               "targets (one of):\n"
               "  -p PREFIX -n N      N distinct targets in PREFIX (sequential from -o)\n"
               "  -r                  ... random instead of sequential (seed -S)\n"
               "  -t ADDR             one target (repeatable)\n"
               "  -f FILE             targets, one address a line\n"
               "options:\n"
               "  -o OFFSET           first sequential host number (1)\n"
               "  -x ADDR             never use ADDR as a random target (repeatable)\n"
               "  -R RATE             NS per second (0: flat out; default 1000)\n"
               "  -c COUNT            NSs to send, cycling over the targets (default: N)\n"
               "  -d SECONDS          stop sending after SECONDS (with or instead of -c)\n"
               "  -w MS               keep listening MS after the last NS (200)\n"
               "  -u MAC              unicast NS to the target via MAC (NUD) instead of\n"
               "                      the solicited-node group\n"
               "  -H HLIM             hop limit (255)\n"
               "  -k LABEL            label for the output line\n"
               "prints: nsgen label=.. targets=.. sent=.. answered=.. pct=.. rate=.. p50_us=..\n"
               "        p99_us=.. max_us=.. late=.. unmatched=.. send_errors=.. secs=..\n");
}

int main(int argc, char **argv)
{
    const char *ifname = NULL, *src_s = NULL, *prefix_s = NULL, *file = NULL, *label = "-";
    const char *umac_s = NULL;
    const char *tlist[64];
    const char *xlist[64];
    size_t nt = 0, nx = 0;
    unsigned long n = 0, count = 0, offset = 1;
    double rate = 1000, secs = 0;
    unsigned long wait_ms = 200, hlim = 255;
    bool randomize = false;
    uint64_t seed = 1;
    int c;

    while ((c = getopt(argc, argv, "i:s:p:n:rt:f:o:x:R:c:d:w:u:H:k:S:h")) != -1) {
        switch (c) {
        case 'i':
            ifname = optarg;
            break;
        case 's':
            src_s = optarg;
            break;
        case 'p':
            prefix_s = optarg;
            break;
        case 'n':
            n = strtoul(optarg, NULL, 0);
            break;
        case 'r':
            randomize = true;
            break;
        case 't':
            if (nt < 64)
                tlist[nt++] = optarg;
            break;
        case 'f':
            file = optarg;
            break;
        case 'o':
            offset = strtoul(optarg, NULL, 0);
            break;
        case 'x':
            if (nx < 64)
                xlist[nx++] = optarg;
            break;
        case 'R':
            rate = strtod(optarg, NULL);
            break;
        case 'c':
            count = strtoul(optarg, NULL, 0);
            break;
        case 'd':
            secs = strtod(optarg, NULL);
            break;
        case 'w':
            wait_ms = strtoul(optarg, NULL, 0);
            break;
        case 'u':
            umac_s = optarg;
            break;
        case 'H':
            hlim = strtoul(optarg, NULL, 0);
            break;
        case 'k':
            label = optarg;
            break;
        case 'S':
            seed = strtoull(optarg, NULL, 0);
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!ifname || !src_s || (!prefix_s && !nt && !file) || hlim > 255 ||
        (prefix_s && (n == 0 || n > 100000000ul))) {
        usage(stderr);
        return 2;
    }
    struct in6_addr src;
    if (inet_pton(AF_INET6, src_s, &src) != 1) {
        fprintf(stderr, "nsgen: bad source %s\n", src_s);
        return 2;
    }
    uint8_t umac[6];
    if (umac_s && parse_mac(umac_s, umac) < 0) {
        fprintf(stderr, "nsgen: bad MAC %s\n", umac_s);
        return 2;
    }

    /* the target table: capacity for everything asked, a power-of-2 index twice as big */
    size_t cap = n + nt;
    FILE *fl = NULL;
    if (file) {
        fl = fopen(file, "r");
        if (!fl) {
            fprintf(stderr, "nsgen: %s: %s\n", file, strerror(errno));
            return 1;
        }
        char line[128];
        while (fgets(line, sizeof(line), fl))
            cap++;
        rewind(fl);
    }
    struct gen g;
    memset(&g, 0, sizeof(g));
    size_t slots = 16;
    while (slots < 2 * cap)
        slots <<= 1;
    g.t = calloc(cap ? cap : 1, sizeof(*g.t));
    g.slot = calloc(slots, sizeof(*g.slot));
    g.mask = slots - 1;
    if (!g.t || !g.slot) {
        fprintf(stderr, "nsgen: out of memory\n");
        return 1;
    }
    struct in6_addr a;
    for (size_t i = 0; i < nt; i++) {
        if (inet_pton(AF_INET6, tlist[i], &a) != 1) {
            fprintf(stderr, "nsgen: bad target %s\n", tlist[i]);
            return 2;
        }
        lookup(&g, &a, true);
    }
    if (fl) {
        char line[128];
        while (fgets(line, sizeof(line), fl)) {
            line[strcspn(line, " \t\r\n")] = 0;
            if (!line[0])
                continue;
            if (inet_pton(AF_INET6, line, &a) != 1) {
                fprintf(stderr, "nsgen: bad target %s in %s\n", line, file);
                return 2;
            }
            lookup(&g, &a, true);
        }
        fclose(fl);
    }
    if (prefix_s) {
        struct in6_addr base;
        unsigned plen;
        if (parse_prefix(prefix_s, &base, &plen) < 0 || plen < 64 || plen > 126) {
            fprintf(stderr, "nsgen: bad prefix %s (/64../126)\n", prefix_s);
            return 2;
        }
        uint64_t host_bits = 128 - plen;
        uint64_t span = host_bits >= 64 ? UINT64_MAX : (1ull << host_bits) - 1;
        if (!randomize && offset + n - 1 > span) {
            fprintf(stderr, "nsgen: %lu targets from %lu do not fit in %s\n", n, offset, prefix_s);
            return 2;
        }
        if (randomize && n > span / 2) {
            fprintf(stderr, "nsgen: %lu random targets need a larger prefix than %s\n", n,
                    prefix_s);
            return 2;
        }
        struct in6_addr excl[64];
        for (size_t i = 0; i < nx; i++)
            if (inet_pton(AF_INET6, xlist[i], &excl[i]) != 1) {
                fprintf(stderr, "nsgen: bad -x %s\n", xlist[i]);
                return 2;
            }
        uint64_t hi;
        memcpy(&hi, base.s6_addr + 8, 8);
        hi = be64toh(hi);
        uint64_t netmask = host_bits >= 64 ? 0 : ~((1ull << host_bits) - 1);
        size_t want = g.n + n;
        uint64_t k = offset;
        while (g.n < want) {
            uint64_t h = randomize ? (splitmix(&seed) & span) : k++;
            if (h == 0)
                continue;
            uint64_t low = htobe64((hi & netmask) | h);
            a = base;
            memcpy(a.s6_addr + 8, &low, 8);
            bool skip = false;
            for (size_t i = 0; i < nx && !skip; i++)
                skip = memcmp(&excl[i], &a, 16) == 0;
            if (!skip)
                lookup(&g, &a, true);
        }
    }
    if (g.n == 0) {
        fprintf(stderr, "nsgen: no targets\n");
        return 2;
    }
    if (!count && secs <= 0)
        count = g.n;
    g.ringsz = g.n <= 65536 ? 16 : 1;
    g.ring = calloc(g.n * g.ringsz, sizeof(*g.ring));
    if (!g.ring) {
        fprintf(stderr, "nsgen: out of memory\n");
        return 1;
    }

    int tx = socket(AF_PACKET, SOCK_RAW, 0);
    int rx = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_IPV6));
    if (tx < 0 || rx < 0) {
        perror("nsgen: socket");
        return 1;
    }
    unsigned ifindex = if_nametoindex(ifname);
    if (!ifindex) {
        fprintf(stderr, "nsgen: no interface %s\n", ifname);
        return 1;
    }
    uint8_t smac[6];
    if (mac_of(tx, ifname, smac) < 0) {
        perror("nsgen: SIOCGIFHWADDR");
        return 1;
    }
    int one = 1, big = 1 << 25;
    setsockopt(rx, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
    setsockopt(rx, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
    setsockopt(tx, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big));
    if (attach_na_filter(rx) < 0) {
        perror("nsgen: SO_ATTACH_FILTER");
        return 1;
    }
    struct sockaddr_ll sll;
    memset(&sll, 0, sizeof(sll));
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_IPV6);
    sll.sll_ifindex = (int)ifindex;
    if (bind(rx, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
        perror("nsgen: bind");
        return 1;
    }
    sll.sll_protocol = 0;
    if (bind(tx, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
        perror("nsgen: bind");
        return 1;
    }
    drain(&g, rx); /* whatever was queued before the start */
    g.answered = g.late = g.unmatched = 0;
    g.n_lat = 0;

    static uint8_t frames[TX_BATCH][NS_LEN];
    struct iovec iov[TX_BATCH];
    struct mmsghdr mm[TX_BATCH];
    uint64_t t0 = now_ns();
    uint64_t end = secs > 0 ? t0 + (uint64_t)(secs * 1e9) : UINT64_MAX;
    size_t next = 0;
    for (;;) {
        uint64_t t = now_ns();
        if (t >= end || (count && g.sent >= count))
            break;
        uint64_t due = rate > 0 ? (uint64_t)((double)(t - t0) * rate / 1e9) + 1 : g.sent + TX_BATCH;
        if (count && due > count)
            due = count;
        if (due <= g.sent) {
            /* ahead of the pace: listen until the next NS is due */
            uint64_t at = t0 + (uint64_t)((double)g.sent * 1e9 / rate);
            drain(&g, rx);
            uint64_t now = now_ns();
            if (at > now + 100000) {
                struct timespec ts = {0, (long)(at - now - 50000)};
                struct pollfd p = {.fd = rx, .events = POLLIN};
                ppoll(&p, 1, &ts, NULL);
            }
            continue;
        }
        unsigned k = 0;
        while (g.sent + k < due && k < TX_BATCH) {
            struct target *tg = &g.t[next];
            build_ns(frames[k], smac, umac_s ? umac : NULL, &src, &tg->addr, umac_s != NULL,
                     (uint8_t)hlim);
            iov[k].iov_base = frames[k];
            iov[k].iov_len = NS_LEN;
            memset(&mm[k].msg_hdr, 0, sizeof(mm[k].msg_hdr));
            mm[k].msg_hdr.msg_iov = &iov[k];
            mm[k].msg_hdr.msg_iovlen = 1;
            uint64_t *ring = g.ring + (size_t)next * g.ringsz;
            if (tg->count == g.ringsz) { /* the oldest is given up */
                tg->head = (tg->head + 1) % g.ringsz;
                tg->count--;
            }
            ring[(tg->head + tg->count) % g.ringsz] = now_ns();
            tg->count++;
            next = next + 1 == g.n ? 0 : next + 1;
            k++;
        }
        unsigned done = 0;
        while (done < k) {
            int r = sendmmsg(tx, mm + done, k - done, 0);
            if (r < 0) {
                if (errno == ENOBUFS || errno == EAGAIN) {
                    drain(&g, rx);
                    struct pollfd p = {.fd = tx, .events = POLLOUT};
                    poll(&p, 1, 1);
                    continue;
                }
                g.send_errors += k - done;
                break;
            }
            done += (unsigned)r;
        }
        g.sent += k;
        drain(&g, rx);
    }
    uint64_t t_sent = now_ns();
    uint64_t stop = t_sent + wait_ms * 1000000ull;
    for (;;) {
        drain(&g, rx);
        uint64_t t = now_ns();
        if (t >= stop)
            break;
        struct pollfd p = {.fd = rx, .events = POLLIN};
        int ms = (int)((stop - t) / 1000000) + 1;
        poll(&p, 1, ms > 50 ? 50 : ms);
    }

    double dur = (double)(t_sent - t0) / 1e9;
    uint32_t p50 = 0, p99 = 0, pmax = 0;
    if (g.n_lat) {
        qsort(g.lat_us, g.n_lat, sizeof(*g.lat_us), cmp_u32);
        p50 = g.lat_us[(g.n_lat - 1) / 2];
        p99 = g.lat_us[(size_t)((double)(g.n_lat - 1) * 0.99)];
        pmax = g.lat_us[g.n_lat - 1];
    }
    printf("nsgen label=%s targets=%zu sent=%" PRIu64 " answered=%" PRIu64 " pct=%.3f rate=%.0f "
           "want_rate=%.0f p50_us=%u p99_us=%u max_us=%u late=%" PRIu64 " unmatched=%" PRIu64
           " send_errors=%" PRIu64 " secs=%.3f\n",
           label, g.n, g.sent, g.answered, g.sent ? 100.0 * (double)g.answered / (double)g.sent : 0,
           dur > 0 ? (double)g.sent / dur : 0, rate, p50, p99, pmax, g.late, g.unmatched,
           g.send_errors, dur);
    fflush(stdout);
    free(g.lat_us);
    free(g.ring);
    free(g.t);
    free(g.slot);
    close(tx);
    close(rx);
    return 0;
}
