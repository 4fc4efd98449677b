/* tls_info: what a finished handshake tells: protocol, cipher and bits, the key exchange and
 * signature details newer Postfix logs, the peer certificate's names, trust and fingerprints;
 * and the log lines built from them (summary, verification errors, debug callbacks). */
#include "mail/tls_int.h"

#include "base/log.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>
#include <string.h>

/* ---- certificate names ------------------------------------------------------------------- */

/* The text of the first entry of nid in name, control characters replaced; 0 if none. */
static int name_entry(X509_NAME *name, int nid, struct str *out)
{
    int pos = X509_NAME_get_index_by_NID(name, nid, -1);
    if (pos < 0)
        return 0;
    ASN1_STRING *data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, pos));
    unsigned char *utf8 = NULL;
    int len = ASN1_STRING_to_UTF8(&utf8, data);
    if (len < 0)
        return 0;
    str_clear(out);
    for (int i = 0; i < len && i < 256; i++)
        str_appendc(out, utf8[i] < 0x20 || utf8[i] == 0x7f ? '?' : utf8[i]);
    OPENSSL_free(utf8);
    return 1;
}

static void digest_fingerprints(struct tls_session *s, X509 *cert, const char *digest)
{
    const EVP_MD *md = EVP_get_digestbyname(digest && *digest ? digest : "sha256");
    unsigned char buf[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    if (md == NULL)
        return;
    if (X509_digest(cert, md, buf, &len))
        tls_colon_hex(&s->fpt, buf, len);
    unsigned char *der = NULL;
    int dlen = i2d_PUBKEY(X509_get0_pubkey(cert), &der);
    if (dlen > 0 && EVP_Digest(der, (size_t)dlen, buf, &len, md, NULL))
        tls_colon_hex(&s->pkey_fpt, buf, len);
    OPENSSL_free(der);
}

static void collect_peer(struct tls_session *s, const char *digest)
{
    X509 *cert = SSL_get0_peer_certificate(s->ssl);
    if (cert == NULL)
        return;
    s->info.peer_cert = 1;
    s->info.peer_trusted = SSL_get_verify_result(s->ssl) == X509_V_OK;
    name_entry(X509_get_subject_name(cert), NID_commonName, &s->peer_CN);
    if (!name_entry(X509_get_issuer_name(cert), NID_commonName, &s->issuer_CN))
        name_entry(X509_get_issuer_name(cert), NID_organizationName, &s->issuer_CN);
    digest_fingerprints(s, cert, digest);
}

/* ---- key exchange and signatures --------------------------------------------------------- */

/* " (P-256)" or " (2048 bits)" for a key. */
static void key_detail(EVP_PKEY *key, struct str *out)
{
    char group[80];
    size_t glen = 0;
    if (EVP_PKEY_get_base_id(key) == EVP_PKEY_EC &&
        EVP_PKEY_get_group_name(key, group, sizeof(group), &glen)) {
        int nid = OBJ_sn2nid(group);
        const char *nist = nid != NID_undef ? EC_curve_nid2nist(nid) : NULL;
        str_appendf(out, " (%s)", nist ? nist : group);
    } else if (EVP_PKEY_get_bits(key) > 0) {
        str_appendf(out, " (%d bits)", EVP_PKEY_get_bits(key));
    }
}

static void key_exchange(struct tls_session *s, struct str *out)
{
    EVP_PKEY *key = NULL;
    if (!SSL_get_peer_tmp_key(s->ssl, &key) && !SSL_get_tmp_key(s->ssl, &key))
        return;
    switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_DH:
        str_append(out, "key-exchange DHE");
        key_detail(key, out);
        break;
    case EVP_PKEY_EC:
        str_append(out, "key-exchange ECDHE");
        key_detail(key, out);
        break;
    case EVP_PKEY_X25519:
        str_append(out, "key-exchange X25519");
        break;
    case EVP_PKEY_X448:
        str_append(out, "key-exchange X448");
        break;
    default:
        break;
    }
    EVP_PKEY_free(key);
}

