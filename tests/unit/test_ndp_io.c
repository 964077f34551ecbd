/* tests for ndppd/io without a kernel: the BPF expression compiled for every
 * datalink served and run over NS (plain, behind Hop-by-Hop headers) and
 * what it must let pass or stop; taking the link-layer header off a frame
 * (Ethernet, raw, cooked) and every rejection; putting one on an answer;
 * and the service started without netlink (waiting proxies, views,
 * neighbors, reconcile, stop) */
#include "config.h"

#include <pcap/pcap.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/addr.h"
#include "common/counters.h"
#include "common/ip6.h"
#include "common/log.h"
#include "common/loop.h"
#include "common/nd.h"
#include "conf/conf.h"
#include "ndppd/io.h"
#include "ndppd/io_frame.h"

static const uint8_t own_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
static const uint8_t peer_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};

static struct in6_addr A(const char *s) {
    struct in6_addr a;
    assert_true(e6_addr_parse(s, &a));
    return a;
}

/*
 * An IPv6 packet into p: hbh_units Hop-by-Hop 8-octet units first (0: none),
 * then an upper layer of protocol proto whose first byte is type.
 */
static size_t
ip6_packet(uint8_t *p, int hbh_units, uint8_t proto, uint8_t type, uint8_t code)
{
    struct in6_addr src = A("fe80::1"), dst = A("ff02::1:ff00:5");
    size_t off = E6_IP6_HDR_LEN, ext = hbh_units ? (size_t)hbh_units * 8 : 0;
    uint8_t *u = p + off + ext;
    memset(p, 0, 200);
    if (hbh_units) {
        p[off] = proto;
        p[off + 1] = (uint8_t)(hbh_units - 1);
        p[off + 2] = 1; /* PadN filling the header */
        p[off + 3] = (uint8_t)(ext - 4);
    }
    size_t ulen = 24;
    u[0] = type;
    u[1] = code;
    struct in6_addr t = A("2001:db8::5");
    memcpy(u + 8, &t, 16);
    if (proto == E6_IPPROTO_ICMPV6)
        e6_ip6_icmp6_cksum_set(&src, &dst, u, ulen);
    struct e6_ip6_hdr h = {
        .src = src,
        .dst = dst,
        .hop_limit = 255,
        .next_header = hbh_units ? E6_IPPROTO_HOPOPTS : proto,
    };
    assert_int_equal(e6_ip6_write_hdr(p, 200, &h, ext + ulen), 0);
    return off + ext + ulen;
}

/* Wraps an IPv6 packet in the link-layer header of dlt. */
static size_t frame(int dlt, uint8_t *f, const uint8_t *ip, size_t len, uint16_t ethertype)
{
    size_t h = 0;
    memset(f, 0, 64);
    switch (dlt) {
    case DLT_EN10MB:
        memcpy(f, own_mac, 6);
        memcpy(f + 6, peer_mac, 6);
        f[12] = (uint8_t)(ethertype >> 8);
        f[13] = (uint8_t)ethertype;
        h = 14;
        break;
    case DLT_LINUX_SLL:
        f[5] = 6;
        memcpy(f + 6, peer_mac, 6);
        f[14] = (uint8_t)(ethertype >> 8);
        f[15] = (uint8_t)ethertype;
        h = 16;
        break;
    case DLT_LINUX_SLL2:
        f[0] = (uint8_t)(ethertype >> 8);
        f[1] = (uint8_t)ethertype;
        f[11] = 6;
        memcpy(f + 12, peer_mac, 6);
        h = 20;
        break;
    default:
        break;
    }
    memcpy(f + h, ip, len);
    return h + len;
}

static bool passes(struct bpf_program *prog, const uint8_t *f, size_t len)
{
    struct pcap_pkthdr h = {.caplen = (bpf_u_int32)len, .len = (bpf_u_int32)len};
    return pcap_offline_filter(prog, &h, f) != 0;
}

