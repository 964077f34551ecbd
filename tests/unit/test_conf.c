/*
 * tests/unit/test_conf: the configuration file. The shipped example loads;
 * defaults; and every rejection with its exact "FILE:LINE: message", line
 * numbers checked against the text (including after comments, which
 * libconfuse 3.3 miscounts on its own); several errors reported together;
 * the value converters and the schema's own invariants.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "conf/conf.h"
#include "conf/internal.h"

#define MAX_MSGS 128

struct msgs {
    char *m[MAX_MSGS];
    size_t n;
};

static void collect(void *arg, const char *msg)
{
    struct msgs *ms = arg;
    if (ms->n < MAX_MSGS)
        ms->m[ms->n++] = strdup(msg);
}

static void msgs_free(struct msgs *ms)
{
    for (size_t i = 0; i < ms->n; i++)
        free(ms->m[i]);
    ms->n = 0;
}

static void print_msgs(const struct msgs *ms)
{
    for (size_t i = 0; i < ms->n; i++)
        print_message("  got: %s\n", ms->m[i]);
}

/* Load text named "t.conf"; it must load without a message. */
static struct conf *load_ok(const char *text)
{
    struct msgs ms = {0};
    struct conf *c = conf_load_string(text, "t.conf", collect, &ms);
    if (!c || ms.n) {
        print_msgs(&ms);
        msgs_free(&ms);
        conf_free(c);
        fail_msg("config was refused:\n%s", text);
    }
    return c;
}

/* Load text named "t.conf"; it must be refused with exactly these messages, in order. */
static void expect_v(const char *text, va_list ap)
{
    struct msgs ms = {0};
    struct conf *c = conf_load_string(text, "t.conf", collect, &ms);
    const char *want;
    size_t i = 0;

    if (c) {
        conf_free(c);
        fail_msg("config was accepted:\n%s", text);
    }
    while ((want = va_arg(ap, const char *)) != NULL) {
        if (i >= ms.n || strcmp(ms.m[i], want) != 0) {
            print_msgs(&ms);
            fail_msg("message %zu: want\n  %s\ngot\n  %s", i, want, i < ms.n ? ms.m[i] : "(none)");
        }
        i++;
    }
    if (i != ms.n) {
        print_msgs(&ms);
        fail_msg("%zu messages, expected %zu", ms.n, i);
    }
    msgs_free(&ms);
}

static void expect(const char *text, ...)
{
    va_list ap;
    va_start(ap, text);
    expect_v(text, ap);
    va_end(ap);
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf;
    long n;

    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* Line (1-based) of the first line of text starting with prefix, 0 if none. */
static unsigned line_of(const char *text, const char *prefix)
{
    unsigned line = 1;
    size_t n = strlen(prefix);
    for (const char *p = text; *p; line++) {
        if (strncmp(p, prefix, n) == 0)
            return line;
        p = strchr(p, '\n');
        if (!p)
            break;
        p++;
    }
    return 0;
}

static char *write_temp(const char *text, size_t len)
{
    char *path = strdup("/tmp/test_conf.XXXXXX");
    int fd;

    assert_non_null(path);
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    close(fd);
    return path;
}

static const char *pfx(const struct e6_prefix *p, char *buf)
{
    return e6_prefix_format(p, buf, E6_PREFIXSTRLEN);
}

/*
 * The smallest 6in4 tunnel, on one line so the lines of a test stay as
 * written: a client of 198.51.100.1.
 */
#define T4_REST                                                                                    \
    " mode = client local = 192.0.2.1 remote = 198.51.100.1 client-address = "                     \
    "\"2001:db8:9:1::2/64\" "
#define T4 " type = 6in4" T4_REST

/*
 * The smallest 6bed4 router, on one line likewise: 2001:db8:1::/64 on
 * 192.0.2.6; and the smallest peer, of 198.51.100.6.
 */
#define T6  " type = 6bed4 mode = router local = 192.0.2.6 prefix = \"2001:db8:1::/64\" "
#define T6P " type = 6bed4 mode = peer router = 198.51.100.6 "

/* ---- the example and the defaults ---- */

static void test_example_loads(void **state)
{
    char *text = read_file(CONF_EXAMPLE);
    struct msgs ms = {0};
    struct conf *c = conf_load(CONF_EXAMPLE, collect, &ms);
    char b[E6_PREFIXSTRLEN];
    const struct conf_proxy *p;
    const struct conf_interface *i;

    (void)state;
    print_msgs(&ms);
    assert_int_equal(ms.n, 0);
    assert_non_null(c);
    assert_string_equal(c->path, CONF_EXAMPLE);
    assert_string_equal(c->global.user, "edge6");
    assert_string_equal(c->global.control_socket, "/run/edge6/edge6d.sock");
    assert_string_equal(c->global.state_dir, "/var/lib/edge6");
    assert_int_equal(c->global.log_level, E6_LOG_INFO);

    /* role 1: proxy on eth0 for the /64, 6in4 server tunnel */
    assert_int_equal(c->n_proxies, 1);
    p = conf_find_proxy(c, "eth0");
    assert_non_null(p);
    assert_int_equal(p->line, line_of(text, "proxy eth0 {"));
    assert_int_equal(p->n_rules, 2);
    assert_string_equal(pfx(&p->rules[0].prefix, b), "2001:db8:9:10::/64");
    assert_int_equal(p->rules[0].line, line_of(text, "    rule 2001:db8:9:10::/64 {"));
    /* the LAN behind the tunnel, confirmed there; the box's own address excluded */
    assert_int_equal(p->rules[0].method, CONF_PROXY_IFACE);
    assert_string_equal(p->rules[0].iface, "tun-home");
    assert_null(p->rules[0].tunnel);
    assert_string_equal(pfx(&p->rules[1].prefix, b), "2001:db8:9:10::1/128");
    assert_int_equal(p->rules[1].method, CONF_PROXY_EXCLUDE);
    assert_null(p->rules[1].iface);
    /* every proxy setting at its default */
    assert_true(p->router);
    assert_int_equal(p->na_source, CONF_NA_SRC_LINKLOCAL);
    assert_false(p->has_target_lladdr);
    assert_int_equal(p->sessions, 8192);
    assert_int_equal(p->valid_ttl, 30);
    assert_false(p->kernel_offload);
    assert_false(p->autowire);
    /* the tunnels are commented out (test_example_tunnels loads them) */
    assert_int_equal(c->n_tunnels, 0);
    assert_false(c->global.manage_sysctls);

    /* role 2: RA on lan0 */
    assert_int_equal(c->n_interfaces, 1);
    i = conf_find_interface(c, "lan0");
    assert_non_null(i);
    assert_int_equal(i->line, line_of(text, "interface lan0 {"));
    /* the LAN prefix is the /64 the VPS proxies; DNS; the 6in4 MTU */
    assert_true(i->advertise);
    assert_int_equal(i->n_prefixes, 1);
    assert_false(i->prefixes[0].is_auto);
    assert_string_equal(pfx(&i->prefixes[0].prefix, b), "2001:db8:9:10::/64");
    assert_true(e6_prefix_equal(&i->prefixes[0].prefix, &p->rules[0].prefix));
    assert_int_equal(i->prefixes[0].line, line_of(text, "    prefix 2001:db8:9:10::/64 {"));
    assert_true(i->prefixes[0].on_link);
    assert_true(i->prefixes[0].autonomous);
    assert_int_equal(i->prefixes[0].valid_lifetime, 5400);
    assert_int_equal(i->prefixes[0].preferred_lifetime, 2700);
    assert_int_equal(i->n_rdnss, 1);
    assert_int_equal(i->rdnss[0].n_servers, 1);
    assert_false(i->rdnss[0].self);
    char a[E6_ADDRSTRLEN];
    assert_string_equal(e6_addr_format(&i->rdnss[0].servers[0], a, sizeof(a)), "2001:db8::53");
    assert_int_equal(i->rdnss[0].lifetime, 3 * 600);
    assert_int_equal(i->mtu_mode, CONF_MTU_VALUE);
    assert_int_equal(i->mtu, 1480);
    assert_int_equal(i->max_interval, 600);
    assert_int_equal(i->min_interval, 200);
    assert_int_equal(i->router_lifetime, 1800);
    assert_int_equal(i->n_routes + i->n_dnssl + i->n_pref64, 0);

    conf_free(c);
    free(text);
}

/*
 * The example's commented tunnel sections and proxy rule, uncommented as it
 * tells the reader to (every line from "#tunnel" to "#}", or from "    #rule"
 * to "    #}", loses its "#"), load and say what the story says.
 */
static void test_example_tunnels(void **state)
{
    char *text = read_file(CONF_EXAMPLE), *o;
    char b[E6_PREFIXSTRLEN], a[E6_ADDRSTRLEN], v4[INET_ADDRSTRLEN];
    const struct conf_tunnel *t;
    const struct conf_tunnel_client *cl;
    bool in = false, in_rule = false;
    struct conf *c;

    (void)state;
    o = text;
    for (char *line = text; *line;) {
        char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) + 1 : strlen(line);
        if (strncmp(line, "#tunnel ", 8) == 0)
            in = true;
        if (strncmp(line, "    #rule ", 10) == 0)
            in_rule = true;
        if (in && line[0] == '#') {
            in = strncmp(line, "#}", 2) != 0;
            memmove(o, line + 1, n - 1);
            o += n - 1;
        } else if (in_rule && strncmp(line, "    #", 5) == 0) {
            in_rule = strncmp(line, "    #}", 6) != 0;
            memmove(o, line, 4);
            memmove(o + 4, line + 5, n - 5);
            o += n - 1;
        } else {
            memmove(o, line, n);
            o += n;
        }
        line += n;
    }
    *o = '\0';
    assert_false(in);
    assert_false(in_rule);
    c = load_ok(text);
    assert_int_equal(c->n_tunnels, 4);

    t = conf_find_tunnel(c, "tun-home");
    assert_non_null(t);
    assert_int_equal(t->line, line_of(text, "tunnel tun-home {"));
    assert_int_equal(t->type, CONF_TUNNEL_6IN4);
    assert_int_equal(t->mode, CONF_TUN_SERVER);
    assert_string_equal(inet_ntop(AF_INET, &t->local, v4, sizeof(v4)), "192.0.2.1");
    assert_int_equal(t->ttl, 64);
    assert_int_equal(t->mtu, 1480);
    assert_int_equal(t->pmtu, CONF_PMTU_STATIC);
    assert_int_equal(t->kernel, CONF_TRI_AUTO);
    assert_int_equal(t->n_clients, 1);
    cl = &t->clients[0];
    assert_string_equal(cl->name, "home");
    assert_int_equal(cl->line, line_of(text, "    client home {"));
    assert_string_equal(inet_ntop(AF_INET, &cl->remote, v4, sizeof(v4)), "203.0.113.2");
    assert_string_equal(e6_addr_format(&cl->client_address, a, sizeof(a)), "2001:db8:9:1::2");
    assert_int_equal(cl->client_plen, 64);
    assert_string_equal(e6_addr_format(&cl->server_address, a, sizeof(a)), "2001:db8:9:1::1");
    assert_int_equal(cl->n_routed, 1);
    assert_string_equal(pfx(&cl->routed[0], b), "2001:db8:9:10::/64");
    assert_int_equal(cl->mtu, 0);

    t = conf_find_tunnel(c, "tun-vps");
    assert_non_null(t);
    assert_int_equal(t->mode, CONF_TUN_CLIENT);
    assert_string_equal(inet_ntop(AF_INET, &t->local, v4, sizeof(v4)), "203.0.113.2");
    assert_string_equal(inet_ntop(AF_INET, &t->remote, v4, sizeof(v4)), "192.0.2.1");
    assert_string_equal(e6_addr_format(&t->client_address, a, sizeof(a)), "2001:db8:9:1::2");
    assert_string_equal(e6_addr_format(&t->server_address, a, sizeof(a)), "2001:db8:9:1::1");
    assert_true(t->default_route);
    assert_int_equal(t->n_clients, 0);

    /* the 6bed4 router on the VPS, whose peers the proxy on eth0 answers for */
    t = conf_find_tunnel(c, "tun-6bed4");
    assert_non_null(t);
    assert_int_equal(t->line, line_of(text, "tunnel tun-6bed4 {"));
    assert_int_equal(t->type, CONF_TUNNEL_6BED4);
    assert_int_equal(t->mode, CONF_TUN_ROUTER);
    assert_string_equal(inet_ntop(AF_INET, &t->local, v4, sizeof(v4)), "192.0.2.1");
    assert_string_equal(pfx(&t->prefix, b), "2001:db8:9:11::/64");
    assert_int_equal(t->port, 25790);
    assert_int_equal(t->n_routes, 0);
    assert_int_equal(t->peers, 16384);
    assert_int_equal(t->peer_timeout, 120);
    assert_int_equal(t->ttl, 64);
    assert_int_equal(t->mtu, 1280);
    assert_int_equal(c->proxies[0].n_rules, 3);
    assert_int_equal(c->proxies[0].rules[2].method, CONF_PROXY_6BED4);
    assert_string_equal(c->proxies[0].rules[2].tunnel, "tun-6bed4");
    assert_true(e6_prefix_equal(&c->proxies[0].rules[2].prefix, &t->prefix));

    /* a 6bed4 peer of it */
    t = conf_find_tunnel(c, "tun-vps-6bed4");
    assert_non_null(t);
    assert_int_equal(t->type, CONF_TUNNEL_6BED4);
    assert_int_equal(t->mode, CONF_TUN_PEER);
    assert_string_equal(inet_ntop(AF_INET, &t->router, v4, sizeof(v4)), "192.0.2.1");
    assert_int_equal(t->port, 25790);
    assert_int_equal(t->local.s_addr, 0);
    assert_int_equal(t->local_port, 0);
    assert_int_equal(t->keepalive, 30);
    assert_int_equal(t->keepalive_ttl, 3);
    assert_true(t->default_route);
    assert_int_equal(t->mtu, 1280);

    /* the proxy rule can then name the tunnel */
    o = strstr(text, "        method = iface\n        iface = tun-home\n");
    assert_non_null(o);
    /* same length: the text is rewritten in place */
    assert_int_equal(strlen("        method = tunnel\n      tunnel = tun-home\n"),
                     strlen("        method = iface\n        iface = tun-home\n"));
    memcpy(o, "        method = tunnel\n      tunnel = tun-home\n",
           strlen("        method = iface\n        iface = tun-home\n"));
    conf_free(c);
    c = load_ok(text);
    assert_int_equal(c->proxies[0].rules[0].method, CONF_PROXY_TUNNEL);
    assert_string_equal(c->proxies[0].rules[0].tunnel, "tun-home");
    conf_free(c);
    free(text);
}

/*
 * The netns tests copy the example and replace whole `key = "value"` lines
 * with sed; that only works while each of those keys is one line like that.
 */
static void test_example_rewritable(void **state)
{
    static const char *const keys[] = {"user = \"", "control-socket = \"", "state-directory = \""};
    char *text = read_file(CONF_EXAMPLE), *out, *o;
    struct conf *c;

    (void)state;
    out = malloc(strlen(text) + 256);
    assert_non_null(out);
    o = out;
    for (char *line = text; *line;) {
        char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) + 1 : strlen(line);
        if (strncmp(line, keys[0], strlen(keys[0])) == 0)
            o += sprintf(o, "user = \"nobody\"\n");
        else if (strncmp(line, keys[1], strlen(keys[1])) == 0)
            o += sprintf(o, "control-socket = \"/tmp/e6test/ctl.sock\"\n");
        else if (strncmp(line, keys[2], strlen(keys[2])) == 0)
            o += sprintf(o, "state-directory = \"/tmp/e6test/state\"\n");
        else {
            memcpy(o, line, n);
            o += n;
        }
        line += n;
    }
    *o = '\0';
    for (size_t k = 0; k < 3; k++)
        assert_int_equal(line_of(text, keys[k]) != 0, 1);

    c = load_ok(out);
    assert_string_equal(c->global.user, "nobody");
    assert_string_equal(c->global.control_socket, "/tmp/e6test/ctl.sock");
    assert_string_equal(c->global.state_dir, "/tmp/e6test/state");
    conf_free(c);
    free(out);
    free(text);
}

static void check_defaults(const struct conf *c)
{
    assert_string_equal(c->global.user, "edge6");
    assert_string_equal(c->global.control_socket, E6_RUNDIR "/edge6d.sock");
    assert_string_equal(c->global.state_dir, E6_STATEDIR);
    assert_int_equal(c->global.log_level, E6_LOG_INFO);
    assert_int_equal(c->n_interfaces, 0);
    assert_int_equal(c->n_proxies, 0);
    assert_int_equal(c->n_tunnels, 0);
    assert_null(c->interfaces);
    assert_null(c->proxies);
    assert_null(c->tunnels);
}

static void test_defaults(void **state)
{
    struct conf *c;

    (void)state;
    c = load_ok("");
    check_defaults(c);
    assert_string_equal(c->path, "t.conf");
    conf_free(c);

    c = load_ok("# only a comment\n\n   \n// and another\n/* and\n a block */\n");
    check_defaults(c);
    conf_free(c);

    c = conf_load_string(NULL, NULL, NULL, NULL);
    assert_non_null(c);
    check_defaults(c);
    conf_free(c);
}

static void test_empty_file(void **state)
{
    char *path = write_temp("", 0);
    struct msgs ms = {0};
    struct conf *c = conf_load(path, collect, &ms);

    (void)state;
    assert_int_equal(ms.n, 0);
    assert_non_null(c);
    check_defaults(c);
    assert_string_equal(c->path, path);
    conf_free(c);
    unlink(path);
    free(path);
}

static void test_global_values(void **state)
{
    static const struct {
        const char *name;
        enum e6_log_level level;
    } levels[] = {
        {"err", E6_LOG_ERR},   {"warning", E6_LOG_WARNING}, {"notice", E6_LOG_NOTICE},
        {"info", E6_LOG_INFO}, {"debug", E6_LOG_DEBUG},
    };
    char text[256];
    struct conf *c;

    (void)state;
    for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
        snprintf(text, sizeof(text), "log-level = %s\n", levels[i].name);
        c = load_ok(text);
        assert_int_equal(c->global.log_level, levels[i].level);
        conf_free(c);
    }
    c = load_ok("user = _edge-6.d\ncontrol-socket = '/run/x.sock'\nstate-directory = \"/\"\n");
    assert_string_equal(c->global.user, "_edge-6.d");
    assert_string_equal(c->global.control_socket, "/run/x.sock");
    assert_string_equal(c->global.state_dir, "/");
    conf_free(c);
}

/* ---- sections ---- */

static void test_sections(void **state)
{
    struct conf *c;
    char b[E6_PREFIXSTRLEN];

    (void)state;
    c = load_ok(
        "interface eth0 {}\n"                           /* 1 */
        "interface\n"                                   /* 2 */
        "  \"br-lan.100\"\n"                            /* 3: title line */
        "{\n"                                           /* 4 */
        "}\n"                                           /* 5 */
        "proxy up0 {\n"                                 /* 6 */
        "  rule 2001:db8:1::/48 { method = exclude }\n" /* 7 */
        "  rule 2001:DB8:2:0::/64 { method = exclude\n" /* 8 */
        "  }\n"                                         /* 9 */
        "  rule ::/0 { method = exclude } rule 2001:db8::1/128 { method = exclude }\n" /* 10 */
        "}\n"                                                                          /* 11 */
        "proxy up1 { rule 2001:db8:1::/48 { method = exclude } }\n" /* 12: same rule, other proxy */
        "tunnel t6 {" T6 "} tunnel t4 { type = \"6in4\"" T4_REST " }\n" /* 13 */
        "interface t6 {}\n"); /* 14: RA into a tunnel is allowed */
    assert_int_equal(c->n_interfaces, 3);
    assert_string_equal(c->interfaces[0].name, "eth0");
    assert_int_equal(c->interfaces[0].line, 1);
    assert_string_equal(c->interfaces[1].name, "br-lan.100");
    assert_int_equal(c->interfaces[1].line, 3);
    assert_string_equal(c->interfaces[2].name, "t6");
    assert_int_equal(c->interfaces[2].line, 14);

    assert_int_equal(c->n_proxies, 2);
    assert_string_equal(c->proxies[0].name, "up0");
    assert_int_equal(c->proxies[0].line, 6);
    assert_int_equal(c->proxies[0].n_rules, 4);
    assert_string_equal(pfx(&c->proxies[0].rules[0].prefix, b), "2001:db8:1::/48");
    assert_int_equal(c->proxies[0].rules[0].line, 7);
    assert_string_equal(pfx(&c->proxies[0].rules[1].prefix, b), "2001:db8:2::/64");
    assert_int_equal(c->proxies[0].rules[1].line, 8);
    assert_string_equal(pfx(&c->proxies[0].rules[2].prefix, b), "::/0");
    assert_int_equal(c->proxies[0].rules[2].line, 10);
    assert_string_equal(pfx(&c->proxies[0].rules[3].prefix, b), "2001:db8::1/128");
    assert_int_equal(c->proxies[0].rules[3].line, 10);
    assert_string_equal(c->proxies[1].name, "up1");
    assert_int_equal(c->proxies[1].n_rules, 1);
    assert_int_equal(c->proxies[1].rules[0].line, 12);

    assert_int_equal(c->n_tunnels, 2);
    assert_string_equal(c->tunnels[0].name, "t6");
    assert_int_equal(c->tunnels[0].type, CONF_TUNNEL_6BED4);
    assert_int_equal(c->tunnels[0].line, 13);
    assert_string_equal(c->tunnels[1].name, "t4");
    assert_int_equal(c->tunnels[1].type, CONF_TUNNEL_6IN4);
    assert_int_equal(c->tunnels[1].line, 13);
    conf_free(c);
}

static void test_lookups(void **state)
{
    struct conf *c;

    (void)state;
    c = load_ok("interface a {}\ninterface b {}\nproxy p { rule ::/0 { method = exclude } "
                "}\ntunnel t {" T4 "}\n");
    assert_ptr_equal(conf_find_interface(c, "b"), &c->interfaces[1]);
    assert_null(conf_find_interface(c, "p"));
    assert_null(conf_find_interface(c, NULL));
    assert_ptr_equal(conf_find_proxy(c, "p"), &c->proxies[0]);
    assert_null(conf_find_proxy(c, "a"));
    assert_ptr_equal(conf_find_tunnel(c, "t"), &c->tunnels[0]);
    assert_null(conf_find_tunnel(c, "a"));
    assert_null(conf_find_tunnel(NULL, "t"));
    assert_string_equal(conf_tunnel_type_name(CONF_TUNNEL_6IN4), "6in4");
    assert_string_equal(conf_tunnel_type_name(CONF_TUNNEL_6BED4), "6bed4");
    assert_string_equal(conf_tunnel_type_name((enum conf_tunnel_type)42), "unknown");
    conf_free(c);
    conf_free(NULL);
}

/* ---- rejections, one kind at a time ---- */

#define TOP_WORDS                                                                                  \
    "user, control-socket, state-directory, log-level, manage-sysctls, interface, proxy or tunnel"
#define TUNNEL_WORDS                                                                               \
    "type, mode, local, ttl, mtu, mtu-discovery, kernel, remote, client-address, "                 \
    "server-address, default-route, port, prefix, routes, peers, peer-timeout, router, "           \
    "local-port, keepalive, keepalive-ttl or client"
#define IF_WORDS                                                                                   \
    "advertise, max-interval, min-interval, router-lifetime, router-preference, cur-hop-limit, "   \
    "managed, other-config, reachable-time, retrans-timer, mtu, source-lladdr, "                   \
    "solicited-unicast, withdraw-on-exit, captive-portal, prefix, route, rdnss, dnssl or pref64"

#define PROXY_WORDS                                                                                \
    "router, source, target-lladdr, sessions, valid-ttl, invalid-ttl, retrans-time, "              \
    "retrans-limit, probe-rate, answer-delay, kernel-offload, autowire or rule"

static void test_unknown_keyword(void **state)
{
    (void)state;
    expect("user = \"a\"\nfoo = 1\n", "t.conf:2: unknown keyword \"foo\" (expected " TOP_WORDS ")",
           NULL);
    expect("\n\nbar x {\n}\n", "t.conf:3: unknown keyword \"bar\" (expected " TOP_WORDS ")", NULL);
    expect("Log-Level = info\n", "t.conf:1: unknown keyword \"Log-Level\" (expected " TOP_WORDS ")",
           NULL);
    expect("interface eth0 {\n  link-mtu = 1480\n}\n",
           "t.conf:2: unknown keyword \"link-mtu\" in interface \"eth0\" (expected " IF_WORDS ")",
           NULL);
    expect("interface eth0 {\n  prefix auto {\n    lifetime = 5\n  }\n}\n",
           "t.conf:3: unknown keyword \"lifetime\" in prefix \"auto\" (expected on-link, "
           "autonomous, valid-lifetime, preferred-lifetime or decrement)",
           NULL);
    expect("interface eth0 {\n  rdnss {\n    domains = { \"example.com\" }\n  }\n}\n",
           "t.conf:3: unknown keyword \"domains\" in rdnss (expected servers or lifetime)", NULL);
    expect("tunnel t0 {\n  type = 6in4\n  peer = 192.0.2.1\n}\n",
           "t.conf:3: unknown keyword \"peer\" in tunnel \"t0\" (expected " TUNNEL_WORDS ")", NULL);
    expect("tunnel t0 {\n  type = 6in4\n  client c {\n    local = 192.0.2.1\n  }\n}\n",
           "t.conf:4: unknown keyword \"local\" in client \"c\" (expected remote, client-address, "
           "server-address, routed-prefixes or mtu)",
           NULL);
    expect("proxy eth0 {\n  rule 2001:db8::/64 {\n    static = yes\n  }\n}\n",
           "t.conf:3: unknown keyword \"static\" in rule \"2001:db8::/64\" (expected method, "
           "iface, tunnel or allow-wide)",
           NULL);
    expect("proxy eth0 {\n  type = 6in4\n}\n",
           "t.conf:2: unknown keyword \"type\" in proxy \"eth0\" (expected " PROXY_WORDS ")", NULL);
    /* a section keyword at the wrong level */
    expect("rule 2001:db8::/64 { method = exclude }\n",
           "t.conf:1: unknown keyword \"rule\" (expected " TOP_WORDS ")", NULL);
    /* a value with a second word: libconfuse takes the word for the next keyword */
    expect("user = \"a\" \"b\"\n", "t.conf:1: unknown keyword \"b\" (expected " TOP_WORDS ")",
           NULL);
}

/* libconfuse takes a keyword with '|' or '=' for a path into another section. */
static void test_keyword_path(void **state)
{
    (void)state;
    expect("tunnel t0 {" T6 "}\n\"tunnel=t0|type\" = 6bed4\n",
           "t.conf:2: \"type\" can only be written inside its own section (a keyword may not "
           "contain \"|\" or \"=\")",
           NULL);
    expect("proxy eth0 { rule ::/0 { method = exclude } }\n\n\"proxy|rule\" 2001:db8::/64 {\n}\n",
           "t.conf:3: \"rule\" can only be written inside its own section (a keyword may not "
           "contain \"|\" or \"=\")",
           NULL);
    expect("\"proxy|rule\" 2001:db8::/64 {}\n",
           "t.conf:1: a keyword may not contain \"|\" or \"=\"", NULL);
    expect("proxy eth0 { rule ::/0 { method = exclude } }\n\"proxy=lan0|rule\" 2001:db8::/64 {}\n",
           "t.conf:2: a keyword may not contain \"|\" or \"=\"", NULL);
}

static void test_wrong_type(void **state)
{
    (void)state;
    expect("user {\n}\n", "t.conf:1: \"user\" takes a value: expected user = VALUE", NULL);
    expect("\nlog-level info\n",
           "t.conf:2: \"log-level\" takes a value: expected log-level = VALUE", NULL);
    expect("interface = \"eth0\"\n",
           "t.conf:1: \"interface\" is a section: expected interface NAME { ... }", NULL);
    expect("proxy eth0 {\n  rule = 2001:db8::/64\n}\n",
           "t.conf:2: \"rule\" is a section: expected rule PREFIX { ... }", NULL);
    expect("user = { \"a\" }\n", "t.conf:1: unexpected \"{\"", NULL);
    expect("user = \"a\", \"b\"\n", "t.conf:1: unexpected \",\"", NULL);
    expect("user += \"a\"\n",
           "t.conf:1: \"user\" takes one value: write user = VALUE, not +=", NULL);
    expect("interface eth0 = x\n", "t.conf:1: expected \"{\" after interface NAME", NULL);
    expect("tunnel t0 {\n  type {\n  }\n}\n",
           "t.conf:2: \"type\" takes a value: expected type = VALUE", NULL);
}

static void test_bad_enum(void **state)
{
    (void)state;
    expect("\n\n\n\n\n\n\n\n\n\n\nlog-level = \"verbose\"\n",
           "t.conf:12: log-level \"verbose\" is not one of err, warning, notice, info, debug",
           NULL);
    expect("log-level = INFO\n",
           "t.conf:1: log-level \"INFO\" is not one of err, warning, notice, info, debug", NULL);
    expect("log-level = \"\"\n",
           "t.conf:1: log-level \"\" is not one of err, warning, notice, info, debug", NULL);
    expect("tunnel t0 {\n  type = gre\n}\n", "t.conf:2: type \"gre\" is not one of 6in4, 6bed4",
           NULL);
}

static void test_bad_prefix(void **state)
{
    (void)state;
    expect("proxy eth0 {\n  rule 2001:db8::zz/64 { method = exclude }\n}\n",
           "t.conf:2: rule \"2001:db8::zz/64\": '2001:db8::zz' is not an IPv6 address", NULL);
    expect("proxy eth0 {\n  rule 2001:db8:: { method = exclude }\n}\n",
           "t.conf:2: rule \"2001:db8::\": '2001:db8::' has no prefix length (write ADDR/LEN, "
           "e.g. 2001:db8::/64)",
           NULL);
    expect("proxy eth0 {\n  rule 192.0.2.0/24 { method = exclude }\n}\n",
           "t.conf:2: rule \"192.0.2.0/24\": '192.0.2.0' is not an IPv6 address", NULL);
    expect("proxy eth0 {\n  rule \"fe80::1%eth0/64\" { method = exclude }\n}\n",
           "t.conf:2: rule \"fe80::1%eth0/64\": 'fe80::1%eth0' is not an IPv6 address", NULL);
    expect("proxy eth0 {\n  rule 2001:db8::/x { method = exclude }\n}\n",
           "t.conf:2: rule \"2001:db8::/x\": prefix length 'x' is not a decimal number 0..128",
           NULL);
}

static void test_host_bits(void **state)
{
    (void)state;
    expect("proxy eth0 {\n\n  rule 2001:db8:9:10::1/64 { method = exclude }\n}\n",
           "t.conf:3: rule \"2001:db8:9:10::1/64\": host bits set beyond /64; did you mean "
           "2001:db8:9:10::/64?",
           NULL);
    expect("proxy eth0 {\n  rule 2001:db8::4000/113 { method = exclude }\n}\n",
           "t.conf:2: rule \"2001:db8::4000/113\": host bits set beyond /113; did you mean "
           "2001:db8::/113?",
           NULL);
    conf_free(load_ok("proxy eth0 {\n  rule 2001:db8::8000/113 { method = exclude }\n}\n"));
}

