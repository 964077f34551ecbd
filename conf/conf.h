/*
 * conf: the configuration file. libconfuse parses edge6d.conf against the
 * schema of the whole product; validation then turns it into an immutable,
 * typed `struct conf`. Every problem is reported as
 * "FILE:LINE: what is wrong (what was expected)", single-field and
 * cross-field checks alike, so `edge6d -t`, startup and reload run exactly
 * the same checks. Nothing here touches the system.
 */
#ifndef E6_CONF_CONF_H
#define E6_CONF_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "common/addr.h"
#include "common/log.h"

/* One error line, already formatted "FILE:LINE: message". */
typedef void (*conf_report_fn)(void *arg, const char *msg);

struct conf_global {
    char *user;                  /* run as; default "edge6" */
    char *control_socket;        /* default E6_RUNDIR "/edge6d.sock" */
    char *state_dir;             /* default E6_STATEDIR */
    enum e6_log_level log_level; /* default info */
};

/* interface NAME { ... }: Router Advertisements on NAME (keys: radv issue) */
struct conf_interface {
    char *name;
    unsigned line;
};

/* proxy NAME { rule PREFIX { ... } ... } (keys: ndppd issue) */
struct conf_rule {
    struct e6_prefix prefix;
    unsigned line;
};

struct conf_proxy {
    char *name;
    unsigned line;
    struct conf_rule *rules; /* in file order */
    size_t n_rules;
};

enum conf_tunnel_type {
    CONF_TUNNEL_6IN4,
    CONF_TUNNEL_6BED4,
};

/* tunnel NAME { type = 6in4|6bed4 ... } (keys: tunnel issues) */
struct conf_tunnel {
    char *name; /* also the TUN interface name */
    unsigned line;
    enum conf_tunnel_type type;
};

struct conf {
    char *path;
    struct conf_global global;
    struct conf_interface *interfaces;
    size_t n_interfaces;
    struct conf_proxy *proxies;
    size_t n_proxies;
    struct conf_tunnel *tunnels;
    size_t n_tunnels;
};

/*
 * Parse and validate. On success returns the config; on any error reports
 * every problem found through report (may be NULL) and returns NULL.
 * Messages come in line order, "FILE:LINE: ..." ("FILE: ..." for the file
 * as a whole: cannot open, too large); a syntax error ends the parse, so
 * the messages stop there. The result holds only its own memory: nothing
 * in it points into libconfuse or into text. Lines (the `line` fields) are
 * those of each section's title.
 *
 * Not reentrant and not thread-safe: libconfuse's scanner is global. Load
 * from one thread; a struct conf once loaded is read-only and may be read
 * from any thread.
 */
struct conf *conf_load(const char *path, conf_report_fn report, void *arg);
/* Same, from text in memory; name stands for the file in messages. */
struct conf *conf_load_string(const char *text, const char *name, conf_report_fn report, void *arg);
void conf_free(struct conf *c);

const char *conf_tunnel_type_name(enum conf_tunnel_type t);
const struct conf_interface *conf_find_interface(const struct conf *c, const char *name);
const struct conf_proxy *conf_find_proxy(const struct conf *c, const char *name);
const struct conf_tunnel *conf_find_tunnel(const struct conf *c, const char *name);

#endif
