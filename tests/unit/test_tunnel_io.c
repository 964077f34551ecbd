/* tests for tunnel/io without a kernel: the addresses and routes a 6in4
 * section asks for (server, client with and without a default route), the
 * interfaces whose forwarding matters, sysctl paths and every refused
 * name, the counter names, the snapshot hand-off's wait, the decap worker
 * thread over socketpairs (delivery, spoofs refused and counted, a table
 * swapped under it while it runs), and the service
 * with no tunnel (member, views, reconcile, stop) or with one it must
 * refuse before touching the kernel */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
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
#include <linux/if_tun.h>

#include "common/addr.h"
#include "common/counters.h"
#include "common/ip6.h"
#include "common/log.h"
#include "common/loop.h"
#include "conf/conf.h"
#include "tunnel/io.h"
#include "tunnel/io_int.h"
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

static struct in_addr
V4(const char *s) {
    struct in_addr a;
    assert_int_equal(inet_pton(AF_INET, s, &a), 1);
    return a;
}

static void
test_want_server(void **state)
{
    (void)state;
    struct e6_prefix r0[2] = {P("2001:db8:100::/64"), P("2001:db8:200::/56")};
    struct e6_prefix r1[1] = {P("2001:db8:300::/64")};
    struct conf_tunnel_client cl[2] = {
        {.name = "a",
         .client_address = A("2001:db8:1::2"),
         .client_plen = 64,
         .server_address = A("2001:db8:1::1"),
         .routed = r0,
         .n_routed = 2},
        {.name = "b",
         .client_address = A("2001:db8:2::1"),
         .client_plen = 127,
         .server_address = A("2001:db8:2::"),
         .routed = r1,
         .n_routed = 1},
    };
    struct conf_tunnel t = {.name = "t",
                            .type = CONF_TUNNEL_6IN4,
                            .mode = CONF_TUN_SERVER,
                            .clients = cl,
                            .n_clients = 2};
    struct tun_addr_want *a;
    struct tun_route_want *r;
    size_t na, nr;
    assert_int_equal(tun_want_build(&t, &a, &na, &r, &nr), 0);
    assert_int_equal(na, 2);
    assert_true(e6_addr_equal(&a[0].addr, &cl[0].server_address));
    assert_int_equal(a[0].plen, 64);
    assert_true(e6_addr_equal(&a[1].addr, &cl[1].server_address));
    assert_int_equal(a[1].plen, 127);
    assert_int_equal(nr, 3);
    assert_true(e6_prefix_equal(&r[0].dst, &r0[0]));
    assert_true(e6_prefix_equal(&r[1].dst, &r0[1]));
    assert_true(e6_prefix_equal(&r[2].dst, &r1[0]));
    for (size_t i = 0; i < nr; i++)
        assert_int_equal(r[i].metric, 0); /* the kernel's default */
    free(a);
    free(r);

    /* a client without routed prefixes: its link address only */
    cl[0].n_routed = 0;
    t.n_clients = 1;
    assert_int_equal(tun_want_build(&t, &a, &na, &r, &nr), 0);
    assert_int_equal(na, 1);
    assert_int_equal(nr, 0);
    assert_null(r);
    free(a);
}

static void test_want_client(void **state)
{
    (void)state;
    struct conf_tunnel t = {.name = "t",
                            .type = CONF_TUNNEL_6IN4,
                            .mode = CONF_TUN_CLIENT,
                            .client_address = A("2001:db8:1::2"),
                            .client_plen = 64,
                            .server_address = A("2001:db8:1::1"),
                            .default_route = true};
    struct tun_addr_want *a;
    struct tun_route_want *r;
    size_t na, nr;
    assert_int_equal(tun_want_build(&t, &a, &na, &r, &nr), 0);
    assert_int_equal(na, 1);
    assert_true(e6_addr_equal(&a[0].addr, &t.client_address)); /* ours, not the server's */
    assert_int_equal(a[0].plen, 64);
    assert_int_equal(nr, 1);
    assert_int_equal(r[0].dst.len, 0);
    assert_true(e6_addr_is_unspecified(&r[0].dst.addr));
    assert_int_equal(r[0].metric, TUN_DEFAULT_METRIC);
    free(a);
    free(r);

    t.default_route = false;
    assert_int_equal(tun_want_build(&t, &a, &na, &r, &nr), 0);
    assert_int_equal(na, 1);
    assert_int_equal(nr, 0);
    free(a);
}

