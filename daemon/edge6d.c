/*
 * daemon/edge6d: main. Options, daemonising, the startup sequence (config,
 * log, control socket, pid file, privilege drop, modules, readiness),
 * signals and the orderly shutdown. Everything after startup runs on one
 * control-plane loop.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "common/log.h"
#include "common/netlink.h"
#include "daemon/cli.h"
#include "daemon/control.h"
#include "daemon/daemon.h"
#include "daemon/pidfile.h"
#include "daemon/privs.h"
#include "ndppd/io.h"
#include "radv/io.h"
#include "tunnel/io.h"
#include "tunnel/io_6bed4.h"

#define DEFAULT_PIDFILE E6_RUNDIR "/edge6d.pid"
/* what the daemonised child sends its waiting parent once it is ready */
#define READY_LINE "READY\n"
/* Longest orderly shutdown: the final RAs go 3 s apart (RFC 4861 6.2.6),
 * about 6 s; the systemd unit allows 20 s before SIGKILL. */
#define STOP_DEADLINE_MS 10000
/* netlink trouble: first retry, and the longest pause between retries */
#define NL_RETRY_MIN_MS 1000
#define NL_RETRY_MAX_MS 30000

struct options {
    const char *conf_path;
    const char *pidfile;
    bool test;
    bool foreground;
    bool debug;
};

/* Write end of the pipe to the waiting parent; -1 in the foreground. */
static int report_fd = -1;

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: edge6d [OPTION]...\n"
            "IPv6 edge daemon: router advertisements, NDP proxy, 6in4 and 6bed4 tunnels.\n"
            "\n"
            "  -c, --config FILE    configuration file (default %s)\n"
            "  -t, --test           check the configuration and exit\n"
            "  -f, --foreground     stay in the foreground and log to stderr\n"
            "  -d, --debug          log at debug level, whatever the configuration says\n"
            "  -p, --pidfile FILE   write the pid to FILE (default without -f: %s)\n"
            "  -h, --help           show this help and exit\n"
            "  -V, --version        show the version and exit\n"
            "\n"
            "Signals: SIGHUP reloads the configuration; SIGTERM and SIGINT stop after the\n"
            "final router advertisements (at most 10 s; SIGINT again stops at once);\n"
            "SIGUSR1 stops at once without them (restart: clients keep their router).\n"
            "Exit status: 0 ok, 1 error (configuration or startup), 2 bad arguments.\n",
            E6_CONFFILE, DEFAULT_PIDFILE);
}

#define bad_usage(...) d6_cli_usage_error("edge6d", 2, __VA_ARGS__)

static void parse_options(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},  {"test", no_argument, NULL, 't'},
        {"foreground", no_argument, NULL, 'f'},    {"debug", no_argument, NULL, 'd'},
        {"pidfile", required_argument, NULL, 'p'}, {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},       {NULL, 0, NULL, 0},
    };
    *o = (struct options){.conf_path = E6_CONFFILE};
    opterr = 0;
    for (;;) {
        int opt = getopt_long(argc, argv, ":c:tfdp:hV", longopts, NULL);
        if (opt == -1)
            break;
        switch (opt) {
        case 'c':
            if (!optarg[0])
                bad_usage("--config needs a file name");
            o->conf_path = optarg;
            break;
        case 't':
            o->test = true;
            break;
        case 'f':
            o->foreground = true;
            break;
        case 'd':
            o->debug = true;
            break;
        case 'p':
            if (!optarg[0])
                bad_usage("--pidfile needs a file name");
            o->pidfile = optarg;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        case 'V':
            printf("edge6d %s\n", PACKAGE_VERSION);
            exit(0);
        case ':':
            if (optopt)
                bad_usage("option -%c needs an argument", optopt);
            bad_usage("option %s needs an argument", argv[optind - 1]);
        default:
            if (optopt)
                bad_usage("unknown option -%c", optopt);
            bad_usage("unknown option %s", argv[optind - 1]);
        }
    }
    if (optind < argc)
        bad_usage("unexpected argument '%s'", argv[optind]);
}

