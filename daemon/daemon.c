/*
 * daemon/daemon: the reload transaction and the "daemon" status view.
 */
#include "config.h"

#include "daemon/daemon.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "common/log.h"
#include "daemon/privs.h"

const char *const d6_counter_names[D6_COUNTER_COUNT] = {
    [D6_RELOADS_OK] = "reloads_ok",
    [D6_RELOADS_FAILED] = "reloads_failed",
    [D6_CONTROL_REQUESTS] = "control_requests",
    [D6_CONTROL_BAD_REQUESTS] = "control_bad_requests",
    [D6_CONTROL_TIMEOUTS] = "control_timeouts",
    [D6_CONTROL_OVERLOAD] = "control_overload",
};

void d6_format_time(time_t t, char *buf, size_t len)
{
    struct tm tm;
    if (!localtime_r(&t, &tm) || strftime(buf, len, "%Y-%m-%dT%H:%M:%S%z", &tm) == 0)
        snprintf(buf, len, "@%lld", (long long)t);
}

char *d6_abspath(const struct d6_daemon *d, const char *p)
{
    char *out;
    if (p[0] == '/' || !d->cwd)
        return strdup(p);
    if (asprintf(&out, "%s/%s", strcmp(d->cwd, "/") ? d->cwd : "", p) < 0)
        return NULL;
    return out;
}

struct reload_report {
    struct e6_strbuf *errors;
    size_t n;
};

static void reload_report(void *arg, const char *msg)
{
    struct reload_report *r = arg;
    e6_err("%s", msg);
    r->n++;
    if (r->errors) {
        e6_strbuf_puts(r->errors, msg);
        e6_strbuf_puts(r->errors, "\n");
    }
}

