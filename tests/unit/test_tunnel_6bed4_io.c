/* tests for tunnel/io_6bed4 without a kernel: the RA token bucket (burst,
 * refill, cap, a clock going back), the per-batch peer-table touches
 * (merging, class promotion, keepalives that insert only as solicited, a
 * full batch, refused inserts), what a peer wants from an RA (default route, the /64
 * and Route Information, duplicates and refused prefixes, a bad PIO),
 * the peers view in text and JSON, the counter names, the service with no
 * tunnel and with one it must refuse before touching the kernel, what a
 * reload compares, the TUN offload negotiation (refused, switched off),
 * and the peer's encap and decap workers over socketpairs (with and
 * without a virtio_net_hdr) */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/addr.h"
#include "common/counters.h"
#include "common/loop.h"
#include "common/sixbed4.h"
#include "conf/conf.h"
#include "tunnel/io_6bed4.h"
#include "tunnel/io_6bed4_int.h"
#include "tunnel/tun_dev.h"

static struct in6_addr A(const char *s) {
    struct in6_addr a;
    assert_true(e6_addr_parse(s, &a));
    return a;
}

static struct e6_prefix
P(const char *s) {
    struct e6_prefix p;
    assert_true(e6_prefix_parse(s, true, &p, NULL, 0));
    return p;
}

static bool
peq(const struct e6_prefix *a, const char *s)
{
    struct e6_prefix b = P(s);
    return e6_prefix_equal(a, &b);
}

static struct tb4_endpoint EP(const char *a, uint16_t port) {
    struct tb4_endpoint ep = {.port = port};
    assert_int_equal(inet_pton(AF_INET, a, &ep.addr), 1);
    return ep;
}

static void
test_bucket(void **state)
{
    (void)state;
    struct tb4_bucket b;
    tb4_bucket_init(&b, 100, 50, 1000);
    /* the burst at once, then nothing */
    for (int i = 0; i < 50; i++)
        assert_true(tb4_bucket_take(&b, 1000));
    assert_false(tb4_bucket_take(&b, 1000));
    /* 100/s: one token per 10 ms, not before */
    assert_false(tb4_bucket_take(&b, 1009));
    assert_true(tb4_bucket_take(&b, 1010));
    assert_false(tb4_bucket_take(&b, 1010));
    /* a clock going back refills nothing and breaks nothing */
    assert_false(tb4_bucket_take(&b, 500));
    assert_true(tb4_bucket_take(&b, 1020));
    /* a long silence fills up to the burst, no more */
    int n = 0;
    while (tb4_bucket_take(&b, 1000000))
        n++;
    assert_int_equal(n, 50);
    /* a huge gap does not overflow */
    assert_true(tb4_bucket_take(&b, UINT64_MAX - 1));
    /* rate 0 burst 0: never */
    tb4_bucket_init(&b, 0, 0, 0);
    assert_false(tb4_bucket_take(&b, 0));
    assert_false(tb4_bucket_take(&b, 100000));
}

static void test_touch(void **state)
{
    (void)state;
    struct tb4_touch v[3];
    size_t n = 0;
    struct tb4_endpoint a = EP("192.0.2.1", 40000), b = EP("192.0.2.1", 40002),
                        c = EP("198.51.100.7", 40000), d = EP("203.0.113.9", 1);
    /* a keepalive first, then traffic: one entry, packets counted, active */
    assert_true(tb4_touch_add(v, &n, 3, a, true, TB4_PEER_ACTIVE));
    assert_true(v[0].keepalive_only);
    assert_int_equal(v[0].packets, 0);
    assert_true(tb4_touch_add(v, &n, 3, a, false, TB4_PEER_SOLICITED));
    assert_true(tb4_touch_add(v, &n, 3, a, false, TB4_PEER_ACTIVE));
    assert_true(tb4_touch_add(v, &n, 3, a, true, TB4_PEER_ACTIVE));
    assert_int_equal(n, 1);
    assert_false(v[0].keepalive_only);
    assert_int_equal(v[0].cls, TB4_PEER_ACTIVE);
    assert_int_equal(v[0].packets, 2);
    /* never demoted within a batch */
    assert_true(tb4_touch_add(v, &n, 3, a, false, TB4_PEER_SOLICITED));
    assert_int_equal(v[0].cls, TB4_PEER_ACTIVE);
    /* the same address on another port is another peer */
    assert_true(tb4_touch_add(v, &n, 3, b, false, TB4_PEER_SOLICITED));
    assert_true(tb4_touch_add(v, &n, 3, c, true, TB4_PEER_ACTIVE));
    assert_int_equal(n, 3);
    /* full: a new endpoint is refused, a known one still merges */
    assert_false(tb4_touch_add(v, &n, 3, d, false, TB4_PEER_ACTIVE));
    assert_true(tb4_touch_add(v, &n, 3, b, false, TB4_PEER_ACTIVE));
    assert_int_equal(n, 3);
    assert_int_equal(v[1].cls, TB4_PEER_ACTIVE);

    /* applied: the keepalive-only endpoint comes in as solicited, and is
     * the one a full table gives up for an active peer */
    struct tb4_peers p;
    assert_int_equal(tb4_peers_init(&p, 2, 10000), 0);
    struct tb4_touch ka[1] = {{.ep = c, .keepalive_only = true}};
    assert_int_equal(tb4_touch_apply(&p, ka, 1, 4000), 0);
    assert_true(tb4_peers_live(&p, c, 4000));
    /* a and b (active) take the table; c's keepalive then finds it full of
     * higher classes: refused, counted */
    assert_int_equal(tb4_touch_apply(&p, v, n, 5000), 1);
    assert_int_equal(tb4_peers_count(&p), 2);
    assert_true(tb4_peers_live(&p, a, 5000));
    assert_true(tb4_peers_live(&p, b, 5000));
    assert_false(tb4_peers_live(&p, c, 5000));
    /* a keepalive refreshes a present peer */
    struct tb4_touch k[1];
    size_t nk = 0;
    assert_true(tb4_touch_add(k, &nk, 1, a, true, TB4_PEER_ACTIVE));
    assert_int_equal(tb4_touch_apply(&p, k, nk, 14000), 0);
    assert_true(tb4_peers_live(&p, a, 14500));
    assert_false(tb4_peers_live(&p, b, 15500));
    /* full of active peers: a solicitation is refused and counted */
    nk = 0;
    assert_true(tb4_touch_add(k, &nk, 1, d, false, TB4_PEER_SOLICITED));
    assert_int_equal(tb4_touch_apply(&p, k, nk, 14600), 1);
    assert_false(tb4_peers_live(&p, d, 14600));
    tb4_peers_destroy(&p);
}