static void test_prefix_length(void **state)
{
    (void)state;
    expect("proxy eth0 {\n  rule 2001:db8::/129 { method = exclude }\n}\n",
           "t.conf:2: rule \"2001:db8::/129\": prefix length 129 is out of range 0..128", NULL);
    expect("proxy eth0 {\n  rule 2001:db8::/1000 { method = exclude }\n}\n",
           "t.conf:2: rule \"2001:db8::/1000\": prefix length '1000' is out of range 0..128", NULL);
}

static void test_missing_required(void **state)
{
    (void)state;
    expect("tunnel t0 {\n}\n",
           "t.conf:1: tunnel \"t0\" has no type (expected type = 6in4 or 6bed4)", NULL);
    expect("\ntunnel t0 { }\ntunnel t1 {\n  type = 6bed4\n}\n",
           "t.conf:2: tunnel \"t0\" has no type (expected type = 6in4 or 6bed4)",
           "t.conf:3: tunnel \"t1\" has no mode (a 6bed4 tunnel needs it: expected mode = router "
           "or peer)",
           NULL);
}

static void test_duplicate_section(void **state)
{
    (void)state;
    expect("interface eth0 {}\ninterface lan0 {}\n\ninterface eth0 {\n}\ninterface eth0 {}\n",
           "t.conf:4: duplicate interface \"eth0\" (first at line 1)",
           "t.conf:6: duplicate interface \"eth0\" (first at line 1)", NULL);
    /* the second proxy replaces the first inside libconfuse; both are still seen */
    expect("proxy eth0 {\n  rule 2001:db8:1::/64 { method = exclude }\n}\nproxy eth0 {\n  rule "
           "2001:db8:2::/64 "
           "{ method = exclude }\n}\n",
           "t.conf:4: duplicate proxy \"eth0\" (first at line 1)", NULL);
    expect("tunnel t0 {" T4 "}\ntunnel t0 {" T6P "}\n",
           "t.conf:2: duplicate tunnel \"t0\" (first at line 1)", NULL);
    /* a refused name is not also reported as a duplicate */
    expect("interface \"a/b\" {}\ninterface \"a/b\" {}\n",
           "t.conf:1: interface name \"a/b\" is not a valid interface name (1 to 15 characters, "
           "none of \"/\", \":\", \"%\", spaces or control characters, not \".\" or \"..\")",
           "t.conf:2: interface name \"a/b\" is not a valid interface name (1 to 15 characters, "
           "none of \"/\", \":\", \"%\", spaces or control characters, not \".\" or \"..\")",
           NULL);
}

static void test_duplicate_rule(void **state)
{
    (void)state;
    expect("proxy eth0 {\n  rule 2001:db8::/64 { method = exclude }\n  rule 2001:db8:1::/64 { "
           "method = exclude }\n"
           "  rule 2001:db8::/64 { method = exclude }\n}\n",
           "t.conf:4: duplicate rule 2001:db8::/64 in proxy \"eth0\" (first at line 2)", NULL);
    /* the same prefix written another way */
    expect("proxy eth0 {\n  rule 2001:db8:0:0::/64 { method = exclude }\n  rule \"2001:DB8::/64\" "
           "{ method = exclude }\n}\n",
           "t.conf:3: duplicate rule 2001:db8::/64 in proxy \"eth0\" (first at line 2)", NULL);
}

static void test_duplicate_key(void **state)
{
    (void)state;
    expect("user = \"a\"\nlog-level = debug\nuser = \"b\"\n",
           "t.conf:3: user is set twice (first at line 1)", NULL);
    expect("tunnel t0 {\n  type = 6bed4\n  type = 6bed4\n  mode = peer router = 198.51.100.6\n}\n",
           "t.conf:3: type is set twice (first at line 2)", NULL);
}

#define IFNAME_RULE                                                                                \
    " is not a valid interface name (1 to 15 characters, none of \"/\", \":\", \"%\", spaces or "  \
    "control characters, not \".\" or \"..\")"

static void test_bad_ifname(void **state)
{
    struct conf *c;

    (void)state;
    expect("interface eth0/1 {}\n", "t.conf:1: interface name \"eth0/1\"" IFNAME_RULE, NULL);
    expect("interface abcdefghijklmnop {}\n",
           "t.conf:1: interface name \"abcdefghijklmnop\"" IFNAME_RULE, NULL);
    expect("interface \"\" {}\n", "t.conf:1: interface name \"\"" IFNAME_RULE, NULL);
    expect("interface . {}\n", "t.conf:1: interface name \".\"" IFNAME_RULE, NULL);
    expect("interface .. {}\n", "t.conf:1: interface name \"..\"" IFNAME_RULE, NULL);
    expect("interface \"eth 0\" {}\n", "t.conf:1: interface name \"eth 0\"" IFNAME_RULE, NULL);
    expect("interface \"eth\\t0\" {}\n", "t.conf:1: interface name \"eth\\x090\"" IFNAME_RULE,
           NULL);
    expect("interface eth0:1 {}\n", "t.conf:1: interface name \"eth0:1\"" IFNAME_RULE, NULL);
    expect("tunnel tun%d {" T6P "}\n", "t.conf:1: tunnel name \"tun%d\"" IFNAME_RULE, NULL);
    expect("proxy \"a\\nb\" { rule ::/0 { method = exclude } }\n",
           "t.conf:1: proxy name \"a\\x0ab\"" IFNAME_RULE, NULL);

    c = load_ok("interface abcdefghijklmno {}\ninterface a {}\ninterface eth0.100 {}\n"
                "interface wg_0 {}\ninterface 6in4-x {}\ninterface \"\xc3\xa9th0\" {}\n");
    assert_int_equal(c->n_interfaces, 6);
    conf_free(c);
}

static void test_bad_path(void **state)
{
    char text[512], want[512], longpath[200];

    (void)state;
    expect("control-socket = \"run/edge6.sock\"\n",
           "t.conf:1: control-socket \"run/edge6.sock\" is not an absolute path (it must start "
           "with \"/\")",
           NULL);
    expect("state-directory = \"var/lib/edge6\"\n",
           "t.conf:1: state-directory \"var/lib/edge6\" is not an absolute path (it must start "
           "with \"/\")",
           NULL);
    expect("state-directory = \"\"\n",
           "t.conf:1: state-directory \"\" is not an absolute path (it must start with \"/\")",
           NULL);
    expect("control-socket = \"/run/edge6/\"\n",
           "t.conf:1: control-socket \"/run/edge6/\" ends with \"/\"; expected the path of a file",
           NULL);
    expect("state-directory = \"/var/lib/\\nedge6\"\n",
           "t.conf:1: state-directory \"/var/lib/\\x0aedge6\" contains a control character", NULL);

    /* a socket path fits sun_path: 107 bytes and its NUL */
    memset(longpath, 'a', sizeof(longpath));
    longpath[0] = '/';
    longpath[107] = '\0';
    snprintf(text, sizeof(text), "control-socket = \"%s\"\n", longpath);
    conf_free(load_ok(text));
    longpath[107] = 'a';
    longpath[108] = '\0';
    snprintf(text, sizeof(text), "control-socket = \"%s\"\n", longpath);
    snprintf(want, sizeof(want),
             "t.conf:1: control-socket \"%.64s...\" is 108 bytes long; at most 107 fit", longpath);
    expect(text, want, NULL);
}

#define USER_RULE                                                                                  \
    " is not a valid user name (1 to 32 letters, digits, \"_\", \".\" or \"-\", starting with a "  \
    "letter or \"_\")"

static void test_bad_user(void **state)
{
    (void)state;
    expect("user = \"\"\n", "t.conf:1: user \"\"" USER_RULE, NULL);
    expect("user = \"9lives\"\n", "t.conf:1: user \"9lives\"" USER_RULE, NULL);
    expect("user = \"-x\"\n", "t.conf:1: user \"-x\"" USER_RULE, NULL);
    expect("user = \"ed ge\"\n", "t.conf:1: user \"ed ge\"" USER_RULE, NULL);
    expect("user = \"root:x\"\n", "t.conf:1: user \"root:x\"" USER_RULE, NULL);
    expect("user = \"abcdefghijabcdefghijabcdefghijabc\"\n",
           "t.conf:1: user \"abcdefghijabcdefghijabcdefghijabc\"" USER_RULE, NULL);
    conf_free(load_ok("user = \"abcdefghijabcdefghijabcdefghijab\"\n"));
}

static void test_tunnel_and_proxy(void **state)
{
    struct conf *c;

    (void)state;
    expect("tunnel tun0 {\n" T6P "\n}\n\nproxy tun0 {\n  rule ::/0 { method = exclude }\n}\n",
           "t.conf:5: proxy \"tun0\" is on the tunnel defined at line 1; a tunnel has no neighbor "
           "discovery to proxy (put the proxy on the upstream interface)",
           NULL);
    c = load_ok("tunnel tun0 {" T4 "}\ninterface tun0 {}\nproxy eth0 { rule ::/0 { method = "
                "exclude } }\n"
                "interface eth0 {}\n");
    conf_free(c);
}

/* ---- syntax errors and files ---- */

static void test_syntax(void **state)
{
    (void)state;
    /* missing '}': libconfuse alone would take the end of the file for it */
    expect("proxy eth0 {\n  rule 2001:db8::/64 {\n  method = exclude }\n\n",
           "t.conf:1: \"{\" is never closed (missing \"}\" before the end of the file)", NULL);
    expect("interface lan0 {\n}\ntunnel t {\n  type = 6bed4 mode = peer router = 198.51.100.6\n",
           "t.conf:3: \"{\" is never closed (missing \"}\" before the end of the file)", NULL);
    /* the sections the end of the file closes still have the line of their title */
    expect("log-level = loud\nproxy eth0 {\n  rule 2001:db8::1/64 { method = static\n",
           "t.conf:1: log-level \"loud\" is not one of err, warning, notice, info, debug",
           "t.conf:3: \"{\" is never closed (missing \"}\" before the end of the file)",
           "t.conf:3: rule \"2001:db8::1/64\": host bits set beyond /64; did you mean "
           "2001:db8::/64?",
           NULL);
    expect("interface lan0 {\nproxy eth0 {\n}\n",
           "t.conf:1: \"{\" is never closed (missing \"}\" before the end of the file)",
           "t.conf:2: unknown keyword \"proxy\" in interface \"lan0\" (expected " IF_WORDS
           "); is a \"}\" missing above?",
           NULL);
    expect("user = \"a\"\n}\n", "t.conf:2: unexpected \"}\" (no section is open)", NULL);
    expect("user =\n", "t.conf:2: unexpected end of file (a setting is incomplete)", NULL);
    expect("=\n", "t.conf:1: unexpected \"=\"", NULL);
    /* unterminated strings are reported where they open */
    expect("user = \"abc\n\n\nlog-level = info\n",
           "t.conf:1: string is never closed (missing '\"')", NULL);
    expect("\nuser = 'abc\n\n", "t.conf:2: string is never closed (missing \"'\")", NULL);
    expect("user = \"a\"\n/* a comment\nlog-level = debug\n",
           "t.conf:2: comment \"/*\" is never closed (missing \"*/\")", NULL);
    expect("user = \"a\\9\"\n", "t.conf:1: bad escape sequence '\\9'", NULL);
    expect("user = \"${HOME\n}\"\n", "t.conf:1: \"${\" is not closed by \"}\" on the same line",
           NULL);
}

static void test_file_errors(void **state)
{
    struct msgs ms = {0};
    struct conf *c;
    char *path, *big;

    (void)state;
    c = conf_load("/nonexistent/edge6d.conf", collect, &ms);
    assert_null(c);
    assert_int_equal(ms.n, 1);
    assert_string_equal(ms.m[0],
                        "/nonexistent/edge6d.conf: cannot open: No such file or directory");
    msgs_free(&ms);

    c = conf_load("/", collect, &ms);
    assert_null(c);
    assert_int_equal(ms.n, 1);
    assert_string_equal(ms.m[0], "/: cannot read: Is a directory");
    msgs_free(&ms);

    /* a NUL would make libconfuse ignore the rest of the file */
    static const char nul[] = "user = \"a\"\n\nlog-level\0 = debug\n";
    path = write_temp(nul, sizeof(nul) - 1);
    c = conf_load(path, collect, &ms);
    assert_null(c);
    assert_int_equal(ms.n, 1);
    assert_true(strstr(ms.m[0], ":3: NUL byte in the file (is it a text file?)") != NULL);
    msgs_free(&ms);
    unlink(path);
    free(path);

    big = malloc(CONF_MAX_FILE_SIZE + 1);
    assert_non_null(big);
    memset(big, '\n', CONF_MAX_FILE_SIZE + 1);
    path = write_temp(big, CONF_MAX_FILE_SIZE + 1);
    c = conf_load(path, collect, &ms);
    assert_null(c);
    assert_int_equal(ms.n, 1);
    assert_true(strstr(ms.m[0], ": larger than 1048576 bytes; is it the right file?") != NULL);
    msgs_free(&ms);
    unlink(path);
    free(path);

    /* exactly the limit is fine */
    path = write_temp(big, CONF_MAX_FILE_SIZE);
    c = conf_load(path, collect, &ms);
    assert_int_equal(ms.n, 0);
    assert_non_null(c);
    conf_free(c);
    unlink(path);
    free(path);
    free(big);
}

/* Every error a file holds is reported, in line order, in one pass. */
static void test_several_errors(void **state)
{
    (void)state;
    expect("user = \"9\"\n"                                /* 1 */
           "control-socket = \"x\"\n"                      /* 2 */
           "log-level = loud\n"                            /* 3 */
           "interface eth0 {}\n"                           /* 4 */
           "interface eth0 {}\n"                           /* 5 */
           "proxy up {\n"                                  /* 6 */
           "  rule 2001:db8::1/64 { method = exclude }\n"  /* 7 */
           "  rule 2001:db8:1::/64 { method = exclude }\n" /* 8 */
           "  rule 2001:db8:1::/64 { method = exclude }\n" /* 9 */
           "}\n"                                           /* 10 */
           "tunnel \"t/0\" {\n"                            /* 11 */
           "}\n"                                           /* 12 */
           "tunnel up { type = ipip }\n"                   /* 13 */
           "proxy up {}\n",                                /* 14 */
           "t.conf:1: user \"9\"" USER_RULE,
           "t.conf:2: control-socket \"x\" is not an absolute path (it must start with \"/\")",
           "t.conf:3: log-level \"loud\" is not one of err, warning, notice, info, debug",
           "t.conf:5: duplicate interface \"eth0\" (first at line 4)",
           "t.conf:6: proxy \"up\" is on the tunnel defined at line 13; a tunnel has no "
           "neighbor discovery to proxy (put the proxy on the upstream interface)",
           "t.conf:7: rule \"2001:db8::1/64\": host bits set beyond /64; did you mean "
           "2001:db8::/64?",
           "t.conf:9: duplicate rule 2001:db8:1::/64 in proxy \"up\" (first at line 8)",
           "t.conf:11: tunnel name \"t/0\"" IFNAME_RULE,
           "t.conf:11: tunnel \"t/0\" has no type (expected type = 6in4 or 6bed4)",
           "t.conf:13: type \"ipip\" is not one of 6in4, 6bed4",
           "t.conf:14: proxy \"up\" has no rule, so it would answer nothing (expected at least "
           "one rule PREFIX { method = ... })",
           "t.conf:14: duplicate proxy \"up\" (first at line 6)",
           "t.conf:14: proxy \"up\" is on the tunnel defined at line 13; a tunnel has no "
           "neighbor discovery to proxy (put the proxy on the upstream interface)",
           NULL);
}

/* Errors found before a syntax error are kept; the syntax error ends the parse. */
static void test_errors_then_syntax(void **state)
{
    (void)state;
    expect("log-level = loud\n"
           "tunnel t0 { type = gre }\n"
           "interface lan0 {\n"
           "  max-interval = 2\n"
           "  bogus 2001:db8::/64 { }\n"
           "}\n"
           "user = \"9\"\n",
           "t.conf:1: log-level \"loud\" is not one of err, warning, notice, info, debug",
           "t.conf:2: type \"gre\" is not one of 6in4, 6bed4",
           "t.conf:4: max-interval 2 is below 4 (RFC 4861 6.2.1, RFC 8319)",
           "t.conf:5: unknown keyword \"bogus\" in interface \"lan0\" (expected " IF_WORDS ")",
           NULL);
}

static void test_too_many_errors(void **state)
{
    struct msgs ms = {0};
    char *text = malloc(100 * 32);
    size_t o = 0;
    struct conf *c;

    (void)state;
    assert_non_null(text);
    for (int i = 0; i < 100; i++)
        o += (size_t)sprintf(text + o, "interface \"bad/%d\" {}\n", i);
    c = conf_load_string(text, "t.conf", collect, &ms);
    assert_null(c);
    assert_int_equal(ms.n, CONF_MAX_ERRORS + 1);
    assert_true(strncmp(ms.m[0], "t.conf:1: interface name \"bad/0\"", 32) == 0);
    /* where the check stopped: the 51st bad name */
    assert_string_equal(ms.m[CONF_MAX_ERRORS], "t.conf:51: too many errors, stopped after 50");
    msgs_free(&ms);
    free(text);
}

static void test_limits(void **state)
{
    size_t n = (CONF_MAX_SECTIONS + 1) * 24, o = 0;
    char *text = malloc(n);
    char want[128];

    (void)state;
    assert_non_null(text);
    for (int i = 0; i <= CONF_MAX_SECTIONS; i++)
        o += (size_t)sprintf(text + o, "interface i%d {}\n", i);
    snprintf(want, sizeof(want), "t.conf:%d: more than %d sections", CONF_MAX_SECTIONS + 1,
             CONF_MAX_SECTIONS);
    expect(text, want, NULL);

    o = 0;
    for (int i = 0; i <= CONF_MAX_DEPTH; i++)
        o += (size_t)sprintf(text + o, "a {\n");
    snprintf(want, sizeof(want), "t.conf:%d: braces nested deeper than %d levels",
             CONF_MAX_DEPTH + 1, CONF_MAX_DEPTH);
    expect(text, want, NULL);
    free(text);
}

/* A refused file must leave libconfuse's scanner ready for the next one. */
static void test_reload_after_error(void **state)
{
    struct conf *c;

    (void)state;
    expect("user = \"a\\9\" log-level = debug\n", "t.conf:1: bad escape sequence '\\9'", NULL);
    c = load_ok("user = \"fine\"\n");
    assert_string_equal(c->global.user, "fine");
    conf_free(c);
    expect("interface a {\n",
           "t.conf:1: \"{\" is never closed (missing \"}\" before the end of "
           "the file)",
           NULL);
    c = load_ok("log-level = debug\n");
    assert_int_equal(c->global.log_level, E6_LOG_DEBUG);
    conf_free(c);
}

static void test_null_report(void **state)
{
    (void)state;
    assert_null(conf_load_string("user = \"\"\n", "t.conf", NULL, NULL));
    assert_null(conf_load("/nonexistent", NULL, NULL));
}

/*
 * libconfuse 3.3 counts three lines for a '#' or '//' comment line and one
 * extra for each block comment; the scanner blanks comments so every line
 * below is still right.
 */
static void test_lines_after_comments(void **state)
{
    (void)state;
    expect("# comment\n"                                            /* 1 */
           "## more\n"                                              /* 2 */
           "user = \"a#b\" # '#' inside quotes\n"                   /* 3: a value, then a comment */
           "// slashes\n"                                           /* 4 */
           "/* a block\n"                                           /* 5 */
           "   on two lines */\n"                                   /* 6 */
           "state-directory = /var//lib # unquoted // is a path\n"  /* 7 */
           "control-socket = \"/run/*/x\" /* c */ log-level = no\n" /* 8 */
           "#no space\n"                                            /* 9 */
           "tunnel t0 { # c\n"                                      /* 10 */
           "  type = '6bed4' mode = peer router = 198.51.100.6 // c\n" /* 11 */
           "} /* c\n"                                                  /* 12 */
           "*/ interface \"x y\" {}\n",                                /* 13 */
           "t.conf:3: user \"a#b\"" USER_RULE,
           "t.conf:8: log-level \"no\" is not one of err, warning, notice, info, debug",
           "t.conf:13: interface name \"x y\"" IFNAME_RULE, NULL);

    /* CRLF line ends and a string continued over lines */
    expect("user = \"a\"\r\n\r\nlog-level = \"de\\\nbug\"\r\nlog-level = x\r\n",
           "t.conf:5: log-level is set twice (first at line 4)", NULL);
}

/* ---- interface NAME { ... }: Router Advertisements ---- */

/* Load "interface lan0 { BODY }" (lines 1..n of body become lines 2..n+1). */
static struct conf *load_if(const char *body)
{
    char *text = malloc(strlen(body) + 64);
    struct conf *c;

    assert_non_null(text);
    sprintf(text, "interface lan0 {\n%s}\n", body);
    c = load_ok(text);
    free(text);
    assert_int_equal(c->n_interfaces, 1);
    return c;
}

/* "interface lan0 {\nBODY}\n" must be refused with exactly the one message want. */
static void expect_if(const char *body, const char *want)
{
    char *text = malloc(strlen(body) + 64);

    assert_non_null(text);
    sprintf(text, "interface lan0 {\n%s}\n", body);
    expect(text, want, NULL);
    free(text);
}

static void test_interface_defaults(void **state)
{
    struct conf *c;
    const struct conf_interface *i;

    (void)state;
    c = load_if("");
    i = &c->interfaces[0];
    assert_string_equal(i->name, "lan0");
    assert_int_equal(i->line, 1);
    assert_true(i->advertise);
    assert_int_equal(i->max_interval, 600);
    assert_int_equal(i->min_interval, 200);
    assert_int_equal(i->router_lifetime, 1800);
    assert_int_equal(i->router_preference, CONF_PREF_MEDIUM);
    assert_int_equal(i->cur_hop_limit, 64);
    assert_false(i->managed);
    assert_false(i->other_config);
    assert_int_equal(i->reachable_time, 0);
    assert_int_equal(i->retrans_timer, 0);
    assert_int_equal(i->mtu_mode, CONF_MTU_AUTO);
    assert_int_equal(i->mtu, 0);
    assert_int_equal(i->source_lladdr, CONF_TRI_AUTO);
    assert_true(i->solicited_unicast);
    assert_false(i->withdraw_on_exit);
    assert_null(i->captive_portal);
    assert_int_equal(i->n_prefixes + i->n_routes + i->n_rdnss + i->n_dnssl + i->n_pref64, 0);
    assert_null(i->prefixes);
    assert_null(i->routes);
    assert_null(i->rdnss);
    assert_null(i->dnssl);
    assert_null(i->pref64);
    conf_free(c);
}

static void test_interface_values(void **state)
{
    struct conf *c;
    const struct conf_interface *i;

    (void)state;
    c = load_if("  advertise = no\n"
                "  max-interval = 30\n"
                "  min-interval = 22\n"
                "  router-lifetime = 0\n"
                "  router-preference = high\n"
                "  cur-hop-limit = 0\n"
                "  managed = yes\n"
                "  other-config = on\n"
                "  reachable-time = 3600000\n"
                "  retrans-timer = 4294967295\n"
                "  mtu = 1480\n"
                "  source-lladdr = no\n"
                "  solicited-unicast = false\n"
                "  withdraw-on-exit = true\n"
                "  captive-portal = \"https://portal.example.com/api\"\n");
    i = &c->interfaces[0];
    assert_false(i->advertise);
    assert_int_equal(i->max_interval, 30);
    assert_int_equal(i->min_interval, 22);
    assert_int_equal(i->router_lifetime, 0);
    assert_int_equal(i->router_preference, CONF_PREF_HIGH);
    assert_int_equal(i->cur_hop_limit, 0);
    assert_true(i->managed);
    assert_true(i->other_config);
    assert_int_equal(i->reachable_time, 3600000);
    assert_int_equal(i->retrans_timer, 4294967295u);
    assert_int_equal(i->mtu_mode, CONF_MTU_VALUE);
    assert_int_equal(i->mtu, 1480);
    assert_int_equal(i->source_lladdr, CONF_TRI_OFF);
    assert_false(i->solicited_unicast);
    assert_true(i->withdraw_on_exit);
    assert_string_equal(i->captive_portal, "https://portal.example.com/api");
    conf_free(c);

    c = load_if("mtu = off\nsource-lladdr = yes\nrouter-preference = low\n");
    assert_int_equal(c->interfaces[0].mtu_mode, CONF_MTU_OFF);
    assert_int_equal(c->interfaces[0].source_lladdr, CONF_TRI_ON);
    assert_int_equal(c->interfaces[0].router_preference, CONF_PREF_LOW);
    conf_free(c);
    c = load_if("mtu = auto\nsource-lladdr = auto\nrouter-preference = medium\n");
    assert_int_equal(c->interfaces[0].mtu_mode, CONF_MTU_AUTO);
    assert_int_equal(c->interfaces[0].source_lladdr, CONF_TRI_AUTO);
    assert_int_equal(c->interfaces[0].router_preference, CONF_PREF_MEDIUM);
    conf_free(c);
}

/* Defaults computed from max-interval, wherever in the section it is written. */
static void test_interface_derived(void **state)
{
    static const struct {
        unsigned max, min, lifetime;
    } cases[] = {
        {4, 3, 12},
        {5, 3, 15},
        {6, 4, 18},
        {8, 6, 24},
        {9, 3, 27},
        {10, 3, 30},
        {600, 200, 1800},
        {3000, 1000, 9000},
        {3001, 1000, 9000},
        {20000, 6666, 20000},
        {65535, 21845, 65535},
    };
    char body[256];
    struct conf *c;

    (void)state;
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        snprintf(body, sizeof(body),
                 "  route 2001:db8:1::/48 { }\n  rdnss { servers = \"2001:db8::53\" }\n"
                 "  dnssl { domains = \"example.com\" }\n  max-interval = %u\n",
                 cases[k].max);
        c = load_if(body);
        const struct conf_interface *i = &c->interfaces[0];
        assert_int_equal(i->max_interval, cases[k].max);
        assert_int_equal(i->min_interval, cases[k].min);
        assert_int_equal(i->router_lifetime, cases[k].lifetime);
        /* RFC 4861 6.2.1: the computed values always pass the checks */
        assert_true(4 * i->min_interval <= 3 * i->max_interval && i->min_interval >= 3);
        assert_true(i->router_lifetime >= i->max_interval);
        assert_int_equal(i->routes[0].lifetime, 3 * cases[k].max);
        assert_int_equal(i->rdnss[0].lifetime, 3 * cases[k].max);
        assert_int_equal(i->dnssl[0].lifetime, 3 * cases[k].max);
        conf_free(c);
    }
    /* pref64: 3 x max-interval, at most 65528 */
    c = load_if("pref64 64:ff9b::/96 {}\nmax-interval = 21842\n");
    assert_int_equal(c->interfaces[0].pref64[0].lifetime, 65526);
    conf_free(c);
    c = load_if("pref64 64:ff9b::/96 {}\nmax-interval = 21843\n");
    assert_int_equal(c->interfaces[0].pref64[0].lifetime, 65528);
    conf_free(c);
    /* a written value is kept as written */
    c = load_if("max-interval = 100\nmin-interval = 75\nrouter-lifetime = 100\n");
    assert_int_equal(c->interfaces[0].min_interval, 75);
    assert_int_equal(c->interfaces[0].router_lifetime, 100);
    conf_free(c);
}

static void test_interface_bounds(void **state)
{
    struct conf *c;

    (void)state;
    expect_if("max-interval = 3\n",
              "t.conf:2: max-interval 3 is below 4 (RFC 4861 6.2.1, RFC 8319)");
    expect_if("\n\n\n\n\n\n\n\n\n\nmax-interval = 2\n",
              "t.conf:12: max-interval 2 is below 4 (RFC 4861 6.2.1, RFC 8319)");
    expect_if("max-interval = 65536\n",
              "t.conf:2: max-interval 65536 is above 65535 (RFC 4861 6.2.1, RFC 8319)");
    expect_if("max-interval = 10m\n",
              "t.conf:2: max-interval \"10m\" is not a number (expected 4 to 65535)");
    conf_free(load_if("max-interval = 4\n"));
    conf_free(load_if("max-interval = 65535\n"));

    expect_if("min-interval = 2\n", "t.conf:2: min-interval 2 is below 3 (RFC 4861 6.2.1)");
    expect_if("max-interval = 65535\nmin-interval = 49152\n",
              "t.conf:3: min-interval 49152 is above 49151 (RFC 4861 6.2.1)");
    conf_free(load_if("max-interval = 65535\nmin-interval = 49151\n"));
    conf_free(load_if("max-interval = 4\nmin-interval = 3\n"));
    expect_if("max-interval = 100\nmin-interval = 76\n",
              "t.conf:3: min-interval 76 is above 0.75 x max-interval 100 (at most 75, RFC 4861 "
              "6.2.1)");
    /* against the default max-interval, at the line of min-interval */
    expect_if("\nmin-interval = 451\n",
              "t.conf:3: min-interval 451 is above 0.75 x max-interval 600 (at most 450, RFC "
              "4861 6.2.1)");
    conf_free(load_if("min-interval = 450\n"));
    /* a refused max-interval is not compared again */
    expect_if("max-interval = 2\nmin-interval = 500\n",
              "t.conf:2: max-interval 2 is below 4 (RFC 4861 6.2.1, RFC 8319)");

    conf_free(load_if("router-lifetime = 0\n"));
    conf_free(load_if("max-interval = 100\nrouter-lifetime = 100\n"));
    conf_free(load_if("router-lifetime = 65535\n"));
    expect_if("max-interval = 100\nrouter-lifetime = 99\n",
              "t.conf:3: router-lifetime 99 is below max-interval 100 (expected 0, or 100 to "
              "65535: RFC 4861 6.2.1, RFC 8319)");
    expect_if("router-lifetime = 1\n",
              "t.conf:2: router-lifetime 1 is below max-interval 600 (expected 0, or 600 to "
              "65535: RFC 4861 6.2.1, RFC 8319)");
    expect_if("router-lifetime = 65536\n",
              "t.conf:2: router-lifetime 65536 is above 65535 (RFC 4861 6.2.1, RFC 8319)");

    conf_free(load_if("cur-hop-limit = 255\n"));
    expect_if("cur-hop-limit = 256\n", "t.conf:2: cur-hop-limit 256 is above 255 (RFC 4861 4.2)");
    expect_if("cur-hop-limit = -1\n",
              "t.conf:2: cur-hop-limit \"-1\" is not a number (expected 0 to 255)");
    expect_if("reachable-time = 3600001\n",
              "t.conf:2: reachable-time 3600001 is above 3600000 (RFC 4861 6.2.1)");
    expect_if("retrans-timer = 4294967296\n",
              "t.conf:2: retrans-timer 4294967296 is above 4294967295 (RFC 4861 4.2)");

    c = load_if("mtu = 1280\n");
    assert_int_equal(c->interfaces[0].mtu, 1280);
    conf_free(c);
    c = load_if("mtu = 65535\n");
    assert_int_equal(c->interfaces[0].mtu, 65535);
    conf_free(c);
    expect_if("mtu = 1279\n", "t.conf:2: mtu 1279 is below 1280 (RFC 8200 5, RFC 4861 4.6.4)");
    expect_if("mtu = 65536\n", "t.conf:2: mtu 65536 is above 65535 (RFC 8200 5, RFC 4861 4.6.4)");
    expect_if("mtu = jumbo\n",
              "t.conf:2: mtu \"jumbo\" is not auto, off, or a number from 1280 to 65535");
    expect_if("mtu = Auto\n",
              "t.conf:2: mtu \"Auto\" is not auto, off, or a number from 1280 to 65535");

    expect_if("source-lladdr = maybe\n",
              "t.conf:2: source-lladdr \"maybe\" is not auto, yes or no (nor true/false, on/off)");
    expect_if("router-preference = reserved\n",
              "t.conf:2: router-preference \"reserved\" is not one of low, medium, high");
    expect_if("managed = 1\n", "t.conf:2: managed \"1\" is not yes or no (nor true/false, on/off)");
    expect_if("advertise = yes\nadvertise = no\n",
              "t.conf:3: advertise is set twice (first at line 2)");
}

