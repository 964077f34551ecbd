/*
 * common/icmp6sock: raw ICMPv6 socket set-up, receive with ancillary data,
 * send from a chosen source and interface.
 */
#include "config.h"

#include "common/icmp6sock.h"

#include <errno.h>
#include <netinet/icmp6.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int e6_icmp6_open(const uint8_t *types, size_t n, char *err, size_t errlen)
{
    int fd = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_ICMPV6);
    if (fd < 0) {
        int e = errno;
        snprintf(err, errlen, "cannot open the ICMPv6 socket: %s%s", strerror(e),
                 e == EPERM || e == EACCES ? " (needs CAP_NET_RAW)" : "");
        return -e;
    }
    struct icmp6_filter flt;
    ICMP6_FILTER_SETBLOCKALL(&flt);
    for (size_t i = 0; i < n; i++)
        ICMP6_FILTER_SETPASS(types[i], &flt);
    int on = 1, off = 0, hops = 255;
    const char *what = NULL;
    if (setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &flt, sizeof(flt)) < 0)
        what = "ICMP6_FILTER";
    else if (setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof(on)) < 0)
        what = "IPV6_RECVPKTINFO";
    else if (setsockopt(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &on, sizeof(on)) < 0)
        what = "IPV6_RECVHOPLIMIT";
    else if (setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof(hops)) < 0)
        what = "IPV6_MULTICAST_HOPS";
    else if (setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &hops, sizeof(hops)) < 0)
        what = "IPV6_UNICAST_HOPS";
    else if (setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &off, sizeof(off)) < 0)
        what = "IPV6_MULTICAST_LOOP";
    if (what) {
        int e = errno;
        snprintf(err, errlen, "ICMPv6 socket: %s: %s", what, strerror(e));
        close(fd);
        return -e;
    }
    return fd;
}

enum e6_icmp6_rx e6_icmp6_recv(int fd, uint8_t *buf, size_t cap, struct e6_nd_in *in, int *ifindex)
{
    struct sockaddr_in6 from;
    union {
        struct cmsghdr h;
        char b[CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(int)) + 64];
    } cm;
    struct iovec iov = {.iov_base = buf, .iov_len = cap};
    struct msghdr mh = {
        .msg_name = &from,
        .msg_namelen = sizeof(from),
        .msg_iov = &iov,
        .msg_iovlen = 1,
        .msg_control = cm.b,
        .msg_controllen = sizeof(cm.b),
    };
    ssize_t n;
    do {
        n = recvmsg(fd, &mh, MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK ? E6_ICMP6_RX_AGAIN : E6_ICMP6_RX_ERROR;
    if (mh.msg_flags & MSG_TRUNC)
        return E6_ICMP6_RX_TRUNCATED;
    if ((mh.msg_flags & MSG_CTRUNC) || mh.msg_namelen < sizeof(from) ||
        from.sin6_family != AF_INET6)
        return E6_ICMP6_RX_NO_CMSG;

    struct in6_pktinfo pi;
    bool have_pi = false, have_hl = false;
    int hl = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
        if (c->cmsg_level != IPPROTO_IPV6)
            continue;
        if (c->cmsg_type == IPV6_PKTINFO && c->cmsg_len >= CMSG_LEN(sizeof(pi))) {
            memcpy(&pi, CMSG_DATA(c), sizeof(pi));
            have_pi = true;
        } else if (c->cmsg_type == IPV6_HOPLIMIT && c->cmsg_len >= CMSG_LEN(sizeof(int))) {
            memcpy(&hl, CMSG_DATA(c), sizeof(hl));
            have_hl = true;
        }
    }
    if (!have_pi || !have_hl || hl < 0 || hl > 255)
        return E6_ICMP6_RX_NO_CMSG;
    *in = (struct e6_nd_in){
        .src = from.sin6_addr,
        .dst = pi.ipi6_addr,
        .hop_limit = (uint8_t)hl,
        .icmp = buf,
        .len = (size_t)n,
    };
    *ifindex = (int)pi.ipi6_ifindex;
    return E6_ICMP6_RX_OK;
}

int e6_icmp6_send(int fd, int ifindex, const struct in6_addr *src, const struct in6_addr *dst,
                  const void *icmp, size_t len)
{
    struct sockaddr_in6 to = {
        .sin6_family = AF_INET6,
        .sin6_addr = *dst,
        .sin6_scope_id = (uint32_t)ifindex,
    };
    union {
        struct cmsghdr h;
        char b[CMSG_SPACE(sizeof(struct in6_pktinfo))];
    } cm;
    memset(&cm, 0, sizeof(cm));
    struct iovec iov = {.iov_base = (void *)icmp, .iov_len = len};
    struct msghdr mh = {
        .msg_name = &to,
        .msg_namelen = sizeof(to),
        .msg_iov = &iov,
        .msg_iovlen = 1,
        .msg_control = cm.b,
        .msg_controllen = sizeof(cm.b),
    };
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = IPPROTO_IPV6;
    c->cmsg_type = IPV6_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof(struct in6_pktinfo));
    struct in6_pktinfo pi = {.ipi6_addr = *src, .ipi6_ifindex = (unsigned)ifindex};
    memcpy(CMSG_DATA(c), &pi, sizeof(pi));
    ssize_t n;
    do {
        n = sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    return (size_t)n == len ? 0 : -EMSGSIZE;
}
