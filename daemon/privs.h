/*
 * daemon/privs: running edge6d with the least privilege it needs.
 * Started as root it becomes the configured user and keeps only
 * CAP_NET_RAW (raw ICMPv6 and packet sockets) and CAP_NET_ADMIN (netlink
 * changes, TUN, proxy neighbours); started as another user (systemd User=
 * with AmbientCapabilities) it only reduces its capabilities to those two.
 */
#ifndef E6_DAEMON_PRIVS_H
#define E6_DAEMON_PRIVS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Resolve user to its uid and primary gid. 0 or -ENOENT/-errno with err. */
int d6_privs_lookup(const char *user, uid_t *uid, gid_t *gid, char *err, size_t errlen);

/*
 * Root: switch to uid/gid (supplementary groups: gid only) keeping
 * CAP_NET_RAW and CAP_NET_ADMIN, empty the bounding set of everything else,
 * set no_new_privs. Non-root: uid/gid are ignored and the capability sets
 * are reduced to those two. 0 or -errno with err.
 */
int d6_privs_drop(uid_t uid, gid_t gid, char *err, size_t errlen);

/*
 * Names of the capabilities in the effective set, comma-separated in
 * capability order ("cap_net_admin,cap_net_raw"); "" when there are none.
 */
void d6_privs_effective(char *buf, size_t len);

#endif
