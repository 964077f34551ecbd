/*
 * conf/schema: every key and section edge6d.conf knows, as data, and the
 * cross-field checks that are not generic. To add a key: one row in its
 * section's table (name, kind, default as text, flags, field, bounds) and
 * the field in conf.h; its type check, default, duplicate check, line
 * numbers and messages come from the row. To add a section: a definition
 * here, a conf_child_def row in its parent, and its struct in conf.h.
 * edge6d.conf(5) documents exactly these rows.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>

#include "config.h"
#include "common/nd.h"
#include "conf/internal.h"

#define KEYS(t)     (t), (sizeof(t) / sizeof((t)[0]))
#define CHILDREN(t) (t), (sizeof(t) / sizeof((t)[0]))

/* sun_path holds the socket path and its terminating NUL. */
#define SOCKET_PATH_MAX (sizeof(((struct sockaddr_un *)0)->sun_path) - 1)
#define DIR_PATH_MAX    4095 /* PATH_MAX - 1 */

static const struct conf_choice log_levels[] = {
    {"err", E6_LOG_ERR},   {"warning", E6_LOG_WARNING}, {"notice", E6_LOG_NOTICE},
    {"info", E6_LOG_INFO}, {"debug", E6_LOG_DEBUG},     {NULL, 0},
};

static const struct conf_choice tunnel_types[] = {
    {"6in4", CONF_TUNNEL_6IN4},
    {"6bed4", CONF_TUNNEL_6BED4},
    {NULL, 0},
};

/* ---- interface NAME { ... }: Router Advertisements ---- */

static const struct conf_choice preferences[] = {
    {"low", CONF_PREF_LOW},
    {"medium", CONF_PREF_MEDIUM},
    {"high", CONF_PREF_HIGH},
    {NULL, 0},
};

static const struct conf_choice mtu_words[] = {
    {"auto", CONF_MTU_AUTO},
    {"off", CONF_MTU_OFF},
    {NULL, 0},
};

#define LIFETIME_FINITE_MAX 4294967294UL /* 0xffffffff is infinity */
#define PREF64_LIFETIME_MAX 65528UL      /* 8191 x 8 s (RFC 8781 4) */
#define ROUTER_LIFETIME_CAP 9000UL       /* RFC 4861's old maximum */
#define RDNSS_MAX_SERVERS   127UL        /* (2040 - 8) / 16: one option (RFC 8106 5.1) */
#define URN_UNRESTRICTED    "urn:ietf:params:capport:unrestricted"

/* The checks of its children look up the interface's keys. */
static const struct conf_section_def interface_def;

static const struct conf_interface *parent_if(const void *parent)
{
    return parent;
}

/*
 * RFC 4861 6.2.1: 0.33 x Max when Max >= 9 s. Below that its "Max" default
 * would break its own 0.75 x Max ceiling, so take the ceiling; never below
 * the 3 s floor.
 */
static unsigned long default_min_interval(const void *self, const void *parent)
{
    unsigned long max = ((const struct conf_interface *)self)->max_interval, v;

    (void)parent;
    v = max >= 9 ? max / 3 : max * 3 / 4;
    return v < 3 ? 3 : v;
}

/*
 * 3 x Max (RFC 4861 6.2.1), capped at the old 9000 s maximum, but never
 * below Max: RFC 8319 allows Max up to 65535 s, and a router lifetime
 * shorter than the interval would lapse between two advertisements.
 */
static unsigned long default_router_lifetime(const void *self, const void *parent)
{
    unsigned long max = ((const struct conf_interface *)self)->max_interval;
    unsigned long v = 3 * max;

    (void)parent;
    if (v > ROUTER_LIFETIME_CAP)
        v = ROUTER_LIFETIME_CAP;
    return v < max ? max : v;
}

/* 3 x MaxRtrAdvInterval: RFC 8106 5.1's default for DNS options, used for routes too */
static unsigned long three_max_interval(const void *self, const void *parent)
{
    (void)self;
    return 3UL * parent_if(parent)->max_interval;
}

/* RFC 8781 4.1: 3 x MaxRtrAdvInterval, as far as the 13-bit field goes */
static unsigned long default_pref64_lifetime(const void *self, const void *parent)
{
    unsigned long v = three_max_interval(self, parent);
    return v > PREF64_LIFETIME_MAX ? PREF64_LIFETIME_MAX : v;
}

/*
 * RFC 8910 2: the option carries the URI of the captive portal API
 * (RFC 8908), which must be https; or the URN saying there is no portal.
 */
static bool captive_uri_check(const char *text, char *err, size_t errlen)
{
    if (!e6_nd_captive_uri_valid(text)) {
        snprintf(err, errlen,
                 "is not a URI that fits the option (1 to 2038 printable ASCII characters, no "
                 "spaces; RFC 8910 2.3)");
        return false;
    }
    if (strcmp(text, URN_UNRESTRICTED) == 0)
        return true;
    if (strncasecmp(text, "https://", 8) != 0 || text[8] == '\0' || text[8] == '/') {
        snprintf(err, errlen,
                 "is not an https:// URI of the captive portal API, nor " URN_UNRESTRICTED
                 " (RFC 8910 2, RFC 8908)");
        return false;
    }
    return true;
}

static bool dns_name_check(const char *text, char *err, size_t errlen)
{
    char why[128];

    if (e6_nd_dns_name_valid(text, why, sizeof(why)))
        return true;
    snprintf(err, errlen, "is not a domain name: %s (RFC 8106 5.2)", why);
    return false;
}

/* ---- helpers for the checks ---- */

static size_t key_index(const struct conf_section_def *d, const char *name)
{
    const struct conf_key_def *k = conf_schema_key(d, name);
    return k ? (size_t)(k - d->keys) : 0;
}

static const struct conf_key_state *key_state(const struct conf_check *ck, const char *name)
{
    return &ck->keys[key_index(ck->def, name)];
}

/* Where to point for a value: the key's line when written, else the title's. */
static unsigned line_of(const struct conf_check *ck, const char *name)
{
    const struct conf_key_state *st = key_state(ck, name);
    return st->line ? st->line : ck->line;
}

static bool bad(const struct conf_check *ck, const char *name)
{
    return key_state(ck, name)->bad;
}

static bool parent_bad(const struct conf_check *ck, const char *name)
{
    return ck->parent_keys[key_index(&interface_def, name)].bad;
}

static const char *name_or(const char *name, char *buf, size_t len)
{
    return name ? conf_quote(name, buf, len) : "(bad name)";
}

static bool prefix_ok(const struct e6_prefix *p)
{
    return p->len <= 128;
}

static bool overlaps(const struct e6_prefix *p, const char *text)
{
    struct e6_prefix q;
    if (!e6_prefix_parse(text, true, &q, NULL, 0))
        return false;
    return e6_prefix_covers(p, &q) || e6_prefix_covers(&q, p);
}

/*
 * An option whose lifetime is shorter than the time between two RAs lapses
 * on the hosts before the next RA renews it.
 */
static void check_outlives(const struct conf_check *ck, uint32_t lifetime, const char *what,
                           const char *rfc)
{
    const struct conf_interface *ifc = parent_if(ck->parent);
    char lt[16];

    if (bad(ck, "lifetime") || parent_bad(ck, "max-interval"))
        return;
    if (lifetime < ifc->max_interval)
        ck->error(ck->arg, line_of(ck, "lifetime"),
                  "%s lifetime %s is below max-interval %u: hosts would drop %s between two "
                  "advertisements (%s)",
                  ck->def->name, conf_lifetime_text(lifetime, lt, sizeof(lt)), ifc->max_interval,
                  what, rfc);
}

/* ---- checks, per section ---- */

static void check_interface(const struct conf_check *ck)
{
    const struct conf_interface *i = ck->elem;

    if (!bad(ck, "min-interval") && !bad(ck, "max-interval") &&
        4UL * i->min_interval > 3UL * i->max_interval)
        ck->error(ck->arg, line_of(ck, "min-interval"),
                  "min-interval %u is above 0.75 x max-interval %u (at most %u, RFC 4861 "
                  "6.2.1)",
                  i->min_interval, i->max_interval, i->max_interval * 3 / 4);
    if (!bad(ck, "router-lifetime") && !bad(ck, "max-interval") && i->router_lifetime != 0 &&
        i->router_lifetime < i->max_interval)
        ck->error(ck->arg, line_of(ck, "router-lifetime"),
                  "router-lifetime %u is below max-interval %u (expected 0, or %u to 65535: "
                  "RFC 4861 6.2.1, RFC 8319)",
                  i->router_lifetime, i->max_interval, i->max_interval);
}

static void check_prefix(const struct conf_check *ck)
{
    const struct conf_ra_prefix *p = ck->elem;
    char b[E6_PREFIXSTRLEN], v[16], pr[16];

    if (!p->is_auto && prefix_ok(&p->prefix)) {
        e6_prefix_format(&p->prefix, b, sizeof(b));
        if (p->prefix.len == 0)
            ck->error(ck->arg, ck->line,
                      "prefix %s covers every address; expected a prefix of this link (the "
                      "default route comes from router-lifetime; RFC 4861 4.6.2)",
                      b);
        else if (overlaps(&p->prefix, "fe80::/10"))
            ck->error(ck->arg, ck->line,
                      "prefix %s is link-local (fe80::/10): hosts form those addresses "
                      "themselves (RFC 4861 6.2.1, RFC 4862 5.3)",
                      b);
        else if (overlaps(&p->prefix, "ff00::/8"))
            ck->error(ck->arg, ck->line, "prefix %s is multicast (ff00::/8; RFC 4291 2.7)", b);
        else if (p->autonomous && !bad(ck, "autonomous") && p->prefix.len != 64)
            ck->error(ck->arg, line_of(ck, "autonomous"),
                      "prefix %s: autonomous prefix must be /64 for SLAAC (RFC 4862 5.5.3, "
                      "RFC 7421); set autonomous = no to advertise it on-link only",
                      b);
    }
    if (!bad(ck, "preferred-lifetime") && !bad(ck, "valid-lifetime") &&
        p->preferred_lifetime > p->valid_lifetime)
        ck->error(ck->arg,
                  key_state(ck, "preferred-lifetime")->line ? line_of(ck, "preferred-lifetime")
                                                            : line_of(ck, "valid-lifetime"),
                  "preferred-lifetime %s is above valid-lifetime %s (RFC 4861 4.6.2)",
                  conf_lifetime_text(p->preferred_lifetime, pr, sizeof(pr)),
                  conf_lifetime_text(p->valid_lifetime, v, sizeof(v)));
    else if (p->decrement && !bad(ck, "decrement") &&
             (p->valid_lifetime == CONF_LIFETIME_INFINITY ||
              p->preferred_lifetime == CONF_LIFETIME_INFINITY))
        ck->error(ck->arg, line_of(ck, "decrement"),
                  "decrement = yes counts lifetimes down, but %s is infinity (RFC 4861 "
                  "6.2.1)",
                  p->valid_lifetime == CONF_LIFETIME_INFINITY ? "valid-lifetime"
                                                              : "preferred-lifetime");
}

