/*
 * daemon/privs: user switch and capability reduction (libcap).
 */
#include "config.h"

#include "daemon/privs.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "common/log.h"

#ifndef __has_feature
#define __has_feature(x) 0
#endif
#if defined(__SANITIZE_ADDRESS__) || __has_feature(address_sanitizer)
#define D6_ASAN 1
#endif

static const cap_value_t keep[] = {CAP_NET_RAW, CAP_NET_ADMIN};
#define N_KEEP (sizeof(keep) / sizeof(keep[0]))

static bool is_kept(cap_value_t c)
{
    for (size_t i = 0; i < N_KEEP; i++)
        if (keep[i] == c)
            return true;
    return false;
}

int d6_privs_lookup(const char *user, uid_t *uid, gid_t *gid, char *err, size_t errlen)
{
    errno = 0;
    struct passwd *pw = getpwnam(user);
    if (!pw) {
        int e = errno ? errno : ENOENT;
        if (e == ENOENT || e == ESRCH || e == EBADF || e == EPERM)
            snprintf(err, errlen, "user '%s' does not exist", user);
        else
            snprintf(err, errlen, "cannot look up user '%s': %s", user, strerror(e));
        return -ENOENT;
    }
    *uid = pw->pw_uid;
    *gid = pw->pw_gid;
    return 0;
}

/* Everything outside `keep` leaves the bounding set; needs CAP_SETPCAP. */
static int drop_bounding(char *err, size_t errlen)
{
    cap_value_t max = cap_max_bits();
    for (cap_value_t c = 0; c < max; c++) {
        if (is_kept(c) || cap_get_bound(c) <= 0)
            continue;
        if (cap_drop_bound(c) < 0) {
            int e = errno;
            char *name = cap_to_name(c);
            snprintf(err, errlen, "cannot drop %s from the bounding set: %s",
                     name ? name : "capability", strerror(e));
            cap_free(name);
            return -e;
        }
    }
    return 0;
}

/* permitted = effective = `keep` & allowed, inheritable empty. */
static int set_caps(cap_t allowed, char *err, size_t errlen)
{
    cap_t caps = cap_init();
    if (!caps) {
        snprintf(err, errlen, "cap_init: %s", strerror(errno));
        return -errno;
    }
    for (size_t i = 0; i < N_KEEP; i++) {
        cap_flag_value_t v = CAP_SET;
        if (allowed && cap_get_flag(allowed, keep[i], CAP_PERMITTED, &v) < 0)
            v = CAP_CLEAR;
        if (v != CAP_SET) {
            char *name = cap_to_name(keep[i]);
            e6_warn("%s is not permitted to this process; features that need it will fail",
                    name ? name : "a capability");
            cap_free(name);
            continue;
        }
        cap_set_flag(caps, CAP_PERMITTED, 1, &keep[i], CAP_SET);
        cap_set_flag(caps, CAP_EFFECTIVE, 1, &keep[i], CAP_SET);
    }
    int rc = 0;
    if (cap_set_proc(caps) < 0) {
        rc = -errno;
        snprintf(err, errlen, "cannot set capabilities: %s", strerror(errno));
    }
    cap_free(caps);
    return rc;
}

static int finish(char *err, size_t errlen)
{
    /* Ambient capabilities would survive an exec; inheritable is empty
     * already, so this only makes the intent explicit. EINVAL: the kernel
     * predates ambient capabilities. */
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) {
        snprintf(err, errlen, "cannot clear ambient capabilities: %s", strerror(errno));
        return -errno;
    }
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
        snprintf(err, errlen, "cannot set no_new_privs: %s", strerror(errno));
        return -errno;
    }
    return 0;
}

