/*
 * daemon/cli: what edge6d and edge6ctl share on their command lines: the
 * usage error and the printing of configuration errors.
 */
#ifndef E6_DAEMON_CLI_H
#define E6_DAEMON_CLI_H

/* "PROG: message" and a hint at --help on stderr, then exit(status). */
void d6_cli_usage_error(const char *prog, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));

/* A conf_report_fn: each configuration error on its own line on stderr. */
void d6_cli_report(void *arg, const char *msg);

#endif