static void test_captive_portal(void **state)
{
    static const char *const good[] = {
        "https://portal.example.com/capport/api",
        "HTTPS://portal.example.com",
        "https://x",
        "urn:ietf:params:capport:unrestricted",
    };
    char body[2200 + 64], want[512], uri[2100];
    struct conf *c;

    (void)state;
    for (size_t k = 0; k < sizeof(good) / sizeof(good[0]); k++) {
        snprintf(body, sizeof(body), "captive-portal = \"%s\"\n", good[k]);
        c = load_if(body);
        assert_string_equal(c->interfaces[0].captive_portal, good[k]);
        conf_free(c);
    }
#define NOT_HTTPS                                                                                  \
    " is not an https:// URI of the captive portal API, nor "                                      \
    "urn:ietf:params:capport:unrestricted (RFC 8910 2, RFC 8908)"
#define NOT_FIT                                                                                    \
    " is not a URI that fits the option (1 to 2038 printable ASCII characters, no spaces; RFC "    \
    "8910 2.3)"
    expect_if("captive-portal = \"http://portal.example.com\"\n",
              "t.conf:2: captive-portal \"http://portal.example.com\"" NOT_HTTPS);
    expect_if("captive-portal = \"https://\"\n", "t.conf:2: captive-portal \"https://\"" NOT_HTTPS);
    expect_if("captive-portal = \"https:///x\"\n",
              "t.conf:2: captive-portal \"https:///x\"" NOT_HTTPS);
    expect_if("captive-portal = \"portal.example.com\"\n",
              "t.conf:2: captive-portal \"portal.example.com\"" NOT_HTTPS);
    expect_if("captive-portal = \"urn:ietf:params:capport:restricted\"\n",
              "t.conf:2: captive-portal \"urn:ietf:params:capport:restricted\"" NOT_HTTPS);
    expect_if("captive-portal = \"\"\n", "t.conf:2: captive-portal \"\"" NOT_FIT);
    expect_if("captive-portal = \"https://a b\"\n",
              "t.conf:2: captive-portal \"https://a b\"" NOT_FIT);
    expect_if("captive-portal = \"https://\xc3\xa9\"\n",
              "t.conf:2: captive-portal \"https://\xc3\xa9\"" NOT_FIT);
    /* 2038 characters fit the option (255 x 8 - 2), 2039 do not */
    memset(uri, 'a', sizeof(uri));
    memcpy(uri, "https://", 8);
    uri[2038] = '\0';
    snprintf(body, sizeof(body), "captive-portal = \"%s\"\n", uri);
    c = load_if(body);
    assert_int_equal(strlen(c->interfaces[0].captive_portal), 2038);
    conf_free(c);
    uri[2038] = 'a';
    uri[2039] = '\0';
    snprintf(body, sizeof(body), "captive-portal = \"%s\"\n", uri);
    snprintf(want, sizeof(want), "t.conf:2: captive-portal \"%.64s...\"" NOT_FIT, uri);
    expect_if(body, want);
}

static void test_prefix(void **state)
{
    struct conf *c;
    const struct conf_interface *i;
    char b[E6_PREFIXSTRLEN];

    (void)state;
    c = load_if("  prefix 2001:db8:9:20::/64 {\n"     /* 2 */
                "  }\n"                               /* 3 */
                "  prefix auto {\n"                   /* 4 */
                "    valid-lifetime = infinity\n"     /* 5 */
                "    preferred-lifetime = infinity\n" /* 6 */
                "  }\n"                               /* 7 */
                "  prefix 2001:db8:1::/48 {\n"        /* 8 */
                "    autonomous = no\n"               /* 9 */
                "    on-link = no\n"                  /* 10 */
                "    valid-lifetime = 4294967294\n"   /* 11 */
                "    preferred-lifetime = 0\n"        /* 12 */
                "    decrement = yes\n"               /* 13 */
                "  }\n"                               /* 14 */
                "  prefix 2001:db8:9:21::/64 { valid-lifetime = 0 preferred-lifetime = 0 }\n");
    i = &c->interfaces[0];
    assert_int_equal(i->n_prefixes, 4);
    assert_false(i->prefixes[0].is_auto);
    assert_string_equal(pfx(&i->prefixes[0].prefix, b), "2001:db8:9:20::/64");
    assert_int_equal(i->prefixes[0].line, 2);
    assert_true(i->prefixes[0].on_link);
    assert_true(i->prefixes[0].autonomous);
    assert_int_equal(i->prefixes[0].valid_lifetime, 5400);
    assert_int_equal(i->prefixes[0].preferred_lifetime, 2700);
    assert_false(i->prefixes[0].decrement);
    assert_true(i->prefixes[1].is_auto);
    assert_int_equal(i->prefixes[1].line, 4);
    assert_int_equal(i->prefixes[1].prefix.len, 0);
    assert_int_equal(i->prefixes[1].valid_lifetime, CONF_LIFETIME_INFINITY);
    assert_int_equal(i->prefixes[1].preferred_lifetime, CONF_LIFETIME_INFINITY);
    assert_true(i->prefixes[1].autonomous);
    assert_string_equal(pfx(&i->prefixes[2].prefix, b), "2001:db8:1::/48");
    assert_false(i->prefixes[2].autonomous);
    assert_false(i->prefixes[2].on_link);
    assert_int_equal(i->prefixes[2].valid_lifetime, 4294967294u);
    assert_int_equal(i->prefixes[2].preferred_lifetime, 0);
    assert_true(i->prefixes[2].decrement);
    assert_int_equal(i->prefixes[3].valid_lifetime, 0);
    assert_int_equal(i->prefixes[3].line, 15);
    conf_free(c);

    /* at most one auto; equal prefixes */
    expect_if("prefix auto {}\nprefix 2001:db8::/64 {}\n\nprefix auto { }\n",
              "t.conf:5: duplicate prefix auto in interface \"lan0\" (first at line 2)");
    expect_if("prefix 2001:db8::/64 {}\nprefix 2001:db8:0::/64 {}\n",
              "t.conf:3: duplicate prefix 2001:db8::/64 in interface \"lan0\" (first at line 2)");
    /* the same prefix on two interfaces is not a duplicate */
    conf_free(load_ok("interface a { prefix 2001:db8::/64 {} }\n"
                      "interface b { prefix 2001:db8::/64 {} prefix auto {} }\n"
                      "interface c { prefix auto {} }\n"));

    expect_if("prefix fe80::/64 {}\n",
              "t.conf:2: prefix fe80::/64 is link-local (fe80::/10): hosts form those addresses "
              "themselves (RFC 4861 6.2.1, RFC 4862 5.3)");
    expect_if("prefix febf:1::/64 {}\n",
              "t.conf:2: prefix febf:1::/64 is link-local (fe80::/10): hosts form those "
              "addresses themselves (RFC 4861 6.2.1, RFC 4862 5.3)");
    expect_if("prefix fe00::/7 { autonomous = no }\n",
              "t.conf:2: prefix fe00::/7 is link-local (fe80::/10): hosts form those addresses "
              "themselves (RFC 4861 6.2.1, RFC 4862 5.3)");
    expect_if("prefix ff02::/64 {}\n",
              "t.conf:2: prefix ff02::/64 is multicast (ff00::/8; RFC 4291 2.7)");
    expect_if("prefix ::/0 {}\n",
              "t.conf:2: prefix ::/0 covers every address; expected a prefix of this link (the "
              "default route comes from router-lifetime; RFC 4861 4.6.2)");
    expect_if("prefix 2001:db8::1/64 {}\n",
              "t.conf:2: prefix \"2001:db8::1/64\": host bits set beyond /64; did you mean "
              "2001:db8::/64?");
    expect_if("prefix automatic {}\n",
              "t.conf:2: prefix \"automatic\": 'automatic' has no prefix length (write ADDR/LEN, "
              "e.g. 2001:db8::/64) (or the word auto)");
    expect_if("prefix AUTO {}\n", "t.conf:2: prefix \"AUTO\": 'AUTO' has no prefix length (write "
                                  "ADDR/LEN, e.g. 2001:db8::/64) (or the word auto)");
    expect_if("prefix {\n}\n", "t.conf:2: \"prefix\" is a section: expected prefix PREFIX { ... }");
    expect_if("route auto {\n}\n", "t.conf:2: route \"auto\": 'auto' has no prefix length (write "
                                   "ADDR/LEN, e.g. 2001:db8::/64)");

    /* SLAAC needs a /64 */
    expect_if("prefix 2001:db8::/48 {\n}\n",
              "t.conf:2: prefix 2001:db8::/48: autonomous prefix must be /64 for SLAAC (RFC 4862 "
              "5.5.3, RFC 7421); set autonomous = no to advertise it on-link only");
    expect_if("prefix 2001:db8::/96 {\n  autonomous = yes\n}\n",
              "t.conf:3: prefix 2001:db8::/96: autonomous prefix must be /64 for SLAAC (RFC 4862 "
              "5.5.3, RFC 7421); set autonomous = no to advertise it on-link only");
    conf_free(load_if("prefix 2001:db8::/96 { autonomous = no }\n"));
    conf_free(load_if("prefix 2001:db8::1/128 { autonomous = no }\n"));

    /* preferred <= valid */
    expect_if("prefix 2001:db8::/64 {\n  valid-lifetime = 100\n  preferred-lifetime = 101\n}\n",
              "t.conf:4: preferred-lifetime 101 is above valid-lifetime 100 (RFC 4861 4.6.2)");
    expect_if("prefix 2001:db8::/64 {\n  valid-lifetime = 2699\n}\n",
              "t.conf:3: preferred-lifetime 2700 is above valid-lifetime 2699 (RFC 4861 4.6.2)");
    expect_if("prefix auto {\n  valid-lifetime = 100\n  preferred-lifetime = infinity\n}\n",
              "t.conf:4: preferred-lifetime infinity is above valid-lifetime 100 (RFC 4861 "
              "4.6.2)");
    conf_free(load_if("prefix 2001:db8::/64 { valid-lifetime = 100 preferred-lifetime = 100 }\n"));
    conf_free(load_if("prefix 2001:db8::/64 { valid-lifetime = infinity }\n"));
    expect_if("prefix 2001:db8::/64 {\n  valid-lifetime = 4294967295\n}\n",
              "t.conf:3: valid-lifetime 4294967295 is above 4294967294 (RFC 4861 4.6.2)");
    expect_if("prefix 2001:db8::/64 {\n  valid-lifetime = forever\n}\n",
              "t.conf:3: valid-lifetime \"forever\" is not a number of seconds (expected 0 to "
              "4294967294 or infinity)");
    expect_if("prefix 2001:db8::/64 {\n  preferred-lifetime = -1\n}\n",
              "t.conf:3: preferred-lifetime \"-1\" is not a number of seconds (expected 0 to "
              "4294967294 or infinity)");
    /* a refused valid-lifetime is not compared */
    expect_if("prefix 2001:db8::/64 {\n  valid-lifetime = 1h\n  preferred-lifetime = 9999\n}\n",
              "t.conf:3: valid-lifetime \"1h\" is not a number of seconds (expected 0 to "
              "4294967294 or infinity)");
    /* counting down infinity */
    expect_if("prefix 2001:db8::/64 {\n  valid-lifetime = infinity\n  decrement = yes\n}\n",
              "t.conf:4: decrement = yes counts lifetimes down, but valid-lifetime is infinity "
              "(RFC 4861 6.2.1)");
    expect_if("prefix auto {\n  decrement = yes\n  valid-lifetime = infinity\n"
              "  preferred-lifetime = infinity\n}\n",
              "t.conf:3: decrement = yes counts lifetimes down, but valid-lifetime is infinity "
              "(RFC 4861 6.2.1)");
}

static void test_route(void **state)
{
    struct conf *c;
    const struct conf_interface *i;
    char b[E6_PREFIXSTRLEN];

    (void)state;
    c = load_if("route ::/0 { preference = high }\n"
                "route 2001:db8:1::/48 {\n  preference = low\n  lifetime = infinity\n}\n"
                "route 2001:db8:2::/64 { lifetime = 600 }\n"
                "route 2001:db8:3::1/128 { preference = medium }\n");
    i = &c->interfaces[0];
    assert_int_equal(i->n_routes, 4);
    assert_string_equal(pfx(&i->routes[0].prefix, b), "::/0");
    assert_int_equal(i->routes[0].preference, CONF_PREF_HIGH);
    assert_int_equal(i->routes[0].lifetime, 1800);
    assert_int_equal(i->routes[0].line, 2);
    assert_int_equal(i->routes[1].preference, CONF_PREF_LOW);
    assert_int_equal(i->routes[1].lifetime, CONF_LIFETIME_INFINITY);
    assert_int_equal(i->routes[1].line, 3);
    assert_int_equal(i->routes[2].lifetime, 600);
    assert_int_equal(i->routes[2].preference, CONF_PREF_MEDIUM);
    assert_string_equal(pfx(&i->routes[3].prefix, b), "2001:db8:3::1/128");
    conf_free(c);

    expect_if("route 2001:db8::/48 {}\nroute 2001:db8::/48 {}\n",
              "t.conf:3: duplicate route 2001:db8::/48 in interface \"lan0\" (first at line 2)");
    /* a prefix and a route may name the same prefix */
    conf_free(load_if("route 2001:db8::/64 {}\nprefix 2001:db8::/64 {}\n"));
    expect_if("route fe80::/64 {}\n",
              "t.conf:2: route fe80::/64 is link-local (fe80::/10): it is on every link already "
              "(RFC 4191 2.3)");
    expect_if("route ff00::/8 {}\n",
              "t.conf:2: route ff00::/8 is multicast (ff00::/8; RFC 4291 2.7)");
    expect_if("route 2001:db8::/48 {\n  preference = urgent\n}\n",
              "t.conf:3: preference \"urgent\" is not one of low, medium, high");
    expect_if("route 2001:db8::/48 {\n  lifetime = 0\n}\n",
              "t.conf:3: lifetime 0 is below 1 (RFC 4191 2.3)");
    expect_if("route 2001:db8::/48 {\n  lifetime = 599\n}\n",
              "t.conf:3: route lifetime 599 is below max-interval 600: hosts would drop the route "
              "between two advertisements (RFC 4191 2.3)");
    /* max-interval written after the route still counts */
    conf_free(load_if("route 2001:db8::/48 { lifetime = 599 }\nmax-interval = 599\n"));
}

static void test_rdnss(void **state)
{
    struct conf *c;
    const struct conf_interface *i;
    char a[E6_ADDRSTRLEN], body[8192], want[256];
    size_t o;

    (void)state;
    c = load_if("  rdnss {\n"
                "    servers = { \"2001:db8::53\", \"auto\",\n"
                "                \"fe80::1\" }\n"
                "    lifetime = infinity\n"
                "  }\n"
                "  rdnss { servers = \"2001:DB8::35\" }\n"
                "  rdnss { servers = { auto } lifetime = 600 }\n");
    i = &c->interfaces[0];
    assert_int_equal(i->n_rdnss, 3);
    assert_int_equal(i->rdnss[0].line, 2);
    assert_int_equal(i->rdnss[0].n_servers, 2);
    assert_string_equal(e6_addr_format(&i->rdnss[0].servers[0], a, sizeof(a)), "2001:db8::53");
    assert_string_equal(e6_addr_format(&i->rdnss[0].servers[1], a, sizeof(a)), "fe80::1");
    assert_true(i->rdnss[0].self);
    assert_int_equal(i->rdnss[0].lifetime, CONF_LIFETIME_INFINITY);
    assert_int_equal(i->rdnss[1].n_servers, 1);
    assert_string_equal(e6_addr_format(&i->rdnss[1].servers[0], a, sizeof(a)), "2001:db8::35");
    assert_false(i->rdnss[1].self);
    assert_int_equal(i->rdnss[1].lifetime, 1800);
    assert_int_equal(i->rdnss[2].n_servers, 0);
    assert_null(i->rdnss[2].servers);
    assert_true(i->rdnss[2].self);
    assert_int_equal(i->rdnss[2].lifetime, 600);
    conf_free(c);

    expect_if("rdnss {\n}\n",
              "t.conf:2: rdnss has no servers (expected servers = { \"ADDRESS\", ... })");
    expect_if("rdnss {\n  servers = {}\n}\n",
              "t.conf:2: rdnss has no servers (expected servers = { \"ADDRESS\", ... })");
    expect_if("rdnss {\n  servers = { \"2001:db8::53\", \"dns.example.com\" }\n}\n",
              "t.conf:3: servers \"dns.example.com\" is not an IPv6 address (expected unicast "
              "addresses or auto)");
    expect_if("rdnss {\n  servers = { \"192.0.2.53\" }\n}\n",
              "t.conf:3: servers \"192.0.2.53\" is not an IPv6 address (expected unicast "
              "addresses or auto)");
    expect_if("rdnss {\n  servers = \"::\"\n}\n",
              "t.conf:3: servers \"::\" is the unspecified address; expected a unicast address");
    expect_if("rdnss {\n  servers = \"ff02::fb\"\n}\n",
              "t.conf:3: servers \"ff02::fb\" is a multicast address; expected a unicast address");
    expect_if("rdnss {\n  servers = \"::1\"\n}\n",
              "t.conf:3: servers \"::1\" is the loopback address (each host would ask itself); "
              "expected a unicast address");
    expect_if("rdnss {\n  servers = { \"2001:db8::53\", \"2001:DB8:0::53\" }\n}\n",
              "t.conf:3: servers lists \"2001:DB8:0::53\" twice");
    expect_if("rdnss {\n  servers = { auto, auto }\n}\n", "t.conf:3: servers lists auto twice");
    expect_if("rdnss {\n  servers = { \"2001:db8::53\" }\n  servers = { \"2001:db8::54\" }\n}\n",
              "t.conf:4: servers is set twice (first at line 3)");
    expect_if("rdnss {\n  servers = { \"2001:db8::53\" }\n  servers += { \"2001:db8::54\" }\n}\n",
              "t.conf:4: servers is set twice (first at line 3)");
    /* the same, with plain values */
    expect_if("rdnss {\n  servers = \"2001:db8::53\"\n  servers = \"2001:db8::54\"\n}\n",
              "t.conf:4: servers is set twice (first at line 3)");
    expect_if("rdnss {\n  servers = \"2001:db8::53\"\n  servers += \"2001:db8::54\"\n}\n",
              "t.conf:4: servers is set twice (first at line 3)");
    expect_if("rdnss {\n  servers = \"2001:db8::53\"\n  servers = { \"2001:db8::54\", auto }\n}\n",
              "t.conf:4: servers is set twice (first at line 3)");
    expect_if("rdnss {\n  servers = { \"2001:db8::53\", auto }\n  servers = \"2001:db8::54\"\n}\n",
              "t.conf:4: servers is set twice (first at line 3)");
    expect_if("rdnss { servers = \"2001:db8::53\" servers += { auto } }\n",
              "t.conf:2: servers is set twice (first at line 2)");
    /* an entry per line, and a trailing comma */
    c = load_if("rdnss {\n  servers = {\n    \"2001:db8::53\",\n    \"2001:db8::54\",\n  }\n}\n"
                "dnssl { domains = { a.example, b.example } }\n");
    assert_int_equal(c->interfaces[0].rdnss[0].n_servers, 2);
    assert_int_equal(c->interfaces[0].dnssl[0].n_domains, 2);
    conf_free(c);
    expect_if("rdnss {\n  servers = \"2001:db8::53\"\n  lifetime = 0\n}\n",
              "t.conf:4: lifetime 0 is below 1 (RFC 8106 5.1)");
    expect_if("rdnss {\n  servers = \"2001:db8::53\"\n  lifetime = 599\n}\n",
              "t.conf:4: rdnss lifetime 599 is below max-interval 600: hosts would drop the "
              "servers between two advertisements (RFC 8106 5.1)");
    conf_free(load_if("rdnss { servers = \"2001:db8::53\" lifetime = 600 }\n"));
    /* nor against a refused max-interval, written before or after */
    expect_if("max-interval = x\nrdnss { servers = \"2001:db8::53\" lifetime = 5 }\n",
              "t.conf:2: max-interval \"x\" is not a number (expected 4 to 65535)");
    expect_if("rdnss { servers = \"2001:db8::53\" lifetime = 5 }\nmax-interval = 1\n",
              "t.conf:3: max-interval 1 is below 4 (RFC 4861 6.2.1, RFC 8319)");
    /* a refused list leaves the lifetime check standing */
    expect("interface lan0 {\nrdnss {\n  servers = \"::\"\n  lifetime = 5\n}\n}\n",
           "t.conf:3: servers \"::\" is the unspecified address; expected a unicast address",
           "t.conf:4: rdnss lifetime 5 is below max-interval 600: hosts would drop the servers "
           "between two advertisements (RFC 8106 5.1)",
           NULL);
    expect_if("rdnss = \"2001:db8::53\"\n",
              "t.conf:2: \"rdnss\" is a section: expected rdnss { ... }");

    /* 127 servers fit one option (RFC 8106 5.1), 128 do not */
    o = (size_t)sprintf(body, "rdnss {\n  servers = {");
    for (int k = 1; k <= 127; k++)
        o += (size_t)sprintf(body + o, "%s\"2001:db8::%x\"", k > 1 ? ", " : "", k);
    sprintf(body + o, " }\n}\n");
    c = load_if(body);
    assert_int_equal(c->interfaces[0].rdnss[0].n_servers, 127);
    conf_free(c);
    sprintf(body + o, ", auto }\n}\n");
    snprintf(want, sizeof(want),
             "t.conf:3: servers has 128 entries (expected 1 to 127) (RFC 8106 5.1)");
    expect_if(body, want);
}

static void test_dnssl(void **state)
{
    struct conf *c;
    const struct conf_interface *i;
    char body[8192], label[64];
    size_t o;

    (void)state;
    c = load_if("dnssl {\n  domains = { \"example.com\", \"lan.example.org.\", \"_x-y.example\" }\n"
                "  lifetime = 1200\n}\ndnssl { domains = \"example.net\" }\n");
    i = &c->interfaces[0];
    assert_int_equal(i->n_dnssl, 2);
    assert_int_equal(i->dnssl[0].n_domains, 3);
    assert_string_equal(i->dnssl[0].domains[0], "example.com");
    assert_string_equal(i->dnssl[0].domains[1], "lan.example.org.");
    assert_string_equal(i->dnssl[0].domains[2], "_x-y.example");
    assert_int_equal(i->dnssl[0].lifetime, 1200);
    assert_int_equal(i->dnssl[0].line, 2);
    assert_int_equal(i->dnssl[1].n_domains, 1);
    assert_int_equal(i->dnssl[1].lifetime, 1800);
    conf_free(c);

    expect_if("dnssl {\n}\n",
              "t.conf:2: dnssl has no domains (expected domains = { \"NAME\", ... })");
    expect_if("dnssl {\n  domains = { \"example.com\", \"exa mple.com\" }\n}\n",
              "t.conf:3: domains \"exa mple.com\" is not a domain name: character outside "
              "[A-Za-z0-9_-] (RFC 8106 5.2)");
    expect_if("dnssl {\n  domains = \"a..b\"\n}\n",
              "t.conf:3: domains \"a..b\" is not a domain name: empty label (RFC 8106 5.2)");
    expect_if("dnssl {\n  domains = \".\"\n}\n",
              "t.conf:3: domains \".\" is not a domain name: empty name or the root (RFC 8106 "
              "5.2)");
    memset(label, 'a', sizeof(label));
    label[63] = '\0';
    snprintf(body, sizeof(body), "dnssl {\n  domains = \"%s.example\"\n}\n", label);
    conf_free(load_if(body));
    label[63] = 'a';
    snprintf(body, sizeof(body), "dnssl {\n  domains = \"%.64s.example\"\n}\n", label);
    expect_if(body,
              "t.conf:3: domains \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
              "aaaa...\" is not a domain name: label longer than 63 characters (RFC 8106 "
              "5.2)");
    expect_if("dnssl {\n  domains = { \"example.com\", \"EXAMPLE.com.\" }\n}\n",
              "t.conf:3: domains lists \"EXAMPLE.com.\" twice");
    expect_if("dnssl {\n  domains = \"example.com\"\n  lifetime = 10\n}\n",
              "t.conf:4: dnssl lifetime 10 is below max-interval 600: hosts would drop the "
              "search list between two advertisements (RFC 8106 5.1)");
    expect_if("dnssl {\n  domains = \"example.com\"\n  lifetime = 0\n}\n",
              "t.conf:4: lifetime 0 is below 1 (RFC 8106 5.2)");
    /* 2040 bytes per option: names of 15 encoded bytes, 8 + 135 x 15 (+ 7 padding) fit, 136 do not
     */
    o = (size_t)sprintf(body, "dnssl {\n  domains = {");
    for (int k = 0; k < 135; k++)
        o += (size_t)sprintf(body + o, "%s\"h%04d.example\"", k ? ", " : "", k);
    sprintf(body + o, " }\n}\n");
    c = load_if(body);
    assert_int_equal(c->interfaces[0].dnssl[0].n_domains, 135);
    conf_free(c);
    sprintf(body + o, ", \"h9999.example\" }\n}\n");
    expect_if(body, "t.conf:3: domains do not fit in one DNSSL option (2040 bytes, RFC 8106 5.2); "
                    "split them over several dnssl sections");
}

static void test_pref64(void **state)
{
    static const char *const good[] = {
        "64:ff9b::/96",    "2001:db8::/32",       "2001:db8:100::/40",
        "2001:db8:1::/48", "2001:db8:1:100::/56", "2001:db8:1:2::/64",
    };
    char body[256];
    struct conf *c;
    const struct conf_interface *i;
    char b[E6_PREFIXSTRLEN];

    (void)state;
    for (size_t k = 0; k < sizeof(good) / sizeof(good[0]); k++) {
        snprintf(body, sizeof(body), "pref64 %s { }\n", good[k]);
        c = load_if(body);
        i = &c->interfaces[0];
        assert_int_equal(i->n_pref64, 1);
        assert_string_equal(pfx(&i->pref64[0].prefix, b), good[k]);
        assert_int_equal(i->pref64[0].lifetime, 1800);
        assert_int_equal(i->pref64[0].line, 2);
        conf_free(c);
    }
    c = load_if(
        "pref64 64:ff9b::/96 { lifetime = 65528 }\npref64 2001:db8::/32 { lifetime = 601 }\n");
    assert_int_equal(c->interfaces[0].pref64[0].lifetime, 65528);
    /* stored as written; the engine rounds up to a multiple of 8 on the wire */
    assert_int_equal(c->interfaces[0].pref64[1].lifetime, 601);
    conf_free(c);

    expect_if("pref64 2001:db8::/60 {}\n",
              "t.conf:2: pref64 2001:db8::/60: length /60 is not one of /32, /40, /48, /56, /64, "
              "/96 (RFC 8781 4, RFC 6052 2.2)");
    expect_if("pref64 2001:db8::/128 {}\n",
              "t.conf:2: pref64 2001:db8::/128: length /128 is not one of /32, /40, /48, /56, "
              "/64, /96 (RFC 8781 4, RFC 6052 2.2)");
    expect_if("pref64 2001:db8:0:0:100::/96 {}\n",
              "t.conf:2: pref64 2001:db8:0:0:100::/96: bits 64 to 71 must be zero (RFC 6052 "
              "2.2)");
    expect_if("pref64 64:ff9b::/96 {}\npref64 64:ff9b:0::/96 {}\n",
              "t.conf:3: duplicate pref64 64:ff9b::/96 in interface \"lan0\" (first at line 2)");
    expect_if("pref64 64:ff9b::/96 {\n  lifetime = 65529\n}\n",
              "t.conf:3: lifetime 65529 is above 65528 (RFC 8781 4)");
    expect_if("pref64 64:ff9b::/96 {\n  lifetime = infinity\n}\n",
              "t.conf:3: lifetime \"infinity\" is not a number of seconds (expected 1 to 65528)");
    expect_if("pref64 64:ff9b::/96 {\n  lifetime = 599\n}\n",
              "t.conf:3: pref64 lifetime 599 is below max-interval 600: hosts would drop the "
              "NAT64 prefix between two advertisements (RFC 8781 4.1)");
    /* 65528 s cannot outlast a longer interval */
    expect_if("max-interval = 65535\npref64 64:ff9b::/96 {\n}\n",
              "t.conf:3: pref64 lifetime 65528 is below max-interval 65535: hosts would drop the "
              "NAT64 prefix between two advertisements (RFC 8781 4.1)");
}

/* ---- proxy and rule ---- */

#define PX_TAIL "  rule 2001:db8:ff::/64 { method = exclude }\n}\n"

/* "proxy eth0 {\nBODY" plus one exclude rule; BODY starts at line 2. */
static struct conf *load_px(const char *body)
{
    char *text = malloc(strlen(body) + 128);
    struct conf *c;

    assert_non_null(text);
    sprintf(text, "proxy eth0 {\n%s" PX_TAIL, body);
    c = load_ok(text);
    free(text);
    assert_int_equal(c->n_proxies, 1);
    return c;
}

static void expect_px(const char *body, const char *want)
{
    char *text = malloc(strlen(body) + 128);

    assert_non_null(text);
    sprintf(text, "proxy eth0 {\n%s" PX_TAIL, body);
    expect(text, want, NULL);
    free(text);
}

/*
 * "proxy eth0 {\nRULES}\n" and, after it (so a rule names a tunnel defined
 * further down), the 6in4 tunnel t4 and the 6bed4 tunnel t6.
 */
