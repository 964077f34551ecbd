/*
 * daemon/daemon: the running edge6d's state shared by its parts (main,
 * control socket, the "daemon" status view) and the reload transaction:
 * parse and validate the new file, keep the old config on any error, or
 * swap and let every module reconcile.
 */
#ifndef E6_DAEMON_DAEMON_H
#define E6_DAEMON_DAEMON_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "common/counters.h"
#include "common/loop.h"
#include "common/strbuf.h"
#include "conf/conf.h"
#include "daemon/module.h"
#include "ndppd/ndp.h"

enum d6_counter {
    D6_RELOADS_OK,
    D6_RELOADS_FAILED,
    D6_CONTROL_REQUESTS,
    D6_CONTROL_BAD_REQUESTS,
    D6_CONTROL_TIMEOUTS,
    D6_CONTROL_OVERLOAD,
    D6_COUNTER_COUNT
};

struct ctl_server;
struct e6_nl;
struct ra_service;
struct ndp_service;
struct tun_service;
struct tb4_service;

/* How the process is stopping. */
enum d6_stop {
    D6_RUNNING,
    D6_STOP_GOODBYE, /* SIGTERM/SIGINT: modules say goodbye while the loop runs */
    D6_STOP_NOW,     /* SIGUSR1 (restart), or a second SIGTERM: no goodbye */
};

struct d6_daemon {
    struct e6_loop *loop;
    struct e6_counter_registry *registry;
    struct e6_counters *counters; /* the "daemon" set, in registry */
    e6_counter_block cnt;         /* control-plane block of counters */
    struct d6_modules modules;
    struct ctl_server *ctl;
    struct e6_nl *nl;         /* kernel state, shared by the modules */
    struct e6_timer nl_retry; /* resync / re-watch after a netlink failure */
    uint32_t nl_retry_ms;
    bool nl_watched; /* its fd is on the loop */
    struct e6_ratelimit nl_rl;
    struct ra_service *ra;   /* the radv module's service */
    struct ndp_service *ndp; /* the ndppd module's service */
    struct tun_service *tun; /* the tunnel module's service (6in4) */
    struct tb4_service *tb4; /* the 6bed4 module's service */
    enum d6_stop stop;

    char *cwd;         /* at start: relative paths are taken from here */
    char *conf_path;   /* absolute, so reload works after chdir("/") */
    struct conf *conf; /* the configuration in force */
    time_t loaded_at;  /* wall clock when conf was loaded */
    time_t started_at;
    uint64_t started_ms; /* loop clock at start, for uptime */

    /* Fixed at start; a reload that changes them only warns. */
    char *user;           /* as configured */
    char *control_socket; /* absolute */
    char *run_user;       /* the user the process runs as after the drop */

    bool log_pinned; /* -d: reloads do not change the log level */

    /* Error lines of the last failed reload; emptied by a good reload. */
    struct e6_strbuf last_reload_error;
    time_t last_reload_error_at;
};

enum d6_reload_result {
    D6_RELOAD_OK,      /* the new configuration is in force */
    D6_RELOAD_PARTIAL, /* in force, but a module could not apply all of it */
    D6_RELOAD_REFUSED, /* the file has errors: the running configuration stays */
};

/*
 * Re-read d->conf_path. A valid file is swapped in and the modules
 * reconciled: OK, or PARTIAL when a module failed (what it could not do
 * is logged, appended to errors and kept as the last reload error for
 * `status`). An invalid one keeps the running config, logs every error
 * line, appends them (newline-terminated) to errors: REFUSED. errors may
 * be NULL.
 */
enum d6_reload_result d6_reload(struct d6_daemon *d, struct e6_strbuf *errors);

/* p made absolute against d->cwd; malloc'd, NULL when out of memory. */
char *d6_abspath(const struct d6_daemon *d, const char *p);

/* "2024-05-01T12:00:00+0200": local time with its UTC offset. */
void d6_format_time(time_t t, char *buf, size_t len);

/* The "daemon" module: status view of the process and the configuration. */
extern const struct d6_module_ops d6_daemon_module_ops;

/* The "radv" module; self is a struct ra_service. */
extern const struct d6_module_ops d6_radv_module_ops;

/* The "ndppd" module (NDP proxy); self is a struct ndp_service. */
extern const struct d6_module_ops d6_ndppd_module_ops;

/* The "tunnel" module (6in4 tunnels); self is a struct tun_service. */
extern const struct d6_module_ops d6_tunnel_module_ops;

/* The "6bed4" module (6bed4 routers and peers); self is a struct tb4_service. */
extern const struct d6_module_ops d6_sixbed4_module_ops;

/*
 * The NDP proxy's membership oracle (ndp_member_fn; arg: the daemon):
 * CONF_PROXY_TUNNEL asks d->tun (tun_service_member), CONF_PROXY_6BED4
 * asks d->tb4 (tb4_service_member, tunnel may be NULL); 1 -> NDP_YES,
 * 0 -> NDP_NO, negative, a missing service or another method ->
 * NDP_UNKNOWN.
 */
enum ndp_verdict d6_proxy_member(void *arg, enum conf_proxy_method m, const char *tunnel,
                                 const struct in6_addr *target);

/* Counter names, indexed by enum d6_counter. */
extern const char *const d6_counter_names[D6_COUNTER_COUNT];

#endif
