/*
 * conf/value: one text value to one typed field, for each kind of key and
 * each kind of section title. Every rejection says what was expected, in
 * words an operator can act on; the caller adds "FILE:LINE: ".
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf/internal.h"

#define IFNAME_MAX   15 /* IFNAMSIZ - 1 */
#define USERNAME_MAX 32 /* what utmp and useradd's default allow */

/* The kinds' storage types must match what conf_value_store writes. */
_Static_assert(sizeof(enum e6_log_level) == sizeof(int), "enum fields are int-sized");
_Static_assert(sizeof(enum conf_tunnel_type) == sizeof(int), "enum fields are int-sized");
_Static_assert(sizeof(enum conf_ra_preference) == sizeof(int), "enum fields are int-sized");
_Static_assert(sizeof(enum conf_ra_mtu_mode) == sizeof(int), "enum fields are int-sized");
_Static_assert(sizeof(enum conf_tristate) == sizeof(int), "enum fields are int-sized");
_Static_assert(sizeof(enum conf_proxy_method) == sizeof(int), "enum fields are int-sized");
_Static_assert(sizeof(enum conf_na_source) == sizeof(int), "enum fields are int-sized");
_Static_assert(sizeof(unsigned) == sizeof(uint32_t), "UINT and LIFETIME fields share storage");

static bool errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool errf(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (err && errlen) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return false;
}

const char *conf_quote(const char *s, char *buf, size_t len)
{
    size_t o = 0, n = 0;

    if (len < 8) {
        if (len)
            buf[0] = '\0';
        return buf;
    }
    buf[o++] = '"';
    for (; *s; s++, n++) {
        unsigned char c = (unsigned char)*s;
        /* room for this byte escaped (4), "..." (3), the quote and the NUL */
        if (n == CONF_QUOTE_MAX || o + 4 + 3 + 2 > len) {
            memcpy(buf + o, "...", 3);
            o += 3;
            break;
        }
        if (c == '"' || c == '\\') {
            buf[o++] = '\\';
            buf[o++] = (char)c;
        } else if (c < 0x20 || c == 0x7f) {
            o += (size_t)snprintf(buf + o, len - o, "\\x%02x", c);
        } else {
            buf[o++] = (char)c;
        }
    }
    buf[o++] = '"';
    buf[o] = '\0';
    return buf;
}

static bool has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return true;
    return false;
}

/*
 * What the kernel accepts for a link name (dev_valid_name), minus what we
 * cannot use: '%' makes the kernel pick a number itself, and control bytes
 * would end up in logs and in edge6ctl's output.
 */
bool conf_ifname_valid(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > IFNAME_MAX || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
        return false;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '/' || c == ':' || c == '%' || isspace(c) || c < 0x20 || c == 0x7f)
            return false;
    }
    return true;
}

/* The portable subset useradd and systemd agree on: [A-Za-z_][A-Za-z0-9_.-]*. */
bool conf_username_valid(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > USERNAME_MAX)
        return false;
    if (!isalpha((unsigned char)s[0]) && s[0] != '_')
        return false;
    for (s++; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (!(c < 0x80 && (isalnum(c) || c == '_' || c == '.' || c == '-')))
            return false;
    }
    return true;
}

static bool parse_enum(const struct conf_key_def *k, const char *text, struct conf_value *out,
                       char *err, size_t errlen)
{
    char q[CONF_QUOTE_BUF], list[256];
    size_t o = 0;

    for (const struct conf_choice *c = k->choices; c->name; c++) {
        if (strcmp(text, c->name) == 0) {
            out->num = c->value;
            return true;
        }
    }
    list[0] = '\0';
    for (const struct conf_choice *c = k->choices; c->name && o < sizeof(list); c++)
        o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s", o ? ", " : "", c->name);
    return errf(err, errlen, "%s %s is not one of %s", k->name, conf_quote(text, q, sizeof(q)),
                list);
}

static bool parse_abspath(const struct conf_key_def *k, const char *text, struct conf_value *out,
                          char *err, size_t errlen)
{
    char q[CONF_QUOTE_BUF];
    size_t n = strlen(text);

    conf_quote(text, q, sizeof(q));
    if (text[0] != '/')
        return errf(err, errlen, "%s %s is not an absolute path (it must start with \"/\")",
                    k->name, q);
    if (n > k->max)
        return errf(err, errlen, "%s %s is %zu bytes long; at most %lu fit", k->name, q, n, k->max);
    if (has_control(text))
        return errf(err, errlen, "%s %s contains a control character", k->name, q);
    if ((k->flags & CONF_KF_FILE) && text[n - 1] == '/')
        return errf(err, errlen, "%s %s ends with \"/\"; expected the path of a file", k->name, q);
    out->str = strdup(text);
    if (!out->str)
        return errf(err, errlen, "out of memory");
    return true;
}

