/* address_header: splits an address-list header value into its addresses (with display names
 * and groups), extracts them for sendmail -t, and rewrites them in place for canonical maps. */
#include "mail/address_header.h"

#include "base/mem.h"
#include "mail/address.h"
#include "mail/address_tok.h"

#include <stdlib.h>
#include <string.h>

struct hdr_state {
    const char *s;
    const struct addr_toks *t;
    struct hdr_addr_list *out;
    char *group; /* current group name, owned by the state */
};

static int is_special(const struct addr_tok *t, int ch)
{
    return t->type == ATOK_SPECIAL && t->ch == ch;
}

static int is_blank(const struct addr_tok *t)
{
    return t->type == ATOK_SPACE || t->type == ATOK_COMMENT;
}

/* The raw text of tokens [a, b), trimmed of white space and surrounding comments' spacing. */
static char *raw_text(const struct hdr_state *st, size_t a, size_t b)
{
    while (a < b && st->t->v[a].type == ATOK_SPACE)
        a++;
    while (b > a && st->t->v[b - 1].type == ATOK_SPACE)
        b--;
    if (a >= b)
        return xstrdup("");
    return xstrndup(st->s + st->t->v[a].start, st->t->v[b - 1].end - st->t->v[a].start);
}

/* Best effort for text that is not an addr-spec: the words' values, a space between words. */
static void join_words(const struct hdr_state *st, size_t a, size_t b, struct str *out)
{
    int prev_word = 0;
    str_clear(out);
    for (size_t i = a; i < b; i++) {
        const struct addr_tok *k = &st->t->v[i];
        if (is_blank(k))
            continue;
        int word = k->type == ATOK_ATOM || k->type == ATOK_QSTRING;
        if (word && prev_word)
            str_appendc(out, ' ');
        addr_tok_value(st->s, k, out);
        prev_word = word;
    }
}

static void add_address(struct hdr_state *st, size_t a, size_t b, char *display, int angle)
{
    struct hdr_addr_list *l = st->out;
    struct str addr = STR_INIT, err = STR_INIT;
    int malformed = 0;
    /* the span: first to last significant token */
    while (a < b && is_blank(&st->t->v[a]))
        a++;
    while (b > a && is_blank(&st->t->v[b - 1]))
        b--;
    if (a < b && addr_toks_to_internal(st->s, st->t->v, a, b, &addr, &err) != 0) {
        join_words(st, a, b, &addr);
        malformed = 1;
    }
    if (st->t->malformed && b == st->t->n && a < b)
        malformed = 1; /* its last token was closed at the end of the value */
    l->v = xgrow(l->v, &l->cap, l->n + 1, sizeof(*l->v));
    struct hdr_addr *h = &l->v[l->n++];
    h->addr = str_steal(&addr);
    if (h->addr == NULL)
        h->addr = xstrdup("");
    h->display = display ? display : xstrdup("");
    h->group = st->group ? xstrdup(st->group) : NULL;
    if (a < st->t->n)
        h->start = st->t->v[a].start; /* for "<>": just after the '<' */
    else
        h->start = a > 0 ? st->t->v[a - 1].end : 0;
    h->end = a < b ? st->t->v[b - 1].end : h->start;
    h->angle = angle;
    h->malformed = malformed;
    str_release(&err);
}

/* Skips an obsolete route "@a,@b:" inside angle brackets. */
static size_t skip_route(const struct hdr_state *st, size_t a, size_t b)
{
    size_t i = a;
    while (i < b && is_blank(&st->t->v[i]))
        i++;
    if (i >= b || !is_special(&st->t->v[i], '@'))
        return a;
    for (; i < b; i++)
        if (is_special(&st->t->v[i], ':'))
            return i + 1;
    return a;
}

