/*
 * common/strbuf: bounded growable text buffer and the JSON writer that
 * control-socket views use. Every write either fits entirely or sets
 * `failed` and is dropped, so a reader never sees half a value without
 * also seeing the flag.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"

#define STRBUF_DEFAULT_MAX ((size_t)16 << 20)
#define STRBUF_MIN_CAP     64

static size_t sb_limit(const struct e6_strbuf *sb)
{
    return sb->max ? sb->max : STRBUF_DEFAULT_MAX;
}

/* Make room for `extra` more bytes plus the NUL; false (and failed) if not. */
static bool sb_reserve(struct e6_strbuf *sb, size_t extra)
{
    size_t limit = sb_limit(sb);
    size_t need;

    if (sb->failed)
        return false;
    if (extra >= limit || sb->len > limit - 1 - extra) {
        sb->failed = true;
        return false;
    }
    need = sb->len + extra + 1;
    if (need <= sb->cap)
        return true;

    size_t ncap = sb->cap ? sb->cap : STRBUF_MIN_CAP;
    while (ncap < need)
        ncap = ncap > limit / 2 ? limit : ncap * 2;
    char *nb = realloc(sb->buf, ncap);
    if (!nb) {
        sb->failed = true;
        return false;
    }
    sb->buf = nb;
    sb->cap = ncap;
    return true;
}

void e6_strbuf_append(struct e6_strbuf *sb, const char *s, size_t n)
{
    if (!sb_reserve(sb, n))
        return;
    if (n)
        memcpy(sb->buf + sb->len, s, n);
    sb->len += n;
    sb->buf[sb->len] = '\0';
}

void e6_strbuf_puts(struct e6_strbuf *sb, const char *s)
{
    e6_strbuf_append(sb, s, strlen(s));
}

void e6_strbuf_vprintf(struct e6_strbuf *sb, const char *fmt, va_list ap)
{
    va_list aq;
    int n;

    if (sb->failed)
        return;
    /* First try in the space we already have; most lines fit. */
    size_t avail = sb->cap > sb->len ? sb->cap - sb->len : 0;
    va_copy(aq, ap);
    n = vsnprintf(avail ? sb->buf + sb->len : NULL, avail, fmt, aq);
    va_end(aq);
    if (n < 0) {
        sb->failed = true;
        if (sb->buf)
            sb->buf[sb->len] = '\0';
        return;
    }
    if ((size_t)n < avail) {
        /* Fitted; still enforce the hard limit. */
        if (sb->len + (size_t)n + 1 > sb_limit(sb)) {
            sb->buf[sb->len] = '\0';
            sb->failed = true;
            return;
        }
        sb->len += (size_t)n;
        return;
    }
    if (sb->buf)
        sb->buf[sb->len] = '\0'; /* undo the partial write */
    if (!sb_reserve(sb, (size_t)n))
        return;
    va_copy(aq, ap);
    vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, aq);
    va_end(aq);
    sb->len += (size_t)n;
}

void e6_strbuf_printf(struct e6_strbuf *sb, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    e6_strbuf_vprintf(sb, fmt, ap);
    va_end(ap);
}

void e6_strbuf_reset(struct e6_strbuf *sb)
{
    sb->len = 0;
    sb->failed = false;
    if (sb->buf)
        sb->buf[0] = '\0';
}

void e6_strbuf_free(struct e6_strbuf *sb)
{
    size_t max = sb->max;

    free(sb->buf);
    memset(sb, 0, sizeof(*sb));
    sb->max = max;
}

const char *e6_strbuf_str(const struct e6_strbuf *sb)
{
    return sb->buf ? sb->buf : "";
}

int e6_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned char c = s[0];
    size_t len;
    uint32_t v;
    unsigned char lo = 0x80, hi = 0xbf; /* allowed range of the second byte */

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        v = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        v = c & 0x0f;
        if (c == 0xe0)
            lo = 0xa0; /* overlong */
        else if (c == 0xed)
            hi = 0x9f; /* surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        v = c & 0x07;
        if (c == 0xf0)
            lo = 0x90; /* overlong */
        else if (c == 0xf4)
            hi = 0x8f; /* > U+10FFFF */
    } else {
        return -1; /* continuation byte, C0/C1 overlong lead, or F5..FF */
    }
    for (size_t i = 1; i < len; i++) {
        if (i >= n)
            return -(int)i;
        unsigned char b = s[i];
        if (b < lo || b > hi)
            return -(int)i;
        lo = 0x80;
        hi = 0xbf;
        v = (v << 6) | (b & 0x3f);
    }
    *cp = v;
    return (int)len;
}

