/*
 * tests/unit/test_sixin4: the 6in4 decisions (tunnel/sixin4.h) on tables
 * built from hand-made config structs and on crafted packets: the table in
 * both modes and its longest-prefix match, anti-spoofing, every drop of
 * decapsulation and routing, the Packet Too Big bytes (checked against a
 * golden packet computed independently) and the reading of ICMPv4
 * "fragmentation needed". A micro benchmark of the lookup with 10,000
 * clients is printed, not asserted.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "common/addr.h"
#include "common/bytes.h"
#include "common/ip6.h"
#include "tunnel/sixin4.h"

/* ---- helpers ----------------------------------------------------------------- */

static struct in6_addr A6(const char *s) {
    struct in6_addr a;
    assert_true(e6_addr_parse(s, &a));
    return a;
}

static struct in_addr
A4(const char *s) {
    struct in_addr a;
    assert_int_equal(inet_pton(AF_INET, s, &a), 1);
    return a;
}

static struct e6_prefix
P(const char *s) {
    struct e6_prefix p;
    assert_true(e6_prefix_parse(s, true, &p, NULL, 0));
    return p;
}

static const char *
name_of(const struct tun_client *c)
{
    return c ? c->name : "(none)";
}

static void assert_dst(const struct tun_table *t, const char *dst, const char *want)
{
    struct in6_addr a = A6(dst);
    const struct tun_client *c = tun_table_by_dst(t, &a);
    if (!want) {
        if (c)
            fail_msg("%s: got %s, want none", dst, c->name);
        return;
    }
    if (!c || strcmp(c->name, want) != 0)
        fail_msg("%s: got %s, want %s", dst, name_of(c), want);
}

/*
 * The server fixture. Overlaps conf/ would refuse are here on purpose, to
 * see the longest match win: alice routes a /48, bob a /64 inside it, carol's
 * link /127 sits in bob's /64, dave's link /64 in alice's /48.
 */
static struct e6_prefix alice_routed[2], bob_routed[1];
static struct conf_tunnel_client fx_clients[4];
static struct conf_tunnel fx_server;

static void client_set(struct conf_tunnel_client *c, const char *name, const char *remote,
                       const char *addr, unsigned plen, struct e6_prefix *routed, size_t n_routed,
                       unsigned mtu)
{
    memset(c, 0, sizeof(*c));
    c->name = (char *)name;
    c->remote = A4(remote);
    c->client_address = A6(addr);
    c->client_plen = (uint8_t)plen;
    c->routed = routed;
    c->n_routed = n_routed;
    c->mtu = mtu;
}

static const struct conf_tunnel *server_conf(void)
{
    alice_routed[0] = P("2001:db8:1000::/48");
    alice_routed[1] = P("2001:db8:3000::/56");
    bob_routed[0] = P("2001:db8:1000:5::/64");
    client_set(&fx_clients[0], "alice", "192.0.2.10", "2001:db8:100::2", 64, alice_routed, 2, 0);
    client_set(&fx_clients[1], "bob", "192.0.2.20", "2001:db8:101::2", 64, bob_routed, 1, 1400);
    client_set(&fx_clients[2], "carol", "198.51.100.30", "2001:db8:1000:5::10", 127, NULL, 0, 0);
    client_set(&fx_clients[3], "dave", "198.51.100.40", "2001:db8:1000:6::2", 64, NULL, 0, 0);
    fx_clients[3].server_address = A6("2001:db8:1000:6::fe");
    memset(&fx_server, 0, sizeof(fx_server));
    fx_server.name = (char *)"tun6";
    fx_server.type = CONF_TUNNEL_6IN4;
    fx_server.mode = CONF_TUN_SERVER;
    fx_server.local = A4("192.0.2.1");
    fx_server.ttl = 64;
    fx_server.mtu = 1480;
    fx_server.clients = fx_clients;
    fx_server.n_clients = 4;
    return &fx_server;
}

static struct tun_table *server_table(void)
{
    char err[128] = "";
    struct tun_table *t = tun_table_build(server_conf(), err, sizeof(err));
    if (!t)
        fail_msg("build: %s", err);
    return t;
}

static struct conf_tunnel fx_client;

static const struct conf_tunnel *client_conf(void)
{
    memset(&fx_client, 0, sizeof(fx_client));
    fx_client.name = (char *)"he0";
    fx_client.type = CONF_TUNNEL_6IN4;
    fx_client.mode = CONF_TUN_CLIENT;
    fx_client.local = A4("198.51.100.7");
    fx_client.remote = A4("203.0.113.1");
    fx_client.client_address = A6("2001:db8:200::2");
    fx_client.client_plen = 64;
    fx_client.mtu = 1480;
    fx_client.default_route = true;
    return &fx_client;
}

/* ---- packets ----------------------------------------------------------------- */

#define LOCAL "192.0.2.1"

/* an IPv6 packet of 40 + plen bytes (payload bytes 0xa5) */
static size_t ip6_pkt(uint8_t *b, const char *src, const char *dst, uint8_t nh, size_t plen)
{
    memset(b, 0, E6_IP6_HDR_LEN);
    b[0] = 0x60;
    e6_put16(b + 4, (uint16_t)plen);
    b[6] = nh;
    b[7] = 64;
    struct in6_addr s = A6(src), d = A6(dst);
    memcpy(b + 8, &s, 16);
    memcpy(b + 24, &d, 16);
    memset(b + E6_IP6_HDR_LEN, 0xa5, plen);
    return E6_IP6_HDR_LEN + plen;
}

