/* resolve: a virtual recipient to its mailbox: virtual_mailbox_maps gives the path below
 * virtual_mailbox_base (a trailing '/' means Maildir), virtual_uid_maps and virtual_gid_maps
 * the numeric owner (static:N or tables), virtual_minimum_uid refuses low uids. */
#include "virtual.h"

#include "base/log.h"
#include "table/table.h"

#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int lookup(struct maps *m, const char *delims, const char *rcpt, struct str *value)
{
    struct maps_addr_opts o = {.style = MAPS_STYLE_VIRTUAL, .ext = {.delimiters = delims}};
    return maps_find_address(m, rcpt, &o, value, NULL);
}

static int config_error(const char *rcpt, const char *what, char *dsn, size_t dsnlen,
                        struct str *reason)
{
    msg_warn("recipient %s: %s", rcpt, what);
    snprintf(dsn, dsnlen, "4.3.5");
    str_set(reason, "mail system configuration error");
    return DELIVER_DEFERRED;
}

/* A uid or gid from its map: a decimal number. */
static int numeric_id(struct maps *m, const char *delims, const char *rcpt, const char *name,
                      long *out, char *dsn, size_t dsnlen, struct str *reason)
{
    struct str v = STR_INIT, why = STR_INIT;
    int rc = VIRTUAL_OK, found = lookup(m, delims, rcpt, &v);
    char *end;
    errno = 0;
    long n = found == TABLE_FOUND ? strtol(str_cstr(&v), &end, 10) : 0;
    if (found == TABLE_ERROR) {
        snprintf(dsn, dsnlen, "4.3.0");
        str_setf(reason, "%s lookup failure", name);
        msg_warn("%s lookup failure: %s", name, maps_error(m));
        rc = DELIVER_DEFERRED;
    } else if (found == TABLE_NOTFOUND) {
        str_setf(&why, "%s: no mapping", name);
        rc = config_error(rcpt, why.data, dsn, dsnlen, reason);
    } else if (v.len == 0 || *end || errno || n < 0 || n > 0x7fffffffL) {
        str_setf(&why, "bad %s in %s", str_cstr(&v), name);
        rc = config_error(rcpt, why.data, dsn, dsnlen, reason);
    }
    *out = n;
    str_release(&v);
    str_release(&why);
    return rc;
}

/* No "." or ".." path components, no NUL tricks: the path stays below the base. */
static int path_ok(const char *rel)
{
    if (*rel == 0 || *rel == '/')
        return 0;
    for (const char *c = rel; *c;) {
        size_t n = strcspn(c, "/");
        if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
            return 0;
        c += n;
        while (*c == '/')
            c++;
    }
    return 1;
}

int virtual_resolve(const struct virtual_params *p, const char *rcpt, struct virtual_target *t,
                    char *dsn, size_t dsnlen, struct str *reason)
{
    struct str v = STR_INIT;
    long uid = 0, gid = 0;
    int rc;
    t->path = (struct str)STR_INIT;
    int found = lookup(p->mailbox_maps, p->delimiters, rcpt, &v);
    if (found == TABLE_ERROR) {
        msg_warn("virtual_mailbox_maps lookup failure: %s", maps_error(p->mailbox_maps));
        snprintf(dsn, dsnlen, "4.3.0");
        str_set(reason, "virtual_mailbox_maps lookup failure");
        rc = DELIVER_DEFERRED;
    } else if (found == TABLE_NOTFOUND) {
        snprintf(dsn, dsnlen, "5.1.1");
        str_setf(reason, "unknown user: \"%s\"", rcpt);
        rc = DELIVER_BOUNCED;
    } else if (!path_ok(str_cstr(&v))) {
        struct str why = STR_INIT;
        str_setf(&why, "bad mailbox path \"%s\" in virtual_mailbox_maps", str_cstr(&v));
        rc = config_error(rcpt, why.data, dsn, dsnlen, reason);
        str_release(&why);
    } else if ((rc = numeric_id(p->uid_maps, p->delimiters, rcpt, "virtual_uid_maps", &uid, dsn,
                                dsnlen, reason)) != VIRTUAL_OK ||
               (rc = numeric_id(p->gid_maps, p->delimiters, rcpt, "virtual_gid_maps", &gid, dsn,
                                dsnlen, reason)) != VIRTUAL_OK) {
        /* reported */
    } else if (p->check_uid && uid < p->minimum_uid) {
        struct str why = STR_INIT;
        str_setf(&why, "bad uid %ld in virtual_uid_maps (below virtual_minimum_uid %ld)", uid,
                 p->minimum_uid);
        rc = config_error(rcpt, why.data, dsn, dsnlen, reason);
        str_release(&why);
    } else {
        str_setf(&t->path, "%s/%s", p->mailbox_base, str_cstr(&v));
        t->uid = (uid_t)uid;
        t->gid = (gid_t)gid;
        rc = VIRTUAL_OK;
    }
    str_release(&v);
    return rc;
}

void virtual_target_release(struct virtual_target *t)
{
    str_release(&t->path);
}
