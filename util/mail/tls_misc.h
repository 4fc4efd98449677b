/* tls_misc: the grammar of the TLS parameters shared by the server and the client: security
 * levels (with the legacy use_tls/enforce_tls mapping), protocol lists in both Postfix forms
 * ("!SSLv2, !SSLv3" and ">=TLSv1.2"), cipher grades mapped to the tls_*_cipherlist values plus
 * exclusions, log levels, fingerprint digests, and what this build supports (postconf). None of
 * this reads main.cf; callers pass the values in (see tls_params.h). */
#ifndef KESTREL_MAIL_TLS_MISC_H
#define KESTREL_MAIL_TLS_MISC_H

#include <stdint.h>

#include "base/str.h"

/* Security levels, weakest first (Postfix names: none may encrypt dane dane-only fingerprint
 * verify secure). */
enum tls_level {
    TLS_LEV_INVALID = -1,
    TLS_LEV_NONE = 0,
    TLS_LEV_MAY,
    TLS_LEV_ENCRYPT,
    TLS_LEV_DANE,
    TLS_LEV_DANE_ONLY,
    TLS_LEV_FINGERPRINT,
    TLS_LEV_VERIFY,
    TLS_LEV_SECURE,
};

/* A level name to its value; TLS_LEV_INVALID when unknown. */
int tls_level_parse(const char *name);
const char *tls_level_name(int level);
/* smtpd: a non-empty smtpd_tls_security_level wins (none, may, encrypt only); otherwise
 * smtpd_enforce_tls gives encrypt, smtpd_use_tls gives may, else none. TLS_LEV_INVALID with
 * err set for a bad name. */
int tls_server_level(const char *security_level, int use_tls, int enforce_tls, struct str *err);
/* smtp: a non-empty smtp_tls_security_level wins; otherwise smtp_enforce_tls gives verify
 * (with smtp_tls_enforce_peername) or encrypt, smtp_use_tls gives may, else none. */
int tls_client_level(const char *security_level, int use_tls, int enforce_tls, int enforce_peername,
                     struct str *err);
/* Levels that need TLS at all, the mandatory protocol/cipher settings, a trusted chain, a
 * matching name. */
#define TLS_REQUIRED(lev) ((lev) >= TLS_LEV_ENCRYPT)
#define TLS_MUST_TRUST(lev) ((lev) >= TLS_LEV_VERIFY)
#define TLS_MUST_MATCH(lev) ((lev) >= TLS_LEV_VERIFY)

/* Protocol bits. */
enum {
    TLS_PROTO_SSLv2 = 1 << 0,
    TLS_PROTO_SSLv3 = 1 << 1,
    TLS_PROTO_TLSv1 = 1 << 2,
    TLS_PROTO_TLSv1_1 = 1 << 3,
    TLS_PROTO_TLSv1_2 = 1 << 4,
    TLS_PROTO_TLSv1_3 = 1 << 5,
    TLS_PROTO_ALL = (1 << 6) - 1,
};
/* Parse a protocol list: names separated by space, comma or colon; "NAME" includes (then only
 * the named ones are enabled), "!NAME" excludes, ">=NAME" and "<=NAME" bound the range. The
 * empty list enables everything. Returns the enabled TLS_PROTO_* mask, or -1 with err set
 * (unknown name, nothing left enabled). */
int tls_protocols_parse(const char *list, struct str *err);
/* The OpenSSL settings for a mask: minimum and maximum protocol version (0: none) and the
 * SSL_OP_NO_* options for versions excluded inside the range. */
void tls_protocols_openssl(int mask, int *min_version, int *max_version, uint64_t *no_options);
/* Name of a protocol bit ("TLSv1.2"), NULL for others. */
const char *tls_protocol_name(int bit);

/* Cipher grades. */
enum tls_grade {
    TLS_GRADE_INVALID = -1,
    TLS_GRADE_EXPORT = 0,
    TLS_GRADE_LOW,
    TLS_GRADE_MEDIUM,
    TLS_GRADE_HIGH,
    TLS_GRADE_NULL,
    TLS_GRADE_COUNT,
};
int tls_grade_parse(const char *name);
const char *tls_grade_name(int grade);
/* The values of tls_export_cipherlist, tls_low_cipherlist, ... indexed by grade. */
struct tls_cipherlists {
    const char *list[TLS_GRADE_COUNT];
};
/* The OpenSSL cipher string for a grade name and exclusions ("aNULL, RC4": each becomes
 * ":!name"). Returns 0, or -1 with err set (bad grade, unary operator in an exclusion, a
 * cipher list OpenSSL rejects or that selects no cipher). */
int tls_cipher_string(const struct tls_cipherlists *lists, const char *grade,
                      const char *exclusions, struct str *out, struct str *err);

/* smtpd_tls_loglevel / smtp_tls_loglevel: 0..4 (larger values mean 4, negative 0). */
int tls_loglevel_clamp(long level);
/* A fingerprint digest name OpenSSL knows (sha256, sha1, md5, ...): 0, or -1 with err set. */
int tls_digest_check(const char *name, struct str *err);
/* Postfix's fingerprint form: upper-case hex bytes separated by colons ("AB:01:..."). */
void tls_colon_hex(struct str *out, const unsigned char *data, unsigned len);

/* What this build supports, NULL-terminated lists (postconf). */
const char *const *tls_available_protocols(void);
const char *const *tls_available_grades(void);
const char *const *tls_available_levels(void);
const char *tls_library_version(void);
/* DANE needs a validating (DNSSEC) resolver, which this build does not have. Returns 0 (not
 * supported) and sets reason to a text for postconf/smtp warnings. */
int tls_dane_supported(struct str *reason);

#endif
