/*
 * radv/history: the table of advertised prefixes and its file in the state
 * directory (format in history.h).
 */
#include "config.h"

#include "radv/history.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/conf.h"

#define HIST_HEADER "# edge6d radv history v1: interface prefix flags(L/A) until(epoch s)\n"

void ra_history_init(struct ra_history *h)
{
    *h = (struct ra_history){0};
}

void ra_history_free(struct ra_history *h)
{
    free(h->e);
    *h = (struct ra_history){0};
}

static bool ifname_ok(const char *s, size_t n)
{
    if (n == 0 || n >= RA_HIST_IFNAMSIZ)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        /* what the kernel accepts in a name, minus what would break the line */
        if (c <= ' ' || c > '~' || c == '/' || c == ':')
            return false;
    }
    return true;
}

/* Next space-separated field of *p; NULL at the end. */
static const char *next_field(const char **p, size_t *len)
{
    const char *s = *p;
    while (*s == ' ' || *s == '\t')
        s++;
    if (!*s)
        return NULL;
    const char *e = s;
    while (*e && *e != ' ' && *e != '\t')
        e++;
    *len = (size_t)(e - s);
    *p = e;
    return s;
}

bool ra_history_parse_line(const char *line, struct ra_hist_entry *out, char *why, size_t whylen)
{
    const char *p = line;
    const char *f[5];
    size_t fl[5] = {0};
    int nf = 0;
    char buf[E6_PREFIXSTRLEN + 8];

    why[0] = '\0';
    while (nf < 5 && (f[nf] = next_field(&p, &fl[nf])) != NULL)
        nf++;
    if (nf == 0 || f[0][0] == '#')
        return false;
    if (nf != 4) {
        snprintf(why, whylen, "expected 4 fields (interface prefix flags until), found %s",
                 nf > 4    ? "more"
                 : nf == 1 ? "1"
                 : nf == 2 ? "2"
                           : "3");
        return false;
    }
    *out = (struct ra_hist_entry){0};
    if (!ifname_ok(f[0], fl[0])) {
        snprintf(why, whylen, "bad interface name");
        return false;
    }
    memcpy(out->ifname, f[0], fl[0]);
    if (fl[1] >= sizeof(buf)) {
        snprintf(why, whylen, "prefix too long");
        return false;
    }
    memcpy(buf, f[1], fl[1]);
    buf[fl[1]] = '\0';
    char perr[64];
    if (!e6_prefix_parse(buf, true, &out->prefix, perr, sizeof(perr))) {
        snprintf(why, whylen, "bad prefix '%s': %s", buf, perr);
        return false;
    }
    if (out->prefix.len == 0 || e6_addr_is_multicast(&out->prefix.addr) ||
        e6_addr_is_linklocal(&out->prefix.addr)) {
        snprintf(why, whylen, "prefix %s cannot be advertised", buf);
        return false;
    }
    if (fl[2] != 2 || (f[2][0] != 'L' && f[2][0] != '-') || (f[2][1] != 'A' && f[2][1] != '-')) {
        snprintf(why, whylen, "bad flags (expected LA, L-, -A or --)");
        return false;
    }
    out->on_link = f[2][0] == 'L';
    out->autonomous = f[2][1] == 'A';
    if (fl[3] == 8 && strncmp(f[3], "infinity", 8) == 0) {
        out->until = RA_HIST_INFINITY;
        return true;
    }
    int64_t v = 0;
    for (size_t i = 0; i < fl[3]; i++) {
        if (f[3][i] < '0' || f[3][i] > '9' || i >= 18) {
            snprintf(why, whylen, "bad time (expected seconds since the epoch or infinity)");
            return false;
        }
        v = v * 10 + (f[3][i] - '0');
    }
    out->until = v;
    return true;
}

static ssize_t find_index(const struct ra_history *h, const char *ifname, const struct e6_prefix *p)
{
    for (size_t i = 0; i < h->n; i++)
        if (strcmp(h->e[i].ifname, ifname) == 0 && e6_prefix_equal(&h->e[i].prefix, p))
            return (ssize_t)i;
    return -1;
}

const struct ra_hist_entry *ra_history_find(const struct ra_history *h, const char *ifname,
                                            const struct e6_prefix *p)
{
    ssize_t i = find_index(h, ifname, p);
    return i < 0 ? NULL : &h->e[i];
}

/* A free slot: grows the array, or when full takes the slot of the entry
 * expiring first (its hosts are the closest to forgetting it anyway). */
