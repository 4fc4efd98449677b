/* tls_misc: parsing of the TLS security levels, protocol lists, cipher grades and digests that
 * the server and client contexts share, and the lists of supported values for postconf. */
#include "mail/tls_misc.h"

#include "base/argv.h"
#include "base/mem.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <string.h>
#include <strings.h>

#define TLS_SEPARATORS " \t\r\n,:"

/* ---- security levels --------------------------------------------------------------------- */

static const char *const level_names[] = {"none",        "may",    "encrypt", "dane", "dane-only",
                                          "fingerprint", "verify", "secure",  NULL};

int tls_level_parse(const char *name)
{
    for (int i = 0; level_names[i]; i++)
        if (strcasecmp(name, level_names[i]) == 0)
            return i;
    return TLS_LEV_INVALID;
}

const char *tls_level_name(int level)
{
    if (level < 0 || level > TLS_LEV_SECURE)
        return "invalid";
    return level_names[level];
}

int tls_server_level(const char *security_level, int use_tls, int enforce_tls, struct str *err)
{
    if (security_level && *security_level) {
        int lev = tls_level_parse(security_level);
        if (lev < TLS_LEV_NONE || lev > TLS_LEV_ENCRYPT) {
            str_setf(err, "invalid smtpd_tls_security_level value: \"%s\"", security_level);
            return TLS_LEV_INVALID;
        }
        return lev;
    }
    return enforce_tls ? TLS_LEV_ENCRYPT : use_tls ? TLS_LEV_MAY : TLS_LEV_NONE;
}

int tls_client_level(const char *security_level, int use_tls, int enforce_tls, int enforce_peername,
                     struct str *err)
{
    if (security_level && *security_level) {
        int lev = tls_level_parse(security_level);
        if (lev == TLS_LEV_INVALID) {
            str_setf(err, "invalid smtp_tls_security_level value: \"%s\"", security_level);
            return TLS_LEV_INVALID;
        }
        return lev;
    }
    if (enforce_tls)
        return enforce_peername ? TLS_LEV_VERIFY : TLS_LEV_ENCRYPT;
    return use_tls ? TLS_LEV_MAY : TLS_LEV_NONE;
}

/* ---- protocols --------------------------------------------------------------------------- */

static const struct {
    const char *name;
    int bit;
    int version;
    uint64_t no_option;
} protocols[] = {
    {"SSLv2", TLS_PROTO_SSLv2, 0x0002, 0},
    {"SSLv3", TLS_PROTO_SSLv3, SSL3_VERSION, SSL_OP_NO_SSLv3},
    {"TLSv1", TLS_PROTO_TLSv1, TLS1_VERSION, SSL_OP_NO_TLSv1},
    {"TLSv1.1", TLS_PROTO_TLSv1_1, TLS1_1_VERSION, SSL_OP_NO_TLSv1_1},
    {"TLSv1.2", TLS_PROTO_TLSv1_2, TLS1_2_VERSION, SSL_OP_NO_TLSv1_2},
    {"TLSv1.3", TLS_PROTO_TLSv1_3, TLS1_3_VERSION, SSL_OP_NO_TLSv1_3},
};
#define NPROTOCOLS (sizeof(protocols) / sizeof(protocols[0]))

static int protocol_index(const char *name)
{
    for (size_t i = 0; i < NPROTOCOLS; i++)
        if (strcasecmp(name, protocols[i].name) == 0)
            return (int)i;
    return -1;
}

const char *tls_protocol_name(int bit)
{
    for (size_t i = 0; i < NPROTOCOLS; i++)
        if (protocols[i].bit == bit)
            return protocols[i].name;
    return NULL;
}

/* Applies one list element to the include/exclude sets and the range; -1 for a bad name. */
static int protocol_token(const char *tok, int *include, int *exclude, int *lo, int *hi)
{
    const char *name = tok;
    int kind = 0; /* 0 include, '!' exclude, '>' minimum, '<' maximum */
    if (*tok == '!')
        kind = '!', name = tok + 1;
    else if (strncmp(tok, ">=", 2) == 0)
        kind = '>', name = tok + 2;
    else if (strncmp(tok, "<=", 2) == 0)
        kind = '<', name = tok + 2;
    int i = protocol_index(name);
    if (i < 0)
        return -1;
    if (kind == 0)
        *include |= protocols[i].bit;
    else if (kind == '!')
        *exclude |= protocols[i].bit;
    else if (kind == '>')
        *lo = i;
    else
        *hi = i;
    return 0;
}