/*
 * A startup error: to the log, and to the parent waiting in the terminal
 * when daemonised (the log may be syslog, which the user is not watching).
 */
static void startup_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void startup_error(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    e6_err("%s", msg);
    if (report_fd >= 0) {
        size_t n = strlen(msg);
        msg[n] = '\n';
        ssize_t w = write(report_fd, msg, n + 1);
        (void)w;
    }
}

/* The original process: wait for the daemon's word and exit with it. */
static int wait_for_daemon(int fd, pid_t child)
{
    char buf[8192];
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
        if (len == sizeof(buf) - 1)
            break;
    }
    buf[len] = '\0';
    close(fd);
    waitpid(child, NULL, 0);
    if (strcmp(buf, READY_LINE) == 0)
        return 0;
    if (len == 0) {
        fprintf(stderr, "edge6d: the daemon exited during startup (see the system log)\n");
        return 1;
    }
    for (char *line = buf; *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        fprintf(stderr, "edge6d: %s\n", line);
        if (!nl)
            break;
        line = nl + 1;
    }
    return 1;
}

/* Returns in the daemon (grandchild) only. */
static void daemonise(void)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) {
        fprintf(stderr, "edge6d: pipe: %s\n", strerror(errno));
        exit(1);
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "edge6d: fork: %s\n", strerror(errno));
        exit(1);
    }
    if (pid > 0) {
        close(p[1]);
        exit(wait_for_daemon(p[0], pid));
    }
    close(p[0]);
    report_fd = p[1];
    if (setsid() < 0) {
        startup_error("setsid: %s", strerror(errno));
        _exit(1);
    }
    /* The second fork makes sure the daemon, no longer a session leader,
     * can never acquire a controlling terminal. */
    pid = fork();
    if (pid < 0) {
        startup_error("fork: %s", strerror(errno));
        _exit(1);
    }
    if (pid > 0)
        _exit(0);
    if (chdir("/") < 0) {
        startup_error("chdir /: %s", strerror(errno));
        _exit(1);
    }
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null < 0) {
        startup_error("/dev/null: %s", strerror(errno));
        _exit(1);
    }
    dup2(null, STDIN_FILENO);
    dup2(null, STDOUT_FILENO);
    dup2(null, STDERR_FILENO);
    if (null > STDERR_FILENO)
        close(null);
}

static void report_ready(void)
{
    if (report_fd < 0)
        return;
    ssize_t w = write(report_fd, READY_LINE, strlen(READY_LINE));
    (void)w;
    close(report_fd);
    report_fd = -1;
}

static void on_stop(struct e6_loop *loop, int signo, void *arg)
{
    struct d6_daemon *d = arg;
    const char *name = signo == SIGINT ? "INT" : "TERM";
    if (d->stop == D6_RUNNING) {
        e6_notice("received SIG%s, shutting down", name);
        sd_notify(0, "STOPPING=1\nSTATUS=shutting down");
        d->stop = D6_STOP_GOODBYE;
    } else if (signo == SIGINT) {
        /* Ctrl-C twice at a terminal: the operator does not want to wait */
        e6_notice("received SIGINT again, exiting without waiting for the goodbye");
        d->stop = D6_STOP_NOW;
    } else {
        /* a supervisor repeating SIGTERM must not cut the final RAs short;
         * the deadline bounds the wait, SIGUSR1 or SIGINT end it */
        e6_notice("received SIGTERM again: still saying goodbye (at most %d s)",
                  STOP_DEADLINE_MS / 1000);
        return;
    }
    e6_loop_stop(loop);
}

/* The restart path (systemd's RestartKillSignal): no final RAs, so hosts
 * keep this router while the next edge6d starts. */
