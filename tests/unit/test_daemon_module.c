/*
 * tests for daemon/module: start order, unwinding a failed start, reconcile,
 * stop, views; and daemon/sixbed4: the "6bed4" module's forwarding to its
 * service and the NDP proxy's membership oracle over both tunnel services
 * (the services are stubs here that record what they are asked).
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/daemon.h"
#include "daemon/module.h"
#include "tunnel/io.h"
#include "tunnel/io_6bed4.h"

/* Every callback appends "<event>:<name>" to the journal. */
static char journal[1024];

static void note(const char *event, const char *name)
{
    size_t n = strlen(journal);
    snprintf(journal + n, sizeof(journal) - n, "%s%s:%s", n ? " " : "", event, name);
}

struct fake {
    const char *name;
    int start_rc;          /* returned by start */
    const char *start_why; /* written into err by a failing start */
    int reconcile_rc;
};

static int fake_start(void *self, const struct conf *c, char *err, size_t errlen)
{
    struct fake *f = self;
    note("start", f->name);
    if (f->start_rc < 0 && f->start_why)
        snprintf(err, errlen, "%s", f->start_why);
    return f->start_rc;
}

static int fake_reconcile(void *self, const struct conf *old, const struct conf *new_, char *err,
                          size_t errlen)
{
    struct fake *f = self;
    note("reconcile", f->name);
    if (f->reconcile_rc < 0)
        snprintf(err, errlen, "cannot");
    return f->reconcile_rc;
}

static void fake_stop(void *self, bool goodbye)
{
    struct fake *f = self;
    note(goodbye ? "bye" : "stop", f->name);
}

static void fake_free(void *self)
{
    struct fake *f = self;
    note("free", f->name);
}

static void fake_view(struct e6_json *j, enum e6_view_format fmt, void *self)
{
    struct fake *f = self;
    if (fmt == E6_VIEW_JSON) {
        e6_json_begin_object(j, NULL);
        e6_json_string(j, "name", f->name);
        e6_json_end_object(j);
    } else {
        e6_strbuf_printf(j->sb, "%s here\n", f->name);
    }
}

#define OPS(n)                                                                                     \
    static const struct d6_module_ops ops_##n = {                                                  \
        .name = #n,                                                                                \
        .start = fake_start,                                                                       \
        .reconcile = fake_reconcile,                                                               \
        .stop = fake_stop,                                                                         \
        .free = fake_free,                                                                         \
        .view = fake_view,                                                                         \
    }
OPS(a);
OPS(b);
OPS(c);
/* a module with no callbacks at all */
static const struct d6_module_ops ops_bare = {.name = "bare"};

static struct conf dummy_conf;

/* ---- stubs of the tunnel services, for daemon/sixbed4 ------------------- */

/* stand-ins: the module and the oracle only pass these pointers along */
static char fake_tun_service, fake_tb4_service;
#define FAKE_TUN ((struct tun_service *)&fake_tun_service)
#define FAKE_TB4 ((struct tb4_service *)&fake_tb4_service)

static int tb4_start_rc;
static int member_rc;             /* what the member stubs answer */
static const void *member_asked;  /* which service was asked (NULL: none) */
static const char *member_tunnel; /* with which tunnel name */
static const struct in6_addr *member_target;
static const struct conf *seen_old, *seen_new;

int tb4_service_start(struct tb4_service *s, const struct conf *c, char *err, size_t errlen)
{
    note("start", s == FAKE_TB4 ? "tb4" : "tb4?");
    seen_new = c;
    if (tb4_start_rc < 0)
        snprintf(err, errlen, "cannot bind 192.0.2.1:25790");
    return tb4_start_rc;
}

int tb4_service_reconcile(struct tb4_service *s, const struct conf *old, const struct conf *new_,
                          char *err, size_t errlen)
{
    note("reconcile", s == FAKE_TB4 ? "tb4" : "tb4?");
    seen_old = old;
    seen_new = new_;
    return 0;
}

void tb4_service_stop(struct tb4_service *s)
{
    note("stop", s == FAKE_TB4 ? "tb4" : "tb4?");
}

void tb4_service_free(struct tb4_service *s)
{
    note("free", s == FAKE_TB4 ? "tb4" : "tb4?");
}

