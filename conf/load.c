/*
 * conf/load: drives libconfuse over the schema and builds the immutable
 * struct conf. libconfuse does the syntax; every value reaches us as a
 * string through a validation callback, called while libconfuse's line
 * counter is on that value, and is typed there (value.c), so one bad value
 * is reported and parsing goes on. A section is assembled when its '}' is
 * read (its validation callback), into our own struct, so nothing refers to
 * libconfuse memory afterwards. Cross-field checks run on the result. All
 * messages are collected, sorted by line and handed to the caller.
 */
#include "config.h"

#include <confuse.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "conf/internal.h"

/*
 * A second section with an existing title replaces the first inside
 * libconfuse (same slot, new cfg_t). To know which section just closed, we
 * mark each one we have taken in a flags bit libconfuse does not use; the
 * unmarked one is new.
 */
#define TAKEN_FLAG (1 << 30)

struct error {
    unsigned line;
    size_t seq;
    char *msg;
};

/*
 * A value typed while its section is still open. A list is typed when its
 * section closes, from the option itself: libconfuse calls back once per
 * entry and once more at the closing brace, and we only follow the count.
 */
struct pend_opt {
    const cfg_t *sec;
    const struct conf_key_def *key;
    unsigned line;
    bool ok;
    struct conf_value v;
    const cfg_opt_t *list; /* list keys */
    unsigned list_n;       /* entries seen so far */
    char *list_last;       /* copy of the last entry seen */
    bool list_closed;      /* its closing brace was seen */
    bool list_twice;       /* a second assignment, reported */
};

/* A finished section waiting for its parent's '}'. */
struct pend_child {
    const cfg_t *parent;
    const struct conf_child_def *child;
    void *elem;
    struct conf_key_state *keys; /* one per key of its definition */
    unsigned line;
};

/* A section placed in the result whose definition has a late_check. */
struct pend_late {
    const struct conf_section_def *def;
    const void *elem; /* where it lives in the result */
    struct conf_key_state *keys;
    unsigned line;
};

struct loader {
    const char *name;
    struct conf_scan scan;
    size_t next_close;
    struct error *errs;
    size_t n_errs, cap_errs;
    bool too_many;
    unsigned stop_line; /* of the first error not reported */
    bool told_unclosed;
    struct pend_opt *opts;
    size_t n_opts, cap_opts;
    struct pend_child *kids;
    size_t n_kids, cap_kids;
    struct pend_late *late;
    size_t n_late, cap_late;
    bool late_unsafe; /* a section was dropped: some .elem may be gone */
};

/*
 * libconfuse's scanner is process-wide state and its callbacks carry no user
 * pointer, so one load runs at a time and finds its state here.
 */
static struct loader *cur;

static bool grow(void **arr, size_t *cap, size_t n, size_t size)
{
    size_t ncap;
    void *p;

    if (n < *cap)
        return true;
    ncap = *cap ? 2 * *cap : 16;
    p = realloc(*arr, ncap * size);
    if (!p)
        return false;
    *arr = p;
    *cap = ncap;
    return true;
}