static struct tb4_ra_info ra_for(const char *v4, uint16_t port)
{
    struct tb4_ra_info ra;
    memset(&ra, 0, sizeof(ra));
    struct in6_addr p64 = A("2001:db8:1::");
    struct in_addr a;
    assert_int_equal(inet_pton(AF_INET, v4, &a), 1);
    assert_true(e6_6bed4_peer_prefix(&p64, a, port, &ra.pio));
    ra.router_lifetime = 1800;
    ra.mtu = 1280;
    return ra;
}

static void test_peer_want(void **state)
{
    (void)state;
    struct tb4_ra_info ra = ra_for("192.0.2.10", 40000);
    ra.routes[0] = P("2001:db8:100::/48");
    ra.routes[1] = P("::/0");              /* refused without default-route */
    ra.routes[2] = P("2001:db8:1::/64");   /* the /64 already */
    ra.routes[3] = P("2001:db8:100::/48"); /* a duplicate */
    ra.routes[4] = P("ff00::/8");          /* multicast */
    ra.routes[5] = P("fe80::/64");         /* link-local */
    ra.routes[6] = P("2001:db8:200::/56");
    ra.n_routes = 7;
    struct tb4_peer_want w, w2;
    assert_true(tb4_peer_want_build(&ra, false, &w));
    struct in6_addr self;
    assert_true(tb4_peer_address(&ra.pio, &self));
    assert_true(e6_addr_equal(&w.addr, &self));
    struct in_addr v4;
    uint16_t port, lanip;
    assert_true(e6_6bed4_decode(&w.addr, &v4, &port, &lanip));
    assert_int_equal(port, 40000);
    assert_int_equal(lanip, 1);
    assert_true(e6_prefix_equal(&w.pio, &ra.pio));
    assert_int_equal(w.n_routes, 3);
    assert_true(peq(&w.routes[0], "2001:db8:1::/64"));
    assert_true(peq(&w.routes[1], "2001:db8:100::/48"));
    assert_true(peq(&w.routes[2], "2001:db8:200::/56"));

    /* default-route: ::/0 alone */
    assert_true(tb4_peer_want_build(&ra, true, &w2));
    assert_int_equal(w2.n_routes, 1);
    assert_int_equal(w2.routes[0].len, 0);
    assert_true(e6_addr_is_unspecified(&w2.routes[0].addr));
    assert_false(tb4_peer_want_equal(&w, &w2));

    /* equal regardless of route order; a new mapping is not equal */
    w2 = w;
    struct e6_prefix tmp = w2.routes[0];
    w2.routes[0] = w2.routes[2];
    w2.routes[2] = tmp;
    assert_true(tb4_peer_want_equal(&w, &w2));
    w2.routes[1] = P("2001:db8:300::/48");
    assert_false(tb4_peer_want_equal(&w, &w2));
    struct tb4_ra_info ra2 = ra_for("192.0.2.10", 40002);
    ra2.routes[0] = ra.routes[0];
    ra2.routes[1] = ra.routes[6];
    ra2.n_routes = 2;
    assert_true(tb4_peer_want_build(&ra2, false, &w2));
    assert_int_equal(w2.n_routes, 3);
    assert_false(tb4_peer_want_equal(&w, &w2));

    /* a PIO that is not a 6bed4 /114 is refused */
    struct tb4_ra_info bad = ra;
    bad.pio.len = 64;
    assert_false(tb4_peer_want_build(&bad, false, &w2));
    bad.pio = P("2001:db8:1::/114"); /* port word 0: not a 6bed4 prefix */
    assert_false(tb4_peer_want_build(&bad, true, &w2));
}