static void test_routed_ifaces(void **state)
{
    (void)state;
    struct conf c = {0};
    const char **v;
    /* nothing routed: nothing to check */
    assert_int_equal(tun_routed_ifaces(&c, &v), 0);
    assert_null(v);

    struct conf_interface ifs[3] = {
        {.name = "lan0", .advertise = true},
        {.name = "quiet0", .advertise = false},
        {.name = "eth0", .advertise = true}, /* also a proxy: listed once */
    };
    c.interfaces = ifs;
    c.n_interfaces = 3;
    /* advertising alone routes nothing */
    assert_int_equal(tun_routed_ifaces(&c, &v), 0);

    struct conf_tunnel tu[3] = {
        {.name = "bed0", .type = CONF_TUNNEL_6BED4, .mode = CONF_TUN_PEER},
        {.name = "tun6in4", .type = CONF_TUNNEL_6IN4},
        {.name = "bedr", .type = CONF_TUNNEL_6BED4, .mode = CONF_TUN_ROUTER},
    };
    c.tunnels = tu;
    c.n_tunnels = 1;
    /* a 6bed4 peer is a host: it routes nothing */
    assert_int_equal(tun_routed_ifaces(&c, &v), 0);

    c.n_tunnels = 2;
    struct conf_proxy px[1] = {{.name = "eth0"}};
    c.proxies = px;
    c.n_proxies = 1;
    int n = tun_routed_ifaces(&c, &v);
    assert_int_equal(n, 3);
    assert_string_equal(v[0], "tun6in4");
    assert_string_equal(v[1], "eth0");
    assert_string_equal(v[2], "lan0");
    free(v);

    /* a proxy without a tunnel: the proxy's own checks speak for it */
    c.n_tunnels = 0;
    assert_int_equal(tun_routed_ifaces(&c, &v), 0);
    assert_null(v);
    /* a 6bed4 peer with a proxy: still nothing routed */
    c.n_tunnels = 1;
    assert_int_equal(tun_routed_ifaces(&c, &v), 0);
    /* a 6bed4 router forwards between its TUN and the upstream */
    c.n_tunnels = 3;
    n = tun_routed_ifaces(&c, &v);
    assert_int_equal(n, 4);
    assert_string_equal(v[0], "tun6in4");
    assert_string_equal(v[1], "bedr");
    assert_string_equal(v[2], "eth0");
    free(v);
}

static void test_sysctl_path(void **state)
{
    (void)state;
    char buf[128];
    assert_true(tun_sysctl_path("eth0", buf, sizeof(buf)));
    assert_string_equal(buf, "/proc/sys/net/ipv6/conf/eth0/forwarding");
    assert_true(tun_sysctl_path("all", buf, sizeof(buf)));
    assert_string_equal(buf, "/proc/sys/net/ipv6/conf/all/forwarding");
    /* a VLAN's dot stays a dot in /proc (sysctl(8) spells it with a slash) */
    assert_true(tun_sysctl_path("eth0.100", buf, sizeof(buf)));
    assert_string_equal(buf, "/proc/sys/net/ipv6/conf/eth0.100/forwarding");
    assert_false(tun_sysctl_path("", buf, sizeof(buf)));
    assert_false(tun_sysctl_path(".", buf, sizeof(buf)));
    assert_false(tun_sysctl_path("..", buf, sizeof(buf)));
    assert_false(tun_sysctl_path("a/b", buf, sizeof(buf)));
    assert_false(tun_sysctl_path("../../../etc", buf, sizeof(buf)));
    assert_false(tun_sysctl_path("sixteen-chars-xx", buf, sizeof(buf)));
    assert_true(tun_sysctl_path("fifteen-chars-x", buf, sizeof(buf)));
    /* does not fit the buffer */
    assert_false(tun_sysctl_path("eth0", buf, 20));
}

static void test_counter_names(void **state)
{
    (void)state;
    tun_counter_names_init();
    for (size_t i = 0; i < TC__COUNT; i++) {
        assert_non_null(tun_counter_names[i]);
        assert_true(tun_counter_names[i][0] != '\0');
        for (size_t k = 0; k < i; k++)
            assert_string_not_equal(tun_counter_names[i], tun_counter_names[k]);
    }
    for (size_t d = TUN_OK + 1; d < TUN_D__COUNT; d++) {
        char want[64];
        snprintf(want, sizeof(want), "drop_%s", tun_drop_name((enum tun_drop)d));
        assert_string_equal(tun_counter_names[TC_DROP_BASE + d], want);
    }
    for (size_t g = GSO_OK + 1; g < GSO_R__COUNT; g++)
        assert_string_equal(tun_counter_names[TC_GSO_DROP_BASE + g],
                            gso_reject_name((enum gso_reject)g));
    assert_string_equal(tun_counter_names[TC_GSO_SEGMENTS], "gso_segments");
    assert_string_equal(tun_counter_names[TC_GRO_PACKETS], "gro_packets");
}