static struct ra_hist_entry *slot(struct ra_history *h)
{
    if (h->n < h->cap)
        return &h->e[h->n++];
    if (h->cap < RA_HIST_MAX) {
        size_t cap = h->cap ? h->cap * 2 : 8;
        if (cap > RA_HIST_MAX)
            cap = RA_HIST_MAX;
        struct ra_hist_entry *e = realloc(h->e, cap * sizeof(*e));
        if (!e)
            return NULL;
        h->e = e;
        h->cap = cap;
        return &h->e[h->n++];
    }
    size_t first = 0;
    for (size_t i = 1; i < h->n; i++)
        if (h->e[i].until < h->e[first].until)
            first = i;
    return &h->e[first];
}

size_t ra_history_parse(struct ra_history *h, const char *text, size_t len, const char *name,
                        time_t now, ra_hist_report_fn report, void *arg)
{
    size_t taken = 0;
    unsigned lineno = 0;
    const char *p = text, *end = text + len;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        char line[RA_HIST_LINE_MAX];
        char why[160], msg[400];
        struct ra_hist_entry ent;

        lineno++;
        if (n >= sizeof(line) || memchr(p, '\0', n)) {
            snprintf(why, sizeof(why), n >= sizeof(line) ? "line too long" : "NUL byte in line");
            goto bad;
        }
        memcpy(line, p, n);
        line[n] = '\0';
        if (n && line[n - 1] == '\r')
            line[n - 1] = '\0';
        if (!ra_history_parse_line(line, &ent, why, sizeof(why))) {
            if (why[0])
                goto bad;
            goto next;
        }
        if (ent.until <= (int64_t)now)
            goto next; /* hosts have forgotten it: nothing to deprecate */
        ssize_t i = find_index(h, ent.ifname, &ent.prefix);
        if (i >= 0) {
            /* a duplicate line: the longer hold wins */
            if (ent.until > h->e[i].until)
                h->e[i] = ent;
            goto next;
        }
        struct ra_hist_entry *s = slot(h);
        if (!s) {
            snprintf(why, sizeof(why), "out of memory");
            goto bad;
        }
        *s = ent;
        taken++;
        goto next;
    bad:
        if (report) {
            snprintf(msg, sizeof(msg), "%s:%u: %s; line skipped", name, lineno, why);
            report(arg, msg);
        }
    next:
        p += n + (nl ? 1 : 0);
    }
    return taken;
}

int ra_history_load(struct ra_history *h, const char *dir, time_t now, ra_hist_report_fn report,
                    void *arg, char *err, size_t errlen)
{
    char path[4096];
    if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, RA_HIST_FILE) >= sizeof(path)) {
        snprintf(err, errlen, "state directory path too long");
        return -ENAMETOOLONG;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENOENT)
            return 0;
        int e = errno;
        snprintf(err, errlen, "%s: %s", path, strerror(e));
        return -e;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        int e = errno ? errno : EINVAL;
        snprintf(err, errlen, "%s: not a regular file", path);
        close(fd);
        return -e;
    }
    char *buf = malloc(RA_HIST_FILE_MAX);
    if (!buf) {
        close(fd);
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    size_t len = 0;
    while (len < RA_HIST_FILE_MAX) {
        ssize_t r = read(fd, buf + len, RA_HIST_FILE_MAX - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            snprintf(err, errlen, "%s: %s", path, strerror(e));
            free(buf);
            close(fd);
            return -e;
        }
        if (r == 0)
            break;
        len += (size_t)r;
    }
    close(fd);
    if (len == RA_HIST_FILE_MAX && report) {
        char msg[4200];
        snprintf(msg, sizeof(msg), "%s: larger than %d bytes; the rest is ignored", path,
                 RA_HIST_FILE_MAX);
        report(arg, msg);
    }
    size_t n = ra_history_parse(h, buf, len, path, now, report, arg);
    free(buf);
    return (int)n;
}

bool ra_history_note(struct ra_history *h, const char *ifname, const struct e6_prefix *p,
                     bool on_link, bool autonomous, uint32_t valid, time_t now)
{
    int64_t until = valid == CONF_LIFETIME_INFINITY ? RA_HIST_INFINITY : (int64_t)now + valid;
    int64_t slack = valid / 4 > RA_HIST_SLACK_MIN ? valid / 4 : RA_HIST_SLACK_MIN;
    ssize_t i = find_index(h, ifname, p);

    if (i >= 0) {
        struct ra_hist_entry *e = &h->e[i];
        if (e->on_link != on_link || e->autonomous != autonomous) {
            e->on_link = on_link;
            e->autonomous = autonomous;
            h->dirty = true;
        }
        if (until == RA_HIST_INFINITY
                ? e->until != RA_HIST_INFINITY
                : (e->until != RA_HIST_INFINITY && until > e->until + slack)) {
            e->until = until;
            h->dirty = true;
        }
        return true;
    }
    if (strlen(ifname) >= RA_HIST_IFNAMSIZ)
        return true; /* cannot be a kernel interface name */
    struct ra_hist_entry *e = slot(h);
    if (!e)
        return false;
    *e = (struct ra_hist_entry){
        .prefix = *p, .on_link = on_link, .autonomous = autonomous, .until = until};
    memcpy(e->ifname, ifname, strlen(ifname) + 1);
    h->dirty = true;
    return true;
}