static void test_conf_same(void **state)
{
    (void)state;
    struct e6_prefix r1[2] = {P("2001:db8:100::/48"), P("2001:db8:200::/48")};
    struct e6_prefix r2[2] = {P("2001:db8:200::/48"), P("2001:db8:100::/48")};
    struct conf_tunnel a = {.name = "b4",
                            .type = CONF_TUNNEL_6BED4,
                            .mode = CONF_TUN_ROUTER,
                            .port = 25790,
                            .ttl = 64,
                            .mtu = 1280,
                            .prefix = P("2001:db8:1::/64"),
                            .routes = r1,
                            .n_routes = 2,
                            .peers = 16384,
                            .peer_timeout = 120};
    inet_pton(AF_INET, "192.0.2.1", &a.local);
    struct conf_tunnel b = a;
    assert_true(tb4_conf_same(&a, &b));
    /* a peer's keys do not matter to a router */
    b.keepalive = 99;
    b.default_route = true;
    inet_pton(AF_INET, "203.0.113.1", &b.router);
    b.line = 42;
    assert_true(tb4_conf_same(&a, &b));
#define DIFFERS(field, value)                                                                      \
    do {                                                                                           \
        b = a;                                                                                     \
        b.field = value;                                                                           \
        assert_false(tb4_conf_same(&a, &b));                                                       \
    } while (0)
    DIFFERS(mode, CONF_TUN_PEER);
    DIFFERS(local.s_addr, htonl(0xc0000202));
    DIFFERS(port, 25791);
    DIFFERS(ttl, 63);
    DIFFERS(prefix, P("2001:db8:2::/64"));
    DIFFERS(routes, r2); /* order counts: the RA lists them so */
    DIFFERS(n_routes, 1);
    DIFFERS(peers, 0);
    DIFFERS(peer_timeout, 121);

    struct conf_tunnel p = {.name = "b4p",
                            .type = CONF_TUNNEL_6BED4,
                            .mode = CONF_TUN_PEER,
                            .port = 25790,
                            .ttl = 64,
                            .mtu = 1280,
                            .local_port = 0,
                            .keepalive = 30,
                            .keepalive_ttl = 3,
                            .default_route = true};
    inet_pton(AF_INET, "192.0.2.1", &p.router);
    a = p;
    b = p;
    /* a router's keys do not matter to a peer */
    b.peers = 7;
    b.prefix = P("2001:db8:2::/64");
    assert_true(tb4_conf_same(&a, &b));
    DIFFERS(router.s_addr, htonl(0xc0000263));
    DIFFERS(local_port, 50000);
    DIFFERS(keepalive, 29);
    DIFFERS(keepalive_ttl, 4);
    DIFFERS(default_route, false);
    DIFFERS(port, 1);
#undef DIFFERS
}

static void test_resolicit(void **state)
{
    (void)state;
    /* defaults: keepalive 30 s, router lifetime 1800 s: every 2 min */
    assert_int_equal(tb4_resolicit_ms(1800, 30), 120000);
    /* half the router lifetime when that comes first */
    assert_int_equal(tb4_resolicit_ms(180, 30), 90000);
    /* never more often than once a minute */
    assert_int_equal(tb4_resolicit_ms(1800, 1), 60000);
    assert_int_equal(tb4_resolicit_ms(60, 30), 60000);
    /* a router lifetime of 0 (not a default router) bounds nothing */
    assert_int_equal(tb4_resolicit_ms(0, 30), 120000);
    assert_int_equal(tb4_resolicit_ms(0, 0), 60000);
    /* the largest keepalive, bounded by the lifetime */
    assert_int_equal(tb4_resolicit_ms(65535, 3600), 14400000);
    assert_int_equal(tb4_resolicit_ms(1800, 3600), 900000);
}

static void test_render_peers(void **state)
{
    (void)state;
    struct e6_prefix p64 = P("2001:db8:1::/64");
    struct tb4_peer_row rows[2] = {
        {.ep = EP("192.0.2.10", 40000),
         .cls = TB4_PEER_ACTIVE,
         .first_ms = 1000,
         .last_ms = 59000,
         .packets = 42},
        {.ep = EP("198.51.100.7", 50000),
         .cls = TB4_PEER_SOLICITED,
         .first_ms = 61000,
         .last_ms = 61000},
    };
    struct e6_strbuf sb = E6_STRBUF_INIT;
    struct e6_json j;
    e6_json_init(&j, &sb);
    tb4_render_peers(&j, E6_VIEW_JSON, "bed0", &p64, 16384, 2, rows, 2, 61500);
    assert_true(e6_json_done(&j));
    char want[1024];
    struct e6_prefix pp0, pp1;
    char s0[E6_PREFIXSTRLEN], s1[E6_PREFIXSTRLEN];
    assert_true(e6_6bed4_peer_prefix(&p64.addr, rows[0].ep.addr, 40000, &pp0));
    assert_true(e6_6bed4_peer_prefix(&p64.addr, rows[1].ep.addr, 50000, &pp1));
    e6_prefix_format(&pp0, s0, sizeof(s0));
    e6_prefix_format(&pp1, s1, sizeof(s1));
    snprintf(want, sizeof(want),
             "{\"name\":\"bed0\",\"prefix\":\"2001:db8:1::/64\",\"bound\":16384,\"count\":2,"
             "\"peers\":[{\"endpoint\":\"192.0.2.10:40000\",\"prefix\":\"%s\",\"class\":"
             "\"active\",\"first_heard_s\":60,\"last_heard_s\":2,\"packets\":42},"
             "{\"endpoint\":\"198.51.100.7:50000\",\"prefix\":\"%s\",\"class\":\"solicited\","
             "\"first_heard_s\":0,\"last_heard_s\":0,\"packets\":0}]}",
             s0, s1);
    assert_string_equal(e6_strbuf_str(&sb), want);
    assert_non_null(strstr(s0, "/114"));

    /* text, with more peers than rows */
    e6_strbuf_reset(&sb);
    e6_json_init(&j, &sb);
    tb4_render_peers(&j, E6_VIEW_TEXT, "bed0", &p64, 16384, 5, rows, 1, 61500);
    const char *t = e6_strbuf_str(&sb);
    assert_non_null(strstr(t, "bed0: prefix 2001:db8:1::/64, 5 live peers (at most 16384)"));
    assert_non_null(strstr(t, "192.0.2.10:40000"));
    assert_non_null(strstr(t, s0));
    assert_non_null(strstr(t, "active, first heard 60 s ago, last 2 s ago, 42 packets"));
    assert_null(strstr(t, "198.51.100.7"));
    assert_non_null(strstr(t, "... and 4 more"));

    /* an empty table */
    e6_strbuf_reset(&sb);
    e6_json_init(&j, &sb);
    tb4_render_peers(&j, E6_VIEW_JSON, "bed0", &p64, 0, 0, NULL, 0, 0);
    assert_string_equal(e6_strbuf_str(&sb), "{\"name\":\"bed0\",\"prefix\":\"2001:db8:1::/64\","
                                            "\"bound\":0,\"count\":0,\"peers\":[]}");
    e6_strbuf_free(&sb);

    char buf[TB4_EPSTRLEN];
    assert_string_equal(tb4_ep_format(EP("255.255.255.255", 65535), buf, sizeof(buf)),
                        "255.255.255.255:65535");
}