void tb4_service_view(struct e6_json *j, enum e6_view_format fmt, void *service)
{
    if (fmt == E6_VIEW_JSON) {
        e6_json_begin_object(j, NULL);
        e6_json_bool(j, "ours", service == FAKE_TB4);
        e6_json_end_object(j);
    } else {
        e6_strbuf_puts(j->sb, "6bed4 tunnels\n");
    }
}

int tb4_service_member(const struct tb4_service *s, const char *tunnel,
                       const struct in6_addr *target)
{
    member_asked = s;
    member_tunnel = tunnel;
    member_target = target;
    return member_rc;
}

int tun_service_member(const struct tun_service *s, const char *tunnel,
                       const struct in6_addr *target)
{
    member_asked = s;
    member_tunnel = tunnel;
    member_target = target;
    return member_rc;
}

static int setup(void **state)
{
    journal[0] = '\0';
    tb4_start_rc = 0;
    member_rc = 0;
    member_asked = NULL;
    member_tunnel = NULL;
    member_target = NULL;
    seen_old = seen_new = NULL;
    return 0;
}

static void test_start_stop_order(void **state)
{
    struct d6_modules ms = {0};
    struct fake a = {.name = "a"}, b = {.name = "b"}, c = {.name = "c"};
    char err[128] = "";

    assert_int_equal(d6_modules_add(&ms, &ops_a, &a), 0);
    assert_int_equal(d6_modules_add(&ms, &ops_bare, NULL), 0);
    assert_int_equal(d6_modules_add(&ms, &ops_b, &b), 0);
    assert_int_equal(d6_modules_add(&ms, &ops_c, &c), 0);
    assert_int_equal(d6_modules_start(&ms, &dummy_conf, err, sizeof(err)), 0);
    assert_string_equal(journal, "start:a start:b start:c");
    assert_true(ms.m[1].started); /* no start callback: started anyway */

    journal[0] = '\0';
    d6_modules_stop(&ms, true);
    assert_string_equal(journal, "bye:c bye:b bye:a");
    for (size_t i = 0; i < ms.n; i++)
        assert_false(ms.m[i].started);

    journal[0] = '\0';
    d6_modules_stop(&ms, true); /* already stopped: nothing */
    assert_string_equal(journal, "");
    d6_modules_free(&ms);
    assert_string_equal(journal, "free:c free:b free:a");
    assert_int_equal(ms.n, 0);
}

static void test_failed_start_unwinds(void **state)
{
    struct d6_modules ms = {0};
    struct fake a = {.name = "a"};
    struct fake b = {.name = "b", .start_rc = -EADDRINUSE, .start_why = "port taken"};
    struct fake c = {.name = "c"};
    char err[128] = "";

    d6_modules_add(&ms, &ops_a, &a);
    d6_modules_add(&ms, &ops_b, &b);
    d6_modules_add(&ms, &ops_c, &c);
    assert_int_equal(d6_modules_start(&ms, &dummy_conf, err, sizeof(err)), -EADDRINUSE);
    /* a was started and is stopped without goodbye; c never started */
    assert_string_equal(journal, "start:a start:b stop:a");
    assert_string_equal(err, "b: port taken");
    assert_false(ms.m[0].started);
    assert_false(ms.m[1].started);
    assert_false(ms.m[2].started);

    journal[0] = '\0';
    d6_modules_free(&ms); /* nothing left to stop */
    assert_string_equal(journal, "free:c free:b free:a");
}

static void test_failed_start_without_reason(void **state)
{
    struct d6_modules ms = {0};
    struct fake a = {.name = "a", .start_rc = -ENOMEM};
    char err[128] = "";

    d6_modules_add(&ms, &ops_a, &a);
    assert_int_equal(d6_modules_start(&ms, &dummy_conf, err, sizeof(err)), -ENOMEM);
    char want[128];
    snprintf(want, sizeof(want), "a: %s", strerror(ENOMEM));
    assert_string_equal(err, want);
    d6_modules_free(&ms);
}