static bool parse_user(const struct conf_key_def *k, const char *text, struct conf_value *out,
                       char *err, size_t errlen)
{
    char q[CONF_QUOTE_BUF];

    if (!conf_username_valid(text))
        return errf(err, errlen,
                    "%s %s is not a valid user name (1 to %d letters, digits, \"_\", \".\" or "
                    "\"-\", starting with a letter or \"_\")",
                    k->name, conf_quote(text, q, sizeof(q)), USERNAME_MAX);
    out->str = strdup(text);
    if (!out->str)
        return errf(err, errlen, "out of memory");
    return true;
}

/* " (RFC 4861 6.2.1)" when the key names its source, else "". */
static const char *rfc_suffix(const struct conf_key_def *k, char *buf, size_t len)
{
    if (k->rfc)
        snprintf(buf, len, " (%s)", k->rfc);
    else if (len)
        buf[0] = '\0';
    return buf;
}

/*
 * Plain decimal only: no sign, no hex, no octal surprise from a leading
 * zero. Returns 1 for a number within bounds, 0 for not a number, -1 below
 * .min, -2 above .max (or too large for any field).
 */
static int decimal(const struct conf_key_def *k, const char *text, unsigned long *out)
{
    unsigned long v = 0;
    const char *p = text;

    if (*p == '\0' || (p[0] == '0' && p[1] != '\0'))
        return 0;
    for (; *p; p++)
        if (*p < '0' || *p > '9')
            return 0;
    for (p = text; *p; p++) {
        unsigned long d = (unsigned long)(*p - '0');
        if (v > (ULONG_MAX - d) / 10)
            return -2;
        v = v * 10 + d;
    }
    if (v < k->min)
        return -1;
    if (v > k->max)
        return -2;
    *out = v;
    return 1;
}

/* "max-interval 2 is below 4 (RFC 4861 6.2.1)" */
static bool range_error(const struct conf_key_def *k, const char *text, int r, char *err,
                        size_t errlen)
{
    char q[CONF_QUOTE_BUF], rfc[96];

    rfc_suffix(k, rfc, sizeof(rfc));
    /* the text is all digits here; quote it only to cut a very long one */
    if (strlen(text) > 20)
        text = conf_quote(text, q, sizeof(q));
    if (r == -1)
        return errf(err, errlen, "%s %s is below %lu%s", k->name, text, k->min, rfc);
    return errf(err, errlen, "%s %s is above %lu%s", k->name, text, k->max, rfc);
}

static bool parse_uint(const struct conf_key_def *k, const char *text, struct conf_value *out,
                       char *err, size_t errlen)
{
    char q[CONF_QUOTE_BUF];
    unsigned long v = 0;
    int r = decimal(k, text, &v);

    if (r == 0)
        return errf(err, errlen, "%s %s is not a number (expected %lu to %lu)", k->name,
                    conf_quote(text, q, sizeof(q)), k->min, k->max);
    if (r < 0)
        return range_error(k, text, r, err, errlen);
    out->uint = (unsigned)v;
    return true;
}

static bool parse_lifetime(const struct conf_key_def *k, const char *text, struct conf_value *out,
                           char *err, size_t errlen)
{
    bool inf = (k->flags & CONF_KF_INFINITY) != 0;
    char q[CONF_QUOTE_BUF];
    unsigned long v = 0;
    int r;

    if (inf && strcmp(text, "infinity") == 0) {
        out->uint = CONF_LIFETIME_INFINITY;
        return true;
    }
    r = decimal(k, text, &v);
    if (r == 0)
        return errf(err, errlen, "%s %s is not a number of seconds (expected %lu to %lu%s)",
                    k->name, conf_quote(text, q, sizeof(q)), k->min, k->max,
                    inf ? " or infinity" : "");
    if (r < 0)
        return range_error(k, text, r, err, errlen);
    out->uint = (unsigned)v;
    return true;
}

const char *conf_lifetime_text(uint32_t v, char *buf, size_t len)
{
    if (v == CONF_LIFETIME_INFINITY)
        snprintf(buf, len, "infinity");
    else
        snprintf(buf, len, "%u", v);
    return buf;
}

static bool parse_enum_uint(const struct conf_key_def *k, const char *text, struct conf_value *out,
                            char *err, size_t errlen)
{
    char q[CONF_QUOTE_BUF], list[256];
    unsigned long v = 0;
    size_t o = 0;
    int r;

    for (const struct conf_choice *c = k->choices; c->name; c++) {
        if (strcmp(text, c->name) == 0) {
            out->num = c->value;
            return true;
        }
    }
    r = decimal(k, text, &v);
    if (r > 0) {
        out->num = k->aux_value;
        out->uint = (unsigned)v;
        return true;
    }
    if (r < 0)
        return range_error(k, text, r, err, errlen);
    list[0] = '\0';
    for (const struct conf_choice *c = k->choices; c->name && o < sizeof(list); c++)
        o += (size_t)snprintf(list + o, sizeof(list) - o, "%s, ", c->name);
    return errf(err, errlen, "%s %s is not %sor a number from %lu to %lu", k->name,
                conf_quote(text, q, sizeof(q)), list, k->min, k->max);
}

