/*
 * common/counters: named event counters per module. A module declares an
 * enum of counter indices and a matching table of names, and gets a set.
 * Each thread that counts takes its own block from the set (the control
 * plane one, each data-plane worker one), so counting is a plain relaxed
 * store by the block's only writer; readers sum all blocks.
 */
#ifndef E6_COMMON_COUNTERS_H
#define E6_COMMON_COUNTERS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/strbuf.h"

#define E6_COUNTERS_MAX_BLOCKS 64

struct e6_counters;         /* one module's set */
struct e6_counter_registry; /* every set in the process, for views */

/* A thread's private block: index with the module's enum. */
typedef struct {
    _Atomic uint64_t *v;
} e6_counter_block;

static inline void e6_count_add(e6_counter_block b, size_t idx, uint64_t n)
{
    atomic_store_explicit(&b.v[idx], atomic_load_explicit(&b.v[idx], memory_order_relaxed) + n,
                          memory_order_relaxed);
}

static inline void e6_count(e6_counter_block b, size_t idx)
{
    e6_count_add(b, idx, 1);
}

struct e6_counter_registry *e6_counter_registry_new(void);
/* Frees every set registered in it. */
void e6_counter_registry_free(struct e6_counter_registry *reg);

/*
 * New set named `module` with n counters named names[0..n-1] (the strings
 * must outlive the set: use static tables). NULL on allocation failure.
 * If reg is non-NULL the set is registered there (and freed with it).
 */
struct e6_counters *e6_counters_new(struct e6_counter_registry *reg, const char *module,
                                    const char *const *names, size_t n);
void e6_counters_free(struct e6_counters *set); /* only for unregistered sets */

/* A new zeroed block for the calling thread. .v == NULL when
 * E6_COUNTERS_MAX_BLOCKS are taken or memory is short. Blocks live as long
 * as the set. */
e6_counter_block e6_counters_block(struct e6_counters *set);

/*
 * Blocks for threads that come and go (tunnel workers): a set cannot take
 * a block back, so a pool lends its blocks out and gets them back. A block
 * lent again still holds what its last thread counted (the set's sums must
 * not go down); the borrower gets those values as a base to subtract when
 * it wants its own counts only.
 */
struct e6_counter_pool {
    struct e6_counters *set;
    e6_counter_block b[E6_COUNTERS_MAX_BLOCKS];
    bool used[E6_COUNTERS_MAX_BLOCKS];
    size_t n;
};
void e6_counter_pool_init(struct e6_counter_pool *p, struct e6_counters *set);
/*
 * Lend a block: *b set, base[0..e6_counters_size(set)) filled with its
 * current values (base may be NULL). Returns the slot (>= 0) to give back,
 * -ENOSPC when all E6_COUNTERS_MAX_BLOCKS are out, -ENOMEM.
 */
int e6_counter_pool_take(struct e6_counter_pool *p, e6_counter_block *b, uint64_t *base);
/* Give back the block of *slot (ignored when *slot < 0); *slot becomes -1. */
void e6_counter_pool_give(struct e6_counter_pool *p, int *slot);

const char *e6_counters_module(const struct e6_counters *set);
size_t e6_counters_size(const struct e6_counters *set);
const char *e6_counters_name(const struct e6_counters *set, size_t idx);
/* Sum over all blocks. */
uint64_t e6_counters_get(const struct e6_counters *set, size_t idx);

/* Iterate over registered sets in registration order. */
size_t e6_counter_registry_count(const struct e6_counter_registry *reg);
struct e6_counters *e6_counter_registry_at(const struct e6_counter_registry *reg, size_t i);

/*
 * Render every registered set: TEXT as an aligned table
 * "module  counter  value", JSON as {"module": {"counter": value, ...}, ...}.
 * Matches the e6_view_fn shape (arg is the registry).
 */
void e6_counters_view(struct e6_json *j, enum e6_view_format fmt, void *registry);

#endif