static void test_reconcile(void **state)
{
    struct d6_modules ms = {0};
    struct fake a = {.name = "a"}, b = {.name = "b", .reconcile_rc = -EINVAL}, c = {.name = "c"};
    char err[128];

    d6_modules_add(&ms, &ops_a, &a);
    d6_modules_add(&ms, &ops_bare, NULL);
    d6_modules_add(&ms, &ops_b, &b);
    d6_modules_add(&ms, &ops_c, &c);
    /* not started: nothing reconciles */
    assert_int_equal(d6_modules_reconcile(&ms, &dummy_conf, &dummy_conf, NULL), 0);
    assert_string_equal(journal, "");

    assert_int_equal(d6_modules_start(&ms, &dummy_conf, err, sizeof(err)), 0);
    journal[0] = '\0';
    /* one failure is counted and does not stop the others */
    struct e6_strbuf whys = E6_STRBUF_INIT;
    assert_int_equal(d6_modules_reconcile(&ms, &dummy_conf, &dummy_conf, &whys), 1);
    assert_string_equal(journal, "reconcile:a reconcile:b reconcile:c");
    /* what failed, for the reload's answer and status */
    assert_string_equal(e6_strbuf_str(&whys), "module b: cannot\n");
    e6_strbuf_free(&whys);

    journal[0] = '\0';
    d6_modules_free(&ms); /* stops (no goodbye) what still runs, then frees */
    assert_string_equal(journal, "stop:c stop:b stop:a free:c free:b free:a");
}

static void test_capacity(void **state)
{
    struct d6_modules ms = {0};
    for (int i = 0; i < D6_MODULES_MAX; i++)
        assert_int_equal(d6_modules_add(&ms, &ops_bare, NULL), 0);
    assert_int_equal(d6_modules_add(&ms, &ops_bare, NULL), -ENOSPC);
    assert_int_equal(ms.n, D6_MODULES_MAX);
    d6_modules_free(&ms);
}

static void test_view_json(void **state)
{
    struct d6_modules ms = {0};
    struct fake a = {.name = "a"}, b = {.name = "b"};
    struct e6_strbuf sb = E6_STRBUF_INIT;

    d6_modules_add(&ms, &ops_a, &a);
    d6_modules_add(&ms, &ops_bare, NULL); /* no view: left out */
    d6_modules_add(&ms, &ops_b, &b);
    d6_modules_view(&ms, E6_VIEW_JSON, &sb);
    assert_false(sb.failed);
    assert_string_equal(e6_strbuf_str(&sb), "{\"a\":{\"name\":\"a\"},\"b\":{\"name\":\"b\"}}\n");
    e6_strbuf_free(&sb);

    d6_modules_view(&ms, E6_VIEW_TEXT, &sb);
    assert_string_equal(e6_strbuf_str(&sb), "a here\n\nb here\n");
    e6_strbuf_free(&sb);
    d6_modules_free(&ms);
}

static void test_view_empty(void **state)
{
    struct d6_modules ms = {0};
    struct e6_strbuf sb = E6_STRBUF_INIT;

    d6_modules_view(&ms, E6_VIEW_JSON, &sb);
    assert_string_equal(e6_strbuf_str(&sb), "{}\n");
    e6_strbuf_free(&sb);
    d6_modules_view(&ms, E6_VIEW_TEXT, &sb);
    assert_string_equal(e6_strbuf_str(&sb), "");
    e6_strbuf_free(&sb);
}

static void test_view_bounded(void **state)
{
    struct d6_modules ms = {0};
    struct fake a = {.name = "a"};
    struct e6_strbuf sb = E6_STRBUF_INIT;

    d6_modules_add(&ms, &ops_a, &a);
    sb.max = 8; /* smaller than the answer: the buffer says it failed */
    d6_modules_view(&ms, E6_VIEW_JSON, &sb);
    assert_true(sb.failed);
    assert_true(sb.len <= 8);
    e6_strbuf_free(&sb);
    d6_modules_free(&ms);
}

/* a module whose goodbye takes a while (like radv's final RAs) */
static bool slow_busy;
static bool slow_done(void *self)
{
    return !slow_busy;
}
static const struct d6_module_ops ops_slow = {
    .name = "slow", .stop = fake_stop, .free = fake_free, .done = slow_done};

