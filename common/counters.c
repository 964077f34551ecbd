/*
 * common/counters: per-module counter sets made of per-thread blocks, the
 * registry of all sets, and the view that renders them. A block is written
 * by one thread only, so counting needs no atomic read-modify-write; each
 * block gets its own cache lines so two workers never share one.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/counters.h"

#define CACHELINE 64

struct e6_counters {
    const char *module;
    const char *const *names;
    size_t n;
    bool registered;
    pthread_mutex_t lock; /* serialises taking blocks */
    _Atomic size_t nblocks;
    _Atomic uint64_t *blocks[E6_COUNTERS_MAX_BLOCKS];
};

struct e6_counter_registry {
    pthread_mutex_t lock;
    struct e6_counters **sets;
    size_t n, cap;
};

struct e6_counter_registry *e6_counter_registry_new(void)
{
    struct e6_counter_registry *reg = calloc(1, sizeof(*reg));

    if (!reg)
        return NULL;
    pthread_mutex_init(&reg->lock, NULL);
    return reg;
}

static void counters_destroy(struct e6_counters *set)
{
    size_t nb = atomic_load(&set->nblocks);

    for (size_t i = 0; i < nb; i++)
        free((void *)set->blocks[i]);
    pthread_mutex_destroy(&set->lock);
    free(set);
}

void e6_counter_registry_free(struct e6_counter_registry *reg)
{
    if (!reg)
        return;
    for (size_t i = 0; i < reg->n; i++)
        counters_destroy(reg->sets[i]);
    free(reg->sets);
    pthread_mutex_destroy(&reg->lock);
    free(reg);
}

struct e6_counters *e6_counters_new(struct e6_counter_registry *reg, const char *module,
                                    const char *const *names, size_t n)
{
    struct e6_counters *set;

    if (!module || (n && !names))
        return NULL;
    set = calloc(1, sizeof(*set));
    if (!set)
        return NULL;
    set->module = module;
    set->names = names;
    set->n = n;
    pthread_mutex_init(&set->lock, NULL);
    if (reg) {
        pthread_mutex_lock(&reg->lock);
        if (reg->n == reg->cap) {
            size_t ncap = reg->cap ? reg->cap * 2 : 8;
            struct e6_counters **s = realloc(reg->sets, ncap * sizeof(*s));
            if (!s) {
                pthread_mutex_unlock(&reg->lock);
                counters_destroy(set);
                return NULL;
            }
            reg->sets = s;
            reg->cap = ncap;
        }
        reg->sets[reg->n++] = set;
        set->registered = true;
        pthread_mutex_unlock(&reg->lock);
    }
    return set;
}

void e6_counters_free(struct e6_counters *set)
{
    /* A registered set belongs to its registry; freeing it here would
     * leave a dangling pointer there. */
    if (!set || set->registered)
        return;
    counters_destroy(set);
}

e6_counter_block e6_counters_block(struct e6_counters *set)
{
    e6_counter_block b = {NULL};
    size_t bytes = set->n * sizeof(uint64_t);

    /* Whole cache lines, so no two threads' blocks share one. */
    bytes = (bytes + CACHELINE - 1) / CACHELINE * CACHELINE;
    if (bytes == 0)
        bytes = CACHELINE;
    pthread_mutex_lock(&set->lock);
    size_t nb = atomic_load_explicit(&set->nblocks, memory_order_relaxed);
    if (nb < E6_COUNTERS_MAX_BLOCKS) {
        void *p = aligned_alloc(CACHELINE, bytes);
        if (p) {
            memset(p, 0, bytes);
            b.v = p;
            set->blocks[nb] = b.v;
            /* Publish the zeroed block before readers can see the count. */
            atomic_store_explicit(&set->nblocks, nb + 1, memory_order_release);
        }
    }
    pthread_mutex_unlock(&set->lock);
    return b;
}

void e6_counter_pool_init(struct e6_counter_pool *p, struct e6_counters *set)
{
    memset(p, 0, sizeof(*p));
    p->set = set;
}

