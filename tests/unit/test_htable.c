/* tests for common/htable: SipHash-2-4 vectors, bound and class-aware LRU eviction, removal
 * during iteration, destroy handing every entry back */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/htable.h"

struct item {
    uint32_t serial;
    struct e6_hentry h;
    uint8_t key[16]; /* e.g. an IPv6 address */
};

#define ITEM(e) ((struct item *)((char *)(e)-offsetof(struct item, h)))

struct tracker {
    size_t evicted;
    uint32_t last[16]; /* serials of the most recent evictions, oldest first */
    size_t nlast;
};

static void on_evict(struct e6_hentry *e, void *arg)
{
    struct tracker *tr = arg;
    struct item *it = ITEM(e);

    tr->evicted++;
    if (tr->nlast == 16) {
        memmove(tr->last, tr->last + 1, 15 * sizeof(tr->last[0]));
        tr->nlast--;
    }
    tr->last[tr->nlast++] = it->serial;
    free(it);
}

static struct item *mk(uint32_t serial)
{
    struct item *it = calloc(1, sizeof(*it));

    assert_non_null(it);
    it->serial = serial;
    /* 2001:db8::<serial> */
    it->key[0] = 0x20;
    it->key[1] = 0x01;
    it->key[2] = 0x0d;
    it->key[3] = 0xb8;
    memcpy(it->key + 12, &serial, 4);
    return it;
}

static void key_of(uint32_t serial, uint8_t key[16])
{
    struct item *it = mk(serial);
    memcpy(key, it->key, 16);
    free(it);
}

static bool present(struct e6_htable *t, uint32_t serial)
{
    uint8_t k[16];

    key_of(serial, k);
    struct e6_hentry *e = e6_htable_find(t, k);
    return e && ITEM(e)->serial == serial;
}

static int init_table(struct e6_htable *t, size_t max, struct tracker *tr)
{
    return e6_htable_init(t, max, offsetof(struct item, key) - offsetof(struct item, h), 16,
                          on_evict, tr);
}

/* ---- SipHash-2-4 ---- */

static void test_siphash_vectors(void **state)
{
    /* The paper's test key 00..0f, messages 00..(n-1): the first entries of
     * the reference vector table; n = 15 is the worked example of the
     * paper's appendix. */
    static const uint64_t want[] = {
        0x726fdb47dd0e0e31, 0x74f839c593dc67fd, 0x0d6c8009d9a94f5a, 0x85676696d7fb7e2d,
        0xcf2794e0277187b7, 0x18765564cd99a68d, 0xcbc9466e58fee3ce, 0xab0200f58b01d137,
        0x93f5f5799a932462, 0x9e0082df0ba9e4b0, 0x7a5dbbc594ddb9f3, 0xf4b32f46226bada7,
        0x751e8fbc860ee5fb, 0x14ea5627c0843d90, 0xf723ca908e7af2ee, 0xa129ca6149be45e5,
        0x3f2acc7f57c29bdb,
    };
    const uint64_t key[2] = {0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull};
    uint8_t msg[64];

    for (unsigned i = 0; i < sizeof(msg); i++)
        msg[i] = (uint8_t)i;
    assert_int_equal(e6_siphash(key, msg, 15), 0xa129ca6149be45e5ull);
    for (size_t n = 0; n < sizeof(want) / sizeof(want[0]); n++)
        assert_int_equal(e6_siphash(key, msg, n), want[n]);
    assert_int_equal(e6_siphash(key, NULL, 0), 0x726fdb47dd0e0e31ull);

    /* the key matters, in both halves */
    const uint64_t k2[2] = {key[0] ^ 1, key[1]};
    const uint64_t k3[2] = {key[0], key[1] ^ (1ull << 63)};
    assert_int_not_equal(e6_siphash(k2, msg, 15), want[15]);
    assert_int_not_equal(e6_siphash(k3, msg, 15), want[15]);
}

/* ---- table ---- */

static void test_init_rejects(void **state)
{
    struct e6_htable t;
    struct tracker tr = {0};

    assert_int_equal(init_table(&t, 0, &tr), -EINVAL);
    assert_int_equal(e6_htable_init(&t, 10, 0, 0, on_evict, &tr), -EINVAL);
    assert_int_equal(e6_htable_init(&t, SIZE_MAX, 0, 16, on_evict, &tr), -EINVAL);
    /* operations on a table whose init failed are harmless */
    assert_null(e6_htable_find(&t, "xxxxxxxxxxxxxxxx"));
    e6_htable_destroy(&t);
}

static void test_bucket_sizing(void **state)
{
    static const size_t max[] = {1, 2, 3, 1000, 1024, 1025};
    static const size_t nb[] = {1, 2, 4, 1024, 1024, 2048};
    struct tracker tr = {0};

    for (size_t i = 0; i < 6; i++) {
        struct e6_htable t;
        assert_int_equal(init_table(&t, max[i], &tr), 0);
        assert_int_equal(t.nbuckets, nb[i]);
        assert_int_equal(t.max_entries, max[i]);
        e6_htable_destroy(&t);
    }
}

