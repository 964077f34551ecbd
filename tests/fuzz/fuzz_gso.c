/*
 * tests/fuzz/fuzz_gso: the TUN offload helpers (tunnel/gso.h) on arbitrary
 * bytes. Input: a mode byte, then data.
 *
 * Mode bit 0 clear: the data is what a TUN read returns (virtio header +
 * packet). gso_parse and gso_segment must stay inside the buffers; every
 * segment of a super-packet must be an IPv6 TCP packet whose length field
 * matches, whose checksum verifies, whose sequence number advances by
 * gso_size, and whose payloads, laid end to end, are the original's.
 *
 * Mode bit 0 set: the data is a list of packets (2-byte length, bytes),
 * the inner packets of one receive batch; bit 1 set fixes each one's TCP
 * checksum first so the fuzzer gets past that check. The plan must use
 * every packet exactly once, in increasing order within an output and
 * with heads in increasing order; every super-packet built must parse,
 * and segment back into exactly its packets.
 * A violation aborts.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/ip6.h"
#include "tunnel/gso.h"

#define SLOT     2048
#define MAX_SEGS 64

static uint8_t segs[MAX_SEGS * SLOT];
static size_t lens[MAX_SEGS];
static uint8_t pkts[GSO_COALESCE_MAX][SLOT];
static uint8_t orig[GSO_COALESCE_MAX][SLOT];
static uint8_t super[GSO_MAX_PACKET];
static uint8_t segs2[GSO_COALESCE_MAX * SLOT];

static void check(int ok)
{
    if (!ok)
        abort();
}

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static bool tcp_ok(const uint8_t *p, size_t len)
{
    struct in6_addr s, d;
    memcpy(&s, p + 8, 16);
    memcpy(&d, p + 24, 16);
    return e6_ip6_cksum(&s, &d, 6, p + 40, len - 40) == 0;
}

static void fuzz_segment(const uint8_t *data, size_t size)
{
    struct gso_info gi;
    if (gso_parse(data, size, &gi) != GSO_OK)
        return;
    check(gi.pkt == data + GSO_VNET_HDR_LEN && gi.len == size - GSO_VNET_HDR_LEN);
    size_t hl = 40 + gi.thlen, off = 0, n;
    uint32_t seq0 = gi.gso ? rd32(gi.pkt + 44) : 0;
    for (size_t first = 0; first < gi.segs; first += n) {
        enum gso_reject r = gso_segment(&gi, first, segs, SLOT, MAX_SEGS, lens, &n);
        if (r == GSO_R_SEG_ROOM) {
            check(gi.seglen > SLOT);
            return;
        }
        check(r == GSO_OK && n >= 1 && n <= MAX_SEGS && first + n <= gi.segs);
        if (!gi.gso) {
            check(n == 1 && lens[0] == gi.len);
            return;
        }
        for (size_t j = 0; j < n; j++) {
            size_t i = first + j;
            const uint8_t *s = segs + j * SLOT;
            check(lens[j] > hl && lens[j] <= gi.seglen && 40 + (size_t)rd16(s + 4) == lens[j]);
            check(rd32(s + 44) == seq0 + (uint32_t)off);
            check(memcmp(s + hl, gi.pkt + hl + off, lens[j] - hl) == 0);
            check(tcp_ok(s, lens[j]));
            if (i + 1 < gi.segs)
                check(lens[j] == gi.seglen && !(s[53] & 0x09));
            if (i > 0)
                check(!(s[53] & 0x80));
            off += lens[j] - hl;
        }
    }
    check(off == gi.len - hl);
}

static void fix_tcp(uint8_t *p, size_t len)
{
    if (len < 60 || p[6] != 6)
        return;
    struct in6_addr s, d;
    memcpy(&s, p + 8, 16);
    memcpy(&d, p + 24, 16);
    p[56] = p[57] = 0;
    uint16_t c = e6_ip6_cksum(&s, &d, 6, p + 40, len - 40);
    p[56] = (uint8_t)(c >> 8);
    p[57] = (uint8_t)c;
}

static void fuzz_coalesce(uint8_t mode, const uint8_t *data, size_t size)
{
    struct gso_pkt pk[GSO_COALESCE_MAX];
    size_t n = 0;
    while (n < GSO_COALESCE_MAX && size >= 2) {
        size_t l = rd16(data) % SLOT;
        data += 2;
        size -= 2;
        if (l > size)
            l = size;
        memcpy(pkts[n], data, l);
        if (mode & 2)
            fix_tcp(pkts[n], l);
        memcpy(orig[n], pkts[n], l);
        pk[n] = (struct gso_pkt){.p = pkts[n], .len = l};
        data += l;
        size -= l;
        n++;
    }
    struct gso_plan pl;
    gso_coalesce_plan(pk, n, &pl);
    bool seen[GSO_COALESCE_MAX] = {false};
    size_t total = 0;
    for (size_t o = 0; o < pl.n_out; o++) {
        check(pl.head[o] < n && (o == 0 || pl.head[o] > pl.head[o - 1]));
        size_t c = 0;
        int prev = -1;
        for (uint16_t i = pl.head[o]; i != GSO_END; i = pl.next[i], c++) {
            check(i < n && !seen[i] && (int)i > prev);
            seen[i] = true;
            prev = i;
        }
        check(c == pl.count[o]);
        total += c;
    }
    check(total == n);
    for (size_t o = 0; o < pl.n_out; o++) {
        struct gso_vnet_hdr h;
        struct iovec iov[GSO_COALESCE_MAX + 1];
        size_t k = gso_coalesce_build(&pl, o, pk, &h, iov, GSO_COALESCE_MAX + 1);
        check(k == (size_t)pl.count[o] + 1);
        size_t len = 0;
        for (size_t i = 0; i < k; i++) {
            check(len + iov[i].iov_len <= sizeof(super));
            memcpy(super + len, iov[i].iov_base, iov[i].iov_len);
            len += iov[i].iov_len;
        }
        if (pl.count[o] == 1)
            continue;
        struct gso_info gi;
        check(gso_parse(super, len, &gi) == GSO_OK && gi.gso);
        size_t m;
        check(gso_segment(&gi, 0, segs2, SLOT, GSO_COALESCE_MAX, lens, &m) == GSO_OK);
        check(m == pl.count[o]);
        size_t s = 0;
        /* byte for byte but the checksum: 0 and 0xffff are the same sum */
        for (uint16_t i = pl.head[o]; i != GSO_END; i = pl.next[i], s++) {
            const uint8_t *g = segs2 + s * SLOT;
            check(lens[s] == pk[i].len && memcmp(g, orig[i], 56) == 0 &&
                  memcmp(g + 58, orig[i] + 58, pk[i].len - 58) == 0 && tcp_ok(g, lens[s]));
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (data[0] & 1)
        fuzz_coalesce(data[0], data + 1, size - 1);
    else
        fuzz_segment(data + 1, size - 1);
    return 0;
}