#define RULES_FMT "proxy eth0 {\n%s}\ntunnel t4 {" T4 "}\ntunnel t6 {" T6 "}\n"

static struct conf *load_rules(const char *rules)
{
    char *text = malloc(strlen(rules) + sizeof(RULES_FMT));
    struct conf *c;

    assert_non_null(text);
    sprintf(text, RULES_FMT, rules);
    c = load_ok(text);
    free(text);
    return c;
}

/* Refused with exactly the messages listed after rules, NULL-terminated. */
static void expect_rules(const char *rules, ...)
{
    char *text = malloc(strlen(rules) + sizeof(RULES_FMT));
    va_list ap;

    assert_non_null(text);
    sprintf(text, RULES_FMT, rules);
    va_start(ap, rules);
    expect_v(text, ap);
    va_end(ap);
    free(text);
}

static void test_proxy_defaults(void **state)
{
    static const uint8_t zero[6] = {0};
    const struct conf_proxy *p;
    const struct conf_rule *r;
    char b[E6_PREFIXSTRLEN];
    struct conf *c;

    (void)state;
    c = load_px("");
    p = &c->proxies[0];
    assert_string_equal(p->name, "eth0");
    assert_int_equal(p->line, 1);
    assert_true(p->router);
    assert_int_equal(p->na_source, CONF_NA_SRC_LINKLOCAL);
    assert_false(p->has_target_lladdr);
    assert_memory_equal(p->target_lladdr, zero, 6);
    assert_int_equal(p->sessions, 8192);
    assert_int_equal(p->valid_ttl, 30);
    assert_int_equal(p->invalid_ttl, 5);
    assert_int_equal(p->retrans_time, 1000);
    assert_int_equal(p->retrans_limit, 3);
    assert_int_equal(p->probe_rate, 100);
    assert_int_equal(p->answer_delay, 0);
    assert_false(p->kernel_offload);
    assert_false(p->autowire);
    assert_int_equal(p->n_rules, 1);
    r = &p->rules[0];
    assert_string_equal(pfx(&r->prefix, b), "2001:db8:ff::/64");
    assert_int_equal(r->line, 2);
    assert_int_equal(r->method, CONF_PROXY_EXCLUDE);
    assert_null(r->iface);
    assert_null(r->tunnel);
    assert_false(r->allow_wide);
    conf_free(c);

    /* allow-wide defaults to no on a static rule too */
    c = load_rules("  rule 2001:db8::1/128 { method = static }\n");
    assert_int_equal(c->proxies[0].rules[0].method, CONF_PROXY_STATIC);
    assert_false(c->proxies[0].rules[0].allow_wide);
    conf_free(c);
}

static void test_proxy_values(void **state)
{
    static const uint8_t mac[6] = {0x02, 0x00, 0x5e, 0x10, 0xab, 0xcd};
    const struct conf_proxy *p;
    struct conf *c;

    (void)state;
    c = load_px("  router = no\n  source = target\n  target-lladdr = \"02:00:5E:10:ab:CD\"\n"
                "  sessions = 16\n  valid-ttl = 3600\n  invalid-ttl = 3600\n"
                "  retrans-time = 10000\n  retrans-limit = 10\n  probe-rate = 100000\n"
                "  answer-delay = 1000\n  kernel-offload = yes\n  autowire = on\n");
    p = &c->proxies[0];
    assert_false(p->router);
    assert_int_equal(p->na_source, CONF_NA_SRC_TARGET);
    assert_true(p->has_target_lladdr);
    assert_memory_equal(p->target_lladdr, mac, 6);
    assert_int_equal(p->sessions, 16);
    assert_int_equal(p->valid_ttl, 3600);
    assert_int_equal(p->invalid_ttl, 3600);
    assert_int_equal(p->retrans_time, 10000);
    assert_int_equal(p->retrans_limit, 10);
    assert_int_equal(p->probe_rate, 100000);
    assert_int_equal(p->answer_delay, 1000);
    assert_true(p->kernel_offload);
    assert_true(p->autowire);
    conf_free(c);

    c = load_px("  router = true\n  source = link-local\n  target-lladdr = 00:1b:21:aa:bb:cc\n"
                "  sessions = 1048576\n  valid-ttl = 10\n  invalid-ttl = 1\n"
                "  retrans-time = 100\n  retrans-limit = 1\n  probe-rate = 1\n"
                "  answer-delay = 0\n  kernel-offload = off\n  autowire = false\n");
    p = &c->proxies[0];
    assert_true(p->router);
    assert_int_equal(p->na_source, CONF_NA_SRC_LINKLOCAL);
    assert_true(p->has_target_lladdr);
    assert_int_equal(p->target_lladdr[0], 0x00);
    assert_int_equal(p->target_lladdr[5], 0xcc);
    assert_int_equal(p->sessions, 1048576);
    assert_int_equal(p->valid_ttl, 10);
    assert_int_equal(p->invalid_ttl, 1);
    assert_int_equal(p->retrans_time, 100);
    assert_int_equal(p->retrans_limit, 1);
    assert_int_equal(p->probe_rate, 1);
    assert_int_equal(p->answer_delay, 0);
    assert_false(p->kernel_offload);
    assert_false(p->autowire);
    conf_free(c);
}

static void test_proxy_bounds(void **state)
{
    (void)state;
    expect_px("  sessions = 15\n", "t.conf:2: sessions 15 is below 16");
    expect_px("  sessions = 1048577\n", "t.conf:2: sessions 1048577 is above 1048576");
    expect_px("  sessions = 8k\n", "t.conf:2: sessions \"8k\" is not a number (expected 16 to "
                                   "1048576)");
    expect_px("  valid-ttl = 9\n", "t.conf:2: valid-ttl 9 is below 10");
    expect_px("  valid-ttl = 3601\n", "t.conf:2: valid-ttl 3601 is above 3600");
    expect_px("  valid-ttl = 30s\n",
              "t.conf:2: valid-ttl \"30s\" is not a number of seconds (expected 10 to 3600)");
    expect_px("  valid-ttl = infinity\n",
              "t.conf:2: valid-ttl \"infinity\" is not a number of seconds (expected 10 to 3600)");
    expect_px("  invalid-ttl = 0\n", "t.conf:2: invalid-ttl 0 is below 1");
    expect_px("  invalid-ttl = 3601\n", "t.conf:2: invalid-ttl 3601 is above 3600");
    expect_px("  retrans-time = 99\n", "t.conf:2: retrans-time 99 is below 100 (RFC 4861 10)");
    expect_px("  valid-ttl = 3600\n  retrans-time = 10001\n",
              "t.conf:3: retrans-time 10001 is above 10000 (RFC 4861 10)");
    expect_px("  retrans-limit = 0\n", "t.conf:2: retrans-limit 0 is below 1 (RFC 4861 10)");
    expect_px("  retrans-limit = 11\n", "t.conf:2: retrans-limit 11 is above 10 (RFC 4861 10)");
    expect_px("  probe-rate = 0\n", "t.conf:2: probe-rate 0 is below 1");
    expect_px("  probe-rate = 100001\n", "t.conf:2: probe-rate 100001 is above 100000");
    expect_px("  answer-delay = 1001\n",
              "t.conf:2: answer-delay 1001 is above 1000 (RFC 4861 7.2.8, "
              "MAX_ANYCAST_DELAY_TIME)");
    expect_px("  answer-delay = -1\n",
              "t.conf:2: answer-delay \"-1\" is not a number (expected 0 to 1000)");
    /* bad words */
    expect_px("  router = maybe\n",
              "t.conf:2: router \"maybe\" is not yes or no (nor true/false, on/off)");
    expect_px("  source = global\n",
              "t.conf:2: source \"global\" is not one of link-local, target");
    expect_px("  source = linklocal\n",
              "t.conf:2: source \"linklocal\" is not one of link-local, target");
    expect_px("  kernel-offload = 1\n",
              "t.conf:2: kernel-offload \"1\" is not yes or no (nor true/false, on/off)");
    expect_px("  autowire = auto\n",
              "t.conf:2: autowire \"auto\" is not yes or no (nor true/false, on/off)");
    expect_px("  rule 2001:db8::/64 { method = proxy }\n",
              "t.conf:2: method \"proxy\" is not one of static, iface, auto, 6bed4, tunnel, "
              "exclude");
    expect_px("  rule 2001:db8::/64 { method = Static }\n",
              "t.conf:2: method \"Static\" is not one of static, iface, auto, 6bed4, tunnel, "
              "exclude");
    expect_px("  rule 2001:db8::1/128 { method = static allow-wide = maybe }\n",
              "t.conf:2: allow-wide \"maybe\" is not yes or no (nor true/false, on/off)");
    expect_px("  rule 2001:db8::/64 { method = iface iface = \"a/b\" }\n",
              "t.conf:2: iface \"a/b\" is not a valid interface name (1 to 15 characters, none of "
              "\"/\", \":\", \"%\", spaces or control characters, not \".\" or \"..\")");
    expect_px("  rule 2001:db8::/64 { method = tunnel tunnel = abcdefghijklmnop }\n",
              "t.conf:2: tunnel \"abcdefghijklmnop\" is not a valid interface name (1 to 15 "
              "characters, none of \"/\", \":\", \"%\", spaces or control characters, not \".\" "
              "or \"..\")");
    expect_px("  sessions = 8192\n  sessions = 8192\n",
              "t.conf:3: sessions is set twice (first at line 2)");
}

#define MAC_SYNTAX                                                                                 \
    " is not a MAC address (expected six hex bytes separated by \":\", like 02:00:5e:10:00:01)"
#define MAC_GROUP                                                                                  \
    " is a group (multicast) address; expected a unicast MAC, the I/G bit (0x01 of the first "     \
    "byte) clear (IEEE 802, RFC 4861 4.6.1)"

static void test_proxy_mac(void **state)
{
    static const char *const syntax[] = {
        "02:00:5e:10:00",
        "02-00-5e-10-00-01",
        "02:00:5e:10:00:0g",
        "2:0:5e:10:0:1",
        "02:00:5e:10:00:01:",
        "0200.5e10.0001",
        "",
        "02:00:5e:10:00:01 ",
        "02::5e:10:00:01:0",
        "+2:00:5e:10:00:01",
    };
    static const char *const group[] = {"01:00:5e:00:00:01", "33:33:00:00:00:01",
                                        "ff:ff:ff:ff:ff:ff", "03:00:00:00:00:00"};
    char body[128], want[512];

    (void)state;
    for (size_t i = 0; i < sizeof(syntax) / sizeof(syntax[0]); i++) {
        snprintf(body, sizeof(body), "  target-lladdr = \"%s\"\n", syntax[i]);
        snprintf(want, sizeof(want), "t.conf:2: target-lladdr \"%s\"" MAC_SYNTAX, syntax[i]);
        expect_px(body, want);
    }
    for (size_t i = 0; i < sizeof(group) / sizeof(group[0]); i++) {
        snprintf(body, sizeof(body), "  target-lladdr = \"%s\"\n", group[i]);
        snprintf(want, sizeof(want), "t.conf:2: target-lladdr \"%s\"" MAC_GROUP, group[i]);
        expect_px(body, want);
    }
    expect_px("  target-lladdr = 00:00:00:00:00:00\n",
              "t.conf:2: target-lladdr \"00:00:00:00:00:00\" is all zero; expected a unicast MAC "
              "neighbours can send to (RFC 4861 4.6.1)");
    /* the U/L bit does not matter */
    conf_free(load_px("  target-lladdr = fe:ff:ff:ff:ff:ff\n"));
}

static void test_proxy_timing(void **state)
{
    struct conf *c;

    (void)state;
    /* 10000 ms x 3 against the default 30 s: at the one key written */
    expect_px("  retrans-time = 10000\n",
              "t.conf:2: retrans-time 10000 ms x retrans-limit 3 is not shorter than valid-ttl "
              "30 s: a confirmed target would expire before its refresh could confirm it again "
              "(expected retrans-time x retrans-limit < valid-ttl x 1000, RFC 4861 7.3.3)");
    /* equal is not shorter; the last of the three keys written is pointed at */
    expect_px("  retrans-limit = 10\n  valid-ttl = 10\n",
              "t.conf:3: retrans-time 1000 ms x retrans-limit 10 is not shorter than valid-ttl "
              "10 s: a confirmed target would expire before its refresh could confirm it again "
              "(expected retrans-time x retrans-limit < valid-ttl x 1000, RFC 4861 7.3.3)");
    expect_px("  valid-ttl = 10\n  retrans-limit = 10\n",
              "t.conf:3: retrans-time 1000 ms x retrans-limit 10 is not shorter than valid-ttl "
              "10 s: a confirmed target would expire before its refresh could confirm it again "
              "(expected retrans-time x retrans-limit < valid-ttl x 1000, RFC 4861 7.3.3)");
    c = load_px("  retrans-limit = 10\n  valid-ttl = 11\n");
    conf_free(c);
    c = load_px("  retrans-time = 9999\n");
    conf_free(c);
    /* a refused value is not compared again */
    expect_px("  valid-ttl = 5\n  retrans-time = 10000\n", "t.conf:2: valid-ttl 5 is below 10");
}

static void test_proxy_no_rule(void **state)
{
    (void)state;
    expect("proxy eth0 {\n}\n",
           "t.conf:1: proxy \"eth0\" has no rule, so it would answer nothing (expected at least "
           "one rule PREFIX { method = ... })",
           NULL);
    expect("\nproxy eth0 { router = no }\n",
           "t.conf:2: proxy \"eth0\" has no rule, so it would answer nothing (expected at least "
           "one rule PREFIX { method = ... })",
           NULL);
    /* a rule without a method is a rule: only the method is missing */
    expect("proxy eth0 {\n  rule 2001:db8::/64 {\n    iface = lan0\n  }\n}\n",
           "t.conf:2: rule \"2001:db8::/64\" has no method (expected method = static or iface "
           "or auto or 6bed4 or tunnel or exclude)",
           NULL);
}

static void test_rule_iface(void **state)
{
    struct conf *c;

    (void)state;
    c = load_rules("  rule 2001:db8::/64 {\n    method = iface\n    iface = lan0\n  }\n");
    assert_int_equal(c->proxies[0].rules[0].method, CONF_PROXY_IFACE);
    assert_string_equal(c->proxies[0].rules[0].iface, "lan0");
    conf_free(c);
    /* an interface that is also a tunnel is fine: the route confirms there */
    conf_free(load_rules("  rule 2001:db8::/64 { method = iface iface = t4 }\n"));

    expect_rules("  rule 2001:db8::/64 {\n    method = iface\n  }\n",
                 "t.conf:2: rule 2001:db8::/64: method iface needs the interface its targets are "
                 "confirmed on (expected iface = NAME)",
                 NULL);
    expect_rules("  rule 2001:db8::/64 {\n    method = iface\n    iface = eth0\n  }\n",
                 "t.conf:4: rule 2001:db8::/64: iface \"eth0\" is the proxied interface itself: "
                 "answering there for targets confirmed there would loop (expected the "
                 "interface the prefix lives behind)",
                 NULL);
    expect_rules("  rule 2001:db8::/64 {\n    method = auto\n    iface = lan0\n  }\n",
                 "t.conf:4: rule 2001:db8::/64: iface goes only with method iface, not with "
                 "method auto (expected no iface here)",
                 NULL);
    expect_rules("  rule 2001:db8::/120 { method = static\n iface = lan0 }\n",
                 "t.conf:3: rule 2001:db8::/120: iface goes only with method iface, not with "
                 "method static (expected no iface here)",
                 NULL);
    expect_rules("  rule 2001:db8::/64 { method = 6bed4\n iface = lan0 }\n",
                 "t.conf:3: rule 2001:db8::/64: iface goes only with method iface, not with "
                 "method 6bed4 (expected no iface here)",
                 NULL);
    expect_rules("  rule 2001:db8::/64 { method = tunnel tunnel = t4\n iface = lan0 }\n",
                 "t.conf:3: rule 2001:db8::/64: iface goes only with method iface, not with "
                 "method tunnel (expected no iface here)",
                 NULL);
}

static void test_rule_tunnel(void **state)
{
    struct conf *c;

    (void)state;
    /* named before or after the proxy */
    c = load_rules("  rule 2001:db8::/64 { method = tunnel tunnel = t4 }\n"
                   "  rule 2001:db8:1::/64 { method = 6bed4 tunnel = t6 }\n"
                   "  rule 2001:db8:2::/64 { method = 6bed4 }\n");
    assert_int_equal(c->proxies[0].rules[0].method, CONF_PROXY_TUNNEL);
    assert_string_equal(c->proxies[0].rules[0].tunnel, "t4");
    assert_int_equal(c->proxies[0].rules[1].method, CONF_PROXY_6BED4);
    assert_string_equal(c->proxies[0].rules[1].tunnel, "t6");
    assert_null(c->proxies[0].rules[2].tunnel);
    conf_free(c);
    conf_free(load_ok("tunnel t4 {" T4 "}\n"
                      "proxy eth0 { rule 2001:db8::/64 { method = tunnel tunnel = t4 } }\n"));

    expect_rules("  rule 2001:db8::/64 {\n    method = tunnel\n  }\n",
                 "t.conf:2: rule 2001:db8::/64: method tunnel needs the 6in4 tunnel whose "
                 "clients it answers for (expected tunnel = NAME of a tunnel with type = 6in4, "
                 "RFC 4213)",
                 NULL);
    expect_rules("  rule 2001:db8::/64 {\n    method = tunnel\n    tunnel = nope\n  }\n",
                 "t.conf:4: rule 2001:db8::/64: tunnel \"nope\" is not a tunnel section of this "
                 "file (expected the name of a tunnel with type = 6in4, RFC 4213)",
                 NULL);
    expect_rules("  rule 2001:db8::/64 {\n    method = tunnel\n    tunnel = t6\n  }\n",
                 "t.conf:4: rule 2001:db8::/64: tunnel \"t6\" (line 8) is a 6bed4 tunnel; method "
                 "tunnel needs a 6in4 tunnel (expected the name of a tunnel with type = 6in4)",
                 NULL);
    /* an interface that is not a tunnel section does not count */
    expect("interface lan0 {}\nproxy eth0 {\n  rule 2001:db8::/64 { method = tunnel "
           "tunnel = lan0 }\n}\n",
           "t.conf:3: rule 2001:db8::/64: tunnel \"lan0\" is not a tunnel section of this file "
           "(expected the name of a tunnel with type = 6in4, RFC 4213)",
           NULL);
    expect_rules("  rule 2001:db8::/64 {\n    method = 6bed4\n    tunnel = t4\n  }\n",
                 "t.conf:4: rule 2001:db8::/64: tunnel \"t4\" (line 7) is a 6in4 tunnel; method "
                 "6bed4 needs a 6bed4 tunnel (expected the name of a tunnel with type = 6bed4)",
                 NULL);
    expect_rules("  rule 2001:db8::/64 {\n    method = 6bed4\n    tunnel = t9\n  }\n",
                 "t.conf:4: rule 2001:db8::/64: tunnel \"t9\" is not a tunnel section of this "
                 "file (expected the name of a tunnel with type = 6bed4, draft-vanrein-6bed4)",
                 NULL);
    expect_rules("  rule 2001:db8::/64 { method = iface iface = lan0\n tunnel = t4 }\n",
                 "t.conf:3: rule 2001:db8::/64: tunnel goes only with method tunnel or 6bed4, "
                 "not with method iface (expected no tunnel here)",
                 NULL);
    expect_rules("  rule 2001:db8::/64 { method = auto\n tunnel = t4 }\n",
                 "t.conf:3: rule 2001:db8::/64: tunnel goes only with method tunnel or 6bed4, "
                 "not with method auto (expected no tunnel here)",
                 NULL);
    /* a stray tunnel is not also looked up */
    expect_rules("  rule 2001:db8::/128 { method = static\n tunnel = nope }\n",
                 "t.conf:3: rule 2001:db8::/128: tunnel goes only with method tunnel or 6bed4, "
                 "not with method static (expected no tunnel here)",
                 NULL);
}

#define WIDE(p, l)                                                                                 \
    "t.conf:" l ": rule " p ": a static rule this wide makes the upstream router cache every "     \
    "address anyone scans in it (RFC 6583); use method iface or auto, or set allow-wide = yes "    \
    "(expected /120 or longer without it)"

static void test_rule_static(void **state)
{
    struct conf *c;

    (void)state;
    c = load_rules("  rule 2001:db8::/120 { method = static }\n"
                   "  rule 2001:db8:1::1/128 { method = static }\n"
                   "  rule 2001:db8:2::/64 { method = static allow-wide = yes }\n"
                   "  rule ::/0 { method = static allow-wide = yes }\n"
                   "  rule 2001:db8:3::/124 { method = static allow-wide = yes }\n");
    assert_false(c->proxies[0].rules[0].allow_wide);
    assert_true(c->proxies[0].rules[2].allow_wide);
    assert_int_equal(c->proxies[0].rules[3].prefix.len, 0);
    conf_free(c);

    expect_rules("  rule 2001:db8::/119 { method = static }\n", WIDE("2001:db8::/119", "2"), NULL);
    expect_rules("  rule 2001:db8::/64 {\n    method = static\n  }\n", WIDE("2001:db8::/64", "2"),
                 NULL);
    /* written "no": at its line */
    expect_rules("  rule 2001:db8::/64 {\n    method = static\n    allow-wide = no\n  }\n",
                 WIDE("2001:db8::/64", "4"), NULL);
    /* allow-wide with another method */
    expect_rules("  rule 2001:db8::/64 { method = iface iface = lan0\n allow-wide = yes }\n",
                 "t.conf:3: rule 2001:db8::/64: allow-wide goes only with method static, not "
                 "with method iface (expected no allow-wide here)",
                 NULL);
    expect_rules("  rule 2001:db8::/64 { method = auto\n allow-wide = no }\n",
                 "t.conf:3: rule 2001:db8::/64: allow-wide goes only with method static, not "
                 "with method auto (expected no allow-wide here)",
                 NULL);
    expect_rules("  rule 2001:db8::/64 { method = 6bed4\n allow-wide = yes }\n",
                 "t.conf:3: rule 2001:db8::/64: allow-wide goes only with method static, not "
                 "with method 6bed4 (expected no allow-wide here)",
                 NULL);
    expect_rules("  rule 2001:db8::/64 { method = tunnel tunnel = t4\n allow-wide = yes }\n",
                 "t.conf:3: rule 2001:db8::/64: allow-wide goes only with method static, not "
                 "with method tunnel (expected no allow-wide here)",
                 NULL);
}

static void test_rule_6bed4(void **state)
{
    (void)state;
    conf_free(load_rules("  rule 2001:db8:6::/64 { method = 6bed4 }\n"));
    expect_rules("  rule 2001:db8::/48 { method = 6bed4 }\n",
                 "t.conf:2: rule 2001:db8::/48: a 6bed4 rule is the 6bed4 /64 itself, its port "
                 "word being bits 96 to 111 (expected a /64 prefix)",
                 NULL);
    expect_rules("  rule 2001:db8::/96 { method = 6bed4 tunnel = t6 }\n",
                 "t.conf:2: rule 2001:db8::/96: a 6bed4 rule is the 6bed4 /64 itself, its port "
                 "word being bits 96 to 111 (expected a /64 prefix)",
                 NULL);
}

static void test_rule_exclude(void **state)
{
    struct conf *c;

    (void)state;
    c = load_rules(
        "  rule 2001:db8::1/128 { method = exclude }\n  rule ::/0 { method = exclude }\n");
    assert_int_equal(c->proxies[0].rules[1].method, CONF_PROXY_EXCLUDE);
    conf_free(c);
    expect_rules("  rule 2001:db8::/64 {\n"
                 "    method = exclude\n"
                 "    iface = lan0\n"
                 "    tunnel = t4\n"
                 "    allow-wide = no\n"
                 "  }\n",
                 "t.conf:4: rule 2001:db8::/64: method exclude takes no iface (an excluded "
                 "prefix is never answered; expected no key but method)",
                 "t.conf:5: rule 2001:db8::/64: method exclude takes no tunnel (an excluded "
                 "prefix is never answered; expected no key but method)",
                 "t.conf:6: rule 2001:db8::/64: method exclude takes no allow-wide (an excluded "
                 "prefix is never answered; expected no key but method)",
                 NULL);
}

static void test_rule_multicast(void **state)
{
    (void)state;
    expect_rules("  rule ff02::/16 { method = exclude }\n",
                 "t.conf:2: rule ff02::/16 is multicast (ff00::/8): a Neighbor Solicitation never "
                 "asks for a multicast target (RFC 4861 7.1.1)",
                 NULL);
    expect_rules("  rule ff00::/8 { method = static allow-wide = yes }\n",
                 "t.conf:2: rule ff00::/8 is multicast (ff00::/8): a Neighbor Solicitation never "
                 "asks for a multicast target (RFC 4861 7.1.1)",
                 NULL);
    /* a rule that merely covers ff00::/8 is fine */
    conf_free(load_rules("  rule ::/0 { method = auto }\n"));
}

/* Rules with a refused prefix are still checked, named by their line. */
static void test_rule_bad_title(void **state)
{
    (void)state;
    expect_rules("  rule 2001:db8::1/64 { method = iface }\n",
                 "t.conf:2: rule \"2001:db8::1/64\": host bits set beyond /64; did you mean "
                 "2001:db8::/64?",
                 "t.conf:2: rule at line 2: method iface needs the interface its targets are "
                 "confirmed on (expected iface = NAME)",
                 NULL);
    /* no prefix, no judgement of its width */
    expect_rules("  rule 2001:db8::/200 { method = static }\n",
                 "t.conf:2: rule \"2001:db8::/200\": prefix length 200 is out of range 0..128",
                 NULL);
}

/* Two rules of one proxy with the same prefix, even with different methods. */
static void test_rule_duplicate_methods(void **state)
{
    (void)state;
    expect_rules("  rule 2001:db8::/64 { method = iface iface = lan0 }\n"
                 "  rule 2001:db8::1/128 { method = exclude }\n"
                 "  rule 2001:db8::/64 { method = auto }\n",
                 "t.conf:4: duplicate rule 2001:db8::/64 in proxy \"eth0\" (first at line 2)",
                 NULL);
    /* the same prefix in two proxies is fine */
    conf_free(load_ok("proxy eth0 { rule 2001:db8::/64 { method = auto } }\n"
                      "proxy eth1 { rule 2001:db8::/64 { method = auto } }\n"));
}

/* A misplaced tunnel section inside a rule meets the rule's key tunnel. */
static void test_rule_tunnel_section_inside(void **state)
{
    (void)state;
    expect("proxy eth0 {\n  rule 2001:db8::/64 {\n    method = auto\n    tunnel t0 { type = "
           "6in4 }\n  }\n}\n",
           "t.conf:4: \"tunnel\" takes a value: expected tunnel = VALUE", NULL);
}

/* Every method, every setting, and the tunnels they name. */
static void test_proxy_full(void **state)
{
    const char *text = "tunnel tun-home {" T4 "}\n"                                  /* 1 */
                       "proxy eth0 {\n"                                              /* 2 */
                       "  router = no\n"                                             /* 3 */
                       "  source = target\n"                                         /* 4 */
                       "  target-lladdr = 02:00:5e:10:00:01\n"                       /* 5 */
                       "  sessions = 65536\n"                                        /* 6 */
                       "  valid-ttl = 60\n"                                          /* 7 */
                       "  invalid-ttl = 10\n"                                        /* 8 */
                       "  retrans-time = 500\n"                                      /* 9 */
                       "  retrans-limit = 5\n"                                       /* 10 */
                       "  probe-rate = 1000\n"                                       /* 11 */
                       "  answer-delay = 200\n"                                      /* 12 */
                       "  kernel-offload = yes\n"                                    /* 13 */
                       "  autowire = yes\n"                                          /* 14 */
                       "  rule 2001:db8:9:10::/64 { method = iface iface = lan0 }\n" /* 15 */
                       "  rule 2001:db8:9:10::1/128 { method = exclude }\n"          /* 16 */
                       "  rule 2001:db8:9:10:ff::/120 { method = static }\n"         /* 17 */
                       "  rule 2001:db8:9:20::/60 { method = auto }\n"               /* 18 */
                       "  rule 2001:db8:9:11::/64 { method = 6bed4 tunnel = b6 }\n"  /* 19 */
                       "  rule 2001:db8:9:30::/60 { method = tunnel tunnel = tun-home }\n"
                       "  rule 2001:db8:9:40::/64 { method = static allow-wide = yes }\n"
                       "}\n"
                       "tunnel b6 { type = 6bed4 mode = router local = 192.0.2.6\n"
                       "  prefix = \"2001:db8:9:11::/64\" }\n";
    static const enum conf_proxy_method methods[] = {
        CONF_PROXY_IFACE, CONF_PROXY_EXCLUDE, CONF_PROXY_STATIC, CONF_PROXY_AUTO,
        CONF_PROXY_6BED4, CONF_PROXY_TUNNEL,  CONF_PROXY_STATIC,
    };
    const struct conf_proxy *p;
    struct conf *c = load_ok(text);
    char b[E6_PREFIXSTRLEN];

    (void)state;
    p = conf_find_proxy(c, "eth0");
    assert_non_null(p);
    assert_int_equal(p->line, 2);
    assert_false(p->router);
    assert_int_equal(p->na_source, CONF_NA_SRC_TARGET);
    assert_true(p->has_target_lladdr);
    assert_int_equal(p->target_lladdr[5], 0x01);
    assert_int_equal(p->sessions, 65536);
    assert_int_equal(p->valid_ttl, 60);
    assert_int_equal(p->invalid_ttl, 10);
    assert_int_equal(p->retrans_time, 500);
    assert_int_equal(p->retrans_limit, 5);
    assert_int_equal(p->probe_rate, 1000);
    assert_int_equal(p->answer_delay, 200);
    assert_true(p->kernel_offload);
    assert_true(p->autowire);
    assert_int_equal(p->n_rules, 7);
    for (size_t i = 0; i < p->n_rules; i++) {
        assert_int_equal(p->rules[i].method, methods[i]);
        assert_int_equal(p->rules[i].line, 15 + i);
    }
    assert_string_equal(p->rules[0].iface, "lan0");
    assert_string_equal(pfx(&p->rules[1].prefix, b), "2001:db8:9:10::1/128");
    assert_string_equal(p->rules[4].tunnel, "b6");
    assert_string_equal(p->rules[5].tunnel, "tun-home");
    assert_true(p->rules[6].allow_wide);
    assert_string_equal(conf_proxy_method_name(CONF_PROXY_6BED4), "6bed4");
    conf_free(c);
}