static void test_seeds_differ(void **state)
{
    struct e6_htable a, b;
    struct tracker tr = {0};

    assert_int_equal(init_table(&a, 4, &tr), 0);
    assert_int_equal(init_table(&b, 4, &tr), 0);
    assert_true(a.seed[0] != b.seed[0] || a.seed[1] != b.seed[1]);
    e6_htable_destroy(&a);
    e6_htable_destroy(&b);
}

static void test_basic_ops(void **state)
{
    struct e6_htable t;
    struct tracker tr = {0};
    uint8_t k[16];

    assert_int_equal(init_table(&t, 8, &tr), 0);
    struct item *a = mk(1), *b = mk(2), *dup = mk(1), *c = mk(3);
    assert_int_equal(e6_htable_insert(&t, &a->h, 0), 0);
    assert_int_equal(e6_htable_insert(&t, &b->h, 1), 0);
    assert_int_equal(e6_htable_insert(&t, &dup->h, 0), -EEXIST);
    assert_int_equal(e6_htable_insert(&t, &c->h, E6_HTABLE_CLASSES), -EINVAL);
    assert_int_equal(e6_htable_insert(&t, &c->h, 255), -EINVAL);
    assert_int_equal(e6_htable_count(&t), 2);
    assert_int_equal(t.class_count[0], 1);
    assert_int_equal(t.class_count[1], 1);
    assert_ptr_equal(e6_htable_find(&t, a->key), &a->h);
    assert_ptr_equal(e6_htable_find(&t, b->key), &b->h);
    key_of(3, k);
    assert_null(e6_htable_find(&t, k));

    e6_htable_remove(&t, &a->h);
    assert_int_equal(e6_htable_count(&t), 1);
    assert_int_equal(t.class_count[0], 0);
    assert_null(e6_htable_find(&t, dup->key));
    e6_htable_remove(&t, &a->h); /* twice: no-op */
    e6_htable_remove(&t, &c->h); /* never inserted: no-op */
    assert_int_equal(e6_htable_count(&t), 1);
    /* the key is free again */
    assert_int_equal(e6_htable_insert(&t, &dup->h, 2), 0);
    assert_ptr_equal(e6_htable_find(&t, a->key), &dup->h);
    free(a);
    free(c);
    e6_htable_destroy(&t);
    assert_int_equal(tr.evicted, 2);
    assert_int_equal(tr.last[0] + tr.last[1], 1 + 2);
    assert_null(t.buckets);
}

static void test_flood_bound(void **state)
{
    struct e6_htable t;
    struct tracker tr = {0};

    assert_int_equal(init_table(&t, 1000, &tr), 0);
    struct item *vip = mk(0xfffffff0);
    assert_int_equal(e6_htable_insert(&t, &vip->h, 2), 0);
    for (uint32_t i = 0; i < 100000; i++) {
        struct item *it = mk(i);
        assert_int_equal(e6_htable_insert(&t, &it->h, 0), 0);
        assert_true(e6_htable_count(&t) <= 1000);
    }
    assert_int_equal(e6_htable_count(&t), 1000);
    assert_int_equal(tr.evicted, 100000 - 999);
    assert_int_equal(t.evictions, 100000 - 999);
    assert_int_equal(t.class_count[0], 999);
    assert_int_equal(t.class_count[2], 1);
    /* the valuable entry survived; the newest 999 flood entries are the ones left */
    assert_true(present(&t, 0xfffffff0));
    assert_true(present(&t, 99999));
    assert_true(present(&t, 100000 - 999));
    assert_false(present(&t, 100000 - 1000));
    assert_false(present(&t, 0));
    e6_htable_destroy(&t);
    assert_int_equal(tr.evicted, 100001); /* everything handed back exactly once */
}

static void test_enospc_when_full_of_higher(void **state)
{
    struct e6_htable t;
    struct tracker tr = {0};

    assert_int_equal(init_table(&t, 4, &tr), 0);
    for (uint32_t i = 0; i < 4; i++)
        assert_int_equal(e6_htable_insert(&t, &mk(i)->h, 2), 0);
    struct item *low = mk(10), *lower = mk(11);
    assert_int_equal(e6_htable_insert(&t, &low->h, 1), -ENOSPC);
    assert_int_equal(e6_htable_insert(&t, &lower->h, 0), -ENOSPC);
    assert_int_equal(tr.evicted, 0);
    assert_int_equal(e6_htable_count(&t), 4);
    /* same class: LRU of that class makes room */
    struct item *same = mk(12);
    assert_int_equal(e6_htable_insert(&t, &same->h, 2), 0);
    assert_int_equal(tr.evicted, 1);
    assert_int_equal(tr.last[0], 0);
    /* higher class: lowest non-empty class pays */
    struct item *top = mk(13);
    assert_int_equal(e6_htable_insert(&t, &top->h, 3), 0);
    assert_int_equal(tr.last[1], 1);
    assert_int_equal(t.class_count[3], 1);
    assert_int_equal(t.class_count[2], 3);
    free(low);
    free(lower);
    e6_htable_destroy(&t);
    assert_int_equal(tr.evicted, 6);
}

