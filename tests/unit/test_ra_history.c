/* tests for radv/history: line parsing (every rejection), the file's
 * round trip, when the table becomes dirty, expiry, the bound, and the
 * atomic write */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf/conf.h"
#include "radv/history.h"

#define NOW ((time_t)1700000000)

static char reports[4096];
static unsigned n_reports;

static void report(void *arg, const char *msg)
{
    size_t n = strlen(reports);
    snprintf(reports + n, sizeof(reports) - n, "%s\n", msg);
    n_reports++;
}

static void reset_reports(void)
{
    reports[0] = '\0';
    n_reports = 0;
}

static struct e6_prefix pfx(const char *s)
{
    struct e6_prefix p;
    assert_true(e6_prefix_parse(s, true, &p, NULL, 0));
    return p;
}

static void test_parse_line_good(void **state)
{
    struct ra_hist_entry e;
    char why[160];
    assert_true(
        ra_history_parse_line("lan0 2001:db8:1:2::/64 LA 1700000100", &e, why, sizeof(why)));
    assert_string_equal(e.ifname, "lan0");
    assert_int_equal(e.prefix.len, 64);
    assert_true(e.on_link);
    assert_true(e.autonomous);
    assert_int_equal(e.until, 1700000100);

    assert_true(
        ra_history_parse_line("  eth-1.2\t2001:db8::/48  -A   infinity ", &e, why, sizeof(why)));
    assert_string_equal(e.ifname, "eth-1.2");
    assert_false(e.on_link);
    assert_true(e.autonomous);
    assert_true(e.until == RA_HIST_INFINITY);

    assert_true(ra_history_parse_line("x 2001:db8::/64 L- 5", &e, why, sizeof(why)));
    assert_true(e.on_link && !e.autonomous);
    assert_true(ra_history_parse_line("x 2001:db8::/64 -- 5", &e, why, sizeof(why)));
    assert_true(!e.on_link && !e.autonomous);
}

static void test_parse_line_skipped(void **state)
{
    struct ra_hist_entry e;
    char why[160];
    assert_false(ra_history_parse_line("", &e, why, sizeof(why)));
    assert_string_equal(why, "");
    assert_false(ra_history_parse_line("   \t ", &e, why, sizeof(why)));
    assert_string_equal(why, "");
    assert_false(ra_history_parse_line("# comment 2001:db8::/64", &e, why, sizeof(why)));
    assert_string_equal(why, "");
}

static void expect_bad(const char *line, const char *needle)
{
    struct ra_hist_entry e;
    char why[160];
    assert_false(ra_history_parse_line(line, &e, why, sizeof(why)));
    if (!strstr(why, needle))
        fail_msg("'%s': reason '%s' lacks '%s'", line, why, needle);
}

static void test_parse_line_bad(void **state)
{
    expect_bad("lan0", "expected 4 fields");
    expect_bad("lan0 2001:db8::/64", "found 2");
    expect_bad("lan0 2001:db8::/64 LA", "found 3");
    expect_bad("lan0 2001:db8::/64 LA 5 extra", "found more");
    expect_bad("averyveryverylongname 2001:db8::/64 LA 5", "interface");
    expect_bad("a/b 2001:db8::/64 LA 5", "interface");
    expect_bad("a:b 2001:db8::/64 LA 5", "interface");
    expect_bad("lan0 2001:db8::1/64 LA 5", "bad prefix"); /* host bits set */
    expect_bad("lan0 2001:db8::/129 LA 5", "bad prefix");
    expect_bad("lan0 2001:db8:: LA 5", "bad prefix");
    expect_bad("lan0 192.0.2.0/24 LA 5", "bad prefix");
    expect_bad("lan0 "
               "2001:0db8:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000/64 LA 5",
               "prefix");
    expect_bad("lan0 ::/0 LA 5", "cannot be advertised");
    expect_bad("lan0 ff02::/16 LA 5", "cannot be advertised");
    expect_bad("lan0 fe80::/64 LA 5", "cannot be advertised");
    expect_bad("lan0 2001:db8::/64 XA 5", "bad flags");
    expect_bad("lan0 2001:db8::/64 LAX 5", "bad flags");
    expect_bad("lan0 2001:db8::/64 L 5", "bad flags");
    expect_bad("lan0 2001:db8::/64 LA -5", "bad time");
    expect_bad("lan0 2001:db8::/64 LA 12x", "bad time");
    expect_bad("lan0 2001:db8::/64 LA 9999999999999999999999", "bad time");
    expect_bad("lan0 2001:db8::/64 LA forever", "bad time");
}