/* Errors of several rules and the proxy, all at once and in line order. */
static void test_proxy_errors_together(void **state)
{
    (void)state;
    expect("proxy eth0 {\n"                              /* 1 */
           "  valid-ttl = 10\n"                          /* 2 */
           "  retrans-limit = 10\n"                      /* 3 */
           "  rule 2001:db8::/64 { method = static }\n"  /* 4 */
           "  rule 2001:db8:1::/64 { method = iface }\n" /* 5 */
           "  rule 2001:db8:2::/64 { method = tunnel\n"  /* 6 */
           "    tunnel = home }\n"                       /* 7 */
           "  rule 2001:db8:3::/48 { method = 6bed4 }\n" /* 8 */
           "}\n"                                         /* 9 */
           "tunnel home {" T6P "}\n",                    /* 10 */
           "t.conf:3: retrans-time 1000 ms x retrans-limit 10 is not shorter than valid-ttl 10 "
           "s: a confirmed target would expire before its refresh could confirm it again "
           "(expected retrans-time x retrans-limit < valid-ttl x 1000, RFC 4861 7.3.3)",
           WIDE("2001:db8::/64", "4"),
           "t.conf:5: rule 2001:db8:1::/64: method iface needs the interface its targets are "
           "confirmed on (expected iface = NAME)",
           "t.conf:7: rule 2001:db8:2::/64: tunnel \"home\" (line 10) is a 6bed4 tunnel; method "
           "tunnel needs a 6in4 tunnel (expected the name of a tunnel with type = 6in4)",
           "t.conf:8: rule 2001:db8:3::/48: a 6bed4 rule is the 6bed4 /64 itself, its port word "
           "being bits 96 to 111 (expected a /64 prefix)",
           NULL);
}

/* Everything wrong in one interface comes out at once, in line order. */
static void test_interface_errors_together(void **state)
{
    (void)state;
    expect("interface lan0 {\n"                                        /* 1 */
           "  max-interval = 100\n"                                    /* 2 */
           "  min-interval = 80\n"                                     /* 3 */
           "  router-lifetime = 50\n"                                  /* 4 */
           "  prefix auto { }\n"                                       /* 5 */
           "  prefix auto { }\n"                                       /* 6 */
           "  rdnss { servers = { \"2001:db8::53\", \"ff02::1\" } }\n" /* 7 */
           "  dnssl { domains = \"a..b\" }\n"                          /* 8 */
           "  pref64 64:ff9b::/60 { }\n"                               /* 9 */
           "  captive-portal = \"http://x\"\n"                         /* 10 */
           "}\n"                                                       /* 11 */
           "interface lan1 { mtu = 1 }\n",                             /* 12 */
           "t.conf:3: min-interval 80 is above 0.75 x max-interval 100 (at most 75, RFC 4861 "
           "6.2.1)",
           "t.conf:4: router-lifetime 50 is below max-interval 100 (expected 0, or 100 to 65535: "
           "RFC 4861 6.2.1, RFC 8319)",
           "t.conf:6: duplicate prefix auto in interface \"lan0\" (first at line 5)",
           "t.conf:7: servers \"ff02::1\" is a multicast address; expected a unicast address",
           "t.conf:8: domains \"a..b\" is not a domain name: empty label (RFC 8106 5.2)",
           "t.conf:9: pref64 64:ff9b::/60: length /60 is not one of /32, /40, /48, /56, /64, /96 "
           "(RFC 8781 4, RFC 6052 2.2)",
           "t.conf:10: captive-portal \"http://x\"" NOT_HTTPS,
           "t.conf:12: mtu 1 is below 1280 (RFC 8200 5, RFC 4861 4.6.4)", NULL);
}

static void test_value_kinds(void **state)
{
    const struct conf_key_def lt = {.name = "lifetime",
                                    .kind = CONF_K_LIFETIME,
                                    .flags = CONF_KF_INFINITY,
                                    .min = 1,
                                    .max = 100};
    const struct conf_key_def list = {
        .name = "servers", .kind = CONF_K_ADDRLIST, .min = 1, .max = 2};
    const struct conf_key_def strs = {.name = "names", .kind = CONF_K_STRLIST, .min = 1, .max = 3};
    const struct conf_key_def str = {.name = "note", .kind = CONF_K_STRING};
    const char *items[] = {"a", "b", "A"};
    struct conf_value v;
    char err[256], buf[16];

    (void)state;
    assert_true(conf_value_parse(&lt, "infinity", &v, err, sizeof(err)));
    assert_int_equal(v.uint, CONF_LIFETIME_INFINITY);
    assert_true(conf_value_parse(&lt, "100", &v, err, sizeof(err)));
    assert_int_equal(v.uint, 100);
    assert_false(conf_value_parse(&lt, "Infinity", &v, err, sizeof(err)));
    assert_string_equal(err,
                        "lifetime \"Infinity\" is not a number of seconds (expected 1 to 100 or "
                        "infinity)");
    assert_string_equal(conf_lifetime_text(CONF_LIFETIME_INFINITY, buf, sizeof(buf)), "infinity");
    assert_string_equal(conf_lifetime_text(7, buf, sizeof(buf)), "7");

    /* no "auto" without CONF_KF_AUTO */
    assert_false(conf_value_parse(&list, "auto", &v, err, sizeof(err)));
    assert_string_equal(err,
                        "servers \"auto\" is not an IPv6 address (expected unicast addresses)");
    assert_false(conf_value_parse_list(&list, items, 0, &v, err, sizeof(err)));
    assert_string_equal(err, "servers is empty (expected 1 to 2 entries)");
    assert_false(conf_value_parse_list(&list, items, 3, &v, err, sizeof(err)));
    assert_string_equal(err, "servers has 3 entries (expected 1 to 2)");

    /* a string list without a check: no control characters, no repeats */
    assert_true(conf_value_parse_list(&strs, items, 2, &v, err, sizeof(err)));
    assert_int_equal(v.n, 2);
    assert_string_equal(v.list.strs[1], "b");
    conf_value_release(&strs, &v);
    assert_false(conf_value_parse_list(&strs, items, 3, &v, err, sizeof(err)));
    assert_string_equal(err, "names lists \"A\" twice");
    items[0] = "\x1b";
    assert_false(conf_value_parse_list(&strs, items, 1, &v, err, sizeof(err)));
    assert_string_equal(err, "names \"\\x1b\" contains a control character");
    assert_false(conf_value_parse(&str, "a\tb", &v, err, sizeof(err)));
    assert_string_equal(err, "note \"a\\x09b\" contains a control character");
    assert_false(conf_value_parse_list(&str, items, 1, &v, err, sizeof(err)));
    assert_string_equal(err, "note takes one value, not a list");
}

/* ---- the pieces ---- */

static void test_value_uint_bool(void **state)
{
    const struct conf_key_def u = {.name = "mtu", .kind = CONF_K_UINT, .min = 1280, .max = 1480};
    const struct conf_key_def b = {.name = "managed", .kind = CONF_K_BOOL};
    struct conf_value v;
    char err[256];

    (void)state;
    assert_true(conf_value_parse(&u, "1280", &v, err, sizeof(err)));
    assert_int_equal(v.uint, 1280);
    assert_true(conf_value_parse(&u, "1480", &v, err, sizeof(err)));
    assert_int_equal(v.uint, 1480);
    assert_false(conf_value_parse(&u, "1279", &v, err, sizeof(err)));
    assert_string_equal(err, "mtu 1279 is below 1280");
    assert_false(conf_value_parse(&u, "1481", &v, err, sizeof(err)));
    assert_string_equal(err, "mtu 1481 is above 1480");
    assert_false(conf_value_parse(&u, "99999999999999999999999", &v, err, sizeof(err)));
    assert_string_equal(err, "mtu \"99999999999999999999999\" is above 1480");
    assert_false(conf_value_parse(&u, "18446744073709551616", &v, err, sizeof(err)));
    assert_string_equal(err, "mtu 18446744073709551616 is above 1480");
    static const char *const bad[] = {"", "-1", "+1300", "0x500", "01300", "13 00", "1300x"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char want[128];
        assert_false(conf_value_parse(&u, bad[i], &v, err, sizeof(err)));
        snprintf(want, sizeof(want), "mtu \"%s\" is not a number (expected 1280 to 1480)", bad[i]);
        assert_string_equal(err, want);
    }

    static const char *const yes[] = {"yes", "true", "on"}, *const no[] = {"no", "false", "off"};
    for (size_t i = 0; i < 3; i++) {
        assert_true(conf_value_parse(&b, yes[i], &v, err, sizeof(err)));
        assert_true(v.flag);
        assert_true(conf_value_parse(&b, no[i], &v, err, sizeof(err)));
        assert_false(v.flag);
    }
    assert_false(conf_value_parse(&b, "Yes", &v, err, sizeof(err)));
    assert_string_equal(err, "managed \"Yes\" is not yes or no (nor true/false, on/off)");
    assert_false(conf_value_parse(&b, NULL, &v, err, sizeof(err)));
    assert_string_equal(err, "managed has no value");

    /* stores into a struct by offset */
    struct {
        unsigned mtu;
        bool managed;
    } s = {0};
    const struct conf_key_def u2 = {.name = "mtu", .kind = CONF_K_UINT, .max = 1500};
    const struct conf_key_def b2 = {.name = "m", .kind = CONF_K_BOOL, .offset = sizeof(unsigned)};
    assert_true(conf_value_parse(&u2, "0", &v, err, sizeof(err)));
    conf_value_store(&u2, &v, &s);
    assert_true(conf_value_parse(&b2, "on", &v, err, sizeof(err)));
    conf_value_store(&b2, &v, &s);
    assert_int_equal(s.mtu, 0);
    assert_true(s.managed);
}

static void test_quote(void **state)
{
    char buf[CONF_QUOTE_BUF], longs[200];

    (void)state;
    assert_string_equal(conf_quote("eth0", buf, sizeof(buf)), "\"eth0\"");
    assert_string_equal(conf_quote("a\"b\\c", buf, sizeof(buf)), "\"a\\\"b\\\\c\"");
    assert_string_equal(conf_quote("\x1b[31m\x7f", buf, sizeof(buf)), "\"\\x1b[31m\\x7f\"");
    memset(longs, 'x', sizeof(longs));
    longs[sizeof(longs) - 1] = '\0';
    conf_quote(longs, buf, sizeof(buf));
    assert_int_equal(strlen(buf), 1 + CONF_QUOTE_MAX + 3 + 1);
    assert_string_equal(buf + 1 + CONF_QUOTE_MAX, "...\"");
    /* worst case: every byte escaped */
    memset(longs, '\x01', sizeof(longs) - 1);
    conf_quote(longs, buf, sizeof(buf));
    assert_int_equal(strlen(buf), 1 + 4 * CONF_QUOTE_MAX + 3 + 1);
    assert_string_equal(conf_quote("x", buf, 4), "");
}

static void test_name_rules(void **state)
{
    (void)state;
    assert_true(conf_ifname_valid("eth0"));
    assert_true(conf_ifname_valid("a"));
    assert_true(conf_ifname_valid("abcdefghijklmno"));
    assert_true(conf_ifname_valid("..."));
    assert_false(conf_ifname_valid("abcdefghijklmnop"));
    assert_false(conf_ifname_valid(""));
    assert_false(conf_ifname_valid("."));
    assert_false(conf_ifname_valid(".."));
    assert_false(conf_ifname_valid("a/b"));
    assert_false(conf_ifname_valid("a:b"));
    assert_false(conf_ifname_valid("a%d"));
    assert_false(conf_ifname_valid("a b"));
    assert_false(conf_ifname_valid("a\x7f"));

    assert_true(conf_username_valid("edge6"));
    assert_true(conf_username_valid("_apt"));
    assert_true(conf_username_valid("Debian-exim"));
    assert_true(conf_username_valid("a.b"));
    assert_false(conf_username_valid(""));
    assert_false(conf_username_valid("0day"));
    assert_false(conf_username_valid(".x"));
    assert_false(conf_username_valid("a$"));
    assert_false(conf_username_valid("\xc3\xa9t\xc3\xa9"));
}

/* ---- tunnel NAME { type = 6in4 ... }: RFC 4213 ---- */

static const char *v4(const struct in_addr *a, char *buf)
{
    return inet_ntop(AF_INET, a, buf, INET_ADDRSTRLEN);
}

static const char *v6(const struct in6_addr *a, char *buf)
{
    return e6_addr_format(a, buf, E6_ADDRSTRLEN);
}

static void test_manage_sysctls(void **state)
{
    struct conf *c;

    (void)state;
    c = load_ok("");
    assert_false(c->global.manage_sysctls);
    conf_free(c);
    c = load_ok("manage-sysctls = yes\n");
    assert_true(c->global.manage_sysctls);
    conf_free(c);
    c = load_ok("manage-sysctls = no\n");
    assert_false(c->global.manage_sysctls);
    conf_free(c);
    expect("manage-sysctls = always\n",
           "t.conf:1: manage-sysctls \"always\" is not yes or no (nor true/false, on/off)", NULL);
}

/* Every default of a client-mode tunnel and of a server's client. */
static void test_tunnel_defaults(void **state)
{
    char a[E6_ADDRSTRLEN], b[INET_ADDRSTRLEN];
    const struct conf_tunnel *t;
    struct conf *c;

    (void)state;
    c = load_ok("tunnel t0 {" T4 "}\n");
    t = &c->tunnels[0];
    assert_int_equal(t->type, CONF_TUNNEL_6IN4);
    assert_int_equal(t->mode, CONF_TUN_CLIENT);
    assert_string_equal(v4(&t->local, b), "192.0.2.1");
    assert_string_equal(v4(&t->remote, b), "198.51.100.1");
    assert_int_equal(t->ttl, 64);
    assert_int_equal(t->mtu, 1480);
    assert_int_equal(t->pmtu, CONF_PMTU_STATIC);
    assert_int_equal(t->kernel, CONF_TRI_AUTO);
    assert_string_equal(v6(&t->client_address, a), "2001:db8:9:1::2");
    assert_int_equal(t->client_plen, 64);
    /* ::1 of the prefix */
    assert_string_equal(v6(&t->server_address, a), "2001:db8:9:1::1");
    assert_true(t->default_route);
    assert_int_equal(t->n_clients, 0);
    assert_null(t->clients);
    conf_free(c);

    /* a /127: the other end, whichever it is (RFC 6164) */
    c = load_ok("tunnel t0 { type = 6in4 mode = client local = 192.0.2.1 remote = 198.51.100.1 "
                "client-address = \"2001:db8:9:1::/127\" }\n");
    assert_string_equal(v6(&c->tunnels[0].server_address, a), "2001:db8:9:1::1");
    conf_free(c);
    c = load_ok("tunnel t0 { type = 6in4 mode = client local = 192.0.2.1 remote = 198.51.100.1 "
                "client-address = \"2001:db8:9:1::1/127\" }\n");
    assert_string_equal(v6(&c->tunnels[0].server_address, a), "2001:db8:9:1::");
    conf_free(c);
    /* /126: ::1 of the prefix, not of the address */
    c = load_ok("tunnel t0 { type = 6in4 mode = client local = 192.0.2.1 remote = 198.51.100.1 "
                "client-address = \"2001:db8:9:1::6/126\" }\n");
    assert_string_equal(v6(&c->tunnels[0].server_address, a), "2001:db8:9:1::5");
    conf_free(c);

    c = load_ok("tunnel t0 { type = 6in4 mode = server local = 192.0.2.1\n"
                "  client a { remote = 198.51.100.1 client-address = \"2001:db8:9:1::2/64\" }\n"
                "}\n");
    t = &c->tunnels[0];
    assert_int_equal(t->mode, CONF_TUN_SERVER);
    assert_int_equal(t->n_clients, 1);
    assert_string_equal(t->clients[0].name, "a");
    assert_int_equal(t->clients[0].line, 2);
    assert_string_equal(v4(&t->clients[0].remote, b), "198.51.100.1");
    assert_string_equal(v6(&t->clients[0].server_address, a), "2001:db8:9:1::1");
    assert_int_equal(t->clients[0].n_routed, 0);
    assert_null(t->clients[0].routed);
    assert_int_equal(t->clients[0].mtu, 0);
    /* the client-mode keys stay at zero in a server */
    assert_int_equal(t->remote.s_addr, 0);
    assert_int_equal(t->client_plen, 0);
    conf_free(c);
}

/* A tunnel-broker server with every key written. */
static void test_tunnel_server_full(void **state)
{
    static const char text[] = "tunnel tb0 {\n"                                            /* 1 */
                               "  type = 6in4\n"                                           /* 2 */
                               "  mode = server\n"                                         /* 3 */
                               "  local = 192.0.2.1\n"                                     /* 4 */
                               "  ttl = 255\n"                                             /* 5 */
                               "  mtu = 1400\n"                                            /* 6 */
                               "  mtu-discovery = dynamic\n"                               /* 7 */
                               "  kernel = no\n"                                           /* 8 */
                               "  client home {\n"                                         /* 9 */
                               "    remote = 203.0.113.2\n"                                /* 10 */
                               "    client-address = \"2001:db8:9:1::2/64\"\n"             /* 11 */
                               "    server-address = 2001:db8:9:1::1\n"                    /* 12 */
                               "    routed-prefixes = { \"2001:db8:9:10::/64\",\n"         /* 13 */
                               "                        \"2001:db8:a::/48\" }\n"           /* 14 */
                               "    mtu = 1400\n"                                          /* 15 */
                               "  }\n"                                                     /* 16 */
                               "  client office {\n"                                       /* 17 */
                               "    remote = 198.51.100.20\n"                              /* 18 */
                               "    client-address = \"2001:db8:9:2::1/127\"\n"            /* 19 */
                               "    routed-prefixes = { \"2001:db8:9:20::/60\" }\n"        /* 20 */
                               "    mtu = 1280\n"                                          /* 21 */
                               "  }\n"                                                     /* 22 */
                               "}\n"                                                       /* 23 */
                               "proxy eth0 {\n"                                            /* 24 */
                               "  rule 2001:db8:9::/48 { method = tunnel tunnel = tb0 }\n" /* 25 */
                               "}\n";
    char a[E6_ADDRSTRLEN], b[INET_ADDRSTRLEN], p[E6_PREFIXSTRLEN];
    const struct conf_tunnel *t;
    const struct conf_tunnel_client *cl;
    struct conf *c = load_ok(text);

    (void)state;
    t = conf_find_tunnel(c, "tb0");
    assert_non_null(t);
    assert_int_equal(t->line, 1);
    assert_int_equal(t->mode, CONF_TUN_SERVER);
    assert_string_equal(v4(&t->local, b), "192.0.2.1");
    assert_int_equal(t->ttl, 255);
    assert_int_equal(t->mtu, 1400);
    assert_int_equal(t->pmtu, CONF_PMTU_DYNAMIC);
    assert_int_equal(t->kernel, CONF_TRI_OFF);
    assert_int_equal(t->n_clients, 2);
    cl = &t->clients[0];
    assert_string_equal(cl->name, "home");
    assert_int_equal(cl->line, 9);
    assert_string_equal(v4(&cl->remote, b), "203.0.113.2");
    assert_string_equal(v6(&cl->client_address, a), "2001:db8:9:1::2");
    assert_int_equal(cl->client_plen, 64);
    assert_string_equal(v6(&cl->server_address, a), "2001:db8:9:1::1");
    assert_int_equal(cl->n_routed, 2);
    assert_string_equal(pfx(&cl->routed[0], p), "2001:db8:9:10::/64");
    assert_string_equal(pfx(&cl->routed[1], p), "2001:db8:a::/48");
    assert_int_equal(cl->mtu, 1400);
    cl = &t->clients[1];
    assert_string_equal(cl->name, "office");
    assert_int_equal(cl->line, 17);
    assert_string_equal(v4(&cl->remote, b), "198.51.100.20");
    assert_string_equal(v6(&cl->client_address, a), "2001:db8:9:2::1");
    assert_int_equal(cl->client_plen, 127);
    assert_string_equal(v6(&cl->server_address, a), "2001:db8:9:2::");
    assert_int_equal(cl->n_routed, 1);
    assert_string_equal(pfx(&cl->routed[0], p), "2001:db8:9:20::/60");
    assert_int_equal(cl->mtu, 1280);
    assert_int_equal(c->proxies[0].rules[0].method, CONF_PROXY_TUNNEL);
    conf_free(c);
}

/* The home router's end with every key written. */
static void test_tunnel_client_full(void **state)
{
    char a[E6_ADDRSTRLEN], b[INET_ADDRSTRLEN];
    const struct conf_tunnel *t;
    struct conf *c;

    (void)state;
    c = load_ok("tunnel he-ipv6 {\n"
                "  type = 6in4\n"
                "  mode = client\n"
                "  local = 203.0.113.2\n"
                "  remote = 192.0.2.1\n"
                "  ttl = 1\n"
                "  mtu = 1280\n"
                "  mtu-discovery = static\n"
                "  kernel = yes\n"
                "  client-address = \"2001:db8:9:1::2/64\"\n"
                "  server-address = 2001:db8:9:1::ff\n"
                "  default-route = no\n"
                "}\n"
                "interface lan0 { prefix 2001:db8:9:10::/64 { } }\n");
    t = conf_find_tunnel(c, "he-ipv6");
    assert_non_null(t);
    assert_int_equal(t->mode, CONF_TUN_CLIENT);
    assert_string_equal(v4(&t->local, b), "203.0.113.2");
    assert_string_equal(v4(&t->remote, b), "192.0.2.1");
    assert_int_equal(t->ttl, 1);
    assert_int_equal(t->mtu, 1280);
    assert_int_equal(t->pmtu, CONF_PMTU_STATIC);
    assert_int_equal(t->kernel, CONF_TRI_ON);
    assert_string_equal(v6(&t->client_address, a), "2001:db8:9:1::2");
    assert_string_equal(v6(&t->server_address, a), "2001:db8:9:1::ff");
    assert_false(t->default_route);
    conf_free(c);
}

/* A client routes at most 256 prefixes. */
static void test_tunnel_routed_count(void **state)
{
    size_t len = 256 * 32 + 512;
    char *text = malloc(len), *o;
    struct conf *c;

    (void)state;
    assert_non_null(text);
    for (int n = 256; n <= 257; n++) {
        o = text + sprintf(text, "tunnel t0 { type = 6in4 mode = server local = 192.0.2.1\n"
                                 "client a { remote = 198.51.100.1 client-address = "
                                 "\"2001:db8:9:1::2/64\"\nrouted-prefixes = { ");
        for (int i = 0; i < n; i++)
            o += sprintf(o, "%s\"2001:db8:%x::/48\"", i ? ", " : "", 0x1000 + i);
        sprintf(o, " } } }\n");
        if (n == 256) {
            c = load_ok(text);
            assert_int_equal(c->tunnels[0].clients[0].n_routed, 256);
            conf_free(c);
        } else {
            expect(text, "t.conf:3: routed-prefixes has 257 entries (expected 1 to 256)", NULL);
        }
    }
    free(text);
}

static void test_tunnel_bounds(void **state)
{
    (void)state;
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = client\n"
           "  local = 192.0.2.1\n"
           "  remote = 198.51.100.1\n"
           "  client-address = \"2001:db8:9:1::2/64\"\n"
           "  ttl = 0\n"
           "}\n",
           "t.conf:7: ttl 0 is below 1 (RFC 4213 3.3)", NULL);
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = client\n"
           "  local = 192.0.2.1\n"
           "  remote = 198.51.100.1\n"
           "  client-address = \"2001:db8:9:1::2/64\"\n"
           "  ttl = 256\n"
           "}\n",
           "t.conf:7: ttl 256 is above 255 (RFC 4213 3.3)", NULL);
    conf_free(load_ok("tunnel t0 {\n"
                      "  type = 6in4\n"
                      "  mode = client\n"
                      "  local = 192.0.2.1\n"
                      "  remote = 198.51.100.1\n"
                      "  client-address = \"2001:db8:9:1::2/64\"\n"
                      "  ttl = 1\n"
                      "}\n"));
    conf_free(load_ok("tunnel t0 {\n"
                      "  type = 6in4\n"
                      "  mode = client\n"
                      "  local = 192.0.2.1\n"
                      "  remote = 198.51.100.1\n"
                      "  client-address = \"2001:db8:9:1::2/64\"\n"
                      "  ttl = 255\n"
                      "}\n"));
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = client\n"
           "  local = 192.0.2.1\n"
           "  remote = 198.51.100.1\n"
           "  client-address = \"2001:db8:9:1::2/64\"\n"
           "  ttl = x\n"
           "}\n",
           "t.conf:7: ttl \"x\" is not a number (expected 1 to 255)", NULL);
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = client\n"
           "  local = 192.0.2.1\n"
           "  remote = 198.51.100.1\n"
           "  client-address = \"2001:db8:9:1::2/64\"\n"
           "  mtu = 1279\n"
           "}\n",
           "t.conf:7: mtu 1279 is below 1280 (RFC 8200 5, RFC 4213 3.2)", NULL);
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = client\n"
           "  local = 192.0.2.1\n"
           "  remote = 198.51.100.1\n"
           "  client-address = \"2001:db8:9:1::2/64\"\n"
           "  mtu = 1481\n"
           "}\n",
           "t.conf:7: mtu 1481 is above 1480 (RFC 8200 5, RFC 4213 3.2)", NULL);
    conf_free(load_ok("tunnel t0 {\n"
                      "  type = 6in4\n"
                      "  mode = client\n"
                      "  local = 192.0.2.1\n"
                      "  remote = 198.51.100.1\n"
                      "  client-address = \"2001:db8:9:1::2/64\"\n"
                      "  mtu = 1280\n"
                      "}\n"));
    conf_free(load_ok("tunnel t0 {\n"
                      "  type = 6in4\n"
                      "  mode = client\n"
                      "  local = 192.0.2.1\n"
                      "  remote = 198.51.100.1\n"
                      "  client-address = \"2001:db8:9:1::2/64\"\n"
                      "  mtu = 1480\n"
                      "}\n"));
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = server\n"
           "  local = 192.0.2.1\n"
           "  client a {\n"
           "    remote = 198.51.100.1\n"
           "    client-address = \"2001:db8:9:1::2/64\"\n"
           "    mtu = 1279\n"
           "  }\n"
           "}\n",
           "t.conf:8: mtu 1279 is below 1280 (RFC 8200 5, RFC 4213 3.2)", NULL);
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = server\n"
           "  local = 192.0.2.1\n"
           "  client a {\n"
           "    remote = 198.51.100.1\n"
           "    client-address = \"2001:db8:9:1::2/64\"\n"
           "    mtu = 1481\n"
           "  }\n"
           "}\n",
           "t.conf:8: mtu 1481 is above 1480 (RFC 8200 5, RFC 4213 3.2)", NULL);
    conf_free(load_ok("tunnel t0 {\n"
                      "  type = 6in4\n"
                      "  mode = server\n"
                      "  local = 192.0.2.1\n"
                      "  client a {\n"
                      "    remote = 198.51.100.1\n"
                      "    client-address = \"2001:db8:9:1::2/64\"\n"
                      "    mtu = 1280\n"
                      "  }\n"
                      "}\n"));
    conf_free(load_ok("tunnel t0 {\n"
                      "  type = 6in4\n"
                      "  mode = server\n"
                      "  local = 192.0.2.1\n"
                      "  client a {\n"
                      "    remote = 198.51.100.1\n"
                      "    client-address = \"2001:db8:9:1::2/64\"\n"
                      "    mtu = 1480\n"
                      "  }\n"
                      "}\n"));
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = server\n"
           "  local = 192.0.2.1\n"
           "  mtu = 1400\n"
           "  client a {\n"
           "    remote = 198.51.100.1\n"
           "    client-address = \"2001:db8:9:1::2/64\"\n"
           "    mtu = 1401\n"
           "  }\n"
           "}\n",
           "t.conf:9: client \"a\": mtu 1401 is above the tunnel's mtu 1400 (expected 1280 to "
           "1400: the client's packets go through the tunnel's interface, RFC 4213 3.2)",
           NULL);
    conf_free(load_ok("tunnel t0 {\n"
                      "  type = 6in4\n"
                      "  mode = server\n"
                      "  local = 192.0.2.1\n"
                      "  mtu = 1400\n"
                      "  client a {\n"
                      "    remote = 198.51.100.1\n"
                      "    client-address = \"2001:db8:9:1::2/64\"\n"
                      "    mtu = 1400\n"
                      "  }\n"
                      "}\n"));
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = client\n"
           "  local = 192.0.2.1\n"
           "  remote = 198.51.100.1\n"
           "  client-address = \"2001:db8:9:1::2/63\"\n"
           "}\n",
           "t.conf:6: client-address \"2001:db8:9:1::2/63\": length 63 is below 64 (a /64 as "
           "tunnel brokers give, or a /127, RFC 6164)",
           NULL);
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = client\n"
           "  local = 192.0.2.1\n"
           "  remote = 198.51.100.1\n"
           "  client-address = \"2001:db8:9:1::2/128\"\n"
           "}\n",
           "t.conf:6: client-address \"2001:db8:9:1::2/128\": length 128 is above 127 (a /64 as "
           "tunnel brokers give, or a /127, RFC 6164)",
           NULL);
    conf_free(load_ok("tunnel t0 {\n"
                      "  type = 6in4\n"
                      "  mode = client\n"
                      "  local = 192.0.2.1\n"
                      "  remote = 198.51.100.1\n"
                      "  client-address = \"2001:db8:9:1::2/127\"\n"
                      "}\n"));
    conf_free(load_ok("tunnel t0 {\n"
                      "  type = 6in4\n"
                      "  mode = client\n"
                      "  local = 192.0.2.1\n"
                      "  remote = 198.51.100.1\n"
                      "  client-address = \"2001:db8:9:1::2/126\"\n"
                      "}\n"));
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = server\n"
           "  local = 192.0.2.1\n"
           "  client a {\n"
           "    remote = 198.51.100.1\n"
           "    client-address = \"2001:db8:9:1::2/64\"\n"
           "    routed-prefixes = { \"2001:db8:9:10::/65\" }\n"
           "  }\n"
           "}\n",
           "t.conf:8: routed-prefixes \"2001:db8:9:10::/65\": /65 is longer than /64 (expected a "
           "/64 or a shorter prefix: hosts behind the client form their addresses in a /64, RFC "
           "4862 5.5.3, RFC 7421)",
           NULL);
    conf_free(load_ok("tunnel t0 {\n"
                      "  type = 6in4\n"
                      "  mode = server\n"
                      "  local = 192.0.2.1\n"
                      "  client a {\n"
                      "    remote = 198.51.100.1\n"
                      "    client-address = \"2001:db8:9:1::2/64\"\n"
                      "    routed-prefixes = { \"2001:db8:9:10::/64\", \"2001:db8:a::/48\", "
                      "\"2001:db8:8000::/33\" }\n"
                      "  }\n"
                      "}\n"));
}

