/*
 * common/nd: the Neighbor Discovery codec (RFC 4861 and the option RFCs
 * 4191, 8106, 8781, 8910, 3971). Owns the validity rules a receiver must
 * apply before any engine looks at an RS, RA, NS, NA or Redirect, the
 * decoding of every option edge6 knows, and the bounded builders the engines
 * send with.
 *
 * Parsing never allocates: the result has fixed-size arrays with overflow
 * counts, and link-layer addresses, nonces, the captive portal URI and the
 * redirected header point into the caller's buffer (valid as long as it is).
 * Building never writes past the caller's capacity: the first error latches
 * in the builder and e6_nd_build_finish() reports it.
 */
#ifndef E6_COMMON_ND_H
#define E6_COMMON_ND_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "common/ip6.h"

/* ICMPv6 types (RFC 4861 4) */
enum {
    E6_ND_RS = 133,
    E6_ND_RA = 134,
    E6_ND_NS = 135,
    E6_ND_NA = 136,
    E6_ND_REDIRECT = 137,
};

/* Option types (IANA "IPv6 Neighbor Discovery Option Formats") */
enum {
    E6_ND_OPT_SLLA = 1,
    E6_ND_OPT_TLLA = 2,
    E6_ND_OPT_PIO = 3,
    E6_ND_OPT_REDIR_HDR = 4,
    E6_ND_OPT_MTU = 5,
    E6_ND_OPT_NONCE = 14,   /* RFC 3971 5.3.2 */
    E6_ND_OPT_RIO = 24,     /* RFC 4191 2.3 */
    E6_ND_OPT_RDNSS = 25,   /* RFC 8106 5.1 */
    E6_ND_OPT_DNSSL = 31,   /* RFC 8106 5.2 */
    E6_ND_OPT_CAPTIVE = 37, /* RFC 8910 2.3 */
    E6_ND_OPT_PREF64 = 38,  /* RFC 8781 4 */
};

/* Minimum ICMP lengths, which are also the fixed header sizes */
#define E6_ND_RS_LEN       8
#define E6_ND_RA_LEN       16
#define E6_ND_NS_LEN       24
#define E6_ND_NA_LEN       24
#define E6_ND_REDIRECT_LEN 40
/* The 8-bit length field counts 8-octet units */
#define E6_ND_OPT_MAX_SIZE 2040

/* RA header flags (RFC 4861 4.2, RFC 6275 7.1, RFC 4389 4) */
#define E6_ND_RA_M 0x80
#define E6_ND_RA_O 0x40
#define E6_ND_RA_H 0x20
#define E6_ND_RA_P 0x04
/* NA flags (RFC 4861 4.4) */
#define E6_ND_NA_R 0x80
#define E6_ND_NA_S 0x40
#define E6_ND_NA_O 0x20
/* Prefix Information flags (RFC 4861 4.6.2, RFC 6275 7.2, RFC 9762) */
#define E6_ND_PIO_L 0x80
#define E6_ND_PIO_A 0x40
#define E6_ND_PIO_R 0x20
#define E6_ND_PIO_P 0x10

/* Router / route preference, numerically the 2-bit wire value (RFC 4191 2.1) */
enum e6_nd_prf {
    E6_ND_PRF_MEDIUM = 0,
    E6_ND_PRF_HIGH = 1,
    E6_ND_PRF_RESERVED = 2,
    E6_ND_PRF_LOW = 3,
};

/* Bounds of the parse result; anything beyond is counted in *_overflow */
#define E6_ND_MAX_PIO    16
#define E6_ND_MAX_RIO    16
#define E6_ND_MAX_RDNSS  16
#define E6_ND_MAX_DNSSL  16
#define E6_ND_MAX_PREF64 4
#define E6_ND_MAX_BAD    8
/* dotted text of a domain name without the trailing dot (RFC 1035 2.3.4: 255 on the wire) */
#define E6_ND_DNS_NAME_MAX 253