static void test_rows_collect(void **state)
{
    (void)state;
    struct tb4_peers p;
    assert_int_equal(tb4_peers_init(&p, 8, 10000), 0);
    for (uint16_t i = 1; i <= 5; i++)
        assert_int_equal(tb4_peers_touch(&p, EP("192.0.2.1", (uint16_t)(40000 + i)),
                                         TB4_PEER_ACTIVE, i, 1000u * i),
                         1);
    struct tb4_peer_row v[3];
    struct tb4_rows rows = {.v = v, .cap = 3};
    tb4_rows_collect(&p, &rows);
    assert_int_equal(rows.n, 3); /* capped, most recent first */
    assert_int_equal(v[0].ep.port, 40005);
    assert_int_equal(v[0].packets, 5);
    assert_int_equal(v[0].last_ms, 5000);
    assert_int_equal(v[2].ep.port, 40003);
    struct tb4_rows none = {.v = NULL, .cap = 0};
    tb4_rows_collect(&p, &none);
    assert_int_equal(none.n, 0);
    tb4_peers_destroy(&p);
}

static void test_counter_names(void **state)
{
    (void)state;
    tb4_counter_names_init();
    for (size_t i = 0; i < B4__COUNT; i++) {
        assert_non_null(tb4_counter_names[i]);
        assert_true(tb4_counter_names[i][0] != '\0');
        for (size_t k = 0; k < i; k++)
            assert_string_not_equal(tb4_counter_names[i], tb4_counter_names[k]);
    }
    for (size_t d = 1; d < TB4_D__COUNT; d++) {
        char want[64];
        snprintf(want, sizeof(want), "drop_%s", tb4_drop_name((enum tb4_drop)d));
        assert_string_equal(tb4_counter_names[B4_DROP_BASE + d], want);
    }
    assert_string_equal(tb4_counter_names[B4_RA_SUPPRESSED], "ra_suppressed");
    assert_string_equal(tb4_counter_names[B4_HAIRPIN_PACKETS], "hairpin_packets");
}

static void render(void *s, enum e6_view_format fmt, struct e6_strbuf *sb,
                   void (*fn)(struct e6_json *, enum e6_view_format, void *))
{
    struct e6_json j;
    e6_strbuf_reset(sb);
    e6_json_init(&j, sb);
    fn(&j, fmt, s);
    if (fmt == E6_VIEW_JSON)
        assert_true(e6_json_done(&j));
}

static void test_service_empty(void **state)
{
    (void)state;
    struct e6_loop *loop;
    assert_int_equal(e6_loop_new_fake(&loop, 0), 0);
    struct e6_counter_registry *reg = e6_counter_registry_new();
    assert_non_null(reg);
    struct tb4_service_env env = {.loop = loop, .registry = reg};
    struct tb4_service *s;
    assert_int_equal(tb4_service_new(&s, &env), 0);
    assert_int_equal(e6_counter_registry_count(reg), 1);
    struct e6_counters *set = e6_counter_registry_at(reg, 0);
    assert_string_equal(e6_counters_module(set), "6bed4");
    assert_int_equal(e6_counters_size(set), B4__COUNT);

    struct conf c = {0};
    char err[256] = "";
    assert_int_equal(tb4_service_start(s, &c, err, sizeof(err)), 0);
    struct in6_addr x = A("2001:db8:1::1");
    assert_int_equal(tb4_service_member(s, "bed0", &x), -1);
    assert_int_equal(tb4_service_member(s, NULL, &x), -1);
    assert_false(tb4_service_has_router(s, "bed0"));

    struct e6_strbuf sb = E6_STRBUF_INIT;
    render(s, E6_VIEW_TEXT, &sb, tb4_service_view);
    assert_string_equal(e6_strbuf_str(&sb), "6bed4 tunnels (0)\n");
    render(s, E6_VIEW_JSON, &sb, tb4_service_view);
    assert_string_equal(e6_strbuf_str(&sb), "{\"tunnels\":[]}");
    render(s, E6_VIEW_JSON, &sb, tb4_service_peers_view);
    assert_string_equal(e6_strbuf_str(&sb), "{\"tunnels\":[]}");
    struct tb4_peers_query q = {.service = s, .tunnel = "bed0"};
    render(&q, E6_VIEW_TEXT, &sb, tb4_service_peers_query_view);
    assert_string_equal(e6_strbuf_str(&sb), "6bed4 peers\n");

    /* a 6in4 tunnel is left to its own module */
    struct conf_tunnel t4 = {.name = "t6", .type = CONF_TUNNEL_6IN4, .mode = CONF_TUN_SERVER};
    struct conf c2 = {.tunnels = &t4, .n_tunnels = 1};
    assert_int_equal(tb4_service_reconcile(s, &c, &c2, err, sizeof(err)), 0);
    render(s, E6_VIEW_TEXT, &sb, tb4_service_view);
    assert_string_equal(e6_strbuf_str(&sb), "6bed4 tunnels (0)\n");

    tb4_service_stop(s);
    tb4_service_stop(s); /* twice is harmless */
    tb4_service_free(s);
    tb4_service_free(NULL);
    e6_strbuf_free(&sb);
    e6_counter_registry_free(reg);
    e6_loop_free(loop);
}