static void test_tunnel_words(void **state)
{
    (void)state;
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = broker\n"
           "  local = 192.0.2.1\n"
           "  remote = 198.51.100.1\n"
           "  client-address = \"2001:db8:9:1::2/64\"\n"
           "}\n",
           "t.conf:3: mode \"broker\" is not one of server, client, router, peer", NULL);
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = client\n"
           "  local = 192.0.2.1\n"
           "  remote = 198.51.100.1\n"
           "  client-address = \"2001:db8:9:1::2/64\"\n"
           "  mtu-discovery = auto\n"
           "}\n",
           "t.conf:7: mtu-discovery \"auto\" is not one of static, dynamic", NULL);
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = client\n"
           "  local = 192.0.2.1\n"
           "  remote = 198.51.100.1\n"
           "  client-address = \"2001:db8:9:1::2/64\"\n"
           "  kernel = maybe\n"
           "}\n",
           "t.conf:7: kernel \"maybe\" is not auto, yes or no (nor true/false, on/off)", NULL);
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = client\n"
           "  local = 192.0.2.1\n"
           "  remote = 198.51.100.1\n"
           "  client-address = \"2001:db8:9:1::2/64\"\n"
           "  default-route = sometimes\n"
           "}\n",
           "t.conf:7: default-route \"sometimes\" is not yes or no (nor true/false, on/off)", NULL);
    expect("tunnel t0 {\n"
           "  type = sit\n"
           "  mode = client\n"
           "  local = 192.0.2.1\n"
           "  remote = 198.51.100.1\n"
           "  client-address = \"2001:db8:9:1::2/64\"\n"
           "}\n",
           "t.conf:2: type \"sit\" is not one of 6in4, 6bed4", NULL);
}

static void test_tunnel_ipv4(void **state)
{
    (void)state;
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = client\n"
           "  local = 0.0.0.0\n"
           "  remote = 198.51.100.1\n"
           "  client-address = \"2001:db8:9:1::2/64\"\n"
           "}\n",
           "t.conf:4: local \"0.0.0.0\" is in 0.0.0.0/8, \"this network\", which no packet is sent "
           "to or from (expected a unicast address, RFC 1122 3.2.1.3)",
           NULL);
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = client\n"
           "  local = 0.1.2.3\n"
           "  remote = 198.51.100.1\n"
           "  client-address = \"2001:db8:9:1::2/64\"\n"
           "}\n",
           "t.conf:4: local \"0.1.2.3\" is in 0.0.0.0/8, \"this network\", which no packet is sent "
           "to or from (expected a unicast address, RFC 1122 3.2.1.3)",
           NULL);
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = client\n"
           "  local = 127.0.0.1\n"
           "  remote = 198.51.100.1\n"
           "  client-address = \"2001:db8:9:1::2/64\"\n"
           "}\n",
           "t.conf:4: local \"127.0.0.1\" is loopback, in 127.0.0.0/8: the tunnel's packets would "
           "never leave this box (expected a unicast address, RFC 1122 3.2.1.3)",
           NULL);
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = client\n"
           "  local = 224.0.0.1\n"
           "  remote = 198.51.100.1\n"
           "  client-address = \"2001:db8:9:1::2/64\"\n"
           "}\n",
           "t.conf:4: local \"224.0.0.1\" is multicast, in 224.0.0.0/4 (expected a unicast "
           "address, RFC 5771)",
           NULL);
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = client\n"
           "  local = 239.255.255.255\n"
           "  remote = 198.51.100.1\n"
           "  client-address = \"2001:db8:9:1::2/64\"\n"
           "}\n",
           "t.conf:4: local \"239.255.255.255\" is multicast, in 224.0.0.0/4 (expected a unicast "
           "address, RFC 5771)",
           NULL);
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = client\n"
           "  local = 240.0.0.1\n"
           "  remote = 198.51.100.1\n"
           "  client-address = \"2001:db8:9:1::2/64\"\n"
           "}\n",
           "t.conf:4: local \"240.0.0.1\" is reserved, in 240.0.0.0/4 (expected a unicast address, "
           "RFC 1112 4)",
           NULL);
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = client\n"
           "  local = 255.255.255.255\n"
           "  remote = 198.51.100.1\n"
           "  client-address = \"2001:db8:9:1::2/64\"\n"
           "}\n",
           "t.conf:4: local \"255.255.255.255\" is the limited broadcast address (expected a "
           "unicast address, RFC 919)",
           NULL);
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = client\n"
           "  local = 192.0.2.256\n"
           "  remote = 198.51.100.1\n"
           "  client-address = \"2001:db8:9:1::2/64\"\n"
           "}\n",
           "t.conf:4: local \"192.0.2.256\" is not an IPv4 address (expected four decimal numbers "
           "0 to 255 separated by \".\", like 192.0.2.1)",
           NULL);
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = client\n"
           "  local = 192.0.2.01\n"
           "  remote = 198.51.100.1\n"
           "  client-address = \"2001:db8:9:1::2/64\"\n"
           "}\n",
           "t.conf:4: local \"192.0.2.01\" is not an IPv4 address (expected four decimal numbers 0 "
           "to 255 separated by \".\", like 192.0.2.1)",
           NULL);
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = client\n"
           "  local = 1.2.3\n"
           "  remote = 198.51.100.1\n"
           "  client-address = \"2001:db8:9:1::2/64\"\n"
           "}\n",
           "t.conf:4: local \"1.2.3\" is not an IPv4 address (expected four decimal numbers 0 to "
           "255 separated by \".\", like 192.0.2.1)",
           NULL);
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = client\n"
           "  local = 192.0.2.1/32\n"
           "  remote = 198.51.100.1\n"
           "  client-address = \"2001:db8:9:1::2/64\"\n"
           "}\n",
           "t.conf:4: local \"192.0.2.1/32\" is not an IPv4 address (expected four decimal numbers "
           "0 to 255 separated by \".\", like 192.0.2.1)",
           NULL);
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = client\n"
           "  local = \"::1\"\n"
           "  remote = 198.51.100.1\n"
           "  client-address = \"2001:db8:9:1::2/64\"\n"
           "}\n",
           "t.conf:4: local \"::1\" is not an IPv4 address (expected four decimal numbers 0 to 255 "
           "separated by \".\", like 192.0.2.1)",
           NULL);
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = client\n"
           "  local = x\n"
           "  remote = 198.51.100.1\n"
           "  client-address = \"2001:db8:9:1::2/64\"\n"
           "}\n",
           "t.conf:4: local \"x\" is not an IPv4 address (expected four decimal numbers 0 to 255 "
           "separated by \".\", like 192.0.2.1)",
           NULL);
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = client\n"
           "  local = \"\"\n"
           "  remote = 198.51.100.1\n"
           "  client-address = \"2001:db8:9:1::2/64\"\n"
           "}\n",
           "t.conf:4: local \"\" is not an IPv4 address (expected four decimal numbers 0 to 255 "
           "separated by \".\", like 192.0.2.1)",
           NULL);
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = client\n"
           "  local = \" 192.0.2.1\"\n"
           "  remote = 198.51.100.1\n"
           "  client-address = \"2001:db8:9:1::2/64\"\n"
           "}\n",
           "t.conf:4: local \" 192.0.2.1\" is not an IPv4 address (expected four decimal numbers 0 "
           "to 255 separated by \".\", like 192.0.2.1)",
           NULL);
}

static void test_tunnel_addr_plen(void **state)
{
    (void)state;
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = client\n"
           "  local = 192.0.2.1\n"
           "  remote = 198.51.100.1\n"
           "  client-address = \"2001:db8:9:1::2\"\n"
           "}\n",
           "t.conf:6: client-address \"2001:db8:9:1::2\" has no /LEN (expected ADDRESS/LEN with "
           "LEN 64 to 127, like 2001:db8:9:1::2/64)",
           NULL);
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = client\n"
           "  local = 192.0.2.1\n"
           "  remote = 198.51.100.1\n"
           "  client-address = \"2001:db8:9:1::2/x\"\n"
           "}\n",
           "t.conf:6: client-address \"2001:db8:9:1::2/x\" is not ADDRESS/LEN (expected an IPv6 "
           "address, \"/\" and a length 64 to 127, like 2001:db8:9:1::2/64)",
           NULL);
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = client\n"
           "  local = 192.0.2.1\n"
           "  remote = 198.51.100.1\n"
           "  client-address = \"2001:db8:9:1::2/064\"\n"
           "}\n",
           "t.conf:6: client-address \"2001:db8:9:1::2/064\" is not ADDRESS/LEN (expected an IPv6 "
           "address, \"/\" and a length 64 to 127, like 2001:db8:9:1::2/64)",
           NULL);
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = client\n"
           "  local = 192.0.2.1\n"
           "  remote = 198.51.100.1\n"
           "  client-address = \"2001:db8:9:1::2/\"\n"
           "}\n",
           "t.conf:6: client-address \"2001:db8:9:1::2/\" is not ADDRESS/LEN (expected an IPv6 "
           "address, \"/\" and a length 64 to 127, like 2001:db8:9:1::2/64)",
           NULL);
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = client\n"
           "  local = 192.0.2.1\n"
           "  remote = 198.51.100.1\n"
           "  client-address = \"x/64\"\n"
           "}\n",
           "t.conf:6: client-address \"x/64\" is not ADDRESS/LEN (expected an IPv6 address, \"/\" "
           "and a length 64 to 127, like 2001:db8:9:1::2/64)",
           NULL);
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = client\n"
           "  local = 192.0.2.1\n"
           "  remote = 198.51.100.1\n"
           "  client-address = \"2001:db8:9:1::2%eth0/64\"\n"
           "}\n",
           "t.conf:6: client-address \"2001:db8:9:1::2%eth0/64\" is not ADDRESS/LEN (expected an "
           "IPv6 address, \"/\" and a length 64 to 127, like 2001:db8:9:1::2/64)",
           NULL);
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = client\n"
           "  local = 192.0.2.1\n"
           "  remote = 198.51.100.1\n"
           "  client-address = \"2001:db8:9:1::/64\"\n"
           "}\n",
           "t.conf:6: client-address \"2001:db8:9:1::/64\" has no host bits: it is the prefix "
           "itself, the Subnet-Router anycast address (expected an address of the link, like "
           "2001:db8:9:1::2/64, RFC 4291 2.6.1)",
           NULL);
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = client\n"
           "  local = 192.0.2.1\n"
           "  remote = 198.51.100.1\n"
           "  client-address = \"2001:db8:9:1::4/126\"\n"
           "}\n",
           "t.conf:6: client-address \"2001:db8:9:1::4/126\" has no host bits: it is the prefix "
           "itself, the Subnet-Router anycast address (expected an address of the link, like "
           "2001:db8:9:1::6/126, RFC 4291 2.6.1)",
           NULL);
    conf_free(load_ok("tunnel t0 {\n"
                      "  type = 6in4\n"
                      "  mode = client\n"
                      "  local = 192.0.2.1\n"
                      "  remote = 198.51.100.1\n"
                      "  client-address = \"2001:db8:9:1::/127\"\n"
                      "}\n"));
    expect(
        "tunnel t0 {\n"
        "  type = 6in4\n"
        "  mode = client\n"
        "  local = 192.0.2.1\n"
        "  remote = 198.51.100.1\n"
        "  client-address = \"fe80::2/64\"\n"
        "}\n",
        "t.conf:6: client-address \"fe80::2/64\" is link-local, in fe80::/10: the tunnel forms its "
        "own, this one must be routable (expected a global or unique-local address, RFC 4213 3.7)",
        NULL);
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = client\n"
           "  local = 192.0.2.1\n"
           "  remote = 198.51.100.1\n"
           "  client-address = \"ff02::2/64\"\n"
           "}\n",
           "t.conf:6: client-address \"ff02::2/64\" is multicast, in ff00::/8 (expected a global "
           "or unique-local address, RFC 4291 2.7)",
           NULL);
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = client\n"
           "  local = 192.0.2.1\n"
           "  remote = 198.51.100.1\n"
           "  client-address = \"::1/64\"\n"
           "}\n",
           "t.conf:6: client-address \"::1/64\" is the loopback address (expected a global or "
           "unique-local address, RFC 4291 2.5.3)",
           NULL);
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = client\n"
           "  local = 192.0.2.1\n"
           "  remote = 198.51.100.1\n"
           "  client-address = \"::/64\"\n"
           "}\n",
           "t.conf:6: client-address \"::/64\" is the unspecified address (expected a global or "
           "unique-local address, RFC 4291 2.5.2)",
           NULL);
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = client\n"
           "  local = 192.0.2.1\n"
           "  remote = 198.51.100.1\n"
           "  client-address = \"/64\"\n"
           "}\n",
           "t.conf:6: client-address \"/64\" is not ADDRESS/LEN (expected an IPv6 address, \"/\" "
           "and a length 64 to 127, like 2001:db8:9:1::2/64)",
           NULL);
}

static void test_tunnel_server_address_kind(void **state)
{
    (void)state;
    expect(
        "tunnel t0 {\n"
        "  type = 6in4\n"
        "  mode = client\n"
        "  local = 192.0.2.1\n"
        "  remote = 198.51.100.1\n"
        "  client-address = \"2001:db8:9:1::2/64\"\n"
        "  server-address = fe80::1\n"
        "}\n",
        "t.conf:7: server-address \"fe80::1\" is link-local, in fe80::/10: the tunnel forms its "
        "own, this one must be routable (expected a global or unique-local address, RFC 4213 3.7)",
        NULL);
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = client\n"
           "  local = 192.0.2.1\n"
           "  remote = 198.51.100.1\n"
           "  client-address = \"2001:db8:9:1::2/64\"\n"
           "  server-address = ff02::1\n"
           "}\n",
           "t.conf:7: server-address \"ff02::1\" is multicast, in ff00::/8 (expected a global or "
           "unique-local address, RFC 4291 2.7)",
           NULL);
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = client\n"
           "  local = 192.0.2.1\n"
           "  remote = 198.51.100.1\n"
           "  client-address = \"2001:db8:9:1::2/64\"\n"
           "  server-address = ::1\n"
           "}\n",
           "t.conf:7: server-address \"::1\" is the loopback address (expected a global or "
           "unique-local address, RFC 4291 2.5.3)",
           NULL);
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = client\n"
           "  local = 192.0.2.1\n"
           "  remote = 198.51.100.1\n"
           "  client-address = \"2001:db8:9:1::2/64\"\n"
           "  server-address = ::\n"
           "}\n",
           "t.conf:7: server-address \"::\" is the unspecified address (expected a global or "
           "unique-local address, RFC 4291 2.5.2)",
           NULL);
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = client\n"
           "  local = 192.0.2.1\n"
           "  remote = 198.51.100.1\n"
           "  client-address = \"2001:db8:9:1::2/64\"\n"
           "  server-address = \"2001:db8:9:1::1/64\"\n"
           "}\n",
           "t.conf:7: server-address \"2001:db8:9:1::1/64\" is not an IPv6 address (expected one "
           "like 2001:db8:9:1::1)",
           NULL);
    expect(
        "tunnel t0 {\n"
        "  type = 6in4\n"
        "  mode = client\n"
        "  local = 192.0.2.1\n"
        "  remote = 198.51.100.1\n"
        "  client-address = \"2001:db8:9:1::2/64\"\n"
        "  server-address = x\n"
        "}\n",
        "t.conf:7: server-address \"x\" is not an IPv6 address (expected one like 2001:db8:9:1::1)",
        NULL);
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = client\n"
           "  local = 192.0.2.1\n"
           "  remote = 198.51.100.1\n"
           "  client-address = \"2001:db8:9:1::2/64\"\n"
           "  server-address = \"2001:db8:9:1::1 \"\n"
           "}\n",
           "t.conf:7: server-address \"2001:db8:9:1::1 \" is not an IPv6 address (expected one "
           "like 2001:db8:9:1::1)",
           NULL);
}

static void test_tunnel_prefix_list(void **state)
{
    (void)state;
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = server\n"
           "  local = 192.0.2.1\n"
           "  client a {\n"
           "    remote = 198.51.100.1\n"
           "    client-address = \"2001:db8:9:1::2/64\"\n"
           "    routed-prefixes = { \"2001:db8:9:10::1/64\" }\n"
           "  }\n"
           "}\n",
           "t.conf:8: routed-prefixes \"2001:db8:9:10::1/64\": host bits set beyond /64; did you "
           "mean 2001:db8:9:10::/64?",
           NULL);
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = server\n"
           "  local = 192.0.2.1\n"
           "  client a {\n"
           "    remote = 198.51.100.1\n"
           "    client-address = \"2001:db8:9:1::2/64\"\n"
           "    routed-prefixes = { \"2001:db8:9:10::\" }\n"
           "  }\n"
           "}\n",
           "t.conf:8: routed-prefixes \"2001:db8:9:10::\": '2001:db8:9:10::' has no prefix length "
           "(write ADDR/LEN, e.g. 2001:db8::/64)",
           NULL);
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = server\n"
           "  local = 192.0.2.1\n"
           "  client a {\n"
           "    remote = 198.51.100.1\n"
           "    client-address = \"2001:db8:9:1::2/64\"\n"
           "    routed-prefixes = { \"ff00::/8\" }\n"
           "  }\n"
           "}\n",
           "t.conf:8: routed-prefixes \"ff00::/8\" overlaps multicast ff00::/8 (expected a unicast "
           "prefix, RFC 4291 2.7)",
           NULL);
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = server\n"
           "  local = 192.0.2.1\n"
           "  client a {\n"
           "    remote = 198.51.100.1\n"
           "    client-address = \"2001:db8:9:1::2/64\"\n"
           "    routed-prefixes = { \"ff02::/16\" }\n"
           "  }\n"
           "}\n",
           "t.conf:8: routed-prefixes \"ff02::/16\" overlaps multicast ff00::/8 (expected a "
           "unicast prefix, RFC 4291 2.7)",
           NULL);
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = server\n"
           "  local = 192.0.2.1\n"
           "  client a {\n"
           "    remote = 198.51.100.1\n"
           "    client-address = \"2001:db8:9:1::2/64\"\n"
           "    routed-prefixes = { \"fe80::/64\" }\n"
           "  }\n"
           "}\n",
           "t.conf:8: routed-prefixes \"fe80::/64\" overlaps link-local fe80::/10, which is never "
           "routed (expected a global or unique-local prefix, RFC 4291 2.5.6)",
           NULL);
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = server\n"
           "  local = 192.0.2.1\n"
           "  client a {\n"
           "    remote = 198.51.100.1\n"
           "    client-address = \"2001:db8:9:1::2/64\"\n"
           "    routed-prefixes = { \"fe00::/7\" }\n"
           "  }\n"
           "}\n",
           "t.conf:8: routed-prefixes \"fe00::/7\" overlaps multicast ff00::/8 (expected a unicast "
           "prefix, RFC 4291 2.7)",
           NULL);
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = server\n"
           "  local = 192.0.2.1\n"
           "  client a {\n"
           "    remote = 198.51.100.1\n"
           "    client-address = \"2001:db8:9:1::2/64\"\n"
           "    routed-prefixes = { \"::/0\" }\n"
           "  }\n"
           "}\n",
           "t.conf:8: routed-prefixes \"::/0\" overlaps multicast ff00::/8 (expected a unicast "
           "prefix, RFC 4291 2.7)",
           NULL);
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = server\n"
           "  local = 192.0.2.1\n"
           "  client a {\n"
           "    remote = 198.51.100.1\n"
           "    client-address = \"2001:db8:9:1::2/64\"\n"
           "    routed-prefixes = { \"2001:db8:9:10::/64\", \"2001:db8:9:10::/64\" }\n"
           "  }\n"
           "}\n",
           "t.conf:8: routed-prefixes lists \"2001:db8:9:10::/64\" and \"2001:db8:9:10::/64\", "
           "which overlap (expected disjoint prefixes)",
           NULL);
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = server\n"
           "  local = 192.0.2.1\n"
           "  client a {\n"
           "    remote = 198.51.100.1\n"
           "    client-address = \"2001:db8:9:1::2/64\"\n"
           "    routed-prefixes = { \"2001:db8:9::/48\", \"2001:db8:9:10::/64\" }\n"
           "  }\n"
           "}\n",
           "t.conf:8: routed-prefixes lists \"2001:db8:9::/48\" and \"2001:db8:9:10::/64\", which "
           "overlap (expected disjoint prefixes)",
           NULL);
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = server\n"
           "  local = 192.0.2.1\n"
           "  client a {\n"
           "    remote = 198.51.100.1\n"
           "    client-address = \"2001:db8:9:1::2/64\"\n"
           "    routed-prefixes = { \"x\" }\n"
           "  }\n"
           "}\n",
           "t.conf:8: routed-prefixes \"x\": 'x' has no prefix length (write ADDR/LEN, e.g. "
           "2001:db8::/64)",
           NULL);
    conf_free(load_ok("tunnel t0 {\n"
                      "  type = 6in4\n"
                      "  mode = server\n"
                      "  local = 192.0.2.1\n"
                      "  client a {\n"
                      "    remote = 198.51.100.1\n"
                      "    client-address = \"2001:db8:9:1::2/64\"\n"
                      "    routed-prefixes = \"2001:db8:9:10::/64\"\n"
                      "  }\n"
                      "}\n"));
}

static void test_tunnel_mode_keys(void **state)
{
    (void)state;
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "}\n",
           "t.conf:1: tunnel \"t0\" has no mode (a 6in4 tunnel needs it: expected mode = server or "
           "client)",
           "t.conf:1: tunnel \"t0\" has no local (a 6in4 tunnel needs it: expected local = "
           "IPV4-ADDRESS, this box's end of the tunnel)",
           NULL);
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = client\n"
           "}\n",
           "t.conf:1: tunnel \"t0\" has no local (a 6in4 tunnel needs it: expected local = "
           "IPV4-ADDRESS, this box's end of the tunnel)",
           "t.conf:1: tunnel \"t0\" has no remote (mode = client needs it: expected remote = "
           "IPV4-ADDRESS, the server's)",
           "t.conf:1: tunnel \"t0\" has no client-address (mode = client needs it: expected "
           "client-address = ADDRESS/LEN, this box's end of the link)",
           NULL);
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = server\n"
           "  local = 192.0.2.1\n"
           "  remote = 198.51.100.9\n"
           "  client-address = \"2001:db8:7::2/64\"\n"
           "  server-address = 2001:db8:7::1\n"
           "  default-route = no\n"
           "  client a {\n"
           "    remote = 198.51.100.1\n"
           "    client-address = \"2001:db8:9:1::2/64\"\n"
           "  }\n"
           "}\n",
           "t.conf:5: tunnel \"t0\": remote goes only with mode = client, not with mode = server "
           "(expected it in each client block, not in the tunnel)",
           "t.conf:6: tunnel \"t0\": client-address goes only with mode = client, not with mode = "
           "server (expected it in each client block, not in the tunnel)",
           "t.conf:7: tunnel \"t0\": server-address goes only with mode = client, not with mode = "
           "server (expected it in each client block, not in the tunnel)",
           "t.conf:8: tunnel \"t0\": default-route goes only with mode = client, not with mode = "
           "server (expected no default-route here: a server routes each client's routed-prefixes "
           "to it)",
           NULL);
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = server\n"
           "  local = 192.0.2.1\n"
           "}\n",
           "t.conf:1: tunnel \"t0\": a 6in4 server needs at least one client (expected client NAME "
           "{ remote = IPV4-ADDRESS  client-address = ADDRESS/LEN })",
           NULL);
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = client\n"
           "  local = 192.0.2.1\n"
           "  remote = 198.51.100.1\n"
           "  client-address = \"2001:db8:9:1::2/64\"\n"
           "  client a {\n"
           "    remote = 198.51.100.2\n"
           "    client-address = \"2001:db8:9:2::2/64\"\n"
           "  }\n"
           "}\n",
           "t.conf:7: tunnel \"t0\": client \"a\": client blocks go only with mode = server, not "
           "with mode = client (expected the server's address in remote)",
           NULL);
    expect("tunnel t0 {\n"
           "  type = 6bed4\n"
           "  mode = server\n"
           "  local = 192.0.2.1\n"
           "  ttl = 9\n"
           "  mtu = 1400\n"
           "  mtu-discovery = dynamic\n"
           "  kernel = no\n"
           "  remote = 198.51.100.1\n"
           "  client-address = \"2001:db8:9:1::2/64\"\n"
           "  server-address = 2001:db8:9:1::1\n"
           "  default-route = no\n"
           "  client a {\n"
           "    remote = 198.51.100.2\n"
           "    client-address = \"2001:db8:9:2::2/64\"\n"
           "  }\n"
           "}\n",
           "t.conf:3: tunnel \"t0\": mode = server is a 6in4 mode (expected mode = router or "
           "peer in a 6bed4 tunnel)",
           "t.conf:6: tunnel \"t0\": mtu 1400: a 6bed4 tunnel's MTU is 1280, the only one 6bed4 "
           "routers and peers use (expected mtu = 1280 or no mtu, draft-vanrein-6bed4)",
           "t.conf:7: tunnel \"t0\": mtu-discovery is a 6in4 setting (expected no mtu-discovery "
           "in a 6bed4 tunnel)",
           "t.conf:8: tunnel \"t0\": kernel is a 6in4 setting (expected no kernel in a 6bed4 "
           "tunnel)",
           "t.conf:9: tunnel \"t0\": remote is a 6in4 setting (expected no remote in a 6bed4 "
           "tunnel)",
           "t.conf:10: tunnel \"t0\": client-address is a 6in4 setting (expected no "
           "client-address in a 6bed4 tunnel)",
           "t.conf:11: tunnel \"t0\": server-address is a 6in4 setting (expected no "
           "server-address in a 6bed4 tunnel)",
           "t.conf:13: tunnel \"t0\": client \"a\": client blocks go only in a 6in4 tunnel with "
           "mode = server (expected none in a 6bed4 tunnel)",
           NULL);
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = server\n"
           "  local = 192.0.2.1\n"
           "  client a {\n"
           "  }\n"
           "}\n",
           "t.conf:5: client \"a\" has no remote (expected remote = IPV4-ADDRESS)",
           "t.conf:5: client \"a\" has no client-address (expected client-address = ADDRESS/LEN)",
           NULL);
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = server\n"
           "  local = 192.0.2.1\n"
           "  client \"a b\" {\n"
           "    remote = 198.51.100.2\n"
           "    client-address = \"2001:db8:9:2::2/64\"\n"
           "  }\n"
           "}\n",
           "t.conf:5: client name \"a b\" is not a valid interface name (1 to 15 characters, none "
           "of \"/\", \":\", \"%\", spaces or control characters, not \".\" or \"..\")",
           NULL);
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = server\n"
           "  local = 192.0.2.1\n"
           "  client a {\n"
           "    remote = 198.51.100.2\n"
           "    client-address = \"2001:db8:9:2::2/64\"\n"
           "  }\n"
           "  client a {\n"
           "    remote = 198.51.100.3\n"
           "    client-address = \"2001:db8:9:3::2/64\"\n"
           "  }\n"
           "}\n",
           "t.conf:9: duplicate client \"a\" in tunnel \"t0\" (first at line 5)", NULL);
}

static void test_tunnel_link(void **state)
{
    (void)state;
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = client\n"
           "  local = 192.0.2.1\n"
           "  remote = 198.51.100.1\n"
           "  client-address = \"2001:db8:9:1::2/64\"\n"
           "  server-address = 2001:db8:9:2::1\n"
           "}\n",
           "t.conf:7: tunnel \"t0\": server-address 2001:db8:9:2::1 is outside client-address's "
           "prefix 2001:db8:9:1::/64 (expected an address of the link between server and client)",
           NULL);
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = client\n"
           "  local = 192.0.2.1\n"
           "  remote = 198.51.100.1\n"
           "  client-address = \"2001:db8:9:1::2/64\"\n"
           "  server-address = 2001:db8:9:1::2\n"
           "}\n",
           "t.conf:7: tunnel \"t0\": server-address 2001:db8:9:1::2 is client-address itself "
           "(expected the server's end of the link 2001:db8:9:1::/64)",
           NULL);
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = client\n"
           "  local = 192.0.2.1\n"
           "  remote = 198.51.100.1\n"
           "  client-address = \"2001:db8:9:1::2/64\"\n"
           "  server-address = 2001:db8:9:1::\n"
           "}\n",
           "t.conf:7: tunnel \"t0\": server-address 2001:db8:9:1:: is the prefix itself, the "
           "Subnet-Router anycast address (expected an address with host bits in "
           "2001:db8:9:1::/64, RFC 4291 2.6.1)",
           NULL);
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = client\n"
           "  local = 192.0.2.1\n"
           "  remote = 198.51.100.1\n"
           "  client-address = \"2001:db8:9:1::1/64\"\n"
           "}\n",
           "t.conf:6: tunnel \"t0\": client-address 2001:db8:9:1::1/64 is the server's by default "
           "(::1 of the prefix: expected the client's own address, like 2001:db8:9:1::2/64, or set "
           "server-address)",
           NULL);
    conf_free(load_ok("tunnel t0 {\n"
                      "  type = 6in4\n"
                      "  mode = client\n"
                      "  local = 192.0.2.1\n"
                      "  remote = 198.51.100.1\n"
                      "  client-address = \"2001:db8:9:1::1/64\"\n"
                      "  server-address = 2001:db8:9:1::2\n"
                      "}\n"));
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = server\n"
           "  local = 192.0.2.1\n"
           "  client a {\n"
           "    remote = 198.51.100.1\n"
           "    client-address = \"2001:db8:9:1::2/64\"\n"
           "    server-address = 2001:db8:9:2::1\n"
           "  }\n"
           "}\n",
           "t.conf:8: client \"a\": server-address 2001:db8:9:2::1 is outside client-address's "
           "prefix 2001:db8:9:1::/64 (expected an address of the link between server and client)",
           NULL);
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = server\n"
           "  local = 192.0.2.1\n"
           "  client a {\n"
           "    remote = 198.51.100.1\n"
           "    client-address = \"2001:db8:9:1::2/64\"\n"
           "    server-address = 2001:db8:9:1::2\n"
           "  }\n"
           "}\n",
           "t.conf:8: client \"a\": server-address 2001:db8:9:1::2 is client-address itself "
           "(expected the server's end of the link 2001:db8:9:1::/64)",
           NULL);
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = server\n"
           "  local = 192.0.2.1\n"
           "  client a {\n"
           "    remote = 198.51.100.1\n"
           "    client-address = \"2001:db8:9:1::1/64\"\n"
           "  }\n"
           "}\n",
           "t.conf:7: client \"a\": client-address 2001:db8:9:1::1/64 is the server's by default "
           "(::1 of the prefix: expected the client's own address, like 2001:db8:9:1::2/64, or set "
           "server-address)",
           NULL);
    conf_free(load_ok("tunnel t0 {\n"
                      "  type = 6in4\n"
                      "  mode = client\n"
                      "  local = 192.0.2.1\n"
                      "  remote = 198.51.100.1\n"
                      "  client-address = \"2001:db8:9:1::1/127\"\n"
                      "}\n"));
    conf_free(load_ok("tunnel t0 {\n"
                      "  type = 6in4\n"
                      "  mode = client\n"
                      "  local = 192.0.2.1\n"
                      "  remote = 198.51.100.1\n"
                      "  client-address = \"2001:db8:9:1::1/127\"\n"
                      "  server-address = 2001:db8:9:1::\n"
                      "}\n"));
}

