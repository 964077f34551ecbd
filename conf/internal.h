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
#include <stdint.h>

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
    /* uint32_t; seconds .min ... .max, or "infinity" (CONF_LIFETIME_INFINITY)
       when CONF_KF_INFINITY */
    CONF_K_LIFETIME,
    CONF_K_TRISTATE, /* enum conf_tristate; a BOOL word or "auto" */
    /* int-sized enum at .offset: one of .choices, or a decimal .min ... .max,
       which stores .aux_value at .offset and the number (unsigned) at .off_aux */
    CONF_K_ENUM_UINT,
    CONF_K_STRING, /* char *; .check (when set) decides, else no control characters */
    /* struct in6_addr * at .offset, size_t at .off_count; .min ... .max entries,
       each a unicast address; with CONF_KF_AUTO the word "auto" may be one
       entry, sets the bool at .off_aux and is not stored in the array */
    CONF_K_ADDRLIST,
    /* char ** at .offset, size_t at .off_count; .min ... .max entries, each
       passing .check, no two equal (ignoring case) */
    CONF_K_STRLIST,
    /* uint8_t[6] at .offset, a unicast MAC written aa:bb:cc:dd:ee:ff; sets the
       bool at .off_aux. No default: unset leaves both zero */
    CONF_K_MAC,
    /* struct in_addr at .offset: a unicast IPv4 address (not 0.0.0.0/8,
       127.0.0.0/8, multicast, 240.0.0.0/4 or broadcast). No default: unset is 0 */
    CONF_K_IPV4,
    /* struct in6_addr at .offset: a unicast address that can be routed (not
       ::, loopback, multicast or link-local); default from .derive_into */
    CONF_K_ADDR6,
    /* "ADDR/LEN": struct in6_addr at .offset, uint8_t LEN at .off_aux; LEN
       .min ... .max; an address of the prefix, not the prefix itself (on a
       /127 either address, RFC 6164), not multicast, link-local, loopback or :: */
    CONF_K_ADDR_PLEN,
    /* struct e6_prefix * at .offset, size_t at .off_count; .min ... .max
       entries, each "P/L" without host bits, L at most .len_max, not
       multicast or link-local, no two overlapping */
    CONF_K_PREFIXLIST,
    /* uint16_t at .offset: a UDP port, decimal .min ... .max */
    CONF_K_PORT,
    /* struct e6_prefix at .offset: "P/L" without host bits, L .min ... .max,
       a global unicast prefix (not multicast, link-local or inside ::/64
       where :: and loopback live). No default: unset is all zero */
    CONF_K_PREFIX,
};

/* key flags */
#define CONF_KF_REQUIRED (1u << 0) /* no default: the section must set it */
#define CONF_KF_FILE     (1u << 1) /* ABSPATH names a file: no trailing '/' */
#define CONF_KF_INFINITY (1u << 2) /* LIFETIME: "infinity" allowed */
#define CONF_KF_AUTO     (1u << 3) /* ADDRLIST: the word "auto" allowed */
#define CONF_KF_PARENT   (1u << 4) /* .derive reads the parent section, not this one */
/* No default: absent leaves the field zero, and the section's checks say
   when it is needed (a 6in4 tunnel's mode) or what zero means (the tunnel's mtu) */
#define CONF_KF_UNSET (1u << 5)
/* PREFIXLIST: the entries are routes (RFC 4191 Route Information): ::/0,
   the default route, is allowed although it covers multicast and link-local */
#define CONF_KF_ROUTES (1u << 6)

/* Lists are kinds too; libconfuse gets them as lists of strings. */
#define CONF_KIND_IS_LIST(k)                                                                       \
    ((k) == CONF_K_ADDRLIST || (k) == CONF_K_STRLIST || (k) == CONF_K_PREFIXLIST)

/*
 * Checks a STRING value or one STRLIST entry. On false, writes why to err:
 * the caller prefixes it with the key and the quoted value.
 */
typedef bool (*conf_text_check_fn)(const char *text, char *err, size_t errlen);

/*
 * A default computed from other values (min-interval from max-interval,
 * lifetimes from the interface's max-interval). self is the section's
 * struct with every plain key already stored; parent is the enclosing
 * section's struct (its own defaults already computed) when the key has
 * CONF_KF_PARENT, else NULL. Computed defaults always pass the section's
 * checks, so the checks need not tell them from written values.
 */
typedef unsigned long (*conf_derive_fn)(const void *self, const void *parent);
/*
 * The same for a default that is not a number (an address computed from
 * another key): writes the field itself. Such a default may still collide
 * with a written value (client-address = ::1 against the ::1 default of
 * server-address), so the section's checks must say which it was.
 */
