/*
 * conf/internal: what the parts of conf/ share and the unit tests reach
 * into. The schema (schema.c) is data: one row per key, one definition per
 * section; value.c turns one text value into a typed field; scan.c makes the
 * text safe for libconfuse and finds where sections start; load.c drives
 * libconfuse and builds struct conf. Nothing outside conf/ and the tests
 * includes this header.
 */
#ifndef E6_CONF_INTERNAL_H
#define E6_CONF_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "common/addr.h"
#include "conf/conf.h"

/* Limits that keep a hostile or broken file from costing more than a refusal. */
#define CONF_MAX_FILE_SIZE (1024 * 1024) /* bytes */
#define CONF_MAX_SECTIONS  10000         /* libconfuse looks titles up linearly */
#define CONF_MAX_DEPTH     16            /* nested braces */
#define CONF_MAX_ERRORS    50            /* messages reported before giving up */

/* Longest user string quoted back in a message, before it is cut with "...". */
#define CONF_QUOTE_MAX 64

/* What a key's text becomes, and so what type the field at .offset has. */
enum conf_key_kind {
    CONF_K_ENUM,    /* int-sized enum field; text must be one of .choices */
    CONF_K_ABSPATH, /* char *; absolute, at most .max bytes, no control characters */
    CONF_K_USER,    /* char *; user name syntax only, never looked up */
    CONF_K_UINT,    /* unsigned; decimal, .min ... .max */
    CONF_K_BOOL,    /* bool; yes/no, true/false, on/off */
};

/* key flags */
#define CONF_KF_REQUIRED (1u << 0) /* no default: the section must set it */
#define CONF_KF_FILE     (1u << 1) /* ABSPATH names a file: no trailing '/' */

struct conf_choice {
    const char *name;
    int value;
};

struct conf_key_def {
    const char *name;
    enum conf_key_kind kind;
    const char *def; /* default, as text a user could have written; NULL when required */
    unsigned flags;
    size_t offset;                     /* of the field in the section's struct */
    unsigned long min, max;            /* UINT bounds; ABSPATH max length */
    const struct conf_choice *choices; /* ENUM; ends with a NULL name */
};

/* How a section's title is checked and stored at .off_title. */
enum conf_title_kind {
    CONF_T_NONE,   /* "keyword { }" */
    CONF_T_IFNAME, /* char *; a valid Linux interface name */
    CONF_T_PREFIX, /* struct e6_prefix; an IPv6 prefix without host bits */
};

struct conf_section_def;

/* A section that may appear (any number of times) inside another one. */
struct conf_child_def {
    const struct conf_section_def *def;
    size_t off_array; /* T * in the parent: elements in file order */
    size_t off_count; /* size_t in the parent */
};

/*
 * One kind of section. Section keywords are unique across the whole schema
 * (load.c finds a section's definition from its keyword alone); the root is
 * the definition named "root", whose struct is struct conf itself.
 */
struct conf_section_def {
    const char *name;
    enum conf_title_kind title;
    const char *title_help; /* what the title is, for messages: "NAME", "PREFIX" */
    size_t size;            /* of the section's struct */
    size_t off_title;
    size_t off_line; /* unsigned: line of the section's title */
    const struct conf_key_def *keys;
    size_t n_keys;
    const struct conf_child_def *children;
    size_t n_children;
};

extern const struct conf_section_def conf_root_def;

/* Definition of the section with this keyword ("root" for the top level). */
const struct conf_section_def *conf_schema_section(const char *keyword);
const struct conf_key_def *conf_schema_key(const struct conf_section_def *sec, const char *name);

/*
 * Cross-field checks that are not generic (duplicate titles are checked by
 * load.c for every titled section). They run only on a file that parsed.
 */
typedef void (*conf_error_fn)(void *arg, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void conf_schema_check(const struct conf *c, conf_error_fn error, void *arg);

/* value.c: one typed value. */
union conf_value {
    char *str;
    int num;
    unsigned uint;
    bool flag;
};

/*
 * Convert text for key k. On failure writes the whole message ("log-level
 * \"verbose\" is not one of ...") to err and returns false. A string result
 * is malloc'd; conf_value_store hands it to the field.
 */
bool conf_value_parse(const struct conf_key_def *k, const char *text, union conf_value *out,
                      char *err, size_t errlen);
void conf_value_store(const struct conf_key_def *k, union conf_value *v, void *base);
void conf_value_release(const struct conf_key_def *k, union conf_value *v);

/*
 * Title of a section of definition d; same contract as conf_value_parse.
 * A title that fails leaves a mark the cross-field checks skip: a NULL name,
 * or a prefix whose len is CONF_PREFIX_INVALID (the struct is thrown away
 * anyway, but the checks still run so every error is reported at once).
 */
#define CONF_PREFIX_INVALID 0xff
bool conf_title_parse(const struct conf_section_def *d, const char *text, void *base, char *err,
                      size_t errlen);
bool conf_ifname_valid(const char *s);
bool conf_username_valid(const char *s);

/*
 * Quote a user-supplied string for a message: double quotes around it,
 * control bytes, quotes and backslashes escaped, cut after CONF_QUOTE_MAX.
 * buf should hold CONF_QUOTE_BUF bytes. Returns buf.
 */
#define CONF_QUOTE_BUF (CONF_QUOTE_MAX * 4 + 8)
const char *conf_quote(const char *s, char *buf, size_t len);

/* scan.c: the text libconfuse will read, and where each section starts. */
struct conf_span {
    unsigned open_line;  /* line of the title (or keyword) before '{' */
    unsigned close_line; /* line of the matching '}' */
};

struct conf_scan {
    char *text;               /* the input with every comment blanked, NUL-terminated */
    struct conf_span *closes; /* sections in the order their '}' comes (or the end) */
    size_t n_closes;
    unsigned unclosed_line; /* line of the innermost '{' never closed, or 0 */
};

/*
 * Scan text (len bytes, may hold NULs) the way libconfuse 3.3's lexer does.
 * Comments are replaced by spaces, newlines kept, so libconfuse never sees
 * one: its scanner counts 3 lines for every '#' comment line and one extra
 * for every block comment, which would make every later line number wrong.
 * Returns true, or false with *err_line and err set for what libconfuse
 * would misreport or not report at all: a NUL byte, an unterminated string
 * or comment (at the line where it starts), too many or too deep sections.
 */
bool conf_scan(const char *text, size_t len, struct conf_scan *out, unsigned *err_line, char *err,
               size_t errlen);
void conf_scan_free(struct conf_scan *s);

#endif