void e6_strbuf_json_escape(struct e6_strbuf *sb, const char *str, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0, run = 0; /* run: bytes from s+i-run that need no escaping */

    while (i < n && !sb->failed) {
        unsigned char c = s[i];
        uint32_t cp;
        int r = -1;

        if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
            i++;
            run++;
            continue;
        }
        if (c >= 0x80) {
            r = e6_utf8_decode(s + i, n - i, &cp);
            if (r > 0) {
                i += (size_t)r;
                run += (size_t)r;
                continue;
            }
        }
        e6_strbuf_append(sb, (const char *)s + i - run, run);
        run = 0;
        if (c == '"') {
            e6_strbuf_append(sb, "\\\"", 2);
            i++;
        } else if (c == '\\') {
            e6_strbuf_append(sb, "\\\\", 2);
            i++;
        } else if (c < 0x20) {
            char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            e6_strbuf_append(sb, u, sizeof(u));
            i++;
        } else {
            e6_strbuf_append(sb, "\\ufffd", 6);
            i += (size_t)-r;
        }
    }
    e6_strbuf_append(sb, (const char *)s + i - run, run);
}

/* ---- JSON writer ---- */

void e6_json_init(struct e6_json *j, struct e6_strbuf *sb)
{
    memset(j, 0, sizeof(*j));
    j->sb = sb;
}

static void json_fail(struct e6_json *j)
{
    j->sb->failed = true;
}

static void json_quoted(struct e6_json *j, const char *s)
{
    e6_strbuf_append(j->sb, "\"", 1);
    e6_strbuf_json_escape(j->sb, s, strlen(s));
    e6_strbuf_append(j->sb, "\"", 1);
}

/*
 * Writes what must precede a value at the current position (comma, key)
 * and checks the key matches the container: objects need one (or a
 * pending e6_json_key), arrays and the top level take none.
 */
static bool json_prefix(struct e6_json *j, const char *key)
{
    unsigned d = j->depth;

    if (!j->sb || j->sb->failed)
        return false;
    if (j->key_pending) {
        if (key) {
            json_fail(j);
            return false;
        }
        j->key_pending = false;
        return true;
    }
    if (d == 0) {
        /* exactly one top-level value */
        if (key || j->need_comma[0]) {
            json_fail(j);
            return false;
        }
        j->need_comma[0] = true;
        return true;
    }
    if (j->in_array[d] ? key != NULL : key == NULL) {
        json_fail(j);
        return false;
    }
    if (j->need_comma[d])
        e6_strbuf_append(j->sb, ",", 1);
    j->need_comma[d] = true;
    if (key) {
        json_quoted(j, key);
        e6_strbuf_append(j->sb, ":", 1);
    }
    return !j->sb->failed;
}

void e6_json_key(struct e6_json *j, const char *key)
{
    if (!j->sb || j->sb->failed)
        return;
    if (!key || j->depth == 0 || j->in_array[j->depth] || j->key_pending) {
        json_fail(j);
        return;
    }
    if (!json_prefix(j, key))
        return;
    j->key_pending = true;
}

static void json_begin(struct e6_json *j, const char *key, bool array)
{
    if (j->sb && !j->sb->failed && j->depth >= E6_JSON_MAX_DEPTH) {
        json_fail(j);
        return;
    }
    if (!json_prefix(j, key))
        return;
    e6_strbuf_append(j->sb, array ? "[" : "{", 1);
    j->depth++;
    j->need_comma[j->depth] = false;
    j->in_array[j->depth] = array;
}

static void json_end(struct e6_json *j, bool array)
{
    if (!j->sb || j->sb->failed)
        return;
    if (j->depth == 0 || j->in_array[j->depth] != array || j->key_pending) {
        json_fail(j);
        return;
    }
    e6_strbuf_append(j->sb, array ? "]" : "}", 1);
    j->depth--;
}

void e6_json_begin_object(struct e6_json *j, const char *key)
{
    json_begin(j, key, false);
}

void e6_json_end_object(struct e6_json *j)
{
    json_end(j, false);
}

void e6_json_begin_array(struct e6_json *j, const char *key)
{
    json_begin(j, key, true);
}

void e6_json_end_array(struct e6_json *j)
{
    json_end(j, true);
}

void e6_json_string(struct e6_json *j, const char *key, const char *value)
{
    if (!json_prefix(j, key))
        return;
    if (value)
        json_quoted(j, value);
    else
        e6_strbuf_append(j->sb, "null", 4);
}

void e6_json_uint(struct e6_json *j, const char *key, uint64_t v)
{
    if (json_prefix(j, key))
        e6_strbuf_printf(j->sb, "%" PRIu64, v);
}

void e6_json_int(struct e6_json *j, const char *key, int64_t v)
{
    if (json_prefix(j, key))
        e6_strbuf_printf(j->sb, "%" PRId64, v);
}

void e6_json_bool(struct e6_json *j, const char *key, bool v)
{
    if (json_prefix(j, key))
        e6_strbuf_puts(j->sb, v ? "true" : "false");
}

void e6_json_null(struct e6_json *j, const char *key)
{
    if (json_prefix(j, key))
        e6_strbuf_append(j->sb, "null", 4);
}

bool e6_json_done(const struct e6_json *j)
{
    return j->sb && !j->sb->failed && j->depth == 0 && j->need_comma[0] && !j->key_pending;
}
