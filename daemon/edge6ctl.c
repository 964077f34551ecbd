/*
 * daemon/edge6ctl: the command-line client of edge6d's control socket.
 * Sends one request, prints the answer's body, and turns the answer into
 * an exit status scripts can rely on.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/loop.h"
#include "conf/conf.h"
#include "daemon/cli.h"
#include "daemon/ctlproto.h"

#define DEFAULT_SOCKET E6_RUNDIR "/edge6d.sock"
/* The daemon answers within its own 2 s client deadline; a reload of a
 * huge file may take a little longer. */
#define ANSWER_TIMEOUT_MS 10000
#define ANSWER_MAX        (CTL_RESPONSE_MAX + 4096)

enum {
    EXIT_OK = 0,
    EXIT_ERR = 1,
    EXIT_USAGE = 2,
    EXIT_UNREACHABLE = 3,
};

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: edge6ctl [-s SOCKET | -c CONFIG] [-j] COMMAND [ARGUMENT]\n"
            "Query and control a running edge6d.\n"
            "\n"
            "Commands:\n"
            "  status     the daemon's and every module's state\n"
            "  counters   every counter\n"
            "  ra [IFACE] the router advertisement each interface (or IFACE) sends,\n"
            "             decoded option by option\n"
            "  neighbors [IFACE]\n"
            "             the NDP proxy's sessions (every proxy, or IFACE's): target,\n"
            "             state, downstream interface, rule, time left\n"
            "  peers [TUNNEL]\n"
            "             the live peers of each 6bed4 router (or TUNNEL's): IPv4\n"
            "             endpoint, /114, class, first and last heard, datagrams\n"
            "  reload     re-read the configuration file (like SIGHUP)\n"
            "  help       the commands the daemon understands\n"
            "\n"
            "Options:\n"
            "  -s, --socket SOCKET  control socket (default %s)\n"
            "  -c, --config FILE    use the control-socket named in this configuration\n"
            "  -j, --json           answer in JSON (status, counters, ra, neighbors, peers)\n"
            "  -h, --help           show this help and exit\n"
            "  -V, --version        show the version and exit\n"
            "\n"
            "Exit status: 0 ok, 1 the daemon answered with an error, 2 bad arguments or\n"
            "configuration, 3 the daemon cannot be reached.\n",
            DEFAULT_SOCKET);
}

#define bad_usage(...) d6_cli_usage_error("edge6ctl", EXIT_USAGE, __VA_ARGS__)

static int connect_to(const char *path)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sun.sun_path)) {
        fprintf(stderr, "edge6ctl: socket path too long: %s\n", path);
        exit(EXIT_USAGE);
    }
    memcpy(sun.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
        int e = errno;
        if (e == EACCES || e == EPERM)
            fprintf(stderr,
                    "edge6ctl: cannot connect to %s: %s -- run as root or as a member of the "
                    "socket's group\n",
                    path, strerror(e));
        else
            fprintf(stderr, "edge6ctl: cannot connect to %s: %s -- is edge6d running?\n", path,
                    strerror(e));
        exit(EXIT_UNREACHABLE);
    }
    return fd;
}

static void send_all(int fd, const char *path, const char *buf, size_t len)
{
    while (len) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            /* The daemon may have answered and closed before reading us
             * (ERR busy): its answer is still waiting to be read. */
            if (errno == EPIPE || errno == ECONNRESET)
                return;
            fprintf(stderr, "edge6ctl: sending to %s: %s\n", path, strerror(errno));
            exit(EXIT_UNREACHABLE);
        }
        buf += n;
        len -= (size_t)n;
    }
}