/* A worker in the middle of a batch: synchronize must wait for it. */
struct fake {
    struct tun_worker w;
    _Atomic bool waited;
};

static void *finish_batch(void *arg)
{
    struct fake *f = arg;
    struct timespec ts = {.tv_nsec = 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
    atomic_store(&f->waited, true);
    atomic_fetch_add(&f->w.seq, 1); /* even: the batch is over */
    return NULL;
}

static void test_synchronize(void **state)
{
    (void)state;
    struct fake f = {.w = {.th.running = true}};
    atomic_store(&f.w.seq, 4); /* between batches: no wait */
    struct tun_worker *ws[3] = {&f.w, NULL, NULL};
    tun_snap_synchronize(ws, 3);

    struct tun_worker idle = {.th.running = false};
    atomic_store(&idle.seq, 7); /* not running: ignored whatever its number */
    ws[1] = &idle;
    tun_snap_synchronize(ws, 2);

    atomic_store(&f.w.seq, 5); /* inside a batch */
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, finish_batch, &f), 0);
    tun_snap_synchronize(ws, 2);
    assert_true(atomic_load(&f.waited));
    assert_int_equal(atomic_load(&f.w.seq), 6);
    pthread_join(th, NULL);
}

/* TUN queues per tunnel: asked, else one per CPU up to the automatic bound */
static void test_queues(void **state)
{
    (void)state;
    assert_int_equal(tun_dev_queues(3, 4, 8), 3);
    assert_int_equal(tun_dev_queues(20, 4, 8), 8);
    assert_int_equal(tun_dev_queues(6, 4, 8), 6); /* asked: past the automatic bound */
    unsigned q = tun_dev_queues(0, 4, 8);
    assert_true(q >= 1 && q <= 4);
    assert_int_equal(tun_dev_queues(0, 1, 8), 1);
    assert_int_equal(tun_dev_queues(0, 4, 2) <= 2, true);
}

/* tunnel/worker's send batch: a refused message is reported and skipped */
struct sent_log {
    size_t sent[4], n_sent;
    size_t refused[4], n_refused;
    int err;
};

static void log_sent(void *arg, size_t i)
{
    struct sent_log *l = arg;
    l->sent[l->n_sent++] = i;
}

static void log_refused(void *arg, size_t i, int err)
{
    struct sent_log *l = arg;
    l->refused[l->n_refused++] = i;
    l->err = err;
}

static void test_send_batch(void **state)
{
    (void)state;
    int sp[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sp), 0);
    uint8_t data[3][8] = {{1}, {2}, {3}};
    struct iovec iov[3];
    struct mmsghdr msg[3];
    /* an IPv4 address on an AF_UNIX socket: the kernel refuses that one */
    struct sockaddr_in bad = {.sin_family = AF_INET, .sin_port = htons(9)};
    for (int i = 0; i < 3; i++) {
        iov[i] = (struct iovec){.iov_base = data[i], .iov_len = sizeof(data[i])};
        msg[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &iov[i], .msg_iovlen = 1}};
    }
    msg[1].msg_hdr.msg_name = &bad;
    msg[1].msg_hdr.msg_namelen = sizeof(bad);
    struct sent_log l = {0};
    tun_send_batch(sp[0], msg, 3, log_sent, log_refused, &l);
    assert_int_equal(l.n_sent, 2);
    assert_int_equal(l.sent[0], 0);
    assert_int_equal(l.sent[1], 2);
    assert_int_equal(l.n_refused, 1);
    assert_int_equal(l.refused[0], 1);
    assert_int_not_equal(l.err, 0);
    uint8_t got[16];
    assert_int_equal(recv(sp[1], got, sizeof(got), MSG_DONTWAIT), 8);
    assert_int_equal(got[0], 1);
    assert_int_equal(recv(sp[1], got, sizeof(got), MSG_DONTWAIT), 8);
    assert_int_equal(got[0], 3);
    assert_int_equal(recv(sp[1], got, sizeof(got), MSG_DONTWAIT), -1);
    /* nothing to send: no call back */
    tun_send_batch(sp[0], msg, 0, log_sent, log_refused, &l);
    assert_int_equal(l.n_sent + l.n_refused, 3);
    close(sp[0]);
    close(sp[1]);
}