static void test_done(void **state)
{
    struct d6_modules ms = {0};
    struct fake a = {.name = "a"}, s = {.name = "slow"};
    assert_true(d6_modules_done(&ms)); /* nothing registered */
    assert_int_equal(d6_modules_add(&ms, &ops_a, &a), 0);
    assert_int_equal(d6_modules_add(&ms, &ops_slow, &s), 0);
    assert_int_equal(d6_modules_add(&ms, &ops_bare, NULL), 0);
    char err[128];
    assert_int_equal(d6_modules_start(&ms, &dummy_conf, err, sizeof(err)), 0);
    slow_busy = true;
    d6_modules_stop(&ms, true);
    /* modules without done() are done; the slow one is not yet */
    assert_false(d6_modules_done(&ms));
    slow_busy = false;
    assert_true(d6_modules_done(&ms));
    d6_modules_free(&ms);
    assert_string_equal(journal, "start:a bye:slow bye:a free:slow free:a");
}

/* the 6bed4 module hands every call to its service, in the daemon's order */
static void test_6bed4_module(void **state)
{
    struct d6_modules ms = {0};
    struct fake a = {.name = "a"};
    struct conf other = {0};
    char err[128];
    struct e6_strbuf sb = E6_STRBUF_INIT;

    assert_string_equal(d6_sixbed4_module_ops.name, "6bed4");
    assert_int_equal(d6_modules_add(&ms, &ops_a, &a), 0);
    assert_int_equal(d6_modules_add(&ms, &d6_sixbed4_module_ops, FAKE_TB4), 0);
    assert_int_equal(d6_modules_start(&ms, &dummy_conf, err, sizeof(err)), 0);
    assert_ptr_equal(seen_new, &dummy_conf);
    assert_int_equal(d6_modules_reconcile(&ms, &dummy_conf, &other, NULL), 0);
    assert_ptr_equal(seen_old, &dummy_conf);
    assert_ptr_equal(seen_new, &other);

    d6_modules_view(&ms, E6_VIEW_JSON, &sb);
    assert_false(sb.failed);
    assert_string_equal(e6_strbuf_str(&sb), "{\"a\":{\"name\":\"a\"},\"6bed4\":{\"ours\":true}}\n");
    e6_strbuf_free(&sb);
    d6_modules_view(&ms, E6_VIEW_TEXT, &sb);
    assert_string_equal(e6_strbuf_str(&sb), "a here\n\n6bed4 tunnels\n");
    e6_strbuf_free(&sb);

    /* a goodbye is nothing special: the service stops at once */
    d6_modules_stop(&ms, true);
    assert_true(d6_modules_done(&ms));
    d6_modules_free(&ms);
    assert_string_equal(journal, "start:a start:tb4 reconcile:a reconcile:tb4 stop:tb4 bye:a "
                                 "free:tb4 free:a");
}

/* a 6bed4 tunnel that cannot start fails the start with its reason */
static void test_6bed4_module_failed_start(void **state)
{
    struct d6_modules ms = {0};
    struct fake a = {.name = "a"};
    char err[128] = "";

    tb4_start_rc = -EADDRINUSE;
    d6_modules_add(&ms, &ops_a, &a);
    d6_modules_add(&ms, &d6_sixbed4_module_ops, FAKE_TB4);
    assert_int_equal(d6_modules_start(&ms, &dummy_conf, err, sizeof(err)), -EADDRINUSE);
    assert_string_equal(err, "6bed4: cannot bind 192.0.2.1:25790");
    d6_modules_free(&ms);
    assert_string_equal(journal, "start:a start:tb4 stop:a free:tb4 free:a");
}

static const struct in6_addr target = {
    .s6_addr = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0xc0, 0, 0x02, 0x01, 0x64, 0xbe, 0, 1}};

/* d6_proxy_member with the member stubs answering rc */
static enum ndp_verdict ask(const struct d6_daemon *d, enum conf_proxy_method m, const char *tunnel,
                            int rc)
{
    member_rc = rc;
    member_asked = NULL;
    member_tunnel = NULL;
    member_target = NULL;
    return d6_proxy_member((void *)d, m, tunnel, &target);
}