/* Why a message was dropped. Stable names for counters: e6_nd_reject_name(). */
enum e6_nd_reject {
    E6_ND_OK = 0,
    E6_ND_R_NOT_ICMPV6,          /* e6_nd_parse_ip6: upper layer is not ICMPv6 */
    E6_ND_R_FRAGMENT,            /* e6_nd_parse_ip6: RFC 6980 5, fragmented ND is ignored */
    E6_ND_R_ROUTED,              /* e6_nd_parse_ip6: Routing header with Segments Left > 0 */
    E6_ND_R_NOT_ND,              /* ICMPv6 type is not 133..137 */
    E6_ND_R_SHORT,               /* ICMP length below the type's minimum */
    E6_ND_R_HOP_LIMIT,           /* not 255: the message crossed a router */
    E6_ND_R_CODE,                /* ICMP code not 0 */
    E6_ND_R_SRC_MULTICAST,       /* RFC 4291 2.7 */
    E6_ND_R_CHECKSUM,            /* ICMPv6 checksum wrong */
    E6_ND_R_OPT_ZERO_LEN,        /* RFC 4861 4.6: an option with length 0 */
    E6_ND_R_OPT_OVERRUN,         /* options do not end exactly at the end of the message */
    E6_ND_R_UNSPEC_SLLA,         /* RS or NS from :: with a Source Link-Layer Address option */
    E6_ND_R_SRC_NOT_LINKLOCAL,   /* RA or Redirect not from a link-local address */
    E6_ND_R_TARGET_MULTICAST,    /* NS or NA target is multicast */
    E6_ND_R_DAD_DST,             /* NS from :: not sent to a solicited-node group */
    E6_ND_R_NA_SOLICITED_MCAST,  /* NA to a multicast destination with S set */
    E6_ND_R_REDIR_DST_MULTICAST, /* Redirect Destination Address is multicast */
    E6_ND_R_REDIR_TARGET,        /* Redirect target neither link-local nor the destination */
    E6_ND_R__COUNT
};
const char *e6_nd_reject_name(enum e6_nd_reject r);

/* Why a known option was ignored (the message itself is still valid) */
enum e6_nd_optbad_reason {
    E6_ND_OB_LENGTH = 1,    /* option length wrong for its type */
    E6_ND_OB_PREFIX_LEN,    /* prefix length > 128, or RIO length too short for it */
    E6_ND_OB_PRF_RESERVED,  /* RIO preference 10 (RFC 4191 2.3: option ignored) */
    E6_ND_OB_PLC,           /* PREF64 Prefix Length Code 6 or 7 */
    E6_ND_OB_DNS_LABEL,     /* DNSSL label type 01/10 or a character not in [A-Za-z0-9_-] */
    E6_ND_OB_DNS_POINTER,   /* DNSSL compression pointer (RFC 8106 5.2 forbids) */
    E6_ND_OB_DNS_NAME_LONG, /* DNSSL name over 255 octets on the wire */
    E6_ND_OB_DNS_TRUNCATED, /* DNSSL name not terminated inside the option */
    E6_ND_OB_DNS_PADDING,   /* DNSSL nonzero octet after the padding began */
    E6_ND_OB_EMPTY,         /* DNSSL without a name, captive portal without a URI */
    E6_ND_OB_URI,           /* captive portal URI with NUL or non-printable octets inside */
    E6_ND_OB_DUPLICATE,     /* a second SLLA/TLLA/MTU/Nonce/Captive/Redirected Header */
    E6_ND_OB__COUNT
};
const char *e6_nd_optbad_name(enum e6_nd_optbad_reason r);

struct e6_nd_lladdr {
    const uint8_t *addr; /* into the message; NULL when absent */
    uint16_t len;        /* option length * 8 - 2: 6 for Ethernet, padding included */
};

struct e6_nd_pio {
    struct e6_prefix prefix; /* bits beyond the length cleared, as the receiver must */
    struct in6_addr raw;     /* the Prefix field as on the wire (a router address if R) */
    uint8_t flags;           /* E6_ND_PIO_* and reserved bits, as on the wire */
    uint32_t valid;
    uint32_t preferred;
};

struct e6_nd_route {
    struct e6_prefix prefix;
    enum e6_nd_prf prf;
    uint32_t lifetime;
};

struct e6_nd_rdnss {
    struct in6_addr addr;
    uint32_t lifetime;
};

struct e6_nd_dnssl {
    char name[E6_ND_DNS_NAME_MAX + 1]; /* dotted, no trailing dot, NUL-terminated */
    uint32_t lifetime;
};

struct e6_nd_pref64 {
    struct e6_prefix prefix; /* length 32, 40, 48, 56, 64 or 96 */
    uint16_t lifetime;       /* seconds: Scaled Lifetime * 8 */
};

struct e6_nd_optbad {
    uint8_t type;
    uint8_t reason;  /* enum e6_nd_optbad_reason */
    uint16_t offset; /* of the option in the ICMP message */
};