static bool parse_string(const struct conf_key_def *k, const char *text, struct conf_value *out,
                         char *err, size_t errlen)
{
    char q[CONF_QUOTE_BUF], why[256];

    if (k->check ? !k->check(text, why, sizeof(why)) : has_control(text)) {
        if (!k->check)
            snprintf(why, sizeof(why), "contains a control character");
        return errf(err, errlen, "%s %s %s", k->name, conf_quote(text, q, sizeof(q)), why);
    }
    out->str = strdup(text);
    if (!out->str)
        return errf(err, errlen, "out of memory");
    return true;
}

static const char *const yes_words[] = {"yes", "true", "on"};
static const char *const no_words[] = {"no", "false", "off"};

/* 1 yes, 0 no, -1 neither */
static int bool_word(const char *text)
{
    for (size_t i = 0; i < sizeof(yes_words) / sizeof(yes_words[0]); i++) {
        if (strcmp(text, yes_words[i]) == 0)
            return 1;
        if (strcmp(text, no_words[i]) == 0)
            return 0;
    }
    return -1;
}

static bool parse_bool(const struct conf_key_def *k, const char *text, struct conf_value *out,
                       char *err, size_t errlen)
{
    char q[CONF_QUOTE_BUF];
    int b = bool_word(text);

    if (b < 0)
        return errf(err, errlen, "%s %s is not yes or no (nor true/false, on/off)", k->name,
                    conf_quote(text, q, sizeof(q)));
    out->flag = b == 1;
    return true;
}

static bool parse_tristate(const struct conf_key_def *k, const char *text, struct conf_value *out,
                           char *err, size_t errlen)
{
    char q[CONF_QUOTE_BUF];
    int b = bool_word(text);

    if (strcmp(text, "auto") == 0) {
        out->num = CONF_TRI_AUTO;
        return true;
    }
    if (b < 0)
        return errf(err, errlen, "%s %s is not auto, yes or no (nor true/false, on/off)", k->name,
                    conf_quote(text, q, sizeof(q)));
    out->num = b == 1 ? CONF_TRI_ON : CONF_TRI_OFF;
    return true;
}

/* An address hosts can be told to use (RDNSS): not ::, loopback or multicast. */
static bool server_addr(const struct conf_key_def *k, const char *text, struct in6_addr *a,
                        char *err, size_t errlen)
{
    char q[CONF_QUOTE_BUF];
    const char *why = NULL;

    conf_quote(text, q, sizeof(q));
    if (!e6_addr_parse(text, a))
        return errf(err, errlen, "%s %s is not an IPv6 address (expected unicast addresses%s)",
                    k->name, q, (k->flags & CONF_KF_AUTO) ? " or auto" : "");
    if (e6_addr_is_unspecified(a))
        why = "is the unspecified address";
    else if (e6_addr_is_multicast(a))
        why = "is a multicast address";
    else if (e6_addr_is_loopback(a))
        why = "is the loopback address (each host would ask itself)";
    if (why)
        return errf(err, errlen, "%s %s %s; expected a unicast address", k->name, q, why);
    return true;
}

static bool count_ok(const struct conf_key_def *k, size_t n, char *err, size_t errlen)
{
    char rfc[96];

    if (n >= k->min && n <= k->max)
        return true;
    rfc_suffix(k, rfc, sizeof(rfc));
    if (n == 0)
        return errf(err, errlen, "%s is empty (expected 1 to %lu entries)%s", k->name, k->max, rfc);
    return errf(err, errlen, "%s has %zu entries (expected %lu to %lu)%s", k->name, n, k->min,
                k->max, rfc);
}

static bool parse_addrlist(const struct conf_key_def *k, const char *const *items, size_t n,
                           struct conf_value *out, char *err, size_t errlen)
{
    char q[CONF_QUOTE_BUF];

    if (!count_ok(k, n, err, errlen))
        return false;
    out->list.addrs = calloc(n, sizeof(*out->list.addrs));
    if (!out->list.addrs)
        return errf(err, errlen, "out of memory");
    for (size_t i = 0; i < n; i++) {
        struct in6_addr a;
        if ((k->flags & CONF_KF_AUTO) && strcmp(items[i], "auto") == 0) {
            if (out->flag)
                return errf(err, errlen, "%s lists auto twice", k->name);
            out->flag = true;
            continue;
        }
        if (!server_addr(k, items[i], &a, err, errlen))
            return false;
        for (size_t j = 0; j < out->n; j++)
            if (e6_addr_equal(&out->list.addrs[j], &a))
                return errf(err, errlen, "%s lists %s twice", k->name,
                            conf_quote(items[i], q, sizeof(q)));
        out->list.addrs[out->n++] = a;
    }
    if (out->n == 0) {
        free(out->list.addrs);
        out->list.addrs = NULL;
    }
    return true;
}

