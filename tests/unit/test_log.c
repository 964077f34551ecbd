/* tests for common/log: formats (terminal/file and journal), filtering, escaping, truncation,
 * whole-line writes from threads, and the rate limiter */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/log.h"

static int saved_stderr = -1;
static int cap_fd = -1;
static FILE *real_stderr, *cmocka_stderr;
static char captured[1 << 20];

/*
 * Point fd 2 at a fresh memory file. cmocka reports failures on the stderr
 * FILE, so that one is pointed at the real terminal meanwhile.
 */
static int capture_setup(void **state)
{
    saved_stderr = dup(STDERR_FILENO);
    cap_fd = memfd_create("log", MFD_CLOEXEC);
    if (saved_stderr < 0 || cap_fd < 0)
        return -1;
    fflush(stderr);
    cmocka_stderr = fdopen(dup(saved_stderr), "w");
    if (!cmocka_stderr || dup2(cap_fd, STDERR_FILENO) < 0)
        return -1;
    setvbuf(cmocka_stderr, NULL, _IONBF, 0);
    real_stderr = stderr;
    stderr = cmocka_stderr;
    unsetenv("JOURNAL_STREAM");
    e6_log_open("edge6d-test", E6_LOG_STDERR, E6_LOG_DEBUG);
    return 0;
}

static int capture_teardown(void **state)
{
    e6_log_close();
    stderr = real_stderr;
    fclose(cmocka_stderr);
    dup2(saved_stderr, STDERR_FILENO);
    close(saved_stderr);
    close(cap_fd);
    unsetenv("JOURNAL_STREAM");
    return 0;
}

static const char *capture_read(void)
{
    off_t end = lseek(cap_fd, 0, SEEK_END);
    ssize_t n = pread(cap_fd, captured, sizeof(captured) - 1, 0);

    assert_true(n >= 0);
    assert_int_equal(n, end);
    captured[n] = '\0';
    return captured;
}

static void capture_clear(void)
{
    assert_int_equal(ftruncate(cap_fd, 0), 0);
    lseek(cap_fd, 0, SEEK_SET);
}

static void assert_matches(const char *s, const char *re)
{
    regex_t r;

    assert_int_equal(regcomp(&r, re, REG_EXTENDED | REG_NOSUB), 0);
    int rc = regexec(&r, s, 0, NULL, 0);
    regfree(&r);
    if (rc != 0)
        fail_msg("'%s' does not match /%s/", s, re);
}

/* The message part of the single captured plain-format line. */
static const char *plain_message(void)
{
    const char *s = capture_read();
    const char *p = strstr(s, ": ");

    assert_non_null(p);
    return p + 2;
}

static void test_level_names(void **state)
{
    static const char *names[] = {"err", "warning", "notice", "info", "debug"};
    enum e6_log_level l;

    for (int i = 0; i < 5; i++) {
        assert_true(e6_log_level_parse(names[i], &l));
        assert_int_equal(l, E6_LOG_ERR + i);
        assert_string_equal(e6_log_level_name(l), names[i]);
    }
    l = E6_LOG_INFO;
    assert_false(e6_log_level_parse("warn", &l));
    assert_false(e6_log_level_parse("ERR", &l));
    assert_false(e6_log_level_parse("", &l));
    assert_false(e6_log_level_parse("debug2", &l));
    assert_false(e6_log_level_parse(NULL, &l));
    assert_int_equal(l, E6_LOG_INFO);
    assert_string_equal(e6_log_level_name((enum e6_log_level)0), "unknown");
    assert_string_equal(e6_log_level_name((enum e6_log_level)8), "unknown");
}

static void test_plain_format(void **state)
{
    e6_warn("hello %d", 42);
    assert_matches(capture_read(), "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}"
                                   "\\.[0-9]{3}[+-][0-9]{2}:[0-9]{2} warning: hello 42\n$");
    capture_clear();
    e6_err("e");
    e6_notice("n");
    e6_info("i");
    e6_debug("d");
    assert_matches(capture_read(), "^[^\n]* err: e\n[^\n]* notice: n\n[^\n]* info: i\n"
                                   "[^\n]* debug: d\n$");
}