static void render(struct tun_service *s, enum e6_view_format fmt, struct e6_strbuf *sb)
{
    struct e6_json j;
    e6_strbuf_reset(sb);
    e6_json_init(&j, sb);
    tun_service_view(&j, fmt, s);
    if (fmt == E6_VIEW_JSON)
        assert_true(e6_json_done(&j));
    assert_false(sb->failed);
}

static void test_service_empty(void **state)
{
    (void)state;
    struct e6_loop *loop;
    assert_int_equal(e6_loop_new_fake(&loop, 0), 0);
    struct e6_counter_registry *reg = e6_counter_registry_new();
    assert_non_null(reg);
    struct tun_service_env env = {.loop = loop, .registry = reg};
    struct tun_service *s;
    assert_int_equal(tun_service_new(&s, &env), 0);
    /* the "tunnel" counter set is registered with every name */
    assert_int_equal(e6_counter_registry_count(reg), 1);
    struct e6_counters *set = e6_counter_registry_at(reg, 0);
    assert_string_equal(e6_counters_module(set), "tunnel");
    assert_int_equal(e6_counters_size(set), TC__COUNT);

    struct conf c = {0};
    char err[256] = "";
    assert_int_equal(tun_service_start(s, &c, err, sizeof(err)), 0);
    struct in6_addr x = A("2001:db8::1");
    assert_int_equal(tun_service_member(s, "tun6in4", &x), -1);

    struct e6_strbuf sb = E6_STRBUF_INIT;
    render(s, E6_VIEW_TEXT, &sb);
    assert_non_null(strstr(e6_strbuf_str(&sb), "6in4 tunnels (0 tunnels)"));
    assert_null(strstr(e6_strbuf_str(&sb), "WARNING"));
    render(s, E6_VIEW_JSON, &sb);
    assert_string_equal(e6_strbuf_str(&sb),
                        "{\"tunnels\":[],\"manage_sysctls\":false,\"forwarding\":[]}");

    /* a 6bed4 tunnel is left to its own module */
    struct conf_tunnel tb = {.name = "bed0", .type = CONF_TUNNEL_6BED4};
    struct conf c2 = {.tunnels = &tb, .n_tunnels = 1};
    assert_int_equal(tun_service_reconcile(s, &c, &c2, err, sizeof(err)), 0);
    assert_int_equal(tun_service_member(s, "bed0", &x), -1);
    render(s, E6_VIEW_TEXT, &sb);
    assert_non_null(strstr(e6_strbuf_str(&sb), "6in4 tunnels (0 tunnels)"));

    tun_service_stop(s);
    tun_service_stop(s); /* twice is harmless */
    tun_service_free(s);
    tun_service_free(NULL);
    e6_strbuf_free(&sb);
    e6_counter_registry_free(reg);
    e6_loop_free(loop);
}

/* Refused before any kernel change: an interface name that cannot be. */
static void test_service_refuses(void **state)
{
    (void)state;
    struct e6_loop *loop;
    assert_int_equal(e6_loop_new_fake(&loop, 0), 0);
    struct tun_service_env env = {.loop = loop}; /* no registry: the set is ours */
    struct tun_service *s;
    assert_int_equal(tun_service_new(&s, &env), 0);
    struct conf_tunnel t = {.name = "a-name-far-too-long-for-linux",
                            .type = CONF_TUNNEL_6IN4,
                            .mode = CONF_TUN_CLIENT,
                            .local = V4("192.0.2.2"),
                            .remote = V4("192.0.2.1"),
                            .ttl = 64,
                            .mtu = 1480,
                            .kernel = CONF_TRI_OFF};
    struct conf c = {.tunnels = &t, .n_tunnels = 1};
    char err[256] = "";
    assert_int_equal(tun_service_start(s, &c, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "a-name-far-too-long-for-linux"));
    assert_non_null(strstr(err, "too long"));
    assert_int_equal(tun_service_member(s, t.name, &t.client_address), -1);

    /* reconcile toward it fails the same way and keeps nothing */
    struct conf empty = {0};
    assert_int_equal(tun_service_start(s, &empty, err, sizeof(err)), 0);
    err[0] = '\0';
    assert_int_equal(tun_service_reconcile(s, &empty, &c, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "too long"));
    struct e6_strbuf sb = E6_STRBUF_INIT;
    render(s, E6_VIEW_TEXT, &sb);
    /* no tunnel runs, but the forwarding of what the config routes is shown */
    assert_non_null(strstr(e6_strbuf_str(&sb), "6in4 tunnels (0 tunnels"));
    assert_non_null(strstr(e6_strbuf_str(&sb), "forwarding: all "));
    assert_non_null(strstr(e6_strbuf_str(&sb), " a-name-far-too-long-for-linux absent"));
    render(s, E6_VIEW_JSON, &sb);
    assert_non_null(strstr(e6_strbuf_str(&sb), "{\"interface\":\"a-name-far-too-long-for-linux\","
                                               "\"forwarding\":null}"));
    e6_strbuf_free(&sb);
    tun_service_free(s);
    e6_loop_free(loop);
}

