/*
 * common/nd: Neighbor Discovery parsing (validity rules and options) and
 * bounded building. See nd.h for the contract; RFC sections are cited where
 * a rule comes from.
 */
#include "common/nd.h"
#include "common/bytes.h"

#include <errno.h>
#include <string.h>

/* ---- names ------------------------------------------------------------- */

static const char *const reject_names[E6_ND_R__COUNT] = {
    [E6_ND_OK] = "ok",
    [E6_ND_R_NOT_ICMPV6] = "not_icmpv6",
    [E6_ND_R_FRAGMENT] = "fragment",
    [E6_ND_R_ROUTED] = "routing_header",
    [E6_ND_R_NOT_ND] = "not_nd",
    [E6_ND_R_SHORT] = "short",
    [E6_ND_R_HOP_LIMIT] = "hop_limit",
    [E6_ND_R_CODE] = "code",
    [E6_ND_R_SRC_MULTICAST] = "src_multicast",
    [E6_ND_R_CHECKSUM] = "checksum",
    [E6_ND_R_OPT_ZERO_LEN] = "opt_zero_len",
    [E6_ND_R_OPT_OVERRUN] = "opt_overrun",
    [E6_ND_R_UNSPEC_SLLA] = "unspec_slla",
    [E6_ND_R_SRC_NOT_LINKLOCAL] = "src_not_linklocal",
    [E6_ND_R_TARGET_MULTICAST] = "target_multicast",
    [E6_ND_R_DAD_DST] = "dad_dst",
    [E6_ND_R_NA_SOLICITED_MCAST] = "na_solicited_mcast",
    [E6_ND_R_REDIR_DST_MULTICAST] = "redir_dst_multicast",
    [E6_ND_R_REDIR_TARGET] = "redir_target",
};

const char *e6_nd_reject_name(enum e6_nd_reject r)
{
    if ((unsigned)r >= E6_ND_R__COUNT)
        return "unknown";
    return reject_names[r];
}

static const char *const optbad_names[E6_ND_OB__COUNT] = {
    [0] = "none",
    [E6_ND_OB_LENGTH] = "length",
    [E6_ND_OB_PREFIX_LEN] = "prefix_len",
    [E6_ND_OB_PRF_RESERVED] = "prf_reserved",
    [E6_ND_OB_PLC] = "plc",
    [E6_ND_OB_DNS_LABEL] = "dns_label",
    [E6_ND_OB_DNS_POINTER] = "dns_pointer",
    [E6_ND_OB_DNS_NAME_LONG] = "dns_name_long",
    [E6_ND_OB_DNS_TRUNCATED] = "dns_truncated",
    [E6_ND_OB_DNS_PADDING] = "dns_padding",
    [E6_ND_OB_EMPTY] = "empty",
    [E6_ND_OB_URI] = "uri",
    [E6_ND_OB_DUPLICATE] = "duplicate",
};

const char *e6_nd_optbad_name(enum e6_nd_optbad_reason r)
{
    if ((unsigned)r >= E6_ND_OB__COUNT)
        return "unknown";
    return optbad_names[r];
}

/* ---- option parsing ---------------------------------------------------- */

/* Which options each message defines (RFC 4861 4.1-4.5 "Possible options", and the option RFCs) */
static bool opt_allowed(uint8_t msg, uint8_t opt)
{
    switch (opt) {
    case E6_ND_OPT_SLLA:
        return msg == E6_ND_RS || msg == E6_ND_RA || msg == E6_ND_NS;
    case E6_ND_OPT_TLLA:
        return msg == E6_ND_NA || msg == E6_ND_REDIRECT;
    case E6_ND_OPT_REDIR_HDR:
        return msg == E6_ND_REDIRECT;
    case E6_ND_OPT_NONCE:
        /* solicitations and the advertisements answering them (RFC 3971 5.3.2, RFC 7527) */
        return msg != E6_ND_REDIRECT;
    case E6_ND_OPT_PIO:
    case E6_ND_OPT_MTU:
    case E6_ND_OPT_RIO:
    case E6_ND_OPT_RDNSS:
    case E6_ND_OPT_DNSSL:
    case E6_ND_OPT_CAPTIVE:
    case E6_ND_OPT_PREF64:
        return msg == E6_ND_RA;
    default:
        return false;
    }
}

static bool opt_known(uint8_t opt)
{
    switch (opt) {
    case E6_ND_OPT_SLLA:
    case E6_ND_OPT_TLLA:
    case E6_ND_OPT_PIO:
    case E6_ND_OPT_REDIR_HDR:
    case E6_ND_OPT_MTU:
    case E6_ND_OPT_NONCE:
    case E6_ND_OPT_RIO:
    case E6_ND_OPT_RDNSS:
    case E6_ND_OPT_DNSSL:
    case E6_ND_OPT_CAPTIVE:
    case E6_ND_OPT_PREF64:
        return true;
    default:
        return false;
    }
}