static void check_route(const struct conf_check *ck)
{
    const struct conf_ra_route *r = ck->elem;
    char b[E6_PREFIXSTRLEN];

    if (prefix_ok(&r->prefix)) {
        e6_prefix_format(&r->prefix, b, sizeof(b));
        if (r->prefix.len > 0 && overlaps(&r->prefix, "fe80::/10"))
            ck->error(ck->arg, ck->line,
                      "route %s is link-local (fe80::/10): it is on every link already "
                      "(RFC 4191 2.3)",
                      b);
        else if (r->prefix.len > 0 && overlaps(&r->prefix, "ff00::/8"))
            ck->error(ck->arg, ck->line, "route %s is multicast (ff00::/8; RFC 4291 2.7)", b);
    }
    check_outlives(ck, r->lifetime, "the route", "RFC 4191 2.3");
}

static void check_rdnss(const struct conf_check *ck)
{
    const struct conf_ra_rdnss *r = ck->elem;
    check_outlives(ck, r->lifetime, "the servers", "RFC 8106 5.1");
}

static void check_dnssl(const struct conf_check *ck)
{
    const struct conf_ra_dnssl *d = ck->elem;

    if (!bad(ck, "domains") && d->n_domains > 0 &&
        e6_nd_dnssl_size((const char *const *)d->domains, d->n_domains) == 0)
        ck->error(ck->arg, line_of(ck, "domains"),
                  "domains do not fit in one DNSSL option (%d bytes, RFC 8106 5.2); split "
                  "them over several dnssl sections",
                  E6_ND_OPT_MAX_SIZE);
    check_outlives(ck, d->lifetime, "the search list", "RFC 8106 5.1");
}

static void check_pref64(const struct conf_check *ck)
{
    const struct conf_ra_pref64 *p = ck->elem;
    char b[E6_PREFIXSTRLEN];

    if (prefix_ok(&p->prefix)) {
        unsigned l = p->prefix.len;
        e6_prefix_format(&p->prefix, b, sizeof(b));
        if (l != 32 && l != 40 && l != 48 && l != 56 && l != 64 && l != 96)
            ck->error(ck->arg, ck->line,
                      "pref64 %s: length /%u is not one of /32, /40, /48, /56, /64, /96 "
                      "(RFC 8781 4, RFC 6052 2.2)",
                      b, l);
        else if (l == 96 && p->prefix.addr.s6_addr[8] != 0)
            ck->error(ck->arg, ck->line, "pref64 %s: bits 64 to 71 must be zero (RFC 6052 2.2)", b);
    }
    check_outlives(ck, p->lifetime, "the NAT64 prefix", "RFC 8781 4.1");
}

static const struct conf_key_def prefix_keys[] = {
    {.name = "on-link",
     .kind = CONF_K_BOOL,
     .def = "yes",
     .offset = offsetof(struct conf_ra_prefix, on_link)},
    {.name = "autonomous",
     .kind = CONF_K_BOOL,
     .def = "yes",
     .offset = offsetof(struct conf_ra_prefix, autonomous)},
    {.name = "valid-lifetime",
     .kind = CONF_K_LIFETIME,
     .def = "5400", /* RFC 9096 ND_VALID_LIMIT */
     .flags = CONF_KF_INFINITY,
     .offset = offsetof(struct conf_ra_prefix, valid_lifetime),
     .max = LIFETIME_FINITE_MAX,
     .rfc = "RFC 4861 4.6.2"},
    {.name = "preferred-lifetime",
     .kind = CONF_K_LIFETIME,
     .def = "2700", /* RFC 9096 ND_PREFERRED_LIMIT */
     .flags = CONF_KF_INFINITY,
     .offset = offsetof(struct conf_ra_prefix, preferred_lifetime),
     .max = LIFETIME_FINITE_MAX,
     .rfc = "RFC 4861 4.6.2"},
    {.name = "decrement",
     .kind = CONF_K_BOOL,
     .def = "no",
     .offset = offsetof(struct conf_ra_prefix, decrement)},
};

/* prefix P/L { } or prefix auto { } */
static const struct conf_section_def prefix_def = {
    .name = "prefix",
    .title = CONF_T_PREFIX_AUTO,
    .title_help = "PREFIX",
    .size = sizeof(struct conf_ra_prefix),
    .off_title = offsetof(struct conf_ra_prefix, prefix),
    .off_line = offsetof(struct conf_ra_prefix, line),
    .off_auto = offsetof(struct conf_ra_prefix, is_auto),
    .check = check_prefix,
    .keys = KEYS(prefix_keys),
};

static const struct conf_key_def route_keys[] = {
    {.name = "preference",
     .kind = CONF_K_ENUM,
     .def = "medium",
     .offset = offsetof(struct conf_ra_route, preference),
     .choices = preferences},
    {.name = "lifetime",
     .kind = CONF_K_LIFETIME,
     .flags = CONF_KF_INFINITY | CONF_KF_PARENT,
     .offset = offsetof(struct conf_ra_route, lifetime),
     .min = 1,
     .max = LIFETIME_FINITE_MAX,
     .rfc = "RFC 4191 2.3",
     .derive = three_max_interval},
};

static const struct conf_section_def route_def = {
    .name = "route",
    .title = CONF_T_PREFIX,
    .title_help = "PREFIX",
    .size = sizeof(struct conf_ra_route),
    .off_title = offsetof(struct conf_ra_route, prefix),
    .off_line = offsetof(struct conf_ra_route, line),
    .check = check_route,
    .keys = KEYS(route_keys),
};

static const struct conf_key_def rdnss_keys[] = {
    {.name = "servers",
     .kind = CONF_K_ADDRLIST,
     .flags = CONF_KF_REQUIRED | CONF_KF_AUTO,
     .offset = offsetof(struct conf_ra_rdnss, servers),
     .off_count = offsetof(struct conf_ra_rdnss, n_servers),
     .off_aux = offsetof(struct conf_ra_rdnss, self),
     .min = 1,
     .max = RDNSS_MAX_SERVERS,
     .rfc = "RFC 8106 5.1"},
    {.name = "lifetime",
     .kind = CONF_K_LIFETIME,
     .flags = CONF_KF_INFINITY | CONF_KF_PARENT,
     .offset = offsetof(struct conf_ra_rdnss, lifetime),
     .min = 1,
     .max = LIFETIME_FINITE_MAX,
     .rfc = "RFC 8106 5.1",
     .derive = three_max_interval},
};

static const struct conf_section_def rdnss_def = {
    .name = "rdnss",
    .size = sizeof(struct conf_ra_rdnss),
    .off_line = offsetof(struct conf_ra_rdnss, line),
    .check = check_rdnss,
    .keys = KEYS(rdnss_keys),
};

static const struct conf_key_def dnssl_keys[] = {
    {.name = "domains",
     .kind = CONF_K_STRLIST,
     .flags = CONF_KF_REQUIRED,
     .offset = offsetof(struct conf_ra_dnssl, domains),
     .off_count = offsetof(struct conf_ra_dnssl, n_domains),
     .min = 1,
     .max = 1000, /* the real bound is the option size, checked on the whole list */
     .rfc = "RFC 8106 5.2",
     .check = dns_name_check},
    {.name = "lifetime",
     .kind = CONF_K_LIFETIME,
     .flags = CONF_KF_INFINITY | CONF_KF_PARENT,
     .offset = offsetof(struct conf_ra_dnssl, lifetime),
     .min = 1,
     .max = LIFETIME_FINITE_MAX,
     .rfc = "RFC 8106 5.2",
     .derive = three_max_interval},
};

static const struct conf_section_def dnssl_def = {
    .name = "dnssl",
    .size = sizeof(struct conf_ra_dnssl),
    .off_line = offsetof(struct conf_ra_dnssl, line),
    .check = check_dnssl,
    .keys = KEYS(dnssl_keys),
};

static const struct conf_key_def pref64_keys[] = {
    {.name = "lifetime",
     .kind = CONF_K_LIFETIME,
     .flags = CONF_KF_PARENT,
     .offset = offsetof(struct conf_ra_pref64, lifetime),
     .min = 1,
     .max = PREF64_LIFETIME_MAX,
     .rfc = "RFC 8781 4",
     .derive = default_pref64_lifetime},
};

static const struct conf_section_def pref64_def = {
    .name = "pref64",
    .title = CONF_T_PREFIX,
    .title_help = "PREFIX",
    .size = sizeof(struct conf_ra_pref64),
    .off_title = offsetof(struct conf_ra_pref64, prefix),
    .off_line = offsetof(struct conf_ra_pref64, line),
    .check = check_pref64,
    .keys = KEYS(pref64_keys),
};

static const struct conf_key_def interface_keys[] = {
    {.name = "advertise",
     .kind = CONF_K_BOOL,
     .def = "yes",
     .offset = offsetof(struct conf_interface, advertise)},
    {.name = "max-interval",
     .kind = CONF_K_UINT,
     .def = "600",
     .offset = offsetof(struct conf_interface, max_interval),
     .min = 4,
     .max = 65535,
     .rfc = "RFC 4861 6.2.1, RFC 8319"},
    {.name = "min-interval",
     .kind = CONF_K_UINT,
     .offset = offsetof(struct conf_interface, min_interval),
     .min = 3,
     .max = 49151, /* 0.75 x 65535; the real ceiling is checked against max-interval */
     .rfc = "RFC 4861 6.2.1",
     .derive = default_min_interval},
    {.name = "router-lifetime",
     .kind = CONF_K_UINT,
     .offset = offsetof(struct conf_interface, router_lifetime),
     .max = 65535,
     .rfc = "RFC 4861 6.2.1, RFC 8319",
     .derive = default_router_lifetime},
    {.name = "router-preference",
     .kind = CONF_K_ENUM,
     .def = "medium",
     .offset = offsetof(struct conf_interface, router_preference),
     .choices = preferences},
    {.name = "cur-hop-limit",
     .kind = CONF_K_UINT,
     .def = "64",
     .offset = offsetof(struct conf_interface, cur_hop_limit),
     .max = 255,
     .rfc = "RFC 4861 4.2"},
    {.name = "managed",
     .kind = CONF_K_BOOL,
     .def = "no",
     .offset = offsetof(struct conf_interface, managed)},
    {.name = "other-config",
     .kind = CONF_K_BOOL,
     .def = "no",
     .offset = offsetof(struct conf_interface, other_config)},
    {.name = "reachable-time",
     .kind = CONF_K_UINT,
     .def = "0",
     .offset = offsetof(struct conf_interface, reachable_time),
     .max = 3600000,
     .rfc = "RFC 4861 6.2.1"},
    {.name = "retrans-timer",
     .kind = CONF_K_UINT,
     .def = "0",
     .offset = offsetof(struct conf_interface, retrans_timer),
     .max = 4294967295UL,
     .rfc = "RFC 4861 4.2"},
    {.name = "mtu",
     .kind = CONF_K_ENUM_UINT,
     .def = "auto",
     .offset = offsetof(struct conf_interface, mtu_mode),
     .off_aux = offsetof(struct conf_interface, mtu),
     .aux_value = CONF_MTU_VALUE,
     .choices = mtu_words,
     .min = 1280,
     .max = 65535,
     .rfc = "RFC 8200 5, RFC 4861 4.6.4"},
    {.name = "source-lladdr",
     .kind = CONF_K_TRISTATE,
     .def = "auto",
     .offset = offsetof(struct conf_interface, source_lladdr)},
    {.name = "solicited-unicast",
     .kind = CONF_K_BOOL,
     .def = "yes",
     .offset = offsetof(struct conf_interface, solicited_unicast)},
    {.name = "withdraw-on-exit",
     .kind = CONF_K_BOOL,
     .def = "no",
     .offset = offsetof(struct conf_interface, withdraw_on_exit)},
    {.name = "captive-portal",
     .kind = CONF_K_STRING,
     .offset = offsetof(struct conf_interface, captive_portal),
     .check = captive_uri_check},
};

