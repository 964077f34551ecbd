/*
 * tests/netns/test_netlink: common/netlink against the running kernel, in a
 * private network namespace (unshare(CLONE_NEWNET); needs root). Links are
 * made with `ip` (only here: the daemon itself never runs it), changes go
 * through e6_nl_*, and every result is checked twice: in our caches and in
 * what the kernel says (`ip` output, or a second context's fresh dump).
 * Run by tests/netns/t_netlink.sh.
 */
#include "config.h"

#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <linux/if_arp.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <cmocka.h>

#include "common/addr.h"
#include "common/netlink.h"

#define WAIT_MS 5000

static struct e6_nl *nl;
static const char *dummy_kind = "dummy";

/* ---- helpers ----------------------------------------------------------- */

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int shell(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int shell(const char *fmt, ...)
{
    char cmd[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int st = system(cmd);
    return st == -1 ? -1 : WEXITSTATUS(st);
}

#define SH(...) assert_int_equal(shell(__VA_ARGS__), 0)

/* Output of a command, NUL-terminated, in a static buffer. */
static const char *capture(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *capture(const char *fmt, ...)
{
    static char out[1 << 20];
    char cmd[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    size_t n = fread(out, 1, sizeof out - 1, f);
    out[n] = '\0';
    pclose(f);
    return out;
}

static struct in6_addr A(const char *s) {
    struct in6_addr a;
    if (inet_pton(AF_INET6, s, &a) != 1)
        fail_msg("bad address %s", s);
    return a;
}

static struct e6_prefix
P(const char *s) {
    struct e6_prefix p;
    char err[64];
    if (!e6_prefix_parse(s, true, &p, err, sizeof err))
        fail_msg("bad prefix %s: %s", s, err);
    return p;
}

static void
pump(int ms)
{
    struct pollfd p = {.fd = e6_nl_fd(nl), .events = POLLIN};
    (void)poll(&p, 1, ms);
    assert_int_equal(e6_nl_process(nl), 0);
}

/* process events until nothing arrives for quiet_ms */
static void settle(int quiet_ms)
{
    struct pollfd p = {.fd = e6_nl_fd(nl), .events = POLLIN};
    while (poll(&p, 1, quiet_ms) > 0)
        assert_int_equal(e6_nl_process(nl), 0);
}

#define WAIT_FOR(cond)                                                                             \
    do {                                                                                           \
        uint64_t deadline_ = mono_ms() + WAIT_MS;                                                  \
        while (!(cond)) {                                                                          \
            if (mono_ms() > deadline_)                                                             \
                fail_msg("timed out waiting for: %s", #cond);                                      \
            pump(50);                                                                              \
        }                                                                                          \
    } while (0)

static int ifindex_of(const char *name)
{
    struct e6_nl_link l;
    return e6_nl_link_by_name(nl, name, &l) == 0 ? l.ifindex : 0;
}

static struct e6_nl_link link_of(const char *name)
{
    struct e6_nl_link l;
    memset(&l, 0, sizeof l);
    (void)e6_nl_link_by_name(nl, name, &l);
    return l;
}

static bool has_addr(int ifindex, const char *a)
{
    struct e6_nl_addr x;
    struct in6_addr in = A(a);
    return e6_nl_addr_get(nl, ifindex, &in, &x) == 0;
}

static void mk_dummy(const char *name)
{
    SH("ip link add %s type %s", name, dummy_kind);
}

/* ---- recording subscriber -------------------------------------------------- */

struct rec {
    unsigned count[32][3]; /* [kind bit][action] */
    unsigned resyncs;
    int watch_ifindex; /* mirror of the addresses of this link, kept from events */
    int mirror;
    struct e6_nl_link last_link_old, last_link_cur;
    struct e6_nl_netconf last_nc;
    struct e6_nl_route last_route;
    bool bad_event; /* an event whose pointers contradict its action */
};
static struct rec rec;

static int kbit(enum e6_nl_kind k)
{
    return __builtin_ctz((unsigned)k);
}

static void on_event(const struct e6_nl_event *ev, void *arg)
{
    struct rec *r = arg;
    if (ev->kind == E6_NL_RESYNC) {
        r->resyncs++;
        return;
    }
    r->count[kbit(ev->kind)][ev->action]++;
    const void *old = ev->u.link.old, *cur = ev->u.link.cur;
    switch (ev->kind) {
    case E6_NL_ADDR:
        old = ev->u.addr.old;
        cur = ev->u.addr.cur;
        if (ev->ifindex == r->watch_ifindex)
            r->mirror += ev->action == E6_NL_NEW ? 1 : ev->action == E6_NL_DEL ? -1 : 0;
        if ((ev->u.addr.cur ? ev->u.addr.cur : ev->u.addr.old)->ifindex != ev->ifindex)
            r->bad_event = true;
        break;
    case E6_NL_LINK:
        if (old)
            r->last_link_old = *ev->u.link.old;
        if (cur)
            r->last_link_cur = *ev->u.link.cur;
        break;
    case E6_NL_ROUTE:
        old = ev->u.route.old;
        cur = ev->u.route.cur;
        r->last_route = cur ? *ev->u.route.cur : *ev->u.route.old;
        break;
    case E6_NL_NETCONF:
        old = ev->u.netconf.old;
        cur = ev->u.netconf.cur;
        if (cur)
            r->last_nc = *ev->u.netconf.cur;
        break;
    default:
        r->bad_event = true;
        return;
    }
    /*
     * Callbacks see the new state: a link's addresses and routes come after
     * it and go before it. (Its netconf may come first: the kernel sends it
     * while registering the device, before announcing the link.)
     */
    struct e6_nl_link l;
    if ((ev->kind == E6_NL_ADDR || ev->kind == E6_NL_ROUTE) && ev->action != E6_NL_DEL &&
        ev->ifindex > 0 && e6_nl_link_by_index(nl, ev->ifindex, &l) != 0) {
        fprintf(stderr, "event kind %d action %d for ifindex %d before its link\n", ev->kind,
                ev->action, ev->ifindex);
        r->bad_event = true;
    }
    if (ev->kind == E6_NL_LINK && ev->action == E6_NL_DEL &&
        (e6_nl_addrs(nl, ev->ifindex, NULL, 0) != 0 || e6_nl_forwarding(nl, ev->ifindex) >= 0)) {
        fprintf(stderr, "link %d deleted before its objects\n", ev->ifindex);
        r->bad_event = true;
    }
    bool ok = (ev->action == E6_NL_NEW && !old && cur) ||
              (ev->action == E6_NL_CHANGE && old && cur) ||
              (ev->action == E6_NL_DEL && old && !cur);
    if (!ok)
        r->bad_event = true;
}

static unsigned nev(enum e6_nl_kind k, enum e6_nl_action a)
{
    return rec.count[kbit(k)][a];
}

static void dump_addrs(const char *what, struct e6_nl *c)
{
    struct e6_nl_addr v[64];
    size_t n = e6_nl_addrs(c, 0, v, 64);
    for (size_t i = 0; i < n && i < 64; i++) {
        char t[E6_ADDRSTRLEN];
        fprintf(stderr, "%s: %s/%u dev %d flags %x\n", what,
                inet_ntop(AF_INET6, &v[i].addr, t, sizeof t), v[i].prefixlen, v[i].ifindex,
                v[i].flags);
    }
}

static void dump_routes(const char *what, const struct e6_nl_route *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char b[E6_PREFIXSTRLEN], g[E6_ADDRSTRLEN];
        fprintf(stderr, "%s: %s table %u metric %u type %u nh %u dev %d via %s\n", what,
                e6_prefix_format(&v[i].dst, b, sizeof b), v[i].table, v[i].metric, v[i].type,
                v[i].nhcount, v[i].nh[0].ifindex,
                inet_ntop(AF_INET6, &v[i].nh[0].gateway, g, sizeof g));
    }
}

/*
 * The caches must equal a fresh dump of the kernel: a second context is
 * opened and every table compared both ways.
 */
static void assert_matches_kernel(void)
{
    settle(150);
    struct e6_nl *fresh;
    assert_int_equal(e6_nl_open(&fresh), 0);

    static struct e6_nl_link la[256], lb[256];
    size_t na = e6_nl_links(nl, la, 256), nb = e6_nl_links(fresh, lb, 256);
    assert_int_equal(na, nb);
    for (size_t i = 0; i < na; i++) {
        struct e6_nl_link l;
        assert_int_equal(e6_nl_link_by_index(fresh, la[i].ifindex, &l), 0);
        assert_memory_equal(&l, &la[i], sizeof l);
        struct e6_nl_netconf c1, c2;
        int r1 = e6_nl_netconf_get(nl, la[i].ifindex, &c1);
        assert_int_equal(r1, e6_nl_netconf_get(fresh, la[i].ifindex, &c2));
        if (r1 == 0)
            assert_memory_equal(&c1, &c2, sizeof c1);
    }

    size_t aa = e6_nl_addrs(nl, 0, NULL, 0), ab = e6_nl_addrs(fresh, 0, NULL, 0);
    if (aa != ab) {
        dump_addrs("cache", nl);
        dump_addrs("kernel", fresh);
    }
    assert_int_equal(aa, ab);
    struct e6_nl_addr *xa = calloc(aa + 1, sizeof *xa);
    assert_non_null(xa);
    e6_nl_addrs(nl, 0, xa, aa);
    for (size_t i = 0; i < aa; i++) {
        struct e6_nl_addr y;
        assert_int_equal(e6_nl_addr_get(fresh, xa[i].ifindex, &xa[i].addr, &y), 0);
        assert_int_equal(y.prefixlen, xa[i].prefixlen);
        assert_int_equal(y.flags, xa[i].flags);
        assert_int_equal(y.scope, xa[i].scope);
        assert_true((uint64_t)y.valid_lft + 3 >= xa[i].valid_lft &&
                    (uint64_t)xa[i].valid_lft + 3 >= y.valid_lft);
    }
    free(xa);

    size_t ra = e6_nl_routes(nl, 0, NULL, 0), rb = e6_nl_routes(fresh, 0, NULL, 0);
    struct e6_nl_route *va = calloc(ra + 1, sizeof *va), *vb = calloc(rb + 1, sizeof *vb);
    assert_non_null(va);
    assert_non_null(vb);
    e6_nl_routes(nl, 0, va, ra);
    e6_nl_routes(fresh, 0, vb, rb);
    if (ra != rb) {
        dump_routes("cache", va, ra);
        dump_routes("kernel", vb, rb);
        fprintf(stderr, "%s", capture("ip -6 route show table all"));
    }
    assert_int_equal(ra, rb);
    for (size_t i = 0; i < ra; i++) {
        bool found = false;
        for (size_t j = 0; j < rb && !found; j++)
            found = memcmp(&va[i], &vb[j], sizeof va[i]) == 0;
        if (!found) {
            char b[E6_PREFIXSTRLEN];
            fail_msg("cached route %s table %u metric %u differs from the kernel",
                     e6_prefix_format(&va[i].dst, b, sizeof b), va[i].table, va[i].metric);
        }
    }
    free(va);
    free(vb);
    struct e6_nl_netconf c1, c2;
    assert_int_equal(e6_nl_netconf_get(nl, E6_NL_IFINDEX_ALL, &c1), 0);
    assert_int_equal(e6_nl_netconf_get(fresh, E6_NL_IFINDEX_ALL, &c2), 0);
    assert_memory_equal(&c1, &c2, sizeof c1);
    e6_nl_free(fresh);
}

/* ---- setup ---------------------------------------------------------------- */

static int group_setup(void **state)
{
    if (geteuid() != 0) {
        fprintf(stderr, "test_netlink needs root (it unshares a network namespace)\n");
        return -1;
    }
    if (unshare(CLONE_NEWNET) < 0) {
        perror("unshare(CLONE_NEWNET)");
        return -1;
    }
    if (shell("ip link set lo up") != 0)
        return -1;
    /* some kernels are built without the dummy driver; ifb is as inert */
    if (shell("ip link add e6probe type dummy 2>/dev/null") == 0) {
        (void)shell("ip link del e6probe");
    } else {
        dummy_kind = "ifb";
        fprintf(stderr, "note: no dummy driver, using ifb links instead\n");
    }
    if (e6_nl_open(&nl) != 0)
        return -1;
    memset(&rec, 0, sizeof rec);
    if (e6_nl_subscribe(nl, E6_NL_ALL, on_event, &rec) < 0)
        return -1;
    return 0;
}

/* after each test: links it left behind (on failure) must not spoil the next one */
static int test_teardown(void **state)
{
    (void)shell("for l in $(ip -o link show | sed -n 's/^[0-9]*: \\(e6[a-z0-9]*\\)[@:].*/\\1/p'); "
                "do ip link del \"$l\" 2>/dev/null; done");
    (void)shell(
        "ip -6 route flush table 100 2>/dev/null; ip -6 route flush table 1000 2>/dev/null");
    (void)shell("sysctl -qw net.ipv6.conf.all.forwarding=0");
    settle(100);
    return 0;
}

static int group_teardown(void **state)
{
    e6_nl_free(nl);
    return 0;
}

/* ---- links ---------------------------------------------------------------- */

static void test_open_sees_loopback(void **state)
{
    struct e6_nl_link lo;
    assert_int_equal(e6_nl_link_by_name(nl, "lo", &lo), 0);
    assert_int_equal(lo.ifindex, 1);
    assert_true(lo.loopback);
    assert_true(lo.up);
    assert_int_equal(lo.arptype, ARPHRD_LOOPBACK);
    struct e6_nl_link again;
    assert_int_equal(e6_nl_link_by_index(nl, 1, &again), 0);
    assert_string_equal(again.name, "lo");
    assert_int_equal(e6_nl_link_by_name(nl, "nosuch0", &again), -ENOENT);
    assert_int_equal(e6_nl_link_by_name(nl, NULL, &again), -ENOENT);
    assert_int_equal(e6_nl_link_by_index(nl, 4242, &again), -ENOENT);
    assert_true(e6_nl_links(nl, NULL, 0) >= 1);
    /* ::1 on lo came with the initial dump */
    assert_true(has_addr(1, "::1"));
    assert_int_equal(e6_nl_forwarding(nl, 1), 0);
    assert_int_equal(e6_nl_forwarding(nl, E6_NL_IFINDEX_ALL), 0);
    assert_int_equal(e6_nl_forwarding(nl, E6_NL_IFINDEX_DEFAULT), 0);
    assert_int_equal(e6_nl_forwarding(nl, 4242), -ENOENT);
}

static void test_link_lifecycle_events(void **state)
{
    unsigned new0 = nev(E6_NL_LINK, E6_NL_NEW), del0 = nev(E6_NL_LINK, E6_NL_DEL);
    mk_dummy("e6d0");
    WAIT_FOR(ifindex_of("e6d0") > 0);
    assert_int_equal(nev(E6_NL_LINK, E6_NL_NEW), new0 + 1);
    int ifi = ifindex_of("e6d0");
    struct e6_nl_link l = link_of("e6d0");
    assert_false(l.up);
    assert_int_equal(l.mtu, 1500);
    assert_int_equal(l.arptype, ARPHRD_ETHER);
    assert_int_equal(l.hwaddr_len, 6);
    assert_true(l.noarp);

    /* up through our request, seen through the event */
    assert_int_equal(e6_nl_link_set_up(nl, ifi, true), 0);
    WAIT_FOR(link_of("e6d0").up);
    assert_true(strstr(capture("ip link show e6d0"), ",UP") != NULL);

    /* MTU through our request: the event carries old and new */
    assert_int_equal(e6_nl_link_set_mtu(nl, ifi, 1400), 0);
    WAIT_FOR(link_of("e6d0").mtu == 1400);
    assert_int_equal(rec.last_link_old.mtu, 1500);
    assert_int_equal(rec.last_link_cur.mtu, 1400);
    assert_int_equal(rec.last_link_cur.ifindex, ifi);
    assert_non_null(strstr(capture("ip link show e6d0"), "mtu 1400"));

    /* changes made by someone else */
    SH("ip link set e6d0 mtu 1300");
    WAIT_FOR(link_of("e6d0").mtu == 1300);
    SH("ip link set e6d0 down");
    WAIT_FOR(!link_of("e6d0").up);
    SH("ip link set e6d0 name e6ren0");
    WAIT_FOR(ifindex_of("e6ren0") == ifi);
    assert_int_equal(ifindex_of("e6d0"), 0);
    assert_string_equal(rec.last_link_old.name, "e6d0");
    assert_string_equal(rec.last_link_cur.name, "e6ren0");

    SH("ip link del e6ren0");
    WAIT_FOR(ifindex_of("e6ren0") == 0);
    assert_int_equal(nev(E6_NL_LINK, E6_NL_DEL), del0 + 1);
    assert_int_equal(rec.last_link_old.ifindex, ifi);
    struct e6_nl_link gone;
    assert_int_equal(e6_nl_link_by_index(nl, ifi, &gone), -ENOENT);
    assert_false(rec.bad_event);
    assert_matches_kernel();
}

static void test_link_requests_rejected(void **state)
{
    assert_int_equal(e6_nl_link_set_up(nl, 0, true), -EINVAL);
    assert_int_equal(e6_nl_link_set_mtu(nl, 1, 0), -EINVAL);
    assert_int_equal(e6_nl_link_set_mtu(nl, 4242, 1400), -ENODEV);
    SH("ip link add e6va type veth peer name e6vb");
    WAIT_FOR(ifindex_of("e6vb") > 0);
    /* below the IPv4 minimum of veth: the kernel refuses and says why */
    int r = e6_nl_link_set_mtu(nl, ifindex_of("e6va"), 20);
    assert_int_equal(r, -EINVAL);
    assert_true(strlen(e6_nl_errmsg(nl)) > 0);
    fprintf(stderr, "kernel said: %s\n", e6_nl_errmsg(nl));
    /* a request that succeeds clears the message */
    assert_int_equal(e6_nl_link_set_up(nl, ifindex_of("e6va"), true), 0);
    assert_string_equal(e6_nl_errmsg(nl), "");
    SH("ip link del e6va");
    WAIT_FOR(ifindex_of("e6vb") == 0 && ifindex_of("e6va") == 0);
}

static void test_tun_has_no_mac(void **state)
{
    SH("ip tuntap add mode tun e6tun0");
    WAIT_FOR(ifindex_of("e6tun0") > 0);
    struct e6_nl_link t = link_of("e6tun0");
    assert_int_equal(t.arptype, ARPHRD_NONE);
    assert_int_equal(t.hwaddr_len, 0);
    assert_true(t.pointopoint);
    assert_true(t.noarp);
    assert_false(e6_nl_link_has_lladdr(&t));

    SH("ip link add e6va type veth peer name e6vb");
    WAIT_FOR(ifindex_of("e6va") > 0 && ifindex_of("e6vb") > 0);
    struct e6_nl_link v = link_of("e6va");
    assert_int_equal(v.arptype, ARPHRD_ETHER);
    assert_int_equal(v.hwaddr_len, 6);
    assert_true(e6_nl_link_has_lladdr(&v));
    assert_false(v.noarp);
    /* the kernel's text for the MAC must match the bytes we hold */
    char mac[32];
    snprintf(mac, sizeof mac, "link/ether %02x:%02x:%02x:%02x:%02x:%02x", v.hwaddr[0], v.hwaddr[1],
             v.hwaddr[2], v.hwaddr[3], v.hwaddr[4], v.hwaddr[5]);
    assert_non_null(strstr(capture("ip link show e6va"), mac));

    /* running needs the peer up (carrier) */
    SH("ip link set e6va up");
    WAIT_FOR(link_of("e6va").up);
    assert_false(link_of("e6va").running);
    SH("ip link set e6vb up");
    WAIT_FOR(link_of("e6va").running);
    SH("ip link del e6tun0; ip link del e6va");
    WAIT_FOR(ifindex_of("e6tun0") == 0 && ifindex_of("e6vb") == 0);
    assert_matches_kernel();
}

/* ---- addresses ------------------------------------------------------------ */

static void test_addr_add_del(void **state)
{
    mk_dummy("e6a0");
    SH("ip link set e6a0 up");
    WAIT_FOR(link_of("e6a0").up);
    int ifi = ifindex_of("e6a0");
    struct in6_addr a = A("2001:db8:1::1");
    struct e6_nl_addr_opts nodad = {.nodad = true};
    unsigned new0 = nev(E6_NL_ADDR, E6_NL_NEW);

    assert_int_equal(e6_nl_addr_add(nl, ifi, &a, 64, &nodad), 0);
    WAIT_FOR(has_addr(ifi, "2001:db8:1::1"));
    assert_true(nev(E6_NL_ADDR, E6_NL_NEW) > new0);
    struct e6_nl_addr x;
    assert_int_equal(e6_nl_addr_get(nl, ifi, &a, &x), 0);
    assert_int_equal(x.prefixlen, 64);
    assert_int_equal(x.ifindex, ifi);
    assert_false(x.tentative);
    assert_false(x.deprecated);
    assert_false(x.dadfailed);
    assert_true(x.permanent);
    assert_true(x.flags & IFA_F_NODAD);
    assert_int_equal(x.scope, RT_SCOPE_UNIVERSE);
    assert_int_equal(x.preferred_lft, E6_NL_LFT_INFINITE);
    assert_int_equal(x.valid_lft, E6_NL_LFT_INFINITE);
    assert_non_null(strstr(capture("ip -6 addr show dev e6a0"), "inet6 2001:db8:1::1/64"));

    /* twice: the kernel's EEXIST comes back unchanged */
    assert_int_equal(e6_nl_addr_add(nl, ifi, &a, 64, &nodad), -EEXIST);

    /* replace with lifetimes: they count down from what the kernel said */
    struct e6_nl_addr_opts lft = {
        .nodad = true, .replace = true, .lifetimes = true, .preferred_lft = 100, .valid_lft = 200};
    assert_int_equal(e6_nl_addr_add(nl, ifi, &a, 64, &lft), 0);
    WAIT_FOR(e6_nl_addr_get(nl, ifi, &a, &x) == 0 && x.valid_lft != E6_NL_LFT_INFINITE);
    assert_true(x.preferred_lft <= 100 && x.preferred_lft >= 95);
    assert_true(x.valid_lft <= 200 && x.valid_lft >= 195);
    assert_false(x.permanent);
    const char *out = capture("ip -6 addr show dev e6a0");
    assert_non_null(strstr(out, "valid_lft 19") ? strstr(out, "valid_lft 19")
                                                : strstr(out, "valid_lft 200sec"));

    /* a deprecated address (preferred 0) is reported as such */
    struct in6_addr b = A("2001:db8:1::2");
    struct e6_nl_addr_opts dep = {
        .nodad = true, .lifetimes = true, .preferred_lft = 0, .valid_lft = 300};
    assert_int_equal(e6_nl_addr_add(nl, ifi, &b, 64, &dep), 0);
    WAIT_FOR(has_addr(ifi, "2001:db8:1::2"));
    assert_int_equal(e6_nl_addr_get(nl, ifi, &b, &x), 0);
    assert_true(x.deprecated);
    assert_int_equal(x.preferred_lft, 0);

    /* noprefixroute: no on-link /64 for 2001:db8:2::/64 */
    struct in6_addr c = A("2001:db8:2::1");
    struct e6_nl_addr_opts npr = {.nodad = true, .noprefixroute = true};
    assert_int_equal(e6_nl_addr_add(nl, ifi, &c, 64, &npr), 0);
    WAIT_FOR(has_addr(ifi, "2001:db8:2::1"));
    assert_int_equal(e6_nl_addr_get(nl, ifi, &c, &x), 0);
    assert_true(x.flags & IFA_F_NOPREFIXROUTE);
    assert_string_equal(capture("ip -6 route show 2001:db8:2::/64"), "");

    settle(100);
    struct e6_nl_addr list[16];
    size_t n = e6_nl_addrs(nl, ifi, list, 16);
    assert_int_equal(n, 4); /* three of ours and the link-local */
    assert_int_equal(e6_nl_addrs(nl, ifi, list, 1), 4);

    unsigned del0 = nev(E6_NL_ADDR, E6_NL_DEL);
    assert_int_equal(e6_nl_addr_del(nl, ifi, &a, 64), 0);
    WAIT_FOR(!has_addr(ifi, "2001:db8:1::1"));
    assert_true(nev(E6_NL_ADDR, E6_NL_DEL) > del0);
    assert_null(strstr(capture("ip -6 addr show dev e6a0"), "2001:db8:1::1/"));
    assert_int_equal(e6_nl_addr_del(nl, ifi, &a, 64), -EADDRNOTAVAIL);
    /* the prefix length is part of what the kernel matches */
    assert_int_equal(e6_nl_addr_del(nl, ifi, &b, 80), -EADDRNOTAVAIL);
    assert_false(rec.bad_event);
    assert_matches_kernel();

    /* a link going away takes its addresses out of the cache */
    SH("ip link del e6a0");
    WAIT_FOR(ifindex_of("e6a0") == 0);
    assert_int_equal(e6_nl_addrs(nl, ifi, NULL, 0), 0);
    assert_matches_kernel();
}

static void test_addr_rejected(void **state)
{
    struct in6_addr a = A("2001:db8:1::1");
    struct e6_nl_addr_opts bad_lft = {.lifetimes = true, .preferred_lft = 10, .valid_lft = 0};
    struct e6_nl_addr_opts pref_gt_valid = {
        .lifetimes = true, .preferred_lft = 20, .valid_lft = 10};
    assert_int_equal(e6_nl_addr_add(nl, 1, NULL, 64, NULL), -EINVAL);
    assert_int_equal(e6_nl_addr_add(nl, 0, &a, 64, NULL), -EINVAL);
    assert_int_equal(e6_nl_addr_add(nl, 1, &a, 129, NULL), -EINVAL);
    assert_int_equal(e6_nl_addr_add(nl, 1, &a, 64, &bad_lft), -EINVAL);
    assert_int_equal(e6_nl_addr_add(nl, 1, &a, 64, &pref_gt_valid), -EINVAL);
    assert_int_equal(e6_nl_addr_add(nl, 4242, &a, 64, NULL), -ENODEV);
    assert_int_equal(e6_nl_addr_del(nl, -1, &a, 64), -EINVAL);
}

static bool ll_state(int ifi, int want)
{
    struct in6_addr ll;
    return e6_nl_link_local(nl, ifi, &ll) == want;
}

static void test_tentative_and_link_local(void **state)
{
    SH("ip link add e6va type veth peer name e6vb");
    /*
     * The kernel announces autoconfigured addresses only once DAD is over,
     * so the link-local address is configured by hand here (as a tunnel
     * setup would), with a 3 s DAD so that "tentative" can be seen.
     */
    SH("ip link set e6va addrgenmode none");
    SH("sysctl -qw net.ipv6.neigh.e6va.retrans_time_ms=3000 net.ipv6.conf.e6va.accept_dad=1");
    SH("ip link set e6va up");
    WAIT_FOR(link_of("e6va").up);
    int ifi = ifindex_of("e6va");
    struct in6_addr ll;
    assert_int_equal(e6_nl_link_local(nl, ifi, &ll), -ENOENT);

    /* no carrier: DAD cannot even start */
    struct in6_addr g = A("2001:db8:3::1");
    assert_int_equal(e6_nl_addr_add(nl, ifi, &g, 64, NULL), 0);
    WAIT_FOR(has_addr(ifi, "2001:db8:3::1"));
    struct e6_nl_addr x;
    assert_int_equal(e6_nl_addr_get(nl, ifi, &g, &x), 0);
    assert_true(x.tentative);
    assert_non_null(
        strstr(capture("ip -6 addr show dev e6va"), "2001:db8:3::1/64 scope global tentative"));

    SH("ip link set e6vb up");
    WAIT_FOR(link_of("e6va").running);
    struct in6_addr fe1 = A("fe80::1");
    assert_int_equal(e6_nl_addr_add(nl, ifi, &fe1, 64, NULL), 0);
    WAIT_FOR(has_addr(ifi, "fe80::1"));
    assert_int_equal(e6_nl_link_local(nl, ifi, &ll), -EAGAIN);
    assert_int_equal(e6_nl_addr_get(nl, ifi, &fe1, &x), 0);
    assert_true(x.tentative);
    assert_int_equal(x.scope, RT_SCOPE_LINK);
    WAIT_FOR(ll_state(ifi, 0));
    assert_int_equal(e6_nl_link_local(nl, ifi, &ll), 0);
    assert_true(e6_addr_equal(&ll, &fe1));
    assert_non_null(strstr(capture("ip -6 addr show dev e6va"), "inet6 fe80::1/64 scope link \n"));
    WAIT_FOR(e6_nl_addr_get(nl, ifi, &g, &x) == 0 && !x.tentative);

    /* several usable link-locals: always the lowest, whatever the order */
    struct in6_addr fe0 = A("fe80::0:1:0"), fe2 = A("fe80::2");
    struct e6_nl_addr_opts nodad = {.nodad = true};
    assert_int_equal(e6_nl_addr_add(nl, ifi, &fe2, 64, &nodad), 0);
    assert_int_equal(e6_nl_addr_add(nl, ifi, &fe0, 64, &nodad), 0);
    WAIT_FOR(has_addr(ifi, "fe80::2") && has_addr(ifi, "fe80::1:0"));
    assert_int_equal(e6_nl_link_local(nl, ifi, &ll), 0);
    assert_true(e6_addr_equal(&ll, &fe1));
    assert_int_equal(e6_nl_addr_del(nl, ifi, &fe1, 64), 0);
    WAIT_FOR(!has_addr(ifi, "fe80::1"));
    assert_int_equal(e6_nl_link_local(nl, ifi, &ll), 0);
    assert_true(e6_addr_equal(&ll, &fe2));

    /* DAD failure: e6vb already holds the address and answers the probe */
    struct in6_addr d = A("2001:db8:3::99");
    int ifb = ifindex_of("e6vb");
    assert_int_equal(e6_nl_addr_add(nl, ifb, &d, 64, &nodad), 0);
    SH("sysctl -qw net.ipv6.neigh.e6va.retrans_time_ms=300");
    assert_int_equal(e6_nl_addr_add(nl, ifi, &d, 64, NULL), 0);
    WAIT_FOR(e6_nl_addr_get(nl, ifi, &d, &x) == 0 && x.dadfailed);
    assert_true(x.tentative);
    assert_non_null(strstr(capture("ip -6 addr show dev e6va"), "dadfailed"));

    SH("ip link del e6va");
    WAIT_FOR(ifindex_of("e6va") == 0);
    assert_int_equal(e6_nl_link_local(nl, ifi, &ll), -ENOENT);
    assert_matches_kernel();
}

/* ---- routes ------------------------------------------------------------------ */

static struct e6_nl_route lookup(const char *dst, uint32_t table)
{
    struct e6_nl_route r;
    struct in6_addr d = A(dst);
    memset(&r, 0, sizeof r);
    if (e6_nl_route_lookup(nl, &d, table, &r) != 0)
        r.metric = UINT32_MAX; /* "none" for the asserts */
    return r;
}

static bool lookup_is(const char *dst, uint32_t table, const char *prefix, uint32_t metric)
{
    struct e6_nl_route r = lookup(dst, table);
    struct e6_prefix p = P(prefix);
    return r.metric == metric && e6_prefix_equal(&r.dst, &p);
}

/* routes in main with exactly this destination */
static int count_routes(const char *prefix)
{
    struct e6_prefix p = P(prefix);
    size_t n = e6_nl_routes(nl, E6_NL_TABLE_MAIN, NULL, 0);
    struct e6_nl_route *v = calloc(n + 1, sizeof *v);
    assert_non_null(v);
    e6_nl_routes(nl, E6_NL_TABLE_MAIN, v, n);
    int c = 0;
    for (size_t i = 0; i < n; i++)
        c += e6_prefix_equal(&v[i].dst, &p);
    free(v);
    return c;
}

static struct e6_nl_route_spec spec(const char *prefix, int ifindex, const char *gw)
{
    struct e6_nl_route_spec s;
    memset(&s, 0, sizeof s);
    s.dst = P(prefix);
    s.ifindex = ifindex;
    if (gw)
        s.gateway = A(gw);
    return s;
}

static void test_routes_and_lpm(void **state)
{
    mk_dummy("e6r0");
    SH("ip link set e6r0 up");
    WAIT_FOR(link_of("e6r0").up);
    int ifi = ifindex_of("e6r0");
    struct in6_addr self = A("2001:db8:10::1");
    struct e6_nl_addr_opts nodad = {.nodad = true};
    assert_int_equal(e6_nl_addr_add(nl, ifi, &self, 64, &nodad), 0);
    /* the kernel's own on-link route for the /64 shows up as a route event */
    WAIT_FOR(lookup_is("2001:db8:10::77", 0, "2001:db8:10::/64", 256));

    struct e6_nl_route_spec s48 = spec("2001:db8:20::/48", ifi, NULL);
    struct e6_nl_route_spec s64 = spec("2001:db8:20:1::/64", ifi, "2001:db8:10::2");
    struct e6_nl_route_spec s128 = spec("2001:db8:20:1::5/128", ifi, NULL);
    s128.metric = 50;
    struct e6_nl_route_spec sdef = spec("::/0", ifi, "2001:db8:10::fe");
    struct e6_nl_route_spec s61 = spec("2001:db8:21::/61", 0, NULL);
    s61.type = RTN_UNREACHABLE;
    struct e6_nl_route_spec s127 = spec("2001:db8:22::/127", ifi, NULL);
    struct e6_nl_route_spec *all[] = {&s48, &s64, &s128, &sdef, &s61, &s127};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        assert_int_equal(e6_nl_route_add(nl, all[i], false), 0);
    WAIT_FOR(lookup_is("2001:db8:22::1", 0, "2001:db8:22::/127", 1024));

    const char *k = capture("ip -6 route show");
    assert_non_null(strstr(k, "2001:db8:20::/48 dev e6r0 proto static metric 1024"));
    assert_non_null(strstr(k, "2001:db8:20:1::/64 via 2001:db8:10::2 dev e6r0 proto static"));
    assert_non_null(strstr(k, "2001:db8:20:1::5 dev e6r0 proto static metric 50"));
    assert_non_null(strstr(k, "default via 2001:db8:10::fe dev e6r0 proto static"));
    assert_non_null(strstr(k, "unreachable 2001:db8:21::/61"));
    assert_non_null(strstr(k, "2001:db8:22::/127 dev e6r0 proto static"));

    /* longest prefix wins: /128 over /64 over /48 over default */
    struct e6_nl_route r = lookup("2001:db8:20:1::5", 0);
    assert_int_equal(r.dst.len, 128);
    assert_int_equal(r.metric, 50);
    assert_int_equal(r.nhcount, 1);
    assert_int_equal(r.nh[0].ifindex, ifi);
    assert_true(e6_addr_is_unspecified(&r.nh[0].gateway));
    assert_int_equal(r.table, E6_NL_TABLE_MAIN);
    assert_int_equal(r.protocol, RTPROT_STATIC);
    assert_int_equal(r.type, RTN_UNICAST);
    r = lookup("2001:db8:20:1::6", 0);
    assert_int_equal(r.dst.len, 64);
    struct in6_addr gw2 = A("2001:db8:10::2");
    assert_true(e6_addr_equal(&r.nh[0].gateway, &gw2));
    assert_true(lookup_is("2001:db8:20:2::1", 0, "2001:db8:20::/48", 1024));
    assert_true(lookup_is("2001:db8:99::1", 0, "::/0", 1024));
    r = lookup("2001:db8:99::1", 0);
    struct in6_addr gwfe = A("2001:db8:10::fe");
    assert_true(e6_addr_equal(&r.nh[0].gateway, &gwfe));
    /* /61 covers 2001:db8:21:0:: to 2001:db8:21:7:ffff:... and nothing after */
    r = lookup("2001:db8:21:7:ffff::1", 0);
    assert_int_equal(r.dst.len, 61);
    assert_int_equal(r.type, RTN_UNREACHABLE);
    assert_int_equal(r.nhcount, 0);
    assert_true(lookup_is("2001:db8:21:8::1", 0, "::/0", 1024));
    /* /127 covers ::0 and ::1 only */
    assert_true(lookup_is("2001:db8:22::", 0, "2001:db8:22::/127", 1024));
    assert_true(lookup_is("2001:db8:22::2", 0, "::/0", 1024));
    /* the same prefix with a lower metric is preferred */
    struct e6_nl_route_spec s48b = s48;
    s48b.metric = 10;
    assert_int_equal(e6_nl_route_add(nl, &s48b, false), 0);
    WAIT_FOR(lookup_is("2001:db8:20:2::1", 0, "2001:db8:20::/48", 10));
    assert_int_equal(e6_nl_route_del(nl, &s48b), 0);
    WAIT_FOR(lookup_is("2001:db8:20:2::1", 0, "2001:db8:20::/48", 1024));

    /* other tables, below and above 255 */
    struct e6_nl_route_spec t100 = spec("2001:db8:30::/48", ifi, NULL);
    t100.table = 100;
    struct e6_nl_route_spec t1000 = spec("2001:db8:30:1::/64", ifi, NULL);
    t1000.table = 1000;
    assert_int_equal(e6_nl_route_add(nl, &t100, false), 0);
    assert_int_equal(e6_nl_route_add(nl, &t1000, false), 0);
    WAIT_FOR(lookup_is("2001:db8:30:1::1", 1000, "2001:db8:30:1::/64", 1024));
    assert_true(lookup_is("2001:db8:30:1::1", 100, "2001:db8:30::/48", 1024));
    assert_true(lookup_is("2001:db8:30:1::1", 0, "::/0", 1024));
    assert_int_equal(lookup("2001:db8:30:1::1", 4000).metric, UINT32_MAX);
    assert_non_null(strstr(capture("ip -6 route show table 1000"), "2001:db8:30:1::/64 dev e6r0"));
    assert_int_equal(e6_nl_routes(nl, 1000, NULL, 0), 1);

    /* replace changes the gateway: exactly one nexthop afterwards */
    struct e6_nl_route_spec s64b = spec("2001:db8:20:1::/64", ifi, "2001:db8:10::3");
    assert_int_equal(e6_nl_route_add(nl, &s64, false), -EEXIST);
    assert_int_equal(e6_nl_route_add(nl, &s64b, true), 0);
    struct in6_addr gw3 = A("2001:db8:10::3");
    WAIT_FOR(e6_addr_equal(&lookup("2001:db8:20:1::6", 0).nh[0].gateway, &gw3));
    r = lookup("2001:db8:20:1::6", 0);
    assert_int_equal(r.nhcount, 1);
    assert_non_null(strstr(capture("ip -6 route show 2001:db8:20:1::/64"), "via 2001:db8:10::3"));

    /* kernel errors come back as they are */
    struct e6_nl_route_spec none = spec("2001:db8:77::/48", ifi, NULL);
    assert_int_equal(e6_nl_route_del(nl, &none), -ESRCH);
    struct e6_nl_route_spec nodev = spec("2001:db8:77::/48", 4242, NULL);
    assert_int_equal(e6_nl_route_add(nl, &nodev, false), -ENODEV);
    struct e6_nl_route_spec offlink = spec("2001:db8:77::/48", ifi, "2001:db8:99::1");
    int err = e6_nl_route_add(nl, &offlink, false);
    assert_true(err < 0);
    fprintf(stderr, "off-link gateway: %s (%s)\n", strerror(-err), e6_nl_errmsg(nl));

    /* ECMP: two nexthops, then one sibling removed */
    SH("ip -6 route add 2001:db8:40::/48 nexthop via 2001:db8:10::2 dev e6r0 "
       "nexthop via 2001:db8:10::3 dev e6r0");
    WAIT_FOR(lookup("2001:db8:40::1", 0).nhcount == 2);
    SH("ip -6 route del 2001:db8:40::/48 via 2001:db8:10::2 dev e6r0");
    WAIT_FOR(lookup("2001:db8:40::1", 0).nhcount == 1);
    r = lookup("2001:db8:40::1", 0);
    assert_true(e6_addr_equal(&r.nh[0].gateway, &gw3));
    assert_matches_kernel();

    /* siblings appended to a gateway route make one ECMP route, not several */
    SH("ip -6 route add 2001:db8:41::/48 via 2001:db8:10::2 dev e6r0");
    SH("ip -6 route append 2001:db8:41::/48 via 2001:db8:10::3 dev e6r0");
    SH("ip -6 route append 2001:db8:41::/48 via 2001:db8:10::4 dev e6r0");
    WAIT_FOR(lookup("2001:db8:41::1", 0).nhcount == 3);
    assert_int_equal(count_routes("2001:db8:41::/48"), 1);
    /* removing the first sibling changes which nexthop names the route */
    SH("ip -6 route del 2001:db8:41::/48 via 2001:db8:10::2 dev e6r0");
    WAIT_FOR(lookup("2001:db8:41::1", 0).nhcount == 2);
    assert_true(e6_addr_equal(&lookup("2001:db8:41::1", 0).nh[0].gateway, &gw3));
    assert_int_equal(count_routes("2001:db8:41::/48"), 1);
    /* a replace turns the group back into a single route */
    struct e6_nl_route_spec s41 = spec("2001:db8:41::/48", ifi, "2001:db8:10::5");
    assert_int_equal(e6_nl_route_add(nl, &s41, true), 0);
    WAIT_FOR(lookup("2001:db8:41::1", 0).nhcount == 1);
    struct in6_addr gw5 = A("2001:db8:10::5");
    assert_true(e6_addr_equal(&lookup("2001:db8:41::1", 0).nh[0].gateway, &gw5));
    assert_int_equal(count_routes("2001:db8:41::/48"), 1);
    assert_matches_kernel();

    /* equal on-link routes on two links are two routes */
    mk_dummy("e6r1");
    SH("ip link set e6r1 up");
    WAIT_FOR(link_of("e6r1").up);
    SH("ip -6 route add 2001:db8:42::/64 dev e6r0 metric 300");
    SH("ip -6 route append 2001:db8:42::/64 dev e6r1 metric 300");
    WAIT_FOR(count_routes("2001:db8:42::/64") == 2);
    SH("ip -6 route del 2001:db8:42::/64 dev e6r1 metric 300");
    WAIT_FOR(count_routes("2001:db8:42::/64") == 1);
    assert_int_equal(lookup("2001:db8:42::1", 0).nh[0].ifindex, ifi);
    /* which of them a replace hits is the kernel's secret: a resync tells */
    SH("ip -6 route append 2001:db8:42::/64 dev e6r1 metric 300");
    WAIT_FOR(count_routes("2001:db8:42::/64") == 2);
    struct e6_nl_stats st0, st1;
    e6_nl_get_stats(nl, &st0);
    SH("ip -6 route replace 2001:db8:42::/64 dev e6r1 metric 300");
    settle(150);
    e6_nl_get_stats(nl, &st1);
    assert_int_equal(st1.resyncs, st0.resyncs + 1);
    assert_int_equal(st1.overruns, st0.overruns);
    assert_false(e6_nl_resync_pending(nl));
    assert_int_equal(lookup("2001:db8:42::1", 0).nh[0].ifindex, ifindex_of("e6r1"));
    assert_matches_kernel();
    SH("ip link del e6r1");
    SH("ip -6 route del 2001:db8:41::/48");

    /* deletes through our helper, reject routes included */
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        if (all[i] == &s64)
            continue; /* replaced above */
        assert_int_equal(e6_nl_route_del(nl, all[i]), 0);
    }
    assert_int_equal(e6_nl_route_del(nl, &s64b), 0);
    WAIT_FOR(lookup("2001:db8:99::1", 0).metric == UINT32_MAX);
    k = capture("ip -6 route show");
    assert_null(strstr(k, "2001:db8:20"));
    assert_null(strstr(k, "2001:db8:21"));
    assert_null(strstr(k, "default"));
    assert_true(lookup_is("2001:db8:40::1", 0, "2001:db8:40::/48", 1024));

    /* the kernel drops a deleted link's routes silently: so must we */
    unsigned rdel = nev(E6_NL_ROUTE, E6_NL_DEL);
    SH("ip link del e6r0");
    WAIT_FOR(ifindex_of("e6r0") == 0);
    assert_true(nev(E6_NL_ROUTE, E6_NL_DEL) > rdel);
    assert_int_equal(e6_nl_routes(nl, 1000, NULL, 0), 0);
    assert_int_equal(lookup("2001:db8:40::1", 0).metric, UINT32_MAX);
    assert_false(rec.bad_event);
    assert_matches_kernel();
}

/* 24 links each with their fe80::/64 and ff00::/8: many routes, one base */
static void test_many_equal_routes(void **state)
{
    settle(100);
    struct e6_nl_stats st0, st1;
    e6_nl_get_stats(nl, &st0);
    int before = count_routes("fe80::/64");
    for (int i = 0; i < 24; i++) {
        char name[16];
        snprintf(name, sizeof name, "e6m%d", i);
        mk_dummy(name);
        SH("ip link set %s up", name);
    }
    WAIT_FOR(count_routes("fe80::/64") == before + 24);
    e6_nl_get_stats(nl, &st1);
    assert_int_equal(st1.resyncs, st0.resyncs);
    assert_matches_kernel();
    for (int i = 0; i < 24; i += 2)
        SH("ip link set e6m%d down", i);
    WAIT_FOR(count_routes("fe80::/64") == before + 12);
    for (int i = 0; i < 24; i++)
        SH("ip link del e6m%d", i);
    WAIT_FOR(count_routes("fe80::/64") == before);
    e6_nl_get_stats(nl, &st1);
    assert_int_equal(st1.resyncs, st0.resyncs);
    assert_matches_kernel();
}

static void test_route_rejected(void **state)
{
    struct e6_nl_route_spec s = spec("2001:db8:50::/48", 0, NULL);
    assert_int_equal(e6_nl_route_add(nl, NULL, false), -EINVAL);
    /* unicast needs a device or a gateway */
    assert_int_equal(e6_nl_route_add(nl, &s, false), -EINVAL);
    s.type = RTN_LOCAL;
    s.ifindex = 1;
    assert_int_equal(e6_nl_route_add(nl, &s, false), -EINVAL);
    s.type = RTN_UNREACHABLE;
    s.gateway = A("2001:db8::1");
    assert_int_equal(e6_nl_route_add(nl, &s, false), -EINVAL);
    s = spec("2001:db8:50::/48", -3, NULL);
    assert_int_equal(e6_nl_route_add(nl, &s, false), -EINVAL);
    s.dst.len = 129;
    assert_int_equal(e6_nl_route_del(nl, &s), -EINVAL);
    struct e6_nl_route out;
    struct in6_addr d = A("2001:db8:50::1");
    assert_int_equal(e6_nl_route_lookup(nl, &d, 0, &out), -ENOENT);
}

/* ---- neighbours and proxy entries ----------------------------------------------------- */

struct neigh_seen {
    int n;
    int ifindex;
    bool saw7, saw8, saw9, other_link;
    struct e6_nl_neigh last;
};

static void on_neigh(const struct e6_nl_neigh *n, void *arg)
{
    struct neigh_seen *s = arg;
    struct in6_addr a7 = A("2001:db8:60::7"), a8 = A("2001:db8:60::8"), a9 = A("2001:db8:60::9");
    s->n++;
    s->last = *n;
    s->saw7 |= e6_addr_equal(&n->addr, &a7) && n->state == NUD_PERMANENT;
    s->saw8 |= e6_addr_equal(&n->addr, &a8) && n->state == NUD_STALE;
    s->saw9 |= e6_addr_equal(&n->addr, &a9);
    s->other_link |= n->ifindex != ifindex_of("e6va");
}

static void test_proxy_entries(void **state)
{
    SH("ip link add e6va type veth peer name e6vb");
    SH("ip link set e6va up; ip link set e6vb up");
    WAIT_FOR(link_of("e6va").running);
    int ifi = ifindex_of("e6va");
    struct in6_addr p = A("2001:db8:60::5");

    assert_int_equal(e6_nl_proxy_get(nl, ifi, &p), -ENOENT);
    assert_int_equal(e6_nl_proxy_add(nl, ifi, &p), 0);
    assert_non_null(strstr(capture("ip -6 neigh show proxy"), "2001:db8:60::5 dev e6va proxy"));
    assert_int_equal(e6_nl_proxy_get(nl, ifi, &p), 0);
    assert_int_equal(e6_nl_proxy_add(nl, ifi, &p), 0); /* idempotent */

    struct neigh_seen seen = {0};
    assert_int_equal(e6_nl_neigh_dump(nl, ifi, true, on_neigh, &seen), 1);
    assert_int_equal(seen.n, 1);
    assert_true(e6_addr_equal(&seen.last.addr, &p));
    assert_int_equal(seen.last.ifindex, ifi);
    assert_true(seen.last.flags & NTF_PROXY);
    /* not on the other link */
    memset(&seen, 0, sizeof seen);
    assert_int_equal(e6_nl_neigh_dump(nl, ifindex_of("e6vb"), true, on_neigh, &seen), 0);
    assert_int_equal(seen.n, 0);

    assert_int_equal(e6_nl_proxy_del(nl, ifi, &p), 0);
    assert_null(strstr(capture("ip -6 neigh show proxy"), "2001:db8:60::5"));
    assert_int_equal(e6_nl_proxy_get(nl, ifi, &p), -ENOENT);
    assert_int_equal(e6_nl_proxy_del(nl, ifi, &p), -ENOENT);
    assert_int_equal(e6_nl_proxy_add(nl, 0, &p), -EINVAL);
    assert_int_equal(e6_nl_proxy_add(nl, 4242, &p), -ENODEV);
    assert_int_equal(e6_nl_proxy_del(nl, ifi, NULL), -EINVAL);
}

static void test_neighbour_entries(void **state)
{
    SH("ip link add e6va type veth peer name e6vb");
    SH("ip link set e6va up; ip link set e6vb up");
    WAIT_FOR(link_of("e6va").running);
    int ifi = ifindex_of("e6va");
    struct in6_addr n1 = A("2001:db8:60::7"), n2 = A("2001:db8:60::8");
    SH("ip -6 neigh add 2001:db8:60::7 lladdr 02:00:00:00:00:07 dev e6va nud permanent");
    SH("ip -6 neigh add 2001:db8:60::8 lladdr 02:00:00:00:00:08 dev e6va nud stale");
    struct e6_nl_neigh x;
    assert_int_equal(e6_nl_neigh_get(nl, ifi, &n1, &x), 0);
    assert_int_equal(x.state, NUD_PERMANENT);
    assert_string_equal(e6_nl_nud_name(x.state), "permanent");
    assert_int_equal(x.lladdr_len, 6);
    static const uint8_t mac7[6] = {2, 0, 0, 0, 0, 7};
    assert_memory_equal(x.lladdr, mac7, 6);
    assert_int_equal(e6_nl_neigh_get(nl, ifi, &n2, &x), 0);
    assert_int_equal(x.state, NUD_STALE);
    assert_string_equal(e6_nl_nud_name(x.state), "stale");
    struct in6_addr none = A("2001:db8:60::9");
    assert_int_equal(e6_nl_neigh_get(nl, ifi, &none, &x), -ENOENT);
    /* a proxy entry is not a neighbour entry */
    assert_int_equal(e6_nl_proxy_add(nl, ifi, &none), 0);
    assert_int_equal(e6_nl_neigh_get(nl, ifi, &none, &x), -ENOENT);

    /* the kernel adds entries of its own (DAD, MLD) as it likes: look for ours */
    struct neigh_seen seen = {0};
    int n = e6_nl_neigh_dump(nl, ifi, false, on_neigh, &seen);
    assert_true(n >= 2);
    assert_int_equal(n, seen.n);
    assert_true(seen.saw7 && seen.saw8);
    assert_false(seen.saw9);
    assert_false(seen.other_link);
    assert_int_equal(e6_nl_neigh_dump(nl, -1, false, on_neigh, &seen), -EINVAL);
    assert_int_equal(e6_nl_neigh_dump(nl, ifi, false, NULL, NULL), -EINVAL);
    assert_int_equal(e6_nl_neigh_get(nl, 0, &n1, &x), -EINVAL);

    assert_string_equal(e6_nl_nud_name(0), "none");
    assert_string_equal(e6_nl_nud_name(NUD_REACHABLE), "reachable");
    assert_string_equal(e6_nl_nud_name(NUD_INCOMPLETE), "incomplete");
    assert_string_equal(e6_nl_nud_name(NUD_DELAY), "delay");
    assert_string_equal(e6_nl_nud_name(NUD_PROBE), "probe");
    assert_string_equal(e6_nl_nud_name(NUD_FAILED), "failed");
    assert_string_equal(e6_nl_nud_name(NUD_NOARP), "noarp");
    assert_string_equal(e6_nl_nud_name(NUD_STALE | NUD_DELAY), "mixed");
    SH("ip link del e6va");
    WAIT_FOR(ifindex_of("e6va") == 0);
}

/* ---- netconf ---------------------------------------------------------------------- */

static int fwd(int ifi)
{
    return e6_nl_forwarding(nl, ifi);
}

static void test_forwarding_netconf(void **state)
{
    mk_dummy("e6f0");
    WAIT_FOR(ifindex_of("e6f0") > 0);
    int ifi = ifindex_of("e6f0");
    WAIT_FOR(fwd(ifi) == 0);
    struct e6_nl_netconf c;
    assert_int_equal(e6_nl_netconf_get(nl, ifi, &c), 0);
    assert_int_equal(c.proxy_ndp, 0);

    unsigned ch0 = nev(E6_NL_NETCONF, E6_NL_CHANGE);
    SH("sysctl -qw net.ipv6.conf.e6f0.forwarding=1");
    WAIT_FOR(fwd(ifi) == 1);
    assert_true(nev(E6_NL_NETCONF, E6_NL_CHANGE) > ch0);
    assert_int_equal(rec.last_nc.ifindex, ifi);
    assert_int_equal(rec.last_nc.forwarding, 1);
    /* the event said only "forwarding": the rest is kept, not forgotten */
    assert_int_equal(e6_nl_netconf_get(nl, ifi, &c), 0);
    assert_int_equal(c.proxy_ndp, 0);
    assert_int_equal(fwd(1), 0);

    SH("sysctl -qw net.ipv6.conf.e6f0.proxy_ndp=1");
    WAIT_FOR(e6_nl_netconf_get(nl, ifi, &c) == 0 && c.proxy_ndp == 1);
    assert_int_equal(c.forwarding, 1);

    SH("sysctl -qw net.ipv6.conf.e6f0.forwarding=0");
    WAIT_FOR(fwd(ifi) == 0);

    /* "all" switches every interface */
    SH("sysctl -qw net.ipv6.conf.all.forwarding=1");
    WAIT_FOR(fwd(E6_NL_IFINDEX_ALL) == 1 && fwd(ifi) == 1 && fwd(1) == 1);
    SH("sysctl -qw net.ipv6.conf.all.forwarding=0");
    WAIT_FOR(fwd(E6_NL_IFINDEX_ALL) == 0 && fwd(ifi) == 0 && fwd(1) == 0);
    assert_matches_kernel();

    SH("ip link del e6f0");
    WAIT_FOR(ifindex_of("e6f0") == 0);
    assert_int_equal(fwd(ifi), -ENOENT);
}

/* ---- subscribers ------------------------------------------------------------------- */

static int self_unsub_handle = -1;
static int self_unsub_calls;

static void unsub_self(const struct e6_nl_event *ev, void *arg)
{
    self_unsub_calls++;
    e6_nl_unsubscribe(nl, self_unsub_handle);
}

static int link_only_calls;
static void link_only(const struct e6_nl_event *ev, void *arg)
{
    if (ev->kind != E6_NL_LINK)
        fail_msg("link-only subscriber got kind %d", ev->kind);
    link_only_calls++;
}

static void nop_cb(const struct e6_nl_event *ev, void *arg)
{
}

static void test_subscribers(void **state)
{
    assert_int_equal(e6_nl_subscribe(nl, 0, nop_cb, NULL), -EINVAL);
    assert_int_equal(e6_nl_subscribe(nl, E6_NL_LINK, NULL, NULL), -EINVAL);
    assert_int_equal(e6_nl_subscribe(nl, 1u << 20, nop_cb, NULL), -EINVAL);

    int handles[16], n = 0;
    for (;;) {
        int h = e6_nl_subscribe(nl, E6_NL_LINK, nop_cb, NULL);
        if (h < 0) {
            assert_int_equal(h, -ENOSPC);
            break;
        }
        handles[n++] = h;
        assert_true(n < 16);
    }
    assert_int_equal(n, 15); /* the recorder holds one slot */
    for (int i = 0; i < n; i++)
        e6_nl_unsubscribe(nl, handles[i]);
    e6_nl_unsubscribe(nl, -1);
    e6_nl_unsubscribe(nl, 99);

    self_unsub_handle = e6_nl_subscribe(nl, E6_NL_LINK, unsub_self, NULL);
    assert_true(self_unsub_handle >= 0);
    int lh = e6_nl_subscribe(nl, E6_NL_LINK, link_only, NULL);
    assert_true(lh >= 0);
    mk_dummy("e6s0");
    WAIT_FOR(ifindex_of("e6s0") > 0);
    SH("sysctl -qw net.ipv6.conf.e6s0.forwarding=1");
    SH("ip link del e6s0");
    WAIT_FOR(ifindex_of("e6s0") == 0);
    settle(100);
    assert_int_equal(self_unsub_calls, 1);
    assert_true(link_only_calls >= 2);
    e6_nl_unsubscribe(nl, lh);
}

/* ---- overrun and resync ------------------------------------------------------------- */

static void test_resync_without_changes(void **state)
{
    settle(100);
    struct rec before = rec;
    struct e6_nl_stats st0, st1;
    e6_nl_get_stats(nl, &st0);
    assert_int_equal(e6_nl_resync(nl), 0);
    e6_nl_get_stats(nl, &st1);
    assert_int_equal(st1.resyncs, st0.resyncs + 1);
    assert_int_equal(rec.resyncs, before.resyncs + 1);
    /* nothing changed, so nothing but RESYNC is reported */
    assert_memory_equal(rec.count, before.count, sizeof rec.count);
}

static void test_foreign_sender_ignored(void **state)
{
    struct sockaddr_nl me;
    socklen_t sl = sizeof me;
    assert_int_equal(getsockname(e6_nl_fd(nl), (struct sockaddr *)&me, &sl), 0);
    int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    assert_true(s >= 0);
    struct {
        struct nlmsghdr h;
        struct ifinfomsg i;
        struct rtattr a;
        char name[8];
    } m;
    memset(&m, 0, sizeof m);
    m.h.nlmsg_len = sizeof m;
    m.h.nlmsg_type = RTM_NEWLINK;
    m.i.ifi_family = AF_UNSPEC;
    m.i.ifi_index = 4242;
    m.a.rta_type = IFLA_IFNAME;
    m.a.rta_len = RTA_LENGTH(sizeof m.name);
    strcpy(m.name, "evil0");
    struct sockaddr_nl to = {.nl_family = AF_NETLINK, .nl_pid = me.nl_pid};
    assert_int_equal(sendto(s, &m, sizeof m, 0, (struct sockaddr *)&to, sizeof to), sizeof m);
    close(s);
    struct e6_nl_stats st0, st1;
    e6_nl_get_stats(nl, &st0);
    settle(100);
    e6_nl_get_stats(nl, &st1);
    assert_int_equal(st1.foreign, st0.foreign + 1);
    struct e6_nl_link l;
    assert_int_equal(e6_nl_link_by_index(nl, 4242, &l), -ENOENT);
    assert_int_equal(e6_nl_link_by_name(nl, "evil0", &l), -ENOENT);
}

/* the addresses the kernel holds on a link, from `ip`, checked against the cache */
static void assert_addrs_match_ip(const char *ifname, int ifi, size_t expect)
{
    const char *out = capture("ip -6 -o addr show dev %s scope global", ifname);
    size_t n = 0;
    for (const char *p = strstr(out, "inet6 "); p; p = strstr(p + 1, "inet6 ")) {
        char txt[64];
        if (sscanf(p, "inet6 %63[0-9a-f:]", txt) != 1)
            fail_msg("cannot read ip output: %.60s", p);
        if (!has_addr(ifi, txt))
            fail_msg("kernel has %s on %s, the cache does not", txt, ifname);
        n++;
    }
    assert_int_equal(n, expect);
    /* and the cache holds no global address the kernel lacks */
    struct e6_nl_addr *v = calloc(expect + 8, sizeof *v);
    assert_non_null(v);
    size_t c = e6_nl_addrs(nl, ifi, v, expect + 8);
    size_t global = 0;
    for (size_t i = 0; i < c && i < expect + 8; i++)
        global += !e6_addr_is_linklocal(&v[i].addr);
    free(v);
    assert_int_equal(global, expect);
}

static void test_enobufs_resync(void **state)
{
    mk_dummy("e6o0");
    SH("ip link set e6o0 up");
    WAIT_FOR(link_of("e6o0").up);
    int ifi = ifindex_of("e6o0");
    settle(100);
    rec.watch_ifindex = ifi;
    rec.mirror = (int)e6_nl_addrs(nl, ifi, NULL, 0);

    struct e6_nl_stats st0, st1;
    e6_nl_get_stats(nl, &st0);
    unsigned resyncs0 = rec.resyncs;
    /* a tiny buffer, then thousands of events nobody reads */
    assert_int_equal(e6_nl_set_rcvbuf(nl, 1), 0);
    assert_int_equal(e6_nl_set_rcvbuf(nl, 0), -EINVAL);
    struct e6_nl_addr_opts nodad = {.nodad = true};
    for (unsigned i = 0; i < 2000; i++) {
        struct in6_addr a = A("2001:db8:70::");
        a.s6_addr[14] = (uint8_t)(i >> 8);
        a.s6_addr[15] = (uint8_t)i;
        a.s6_addr[13] = 1;
        assert_int_equal(e6_nl_addr_add(nl, ifi, &a, 64, &nodad), 0);
    }
    assert_int_equal(e6_nl_set_rcvbuf(nl, 4 << 20), 0);
    settle(200);
    e6_nl_get_stats(nl, &st1);
    fprintf(stderr, "overrun: %llu overruns, %llu resyncs, %llu queued events discarded\n",
            (unsigned long long)(st1.overruns - st0.overruns),
            (unsigned long long)(st1.resyncs - st0.resyncs),
            (unsigned long long)(st1.discarded - st0.discarded));
    assert_true(st1.overruns > st0.overruns);
    assert_true(st1.resyncs > st0.resyncs);
    assert_true(rec.resyncs > resyncs0);
    assert_addrs_match_ip("e6o0", ifi, 2000);
    /* a subscriber that only follows events has the same picture */
    assert_int_equal(rec.mirror, (int)e6_nl_addrs(nl, ifi, NULL, 0));
    assert_false(rec.bad_event);
    assert_matches_kernel();

    /* with a normal buffer, 1000 deletions arrive as ordinary events */
    e6_nl_get_stats(nl, &st0);
    for (unsigned i = 0; i < 1000; i++) {
        struct in6_addr a = A("2001:db8:70::");
        a.s6_addr[14] = (uint8_t)(i >> 8);
        a.s6_addr[15] = (uint8_t)i;
        a.s6_addr[13] = 1;
        assert_int_equal(e6_nl_addr_del(nl, ifi, &a, 64), 0);
    }
    settle(200);
    e6_nl_get_stats(nl, &st1);
    assert_int_equal(st1.overruns, st0.overruns);
    assert_int_equal(st1.resyncs, st0.resyncs);
    assert_true(st1.events >= st0.events + 1000);
    assert_addrs_match_ip("e6o0", ifi, 1000);
    assert_int_equal(rec.mirror, (int)e6_nl_addrs(nl, ifi, NULL, 0));

    /* deletions lost in an overrun are reported as DEL by the resync */
    assert_int_equal(e6_nl_set_rcvbuf(nl, 1), 0);
    SH("ip link set e6o0 down");
    assert_int_equal(e6_nl_set_rcvbuf(nl, 4 << 20), 0);
    settle(200);
    e6_nl_get_stats(nl, &st0);
    assert_true(st0.resyncs > st1.resyncs);
    assert_addrs_match_ip("e6o0", ifi, 0);
    assert_false(link_of("e6o0").up);
    assert_int_equal(rec.mirror, (int)e6_nl_addrs(nl, ifi, NULL, 0));

    /* a link deleted during an overrun: its addresses go before it does */
    SH("ip link set e6o0 up");
    WAIT_FOR(link_of("e6o0").up);
    settle(100);
    unsigned ldel = nev(E6_NL_LINK, E6_NL_DEL);
    assert_int_equal(e6_nl_set_rcvbuf(nl, 1), 0);
    for (unsigned i = 0; i < 300; i++) {
        struct in6_addr a = A("2001:db8:71::");
        a.s6_addr[14] = (uint8_t)(i >> 8);
        a.s6_addr[15] = (uint8_t)i;
        assert_int_equal(e6_nl_addr_add(nl, ifi, &a, 64, &nodad), 0);
    }
    SH("ip link del e6o0");
    assert_int_equal(e6_nl_set_rcvbuf(nl, 4 << 20), 0);
    settle(200);
    e6_nl_get_stats(nl, &st1);
    assert_true(st1.resyncs > st0.resyncs);
    assert_int_equal(ifindex_of("e6o0"), 0);
    assert_int_equal(nev(E6_NL_LINK, E6_NL_DEL), ldel + 1);
    assert_int_equal(e6_nl_addrs(nl, ifi, NULL, 0), 0);
    assert_int_equal(rec.mirror, 0);
    assert_false(rec.bad_event);
    rec.watch_ifindex = 0;
    assert_matches_kernel();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_open_sees_loopback, test_teardown),
        cmocka_unit_test_teardown(test_link_lifecycle_events, test_teardown),
        cmocka_unit_test_teardown(test_link_requests_rejected, test_teardown),
        cmocka_unit_test_teardown(test_tun_has_no_mac, test_teardown),
        cmocka_unit_test_teardown(test_addr_add_del, test_teardown),
        cmocka_unit_test_teardown(test_addr_rejected, test_teardown),
        cmocka_unit_test_teardown(test_tentative_and_link_local, test_teardown),
        cmocka_unit_test_teardown(test_routes_and_lpm, test_teardown),
        cmocka_unit_test_teardown(test_many_equal_routes, test_teardown),
        cmocka_unit_test_teardown(test_route_rejected, test_teardown),
        cmocka_unit_test_teardown(test_proxy_entries, test_teardown),
        cmocka_unit_test_teardown(test_neighbour_entries, test_teardown),
        cmocka_unit_test_teardown(test_forwarding_netconf, test_teardown),
        cmocka_unit_test_teardown(test_subscribers, test_teardown),
        cmocka_unit_test_teardown(test_resync_without_changes, test_teardown),
        cmocka_unit_test_teardown(test_foreign_sender_ignored, test_teardown),
        cmocka_unit_test_teardown(test_enobufs_resync, test_teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
