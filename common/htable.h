/*
 * common/htable: a bounded hash table for state fed by the network
 * (proxy sessions, 6bed4 peers, ...). Entries are embedded in the caller's
 * structs (intrusive), keys are fixed-size byte strings hashed with a keyed
 * SipHash so remote senders cannot aim collisions.
 *
 * Bound and eviction rule: the table never holds more than max_entries.
 * Each entry has a class 0..E6_HTABLE_CLASSES-1 (higher = more valuable,
 * e.g. confirmed neighbours above unconfirmed probes). When full, an insert
 * of class c evicts the least recently used entry of the lowest non-empty
 * class <= c; if every entry is of a higher class the insert fails with
 * -ENOSPC. So a flood of new low-class entries churns only among
 * themselves and never pushes out valuable ones. Entry memory belongs to
 * the caller and is handed back through the evict callback.
 */
#ifndef E6_COMMON_HTABLE_H
#define E6_COMMON_HTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define E6_HTABLE_CLASSES 4

struct e6_hentry {
    struct e6_hentry *hnext;               /* bucket chain */
    struct e6_hentry *lru_prev, *lru_next; /* per-class LRU list */
    uint32_t hash;
    uint8_t cls;
};

/*
 * Called when the table evicts e to make room (and by destroy); e is
 * already unlinked and the owner frees it. It must not call back into the
 * table's insert.
 */
typedef void (*e6_htable_evict_cb)(struct e6_hentry *e, void *arg);

struct e6_htable {
    struct e6_hentry **buckets;
    size_t nbuckets; /* power of two */
    size_t count;
    size_t max_entries;
    size_t key_offset; /* offset of the key from the start of the e6_hentry */
    size_t key_len;
    uint64_t seed[2];
    struct e6_hentry *lru_head[E6_HTABLE_CLASSES]; /* most recently used */
    struct e6_hentry *lru_tail[E6_HTABLE_CLASSES]; /* least recently used */
    size_t class_count[E6_HTABLE_CLASSES];
    uint64_t evictions;
    e6_htable_evict_cb evict;
    void *evict_arg;
};

/*
 * max_entries >= 1. key_offset: where the key sits relative to the entry
 * (use offsetof(struct mine, key) - offsetof(struct mine, hentry)). The
 * seed is drawn from getrandom(). 0 or -errno.
 */
int e6_htable_init(struct e6_htable *t, size_t max_entries, ptrdiff_t key_offset, size_t key_len,
                   e6_htable_evict_cb evict, void *evict_arg);
/* Calls evict for every remaining entry, then frees the buckets. */
void e6_htable_destroy(struct e6_htable *t);

struct e6_hentry *e6_htable_find(const struct e6_htable *t, const void *key);
/*
 * 0, -EEXIST (same key present), -ENOSPC (full of higher classes),
 * -EINVAL (cls >= E6_HTABLE_CLASSES). The key must not change while e is
 * in the table.
 */
int e6_htable_insert(struct e6_htable *t, struct e6_hentry *e, uint8_t cls);
/* Unlinks e; the caller frees it. No-op if e is not in the table. */
void e6_htable_remove(struct e6_htable *t, struct e6_hentry *e);
/* Mark e most recently used in its class. */
void e6_htable_touch(struct e6_htable *t, struct e6_hentry *e);
/* Moves e to class cls (as its most recently used); ignored if cls is invalid. */
void e6_htable_set_class(struct e6_htable *t, struct e6_hentry *e, uint8_t cls);
/* Least recently used entry of class cls, or NULL: for age-based expiry. */
struct e6_hentry *e6_htable_oldest(const struct e6_htable *t, uint8_t cls);
static inline size_t e6_htable_count(const struct e6_htable *t)
{
    return t->count;
}

/* Visit every entry; fn may remove the entry it is given. */
void e6_htable_foreach(struct e6_htable *t, void (*fn)(struct e6_hentry *e, void *arg), void *arg);

/* Keyed SipHash-2-4 over data, exposed for tests and other tables. */
uint64_t e6_siphash(const uint64_t key[2], const void *data, size_t len);

#endif
