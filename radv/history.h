/*
 * radv/history: the prefixes edge6d advertised, remembered across restarts
 * (RFC 9096 section 3.5: a router that forgets what it advertised cannot
 * deprecate it, and hosts keep using a stale prefix for hours).
 *
 * A table of (interface, prefix, L, A, until) where until is the wall-clock
 * time up to which hosts may still hold addresses from the prefix. It lives
 * in the state directory as a small text file, one entry a line:
 *
 *   # edge6d radv history v1
 *   lan0 2001:db8:1:2::/64 LA 1763801234
 *
 * (flags "LA", "L-", "-A" or "--"; until in seconds since the epoch, or
 * "infinity"). The file is replaced atomically (temporary file, fsync,
 * rename) and only when the table changed enough to matter, never on every
 * RA. Reading skips bad lines with a reason, never fails on them.
 * Nothing here reads a clock: callers pass the wall time.
 */
#ifndef E6_RADV_HISTORY_H
#define E6_RADV_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/addr.h"
#include "common/strbuf.h"

#define RA_HIST_FILE     "radv-history"
#define RA_HIST_MAX      1024 /* entries kept; the ones expiring first go when full */
#define RA_HIST_IFNAMSIZ 16
#define RA_HIST_INFINITY ((int64_t)INT64_MAX)
#define RA_HIST_LINE_MAX 256
#define RA_HIST_FILE_MAX (256 * 1024) /* larger files are read up to here */
/* An entry whose hold time grows by less than this is not rewritten. */
#define RA_HIST_SLACK_MIN 300

struct ra_hist_entry {
    char ifname[RA_HIST_IFNAMSIZ];
    struct e6_prefix prefix;
    bool on_link;
    bool autonomous;
    int64_t until; /* wall-clock seconds; RA_HIST_INFINITY */
};

struct ra_history {
    struct ra_hist_entry *e;
    size_t n, cap;
    bool dirty; /* differs from what was last written */
};

/* Called with each bad line: "PATH:LINE: reason". */
typedef void (*ra_hist_report_fn)(void *arg, const char *msg);

void ra_history_init(struct ra_history *h);
void ra_history_free(struct ra_history *h);

/*
 * Parse one line (no newline). Returns true and fills out for an entry;
 * false with why set for a bad line, false with why "" for a blank line
 * or a comment.
 */
bool ra_history_parse_line(const char *line, struct ra_hist_entry *out, char *why, size_t whylen);

/*
 * Add the entries of text (the file's contents) to h, skipping bad lines
 * (each reported as "name:LINE: why") and entries already expired at now.
 * Returns the number of entries taken.
 */
size_t ra_history_parse(struct ra_history *h, const char *text, size_t len, const char *name,
                        time_t now, ra_hist_report_fn report, void *arg);

/*
 * Read dir/RA_HIST_FILE into h. A missing file is not an error (0
 * entries). Returns the number of entries or -errno when the file exists
 * but cannot be read (err says why).
 */
int ra_history_load(struct ra_history *h, const char *dir, time_t now, ra_hist_report_fn report,
                    void *arg, char *err, size_t errlen);

/*
 * An entry is being advertised now with valid lifetime `valid` seconds
 * (CONF_LIFETIME_INFINITY for infinity): hosts may hold it until now +
 * valid. Marks the table dirty when the entry is new, its flags changed,
 * or its hold time moved later by more than max(RA_HIST_SLACK_MIN,
 * valid / 4) seconds. Returns false when out of memory.
 */
bool ra_history_note(struct ra_history *h, const char *ifname, const struct e6_prefix *p,
                     bool on_link, bool autonomous, uint32_t valid, time_t now);

/* Forget entries whose until has passed (marks dirty when any went). */
void ra_history_expire(struct ra_history *h, time_t now);

/* The entry for (ifname, prefix), or NULL. */
const struct ra_hist_entry *ra_history_find(const struct ra_history *h, const char *ifname,
                                            const struct e6_prefix *p);

/* The file's contents for h, in a stable order. */
void ra_history_format(const struct ra_history *h, struct e6_strbuf *out);

/*
 * Replace dir/name with text atomically: write dir/name.tmp, fsync, rename
 * over, fsync the directory. 0 or -errno with err set; on failure the old
 * file is untouched and the temporary file removed.
 */
int ra_history_write_file(const char *dir, const char *name, const char *text, size_t len,
                          char *err, size_t errlen);

/* Format and write h into dir when dirty; clears dirty on success. */
int ra_history_save(struct ra_history *h, const char *dir, char *err, size_t errlen);

#endif