/* A name the kernel cannot take is refused before anything is created. */
static void test_service_refuses(void **state)
{
    (void)state;
    struct e6_loop *loop;
    assert_int_equal(e6_loop_new_fake(&loop, 0), 0);
    struct tb4_service_env env = {.loop = loop, .queues = 2};
    struct tb4_service *s;
    assert_int_equal(tb4_service_new(&s, &env), 0);
    struct conf_tunnel t = {.name = "a-name-far-too-long-for-linux",
                            .type = CONF_TUNNEL_6BED4,
                            .mode = CONF_TUN_ROUTER,
                            .port = 25790,
                            .prefix = P("2001:db8:1::/64"),
                            .peers = 16,
                            .peer_timeout = 120,
                            .ttl = 64,
                            .mtu = 1280};
    struct conf c = {.tunnels = &t, .n_tunnels = 1};
    char err[256] = "";
    assert_int_equal(tb4_service_start(s, &c, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "name too long"));
    struct in6_addr x = A("2001:db8:1::1");
    assert_int_equal(tb4_service_member(s, NULL, &x), -1);
    /* the same through a reload */
    struct conf empty = {0};
    err[0] = '\0';
    assert_int_equal(tb4_service_reconcile(s, &empty, &c, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "name too long"));
    tb4_service_free(s);
    e6_loop_free(loop);
}

/* which datagrams join a UDP_SEGMENT run */
static void test_omsg_joins(void **state)
{
    (void)state;
    struct tb4_endpoint a = EP("192.0.2.1", 40000), b = EP("192.0.2.1", 40001);
    struct tb4_omsg o = {.ep = a, .named = true, .kind = 1, .seg = 1280, .nseg = 1, .bytes = 1280};
    assert_true(tb4_omsg_joins(&o, 1, true, a, 1280));
    assert_true(tb4_omsg_joins(&o, 1, true, a, 100));    /* a shorter last one */
    assert_false(tb4_omsg_joins(&o, 2, true, a, 1280));  /* another kind */
    assert_false(tb4_omsg_joins(&o, 1, true, b, 1280));  /* another port */
    assert_false(tb4_omsg_joins(&o, 1, false, a, 1280)); /* connected vs named */
    assert_false(tb4_omsg_joins(&o, 1, true, a, 1281));  /* longer than the segment */
    assert_false(tb4_omsg_joins(&o, 1, true, a, 0));     /* empty: a keepalive */
    /* a run ended by a shorter datagram takes no more */
    o.nseg = 2;
    o.bytes = 1280 + 100;
    assert_false(tb4_omsg_joins(&o, 1, true, a, 100));
    /* unnamed (a peer's connected socket): no endpoint to compare */
    struct tb4_omsg c = {.named = false, .kind = 1, .seg = 48, .nseg = 1, .bytes = 48};
    assert_true(tb4_omsg_joins(&c, 1, false, b, 48));
    /* the limits: TB4_UDP_GSO_SEGS datagrams, TB4_UDP_GSO_BYTES bytes */
    c.nseg = TB4_UDP_GSO_SEGS - 1;
    c.bytes = 48u * c.nseg;
    assert_true(tb4_omsg_joins(&c, 1, false, b, 48));
    c.nseg = TB4_UDP_GSO_SEGS;
    c.bytes = 48u * c.nseg;
    assert_false(tb4_omsg_joins(&c, 1, false, b, 48));
    o = (struct tb4_omsg){.ep = a, .named = true, .kind = 1, .seg = 1280};
    o.nseg = TB4_UDP_GSO_BYTES / 1280;
    o.bytes = 1280u * o.nseg;
    assert_true(o.bytes + 1280 > TB4_UDP_GSO_BYTES);
    assert_false(tb4_omsg_joins(&o, 1, true, a, 1280));
    assert_true(tb4_omsg_joins(&o, 1, true, a, TB4_UDP_GSO_BYTES - o.bytes));
    /* a segment size of 0 is no segmentation */
    o = (struct tb4_omsg){.ep = a, .named = true, .kind = 1};
    assert_false(tb4_omsg_joins(&o, 1, true, a, 0));
}