static void test_lowest_class_first(void **state)
{
    struct e6_htable t;
    struct tracker tr = {0};

    assert_int_equal(init_table(&t, 4, &tr), 0);
    /* class 1 entries are older than the class 0 ones */
    assert_int_equal(e6_htable_insert(&t, &mk(1)->h, 1), 0);
    assert_int_equal(e6_htable_insert(&t, &mk(2)->h, 1), 0);
    assert_int_equal(e6_htable_insert(&t, &mk(3)->h, 0), 0);
    assert_int_equal(e6_htable_insert(&t, &mk(4)->h, 0), 0);
    assert_int_equal(e6_htable_insert(&t, &mk(5)->h, 1), 0);
    assert_int_equal(e6_htable_insert(&t, &mk(6)->h, 1), 0);
    assert_int_equal(tr.nlast, 2);
    assert_int_equal(tr.last[0], 3);
    assert_int_equal(tr.last[1], 4);
    /* class 0 now empty: class 1 LRU goes */
    assert_int_equal(e6_htable_insert(&t, &mk(7)->h, 1), 0);
    assert_int_equal(tr.last[2], 1);
    /* a class 0 insert cannot displace class 1 */
    struct item *z = mk(8);
    assert_int_equal(e6_htable_insert(&t, &z->h, 0), -ENOSPC);
    free(z);
    e6_htable_destroy(&t);
}

static void test_lru_and_touch(void **state)
{
    struct e6_htable t;
    struct tracker tr = {0};

    assert_int_equal(init_table(&t, 3, &tr), 0);
    struct item *a = mk(1), *b = mk(2), *c = mk(3);
    assert_int_equal(e6_htable_insert(&t, &a->h, 0), 0);
    assert_int_equal(e6_htable_insert(&t, &b->h, 0), 0);
    assert_int_equal(e6_htable_insert(&t, &c->h, 0), 0);
    assert_ptr_equal(e6_htable_oldest(&t, 0), &a->h);
    assert_null(e6_htable_oldest(&t, 1));
    assert_null(e6_htable_oldest(&t, E6_HTABLE_CLASSES));
    e6_htable_touch(&t, &a->h); /* order now b, c, a */
    assert_ptr_equal(e6_htable_oldest(&t, 0), &b->h);
    e6_htable_touch(&t, &a->h); /* already most recent */
    assert_int_equal(e6_htable_insert(&t, &mk(4)->h, 0), 0);
    assert_int_equal(tr.last[0], 2);
    e6_htable_touch(&t, &c->h); /* order a, 4, c */
    assert_int_equal(e6_htable_insert(&t, &mk(5)->h, 0), 0);
    assert_int_equal(tr.last[1], 1);
    assert_int_equal(e6_htable_insert(&t, &mk(6)->h, 0), 0);
    assert_int_equal(tr.last[2], 4);
    assert_int_equal(e6_htable_insert(&t, &mk(7)->h, 0), 0);
    assert_int_equal(tr.last[3], 3);
    /* removing the LRU entry makes the next one the oldest */
    struct e6_hentry *old = e6_htable_oldest(&t, 0);
    assert_int_equal(ITEM(old)->serial, 5);
    e6_htable_remove(&t, old);
    free(ITEM(old));
    assert_int_equal(ITEM(e6_htable_oldest(&t, 0))->serial, 6);
    e6_htable_destroy(&t);
}

static void test_set_class(void **state)
{
    struct e6_htable t;
    struct tracker tr = {0};

    assert_int_equal(init_table(&t, 10, &tr), 0);
    struct item *probe = mk(1);
    assert_int_equal(e6_htable_insert(&t, &probe->h, 0), 0);
    e6_htable_set_class(&t, &probe->h, 3); /* the neighbour answered */
    assert_int_equal(probe->h.cls, 3);
    assert_int_equal(t.class_count[0], 0);
    assert_int_equal(t.class_count[3], 1);
    e6_htable_set_class(&t, &probe->h, E6_HTABLE_CLASSES); /* ignored */
    assert_int_equal(probe->h.cls, 3);
    for (uint32_t i = 100; i < 1100; i++)
        assert_int_equal(e6_htable_insert(&t, &mk(i)->h, 0), 0);
    assert_true(present(&t, 1));
    assert_int_equal(e6_htable_count(&t), 10);
    /* demoted again it becomes the newest of class 0, then ages out */
    e6_htable_set_class(&t, &probe->h, 0);
    assert_int_equal(t.class_count[3], 0);
    assert_int_equal(t.class_count[0], 10);
    for (uint32_t i = 2000; i < 2009; i++)
        assert_int_equal(e6_htable_insert(&t, &mk(i)->h, 0), 0);
    assert_true(present(&t, 1));
    assert_int_equal(e6_htable_insert(&t, &mk(3000)->h, 0), 0);
    assert_false(present(&t, 1));
    assert_int_equal(tr.last[15], 1);
    e6_htable_destroy(&t);
}

