/*
 * tests/fuzz/fuzz_addr: libFuzzer target for common/addr's text parsers.
 * Whatever e6_addr_parse or e6_prefix_parse accepts must format to text
 * that parses back to the same value, and formatting must be idempotent.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/addr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_addr(const struct in6_addr *a)
{
    char t1[E6_ADDRSTRLEN], t2[E6_ADDRSTRLEN];
    struct in6_addr b;

    e6_addr_format(a, t1, sizeof(t1));
    if (!e6_addr_parse(t1, &b) || !e6_addr_equal(a, &b))
        __builtin_trap();
    e6_addr_format(&b, t2, sizeof(t2));
    if (strcmp(t1, t2) != 0)
        __builtin_trap();
}

static void check_prefix(const struct e6_prefix *p)
{
    char t1[E6_PREFIXSTRLEN], t2[E6_PREFIXSTRLEN], err[128];
    struct e6_prefix q, host;

    if (p->len > 128)
        __builtin_trap();
    /* the invariant: no bits set beyond len */
    e6_prefix_make(&host, &p->addr, p->len);
    if (!e6_addr_equal(&host.addr, &p->addr))
        __builtin_trap();
    e6_prefix_format(p, t1, sizeof(t1));
    /* a formatted prefix is always acceptable to the strict parser */
    if (!e6_prefix_parse(t1, true, &q, err, sizeof(err)) || !e6_prefix_equal(p, &q))
        __builtin_trap();
    e6_prefix_format(&q, t2, sizeof(t2));
    if (strcmp(t1, t2) != 0)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    struct in6_addr a;
    struct e6_prefix p;
    char err[128];

    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';

    if (e6_addr_parse(s, &a))
        check_addr(&a);
    if (e6_prefix_parse(s, false, &p, err, sizeof(err))) {
        check_prefix(&p);
        check_addr(&p.addr);
    }
    if (e6_prefix_parse(s, true, &p, err, sizeof(err)))
        check_prefix(&p);
    else if (memchr(err, '\0', sizeof(err)) == NULL)
        __builtin_trap(); /* the error text is always terminated */

    free(s);
    return 0;
}