static void test_tunnel_cross(void **state)
{
    (void)state;
    conf_free(load_ok("tunnel t0 {\n"
                      "  type = 6in4\n"
                      "  mode = server\n"
                      "  local = 192.0.2.1\n"
                      "  client a {\n"
                      "    remote = 198.51.100.1\n"
                      "    client-address = \"2001:db8:9:1::2/64\"\n"
                      "    routed-prefixes = { \"2001:db8:9:10::/64\" }\n"
                      "  }\n"
                      "  client b {\n"
                      "    remote = 198.51.100.2\n"
                      "    client-address = \"2001:db8:9:2::2/64\"\n"
                      "    routed-prefixes = { \"2001:db8:9:20::/64\" }\n"
                      "  }\n"
                      "}\n"));
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = server\n"
           "  local = 192.0.2.1\n"
           "  client a {\n"
           "    remote = 198.51.100.1\n"
           "    client-address = \"2001:db8:9:1::2/64\"\n"
           "    routed-prefixes = { \"2001:db8:9:10::/64\" }\n"
           "  }\n"
           "  client b {\n"
           "    remote = 198.51.100.1\n"
           "    client-address = \"2001:db8:9:2::2/64\"\n"
           "    routed-prefixes = { \"2001:db8:9:20::/64\" }\n"
           "  }\n"
           "}\n",
           "t.conf:11: client \"b\": remote 198.51.100.1 is also client \"a\"'s (line 6) (expected "
           "one client per IPv4 address: the packets of two could not be told apart, RFC 4213 3.6)",
           NULL);
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = server\n"
           "  local = 192.0.2.1\n"
           "  client a {\n"
           "    remote = 198.51.100.1\n"
           "    client-address = \"2001:db8:9:1::2/64\"\n"
           "    routed-prefixes = { \"2001:db8:9:10::/64\" }\n"
           "  }\n"
           "  client b {\n"
           "    remote = 198.51.100.2\n"
           "    client-address = \"2001:db8:9:1::5/64\"\n"
           "    routed-prefixes = { \"2001:db8:9:20::/64\" }\n"
           "  }\n"
           "}\n",
           "t.conf:12: client \"b\": link prefix 2001:db8:9:1::/64 overlaps client \"a\"'s link "
           "prefix 2001:db8:9:1::/64 (line 7) (expected disjoint prefixes: each address is routed "
           "to one client)",
           NULL);
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = server\n"
           "  local = 192.0.2.1\n"
           "  client a {\n"
           "    remote = 198.51.100.1\n"
           "    client-address = \"2001:db8:9:1::2/64\"\n"
           "    routed-prefixes = { \"2001:db8:9:10::/64\" }\n"
           "  }\n"
           "  client b {\n"
           "    remote = 198.51.100.2\n"
           "    client-address = \"2001:db8:9:1::5/126\"\n"
           "    routed-prefixes = { \"2001:db8:9:20::/64\" }\n"
           "  }\n"
           "}\n",
           "t.conf:12: client \"b\": client-address 2001:db8:9:1::5/126 is the server's by default "
           "(::1 of the prefix: expected the client's own address, like 2001:db8:9:1::6/126, or "
           "set server-address)",
           "t.conf:12: client \"b\": link prefix 2001:db8:9:1::4/126 overlaps client \"a\"'s link "
           "prefix 2001:db8:9:1::/64 (line 7) (expected disjoint prefixes: each address is routed "
           "to one client)",
           NULL);
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = server\n"
           "  local = 192.0.2.1\n"
           "  client a {\n"
           "    remote = 198.51.100.1\n"
           "    client-address = \"2001:db8:9:1::2/64\"\n"
           "    routed-prefixes = { \"2001:db8:9:10::/64\" }\n"
           "  }\n"
           "  client b {\n"
           "    remote = 198.51.100.2\n"
           "    client-address = \"2001:db8:9:2::2/64\"\n"
           "    routed-prefixes = { \"2001:db8:9:10::/64\" }\n"
           "  }\n"
           "}\n",
           "t.conf:13: client \"b\": routed prefix 2001:db8:9:10::/64 overlaps client \"a\"'s "
           "routed prefix 2001:db8:9:10::/64 (line 8) (expected disjoint prefixes: each address is "
           "routed to one client)",
           NULL);
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = server\n"
           "  local = 192.0.2.1\n"
           "  client a {\n"
           "    remote = 198.51.100.1\n"
           "    client-address = \"2001:db8:9:1::2/64\"\n"
           "    routed-prefixes = { \"2001:db8:9:10::/64\" }\n"
           "  }\n"
           "  client b {\n"
           "    remote = 198.51.100.2\n"
           "    client-address = \"2001:db8:9:2::2/64\"\n"
           "    routed-prefixes = { \"2001:db8:9::/48\" }\n"
           "  }\n"
           "}\n",
           "t.conf:13: client \"b\": routed prefix 2001:db8:9::/48 overlaps client \"a\"'s link "
           "prefix 2001:db8:9:1::/64 (line 7) (expected disjoint prefixes: each address is routed "
           "to one client)",
           "t.conf:13: client \"b\": routed prefix 2001:db8:9::/48 overlaps its own link prefix "
           "2001:db8:9:2::/64 (line 12) (expected disjoint prefixes: each address is routed to one "
           "client)",
           "t.conf:13: client \"b\": routed prefix 2001:db8:9::/48 overlaps client \"a\"'s routed "
           "prefix 2001:db8:9:10::/64 (line 8) (expected disjoint prefixes: each address is routed "
           "to one client)",
           NULL);
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = server\n"
           "  local = 192.0.2.1\n"
           "  client a {\n"
           "    remote = 198.51.100.1\n"
           "    client-address = \"2001:db8:9:1::2/64\"\n"
           "    routed-prefixes = { \"2001:db8:9:10::/64\" }\n"
           "  }\n"
           "  client b {\n"
           "    remote = 198.51.100.2\n"
           "    client-address = \"2001:db8:9:2::2/64\"\n"
           "    routed-prefixes = { \"2001:db8:9:1::/64\" }\n"
           "  }\n"
           "}\n",
           "t.conf:13: client \"b\": routed prefix 2001:db8:9:1::/64 overlaps client \"a\"'s link "
           "prefix 2001:db8:9:1::/64 (line 7) (expected disjoint prefixes: each address is routed "
           "to one client)",
           NULL);
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = server\n"
           "  local = 192.0.2.1\n"
           "  client a {\n"
           "    remote = 198.51.100.1\n"
           "    client-address = \"2001:db8:9:1::2/64\"\n"
           "    routed-prefixes = { \"2001:db8:9:1::/64\" }\n"
           "  }\n"
           "  client b {\n"
           "    remote = 198.51.100.2\n"
           "    client-address = \"2001:db8:9:2::2/64\"\n"
           "    routed-prefixes = { \"2001:db8:9:20::/64\" }\n"
           "  }\n"
           "}\n",
           "t.conf:8: client \"a\": routed prefix 2001:db8:9:1::/64 overlaps its own link prefix "
           "2001:db8:9:1::/64 (line 7) (expected disjoint prefixes: each address is routed to one "
           "client)",
           NULL);
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = server\n"
           "  local = 192.0.2.1\n"
           "  client a {\n"
           "    remote = 192.0.2.1\n"
           "    client-address = \"2001:db8:9:1::2/64\"\n"
           "    routed-prefixes = { \"2001:db8:9:10::/64\" }\n"
           "  }\n"
           "  client b {\n"
           "    remote = 198.51.100.2\n"
           "    client-address = \"2001:db8:9:2::2/64\"\n"
           "    routed-prefixes = { \"2001:db8:9:20::/64\" }\n"
           "  }\n"
           "}\n",
           "t.conf:6: client \"a\": remote 192.0.2.1 is the tunnel's local address (expected the "
           "client's own IPv4 address, the other end of the tunnel)",
           NULL);
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = client\n"
           "  local = 192.0.2.1\n"
           "  remote = 192.0.2.1\n"
           "  client-address = \"2001:db8:9:1::2/64\"\n"
           "}\n",
           "t.conf:5: tunnel \"t0\": remote 192.0.2.1 is local itself (expected the server's IPv4 "
           "address, the other end of the tunnel)",
           NULL);
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = client\n"
           "  local = 192.0.2.1\n"
           "  remote = 198.51.100.1\n"
           "  client-address = \"2001:db8:9:1::2/64\"\n"
           "}\n"
           "tunnel t1 {\n"
           "  type = 6in4\n"
           "  mode = client\n"
           "  local = 192.0.2.1\n"
           "  remote = 198.51.100.1\n"
           "  client-address = \"2001:db8:9:1::2/64\"\n"
           "}\n",
           "t.conf:12: tunnel \"t1\": local 192.0.2.1 and remote 198.51.100.1 are already the ends "
           "of tunnel \"t0\" (line 5) (expected one tunnel per pair of addresses: their packets "
           "could not be told apart, and a kernel sit refuses a second one, RFC 4213 3.6)",
           NULL);
    expect(
        "tunnel t0 {\n"
        "  type = 6in4\n"
        "  mode = server\n"
        "  local = 192.0.2.1\n"
        "  client a {\n"
        "    remote = 198.51.100.1\n"
        "    client-address = \"2001:db8:9:1::2/64\"\n"
        "  }\n"
        "}\n"
        "tunnel t1 {\n"
        "  type = 6in4\n"
        "  mode = client\n"
        "  local = 192.0.2.1\n"
        "  remote = 198.51.100.1\n"
        "  client-address = \"2001:db8:9:1::2/64\"\n"
        "}\n",
        "t.conf:14: tunnel \"t1\": local 192.0.2.1 and remote 198.51.100.1 are already the ends of "
        "tunnel \"t0\", client \"a\" (line 6) (expected one tunnel per pair of addresses: their "
        "packets could not be told apart, and a kernel sit refuses a second one, RFC 4213 3.6)",
        NULL);
    expect("tunnel t0 {\n"
           "  type = 6in4\n"
           "  mode = server\n"
           "  local = 192.0.2.1\n"
           "  client a {\n"
           "    remote = 198.51.100.1\n"
           "    client-address = \"2001:db8:9:1::2/64\"\n"
           "  }\n"
           "}\n"
           "tunnel t1 {\n"
           "  type = 6in4\n"
           "  mode = server\n"
           "  local = 192.0.2.1\n"
           "  client a {\n"
           "    remote = 198.51.100.1\n"
           "    client-address = \"2001:db8:9:1::2/64\"\n"
           "  }\n"
           "}\n",
           "t.conf:15: tunnel \"t1\", client \"a\": local 192.0.2.1 and remote 198.51.100.1 are "
           "already the ends of tunnel \"t0\", client \"a\" (line 6) (expected one tunnel per pair "
           "of addresses: their packets could not be told apart, and a kernel sit refuses a second "
           "one, RFC 4213 3.6)",
           NULL);
    conf_free(load_ok("tunnel t0 {\n"
                      "  type = 6in4\n"
                      "  mode = server\n"
                      "  local = 192.0.2.1\n"
                      "  client a {\n"
                      "    remote = 198.51.100.1\n"
                      "    client-address = \"2001:db8:9:1::2/64\"\n"
                      "  }\n"
                      "}\n"
                      "tunnel t1 {\n"
                      "  type = 6in4\n"
                      "  mode = server\n"
                      "  local = 192.0.2.2\n"
                      "  client a {\n"
                      "    remote = 198.51.100.1\n"
                      "    client-address = \"2001:db8:9:1::2/64\"\n"
                      "  }\n"
                      "}\n"));
    conf_free(load_ok("tunnel t0 {\n"
                      "  type = 6in4\n"
                      "  mode = client\n"
                      "  local = 192.0.2.1\n"
                      "  remote = 198.51.100.1\n"
                      "  client-address = \"2001:db8:9:1::2/64\"\n"
                      "}\n"
                      "tunnel t1 {\n"
                      "  type = 6in4\n"
                      "  mode = client\n"
                      "  local = 198.51.100.1\n"
                      "  remote = 192.0.2.1\n"
                      "  client-address = \"2001:db8:9:1::2/64\"\n"
                      "}\n"));
}

/* ---- tunnel NAME { type = 6bed4 ... }: draft-vanrein-6bed4 ---- */

/*
 * "tunnel r {" and the router's four required keys on lines 2 to 5, then
 * BODY from line 6; a peer's three on lines 2 to 4, BODY from line 5.
 */
#define R6_HEAD                                                                                    \
    "tunnel r {\n  type = 6bed4\n  mode = router\n  local = 192.0.2.6\n  prefix = "                \
    "2001:db8:1::/64\n"
#define P6_HEAD "tunnel p {\n  type = 6bed4\n  mode = peer\n  router = 198.51.100.6\n"

static char *body_text(const char *head, const char *body)
{
    char *text = malloc(strlen(head) + strlen(body) + 4);

    assert_non_null(text);
    sprintf(text, "%s%s}\n", head, body);
    return text;
}

static struct conf *load_6bed4(const char *head, const char *body)
{
    char *text = body_text(head, body);
    struct conf *c = load_ok(text);

    free(text);
    assert_int_equal(c->n_tunnels, 1);
    return c;
}

/* Refused with exactly the one message want. */
static void expect_6bed4(const char *head, const char *body, const char *want)
{
    char *text = body_text(head, body);

    expect(text, want, NULL);
    free(text);
}

static void test_6bed4_router_defaults(void **state)
{
    char b[E6_PREFIXSTRLEN], v[INET_ADDRSTRLEN];
    const struct conf_tunnel *t;
    struct conf *c;

    (void)state;
    c = load_6bed4(R6_HEAD, "");
    t = &c->tunnels[0];
    assert_string_equal(t->name, "r");
    assert_int_equal(t->line, 1);
    assert_int_equal(t->type, CONF_TUNNEL_6BED4);
    assert_int_equal(t->mode, CONF_TUN_ROUTER);
    assert_string_equal(v4(&t->local, v), "192.0.2.6");
    assert_int_equal(t->port, 25790);
    assert_string_equal(pfx(&t->prefix, b), "2001:db8:1::/64");
    assert_int_equal(t->n_routes, 0);
    assert_null(t->routes);
    assert_int_equal(t->peers, 16384);
    assert_int_equal(t->peer_timeout, 120);
    assert_int_equal(t->ttl, 64);
    assert_int_equal(t->mtu, 1280);
    assert_int_equal(t->n_clients, 0);
    /* the peer and 6in4 keys stay zero */
    assert_int_equal(t->router.s_addr, 0);
    assert_int_equal(t->remote.s_addr, 0);
    assert_int_equal(t->client_plen, 0);
    conf_free(c);

    /* the one-line router of the other tests; a unique-local /64 */
    c = load_ok("tunnel t6 {" T6 "}\ntunnel u6 { type = 6bed4 mode = router local = 192.0.2.7 "
                "prefix = \"fd00:1:2:3::/64\" }\n");
    assert_string_equal(pfx(&c->tunnels[0].prefix, b), "2001:db8:1::/64");
    assert_string_equal(pfx(&c->tunnels[1].prefix, b), "fd00:1:2:3::/64");
    conf_free(c);
}

static void test_6bed4_peer_defaults(void **state)
{
    char v[INET_ADDRSTRLEN];
    const struct conf_tunnel *t;
    struct conf *c;

    (void)state;
    c = load_6bed4(P6_HEAD, "");
    t = &c->tunnels[0];
    assert_int_equal(t->type, CONF_TUNNEL_6BED4);
    assert_int_equal(t->mode, CONF_TUN_PEER);
    assert_string_equal(v4(&t->router, v), "198.51.100.6");
    assert_int_equal(t->port, 25790);
    assert_int_equal(t->local.s_addr, htonl(INADDR_ANY));
    assert_int_equal(t->local_port, 0);
    assert_int_equal(t->keepalive, 30);
    assert_int_equal(t->keepalive_ttl, 3);
    assert_true(t->default_route);
    assert_int_equal(t->ttl, 64);
    assert_int_equal(t->mtu, 1280);
    /* the router keys stay zero */
    assert_int_equal(t->prefix.len, 0);
    assert_int_equal(t->n_routes, 0);
    conf_free(c);
}

/* A 6bed4 router with every key written. */
static void test_6bed4_router_full(void **state)
{
    char b[E6_PREFIXSTRLEN], v[INET_ADDRSTRLEN];
    const struct conf_tunnel *t;
    struct conf *c;

    (void)state;
    c = load_ok("tunnel bed0 {\n"                                            /* 1 */
                "  type = 6bed4\n"                                           /* 2 */
                "  mode = router\n"                                          /* 3 */
                "  local = 192.0.2.1\n"                                      /* 4 */
                "  port = 3653\n"                                            /* 5 */
                "  prefix = 2001:db8:9:6b::/64\n"                            /* 6 */
                "  routes = { \"2001:db8:5::/48\", \"2001:db8:7::1/128\",\n" /* 7 */
                "             \"2001:db8:9:100::/56\" }\n"                   /* 8 */
                "  peers = 0\n"                                              /* 9 */
                "  peer-timeout = 600\n"                                     /* 10 */
                "  ttl = 32\n"                                               /* 11 */
                "  mtu = 1280\n"                                             /* 12 */
                "}\n"
                "proxy eth0 {\n"
                "  rule 2001:db8:9:6b::/64 { method = 6bed4 tunnel = bed0 }\n"
                "}\n");
    t = conf_find_tunnel(c, "bed0");
    assert_non_null(t);
    assert_int_equal(t->mode, CONF_TUN_ROUTER);
    assert_string_equal(v4(&t->local, v), "192.0.2.1");
    assert_int_equal(t->port, 3653);
    assert_string_equal(pfx(&t->prefix, b), "2001:db8:9:6b::/64");
    assert_int_equal(t->n_routes, 3);
    assert_string_equal(pfx(&t->routes[0], b), "2001:db8:5::/48");
    assert_string_equal(pfx(&t->routes[1], b), "2001:db8:7::1/128");
    assert_string_equal(pfx(&t->routes[2], b), "2001:db8:9:100::/56");
    assert_int_equal(t->peers, 0);
    assert_int_equal(t->peer_timeout, 600);
    assert_int_equal(t->ttl, 32);
    assert_int_equal(t->mtu, 1280);
    assert_int_equal(c->proxies[0].rules[0].method, CONF_PROXY_6BED4);
    assert_string_equal(c->proxies[0].rules[0].tunnel, "bed0");
    conf_free(c);

    /* the default route alone is a route too (RFC 4191 2.3) */
    c = load_6bed4(R6_HEAD, "  routes = { \"::/0\" }\n");
    assert_int_equal(c->tunnels[0].n_routes, 1);
    assert_string_equal(pfx(&c->tunnels[0].routes[0], b), "::/0");
    conf_free(c);
}

/* A 6bed4 peer with every key written. */
static void test_6bed4_peer_full(void **state)
{
    char v[INET_ADDRSTRLEN];
    const struct conf_tunnel *t;
    struct conf *c;

    (void)state;
    c = load_ok("tunnel bed0 {\n"
                "  type = 6bed4\n"
                "  mode = peer\n"
                "  router = 192.0.2.1\n"
                "  port = 3653\n"
                "  local = 203.0.113.5\n"
                "  local-port = 40000\n"
                "  keepalive = 15\n"
                "  keepalive-ttl = 2\n"
                "  default-route = no\n"
                "  ttl = 100\n"
                "  mtu = 1280\n"
                "}\n");
    t = &c->tunnels[0];
    assert_int_equal(t->mode, CONF_TUN_PEER);
    assert_string_equal(v4(&t->router, v), "192.0.2.1");
    assert_int_equal(t->port, 3653);
    assert_string_equal(v4(&t->local, v), "203.0.113.5");
    assert_int_equal(t->local_port, 40000);
    assert_int_equal(t->keepalive, 15);
    assert_int_equal(t->keepalive_ttl, 2);
    assert_false(t->default_route);
    assert_int_equal(t->ttl, 100);
    assert_int_equal(t->mtu, 1280);
    conf_free(c);
}

static void test_6bed4_bounds(void **state)
{
    static const struct {
        const char *head, *key, *value;
        size_t off, size;
        unsigned long want;
    } ok[] = {
        {R6_HEAD, "port", "1", offsetof(struct conf_tunnel, port), 2, 1},
        {R6_HEAD, "port", "65535", offsetof(struct conf_tunnel, port), 2, 65535},
        {P6_HEAD, "port", "1", offsetof(struct conf_tunnel, port), 2, 1},
        {P6_HEAD, "port", "65535", offsetof(struct conf_tunnel, port), 2, 65535},
        {R6_HEAD, "peers", "0", offsetof(struct conf_tunnel, peers), 4, 0},
        {R6_HEAD, "peers", "1048576", offsetof(struct conf_tunnel, peers), 4, 1048576},
        {R6_HEAD, "peer-timeout", "10", offsetof(struct conf_tunnel, peer_timeout), 4, 10},
        {R6_HEAD, "peer-timeout", "86400", offsetof(struct conf_tunnel, peer_timeout), 4, 86400},
        {R6_HEAD, "ttl", "1", offsetof(struct conf_tunnel, ttl), 4, 1},
        {P6_HEAD, "ttl", "255", offsetof(struct conf_tunnel, ttl), 4, 255},
        {R6_HEAD, "mtu", "1280", offsetof(struct conf_tunnel, mtu), 4, 1280},
        {P6_HEAD, "mtu", "1280", offsetof(struct conf_tunnel, mtu), 4, 1280},
        {P6_HEAD, "local-port", "0", offsetof(struct conf_tunnel, local_port), 2, 0},
        {P6_HEAD, "local-port", "1", offsetof(struct conf_tunnel, local_port), 2, 1},
        {P6_HEAD, "local-port", "65535", offsetof(struct conf_tunnel, local_port), 2, 65535},
        {P6_HEAD, "keepalive", "1", offsetof(struct conf_tunnel, keepalive), 4, 1},
        {P6_HEAD, "keepalive", "3600", offsetof(struct conf_tunnel, keepalive), 4, 3600},
        {P6_HEAD, "keepalive-ttl", "1", offsetof(struct conf_tunnel, keepalive_ttl), 4, 1},
        {P6_HEAD, "keepalive-ttl", "255", offsetof(struct conf_tunnel, keepalive_ttl), 4, 255},
    };
    static const struct {
        const char *head, *body, *want;
    } bad[] = {
        {R6_HEAD, "  port = 0\n",
         "t.conf:6: tunnel \"r\": port 0 cannot be listened on (expected the UDP port peers send "
         "to, 1 to 65535; default 25790)"},
        {P6_HEAD, "  port = 0\n",
         "t.conf:5: tunnel \"p\": port 0 is not a port a router can listen on (expected the "
         "router's UDP port, 1 to 65535; default 25790)"},
        {R6_HEAD, "  port = 65536\n", "t.conf:6: port 65536 is above 65535"},
        {P6_HEAD, "  port = 25790x\n",
         "t.conf:5: port \"25790x\" is not a UDP port number (expected 0 to 65535)"},
        {R6_HEAD, "  peers = 1048577\n", "t.conf:6: peers 1048577 is above 1048576"},
        {R6_HEAD, "  peers = -1\n",
         "t.conf:6: peers \"-1\" is not a number (expected 0 to 1048576)"},
        {R6_HEAD, "  peer-timeout = 9\n", "t.conf:6: peer-timeout 9 is below 10"},
        {R6_HEAD, "  peer-timeout = 86401\n", "t.conf:6: peer-timeout 86401 is above 86400"},
        {R6_HEAD, "  peer-timeout = infinity\n",
         "t.conf:6: peer-timeout \"infinity\" is not a number of seconds (expected 10 to 86400)"},
        {R6_HEAD, "  ttl = 0\n", "t.conf:6: ttl 0 is below 1 (RFC 4213 3.3)"},
        {P6_HEAD, "  ttl = 256\n", "t.conf:5: ttl 256 is above 255 (RFC 4213 3.3)"},
        {R6_HEAD, "  mtu = 1281\n",
         "t.conf:6: tunnel \"r\": mtu 1281: a 6bed4 tunnel's MTU is 1280, the only one 6bed4 "
         "routers and peers use (expected mtu = 1280 or no mtu, draft-vanrein-6bed4)"},
        {P6_HEAD, "  mtu = 1480\n",
         "t.conf:5: tunnel \"p\": mtu 1480: a 6bed4 tunnel's MTU is 1280, the only one 6bed4 "
         "routers and peers use (expected mtu = 1280 or no mtu, draft-vanrein-6bed4)"},
        {P6_HEAD, "  mtu = 1279\n", "t.conf:5: mtu 1279 is below 1280 (RFC 8200 5, RFC 4213 3.2)"},
        {P6_HEAD, "  local-port = 65536\n", "t.conf:5: local-port 65536 is above 65535"},
        {P6_HEAD, "  keepalive = 0\n", "t.conf:5: keepalive 0 is below 1"},
        {P6_HEAD, "  keepalive = 3601\n", "t.conf:5: keepalive 3601 is above 3600"},
        {P6_HEAD, "  keepalive-ttl = 0\n", "t.conf:5: keepalive-ttl 0 is below 1"},
        {P6_HEAD, "  keepalive-ttl = 256\n", "t.conf:5: keepalive-ttl 256 is above 255"},
        {P6_HEAD, "  default-route = maybe\n",
         "t.conf:5: default-route \"maybe\" is not yes or no (nor true/false, on/off)"},
    };
    char body[128];
    struct conf *c;

    (void)state;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        unsigned long got = 0;
        uint16_t u16;
        unsigned u;
        snprintf(body, sizeof(body), "  %s = %s\n", ok[i].key, ok[i].value);
        c = load_6bed4(ok[i].head, body);
        if (ok[i].size == 2) {
            memcpy(&u16, (const char *)&c->tunnels[0] + ok[i].off, 2);
            got = u16;
        } else {
            memcpy(&u, (const char *)&c->tunnels[0] + ok[i].off, 4);
            got = u;
        }
        if (got != ok[i].want)
            fail_msg("%s = %s: got %lu", ok[i].key, ok[i].value, got);
        conf_free(c);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect_6bed4(bad[i].head, bad[i].body, bad[i].want);
}

/* prefix = P/64 of a router: a global unicast /64 without host bits. */
static void test_6bed4_prefix(void **state)
{
    static const struct {
        const char *value, *want;
    } bad[] = {
        {"2001:db8::/48",
         "prefix \"2001:db8::/48\" is a /48 (expected a global unicast /64, like "
         "2001:db8:1:2::/64) (the other 64 bits of a peer's address hold its IPv4 address and "
         "port, draft-vanrein-6bed4)"},
        {"2001:db8::/65",
         "prefix \"2001:db8::/65\" is a /65 (expected a global unicast /64, like "
         "2001:db8:1:2::/64) (the other 64 bits of a peer's address hold its IPv4 address and "
         "port, draft-vanrein-6bed4)"},
        {"2001:db8::1/64",
         "prefix \"2001:db8::1/64\": host bits set beyond /64; did you mean 2001:db8::/64? "
         "(expected a global unicast /64, like 2001:db8:1:2::/64)"},
        {"2001:db8::",
         "prefix \"2001:db8::\": '2001:db8::' has no prefix length (write ADDR/LEN, e.g. "
         "2001:db8::/64) (expected a global unicast /64, like 2001:db8:1:2::/64)"},
        {"fe80::/64",
         "prefix \"fe80::/64\" is link-local, in fe80::/10, which is never routed (expected a "
         "global unicast /64, like 2001:db8:1:2::/64, RFC 4291 2.5.6)"},
        {"ff0e::/64",
         "prefix \"ff0e::/64\" is multicast, in ff00::/8 (expected a global unicast /64, like "
         "2001:db8:1:2::/64, RFC 4291 2.7)"},
        {"::/64",
         "prefix \"::/64\" holds the unspecified and loopback addresses (::/64; expected a "
         "global unicast /64, like 2001:db8:1:2::/64, RFC 4291 2.5.2)"},
    };
    char body[128], want[512];

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(body, sizeof(body),
                 "tunnel r {\n  type = 6bed4\n  mode = router\n  local = 192.0.2.6\n"
                 "  prefix = \"%s\"\n}\n",
                 bad[i].value);
        snprintf(want, sizeof(want), "t.conf:5: %s", bad[i].want);
        expect(body, want, NULL);
    }
}

/* routes = { ... }: RFC 4191 Route Information offered to the peers. */
static void test_6bed4_routes(void **state)
{
    char body[1024];
    size_t o;
    struct conf *c;

    (void)state;
    /* 16 routes, the most; a 17th is refused */
    o = (size_t)sprintf(body, "  routes = {");
    for (int i = 0; i < 16; i++)
        o += (size_t)sprintf(body + o, "%s\"2001:db8:%x::/48\"", i ? ", " : " ", 0x100 + i);
    sprintf(body + o, " }\n");
    c = load_6bed4(R6_HEAD, body);
    assert_int_equal(c->tunnels[0].n_routes, 16);
    conf_free(c);
    sprintf(body + o, ", \"2001:db8:ffff::/48\" }\n");
    expect_6bed4(R6_HEAD, body,
                 "t.conf:6: routes has 17 entries (expected 1 to 16) (RFC 4191 2.3)");
    /* an empty list is no list (libconfuse says nothing about it): no routes */
    c = load_6bed4(R6_HEAD, "  routes = { }\n");
    assert_int_equal(c->tunnels[0].n_routes, 0);
    conf_free(c);
    expect_6bed4(R6_HEAD, "  routes = { \"ff00::/8\" }\n",
                 "t.conf:6: routes \"ff00::/8\" overlaps multicast ff00::/8 (expected a unicast "
                 "prefix, RFC 4291 2.7)");
    expect_6bed4(R6_HEAD, "  routes = { \"2001:db8:5::/48\", \"8000::/1\" }\n",
                 "t.conf:6: routes \"8000::/1\" overlaps multicast ff00::/8 (expected a unicast "
                 "prefix, RFC 4291 2.7)");
    expect_6bed4(R6_HEAD, "  routes = { \"fe80::/64\" }\n",
                 "t.conf:6: routes \"fe80::/64\" overlaps link-local fe80::/10, which is never "
                 "routed (expected a global or unique-local prefix, RFC 4291 2.5.6)");
    expect_6bed4(R6_HEAD, "  routes = { \"2001:db8:5::/48\", \"2001:db8:5:1::/64\" }\n",
                 "t.conf:6: routes lists \"2001:db8:5::/48\" and \"2001:db8:5:1::/64\", which "
                 "overlap (expected disjoint prefixes)");
    expect_6bed4(R6_HEAD, "  routes = { \"::/0\", \"2001:db8:5::/48\" }\n",
                 "t.conf:6: routes lists \"::/0\" and \"2001:db8:5::/48\", which overlap "
                 "(expected disjoint prefixes)");
    expect_6bed4(R6_HEAD, "  routes = { \"2001:db8:5::1/48\" }\n",
                 "t.conf:6: routes \"2001:db8:5::1/48\": host bits set beyond /48; did you mean "
                 "2001:db8:5::/48?");
    expect_6bed4(R6_HEAD, "  routes = \"2001:db8:5::/48\"\n  routes = { \"2001:db8:6::/48\" }\n",
                 "t.conf:7: routes is set twice (first at line 6)");
}