static void note_bad(struct e6_nd_msg *m, uint8_t type, enum e6_nd_optbad_reason why, size_t off)
{
    if (m->n_bad < E6_ND_MAX_BAD) {
        struct e6_nd_optbad *b = &m->bad[m->n_bad];
        b->type = type;
        b->reason = (uint8_t)why;
        b->offset = (uint16_t)(off > UINT16_MAX ? UINT16_MAX : off);
    }
    m->n_bad++;
}

static void parse_lladdr(struct e6_nd_lladdr *ll, const uint8_t *o, size_t olen)
{
    ll->addr = o + 2;
    ll->len = (uint16_t)(olen - 2);
}

/* RFC 4861 4.6.2 */
static enum e6_nd_optbad_reason parse_pio(struct e6_nd_msg *m, const uint8_t *o, size_t olen)
{
    if (olen != 32)
        return E6_ND_OB_LENGTH;
    if (o[2] > 128)
        return E6_ND_OB_PREFIX_LEN;
    if (m->n_pio == E6_ND_MAX_PIO) {
        m->pio_overflow++;
        return 0;
    }
    struct e6_nd_pio *p = &m->pio[m->n_pio++];
    p->prefix.len = o[2];
    p->flags = o[3];
    p->valid = e6_get32(o + 4);
    p->preferred = e6_get32(o + 8);
    memcpy(&p->raw, o + 16, 16);
    /* "bits in the prefix after the prefix length ... ignored by the receiver" */
    p->prefix.addr = p->raw;
    e6_addr_mask(&p->prefix.addr, p->prefix.len);
    return 0;
}

/* RFC 4191 2.3 */
static enum e6_nd_optbad_reason parse_rio(struct e6_nd_msg *m, const uint8_t *o, size_t olen)
{
    size_t units = olen / 8;
    unsigned plen = o[2];
    if (units > 3)
        return E6_ND_OB_LENGTH;
    if (plen > 128)
        return E6_ND_OB_PREFIX_LEN;
    /* length 1 carries no prefix octets, length 2 carries 64 bits */
    if ((plen > 64 && units < 3) || (plen > 0 && units < 2))
        return E6_ND_OB_PREFIX_LEN;
    enum e6_nd_prf prf = (enum e6_nd_prf)((o[3] >> 3) & 3);
    if (prf == E6_ND_PRF_RESERVED)
        return E6_ND_OB_PRF_RESERVED;
    if (m->n_rio == E6_ND_MAX_RIO) {
        m->rio_overflow++;
        return 0;
    }
    struct e6_nd_route *r = &m->rio[m->n_rio++];
    memset(r, 0, sizeof(*r));
    memcpy(&r->prefix.addr, o + 8, olen - 8);
    r->prefix.len = (uint8_t)plen;
    e6_addr_mask(&r->prefix.addr, plen);
    r->prf = prf;
    r->lifetime = e6_get32(o + 4);
    return 0;
}

/* RFC 8106 5.1: length 1 + 2N */
static enum e6_nd_optbad_reason parse_rdnss(struct e6_nd_msg *m, const uint8_t *o, size_t olen)
{
    size_t units = olen / 8;
    if (units < 3 || units % 2 == 0)
        return E6_ND_OB_LENGTH;
    uint32_t lifetime = e6_get32(o + 4);
    for (size_t off = 8; off < olen; off += 16) {
        if (m->n_rdnss == E6_ND_MAX_RDNSS) {
            m->rdnss_overflow++;
            continue;
        }
        struct e6_nd_rdnss *r = &m->rdnss[m->n_rdnss++];
        memcpy(&r->addr, o + off, 16);
        r->lifetime = lifetime;
    }
    return 0;
}

