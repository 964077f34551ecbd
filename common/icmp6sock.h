/*
 * common/icmp6sock: the raw ICMPv6 socket Neighbor Discovery runs on
 * (RS/RA for radv, downstream NS/NA for the proxy). It owns the socket
 * options every such socket needs (a type filter, the destination and
 * interface of each arrival, its hop limit for the RFC 4861 255 check,
 * hop limit 255 on what we send, no loopback of our own multicast) and the
 * ancillary-data plumbing of receiving and of sending from a chosen source
 * out of a chosen interface.
 */
#ifndef E6_COMMON_ICMP6SOCK_H
#define E6_COMMON_ICMP6SOCK_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "common/nd.h"

/*
 * A non-blocking raw ICMPv6 socket passing only the n ICMPv6 types given.
 * Returns the fd, or -errno with err set ("cannot open the ICMPv6 socket:
 * ... (needs CAP_NET_RAW)", or the option that failed).
 */
int e6_icmp6_open(const uint8_t *types, size_t n, char *err, size_t errlen);

enum e6_icmp6_rx {
    E6_ICMP6_RX_OK,
    E6_ICMP6_RX_AGAIN,     /* nothing (more) to read */
    E6_ICMP6_RX_ERROR,     /* recvmsg failed; errno says why */
    E6_ICMP6_RX_TRUNCATED, /* the message was larger than the buffer */
    E6_ICMP6_RX_NO_CMSG,   /* destination, interface or hop limit missing */
};

/*
 * Read one message into buf. On E6_ICMP6_RX_OK, in holds its source,
 * destination, hop limit and bytes (in->icmp = buf), and *ifindex the
 * interface it arrived on: ready for e6_nd_parse.
 */
enum e6_icmp6_rx e6_icmp6_recv(int fd, uint8_t *buf, size_t cap, struct e6_nd_in *in, int *ifindex);

/*
 * Send an ICMPv6 message (the kernel fills in the checksum) from src out
 * of ifindex to dst. 0, or -errno (-EMSGSIZE for a short write).
 */
int e6_icmp6_send(int fd, int ifindex, const struct in6_addr *src, const struct in6_addr *dst,
                  const void *icmp, size_t len);

#endif
