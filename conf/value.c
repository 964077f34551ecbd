/*
 * conf/value: one text value to one typed field, for each kind of key and
 * each kind of section title. Every rejection says what was expected, in
 * words an operator can act on; the caller adds "FILE:LINE: ".
 */
#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/internal.h"

#define IFNAME_MAX   15 /* IFNAMSIZ - 1 */
#define USERNAME_MAX 32 /* what utmp and useradd's default allow */

/* The kinds' storage types must match what conf_value_store writes. */
_Static_assert(sizeof(enum e6_log_level) == sizeof(int), "enum fields are int-sized");
_Static_assert(sizeof(enum conf_tunnel_type) == sizeof(int), "enum fields are int-sized");

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

static bool parse_enum(const struct conf_key_def *k, const char *text, union conf_value *out,
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

static bool parse_abspath(const struct conf_key_def *k, const char *text, union conf_value *out,
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

static bool parse_user(const struct conf_key_def *k, const char *text, union conf_value *out,
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

static bool parse_uint(const struct conf_key_def *k, const char *text, union conf_value *out,
                       char *err, size_t errlen)
{
    char q[CONF_QUOTE_BUF];
    unsigned long v = 0;
    const char *p = text;

    /* Plain decimal only: no sign, no hex, no octal surprise from a leading zero. */
    if (*p == '\0' || (p[0] == '0' && p[1] != '\0'))
        goto bad;
    for (; *p; p++) {
        unsigned long d = (unsigned long)(*p - '0');
        if (*p < '0' || *p > '9')
            goto bad;
        if (v > (ULONG_MAX - d) / 10)
            goto range;
        v = v * 10 + d;
    }
    if (v < k->min || v > k->max)
        goto range;
    out->uint = (unsigned)v;
    return true;
bad:
    return errf(err, errlen, "%s %s is not a number (expected %lu to %lu)", k->name,
                conf_quote(text, q, sizeof(q)), k->min, k->max);
range:
    return errf(err, errlen, "%s %s is out of range (expected %lu to %lu)", k->name,
                conf_quote(text, q, sizeof(q)), k->min, k->max);
}

static bool parse_bool(const struct conf_key_def *k, const char *text, union conf_value *out,
                       char *err, size_t errlen)
{
    static const char *const yes[] = {"yes", "true", "on"};
    static const char *const no[] = {"no", "false", "off"};
    char q[CONF_QUOTE_BUF];

    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcmp(text, yes[i]) == 0) {
            out->flag = true;
            return true;
        }
        if (strcmp(text, no[i]) == 0) {
            out->flag = false;
            return true;
        }
    }
    return errf(err, errlen, "%s %s is not yes or no (nor true/false, on/off)", k->name,
                conf_quote(text, q, sizeof(q)));
}

bool conf_value_parse(const struct conf_key_def *k, const char *text, union conf_value *out,
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
    }
    return errf(err, errlen, "%s: unknown kind of key", k->name);
}

void conf_value_store(const struct conf_key_def *k, union conf_value *v, void *base)
{
    char *field = (char *)base + k->offset;

    switch (k->kind) {
    case CONF_K_ENUM:
        memcpy(field, &v->num, sizeof(v->num));
        break;
    case CONF_K_ABSPATH:
    case CONF_K_USER: {
        char *old;
        memcpy(&old, field, sizeof(old));
        free(old);
        memcpy(field, &v->str, sizeof(v->str));
        v->str = NULL; /* the field owns it now */
        break;
    }
    case CONF_K_UINT:
        memcpy(field, &v->uint, sizeof(v->uint));
        break;
    case CONF_K_BOOL:
        memcpy(field, &v->flag, sizeof(v->flag));
        break;
    }
}

void conf_value_release(const struct conf_key_def *k, union conf_value *v)
{
    if (k->kind == CONF_K_ABSPATH || k->kind == CONF_K_USER) {
        free(v->str);
        v->str = NULL;
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
    case CONF_T_PREFIX: {
        struct e6_prefix p;
        char why[160];
        if (!e6_prefix_parse(text, true, &p, why, sizeof(why))) {
            memset(&p, 0, sizeof(p));
            p.len = CONF_PREFIX_INVALID;
            memcpy(field, &p, sizeof(p));
            return errf(err, errlen, "%s %s: %s", d->name, conf_quote(text, q, sizeof(q)), why);
        }
        memcpy(field, &p, sizeof(p));
        return true;
    }
    }
    return errf(err, errlen, "%s: unknown kind of title", d->name);
}
