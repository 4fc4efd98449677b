/* mime_parse: Content-Type and Content-Transfer-Encoding values, tokenised with RFC 822 rules
 * (white space and folding, nested comments, quoted strings with quoted pairs) and the RFC 2045
 * tspecials. Malformed input never fails: an unterminated comment or quoted string ends at the
 * end of the value, and a parameter that is not "attribute = value" is skipped. */
#include "mail/mime_parse.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#define TSPECIALS "()<>@,;:\\\"/[]?="

enum { TOK_END = 0, TOK_ATOM = 256, TOK_QUOTED = 257 }; /* else: the tspecial itself */

struct cursor {
    const char *p, *end;
};

static void skip_comment(struct cursor *c)
{
    int depth = 0;
    while (c->p < c->end) {
        char ch = *c->p++;
        if (ch == '\\' && c->p < c->end)
            c->p++;
        else if (ch == '(')
            depth++;
        else if (ch == ')' && --depth == 0)
            return;
    }
}

/* Skips white space, line breaks of folded values, and comments. */
static void skip_space(struct cursor *c)
{
    while (c->p < c->end) {
        if (*c->p == '(')
            skip_comment(c);
        else if (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r')
            c->p++;
        else
            return;
    }
}

/* A quoted string after its opening quote: quoted pairs unquoted, line breaks unfolded. */
static void read_quoted(struct cursor *c, struct str *out)
{
    while (c->p < c->end) {
        char ch = *c->p++;
        if (ch == '"')
            return;
        if (ch == '\\' && c->p < c->end)
            ch = *c->p++;
        else if (ch == '\n' || ch == '\r')
            continue;
        str_appendc(out, ch);
    }
}

static int atom_char(unsigned char ch)
{
    return ch > ' ' && ch != 0x7f && strchr(TSPECIALS, ch) == NULL;
}

/* The next token: TOK_ATOM or TOK_QUOTED (text in out), a tspecial, or TOK_END. */
static int next_token(struct cursor *c, struct str *out)
{
    str_clear(out);
    skip_space(c);
    if (c->p >= c->end)
        return TOK_END;
    unsigned char ch = (unsigned char)*c->p;
    if (ch == '"') {
        c->p++;
        read_quoted(c, out);
        return TOK_QUOTED;
    }
    if (!atom_char(ch)) {
        c->p++;
        return ch;
    }
    const char *start = c->p;
    while (c->p < c->end && atom_char((unsigned char)*c->p))
        c->p++;
    str_appendn(out, start, (size_t)(c->p - start));
    return TOK_ATOM;
}

/* Skips to just after the next ';' (or the end). */
static void skip_parameter(struct cursor *c, struct str *tmp)
{
    int t;
    while ((t = next_token(c, tmp)) != TOK_END && t != ';')
        ;
}

/* A boundary value: a quoted string, or else (leniently, as mail readers do with the common
 * unquoted "----=_Part..." values) everything up to white space, ';', '(' or '"'. */
static int boundary_value(struct cursor *c, struct str *out)
{
    skip_space(c);
    if (c->p < c->end && *c->p == '"')
        return next_token(c, out);
    str_clear(out);
    const char *start = c->p;
    while (c->p < c->end && strchr(" \t\r\n;(\"", *c->p) == NULL)
        c->p++;
    str_appendn(out, start, (size_t)(c->p - start));
    return out->len ? TOK_ATOM : next_token(c, out);
}

/* One "attribute = value" parameter; returns 0 at the end of the value. */
static int parameter(struct cursor *c, struct argv *boundaries, struct str *tmp)
{
    int t = next_token(c, tmp);
    if (t == TOK_END)
        return 0;
    if (t == ';')
        return 1;
    int is_boundary = t == TOK_ATOM && strcasecmp(tmp->data, "boundary") == 0;
    if ((t = next_token(c, tmp)) != '=') {
        if (t != ';' && t != TOK_END)
            skip_parameter(c, tmp);
        return t != TOK_END;
    }
    t = is_boundary ? boundary_value(c, tmp) : next_token(c, tmp);
    if (is_boundary && (t == TOK_ATOM || t == TOK_QUOTED) && tmp->len > 0)
        argv_addn(boundaries, tmp->data, tmp->len);
    if (t != ';' && t != TOK_END)
        skip_parameter(c, tmp);
    return t != TOK_END;
}

int mime_parse_content_type(const char *value, size_t len, struct str *type, struct str *subtype,
                            struct argv *boundaries)
{
    struct cursor c = {value, value + len};
    struct str tok = STR_INIT;
    int rc = 0;
    if (next_token(&c, &tok) != TOK_ATOM)
        goto done;
    rc = 1;
    str_set(type, tok.data);
    str_lower(type);
    str_set(subtype, "");
    int t = next_token(&c, &tok);
    if (t == '/' && (t = next_token(&c, &tok)) == TOK_ATOM) {
        str_set(subtype, tok.data);
        str_lower(subtype);
        t = next_token(&c, &tok);
    }
    if (t != ';' && t != TOK_END)
        skip_parameter(&c, &tok);
    if (t != TOK_END)
        while (parameter(&c, boundaries, &tok))
            ;
done:
    str_release(&tok);
    return rc;
}

int mime_parse_encoding(const char *value, size_t len, struct str *out)
{
    struct cursor c = {value, value + len};
    struct str tok = STR_INIT;
    int rc = next_token(&c, &tok) == TOK_ATOM;
    if (rc) {
        str_set(out, tok.data);
        str_lower(out);
    }
    str_release(&tok);
    return rc;
}
