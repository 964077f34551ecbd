/*
 * conf/schema: every key and section edge6d.conf knows, as data, and the
 * cross-field checks that are not generic. To add a key: one row in its
 * section's table (name, kind, default as text, flags, field, bounds) and
 * the field in conf.h; its type check, default, duplicate check, line
 * numbers and messages come from the row. To add a section: a definition
 * here, a conf_child_def row in its parent, and its struct in conf.h.
 * edge6d.conf(5) documents exactly these rows.
 */
#include <string.h>
#include <sys/un.h>

#include "config.h"
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

/* rule PREFIX { }: inside proxy; keys arrive with the NDP proxy */
static const struct conf_section_def rule_def = {
    .name = "rule",
    .title = CONF_T_PREFIX,
    .title_help = "PREFIX",
    .size = sizeof(struct conf_rule),
    .off_title = offsetof(struct conf_rule, prefix),
    .off_line = offsetof(struct conf_rule, line),
};

/* interface NAME { }: Router Advertisements; keys arrive with radv */
static const struct conf_section_def interface_def = {
    .name = "interface",
    .title = CONF_T_IFNAME,
    .title_help = "NAME",
    .size = sizeof(struct conf_interface),
    .off_title = offsetof(struct conf_interface, name),
    .off_line = offsetof(struct conf_interface, line),
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