static void add_error(struct loader *L, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void add_error(struct loader *L, unsigned line, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;

    if (L->n_errs >= CONF_MAX_ERRORS) {
        if (!L->too_many)
            L->stop_line = line;
        L->too_many = true;
        return;
    }
    if (!grow((void **)&L->errs, &L->cap_errs, L->n_errs, sizeof(*L->errs))) {
        L->too_many = true;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    L->errs[L->n_errs].msg = strdup(buf);
    if (!L->errs[L->n_errs].msg) {
        L->too_many = true;
        return;
    }
    L->errs[L->n_errs].line = line;
    L->errs[L->n_errs].seq = L->n_errs;
    L->n_errs++;
}

static void check_error(void *arg, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void check_error(void *arg, unsigned line, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    add_error(arg, line, "%s", buf);
}

static int by_line(const void *a, const void *b)
{
    const struct error *x = a, *y = b;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Sorted by line so the operator reads them top to bottom; then freed. */
static void flush_errors(struct loader *L, conf_report_fn report, void *arg)
{
    char buf[1400];

    if (L->n_errs > 1)
        qsort(L->errs, L->n_errs, sizeof(*L->errs), by_line);
    for (size_t i = 0; i < L->n_errs; i++) {
        if (L->errs[i].line)
            snprintf(buf, sizeof(buf), "%s:%u: %s", L->name, L->errs[i].line, L->errs[i].msg);
        else
            snprintf(buf, sizeof(buf), "%s: %s", L->name, L->errs[i].msg);
        if (report)
            report(arg, buf);
        free(L->errs[i].msg);
    }
    if (L->too_many && report) {
        if (L->stop_line)
            snprintf(buf, sizeof(buf), "%s:%u: too many errors, stopped after %d", L->name,
                     L->stop_line, CONF_MAX_ERRORS);
        else
            snprintf(buf, sizeof(buf), "%s: too many errors, stopped after %d", L->name,
                     CONF_MAX_ERRORS);
        report(arg, buf);
    }
    free(L->errs);
    L->errs = NULL;
    L->n_errs = L->cap_errs = 0;
}

/* ---- building the result ---- */

static void free_section(const struct conf_section_def *d, void *base)
{
    char *b = base;

    if (d->title == CONF_T_IFNAME) {
        char *s;
        memcpy(&s, b + d->off_title, sizeof(s));
        free(s);
    }
    for (size_t i = 0; i < d->n_keys; i++)
        conf_value_free_field(&d->keys[i], b);
    for (size_t i = 0; i < d->n_children; i++) {
        const struct conf_child_def *cd = &d->children[i];
        char *arr;
        size_t n;
        memcpy(&arr, b + cd->off_array, sizeof(arr));
        memcpy(&n, b + cd->off_count, sizeof(n));
        for (size_t j = 0; j < n; j++)
            free_section(cd->def, arr + j * cd->def->size);
        free(arr);
    }
}

static const char *section_label(const cfg_t *sec, char *buf, size_t len)
{
    char q[CONF_QUOTE_BUF];

    if (strcmp(sec->name, "root") == 0)
        snprintf(buf, len, "the top level");
    else if (sec->title)
        snprintf(buf, len, "%s %s", sec->name, conf_quote(sec->title, q, sizeof(q)));
    else
        snprintf(buf, len, "%s", sec->name);
    return buf;
}

static void missing_key(struct loader *L, const cfg_t *sec, const struct conf_key_def *k,
                        unsigned line)
{
    char label[CONF_QUOTE_BUF + 32], want[256] = "VALUE";
    size_t o = 0;

    if (k->kind == CONF_K_ENUM) {
        for (const struct conf_choice *c = k->choices; c->name && o < sizeof(want); c++)
            o += (size_t)snprintf(want + o, sizeof(want) - o, "%s%s", o ? " or " : "", c->name);
    } else if (k->kind == CONF_K_ADDRLIST) {
        snprintf(want, sizeof(want), "{ \"ADDRESS\", ... }");
    } else if (k->kind == CONF_K_STRLIST) {
        snprintf(want, sizeof(want), "{ \"NAME\", ... }");
    } else if (k->kind == CONF_K_PREFIXLIST) {
        snprintf(want, sizeof(want), "{ \"PREFIX/LEN\", ... }");
    } else if (k->kind == CONF_K_IPV4) {
        snprintf(want, sizeof(want), "IPV4-ADDRESS");
    } else if (k->kind == CONF_K_ADDR_PLEN) {
        snprintf(want, sizeof(want), "ADDRESS/LEN");
    }
    add_error(L, line, "%s has no %s (expected %s = %s)", section_label(sec, label, sizeof(label)),
              k->name, k->name, want);
}

/*
 * The pending entries of a section are the ones on top of each stack: a
 * nested section takes its own when it closes, before its parent does.
 */
static struct pend_opt *find_opt(struct loader *L, const cfg_t *sec, const struct conf_key_def *k)
{
    for (size_t i = L->n_opts; i > 0 && L->opts[i - 1].sec == sec; i--)
        if (L->opts[i - 1].key == k)
            return &L->opts[i - 1];
    return NULL;
}

/* Type a list key from everything libconfuse holds for it. */
static void type_list(struct loader *L, struct pend_opt *p)
{
    unsigned n = cfg_opt_size((cfg_opt_t *)p->list);
    const char **items = calloc(n ? n : 1, sizeof(*items));
    char err[512];

    if (!items) {
        add_error(L, p->line, "out of memory");
        return;
    }
    for (unsigned i = 0; i < n; i++) {
        items[i] = cfg_opt_getnstr((cfg_opt_t *)p->list, i);
        if (!items[i])
            items[i] = "";
    }
    p->ok = conf_value_parse_list(p->key, items, n, &p->v, err, sizeof(err));
    if (!p->ok)
        add_error(L, p->line, "%s", err);
    free(items);
}

static void store_default(struct loader *L, const struct conf_key_def *k, void *elem)
{
    struct conf_value v;
    char err[512];

    if (!k->def)
        return; /* computed, or required and reported */
    if (conf_value_parse(k, k->def, &v, err, sizeof(err)))
        conf_value_store(k, &v, elem);
    else
        add_error(L, 0, "built-in default: %s", err);
    conf_value_release(k, &v);
}

/* Computed defaults of the keys the file left alone, or set to something refused. */
static void derive(const struct conf_section_def *d, void *elem, const void *parent,
                   const struct conf_key_state *keys, bool from_parent)
{
    for (size_t i = 0; i < d->n_keys; i++) {
        const struct conf_key_def *k = &d->keys[i];
        unsigned v;
        if ((!k->derive && !k->derive_into) || (keys[i].line && !keys[i].bad) ||
            ((k->flags & CONF_KF_PARENT) != 0) != from_parent)
            continue;
        if (k->derive_into) {
            k->derive_into((char *)elem + k->offset, elem, parent);
            continue;
        }
        v = (unsigned)k->derive(elem, parent);
        memcpy((char *)elem + k->offset, &v, sizeof(v));
    }
}

/*
 * Assemble section sec (definition d) whose title is on line; NULL only
 * when out of memory. *keys_out gets what the file said about each key.
 * The children, finished earlier, get their defaults that depend on this
 * section and their checks here, now that this section's values are known.
 */
static void *assemble(struct loader *L, const struct conf_section_def *d, const cfg_t *sec,
                      unsigned line, struct conf_key_state **keys_out)
{
    char *elem = calloc(1, d->size);
    struct conf_key_state *keys = calloc(d->n_keys + 1, sizeof(*keys));
    char err[512];

    *keys_out = NULL;
    if (!elem || !keys) {
        free(elem);
        free(keys);
        add_error(L, line, "out of memory");
        return NULL;
    }
    if (d != &conf_root_def) {
        memcpy(elem + d->off_line, &line, sizeof(line));
        if (!conf_title_parse(d, sec->title ? sec->title : "", elem, err, sizeof(err)))
            add_error(L, line, "%s", err);
    }
    for (size_t i = 0; i < d->n_keys; i++) {
        const struct conf_key_def *k = &d->keys[i];
        struct pend_opt *p = find_opt(L, sec, k);

        if (p) {
            if (p->list && !p->list_twice)
                type_list(L, p);
            keys[i].line = p->line;
            keys[i].bad = !p->ok;
            if (p->ok) {
                conf_value_store(k, &p->v, elem);
                continue;
            }
        } else if (k->flags & CONF_KF_REQUIRED) {
            missing_key(L, sec, k, line);
        }
        store_default(L, k, elem);
    }
    derive(d, elem, NULL, keys, false);
    while (L->n_opts > 0 && L->opts[L->n_opts - 1].sec == sec) {
        struct pend_opt *p = &L->opts[--L->n_opts];
        conf_value_release(p->key, &p->v);
        free(p->list_last);
    }

    /* Children of sec are the run on top of the stack, in file order. */
    size_t first = L->n_kids;
    while (first > 0 && L->kids[first - 1].parent == sec)
        first--;
    for (size_t j = first; j < L->n_kids; j++) {
        struct pend_child *kid = &L->kids[j];
        const struct conf_section_def *cd = kid->child->def;
        derive(cd, kid->elem, elem, kid->keys, true);
        if (cd->check) {
            struct conf_check ck = {
                .def = cd,
                .elem = kid->elem,
                .parent = elem,
                .keys = kid->keys,
                .parent_keys = keys,
                .line = kid->line,
                .error = check_error,
                .arg = L,
            };
            cd->check(&ck);
        }
    }
    for (size_t i = 0; i < d->n_children; i++) {
        const struct conf_child_def *cd = &d->children[i];
        size_t n = 0;
        char *arr;

        for (size_t j = first; j < L->n_kids; j++)
            n += L->kids[j].child == cd;
        if (n == 0)
            continue;
        arr = calloc(n, cd->def->size);
        if (!arr) {
            add_error(L, line, "out of memory");
            continue;
        }
        n = 0;
        for (size_t j = first; j < L->n_kids; j++) {
            if (L->kids[j].child != cd)
                continue;
            memcpy(arr + n * cd->def->size, L->kids[j].elem, cd->def->size);
            free(L->kids[j].elem);
            L->kids[j].elem = NULL;
            if (cd->def->late_check || cd->def->keep_keys) {
                if (grow((void **)&L->late, &L->cap_late, L->n_late, sizeof(*L->late))) {
                    L->late[L->n_late++] = (struct pend_late){cd->def, arr + n * cd->def->size,
                                                              L->kids[j].keys, L->kids[j].line};
                    L->kids[j].keys = NULL; /* kept for the late check */
                } else {
                    add_error(L, L->kids[j].line, "out of memory");
                }
            }
            n++;
        }
        memcpy(elem + cd->off_array, &arr, sizeof(arr));
        memcpy(elem + cd->off_count, &n, sizeof(n));
    }
    /* Anything left (out of memory above) is freed here. */
    for (size_t j = first; j < L->n_kids; j++) {
        if (L->kids[j].elem) {
            L->late_unsafe = true;
            free_section(L->kids[j].child->def, L->kids[j].elem);
            free(L->kids[j].elem);
        }
        free(L->kids[j].keys);
    }
    L->n_kids = first;
    *keys_out = keys;
    return elem;
}

static void drop_pending(struct loader *L)
{
    for (size_t i = 0; i < L->n_opts; i++) {
        conf_value_release(L->opts[i].key, &L->opts[i].v);
        free(L->opts[i].list_last);
    }
    for (size_t i = 0; i < L->n_kids; i++) {
        free_section(L->kids[i].child->def, L->kids[i].elem);
        free(L->kids[i].elem);
        free(L->kids[i].keys);
    }
    free(L->opts);
    free(L->kids);
    L->opts = NULL;
    L->kids = NULL;
    L->n_opts = L->n_kids = 0;
}

/* ---- libconfuse callbacks ---- */

/*
 * libconfuse 3.3 looks a keyword up as a path ("proxy|rule",
 * "tunnel=t0|type"), so a quoted keyword can reach into another section;
 * what it sets there would be ignored. The option then is not one of the
 * section's own.
 */
static bool owns(const cfg_t *sec, const cfg_opt_t *opt)
{
    for (size_t i = 0; sec->opts[i].name; i++)
        if (&sec->opts[i] == opt)
            return true;
    return false;
}

static void foreign(struct loader *L, const cfg_opt_t *opt, unsigned line)
{
    char q[CONF_QUOTE_BUF];

    add_error(L, line,
              "%s can only be written inside its own section (a keyword may not "
              "contain \"|\" or \"=\")",
              conf_quote(opt->name, q, sizeof(q)));
}

/* Whether a "+=" is on line (the scanner's lines are ascending). */
static bool append_on(const struct loader *L, unsigned line)
{
    size_t lo = 0, hi = L->scan.n_appends;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (L->scan.appends[mid] < line)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < L->scan.n_appends && L->scan.appends[lo] == line;
}

/*
 * libconfuse calls a list's callback once per entry as it grows and once
 * more at its closing brace; a second "=" starts it again, a "+=" grows it.
 * Follow that, and say false when this call can only be a second
 * assignment: after the closing brace, a count that jumps, the same count
 * with another last entry (a plain value written twice), or growth on a
 * line holding "+=".
 */
static bool list_step(struct loader *L, struct pend_opt *p, cfg_opt_t *opt, unsigned line)
{
    unsigned n = cfg_opt_size(opt);
    const char *last = n ? cfg_opt_getnstr(opt, n - 1) : NULL;
    bool first = p->list_n == 0 && !p->list_last;

    if (!first) {
        if (p->list_closed)
            return false;
        if (n == p->list_n) {
            if (!last || !p->list_last || strcmp(last, p->list_last) != 0)
                return false;
            p->list_closed = true;
            return true;
        }
        if (n != p->list_n + 1 || append_on(L, line))
            return false;
    }
    free(p->list_last);
    p->list_last = strdup(last ? last : "");
    p->list_n = n;
    return p->list_last != NULL;
}

static int on_option(cfg_t *sec, cfg_opt_t *opt)
{
    struct loader *L = cur;
    const struct conf_section_def *d = conf_schema_section(sec->name);
    const struct conf_key_def *k = d ? conf_schema_key(d, opt->name) : NULL;
    unsigned line = (unsigned)sec->line;
    struct pend_opt *p;
    char err[512];

    if (!L)
        return 0;
    if (!k || !owns(sec, opt)) {
        foreign(L, opt, line);
        return L->too_many ? -1 : 0;
    }
    p = find_opt(L, sec, k);
    if (p && p->list) {
        if (!p->list_twice && !list_step(L, p, opt, line)) {
            p->list_twice = true;
            add_error(L, line, "%s is set twice (first at line %u)", k->name, p->line);
        }
        return L->too_many ? -1 : 0;
    }
    if (p) {
        add_error(L, line, "%s is set twice (first at line %u)", k->name, p->line);
        return L->too_many ? -1 : 0;
    }
    if (!grow((void **)&L->opts, &L->cap_opts, L->n_opts, sizeof(*L->opts))) {
        add_error(L, line, "out of memory");
        return -1;
    }
    p = &L->opts[L->n_opts++];
    memset(p, 0, sizeof(*p));
    p->sec = sec;
    p->key = k;
    p->line = line;
    if (CONF_KIND_IS_LIST(k->kind)) {
        p->list = opt;
        if (!list_step(L, p, opt, line))
            add_error(L, line, "out of memory");
        return L->too_many ? -1 : 0;
    }
    p->ok = conf_value_parse(k, cfg_opt_getnstr(opt, 0), &p->v, err, sizeof(err));
    if (!p->ok)
        add_error(L, line, "%s", err);
    return L->too_many ? -1 : 0;
}

static cfg_t *newest_section(cfg_opt_t *opt)
{
    for (unsigned i = cfg_opt_size(opt); i > 0; i--) {
        cfg_t *s = cfg_opt_getnsec(opt, i - 1);
        if (s && !(s->flags & TAKEN_FLAG))
            return s;
    }
    return NULL;
}

static int on_section(cfg_t *parent, cfg_opt_t *opt)
{
    struct loader *L = cur;
    const struct conf_section_def *pd = conf_schema_section(parent->name);
    const struct conf_child_def *cd = NULL;
    cfg_t *sec = newest_section(opt);
    struct conf_key_state *keys;
    unsigned line;
    void *elem;

    if (!L)
        return 0;

    /*
     * libconfuse leaves a section's line at its '}' (and the parent's with
     * it). The scanner saw the sections close in the same order; its record
     * has the line of the title.
     */
    line = (unsigned)parent->line;
    if (L->next_close < L->scan.n_closes) {
        const struct conf_span *sp = &L->scan.closes[L->next_close++];
        if (sp->close_line == line)
            line = sp->open_line;
    }
    if (!sec)
        return 0;
    sec->flags |= TAKEN_FLAG;

    for (size_t i = 0; pd && i < pd->n_children; i++)
        if (strcmp(pd->children[i].def->name, opt->name) == 0)
            cd = &pd->children[i];
    if (!cd || !owns(parent, opt)) {
        foreign(L, opt, line);
        return L->too_many ? -1 : 0;
    }
    elem = assemble(L, cd->def, sec, line, &keys);
    if (!elem)
        return -1;
    if (!grow((void **)&L->kids, &L->cap_kids, L->n_kids, sizeof(*L->kids))) {
        free_section(cd->def, elem);
        free(elem);
        free(keys);
        add_error(L, line, "out of memory");
        return -1;
    }
    L->kids[L->n_kids].parent = parent;
    L->kids[L->n_kids].child = cd;
    L->kids[L->n_kids].elem = elem;
    L->kids[L->n_kids].keys = keys;
    L->kids[L->n_kids].line = line;
    L->n_kids++;
    return L->too_many ? -1 : 0;
}

/* "user, control-socket, ... or tunnel": what may appear in a section. */
static void expected_words(const struct conf_section_def *d, char *buf, size_t len)
{
    size_t n = d->n_keys + d->n_children, o = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < n && o < len; i++) {
        const char *w = i < d->n_keys ? d->keys[i].name : d->children[i - d->n_keys].def->name;
        const char *sep = i == 0 ? "" : i + 1 == n ? " or " : ", ";
        o += (size_t)snprintf(buf + o, len - o, "%s%s", sep, w);
    }
}

static void unknown_keyword(struct loader *L, cfg_t *cfg, const char *word, unsigned line)
{
    const struct conf_section_def *d = conf_schema_section(cfg->name);
    bool top = d == &conf_root_def;
    char q[CONF_QUOTE_BUF], label[CONF_QUOTE_BUF + 32], words[512], hint[64] = "";

    conf_quote(word, q, sizeof(q));
    if (!d) {
        add_error(L, line, "unknown keyword %s", q);
        return;
    }
    /* A top-level word inside a section usually means a '}' went missing. */
    if (!top && (conf_schema_section(word) || conf_schema_key(&conf_root_def, word)))
        snprintf(hint, sizeof(hint), "; is a \"}\" missing above?");
    expected_words(d, words, sizeof(words));
    if (top)
        add_error(L, line, "unknown keyword %s (expected %s)", q, words);
    else if (words[0])
        add_error(L, line, "unknown keyword %s in %s (expected %s)%s", q,
                  section_label(cfg, label, sizeof(label)), words, hint);
    else
        add_error(L, line, "unknown keyword %s in %s (%s sections take no settings yet)%s", q,
                  section_label(cfg, label, sizeof(label)), d->name, hint);
}

static void unclosed(struct loader *L)
{
    if (!L->told_unclosed)
        add_error(L, L->scan.unclosed_line,
                  "\"{\" is never closed (missing \"}\" before the end of the file)");
    L->told_unclosed = true;
}

/*
 * Every message libconfuse produces comes here, with the line it is on. The
 * common ones are reworded to say what was expected; any other is kept.
 */
static void on_error(cfg_t *cfg, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static void on_error(cfg_t *cfg, const char *fmt, va_list ap)
{
    struct loader *L = cur;
    unsigned line = cfg && cfg->line > 0 ? (unsigned)cfg->line : 0;
    const struct conf_section_def *d;
    char q[CONF_QUOTE_BUF], buf[512];
    const char *arg;
    va_list aq;

    if (!L)
        return;
    va_copy(aq, ap);
    if (strcmp(fmt, "no such option '%s'") == 0) {
        unknown_keyword(L, cfg, va_arg(aq, const char *), line);
    } else if (strcmp(fmt, "missing equal sign after option '%s'") == 0) {
        arg = va_arg(aq, const char *);
        add_error(L, line, "%s takes a value: expected %s = VALUE", conf_quote(arg, q, sizeof(q)),
                  arg);
    } else if (strcmp(fmt, "missing title for section '%s'") == 0) {
        arg = va_arg(aq, const char *);
        d = conf_schema_section(arg);
        add_error(L, line, "%s is a section: expected %s %s { ... }", conf_quote(arg, q, sizeof(q)),
                  arg, d && d->title_help ? d->title_help : "NAME");
    } else if (strcmp(fmt, "missing opening brace for section '%s'") == 0) {
        arg = va_arg(aq, const char *);
        d = conf_schema_section(arg);
        if (d && d->title == CONF_T_NONE)
            add_error(L, line, "%s is a section: expected %s { ... }",
                      conf_quote(arg, q, sizeof(q)), arg);
        else
            add_error(L, line, "expected \"{\" after %s %s", arg,
                      d && d->title_help ? d->title_help : "");
    } else if (strcmp(fmt, "unexpected closing brace") == 0) {
        add_error(L, line, "unexpected \"}\" (no section is open)");
    } else if (strcmp(fmt, "unexpected token '%s'") == 0) {
        add_error(L, line, "unexpected %s", conf_quote(va_arg(aq, const char *), q, sizeof(q)));
    } else if (strcmp(fmt, "attempt to append to non-list option '%s'") == 0) {
        arg = va_arg(aq, const char *);
        add_error(L, line,
                  "%s takes one value: write %s = VALUE, not +=", conf_quote(arg, q, sizeof(q)),
                  arg);
    } else if (strcmp(fmt, "no sub-section title/index for '%s'") == 0 ||
               strcmp(fmt, "no sub-section '%s' in '%s'") == 0) {
        add_error(L, line, "a keyword may not contain \"|\" or \"=\"");
    } else if (strcmp(fmt, "premature end of file") == 0) {
        if (L->scan.unclosed_line)
            unclosed(L);
        else
            add_error(L, line, "unexpected end of file (a setting is incomplete)");
    } else {
        vsnprintf(buf, sizeof(buf), fmt, aq);
        add_error(L, line, "%s", buf);
    }
    va_end(aq);
}

/* ---- cross-field checks ---- */

struct titled {
    const char *base;
    const struct conf_section_def *def;
    size_t index;
};

static bool is_prefix_title(const struct conf_section_def *d)
{
    return d->title == CONF_T_PREFIX || d->title == CONF_T_PREFIX_AUTO;
}

/* A CONF_T_PREFIX_AUTO title that was the word "auto". */
static bool title_auto(const struct titled *t)
{
    bool a = false;

    if (t->def->title == CONF_T_PREFIX_AUTO)
        memcpy(&a, t->base + t->def->off_auto, sizeof(a));
    return a;
}

static int title_cmp(const struct titled *x, const struct titled *y)
{
    const char *a = x->base + x->def->off_title, *b = y->base + y->def->off_title;

    if (title_auto(x) || title_auto(y))
        return title_auto(x) == title_auto(y) ? 0 : title_auto(x) ? -1 : 1;
    if (is_prefix_title(x->def)) {
        struct e6_prefix p, q;
        memcpy(&p, a, sizeof(p));
        memcpy(&q, b, sizeof(q));
        if (p.len != q.len)
            return p.len < q.len ? -1 : 1;
        return memcmp(&p.addr, &q.addr, sizeof(p.addr));
    } else {
        const char *s, *t;
        memcpy(&s, a, sizeof(s));
        memcpy(&t, b, sizeof(t));
        return strcmp(s, t);
    }
}

static bool title_valid(const struct titled *t)
{
    const char *field = t->base + t->def->off_title;

    if (is_prefix_title(t->def)) {
        struct e6_prefix p;
        memcpy(&p, field, sizeof(p));
        return p.len <= 128;
    } else {
        const char *s;
        memcpy(&s, field, sizeof(s));
        return s != NULL;
    }
}

static int by_title(const void *a, const void *b)
{
    const struct titled *x = a, *y = b;
    int r = title_cmp(x, y);
    if (r)
        return r;
    return x->index < y->index ? -1 : x->index > y->index;
}

static const char *title_text(const struct titled *t, char *buf, size_t len)
{
    const char *field = t->base + t->def->off_title;

    if (title_auto(t)) {
        snprintf(buf, len, "auto");
        return buf;
    }
    if (is_prefix_title(t->def)) {
        struct e6_prefix p;
        memcpy(&p, field, sizeof(p));
        return e6_prefix_format(&p, buf, len);
    } else {
        const char *s;
        memcpy(&s, field, sizeof(s));
        return conf_quote(s, buf, len);
    }
}

/* Titles are unique among the sections of one kind in one parent. */
static void check_duplicates(struct loader *L, const struct conf_section_def *d, const char *base,
                             const char *where)
{
    for (size_t i = 0; i < d->n_children; i++) {
        const struct conf_child_def *cd = &d->children[i];
        const struct conf_section_def *cdef = cd->def;
        const char *arr;
        struct titled *t;
        size_t n;

        memcpy(&arr, base + cd->off_array, sizeof(arr));
        memcpy(&n, base + cd->off_count, sizeof(n));
        if (cdef->title != CONF_T_NONE && n > 1) {
            t = calloc(n, sizeof(*t));
            if (!t) {
                add_error(L, 0, "out of memory");
                return;
            }
            size_t m = 0;
            /* Sections whose title was refused are not compared. */
            for (size_t j = 0; j < n; j++) {
                t[m] = (struct titled){arr + j * cdef->size, cdef, j};
                m += title_valid(&t[m]);
            }
            qsort(t, m, sizeof(*t), by_title);
            for (size_t j = 1; j < m; j++) {
                size_t first = j - 1;
                char tb[CONF_QUOTE_BUF];
                unsigned line, first_line;
                if (title_cmp(&t[first], &t[j]) != 0)
                    continue;
                while (first > 0 && title_cmp(&t[first - 1], &t[j]) == 0)
                    first--;
                memcpy(&line, t[j].base + cdef->off_line, sizeof(line));
                memcpy(&first_line, t[first].base + cdef->off_line, sizeof(first_line));
                add_error(L, line, "duplicate %s %s%s (first at line %u)", cdef->name,
                          title_text(&t[j], tb, sizeof(tb)), where, first_line);
            }
            free(t);
        }
        for (size_t j = 0; j < n; j++) {
            const char *child = arr + j * cdef->size;
            char label[CONF_QUOTE_BUF + 32];
            struct titled self = {child, cdef, j};
            char tb[CONF_QUOTE_BUF];
            if (cdef->n_children == 0)
                continue;
            if (cdef->title == CONF_T_NONE)
                snprintf(label, sizeof(label), " in %s", cdef->name);
            else if (title_valid(&self))
                snprintf(label, sizeof(label), " in %s %s", cdef->name,
                         title_text(&self, tb, sizeof(tb)));
            else {
                unsigned line;
                memcpy(&line, child + cdef->off_line, sizeof(line));
                snprintf(label, sizeof(label), " in the %s at line %u", cdef->name, line);
            }
            check_duplicates(L, cdef, child, label);
        }
    }
}

/* What the file said about the keys of a section kept for the late checks. */
static const struct conf_key_state *keys_of(void *arg, const void *elem)
{
    struct loader *L = arg;

    for (size_t i = 0; i < L->n_late; i++)
        if (L->late[i].elem == elem)
            return L->late[i].keys;
    return NULL;
}

/* The late checks, in file order; then their key states are freed. */
static void run_late(struct loader *L, const struct conf *c)
{
    for (size_t i = 0; i < L->n_late; i++) {
        struct pend_late *p = &L->late[i];
        struct conf_check ck = {
            .def = p->def,
            .elem = p->elem,
            .keys = p->keys,
            .root = c,
            .keys_of = keys_of,
            .line = p->line,
            .error = check_error,
            .arg = L,
        };
        if (c && !L->late_unsafe && p->def->late_check)
            p->def->late_check(&ck);
    }
    for (size_t i = 0; i < L->n_late; i++)
        free(L->late[i].keys);
    free(L->late);
    L->late = NULL;
    L->n_late = L->cap_late = 0;
}

/* ---- opts for libconfuse, from the schema ---- */

static void free_opts(cfg_opt_t *o)
{
    if (!o)
        return;
    for (size_t i = 0; o[i].name; i++)
        free_opts(o[i].subopts);
    free(o);
}

static cfg_opt_t *build_opts(const struct conf_section_def *d)
{
    size_t n = d->n_keys + d->n_children;
    cfg_opt_t *o = calloc(n + 1, sizeof(*o));
    cfg_opt_t end = CFG_END();

    if (!o)
        return NULL;
    /* All values are strings to libconfuse; value.c gives them their type. */
    for (size_t i = 0; i < d->n_keys; i++) {
        cfg_opt_t s = CFG_STR(d->keys[i].name, NULL, CFGF_NODEFAULT);
        if (CONF_KIND_IS_LIST(d->keys[i].kind)) {
            cfg_opt_t l = CFG_STR_LIST(d->keys[i].name, NULL, CFGF_NODEFAULT);
            s = l;
        }
        s.validcb = on_option;
        o[i] = s;
    }
    for (size_t i = 0; i < d->n_children; i++) {
        const struct conf_section_def *c = d->children[i].def;
        cfg_opt_t *sub = build_opts(c);
        int flags = CFGF_MULTI | (c->title != CONF_T_NONE ? CFGF_TITLE : 0);
        if (!sub) {
            free_opts(o);
            return NULL;
        }
        cfg_opt_t s = CFG_SEC(c->name, sub, flags);
        s.validcb = on_section;
        o[d->n_keys + i] = s;
    }
    o[n] = end;
    return o;
}

/* ---- entry points ---- */

static struct conf *load(const char *text, size_t len, const char *name, conf_report_fn report,
                         void *arg)
{
    struct loader L;
    struct conf *c = NULL;
    cfg_t *cfg = NULL;
    cfg_opt_t *opts;
    unsigned err_line = 0;
    char err[256];

    memset(&L, 0, sizeof(L));
    L.name = name;
    if (cur) {
        add_error(&L, 0, "a configuration is already being loaded");
        flush_errors(&L, report, arg);
        return NULL;
    }
    if (!conf_scan(text, len, &L.scan, &err_line, err, sizeof(err))) {
        add_error(&L, err_line, "%s", err);
        goto out;
    }
    /* libconfuse would take the end of the file for the missing '}'. */
    if (L.scan.unclosed_line)
        unclosed(&L);
    opts = build_opts(&conf_root_def);
    if (opts)
        cfg = cfg_init(opts, CFGF_NONE);
    free_opts(opts);
    if (!cfg) {
        add_error(&L, 0, "out of memory");
        goto out;
    }
    cfg_set_error_function(cfg, on_error);

    cur = &L;
    if (cfg_parse_buf(cfg, L.scan.text) == CFG_SUCCESS && !L.too_many) {
        struct conf_key_state *keys;
        c = assemble(&L, &conf_root_def, cfg, 0, &keys);
        free(keys);
    }
    cur = NULL;
    drop_pending(&L);
    cfg_free(cfg);

    if (c) {
        c->path = strdup(name);
        if (!c->path)
            add_error(&L, 0, "out of memory");
        check_duplicates(&L, &conf_root_def, (const char *)c, "");
        conf_schema_check(c, check_error, L.late_unsafe ? NULL : keys_of, &L);
    }
    run_late(&L, c);
out:
    if (L.n_errs || L.too_many) {
        conf_free(c);
        c = NULL;
    }
    flush_errors(&L, report, arg);
    conf_scan_free(&L.scan);
    return c;
}

struct conf *conf_load_string(const char *text, const char *name, conf_report_fn report, void *arg)
{
    return load(text ? text : "", text ? strlen(text) : 0, name ? name : "(string)", report, arg);
}

static void report_one(const char *path, conf_report_fn report, void *arg, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void report_one(const char *path, conf_report_fn report, void *arg, const char *fmt, ...)
{
    char msg[512], line[1024];
    va_list ap;

    if (!report)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(line, sizeof(line), "%s: %s", path, msg);
    report(arg, line);
}

struct conf *conf_load(const char *path, conf_report_fn report, void *arg)
{
    FILE *f = fopen(path, "r");
    struct conf *c;
    size_t len = 0, n;
    char *text;

    if (!f) {
        report_one(path, report, arg, "cannot open: %s", strerror(errno));
        return NULL;
    }
    /* One byte more than allowed, to tell "exactly the limit" from "too big". */
    text = malloc(CONF_MAX_FILE_SIZE + 1);
    if (!text) {
        fclose(f);
        report_one(path, report, arg, "out of memory");
        return NULL;
    }
    while ((n = fread(text + len, 1, CONF_MAX_FILE_SIZE + 1 - len, f)) > 0)
        len += n;
    if (ferror(f)) {
        report_one(path, report, arg, "cannot read: %s", strerror(errno));
        fclose(f);
        free(text);
        return NULL;
    }
    fclose(f);
    if (len > CONF_MAX_FILE_SIZE) {
        report_one(path, report, arg, "larger than %d bytes; is it the right file?",
                   CONF_MAX_FILE_SIZE);
        free(text);
        return NULL;
    }
    c = load(text, len, path, report, arg);
    free(text);
    return c;
}

void conf_free(struct conf *c)
{
    if (!c)
        return;
    free_section(&conf_root_def, c);
    free(c->path);
    free(c);
}

const char *conf_proxy_method_name(enum conf_proxy_method m)
{
    switch (m) {
    case CONF_PROXY_STATIC:
        return "static";
    case CONF_PROXY_IFACE:
        return "iface";
    case CONF_PROXY_AUTO:
        return "auto";
    case CONF_PROXY_6BED4:
        return "6bed4";
    case CONF_PROXY_TUNNEL:
        return "tunnel";
    case CONF_PROXY_EXCLUDE:
        return "exclude";
    }
    return "unknown";
}

const char *conf_tunnel_type_name(enum conf_tunnel_type t)
{
    switch (t) {
    case CONF_TUNNEL_6IN4:
        return "6in4";
    case CONF_TUNNEL_6BED4:
        return "6bed4";
    }
    return "unknown";
}

const struct conf_interface *conf_find_interface(const struct conf *c, const char *name)
{
    for (size_t i = 0; c && name && i < c->n_interfaces; i++)
        if (c->interfaces[i].name && strcmp(c->interfaces[i].name, name) == 0)
            return &c->interfaces[i];
    return NULL;
}

const struct conf_proxy *conf_find_proxy(const struct conf *c, const char *name)
{
    for (size_t i = 0; c && name && i < c->n_proxies; i++)
        if (c->proxies[i].name && strcmp(c->proxies[i].name, name) == 0)
            return &c->proxies[i];
    return NULL;
}

const struct conf_tunnel *conf_find_tunnel(const struct conf *c, const char *name)
{
    for (size_t i = 0; c && name && i < c->n_tunnels; i++)
        if (c->tunnels[i].name && strcmp(c->tunnels[i].name, name) == 0)
            return &c->tunnels[i];
    return NULL;
}
