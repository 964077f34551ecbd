/*
 * common/addr: IPv6 address and prefix helpers. Parsing is strict (the
 * config and the control socket feed it untrusted text); formatting is our
 * own RFC 5952 implementation so that every log line, counter dump and test
 * vector shows one canonical spelling regardless of the libc.
 */
#include "common/addr.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Longest text inet_pton can legitimately accept, without the NUL. */
#define ADDR_TEXT_MAX (E6_ADDRSTRLEN - 1)

static bool addr_char_ok(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' ||
           c == '.';
}

/*
 * inet_pton already refuses most junk, but libcs differ at the edges (some
 * accept a zone id or stop at whitespace), so we only hand it strings made
 * of the characters an IPv6 address can contain.
 */
static bool addr_parse_n(const char *s, size_t n, struct in6_addr *out)
{
    char tmp[ADDR_TEXT_MAX + 1];

    if (n == 0 || n > ADDR_TEXT_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!addr_char_ok(s[i]))
            return false;
    }
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    return inet_pton(AF_INET6, tmp, out) == 1;
}

bool e6_addr_parse(const char *s, struct in6_addr *out)
{
    struct in6_addr a;

    if (s == NULL || out == NULL)
        return false;
    if (!addr_parse_n(s, strnlen(s, ADDR_TEXT_MAX + 1), &a))
        return false;
    *out = a;
    return true;
}

static char *put_hex16(char *p, unsigned v)
{
    static const char hex[] = "0123456789abcdef";
    bool started = false;

    for (int shift = 12; shift >= 0; shift -= 4) {
        unsigned nib = (v >> shift) & 0xf;
        if (nib != 0 || started || shift == 0) {
            *p++ = hex[nib];
            started = true;
        }
    }
    return p;
}

static char *put_dec8(char *p, unsigned v)
{
    if (v >= 100)
        *p++ = (char)('0' + v / 100);
    if (v >= 10)
        *p++ = (char)('0' + (v / 10) % 10);
    *p++ = (char)('0' + v % 10);
    return p;
}

