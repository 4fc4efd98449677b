/* cleanup_rewrite: address rewriting — the resolver's canonical form (@$myorigin,
 * .$mydomain), canonical_maps and its sender/recipient variants, masquerade_domains, and
 * virtual_alias_maps expansion with recursion, size and loop limits. */
#include "cleanup.h"

#include "base/log.h"
#include "base/mem.h"
#include "mail/address.h"
#include "table/table.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

void cleanup_canonicalize(const char *addr, struct str *out)
{
    struct str local = STR_INIT, domain = STR_INIT;
    str_set(out, addr);
    if (*addr == 0)
        return;
    if (!address_split(addr, &local, &domain)) {
        if (cleanup_cfg.append_at_myorigin && cleanup_cfg.myorigin && *cleanup_cfg.myorigin)
            str_appendf(out, "@%s", cleanup_cfg.myorigin);
    } else {
        while (domain.len > 1 && domain.data[domain.len - 1] == '.')
            str_truncate(&domain, domain.len - 1);
        if (cleanup_cfg.append_dot_mydomain && strchr(domain.data, '.') == NULL &&
            !address_domain_is_literal(domain.data) && cleanup_cfg.mydomain)
            str_appendf(&domain, ".%s", cleanup_cfg.mydomain);
        str_setf(out, "%s@%s", local.data, domain.data);
    }
    str_release(&local);
    str_release(&domain);
}

static int domain_is_local(const char *domain)
{
    if (cleanup_cfg.myorigin && strcasecmp(domain, cleanup_cfg.myorigin) == 0)
        return 1;
    struct argv *l = cleanup_cfg.local_domains;
    for (size_t i = 0; l && i < l->n; i++)
        if (strcasecmp(domain, l->v[i]) == 0)
            return 1;
    return 0;
}

static int propagates(const char *what)
{
    const char *p = cleanup_cfg.propagate_ext;
    return p && strstr(p, what) != NULL;
}

/* One lookup with the virtual(5) search order; an unmatched extension is propagated to a
 * single-address result as propagate_unmatched_extensions says. */
static int lookup_address(struct maps *m, const char *addr, const char *what, struct str *value)
{
    struct maps_addr_opts o = {.style = MAPS_STYLE_VIRTUAL};
    o.ext.delimiters = cleanup_cfg.recipient_delimiter;
    struct str domain = STR_INIT, key = STR_INIT, local = STR_INIT, user = STR_INIT, ext = STR_INIT;
    address_split(addr, &local, &domain);
    o.domain_is_local = domain.len == 0 || domain_is_local(domain.data);
    int rc = maps_find_address(m, addr, &o, value, &key);
    char delim = 0;
    if (rc == TABLE_FOUND && propagates(what) && strpbrk(value->data, ", \t") == NULL &&
        address_split_ext(local.data, &o.ext, &user, &ext, &delim) && ext.len > 0) {
        struct str with = STR_INIT;
        str_setf(&with, "%c%s", delim, ext.data);
        if (strstr(key.data ? key.data : "", with.data) == NULL) {
            struct str vl = STR_INIT, vd = STR_INIT;
            int has = address_split(value->data, &vl, &vd);
            str_setf(value, "%s%s%s%s", vl.data ? vl.data : "", with.data, has ? "@" : "",
                     has ? vd.data : "");
            str_release(&vl);
            str_release(&vd);
        }
        str_release(&with);
    }
    str_release(&domain);
    str_release(&key);
    str_release(&local);
    str_release(&user);
    str_release(&ext);
    return rc;
}

/* 1:1 mapping, repeated while it changes (bounded). */
static int map11(struct cleanup_state *st, struct maps *m, struct str *addr)
{
    struct str value = STR_INIT;
    int rc = 0;
    for (int i = 0; i < CLEANUP_CANON_DEPTH; i++) {
        int r = lookup_address(m, addr->data, "canonical", &value);
        if (r == TABLE_ERROR) {
            msg_warn("%s: %s map lookup problem for %s -- message not accepted, try again later",
                     st->queue_id, m->title, addr->data);
            cleanup_fail(st, CLEANUP_STAT_WRITE, NULL);
            rc = -1;
            break;
        }
        if (r != TABLE_FOUND)
            break;
        str_trim_right(&value);
        struct str canon = STR_INIT;
        cleanup_canonicalize(value.data, &canon);
        int same = strcasecmp(canon.data, addr->data) == 0;
        str_set(addr, canon.data);
        str_release(&canon);
        if (same)
            break;
    }
    str_release(&value);
    return rc;
}