static void test_member_tunnel_rules(void **state)
{
    struct d6_daemon d = {.tun = FAKE_TUN, .tb4 = FAKE_TB4};

    assert_int_equal(ask(&d, CONF_PROXY_TUNNEL, "he6", 1), NDP_YES);
    assert_ptr_equal(member_asked, FAKE_TUN);
    assert_string_equal(member_tunnel, "he6");
    assert_ptr_equal(member_target, &target);
    assert_int_equal(ask(&d, CONF_PROXY_TUNNEL, "he6", 0), NDP_NO);
    assert_ptr_equal(member_asked, FAKE_TUN);
    /* no such 6in4 tunnel running: the proxy falls back to the route */
    assert_int_equal(ask(&d, CONF_PROXY_TUNNEL, "he6", -1), NDP_UNKNOWN);
    assert_int_equal(ask(&d, CONF_PROXY_TUNNEL, "he6", -ENOENT), NDP_UNKNOWN);
    /* a tunnel rule without a name (conf refuses it) asks nobody */
    assert_int_equal(ask(&d, CONF_PROXY_TUNNEL, NULL, 1), NDP_UNKNOWN);
    assert_null(member_asked);
    /* no 6in4 service */
    d.tun = NULL;
    assert_int_equal(ask(&d, CONF_PROXY_TUNNEL, "he6", 1), NDP_UNKNOWN);
    assert_null(member_asked);
}

static void test_member_6bed4_rules(void **state)
{
    struct d6_daemon d = {.tun = FAKE_TUN, .tb4 = FAKE_TB4};

    assert_int_equal(ask(&d, CONF_PROXY_6BED4, "b4", 1), NDP_YES);
    assert_ptr_equal(member_asked, FAKE_TB4);
    assert_string_equal(member_tunnel, "b4");
    assert_ptr_equal(member_target, &target);
    /* not a live peer: the proxy stays silent */
    assert_int_equal(ask(&d, CONF_PROXY_6BED4, "b4", 0), NDP_NO);
    assert_ptr_equal(member_asked, FAKE_TB4);
    /* no such router, or no peer table: answered by the address form */
    assert_int_equal(ask(&d, CONF_PROXY_6BED4, "b4", -1), NDP_UNKNOWN);
    assert_ptr_equal(member_asked, FAKE_TB4);
    /* a 6bed4 rule naming no tunnel asks every router (tunnel NULL) */
    assert_int_equal(ask(&d, CONF_PROXY_6BED4, NULL, 1), NDP_YES);
    assert_ptr_equal(member_asked, FAKE_TB4);
    assert_null(member_tunnel);
    assert_int_equal(ask(&d, CONF_PROXY_6BED4, NULL, 0), NDP_NO);
    /* no 6bed4 service */
    d.tb4 = NULL;
    assert_int_equal(ask(&d, CONF_PROXY_6BED4, "b4", 1), NDP_UNKNOWN);
    assert_null(member_asked);
}

static void test_member_other_rules(void **state)
{
    struct d6_daemon d = {.tun = FAKE_TUN, .tb4 = FAKE_TB4};
    const enum conf_proxy_method others[] = {CONF_PROXY_STATIC, CONF_PROXY_IFACE, CONF_PROXY_AUTO,
                                             CONF_PROXY_EXCLUDE};

    for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
        assert_int_equal(ask(&d, others[i], "b4", 1), NDP_UNKNOWN);
        assert_null(member_asked);
    }
    /* no daemon given */
    assert_int_equal(ask(NULL, CONF_PROXY_6BED4, "b4", 1), NDP_UNKNOWN);
    assert_int_equal(ask(NULL, CONF_PROXY_TUNNEL, "he6", 1), NDP_UNKNOWN);
    assert_null(member_asked);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_start_stop_order, setup),
        cmocka_unit_test_setup(test_failed_start_unwinds, setup),
        cmocka_unit_test_setup(test_failed_start_without_reason, setup),
        cmocka_unit_test_setup(test_reconcile, setup),
        cmocka_unit_test_setup(test_capacity, setup),
        cmocka_unit_test_setup(test_view_json, setup),
        cmocka_unit_test_setup(test_view_empty, setup),
        cmocka_unit_test_setup(test_view_bounded, setup),
        cmocka_unit_test_setup(test_done, setup),
        cmocka_unit_test_setup(test_6bed4_module, setup),
        cmocka_unit_test_setup(test_6bed4_module_failed_start, setup),
        cmocka_unit_test_setup(test_member_tunnel_rules, setup),
        cmocka_unit_test_setup(test_member_6bed4_rules, setup),
        cmocka_unit_test_setup(test_member_other_rules, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
