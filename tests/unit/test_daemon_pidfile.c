/* tests for daemon/pidfile: lock, refusal while locked, reuse of leftovers, unsafe paths */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
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

#include "daemon/pidfile.h"

static char dir[64];
static char path[128];

static int setup(void **state)
{
    snprintf(dir, sizeof(dir), "/tmp/e6-test-pidfile.XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof(path), "%s/edge6d.pid", dir);
    return 0;
}

static int teardown(void **state)
{
    char cmd[160];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void read_file(const char *p, char *buf, size_t len)
{
    FILE *f = fopen(p, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, len - 1, f);
    buf[n] = '\0';
    fclose(f);
}

static void test_write_and_remove(void **state)
{
    struct d6_pidfile pf = D6_PIDFILE_INIT;
    char err[256] = "", buf[32], want[32];

    assert_int_equal(d6_pidfile_open(&pf, path, err, sizeof(err)), 0);
    read_file(path, buf, sizeof(buf));
    snprintf(want, sizeof(want), "%ld\n", (long)getpid());
    assert_string_equal(buf, want);
    d6_pidfile_remove(&pf);
    assert_int_equal(access(path, F_OK), -1);
    assert_int_equal(pf.fd, -1);
    d6_pidfile_remove(&pf); /* twice: harmless */
}

static void test_second_is_refused(void **state)
{
    struct d6_pidfile a = D6_PIDFILE_INIT, b = D6_PIDFILE_INIT;
    char err[256] = "", want[256];

    assert_int_equal(d6_pidfile_open(&a, path, err, sizeof(err)), 0);
    /* flock() conflicts between open file descriptions, even in one process */
    assert_int_equal(d6_pidfile_open(&b, path, err, sizeof(err)), -EEXIST);
    snprintf(want, sizeof(want), "pid file %s is locked by pid %ld", path, (long)getpid());
    assert_non_null(strstr(err, want));
    assert_int_equal(b.fd, -1);
    d6_pidfile_remove(&b); /* never opened: must not unlink a's file */
    assert_int_equal(access(path, F_OK), 0);
    d6_pidfile_remove(&a);
    /* once released it can be taken again */
    assert_int_equal(d6_pidfile_open(&b, path, err, sizeof(err)), 0);
    d6_pidfile_remove(&b);
}

static void test_leftover_reused(void **state)
{
    struct d6_pidfile pf = D6_PIDFILE_INIT;
    char err[256] = "", buf[64], want[32];
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("99999999 and a lot of old junk after it\n", f);
    fclose(f);

    assert_int_equal(d6_pidfile_open(&pf, path, err, sizeof(err)), 0);
    read_file(path, buf, sizeof(buf));
    snprintf(want, sizeof(want), "%ld\n", (long)getpid());
    assert_string_equal(buf, want); /* truncated, not overwritten in place */
    d6_pidfile_remove(&pf);
}

static void test_symlink_not_followed(void **state)
{
    struct d6_pidfile pf = D6_PIDFILE_INIT;
    char err[256] = "", target[160];
    snprintf(target, sizeof(target), "%s/target", dir);
    assert_int_equal(symlink(target, path), 0);

    assert_true(d6_pidfile_open(&pf, path, err, sizeof(err)) < 0);
    assert_non_null(strstr(err, path));
    assert_int_equal(access(target, F_OK), -1); /* nothing created through the link */
}

static void test_not_regular(void **state)
{
    struct d6_pidfile pf = D6_PIDFILE_INIT;
    char err[256] = "";
    assert_int_equal(mkdir(path, 0755), 0);
    assert_true(d6_pidfile_open(&pf, path, err, sizeof(err)) < 0);
    assert_non_null(strstr(err, path));
    assert_int_equal(pf.fd, -1);
}

static void test_fifo_refused(void **state)
{
    struct d6_pidfile pf = D6_PIDFILE_INIT;
    char err[256] = "";
    /* a FIFO opens (O_RDWR does not block) and locks, but is no pid file */
    assert_int_equal(mkfifo(path, 0644), 0);
    assert_int_equal(d6_pidfile_open(&pf, path, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "is not a regular file"));
    assert_int_equal(pf.fd, -1);
}

static void test_missing_directory(void **state)
{
    struct d6_pidfile pf = D6_PIDFILE_INIT;
    char err[256] = "", p[160];
    snprintf(p, sizeof(p), "%s/no/such/dir/edge6d.pid", dir);
    assert_int_equal(d6_pidfile_open(&pf, p, err, sizeof(err)), -ENOENT);
    assert_non_null(strstr(err, "cannot open pid file"));
    assert_non_null(strstr(err, p));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_write_and_remove, setup, teardown),
        cmocka_unit_test_setup_teardown(test_second_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_leftover_reused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_symlink_not_followed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_regular, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fifo_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_directory, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
