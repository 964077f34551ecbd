/*
 * daemon/control: the control socket server and its commands.
 */
#include "config.h"

#include "daemon/control.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/log.h"
#include "daemon/ctlproto.h"
#include "ndppd/io.h"
#include "radv/io.h"
#include "tunnel/io_6bed4.h"

/* After EMFILE and friends, stop accepting for a moment rather than spin
 * on a listening socket that stays readable. */
#define ACCEPT_PAUSE_MS 200
/* Connections accepted per wake-up, so a connect flood cannot starve the
 * rest of the loop. */
#define ACCEPT_BATCH 32

enum client_state {
    C_FREE,
    C_READING,
    C_WRITING,
};

struct ctl_client {
    struct ctl_server *srv;
    enum client_state state;
    int fd;
    char in[CTL_REQUEST_MAX];
    size_t in_len;
    struct e6_strbuf out;
    size_t out_off;
    struct e6_timer deadline;
};

struct ctl_server {
    struct d6_daemon *d;
    int fd;
    char *path;
    dev_t dev; /* of the socket file we bound, to unlink only ours */
    ino_t ino;
    struct ctl_client clients[CTL_CLIENTS_MAX];
    size_t n_clients;
    struct e6_timer accept_pause;
    struct e6_ratelimit accept_rl;
};

struct ctl_cmd {
    const char *name;
    const char *args;
    const char *help;
    /* false: the request fails with the reason in why; body still sent.
     * arg2 is set only for commands that take two arguments. */
    bool (*run)(struct ctl_server *s, const char *arg, const char *arg2, struct e6_strbuf *body,
                char *why, size_t whylen, uid_t peer);
    unsigned max_args;
};

static bool cmd_status(struct ctl_server *s, const char *arg, const char *arg2,
                       struct e6_strbuf *body, char *why, size_t whylen, uid_t peer);
static bool cmd_counters(struct ctl_server *s, const char *arg, const char *arg2,
                         struct e6_strbuf *body, char *why, size_t whylen, uid_t peer);
static bool cmd_reload(struct ctl_server *s, const char *arg, const char *arg2,
                       struct e6_strbuf *body, char *why, size_t whylen, uid_t peer);
static bool cmd_help(struct ctl_server *s, const char *arg, const char *arg2,
                     struct e6_strbuf *body, char *why, size_t whylen, uid_t peer);

static bool cmd_ra(struct ctl_server *s, const char *arg, const char *arg2, struct e6_strbuf *body,
                   char *why, size_t whylen, uid_t peer);
static bool cmd_neighbors(struct ctl_server *s, const char *arg, const char *arg2,
                          struct e6_strbuf *body, char *why, size_t whylen, uid_t peer);
static bool cmd_peers(struct ctl_server *s, const char *arg, const char *arg2,
                      struct e6_strbuf *body, char *why, size_t whylen, uid_t peer);

static const struct ctl_cmd commands[] = {
    {"status", "[json]", "the daemon's and every module's state", cmd_status, 1},
    {"counters", "[json]", "every counter of every module", cmd_counters, 1},
    {"ra", "[IFACE] [json]", "the router advertisement each interface sends, decoded", cmd_ra, 2},
    {"neighbors", "[IFACE] [json]", "the NDP proxy's sessions (every proxy, or IFACE's)",
     cmd_neighbors, 2},
    {"peers", "[TUNNEL] [json]", "the live peers of each 6bed4 router (or TUNNEL's)", cmd_peers, 2},
    {"reload", "", "re-read the configuration file (like SIGHUP)", cmd_reload, 1},
    {"help", "", "this list", cmd_help, 1},
};
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void client_close(struct ctl_client *c)
{
    struct ctl_server *s = c->srv;
    if (c->state == C_FREE)
        return;
    e6_timer_cancel(s->d->loop, &c->deadline);
    e6_loop_del_fd(s->d->loop, c->fd);
    close(c->fd);
    c->fd = -1;
    e6_strbuf_free(&c->out);
    c->state = C_FREE;
    s->n_clients--;
}

static void format_arg(const struct ctl_cmd *cmd, enum e6_view_format *fmt, const char *arg,
                       bool *ok, char *why, size_t whylen)
{
    *fmt = E6_VIEW_TEXT;
    *ok = true;
    if (!arg)
        return;
    if (strcmp(arg, "json") == 0) {
        *fmt = E6_VIEW_JSON;
        return;
    }
    snprintf(why, whylen, "bad argument '%s' to %s (expected: %s %s)", arg, cmd->name, cmd->name,
             cmd->args);
    *ok = false;
}

