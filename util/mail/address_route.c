/* address_route: the resolver's handling of routing operators in the local part ('@', '%',
 * '!'), which decides the real destination of "user%other@ours" and friends and so keeps the
 * relay checks honest. */
#include "mail/address.h"

#include <string.h>

void addr_resolved_init(struct addr_resolved *r)
{
    memset(r, 0, sizeof(*r));
}

void addr_resolved_release(struct addr_resolved *r)
{
    str_release(&r->local);
    str_release(&r->domain);
}

/* An unqualified name: "host!user" -> "user@host", "user%host" -> "user@host". Returns 1 when
 * it rewrote the name into work. */
static int rewrite_unqualified(struct str *work, const struct addr_route_opts *opts)
{
    const char *s = str_cstr(work);
    const char *bang = opts->swap_bangpath ? strchr(s, '!') : NULL;
    const char *pct = opts->allow_percent_hack ? strrchr(s, '%') : NULL;
    struct str n = STR_INIT;
    if (bang != NULL && bang != s && bang[1] != 0) {
        str_append(&n, bang + 1);
        str_appendc(&n, '@');
        str_appendn(&n, s, (size_t)(bang - s));
    } else if (pct != NULL && pct != s && pct[1] != 0) {
        str_appendn(&n, s, (size_t)(pct - s));
        str_appendc(&n, '@');
        str_append(&n, pct + 1);
    } else {
        return 0;
    }
    str_set(work, str_cstr(&n));
    str_release(&n);
    return 1;
}

static void strip_trailing_dots(struct str *s)
{
    while (s->len > 0 && s->data[s->len - 1] == '.')
        str_truncate(s, s->len - 1);
}

/* 1 when the local part, once the local domain is dropped, names another destination:
 * "user@host" (a non-empty domain after trailing dots), "user%host" or "host!user". */
static int routable(const char *local, const struct addr_route_opts *opts)
{
    const char *at = strrchr(local, '@');
    if (at != NULL)
        return at[strspn(at + 1, ".") + 1] != 0;
    struct str tmp = STR_INIT;
    str_set(&tmp, local);
    int ok = rewrite_unqualified(&tmp, opts);
    str_release(&tmp);
    return ok;
}

int address_resolve(const char *addr, const struct addr_route_opts *opts, struct addr_resolved *out,
                    struct str *err)
{
    struct str work = STR_INIT;
    int rc = 0;
    str_set(&work, addr);
    out->rounds = 0;
    out->routed = 0;
    address_split(addr, &out->local, NULL);
    out->routed = strpbrk(str_cstr(&out->local), "@%!") != NULL;
    for (int i = 0;; i++) {
        if (i > ADDR_MAX_ROUTE_ROUNDS) {
            str_setf(err, "too many routing operators in address");
            rc = -1;
            break;
        }
        int has_domain = address_split(str_cstr(&work), &out->local, &out->domain);
        strip_trailing_dots(&out->domain);
        if (!has_domain || out->domain.len == 0) {
            str_clear(&out->domain);
            if (rewrite_unqualified(&out->local, opts)) {
                str_set(&work, str_cstr(&out->local));
                continue;
            }
            out->local_domain = 1;
            break;
        }
        out->local_domain =
            opts->is_local != NULL && opts->is_local(str_cstr(&out->domain), opts->ctx);
        if (!out->local_domain || !routable(str_cstr(&out->local), opts))
            break;
        out->rounds++;
        str_set(&work, str_cstr(&out->local));
    }
    str_release(&work);
    return rc;
}