static void test_bpf(void **state)
{
    static const int dlts[] = {DLT_EN10MB, DLT_RAW, DLT_LINUX_SLL, DLT_LINUX_SLL2};
    for (size_t d = 0; d < sizeof(dlts) / sizeof(dlts[0]); d++) {
        int dlt = dlts[d];
        pcap_t *pc = pcap_open_dead(dlt, NDP_IO_SNAPLEN);
        assert_non_null(pc);
        struct bpf_program prog;
        assert_int_equal(pcap_compile(pc, &prog, NDP_IO_BPF, 1, PCAP_NETMASK_UNKNOWN), 0);
        uint8_t ip[200], f[300];
        size_t n;

        n = ip6_packet(ip, 0, E6_IPPROTO_ICMPV6, E6_ND_NS, 0);
        assert_true(passes(&prog, f, frame(dlt, f, ip, n, 0x86dd)));
        /* the parser, not the filter, drops (and counts) a bad code */
        n = ip6_packet(ip, 0, E6_IPPROTO_ICMPV6, E6_ND_NS, 1);
        assert_true(passes(&prog, f, frame(dlt, f, ip, n, 0x86dd)));
        n = ip6_packet(ip, 1, E6_IPPROTO_ICMPV6, E6_ND_NS, 0);
        assert_true(passes(&prog, f, frame(dlt, f, ip, n, 0x86dd)));
        n = ip6_packet(ip, 3, E6_IPPROTO_ICMPV6, E6_ND_NS, 0);
        assert_true(passes(&prog, f, frame(dlt, f, ip, n, 0x86dd)));

        n = ip6_packet(ip, 0, E6_IPPROTO_ICMPV6, E6_ND_NA, 0);
        assert_false(passes(&prog, f, frame(dlt, f, ip, n, 0x86dd)));
        n = ip6_packet(ip, 1, E6_IPPROTO_ICMPV6, E6_ND_NA, 0);
        assert_false(passes(&prog, f, frame(dlt, f, ip, n, 0x86dd)));
        n = ip6_packet(ip, 0, E6_IPPROTO_ICMPV6, 128, 0); /* echo request */
        assert_false(passes(&prog, f, frame(dlt, f, ip, n, 0x86dd)));
        n = ip6_packet(ip, 0, 17, E6_ND_NS, 0); /* UDP whose first byte is 135 */
        assert_false(passes(&prog, f, frame(dlt, f, ip, n, 0x86dd)));
        n = ip6_packet(ip, 1, 17, E6_ND_NS, 0); /* Hop-by-Hop, then UDP */
        assert_false(passes(&prog, f, frame(dlt, f, ip, n, 0x86dd)));
        n = ip6_packet(ip, 0, E6_IPPROTO_DSTOPTS, E6_ND_NS, 0);
        assert_false(passes(&prog, f, frame(dlt, f, ip, n, 0x86dd)));
        if (dlt != DLT_RAW) {
            n = ip6_packet(ip, 0, E6_IPPROTO_ICMPV6, E6_ND_NS, 0);
            assert_false(passes(&prog, f, frame(dlt, f, ip, n, 0x0800)));
        } else {
            n = ip6_packet(ip, 0, E6_IPPROTO_ICMPV6, E6_ND_NS, 0);
            ip[0] = 0x45; /* an IPv4 header */
            assert_false(passes(&prog, f, frame(dlt, f, ip, n, 0)));
        }
        pcap_freecode(&prog);
        pcap_close(pc);
    }
}

static void test_l2_kind(void **state)
{
    assert_int_equal(ndp_io_l2_kind(DLT_EN10MB), NDP_L2_ETHER);
    assert_int_equal(ndp_io_l2_kind(DLT_RAW), NDP_L2_RAW);
#ifdef DLT_IPV6
    assert_int_equal(ndp_io_l2_kind(DLT_IPV6), NDP_L2_RAW);
#endif
    assert_int_equal(ndp_io_l2_kind(DLT_LINUX_SLL), NDP_L2_SLL);
    assert_int_equal(ndp_io_l2_kind(DLT_LINUX_SLL2), NDP_L2_SLL2);
    assert_int_equal(ndp_io_l2_kind(DLT_IEEE802_11), NDP_L2_UNSUPPORTED);
    assert_int_equal(ndp_io_l2_kind(DLT_NULL), NDP_L2_UNSUPPORTED);
    assert_string_equal(ndp_io_l2_name(NDP_L2_ETHER), "Ethernet");
    assert_string_equal(ndp_io_l2_name(NDP_L2_RAW), "raw IPv6");
    assert_string_equal(ndp_io_l2_name(NDP_L2_UNSUPPORTED), "unsupported");
}