static const char *sig_name(int nid)
{
    switch (nid) {
    case EVP_PKEY_RSA:
        return "RSA";
    case EVP_PKEY_RSA_PSS:
        return "RSA-PSS";
    case EVP_PKEY_EC:
        return "ECDSA";
    case EVP_PKEY_ED25519:
        return "ED25519";
    case EVP_PKEY_ED448:
        return "ED448";
    default:
        return OBJ_nid2sn(nid);
    }
}

/* " <who>-signature NAME (detail) <who>-digest SHA256" for one side. */
static void signature(X509 *cert, int have_type, int type_nid, int have_md, int md_nid,
                      const char *who, struct str *out)
{
    if (cert == NULL || !have_type)
        return;
    if (out->len)
        str_appendc(out, ' ');
    str_appendf(out, "%s-signature %s", who, sig_name(type_nid));
    EVP_PKEY *key = X509_get0_pubkey(cert);
    if (key && type_nid != EVP_PKEY_ED25519 && type_nid != EVP_PKEY_ED448)
        key_detail(key, out);
    if (have_md && md_nid != NID_undef)
        str_appendf(out, " %s-digest %s", who, OBJ_nid2sn(md_nid));
}

static void signatures(struct tls_session *s, struct str *out)
{
    int lt = 0, lm = NID_undef, pt = 0, pm = NID_undef;
    int have_lt = SSL_get_signature_type_nid(s->ssl, &lt);
    int have_lm = SSL_get_signature_nid(s->ssl, &lm);
    int have_pt = SSL_get_peer_signature_type_nid(s->ssl, &pt);
    int have_pm = SSL_get_peer_signature_nid(s->ssl, &pm);
    X509 *local = SSL_get_certificate(s->ssl);
    X509 *peer = SSL_get0_peer_certificate(s->ssl);
    if (SSL_session_reused(s->ssl))
        return;
    if (s->server) {
        signature(local, have_lt, lt, have_lm, lm, "server", out);
        signature(peer, have_pt, pt, have_pm, pm, "client", out);
    } else {
        signature(peer, have_pt, pt, have_pm, pm, "server", out);
        signature(local, have_lt, lt, have_lm, lm, "client", out);
    }
}

void tls_session_collect(struct tls_session *s, const char *digest)
{
    const SSL_CIPHER *c = SSL_get_current_cipher(s->ssl);
    str_set(&s->protocol, SSL_get_version(s->ssl));
    str_set(&s->cipher, c ? SSL_CIPHER_get_name(c) : "unknown");
    s->info.cipher_bits = c ? SSL_CIPHER_get_bits(c, &s->info.cipher_alg_bits) : 0;
    str_clear(&s->kex);
    key_exchange(s, &s->kex);
    signatures(s, &s->kex);
    collect_peer(s, digest);
    s->info.reused = SSL_session_reused(s->ssl);
    s->info.protocol = str_cstr(&s->protocol);
    s->info.cipher = str_cstr(&s->cipher);
    s->info.kex_details = str_cstr(&s->kex);
    s->info.peer_CN = str_cstr(&s->peer_CN);
    s->info.issuer_CN = str_cstr(&s->issuer_CN);
    s->info.peer_fingerprint = str_cstr(&s->fpt);
    s->info.peer_pkey_fingerprint = str_cstr(&s->pkey_fpt);
    ERR_clear_error();
}

/* ---- log lines --------------------------------------------------------------------------- */

void tls_log_summary(const struct tls_session *s, const char *label)
{
    const struct tls_info *i = &s->info;
    msg_info("%s TLS connection established %s %s: %s with cipher %s (%d/%d bits)%s%s", label,
             s->server ? "from" : "to", s->namaddr, i->protocol, i->cipher, i->cipher_bits,
             i->cipher_alg_bits, *i->kex_details ? " " : "", i->kex_details);
}