static void test_parse_text(void **state)
{
    struct ra_history h;
    ra_history_init(&h);
    reset_reports();
    static const char text[] = "# edge6d radv history v1\n"
                               "lan0 2001:db8:1::/64 LA 1700000500\n"
                               "garbage here\n"
                               "lan0 2001:db8:2::/64 LA 1699999999\n" /* expired: dropped quietly */
                               "lan1 2001:db8:3::/64 L- infinity\r\n"
                               "lan0 2001:db8:1::/64 LA 1700000900\n" /* duplicate: longer wins */
                               "\n"
                               "lan0 2001:db8:4::/64 LA"; /* no final newline */
    size_t n = ra_history_parse(&h, text, sizeof(text) - 1, "F", NOW, report, NULL);
    assert_int_equal(n, 2);
    assert_int_equal(h.n, 2);
    assert_int_equal(n_reports, 2);
    assert_non_null(strstr(reports, "F:3: expected 4 fields"));
    assert_non_null(strstr(reports, "F:8: expected 4 fields"));
    assert_non_null(strstr(reports, "line skipped"));
    struct e6_prefix p1 = pfx("2001:db8:1::/64"), p3 = pfx("2001:db8:3::/64");
    const struct ra_hist_entry *e = ra_history_find(&h, "lan0", &p1);
    assert_non_null(e);
    assert_int_equal(e->until, 1700000900);
    e = ra_history_find(&h, "lan1", &p3);
    assert_non_null(e);
    assert_true(e->until == RA_HIST_INFINITY);
    assert_null(ra_history_find(&h, "lan1", &p1));
    assert_false(h.dirty); /* loading is not a change */
    ra_history_free(&h);
}

static void test_parse_binary(void **state)
{
    struct ra_history h;
    ra_history_init(&h);
    reset_reports();
    char text[600];
    memset(text, 'x', sizeof(text));
    text[300] = '\n';
    static const char nul[] = "lan0 2001:db8::/64\0 LA 1700000500\n";
    size_t n = ra_history_parse(&h, text, sizeof(text), "F", NOW, report, NULL);
    assert_int_equal(n, 0);
    assert_non_null(strstr(reports, "F:1: line too long"));
    assert_non_null(strstr(reports, "F:2: line too long"));
    reset_reports();
    n = ra_history_parse(&h, nul, sizeof(nul) - 1, "F", NOW, report, NULL);
    assert_int_equal(n, 0);
    assert_non_null(strstr(reports, "F:1: NUL byte"));
    /* no reporter: still skipped, no crash */
    n = ra_history_parse(&h, nul, sizeof(nul) - 1, "F", NOW, NULL, NULL);
    assert_int_equal(n, 0);
    ra_history_free(&h);
}

static void test_note_dirty_rules(void **state)
{
    struct ra_history h;
    ra_history_init(&h);
    struct e6_prefix p = pfx("2001:db8:1::/64");

    assert_true(ra_history_note(&h, "lan0", &p, true, true, 5400, NOW));
    assert_true(h.dirty);
    assert_int_equal(ra_history_find(&h, "lan0", &p)->until, NOW + 5400);
    h.dirty = false;

    /* the next RA 600 s later: hold time grows by 600 < 5400/4: not worth a write */
    assert_true(ra_history_note(&h, "lan0", &p, true, true, 5400, NOW + 600));
    assert_false(h.dirty);
    assert_int_equal(ra_history_find(&h, "lan0", &p)->until, NOW + 5400);

    /* 1351 s later it is */
    assert_true(ra_history_note(&h, "lan0", &p, true, true, 5400, NOW + 1351));
    assert_true(h.dirty);
    assert_int_equal(ra_history_find(&h, "lan0", &p)->until, NOW + 1351 + 5400);
    h.dirty = false;

    /* a shorter lifetime never shortens what hosts may already hold */
    assert_true(ra_history_note(&h, "lan0", &p, true, true, 60, NOW + 1400));
    assert_false(h.dirty);

    /* small lifetimes: the minimum slack applies */
    struct e6_prefix q = pfx("2001:db8:2::/64");
    assert_true(ra_history_note(&h, "lan0", &q, true, true, 100, NOW));
    h.dirty = false;
    assert_true(ra_history_note(&h, "lan0", &q, true, true, 100, NOW + RA_HIST_SLACK_MIN));
    assert_false(h.dirty);
    assert_true(ra_history_note(&h, "lan0", &q, true, true, 100, NOW + RA_HIST_SLACK_MIN + 1));
    assert_true(h.dirty);
    h.dirty = false;

    /* flags changed */
    assert_true(ra_history_note(&h, "lan0", &p, true, false, 5400, NOW + 1400));
    assert_true(h.dirty);
    assert_false(ra_history_find(&h, "lan0", &p)->autonomous);
    h.dirty = false;

    /* infinity: once */
    assert_true(ra_history_note(&h, "lan0", &p, true, false, CONF_LIFETIME_INFINITY, NOW + 1500));
    assert_true(h.dirty);
    h.dirty = false;
    assert_true(ra_history_note(&h, "lan0", &p, true, false, CONF_LIFETIME_INFINITY, NOW + 9000));
    assert_false(h.dirty);
    assert_true(ra_history_note(&h, "lan0", &p, true, false, 5400, NOW + 9000));
    assert_false(h.dirty);

    /* same prefix on another interface is another entry */
    assert_true(ra_history_note(&h, "lan1", &p, true, true, 5400, NOW));
    assert_true(h.dirty);
    assert_int_equal(h.n, 3);

    /* a name the kernel could not have is ignored */
    h.dirty = false;
    assert_true(ra_history_note(&h, "averyveryverylongname", &p, true, true, 5400, NOW));
    assert_false(h.dirty);
    assert_int_equal(h.n, 3);
    ra_history_free(&h);
}