static const struct conf_child_def interface_children[] = {
    {&prefix_def, offsetof(struct conf_interface, prefixes),
     offsetof(struct conf_interface, n_prefixes)},
    {&route_def, offsetof(struct conf_interface, routes),
     offsetof(struct conf_interface, n_routes)},
    {&rdnss_def, offsetof(struct conf_interface, rdnss), offsetof(struct conf_interface, n_rdnss)},
    {&dnssl_def, offsetof(struct conf_interface, dnssl), offsetof(struct conf_interface, n_dnssl)},
    {&pref64_def, offsetof(struct conf_interface, pref64),
     offsetof(struct conf_interface, n_pref64)},
};

/* interface NAME { }: Router Advertisements on NAME */
static const struct conf_section_def interface_def = {
    .name = "interface",
    .title = CONF_T_IFNAME,
    .title_help = "NAME",
    .size = sizeof(struct conf_interface),
    .off_title = offsetof(struct conf_interface, name),
    .off_line = offsetof(struct conf_interface, line),
    .check = check_interface,
    .keys = KEYS(interface_keys),
    .children = CHILDREN(interface_children),
};

/* ---- proxy NAME { ... rule PREFIX { ... } }: the NDP proxy ---- */

static const struct conf_choice proxy_methods[] = {
    {"static", CONF_PROXY_STATIC},
    {"iface", CONF_PROXY_IFACE},
    {"auto", CONF_PROXY_AUTO},
    {"6bed4", CONF_PROXY_6BED4},
    {"tunnel", CONF_PROXY_TUNNEL},
    {"exclude", CONF_PROXY_EXCLUDE},
    {NULL, 0},
};

static const struct conf_choice na_sources[] = {
    {"link-local", CONF_NA_SRC_LINKLOCAL},
    {"target", CONF_NA_SRC_TARGET},
    {NULL, 0},
};

/*
 * Below /120 (256 addresses) a static rule lets whoever scans the prefix
 * fill the upstream router's neighbour cache through us (RFC 6583).
 */
#define STATIC_NARROWEST_WIDE 120
#define PROXY_6BED4_LEN       64 /* the 6bed4 /64; the port word is bits 96..111 */

static bool ifname_check(const char *text, char *err, size_t errlen)
{
    if (conf_ifname_valid(text))
        return true;
    snprintf(err, errlen,
             "is not a valid interface name (1 to 15 characters, none of \"/\", \":\", \"%%\", "
             "spaces or control characters, not \".\" or \"..\")");
    return false;
}

/* Set in the file and accepted: the value in the struct is the file's. */
static bool written(const struct conf_check *ck, const char *name)
{
    const struct conf_key_state *st = key_state(ck, name);
    return st->line != 0 && !st->bad;
}

/* A key the rule's method does not use, written anyway. */
static void rule_stray_key(const struct conf_check *ck, const char *key, const char *methods,
                           const char *b)
{
    const struct conf_rule *r = ck->elem;

    if (!written(ck, key))
        return;
    if (r->method == CONF_PROXY_EXCLUDE)
        ck->error(ck->arg, line_of(ck, key),
                  "rule %s: method exclude takes no %s (an excluded prefix is never answered; "
                  "expected no key but method)",
                  b, key);
    else
        ck->error(ck->arg, line_of(ck, key),
                  "rule %s: %s goes only with method %s, not with method %s (expected no %s "
                  "here)",
                  b, key, methods, conf_proxy_method_name(r->method), key);
}

static void check_rule(const struct conf_check *ck)
{
    const struct conf_rule *r = ck->elem;
    const struct conf_proxy *p = ck->parent;
    char b[E6_PREFIXSTRLEN], q[CONF_QUOTE_BUF];
    bool pfx = prefix_ok(&r->prefix);

    if (pfx)
        e6_prefix_format(&r->prefix, b, sizeof(b));
    else
        snprintf(b, sizeof(b), "at line %u", ck->line);
    if (pfx && r->prefix.len >= 8 && overlaps(&r->prefix, "ff00::/8"))
        ck->error(ck->arg, ck->line,
                  "rule %s is multicast (ff00::/8): a Neighbor Solicitation never asks for a "
                  "multicast target (RFC 4861 7.1.1)",
                  b);
    /* without a method (reported already) nothing else can be judged */
    if (!written(ck, "method"))
        return;

    if (r->method == CONF_PROXY_IFACE) {
        if (!key_state(ck, "iface")->line)
            ck->error(ck->arg, ck->line,
                      "rule %s: method iface needs the interface its targets are confirmed on "
                      "(expected iface = NAME)",
                      b);
        else if (written(ck, "iface") && p->name && strcmp(r->iface, p->name) == 0)
            ck->error(ck->arg, line_of(ck, "iface"),
                      "rule %s: iface %s is the proxied interface itself: answering there for "
                      "targets confirmed there would loop (expected the interface the prefix "
                      "lives behind)",
                      b, conf_quote(r->iface, q, sizeof(q)));
    } else {
        rule_stray_key(ck, "iface", "iface", b);
    }

    if (r->method == CONF_PROXY_TUNNEL) {
        if (!key_state(ck, "tunnel")->line)
            ck->error(ck->arg, ck->line,
                      "rule %s: method tunnel needs the 6in4 tunnel whose clients it answers "
                      "for (expected tunnel = NAME of a tunnel with type = 6in4, RFC 4213)",
                      b);
    } else if (r->method != CONF_PROXY_6BED4) {
        rule_stray_key(ck, "tunnel", "tunnel or 6bed4", b);
    }

    if (r->method == CONF_PROXY_STATIC) {
        if (pfx && r->prefix.len < STATIC_NARROWEST_WIDE && !r->allow_wide &&
            !bad(ck, "allow-wide"))
            ck->error(ck->arg, line_of(ck, "allow-wide"),
                      "rule %s: a static rule this wide makes the upstream router cache every "
                      "address anyone scans in it (RFC 6583); use method iface or auto, or set "
                      "allow-wide = yes (expected /%d or longer without it)",
                      b, STATIC_NARROWEST_WIDE);
    } else {
        rule_stray_key(ck, "allow-wide", "static", b);
    }

    if (r->method == CONF_PROXY_6BED4 && pfx && r->prefix.len != PROXY_6BED4_LEN)
        ck->error(ck->arg, ck->line,
                  "rule %s: a 6bed4 rule is the 6bed4 /64 itself, its port word being bits 96 "
                  "to 111 (expected a /64 prefix)",
                  b);
}

static const struct conf_section_def tunnel_def;

/*
 * A 6bed4 rule answers for the peers of one router: the tunnel must be a
 * router, and the rule its /64 (a rule of another length is reported by
 * check_rule).
 */
static void check_rule_6bed4(const struct conf_check *ck, const struct conf_tunnel *t,
                             const char *b, const char *q)
{
    const struct conf_rule *r = ck->elem;
    const struct conf_key_state *tk = ck->keys_of ? ck->keys_of(ck->arg, t) : NULL;
    const struct conf_key_state *mode = tk ? &tk[key_index(&tunnel_def, "mode")] : NULL;
    const struct conf_key_state *pfx = tk ? &tk[key_index(&tunnel_def, "prefix")] : NULL;
    char tb[E6_PREFIXSTRLEN];

    /* a 6in4 mode in a 6bed4 tunnel is reported at the tunnel */
    if (!mode || !mode->line || mode->bad ||
        (t->mode != CONF_TUN_ROUTER && t->mode != CONF_TUN_PEER))
        return;
    if (t->mode == CONF_TUN_PEER) {
        ck->error(ck->arg, line_of(ck, "tunnel"),
                  "rule %s: tunnel %s (line %u) is not a 6bed4 router (mode = peer); method 6bed4 "
                  "answers for a router's peers (expected the name of a 6bed4 tunnel with mode = "
                  "router)",
                  b, q, t->line);
        return;
    }
    if (!pfx->line || pfx->bad || !prefix_ok(&r->prefix) || r->prefix.len != PROXY_6BED4_LEN)
        return;
    if (!e6_prefix_equal(&r->prefix, &t->prefix))
        ck->error(ck->arg, ck->line,
                  "rule %s: tunnel %s (line %u) serves prefix %s, not %s (expected rule %s, the "
                  "/64 of that router's peers)",
                  b, q, t->line, e6_prefix_format(&t->prefix, tb, sizeof(tb)), b, tb);
}

/* The tunnel a rule names may be defined anywhere in the file. */
static void check_rule_tunnel(const struct conf_check *ck)
{
    const struct conf_rule *r = ck->elem;
    const struct conf_tunnel *t;
    enum conf_tunnel_type want;
    char b[E6_PREFIXSTRLEN], q[CONF_QUOTE_BUF];

    if (!written(ck, "method") || !written(ck, "tunnel"))
        return;
    if (r->method == CONF_PROXY_TUNNEL)
        want = CONF_TUNNEL_6IN4;
    else if (r->method == CONF_PROXY_6BED4)
        want = CONF_TUNNEL_6BED4;
    else
        return; /* reported by check_rule */
    if (prefix_ok(&r->prefix))
        e6_prefix_format(&r->prefix, b, sizeof(b));
    else
        snprintf(b, sizeof(b), "at line %u", ck->line);
    conf_quote(r->tunnel, q, sizeof(q));
    t = conf_find_tunnel(ck->root, r->tunnel);
    if (!t)
        ck->error(ck->arg, line_of(ck, "tunnel"),
                  "rule %s: tunnel %s is not a tunnel section of this file (expected the name "
                  "of a tunnel with type = %s, %s)",
                  b, q, conf_tunnel_type_name(want),
                  want == CONF_TUNNEL_6IN4 ? "RFC 4213" : "draft-vanrein-6bed4");
    else if (t->type != want)
        ck->error(ck->arg, line_of(ck, "tunnel"),
                  "rule %s: tunnel %s (line %u) is a %s tunnel; method %s needs a %s tunnel "
                  "(expected the name of a tunnel with type = %s)",
                  b, q, t->line, conf_tunnel_type_name(t->type), conf_proxy_method_name(r->method),
                  conf_tunnel_type_name(want), conf_tunnel_type_name(want));
    else if (want == CONF_TUNNEL_6BED4)
        check_rule_6bed4(ck, t, b, q);
}

