/*
 * daemon/module: start, reconcile, stop and render the registered modules
 * in a fixed order.
 */
#include "config.h"

#include "daemon/module.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"

int d6_modules_add(struct d6_modules *ms, const struct d6_module_ops *ops, void *self)
{
    if (ms->n >= D6_MODULES_MAX)
        return -ENOSPC;
    ms->m[ms->n++] = (struct d6_module){.ops = ops, .self = self, .started = false};
    return 0;
}

int d6_modules_start(struct d6_modules *ms, const struct conf *c, char *err, size_t errlen)
{
    for (size_t i = 0; i < ms->n; i++) {
        struct d6_module *m = &ms->m[i];
        if (m->ops->start) {
            char why[256] = "";
            int rc = m->ops->start(m->self, c, why, sizeof(why));
            if (rc < 0) {
                snprintf(err, errlen, "%s: %s", m->ops->name, why[0] ? why : strerror(-rc));
                d6_modules_stop(ms, false);
                return rc;
            }
        }
        m->started = true;
        e6_debug("module %s started", m->ops->name);
    }
    return 0;
}

size_t d6_modules_reconcile(struct d6_modules *ms, const struct conf *old, const struct conf *new_,
                            struct e6_strbuf *whys)
{
    size_t failed = 0;
    for (size_t i = 0; i < ms->n; i++) {
        struct d6_module *m = &ms->m[i];
        if (!m->started || !m->ops->reconcile)
            continue;
        char why[256] = "";
        int rc = m->ops->reconcile(m->self, old, new_, why, sizeof(why));
        if (rc < 0) {
            e6_err("module %s: reconcile failed: %s", m->ops->name, why[0] ? why : strerror(-rc));
            if (whys)
                e6_strbuf_printf(whys, "module %s: %s\n", m->ops->name,
                                 why[0] ? why : strerror(-rc));
            failed++;
        }
    }
    return failed;
}

void d6_modules_stop(struct d6_modules *ms, bool goodbye)
{
    for (size_t i = ms->n; i-- > 0;) {
        struct d6_module *m = &ms->m[i];
        if (!m->started)
            continue;
        if (m->ops->stop)
            m->ops->stop(m->self, goodbye);
        m->started = false;
        e6_debug("module %s stopped", m->ops->name);
    }
}

bool d6_modules_done(const struct d6_modules *ms)
{
    for (size_t i = 0; i < ms->n; i++)
        if (ms->m[i].ops->done && !ms->m[i].ops->done(ms->m[i].self))
            return false;
    return true;
}

void d6_modules_free(struct d6_modules *ms)
{
    d6_modules_stop(ms, false);
    for (size_t i = ms->n; i-- > 0;) {
        if (ms->m[i].ops->free)
            ms->m[i].ops->free(ms->m[i].self);
    }
    ms->n = 0;
}

void d6_modules_view(const struct d6_modules *ms, enum e6_view_format fmt, struct e6_strbuf *out)
{
    struct e6_json j;
    bool first = true;

    e6_json_init(&j, out);
    if (fmt == E6_VIEW_JSON)
        e6_json_begin_object(&j, NULL);
    for (size_t i = 0; i < ms->n; i++) {
        const struct d6_module *m = &ms->m[i];
        if (!m->ops->view)
            continue;
        if (fmt == E6_VIEW_JSON) {
            e6_json_key(&j, m->ops->name);
        } else if (!first) {
            e6_strbuf_puts(out, "\n");
        }
        m->ops->view(&j, fmt, m->self);
        first = false;
    }
    if (fmt == E6_VIEW_JSON) {
        e6_json_end_object(&j);
        if (!e6_json_done(&j))
            out->failed = true;
        e6_strbuf_puts(out, "\n");
    }
}