/* Search-domain labels go into resolver configuration: keep them to LDH and '_'. */
static bool dns_char_ok(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

/*
 * Walk the RFC 1035 3.1 names in p[0..n). With store false it only validates;
 * the option is accepted or ignored as a whole, so names are stored only on a
 * second pass once the whole option is known to be good.
 */
static enum e6_nd_optbad_reason dnssl_walk(struct e6_nd_msg *m, const uint8_t *p, size_t n,
                                           uint32_t lifetime, bool store)
{
    size_t i = 0;
    unsigned names = 0;
    while (i < n) {
        if (p[i] == 0) {
            /* padding: zeros to the end (RFC 8106 5.2) */
            for (; i < n; i++)
                if (p[i] != 0)
                    return E6_ND_OB_DNS_PADDING;
            break;
        }
        char name[E6_ND_DNS_NAME_MAX + 1];
        size_t tl = 0;   /* dotted text length */
        size_t wire = 1; /* the terminating root label */
        for (;;) {
            if (i >= n)
                return E6_ND_OB_DNS_TRUNCATED;
            uint8_t l = p[i++];
            if (l == 0)
                break;
            if ((l & 0xc0) == 0xc0)
                return E6_ND_OB_DNS_POINTER;
            if (l & 0xc0)
                return E6_ND_OB_DNS_LABEL;
            if (n - i < l)
                return E6_ND_OB_DNS_TRUNCATED;
            wire += 1u + l;
            if (wire > 255)
                return E6_ND_OB_DNS_NAME_LONG;
            /* wire <= 255 keeps tl + l + 1 <= 253, inside name[] */
            if (tl)
                name[tl++] = '.';
            for (unsigned k = 0; k < l; k++) {
                if (!dns_char_ok(p[i + k]))
                    return E6_ND_OB_DNS_LABEL;
                name[tl++] = (char)p[i + k];
            }
            i += l;
        }
        name[tl] = '\0';
        names++;
        if (!store)
            continue;
        if (m->n_dnssl == E6_ND_MAX_DNSSL) {
            m->dnssl_overflow++;
            continue;
        }
        struct e6_nd_dnssl *d = &m->dnssl[m->n_dnssl++];
        memcpy(d->name, name, tl + 1);
        d->lifetime = lifetime;
    }
    return names ? 0 : E6_ND_OB_EMPTY;
}

/* RFC 8106 5.2 */
static enum e6_nd_optbad_reason parse_dnssl(struct e6_nd_msg *m, const uint8_t *o, size_t olen)
{
    if (olen < 16)
        return E6_ND_OB_LENGTH;
    uint32_t lifetime = e6_get32(o + 4);
    enum e6_nd_optbad_reason r = dnssl_walk(m, o + 8, olen - 8, lifetime, false);
    if (r)
        return r;
    return dnssl_walk(m, o + 8, olen - 8, lifetime, true);
}

static const uint8_t pref64_plen[6] = {96, 64, 56, 48, 40, 32};

/* RFC 8781 4 */
static enum e6_nd_optbad_reason parse_pref64(struct e6_nd_msg *m, const uint8_t *o, size_t olen)
{
    if (olen != 16)
        return E6_ND_OB_LENGTH;
    uint16_t w = e6_get16(o + 2);
    unsigned plc = w & 7;
    if (plc >= sizeof(pref64_plen))
        return E6_ND_OB_PLC;
    if (m->n_pref64 == E6_ND_MAX_PREF64) {
        m->pref64_overflow++;
        return 0;
    }
    struct e6_nd_pref64 *p = &m->pref64[m->n_pref64++];
    memset(p, 0, sizeof(*p));
    memcpy(&p->prefix.addr, o + 4, 12);
    p->prefix.len = pref64_plen[plc];
    e6_addr_mask(&p->prefix.addr, p->prefix.len);
    p->lifetime = (uint16_t)(w & 0xfff8); /* (w >> 3) * 8 */
    return 0;
}

/* RFC 8910 2.3 */
static enum e6_nd_optbad_reason parse_captive(struct e6_nd_msg *m, const uint8_t *o, size_t olen)
{
    const uint8_t *uri = o + 2;
    size_t n = olen - 2;
    while (n && uri[n - 1] == 0)
        n--;
    if (n == 0)
        return E6_ND_OB_EMPTY;
    for (size_t i = 0; i < n; i++)
        if (uri[i] < 0x21 || uri[i] > 0x7e)
            return E6_ND_OB_URI;
    m->captive = (const char *)uri;
    m->captive_len = (uint16_t)n;
    return 0;
}

static enum e6_nd_optbad_reason parse_option(struct e6_nd_msg *m, const uint8_t *o, size_t olen)
{
    switch (o[0]) {
    case E6_ND_OPT_SLLA:
        if (m->slla.addr)
            return E6_ND_OB_DUPLICATE;
        parse_lladdr(&m->slla, o, olen);
        return 0;
    case E6_ND_OPT_TLLA:
        if (m->tlla.addr)
            return E6_ND_OB_DUPLICATE;
        parse_lladdr(&m->tlla, o, olen);
        return 0;
    case E6_ND_OPT_MTU:
        if (olen != 8)
            return E6_ND_OB_LENGTH;
        if (m->has_mtu)
            return E6_ND_OB_DUPLICATE;
        m->has_mtu = true;
        m->mtu = e6_get32(o + 4);
        return 0;
    case E6_ND_OPT_NONCE:
        if (m->nonce)
            return E6_ND_OB_DUPLICATE;
        m->nonce = o + 2;
        m->nonce_len = (uint16_t)(olen - 2);
        return 0;
    case E6_ND_OPT_REDIR_HDR:
        /* RFC 4861 4.6.3: 6 reserved octets, then the packet */
        if (m->redir_hdr)
            return E6_ND_OB_DUPLICATE;
        m->redir_hdr = o + 8;
        m->redir_hdr_len = (uint16_t)(olen - 8);
        return 0;
    case E6_ND_OPT_CAPTIVE:
        if (m->captive)
            return E6_ND_OB_DUPLICATE;
        return parse_captive(m, o, olen);
    case E6_ND_OPT_PIO:
        return parse_pio(m, o, olen);
    case E6_ND_OPT_RIO:
        return parse_rio(m, o, olen);
    case E6_ND_OPT_RDNSS:
        return parse_rdnss(m, o, olen);
    case E6_ND_OPT_DNSSL:
        return parse_dnssl(m, o, olen);
    case E6_ND_OPT_PREF64:
        return parse_pref64(m, o, olen);
    default:
        return 0;
    }
}

/*
 * Structural pass: every option has a nonzero length and they tile the rest
 * of the message exactly. Done before anything is decoded so that a bad
 * option late in the message discards it without half a result.
 */
static enum e6_nd_reject check_options(const uint8_t *p, size_t len, size_t off, bool *has_slla)
{
    *has_slla = false;
    while (off < len) {
        if (len - off < 2)
            return E6_ND_R_OPT_OVERRUN;
        size_t olen = (size_t)p[off + 1] * 8;
        if (olen == 0)
            return E6_ND_R_OPT_ZERO_LEN;
        if (len - off < olen)
            return E6_ND_R_OPT_OVERRUN;
        if (p[off] == E6_ND_OPT_SLLA)
            *has_slla = true;
        off += olen;
    }
    return E6_ND_OK;
}

static void parse_options(struct e6_nd_msg *m, const uint8_t *p, size_t len, size_t off)
{
    while (off < len) {
        const uint8_t *o = p + off;
        size_t olen = (size_t)o[1] * 8;
        m->n_opts++;
        if (!opt_known(o[0])) {
            m->n_unknown++;
        } else if (!opt_allowed(m->type, o[0])) {
            /* RFC 4861 6.1-8.1: options not defined for the message are ignored */
            m->n_misplaced++;
        } else {
            enum e6_nd_optbad_reason why = parse_option(m, o, olen);
            if (why)
                note_bad(m, o[0], why, off);
        }
        off += olen;
    }
}

/* ---- message parsing --------------------------------------------------- */

static size_t min_len(uint8_t type)
{
    switch (type) {
    case E6_ND_RS:
        return E6_ND_RS_LEN;
    case E6_ND_RA:
        return E6_ND_RA_LEN;
    case E6_ND_NS:
        return E6_ND_NS_LEN;
    case E6_ND_NA:
        return E6_ND_NA_LEN;
    default:
        return E6_ND_REDIRECT_LEN;
    }
}

enum e6_nd_reject e6_nd_parse(const struct e6_nd_in *in, struct e6_nd_msg *out)
{
    memset(out, 0, sizeof(*out));
    const uint8_t *p = in->icmp;
    size_t len = in->len;

    if (len < 4)
        return E6_ND_R_SHORT;
    if (p[0] < E6_ND_RS || p[0] > E6_ND_REDIRECT)
        return E6_ND_R_NOT_ND;
    out->type = p[0];
    out->code = p[1];
    out->len = len;
    out->src = in->src;
    out->dst = in->dst;

    /* RFC 4861 6.1.1, 6.1.2, 7.1.1, 7.1.2, 8.1: common rules */
    if (in->hop_limit != 255)
        return E6_ND_R_HOP_LIMIT;
    if (out->code != 0)
        return E6_ND_R_CODE;
    size_t hlen = min_len(out->type);
    if (len < hlen)
        return E6_ND_R_SHORT;
    if (e6_addr_is_multicast(&in->src))
        return E6_ND_R_SRC_MULTICAST;
    if (!e6_ip6_icmp6_cksum_ok(&in->src, &in->dst, p, len))
        return E6_ND_R_CHECKSUM;
    bool has_slla;
    enum e6_nd_reject r = check_options(p, len, hlen, &has_slla);
    if (r)
        return r;

    bool unspec = e6_addr_is_unspecified(&in->src);
    switch (out->type) {
    case E6_ND_RS:
        if (unspec && has_slla)
            return E6_ND_R_UNSPEC_SLLA;
        break;
    case E6_ND_RA: {
        if (!e6_addr_is_linklocal(&in->src))
            return E6_ND_R_SRC_NOT_LINKLOCAL;
        struct e6_nd_ra *ra = &out->ra;
        ra->cur_hop_limit = p[4];
        ra->flags = p[5] & (uint8_t)~0x18;
        ra->prf = (enum e6_nd_prf)((p[5] >> 3) & 3);
        /* RFC 4191 2.2: a reserved preference is treated as medium */
        if (ra->prf == E6_ND_PRF_RESERVED) {
            ra->prf = E6_ND_PRF_MEDIUM;
            out->ra_prf_reserved = true;
        }
        ra->router_lifetime = e6_get16(p + 6);
        ra->reachable = e6_get32(p + 8);
        ra->retrans = e6_get32(p + 12);
        break;
    }
    case E6_ND_NS:
        memcpy(&out->target, p + 8, 16);
        if (e6_addr_is_multicast(&out->target))
            return E6_ND_R_TARGET_MULTICAST;
        if (unspec && !e6_addr_is_solicited_node(&in->dst))
            return E6_ND_R_DAD_DST;
        if (unspec && has_slla)
            return E6_ND_R_UNSPEC_SLLA;
        break;
    case E6_ND_NA:
        out->na_flags = p[4];
        memcpy(&out->target, p + 8, 16);
        if (e6_addr_is_multicast(&out->target))
            return E6_ND_R_TARGET_MULTICAST;
        if (e6_addr_is_multicast(&in->dst) && (out->na_flags & E6_ND_NA_S))
            return E6_ND_R_NA_SOLICITED_MCAST;
        break;
    case E6_ND_REDIRECT:
        if (!e6_addr_is_linklocal(&in->src))
            return E6_ND_R_SRC_NOT_LINKLOCAL;
        memcpy(&out->target, p + 8, 16);
        memcpy(&out->redir_dst, p + 24, 16);
        if (e6_addr_is_multicast(&out->redir_dst))
            return E6_ND_R_REDIR_DST_MULTICAST;
        /* a better router (link-local) or the destination itself, on-link */
        if (!e6_addr_is_linklocal(&out->target) &&
            memcmp(&out->target, &out->redir_dst, sizeof(out->target)) != 0)
            return E6_ND_R_REDIR_TARGET;
        break;
    default:
        break;
    }

    parse_options(out, p, len, hlen);
    return E6_ND_OK;
}

enum e6_nd_reject e6_nd_parse_ip6(const struct e6_ip6_pkt *pkt, struct e6_nd_msg *out)
{
    memset(out, 0, sizeof(*out));
    if (pkt->proto != E6_IPPROTO_ICMPV6)
        return E6_ND_R_NOT_ICMPV6;
    if (pkt->fragment)
        return E6_ND_R_FRAGMENT;
    if (pkt->routed)
        return E6_ND_R_ROUTED;
    struct e6_nd_in in = {
        .src = pkt->hdr.src,
        .dst = pkt->hdr.dst,
        .hop_limit = pkt->hdr.hop_limit,
        .icmp = pkt->payload,
        .len = pkt->payload_len,
    };
    return e6_nd_parse(&in, out);
}

bool e6_nd_lladdr_eth(const struct e6_nd_lladdr *ll, uint8_t mac[6])
{
    if (!ll->addr || ll->len != 6)
        return false;
    memcpy(mac, ll->addr, 6);
    return true;
}

/* ---- building ---------------------------------------------------------- */

static size_t roundup8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

void e6_nd_build_init(struct e6_nd_builder *b, uint8_t *buf, size_t cap)
{
    memset(b, 0, sizeof(*b));
    b->buf = buf;
    b->cap = buf ? cap : 0;
}

static int fail(struct e6_nd_builder *b, int err)
{
    if (!b->err)
        b->err = err;
    return b->err;
}

/* n zeroed bytes at the end, or NULL with the error latched */
static uint8_t *reserve(struct e6_nd_builder *b, size_t n)
{
    if (b->err)
        return NULL;
    if (b->cap - b->len < n) {
        fail(b, -ENOSPC);
        return NULL;
    }
    uint8_t *p = b->buf + b->len;
    memset(p, 0, n);
    b->len += n;
    return p;
}

static uint8_t *put_hdr(struct e6_nd_builder *b, uint8_t type, size_t size)
{
    if (b->err)
        return NULL;
    if (b->type) {
        fail(b, -EINVAL);
        return NULL;
    }
    uint8_t *p = reserve(b, size);
    if (p) {
        p[0] = type;
        b->type = type;
    }
    return p;
}

/* Options a receiver takes only once (parse_option keeps the first) */
static bool opt_single(uint8_t type)
{
    return type == E6_ND_OPT_SLLA || type == E6_ND_OPT_TLLA || type == E6_ND_OPT_MTU ||
           type == E6_ND_OPT_NONCE || type == E6_ND_OPT_CAPTIVE;
}

/* size has been computed by a *_size function: 0 means the arguments were bad */
static uint8_t *put_opt(struct e6_nd_builder *b, uint8_t type, size_t size)
{
    if (b->err)
        return NULL;
    uint64_t bit = (uint64_t)1 << (type & 63);
    bool again = opt_single(type) && (b->once & bit);
    if (!b->type || !opt_allowed(b->type, type) || again || size == 0 || size % 8 ||
        size > E6_ND_OPT_MAX_SIZE) {
        fail(b, -EINVAL);
        return NULL;
    }
    uint8_t *o = reserve(b, size);
    if (o) {
        o[0] = type;
        o[1] = (uint8_t)(size / 8);
        b->once |= bit;
    }
    return o;
}

int e6_nd_put_rs(struct e6_nd_builder *b)
{
    put_hdr(b, E6_ND_RS, E6_ND_RS_LEN);
    return b->err;
}

int e6_nd_put_ra(struct e6_nd_builder *b, const struct e6_nd_ra *ra)
{
    if (b->err)
        return b->err;
    if ((ra->flags & ~(E6_ND_RA_M | E6_ND_RA_O | E6_ND_RA_H | E6_ND_RA_P)) ||
        (unsigned)ra->prf > 3 || ra->prf == E6_ND_PRF_RESERVED)
        return fail(b, -EINVAL);
    uint8_t *p = put_hdr(b, E6_ND_RA, E6_ND_RA_LEN);
    if (!p)
        return b->err;
    p[4] = ra->cur_hop_limit;
    /* RFC 4191 2.2: "If the Router Lifetime is zero, the preference value MUST be set to (00)" */
    p[5] = (uint8_t)(ra->flags | (ra->router_lifetime ? (unsigned)ra->prf << 3 : 0));
    e6_put16(p + 6, ra->router_lifetime);
    e6_put32(p + 8, ra->reachable);
    e6_put32(p + 12, ra->retrans);
    return 0;
}

int e6_nd_put_ns(struct e6_nd_builder *b, const struct in6_addr *target)
{
    if (b->err)
        return b->err;
    if (e6_addr_is_multicast(target))
        return fail(b, -EINVAL);
    uint8_t *p = put_hdr(b, E6_ND_NS, E6_ND_NS_LEN);
    if (p)
        memcpy(p + 8, target, 16);
    return b->err;
}

int e6_nd_put_na(struct e6_nd_builder *b, uint8_t flags, const struct in6_addr *target)
{
    if (b->err)
        return b->err;
    if ((flags & ~(E6_ND_NA_R | E6_ND_NA_S | E6_ND_NA_O)) || e6_addr_is_multicast(target))
        return fail(b, -EINVAL);
    uint8_t *p = put_hdr(b, E6_ND_NA, E6_ND_NA_LEN);
    if (p) {
        p[4] = flags;
        memcpy(p + 8, target, 16);
    }
    return b->err;
}

size_t e6_nd_lladdr_size(size_t ll_len)
{
    if (ll_len == 0 || ll_len > E6_ND_OPT_MAX_SIZE - 2)
        return 0;
    return roundup8(2 + ll_len);
}

int e6_nd_put_lladdr(struct e6_nd_builder *b, uint8_t type, const uint8_t *ll, size_t ll_len)
{
    if (b->err)
        return b->err;
    if ((type != E6_ND_OPT_SLLA && type != E6_ND_OPT_TLLA) || !ll)
        return fail(b, -EINVAL);
    uint8_t *o = put_opt(b, type, e6_nd_lladdr_size(ll_len));
    if (o) {
        memcpy(o + 2, ll, ll_len);
        if (type == E6_ND_OPT_SLLA)
            b->has_slla = true;
    }
    return b->err;
}

int e6_nd_put_pio(struct e6_nd_builder *b, const struct e6_nd_pio *p)
{
    if (b->err)
        return b->err;
    unsigned plen = p->prefix.len;
    if (plen > 128 || (p->flags & ~(E6_ND_PIO_L | E6_ND_PIO_A | E6_ND_PIO_R | E6_ND_PIO_P)) ||
        p->preferred > p->valid)
        return fail(b, -EINVAL);
    struct in6_addr field = p->prefix.addr;
    if (p->flags & E6_ND_PIO_R) {
        if (!e6_addr_match(&p->raw, &p->prefix.addr, plen))
            return fail(b, -EINVAL);
        field = p->raw;
    } else {
        e6_addr_mask(&field, plen);
    }
    uint8_t *o = put_opt(b, E6_ND_OPT_PIO, E6_ND_PIO_SIZE);
    if (!o)
        return b->err;
    o[2] = (uint8_t)plen;
    o[3] = p->flags;
    e6_put32(o + 4, p->valid);
    e6_put32(o + 8, p->preferred);
    memcpy(o + 16, &field, 16);
    return 0;
}

int e6_nd_put_mtu(struct e6_nd_builder *b, uint32_t mtu)
{
    if (b->err)
        return b->err;
    if (mtu < 1280)
        return fail(b, -EINVAL);
    uint8_t *o = put_opt(b, E6_ND_OPT_MTU, E6_ND_MTU_SIZE);
    if (o)
        e6_put32(o + 4, mtu);
    return b->err;
}

size_t e6_nd_rdnss_size(size_t n)
{
    if (n == 0 || n > (E6_ND_OPT_MAX_SIZE - 8) / 16)
        return 0;
    return 8 + 16 * n;
}

int e6_nd_put_rdnss(struct e6_nd_builder *b, uint32_t lifetime, const struct in6_addr *servers,
                    size_t n)
{
    if (b->err)
        return b->err;
    size_t size = e6_nd_rdnss_size(n);
    if (!size || !servers)
        return fail(b, -EINVAL);
    for (size_t i = 0; i < n; i++)
        if (e6_addr_is_unspecified(&servers[i]) || e6_addr_is_multicast(&servers[i]))
            return fail(b, -EINVAL);
    uint8_t *o = put_opt(b, E6_ND_OPT_RDNSS, size);
    if (!o)
        return b->err;
    e6_put32(o + 4, lifetime);
    for (size_t i = 0; i < n; i++)
        memcpy(o + 8 + 16 * i, &servers[i], 16);
    return 0;
}

/*
 * Encode a dotted name as RFC 1035 3.1 labels into out (when non-NULL).
 * Returns the wire length, or 0 with *why set.
 */
static size_t dns_encode(const char *name, uint8_t *out, const char **why)
{
    size_t n = strlen(name);
    /* a trailing dot only says the name is fully qualified, which search domains are */
    if (n && name[n - 1] == '.')
        n--;
    if (n == 0) {
        *why = "empty name or the root";
        return 0;
    }
    if (n > E6_ND_DNS_NAME_MAX) {
        *why = "name longer than 253 characters";
        return 0;
    }
    size_t w = 0, start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && name[i] != '.') {
            if (!dns_char_ok((uint8_t)name[i])) {
                *why = "character outside [A-Za-z0-9_-]";
                return 0;
            }
            continue;
        }
        size_t l = i - start;
        if (l == 0) {
            *why = "empty label";
            return 0;
        }
        if (l > 63) {
            *why = "label longer than 63 characters";
            return 0;
        }
        if (out) {
            out[w] = (uint8_t)l;
            memcpy(out + w + 1, name + start, l);
        }
        w += 1 + l;
        start = i + 1;
    }
    if (out)
        out[w] = 0;
    return w + 1;
}

