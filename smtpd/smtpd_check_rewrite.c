/* smtpd_check_rewrite: local_header_rewrite_clients — decides at MAIL whether cleanup rewrites
 * and completes the message headers of this client in the "local" context (add missing
 * Message-Id/Date/From, qualify bare addresses with $myorigin) or the "remote" one. The list
 * takes permit_inet_interfaces, permit_mynetworks, permit_sasl_authenticated,
 * permit_tls_clientcerts, permit_tls_all_clientcerts and check_address_map type:table (a bare
 * type:table means the same), as Postfix's smtpd does; a table lookup error is a 451. */
#include "smtpd_check_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/textsplit.h"
#include "mail/config.h"
#include "table/table.h"

enum sc_rwr_kind { RWR_INTERFACES, RWR_MYNETWORKS, RWR_SASL, RWR_TLS, RWR_TLS_ALL, RWR_MAP };

struct sc_rewrite_item {
    enum sc_rwr_kind kind;
    struct maps *maps; /* RWR_MAP */
};

static const struct {
    const char *name;
    enum sc_rwr_kind kind;
} rwr_names[] = {
    {"permit_inet_interfaces", RWR_INTERFACES},  {"permit_mynetworks", RWR_MYNETWORKS},
    {"permit_sasl_authenticated", RWR_SASL},     {"permit_tls_clientcerts", RWR_TLS},
    {"permit_tls_all_clientcerts", RWR_TLS_ALL},
};

static void rwr_add(struct smtpd_checker *c, enum sc_rwr_kind kind, struct maps *maps)
{
    c->rewrite = xrealloc(c->rewrite, (c->nrewrite + 1) * sizeof *c->rewrite);
    c->rewrite[c->nrewrite].kind = kind;
    c->rewrite[c->nrewrite].maps = maps;
    c->nrewrite++;
}

void sc_rewrite_compile(struct smtpd_checker *c)
{
    const char *param = "local_header_rewrite_clients";
    struct argv *w = argv_new();
    struct str err = STR_INIT;
    if (split_words(config_get(param), ", \t\r\n", SPLIT_STRIP_BRACES, w, &err) < 0)
        msg_warn("%s: %s", param, err.data);
    for (size_t i = 0; i < w->n; i++) {
        const char *word = w->v[i];
        if (strcasecmp(word, "check_address_map") == 0) {
            if (i + 1 == w->n) {
                msg_warn("parameter %s: check_address_map requires a table", param);
                break;
            }
            word = w->v[++i];
        }
        if (strchr(word, ':')) {
            rwr_add(c, RWR_MAP, sc_maps_open(param, word));
            continue;
        }
        size_t k = 0;
        while (k < sizeof rwr_names / sizeof rwr_names[0] && strcasecmp(rwr_names[k].name, word))
            k++;
        if (k < sizeof rwr_names / sizeof rwr_names[0])
            rwr_add(c, rwr_names[k].kind, NULL);
        else
            msg_warn("parameter %s: invalid request: %s", param, word);
    }
    argv_free(w);
    str_release(&err);
}

void sc_rewrite_free(struct smtpd_checker *c)
{
    for (size_t i = 0; i < c->nrewrite; i++)
        if (c->rewrite[i].maps)
            maps_free(c->rewrite[i].maps);
    free(c->rewrite);
    c->rewrite = NULL;
    c->nrewrite = 0;
}

/* 1: the client matches, 0: it does not, -1: a lookup failed (reply set). */
static int rwr_match(struct smtpd_checker *c, const struct sc_rewrite_item *it,
                     const struct smtpd_check_ctx *ctx, struct str *reply)
{
    const char *addr = ctx->client_addr ? ctx->client_addr : "";
    struct str v = STR_INIT;
    int r = 0, s;
    switch (it->kind) {
    case RWR_INTERFACES:
        for (size_t i = 0; i < c->interfaces->n && !r; i++)
            r = strcasecmp(c->interfaces->v[i], addr) == 0;
        break;
    case RWR_MYNETWORKS:
        s = match_list_match(c->mynetworks, NULL, addr);
        if (s == MATCH_ERROR) {
            msg_warn("%s", match_list_error(c->mynetworks));
            str_set(reply, "451 4.3.5 Server configuration error");
            r = -1;
        } else
            r = s == MATCH_YES;
        break;
    case RWR_SASL:
        r = ctx->sasl_username && *ctx->sasl_username;
        break;
    case RWR_TLS_ALL:
        r = ctx->tls_active && ctx->ccert_fingerprint;
        break;
    case RWR_TLS:
    case RWR_MAP:
        if (it->kind == RWR_TLS && !(ctx->tls_active && ctx->ccert_fingerprint))
            break;
        s = maps_find(it->kind == RWR_TLS ? c->relay_clientcerts : it->maps,
                      it->kind == RWR_TLS ? ctx->ccert_fingerprint : addr, &v);
        if (s == TABLE_ERROR) {
            str_set(reply, "451 4.3.0 Temporary lookup error");
            r = -1;
        } else
            r = s == TABLE_FOUND;
        break;
    }
    str_release(&v);
    return r;
}

int smtpd_check_rewrite(struct smtpd_checker *c, struct smtpd_check_ctx *ctx, struct str *reply)
{
    ctx->rewrite_local = 0;
    for (size_t i = 0; i < c->nrewrite; i++) {
        int r = rwr_match(c, &c->rewrite[i], ctx, reply);
        if (r < 0)
            return SMTPD_CHECK_REJECT;
        if (r > 0) {
            ctx->rewrite_local = 1;
            break;
        }
    }
    return SMTPD_CHECK_OK;
}