/* Names equal for DNS: ASCII case and one trailing dot do not count. */
static bool same_name(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);

    if (la && a[la - 1] == '.')
        la--;
    if (lb && b[lb - 1] == '.')
        lb--;
    return la == lb && strncasecmp(a, b, la) == 0;
}

static bool parse_strlist(const struct conf_key_def *k, const char *const *items, size_t n,
                          struct conf_value *out, char *err, size_t errlen)
{
    char q[CONF_QUOTE_BUF], why[256];

    if (!count_ok(k, n, err, errlen))
        return false;
    out->list.strs = calloc(n, sizeof(*out->list.strs));
    if (!out->list.strs)
        return errf(err, errlen, "out of memory");
    for (size_t i = 0; i < n; i++) {
        conf_quote(items[i], q, sizeof(q));
        if (k->check ? !k->check(items[i], why, sizeof(why)) : has_control(items[i])) {
            if (!k->check)
                snprintf(why, sizeof(why), "contains a control character");
            return errf(err, errlen, "%s %s %s", k->name, q, why);
        }
        for (size_t j = 0; j < out->n; j++)
            if (same_name(out->list.strs[j], items[i]))
                return errf(err, errlen, "%s lists %s twice", k->name, q);
        out->list.strs[out->n] = strdup(items[i]);
        if (!out->list.strs[out->n])
            return errf(err, errlen, "out of memory");
        out->n++;
    }
    return true;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/*
 * The one spelling `ip link` prints: six bytes of two hex digits, colons
 * between. The address goes into our answers as the target's, so it must be
 * one a neighbour can send to: not a group address (I/G bit), not zero.
 */
static bool parse_mac(const struct conf_key_def *k, const char *text, struct conf_value *out,
                      char *err, size_t errlen)
{
    char q[CONF_QUOTE_BUF];
    bool zero = true;

    conf_quote(text, q, sizeof(q));
    if (strlen(text) != 17)
        goto syntax;
    for (int i = 0; i < 6; i++) {
        int hi = hex_digit(text[3 * i]), lo = hex_digit(text[3 * i + 1]);
        if (hi < 0 || lo < 0 || (i < 5 && text[3 * i + 2] != ':'))
            goto syntax;
        out->mac[i] = (uint8_t)(hi << 4 | lo);
        zero = zero && out->mac[i] == 0;
    }
    if (out->mac[0] & 1)
        return errf(err, errlen,
                    "%s %s is a group (multicast) address; expected a unicast MAC, the I/G bit "
                    "(0x01 of the first byte) clear (IEEE 802, RFC 4861 4.6.1)",
                    k->name, q);
    if (zero)
        return errf(err, errlen,
                    "%s %s is all zero; expected a unicast MAC neighbours can send to "
                    "(RFC 4861 4.6.1)",
                    k->name, q);
    return true;
syntax:
    return errf(err, errlen,
                "%s %s is not a MAC address (expected six hex bytes separated by \":\", like "
                "02:00:5e:10:00:01)",
                k->name, q);
}

/*
 * An IPv4 address a tunnel endpoint can have: what a unicast packet can be
 * sent from or to. inet_pton takes only the dotted quad (no "1.2.3",
 * no leading zeros read as octal by inet_aton).
 */
static bool parse_ipv4(const struct conf_key_def *k, const char *text, struct conf_value *out,
                       char *err, size_t errlen)
{
    char q[CONF_QUOTE_BUF];
    const char *why = NULL, *rfc = NULL;
    uint32_t a;

    conf_quote(text, q, sizeof(q));
    if (inet_pton(AF_INET, text, &out->v4) != 1)
        return errf(err, errlen,
                    "%s %s is not an IPv4 address (expected four decimal numbers 0 to 255 "
                    "separated by \".\", like 192.0.2.1)",
                    k->name, q);
    a = ntohl(out->v4.s_addr);
    if (a >> 24 == 0) {
        why = "is in 0.0.0.0/8, \"this network\", which no packet is sent to or from";
        rfc = "RFC 1122 3.2.1.3";
    } else if (a >> 24 == 127) {
        why = "is loopback, in 127.0.0.0/8: the tunnel's packets would never leave this box";
        rfc = "RFC 1122 3.2.1.3";
    } else if (a >> 28 == 0xe) {
        why = "is multicast, in 224.0.0.0/4";
        rfc = "RFC 5771";
    } else if (a == 0xffffffffu) {
        why = "is the limited broadcast address";
        rfc = "RFC 919";
    } else if (a >> 28 == 0xf) {
        why = "is reserved, in 240.0.0.0/4";
        rfc = "RFC 1112 4";
    }
    if (why)
        return errf(err, errlen, "%s %s %s (expected a unicast address, %s)", k->name, q, why, rfc);
    return true;
}

/* Why an address cannot be a tunnel link's (and the RFC saying so), or NULL. */
static const char *link_addr_problem(const struct in6_addr *a, const char **rfc)
{
    if (e6_addr_is_unspecified(a)) {
        *rfc = "RFC 4291 2.5.2";
        return "is the unspecified address";
    }
    if (e6_addr_is_loopback(a)) {
        *rfc = "RFC 4291 2.5.3";
        return "is the loopback address";
    }
    if (e6_addr_is_multicast(a)) {
        *rfc = "RFC 4291 2.7";
        return "is multicast, in ff00::/8";
    }
    if (e6_addr_is_linklocal(a)) {
        *rfc = "RFC 4213 3.7";
        return "is link-local, in fe80::/10: the tunnel forms its own, this one must be routable";
    }
    return NULL;
}

static bool parse_addr6(const struct conf_key_def *k, const char *text, struct conf_value *out,
                        char *err, size_t errlen)
{
    char q[CONF_QUOTE_BUF];
    const char *why, *rfc = NULL;

    conf_quote(text, q, sizeof(q));
    if (!e6_addr_parse(text, &out->v6))
        return errf(err, errlen, "%s %s is not an IPv6 address (expected one like 2001:db8:9:1::1)",
                    k->name, q);
    why = link_addr_problem(&out->v6, &rfc);
    if (why)
        return errf(err, errlen, "%s %s %s (expected a global or unique-local address, %s)",
                    k->name, q, why, rfc);
    return true;
}

static bool all_zero_from(const struct in6_addr *a, unsigned len)
{
    struct in6_addr m = *a;

    e6_addr_mask(&m, len);
    return e6_addr_equal(&m, a);
}

/* "2001:db8:9:1::2/64": an address and the length of its link's prefix. */
static bool parse_addr_plen(const struct conf_key_def *k, const char *text, struct conf_value *out,
                            char *err, size_t errlen)
{
    char q[CONF_QUOTE_BUF], addr[E6_ADDRSTRLEN + 1], rfc_len[96];
    const char *slash = strrchr(text, '/'), *why, *rfc = NULL;
    unsigned long len = 0;
    size_t n;

    conf_quote(text, q, sizeof(q));
    rfc_suffix(k, rfc_len, sizeof(rfc_len));
    if (!slash)
        return errf(err, errlen,
                    "%s %s has no /LEN (expected ADDRESS/LEN with LEN %lu to %lu, like "
                    "2001:db8:9:1::2/64)",
                    k->name, q, k->min, k->max);
    n = (size_t)(slash - text);
    if (n < sizeof(addr)) {
        memcpy(addr, text, n);
        addr[n] = '\0';
    }
    {
        struct conf_key_def any = {.name = k->name, .max = 128};
        if (n >= sizeof(addr) || !e6_addr_parse(addr, &out->v6) ||
            decimal(&any, slash + 1, &len) != 1)
            return errf(err, errlen,
                        "%s %s is not ADDRESS/LEN (expected an IPv6 address, \"/\" and a length "
                        "%lu to %lu, like 2001:db8:9:1::2/64)",
                        k->name, q, k->min, k->max);
    }
    if (len < k->min || len > k->max)
        return errf(err, errlen, "%s %s: length %lu is %s %lu%s", k->name, q, len,
                    len < k->min ? "below" : "above", len < k->min ? k->min : k->max, rfc_len);
    why = link_addr_problem(&out->v6, &rfc);
    if (why)
        return errf(err, errlen, "%s %s %s (expected a global or unique-local address, %s)",
                    k->name, q, why, rfc);
    /* the address with its host bits cleared is the Subnet-Router anycast
       address, except on a /127 where both addresses are hosts' */
    if (len < 127 && all_zero_from(&out->v6, (unsigned)len)) {
        struct in6_addr sug = out->v6;
        sug.s6_addr[15] |= 2;
        return errf(err, errlen,
                    "%s %s has no host bits: it is the prefix itself, the Subnet-Router anycast "
                    "address (expected an address of the link, like %s/%lu, RFC 4291 2.6.1)",
                    k->name, q, e6_addr_format(&sug, addr, sizeof(addr)), len);
    }
    out->plen = (uint8_t)len;
    return true;
}

/* One "P/L" of a prefix list; why it is refused in err. */
static bool prefix_entry(const struct conf_key_def *k, const char *text, struct e6_prefix *p,
                         char *err, size_t errlen)
{
    char q[CONF_QUOTE_BUF], why[160];
    struct e6_prefix mc, ll;

    conf_quote(text, q, sizeof(q));
    if (!e6_prefix_parse(text, true, p, why, sizeof(why)))
        return errf(err, errlen, "%s %s: %s", k->name, q, why);
    if (p->len > k->len_max)
        return errf(err, errlen,
                    "%s %s: /%u is longer than /%u (expected a /%u or a shorter prefix: hosts "
                    "behind the client form their addresses in a /64, RFC 4862 5.5.3, RFC 7421)",
                    k->name, q, p->len, k->len_max, k->len_max);
    /* ::/0 is the default route; it covers everything, multicast included */
    if ((k->flags & CONF_KF_ROUTES) && p->len == 0)
        return true;
    e6_prefix_parse("ff00::/8", true, &mc, NULL, 0);
    e6_prefix_parse("fe80::/10", true, &ll, NULL, 0);
    if (e6_prefix_covers(p, &mc) || e6_prefix_covers(&mc, p))
        return errf(err, errlen,
                    "%s %s overlaps multicast ff00::/8 (expected a unicast prefix, RFC 4291 2.7)",
                    k->name, q);
    if (e6_prefix_covers(p, &ll) || e6_prefix_covers(&ll, p))
        return errf(err, errlen,
                    "%s %s overlaps link-local fe80::/10, which is never routed (expected a "
                    "global or unique-local prefix, RFC 4291 2.5.6)",
                    k->name, q);
    return true;
}

static bool parse_prefixlist(const struct conf_key_def *k, const char *const *items, size_t n,
                             struct conf_value *out, char *err, size_t errlen)
{
    char q[CONF_QUOTE_BUF], q2[CONF_QUOTE_BUF], b[E6_PREFIXSTRLEN];

