/* address_tok: RFC 5322 lexer (atoms, quoted strings, domain literals, nested comments,
 * specials, white space) and the conversion of addr-spec tokens to the internal form.
 * Linear in the input; comment nesting is counted, not recursed. */
#include "mail/address_tok.h"

#include "base/mem.h"
#include "mail/address.h"

#include <stdlib.h>
#include <string.h>

static const char specials[] = "<>@,;:.])";

static int is_space(int c, int mode)
{
    return c == ' ' || c == '\t' || ((mode & ATOK_HEADER) && (c == '\r' || c == '\n'));
}

static int is_control(int c)
{
    return (c < 0x20 && c != '\t') || c == 0x7f;
}

static void push(struct addr_toks *t, int type, int ch, size_t start, size_t end)
{
    t->v = xgrow(t->v, &t->cap, t->n + 1, sizeof(*t->v));
    t->v[t->n].type = type;
    t->v[t->n].ch = ch;
    t->v[t->n].start = start;
    t->v[t->n].end = end;
    t->n++;
}

/* Scans a delimited construct starting at s[i] == open; returns the end offset (after close),
 * or len when it is not closed (*unclosed set). Comments nest. */
static size_t scan_delimited(const char *s, size_t len, size_t i, char open, char close, int nest,
                             int *unclosed, int *too_deep)
{
    size_t depth = 0;
    for (; i < len; i++) {
        char c = s[i];
        if (c == '\\' && i + 1 < len) {
            i++;
            continue;
        }
        if (c == open && (nest || depth == 0)) {
            if (++depth > ADDR_MAX_COMMENT_DEPTH)
                *too_deep = 1;
        } else if (c == close && depth > 0) {
            if (--depth == 0)
                return i + 1;
        }
    }
    *unclosed = 1;
    return len;
}

static int fail(struct str *err, const char *why)
{
    str_set(err, why);
    return -1;
}

/* The construct at s[i]: quoted string, comment or literal. Returns the new offset or -1. */
static long lex_group(const char *s, size_t len, size_t i, int mode, struct addr_toks *out,
                      struct str *err)
{
    int unclosed = 0, too_deep = 0, type;
    size_t end;
    const char *what;
    if (s[i] == '"') {
        /* quotes: the opening quote must not count as a close */
        end = i + 1;
        while (end < len && s[end] != '"')
            end += (s[end] == '\\' && end + 1 < len) ? 2 : 1;
        if (end >= len) {
            unclosed = 1;
            end = len;
        } else {
            end++;
        }
        type = ATOK_QSTRING;
        what = "unbalanced quote";
    } else if (s[i] == '(') {
        end = scan_delimited(s, len, i, '(', ')', 1, &unclosed, &too_deep);
        type = ATOK_COMMENT;
        what = "unbalanced '('";
    } else {
        end = scan_delimited(s, len, i, '[', ']', 0, &unclosed, &too_deep);
        type = ATOK_LITERAL;
        what = "unbalanced '['";
    }
    if (too_deep) {
        if (!(mode & ATOK_HEADER))
            return fail(err, "comments nested too deeply");
        out->malformed = 1;
    }
    if (unclosed) {
        if (!(mode & ATOK_HEADER))
            return fail(err, what);
        out->malformed = 1;
    }
    push(out, type, 0, i, end);
    return (long)end;
}

/* Envelope mode: no control characters at all, and TAB only as white space between tokens
 * (not quoted, escaped, or inside a comment or literal). */
static int bad_envelope_byte(const char *s, size_t len)
{
    int quote = 0, depth = 0, literal = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (is_control(c))
            return 1;
        if (c == '\\' && i + 1 < len) {
            unsigned char e = (unsigned char)s[++i];
            if (e == '\t' || is_control(e))
                return 1;
        } else if (c == '\t') {
            if (quote || depth || literal)
                return 1;
        } else if (quote) {
            quote = c != '"';
        } else if (depth) {
            depth += c == '(' ? 1 : c == ')' ? -1 : 0;
        } else if (literal) {
            literal = c != ']';
        } else {
            quote = c == '"';
            depth = c == '(';
            literal = c == '[';
        }
    }
    return 0;
}