static void test_journal_format(void **state)
{
    struct stat st;
    char env[64];

    assert_int_equal(fstat(STDERR_FILENO, &st), 0);
    snprintf(env, sizeof(env), "%llu:%llu", (unsigned long long)st.st_dev,
             (unsigned long long)st.st_ino);
    setenv("JOURNAL_STREAM", env, 1);
    e6_log_open("edge6d", E6_LOG_STDERR, E6_LOG_DEBUG);
    e6_warn("hello %s", "journal");
    e6_err("bad");
    e6_debug("dbg");
    assert_string_equal(capture_read(), "<4>hello journal\n<3>bad\n<7>dbg\n");
}

static void test_journal_mismatch_is_plain(void **state)
{
    struct stat st;
    char env[64];
    const char *bad[] = {"", "abc", "1:", ":1", "1:2x", "1;2", "99999999999999999999999:1"};

    assert_int_equal(fstat(STDERR_FILENO, &st), 0);
    /* right device, wrong inode: stderr was redirected away from the journal */
    snprintf(env, sizeof(env), "%llu:%llu", (unsigned long long)st.st_dev,
             (unsigned long long)st.st_ino + 1);
    setenv("JOURNAL_STREAM", env, 1);
    e6_log_open("edge6d", E6_LOG_STDERR, E6_LOG_DEBUG);
    e6_warn("x");
    assert_matches(capture_read(), "^[0-9]{4}-[^\n]* warning: x\n$");
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        capture_clear();
        setenv("JOURNAL_STREAM", bad[i], 1);
        e6_log_open("edge6d", E6_LOG_STDERR, E6_LOG_DEBUG);
        e6_warn("x");
        assert_matches(capture_read(), "^[0-9]{4}-[^\n]* warning: x\n$");
    }
}

static void test_level_filter(void **state)
{
    e6_log_set_level(E6_LOG_NOTICE);
    assert_int_equal(e6_log_get_level(), E6_LOG_NOTICE);
    e6_debug("hidden1");
    e6_info("hidden2");
    e6_notice("yes1");
    e6_warn("yes2");
    e6_err("yes3");
    const char *s = capture_read();
    assert_null(strstr(s, "hidden"));
    assert_non_null(strstr(s, "yes1"));
    assert_non_null(strstr(s, "yes2"));
    assert_non_null(strstr(s, "yes3"));
    /* out-of-range levels are clamped, not trusted */
    e6_log_set_level((enum e6_log_level)42);
    assert_int_equal(e6_log_get_level(), E6_LOG_DEBUG);
    e6_log_set_level((enum e6_log_level)0);
    assert_int_equal(e6_log_get_level(), E6_LOG_ERR);
    e6_log_set_level(E6_LOG_DEBUG);
}

static void test_escaping(void **state)
{
    e6_info("a\nb\x1b[31mc\td\re\x7f|\x01|");
    assert_string_equal(plain_message(), "a\\nb\\x1b[31mc\\td\\re\\x7f|\\x01|\n");
    capture_clear();
    /* bad UTF-8 and C1 controls (CSI 0x9b) escaped byte by byte; good UTF-8 kept */
    e6_info("caf\xc3\xa9 \xff \xc2\x9b \xe2\x82 \xf0\x9f\x98\x80");
    assert_string_equal(plain_message(),
                        "caf\xc3\xa9 \\xff \\xc2\\x9b \\xe2\\x82 \xf0\x9f\x98\x80\n");
    capture_clear();
    /* %s arguments (config text, packet data) are escaped too */
    e6_info("name=%s", "evil\nFAKE LINE");
    assert_string_equal(plain_message(), "name=evil\\nFAKE LINE\n");
}

static void test_truncation(void **state)
{
    char big[5000];

    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    e6_info("%s", big);
    const char *m = plain_message();
    size_t len = strlen(m);
    assert_int_equal(len, 1024 + 1);
    assert_string_equal(m + len - 4, "...\n");
    assert_int_equal(strspn(m, "a"), 1021);

    /* fits: kept whole */
    capture_clear();
    big[1000] = '\0';
    e6_info("%s", big);
    m = plain_message();
    assert_int_equal(strlen(m), 1001);
    assert_null(strstr(m, "..."));

    /* an escape unit is never cut in half */
    capture_clear();
    memset(big, 'a', 1019);
    big[1019] = '\x01';
    big[1020] = '\0';
    e6_info("%s", big);
    m = plain_message();
    assert_int_equal(strspn(m, "a"), 1019);
    assert_string_equal(m + 1019, "...\n");

    /* expansion by escaping also truncates */
    capture_clear();
    memset(big, '\x01', 600);
    big[600] = '\0';
    e6_info("%s", big);
    m = plain_message();
    assert_int_equal(strlen(m), 4 * 255 + 3 + 1);
    assert_string_equal(m + strlen(m) - 4, "...\n");
}

