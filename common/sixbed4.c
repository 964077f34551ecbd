/*
 * common/sixbed4: encode and decode 6bed4 addresses (layout in sixbed4.h).
 * Everything works on bytes, so no host byte order leaks into the format.
 */
#include "common/sixbed4.h"

#include <string.h>

bool e6_6bed4_encode(const struct in6_addr *prefix64, struct in_addr ipv4, uint16_t port,
                     uint16_t lanip, struct in6_addr *out)
{
    const uint8_t *v4 = (const uint8_t *)&ipv4.s_addr; /* network order */
    struct in6_addr a;

    if (port == 0 || lanip > E6_6BED4_LANIP_MAX)
        return false;
    memcpy(a.s6_addr, prefix64->s6_addr, 8);
    /* The two low bits of IPv4[0] would land on the IID's u/g bits; 6bed4
     * moves them to byte 14 so every 6bed4 IID is "local, individual". */
    a.s6_addr[8] = v4[0] & 0xfc;
    a.s6_addr[9] = v4[1];
    a.s6_addr[10] = v4[2];
    a.s6_addr[11] = v4[3];
    a.s6_addr[12] = (uint8_t)(port >> 8);
    a.s6_addr[13] = (uint8_t)(port & 0xff);
    a.s6_addr[14] = (uint8_t)((v4[0] & 0x03) << 6 | (lanip >> 8 & 0x3f));
    a.s6_addr[15] = (uint8_t)(lanip & 0xff);
    *out = a;
    return true;
}

static uint16_t port_word(const struct in6_addr *addr)
{
    return (uint16_t)(addr->s6_addr[12] << 8 | addr->s6_addr[13]);
}

bool e6_6bed4_decode(const struct in6_addr *addr, struct in_addr *ipv4, uint16_t *port,
                     uint16_t *lanip)
{
    uint16_t p = port_word(addr);
    uint8_t v4[4];

    if (p == 0)
        return false;
    v4[0] = (uint8_t)((addr->s6_addr[8] & 0xfc) | (addr->s6_addr[14] >> 6));
    v4[1] = addr->s6_addr[9];
    v4[2] = addr->s6_addr[10];
    v4[3] = addr->s6_addr[11];
    if (ipv4 != NULL)
        memcpy(&ipv4->s_addr, v4, 4);
    if (port != NULL)
        *port = p;
    if (lanip != NULL)
        *lanip = (uint16_t)((addr->s6_addr[14] & 0x3f) << 8 | addr->s6_addr[15]);
    return true;
}

bool e6_6bed4_is_6bed4(const struct in6_addr *addr)
{
    return port_word(addr) != 0;
}

bool e6_6bed4_in_prefix(const struct in6_addr *prefix64, const struct in6_addr *addr)
{
    return memcmp(prefix64->s6_addr, addr->s6_addr, 8) == 0 && e6_6bed4_is_6bed4(addr);
}

bool e6_6bed4_is_local(const struct in6_addr *prefix64, const struct in6_addr *addr)
{
    return memcmp(prefix64->s6_addr, addr->s6_addr, 8) == 0 && !e6_6bed4_is_6bed4(addr);
}

bool e6_6bed4_peer_prefix(const struct in6_addr *prefix64, struct in_addr ipv4, uint16_t port,
                          struct e6_prefix *out)
{
    struct in6_addr a;

    if (!e6_6bed4_encode(prefix64, ipv4, port, 0, &a))
        return false;
    e6_prefix_make(out, &a, E6_6BED4_PEER_PREFIXLEN);
    return true;
}

bool e6_6bed4_matches_endpoint(const struct in6_addr *addr, struct in_addr ipv4, uint16_t port)
{
    struct in_addr v4;
    uint16_t p;

    if (!e6_6bed4_decode(addr, &v4, &p, NULL))
        return false;
    return v4.s_addr == ipv4.s_addr && p == port;
}