static bool cmd_status(struct ctl_server *s, const char *arg, const char *arg2,
                       struct e6_strbuf *body, char *why, size_t whylen, uid_t peer)
{
    enum e6_view_format fmt;
    bool ok;
    format_arg(&commands[0], &fmt, arg, &ok, why, whylen);
    if (ok)
        d6_modules_view(&s->d->modules, fmt, body);
    return ok;
}

static bool cmd_counters(struct ctl_server *s, const char *arg, const char *arg2,
                         struct e6_strbuf *body, char *why, size_t whylen, uid_t peer)
{
    enum e6_view_format fmt;
    bool ok;
    format_arg(&commands[1], &fmt, arg, &ok, why, whylen);
    if (!ok)
        return false;
    struct e6_json j;
    e6_json_init(&j, body);
    e6_counters_view(&j, fmt, s->d->registry);
    if (fmt == E6_VIEW_JSON)
        e6_strbuf_puts(body, "\n");
    return true;
}

static bool ra_ifname_ok(const char *n)
{
    size_t len = strlen(n);
    if (len == 0 || len >= 16)
        return false;
    for (size_t i = 0; i < len; i++)
        if (n[i] == '/' || n[i] == ':')
            return false;
    return true;
}

/*
 * The arguments of a per-interface view: "CMD", "CMD json", "CMD NAME",
 * "CMD NAME json", where NAME (what: "IFACE", or "TUNNEL" for a tunnel,
 * which is its interface's name) is an interface name. false with why set
 * when they are not that.
 */
static bool iface_view_args(const char *cmd, const char *what, const char *arg, const char *arg2,
                            const char **ifname, enum e6_view_format *fmt, char *why, size_t whylen)
{
    *fmt = E6_VIEW_TEXT;
    *ifname = NULL;
    if (arg2) {
        if (strcmp(arg2, "json") != 0) {
            snprintf(why, whylen, "bad argument '%s' to %s (expected: %s [%s] [json])", arg2, cmd,
                     cmd, what);
            return false;
        }
        *ifname = arg;
        *fmt = E6_VIEW_JSON;
    } else if (arg && strcmp(arg, "json") == 0) {
        *fmt = E6_VIEW_JSON;
    } else {
        *ifname = arg;
    }
    if (*ifname && !ra_ifname_ok(*ifname)) {
        snprintf(why, whylen, "'%.64s' is not %s name", *ifname,
                 strcmp(what, "TUNNEL") == 0 ? "a tunnel" : "an interface");
        return false;
    }
    return true;
}

static bool cmd_ra(struct ctl_server *s, const char *arg, const char *arg2, struct e6_strbuf *body,
                   char *why, size_t whylen, uid_t peer)
{
    enum e6_view_format fmt;
    const char *ifname;
    if (!iface_view_args("ra", "IFACE", arg, arg2, &ifname, &fmt, why, whylen))
        return false;
    if (!s->d->ra) {
        snprintf(why, whylen, "router advertisements are not running");
        return false;
    }
    struct e6_json j;
    e6_json_init(&j, body);
    if (!ra_service_view_detail(s->d->ra, ifname, &j, fmt, why, whylen)) {
        e6_strbuf_reset(body);
        return false;
    }
    if (fmt == E6_VIEW_JSON)
        e6_strbuf_puts(body, "\n");
    return true;
}

static bool cmd_neighbors(struct ctl_server *s, const char *arg, const char *arg2,
                          struct e6_strbuf *body, char *why, size_t whylen, uid_t peer)
{
    enum e6_view_format fmt;
    const char *ifname;
    if (!iface_view_args("neighbors", "IFACE", arg, arg2, &ifname, &fmt, why, whylen))
        return false;
    if (!s->d->ndp) {
        snprintf(why, whylen, "the NDP proxy is not running");
        return false;
    }
    if (ifname && !ndp_service_has_proxy(s->d->ndp, ifname)) {
        snprintf(why, whylen, "no proxy for interface '%s' in the configuration", ifname);
        return false;
    }
    struct ndp_neighbors_query q = {.service = s->d->ndp, .iface = ifname};
    struct e6_json j;
    e6_json_init(&j, body);
    ndp_service_neighbors_view(&j, fmt, &q);
    if (fmt == E6_VIEW_JSON)
        e6_strbuf_puts(body, "\n");
    return true;
}