static void test_decode(void **state)
{
    uint8_t ip[200], f[300];
    struct ndp_l2_frame out;
    size_t n = ip6_packet(ip, 0, E6_IPPROTO_ICMPV6, E6_ND_NS, 0);
    size_t fl;

    fl = frame(DLT_EN10MB, f, ip, n, 0x86dd);
    assert_int_equal(ndp_io_l2_decode(NDP_L2_ETHER, f, fl, fl, &out), NDP_L2_OK);
    assert_ptr_equal(out.ip6, f + 14);
    assert_int_equal(out.ip6_len, n);
    assert_memory_equal(out.l2src, peer_mac, 6);
    /* Ethernet padding stays after the packet; the IPv6 parser ignores it */
    assert_int_equal(ndp_io_l2_decode(NDP_L2_ETHER, f, fl + 6, fl + 6, &out), NDP_L2_OK);
    assert_int_equal(out.ip6_len, n + 6);

    assert_int_equal(ndp_io_l2_decode(NDP_L2_ETHER, f, 13, 13, &out), NDP_L2_R_SHORT);
    assert_int_equal(ndp_io_l2_decode(NDP_L2_ETHER, f, fl - 1, fl, &out), NDP_L2_R_TRUNCATED);
    fl = frame(DLT_EN10MB, f, ip, n, 0x8100);
    assert_int_equal(ndp_io_l2_decode(NDP_L2_ETHER, f, fl, fl, &out), NDP_L2_R_VLAN);
    fl = frame(DLT_EN10MB, f, ip, n, 0x88a8);
    assert_int_equal(ndp_io_l2_decode(NDP_L2_ETHER, f, fl, fl, &out), NDP_L2_R_VLAN);
    fl = frame(DLT_EN10MB, f, ip, n, 0x0806);
    assert_int_equal(ndp_io_l2_decode(NDP_L2_ETHER, f, fl, fl, &out), NDP_L2_R_NOT_IPV6);

    fl = frame(DLT_RAW, f, ip, n, 0);
    assert_int_equal(ndp_io_l2_decode(NDP_L2_RAW, f, fl, fl, &out), NDP_L2_OK);
    assert_ptr_equal(out.ip6, f);
    assert_null(out.l2src);
    assert_int_equal(ndp_io_l2_decode(NDP_L2_RAW, f, 0, 0, &out), NDP_L2_R_SHORT);
    f[0] = 0x45;
    assert_int_equal(ndp_io_l2_decode(NDP_L2_RAW, f, fl, fl, &out), NDP_L2_R_NOT_IPV6);

    fl = frame(DLT_LINUX_SLL, f, ip, n, 0x86dd);
    assert_int_equal(ndp_io_l2_decode(NDP_L2_SLL, f, fl, fl, &out), NDP_L2_OK);
    assert_ptr_equal(out.ip6, f + 16);
    assert_memory_equal(out.l2src, peer_mac, 6);
    f[5] = 0; /* no link-layer address (a TUN in cooked mode) */
    assert_int_equal(ndp_io_l2_decode(NDP_L2_SLL, f, fl, fl, &out), NDP_L2_OK);
    assert_null(out.l2src);
    assert_int_equal(ndp_io_l2_decode(NDP_L2_SLL, f, 15, 15, &out), NDP_L2_R_SHORT);
    fl = frame(DLT_LINUX_SLL, f, ip, n, 0x0800);
    assert_int_equal(ndp_io_l2_decode(NDP_L2_SLL, f, fl, fl, &out), NDP_L2_R_NOT_IPV6);

    fl = frame(DLT_LINUX_SLL2, f, ip, n, 0x86dd);
    assert_int_equal(ndp_io_l2_decode(NDP_L2_SLL2, f, fl, fl, &out), NDP_L2_OK);
    assert_ptr_equal(out.ip6, f + 20);
    assert_memory_equal(out.l2src, peer_mac, 6);
    assert_int_equal(ndp_io_l2_decode(NDP_L2_SLL2, f, 19, 19, &out), NDP_L2_R_SHORT);
    fl = frame(DLT_LINUX_SLL2, f, ip, n, 0x8100);
    assert_int_equal(ndp_io_l2_decode(NDP_L2_SLL2, f, fl, fl, &out), NDP_L2_R_VLAN);

    assert_int_equal(ndp_io_l2_decode(NDP_L2_UNSUPPORTED, f, fl, fl, &out), NDP_L2_R_NOT_IPV6);
}