static void test_expire(void **state)
{
    struct ra_history h;
    ra_history_init(&h);
    struct e6_prefix p = pfx("2001:db8:1::/64"), q = pfx("2001:db8:2::/64");
    ra_history_note(&h, "lan0", &p, true, true, 100, NOW);
    ra_history_note(&h, "lan0", &q, true, true, CONF_LIFETIME_INFINITY, NOW);
    h.dirty = false;
    ra_history_expire(&h, NOW + 99);
    assert_false(h.dirty);
    assert_int_equal(h.n, 2);
    ra_history_expire(&h, NOW + 100);
    assert_true(h.dirty);
    assert_int_equal(h.n, 1);
    assert_non_null(ra_history_find(&h, "lan0", &q));
    ra_history_free(&h);
}

static void test_bound(void **state)
{
    struct ra_history h;
    ra_history_init(&h);
    for (unsigned i = 0; i < RA_HIST_MAX + 10; i++) {
        struct e6_prefix p = pfx("2001:db8::/64");
        p.addr.s6_addr[4] = (uint8_t)(i >> 8);
        p.addr.s6_addr[5] = (uint8_t)i;
        /* the first ones expire first */
        assert_true(ra_history_note(&h, "lan0", &p, true, true, 1000 + i, NOW));
    }
    assert_int_equal(h.n, RA_HIST_MAX);
    struct e6_prefix first = pfx("2001:db8::/64"), last = first;
    last.addr.s6_addr[4] = (uint8_t)((RA_HIST_MAX + 9) >> 8);
    last.addr.s6_addr[5] = (uint8_t)(RA_HIST_MAX + 9);
    assert_null(ra_history_find(&h, "lan0", &first));
    assert_non_null(ra_history_find(&h, "lan0", &last));
    ra_history_free(&h);
}

static void test_format_roundtrip(void **state)
{
    struct ra_history h, g;
    ra_history_init(&h);
    ra_history_init(&g);
    struct e6_prefix p = pfx("2001:db8:1::/64"), q = pfx("2001:db8:2::/56");
    ra_history_note(&h, "lan1", &p, false, true, 5400, NOW);
    ra_history_note(&h, "lan0", &q, true, false, CONF_LIFETIME_INFINITY, NOW);
    ra_history_note(&h, "lan0", &p, true, true, 600, NOW);
    struct e6_strbuf sb = E6_STRBUF_INIT;
    ra_history_format(&h, &sb);
    const char *want = "lan0 2001:db8:1::/64 LA 1700000600\n"
                       "lan0 2001:db8:2::/56 L- infinity\n"
                       "lan1 2001:db8:1::/64 -A 1700005400\n";
    const char *body = strchr(e6_strbuf_str(&sb), '\n');
    assert_non_null(body);
    assert_true(e6_strbuf_str(&sb)[0] == '#');
    assert_string_equal(body + 1, want);
    reset_reports();
    assert_int_equal(ra_history_parse(&g, sb.buf, sb.len, "F", NOW, report, NULL), 3);
    assert_int_equal(n_reports, 0);
    struct e6_strbuf sb2 = E6_STRBUF_INIT;
    ra_history_format(&g, &sb2);
    assert_string_equal(e6_strbuf_str(&sb), e6_strbuf_str(&sb2));
    e6_strbuf_free(&sb);
    e6_strbuf_free(&sb2);
    ra_history_free(&h);
    ra_history_free(&g);
}

static char dir[64];

