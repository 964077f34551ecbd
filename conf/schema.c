/*
 * conf/schema: every key and section edge6d.conf knows, as data, and the
 * cross-field checks that are not generic. To add a key: one row in its
 * section's table (name, kind, default as text, flags, field, bounds) and
 * the field in conf.h; its type check, default, duplicate check, line
 * numbers and messages come from the row. To add a section: a definition
 * here, a conf_child_def row in its parent, and its struct in conf.h.
 * edge6d.conf(5) documents exactly these rows.
 */
#include <stdio.h>
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

static const struct conf_key_def tunnel_keys[] = {
    {.name = "type",
     .kind = CONF_K_ENUM,
     .flags = CONF_KF_REQUIRED,
     .offset = offsetof(struct conf_tunnel, type),
     .choices = tunnel_types},
};

static const struct conf_section_def tunnel_def = {
    .name = "tunnel",
    .title = CONF_T_IFNAME,
    .title_help = "NAME",
    .size = sizeof(struct conf_tunnel),
    .off_title = offsetof(struct conf_tunnel, name),
    .off_line = offsetof(struct conf_tunnel, line),
    .keys = KEYS(tunnel_keys),
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

void conf_schema_check(const struct conf *c, conf_error_fn error, void *arg)
{
    check_tunnel_not_proxied(c, error, arg);
}