static const struct conf_key_def rule_keys[] = {
    {.name = "method",
     .kind = CONF_K_ENUM,
     .flags = CONF_KF_REQUIRED,
     .offset = offsetof(struct conf_rule, method),
     .choices = proxy_methods},
    {.name = "iface",
     .kind = CONF_K_STRING,
     .offset = offsetof(struct conf_rule, iface),
     .check = ifname_check},
    {.name = "tunnel",
     .kind = CONF_K_STRING,
     .offset = offsetof(struct conf_rule, tunnel),
     .check = ifname_check},
    {.name = "allow-wide",
     .kind = CONF_K_BOOL,
     .def = "no",
     .offset = offsetof(struct conf_rule, allow_wide)},
};

/* rule PREFIX { }: inside proxy */
static const struct conf_section_def rule_def = {
    .name = "rule",
    .title = CONF_T_PREFIX,
    .title_help = "PREFIX",
    .size = sizeof(struct conf_rule),
    .off_title = offsetof(struct conf_rule, prefix),
    .off_line = offsetof(struct conf_rule, line),
    .check = check_rule,
    .late_check = check_rule_tunnel,
    .keys = KEYS(rule_keys),
};

/* The key of those written last, for a message about how they combine. */
static unsigned last_line(const struct conf_check *ck, const char *const *names, size_t n)
{
    unsigned line = 0;

    for (size_t i = 0; i < n; i++)
        if (key_state(ck, names[i])->line > line)
            line = key_state(ck, names[i])->line;
    return line ? line : ck->line;
}

static void check_proxy(const struct conf_check *ck)
{
    static const char *const timing[] = {"retrans-time", "retrans-limit", "valid-ttl"};
    const struct conf_proxy *p = ck->elem;
    char q[CONF_QUOTE_BUF];

    if (p->n_rules == 0)
        ck->error(ck->arg, ck->line,
                  "proxy %s has no rule, so it would answer nothing (expected at least one "
                  "rule PREFIX { method = ... })",
                  p->name ? conf_quote(p->name, q, sizeof(q)) : "section");
    if (!bad(ck, "retrans-time") && !bad(ck, "retrans-limit") && !bad(ck, "valid-ttl") &&
        (unsigned long)p->retrans_time * p->retrans_limit >= 1000UL * p->valid_ttl)
        ck->error(ck->arg, last_line(ck, timing, sizeof(timing) / sizeof(timing[0])),
                  "retrans-time %u ms x retrans-limit %u is not shorter than valid-ttl %u s: a "
                  "confirmed target would expire before its refresh could confirm it again "
                  "(expected retrans-time x retrans-limit < valid-ttl x 1000, RFC 4861 7.3.3)",
                  p->retrans_time, p->retrans_limit, p->valid_ttl);
}

static const struct conf_key_def proxy_keys[] = {
    {.name = "router",
     .kind = CONF_K_BOOL,
     .def = "yes",
     .offset = offsetof(struct conf_proxy, router)},
    {.name = "source",
     .kind = CONF_K_ENUM,
     .def = "link-local",
     .offset = offsetof(struct conf_proxy, na_source),
     .choices = na_sources},
    {.name = "target-lladdr",
     .kind = CONF_K_MAC,
     .offset = offsetof(struct conf_proxy, target_lladdr),
     .off_aux = offsetof(struct conf_proxy, has_target_lladdr)},
    {.name = "sessions",
     .kind = CONF_K_UINT,
     .def = "8192",
     .offset = offsetof(struct conf_proxy, sessions),
     .min = 16,
     .max = 1048576},
    {.name = "valid-ttl",
     .kind = CONF_K_LIFETIME,
     .def = "30",
     .offset = offsetof(struct conf_proxy, valid_ttl),
     .min = 10,
     .max = 3600},
    {.name = "invalid-ttl",
     .kind = CONF_K_LIFETIME,
     .def = "5",
     .offset = offsetof(struct conf_proxy, invalid_ttl),
     .min = 1,
     .max = 3600},
    {.name = "retrans-time",
     .kind = CONF_K_UINT,
     .def = "1000", /* RETRANS_TIMER */
     .offset = offsetof(struct conf_proxy, retrans_time),
     .min = 100,
     .max = 10000,
     .rfc = "RFC 4861 10"},
    {.name = "retrans-limit",
     .kind = CONF_K_UINT,
     .def = "3", /* MAX_MULTICAST_SOLICIT */
     .offset = offsetof(struct conf_proxy, retrans_limit),
     .min = 1,
     .max = 10,
     .rfc = "RFC 4861 10"},
    {.name = "probe-rate",
     .kind = CONF_K_UINT,
     .def = "100",
     .offset = offsetof(struct conf_proxy, probe_rate),
     .min = 1,
     .max = 100000},
    {.name = "answer-delay",
     .kind = CONF_K_UINT,
     .def = "0",
     .offset = offsetof(struct conf_proxy, answer_delay),
     .max = CONF_PROXY_MAX_DELAY_MS,
     .rfc = "RFC 4861 7.2.8, MAX_ANYCAST_DELAY_TIME"},
    {.name = "kernel-offload",
     .kind = CONF_K_BOOL,
     .def = "no",
     .offset = offsetof(struct conf_proxy, kernel_offload)},
    {.name = "autowire",
     .kind = CONF_K_BOOL,
     .def = "no",
     .offset = offsetof(struct conf_proxy, autowire)},
};

static const struct conf_child_def proxy_children[] = {
    {&rule_def, offsetof(struct conf_proxy, rules), offsetof(struct conf_proxy, n_rules)},
};

static const struct conf_section_def proxy_def = {
    .name = "proxy",
    .title = CONF_T_IFNAME,
    .title_help = "NAME",
    .size = sizeof(struct conf_proxy),
    .off_title = offsetof(struct conf_proxy, name),
    .off_line = offsetof(struct conf_proxy, line),
    .check = check_proxy,
    .keys = KEYS(proxy_keys),
    .children = CHILDREN(proxy_children),
};

/* ---- tunnel NAME { type = 6in4 ... client NAME { ... } }: 6in4, RFC 4213 ---- */

static const struct conf_choice tunnel_modes[] = {
    {"server", CONF_TUN_SERVER},
    {"client", CONF_TUN_CLIENT},
    {"router", CONF_TUN_ROUTER},
    {"peer", CONF_TUN_PEER},
    {NULL, 0},
};

static const struct conf_choice pmtu_modes[] = {
    {"static", CONF_PMTU_STATIC},
    {"dynamic", CONF_PMTU_DYNAMIC},
    {NULL, 0},
};

#define TUNNEL_MTU_MIN 1280 /* the IPv6 minimum link MTU (RFC 8200 5) */
#define TUNNEL_MTU_MAX 1480 /* 1500 less the 20-byte IPv4 header (RFC 4213 3.2) */
#define LINK_PLEN_MIN  64   /* a tunnel-broker link is a /64 ... */
#define LINK_PLEN_MAX  127  /* ... or a point-to-point /127 (RFC 6164) */
#define ROUTED_LEN_MAX 64   /* hosts behind the client need a /64 for SLAAC */
#define ROUTED_MAX     256  /* routed prefixes per client */
#define OVERLAPS_TOLD  CONF_MAX_ERRORS

/* 6bed4 (draft-vanrein-6bed4; common/sixbed4.h) */
#define SIXBED4_PORT   "25790" /* the reference router's and peer's */
#define SIXBED4_MTU    1280    /* the only MTU the reference router and peers use */
#define SIXBED4_PLEN   64      /* the peers' /64: then IPv4 address, port and lanip */
#define SIXBED4_ROUTES 16      /* Route Information options in one RA to a peer */
#define SIXBED4_PEERS  1048576 /* peer table bound */
#define SIXBED4_DRAFT  "draft-vanrein-6bed4"

/* The checks of clients look up the tunnel's keys, the late ones a client's. */
static const struct conf_section_def tunnel_def;
static const struct conf_section_def client_def;

/*
 * The server's end of a link when server-address is not written: ::1 of the
 * prefix (tunnel brokers give the server ::1 and the client ::2 of a /64),
 * the other address of a /127. All zero while client-address is unset or
 * refused: the checks skip it then.
 */
static void default_server_address(struct in6_addr *out, const struct in6_addr *client,
                                   unsigned plen)
{
    memset(out, 0, sizeof(*out));
    if (plen < LINK_PLEN_MIN || plen > LINK_PLEN_MAX)
        return;
    *out = *client;
    if (plen == LINK_PLEN_MAX) {
        out->s6_addr[15] ^= 1;
        return;
    }
    e6_addr_mask(out, plen);
    out->s6_addr[15] |= 1;
}

static void derive_client_server_address(void *field, const void *self, const void *parent)
{
    const struct conf_tunnel_client *cl = self;
    struct in6_addr a;

    (void)parent;
    default_server_address(&a, &cl->client_address, cl->client_plen);
    memcpy(field, &a, sizeof(a));
}

/* 1480 for 6in4 (RFC 4213 3.2); 6bed4 knows only 1280 */
static unsigned long default_tunnel_mtu(const void *self, const void *parent)
{
    (void)parent;
    return ((const struct conf_tunnel *)self)->type == CONF_TUNNEL_6BED4 ? SIXBED4_MTU
                                                                         : TUNNEL_MTU_MAX;
}

static void derive_tunnel_server_address(void *field, const void *self, const void *parent)
{
    const struct conf_tunnel *t = self;
    struct in6_addr a;

    (void)parent;
    default_server_address(&a, &t->client_address, t->client_plen);
    memcpy(field, &a, sizeof(a));
}

static const char *v4text(struct in_addr a, char *buf)
{
    return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN) ? buf : "?";
}

/* A key of the tunnel (the parent of a client) set in the file and accepted. */
static bool parent_written(const struct conf_check *ck, const char *name)
{
    const struct conf_key_state *st = &ck->parent_keys[key_index(&tunnel_def, name)];
    return st->line != 0 && !st->bad;
}

/* A 6in4 server, as far as the file says: its clients are checked. */
static bool parent_is_server(const struct conf_check *ck)
{
    const struct conf_tunnel *t = ck->parent;
    return parent_written(ck, "type") && t->type == CONF_TUNNEL_6IN4 &&
           parent_written(ck, "mode") && t->mode == CONF_TUN_SERVER;
}

/*
 * The link between server and client: client-address's prefix holds both
 * ends. Shared by a client block and a client-mode tunnel (who names it).
 */
