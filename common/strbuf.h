/*
 * common/strbuf: a growable text buffer that cannot overrun, plus a small
 * JSON writer on top of it. Control-socket views (edge6ctl status,
 * counters, ...) write human tables and JSON through these.
 */
#ifndef E6_COMMON_STRBUF_H
#define E6_COMMON_STRBUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct e6_strbuf {
    char *buf; /* always NUL-terminated once anything was written */
    size_t len;
    size_t cap;
    size_t max;  /* hard limit; 0 = 16 MiB */
    bool failed; /* allocation failed or max reached; further writes are dropped
                  * (a write that does not fit is dropped whole, never cut) */
};

#define E6_STRBUF_INIT                                                                             \
    {                                                                                              \
        0                                                                                          \
    }

void e6_strbuf_printf(struct e6_strbuf *sb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void e6_strbuf_vprintf(struct e6_strbuf *sb, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
void e6_strbuf_append(struct e6_strbuf *sb, const char *s, size_t n);
void e6_strbuf_puts(struct e6_strbuf *sb, const char *s);
/* Empties the buffer and clears failed; keeps the allocation. */
void e6_strbuf_reset(struct e6_strbuf *sb);
/* Frees the memory; max is kept, so the buffer can be used again. */
void e6_strbuf_free(struct e6_strbuf *sb);
/* "" when empty */
const char *e6_strbuf_str(const struct e6_strbuf *sb);
/* Appends s as the contents of a JSON string (no quotes), escaped per RFC 8259. */
void e6_strbuf_json_escape(struct e6_strbuf *sb, const char *s, size_t n);

/*
 * Decodes one UTF-8 sequence at s (n > 0 bytes available). Returns its
 * length (1..4) and stores the code point, or returns -k where k >= 1 is the
 * length of the maximal ill-formed subpart to replace by one U+FFFD
 * (Unicode "best practice"). Overlongs, surrogates and > U+10FFFF are
 * ill-formed. Shared with log.c, which escapes rather than replaces.
 */
int e6_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

/*
 * JSON writer. Commas are inserted automatically. Nesting is bounded
 * (E6_JSON_MAX_DEPTH); misuse sets sb->failed rather than crashing.
 *   e6_json_begin_object(&j, NULL);      top level
 *   e6_json_string(&j, "name", "eth0");  inside an object: key + value
 *   e6_json_begin_array(&j, "list");
 *   e6_json_uint(&j, NULL, 3);           inside an array: key NULL
 */
#define E6_JSON_MAX_DEPTH 16
struct e6_json {
    struct e6_strbuf *sb;
    unsigned depth;
    bool need_comma[E6_JSON_MAX_DEPTH + 1];
    /* internal: container kind per depth, and a key written by e6_json_key */
    bool in_array[E6_JSON_MAX_DEPTH + 1];
    bool key_pending;
};
void e6_json_init(struct e6_json *j, struct e6_strbuf *sb);
void e6_json_begin_object(struct e6_json *j, const char *key);
void e6_json_end_object(struct e6_json *j);
void e6_json_begin_array(struct e6_json *j, const char *key);
void e6_json_end_array(struct e6_json *j);
void e6_json_string(struct e6_json *j, const char *key, const char *value); /* NULL -> null */
void e6_json_uint(struct e6_json *j, const char *key, uint64_t v);
void e6_json_int(struct e6_json *j, const char *key, int64_t v);
void e6_json_bool(struct e6_json *j, const char *key, bool v);
/* Writes `"key":` in an object; the next value is then given with key NULL.
 * This is how a caller places an e6_view_fn's value under a key. */
void e6_json_key(struct e6_json *j, const char *key);
void e6_json_null(struct e6_json *j, const char *key);
/* True when one complete top-level value was written and nothing failed. */
bool e6_json_done(const struct e6_json *j);

/* How a control-socket view renders itself. */
enum e6_view_format {
    E6_VIEW_TEXT,
    E6_VIEW_JSON,
};
/*
 * A view writes one section. For E6_VIEW_JSON it writes exactly one JSON
 * value (usually an object) with j positioned where a value may go; for
 * E6_VIEW_TEXT it writes human lines into j->sb.
 */
typedef void (*e6_view_fn)(struct e6_json *j, enum e6_view_format fmt, void *arg);

#endif