void cleanup_masquerade(const char *addr, struct str *out)
{
    struct str local = STR_INIT, domain = STR_INIT;
    str_set(out, addr);
    struct argv *d = cleanup_cfg.masq_domains;
    if (d == NULL || d->n == 0 || !address_split(addr, &local, &domain))
        goto done;
    struct argv *ex = cleanup_cfg.masq_exceptions;
    for (size_t i = 0; ex && i < ex->n; i++)
        if (strcasecmp(ex->v[i], local.data) == 0)
            goto done;
    for (size_t i = 0; i < d->n; i++) {
        const char *m = d->v[i];
        int negate = *m == '!';
        m += negate;
        size_t ml = strlen(m), dl = domain.len;
        if (dl == ml && strcasecmp(domain.data, m) == 0)
            break; /* already the masquerade domain itself */
        if (dl > ml && domain.data[dl - ml - 1] == '.' &&
            strcasecmp(domain.data + dl - ml, m) == 0) {
            if (!negate)
                str_setf(out, "%s@%s", local.data, m);
            break;
        }
    }
done:
    str_release(&local);
    str_release(&domain);
}

int cleanup_map_address(struct cleanup_state *st, int class, const char *addr, struct str *out)
{
    str_set(out, addr);
    if (*addr == 0)
        return 0;
    const struct cleanup_config *c = &cleanup_cfg;
    int sender = class & (CLASS_ENV_SENDER | CLASS_HDR_SENDER);
    struct maps *first = sender ? c->send_canon : c->rcpt_canon;
    int first_classes = sender ? c->send_canon_classes : c->rcpt_canon_classes;
    if (first && (first_classes & class) && map11(st, first, out) < 0)
        return -1;
    if (c->canonical && (c->canon_classes & class) && map11(st, c->canonical, out) < 0)
        return -1;
    if (c->masq_classes & class) {
        struct str m = STR_INIT;
        cleanup_masquerade(out->data, &m);
        str_set(out, m.data);
        str_release(&m);
    }
    return 0;
}

struct expansion {
    struct cleanup_state *st;
    struct argv *out;
    struct argv *path;
    const char *top;
};

static int on_path(const struct argv *path, const char *addr)
{
    for (size_t i = 0; i < path->n; i++)
        if (strcasecmp(path->v[i], addr) == 0)
            return 1;
    return 0;
}

static int add_leaf(struct expansion *x, const char *addr)
{
    if ((long)x->out->n >= cleanup_cfg.virt_expansion) {
        msg_warn("%s: unreasonable %s map expansion size for %s -- message not accepted, try "
                 "again later",
                 x->st->queue_id, "virtual_alias_maps", x->top);
        cleanup_fail(x->st, CLEANUP_STAT_DEFER, NULL);
        return -1;
    }
    argv_add(x->out, addr);
    return 0;
}

static int expand(struct expansion *x, const char *addr, long depth)
{
    if (depth > cleanup_cfg.virt_recursion) {
        msg_warn("%s: unreasonable %s map nesting for %s -- message not accepted, try again "
                 "later",
                 x->st->queue_id, "virtual_alias_maps", x->top);
        cleanup_fail(x->st, CLEANUP_STAT_DEFER, NULL);
        return -1;
    }
    struct str value = STR_INIT;
    int r = lookup_address(cleanup_cfg.virtual_alias, addr, "virtual", &value);
    if (r == TABLE_ERROR) {
        msg_warn("%s: %s map lookup problem for %s -- message not accepted, try again later",
                 x->st->queue_id, "virtual_alias_maps", addr);
        cleanup_fail(x->st, CLEANUP_STAT_WRITE, NULL);
        str_release(&value);
        return -1;
    }
    if (r != TABLE_FOUND) {
        str_release(&value);
        return add_leaf(x, addr);
    }
    struct argv *results = argv_split(value.data, ", \t\r\n");
    str_release(&value);
    argv_add(x->path, addr);
    int rc = 0;
    struct str canon = STR_INIT;
    for (size_t i = 0; rc == 0 && i < results->n; i++) {
        cleanup_canonicalize(results->v[i], &canon);
        if (on_path(x->path, canon.data)) /* itself, or a loop: deliver here */
            rc = add_leaf(x, canon.data);
        else
            rc = expand(x, canon.data, depth + 1);
    }
    str_release(&canon);
    free(x->path->v[--x->path->n]);
    x->path->v[x->path->n] = NULL;
    argv_free(results);
    return rc;
}

int cleanup_virtual_expand(struct cleanup_state *st, const char *addr, struct argv *out)
{
    if (cleanup_cfg.virtual_alias == NULL || cleanup_cfg.virtual_alias->n == 0) {
        argv_add(out, addr);
        return 0;
    }
    struct expansion x = {st, out, argv_new(), addr};
    int rc = expand(&x, addr, 0);
    argv_free(x.path);
    return rc;
}