static void check_link(const struct conf_check *ck, const char *who, const struct in6_addr *client,
                       unsigned plen, const struct in6_addr *server)
{
    char ca[E6_ADDRSTRLEN], sa[E6_ADDRSTRLEN], pb[E6_PREFIXSTRLEN];
    bool dflt = key_state(ck, "server-address")->line == 0;
    struct e6_prefix link;

    if (!written(ck, "client-address") || bad(ck, "server-address"))
        return;
    e6_prefix_make(&link, client, plen);
    e6_prefix_format(&link, pb, sizeof(pb));
    e6_addr_format(client, ca, sizeof(ca));
    e6_addr_format(server, sa, sizeof(sa));
    if (!e6_prefix_contains(&link, server)) {
        ck->error(ck->arg, line_of(ck, "server-address"),
                  "%s: server-address %s is outside client-address's prefix %s (expected an "
                  "address of the link between server and client)",
                  who, sa, pb);
    } else if (e6_addr_equal(client, server)) {
        /* the default is never the client's own on a /127: only ::1 can collide */
        struct in6_addr sug = link.addr;
        sug.s6_addr[15] |= 2;
        if (dflt)
            ck->error(ck->arg, line_of(ck, "client-address"),
                      "%s: client-address %s/%u is the server's by default (::1 of the prefix: "
                      "expected the client's own address, like %s/%u, or set server-address)",
                      who, ca, plen, e6_addr_format(&sug, sa, sizeof(sa)), plen);
        else
            ck->error(ck->arg, line_of(ck, "server-address"),
                      "%s: server-address %s is client-address itself (expected the server's end "
                      "of the link %s)",
                      who, sa, pb);
    } else if (plen < LINK_PLEN_MAX && e6_addr_equal(&link.addr, server)) {
        ck->error(ck->arg, line_of(ck, "server-address"),
                  "%s: server-address %s is the prefix itself, the Subnet-Router anycast address "
                  "(expected an address with host bits in %s, RFC 4291 2.6.1)",
                  who, sa, pb);
    }
}

static void check_client(const struct conf_check *ck)
{
    const struct conf_tunnel_client *cl = ck->elem;
    const struct conf_tunnel *t = ck->parent;
    char who[CONF_QUOTE_BUF + 16], q[CONF_QUOTE_BUF], a[INET_ADDRSTRLEN];

    /* in anything but a 6in4 server the block itself is refused (check_tunnel) */
    if (!parent_is_server(ck))
        return;
    snprintf(who, sizeof(who), "client %s", name_or(cl->name, q, sizeof(q)));
    if (written(ck, "remote") && parent_written(ck, "local") &&
        cl->remote.s_addr == t->local.s_addr)
        ck->error(ck->arg, line_of(ck, "remote"),
                  "%s: remote %s is the tunnel's local address (expected the client's own IPv4 "
                  "address, the other end of the tunnel)",
                  who, v4text(cl->remote, a));
    if (written(ck, "mtu") && !ck->parent_keys[key_index(&tunnel_def, "mtu")].bad &&
        cl->mtu > t->mtu)
        ck->error(ck->arg, line_of(ck, "mtu"),
                  "%s: mtu %u is above the tunnel's mtu %u (expected %d to %u: the client's "
                  "packets go through the tunnel's interface, RFC 4213 3.2)",
                  who, cl->mtu, t->mtu, TUNNEL_MTU_MIN, t->mtu);
    check_link(ck, who, &cl->client_address, cl->client_plen, &cl->server_address);
}

/* What only a 6in4 tunnel takes. */
static const char *const sixin4_keys[] = {"mtu-discovery", "kernel", "remote", "client-address",
                                          "server-address"};

/* What only a 6bed4 tunnel takes. */
static const char *const sixbed4_keys[] = {"port",       "prefix",       "routes",
                                           "peers",      "peer-timeout", "router",
                                           "local-port", "keepalive",    "keepalive-ttl"};

/* What only mode = client takes. */
static const char *const client_mode_keys[] = {"remote", "client-address", "server-address",
                                               "default-route"};

/* What only a 6bed4 router takes, and only a 6bed4 peer. */
static const char *const router_mode_keys[] = {"prefix", "routes", "peers", "peer-timeout"};
static const char *const peer_mode_keys[] = {"router", "local-port", "keepalive", "keepalive-ttl",
                                             "default-route"};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static bool is_6bed4_mode(enum conf_tunnel_mode m)
{
    return m == CONF_TUN_ROUTER || m == CONF_TUN_PEER;
}

static const char *mode_name(enum conf_tunnel_mode m)
{
    switch (m) {
    case CONF_TUN_SERVER:
        return "server";
    case CONF_TUN_CLIENT:
        return "client";
    case CONF_TUN_ROUTER:
        return "router";
    case CONF_TUN_PEER:
        return "peer";
    }
    return "?";
}

/* Keys of the other type, written anyway. */
static void stray_type_keys(const struct conf_check *ck, const char *who, const char *const *keys,
                            size_t n, const char *type, const char *other)
{
    for (size_t i = 0; i < n; i++)
        if (written(ck, keys[i]))
            ck->error(ck->arg, line_of(ck, keys[i]),
                      "%s: %s is a %s setting (expected no %s in a %s tunnel)", who, keys[i], other,
                      keys[i], type);
}

/* Keys of the other end of a 6bed4 tunnel, written anyway. */
static void stray_mode_keys(const struct conf_check *ck, const char *who, const char *const *keys,
                            size_t n, enum conf_tunnel_mode mode)
{
    const char *other = mode == CONF_TUN_ROUTER ? "peer" : "router";

    for (size_t i = 0; i < n; i++) {
        if (!written(ck, keys[i]))
            continue;
        if (strcmp(keys[i], "default-route") == 0)
            ck->error(ck->arg, line_of(ck, keys[i]),
                      "%s: default-route goes only with mode = peer, not with mode = router "
                      "(expected no default-route here: a router offers routes to its peers "
                      "with routes = { ... })",
                      who);
        else
            ck->error(ck->arg, line_of(ck, keys[i]),
                      "%s: %s goes only with mode = %s, not with mode = %s (expected no %s in a "
                      "6bed4 %s)",
                      who, keys[i], other, mode_name(mode), keys[i], mode_name(mode));
    }
}

/* The keys of a 6bed4 tunnel, type and mode being known. */
static void check_6bed4(const struct conf_check *ck, const char *who)
{
    const struct conf_tunnel *t = ck->elem;
    char q[CONF_QUOTE_BUF], a[INET_ADDRSTRLEN];

    stray_type_keys(ck, who, sixin4_keys, N_OF(sixin4_keys), "6bed4", "6in4");
    for (size_t i = 0; i < t->n_clients; i++)
        ck->error(ck->arg, t->clients[i].line,
                  "%s: client %s: client blocks go only in a 6in4 tunnel with mode = server "
                  "(expected none in a 6bed4 tunnel)",
                  who, name_or(t->clients[i].name, q, sizeof(q)));
    if (written(ck, "mtu") && t->mtu != SIXBED4_MTU)
        ck->error(ck->arg, line_of(ck, "mtu"),
                  "%s: mtu %u: a 6bed4 tunnel's MTU is %d, the only one 6bed4 routers and peers "
                  "use (expected mtu = %d or no mtu, " SIXBED4_DRAFT ")",
                  who, t->mtu, SIXBED4_MTU, SIXBED4_MTU);
    if (!key_state(ck, "mode")->line) {
        ck->error(ck->arg, ck->line,
                  "%s has no mode (a 6bed4 tunnel needs it: expected mode = router or peer)", who);
        return;
    }
    if (!written(ck, "mode"))
        return;
    if (!is_6bed4_mode(t->mode)) {
        ck->error(ck->arg, line_of(ck, "mode"),
                  "%s: mode = %s is a 6in4 mode (expected mode = router or peer in a 6bed4 "
                  "tunnel)",
                  who, mode_name(t->mode));
        return;
    }
    if (t->mode == CONF_TUN_ROUTER) {
        stray_mode_keys(ck, who, peer_mode_keys, N_OF(peer_mode_keys), t->mode);
        if (!key_state(ck, "local")->line)
            ck->error(ck->arg, ck->line,
                      "%s has no local (a 6bed4 router needs it: expected local = IPV4-ADDRESS, "
                      "the address its peers send to)",
                      who);
        if (!key_state(ck, "prefix")->line)
            ck->error(ck->arg, ck->line,
                      "%s has no prefix (a 6bed4 router needs it: expected prefix = PREFIX/64, "
                      "the /64 its peers' addresses are made in)",
                      who);
        if (written(ck, "port") && t->port == 0)
            ck->error(ck->arg, line_of(ck, "port"),
                      "%s: port 0 cannot be listened on (expected the UDP port peers send to, 1 "
                      "to 65535; default " SIXBED4_PORT ")",
                      who);
        return;
    }
    stray_mode_keys(ck, who, router_mode_keys, N_OF(router_mode_keys), t->mode);
    if (!key_state(ck, "router")->line)
        ck->error(ck->arg, ck->line,
                  "%s has no router (a 6bed4 peer needs it: expected router = IPV4-ADDRESS, the "
                  "6bed4 router's)",
                  who);
    if (written(ck, "port") && t->port == 0)
        ck->error(ck->arg, line_of(ck, "port"),
                  "%s: port 0 is not a port a router can listen on (expected the router's UDP "
                  "port, 1 to 65535; default " SIXBED4_PORT ")",
                  who);
    if (written(ck, "router") && written(ck, "local") && t->router.s_addr == t->local.s_addr)
        ck->error(ck->arg, line_of(ck, "router"),
                  "%s: router %s is local itself (expected the 6bed4 router's IPv4 address, the "
                  "other end of the tunnel)",
                  who, v4text(t->router, a));
}

static void check_tunnel(const struct conf_check *ck)
{
    const struct conf_tunnel *t = ck->elem;
    char who[CONF_QUOTE_BUF + 16], q[CONF_QUOTE_BUF], q2[CONF_QUOTE_BUF], a[INET_ADDRSTRLEN];

    snprintf(who, sizeof(who), "tunnel %s", name_or(t->name, q, sizeof(q)));
    /* without a type (reported already) nothing else can be judged */
    if (!written(ck, "type"))
        return;
    if (t->type == CONF_TUNNEL_6BED4) {
        check_6bed4(ck, who);
        return;
    }
    stray_type_keys(ck, who, sixbed4_keys, N_OF(sixbed4_keys), "6in4", "6bed4");
    if (!key_state(ck, "mode")->line)
        ck->error(ck->arg, ck->line,
                  "%s has no mode (a 6in4 tunnel needs it: expected mode = server or client)", who);
    if (!key_state(ck, "local")->line)
        ck->error(ck->arg, ck->line,
                  "%s has no local (a 6in4 tunnel needs it: expected local = IPV4-ADDRESS, this "
                  "box's end of the tunnel)",
                  who);
    if (!written(ck, "mode"))
        return;
    if (is_6bed4_mode(t->mode)) {
        ck->error(ck->arg, line_of(ck, "mode"),
                  "%s: mode = %s is a 6bed4 mode (expected mode = server or client in a 6in4 "
                  "tunnel)",
                  who, mode_name(t->mode));
        return;
    }
    if (t->mode == CONF_TUN_SERVER) {
        for (size_t i = 0; i < N_OF(client_mode_keys); i++)
            if (written(ck, client_mode_keys[i]))
                ck->error(ck->arg, line_of(ck, client_mode_keys[i]),
                          "%s: %s goes only with mode = client, not with mode = server "
                          "(expected %s)",
                          who, client_mode_keys[i],
                          strcmp(client_mode_keys[i], "default-route") == 0
                              ? "no default-route here: a server routes each client's "
                                "routed-prefixes to it"
                              : "it in each client block, not in the tunnel");
        if (t->n_clients == 0)
            ck->error(ck->arg, ck->line,
                      "%s: a 6in4 server needs at least one client (expected client NAME { "
                      "remote = IPV4-ADDRESS  client-address = ADDRESS/LEN })",
                      who);
        return;
    }
    if (!key_state(ck, "remote")->line)
        ck->error(ck->arg, ck->line,
                  "%s has no remote (mode = client needs it: expected remote = IPV4-ADDRESS, "
                  "the server's)",
                  who);
    if (!key_state(ck, "client-address")->line)
        ck->error(ck->arg, ck->line,
                  "%s has no client-address (mode = client needs it: expected client-address = "
                  "ADDRESS/LEN, this box's end of the link)",
                  who);
    for (size_t i = 0; i < t->n_clients; i++)
        ck->error(ck->arg, t->clients[i].line,
                  "%s: client %s: client blocks go only with mode = server, not with mode = "
                  "client (expected the server's address in remote)",
                  who, name_or(t->clients[i].name, q2, sizeof(q2)));
    if (written(ck, "remote") && written(ck, "local") && t->remote.s_addr == t->local.s_addr)
        ck->error(ck->arg, line_of(ck, "remote"),
                  "%s: remote %s is local itself (expected the server's IPv4 address, the other "
                  "end of the tunnel)",
                  who, v4text(t->remote, a));
    check_link(ck, who, &t->client_address, t->client_plen, &t->server_address);
}