static void on_restart(struct e6_loop *loop, int signo, void *arg)
{
    struct d6_daemon *d = arg;
    e6_notice("received SIGUSR1, stopping for a restart (no final router advertisements)");
    sd_notify(0, "STOPPING=1\nSTATUS=stopping for a restart");
    d->stop = D6_STOP_NOW;
    e6_loop_stop(loop);
}

static void on_hup(struct e6_loop *loop, int signo, void *arg)
{
    struct d6_daemon *d = arg;
    if (d->stop != D6_RUNNING) {
        e6_notice("received SIGHUP while shutting down: not reloading");
        return;
    }
    e6_notice("received SIGHUP, reloading");
    d6_reload(d, NULL);
}

/* A module finished its goodbye: exit as soon as all have. */
static void on_module_stopped(void *arg)
{
    struct d6_daemon *d = arg;
    if (d->stop != D6_RUNNING && d6_modules_done(&d->modules))
        e6_loop_stop(d->loop);
}

static void on_stop_deadline(struct e6_loop *loop, struct e6_timer *t, void *arg)
{
    e6_warn("shutdown: modules still busy after %d s; exiting anyway", STOP_DEADLINE_MS / 1000);
    e6_loop_stop(loop);
}

static void on_netlink(struct e6_loop *loop, int fd, uint32_t events, void *arg);

static void netlink_pause(struct d6_daemon *d, int err)
{
    uint32_t ms = d->nl_retry_ms ? d->nl_retry_ms * 2 : NL_RETRY_MIN_MS;
    d->nl_retry_ms = ms > NL_RETRY_MAX_MS ? NL_RETRY_MAX_MS : ms;
    e6_log_rl(&d->nl_rl, E6_LOG_WARNING, "netlink: %s; %s in %u ms", strerror(-err),
              e6_nl_resync_pending(d->nl) ? "resynchronising with the kernel" : "retrying",
              d->nl_retry_ms);
    /* a failed socket may stay readable: do not spin on it meanwhile */
    if (d->nl_watched) {
        e6_loop_del_fd(d->loop, e6_nl_fd(d->nl));
        d->nl_watched = false;
    }
    e6_timer_arm_in(d->loop, &d->nl_retry, d->nl_retry_ms);
}

static void on_netlink(struct e6_loop *loop, int fd, uint32_t events, void *arg)
{
    struct d6_daemon *d = arg;
    int r = e6_nl_process(d->nl);
    if (r < 0)
        netlink_pause(d, r);
    else
        d->nl_retry_ms = 0;
}

static void on_netlink_retry(struct e6_loop *loop, struct e6_timer *t, void *arg)
{
    struct d6_daemon *d = arg;
    if (e6_nl_resync_pending(d->nl)) {
        int r = e6_nl_resync(d->nl);
        if (r < 0) {
            netlink_pause(d, r);
            return;
        }
        e6_notice("netlink: resynchronised with the kernel");
    }
    if (!d->nl_watched) {
        int r = e6_loop_add_fd(loop, e6_nl_fd(d->nl), EPOLLIN, on_netlink, d);
        if (r < 0) {
            netlink_pause(d, r);
            return;
        }
        d->nl_watched = true;
    }
}

/*
 * The default run directory is created when missing (outside systemd,
 * which makes it through RuntimeDirectory=), owned by the run user so the
 * daemon can remove its socket and pid file after dropping root.
 */
static int ensure_rundir(const char *path, uid_t uid, gid_t gid)
{
    size_t n = strlen(E6_RUNDIR);
    const char *slash = strrchr(path, '/');
    if (!slash || (size_t)(slash - path) != n || strncmp(path, E6_RUNDIR, n) != 0)
        return 0;
    if (mkdir(E6_RUNDIR, 0755) < 0) {
        if (errno == EEXIST)
            return 0;
        startup_error("cannot create %s: %s", E6_RUNDIR, strerror(errno));
        return -1;
    }
    if (geteuid() == 0 && chown(E6_RUNDIR, uid, gid) < 0) {
        startup_error("cannot hand %s to the run user: %s", E6_RUNDIR, strerror(errno));
        return -1;
    }
    return 0;
}