static bool same_str(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

enum d6_reload_result d6_reload(struct d6_daemon *d, struct e6_strbuf *errors)
{
    struct e6_strbuf lines = E6_STRBUF_INIT;
    lines.max = 64 * 1024;
    struct reload_report rep = {.errors = &lines};
    char when[64];

    if (d->stop != D6_RUNNING) {
        /* the modules are saying goodbye: a reconcile now would restart them */
        e6_notice("not reloading %s: shutting down", d->conf_path);
        if (errors)
            e6_strbuf_puts(errors, "edge6d is shutting down\n");
        return D6_RELOAD_REFUSED;
    }
    e6_info("reloading %s", d->conf_path);
    struct conf *nc = conf_load(d->conf_path, reload_report, &rep);
    if (!nc) {
        if (rep.n == 0)
            reload_report(&rep, "configuration rejected without a reason (out of memory?)");
        d6_format_time(d->loaded_at, when, sizeof(when));
        e6_err("reload failed: keeping the configuration loaded at %s", when);
        e6_count(d->cnt, D6_RELOADS_FAILED);
        e6_strbuf_free(&d->last_reload_error);
        d->last_reload_error = lines;
        d->last_reload_error_at = time(NULL);
        if (errors)
            e6_strbuf_append(errors, e6_strbuf_str(&lines), lines.len);
        return D6_RELOAD_REFUSED;
    }
    e6_strbuf_free(&lines);

    /* systemd (Type=notify-reload) wants the monotonic time with RELOADING */
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading %s",
               (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000,
               d->conf_path);

    if (!same_str(nc->global.user, d->user))
        e6_warn("user changed from '%s' to '%s'; takes effect after restart", d->user,
                nc->global.user ? nc->global.user : "");
    char *sock = nc->global.control_socket ? d6_abspath(d, nc->global.control_socket) : NULL;
    if (!same_str(sock, d->control_socket))
        e6_warn("control-socket changed from %s to %s; takes effect after restart",
                d->control_socket, nc->global.control_socket ? nc->global.control_socket : "");
    free(sock);

    struct conf *old = d->conf;
    d->conf = nc;
    d->loaded_at = time(NULL);
    struct e6_strbuf whys = E6_STRBUF_INIT;
    whys.max = 64 * 1024;
    size_t failed = d6_modules_reconcile(&d->modules, old, nc, &whys);
    enum e6_log_level was = e6_log_get_level();
    if (!d->log_pinned && nc->global.log_level != was) {
        /* said at whichever of the two levels is more verbose */
        if (nc->global.log_level > was)
            e6_log_set_level(nc->global.log_level);
        e6_notice("log level changes from %s to %s", e6_log_level_name(was),
                  e6_log_level_name(nc->global.log_level));
        e6_log_set_level(nc->global.log_level);
    }
    conf_free(old);

    e6_count(d->cnt, D6_RELOADS_OK);
    e6_strbuf_free(&d->last_reload_error);
    d->last_reload_error_at = 0;
    if (failed) {
        e6_warn("configuration reloaded from %s; %zu module(s) could not apply it fully",
                d->conf_path, failed);
        if (errors)
            e6_strbuf_append(errors, e6_strbuf_str(&whys), whys.len);
        /* status shows it until a reload applies cleanly */
        d->last_reload_error = whys;
        d->last_reload_error_at = time(NULL);
    } else {
        e6_strbuf_free(&whys);
        e6_notice("configuration reloaded from %s", d->conf_path);
    }
    sd_notifyf(0, "READY=1\nSTATUS=running, configuration reloaded from %s%s", d->conf_path,
               failed ? " (not applied fully: see the log)" : "");
    return failed ? D6_RELOAD_PARTIAL : D6_RELOAD_OK;
}

/* "3d 04:05:06" */
static void format_uptime(uint64_t s, char *buf, size_t len)
{
    unsigned long long days = s / 86400;
    unsigned h = (unsigned)(s % 86400 / 3600), m = (unsigned)(s % 3600 / 60),
             sec = (unsigned)(s % 60);
    if (days)
        snprintf(buf, len, "%llud %02u:%02u:%02u", days, h, m, sec);
    else
        snprintf(buf, len, "%02u:%02u:%02u", h, m, sec);
}

static void view_json(struct e6_json *j, struct d6_daemon *d, uint64_t uptime, const char *caps)
{
    const struct conf *c = d->conf;
    char when[64];

    e6_json_begin_object(j, NULL);
    e6_json_string(j, "version", PACKAGE_VERSION);
    e6_json_uint(j, "pid", (uint64_t)getpid());
    e6_json_uint(j, "uptime_s", uptime);
    d6_format_time(d->started_at, when, sizeof(when));
    e6_json_string(j, "started", when);
    e6_json_string(j, "config", d->conf_path);
    d6_format_time(d->loaded_at, when, sizeof(when));
    e6_json_string(j, "config_loaded", when);
    e6_json_uint(j, "reloads_ok", e6_counters_get(d->counters, D6_RELOADS_OK));
    e6_json_uint(j, "reloads_failed", e6_counters_get(d->counters, D6_RELOADS_FAILED));
    if (d->last_reload_error.len) {
        e6_json_begin_object(j, "last_reload_error");
        d6_format_time(d->last_reload_error_at, when, sizeof(when));
        e6_json_string(j, "time", when);
        e6_json_begin_array(j, "errors");
        const char *p = e6_strbuf_str(&d->last_reload_error);
        while (*p) {
            const char *nl = strchr(p, '\n');
            size_t n = nl ? (size_t)(nl - p) : strlen(p);
            char line[1024];
            snprintf(line, sizeof(line), "%.*s", (int)(n < sizeof(line) ? n : sizeof(line) - 1), p);
            e6_json_string(j, NULL, line);
            p += n + (nl ? 1 : 0);
        }
        e6_json_end_array(j);
        e6_json_end_object(j);
    } else {
        e6_json_string(j, "last_reload_error", NULL);
    }
    e6_json_string(j, "user", d->run_user);
    e6_json_begin_array(j, "capabilities");
    char tmp[1024];
    snprintf(tmp, sizeof(tmp), "%s", caps);
    char *save = NULL;
    for (char *cap = strtok_r(tmp, ",", &save); cap; cap = strtok_r(NULL, ",", &save))
        e6_json_string(j, NULL, cap);
    e6_json_end_array(j);
    e6_json_string(j, "log_level", e6_log_level_name(e6_log_get_level()));
    e6_json_string(j, "control_socket", d->control_socket);
    e6_json_string(j, "state_directory", c->global.state_dir);

    e6_json_begin_array(j, "interfaces");
    for (size_t i = 0; i < c->n_interfaces; i++) {
        e6_json_begin_object(j, NULL);
        e6_json_string(j, "name", c->interfaces[i].name);
        e6_json_uint(j, "line", c->interfaces[i].line);
        e6_json_end_object(j);
    }
    e6_json_end_array(j);
    e6_json_begin_array(j, "proxies");
    for (size_t i = 0; i < c->n_proxies; i++) {
        const struct conf_proxy *p = &c->proxies[i];
        e6_json_begin_object(j, NULL);
        e6_json_string(j, "name", p->name);
        e6_json_uint(j, "line", p->line);
        e6_json_begin_array(j, "rules");
        for (size_t r = 0; r < p->n_rules; r++) {
            char pfx[E6_PREFIXSTRLEN];
            e6_prefix_format(&p->rules[r].prefix, pfx, sizeof(pfx));
            e6_json_string(j, NULL, pfx);
        }
        e6_json_end_array(j);
        e6_json_end_object(j);
    }
    e6_json_end_array(j);
    e6_json_begin_array(j, "tunnels");
    for (size_t i = 0; i < c->n_tunnels; i++) {
        e6_json_begin_object(j, NULL);
        e6_json_string(j, "name", c->tunnels[i].name);
        e6_json_string(j, "type", conf_tunnel_type_name(c->tunnels[i].type));
        e6_json_uint(j, "line", c->tunnels[i].line);
        e6_json_end_object(j);
    }
    e6_json_end_array(j);
    e6_json_end_object(j);
}

static void view_text(struct e6_strbuf *sb, struct d6_daemon *d, uint64_t uptime, const char *caps)
{
    const struct conf *c = d->conf;
    char when[64], up[48];

    format_uptime(uptime, up, sizeof(up));
    e6_strbuf_printf(sb, "edge6d %s, pid %ld, up %s\n", PACKAGE_VERSION, (long)getpid(), up);
    d6_format_time(d->loaded_at, when, sizeof(when));
    e6_strbuf_printf(sb, "  config          %s (loaded %s)\n", d->conf_path, when);
    e6_strbuf_printf(sb, "  reloads         %llu ok, %llu failed\n",
                     (unsigned long long)e6_counters_get(d->counters, D6_RELOADS_OK),
                     (unsigned long long)e6_counters_get(d->counters, D6_RELOADS_FAILED));
    if (d->last_reload_error.len) {
        d6_format_time(d->last_reload_error_at, when, sizeof(when));
        e6_strbuf_printf(sb, "  last reload     failed at %s:\n", when);
        const char *p = e6_strbuf_str(&d->last_reload_error);
        while (*p) {
            const char *nl = strchr(p, '\n');
            size_t n = nl ? (size_t)(nl - p) : strlen(p);
            e6_strbuf_puts(sb, "    ");
            e6_strbuf_append(sb, p, n);
            e6_strbuf_puts(sb, "\n");
            p += n + (nl ? 1 : 0);
        }
    }
    e6_strbuf_printf(sb, "  user            %s\n", d->run_user);
    e6_strbuf_printf(sb, "  capabilities    %s\n", caps[0] ? caps : "(none)");
    e6_strbuf_printf(sb, "  log level       %s\n", e6_log_level_name(e6_log_get_level()));
    e6_strbuf_printf(sb, "  control socket  %s\n", d->control_socket);
    e6_strbuf_printf(sb, "  state directory %s\n", c->global.state_dir);

    e6_strbuf_printf(sb, "interfaces (%zu)\n", c->n_interfaces);
    for (size_t i = 0; i < c->n_interfaces; i++)
        e6_strbuf_printf(sb, "  %s\n", c->interfaces[i].name);
    e6_strbuf_printf(sb, "proxies (%zu)\n", c->n_proxies);
    for (size_t i = 0; i < c->n_proxies; i++) {
        const struct conf_proxy *p = &c->proxies[i];
        e6_strbuf_printf(sb, "  %s:", p->name);
        for (size_t r = 0; r < p->n_rules; r++) {
            char pfx[E6_PREFIXSTRLEN];
            e6_prefix_format(&p->rules[r].prefix, pfx, sizeof(pfx));
            e6_strbuf_printf(sb, " %s", pfx);
        }
        e6_strbuf_puts(sb, p->n_rules ? "\n" : " (no rules)\n");
    }
    e6_strbuf_printf(sb, "tunnels (%zu)\n", c->n_tunnels);
    for (size_t i = 0; i < c->n_tunnels; i++)
        e6_strbuf_printf(sb, "  %s (%s)\n", c->tunnels[i].name,
                         conf_tunnel_type_name(c->tunnels[i].type));
}

static void daemon_view(struct e6_json *j, enum e6_view_format fmt, void *arg)
{
    struct d6_daemon *d = arg;
    uint64_t now = e6_loop_now(d->loop);
    uint64_t uptime = now > d->started_ms ? (now - d->started_ms) / 1000 : 0;
    char caps[1024];
    d6_privs_effective(caps, sizeof(caps));

    if (fmt == E6_VIEW_JSON)
        view_json(j, d, uptime, caps);
    else
        view_text(j->sb, d, uptime, caps);
}

const struct d6_module_ops d6_daemon_module_ops = {
    .name = "daemon",
    .view = daemon_view,
};
