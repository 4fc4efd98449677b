/* expand: the argv= macros of pipe(8) (${sender}, ${recipient}, ${nexthop}, ...; also $name and
 * $(name)) with the h, q and u flags. An argument that uses a per-recipient macro (recipient,
 * original_recipient, user, extension, mailbox, domain) becomes one argument per recipient. */
#include "pipe.h"

#include "base/mem.h"
#include "mail/address.h"

#include <stdio.h>
#include <ctype.h>
#include <string.h>

static const char *const per_rcpt[] = {
    "recipient", "original_recipient", "user", "extension", "mailbox", "domain", NULL};
static const char *const per_msg[] = {
    "sender",      "nexthop",         "size",     "client_address", "client_hostname",
    "client_helo", "client_protocol", "queue_id", "sasl_method",    "sasl_username",
    "sasl_sender", "client_port",     NULL};

static int in_list(const char *const *list, const char *name)
{
    for (size_t i = 0; list[i]; i++)
        if (strcmp(list[i], name) == 0)
            return 1;
    return 0;
}

static void lower(struct str *s)
{
    str_lower(s);
}

/* An address with the flags applied: u lowercases the local part, h the domain, q quotes. */
static void fold_address(const struct pipe_attr *a, const char *addr, int quote, struct str *out)
{
    struct str local = STR_INIT, domain = STR_INIT;
    int has_domain = address_split(addr, &local, &domain);
    if (a->flags & PIPE_FLAG_u)
        lower(&local);
    if (a->flags & PIPE_FLAG_h)
        lower(&domain);
    if (quote && (a->flags & PIPE_FLAG_q) &&
        address_local_needs_quote(local.data ? local.data : "", local.len)) {
        str_appendc(out, '"');
        for (const char *c = str_cstr(&local); *c; c++) {
            if (*c == '"' || *c == '\\')
                str_appendc(out, '\\');
            str_appendc(out, *c);
        }
        str_appendc(out, '"');
    } else {
        str_append(out, str_cstr(&local));
    }
    if (has_domain)
        str_appendf(out, "@%s", str_cstr(&domain));
    str_release(&local);
    str_release(&domain);
}

static void rcpt_value(const struct pipe_expand_ctx *c, size_t i, const char *name, struct str *out)
{
    const struct deliver_rcpt *r = &c->rq->rcpts[i];
    const struct pipe_attr *a = c->attr;
    struct str local = STR_INIT, domain = STR_INIT, user = STR_INIT, ext = STR_INIT;
    if (strcmp(name, "recipient") == 0) {
        fold_address(a, r->address, 1, out);
    } else if (strcmp(name, "original_recipient") == 0) {
        fold_address(a, *r->orig ? r->orig : r->address, 1, out);
    } else {
        address_split(r->address, &local, &domain);
        if (a->flags & PIPE_FLAG_u)
            lower(&local);
        if (a->flags & PIPE_FLAG_h)
            lower(&domain);
        struct addr_ext_opts eo = {.delimiters = c->delimiters};
        address_split_ext(str_cstr(&local), &eo, &user, &ext, NULL);
        if (strcmp(name, "user") == 0)
            str_append(out, str_cstr(&user));
        else if (strcmp(name, "extension") == 0)
            str_append(out, str_cstr(&ext));
        else if (strcmp(name, "mailbox") == 0)
            str_append(out, str_cstr(&local));
        else
            str_append(out, str_cstr(&domain));
    }
    str_release(&local);
    str_release(&domain);
    str_release(&user);
    str_release(&ext);
}