static char *user_name(uid_t uid)
{
    struct passwd *pw = getpwuid(uid);
    if (pw)
        return strdup(pw->pw_name);
    char *s;
    if (asprintf(&s, "%u", (unsigned)uid) < 0)
        return NULL;
    return s;
}

static int run(const struct options *o, struct conf *conf)
{
    struct d6_daemon dd = {0};
    struct d6_daemon *d = &dd;
    struct d6_pidfile pf = D6_PIDFILE_INIT;
    char err[1024] = "";
    int rc = 1;
    int r;

    d->conf = conf;
    d->log_pinned = o->debug;
    d->started_at = time(NULL);
    d->loaded_at = d->started_at;
    d->cwd = getcwd(NULL, 0);
    d->conf_path = d6_abspath(d, o->conf_path);
    char *pidfile =
        o->pidfile ? d6_abspath(d, o->pidfile) : (o->foreground ? NULL : strdup(DEFAULT_PIDFILE));
    d->control_socket = d6_abspath(d, conf->global.control_socket);
    d->user = strdup(conf->global.user);
    if (!d->cwd || !d->conf_path || !d->control_socket || !d->user ||
        (!pidfile && (o->pidfile || !o->foreground))) {
        fprintf(stderr, "edge6d: out of memory\n");
        goto out;
    }

    if (!o->foreground)
        daemonise();
    e6_log_open("edge6d", o->foreground ? E6_LOG_STDERR : E6_LOG_SYSLOG,
                o->debug ? E6_LOG_DEBUG : conf->global.log_level);
    e6_notice("edge6d %s starting with %s", PACKAGE_VERSION, d->conf_path);

    /* Writes to a vanished control client must fail with EPIPE, not kill. */
    signal(SIGPIPE, SIG_IGN);

    r = e6_loop_new(&d->loop);
    if (r < 0) {
        startup_error("cannot create the event loop: %s", strerror(-r));
        goto out;
    }
    d->started_ms = e6_loop_now(d->loop);
    /* Before any module can start a thread: they inherit the blocked mask. */
    if ((r = e6_loop_add_signal(d->loop, SIGTERM, on_stop, d)) < 0 ||
        (r = e6_loop_add_signal(d->loop, SIGINT, on_stop, d)) < 0 ||
        (r = e6_loop_add_signal(d->loop, SIGUSR1, on_restart, d)) < 0 ||
        (r = e6_loop_add_signal(d->loop, SIGHUP, on_hup, d)) < 0) {
        startup_error("cannot set up signal handling: %s", strerror(-r));
        goto out;
    }
    d->registry = e6_counter_registry_new();
    if (d->registry)
        d->counters = e6_counters_new(d->registry, "daemon", d6_counter_names, D6_COUNTER_COUNT);
    if (d->counters)
        d->cnt = e6_counters_block(d->counters);
    if (!d->registry || !d->counters || !d->cnt.v) {
        startup_error("out of memory");
        goto out;
    }
    d6_modules_add(&d->modules, &d6_daemon_module_ops, d);

    /* Before the privilege drop: the kernel may want CAP_NET_ADMIN for the
     * larger receive buffer. Every module shares this one context. */
    d->nl_rl = (struct e6_ratelimit)E6_RATELIMIT_INIT(10000, 3);
    e6_timer_init(&d->nl_retry, on_netlink_retry, d);
    r = e6_nl_open(&d->nl);
    if (r < 0) {
        startup_error("cannot open netlink (rtnetlink): %s", strerror(-r));
        goto out;
    }
    r = e6_loop_add_fd(d->loop, e6_nl_fd(d->nl), EPOLLIN, on_netlink, d);
    if (r < 0) {
        startup_error("cannot watch the netlink socket: %s", strerror(-r));
        goto out;
    }
    d->nl_watched = true;
    /* what every module is lent; radv takes it in its own terms */
    const struct d6_env env = {
        .loop = d->loop,
        .registry = d->registry,
        .nl = d->nl,
        .stopped = on_module_stopped,
        .stopped_arg = d,
    };
    struct ra_service_env ra_env = {
        .loop = env.loop,
        .nl = env.nl,
        .registry = env.registry,
        .on_done = env.stopped,
        .on_done_arg = env.stopped_arg,
    };
    r = ra_service_new(&d->ra, &ra_env);
    if (r < 0 || (r = d6_modules_add(&d->modules, &d6_radv_module_ops, d->ra)) < 0) {
        ra_service_free(d->ra);
        d->ra = NULL;
        startup_error("cannot set up router advertisements: %s", strerror(-r));
        goto out;
    }
    /* before the proxy: it asks the tunnels who their clients are, and the
     * modules stop in reverse order */
    const struct tun_service_env tun_env = {
        .loop = env.loop,
        .nl = env.nl,
        .registry = env.registry,
    };
    r = tun_service_new(&d->tun, &tun_env);
    if (r < 0 || (r = d6_modules_add(&d->modules, &d6_tunnel_module_ops, d->tun)) < 0) {
        tun_service_free(d->tun);
        d->tun = NULL;
        startup_error("cannot set up the tunnels: %s", strerror(-r));
        goto out;
    }
    /* /dev/net/tun may be root's only: open what the tunnels need now */
    r = tun_service_preopen(d->tun, d->conf);
    if (r < 0)
        e6_debug("cannot open /dev/net/tun before dropping privileges: %s", strerror(-r));
    /* also before the proxy: its `6bed4` rules ask the routers for live peers */
    const struct tb4_service_env tb4_env = {
        .loop = env.loop,
        .nl = env.nl,
        .registry = env.registry,
    };
    r = tb4_service_new(&d->tb4, &tb4_env);
    if (r < 0 || (r = d6_modules_add(&d->modules, &d6_sixbed4_module_ops, d->tb4)) < 0) {
        tb4_service_free(d->tb4);
        d->tb4 = NULL;
        startup_error("cannot set up the 6bed4 tunnels: %s", strerror(-r));
        goto out;
    }
    r = tb4_service_preopen(d->tb4, d->conf);
    if (r < 0)
        e6_debug("cannot open /dev/net/tun for 6bed4 before dropping privileges: %s", strerror(-r));
    const struct ndp_service_env ndp_env = {
        .loop = env.loop,
        .nl = env.nl,
        .registry = env.registry,
        .member = d6_proxy_member,
        .member_arg = d,
    };
    r = ndp_service_new(&d->ndp, &ndp_env);
    if (r < 0 || (r = d6_modules_add(&d->modules, &d6_ndppd_module_ops, d->ndp)) < 0) {
        ndp_service_free(d->ndp);
        d->ndp = NULL;
        startup_error("cannot set up the NDP proxy: %s", strerror(-r));
        goto out;
    }

    bool root = geteuid() == 0;
    uid_t uid = geteuid();
    gid_t gid = getegid();
    r = d6_privs_lookup(d->user, &uid, &gid, err, sizeof(err));
    if (r < 0) {
        if (root) {
            startup_error("%s (the 'user' setting in %s)", err, d->conf_path);
            goto out;
        }
        uid = geteuid();
        gid = getegid();
    } else if (!root && uid != geteuid()) {
        e6_warn("started as uid %u without root: staying that user instead of '%s'",
                (unsigned)geteuid(), d->user);
    }
    if (root && uid == 0)
        e6_warn("user is root: running as root, although with CAP_NET_RAW and CAP_NET_ADMIN "
                "only");

    if (ensure_rundir(d->control_socket, uid, gid) < 0 ||
        (pidfile && ensure_rundir(pidfile, uid, gid) < 0))
        goto out;
    r = ctl_open(&d->ctl, d, d->control_socket, root ? gid : (gid_t)-1, err, sizeof(err));
    if (r < 0) {
        startup_error("%s", err);
        goto out;
    }
    if (pidfile) {
        r = d6_pidfile_open(&pf, pidfile, err, sizeof(err));
        if (r < 0) {
            startup_error("%s", err);
            goto out;
        }
    }

    r = d6_privs_drop(uid, gid, err, sizeof(err));
    if (r < 0) {
        startup_error("cannot drop privileges: %s", err);
        goto out;
    }
    d->run_user = user_name(geteuid());
    if (!d->run_user) {
        startup_error("out of memory");
        goto out;
    }

    r = d6_modules_start(&d->modules, d->conf, err, sizeof(err));
    if (r < 0) {
        startup_error("cannot start %s", err);
        goto out;
    }

    char caps[256];
    d6_privs_effective(caps, sizeof(caps));
    e6_notice("ready: interfaces %zu, proxies %zu, tunnels %zu; user %s, capabilities %s",
              conf->n_interfaces, conf->n_proxies, conf->n_tunnels, d->run_user,
              caps[0] ? caps : "none");
    sd_notifyf(0, "READY=1\nSTATUS=running with %s", d->conf_path);
    report_ready();

    r = e6_loop_run(d->loop);
    if (r < 0) {
        e6_err("event loop failed: %s", strerror(-r));
        sd_notify(0, "STOPPING=1");
        d->stop = D6_STOP_NOW;
    } else {
        rc = 0;
    }
    if (d->stop == D6_RUNNING)
        d->stop = D6_STOP_GOODBYE;
    /*
     * Goodbye while the loop still runs: the final RAs are timers on it.
     * Without anything to say (no interface advertising) this returns at
     * once; a second SIGTERM or SIGUSR1 cuts it short.
     */
    bool goodbye = d->stop == D6_STOP_GOODBYE;
    d6_modules_stop(&d->modules, goodbye);
    if (goodbye && !d6_modules_done(&d->modules)) {
        struct e6_timer deadline;
        e6_timer_init(&deadline, on_stop_deadline, d);
        e6_timer_arm_in(d->loop, &deadline, STOP_DEADLINE_MS);
        e6_info("saying goodbye (final router advertisements), at most %d s",
                STOP_DEADLINE_MS / 1000);
        r = e6_loop_run(d->loop);
        e6_timer_cancel(d->loop, &deadline);
        if (r < 0)
            e6_err("event loop failed during shutdown: %s", strerror(-r));
    }
    e6_notice("stopped");

out:
    d6_modules_free(&d->modules);
    if (d->nl) {
        e6_timer_cancel(d->loop, &d->nl_retry);
        if (d->nl_watched)
            e6_loop_del_fd(d->loop, e6_nl_fd(d->nl));
        e6_nl_free(d->nl);
    }
    ctl_close(d->ctl);
    d6_pidfile_remove(&pf);
    if (d->registry)
        e6_counter_registry_free(d->registry);
    if (d->loop)
        e6_loop_free(d->loop);
    conf_free(d->conf);
    e6_strbuf_free(&d->last_reload_error);
    free(pidfile);
    free(d->cwd);
    free(d->conf_path);
    free(d->control_socket);
    free(d->user);
    free(d->run_user);
    e6_log_close();
    if (report_fd >= 0)
        close(report_fd);
    return rc;
}

int main(int argc, char **argv)
{
    struct options o;
    parse_options(argc, argv, &o);

    struct conf *conf = conf_load(o.conf_path, d6_cli_report, NULL);
    if (o.test) {
        if (!conf)
            return 1;
        printf("%s: configuration OK\n", o.conf_path);
        conf_free(conf);
        return 0;
    }
    if (!conf) {
        fprintf(stderr, "edge6d: %s: configuration has errors, not starting\n", o.conf_path);
        return 1;
    }
    return run(&o, conf);
}