/*
 * A TUNNEL argument of `peers`: a 6bed4 router of the configuration in
 * force (a peer, or a 6in4 tunnel, keeps no peers). false with why set.
 */
static bool peers_tunnel_ok(const struct conf *c, const char *name, char *why, size_t whylen)
{
    const struct conf_tunnel *t = conf_find_tunnel(c, name);
    if (!t) {
        snprintf(why, whylen, "no tunnel '%s' in the configuration", name);
        return false;
    }
    if (t->type != CONF_TUNNEL_6BED4) {
        snprintf(why, whylen, "tunnel '%s' is a %s tunnel: only 6bed4 routers have peers", name,
                 conf_tunnel_type_name(t->type));
        return false;
    }
    if (t->mode != CONF_TUN_ROUTER) {
        snprintf(why, whylen, "6bed4 tunnel '%s' is a peer: only 6bed4 routers have peers", name);
        return false;
    }
    return true;
}

static bool cmd_peers(struct ctl_server *s, const char *arg, const char *arg2,
                      struct e6_strbuf *body, char *why, size_t whylen, uid_t peer)
{
    enum e6_view_format fmt;
    const char *tunnel;
    if (!iface_view_args("peers", "TUNNEL", arg, arg2, &tunnel, &fmt, why, whylen))
        return false;
    if (!s->d->tb4) {
        snprintf(why, whylen, "the 6bed4 tunnels are not running");
        return false;
    }
    if (tunnel && !peers_tunnel_ok(s->d->conf, tunnel, why, whylen))
        return false;
    /* configured, yet not running: its start or the last reload failed */
    if (tunnel && !tb4_service_has_router(s->d->tb4, tunnel)) {
        snprintf(why, whylen, "6bed4 router '%s' is not running (see the log)", tunnel);
        return false;
    }
    struct e6_json j;
    e6_json_init(&j, body);
    struct tb4_peers_query q = {.service = s->d->tb4, .tunnel = tunnel};
    tb4_service_peers_query_view(&j, fmt, &q);
    if (fmt == E6_VIEW_JSON)
        e6_strbuf_puts(body, "\n");
    return true;
}

static bool cmd_reload(struct ctl_server *s, const char *arg, const char *arg2,
                       struct e6_strbuf *body, char *why, size_t whylen, uid_t peer)
{
    if (arg) {
        snprintf(why, whylen, "reload takes no argument");
        return false;
    }
    if (peer != (uid_t)-1)
        e6_notice("reload requested through the control socket (uid %u)", (unsigned)peer);
    else
        e6_notice("reload requested through the control socket");
    switch (d6_reload(s->d, body)) {
    case D6_RELOAD_OK:
        e6_strbuf_printf(body, "reloaded %s\n", s->d->conf_path);
        return true;
    case D6_RELOAD_PARTIAL:
        snprintf(why, whylen,
                 "reloaded %s, but not all of it could be applied; the rest is in force:",
                 s->d->conf_path);
        return false;
    case D6_RELOAD_REFUSED:
        break;
    }
    snprintf(why, whylen, "reload failed: keeping the running configuration");
    return false;
}

static bool cmd_help(struct ctl_server *s, const char *arg, const char *arg2,
                     struct e6_strbuf *body, char *why, size_t whylen, uid_t peer)
{
    if (arg) {
        snprintf(why, whylen, "help takes no argument");
        return false;
    }
    for (size_t i = 0; i < N_COMMANDS; i++) {
        char usage[64];
        snprintf(usage, sizeof(usage), "%s %s", commands[i].name, commands[i].args);
        e6_strbuf_printf(body, "%-25s %s\n", usage, commands[i].help);
    }
    return true;
}

