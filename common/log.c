/*
 * common/log: formats and writes every log line of the process. A line is
 * built completely in a stack buffer and written with one write() so that
 * lines from worker threads never interleave. Messages may quote config
 * text or packet bytes, so control characters and malformed UTF-8 are
 * escaped before they reach a terminal, a file or the journal.
 */
#include "config.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/strbuf.h"

/* Longest message text (after escaping) before it is cut with "...". */
#define LOG_MSG_MAX  1024
#define LOG_ELLIPSIS "..."

static struct {
    char ident[64];
    enum e6_log_target target;
    bool journal; /* stderr is the journal's stream: "<N>" prefixes, no time */
    bool syslog_open;
} g_log = {.ident = "edge6d", .target = E6_LOG_STDERR};

static _Atomic int g_level = E6_LOG_INFO;

static const char *const level_names[] = {
    [E6_LOG_ERR] = "err",   [E6_LOG_WARNING] = "warning", [E6_LOG_NOTICE] = "notice",
    [E6_LOG_INFO] = "info", [E6_LOG_DEBUG] = "debug",
};

static int clamp_level(int level)
{
    if (level < E6_LOG_ERR)
        return E6_LOG_ERR;
    if (level > E6_LOG_DEBUG)
        return E6_LOG_DEBUG;
    return level;
}

const char *e6_log_level_name(enum e6_log_level level)
{
    if ((int)level < E6_LOG_ERR || (int)level > E6_LOG_DEBUG)
        return "unknown";
    return level_names[level];
}

bool e6_log_level_parse(const char *s, enum e6_log_level *out)
{
    if (!s)
        return false;
    for (int l = E6_LOG_ERR; l <= E6_LOG_DEBUG; l++) {
        if (strcmp(s, level_names[l]) == 0) {
            *out = (enum e6_log_level)l;
            return true;
        }
    }
    return false;
}

/*
 * systemd sets JOURNAL_STREAM=DEV:INODE for the stream it connected to
 * stdout/stderr. Only trust it when it matches our fd 2, since the
 * variable is inherited by children whose stderr was redirected.
 */
static bool stderr_is_journal(void)
{
    const char *env = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    char *end;
    struct stat st;

    if (!env || !*env)
        return false;
    errno = 0;
    dev = strtoull(env, &end, 10);
    if (errno || end == env || *end != ':')
        return false;
    const char *p = end + 1;
    ino = strtoull(p, &end, 10);
    if (errno || end == p || *end != '\0')
        return false;
    if (fstat(STDERR_FILENO, &st) < 0)
        return false;
    return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void e6_log_open(const char *ident, enum e6_log_target target, enum e6_log_level level)
{
    e6_log_close();
    snprintf(g_log.ident, sizeof(g_log.ident), "%s", ident && *ident ? ident : "edge6d");
    g_log.target = target;
    atomic_store(&g_level, clamp_level((int)level));
    if (target == E6_LOG_SYSLOG) {
        openlog(g_log.ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
        g_log.syslog_open = true;
        g_log.journal = false;
    } else {
        g_log.journal = stderr_is_journal();
    }
}

void e6_log_close(void)
{
    if (g_log.syslog_open) {
        closelog();
        g_log.syslog_open = false;
    }
    g_log.target = E6_LOG_STDERR;
    g_log.journal = false;
}

void e6_log_set_level(enum e6_log_level level)
{
    atomic_store(&g_level, clamp_level((int)level));
}

enum e6_log_level e6_log_get_level(void)
{
    return (enum e6_log_level)atomic_load(&g_level);
}

/*
 * Escape src[0..n) into dst (capacity cap, content budget cap-1) and
 * report whether all of it fitted. Escapes: C0 controls and DEL as
 * \n \r \t or \xNN; malformed UTF-8 and C1 controls (which some terminals
 * obey) byte by byte as \xNN. Escape units are never split.
 */
static bool escape_into(char *dst, size_t cap, size_t *len, const char *src, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)src;
    size_t o = *len, i = 0;
    bool ok = true;

    while (i < n) {
        unsigned char c = s[i];
        char tmp[16];
        size_t tl = 0, used = 1;

        if (c >= 0x20 && c < 0x7f) {
            tmp[tl++] = (char)c;
        } else if (c == '\n' || c == '\r' || c == '\t') {
            tmp[tl++] = '\\';
            tmp[tl++] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
        } else {
            uint32_t cp = 0;
            int r = c >= 0x80 ? e6_utf8_decode(s + i, n - i, &cp) : -1;
            if (r > 0 && cp >= 0xa0) {
                memcpy(tmp, s + i, (size_t)r);
                tl = (size_t)r;
                used = (size_t)r;
            } else {
                used = r > 0 ? (size_t)r : (size_t)-r;
                for (size_t k = 0; k < used; k++) {
                    tmp[tl++] = '\\';
                    tmp[tl++] = 'x';
                    tmp[tl++] = hex[s[i + k] >> 4];
                    tmp[tl++] = hex[s[i + k] & 15];
                }
            }
        }
        if (o + tl > cap - 1) {
            ok = false;
            break;
        }
        memcpy(dst + o, tmp, tl);
        o += tl;
        i += used;
    }
    dst[o] = '\0';
    *len = o;
    return ok;
}

static void write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, buf, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return; /* nowhere left to report it */
        }
        buf += w;
        len -= (size_t)w;
    }
}