/* ---- the decap worker over socketpairs: no kernel tunnel needed ---- */

static uint16_t csum16(const uint8_t *p, size_t n)
{
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* IPv4 (proto 41, src -> dst) around an ICMPv6 echo from isrc to idst; returns its length */
static size_t sixin4(uint8_t *p, const char *src, const char *dst, const char *isrc,
                     const char *idst)
{
    size_t inner = 40 + 8, len = 20 + inner;
    memset(p, 0, len);
    p[0] = 0x45;
    p[2] = (uint8_t)(len >> 8);
    p[3] = (uint8_t)len;
    p[8] = 64;
    p[9] = 41;
    struct in_addr a = V4(src), b = V4(dst);
    memcpy(p + 12, &a, 4);
    memcpy(p + 16, &b, 4);
    uint16_t c = csum16(p, 20);
    p[10] = (uint8_t)(c >> 8);
    p[11] = (uint8_t)c;
    uint8_t *q = p + 20;
    q[0] = 0x60;
    q[5] = 8;
    q[6] = 58;
    q[7] = 64;
    struct in6_addr s6 = A(isrc), d6 = A(idst);
    memcpy(q + 8, &s6, 16);
    memcpy(q + 24, &d6, 16);
    q[40] = 128; /* echo request; the checksum does not matter here */
    return len;
}

static struct tun_snap *snap_of(struct conf_tunnel *t, struct tun_cstat **cs, size_t ncs)
{
    struct tun_snap *sn = calloc(1, sizeof(*sn));
    assert_non_null(sn);
    char err[128];
    sn->tab = tun_table_build(t, err, sizeof(err));
    assert_non_null(sn->tab);
    sn->server = t->mode == CONF_TUN_SERVER;
    sn->local = t->local;
    sn->n = tun_table_count(sn->tab);
    sn->cs = calloc(sn->n, sizeof(*sn->cs));
    assert_non_null(sn->cs);
    for (size_t i = 0; i < sn->n && i < ncs; i++)
        sn->cs[tun_table_at(sn->tab, i)->index] = cs[i];
    return sn;
}

static void snap_drop(struct tun_snap *sn)
{
    tun_table_free(sn->tab);
    free(sn->cs);
    free(sn);
}

/* reads one packet from fd within a second; its length, or -1 */
static ssize_t read_within(int fd, uint8_t *buf, size_t cap)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    if (poll(&pfd, 1, 1000) != 1)
        return -1;
    return read(fd, buf, cap);
}