    if (!count_ok(k, n, err, errlen))
        return false;
    out->list.prefixes = calloc(n, sizeof(*out->list.prefixes));
    if (!out->list.prefixes)
        return errf(err, errlen, "out of memory");
    for (size_t i = 0; i < n; i++) {
        struct e6_prefix p;
        if (!prefix_entry(k, items[i], &p, err, errlen))
            return false;
        /* at most .max entries: the pairs cost nothing to compare */
        for (size_t j = 0; j < out->n; j++) {
            const struct e6_prefix *o = &out->list.prefixes[j];
            if (e6_prefix_covers(o, &p) || e6_prefix_covers(&p, o))
                return errf(err, errlen,
                            "%s lists %s and %s, which overlap (expected disjoint prefixes)",
                            k->name, conf_quote(e6_prefix_format(o, b, sizeof(b)), q, sizeof(q)),
                            conf_quote(items[i], q2, sizeof(q2)));
        }
        out->list.prefixes[out->n++] = p;
    }
    return true;
}

static bool parse_port(const struct conf_key_def *k, const char *text, struct conf_value *out,
                       char *err, size_t errlen)
{
    char q[CONF_QUOTE_BUF];
    unsigned long v = 0;
    int r = decimal(k, text, &v);

    if (r == 0)
        return errf(err, errlen, "%s %s is not a UDP port number (expected %lu to %lu)", k->name,
                    conf_quote(text, q, sizeof(q)), k->min, k->max);
    if (r < 0)
        return range_error(k, text, r, err, errlen);
    out->port = (uint16_t)v;
    return true;
}

/*
 * One prefix a router serves: global unicast. Inside ::/64 live the
 * unspecified and loopback addresses and the IPv4-compatible ones, none a
 * host can be given.
 */
static bool parse_prefix(const struct conf_key_def *k, const char *text, struct conf_value *out,
                         char *err, size_t errlen)
{
    char q[CONF_QUOTE_BUF], why[160], want[96], rfc[96];
    struct e6_prefix *p = &out->prefix, mc, ll, low;

    conf_quote(text, q, sizeof(q));
    rfc_suffix(k, rfc, sizeof(rfc));
    if (k->min == k->max)
        snprintf(want, sizeof(want), "a global unicast /%lu, like 2001:db8:1:2::/%lu", k->min,
                 k->min);
    else
        snprintf(want, sizeof(want), "a global unicast prefix of length %lu to %lu", k->min,
                 k->max);
    if (!e6_prefix_parse(text, true, p, why, sizeof(why)))
        return errf(err, errlen, "%s %s: %s (expected %s)", k->name, q, why, want);
    if (p->len < k->min || p->len > k->max)
        return errf(err, errlen, "%s %s is a /%u (expected %s)%s", k->name, q, p->len, want, rfc);
    e6_prefix_parse("ff00::/8", true, &mc, NULL, 0);
    e6_prefix_parse("fe80::/10", true, &ll, NULL, 0);
    e6_prefix_parse("::/64", true, &low, NULL, 0);
    if (e6_prefix_covers(p, &mc) || e6_prefix_covers(&mc, p))
        return errf(err, errlen, "%s %s is multicast, in ff00::/8 (expected %s, RFC 4291 2.7)",
                    k->name, q, want);
    if (e6_prefix_covers(p, &ll) || e6_prefix_covers(&ll, p))
        return errf(err, errlen,
                    "%s %s is link-local, in fe80::/10, which is never routed (expected %s, RFC "
                    "4291 2.5.6)",
                    k->name, q, want);
    if (e6_prefix_covers(p, &low) || e6_prefix_covers(&low, p))
        return errf(err, errlen,
                    "%s %s holds the unspecified and loopback addresses (::/64; expected %s, RFC "
                    "4291 2.5.2)",
                    k->name, q, want);
    return true;
}

bool conf_value_parse_list(const struct conf_key_def *k, const char *const *items, size_t n,
                           struct conf_value *out, char *err, size_t errlen)
{
    bool ok;

