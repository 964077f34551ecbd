/* tests for common/counters: per-thread blocks, exact sums under concurrency, registry, views */
#include "config.h"
#include <errno.h>

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/counters.h"

enum { C_RX, C_TX, C_DROP_SHORT, C_N };
static const char *const names[C_N] = {"rx", "tx", "drop_short"};

static void test_basic(void **state)
{
    struct e6_counters *set = e6_counters_new(NULL, "ndp", names, C_N);

    assert_non_null(set);
    assert_string_equal(e6_counters_module(set), "ndp");
    assert_int_equal(e6_counters_size(set), C_N);
    assert_string_equal(e6_counters_name(set, C_DROP_SHORT), "drop_short");
    assert_null(e6_counters_name(set, C_N));
    assert_int_equal(e6_counters_get(set, C_RX), 0); /* no blocks yet */

    e6_counter_block a = e6_counters_block(set);
    e6_counter_block b = e6_counters_block(set);
    assert_non_null(a.v);
    assert_non_null(b.v);
    assert_ptr_not_equal(a.v, b.v);
    e6_count(a, C_RX);
    e6_count(a, C_RX);
    e6_count_add(b, C_RX, 5);
    e6_count(b, C_TX);
    assert_int_equal(e6_counters_get(set, C_RX), 7);
    assert_int_equal(e6_counters_get(set, C_TX), 1);
    assert_int_equal(e6_counters_get(set, C_DROP_SHORT), 0);
    assert_int_equal(e6_counters_get(set, C_N), 0);
    assert_int_equal(e6_counters_get(set, 1000), 0);
    e6_counters_free(set);
    e6_counters_free(NULL);
}

static void test_bad_args(void **state)
{
    assert_null(e6_counters_new(NULL, NULL, names, C_N));
    assert_null(e6_counters_new(NULL, "x", NULL, 2));
    struct e6_counters *empty = e6_counters_new(NULL, "empty", NULL, 0);
    assert_non_null(empty);
    e6_counter_block b = e6_counters_block(empty);
    assert_non_null(b.v);
    e6_counters_free(empty);
}

static void test_block_limit(void **state)
{
    struct e6_counters *set = e6_counters_new(NULL, "m", names, C_N);

    for (int i = 0; i < E6_COUNTERS_MAX_BLOCKS; i++) {
        e6_counter_block b = e6_counters_block(set);
        assert_non_null(b.v);
        e6_count(b, C_TX);
    }
    e6_counter_block over = e6_counters_block(set);
    assert_null(over.v);
    assert_int_equal(e6_counters_get(set, C_TX), E6_COUNTERS_MAX_BLOCKS);
    e6_counters_free(set);
}

#define PER_THREAD 1000000u

struct worker {
    struct e6_counters *set;
    unsigned id;
};

static atomic_bool counting_done;

static void *worker_main(void *p)
{
    struct worker *w = p;
    e6_counter_block b = e6_counters_block(w->set); /* taken by the thread itself */

    if (!b.v)
        return (void *)1;
    for (unsigned i = 0; i < PER_THREAD; i++) {
        e6_count(b, C_RX);
        if (i % 2 == 0)
            e6_count(b, C_TX);
        e6_count_add(b, C_DROP_SHORT, w->id + 1);
    }
    return NULL;
}

static void *reader_main(void *p)
{
    struct e6_counters *set = p;
    uint64_t last = 0;

    /* Sums seen while counting never go backwards. */
    while (!atomic_load(&counting_done)) {
        uint64_t v = e6_counters_get(set, C_RX);
        if (v < last || v > 4ull * PER_THREAD)
            return (void *)1;
        last = v;
    }
    return NULL;
}

static void test_four_threads_exact(void **state)
{
    struct e6_counters *set = e6_counters_new(NULL, "tun", names, C_N);
    pthread_t th[4], reader;
    struct worker w[4];
    void *ret;

    atomic_store(&counting_done, false);
    assert_int_equal(pthread_create(&reader, NULL, reader_main, set), 0);
    for (unsigned i = 0; i < 4; i++) {
        w[i] = (struct worker){set, i};
        assert_int_equal(pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], &ret);
        assert_null(ret);
    }
    atomic_store(&counting_done, true);
    pthread_join(reader, &ret);
    assert_null(ret);
    assert_int_equal(e6_counters_get(set, C_RX), 4ull * PER_THREAD);
    assert_int_equal(e6_counters_get(set, C_TX), 4ull * PER_THREAD / 2);
    assert_int_equal(e6_counters_get(set, C_DROP_SHORT), (1 + 2 + 3 + 4) * (uint64_t)PER_THREAD);
    e6_counters_free(set);
}

enum { R_RS, R_RA_SENT, R_N };
static const char *const radv_names[R_N] = {"rs_received", "ra_sent"};

static struct e6_counter_registry *make_registry(void)
{
    struct e6_counter_registry *reg = e6_counter_registry_new();
    assert_non_null(reg);
    struct e6_counters *ndp = e6_counters_new(reg, "ndp", names, C_N);
    struct e6_counters *radv = e6_counters_new(reg, "radv", radv_names, R_N);
    assert_non_null(ndp);
    assert_non_null(radv);
    e6_counter_block b = e6_counters_block(ndp);
    e6_count_add(b, C_RX, 1234567);
    e6_count(b, C_TX);
    e6_counter_block c = e6_counters_block(radv);
    e6_count_add(c, R_RA_SENT, 3);
    return reg;
}