/* One element [a, b): "phrase <addr>", "addr-spec (comment)" or nothing. */
static void element(struct hdr_state *st, size_t a, size_t b)
{
    size_t lt = b, gt = b, i;
    for (i = a; i < b && lt == b; i++)
        if (is_special(&st->t->v[i], '<'))
            lt = i;
    if (lt == b) {
        for (i = a; i < b && is_blank(&st->t->v[i]); i++)
            ;
        if (i < b)
            add_address(st, a, b, NULL, 0);
        return;
    }
    for (i = lt + 1; i < b && gt == b; i++)
        if (is_special(&st->t->v[i], '>'))
            gt = i;
    if (gt == b)
        st->out->malformed = 1;
    add_address(st, skip_route(st, lt + 1, gt), gt, raw_text(st, a, lt), 1);
}

static void walk(struct hdr_state *st)
{
    const struct addr_toks *t = st->t;
    size_t a = 0;
    int angle = 0;
    for (size_t i = 0; i <= t->n; i++) {
        const struct addr_tok *k = i < t->n ? &t->v[i] : NULL;
        if (k && is_special(k, '<'))
            angle = 1;
        else if (k && is_special(k, '>'))
            angle = 0;
        if (k && angle)
            continue;
        if (k && is_special(k, ':') && st->group == NULL) {
            st->group = raw_text(st, a, i);
            a = i + 1;
        } else if (k == NULL || is_special(k, ',') || is_special(k, ';')) {
            element(st, a, i);
            a = i + 1;
            if (k && is_special(k, ';')) {
                free(st->group);
                st->group = NULL;
            }
        }
    }
    if (st->group != NULL) { /* "group: a, b" without ';' */
        free(st->group);
        st->group = NULL;
    }
}

int header_addr_parse(const char *value, size_t len, size_t max_tokens, struct hdr_addr_list *out,
                      struct str *err)
{
    struct addr_toks t = {0};
    t.limit = max_tokens ? max_tokens : HDR_ADDR_TOKEN_LIMIT;
    if (addr_tokenize(value, len, ATOK_HEADER, &t, err) != 0) {
        addr_toks_release(&t);
        return -1;
    }
    if (t.truncated) {
        out->truncated = 1;
        out->malformed = 1;
    }
    if (t.malformed)
        out->malformed = 1;
    struct hdr_state st = {value, &t, out, NULL};
    walk(&st);
    addr_toks_release(&t);
    return 0;
}

void hdr_addr_list_release(struct hdr_addr_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].addr);
        free(l->v[i].display);
        free(l->v[i].group);
    }
    free(l->v);
    memset(l, 0, sizeof(*l));
}

int header_addr_extract(const char *value, size_t len, size_t max_tokens, struct argv *out,
                        struct str *err)
{
    struct hdr_addr_list l = {0};
    if (header_addr_parse(value, len, max_tokens, &l, err) != 0)
        return -1;
    for (size_t i = 0; i < l.n; i++)
        if (*l.v[i].addr)
            argv_add(out, l.v[i].addr);
    hdr_addr_list_release(&l);
    return 0;
}

int header_addr_rewrite(const char *value, size_t len, size_t max_tokens, hdr_addr_rewrite_fn fn,
                        void *ctx, struct str *out, struct str *err)
{
    struct hdr_addr_list l = {0};
    struct str repl = STR_INIT;
    size_t pos = 0;
    int count = 0;
    if (header_addr_parse(value, len, max_tokens, &l, err) != 0)
        return -1;
    str_clear(out);
    for (size_t i = 0; i < l.n; i++) {
        struct hdr_addr *h = &l.v[i];
        str_clear(&repl);
        if (*h->addr == 0 || h->malformed || !fn(h->addr, &repl, ctx))
            continue;
        str_appendn(out, value + pos, h->start - pos);
        address_quote(str_cstr(&repl), out);
        pos = h->end;
        count++;
    }
    str_appendn(out, value + pos, len - pos);
    str_release(&repl);
    hdr_addr_list_release(&l);
    return count;
}