typedef void (*conf_derive_into_fn)(void *field, const void *self, const void *parent);

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
    unsigned long min, max;            /* UINT, LIFETIME, ENUM_UINT bounds; list entries;
                                          ABSPATH max length */
    const struct conf_choice *choices; /* ENUM, ENUM_UINT; ends with a NULL name */
    const char *rfc;                   /* quoted in bound messages: "RFC 4861 6.2.1" */
    size_t off_count;                  /* lists: size_t entries */
    size_t off_aux;                    /* ENUM_UINT number; ADDRLIST "auto" bool */
    int aux_value;                     /* ENUM_UINT: enum value meaning "a number" */
    conf_text_check_fn check;          /* STRING, STRLIST */
    conf_derive_fn derive;             /* default when .def is NULL and not required */
    conf_derive_into_fn derive_into;   /* same, for ADDR6 */
    unsigned len_max;                  /* PREFIXLIST: longest prefix length allowed */
};

/* How a section's title is checked and stored at .off_title. */
enum conf_title_kind {
    CONF_T_NONE,   /* "keyword { }" */
    CONF_T_IFNAME, /* char *; a valid Linux interface name */
    CONF_T_PREFIX, /* struct e6_prefix; an IPv6 prefix without host bits */
    /* CONF_T_PREFIX, or the word "auto": sets the bool at .off_auto and
       leaves the prefix all zero */
    CONF_T_PREFIX_AUTO,
};

/* What the file said about one key of a section, for the section's checks. */
struct conf_key_state {
    unsigned line; /* where it was set; 0 when the default stands */
    bool bad;      /* set but refused (already reported): the default stands */
};

/*
 * A section's cross-field checks see its struct with every default
 * computed, its parent's struct, and per key (in the order of .keys)
 * whether the file set it and where. A check skips what involves a bad key:
 * its message is already out and the stand-in default would only mislead.
 */
struct conf_check {
    const struct conf_section_def *def;
    const void *elem;
    const void *parent;
    const struct conf_key_state *keys;
    const struct conf_key_state *parent_keys; /* of the parent's definition */
    const struct conf *root;                  /* the whole result: .late_check only */
    /* .late_check only: the key states of another section of the result
       whose definition has a late_check or .keep_keys (NULL if none) */
    const struct conf_key_state *(*keys_of)(void *arg, const void *elem);
    unsigned line; /* of the section's title */
    void (*error)(void *arg, unsigned line, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
    void *arg;
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
    size_t off_auto; /* CONF_T_PREFIX_AUTO: bool, the title was "auto" */
    /*
     * Cross-field checks of one section, run when its parent closes (so the
     * parent's values are known); NULL when there are none. The root's are
     * conf_schema_check.
     */
    void (*check)(const struct conf_check *ck);
    /*
     * Checks that need the whole file, such as a name that may be defined
     * further down: run once every section is assembled (after
     * conf_schema_check), with .root set and no parent (.parent and
     * .parent_keys NULL). NULL when there are none.
     */
    void (*late_check)(const struct conf_check *ck);
    /* keep the key states of these sections for the late checks of others
       (keys_of), to point at the line of a key */
    bool keep_keys;
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
typedef const struct conf_key_state *(*conf_keys_of_fn)(void *arg, const void *elem);
void conf_schema_check(const struct conf *c, conf_error_fn error, conf_keys_of_fn keys_of,
                       void *arg);

/* value.c: one typed value (a struct: ENUM_UINT and ADDRLIST fill two fields). */
union conf_value_list {
    struct in6_addr *addrs;
    char **strs;
    struct e6_prefix *prefixes;
};

struct conf_value {
    char *str;
    int num;
    unsigned uint;           /* UINT, LIFETIME, ENUM_UINT's number */
    bool flag;               /* BOOL; ADDRLIST: "auto" was listed */
    uint8_t mac[6];          /* MAC */
    struct in_addr v4;       /* IPV4 */
    struct in6_addr v6;      /* ADDR6, ADDR_PLEN */
    uint8_t plen;            /* ADDR_PLEN */
    uint16_t port;           /* PORT */
    struct e6_prefix prefix; /* PREFIX */
    union conf_value_list list;
    size_t n; /* entries in list */
};

/*
 * Convert text for key k. On failure writes the whole message ("log-level
 * \"verbose\" is not one of ...") to err and returns false. A string result
 * is malloc'd; conf_value_store hands it to the field.
 */
bool conf_value_parse(const struct conf_key_def *k, const char *text, struct conf_value *out,
                      char *err, size_t errlen);
void conf_value_store(const struct conf_key_def *k, struct conf_value *v, void *base);
void conf_value_release(const struct conf_key_def *k, struct conf_value *v);
/* A list key's entries (n of them); conf_value_parse takes one text as a one-entry list. */
bool conf_value_parse_list(const struct conf_key_def *k, const char *const *items, size_t n,
                           struct conf_value *out, char *err, size_t errlen);
/* Free what the field of key k in base owns (strings, arrays). */
void conf_value_free_field(const struct conf_key_def *k, void *base);
/* "infinity" or the number, for messages; buf holds 16 bytes. */
const char *conf_lifetime_text(uint32_t v, char *buf, size_t len);

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
    unsigned *appends;      /* line of each "+=", ascending */
    size_t n_appends;
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
