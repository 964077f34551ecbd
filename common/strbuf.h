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
    size_t max; /* hard limit; 0 = 16 MiB */
    bool failed; /* allocation failed or max reached; further writes are dropped */
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
void e6_strbuf_reset(struct e6_strbuf *sb); /* keeps the allocation */
void e6_strbuf_free(struct e6_strbuf *sb);
/* "" when empty */
const char *e6_strbuf_str(const struct e6_strbuf *sb);

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