/* The whole answer, NUL-terminated; exits on timeout or error. */
static char *read_answer(int fd, const char *path, size_t *lenp)
{
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    uint64_t deadline = e6_monotonic_ms() + ANSWER_TIMEOUT_MS;
    if (!buf) {
        fprintf(stderr, "edge6ctl: out of memory\n");
        exit(EXIT_ERR);
    }
    for (;;) {
        uint64_t now = e6_monotonic_ms();
        if (now >= deadline) {
            fprintf(stderr, "edge6ctl: no answer from %s within %d s\n", path,
                    ANSWER_TIMEOUT_MS / 1000);
            exit(EXIT_UNREACHABLE);
        }
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int pr = poll(&pfd, 1, (int)(deadline - now));
        if (pr < 0 && errno != EINTR) {
            fprintf(stderr, "edge6ctl: poll: %s\n", strerror(errno));
            exit(EXIT_ERR);
        }
        if (pr <= 0)
            continue;
        if (len + 1 >= cap) {
            if (cap >= ANSWER_MAX) {
                fprintf(stderr, "edge6ctl: answer from %s is too large\n", path);
                exit(EXIT_ERR);
            }
            cap *= 2;
            char *nb = realloc(buf, cap);
            if (!nb) {
                fprintf(stderr, "edge6ctl: out of memory\n");
                exit(EXIT_ERR);
            }
            buf = nb;
        }
        ssize_t n = read(fd, buf + len, cap - 1 - len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            /* a reset after the answer arrived is the end of it */
            if (errno == ECONNRESET && len > 0)
                break;
            fprintf(stderr, "edge6ctl: reading from %s: %s\n", path, strerror(errno));
            exit(EXIT_UNREACHABLE);
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    *lenp = len;
    return buf;
}

static bool valid_command(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] <= ' ' || s[i] > '~')
            return false;
    return true;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"socket", required_argument, NULL, 's'}, {"config", required_argument, NULL, 'c'},
        {"json", no_argument, NULL, 'j'},         {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},      {NULL, 0, NULL, 0},
    };
    const char *sock = NULL, *conf_path = NULL;
    bool json = false;

    opterr = 0;
    for (;;) {
        int opt = getopt_long(argc, argv, ":s:c:jhV", longopts, NULL);
        if (opt == -1)
            break;
        switch (opt) {
        case 's':
            sock = optarg;
            break;
        case 'c':
            conf_path = optarg;
            break;
        case 'j':
            json = true;
            break;
        case 'h':
            usage(stdout);
            return EXIT_OK;
        case 'V':
            printf("edge6ctl %s\n", PACKAGE_VERSION);
            return EXIT_OK;
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
    if (optind >= argc)
        bad_usage(
            "no command given (commands: status, counters, ra, neighbors, peers, reload, help)");
    const char *cmd = argv[optind];
    const char *cmd_arg = NULL;
    if (!valid_command(cmd))
        bad_usage("'%s' is not a command", cmd);
    /* a tunnel is named after its interface: the same rules */
    bool takes_tunnel = strcmp(cmd, "peers") == 0;
    bool takes_iface = strcmp(cmd, "ra") == 0 || strcmp(cmd, "neighbors") == 0 || takes_tunnel;
    const char *what = takes_tunnel ? "tunnel" : "interface";
    if (takes_iface && argc - optind == 2) {
        cmd_arg = argv[optind + 1];
        if (!valid_command(cmd_arg) || strlen(cmd_arg) >= 16)
            bad_usage("'%s' is not a%s %s name", cmd_arg, takes_tunnel ? "" : "n", what);
    } else if (takes_iface && argc - optind > 2) {
        bad_usage("%s takes one %s at most ('%s' after '%s')", cmd, what, argv[optind + 2],
                  argv[optind + 1]);
    } else if (argc - optind > 1) {
        bad_usage("one command at a time ('%s' after '%s')", argv[optind + 1], argv[optind]);
    }
    if (sock && conf_path)
        bad_usage("-s and -c both name the socket: give one");
    if (sock && !sock[0])
        bad_usage("empty socket path");

    struct conf *conf = NULL;
    if (conf_path) {
        conf = conf_load(conf_path, d6_cli_report, NULL);
        if (!conf) {
            fprintf(stderr, "edge6ctl: cannot read the control socket from %s\n", conf_path);
            return EXIT_USAGE;
        }
        sock = conf->global.control_socket;
    }
    if (!sock)
        sock = DEFAULT_SOCKET;

    char req[CTL_REQUEST_MAX];
    int n = snprintf(req, sizeof(req), "%s%s%s%s\n", cmd, cmd_arg ? " " : "",
                     cmd_arg ? cmd_arg : "", json ? " json" : "");
    int fd = connect_to(sock);
    send_all(fd, sock, req, (size_t)n);
    size_t len;
    char *ans = read_answer(fd, sock, &len);
    close(fd);

    int rc;
    char *nl = strchr(ans, '\n');
    const char *body = nl ? nl + 1 : "";
    size_t body_len = nl ? len - (size_t)(nl + 1 - ans) : 0;
    if (nl)
        *nl = '\0';
    if (len == 0) {
        fprintf(stderr, "edge6ctl: %s closed the connection without answering\n", sock);
        rc = EXIT_UNREACHABLE;
    } else if (strcmp(ans, "OK") == 0) {
        fwrite(body, 1, body_len, stdout);
        rc = EXIT_OK;
    } else if (strncmp(ans, "ERR", 3) == 0 && (ans[3] == ' ' || ans[3] == '\0')) {
        fprintf(stderr, "edge6ctl: %s\n", ans[3] ? ans + 4 : "error");
        fwrite(body, 1, body_len, stderr);
        rc = EXIT_ERR;
    } else {
        fprintf(stderr, "edge6ctl: unexpected answer from %s: %.80s\n", sock, ans);
        rc = EXIT_ERR;
    }
    if (fflush(stdout) != 0 && rc == EXIT_OK)
        rc = EXIT_ERR;
    free(ans);
    conf_free(conf);
    return rc;
}