static bool addr_is_v4mapped(const struct in6_addr *a)
{
    static const uint8_t pfx[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return memcmp(a->s6_addr, pfx, sizeof(pfx)) == 0;
}

/* Writes the canonical text into out (at least E6_ADDRSTRLEN bytes). */
static void addr_format_full(const struct in6_addr *a, char *out)
{
    unsigned w[8];
    int nwords = 8;
    int best = -1, bestlen = 0;
    char *p = out;

    for (int i = 0; i < 8; i++)
        w[i] = (unsigned)a->s6_addr[2 * i] << 8 | a->s6_addr[2 * i + 1];

    /* RFC 5952 5: ::ffff:0:0/96 keeps its IPv4 part in dotted quad. */
    if (addr_is_v4mapped(a))
        nwords = 6;

    /* RFC 5952 4.2: longest run of >= 2 zero words, the first on ties. */
    for (int i = 0; i < nwords;) {
        if (w[i] != 0) {
            i++;
            continue;
        }
        int j = i;
        while (j < nwords && w[j] == 0)
            j++;
        if (j - i > bestlen) {
            best = i;
            bestlen = j - i;
        }
        i = j;
    }
    if (bestlen < 2)
        best = -1;

    for (int i = 0; i < nwords; i++) {
        if (i == best) {
            *p++ = ':';
            *p++ = ':';
            i += bestlen - 1;
            continue;
        }
        if (i > 0 && i != best + bestlen)
            *p++ = ':';
        p = put_hex16(p, w[i]);
    }
    if (nwords == 6) {
        if (best + bestlen != 6)
            *p++ = ':';
        for (int i = 12; i < 16; i++) {
            p = put_dec8(p, a->s6_addr[i]);
            if (i < 15)
                *p++ = '.';
        }
    }
    *p = '\0';
}

/* Copy with truncation, like snprintf("%s"), without format warnings. */
static const char *copy_out(const char *src, char *buf, size_t len)
{
    if (buf == NULL || len == 0)
        return buf;
    size_t n = strlen(src);
    if (n >= len)
        n = len - 1;
    memcpy(buf, src, n);
    buf[n] = '\0';
    return buf;
}

const char *e6_addr_format(const struct in6_addr *a, char *buf, size_t len)
{
    char tmp[E6_ADDRSTRLEN];

    addr_format_full(a, tmp);
    return copy_out(tmp, buf, len);
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* Input quoted in error messages is cut here so a long line stays readable. */
#define ERR_QUOTE_MAX 60

/*
 * Copy at most ERR_QUOTE_MAX bytes of s for an error message, with anything
 * but printable ASCII shown as '?': the text goes to logs and terminals.
 */
static const char *quote(const char *s, size_t n, char out[ERR_QUOTE_MAX + 1])
{
    size_t i;

    for (i = 0; i < n && i < ERR_QUOTE_MAX && s[i] != '\0'; i++)
        out[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
    out[i] = '\0';
    return out;
}

bool e6_prefix_parse(const char *s, bool strict, struct e6_prefix *out, char *err, size_t errlen)
{
    struct in6_addr a;
    struct e6_prefix p;
    const char *slash, *lp;
    unsigned len = 0;
    size_t ndig;
    char q[ERR_QUOTE_MAX + 1];

    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (s == NULL || out == NULL) {
        set_err(err, errlen, "no prefix given");
        return false;
    }
    slash = strchr(s, '/');
    if (slash == NULL) {
        set_err(err, errlen, "'%s' has no prefix length (write ADDR/LEN, e.g. 2001:db8::/64)",
                quote(s, SIZE_MAX, q));
        return false;
    }
    if (!addr_parse_n(s, (size_t)(slash - s), &a)) {
        set_err(err, errlen, "'%s' is not an IPv6 address", quote(s, (size_t)(slash - s), q));
        return false;
    }

    lp = slash + 1;
    ndig = strspn(lp, "0123456789");
    if (ndig == 0 || lp[ndig] != '\0') {
        set_err(err, errlen, "prefix length '%s' is not a decimal number 0..128",
                quote(lp, SIZE_MAX, q));
        return false;
    }
    /* "/064" is not accepted: a length is written one way, as the kernel prints it. */
    if (ndig > 1 && lp[0] == '0') {
        set_err(err, errlen, "prefix length '%s' has a leading zero", quote(lp, SIZE_MAX, q));
        return false;
    }
    if (ndig > 3) {
        set_err(err, errlen, "prefix length '%s' is out of range 0..128", quote(lp, SIZE_MAX, q));
        return false;
    }
    for (size_t i = 0; i < ndig; i++)
        len = len * 10 + (unsigned)(lp[i] - '0');
    if (len > 128) {
        set_err(err, errlen, "prefix length %u is out of range 0..128", len);
        return false;
    }

    e6_prefix_make(&p, &a, len);
    if (strict && !e6_addr_equal(&p.addr, &a)) {
        char hint[E6_PREFIXSTRLEN];
        set_err(err, errlen, "host bits set beyond /%u; did you mean %s?", len,
                e6_prefix_format(&p, hint, sizeof(hint)));
        return false;
    }
    *out = p;
    return true;
}

const char *e6_prefix_format(const struct e6_prefix *p, char *buf, size_t len)
{
    char tmp[E6_PREFIXSTRLEN];
    size_t n;

    addr_format_full(&p->addr, tmp);
    n = strlen(tmp);
    tmp[n++] = '/';
    /* len is always <= 128 when built by us; clamp so the text stays short. */
    n = (size_t)(put_dec8(tmp + n, p->len > 128 ? 128 : p->len) - tmp);
    tmp[n] = '\0';
    return copy_out(tmp, buf, len);
}

void e6_addr_mask(struct in6_addr *a, unsigned len)
{
    if (len > 128)
        len = 128;
    unsigned full = len / 8, rem = len % 8;
    if (full < 16) {
        if (rem != 0) {
            a->s6_addr[full] &= (uint8_t)(0xff << (8 - rem));
            full++;
        }
        memset(a->s6_addr + full, 0, 16 - full);
    }
}

void e6_prefix_make(struct e6_prefix *out, const struct in6_addr *a, unsigned len)
{
    if (len > 128)
        len = 128;
    out->addr = *a;
    e6_addr_mask(&out->addr, len);
    out->len = (uint8_t)len;
}

bool e6_addr_match(const struct in6_addr *a, const struct in6_addr *b, unsigned len)
{
    if (len > 128)
        len = 128;
    unsigned full = len / 8, rem = len % 8;
    if (memcmp(a->s6_addr, b->s6_addr, full) != 0)
        return false;
    if (rem == 0)
        return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rem));
    return ((a->s6_addr[full] ^ b->s6_addr[full]) & mask) == 0;
}

bool e6_prefix_contains(const struct e6_prefix *p, const struct in6_addr *a)
{
    return e6_addr_match(&p->addr, a, p->len);
}

bool e6_prefix_covers(const struct e6_prefix *outer, const struct e6_prefix *inner)
{
    return outer->len <= inner->len && e6_addr_match(&outer->addr, &inner->addr, outer->len);
}

bool e6_prefix_equal(const struct e6_prefix *a, const struct e6_prefix *b)
{
    return a->len == b->len && e6_addr_match(&a->addr, &b->addr, a->len);
}

void e6_addr_solicited_node(const struct in6_addr *a, struct in6_addr *out)
{
    struct in6_addr sn = {0};

    /* Read a before writing out: callers may pass the same address. */
    sn.s6_addr[0] = 0xff;
    sn.s6_addr[1] = 0x02;
    sn.s6_addr[11] = 0x01;
    sn.s6_addr[12] = 0xff;
    sn.s6_addr[13] = a->s6_addr[13];
    sn.s6_addr[14] = a->s6_addr[14];
    sn.s6_addr[15] = a->s6_addr[15];
    *out = sn;
}

void e6_addr_multicast_mac(const struct in6_addr *mcast, uint8_t mac[6])
{
    mac[0] = 0x33;
    mac[1] = 0x33;
    memcpy(mac + 2, mcast->s6_addr + 12, 4);
}

void e6_addr_eui64(const uint8_t mac[6], struct in6_addr *inout)
{
    uint8_t *iid = inout->s6_addr + 8;

    /* RFC 4291 2.5.1: invert the universal/local bit in the modified form. */
    iid[0] = mac[0] ^ 0x02;
    iid[1] = mac[1];
    iid[2] = mac[2];
    iid[3] = 0xff;
    iid[4] = 0xfe;
    iid[5] = mac[3];
    iid[6] = mac[4];
    iid[7] = mac[5];
}

bool e6_addr_is_unspecified(const struct in6_addr *a)
{
    static const struct in6_addr zero;
    return memcmp(a, &zero, sizeof(zero)) == 0;
}

bool e6_addr_is_multicast(const struct in6_addr *a)
{
    return a->s6_addr[0] == 0xff;
}

bool e6_addr_is_linklocal(const struct in6_addr *a)
{
    return a->s6_addr[0] == 0xfe && (a->s6_addr[1] & 0xc0) == 0x80;
}

bool e6_addr_is_loopback(const struct in6_addr *a)
{
    static const struct in6_addr lo = {.s6_addr = {[15] = 1}};
    return memcmp(a, &lo, sizeof(lo)) == 0;
}

bool e6_addr_is_solicited_node(const struct in6_addr *a)
{
    static const uint8_t pfx[13] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff};
    return memcmp(a->s6_addr, pfx, sizeof(pfx)) == 0;
}

bool e6_addr_equal(const struct in6_addr *a, const struct in6_addr *b)
{
    return memcmp(a->s6_addr, b->s6_addr, 16) == 0;
}

bool e6_addr_is_ula(const struct in6_addr *a)
{
    return (a->s6_addr[0] & 0xfe) == 0xfc;
}

bool e6_addr_is_v4mapped(const struct in6_addr *a)
{
    return addr_is_v4mapped(a);
}

int e6_addr_mcast_scope(const struct in6_addr *a)
{
    if (!e6_addr_is_multicast(a))
        return -1;
    return a->s6_addr[1] & 0x0f;
}