/* RFC 1071, written again here so the code under test is not its own judge */
static uint16_t sum16(const uint8_t *p, size_t n)
{
    uint32_t s = 0;
    for (size_t i = 0; i < n; i++)
        s += i & 1 ? p[i] : (uint32_t)p[i] << 8;
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

/*
 * An IPv4 header of ihl 32-bit words (options 0x01, NOP) before payload
 * (copied in), total length = header + payload; returns the length.
 */
static size_t ip4_wrap(uint8_t *b, unsigned ihl, uint8_t proto, const char *src, const char *dst,
                       const uint8_t *payload, size_t plen)
{
    size_t h = ihl * 4;
    memset(b, 0, 20);
    memset(b + 20, 1, h > 20 ? h - 20 : 0);
    b[0] = (uint8_t)(0x40 | ihl);
    e6_put16(b + 2, (uint16_t)(h + plen));
    e6_put16(b + 6, 0x4000); /* DF */
    b[8] = 64;
    b[9] = proto;
    struct in_addr s = A4(src), d = A4(dst);
    memcpy(b + 12, &s, 4);
    memcpy(b + 16, &d, 4);
    e6_put16(b + 10, sum16(b, h));
    memmove(b + h, payload, plen);
    return h + plen;
}

/* a 6in4 packet from remote carrying a 48-byte IPv6 packet from src */
static size_t encap(uint8_t *b, const char *remote, const char *src, const char *dst)
{
    uint8_t in[256];
    size_t n = ip6_pkt(in, src, dst, 17, 8);
    return ip4_wrap(b, 5, TUN_6IN4_PROTO, remote, LOCAL, in, n);
}

static enum tun_drop decap(const struct tun_table *t, const uint8_t *b, size_t n)
{
    const uint8_t *inner = NULL;
    size_t inner_len = 0;
    const struct tun_client *who = NULL;
    return tun_6in4_decap(t, A4(LOCAL), b, n, &inner, &inner_len, &who);
}

/* ---- table ------------------------------------------------------------------- */

static void test_table_server(void **state)
{
    (void)state;
    struct tun_table *t = server_table();
    assert_true(tun_table_is_server(t));
    assert_int_equal(tun_table_count(t), 4);
    const char *names[] = {"alice", "bob", "carol", "dave"};
    for (size_t i = 0; i < 4; i++) {
        const struct tun_client *c = tun_table_at(t, i);
        assert_non_null(c);
        assert_string_equal(c->name, names[i]);
        assert_int_equal(c->index, i);
    }
    assert_null(tun_table_at(t, 4));

    const struct tun_client *a = tun_table_at(t, 0), *b = tun_table_at(t, 1);
    const struct tun_client *c = tun_table_at(t, 2), *d = tun_table_at(t, 3);
    assert_int_equal(a->mtu, 1480); /* the tunnel's */
    assert_int_equal(b->mtu, 1400); /* its own */
    assert_int_equal(a->remote.s_addr, A4("192.0.2.10").s_addr);
    struct e6_prefix l = P("2001:db8:100::/64");
    assert_true(e6_prefix_equal(&a->link, &l));
    struct in6_addr x = A6("2001:db8:100::2");
    assert_true(e6_addr_equal(&a->client_address, &x));
    x = A6("2001:db8:100::1");
    assert_true(e6_addr_equal(&a->server_address, &x)); /* default: ::1 of the /64 */
    x = A6("2001:db8:1000:5::11");
    assert_true(e6_addr_equal(&c->server_address, &x)); /* the other end of the /127 */
    l = P("2001:db8:1000:5::10/127");
    assert_true(e6_prefix_equal(&c->link, &l));
    x = A6("2001:db8:1000:6::fe");
    assert_true(e6_addr_equal(&d->server_address, &x)); /* configured */
    tun_table_free(t);
}

static void test_table_client(void **state)
{
    (void)state;
    char err[128] = "";
    struct tun_table *t = tun_table_build(client_conf(), err, sizeof(err));
    assert_non_null(t);
    assert_false(tun_table_is_server(t));
    assert_int_equal(tun_table_count(t), 1);
    const struct tun_client *s = tun_table_at(t, 0);
    assert_string_equal(s->name, "he0");
    assert_int_equal(s->remote.s_addr, A4("203.0.113.1").s_addr);
    assert_int_equal(s->mtu, 1480);
    assert_int_equal(s->index, 0);
    struct in6_addr x = A6("2001:db8:200::1");
    assert_true(e6_addr_equal(&s->server_address, &x));
    x = A6("2001:db8:200::2");
    assert_true(e6_addr_equal(&s->client_address, &x));
    /* every destination goes to the server */
    assert_dst(t, "2001:db8:200::1", "he0");
    assert_dst(t, "2001:db8:ffff::1", "he0");
    assert_dst(t, "ff02::1", "he0");
    assert_true(tun_table_by_remote(t, A4("203.0.113.1")) == s);
    assert_null(tun_table_by_remote(t, A4("203.0.113.2")));

    /* the server speaks for the internet: anything unicast but our own address */
    x = A6("2001:db8:ffff::1");
    assert_true(tun_table_may_send(t, s, &x));
    x = A6("2001:db8:200::1");
    assert_true(tun_table_may_send(t, s, &x));
    x = A6("fe80::1");
    assert_true(tun_table_may_send(t, s, &x));
    x = A6("2001:db8:200::2");
    assert_false(tun_table_may_send(t, s, &x));
    x = A6("ff02::1");
    assert_false(tun_table_may_send(t, s, &x));
    x = A6("::");
    assert_false(tun_table_may_send(t, s, &x));
    x = A6("::1");
    assert_false(tun_table_may_send(t, s, &x));
    tun_table_free(t);

    /* a /127 link, an explicit MTU, no default route: still one entry for everything */
    fx_client.client_address = A6("2001:db8:200::3");
    fx_client.client_plen = 127;
    fx_client.mtu = 1280;
    fx_client.default_route = false;
    t = tun_table_build(&fx_client, err, sizeof(err));
    assert_non_null(t);
    s = tun_table_at(t, 0);
    x = A6("2001:db8:200::2");
    assert_true(e6_addr_equal(&s->server_address, &x));
    assert_int_equal(s->mtu, 1280);
    assert_dst(t, "2001:db8:abc::1", "he0");
    tun_table_free(t);
}

static void assert_build_fails(const struct conf_tunnel *ct, const char *want)
{
    char err[160] = "";
    struct tun_table *t = tun_table_build(ct, err, sizeof(err));
    if (t) {
        tun_table_free(t);
        fail_msg("built, want an error containing \"%s\"", want);
    }
    if (!strstr(err, want))
        fail_msg("error \"%s\", want \"%s\"", err, want);
}

static void test_table_build_errors(void **state)
{
    (void)state;
    struct conf_tunnel ct = *server_conf();

    ct.type = CONF_TUNNEL_6BED4;
    assert_build_fails(&ct, "not a 6in4");
    ct = *server_conf();
    ct.n_clients = 0;
    assert_build_fails(&ct, "0 clients");
    ct = *server_conf();
    ct.mtu = 1500;
    assert_build_fails(&ct, "mtu 1500");
    ct = *server_conf();
    ct.mtu = 1279;
    assert_build_fails(&ct, "mtu 1279");

    server_conf();
    fx_clients[1].mtu = 1481;
    assert_build_fails(&fx_server, "bob: mtu 1481");
    server_conf();
    fx_clients[2].remote = fx_clients[0].remote;
    assert_build_fails(&fx_server, "alice and carol both have remote 192.0.2.10");
    server_conf();
    fx_clients[3].remote.s_addr = 0;
    assert_build_fails(&fx_server, "dave: no remote");
    server_conf();
    fx_clients[3].client_plen = 129;
    assert_build_fails(&fx_server, "dave: client-address prefix length 129");
    server_conf();
    bob_routed[0] = P("2001:db8:3000::/56");
    assert_build_fails(&fx_server, "alice and bob both hold 2001:db8:3000::/56");
    server_conf();
    fx_clients[3].client_address = A6("2001:db8:100::9"); /* alice's link */
    assert_build_fails(&fx_server, "both hold 2001:db8:100::/64");

    /* a NULL or empty error buffer is fine */
    ct = *server_conf();
    ct.type = CONF_TUNNEL_6BED4;
    assert_null(tun_table_build(&ct, NULL, 0));

    /* host bits in a hand-built routed prefix are cleared, not a second key */
    server_conf();
    alice_routed[1].addr = A6("2001:db8:3000::77");
    struct tun_table *t = tun_table_build(&fx_server, NULL, 0);
    assert_non_null(t);
    assert_dst(t, "2001:db8:3000:ff::1", "alice");
    tun_table_free(t);

    /* long names are cut, not overflowed */
    server_conf();
    char longname[200];
    memset(longname, 'x', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = 0;
    fx_clients[0].name = longname;
    t = tun_table_build(&fx_server, NULL, 0);
    assert_non_null(t);
    assert_int_equal(strlen(tun_table_at(t, 0)->name), sizeof(tun_table_at(t, 0)->name) - 1);
    tun_table_free(t);

    /* NULL tables answer nothing */
    struct in6_addr x = A6("2001:db8::1");
    assert_int_equal(tun_table_count(NULL), 0);
    assert_null(tun_table_at(NULL, 0));
    assert_null(tun_table_by_dst(NULL, &x));
    assert_null(tun_table_by_remote(NULL, A4("192.0.2.10")));
    assert_false(tun_table_is_server(NULL));
    tun_table_free(NULL);
}

static void test_lpm(void **state)
{
    (void)state;
    struct tun_table *t = server_table();
    /* alice: her link /64 (server end included) and her /48 and /56 */
    assert_dst(t, "2001:db8:100::2", "alice");
    assert_dst(t, "2001:db8:100::1", "alice");
    assert_dst(t, "2001:db8:100::ffff", "alice");
    assert_dst(t, "2001:db8:1000::1", "alice");
    assert_dst(t, "2001:db8:1000:4:ffff:ffff:ffff:ffff", "alice");
    assert_dst(t, "2001:db8:1000:ffff::1", "alice");
    assert_dst(t, "2001:db8:3000:ff::1", "alice");
    assert_dst(t, "2001:db8:3000:100::1", NULL);
    /* bob's /64 inside alice's /48 wins */
    assert_dst(t, "2001:db8:1000:5::1", "bob");
    assert_dst(t, "2001:db8:1000:5::12", "bob");
    assert_dst(t, "2001:db8:1000:5::f", "bob");
    assert_dst(t, "2001:db8:101::2", "bob");
    /* carol's /127 inside bob's /64 wins: both of its addresses */
    assert_dst(t, "2001:db8:1000:5::10", "carol");
    assert_dst(t, "2001:db8:1000:5::11", "carol");
    /* dave's link /64 inside alice's /48 */
    assert_dst(t, "2001:db8:1000:6::99", "dave");
    assert_dst(t, "2001:db8:1000:7::99", "alice");
    /* nobody's */
    assert_dst(t, "2001:db8:102::1", NULL);
    assert_dst(t, "2001:db8:1001::1", NULL);
    assert_dst(t, "fe80::1", NULL);
    assert_dst(t, "ff02::1", NULL);
    assert_dst(t, "::", NULL);

    assert_string_equal(name_of(tun_table_by_remote(t, A4("192.0.2.10"))), "alice");
    assert_string_equal(name_of(tun_table_by_remote(t, A4("192.0.2.20"))), "bob");
    assert_string_equal(name_of(tun_table_by_remote(t, A4("198.51.100.30"))), "carol");
    assert_string_equal(name_of(tun_table_by_remote(t, A4("198.51.100.40"))), "dave");
    assert_null(tun_table_by_remote(t, A4("192.0.2.1")));
    assert_null(tun_table_by_remote(t, A4("10.0.0.10")));
    tun_table_free(t);
}

static void assert_may(const struct tun_table *t, size_t client, const char *src, bool want)
{
    struct in6_addr a = A6(src);
    if (tun_table_may_send(t, tun_table_at(t, client), &a) != want)
        fail_msg("%s from %s: want %s", tun_table_at(t, client)->name, src,
                 want ? "allowed" : "spoof");
}

static void test_may_send(void **state)
{
    (void)state;
    struct tun_table *t = server_table();
    /* its client-address, its routed prefixes, link-local */
    assert_may(t, 0, "2001:db8:100::2", true);
    assert_may(t, 0, "2001:db8:1000::1", true);
    assert_may(t, 0, "2001:db8:1000:ffff::1", true);
    assert_may(t, 0, "2001:db8:3000::1", true);
    assert_may(t, 0, "fe80::1", true);
    assert_may(t, 0, "febf::1", true);
    /* not the rest of its link, not the server's address */
    assert_may(t, 0, "2001:db8:100::1", false);
    assert_may(t, 0, "2001:db8:100::3", false);
    /* not what is carved out of its /48 for others */
    assert_may(t, 0, "2001:db8:1000:5::1", false);
    assert_may(t, 0, "2001:db8:1000:5::10", false);
    assert_may(t, 0, "2001:db8:1000:6::2", false);
    /* not others', not nobody's, never multicast/unspecified/loopback */
    assert_may(t, 0, "2001:db8:101::2", false);
    assert_may(t, 0, "2001:db8:9999::1", false);
    assert_may(t, 0, "ff02::1", false);
    assert_may(t, 0, "ff0e::1", false);
    assert_may(t, 0, "::", false);
    assert_may(t, 0, "::1", false);

    assert_may(t, 1, "2001:db8:1000:5::1", true);
    assert_may(t, 1, "2001:db8:101::2", true);
    assert_may(t, 1, "2001:db8:1000:5::10", false); /* carol's link */
    assert_may(t, 1, "2001:db8:1000:1::1", false);

    /* carol: her address on the /127, not the server's end; no routed prefix */
    assert_may(t, 2, "2001:db8:1000:5::10", true);
    assert_may(t, 2, "2001:db8:1000:5::11", false);
    assert_may(t, 2, "2001:db8:1000:5::1", false);

    assert_may(t, 3, "2001:db8:1000:6::2", true);
    assert_may(t, 3, "2001:db8:1000:6::3", false);

    struct in6_addr a = A6("2001:db8:100::2");
    assert_false(tun_table_may_send(t, NULL, &a));
    assert_false(tun_table_may_send(NULL, tun_table_at(t, 0), &a));
    tun_table_free(t);
}

/* ---- decapsulation ----------------------------------------------------------- */

static void test_decap_ok(void **state)
{
    (void)state;
    struct tun_table *t = server_table();
    uint8_t b[512];
    const uint8_t *inner = NULL;
    size_t inner_len = 0;
    const struct tun_client *who = NULL;

    size_t n = encap(b, "192.0.2.10", "2001:db8:100::2", "2001:db8:abcd::1");
    assert_int_equal(n, 68);
    assert_int_equal(tun_6in4_decap(t, A4(LOCAL), b, n, &inner, &inner_len, &who), TUN_OK);
    assert_ptr_equal(inner, b + 20);
    assert_int_equal(inner_len, 48);
    assert_string_equal(name_of(who), "alice");

    /* trailing bytes after the IPv4 total length are not part of it */
    memset(b + n, 0xee, 30);
    assert_int_equal(tun_6in4_decap(t, A4(LOCAL), b, n + 30, &inner, &inner_len, &who), TUN_OK);
    assert_int_equal(inner_len, 48);

    /* IPv4 options: the inner packet starts after them */
    uint8_t in6[128];
    size_t m = ip6_pkt(in6, "2001:db8:1000:5::77", "2001:db8:abcd::1", 6, 20);
    n = ip4_wrap(b, 7, TUN_6IN4_PROTO, "192.0.2.20", LOCAL, in6, m);
    assert_int_equal(tun_6in4_decap(t, A4(LOCAL), b, n, &inner, &inner_len, &who), TUN_OK);
    assert_ptr_equal(inner, b + 28);
    assert_int_equal(inner_len, 60);
    assert_string_equal(name_of(who), "bob");

    /* padding inside the IPv4 packet after the inner packet is trimmed */
    memset(in6 + m, 0, 6);
    n = ip4_wrap(b, 5, TUN_6IN4_PROTO, "192.0.2.20", LOCAL, in6, m + 6);
    assert_int_equal(tun_6in4_decap(t, A4(LOCAL), b, n, &inner, &inner_len, &who), TUN_OK);
    assert_int_equal(inner_len, 60);

    /* link-local inner source, DF clear: fine; NULL outputs are allowed */
    n = encap(b, "198.51.100.30", "fe80::2", "fe80::1");
    e6_put16(b + 6, 0);
    assert_int_equal(tun_6in4_decap(t, A4(LOCAL), b, n, NULL, NULL, NULL), TUN_OK);
    tun_table_free(t);
}

static void test_decap_drops(void **state)
{
    (void)state;
    struct tun_table *t = server_table();
    uint8_t b[512], in6[128];
    const char *R = "192.0.2.10", *S = "2001:db8:100::2", *D = "2001:db8:abcd::1";
    size_t n;

    /* outer header */
    n = encap(b, R, S, D);
    assert_int_equal(decap(t, b, 19), TUN_D_SHORT);
    assert_int_equal(decap(t, b, 0), TUN_D_SHORT);
    b[0] = 0x65;
    assert_int_equal(decap(t, b, n), TUN_D_NOT_IPV4);
    b[0] = 0x44; /* IHL 16 bytes */
    assert_int_equal(decap(t, b, n), TUN_D_NOT_IPV4);
    b[0] = 0x4f; /* IHL 60 bytes: more than the 40 given */
    assert_int_equal(decap(t, b, 40), TUN_D_SHORT);
    n = encap(b, R, S, D);
    e6_put16(b + 2, 19); /* total length shorter than the header */
    assert_int_equal(decap(t, b, n), TUN_D_NOT_IPV4);
    e6_put16(b + 2, (uint16_t)(n + 1)); /* longer than the buffer */
    assert_int_equal(decap(t, b, n), TUN_D_SHORT);
    e6_put16(b + 2, 60); /* shorter than the buffer: the inner packet is cut */
    assert_int_equal(decap(t, b, n), TUN_D_NOT_IPV6);

    /* fragments: MF, an offset, both; DF alone is fine */
    n = encap(b, R, S, D);
    e6_put16(b + 6, 0x2000);
    assert_int_equal(decap(t, b, n), TUN_D_FRAGMENT);
    e6_put16(b + 6, 0x0001);
    assert_int_equal(decap(t, b, n), TUN_D_FRAGMENT);
    e6_put16(b + 6, 0x3fff);
    assert_int_equal(decap(t, b, n), TUN_D_FRAGMENT);
    e6_put16(b + 6, 0x4000);
    assert_int_equal(decap(t, b, n), TUN_OK);

    /* protocol, local, remote */
    n = ip6_pkt(in6, S, D, 17, 8);
    n = ip4_wrap(b, 5, 4 /* IPv4 in IPv4 */, R, LOCAL, in6, n);
    assert_int_equal(decap(t, b, n), TUN_D_NOT_41);
    n = ip6_pkt(in6, S, D, 17, 8);
    n = ip4_wrap(b, 5, TUN_6IN4_PROTO, R, "192.0.2.2", in6, n);
    assert_int_equal(decap(t, b, n), TUN_D_WRONG_LOCAL);
    n = encap(b, "192.0.2.11", S, D);
    assert_int_equal(decap(t, b, n), TUN_D_UNKNOWN_REMOTE);
    n = encap(b, LOCAL, S, D);
    assert_int_equal(decap(t, b, n), TUN_D_UNKNOWN_REMOTE);

    /* the inner packet: too short for IPv6, not IPv6, payload length past the end */
    n = ip6_pkt(in6, S, D, 17, 8);
    n = ip4_wrap(b, 5, TUN_6IN4_PROTO, R, LOCAL, in6, 39);
    assert_int_equal(decap(t, b, n), TUN_D_NOT_IPV6);
    n = ip4_wrap(b, 5, TUN_6IN4_PROTO, R, LOCAL, in6, 0);
    assert_int_equal(decap(t, b, n), TUN_D_NOT_IPV6);
    n = ip6_pkt(in6, S, D, 17, 8);
    in6[0] = 0x40;
    n = ip4_wrap(b, 5, TUN_6IN4_PROTO, R, LOCAL, in6, n);
    assert_int_equal(decap(t, b, n), TUN_D_NOT_IPV6);
    n = ip6_pkt(in6, S, D, 17, 8);
    e6_put16(in6 + 4, 9);
    n = ip4_wrap(b, 5, TUN_6IN4_PROTO, R, LOCAL, in6, n);
    assert_int_equal(decap(t, b, n), TUN_D_NOT_IPV6);
    e6_put16(b + 20 + 4, 8); /* exact again */
    assert_int_equal(decap(t, b, n), TUN_OK);

    /* inner source: never multicast/unspecified/loopback, else what the client may send */
    n = encap(b, R, "ff02::1", D);
    assert_int_equal(decap(t, b, n), TUN_D_INNER_BAD_SRC);
    n = encap(b, R, "::", D);
    assert_int_equal(decap(t, b, n), TUN_D_INNER_BAD_SRC);
    n = encap(b, R, "::1", D);
    assert_int_equal(decap(t, b, n), TUN_D_INNER_BAD_SRC);
    n = encap(b, R, "2001:db8:1000:5::1", D); /* bob's */
    const uint8_t *inner = NULL;
    size_t inner_len = 0;
    const struct tun_client *who = NULL;
    assert_int_equal(tun_6in4_decap(t, A4(LOCAL), b, n, &inner, &inner_len, &who),
                     TUN_D_INNER_SPOOF);
    assert_string_equal(name_of(who), "alice"); /* known, for per-client counters */
    n = encap(b, R, "2001:db8:100::1", D);      /* the server's own address */
    assert_int_equal(decap(t, b, n), TUN_D_INNER_SPOOF);
    n = encap(b, R, "2001:db8:4444::1", D); /* nobody's */
    assert_int_equal(decap(t, b, n), TUN_D_INNER_SPOOF);
    /* who is cleared when the client is not known */
    n = encap(b, "203.0.113.99", S, D);
    assert_int_equal(tun_6in4_decap(t, A4(LOCAL), b, n, &inner, &inner_len, &who),
                     TUN_D_UNKNOWN_REMOTE);
    assert_null(who);
    tun_table_free(t);
}

/* ---- routing ----------------------------------------------------------------- */

static void test_route(void **state)
{
    (void)state;
    struct tun_table *t = server_table();
    static uint8_t b[2048];
    const struct tun_client *who = NULL;
    const char *S = "2001:db8:abcd::1";

    size_t n = ip6_pkt(b, S, "2001:db8:1000:1::1", 17, 100);
    assert_int_equal(tun_6in4_route(t, b, n, &who), TUN_OK);
    assert_string_equal(name_of(who), "alice");
    n = ip6_pkt(b, S, "2001:db8:1000:5::11", 17, 100);
    assert_int_equal(tun_6in4_route(t, b, n, &who), TUN_OK);
    assert_string_equal(name_of(who), "carol");

    assert_int_equal(tun_6in4_route(t, b, 39, &who), TUN_D_SHORT);
    assert_null(who);
    assert_int_equal(tun_6in4_route(t, b, 0, &who), TUN_D_SHORT);
    assert_int_equal(tun_6in4_route(t, b, n - 1, &who), TUN_D_NOT_IPV6);
    assert_int_equal(tun_6in4_route(t, b, n + 1, &who), TUN_D_NOT_IPV6);
    b[0] = 0x45;
    assert_int_equal(tun_6in4_route(t, b, n, &who), TUN_D_NOT_IPV6);

    n = ip6_pkt(b, S, "2001:db8:9999::1", 17, 100);
    assert_int_equal(tun_6in4_route(t, b, n, &who), TUN_D_NO_CLIENT);
    assert_null(who);
    n = ip6_pkt(b, S, "ff02::1", 17, 100);
    assert_int_equal(tun_6in4_route(t, b, n, &who), TUN_D_NO_CLIENT);

    /* MTU: alice has the tunnel's 1480, bob his own 1400 */
    n = ip6_pkt(b, S, "2001:db8:1000:1::1", 17, 1480 - 40);
    assert_int_equal(tun_6in4_route(t, b, n, &who), TUN_OK);
    n = ip6_pkt(b, S, "2001:db8:1000:1::1", 17, 1481 - 40);
    assert_int_equal(tun_6in4_route(t, b, n, &who), TUN_D_TOO_BIG);
    assert_string_equal(name_of(who), "alice");
    n = ip6_pkt(b, S, "2001:db8:101::2", 17, 1400 - 40);
    assert_int_equal(tun_6in4_route(t, b, n, &who), TUN_OK);
    n = ip6_pkt(b, S, "2001:db8:101::2", 17, 1401 - 40);
    who = NULL;
    assert_int_equal(tun_6in4_route(t, b, n, &who), TUN_D_TOO_BIG);
    assert_string_equal(name_of(who), "bob");
    assert_int_equal(who->mtu, 1400);
    assert_int_equal(tun_6in4_route(t, b, n, NULL), TUN_D_TOO_BIG);
    tun_table_free(t);
}

static void test_drop_names(void **state)
{
    (void)state;
    assert_string_equal(tun_drop_name(TUN_OK), "ok");
    assert_string_equal(tun_drop_name(TUN_D_INNER_SPOOF), "inner_spoof");
    assert_string_equal(tun_drop_name(TUN_D_TOO_BIG), "too_big");
    for (int i = 0; i < TUN_D__COUNT; i++) {
        const char *s = tun_drop_name((enum tun_drop)i);
        assert_string_not_equal(s, "unknown");
        for (const char *p = s; *p; p++)
            assert_true((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_');
        for (int j = 0; j < i; j++)
            assert_string_not_equal(s, tun_drop_name((enum tun_drop)j));
    }
    assert_string_equal(tun_drop_name(TUN_D__COUNT), "unknown");
    assert_string_equal(tun_drop_name((enum tun_drop)1000), "unknown");
}

/* ---- Packet Too Big ---------------------------------------------------------- */

/* computed independently (Python, RFC 4443 / RFC 1071 by hand) */
static const uint8_t golden_ptb[] = {
    0x60, 0x00, 0x00, 0x00, 0x00, 0x38, 0x3a, 0x40, 0x20, 0x01, 0x0d, 0xb8, 0x01, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x20, 0x01, 0x0d, 0xb8, 0xab, 0xcd, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0xfe, 0x44, 0x00, 0x00, 0x05, 0xc8,
    0x60, 0x00, 0x00, 0x00, 0x00, 0x08, 0x11, 0x3f, 0x20, 0x01, 0x0d, 0xb8, 0xab, 0xcd, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x20, 0x01, 0x0d, 0xb8, 0x10, 0x00, 0x00, 0x01,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x12, 0x34, 0x56, 0x78, 0x00, 0x08, 0x00, 0x00,
};

static void assert_ptb_valid(const uint8_t *out, size_t n, const struct in6_addr *from,
                             const uint8_t *pkt, uint32_t mtu)
{
    struct e6_ip6_pkt p;
    assert_int_equal(e6_ip6_parse(out, n, &p), E6_IP6_OK);
    assert_int_equal(p.pkt_len, n);
    assert_int_equal(p.proto, E6_IPPROTO_ICMPV6);
    assert_int_equal(p.hdr.hop_limit, 64);
    assert_true(e6_addr_equal(&p.hdr.src, from));
    assert_memory_equal(&p.hdr.dst, pkt + 8, 16);
    assert_int_equal(p.payload[0], 2);
    assert_int_equal(p.payload[1], 0);
    assert_int_equal(e6_get32(p.payload + 4), mtu);
    assert_true(e6_ip6_icmp6_cksum_ok(&p.hdr.src, &p.hdr.dst, p.payload, p.payload_len));
    assert_memory_equal(p.payload + 8, pkt, p.payload_len - 8);
}

static void test_ptb(void **state)
{
    (void)state;
    static uint8_t pkt[2048], out[2048];
    struct in6_addr from = A6("2001:db8:100::1");

    /* a small UDP packet: quoted whole, byte for byte the golden packet */
    size_t n = ip6_pkt(pkt, "2001:db8:abcd::1", "2001:db8:1000:1::1", 17, 8);
    pkt[7] = 63;
    static const uint8_t udp[] = {0x12, 0x34, 0x56, 0x78, 0x00, 0x08, 0x00, 0x00};
    memcpy(pkt + 40, udp, 8);
    size_t m = tun_icmp6_ptb(out, sizeof(out), &from, pkt, n, 1480);
    assert_int_equal(m, sizeof(golden_ptb));
    assert_memory_equal(out, golden_ptb, sizeof(golden_ptb));
    assert_ptb_valid(out, m, &from, pkt, 1480);

    /* a 1500-byte packet: the PTB stops at 1280 bytes */
    n = ip6_pkt(pkt, "2001:db8:abcd::1", "2001:db8:1000:1::1", 6, 1460);
    for (size_t i = 40; i < n; i++)
        pkt[i] = (uint8_t)i;
    m = tun_icmp6_ptb(out, sizeof(out), &from, pkt, n, 1400);
    assert_int_equal(m, 1280);
    assert_ptb_valid(out, m, &from, pkt, 1400);
    /* exactly 1232 bytes of quote fit: a packet of that size is quoted whole */
    n = ip6_pkt(pkt, "2001:db8:abcd::1", "2001:db8:1000:1::1", 6, 1232 - 40);
    assert_int_equal(tun_icmp6_ptb(out, sizeof(out), &from, pkt, n, 1400), 1280);
    /* a smaller buffer cuts the quote further; too small for the header: none */
    n = ip6_pkt(pkt, "2001:db8:abcd::1", "2001:db8:1000:1::1", 6, 1460);
    m = tun_icmp6_ptb(out, 100, &from, pkt, n, 1400);
    assert_int_equal(m, 100);
    assert_ptb_valid(out, m, &from, pkt, 1400);
    assert_int_equal(tun_icmp6_ptb(out, 88, &from, pkt, n, 1400), 88);
    assert_int_equal(tun_icmp6_ptb(out, 87, &from, pkt, n, 1400), 0);
    /* a truncated offending packet (an ICMPv4 quote) is quoted as it is */
    m = tun_icmp6_ptb(out, sizeof(out), &from, pkt, 48, 1280);
    assert_int_equal(m, 96);
    assert_ptb_valid(out, m, &from, pkt, 1280);

    /* sources that never get an error */
    const char *bad[] = {"ff02::1", "ff0e::1", "::", "::1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        n = ip6_pkt(pkt, bad[i], "2001:db8:1000:1::1", 6, 1460);
        assert_int_equal(tun_icmp6_ptb(out, sizeof(out), &from, pkt, n, 1400), 0);
    }
    /* a multicast destination is no reason not to (RFC 4443 2.4(e.2)) */
    n = ip6_pkt(pkt, "2001:db8:abcd::1", "ff0e::1", 17, 1460);
    assert_int_equal(tun_icmp6_ptb(out, sizeof(out), &from, pkt, n, 1400), 1280);
    /* not IPv6, shorter than its header */
    pkt[0] = 0x45;
    assert_int_equal(tun_icmp6_ptb(out, sizeof(out), &from, pkt, n, 1400), 0);
    pkt[0] = 0x60;
    assert_int_equal(tun_icmp6_ptb(out, sizeof(out), &from, pkt, 39, 1400), 0);

    /* ICMPv6: errors (type < 128) get none, informational messages do */
    n = ip6_pkt(pkt, "2001:db8:abcd::1", "2001:db8:1000:1::1", 58, 1460);
    for (int type = 0; type < 256; type += 1) {
        pkt[40] = (uint8_t)type;
        size_t want = type < 128 ? 0 : 1280;
        if (tun_icmp6_ptb(out, sizeof(out), &from, pkt, n, 1400) != want)
            fail_msg("ICMPv6 type %d", type);
    }
    /* ... also behind extension headers (Hop-by-Hop, Destination Options) */
    n = ip6_pkt(pkt, "2001:db8:abcd::1", "2001:db8:1000:1::1", E6_IPPROTO_HOPOPTS, 1460);
    memset(pkt + 40, 0, 24);
    pkt[40] = E6_IPPROTO_DSTOPTS; /* HBH: 8 bytes */
    pkt[48] = 58;                 /* DST: 16 bytes */
    pkt[49] = 1;
    pkt[64] = 1; /* Destination Unreachable */
    assert_int_equal(tun_icmp6_ptb(out, sizeof(out), &from, pkt, n, 1400), 0);
    /* ... and in a quote cut short, as far as the bytes go */
    assert_int_equal(tun_icmp6_ptb(out, sizeof(out), &from, pkt, 65, 1400), 0);
    pkt[64] = 128; /* Echo Request */
    assert_int_equal(tun_icmp6_ptb(out, sizeof(out), &from, pkt, n, 1400), 1280);
    assert_int_equal(tun_icmp6_ptb(out, sizeof(out), &from, pkt, 65, 1400), 65 + 48);
    /* an ICMPv6 packet cut before its type: counted as an error */
    assert_int_equal(tun_icmp6_ptb(out, sizeof(out), &from, pkt, 64, 1400), 0);
    /* a TCP packet cut inside its extension headers: not an error, PTB due */
    pkt[48] = 6;
    assert_int_equal(tun_icmp6_ptb(out, sizeof(out), &from, pkt, 50, 1400), 98);
    /* a non-first fragment of ICMPv6: its type is unknowable, PTB due */
    n = ip6_pkt(pkt, "2001:db8:abcd::1", "2001:db8:1000:1::1", E6_IPPROTO_FRAGMENT, 1460);
    memset(pkt + 40, 0, 8);
    pkt[40] = 58;
    e6_put16(pkt + 42, 185 << 3);
    pkt[48] = 1;
    assert_int_equal(tun_icmp6_ptb(out, sizeof(out), &from, pkt, n, 1400), 1280);
    assert_int_equal(tun_icmp6_ptb(out, sizeof(out), &from, pkt, 100, 1400), 148);
    /* the first fragment of an ICMPv6 error: none */
    e6_put16(pkt + 42, 1); /* offset 0, M */
    assert_int_equal(tun_icmp6_ptb(out, sizeof(out), &from, pkt, n, 1400), 0);
    assert_int_equal(tun_icmp6_ptb(out, sizeof(out), &from, pkt, 100, 1400), 0);

    assert_int_equal(tun_icmp6_ptb(NULL, sizeof(out), &from, pkt, n, 1400), 0);
    assert_int_equal(tun_icmp6_ptb(out, sizeof(out), NULL, pkt, n, 1400), 0);
    assert_int_equal(tun_icmp6_ptb(out, sizeof(out), &from, NULL, n, 1400), 0);
}

/* ---- ICMPv4 fragmentation needed ----------------------------------------------- */

/*
 * An ICMPv4 type/code from router to LOCAL quoting an IPv4 header of qihl
 * words (proto qproto, from qsrc to 192.0.2.10, total 1500) and quote_more
 * bytes of a 1460-byte IPv6 packet after it; outer IHL oihl.
 */
static size_t icmp4(uint8_t *b, unsigned oihl, uint8_t type, uint8_t code, uint16_t nh_mtu,
                    unsigned qihl, uint8_t qproto, const char *qsrc, size_t quote_more)
{
    static uint8_t in6[1500], q[1600], icmp[1600];
    ip6_pkt(in6, "2001:db8:abcd::1", "2001:db8:1000:1::1", 6, 1460);
    size_t qn = ip4_wrap(q, qihl, qproto, qsrc, "192.0.2.10", in6, 1500);
    assert_int_equal(qn, qihl * 4 + 1500);
    memset(icmp, 0, 8);
    icmp[0] = type;
    icmp[1] = code;
    e6_put16(icmp + 6, nh_mtu);
    memcpy(icmp + 8, q, qihl * 4 + quote_more);
    size_t in = 8 + qihl * 4 + quote_more;
    e6_put16(icmp + 2, sum16(icmp, in));
    return ip4_wrap(b, oihl, 1, "198.51.100.1", LOCAL, icmp, in);
}

static void test_frag_needed(void **state)
{
    (void)state;
    static uint8_t b[2048];
    struct tun_frag_needed fn;
    struct in_addr local = A4(LOCAL);
    struct in6_addr s = A6("2001:db8:abcd::1"), d = A6("2001:db8:1000:1::1");

    /* a modern router: the inner header and more quoted */
    size_t n = icmp4(b, 5, 3, 4, 1400, 5, 41, LOCAL, 100);
    assert_true(tun_icmp4_frag_needed(b, n, local, &fn));
    assert_int_equal(fn.remote.s_addr, A4("192.0.2.10").s_addr);
    assert_int_equal(fn.mtu, 1380);
    assert_true(fn.have_inner);
    assert_true(e6_addr_equal(&fn.inner_src, &s));
    assert_true(e6_addr_equal(&fn.inner_dst, &d));
    assert_ptr_equal(fn.inner, b + 20 + 8 + 20);
    assert_int_equal(fn.inner_len, 100);
    /* the quote turned into a PTB toward the inner source */
    uint8_t out[1280];
    struct in6_addr from = A6("2001:db8:100::1");
    size_t m = tun_icmp6_ptb(out, sizeof(out), &from, fn.inner, fn.inner_len, fn.mtu);
    assert_int_equal(m, 148);
    assert_ptb_valid(out, m, &from, fn.inner, 1380);

    /* exactly the IPv6 header quoted */
    n = icmp4(b, 5, 3, 4, 1400, 5, 41, LOCAL, 40);
    assert_true(tun_icmp4_frag_needed(b, n, local, &fn));
    assert_true(fn.have_inner);
    assert_int_equal(fn.inner_len, 40);
    /* RFC 792's 8 bytes: ours, but no inner header to answer */
    n = icmp4(b, 5, 3, 4, 1400, 5, 41, LOCAL, 8);
    assert_true(tun_icmp4_frag_needed(b, n, local, &fn));
    assert_false(fn.have_inner);
    assert_null(fn.inner);
    assert_int_equal(fn.mtu, 1380);
    n = icmp4(b, 5, 3, 4, 1400, 5, 41, LOCAL, 39);
    assert_true(tun_icmp4_frag_needed(b, n, local, &fn));
    assert_false(fn.have_inner);
    n = icmp4(b, 5, 3, 4, 1400, 5, 41, LOCAL, 0);
    assert_true(tun_icmp4_frag_needed(b, n, local, &fn));
    assert_false(fn.have_inner);

    /* options in the quoted header and in the ICMP's own */
    n = icmp4(b, 6, 3, 4, 1400, 7, 41, LOCAL, 60);
    assert_true(tun_icmp4_frag_needed(b, n, local, &fn));
    assert_int_equal(fn.mtu, 1400 - 28);
    assert_true(fn.have_inner);
    assert_ptr_equal(fn.inner, b + 24 + 8 + 28);
    assert_int_equal(fn.inner_len, 60);
    assert_true(e6_addr_equal(&fn.inner_src, &s));

    /* next-hop MTU: 0 from an old router, or too small for IPv6: 1280 */
    n = icmp4(b, 5, 3, 4, 0, 5, 41, LOCAL, 48);
    assert_true(tun_icmp4_frag_needed(b, n, local, &fn));
    assert_int_equal(fn.mtu, 1280);
    n = icmp4(b, 5, 3, 4, 576, 5, 41, LOCAL, 48);
    assert_true(tun_icmp4_frag_needed(b, n, local, &fn));
    assert_int_equal(fn.mtu, 1280);
    n = icmp4(b, 5, 3, 4, 1300, 5, 41, LOCAL, 48);
    assert_true(tun_icmp4_frag_needed(b, n, local, &fn));
    assert_int_equal(fn.mtu, 1280);
    n = icmp4(b, 5, 3, 4, 1301, 5, 41, LOCAL, 48);
    assert_true(tun_icmp4_frag_needed(b, n, local, &fn));
    assert_int_equal(fn.mtu, 1281);

    /* not ours: another protocol, another source, another message */
    n = icmp4(b, 5, 3, 4, 1400, 5, 6, LOCAL, 48);
    assert_false(tun_icmp4_frag_needed(b, n, local, &fn));
    n = icmp4(b, 5, 3, 4, 1400, 5, 41, "192.0.2.99", 48);
    assert_false(tun_icmp4_frag_needed(b, n, local, &fn));
    n = icmp4(b, 5, 3, 3, 1400, 5, 41, LOCAL, 48);
    assert_false(tun_icmp4_frag_needed(b, n, local, &fn));
    n = icmp4(b, 5, 11, 0, 1400, 5, 41, LOCAL, 48);
    assert_false(tun_icmp4_frag_needed(b, n, local, &fn));

    /* a bad checksum */
    n = icmp4(b, 5, 3, 4, 1400, 5, 41, LOCAL, 48);
    b[20 + 8 + 20 + 10] ^= 1;
    assert_false(tun_icmp4_frag_needed(b, n, local, &fn));

    /* truncated: outer header, ICMP header, quoted header; outer lies */
    n = icmp4(b, 5, 3, 4, 1400, 5, 41, LOCAL, 48);
    assert_false(tun_icmp4_frag_needed(b, 19, local, &fn));
    assert_false(tun_icmp4_frag_needed(b, n - 1, local, &fn)); /* total length > buffer */
    n = icmp4(b, 5, 3, 4, 1400, 5, 41, LOCAL, 0);
    e6_put16(b + 2, 20 + 8 + 19);
    assert_false(tun_icmp4_frag_needed(b, n, local, &fn));
    e6_put16(b + 2, 20 + 7);
    assert_false(tun_icmp4_frag_needed(b, n, local, &fn));
    n = icmp4(b, 5, 3, 4, 1400, 7, 41, LOCAL, 0);
    /* the quoted header claims 28 bytes; 24 are there (checksum redone) */
    e6_put16(b + 2, 20 + 8 + 24);
    e6_put16(b + 22, 0);
    e6_put16(b + 22, sum16(b + 20, 8 + 24));
    assert_false(tun_icmp4_frag_needed(b, 20 + 8 + 24, local, &fn));

    /* the outer packet: not ICMP, a fragment, not IPv4 */
    n = icmp4(b, 5, 3, 4, 1400, 5, 41, LOCAL, 48);
    b[9] = 6;
    assert_false(tun_icmp4_frag_needed(b, n, local, &fn));
    n = icmp4(b, 5, 3, 4, 1400, 5, 41, LOCAL, 48);
    e6_put16(b + 6, 0x2000);
    assert_false(tun_icmp4_frag_needed(b, n, local, &fn));
    b[0] = 0x65;
    assert_false(tun_icmp4_frag_needed(b, n, local, &fn));

    /* a quoted non-first fragment has no inner header to read */
    n = icmp4(b, 5, 3, 4, 1400, 5, 41, LOCAL, 48);
    e6_put16(b + 28 + 6, 0x0010);
    e6_put16(b + 22, 0);
    e6_put16(b + 22, sum16(b + 20, n - 20));
    assert_true(tun_icmp4_frag_needed(b, n, local, &fn));
    assert_false(fn.have_inner);
    /* a quoted inner packet that is not IPv6 */
    n = icmp4(b, 5, 3, 4, 1400, 5, 41, LOCAL, 48);
    b[48] = 0x45;
    e6_put16(b + 22, 0);
    e6_put16(b + 22, sum16(b + 20, n - 20));
    assert_true(tun_icmp4_frag_needed(b, n, local, &fn));
    assert_false(fn.have_inner);
    assert_false(tun_icmp4_frag_needed(NULL, n, local, &fn));
    assert_false(tun_icmp4_frag_needed(b, n, local, NULL));
}

/* ---- benchmark --------------------------------------------------------------- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_bench(void **state)
{
    (void)state;
    enum { N = 10000, LOOKUPS = 2000000 };
    struct conf_tunnel_client *cl = calloc(N, sizeof(*cl));
    struct e6_prefix *routed = calloc(N, sizeof(*routed));
    assert_non_null(cl);
    assert_non_null(routed);
    for (unsigned i = 0; i < N; i++) {
        cl[i].name = (char *)"c";
        cl[i].remote.s_addr = htonl(0xc0000200u + i); /* addresses only read, never sent */
        struct in6_addr a = A6("2001:db8:ff::2");
        e6_put16(a.s6_addr + 6, (uint16_t)i);
        cl[i].client_address = a;
        cl[i].client_plen = i % 2 ? 64 : 127;
        a = A6("2001:db8::");
        e6_put16(a.s6_addr + 4, (uint16_t)(0x1000 + i));
        routed[i].addr = a;
        routed[i].len = i % 3 ? 48 : 56;
        cl[i].routed = &routed[i];
        cl[i].n_routed = 1;
    }
    struct conf_tunnel ct = *server_conf();
    ct.clients = cl;
    ct.n_clients = N;
    char err[128] = "";
    double t0 = now_s();
    struct tun_table *t = tun_table_build(&ct, err, sizeof(err));
    double t_build = now_s() - t0;
    if (!t)
        fail_msg("build: %s", err);

    struct in6_addr *dst = calloc(4096, sizeof(*dst));
    assert_non_null(dst);
    uint32_t r = 12345;
    for (unsigned i = 0; i < 4096; i++) {
        r = r * 1103515245u + 12345u;
        unsigned c = (r >> 8) % N;
        dst[i] = routed[c].addr;
        dst[i].s6_addr[15] = (uint8_t)r;
        if (i % 4 == 3)
            dst[i].s6_addr[4] = 0xee; /* a miss */
    }
    size_t hits = 0;
    t0 = now_s();
    for (unsigned i = 0; i < LOOKUPS; i++)
        hits += tun_table_by_dst(t, &dst[i & 4095]) != NULL;
    double t_lpm = now_s() - t0;
    t0 = now_s();
    for (unsigned i = 0; i < LOOKUPS; i++)
        hits += tun_table_by_remote(t, cl[i % N].remote) != NULL;
    double t_rem = now_s() - t0;
    assert_true(hits > LOOKUPS);
    printf("# sixin4 bench: %d clients (%d prefixes, 4 lengths), build %.1f ms, "
           "by_dst %.1f M/s (3/4 hits), by_remote %.1f M/s\n",
           N, 2 * N, t_build * 1e3, LOOKUPS / t_lpm / 1e6, LOOKUPS / t_rem / 1e6);
    tun_table_free(t);
    free(dst);
    free(routed);
    free(cl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_server),       cmocka_unit_test(test_table_client),
        cmocka_unit_test(test_table_build_errors), cmocka_unit_test(test_lpm),
        cmocka_unit_test(test_may_send),           cmocka_unit_test(test_decap_ok),
        cmocka_unit_test(test_decap_drops),        cmocka_unit_test(test_route),
        cmocka_unit_test(test_drop_names),         cmocka_unit_test(test_ptb),
        cmocka_unit_test(test_frag_needed),        cmocka_unit_test(test_bench),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