static void msg_value(const struct pipe_expand_ctx *c, const char *name, struct str *out)
{
    const struct deliver_request *rq = c->rq;
    if (strcmp(name, "sender") == 0) {
        if (*rq->sender)
            fold_address(c->attr, rq->sender, 1, out);
        else
            str_append(out, c->attr->null_sender);
    } else if (strcmp(name, "nexthop") == 0) {
        struct str h = STR_INIT;
        str_set(&h, rq->nexthop);
        if (c->attr->flags & PIPE_FLAG_h)
            lower(&h);
        str_append(out, str_cstr(&h));
        str_release(&h);
    } else if (strcmp(name, "size") == 0) {
        str_appendf(out, "%ld", c->size);
    } else {
        const char *v = strcmp(name, "client_address") == 0    ? rq->client_address
                        : strcmp(name, "client_hostname") == 0 ? rq->client_name
                        : strcmp(name, "client_helo") == 0     ? rq->client_helo
                        : strcmp(name, "client_protocol") == 0 ? rq->client_protocol
                        : strcmp(name, "queue_id") == 0        ? rq->queue_id
                        : strcmp(name, "sasl_method") == 0     ? rq->sasl_method
                        : strcmp(name, "sasl_username") == 0   ? rq->sasl_username
                                                               : "";
        str_append(out, v);
    }
}

/* Finds the macro starting at s ('$'); sets name and returns its length in s, 0 for "$$", -1
 * when malformed. */
static long macro_at(const char *s, struct str *name)
{
    str_clear(name);
    if (s[1] == '$')
        return 0;
    if (s[1] == '{' || s[1] == '(') {
        const char *end = strchr(s + 2, s[1] == '{' ? '}' : ')');
        if (end == NULL || end == s + 2)
            return -1;
        str_appendn(name, s + 2, (size_t)(end - s - 2));
        return end - s + 1;
    }
    size_t n = 0;
    while (isalnum((unsigned char)s[1 + n]) || s[1 + n] == '_')
        n++;
    if (n == 0)
        return -1;
    str_appendn(name, s + 1, n);
    return (long)n + 1;
}

/* Expands one argument for recipient i (or none: i == (size_t)-1). *uses_rcpt is set when a
 * per-recipient macro appears. */
static int expand_arg(const struct pipe_expand_ctx *c, const char *arg, size_t i, int *uses_rcpt,
                      struct str *out, struct str *err)
{
    struct str name = STR_INIT;
    int rc = 0;
    for (const char *s = arg; *s && rc == 0; s++) {
        if (*s != '$') {
            str_appendc(out, *s);
            continue;
        }
        long n = macro_at(s, &name);
        if (n == 0) {
            str_appendc(out, '$');
            s++;
        } else if (n < 0) {
            str_setf(err, "bad macro syntax in command argument: %s", arg);
            rc = -1;
        } else if (in_list(per_rcpt, name.data)) {
            *uses_rcpt = 1;
            if (i != (size_t)-1)
                rcpt_value(c, i, name.data, out);
            s += n - 1;
        } else if (in_list(per_msg, name.data)) {
            msg_value(c, name.data, out);
            s += n - 1;
        } else {
            str_setf(err, "unknown macro name: \"%s\"", name.data);
            rc = -1;
        }
    }
    str_release(&name);
    return rc;
}

struct argv *pipe_expand(const struct pipe_expand_ctx *c, struct str *err)
{
    struct argv *out = argv_new();
    struct str arg = STR_INIT;
    for (size_t k = 0; k < c->attr->argv->n; k++) {
        const char *a = c->attr->argv->v[k];
        int uses = 0;
        str_clear(&arg);
        if (expand_arg(c, a, (size_t)-1, &uses, &arg, err) < 0)
            goto fail;
        size_t count = uses ? c->rq->nrcpt : 1;
        if (out->n + count > PIPE_MAX_ARGS) {
            str_set(err, "too many command arguments");
            goto fail;
        }
        for (size_t i = 0; uses && i < count; i++) {
            str_clear(&arg);
            if (expand_arg(c, a, i, &uses, &arg, err) < 0)
                goto fail;
            argv_add(out, str_cstr(&arg));
        }
        if (!uses)
            argv_add(out, str_cstr(&arg));
    }
    str_release(&arg);
    return out;
fail:
    str_release(&arg);
    argv_free(out);
    return NULL;
}
