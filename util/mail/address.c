/* address: parsing of SMTP envelope paths (strict and lenient), external/internal form
 * conversion, and small address utilities (split, domain case, literals, UTF-8 checks). */
#include "mail/address.h"

#include "base/mem.h"
#include "mail/address_tok.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void addr_parsed_init(struct addr_parsed *p)
{
    memset(p, 0, sizeof(*p));
}

void addr_parsed_release(struct addr_parsed *p)
{
    str_release(&p->addr);
}

static int fail(struct str *err, const char *why)
{
    str_set(err, why);
    return -1;
}

static int is_special(const struct addr_tok *t, int ch)
{
    return t->type == ATOK_SPECIAL && t->ch == ch;
}

static int is_blank(const struct addr_tok *t)
{
    return t->type == ATOK_SPACE || t->type == ATOK_COMMENT;
}

/* ---- envelope path ------------------------------------------------------------------- */

/* The token range [*from, *to) inside "<...>". Strict: the brackets must be the whole input,
 * without white space or comments inside. */
static int strict_range(const struct addr_toks *t, size_t *from, size_t *to, struct str *err)
{
    size_t a = 0, b = t->n;
    while (a < b && t->v[a].type == ATOK_SPACE)
        a++;
    while (b > a && t->v[b - 1].type == ATOK_SPACE)
        b--;
    if (b - a < 2 || !is_special(&t->v[a], '<') || !is_special(&t->v[b - 1], '>'))
        return fail(err, "address must be enclosed in <>");
    for (size_t i = a + 1; i + 1 < b; i++) {
        if (t->v[i].type == ATOK_COMMENT)
            return fail(err, "comment in address");
        if (t->v[i].type == ATOK_SPACE)
            return fail(err, "white space in address");
    }
    *from = a + 1;
    *to = b - 1;
    return 0;
}

/* Lenient: "phrase <addr> (comment)" or a bare address. Sets *bracketed. */
static int lenient_range(const struct addr_toks *t, size_t *from, size_t *to, int *bracketed,
                         struct str *err)
{
    size_t lt = t->n, gt = t->n;
    for (size_t i = 0; i < t->n; i++) {
        if (is_special(&t->v[i], '<')) {
            if (lt != t->n)
                return fail(err, gt == t->n ? "unbalanced '<'" : "more than one address");
            lt = i;
        } else if (is_special(&t->v[i], '>')) {
            if (lt == t->n || gt != t->n)
                return fail(err, "unbalanced '>'");
            gt = i;
        }
    }
    *bracketed = lt != t->n;
    if (!*bracketed) {
        *from = 0;
        *to = t->n;
        return 0;
    }
    if (gt == t->n)
        return fail(err, "unbalanced '<'");
    for (size_t i = 0; i < lt; i++) /* the phrase: words, dots, space and comments */
        if (t->v[i].type == ATOK_SPECIAL && !is_special(&t->v[i], '.'))
            return fail(err, "bad address syntax");
    for (size_t i = gt + 1; i < t->n; i++)
        if (!is_blank(&t->v[i]))
            return fail(err, "text after address");
    *from = lt + 1;
    *to = gt;
    return 0;
}

/* Skips a source route "@a,@b:" (each hop '@' and a domain of atoms and dots, or a literal)
 * at the start of the range; returns -1 when malformed. */
static int skip_route(const struct addr_toks *t, size_t *from, size_t to, int *had_route,
                      struct str *err)
{
    enum { AT, DOMAIN, MORE } want = AT;
    size_t i = *from;
    while (i < to && is_blank(&t->v[i]))
        i++;
    if (i >= to || !is_special(&t->v[i], '@'))
        return 0;
    for (; i < to; i++) {
        const struct addr_tok *k = &t->v[i];
        if (is_blank(k))
            continue;
        if (want == AT && is_special(k, '@')) {
            want = DOMAIN;
        } else if (want == DOMAIN && (k->type == ATOK_ATOM || k->type == ATOK_LITERAL)) {
            want = MORE;
        } else if (want == MORE && is_special(k, '.')) {
            want = DOMAIN;
        } else if (want == MORE && is_special(k, ',')) {
            want = AT;
        } else if (want == MORE && is_special(k, ':')) {
            *from = i + 1;
            *had_route = 1;
            return 0;
        } else {
            break;
        }
    }
    return fail(err, "bad source route");
}

static int valid_literal(const char *d, size_t n)
{
    char buf[64];
    unsigned char bin[16];
    if (n < 3 || d[0] != '[' || d[n - 1] != ']' || n - 2 >= sizeof(buf))
        return 0;
    memcpy(buf, d + 1, n - 2);
    buf[n - 2] = 0;
    if (strncasecmp(buf, "IPv6:", 5) == 0)
        return inet_pton(AF_INET6, buf + 5, bin) == 1;
    return inet_pton(AF_INET, buf, bin) == 1;
}

static int strict_domain(const char *d, size_t n)
{
    if (n == 0 || d[0] == '.')
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)d[i];
        if (c == '.' && i + 1 < n && d[i + 1] == '.')
            return 0;
        if (!isalnum(c) && c != '-' && c != '_' && c != '.' && c < 0x80)
            return 0;
    }
    return 1;
}