static void test_decap_worker(void **state)
{
    (void)state;
    struct e6_prefix routed = P("2001:db8:100::/64");
    struct conf_tunnel_client cl = {.name = "home",
                                    .remote = V4("198.51.100.2"),
                                    .client_address = A("2001:db8:1::2"),
                                    .client_plen = 64,
                                    .server_address = A("2001:db8:1::1"),
                                    .routed = &routed,
                                    .n_routed = 1};
    struct conf_tunnel t = {.name = "t",
                            .type = CONF_TUNNEL_6IN4,
                            .mode = CONF_TUN_SERVER,
                            .local = V4("192.0.2.1"),
                            .ttl = 64,
                            .mtu = 1480,
                            .clients = &cl,
                            .n_clients = 1};
    struct tun_cstat *home = calloc(1, sizeof(*home));
    assert_non_null(home);
    struct tun_cstat *cs[1] = {home};

    /* the "TUN": packets keep their boundaries; the "raw socket": datagrams */
    int tun[2], raw[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, tun), 0);
    assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, raw), 0);
    struct tun_tunnel_fast f = {.rawfd = raw[0], .icmpfd = -1};
    atomic_init(&f.snap, snap_of(&t, cs, 1));
    struct e6_counters *set = e6_counters_new(NULL, "tunnel", tun_counter_names, TC__COUNT);
    assert_non_null(set);
    struct tun_worker w = {.kind = TUN_W_DECAP, .tunfd = tun[0], .th = TUN_THREAD_INIT};
    w.cnt = e6_counters_block(set);
    char err[128];
    assert_int_equal(tun_worker_start(&w, &f, err, sizeof(err)), 0);

    uint8_t pkt[256], got[256];
    static const uint8_t zero_hdr[GSO_VNET_HDR_LEN];
    /* from the client's remote, from its routed prefix: delivered, inner
     * only, behind an all-zero virtio header */
    size_t n = sixin4(pkt, "198.51.100.2", "192.0.2.1", "2001:db8:100::5", "2001:db8:ff::1");
    assert_int_equal(write(raw[1], pkt, n), (ssize_t)n);
    assert_int_equal(read_within(tun[1], got, sizeof(got)), (ssize_t)(n - 20 + GSO_VNET_HDR_LEN));
    assert_memory_equal(got, zero_hdr, GSO_VNET_HDR_LEN);
    assert_memory_equal(got + GSO_VNET_HDR_LEN, pkt + 20, n - 20);
    /* a spoofed outer source: nothing delivered */
    n = sixin4(pkt, "198.51.100.3", "192.0.2.1", "2001:db8:100::5", "2001:db8:ff::1");
    assert_int_equal(write(raw[1], pkt, n), (ssize_t)n);
    /* the client's remote with someone else's inner source: dropped, counted for it */
    n = sixin4(pkt, "198.51.100.2", "192.0.2.1", "2001:db8:200::5", "2001:db8:ff::1");
    assert_int_equal(write(raw[1], pkt, n), (ssize_t)n);
    assert_int_equal(read_within(tun[1], got, sizeof(got)), -1);

    /* a new table while the worker runs: the client's remote moved */
    cl.remote = V4("198.51.100.9");
    struct tun_snap *old = atomic_exchange(&f.snap, snap_of(&t, cs, 1));
    struct tun_worker *ws[1] = {&w};
    tun_snap_synchronize(ws, 1);
    snap_drop(old); /* no worker can hold it now (ASan would see a use after free) */
    n = sixin4(pkt, "198.51.100.2", "192.0.2.1", "2001:db8:100::5", "2001:db8:ff::1");
    assert_int_equal(write(raw[1], pkt, n), (ssize_t)n); /* the old address: refused */
    n = sixin4(pkt, "198.51.100.9", "192.0.2.1", "2001:db8:1::2", "2001:db8:ff::1");
    assert_int_equal(write(raw[1], pkt, n), (ssize_t)n);
    assert_int_equal(read_within(tun[1], got, sizeof(got)), (ssize_t)(n - 20 + GSO_VNET_HDR_LEN));
    assert_int_equal(read_within(tun[1], got, sizeof(got)), -1);

    tun_worker_stop(&w);
    assert_false(w.th.running);
    assert_int_equal(e6_counters_get(set, TC_DECAP_PACKETS), 2);
    assert_int_equal(e6_counters_get(set, TC_DECAP_BYTES), 2 * 48);
    assert_int_equal(e6_counters_get(set, TC_DROP_BASE + TUN_D_UNKNOWN_REMOTE), 2);
    assert_int_equal(e6_counters_get(set, TC_DROP_BASE + TUN_D_INNER_SPOOF), 1);
    assert_int_equal(atomic_load(&home->pkts_in), 2);
    assert_int_equal(atomic_load(&home->bytes_in), 2 * 48);
    assert_int_equal(atomic_load(&home->drops_in), 1);
    tun_worker_stop(&w); /* twice is harmless */

    snap_drop(atomic_load(&f.snap));
    e6_counters_free(set);
    free(home);
    close(tun[0]);
    close(tun[1]);
    close(raw[0]);
    close(raw[1]);
}

