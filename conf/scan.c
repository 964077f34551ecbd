/*
 * conf/scan: a pass over the raw text before libconfuse sees it. It mirrors
 * the token rules of libconfuse 3.3's flex scanner (src/lexer.l) closely
 * enough to know what is a string, a comment or a brace, and it does three
 * jobs libconfuse does badly: it blanks comments (libconfuse 3.3 miscounts
 * lines after each one), it records where every section starts (libconfuse
 * only knows where it ends), and it reports unterminated strings and
 * comments at the line where they open (libconfuse reports the end of the
 * file, or nothing at all for a block comment).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/internal.h"

enum tok {
    TOK_NONE,
    TOK_STR,
    TOK_OTHER, /* = += , ( ) */
};

struct open_brace {
    bool section;
    unsigned line;
};

struct scanner {
    char *t; /* writable copy */
    size_t len, pos;
    unsigned line;
    enum tok prev;
    unsigned prev_line;
    struct open_brace stack[CONF_MAX_DEPTH];
    size_t depth;
    size_t n_sections;
    struct conf_scan *out;
    size_t cap_closes;
    size_t cap_appends;
    unsigned *err_line;
    char *err;
    size_t errlen;
};

static bool fail(struct scanner *s, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool fail(struct scanner *s, unsigned line, const char *fmt, ...)
{
    va_list ap;
    *s->err_line = line;
    va_start(ap, fmt);
    vsnprintf(s->err, s->errlen, fmt, ap);
    va_end(ap);
    return false;
}

static int at(const struct scanner *s, size_t off)
{
    return s->pos + off < s->len ? (unsigned char)s->t[s->pos + off] : -1;
}

/* Characters that end an unquoted string in lexer.l (and '*', which it drops). */
static bool ends_unquoted(int c)
{
    return c < 0 || strchr(" #\"'\t\n\r={}()+,*", c) != NULL;
}

static void blank_to_eol(struct scanner *s)
{
    while (s->pos < s->len && s->t[s->pos] != '\n')
        s->t[s->pos++] = ' ';
}

static bool block_comment(struct scanner *s)
{
    unsigned start = s->line;
    s->t[s->pos++] = ' ';
    s->t[s->pos++] = ' ';
    while (s->pos < s->len) {
        if (s->t[s->pos] == '*' && at(s, 1) == '/') {
            s->t[s->pos++] = ' ';
            s->t[s->pos++] = ' ';
            return true;
        }
        if (s->t[s->pos] == '\n')
            s->line++;
        else
            s->t[s->pos] = ' ';
        s->pos++;
    }
    return fail(s, start, "comment \"/*\" is never closed (missing \"*/\")");
}

/*
 * "${NAME}" (also "${NAME:-default}") is replaced by libconfuse with the
 * environment variable, inside double quotes and out. Its pattern runs to
 * the next '}' even across lines, and lines inside it are not counted, so
 * one spanning lines is refused rather than let line numbers drift.
 */
static bool env_ref(struct scanner *s, bool *matched)
{
    const char *close = memchr(s->t + s->pos, '}', s->len - s->pos);
    const char *nl;

    *matched = close != NULL;
    if (!close)
        return true;
    nl = memchr(s->t + s->pos, '\n', (size_t)(close - (s->t + s->pos)));
    if (nl)
        return fail(s, s->line, "\"${\" is not closed by \"}\" on the same line");
    s->pos = (size_t)(close - s->t) + 1;
    return true;
}

static bool quoted(struct scanner *s)
{
    char q = s->t[s->pos];
    unsigned start = s->line;

    s->pos++;
    while (s->pos < s->len) {
        int c = (unsigned char)s->t[s->pos];
        if (c == q) {
            s->pos++;
            return true;
        }
        if (c == '\\') {
            /* Every escape is two characters here; a backslash-newline continues the line. */
            if (at(s, 1) == '\n')
                s->line++;
            s->pos += at(s, 1) < 0 ? 1 : 2;
            continue;
        }
        if (c == '$' && q == '"' && at(s, 1) == '{') {
            bool matched;
            if (!env_ref(s, &matched))
                return false;
            if (matched)
                continue;
        }
        if (c == '\n')
            s->line++;
        s->pos++;
    }
    return fail(s, start, "string is never closed (missing %s)", q == '"' ? "'\"'" : "\"'\"");
}

static bool open_brace(struct scanner *s)
{
    /* A '{' after a keyword or title opens a section; after '=' it opens a list. */
    bool section = s->prev == TOK_STR;
    unsigned line = section ? s->prev_line : s->line;

    if (s->depth == CONF_MAX_DEPTH)
        return fail(s, s->line, "braces nested deeper than %d levels", CONF_MAX_DEPTH);
    if (section && ++s->n_sections > CONF_MAX_SECTIONS)
        return fail(s, s->line, "more than %d sections", CONF_MAX_SECTIONS);
    s->stack[s->depth].section = section;
    s->stack[s->depth].line = line;
    s->depth++;
    return true;
}

static bool close_brace(struct scanner *s)
{
    struct conf_scan *o = s->out;
    struct open_brace b;

    /* A stray '}' is libconfuse's to report, with the same line. */
    if (s->depth == 0)
        return true;
    b = s->stack[--s->depth];
    if (!b.section)
        return true;
    if (o->n_closes == s->cap_closes) {
        size_t cap = s->cap_closes ? 2 * s->cap_closes : 16;
        struct conf_span *n = realloc(o->closes, cap * sizeof(*n));
        if (!n)
            return fail(s, s->line, "out of memory");
        o->closes = n;
        s->cap_closes = cap;
    }
    o->closes[o->n_closes].open_line = b.line;
    o->closes[o->n_closes].close_line = s->line;
    o->n_closes++;
    return true;
}

/* One line per "+=", in file order: the loader tells appending to a list from writing one. */
static bool note_append(struct scanner *s, unsigned line)
{
    struct conf_scan *o = s->out;

    if (o->n_appends == s->cap_appends) {
        size_t cap = s->cap_appends ? 2 * s->cap_appends : 8;
        unsigned *n = realloc(o->appends, cap * sizeof(*n));
        if (!n)
            return fail(s, line, "out of memory");
        o->appends = n;
        s->cap_appends = cap;
    }
    o->appends[o->n_appends++] = line;
    return true;
}

static bool token(struct scanner *s)
{
    int c = (unsigned char)s->t[s->pos];
    enum tok kind = TOK_OTHER;
    unsigned line = s->line;

    switch (c) {
    case '\n':
        s->line++;
        s->pos++;
        return true;
    case ' ':
    case '\t':
    case '\r': /* lexer.l drops it silently */
    case '*':  /* likewise, outside strings and comments */
        s->pos++;
        return true;
    case '#':
        blank_to_eol(s);
        return true;
    case '"':
    case '\'':
        if (!quoted(s))
            return false;
        kind = TOK_STR;
        break;
    case '{':
        if (!open_brace(s))
            return false;
        s->pos++;
        kind = TOK_OTHER;
        break;
    case '}':
        if (!close_brace(s))
            return false;
        s->pos++;
        break;
    case '=':
    case ',':
    case '(':
    case ')':
        s->pos++;
        break;
    case '+':
        /* "+=" is a token; a lone '+' is dropped like '*' */
        if (at(s, 1) != '=') {
            s->pos++;
            return true;
        }
        if (!note_append(s, line))
            return false;
        s->pos += 2;
        break;
    default:
        /* At a token start, two slashes or slash-star open a comment (flex takes the longer match).
         */
        if (c == '/' && at(s, 1) == '/') {
            blank_to_eol(s);
            return true;
        }
        if (c == '/' && at(s, 1) == '*')
            return block_comment(s);
        if (c == '$' && at(s, 1) == '{') {
            bool matched;
            if (!env_ref(s, &matched))
                return false;
            if (matched) {
                kind = TOK_STR;
                break;
            }
        }
        /* Unquoted string; inside one, '/' is an ordinary character. */
        while (!ends_unquoted(at(s, 0)))
            s->pos++;
        kind = TOK_STR;
        break;
    }
    s->prev = kind;
    s->prev_line = line;
    return true;
}

bool conf_scan(const char *text, size_t len, struct conf_scan *out, unsigned *err_line, char *err,
               size_t errlen)
{
    struct scanner s;
    const char *nul;

    memset(out, 0, sizeof(*out));
    memset(&s, 0, sizeof(s));
    s.out = out;
    s.err_line = err_line;
    s.err = err;
    s.errlen = errlen;
    s.line = 1;
    s.len = len;

    /* libconfuse stops at a NUL and would silently ignore the rest. */
    nul = memchr(text, '\0', len);
    if (nul) {
        unsigned line = 1;
        for (const char *p = text; p < nul; p++)
            line += *p == '\n';
        return fail(&s, line, "NUL byte in the file (is it a text file?)");
    }

    s.t = malloc(len + 1);
    if (!s.t)
        return fail(&s, 0, "out of memory");
    memcpy(s.t, text, len);
    s.t[len] = '\0';
    out->text = s.t;

    while (s.pos < s.len) {
        if (!token(&s)) {
            conf_scan_free(out);
            return false;
        }
    }
    out->unclosed_line = s.depth ? s.stack[s.depth - 1].line : 0;
    /* libconfuse closes what is still open at the end, innermost first. */
    while (s.depth > 0) {
        if (!close_brace(&s)) {
            conf_scan_free(out);
            return false;
        }
    }
    return true;
}

void conf_scan_free(struct conf_scan *s)
{
    free(s->text);
    free(s->closes);
    free(s->appends);
    memset(s, 0, sizeof(*s));
}
