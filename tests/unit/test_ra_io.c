/* tests for radv/io without a kernel: start with interfaces that do not
 * exist (no netlink), reconcile (kept, added, removed), the views, stop
 * and done, the history restored and written, and the configuration
 * copies outliving the struct conf they came from */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/counters.h"
#include "common/loop.h"
#include "conf/conf.h"
#include "radv/history.h"
#include "radv/io.h"

static char dir[64];
static unsigned done_calls;

static void on_done(void *arg)
{
    done_calls++;
}

static void report(void *arg, const char *msg)
{
    fail_msg("config: %s", msg);
}

static struct conf *load(const char *body)
{
    char text[2048];
    snprintf(text, sizeof(text),
             "control-socket = \"%s/sock\"\nstate-directory = \"%s\"\nuser = \"root\"\n%s", dir,
             dir, body);
    struct conf *c = conf_load_string(text, "test.conf", report, NULL);
    assert_non_null(c);
    return c;
}

struct fixture {
    struct e6_loop *loop;
    struct e6_counter_registry *reg;
    struct ra_service *s;
};

static int setup(void **state)
{
    snprintf(dir, sizeof(dir), "/tmp/test_ra_io.XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    struct fixture *f = calloc(1, sizeof(*f));
    if (!f || e6_loop_new_fake(&f->loop, 1000) < 0)
        return -1;
    f->reg = e6_counter_registry_new();
    struct ra_service_env env = {
        .loop = f->loop, .nl = NULL, .registry = f->reg, .on_done = on_done};
    if (!f->reg || ra_service_new(&f->s, &env) < 0)
        return -1;
    done_calls = 0;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    ra_service_free(f->s);
    e6_counter_registry_free(f->reg);
    e6_loop_free(f->loop);
    free(f);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static char *view(struct ra_service *s, enum e6_view_format fmt)
{
    static struct e6_strbuf sb;
    e6_strbuf_free(&sb);
    struct e6_json j;
    e6_json_init(&j, &sb);
    ra_service_view(&j, fmt, s);
    if (fmt == E6_VIEW_JSON)
        assert_true(e6_json_done(&j));
    return sb.buf ? sb.buf : "";
}

static bool has_counter_set(struct e6_counter_registry *reg, const char *name)
{
    for (size_t i = 0; i < e6_counter_registry_count(reg); i++)
        if (strcmp(e6_counters_module(e6_counter_registry_at(reg, i)), name) == 0)
            return true;
    return false;
}

static void test_start_view_stop(void **state)
{
    struct fixture *f = *state;
    char err[256] = "";
    struct conf *c = load("interface e6t0 { prefix 2001:db8:1::/64 { } }\n"
                          "interface e6t1 { advertise = no }\n");
    assert_int_equal(ra_service_start(f->s, c, err, sizeof(err)), 0);
    /* the engines copied what they need: the conf may go */
    conf_free(c);

    assert_true(has_counter_set(f->reg, "radv"));
    assert_true(has_counter_set(f->reg, "radv-rx"));
    assert_true(has_counter_set(f->reg, "radv-tx"));

    char *t = view(f->s, E6_VIEW_TEXT);
    assert_non_null(strstr(t, "router advertisements (2 interfaces"));
    assert_non_null(strstr(t, "e6t0"));
    assert_non_null(strstr(t, "interface missing"));
    assert_non_null(strstr(t, "advertise = no"));
    char *js = view(f->s, E6_VIEW_JSON);
    assert_non_null(strstr(js, "\"name\":\"e6t0\""));
    assert_non_null(strstr(js, "\"present\":false"));

    /* detail: all, one, and an unknown name */
    struct e6_strbuf sb = E6_STRBUF_INIT;
    struct e6_json j;
    char why[128] = "";
    e6_json_init(&j, &sb);
    assert_true(ra_service_view_detail(f->s, "e6t1", &j, E6_VIEW_JSON, why, sizeof(why)));
    assert_true(e6_json_done(&j));
    assert_non_null(strstr(sb.buf, "e6t1"));
    assert_null(strstr(sb.buf, "e6t0"));
    e6_strbuf_reset(&sb);
    e6_json_init(&j, &sb);
    assert_true(ra_service_view_detail(f->s, NULL, &j, E6_VIEW_TEXT, why, sizeof(why)));
    assert_non_null(strstr(sb.buf, "e6t0"));
    assert_non_null(strstr(sb.buf, "e6t1"));
    e6_strbuf_reset(&sb);
    e6_json_init(&j, &sb);
    assert_false(ra_service_view_detail(f->s, "nosuch", &j, E6_VIEW_TEXT, why, sizeof(why)));
    assert_non_null(strstr(why, "no interface 'nosuch'"));
    e6_strbuf_free(&sb);

    /* nothing was ever sent: a goodbye has nothing to say and ends at once */
    ra_service_stop(f->s, true);
    assert_true(ra_service_done(f->s));
    assert_int_equal(done_calls, 1);
}

static void test_no_interfaces(void **state)
{
    struct fixture *f = *state;
    char err[256] = "";
    struct conf *c = load("");
    assert_int_equal(ra_service_start(f->s, c, err, sizeof(err)), 0);
    char *t = view(f->s, E6_VIEW_TEXT);
    assert_non_null(strstr(t, "(0 interfaces)"));
    assert_non_null(strstr(view(f->s, E6_VIEW_JSON), "\"socket_open\":false"));
    ra_service_stop(f->s, true);
    assert_true(ra_service_done(f->s));
    assert_int_equal(done_calls, 1);
    conf_free(c);
}

static void test_reconcile(void **state)
{
    struct fixture *f = *state;
    char err[256] = "";
    struct conf *a = load("interface e6a { }\ninterface e6b { max-interval = 100 }\n");
    struct conf *b = load("interface e6b { max-interval = 200 }\ninterface e6c { }\n");
    assert_int_equal(ra_service_start(f->s, a, err, sizeof(err)), 0);
    assert_int_equal(ra_service_reconcile(f->s, a, b, err, sizeof(err)), 0);
    conf_free(a);
    /* e6a said goodbye (nothing to say: never advertised) and goes at the next turn */
    e6_loop_advance(f->loop, 1);
    char *t = view(f->s, E6_VIEW_TEXT);
    assert_null(strstr(t, "e6a"));
    assert_non_null(strstr(t, "e6b"));
    assert_non_null(strstr(t, "e6c"));
    assert_non_null(strstr(t, "(2 interfaces"));

    /* back again, and e6c removed */
    struct conf *c = load("interface e6a { }\ninterface e6b { }\n");
    assert_int_equal(ra_service_reconcile(f->s, b, c, err, sizeof(err)), 0);
    conf_free(b);
    e6_loop_advance(f->loop, 1);
    t = view(f->s, E6_VIEW_TEXT);
    assert_non_null(strstr(t, "e6a"));
    assert_null(strstr(t, "e6c"));
    ra_service_stop(f->s, false);
    assert_true(ra_service_done(f->s));
    conf_free(c);
}

static void test_history_restored_and_kept(void **state)
{
    struct fixture *f = *state;
    char err[256] = "", path[128];
    snprintf(path, sizeof(path), "%s/%s", dir, RA_HIST_FILE);
    FILE *h = fopen(path, "w");
    assert_non_null(h);
    long long until = (long long)time(NULL) + 3000;
    fprintf(h, "e6t0 2001:db8:7::/64 LA %lld\nnot a line\ne6t0 2001:db8:8::/64 LA 5\n", until);
    fclose(h);

    struct conf *c = load("interface e6t0 { }\n");
    assert_int_equal(ra_service_start(f->s, c, err, sizeof(err)), 0);
    assert_non_null(strstr(view(f->s, E6_VIEW_JSON), "\"history_entries\":1"));
    ra_service_stop(f->s, false);
    /* freeing writes what is remembered: the good entry stays, the bad
     * line and the expired entry are gone */
    ra_service_free(f->s);
    f->s = NULL;
    h = fopen(path, "r");
    assert_non_null(h);
    char buf[1024];
    size_t n = fread(buf, 1, sizeof(buf) - 1, h);
    buf[n] = '\0';
    fclose(h);
    char want[128];
    snprintf(want, sizeof(want), "e6t0 2001:db8:7::/64 LA %lld\n", until);
    assert_non_null(strstr(buf, want));
    assert_null(strstr(buf, "not a line"));
    assert_null(strstr(buf, "2001:db8:8::"));
    conf_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_start_view_stop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_interfaces, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reconcile, setup, teardown),
        cmocka_unit_test_setup_teardown(test_history_restored_and_kept, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