static int drop_as_root(uid_t uid, gid_t gid, char *err, size_t errlen)
{
    int rc;

    /* While still root with every capability: CAP_SETPCAP is needed to
     * shrink the bounding set, and it is gone after the switch. */
    rc = drop_bounding(err, errlen);
    if (rc < 0)
        return rc;
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) {
        snprintf(err, errlen, "cannot set keepcaps: %s", strerror(errno));
        return -errno;
    }
    if (setgroups(1, &gid) < 0) {
        snprintf(err, errlen, "setgroups(%u): %s", (unsigned)gid, strerror(errno));
        return -errno;
    }
    if (setresgid(gid, gid, gid) < 0) {
        snprintf(err, errlen, "setgid(%u): %s", (unsigned)gid, strerror(errno));
        return -errno;
    }
    if (setresuid(uid, uid, uid) < 0) {
        snprintf(err, errlen, "setuid(%u): %s", (unsigned)uid, strerror(errno));
        return -errno;
    }
    /* keepcaps kept the permitted set across setuid; the effective set was
     * cleared by it and is raised again here, to the two we keep. */
    rc = set_caps(NULL, err, errlen);
    if (rc < 0)
        return rc;
    if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) {
        snprintf(err, errlen, "cannot clear keepcaps: %s", strerror(errno));
        return -errno;
    }
    rc = finish(err, errlen);
    if (rc < 0)
        return rc;
    /* Paranoia: the way back to root must be closed. */
    if (uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
        snprintf(err, errlen, "could regain root after dropping privileges");
        return -EPERM;
    }
#ifdef D6_ASAN
    /* setuid made the process non-dumpable; LeakSanitizer then cannot
     * ptrace its own threads at exit and aborts the run. Sanitizer builds
     * only: a normal build stays non-dumpable. */
    prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
#endif
    return 0;
}

static int drop_as_user(char *err, size_t errlen)
{
    cap_t cur = cap_get_proc();
    if (!cur) {
        snprintf(err, errlen, "cannot read capabilities: %s", strerror(errno));
        return -errno;
    }
    int rc = 0;
    cap_flag_value_t setpcap = CAP_CLEAR;
    cap_get_flag(cur, CAP_SETPCAP, CAP_PERMITTED, &setpcap);
    if (setpcap == CAP_SET) {
        /* Permitted but perhaps not effective: raise it for the drop. */
        cap_t tmp = cap_dup(cur);
        const cap_value_t sp = CAP_SETPCAP;
        if (tmp && cap_set_flag(tmp, CAP_EFFECTIVE, 1, &sp, CAP_SET) == 0 && cap_set_proc(tmp) == 0)
            rc = drop_bounding(err, errlen);
        cap_free(tmp);
    }
    /* Without CAP_SETPCAP the bounding set is the service manager's to set
     * (CapabilityBoundingSet=); nothing outside it can come back anyway
     * once no_new_privs is set. */
    if (rc == 0)
        rc = set_caps(cur, err, errlen);
    cap_free(cur);
    if (rc == 0)
        rc = finish(err, errlen);
    return rc;
}

int d6_privs_drop(uid_t uid, gid_t gid, char *err, size_t errlen)
{
    if (geteuid() == 0)
        return drop_as_root(uid, gid, err, errlen);
    return drop_as_user(err, errlen);
}

void d6_privs_effective(char *buf, size_t len)
{
    size_t used = 0;

    if (len == 0)
        return;
    buf[0] = '\0';
    cap_t cur = cap_get_proc();
    if (!cur)
        return;
    cap_value_t max = cap_max_bits();
    for (cap_value_t c = 0; c < max; c++) {
        cap_flag_value_t v = CAP_CLEAR;
        if (cap_get_flag(cur, c, CAP_EFFECTIVE, &v) < 0 || v != CAP_SET)
            continue;
        char *name = cap_to_name(c);
        if (!name)
            continue;
        int n = snprintf(buf + used, len - used, "%s%s", used ? "," : "", name);
        cap_free(name);
        if (n < 0 || (size_t)n >= len - used) {
            buf[used] = '\0';
            break;
        }
        used += (size_t)n;
    }
    cap_free(cur);
}