static int check_result(struct addr_parsed *out, int flags, struct str *err)
{
    const char *a = str_cstr(&out->addr);
    const char *at = strrchr(a, '@');
    if (at != NULL) {
        const char *d = at + 1;
        size_t n = strlen(d);
        out->had_domain = 1;
        if (*d == '[') {
            if (!valid_literal(d, n))
                return fail(err, "bad address literal");
        } else if ((flags & ADDR_PARSE_STRICT) && !strict_domain(d, n)) {
            return fail(err, "bad domain syntax");
        }
    }
    if (a[0] == '-' && !(flags & ADDR_PARSE_ALLOW_MIN_USER))
        return fail(err, "address starts with '-'");
    out->non_ascii = address_is_non_ascii(a, out->addr.len);
    if (out->non_ascii && !address_valid_utf8(a, out->addr.len))
        return fail(err, "malformed UTF-8 in address");
    return 0;
}

int address_parse_path(const char *text, size_t len, int flags, struct addr_parsed *out,
                       struct str *err)
{
    struct addr_toks t = {0};
    size_t from = 0, to = 0;
    int bracketed = 1, rc;
    str_clear(&out->addr);
    out->null_sender = out->non_ascii = out->had_route = out->had_domain = 0;
    rc = addr_tokenize(text, len, 0, &t, err);
    if (rc == 0)
        rc = (flags & ADDR_PARSE_STRICT) ? strict_range(&t, &from, &to, err)
                                         : lenient_range(&t, &from, &to, &bracketed, err);
    if (rc == 0)
        rc = skip_route(&t, &from, to, &out->had_route, err);
    if (rc == 0) {
        size_t i = from;
        while (i < to && is_blank(&t.v[i]))
            i++;
        if (i == to) {
            if (!bracketed)
                rc = fail(err, "empty address");
            else if (out->had_route)
                rc = fail(err, "bad source route");
            else
                out->null_sender = 1;
        } else {
            rc = addr_toks_to_internal(text, t.v, from, to, &out->addr, err);
            out->null_sender = rc == 0 && bracketed && out->addr.len == 0; /* <""> */
            if (rc == 0)
                rc = check_result(out, flags, err);
        }
    }
    addr_toks_release(&t);
    if (rc != 0)
        str_clear(&out->addr);
    return rc;
}

size_t address_path_length(const char *args, size_t len)
{
    int quoted = 0, bracket = len > 0 && args[0] == '<';
    size_t depth = 0;
    for (size_t i = 0; i < len; i++) {
        char c = args[i];
        if (c == '\\' && (quoted || depth)) {
            i++;
        } else if (quoted) {
            quoted = c != '"';
        } else if (c == '"' && depth == 0) {
            quoted = 1;
        } else if (c == '(' && bracket) {
            depth++;
        } else if (c == ')' && depth) {
            depth--;
        } else if (depth) {
            continue;
        } else if (bracket && c == '>') {
            return i + 1;
        } else if (!bracket && (c == ' ' || c == '\t')) {
            return i;
        }
    }
    return len;
}

/* ---- external / internal form ---------------------------------------------------------- */

static int is_atext(unsigned char c)
{
    return isalnum(c) || c >= 0x80 || (c && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

int address_local_needs_quote(const char *local, size_t len)
{
    if (len == 0 || local[0] == '.' || local[len - 1] == '.')
        return 1;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)local[i];
        if (c == '.' ? local[i + 1] == '.' : !is_atext(c))
            return 1;
    }
    return 0;
}

void address_quote(const char *internal, struct str *out)
{
    const char *at = strrchr(internal, '@');
    size_t llen = at ? (size_t)(at - internal) : strlen(internal);
    if (llen == 0 && at == NULL)
        return; /* the null address */
    if (!address_local_needs_quote(internal, llen)) {
        str_appendn(out, internal, llen);
    } else {
        str_appendc(out, '"');
        for (size_t i = 0; i < llen; i++) {
            if (internal[i] == '"' || internal[i] == '\\')
                str_appendc(out, '\\');
            str_appendc(out, (unsigned char)internal[i]);
        }
        str_appendc(out, '"');
    }
    if (at)
        str_append(out, at);
}

int address_unquote(const char *external, size_t len, struct str *out, struct str *err)
{
    struct addr_toks t = {0};
    int rc = addr_tokenize(external, len, 0, &t, err);
    if (rc == 0)
        rc = addr_toks_to_internal(external, t.v, 0, t.n, out, err);
    addr_toks_release(&t);
    return rc;
}

/* ---- utilities -------------------------------------------------------------------------- */

int address_split(const char *addr, struct str *local, struct str *domain)
{
    const char *at = strrchr(addr, '@');
    if (local) {
        str_clear(local);
        str_appendn(local, addr, at ? (size_t)(at - addr) : strlen(addr));
    }
    if (domain) {
        str_clear(domain);
        if (at)
            str_append(domain, at + 1);
    }
    return at != NULL;
}

void address_lower_domain(struct str *addr)
{
    char *at = addr->data ? strrchr(addr->data, '@') : NULL;
    if (at == NULL)
        return;
    for (char *p = at + 1; *p; p++)
        *p = (char)tolower((unsigned char)*p);
}

int address_domain_is_literal(const char *domain)
{
    size_t n = strlen(domain);
    return n >= 2 && domain[0] == '[' && domain[n - 1] == ']';
}

int address_is_non_ascii(const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)text[i] >= 0x80)
            return 1;
    return 0;
}

int address_valid_utf8(const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i], need, cp;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf)
            need = 1, cp = c & 0x1f;
        else if (c >= 0xe0 && c <= 0xef)
            need = 2, cp = c & 0x0f;
        else if (c >= 0xf0 && c <= 0xf4)
            need = 3, cp = c & 0x07;
        else
            return 0;
        if (len - i <= need)
            return 0;
        for (unsigned k = 1; k <= need; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if ((need == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
            (need == 3 && (cp < 0x10000 || cp > 0x10ffff)))
            return 0;
        i += need + 1;
    }
    return 1;
}