static int setup_dir(void **state)
{
    snprintf(dir, sizeof(dir), "/tmp/test_ra_history.XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    static char buf[8192];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void test_save_load(void **state)
{
    struct ra_history h, g;
    char err[256], path[256];
    ra_history_init(&h);
    ra_history_init(&g);
    snprintf(path, sizeof(path), "%s/%s", dir, RA_HIST_FILE);

    /* no file yet */
    reset_reports();
    assert_int_equal(ra_history_load(&g, dir, NOW, report, NULL, err, sizeof(err)), 0);

    struct e6_prefix p = pfx("2001:db8:1::/64");
    ra_history_note(&h, "lan0", &p, true, true, 5400, NOW);
    assert_int_equal(ra_history_save(&h, dir, err, sizeof(err)), 0);
    assert_false(h.dirty);
    assert_non_null(strstr(slurp(path), "lan0 2001:db8:1::/64 LA 1700005400\n"));

    /* not dirty: no write (the file we put there stays) */
    FILE *f = fopen(path, "a");
    fputs("bogus line\n", f);
    fclose(f);
    assert_int_equal(ra_history_save(&h, dir, err, sizeof(err)), 0);
    assert_non_null(strstr(slurp(path), "bogus line"));

    /* loading skips the bad line with a report */
    assert_int_equal(ra_history_load(&g, dir, NOW, report, NULL, err, sizeof(err)), 1);
    assert_int_equal(n_reports, 1);
    assert_non_null(strstr(reports, ":3: expected 4 fields"));
    assert_int_equal(ra_history_find(&g, "lan0", &p)->until, NOW + 5400);

    /* a leftover temporary file (even a symlink) is replaced, never followed */
    char tmp[400], victim[400];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    snprintf(victim, sizeof(victim), "%s/victim", dir);
    f = fopen(victim, "w");
    fputs("untouched\n", f);
    fclose(f);
    assert_int_equal(symlink(victim, tmp), 0);
    h.dirty = true;
    assert_int_equal(ra_history_save(&h, dir, err, sizeof(err)), 0);
    assert_string_equal(slurp(victim), "untouched\n");
    assert_null(strstr(slurp(path), "bogus"));
    struct stat st;
    assert_int_equal(lstat(tmp, &st), -1);

    ra_history_free(&h);
    ra_history_free(&g);
}

static void test_write_failures(void **state)
{
    char err[256], path[400];
    struct ra_history h;
    ra_history_init(&h);

    /* directory missing: error, nothing created */
    snprintf(path, sizeof(path), "%s/missing", dir);
    struct e6_prefix p = pfx("2001:db8:1::/64");
    ra_history_note(&h, "lan0", &p, true, true, 5400, NOW);
    int rc = ra_history_save(&h, path, err, sizeof(err));
    assert_int_equal(rc, -ENOENT);
    assert_non_null(strstr(err, "cannot create"));
    assert_true(h.dirty); /* retried later */

    /* the target is a directory: rename fails, old state kept, tmp removed */
    char sub[200];
    snprintf(sub, sizeof(sub), "%s/d", dir);
    assert_int_equal(mkdir(sub, 0755), 0);
    snprintf(path, sizeof(path), "%s/%s", sub, RA_HIST_FILE);
    assert_int_equal(mkdir(path, 0755), 0);
    char probe[500];
    snprintf(probe, sizeof(probe), "%s/x", path);
    FILE *f = fopen(probe, "w");
    fclose(f);
    rc = ra_history_save(&h, sub, err, sizeof(err));
    assert_true(rc < 0);
    assert_non_null(strstr(err, "cannot rename"));
    char tmp[500];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    struct stat st;
    assert_int_equal(lstat(tmp, &st), -1);
    assert_true(h.dirty);

    /* reading: the history file is a directory */
    struct ra_history g;
    ra_history_init(&g);
    rc = ra_history_load(&g, sub, NOW, report, NULL, err, sizeof(err));
    assert_true(rc < 0);

    /* reading: path too long */
    char longdir[5000];
    memset(longdir, 'a', sizeof(longdir) - 1);
    longdir[sizeof(longdir) - 1] = '\0';
    assert_int_equal(ra_history_load(&g, longdir, NOW, report, NULL, err, sizeof(err)),
                     -ENAMETOOLONG);
    assert_int_equal(ra_history_write_file(longdir, "x", "", 0, err, sizeof(err)), -ENAMETOOLONG);
    ra_history_free(&g);
    ra_history_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_line_good),
        cmocka_unit_test(test_parse_line_skipped),
        cmocka_unit_test(test_parse_line_bad),
        cmocka_unit_test(test_parse_text),
        cmocka_unit_test(test_parse_binary),
        cmocka_unit_test(test_note_dirty_rules),
        cmocka_unit_test(test_expire),
        cmocka_unit_test(test_bound),
        cmocka_unit_test(test_format_roundtrip),
        cmocka_unit_test_setup_teardown(test_save_load, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_write_failures, setup_dir, teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