int e6_counter_pool_take(struct e6_counter_pool *p, e6_counter_block *b, uint64_t *base)
{
    size_t i;
    for (i = 0; i < p->n && p->used[i]; i++)
        ;
    if (i == p->n) {
        if (p->n == E6_COUNTERS_MAX_BLOCKS)
            return -ENOSPC;
        e6_counter_block nb = e6_counters_block(p->set);
        if (!nb.v)
            return atomic_load(&p->set->nblocks) >= E6_COUNTERS_MAX_BLOCKS ? -ENOSPC : -ENOMEM;
        p->b[p->n++] = nb;
    }
    p->used[i] = true;
    *b = p->b[i];
    for (size_t k = 0; base && k < p->set->n; k++)
        base[k] = atomic_load_explicit(&b->v[k], memory_order_relaxed);
    return (int)i;
}

void e6_counter_pool_give(struct e6_counter_pool *p, int *slot)
{
    if (*slot >= 0 && (size_t)*slot < p->n)
        p->used[*slot] = false;
    *slot = -1;
}

const char *e6_counters_module(const struct e6_counters *set)
{
    return set->module;
}

size_t e6_counters_size(const struct e6_counters *set)
{
    return set->n;
}

const char *e6_counters_name(const struct e6_counters *set, size_t idx)
{
    return idx < set->n ? set->names[idx] : NULL;
}

uint64_t e6_counters_get(const struct e6_counters *set, size_t idx)
{
    size_t nb = atomic_load_explicit(&set->nblocks, memory_order_acquire);
    uint64_t sum = 0;

    if (idx >= set->n)
        return 0;
    for (size_t i = 0; i < nb; i++)
        sum += atomic_load_explicit(&set->blocks[i][idx], memory_order_relaxed);
    return sum;
}

size_t e6_counter_registry_count(const struct e6_counter_registry *reg)
{
    struct e6_counter_registry *r = (struct e6_counter_registry *)reg;
    size_t n;

    pthread_mutex_lock(&r->lock);
    n = r->n;
    pthread_mutex_unlock(&r->lock);
    return n;
}

struct e6_counters *e6_counter_registry_at(const struct e6_counter_registry *reg, size_t i)
{
    struct e6_counter_registry *r = (struct e6_counter_registry *)reg;
    struct e6_counters *set = NULL;

    pthread_mutex_lock(&r->lock);
    if (i < r->n)
        set = r->sets[i];
    pthread_mutex_unlock(&r->lock);
    return set;
}

static void view_text(struct e6_strbuf *sb, const struct e6_counter_registry *reg)
{
    size_t nsets = e6_counter_registry_count(reg);
    size_t wm = strlen("module"), wc = strlen("counter"), wv = strlen("value");
    char num[24];

    for (size_t s = 0; s < nsets; s++) {
        const struct e6_counters *set = e6_counter_registry_at(reg, s);
        if (strlen(set->module) > wm)
            wm = strlen(set->module);
        for (size_t i = 0; i < set->n; i++) {
            if (strlen(set->names[i]) > wc)
                wc = strlen(set->names[i]);
            size_t l = (size_t)snprintf(num, sizeof(num), "%" PRIu64, e6_counters_get(set, i));
            if (l > wv)
                wv = l;
        }
    }
    e6_strbuf_printf(sb, "%-*s  %-*s  %*s\n", (int)wm, "module", (int)wc, "counter", (int)wv,
                     "value");
    for (size_t s = 0; s < nsets; s++) {
        const struct e6_counters *set = e6_counter_registry_at(reg, s);
        for (size_t i = 0; i < set->n; i++)
            e6_strbuf_printf(sb, "%-*s  %-*s  %*" PRIu64 "\n", (int)wm, set->module, (int)wc,
                             set->names[i], (int)wv, e6_counters_get(set, i));
    }
}

static void view_json(struct e6_json *j, const struct e6_counter_registry *reg)
{
    size_t nsets = reg ? e6_counter_registry_count(reg) : 0;

    e6_json_begin_object(j, NULL);
    for (size_t s = 0; s < nsets; s++) {
        const struct e6_counters *set = e6_counter_registry_at(reg, s);
        e6_json_begin_object(j, set->module);
        for (size_t i = 0; i < set->n; i++)
            e6_json_uint(j, set->names[i], e6_counters_get(set, i));
        e6_json_end_object(j);
    }
    e6_json_end_object(j);
}

void e6_counters_view(struct e6_json *j, enum e6_view_format fmt, void *registry)
{
    const struct e6_counter_registry *reg = registry;

    if (fmt == E6_VIEW_JSON)
        view_json(j, reg); /* always exactly one value, {} without a registry */
    else if (reg)
        view_text(j->sb, reg);
}
