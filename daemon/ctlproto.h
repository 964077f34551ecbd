/*
 * daemon/ctlproto: the control-socket protocol shared by edge6d and
 * edge6ctl. A client sends one request line ("status", "counters json",
 * "reload", "help"); the server answers "OK\n" or "ERR <reason>\n", then the
 * body, then closes the connection.
 */
#ifndef E6_DAEMON_CTLPROTO_H
#define E6_DAEMON_CTLPROTO_H

/* longest request line, newline included */
#define CTL_REQUEST_MAX 256
/* clients served at once; more are answered "ERR busy" */
#define CTL_CLIENTS_MAX 16
/* a client has this long to send its request and read the answer */
#define CTL_CLIENT_TIMEOUT_MS 2000
/* longest answer the server builds (a status of 9000 RA interfaces is ~5 MB) */
#define CTL_RESPONSE_MAX (16u * 1024 * 1024)

#endif