bool e6_nd_dns_name_valid(const char *name, char *err, size_t errlen)
{
    const char *why = NULL;
    if (name && dns_encode(name, NULL, &why))
        return true;
    if (err && errlen) {
        const char *msg = name ? why : "no name";
        size_t l = strlen(msg);
        if (l >= errlen)
            l = errlen - 1;
        memcpy(err, msg, l);
        err[l] = '\0';
    }
    return false;
}

size_t e6_nd_dnssl_size(const char *const *names, size_t n)
{
    if (n == 0 || !names)
        return 0;
    size_t wire = 0;
    for (size_t i = 0; i < n; i++) {
        const char *why;
        if (!names[i])
            return 0;
        size_t w = dns_encode(names[i], NULL, &why);
        if (!w)
            return 0;
        wire += w;
        /* bail out early: n may be large and wire must not wrap */
        if (wire > E6_ND_OPT_MAX_SIZE)
            return 0;
    }
    size_t size = 8 + roundup8(wire);
    return size > E6_ND_OPT_MAX_SIZE ? 0 : size;
}

int e6_nd_put_dnssl(struct e6_nd_builder *b, uint32_t lifetime, const char *const *names, size_t n)
{
    if (b->err)
        return b->err;
    size_t size = e6_nd_dnssl_size(names, n);
    if (!size)
        return fail(b, -EINVAL);
    uint8_t *o = put_opt(b, E6_ND_OPT_DNSSL, size);
    if (!o)
        return b->err;
    e6_put32(o + 4, lifetime);
    size_t w = 8;
    for (size_t i = 0; i < n; i++) {
        const char *why;
        w += dns_encode(names[i], o + w, &why);
    }
    /* the rest is already zero: the padding RFC 8106 5.2 asks for */
    return 0;
}