int tls_protocols_parse(const char *list, struct str *err)
{
    int include = 0, exclude = 0, lo = 0, hi = (int)NPROTOCOLS - 1;
    struct argv *a = argv_split(list ? list : "", TLS_SEPARATORS);
    for (size_t i = 0; i < a->n; i++) {
        if (protocol_token(a->v[i], &include, &exclude, &lo, &hi) < 0) {
            str_setf(err, "invalid TLS protocol list \"%s\": unknown protocol \"%s\"", list,
                     a->v[i]);
            argv_free(a);
            return -1;
        }
    }
    argv_free(a);
    int mask = (include ? include : TLS_PROTO_ALL) & ~exclude;
    for (int i = 0; i < (int)NPROTOCOLS; i++)
        if (i < lo || i > hi)
            mask &= ~protocols[i].bit;
    if (mask == 0) {
        str_setf(err, "invalid TLS protocol list \"%s\": no protocol left enabled", list);
        return -1;
    }
    return mask;
}

void tls_protocols_openssl(int mask, int *min_version, int *max_version, uint64_t *no_options)
{
    int first = -1, last = -1;
    for (int i = 0; i < (int)NPROTOCOLS; i++)
        if (mask & protocols[i].bit) {
            if (first < 0)
                first = i;
            last = i;
        }
    *no_options = 0;
    if (first < 0) {
        *min_version = *max_version = 0;
        return;
    }
    /* OpenSSL has no SSLv2; a range starting there starts at SSLv3. */
    if (first == 0)
        first = last > 0 ? 1 : 0;
    *min_version = protocols[first].version;
    *max_version = last == (int)NPROTOCOLS - 1 ? 0 : protocols[last].version;
    for (int i = first; i <= last; i++)
        if (!(mask & protocols[i].bit))
            *no_options |= protocols[i].no_option;
}

/* ---- cipher grades ----------------------------------------------------------------------- */

static const char *const grade_names[] = {"export", "low", "medium", "high", "null", NULL};

int tls_grade_parse(const char *name)
{
    for (int i = 0; grade_names[i]; i++)
        if (strcasecmp(name, grade_names[i]) == 0)
            return i;
    return TLS_GRADE_INVALID;
}

const char *tls_grade_name(int grade)
{
    return grade >= 0 && grade < TLS_GRADE_COUNT ? grade_names[grade] : "invalid";
}

/* Checks that OpenSSL accepts the cipher string and that it selects some TLS <= 1.2 cipher. */
static int cipher_string_valid(const char *text)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_method());
    if (ctx == NULL)
        return 0;
    int ok = SSL_CTX_set_cipher_list(ctx, text) == 1;
    ERR_clear_error();
    SSL_CTX_free(ctx);
    return ok;
}

int tls_cipher_string(const struct tls_cipherlists *lists, const char *grade,
                      const char *exclusions, struct str *out, struct str *err)
{
    int g = tls_grade_parse(grade ? grade : "");
    if (g == TLS_GRADE_INVALID) {
        str_setf(err, "invalid cipher grade: \"%s\"", grade ? grade : "");
        return -1;
    }
    str_set(out, lists->list[g] ? lists->list[g] : "");
    struct argv *a = argv_split(exclusions ? exclusions : "", TLS_SEPARATORS);
    for (size_t i = 0; i < a->n; i++) {
        if (strchr("!+-@", a->v[i][0])) {
            str_setf(err, "invalid unary '!+-@' in cipher exclusion: \"%s\"", a->v[i]);
            argv_free(a);
            return -1;
        }
        str_appendf(out, ":!%s", a->v[i]);
    }
    argv_free(a);
    if (!cipher_string_valid(str_cstr(out))) {
        str_setf(err, "invalid or empty cipher list: \"%s\"", str_cstr(out));
        return -1;
    }
    return 0;
}

/* ---- log level, digests ------------------------------------------------------------------ */

int tls_loglevel_clamp(long level)
{
    return level < 0 ? 0 : level > 4 ? 4 : (int)level;
}

int tls_digest_check(const char *name, struct str *err)
{
    if (name == NULL || *name == 0 || EVP_get_digestbyname(name) == NULL) {
        str_setf(err, "Digest algorithm \"%s\" not found", name ? name : "");
        return -1;
    }
    return 0;
}

void tls_colon_hex(struct str *out, const unsigned char *data, unsigned len)
{
    static const char hex[] = "0123456789ABCDEF";
    for (unsigned i = 0; i < len; i++) {
        if (i)
            str_appendc(out, ':');
        str_appendc(out, hex[data[i] >> 4]);
        str_appendc(out, hex[data[i] & 15]);
    }
}

/* ---- what is supported ------------------------------------------------------------------- */

const char *const *tls_available_protocols(void)
{
    static const char *const list[] = {
#ifndef OPENSSL_NO_SSL3
        "SSLv3",
#endif
        "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3", NULL};
    return list;
}

const char *const *tls_available_grades(void)
{
    return grade_names;
}

const char *const *tls_available_levels(void)
{
    static const char *const list[] = {"none",   "may",    "encrypt", "fingerprint",
                                       "verify", "secure", NULL};
    return list;
}

const char *tls_library_version(void)
{
    return OpenSSL_version(OPENSSL_VERSION);
}

int tls_dane_supported(struct str *reason)
{
    str_set(reason, "DANE TLS authentication is not supported: no DNSSEC-validating resolver");
    return 0;
}
