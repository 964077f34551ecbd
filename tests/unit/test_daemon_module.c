/* tests for daemon/module: start order, unwinding a failed start, reconcile, stop, views */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/module.h"

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

static int setup(void **state)
{
    journal[0] = '\0';
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
    assert_int_equal(d6_modules_reconcile(&ms, &dummy_conf, &dummy_conf), 0);
    assert_string_equal(journal, "");

    assert_int_equal(d6_modules_start(&ms, &dummy_conf, err, sizeof(err)), 0);
    journal[0] = '\0';
    /* one failure is counted and does not stop the others */
    assert_int_equal(d6_modules_reconcile(&ms, &dummy_conf, &dummy_conf), 1);
    assert_string_equal(journal, "reconcile:a reconcile:b reconcile:c");

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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