void ra_history_expire(struct ra_history *h, time_t now)
{
    size_t o = 0;
    for (size_t i = 0; i < h->n; i++) {
        if (h->e[i].until <= (int64_t)now) {
            h->dirty = true;
            continue;
        }
        h->e[o++] = h->e[i];
    }
    h->n = o;
}

static int entry_cmp(const void *a, const void *b)
{
    const struct ra_hist_entry *x = a, *y = b;
    int c = strcmp(x->ifname, y->ifname);
    if (c)
        return c;
    c = memcmp(&x->prefix.addr, &y->prefix.addr, sizeof(x->prefix.addr));
    if (c)
        return c;
    return (int)x->prefix.len - (int)y->prefix.len;
}

void ra_history_format(const struct ra_history *h, struct e6_strbuf *out)
{
    e6_strbuf_puts(out, HIST_HEADER);
    if (h->n == 0)
        return;
    struct ra_hist_entry *sorted = malloc(h->n * sizeof(*sorted));
    if (!sorted) {
        out->failed = true;
        return;
    }
    memcpy(sorted, h->e, h->n * sizeof(*sorted));
    qsort(sorted, h->n, sizeof(*sorted), entry_cmp);
    for (size_t i = 0; i < h->n; i++) {
        const struct ra_hist_entry *e = &sorted[i];
        char pfx[E6_PREFIXSTRLEN];
        e6_prefix_format(&e->prefix, pfx, sizeof(pfx));
        if (e->until == RA_HIST_INFINITY)
            e6_strbuf_printf(out, "%s %s %c%c infinity\n", e->ifname, pfx, e->on_link ? 'L' : '-',
                             e->autonomous ? 'A' : '-');
        else
            e6_strbuf_printf(out, "%s %s %c%c %" PRId64 "\n", e->ifname, pfx,
                             e->on_link ? 'L' : '-', e->autonomous ? 'A' : '-', e->until);
    }
    free(sorted);
}

int ra_history_write_file(const char *dir, const char *name, const char *text, size_t len,
                          char *err, size_t errlen)
{
    char path[4096], tmp[4096 + 8];
    int e;
    if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path)) {
        snprintf(err, errlen, "state directory path too long");
        return -ENAMETOOLONG;
    }
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);

    /* A leftover from a crash (or a planted symlink) is never followed. */
    if (unlink(tmp) < 0 && errno != ENOENT) {
        e = errno;
        snprintf(err, errlen, "cannot remove %s: %s", tmp, strerror(e));
        return -e;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) {
        e = errno;
        snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(e));
        return -e;
    }
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            e = errno;
            snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(e));
            goto fail;
        }
        off += (size_t)w;
    }
    if (fsync(fd) < 0) {
        e = errno;
        snprintf(err, errlen, "cannot sync %s: %s", tmp, strerror(e));
        goto fail;
    }
    if (close(fd) < 0) {
        fd = -1;
        e = errno;
        snprintf(err, errlen, "cannot close %s: %s", tmp, strerror(e));
        goto fail;
    }
    fd = -1;
    if (rename(tmp, path) < 0) {
        e = errno;
        snprintf(err, errlen, "cannot rename %s to %s: %s", tmp, path, strerror(e));
        goto fail;
    }
    /* the rename itself must survive a power cut */
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    return 0;

fail:
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    return -e;
}

int ra_history_save(struct ra_history *h, const char *dir, char *err, size_t errlen)
{
    if (!h->dirty)
        return 0;
    struct e6_strbuf sb = E6_STRBUF_INIT;
    ra_history_format(h, &sb);
    if (sb.failed) {
        e6_strbuf_free(&sb);
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    int rc = ra_history_write_file(dir, RA_HIST_FILE, e6_strbuf_str(&sb), sb.len, err, errlen);
    e6_strbuf_free(&sb);
    if (rc == 0)
        h->dirty = false;
    return rc;
}