size_t e6_nd_route_size(unsigned prefix_len)
{
    if (prefix_len > 128)
        return 0;
    if (prefix_len == 0)
        return 8;
    return prefix_len <= 64 ? 16 : 24;
}

int e6_nd_put_route(struct e6_nd_builder *b, const struct e6_nd_route *r)
{
    if (b->err)
        return b->err;
    size_t size = e6_nd_route_size(r->prefix.len);
    if (!size || (unsigned)r->prf > 3 || r->prf == E6_ND_PRF_RESERVED)
        return fail(b, -EINVAL);
    uint8_t *o = put_opt(b, E6_ND_OPT_RIO, size);
    if (!o)
        return b->err;
    struct in6_addr a = r->prefix.addr;
    e6_addr_mask(&a, r->prefix.len);
    o[2] = r->prefix.len;
    o[3] = (uint8_t)((unsigned)r->prf << 3);
    e6_put32(o + 4, r->lifetime);
    memcpy(o + 8, &a, size - 8);
    return 0;
}

uint16_t e6_nd_pref64_lifetime(uint32_t seconds)
{
    if (seconds >= 65528)
        return 65528;
    return (uint16_t)((seconds + 7) & ~7u);
}

int e6_nd_put_pref64(struct e6_nd_builder *b, uint32_t lifetime, const struct e6_prefix *p)
{
    if (b->err)
        return b->err;
    unsigned plc;
    for (plc = 0; plc < sizeof(pref64_plen); plc++)
        if (pref64_plen[plc] == p->len)
            break;
    if (plc == sizeof(pref64_plen))
        return fail(b, -EINVAL);
    uint8_t *o = put_opt(b, E6_ND_OPT_PREF64, E6_ND_PREF64_SIZE);
    if (!o)
        return b->err;
    struct in6_addr a = p->addr;
    e6_addr_mask(&a, p->len);
    e6_put16(o + 2, (uint16_t)(e6_nd_pref64_lifetime(lifetime) | plc));
    memcpy(o + 4, &a, 12);
    return 0;
}