/* Line and acceptance of one key of a section kept for the late checks. */
static const struct conf_key_state *kept_key(const struct conf_check *ck, const void *elem,
                                             const struct conf_section_def *d, const char *name)
{
    const struct conf_key_state *keys = ck->keys_of ? ck->keys_of(ck->arg, elem) : NULL;
    return keys ? &keys[key_index(d, name)] : NULL;
}

static bool kept_written(const struct conf_key_state *st)
{
    return st && st->line && !st->bad;
}

struct remote_ent {
    uint32_t remote; /* network order, compared as bytes */
    unsigned line;
    size_t client;
};

static int by_remote(const void *x, const void *y)
{
    const struct remote_ent *a = x, *b = y;
    int r = memcmp(&a->remote, &b->remote, sizeof(a->remote));
    if (r)
        return r;
    return a->line < b->line ? -1 : a->line > b->line;
}

struct pfx_ent {
    struct e6_prefix p;
    unsigned line;
    size_t client;
    bool routed;
};

static int by_pfx(const void *x, const void *y)
{
    const struct pfx_ent *a = x, *b = y;
    int r = memcmp(&a->p.addr, &b->p.addr, sizeof(a->p.addr));
    if (r)
        return r;
    if (a->p.len != b->p.len)
        return a->p.len < b->p.len ? -1 : 1;
    return a->line < b->line ? -1 : a->line > b->line;
}

/* Two clients of one server answering for the same IPv4 address. */
static void check_client_remotes(const struct conf_check *ck, const struct conf_tunnel *t)
{
    struct remote_ent *e = calloc(t->n_clients ? t->n_clients : 1, sizeof(*e));
    char q[CONF_QUOTE_BUF], q2[CONF_QUOTE_BUF], a[INET_ADDRSTRLEN];
    size_t n = 0;

    if (!e)
        return;
    for (size_t i = 0; i < t->n_clients; i++) {
        const struct conf_key_state *st = kept_key(ck, &t->clients[i], &client_def, "remote");
        if (kept_written(st))
            e[n++] = (struct remote_ent){t->clients[i].remote.s_addr, st->line, i};
    }
    qsort(e, n, sizeof(*e), by_remote);
    for (size_t i = 1, first = 0; i < n; i++) {
        if (e[i].remote != e[first].remote) {
            first = i;
            continue;
        }
        ck->error(ck->arg, e[i].line,
                  "client %s: remote %s is also client %s's (line %u) (expected one client per "
                  "IPv4 address: the packets of two could not be told apart, RFC 4213 3.6)",
                  name_or(t->clients[e[i].client].name, q, sizeof(q)),
                  v4text(t->clients[e[i].client].remote, a),
                  name_or(t->clients[e[first].client].name, q2, sizeof(q2)), e[first].line);
    }
    free(e);
}

/*
 * Every address behind a server belongs to one client: link prefixes and
 * routed prefixes of all its clients are disjoint. Sorted by address, a
 * prefix precedes all it contains, so each one is compared only with those
 * right after it that it contains.
 */
static void check_client_prefixes(const struct conf_check *ck, const struct conf_tunnel *t)
{
    struct pfx_ent *e;
    size_t n = 0, cap = 0, told = 0;

    for (size_t i = 0; i < t->n_clients; i++)
        cap += 1 + t->clients[i].n_routed;
    e = calloc(cap ? cap : 1, sizeof(*e));
    if (!e)
        return;
    for (size_t i = 0; i < t->n_clients; i++) {
        const struct conf_tunnel_client *cl = &t->clients[i];
        const struct conf_key_state *st = kept_key(ck, cl, &client_def, "client-address");
        if (kept_written(st)) {
            e[n] = (struct pfx_ent){.line = st->line, .client = i};
            e6_prefix_make(&e[n].p, &cl->client_address, cl->client_plen);
            n++;
        }
        st = kept_key(ck, cl, &client_def, "routed-prefixes");
        for (size_t j = 0; kept_written(st) && j < cl->n_routed; j++)
            e[n++] = (struct pfx_ent){cl->routed[j], st->line, i, true};
    }
    qsort(e, n, sizeof(*e), by_pfx);
    for (size_t i = 0; i < n && told < OVERLAPS_TOLD; i++) {
        for (size_t j = i + 1; j < n && e6_prefix_covers(&e[i].p, &e[j].p); j++) {
            const struct pfx_ent *late = e[j].line >= e[i].line ? &e[j] : &e[i];
            const struct pfx_ent *early = late == &e[j] ? &e[i] : &e[j];
            char q[CONF_QUOTE_BUF], q2[CONF_QUOTE_BUF + 8], b1[E6_PREFIXSTRLEN],
                b2[E6_PREFIXSTRLEN];
            if (early->client == late->client)
                snprintf(q2, sizeof(q2), "its own");
            else
                snprintf(q2, sizeof(q2), "client %s's",
                         name_or(t->clients[early->client].name, q, sizeof(q)));
            ck->error(ck->arg, late->line,
                      "client %s: %s prefix %s overlaps %s %s prefix %s (line %u) (expected "
                      "disjoint prefixes: each address is routed to one client)",
                      name_or(t->clients[late->client].name, q, sizeof(q)),
                      late->routed ? "routed" : "link", e6_prefix_format(&late->p, b1, sizeof(b1)),
                      q2, early->routed ? "routed" : "link",
                      e6_prefix_format(&early->p, b2, sizeof(b2)), early->line);
            if (++told >= OVERLAPS_TOLD)
                break;
        }
    }
    free(e);
}

/* Checks across the clients of a server, once they are all in place. */
static void check_tunnel_clients(const struct conf_check *ck)
{
    const struct conf_tunnel *t = ck->elem;

    if (!written(ck, "type") || t->type != CONF_TUNNEL_6IN4 || !written(ck, "mode") ||
        t->mode != CONF_TUN_SERVER)
        return;
    check_client_remotes(ck, t);
    check_client_prefixes(ck, t);
}

static const struct conf_key_def client_keys[] = {
    {.name = "remote",
     .kind = CONF_K_IPV4,
     .flags = CONF_KF_REQUIRED,
     .offset = offsetof(struct conf_tunnel_client, remote)},
    {.name = "client-address",
     .kind = CONF_K_ADDR_PLEN,
     .flags = CONF_KF_REQUIRED,
     .offset = offsetof(struct conf_tunnel_client, client_address),
     .off_aux = offsetof(struct conf_tunnel_client, client_plen),
     .min = LINK_PLEN_MIN,
     .max = LINK_PLEN_MAX,
     .rfc = "a /64 as tunnel brokers give, or a /127, RFC 6164"},
    {.name = "server-address",
     .kind = CONF_K_ADDR6,
     .offset = offsetof(struct conf_tunnel_client, server_address),
     .derive_into = derive_client_server_address},
    {.name = "routed-prefixes",
     .kind = CONF_K_PREFIXLIST,
     .offset = offsetof(struct conf_tunnel_client, routed),
     .off_count = offsetof(struct conf_tunnel_client, n_routed),
     .min = 1,
     .max = ROUTED_MAX,
     .len_max = ROUTED_LEN_MAX},
    /* no default: 0, the tunnel's */
    {.name = "mtu",
     .kind = CONF_K_UINT,
     .flags = CONF_KF_UNSET,
     .offset = offsetof(struct conf_tunnel_client, mtu),
     .min = TUNNEL_MTU_MIN,
     .max = TUNNEL_MTU_MAX,
     .rfc = "RFC 8200 5, RFC 4213 3.2"},
};

/* client NAME { }: inside a 6in4 server tunnel */
static const struct conf_section_def client_def = {
    .name = "client",
    .title = CONF_T_IFNAME,
    .title_help = "NAME",
    .size = sizeof(struct conf_tunnel_client),
    .off_title = offsetof(struct conf_tunnel_client, name),
    .off_line = offsetof(struct conf_tunnel_client, line),
    .check = check_client,
    .keep_keys = true,
    .keys = KEYS(client_keys),
};

