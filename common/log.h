/*
 * common/log: the one place that writes log lines. In the foreground it
 * writes to stderr (with timestamps on a terminal, with sd-daemon "<N>"
 * level prefixes and no timestamps of our own under systemd's journal); as a
 * daemon it writes to syslog. Per-packet warnings go through a rate limiter
 * so a flood cannot flood the log.
 */
#ifndef E6_COMMON_LOG_H
#define E6_COMMON_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

/* values are syslog priorities */
enum e6_log_level {
    E6_LOG_ERR = 3,
    E6_LOG_WARNING = 4,
    E6_LOG_NOTICE = 5,
    E6_LOG_INFO = 6,
    E6_LOG_DEBUG = 7,
};

enum e6_log_target {
    E6_LOG_STDERR, /* foreground; journal-aware when JOURNAL_STREAM matches stderr */
    E6_LOG_SYSLOG, /* daemonised */
};

/*
 * Before any open, lines go to stderr with timestamps at level info.
 * open/close are for the main thread while no other thread logs; e6_log*
 * and e6_log_set_level may be called from any thread. Each line is one
 * write(). Messages are cut at about 1 KiB with "...", and control
 * characters, C1 controls and malformed UTF-8 are escaped (\n, \t, \xNN).
 */
void e6_log_open(const char *ident, enum e6_log_target target, enum e6_log_level level);
void e6_log_set_level(enum e6_log_level level);
enum e6_log_level e6_log_get_level(void);
void e6_log_close(void);

/* "err", "warning", "notice", "info", "debug" */
bool e6_log_level_parse(const char *s, enum e6_log_level *out);
const char *e6_log_level_name(enum e6_log_level level);

void e6_log(enum e6_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void e6_vlog(enum e6_log_level level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

#define e6_err(...)    e6_log(E6_LOG_ERR, __VA_ARGS__)
#define e6_warn(...)   e6_log(E6_LOG_WARNING, __VA_ARGS__)
#define e6_notice(...) e6_log(E6_LOG_NOTICE, __VA_ARGS__)
#define e6_info(...)   e6_log(E6_LOG_INFO, __VA_ARGS__)
#define e6_debug(...)  e6_log(E6_LOG_DEBUG, __VA_ARGS__)

/*
 * Token bucket for log lines caused by packets: at most `burst` lines, then
 * one per `interval_ms`. Lines dropped are counted and reported ("N similar
 * messages suppressed") by the next line that passes.
 */
struct e6_ratelimit {
    uint32_t interval_ms;
    uint32_t burst;
    uint32_t tokens;
    uint32_t suppressed;
    uint64_t last_ms;
    bool primed;
};
#define E6_RATELIMIT_INIT(interval, burst_)                                                        \
    {                                                                                              \
        .interval_ms = (interval), .burst = (burst_)                                               \
    }

/*
 * Returns true when a line may be logged now (now_ms: monotonic). A false
 * return counts the line in rl->suppressed, which the caller reports and
 * clears (e6_log_rl does). interval_ms 0 disables limiting; burst 0 acts
 * as 1. Not thread-safe: one limiter per thread (or per call site on the
 * control plane).
 */
bool e6_ratelimit_ok(struct e6_ratelimit *rl, uint64_t now_ms);
/*
 * Log through a rate limiter; the clock is read inside. A line below the
 * current level spends no token. The first line let through after drops
 * ends with " (N similar messages suppressed)".
 */
void e6_log_rl(struct e6_ratelimit *rl, enum e6_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