bool e6_nd_captive_uri_valid(const char *uri)
{
    if (!uri)
        return false;
    size_t n = strlen(uri);
    if (n == 0 || n > E6_ND_OPT_MAX_SIZE - 2)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((uint8_t)uri[i] < 0x21 || (uint8_t)uri[i] > 0x7e)
            return false;
    return true;
}

size_t e6_nd_captive_size(const char *uri)
{
    if (!e6_nd_captive_uri_valid(uri))
        return 0;
    return roundup8(2 + strlen(uri));
}

int e6_nd_put_captive(struct e6_nd_builder *b, const char *uri)
{
    if (b->err)
        return b->err;
    size_t size = e6_nd_captive_size(uri);
    if (!size)
        return fail(b, -EINVAL);
    uint8_t *o = put_opt(b, E6_ND_OPT_CAPTIVE, size);
    if (o)
        memcpy(o + 2, uri, strlen(uri));
    return b->err;
}

size_t e6_nd_nonce_size(size_t len)
{
    if (len < 6 || len > E6_ND_OPT_MAX_SIZE - 2 || (len + 2) % 8)
        return 0;
    return len + 2;
}

int e6_nd_put_nonce(struct e6_nd_builder *b, const uint8_t *nonce, size_t len)
{
    if (b->err)
        return b->err;
    size_t size = e6_nd_nonce_size(len);
    if (!size || !nonce)
        return fail(b, -EINVAL);
    uint8_t *o = put_opt(b, E6_ND_OPT_NONCE, size);
    if (o)
        memcpy(o + 2, nonce, len);
    return b->err;
}

int e6_nd_build_finish(struct e6_nd_builder *b, const struct in6_addr *src,
                       const struct in6_addr *dst)
{
    if (b->err)
        return b->err;
    if (!b->type)
        return fail(b, -EINVAL);
    if (b->len > E6_IP6_MAX_PAYLOAD)
        return fail(b, -EMSGSIZE);
    bool unspec = e6_addr_is_unspecified(src);
    bool bad = e6_addr_is_multicast(src);
    switch (b->type) {
    case E6_ND_RA:
        bad |= !e6_addr_is_linklocal(src);
        break;
    case E6_ND_RS:
        bad |= unspec && b->has_slla;
        break;
    case E6_ND_NS:
        bad |= unspec && (b->has_slla || !e6_addr_is_solicited_node(dst));
        break;
    case E6_ND_NA:
        bad |= e6_addr_is_multicast(dst) && (b->buf[4] & E6_ND_NA_S);
        break;
    default:
        break;
    }
    if (bad)
        return fail(b, -EINVAL);
    e6_ip6_icmp6_cksum_set(src, dst, b->buf, b->len);
    return (int)b->len;
}