/* "2024-05-01T12:34:56.789+02:00" */
static size_t format_timestamp(char *buf, size_t cap)
{
    struct timespec ts;
    struct tm tm;
    size_t n;

    clock_gettime(CLOCK_REALTIME, &ts);
    if (!localtime_r(&ts.tv_sec, &tm))
        return (size_t)snprintf(buf, cap, "%lld", (long long)ts.tv_sec);
    n = strftime(buf, cap, "%Y-%m-%dT%H:%M:%S", &tm);
    long off = tm.tm_gmtoff;
    char sign = off < 0 ? '-' : '+';
    if (off < 0)
        off = -off;
    n += (size_t)snprintf(buf + n, cap - n, ".%03ld%c%02ld:%02ld", ts.tv_nsec / 1000000L, sign,
                          off / 3600, (off / 60) % 60);
    return n;
}

static void log_emit(int level, const char *fmt, va_list ap, uint32_t suppressed)
    __attribute__((format(printf, 2, 0)));

static void log_emit(int level, const char *fmt, va_list ap, uint32_t suppressed)
{
    char raw[LOG_MSG_MAX + 1];
    char msg[LOG_MSG_MAX + 64];
    size_t mlen = 0;
    int saved_errno = errno; /* callers may log with %m or check errno after */

    level = clamp_level(level);
    int n = vsnprintf(raw, sizeof(raw), fmt, ap);
    if (n < 0) {
        snprintf(raw, sizeof(raw), "(unformattable log message: %s)", fmt);
        n = (int)strlen(raw);
    }
    size_t rlen = (size_t)n < sizeof(raw) ? (size_t)n : sizeof(raw) - 1;
    bool whole = escape_into(msg, LOG_MSG_MAX + 1 - strlen(LOG_ELLIPSIS), &mlen, raw, rlen);
    if (!whole || (size_t)n >= sizeof(raw)) {
        memcpy(msg + mlen, LOG_ELLIPSIS, sizeof(LOG_ELLIPSIS));
        mlen += strlen(LOG_ELLIPSIS);
    }
    if (suppressed)
        mlen +=
            (size_t)snprintf(msg + mlen, sizeof(msg) - mlen, " (%u similar message%s suppressed)",
                             suppressed, suppressed == 1 ? "" : "s");

    if (g_log.target == E6_LOG_SYSLOG) {
        syslog(level, "%s", msg);
        errno = saved_errno;
        return;
    }

    char line[LOG_MSG_MAX + 160];
    /* Below PIPE_BUF, a line written to a pipe (shell, journald's stream
     * is a socket but the same holds there in practice) is never torn. */
    _Static_assert(sizeof(line) <= 4096, "log line must stay below PIPE_BUF");
    size_t len;
    if (g_log.journal) {
        len = (size_t)snprintf(line, sizeof(line), "<%d>%s\n", level, msg);
    } else {
        char ts[64];
        format_timestamp(ts, sizeof(ts));
        len = (size_t)snprintf(line, sizeof(line), "%s %s: %s\n", ts, level_names[level], msg);
    }
    if (len >= sizeof(line)) {
        len = sizeof(line) - 1;
        line[len - 1] = '\n';
    }
    write_all(STDERR_FILENO, line, len);
    errno = saved_errno;
}

void e6_vlog(enum e6_log_level level, const char *fmt, va_list ap)
{
    if ((int)level > atomic_load_explicit(&g_level, memory_order_relaxed))
        return;
    log_emit((int)level, fmt, ap, 0);
}

void e6_log(enum e6_log_level level, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    e6_vlog(level, fmt, ap);
    va_end(ap);
}

bool e6_ratelimit_ok(struct e6_ratelimit *rl, uint64_t now_ms)
{
    uint32_t burst = rl->burst ? rl->burst : 1;

    if (rl->interval_ms == 0)
        return true;
    if (rl->tokens > burst)
        rl->tokens = burst; /* burst lowered by the owner */
    if (!rl->primed) {
        rl->tokens = burst;
        rl->last_ms = now_ms;
        rl->primed = true;
    } else if (now_ms < rl->last_ms) {
        rl->last_ms = now_ms; /* clock went back: restart the interval */
    } else {
        uint64_t add = (now_ms - rl->last_ms) / rl->interval_ms;
        if (add >= (uint64_t)(burst - rl->tokens)) {
            /* Full again; time spent full earns nothing. */
            rl->tokens = burst;
            rl->last_ms = now_ms;
        } else if (add > 0) {
            rl->tokens += (uint32_t)add;
            rl->last_ms += add * rl->interval_ms;
        }
    }
    if (rl->tokens > 0) {
        rl->tokens--;
        return true;
    }
    if (rl->suppressed < UINT32_MAX)
        rl->suppressed++;
    return false;
}

void e6_log_rl(struct e6_ratelimit *rl, enum e6_log_level level, const char *fmt, ...)
{
    struct timespec ts;
    va_list ap;

    /* A line below the log level must not spend a token. */
    if ((int)level > atomic_load_explicit(&g_level, memory_order_relaxed))
        return;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    if (!e6_ratelimit_ok(rl, (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u))
        return;
    uint32_t suppressed = rl->suppressed;
    rl->suppressed = 0;
    va_start(ap, fmt);
    log_emit((int)level, fmt, ap, suppressed);
    va_end(ap);
}