struct visit {
    struct e6_htable *t;
    size_t visited;
};

static void remove_even(struct e6_hentry *e, void *arg)
{
    struct visit *v = arg;

    v->visited++;
    if (ITEM(e)->serial % 2 == 0) {
        e6_htable_remove(v->t, e);
        free(ITEM(e));
    }
}

static void test_remove_during_foreach(void **state)
{
    struct e6_htable t;
    struct tracker tr = {0};
    struct visit v = {&t, 0};

    /* 4 buckets for 500 entries is impossible (bound); use max 500, so
     * chains of several entries certainly occur */
    assert_int_equal(init_table(&t, 500, &tr), 0);
    for (uint32_t i = 0; i < 500; i++)
        assert_int_equal(e6_htable_insert(&t, &mk(i)->h, (uint8_t)(i % 4)), 0);
    e6_htable_foreach(&t, remove_even, &v);
    assert_int_equal(v.visited, 500);
    assert_int_equal(e6_htable_count(&t), 250);
    for (uint32_t i = 0; i < 500; i++)
        assert_int_equal(present(&t, i), i % 2 == 1);
    size_t sum = 0;
    for (int c = 0; c < E6_HTABLE_CLASSES; c++)
        sum += t.class_count[c];
    assert_int_equal(sum, 250);
    v.visited = 0;
    e6_htable_foreach(&t, remove_even, &v);
    assert_int_equal(v.visited, 250);
    e6_htable_destroy(&t);
    assert_int_equal(tr.evicted, 250);
}

/* The key may sit before the hentry: negative offset. */
struct rev {
    uint8_t key[4];
    struct e6_hentry h;
};

static void free_rev(struct e6_hentry *e, void *arg)
{
    (*(int *)arg)++;
    free((char *)e - offsetof(struct rev, h));
}

static void test_negative_key_offset(void **state)
{
    struct e6_htable t;
    int freed = 0;
    ptrdiff_t off = (ptrdiff_t)offsetof(struct rev, key) - (ptrdiff_t)offsetof(struct rev, h);

    assert_true(off < 0);
    assert_int_equal(e6_htable_init(&t, 2, off, 4, free_rev, &freed), 0);
    for (int i = 0; i < 3; i++) {
        struct rev *r = calloc(1, sizeof(*r));
        assert_non_null(r);
        memcpy(r->key, (const uint8_t[]){192, 0, 2, (uint8_t)i}, 4);
        assert_int_equal(e6_htable_insert(&t, &r->h, 0), 0);
    }
    assert_non_null(e6_htable_find(&t, (const uint8_t[]){192, 0, 2, 2}));
    assert_null(e6_htable_find(&t, (const uint8_t[]){192, 0, 2, 0}));
    e6_htable_destroy(&t);
    assert_int_equal(freed, 3);
}

static void test_single_bucket(void **state)
{
    struct e6_htable t;
    struct tracker tr = {0};

    assert_int_equal(init_table(&t, 1, &tr), 0);
    assert_int_equal(t.nbuckets, 1);
    for (uint32_t i = 0; i < 10; i++) {
        assert_int_equal(e6_htable_insert(&t, &mk(i)->h, 0), 0);
        assert_int_equal(e6_htable_count(&t), 1);
        assert_true(present(&t, i));
    }
    assert_int_equal(tr.evicted, 9);
    e6_htable_destroy(&t);
    assert_int_equal(tr.evicted, 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_siphash_vectors),
        cmocka_unit_test(test_init_rejects),
        cmocka_unit_test(test_bucket_sizing),
        cmocka_unit_test(test_seeds_differ),
        cmocka_unit_test(test_basic_ops),
        cmocka_unit_test(test_flood_bound),
        cmocka_unit_test(test_enospc_when_full_of_higher),
        cmocka_unit_test(test_lowest_class_first),
        cmocka_unit_test(test_lru_and_touch),
        cmocka_unit_test(test_set_class),
        cmocka_unit_test(test_remove_during_foreach),
        cmocka_unit_test(test_negative_key_offset),
        cmocka_unit_test(test_single_bucket),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