/* tun_dev_offload_negotiate and _setup: asked of something that is not a TUN, or told off */
static void test_offload_negotiate(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    char why[64];
    int refused = -1;
    unsetenv("EDGE6_TUN_OFFLOAD");
    assert_int_equal(tun_dev_offload_negotiate(fds[0], why, sizeof(why), &refused), 0);
    assert_int_not_equal(refused, 0); /* ENOTTY or EINVAL: every step refused */
    assert_non_null(strstr(why, "off (the kernel refused: "));
    setenv("EDGE6_TUN_OFFLOAD", "off", 1);
    assert_int_equal(tun_dev_offload_negotiate(fds[0], why, sizeof(why), &refused), 0);
    assert_int_equal(refused, 0);
    assert_string_equal(why, "off (EDGE6_TUN_OFFLOAD=off)");
    setenv("EDGE6_TUN_OFFLOAD", "no", 1);
    assert_int_equal(tun_dev_offload_negotiate(fds[0], why, sizeof(why), &refused), 0);
    assert_string_equal(why, "off (EDGE6_TUN_OFFLOAD=no)");
    /* anything else is not "off": the kernel is asked */
    setenv("EDGE6_TUN_OFFLOAD", "on", 1);
    assert_int_equal(tun_dev_offload_negotiate(fds[0], why, sizeof(why), &refused), 0);
    assert_int_not_equal(refused, 0);
    /* tun_dev_offload_setup: the same answer (logged) */
    assert_int_equal(tun_dev_offload_setup(fds[0], "b4t", why, sizeof(why)), 0);
    assert_non_null(strstr(why, "off (the kernel refused: "));
    setenv("EDGE6_TUN_OFFLOAD", "off", 1);
    assert_int_equal(tun_dev_offload_setup(fds[0], "b4t", why, sizeof(why)), 0);
    assert_string_equal(why, "off (EDGE6_TUN_OFFLOAD=off)");
    unsetenv("EDGE6_TUN_OFFLOAD");
    close(fds[0]);
    close(fds[1]);
}

/* ---- the peer's workers over socketpairs ---------------------------------- */

static size_t ip6_packet(uint8_t *p, const struct in6_addr *src, const struct in6_addr *dst)
{
    memset(p, 0, 48);
    p[0] = 0x60;
    p[5] = 8;  /* payload length */
    p[6] = 59; /* no next header */
    p[7] = 64;
    memcpy(p + 8, src, 16);
    memcpy(p + 24, dst, 16);
    return 48;
}

static bool wait_readable(int fd, int ms)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    return poll(&pfd, 1, ms) == 1;
}

static uint64_t wait_count(struct e6_counters *set, size_t idx, uint64_t want)
{
    for (int i = 0; i < 2000 && e6_counters_get(set, idx) < want; i++) {
        struct timespec ts = {.tv_nsec = 1000000};
        nanosleep(&ts, NULL);
    }
    return e6_counters_get(set, idx);
}

/* an encap worker on tunfd and the decap worker of f, counting into set */
static void workers_start(struct e6_counters *set, struct tb4_fast *f, int tunfd,
                          struct tb4_worker *enc, struct tb4_worker *dec)
{
    *enc = (struct tb4_worker){.kind = TB4_W_ENCAP, .tunfd = tunfd, .th = TUN_THREAD_INIT};
    *dec = (struct tb4_worker){.kind = TB4_W_DECAP, .tunfd = -1, .th = TUN_THREAD_INIT};
    enc->cnt = e6_counters_block(set);
    dec->cnt = e6_counters_block(set);
    char err[128];
    assert_int_equal(tb4_worker_start(enc, f, err, sizeof(err)), 0);
    assert_int_equal(tb4_worker_start(dec, f, err, sizeof(err)), 0);
}