static void test_errno_preserved(void **state)
{
    errno = EADDRINUSE;
    e6_info("sock: %m");
    assert_int_equal(errno, EADDRINUSE);
    assert_string_equal(plain_message(), "sock: Address already in use\n");
}

struct thr_arg {
    int id;
};

static void *log_thread(void *p)
{
    struct thr_arg *a = p;

    for (int i = 0; i < 1000; i++)
        e6_info("thread %d line %d %s", a->id, i, "padding-padding-padding-padding-padding");
    return NULL;
}

struct drain {
    int fd;
    size_t len;
};

static void *drain_main(void *p)
{
    struct drain *d = p;
    ssize_t r;

    while ((r = read(d->fd, captured + d->len, sizeof(captured) - 1 - d->len)) > 0)
        d->len += (size_t)r;
    captured[d->len] = '\0';
    return NULL;
}

/*
 * Four threads log through a pipe (what journald and shells give us): each
 * line is one write() below PIPE_BUF, so none is torn or mixed.
 */
static void test_threads_whole_lines(void **state)
{
    pthread_t th[4], reader;
    struct thr_arg args[4];
    int seen[4] = {0};
    int p[2];
    struct drain d = {0};

    assert_int_equal(pipe(p), 0);
    d.fd = p[0];
    assert_int_equal(pthread_create(&reader, NULL, drain_main, &d), 0);
    assert_true(dup2(p[1], STDERR_FILENO) >= 0);
    for (int i = 0; i < 4; i++) {
        args[i].id = i;
        assert_int_equal(pthread_create(&th[i], NULL, log_thread, &args[i]), 0);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    assert_true(dup2(cap_fd, STDERR_FILENO) >= 0);
    close(p[1]);
    pthread_join(reader, NULL);
    close(p[0]);

    char *s = captured;
    int lines = 0;
    for (char *save = NULL, *l = strtok_r(s, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        int id, n;
        const char *m = strstr(l, " info: ");
        if (!m)
            fail_msg("mangled line %d: '%s'", lines, l);
        assert_int_equal(sscanf(m, " info: thread %d line %d", &id, &n), 2);
        assert_true(id >= 0 && id < 4);
        assert_int_equal(n, seen[id]); /* in order per thread, none lost or mixed */
        seen[id]++;
        assert_non_null(strstr(l, "padding-padding-padding-padding-padding"));
        lines++;
    }
    assert_int_equal(lines, 4000);
}

static void test_syslog_target(void **state)
{
    e6_log_open("edge6d-test", E6_LOG_SYSLOG, E6_LOG_DEBUG);
    e6_info("to syslog %d", 1);
    e6_log_close();
    assert_string_equal(capture_read(), "");
    /* after close we are back on stderr */
    e6_log_open("edge6d-test", E6_LOG_STDERR, E6_LOG_DEBUG);
    e6_info("back");
    assert_non_null(strstr(capture_read(), "info: back"));
}

static void test_ratelimit_bucket(void **state)
{
    struct e6_ratelimit rl = E6_RATELIMIT_INIT(1000, 3);

    assert_true(e6_ratelimit_ok(&rl, 5000));
    assert_true(e6_ratelimit_ok(&rl, 5000));
    assert_true(e6_ratelimit_ok(&rl, 5001));
    assert_false(e6_ratelimit_ok(&rl, 5002));
    assert_false(e6_ratelimit_ok(&rl, 5999));
    assert_int_equal(rl.suppressed, 2);
    /* one token per interval */
    assert_true(e6_ratelimit_ok(&rl, 6000));
    assert_false(e6_ratelimit_ok(&rl, 6500));
    assert_true(e6_ratelimit_ok(&rl, 7000));
    assert_false(e6_ratelimit_ok(&rl, 7000));
    /* two intervals -> two tokens */
    assert_true(e6_ratelimit_ok(&rl, 9000));
    assert_true(e6_ratelimit_ok(&rl, 9000));
    assert_false(e6_ratelimit_ok(&rl, 9000));
    /* a long quiet period refills to burst, not beyond */
    for (int i = 0; i < 3; i++)
        assert_true(e6_ratelimit_ok(&rl, 100000));
    assert_false(e6_ratelimit_ok(&rl, 100000));
    assert_int_equal(rl.suppressed, 6);
}

static void test_ratelimit_edges(void **state)
{
    struct e6_ratelimit off = E6_RATELIMIT_INIT(0, 1);
    for (int i = 0; i < 100; i++)
        assert_true(e6_ratelimit_ok(&off, 0));

    struct e6_ratelimit zero_burst = E6_RATELIMIT_INIT(100, 0);
    assert_true(e6_ratelimit_ok(&zero_burst, 0)); /* burst 0 behaves as 1 */
    assert_false(e6_ratelimit_ok(&zero_burst, 50));
    assert_true(e6_ratelimit_ok(&zero_burst, 100));

    /* a clock that goes back does not mint tokens */
    struct e6_ratelimit back = E6_RATELIMIT_INIT(100, 1);
    assert_true(e6_ratelimit_ok(&back, 1000));
    assert_false(e6_ratelimit_ok(&back, 10));
    assert_false(e6_ratelimit_ok(&back, 109));
    assert_true(e6_ratelimit_ok(&back, 110));

    /* the owner lowering burst does not leave extra tokens */
    struct e6_ratelimit lower = E6_RATELIMIT_INIT(100, 10);
    assert_true(e6_ratelimit_ok(&lower, 0));
    lower.burst = 1;
    assert_true(e6_ratelimit_ok(&lower, 0));
    assert_false(e6_ratelimit_ok(&lower, 0));
}

static void test_log_rl_reports_suppressed(void **state)
{
    struct e6_ratelimit rl = E6_RATELIMIT_INIT(50, 2);
    struct timespec ts = {0, 70 * 1000000L};

    for (int i = 0; i < 10; i++)
        e6_log_rl(&rl, E6_LOG_WARNING, "flood %d", i);
    const char *s = capture_read();
    assert_non_null(strstr(s, "flood 0\n"));
    assert_non_null(strstr(s, "flood 1\n"));
    assert_null(strstr(s, "flood 2"));
    assert_int_equal(rl.suppressed, 8);

    capture_clear();
    nanosleep(&ts, NULL);
    e6_log_rl(&rl, E6_LOG_WARNING, "again");
    assert_string_equal(plain_message(), "again (8 similar messages suppressed)\n");
    assert_int_equal(rl.suppressed, 0);

    capture_clear();
    e6_log_rl(&rl, E6_LOG_WARNING, "dropped");
    nanosleep(&ts, NULL);
    e6_log_rl(&rl, E6_LOG_WARNING, "once more");
    assert_string_equal(plain_message(), "once more (1 similar message suppressed)\n");
}

static void test_log_rl_below_level_spends_nothing(void **state)
{
    struct e6_ratelimit rl = E6_RATELIMIT_INIT(60000, 1);

    e6_log_set_level(E6_LOG_INFO);
    for (int i = 0; i < 5; i++)
        e6_log_rl(&rl, E6_LOG_DEBUG, "hidden");
    assert_int_equal(rl.suppressed, 0);
    e6_log_rl(&rl, E6_LOG_WARNING, "shown");
    assert_string_equal(plain_message(), "shown\n");
    e6_log_set_level(E6_LOG_DEBUG);
}

#define T(f) cmocka_unit_test_setup_teardown(f, capture_setup, capture_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_level_names),
        T(test_plain_format),
        T(test_journal_format),
        T(test_journal_mismatch_is_plain),
        T(test_level_filter),
        T(test_escaping),
        T(test_truncation),
        T(test_errno_preserved),
        T(test_threads_whole_lines),
        T(test_syslog_target),
        cmocka_unit_test(test_ratelimit_bucket),
        cmocka_unit_test(test_ratelimit_edges),
        T(test_log_rl_reports_suppressed),
        T(test_log_rl_below_level_spends_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