void tls_log_peer_cert(const struct tls_session *s)
{
    const struct tls_info *i = &s->info;
    if (!i->peer_cert)
        return;
    msg_info("%s: %s: subject_CN=%s, issuer=%s, fingerprint=%s, pkey_fingerprint=%s", s->namaddr,
             i->peer_trusted ? "Trusted" : "Untrusted", i->peer_CN, i->issuer_CN,
             i->peer_fingerprint, i->peer_pkey_fingerprint);
}

void tls_log_verify_error(const struct tls_session *s)
{
    const char *role = s->server ? "client" : "server";
    int err = s->verify_error;
    if (err == X509_V_OK)
        return;
    const char *why = NULL;
    switch (err) {
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
        why = "self-signed certificate";
        break;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
        msg_info("%s certificate verification failed for %s: untrusted issuer %s", role, s->namaddr,
                 str_cstr(&s->verify_issuer));
        return;
    case X509_V_ERR_CERT_NOT_YET_VALID:
        why = "certificate not yet valid";
        break;
    case X509_V_ERR_CERT_HAS_EXPIRED:
        why = "certificate has expired";
        break;
    default:
        msg_info("%s certificate verification failed for %s: num=%d:%s", role, s->namaddr, err,
                 X509_verify_cert_error_string(err));
        return;
    }
    msg_info("%s certificate verification failed for %s: %s", role, s->namaddr, why);
}

int tls_verify_callback(int ok, X509_STORE_CTX *store)
{
    SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
    struct tls_session *s = ssl ? SSL_get_ex_data(ssl, tls_session_index()) : NULL;
    if (!ok && s && s->verify_error == X509_V_OK) {
        s->verify_error = X509_STORE_CTX_get_error(store);
        s->verify_depth = X509_STORE_CTX_get_error_depth(store);
        X509 *cert = X509_STORE_CTX_get_current_cert(store);
        str_clear(&s->verify_issuer);
        if (cert) {
            char *line = X509_NAME_oneline(X509_get_issuer_name(cert), NULL, 0);
            for (char *p = line; p && *p && s->verify_issuer.len < 512; p++)
                str_appendc(&s->verify_issuer, (unsigned char)*p < 0x20 ? '?' : *p);
            OPENSSL_free(line);
        }
    }
    return 1; /* the level decides later what an untrusted peer means */
}

/* ---- debug logging ----------------------------------------------------------------------- */

static void info_callback(const SSL *ssl, int where, int ret)
{
    struct tls_session *s = SSL_get_ex_data(ssl, tls_session_index());
    const char *op = SSL_is_server((SSL *)ssl) ? "SSL_accept" : "SSL_connect";
    if (s == NULL)
        return;
    if (where & SSL_CB_LOOP)
        msg_info("%s: %s:%s", s->namaddr, op, SSL_state_string_long(ssl));
    else if (where & SSL_CB_ALERT)
        msg_info("%s: SSL3 alert %s:%s:%s", s->namaddr, (where & SSL_CB_READ) ? "read" : "write",
                 SSL_alert_type_string_long(ret), SSL_alert_desc_string_long(ret));
    else if ((where & SSL_CB_EXIT) && ret == 0)
        msg_info("%s: %s:failed in %s", s->namaddr, op, SSL_state_string_long(ssl));
}

static void msg_callback(int write_p, int version, int content_type, const void *buf, size_t len,
                         SSL *ssl, void *arg)
{
    (void)version, (void)buf, (void)arg;
    struct tls_session *s = SSL_get_ex_data(ssl, tls_session_index());
    if (s)
        msg_info("%s: %s TLS record type %d, %zu bytes", s->namaddr, write_p ? "write" : "read",
                 content_type, len);
}

void tls_set_debug_callbacks(SSL *ssl, int loglevel)
{
    if (loglevel >= 3)
        SSL_set_info_callback(ssl, info_callback);
    if (loglevel >= 4)
        SSL_set_msg_callback(ssl, msg_callback);
}