static const struct conf_key_def tunnel_keys[] = {
    {.name = "type",
     .kind = CONF_K_ENUM,
     .flags = CONF_KF_REQUIRED,
     .offset = offsetof(struct conf_tunnel, type),
     .choices = tunnel_types},
    /* required for 6in4 only: check_tunnel says so */
    {.name = "mode",
     .kind = CONF_K_ENUM,
     .flags = CONF_KF_UNSET,
     .offset = offsetof(struct conf_tunnel, mode),
     .choices = tunnel_modes},
    {.name = "local",
     .kind = CONF_K_IPV4,
     .flags = CONF_KF_UNSET,
     .offset = offsetof(struct conf_tunnel, local)},
    {.name = "ttl",
     .kind = CONF_K_UINT,
     .def = "64",
     .offset = offsetof(struct conf_tunnel, ttl),
     .min = 1,
     .max = 255,
     .rfc = "RFC 4213 3.3"},
    /* 1480 for 6in4, 1280 for 6bed4 */
    {.name = "mtu",
     .kind = CONF_K_UINT,
     .offset = offsetof(struct conf_tunnel, mtu),
     .derive = default_tunnel_mtu,
     .min = TUNNEL_MTU_MIN,
     .max = TUNNEL_MTU_MAX,
     .rfc = "RFC 8200 5, RFC 4213 3.2"},
    {.name = "mtu-discovery",
     .kind = CONF_K_ENUM,
     .def = "static",
     .offset = offsetof(struct conf_tunnel, pmtu),
     .choices = pmtu_modes},
    {.name = "kernel",
     .kind = CONF_K_TRISTATE,
     .def = "auto",
     .offset = offsetof(struct conf_tunnel, kernel)},
    /* mode = client only */
    {.name = "remote",
     .kind = CONF_K_IPV4,
     .flags = CONF_KF_UNSET,
     .offset = offsetof(struct conf_tunnel, remote)},
    {.name = "client-address",
     .kind = CONF_K_ADDR_PLEN,
     .flags = CONF_KF_UNSET,
     .offset = offsetof(struct conf_tunnel, client_address),
     .off_aux = offsetof(struct conf_tunnel, client_plen),
     .min = LINK_PLEN_MIN,
     .max = LINK_PLEN_MAX,
     .rfc = "a /64 as tunnel brokers give, or a /127, RFC 6164"},
    {.name = "server-address",
     .kind = CONF_K_ADDR6,
     .offset = offsetof(struct conf_tunnel, server_address),
     .derive_into = derive_tunnel_server_address},
    /* 6in4 mode = client, 6bed4 mode = peer */
    {.name = "default-route",
     .kind = CONF_K_BOOL,
     .def = "yes",
     .offset = offsetof(struct conf_tunnel, default_route)},
    /* 6bed4 only; 0 is refused by check_tunnel, which can say why for the mode */
    {.name = "port",
     .kind = CONF_K_PORT,
     .def = SIXBED4_PORT,
     .offset = offsetof(struct conf_tunnel, port),
     .max = 65535},
    /* 6bed4 mode = router only */
    {.name = "prefix",
     .kind = CONF_K_PREFIX,
     .flags = CONF_KF_UNSET,
     .offset = offsetof(struct conf_tunnel, prefix),
     .min = SIXBED4_PLEN,
     .max = SIXBED4_PLEN,
     .rfc = "the other 64 bits of a peer's address hold its IPv4 address and port, " SIXBED4_DRAFT},
    {.name = "routes",
     .kind = CONF_K_PREFIXLIST,
     .flags = CONF_KF_ROUTES,
     .offset = offsetof(struct conf_tunnel, routes),
     .off_count = offsetof(struct conf_tunnel, n_routes),
     .min = 1,
     .max = SIXBED4_ROUTES,
     .rfc = "RFC 4191 2.3",
     .len_max = 128},
    {.name = "peers",
     .kind = CONF_K_UINT,
     .def = "16384",
     .offset = offsetof(struct conf_tunnel, peers),
     .max = SIXBED4_PEERS},
    {.name = "peer-timeout",
     .kind = CONF_K_LIFETIME,
     .def = "120",
     .offset = offsetof(struct conf_tunnel, peer_timeout),
     .min = 10,
     .max = 86400},
    /* 6bed4 mode = peer only */
    {.name = "router",
     .kind = CONF_K_IPV4,
     .flags = CONF_KF_UNSET,
     .offset = offsetof(struct conf_tunnel, router)},
    {.name = "local-port",
     .kind = CONF_K_PORT,
     .def = "0",
     .offset = offsetof(struct conf_tunnel, local_port),
     .max = 65535},
    {.name = "keepalive",
     .kind = CONF_K_LIFETIME,
     .def = "30",
     .offset = offsetof(struct conf_tunnel, keepalive),
     .min = 1,
     .max = 3600},
    {.name = "keepalive-ttl",
     .kind = CONF_K_UINT,
     .def = "3",
     .offset = offsetof(struct conf_tunnel, keepalive_ttl),
     .min = 1,
     .max = 255},
};

static const struct conf_child_def tunnel_children[] = {
    {&client_def, offsetof(struct conf_tunnel, clients), offsetof(struct conf_tunnel, n_clients)},
};

static const struct conf_section_def tunnel_def = {
    .name = "tunnel",
    .title = CONF_T_IFNAME,
    .title_help = "NAME",
    .size = sizeof(struct conf_tunnel),
    .off_title = offsetof(struct conf_tunnel, name),
    .off_line = offsetof(struct conf_tunnel, line),
    .check = check_tunnel,
    .late_check = check_tunnel_clients,
    .keys = KEYS(tunnel_keys),
    .children = CHILDREN(tunnel_children),
};

static const struct conf_key_def global_keys[] = {
    {.name = "user",
     .kind = CONF_K_USER,
     .def = "edge6",
     .offset = offsetof(struct conf, global.user)},
    {.name = "control-socket",
     .kind = CONF_K_ABSPATH,
     .def = E6_RUNDIR "/edge6d.sock",
     .flags = CONF_KF_FILE,
     .offset = offsetof(struct conf, global.control_socket),
     .max = SOCKET_PATH_MAX},
    {.name = "state-directory",
     .kind = CONF_K_ABSPATH,
     .def = E6_STATEDIR,
     .offset = offsetof(struct conf, global.state_dir),
     .max = DIR_PATH_MAX},
    {.name = "log-level",
     .kind = CONF_K_ENUM,
     .def = "info",
     .offset = offsetof(struct conf, global.log_level),
     .choices = log_levels},
    {.name = "manage-sysctls",
     .kind = CONF_K_BOOL,
     .def = "no",
     .offset = offsetof(struct conf, global.manage_sysctls)},
};

static const struct conf_child_def root_children[] = {
    {&interface_def, offsetof(struct conf, interfaces), offsetof(struct conf, n_interfaces)},
    {&proxy_def, offsetof(struct conf, proxies), offsetof(struct conf, n_proxies)},
    {&tunnel_def, offsetof(struct conf, tunnels), offsetof(struct conf, n_tunnels)},
};

const struct conf_section_def conf_root_def = {
    .name = "root",
    .size = sizeof(struct conf),
    .keys = KEYS(global_keys),
    .children = CHILDREN(root_children),
};

static const struct conf_section_def *find_section(const struct conf_section_def *d,
                                                   const char *keyword)
{
    if (strcmp(d->name, keyword) == 0)
        return d;
    for (size_t i = 0; i < d->n_children; i++) {
        const struct conf_section_def *r = find_section(d->children[i].def, keyword);
        if (r)
            return r;
    }
    return NULL;
}

const struct conf_section_def *conf_schema_section(const char *keyword)
{
    return find_section(&conf_root_def, keyword);
}

const struct conf_key_def *conf_schema_key(const struct conf_section_def *sec, const char *name)
{
    for (size_t i = 0; i < sec->n_keys; i++)
        if (strcmp(sec->keys[i].name, name) == 0)
            return &sec->keys[i];
    return NULL;
}

/*
 * A tunnel creates its own interface, so a name can be both a tunnel and an
 * interface section (Router Advertisements sent into the tunnel). A proxy
 * on a tunnel is refused: TUN and 6in4 links have no link layer, the kernel
 * never sends a Neighbor Solicitation on them, so there is nothing to
 * answer there; the proxy belongs on the upstream link.
 */
static void check_tunnel_not_proxied(const struct conf *c, conf_error_fn error, void *arg)
{
    for (size_t i = 0; i < c->n_proxies; i++) {
        const struct conf_proxy *p = &c->proxies[i];
        const struct conf_tunnel *t = conf_find_tunnel(c, p->name);
        char q[CONF_QUOTE_BUF];
        if (t)
            error(arg, p->line,
                  "proxy %s is on the tunnel defined at line %u; a tunnel has no neighbor "
                  "discovery to proxy (put the proxy on the upstream interface)",
                  conf_quote(p->name, q, sizeof(q)), t->line);
    }
}

struct pair_ent {
    uint32_t local, remote; /* network order, compared as bytes */
    unsigned line;
    size_t tunnel;
    const char *client; /* a server's client, or NULL for a client-mode tunnel */
};

static int by_pair(const void *x, const void *y)
{
    const struct pair_ent *a = x, *b = y;
    int r = memcmp(&a->local, &b->local, sizeof(a->local));
    if (!r)
        r = memcmp(&a->remote, &b->remote, sizeof(a->remote));
    if (r)
        return r;
    return a->line < b->line ? -1 : a->line > b->line;
}

/* Line of a key of a kept section, when written and accepted; else 0. */
static unsigned kept_line(const struct conf_key_state *keys, const struct conf_section_def *d,
                          const char *name)
{
    const struct conf_key_state *st = keys ? &keys[key_index(d, name)] : NULL;
    return st && !st->bad ? st->line : 0;
}

static const char *tunnel_label(const struct conf *c, const struct pair_ent *e, char *buf,
                                size_t len)
{
    char q[CONF_QUOTE_BUF], q2[CONF_QUOTE_BUF];

    if (e->client)
        snprintf(buf, len, "tunnel %s, client %s",
                 name_or(c->tunnels[e->tunnel].name, q, sizeof(q)),
                 conf_quote(e->client, q2, sizeof(q2)));
    else
        snprintf(buf, len, "tunnel %s", name_or(c->tunnels[e->tunnel].name, q, sizeof(q)));
    return buf;
}

/*
 * A 6in4 packet is told apart by its outer addresses alone: two tunnels
 * with the same local and remote could not share them (a kernel sit
 * refuses the second one too). Clients of one server are compared by
 * check_client_remotes.
 */
static void check_tunnel_pairs(const struct conf *c, conf_error_fn error, conf_keys_of_fn keys_of,
                               void *arg)
{
    struct pair_ent *e;
    size_t n = 0, cap = 0;

    if (!keys_of)
        return;
    for (size_t i = 0; i < c->n_tunnels; i++)
        cap += 1 + c->tunnels[i].n_clients;
    e = calloc(cap ? cap : 1, sizeof(*e));
    if (!e)
        return;
    for (size_t i = 0; i < c->n_tunnels; i++) {
        const struct conf_tunnel *t = &c->tunnels[i];
        const struct conf_key_state *k = keys_of(arg, t);
        unsigned line;

        /* a remote equal to local is reported by check_tunnel or check_client */
        if (!kept_line(k, &tunnel_def, "type") || t->type != CONF_TUNNEL_6IN4 ||
            !kept_line(k, &tunnel_def, "mode") || !kept_line(k, &tunnel_def, "local"))
            continue;
        if (t->mode == CONF_TUN_CLIENT) {
            line = kept_line(k, &tunnel_def, "remote");
            if (line && t->remote.s_addr != t->local.s_addr)
                e[n++] = (struct pair_ent){t->local.s_addr, t->remote.s_addr, line, i, NULL};
            continue;
        }
        for (size_t j = 0; j < t->n_clients; j++) {
            line = kept_line(keys_of(arg, &t->clients[j]), &client_def, "remote");
            if (line && t->clients[j].remote.s_addr != t->local.s_addr)
                e[n++] = (struct pair_ent){t->local.s_addr, t->clients[j].remote.s_addr, line, i,
                                           t->clients[j].name};
        }
    }
    qsort(e, n, sizeof(*e), by_pair);
    for (size_t i = 1, first = 0; i < n; i++) {
        char l1[2 * CONF_QUOTE_BUF + 32], l2[2 * CONF_QUOTE_BUF + 32], a[INET_ADDRSTRLEN],
            b[INET_ADDRSTRLEN];
        struct in_addr la = {e[i].local}, ra = {e[i].remote};
        if (e[i].local != e[first].local || e[i].remote != e[first].remote) {
            first = i;
            continue;
        }
        if (e[i].tunnel == e[first].tunnel)
            continue;
        error(arg, e[i].line,
              "%s: local %s and remote %s are already the ends of %s (line %u) (expected one "
              "tunnel per pair of addresses: their packets could not be told apart, and a "
              "kernel sit refuses a second one, RFC 4213 3.6)",
              tunnel_label(c, &e[i], l1, sizeof(l1)), v4text(la, a), v4text(ra, b),
              tunnel_label(c, &e[first], l2, sizeof(l2)), e[first].line);
    }
    free(e);
}