static void test_registry(void **state)
{
    struct e6_counter_registry *reg = make_registry();

    assert_int_equal(e6_counter_registry_count(reg), 2);
    assert_string_equal(e6_counters_module(e6_counter_registry_at(reg, 0)), "ndp");
    assert_string_equal(e6_counters_module(e6_counter_registry_at(reg, 1)), "radv");
    assert_null(e6_counter_registry_at(reg, 2));
    /* a registered set is the registry's: freeing it directly is refused */
    e6_counters_free(e6_counter_registry_at(reg, 0));
    assert_int_equal(e6_counters_get(e6_counter_registry_at(reg, 0), C_RX), 1234567);
    e6_counter_registry_free(reg); /* valgrind: frees sets and blocks */
    e6_counter_registry_free(NULL);
}

static void test_view_text(void **state)
{
    struct e6_counter_registry *reg = make_registry();
    struct e6_strbuf sb = E6_STRBUF_INIT;
    struct e6_json j;

    e6_json_init(&j, &sb);
    e6_counters_view(&j, E6_VIEW_TEXT, reg);
    assert_false(sb.failed);
    assert_string_equal(e6_strbuf_str(&sb), "module  counter        value\n"
                                            "ndp     rx           1234567\n"
                                            "ndp     tx                 1\n"
                                            "ndp     drop_short         0\n"
                                            "radv    rs_received        0\n"
                                            "radv    ra_sent            3\n");
    e6_strbuf_free(&sb);
    e6_counter_registry_free(reg);
}

static void test_view_json(void **state)
{
    struct e6_counter_registry *reg = make_registry();
    struct e6_strbuf sb = E6_STRBUF_INIT;
    struct e6_json j;

    e6_json_init(&j, &sb);
    e6_counters_view(&j, E6_VIEW_JSON, reg);
    assert_true(e6_json_done(&j));
    assert_string_equal(e6_strbuf_str(&sb), "{\"ndp\":{\"rx\":1234567,\"tx\":1,\"drop_short\":0},"
                                            "\"radv\":{\"rs_received\":0,\"ra_sent\":3}}");

    /* placed under a key by a caller, as the control socket does */
    e6_strbuf_reset(&sb);
    e6_json_init(&j, &sb);
    e6_json_begin_object(&j, NULL);
    e6_json_key(&j, "counters");
    e6_counters_view(&j, E6_VIEW_JSON, reg);
    e6_json_end_object(&j);
    assert_true(e6_json_done(&j));
    assert_int_equal(strncmp(sb.buf, "{\"counters\":{\"ndp\":{", 20), 0);

    /* empty registry and no registry still give one JSON value */
    struct e6_counter_registry *empty = e6_counter_registry_new();
    e6_strbuf_reset(&sb);
    e6_json_init(&j, &sb);
    e6_counters_view(&j, E6_VIEW_JSON, empty);
    assert_true(e6_json_done(&j));
    assert_string_equal(sb.buf, "{}");
    e6_strbuf_reset(&sb);
    e6_json_init(&j, &sb);
    e6_counters_view(&j, E6_VIEW_JSON, NULL);
    assert_string_equal(sb.buf, "{}");
    e6_strbuf_reset(&sb);
    e6_json_init(&j, &sb);
    e6_counters_view(&j, E6_VIEW_TEXT, empty);
    assert_string_equal(sb.buf, "module  counter  value\n");

    e6_counter_registry_free(empty);
    e6_strbuf_free(&sb);
    e6_counter_registry_free(reg);
}

static void test_pool(void **state)
{
    (void)state;
    static const char *const pnames[] = {"a", "b"};
    struct e6_counters *set = e6_counters_new(NULL, "pool", pnames, 2);
    assert_non_null(set);
    /* the control plane's own block, outside the pool */
    e6_counter_block own = e6_counters_block(set);
    assert_non_null(own.v);
    struct e6_counter_pool *p = malloc(sizeof(*p));
    assert_non_null(p);
    e6_counter_pool_init(p, set);

    e6_counter_block b1, b2;
    uint64_t base[2];
    int s1 = e6_counter_pool_take(p, &b1, base);
    int s2 = e6_counter_pool_take(p, &b2, NULL);
    assert_int_equal(s1, 0);
    assert_int_equal(s2, 1);
    assert_int_equal(base[0], 0);
    e6_count_add(b1, 0, 5);
    e6_count(b1, 1);
    e6_counter_pool_give(p, &s1);
    assert_int_equal(s1, -1);
    e6_counter_pool_give(p, &s1); /* twice: harmless */
    /* lent again: the same block, its counts kept (sums never go down) */
    int s3 = e6_counter_pool_take(p, &b1, base);
    assert_int_equal(s3, 0);
    assert_int_equal(base[0], 5);
    assert_int_equal(base[1], 1);
    assert_int_equal(e6_counters_get(set, 0), 5);

    /* the set's limit: the pool refuses, it does not crash */
    int taken = 2, r;
    e6_counter_block b;
    while ((r = e6_counter_pool_take(p, &b, NULL)) >= 0)
        taken++;
    assert_int_equal(r, -ENOSPC);
    assert_int_equal(taken, E6_COUNTERS_MAX_BLOCKS - 1);
    /* one given back can be lent again */
    e6_counter_pool_give(p, &s2);
    assert_int_equal(e6_counter_pool_take(p, &b, NULL), 1);
    int bad = 1000;
    e6_counter_pool_give(p, &bad); /* out of range: ignored */
    assert_int_equal(bad, -1);
    free(p);
    e6_counters_free(set);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic),       cmocka_unit_test(test_bad_args),
        cmocka_unit_test(test_block_limit), cmocka_unit_test(test_four_threads_exact),
        cmocka_unit_test(test_registry),    cmocka_unit_test(test_view_text),
        cmocka_unit_test(test_view_json),   cmocka_unit_test(test_pool),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
