/*
 * common/htable: bounded intrusive hash table with per-class LRU eviction,
 * and the keyed SipHash-2-4 it hashes with. The bucket array is sized once
 * (next power of two >= max_entries, so chains average at most one entry)
 * and never rehashed: inserts cost no allocation and a flood cannot
 * trigger a resize.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "common/htable.h"

/* ---- SipHash-2-4 (Aumasson & Bernstein, "SipHash: a fast short-input PRF") ---- */

static inline uint64_t rotl64(uint64_t x, unsigned b)
{
    return (x << b) | (x >> (64 - b));
}

static inline uint64_t load_le64(const uint8_t *p)
{
    uint64_t v = 0;

    for (unsigned i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

#define SIPROUND                                                                                   \
    do {                                                                                           \
        v0 += v1;                                                                                  \
        v1 = rotl64(v1, 13);                                                                       \
        v1 ^= v0;                                                                                  \
        v0 = rotl64(v0, 32);                                                                       \
        v2 += v3;                                                                                  \
        v3 = rotl64(v3, 16);                                                                       \
        v3 ^= v2;                                                                                  \
        v0 += v3;                                                                                  \
        v3 = rotl64(v3, 21);                                                                       \
        v3 ^= v0;                                                                                  \
        v2 += v1;                                                                                  \
        v1 = rotl64(v1, 17);                                                                       \
        v1 ^= v2;                                                                                  \
        v2 = rotl64(v2, 32);                                                                       \
    } while (0)

uint64_t e6_siphash(const uint64_t key[2], const void *data, size_t len)
{
    const uint8_t *p = data;
    uint64_t v0 = key[0] ^ UINT64_C(0x736f6d6570736575);
    uint64_t v1 = key[1] ^ UINT64_C(0x646f72616e646f6d);
    uint64_t v2 = key[0] ^ UINT64_C(0x6c7967656e657261);
    uint64_t v3 = key[1] ^ UINT64_C(0x7465646279746573);
    size_t full = len & ~(size_t)7;
    uint64_t m;

    for (size_t i = 0; i < full; i += 8) {
        m = load_le64(p + i);
        v3 ^= m;
        SIPROUND;
        SIPROUND;
        v0 ^= m;
    }
    /* Last block: the remaining 0..7 bytes, and len mod 256 in the top byte. */
    m = (uint64_t)(len & 0xff) << 56;
    for (size_t i = 0; i < (len & 7); i++)
        m |= (uint64_t)p[full + i] << (8 * i);
    v3 ^= m;
    SIPROUND;
    SIPROUND;
    v0 ^= m;

    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

/* ---- table ---- */

static const void *entry_key(const struct e6_htable *t, const struct e6_hentry *e)
{
    return (const uint8_t *)e + (ptrdiff_t)t->key_offset;
}

static uint64_t key_hash(const struct e6_htable *t, const void *key)
{
    return e6_siphash(t->seed, key, t->key_len);
}

/* Low bits pick the bucket; the high half is kept to skip most memcmps. */
static size_t bucket_of(const struct e6_htable *t, uint64_t h)
{
    return (size_t)(h & (t->nbuckets - 1));
}

int e6_htable_init(struct e6_htable *t, size_t max_entries, ptrdiff_t key_offset, size_t key_len,
                   e6_htable_evict_cb evict, void *evict_arg)
{
    size_t nb = 1;

    memset(t, 0, sizeof(*t));
    if (max_entries == 0 || key_len == 0 || max_entries > SIZE_MAX / 2 / sizeof(*t->buckets))
        return -EINVAL;
    while (nb < max_entries)
        nb <<= 1;
    for (size_t got = 0; got < sizeof(t->seed);) {
        ssize_t r = getrandom((uint8_t *)t->seed + got, sizeof(t->seed) - got, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        got += (size_t)r;
    }
    t->buckets = calloc(nb, sizeof(*t->buckets));
    if (!t->buckets)
        return -ENOMEM;
    t->nbuckets = nb;
    t->max_entries = max_entries;
    t->key_offset = (size_t)key_offset;
    t->key_len = key_len;
    t->evict = evict;
    t->evict_arg = evict_arg;
    return 0;
}

static void lru_unlink(struct e6_htable *t, struct e6_hentry *e)
{
    uint8_t c = e->cls;

    if (e->lru_prev)
        e->lru_prev->lru_next = e->lru_next;
    else
        t->lru_head[c] = e->lru_next;
    if (e->lru_next)
        e->lru_next->lru_prev = e->lru_prev;
    else
        t->lru_tail[c] = e->lru_prev;
    e->lru_prev = e->lru_next = NULL;
    t->class_count[c]--;
}

static void lru_push_head(struct e6_htable *t, struct e6_hentry *e, uint8_t c)
{
    e->cls = c;
    e->lru_prev = NULL;
    e->lru_next = t->lru_head[c];
    if (t->lru_head[c])
        t->lru_head[c]->lru_prev = e;
    else
        t->lru_tail[c] = e;
    t->lru_head[c] = e;
    t->class_count[c]++;
}

/* Removes e from its chain; false if e is not in the table. */
static bool chain_unlink(struct e6_htable *t, struct e6_hentry *e)
{
    if (!t->buckets)
        return false;
    struct e6_hentry **pp = &t->buckets[bucket_of(t, key_hash(t, entry_key(t, e)))];
    while (*pp && *pp != e)
        pp = &(*pp)->hnext;
    if (!*pp)
        return false;
    *pp = e->hnext;
    e->hnext = NULL;
    return true;
}

static void unlink_entry(struct e6_htable *t, struct e6_hentry *e)
{
    lru_unlink(t, e);
    t->count--;
}

void e6_htable_destroy(struct e6_htable *t)
{
    for (size_t b = 0; b < t->nbuckets; b++) {
        while (t->buckets[b]) {
            struct e6_hentry *e = t->buckets[b];
            t->buckets[b] = e->hnext;
            e->hnext = NULL;
            unlink_entry(t, e);
            if (t->evict)
                t->evict(e, t->evict_arg);
        }
    }
    free(t->buckets);
    memset(t, 0, sizeof(*t));
}

static struct e6_hentry *find_hashed(const struct e6_htable *t, const void *key, uint64_t h)
{
    uint32_t tag = (uint32_t)(h >> 32);

    for (struct e6_hentry *e = t->buckets[bucket_of(t, h)]; e; e = e->hnext)
        if (e->hash == tag && memcmp(entry_key(t, e), key, t->key_len) == 0)
            return e;
    return NULL;
}

struct e6_hentry *e6_htable_find(const struct e6_htable *t, const void *key)
{
    if (!t->buckets)
        return NULL;
    return find_hashed(t, key, key_hash(t, key));
}

int e6_htable_insert(struct e6_htable *t, struct e6_hentry *e, uint8_t cls)
{
    if (!t->buckets || cls >= E6_HTABLE_CLASSES)
        return -EINVAL;
    uint64_t h = key_hash(t, entry_key(t, e));
    if (find_hashed(t, entry_key(t, e), h))
        return -EEXIST;
    while (t->count >= t->max_entries) {
        int c = 0;
        while (c <= cls && t->class_count[c] == 0)
            c++;
        if (c > cls)
            return -ENOSPC;
        struct e6_hentry *victim = t->lru_tail[c];
        chain_unlink(t, victim);
        unlink_entry(t, victim);
        t->evictions++;
        if (t->evict)
            t->evict(victim, t->evict_arg);
    }
    size_t b = bucket_of(t, h);
    e->hash = (uint32_t)(h >> 32);
    e->hnext = t->buckets[b];
    t->buckets[b] = e;
    lru_push_head(t, e, cls);
    t->count++;
    return 0;
}

void e6_htable_remove(struct e6_htable *t, struct e6_hentry *e)
{
    /* Checked through the chain, so removing an entry twice (or one the
     * table already evicted) is harmless. */
    if (chain_unlink(t, e))
        unlink_entry(t, e);
}

void e6_htable_touch(struct e6_htable *t, struct e6_hentry *e)
{
    if (t->lru_head[e->cls] == e)
        return;
    uint8_t c = e->cls;
    lru_unlink(t, e);
    lru_push_head(t, e, c);
}

void e6_htable_set_class(struct e6_htable *t, struct e6_hentry *e, uint8_t cls)
{
    if (cls >= E6_HTABLE_CLASSES)
        return;
    lru_unlink(t, e);
    lru_push_head(t, e, cls);
}

struct e6_hentry *e6_htable_oldest(const struct e6_htable *t, uint8_t cls)
{
    return cls < E6_HTABLE_CLASSES ? t->lru_tail[cls] : NULL;
}

void e6_htable_foreach(struct e6_htable *t, void (*fn)(struct e6_hentry *e, void *arg), void *arg)
{
    for (size_t b = 0; b < t->nbuckets; b++) {
        struct e6_hentry *e = t->buckets[b];
        while (e) {
            struct e6_hentry *next = e->hnext;
            fn(e, arg);
            e = next;
        }
    }
}