static void command_list(char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < N_COMMANDS && used < len; i++) {
        int n = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", commands[i].name);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

static uid_t peer_uid(int fd)
{
    struct ucred cred;
    socklen_t len = sizeof(cred);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
        return (uid_t)-1;
    return cred.uid;
}

/*
 * Validate and run one request line (NUL-terminated, no newline), writing
 * the whole answer into c->out.
 */
static void handle_request(struct ctl_client *c, char *line)
{
    struct ctl_server *s = c->srv;
    struct d6_daemon *d = s->d;
    char why[512] = "";
    struct e6_strbuf body = E6_STRBUF_INIT;
    body.max = CTL_RESPONSE_MAX;
    bool ok = false;
    bool bad = true;

    e6_count(d->cnt, D6_CONTROL_REQUESTS);

    size_t len = strlen(line);
    if (len && line[len - 1] == '\r')
        line[--len] = '\0';
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)line[i];
        if (ch < 0x20 || ch > 0x7e) {
            if (ch == '\t') {
                line[i] = ' ';
                continue;
            }
            snprintf(why, sizeof(why), "request contains a control or non-ASCII byte");
            goto answer;
        }
    }

    char *save = NULL;
    char *word = strtok_r(line, " ", &save);
    char *arg = word ? strtok_r(NULL, " ", &save) : NULL;
    char *arg2 = arg ? strtok_r(NULL, " ", &save) : NULL;
    char *extra = arg2 ? strtok_r(NULL, " ", &save) : NULL;
    if (!word) {
        snprintf(why, sizeof(why), "empty request");
        goto answer;
    }
    e6_debug("control: request '%s%s%s'", word, arg ? " " : "", arg ? arg : "");

    const struct ctl_cmd *cmd = NULL;
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(word, commands[i].name) == 0)
            cmd = &commands[i];
    if (!cmd) {
        char list[128];
        command_list(list, sizeof(list));
        snprintf(why, sizeof(why), "unknown command '%.64s' (commands: %s)", word, list);
        goto answer;
    }
    if (extra || (arg2 && cmd->max_args < 2)) {
        snprintf(why, sizeof(why), "too many arguments (expected: %s %s)", cmd->name, cmd->args);
        goto answer;
    }
    ok = cmd->run(s, arg, arg2, &body, why, sizeof(why), peer_uid(c->fd));
    /* a command that ran and failed (a bad reload) is not a bad request,
     * but a rejected argument is */
    bad = !ok && cmd->run != cmd_reload;

answer:
    if (bad && !ok)
        e6_count(d->cnt, D6_CONTROL_BAD_REQUESTS);
    c->out.max = CTL_RESPONSE_MAX + 600;
    if (body.failed) {
        e6_strbuf_printf(&c->out, "ERR cannot build the answer (too large? limit %u bytes)\n",
                         CTL_RESPONSE_MAX);
    } else if (ok) {
        e6_strbuf_puts(&c->out, "OK\n");
        e6_strbuf_append(&c->out, e6_strbuf_str(&body), body.len);
    } else {
        e6_strbuf_printf(&c->out, "ERR %s\n", why);
        e6_strbuf_append(&c->out, e6_strbuf_str(&body), body.len);
    }
    e6_strbuf_free(&body);
    if (c->out.failed) {
        e6_strbuf_free(&c->out);
        c->out.max = 0;
        e6_strbuf_puts(&c->out, "ERR out of memory\n");
    }
}

/* Write what is pending; closes the client when done or broken. */
static void client_flush(struct ctl_client *c)
{
    while (c->out_off < c->out.len) {
        ssize_t n = send(c->fd, c->out.buf + c->out_off, c->out.len - c->out_off,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                if (c->state != C_WRITING) {
                    c->state = C_WRITING;
                    if (e6_loop_mod_fd(c->srv->d->loop, c->fd, EPOLLOUT) < 0)
                        client_close(c);
                }
                return;
            }
            e6_debug("control: client went away: %s", strerror(errno));
            client_close(c);
            return;
        }
        c->out_off += (size_t)n;
    }
    client_close(c);
}

static void client_respond(struct ctl_client *c, char *line)
{
    handle_request(c, line);
    c->out_off = 0;
    client_flush(c);
}

static void client_read(struct ctl_client *c)
{
    for (;;) {
        ssize_t n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                client_close(c);
            return;
        }
        if (n == 0) {
            /* A request ended by shutdown() instead of a newline is still
             * a request; a connection that sent nothing is just closed. */
            if (c->in_len == 0) {
                client_close(c);
                return;
            }
            char line[CTL_REQUEST_MAX + 1];
            memcpy(line, c->in, c->in_len);
            line[c->in_len] = '\0';
            if (memchr(line, '\0', c->in_len))
                line[0] = '\x01'; /* embedded NUL: make it fail validation */
            client_respond(c, line);
            return;
        }
        size_t old = c->in_len;
        c->in_len += (size_t)n;
        char *nl = memchr(c->in + old, '\n', c->in_len - old);
        if (nl) {
            char line[CTL_REQUEST_MAX + 1];
            size_t len = (size_t)(nl - c->in);
            memcpy(line, c->in, len);
            line[len] = '\0';
            if (memchr(c->in, '\0', len))
                line[0] = '\x01';
            client_respond(c, line);
            return;
        }
        if (c->in_len == sizeof(c->in)) {
            e6_count(c->srv->d->cnt, D6_CONTROL_REQUESTS);
            e6_count(c->srv->d->cnt, D6_CONTROL_BAD_REQUESTS);
            c->out.max = 0;
            e6_strbuf_printf(&c->out, "ERR request too long (limit %d bytes)\n", CTL_REQUEST_MAX);
            c->out_off = 0;
            client_flush(c);
            return;
        }
    }
}