struct e6_nd_ra {
    uint8_t cur_hop_limit;
    uint8_t flags; /* E6_ND_RA_* and reserved bits, preference bits masked out */
    enum e6_nd_prf prf;
    uint16_t router_lifetime; /* seconds */
    uint32_t reachable;       /* ms */
    uint32_t retrans;         /* ms */
};

/* What arrived: from a raw ICMPv6 socket (hop limit from IPV6_HOPLIMIT cmsg) or a packet */
struct e6_nd_in {
    struct in6_addr src;
    struct in6_addr dst;
    uint8_t hop_limit;
    const uint8_t *icmp; /* ICMPv6 header onwards */
    size_t len;
};

struct e6_nd_msg {
    uint8_t type;
    uint8_t code;
    size_t len; /* ICMP length */
    struct in6_addr src;
    struct in6_addr dst;

    struct e6_nd_ra ra;        /* RA */
    bool ra_prf_reserved;      /* RA carried preference 10, read as medium (RFC 4191 2.2) */
    uint8_t na_flags;          /* NA: E6_ND_NA_* and reserved bits of the first octet */
    struct in6_addr target;    /* NS, NA, Redirect */
    struct in6_addr redir_dst; /* Redirect Destination Address */

    /* options; the first of each single-valued one wins */
    struct e6_nd_lladdr slla;
    struct e6_nd_lladdr tlla;
    bool has_mtu;
    uint32_t mtu;
    const uint8_t *nonce; /* RFC 3971 nonce, nonce_len >= 6 */
    uint16_t nonce_len;
    const char *captive; /* RFC 8910 URI, printable ASCII, NOT NUL-terminated */
    uint16_t captive_len;
    const uint8_t *redir_hdr; /* Redirected Header: the IP packet it carries */
    uint16_t redir_hdr_len;

    struct e6_nd_pio pio[E6_ND_MAX_PIO];
    unsigned n_pio, pio_overflow;
    struct e6_nd_route rio[E6_ND_MAX_RIO];
    unsigned n_rio, rio_overflow;
    struct e6_nd_rdnss rdnss[E6_ND_MAX_RDNSS];
    unsigned n_rdnss, rdnss_overflow;
    struct e6_nd_dnssl dnssl[E6_ND_MAX_DNSSL];
    unsigned n_dnssl, dnssl_overflow;
    struct e6_nd_pref64 pref64[E6_ND_MAX_PREF64];
    unsigned n_pref64, pref64_overflow;

    unsigned n_opts;      /* options seen, all kinds */
    unsigned n_unknown;   /* unknown types, skipped (RFC 4861 4.6) */
    unsigned n_misplaced; /* known types not defined for this message, skipped */
    unsigned n_bad;       /* known options ignored as malformed; first E6_ND_MAX_BAD in bad[] */
    struct e6_nd_optbad bad[E6_ND_MAX_BAD];
};

/*
 * Validate and decode one ND message. Returns E6_ND_OK or the reason it must
 * be dropped; *out is only meaningful on E6_ND_OK. The checksum is always
 * verified: there is no way to skip it.
 */
enum e6_nd_reject e6_nd_parse(const struct e6_nd_in *in, struct e6_nd_msg *out);
/* The same for a packet from e6_ip6_parse (TUN, libpcap), adding the IPv6-level rules */
enum e6_nd_reject e6_nd_parse_ip6(const struct e6_ip6_pkt *pkt, struct e6_nd_msg *out);

/* true when ll is exactly one 6-byte Ethernet address (option length 1) */
bool e6_nd_lladdr_eth(const struct e6_nd_lladdr *ll, uint8_t mac[6]);

/*
 * Builder. Start with e6_nd_build_init, put exactly one header first, then
 * options, then e6_nd_build_finish. Every put returns 0 or the latched error:
 * -ENOSPC when it does not fit (nothing written), -EINVAL when the arguments
 * cannot make a valid message or option (including an option the message
 * does not define, or a second SLLA, TLLA, MTU, Nonce or Captive Portal,
 * which receivers would ignore). After an error every later call is a no-op
 * returning the same error.
 */
struct e6_nd_builder {
    uint8_t *buf;
    size_t cap;
    size_t len;
    int err;
    uint8_t type; /* 0 until a header is put */
    bool has_slla;
    uint64_t once; /* bit per single-valued option type already put */
};