static void test_peer_workers(void **state)
{
    (void)state;
    int tun[2], udp[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, tun), 0);
    assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, udp), 0);
    tb4_counter_names_init();
    struct e6_counters *set = e6_counters_new(NULL, "6bed4", tb4_counter_names, B4__COUNT);
    assert_non_null(set);

    struct tb4_ra_info ra = ra_for("192.0.2.10", 40000);
    struct in6_addr self;
    assert_true(tb4_peer_address(&ra.pio, &self));
    struct tb4_fast f = {.router = false, .udpfd = udp[0], .tunfd0 = tun[0], .rafd = -1};
    f.router_ep = EP("203.0.113.1", 25790);
    assert_int_equal(pthread_mutex_init(&f.mu, NULL), 0);
    f.have_self = true;
    f.self = self;

    struct tb4_worker enc, dec;
    workers_start(set, &f, tun[0], &enc, &dec);

    /* ours goes to the router; a foreign source and multicast do not */
    uint8_t pkt[64], got[256];
    struct in6_addr far = A("2001:db8:ffff::1"), other = A("2001:db8:2::5"), mc = A("ff02::1");
    size_t n = ip6_packet(pkt, &self, &far);
    assert_int_equal(send(tun[1], pkt, n, 0), (ssize_t)n);
    n = ip6_packet(pkt, &other, &far);
    assert_int_equal(send(tun[1], pkt, n, 0), (ssize_t)n);
    n = ip6_packet(pkt, &self, &mc);
    assert_int_equal(send(tun[1], pkt, n, 0), (ssize_t)n);
    n = ip6_packet(pkt, &self, &far);
    pkt[47] = 0xab;
    assert_int_equal(send(tun[1], pkt, n, 0), (ssize_t)n);
    assert_true(wait_readable(udp[1], 2000));
    assert_int_equal(recv(udp[1], got, sizeof(got), 0), 48);
    assert_int_equal(got[47], 0);
    assert_true(wait_readable(udp[1], 2000));
    assert_int_equal(recv(udp[1], got, sizeof(got), 0), 48);
    assert_int_equal(got[47], 0xab);
    assert_int_equal(wait_count(set, B4_ENCAP_PACKETS, 2), 2);
    assert_int_equal(e6_counters_get(set, B4_ENCAP_BYTES), 96);
    uint64_t dropped = 0;
    for (size_t d = 1; d < TB4_D__COUNT; d++)
        dropped += e6_counters_get(set, B4_DROP_BASE + d);
    assert_int_equal(dropped, 2);

    /* with a virtio_net_hdr before every TUN packet: stripped on the way
     * out, a header the kernel would never write refused and counted */
    tb4_worker_stop(&enc);
    tb4_worker_stop(&dec);
    f.vnet = true;
    char err[128];
    assert_int_equal(tb4_worker_start(&enc, &f, err, sizeof(err)), 0);
    assert_int_equal(tb4_worker_start(&dec, &f, err, sizeof(err)), 0);
    uint8_t vb[10 + 64];
    memset(vb, 0, 10);
    n = ip6_packet(vb + 10, &self, &far);
    vb[10 + 47] = 0xcd;
    assert_int_equal(send(tun[1], vb, 10 + n, 0), (ssize_t)(10 + n));
    vb[0] = 0x80; /* flags nobody defined */
    assert_int_equal(send(tun[1], vb, 10 + n, 0), (ssize_t)(10 + n));
    vb[0] = 0;
    assert_int_equal(send(tun[1], vb, 9, 0), 9); /* shorter than the header */
    assert_true(wait_readable(udp[1], 2000));
    assert_int_equal(recv(udp[1], got, sizeof(got), 0), 48);
    assert_int_equal(got[0], 0x60);
    assert_int_equal(got[47], 0xcd);
    assert_int_equal(wait_count(set, B4_ENCAP_PACKETS, 3), 3);
    assert_int_equal(wait_count(set, B4_GSO_DROP_BASE + GSO_R_SHORT, 1), 1);
    assert_int_equal(e6_counters_get(set, B4_GSO_DROP_BASE + GSO_R_FLAGS), 1);
    assert_false(wait_readable(udp[1], 50));

    /* a datagram from something that is not IPv4 is not the router */
    assert_int_equal(send(udp[1], pkt, n, 0), (ssize_t)n);
    assert_int_equal(wait_count(set, B4_DROP_BASE + TB4_D_SPOOFED, 1), 1);
    assert_int_equal(e6_counters_get(set, B4_DECAP_PACKETS), 0);
    assert_false(wait_readable(tun[1], 50));

    tb4_worker_stop(&enc);
    tb4_worker_stop(&dec);
    tb4_worker_stop(&dec); /* twice is harmless */
    pthread_mutex_destroy(&f.mu);
    e6_counters_free(set);
    for (int i = 0; i < 2; i++) {
        close(tun[i]);
        close(udp[i]);
    }
}

/* a UDP socket on 127.0.0.1 (port chosen by the kernel), non-blocking */
static int udp_lo(struct sockaddr_in *sa)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    assert_true(fd >= 0);
    *sa = (struct sockaddr_in){.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)sa, sizeof(*sa)), 0);
    socklen_t sl = sizeof(*sa);
    assert_int_equal(getsockname(fd, (struct sockaddr *)sa, &sl), 0);
    return fd;
}

/*
 * The peer's workers on real UDP sockets over loopback with UDP_SEGMENT
 * and UDP_GRO: three TUN packets of one length leave as one send that the
 * router's (plain) socket receives as three datagrams; a run the router
 * sends with UDP_SEGMENT arrives as one coalesced buffer and enters the
 * TUN as its three packets.
 */