static void client_cb(struct e6_loop *loop, int fd, uint32_t events, void *arg)
{
    struct ctl_client *c = arg;
    if (c->state == C_READING) {
        if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
            client_read(c);
    } else if (c->state == C_WRITING) {
        if (events & (EPOLLERR | EPOLLHUP)) {
            client_close(c);
            return;
        }
        if (events & EPOLLOUT)
            client_flush(c);
    }
}

static void client_timeout(struct e6_loop *loop, struct e6_timer *t, void *arg)
{
    struct ctl_client *c = arg;
    e6_count(c->srv->d->cnt, D6_CONTROL_TIMEOUTS);
    e6_debug("control: client timed out after %d ms while %s", CTL_CLIENT_TIMEOUT_MS,
             c->state == C_READING ? "reading its request" : "writing the answer");
    client_close(c);
}

static void listen_cb(struct e6_loop *loop, int fd, uint32_t events, void *arg);

static void accept_resume(struct e6_loop *loop, struct e6_timer *t, void *arg)
{
    struct ctl_server *s = arg;
    if (e6_loop_add_fd(loop, s->fd, EPOLLIN, listen_cb, s) < 0)
        e6_timer_arm_in(loop, &s->accept_pause, ACCEPT_PAUSE_MS);
}

static void refuse_busy(int fd)
{
    static const char busy[] = "ERR busy (too many control clients)\n";
    char sink[CTL_REQUEST_MAX];
    /* Read what the client already sent: closing with unread data would
     * reset the connection and the client would never see why. */
    ssize_t n = recv(fd, sink, sizeof(sink), MSG_DONTWAIT);
    /* Best effort: a fresh socket has room for one short line. */
    n = send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)n;
    close(fd);
}

static void listen_cb(struct e6_loop *loop, int fd, uint32_t events, void *arg)
{
    struct ctl_server *s = arg;
    for (int i = 0; i < ACCEPT_BATCH; i++) {
        int cfd = accept4(s->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            e6_log_rl(&s->accept_rl, E6_LOG_WARNING,
                      "control socket: accept: %s; pausing for %d ms", strerror(errno),
                      ACCEPT_PAUSE_MS);
            e6_loop_del_fd(loop, s->fd);
            e6_timer_arm_in(loop, &s->accept_pause, ACCEPT_PAUSE_MS);
            return;
        }
        struct ctl_client *c = NULL;
        for (size_t k = 0; k < CTL_CLIENTS_MAX; k++) {
            if (s->clients[k].state == C_FREE) {
                c = &s->clients[k];
                break;
            }
        }
        if (!c) {
            e6_count(s->d->cnt, D6_CONTROL_OVERLOAD);
            refuse_busy(cfd);
            continue;
        }
        c->srv = s;
        c->fd = cfd;
        c->in_len = 0;
        c->out_off = 0;
        c->out = (struct e6_strbuf)E6_STRBUF_INIT;
        e6_timer_init(&c->deadline, client_timeout, c);
        if (e6_loop_add_fd(loop, cfd, EPOLLIN, client_cb, c) < 0 ||
            e6_timer_arm_in(loop, &c->deadline, CTL_CLIENT_TIMEOUT_MS) < 0) {
            e6_loop_del_fd(loop, cfd);
            close(cfd);
            continue;
        }
        c->state = C_READING;
        s->n_clients++;
    }
}

/*
 * Something is at path. Remove it only when it is a socket nobody answers
 * on (left by a crash); a live one means another daemon owns it.
 */