    memset(out, 0, sizeof(*out));
    if (k->kind == CONF_K_ADDRLIST)
        ok = parse_addrlist(k, items, n, out, err, errlen);
    else if (k->kind == CONF_K_STRLIST)
        ok = parse_strlist(k, items, n, out, err, errlen);
    else if (k->kind == CONF_K_PREFIXLIST)
        ok = parse_prefixlist(k, items, n, out, err, errlen);
    else
        return errf(err, errlen, "%s takes one value, not a list", k->name);
    if (!ok)
        conf_value_release(k, out);
    return ok;
}

bool conf_value_parse(const struct conf_key_def *k, const char *text, struct conf_value *out,
                      char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    if (!text)
        return errf(err, errlen, "%s has no value", k->name);
    switch (k->kind) {
    case CONF_K_ENUM:
        return parse_enum(k, text, out, err, errlen);
    case CONF_K_ABSPATH:
        return parse_abspath(k, text, out, err, errlen);
    case CONF_K_USER:
        return parse_user(k, text, out, err, errlen);
    case CONF_K_UINT:
        return parse_uint(k, text, out, err, errlen);
    case CONF_K_BOOL:
        return parse_bool(k, text, out, err, errlen);
    case CONF_K_LIFETIME:
        return parse_lifetime(k, text, out, err, errlen);
    case CONF_K_TRISTATE:
        return parse_tristate(k, text, out, err, errlen);
    case CONF_K_ENUM_UINT:
        return parse_enum_uint(k, text, out, err, errlen);
    case CONF_K_STRING:
        return parse_string(k, text, out, err, errlen);
    case CONF_K_ADDRLIST:
    case CONF_K_STRLIST:
    case CONF_K_PREFIXLIST:
        return conf_value_parse_list(k, &text, 1, out, err, errlen);
    case CONF_K_MAC:
        return parse_mac(k, text, out, err, errlen);
    case CONF_K_IPV4:
        return parse_ipv4(k, text, out, err, errlen);
    case CONF_K_ADDR6:
        return parse_addr6(k, text, out, err, errlen);
    case CONF_K_ADDR_PLEN:
        return parse_addr_plen(k, text, out, err, errlen);
    case CONF_K_PORT:
        return parse_port(k, text, out, err, errlen);
    case CONF_K_PREFIX:
        return parse_prefix(k, text, out, err, errlen);
    }
    return errf(err, errlen, "%s: unknown kind of key", k->name);
}

static void store_ptr(char *field, void **p)
{
    memcpy(field, p, sizeof(*p));
    *p = NULL; /* the field owns it now */
}

void conf_value_store(const struct conf_key_def *k, struct conf_value *v, void *base)
{
    char *field = (char *)base + k->offset;

    switch (k->kind) {
    case CONF_K_ENUM:
    case CONF_K_TRISTATE:
        memcpy(field, &v->num, sizeof(v->num));
        break;
    case CONF_K_ENUM_UINT:
        memcpy(field, &v->num, sizeof(v->num));
        if (v->num == k->aux_value)
            memcpy((char *)base + k->off_aux, &v->uint, sizeof(v->uint));
        break;
    case CONF_K_ABSPATH:
    case CONF_K_USER:
    case CONF_K_STRING:
        conf_value_free_field(k, base);
        store_ptr(field, (void **)&v->str);
        break;
    case CONF_K_UINT:
    case CONF_K_LIFETIME:
        memcpy(field, &v->uint, sizeof(v->uint));
        break;
    case CONF_K_BOOL:
        memcpy(field, &v->flag, sizeof(v->flag));
        break;
    case CONF_K_ADDRLIST:
        conf_value_free_field(k, base);
        store_ptr(field, (void **)&v->list.addrs);
        memcpy((char *)base + k->off_count, &v->n, sizeof(v->n));
        if (k->flags & CONF_KF_AUTO)
            memcpy((char *)base + k->off_aux, &v->flag, sizeof(v->flag));
        v->n = 0;
        break;
    case CONF_K_STRLIST:
        conf_value_free_field(k, base);
        store_ptr(field, (void **)&v->list.strs);
        memcpy((char *)base + k->off_count, &v->n, sizeof(v->n));
        v->n = 0;
        break;
    case CONF_K_PREFIXLIST:
        conf_value_free_field(k, base);
        store_ptr(field, (void **)&v->list.prefixes);
        memcpy((char *)base + k->off_count, &v->n, sizeof(v->n));
        v->n = 0;
        break;
    case CONF_K_IPV4:
        memcpy(field, &v->v4, sizeof(v->v4));
        break;
    case CONF_K_ADDR6:
        memcpy(field, &v->v6, sizeof(v->v6));
        break;
    case CONF_K_ADDR_PLEN:
        memcpy(field, &v->v6, sizeof(v->v6));
        memcpy((char *)base + k->off_aux, &v->plen, sizeof(v->plen));
        break;
    case CONF_K_PORT:
        memcpy(field, &v->port, sizeof(v->port));
        break;
    case CONF_K_PREFIX:
        memcpy(field, &v->prefix, sizeof(v->prefix));
        break;
    case CONF_K_MAC: {
        bool set = true;
        memcpy(field, v->mac, sizeof(v->mac));
        memcpy((char *)base + k->off_aux, &set, sizeof(set));
        break;
    }
    }
}

void conf_value_release(const struct conf_key_def *k, struct conf_value *v)
{
    free(v->str);
    v->str = NULL;
    if (k->kind == CONF_K_STRLIST && v->list.strs)
        for (size_t i = 0; i < v->n; i++)
            free(v->list.strs[i]);
    /* addrs, strs and prefixes share storage */
    free(v->list.addrs);
    v->list.addrs = NULL;
    v->n = 0;
}

void conf_value_free_field(const struct conf_key_def *k, void *base)
{
    char *field = (char *)base + k->offset;
    void *p;

    switch (k->kind) {
    case CONF_K_ABSPATH:
    case CONF_K_USER:
    case CONF_K_STRING:
    case CONF_K_ADDRLIST:
    case CONF_K_PREFIXLIST:
        break;
    case CONF_K_STRLIST: {
        char **strs;
        size_t n;
        memcpy(&strs, field, sizeof(strs));
        memcpy(&n, (char *)base + k->off_count, sizeof(n));
        for (size_t i = 0; strs && i < n; i++)
            free(strs[i]);
        break;
    }
    default:
        return;
    }
    memcpy(&p, field, sizeof(p));
    free(p);
    p = NULL;
    memcpy(field, &p, sizeof(p));
    if (CONF_KIND_IS_LIST(k->kind)) {
        size_t zero = 0;
        memcpy((char *)base + k->off_count, &zero, sizeof(zero));
    }
}

bool conf_title_parse(const struct conf_section_def *d, const char *text, void *base, char *err,
                      size_t errlen)
{
    char *field = (char *)base + d->off_title;
    char q[CONF_QUOTE_BUF];

    switch (d->title) {
    case CONF_T_NONE:
        return true;
    case CONF_T_IFNAME: {
        char *copy;
        if (!conf_ifname_valid(text))
            return errf(err, errlen,
                        "%s name %s is not a valid interface name (1 to %d characters, none of "
                        "\"/\", \":\", \"%%\", spaces or control characters, not \".\" or "
                        "\"..\")",
                        d->name, conf_quote(text, q, sizeof(q)), IFNAME_MAX);
        copy = strdup(text);
        if (!copy)
            return errf(err, errlen, "out of memory");
        memcpy(field, &copy, sizeof(copy));
        return true;
    }
    case CONF_T_PREFIX:
    case CONF_T_PREFIX_AUTO: {
        struct e6_prefix p;
        char why[160];
        if (d->title == CONF_T_PREFIX_AUTO && strcmp(text, "auto") == 0) {
            bool yes = true;
            memset(&p, 0, sizeof(p));
            memcpy(field, &p, sizeof(p));
            memcpy((char *)base + d->off_auto, &yes, sizeof(yes));
            return true;
        }
        if (!e6_prefix_parse(text, true, &p, why, sizeof(why))) {
            memset(&p, 0, sizeof(p));
            p.len = CONF_PREFIX_INVALID;
            memcpy(field, &p, sizeof(p));
            return errf(err, errlen, "%s %s: %s%s", d->name, conf_quote(text, q, sizeof(q)), why,
                        d->title == CONF_T_PREFIX_AUTO && !strchr(text, '/') ? " (or the word auto)"
                                                                             : "");
        }
        memcpy(field, &p, sizeof(p));
        return true;
    }
    }
    return errf(err, errlen, "%s: unknown kind of title", d->name);
}