static void test_peer_udp_offloads(void **state)
{
    (void)state;
    int tun[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, tun), 0);
    struct sockaddr_in psa, rsa;
    int pfd = udp_lo(&psa), rfd = udp_lo(&rsa);
    assert_int_equal(connect(pfd, (struct sockaddr *)&rsa, sizeof(rsa)), 0);
    int one = 1, zero = 0;
    if (setsockopt(pfd, SOL_UDP, UDP_SEGMENT, &zero, sizeof(zero)) < 0 ||
        setsockopt(pfd, SOL_UDP, UDP_GRO, &one, sizeof(one)) < 0) {
        close(pfd);
        close(rfd);
        close(tun[0]);
        close(tun[1]);
        skip(); /* a kernel before 5.0: nothing to test */
    }
    tb4_counter_names_init();
    struct e6_counters *set = e6_counters_new(NULL, "6bed4", tb4_counter_names, B4__COUNT);
    assert_non_null(set);
    struct tb4_ra_info ra = ra_for("192.0.2.10", 40000);
    struct in6_addr self;
    assert_true(tb4_peer_address(&ra.pio, &self));
    struct tb4_fast f = {.router = false,
                         .udpfd = pfd,
                         .tunfd0 = tun[0],
                         .rafd = -1,
                         .udp_gso = true,
                         .udp_gro = true};
    f.router_ep = (struct tb4_endpoint){.addr = rsa.sin_addr, .port = ntohs(rsa.sin_port)};
    assert_int_equal(pthread_mutex_init(&f.mu, NULL), 0);
    f.have_self = true;
    f.self = self;

    /* queued before the worker starts: one read batch, one run */
    uint8_t pkt[64], got[4096];
    struct in6_addr far = A("2001:db8:ffff::1");
    size_t n = ip6_packet(pkt, &self, &far);
    for (int i = 0; i < 3; i++) {
        pkt[47] = (uint8_t)i;
        assert_int_equal(send(tun[1], pkt, n, 0), (ssize_t)n);
    }
    struct tb4_worker enc, dec;
    workers_start(set, &f, tun[0], &enc, &dec);
    for (int i = 0; i < 3; i++) {
        assert_true(wait_readable(rfd, 2000));
        assert_int_equal(recv(rfd, got, sizeof(got), 0), 48);
        assert_int_equal(got[47], i);
    }
    assert_int_equal(wait_count(set, B4_ENCAP_PACKETS, 3), 3);
    assert_int_equal(e6_counters_get(set, B4_UDP_GSO_SENDS), 1);
    assert_int_equal(e6_counters_get(set, B4_UDP_GSO_DATAGRAMS), 3);
    assert_int_equal(e6_counters_get(set, B4_UDP_GSO_FALLBACKS), 0);

    /* the router's run: 48, 48 and a shorter 40-byte last datagram */
    uint8_t run[3 * 48];
    for (int i = 0; i < 3; i++) {
        ip6_packet(run + 48 * i, &far, &self);
        run[48 * i + 47] = (uint8_t)(0x10 + i);
    }
    run[2 * 48 + 5] = 0; /* the last: payload length 0, 40 bytes */
    struct iovec iov = {.iov_base = run, .iov_len = 2 * 48 + 40};
    uint8_t ctl[CMSG_SPACE(sizeof(uint16_t))] = {0};
    struct msghdr h = {.msg_name = &psa,
                       .msg_namelen = sizeof(psa),
                       .msg_iov = &iov,
                       .msg_iovlen = 1,
                       .msg_control = ctl,
                       .msg_controllen = sizeof(ctl)};
    struct cmsghdr *cm = CMSG_FIRSTHDR(&h);
    cm->cmsg_level = SOL_UDP;
    cm->cmsg_type = UDP_SEGMENT;
    cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
    uint16_t seg = 48;
    memcpy(CMSG_DATA(cm), &seg, sizeof(seg));
    assert_int_equal(sendmsg(rfd, &h, 0), 2 * 48 + 40);
    size_t want[3] = {48, 48, 40};
    for (int i = 0; i < 3; i++) {
        assert_true(wait_readable(tun[1], 2000));
        assert_int_equal(recv(tun[1], got, sizeof(got), 0), (ssize_t)want[i]);
        assert_int_equal(got[0], 0x60);
        if (i < 2)
            assert_int_equal(got[47], 0x10 + i);
    }
    assert_int_equal(wait_count(set, B4_DECAP_PACKETS, 3), 3);
    assert_int_equal(e6_counters_get(set, B4_UDP_GRO_RECEIVES), 1);
    assert_int_equal(e6_counters_get(set, B4_UDP_GRO_DATAGRAMS), 3);
    assert_int_equal(e6_counters_get(set, B4_RX_TRUNCATED), 0);

    /* larger than a plain slot: refused though the GRO slot holds it, a
     * single datagram and each of a run alike, and nothing enters the TUN */
    static uint8_t big[2 * 3000];
    for (int i = 0; i < 2; i++)
        ip6_packet(big + 3000 * i, &far, &self);
    assert_int_equal(sendto(rfd, big, 3000, 0, (struct sockaddr *)&psa, sizeof(psa)), 3000);
    assert_int_equal(wait_count(set, B4_RX_TRUNCATED, 1), 1);
    iov = (struct iovec){.iov_base = big, .iov_len = sizeof(big)};
    seg = 3000;
    memcpy(CMSG_DATA(cm), &seg, sizeof(seg));
    assert_int_equal(sendmsg(rfd, &h, 0), (ssize_t)sizeof(big));
    assert_int_equal(wait_count(set, B4_RX_TRUNCATED, 3), 3);
    assert_int_equal(e6_counters_get(set, B4_DECAP_PACKETS), 3);
    assert_false(wait_readable(tun[1], 50));

    tb4_worker_stop(&enc);
    tb4_worker_stop(&dec);
    pthread_mutex_destroy(&f.mu);
    e6_counters_free(set);
    close(pfd);
    close(rfd);
    close(tun[0]);
    close(tun[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bucket),
        cmocka_unit_test(test_touch),
        cmocka_unit_test(test_peer_want),
        cmocka_unit_test(test_conf_same),
        cmocka_unit_test(test_resolicit),
        cmocka_unit_test(test_render_peers),
        cmocka_unit_test(test_rows_collect),
        cmocka_unit_test(test_counter_names),
        cmocka_unit_test(test_service_empty),
        cmocka_unit_test(test_service_refuses),
        cmocka_unit_test(test_offload_negotiate),
        cmocka_unit_test(test_peer_workers),
        cmocka_unit_test(test_omsg_joins),
        cmocka_unit_test(test_peer_udp_offloads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