/* a protocol-41 packet carrying TCP from 2001:db8:100::5, plen payload bytes */
static size_t sixin4_tcp(uint8_t *p, uint32_t seq, size_t plen)
{
    size_t inner = 40 + 20 + plen, len = 20 + inner;
    memset(p, 0, len);
    p[0] = 0x45;
    p[2] = (uint8_t)(len >> 8);
    p[3] = (uint8_t)len;
    p[8] = 64;
    p[9] = 41;
    struct in_addr a = V4("198.51.100.2"), b = V4("192.0.2.1");
    memcpy(p + 12, &a, 4);
    memcpy(p + 16, &b, 4);
    uint16_t c = csum16(p, 20);
    p[10] = (uint8_t)(c >> 8);
    p[11] = (uint8_t)c;
    uint8_t *q = p + 20;
    q[0] = 0x60;
    q[4] = (uint8_t)((20 + plen) >> 8);
    q[5] = (uint8_t)(20 + plen);
    q[6] = 6;
    q[7] = 64;
    struct in6_addr s6 = A("2001:db8:100::5"), d6 = A("2001:db8:ff::1");
    memcpy(q + 8, &s6, 16);
    memcpy(q + 24, &d6, 16);
    uint8_t *t = q + 40;
    t[0] = 0x9c; /* ports 40000 -> 5201 */
    t[1] = 0x40;
    t[2] = 0x14;
    t[3] = 0x51;
    t[4] = (uint8_t)(seq >> 24);
    t[5] = (uint8_t)(seq >> 16);
    t[6] = (uint8_t)(seq >> 8);
    t[7] = (uint8_t)seq;
    t[11] = 1;
    t[12] = 5 << 4;
    t[13] = 0x10;
    t[14] = 2;
    for (size_t i = 0; i < plen; i++)
        t[20 + i] = (uint8_t)(seq + i);
    c = e6_ip6_cksum(&s6, &d6, 6, t, 20 + plen);
    t[16] = (uint8_t)(c >> 8);
    t[17] = (uint8_t)c;
    return len;
}

/* with the kernel's TSO on the TUN, a TCP run of one batch is written as
 * one super-packet; what does not merge follows alone */
static void test_decap_worker_coalesce(void **state)
{
    (void)state;
    struct e6_prefix routed = P("2001:db8:100::/64");
    struct conf_tunnel_client cl = {.name = "home",
                                    .remote = V4("198.51.100.2"),
                                    .client_address = A("2001:db8:1::2"),
                                    .client_plen = 64,
                                    .server_address = A("2001:db8:1::1"),
                                    .routed = &routed,
                                    .n_routed = 1};
    struct conf_tunnel t = {.name = "t",
                            .type = CONF_TUNNEL_6IN4,
                            .mode = CONF_TUN_SERVER,
                            .local = V4("192.0.2.1"),
                            .ttl = 64,
                            .mtu = 1480,
                            .clients = &cl,
                            .n_clients = 1};
    struct tun_cstat *home = calloc(1, sizeof(*home));
    assert_non_null(home);
    struct tun_cstat *cs[1] = {home};
    int tun[2], raw[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, tun), 0);
    assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, raw), 0);
    struct tun_tunnel_fast f = {.rawfd = raw[0], .icmpfd = -1, .offload = TUN_F_CSUM | TUN_F_TSO6};
    atomic_init(&f.snap, snap_of(&t, cs, 1));
    struct e6_counters *set = e6_counters_new(NULL, "tunnel", tun_counter_names, TC__COUNT);
    assert_non_null(set);
    struct tun_worker w = {.kind = TUN_W_DECAP, .tunfd = tun[0], .th = TUN_THREAD_INIT};
    w.cnt = e6_counters_block(set);

    /* queued before the worker starts: one receive batch */
    static uint8_t pkt[3][1200], got[8192];
    size_t n[3];
    for (int i = 0; i < 3; i++) {
        n[i] = sixin4_tcp(pkt[i], 1000 + 1000 * (uint32_t)i, 1000);
        assert_int_equal(write(raw[1], pkt[i], n[i]), (ssize_t)n[i]);
    }
    uint8_t ping[256];
    size_t np = sixin4(ping, "198.51.100.2", "192.0.2.1", "2001:db8:100::5", "2001:db8:ff::1");
    assert_int_equal(write(raw[1], ping, np), (ssize_t)np);
    char err[128];
    assert_int_equal(tun_worker_start(&w, &f, err, sizeof(err)), 0);

    ssize_t r = read_within(tun[1], got, sizeof(got));
    assert_int_equal(r, GSO_VNET_HDR_LEN + 40 + 20 + 3000);
    struct gso_vnet_hdr h;
    memcpy(&h, got, sizeof(h));
    assert_int_equal(h.flags, GSO_F_NEEDS_CSUM);
    assert_int_equal(h.gso_type, GSO_T_TCPV6);
    assert_int_equal(h.gso_size, 1000);
    assert_int_equal(h.hdr_len, 60);
    assert_int_equal(h.csum_start, 40);
    assert_int_equal(h.csum_offset, 16);
    const uint8_t *q = got + GSO_VNET_HDR_LEN;
    assert_int_equal(q[4] << 8 | q[5], 20 + 3000);
    for (int i = 0; i < 3; i++) /* the payloads, in order */
        assert_memory_equal(q + 60 + 1000 * i, pkt[i] + 20 + 60, 1000);
    r = read_within(tun[1], got, sizeof(got));
    assert_int_equal(r, (ssize_t)(np - 20 + GSO_VNET_HDR_LEN));
    assert_int_equal(got[0], 0);
    assert_memory_equal(got + GSO_VNET_HDR_LEN, ping + 20, np - 20);
    assert_int_equal(read_within(tun[1], got, sizeof(got)), -1);

    tun_worker_stop(&w);
    assert_int_equal(e6_counters_get(set, TC_DECAP_PACKETS), 4);
    assert_int_equal(e6_counters_get(set, TC_GRO_PACKETS), 1);
    assert_int_equal(e6_counters_get(set, TC_GRO_SEGMENTS), 3);
    assert_int_equal(e6_counters_get(set, TC_TUN_ERRORS), 0);
    assert_int_equal(atomic_load(&home->pkts_in), 4);

    snap_drop(atomic_load(&f.snap));
    e6_counters_free(set);
    free(home);
    close(tun[0]);
    close(tun[1]);
    close(raw[0]);
    close(raw[1]);
}