/* An NA as the engine hands it over, checksummed for src/dst. */
static size_t na(uint8_t *icmp, struct ndp_tx *tx, const char *src, const char *dst)
{
    struct e6_nd_builder b;
    struct in6_addr t = A("2001:db8::5");
    tx->src = A(src);
    tx->dst = A(dst);
    e6_nd_build_init(&b, icmp, 64);
    e6_nd_put_na(&b, E6_ND_NA_R | (e6_addr_is_multicast(&tx->dst) ? 0 : E6_ND_NA_S), &t);
    e6_nd_put_lladdr(&b, E6_ND_OPT_TLLA, own_mac, 6);
    int len = e6_nd_build_finish(&b, &tx->src, &tx->dst);
    assert_true(len > 0);
    tx->icmp = icmp;
    tx->len = (size_t)len;
    return (size_t)len;
}

/* The frame decodes back into a valid NA with hop limit 255. */
static void check_roundtrip(enum ndp_l2 k, const uint8_t *f, size_t n, const struct ndp_tx *tx)
{
    struct ndp_l2_frame l2;
    struct e6_ip6_pkt pkt;
    struct e6_nd_msg msg;
    assert_int_equal(ndp_io_l2_decode(k, f, n, n, &l2), NDP_L2_OK);
    assert_int_equal(e6_ip6_parse(l2.ip6, l2.ip6_len, &pkt), E6_IP6_OK);
    assert_int_equal(pkt.hdr.hop_limit, 255);
    assert_int_equal(pkt.hdr.next_header, E6_IPPROTO_ICMPV6);
    assert_true(e6_addr_equal(&pkt.hdr.src, &tx->src));
    assert_true(e6_addr_equal(&pkt.hdr.dst, &tx->dst));
    assert_int_equal(e6_nd_parse_ip6(&pkt, &msg), E6_ND_OK);
    assert_int_equal(msg.type, E6_ND_NA);
}