int addr_tokenize(const char *s, size_t len, int mode, struct addr_toks *out, struct str *err)
{
    size_t i = 0;
    out->n = 0;
    out->malformed = 0;
    if (memchr(s, 0, len) != NULL)
        return fail(err, "NUL byte in address");
    if (!(mode & ATOK_HEADER) && bad_envelope_byte(s, len))
        return fail(err, "control character in address");
    out->truncated = 0;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        if (out->limit && out->n >= out->limit) {
            out->truncated = 1;
            break;
        }
        if (is_space(c, mode)) {
            size_t j = i;
            while (j < len && is_space((unsigned char)s[j], mode))
                j++;
            push(out, ATOK_SPACE, 0, i, j);
            i = j;
        } else if (c == '"' || c == '(' || c == '[') {
            long end = lex_group(s, len, i, mode, out, err);
            if (end < 0)
                return -1;
            i = (size_t)end;
        } else if (strchr(specials, c) != NULL) {
            if ((c == ')' || c == ']') && !(mode & ATOK_HEADER))
                return fail(err, c == ')' ? "unbalanced ')'" : "unbalanced ']'");
            if (c == ')' || c == ']')
                out->malformed = 1;
            push(out, ATOK_SPECIAL, c, i, i + 1);
            i++;
        } else if (is_control(c) && !(mode & ATOK_HEADER)) {
            return fail(err, "control character in address");
        } else {
            size_t j = i;
            while (j < len) {
                unsigned char d = (unsigned char)s[j];
                if (is_space(d, mode) || d == '"' || d == '(' || d == '[' || strchr(specials, d))
                    break;
                if (is_control(d) && !(mode & ATOK_HEADER))
                    return fail(err, "control character in address");
                if (d == '\\') {
                    if (j + 1 >= len) {
                        if (!(mode & ATOK_HEADER))
                            return fail(err, "backslash at end of address");
                        out->malformed = 1;
                    } else if (is_control((unsigned char)s[j + 1]) && !(mode & ATOK_HEADER)) {
                        return fail(err, "control character in address");
                    }
                    j++;
                }
                j++;
            }
            if (j > len)
                j = len;
            push(out, ATOK_ATOM, 0, i, j);
            i = j;
        }
    }
    return 0;
}

void addr_toks_release(struct addr_toks *t)
{
    free(t->v);
    t->v = NULL;
    t->n = t->cap = 0;
}

static void unescape(const char *p, size_t n, struct str *out)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\\' && i + 1 < n)
            i++;
        str_appendc(out, (unsigned char)p[i]);
    }
}

void addr_tok_value(const char *s, const struct addr_tok *t, struct str *out)
{
    const char *p = s + t->start;
    size_t n = t->end - t->start;
    switch (t->type) {
    case ATOK_ATOM:
        unescape(p, n, out);
        break;
    case ATOK_QSTRING:
        if (n >= 2 && p[n - 1] == '"')
            unescape(p + 1, n - 2, out);
        else
            unescape(p + 1, n - 1, out);
        break;
    case ATOK_SPECIAL:
        str_appendc(out, t->ch);
        break;
    default:
        str_appendn(out, p, n);
    }
}

static int is_word(const struct addr_tok *t)
{
    return t->type == ATOK_ATOM || t->type == ATOK_QSTRING;
}

static int is_special(const struct addr_tok *t, int ch)
{
    return t->type == ATOK_SPECIAL && t->ch == ch;
}

/* Collects the indexes of the non-space, non-comment tokens. */
static size_t significant(const struct addr_tok *v, size_t from, size_t to, size_t **idx)
{
    size_t n = 0;
    *idx = xmalloc((to - from + 1) * sizeof(**idx));
    for (size_t i = from; i < to; i++)
        if (v[i].type != ATOK_SPACE && v[i].type != ATOK_COMMENT)
            (*idx)[n++] = i;
    return n;
}

static int local_part(const char *s, const struct addr_tok *v, const size_t *idx, size_t n,
                      struct str *out, struct str *err)
{
    int prev_word = 0, words = 0;
    for (size_t k = 0; k < n; k++) {
        words += is_word(&v[idx[k]]);
        const struct addr_tok *t = &v[idx[k]];
        if (is_word(t)) {
            if (prev_word)
                return fail(err, "bad address syntax");
            prev_word = 1;
        } else if (is_special(t, '.') || is_special(t, '@')) {
            prev_word = 0;
        } else {
            return fail(err, "bad address syntax");
        }
        addr_tok_value(s, t, out);
    }
    if (n > 0 && words == 0)
        return fail(err, "bad address syntax");
    return 0;
}

static int domain_part(const char *s, const struct addr_tok *v, const size_t *idx, size_t n,
                       struct str *out, struct str *err)
{
    if (n == 0)
        return fail(err, "missing domain after '@'");
    if (v[idx[0]].type == ATOK_LITERAL) {
        if (n != 1)
            return fail(err, "bad domain syntax");
        addr_tok_value(s, &v[idx[0]], out);
        return 0;
    }
    for (size_t k = 0; k < n; k++) {
        const struct addr_tok *t = &v[idx[k]];
        if (t->type != ATOK_ATOM && !is_special(t, '.'))
            return fail(err, "bad domain syntax");
        if (t->type == ATOK_ATOM && k > 0 && v[idx[k - 1]].type == ATOK_ATOM)
            return fail(err, "bad domain syntax");
        addr_tok_value(s, t, out);
    }
    return 0;
}

int addr_toks_to_internal(const char *s, const struct addr_tok *v, size_t from, size_t to,
                          struct str *out, struct str *err)
{
    size_t *idx;
    size_t n = significant(v, from, to, &idx);
    size_t at = n;
    int rc = 0;
    for (size_t k = 0; k < n; k++)
        if (is_special(&v[idx[k]], '@'))
            at = k;
    /* a literal or atom after the last '@' is the domain; a '@' inside the local part stays */
    str_clear(out);
    if (at == 0 && n > 0)
        rc = fail(err, "empty local part before '@'");
    else
        rc = local_part(s, v, idx, at, out, err);
    if (rc == 0 && at < n) {
        str_appendc(out, '@');
        rc = domain_part(s, v, idx + at + 1, n - at - 1, out, err);
    }
    free(idx);
    return rc;
}
