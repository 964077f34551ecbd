/*
 * daemon/control: the control socket edge6ctl talks to. A unix stream
 * socket served on the control-plane loop: one request line per
 * connection, one answer, then close (protocol in daemon/ctlproto.h). At
 * most CTL_CLIENTS_MAX clients at once, each with a deadline, non-blocking
 * in both directions, so a stuck or hostile client cannot stall the loop.
 */
#ifndef E6_DAEMON_CONTROL_H
#define E6_DAEMON_CONTROL_H

#include <stddef.h>
#include <sys/types.h>

#include "daemon/daemon.h"

struct ctl_server;

/*
 * Listen on path (mode 0660; group gid unless gid is (gid_t)-1). A socket
 * file already there is removed only when nothing answers on it. 0 or
 * -errno with err (-EADDRINUSE: another process is listening).
 */
int ctl_open(struct ctl_server **out, struct d6_daemon *d, const char *path, gid_t gid, char *err,
             size_t errlen);
/* Drop every client, close and unlink the socket (if it is still ours). */
void ctl_close(struct ctl_server *s);

#endif