static void test_build(void **state)
{
    uint8_t icmp[64], f[200];
    struct ndp_tx tx = {.l2dst_len = 0};
    size_t len = na(icmp, &tx, "fe80::1", "2001:db8::1");
    size_t n;

    memcpy(tx.l2dst, peer_mac, 6);
    tx.l2dst_len = 6;
    n = ndp_io_frame_build(NDP_L2_ETHER, &tx, own_mac, 6, f, sizeof(f));
    assert_int_equal(n, 14 + 40 + len);
    assert_memory_equal(f, peer_mac, 6);
    assert_memory_equal(f + 6, own_mac, 6);
    assert_int_equal(f[12], 0x86);
    assert_int_equal(f[13], 0xdd);
    check_roundtrip(NDP_L2_ETHER, f, n, &tx);

    /* no room: nothing */
    assert_int_equal(ndp_io_frame_build(NDP_L2_ETHER, &tx, own_mac, 6, f, 14 + 40 + len - 1), 0);
    assert_int_equal(ndp_io_frame_build(NDP_L2_ETHER, &tx, own_mac, 6, f, 10), 0);
    /* an Ethernet answer needs our MAC */
    assert_int_equal(ndp_io_frame_build(NDP_L2_ETHER, &tx, own_mac, 0, f, sizeof(f)), 0);
    /* and a destination: unicast without one is not guessed */
    tx.l2dst_len = 0;
    assert_int_equal(ndp_io_frame_build(NDP_L2_ETHER, &tx, own_mac, 6, f, sizeof(f)), 0);

    /* multicast without l2dst: the group's MAC (RFC 2464 7) */
    na(icmp, &tx, "fe80::1", "ff02::1");
    tx.l2dst_len = 0;
    n = ndp_io_frame_build(NDP_L2_ETHER, &tx, own_mac, 6, f, sizeof(f));
    static const uint8_t all_nodes[6] = {0x33, 0x33, 0, 0, 0, 1};
    assert_memory_equal(f, all_nodes, 6);
    check_roundtrip(NDP_L2_ETHER, f, n, &tx);

    /* raw and cooked links: the IPv6 packet alone */
    na(icmp, &tx, "fe80::1", "fe80::2");
    n = ndp_io_frame_build(NDP_L2_RAW, &tx, NULL, 0, f, sizeof(f));
    assert_int_equal(n, 40 + len);
    assert_int_equal(f[0] >> 4, 6);
    check_roundtrip(NDP_L2_RAW, f, n, &tx);
    n = ndp_io_frame_build(NDP_L2_SLL, &tx, own_mac, 6, f, sizeof(f));
    assert_int_equal(n, 40 + len);
    assert_int_equal(ndp_io_frame_build(NDP_L2_RAW, &tx, NULL, 0, f, 40 + len - 1), 0);

    assert_int_equal(ndp_io_frame_build(NDP_L2_UNSUPPORTED, &tx, own_mac, 6, f, sizeof(f)), 0);
    tx.len = 0;
    assert_int_equal(ndp_io_frame_build(NDP_L2_RAW, &tx, NULL, 0, f, sizeof(f)), 0);
}

/* ---- the service without netlink ----------------------------------------- */

static void report(void *arg, const char *msg)
{
    fail_msg("config: %s", msg);
}

static struct conf *load(const char *body)
{
    char text[2048];
    snprintf(text, sizeof(text),
             "control-socket = \"/tmp/test_ndp_io.sock\"\nstate-directory = \"/tmp\"\n"
             "user = \"root\"\n%s",
             body);
    struct conf *c = conf_load_string(text, "test.conf", report, NULL);
    assert_non_null(c);
    return c;
}

static char *render(e6_view_fn fn, enum e6_view_format fmt, void *arg)
{
    struct e6_strbuf sb = E6_STRBUF_INIT;
    struct e6_json j;
    e6_json_init(&j, &sb);
    fn(&j, fmt, arg);
    assert_false(sb.failed);
    if (fmt == E6_VIEW_JSON)
        assert_true(e6_json_done(&j));
    char *s = strdup(e6_strbuf_str(&sb));
    e6_strbuf_free(&sb);
    return s;
}