static bool fd_open(int fd)
{
    return fcntl(fd, F_GETFD) >= 0;
}

/* a re-created tunnel takes its predecessor's queues (pipes stand in for them) */
static void test_handover(void **state)
{
    (void)state;
    int p[2][2];
    assert_int_equal(pipe(p[0]), 0);
    assert_int_equal(pipe(p[1]), 0);
    int fds[2] = {p[0][0], p[1][0]};
    struct tun_dev_handover h = {0};
    tun_dev_handover_take(&h, "tun-home", fds, 2, 42);
    assert_int_equal(h.n, 2);
    assert_int_equal(fds[0], -1);
    assert_int_equal(fds[1], -1);

    /* the same name and queue count: the same descriptors and index, h emptied */
    const struct tun_dev_opts o = {.queues = 2, .vnet_hdr = true};
    int got[2] = {-1, -1}, ifindex = 0;
    char err[256] = "";
    assert_int_equal(tun_dev_reopen(&h, NULL, "tun-home", &o, got, &ifindex, err, sizeof(err)), 0);
    assert_int_equal(got[0], p[0][0]);
    assert_int_equal(got[1], p[1][0]);
    assert_int_equal(ifindex, 42);
    assert_int_equal(h.n, 0);

    /* something else held: closed, not leaked (the open that follows may fail here) */
    tun_dev_handover_take(&h, "tun-home", got, 2, 42);
    const struct tun_dev_opts one = {.queues = 1};
    int r = tun_dev_reopen(&h, NULL, "x/y", &one, got, &ifindex, err, sizeof(err));
    assert_true(r < 0); /* no such interface name can exist */
    assert_int_equal(h.n, 0);
    assert_false(fd_open(p[0][0]));
    assert_false(fd_open(p[1][0]));
    tun_dev_handover_close(&h); /* empty: nothing */
    close(p[0][1]);
    close(p[1][1]);
}

int main(void)
{
    e6_log_open("test_tunnel_io", E6_LOG_STDERR, E6_LOG_ERR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_want_server),
        cmocka_unit_test(test_want_client),
        cmocka_unit_test(test_handover),
        cmocka_unit_test(test_routed_ifaces),
        cmocka_unit_test(test_sysctl_path),
        cmocka_unit_test(test_counter_names),
        cmocka_unit_test(test_synchronize),
        cmocka_unit_test(test_send_batch),
        cmocka_unit_test(test_queues),
        cmocka_unit_test(test_service_empty),
        cmocka_unit_test(test_service_refuses),
        cmocka_unit_test(test_decap_worker),
        cmocka_unit_test(test_decap_worker_coalesce),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
