/*
 * tests/fuzz/fuzz_sixin4: the 6in4 decisions (tunnel/sixin4.h) on arbitrary
 * bytes against a fixed table of clients with overlapping prefixes. Input:
 * a flags byte, a client-pick byte, then a packet. The flags patch the
 * packet so the fuzzer gets past the cheap checks: outer destination =
 * local, outer source = the picked client's remote, a good ICMPv4 checksum,
 * quoted source = local. The packet goes through decapsulation, routing,
 * ICMPv4 frag-needed reading and Packet Too Big building, and whatever
 * comes back is checked: pointers inside the input, lengths consistent,
 * every PTB a valid IPv6 packet of at most 1280 bytes with a good checksum.
 * A violation aborts.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include "common/addr.h"
#include "common/bytes.h"
#include "common/ip6.h"
#include "tunnel/sixin4.h"

#define LOCAL_V4 "192.0.2.1"

static struct tun_table *table;
static struct in_addr local;

static void check(int ok)
{
    if (!ok)
        abort();
}

static void add_client(struct conf_tunnel_client *c, const char *name, const char *remote,
                       const char *addr, unsigned plen, struct e6_prefix *routed, size_t n_routed,
                       unsigned mtu)
{
    c->name = (char *)name;
    check(inet_pton(AF_INET, remote, &c->remote) == 1);
    check(e6_addr_parse(addr, &c->client_address));
    c->client_plen = (uint8_t)plen;
    c->routed = routed;
    c->n_routed = n_routed;
    c->mtu = mtu;
}

static void setup(void)
{
    static struct e6_prefix r0[2], r1[1];
    static struct conf_tunnel_client cl[4];
    static struct conf_tunnel ct;
    check(e6_prefix_parse("2001:db8:1000::/48", true, &r0[0], NULL, 0));
    check(e6_prefix_parse("2001:db8:3000::/56", true, &r0[1], NULL, 0));
    check(e6_prefix_parse("2001:db8:1000:5::/64", true, &r1[0], NULL, 0));
    add_client(&cl[0], "alice", "192.0.2.10", "2001:db8:100::2", 64, r0, 2, 0);
    add_client(&cl[1], "bob", "192.0.2.20", "2001:db8:101::2", 64, r1, 1, 1400);
    add_client(&cl[2], "carol", "198.51.100.30", "2001:db8:1000:5::10", 127, NULL, 0, 1280);
    add_client(&cl[3], "dave", "198.51.100.40", "2001:db8:1000:6::2", 64, NULL, 0, 0);
    ct.name = (char *)"tun6";
    ct.type = CONF_TUNNEL_6IN4;
    ct.mode = CONF_TUN_SERVER;
    check(inet_pton(AF_INET, LOCAL_V4, &ct.local) == 1);
    local = ct.local;
    ct.ttl = 64;
    ct.mtu = 1480;
    ct.clients = cl;
    ct.n_clients = 4;
    table = tun_table_build(&ct, NULL, 0);
    check(table != NULL);
}

static uint16_t sum16(const uint8_t *p, size_t n)
{
    uint32_t s = 0;
    for (size_t i = 0; i < n; i++)
        s += i & 1 ? p[i] : (uint32_t)p[i] << 8;
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

static void check_ptb(const uint8_t *out, size_t n, size_t cap, const uint8_t *pkt, size_t len)
{
    if (!n)
        return;
    check(n <= 1280 && n >= 88);
    struct e6_ip6_pkt p;
    check(e6_ip6_parse(out, n, &p) == E6_IP6_OK);
    check(p.pkt_len == n && p.proto == E6_IPPROTO_ICMPV6 && p.payload_len == n - 40);
    check(p.payload[0] == 2 && p.payload[1] == 0);
    check(e6_ip6_icmp6_cksum_ok(&p.hdr.src, &p.hdr.dst, p.payload, p.payload_len));
    check(memcmp(&p.hdr.dst, pkt + 8, 16) == 0);
    check(!e6_addr_is_multicast(&p.hdr.dst) && !e6_addr_is_unspecified(&p.hdr.dst));
    size_t quote = n - 48;
    check(quote <= len && memcmp(p.payload + 8, pkt, quote) == 0);
    check(quote == len || n == (cap < 1280 ? cap : 1280));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!table)
        setup();
    if (size < 2)
        return 0;
    uint8_t flags = data[0];
    const struct tun_client *pick = tun_table_at(table, data[1] % tun_table_count(table));
    size_t len = size - 2;
    uint8_t *pkt = malloc(len ? len : 1);
    check(pkt != NULL);
    memcpy(pkt, data + 2, len);

    if ((flags & 1) && len >= 20)
        memcpy(pkt + 16, &local.s_addr, 4);
    if ((flags & 2) && len >= 20)
        memcpy(pkt + 12, &pick->remote.s_addr, 4);
    if (len >= 20) {
        size_t ihl = (size_t)(pkt[0] & 15) * 4;
        size_t tot = e6_get16(pkt + 2);
        if ((flags & 8) && ihl + 8 + 20 <= len)
            memcpy(pkt + ihl + 8 + 12, &local.s_addr, 4);
        if ((flags & 4) && ihl >= 20 && tot >= ihl + 4 && tot <= len) {
            e6_put16(pkt + ihl + 2, 0);
            e6_put16(pkt + ihl + 2, sum16(pkt + ihl, tot - ihl));
        }
    }

    /* decapsulation */
    const uint8_t *inner = NULL;
    size_t inner_len = 0;
    const struct tun_client *who = NULL;
    enum tun_drop d = tun_6in4_decap(table, local, pkt, len, &inner, &inner_len, &who);
    check(d < TUN_D__COUNT && tun_drop_name(d) != NULL);
    if (d == TUN_OK) {
        check(who != NULL && inner >= pkt + 20 && inner_len >= 40);
        check(inner + inner_len <= pkt + len);
        check(inner[0] >> 4 == 6 && (size_t)e6_get16(inner + 4) + 40 == inner_len);
        struct in6_addr src;
        memcpy(&src, inner + 8, 16);
        check(tun_table_may_send(table, who, &src));
        check(tun_table_by_remote(table, who->remote) == who);
        /* the decapsulated packet routed back: to a client or nobody, never a crash */
        const struct tun_client *to = NULL;
        d = tun_6in4_route(table, inner, inner_len, &to);
        check(d == TUN_OK || d == TUN_D_NO_CLIENT || d == TUN_D_TOO_BIG);
    }

    /* routing */
    who = NULL;
    d = tun_6in4_route(table, pkt, len, &who);
    check(d < TUN_D__COUNT);
    if (d == TUN_OK || d == TUN_D_TOO_BIG) {
        check(who != NULL && len >= 40);
        struct in6_addr dst;
        memcpy(&dst, pkt + 24, 16);
        check(tun_table_by_dst(table, &dst) == who);
        check(d == TUN_OK ? len <= who->mtu : len > who->mtu);
    } else {
        check(who == NULL);
    }

    /* Packet Too Big about the packet as an IPv6 one, into a buffer of a fuzzed size */
    static uint8_t out[1400];
    size_t cap = flags & 0x10 ? sizeof(out) : (size_t)(flags >> 5) * 40;
    uint8_t *o = malloc(cap ? cap : 1);
    check(o != NULL);
    size_t n = tun_icmp6_ptb(o, cap, &pick->server_address, pkt, len, pick->mtu);
    check(n <= cap);
    check_ptb(o, n, cap, pkt, len);
    free(o);

    /* ICMPv4 frag-needed, and the PTB it leads to */
    struct tun_frag_needed fn;
    if (tun_icmp4_frag_needed(pkt, len, local, &fn)) {
        check(fn.mtu >= 1280 && fn.mtu <= 65535);
        if (fn.have_inner) {
            check(fn.inner > pkt && fn.inner_len >= 40 && fn.inner + fn.inner_len <= pkt + len);
            check(memcmp(&fn.inner_src, fn.inner + 8, 16) == 0);
            n = tun_icmp6_ptb(out, sizeof(out), &pick->server_address, fn.inner, fn.inner_len,
                              fn.mtu);
            check_ptb(out, n, sizeof(out), fn.inner, fn.inner_len);
        } else {
            check(fn.inner == NULL && fn.inner_len == 0);
        }
    }
    free(pkt);
    return 0;
}