static void test_service(void **state)
{
    struct e6_loop *loop;
    assert_int_equal(e6_loop_new_fake(&loop, 1000), 0);
    struct e6_counter_registry *reg = e6_counter_registry_new();
    assert_non_null(reg);
    struct ndp_service_env env = {.loop = loop, .registry = reg};
    struct ndp_service *s;
    assert_int_equal(ndp_service_new(&s, &env), 0);

    struct conf *c1 = load("proxy nosuch0 {\n rule 2001:db8:1::/120 { method = static }\n"
                           " rule 2001:db8:1::/64 { method = iface\n iface = nosuch1 }\n}\n"
                           "proxy nosuch2 {\n rule 2001:db8:2::/120 { method = static }\n}\n");
    char err[256] = "";
    assert_int_equal(ndp_service_start(s, c1, err, sizeof(err)), 0);
    /* the registry holds the engine's set and the shell's two */
    assert_int_equal(e6_counter_registry_count(reg), 3);
    assert_string_equal(e6_counters_module(e6_counter_registry_at(reg, 0)), "ndppd");
    assert_string_equal(e6_counters_module(e6_counter_registry_at(reg, 1)), "ndppd-rx");
    assert_string_equal(e6_counters_module(e6_counter_registry_at(reg, 2)), "ndppd-io");
    /* every rx counter has a distinct name */
    struct e6_counters *rx = e6_counter_registry_at(reg, 1);
    for (size_t i = 0; i < e6_counters_size(rx); i++)
        for (size_t k = i + 1; k < e6_counters_size(rx); k++)
            assert_string_not_equal(e6_counters_name(rx, i), e6_counters_name(rx, k));

    assert_true(ndp_service_has_proxy(s, "nosuch0"));
    assert_true(ndp_service_has_proxy(s, "nosuch2"));
    assert_false(ndp_service_has_proxy(s, "nosuch1"));
    assert_false(ndp_service_has_proxy(s, NULL));

    char *t = render(ndp_service_view, E6_VIEW_TEXT, s);
    assert_non_null(strstr(t, "ndp proxy (2 proxies"));
    assert_non_null(strstr(t, "proxy nosuch0\n  link: missing\n"));
    assert_non_null(strstr(t, "capture: interface missing: waiting for it to appear"));
    assert_non_null(strstr(t, "rule 2001:db8:1::/64 iface nosuch1"));
    assert_non_null(strstr(t, "sessions: 0 of 8192 (incomplete 0, valid 0"));
    free(t);
    t = render(ndp_service_view, E6_VIEW_JSON, s);
    assert_non_null(strstr(t, "\"name\":\"nosuch0\""));
    assert_non_null(strstr(t, "\"state\":\"waiting_for_interface\""));
    assert_non_null(strstr(t, "\"method\":\"iface\",\"iface\":\"nosuch1\""));
    free(t);

    struct ndp_neighbors_query q = {.service = s, .iface = NULL};
    t = render(ndp_service_neighbors_view, E6_VIEW_TEXT, &q);
    assert_string_equal(t, "no sessions\n");
    free(t);
    q.iface = "nosuch2";
    t = render(ndp_service_neighbors_view, E6_VIEW_JSON, &q);
    assert_string_equal(t, "{\"total\":0,\"shown\":0,\"neighbors\":[]}");
    free(t);

    /* reload: one kept (new rules), one removed, one added */
    struct conf *c2 = load("proxy nosuch0 {\n rule 2001:db8:9::/120 { method = static }\n}\n"
                           "proxy nosuch3 {\n rule 2001:db8:3::/120 { method = static }\n}\n");
    assert_int_equal(ndp_service_reconcile(s, c1, c2, err, sizeof(err)), 0);
    conf_free(c1);
    assert_true(ndp_service_has_proxy(s, "nosuch0"));
    assert_false(ndp_service_has_proxy(s, "nosuch2"));
    assert_true(ndp_service_has_proxy(s, "nosuch3"));
    t = render(ndp_service_view, E6_VIEW_TEXT, s);
    /* the kept proxy uses its own copy of the new rules */
    conf_free(c2);
    free(t);
    t = render(ndp_service_view, E6_VIEW_TEXT, s);
    assert_non_null(strstr(t, "rule 2001:db8:9::/120 static"));
    assert_null(strstr(t, "2001:db8:1::"));
    free(t);

    ndp_service_stop(s);
    t = render(ndp_service_view, E6_VIEW_TEXT, s);
    assert_non_null(strstr(t, "ndp proxy (0 proxies)"));
    free(t);
    ndp_service_stop(s); /* twice is harmless */
    ndp_service_free(s);
    ndp_service_free(NULL);
    e6_counter_registry_free(reg);
    e6_loop_free(loop);
}

int main(void)
{
    e6_log_open("test_ndp_io", E6_LOG_STDERR, E6_LOG_ERR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bpf),   cmocka_unit_test(test_l2_kind), cmocka_unit_test(test_decode),
        cmocka_unit_test(test_build), cmocka_unit_test(test_service),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
