/*
 * daemon/cli: command-line helpers shared by edge6d and edge6ctl.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "daemon/cli.h"

void d6_cli_usage_error(const char *prog, int status, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry '%s --help' for more information.\n", prog);
    exit(status);
}

void d6_cli_report(void *arg, const char *msg)
{
    (void)arg;
    fprintf(stderr, "%s\n", msg);
}