/* A 6bed4 router as far as the file says, with its key states; NULL if not. */
static const struct conf_key_state *router_keys(const struct conf *c, size_t i,
                                                conf_keys_of_fn keys_of, void *arg)
{
    const struct conf_tunnel *t = &c->tunnels[i];
    const struct conf_key_state *k = keys_of(arg, t);

    if (!kept_line(k, &tunnel_def, "type") || t->type != CONF_TUNNEL_6BED4 ||
        !kept_line(k, &tunnel_def, "mode") || t->mode != CONF_TUN_ROUTER)
        return NULL;
    return k;
}

/* The line of a key when written, else the title's. */
static unsigned kept_line_or(const struct conf_key_state *k, const char *name, unsigned line)
{
    unsigned l = kept_line(k, &tunnel_def, name);
    return l ? l : line;
}

/* A /64 served by two routers would have its peers' packets go to either. */
static void check_6bed4_prefixes(const struct conf *c, conf_error_fn error, conf_keys_of_fn keys_of,
                                 void *arg)
{
    struct pfx_ent *e = calloc(c->n_tunnels ? c->n_tunnels : 1, sizeof(*e));
    size_t n = 0;

    if (!e)
        return;
    for (size_t i = 0; i < c->n_tunnels; i++) {
        const struct conf_key_state *k = router_keys(c, i, keys_of, arg);
        unsigned line = k ? kept_line(k, &tunnel_def, "prefix") : 0;
        if (line)
            e[n++] = (struct pfx_ent){c->tunnels[i].prefix, line, i, false};
    }
    qsort(e, n, sizeof(*e), by_pfx);
    for (size_t i = 1, first = 0; i < n; i++) {
        char q[CONF_QUOTE_BUF], q2[CONF_QUOTE_BUF], b[E6_PREFIXSTRLEN];
        if (!e6_prefix_equal(&e[i].p, &e[first].p)) {
            first = i;
            continue;
        }
        error(arg, e[i].line,
              "tunnel %s: prefix %s is tunnel %s's already (line %u) (expected one 6bed4 router "
              "per /64: a peer's address names one router)",
              name_or(c->tunnels[e[i].client].name, q, sizeof(q)),
              e6_prefix_format(&e[i].p, b, sizeof(b)),
              name_or(c->tunnels[e[first].client].name, q2, sizeof(q2)),
              c->tunnels[e[first].client].line);
    }
    free(e);
}

/* A UDP socket a 6bed4 tunnel binds: a router's local:port, a peer's fixed local-port. */
struct bind_ent {
    uint16_t port;
    uint32_t addr; /* network order; 0: every address (a peer without local) */
    unsigned line; /* of the key to change */
    size_t tunnel;
};

static int by_bind(const void *x, const void *y)
{
    const struct bind_ent *a = x, *b = y;
    int r;

    if (a->port != b->port)
        return a->port < b->port ? -1 : 1;
    r = memcmp(&a->addr, &b->addr, sizeof(a->addr));
    if (r)
        return r;
    if (a->line != b->line)
        return a->line < b->line ? -1 : 1;
    return a->tunnel < b->tunnel ? -1 : a->tunnel > b->tunnel;
}

/* Which of two comes first in the file. */
static bool bind_before(const struct bind_ent *a, const struct bind_ent *b)
{
    return a->line < b->line || (a->line == b->line && a->tunnel < b->tunnel);
}

static void bind_clash(const struct conf *c, const struct bind_ent *e, const struct bind_ent *o,
                       conf_error_fn error, void *arg)
{
    const struct conf_tunnel *t = &c->tunnels[e->tunnel];
    char q[CONF_QUOTE_BUF], q2[CONF_QUOTE_BUF], a[INET_ADDRSTRLEN];
    struct in_addr in = {e->addr};

    name_or(t->name, q, sizeof(q));
    name_or(c->tunnels[o->tunnel].name, q2, sizeof(q2));
    if (t->mode == CONF_TUN_ROUTER)
        error(arg, e->line,
              "tunnel %s: local %s port %u is bound by tunnel %s (line %u) already (expected one "
              "6bed4 tunnel per IPv4 address and UDP port: the second could not bind it)",
              q, v4text(in, a), e->port, q2, c->tunnels[o->tunnel].line);
    else
        error(arg, e->line,
              "tunnel %s: local-port %u on %s is bound by tunnel %s (line %u) already (expected "
              "another local-port, or 0 for a random one)",
              q, e->port, e->addr ? v4text(in, a) : "every address (no local)", q2,
              c->tunnels[o->tunnel].line);
}

/*
 * Two 6bed4 tunnels binding one UDP address and port: the second could not.
 * A peer without local binds the port on every address. Sorted by port and
 * address, each entry is compared with the first of its port that binds
 * every address and the first of its own address.
 */
static void check_6bed4_binds(const struct conf *c, conf_error_fn error, conf_keys_of_fn keys_of,
                              void *arg)
{
    struct bind_ent *e = calloc(c->n_tunnels ? c->n_tunnels : 1, sizeof(*e));
    size_t n = 0;

    if (!e)
        return;
    for (size_t i = 0; i < c->n_tunnels; i++) {
        const struct conf_tunnel *t = &c->tunnels[i];
        const struct conf_key_state *k = keys_of(arg, t);
        unsigned line;

        if (!kept_line(k, &tunnel_def, "type") || t->type != CONF_TUNNEL_6BED4 ||
            !kept_line(k, &tunnel_def, "mode") || k[key_index(&tunnel_def, "local")].bad)
            continue;
        if (t->mode == CONF_TUN_ROUTER) {
            line = kept_line(k, &tunnel_def, "local");
            if (line && !k[key_index(&tunnel_def, "port")].bad && t->port != 0)
                e[n++] =
                    (struct bind_ent){t->port, t->local.s_addr, kept_line_or(k, "port", line), i};
        } else if (t->mode == CONF_TUN_PEER) {
            line = kept_line(k, &tunnel_def, "local-port");
            if (line && t->local_port != 0)
                e[n++] = (struct bind_ent){t->local_port, t->local.s_addr, line, i};
        }
    }
    qsort(e, n, sizeof(*e), by_bind);
    for (size_t g = 0; g < n;) {
        size_t end = g, first = g, any = n;
        while (end < n && e[end].port == e[g].port)
            end++;
        for (size_t i = g; i < end; i++)
            if (bind_before(&e[i], &e[first]))
                first = i;
        if (e[g].addr == 0)
            any = g; /* sorted first, earliest first */
        for (size_t i = g, run = g; i < end; i++) {
            const struct bind_ent *o = NULL;
            if (e[i].addr != e[run].addr)
                run = i;
            if (e[i].addr == 0)
                o = &e[first];
            else if (any < n && bind_before(&e[any], &e[run]))
                o = &e[any];
            else
                o = &e[run];
            if (o != &e[i] && bind_before(o, &e[i]))
                bind_clash(c, &e[i], o, error, arg);
        }
        g = end;
    }
    free(e);
}

/* A 6bed4 router's /64 against one prefix of a 6in4 tunnel. */
static bool sixbed4_overlap(const struct conf *c, size_t r, const struct e6_prefix *p,
                            const char *what, size_t tun, const char *client, unsigned line,
                            conf_error_fn error, void *arg)
{
    const struct conf_tunnel *t = &c->tunnels[r];
    char q[CONF_QUOTE_BUF], l[2 * CONF_QUOTE_BUF + 32], b1[E6_PREFIXSTRLEN], b2[E6_PREFIXSTRLEN];
    struct pair_ent e = {.tunnel = tun, .client = client};

    if (!e6_prefix_covers(p, &t->prefix) && !e6_prefix_covers(&t->prefix, p))
        return false;
    error(arg, line,
          "tunnel %s: prefix %s overlaps the %s prefix %s of %s (line %u) (expected disjoint "
          "prefixes: each address is routed to one place)",
          name_or(t->name, q, sizeof(q)), e6_prefix_format(&t->prefix, b1, sizeof(b1)), what,
          e6_prefix_format(p, b2, sizeof(b2)), tunnel_label(c, &e, l, sizeof(l)),
          c->tunnels[tun].line);
    return true;
}

/* A 6bed4 router's /64 is its peers' alone: no 6in4 link or routed prefix may reach into it. */
static void check_6bed4_vs_6in4(const struct conf *c, conf_error_fn error, conf_keys_of_fn keys_of,
                                void *arg)
{
    size_t told = 0;

    for (size_t r = 0; r < c->n_tunnels && told < OVERLAPS_TOLD; r++) {
        const struct conf_key_state *k = router_keys(c, r, keys_of, arg);
        unsigned line = k ? kept_line(k, &tunnel_def, "prefix") : 0;

        if (!line)
            continue;
        for (size_t i = 0; i < c->n_tunnels && told < OVERLAPS_TOLD; i++) {
            const struct conf_tunnel *t = &c->tunnels[i];
            const struct conf_key_state *tk = keys_of(arg, t);
            struct e6_prefix p;

            if (!kept_line(tk, &tunnel_def, "type") || t->type != CONF_TUNNEL_6IN4 ||
                !kept_line(tk, &tunnel_def, "mode"))
                continue;
            if (t->mode == CONF_TUN_CLIENT) {
                if (!kept_line(tk, &tunnel_def, "client-address"))
                    continue;
                e6_prefix_make(&p, &t->client_address, t->client_plen);
                told += sixbed4_overlap(c, r, &p, "link", i, NULL, line, error, arg);
                continue;
            }
            for (size_t j = 0; t->mode == CONF_TUN_SERVER && j < t->n_clients; j++) {
                const struct conf_tunnel_client *cl = &t->clients[j];
                const struct conf_key_state *ck = keys_of(arg, cl);
                if (kept_line(ck, &client_def, "client-address")) {
                    e6_prefix_make(&p, &cl->client_address, cl->client_plen);
                    told += sixbed4_overlap(c, r, &p, "link", i, cl->name, line, error, arg);
                }
                for (size_t m = 0;
                     kept_line(ck, &client_def, "routed-prefixes") && m < cl->n_routed; m++)
                    told += sixbed4_overlap(c, r, &cl->routed[m], "routed", i, cl->name, line,
                                            error, arg);
            }
        }
    }
}

void conf_schema_check(const struct conf *c, conf_error_fn error, conf_keys_of_fn keys_of,
                       void *arg)
{
    check_tunnel_not_proxied(c, error, arg);
    check_tunnel_pairs(c, error, keys_of, arg);
    if (keys_of) {
        check_6bed4_binds(c, error, keys_of, arg);
        check_6bed4_prefixes(c, error, keys_of, arg);
        check_6bed4_vs_6in4(c, error, keys_of, arg);
    }
}