static int clear_stale(const char *path, const struct sockaddr_un *sun, char *err, size_t errlen)
{
    struct stat st;
    if (lstat(path, &st) < 0) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, errlen, "control socket %s: %s", path, strerror(errno));
        return -errno;
    }
    if (!S_ISSOCK(st.st_mode)) {
        snprintf(err, errlen, "control socket %s: exists and is not a socket", path);
        return -EEXIST;
    }
    int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (probe < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -errno;
    }
    int rc = connect(probe, (const struct sockaddr *)sun, sizeof(*sun));
    int e = errno;
    close(probe);
    if (rc == 0 || e == EAGAIN || e == EINPROGRESS) {
        snprintf(err, errlen,
                 "control socket %s: another process is answering on it (is edge6d already "
                 "running?)",
                 path);
        return -EADDRINUSE;
    }
    if (e != ECONNREFUSED) {
        snprintf(err, errlen, "control socket %s: cannot probe it: %s", path, strerror(e));
        return -e;
    }
    if (unlink(path) < 0 && errno != ENOENT) {
        snprintf(err, errlen, "cannot remove stale control socket %s: %s", path, strerror(errno));
        return -errno;
    }
    e6_info("removed stale control socket %s", path);
    return 0;
}

int ctl_open(struct ctl_server **out, struct d6_daemon *d, const char *path, gid_t gid, char *err,
             size_t errlen)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    int rc;

    if (path[0] == '\0' || strlen(path) >= sizeof(sun.sun_path)) {
        snprintf(err, errlen, "control socket path '%s' is empty or longer than %zu bytes", path,
                 sizeof(sun.sun_path) - 1);
        return -ENAMETOOLONG;
    }
    memcpy(sun.sun_path, path, strlen(path) + 1);

    rc = clear_stale(path, &sun, err, errlen);
    if (rc < 0)
        return rc;

    struct ctl_server *s = calloc(1, sizeof(*s));
    if (!s || !(s->path = strdup(path))) {
        free(s);
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    s->d = d;
    s->accept_rl = (struct e6_ratelimit)E6_RATELIMIT_INIT(10000, 3);
    e6_timer_init(&s->accept_pause, accept_resume, s);
    for (size_t i = 0; i < CTL_CLIENTS_MAX; i++) {
        s->clients[i].state = C_FREE;
        s->clients[i].fd = -1;
    }

    s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (s->fd < 0) {
        rc = -errno;
        snprintf(err, errlen, "socket: %s", strerror(errno));
        goto fail;
    }
    /* The umask decides the mode at bind(): never let the socket exist,
     * even briefly, with more access than 0660. */
    mode_t old = umask(0117);
    rc = bind(s->fd, (struct sockaddr *)&sun, sizeof(sun));
    int e = errno;
    umask(old);
    if (rc < 0) {
        rc = -e;
        snprintf(err, errlen, "cannot bind control socket %s: %s", path, strerror(e));
        goto fail_fd;
    }
    struct stat st;
    if (stat(path, &st) < 0) {
        rc = -errno;
        snprintf(err, errlen, "control socket %s: %s", path, strerror(errno));
        goto fail_fd;
    }
    s->dev = st.st_dev;
    s->ino = st.st_ino;
    if (gid != (gid_t)-1 && chown(path, (uid_t)-1, gid) < 0) {
        rc = -errno;
        snprintf(err, errlen, "cannot set group %u on control socket %s: %s", (unsigned)gid, path,
                 strerror(errno));
        goto fail_unlink;
    }
    if (chmod(path, 0660) < 0) {
        rc = -errno;
        snprintf(err, errlen, "cannot chmod control socket %s: %s", path, strerror(errno));
        goto fail_unlink;
    }
    if (listen(s->fd, CTL_CLIENTS_MAX) < 0) {
        rc = -errno;
        snprintf(err, errlen, "listen on %s: %s", path, strerror(errno));
        goto fail_unlink;
    }
    rc = e6_loop_add_fd(d->loop, s->fd, EPOLLIN, listen_cb, s);
    if (rc < 0) {
        snprintf(err, errlen, "control socket: cannot watch it: %s", strerror(-rc));
        goto fail_unlink;
    }
    *out = s;
    return 0;

fail_unlink:
    unlink(path);
fail_fd:
    close(s->fd);
fail:
    free(s->path);
    free(s);
    return rc;
}

void ctl_close(struct ctl_server *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < CTL_CLIENTS_MAX; i++)
        client_close(&s->clients[i]);
    e6_timer_cancel(s->d->loop, &s->accept_pause);
    e6_loop_del_fd(s->d->loop, s->fd);
    close(s->fd);
    struct stat st;
    if (stat(s->path, &st) == 0 && st.st_dev == s->dev && st.st_ino == s->ino) {
        if (unlink(s->path) < 0)
            e6_warn("cannot remove control socket %s: %s", s->path, strerror(errno));
    }
    free(s->path);
    free(s);
}