void e6_nd_build_init(struct e6_nd_builder *b, uint8_t *buf, size_t cap);
/*
 * Compute the checksum for src/dst. Returns the ICMP length or the latched
 * error. Refuses (-EINVAL) what a receiver would drop: an RA from a
 * non-link-local source, an RS or NS from :: with a Source Link-Layer
 * Address option, an NS from :: not sent to a solicited-node group, an NA
 * with S set to a multicast destination, a multicast source.
 */
int e6_nd_build_finish(struct e6_nd_builder *b, const struct in6_addr *src,
                       const struct in6_addr *dst);

int e6_nd_put_rs(struct e6_nd_builder *b);
/*
 * ra->flags may hold only M, O, H, P. prf must not be reserved; with a router
 * lifetime of 0 the preference is sent as medium (RFC 4191 2.2 MUST).
 */
int e6_nd_put_ra(struct e6_nd_builder *b, const struct e6_nd_ra *ra);
int e6_nd_put_ns(struct e6_nd_builder *b, const struct in6_addr *target);
/* flags: E6_ND_NA_R, _S, _O only */
int e6_nd_put_na(struct e6_nd_builder *b, uint8_t flags, const struct in6_addr *target);

/* type is E6_ND_OPT_SLLA or E6_ND_OPT_TLLA; the address is zero padded to 8 octets */
int e6_nd_put_lladdr(struct e6_nd_builder *b, uint8_t type, const uint8_t *ll, size_t ll_len);
/*
 * Sends p->prefix with host bits cleared, or p->raw when E6_ND_PIO_R is set
 * (RFC 6275 7.2; raw must then lie inside the prefix). flags only L, A, R, P;
 * preferred must not exceed valid.
 */
int e6_nd_put_pio(struct e6_nd_builder *b, const struct e6_nd_pio *p);
/* mtu >= 1280 (RFC 8200 5) */
int e6_nd_put_mtu(struct e6_nd_builder *b, uint32_t mtu);
/* 1..127 servers, none unspecified or multicast */
int e6_nd_put_rdnss(struct e6_nd_builder *b, uint32_t lifetime, const struct in6_addr *servers,
                    size_t n);
/* names as dotted text, each valid per e6_nd_dns_name_valid() */
int e6_nd_put_dnssl(struct e6_nd_builder *b, uint32_t lifetime, const char *const *names, size_t n);
/* shortest legal length for the prefix length (RFC 4191 2.3); prf not reserved */
int e6_nd_put_route(struct e6_nd_builder *b, const struct e6_nd_route *r);
/* prefix length 32, 40, 48, 56, 64 or 96; lifetime per e6_nd_pref64_lifetime() */
int e6_nd_put_pref64(struct e6_nd_builder *b, uint32_t lifetime, const struct e6_prefix *p);
/* printable ASCII URI, NUL padded to 8 octets */
int e6_nd_put_captive(struct e6_nd_builder *b, const char *uri);
/* RFC 3971 5.3.2: at least 6 bytes, and 2 + len a multiple of 8 */
int e6_nd_put_nonce(struct e6_nd_builder *b, const uint8_t *nonce, size_t len);

/*
 * Option sizes in bytes for planning RAs that fit the link MTU (RFC 6980:
 * never fragment ND). 0 when the arguments are not encodable.
 */
#define E6_ND_PIO_SIZE    32
#define E6_ND_MTU_SIZE    8
#define E6_ND_PREF64_SIZE 16
size_t e6_nd_lladdr_size(size_t ll_len);
size_t e6_nd_rdnss_size(size_t n);
size_t e6_nd_dnssl_size(const char *const *names, size_t n);
size_t e6_nd_route_size(unsigned prefix_len);
size_t e6_nd_captive_size(const char *uri);
size_t e6_nd_nonce_size(size_t len);

/*
 * The lifetime a PREF64 option carries for a wanted one (RFC 8781 4.1):
 * rounded up to a multiple of 8, 1..7 becomes 8, capped at 65528.
 */
uint16_t e6_nd_pref64_lifetime(uint32_t seconds);

/*
 * Whether name (dotted, optional trailing dot) can go into a DNSSL option:
 * labels 1..63 characters of [A-Za-z0-9_-], at most 253 characters, not the
 * root. On false, err (if non-NULL) says why.
 */
bool e6_nd_dns_name_valid(const char *name, char *err, size_t errlen);
/* Whether uri can go into a captive portal option: 1..2038 printable ASCII */
bool e6_nd_captive_uri_valid(const char *uri);

#endif