/* Keys of the other type, of the other end; mode and the required keys. */
static void test_6bed4_mode_keys(void **state)
{
    (void)state;
    expect("tunnel t0 {\n"                               /* 1 */
           "  type = 6in4\n"                             /* 2 */
           "  mode = client\n"                           /* 3 */
           "  local = 192.0.2.1\n"                       /* 4 */
           "  remote = 198.51.100.1\n"                   /* 5 */
           "  client-address = \"2001:db8:9:1::2/64\"\n" /* 6 */
           "  port = 25790\n"                            /* 7 */
           "  prefix = 2001:db8:1::/64\n"                /* 8 */
           "  routes = { \"2001:db8:5::/48\" }\n"        /* 9 */
           "  peers = 10\n"                              /* 10 */
           "  peer-timeout = 60\n"                       /* 11 */
           "  router = 198.51.100.6\n"                   /* 12 */
           "  local-port = 1000\n"                       /* 13 */
           "  keepalive = 10\n"                          /* 14 */
           "  keepalive-ttl = 4\n"                       /* 15 */
           "}\n",
           "t.conf:7: tunnel \"t0\": port is a 6bed4 setting (expected no port in a 6in4 tunnel)",
           "t.conf:8: tunnel \"t0\": prefix is a 6bed4 setting (expected no prefix in a 6in4 "
           "tunnel)",
           "t.conf:9: tunnel \"t0\": routes is a 6bed4 setting (expected no routes in a 6in4 "
           "tunnel)",
           "t.conf:10: tunnel \"t0\": peers is a 6bed4 setting (expected no peers in a 6in4 "
           "tunnel)",
           "t.conf:11: tunnel \"t0\": peer-timeout is a 6bed4 setting (expected no peer-timeout "
           "in a 6in4 tunnel)",
           "t.conf:12: tunnel \"t0\": router is a 6bed4 setting (expected no router in a 6in4 "
           "tunnel)",
           "t.conf:13: tunnel \"t0\": local-port is a 6bed4 setting (expected no local-port in a "
           "6in4 tunnel)",
           "t.conf:14: tunnel \"t0\": keepalive is a 6bed4 setting (expected no keepalive in a "
           "6in4 tunnel)",
           "t.conf:15: tunnel \"t0\": keepalive-ttl is a 6bed4 setting (expected no "
           "keepalive-ttl in a 6in4 tunnel)",
           NULL);
    /* 6in4 keys in a router, with a client block */
    expect(R6_HEAD "  mtu-discovery = dynamic\n"                 /* 6 */
                   "  kernel = auto\n"                           /* 7 */
                   "  remote = 198.51.100.1\n"                   /* 8 */
                   "  client-address = \"2001:db8:9:1::2/64\"\n" /* 9 */
                   "  server-address = 2001:db8:9:1::1\n"        /* 10 */
                   "  client a {\n"                              /* 11 */
                   "    remote = 198.51.100.2\n"
                   "    client-address = \"2001:db8:9:2::2/64\"\n"
                   "  }\n"
                   "}\n",
           "t.conf:6: tunnel \"r\": mtu-discovery is a 6in4 setting (expected no mtu-discovery in "
           "a 6bed4 tunnel)",
           "t.conf:7: tunnel \"r\": kernel is a 6in4 setting (expected no kernel in a 6bed4 "
           "tunnel)",
           "t.conf:8: tunnel \"r\": remote is a 6in4 setting (expected no remote in a 6bed4 "
           "tunnel)",
           "t.conf:9: tunnel \"r\": client-address is a 6in4 setting (expected no client-address "
           "in a 6bed4 tunnel)",
           "t.conf:10: tunnel \"r\": server-address is a 6in4 setting (expected no server-address "
           "in a 6bed4 tunnel)",
           "t.conf:11: tunnel \"r\": client \"a\": client blocks go only in a 6in4 tunnel with "
           "mode = server (expected none in a 6bed4 tunnel)",
           NULL);
    /* peer keys in a router */
    expect(R6_HEAD "  router = 198.51.100.6\n" /* 6 */
                   "  local-port = 1000\n"     /* 7 */
                   "  keepalive = 10\n"        /* 8 */
                   "  keepalive-ttl = 4\n"     /* 9 */
                   "  default-route = yes\n"   /* 10 */
                   "}\n",
           "t.conf:6: tunnel \"r\": router goes only with mode = peer, not with mode = router "
           "(expected no router in a 6bed4 router)",
           "t.conf:7: tunnel \"r\": local-port goes only with mode = peer, not with mode = router "
           "(expected no local-port in a 6bed4 router)",
           "t.conf:8: tunnel \"r\": keepalive goes only with mode = peer, not with mode = router "
           "(expected no keepalive in a 6bed4 router)",
           "t.conf:9: tunnel \"r\": keepalive-ttl goes only with mode = peer, not with mode = "
           "router (expected no keepalive-ttl in a 6bed4 router)",
           "t.conf:10: tunnel \"r\": default-route goes only with mode = peer, not with mode = "
           "router (expected no default-route here: a router offers routes to its peers with "
           "routes = { ... })",
           NULL);
    /* router keys in a peer */
    expect(P6_HEAD "  prefix = 2001:db8:1::/64\n"         /* 5 */
                   "  routes = { \"2001:db8:5::/48\" }\n" /* 6 */
                   "  peers = 10\n"                       /* 7 */
                   "  peer-timeout = 60\n"                /* 8 */
                   "}\n",
           "t.conf:5: tunnel \"p\": prefix goes only with mode = router, not with mode = peer "
           "(expected no prefix in a 6bed4 peer)",
           "t.conf:6: tunnel \"p\": routes goes only with mode = router, not with mode = peer "
           "(expected no routes in a 6bed4 peer)",
           "t.conf:7: tunnel \"p\": peers goes only with mode = router, not with mode = peer "
           "(expected no peers in a 6bed4 peer)",
           "t.conf:8: tunnel \"p\": peer-timeout goes only with mode = router, not with mode = "
           "peer (expected no peer-timeout in a 6bed4 peer)",
           NULL);

    /* mode: missing, or the other type's */
    expect("tunnel t0 {\n  type = 6bed4\n  local = 192.0.2.1\n}\n",
           "t.conf:1: tunnel \"t0\" has no mode (a 6bed4 tunnel needs it: expected mode = router "
           "or peer)",
           NULL);
    expect("tunnel t0 {\n  type = 6bed4\n  mode = client\n}\n",
           "t.conf:3: tunnel \"t0\": mode = client is a 6in4 mode (expected mode = router or peer "
           "in a 6bed4 tunnel)",
           NULL);
    expect("tunnel t0 {\n  type = 6in4\n  mode = router\n  local = 192.0.2.1\n}\n",
           "t.conf:3: tunnel \"t0\": mode = router is a 6bed4 mode (expected mode = server or "
           "client in a 6in4 tunnel)",
           NULL);
    expect("tunnel t0 {" T4 "}\ntunnel t1 {\n  type = 6in4\n  mode = peer\n  local = "
           "192.0.2.1\n}\n",
           "t.conf:4: tunnel \"t1\": mode = peer is a 6bed4 mode (expected mode = server or "
           "client in a 6in4 tunnel)",
           NULL);
    expect("tunnel t0 {\n  type = 6bed4\n  mode = hub\n}\n",
           "t.conf:3: mode \"hub\" is not one of server, client, router, peer", NULL);

    /* the required keys */
    expect("tunnel r {\n  type = 6bed4\n  mode = router\n}\n",
           "t.conf:1: tunnel \"r\" has no local (a 6bed4 router needs it: expected local = "
           "IPV4-ADDRESS, the address its peers send to)",
           "t.conf:1: tunnel \"r\" has no prefix (a 6bed4 router needs it: expected prefix = "
           "PREFIX/64, the /64 its peers' addresses are made in)",
           NULL);
    expect("tunnel p {\n  type = 6bed4\n  mode = peer\n  local = 192.0.2.9\n}\n",
           "t.conf:1: tunnel \"p\" has no router (a 6bed4 peer needs it: expected router = "
           "IPV4-ADDRESS, the 6bed4 router's)",
           NULL);
    /* a refused value is reported once, not also as missing */
    expect("tunnel r {\n  type = 6bed4\n  mode = router\n  local = 0.0.0.0\n  prefix = "
           "\"2001:db8::/63\"\n}\n",
           "t.conf:4: local \"0.0.0.0\" is in 0.0.0.0/8, \"this network\", which no packet is "
           "sent to or from (expected a unicast address, RFC 1122 3.2.1.3)",
           "t.conf:5: prefix \"2001:db8::/63\" is a /63 (expected a global unicast /64, like "
           "2001:db8:1:2::/64) (the other 64 bits of a peer's address hold its IPv4 address and "
           "port, draft-vanrein-6bed4)",
           NULL);
    expect("tunnel p {\n  type = 6bed4\n  mode = peer\n  router = 224.0.0.1\n}\n",
           "t.conf:4: router \"224.0.0.1\" is multicast, in 224.0.0.0/4 (expected a unicast "
           "address, RFC 5771)",
           NULL);
    /* the router is not this box */
    expect(P6_HEAD "  local = 198.51.100.6\n}\n",
           "t.conf:4: tunnel \"p\": router 198.51.100.6 is local itself (expected the 6bed4 "
           "router's IPv4 address, the other end of the tunnel)",
           NULL);
}

/* Between tunnels: one router per address and port, per /64; 6in4 prefixes apart. */
static void test_6bed4_cross(void **state)
{
    struct conf *c;

    (void)state;
    /* same local, other ports; same port, other locals; peers on random ports or elsewhere */
    c = load_ok("tunnel a {" T6 "}\n"
                "tunnel b { type = 6bed4 mode = router local = 192.0.2.6 port = 3653 prefix = "
                "\"2001:db8:2::/64\" }\n"
                "tunnel c { type = 6bed4 mode = router local = 192.0.2.7 prefix = "
                "\"2001:db8:3::/64\" }\n"
                "tunnel d {" T6P "local = 192.0.2.8 local-port = 25790 }\n"
                "tunnel e {" T6P "}\ntunnel f {" T6P "local-port = 0 }\n"
                "tunnel g {" T6P "local-port = 4000 }\n");
    assert_int_equal(c->n_tunnels, 7);
    conf_free(c);

    expect("tunnel a {" T6 "}\n"              /* 1 */
           "tunnel b {\n"                     /* 2 */
           "  type = 6bed4\n"                 /* 3 */
           "  mode = router\n"                /* 4 */
           "  local = 192.0.2.6\n"            /* 5 */
           "  prefix = \"2001:db8:2::/64\"\n" /* 6 */
           "}\n"                              /* 7 */
           "tunnel c {\n"                     /* 8 */
           "  type = 6bed4\n"                 /* 9 */
           "  mode = router\n"                /* 10 */
           "  local = 192.0.2.6\n"            /* 11 */
           "  port = 25790\n"                 /* 12 */
           "  prefix = \"2001:db8:1::/64\"\n" /* 13 */
           "}\n",
           "t.conf:5: tunnel \"b\": local 192.0.2.6 port 25790 is bound by tunnel \"a\" (line 1) "
           "already (expected one 6bed4 tunnel per IPv4 address and UDP port: the second could "
           "not bind it)",
           "t.conf:12: tunnel \"c\": local 192.0.2.6 port 25790 is bound by tunnel \"a\" (line "
           "1) already (expected one 6bed4 tunnel per IPv4 address and UDP port: the second could "
           "not bind it)",
           "t.conf:13: tunnel \"c\": prefix 2001:db8:1::/64 is tunnel \"a\"'s already (line 1) "
           "(expected one 6bed4 router per /64: a peer's address names one router)",
           NULL);

    /* peers with a fixed local-port: on the router's address, or on every address */
    expect("tunnel p1 {" T6P "local-port = 25790 }\n"                   /* 1 */
           "tunnel a {" T6 "}\n"                                        /* 2 */
           "tunnel p2 {" T6P "local = 192.0.2.6 local-port = 3653 }\n"  /* 3 */
           "tunnel b { type = 6bed4 mode = router local = 192.0.2.9\n"  /* 4 */
           "  port = 3653 prefix = \"2001:db8:2::/64\" }\n"             /* 5 */
           "tunnel p3 {" T6P "local-port = 3653 }\n"                    /* 6 */
           "tunnel p4 {" T6P "local = 192.0.2.6 local-port = 3653 }\n", /* 7 */
           "t.conf:2: tunnel \"a\": local 192.0.2.6 port 25790 is bound by tunnel \"p1\" (line 1) "
           "already (expected one 6bed4 tunnel per IPv4 address and UDP port: the second could "
           "not bind it)",
           "t.conf:6: tunnel \"p3\": local-port 3653 on every address (no local) is bound by "
           "tunnel \"p2\" (line 3) already (expected another local-port, or 0 for a random one)",
           "t.conf:7: tunnel \"p4\": local-port 3653 on 192.0.2.6 is bound by tunnel \"p2\" (line "
           "3) already (expected another local-port, or 0 for a random one)",
           NULL);

    /* a 6in4 client's link, a server's client's link or routed prefix */
    expect("tunnel a {" T6 "}\n"                                               /* 1 */
           "tunnel t4 { type = 6in4 mode = client local = 192.0.2.1\n"         /* 2 */
           "  remote = 198.51.100.1 client-address = \"2001:db8:1::2/64\" }\n" /* 3 */
           "tunnel s4 {\n"                                                     /* 4 */
           "  type = 6in4 mode = server local = 192.0.2.1\n"                   /* 5 */
           "  client home {\n"                                                 /* 6 */
           "    remote = 198.51.100.2\n"                                       /* 7 */
           "    client-address = \"2001:db8:9:1::2/64\"\n"                     /* 8 */
           "    routed-prefixes = { \"2001:db8:2::/48\" }\n"                   /* 9 */
           "  }\n"                                                             /* 10 */
           "  client work {\n"                                                 /* 11 */
           "    remote = 198.51.100.3\n"                                       /* 12 */
           "    client-address = \"2001:db8:3::2/127\"\n"                      /* 13 */
           "  }\n"                                                             /* 14 */
           "}\n"                                                               /* 15 */
           "tunnel b { type = 6bed4 mode = router local = 192.0.2.7\n"         /* 16 */
           "  prefix = \"2001:db8:2:5::/64\" }\n"                              /* 17 */
           "tunnel c { type = 6bed4 mode = router local = 192.0.2.8\n"         /* 18 */
           "  prefix = \"2001:db8:3::/64\" }\n",                               /* 19 */
           "t.conf:1: tunnel \"a\": prefix 2001:db8:1::/64 overlaps the link prefix "
           "2001:db8:1::/64 of tunnel \"t4\" (line 2) (expected disjoint prefixes: each address "
           "is routed to one place)",
           "t.conf:17: tunnel \"b\": prefix 2001:db8:2:5::/64 overlaps the routed prefix "
           "2001:db8:2::/48 of tunnel \"s4\", client \"home\" (line 4) (expected disjoint "
           "prefixes: each address is routed to one place)",
           "t.conf:19: tunnel \"c\": prefix 2001:db8:3::/64 overlaps the link prefix "
           "2001:db8:3::2/127 of tunnel \"s4\", client \"work\" (line 4) (expected disjoint "
           "prefixes: each address is routed to one place)",
           NULL);
}

/* A 6bed4 proxy rule naming a tunnel: a router, whose /64 is the rule's. */
static void test_6bed4_rule_tunnel(void **state)
{
    (void)state;
    expect_rules("  rule 2001:db8:2::/64 {\n    method = 6bed4\n    tunnel = t6\n  }\n",
                 "t.conf:2: rule 2001:db8:2::/64: tunnel \"t6\" (line 8) serves prefix "
                 "2001:db8:1::/64, not 2001:db8:2::/64 (expected rule 2001:db8:1::/64, the /64 "
                 "of that router's peers)",
                 NULL);
    expect("proxy eth0 {\n"
           "  rule 2001:db8:1::/64 {\n"
           "    method = 6bed4\n"
           "    tunnel = p6\n"
           "  }\n"
           "}\n"
           "tunnel p6 {" T6P "}\n",
           "t.conf:4: rule 2001:db8:1::/64: tunnel \"p6\" (line 7) is not a 6bed4 router (mode = "
           "peer); method 6bed4 answers for a router's peers (expected the name of a 6bed4 tunnel "
           "with mode = router)",
           NULL);
    /* a 6in4 mode in a 6bed4 tunnel is reported there, not again at the rule */
    expect("proxy eth0 { rule 2001:db8:1::/64 { method = 6bed4 tunnel = r6 } }\n"
           "tunnel r6 { type = 6bed4 mode = client }\n",
           "t.conf:2: tunnel \"r6\": mode = client is a 6in4 mode (expected mode = router or peer "
           "in a 6bed4 tunnel)",
           NULL);
    /* a router without a (good) prefix is reported there, not again at the rule */
    expect("proxy eth0 { rule 2001:db8:1::/64 { method = 6bed4 tunnel = r6 } }\n"
           "tunnel r6 { type = 6bed4 mode = router local = 192.0.2.6 }\n",
           "t.conf:2: tunnel \"r6\" has no prefix (a 6bed4 router needs it: expected prefix = "
           "PREFIX/64, the /64 its peers' addresses are made in)",
           NULL);
}

static void test_tunnel_errors_together(void **state)
{
    (void)state;
    expect(
        "tunnel t0 {\n"
        "  type = 6in4\n"
        "  mode = server\n"
        "  local = 127.0.0.1\n"
        "  ttl = 0\n"
        "  mtu = 1500\n"
        "  mtu-discovery = sometimes\n"
        "  default-route = no\n"
        "  client a {\n"
        "    remote = 198.51.100.1\n"
        "    client-address = \"2001:db8:9:1::1/64\"\n"
        "    routed-prefixes = { \"2001:db8:9:1::/64\" }\n"
        "    mtu = 1000\n"
        "  }\n"
        "  client b {\n"
        "    remote = 198.51.100.1\n"
        "    client-address = \"2001:db8:9:2::2/64\"\n"
        "    server-address = 2001:db8:9:3::1\n"
        "  }\n"
        "}\n"
        "tunnel t1 {\n"
        "  type = 6bed4\n"
        "  mode = server\n"
        "}\n"
        "tunnel t2 {\n"
        "  type = 6in4\n"
        "  mode = client\n"
        "  local = 192.0.2.1\n"
        "  remote = 192.0.2.1\n"
        "  client-address = \"2001:db8::/64\"\n"
        "}\n"
        "proxy eth0 {\n"
        "  rule 2001:db8:9::/48 {\n"
        "    method = tunnel\n"
        "    tunnel = t1\n"
        "  }\n"
        "}\n",
        "t.conf:4: local \"127.0.0.1\" is loopback, in 127.0.0.0/8: the tunnel's packets would "
        "never leave this box (expected a unicast address, RFC 1122 3.2.1.3)",
        "t.conf:5: ttl 0 is below 1 (RFC 4213 3.3)",
        "t.conf:6: mtu 1500 is above 1480 (RFC 8200 5, RFC 4213 3.2)",
        "t.conf:7: mtu-discovery \"sometimes\" is not one of static, dynamic",
        "t.conf:8: tunnel \"t0\": default-route goes only with mode = client, not with mode = "
        "server (expected no default-route here: a server routes each client's routed-prefixes to "
        "it)",
        "t.conf:11: client \"a\": client-address 2001:db8:9:1::1/64 is the server's by default "
        "(::1 of the prefix: expected the client's own address, like 2001:db8:9:1::2/64, or set "
        "server-address)",
        "t.conf:12: client \"a\": routed prefix 2001:db8:9:1::/64 overlaps its own link prefix "
        "2001:db8:9:1::/64 (line 11) (expected disjoint prefixes: each address is routed to one "
        "client)",
        "t.conf:13: mtu 1000 is below 1280 (RFC 8200 5, RFC 4213 3.2)",
        "t.conf:16: client \"b\": remote 198.51.100.1 is also client \"a\"'s (line 10) (expected "
        "one client per IPv4 address: the packets of two could not be told apart, RFC 4213 3.6)",
        "t.conf:18: client \"b\": server-address 2001:db8:9:3::1 is outside client-address's "
        "prefix 2001:db8:9:2::/64 (expected an address of the link between server and client)",
        "t.conf:23: tunnel \"t1\": mode = server is a 6in4 mode (expected mode = router or peer "
        "in a 6bed4 tunnel)",
        "t.conf:29: tunnel \"t2\": remote 192.0.2.1 is local itself (expected the server's IPv4 "
        "address, the other end of the tunnel)",
        "t.conf:30: client-address \"2001:db8::/64\" has no host bits: it is the prefix itself, "
        "the Subnet-Router anycast address (expected an address of the link, like 2001:db8::2/64, "
        "RFC 4291 2.6.1)",
        "t.conf:35: rule 2001:db8:9::/48: tunnel \"t1\" (line 21) is a 6bed4 tunnel; method tunnel "
        "needs a 6in4 tunnel (expected the name of a tunnel with type = 6in4)",
        NULL);
}

static void check_def(const struct conf_section_def *d, const char **seen, size_t *n_seen)
{
    for (size_t i = 0; i < *n_seen; i++)
        if (strcmp(seen[i], d->name) == 0)
            fail_msg("section keyword '%s' is defined twice in the schema", d->name);
    seen[(*n_seen)++] = d->name;
    assert_ptr_equal(conf_schema_section(d->name), d);
    assert_true(d->size > 0);
    assert_true(d->title == CONF_T_NONE || d->title_help != NULL);
    for (size_t i = 0; i < d->n_keys; i++) {
        const struct conf_key_def *k = &d->keys[i];
        struct conf_value v;
        char err[256];

        assert_ptr_equal(conf_schema_key(d, k->name), k);
        assert_true(k->offset < d->size);
        /* a key and a section of one section never share a name (libconfuse's opts);
           elsewhere they may: rule's key tunnel names a tunnel section */
        for (size_t j = 0; j < d->n_children; j++)
            assert_string_not_equal(k->name, d->children[j].def->name);
        if (CONF_KIND_IS_LIST(k->kind))
            assert_true(k->off_count < d->size && k->min >= 1 && k->min <= k->max);
        if (k->kind == CONF_K_ENUM_UINT || (k->flags & CONF_KF_AUTO))
            assert_true(k->off_aux < d->size);
        if (k->kind == CONF_K_ADDR_PLEN)
            assert_true(k->off_aux < d->size && k->min <= k->max && k->max <= 128);
        if (k->kind == CONF_K_PREFIXLIST)
            assert_true(k->len_max <= 128);
        assert_true(k->derive_into == NULL || k->kind == CONF_K_ADDR6);
        if (k->flags & (CONF_KF_REQUIRED | CONF_KF_UNSET)) {
            assert_null(k->def);
            assert_null(k->derive);
            assert_null(k->derive_into);
            assert_false((k->flags & CONF_KF_REQUIRED) && (k->flags & CONF_KF_UNSET));
            continue;
        }
        if (k->kind == CONF_K_UINT || k->kind == CONF_K_LIFETIME || k->kind == CONF_K_ENUM_UINT)
            assert_true(k->min <= k->max && k->max <= 0xffffffffUL);
        if (k->kind == CONF_K_LIFETIME)
            assert_true(k->max < CONF_LIFETIME_INFINITY);
        /* a computed default, or one the user could have written, never both */
        assert_false(k->def && (k->derive || k->derive_into));
        assert_true(!(k->flags & CONF_KF_PARENT) || k->derive || k->derive_into);
        /* absent: NULL, an empty list, or a MAC not set */
        if (!k->def && !k->derive && !k->derive_into)
            assert_true(k->kind == CONF_K_STRING || k->kind == CONF_K_MAC ||
                        k->kind == CONF_K_PREFIXLIST);
        if (k->kind == CONF_K_MAC)
            assert_true(k->off_aux < d->size && k->def == NULL);
        if (!k->def)
            continue;
        if (!conf_value_parse(k, k->def, &v, err, sizeof(err)))
            fail_msg("default of %s does not pass its own check: %s", k->name, err);
        conf_value_release(k, &v);
    }
    for (size_t i = 0; i < d->n_children; i++)
        check_def(d->children[i].def, seen, n_seen);
}

static void test_schema(void **state)
{
    const char *seen[64];
    size_t n = 0;

    (void)state;
    assert_string_equal(conf_root_def.name, "root");
    check_def(&conf_root_def, seen, &n);
    /* root, interface, prefix, route, rdnss, dnssl, pref64, proxy, rule, tunnel, client */
    assert_int_equal(n, 11);
    assert_null(conf_schema_section("nope"));
    assert_null(conf_schema_key(&conf_root_def, "nope"));
}

static void test_scan(void **state)
{
    struct conf_scan s;
    unsigned line = 0;
    char err[128];

    (void)state;
    const char *t = "a # x\nb // y\nc /* z\n */ d\n";
    assert_true(conf_scan(t, strlen(t), &s, &line, err, sizeof(err)));
    assert_string_equal(s.text, "a    \nb     \nc     \n    d\n");
    assert_int_equal(s.n_closes, 0);
    assert_int_equal(s.unclosed_line, 0);
    conf_scan_free(&s);

    /* lists are not sections; sections close innermost first */
    t = "k = {a,\nb}\np x {\n  r\n  y {\n  }\n}\nq {\n";
    assert_true(conf_scan(t, strlen(t), &s, &line, err, sizeof(err)));
    assert_int_equal(s.closes[0].open_line, 5);
    assert_int_equal(s.closes[0].close_line, 6);
    assert_int_equal(s.closes[1].open_line, 3);
    assert_int_equal(s.closes[1].close_line, 7);
    assert_int_equal(s.unclosed_line, 8);
    assert_int_equal(s.n_closes, 3);
    assert_int_equal(s.closes[2].open_line, 8);
    assert_int_equal(s.closes[2].close_line, 9);
    conf_scan_free(&s);

    /* every "+=" outside strings and comments, by line */
    t = "a += b\nc = {d} # +=\n\"+=\" = 'x+=' e+=f\n";
    assert_true(conf_scan(t, strlen(t), &s, &line, err, sizeof(err)));
    assert_int_equal(s.n_appends, 2);
    assert_int_equal(s.appends[0], 1);
    assert_int_equal(s.appends[1], 3);
    conf_scan_free(&s);

    /* "#" and "//" inside strings, "//" inside an unquoted word are not comments */
    t = "a = \"#x//y\" b = 'c#' d = e//f g = ${H#}\n";
    assert_true(conf_scan(t, strlen(t), &s, &line, err, sizeof(err)));
    assert_string_equal(s.text, t);
    conf_scan_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example_loads),
        cmocka_unit_test(test_example_rewritable),
        cmocka_unit_test(test_example_tunnels),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_empty_file),
        cmocka_unit_test(test_global_values),
        cmocka_unit_test(test_sections),
        cmocka_unit_test(test_lookups),
        cmocka_unit_test(test_unknown_keyword),
        cmocka_unit_test(test_keyword_path),
        cmocka_unit_test(test_wrong_type),
        cmocka_unit_test(test_bad_enum),
        cmocka_unit_test(test_bad_prefix),
        cmocka_unit_test(test_host_bits),
        cmocka_unit_test(test_prefix_length),
        cmocka_unit_test(test_missing_required),
        cmocka_unit_test(test_duplicate_section),
        cmocka_unit_test(test_duplicate_rule),
        cmocka_unit_test(test_duplicate_key),
        cmocka_unit_test(test_bad_ifname),
        cmocka_unit_test(test_bad_path),
        cmocka_unit_test(test_bad_user),
        cmocka_unit_test(test_tunnel_and_proxy),
        cmocka_unit_test(test_interface_defaults),
        cmocka_unit_test(test_interface_values),
        cmocka_unit_test(test_interface_derived),
        cmocka_unit_test(test_interface_bounds),
        cmocka_unit_test(test_captive_portal),
        cmocka_unit_test(test_prefix),
        cmocka_unit_test(test_route),
        cmocka_unit_test(test_rdnss),
        cmocka_unit_test(test_dnssl),
        cmocka_unit_test(test_pref64),
        cmocka_unit_test(test_interface_errors_together),
        cmocka_unit_test(test_proxy_defaults),
        cmocka_unit_test(test_proxy_values),
        cmocka_unit_test(test_proxy_bounds),
        cmocka_unit_test(test_proxy_mac),
        cmocka_unit_test(test_proxy_timing),
        cmocka_unit_test(test_proxy_no_rule),
        cmocka_unit_test(test_rule_iface),
        cmocka_unit_test(test_rule_tunnel),
        cmocka_unit_test(test_rule_static),
        cmocka_unit_test(test_rule_6bed4),
        cmocka_unit_test(test_rule_exclude),
        cmocka_unit_test(test_rule_multicast),
        cmocka_unit_test(test_rule_bad_title),
        cmocka_unit_test(test_rule_duplicate_methods),
        cmocka_unit_test(test_rule_tunnel_section_inside),
        cmocka_unit_test(test_proxy_full),
        cmocka_unit_test(test_proxy_errors_together),
        cmocka_unit_test(test_value_kinds),
        cmocka_unit_test(test_syntax),
        cmocka_unit_test(test_file_errors),
        cmocka_unit_test(test_several_errors),
        cmocka_unit_test(test_errors_then_syntax),
        cmocka_unit_test(test_too_many_errors),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_reload_after_error),
        cmocka_unit_test(test_null_report),
        cmocka_unit_test(test_lines_after_comments),
        cmocka_unit_test(test_value_uint_bool),
        cmocka_unit_test(test_quote),
        cmocka_unit_test(test_name_rules),
        cmocka_unit_test(test_manage_sysctls),
        cmocka_unit_test(test_tunnel_defaults),
        cmocka_unit_test(test_tunnel_server_full),
        cmocka_unit_test(test_tunnel_client_full),
        cmocka_unit_test(test_tunnel_routed_count),
        cmocka_unit_test(test_tunnel_bounds),
        cmocka_unit_test(test_tunnel_words),
        cmocka_unit_test(test_tunnel_ipv4),
        cmocka_unit_test(test_tunnel_addr_plen),
        cmocka_unit_test(test_tunnel_server_address_kind),
        cmocka_unit_test(test_tunnel_prefix_list),
        cmocka_unit_test(test_tunnel_mode_keys),
        cmocka_unit_test(test_tunnel_link),
        cmocka_unit_test(test_tunnel_cross),
        cmocka_unit_test(test_tunnel_errors_together),
        cmocka_unit_test(test_6bed4_router_defaults),
        cmocka_unit_test(test_6bed4_peer_defaults),
        cmocka_unit_test(test_6bed4_router_full),
        cmocka_unit_test(test_6bed4_peer_full),
        cmocka_unit_test(test_6bed4_bounds),
        cmocka_unit_test(test_6bed4_prefix),
        cmocka_unit_test(test_6bed4_routes),
        cmocka_unit_test(test_6bed4_mode_keys),
        cmocka_unit_test(test_6bed4_cross),
        cmocka_unit_test(test_6bed4_rule_tunnel),
        cmocka_unit_test(test_schema),
        cmocka_unit_test(test_scan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
